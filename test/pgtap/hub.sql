-- Hub and spoke (issue 16): an implementation plan is based on the
-- departmental social media strategy (appendix), program strategies roll
-- into it (6.1.1), approving either needs its basis approved and in force,
-- and retiring a strategy leaves what rested on it as 6.1.1 findings until
-- each is based anew: smam never re-attaches them. Then the checks that
-- answered for plans that do not exist or are not visible (defect 6), and
-- the grammar of the messages that said "a implementation plan". Acting as
-- the smam_* roles.
BEGIN;
\ir _setup.psql
SELECT plan(60);

-- refusal(who, sql): SQLSTATE | message | detail | hint of what the role meets.
CREATE FUNCTION pg_temp.refusal(who name, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; ms text; dt text; ht text;
BEGIN
  EXECUTE format('SET ROLE %I', who);
  EXECUTE q;
  RESET ROLE;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, ms = MESSAGE_TEXT, dt = PG_EXCEPTION_DETAIL, ht = PG_EXCEPTION_HINT;
  RETURN concat_ws(' | ', st, ms, dt, ht);
END $$;
-- The 6.1.1 findings about strategies and plans, as a role sees them now.
CREATE FUNCTION pg_temp.basis_findings(who name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE format('SET ROLE %I', who);
  SELECT string_agg(f.object_type || ' ' || f.object_id, ', ' ORDER BY f.object_type, f.object_id) INTO r
    FROM smam.compliance_findings f
   WHERE f.requirement = '6.1.1' AND f.object_type IN ('implementation_plan', 'strategy');
  RESET ROLE;
  RETURN coalesce(r, 'none');
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO PUBLIC;
-- A second head of communications of department two, to approve what t_other writes.
SELECT tap.val('t_admin', format($$SELECT smam.appoint('t_head2', 'head_of_communications', %s)$$, :d2)) IS NOT NULL AS head2_in_d2;

-- ---- the basis a plan or a program strategy names ----
SELECT tap.val('t_staff', format($$SELECT smam.draft_strategy(%s, 'Departmental', 'm', 'b', 'a', 'g', 'p', 'l')$$, :d1)) AS s1 \gset
SELECT tap.val('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan one', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d1)) AS p1 \gset
SELECT is(strategy_id, :s1::bigint, 'a plan drafted without naming a strategy is based on the department''s only departmental strategy, even in draft')
  FROM smam.implementation_plan WHERE id = :p1;
SELECT is(tap.act('t_head', format('SELECT smam.approve_strategy(%s)', :s1)), 'ok', 'the head approves the departmental strategy');
SELECT tap.val('t_staff', format($$SELECT smam.draft_strategy(%s, 'Next departmental', 'm', 'b', 'a', 'g', 'p', 'l', in_force_from => smam.today() + 400)$$, :d1)) AS s2 \gset
SELECT tap.val('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan two', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d1)) AS p2 \gset
SELECT is(strategy_id, :s1::bigint, 'with a second one in draft, the default is the departmental strategy in force')
  FROM smam.implementation_plan WHERE id = :p2;
SELECT tap.val('t_staff', format($$SELECT smam.draft_strategy(%s, 'Grants on social media', 'm', 'b', 'a', 'g', 'p', 'l', 'Grants')$$, :d1)) AS g1 \gset
SELECT is(rolls_into, :s1::bigint, 'a program strategy rolls into the departmental strategy in force by default')
  FROM smam.strategy WHERE id = :g1;
SELECT is(rolls_into, NULL, 'a departmental strategy rolls into nothing') FROM smam.strategy WHERE id = :s1;
SELECT tap.val('t_other', format($$SELECT smam.draft_strategy(%s, 'Theirs', 'm', 'b', 'a', 'g', 'p', 'l')$$, :d2)) AS t1 \gset

SELECT is(pg_temp.refusal('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan', strategy => %s)$$, :d1, :t1)),
  format('42704 | strategy %s does not exist or is not visible to you | The objects of a department are visible to the holders of its offices and of government-wide offices. | Check the strategy''s number; you see those of the departments in which you hold an office.', :t1),
  'staff naming another department''s strategy as a plan''s basis are refused as if it did not exist');
SELECT is(pg_temp.refusal('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan', strategy => 99999)$$, :d1)),
  '42704 | strategy 99999 does not exist or is not visible to you | The objects of a department are visible to the holders of its offices and of government-wide offices. | Check the strategy''s number; you see those of the departments in which you hold an office.',
  '... exactly as a strategy that does not exist');
SELECT is(pg_temp.refusal('t_dual', format($$SELECT smam.draft_plan(%s, 'Plan', strategy => %s)$$, :d1, :t1)),
  format('23503 | strategy %s is not a strategy of department %s | An implementation plan is based on a social media strategy of its own department. This enforces requirement 6.1.1 of the Standard on Social Media Account Management. | Name one of the department''s strategies (smam.strategy_hub lists them).', :t1, :d1),
  'a head who also sees department two (an entity office) cannot base a plan of department one on its strategy');
SELECT is(tap.act('t_staff', format($$UPDATE smam.implementation_plan SET strategy_id = %s WHERE id = %s$$, :t1, :p1)), '23503 6.1.1',
  'nor can staff with a plain UPDATE: the trigger checks every write');
SELECT is(tap.act('t_staff', format($$SELECT smam.draft_strategy(%s, 'Departmental too', rolls_into => %s)$$, :d1, :s1)), '22023 6.1.1',
  'a departmental strategy rolls into no other strategy');
SELECT is(tap.act('t_staff', format($$SELECT smam.draft_strategy(%s, 'Sub-program', program => 'Grants, west', rolls_into => %s)$$, :d1, :g1)), '22023 6.1.1',
  'a program strategy rolls into the departmental strategy, not into another program strategy');
SELECT matches(tap.message('t_staff', format($$SELECT smam.draft_strategy(%s, 'Sub-program', program => 'Grants, west', rolls_into => %s)$$, :d1, :g1)),
  '^strategy [0-9]+ is a program strategy; program strategy [0-9]+ cannot roll into it$', '... and says so');
SELECT is(tap.act('t_staff', format($$SELECT smam.revise('strategy', %s, 'program', NULL)$$, :g1)), '22023 6.1.1',
  'a program strategy that rolls into one does not become departmental');
SELECT is(pg_temp.refusal('t_staff', format($$SELECT smam.revise('implementation_plan', %s, 'strategy_id', 'the first one')$$, :p1)),
  format('22P02 | "the first one" is not the number of a strategy | Element strategy_id names a strategy by its number. This enforces requirement 6.1.1 of the Standard on Social Media Account Management. | Give the number of a strategy of department %s (smam.strategy_hub lists them).', :d1),
  'a basis is named by its number');
SELECT is(tap.act('t_nobody', format($$SELECT smam.draft_plan(%s, 'Mine', strategy => %s)$$, :d1, :s1)), '42501 6.1.2',
  'a role without office drafts no plan, whatever it names');

-- ---- approvals need the basis approved and in force ----
SELECT tap.val('t_staff', format($$SELECT smam.plan_pia(%s, 'x')$$, p)) FROM unnest(ARRAY[:p1, :p2]) p;
SELECT tap.val('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan three', 'b', 'r', 'r', 'r', 'm', 'p', 'c', strategy => %s)$$, :d1, :s2)) AS p3 \gset
SELECT tap.val('t_staff', format($$SELECT smam.plan_pia(%s, 'x')$$, :p3)) IS NULL AS pia3;
SELECT is(pg_temp.refusal('t_head', format('SELECT smam.approve_plan(%s)', :p3)),
  format('55000 | strategy %s, on which implementation plan %s is based, is not approved and in force | Strategy %s is draft. An implementation plan is based on the departmental social media strategy. This enforces requirement 6.1.1 of the Standard on Social Media Account Management. | Have the strategy approved first, or name one in force with smam.revise().', :s2, :p3, :s2),
  'a plan based on a strategy in draft is not approved');
SELECT is(tap.act('t_head', format('SELECT smam.approve_strategy(%s)', :s2)), 'ok', 'the next departmental strategy is approved for a later term');
SELECT is(tap.detail('t_head', format('SELECT smam.approve_plan(%s)', :p3)),
  format('Strategy %s is in force from %s. An implementation plan is based on the departmental social media strategy. This enforces requirement 6.1.1 of the Standard on Social Media Account Management.',
         :s2, to_char(smam.today() + 400, 'YYYY-MM-DD')),
  'a plan based on a strategy approved but not yet in force is not approved either, and the detail says from when');
SELECT tap.val('t_other', format($$SELECT smam.draft_plan(%s, 'Plan of two', 'b', 'r', 'r', 'r', 'm', 'p', 'c', strategy => NULL)$$, :d2)) AS q1 \gset
SELECT is(strategy_id, :t1::bigint, 'department two''s plan is based on its only departmental strategy') FROM smam.implementation_plan WHERE id = :q1;
SELECT tap.val('t_admin', format($$SELECT smam.add_department(%L)$$, 'Department Three')) AS d3 \gset
SELECT tap.val('t_admin', format($$SELECT smam.appoint('t_other', 'head_of_communications', %s)$$, :d3)) IS NOT NULL AS other_in_d3;
SELECT tap.val('t_admin', format($$SELECT smam.appoint('t_head2', 'head_of_communications', %s)$$, :d3)) IS NOT NULL AS head2_in_d3;
SELECT tap.val('t_other', format($$SELECT smam.draft_plan(%s, 'Plan without a strategy', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d3)) AS q3 \gset
SELECT tap.val('t_other', format($$SELECT smam.plan_pia(%s, 'x')$$, :q3)) IS NULL AS pia_q3;
SELECT is(pg_temp.refusal('t_head2', format('SELECT smam.approve_plan(%s)', :q3)),
  format('55000 | implementation plan %s names no social media strategy | An implementation plan is based on the departmental social media strategy. This enforces requirement 6.1.1 of the Standard on Social Media Account Management. | Name it with smam.revise(''implementation_plan'', %s, ''strategy_id'', ''<strategy>''), then approve.', :q3, :q3),
  'a plan drafted where the department had no strategy names none, and is not approved');
SELECT is(tap.act('t_head2', format('SELECT smam.approve_plan(%s)', :p1)), 'ok', 'a plan based on the departmental strategy in force is approved');
SELECT is(tap.act('t_head2', format('SELECT smam.approve_plan(%s)', :p2)), 'ok', 'and another');
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s)', :g1)), 'ok',
  'the program strategy is approved while its departmental strategy is in force');
SELECT tap.val('t_staff', format($$SELECT smam.draft_plan(%s, 'Grants on X', 'b', 'r', 'r', 'r', 'm', 'p', 'c', strategy => %s)$$, :d1, :g1)) AS p4 \gset
SELECT tap.val('t_staff', format($$SELECT smam.plan_pia(%s, 'x')$$, :p4)) IS NULL AS pia4;
SELECT is(tap.act('t_head2', format('SELECT smam.approve_plan(%s)', :p4)), 'ok', 'a plan based on the program strategy is approved');
SELECT is(pg_temp.basis_findings('t_head'), 'none', 'no plan or program strategy is without a basis');
SELECT is(tap.val('t_staff', format($$SELECT concat_ws(' ', departmental_strategy_id, stands, plans, approved_plans, plans_without_basis, without_basis)
                                        FROM smam.strategy_hub WHERE strategy_id = %s$$, :g1)),
  format('%s t {%s} {%s} {} f', :s1, :p4, :p4), 'strategy_hub: the program strategy rolls into the departmental one, stands, and carries its plan');

-- ---- retiring the departmental strategy ----
SELECT is(tap.act('t_head2', format($$SELECT smam.decide('strategy', %s, 'retired', 'superseded')$$, :s1)), 'ok',
  'the head retires the departmental strategy');
SELECT is(pg_temp.basis_findings('t_head'),
  format('implementation_plan %s, implementation_plan %s, implementation_plan %s, strategy %s', :p1, :p2, :p4, :g1),
  'the plans based on it, the program strategy rolling into it and the plan based on that are 6.1.1 findings');
SELECT is((SELECT problem FROM smam.compliance_findings WHERE object_type = 'implementation_plan' AND object_id = :p4),
  format('Implementation plan %s is based on program strategy %s, whose departmental strategy %s is not approved and in force on %s.',
         :p4, :g1, :s1, to_char(smam.today(), 'YYYY-MM-DD')),
  'the finding says which link broke');
SELECT is((SELECT problem FROM smam.compliance_findings WHERE object_type = 'strategy' AND object_id = :g1),
  format('Program strategy %s (Grants) rolls into departmental strategy %s, which is not approved and in force on %s.',
         :g1, :s1, to_char(smam.today(), 'YYYY-MM-DD')),
  '... and for the program strategy');
SELECT is(pg_temp.basis_findings('t_other'), 'none', 'another department sees none of them');
SELECT is(pg_temp.basis_findings('t_entity'), pg_temp.basis_findings('t_head'), 'the entity sees them all');
SELECT is((SELECT status FROM smam.compliance_by_department WHERE department_id = :d1 AND requirement = '6.1.1'), 'not met',
  'department one does not meet 6.1.1');
SELECT is(tap.val('t_staff', format($$SELECT concat_ws(' ', stands, plans_without_basis) FROM smam.strategy_hub WHERE strategy_id = %s$$, :s1)),
  format('f {%s,%s}', :p1, :p2), 'strategy_hub: the retired strategy stands no more, its approved plans without a basis');
SELECT is(tap.val('t_staff', format($$SELECT concat_ws(' ', departmental_strategy_id, stands, without_basis, plans_without_basis) FROM smam.strategy_hub WHERE strategy_id = %s$$, :g1)),
  format('%s f t {%s}', :s1, :p4), '... the program strategy without its departmental strategy, and its plan');
SELECT is(tap.val('t_other', format('SELECT count(*) FROM smam.strategy_hub WHERE department_id = %s', :d1)), '0',
  'strategy_hub shows another department nothing of department one');
SELECT is(tap.val('t_entity', format('SELECT count(*) FROM smam.strategy_hub WHERE department_id = %s', :d1)), '3',
  '... and the entity all of its strategies');
SELECT is(tap.act('t_staff', format($$SELECT smam.draft_plan(%s, 'On the old one', strategy => %s)$$, :d1, :s1)), '55000 6.1.1',
  'a retired strategy is the basis of no new plan');

-- A new departmental strategy in force: nothing is re-attached to it.
SELECT tap.val('t_staff', format($$SELECT smam.draft_strategy(%s, 'Departmental, renewed', 'm', 'b', 'a', 'g', 'p', 'l')$$, :d1)) AS s3 \gset
SELECT is(tap.act('t_head', format('SELECT smam.approve_strategy(%s)', :s3)), 'ok', 'a new departmental strategy is approved');
SELECT is(pg_temp.basis_findings('t_head'),
  format('implementation_plan %s, implementation_plan %s, implementation_plan %s, strategy %s', :p1, :p2, :p4, :g1),
  'the plans and the program strategy stay findings: smam does not re-attach them');
SELECT is(rolls_into, :s1::bigint, 'the program strategy still names the retired one') FROM smam.strategy WHERE id = :g1;
SELECT is(tap.act('t_staff', format($$SELECT smam.revise('strategy', %s, 'rolls_into', %L)$$, :g1, :s3)), 'ok',
  'staff name the new departmental strategy for the program strategy');
SELECT is(status::text, 'draft', 'an edit: its approval is voided') FROM smam.strategy WHERE id = :g1;
SELECT is(tap.act('t_head', format('SELECT smam.approve_strategy(%s)', :g1)), 'ok', 'the head approves it again');
SELECT is(tap.act('t_staff', format($$SELECT smam.revise('implementation_plan', %s, 'strategy_id', %L)$$, :p1, :s3)), 'ok',
  'staff base plan one on the new strategy');
SELECT is(tap.act('t_head', format('SELECT smam.approve_plan(%s)', :p1)), 'ok', 'the head approves it again');
SELECT is(pg_temp.basis_findings('t_head'), format('implementation_plan %s', :p2),
  'what was based anew is no finding (plan four stands again with its program strategy); plan two still is');
SELECT is(tap.act('t_head', format($$SELECT smam.decide('strategy', %s, 'retired')$$, :g1)), 'ok',
  'the head retires the program strategy');
SELECT is(pg_temp.basis_findings('t_head'), format('implementation_plan %s, implementation_plan %s', :p2, :p4),
  '... leaves the plan based on it without a basis');

-- ---- checks refuse what does not exist or is not visible (defect 6) ----
SELECT is(pg_temp.refusal('t_staff', 'SELECT smam.plan_missing(99999)'),
  '42704 | implementation plan 99999 does not exist or is not visible to you | The objects of a department are visible to the holders of its offices and of government-wide offices. | Check the implementation plan''s number; you see those of the departments in which you hold an office.',
  'plan_missing refuses a plan that does not exist, instead of calling it complete');
SELECT is(pg_temp.refusal('t_staff', format('SELECT smam.plan_missing(%s)', :q1)),
  format('42704 | implementation plan %s does not exist or is not visible to you | The objects of a department are visible to the holders of its offices and of government-wide offices. | Check the implementation plan''s number; you see those of the departments in which you hold an office.', :q1),
  '... and another department''s plan alike');
SELECT is(tap.val('t_other', format('SELECT smam.plan_missing(%s)', :q1)), '{"privacy impact assessment"}',
  'the department''s own head reads what its plan lacks');
SELECT is(pg_temp.refusal('t_staff', format($$SELECT smam.plan_pia_problem(%s, 'x')$$, :q1)),
  format('42704 | implementation plan %s does not exist or is not visible to you | The objects of a department are visible to the holders of its offices and of government-wide offices. | Check the implementation plan''s number; you see those of the departments in which you hold an office.', :q1),
  'plan_pia_problem does not tell another department that a plan lacks a PIA');
SELECT is(tap.val('t_other', format($$SELECT smam.plan_pia_problem(%s, 'x')$$, :q1)),
  format('Plan %s has no Privacy Impact Assessment for x.', :q1), 'its own head is told');
SELECT is(tap.val('t_staff', format($$SELECT coalesce(smam.plan_pia_problem(%s, 'Twitter'), 'none')$$, :p1)),
  format('Plan %s relies on the entity''s model PIA for x, which is not accepted and current on %s.', :p1, to_char(smam.today(), 'YYYY-MM-DD')),
  'a platform is named by any of its spellings');
SELECT is(tap.act('t_staff', format($$SELECT smam.plan_pia_problem(%s, 'myspace')$$, :p1)), '42704 6.2.3',
  'a platform smam does not know is refused, not reported as a missing PIA');
SELECT is(tap.act('t_entity', 'SELECT smam.plan_missing(99999)'), '42704',
  'the entity is refused a plan that does not exist too');
SELECT is(tap.act('t_entity', format('SELECT smam.plan_missing(%s)', :q1)), 'ok', '... and reads any department''s');

-- ---- grammar ----
SELECT is(tap.message('t_staff', format($$SELECT smam.revise('implementation_plan', %s, 'purpose', 'x')$$, :p1)),
  format('"purpose" is not an element of implementation plan %s', :p1), 'no "a implementation plan"');
SELECT is(tap.message('t_entity', format($$SELECT smam.revise('implementation_plan', %s, 'title', 'x')$$, :p1)),
  format('role "t_entity" may not revise implementation plan %s', :p1), '... in the office check either');
SELECT * FROM finish();
ROLLBACK;

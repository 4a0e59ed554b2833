-- The approval rules (src/approvals.c): who decides, at the moment of the
-- decision; separation of duties; approvals bound to content; one decision;
-- strategies rolling up; platform reviews; specifications; onboarding; and
-- what turning enforcement off does. Acting as the smam_* roles.
BEGIN;
\ir _setup.psql
SELECT plan(74);

-- The hint of the refusal a statement meets as a role (NULL when it succeeds).
CREATE FUNCTION pg_temp.hint_of(who name, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
  EXECUTE format('SET ROLE %I', who);
  EXECUTE q;
  RESET ROLE;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
  RETURN h;
END $$;

-- ---- strategies (6.1.1) ----
SELECT tap.val('t_staff', format($$SELECT smam.draft_strategy(%s, 'Strategy', 'm', 'b', 'a', 'g', 'p')$$, :d1)) AS s \gset
SELECT is(tap.act('t_nobody', format($$SELECT smam.draft_strategy(%s, 'Mine')$$, :d1)), '42501 6.1.1',
  'a role without office does not draft a strategy');
SELECT is(tap.act('t_other', format($$SELECT smam.draft_strategy(%s, 'Theirs')$$, :d1)), '42501 6.1.1',
  'the head of another department does not draft for this one');
SELECT is(tap.act('t_head', format('SELECT smam.approve_strategy(%s)', :s)), '55000 6.1.1',
  'an incomplete strategy (no lessons learned) is not approved');
SELECT is(tap.act('t_staff', format($$SELECT smam.revise('strategy', %s, 'lessons_learned', 'From peers')$$, :s)), 'ok',
  'staff complete the strategy');
SELECT is(version, 2, 'an edit makes a new version') FROM smam.strategy WHERE id = :s;
SELECT is(tap.act('t_staff', format('SELECT smam.approve_strategy(%s)', :s)), '42501 6.1.1',
  'staff do not approve a strategy');
SELECT is(tap.act('t_other', format('SELECT smam.approve_strategy(%s)', :s)), '42704',
  'the head of another department does not approve it (nor learns of it: it does not exist for them)');
SELECT is(tap.act('t_old', format('SELECT smam.approve_strategy(%s)', :s)), '42501',
  'a head whose appointment has expired does not approve it');
SELECT matches(tap.detail('t_old', format('SELECT smam.approve_strategy(%s)', :s)),
  '^Your term as head_of_communications of department [0-9]+ ended ',
  '... and is told that the term ended, not what a stranger is told');
SELECT is(tap.act('t_entity', format('SELECT smam.approve_strategy(%s)', :s)), '42501 6.1.1',
  'the entity does not approve a department''s strategy (smam''s refusal, naming 6.1.1)');
SELECT is(tap.act('t_head', format($$SELECT smam.revise('strategy', %s, 'governance', 'Head approves')$$, :s)), 'ok',
  'the head edits the strategy');
SELECT is(tap.act('t_head', format('SELECT smam.approve_strategy(%s)', :s)), '42501 6.1.1',
  'separation of duties: the head may not approve a strategy they wrote');
SELECT matches(tap.message('t_head', format('SELECT smam.approve_strategy(%s)', :s)), 'they wrote it',
  '... and the message says why');
SELECT is(tap.act('t_head2', format($$UPDATE smam.strategy SET status = 'approved', title = 'Changed' WHERE id = %s$$, :s)), '55000 6.1.1',
  'an approval cannot come with an edit: what is approved is what was seen');
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s, %L)', :s, 'Good')), 'ok',
  'another head of communications approves it');
SELECT is(tap.act('t_designate', format('SELECT smam.approve_strategy(%s)', :s)), '55000 6.1.1',
  'a decided strategy is not decided again (the loser of two decisions)');
SET DateStyle = 'SQL, DMY';
SELECT is(tap.detail('t_designate', format('SELECT smam.approve_strategy(%s)', :s)),
  format('It was approved by "t_head2" at %s America/Toronto; a decision is made once. '
         'This enforces requirement 6.1.1 of the Standard on Social Media Account Management.',
         to_char((SELECT decided_at FROM smam.strategy WHERE id = :s) AT TIME ZONE 'America/Toronto', 'YYYY-MM-DD HH24:MI:SS')),
  '... and says when, in smam.time_zone, whatever the session''s DateStyle');
RESET DateStyle;
SELECT is((SELECT string_agg(concat_ws('|', decision, version, decided_by, office), ';') FROM smam.decision
            WHERE subject = 'strategy' AND subject_id = :s), 'approved|3|t_head2|head_of_communications',
  'the decision is recorded with the version, who and the office');

-- Editing an approved strategy voids the approval, by the function or by a plain UPDATE.
SELECT is(tap.act('t_staff', format($$SELECT smam.revise('strategy', %s, 'mandate', 'New mandate')$$, :s)), 'ok',
  'staff edit the approved strategy');
SELECT is(status::text || ' ' || version, 'draft 4', 'the edit voids the approval: back to draft, new version')
  FROM smam.strategy WHERE id = :s;
SELECT is((SELECT decision FROM smam.decision WHERE subject = 'strategy' AND subject_id = :s ORDER BY id DESC LIMIT 1),
  'voided', 'the voiding is recorded');
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s)', :s)), 'ok', 'approved again');
SELECT is(tap.act('postgres', format($$UPDATE smam.strategy SET mandate = 'Owner''s mandate' WHERE id = %s$$, :s)), '42501 6.1.1',
  'the table owner without an office does not edit a strategy directly');
SELECT is(tap.act('t_staff', format($$UPDATE smam.strategy SET mandate = 'Plain mandate' WHERE id = %s$$, :s)), 'ok',
  'staff edit it with a plain UPDATE');
SELECT is(status::text, 'draft', 'a plain UPDATE voids the approval too') FROM smam.strategy WHERE id = :s;
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s)', :s)), 'ok', 'approved once more');
SELECT is(tap.act('postgres', format($$INSERT INTO smam.strategy (department_id, title, status) VALUES (%s, 'Pre-approved', 'approved')$$, :d1)),
  '55000 6.1.1', 'a strategy is not inserted approved');
SELECT is(tap.act('postgres', format($$INSERT INTO smam.strategy (department_id, title) VALUES (%s, 'Owner''s')$$, :d1)),
  '42501 6.1.1', 'the owner without an office does not insert a strategy');

-- Program strategies roll into the departmental one.
SELECT tap.val('t_other', format($$SELECT smam.draft_strategy(%s, 'Programme', 'm', 'b', 'a', 'g', 'p', 'l', 'Grants')$$, :d2)) AS ps \gset
SELECT tap.val('t_admin', format($$SELECT smam.appoint('t_head2', 'head_of_communications', %s)$$, :d2)) IS NOT NULL AS head2_in_d2;
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s)', :ps)), '55000 6.1.1',
  'a program strategy is approved only while its department has an approved strategy');
SELECT tap.val('t_other', format($$SELECT smam.draft_strategy(%s, 'Departmental', 'm', 'b', 'a', 'g', 'p', 'l')$$, :d2)) AS ds \gset
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s)', :ds)), 'ok', 'the departmental strategy is approved');
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s)', :ps)), '55000 6.1.1',
  'the program strategy, drafted before there was one, names no departmental strategy: smam does not pick one later');
SELECT is(tap.act('t_other', format($$SELECT smam.revise('strategy', %s, 'rolls_into', %L)$$, :ps, :ds)), 'ok',
  'its author names the departmental strategy it rolls into');
SELECT is(tap.act('t_head2', format('SELECT smam.approve_strategy(%s)', :ps)), 'ok', 'then the program strategy');
SELECT is(tap.val('t_other', $$SELECT program_strategies::text FROM smam.strategy_in_force$$), format('{%s}', :ps),
  'strategy_in_force shows the program strategy rolling into its department''s, to that department only');

-- ---- implementation plans (6.1.2) ----
SELECT tap.val('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d1)) AS p \gset
SELECT is(smam.plan_missing(:p), ARRAY['privacy impact assessment'], 'a plan without PIA lacks the fourth element');
SELECT is(tap.act('t_head', format('SELECT smam.approve_plan(%s)', :p)), '55000 6.1.2', 'an incomplete plan is not approved');
SELECT is(tap.act('t_staff', format($$SELECT smam.plan_pia(%s, 'x', ' ', smam.today())$$, :p)), '22023 6.1.2',
  'a completed PIA has its reference');
SELECT is(tap.act('t_staff', format($$SELECT smam.plan_pia(%s, 'x', 'PIA-2026-7', smam.today())$$, :p)), 'ok',
  'staff record the plan''s own PIA for X');
SELECT is(tap.act('t_designate', format('SELECT smam.approve_plan(%s)', :p)), 'ok', 'a designate approves the plan');
SELECT is(decided_office::text, 'designate', 'as designate') FROM smam.implementation_plan WHERE id = :p;
SELECT is(tap.act('t_staff', format($$SELECT smam.plan_pia(%s, 'facebook')$$, :p)), 'ok',
  'staff add a platform to the approved plan');
SELECT is(status::text, 'draft', 'changing the plan''s PIAs voids its approval') FROM smam.implementation_plan WHERE id = :p;
SELECT tap.val('t_other', format($$SELECT smam.draft_plan(%s, 'Plan', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d2)) AS p2 \gset

-- ---- submissions (6.1.3, 6.2.1) ----
SELECT tap.planned(:d1, 'SubOne') AS a \gset
SELECT tap.val('t_dual', format($$SELECT smam.submit(%s, 'creation')$$, :a)) AS sub \gset
SELECT is(tap.act('t_dual', format('SELECT smam.review_submission(%s, true)', :sub)), '42501 6.2.1',
  'separation of duties: nobody reviews what they submitted');
SELECT is(tap.act('t_head', format('SELECT smam.review_submission(%s, true)', :sub)), '42501 6.2.1',
  'a department does not review (smam''s refusal, naming 6.2.1)');
SELECT is(tap.act('t_reviewer', format($$UPDATE smam.submission SET note = 'edited' WHERE id = %s$$, :sub)), '42501',
  'the entity has no grant to edit a submission');
SELECT is(tap.act('postgres', format($$INSERT INTO smam.submission (account_id, department_id, kind) VALUES (%s, %s, 'disposition')$$, :a, :d1)),
  '42501 6.1.3', 'the owner without an office does not insert a submission');
SELECT is(tap.act('t_entity2', format('SELECT smam.review_submission(%s, true)', :sub)), 'ok',
  'an entity official reviews it');
SELECT is(tap.act('postgres', format($$UPDATE smam.submission SET note = 'edited' WHERE id = %s$$, :sub)), '55000 6.2.1',
  'a decided submission is frozen, even to the owner');
SELECT is(tap.act('t_reviewer', format('SELECT smam.review_submission(%s, false, %L)', :sub, 'late')), '55000 6.2.1',
  'a reviewed submission is not reviewed again');

-- ---- platform reviews (6.2.3) ----
SELECT is(tap.act('t_head', $$SELECT smam.record_platform_review('x', 'model_pia', smam.today(), 'accepted', NULL, 'r')$$), '42501 6.2.3',
  'a department does not record platform reviews (smam''s refusal, naming 6.2.3)');
SELECT is(tap.act('t_entity', $$SELECT smam.record_platform_review('x', 'model_pia', smam.today(), 'accepted', smam.today(), 'r')$$), '22023 6.2.3',
  'a review cannot expire before it is made');
SELECT tap.pre_review('facebook');
SELECT is(tap.act('postgres', $$UPDATE smam.platform_review SET expires_on = NULL$$), '42501 6.1.2',
  'reviews are a record: not changed, even by the owner');

-- ---- technical specifications (6.1.5) ----
SELECT is((SELECT string_agg(specification, ',' ORDER BY specification) FROM smam.check_configuration('x', '{}', 'bilingual', 'One', NULL)),
  'gc_avatar,identifiable_name,notice_link,official_languages,official_languages,official_languages',
  'check_configuration lists every rule an empty configuration breaks');
SELECT is((SELECT count(*) FROM smam.check_configuration('x', tap.good_config(), 'bilingual', 'One', 'Un'))::int, 0,
  'a good configuration breaks none');

SELECT is(tap.act('t_entity', $$SELECT smam.add_specification('x_pinned', 'A pinned notice on X', 'present', 'pinned_post', NULL, 'twitter')$$), 'ok',
  'the entity adds a rule for one platform');
SELECT is((SELECT string_agg(specification || ': ' || problem, ',') FROM smam.check_configuration('x', tap.good_config(), 'bilingual', 'One', 'Un')),
  'x_pinned: The configuration has no pinned_post.', 'check_configuration applies it to that platform');
SELECT is((SELECT count(*) FROM smam.check_configuration('facebook', tap.good_config(), 'bilingual', 'One', 'Un'))::int, 0,
  '... and not to the others');
SELECT is(tap.act('t_entity', $$SELECT smam.add_specification('x_pinned', 'Again', 'present', 'pinned_post')$$), '23505 6.1.5',
  'a rule''s code is unique');
SELECT is(tap.act('t_entity', $$SELECT smam.add_specification('bad_re', 'Bad', 'matches', 'k', '(')$$), '22023 6.1.5',
  'a matches rule needs a regular expression');
SELECT is(tap.act('postgres', $$UPDATE smam.technical_specification SET expected = '.' WHERE code = 'gc_avatar'$$), '42501',
  'the shipped rules are part of the catalogue, even to the owner');

-- ---- onboarding ----
SELECT is(tap.act('t_head', format($$SELECT smam.onboard_account(%s, 'x', 'https://x.com/Existing', 'E', NULL, 'english', 'in the index')$$, :d1)),
  '42501 6.2.4', 'a department does not onboard (smam''s refusal, naming 6.2.4)');
SELECT is(tap.act('t_entity', format($$SELECT smam.onboard_account(%s, 'x', 'https://x.com/Existing', 'E', NULL, 'english', 'in the index')$$, :d1)),
  'ok', 'the entity onboards an existing account');
SELECT is((SELECT concat_ws('|', h.from_stage, h.to_stage, h.office, h.note, h.onboarded) FROM smam.stage_history h
             JOIN smam.account a ON a.id = h.account_id WHERE a.handle = 'Existing'),
  'implementation|entity_official|in the index|t', 'onboarding is recorded in the stage history');
SELECT is(tap.act('t_entity', format($$SELECT smam.insert_onboarded_account(%s, 'x', 'Other', 'https://x.com/Other', 'O', NULL, 'english', NULL, NULL, 'r')$$, :d1)),
  '42501', 'the onboarding insert itself is granted to nobody');

-- ---- enforcement turned off ----
SELECT tap.val('t_admin', $$SELECT smam.set_enforcement(false, 'pilot without the entity')$$) IS NULL AS off;
SELECT tap.planned(:d1, 'Unchecked') AS u \gset
SELECT is(tap.act('t_head', format($$SELECT smam.transition(%s, 'creation')$$, :u)), '42501 6.2.2',
  'enforcement off: who may act is still enforced');
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :u)), 'ok',
  'enforcement off: a missing prerequisite is not refused');
SELECT matches(waived, '6\.2\.3: platform x is not pre-reviewed; 6\.1\.3: account [0-9]+ has no accepted creation submission$',
  'enforcement off: what was missing is recorded with the move')
  FROM smam.stage_history WHERE account_id = :u AND to_stage = 'creation';

-- ---- retiring, delegations ending ----
SELECT is(tap.act('t_staff', format($$SELECT smam.decide('strategy', %s, 'retired')$$, :s)), '42501 6.1.1',
  'staff do not retire a strategy');
SELECT is(tap.act('t_head2', format($$SELECT smam.decide('strategy', %s, 'retired', 'superseded')$$, :s)), 'ok',
  'the head retires an approved strategy');
SELECT is(tap.act('t_staff', format($$SELECT smam.revise('strategy', %s, 'mandate', 'again')$$, :s)), '55000 6.1.1',
  'a retired strategy is not edited');
SELECT is(tap.act('t_head2', format($$SELECT smam.decide('strategy', %s, 'retired')$$, :p2)), '42704',
  'a plan is not decided as a strategy');
SELECT tap.val('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan 3', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d1)) AS p3 \gset
SELECT tap.val('t_staff', format($$SELECT smam.plan_pia(%s, 'x')$$, :p3)) IS NULL AS pia;
-- A designation that ran within the old head's term, both over now.
CREATE ROLE t_past LOGIN IN ROLE smam_department;
SELECT tap.val('t_admin', format($$SELECT smam.register_principal('t_past', 'Past', 'past@example.gc.ca', %s)$$, :d1)) IS NOT NULL AS past;
INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until, delegated_by)
SELECT 't_past', 'designate', department_id, valid_from + interval '1 day', valid_until, id
  FROM smam.appointment WHERE principal = 't_old';
SELECT is(tap.act('t_past', format('SELECT smam.approve_plan(%s)', :p3)), '42501',
  'a designation that has ended approves nothing');
SELECT matches(tap.detail('t_past', format('SELECT smam.approve_plan(%s)', :p3)),
  '^Your designation by "t_old" as head of communications of department [0-9]+ ended ',
  '... and the designate is told the designation ended');
SELECT is((SELECT h FROM pg_temp.hint_of('t_past', format('SELECT smam.approve_plan(%s)', :p3)) h),
  format('Ask the head of communications of department %s to delegate to you again.', :d1),
  '... and is told to ask for a new delegation, never to get appointed');
SELECT * FROM finish();
ROLLBACK;

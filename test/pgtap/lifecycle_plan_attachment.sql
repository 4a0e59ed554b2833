-- Attaching an implementation plan to an onboarded account (6.1.2): the
-- accounts the import brings in leave planning without a plan, and plan_id
-- is otherwise settled once an account leaves planning. Every refusal with
-- its SQLSTATE and requirement, through smam.attach_implementation_plan()
-- and through a plain UPDATE (the C trigger decides both), acting as the
-- smam_* roles; then the success, its audit, and the compliance finding
-- that clears (now, and not as of before).
BEGIN;
\ir _setup.psql
SELECT plan(44);

-- A second department's own staff, so that it has an approved plan of its own.
\o /dev/null
CREATE ROLE t_staff2 LOGIN IN ROLE smam_department;
SELECT tap.val('t_admin', format($$SELECT smam.register_principal('t_staff2', 't_staff2', 't_staff2@example.gc.ca', %s)$$, :d2));
SELECT tap.val('t_admin', format($$SELECT smam.appoint('t_staff2', 'department_staff', %s)$$, :d2));
SELECT tap.val('t_staff2', format($$SELECT smam.draft_strategy(%s, 'Strategy', 'm', 'b', 'a', 'g', 'p', 'l')$$, :d2)) AS s2 \gset
SELECT tap.val('t_other', format('SELECT smam.approve_strategy(%s)', :s2));
\o
-- The DETAIL of a refusal.
CREATE FUNCTION pg_temp.detail(who name, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text;
BEGIN
  EXECUTE format('SET ROLE %I', who);
  EXECUTE q;
  RESET ROLE;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d;
END
$$;
SELECT tap.approved_plan(:d1) AS p1 \gset
SELECT tap.approved_plan(:d1) AS p3 \gset
SELECT tap.val('t_staff', format($$SELECT smam.draft_plan(%s, 'Draft', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d1)) AS pdraft \gset
SELECT tap.val('t_staff2', format($$SELECT smam.draft_plan(%s, 'Two', 'b', 'r', 'r', 'r', 'm', 'p', 'c')$$, :d2)) AS p2 \gset
SELECT tap.val('t_staff2', format($$SELECT smam.plan_pia(%s, 'x')$$, :p2)) AS pia2 \gset
SELECT tap.val('t_other', format($$SELECT smam.approve_plan(%s)$$, :p2)) AS approved2 \gset
SELECT tap.val('t_entity', format($$SELECT smam.onboard_account(%s, 'x', 'https://x.com/OnboardedOne', 'One', 'Un', 'bilingual', 'in the canada.ca index')$$, :d1)) AS a \gset
SELECT tap.val('t_entity', format($$SELECT smam.onboard_account(%s, 'facebook', 'https://www.facebook.com/OnboardedFb', 'Fb', NULL, 'english', 'in the canada.ca index')$$, :d1)) AS fb \gset
SELECT tap.planned(:d1, 'PlannedOne') AS planned \gset

SELECT is((SELECT count(*) FROM smam.compliance_findings f
            WHERE f.requirement = '6.1.2' AND f.object_id = :a AND f.problem LIKE '%without an implementation plan%'),
  1::bigint, 'before: the onboarded account is live without a plan (6.1.2 finding)');

-- ---- who may attach ----
SELECT is(tap.act('t_staff', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)), '42501 6.1.2',
  'department staff may not attach a plan');
SELECT matches(tap.message('t_staff', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)),
  'may not attach an implementation plan to account', '... the message says what was refused');
SELECT is(tap.act('t_other', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)), '42704',
  'the head of communications of another department may not attach a plan (the account is not visible to them)');
SELECT is(tap.act('t_old', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)), '42501',
  'a head of communications whose term is over may not attach a plan, told the term ended');
SELECT is(tap.act('t_entity', format('UPDATE smam.account SET plan_id = %s WHERE id = %s', :p1, :a)), '42501 6.1.2',
  'the entity''s plain UPDATE of plan_id is refused by the trigger: not its office');
SELECT throws_ok(format('SET ROLE t_entity; SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1), '42501', NULL,
  'the function is not granted to the entity');
RESET ROLE;

-- ---- which plan ----
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :pdraft)), '55000 6.1.2',
  'a plan that is not approved is refused');
SELECT matches(tap.message('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :pdraft)),
  'is not approved', '... the message says so');
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p2)), '23503 6.1.2',
  'an approved plan of another department is refused');
SELECT matches(tap.message('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p2)),
  'is not a plan of department', '... the message says whose plan it is not');
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :fb, :p1)), '55000 6.1.2',
  'a plan that does not cover the account''s platform is refused');
SELECT matches(tap.message('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :fb, :p1)),
  'does not cover platform facebook', '... the message names the platform');
SELECT matches(pg_temp.detail('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :fb, :p1)),
  'has no Privacy Impact Assessment for facebook\. This enforces requirement 6\.1\.2', '... and so does the detail');
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, 987654)', :a)), '23503 6.1.2',
  'a plan that does not exist is refused');
SELECT is(replace(tap.message('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p2)), :'p2', 'N'),
          replace(tap.message('t_head', format('SELECT smam.attach_implementation_plan(%s, 987654)', :a)), '987654', 'N'),
  'another department''s plan is refused as one that does not exist: nothing is told about it');
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, NULL)', :a)), '22023 6.1.2',
  'attaching needs the plan');
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(987654, %s)', :p1)), '42704',
  'an account that does not exist is refused');
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :planned, :p1)), '55000 6.1.2',
  'a planned account takes its plan in planning, not by attachment');
SELECT is(tap.act('t_head', format($$UPDATE smam.account SET plan_id = %s, stage = 'evaluation' WHERE id = %s$$, :p1, :a)),
  '55000 6.1.2', 'attaching and moving in one UPDATE is refused');
SELECT is(tap.act('t_head', format($$UPDATE smam.account SET plan_id = %s, url = 'https://x.com/Elsewhere' WHERE id = %s$$, :p1, :a)),
  '55000 6.1.2', 'attaching and changing the address in one UPDATE is refused');
-- Enforcement off waives missing prerequisites of moves, never the attachment's.
SELECT tap.val('t_admin', $$SELECT smam.set_enforcement(false, 'migration')$$) IS NULL AS enforcement_off;
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :pdraft)), '55000 6.1.2',
  'with enforcement off, a plan that is not approved is still refused');
SELECT tap.val('t_admin', $$SELECT smam.set_enforcement(true, 'migration done')$$) IS NULL AS enforcement_on;
-- The plans rely on the entity's model PIA of X, which is not reviewed yet.
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)), '55000 6.1.2',
  'a plan without a current PIA for the platform is refused');
SELECT matches(tap.message('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)),
  'has no current privacy impact assessment for x', '... the message names the PIA');
SELECT is((SELECT plan_id FROM smam.account WHERE id = :a), NULL, 'after every refusal, the account still has no plan');
SELECT tap.pre_review('x') IS NULL AS reviewed;

-- ---- the attachment ----
SELECT is(tap.act('t_designate', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)), 'ok',
  'a designate of the head of communications attaches the department''s approved plan');
SELECT is((SELECT plan_id::text || '/' || (plan_attached_at = now()) FROM smam.account WHERE id = :a), :'p1' || '/true',
  'the account has the plan, and smam recorded when it was attached');
SELECT is((SELECT count(*) FROM smam.audit_log l
            WHERE l.table_name = 'smam.account' AND l.operation = 'UPDATE' AND l.row_key = :'a'
              AND l.acting_role = 't_designate' AND l.new_values ->> 'plan_id' = :'p1'),
  1::bigint, 'the attachment is in the audit log: who, and the new plan');
SELECT is((SELECT count(*) FROM smam.compliance_findings f WHERE f.requirement = '6.1.2' AND f.object_id = :a),
  0::bigint, 'after: the account''s 6.1.2 finding is gone');
SELECT is((SELECT count(*) FROM smam.compliance_findings f WHERE f.requirement = '6.1.2' AND f.object_id = :fb),
  1::bigint, '... while the account without a plan keeps its finding');

-- ---- settled again ----
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p3)), '55000 6.1.2',
  'an account that has a plan does not get another');
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :a, :p1)), '55000 6.1.2',
  'attaching the same plan again is refused');
SELECT is(tap.act('t_head', format('UPDATE smam.account SET plan_id = %s WHERE id = %s', :p3, :a)), '55000 6.1.2',
  'a plain UPDATE replacing the attached plan is refused by the trigger');
SELECT is(tap.act('t_head', format('UPDATE smam.account SET plan_id = NULL WHERE id = %s', :a)), '55000 6.1.2',
  'a plain UPDATE removing the attached plan is refused by the trigger');
GRANT UPDATE (plan_attached_at) ON smam.account TO t_head;
SELECT is(tap.act('t_head', format('UPDATE smam.account SET plan_attached_at = NULL WHERE id = %s', :a)), '55000',
  'smam sets plan_attached_at: not even a head of communications granted the column can change it');
REVOKE UPDATE (plan_attached_at) ON smam.account FROM t_head;
SELECT throws_ok(format('UPDATE smam.account SET plan_attached_at = NULL WHERE id = %s', :a), '42501', NULL,
  '... nor the table''s owner, who holds no office');

-- ---- accounts being disposed of, and disposed ----
SELECT tap.accepted(:fb, 'disposition') AS sub \gset
SELECT tap.val('t_entity', format($$SELECT smam.transition(%s, 'disposition')$$, :fb)) AS moved;
SELECT is(tap.act('t_head', format('UPDATE smam.account SET plan_id = %s WHERE id = %s', :p1, :fb)), '55000 6.1.2',
  'an account being disposed of gets no plan');
SELECT tap.val('t_entity', format($$SELECT smam.archive_account(%s, NULL, NULL, 'nothing kept')$$, :fb)) IS NOT NULL AS archived;
SELECT tap.val('t_entity', format($$SELECT smam.transition(%s, 'disposed')$$, :fb)) AS moved;
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :fb, :p1)), '55000 6.1.2',
  'a disposed account gets no plan');

-- ---- an account that left planning without a plan while enforcement was off ----
SELECT tap.val('t_staff', format($$SELECT smam.plan_account(%s, 'x', 'https://x.com/Waived', 'W', 'W', 'bilingual')$$, :d1)) AS w \gset
SELECT tap.val('t_admin', $$SELECT smam.set_enforcement(false, 'migration')$$) IS NULL AS enforcement_off;
SELECT is(tap.act('t_entity', format($$SELECT smam.transition(%s, 'creation')$$, :w)), 'ok',
  'with enforcement off, an account moves to creation without a plan (waived)');
SELECT tap.val('t_admin', $$SELECT smam.set_enforcement(true, 'migration done')$$) IS NULL AS enforcement_on;
SELECT is(tap.act('t_head', format('SELECT smam.attach_implementation_plan(%s, %s)', :w, :p3)), 'ok',
  'its head of communications attaches the plan in creation');

-- ---- as of an earlier moment ----
-- Date the account's arrival two days back (the superuser, triggers off):
-- the compliance of yesterday still sees it without a plan, so that a
-- report frozen then is reproduced as it was.
SET session_replication_role = replica;
UPDATE smam.account SET created_at = now() - interval '2 days', stage_changed_at = now() - interval '2 days' WHERE id = :a;
SET session_replication_role = DEFAULT;
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now() - interval '1 day') f
            WHERE f.requirement = '6.1.2' AND f.object_id = :a AND f.problem LIKE '%without an implementation plan%'),
  1::bigint, 'as of yesterday, before the attachment, the finding is there');
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now()) f WHERE f.requirement = '6.1.2' AND f.object_id = :a),
  0::bigint, 'as of now, it is not');
-- Whether a requirement is in force is read as it was known then: 6.1.3
-- comes into force on a date the Secretary communicates, recorded today.
SELECT tap.val('t_admin', $$SELECT smam.record_effective_date('6.1.3', DATE '2014-04-01', 'communicated today')$$) AS recorded;
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now()) f WHERE f.requirement = '6.1.3' AND f.object_id = :a),
  1::bigint, 'as of now, 6.1.3 is in force: the onboarded account has no submissions on record');
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now() - interval '1 day') f WHERE f.requirement = '6.1.3'),
  0::bigint, 'as of yesterday, its effective date was not known yet: no 6.1.3 finding, as a report frozen then said');

SELECT * FROM finish();
ROLLBACK;

-- Merging departments (issue 17): smam.merge_departments(from, into,
-- reason) by the entity's official or an administrator makes every live
-- record of one department the other's (accounts with their plans,
-- strategies, plans, submissions, offices, names, gc_orgID), keeps what was
-- recorded where it was recorded, is audited, and is refused, saying which,
-- while both hold something only one may. Acting as the smam_* roles.
BEGIN;
\ir _setup.psql
SELECT plan(51);

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
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO PUBLIC;

-- Global Affairs Canada, known by its gc_orgID, and the department a French
-- listing made of it, with its own offices, strategy, plan and accounts.
SELECT tap.val('t_admin', $$SELECT smam.add_department('Global Affairs Canada', 'Affaires mondiales Canada', gc_org_id => 2284)$$) AS gac \gset
SELECT tap.val('t_admin', $$SELECT smam.add_department('Affaires étrangères Canada', gc_org_id => 9284)$$) AS split \gset
SELECT tap.val('t_admin', $$SELECT smam.add_department('A voluntary adopter', application => 'voluntary')$$) AS vol \gset
-- Offices in the split department that began yesterday (a merge ends them now).
SELECT count(tap.val('t_admin', format($$SELECT smam.appoint(%L, %L, %s, now() - interval '1 day')$$, r, o, :split)))
  AS appointed
  FROM (VALUES ('t_staff', 'department_staff'), ('t_head', 'head_of_communications')) v(r, o) \gset
SELECT tap.val('t_head', format($$SELECT smam.delegate('t_nobody', now() + interval '20 days', %s, now() - interval '1 day')$$, :split)) AS desig \gset
SELECT tap.at_stage(:split, 'GACsplitLive', 'implementation') AS live \gset
SELECT tap.at_stage(:split, 'GACsplitPlanned', 'planning') AS planned \gset
SELECT tap.at_stage(:split, 'GACsplitGone', 'disposition') AS gone \gset
-- Disposed of without its archive record, enforcement suspended: a 6.2.2
-- finding recorded in the split department's stage history.
SELECT smam.set_enforcement(false, 'test: suspended') IS NULL AS suspended \gset
SELECT tap.val('t_entity', format($$SELECT smam.transition(%s, 'disposed', 'no archive')$$, :gone)) IS NULL AS disposed \gset
SELECT smam.set_enforcement(true, 'test: enforced again') IS NULL AS enforced \gset
SELECT smam.record_effective_date('6.2.2', DATE '2014-04-01', 'test: in force') IS NOT NULL AS in_force \gset
SELECT plan_id AS live_plan FROM smam.account WHERE id = :live \gset
SELECT strategy_id AS split_strategy FROM smam.implementation_plan WHERE id = :live_plan \gset

-- ---- who may merge, and what it checks first ----
SELECT is(tap.act('t_head', format($$SELECT smam.merge_departments(%s, %s, 'one organization')$$, :split, :gac)), '42501 6.2.4',
  'a head of communications may not merge departments');
SELECT is(pg_temp.refusal('t_reviewer', format($$SELECT smam.merge_departments(%s, %s, 'one organization')$$, :split, :gac)),
  '42501 | role "t_reviewer" may not merge departments | The entity maintains the index of official accounts. This enforces requirement 6.2.4 of the Standard on Social Media Account Management. | Ask the designated senior official of the entity or an administrator of smam.',
  'an entity reviewer may not merge departments');
SELECT is(tap.act('t_head', format($$SELECT * FROM smam.merge_problems(%s, %s)$$, :split, :gac)), '42501 6.2.4',
  'nor ask what stands in the way of a merge');
SELECT is(tap.act('t_entity', 'SELECT smam.rehome_decided_rows(1, 2)'), '42501',
  'the C path that moves decided rows is granted to no one');
SELECT is(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(99999, %s, 'x')$$, :gac)),
  '42704 | department 99999 does not exist | This enforces requirement 6.2.4 of the Standard on Social Media Account Management. | Find the department with smam.find_department().',
  'an unknown department is named');
SELECT is(tap.act('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'x')$$, :gac, :gac)), '22023 6.2.4',
  'a department is not merged into itself');
SELECT is(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(%s, %s, '  ')$$, :split, :gac)),
  '22023 | merging departments needs a reason | The merge is a decision of the entity, kept with both departments'' history. This enforces requirement 6.2.4 of the Standard on Social Media Account Management. | Say why, such as "Affaires mondiales Canada is the French name of Global Affairs Canada".',
  'a merge needs a reason');

-- ---- what needs a person first: each named ----
-- (The offices of departments one and two began with this test's
-- transaction: a merge could not end them now, and says so too.)
SELECT is(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'one')$$, :d1, :d2)),
  format('55000 | department %s cannot be merged into department %s yet | both departments have a head of communications: "t_dual", "t_head", "t_head2" of department %s, "t_other" of department %s (6.1); appointments %s in department %s begin no earlier than the merge would end them (6.1). This enforces requirement 6.2.4 of the Standard on Social Media Account Management. | End the appointment of the one who does not continue (smam.end_appointment); a designation they made ends with it. End them (smam.end_appointment) and appoint again in the other department after the merge.',
         :d1, :d2, :d1, :d2, (SELECT string_agg(id::text, ', ' ORDER BY id) FROM smam.appointment WHERE department_id = :d1 AND valid_from >= now()), :d1),
  'two heads of communications: refused, naming them');
-- Both with a departmental strategy in force (department two's drafted by
-- its head, approved by a second head).
SELECT tap.val('t_admin', format($$SELECT smam.appoint('t_head2', 'head_of_communications', %s)$$, :d2)) IS NOT NULL AS head2 \gset
SELECT tap.val('t_other', format($$SELECT smam.draft_strategy(%s, 'Theirs', 'm', 'b', 'a', 'g', 'p', 'l')$$, :d2)) AS d2_strategy \gset
SELECT tap.val('t_head2', format('SELECT smam.approve_strategy(%s)', :d2_strategy)) IS NULL AS d2_approved \gset
SELECT tap.approved_plan(:d1) IS NOT NULL AS d1_strategy_approved \gset
SELECT matches(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'one')$$, :d1, :d2)),
  format('both departments have a departmental strategy in force: [0-9, ]+ of department %s, [0-9]+ of department %s \(6\.1\.1\)', :d1, :d2),
  'two departmental strategies in force: refused, naming both');
SELECT is(tap.val('t_entity', format($$SELECT string_agg(DISTINCT requirement, ',' ORDER BY requirement) FROM smam.merge_problems(%s, %s)$$, :d1, :d2)),
  '6.1,6.1.1', 'smam.merge_problems lists every problem, with its requirement');
SELECT matches(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(-1, %s, 'one')$$, :gac)),
  'department -1 \(Office of the Auditor General of Canada\) ships with smam \(2\.2\).*department -1 is an agent of Parliament and department [0-9]+ is subject to the Standard \(2\.2\)',
  'a shipped agent of Parliament is not merged into a department');
SELECT matches(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'one')$$, :vol, :gac)),
  format('department %s is a voluntary adopter and department %s is subject to the Standard \(2\.1\).*an administrator corrects the wrong one', :vol, :gac),
  'a voluntary adopter and a subject department are not merged until one is corrected');
SELECT tap.val('t_head', format($$SELECT smam.submit(%s, 'disposition')$$, :live)) AS pending \gset
SELECT matches(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'one')$$, :split, :gac)),
  format('submissions %s of department %s wait for the entity''s review \(6\.2\.1\)', :pending, :split),
  'a submission waiting for review: refused, naming it');
SELECT tap.val('t_reviewer', format('SELECT smam.review_submission(%s, false, %L)', :pending, 'not now')) IS NULL AS reviewed \gset
SELECT is(tap.val('t_entity', format($$SELECT count(*) FROM smam.merge_problems(%s, %s)$$, :split, :gac)), '0',
  'reviewed: nothing stands in the way');

-- ---- the merge ----
SELECT count(*) AS decisions_before FROM smam.decision WHERE department_id = :split \gset
SELECT tap.val('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'Affaires étrangères Canada is an old name of Global Affairs Canada')$$, :split, :gac)) AS merge_id \gset
SELECT ok(:merge_id::bigint > 0, 'the entity''s official merges the split department into Global Affairs Canada');
SELECT is((SELECT array_agg(department_id ORDER BY id) FROM smam.account WHERE id IN (:live, :planned, :gone)), ARRAY[:gac::bigint, :gac::bigint, :gac::bigint],
  'its accounts, live, planned and disposed of, are the other department''s');
SELECT is((SELECT plan_id FROM smam.account WHERE id = :live), :live_plan::bigint, 'a live account keeps its plan');
SELECT is((SELECT department_id FROM smam.implementation_plan WHERE id = :live_plan), :gac::bigint, 'the plan moved with it');
SELECT is((SELECT department_id FROM smam.strategy WHERE id = :split_strategy), :gac::bigint, 'so did the strategy');
SELECT is((SELECT status::text FROM smam.implementation_plan WHERE id = :live_plan), 'approved', 'approved, as it was');
SELECT is((SELECT count(*) FROM smam.submission WHERE department_id = :split), 0::bigint, 'no submission is left behind');
SELECT is((SELECT count(*) FROM smam.decision WHERE department_id = :split), :decisions_before::bigint,
  'the decisions stay recorded under the department they were made in');
SELECT ok(smam.holds_office('t_head', 'head_of_communications', :gac::bigint), 'its head of communications now heads Global Affairs Canada');
SELECT ok(NOT smam.holds_office('t_head', 'head_of_communications', :split::bigint), '... and no longer the merged department');
SELECT ok(smam.holds_office('t_nobody', 'designate', :gac::bigint), 'the designation continues, delegated by the head''s new appointment');
SELECT is((SELECT count(*) FROM smam.appointment WHERE department_id = :split AND ended_reason LIKE '%merged into department%'), 3::bigint,
  'the three offices held in the merged department ended, the reason recorded');
SELECT is((SELECT merged_into FROM smam.department WHERE id = :split), :gac::bigint, 'the merged department remains, marked merged');
SELECT is(smam.find_department('Affaires étrangères Canada'), :gac::bigint, 'its name finds the department it joined');
SELECT is(smam.department_by_name('AFFAIRES ETRANGERES CANADA'), :gac::bigint, 'the import knows the name as an alias, by key');
SELECT is(smam.department_by_org_id(9284), :gac::bigint, 'and its gc_orgID as the department''s second one');
SELECT is((SELECT gc_org_id FROM smam.department WHERE id = :split), NULL, 'which the merged department gave up');
SELECT is((SELECT (moved ->> 'accounts')::int FROM smam.department_merge WHERE id = :merge_id), 3, 'the merge records what moved');
SELECT is((SELECT merged_by::text FROM smam.department_merge WHERE id = :merge_id), 't_entity', '... and who merged');
SELECT is((SELECT count(*) FROM smam.compliance_findings WHERE department_id = :split), 0::bigint,
  'the merged department has no findings of its own any more');
SELECT is((SELECT count(*) FROM smam.compliance_by_department WHERE department_id = :split), 0::bigint,
  'and is no line of the compliance report');
SELECT is((SELECT department_id FROM smam.compliance_findings WHERE requirement = '6.2.2' AND object_id = :gone), :gac::bigint,
  'a finding from its stage history counts for the department it joined');
SELECT is(smam.find_department('9284'), :gac::bigint, 'its gc_orgID finds the department it joined');
SELECT is(pg_temp.refusal('t_admin', format('UPDATE smam.department SET gc_org_id = 9285 WHERE id = %s', :split)),
  format('55000 | department %s was merged into department %s | A merged department keeps its names and history as they were; its names are now the other department''s aliases. This enforces requirement 6.2.4 of the Standard on Social Media Account Management. | Change department %s instead.', :split, :gac, :gac),
  'an administrator cannot change a merged department''s row');
-- The index lists an account under the merged department's name and a new
-- gc_orgID: the department it joined, which takes the id as a further one.
SELECT is(tap.val('t_entity', $$SELECT created || '/' || rejected || '/' || held FROM smam.import_index(
  'Account,Platform,Department,Language,URL,gc_orgID,Date Added
Affaires Un,X,Affaires étrangères Canada,French,https://x.com/AffairesUn,4444.0,2026-06-02', accept_disappearance => true)$$),
  '1/0/0', 'an import places a row under the merged department''s name and a new gc_orgID');
SELECT is((SELECT department_id FROM smam.account WHERE url = 'https://x.com/AffairesUn'), :gac::bigint, '... in the department it joined');
SELECT is(smam.department_by_org_id(4444), :gac::bigint, '... which takes the new gc_orgID as a further one');
SELECT ok((SELECT v.holds FROM smam.verify_audit_log() v), 'the audit chain holds');

-- ---- after: nothing new in the merged department ----
SELECT is(pg_temp.refusal('t_staff', format($$SELECT smam.draft_plan(%s, 'Late plan')$$, :split)),
  format('55000 | department %s was merged into department %s | A merged department keeps its history; its accounts, strategies, plans and offices are now the other department''s. This enforces requirement 6.2.4 of the Standard on Social Media Account Management. | Act for department %s.', :split, :gac, :gac),
  'a plan for the merged department is refused, naming the department it joined');
SELECT is(tap.act('t_admin', format($$SELECT smam.appoint('t_other', 'department_staff', %s)$$, :split)), '55000 6.2.4',
  'so is an appointment in it');
SELECT is(tap.act('t_staff', format($$SELECT smam.draft_plan(%s, 'Plan of the joined department')$$, :gac)), 'ok',
  'its staff now work for the department it joined');
SELECT matches(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'again')$$, :split, :gac)),
  format('department %s was already merged into department %s', :split, :gac), 'a department is merged once');
SELECT matches(pg_temp.refusal('t_entity', format($$SELECT smam.merge_departments(%s, %s, 'into the merged one')$$, :vol, :split)),
  format('department %s was merged into department %s \(6\.2\.4\).*Merge into department %s\.', :split, :gac, :gac),
  'nothing is merged into a merged department');

-- ---- no way around it ----
SELECT is(tap.act('postgres', format('UPDATE smam.strategy SET department_id = %s WHERE id = %s', :d1, :split_strategy)), '55000 6.1.1',
  'outside a merge, a strategy still cannot change department, even for the owner');
SELECT is(tap.act('t_admin', format('UPDATE smam.department SET merged_into = %s WHERE id = %s', :gac, :vol)), '42501',
  'an administrator cannot mark a department merged by hand');
SELECT is(tap.act('t_head', format('SELECT * FROM smam.department_merge WHERE id = %s', :merge_id)), 'ok',
  'a head of the department it joined reads the merge');
SELECT is(tap.val('t_other', 'SELECT count(*) FROM smam.department_merge'), '0',
  'another department''s head does not see it');

SELECT * FROM finish();
ROLLBACK;

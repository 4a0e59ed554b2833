-- The entity's report on activities (7.3.1): TBS requests it for a period,
-- the entity's official submits it once the period is over, and it freezes,
-- per department and for the government, what the records say was done in
-- the period; frozen and hashed like a compliance report, reproduced as of
-- its moment, read by analysts through smam.activity_report_line.
--
-- Every act is made through smam's functions as the role whose office makes
-- it (the publishing worker's outcomes as smam_worker). The test then dates
-- the records back, as if each act had happened on its day (the superuser,
-- triggers off, as test/pgtap/lifecycle_plan_attachment.sql does): a period
-- of 30 days that ended 30 days ago, activity in it, before it and after it.
BEGIN;
\ir _setup.psql
SELECT plan(64);

CREATE ROLE t_tbs LOGIN IN ROLE smam_tbs;
CREATE ROLE t_analyst LOGIN IN ROLE smam_analyst;
CREATE ROLE t_public LOGIN IN ROLE smam_public;
SELECT tap.val('t_admin', $$SELECT smam.register_principal('t_tbs', 'Tom TBS', 'tom@example.gc.ca')$$) IS NOT NULL AS tbs_registered;
SELECT tap.val('t_admin', $$SELECT smam.appoint('t_tbs', 'tbs_analyst')$$) IS NOT NULL AS tbs_appointed;
-- 7.3.1 in force from a date the Secretary communicated (section 1.2).
SELECT tap.val('t_admin', $$SELECT smam.record_effective_date('7.3.1', '2014-01-01', 'test communication')$$) IS NOT NULL AS in_force;

-- Noon (about: a day is 24 hours here) of the day n days from today, in smam.time_zone.
CREATE FUNCTION tap.day(n integer) RETURNS timestamptz LANGUAGE sql AS $$
  SELECT (smam.today()::timestamp AT TIME ZONE smam.time_zone()) + n * interval '24 hours' + interval '12 hours'
$$;
-- A submission made, reviewed and used up on those days (NULL: not reviewed, not used).
CREATE FUNCTION tap.retime(sub bigint, made integer, decided integer, consumed integer DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
  UPDATE smam.submission SET created_at = tap.day(made),
         decided_at = CASE WHEN decided IS NOT NULL THEN tap.day(decided) END,
         consumed_at = CASE WHEN consumed IS NOT NULL THEN tap.day(consumed) END
   WHERE id = sub;
  UPDATE smam.decision SET decided_at = tap.day(decided) WHERE subject = 'submission' AND subject_id = sub;
$$;
CREATE FUNCTION tap.sub(account bigint, of_kind text) RETURNS bigint LANGUAGE sql AS $$
  SELECT max(s.id) FROM smam.submission s WHERE s.account_id = account AND s.kind = of_kind::smam.submission_kind
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA tap TO PUBLIC;

-- ---- the acts ----
-- The entity's service standard for reviews: 10 days, then 20 days.
SELECT tap.val('t_entity', $$SELECT smam.set_service_standard('submission_review', '10 days')$$) AS standard10 \gset
-- Department One: account A walked to implementation, evaluated, its live
-- configuration changed, its disposition submitted (and left pending);
-- account B walked to disposition and disposed of; E planned and abandoned;
-- F planned after the period.
SELECT tap.at_stage(:d1, 'ActA', 'implementation') AS a \gset
SELECT tap.at_stage(:d1, 'ActB', 'disposition') AS b \gset
SELECT tap.val('t_entity', format($$SELECT smam.archive_account(%s, 'https://archive.example.gc.ca/b', repeat('a', 64))$$, :b)) IS NOT NULL AS archived;
SELECT tap.val('t_entity', format($$SELECT smam.transition(%s, 'disposed')$$, :b)) AS b_disposed;
SELECT tap.planned(:d1, 'ActE') AS e \gset
SELECT tap.val('t_head', format($$SELECT smam.abandon_account(%s, 'no longer needed')$$, :e)) AS e_abandoned;
SELECT tap.val('t_head', format('SELECT smam.start_evaluation(%s)', :a)) IS NOT NULL AS a_evaluated;
SELECT tap.accepted(:a, 'configuration', tap.good_config() || '{"display_name": "Department One, renamed"}') AS s6 \gset
SELECT tap.val('t_head', format('SELECT smam.configure_account(%s, %L)', :a,
                                tap.good_config() || '{"display_name": "Department One, renamed"}')) IS NULL AS a_reconfigured;
SELECT tap.val('t_head', format($$SELECT smam.submit(%s, 'disposition')$$, :a)) AS s7 \gset
SELECT tap.planned(:d1, 'ActF') AS f \gset
-- Department Two: account D onboarded; a configuration submission rejected
-- in the period, a disposition submission rejected only after it.
SELECT tap.val('t_entity', format($$SELECT smam.onboard_account(%s, 'x', 'https://x.com/ActD', 'Two', 'Deux', 'bilingual', 'listed in the index')$$, :d2)) AS d \gset
SELECT tap.val('t_other', format($$SELECT smam.submit(%s, 'disposition')$$, :d)) AS s8 \gset
SELECT tap.val('t_other', format($$SELECT smam.submit(%s, 'configuration', NULL, %L)$$, :d, tap.good_config())) AS s9 \gset
SELECT tap.val('t_reviewer', format($$SELECT smam.review_submission(%s, false, 'not this one')$$, :s9)) IS NULL AS s9_rejected;
SELECT tap.val('t_reviewer', format($$SELECT smam.review_submission(%s, false, 'keep it')$$, :s8)) IS NULL AS s8_rejected;
SELECT tap.val('t_entity', $$SELECT smam.set_service_standard('submission_review', '20 days')$$) AS standard20 \gset
-- The entity's platform reviews: two dated in the period, one before it
-- (X's five, dated ten days ago by tap.at_stage, come after it).
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('facebook', 'terms_of_use', smam.today() - 45, 'accepted', NULL, 'ToU 1')$$) IS NOT NULL AS pr1;
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('facebook', 'privacy_risk', smam.today() - 44, 'rejected', NULL, 'PRA 1')$$) IS NOT NULL AS pr2;
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('facebook', 'model_pia', smam.today() - 80, 'accepted', NULL, 'PIA 0')$$) IS NOT NULL AS pr0;
-- Three publications of the index.
SELECT tap.val('t_entity', 'SELECT smam.publish_index()') AS ix1 \gset
SELECT tap.val('t_entity', 'SELECT smam.publish_index()') AS ix2 \gset
SELECT tap.val('t_entity', 'SELECT smam.publish_index()') AS ix3 \gset
-- Three posts to account A through the tool: the worker delivers the first
-- and the third, gives up on the second.
SELECT tap.val('t_admin', $$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets')$$) IS NOT NULL AS connector;
SELECT tap.val('t_head', format($$SELECT smam.set_credential(%s, 'tok-activities')$$, :a)) IS NULL AS credential;
SELECT tap.val('t_staff', format($$SELECT smam.add_content_item(%s, 'News', 'News', 'Nouvelles')$$, :d1)) AS item \gset
CREATE FUNCTION tap.scheduled_post(item bigint, account bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  p bigint := tap.val('t_staff', format('SELECT smam.create_post(%s, ARRAY[%s]::bigint[])', item, account));
BEGIN
  PERFORM tap.val('t_staff', format('SELECT smam.submit_post(%s)', p));
  PERFORM tap.val('t_head', format('SELECT smam.approve_post(%s)', p));
  PERFORM tap.val('t_head', format('SELECT smam.schedule_post(%s)', p));
  RETURN p;
END
$$;
SELECT tap.scheduled_post(:item, :a) AS p1 \gset
SELECT tap.scheduled_post(:item, :a) AS p2 \gset
SELECT tap.scheduled_post(:item, :a) AS p3 \gset
SET ROLE smam_worker;
UPDATE smam.delivery SET status = 'delivered', attempts = 1, http_status = 200, settled_at = now() WHERE post_id IN (:p1, :p3);
UPDATE smam.delivery SET status = 'dead', attempts = 3, http_status = 500, settled_at = now() WHERE post_id = :p2;
SELECT smam.settle_posts(ARRAY[:p1, :p2, :p3]::bigint[]);
RESET ROLE;

-- ---- dated back: the period is [today - 60, today - 30) ----
SET session_replication_role = replica;
UPDATE smam.stage_history h SET moved_at = tap.day(v.n)
  FROM (VALUES (:a, 'planning', -70), (:a, 'creation', -57), (:a, 'configuration', -39), (:a, 'implementation', -38),
               (:a, 'evaluation', -36),
               (:b, 'planning', -100), (:b, 'creation', -97), (:b, 'configuration', -94), (:b, 'implementation', -93),
               (:b, 'disposition', -48), (:b, 'disposed', -45),
               (:e, 'planning', -52), (:e, 'disposed', -51), (:f, 'planning', -10),
               (:d, 'implementation', -50)) v(account, stage, n)
 WHERE h.account_id = v.account AND h.to_stage = v.stage::smam.stage;
SELECT tap.retime(tap.sub(:a, 'creation'), -65, -58, -57);        -- made before, reviewed in 7 days
SELECT tap.retime(min(id), -55, -40, -39) FROM smam.submission WHERE account_id = :a AND kind = 'configuration';  -- 15 days
SELECT tap.retime(:s6, -35, -34, -33);                               -- the live change, 1 day
SELECT tap.retime(:s7, -31, NULL);                                   -- pending at the end, half a day
SELECT tap.retime(tap.sub(:b, 'creation'), -99, -98, -97);
SELECT tap.retime(tap.sub(:b, 'configuration'), -96, -95, -94);
SELECT tap.retime(tap.sub(:b, 'disposition'), -50, -49, -48);        -- 1 day
SELECT tap.retime(:s8, -44, -20);                                    -- pending at the end, 13.5 days
SELECT tap.retime(:s9, -42, -41);                                    -- rejected in 1 day
UPDATE smam.service_standard SET effective_from = tap.day(-200), set_at = tap.day(-200) WHERE id = :standard10;
UPDATE smam.service_standard SET effective_from = tap.day(-41), set_at = tap.day(-41) WHERE id = :standard20;
UPDATE smam.index_snapshot s SET published_at = tap.day(v.n)
  FROM (VALUES (:ix1, -47), (:ix2, -35), (:ix3, -5)) v(id, n) WHERE s.id = v.id;
UPDATE smam.post p SET settled_at = tap.day(v.n) FROM (VALUES (:p1, -37), (:p2, -36), (:p3, -5)) v(id, n) WHERE p.id = v.id;
UPDATE smam.delivery d SET settled_at = tap.day(v.n) FROM (VALUES (:p1, -37), (:p2, -36), (:p3, -5)) v(id, n) WHERE d.post_id = v.id;
SET session_replication_role = DEFAULT;
SELECT is((SELECT count(*) FROM smam.submission WHERE created_at = now()), 0::bigint, 'every submission is dated back');

-- ---- the request: the period and its refusals ----
SELECT is(tap.act('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'x', 'activities', smam.today() - 30, smam.today() - 30)$$),
  '22023 7.3.1', 'a period that ends where it begins is refused');
SELECT is(tap.message('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'x', 'activities', smam.today() - 30, smam.today() - 60)$$),
  'an activities report''s period must end after it begins', 'and one that ends before it begins, saying so');
SELECT is(tap.act('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'x', 'activities', smam.today() - 30)$$),
  '22023 7.3.1', 'a period needs both its first day and its end');
SELECT is(tap.act('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'x', 'activities', smam.today() - 30, smam.today() + 11)$$),
  '22023 7.3.1', 'a period cannot end after the due date: the report could not be on time');
SELECT is(tap.act('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'x', 'compliance', smam.today() - 60, smam.today() - 30)$$),
  '22023 7.3.2', 'a compliance report of the entity has no period');
SELECT is(tap.act('t_tbs', format($$SELECT smam.request_report(%s, smam.today() + 10, 'x', 'compliance', smam.today() - 60, smam.today() - 30)$$, :d1)),
  '22023 7.1.2', 'nor a department''s');
SELECT is(tap.act('t_entity', $$SELECT smam.request_report(NULL, smam.today() + 10, 'x', 'activities', smam.today() - 60, smam.today() - 30)$$),
  '42501 7.3.1', 'the entity does not request its own report: TBS does (smam''s refusal, naming 7.3.1)');
SELECT tap.val('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'Activities, spring', 'activities',
                                                     smam.today() - 60, smam.today() - 30)$$) AS rq \gset
SELECT is((SELECT ARRAY[period_from, period_until] FROM smam.report_request WHERE id = :rq),
  ARRAY[smam.today() - 60, smam.today() - 30], 'the request keeps its period');
SELECT tap.val('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'Activities, this year', 'activities')$$) AS rq_default \gset
SELECT is((SELECT ARRAY[period_from, period_until] FROM smam.report_request WHERE id = :rq_default),
  ARRAY[(smam.today() - interval '12 months')::date, smam.today()], 'by default, the twelve months before the day of the request');
SELECT tap.val('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'Activities, this month', 'activities',
                                                     smam.today() - 20, smam.today() + 5)$$) AS rq_open \gset
SELECT is((SELECT period_until FROM smam.report_request WHERE id = :rq_open), smam.today() + 5,
  'a period may end in the future, by the due date');

-- ---- submitting: who, and not before the period is over ----
SELECT is(tap.act('t_entity', format('SELECT smam.submit_report(%s)', :rq_open)), '55000 7.3.1',
  'an activities report is not submitted before its period is over');
SELECT is(tap.message('t_entity', format('SELECT smam.submit_report(%s)', :rq_open)),
  format('the period of report request %s is not over', :rq_open), 'and the refusal says so');
SELECT is(tap.detail('t_entity', format('SELECT smam.submit_report(%s)', :rq_open)),
  format('The report counts the activities from %s to %s inclusive, and is submitted once that period is over. This enforces requirement 7.3.1 of the Standard on Social Media Account Management.',
         smam.today() - 20, smam.today() + 4), 'its detail names the days counted');
SELECT is(tap.act('t_reviewer', format('SELECT smam.submit_report(%s)', :rq)), '42501 7.3.1',
  'an entity reviewer does not submit the entity''s report: its official does');
SELECT is(tap.act('t_head', format('SELECT smam.submit_report(%s)', :rq)), '42704 7.1.2',
  'a department''s head neither submits nor sees the entity''s request');
SELECT is(tap.act('t_tbs', format('SELECT smam.submit_report(%s)', :rq)), '42501 7.3.1', 'nor does TBS answer its own request (smam''s refusal, naming 7.3.1)');
SELECT tap.val('t_entity', format($$SELECT smam.submit_report(%s, 'Activities of the spring')$$, :rq)) AS rep \gset
SELECT is(tap.act('t_entity', format('SELECT smam.submit_report(%s)', :rq)), '23505 7.1.2', 'it is answered once');

-- ---- what it froze ----
SELECT is((SELECT ARRAY[jsonb_array_length(by_requirement), jsonb_array_length(findings)] FROM smam.compliance_report WHERE id = :rep),
  ARRAY[0, 0], 'an activities report is not the compliance picture again');
SELECT is((SELECT count(*) FROM smam.activity_report_line WHERE report_id = :rep), (SELECT count(*) + 1 FROM smam.department),
  'one line per department, and the total');
SELECT is((SELECT content_sha256 FROM smam.compliance_report WHERE id = :rep),
  (SELECT encode(sha256(convert_to(by_requirement::text || findings::text || activities::text, 'UTF8')), 'hex')
     FROM smam.compliance_report WHERE id = :rep), 'its hash covers what it froze');
SELECT ok((SELECT audit_digest IS NOT NULL FROM smam.compliance_report WHERE id = :rep), 'with the audit digest of its moment');
CREATE TEMP VIEW line AS SELECT * FROM smam.activity_report_line;
GRANT SELECT ON line TO PUBLIC;
CREATE FUNCTION tap.counts(dept bigint, cols text[]) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  r text[];
BEGIN
  EXECUTE format('SELECT ARRAY[%s]::text[] FROM smam.activity_report_line WHERE report_id = %s AND department_id IS NOT DISTINCT FROM %s',
                 array_to_string(cols, ', '), current_setting('tap.rep'), coalesce(dept::text, 'NULL')) INTO r;
  RETURN r;
END
$$;
SELECT set_config('tap.rep', :'rep', false) IS NOT NULL AS rep_set;
SELECT is(tap.counts(:d1, ARRAY['submissions_received', 'submissions_creation', 'submissions_configuration', 'submissions_disposition']),
  ARRAY['4', '0', '2', '2'], 'department one: submissions received in the period, by kind (not the one made before it)');
SELECT is(tap.counts(:d1, ARRAY['submissions_reviewed', 'submissions_accepted', 'submissions_rejected', 'submissions_pending_at_end']),
  ARRAY['4', '4', '0', '1'], 'reviewed in the period (also one made before it), and pending at its end');
SELECT is(tap.counts(:d1, ARRAY['review_time_median', 'review_time_max']),
  ARRAY['4 days', '15 days'], 'the median and longest time from submission to review (1, 1, 7 and 15 days)');
SELECT is(tap.counts(:d1, ARRAY['review_service_standard', 'reviews_beyond_standard', 'pending_beyond_standard']),
  ARRAY['20 days', '1', '0'],
  'the review of 15 days exceeded the 10 days in force when it was submitted, not the 20 in force at the end');
SELECT is(tap.counts(:d1, ARRAY['accounts_planned', 'accounts_onboarded', 'accounts_created', 'accounts_configured',
                                'live_configuration_changes', 'accounts_implemented', 'evaluations_started',
                                'dispositions_started', 'accounts_disposed', 'accounts_abandoned']),
  ARRAY['1', '0', '1', '1', '1', '1', '1', '1', '1', '1'],
  'the moves in the period: one of each, the account planned before and the one planned after left out');
SELECT is(tap.counts(:d1, ARRAY['posts_published', 'deliveries_delivered', 'deliveries_dead']), ARRAY['1', '1', '1'],
  'one post published and one given up in the period, one published after it');
SELECT is(tap.counts(:d1, ARRAY['platform_reviews', 'index_publications', 'index_last_published_at']), ARRAY[NULL, NULL, NULL]::text[],
  'the government-wide counts are on the total line only');
SELECT is(tap.counts(:d2, ARRAY['submissions_received', 'submissions_reviewed', 'submissions_rejected', 'submissions_pending_at_end',
                                'review_time_median', 'pending_beyond_standard', 'accounts_onboarded', 'posts_published']),
  ARRAY['2', '1', '1', '1', '1 day', '1', '1', '0'],
  'department two: one rejected in the period, one still pending at its end beyond the standard, one account onboarded');
SELECT is(tap.counts(-1, ARRAY['submissions_received', 'accounts_planned', 'posts_published', 'department_en']),
  ARRAY['0', '0', '0', 'Office of the Auditor General of Canada'], 'a department without activity has its line of zeros');
SELECT is(tap.counts(NULL, ARRAY['department_en', 'submissions_received', 'submissions_reviewed', 'submissions_accepted',
                                 'submissions_rejected', 'submissions_pending_at_end', 'review_time_median', 'review_time_max',
                                 'reviews_beyond_standard', 'pending_beyond_standard']),
  ARRAY['All departments', '6', '5', '4', '1', '2', '1 day', '15 days', '1', '1'],
  'the total: submissions of every department, the median over all reviews');
SELECT is(tap.counts(NULL, ARRAY['accounts_planned', 'accounts_onboarded', 'accounts_created', 'accounts_disposed', 'posts_published']),
  ARRAY['1', '1', '1', '1', '1'], 'and the moves and posts of every department');
SELECT is(tap.counts(NULL, ARRAY['platform_reviews', 'platform_reviews_accepted', 'platform_reviews_rejected']),
  ARRAY['2', '1', '1'], 'the platform reviews dated in the period');
SELECT is((SELECT platform_reviews_by_kind FROM line WHERE report_id = :rep AND department_id IS NULL),
  '{"terms_of_use": {"accepted": 1, "rejected": 0}, "privacy_risk": {"accepted": 0, "rejected": 1}}'::jsonb,
  'by kind and outcome');
SELECT is((SELECT ARRAY[index_publications::text, index_last_published_at::text, index_last_account_count::text]
             FROM line WHERE report_id = :rep AND department_id IS NULL),
  (SELECT ARRAY['2', published_at::text, account_count::text] FROM smam.index_snapshot WHERE id = :ix2),
  'two publications of the index in the period, the last with its account count');
SELECT is((SELECT ARRAY[period_from, period_until] FROM line WHERE report_id = :rep AND department_id IS NULL),
  ARRAY[smam.today() - 60, smam.today() - 30], 'the lines carry their period');

-- The default period: the twelve months before today.
SELECT tap.val('t_entity', format('SELECT smam.submit_report(%s)', :rq_default)) AS rep_default \gset
SELECT is((SELECT ARRAY[accounts_planned, submissions_received, platform_reviews] FROM line WHERE report_id = :rep_default AND department_id IS NULL),
  ARRAY[4, 9, 8]::bigint[], 'the report of the twelve months counts what the records say of them');

-- ---- who reads the lines ----
SELECT is(tap.val('t_analyst', format('SELECT count(*) FROM smam.activity_report_line WHERE report_id = %s', :rep)),
  (SELECT (count(*) + 1)::text FROM smam.department), 'an analyst reads every line');
SELECT is(tap.val('t_tbs', format('SELECT count(*) FROM smam.activity_report_line WHERE report_id = %s', :rep)),
  (SELECT (count(*) + 1)::text FROM smam.department), 'and TBS');
SELECT is(tap.val('t_head', format('SELECT array_agg(department_id)::text FROM smam.activity_report_line WHERE report_id = %s', :rep)),
  format('{%s}', :d1), 'a department reads its own line, not the others nor the total');
SELECT is(tap.val('t_other', 'SELECT array_agg(DISTINCT department_id)::text FROM smam.activity_report_line'),
  format('{%s}', :d2), 'in every report');
SELECT is(tap.val('t_head', format('SELECT count(*) FROM smam.compliance_report WHERE id = %s', :rep)), '0',
  'as with the compliance reports, the entity''s report itself is not the department''s to read');
SELECT is(tap.act('t_public', 'SELECT count(*) FROM smam.activity_report_line'), '42501', 'the public reads none');
SELECT is((SELECT reloptions FROM pg_class WHERE oid = 'smam.activity_report_line'::regclass), ARRAY['security_barrier=true'],
  'the view is a security barrier');
SELECT is((SELECT count(*) FROM pg_description WHERE objoid = 'smam.activity_report_line'::regclass AND objsubid > 0),
  (SELECT count(*) FROM pg_attribute WHERE attrelid = 'smam.activity_report_line'::regclass AND attnum > 0),
  'every column of the view is documented');
SELECT ok(obj_description('smam.activity_report_line'::regclass, 'pg_class') IS NOT NULL, 'and the view');

-- ---- reproduced ----
SELECT is(tap.val('t_tbs', format('SELECT intact AND reproduced FROM smam.reproduce_report(%s)', :rep)), 'true',
  'the report reproduces as of its moment');
SELECT is(tap.val('t_analyst', format('SELECT intact AND reproduced FROM smam.reproduce_report(%s)', :rep_default)), 'true',
  'and so does the report of the default period');
SET TimeZone = 'Pacific/Pago_Pago';
SET DateStyle = 'German';
SET IntervalStyle = 'iso_8601';
SELECT is((SELECT intact AND reproduced FROM smam.reproduce_report(:rep)), true,
  'in a session with another time zone, date style and interval style too');
SELECT is((SELECT ARRAY[review_time_max = interval '15 days', period_from = smam.today() - 60]
             FROM line WHERE report_id = :rep AND department_id = :d1), ARRAY[true, true],
  'where the view reads the same durations and dates');
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
SELECT is(tap.act('t_head', format('SELECT smam.reproduce_report(%s)', :rep)), '42704 7.1.2',
  'a department cannot reproduce the entity''s report (nor see it)');
-- A review recorded after the report, dated in its period: the report
-- still reproduces (what it did not know is left out), a new one counts it.
SELECT tap.val('t_reviewer', $$SELECT smam.record_platform_review('facebook', 'security_risk', smam.today() - 40, 'accepted', NULL, 'SRA late')$$) AS late \gset
SET session_replication_role = replica;
UPDATE smam.platform_review SET recorded_at = now() + interval '1 hour' WHERE id = :late;
SET session_replication_role = DEFAULT;
SELECT is((SELECT reproduced FROM smam.reproduce_report(:rep)), true, 'a review recorded later does not change the frozen report');
SELECT is((SELECT l ->> 'platform_reviews' FROM jsonb_array_elements(
             smam.activity_report_content(smam.today() - 60, smam.today() - 30, now() + interval '2 hours') -> 'lines') l
            WHERE l ->> 'department_id' IS NULL), '3', 'while the period counted later has it');
-- The records changed under the report (the superuser moves a record out of
-- the period): intact, not reproduced.
SET session_replication_role = replica;
UPDATE smam.stage_history SET moved_at = tap.day(-29) WHERE account_id = :e AND to_stage = 'disposed';
SET session_replication_role = DEFAULT;
SELECT is((SELECT ARRAY[intact, reproduced] FROM smam.reproduce_report(:rep)), ARRAY[true, false],
  'records changed since: the frozen content is intact, the recomputation differs');
SET session_replication_role = replica;
UPDATE smam.stage_history SET moved_at = tap.day(-51) WHERE account_id = :e AND to_stage = 'disposed';
SET session_replication_role = DEFAULT;
SELECT is((SELECT reproduced FROM smam.reproduce_report(:rep)), true, 'put back, it reproduces again');
-- The frozen content altered.
UPDATE smam.compliance_report SET activities = jsonb_set(activities, '{lines,0,accounts_created}', '5') WHERE id = :rep;
SELECT is((SELECT ARRAY[intact, reproduced] FROM smam.reproduce_report(:rep)), ARRAY[false, false],
  'a tampered report is not intact and does not reproduce');
UPDATE smam.compliance_report SET activities = jsonb_set(activities, '{period_until}', to_jsonb(smam.date_text(smam.today() - 29)))
 WHERE id = :rep_default;
SELECT is((SELECT intact FROM smam.reproduce_report(:rep_default)), false, 'nor one whose period was altered');

-- ---- the compliance reports are as they were ----
SELECT tap.val('t_tbs', $$SELECT smam.request_report(NULL, smam.today() + 10, 'Compliance of the entity')$$) AS rq_c \gset
SELECT tap.val('t_entity', format('SELECT smam.submit_report(%s)', :rq_c)) AS rep_c \gset
SELECT is((SELECT ARRAY[activities IS NULL, jsonb_array_length(by_requirement) > 0]
             FROM smam.compliance_report WHERE id = :rep_c), ARRAY[true, true],
  'a compliance report freezes the picture and no activities');
SELECT is((SELECT content_sha256 FROM smam.compliance_report WHERE id = :rep_c),
  (SELECT encode(sha256(convert_to(by_requirement::text || findings::text, 'UTF8')), 'hex')
     FROM smam.compliance_report WHERE id = :rep_c), 'and its hash is the hash of its picture, as before');
SELECT is((SELECT reproduced FROM smam.reproduce_report(:rep_c)), true, 'it reproduces');
SELECT is((SELECT count(*) FROM smam.activity_report_line WHERE report_id = :rep_c), 0::bigint, 'and has no activity lines');
-- 7.3.1 findings read the activities requests as before: overdue when not submitted.
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now() + interval '30 days')
            WHERE requirement = '7.3.1' AND object_id = :rq_open), 1::bigint,
  'the open request, overdue, is a 7.3.1 finding');
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now() + interval '30 days')
            WHERE requirement = '7.3.1' AND object_id = :rq), 0::bigint, 'the submitted one is not');

SELECT * FROM finish();
ROLLBACK;

-- The public index and its feeds, publication, and compliance: each rule
-- met and not met, the 2.2 exemptions, reports frozen and reproduced as of
-- their moment, corrective action, and who sees what.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(114);

CREATE ROLE c_admin LOGIN;    GRANT smam_admin TO c_admin;
CREATE ROLE c_entity LOGIN;   GRANT smam_entity TO c_entity;
CREATE ROLE c_reviewer LOGIN; GRANT smam_entity TO c_reviewer;
CREATE ROLE c_tbs LOGIN;      GRANT smam_tbs TO c_tbs;
CREATE ROLE c_deputy LOGIN;   GRANT smam_department TO c_deputy;
CREATE ROLE c_head LOGIN;     GRANT smam_department TO c_head;
CREATE ROLE c_staff LOGIN;    GRANT smam_department TO c_staff;
CREATE ROLE c_other LOGIN;    GRANT smam_department TO c_other;
CREATE ROLE c_analyst LOGIN;  GRANT smam_analyst TO c_analyst;
CREATE ROLE c_public LOGIN;   GRANT smam_public TO c_public;

SELECT smam.register_principal('c_admin', 'Ada Admin', 'ada@example.gc.ca');
SELECT smam.appoint('c_admin', 'administrator', NULL, '2020-01-01');
SET ROLE c_admin;
CREATE TEMP TABLE d AS SELECT smam.add_department('Department of Examples', 'Ministère des Exemples') AS a,
                              smam.add_department('Other Department', 'Autre ministère') AS b;
SELECT smam.register_principal('c_entity', 'Erin Entity', 'erin@example.gc.ca');
SELECT smam.register_principal('c_reviewer', 'Rae Reviewer', 'rae@example.gc.ca');
SELECT smam.register_principal('c_tbs', 'Tom TBS', 'tom@example.gc.ca');
SELECT smam.register_principal('c_deputy', 'Dora Deputy', 'dora@example.gc.ca', (SELECT a FROM d));
SELECT smam.register_principal('c_head', 'Hana Head', 'hana@example.gc.ca', (SELECT a FROM d));
SELECT smam.register_principal('c_staff', 'Sam Staff', 'sam@example.gc.ca', (SELECT a FROM d));
SELECT smam.register_principal('c_other', 'Otto Other', 'otto@example.gc.ca', (SELECT b FROM d));
SELECT smam.appoint('c_entity', 'entity_official', NULL, '2020-01-01');
SELECT smam.appoint('c_reviewer', 'entity_reviewer', NULL, '2020-01-01');
SELECT smam.appoint('c_tbs', 'tbs_analyst', NULL, '2020-01-01');
SELECT smam.appoint('c_deputy', 'deputy_head', (SELECT a FROM d), '2020-01-01');
SELECT smam.appoint('c_head', 'head_of_communications', (SELECT a FROM d), '2020-01-01');
SELECT smam.appoint('c_staff', 'department_staff', (SELECT a FROM d), '2020-01-01');
SELECT smam.appoint('c_other', 'deputy_head', (SELECT b FROM d), '2020-01-01');
-- The requirements not effective immediately are in force from a date the
-- Secretary communicated (section 1.2).
SELECT smam.record_effective_date(c, '2014-01-01', 'test communication')
  FROM unnest(ARRAY['6.1.3', '6.2.1', '6.2.2', '6.2.3', '6.2.4', '7.3.1', '7.3.2', '8.1']) c;
RESET ROLE;
GRANT SELECT ON d TO PUBLIC;

-- Department a walks account A through its life cycle: strategy, plan,
-- pre-reviewed platform, submissions accepted, specifications met.
SET ROLE c_staff;
CREATE TEMP TABLE w AS SELECT
  smam.draft_strategy((SELECT a FROM d), 'Strategy', mandate => 'm', business_value => 'b', alignment => 'a',
                      governance => 'g', performance_evaluation => 'p', lessons_learned => 'l') AS strategy,
  smam.draft_plan((SELECT a FROM d), 'Plan', business_drivers => 'b', resources => 'r', responsibilities => 'r',
                  risk_management => 'r', management_protocols => 'm', performance_measurement => 'p',
                  communications_plan => 'c') AS plan;
GRANT SELECT ON w TO PUBLIC;
SELECT smam.plan_pia((SELECT plan FROM w), 'x');
RESET ROLE;
SET ROLE c_head;
SELECT smam.approve_strategy((SELECT strategy FROM w));
SELECT smam.approve_plan((SELECT plan FROM w));
RESET ROLE;
SET ROLE c_reviewer;
SELECT count(smam.record_platform_review('x', k, smam.today() - 30, 'accepted', smam.today() + 335, 'review ' || k))
  FROM unnest(enum_range(NULL::smam.platform_review_kind)) k;
RESET ROLE;
SET ROLE c_staff;
CREATE TEMP TABLE acc AS SELECT
  smam.plan_account((SELECT a FROM d), 'x', 'https://twitter.com/ExampleDept/', 'Examples <b>"&" Co</b>', 'Exemples l''officiel',
                    'bilingual', 'Notices', (SELECT plan FROM w)) AS x;
GRANT SELECT ON acc TO PUBLIC;
RESET ROLE;
CREATE TEMP TABLE cfg AS SELECT '{"avatar": "fip:canada-wordmark", "display_name": "Examples Canada",
  "notice_url": "https://www.canada.ca/en/examples/notices.html",
  "description_en": "Notices", "description_fr": "Avis"}'::jsonb AS c;
GRANT SELECT ON cfg TO PUBLIC;
SET ROLE c_head;
CREATE TEMP TABLE sub AS SELECT smam.submit((SELECT x FROM acc), 'creation', 'create') AS creation;
GRANT SELECT ON sub TO PUBLIC;
RESET ROLE;
SET ROLE c_reviewer;
SELECT smam.review_submission((SELECT creation FROM sub), true, 'ok');
RESET ROLE;
SET ROLE c_entity;
SELECT smam.transition((SELECT x FROM acc), 'creation');
RESET ROLE;
SET ROLE c_head;
CREATE TEMP TABLE sub1 AS SELECT smam.submit((SELECT x FROM acc), 'configuration', 'configure', (SELECT c FROM cfg)) AS id;
GRANT SELECT ON sub1 TO PUBLIC;
RESET ROLE;
SET ROLE c_reviewer;
SELECT smam.review_submission((SELECT id FROM sub1), true, 'ok');
RESET ROLE;
SET ROLE c_entity;
SELECT smam.transition((SELECT x FROM acc), 'configuration');
RESET ROLE;
SET ROLE c_head;
SELECT smam.transition((SELECT x FROM acc), 'implementation', 'Live');
RESET ROLE;
-- Department b's account B exists already: onboarded from the index.
SET ROLE c_entity;
CREATE TEMP TABLE accb AS SELECT smam.onboard_account((SELECT b FROM d), 'facebook', 'facebook.com/OtherDept', 'Other', NULL,
                                        'english', 'listed in the canada.ca index', NULL, '2026-01-16') AS f;
GRANT SELECT ON accb TO PUBLIC;
RESET ROLE;

-- ---- The public index and its exports ----
SET ROLE c_public;
SELECT is((SELECT count(*) FROM smam.public_index), 2::bigint, 'the public reads the index');
SELECT is((SELECT url FROM smam.public_index WHERE platform = 'X'), 'https://x.com/ExampleDept',
  'with canonical URLs');
SELECT is(smam.public_index_feed('en') -> 'aaData' -> 0,
  jsonb_build_array('Examples &lt;b&gt;&quot;&amp;&quot; Co&lt;/b&gt;', '<span class="label label-default">X</span>',
                    '<span>Department</span>: Department of Examples', '<span>Language</span>: Bilingual',
                    '<a class="product-link btn btn-primary" href="https://x.com/ExampleDept"><span class="wb-inv">Department of Examples - </span>Go to social media account</a>'),
  'the English feed entry is in canada.ca''s markup, every text escaped for HTML, the link naming whose account it is');
SELECT is(smam.public_index_feed('fr') -> 'aaData' -> 1,
  jsonb_build_array('Exemples l&#39;officiel', '<span class="label label-default">X</span>',
                    '<span>Ministère </span>: Ministère des Exemples', '<span>Langue</span>: Bilingue',
                    '<a class="product-link btn btn-primary" href="https://x.com/ExampleDept"><span class="wb-inv">Ministère des Exemples - </span>Aller au compte de média social</a>'),
  'the French feed has French labels, names and language, and the department''s French name in its link');
SELECT is(smam.public_index_feed('fr') -> 'aaData' -> 0 ->> 3, '<span>Langue</span>: Anglais', 'an English account reads Anglais in French');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(smam.public_index_feed('en')) k), ARRAY['aaData'],
  'the feed is {"aaData": [...]} and nothing else');
SELECT is(smam.public_index_feed_json('fr')::jsonb, smam.public_index_feed('fr'), 'the feed as json text says the same, French');
SELECT is(smam.public_index_feed_json('en')::jsonb, smam.public_index_feed('en'), 'and English');
SELECT is((smam.public_index_document() ->> 'count')::int, 2, 'the JSON document counts the accounts');
SELECT is(smam.public_index_document() -> 'accounts' -> 1 -> 'name', '{"en": "Examples <b>\"&\" Co</b>", "fr": "Exemples l''officiel"}'::jsonb,
  'and carries both names unescaped');
SELECT throws_ok($$ SELECT smam.public_index_feed('de') $$, '22023', 'feed language "de" is not en or fr', 'a feed is en or fr');
SELECT throws_ok($$ SELECT * FROM smam.compliance_findings $$, '42501', NULL, 'the public reads no compliance');
SELECT throws_ok($$ SELECT * FROM smam.account $$, '42501', NULL, 'nor accounts');
SELECT throws_ok($$ SELECT smam.publish_index() $$, '42501', NULL, 'nor publishes');
RESET ROLE;

-- ---- 6.2.4: every live account in the last published index ----
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.4'), 'not met',
  '6.2.4 is not met before the index is published');
SELECT is((SELECT count(*) FROM smam.compliance_findings WHERE requirement = '6.2.4'), 2::bigint,
  'with one finding per live account');
SET ROLE c_deputy;
SELECT throws_ok($$ SELECT smam.publish_index() $$, '42501', NULL, 'a department does not publish the index');
RESET ROLE;
SET ROLE c_entity;
SELECT ok(smam.publish_index() > 0, 'the entity publishes the index');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.4'), 'met', '6.2.4 is met once published');
SET DateStyle = 'SQL, DMY';
SELECT is((SELECT unpublished_changes FROM smam.index_publication_status()), 0::bigint,
  'a session writing dates day first sees the same publication unchanged');
RESET DateStyle;
SELECT is((SELECT content_sha256 FROM smam.index_snapshot),
  encode(sha256(convert_to((smam.public_index_document() -> 'accounts')::text, 'UTF8')), 'hex'),
  'the publication keeps the hash of what it published');
-- A renamed account (an accepted configuration submission) is not yet
-- republished: a finding.
SET ROLE c_head;
CREATE TEMP TABLE sub2 AS SELECT smam.submit((SELECT x FROM acc), 'configuration', 'rename', (SELECT c FROM cfg), name_en => 'Examples renamed') AS id;
GRANT SELECT ON sub2 TO PUBLIC;
RESET ROLE;
SET ROLE c_reviewer;
SELECT smam.review_submission((SELECT id FROM sub2), true, 'ok');
RESET ROLE;
SET ROLE c_head;
UPDATE smam.account SET name_en = 'Examples renamed' WHERE id = (SELECT x FROM acc);
RESET ROLE;
SELECT is((SELECT problem FROM smam.compliance_findings WHERE requirement = '6.2.4'),
  format('The index published %s lists account %s with details that have changed since.', to_char(now() AT TIME ZONE 'America/Toronto', 'YYYY-MM-DD HH24:MI:SS') || ' America/Toronto', (SELECT x FROM acc)),
  'a change not yet republished is a finding');
SELECT is((SELECT unpublished_changes FROM smam.index_publication_status()), 1::bigint,
  'and the publication status says the index changed');
SET ROLE c_entity;
SELECT ok(smam.publish_index() > 0, 'the entity publishes again');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.4'), 'met', 'and 6.2.4 is met again');
SELECT is((SELECT count(*) FROM smam.index_snapshot), 2::bigint, 'each publication is kept');

-- ---- 6.1: the walked account meets every rule; the onboarded one shows what it lacks ----
SELECT is((SELECT array_agg(requirement || ' ' || status ORDER BY requirement) FROM smam.compliance_by_department
            WHERE department_id = (SELECT a FROM d) AND requirement IN ('6.1.1', '6.1.2', '6.1.3', '6.1.5')),
  ARRAY['6.1.1 met', '6.1.2 met', '6.1.3 met', '6.1.5 met'],
  'the department that walked its account through the life cycle meets 6.1.1, 6.1.2, 6.1.3 and 6.1.5');
SELECT is((SELECT array_agg(requirement || ' ' || status ORDER BY requirement) FROM smam.compliance_by_department
            WHERE department_id = (SELECT b FROM d) AND requirement IN ('6.1.1', '6.1.2', '6.1.3', '6.1.5')),
  ARRAY['6.1.1 not met', '6.1.2 not met', '6.1.3 not met', '6.1.5 not met'],
  'the department with an onboarded account meets none of them');
SELECT is((SELECT array_agg(problem ORDER BY requirement) FROM smam.compliance_findings
            WHERE department_id = (SELECT b FROM d) AND requirement LIKE '6.1.%'),
  ARRAY['The department has no approved departmental social media strategy in force on ' || smam.today() || '.',
        format('Account %s is live without an implementation plan.', (SELECT f FROM accb)),
        format('Account %s was onboarded (listed in the canada.ca index): no creation or configuration submission is on record.', (SELECT f FROM accb)),
        format('Account %s does not meet the technical specifications: gc_avatar, identifiable_name, notice_link, official_languages.', (SELECT f FROM accb))],
  'the onboarded account shows exactly what it lacks');
SELECT is((SELECT status FROM smam.compliance_by_department WHERE department_id = (SELECT a FROM d) AND requirement = '6.1.4'),
  'not applicable', 'a requirement not yet in force is not applicable (section 1.2)');
SELECT is((SELECT status_reason FROM smam.compliance_by_department WHERE department_id = (SELECT a FROM d) AND requirement = '6.1.4'),
  'not yet in force', 'and says why');
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.5'),
  'not applicable', '6.2.5 is not in force here either');
-- Once 6.1.4 and 6.2.5 are in force, the tool's absence is a finding.
SET ROLE c_admin;
SELECT smam.record_effective_date('6.1.4', '2014-01-01', 'test communication');
SELECT smam.record_effective_date('6.2.5', '2014-01-01', 'test communication');
RESET ROLE;
SELECT is((SELECT problem FROM smam.compliance_findings WHERE requirement = '6.1.4' AND object_id = (SELECT f FROM accb)),
  format('Account %s is not managed in the platform management tool: no enabled connector for %s.', (SELECT f FROM accb),
         (SELECT platform FROM smam.account WHERE id = (SELECT f FROM accb))),
  '6.1.4: a live account without a connector for its platform is not managed in the tool');
SELECT is((SELECT status FROM smam.compliance_by_department WHERE department_id = (SELECT b FROM d) AND requirement = '6.1.4'),
  'not met', '6.1.4 is not met for its department');
SELECT ok((SELECT count(*) FROM smam.compliance_findings WHERE requirement = '6.2.5' AND object_type = 'platform') > 0,
  '6.2.5: a platform with live accounts and no connector is a finding for the entity');

-- 6.1.2: evaluations within the standard the entity sets.
SET ROLE c_staff;
SELECT throws_ok($$ SELECT smam.set_service_standard('evaluation', '30 days') $$, '42501', NULL, 'only the entity sets a service standard');
RESET ROLE;
SET ROLE c_entity;
SELECT lives_ok($$ SELECT smam.set_service_standard('evaluation', '30 days') $$, 'the entity sets the evaluation standard');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '20 days')
            WHERE department_id = (SELECT a FROM d) AND requirement = '6.1.2'), 'met', 'within it, 6.1.2 is met');
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now() + interval '40 days')
            WHERE department_id = (SELECT a FROM d) AND requirement = '6.1.2' AND problem LIKE '%no evaluation completed within 30 days%'),
  1::bigint, 'beyond it, an account not evaluated is a finding');

-- ---- 6.2: the entity ----
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.1'), 'not assessed',
  '6.2.1 is not assessed while the entity has set no service standard for reviews');
SET ROLE c_entity;
SELECT smam.set_service_standard('submission_review', '10 days');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.1'), 'met',
  'every submission was reviewed within 10 days');
SET ROLE c_head;
CREATE TEMP TABLE sub3 AS SELECT smam.submit((SELECT x FROM acc), 'disposition', 'programme ends') AS id;
GRANT SELECT ON sub3 TO PUBLIC;
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '20 days') WHERE requirement = '6.2.1'),
  'not met', 'a submission waiting beyond the standard is a finding (6.2.1)');
SELECT is((SELECT problem FROM smam.compliance_findings_as_of(now() + interval '20 days')
            WHERE requirement = '6.2.1' AND object_id = (SELECT id FROM sub3)),
  format('Submission %s (disposition of account %s) has waited since %s, beyond the service standard of 10 days.',
         (SELECT id FROM sub3), (SELECT x FROM acc), smam.today()),
  'and says how long it has waited and what the standard is');
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.2'), 'met',
  'the entity made every creation and configuration (6.2.2)');
SELECT is((SELECT object_label FROM smam.compliance_findings WHERE requirement = '6.2.3'), 'facebook',
  'Facebook is in use without being pre-reviewed (6.2.3)');
SET ROLE c_reviewer;
SELECT count(smam.record_platform_review('facebook', k, smam.today() - 30, 'accepted', smam.today() + 335, 'review ' || k))
  FROM unnest(enum_range(NULL::smam.platform_review_kind)) k;
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '6.2.3'), 'met',
  'once reviewed, 6.2.3 is met');

-- ---- 7.2.3: the review of the Standard ----
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '7.2.3'), 'not met',
  '7.2.3 is not met without a review initiated by 2018-04-01');
SET ROLE c_deputy;
SELECT throws_ok($$ SELECT smam.record_standard_review('2017-06-01', 'framework') $$, '42501', NULL, 'only TBS records the review');
RESET ROLE;
SET ROLE c_tbs;
SELECT throws_ok($$ SELECT smam.record_standard_review('2012-06-01', 'framework') $$, '22023', NULL, 'not before the Standard');
SELECT lives_ok($$ SELECT smam.record_standard_review('2018-03-30', 'Review framework of the Standard') $$, 'TBS records a review');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department WHERE requirement = '7.2.3'), 'met', 'then 7.2.3 is met');

-- ---- 7.1.2: reporting, frozen reports ----
SET ROLE c_tbs;
CREATE TEMP TABLE rq AS SELECT smam.request_report((SELECT a FROM d), smam.today() + 10, 'Compliance 2026') AS a,
                               smam.request_report((SELECT b FROM d), smam.today() + 10, 'Compliance 2026') AS b;
SELECT throws_ok($$ SELECT smam.request_report(-1, smam.today() + 10, 'Compliance 2026') $$, '42501', NULL,
  'section 2.2: TBS requests no report from the Auditor General');
SELECT throws_like($$ SELECT smam.request_report(-1, smam.today() + 10, 'Compliance 2026') $$,
  '%', 'the 2.2 refusal is a refusal');
SELECT throws_ok($$ SELECT smam.request_report((SELECT a FROM d), smam.today() - 1, 'late') $$, '22023', NULL,
  'a report cannot be due in the past');
RESET ROLE;
GRANT SELECT ON rq TO PUBLIC;
SELECT is((SELECT status FROM smam.compliance_by_department WHERE department_id = (SELECT a FROM d) AND requirement = '7.1.2'),
  'met', 'a request not yet due is no finding');
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '30 days')
            WHERE department_id = (SELECT a FROM d) AND requirement = '7.1.2'),
  'not met', 'an overdue request is a finding (7.1.2)');
SELECT is((SELECT status FROM smam.compliance_by_department WHERE department_id = -1 AND requirement = '7.1.2'),
  'not applicable', 'and 7.1.2 does not apply to an agent of Parliament (2.2)');
SELECT is((SELECT status FROM smam.compliance_by_department WHERE department_id = -1 AND requirement = '6.1.2'),
  'met', 'while 6.1 does');
SET ROLE c_deputy;
SELECT throws_ok($$ SELECT smam.submit_report((SELECT b FROM rq)) $$, '42704', NULL,
  'another department''s deputy head cannot answer the request (nor sees it)');
SELECT lives_ok($$ SELECT smam.submit_report((SELECT a FROM rq)) $$, 'the deputy head answers');
SELECT throws_ok($$ SELECT smam.submit_report((SELECT a FROM rq)) $$, '23505', NULL, 'a request is answered once');
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '30 days')
            WHERE department_id = (SELECT a FROM d) AND requirement = '7.1.2'),
  'met', 'a submitted report meets 7.1.2');
RESET ROLE;
SET ROLE c_other;
CREATE TEMP TABLE rep AS SELECT smam.submit_report((SELECT b FROM rq), 'We are working on it') AS id;
SELECT ok((SELECT count(*) FROM smam.compliance_findings) > 0
          AND (SELECT count(*) FROM smam.compliance_findings) = (SELECT count(*) FROM smam.compliance_findings WHERE department_id = (SELECT b FROM d)),
  'a department sees only its own findings');
SELECT is((SELECT count(DISTINCT department_id) FROM smam.compliance_by_department), 1::bigint,
  'and only its own status');
SELECT is((SELECT array_agg(DISTINCT f ->> 'requirement') FROM smam.compliance_report r, jsonb_array_elements(r.findings) f
            WHERE r.id = (SELECT id FROM rep)), ARRAY['6.1.1', '6.1.2', '6.1.3', '6.1.4', '6.1.5'],
  'the frozen report holds the department''s findings');
SELECT is((SELECT reproduced FROM smam.reproduce_report((SELECT id FROM rep))), true, 'the report reproduces as of its moment');
SET TimeZone = 'Pacific/Kiritimati';
SET DateStyle = 'German';
SET IntervalStyle = 'iso_8601';
SELECT is((SELECT reproduced FROM smam.reproduce_report((SELECT id FROM rep))), true,
  'and reproduces in a session with another time zone, date style and interval style');
RESET TimeZone;
RESET DateStyle;
RESET IntervalStyle;
RESET ROLE;
-- A later event: a request stamped an hour after the report's moment.
INSERT INTO smam.report_request (department_id, kind, subject, due_on, requested_at)
VALUES ((SELECT b FROM d), 'compliance', 'Later request', smam.today() + 1, now() + interval '1 hour');
SELECT is((SELECT reproduced FROM smam.reproduce_report((SELECT id FROM rep))), true,
  'a report still reproduces after later events');
SELECT is((SELECT count(*) FROM smam.compliance_findings_as_of(now() + interval '3 days')
            WHERE department_id = (SELECT b FROM d) AND requirement = '7.1.2'), 1::bigint,
  'while the picture of a later moment shows the overdue request');
UPDATE smam.compliance_report SET findings = '[]' WHERE id = (SELECT id FROM rep);
SELECT is((SELECT reproduced FROM smam.reproduce_report((SELECT id FROM rep))), false, 'a tampered report does not reproduce');

-- ---- 7.3: reports from the entity; refusals ----
SET ROLE c_tbs;
CREATE TEMP TABLE rqe AS SELECT smam.request_report(NULL, smam.today() + 10, 'Activities 2026', 'activities') AS id,
                                smam.request_report(NULL, smam.today() + 10, 'Compliance 2026', 'compliance') AS compliance;
GRANT SELECT ON rqe TO PUBLIC;
SELECT throws_ok($$ SELECT smam.request_report((SELECT a FROM d), smam.today() + 10, 'x', 'activities') $$, '22023', NULL,
  'a department reports on compliance, not on activities (7.3.1 is the entity''s)');
SELECT throws_ok($$ SELECT smam.request_report(NULL, smam.today() + 10, 'x', 'gossip') $$, '22023', NULL,
  'a report is of a known kind');
SELECT throws_ok($$ SELECT smam.record_consequence((SELECT a FROM d), 'fine', 'x') $$, '22023', NULL,
  'a consequence is one of section 8.2');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '30 days') WHERE requirement = '7.3.1'),
  'not met', 'an overdue activity report is the entity''s finding (7.3.1)');
SET ROLE c_deputy;
SELECT throws_ok($$ SELECT smam.submit_report((SELECT id FROM rqe)) $$, '42704', NULL, 'a deputy head does not answer for the entity (nor sees its request)');
RESET ROLE;
SET ROLE c_entity;
SELECT lives_ok($$ SELECT smam.submit_report((SELECT id FROM rqe), 'Activities as requested') $$, 'the entity answers');
SELECT smam.submit_report((SELECT compliance FROM rqe), 'Compliance as requested');
SELECT throws_ok($$ SELECT smam.submit_report(999999) $$, '42704', 'report request 999999 does not exist or is not visible to you', 'an unknown request is refused');
SELECT throws_ok($$ SELECT smam.set_service_standard('lunch', '1 hour') $$, '22023', NULL, 'an unknown service standard is refused');
SELECT throws_ok($$ SELECT smam.set_service_standard('evaluation', '-1 day') $$, '22023', NULL, 'and a duration that is not positive');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '30 days') WHERE requirement = '7.3.1'),
  'met', 'answered, 7.3.1 is met');
SELECT is((SELECT count(DISTINCT e ->> 'department_id') FROM smam.compliance_report r, jsonb_array_elements(r.by_requirement) e
            WHERE r.request_id = (SELECT compliance FROM rqe)), (SELECT count(*) FROM smam.department),
  'the entity''s compliance report freezes the picture of every department');
SELECT is((SELECT count(*) FROM smam.activity_report_line WHERE request_id = (SELECT id FROM rqe)),
  (SELECT count(*) + 1 FROM smam.department),
  'its activities report (7.3.1) is not that picture: a line of activities per department, and the total');
SELECT throws_ok($$ SELECT * FROM smam.reproduce_report(999999) $$, '42704', 'report 999999 does not exist or is not visible to you', 'an unknown report cannot be reproduced');

-- ---- 8.1, 7.2.2, 8.2: corrective action ----
SET ROLE c_tbs;
CREATE TEMP TABLE ca AS SELECT smam.recommend_corrective_action((SELECT a FROM d), '6.1.3', 'Submit the onboarded accounts', smam.today() + 5) AS id;
SELECT throws_ok($$ SELECT smam.recommend_corrective_action(-3, '6.1.3', 'x', smam.today() + 5) $$, '42501', NULL,
  'section 2.2: no corrective action for the Information Commissioner');
SELECT throws_ok($$ SELECT smam.record_consequence(-7, 'other_measure', 'x') $$, '42501', NULL,
  'nor 8.2 consequences for an agent of Parliament');
SELECT throws_ok($$ SELECT smam.recommend_corrective_action((SELECT a FROM d), '9.9', 'x', smam.today() + 5) $$, '22023', NULL,
  'a corrective action names a requirement of the Standard');
SELECT lives_ok($$ SELECT smam.record_consequence((SELECT a FROM d), 'spending_authority_limits', 'Recommend limits', (SELECT id FROM ca)) $$,
  'TBS records an 8.2 consequence');
-- 7.2.2: a finding key is a finding of that requirement and department now.
SELECT throws_ok($$ SELECT smam.recommend_corrective_action((SELECT a FROM d), '6.1.3', 'x', smam.today() + 5, 'no/such/key') $$,
  '22023', format('"no/such/key" is not a finding of requirement 6.1.3 for department %s now', (SELECT a FROM d)),
  'a corrective action does not name a finding that does not exist');
CREATE TEMP TABLE key_a AS SELECT f.finding_key AS k, f.requirement AS r FROM smam.compliance_findings f
  WHERE f.department_id = (SELECT a FROM d) AND f.requirement LIKE '6.1.%' ORDER BY f.finding_key LIMIT 1;
SELECT isnt((SELECT k FROM key_a), NULL, 'the department has a finding to correct');
SELECT throws_ok(format($$ SELECT smam.recommend_corrective_action(%s, %L, 'x', smam.today() + 5, %L) $$, (SELECT b FROM d),
                        (SELECT r FROM key_a), (SELECT k FROM key_a)),
  '22023', NULL, 'nor another department''s finding');
CREATE TEMP TABLE ca2 AS SELECT smam.recommend_corrective_action((SELECT a FROM d), (SELECT r FROM key_a), 'Correct it', smam.today() + 5,
                                                                (SELECT k FROM key_a)) AS id;
SELECT is((SELECT finding_key FROM smam.corrective_action WHERE id = (SELECT id FROM ca2)), (SELECT k FROM key_a),
  'a corrective action names one of the department''s current findings');
-- 7.2.2: "a department or the entity": NULL addresses the entity, on its own requirements.
SELECT throws_ok($$ SELECT smam.recommend_corrective_action(NULL, '6.1.3', 'x', smam.today() + 5) $$, '22023',
  'requirement 6.1.3 does not bind the entity', 'the entity is not answerable for a department''s requirement');
SELECT throws_ok(format($$ SELECT smam.recommend_corrective_action(%s, '6.2.1', 'x', smam.today() + 5) $$, (SELECT a FROM d)), '22023',
  format('requirement 6.2.1 does not bind department %s', (SELECT a FROM d)), 'nor a department for the entity''s');
CREATE TEMP TABLE ca_entity AS SELECT smam.recommend_corrective_action(NULL, '6.2.1', 'Review within the standard', smam.today() + 5) AS id;
RESET ROLE;
GRANT SELECT ON ca_entity, ca2 TO PUBLIC;
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '30 days')
            WHERE department_id IS NULL AND party = 'entity' AND requirement = '6.2.1'), 'not met',
  'the entity''s overdue corrective action is a finding of the requirement it corrects');
SET ROLE c_deputy;
SELECT throws_ok($$ SELECT smam.record_corrective_measure((SELECT id FROM ca_entity), 'done') $$, '42704', NULL,
  'a department records no measure on the entity''s action');
RESET ROLE;
SET ROLE c_entity;
SELECT lives_ok($$ SELECT smam.record_corrective_measure((SELECT id FROM ca_entity), 'Reviews caught up', true) $$,
  'the entity''s official records the entity''s measure');
RESET ROLE;
GRANT SELECT ON ca TO PUBLIC;
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '30 days')
            WHERE department_id = (SELECT a FROM d) AND requirement = '8.1'), 'not met', 'an overdue corrective action is a finding (8.1)');
SET ROLE c_other;
SELECT throws_ok($$ SELECT smam.record_corrective_measure((SELECT id FROM ca), 'done') $$, '42704', NULL,
  'another department''s deputy head records no measure (nor sees the action)');
RESET ROLE;
SET ROLE c_deputy;
SELECT throws_ok($$ SELECT smam.record_corrective_measure((SELECT id FROM ca), ' ') $$, '22023', NULL, 'a measure says what was done');
SELECT lives_ok($$ SELECT smam.record_corrective_measure((SELECT id FROM ca), 'Submissions filed', true) $$, 'the deputy head records the measure');
SELECT lives_ok($$ SELECT smam.record_corrective_measure((SELECT id FROM ca2), 'Plans attached', true) $$, 'and completes the other');
SELECT throws_ok($$ SELECT smam.record_corrective_measure((SELECT id FROM ca), 'again') $$, '55000', NULL, 'a completed action takes no more');
RESET ROLE;
SELECT is((SELECT status FROM smam.compliance_by_department_as_of(now() + interval '30 days')
            WHERE department_id = (SELECT a FROM d) AND requirement = '8.1'), 'met', 'completed, it is no finding');

-- ---- Who reads compliance ----
SET ROLE c_analyst;
SELECT ok((SELECT count(DISTINCT department_id) FROM smam.compliance_findings) >= 2, 'an analyst reads every department''s findings');
SELECT ok((SELECT count(*) FROM smam.compliance_summary) = 15, 'and the summary of every requirement assessed');
SELECT throws_ok($$ SELECT smam.request_report((SELECT a FROM d), smam.today() + 10, 'x') $$, '42501', NULL, 'but requests nothing');
RESET ROLE;
SET ROLE c_other;
SELECT is((SELECT count(*) FROM smam.compliance_findings WHERE department_id = (SELECT a FROM d)), 0::bigint,
  'a department does not see another''s findings');
RESET ROLE;
SELECT is((SELECT count(*) FROM pg_description WHERE objoid = 'smam.compliance_findings'::regclass AND objsubid > 0),
  10::bigint, 'every column of compliance_findings is documented');

-- ---- 6.2.2: a disposal without its archive record, enforcement suspended ----
SET ROLE c_reviewer;
SELECT smam.review_submission((SELECT id FROM sub3), true, 'ok');
RESET ROLE;
SET ROLE c_entity;
SELECT smam.transition((SELECT x FROM acc), 'disposition', 'programme ended');
RESET ROLE;
SELECT smam.set_enforcement(false, 'test: suspended');
SET ROLE c_entity;
SELECT smam.transition((SELECT x FROM acc), 'disposed', 'no archive');
RESET ROLE;
SELECT smam.set_enforcement(true, 'test: enforced again');
SELECT is((SELECT problem FROM smam.compliance_findings WHERE requirement = '6.2.2'),
  format('Account %s was disposed of on %s without an archive record.', (SELECT x FROM acc), smam.today()),
  'a disposal without its archive record is a finding (6.2.2)');
-- Kiritimati is 25 hours ahead of Pago Pago: in one of them, at any moment,
-- the date differs from Toronto's.
SET TimeZone = 'Pacific/Kiritimati';
SELECT is((SELECT problem FROM smam.compliance_findings WHERE requirement = '6.2.2'),
  format('Account %s was disposed of on %s without an archive record.', (SELECT x FROM acc), (now() AT TIME ZONE 'America/Toronto')::date),
  'the finding writes the date in smam.time_zone, not in a session east of it');
SET TimeZone = 'Pacific/Pago_Pago';
SELECT is((SELECT problem FROM smam.compliance_findings WHERE requirement = '6.2.2'),
  format('Account %s was disposed of on %s without an archive record.', (SELECT x FROM acc), (now() AT TIME ZONE 'America/Toronto')::date),
  'nor in a session west of it');
RESET TimeZone;
-- Every finding reads the same in every session: dates YYYY-MM-DD, durations
-- in IntervalStyle postgres, whatever the session's styles.
CREATE TEMP TABLE iso_findings AS
  SELECT array_agg(finding_key || ': ' || problem ORDER BY finding_key, problem) AS texts
    FROM smam.compliance_findings_as_of(now() + interval '40 days');
SELECT ok((SELECT count(*) FROM iso_findings, unnest(texts) t WHERE t ~ '\d{4}-\d{2}-\d{2}') > 1
          AND (SELECT count(*) FROM iso_findings, unnest(texts) t WHERE t ~ 'within 30 days') > 0,
  'findings name dates and durations');
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SET TimeZone = 'Pacific/Kiritimati';
SELECT is((SELECT array_agg(finding_key || ': ' || problem ORDER BY finding_key, problem)
             FROM smam.compliance_findings_as_of(now() + interval '40 days')), (SELECT texts FROM iso_findings),
  'and write them the same under DateStyle SQL, DMY and IntervalStyle sql_standard');
RESET DateStyle;
RESET IntervalStyle;
RESET TimeZone;
SELECT is((SELECT problem FROM smam.compliance_findings WHERE requirement = '6.2.4'),
  format('The index published %s lists account %s, which is no longer live (disposed).', to_char(now() AT TIME ZONE 'America/Toronto', 'YYYY-MM-DD HH24:MI:SS') || ' America/Toronto', (SELECT x FROM acc)),
  'and the published index still lists the disposed account (6.2.4)');

SELECT * FROM finish();
ROLLBACK;

-- One official account through its whole life (6.1.2), acting as the
-- smam_* roles: strategy and plan approved, platform pre-reviewed,
-- submissions reviewed, then planning -> creation -> configuration ->
-- implementation -> evaluation -> implementation -> disposition -> disposed.
\set VERBOSITY default
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE lc_admin LOGIN;    GRANT smam_admin TO lc_admin;
CREATE ROLE lc_staff LOGIN;    GRANT smam_department TO lc_staff;
CREATE ROLE lc_head LOGIN;     GRANT smam_department TO lc_head;
CREATE ROLE lc_entity LOGIN;   GRANT smam_entity TO lc_entity;
CREATE ROLE lc_reviewer LOGIN; GRANT smam_entity TO lc_reviewer;
SELECT smam.register_principal('lc_admin', 'Ada Admin', 'ada@example.gc.ca');
SELECT smam.appoint('lc_admin', 'administrator') > 0 AS appointed;

-- The administrator sets up the department and the offices.
SET ROLE lc_admin;
SELECT smam.add_department('Department of Examples', 'Ministère des exemples') AS dept \gset
SELECT smam.register_principal('lc_staff', 'Sam Staff', 'sam@example.gc.ca', :dept),
       smam.register_principal('lc_head', 'Hana Head', 'hana@example.gc.ca', :dept),
       smam.register_principal('lc_entity', 'Eli Entity', 'eli@example.gc.ca'),
       smam.register_principal('lc_reviewer', 'Rae Reviewer', 'rae@example.gc.ca');
SELECT smam.appoint('lc_staff', 'department_staff', :dept) > 0 AS staff,
       smam.appoint('lc_head', 'head_of_communications', :dept) > 0 AS head,
       smam.appoint('lc_entity', 'entity_official') > 0 AS entity,
       smam.appoint('lc_reviewer', 'entity_reviewer') > 0 AS reviewer;

-- Staff draft the departmental strategy (6.1.1); the head approves it.
SET ROLE lc_staff;
SELECT smam.draft_strategy(:dept, 'Social media strategy 2026-2029',
  mandate => 'Inform Canadians about examples', business_value => 'Reach 40% more readers',
  alignment => 'Open Government', governance => 'Head of communications approves',
  performance_evaluation => 'Quarterly reach and engagement', lessons_learned => 'From peers') AS strategy \gset
SELECT smam.approve_strategy(:strategy);
SET ROLE lc_head;
SELECT smam.approve_strategy(:strategy, 'Approved for 2026-2029');
SELECT status, version, authors, decided_by, decided_office FROM smam.strategy;

-- Staff draft the implementation plan (6.1.2) relying on the model PIA for X.
SET ROLE lc_staff;
SELECT smam.draft_plan(:dept, 'X account for examples',
  business_drivers => 'Timely notices', resources => 'One officer, 0.2 FTE',
  responsibilities => 'Officer publishes, head approves', risk_management => 'Risk register R-12',
  management_protocols => 'Moderation protocol', performance_measurement => 'Monthly report',
  communications_plan => 'Launch announcement') AS plan \gset
SELECT smam.plan_missing(:plan) AS missing_before_pia;
SELECT smam.plan_pia(:plan, 'Twitter');
SELECT smam.plan_missing(:plan) AS missing_after_pia;
SET ROLE lc_head;
SELECT smam.approve_plan(:plan);

-- Staff plan the account; the head submits its creation to the entity.
SET ROLE lc_staff;
SELECT smam.plan_account(:dept, 'x', 'http://twitter.com/ExampleDept?lang=en',
  'Department of Examples', 'Ministère des exemples', 'bilingual', 'Notices', :plan) AS account \gset
SELECT id = :account AS same, stage, url, handle, listed_on FROM smam.account;
SET ROLE lc_head;
SELECT smam.submit(:account, 'creation', 'Please create @ExampleDept') AS creation \gset

-- The entity's reviews of X (6.2.3.1, 6.2.3.2): until then X is not pre-reviewed.
SELECT platform, pre_reviewed, cardinality(gaps) AS gaps FROM smam.pre_reviewed_platform WHERE platform = 'x';
SET ROLE lc_reviewer;
SELECT count(smam.record_platform_review('x', k, smam.today() - 30, 'accepted', smam.today() + 335,
                                         'GC review of X ' || k)) AS reviews
  FROM unnest(enum_range(NULL::smam.platform_review_kind)) k;
SELECT platform, pre_reviewed, cardinality(gaps) AS gaps FROM smam.pre_reviewed_platform WHERE platform = 'x';

-- The entity cannot create the account before it accepts the submission (6.1.3, 6.2.1).
SET ROLE lc_entity;
SELECT smam.transition(:account, 'creation');
SET ROLE lc_reviewer;
SELECT smam.review_submission(:creation, true, 'Meets the plan');
SET ROLE lc_entity;
SELECT smam.transition(:account, 'creation', 'Account registered');

-- Configuration: submitted, accepted, applied by the entity (6.2.2).
SET ROLE lc_head;
SELECT smam.submit(:account, 'configuration', 'Profile as per the specifications',
  '{"avatar": "fip:canada-wordmark", "display_name": "Examples Canada",
    "notice_url": "https://www.canada.ca/en/examples/notices.html",
    "description_en": "Notices of the Department of Examples",
    "description_fr": "Avis du ministère des exemples"}') AS configuration \gset
SET ROLE lc_reviewer;
SELECT smam.review_submission(:configuration, true);
SET ROLE lc_entity;
SELECT smam.transition(:account, 'configuration');
SELECT stage, configuration ->> 'avatar' AS avatar FROM smam.account;

-- The head of communications approves it live (6.1.2): it meets 6.1.5.
SET ROLE lc_head;
SELECT * FROM smam.check_configuration('x', (SELECT configuration FROM smam.account), 'bilingual',
                                       'Department of Examples', 'Ministère des exemples');
SELECT smam.transition(:account, 'implementation', 'Live');
SELECT stage, listed_on = smam.today() AS listed_today FROM smam.account;

-- A live account changes configuration only as submitted and accepted.
SELECT smam.configure_account(:account,
  (SELECT configuration || '{"avatar": "cat.png"}' FROM smam.account));

-- Evaluation, and back.
SELECT smam.start_evaluation(:account, 'Annual evaluation') > 0 AS started;
SELECT smam.complete_evaluation(:account, 'Reach on target; keep') > 0 AS completed;

-- Disposition: submitted, accepted, begun by the entity, archived, disposed.
SELECT smam.submit(:account, 'disposition', 'Programme ends') AS disposition \gset
SET ROLE lc_reviewer;
SELECT smam.review_submission(:disposition, true, 'Agreed');
SET ROLE lc_entity;
SELECT smam.transition(:account, 'disposition', 'Programme ended');
SELECT smam.transition(:account, 'disposed');
SELECT smam.archive_account(:account, 'https://records.example.gc.ca/x/ExampleDept.zip',
  repeat('ab', 32)) > 0 AS archived;
SELECT smam.transition(:account, 'disposed', 'Archived and deleted on X');

-- The whole life, as recorded.
SELECT from_stage, to_stage, moved_by, office, note, submission_id IS NOT NULL AS used_submission
  FROM smam.stage_history WHERE account_id = :account ORDER BY id;
SELECT subject, version, decision, decided_by, office, note FROM smam.decision ORDER BY id;
SELECT kind, status, consumed_stage FROM smam.submission ORDER BY id;

RESET ROLE;
DROP EXTENSION smam;
DROP ROLE lc_admin, lc_staff, lc_head, lc_entity, lc_reviewer;

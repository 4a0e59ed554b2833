-- The life cycle of a new official account (6.1.2), from planning to
-- implementation, as the people who act in it: staff, the head of
-- communications, the entity's reviewer and official. One refusal on the way.
\set VERBOSITY default
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS smam;
DO $$
DECLARE r text[];
BEGIN
  FOREACH r SLICE 1 IN ARRAY ARRAY[['demo_admin', 'smam_admin'], ['demo_staff', 'smam_department'],
    ['demo_head', 'smam_department'], ['demo_reviewer', 'smam_entity'], ['demo_entity', 'smam_entity']] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r[1]) THEN
      EXECUTE format('CREATE ROLE %I LOGIN IN ROLE %I', r[1], r[2]);
    END IF;
  END LOOP;
END $$;
SELECT smam.register_principal('demo_admin', 'Demo Administrator', 'demo.admin@example.gc.ca');
SELECT smam.appoint('demo_admin', 'administrator');

-- The administrator: a department and who holds which office.
SET ROLE demo_admin;
SELECT smam.add_department('Department of Demonstrations', 'Ministère des démonstrations') AS dept \gset
SELECT smam.register_principal('demo_staff', 'Sam Staff', 'sam.staff@example.gc.ca', :dept),
       smam.register_principal('demo_head', 'Hana Head', 'hana.head@example.gc.ca', :dept),
       smam.register_principal('demo_reviewer', 'Rae Reviewer', 'rae.reviewer@example.gc.ca'),
       smam.register_principal('demo_entity', 'Eli Entity', 'eli.entity@example.gc.ca');
SELECT smam.appoint('demo_staff', 'department_staff', :dept), smam.appoint('demo_head', 'head_of_communications', :dept),
       smam.appoint('demo_reviewer', 'entity_reviewer'), smam.appoint('demo_entity', 'entity_official');

-- 6.1.1: staff write the departmental strategy, the head approves it.
SET ROLE demo_staff;
SELECT smam.draft_strategy(:dept, 'Social media strategy', mandate => 'Explain demonstrations',
  business_value => 'Fewer calls', alignment => 'Open Government', governance => 'Head approves',
  performance_evaluation => 'Quarterly', lessons_learned => 'From peers') AS strategy \gset
SET ROLE demo_head;
SELECT smam.approve_strategy(:strategy, 'For 2026-2029');

-- 6.1.2: the implementation plan, with the entity's model PIA for X.
SET ROLE demo_staff;
SELECT smam.draft_plan(:dept, 'Demonstrations on X', 'Timely notices', 'One officer', 'Officer posts',
  'Risk register', 'Moderation protocol', 'Monthly report', 'Launch notice') AS plan \gset
SELECT smam.plan_pia(:plan, 'X');
SET ROLE demo_head;
SELECT smam.approve_plan(:plan);

-- 6.2.3: the entity's reviews of X (if the platform is not pre-reviewed yet).
SET ROLE demo_reviewer;
SELECT k AS review, smam.record_platform_review('x', k, smam.today() - 7, 'accepted', smam.today() + 358, 'GC review 2026-' || k)
  FROM unnest(enum_range(NULL::smam.platform_review_kind)) k WHERE NOT smam.pre_reviewed('x');
SELECT * FROM smam.pre_reviewed_platform WHERE platform = 'x';

-- Planning: staff plan the account; the head submits its creation (6.1.3).
SET ROLE demo_staff;
SELECT smam.plan_account(:dept, 'x', 'twitter.com/DemoDept?lang=en', 'Department of Demonstrations',
  'Ministère des démonstrations', 'bilingual', 'Notices', :plan) AS account \gset
SET ROLE demo_head;
SELECT smam.submit(:account, 'creation', 'Please create @DemoDept') AS creation \gset

-- The refusal: the entity may not create the account before its review of the submission (6.2.1).
SET ROLE demo_entity;
\echo '-- Expected refusal: the entity creates the account only once its reviewer has accepted the creation submission (6.1.3, 6.2.1).'
SELECT smam.transition(:account, 'creation');

SET ROLE demo_reviewer;
SELECT smam.review_submission(:creation, true, 'Plan and PIA in order');
SET ROLE demo_entity;
SELECT smam.transition(:account, 'creation', 'Registered on X');

-- Configuration (6.1.3, 6.2.2), then the head of communications puts it live (6.1.2, 6.1.5).
SET ROLE demo_head;
SELECT smam.submit(:account, 'configuration', 'Profile', '{"avatar": "fip:canada-wordmark",
  "display_name": "Demonstrations Canada", "notice_url": "https://www.canada.ca/en/demonstrations/notice.html",
  "description_en": "Notices about demonstrations", "description_fr": "Avis sur les démonstrations"}') AS configuration \gset
SET ROLE demo_reviewer;
SELECT smam.review_submission(:configuration, true);
SET ROLE demo_entity;
SELECT smam.transition(:account, 'configuration', 'Profile set as submitted');
SET ROLE demo_head;
SELECT * FROM smam.check_configuration('x', (SELECT configuration FROM smam.account WHERE id = :account),
                                       'bilingual', 'Department of Demonstrations', 'Ministère des démonstrations');
SELECT smam.transition(:account, 'implementation', 'Live');

SELECT id, stage, url, listed_on = smam.today() AS listed_today FROM smam.account WHERE id = :account;
SELECT from_stage, to_stage, moved_by, office, note FROM smam.stage_history WHERE account_id = :account ORDER BY id;
RESET ROLE;

-- An onboarded account gets its implementation plan (6.1.2). The Prime
-- Minister's account came in from the canada.ca index, live and without a
-- plan; its department's head of communications attaches an approved plan
-- that covers X, and the finding goes away. Wrong cases are refused.
\pset footer off
SELECT a.id AS pm, a.department_id AS pco FROM smam.account a WHERE a.url_key = 'https://x.com/canadianpm' \gset
CREATE ROLE demo_pco_staff LOGIN IN ROLE smam_department;
CREATE ROLE demo_pco_head LOGIN IN ROLE smam_department;
SET ROLE demo_admin;
SELECT smam.register_principal('demo_pco_staff', 'Pat Staff', 'pat.staff@example.gc.ca', :pco),
       smam.register_principal('demo_pco_head', 'Kim Head', 'kim.head@example.gc.ca', :pco);
SELECT smam.appoint('demo_pco_staff', 'department_staff', :pco), smam.appoint('demo_pco_head', 'head_of_communications', :pco);
RESET ROLE;

-- The department's strategy and plan, with its PIA for X, drafted and approved.
SET ROLE demo_pco_staff;
SELECT smam.draft_strategy(:pco, 'Digital engagement strategy', 'mandate', 'value', 'alignment', 'governance',
                           'performance', 'lessons') AS strategy \gset
SELECT smam.draft_plan(:pco, 'Prime Minister on X', 'drivers', 'resources', 'roles', 'risks', 'protocols',
                       'measures', 'communications') AS plan \gset
SELECT smam.plan_pia(:plan, 'x', 'PIA-PCO-2026-01', DATE '2026-01-15');
RESET ROLE;
SET ROLE demo_pco_head;
SELECT smam.approve_strategy(:strategy), smam.approve_plan(:plan);

-- Before: live without an implementation plan.
SELECT requirement, left(problem, 100) AS problem FROM smam.compliance_findings
 WHERE requirement = '6.1.2' AND object_id = :pm;

-- Staff may not attach it (42501); a plan that does not cover Facebook is
-- refused for a Facebook account of the department (55000).
SET ROLE demo_pco_staff;
\echo '-- Expected refusal: staff may not attach a plan; the head of communications or a designate does (6.1.2).'
SELECT smam.attach_implementation_plan(:pm, :plan);
SET ROLE demo_pco_head;
\echo '-- Expected refusal: this plan covers X, not the department''s Facebook account (6.1.2).'
SELECT smam.attach_implementation_plan(a.id, :plan) FROM smam.account a
 WHERE a.department_id = :pco AND a.platform = 'facebook' AND a.stage = 'implementation' LIMIT 1;

-- The head attaches it; smam records when.
SELECT smam.attach_implementation_plan(:pm, :plan);
SELECT id, plan_id, plan_attached_at IS NOT NULL AS attached, stage FROM smam.account WHERE id = :pm;

-- After: the finding is gone. Once attached, the plan is settled again.
SELECT count(*) AS findings_6_1_2 FROM smam.compliance_findings WHERE requirement = '6.1.2' AND object_id = :pm;
\echo '-- Expected refusal: once attached, the plan is settled; not even the head takes it off (6.1.2).'
UPDATE smam.account SET plan_id = NULL WHERE id = :pm;
RESET ROLE;

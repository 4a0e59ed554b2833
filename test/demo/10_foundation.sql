-- smam, the foundation: the Standard as data, people in office, URLs made honest.
\pset footer off
CREATE EXTENSION IF NOT EXISTS smam;

-- The Standard, requirement by requirement, with its section 1 dates.
SELECT code, responsible, effective_on, status, left(text, 60) AS text
  FROM smam.requirement_catalogue;

-- An administrator records a date the Secretary communicated (section 1.2).
SELECT smam.record_effective_date('6.1.3', DATE '2014-04-01', 'Demo: TBS notice of 2014-03-01');
SELECT code, effective_on, status FROM smam.requirement_catalogue WHERE code IN ('6.1.3', '6.1.4');

-- Section 2.2: an agent of Parliament does not report to TBS.
SELECT d.name_en, smam.requirement_status('7.1.2', smam.today(), d.id) AS "7.1.2"
  FROM smam.department d WHERE d.agent_of_parliament ORDER BY d.id DESC LIMIT 3;

-- People and offices: a department, a head of communications, a designate.
CREATE ROLE tour_head LOGIN;  GRANT smam_department TO tour_head;
CREATE ROLE tour_deputy LOGIN; GRANT smam_department TO tour_deputy;
SELECT smam.add_department('Department of Guided Tours', 'Ministère des Visites guidées') AS dept \gset
SELECT smam.register_principal('tour_head', 'Hélène Tremblay', 'helene.tremblay@example.gc.ca', :dept);
SELECT smam.register_principal('tour_deputy', 'Dev Singh', 'dev.singh@example.gc.ca', :dept);
SELECT smam.appoint('tour_head', 'head_of_communications', :dept, now() - interval '1 day', now() + interval '1 year');
SET ROLE tour_head;
SELECT smam.delegate('tour_deputy', now() + interval '6 months');
-- A designation never outlasts the head's own term (6.1): refused.
\echo '-- Expected refusal: a designation for two years from a head whose term ends in one (6.1).'
SELECT smam.delegate('tour_deputy', now() + interval '2 years', NULL, now() + interval '7 months');
RESET ROLE;
SELECT principal, office, department_en, valid_until FROM smam.office_holder ORDER BY office;
SELECT smam.holds_office('tour_deputy', 'head_of_communications', :dept) AS designate_acts_for_head;

-- URLs from the real index, normalized; what cannot be placed says why.
SELECT u AS as_listed, c.platform_code, c.canonical_url, c.problem
  FROM unnest(ARRAY['http://twitter.com/@SalledePresseGC',
                    'facebook.com/pg/CanadaBusiness/about/?ref=page_internal',
                    'https://ca.linkedin.com/company/infrastructure-canada',
                    'https://www.youtube.com/user/rcmpnlsocial/featured?disable_polymer=1',
                    'https://www.linkedin.com/company/equ ipe-impact-canada-team/']) u,
       smam.check_account_url(u) c;

-- For analysts: schema smam_report holds only what an analyst may open (point a BI
-- tool's navigator there), and says what every column means, in English and French.
\pset footer off
CREATE ROLE demo_analyst IN ROLE smam_analyst;
SET ROLE demo_analyst;

-- What a navigator pointed at smam_report lists: every one opens.
SELECT c.relname AS view_name, obj_description(c.oid, 'pg_class') AS meaning
  FROM pg_class c WHERE c.relnamespace = 'smam_report'::regnamespace ORDER BY 1;

-- The dictionary, for tools that do not read comments (ODBC): the public index's columns.
SELECT column_name, data_type, meaning_en, meaning_fr
  FROM smam_report.data_dictionary WHERE view_name = 'public_index' AND column_name IS NOT NULL
 ORDER BY ordinal;

-- Compliance by requirement, and publishing by month, as an analyst reads them.
SELECT requirement, party, status, parties_met, parties_not_met FROM smam_report.compliance_summary;
SELECT department_en, platform, month, posts, deliveries, delivered, dead FROM smam_report.publishing_report;
RESET ROLE;

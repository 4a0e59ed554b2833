-- The analysts' schema smam_report: only what its readers may read (a BI
-- navigator lists nothing it cannot open), each view smam's own read with the
-- caller's rights, every view and column described in English and French, in
-- pg_description and in smam_report.data_dictionary; the dictionary shipped
-- read-only and checked against the views at install.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(29);

CREATE ROLE rp_analyst IN ROLE smam_analyst;
CREATE ROLE rp_tbs IN ROLE smam_tbs;
CREATE ROLE rp_entity IN ROLE smam_entity;
CREATE ROLE rp_admin IN ROLE smam_admin;
CREATE ROLE rp_department IN ROLE smam_department;
CREATE ROLE rp_public IN ROLE smam_public;
CREATE ROLE rp_nobody;

CREATE FUNCTION pg_temp.readable_by(who name) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n bigint;
  refused text[] := '{}';
BEGIN
  FOR r IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'smam_report'::regnamespace ORDER BY 1 LOOP
    BEGIN
      EXECUTE format('SET LOCAL ROLE %I', who);
      EXECUTE format('SELECT count(*) FROM (SELECT * FROM smam_report.%I LIMIT 1) x', r.relname) INTO n;
      RESET ROLE;
    EXCEPTION WHEN OTHERS THEN
      RESET ROLE;
      refused := refused || (r.relname || ' ' || SQLSTATE);
    END;
  END LOOP;
  RETURN array_to_string(refused, ', ');
END
$$;

CREATE FUNCTION pg_temp.detail_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text;
BEGIN
  EXECUTE q;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN d;
END
$$;

-- What is there: the thirteen reporting views and the dictionary, nothing else.
SELECT set_eq(
  $$ SELECT relname::text || ' ' || relkind::text FROM pg_class WHERE relnamespace = 'smam_report'::regnamespace $$,
  ARRAY['account_tool_status v', 'account_url_finding v', 'activity_report_line v', 'compliance_by_department v',
        'compliance_findings v', 'compliance_rule v', 'compliance_summary v', 'data_dictionary v', 'index_reject v',
        'metrics_monthly v', 'public_index v', 'published_index_files v', 'publishing_report v',
        'requirement_catalogue v'],
  'smam_report holds the reporting views and the data dictionary, nothing else');
SELECT is((SELECT count(*)::int FROM pg_class WHERE relnamespace = 'smam_report'::regnamespace
            AND NOT coalesce(reloptions @> ARRAY['security_invoker=true'], false)), 0,
  'every view there is read with the caller''s rights (security_invoker)');
SELECT is((SELECT count(*)::int FROM pg_class r JOIN pg_class s ON s.relname = r.relname AND s.relnamespace = 'smam'::regnamespace
            WHERE r.relnamespace = 'smam_report'::regnamespace
              AND pg_get_viewdef(r.oid) NOT LIKE '%FROM smam.' || r.relname || '%'), 0,
  'each reporting view reads smam''s view of the same name');

-- Who may read it: every object, or nothing at all.
SELECT set_eq(
  $$ SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'smam\_%' AND has_schema_privilege(oid, 'smam_report', 'USAGE') $$,
  ARRAY['smam_admin', 'smam_entity', 'smam_tbs', 'smam_analyst'],
  'USAGE on smam_report: the reporting roles only');
SELECT is(pg_temp.readable_by('rp_analyst'), '', 'an analyst reads every object of smam_report');
SELECT is(pg_temp.readable_by('rp_tbs'), '', 'so does TBS');
SELECT is(pg_temp.readable_by('rp_entity'), '', 'and the entity');
SELECT is(pg_temp.readable_by('rp_admin'), '', 'and an administrator');
SELECT ok(pg_temp.readable_by('rp_department') ~ '^account_tool_status 42501, ',
  'a department''s user is refused the schema (42501): it reads smam''s views, its own rows');
SELECT ok(pg_temp.readable_by('rp_public') ~ '^account_tool_status 42501, ', 'the public too');
SELECT ok(pg_temp.readable_by('rp_nobody') ~ '^account_tool_status 42501, ', 'and a role of no group');
SELECT is((SELECT count(*)::int FROM information_schema.role_table_grants
            WHERE table_schema = 'smam_report' AND grantee = 'PUBLIC'), 0, 'nothing there is granted to PUBLIC');

-- The same rows as smam's own views, as the caller; an analyst reads every
-- department's, as in the compliance views (it holds no office).
SELECT smam.register_principal('rp_admin', 'Ada', 'ada.report@example.gc.ca');
SELECT smam.appoint('rp_admin', 'administrator', NULL, '2020-01-01');
SET ROLE rp_admin;
SELECT smam.add_department('Department of Reports', 'Ministère des Rapports') AS rp_dept \gset
SELECT smam.onboard_account(:rp_dept, 'x', 'https://x.com/reports_dept', 'Reports', 'Rapports', 'bilingual', 'test');
RESET ROLE;
SET ROLE rp_analyst;
SELECT is((SELECT count(*)::int FROM smam_report.account_tool_status WHERE department_id = :rp_dept), 1,
  'an analyst reads every department''s accounts in account_tool_status (6.1.4)');
SELECT is((SELECT account_fr FROM smam_report.public_index WHERE url = 'https://x.com/reports_dept'), 'Rapports',
  'and the public index');
SELECT set_eq($$ SELECT * FROM smam_report.requirement_catalogue $$, $$ SELECT * FROM smam.requirement_catalogue $$,
  'an analyst reads the same requirement catalogue through smam_report');
SELECT set_eq($$ SELECT * FROM smam_report.compliance_rule $$, $$ SELECT * FROM smam.compliance_rule $$,
  'and the same compliance rules');
RESET ROLE;

-- Every view and column described, in both languages, once.
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
            WHERE c.relnamespace = 'smam_report'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
              AND coalesce(btrim(col_description(c.oid, a.attnum)), '') = ''), 0,
  'every column of every view of smam_report has a comment');
SELECT is((SELECT count(*)::int FROM pg_class c
            WHERE c.relnamespace = 'smam_report'::regnamespace AND coalesce(btrim(obj_description(c.oid, 'pg_class')), '') = ''), 0,
  'and every view');
SET ROLE rp_analyst;
SELECT is((SELECT count(*)::int FROM smam_report.data_dictionary),
          (SELECT count(*)::int FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = 'smam_report'::regnamespace)
          + (SELECT count(*)::int FROM pg_class c WHERE c.relnamespace = 'smam_report'::regnamespace),
  'the data dictionary has one row per view and one per column');
SELECT is((SELECT count(*)::int FROM smam_report.data_dictionary d
            JOIN pg_class c ON c.relname = d.view_name AND c.relnamespace = 'smam_report'::regnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.ordinal
           WHERE d.column_name IS NOT NULL
             AND (a.attname IS DISTINCT FROM d.column_name
                  OR d.data_type IS DISTINCT FROM format_type(a.atttypid, a.atttypmod)
                  OR d.meaning_en IS DISTINCT FROM col_description(c.oid, a.attnum))), 0,
  'each column''s row has its position, its type and, in English, its comment');
SELECT is((SELECT count(*)::int FROM smam_report.data_dictionary
            WHERE coalesce(btrim(meaning_fr), '') = '' OR meaning_fr = meaning_en), 0,
  'every row has a French meaning of its own');
SELECT is((SELECT meaning_fr FROM smam_report.data_dictionary WHERE view_name = 'public_index' AND column_name IS NULL) IS NOT NULL
          AND (SELECT ordinal FROM smam_report.data_dictionary WHERE view_name = 'public_index' AND column_name IS NULL) = 0,
          true, 'a view''s own row: column NULL, ordinal 0');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
            JOIN pg_class r ON r.relname = c.relname AND r.relnamespace = 'smam_report'::regnamespace
            WHERE c.relnamespace = 'smam'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
              AND col_description(c.oid, a.attnum) IS DISTINCT FROM
                  (SELECT meaning_en FROM smam.report_dictionary d WHERE d.view_name = c.relname AND d.column_name = a.attname)), 0,
  'smam''s views of the same names carry the same English meanings');

-- The dictionary is shipped: read-only to everyone, the owner included.
SELECT throws_ok($$ UPDATE smam.report_dictionary SET meaning_en = 'x' WHERE view_name = 'public_index' $$, '42501', NULL,
  'the dictionary cannot be changed, even by a superuser (the catalogue''s guard)');
SELECT throws_ok($$ DELETE FROM smam.report_dictionary $$, '42501', NULL, 'nor emptied');
SET ROLE rp_analyst;
SELECT throws_ok($$ SELECT smam.apply_report_dictionary() $$, '42501', NULL,
  'applying it is for extension scripts: no role may call it');
RESET ROLE;

-- A view the dictionary does not describe, or a row for a column that is not
-- there: apply_report_dictionary() (run by the install and update scripts)
-- refuses, naming them.
SAVEPOINT drift;
CREATE VIEW smam_report.undescribed AS SELECT 1 AS one;
SELECT throws_like($$ SELECT smam.apply_report_dictionary() $$, '%does not describe smam_report exactly%',
  'an undescribed view in smam_report stops the script');
SELECT is(pg_temp.detail_of($$ SELECT smam.apply_report_dictionary() $$),
          'Not described: undescribed (view), undescribed.one', '... naming the view and its column');
ROLLBACK TO SAVEPOINT drift;
SELECT is(smam.apply_report_dictionary() > 150, true, 'the shipped dictionary applies');

SELECT * FROM finish();
ROLLBACK;

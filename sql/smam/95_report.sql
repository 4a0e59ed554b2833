-- The analysts' schema (docs/reference.md, "For analysts"): smam_report holds
-- only what the reporting roles may read, so that a BI tool's navigator
-- (Excel, Power BI, Tableau through ODBC or JDBC) lists nothing it cannot
-- open. Each view there is smam's view of the same name, read with the
-- caller's own rights (security_invoker): the grants and row-level security
-- of smam's objects decide what each role sees, exactly as when it reads
-- smam directly. Every column is described, in English and in French, by
-- smam.report_dictionary: COMMENT for tools that read pg_description, and
-- the view smam_report.data_dictionary for tools that cannot (psqlODBC never
-- reads comments).

CREATE SCHEMA smam_report;
COMMENT ON SCHEMA smam_report IS
  'smam for analysts and BI tools: the reporting views, every column described in English and French (smam_report.data_dictionary)';

-- The meaning of each view of smam_report (column_name NULL) and of each of
-- its columns, in both official languages. Shipped with the extension and
-- read-only to every role (smam.catalogue_guard); a release that changes a
-- view changes its rows and calls smam.apply_report_dictionary().
CREATE TABLE smam.report_dictionary (
  view_name    name NOT NULL,
  column_name  name,
  meaning_en   text NOT NULL CHECK (pg_catalog.btrim(meaning_en) OPERATOR(pg_catalog.<>) ''),
  meaning_fr   text NOT NULL CHECK (pg_catalog.btrim(meaning_fr) OPERATOR(pg_catalog.<>) ''),
  CONSTRAINT report_dictionary_key UNIQUE NULLS NOT DISTINCT (view_name, column_name)
);
COMMENT ON TABLE smam.report_dictionary IS
  'The meaning of every view of smam_report and of each of its columns, in English and French; shipped, read-only';
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.report_dictionary
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard_truncate BEFORE TRUNCATE ON smam.report_dictionary
  FOR EACH STATEMENT EXECUTE FUNCTION smam.catalogue_guard();
ALTER TABLE smam.report_dictionary ENABLE ROW LEVEL SECURITY;
CREATE POLICY report_dictionary_read ON smam.report_dictionary FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.report_dictionary TO smam_admin, smam_entity, smam_tbs, smam_analyst;

-- The reporting views: smam's, as they are, read as the caller.
DO $views$
DECLARE
  v text;
BEGIN
  FOREACH v IN ARRAY ARRAY[
    'account_tool_status', 'account_url_finding', 'activity_report_line', 'compliance_by_department',
    'compliance_findings', 'compliance_rule', 'compliance_summary', 'index_reject', 'metrics_monthly',
    'public_index', 'published_index_files', 'publishing_report', 'requirement_catalogue']
  LOOP
    EXECUTE pg_catalog.format(
      'CREATE VIEW smam_report.%1$I WITH (security_invoker = true) AS SELECT * FROM smam.%1$I', v);
  END LOOP;
END
$views$;

CREATE VIEW smam_report.data_dictionary WITH (security_invoker = true) AS
  SELECT d.view_name, d.column_name,
         COALESCE(a.attnum, 0::pg_catalog.int2) AS ordinal,
         pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
         d.meaning_en, d.meaning_fr
    FROM smam.report_dictionary d
    JOIN pg_catalog.pg_class c
      ON c.relname OPERATOR(pg_catalog.=) d.view_name
     AND c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) d.column_name
     AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;

-- COMMENT every view of smam_report and each of its columns from the
-- dictionary (and smam's view of the same name: one text for both), after
-- checking that the dictionary describes each column once and nothing else.
-- Run by the install script and by every update script that changes the
-- reporting views or their meanings; granted to no one.
CREATE FUNCTION smam.apply_report_dictionary() RETURNS integer
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r record;
  n integer := 0;
  missing text;
  unknown text;
BEGIN
  SELECT pg_catalog.string_agg(x.what, ', ' ORDER BY x.what)
    INTO missing
    FROM (SELECT pg_catalog.format('%I.%I', c.relname, a.attname) AS what
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
           WHERE c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
             AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
             AND NOT EXISTS (SELECT FROM smam.report_dictionary d
                              WHERE d.view_name OPERATOR(pg_catalog.=) c.relname
                                AND d.column_name OPERATOR(pg_catalog.=) a.attname)
          UNION ALL
          SELECT pg_catalog.format('%I (view)', c.relname)
            FROM pg_catalog.pg_class c
           WHERE c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
             AND NOT EXISTS (SELECT FROM smam.report_dictionary d
                              WHERE d.view_name OPERATOR(pg_catalog.=) c.relname
                                AND d.column_name IS NULL)) x;
  SELECT pg_catalog.string_agg(pg_catalog.format('%I.%s', d.view_name, COALESCE(pg_catalog.quote_ident(d.column_name), '(view)')),
                               ', ' ORDER BY d.view_name, d.column_name)
    INTO unknown
    FROM smam.report_dictionary d
   WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c
                      WHERE c.relname OPERATOR(pg_catalog.=) d.view_name
                        AND c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
                        AND (d.column_name IS NULL
                             OR EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                         WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
                                           AND a.attname OPERATOR(pg_catalog.=) d.column_name
                                           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)));
  IF missing IS NOT NULL OR unknown IS NOT NULL THEN
    RAISE EXCEPTION 'smam.report_dictionary does not describe smam_report exactly'
      USING ERRCODE = 'XX000',
            DETAIL = pg_catalog.concat_ws(E'\n', 'Not described: ' OPERATOR(pg_catalog.||) missing,
                                          'Described but not in smam_report: ' OPERATOR(pg_catalog.||) unknown),
            HINT = 'Every view of smam_report and each of its columns has one row of meanings; fix the release''s script.';
  END IF;
  FOR r IN SELECT d.view_name, d.column_name, d.meaning_en,
                  EXISTS (SELECT FROM pg_catalog.pg_class s
                           WHERE s.relname OPERATOR(pg_catalog.=) d.view_name
                             AND s.relnamespace OPERATOR(pg_catalog.=) 'smam'::pg_catalog.regnamespace
                             AND s.relkind OPERATOR(pg_catalog.=) 'v') AS in_smam
             FROM smam.report_dictionary d ORDER BY 1, 2 NULLS FIRST
  LOOP
    IF r.column_name IS NULL THEN
      EXECUTE pg_catalog.format('COMMENT ON VIEW smam_report.%I IS %L', r.view_name, r.meaning_en);
    ELSE
      EXECUTE pg_catalog.format('COMMENT ON COLUMN smam_report.%I.%I IS %L', r.view_name, r.column_name, r.meaning_en);
      IF r.in_smam THEN
        EXECUTE pg_catalog.format('COMMENT ON COLUMN smam.%I.%I IS %L', r.view_name, r.column_name, r.meaning_en);
      END IF;
    END IF;
    n := n OPERATOR(pg_catalog.+) 1;
  END LOOP;
  RETURN n;
END
$fn$;
COMMENT ON FUNCTION smam.apply_report_dictionary() IS
  'Extension scripts only: check that smam.report_dictionary describes every view and column of smam_report, and COMMENT them from it';

GRANT USAGE ON SCHEMA smam_report TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA smam_report TO smam_admin, smam_entity, smam_tbs, smam_analyst;
REVOKE ALL ON SCHEMA smam_report FROM PUBLIC;

-- The public index as CSV for a spreadsheet (6.2.4). A cell that begins
-- with =, +, -, @, a tab or a carriage return is a formula to Excel,
-- LibreOffice and Google Sheets (=HYPERLINK(...) runs when the file is
-- opened); the index holds such names (many X accounts are named "@..."),
-- and an imported or onboarded name can be anything. As OWASP's "CSV
-- Injection" recommends, such a cell is prefixed with a single quote, which
-- a spreadsheet shows as text; every cell is quoted, its quotes doubled.
-- So is a cell whose =, +, - or @ comes after leading white space (spaces,
-- tabs, line breaks): LibreOffice's CSV import can trim the spaces
-- ("Trim spaces") and then read the formula ("Evaluate formulas").

CREATE FUNCTION smam.csv_cell(value text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  -- No SET clause, so that it is inlined; every name is schema-qualified.
  AS $$
    SELECT '"' OPERATOR(pg_catalog.||)
           pg_catalog.replace(CASE WHEN value OPERATOR(pg_catalog.~) E'^([\\t\\r]|[ \\t\\r\\n]*[=+\\-@])'
                                   THEN '''' OPERATOR(pg_catalog.||) value ELSE coalesce(value, '') END,
                              '"', '""')
           OPERATOR(pg_catalog.||) '"'
  $$;
COMMENT ON FUNCTION smam.csv_cell(text) IS
  'A CSV cell, quoted, a leading = + - @ tab or CR (also after leading white space) made text for spreadsheets by a single quote (OWASP CSV injection)';

CREATE FUNCTION smam.public_index_csv() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT 'department_en,department_fr,account_en,account_fr,platform,url,official_language,listed_on' || E'\r\n'
           || coalesce(string_agg(
                smam.csv_cell(i.department_en) || ',' || smam.csv_cell(i.department_fr) || ','
                || smam.csv_cell(i.account_en) || ',' || smam.csv_cell(i.account_fr) || ','
                || smam.csv_cell(i.platform) || ',' || smam.csv_cell(i.url) || ','
                || smam.csv_cell(i.official_language) || ',' || smam.csv_cell(to_char(i.listed_on::timestamp, 'YYYY-MM-DD')),
                E'\r\n' ORDER BY i.department_en, i.url) || E'\r\n', '')
      FROM smam.public_index i
  $$;
COMMENT ON FUNCTION smam.public_index_csv() IS
  'The public index as a CSV file (RFC 4180, header line) that a spreadsheet opens without running formulas';

GRANT EXECUTE ON FUNCTION smam.csv_cell(text), smam.public_index_csv()
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;

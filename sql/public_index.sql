-- The public index and its exports exactly as a website receives them: the
-- canada.ca feed in English and French (HTML-escaped), the JSON document for
-- APIs, and CSV through COPY; then what the public may and may not read.
\set VERBOSITY default
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE pi_public LOGIN; GRANT smam_public TO pi_public;
SELECT smam.add_department('Department of <Examples> & Tests', 'Ministère des « Exemples » & essais') AS dept \gset
SELECT smam.add_department('Other Department', NULL) AS other \gset
SELECT smam.onboard_account(:dept, 'Twitter', 'http://twitter.com/ExampleDept/', 'Examples "<b>bold</b>"', 'Exemples l''officiel',
                            'bilingual', 'listed in the canada.ca index', NULL, '2026-01-16') > 0 AS onboarded;
SELECT smam.onboard_account(:other, 'facebook', 'facebook.com/OtherDept?ref=page', 'Other', NULL,
                            'english', 'listed in the canada.ca index', NULL, '2026-06-02') > 0 AS onboarded;
SELECT smam.onboard_account(:other, 'youtube', 'https://www.youtube.com/@AutreMinistere/featured', NULL, 'Autre chaîne',
                            'french', 'listed in the canada.ca index', NULL, '2026-06-02') > 0 AS onboarded;
SET ROLE pi_public;
SELECT * FROM smam.public_index ORDER BY url;
SELECT jsonb_pretty(smam.public_index_feed('en'));
SELECT jsonb_pretty(smam.public_index_feed('fr'));
SELECT smam.public_index_feed_json('en');
SELECT jsonb_pretty(smam.public_index_document() -> 'accounts' -> 0);
COPY (SELECT * FROM smam.public_index ORDER BY url) TO STDOUT WITH (FORMAT csv, HEADER);
-- The public reads the index, nothing else.
SELECT smam.public_index_feed('es');
SELECT count(*) FROM smam.account;
SELECT count(*) FROM smam.compliance_summary;
RESET ROLE;
-- The feeds are written in C (src/feed.c); they say exactly what their SQL
-- description (smam.feed_cells, aggregated in the published order) says,
-- byte for byte, also for names that try the escaping and the order: case,
-- accents, quotes, a backslash, a line break, a tab, an emoji.
SELECT smam.add_department('agence des essais', 'Agence des essais') AS lower \gset
SELECT count(smam.onboard_account(d, p, u, n_en, n_fr, l::smam.official_language, 'listed', NULL, '2026-06-03'))
  FROM (VALUES (:lower, 'x', 'https://x.com/Zebre', E'z\u00e8bre \\ "q"\nline', 'Z\u00e8bre', 'english'),
               (:lower, 'x', 'https://x.com/Ecole', E'\u00c9cole\tonglet', NULL, 'bilingual'),
               (:lower, 'x', 'https://x.com/ecole2', 'ecole', E'\u00e9cole \U0001F600', 'french'),
               (:other, 'x', 'https://x.com/Abc', 'abc', 'ABC', 'bilingual')) v(d, p, u, n_en, n_fr, l);
-- Owner labels (as an import keeps them, sql/smam/71_owner_labels.sql):
-- one in English only, one in French only, one in both, texts that try the
-- escaping; elsewhere the link names the department.
INSERT INTO smam.account_owner_label (account_id, lang, label)
SELECT a.id, v.lang, v.label
  FROM (VALUES ('https://x.com/Zebre', 'en', E'Bureau "Zèbre" \\ <b>&</b> l''office'),
               ('https://x.com/ecole2', 'fr', E'Cabinet de l''école 😀'),
               ('https://x.com/Abc', 'en', 'Office of Abc'), ('https://x.com/Abc', 'fr', 'Bureau d''Abc')) v(url, lang, label)
  JOIN smam.account a ON a.url = v.url;
SELECT l, e ->> 0 AS account, e ->> 4 AS link
  FROM unnest(ARRAY['en', 'fr']) l, jsonb_array_elements(smam.public_index_feed(l) -> 'aaData') e
 WHERE e ->> 4 ~ 'Zebre|ecole2|Abc' ORDER BY 1, 3;
CREATE FUNCTION pg_temp.feed_described(lang text) RETURNS json LANGUAGE sql AS $$
  SELECT json_build_object('aaData', coalesce((
    SELECT json_agg(array_to_json(smam.feed_cells(lang, i.department_en, i.department_fr, i.account_en, i.account_fr,
                                                  i.platform, i.url, i.official_language, i.owner_en, i.owner_fr))
                    ORDER BY CASE WHEN lang = 'fr' THEN i.department_fr ELSE i.department_en END,
                             CASE WHEN lang = 'fr' THEN coalesce(i.account_fr, i.account_en)
                                  ELSE coalesce(i.account_en, i.account_fr) END, i.url)
      FROM smam.public_index i), '[]'::json))
$$;
SELECT l, smam.public_index_feed_json(l)::text = pg_temp.feed_described(l)::text AS json_text_identical,
       smam.public_index_feed(l) = pg_temp.feed_described(l)::jsonb AS jsonb_identical,
       json_array_length(smam.public_index_feed_json(l) -> 'aaData') AS entries
  FROM unnest(ARRAY['en', 'fr']) l;
SELECT smam.public_index_feed_json('fr') -> 'aaData' -> 0 AS first_french_entry;
-- More entries than JB_OFFSET_STRIDE (32): the jsonb is written in its
-- binary form, and every 32nd entry's JEntry holds an offset that random
-- access reads.
SELECT count(smam.onboard_account(:lower, 'x', 'https://x.com/Stride' || g, 'Stride ' || g, NULL, 'english',
                                  'listed', NULL, '2026-06-03'))
  FROM generate_series(1, 70) g;
SELECT l, smam.public_index_feed(l) = pg_temp.feed_described(l)::jsonb AS jsonb_identical,
       smam.public_index_feed(l)::text = pg_temp.feed_described(l)::jsonb::text AS jsonb_text_identical,
       (SELECT bool_and((smam.public_index_feed(l) -> 'aaData' -> i) = (pg_temp.feed_described(l)::jsonb -> 'aaData' -> i))
          FROM generate_series(0, 76) i) AS every_entry_by_position,
       smam.public_index_feed_json(l)::text = pg_temp.feed_described(l)::text AS json_text_identical
  FROM unnest(ARRAY['en', 'fr']) l;
SELECT smam.public_index_feed(NULL);
DROP EXTENSION smam;
DROP ROLE pi_public;
-- Under a collation that does not order by code point (ICU here), the feed
-- orders as the database does: case and accents do not come first.
SELECT current_database() AS regression_db \gset
DROP DATABASE IF EXISTS smam_feed_icu;
CREATE DATABASE smam_feed_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-CA';
\c smam_feed_icu
SET client_min_messages = warning;
CREATE EXTENSION smam;
SELECT smam.add_department('zeta Department', NULL) AS zeta \gset
SELECT smam.add_department('Éclair Department', NULL) AS eclair \gset
SELECT smam.add_department('alpha Department', NULL) AS alpha \gset
SELECT count(smam.onboard_account(d, 'x', u, n, NULL, 'english', 'listed', NULL, '2026-06-03'))
  FROM (VALUES (:zeta, 'https://x.com/z1', 'Zèbre'), (:zeta, 'https://x.com/z2', 'abc'),
               (:zeta, 'https://x.com/z3', 'école'), (:zeta, 'https://x.com/z4', 'Ecole'),
               (:eclair, 'https://x.com/e1', 'one'), (:alpha, 'https://x.com/a1', 'one'),
               (:alpha, 'https://x.com/a2', 'one')) v(d, u, n);
CREATE FUNCTION pg_temp.feed_described(lang text) RETURNS json LANGUAGE sql AS $$
  SELECT json_build_object('aaData', coalesce((
    SELECT json_agg(array_to_json(smam.feed_cells(lang, i.department_en, i.department_fr, i.account_en, i.account_fr,
                                                  i.platform, i.url, i.official_language, i.owner_en, i.owner_fr))
                    ORDER BY CASE WHEN lang = 'fr' THEN i.department_fr ELSE i.department_en END,
                             CASE WHEN lang = 'fr' THEN coalesce(i.account_fr, i.account_en)
                                  ELSE coalesce(i.account_en, i.account_fr) END, i.url)
      FROM smam.public_index i), '[]'::json))
$$;
SELECT l, smam.public_index_feed_json(l)::text = pg_temp.feed_described(l)::text AS json_text_identical,
       smam.public_index_feed(l) = pg_temp.feed_described(l)::jsonb AS jsonb_identical
  FROM unnest(ARRAY['en', 'fr']) l;
SELECT e ->> 2 AS department, e ->> 0 AS account, e ->> 4 AS link
  FROM jsonb_array_elements(smam.public_index_feed('en') -> 'aaData') e;
\c :regression_db
DROP DATABASE smam_feed_icu;

-- Import of the real canada.ca index (test/data/gc-social-media-index/sm.csv,
-- 1,865 rows; Open Government Licence - Canada): every row ends as an account
-- or a reject with its reason; the same file twice changes nothing; a newer
-- file adds accounts and flags the vanished ones, deleting nothing. Then the
-- CSV reader and the JSON feed import on small inputs.
\set datadir `echo "$SMAM_DATA_DIR"`
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(55);

CREATE ROLE i_entity LOGIN; GRANT smam_entity TO i_entity;
CREATE ROLE i_dept LOGIN;   GRANT smam_department TO i_dept;
SELECT smam.register_principal('i_entity', 'Erin Entity', 'erin@example.gc.ca');
SELECT smam.appoint('i_entity', 'entity_official', NULL, '2020-01-01');
CREATE TEMP TABLE f AS SELECT pg_read_file(:'datadir' || '/gc-social-media-index/sm.csv') AS csv;
GRANT SELECT ON f TO PUBLIC;

SET ROLE i_dept;
SELECT throws_ok($$ SELECT smam.import_index((SELECT csv FROM f)) $$, '42501', NULL, 'a department does not import the index');
RESET ROLE;

SET ROLE i_entity;
CREATE TEMP TABLE s1 AS SELECT * FROM smam.import_index((SELECT csv FROM f));
RESET ROLE;
SELECT is((SELECT rows_read FROM s1), 1865, 'all 1,865 rows of the real file are read');
SELECT is((SELECT created FROM s1), 1506, '1,506 become accounts');
SELECT is((SELECT updated FROM s1), 0, 'none is updated the first time');
SELECT is((SELECT rejected FROM s1), 16, '16 are rejected');
SELECT is((SELECT (held, candidates) FROM s1)::text, '(341,85)',
  '341 are held: their 85 department names (mostly French names without gc_orgID) tie to no department, and the file alone cannot tell which');
SELECT is((SELECT unchanged FROM s1), 2, '2 list in French an account listed in English: one account, created with both names');
SELECT is((SELECT count(*) FROM smam.index_import_row WHERE import_id = (SELECT import_id FROM s1)), 1865::bigint,
  'every row is kept');
SELECT is((SELECT count(*) FROM smam.index_import_row WHERE import_id = (SELECT import_id FROM s1)
            AND (outcome IN ('rejected', 'held')) = (reason IS NOT NULL AND account_id IS NULL)
            AND (outcome = 'held') = (candidate_id IS NOT NULL)), 1865::bigint,
  'every row ends as an account, as a reject with a reason, or held for a department candidate');
SELECT is((SELECT count(*) FROM smam.index_reject WHERE reason LIKE 'Row % lists the same account%'), 10::bigint,
  '10 rows repeat an account once URLs are normalized');
SELECT is((SELECT count(*) FROM smam.index_reject WHERE reason LIKE 'The URL is an address on %'), 4::bigint,
  '4 rows give a URL on another platform than they say');
SELECT is((SELECT count(*) FROM smam.index_reject WHERE reason LIKE '%white space%' OR reason LIKE '%does not have the shape%'),
  2::bigint, '2 URLs cannot be an account''s address');
SELECT is((SELECT count(*) FROM smam.account), 1506::bigint, 'the accounts are there');
SELECT is((SELECT count(*) FROM smam.account WHERE onboarded AND stage = 'implementation'), 1506::bigint,
  'all onboarded, straight into implementation');
SELECT is((SELECT count(*) FROM smam.index_import_row WHERE 'platform "Youtube" read as YouTube' = ANY (notes)), 10::bigint,
  'platform spellings are normalized, and the row says so');
SELECT is((SELECT count(*) FROM smam.account a JOIN smam.index_import_row r ON r.account_id = a.id
            WHERE r.language_given = 'Bilingue' AND a.official_language = 'bilingual' AND a.name_fr IS NOT NULL), 4::bigint,
  '"Bilingue" is bilingual, and its row''s names are French');
SELECT is((SELECT count(*) FROM smam.index_reject WHERE reason LIKE 'The account is account % of department %'), 0::bigint,
  'no row is rejected for listing its account under another department: no department is made from a name nothing ties');
SELECT is((SELECT array_agg(name_en || ' / ' || name_fr) FROM smam.department WHERE NOT shipped AND gc_org_id IS NULL),
  ARRAY['National Defence and the Canadian Armed Forces / Défense nationale et les Forces armées canadiennes'],
  'every department the file alone makes has its gc_orgID, but one: its rows have none, and the accounts it lists in both languages tie its two names');
SELECT is((SELECT count(*) FROM smam.department d WHERE NOT shipped AND d.name_en_key = d.name_fr_key), 0::bigint,
  'no French name that is the English one (Service Canada; CMHC''s French rows give its English name): the French index shows the English name until the French one is known');
SELECT is((SELECT url FROM smam.account WHERE url_key = 'https://x.com/gcindigenous'), 'https://x.com/GCIndigenous',
  'twitter.com is read as x.com');
SELECT is((SELECT count(*) FROM smam.account WHERE url LIKE 'https://www.facebook.com/nserccanada%'), 1::bigint,
  'a URL without a scheme is read');
SELECT is((SELECT count(DISTINCT department_id) FROM smam.index_import_row WHERE gc_org_id = 2227), 1::bigint,
  'Global Affairs Canada under its English and French names is one department (gc_orgID 2227)');
SELECT is((SELECT name_fr FROM smam.department WHERE gc_org_id = 2227), 'Affaires mondiales Canada',
  'with its French name from the French rows');
SELECT is((SELECT name_en FROM smam.department WHERE gc_org_id = 2230), 'Crown-Indigenous Relations and Northern Affairs Canada',
  'a joint name is not taken as the department''s name');
SELECT is((SELECT count(DISTINCT department_id) FROM smam.index_import_row
            WHERE department_given LIKE 'Relations Couronne-Autochtones et Affaires du Nord Canada%'), 1::bigint,
  'the French joint name without gc_orgID goes to the first department it names');
SELECT is((SELECT department_id FROM smam.index_import_row WHERE department_given = 'Royal Canada Mounted Police' LIMIT 1),
  (SELECT id FROM smam.department WHERE gc_org_id = 2288), 'a misspelt name under the same gc_orgID is the same department');

-- The same file again changes nothing.
CREATE TEMP TABLE before AS SELECT (SELECT count(*) FROM smam.account) AS accounts, (SELECT count(*) FROM smam.department) AS departments,
  (SELECT md5(string_agg(a::text, ',' ORDER BY a.id)) FROM smam.account a) AS digest;
SET ROLE i_entity;
CREATE TEMP TABLE s2 AS SELECT * FROM smam.import_index((SELECT csv FROM f));
RESET ROLE;
SELECT is((SELECT (created, updated, unchanged, rejected, vanished, departments_created) FROM s2)::text,
  '(0,0,1508,16,0,0)', 'a second import of the same file: all unchanged, the same rejects');
SELECT is((SELECT (held, candidates) FROM s2)::text, '(341,85)', 'the same rows held, for the same candidates');
SELECT is((SELECT count(*) FROM smam.department_candidate), 85::bigint, 'and no candidate twice');
SELECT is((SELECT md5(string_agg(a::text, ',' ORDER BY a.id)) FROM smam.account a), (SELECT digest FROM before),
  'and no account changed');
SELECT is((SELECT count(*) FROM smam.department), (SELECT departments FROM before), 'nor any department');

-- A newer file: two accounts gone, one new, one renamed.
CREATE TEMP TABLE f2 AS
  SELECT array_to_string(l[1:1] || l[4:4] || ARRAY['Example renamed' || substr(l[5], strpos(l[5], ','))] || l[6:]
                         || ARRAY['New account,X,Privy Council Office,English,https://x.com/NewPCOaccount,2284.0,,2026-09-01'], E'\n') AS csv
    FROM (SELECT string_to_array(rtrim(csv, E'\n'), E'\n') AS l FROM f) x;
GRANT SELECT ON f2 TO PUBLIC;
SET ROLE i_entity;
CREATE TEMP TABLE s3 AS SELECT * FROM smam.import_index((SELECT csv FROM f2));
RESET ROLE;
SELECT is((SELECT (rows_read, created, updated, vanished) FROM s3)::text, '(1864,1,0,2)',
  'a newer file: one created, two vanished');
SELECT is((SELECT count(*) FROM smam.disposition_review WHERE resolved_at IS NULL), 2::bigint,
  'the vanished accounts are flagged for a disposition review');
SELECT is((SELECT count(*) FROM smam.account a JOIN smam.disposition_review v ON v.account_id = a.id
            WHERE a.stage = 'implementation'), 2::bigint, 'and not deleted: they stay live until a decision');
SELECT alike((SELECT reason FROM smam.index_reject WHERE import_id = (SELECT import_id FROM s3) AND raw LIKE 'Example renamed,%'),
  '%other names or language (Example renamed / english)%requirement 6.1.3%',
  'a renamed live account is a configuration change without a submission: the row is rejected, saying why');
SELECT is((SELECT name_en FROM smam.account WHERE url_key = 'https://www.facebook.com/gcreconciliation'), 'GCReconciliation',
  'and the account keeps its name');
SELECT smam.set_enforcement(false, 'test: the administrator suspends enforcement');
SET ROLE i_entity;
CREATE TEMP TABLE s3b AS SELECT * FROM smam.import_index((SELECT csv FROM f2));
RESET ROLE;
SELECT smam.set_enforcement(true, 'test: enforcement again');
SELECT is((SELECT (created, updated, unchanged, vanished) FROM s3b)::text, '(0,1,1506,0)',
  'with enforcement suspended, the same newer file updates the renamed account');
SELECT is((SELECT name_en FROM smam.account WHERE url_key = 'https://www.facebook.com/gcreconciliation'), 'Example renamed',
  'to its new name');
SET ROLE i_entity;
CREATE TEMP TABLE s4 AS SELECT * FROM smam.import_index((SELECT csv FROM f));
RESET ROLE;
SELECT is((SELECT array_agg(a.name_en) FROM smam.disposition_review v JOIN smam.account a ON a.id = v.account_id
            WHERE v.resolved_at IS NULL), ARRAY['New account'],
  'accounts listed again close their review; the one only the newer file had is flagged in turn');

-- The CSV reader (RFC 4180) and refusals.
SELECT is((SELECT array_agg(fields::text ORDER BY record_number) FROM smam.csv_records(E'a,"b,c","d""e"\r\n"multi\nline",,x\n\n')),
  ARRAY['{a,"b,c","d\"e"}', E'{"multi\nline","",x}'], 'quoted commas, doubled quotes, line breaks, CRLF and blank lines');
SELECT is((SELECT problem FROM smam.csv_records(E'a,"b"c,d\nok') WHERE record_number = 1), 'Field 2 has text after its closing quote.',
  'a malformed record keeps its raw text and the problem');
SELECT is((SELECT raw FROM smam.csv_records(E'a,"b"c,d\nok') WHERE record_number = 1), 'a,"b"c,d', 'as it came');
SELECT throws_ok($$ SELECT smam.import_index(E'Account,Platform\nx,y') $$, '22023',
  'the index file lacks the columns department, language, url', 'a file without the columns is refused whole');

-- The JSON feed, French.
CREATE TEMP TABLE s5 AS SELECT * FROM smam.import_index_feed(
  '{"aaData": [["Compte &amp; co", "Facebook", "Ministère: Bureau du Conseil privé", "Langue: Français", "<a href=\"https://www.facebook.com/ExempleFeed/\">x</a>"],
               ["bad", "Myspace", "Ministère: X", "Langue: Français", "<a href=\"https://myspace.com/x\">x</a>"],
               "not an entry"]}', 'fr');
SELECT is((SELECT (rows_read, created, rejected, held) FROM s5)::text, '(3,0,2,1)',
  'the French feed: two rejects, and one row held: nothing in it ties "Bureau du Conseil privé" to a department');
SELECT is((SELECT c.status FROM smam.department_candidate c WHERE c.name = 'Bureau du Conseil privé'), 'open',
  'the name is the same candidate the CSV''s French rows made');
SET ROLE i_dept;
SELECT throws_ok($$ SELECT smam.map_department_candidate((SELECT id FROM smam.department_candidate WHERE name = 'Bureau du Conseil privé'),
                                                         smam.find_department('2284'), 'PCO''s French name') $$,
  '42501', NULL, 'a department does not decide on a candidate');
RESET ROLE;
SET ROLE i_entity;
SELECT throws_ok($$ SELECT smam.map_department_candidate(999999, 1, 'x') $$, '42704', 'department candidate 999999 does not exist',
  'an unknown candidate is refused');
SELECT throws_ok($$ SELECT smam.confirm_department_candidate((SELECT id FROM smam.department_candidate WHERE name = 'Bureau du Conseil privé'),
                                                             'Privy Council Office') $$,
  '23505', 'department ' || smam.find_department('2284') || ' already has the name "Privy Council Office"',
  'confirming a candidate under a name a department has is refused, pointing to the mapping');
SELECT is(smam.map_department_candidate((SELECT id FROM smam.department_candidate WHERE name = 'Bureau du Conseil privé'),
                                        smam.find_department('2284'), 'PCO''s French name'), 1,
  'the entity maps the candidate to the Privy Council Office: the row the latest import held for it is placed (the CSV''s rows, at its next import)');
SELECT is((SELECT name_fr FROM smam.department WHERE gc_org_id = 2284), 'Bureau du Conseil privé',
  'the name becomes the department''s French name');
SELECT throws_ok($$ SELECT smam.map_department_candidate((SELECT id FROM smam.department_candidate WHERE name = 'Bureau du Conseil privé'), 1, 'again') $$,
  '55000', NULL, 'a decided candidate is not decided again');
RESET ROLE;
SELECT is((SELECT (created, held) FROM smam.index_import WHERE id = (SELECT import_id FROM s5))::text, '(1,0)',
  'the import''s summary counts the placed row');
SELECT is((SELECT name_fr FROM smam.account WHERE url = 'https://www.facebook.com/ExempleFeed'), 'Compte & co',
  'HTML is read back into text, the name taken as French');
SET ROLE i_entity;
CREATE TEMP TABLE s6 AS SELECT * FROM smam.import_index((SELECT csv FROM f));
RESET ROLE;
SELECT is((SELECT (held, candidates) FROM s6)::text, '(329,84)',
  'the next import of the CSV places the 12 rows it held for that name');
SELECT throws_ok($$ SELECT smam.import_index_feed('{"data": []}', 'fr') $$, '22023', 'the feed has no aaData array',
  'a feed without aaData is refused');

SELECT * FROM finish();
ROLLBACK;

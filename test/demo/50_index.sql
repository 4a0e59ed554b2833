-- The real canada.ca index of official accounts (Open Government Licence -
-- Canada), imported through the onboarding path; the public index and its
-- feed; what compliance says of the onboarded accounts.
\pset footer off
CREATE EXTENSION IF NOT EXISTS smam;
\getenv datadir SMAM_DATA_DIR

-- The file as a client holds it: its text, sent to smam.import_index().
CREATE TEMP TABLE index_file AS
  SELECT pg_read_file(:'datadir' || '/gc-social-media-index/sm.csv') AS csv;
SELECT * FROM smam.import_index((SELECT csv FROM index_file));

-- Every row ends as an account or a reject with its reason.
SELECT outcome, count(*) FROM smam.index_import_row GROUP BY outcome ORDER BY outcome;
SELECT row_number, left(raw, 60) AS raw, left(reason, 90) AS reason
  FROM smam.index_reject ORDER BY row_number LIMIT 8;

-- What normalization did, row by row.
SELECT n AS note, count(*) FROM smam.index_import_row, unnest(notes) n
 GROUP BY 1 ORDER BY 2 DESC LIMIT 8;

-- One department under its English name, its French name, variants and
-- joint names.
SELECT d.name_en, d.name_fr, d.gc_org_id, array_agg(a.name ORDER BY a.name) AS also_known_as
  FROM smam.department d JOIN smam.department_alias a ON a.department_id = d.id
 WHERE d.gc_org_id IN (2230, 2231, 2288) GROUP BY d.id ORDER BY d.name_en;

-- Importing the same file again changes nothing.
SELECT * FROM smam.import_index((SELECT csv FROM index_file));

-- Departments: the file names them 222 ways; smam makes one department per
-- organization it can tie (a gc_orgID, a known name or alias, the accounts a
-- name lists) and holds the rest as candidates for the entity, not guessing.
CREATE TEMP VIEW department_count AS
  SELECT (SELECT count(DISTINCT r.department_given) FROM smam.index_import_row r
           WHERE r.import_id = (SELECT min(id) FROM smam.index_import)) AS names_in_file,
         (SELECT count(*) FROM smam.department d WHERE NOT d.shipped AND d.merged_into IS NULL) AS departments,
         (SELECT count(*) FROM smam.department_candidate c WHERE c.status = 'open') AS open_candidates,
         (SELECT count(*) FROM smam.index_import_row r
           WHERE r.import_id = (SELECT max(id) FROM smam.index_import) AND r.outcome = 'held') AS rows_held;
SELECT * FROM department_count;
SELECT name, lang, last_rows FROM smam.department_candidate WHERE status = 'open' ORDER BY last_rows DESC, name LIMIT 5;

-- The entity reconciles: the RCMP's French name is mapped to the RCMP (its
-- held rows are placed there) ...
SELECT smam.map_department_candidate(c.id, smam.find_department('Royal Canadian Mounted Police'),
                                     'the French name of the Royal Canadian Mounted Police') AS rows_placed
  FROM smam.department_candidate c WHERE c.name = 'Gendarmerie royale du Canada';
-- ... and a candidate confirmed too quickly as a department of its own is
-- merged into the department it is: what stands in the way (nothing), the
-- merge, what it moved. Its name now leads to Public Safety Canada.
SELECT smam.confirm_department_candidate(c.id, 'Sécurité publique Canada') AS mistaken
  FROM smam.department_candidate c WHERE c.name = 'Sécurité publique Canada' \gset
SELECT * FROM smam.merge_problems(:mistaken, smam.find_department('Public Safety Canada'));
SELECT smam.merge_departments(:mistaken, smam.find_department('Public Safety Canada'),
                              'Sécurité publique Canada is the French name of Public Safety Canada') AS merge;
SELECT d.name_en AS merged, i.name_en AS into, m.moved FROM smam.department_merge m
  JOIN smam.department d ON d.id = m.from_department JOIN smam.department i ON i.id = m.into_department;
SELECT smam.find_department('Sécurité publique Canada') = smam.find_department('Public Safety Canada') AS same_department;
SELECT * FROM department_count;

-- The public index: accounts by platform and language.
SELECT platform, count(*) FILTER (WHERE official_language = 'english') AS english,
       count(*) FILTER (WHERE official_language = 'french') AS french,
       count(*) FILTER (WHERE official_language = 'bilingual') AS bilingual, count(*) AS total
  FROM smam.public_index GROUP BY platform ORDER BY total DESC;

-- canada.ca's own feed (2024-10-24) says in each link's hidden text, read
-- by screen readers, whose account it is: usually the department, sometimes
-- not. Its entries for the Department of Finance, read back: the accounts
-- keep the owner the index names ("Finance Canada").
SELECT rows_read, unchanged, rejected FROM smam.import_index_feed(
  (SELECT jsonb_build_object('aaData', jsonb_agg(e))
     FROM jsonb_array_elements(pg_read_file(:'datadir' || '/gc-social-media-index/canada-ca-feed-2024-10-24/sm-en.json')::jsonb -> 'aaData') e
    WHERE e ->> 2 LIKE '%: Department of Finance Canada'), 'en');
SELECT a.url, l.lang, l.label AS owner FROM smam.account_owner_label l JOIN smam.account a ON a.id = l.account_id ORDER BY a.url;

-- The entity publishes it; the feed canada.ca serves, English and French,
-- in canada.ca's markup: the platform as a label, the link button naming
-- whose account it is.
SELECT smam.publish_index() AS snapshot;
SELECT published_at, account_count, content_sha256 FROM smam.index_snapshot;
SELECT e FROM jsonb_array_elements(smam.public_index_feed('en') -> 'aaData') WITH ORDINALITY x(e, n) WHERE n <= 3;
SELECT e FROM jsonb_array_elements(smam.public_index_feed('fr') -> 'aaData') WITH ORDINALITY x(e, n) WHERE n <= 3;
SELECT e ->> 4 AS link FROM jsonb_array_elements(smam.public_index_feed('en') -> 'aaData') e WHERE e ->> 4 LIKE '%/FinanceCanada"%';

-- The files the website serves, recorded byte for byte with their SHA-256
-- (compare with sha256sum of the file served), and a file checked against
-- the record: which publication it is, and whether it is the last one.
SELECT snapshot_id, lang, file_name, byte_count, content_sha256, latest FROM smam.published_index_files;
SELECT * FROM smam.check_index_file(smam.published_index_file(NULL, 'en'));

-- CSV for anyone, through COPY.
COPY (SELECT * FROM smam.public_index ORDER BY department_en, url LIMIT 3) TO STDOUT WITH (FORMAT csv, HEADER);

-- Compliance: the requirements not effective immediately come into force
-- on dates the Secretary communicates (section 1.2); this demo records some.
SELECT smam.record_effective_date(c, DATE '2014-04-01', 'Demo: date communicated by the Secretary')
  FROM unnest(ARRAY['6.1.3', '6.2.3', '6.2.4']) c;

-- The whole government, requirement by requirement.
SELECT requirement, party, status, parties_met, parties_not_met, parties_not_applicable, findings
  FROM smam.compliance_summary;

-- A few departments.
SELECT department_en, requirement, status, findings
  FROM smam.compliance_by_department
 WHERE department_id IN (SELECT id FROM smam.department WHERE gc_org_id IN (2284, 2227, 2288))
   AND requirement LIKE '6.1.%'
 ORDER BY department_en, requirement;

-- What an onboarded account lacks, exactly.
SELECT requirement, left(problem, 150) AS problem
  FROM smam.compliance_findings
 WHERE (object_type, object_id) IN (SELECT 'account', id FROM smam.account WHERE url_key = 'https://x.com/canadianpm'
                                    UNION ALL SELECT 'department', department_id FROM smam.account WHERE url_key = 'https://x.com/canadianpm')
 ORDER BY requirement;

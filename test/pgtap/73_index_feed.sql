-- The index feed in canada.ca's markup (issue 17, 6.2.4). First the import
-- on small feeds: the link's hidden owner text staged, kept for the account
-- where it names someone other than the department, checked, forgotten when
-- the index names the department again; the bare form still read. Then
-- canada.ca's own feeds of 2024-10-24
-- (test/data/gc-social-media-index/canada-ca-feed-2024-10-24; Open
-- Government Licence - Canada) imported and published, and smam's feed held
-- to canada.ca's entries cell for cell; the published files recorded byte
-- for byte, given back, checked, and read by the public.
\set datadir `echo "$SMAM_DATA_DIR"`
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(54);

CREATE ROLE f_entity LOGIN; GRANT smam_entity TO f_entity;
CREATE ROLE f_public LOGIN; GRANT smam_public TO f_public;
CREATE ROLE f_dept LOGIN;   GRANT smam_department TO f_dept;
SELECT smam.register_principal('f_entity', 'Erin Entity', 'erin@example.gc.ca');
SELECT smam.appoint('f_entity', 'entity_official', NULL, '2020-01-01');
SELECT smam.add_department('Department of Feeds', 'Ministère des Flux') AS feeds \gset
SELECT smam.add_department('Agency Without French', NULL) AS english_only \gset

-- refusal(sql): 'SQLSTATE|detail' of the error a statement raises.
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; dt text; ht text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, dt = PG_EXCEPTION_DETAIL, ht = PG_EXCEPTION_HINT;
  RETURN st || '|' || (coalesce(ht, '') <> '') || '|' || coalesce(substring(dt FROM 'requirement ([0-9.]+) of the Standard'), '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.refusal(text) TO PUBLIC;

-- An entry in canada.ca's markup.
CREATE FUNCTION pg_temp.entry(account text, platform text, department text, language text, url text, owner text)
  RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_array(smam.html_escape(account),
    '<span class="label label-default">' || platform || '</span>',
    '<span>Department</span>: ' || smam.html_escape(department), '<span>Language</span>: ' || language,
    '<a class="product-link btn btn-primary" href="' || smam.html_escape(url) || '"><span class="wb-inv">'
      || owner || ' - </span>Go to social media account</a>')
$$;
GRANT EXECUTE ON FUNCTION pg_temp.entry(text, text, text, text, text, text) TO PUBLIC;

-- ---- reading the link's owner ----
SELECT is(smam.feed_link_owner('<a class="product-link btn btn-primary" href="https://twitter.com/CanadianPM"><span class="wb-inv">Office of the Prime Minister - </span>Go to social media account</a>'),
  'Office of the Prime Minister', 'the owner a canada.ca link names, without " - "');
SELECT is(ARRAY[smam.feed_link_owner('<a href="https://x.com/a"><SPAN Class="btn wb-inv">Bureau de l&#39;ombudsman  &amp; co  - </SPAN>Aller</a>'),
                smam.feed_link_owner('<a href="x"><span class="wb-inv">HMCS <span lang="fr">NCSM</span> York - </span>Go</a>'),
                smam.feed_link_owner('<a href="x"><span class="wb-inv"> - </span>Go</a>'),
                smam.feed_link_owner('<a href="https://x.com/a">https://x.com/a</a>'),
                smam.feed_link_owner('<a href="x"><span class="wb-invisible">No</span></a>')],
  ARRAY['Bureau de l''ombudsman & co', 'HMCS NCSM', '', NULL, NULL],
  'read as text: any case, references read, spaces single, tags removed; empty when it names no one; NULL without a wb-inv span');

-- ---- the import keeps owners other than the department ----
CREATE TEMP TABLE small AS SELECT jsonb_build_object('aaData', jsonb_build_array(
  pg_temp.entry('Feeds', 'X', 'Department of Feeds', 'English', 'https://twitter.com/FeedsGC', 'Department of Feeds'),
  pg_temp.entry('Minister of Feeds', 'X', 'Department of Feeds', 'Bilingual', 'https://twitter.com/FeedsMinister', 'Office of the &lt;Minister&gt; of Feeds'),
  pg_temp.entry('Feeds on Facebook', 'Facebook', 'Department of Feeds', 'English', 'https://www.facebook.com/FeedsGC', repeat('Owner ', 60)),
  pg_temp.entry('Feeds on YouTube', 'YouTube', 'Department of Feeds', 'English', 'https://www.youtube.com/@FeedsGC', 'Bell&#7;Office'),
  pg_temp.entry('Feeds on LinkedIn', 'LinkedIn', 'Department of Feeds', 'English', 'https://www.linkedin.com/company/feeds', ''))) AS feed;
GRANT SELECT ON small TO PUBLIC;
SET ROLE f_entity;
CREATE TEMP TABLE s1 AS SELECT * FROM smam.import_index_feed((SELECT feed FROM small), 'en');
RESET ROLE;
SELECT is((SELECT (rows_read, created, rejected) FROM s1)::text, '(5,5,0)',
  'a feed in canada.ca''s markup is read: five accounts, none rejected for its owner');
SELECT is((SELECT array_agg(owner_label_given ORDER BY row_number) FROM smam.index_import_row WHERE import_id = (SELECT import_id FROM s1)),
  ARRAY['Department of Feeds', 'Office of the <Minister> of Feeds', btrim(repeat('Owner ', 60)), E'Bell\u0007Office', ''],
  'each row keeps the owner its link names, as text');
SELECT is((SELECT array_agg(lang || ' ' || label) FROM smam.account_owner_label l JOIN smam.account a ON a.id = l.account_id
            WHERE a.department_id = :feeds),
  ARRAY['en Office of the <Minister> of Feeds'], 'only an owner other than the department is kept for the account');
SELECT is((SELECT array_agg(n ORDER BY row_number) FROM smam.index_import_row r, unnest(r.notes) n
            WHERE r.import_id = (SELECT import_id FROM s1) AND n LIKE 'owner%'),
  ARRAY['owner "Office of the <Minister> of Feeds" kept: the link names it, not the department',
        'owner set aside: The owner''s name has 359 characters; the index publishes at most 300.',
        'owner set aside: The owner''s name holds a control character.',
        'owner set aside: The link''s hidden text names no owner.'],
  'an owner that cannot be published is set aside, and the row says why; the row is not rejected for it');
SELECT is((SELECT array_agg(e ->> 4 ORDER BY e ->> 4) FROM jsonb_array_elements(smam.public_index_feed('en') -> 'aaData') e
            WHERE e ->> 4 ~ 'x\.com/(FeedsMinister|FeedsGC)"'),
  ARRAY['<a class="product-link btn btn-primary" href="https://x.com/FeedsGC"><span class="wb-inv">Department of Feeds - </span>Go to social media account</a>',
        '<a class="product-link btn btn-primary" href="https://x.com/FeedsMinister"><span class="wb-inv">Office of the &lt;Minister&gt; of Feeds - </span>Go to social media account</a>'],
  'the English feed''s link names the kept owner, escaped, else the department');
SELECT is((SELECT array_agg(e ->> 2 || ' | ' || (e ->> 4) ORDER BY e ->> 4) FROM jsonb_array_elements(smam.public_index_feed('fr') -> 'aaData') e
            WHERE e ->> 4 ~ 'x\.com/(FeedsMinister|FeedsGC)"'),
  ARRAY['<span>Ministère </span>: Ministère des Flux | <a class="product-link btn btn-primary" href="https://x.com/FeedsGC"><span class="wb-inv">Ministère des Flux - </span>Aller au compte de média social</a>',
        '<span>Ministère </span>: Ministère des Flux | <a class="product-link btn btn-primary" href="https://x.com/FeedsMinister"><span class="wb-inv">Ministère des Flux - </span>Aller au compte de média social</a>'],
  'the French feed names the department in French: an English owner label is not French');
SELECT is((SELECT (owner_en, owner_fr) FROM smam.public_index WHERE url = 'https://x.com/FeedsMinister')::text,
  '("Office of the <Minister> of Feeds","Ministère des Flux")', 'smam.public_index says whose account it is, in each language');

-- Read back: smam's own feed, imported, changes nothing.
SET ROLE f_entity;
CREATE TEMP TABLE s2 AS SELECT * FROM smam.import_index_feed(jsonb_build_object('aaData',
  (SELECT jsonb_agg(e) FROM jsonb_array_elements(smam.public_index_feed('en') -> 'aaData') e WHERE e ->> 2 LIKE '%Department of Feeds')), 'en', accept_disappearance => true);
RESET ROLE;
SELECT is((SELECT (rows_read, unchanged) FROM s2)::text, '(5,5)', 'smam''s own feed reads back unchanged');
SELECT is((SELECT count(*) FROM smam.account_owner_label l JOIN smam.account a ON a.id = l.account_id
            WHERE a.department_id = :feeds AND l.label = 'Office of the <Minister> of Feeds' AND l.import_id = (SELECT import_id FROM s1)), 1::bigint,
  'and keeps the owner label as it was');

-- The index names the department again: the label is forgotten. The bare
-- form names no owner: labels are left alone.
SET ROLE f_entity;
CREATE TEMP TABLE s3 AS SELECT * FROM smam.import_index_feed(jsonb_build_object('aaData', jsonb_build_array(
  pg_temp.entry('Minister of Feeds', 'X', 'Department of Feeds', 'Bilingual', 'https://x.com/FeedsMinister', 'Department of Feeds'))), 'en',
  accept_disappearance => true);
RESET ROLE;
SELECT is((SELECT count(*) FROM smam.account_owner_label l JOIN smam.account a ON a.id = l.account_id WHERE a.department_id = :feeds),
  0::bigint, 'an owner the index no longer names is forgotten');
SELECT is((SELECT notes FROM smam.index_import_row WHERE import_id = (SELECT import_id FROM s3)),
  ARRAY['owner "Office of the <Minister> of Feeds" forgotten: the index names the department'], 'and the row says so');
-- canada.ca's French markup, for an account with both names; then the
-- bare form, which names no owner.
SELECT smam.onboard_account(:feeds, 'x', 'https://x.com/FeedsBoth', 'Feeds, both', 'Flux, les deux', 'bilingual', 'test') IS NOT NULL AS onboarded;
SET ROLE f_entity;
SELECT is((SELECT (rows_read, unchanged, rejected) FROM smam.import_index_feed(jsonb_build_object('aaData', jsonb_build_array(jsonb_build_array(
  'Flux, les deux', '<span class="label label-default">X</span>', '<span>Ministère </span>: Ministère des Flux', '<span>Langue</span>: Bilingue',
  '<a class="product-link btn btn-primary" href="https://twitter.com/FeedsBoth"><span class="wb-inv">Cabinet du ministre des Flux - </span>Aller au compte de média social</a>'))),
  'fr', accept_disappearance => true))::text, '(1,1,0)', 'canada.ca''s French markup is read');
SELECT is((SELECT (rows_read, unchanged, rejected) FROM smam.import_index_feed(
  '{"aaData": [["Flux, les deux", "X", "Ministère: Ministère des Flux", "Langue: Bilingue", "<a href=\"https://x.com/FeedsBoth\">https://x.com/FeedsBoth</a>"]]}', 'fr', accept_disappearance => true))::text,
  '(1,1,0)', 'the bare form is still read');
RESET ROLE;
SELECT is((SELECT array_agg(lang || ' ' || label) FROM smam.account_owner_label l JOIN smam.account a ON a.id = l.account_id
            WHERE a.department_id = :feeds),
  ARRAY['fr Cabinet du ministre des Flux'], 'the French owner is kept; the bare form, naming no owner, leaves it');
SELECT is((SELECT array_agg(e ->> 4 ORDER BY l) FROM unnest(ARRAY['en', 'fr']) l, jsonb_array_elements(smam.public_index_feed(l) -> 'aaData') e
            WHERE e ->> 4 LIKE '%FeedsBoth%'),
  ARRAY['<a class="product-link btn btn-primary" href="https://x.com/FeedsBoth"><span class="wb-inv">Department of Feeds - </span>Go to social media account</a>',
        '<a class="product-link btn btn-primary" href="https://x.com/FeedsBoth"><span class="wb-inv">Cabinet du ministre des Flux - </span>Aller au compte de média social</a>'],
  'the French feed names the French owner, the English feed the department');
SET ROLE f_dept;
SELECT throws_ok($$ SELECT smam.import_index_feed('{"aaData": []}', 'en') $$, '42501', NULL, 'a department imports no feed');
SELECT is((SELECT count(*) FROM smam.account_owner_label), 0::bigint, 'and reads the owner labels of its own accounts only');
RESET ROLE;
-- A department whose French name is not known: the French feed gives its
-- English name, as smam.public_index.department_fr does.
SELECT smam.onboard_account(:english_only, 'x', 'https://x.com/EnglishOnly', 'English only', NULL, 'english', 'test') IS NOT NULL AS onboarded;
SELECT is((SELECT e ->> 2 FROM jsonb_array_elements(smam.public_index_feed('fr') -> 'aaData') e WHERE e ->> 4 LIKE '%EnglishOnly%'),
  '<span>Ministère </span>: Agency Without French', 'a department without a French name is named in English in the French feed');

-- ---- nothing published yet: no file ----
SET ROLE f_public;
SELECT is(pg_temp.refusal($$SELECT smam.published_index_file(NULL, 'en')$$), '55000|true|6.2.4',
  'no file before the first publication (55000, 6.2.4, a hint)');
RESET ROLE;

-- ---- canada.ca's feeds of 2024-10-24 ----
CREATE TEMP TABLE canada AS
  SELECT l, pg_read_file(:'datadir' || '/gc-social-media-index/canada-ca-feed-2024-10-24/sm-' || l || '.json') AS feed
    FROM unnest(ARRAY['en', 'fr']) l;
GRANT SELECT ON canada TO PUBLIC;
SET ROLE f_entity;
-- Both feeds, one import: the accounts listed in both tie the departments'
-- English and French names (sql/smam/70_index_import.sql).
CREATE TEMP TABLE en AS SELECT * FROM smam.import_index_feeds((SELECT feed::jsonb FROM canada WHERE l = 'en'),
                                                              (SELECT feed::jsonb FROM canada WHERE l = 'fr'));
RESET ROLE;
SELECT is((SELECT rows_read FROM en), 2042, 'canada.ca''s 1,025 English and 1,017 French entries are read');
SELECT is((SELECT count(*) FROM smam.index_import_row WHERE import_id = (SELECT import_id FROM en)
            AND owner_label_given IS NOT NULL), 2042::bigint, 'each with the owner its link names to a screen reader');
SELECT is((SELECT array_agg(l.lang || ' ' || l.label ORDER BY l.lang) FROM smam.account_owner_label l
             JOIN smam.account a ON a.id = l.account_id WHERE a.url IN ('https://x.com/CanadianPM', 'https://x.com/PMcanadien')),
  ARRAY['en Office of the Prime Minister', 'fr Cabinet du Premier ministre'],
  'the Prime Minister''s accounts, listed under the Privy Council Office, keep their owner');
SELECT is((SELECT count(*) FROM smam.account_owner_label l JOIN smam.account a ON a.id = l.account_id
             JOIN smam.department d ON d.id = a.department_id
            WHERE l.label = CASE WHEN l.lang = 'fr' THEN d.name_fr ELSE d.name_en END), 0::bigint,
  'no owner label repeats the department''s name');

SET ROLE f_entity;
CREATE TEMP TABLE pub1 AS SELECT smam.publish_index() AS id;
RESET ROLE;
GRANT SELECT ON pub1 TO PUBLIC;
-- The published files, as the public reads them, and canada.ca's entries of
-- the accounts the import placed.
SET ROLE f_public;
CREATE TEMP TABLE ours AS
  SELECT l, e, substring(e ->> 4 FROM 'href="([^"]*)"') AS href
    FROM unnest(ARRAY['en', 'fr']) l,
         jsonb_array_elements(convert_from(smam.published_index_file((SELECT id FROM pub1), l), 'UTF8')::jsonb -> 'aaData') e;
RESET ROLE;
CREATE TEMP TABLE theirs AS
  SELECT r.names_in AS l, r.raw::jsonb AS e, a.url
    FROM smam.index_import_row r JOIN smam.account a ON a.id = r.account_id
   WHERE r.import_id = (SELECT import_id FROM en);
CREATE FUNCTION pg_temp.ours(lang text, address text) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT o.e FROM ours o WHERE o.l = lang AND o.href = smam.html_escape(address) $$;
CREATE FUNCTION pg_temp.theirs(lang text, address text) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT t.e FROM theirs t WHERE t.l = lang AND t.url = address $$;
-- canada.ca's entry with its link to the canonical address smam keeps.
CREATE FUNCTION pg_temp.theirs_canonical(lang text, address text) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT jsonb_set(t.e, '{4}', to_jsonb(regexp_replace(t.e ->> 4, 'href="[^"]*"', 'href="' || smam.html_escape(address) || '"')))
       FROM theirs t WHERE t.l = lang AND t.url = address $$;

SELECT is(pg_temp.ours('en', 'https://www.facebook.com/VeteransOmbudsman'), pg_temp.theirs('en', 'https://www.facebook.com/VeteransOmbudsman'),
  'an English entry whose texts are escaped (Canada&#39;s Veterans Ombudsman) is canada.ca''s, cell for cell');
SELECT is(pg_temp.ours('en', 'https://www.facebook.com/CanadianIPO'), pg_temp.theirs('en', 'https://www.facebook.com/CanadianIPO'),
  'so is one whose owner (Innovation, Science and Economic Development Canada) is not its department');
SELECT is(pg_temp.ours('en', 'https://www.youtube.com/user/financecanada'), pg_temp.theirs('en', 'https://www.youtube.com/user/financecanada'),
  'and Finance Canada''s channel, under the Department of Finance Canada');
SELECT is(pg_temp.ours('fr', 'https://www.facebook.com/OfficePICanada'), pg_temp.theirs('fr', 'https://www.facebook.com/OfficePICanada'),
  'a French entry whose owner is not its department is canada.ca''s, cell for cell');
SELECT is(pg_temp.ours('fr', 'https://www.facebook.com/OmbudsmanVeterans'), pg_temp.theirs('fr', 'https://www.facebook.com/OmbudsmanVeterans'),
  'so is one whose texts are escaped (Bureau de l&#39;ombudsman des vétérans)');
SELECT is(pg_temp.ours('en', 'https://x.com/CanadianPM'), pg_temp.theirs_canonical('en', 'https://x.com/CanadianPM'),
  'CanadianPM, the Prime Minister''s under the Privy Council Office: canada.ca''s entry, its link to the canonical x.com address');
SELECT is(pg_temp.ours('fr', 'https://x.com/PMcanadien'), pg_temp.theirs_canonical('fr', 'https://x.com/PMcanadien'),
  'PMcanadien, in French: canada.ca''s entry, its link to the canonical address');
SELECT is((SELECT count(*) FROM ours WHERE NOT (
            e ->> 1 ~ '^<span class="label label-default">[^<]+</span>$'
            AND e ->> 2 ~ CASE WHEN l = 'fr' THEN '^<span>Ministère </span>: [^<]+$' ELSE '^<span>Department</span>: [^<]+$' END
            AND e ->> 3 = ANY (CASE WHEN l = 'fr' THEN ARRAY['<span>Langue</span>: Anglais', '<span>Langue</span>: Français', '<span>Langue</span>: Bilingue']
                                    ELSE ARRAY['<span>Language</span>: English', '<span>Language</span>: French', '<span>Language</span>: Bilingual'] END)
            AND e ->> 4 ~ ('^<a class="product-link btn btn-primary" href="[^"<>]+"><span class="wb-inv">[^<]+ - </span>'
                           || CASE WHEN l = 'fr' THEN 'Aller au compte de média social' ELSE 'Go to social media account' END || '</a>$'))),
  0::bigint, 'every published entry, in both feeds, is in canada.ca''s markup');
SELECT diag('identical entries: ' || (SELECT string_agg(o.l || ' ' || count, ', ') FROM (SELECT o.l, count(*) FROM ours o JOIN theirs t ON t.l = o.l AND o.href = smam.html_escape(t.url) AND o.e = t.e GROUP BY o.l) o));
SELECT ok((SELECT count(*) FROM ours o JOIN theirs t ON t.l = o.l AND o.href = smam.html_escape(t.url) AND o.e = t.e
            WHERE o.l = 'en') >= 100
          AND (SELECT count(*) FROM ours o JOIN theirs t ON t.l = o.l AND o.href = smam.html_escape(t.url) AND o.e = t.e
                WHERE o.l = 'fr') >= 75,
  'over 100 English and 75 French entries are canada.ca''s, byte for byte (the others differ by canada.ca''s own spellings and by canonical addresses; the feeds alone leave the rows of department names nothing ties held for the entity, so they are not published)');
SELECT is((SELECT count(*) FROM ours o JOIN theirs t ON t.l = o.l AND o.href = smam.html_escape(t.url)
            WHERE o.e ->> 3 <> t.e ->> 3 AND t.e ->> 3 IN ('<span>Language</span>: English', '<span>Language</span>: Bilingual',
                                                          '<span>Langue</span>: Français', '<span>Langue</span>: Bilingue')),
  0::bigint, 'every language cell is canada.ca''s where canada.ca spelled it as it does most');

-- ---- the files published: recorded, given back, checked ----
SELECT is(smam.published_index_file((SELECT id FROM pub1), 'en'), convert_to(smam.public_index_feed_json('en')::text, 'UTF8'),
  'the recorded sm-en.json is what smam.public_index_feed_json(''en'') wrote at publication, byte for byte');
SELECT is(smam.published_index_file(NULL, 'fr'), convert_to(smam.public_index_feed_json('fr')::text, 'UTF8'),
  'and sm-fr.json (the last publication, asked for without its id)');
SELECT is((SELECT array_agg(concat_ws(' ', file_name, byte_count = octet_length(smam.published_index_file(snapshot_id, lang)),
                                      content_sha256 = encode(sha256(smam.published_index_file(snapshot_id, lang)), 'hex'), latest)
                            ORDER BY lang) FROM smam.published_index_files WHERE snapshot_id = (SELECT id FROM pub1)),
  ARRAY['sm-en.json t t t', 'sm-fr.json t t t'], 'each file is listed with its size and SHA-256');
SET ROLE f_public;
CREATE TEMP TABLE files1 AS SELECT l, smam.published_index_file(NULL, l) AS bytes FROM unnest(ARRAY['en', 'fr']) l;
SELECT is((SELECT array_agg(concat_ws(' ', c.snapshot_id = (SELECT id FROM pub1), c.lang, c.file_name, c.latest) ORDER BY f.l)
             FROM files1 f, smam.check_index_file(f.bytes) c),
  ARRAY['t en sm-en.json t', 't fr sm-fr.json t'], 'the public checks a file: the publication it is, the last one');
SELECT is((SELECT count(*) FROM smam.check_index_file((SELECT set_byte(bytes, 200, get_byte(bytes, 200) # 1) FROM files1 WHERE l = 'en'))),
  0::bigint, 'a file with one byte changed matches no publication');
SELECT is((SELECT count(*) FROM smam.check_index_file((SELECT bytes FROM files1 WHERE l = 'en') || '\x0a'::bytea)),
  0::bigint, 'nor does one with a line break added');
SELECT is((SELECT count(*) FROM smam.check_index_file(convert_to((SELECT feed FROM canada WHERE l = 'en'), 'UTF8'))),
  0::bigint, 'canada.ca''s own file was never published by smam');
SELECT throws_ok($$ SELECT * FROM smam.index_snapshot_file $$, '42501', NULL, 'the public reads the files through the functions, not the table');
SELECT is(pg_temp.refusal($$SELECT smam.published_index_file(NULL, 'de')$$), '22023|true|6.2.4', 'a file is en or fr (22023, 6.2.4)');
SELECT is(pg_temp.refusal($$SELECT smam.published_index_file(987654, 'en')$$), '42704|true|6.2.4', 'a publication that does not exist (42704)');
SELECT is(pg_temp.refusal($$SELECT * FROM smam.check_index_file(NULL)$$), '22023|true|6.2.4', 'no file to check (22023)');
RESET ROLE;

-- Published again, nothing changed: the same bytes, two publications.
SET ROLE f_entity;
SET TimeZone = 'Pacific/Kiritimati';
SET DateStyle = 'SQL, DMY';
SET bytea_output = 'escape';
CREATE TEMP TABLE pub2 AS SELECT smam.publish_index() AS id;
RESET ROLE;
SELECT is(smam.published_index_file((SELECT id FROM pub2), 'en'), (SELECT bytes FROM files1 WHERE l = 'en'),
  'published again from a session with other settings, nothing changed: the same bytes');
RESET TimeZone;
RESET DateStyle;
RESET bytea_output;
SELECT is((SELECT array_agg(concat_ws(' ', c.snapshot_id, c.latest) ORDER BY c.published_at DESC, c.snapshot_id DESC)
             FROM smam.check_index_file((SELECT bytes FROM files1 WHERE l = 'fr')) c),
  ARRAY[(SELECT id FROM pub2) || ' t', (SELECT id FROM pub1) || ' f'], 'the check names both publications, the last first');
-- A change, published: the earlier files are no longer the last.
SELECT smam.onboard_account(:feeds, 'flickr', 'https://www.flickr.com/photos/feeds', 'Feeds on Flickr', 'Flux sur Flickr', 'bilingual', 'test') IS NOT NULL AS onboarded;
SET ROLE f_entity;
CREATE TEMP TABLE pub3 AS SELECT smam.publish_index() AS id;
RESET ROLE;
SELECT is((SELECT bool_or(latest) FROM smam.check_index_file((SELECT bytes FROM files1 WHERE l = 'en'))), false,
  'a file of an earlier publication is no longer the last: the website serves a stale index');
SELECT is((SELECT array_agg(c.lang) FROM smam.check_index_file(smam.published_index_file((SELECT id FROM pub3), 'en')) c WHERE c.latest),
  ARRAY['en'], 'the new file is');
SELECT is((SELECT count(*) FROM smam.published_index_files), 6::bigint, 'three publications, two files each');
SET ROLE f_dept;
SELECT is((SELECT count(*) FROM smam.index_snapshot_file), 6::bigint, 'a department reads the recorded files');
RESET ROLE;
SELECT is((SELECT count(*) FROM smam.audit_log WHERE table_name = 'smam.index_snapshot_file' AND operation = 'INSERT'), 6::bigint,
  'each recorded file is in the audit log');
SELECT is((SELECT count(*) FROM smam.audit_log WHERE table_name = 'smam.account_owner_label'), 
  (SELECT count(*) FROM smam.account_owner_label) + 2, 'and so is each owner label kept, and the one forgotten (its insert and delete)');

SELECT * FROM finish();
ROLLBACK;

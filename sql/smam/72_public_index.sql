-- The public index of official accounts (6.2.4): the live accounts
-- (implementation, evaluation) as a view the public may read, the canada.ca
-- feed in English and French, a JSON document for APIs, and the record of
-- each publication (time, hash, what was listed).

CREATE VIEW smam.public_index WITH (security_barrier = true) AS
  SELECT d.name_en                          AS department_en,
         coalesce(d.name_fr, d.name_en)     AS department_fr,
         a.name_en                          AS account_en,
         a.name_fr                          AS account_fr,
         p.name                             AS platform,
         a.url                              AS url,
         a.official_language::text          AS official_language,
         a.listed_on                        AS listed_on,
         coalesce(oe.label, d.name_en)      AS owner_en,
         coalesce(ofr.label, d.name_fr, d.name_en) AS owner_fr
    FROM smam.account a
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) a.department_id
    JOIN smam.platform p ON p.code OPERATOR(pg_catalog.=) a.platform
    -- Unique on (account_id, lang): a query that reads neither owner column
    -- does not join them (PostgreSQL removes the joins).
    LEFT JOIN smam.account_owner_label oe
           ON oe.account_id OPERATOR(pg_catalog.=) a.id AND oe.lang OPERATOR(pg_catalog.=) 'en'
    LEFT JOIN smam.account_owner_label ofr
           ON ofr.account_id OPERATOR(pg_catalog.=) a.id AND ofr.lang OPERATOR(pg_catalog.=) 'fr'
   WHERE a.stage OPERATOR(pg_catalog.=) ANY (ARRAY['implementation', 'evaluation']::smam.stage[]);
COMMENT ON VIEW smam.public_index IS
  'Index of official social media accounts (6.2.4): live accounts only, nothing internal; readable by smam_public';
-- The meaning of each column of smam.public_index: sql/smam/95_report_dictionary.sql.

-- One entry of the feed, in canada.ca's markup (the page's styles and a
-- screen reader read it): the account's name; the platform as a label;
-- "Department" / "Ministère " and "Language" / "Langue" in spans; a link
-- button whose hidden text (wb-inv) names whose account it is, so that no
-- two links read the same (WCAG 2.4.4). Every text escaped for HTML; French
-- labels and names in the French feed. The five cells as text[]: the
-- description in SQL of what the feeds below write (the tests compare them).
-- owner_en and owner_fr (smam.public_index) default to the department.
CREATE FUNCTION smam.feed_cells(lang text, department_en text, department_fr text, account_en text,
                                account_fr text, platform text, url text, official_language text,
                                owner_en text DEFAULT NULL, owner_fr text DEFAULT NULL)
  RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  -- No SET clause, so that it is inlined into the caller's query; every
  -- name in it is schema-qualified instead.
  AS $$
    SELECT ARRAY[
      smam.html_escape(CASE WHEN lang OPERATOR(pg_catalog.=) 'fr' THEN coalesce(account_fr, account_en)
                            ELSE coalesce(account_en, account_fr) END),
      '<span class="label label-default">' OPERATOR(pg_catalog.||) smam.html_escape(platform)
        OPERATOR(pg_catalog.||) '</span>',
      CASE WHEN lang OPERATOR(pg_catalog.=) 'fr'
           THEN '<span>Ministère </span>: ' OPERATOR(pg_catalog.||) smam.html_escape(department_fr)
           ELSE '<span>Department</span>: ' OPERATOR(pg_catalog.||) smam.html_escape(department_en) END,
      CASE WHEN lang OPERATOR(pg_catalog.=) 'fr'
           THEN '<span>Langue</span>: ' OPERATOR(pg_catalog.||)
                CASE WHEN official_language OPERATOR(pg_catalog.=) 'english' THEN 'Anglais'
                     WHEN official_language OPERATOR(pg_catalog.=) 'french' THEN 'Français' ELSE 'Bilingue' END
           ELSE '<span>Language</span>: ' OPERATOR(pg_catalog.||)
                CASE WHEN official_language OPERATOR(pg_catalog.=) 'english' THEN 'English'
                     WHEN official_language OPERATOR(pg_catalog.=) 'french' THEN 'French' ELSE 'Bilingual' END END,
      '<a class="product-link btn btn-primary" href="' OPERATOR(pg_catalog.||) smam.html_escape(url)
        OPERATOR(pg_catalog.||) '"><span class="wb-inv">'
        OPERATOR(pg_catalog.||) smam.html_escape(CASE WHEN lang OPERATOR(pg_catalog.=) 'fr'
                                                      THEN coalesce(owner_fr, department_fr)
                                                      ELSE coalesce(owner_en, department_en) END)
        OPERATOR(pg_catalog.||) ' - </span>'
        OPERATOR(pg_catalog.||) CASE WHEN lang OPERATOR(pg_catalog.=) 'fr' THEN 'Aller au compte de média social'
                                     ELSE 'Go to social media account' END
        OPERATOR(pg_catalog.||) '</a>']
  $$;
COMMENT ON FUNCTION smam.feed_cells(text, text, text, text, text, text, text, text, text, text) IS
  'The five cells of one canada.ca feed entry in canada.ca''s markup: account, platform label, department, language, link button naming the owner; HTML-escaped';

-- The feeds themselves are written in C (src/feed.c): one pass over the
-- live accounts in the published order, each entry's cells escaped for
-- HTML and written straight into the document, with no aggregate state or
-- copy of the document in between. smam.feed_cells() above is their
-- description in SQL; the tests hold the two to the same output.
CREATE FUNCTION smam.public_index_feed(lang text DEFAULT 'en') RETURNS jsonb
  LANGUAGE c STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET jit = off
  AS 'MODULE_PATHNAME', 'smam_public_index_feed';
COMMENT ON FUNCTION smam.public_index_feed(text) IS
  'The index as the canada.ca feed for en or fr, in canada.ca''s markup: {"aaData": [[account, platform label, department, language, link button], ...]}';

-- The same feed as the text of the file a website serves (json keeps the
-- text as written, which is cheaper than building jsonb).
CREATE FUNCTION smam.public_index_feed_json(lang text DEFAULT 'en') RETURNS json
  LANGUAGE c STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET jit = off
  AS 'MODULE_PATHNAME', 'smam_public_index_feed_json';
COMMENT ON FUNCTION smam.public_index_feed_json(text) IS
  'The canada.ca feed for en or fr as json text, ready to serve as sm-en.json / sm-fr.json; the same content as smam.public_index_feed';

-- The index for APIs: plain JSON, both languages, no HTML.
CREATE FUNCTION smam.public_index_document() RETURNS jsonb
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '64MB'
  SET jit = off
  AS $$
    SELECT jsonb_build_object(
      'title', jsonb_build_object('en', 'Index of official Government of Canada social media accounts',
                                  'fr', 'Répertoire des comptes officiels de médias sociaux du gouvernement du Canada'),
      'count', count(*),
      'accounts', coalesce(jsonb_agg(jsonb_build_object(
          'department', jsonb_build_object('en', i.department_en, 'fr', i.department_fr),
          'name', jsonb_build_object('en', i.account_en, 'fr', i.account_fr),
          'platform', i.platform, 'url', i.url, 'official_language', i.official_language,
          'listed_on', i.listed_on) ORDER BY i.url), '[]'::jsonb))
      FROM smam.public_index i
  $$;
COMMENT ON FUNCTION smam.public_index_document() IS
  'The index as a JSON document for APIs: {"title", "count", "accounts": [{department{en,fr}, name{en,fr}, platform, url, official_language, listed_on}]}';

-- Publications: each snapshot with its time, hash and entries.
CREATE SEQUENCE smam.index_snapshot_id_seq;
CREATE TABLE smam.index_snapshot (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.index_snapshot_id_seq'),
  published_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  published_by    name NOT NULL DEFAULT smam.acting_role(),
  account_count   integer NOT NULL,
  content_sha256  text NOT NULL,
  document        jsonb NOT NULL
);
ALTER SEQUENCE smam.index_snapshot_id_seq OWNED BY smam.index_snapshot.id;
CREATE INDEX index_snapshot_published_idx ON smam.index_snapshot (published_at);
COMMENT ON TABLE smam.index_snapshot IS 'Each publication of the index (6.2.4): when, by whom, the document and its SHA-256';
COMMENT ON COLUMN smam.index_snapshot.content_sha256 IS 'SHA-256 of the published document''s accounts array (text form)';

CREATE TABLE smam.index_snapshot_entry (
  snapshot_id  bigint NOT NULL REFERENCES smam.index_snapshot (id),
  account_id   bigint NOT NULL REFERENCES smam.account (id),
  entry_md5    text NOT NULL,
  PRIMARY KEY (snapshot_id, account_id)
);
COMMENT ON TABLE smam.index_snapshot_entry IS 'The accounts a publication listed, with a digest of what it said of each';

-- What the index says of an account, as a digest, to tell a stale entry.
CREATE FUNCTION smam.index_entry_md5(a smam.account) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT md5(concat_ws(E'\x1f', a.department_id, a.platform, a.url, a.name_en, a.name_fr,
                         a.official_language, to_char(a.listed_on, 'YYYY-MM-DD')))
  $$;
COMMENT ON FUNCTION smam.index_entry_md5(smam.account) IS 'Digest of what the public index says of an account';

-- The files a publication puts on the website: sm-en.json and sm-fr.json,
-- the exact bytes (UTF-8) smam.public_index_feed_json() wrote, with their
-- SHA-256, so that a file the website serves can be checked against the
-- record (smam.check_index_file) and given back as it was
-- (smam.published_index_file).
CREATE TABLE smam.index_snapshot_file (
  snapshot_id     bigint NOT NULL REFERENCES smam.index_snapshot (id),
  lang            text NOT NULL CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  file_name       text NOT NULL,
  content_sha256  text NOT NULL,
  byte_count      integer NOT NULL,
  content         bytea NOT NULL,
  PRIMARY KEY (snapshot_id, lang),
  CONSTRAINT index_snapshot_file_name CHECK (file_name OPERATOR(pg_catalog.=) ('sm-' OPERATOR(pg_catalog.||) lang OPERATOR(pg_catalog.||) '.json')),
  -- The record holds together: the hash and the size are the content's.
  CONSTRAINT index_snapshot_file_sha256
    CHECK (content_sha256 OPERATOR(pg_catalog.=) pg_catalog.encode(pg_catalog.sha256(content), 'hex')),
  CONSTRAINT index_snapshot_file_bytes CHECK (byte_count OPERATOR(pg_catalog.=) pg_catalog.octet_length(content))
);
CREATE INDEX index_snapshot_file_sha256_idx ON smam.index_snapshot_file (content_sha256);
COMMENT ON TABLE smam.index_snapshot_file IS
  'The files each publication of the index put on the website (6.2.4): sm-en.json and sm-fr.json, byte for byte, with their SHA-256';
COMMENT ON COLUMN smam.index_snapshot_file.content IS
  'The file''s bytes: smam.public_index_feed_json(lang) as published, in UTF-8';
COMMENT ON COLUMN smam.index_snapshot_file.content_sha256 IS 'SHA-256 of the file''s bytes, hex (as sha256sum writes it)';

CREATE FUNCTION smam.publish_index() RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  new_id bigint;
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not publish the index of official accounts', who),
      'The entity maintains the index of official accounts and publishes it on the Government of Canada website.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
  -- One statement, so one snapshot: the document, the two files and the
  -- entries listed are the index of one moment.
  WITH doc AS MATERIALIZED (SELECT smam.public_index_document() AS d),
       snap AS (
         INSERT INTO smam.index_snapshot (account_count, content_sha256, document)
         SELECT (doc.d ->> 'count')::integer, encode(sha256(convert_to((doc.d -> 'accounts')::text, 'UTF8')), 'hex'), doc.d
           FROM doc
         RETURNING id),
       file AS MATERIALIZED (
         SELECT l AS lang, convert_to(smam.public_index_feed_json(l)::text, 'UTF8') AS bytes
           FROM unnest(ARRAY['en', 'fr']) l),
       files AS (
         INSERT INTO smam.index_snapshot_file (snapshot_id, lang, file_name, content_sha256, byte_count, content)
         SELECT snap.id, file.lang, 'sm-' || file.lang || '.json', encode(sha256(file.bytes), 'hex'),
                octet_length(file.bytes), file.bytes
           FROM snap CROSS JOIN file),
       entries AS (
         INSERT INTO smam.index_snapshot_entry (snapshot_id, account_id, entry_md5)
         SELECT snap.id, a.id, smam.index_entry_md5(a)
           FROM snap CROSS JOIN smam.account a WHERE a.stage IN ('implementation', 'evaluation'))
  SELECT snap.id INTO new_id FROM snap;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.publish_index() IS
  'Record a publication of the index: the document, its SHA-256, the accounts listed and the files sm-en.json and sm-fr.json byte for byte (entity official or administrator)';

-- The files of every publication, without their content (the public may
-- read what was published): what to compare a file the website serves with.
CREATE VIEW smam.published_index_files WITH (security_barrier = true) AS
  SELECT f.snapshot_id, s.published_at, f.lang, f.file_name, f.content_sha256, f.byte_count,
         f.snapshot_id OPERATOR(pg_catalog.=)
           (SELECT x.id FROM smam.index_snapshot x ORDER BY x.published_at DESC, x.id DESC LIMIT 1) AS latest
    FROM smam.index_snapshot_file f
    JOIN smam.index_snapshot s ON s.id OPERATOR(pg_catalog.=) f.snapshot_id;
COMMENT ON VIEW smam.published_index_files IS
  'The files each publication of the index put on the website (sm-en.json, sm-fr.json): size and SHA-256; readable by smam_public';
-- The meaning of each column of smam.published_index_files: sql/smam/95_report_dictionary.sql.

-- A published file, byte for byte: of publication snapshot (NULL: the last
-- one), in en (sm-en.json) or fr (sm-fr.json).
CREATE FUNCTION smam.published_index_file(snapshot bigint, lang text) RETURNS bytea
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  snap bigint := snapshot;
  bytes bytea;
BEGIN
  IF lang IS NULL OR lang NOT IN ('en', 'fr') THEN
    PERFORM smam.refuse('22023', '6.2.4', format('feed language "%s" is not en or fr', coalesce(lang, '')),
      'The index is published as sm-en.json (en) and sm-fr.json (fr).',
      'Ask for en or fr.');
  END IF;
  IF snap IS NULL THEN
    snap := (SELECT s.id FROM smam.index_snapshot s ORDER BY s.published_at DESC, s.id DESC LIMIT 1);
    IF snap IS NULL THEN
      PERFORM smam.refuse('55000', '6.2.4', 'the index of official accounts has not been published',
        'No publication is recorded, so there is no published file.',
        'The entity''s official publishes the index with smam.publish_index().');
    END IF;
  END IF;
  SELECT f.content INTO bytes FROM smam.index_snapshot_file f
   WHERE f.snapshot_id = snap AND f.lang = published_index_file.lang;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', '6.2.4', format('publication %s of the index does not exist', snap),
      'No file of that publication is recorded.',
      'smam.published_index_files lists every publication and its files.');
  END IF;
  RETURN bytes;
END
$$;
COMMENT ON FUNCTION smam.published_index_file(bigint, text) IS
  'A file a publication of the index put on the website (sm-en.json, sm-fr.json), byte for byte; snapshot NULL: the last publication';

-- Which publications, if any, put exactly these bytes on the website: a
-- row per publication and language whose file they are (none: the file was
-- never published by smam); latest says whether it is the last one.
CREATE FUNCTION smam.check_index_file(content bytea,
    OUT snapshot_id bigint, OUT published_at timestamptz, OUT lang text, OUT file_name text,
    OUT content_sha256 text, OUT latest boolean)
  RETURNS SETOF record
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  sha text;
BEGIN
  IF check_index_file.content IS NULL THEN
    PERFORM smam.refuse('22023', '6.2.4', 'no file to check',
      'A file is checked by its bytes against the files each publication recorded.',
      'Pass the file''s bytes, e.g. pg_read_binary_file(...) or decode(..., ''hex''), or compare its SHA-256 with smam.published_index_files.');
  END IF;
  sha := encode(sha256(check_index_file.content), 'hex');
  RETURN QUERY
    SELECT v.snapshot_id, v.published_at, v.lang, v.file_name, v.content_sha256, v.latest
      FROM smam.published_index_files v
      JOIN smam.index_snapshot_file f ON f.snapshot_id = v.snapshot_id AND f.lang = v.lang
     WHERE v.content_sha256 = sha AND f.content = check_index_file.content
     ORDER BY v.published_at DESC, v.snapshot_id DESC, v.lang;
END
$$;
COMMENT ON FUNCTION smam.check_index_file(bytea) IS
  'The publications whose file (sm-en.json, sm-fr.json) is exactly these bytes, latest first; no row: smam never published them';

-- Has the index changed since it was last published, and since when?
CREATE FUNCTION smam.index_publication_status(at timestamptz DEFAULT pg_catalog.now(),
    OUT last_snapshot bigint, OUT last_published_at timestamptz, OUT last_sha256 text,
    OUT live_accounts bigint, OUT unpublished_changes bigint, OUT changed_since timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '64MB'
  SET jit = off
  AS $$
    WITH s AS (SELECT x.id, x.published_at, x.content_sha256 FROM smam.index_snapshot x WHERE x.published_at <= at
                ORDER BY x.published_at DESC, x.id DESC LIMIT 1),
         e AS MATERIALIZED (SELECT y.account_id, y.entry_md5 FROM smam.index_snapshot_entry y
                             WHERE y.snapshot_id = (SELECT id FROM s)),
         live AS MATERIALIZED (SELECT a.id, a.stage_changed_at FROM smam.account a
                                WHERE a.stage IN ('implementation', 'evaluation') AND a.created_at <= at),
         -- The digest is computed only for accounts the publication lists.
         diff AS (
           SELECT l.stage_changed_at AS since FROM live l LEFT JOIN e ON e.account_id = l.id
            WHERE e.account_id IS NULL
               OR e.entry_md5 <> (SELECT smam.index_entry_md5(a) FROM smam.account a WHERE a.id = l.id)
           UNION ALL
           SELECT a.stage_changed_at FROM e JOIN smam.account a ON a.id = e.account_id
            WHERE a.stage NOT IN ('implementation', 'evaluation'))
    SELECT (SELECT id FROM s), (SELECT published_at FROM s), (SELECT content_sha256 FROM s),
           (SELECT count(*) FROM live), (SELECT count(*) FROM diff), (SELECT min(since) FROM diff)
  $$;
COMMENT ON FUNCTION smam.index_publication_status(timestamptz) IS
  'The last publication before a moment, the live accounts, how many differ from it and since when (6.2.4)';

ALTER TABLE smam.index_snapshot ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_snapshot_entry ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_snapshot_file ENABLE ROW LEVEL SECURITY;
CREATE POLICY index_snapshot_file_read ON smam.index_snapshot_file FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_snapshot_read ON smam.index_snapshot FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_snapshot_entry_read ON smam.index_snapshot_entry FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.index_snapshot, smam.index_snapshot_file TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
-- What was published is public: the list of files, each file, the check.
GRANT SELECT ON smam.published_index_files
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.published_index_file(bigint, text), smam.check_index_file(bytea)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT SELECT ON smam.index_snapshot_entry TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON smam.public_index TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.public_index_feed(text), smam.public_index_feed_json(text), smam.public_index_document()
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.publish_index() TO smam_admin, smam_entity;
GRANT EXECUTE ON FUNCTION smam.index_publication_status(timestamptz)
  TO smam_admin, smam_entity, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot_entry', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot_file', '');

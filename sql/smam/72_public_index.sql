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
         a.listed_on                        AS listed_on
    FROM smam.account a
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) a.department_id
    JOIN smam.platform p ON p.code OPERATOR(pg_catalog.=) a.platform
   WHERE a.stage OPERATOR(pg_catalog.=) ANY (ARRAY['implementation', 'evaluation']::smam.stage[]);
COMMENT ON VIEW smam.public_index IS
  'Index of official social media accounts (6.2.4): live accounts only, nothing internal; readable by smam_public';
COMMENT ON COLUMN smam.public_index.department_en IS 'The department''s English name';
COMMENT ON COLUMN smam.public_index.department_fr IS 'The department''s French name (the English one where none is known)';
COMMENT ON COLUMN smam.public_index.account_en IS 'The account''s English name, if any';
COMMENT ON COLUMN smam.public_index.account_fr IS 'The account''s French name, if any';
COMMENT ON COLUMN smam.public_index.platform IS 'The platform''s name (Facebook, X, ...)';
COMMENT ON COLUMN smam.public_index.url IS 'The account''s canonical address';
COMMENT ON COLUMN smam.public_index.official_language IS 'english, french or bilingual';
COMMENT ON COLUMN smam.public_index.listed_on IS 'Date the account was first listed in the index';

-- One entry of the feed, as canada.ca publishes it: every text escaped for
-- HTML, French labels in the French feed. The five cells as text[]: the
-- description in SQL of what the feeds below write (the tests compare them).
CREATE FUNCTION smam.feed_cells(lang text, department_en text, department_fr text, account_en text,
                                account_fr text, platform text, url text, official_language text)
  RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  -- No SET clause, so that it is inlined into the caller's query; every
  -- name in it is schema-qualified instead.
  AS $$
    SELECT ARRAY[
      smam.html_escape(CASE WHEN lang OPERATOR(pg_catalog.=) 'fr' THEN coalesce(account_fr, account_en)
                            ELSE coalesce(account_en, account_fr) END),
      smam.html_escape(platform),
      CASE WHEN lang OPERATOR(pg_catalog.=) 'fr' THEN 'Ministère: ' OPERATOR(pg_catalog.||) smam.html_escape(department_fr)
           ELSE 'Department: ' OPERATOR(pg_catalog.||) smam.html_escape(department_en) END,
      CASE WHEN lang OPERATOR(pg_catalog.=) 'fr'
           THEN CASE official_language WHEN 'english' THEN 'Langue: Anglais' WHEN 'french' THEN 'Langue: Français'
                                       ELSE 'Langue: Bilingue' END
           ELSE CASE official_language WHEN 'english' THEN 'Language: English' WHEN 'french' THEN 'Language: French'
                                       ELSE 'Language: Bilingual' END END,
      '<a href="' OPERATOR(pg_catalog.||) smam.html_escape(url) OPERATOR(pg_catalog.||) '">'
        OPERATOR(pg_catalog.||) smam.html_escape(url) OPERATOR(pg_catalog.||) '</a>']
  $$;
COMMENT ON FUNCTION smam.feed_cells(text, text, text, text, text, text, text, text) IS
  'The five cells of one canada.ca feed entry: account, platform, "Department: ...", "Language: ...", link; HTML-escaped';

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
  'The index as the canada.ca feed for en or fr: {"aaData": [[account, platform, "Department: ...", "Language: ...", "<a href=...>...</a>"], ...]}';

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

CREATE FUNCTION smam.publish_index() RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  doc jsonb;
  new_id bigint;
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not publish the index of official accounts', who),
      'The entity maintains the index of official accounts and publishes it on the Government of Canada website.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
  doc := smam.public_index_document();
  INSERT INTO smam.index_snapshot (account_count, content_sha256, document)
  VALUES ((doc ->> 'count')::integer, encode(sha256(convert_to((doc -> 'accounts')::text, 'UTF8')), 'hex'), doc)
  RETURNING id INTO new_id;
  INSERT INTO smam.index_snapshot_entry (snapshot_id, account_id, entry_md5)
  SELECT new_id, a.id, smam.index_entry_md5(a)
    FROM smam.account a WHERE a.stage IN ('implementation', 'evaluation');
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.publish_index() IS
  'Record a publication of the index: the document, its SHA-256 and the accounts listed (entity official or administrator)';

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
CREATE POLICY index_snapshot_read ON smam.index_snapshot FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_snapshot_entry_read ON smam.index_snapshot_entry FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.index_snapshot TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
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

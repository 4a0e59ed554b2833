-- Import of the canada.ca index of official accounts (6.2.4): the CSV file
-- (columns of the canada.ca feed as collected: Account, Platform, Department,
-- Language, URL, gc_orgID, Date Added) or the aaData JSON feed itself, into
-- departments and accounts through the onboarding path (smam.onboard_account).
-- Every row read is kept with its outcome: created, updated, unchanged, or
-- rejected with the reason. Rules: docs/index-and-compliance.md.

-- Text formats (src/import.c).
CREATE FUNCTION smam.csv_records(content text,
                                 OUT record_number integer, OUT line_number integer,
                                 OUT fields text[], OUT raw text, OUT problem text)
  RETURNS SETOF record LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_csv_records';
COMMENT ON FUNCTION smam.csv_records(text) IS
  'The records of a CSV text (RFC 4180), each with its fields, its raw text, or the problem that stops it';

CREATE FUNCTION smam.html_escape(text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_html_escape';
COMMENT ON FUNCTION smam.html_escape(text) IS 'Text made safe inside HTML: & < > " and '' as character references';

CREATE FUNCTION smam.html_unescape(text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_html_unescape';
COMMENT ON FUNCTION smam.html_unescape(text) IS 'The text of an HTML fragment: tags removed, character references read';

-- The official language a spelling stands for, in either official language.
CREATE FUNCTION smam.official_language_of(spelling text) RETURNS smam.official_language
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE translate(lower(btrim(spelling)), 'çéè', 'cee')
             WHEN 'english' THEN 'english' WHEN 'anglais' THEN 'english' WHEN 'en' THEN 'english'
             WHEN 'eng' THEN 'english'
             WHEN 'french' THEN 'french' WHEN 'francais' THEN 'french' WHEN 'fr' THEN 'french'
             WHEN 'fra' THEN 'french' WHEN 'fre' THEN 'french'
             WHEN 'bilingual' THEN 'bilingual' WHEN 'bilingue' THEN 'bilingual'
             WHEN 'english and french' THEN 'bilingual' WHEN 'anglais et francais' THEN 'bilingual'
             WHEN 'en/fr' THEN 'bilingual' WHEN 'fr/en' THEN 'bilingual'
           END::smam.official_language
  $$;
COMMENT ON FUNCTION smam.official_language_of(text) IS
  'english, french or bilingual for a spelling in either language (Français, Bilingue, anglais, EN...); NULL if none';

-- Is a spelling of a language written in French? (The French feed writes
-- Français, Bilingue, Anglais; its department names are French.)
CREATE FUNCTION smam.spelled_in_french(spelling text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT translate(lower(btrim(spelling)), 'çéè', 'cee') IN ('francais', 'bilingue', 'anglais', 'anglais et francais') $$;
COMMENT ON FUNCTION smam.spelled_in_french(text) IS 'Whether a language spelling is French (Français, Bilingue, Anglais)';

-- ---- Department identity ----
-- A department is one organization: its English and French names, its
-- gc_orgID where known, and every other name the index has listed it under
-- (smam.department_alias). Two spellings that differ only by case, spacing,
-- accents, typography (’ ', – -, NBSP, soft hyphen), a leading article or a
-- trailing abbreviation in parentheses are one name: they share a key.

-- Names under which the index has listed a department besides its own two,
-- with where (the imports) and when they were first and last seen.
CREATE TABLE smam.department_alias (
  name_key        text PRIMARY KEY,
  name            text NOT NULL CHECK (pg_catalog.length(name) OPERATOR(pg_catalog.<=) 300),
  department_id   bigint NOT NULL REFERENCES smam.department (id),
  lang            text CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  how             text NOT NULL,
  import_id       bigint,
  recorded_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  last_import_id  bigint,
  last_seen_at    timestamptz
);
CREATE INDEX department_alias_department_idx ON smam.department_alias (department_id);
COMMENT ON TABLE smam.department_alias IS
  'Other names of a department seen in the index (variants under the same gc_orgID, the other language''s name of the same accounts, joint names, names merged in), by comparison key';
COMMENT ON COLUMN smam.department_alias.how IS
  'What ties the name to the department: the same gc_orgID, accounts listed under both names, a joint name, a merge, the entity''s decision';
COMMENT ON COLUMN smam.department_alias.lang IS 'The language of the listing the name was seen in (en, fr), if known';
COMMENT ON COLUMN smam.department_alias.import_id IS 'The import that first listed the department under this name (NULL: set by a person)';
COMMENT ON COLUMN smam.department_alias.recorded_at IS 'When the name was first tied to the department';
COMMENT ON COLUMN smam.department_alias.last_import_id IS 'The latest import that listed the department under this name';
COMMENT ON COLUMN smam.department_alias.last_seen_at IS 'When that import ran';

-- Further gc_orgIDs of a department (one organization listed under two ids,
-- joined by smam.merge_departments): rows with such an id are its rows.
CREATE TABLE smam.department_org_alias (
  gc_org_id      integer PRIMARY KEY CHECK (gc_org_id OPERATOR(pg_catalog.>) 0),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  how            text NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX department_org_alias_department_idx ON smam.department_org_alias (department_id);
COMMENT ON TABLE smam.department_org_alias IS
  'Further gc_orgIDs of a department (an organization the index listed under two ids, merged): rows with such an id are its rows';

-- A name the index uses that nothing ties to a department: no gc_orgID, no
-- account also listed under a known name, no known name it spells. The
-- import does not guess: its rows wait (outcome "held") until the entity
-- confirms the candidate as a new department or maps it to one, or until a
-- later import ties it (a gc_orgID, the accounts it lists).
CREATE SEQUENCE smam.department_candidate_id_seq;
CREATE TABLE smam.department_candidate (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.department_candidate_id_seq'),
  name             text NOT NULL CHECK (pg_catalog.length(name) OPERATOR(pg_catalog.<=) 300),
  name_key         text NOT NULL UNIQUE,
  lang             text CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  gc_org_id        integer,
  first_import_id  bigint NOT NULL,
  first_seen_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  last_import_id   bigint NOT NULL,
  last_seen_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  last_rows        integer NOT NULL DEFAULT 0,
  status           text NOT NULL DEFAULT 'open'
                   CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['open', 'confirmed', 'mapped', 'tied'])),
  department_id    bigint REFERENCES smam.department (id),
  decided_by       name,
  decided_at       timestamptz,
  decision_note    text,
  CHECK ((status OPERATOR(pg_catalog.=) 'open') = (department_id IS NULL))
);
ALTER SEQUENCE smam.department_candidate_id_seq OWNED BY smam.department_candidate.id;
COMMENT ON TABLE smam.department_candidate IS
  'Department names the index uses that nothing ties to a department; their rows are held until the entity confirms or maps the name, or a later import ties it';
COMMENT ON COLUMN smam.department_candidate.status IS
  'open (waits for the entity), confirmed (made a department), mapped (a name of an existing department), tied (a later import tied it)';
COMMENT ON COLUMN smam.department_candidate.last_rows IS 'Rows of the latest import that listed the name';
COMMENT ON COLUMN smam.department_candidate.gc_org_id IS 'The gc_orgID its rows gave, when they gave one but only a French name';

-- The department a gc_orgID stands for.
CREATE FUNCTION smam.department_by_org_id(gc_org_id integer) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce((SELECT coalesce(d.merged_into, d.id) FROM smam.department d
                      WHERE d.gc_org_id = department_by_org_id.gc_org_id),
                    (SELECT o.department_id FROM smam.department_org_alias o
                      WHERE o.gc_org_id = department_by_org_id.gc_org_id))
  $$;
COMMENT ON FUNCTION smam.department_by_org_id(integer) IS 'The department of a gc_orgID (its own, or one merged into it); NULL if none';

-- The department a name key stands for: its English or French name, or an alias.
CREATE FUNCTION smam.department_by_key(name_key text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT x.id FROM (
      SELECT 1 AS o, d.id FROM smam.department d
       WHERE d.name_en_key = department_by_key.name_key AND d.merged_into IS NULL
      UNION ALL
      SELECT 2, d.id FROM smam.department d
       WHERE d.name_fr_key = department_by_key.name_key AND d.merged_into IS NULL
      UNION ALL
      SELECT 3, a.department_id FROM smam.department_alias a WHERE a.name_key = department_by_key.name_key) x
     ORDER BY x.o, x.id LIMIT 1
  $$;
COMMENT ON FUNCTION smam.department_by_key(text) IS
  'The department whose English or French name, or an alias, has this comparison key; NULL if none';

CREATE FUNCTION smam.department_by_name(name text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT smam.department_by_key(smam.department_name_key(department_by_name.name)) $$;
COMMENT ON FUNCTION smam.department_by_name(text) IS
  'The department known by this name (English, French or alias, compared by smam.department_name_key); NULL if none';

-- A joint name, "A and B" or "A et B", where A is a department's name:
-- that department (the longest such A).
CREATE FUNCTION smam.department_of_joint_name(name text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT x.dept FROM (
      SELECT smam.department_by_key(left(k.key, i.i - 1)) AS dept, i.i
        FROM (SELECT smam.department_name_key(department_of_joint_name.name) AS key) k,
             generate_series(2, coalesce(length(k.key), 0)) AS i(i)
       WHERE substr(k.key, i.i, 5) = ' and ' OR substr(k.key, i.i, 4) = ' et ') x
     WHERE x.dept IS NOT NULL
     ORDER BY x.i DESC LIMIT 1
  $$;
COMMENT ON FUNCTION smam.department_of_joint_name(text) IS
  'For a joint name "A and B" / "A et B": the department named A, if known';

-- Record that the index listed a department under a name: its own names
-- need nothing; another name becomes (or refreshes) an alias.
CREATE FUNCTION smam.learn_department_name(department bigint, name text, lang text, how text, import bigint)
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  k text := smam.department_name_key(name);
  d smam.department;
BEGIN
  SELECT * INTO d FROM smam.department x WHERE x.id = department;
  IF k IS NULL OR NOT FOUND OR length(btrim(name)) > 300 THEN
    RETURN;
  END IF;
  IF k IN (smam.department_name_key(d.name_en), coalesce(smam.department_name_key(d.name_fr), '')) THEN
    RETURN;
  END IF;
  IF lang = 'fr' AND d.name_fr IS NULL AND smam.department_by_key(k) IS NULL THEN
    UPDATE smam.department x SET name_fr = btrim(name) WHERE x.id = department;
    DELETE FROM smam.department_alias a WHERE a.name_key = k;
    RETURN;
  END IF;
  INSERT INTO smam.department_alias AS a (name_key, name, department_id, lang, how, import_id, last_import_id, last_seen_at)
  VALUES (k, btrim(name), department, lang, how, import, import, CASE WHEN import IS NOT NULL THEN now() END)
  ON CONFLICT (name_key) DO UPDATE
     SET last_import_id = coalesce(excluded.last_import_id, a.last_import_id),
         last_seen_at = coalesce(excluded.last_seen_at, a.last_seen_at)
   WHERE a.department_id = excluded.department_id;
END
$$;
COMMENT ON FUNCTION smam.learn_department_name(bigint, text, text, text, bigint) IS
  'Internal: the index listed the department under this name; a French name fills a missing name_fr, another name becomes an alias';

-- ---- Imports ----

CREATE TYPE smam.import_summary AS (
  import_id            bigint,
  rows_read            integer,
  created              integer,
  updated              integer,
  unchanged            integer,
  rejected             integer,
  vanished             integer,
  departments_created  integer,
  held                 integer,
  candidates           integer
);
COMMENT ON TYPE smam.import_summary IS
  'What an import did: rows read = created + updated + unchanged + rejected + held; accounts flagged as vanished; departments created; department candidates its held rows wait on';

CREATE SEQUENCE smam.index_import_id_seq;
CREATE TABLE smam.index_import (
  id                   bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.index_import_id_seq'),
  source               text NOT NULL CHECK (source OPERATOR(pg_catalog.=) ANY (ARRAY['csv', 'feeds', 'feed-en', 'feed-fr'])),
  content_sha256       text NOT NULL,
  imported_by          name NOT NULL DEFAULT smam.acting_role(),
  imported_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
  disappearance_accepted boolean NOT NULL DEFAULT false,
  rows_read            integer,
  created              integer,
  updated              integer,
  unchanged            integer,
  rejected             integer,
  vanished             integer,
  departments_created  integer,
  held                 integer,
  candidates           integer
);
ALTER SEQUENCE smam.index_import_id_seq OWNED BY smam.index_import.id;
COMMENT ON TABLE smam.index_import IS 'Each import of the canada.ca index: source, content hash, who, when, and its summary';
COMMENT ON COLUMN smam.index_import.source IS
  'csv (the whole index as CSV), feeds (both canada.ca feeds at once), feed-en or feed-fr (one feed)';
COMMENT ON COLUMN smam.index_import.disappearance_accepted IS
  'The importer said that more listed accounts than smam.index_disappearance_limit allows left the index on purpose';

CREATE TABLE smam.index_import_row (
  import_id          bigint NOT NULL REFERENCES smam.index_import (id),
  row_number         integer NOT NULL,
  line_number        integer,
  raw                text NOT NULL,
  account_name       text,
  platform_given     text,
  department_given   text,
  language_given     text,
  url_given          text,
  gc_org_id_given    text,
  date_added_given   text,
  names_in           text CHECK (names_in OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  name_key           text,
  platform           text,
  official_language  smam.official_language,
  url                text,
  url_key            text,
  gc_org_id          integer,
  department_id      bigint,
  candidate_id       bigint REFERENCES smam.department_candidate (id),
  outcome            text CHECK (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['created', 'updated', 'unchanged', 'rejected', 'held'])),
  account_id         bigint REFERENCES smam.account (id),
  reason             text,
  notes              text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (import_id, row_number),
  CHECK (outcome IS NULL
         OR (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['rejected', 'held']) AND reason IS NOT NULL AND account_id IS NULL)
         OR (outcome OPERATOR(pg_catalog.<>) ALL (ARRAY['rejected', 'held']) AND reason IS NULL AND account_id IS NOT NULL)),
  CHECK ((outcome OPERATOR(pg_catalog.=) 'held') = (candidate_id IS NOT NULL))
);
CREATE INDEX index_import_row_account_idx ON smam.index_import_row (account_id);
CREATE INDEX index_import_row_url_key_idx ON smam.index_import_row (import_id, url_key);
CREATE INDEX index_import_row_org_idx ON smam.index_import_row (import_id, gc_org_id);
CREATE INDEX index_import_row_name_key_idx ON smam.index_import_row (import_id, name_key);
CREATE INDEX index_import_row_candidate_idx ON smam.index_import_row (candidate_id) WHERE candidate_id IS NOT NULL;
COMMENT ON TABLE smam.index_import_row IS
  'Every row an import read, as it came (raw) and as understood, with its outcome: an account, the reason it was rejected, or the department candidate it waits on';
COMMENT ON COLUMN smam.index_import_row.names_in IS
  'Language of the row''s names: the feed''s language, or for a CSV row fr when its language is spelled in French, else en';
COMMENT ON COLUMN smam.index_import_row.name_key IS 'smam.department_name_key of the department as given';
COMMENT ON COLUMN smam.index_import_row.candidate_id IS 'For a held row: the department candidate it waits on';
COMMENT ON COLUMN smam.index_import_row.notes IS 'What normalization did to the row (platform alias, language spelling, URL, department match)';

CREATE VIEW smam.index_reject WITH (security_barrier = true) AS
  SELECT r.import_id, r.row_number, r.line_number, r.raw, r.reason
    FROM smam.index_import_row r
   WHERE r.outcome OPERATOR(pg_catalog.=) 'rejected';
COMMENT ON VIEW smam.index_reject IS 'Rows of index imports that did not become accounts: the row as it came and the reason';
-- The meaning of each column of smam.index_reject: sql/smam/95_report_dictionary.sql.

-- Accounts flagged for a disposition review: listed in an earlier import of
-- the same scope, absent from a newer one. Never deleted; a review is
-- resolved by a decision or closes when the account reappears.
CREATE SEQUENCE smam.disposition_review_id_seq;
CREATE TABLE smam.disposition_review (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.disposition_review_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  import_id      bigint REFERENCES smam.index_import (id),
  reason         text NOT NULL,
  flagged_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  resolved_at    timestamptz,
  resolved_by    name,
  resolution     text,
  CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);
ALTER SEQUENCE smam.disposition_review_id_seq OWNED BY smam.disposition_review.id;
CREATE UNIQUE INDEX disposition_review_open_key ON smam.disposition_review (account_id) WHERE resolved_at IS NULL;
CREATE INDEX disposition_review_department_idx ON smam.disposition_review (department_id);
COMMENT ON TABLE smam.disposition_review IS
  'Accounts that vanished from the index, flagged for a disposition review (6.1.2); one open review per account';

CREATE FUNCTION smam.require_importer(act text DEFAULT 'import the index of official accounts') RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not %s', who, act),
      'The entity maintains the index of official accounts.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.require_importer(text) IS
  'Refuse (42501) unless the acting role may maintain the index (entity official, administrator)';

-- The scope an import covers: the whole index (a CSV file, both feeds) or
-- one language's feed. Vanished accounts are judged against the previous
-- import of the same scope.
CREATE FUNCTION smam.import_scope(source text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT CASE WHEN source IN ('csv', 'feeds') THEN 'whole' ELSE source END $$;
COMMENT ON FUNCTION smam.import_scope(text) IS 'whole for csv and feeds, else the feed (feed-en, feed-fr)';

-- 1. Each row understood: platform, language, URL, gc_orgID, name key; a
--    row that cannot be read is rejected with the reason. One statement.
CREATE FUNCTION smam.import_normalize(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  WITH r0 AS MATERIALIZED (
    -- Each function once per row.
    SELECT r.row_number, r.account_name, r.department_given, r.platform_given, r.language_given, r.url_given,
           smam.platform_of(r.platform_given) AS platform,
           smam.official_language_of(r.language_given) AS lang,
           coalesce(r.names_in, CASE WHEN smam.spelled_in_french(r.language_given) THEN 'fr' ELSE 'en' END) AS names_in,
           CASE WHEN btrim(coalesce(r.gc_org_id_given, '')) ~ E'^[0-9]{1,9}(\\.0*)?$'
                THEN nullif(split_part(btrim(r.gc_org_id_given), '.', 1)::integer, 0) END AS org,
           r.gc_org_id_given
      FROM smam.index_import_row r
     WHERE r.import_id = import AND r.outcome IS NULL),
  r1 AS MATERIALIZED (
    SELECT r0.*, (SELECT q.name FROM smam.platform q WHERE q.code = r0.platform) AS platform_name,
           c.canonical_url, c.url_key, c.problem
      FROM r0 LEFT JOIN LATERAL smam.check_account_url(r0.url_given, r0.platform) c ON r0.platform IS NOT NULL),
  n AS (
    SELECT r1.row_number, r1.platform, r1.lang, r1.names_in, r1.org, r1.canonical_url, r1.url_key,
           CASE WHEN coalesce(btrim(r1.account_name), '') = '' THEN 'The account has no name.'
                WHEN length(btrim(r1.account_name)) > 200
                THEN format('The account''s name has %s characters; the index publishes at most 200.', length(btrim(r1.account_name)))
                WHEN length(btrim(r1.department_given)) > 300
                THEN format('The department''s name has %s characters; the index publishes at most 300.', length(btrim(r1.department_given)))
                WHEN r1.platform IS NULL
                THEN format('"%s" is not a known platform (smam.platform, smam.platform_alias).', coalesce(r1.platform_given, ''))
                WHEN r1.lang IS NULL
                THEN format('"%s" is not an official language spelling (English, French, Bilingual, Français, Anglais, Bilingue).',
                            coalesce(r1.language_given, ''))
                WHEN coalesce(btrim(r1.department_given), '') = '' AND r1.org IS NULL
                THEN 'The row names no department and has no gc_orgID.'
                ELSE r1.problem END AS reason,
           array_remove(ARRAY[
             CASE WHEN r1.platform IS NOT NULL AND r1.platform_given IS DISTINCT FROM r1.platform_name
                  THEN format('platform "%s" read as %s', r1.platform_given, r1.platform_name) END,
             CASE WHEN r1.lang IS NOT NULL AND r1.language_given IS DISTINCT FROM initcap(r1.lang::text)
                  THEN format('language "%s" read as %s', r1.language_given, r1.lang) END,
             CASE WHEN r1.org IS NULL AND btrim(coalesce(r1.gc_org_id_given, '')) <> ''
                  THEN format('gc_orgID "%s" is not a number; set aside', r1.gc_org_id_given) END,
             CASE WHEN r1.problem IS NULL AND r1.canonical_url IS DISTINCT FROM btrim(r1.url_given)
                  THEN format('URL %s read as %s', r1.url_given, r1.canonical_url) END], NULL) AS notes
      FROM r1)
  UPDATE smam.index_import_row x
     SET platform = n.platform, official_language = n.lang, names_in = n.names_in, gc_org_id = n.org,
         name_key = smam.department_name_key(x.department_given),
         url = CASE WHEN n.reason IS NULL THEN n.canonical_url END,
         url_key = CASE WHEN n.reason IS NULL THEN n.url_key END,
         outcome = CASE WHEN n.reason IS NOT NULL THEN 'rejected' END,
         reason = n.reason,
         notes = x.notes || n.notes
    FROM n
   WHERE x.import_id = import AND x.row_number = n.row_number;

  -- The same account twice in one language: the first row stands.
  UPDATE smam.index_import_row x
     SET outcome = 'rejected', reason = format('Row %s lists the same account (%s once normalized).', d.first, x.url)
    FROM (SELECT y.row_number, first_value(y.row_number) OVER w AS first
            FROM smam.index_import_row y
           WHERE y.import_id = import AND y.outcome IS NULL
          WINDOW w AS (PARTITION BY y.url_key, y.names_in ORDER BY y.row_number)) d
   WHERE x.import_id = import AND x.row_number = d.row_number AND d.first <> d.row_number;
END
$$;
COMMENT ON FUNCTION smam.import_normalize(bigint) IS
  'Internal: read each staged row (platform, language, URL, gc_orgID, name key) and reject what cannot be read or repeats a row';

-- The import an import is compared with: the latest finished one of the
-- same scope before it (NULL: none).
CREATE FUNCTION smam.previous_import(import bigint) RETURNS bigint
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT max(i.id) FROM smam.index_import i, smam.index_import this
     WHERE this.id = previous_import.import AND i.id < this.id AND i.rows_read IS NOT NULL
       AND smam.import_scope(i.source) = smam.import_scope(this.source)
  $$;
COMMENT ON FUNCTION smam.previous_import(bigint) IS
  'Internal: the latest finished import of the same scope before this one (vanished accounts and a mass disappearance are judged against it)';

-- A mass disappearance is refused before anything is written: more of the
-- live accounts the previous import of the same scope listed are missing
-- than smam.index_disappearance_limit allows.
CREATE FUNCTION smam.import_check_disappearance(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  imp smam.index_import;
  previous bigint;
  listed bigint;
  missing bigint;
  lim integer := coalesce(nullif(current_setting('smam.index_disappearance_limit', true), '')::integer, 10);
BEGIN
  SELECT * INTO imp FROM smam.index_import i WHERE i.id = import;
  previous := smam.previous_import(import);
  IF previous IS NULL OR imp.disappearance_accepted THEN
    RETURN;
  END IF;
  SELECT count(*), count(*) FILTER (WHERE h.url_key IS NULL)
    INTO listed, missing
    FROM (SELECT DISTINCT p.url_key FROM smam.index_import_row p
           WHERE p.import_id = previous AND p.url_key IS NOT NULL) l
    JOIN smam.account a ON a.url_key = l.url_key AND a.stage IN ('implementation', 'evaluation')
    LEFT JOIN (SELECT DISTINCT x.url_key FROM smam.index_import_row x
                WHERE x.import_id = import AND x.url_key IS NOT NULL) h ON h.url_key = a.url_key;
  IF listed > 0 AND missing * 100 > listed * lim THEN
    PERFORM smam.refuse('22023', '6.2.4',
      format('the index file leaves out %s of the %s live accounts that import %s listed', missing, listed, previous),
      format('That is %s%%; an import may find at most %s%% missing (smam.index_disappearance_limit). A file this short is more likely truncated or partial than a mass disposal, so nothing was imported and no account was flagged for a disposition review.',
             round(missing * 100.0 / listed, 1), lim),
      'Check that the file is the whole index. If these accounts did leave the index, import it again saying so (accept_disappearance => true).');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.import_check_disappearance(bigint) IS
  'Internal: refuse (22023) an import that finds more listed accounts missing than smam.index_disappearance_limit allows, unless accepted';

-- Step a of smam.import_departments: rows without a department whose name
-- (by key) is a department's name or alias.
CREATE FUNCTION smam.import_known_names(import bigint) RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
  UPDATE smam.index_import_row x SET department_id = k.dept
    FROM (SELECT DISTINCT y.name_key, smam.department_by_key(y.name_key) AS dept
            FROM smam.index_import_row y
           WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL AND y.gc_org_id IS NULL
             AND y.name_key IS NOT NULL) k
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.gc_org_id IS NULL
     AND x.name_key = k.name_key AND k.dept IS NOT NULL
  $$;
COMMENT ON FUNCTION smam.import_known_names(bigint) IS
  'Internal: give the staged rows without a gc_orgID whose department name is known (name or alias, by key) that department';

-- 2. Each row's department, from what ties its name to one, never guessed:
--    a. a name smam knows (a department's English or French name, an alias);
--    b. a gc_orgID: one department per id (its own, a department its names
--       name that has no id, a department without an id whose accounts most
--       of its rows list, or a department whose own name its English name is,
--       the id then a second one), else a new department named by its rows'
--       most frequent English and French names (joint names set aside);
--       every other spelling under the id an alias;
--    c. the accounts a name lists: most of them (more than half) are
--       accounts of one department, or are listed in this import under a
--       name of one department in the other language; two unknown names, one
--       English and one French, each listing most of its accounts under the
--       other, are one new department's two names;
--    d. a joint name "A and B" / "A et B" where A is known;
--    e. otherwise the name is a department candidate and its rows are held.
--    Steps a and c repeat while c ties something.
CREATE FUNCTION smam.import_departments(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  g record;
  t record;
  dept bigint;
  other bigint;
  changed integer;
  rounds integer := 0;
  k bigint;
  how text;
BEGIN
  -- a. Known names.
  PERFORM smam.import_known_names(import);

  -- b. gc_orgIDs, each with its names ranked by how many rows give them.
  FOR g IN
    WITH n AS (
      SELECT y.gc_org_id, y.names_in, y.name_key, count(*) AS k, min(y.row_number) AS first,
             (array_agg(btrim(y.department_given) ORDER BY y.row_number))[1] AS spelling
        FROM smam.index_import_row y
       WHERE y.import_id = import AND y.outcome IS NULL AND y.gc_org_id IS NOT NULL AND y.name_key IS NOT NULL
       GROUP BY 1, 2, 3),
    j AS (  -- joint names: another name of the same id followed by " and " / " et "
      SELECT n.*, EXISTS (SELECT 1 FROM n o WHERE o.gc_org_id = n.gc_org_id AND o.name_key <> n.name_key
                            AND (starts_with(n.name_key, o.name_key || ' and ') OR starts_with(n.name_key, o.name_key || ' et ')))
                  AS joint
        FROM n)
    SELECT j.gc_org_id,
           (array_agg(j.spelling ORDER BY j.k DESC, j.first) FILTER (WHERE j.names_in = 'en' AND NOT j.joint))[1] AS name_en,
           (array_agg(j.spelling ORDER BY j.k DESC, j.first) FILTER (WHERE j.names_in = 'fr' AND NOT j.joint))[1] AS name_fr,
           array_agg(j.spelling ORDER BY j.k DESC, j.first) AS spellings,
           array_agg(j.names_in ORDER BY j.k DESC, j.first) AS langs,
           (SELECT count(DISTINCT y.url_key) FROM smam.index_import_row y
             WHERE y.import_id = import AND y.outcome IS NULL AND y.gc_org_id = j.gc_org_id) AS accounts
      FROM j GROUP BY j.gc_org_id ORDER BY j.gc_org_id
  LOOP
    dept := smam.department_by_org_id(g.gc_org_id);
    IF dept IS NULL THEN
      -- A department its names already name, without a gc_orgID, takes it.
      dept := (SELECT d.id FROM unnest(g.spellings) WITH ORDINALITY s(name, i)
                 JOIN smam.department d ON d.id = smam.department_by_name(s.name)
                WHERE d.gc_org_id IS NULL
                ORDER BY s.i LIMIT 1);
      how := 'its rows'' names';
      IF dept IS NULL THEN
        -- The accounts it lists are mostly one department's.
        SELECT a.department_id, count(*) INTO dept, k
          FROM (SELECT DISTINCT y.url_key FROM smam.index_import_row y
                 WHERE y.import_id = import AND y.outcome IS NULL AND y.gc_org_id = g.gc_org_id) u
          JOIN smam.account a ON a.url_key = u.url_key AND a.stage <> 'disposed'
          JOIN smam.department d ON d.id = a.department_id AND d.gc_org_id IS NULL
         GROUP BY a.department_id ORDER BY count(*) DESC, a.department_id LIMIT 1;
        IF dept IS NOT NULL AND NOT (2 * k > g.accounts AND (k >= 2 OR g.accounts = 1)) THEN
          dept := NULL;
        END IF;
        how := format('%s of the %s accounts listed under it are the department''s', k, g.accounts);
      END IF;
      IF dept IS NULL AND g.name_en IS NOT NULL THEN
        -- Its most used English name is a department's own name: the
        -- department has a second gc_orgID. (An alias is not enough: the
        -- index now lists that name under this id, and the alias, if an
        -- import learned it, goes.)
        -- (A merged department's name: the department it was merged into.)
        dept := (SELECT coalesce(d.merged_into, d.id) FROM smam.department d
                  WHERE d.name_en_key = smam.department_name_key(g.name_en)
                     OR d.name_fr_key = smam.department_name_key(g.name_en)
                  ORDER BY d.merged_into IS NOT NULL, d.id LIMIT 1);
        how := format('listed under the department''s name "%s"', g.name_en);
        IF dept IS NULL THEN
          DELETE FROM smam.department_alias a
           WHERE a.import_id IS NOT NULL
             AND a.name_key IN (smam.department_name_key(g.name_en), smam.department_name_key(g.name_fr));
        END IF;
      END IF;
      IF dept IS NOT NULL THEN
        IF (SELECT d.gc_org_id IS NULL FROM smam.department d WHERE d.id = dept) THEN
          UPDATE smam.department d SET gc_org_id = g.gc_org_id WHERE d.id = dept;
        ELSE
          INSERT INTO smam.department_org_alias (gc_org_id, department_id, how)
          VALUES (g.gc_org_id, dept, how || format(' (import %s)', import));
        END IF;
      ELSIF g.name_en IS NOT NULL THEN
        INSERT INTO smam.department (name_en, name_fr, gc_org_id)
        -- A French name that is the English one (Service Canada; or an English
        -- name in a French row) is no French name: the French index shows
        -- the English one until a French name is known.
        VALUES (g.name_en, CASE WHEN g.name_fr IS NOT NULL AND smam.department_by_name(g.name_fr) IS NULL
                                     AND smam.department_name_key(g.name_fr) <> smam.department_name_key(g.name_en)
                                THEN g.name_fr END,
                g.gc_org_id)
        RETURNING id INTO dept;
      END IF;
      -- Only a French name: the department waits for its English name (step e).
    END IF;
    CONTINUE WHEN dept IS NULL;
    FOR t IN SELECT s.name, l.lang FROM unnest(g.spellings, g.langs) AS s(name, lang0)
                                        CROSS JOIN LATERAL (SELECT s.lang0 AS lang) l LOOP
      IF smam.department_by_name(t.name) IS NULL THEN
        PERFORM smam.learn_department_name(dept, t.name, t.lang, format('same gc_orgID %s', g.gc_org_id), import);
      END IF;
    END LOOP;
    UPDATE smam.index_import_row x
       SET department_id = dept,
           notes = CASE WHEN smam.department_by_key(x.name_key) <> dept
                        THEN x.notes || format('department "%s" placed by gc_orgID %s', x.department_given, g.gc_org_id)
                        ELSE x.notes END
     WHERE x.import_id = import AND x.outcome IS NULL AND x.gc_org_id = g.gc_org_id;
  END LOOP;

  -- c. Names tied by the accounts they list, until nothing more ties.
  LOOP
    changed := 0;
    rounds := rounds + 1;
    -- Names that step b or the last round made known.
    PERFORM smam.import_known_names(import);
    FOR t IN
      WITH u AS (
        SELECT DISTINCT y.name_key, y.names_in, y.url_key FROM smam.index_import_row y
         WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL
           AND y.name_key IS NOT NULL AND y.gc_org_id IS NULL),
      tie AS (
        SELECT u.name_key, u.url_key, z.department_id AS dept
          FROM u JOIN smam.index_import_row z ON z.import_id = import AND z.url_key = u.url_key
                                             AND z.names_in <> u.names_in AND z.department_id IS NOT NULL
                                             AND z.outcome IS NULL
        UNION
        SELECT u.name_key, u.url_key, a.department_id
          FROM u JOIN smam.account a ON a.url_key = u.url_key AND a.stage <> 'disposed'),
      c AS (SELECT tie.name_key, tie.dept, count(DISTINCT tie.url_key) AS k FROM tie GROUP BY 1, 2),
      tied AS (SELECT tie.name_key, count(DISTINCT tie.url_key) AS n FROM tie GROUP BY 1),
      tot AS (SELECT u.name_key, count(DISTINCT u.url_key) AS n FROM u GROUP BY 1)
      SELECT c.name_key, c.dept, c.k, tied.n,
             (SELECT btrim(y.department_given) FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = c.name_key ORDER BY y.row_number LIMIT 1) AS spelling,
             (SELECT y.names_in FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = c.name_key ORDER BY y.row_number LIMIT 1) AS lang
        FROM c JOIN tied USING (name_key) JOIN tot USING (name_key)
       -- Most of the accounts that tie it, and more than one unless the
       -- name lists hardly more than that account.
       WHERE 2 * c.k > tied.n AND (c.k >= 2 OR 2 * c.k > tot.n)
       ORDER BY c.name_key
    LOOP
      PERFORM smam.learn_department_name(t.dept, t.spelling, t.lang,
        format('%s of the %s accounts listed under this name are the department''s', t.k, t.n), import);
      UPDATE smam.index_import_row x SET department_id = t.dept,
             notes = x.notes || format('department "%s" tied to department %s by the accounts it lists', x.department_given, t.dept)
       WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.name_key = t.name_key
         AND x.gc_org_id IS NULL;
      changed := changed + 1;
    END LOOP;

    -- Two unknown names, one per language, each listing most of its
    -- accounts under the other: one department.
    FOR t IN
      WITH p AS (
        SELECT e.name_key AS ek, f.name_key AS fk, count(DISTINCT e.url_key) AS k
          FROM smam.index_import_row e
          JOIN smam.index_import_row f ON f.import_id = import AND f.url_key = e.url_key AND f.names_in = 'fr'
                                      AND f.outcome IS NULL AND f.department_id IS NULL AND f.gc_org_id IS NULL
                                      AND f.name_key IS NOT NULL
         WHERE e.import_id = import AND e.names_in = 'en' AND e.outcome IS NULL AND e.department_id IS NULL
           AND e.gc_org_id IS NULL AND e.name_key IS NOT NULL
         GROUP BY 1, 2),
      -- Each name's accounts that the other language lists under a name
      -- still unknown (tied), and all its accounts (n).
      en AS (SELECT p.ek AS name_key, sum(p.k) AS tied,
                    (SELECT count(DISTINCT y.url_key) FROM smam.index_import_row y
                      WHERE y.import_id = import AND y.names_in = 'en' AND y.name_key = p.ek) AS n
               FROM p GROUP BY p.ek),
      fr AS (SELECT p.fk AS name_key, sum(p.k) AS tied,
                    (SELECT count(DISTINCT y.url_key) FROM smam.index_import_row y
                      WHERE y.import_id = import AND y.names_in = 'fr' AND y.name_key = p.fk) AS n
               FROM p GROUP BY p.fk)
      SELECT p.ek, p.fk, p.k,
             (SELECT btrim(y.department_given) FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = p.ek AND y.names_in = 'en' ORDER BY y.row_number LIMIT 1) AS name_en,
             (SELECT btrim(y.department_given) FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = p.fk AND y.names_in = 'fr' ORDER BY y.row_number LIMIT 1) AS name_fr
        FROM p JOIN en ON en.name_key = p.ek JOIN fr ON fr.name_key = p.fk
       WHERE 2 * p.k > en.tied AND 2 * p.k > fr.tied
         AND (p.k >= 2 OR (2 * p.k > en.n AND 2 * p.k > fr.n))
       ORDER BY p.ek
    LOOP
      CONTINUE WHEN smam.department_by_key(t.ek) IS NOT NULL OR smam.department_by_key(t.fk) IS NOT NULL;
      INSERT INTO smam.department (name_en, name_fr)
      VALUES (t.name_en, CASE WHEN t.fk <> t.ek THEN t.name_fr END)
      RETURNING id INTO dept;
      UPDATE smam.index_import_row x SET department_id = dept,
             notes = x.notes || format('department "%s" created from the %s accounts listed under "%s" in English and "%s" in French',
                                       x.department_given, t.k, t.name_en, t.name_fr)
       WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.gc_org_id IS NULL
         AND ((x.name_key = t.ek AND x.names_in = 'en') OR (x.name_key = t.fk AND x.names_in = 'fr'));
      changed := changed + 1;
    END LOOP;
    EXIT WHEN changed = 0 OR rounds >= 10;
  END LOOP;

  -- d. Joint names.
  FOR t IN
    SELECT k.name_key, k.spelling, k.lang, smam.department_of_joint_name(k.spelling) AS dept
      FROM (SELECT y.name_key, (array_agg(btrim(y.department_given) ORDER BY y.row_number))[1] AS spelling,
                   (array_agg(y.names_in ORDER BY y.row_number))[1] AS lang
              FROM smam.index_import_row y
             WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL AND y.name_key IS NOT NULL
             GROUP BY 1) k
  LOOP
    CONTINUE WHEN t.dept IS NULL;
    PERFORM smam.learn_department_name(t.dept, t.spelling, t.lang, 'joint name', import);
    UPDATE smam.index_import_row x SET department_id = t.dept,
           notes = x.notes || format('joint name "%s" placed with its first department, %s', x.department_given,
                                     (SELECT d.name_en FROM smam.department d WHERE d.id = t.dept))
     WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.name_key = t.name_key;
  END LOOP;

  -- e. What nothing ties: a department candidate; its rows are held.
  INSERT INTO smam.department_candidate AS c (name, name_key, lang, gc_org_id, first_import_id, last_import_id, last_rows)
  SELECT (array_agg(btrim(y.department_given) ORDER BY y.row_number))[1], y.name_key,
         (array_agg(y.names_in ORDER BY y.row_number))[1], min(y.gc_org_id), import, import, count(*)
    FROM smam.index_import_row y
   WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL AND y.name_key IS NOT NULL
   GROUP BY y.name_key
  ON CONFLICT (name_key) DO UPDATE
     SET last_import_id = excluded.last_import_id, last_seen_at = now(), last_rows = excluded.last_rows,
         gc_org_id = coalesce(excluded.gc_org_id, c.gc_org_id);
  UPDATE smam.index_import_row x
     SET outcome = 'held', candidate_id = c.id,
         reason = format('Department "%s" is a candidate (smam.department_candidate %s): %s. The entity confirms it as a department (smam.confirm_department_candidate) or maps it to one (smam.map_department_candidate); the row is placed then.',
                         c.name, c.id,
                         CASE WHEN x.gc_org_id IS NOT NULL
                              THEN format('gc_orgID %s is listed only under this French name, and a department needs its English name', x.gc_org_id)
                              ELSE 'no gc_orgID, no account listed under a known name and no known name ties it to a department' END)
    FROM smam.department_candidate c
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND c.name_key = x.name_key
     AND c.status = 'open';
  -- A row whose candidate was decided earlier: its department.
  UPDATE smam.index_import_row x SET department_id = c.department_id
    FROM smam.department_candidate c
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND c.name_key = x.name_key;

  -- Open candidates that this import tied close.
  UPDATE smam.department_candidate c
     SET status = 'tied', department_id = smam.department_by_key(c.name_key), decided_at = now(),
         decision_note = format('tied by import %s', import)
   WHERE c.status = 'open' AND smam.department_by_key(c.name_key) IS NOT NULL;

  -- Where and when each alias was last seen.
  UPDATE smam.department_alias a SET last_import_id = import, last_seen_at = now()
   WHERE a.name_key IN (SELECT y.name_key FROM smam.index_import_row y WHERE y.import_id = import);
END
$$;
COMMENT ON FUNCTION smam.import_departments(bigint) IS
  'Internal: tie each staged row''s department name to a department (known name, gc_orgID, the accounts it lists, joint name), or hold it as a candidate';

-- 3. Each placed row, its account: the live account with its address
--    (unchanged, or its names and language updated through the life
--    cycle's rules), or a new account onboarded. An account the index lists
--    under another department than its own is not moved by an import.
CREATE FUNCTION smam.import_accounts(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  r smam.index_import_row;
  acct smam.account;
  new_id bigint;
  other_name text;
  err_msg text;
  err_detail text;
BEGIN
  UPDATE smam.index_import_row x
     SET outcome = 'rejected',
         reason = format('gc_orgID %s has no department, and the row names none.', x.gc_org_id)
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL;

  -- Rows of accounts smam has, in one statement: another department's
  -- account is rejected; the same names and language, unchanged.
  UPDATE smam.index_import_row x
     SET account_id = CASE WHEN a.department_id = x.department_id THEN a.id END,
         outcome = CASE WHEN a.department_id <> x.department_id THEN 'rejected'
                        WHEN CASE WHEN x.names_in = 'en' THEN a.name_en ELSE a.name_fr END IS NOT DISTINCT FROM btrim(x.account_name)
                             AND a.official_language = x.official_language THEN 'unchanged' END,
         reason = CASE WHEN a.department_id <> x.department_id
                       THEN format('The account is account %s of department %s; the index lists it under "%s" (department %s). Moving an account between departments is a decision, not an import: the entity makes it with smam.move_account(account, department, reason).',
                                   a.id, a.department_id, x.department_given, x.department_id) END
    FROM smam.account a
   WHERE x.import_id = import AND x.outcome IS NULL AND a.url_key = x.url_key AND a.stage <> 'disposed';

  -- The rest, row by row: a change of names or language, or a new account
  -- (the same account listed in both languages is created once, with both
  -- names).
  FOR r IN SELECT * FROM smam.index_import_row x WHERE x.import_id = import AND x.outcome IS NULL
            ORDER BY x.row_number LOOP
    SELECT a.* INTO acct FROM smam.account a WHERE a.url_key = r.url_key AND a.stage <> 'disposed';
    IF NOT FOUND THEN
      BEGIN
        other_name := (SELECT btrim(x.account_name) FROM smam.index_import_row x
                        WHERE x.import_id = import AND x.url_key = r.url_key AND x.names_in <> r.names_in
                          AND x.row_number > r.row_number AND x.outcome IS NULL
                        ORDER BY x.row_number LIMIT 1);
        new_id := smam.onboard_account(r.department_id, r.platform, r.url_given,
                    CASE WHEN r.names_in = 'en' THEN r.account_name ELSE other_name END,
                    CASE WHEN r.names_in = 'fr' THEN r.account_name ELSE other_name END,
                    r.official_language,
                    format('listed in the canada.ca index%s; imported by import %s',
                           coalesce(' on ' || nullif(btrim(r.date_added_given), ''), ''), import),
                    NULL,
                    CASE WHEN btrim(coalesce(r.date_added_given, '')) ~ E'^\\d{4}-\\d{2}-\\d{2}$'
                         THEN btrim(r.date_added_given)::date END);
        r.outcome := 'created';
        r.account_id := new_id;
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
        r.outcome := 'rejected';
        r.reason := err_msg || coalesce(': ' || nullif(err_detail, ''), '');
      END;
    ELSIF acct.department_id <> r.department_id THEN
      r.outcome := 'rejected';
      r.reason := format('The account is account %s of department %s; the index lists it under "%s" (department %s). Moving an account between departments is a decision, not an import: the entity makes it with smam.move_account(account, department, reason).',
                         acct.id, acct.department_id, r.department_given, r.department_id);
    ELSIF (r.names_in = 'en' AND acct.name_en IS NOT DISTINCT FROM btrim(r.account_name)
           OR r.names_in = 'fr' AND acct.name_fr IS NOT DISTINCT FROM btrim(r.account_name))
          AND acct.official_language = r.official_language THEN
      r.outcome := 'unchanged';
      r.account_id := acct.id;
      IF EXISTS (SELECT 1 FROM smam.index_import_row x WHERE x.import_id = import AND x.url_key = r.url_key
                    AND x.row_number < r.row_number AND x.outcome IN ('created', 'updated', 'unchanged')) THEN
        r.notes := r.notes || 'the same account as an earlier row in the other language: its names in this language'::text;
      END IF;
    ELSE
      -- Names and language are the account's configuration: the change
      -- meets the life cycle's rules (src/lifecycle.c), or the row is
      -- rejected with the refusal.
      BEGIN
        UPDATE smam.account a
           SET name_en = CASE WHEN r.names_in = 'en' THEN btrim(r.account_name) ELSE a.name_en END,
               name_fr = CASE WHEN r.names_in = 'fr' THEN btrim(r.account_name) ELSE a.name_fr END,
               official_language = r.official_language
         WHERE a.id = acct.id;
        r.outcome := 'updated';
        r.account_id := acct.id;
        r.notes := r.notes || format('was: %s / %s / %s', acct.name_en, acct.name_fr, acct.official_language);
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
        r.outcome := 'rejected';
        r.account_id := NULL;
        r.reason := format('The index gives account %s other names or language (%s / %s); the account keeps its own: %s',
                           acct.id, r.account_name, r.official_language,
                           err_msg || coalesce(': ' || nullif(err_detail, ''), ''));
      END;
    END IF;
    UPDATE smam.index_import_row x SET outcome = r.outcome, reason = r.reason, account_id = r.account_id, notes = r.notes
     WHERE x.import_id = import AND x.row_number = r.row_number;
  END LOOP;
END
$$;
COMMENT ON FUNCTION smam.import_accounts(bigint) IS
  'Internal: give each placed row its account (unchanged, updated, onboarded) or the reason it is rejected';

-- The import's counts, recorded and returned.
CREATE FUNCTION smam.import_summarize(import bigint, vanished integer, departments_created integer, candidates integer)
  RETURNS smam.import_summary LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  s smam.import_summary;
BEGIN
  s.import_id := import;
  SELECT count(*), count(*) FILTER (WHERE outcome = 'created'), count(*) FILTER (WHERE outcome = 'updated'),
         count(*) FILTER (WHERE outcome = 'unchanged'), count(*) FILTER (WHERE outcome = 'rejected'),
         count(*) FILTER (WHERE outcome = 'held')
    INTO s.rows_read, s.created, s.updated, s.unchanged, s.rejected, s.held
    FROM smam.index_import_row WHERE import_id = import;
  s.vanished := vanished;
  s.departments_created := departments_created;
  s.candidates := candidates;
  UPDATE smam.index_import i
     SET rows_read = s.rows_read, created = s.created, updated = s.updated, unchanged = s.unchanged,
         rejected = s.rejected, held = s.held, vanished = s.vanished,
         departments_created = s.departments_created, candidates = s.candidates
   WHERE i.id = import;
  RETURN s;
END
$$;
COMMENT ON FUNCTION smam.import_summarize(bigint, integer, integer, integer) IS 'Internal: count an import''s outcomes, record and return them';

-- The import proper, over the rows staged in smam.index_import_row.
CREATE FUNCTION smam.import_staged(import bigint) RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  imp smam.index_import;
  depts_before bigint := (SELECT count(*) FROM smam.department);
  previous bigint;
  vanished integer;
BEGIN
  SELECT * INTO imp FROM smam.index_import WHERE id = import;
  -- The planner's statistics describe the rows table before this import
  -- staged its rows: without fresh ones it takes a few thousand rows for
  -- one and plans nested loops that grow with the square of the file. A
  -- sample, so bounded however many imports the table holds.
  ANALYZE smam.index_import_row;
  PERFORM smam.import_normalize(import);
  ANALYZE smam.index_import_row;
  PERFORM smam.import_check_disappearance(import);
  PERFORM smam.import_departments(import);
  PERFORM smam.import_accounts(import);

  -- 4. Accounts that reappear close their open review; live accounts that
  --    the previous import of the same scope listed and this one does not
  --    are flagged for a disposition review.
  UPDATE smam.disposition_review v
     SET resolved_at = now(), resolved_by = smam.acting_role(),
         resolution = format('listed again by import %s', import)
    FROM (SELECT DISTINCT x.account_id FROM smam.index_import_row x
           WHERE x.import_id = import AND x.account_id IS NOT NULL) l
   WHERE v.resolved_at IS NULL AND v.account_id = l.account_id;
  previous := smam.previous_import(import);
  INSERT INTO smam.disposition_review (account_id, department_id, import_id, reason)
  SELECT a.id, a.department_id, import,
         format('listed by import %s, absent from import %s (%s)', previous, import, imp.source)
    FROM (SELECT DISTINCT p.url_key FROM smam.index_import_row p
           WHERE p.import_id = previous AND p.url_key IS NOT NULL) l
    JOIN smam.account a ON a.url_key = l.url_key AND a.stage IN ('implementation', 'evaluation')
   WHERE previous IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM smam.index_import_row x
                      WHERE x.import_id = import AND x.url_key = a.url_key)
     AND NOT EXISTS (SELECT 1 FROM smam.disposition_review v WHERE v.account_id = a.id AND v.resolved_at IS NULL);
  GET DIAGNOSTICS vanished = ROW_COUNT;

  PERFORM smam.import_owner_labels(import);  -- issue 17: owners the feed's links name (sql/smam/71_owner_labels.sql)
  RETURN smam.import_summarize(import, vanished, ((SELECT count(*) FROM smam.department) - depts_before)::integer,
                               (SELECT count(DISTINCT x.candidate_id) FROM smam.index_import_row x
                                 WHERE x.import_id = import AND x.candidate_id IS NOT NULL)::integer);
END
$$;
COMMENT ON FUNCTION smam.import_staged(bigint) IS
  'Internal: read, check, place and account for the staged rows of an import; flag vanished accounts; return the summary';

-- ---- The entity's decisions on department candidates ----

-- Place the held rows of a decided candidate, in the latest import that
-- holds rows for it.
CREATE FUNCTION smam.place_held_rows(candidate bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
  imp bigint;
  n integer;
  s smam.index_import;
BEGIN
  SELECT * INTO c FROM smam.department_candidate x WHERE x.id = candidate;
  imp := (SELECT max(x.import_id) FROM smam.index_import_row x WHERE x.candidate_id = candidate AND x.outcome = 'held');
  IF imp IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE smam.index_import_row x
     SET outcome = NULL, reason = NULL, candidate_id = NULL, department_id = c.department_id,
         notes = x.notes || format('held for department candidate %s, placed in department %s (%s)', candidate, c.department_id, c.status)
   WHERE x.import_id = imp AND x.candidate_id = candidate AND x.outcome = 'held';
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM smam.import_accounts(imp);
  SELECT * INTO s FROM smam.index_import i WHERE i.id = imp;
  PERFORM smam.import_summarize(imp, s.vanished, s.departments_created,
                                (SELECT count(DISTINCT x.candidate_id) FROM smam.index_import_row x
                                  WHERE x.import_id = imp AND x.candidate_id IS NOT NULL)::integer);
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.place_held_rows(bigint) IS
  'Internal: once a candidate is decided, place the rows the latest import held for it; returns how many';

CREATE FUNCTION smam.candidate_for_decision(candidate bigint) RETURNS smam.department_candidate
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
BEGIN
  SELECT * INTO c FROM smam.department_candidate x WHERE x.id = candidate FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', '6.2.4', format('department candidate %s does not exist', candidate), NULL,
      'List the open candidates in smam.department_candidate (status open).');
  END IF;
  IF c.status <> 'open' THEN
    PERFORM smam.refuse('55000', '6.2.4', format('department candidate %s is already decided', candidate),
      format('It was %s (department %s) on %s.', c.status, c.department_id,
             to_char(c.decided_at AT TIME ZONE smam.time_zone(), 'YYYY-MM-DD HH24:MI')),
      'Rename or merge the department itself if the decision was wrong (smam.merge_departments).');
  END IF;
  RETURN c;
END
$$;
COMMENT ON FUNCTION smam.candidate_for_decision(bigint) IS 'Internal: the open candidate, locked, or a refusal';

-- The candidate is a department of its own: the entity gives its names.
CREATE FUNCTION smam.confirm_department_candidate(candidate bigint, name_en text, name_fr text DEFAULT NULL,
                                                  note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
  dept bigint;
  taken bigint;
BEGIN
  PERFORM smam.require_importer('decide on a department candidate');
  c := smam.candidate_for_decision(candidate);
  IF coalesce(btrim(name_en), '') = '' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'a department needs its English name',
      'The index publishes each department under its English name in English and its French name in French.',
      format('Give the English name of "%s" (and its French name).', c.name));
  END IF;
  IF length(btrim(name_en)) > 300 OR length(btrim(name_fr)) > 300 THEN
    PERFORM smam.refuse('22001', '6.2.4', 'a department''s name is at most 300 characters', NULL,
      'Give the department''s name as it is published.');
  END IF;
  taken := coalesce(smam.department_by_name(name_en), smam.department_by_name(name_fr));
  IF taken IS NOT NULL THEN
    PERFORM smam.refuse('23505', '6.2.4', format('department %s already has the name "%s"', taken,
                                                 CASE WHEN smam.department_by_name(name_en) IS NOT NULL THEN name_en ELSE name_fr END),
      'A name stands for one department.',
      format('Map the candidate to department %s instead (smam.map_department_candidate(%s, %s, note)).', taken, candidate, taken));
  END IF;
  INSERT INTO smam.department (name_en, name_fr, gc_org_id)
  VALUES (btrim(name_en), nullif(btrim(name_fr), ''),
          CASE WHEN smam.department_by_org_id(c.gc_org_id) IS NULL THEN c.gc_org_id END)
  RETURNING id INTO dept;
  PERFORM smam.learn_department_name(dept, c.name, c.lang, 'confirmed by the entity', NULL);
  UPDATE smam.department_candidate x
     SET status = 'confirmed', department_id = dept, decided_by = smam.acting_role(), decided_at = now(),
         decision_note = nullif(btrim(note), '')
   WHERE x.id = candidate;
  PERFORM smam.place_held_rows(candidate);
  RETURN dept;
END
$$;
COMMENT ON FUNCTION smam.confirm_department_candidate(bigint, text, text, text) IS
  'Make a department candidate a department with these names (entity official or administrator); its held rows are placed; returns the department';

-- The candidate is another name of an existing department.
CREATE FUNCTION smam.map_department_candidate(candidate bigint, department bigint, note text DEFAULT NULL)
  RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
BEGIN
  PERFORM smam.require_importer('decide on a department candidate');
  c := smam.candidate_for_decision(candidate);
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('42704', '6.2.4', format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department(), or confirm the candidate as a new one (smam.confirm_department_candidate).');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  PERFORM smam.learn_department_name(department, c.name, c.lang, 'mapped by the entity', NULL);
  IF c.gc_org_id IS NOT NULL AND smam.department_by_org_id(c.gc_org_id) IS NULL THEN
    INSERT INTO smam.department_org_alias (gc_org_id, department_id, how)
    VALUES (c.gc_org_id, department, format('department candidate %s mapped by the entity', candidate));
  END IF;
  UPDATE smam.department_candidate x
     SET status = 'mapped', department_id = department, decided_by = smam.acting_role(), decided_at = now(),
         decision_note = nullif(btrim(note), '')
   WHERE x.id = candidate;
  RETURN smam.place_held_rows(candidate);
END
$$;
COMMENT ON FUNCTION smam.map_department_candidate(bigint, bigint, text) IS
  'Record a department candidate as another name of a department (entity official or administrator); its held rows are placed; returns how many';
-- The CSV file's content, as a client holds it.
CREATE FUNCTION smam.import_index(csv text, accept_disappearance boolean DEFAULT false) RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  header text[];
  col jsonb := '{}';
  need text[] := ARRAY['account', 'platform', 'department', 'language', 'url'];
  missing text[];
  import bigint;
BEGIN
  PERFORM smam.require_importer();
  IF csv IS NULL OR btrim(csv) = '' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'the index file is empty', NULL,
      'Pass the content of the CSV file, header line first.');
  END IF;
  SELECT c.fields INTO header FROM smam.csv_records(csv) c ORDER BY c.record_number LIMIT 1;
  SELECT jsonb_object_agg(lower(btrim(h.name)), h.pos) INTO col
    FROM unnest(header) WITH ORDINALITY AS h(name, pos);
  SELECT array_agg(n) INTO missing FROM unnest(need) n WHERE NOT coalesce(col, '{}') ? n;
  IF missing IS NOT NULL THEN
    PERFORM smam.refuse('22023', '6.2.4',
      format('the index file lacks the column%s %s', CASE WHEN cardinality(missing) > 1 THEN 's' ELSE '' END,
             array_to_string(missing, ', ')),
      format('Its first line reads: %s', left(split_part(csv, E'\n', 1), 200)),
      'Give the canada.ca index as CSV with the columns Account, Platform, Department, Language, URL and, where known, gc_orgID and Date Added.');
  END IF;
  INSERT INTO smam.index_import (source, content_sha256, disappearance_accepted)
  VALUES ('csv', encode(sha256(convert_to(csv, 'UTF8')), 'hex'), coalesce(accept_disappearance, false))
  RETURNING id INTO import;
  INSERT INTO smam.index_import_row (import_id, row_number, line_number, raw, account_name, platform_given,
                                     department_given, language_given, url_given, gc_org_id_given,
                                     date_added_given, outcome, reason)
  SELECT import, c.record_number - 1, c.line_number, c.raw,
         c.fields[(col->>'account')::int], c.fields[(col->>'platform')::int],
         c.fields[(col->>'department')::int], c.fields[(col->>'language')::int],
         c.fields[(col->>'url')::int], c.fields[(col->>'gc_orgid')::int],
         c.fields[(col->>'date added')::int],
         CASE WHEN c.problem IS NOT NULL OR cardinality(c.fields) <> cardinality(header) THEN 'rejected' END,
         CASE WHEN c.problem IS NOT NULL THEN c.problem
              WHEN cardinality(c.fields) <> cardinality(header)
              THEN format('The row has %s fields; the header has %s.', cardinality(c.fields), cardinality(header)) END
    FROM smam.csv_records(csv) c
   WHERE c.record_number > 1;
  RETURN smam.import_staged(import);
END
$$;
COMMENT ON FUNCTION smam.import_index(text, boolean) IS
  'Import the canada.ca index as CSV content (entity official or administrator); accept_disappearance: more accounts than smam.index_disappearance_limit allows left the index on purpose; returns the summary';

-- The canada.ca feed itself: {"aaData": [[account, platform, department,
-- language, link], ...]}, English or French, in canada.ca's markup
-- (<span class="label label-default">X</span>, <span>Department</span>: ...,
-- <span>Language</span>: ..., <a class="..." href="..."><span class="wb-inv">
-- owner - </span>Go to social media account</a>) or as bare text.
CREATE FUNCTION smam.check_feed(feed jsonb, lang text) RETURNS void
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF lang IS NULL OR lang NOT IN ('en', 'fr') THEN
    PERFORM smam.refuse('22023', '6.2.4', format('feed language "%s" is not en or fr', lang), NULL,
      'The canada.ca index has an English feed (en) and a French feed (fr).');
  END IF;
  IF feed IS NULL OR jsonb_typeof(feed -> 'aaData') IS DISTINCT FROM 'array' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'the feed has no aaData array', NULL,
      'Give the feed as canada.ca publishes it: {"aaData": [[account, platform, department, language, link], ...]}.');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.check_feed(jsonb, text) IS 'Internal: refuse (22023) a feed without aaData or a language other than en, fr';

CREATE FUNCTION smam.stage_feed(import bigint, feed jsonb, lang text, first_row integer) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  INSERT INTO smam.index_import_row (import_id, row_number, raw, account_name, platform_given, department_given,
                                     language_given, url_given, names_in, outcome, reason,
                                     owner_label_given)  -- issue 17 (sql/smam/71_owner_labels.sql)
  SELECT import, first_row + e.n::integer - 1, e.v::text,
         CASE WHEN ok THEN btrim(smam.html_unescape(e.v ->> 0)) END,
         CASE WHEN ok THEN btrim(smam.html_unescape(e.v ->> 1)) END,
         CASE WHEN ok THEN regexp_replace(btrim(smam.html_unescape(e.v ->> 2)),
                                          E'^(Department|Minist\u00E8re|Organization|Organisation)\\s*:\\s*', '', 'i') END,
         CASE WHEN ok THEN regexp_replace(btrim(smam.html_unescape(e.v ->> 3)), E'^(Language|Langue)\\s*:\\s*', '', 'i') END,
         CASE WHEN ok THEN btrim(smam.html_unescape(coalesce(
                substring(e.v ->> 4 FROM E'(?i)href\\s*=\\s*"([^"]*)"'),
                substring(e.v ->> 4 FROM E'(?i)href\\s*=\\s*\'([^\']*)\''),
                e.v ->> 4))) END,
         lang,
         CASE WHEN NOT ok THEN 'rejected' END,
         CASE WHEN NOT ok THEN 'The entry is not an array of five texts: account, platform, department, language, link.' END,
         CASE WHEN ok THEN smam.feed_link_owner(e.v ->> 4) END  -- issue 17: the link's wb-inv owner text
    FROM jsonb_array_elements(feed -> 'aaData') WITH ORDINALITY AS e(v, n),
         LATERAL (SELECT jsonb_typeof(e.v) = 'array' AND jsonb_array_length(e.v) >= 5
                         AND (SELECT bool_and(jsonb_typeof(x) = 'string')
                                FROM jsonb_array_elements(e.v) WITH ORDINALITY y(x, i) WHERE y.i <= 5) AS ok) k;
END
$$;
COMMENT ON FUNCTION smam.stage_feed(bigint, jsonb, text, integer) IS
  'Internal: stage the entries of a canada.ca feed as rows of an import, numbered from first_row';

CREATE FUNCTION smam.import_index_feed(feed jsonb, lang text, accept_disappearance boolean DEFAULT false)
  RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  import bigint;
BEGIN
  PERFORM smam.require_importer();
  PERFORM smam.check_feed(feed, lang);
  INSERT INTO smam.index_import (source, content_sha256, disappearance_accepted)
  VALUES ('feed-' || lang, encode(sha256(convert_to(feed::text, 'UTF8')), 'hex'), coalesce(accept_disappearance, false))
  RETURNING id INTO import;
  PERFORM smam.stage_feed(import, feed, lang, 1);
  RETURN smam.import_staged(import);
END
$$;
COMMENT ON FUNCTION smam.import_index_feed(jsonb, text, boolean) IS
  'Import one canada.ca aaData feed (en or fr; names are taken in that language) (entity official or administrator); returns the summary';

-- Both feeds at once, as canada.ca publishes them: one import, so that an
-- account listed in both ties its department's English and French names.
CREATE FUNCTION smam.import_index_feeds(feed_en jsonb, feed_fr jsonb, accept_disappearance boolean DEFAULT false)
  RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  import bigint;
BEGIN
  PERFORM smam.require_importer();
  PERFORM smam.check_feed(feed_en, 'en');
  PERFORM smam.check_feed(feed_fr, 'fr');
  INSERT INTO smam.index_import (source, content_sha256, disappearance_accepted)
  VALUES ('feeds', encode(sha256(convert_to(feed_en::text || E'\n' || feed_fr::text, 'UTF8')), 'hex'),
          coalesce(accept_disappearance, false))
  RETURNING id INTO import;
  PERFORM smam.stage_feed(import, feed_en, 'en', 1);
  PERFORM smam.stage_feed(import, feed_fr, 'fr', jsonb_array_length(feed_en -> 'aaData') + 1);
  RETURN smam.import_staged(import);
END
$$;
COMMENT ON FUNCTION smam.import_index_feeds(jsonb, jsonb, boolean) IS
  'Import both canada.ca feeds (English, French) as one import, so that accounts listed in both tie the department names (entity official or administrator); returns the summary';

ALTER TABLE smam.department_alias ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.department_org_alias ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.department_candidate ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_import ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_import_row ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.disposition_review ENABLE ROW LEVEL SECURITY;
CREATE POLICY department_alias_read ON smam.department_alias FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY department_org_alias_read ON smam.department_org_alias FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY department_candidate_read ON smam.department_candidate FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_import_read ON smam.index_import FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_import_row_read ON smam.index_import_row FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_import_row_department ON smam.index_import_row FOR SELECT TO smam_department
  USING (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY disposition_review_read ON smam.disposition_review FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY disposition_review_department ON smam.disposition_review FOR SELECT TO smam_department
  USING (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.department_alias, smam.department_org_alias TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT SELECT ON smam.department_candidate TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON smam.index_import, smam.index_reject TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON smam.index_import_row, smam.disposition_review
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.import_index(text, boolean), smam.import_index_feed(jsonb, text, boolean),
  smam.import_index_feeds(jsonb, jsonb, boolean), smam.confirm_department_candidate(bigint, text, text, text),
  smam.map_department_candidate(bigint, bigint, text) TO smam_admin, smam_entity;
GRANT EXECUTE ON FUNCTION smam.csv_records(text), smam.html_escape(text), smam.html_unescape(text),
  smam.official_language_of(text), smam.spelled_in_french(text), smam.department_name_key(text),
  smam.department_by_name(text), smam.department_by_key(text), smam.department_by_org_id(integer),
  smam.department_of_joint_name(text)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.department_alias', '');
SELECT pg_catalog.pg_extension_config_dump('smam.department_org_alias', '');
SELECT pg_catalog.pg_extension_config_dump('smam.department_candidate', '');
SELECT pg_catalog.pg_extension_config_dump('smam.department_candidate_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import_row', '');
SELECT pg_catalog.pg_extension_config_dump('smam.disposition_review', '');
SELECT pg_catalog.pg_extension_config_dump('smam.disposition_review_id_seq', '');

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

-- The key two spellings of a department's name share: lower case, one
-- kind of hyphen and apostrophe, single spaces, no leading article "the",
-- no trailing abbreviation in parentheses ("Treasury Board ... (TBS)").
CREATE FUNCTION smam.department_name_key(name text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT nullif(regexp_replace(regexp_replace(regexp_replace(
             lower(btrim(translate(name, E'\u00AD\u2010\u2011\u2013\u2019\u2018\u00A0', '----'''' '))),
             E'\\s+', ' ', 'g'), '^the ', ''), E' ?\\([^()]*\\)$', ''), '')
  $$;
COMMENT ON FUNCTION smam.department_name_key(text) IS
  'Comparison key of a department name: case, hyphens, apostrophes, spaces, "the", "(ABBR)" set aside';

-- Departments are looked up by the keys of their names.
CREATE INDEX department_name_en_key_idx ON smam.department (smam.department_name_key(name_en));
CREATE INDEX department_name_fr_key_idx ON smam.department (smam.department_name_key(name_fr));

-- Names under which the index knows a department besides its own two.
CREATE TABLE smam.department_alias (
  name_key       text PRIMARY KEY,
  name           text NOT NULL,
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  how            text NOT NULL,
  import_id      bigint,
  recorded_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX department_alias_department_idx ON smam.department_alias (department_id);
COMMENT ON TABLE smam.department_alias IS
  'Other names of a department seen in the index (variants under the same gc_orgID, joint names), by comparison key';
COMMENT ON COLUMN smam.department_alias.how IS 'Why the name stands for the department: same gc_orgID, joint name, set by hand';

-- The department a name stands for: its English or French name, or an
-- alias, compared by key.
CREATE FUNCTION smam.department_by_name(name text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT x.id FROM (
      SELECT 1 AS o, d.id FROM smam.department d
       WHERE smam.department_name_key(d.name_en) = smam.department_name_key(department_by_name.name)
      UNION ALL
      SELECT 2, d.id FROM smam.department d
       WHERE smam.department_name_key(d.name_fr) = smam.department_name_key(department_by_name.name)
      UNION ALL
      SELECT 3, a.department_id FROM smam.department_alias a
       WHERE a.name_key = smam.department_name_key(department_by_name.name)) x
     ORDER BY x.o, x.id LIMIT 1
  $$;
COMMENT ON FUNCTION smam.department_by_name(text) IS
  'The department known by this name (English, French or alias, compared by smam.department_name_key); NULL if none';

-- A joint name, "A and B" or "A et B", where A is a department's name:
-- that department (the longest such A).
CREATE FUNCTION smam.department_of_joint_name(name text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT x.dept FROM (
      SELECT smam.department_by_name(left(k.key, i.i - 1)) AS dept, i.i
        FROM (SELECT smam.department_name_key(department_of_joint_name.name) AS key) k,
             generate_series(2, coalesce(length(k.key), 0)) AS i(i)
       WHERE substr(k.key, i.i, 5) = ' and ' OR substr(k.key, i.i, 4) = ' et ') x
     WHERE x.dept IS NOT NULL
     ORDER BY x.i DESC LIMIT 1
  $$;
COMMENT ON FUNCTION smam.department_of_joint_name(text) IS
  'For a joint name "A and B" / "A et B": the department named A, if known';

CREATE TYPE smam.import_summary AS (
  import_id            bigint,
  rows_read            integer,
  created              integer,
  updated              integer,
  unchanged            integer,
  rejected             integer,
  vanished             integer,
  departments_created  integer
);
COMMENT ON TYPE smam.import_summary IS
  'What an import did: rows read = created + updated + unchanged + rejected; accounts flagged as vanished; departments created';

CREATE SEQUENCE smam.index_import_id_seq;
CREATE TABLE smam.index_import (
  id                   bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.index_import_id_seq'),
  source               text NOT NULL CHECK (source OPERATOR(pg_catalog.=) ANY (ARRAY['csv', 'feed-en', 'feed-fr'])),
  content_sha256       text NOT NULL,
  imported_by          name NOT NULL DEFAULT smam.acting_role(),
  imported_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
  rows_read            integer,
  created              integer,
  updated              integer,
  unchanged            integer,
  rejected             integer,
  vanished             integer,
  departments_created  integer
);
ALTER SEQUENCE smam.index_import_id_seq OWNED BY smam.index_import.id;
COMMENT ON TABLE smam.index_import IS 'Each import of the canada.ca index: source, content hash, who, when, and its summary';

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
  platform           text,
  official_language  smam.official_language,
  url                text,
  url_key            text,
  gc_org_id          integer,
  department_id      bigint,
  outcome            text CHECK (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['created', 'updated', 'unchanged', 'rejected'])),
  account_id         bigint REFERENCES smam.account (id),
  reason             text,
  notes              text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (import_id, row_number),
  CHECK (outcome IS NULL
         OR (outcome OPERATOR(pg_catalog.=) 'rejected' AND reason IS NOT NULL AND account_id IS NULL)
         OR (outcome OPERATOR(pg_catalog.<>) 'rejected' AND reason IS NULL AND account_id IS NOT NULL))
);
CREATE INDEX index_import_row_account_idx ON smam.index_import_row (account_id);
CREATE INDEX index_import_row_url_key_idx ON smam.index_import_row (import_id, url_key);
COMMENT ON TABLE smam.index_import_row IS
  'Every row an import read, as it came (raw) and as understood, with its outcome: an account, or the reason it was rejected';
COMMENT ON COLUMN smam.index_import_row.names_in IS
  'Language of the row''s names: fr for the French feed (or a CSV row whose language is spelled in French), else en';
COMMENT ON COLUMN smam.index_import_row.notes IS 'What normalization did to the row (platform alias, language spelling, URL, department match)';

CREATE VIEW smam.index_reject WITH (security_barrier = true) AS
  SELECT r.import_id, r.row_number, r.line_number, r.raw, r.reason
    FROM smam.index_import_row r
   WHERE r.outcome OPERATOR(pg_catalog.=) 'rejected';
COMMENT ON VIEW smam.index_reject IS 'Rows of index imports that did not become accounts: the row as it came and the reason';

-- Accounts flagged for a disposition review: listed in an earlier import of
-- the same source, absent from a newer one. Never deleted; a review is
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

CREATE FUNCTION smam.require_importer() RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not import the index of official accounts', who),
      'The entity maintains the index of official accounts.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.require_importer() IS 'Refuse (42501) unless the acting role may import the index (entity official, administrator)';

-- The import proper, over the rows staged in smam.index_import_row.
CREATE FUNCTION smam.import_staged(import bigint) RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  imp smam.index_import;
  r smam.index_import_row;
  g record;
  c record;
  dept bigint;
  acct smam.account;
  earlier integer;
  new_id bigint;
  depts_before bigint := (SELECT count(*) FROM smam.department);
  s smam.import_summary;
  err_msg text;
  err_detail text;
  previous bigint;
  want_en text;
  want_fr text;
  other_name text;
BEGIN
  SELECT * INTO imp FROM smam.index_import WHERE id = import;

  -- 1. Normalize each row: platform, language, URL, gc_orgID.
  FOR r IN SELECT * FROM smam.index_import_row WHERE import_id = import AND outcome IS NULL ORDER BY row_number LOOP
    r.platform := smam.platform_of(r.platform_given);
    IF r.platform IS NOT NULL AND r.platform_given IS DISTINCT FROM
       (SELECT p.name FROM smam.platform p WHERE p.code = r.platform) THEN
      r.notes := r.notes || format('platform "%s" read as %s', r.platform_given,
                                   (SELECT p.name FROM smam.platform p WHERE p.code = r.platform));
    END IF;
    r.official_language := smam.official_language_of(r.language_given);
    IF r.official_language IS NOT NULL AND r.language_given IS DISTINCT FROM initcap(r.official_language::text) THEN
      r.notes := r.notes || format('language "%s" read as %s', r.language_given, r.official_language);
    END IF;
    IF r.names_in IS NULL THEN
      r.names_in := CASE WHEN smam.spelled_in_french(r.language_given) THEN 'fr' ELSE 'en' END;
    END IF;
    IF btrim(coalesce(r.gc_org_id_given, '')) ~ E'^[0-9]+(\\.0*)?$' THEN
      r.gc_org_id := split_part(btrim(r.gc_org_id_given), '.', 1)::integer;
    ELSIF btrim(coalesce(r.gc_org_id_given, '')) <> '' THEN
      r.notes := r.notes || format('gc_orgID "%s" is not a number; set aside', r.gc_org_id_given);
    END IF;
    IF coalesce(btrim(r.account_name), '') = '' THEN
      r.outcome := 'rejected'; r.reason := 'The account has no name.';
    ELSIF length(btrim(r.account_name)) > 200 THEN
      r.outcome := 'rejected';
      r.reason := format('The account''s name has %s characters; the index publishes at most 200.', length(btrim(r.account_name)));
    ELSIF length(btrim(r.department_given)) > 300 THEN
      r.outcome := 'rejected';
      r.reason := format('The department''s name has %s characters; the index publishes at most 300.', length(btrim(r.department_given)));
    ELSIF r.platform IS NULL THEN
      r.outcome := 'rejected';
      r.reason := format('"%s" is not a known platform (smam.platform, smam.platform_alias).', coalesce(r.platform_given, ''));
    ELSIF r.official_language IS NULL THEN
      r.outcome := 'rejected';
      r.reason := format('"%s" is not an official language spelling (English, French, Bilingual, Français, Anglais, Bilingue).',
                         coalesce(r.language_given, ''));
    ELSIF coalesce(btrim(r.department_given), '') = '' AND r.gc_org_id IS NULL THEN
      r.outcome := 'rejected'; r.reason := 'The row names no department and has no gc_orgID.';
    ELSE
      c := smam.check_account_url(r.url_given, r.platform);
      IF c.problem IS NOT NULL THEN
        r.outcome := 'rejected'; r.reason := c.problem;
      ELSE
        r.url := c.canonical_url;
        r.url_key := c.url_key;
        IF c.canonical_url IS DISTINCT FROM btrim(r.url_given) THEN
          r.notes := r.notes || format('URL %s read as %s', r.url_given, c.canonical_url);
        END IF;
      END IF;
    END IF;
    UPDATE smam.index_import_row x SET platform = r.platform, official_language = r.official_language,
           names_in = r.names_in, gc_org_id = r.gc_org_id, url = r.url, url_key = r.url_key,
           outcome = r.outcome, reason = r.reason, notes = r.notes
     WHERE x.import_id = import AND x.row_number = r.row_number;
  END LOOP;

  -- 2. Departments known by gc_orgID: one department per id, named by the
  --    most frequent English and French names its rows give, joint names
  --    ("A and B" where A is another of its names) set aside.
  FOR g IN
    SELECT x.gc_org_id,
           array_agg(DISTINCT x.department_given) FILTER (WHERE x.department_given IS NOT NULL) AS names
      FROM smam.index_import_row x
     WHERE x.import_id = import AND x.gc_org_id IS NOT NULL AND x.outcome IS NULL
     GROUP BY x.gc_org_id ORDER BY x.gc_org_id
  LOOP
    SELECT n.department_given INTO want_en FROM (
      SELECT x.department_given, count(*) AS k, min(x.row_number) AS first
        FROM smam.index_import_row x
       WHERE x.import_id = import AND x.gc_org_id = g.gc_org_id AND x.outcome IS NULL AND x.names_in = 'en'
         AND btrim(coalesce(x.department_given, '')) <> ''
         AND NOT EXISTS (SELECT 1 FROM unnest(g.names) o
                          WHERE starts_with(smam.department_name_key(x.department_given), smam.department_name_key(o) || ' and '))
       GROUP BY x.department_given) n
     ORDER BY n.k DESC, n.first LIMIT 1;
    SELECT n.department_given INTO want_fr FROM (
      SELECT x.department_given, count(*) AS k, min(x.row_number) AS first
        FROM smam.index_import_row x
       WHERE x.import_id = import AND x.gc_org_id = g.gc_org_id AND x.outcome IS NULL AND x.names_in = 'fr'
         AND btrim(coalesce(x.department_given, '')) <> ''
         AND NOT EXISTS (SELECT 1 FROM unnest(g.names) o
                          WHERE starts_with(smam.department_name_key(x.department_given), smam.department_name_key(o) || ' et '))
       GROUP BY x.department_given) n
     ORDER BY n.k DESC, n.first LIMIT 1;
    dept := (SELECT d.id FROM smam.department d WHERE d.gc_org_id = g.gc_org_id);
    IF dept IS NULL THEN
      -- A department known by name, without a gc_orgID yet, takes this one.
      dept := (SELECT d.id FROM smam.department d
                WHERE d.gc_org_id IS NULL AND d.id IN (smam.department_by_name(want_en), smam.department_by_name(want_fr))
                ORDER BY d.id LIMIT 1);
      IF dept IS NOT NULL THEN
        UPDATE smam.department d SET gc_org_id = g.gc_org_id WHERE d.id = dept;
      ELSIF smam.department_by_name(coalesce(want_en, want_fr)) IS NULL THEN
        INSERT INTO smam.department (name_en, name_fr, gc_org_id)
        VALUES (btrim(coalesce(want_en, want_fr)),
                CASE WHEN smam.department_by_name(want_fr) IS NULL THEN btrim(want_fr) END,
                g.gc_org_id)
        RETURNING id INTO dept;
      END IF;
    ELSIF want_fr IS NOT NULL AND (SELECT d.name_fr IS NULL FROM smam.department d WHERE d.id = dept)
          AND smam.department_by_name(want_fr) IS NULL THEN
      UPDATE smam.department d SET name_fr = btrim(want_fr) WHERE d.id = dept;
    END IF;
    IF dept IS NOT NULL THEN
      -- Every other spelling under this id becomes an alias.
      INSERT INTO smam.department_alias (name_key, name, department_id, how, import_id)
      SELECT DISTINCT ON (smam.department_name_key(n)) smam.department_name_key(n), btrim(n), dept,
             format('same gc_orgID %s', g.gc_org_id), import
        FROM unnest(g.names) n
       WHERE smam.department_by_name(n) IS NULL AND smam.department_name_key(n) IS NOT NULL
      ON CONFLICT DO NOTHING;
    END IF;
  END LOOP;

  -- 2b. A name without gc_orgID that no department has, given to an
  --     account that another row lists in the other language: the name of
  --     that row's department in this language.
  FOR g IN
    SELECT DISTINCT ON (smam.department_name_key(x.department_given)) x.department_given AS name, x.names_in,
           coalesce((SELECT d.id FROM smam.department d WHERE d.gc_org_id = y.gc_org_id),
                    smam.department_by_name(y.department_given)) AS dept
      FROM smam.index_import_row x
      JOIN smam.index_import_row y ON y.import_id = x.import_id AND y.url_key = x.url_key AND y.names_in <> x.names_in
     WHERE x.import_id = import AND x.outcome IS NULL AND y.outcome IS NULL AND x.gc_org_id IS NULL
       AND smam.department_by_name(x.department_given) IS NULL
       AND smam.department_of_joint_name(x.department_given) IS NULL
     ORDER BY smam.department_name_key(x.department_given), x.row_number
  LOOP
    CONTINUE WHEN g.dept IS NULL OR smam.department_name_key(g.name) IS NULL;
    IF g.names_in = 'fr' AND (SELECT d.name_fr IS NULL FROM smam.department d WHERE d.id = g.dept) THEN
      UPDATE smam.department d SET name_fr = btrim(g.name) WHERE d.id = g.dept;
    ELSE
      INSERT INTO smam.department_alias (name_key, name, department_id, how, import_id)
      VALUES (smam.department_name_key(g.name), btrim(g.name), g.dept, 'the same account listed under both names', import)
      ON CONFLICT DO NOTHING;
    END IF;
  END LOOP;

  -- 3. Each row: its department, then its account.
  FOR r IN SELECT * FROM smam.index_import_row WHERE import_id = import AND outcome IS NULL ORDER BY row_number LOOP
    dept := NULL;
    IF r.gc_org_id IS NOT NULL THEN
      dept := (SELECT d.id FROM smam.department d WHERE d.gc_org_id = r.gc_org_id);
      IF dept IS NULL THEN
        r.outcome := 'rejected';
        r.reason := format('gc_orgID %s has no department, and its name "%s" belongs to department %s, which has gc_orgID %s.',
                           r.gc_org_id, r.department_given, smam.department_by_name(r.department_given),
                           (SELECT d.gc_org_id FROM smam.department d WHERE d.id = smam.department_by_name(r.department_given)));
      ELSIF smam.department_by_name(r.department_given) IS DISTINCT FROM dept THEN
        r.notes := r.notes || format('department "%s" placed by gc_orgID %s', r.department_given, r.gc_org_id);
      END IF;
    ELSE
      dept := smam.department_by_name(r.department_given);
      IF dept IS NOT NULL THEN
        IF (SELECT smam.department_name_key(r.department_given) NOT IN
                   (smam.department_name_key(d.name_en), coalesce(smam.department_name_key(d.name_fr), ''))
              FROM smam.department d WHERE d.id = dept) THEN
          r.notes := r.notes || format('department "%s" found by its other name', r.department_given);
        END IF;
      ELSE
        dept := smam.department_of_joint_name(r.department_given);
        IF dept IS NOT NULL THEN
          r.notes := r.notes || format('joint name "%s" placed with its first department, %s', r.department_given,
                                       (SELECT d.name_en FROM smam.department d WHERE d.id = dept));
          INSERT INTO smam.department_alias (name_key, name, department_id, how, import_id)
          VALUES (smam.department_name_key(r.department_given), btrim(r.department_given), dept, 'joint name', import)
          ON CONFLICT DO NOTHING;
        ELSE
          INSERT INTO smam.department (name_en, name_fr)
          VALUES (btrim(r.department_given), CASE WHEN r.names_in = 'fr' THEN btrim(r.department_given) END)
          RETURNING id INTO dept;
          r.notes := r.notes || CASE WHEN r.names_in = 'fr'
            THEN format('department "%s" created; the index gives only its French name, which stands as its English name until corrected', r.department_given)
            ELSE format('department "%s" created', r.department_given) END;
        END IF;
      END IF;
    END IF;
    r.department_id := dept;

    IF r.outcome IS NULL THEN
      SELECT x.row_number INTO earlier FROM smam.index_import_row x
       WHERE x.import_id = import AND x.url_key = r.url_key AND x.row_number < r.row_number
         AND x.outcome IS DISTINCT FROM 'rejected' AND x.names_in = r.names_in
       ORDER BY x.row_number LIMIT 1;
      IF FOUND THEN
        r.outcome := 'rejected';
        r.reason := format('Row %s lists the same account (%s once normalized).', earlier, r.url);
      ELSIF EXISTS (SELECT 1 FROM smam.index_import_row x WHERE x.import_id = import AND x.url_key = r.url_key
                       AND x.row_number < r.row_number AND x.outcome IS DISTINCT FROM 'rejected') THEN
        r.notes := r.notes || 'the same account as an earlier row in the other language: its names in this language'::text;
      END IF;
    END IF;

    IF r.outcome IS NULL THEN
      SELECT a.* INTO acct FROM smam.account a WHERE a.url_key = r.url_key AND a.stage <> 'disposed';
      IF NOT FOUND THEN
        BEGIN
          -- The same account listed in the other language gives its other name.
          other_name := (SELECT btrim(x.account_name) FROM smam.index_import_row x
                          WHERE x.import_id = import AND x.url_key = r.url_key AND x.names_in <> r.names_in
                            AND x.row_number > r.row_number AND x.outcome IS NULL
                          ORDER BY x.row_number LIMIT 1);
          new_id := smam.onboard_account(dept, r.platform, r.url_given,
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
      ELSIF acct.department_id <> dept THEN
        r.outcome := 'rejected';
        r.reason := format('The account is account %s of department %s; the index lists it under "%s" (department %s). Moving an account between departments is a decision, not an import.',
                           acct.id, acct.department_id, r.department_given, dept);
      ELSE
        r.account_id := acct.id;
        IF (r.names_in = 'en' AND acct.name_en IS DISTINCT FROM btrim(r.account_name))
           OR (r.names_in = 'fr' AND acct.name_fr IS DISTINCT FROM btrim(r.account_name))
           OR acct.official_language <> r.official_language THEN
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
            r.notes := r.notes || format('was: %s / %s / %s', acct.name_en, acct.name_fr, acct.official_language);
          EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
            r.outcome := 'rejected';
            r.account_id := NULL;
            r.reason := format('The index gives account %s other names or language (%s / %s); the account keeps its own: %s',
                               acct.id, r.account_name, r.official_language,
                               err_msg || coalesce(': ' || nullif(err_detail, ''), ''));
          END;
        ELSE
          r.outcome := 'unchanged';
        END IF;
      END IF;
    END IF;
    UPDATE smam.index_import_row x SET department_id = r.department_id, outcome = r.outcome,
           reason = r.reason, account_id = r.account_id, notes = r.notes
     WHERE x.import_id = import AND x.row_number = r.row_number;
  END LOOP;

  -- 4. Accounts that reappear close their open review; accounts of the
  --    previous import of the same source that are live and absent now are
  --    flagged for a disposition review.
  UPDATE smam.disposition_review v
     SET resolved_at = now(), resolved_by = smam.acting_role(),
         resolution = format('listed again by import %s', import)
   WHERE v.resolved_at IS NULL
     AND EXISTS (SELECT 1 FROM smam.index_import_row x
                  WHERE x.import_id = import AND x.account_id = v.account_id);
  previous := (SELECT max(i.id) FROM smam.index_import i
                WHERE i.source = imp.source AND i.id < import AND i.rows_read IS NOT NULL);
  INSERT INTO smam.disposition_review (account_id, department_id, import_id, reason)
  SELECT a.id, a.department_id, import,
         format('listed by import %s, absent from import %s of the same source (%s)', previous, import, imp.source)
    FROM smam.account a
   WHERE previous IS NOT NULL
     AND a.stage IN ('implementation', 'evaluation')
     AND EXISTS (SELECT 1 FROM smam.index_import_row p WHERE p.import_id = previous AND p.account_id = a.id)
     AND NOT EXISTS (SELECT 1 FROM smam.index_import_row x
                      WHERE x.import_id = import AND x.url_key = a.url_key)
     AND NOT EXISTS (SELECT 1 FROM smam.disposition_review v WHERE v.account_id = a.id AND v.resolved_at IS NULL);
  GET DIAGNOSTICS s.vanished = ROW_COUNT;

  PERFORM smam.import_owner_labels(import);  -- issue 17: owners the feed's links name (sql/smam/71_owner_labels.sql)
  s.import_id := import;
  SELECT count(*), count(*) FILTER (WHERE outcome = 'created'), count(*) FILTER (WHERE outcome = 'updated'),
         count(*) FILTER (WHERE outcome = 'unchanged'), count(*) FILTER (WHERE outcome = 'rejected')
    INTO s.rows_read, s.created, s.updated, s.unchanged, s.rejected
    FROM smam.index_import_row WHERE import_id = import;
  s.departments_created := (SELECT count(*) FROM smam.department) - depts_before;
  UPDATE smam.index_import i
     SET rows_read = s.rows_read, created = s.created, updated = s.updated, unchanged = s.unchanged,
         rejected = s.rejected, vanished = s.vanished, departments_created = s.departments_created
   WHERE i.id = import;
  RETURN s;
END
$$;
COMMENT ON FUNCTION smam.import_staged(bigint) IS
  'Internal: normalize and place the staged rows of an import, flag vanished accounts, return the summary';

-- The CSV file's content, as a client holds it.
CREATE FUNCTION smam.import_index(csv text) RETURNS smam.import_summary
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
  INSERT INTO smam.index_import (source, content_sha256)
  VALUES ('csv', encode(sha256(convert_to(csv, 'UTF8')), 'hex'))
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
COMMENT ON FUNCTION smam.import_index(text) IS
  'Import the canada.ca index as CSV content (entity official or administrator); returns the summary';

-- The canada.ca feed itself: {"aaData": [[account, platform, "Department: ...",
-- "Language: ...", "<a href=...>...</a>"], ...]}, English or French.
CREATE FUNCTION smam.import_index_feed(feed jsonb, lang text) RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  import bigint;
BEGIN
  PERFORM smam.require_importer();
  IF lang IS NULL OR lang NOT IN ('en', 'fr') THEN
    PERFORM smam.refuse('22023', '6.2.4', format('feed language "%s" is not en or fr', lang), NULL,
      'The canada.ca index has an English feed (en) and a French feed (fr).');
  END IF;
  IF feed IS NULL OR jsonb_typeof(feed -> 'aaData') IS DISTINCT FROM 'array' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'the feed has no aaData array', NULL,
      'Give the feed as canada.ca publishes it: {"aaData": [[account, platform, department, language, link], ...]}.');
  END IF;
  INSERT INTO smam.index_import (source, content_sha256)
  VALUES ('feed-' || lang, encode(sha256(convert_to(feed::text, 'UTF8')), 'hex'))
  RETURNING id INTO import;
  INSERT INTO smam.index_import_row (import_id, row_number, raw, account_name, platform_given, department_given,
                                     language_given, url_given, names_in, outcome, reason,
                                     owner_label_given)  -- issue 17 (sql/smam/71_owner_labels.sql)
  SELECT import, e.n, e.v::text,
         CASE WHEN ok THEN btrim(smam.html_unescape(e.v ->> 0)) END,
         CASE WHEN ok THEN btrim(smam.html_unescape(e.v ->> 1)) END,
         CASE WHEN ok THEN regexp_replace(btrim(smam.html_unescape(e.v ->> 2)),
                                          E'^(Department|Ministère|Organization|Organisation)\\s*:\\s*', '', 'i') END,
         CASE WHEN ok THEN regexp_replace(btrim(smam.html_unescape(e.v ->> 3)), E'^(Language|Langue)\\s*:\\s*', '', 'i') END,
         CASE WHEN ok THEN btrim(smam.html_unescape(coalesce(
                substring(e.v ->> 4 FROM E'(?i)href\\s*=\\s*"([^"]*)"'),
                substring(e.v ->> 4 FROM E'(?i)href\\s*=\\s*''([^'']*)'''),
                e.v ->> 4))) END,
         lang,
         CASE WHEN NOT ok THEN 'rejected' END,
         CASE WHEN NOT ok THEN 'The entry is not an array of five texts: account, platform, department, language, link.' END,
         CASE WHEN ok THEN smam.feed_link_owner(e.v ->> 4) END  -- issue 17: the link's wb-inv owner text
    FROM jsonb_array_elements(feed -> 'aaData') WITH ORDINALITY AS e(v, n),
         LATERAL (SELECT jsonb_typeof(e.v) = 'array' AND jsonb_array_length(e.v) >= 5
                         AND (SELECT bool_and(jsonb_typeof(x) = 'string')
                                FROM jsonb_array_elements(e.v) WITH ORDINALITY y(x, i) WHERE y.i <= 5) AS ok) k;
  RETURN smam.import_staged(import);
END
$$;
COMMENT ON FUNCTION smam.import_index_feed(jsonb, text) IS
  'Import the canada.ca aaData feed (en or fr; names are taken in that language) (entity official or administrator); returns the summary';

ALTER TABLE smam.department_alias ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_import ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_import_row ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.disposition_review ENABLE ROW LEVEL SECURITY;
CREATE POLICY department_alias_read ON smam.department_alias FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
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
GRANT SELECT ON smam.department_alias TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT SELECT ON smam.index_import, smam.index_reject TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON smam.index_import_row, smam.disposition_review
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.import_index(text), smam.import_index_feed(jsonb, text) TO smam_admin, smam_entity;
GRANT EXECUTE ON FUNCTION smam.csv_records(text), smam.html_escape(text), smam.html_unescape(text),
  smam.official_language_of(text), smam.spelled_in_french(text), smam.department_name_key(text),
  smam.department_by_name(text), smam.department_of_joint_name(text)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.department_alias', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import_row', '');
SELECT pg_catalog.pg_extension_config_dump('smam.disposition_review', '');
SELECT pg_catalog.pg_extension_config_dump('smam.disposition_review_id_seq', '');

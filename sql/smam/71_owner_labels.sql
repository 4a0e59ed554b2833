-- Whose account it is (6.2.4, issue 17). canada.ca's feed ends each entry
-- with a link whose hidden text (<span class="wb-inv">, read only by screen
-- readers) names the account's owner: "Office of the Prime Minister - Go to
-- social media account". It is usually the department, and sometimes not
-- (CanadianPM is the Prime Minister's, under the Privy Council Office). The
-- import of the feed keeps that text (smam.index_import_row.owner_label_given),
-- smam.import_owner_labels() keeps it for the account where it names someone
-- other than the department, and the feeds (sql/smam/72_public_index.sql,
-- src/feed.c) write it back: the owner label in that language, else the
-- department's name. Docs: docs/index-and-compliance.md, "Owner labels".

-- The link's hidden text, as the import stages it (smam.import_index_feed).
ALTER TABLE smam.index_import_row ADD COLUMN owner_label_given text;
COMMENT ON COLUMN smam.index_import_row.owner_label_given IS
  'The owner the feed''s link names to a screen reader (its wb-inv text, read as text, without the " - " before "Go to social media account"); NULL when the link has none (the bare form, or CSV)';

-- The owner a feed link's cell names: the text of its <span class="wb-inv">
-- (tags removed, character references read), without the separator " - "
-- canada.ca puts before "Go to social media account", spaces made single;
-- NULL when the cell has no such span (a bare <a href=...>...</a>).
CREATE FUNCTION smam.feed_link_owner(link text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT btrim(regexp_replace(regexp_replace(
             smam.html_unescape(substring(link FROM E'(?i)<span\\s[^>]*\\mwb-inv\\M[^>]*>((?:[^<]|<(?!/span\\s*>))*)</span\\s*>')),
             E'\\s+', ' ', 'g'), E'\\s*-\\s*$', ''))
  $$;
COMMENT ON FUNCTION smam.feed_link_owner(text) IS
  'The owner a canada.ca feed link names in its hidden wb-inv text ("Office of the Prime Minister - "), read as text; NULL if none';

-- Why an owner label cannot be published, or NULL: as a department's name,
-- at most 300 characters, and text (no control characters), not empty.
CREATE FUNCTION smam.owner_label_problem(label text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN label IS NULL THEN NULL
                WHEN btrim(label) = '' THEN 'The link''s hidden text names no owner.'
                WHEN length(btrim(label)) > 300
                THEN format('The owner''s name has %s characters; the index publishes at most 300.', length(btrim(label)))
                WHEN label ~ E'[\\x01-\\x1f\\x7f-\\x9f]' THEN 'The owner''s name holds a control character.' END
  $$;
COMMENT ON FUNCTION smam.owner_label_problem(text) IS
  'Why an owner label cannot be published (empty, over 300 characters, a control character), or NULL';

CREATE TABLE smam.account_owner_label (
  account_id   bigint NOT NULL REFERENCES smam.account (id),
  lang         text NOT NULL CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  label        text NOT NULL,
  import_id    bigint REFERENCES smam.index_import (id),
  recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (account_id, lang),
  -- Published as a department's name is: bounded, trimmed, text.
  CONSTRAINT account_owner_label_text CHECK (
    label OPERATOR(pg_catalog.=) pg_catalog.btrim(label) AND label OPERATOR(pg_catalog.<>) ''
    AND pg_catalog.length(label) OPERATOR(pg_catalog.<=) 300
    AND label OPERATOR(pg_catalog.!~) E'[\\x01-\\x1f\\x7f-\\x9f]')
);
COMMENT ON TABLE smam.account_owner_label IS
  'Whose account it is, where the index names someone other than the department (6.2.4): the feed''s link says it to screen readers';
COMMENT ON COLUMN smam.account_owner_label.lang IS 'en or fr: the feed that names the owner so, and that writes it';
COMMENT ON COLUMN smam.account_owner_label.label IS 'The owner as the index names it ("Office of the Prime Minister"), as text (not HTML)';
COMMENT ON COLUMN smam.account_owner_label.import_id IS 'The import that last gave it';

-- Called by smam.import_staged once its rows are placed: for each row of
-- the import that is an account and whose link names an owner, in the row's
-- language, keep the owner where it is neither the department the row names
-- nor the placed department's name in that language; forget a kept one
-- where the index now names the department. An owner that cannot be
-- published is set aside, and the row's notes say why. Returns how many
-- labels it wrote or removed.
CREATE FUNCTION smam.import_owner_labels(import bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  r record;
  given text;
  problem text;
  dept_name text;
  old text;
  n integer := 0;
BEGIN
  FOR r IN
    SELECT x.row_number, x.account_id, x.names_in AS lang, x.owner_label_given, x.department_given, x.department_id
      FROM smam.index_import_row x
     WHERE x.import_id = import AND x.owner_label_given IS NOT NULL AND x.account_id IS NOT NULL
       AND x.outcome IN ('created', 'updated', 'unchanged')
     ORDER BY x.row_number
  LOOP
    given := regexp_replace(btrim(r.owner_label_given), E'\\s+', ' ', 'g');
    problem := smam.owner_label_problem(given);
    IF problem IS NOT NULL THEN
      UPDATE smam.index_import_row x SET notes = x.notes || format('owner set aside: %s', problem)
       WHERE x.import_id = import AND x.row_number = r.row_number;
      CONTINUE;
    END IF;
    dept_name := (SELECT CASE WHEN r.lang = 'fr' THEN d.name_fr ELSE d.name_en END
                    FROM smam.department d JOIN smam.account a ON a.department_id = d.id WHERE a.id = r.account_id);
    old := (SELECT l.label FROM smam.account_owner_label l WHERE l.account_id = r.account_id AND l.lang = r.lang);
    IF given IN (regexp_replace(btrim(r.department_given), E'\\s+', ' ', 'g'), coalesce(dept_name, '')) THEN
      -- The index names the department: the feed says so by itself.
      IF old IS NOT NULL THEN
        DELETE FROM smam.account_owner_label l WHERE l.account_id = r.account_id AND l.lang = r.lang;
        UPDATE smam.index_import_row x SET notes = x.notes || format('owner "%s" forgotten: the index names the department', old)
         WHERE x.import_id = import AND x.row_number = r.row_number;
        n := n + 1;
      END IF;
    ELSIF old IS DISTINCT FROM given THEN
      INSERT INTO smam.account_owner_label AS l (account_id, lang, label, import_id)
      VALUES (r.account_id, r.lang, given, import)
      ON CONFLICT (account_id, lang) DO UPDATE SET label = excluded.label, import_id = excluded.import_id,
                                                   recorded_at = excluded.recorded_at;
      UPDATE smam.index_import_row x
         SET notes = x.notes || format('owner "%s" kept: the link names it, not the department%s', given,
                                       CASE WHEN old IS NOT NULL THEN format(' (was "%s")', old) ELSE '' END)
       WHERE x.import_id = import AND x.row_number = r.row_number;
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.import_owner_labels(bigint) IS
  'Internal (smam.import_staged): keep the owners an import''s feed names other than the department, forget those it no longer names';

ALTER TABLE smam.account_owner_label ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_owner_label_read ON smam.account_owner_label FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY account_owner_label_department ON smam.account_owner_label FOR SELECT TO smam_department
  USING (account_id OPERATOR(pg_catalog.=) ANY (ARRAY(
    SELECT a.id FROM smam.account a
     WHERE a.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]))));
GRANT SELECT ON smam.account_owner_label TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.feed_link_owner(text), smam.owner_label_problem(text)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.account_owner_label', '');

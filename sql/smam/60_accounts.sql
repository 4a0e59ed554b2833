-- Official social media accounts (appendix: "an account on a social media
-- platform used for official Government of Canada purposes"). The life
-- cycle of 6.1.2 is the column stage; the rules that move it live in C.

CREATE TYPE smam.stage AS ENUM (
  'planning', 'creation', 'configuration', 'implementation', 'evaluation', 'disposition', 'disposed');
COMMENT ON TYPE smam.stage IS 'Requirement 6.1.2: the life cycle of an official social media account';

CREATE TYPE smam.official_language AS ENUM ('english', 'french', 'bilingual');
COMMENT ON TYPE smam.official_language IS 'The official language(s) an account publishes in';

CREATE SEQUENCE smam.account_id_seq;
CREATE TABLE smam.account (
  id                 bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_id_seq'),
  department_id      bigint NOT NULL REFERENCES smam.department (id),
  platform           text NOT NULL REFERENCES smam.platform (code),
  plan_id            bigint,
  handle             text NOT NULL,
  url                text NOT NULL,
  url_key            text NOT NULL,
  name_en            text,
  name_fr            text,
  official_language  smam.official_language NOT NULL,
  purpose            text,
  configuration      jsonb NOT NULL DEFAULT '{}',
  stage              smam.stage NOT NULL DEFAULT 'planning',
  stage_changed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  listed_on          date,
  onboarded          boolean NOT NULL DEFAULT false,
  onboarded_reason   text,
  created_by         name NOT NULL DEFAULT smam.acting_role(),
  created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
  stage_note         text,
  plan_attached_at   timestamptz,
  CHECK (name_en IS NOT NULL OR name_fr IS NOT NULL),
  -- What the index publishes is bounded (smam.account_text_problem).
  CONSTRAINT account_name_en_length CHECK (pg_catalog.length(name_en) OPERATOR(pg_catalog.<=) 200),
  CONSTRAINT account_name_fr_length CHECK (pg_catalog.length(name_fr) OPERATOR(pg_catalog.<=) 200),
  CONSTRAINT account_url_length CHECK (pg_catalog.length(url) OPERATOR(pg_catalog.<=) 2048),
  CHECK (NOT onboarded OR onboarded_reason IS NOT NULL)
);
ALTER SEQUENCE smam.account_id_seq OWNED BY smam.account.id;
-- One account per address among those not disposed of.
CREATE UNIQUE INDEX account_url_key_live ON smam.account (url_key)
  WHERE stage OPERATOR(pg_catalog.<>) 'disposed'::smam.stage;
CREATE INDEX account_department_idx ON smam.account (department_id, stage);
COMMENT ON TABLE smam.account IS 'Official social media accounts and their life-cycle stage (6.1.2)';
COMMENT ON COLUMN smam.account.url IS 'Canonical URL (smam.check_account_url)';
COMMENT ON COLUMN smam.account.url_key IS 'Lower-case canonical URL: two rows with the same key are the same account';
COMMENT ON COLUMN smam.account.listed_on IS 'Date the account was first listed in the index of official accounts (6.2.4)';
COMMENT ON COLUMN smam.account.stage_note IS
  'Note of the latest move (smam.transition); recorded in smam.stage_history with the move';
COMMENT ON COLUMN smam.account.plan_attached_at IS
  'When an implementation plan was attached to the account after planning (smam.attach_implementation_plan); NULL when the plan dates from planning, or there is none';
COMMENT ON COLUMN smam.account.onboarded IS
  'Entered through smam.onboard_account: existed before smam, straight into implementation';

-- What is wrong with an account's published names, or NULL: the index and
-- its feeds publish them, so each is at most 200 characters.
CREATE FUNCTION smam.account_names_problem(name_en text, name_fr text) RETURNS text
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN length(btrim(name_en)) > 200
                THEN format('The English name has %s characters; the index publishes at most 200.', length(btrim(name_en)))
                WHEN length(btrim(name_fr)) > 200
                THEN format('The French name has %s characters; the index publishes at most 200.', length(btrim(name_fr))) END
  $$;
COMMENT ON FUNCTION smam.account_names_problem(text, text) IS
  'Why an account''s names cannot be published (each at most 200 characters), or NULL';

-- The onboarding path (src/lifecycle.c): checks the acting role again, arms
-- a backend-local flag that the lifecycle trigger consumes on the one INSERT
-- it makes, and disarms it whatever happens. Granted to nobody: only
-- smam.onboard_account (owned by the extension's owner) calls it.
CREATE FUNCTION smam.insert_onboarded_account(department bigint, platform text, handle text,
                                              url text, name_en text, name_fr text,
                                              official_language smam.official_language,
                                              purpose text, listed_on date, reason text)
  RETURNS bigint LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'smam_insert_onboarded_account';
COMMENT ON FUNCTION smam.insert_onboarded_account(bigint, text, text, text, text, text, smam.official_language, text, date, text) IS
  'Internal: the INSERT of smam.onboard_account, the only way an account enters past planning';

-- Accounts that exist in the real world already (the canada.ca index) enter
-- here, straight into implementation, marked as onboarded with the reason.
-- The compliance views list what such accounts still lack.
CREATE FUNCTION smam.onboard_account(department bigint, platform text, url text,
                                     name_en text, name_fr text,
                                     official_language smam.official_language, reason text,
                                     purpose text DEFAULT NULL, listed_on date DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  c record;
  existing bigint;
  new_id bigint;
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not onboard an existing account', who),
      'Onboarding lists an account that already exists in the index of official accounts, which the entity maintains.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department(), or add it with smam.add_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  IF reason IS NULL OR btrim(reason) = '' THEN
    PERFORM smam.refuse('22023', '6.1.2', 'onboarding an account needs a reason',
      'An onboarded account skips the planning, creation and configuration stages of its life cycle.',
      'Say why the account enters this way, such as "listed in the canada.ca index on 2026-08-22".');
  END IF;
  IF official_language IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'an account needs its official language', NULL,
      'Give english, french or bilingual.');
  END IF;
  IF coalesce(btrim(name_en), '') = '' AND coalesce(btrim(name_fr), '') = '' THEN
    PERFORM smam.refuse('22023', NULL, 'an account needs a name', NULL,
      'Give the account''s name in English, in French, or both.');
  END IF;
  IF smam.account_names_problem(name_en, name_fr) IS NOT NULL THEN
    PERFORM smam.refuse('22001', '6.2.4', 'an account''s name is at most 200 characters',
      smam.account_names_problem(name_en, name_fr), 'Give the account''s name as the index is to show it.');
  END IF;
  c := smam.check_account_url(url, platform);
  IF c.problem IS NOT NULL THEN
    PERFORM smam.refuse('22023', '6.2.4', format('invalid account URL "%s"', url), c.problem,
      'Give the address of the account''s own page, as listed in the index of official accounts.');
  END IF;
  SELECT a.id INTO existing FROM smam.account a
   WHERE a.url_key = c.url_key AND a.stage <> 'disposed';
  IF FOUND THEN
    PERFORM smam.refuse('23505', '6.2.4', format('account %s is already known', c.canonical_url),
      format('Account %s has this address.', existing),
      'Update the existing account instead of onboarding it again.');
  END IF;
  -- The one way past planning without the guards (src/lifecycle.c).
  new_id := smam.insert_onboarded_account(department, c.platform_code, c.handle, c.canonical_url,
    nullif(btrim(name_en), ''), nullif(btrim(name_fr), ''), official_language, purpose,
    coalesce(listed_on, smam.today()), btrim(reason));
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.onboard_account(bigint, text, text, text, text, smam.official_language, text, text, date) IS
  'Enter an account that already exists straight into implementation, marked onboarded with the reason (entity or administrator)';

ALTER TABLE smam.account ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_read ON smam.account FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.account TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.onboard_account(bigint, text, text, text, text, smam.official_language, text, text, date)
  TO smam_admin, smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.account', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_id_seq', '');

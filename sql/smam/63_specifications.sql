-- Technical Specifications for Social Media Accounts (6.1.5): rules over an
-- account's configuration, per platform or for all. smam ships the rules the
-- Standard's context names (a GC avatar, an identifiable account name, a
-- link to the social media notice, official languages); the entity may add
-- rules. smam.check_configuration() says which rules a configuration breaks.

CREATE TYPE smam.specification_rule AS ENUM ('present', 'equals', 'matches', 'official_languages');
COMMENT ON TYPE smam.specification_rule IS
  'present: the key has a non-empty value; equals: the value is the expected text; matches: the value matches the expected regular expression; official_languages: names and descriptions in the account''s official language(s)';

CREATE TABLE smam.technical_specification (
  code         text PRIMARY KEY CHECK (code OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]*$'),
  platform     text REFERENCES smam.platform (code),
  rule         smam.specification_rule NOT NULL,
  key          text,
  expected     text,
  description  text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(description)) OPERATOR(pg_catalog.>) 0),
  shipped      boolean NOT NULL DEFAULT false,
  CHECK ((rule OPERATOR(pg_catalog.=) 'official_languages') OR key IS NOT NULL),
  CHECK ((rule OPERATOR(pg_catalog.<>) ALL (ARRAY['equals', 'matches']::smam.specification_rule[])) OR expected IS NOT NULL)
);
COMMENT ON TABLE smam.technical_specification IS
  'Rules of the Technical Specifications for Social Media Accounts (6.1.5) over an account''s configuration; platform NULL: every platform';
COMMENT ON COLUMN smam.technical_specification.key IS 'The key of the configuration (jsonb) the rule reads';

INSERT INTO smam.technical_specification (code, platform, rule, key, expected, description, shipped) VALUES
  ('gc_avatar', NULL, 'matches', 'avatar', '^(fip|gc)[-_:]',
   'The profile picture is a Government of Canada identifier of the Federal Identity Program (avatar "fip:..." or "gc:...")', true),
  ('identifiable_name', NULL, 'present', 'display_name', NULL,
   'The account''s display name identifies the department', true),
  ('notice_link', NULL, 'matches', 'notice_url', E'^https://([a-z0-9-]+\\.)*(canada\\.ca|gc\\.ca)(/|$)',
   'The profile links to the department''s social media notice (terms of use) on canada.ca or gc.ca', true),
  ('official_languages', NULL, 'official_languages', NULL, NULL,
   'Names and descriptions in the account''s official language(s): English and French for a bilingual account', true);

CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.technical_specification
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();

-- The rules a configuration breaks, with the problem; no rows: it meets them.
CREATE FUNCTION smam.check_configuration(platform text, configuration jsonb,
                                         official_language smam.official_language,
                                         name_en text DEFAULT NULL, name_fr text DEFAULT NULL)
  RETURNS TABLE (specification text, problem text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  s smam.technical_specification;
  v text;
  pcode text := coalesce(smam.platform_of(platform), platform);
BEGIN
  IF configuration IS NULL OR jsonb_typeof(configuration) <> 'object' THEN
    specification := 'configuration';
    problem := 'The configuration is not a JSON object.';
    RETURN NEXT;
    RETURN;
  END IF;
  FOR s IN SELECT * FROM smam.technical_specification t
            WHERE t.platform IS NULL OR t.platform = pcode ORDER BY t.code LOOP
    specification := s.code;
    IF s.rule = 'official_languages' THEN
      IF official_language IN ('english', 'bilingual') AND coalesce(btrim(name_en), '') = '' THEN
        problem := 'The account has no English name.'; RETURN NEXT;
      END IF;
      IF official_language IN ('french', 'bilingual') AND coalesce(btrim(name_fr), '') = '' THEN
        problem := 'The account has no French name.'; RETURN NEXT;
      END IF;
      IF official_language IN ('english', 'bilingual') AND coalesce(btrim(configuration ->> 'description_en'), '') = '' THEN
        problem := 'The configuration has no English description (description_en).'; RETURN NEXT;
      END IF;
      IF official_language IN ('french', 'bilingual') AND coalesce(btrim(configuration ->> 'description_fr'), '') = '' THEN
        problem := 'The configuration has no French description (description_fr).'; RETURN NEXT;
      END IF;
      CONTINUE;
    END IF;
    v := configuration ->> s.key;
    IF coalesce(btrim(v), '') = '' THEN
      problem := format('The configuration has no %s.', s.key);
      RETURN NEXT;
    ELSIF s.rule = 'equals' AND v <> s.expected THEN
      problem := format('The %s is "%s", not "%s".', s.key, v, s.expected);
      RETURN NEXT;
    ELSIF s.rule = 'matches' AND v !~ s.expected THEN
      problem := format('The %s "%s" does not match %s.', s.key, v, s.expected);
      RETURN NEXT;
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION smam.check_configuration(text, jsonb, smam.official_language, text, text) IS
  'The technical specifications (6.1.5) a configuration breaks, with the problem; no rows when it meets them';

-- Add a rule (the entity).
CREATE FUNCTION smam.add_specification(code text, description text, rule smam.specification_rule,
                                       key text DEFAULT NULL, expected text DEFAULT NULL,
                                       platform text DEFAULT NULL)
  RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  pcode text;
BEGIN
  PERFORM smam.require_office('entity_official', NULL, '6.1.5', 'add a technical specification');
  IF platform IS NOT NULL THEN
    pcode := smam.platform_of(platform);
    IF pcode IS NULL THEN
      PERFORM smam.refuse('23503', '6.1.5', format('"%s" is not a known platform', platform), NULL,
        'List platforms in smam.platform, or give no platform for a rule over every platform.');
    END IF;
  END IF;
  IF rule = 'matches' THEN
    BEGIN
      PERFORM '' ~ expected;
    EXCEPTION WHEN invalid_regular_expression THEN
      PERFORM smam.refuse('22023', '6.1.5', format('"%s" is not a regular expression', expected), SQLERRM,
        'Give a POSIX regular expression, such as ^https://.');
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM smam.technical_specification t WHERE t.code = add_specification.code) THEN
    PERFORM smam.refuse('23505', '6.1.5', format('technical specification "%s" already exists', code), NULL,
      'Choose another code.');
  END IF;
  BEGIN
    INSERT INTO smam.technical_specification (code, platform, rule, key, expected, description)
    VALUES (code, pcode, rule, key, expected, btrim(description));
  EXCEPTION WHEN check_violation OR not_null_violation THEN
    PERFORM smam.refuse('22023', '6.1.5', format('technical specification "%s" is incomplete', code), SQLERRM,
      'A code in lower case, a description, a key (except for official_languages) and, for equals and matches, the expected value.');
  END;
  RETURN code;
END
$$;
COMMENT ON FUNCTION smam.add_specification(text, text, smam.specification_rule, text, text, text) IS
  'Add a rule of the technical specifications (6.1.5), for one platform or all (entity official)';

ALTER TABLE smam.technical_specification ENABLE ROW LEVEL SECURITY;
CREATE POLICY technical_specification_read ON smam.technical_specification FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.technical_specification TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.check_configuration(text, jsonb, smam.official_language, text, text)
  TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.add_specification(text, text, smam.specification_rule, text, text, text) TO smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.technical_specification', 'WHERE NOT shipped');

-- Social media platforms: the platforms of the real canada.ca index, the
-- spellings seen for them, the hosts their pages live on, and the shape of
-- an account's URL on each, so that a URL can be checked and normalized.
-- Shipped rows are read-only; the entity may add platforms (6.2.3).

CREATE TABLE smam.platform (
  code                  text PRIMARY KEY CHECK (code OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]*$'),
  name                  text NOT NULL UNIQUE,
  canonical_host        text NOT NULL,
  account_path_pattern  text NOT NULL,
  path_rewrites         text[] NOT NULL DEFAULT '{}'
                        CHECK (coalesce(pg_catalog.array_length(path_rewrites, 1), 0) OPERATOR(pg_catalog.%) 2 OPERATOR(pg_catalog.=) 0),
  example_url           text NOT NULL,
  shipped               boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE smam.platform IS 'Social media platforms and the shape of an account''s URL on each';
COMMENT ON COLUMN smam.platform.account_path_pattern IS
  'Regular expression the path (and query) of an account''s canonical URL matches';
COMMENT ON COLUMN smam.platform.path_rewrites IS
  'Pairs {pattern, replacement} applied in order to a path before the check: sub-pages, stray queries';

CREATE TABLE smam.platform_host (
  host      text PRIMARY KEY CHECK (host OPERATOR(pg_catalog.=) pg_catalog.lower(host)),
  platform  text NOT NULL REFERENCES smam.platform (code),
  shipped   boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE smam.platform_host IS 'Hosts on which a platform serves account pages (twitter.com is X)';

CREATE TABLE smam.platform_alias (
  alias     text PRIMARY KEY,
  platform  text NOT NULL REFERENCES smam.platform (code),
  shipped   boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX platform_alias_lower_key ON smam.platform_alias (pg_catalog.lower(alias));
COMMENT ON TABLE smam.platform_alias IS 'Names a platform goes by, matched without regard to case (Intagram, twitter)';

INSERT INTO smam.platform (code, name, canonical_host, account_path_pattern, path_rewrites, example_url, shipped) VALUES
  ('facebook', 'Facebook', 'www.facebook.com',
   E'^/(profile\\.php\\?id=[0-9]+|pages/[^/?]+/[0-9]+|people/[^/?]+/[0-9]+|groups/[^/?]+|([A-Za-z0-9.\\-]|%[0-9A-F]{2})+)$',
   ARRAY['^/pg/', '/',
         E'^/(?!profile\\.php)([^?]*)\\?.*$', E'/\\1',
         '/(about|posts|photos|videos|timeline|community|home|info|reviews|events)$', ''],
   'https://www.facebook.com/CanadianPM', true),
  ('x', 'X', 'x.com', '^/[A-Za-z0-9_]{1,15}$',
   ARRAY[E'\\?.*$', '', '^/@', '/', '/(with_replies|media|likes|highlights)$', ''],
   'https://x.com/CanadianPM', true),
  ('instagram', 'Instagram', 'www.instagram.com', '^/[A-Za-z0-9._]{1,30}$',
   ARRAY[E'\\?.*$', '', '/(reels|tagged|guides)$', ''],
   'https://www.instagram.com/canadianpm', true),
  ('youtube', 'YouTube', 'www.youtube.com',
   E'^/(@([A-Za-z0-9._\\-]|%[0-9A-F]{2}){3,90}|channel/UC[A-Za-z0-9_\\-]{22}|user/[A-Za-z0-9._\\-]+|c/[^/?]+|(?!(watch|results|playlist|feed|embed|shorts|live|redirect|t|hashtag)$)[A-Za-z0-9]+)$',
   ARRAY[E'\\?.*$', '', '/(featured|videos|about|streams|playlists|shorts|community|channels|home)$', ''],
   'https://www.youtube.com/@CanadianPM', true),
  ('linkedin', 'LinkedIn', 'www.linkedin.com', '^/(company|showcase|school|in|groups)/[^/?]+$',
   ARRAY[E'\\?.*$', '', '^(/(company|showcase|school)/[^/]+)/admin(/.*)?$', E'\\1',
         '/(about|posts|mycompany|people|jobs|life|videos)$', ''],
   'https://www.linkedin.com/company/privy-council-office', true),
  ('flickr', 'Flickr', 'www.flickr.com', '^/(photos|people|groups)/[^/?]+$',
   ARRAY[E'\\?.*$', '', '/(albums|favorites|galleries)$', ''],
   'https://www.flickr.com/photos/canadianarmy', true);

INSERT INTO smam.platform_host (host, platform, shipped) VALUES
  ('facebook.com', 'facebook', true), ('www.facebook.com', 'facebook', true),
  ('m.facebook.com', 'facebook', true), ('web.facebook.com', 'facebook', true),
  ('mobile.facebook.com', 'facebook', true), ('fr-ca.facebook.com', 'facebook', true),
  ('x.com', 'x', true), ('www.x.com', 'x', true), ('mobile.x.com', 'x', true),
  ('twitter.com', 'x', true), ('www.twitter.com', 'x', true), ('mobile.twitter.com', 'x', true),
  ('instagram.com', 'instagram', true), ('www.instagram.com', 'instagram', true),
  ('m.instagram.com', 'instagram', true),
  ('youtube.com', 'youtube', true), ('www.youtube.com', 'youtube', true),
  ('m.youtube.com', 'youtube', true),
  ('linkedin.com', 'linkedin', true), ('www.linkedin.com', 'linkedin', true),
  ('ca.linkedin.com', 'linkedin', true), ('fr.linkedin.com', 'linkedin', true),
  ('flickr.com', 'flickr', true), ('www.flickr.com', 'flickr', true), ('m.flickr.com', 'flickr', true);

-- Names and the spellings seen in the canada.ca index (x, Youtube, Linkedin
-- match their platform's name without regard to case; Intagram and twitter
-- are spellings of their own).
INSERT INTO smam.platform_alias (alias, platform, shipped) VALUES
  ('Facebook', 'facebook', true), ('X', 'x', true), ('Twitter', 'x', true),
  ('Instagram', 'instagram', true), ('Intagram', 'instagram', true),
  ('YouTube', 'youtube', true), ('LinkedIn', 'linkedin', true), ('Flickr', 'flickr', true);

CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.platform
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.platform_host
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.platform_alias
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();

-- The platform a name stands for, or NULL.
CREATE FUNCTION smam.platform_of(name text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce(
      (SELECT p.code FROM smam.platform p WHERE p.code = lower(btrim(platform_of.name))),
      (SELECT a.platform FROM smam.platform_alias a WHERE lower(a.alias) = lower(btrim(platform_of.name))))
  $$;
COMMENT ON FUNCTION smam.platform_of(text) IS 'The platform code a name or spelling stands for (Youtube, Intagram, twitter), or NULL';

-- Check an account's URL, never raising: the platform, the canonical URL,
-- its comparison key and handle, or the problem that stops it.
CREATE FUNCTION smam.check_account_url(url text, platform text DEFAULT NULL,
                                       OUT platform_code text, OUT canonical_url text,
                                       OUT url_key text, OUT handle text, OUT problem text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  normal text;
  url_host text;
  rest text;
  p smam.platform;
  wanted text;
BEGIN
  IF url IS NULL THEN
    problem := 'The URL is missing.';
    RETURN;
  END IF;
  problem := smam.url_problem(url);
  IF problem IS NOT NULL THEN
    RETURN;
  END IF;
  normal := smam.normalize_url(url);
  url_host := substring(normal FROM '^https://([^/:?]+)');
  rest := substring(normal FROM '^https://[^/?]+(.*)$');
  SELECT pl.* INTO p FROM smam.platform_host h JOIN smam.platform pl ON pl.code = h.platform
   WHERE h.host = url_host;
  IF NOT FOUND THEN
    problem := format('The host %s is not the host of a known platform.', url_host);
    RETURN;
  END IF;
  platform_code := p.code;
  IF platform IS NOT NULL THEN
    wanted := smam.platform_of(platform);
    IF wanted IS NULL THEN
      problem := format('"%s" is not a known platform.', platform);
      RETURN;
    ELSIF wanted <> p.code THEN
      problem := format('The URL is an address on %s, not on %s.', p.name,
                        (SELECT pl.name FROM smam.platform pl WHERE pl.code = wanted));
      RETURN;
    END IF;
  END IF;
  FOR i IN 1 .. coalesce(array_length(p.path_rewrites, 1), 0) / 2 LOOP
    rest := regexp_replace(rest, p.path_rewrites[2 * i - 1], p.path_rewrites[2 * i]);
  END LOOP;
  IF rest !~ p.account_path_pattern THEN
    problem := format('The address %s does not have the shape of an account on %s, such as %s.',
                      normal, p.name, p.example_url);
    RETURN;
  END IF;
  canonical_url := 'https://' || p.canonical_host || rest;
  url_key := lower(canonical_url);
  handle := substr(rest, 2);
END
$$;
COMMENT ON FUNCTION smam.check_account_url(text, text) IS
  'Check an account URL (optionally for a platform): canonical URL, lower-case comparison key and handle, or the problem';

-- The canonical URL of an account, or a refusal (22023).
CREATE FUNCTION smam.account_url(url text, platform text DEFAULT NULL) RETURNS text
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c record;
BEGIN
  c := smam.check_account_url(url, platform);
  IF c.problem IS NOT NULL THEN
    PERFORM smam.refuse('22023', '6.2.4',
      format('invalid account URL "%s"', url), c.problem,
      'Give the address of the account''s own page, as listed in the index of official accounts.');
  END IF;
  RETURN c.canonical_url;
END
$$;
COMMENT ON FUNCTION smam.account_url(text, text) IS 'The canonical URL of an account on a platform, or a refusal (22023)';

ALTER TABLE smam.platform ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.platform_host ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.platform_alias ENABLE ROW LEVEL SECURITY;
CREATE POLICY platform_read ON smam.platform FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
CREATE POLICY platform_host_read ON smam.platform_host FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
CREATE POLICY platform_alias_read ON smam.platform_alias FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
GRANT SELECT ON smam.platform, smam.platform_host, smam.platform_alias
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.platform_of(text), smam.check_account_url(text, text),
  smam.account_url(text, text), smam.normalize_url(text), smam.url_problem(text)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.platform', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('smam.platform_host', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('smam.platform_alias', 'WHERE NOT shipped');

-- Connectors and credentials: how the tool reaches each platform (set by an
-- administrator, 6.2.5) and the secrets of each account (readable only by
-- the owner of the extension, the role the publishing worker connects as;
-- never in a view, an error or the audit log).

CREATE FUNCTION smam.http_url_problem(url text, allowed_hosts text[]) RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_http_url_problem_sql';
COMMENT ON FUNCTION smam.http_url_problem(text, text[]) IS
  'Why smam''s HTTP client would refuse this URL for this allowlist (scheme, user info, host), or NULL';

CREATE FUNCTION smam.url_origin(url text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_url_origin_sql';
COMMENT ON FUNCTION smam.url_origin(text) IS
  'The origin of an http(s) URL, scheme://host:port in lower case with the default port written; NULL for anything else';

CREATE FUNCTION smam.address_problem(address text, allowed_networks text[] DEFAULT '{}') RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_address_problem_sql';
COMMENT ON FUNCTION smam.address_problem(text, text[]) IS
  'Why smam''s HTTP client would refuse to connect to this IP address with these networks allowed (special ranges, embedded IPv4, cloud metadata), or NULL';

-- The placeholders a connector's templates may use.
CREATE FUNCTION smam.template_placeholders() RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT ARRAY['text', 'text_en', 'text_fr', 'media_urls', 'handle', 'account_id', 'account_url',
                     'post_id', 'delivery_id', 'idempotency_key', 'token', 'platform_post_id'] $$;
COMMENT ON FUNCTION smam.template_placeholders() IS
  'Placeholders {{name}} a connector''s URL, header and body templates may use';

CREATE TABLE smam.connector (
  platform            text PRIMARY KEY REFERENCES smam.platform (code),
  base_url            text NOT NULL,
  publish_path        text NOT NULL,
  method              text NOT NULL DEFAULT 'POST'
                      CHECK (method OPERATOR(pg_catalog.=) ANY (ARRAY['POST', 'PUT', 'PATCH', 'GET'])),
  header_templates    text[] NOT NULL DEFAULT '{}',
  body_template       text,
  body_format         text NOT NULL DEFAULT 'json'
                      CHECK (body_format OPERATOR(pg_catalog.=) ANY (ARRAY['json', 'form', 'text'])),
  post_id_path        text[] NOT NULL DEFAULT '{id}',
  metrics_path        text,
  metrics_object_path text[] NOT NULL DEFAULT '{}',
  profile_url         text,
  allowed_hosts       text[] NOT NULL,
  allowed_networks    cidr[] NOT NULL DEFAULT '{}',
  idempotency_header  text NOT NULL DEFAULT 'Idempotency-Key'
                      CHECK (idempotency_header OPERATOR(pg_catalog.~) '^[A-Za-z0-9-]+$'),
  enabled             boolean NOT NULL DEFAULT true,
  set_by              name NOT NULL DEFAULT smam.acting_role(),
  set_at              timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE smam.connector IS
  'How the tool reaches a platform: URL templates, method, headers, body, where the post id is, metrics; set by an administrator';
COMMENT ON COLUMN smam.connector.publish_path IS 'Appended to base_url to publish, with {{placeholders}}';
COMMENT ON COLUMN smam.connector.post_id_path IS 'Where the platform''s post id is in the JSON answer (as for the #>> operator)';
COMMENT ON COLUMN smam.connector.metrics_path IS 'Appended to base_url to read an account''s metrics (JSON object of numbers); NULL: none';
COMMENT ON COLUMN smam.connector.metrics_object_path IS
  'Where the object of numbers is in the metrics answer (as for the #> operator); {} for the top level';
COMMENT ON COLUMN smam.connector.profile_url IS 'Where the link check looks for an account (template); NULL: the account''s own URL';
COMMENT ON COLUMN smam.connector.allowed_hosts IS 'The only hosts requests may go to; ".example.com" allows its subdomains';
COMMENT ON COLUMN smam.connector.allowed_networks IS
  'Special (loopback, private, link-local, ...) ranges a superuser explicitly allows (normally none); cloud metadata addresses never';

CREATE FUNCTION smam.set_connector(platform text, base_url text, publish_path text,
                                   allowed_hosts text[] DEFAULT NULL,
                                   method text DEFAULT 'POST',
                                   header_templates text[] DEFAULT '{}',
                                   body_template text DEFAULT NULL,
                                   body_format text DEFAULT 'json',
                                   post_id_path text[] DEFAULT '{id}',
                                   metrics_path text DEFAULT NULL,
                                   profile_url text DEFAULT NULL,
                                   allowed_networks cidr[] DEFAULT '{}',
                                   enabled boolean DEFAULT true,
                                   metrics_object_path text[] DEFAULT '{}')
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  code text := smam.platform_of(platform);
  hosts text[];
  problem text;
  tpl text;
  unknown text;
  net cidr;
BEGIN
  PERFORM smam.require_office('administrator', NULL, '6.2.5', 'configure a connector');
  IF code IS NULL THEN
    PERFORM smam.refuse('22023', NULL, format('"%s" is not a known platform', platform), NULL,
      'List platforms with: SELECT code FROM smam.platform;');
  END IF;
  hosts := coalesce(allowed_hosts,
                    ARRAY[lower(substring(base_url FROM '^[A-Za-z]+://([^/:?#]+)'))]);
  hosts := (SELECT array_agg(lower(btrim(h))) FROM unnest(hosts) h WHERE btrim(h) <> '');
  IF hosts IS NULL THEN
    PERFORM smam.refuse('22023', '6.2.5', 'a connector needs an allowlist of hosts', NULL,
      'Name the hosts the platform''s API lives on.');
  END IF;
  problem := smam.http_url_problem(base_url, hosts);
  IF problem IS NOT NULL THEN
    PERFORM smam.refuse(CASE WHEN problem LIKE 'host %' THEN '42501' ELSE '22023' END, '6.2.5',
      format('connector for %s refused: %s', code, problem),
      'The tool sends only to http and https addresses on the allowlist the administrator set.',
      'Give an https URL on one of the allowed hosts.');
  END IF;
  IF profile_url IS NOT NULL THEN
    problem := smam.http_url_problem(replace(profile_url, '{{handle}}', 'x'), hosts);
    IF problem IS NOT NULL THEN
      PERFORM smam.refuse(CASE WHEN problem LIKE 'host %' THEN '42501' ELSE '22023' END, '6.2.5',
        format('connector for %s refused: profile URL: %s', code, problem), NULL,
        'Give an https URL on one of the allowed hosts.');
    END IF;
  END IF;
  -- The secret goes to the platform in a header only: never in a URL (logs,
  -- proxies, the Referer of a redirect) nor in a body a platform may echo.
  IF coalesce(publish_path, '') || coalesce(body_template, '') || coalesce(metrics_path, '')
     || coalesce(profile_url, '') LIKE '%{{token}}%' THEN
    PERFORM smam.refuse('22023', '6.1.4', format('connector for %s refused: {{token}} outside a header template', code),
      'An account''s credentials go to the platform in a header (Authorization), never in a URL, a path or a body.',
      'Write ''Authorization: Bearer {{token}}'' in header_templates and take {{token}} out of the other templates.');
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(coalesce(header_templates, '{}')) h WHERE h ~ E'[\\r\\n]') THEN
    PERFORM smam.refuse('22023', NULL, format('connector for %s refused: a header template holds a line break', code),
      'A line break in a header would start another header or the body of the request.',
      'Give each header as one line "Name: value".');
  END IF;
  FOREACH tpl IN ARRAY ARRAY[publish_path, body_template, metrics_path, profile_url] || coalesce(header_templates, '{}') LOOP
    SELECT string_agg(m[1], ', ') INTO unknown
      FROM regexp_matches(coalesce(tpl, ''), E'\\{\\{([^}]*)\\}\\}', 'g') m
     WHERE NOT (m[1] = ANY (smam.template_placeholders()));
    IF unknown IS NOT NULL THEN
      PERFORM smam.refuse('22023', NULL, format('unknown placeholder(s) in the connector for %s: %s', code, unknown),
        format('Placeholders are %s.', array_to_string(smam.template_placeholders(), ', ')), NULL);
    END IF;
  END LOOP;
  IF EXISTS (SELECT 1 FROM unnest(coalesce(header_templates, '{}')) h WHERE h !~ '^[A-Za-z0-9-]+: ') THEN
    PERFORM smam.refuse('22023', NULL, 'a header template reads "Name: value"', NULL,
      'Write headers such as ''Authorization: Bearer {{token}}''.');
  END IF;
  -- Opening a special range opens the internal network: a superuser's act.
  IF coalesce(allowed_networks, '{}') <> '{}'
     AND coalesce(allowed_networks, '{}') IS DISTINCT FROM (SELECT k.allowed_networks FROM smam.connector k WHERE k.platform = code)
     AND NOT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = smam.acting_role()), false) THEN
    PERFORM smam.refuse('42501', '6.2.5', format('role "%s" may not allow special address ranges', smam.acting_role()),
      'A connector''s allowed_networks open loopback, private or link-local addresses to the tool''s requests; only a superuser sets them.',
      'Ask a superuser to set allowed_networks, or leave them as they are.');
  END IF;
  FOREACH net IN ARRAY coalesce(allowed_networks, '{}') LOOP
    IF smam.address_problem(host(network(net))) IS NULL OR smam.address_problem(host(broadcast(net))) IS NULL THEN
      PERFORM smam.refuse('22023', '6.2.5', format('%s is not a loopback, private or link-local range', net),
        'Only special ranges need allowing; public addresses are allowed by the host allowlist.', NULL);
    END IF;
  END LOOP;
  INSERT INTO smam.connector AS c (platform, base_url, publish_path, method, header_templates, body_template,
                                   body_format, post_id_path, metrics_path, profile_url, allowed_hosts,
                                   allowed_networks, enabled, metrics_object_path)
  VALUES (code, base_url, publish_path, upper(method), coalesce(header_templates, '{}'), body_template,
          body_format, coalesce(post_id_path, '{id}'), metrics_path, profile_url, hosts,
          coalesce(allowed_networks, '{}'), coalesce(enabled, true), coalesce(metrics_object_path, '{}'))
  ON CONFLICT ON CONSTRAINT connector_pkey DO UPDATE SET
    base_url = EXCLUDED.base_url, publish_path = EXCLUDED.publish_path, method = EXCLUDED.method,
    header_templates = EXCLUDED.header_templates, body_template = EXCLUDED.body_template,
    body_format = EXCLUDED.body_format, post_id_path = EXCLUDED.post_id_path,
    metrics_path = EXCLUDED.metrics_path, profile_url = EXCLUDED.profile_url,
    allowed_hosts = EXCLUDED.allowed_hosts, allowed_networks = EXCLUDED.allowed_networks,
    enabled = EXCLUDED.enabled, metrics_object_path = EXCLUDED.metrics_object_path, set_by = smam.acting_role(), set_at = now();
END
$$;
COMMENT ON FUNCTION smam.set_connector(text, text, text, text[], text, text[], text, text, text[], text, text, cidr[], boolean, text[]) IS
  'Administrator: how the tool reaches a platform, with the host allowlist and any special address ranges allowed';

-- ---- credentials ----

CREATE TABLE smam.account_credential (
  account_id    bigint PRIMARY KEY REFERENCES smam.account (id),
  token_secret  text NOT NULL,
  expires_at    timestamptz,
  set_by        name NOT NULL DEFAULT smam.acting_role(),
  set_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  origin        text,
  suspended_at  timestamptz,
  suspended_reason text,
  confirmed_by  name,
  confirmed_at  timestamptz
);
COMMENT ON TABLE smam.account_credential IS
  'The secret each account publishes with; readable only by the extension''s owner and the publishing worker (smam_worker), never shown in a view or an error';
COMMENT ON COLUMN smam.account_credential.origin IS
  'The origin (scheme://host:port) of the connector the credential was given or confirmed for: it is sent nowhere else';
COMMENT ON COLUMN smam.account_credential.suspended_at IS
  'Set when the connector''s address, allowlist or allowed networks change: not used until smam.confirm_credential()';

-- The origin a credential handed over now is for, and why it is suspended
-- from the start (NULL: it is not).
CREATE FUNCTION smam.credential_binding(account bigint, OUT origin text, OUT suspended_reason text)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT smam.url_origin(k.base_url),
           CASE WHEN k.platform IS NULL THEN format('platform %s had no connector when the credentials were handed over', a.platform)
                WHEN NOT k.enabled THEN format('the connector of platform %s was disabled when the credentials were handed over', a.platform) END
      FROM smam.account a LEFT JOIN smam.connector k ON k.platform = a.platform
     WHERE a.id = account
  $$;

CREATE FUNCTION smam.set_credential(account bigint, token text, expires_at timestamptz DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  a smam.account;
  b record;
BEGIN
  -- Refusals here never log the statement, which holds the token
  -- (smam.refuse_quietly: errhidestmt).
  SELECT * INTO a FROM smam.account x WHERE x.id = account;
  IF NOT smam.sees_department(a.department_id) THEN
    PERFORM smam.refuse_quietly('42704', NULL, format('account %s does not exist or is not visible to you', account),
      'The objects of a department are visible to the holders of its offices and of government-wide offices.',
      'Check the account''s number; you see those of the departments in which you hold an office.');
  END IF;
  IF NOT (smam.holds_office(who, 'head_of_communications', a.department_id)
          OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse_quietly('42501', '6.1.4', format('role "%s" may not set the credentials of account %s', who, account),
      'The head of communications (or designate) of the account''s department, or an administrator, hands the tool an account''s credentials.',
      'Ask the department''s head of communications.');
  END IF;
  IF token IS NULL OR btrim(token) = '' THEN
    PERFORM smam.refuse_quietly('22023', NULL, 'a credential cannot be empty', NULL,
      'To stop the tool from publishing, use smam.revoke_credential().');
  END IF;
  IF token ~ E'[\\r\\n]' THEN
    PERFORM smam.refuse_quietly('22023', NULL, 'a credential cannot contain a line break', NULL,
      'Give the token on one line, as the platform issued it.');
  END IF;
  -- A first credential is bound to the origin of the platform's connector
  -- now (the notice says which). A new token for an account whose
  -- credential is suspended (its connector changed) keeps the origin it was
  -- confirmed for and stays suspended: handing over a token is not a
  -- confirmation of a connector someone else re-pointed; only
  -- smam.confirm_credential() moves the binding.
  b := smam.credential_binding(account);
  INSERT INTO smam.account_credential AS c (account_id, token_secret, expires_at, origin, suspended_at, suspended_reason)
  VALUES (account, token, expires_at, b.origin, CASE WHEN b.suspended_reason IS NOT NULL THEN now() END, b.suspended_reason)
  ON CONFLICT (account_id) DO UPDATE SET token_secret = EXCLUDED.token_secret,
    expires_at = EXCLUDED.expires_at, set_by = smam.acting_role(), set_at = now(),
    origin = CASE WHEN c.suspended_at IS NOT NULL THEN c.origin ELSE EXCLUDED.origin END,
    suspended_at = coalesce(c.suspended_at, EXCLUDED.suspended_at),
    suspended_reason = coalesce(c.suspended_reason, EXCLUDED.suspended_reason),
    confirmed_by = CASE WHEN c.suspended_at IS NOT NULL THEN c.confirmed_by END,
    confirmed_at = CASE WHEN c.suspended_at IS NOT NULL THEN c.confirmed_at END;
  SELECT c.origin, c.suspended_reason INTO b FROM smam.account_credential c WHERE c.account_id = account;
  IF b.suspended_reason IS NOT NULL THEN
    RAISE NOTICE 'the credentials of account % are kept for %, and suspended: %', account, coalesce(b.origin, 'no origin yet'), b.suspended_reason
      USING HINT = 'Check the platform''s connector (smam.connector), then confirm it with smam.confirm_credential().';
  ELSE
    RAISE NOTICE 'the credentials of account % go to % only', account, b.origin;
  END IF;
END
$$;
COMMENT ON FUNCTION smam.set_credential(bigint, text, timestamptz) IS
  'Hand the tool an account''s secret (head of communications or administrator); it can be replaced, never read back';

CREATE FUNCTION smam.revoke_credential(account bigint) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  dept bigint := (SELECT a.department_id FROM smam.account a WHERE a.id = account);
BEGIN
  PERFORM smam.require_visible('account', account, dept);
  IF NOT (smam.holds_office(who, 'head_of_communications', dept)
          OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not revoke the credentials of account %s', who, account),
      NULL, 'Ask the department''s head of communications.');
  END IF;
  DELETE FROM smam.account_credential c WHERE c.account_id = account;
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION smam.revoke_credential(bigint) IS
  'Take an account''s credentials away from the tool (head of communications or administrator)';

-- A connector's address, allowlist or allowed networks changed: the
-- credentials of its platform's accounts were handed over for the old
-- ones. They wait, unused, for the department's head of communications.
CREATE FUNCTION smam.connector_rebind() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF smam.url_origin(OLD.base_url) IS NOT DISTINCT FROM smam.url_origin(NEW.base_url)
     AND OLD.allowed_hosts IS NOT DISTINCT FROM NEW.allowed_hosts
     AND OLD.allowed_networks IS NOT DISTINCT FROM NEW.allowed_networks THEN
    RETURN NULL;
  END IF;
  UPDATE smam.account_credential c
     SET suspended_at = now(),
         suspended_reason = format('%s changed the connector of platform %s (%s, hosts %s, networks %s) on %s',
                                   smam.acting_role(), NEW.platform, smam.url_origin(NEW.base_url),
                                   NEW.allowed_hosts, NEW.allowed_networks, smam.moment_text(now()))
   WHERE c.suspended_at IS NULL
     AND c.account_id IN (SELECT a.id FROM smam.account a WHERE a.platform = NEW.platform);
  RETURN NULL;
END
$$;
CREATE TRIGGER connector_rebind AFTER UPDATE ON smam.connector
  FOR EACH ROW EXECUTE FUNCTION smam.connector_rebind();

-- The head of communications confirms that the account's credentials may
-- go where its platform's connector now points.
CREATE FUNCTION smam.confirm_credential(account bigint) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  a smam.account;
  k smam.connector;
  c smam.account_credential;
BEGIN
  SELECT * INTO a FROM smam.account x WHERE x.id = account;
  IF NOT FOUND OR NOT (smam.holds_office(who, 'head_of_communications', a.department_id)
                       OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not confirm the credentials of account %s', who, account),
      format('Account %s does not exist, or you do not hold the office that confirms its credentials: the head of communications (or designate) of its department.', account),
      'Ask the department''s head of communications.');
  END IF;
  SELECT * INTO c FROM smam.account_credential x WHERE x.account_id = account FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM smam.refuse('55000', '6.1.4', format('account %s has no credentials to confirm', account), NULL,
      'Hand the tool its credentials with smam.set_credential().');
  END IF;
  SELECT * INTO k FROM smam.connector x WHERE x.platform = a.platform;
  IF NOT FOUND OR NOT k.enabled THEN
    PERFORM smam.refuse('55000', '6.1.4', format('platform %s has no enabled connector to confirm the credentials for', a.platform), NULL,
      'Ask an administrator to configure one with smam.set_connector().');
  END IF;
  IF c.suspended_at IS NULL AND c.origin IS NOT DISTINCT FROM smam.url_origin(k.base_url) THEN
    RETURN false;
  END IF;
  UPDATE smam.account_credential x
     SET origin = smam.url_origin(k.base_url), suspended_at = NULL, suspended_reason = NULL,
         confirmed_by = who, confirmed_at = now()
   WHERE x.account_id = account;
  RETURN true;
END
$$;
COMMENT ON FUNCTION smam.confirm_credential(bigint) IS
  'Head of communications: let the account''s suspended credentials go to the origin its platform''s connector now has';

GRANT EXECUTE ON FUNCTION smam.confirm_credential(bigint), smam.url_origin(text) TO smam_admin, smam_department;
GRANT EXECUTE ON FUNCTION smam.address_problem(text, text[]) TO smam_admin;

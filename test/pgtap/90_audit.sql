-- The audit trigger inside one transaction: every table covered, the right
-- actor, office and diff for each operation, secrets never written, the
-- log refusing change, row-level security of the log, and the refusals of
-- the audit functions. The chain itself (seals are written at commit) is
-- tested by test/perl/90_audit_chain.pl and 91_audit_concurrency.pl.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(53);

-- The detail and hint of the error a statement raises.
CREATE FUNCTION pg_temp.refusal_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text; h text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  RETURN coalesce(d, '') || ' | ' || coalesce(h, '');
END $$;

-- ---- coverage: every table of smam, whichever fragment made it ----
SELECT cmp_ok((SELECT count(*) FROM pg_class c
                WHERE c.relnamespace = 'smam'::regnamespace AND c.relkind IN ('r', 'p')),
              '>=', 14::bigint, 'the schema has its tables (the coverage test is not vacuous)');
SELECT is((SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c
            WHERE c.relnamespace = 'smam'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relname NOT IN ('audit_log', 'audit_seal', 'audit_checkpoint', 'audit_commit')
              AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                               WHERE g.tgrelid = c.oid AND g.tgname = 'smam_audit'
                                 AND g.tgfoid = 'smam.audit()'::regprocedure
                                 AND g.tgtype = 29 AND g.tgenabled = 'O')),
          NULL, 'every table of smam has the audit trigger, AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW');
SELECT is((SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c
            WHERE c.relnamespace = 'smam'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relname NOT IN ('audit_log', 'audit_seal', 'audit_checkpoint', 'audit_commit')
              AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                               WHERE g.tgrelid = c.oid AND g.tgname = 'smam_audit_truncate'
                                 AND g.tgfoid = 'smam.audit()'::regprocedure AND g.tgtype = 34)),
          NULL, 'every table of smam refuses TRUNCATE through the audit trigger');
SELECT is((SELECT count(*) FROM pg_trigger g
            WHERE g.tgrelid IN ('smam.audit_log'::regclass, 'smam.audit_seal'::regclass, 'smam.audit_checkpoint'::regclass)
              AND g.tgfoid = 'smam.audit_log_guard()'::regprocedure), 6::bigint,
          'the log''s three tables are guarded against UPDATE, DELETE and TRUNCATE');
SELECT is((SELECT count(*) FROM pg_trigger g
            WHERE g.tgrelid IN ('smam.audit_log'::regclass, 'smam.audit_seal'::regclass, 'smam.audit_checkpoint'::regclass)
              AND g.tgfoid = 'smam.audit()'::regprocedure), 0::bigint, 'the log does not audit itself');
SELECT is(smam.attach_audit(), 0, 'attach_audit() finds nothing left to attach');

-- TRUNCATE of the log, refused before this transaction writes to it (once it has,
-- the log is in use and TRUNCATE would fail for that reason first).
SELECT throws_ok('TRUNCATE smam.audit_log', '42501',
                 'the audit log cannot be changed: TRUNCATE on smam.audit_log is refused',
                 'the owner cannot TRUNCATE the log');
SELECT throws_ok('TRUNCATE smam.audit_seal', '42501',
                 'the audit log cannot be changed: TRUNCATE on smam.audit_seal is refused',
                 'the owner cannot TRUNCATE the seals');
SELECT throws_ok('TRUNCATE smam.audit_checkpoint', '42501',
                 'the audit log cannot be changed: TRUNCATE on smam.audit_checkpoint is refused',
                 'the owner cannot TRUNCATE the checkpoints');

-- ---- people ----
CREATE ROLE audit_admin LOGIN;
CREATE ROLE audit_staff LOGIN;
CREATE ROLE audit_other LOGIN;
GRANT smam_admin TO audit_admin;
GRANT smam_department TO audit_staff, audit_other;
SELECT smam.register_principal('audit_admin', 'Audit Admin', 'audit.admin@example.gc.ca');
SELECT smam.appoint('audit_admin', 'administrator');

-- ---- INSERT by a role through a SECURITY DEFINER function ----
SET ROLE audit_admin;
SELECT smam.add_department('Audit Test Department', 'Ministère des essais d''audit') AS dept \gset
SELECT smam.add_department('Other Audit Department') AS other \gset
SELECT smam.register_principal('audit_staff', 'Staff', 'audit.staff@example.gc.ca', :dept);
SELECT smam.register_principal('audit_other', 'Other', 'audit.other@example.gc.ca', :other);
SELECT smam.appoint('audit_staff', 'department_staff', :dept);
SELECT smam.appoint('audit_other', 'department_staff', :other);
RESET ROLE;

CREATE TEMP VIEW dept_log AS
  SELECT l.* FROM smam.audit_log l
   WHERE l.table_name = 'smam.department' AND l.row_key = :'dept';
SELECT is((SELECT row(operation, acting_role, effective_role::text, session_role::text, office, department_id)::text
             FROM dept_log WHERE operation = 'INSERT'),
          row('INSERT', 'audit_admin', current_user, session_user, 'administrator', :dept::bigint)::text,
          'INSERT: the acting role, the function''s owner, the session role, the office and the department are recorded');
SELECT is((SELECT new_values->>'name_en' FROM dept_log WHERE operation = 'INSERT'), 'Audit Test Department',
          'INSERT: the new values are recorded');
SELECT is((SELECT old_values FROM dept_log WHERE operation = 'INSERT'), NULL, 'INSERT: no old values');
SELECT is((SELECT application FROM dept_log WHERE operation = 'INSERT'), current_setting('application_name'),
          'INSERT: the application is recorded');
SELECT ok((SELECT tx_time = now() AND stmt_time >= tx_time AND xid::text::xid8 = pg_current_xact_id()
             FROM dept_log WHERE operation = 'INSERT'),
          'INSERT: the transaction''s time, the statement''s time and the transaction id are recorded');

-- ---- UPDATE: only the changed columns ----
UPDATE smam.department SET name_fr = 'Nouveau nom' WHERE id = :dept;
SELECT is((SELECT row(old_values, new_values)::text FROM dept_log WHERE operation = 'UPDATE'),
          row('{"name_fr": "Ministère des essais d''audit"}'::jsonb, '{"name_fr": "Nouveau nom"}'::jsonb)::text,
          'UPDATE: only the changed column, old and new');
SELECT is((SELECT acting_role::text FROM dept_log WHERE operation = 'UPDATE'), current_user::text,
          'UPDATE: the superuser is recorded as the actor');
UPDATE smam.department SET name_fr = name_fr WHERE id = :dept;
SELECT is((SELECT row(old_values, new_values)::text FROM dept_log WHERE operation = 'UPDATE' ORDER BY ordinal DESC LIMIT 1),
          row('{}'::jsonb, '{}'::jsonb)::text, 'UPDATE that changes nothing: recorded, with an empty diff');

-- ---- savepoints: rows of a rolled back savepoint are gone, numbers stay contiguous ----
SAVEPOINT s;
UPDATE smam.department SET gc_org_id = 99999 WHERE id = :dept;
ROLLBACK TO SAVEPOINT s;
UPDATE smam.department SET gc_org_id = 12345 WHERE id = :dept;
SELECT is((SELECT count(*) FROM smam.audit_log WHERE new_values->>'gc_org_id' = '99999'), 0::bigint,
          'the rows of a rolled back savepoint are not in the log');
SELECT ok((SELECT bool_and(ordinal = rn) FROM (
             SELECT ordinal, row_number() OVER (ORDER BY ordinal) AS rn FROM smam.audit_log
              WHERE txn = (SELECT max(txn) FROM smam.audit_log)) x),
          'the transaction''s rows are numbered 1, 2, ... without gaps, across the rolled back savepoint');
SELECT is((SELECT new_values->>'gc_org_id' FROM dept_log ORDER BY ordinal DESC LIMIT 1), '12345',
          'the row after the savepoint is recorded');

-- ---- DELETE: the old row ----
INSERT INTO smam.department (name_en) VALUES ('Short-lived Department') RETURNING id AS gone \gset
DELETE FROM smam.department WHERE id = :gone;
SELECT is((SELECT old_values->>'name_en' FROM smam.audit_log
            WHERE table_name = 'smam.department' AND row_key = :'gone' AND operation = 'DELETE'),
          'Short-lived Department', 'DELETE: the old row is recorded');
SELECT is((SELECT new_values FROM smam.audit_log
            WHERE table_name = 'smam.department' AND row_key = :'gone' AND operation = 'DELETE'),
          NULL, 'DELETE: no new values');

-- ---- history ----
SELECT is((SELECT array_agg(operation ORDER BY ordinal) FROM smam.history('smam.department', :'dept')),
          ARRAY['INSERT', 'UPDATE', 'UPDATE', 'UPDATE'], 'smam.history() tells one department''s story in order');
SELECT is((SELECT count(*) FROM smam.history('smam.department', :'dept') WHERE seq IS NOT NULL), 0::bigint,
          'rows of a transaction not yet committed have no position in the chain');
SELECT is((SELECT old_value || ' -> ' || new_value FROM smam.audit_change
            WHERE table_name = 'smam.department' AND row_key = :'dept' AND column_name = 'name_fr' AND operation = 'UPDATE'),
          'Ministère des essais d''audit -> Nouveau nom', 'smam.audit_change shows old -> new per column');

-- ---- secrets: never their values, only that they changed ----
CREATE TABLE smam.audit_test_credential (id bigint PRIMARY KEY, department_id bigint,
                                         token_secret text, label text);
SELECT is(smam.attach_audit(), 1, 'attach_audit() covers a table created later');
INSERT INTO smam.audit_test_credential VALUES (1, :dept, 'first-secret-value', 'one');
UPDATE smam.audit_test_credential SET token_secret = 'second-secret-value';
UPDATE smam.audit_test_credential SET label = 'two';
UPDATE smam.audit_test_credential SET token_secret = NULL;
INSERT INTO smam.audit_test_credential VALUES (2, :dept, 'third-secret-value', 'three');
DELETE FROM smam.audit_test_credential;
SELECT is((SELECT count(*) FROM smam.audit_log l WHERE l::text LIKE '%secret-value%'), 0::bigint,
          'no value of a secret column is anywhere in the log');
SELECT is((SELECT array_agg(operation || ':' || coalesce(array_to_string(secrets_changed, ','), '-') ORDER BY ordinal)
             FROM smam.audit_log WHERE table_name = 'smam.audit_test_credential'),
          ARRAY['INSERT:token_secret', 'UPDATE:token_secret', 'UPDATE:-', 'UPDATE:token_secret',
                'INSERT:token_secret', 'DELETE:-', 'DELETE:token_secret'],
          'secrets_changed names the secret column when it is set, changed or cleared, and only then');
SELECT ok((SELECT bool_and(NOT coalesce(new_values ? 'token_secret', false) AND NOT coalesce(old_values ? 'token_secret', false))
             FROM smam.audit_log WHERE table_name = 'smam.audit_test_credential'),
          'the secret column is absent from the old and new values');
SELECT is((SELECT new_values->>'label' FROM smam.audit_log
            WHERE table_name = 'smam.audit_test_credential' AND operation = 'UPDATE' AND secrets_changed IS NULL),
          'two', 'the other columns are recorded as usual');
SELECT is((SELECT count(*) FROM smam.audit_change WHERE table_name = 'smam.audit_test_credential'
              AND column_name = 'token_secret' AND old_value = '(withheld)' AND withheld), 5::bigint,
          'smam.audit_change flags the secret column without its value');

-- ---- a table altered during the session is audited as it now is ----
INSERT INTO smam.audit_test_credential VALUES (3, :dept, NULL, 'four');
ALTER TABLE smam.audit_test_credential ADD COLUMN colour text;
UPDATE smam.audit_test_credential SET colour = 'blue' WHERE id = 3;
SELECT is((SELECT new_values FROM smam.audit_log WHERE table_name = 'smam.audit_test_credential'
            ORDER BY ordinal DESC LIMIT 1), '{"colour": "blue"}'::jsonb, 'a column added in the session is audited at once');
ALTER TABLE smam.audit_test_credential DROP COLUMN label;
DELETE FROM smam.audit_test_credential WHERE id = 3;
SELECT is((SELECT old_values FROM smam.audit_log WHERE table_name = 'smam.audit_test_credential'
            ORDER BY ordinal DESC LIMIT 1),
          jsonb_build_object('id', 3, 'department_id', :dept, 'colour', 'blue'),
          'a dropped column is gone from the log at once');

-- ---- the row hash can be recomputed outside smam, from docs/audit.md ----
CREATE FUNCTION pg_temp.field(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN b IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(length(b)) || b END $$;
CREATE FUNCTION pg_temp.usec(t timestamptz) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT int8send((extract(epoch FROM t - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint) $$;
CREATE FUNCTION pg_temp.txt(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT convert_to(t, 'UTF8') $$;
SELECT is((SELECT count(*) FROM smam.audit_log l
            WHERE l.row_hash <> sha256(convert_to('smam-audit-row-v1', 'UTF8')
                  || pg_temp.field(int8send(l.txn))
                  || pg_temp.field(int8send(l.xid)) || pg_temp.field(pg_temp.usec(l.tx_time))
                  || pg_temp.field(pg_temp.usec(l.stmt_time)) || pg_temp.field(pg_temp.txt(l.acting_role::text))
                  || pg_temp.field(pg_temp.txt(l.effective_role::text)) || pg_temp.field(pg_temp.txt(l.session_role::text))
                  || pg_temp.field(pg_temp.txt(l.application)) || pg_temp.field(pg_temp.txt(pg_catalog.inet_out(l.client_addr)::text))
                  || pg_temp.field(pg_temp.txt(l.office)) || pg_temp.field(pg_temp.txt(l.table_name))
                  || pg_temp.field(pg_temp.txt(l.operation))
                  || pg_temp.field(int8send(l.ordinal::bigint)) || pg_temp.field(pg_temp.txt(l.row_key))
                  || pg_temp.field(int8send(l.department_id)) || pg_temp.field(pg_temp.txt(l.old_values::text))
                  || pg_temp.field(pg_temp.txt(l.new_values::text)) || pg_temp.field(pg_temp.txt(l.secrets_changed::text)))),
          0::bigint, 'every row hash is SHA-256 of the serialization docs/audit.md describes, recomputed with sha256()');

-- ---- TRUNCATE of an audited table is refused ----
SELECT throws_ok('TRUNCATE smam.audit_test_credential', '42501',
                 'table smam.audit_test_credential is audited and cannot be truncated',
                 'TRUNCATE of an audited table is refused');
SELECT ok(pg_temp.refusal_of('TRUNCATE smam.audit_test_credential') LIKE '%requirement 7.1.1 of the Standard%DELETE%',
          'the refusal names requirement 7.1.1 and says to delete instead');

-- ---- the log refuses change from everyone, its owner included ----
SELECT throws_ok('UPDATE smam.audit_log SET office = NULL', '42501',
                 'the audit log cannot be changed: UPDATE on smam.audit_log is refused',
                 'the owner cannot UPDATE the log');
SELECT throws_ok('DELETE FROM smam.audit_log', '42501',
                 'the audit log cannot be changed: DELETE on smam.audit_log is refused',
                 'the owner cannot DELETE from the log');
SELECT ok(pg_temp.refusal_of('DELETE FROM smam.audit_log') LIKE '%its owner included. This enforces requirement 7.1.1%archive_audit_log%',
          'the log''s refusal names requirement 7.1.1 and the way old periods leave');
SET ROLE audit_admin;
SELECT throws_ok('UPDATE smam.audit_log SET office = NULL', '42501', NULL,
                 'an administrator has no UPDATE on the log');
SELECT throws_ok('INSERT INTO smam.audit_log (txn, ordinal, xid, tx_time, stmt_time, acting_role, effective_role, session_role, table_name, operation, row_hash) VALUES (1, 1, 1, now(), now(), ''x'', ''x'', ''x'', ''x'', ''INSERT'', ''\x00'')',
                 '42501', NULL, 'an administrator cannot write the log directly');
RESET ROLE;

-- ---- who reads the log ----
SET ROLE audit_staff;
SELECT ok((SELECT count(*) FROM smam.audit_log) > 0 AND
          (SELECT bool_and(department_id = :dept) FROM smam.audit_log),
          'a department role reads the log rows of its own department only');
RESET ROLE;
SET ROLE audit_admin;
SELECT ok((SELECT count(DISTINCT department_id) FROM smam.audit_trail) >= 2,
          'an administrator reads the rows of every department');
RESET ROLE;
CREATE ROLE audit_public LOGIN;
GRANT smam_public TO audit_public;
SET ROLE audit_public;
SELECT throws_ok('SELECT count(*) FROM smam.audit_log', '42501', NULL, 'the public does not read the log');
RESET ROLE;

-- ---- the functions' refusals ----
SELECT throws_ok($$SELECT * FROM smam.verify_audit_log('not a digest')$$, '22P02',
                 'invalid audit digest "not a digest"', 'a malformed digest is refused');
SELECT throws_ok($$SELECT * FROM smam.verify_audit_log('smam-audit-v1:3:zz')$$, '22P02',
                 'invalid audit digest "smam-audit-v1:3:zz"', 'a digest with a bad hash is refused');
SELECT throws_ok($$SELECT * FROM smam.archive_audit_log(1, NULL, '  ')$$, '22023',
                 'archiving the audit log needs a note', 'archiving without a note is refused');
SET ROLE audit_admin;
SELECT throws_ok($$SELECT * FROM smam.archive_audit_log(5, NULL, 'exported to file x')$$, '22023',
                 'position 5 cannot be archived', 'archiving beyond the chain is refused');
RESET ROLE;
SET ROLE audit_staff;
SELECT throws_ok($$SELECT * FROM smam.archive_audit_log(1, NULL, 'x')$$, '42501', NULL,
                 'a department role cannot archive the log');
RESET ROLE;

-- ---- SHA-256: the processor's implementation agrees with the portable one ----
SELECT is((SELECT failures FROM smam.audit_hash_check()), 0,
          'smam.audit_hash_check(): no failures (FIPS 180-4 examples, every length to 1,100 bytes)');
SELECT ok((SELECT implementation IN ('x86 SHA extensions', 'portable C') AND cases = 1105
             FROM smam.audit_hash_check()), 'smam.audit_hash_check() names the implementation in use');
SET ROLE audit_staff;
SELECT throws_ok($$SELECT * FROM smam.audit_hash_check()$$, '42501', NULL,
                 'only the administrator runs the hash check');
RESET ROLE;

-- ---- Values are written the same from every session ----
SET IntervalStyle = 'sql_standard';
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Kiritimati';
INSERT INTO smam.service_standard (name, within, effective_from)
  VALUES ('evaluation', '30 days 2 hours', '2026-01-01 00:00:00+00');
SELECT is((SELECT concat_ws('|', new_values ->> 'within', new_values ->> 'effective_from') FROM smam.audit_log
            WHERE table_name = 'smam.service_standard' ORDER BY txn DESC, ordinal DESC LIMIT 1),
          '30 days 02:00:00|2026-01-01T00:00:00+00:00',
          'an interval is logged in IntervalStyle postgres and a moment in UTC, whatever the session''s styles and zone');
RESET IntervalStyle;
RESET DateStyle;
RESET TimeZone;

SELECT * FROM finish();
ROLLBACK;

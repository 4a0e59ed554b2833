# The audit chain across commits: verification of an honest log, commit
# order against timestamp order, a writer that does not wait for another's
# open transaction, PREPARE refused; every tamper case done as a superuser
# with triggers disabled (an edited row, a deleted row, a swapped pair of
# rows and of seals, an altered seal, a forged row, a truncated tail
# against a saved digest, the whole history rewritten and its chain
# recomputed, a seal slipped in behind the server's cached head of the chain);
# pg_dump and restore into new databases; archiving behind a
# checkpoint.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(sha256_hex);
use SmamTest;

my $node = SmamTest->new('audit_chain');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\ntimezone = 'UTC'\nshared_preload_libraries = 'smam'\n");
$node->start;

sub sql { my ($text, $db) = @_; return $node->safe_psql($db // 'postgres', $text) }

# A tamper done in a transaction that is rolled back afterwards, as a
# superuser with the triggers off; returns what verification says then.
sub tampered {
    my ($tamper, $verify) = @_;
    $verify //= 'SELECT holds, seq, txn, ordinal, problem FROM smam.verify_audit_log()';
    return sql("BEGIN; SET session_replication_role = replica; $tamper; $verify; ROLLBACK;");
}

sql(q{
  CREATE EXTENSION smam;
  CREATE ROLE c_admin LOGIN;
  GRANT smam_admin TO c_admin;
  SELECT smam.register_principal('c_admin', 'Chain Admin', 'chain.admin@example.gc.ca');
  SELECT smam.appoint('c_admin', 'administrator', NULL, '2020-01-01');
});
is(sql('SELECT holds, seq, seals_checked, rows_checked FROM smam.verify_audit_log()'), 't|2|2|2',
   'two transactions so far, and the chain holds');

# An honest history: one transaction of five rows, five of one row, one of
# five rows with a rolled back savepoint in the middle.
sql(q{SET ROLE c_admin; SELECT count(smam.add_department('Chain Department ' || g)) FROM generate_series(1, 5) g});
sql("UPDATE smam.department SET name_fr = 'Ministère de la chaîne $_' WHERE name_en = 'Chain Department $_'")
  for 1 .. 5;
sql(q{BEGIN;
    UPDATE smam.department SET application = 'voluntary' WHERE name_en LIKE 'Chain Department%';
    SAVEPOINT a;
    UPDATE smam.department SET gc_org_id = 777 WHERE name_en = 'Chain Department 1';
    ROLLBACK TO a;
    COMMIT;});
is(sql('SELECT holds, seq, seals_checked, rows_checked FROM smam.verify_audit_log()'), 't|9|9|17',
   'an honest log verifies: 9 seals, 17 rows');
is(sql('SELECT count(*) = max(seq) AND min(seq) = 1 FROM smam.audit_seal'), 't', 'seals are numbered 1..n without gaps');
is(sql(q{SELECT array_agg(rows ORDER BY seq) FROM smam.audit_seal}), '{1,1,5,1,1,1,1,1,5}',
   'one seal per transaction, counting its rows (the savepoint\'s row is not counted)');
is(sql(q{SELECT count(*) FROM smam.audit_seal s
          WHERE s.txn_hash <> sha256(convert_to('smam-audit-txn-v1', 'UTF8') || int8send(s.txn)
                  || (SELECT string_agg(l.row_hash, '' ORDER BY l.ordinal) FROM smam.audit_log l WHERE l.txn = s.txn))
             OR s.hash <> sha256(convert_to('smam-audit-seal-v2', 'UTF8') || int8send(s.seq) || int8send(s.txn)
                  || int8send(s.xid) || int8send(s.rows) || s.txn_hash
                  || int8send((extract(epoch FROM s.sealed_at - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint)
                  || s.prev_hash
                  || int8send((extract(epoch FROM s.committed_at - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint))
             OR s.prev_hash <> coalesce((SELECT p.hash FROM smam.audit_seal p WHERE p.seq = s.seq - 1),
                                        decode(repeat('00', 32), 'hex'))}), '0',
   'every transaction hash and seal hash is recomputed with sha256() from docs/audit.md');
my ($d1) = sql('SELECT digest FROM smam.audit_digest()');
like($d1, qr/^smam-audit-v1:9:[0-9a-f]{64}$/, 'the digest names the head of the chain');
is(sql("SELECT holds FROM smam.verify_audit_log('$d1')"), 't', 'the log verifies against its own digest');

# Commit order differs from timestamp order; a writer does not wait for
# another writer's open transaction.
my $a = $node->background_psql('postgres');
$a->query_safe(q{BEGIN; UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department 1'});
is(sql(q{SET statement_timeout = '10s';
       UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department 2' RETURNING 'done'}),
   'done', 'a second writer commits while the first keeps its transaction open');
$a->query_safe('COMMIT');
$a->quit;
is(sql(q{SELECT (SELECT s.seq FROM smam.audit_seal s JOIN smam.audit_log l USING (txn)
                WHERE l.row_key = (SELECT id::text FROM smam.department WHERE name_en = 'Chain Department 1')
                ORDER BY s.seq DESC LIMIT 1)
            > (SELECT s.seq FROM smam.audit_seal s JOIN smam.audit_log l USING (txn)
                WHERE l.row_key = (SELECT id::text FROM smam.department WHERE name_en = 'Chain Department 2')
                ORDER BY s.seq DESC LIMIT 1),
            (SELECT max(tx_time) FROM smam.audit_log WHERE row_key = (SELECT id::text FROM smam.department WHERE name_en = 'Chain Department 1'))
            < (SELECT max(tx_time) FROM smam.audit_log WHERE row_key = (SELECT id::text FROM smam.department WHERE name_en = 'Chain Department 2'))}),
   't|t', 'the transaction that began first and committed last is sealed last');
is(sql('SELECT holds, seq FROM smam.verify_audit_log()'), 't|11', 'the chain holds, in commit order');

# PREPARE TRANSACTION of audited changes is refused.
my ($rc, $out, $err) = $node->psql('postgres',
    q{BEGIN; UPDATE smam.department SET application = 'voluntary' WHERE name_en = 'Chain Department 3'; PREPARE TRANSACTION 'p1';});
like($err, qr/a transaction that changed smam's tables or chained its audit log cannot be prepared/, 'PREPARE TRANSACTION of audited changes is refused');
is(sql('SELECT count(*) FROM pg_prepared_xacts'), '0', 'nothing was prepared');

# The log's tables refuse change from their owner.
($rc, $out, $err) = $node->psql('postgres', 'UPDATE smam.audit_seal SET rows = 0');
like($err, qr/the audit log cannot be changed: UPDATE on smam.audit_seal is refused/, 'the owner cannot UPDATE a seal');
($rc, $out, $err) = $node->psql('postgres', 'DELETE FROM smam.audit_seal');
like($err, qr/the audit log cannot be changed: DELETE on smam.audit_seal is refused/, 'the owner cannot DELETE a seal');

# ---- tampering, as a superuser with triggers disabled ----
my ($seq, $txn) = split /\|/, sql('SELECT seq, txn FROM smam.audit_seal WHERE rows = 5 ORDER BY seq LIMIT 1');
is(tampered(qq{UPDATE smam.audit_log SET new_values = jsonb_set(new_values, '{name_en}', '"Forged"')
                WHERE txn = $txn AND ordinal = 3}),
   "f|$seq|$txn|3|row 3 of transaction $txn does not match its hash: it was altered",
   'an edited row is found: its seal, transaction and row');
is(tampered(qq{UPDATE smam.audit_log SET acting_role = 'somebody_else' WHERE txn = $txn AND ordinal = 4}),
   "f|$seq|$txn|4|row 4 of transaction $txn does not match its hash: it was altered",
   'an edited actor is found');
is(tampered(qq{DELETE FROM smam.audit_log WHERE txn = $txn AND ordinal = 2}),
   "f|$seq|$txn|2|row 2 of transaction $txn is missing",
   'a deleted row is found');
is(tampered(qq{DELETE FROM smam.audit_log WHERE txn = $txn AND ordinal = 5}),
   "f|$seq|$txn|5|row 5 of transaction $txn is missing: its seal counts 5 rows, the log has 4",
   'a deleted last row of a transaction is found');
is(tampered(qq{UPDATE smam.audit_log SET ordinal = 100 WHERE txn = $txn AND ordinal = 2;
               UPDATE smam.audit_log SET ordinal = 2 WHERE txn = $txn AND ordinal = 4;
               UPDATE smam.audit_log SET ordinal = 4 WHERE txn = $txn AND ordinal = 100}),
   "f|$seq|$txn|2|row 2 of transaction $txn does not match its hash: it was altered",
   'a swapped pair of rows is found at the first of the pair');
is(tampered(q{UPDATE smam.audit_seal SET seq = 100 WHERE seq = 5;
              UPDATE smam.audit_seal SET seq = 5 WHERE seq = 6;
              UPDATE smam.audit_seal SET seq = 6 WHERE seq = 100}),
   'f|5|' . sql('SELECT txn FROM smam.audit_seal WHERE seq = 6') . '||seal 5 does not link to seal 4: the chain was reordered or a seal replaced',
   'a swapped pair of seals is found');
is(tampered(q{UPDATE smam.audit_seal SET sealed_at = sealed_at - interval '1 hour' WHERE seq = 7}),
   'f|7|' . sql('SELECT txn FROM smam.audit_seal WHERE seq = 7') . '||seal 7 does not match its hash: it was altered',
   'an altered seal is found');
is(tampered(q{DELETE FROM smam.audit_seal WHERE seq = 8}),
   'f|8|||seal 8 is missing: the chain goes from 7 to 9', 'a deleted seal is found');
is(tampered(q{INSERT INTO smam.audit_log SELECT 424242, ordinal, xid, tx_time, stmt_time, acting_role,
                 effective_role, session_role, application, client_addr, office, table_name, operation,
                 row_key, department_id, old_values, new_values, secrets_changed, row_hash
                FROM smam.audit_log WHERE txn = (SELECT txn FROM smam.audit_seal WHERE seq = 3)}),
   "f||424242|1|rows of transaction 424242 are covered by no seal and no commit record: they were added outside the audit trigger, or its commit record was removed",
   'a forged transaction that no seal covers is found');
my ($d_tail) = sql('SELECT digest FROM smam.audit_digest()');
is(tampered(q{DELETE FROM smam.audit_log l USING smam.audit_seal s WHERE s.txn = l.txn AND s.seq > 9;
              DELETE FROM smam.audit_seal WHERE seq > 9},
            "SELECT holds, seq FROM smam.verify_audit_log(); SELECT holds, seq, problem FROM smam.verify_audit_log('$d_tail')"),
   "t|9\nf|10|the chain ends at position 9 but the digest names position 11: seals after 9 were removed",
   'a truncated tail passes on its own, and is found against the digest saved before');
($rc, $out, $err) = $node->psql('postgres', q{BEGIN; SET session_replication_role = replica;
    UPDATE smam.audit_log SET office = 'forged' WHERE txn = (SELECT txn FROM smam.audit_seal WHERE seq = 1);
    SET session_replication_role = origin;
    SET smam.audit_archive_min_age = 0;
    SELECT smam.archive_audit_log(3, repeat('0', 64), 'exported to nowhere'); ROLLBACK;});
like($err, qr/the audit log does not verify, so no period of it can be archived/, 'a broken log cannot be archived');
is(sql('SELECT holds, seals_checked FROM smam.verify_audit_log()'), 't|11', 'after the rollbacks, the log holds again');

# ---- pg_dump and restore into a new database ----
my $tmp = PostgreSQL::Test::Utils::tempdir();
my ($d_restore) = sql('SELECT digest FROM smam.audit_digest()');
my $rows = sql('SELECT count(*) FROM smam.audit_log');
$node->command_ok(['pg_dump', '-Fc', '-f', "$tmp/smam.dump", '-d', $node->connstr('postgres')], 'pg_dump');
sql('CREATE DATABASE restored');
$node->command_ok(['pg_restore', '-d', $node->connstr('restored'), "$tmp/smam.dump"], 'pg_restore into a new database');
is(sql('SELECT count(*) FROM smam.audit_log', 'restored'), $rows, 'the restored log has every row, and no second history');
is(sql('SELECT digest FROM smam.audit_digest()', 'restored'), $d_restore, 'the restored chain has the same head');
is(sql("SELECT holds, seals_checked FROM smam.verify_audit_log('$d1')", 'restored'), 't|11',
   'the restored log verifies, against a digest taken before the dump too');
is(sql(q{SELECT count(*) FROM smam.department WHERE name_en LIKE 'Chain Department%'}, 'restored'), '5',
   'the restored data is there');
sql(q{UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department 4'}, 'restored');
is(sql('SELECT holds, seq, rows_checked FROM smam.verify_audit_log()', 'restored'), 't|12|' . ($rows + 1),
   'a change after the restore continues the chain');
$node->command_ok(['pg_dump', '-Fp', '-f', "$tmp/smam.sql", '-d', $node->connstr('postgres')], 'pg_dump, plain');
sql('CREATE DATABASE restored_plain');
$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored_plain'), '-f', "$tmp/smam.sql"],
                  'the plain dump restores through psql');
is(sql('SELECT count(*), (SELECT digest FROM smam.audit_digest()) FROM smam.audit_log', 'restored_plain'),
   "$rows|$d_restore", 'restored from the plain dump: the same log, no second history');

# ---- archiving an exported period behind a checkpoint ----
my ($d3) = sql(q{SELECT 'smam-audit-v1:3:' || encode(hash, 'hex') FROM smam.audit_seal WHERE seq = 3});
my ($d_before) = sql('SELECT digest FROM smam.audit_digest()');
# The export, saved as docs/audit.md says (psql -At: each line and a newline), in odd settings.
my $export = $node->safe_psql('postgres', q{SET TimeZone = 'Pacific/Kiritimati'; SET DateStyle = 'SQL, DMY';
  SET bytea_output = 'escape'; SET ROLE c_admin; SELECT x FROM smam.audit_export(4) x}) . "\n";
like($export, qr/\A\{"seal": \{.*"seq": 1,/, 'the export begins with the first seal, as JSON');
is(scalar(() = $export =~ /^\{"row": /mg), 8, 'the export holds the eight rows of the first four seals');
my $export_sha = sha256_hex($export);
($rc, $out, $err) = $node->psql('postgres', qq{SET ROLE c_admin; SELECT * FROM smam.archive_audit_log(4, '$export_sha', 'exported')});
like($err, qr/ERROR:  position 4 is too recent to be archived\nDETAIL:  Its seal dates from .*; the log keeps every period for 365 days \(smam.audit_archive_min_age\).*\nHINT:  /s,
     'a period younger than smam.audit_archive_min_age (365 days by default) stays');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE c_admin; SET smam.audit_archive_min_age = 0});
like($err, qr/permission denied to set parameter "smam.audit_archive_min_age"/, 'an administrator cannot shorten the minimum age');
($rc, $out, $err) = $node->psql('postgres', q{SET smam.audit_archive_min_age = 0; SET ROLE c_admin;
  SELECT * FROM smam.archive_audit_log(4, NULL, 'exported to audit-period-1.jsonl')});
like($err, qr/ERROR:  archiving the audit log needs the SHA-256 of its export\n.*requirement 7.1.1.*HINT:  Export positions 1 to 4 with smam.audit_export\(4\)/s,
     'archiving without the export\'s hash is refused');
($rc, $out, $err) = $node->psql('postgres', q{SET smam.audit_archive_min_age = 0; SET ROLE c_admin;
  SELECT * FROM smam.archive_audit_log(3, '} . $export_sha . q{', 'exported to audit-period-1.jsonl')});
like($err, qr/ERROR:  the export's SHA-256 does not match positions 1 to 3\nDETAIL:  The export of that period hashes to [0-9a-f]{64}, not $export_sha/,
     'the hash of another period\'s export is refused');
is(sql('SELECT count(*) FROM smam.audit_seal'), '11', 'the refusals archived nothing');
is(sql(qq{SET smam.audit_archive_min_age = 0; SET ROLE c_admin;
          SELECT seq, seals_archived, rows_archived FROM smam.archive_audit_log(4, upper('$export_sha'), 'exported to audit-period-1.jsonl')}),
   '4|4|8', 'an administrator archives the first four seals, exported and hashed');
is(sql('SELECT count(*), min(seq) FROM smam.audit_seal'), '7|5', 'the archived seals are gone');
is(sql('SELECT holds, seals_checked FROM smam.verify_audit_log()'), 't|7', 'what remains verifies from the checkpoint');
is(sql("SELECT holds FROM smam.verify_audit_log('$d_before')"), 't', 'a digest taken before the archive still verifies');
is(sql("SELECT holds IS NULL, problem FROM smam.verify_audit_log('$d3')"),
   't|the digest\'s position 3 lies in a period archived at checkpoint 4: check it against that period\'s export',
   'a digest inside the archived period cannot be checked, and says so');
sql(q{UPDATE smam.department SET application = 'voluntary' WHERE name_en = 'Chain Department 5'});
is(sql('SELECT holds, seq FROM smam.verify_audit_log()'), 't|12', 'the chain continues after the checkpoint');
is(sql(q{SELECT archived_by, note, export_sha256, min_age FROM smam.audit_checkpoint}),
   "c_admin|exported to audit-period-1.jsonl|$export_sha|00:00:00",
   'the checkpoint says who archived, where the export is, its hash and the minimum age then');

# ---- a seal slipped in with triggers off: the server's cached head is stale ----
# The server keeps the head of the chain in shared memory. A seal inserted
# behind its back makes the next commit fail on the duplicate position; the
# failed commit makes the server forget the head, and the next commit reads
# it from the table and links to the forged seal, which verification shows.
sql(q{SET session_replication_role = replica;
      INSERT INTO smam.audit_seal (seq, txn, xid, rows, txn_hash, sealed_at, prev_hash, hash, committed_at)
      SELECT seq + 1, -1, xid, 0, txn_hash, sealed_at, hash, hash, committed_at
        FROM smam.audit_seal ORDER BY seq DESC LIMIT 1});
($rc, $out, $err) = $node->psql('postgres',
    q{UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department 5'});
like($err, qr/duplicate key value violates unique constraint "audit_seal_pkey"/,
     'the commit after a seal was slipped in fails on the position the server expected to be free');
sql(q{UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department 5'});
is(sql('SELECT holds, seq, problem FROM smam.verify_audit_log()'),
   'f|13|seal 13 does not match its hash: it was altered',
   'the next commit reads the head from the table; verification finds the forged seal');

# ---- the whole history rewritten and its chain recomputed ----
my ($d_last) = sql('SELECT digest FROM smam.audit_digest()');
sql(q{SET session_replication_role = replica;
    DELETE FROM smam.audit_log; DELETE FROM smam.audit_seal;
    UPDATE smam.audit_checkpoint SET note = 'nothing to see'; });
# The server still holds the old head of the chain in shared memory: a seal
# written now would continue from it, and the gap would show.
sql(q{UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department 1'});
is(sql('SELECT holds, seq, problem FROM smam.verify_audit_log()'), 'f|5|seal 5 is missing: the chain goes from 4 to 15',
     'after seals are deleted with triggers off, the next seal continues from the head the server remembers');
sql(q{SET session_replication_role = replica; DELETE FROM smam.audit_log; DELETE FROM smam.audit_seal;});
$node->restart;
sql("UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department $_'") for 1 .. 3;
sql("UPDATE smam.department SET application = 'voluntary' WHERE name_en = 'Chain Department $_'") for 1 .. 5;
sql("UPDATE smam.department SET application = 'subject' WHERE name_en = 'Chain Department $_'") for 1 .. 2;
is(sql('SELECT holds, seq FROM smam.verify_audit_log()'), 't|14',
   'a superuser who rewrites the history with the chain recomputed passes verify_audit_log() alone');
is(sql("SELECT holds, seq, problem FROM smam.verify_audit_log('$d_last')"),
   'f|14|the chain at position 14 differs from the digest: the log at or before it was rewritten',
   'but not against a digest kept elsewhere');

# Writers summarize the log's ranges behind them (src/audit_summary.c), two
# ranges behind the one they write in, so that only those two are left for
# VACUUM; also in a session where the extension was dropped and created
# again, several times, with indexes of new OIDs each time.
$node->safe_psql('postgres', 'CREATE DATABASE recreated');
is(sql(q{SET client_min_messages = warning;
         CREATE EXTENSION smam;
         INSERT INTO smam.department (name_en) SELECT 'D' || g FROM generate_series(1, 300) g;
         DROP EXTENSION smam CASCADE;
         CREATE EXTENSION smam;
         INSERT INTO smam.department (name_en) SELECT 'D' || g FROM generate_series(1, 300) g;
         DROP EXTENSION smam CASCADE;
         CREATE EXTENSION smam;
         INSERT INTO smam.department (name_en) SELECT 'D' || g FROM generate_series(1, 300) g;
         DROP EXTENSION smam CASCADE;
         CREATE EXTENSION smam;
         INSERT INTO smam.department (name_en) SELECT 'D' || g FROM generate_series(1, 3000) g;
         SELECT pg_relation_size('smam.audit_log') / 8192 / 8 > 10,
                brin_summarize_new_values('smam.audit_log_object_idx')}, 'recreated'), 't|2',
   'after the extension is created a fourth time in one session, writers still summarize the ranges behind them');

# The transaction hash is kept as the rows come, with its state saved when
# a subtransaction writes its first row: rollbacks to savepoints, nested and
# released, and PL/pgSQL exception blocks, each leave a seal that counts the
# rows left and verifies.
$node->safe_psql('postgres', 'CREATE DATABASE savepoints');
sub sp { return $node->safe_psql('savepoints', $_[0]) }
sp(q{SET client_min_messages = warning; CREATE EXTENSION smam;
     INSERT INTO smam.department (name_en) SELECT 'S' || g FROM generate_series(1, 9) g;});
# A, then B in a, C in b released into a, D in a, a rolled back, then E: A and E stay.
sp(q{BEGIN;
     UPDATE smam.department SET name_fr = 'A' WHERE name_en = 'S1';
     SAVEPOINT a;
     UPDATE smam.department SET name_fr = 'B' WHERE name_en = 'S2';
     SAVEPOINT b;
     UPDATE smam.department SET name_fr = 'C' WHERE name_en = 'S3';
     RELEASE b;
     UPDATE smam.department SET name_fr = 'D' WHERE name_en = 'S4';
     ROLLBACK TO a;
     UPDATE smam.department SET name_fr = 'E' WHERE name_en = 'S5';
     COMMIT;});
# X in a, Y in b rolled back, Z in a, a released: X and Z stay.
sp(q{BEGIN;
     SAVEPOINT a;
     UPDATE smam.department SET name_fr = 'X' WHERE name_en = 'S1';
     SAVEPOINT b;
     UPDATE smam.department SET name_fr = 'Y' WHERE name_en = 'S2';
     ROLLBACK TO b;
     UPDATE smam.department SET name_fr = 'Z' WHERE name_en = 'S3';
     RELEASE a;
     COMMIT;});
# P, then Q in b inside a (a writes nothing itself), b released into a, a rolled back, then R: P and R stay.
sp(q{BEGIN;
     UPDATE smam.department SET name_fr = 'P' WHERE name_en = 'S4';
     SAVEPOINT a;
     SAVEPOINT b;
     UPDATE smam.department SET name_fr = 'Q' WHERE name_en = 'S5';
     RELEASE b;
     ROLLBACK TO a;
     UPDATE smam.department SET name_fr = 'R' WHERE name_en = 'S6';
     COMMIT;});
# The first row of the transaction written in a savepoint rolled back, then one more.
sp(q{BEGIN; SAVEPOINT a; UPDATE smam.department SET name_fr = 'gone' WHERE name_en = 'S6';
     ROLLBACK TO a; UPDATE smam.department SET name_fr = 'kept' WHERE name_en = 'S7'; COMMIT;});
# Every row rolled back: nothing to seal.
sp(q{BEGIN; SAVEPOINT a; UPDATE smam.department SET name_fr = 'none' WHERE name_en = 'S8';
     ROLLBACK TO a; COMMIT;});
# Fifty exception blocks, one row each, every third one failing after its row: 34 rows stay.
sp(q{DO $$ BEGIN
       FOR i IN 1 .. 50 LOOP
         BEGIN
           UPDATE smam.department SET name_fr = 'loop ' || i WHERE name_en = 'S9';
           IF i % 3 = 0 THEN RAISE EXCEPTION 'undo %', i; END IF;
         EXCEPTION WHEN raise_exception THEN NULL;
         END;
       END LOOP;
     END $$;});
is(sp(q{SELECT array_agg(rows ORDER BY seq) FROM (SELECT rows, seq FROM smam.audit_seal ORDER BY seq DESC LIMIT 6) s}),
   '{9,2,2,2,1,34}', 'each seal counts the rows its savepoints and exception blocks left (none when all are gone)');
is(sp(q{SELECT string_agg(new_values->>'name_fr', ',' ORDER BY txn, ordinal) FROM smam.audit_log
         WHERE operation = 'UPDATE' AND new_values->>'name_fr' !~ '^loop'}), 'A,E,X,Z,P,R,kept',
   'the rows of rolled back savepoints are not in the log, those released into their parent are');
is(sp(q{SELECT count(*) FROM smam.audit_seal s
         WHERE s.txn_hash <> sha256(convert_to('smam-audit-txn-v1', 'UTF8') || int8send(s.txn)
                 || (SELECT string_agg(l.row_hash, '' ORDER BY l.ordinal) FROM smam.audit_log l WHERE l.txn = s.txn))
            OR s.rows <> (SELECT count(*) FROM smam.audit_log l WHERE l.txn = s.txn AND l.ordinal <= s.rows)}), '0',
   'every transaction hash equals sha256() over the rows the log keeps, numbered 1..n');
is(sp('SELECT holds, rows_checked = (SELECT count(*) FROM smam.audit_log) FROM smam.verify_audit_log()'), 't|t',
   'and the chain verifies');

# The offices of the acting role are looked up once and kept for the
# session: an appointment made in another session reaches it through the
# relcache invalidation the audit trigger sends (src/audit_context.c,
# src/smam.c), at its next transaction.
$node->safe_psql('postgres', 'CREATE DATABASE offices');
sub of { return $node->safe_psql('offices', $_[0]) }
of(q{SET client_min_messages = warning; CREATE EXTENSION smam;
     CREATE ROLE o_admin LOGIN; GRANT smam_admin TO o_admin;
     SELECT smam.register_principal('o_admin', 'Office Admin', 'o.admin@example.gc.ca');
     SELECT smam.appoint('o_admin', 'administrator', NULL, now() - interval '1 day');});
my $o = $node->background_psql('offices');
$o->query_safe(q{SET ROLE o_admin});
$o->query_safe(q{SELECT smam.add_department('Office One')});
of(q{SELECT smam.appoint('o_admin', 'deputy_head', (SELECT id FROM smam.department WHERE name_en = 'Office One'), now())});
$o->query_safe(q{SELECT smam.add_department('Office Two')});
$o->quit;
is(of(q{SELECT string_agg(coalesce(office, '-'), ' | ' ORDER BY txn) FROM smam.audit_log
        WHERE table_name = 'smam.department' AND operation = 'INSERT' AND new_values->>'name_en' LIKE 'Office %'}),
   'administrator | deputy_head@' . of(q{SELECT id FROM smam.department WHERE name_en = 'Office One'}) . ', administrator',
   'an appointment made in another session is in the office of the next change the first session makes');

# The page a seal goes into is readied before the chain's lock is taken
# (src/audit_seal.c); after VACUUM it is marked all-visible, and the seal
# must clear that mark as any insert does: in a new session, and in one that
# wrote a seal there before the VACUUM.
$node->safe_psql('postgres', 'CREATE DATABASE vacuumed');
sub va { return $node->safe_psql('vacuumed', $_[0]) }
va(q{SET client_min_messages = warning; CREATE EXTENSION smam; SELECT smam.add_department('Vacuumed One')});
my $v = $node->background_psql('vacuumed');
$v->query_safe(q{SELECT smam.add_department('Vacuumed Two')});
va('VACUUM (FREEZE) smam.audit_seal');
is(va(q{SELECT relallvisible FROM pg_class WHERE oid = 'smam.audit_seal'::regclass}), '1',
   'VACUUM marks the page of the seals all-visible');
va(q{SELECT smam.add_department('Vacuumed Three')});
va('VACUUM (FREEZE) smam.audit_seal');
$v->query_safe(q{SELECT smam.add_department('Vacuumed Four')});
$v->quit;
is(va(q{SELECT holds, seals_checked, rows_checked FROM smam.verify_audit_log()}), 't|4|4',
   'seals written into an all-visible page, by a new session and by one that wrote there before, verify');

done_testing();

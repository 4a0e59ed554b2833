# The chain under concurrent writers, from an empty log: 25 pgbench
# sessions write 3,000 transactions at once (the first 25 race for the very
# first seal, when there is no row to lock), while another session verifies
# the chain again and again. Afterwards the chain holds, with one seal per
# transaction, numbered without gaps or forks, covering every row, and
# history() finds every row. smam is preloaded, so sealers serialize on its
# LWLock, which a writer only ever tries at its commit: the one that gets it
# chains what waits and itself, the others leave their commit record
# (smam.audit_commit) for the next; every verification chains what waits
# first, waiting for the lock. Every commit is synchronous.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $node = SmamTest->new('audit_concurrency');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 40\nshared_preload_libraries = 'smam'\n");
$node->start;

sub sql { return $node->safe_psql('postgres', $_[0]) }

# Data loaded with the triggers off, so that the log starts empty.
sql(q{
  CREATE EXTENSION smam;
  SET session_replication_role = replica;
  INSERT INTO smam.department (name_en) SELECT 'Concurrent Department ' || g FROM generate_series(1, 200) g;
});
is(sql('SELECT (SELECT count(*) FROM smam.audit_log), (SELECT count(*) FROM smam.audit_seal)'), '0|0',
   'the log is empty before the load');

my ($clients, $per_client) = (25, 120);
my $tmp = PostgreSQL::Test::Utils::tempdir();
open my $fh, '>', "$tmp/audit.sql" or die;
print $fh <<'PGB';
\set id random(1, 200)
BEGIN;
UPDATE smam.department SET name_fr = 'Ministère ' || :id || ' ' || :client_id || ' ' || random() WHERE id = :id;
UPDATE smam.department SET application = CASE WHEN random() < 0.5 THEN 'subject'::smam.application ELSE 'voluntary'::smam.application END WHERE id = :id;
END;
PGB
close $fh;

my ($out, $err) = ('', '');
my $bench = IPC::Run::start(
    [ 'pgbench', '-n', '-c', $clients, '-j', 5, '-t', $per_client, '-f', "$tmp/audit.sql",
      '-h', $node->host, '-p', $node->port, 'postgres' ],
    '>', \$out, '2>', \$err);

# Verify while the writers write: each verification sees a consistent log.
my ($checks, $broken) = (0, '');
while ($bench->pumpable)
{
    my $v = sql('SELECT holds, problem FROM smam.verify_audit_log()');
    $checks++;
    $broken = $v if $v !~ /^t\|/ && !$broken;
    $bench->pump_nb;
    last unless $bench->pumpable;
}
ok($bench->finish, 'pgbench ran without error') or diag($err);
my $total = $clients * $per_client;
like($out, qr{number of transactions actually processed: $total/$total}, "$total transactions committed");
ok($checks > 0, "the chain was verified $checks times during the load");
is($broken, '', 'every verification during the load held');

is(sql('SELECT holds, seals_checked, rows_checked FROM smam.verify_audit_log()'), "t|$total|" . (2 * $total),
   'afterwards the chain holds: one seal per transaction, two rows each');
is(sql('SELECT count(*) = max(seq) AND min(seq) = 1 AND count(DISTINCT txn) = count(*) FROM smam.audit_seal'), 't',
   'seals are numbered 1..n without gaps, one per transaction');
is(sql(q{SELECT count(*) FROM smam.audit_seal s JOIN smam.audit_seal p ON p.seq = s.seq - 1 WHERE s.prev_hash <> p.hash}), '0',
   'no fork: every seal links to the one before it');
is(sql(q{SELECT count(*) FROM (SELECT prev_hash FROM smam.audit_seal GROUP BY prev_hash HAVING count(*) > 1) x}), '0',
   'no two seals share a predecessor');
is(sql(q{SELECT count(*) FROM smam.audit_log l WHERE NOT EXISTS (SELECT 1 FROM smam.audit_seal s WHERE s.txn = l.txn)}), '0',
   'every row is covered by a seal');
is(sql(q{SELECT bool_and(n = 2 AND lo = 1 AND hi = 2) FROM (SELECT count(*) n, min(ordinal) lo, max(ordinal) hi FROM smam.audit_log GROUP BY txn) x}), 't',
   'every transaction\'s rows are numbered 1 and 2');

# The writers summarized the log's ranges behind them as they went
# (src/audit_summary.c), skipping a range when another held the log for it:
# history() finds every row, summarized or not.
is(sql(q{SET enable_seqscan = off;
         SELECT count(*) FROM generate_series(1, 200) d
          WHERE (SELECT count(*) FROM smam.history('smam.department', d::text))
             <> (SELECT count(*) FROM (SELECT * FROM smam.audit_log OFFSET 0) l
                  WHERE l.table_name = 'smam.department' AND l.row_key = d::text)}), '0',
   'history() finds every row of every department written by the concurrent writers');
note('ranges left unsummarized after the load: '
     . sql(q{SELECT brin_summarize_new_values('smam.audit_log_object_idx')}) . ' of '
     . sql(q{SELECT pg_relation_size('smam.audit_log') / 8192 / 8 + 1}));

done_testing();

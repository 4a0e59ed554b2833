# The audit chain sealed like a ledger (issue 18): a committed transaction
# waits to be chained (smam.audit_commit) when the chain's lock is taken at
# its commit, and is chained soon after by the next writer that finds the
# lock free, the worker, smam.audit_digest() or smam.verify_audit_log().
#   1. What waits is checked by verify_audit_log() (pending, its rows
#      against the hash it recorded), and chained by the digest.
#   2. A superuser who removes a transaction before it is chained and before
#      a digest leaves nothing to find (documented); after a digest, the
#      removal is found.
#   3. A crash between the commit and the chaining loses nothing: chained
#      after the restart.
#   4. Where the worker runs, it chains within smam.audit_seal_interval even
#      when nothing else happens; writers leave it to the worker.
#   5. Without preload, the chain still closes: a writer never waits for the
#      lock, the next one chains what waited.
#   6. Inside a transaction block or a savepoint the digest and the
#      verifier chain nothing and hold no lock.
# The lock is held by a statement that chains and then sleeps, as a sealer
# holds it to its commit.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

sub setup {
    my ($node) = @_;
    $node->safe_psql('postgres', q{
      CREATE EXTENSION smam;
      CREATE ROLE l_admin LOGIN; GRANT smam_admin TO l_admin;
      SELECT smam.register_principal('l_admin', 'Ada', 'ada@example.gc.ca');
      SELECT smam.appoint('l_admin', 'administrator', NULL, '2020-01-01');
    });
}
sub write_dept {
    my ($node, $name) = @_;
    return $node->safe_psql('postgres', "SET statement_timeout = '10s'; SET ROLE l_admin; SELECT smam.add_department('$name')");
}
# The chain's lock held by a statement that chains, then sleeps; released
# when the statement is cancelled (release_chain).
sub hold_chain {
    my ($node) = @_;
    my $h = $node->background_psql('postgres', on_error_stop => 0);
    $h->query_until(qr/holding/, "\\echo holding\nSELECT smam.seal_audit_log(), pg_sleep(600) /* holder */;\n");
    $node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%/* holder */%' AND wait_event = 'PgSleep'})
      or die 'the holder does not hold the chain';
    return $h;
}
sub release_chain {
    my ($node, $h) = @_;
    $node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%/* holder */%' AND pid <> pg_backend_pid()});
    $h->quit;
}
# A verification that chains nothing (REPEATABLE READ), so that it does not
# wait for the lock the test holds.
sub verify_rr {
    my ($node, $digest) = @_;
    my $arg = defined $digest ? "'$digest'" : '';
    return $node->safe_psql('postgres', "BEGIN ISOLATION LEVEL REPEATABLE READ;
      SELECT concat_ws('|', holds, problem, seals_checked, pending) FROM smam.verify_audit_log($arg); COMMIT;");
}

# ---- preloaded, no worker ----
my $node = SmamTest->new('ledger');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
$node->start;
setup($node);
my $seals0 = $node->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_seal');

# 1. Two writers commit while another session holds the chain.
my $h = hold_chain($node);
ok(write_dept($node, 'Pending One') > 0, 'a writer commits while another session holds the chain: it does not wait');
write_dept($node, 'Pending Two');
is($node->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_commit'), '2', 'both wait to be chained, with their commit records');
is($node->safe_psql('postgres', 'SELECT count(*) - ' . $seals0 . ' FROM smam.audit_seal'), '0', 'none is chained yet');
is(verify_rr($node), "t|$seals0|2", 'verify_audit_log() checks them as pending: the chain holds, 2 pending');
is($node->safe_psql('postgres', q{SELECT count(*) FROM smam.audit_trail WHERE seq IS NULL AND committed_at IS NOT NULL}), '2',
   'the audit trail shows their rows with their commit time and no position yet');

# A pending transaction altered: found, as a sealed one would be.
my $txn2 = $node->safe_psql('postgres', q{SELECT txn FROM smam.audit_log WHERE new_values ->> 'name_en' = 'Pending Two'});
my $office = $node->safe_psql('postgres', "SELECT office FROM smam.audit_log WHERE txn = $txn2");
$node->safe_psql('postgres', qq{SET session_replication_role = replica;
  UPDATE smam.audit_log SET office = 'forged' WHERE txn = $txn2});
is(verify_rr($node), "f|row 1 of transaction $txn2 does not match its hash: it was altered|$seals0|2",
   'a pending transaction whose row was altered is found');
$node->safe_psql('postgres', qq{SET session_replication_role = replica;
  UPDATE smam.audit_log SET office = '$office' WHERE txn = $txn2});
is(verify_rr($node), "t|$seals0|2", 'restored, it holds again');

# 2. Removed before it is chained and before a digest: nothing to find.
$node->safe_psql('postgres', qq{SET session_replication_role = replica;
  DELETE FROM smam.audit_log WHERE txn = $txn2; DELETE FROM smam.audit_commit WHERE txn = $txn2;
  DELETE FROM smam.department WHERE name_en = 'Pending Two'});
is(verify_rr($node), "t|$seals0|1",
   'a superuser who removes a transaction before it is chained and before any digest leaves a log that verifies (the documented limit)');
release_chain($node, $h);
my ($seq, $digest) = split /\|/, $node->safe_psql('postgres', 'SELECT seq, digest FROM smam.audit_digest()');
is($seq, $seals0 + 1, 'the digest first chains what waited: the remaining transaction');
is($node->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_commit'), '0', 'nothing waits any more');
my $txn1 = $node->safe_psql('postgres', q{SELECT txn FROM smam.audit_log WHERE new_values ->> 'name_en' = 'Pending One'});
$node->safe_psql('postgres', qq{SET session_replication_role = replica;
  DELETE FROM smam.audit_log WHERE txn = $txn1; DELETE FROM smam.audit_seal WHERE txn = $txn1});
like($node->safe_psql('postgres', "SELECT concat_ws('|', holds, problem) FROM smam.verify_audit_log('$digest')"),
     qr/^f\|the chain ends at position \d+ but the digest names position $seq/,
     'removed after a digest, it is found');

# 3. A crash between a commit and its chaining.
$node->safe_psql('postgres', qq{SET session_replication_role = replica;
  DELETE FROM smam.audit_log; DELETE FROM smam.audit_seal; DELETE FROM smam.audit_commit});
$node->restart;    # the server forgets the head it kept
$h = hold_chain($node);
write_dept($node, 'Before The Crash');
is($node->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_commit'), '1', 'committed, waiting to be chained');
$node->stop('immediate');
eval { $h->quit };
$node->start;
is($node->safe_psql('postgres', q{SELECT count(*) FROM smam.department WHERE name_en = 'Before The Crash'}), '1',
   'after a crash the change is there');
is($node->safe_psql('postgres', 'SELECT concat_ws(\'|\', holds, seals_checked, rows_checked, pending) FROM smam.verify_audit_log()'),
   't|1|1|0', 'and is chained by the first verification: nothing lost');

# 6. Inside a transaction block the digest and the verifier chain nothing
# and take no lock: a writer meanwhile chains itself.
my $b = $node->background_psql('postgres');
$b->query_safe('BEGIN');
$b->query_safe('SELECT * FROM smam.audit_digest()');
$b->query_safe('SELECT * FROM smam.verify_audit_log()');
write_dept($node, 'Beside An Open Block');
is($node->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_commit'), '0',
   'a digest and a verification in an open transaction block hold no lock: the next writer chains itself');
$b->query_safe('ROLLBACK');
$b->quit;
# Inside a savepoint (here a PL/pgSQL block with an exception handler) the
# same: nothing is chained there, no lock is taken; the transaction's own
# commit chains what waited and itself.
$h = hold_chain($node);
write_dept($node, 'Waiting Again');
release_chain($node, $h);
$node->safe_psql('postgres', q{SET ROLE l_admin; DO $$
  DECLARE n bigint;
  BEGIN
    BEGIN
      n := smam.seal_audit_log();
      RAISE EXCEPTION 'undo';
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    IF n IS DISTINCT FROM 0 OR (SELECT count(*) FROM smam.audit_commit) <> 1 THEN
      RAISE EXCEPTION 'the savepoint chained % and left % waiting', n, (SELECT count(*) FROM smam.audit_commit);
    END IF;
    PERFORM smam.add_department('After The Savepoint');
  END $$});
is($node->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_commit'), '0', 'inside a savepoint nothing was chained; the transaction chained what waited and itself at its commit');
is($node->safe_psql('postgres', 'SELECT concat_ws(\'|\', holds, seals_checked, pending) FROM smam.verify_audit_log()'), 't|4|0',
   'the chain holds, without a gap');

$node->stop;

# ---- 4. preloaded, with the worker ----
my $w = SmamTest->new('ledger_worker');
$w->init;
$w->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\nsmam.worker_databases = 'postgres'\nsmam.audit_seal_interval = '200ms'\n");
$w->start;
setup($w);
$w->poll_query_until('postgres', q{SELECT count(*) = 0 FROM smam.audit_commit}) or die 'the worker did not chain the set-up';
write_dept($w, 'Chained By The Worker');
ok($w->poll_query_until('postgres', q{SELECT count(*) = 0 FROM smam.audit_commit}),
   'with nothing else happening, the worker chains the transaction');
is($w->safe_psql('postgres', q{
  SELECT s.sealed_at > s.committed_at AND s.sealed_at - s.committed_at < interval '5 seconds'
    FROM smam.audit_seal s JOIN smam.audit_log l USING (txn) WHERE l.new_values ->> 'name_en' = 'Chained By The Worker'}), 't',
   'the writer left it to the worker, which chained it within the interval (and a margin)');
is($w->safe_psql('postgres', 'SELECT holds FROM smam.verify_audit_log()'), 't', 'the chain holds');
$w->stop;

# ---- 5. without preload ----
my $np = SmamTest->new('ledger_nopreload');
$np->init;
$np->start;
setup($np);
$h = hold_chain($np);
ok(write_dept($np, 'No Preload One') > 0, 'without preload, a writer does not wait for the chain\'s lock either');
is($np->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_commit'), '1', 'its commit record waits');
release_chain($np, $h);
write_dept($np, 'No Preload Two');
is($np->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_commit'), '0', 'the next writer chained it, then itself');
is($np->safe_psql('postgres', q{
  SELECT string_agg(l.new_values ->> 'name_en', ', ' ORDER BY s.seq) FROM smam.audit_seal s JOIN smam.audit_log l USING (txn)
   WHERE l.table_name = 'smam.department'}), 'No Preload One, No Preload Two', 'in that order');
is($np->safe_psql('postgres', 'SELECT holds, pending FROM smam.verify_audit_log()'), 't|0', 'the chain holds');
$np->stop;
done_testing();

# Chaining the audit log never puts a writer behind another writer's commit,
# flush or standby (issue 18). Every commit here is synchronous and waits
# for a synchronous standby; the standby is stopped while 25 sessions write.
# A writer at its commit only tries the chain's lock: the one that gets it
# chains what waits and itself, and waits for the standby like every other
# writer; the others leave their commit record (smam.audit_commit) and wait
# for the standby too, never for the chain. Nothing is visible before the
# standby has it (PostgreSQL's order), and once the standby is back every
# change is committed, chained and replicated; the chain holds on both.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $primary = SmamTest->new('flush_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\nsynchronous_commit = on\nmax_connections = 60\n");
$primary->start;
$primary->safe_psql('postgres', q{
  CREATE EXTENSION smam;
  CREATE ROLE f_admin LOGIN; GRANT smam_admin TO f_admin;
  SELECT smam.register_principal('f_admin', 'Ada', 'ada@example.gc.ca');
  SELECT smam.appoint('f_admin', 'administrator', NULL, '2020-01-01');
});
$primary->backup('b');
my $standby = SmamTest->new('flush_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->append_conf('postgresql.conf', "synchronous_standby_names = 'flush_standby'\n");
$primary->reload;
$primary->poll_query_until('postgres',
    q{SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'flush_standby'})
  or die 'the standby did not become synchronous';

($_, my $err) = ($primary->psql('postgres', 'SHOW smam.flush_after_chain_lock'))[1, 2];
like($err, qr/unrecognized configuration parameter "smam.flush_after_chain_lock"/,
     'smam.flush_after_chain_lock is gone: the problem it patched is gone');

my $writers = 25;
$standby->stop;
my @s;
for my $i (1 .. $writers) {
    my $b = $primary->background_psql('postgres');
    $b->query_safe('SET ROLE f_admin');
    $b->query_until(qr/sent/, "\\echo sent\nSELECT smam.add_department('Waiting $i');\n");
    push @s, $b;
}
# Every writer has committed locally and waits; for what?
$primary->poll_query_until('postgres', qq{
  SELECT count(*) >= $writers FROM pg_stat_activity
   WHERE wait_event IS NOT NULL AND pid <> pg_backend_pid() AND query LIKE '%add_department(''Waiting%'})
  or die 'the writers are not all waiting';
sleep 1;    # any writer queued behind another would show by now
my $events = $primary->safe_psql('postgres', q{
  SELECT string_agg(DISTINCT coalesce(wait_event_type || ':' || wait_event, 'running'), ',')
    FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%add_department(''Waiting%'});
is($events, 'IPC:SyncRep', "all $writers writers wait for the standby, none for the chain's lock or another writer");
is($primary->safe_psql('postgres', q{SELECT count(*) FROM smam.department WHERE name_en LIKE 'Waiting%'}), '0',
   'nothing is visible before the standby has it');
$standby->start;
$_->quit for @s;
$primary->poll_query_until('postgres', q{SELECT count(*) = 25 FROM smam.department WHERE name_en LIKE 'Waiting%'})
  or die 'the writers did not commit';
pass('once the standby is back, every writer commits');
is($primary->safe_psql('postgres', 'SELECT holds, rows_checked, pending FROM smam.verify_audit_log()'), 't|' . (2 + $writers) . '|0',
   'the chain holds, every transaction chained (the verification chains what waited)');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT count(*) FROM smam.department WHERE name_en LIKE 'Waiting%'}), $writers,
   'the standby has every change');
is($standby->safe_psql('postgres', 'SELECT holds, pending FROM smam.verify_audit_log()'), 't|0',
   'on the standby too (which chains nothing itself)');

$standby->stop;
$primary->stop;
done_testing();

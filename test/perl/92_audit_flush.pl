# Sealing commits and synchronous replication: where a sealer waits for its
# standby, and what smam.flush_after_chain_lock changes. With the setting
# off (the default) a sealer waits for the standby while holding the chain's
# lock, as PostgreSQL orders a synchronous commit: the change is not visible
# until the standby has it, and every other sealer waits for the lock. With
# it on, a sealer releases the lock first: other sealers go on (and wait for
# the standby themselves), the change is visible before the standby has it,
# and COMMIT still returns only once the standby has it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $primary = SmamTest->new('flush_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\nsynchronous_commit = on\n");
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

is($primary->safe_psql('postgres', 'SHOW smam.flush_after_chain_lock'), 'off', 'the setting is off by default');

sub visible {
    my ($name) = @_;
    return $primary->safe_psql('postgres', "SELECT count(*) FROM smam.department WHERE name_en = '$name'");
}

sub wait_events {
    return $primary->safe_psql('postgres', q{
      SELECT string_agg(coalesce(wait_event, 'none'), ',' ORDER BY wait_event COLLATE "C")
        FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%add_department(''Waiting%'});
}

# Two sealers while the standby is down; returns the wait events seen once
# both are waiting, and what others see of the first one's change meanwhile.
sub two_sealers_without_standby {
    my ($setting, $tag) = @_;
    $standby->stop;
    my @s;
    for my $i (1, 2) {
        my $b = $primary->background_psql('postgres');
        $b->query_safe("SET smam.flush_after_chain_lock = $setting");
        $b->query_safe('SET ROLE f_admin');
        $b->query_until(qr/sent/, "\\echo sent\nSELECT smam.add_department('Waiting $tag $i');\n");
        # The first must be waiting (for the standby or the chain) before the second starts.
        $primary->poll_query_until('postgres', qq{
          SELECT count(*) = $i FROM pg_stat_activity WHERE wait_event IN ('SyncRep', 'smam_audit_chain')
             AND pid <> pg_backend_pid() AND query LIKE '%add_department(''Waiting $tag%'})
          or die "sealer $i is not waiting";
        push @s, $b;
    }
    my $events = wait_events();
    my $seen = visible("Waiting $tag 1");
    $standby->start;
    $_->quit for @s;
    return ($events, $seen);
}

my ($events, $seen) = two_sealers_without_standby('off', 'A');
is($events, 'SyncRep,smam_audit_chain',
   'off: the first sealer waits for the standby while holding the chain, the second waits for the chain');
is($seen, '0', 'off: the first change is not visible before the standby has it');
is(visible('Waiting A 2'), '1', 'both commit once the standby is back');

($events, $seen) = two_sealers_without_standby('on', 'B');
is($events, 'SyncRep,SyncRep', 'on: both sealers have released the chain and wait for the standby');
is($seen, '1', 'on: the first change is visible before the standby has it');

# COMMIT returns only once the standby has the change, and the session's
# synchronous_commit is as it was.
my $b = $primary->background_psql('postgres');
$b->query_safe('SET smam.flush_after_chain_lock = on');
$b->query_safe('SET ROLE f_admin');
$standby->stop;
$b->query_until(qr/sent/, "\\echo sent\nSELECT smam.add_department('Waiting C 1') IS NOT NULL AS committed;\n");
$primary->poll_query_until('postgres', q{
  SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND query LIKE '%Waiting C 1%'})
  or die 'the sealer is not waiting for the standby';
is(visible('Waiting C 1'), '1', 'visible to others meanwhile');
$standby->start;
# query_safe waits for the SELECT sent before, then for this one.
is($b->query_safe('SHOW synchronous_commit'), "t\non",
   'COMMIT returned once the standby was back, and synchronous_commit is as it was');
$b->quit;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', q{SELECT count(*) FROM smam.department WHERE name_en LIKE 'Waiting%'}), '5',
   'the standby has every change');
is($primary->safe_psql('postgres', 'SELECT holds FROM smam.verify_audit_log()'), 't', 'the chain holds');
is($standby->safe_psql('postgres', 'SELECT holds FROM smam.verify_audit_log()'), 't', 'on the standby too');

$standby->stop;
$primary->stop;
done_testing();

# smam without shared_preload_libraries: CREATE EXTENSION works, the rules
# and the audit chain (with its lock taken without the preloaded LWLock)
# hold, and smam.dispatch() stands in for the worker.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $node = SmamTest->new('nopreload');
$node->init;
$node->start;

my ($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION smam');
is($rc, 0, 'CREATE EXTENSION smam works without shared_preload_libraries') or diag($err);
# Without preload the library loads at the first call of one of its functions.
is($node->safe_psql('postgres', 'SELECT smam.time_zone(); SHOW smam.time_zone'), "America/Toronto\nAmerica/Toronto",
   'its settings are defined once it is loaded');
($rc, $out, $err) = $node->psql('postgres', 'SELECT smam.time_zone(); SHOW smam.worker_databases');
like($err, qr/unrecognized configuration parameter/, "the worker's start-up settings exist only with preload");

$node->safe_psql('postgres', q{
  CREATE ROLE np_admin LOGIN; GRANT smam_admin TO np_admin;
  SELECT smam.register_principal('np_admin', 'Ada', 'ada@example.gc.ca');
  SELECT smam.appoint('np_admin', 'administrator', NULL, '2020-01-01');
  SET ROLE np_admin;
  SELECT smam.add_department('Department Without Preload');
});
is($node->safe_psql('postgres', q{SELECT smam.holds_office('np_admin', 'administrator', NULL)}), 't', 'offices work');
ok($node->safe_psql('postgres', 'SELECT count(*) FROM smam.audit_log') > 0, 'changes are audited');
is($node->safe_psql('postgres', 'SELECT holds FROM smam.verify_audit_log()'), 't',
   'the audit chain holds, sealed without the preloaded lock');
is($node->safe_psql('postgres', 'SELECT smam.dispatch()'), '0', 'smam.dispatch() runs (nothing due)');

$node->stop;
done_testing();

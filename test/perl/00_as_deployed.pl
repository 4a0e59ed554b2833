# As deployed. `make test` runs every Perl TAP file twice: with SmamTest
# nodes on Unix sockets (trust), then with SMAM_TEST_TCP=1, where they take
# connections on 127.0.0.1 only and with scram-sha-256 only, as an
# application connects. This file checks that each pass is what it says it
# is (the TCP pass cannot fall back to the socket unseen), that nothing
# connects over TCP without its password, that SmamTest's roles connect with
# theirs, and that every audited write of an application's session records
# the address it came from.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $tcp = SmamTest->tcp;
note('pass: ' . ($tcp ? 'tcp' : 'socket'));

my $node = SmamTest->new('as_deployed');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'smam'\nlog_connections = on\nlog_error_verbosity = verbose\n");
$node->start;
my $super = $node->safe_psql('postgres', 'SELECT current_user');

# ---- the node ----
if ($tcp)
{
	is($node->host, '127.0.0.1', 'tcp pass: the node is reached at 127.0.0.1');
	is($node->safe_psql('postgres',
			q{SELECT host(inet_client_addr()) || ' ' || current_setting('listen_addresses')
			  || ' [' || current_setting('unix_socket_directories') || ']'}),
		'127.0.0.1 127.0.0.1 []', 'tcp pass: sessions come from 127.0.0.1, and the node has no Unix socket');
	is($node->safe_psql('postgres',
			q{SELECT string_agg(DISTINCT type || ' ' || auth_method, ', ') FROM pg_hba_file_rules}),
		'host scram-sha-256', 'every rule of pg_hba.conf is TCP with scram-sha-256: no trust');
	is($node->safe_psql('postgres',
			q{SELECT rolpassword ~ '^SCRAM-SHA-256\$' FROM pg_authid WHERE rolname = current_user}),
		't', 'the bootstrap superuser has a password, a SCRAM verifier');
	$node->connect_ok($node->connstr('postgres'), 'the superuser connects with its password, from the password file',
		log_like => [qr/connection authenticated: identity="\Q$super\E" method=scram-sha-256/]);
	$node->connect_fails($node->connstr('postgres') . ' passfile=/nonexistent/pgpass',
		'without the password file, not even the superuser connects',
		expected_stderr => qr/no password supplied/);
	$node->connect_fails($node->connstr('postgres') . ' password=wrong-password',
		'nor with a wrong password',
		expected_stderr => qr/password authentication failed for user "\Q$super\E"/,
		log_like        => [qr/28P01: password authentication failed for user "\Q$super\E"/]);
}
else
{
	ok(-d $node->host, 'socket pass: the node is reached through a socket directory');
	is($node->safe_psql('postgres', 'SELECT inet_client_addr() IS NULL'),
		't', 'socket pass: sessions come over the Unix socket');
}

# ---- an application's role ----
$node->safe_psql('postgres', 'CREATE EXTENSION smam');
$node->create_login_role('app_admin', 'IN ROLE smam_admin');
$node->safe_psql('postgres', q{
  CREATE ROLE app_nopass LOGIN;
  SELECT smam.register_principal('app_admin', 'Ada', 'ada@example.gc.ca');
  SELECT smam.appoint('app_admin', 'administrator', NULL, '2020-01-01');
});
is($node->safe_psql('postgres', q{SELECT rolpassword ~ '^SCRAM-SHA-256\$' FROM pg_authid WHERE rolname = 'app_admin'}),
	't', 'create_login_role gives the role a password, a SCRAM verifier');
my $as_admin = $node->connstr('postgres') . ' user=app_admin';
$node->connect_ok($as_admin, 'the role connects',
	$tcp ? (log_like => [qr/connection authenticated: identity="app_admin" method=scram-sha-256/]) : ());

# Several audited statements in one session of the application's role.
my $addr = $node->safe_psql('postgres', q{
  SELECT smam.add_department('As Deployed ' || g) FROM generate_series(1, 3) g;
  SELECT smam.add_department('As Deployed 4');
  UPDATE smam.department SET name_fr = 'Tel que déployé ' || id WHERE name_en LIKE 'As Deployed %';
  SELECT smam.add_department('As Deployed 6');
  SELECT coalesce(host(inet_client_addr()), 'socket');
}, connstr => $as_admin);
is((split /\n/, $addr)[-1], $tcp ? '127.0.0.1' : 'socket', 'its session came ' . ($tcp ? 'over TCP' : 'over the socket'));
is($node->safe_psql('postgres', sprintf(q{
  SELECT count(*) || ' ' || count(*) FILTER (WHERE client_addr IS NOT DISTINCT FROM %s)
    FROM smam.audit_log WHERE acting_role = 'app_admin' AND table_name = 'smam.department'}, $tcp ? q{'127.0.0.1'::inet} : 'NULL')),
	'9 9', 'every audited write of that session records the address it came from');
is($node->safe_psql('postgres', 'SELECT holds FROM smam.verify_audit_log()'), 't', 'and the chain holds');

if ($tcp)
{
	$node->connect_fails("$as_admin password=wrong-password", 'a wrong password is refused',
		expected_stderr => qr/password authentication failed for user "app_admin"/,
		log_like        => [qr/28P01: password authentication failed for user "app_admin"/]);
	$node->connect_fails($node->connstr('postgres') . ' user=app_nopass',
		'a LOGIN role without a password cannot connect over TCP',
		expected_stderr => qr/no password supplied/);
	$node->set_password('app_nopass');
	$node->connect_ok($node->connstr('postgres') . ' user=app_nopass', 'it can once set_password gave it one',
		log_like => [qr/connection authenticated: identity="app_nopass" method=scram-sha-256/]);
}
else
{
	$node->connect_ok($node->connstr('postgres') . ' user=app_nopass',
		'socket pass: over the socket (trust), a role connects without a password');
}

$node->stop;
done_testing();

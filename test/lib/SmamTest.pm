# test/lib/SmamTest.pm: the nodes of smam's Perl TAP tests (test/perl/*.pl).
#
#   use SmamTest;
#   my $node = SmamTest->new('name');    # where a test said PostgreSQL::Test::Cluster->new
#
# A SmamTest node is a PostgreSQL::Test::Cluster node, and in the first pass
# of `make test` it is exactly one: a Unix socket, trust. With SMAM_TEST_TCP=1
# in the environment (the second pass) it runs as smam is deployed, where
# applications connect over TCP with a password:
#   - every node listens on 127.0.0.1 only, with no Unix socket at all
#     (PostgreSQL::Test::Cluster's own TCP mode, the one it uses on Windows);
#   - pg_hba.conf has scram-sha-256 for every host connection, replication
#     included, and nothing else: no trust over TCP;
#   - the bootstrap superuser has a random password, and the test's password
#     file (PGPASSFILE, mode 0600) holds it for the node's port, so that
#     psql, safe_psql, background_psql, interactive_psql, poll_query_until,
#     connstr, command_ok, pg_dump, pgbench and a standby's walreceiver all
#     connect over TCP with it, unchanged.
# A role a test connects as needs a password too: create it with
# $node->create_login_role (or give an existing one a password with
# $node->set_password). A LOGIN role without one cannot connect over TCP,
# which is the point.
#
# Load it with `use`: PostgreSQL::Test::Cluster chooses between socket and
# TCP in its INIT block, which runs after the test file is compiled.
package SmamTest;

use strict;
use warnings;
# Nothing imported from the test modules: PostgreSQL::Test::Utils exports
# functions (command_ok, ...) that have the names of the node's methods.
use Carp ();
use Fcntl ();
use PostgreSQL::Test::Utils ();
use PostgreSQL::Test::Cluster ();
use parent -norequire, 'PostgreSQL::Test::Cluster';

our ($tcp, $passfile);

BEGIN
{
	$tcp = $ENV{SMAM_TEST_TCP} ? 1 : 0;
	# Read by PostgreSQL::Test::Cluster's INIT block: PGHOST 127.0.0.1,
	# listen_addresses = '127.0.0.1', unix_socket_directories = ''.
	$PostgreSQL::Test::Utils::use_unix_sockets = 0 if $tcp;
}

# True when the nodes take TCP connections with scram-sha-256 only.
sub tcp { return $tcp }

sub new
{
	my ($class, @args) = @_;
	Carp::croak 'SMAM_TEST_TCP is set but PostgreSQL::Test::Cluster still uses Unix sockets: load SmamTest with use'
	  if $tcp && !$PostgreSQL::Test::Cluster::use_tcp;
	my $node = $class->SUPER::new(@args);
	$node->{_smam_superuser} = scalar getpwuid($>);
	return $node;
}

# A random password: 32 hexadecimal digits from /dev/urandom.
sub _random_password
{
	open my $fh, '<:raw', '/dev/urandom' or die "cannot read /dev/urandom: $!";
	read($fh, my $bytes, 16) == 16 or die "short read from /dev/urandom";
	close $fh;
	return unpack('H*', $bytes);
}

# One password file for the whole test script, in its own private folder,
# named by PGPASSFILE: PostgreSQL::Test::Utils removes PGPASSFILE from the
# environment it inherits, and everything a test runs reads it from there.
sub _passfile
{
	return $passfile if defined $passfile;
	my $dir = PostgreSQL::Test::Utils::tempdir('pgpass');
	chmod 0700, $dir;
	$passfile = "$dir/pgpass";
	sysopen(my $fh, $passfile, Fcntl::O_WRONLY() | Fcntl::O_CREAT() | Fcntl::O_EXCL(), 0600)
	  or die "cannot create $passfile: $!";
	close $fh;
	$ENV{PGPASSFILE} = $passfile;
	return $passfile;
}

sub _pgpass_field
{
	my ($v) = @_;
	$v =~ s/([\\:])/\\$1/g;
	return $v;
}

# Put $role's password for this node's port into the password file.
sub remember_password
{
	my ($self, $role, $password) = @_;
	return unless $tcp;
	my $file = _passfile();
	sysopen(my $fh, $file, Fcntl::O_WRONLY() | Fcntl::O_APPEND()) or die "cannot open $file: $!";
	print $fh join(':', '127.0.0.1', $self->port, '*', _pgpass_field($role), _pgpass_field($password)), "\n";
	close $fh or die "cannot write $file: $!";
	return;
}

sub init
{
	my ($self, %params) = @_;
	return $self->SUPER::init(%params) unless $tcp;

	my $password = _random_password();
	my $pwfile   = $self->basedir . '/pwfile';
	sysopen(my $fh, $pwfile, Fcntl::O_WRONLY() | Fcntl::O_CREAT() | Fcntl::O_EXCL(), 0600) or die "cannot create $pwfile: $!";
	print $fh "$password\n";
	close $fh;
	# Cluster::init runs initdb -A trust, then these: host connections need
	# a password, and the bootstrap superuser has one.
	$params{extra} = [ @{ $params{extra} // [] }, '--auth-host=scram-sha-256', "--pwfile=$pwfile" ];
	my $ret = $self->SUPER::init(%params);
	unlink $pwfile;

	# There is no socket (unix_socket_directories = ''), so no local line:
	# 127.0.0.1 with scram-sha-256, for sessions and for replication.
	my $hba = $self->data_dir . '/pg_hba.conf';
	open my $out, '>', $hba or die "cannot write $hba: $!";
	print $out "# Written by SmamTest.pm: TCP with scram-sha-256 only.\n",
	  "host all         all 127.0.0.1/32 scram-sha-256\n",
	  "host replication all 127.0.0.1/32 scram-sha-256\n";
	close $out or die "cannot write $hba: $!";
	$self->append_conf('postgresql.conf', "password_encryption = 'scram-sha-256'\n");

	$self->{_smam_password} = $password;
	$self->remember_password($self->{_smam_superuser}, $password);
	return $ret;
}

# A standby made from a backup has its primary's roles and pg_hba.conf, and
# so its superuser's password; its walreceiver finds the primary's in the
# password file.
sub init_from_backup
{
	my ($self, $root, @args) = @_;
	my $ret = $self->SUPER::init_from_backup($root, @args);
	if ($tcp)
	{
		Carp::croak 'the primary of a SmamTest standby must be a SmamTest node'
		  unless defined $root->{_smam_password};
		$self->{_smam_password} = $root->{_smam_password};
		$self->remember_password($self->{_smam_superuser}, $root->{_smam_password});
	}
	return $ret;
}

sub _check_role_name
{
	my ($role) = @_;
	Carp::croak "role name \"$role\" needs quoting; use a plain one" unless $role =~ /^[a-z_][a-z0-9_]*$/;
	return;
}

# $node->create_login_role($role, $options, $dbname): CREATE ROLE $role
# LOGIN PASSWORD (random) $options, run as the superuser in $dbname
# (postgres by default), and the password remembered, so that
# $node->connstr($db) . " user=$role" connects as it. Returns the password.
sub create_login_role
{
	my ($self, $role, $options, $dbname) = @_;
	_check_role_name($role);
	my $password = _random_password();
	# Cluster.pm sets log_statement = all: keep the password out of the log.
	$self->safe_psql($dbname // 'postgres',
		"SET log_statement = 'none'; CREATE ROLE $role LOGIN PASSWORD '$password' " . ($options // ''));
	$self->remember_password($role, $password);
	return $password;
}

# $node->set_password($role, $dbname): give an existing role a new random
# password, and remember it. Returns the password.
sub set_password
{
	my ($self, $role, $dbname) = @_;
	_check_role_name($role);
	my $password = _random_password();
	$self->safe_psql($dbname // 'postgres',
		"SET log_statement = 'none'; ALTER ROLE $role PASSWORD '$password'");
	$self->remember_password($role, $password);
	return $password;
}

1;

# Concurrent decisions on the same subject: exactly one wins, the other gets
# a clear error (src/approvals.c, src/lifecycle.c). Two sessions race to
# approve one strategy, to review one submission (accept against reject),
# and to move one account; the second waits for the first's row lock, then
# is refused. Then the records survive pg_dump and a restore with triggers
# off. Run by `make test` in its own PostgreSQL::Test::Cluster node
# with shared_preload_libraries = 'smam'.
use strict;
use warnings;

# PostgreSQL::Test::Utils logs under TESTDIR, which must exist.
BEGIN { mkdir $ENV{TESTDIR} if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $node = SmamTest->new('decisions');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\nmax_connections = 10\n");
$node->start;

$node->safe_psql('postgres', <<'SQL');
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE c_admin LOGIN IN ROLE smam_admin;
CREATE ROLE c_staff LOGIN IN ROLE smam_department;
CREATE ROLE c_head1 LOGIN IN ROLE smam_department;
CREATE ROLE c_head2 LOGIN IN ROLE smam_department;
CREATE ROLE c_entity1 LOGIN IN ROLE smam_entity;
CREATE ROLE c_entity2 LOGIN IN ROLE smam_entity;
SELECT smam.register_principal('c_admin', 'Admin', 'admin@example.gc.ca');
SELECT smam.appoint('c_admin', 'administrator');
SET ROLE c_admin;
SELECT smam.add_department('Department of Races');
SELECT smam.register_principal(r, r, r || '@example.gc.ca', CASE WHEN r LIKE 'c_entity%' THEN NULL ELSE 1 END)
  FROM unnest(ARRAY['c_staff', 'c_head1', 'c_head2', 'c_entity1', 'c_entity2']) r;
SELECT smam.appoint('c_staff', 'department_staff', 1);
SELECT smam.appoint('c_head1', 'head_of_communications', 1);
SELECT smam.appoint('c_head2', 'head_of_communications', 1);
SELECT smam.appoint('c_entity1', 'entity_official');
SELECT smam.appoint('c_entity2', 'entity_official');
SET ROLE c_staff;
SELECT smam.draft_strategy(1, 'Strategy', 'm', 'b', 'a', 'g', 'p', 'l');
SQL

# Run $first in session A inside an open transaction, start $second in
# session B (it blocks on A's row lock), commit A, and return B's stderr.
sub race
{
	my ($first, $second) = @_;
	my $a = $node->background_psql('postgres', on_error_stop => 0);
	my $b = $node->background_psql('postgres', on_error_stop => 0);
	my ($out, $err) = $a->query("BEGIN; $first");
	is($err, 0, "first session: $first");
	$b->query_until(qr/started/, "\\echo started\n$second\n");
	ok( $node->poll_query_until('postgres',
			"SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"),
		'second session waits for the first');
	$a->query_safe('COMMIT');
	# The blocked statement finishes before this one runs.
	$b->query("SELECT 'synced'");
	my $stderr = $b->{stderr};
	$a->quit;
	$b->quit;
	return $stderr;
}

# Two heads of communications approve the same strategy.
my $stderr = race("SET ROLE c_head1; SELECT smam.approve_strategy(1);",
	"SET ROLE c_head2; SELECT smam.approve_strategy(1);");
like($stderr, qr/ERROR:  strategy 1 has already been approved/, 'the second approval is refused');
like($stderr, qr/DETAIL:  It was approved by "c_head1"/, '... naming the decision that won');
is($node->safe_psql('postgres',
		"SELECT string_agg(decided_by, ',') FROM smam.decision WHERE subject = 'strategy'"),
	'c_head1', 'exactly one approval is recorded');

# Two entity officials review the same submission: one accepts, one rejects.
$node->safe_psql('postgres', <<'SQL');
SET ROLE c_staff;
SELECT smam.plan_account(1, 'x', 'https://x.com/Races', 'Races', NULL, 'english');
SET ROLE c_head1;
SELECT smam.submit(1, 'creation');
SQL
$stderr = race("SET ROLE c_entity1; SELECT smam.review_submission(1, true);",
	"SET ROLE c_entity2; SELECT smam.review_submission(1, false, 'not needed');");
like($stderr, qr/ERROR:  submission 1 has already been accepted/, 'the second review is refused');
is($node->safe_psql('postgres',
		"SELECT status || ' ' || decided_by FROM smam.submission WHERE id = 1"),
	'accepted c_entity1', 'the first review stands');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM smam.decision WHERE subject = 'submission'"),
	'1', 'exactly one review is recorded');

# Two officials abandon the same planned account at once.
$stderr = race("SET ROLE c_entity1; SELECT smam.abandon_account(1, 'first');",
	"SET ROLE c_entity2; SELECT smam.abandon_account(1, 'second');");
like($stderr, qr/ERROR:  account 1 is already in disposed/, 'the second move is refused');
is($node->safe_psql('postgres',
		"SELECT string_agg(moved_by || ':' || note, ',') FROM smam.stage_history WHERE to_stage = 'disposed'"),
	'c_entity1:first', 'exactly one move is recorded');

# The records survive pg_dump and a restore with triggers off, as
# docs/lifecycle.md says to restore.
my $dump = $node->basedir . '/smam.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$node->command_ok(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
		'restore with session_replication_role = replica');
}
my $counts = "SELECT (SELECT count(*) FROM smam.account) || ' ' || (SELECT count(*) FROM smam.stage_history)"
  . " || ' ' || (SELECT count(*) FROM smam.decision) || ' ' || (SELECT count(*) FROM smam.strategy)";
is($node->safe_psql('restored', $counts), $node->safe_psql('postgres', $counts),
	'accounts, history, decisions and strategies are restored');
is($node->safe_psql('restored', "SELECT stage FROM smam.account WHERE id = 1"), 'disposed',
	'the restored account keeps its stage');
my ($ret, $out, $err) = $node->psql('restored', "SET ROLE c_entity1; UPDATE smam.account SET stage = 'planning'");
like($err, qr/ERROR:  account 1 has been disposed of/, 'the restored account is guarded again');

$node->stop;
done_testing();

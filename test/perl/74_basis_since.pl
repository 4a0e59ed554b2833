# Hub and spoke (issue 16): plans and program strategies left without a
# basis in force are 6.1.1 findings, `since` the moment the basis broke,
# read from the decision history (each step below is its own transaction,
# a second apart, so that each moment is distinct):
#  - retiring the departmental strategy: its plans, the program strategy
#    rolling into it and the plan based on that, since the retirement, not
#    since their own approval; the retirement's notice names them;
#  - voiding the approval of the new departmental strategy by an edit:
#    since the voiding;
#  - a departmental strategy whose term ends: since the first day out of
#    its term, in smam.time_zone (read as of a later moment).
use strict;
use warnings;

BEGIN { mkdir $ENV{TESTDIR} if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use SmamTest;

my $node = SmamTest->new('basis');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
$node->start;
sub sql { return $node->safe_psql('postgres', $_[0]) }
sub step { sleep 1.1; return sql($_[0]) }

sql(<<'SQL');
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE s_admin LOGIN IN ROLE smam_admin;
CREATE ROLE s_staff LOGIN IN ROLE smam_department;
CREATE ROLE s_head LOGIN IN ROLE smam_department;
SELECT smam.register_principal('s_admin', 'Admin', 'admin@example.gc.ca');
SELECT smam.appoint('s_admin', 'administrator', NULL, '2020-01-01');
SET ROLE s_admin;
SELECT smam.add_department('Department of Hubs');
SELECT smam.register_principal(r, r, r || '@example.gc.ca', 1) FROM unnest(ARRAY['s_staff', 's_head']) r;
SELECT smam.appoint('s_staff', 'department_staff', 1, '2020-01-01');
SELECT smam.appoint('s_head', 'head_of_communications', 1, '2020-01-01');
SET ROLE s_staff;
SELECT smam.draft_strategy(1, 'Departmental', 'm', 'b', 'a', 'g', 'p', 'l');
SQL
step(q{SET ROLE s_head; SELECT smam.approve_strategy(1)});
sql(<<'SQL');
SET ROLE s_staff;
SELECT smam.draft_strategy(1, 'Grants', 'm', 'b', 'a', 'g', 'p', 'l', 'Grants');
SELECT smam.draft_plan(1, 'Plan on the departmental strategy', 'b', 'r', 'r', 'r', 'm', 'p', 'c');
SELECT smam.draft_plan(1, 'Plan on the grants strategy', 'b', 'r', 'r', 'r', 'm', 'p', 'c', strategy => 2);
SELECT smam.plan_pia(p, 'x') FROM generate_series(1, 2) p;
SQL
step(q{SET ROLE s_head; SELECT smam.approve_strategy(2); SELECT smam.approve_plan(1); SELECT smam.approve_plan(2)});
is(sql(q{SELECT string_agg(concat_ws(' ', id, strategy_id), ', ' ORDER BY id) FROM smam.implementation_plan}), '1 1, 2 2',
   'plan 1 is based on the departmental strategy, plan 2 on the program strategy');
is(sql(q{SELECT rolls_into FROM smam.strategy WHERE id = 2}), '1', 'the program strategy rolls into the departmental one');

my $basis = q{SELECT coalesce(string_agg(object_type || ' ' || object_id || ' ' || since, ', ' ORDER BY object_type, object_id), 'none')
  FROM smam.compliance_findings_as_of(%s) WHERE requirement = '6.1.1' AND object_type IN ('implementation_plan', 'strategy')};
is(sql(sprintf($basis, 'now()')), 'none', 'everything stands on the departmental strategy');

# ---- the departmental strategy retired ----
sleep 1.1;
my ($rc, $out, $err) = $node->psql('postgres', q{SET ROLE s_head; SELECT smam.decide('strategy', 1, 'retired', 'superseded')});
is($rc, 0, 'the head retires the departmental strategy');
like($err, qr/NOTICE:  strategy 1 is retired, leaving without a strategy in force: implementation plans 1, 2; program strategy 2\n/,
     '... and is told what it leaves without a strategy in force');
like($err, qr/HINT:  Name the strategy in force with smam\.revise\(\)/, '... and what to do');
my $retired = sql(q{SELECT decided_at FROM smam.decision WHERE subject = 'strategy' AND subject_id = 1 AND decision = 'retired'});
is(sql(sprintf($basis, 'now()')), "implementation_plan 1 $retired, implementation_plan 2 $retired, strategy 2 $retired",
   '6.1.1: both plans and the program strategy are without a basis since the retirement');
isnt($retired, sql(q{SELECT decided_at FROM smam.decision WHERE subject = 'implementation_plan' AND subject_id = 1 AND decision = 'approved'}),
     '... not since the plans were approved');

# ---- a new departmental strategy, its approval voided ----
sql(q{SET ROLE s_staff; SELECT smam.draft_strategy(1, 'Departmental, renewed', 'm', 'b', 'a', 'g', 'p', 'l')});
step(q{SET ROLE s_head; SELECT smam.approve_strategy(3)});
is(sql(sprintf($basis, 'now()')), "implementation_plan 1 $retired, implementation_plan 2 $retired, strategy 2 $retired",
   'a new departmental strategy in force re-attaches nothing: the findings and their since stay');
step(q{SET ROLE s_staff; SELECT smam.revise('strategy', 2, 'rolls_into', '3'); SELECT smam.revise('implementation_plan', 1, 'strategy_id', '3')});
step(q{SET ROLE s_head; SELECT smam.approve_strategy(2); SELECT smam.approve_plan(1)});
is(sql(sprintf($basis, 'now()')), 'none', 'based anew and approved again, nothing is without a basis');
step(q{SET ROLE s_staff; SELECT smam.revise('strategy', 3, 'lessons_learned', 'more')});
my $voided = sql(q{SELECT decided_at FROM smam.decision WHERE subject = 'strategy' AND subject_id = 3 AND decision = 'voided'});
is(sql(sprintf($basis, 'now()')), "implementation_plan 1 $voided, implementation_plan 2 $voided, strategy 2 $voided",
   '6.1.1: without a basis since the edit voided the departmental strategy\'s approval');

# ---- a term that ends ----
step(q{SET ROLE s_head; SELECT smam.approve_strategy(3)});
step(q{SET ROLE s_staff; SELECT smam.revise('strategy', 3, 'in_force_until', (smam.today() + 2)::text)});
step(q{SET ROLE s_head; SELECT smam.approve_strategy(3)});
is(sql(sprintf($basis, 'now()')), 'none', 'the departmental strategy is in force today');
my $term_over = sql(q{SELECT ((smam.today() + 2)::timestamp AT TIME ZONE smam.time_zone())});
is(sql(sprintf($basis, "now() + interval '3 days'")),
   "implementation_plan 1 $term_over, implementation_plan 2 $term_over, strategy 2 $term_over",
   '6.1.1 as of three days on: without a basis since the first day out of its term, in smam.time_zone');

# ---- a dump restores the hub: a program strategy rolling into a later one ----
my $hub = q{SELECT string_agg(concat_ws('|', strategy_id, departmental_strategy_id, status, plans), ', ' ORDER BY strategy_id) FROM smam.strategy_hub};
my $before = sql($hub);
is($before, '1|1|retired|{}, 2|3|approved|{2}, 3|3|approved|{1}', 'program strategy 2 rolls into departmental strategy 3');
my $dump = $node->basedir . '/basis.sql';
command_ok(['pg_dump', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-f', $dump], 'pg_dump of the database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
($rc, $out, $err) = $node->psql('restored', undef, extra_params => ['-v', 'ON_ERROR_STOP=1', '-f', $dump]);
is($rc, 0, 'the dump restores (plans after the strategies they are based on, a strategy rolling into a later one)') or diag($err);
is($node->safe_psql('restored', $hub), $before, '... with the hub as it was');
is($node->safe_psql('restored', sprintf($basis, "now() + interval '3 days'")), sql(sprintf($basis, "now() + interval '3 days'")),
   '... and the same findings and since');

$node->stop;
done_testing();

# `make demo` shows refusals on purpose; a newcomer must not read them as
# failures (issue 16). Each is announced on the line before it, by the step
# itself: "-- Expected refusal: <why>". This runs the demo's steps as
# `make demo` does (test/lib/demo_steps.sh) on a node of its own and reads
# what they print: every ERROR comes right after its announcement, no ERROR
# comes unannounced, and no announcement goes without its refusal.
use strict;
use warnings;

BEGIN { mkdir $ENV{TESTDIR} if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use IPC::Run ();
use SmamTest;

my $top = abs_path($ENV{SMAM_SRC} // dirname(__FILE__) . '/../..');
my ($bindir) = grep { -x "$_/psql" } split /:/, $ENV{PATH};
ok($bindir, "psql is on the PATH ($bindir)") or BAIL_OUT('no psql');

my $node = SmamTest->new('demo');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE smam_demo');

my $out = '';
my $ok = IPC::Run::run([ 'bash', "$top/test/lib/demo_steps.sh" ], '<', \undef, '>&', \$out,
	init => sub {
		$ENV{PGHOST}        = $node->host;
		$ENV{PGPORT}        = $node->port;
		$ENV{PGUSER}        = scalar getpwuid($>);
		$ENV{PGBIN}         = $bindir;
		$ENV{SMAM_TOP}      = $top;
		$ENV{SMAM_DEMO_DB}  = 'smam_demo';
		$ENV{SMAM_DATA_DIR} = $ENV{SMAM_DATA_DIR} // "$top/test/data";
	});
ok($ok, 'every step of the demo ran') or diag($out);

# Step by step: an announcement opens, the next error closes it.
my ($step, $pending, %steps, @refusals) = ('');
my $close_step = sub {
	push @refusals, [ $step, $pending, undef ] if defined $pending;
	undef $pending;
};
for my $line (split /\n/, $out)
{
	if ($line =~ /^######## (\S+) ########$/)
	{
		$close_step->();
		$step = $1;
		$steps{$step} = [];
	}
	elsif ($line =~ /^-- Expected refusal: (\S.*)$/)
	{
		push @refusals, [ $step, $pending, undef ] if defined $pending;
		$pending = $1;
	}
	elsif ($line =~ /\b(?:ERROR|FATAL|PANIC):\s*(.*)$|^psql: error: (.*)$/)
	{
		my $error = $1 // $2;
		if (defined $pending) { push @refusals, [ $step, $pending, $error ]; undef $pending; }
		else { push @{ $steps{$step} }, $error; }
	}
}
$close_step->();

my @demo = grep { /\.(?:sql|sh)$/ } do { opendir my $d, "$top/test/demo" or die $!; sort readdir $d };
is_deeply([ sort keys %steps ], \@demo, 'the output has every step of the demo');
for my $s (@demo)
{
	is_deeply($steps{$s} // [], [], "$s: no refusal or error that the demo does not announce as expected")
	  or diag("announce it with \\echo '-- Expected refusal: <why>' on the line before the statement, or fix it");
}
for my $r (@refusals)
{
	ok(defined $r->[2], "$r->[0]: expected refusal ($r->[1]) came") and note("  $r->[2]");
}
cmp_ok(scalar(grep { defined $_->[2] } @refusals), '>=', 10, 'the demo shows its refusals (ten or more)');

$node->stop;
done_testing();

# Every ```sql block of README.md and docs/*.md runs as written (issue 16).
#
# Each file's blocks run in order, in one psql session (ON_ERROR_STOP, the
# variables they \gset carried from block to block, SET ROLE as they say), in a
# fresh database of a node of their own, where smam is installed unless the
# file creates it itself; psql runs from the top of the source tree, so a block
# may read test/data/ with \set x `cat ...`. One test per block: it passes when
# the block runs to its end and every refusal it announces is raised with the
# SQLSTATE it names. Markers, comments inside a block (docs/developing.md):
#
#   -- expect: ERROR 42501   the next statement is refused with that SQLSTATE
#   -- fragment: <why>       the block is a shape or an excerpt: skipped, why printed
#   -- needs: pg_cron        run only where pg_cron is installed (preloaded here)
#   -- set-up: <SQL>         SQL the test runs there (psql skips the comment)
#
# docs/lifecycle.md is the walk of one account through the Standard: after it
# runs, the account is checked to have reached every stage, by the offices the
# Standard names, with the records each step leaves.
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
my @files = ('README.md', map { s{^\Q$top\E/}{}r } sort glob("$top/docs/*.md"));
ok(-f "$top/README.md" && @files > 1, "the docs are in $top") or BAIL_OUT('no docs to read');

my $marker = qr/^\s*--\s*(?:expects?|expected|fragments?|set-?up|needs?)\s*:/i;
my $ends   = qr/(?:;\s*(?:--.*)?|\\g\w*(?:\s.*)?)$/;    # the last line of a statement

# The ```sql blocks of a file: [{line, lines, fragment, needs, problem}].
sub blocks_of
{
	my ($file) = @_;
	open my $fh, '<', "$top/$file" or die "cannot read $top/$file: $!";
	my (@blocks, $cur, $other);
	while (my $l = <$fh>)
	{
		chomp $l;
		if (!$cur && $l =~ /^```sql\s*$/) { $cur = { line => $. + 1, lines => [], needs => [] }; next; }
		if ($cur && $l =~ /^```\s*$/) { push @blocks, $cur; undef $cur; next; }
		if ($cur) { push @{ $cur->{lines} }, $l; next; }
		# Another fence (sh, json, none): SQL in it would go unchecked.
		if (!$cur && $l =~ /^```(\S*)\s*$/) { $other = defined $other ? undef : [ $., $1 ]; next; }
		die "$file:$other->[0]: SQL in a block tagged '$other->[1]' is never run; tag it ```sql\n"
		  if $other && $l =~ /^\s*(?:SELECT|CREATE|INSERT|UPDATE|DELETE|ALTER|GRANT|SET|WITH|COPY|DO)\b/i;
	}
	die "$file: a ```sql block is not closed\n" if $cur;
	for my $b (@blocks)
	{
		for my $l (@{ $b->{lines} })
		{
			next unless $l =~ $marker;
			if    ($l =~ /^\s*-- fragment: (\S.*)$/)  { $b->{fragment} = $1; }
			elsif ($l =~ /^\s*-- needs: (pg_cron)\s*$/) { push @{ $b->{needs} }, $1; }
			elsif ($l =~ /^\s*-- expect: ERROR [0-9A-Z]{5}\b/ || $l =~ /^\s*-- set-up: \S/) { }
			else { $b->{problem} //= "a marker this test does not know: '$l'"; }
		}
	}
	return @blocks;
}

# The psql script of a file's blocks, and for each line of it the line of the
# file it came from.
sub script_of
{
	my ($file, @blocks) = @_;
	my (@out, @from);
	my $emit = sub { my ($text, $line) = @_; push @out, $text; push @from, $line; };
	for my $i (0 .. $#blocks)
	{
		my $b = $blocks[$i];
		next if $b->{skip};
		$emit->("\\echo '\@\@begin $i'", $b->{line});
		my @lines = @{ $b->{lines} };
		for (my $k = 0; $k <= $#lines; $k++)
		{
			my $line = $b->{line} + $k;
			if ($lines[$k] =~ /^\s*-- set-up: (.*)$/) { $emit->($1, $line); next; }
			$emit->($lines[$k], $line);
			next unless $lines[$k] =~ /^\s*-- expect: ERROR ([0-9A-Z]{5})\b/;
			my $want = $1;
			my $first = $k + 1;
			$first++ while $first <= $#lines && $lines[$first] =~ /^\s*$/;
			my $last = $first;
			$last++ while $last <= $#lines && $lines[$last] !~ $ends;
			if ($first > $#lines || $last > $#lines || $lines[$first] =~ /^\s*--/)
			{
				$b->{problem} //= "line $line: no statement follows '-- expect:'";
				next;
			}
			$emit->('\set ON_ERROR_STOP 0', $line);
			$emit->($lines[$_], $b->{line} + $_) for $k + 1 .. $last;
			$emit->('\set ON_ERROR_STOP 1', $line);
			$emit->("\\echo '\@\@expect $i $line $want' :SQLSTATE", $line);
			$k = $last;
		}
		$emit->("\\echo '\@\@end $i'", $b->{line} + $#lines);
	}
	return (join("\n", @out) . "\n", \@from);
}

my %after = ('docs/lifecycle.md' => \&check_walk);
my $n = 0;
for my $file (@files)
{
	my @blocks = eval { blocks_of($file) };
	if ($@) { fail($@ =~ s/\n\z//r); next; }
	next unless @blocks;
	my $node = SmamTest->new('docs' . $n++);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE smam_docs');
	my $cron = $node->safe_psql('postgres', q{SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_cron'});
	if (grep { grep { $_ eq 'pg_cron' } @{ $_->{needs} } } @blocks)
	{
		if ($cron)
		{
			$node->append_conf('postgresql.conf',
				"shared_preload_libraries = 'smam,pg_cron'\ncron.database_name = 'smam_docs'\n");
			$node->restart;
		}
	}
	for my $b (@blocks)
	{
		if (defined $b->{fragment}) { $b->{skip} = "fragment: $b->{fragment}"; }
		elsif (@{ $b->{needs} } && !$cron) { $b->{skip} = 'needs: pg_cron, which is not installed'; }
	}
	$node->safe_psql('smam_docs', 'CREATE EXTENSION smam')
	  unless grep { !$_->{skip} && join("\n", @{ $_->{lines} }) =~ /CREATE EXTENSION (?:IF NOT EXISTS )?smam\b/i } @blocks;

	my ($script, $from) = script_of($file, @blocks);
	my ($out, $err) = ('', '');
	IPC::Run::run([ $node->installed_command('psql'), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
			'-d', $node->connstr('smam_docs'), '-f', '-' ],
		'<', \$script, '>', \$out, '2>', \$err, init => sub { chdir $top or die "chdir $top: $!" });
	# psql's messages name the line of the script: name the file's instead.
	$err =~ s{psql:<stdin>:(\d+):}{"$file:" . ($from->[$1 - 1] // "?") . ":"}ge;
	# The error that stopped psql is the last one it printed (the refusals
	# announced come before it).
	my $stop = $err =~ /.*^(\Q$file\E:[\d?]+: (?!(?:warning|NOTICE|WARNING|INFO|LOG|DEBUG)\b).*)\z/ms ? $1 : $err;
	my (%begun, %ended, %expect);
	for (split /\n/, $out)
	{
		$begun{$1} = 1 if /^\@\@begin (\d+)$/;
		$ended{$1} = 1 if /^\@\@end (\d+)$/;
		push @{ $expect{$1} }, [ $2, $3, $4 ] if /^\@\@expect (\d+) (\d+) (\S+) (\S+)$/;
	}
	for my $i (0 .. $#blocks)
	{
		my $b    = $blocks[$i];
		my $name = "$file:$b->{line}";
		if ($b->{problem}) { fail("$name: its markers are wrong: $b->{problem}"); next; }
		if ($b->{skip}) { SKIP: { skip("$name: $b->{skip}", 1); } next; }
		my @wrong = map { "line $_->[0]: expected ERROR $_->[1], got " . ($_->[2] eq '00000' ? 'no error' : "SQLSTATE $_->[2]") }
		  grep { $_->[1] ne $_->[2] } @{ $expect{$i} // [] };
		my $announced = () = join("\n", @{ $b->{lines} }) =~ /^\s*-- expect: ERROR/mg;
		push @wrong, "only " . scalar(@{ $expect{$i} // [] }) . " of its $announced refusals were tried"
		  if $ended{$i} && @{ $expect{$i} // [] } != $announced;
		ok($ended{$i} && !@wrong, "$name runs as written"
			  . ($announced == 1 ? ', its refusal refused' : $announced ? ", its $announced refusals refused" : ''))
		  or diag(!$begun{$i} ? "not run: an earlier block stopped the session\n"
			: !$ended{$i} ? "stopped by an error:\n$stop"
			: join("\n", @wrong) . "\n");
	}
	$after{$file}->($node) if $after{$file};
	$node->stop;
}

# docs/lifecycle.md: one account, planned, created, configured, approved,
# listed, evaluated, changed live, disposed of and archived, each step by the
# office the Standard names; a report on it, and a corrective action.
sub check_walk
{
	my ($node) = @_;
	my $q = sub { $node->safe_psql('smam_docs', $_[0]) };
	my $account = $q->(q{SELECT account_id FROM smam.stage_history GROUP BY account_id
	                     HAVING string_agg(to_stage::text, ' ' ORDER BY id) LIKE 'planning creation configuration implementation evaluation implementation%disposition disposed'
	                     ORDER BY account_id LIMIT 1});
	ok($account, 'the walk takes one account from planning to disposed, through every stage')
	  or return diag($q->(q{SELECT string_agg(account_id || ':' || to_stage, ' ' ORDER BY id) FROM smam.stage_history}));
	is($q->(qq{SELECT string_agg(to_stage || ' by ' || office, ', ' ORDER BY id) FROM smam.stage_history
	          WHERE account_id = $account AND from_stage IS NOT NULL AND to_stage IN ('creation', 'configuration', 'disposition', 'disposed')}),
		'creation by entity_official, configuration by entity_official, disposition by entity_official, disposed by entity_official',
		'the entity creates, configures and disposes of it (6.2.2)');
	is($q->(qq{SELECT string_agg(DISTINCT office::text, ',') FROM smam.stage_history
	          WHERE account_id = $account AND to_stage IN ('implementation', 'evaluation') AND from_stage IS NOT NULL}),
		'head_of_communications', 'the head of communications approves it and evaluates it (6.1.2)');
	is($q->(qq{SELECT count(*) FROM smam.stage_history h JOIN pg_roles r ON r.rolname = h.moved_by
	          WHERE h.account_id = $account AND (r.rolsuper OR NOT r.rolcanlogin)}),
		'0', 'every move is made by a login role acting in its office, none by a superuser');
	is($q->(qq{SELECT count(*) FROM smam.account_approval WHERE account_id = $account}), '1',
		'its approval is recorded with the plan (6.1.2)');
	is($q->(qq{SELECT count(*) FROM smam.submission WHERE account_id = $account AND consumed_at IS NOT NULL
	          AND (kind, consumed_stage) IN (('creation', 'creation'), ('configuration', 'configuration'),
	                                         ('configuration', 'implementation'), ('disposition', 'disposition'))}),
		'4', 'each step used up its accepted submission, the live change included (6.1.3)');
	is($q->(qq{SELECT count(*) FROM smam.evaluation WHERE account_id = $account AND completed_at IS NOT NULL}), '1',
		'it was evaluated, with findings');
	is($q->(qq{SELECT count(*) FROM smam.archive WHERE account_id = $account}), '1', 'its archive is recorded');
	is($q->(qq{SELECT count(*) FROM smam.index_snapshot_entry WHERE account_id = $account}), '1',
		'the published index listed it while it was live (6.2.4)');
	is($q->(q{SELECT string_agg(intact || '/' || reproduced, ',') FROM smam.compliance_report r,
	          LATERAL smam.reproduce_report(r.id) x}), 'true/true',
		'the deputy head reported on compliance, and the report reproduces (7.1.2)');
	is($q->(q{SELECT count(*) FROM smam.corrective_action a WHERE a.completed_at IS NOT NULL
	          AND EXISTS (SELECT 1 FROM smam.corrective_measure m WHERE m.action_id = a.id)}), '1',
		'TBS recommended a corrective action and the department completed it (7.2.2, 8.1)');
	return;
}

done_testing();

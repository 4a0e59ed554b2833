#!/usr/bin/perl
# Runs pgTAP (.sql) and Perl TAP (.pl) test files with TAP::Harness, the
# engine pg_prove uses, and prints the counts of assertions passed and
# failed; a file that dies or breaks its plan counts as one more failure.
# --dbname names the database the pgTAP files run in (created here), and
# --label the pass, which prefixes every file's name in the output
# ("[tcp] test/pgtap/90_audit.sql"), so that a failure says which pass it was in.
use strict;
use warnings;
use File::Path qw(make_path);
use Getopt::Long;
use TAP::Harness;

my ($psql, $dir, $dbname, $label) = ('psql', '.', 'smam_tap', '');
GetOptions('psql=s' => \$psql, 'dir=s' => \$dir, 'dbname=s' => \$dbname, 'label=s' => \$label)
  or die "usage\n";
chdir $dir or die "cannot chdir to $dir: $!\n";
# PostgreSQL::Test::Utils logs under $TESTDIR/tmp_check, and creates only the last two levels.
if ($ENV{TESTDIR}) { make_path($ENV{TESTDIR}) unless -d $ENV{TESTDIR}; }
my @files = @ARGV;
my %alias = map { $_ => ($label ne '' ? "[$label] $_" : $_) } @files;

my $harness = TAP::Harness->new({
    verbosity => ($ENV{SMAM_TAP_VERBOSE} ? 1 : 0),
    timer     => 1,
    merge     => 1,
    color     => 0,
    failures  => 1,
    sources   => {
        pgTAP => {
            psql     => $psql,
            dbname   => $dbname,
            username => $ENV{PGUSER} // 'postgres',
            host     => $ENV{PGHOST},
            port     => $ENV{PGPORT},
        },
        Perl => {},
    },
});

# The pgTAP files' database. -w: over TCP a missing password fails here,
# instead of psql asking for one.
if (grep { /\.sql$/ } @files) {
    system($psql, '-X', '-q', '-w', '-d', 'postgres', '-c', qq{CREATE DATABASE "$dbname"}) == 0
        or die "could not create database $dbname\n";
}

my $agg = $harness->runtests(map { [ $_, $alias{$_} ] } @files);
my ($passed, $failed) = (0, 0);
for my $file (@files) {
    my ($parser) = $agg->parsers($alias{$file});
    unless ($parser) { $failed++; next; }    # never ran: a failure, not nothing
    my $p = scalar($parser->passed);
    my $f = scalar($parser->failed);
    $f++ if $f == 0 && ($parser->has_problems || $parser->tests_run == 0);
    $passed += $p;
    $failed += $f;
}
print "HARNESS $passed $failed\n";

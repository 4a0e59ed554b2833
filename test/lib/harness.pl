#!/usr/bin/perl
# Runs pgTAP (.sql) and Perl TAP (.pl) test files with TAP::Harness, the
# engine pg_prove uses, and prints the counts of assertions passed and
# failed; a file that dies or breaks its plan counts as one more failure.
use strict;
use warnings;
use Getopt::Long;
use TAP::Harness;

my ($psql, $dir) = ('psql', '.');
GetOptions('psql=s' => \$psql, 'dir=s' => \$dir) or die "usage\n";
chdir $dir or die "cannot chdir to $dir: $!\n";
# PostgreSQL::Test::Utils logs under $TESTDIR/tmp_check, and creates only the last two levels.
if ($ENV{TESTDIR}) { mkdir $ENV{TESTDIR} unless -d $ENV{TESTDIR}; }
my @files = @ARGV;

my $harness = TAP::Harness->new({
    verbosity => ($ENV{SMAM_TAP_VERBOSE} ? 1 : 0),
    timer     => 1,
    merge     => 1,
    color     => 0,
    failures  => 1,
    sources   => {
        pgTAP => {
            psql     => $psql,
            dbname   => 'smam_tap',
            username => $ENV{PGUSER} // 'postgres',
            host     => $ENV{PGHOST},
            port     => $ENV{PGPORT},
        },
        Perl => {},
    },
});

system($psql, '-X', '-q', '-d', 'postgres', '-c', 'CREATE DATABASE smam_tap') == 0
    or die "could not create database smam_tap\n";

my $agg = $harness->runtests(@files);
my ($passed, $failed) = (0, 0);
for my $file (@files) {
    my ($parser) = $agg->parsers($file);
    next unless $parser;
    my $p = scalar($parser->passed);
    my $f = scalar($parser->failed);
    $f++ if $f == 0 && ($parser->has_problems || $parser->tests_run == 0);
    $passed += $p;
    $failed += $f;
}
print "HARNESS $passed $failed\n";

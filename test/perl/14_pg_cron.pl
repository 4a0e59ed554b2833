# smam's pg_cron recipes, run by pg_cron (issue 19): the set-up
# docs/publishing.md gives (pg_cron preloaded, cron.database_name, jobs in
# background workers), its recipe block run as written, then every job made
# due each minute and waited for: each must have succeeded, as the role the
# recipe schedules it as, in cron.job_run_details.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $src = $ENV{SMAM_SRC} // die "SMAM_SRC is not set\n";
my $node = SmamTest->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'smam,pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
});
$node->start;

# The recipe block of docs/publishing.md, as written.
open my $fh, '<', "$src/docs/publishing.md" or die "docs/publishing.md: $!";
my ($in, $block, $recipes) = (0, '', undef);
while (<$fh>) {
    if (!$in && /^```sql\s*$/) { ($in, $block) = (1, ''); next }
    if ($in && /^```\s*$/) {
        $in = 0;
        if (!defined $recipes && $block =~ /cron\.schedule/) { $recipes = $block }
        next;
    }
    $block .= $_ if $in;
}
close $fh;
ok(defined $recipes, 'docs/publishing.md has its pg_cron recipes') or BAIL_OUT('no recipes');

$node->safe_psql('postgres', 'CREATE EXTENSION smam');
my ($rc, $out, $err) = $node->psql('postgres', $recipes, extra_params => ['-v', 'ON_ERROR_STOP=1']);
is($rc, 0, 'the recipes run as written') or diag($err);
my @jobs = split /\n/, $node->safe_psql('postgres', q{SELECT jobname || ' ' || username FROM cron.job ORDER BY jobname});
is(join(', ', @jobs), 'smam-attempts-purge postgres, smam-dispatch smam_cron, smam-link-check smam_cron, smam-metrics smam_cron',
   'four jobs, smam\'s steps scheduled as smam_cron, the purge as a superuser');

# Every job due each minute from now, then wait for a run of each.
$node->safe_psql('postgres', q{SELECT cron.alter_job(jobid, schedule => '* * * * *') FROM cron.job});
my $done = $node->poll_query_until('postgres', q{
  SELECT count(DISTINCT d.jobid) = (SELECT count(*) FROM cron.job)
    FROM cron.job_run_details d WHERE d.status IN ('succeeded', 'failed')}, 't');
ok($done, 'pg_cron ran every job within the wait');
is($node->safe_psql('postgres', q{
  SELECT string_agg(j.jobname || ': ' || d.status || coalesce(' (' || d.return_message || ')', ''), '; ' ORDER BY j.jobname)
    FROM cron.job j JOIN LATERAL (SELECT * FROM cron.job_run_details x WHERE x.jobid = j.jobid
                                   ORDER BY x.start_time DESC LIMIT 1) d ON true}),
   'smam-attempts-purge: succeeded (DELETE 0); smam-dispatch: succeeded (DO); smam-link-check: succeeded (SELECT 1); smam-metrics: succeeded (SELECT 1)',
   'each succeeded, in cron.job_run_details');

$node->stop;
done_testing();

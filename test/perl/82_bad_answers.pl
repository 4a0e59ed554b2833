# A platform that answers badly: JSON with \u0000, arrays 200,000 deep, a
# number of a million digits, bytes that are not UTF-8, an object where the
# post id should be, a 300-character id, an error in ISO-8859-1, a Location
# in ISO-8859-1. Each answer fails its own delivery or metrics pull with the
# reason, never the batch: smam.dispatch() settles the batch and sends
# nothing twice; the worker neither crashes nor sends again; pull_metrics()
# keeps the good pulls; no delivery goes past smam.retry_limit, even when
# its sender died; what is stored is valid UTF-8, and the database's dump
# restores.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $src = $ENV{SMAM_SRC} // '.';
my $tmp = PostgreSQL::Test::Utils::tempdir();
my ($portfile, $log) = ("$tmp/port", "$tmp/requests.log");
my $server = fork // die "fork: $!";
if ($server == 0) { exec 'perl', "$src/test/lib/http_server.pl", $portfile, $log or die "exec: $!" }
END { kill 'TERM', $server if $server }
for (1 .. 100) { last if -s $portfile; sleep 0.1 }
open my $pfh, '<', $portfile or die "the test server did not start";
chomp(my $port = <$pfh>);

sub sent {    # how many requests carried the key
    my ($key) = @_;
    open my $fh, '<', $log or return 0;
    my $n = 0;
    while (<$fh>) { my @f = split /\t/; $n++ if defined $f[2] && $f[2] eq $key }
    return $n;
}

my $node = PostgreSQL::Test::Cluster->new('answers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'smam'
smam.worker_databases = 'postgres'
smam.retry_limit = 3
smam.retry_base_delay = '200ms'
smam.worker_restart_delay = 1
});
$node->start;

# Two databases alike: the worker publishes in postgres; in disp nothing
# but smam.dispatch() does.
my @bad = qw(nulone deepone hugeone latinone objidone longidone latinerrone);
my %acct;
$node->safe_psql('postgres', q{
  CREATE DATABASE disp;
  CREATE ROLE b_admin LOGIN; CREATE ROLE b_staff LOGIN; CREATE ROLE b_head LOGIN;});
for my $db ('postgres', 'disp') {
    $node->safe_psql($db, qq{
      CREATE EXTENSION smam;
      GRANT smam_admin TO b_admin; GRANT smam_department TO b_staff, b_head;
      SELECT smam.register_principal('b_admin', 'Admin', 'ba\@example.gc.ca');
      SELECT smam.appoint('b_admin', 'administrator', NULL, '2020-01-01');
      SELECT smam.add_department('Department of Answers');
      SELECT smam.register_principal('b_staff', 'Staff', 'bs\@example.gc.ca', 1);
      SELECT smam.register_principal('b_head', 'Head', 'bh\@example.gc.ca', 1);
      SELECT smam.appoint('b_staff', 'department_staff', 1, '2020-01-01');
      SELECT smam.appoint('b_head', 'head_of_communications', 1, '2020-01-01');
      SELECT smam.set_connector('x', 'http://127.0.0.1:$port', '/publish/{{handle}}',
        header_templates => ARRAY['Authorization: Bearer {{token}}'],
        body_template => '{"text": {{text}}}', post_id_path => '{data,id}',
        metrics_path => '/metrics/{{handle}}', profile_url => 'http://127.0.0.1:$port/profile/{{handle}}',
        allowed_networks => '{127.0.0.1/32}');});
    for my $h ('okgood', @bad, 'latinmoved') {
        $acct{$db}{$h} = $node->safe_psql($db, "SELECT smam.onboard_account(1, 'x', 'https://x.com/$h', 'N', 'N', 'english', 'test')");
        $node->safe_psql($db, "SET ROLE b_head; SELECT smam.set_credential($acct{$db}{$h}, 'tok-$h')");
    }
}

sub publish {
    my ($db, $when, @handles) = @_;
    my $accounts = join ',', map { $acct{$db}{$_} } @handles;
    my $post = $node->safe_psql($db, qq{SET ROLE b_staff;
      SELECT smam.create_post(smam.add_content_item(1, 'item', 'Hello', 'Bonjour'), ARRAY[$accounts]::bigint[], $when)});
    $node->safe_psql($db, "SET ROLE b_staff; SELECT smam.submit_post($post); RESET ROLE;
                           SET ROLE b_head; SELECT smam.approve_post($post); SELECT smam.schedule_post($post)");
    return $post;
}
sub row {    # status|attempts|sqlstate|post id|error|key of the delivery to the account
    my ($db, $post, $h) = @_;
    return [split /\|/, $node->safe_psql($db, qq{
      SELECT status || '|' || attempts || '|' || coalesce(last_sqlstate, '') || '|' || coalesce(platform_post_id, '')
             || '|' || coalesce(last_error, '') || '|' || idempotency_key
        FROM smam.delivery WHERE post_id = $post AND account_id = $acct{$db}{$h}}), -1];
}
my %expect = (    # what becomes of each: status, sqlstate, post id, error
    okgood      => ['delivered', '00000', qr/^post-\d+$/, qr/^$/],
    hugeone     => ['delivered', '00000', qr/^1e1000000$/, qr/^$/],
    nulone      => ['dead', '22P02', qr/^$/, qr/answered HTTP 200 but smam cannot read its answer: the answer is not JSON smam can read: .*\\u0000/],
    deepone     => ['dead', '22P02', qr/^$/, qr/the answer nests deeper than 64 levels; the post may be published/],
    latinone    => ['dead', '22P02', qr/^$/, qr/the answer is not valid UTF8/],
    objidone    => ['dead', '22P02', qr/^$/, qr/the post id the connector names is a JSON object or array, not a short value/],
    longidone   => ['dead', '22P02', qr/^$/, qr/is not 1 to 128 visible ASCII characters/],
    latinerrone => ['dead', '22023', qr/^$/, qr/rejected the request \(HTTP 400\)/]);
sub judged {
    my ($db, $post, $how) = @_;
    for my $h ('okgood', @bad) {
        my $r = row($db, $post, $h);
        my ($status, $state, $id, $error) = @{ $expect{$h} };
        is("$r->[0] $r->[1] $r->[2]", "$status 1 $state", "$how: $h is $status at its first attempt ($state)");
        ok($r->[3] =~ $id && $r->[4] =~ $error, "$how: $h: post id and reason") or diag("@$r");
        is(sent($r->[5]), 1, "$how: $h was sent once");
    }
}

# ---- smam.dispatch() ----
my $post = publish('disp', 'now()', 'okgood', @bad);
is($node->safe_psql('disp', 'SET ROLE b_admin; SELECT smam.dispatch()'), scalar(@bad) + 1,
   'smam.dispatch() settles the whole batch, bad answers and all');
judged('disp', $post, 'dispatch');
is($node->safe_psql('disp', 'SET ROLE b_admin; SELECT smam.dispatch()'), '0', 'a second dispatch finds nothing to send');
is($node->safe_psql('disp', "SELECT status FROM smam.post WHERE id = $post"), 'failed', 'the post with dead deliveries failed');

# ---- the worker ----
my $pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'");
ok($pid, 'the worker runs');
my $wpost = publish('postgres', 'now()', 'okgood', @bad);
my $deadline = time + 30;
sleep 0.1 while time < $deadline
  && $node->safe_psql('postgres', "SELECT count(*) FROM smam.delivery WHERE post_id = $wpost AND status IN ('pending', 'sending')") ne '0';
judged('postgres', $wpost, 'worker');
sleep 1;
is($node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'"), $pid,
   'the worker did not crash: the same process');
like(slurp_file($node->logfile), qr/^(?!.*terminated by signal)/s, 'no backend died on a bad answer');

# ---- never past smam.retry_limit (3), whatever happened to the sender ----
my $p3 = publish('disp', "now() + interval '1 hour'", 'okgood');
my $k3 = row('disp', $p3, 'okgood')->[5];
$node->safe_psql('disp', qq{
  UPDATE smam.delivery SET status = 'sending', attempts = 3, claimed_pid = 999999, claimed_by_start = now(),
         claimed_at = now(), next_attempt_at = now() WHERE post_id = $p3});
$node->safe_psql('disp', 'SET ROLE b_admin; SELECT smam.dispatch()');
my $r3 = row('disp', $p3, 'okgood');
is("$r3->[0] $r3->[1] $r3->[2]", 'dead 3 57P01', 'a lost delivery that used its 3 attempts is dead, not sent a fourth time');
like($r3->[4], qr/gave up after 3 attempts \(smam\.retry_limit\)/, '... and says so');
is(sent($k3), 0, '... nothing was sent');
is($node->safe_psql('disp', "SELECT status FROM smam.post WHERE id = $p3"), 'failed', '... and its post is settled');
my $p4 = publish('disp', "now() + interval '1 hour'", 'okgood');
my $k4 = row('disp', $p4, 'okgood')->[5];
$node->safe_psql('disp', "UPDATE smam.delivery SET attempts = 5, next_attempt_at = now() WHERE post_id = $p4");
$node->safe_psql('disp', 'SET ROLE b_admin; SELECT smam.dispatch()');
my $r4 = row('disp', $p4, 'okgood');
is("$r4->[0] $r4->[1]", 'dead 5', 'a pending delivery beyond a lowered smam.retry_limit is dead, its attempts not counted up');
is(sent($k4), 0, '... and not sent');

# ---- metrics ----
is($node->safe_psql('disp', 'SET ROLE b_admin; SELECT smam.pull_metrics()'), scalar(@bad) + 2 - 4,
   'pull_metrics() reads every account whose answer can be read, whatever the others answered');
is($node->safe_psql('disp', "SELECT string_agg(metric || '=' || value, ',' ORDER BY metric) FROM smam.account_metric WHERE account_id = $acct{disp}{okgood}"),
   'engagements=87,followers=120,impressions=3400', 'the good answer\'s metrics are kept');
for my $m (['nulone', '22P02', qr/not JSON smam can read/], ['deepone', '22P02', qr/nests deeper than 64 levels/],
           ['hugeone', '22003', qr/metric "followers" is 1e1000000, a number smam cannot keep/],
           ['latinone', '22P02', qr/not valid UTF8/]) {
    my ($h, $state, $why) = @$m;
    my ($s, $e) = split /\|/, $node->safe_psql('disp', "SELECT sqlstate || '|' || error FROM smam.metric_pull WHERE account_id = $acct{disp}{$h}");
    is($s, $state, "metrics of $h: the pull failed ($state)");
    like($e, $why, "metrics of $h: with the reason");
    is($node->safe_psql('disp', "SELECT count(*) FROM smam.account_metric WHERE account_id = $acct{disp}{$h}"), '0',
       "metrics of $h: nothing kept");
}

# ---- bytes that are not UTF-8, stored checked ----
$node->safe_psql('disp', 'SET ROLE b_admin; SELECT smam.check_account_urls()');
is($node->safe_psql('disp', "SELECT outcome FROM smam.account_url_check WHERE account_id = $acct{disp}{latinmoved}"),
   'redirected', 'a redirect to a Location in ISO-8859-1 is a finding');
like($node->safe_psql('disp', "SELECT location FROM smam.account_url_check WHERE account_id = $acct{disp}{latinmoved}"),
     qr{^https://elsewhere\.example/caf.*xE9$}, '... its Location kept with the byte written \\xE9');
is($node->safe_psql('disp', q{
  SELECT count(*) FROM (SELECT location AS t FROM smam.account_url_check UNION ALL SELECT error FROM smam.account_url_check
                        UNION ALL SELECT last_error FROM smam.delivery UNION ALL SELECT error FROM smam.delivery_attempt
                        UNION ALL SELECT remote_address FROM smam.delivery_attempt UNION ALL SELECT error FROM smam.metric_pull
                        UNION ALL SELECT new_values::text FROM smam.audit_log) s
   WHERE t IS NOT NULL AND (convert_from(convert_to(t, 'UTF8'), 'UTF8') <> t OR t ~ '[\x01-\x08\x0b\x0c\x0e-\x1f]')}),
   '0', 'every text stored from the network is valid UTF-8, without control characters');
my $dump = "$tmp/disp.sql";
command_ok(['pg_dump', '-h', $node->host, '-p', $node->port, '-d', 'disp', '-f', $dump], 'pg_dump of the database');
$node->safe_psql('postgres', 'CREATE DATABASE disp_copy');
my ($rc, $out, $err) = $node->psql('disp_copy', undef, extra_params => ['-v', 'ON_ERROR_STOP=1', '-f', $dump]);
is($rc, 0, 'the dump restores') or diag($err);
is($node->safe_psql('disp_copy', "SELECT location FROM smam.account_url_check WHERE account_id = $acct{disp}{latinmoved}"),
   $node->safe_psql('disp', "SELECT location FROM smam.account_url_check WHERE account_id = $acct{disp}{latinmoved}"),
   '... with the Location as it was');

$node->stop;
done_testing();

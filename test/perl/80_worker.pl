# The publishing worker against the loopback test server: delivery in the
# account's official language, every retry path and dead deliveries,
# idempotency keys, waking at commit, settings reloaded on SIGHUP, the
# worker killed with SIGKILL mid-batch and the server restarted losing no
# delivery, and a streaming standby whose worker stays idle until promoted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;
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
my $closed = do {    # a port nobody listens on
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0);
    my $p = $s->sockport; close $s; $p;
};

sub requests {       # key => [paths and bodies received]
    my %by_key;
    open my $fh, '<', $log or return {};
    while (<$fh>) { chomp; my @f = split /\t/, $_, -1; push @{ $by_key{ $f[2] } }, \@f if $f[2] }
    return \%by_key;
}

my $node = SmamTest->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'smam'
smam.worker_databases = 'postgres'
smam.retry_base_delay = '200ms'
smam.retry_max_delay = '1s'
smam.retry_limit = 3
smam.http_timeout = '1500ms'
smam.worker_restart_delay = 1
restart_after_crash = on
});
$node->start;

$node->safe_psql('postgres', qq{
  CREATE EXTENSION smam;
  CREATE ROLE w_admin LOGIN; CREATE ROLE w_staff LOGIN; CREATE ROLE w_head LOGIN;
  GRANT smam_admin TO w_admin; GRANT smam_department TO w_staff, w_head;
  SELECT smam.register_principal('w_admin', 'Admin', 'wa\@example.gc.ca');
  SELECT smam.appoint('w_admin', 'administrator', NULL, '2020-01-01');
  SET ROLE w_admin;
  SELECT smam.add_department('Department of Workers');
  SELECT smam.register_principal('w_staff', 'Staff', 'ws\@example.gc.ca', 1);
  SELECT smam.register_principal('w_head', 'Head', 'wh\@example.gc.ca', 1);
  SELECT smam.appoint('w_staff', 'department_staff', 1, '2020-01-01');
  SELECT smam.appoint('w_head', 'head_of_communications', 1, '2020-01-01');
  RESET ROLE;
  -- allowed_networks (loopback here) are a superuser's to set
  SELECT smam.set_connector('x', 'http://127.0.0.1:$port', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'],
    body_template => '{"text": {{text}}, "account": {{account_id}}}', post_id_path => '{data,id}',
    allowed_networks => '{127.0.0.1/32}');
  SELECT smam.set_connector('facebook', 'http://127.0.0.1:$closed', '/publish/{{handle}}',
    body_template => '{"message": {{text}}}', allowed_networks => '{127.0.0.1/32}');
  -- https to the plain-HTTP test server: the TLS handshake cannot succeed
  SELECT smam.set_connector('instagram', 'https://127.0.0.1:$port', '/publish/{{handle}}',
    body_template => '{"caption": {{text}}}', allowed_networks => '{127.0.0.1/32}');
  RESET ROLE;
});
my %acct;
for my $a (['okone', 'english'], ['okfr', 'french'], ['okbi', 'bilingual'], ['failone', 'english'],
           ['busyone', 'english'], ['slowone', 'english'], ['badone', 'english'], ['flakyone', 'english'],
           ['deniedone', 'english'], ['bigone', 'english'], ['hopone', 'english'], ['fb:okclosed', 'english'],
           ['ig:oktls', 'english'])
{
    my ($h, $lang) = @$a;
    my $url = $h =~ s/^fb:// ? "https://www.facebook.com/$h" : $h =~ s/^ig:// ? "https://www.instagram.com/$h" : "https://x.com/$h";
    $acct{$h} = $node->safe_psql('postgres', qq{
      SELECT smam.onboard_account(1, NULL, '$url', 'N', 'N', '$lang', 'test')});
    $node->safe_psql('postgres', "SELECT smam.set_credential($acct{$h}, 'tok-$h')");
}

# Publish through the whole workflow; returns the post id.
our $publish_at = 'now()';
sub publish {
    my ($en, $fr, @handles) = @_;
    my $accounts = join ',', map { $acct{$_} } @handles;
    my $post = $node->safe_psql('postgres', qq{
      SET ROLE w_staff;
      SELECT smam.create_post(smam.add_content_item(1, 'item', '$en', '$fr'), ARRAY[$accounts]::bigint[], $publish_at);});
    $node->safe_psql('postgres', qq{
      SET ROLE w_staff; SELECT smam.submit_post($post); RESET ROLE;
      SET ROLE w_head; SELECT smam.approve_post($post); SELECT smam.schedule_post($post);});
    return $post;
}
sub delivery {
    my ($post, $h) = @_;
    return $node->safe_psql('postgres', qq{
      SELECT status || '|' || attempts || '|' || coalesce(http_status::text, '') || '|' || coalesce(last_sqlstate, '')
             || '|' || coalesce(platform_post_id, '') || '|' || coalesce(last_error, '') || '|' || idempotency_key
        FROM smam.delivery WHERE post_id = $post AND account_id = $acct{$h}});
}
sub settled {
    my ($post, $timeout) = @_;
    my $deadline = time + ($timeout // 60);
    while (time < $deadline) {
        # the server may be restarting after a crash: a failed query is no answer
        my ($rc, $out) = $node->psql('postgres',
            "SELECT count(*) FROM smam.delivery WHERE post_id = $post AND status IN ('pending', 'sending')");
        return 1 if $rc == 0 && $out eq '0';
        sleep 0.1;
    }
    return 0;
}

# ---- every path at once ----
my $post = publish('Hello Canada', 'Bonjour Canada', keys %acct);
ok(settled($post), 'the worker settles every delivery of the post');
my %d = map { $_ => [split /\|/, delivery($post, $_)] } keys %acct;
is("$d{okone}[0] $d{okone}[2]", 'delivered 200', 'a 200 is delivered');
like($d{okone}[4], qr/^post-\d+$/, 'the platform post id is read from the answer ({data,id})');
my $req = requests();
like($req->{ $d{okfr}[6] }[0][5], qr/"text": "Bonjour Canada"/, 'a French account gets the French text');
unlike($req->{ $d{okfr}[6] }[0][5], qr/Hello/, '... and only the French text');
like($req->{ $d{okone}[6] }[0][5], qr/"text": "Hello Canada"/, 'an English account gets the English text');
like($req->{ $d{okbi}[6] }[0][5], qr/Hello Canada\\n\\nBonjour Canada/, 'a bilingual account gets both');
is($req->{ $d{okone}[6] }[0][4], 'Bearer tok-okone', 'the account\'s credential fills the header template');
is("$d{failone}[0] $d{failone}[1] $d{failone}[3]", 'dead 3 58000', '500: retried up to smam.retry_limit, then dead');
like($d{failone}[5], qr/gave up after 3 attempts.*HTTP 500/, '... with its last error');
is("$d{busyone}[0] $d{busyone}[1] $d{busyone}[3]", 'dead 3 53000', '429: retried, then dead');
is($node->safe_psql('postgres', qq{
  SELECT bool_and(retry_at - started_at >= interval '1 s') FROM smam.delivery_attempt a
    JOIN smam.delivery d ON d.id = a.delivery_id
   WHERE d.post_id = $post AND d.account_id = $acct{busyone} AND a.outcome = 'pending'}), 't',
   '429: each retry waits at least Retry-After (1 s), beyond the 200 ms backoff');
is("$d{slowone}[0] $d{slowone}[1] $d{slowone}[3]", 'dead 3 57014', 'a timeout is retried, then dead');
is("$d{badone}[0] $d{badone}[1] $d{badone}[3]", 'dead 1 22023', 'a 400 is not retried');
is("$d{deniedone}[0] $d{deniedone}[1] $d{deniedone}[3]", 'dead 1 28000', 'a 401 is not retried');
is($node->safe_psql('postgres', "SELECT managed_in_tool FROM smam.account_tool_status WHERE account_id = $acct{deniedone}"),
   'f', 'an account whose credentials were refused is no longer managed in the tool');
is($node->safe_psql('postgres', "SELECT smam.managed_in_tool($acct{deniedone}) || ' ' || smam.managed_in_tool($acct{okone})"),
   'false true', 'smam.managed_in_tool() agrees');
is("$d{bigone}[0] $d{bigone}[3]", 'dead 54000', 'an answer larger than smam.http_max_response_size is refused');
is("$d{hopone}[0] $d{hopone}[1] $d{hopone}[3]", 'dead 1 42501', 'a redirect to another host is not followed');
like($d{hopone}[5], qr/a redirect to 127\.0\.0\.2: smam never follows redirects/, '... and the error says where it pointed');
is("$d{flakyone}[0] $d{flakyone}[1]", 'delivered 2', 'a 500 then a 200: delivered on the second attempt');
is("$d{okclosed}[0] $d{okclosed}[1] $d{okclosed}[3]", 'dead 3 08001', 'connection refused: retried, then dead');
is("$d{oktls}[0] $d{oktls}[1] $d{oktls}[3]", 'dead 1 08001', 'https is TLS: a failed handshake is not retried');
like($d{oktls}[5], qr/^TLS with 127\.0\.0\.1 could not be verified/, '... and says so');
is(scalar(@{ $req->{ $d{failone}[6] } }), 3, 'the three attempts carried the same idempotency key');
my $twice = 0;
for my $h (keys %acct) {
    my $n = $req->{ $d{$h}[6] } ? scalar @{ $req->{ $d{$h}[6] } } : 0;
    $twice++ if $n != $d{$h}[1] && $h ne 'okclosed' && $h ne 'oktls';
}
is($twice, 0, 'each delivery reached the server exactly as often as it was attempted, under its own key');
is($node->safe_psql('postgres', "SELECT status FROM smam.post WHERE id = $post"), 'failed',
   'a post with dead deliveries has failed');
is($node->safe_psql('postgres', "SELECT count(*) FROM smam.delivery_attempt WHERE error LIKE '%tok-%'"), '0',
   'no secret in any recorded error');

# ---- woken at commit, not by polling ----
sleep 1;
my $t0 = time;
my $p2 = publish('Quick', 'Vite', 'okone');
ok(settled($p2, 20), 'a new post is delivered');
my $latency = time - $t0;
cmp_ok($latency, '<', 5, "delivered ${latency}s after the commit, though the idle worker sleeps up to 60 s");

# ---- SIGHUP: a longer timeout; then the worker killed mid-batch, and the
# server stopped mid-batch: no delivery lost, none sent twice unless retried
$node->safe_psql('postgres', "ALTER SYSTEM SET smam.http_timeout = '20s'");
$node->reload;
sleep 0.5;
my $worker_before = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'");
my $p_slow = publish('Patience', 'Patience', 'slowone');
ok(settled($p_slow, 30), 'a slow platform (5 s) ...');
is((split /\|/, delivery($p_slow, 'slowone'))[0] . ' ' . (split /\|/, delivery($p_slow, 'slowone'))[1], 'delivered 1',
   '... is delivered at the first attempt: the worker reloaded smam.http_timeout on SIGHUP');
is($node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'"),
   $worker_before, 'the same worker, not a restarted one');

# Interrupts inside the network loop: smam.dispatch() in a session, a slow
# platform, a statement timeout of 1 s.
my $p_int = do { local $publish_at = "now() + interval '1 hour'"; publish('Wait', 'Attente', 'slowone') };
my $t_int = time;
my ($rc_int, $out_int, $err_int) = $node->psql('postgres', qq{
  BEGIN;
  UPDATE smam.delivery SET next_attempt_at = now() WHERE post_id = $p_int;
  SET LOCAL statement_timeout = '1s';
  SELECT smam.dispatch();
  COMMIT;});
like($err_int, qr/canceling statement due to statement timeout/, 'a cancel reaches smam.dispatch() inside the network loop');
cmp_ok(time - $t_int, '<', 4, 'within the second, not after the 5 s answer');
is((split /\|/, delivery($p_int, 'slowone'))[0], 'pending', 'the aborted claim rolled back: the delivery is still pending');
$node->safe_psql('postgres', "SET ROLE w_staff; SELECT smam.cancel_post($p_int, 'test over')");

sub worker_pid {
    return $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'");
}
# Publish to a slow and a fast account; return once the slow request is on
# the wire (the batch holds both until the slow one answers).
sub mid_batch {
    my $p = publish('Slow', 'Lent', 'slowone', 'okone');
    my $key = (split /\|/, delivery($p, 'slowone'))[6];
    for (1 .. 100) {
        last if requests()->{$key}
            && $node->safe_psql('postgres', "SELECT count(*) FROM smam.delivery WHERE post_id = $p AND status = 'sending'") eq '2';
        sleep 0.1;
    }
    return ($p, $key);
}
sub no_loss {
    my ($p, $key, $how) = @_;
    ok(settled($p, 60), "$how: the batch is settled");
    my @slow = split /\|/, delivery($p, 'slowone');
    my @fast = split /\|/, delivery($p, 'okone');
    is("$slow[0] $slow[1] $fast[0] $fast[1]", 'delivered 2 delivered 2',
       "$how: both deliveries of the interrupted batch are delivered, as their second attempt");
    is(scalar(@{ requests()->{$key} }), 2, "$how: the receiver saw the slow one twice, under one idempotency key");
    is($node->safe_psql('postgres', qq{
      SELECT string_agg(coalesce(sqlstate, '') || ':' || outcome, ',' ORDER BY attempt) FROM smam.delivery_attempt a
        JOIN smam.delivery d ON d.id = a.delivery_id WHERE d.post_id = $p AND d.account_id = $acct{slowone}}),
       '57P01:pending,00000:delivered', "$how: the interrupted attempt is on record");
}

my ($p3, $key3) = mid_batch();
my $old = worker_pid();
ok($old && kill('KILL', $old), 'the worker is killed with SIGKILL mid-batch');
no_loss($p3, $key3, 'after the crash');
my $new = worker_pid();
ok($new && $new ne $old, 'the postmaster restarted the worker after the crash');

my ($p4, $key4) = mid_batch();
$node->stop('immediate');
$node->start;
no_loss($p4, $key4, 'after an immediate stop and a restart of the server');
is($node->safe_psql('postgres', "SELECT count(*) FROM smam.delivery WHERE status IN ('pending', 'sending')"), '0',
   'no delivery is left behind');

# ---- link check and metrics ----
$node->safe_psql('postgres', qq{
  SET ROLE w_admin;
  SELECT smam.set_connector('x', 'http://127.0.0.1:$port', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'],
    body_template => '{"text": {{text}}, "account": {{account_id}}}', post_id_path => '{data,id}',
    metrics_path => '/metrics/{{handle}}', profile_url => 'http://127.0.0.1:$port/profile/{{handle}}',
    allowed_networks => '{127.0.0.1/32}');
  SELECT smam.set_connector('facebook', 'http://127.0.0.1:$closed', '/publish/{{handle}}',
    profile_url => 'http://127.0.0.1:$closed/profile/{{handle}}', allowed_networks => '{127.0.0.1/32}');});
for my $h ('gonedept', 'moveddept') {
    $acct{$h} = $node->safe_psql('postgres', "SELECT smam.onboard_account(1, 'x', 'https://x.com/$h', 'N', NULL, 'english', 'test')");
}
is($node->safe_psql('postgres', 'SET ROLE w_admin; SELECT smam.check_account_urls()'), '2',
   'the link check finds two accounts: one gone, one redirected');
is($node->safe_psql('postgres', q{SELECT string_agg(outcome || ' ' || coalesce(location, '-'), ', ' ORDER BY account_id) FROM smam.account_url_finding}),
   'gone -, redirected https://elsewhere.example/moveddept', 'the findings say which and where to');
is($node->safe_psql('postgres', "SELECT outcome FROM smam.account_url_check WHERE account_id = $acct{okone}"), 'ok',
   'a live account answering 200 is ok');
is($node->safe_psql('postgres', "SELECT outcome || ' ' || sqlstate FROM smam.account_url_check WHERE account_id = $acct{okclosed}"),
   'unreachable 08001', 'an account that cannot be reached is recorded, not a finding');
is($node->safe_psql('postgres', 'SET ROLE w_admin; SELECT smam.pull_metrics()'), '11',
   'metrics are pulled from the eleven x accounts with credentials');
is($node->safe_psql('postgres', "SELECT string_agg(metric || '=' || value, ',' ORDER BY metric) FROM smam.account_metric WHERE account_id = $acct{okone}"),
   'engagements=87,followers=120,impressions=3400', 'each number of the answer is a point of the time series');
is($node->safe_psql('postgres', "SELECT accounts || ' ' || last_value_total FROM smam.metrics_monthly WHERE platform = 'x' AND metric = 'followers'"),
   '11 1320', 'metrics by department, platform and month');
$node->safe_psql('postgres', "UPDATE smam.connector SET metrics_object_path = '{data,public_metrics}' WHERE platform = 'x'");
$node->safe_psql('postgres', 'SELECT smam.pull_metrics()');
is($node->safe_psql('postgres', "SELECT string_agg(metric || '=' || value, ',') FROM smam.account_metric WHERE account_id = $acct{okone} AND metric LIKE '%count'"),
   'followers_count=5', 'metrics nested in the answer are read where the connector says (X: {data,public_metrics})');
ok((grep { my @f = split /\t/; $f[3] eq '/metrics/okone' && $f[4] eq 'Bearer tok-okone' } do { open my $fh, '<', $log; <$fh> }),
   'the metrics request carries the account\'s credential');
like($node->safe_psql('postgres', "SELECT posts || ' ' || delivered || ' ' || dead || ' ' || (average_time_to_approve IS NOT NULL) FROM smam.publishing_report WHERE platform = 'x'"),
   qr/^6 10 7 true$/, 'the publishing report counts posts, delivered and dead deliveries, time to approve');

# ---- a streaming standby: readable, its worker idle until promoted ----
# An analyst reads the public index and the compliance views there, as on the
# primary (its password is remembered for the standby's port too).
my $analyst_pw = $node->create_login_role('w_analyst');
$node->safe_psql('postgres', 'GRANT smam_analyst TO w_analyst');
my $analyst_reads = q{SELECT (SELECT count(*) FROM smam.public_index) || ' ' || (SELECT count(*) FROM smam_report.public_index)
  || ' ' || (SELECT count(*) FROM smam.compliance_summary) || ' ' || (SELECT count(*) FROM smam.compliance_findings)
  || ' ' || (SELECT count(*) FROM smam_report.compliance_by_department) || ' ' || (SELECT count(*) FROM smam_report.data_dictionary)};
my $primary_reads = $node->safe_psql('postgres', $analyst_reads, extra_params => ['-U', 'w_analyst']);
like($primary_reads, qr/^[1-9]\d* [1-9]\d* [1-9]\d* \d+ [1-9]\d* [1-9]\d*$/,
     'the analyst reads the public index, the compliance views and the data dictionary on the primary');
$node->backup('b');
my $standby = SmamTest->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
my $p5 = do { local $publish_at = "now() + interval '6 s'"; publish('Later', 'Plus tard', 'okone') };
$node->wait_for_catchup($standby);
$node->stop('immediate');
my $key5 = (split /\|/, $standby->safe_psql('postgres',
    "SELECT idempotency_key FROM smam.delivery WHERE post_id = $p5"))[0];
is($standby->safe_psql('postgres', "SELECT count(*) FROM smam.account"), scalar(keys %acct),
   'the standby serves reads');
$standby->remember_password('w_analyst', $analyst_pw);
is($standby->safe_psql('postgres', $analyst_reads, extra_params => ['-U', 'w_analyst']), $primary_reads,
   'the analyst reads the same public index and compliance views on the standby');
# wait on the standby until the delivery has been due for a second
my $due_in = $standby->safe_psql('postgres',
    "SELECT greatest(0, extract(epoch FROM next_attempt_at - clock_timestamp())) FROM smam.delivery WHERE post_id = $p5");
sleep($due_in + 1.5);
is($standby->safe_psql('postgres', "SELECT query FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'"),
   'idle: hot standby', 'the standby\'s worker is idle');
ok(!requests()->{$key5}, 'nothing was sent from the standby, though the delivery is due');
my ($rc, $out, $err) = $standby->psql('postgres', 'SELECT smam.dispatch()');
like($err, qr/deliveries cannot be sent from a hot standby/, 'smam.dispatch() refuses on a standby');
$standby->promote;
my $deadline = time + 30;
sleep 0.2 until time > $deadline
  || $standby->safe_psql('postgres', "SELECT status FROM smam.delivery WHERE post_id = $p5") eq 'delivered';
is($standby->safe_psql('postgres', "SELECT status FROM smam.delivery WHERE post_id = $p5"), 'delivered',
   'promoted, the standby\'s worker delivers what was due');

$standby->stop;
done_testing();

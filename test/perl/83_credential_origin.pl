# "Write-only" credentials against an administrator (smam_admin, logged in
# as itself): it points the connector at a server it controls, puts
# {{token}} in a URL or a body, opens a private range, or reads an internal
# JSON service through platform_post_id. The tokens never reach its server;
# the internal service's answer lands in no column it can read; credentials
# wait for the head of communications' confirmation, which is audited. And
# a refused smam.set_credential() keeps its token out of the server log.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $src = $ENV{SMAM_SRC} // '.';
my $tmp = PostgreSQL::Test::Utils::tempdir();
my (%port, %log, @servers);
for my $who ('platform', 'attacker') {    # the attacker's server stands in for the internal service too
    my $pf = "$tmp/$who.port";
    $log{$who} = "$tmp/$who.log";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) { exec 'perl', "$src/test/lib/http_server.pl", $pf, $log{$who} or die "exec: $!" }
    push @servers, $pid;
    for (1 .. 100) { last if -s $pf; sleep 0.1 }
    open my $fh, '<', $pf or die "the test server did not start";
    chomp($port{$who} = <$fh>);
}
END { kill 'TERM', @servers if @servers }
sub received { my ($who) = @_; open my $fh, '<', $log{$who} or return ''; local $/; return <$fh> }

my $node = PostgreSQL::Test::Cluster->new('origin');
$node->init;
# log_statement as it is by default (the test harness logs every statement)
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\nlog_statement = 'none'\n");
$node->start;
my $legit = "http://127.0.0.1:$port{platform}";
my $evil = "http://127.0.0.1:$port{attacker}";
$node->safe_psql('postgres', qq{
  CREATE EXTENSION smam;
  CREATE ROLE c_admin LOGIN; CREATE ROLE c_staff LOGIN; CREATE ROLE c_head LOGIN;
  GRANT smam_admin TO c_admin; GRANT smam_department TO c_staff, c_head;
  SELECT smam.register_principal('c_admin', 'Admin', 'ca\@example.gc.ca');
  SELECT smam.appoint('c_admin', 'administrator', NULL, '2020-01-01');
  SELECT smam.add_department('Department of Origins');
  SELECT smam.register_principal('c_staff', 'Staff', 'cs\@example.gc.ca', 1);
  SELECT smam.register_principal('c_head', 'Head', 'ch\@example.gc.ca', 1);
  SELECT smam.appoint('c_staff', 'department_staff', 1, '2020-01-01');
  SELECT smam.appoint('c_head', 'head_of_communications', 1, '2020-01-01');
  -- a superuser allows loopback, where the tests' platform lives
  SELECT smam.set_connector('x', '$legit', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], body_template => '{"text": {{text}}}',
    post_id_path => '{data,id}', metrics_path => '/metrics/{{handle}}', allowed_networks => '{127.0.0.1/32}');});
my $acct = $node->safe_psql('postgres', "SELECT smam.onboard_account(1, 'x', 'https://x.com/okorigin', 'N', 'N', 'english', 'test')");
my $acct2 = $node->safe_psql('postgres', "SELECT smam.onboard_account(1, 'x', 'https://x.com/objidorigin', 'N', 'N', 'english', 'test')");
$node->safe_psql('postgres', "SET ROLE c_head; SELECT smam.set_credential($acct, 'tok-SECRET-A'), smam.set_credential($acct2, 'tok-SECRET-B')");

sub as_admin {    # the attacker, logged in as itself
    my ($sql) = @_;
    my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql", extra_params => ['-U', 'c_admin']);
    return ($rc, $out, $err);
}
sub scheduled {   # a post scheduled for later, made due when the test says
    my @accounts = @_;
    my $post = $node->safe_psql('postgres', "SET ROLE c_staff;
      SELECT smam.create_post(smam.add_content_item(1, 'item', 'Hello', NULL), ARRAY[@{[join ',', @accounts]}]::bigint[], now() + interval '1 hour')");
    $node->safe_psql('postgres', "SET ROLE c_staff; SELECT smam.submit_post($post); RESET ROLE;
      SET ROLE c_head; SELECT smam.approve_post($post); SELECT smam.schedule_post($post)");
    return $post;
}
my $due = sub { $node->safe_psql('postgres', "UPDATE smam.delivery SET next_attempt_at = now() WHERE post_id = $_[0]") };

# ---- 1. the connector pointed at the attacker's server ----
my $post = scheduled($acct);
my ($rc, $out, $err) = as_admin(qq{SELECT smam.set_connector('x', '$evil', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], body_template => '{"text": {{text}}}',
    post_id_path => '{data,id}', metrics_path => '/metrics/{{handle}}', allowed_networks => '{127.0.0.1/32}')});
is($rc, 0, 'an administrator may still point the connector elsewhere (the allowed networks unchanged)') or diag($err);
is($node->safe_psql('postgres', "SELECT credentials_suspended::text || ' ' || managed_in_tool FROM smam.account_tool_status WHERE account_id = $acct"),
   'true false', '... which suspends the credentials of the platform\'s accounts');
$due->($post);
as_admin('SELECT smam.dispatch()');
as_admin('SELECT smam.pull_metrics()');
unlike(received('attacker'), qr/tok-SECRET/, 'no token reached the attacker\'s server, by dispatch() or pull_metrics()');
is(received('attacker'), '', '... nothing was sent there at all');
like($node->safe_psql('postgres', "SELECT status || ' ' || last_sqlstate || ' ' || last_error FROM smam.delivery WHERE post_id = $post"),
     qr/^dead 55000 the account's credentials are suspended until the department's head of communications confirms them .*c_admin changed the connector of platform x/,
     'the delivery is dead, saying the credentials are suspended and who changed the connector');
like($node->safe_psql('postgres', "SELECT error FROM smam.metric_pull WHERE account_id = $acct"),
     qr/credentials are suspended/, 'the metrics pull says so too');

# a routine rotation of the token is no confirmation of the re-pointed connector
($rc, $out, $err) = $node->psql('postgres', "SET client_min_messages = notice; SET ROLE c_head;
  SELECT smam.set_credential($acct, 'tok-SECRET-A2', now() + interval '90 days')");
like($err, qr/NOTICE:  the credentials of account $acct are kept for http:\/\/127\.0\.0\.1:\d+, and suspended: c_admin changed the connector/,
     'a new token for suspended credentials keeps the origin it was confirmed for, and says so');
is($node->safe_psql('postgres', "SELECT credentials_suspended::text || ' ' || managed_in_tool FROM smam.account_tool_status WHERE account_id = $acct"),
   'true false', '... and stays suspended: only confirm_credential() moves the binding');
isnt($node->safe_psql('postgres', "SELECT origin FROM smam.account_credential WHERE account_id = $acct"),
     $node->safe_psql('postgres', "SELECT smam.url_origin('$evil')"), '... never to the administrator\'s origin');

# the confirmation: nobody but the department's head of communications
($rc, $out, $err) = as_admin("SELECT smam.confirm_credential($acct)");
like($err, qr/ERROR:  42501: role "c_admin" may not confirm the credentials of account $acct/, 'the administrator cannot confirm them (42501)');
like($err, qr/requirement 6\.1\.4/, '... the detail names requirement 6.1.4');
$node->safe_psql('postgres', "SET ROLE c_admin; SELECT smam.set_connector('x', '$legit', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], body_template => '{\"text\": {{text}}}',
    post_id_path => '{data,id}', metrics_path => '/metrics/{{handle}}', allowed_networks => '{127.0.0.1/32}')");
is($node->safe_psql('postgres', "SET ROLE c_head; SELECT smam.confirm_credential($acct)"), 't',
   'back at the platform, the head of communications confirms the credentials');
$node->safe_psql('postgres', "SET ROLE c_head; SELECT smam.confirm_credential($acct2)");
is($node->safe_psql('postgres', "SELECT count(*) FROM smam.audit_log WHERE table_name = 'smam.account_credential'
                                    AND operation = 'UPDATE' AND acting_role = 'c_head' AND new_values ->> 'confirmed_by' = 'c_head'
                                    AND row_key = '$acct'"),
   '1', '... and the confirmation is in the audit log');
ok($node->safe_psql('postgres', "SELECT bool_and(NOT (new_values::text LIKE '%tok-SECRET%')) FROM smam.audit_log"),
   '... which holds no secret');
my $p2 = scheduled($acct);
$due->($p2);
as_admin('SELECT smam.dispatch()');
is($node->safe_psql('postgres', "SELECT status FROM smam.delivery WHERE post_id = $p2"), 'delivered', 'confirmed, the credentials publish again');
like(received('platform'), qr/\tBearer tok-SECRET-A2\t/, '... to the platform they were given for');

# ---- 2. {{token}} anywhere but a header; 3. private ranges ----
for my $t (["metrics_path => '/metrics/{{handle}}?key={{token}}'", 'in the metrics path'],
           ["metrics_path => '/metrics/{{handle}}', body_template => '{\"t\": {{token}}}'", 'in the body'],
           ["metrics_path => '/metrics/{{handle}}', profile_url => '$legit/p/{{token}}'", 'in the profile URL']) {
    ($rc, $out, $err) = as_admin(qq{SELECT smam.set_connector('x', '$legit', '/publish/{{handle}}',
        header_templates => ARRAY['Authorization: Bearer {{token}}'], allowed_networks => '{127.0.0.1/32}', $t->[0])});
    like($err, qr/ERROR:  22023: connector for x refused: \{\{token\}\} outside a header template/, "{{token}} $t->[1] is refused (22023)");
    like($err, qr/HINT:  Write 'Authorization: Bearer \{\{token\}\}' in header_templates/, '... with a hint');
}
as_admin('SELECT smam.pull_metrics()');
unlike(received('platform') . received('attacker'), qr{/metrics/\S*tok-SECRET}, 'no token ever went into a URL');
($rc, $out, $err) = as_admin(qq{SELECT smam.set_connector('x', '$legit', '/publish/{{handle}}', allowed_networks => '{10.0.0.0/8}')});
like($err, qr/ERROR:  42501: role "c_admin" may not allow special address ranges/, 'an administrator cannot open a private range (42501)');
like($err, qr/only a superuser sets them.*requirement 6\.2\.5/s, '... only a superuser can; the detail names 6.2.5');
is($node->safe_psql('postgres', "SELECT allowed_networks FROM smam.connector WHERE platform = 'x'"), '{127.0.0.1/32}', '... nothing changed');

# ---- 4. an internal JSON service read through platform_post_id ----
my $p3 = scheduled($acct2);
($rc, $out, $err) = as_admin(qq{SELECT smam.set_connector('x', '$evil', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], post_id_path => '{data,id}', allowed_networks => '{127.0.0.1/32}')});
$due->($p3);
as_admin('SELECT smam.dispatch()');
is(received('attacker'), '', 'the internal service is not asked while the credentials wait for confirmation');
# the head of communications, deceived, confirms
$node->safe_psql('postgres', "SET ROLE c_head; SELECT smam.confirm_credential($acct2)");
my $p4 = scheduled($acct2);
$due->($p4);
as_admin('SELECT smam.dispatch()');
like(received('attacker'), qr{/publish/objidorigin}, 'confirmed, the request reaches the internal service');
like($node->safe_psql('postgres', "SELECT status || ' ' || coalesce(platform_post_id, '-') || ' ' || last_error FROM smam.delivery WHERE post_id = $p4"),
     qr/^dead - .*the post id the connector names is a JSON object or array, not a short value/,
     'an object where the post id should be is not kept: the delivery fails with the reason');
my $readable = $node->safe_psql('postgres', q{SET ROLE c_admin;
  SELECT count(*) FROM (SELECT d::text AS t FROM smam.delivery d UNION ALL SELECT a::text FROM smam.delivery_attempt a
                        UNION ALL SELECT m::text FROM smam.metric_pull m UNION ALL SELECT s::text FROM smam.account_tool_status s) x
   WHERE t LIKE '%SECRET-INTERNAL%'});
is($readable, '0', 'the internal service\'s answer lands in no column the administrator reads');
is($node->safe_psql('postgres', "SELECT count(*) FROM smam.audit_log WHERE new_values::text LIKE '%SECRET-INTERNAL%'"), '0',
   '... nor in the audit log');

# ---- a refused smam.set_credential() keeps its token out of the server log ----
my $offset = -s $node->logfile;
($rc, $out, $err) = $node->psql('postgres', "SELECT smam.set_credential($acct, 'tok-LEAKCHECK-4242')", extra_params => ['-U', 'c_staff']);
like($err, qr/may not set the credentials of account/, 'staff may not set credentials: refused');
($rc, $out, $err) = $node->psql('postgres', "SELECT smam.set_credential($acct, E'tok-LEAKCHECK-4343\\nX')", extra_params => ['-U', 'c_head']);
like($err, qr/a credential cannot contain a line break/, 'a token with a line break: refused');
my $server_log = substr(slurp_file($node->logfile), $offset);
like($server_log, qr/may not set the credentials of account.*a credential cannot contain a line break/s,
     'both refusals are in the server log (log_min_error_statement = error, the default)');
unlike($server_log, qr/LEAKCHECK/, '... without the statement, so without the token');

$node->stop;
done_testing();

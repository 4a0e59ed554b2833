# The publishing worker against a database owner: a non-superuser role that
# owns the database and creates in its public schema plants public
# operators for smam's enum types (the attack that made the bootstrap
# superuser run "CASE a.official_language WHEN ..." through public.=) and
# a database-wide search_path putting public first, each of which would
# ALTER ROLE itself SUPERUSER. The worker and smam.dispatch() publish
# anyway; nobody became superuser; the worker runs as smam_worker, which is
# no superuser and which a pg_hba.conf "reject" line keeps from clients.
# Then: smam refuses to install in a database that is not UTF8.
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

sub bodies {    # idempotency key => body received
    my %by_key;
    open my $fh, '<', $log or return {};
    while (<$fh>) { chomp; my @f = split /\t/, $_, -1; $by_key{ $f[2] } = $f[5] if $f[2] }
    return \%by_key;
}

my $node = PostgreSQL::Test::Cluster->new('owned');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'smam'
smam.worker_databases = 'owned'
smam.worker_restart_delay = 1
});
# The DBA's line from docs/publishing.md: nobody logs in as the worker's role.
my $hba = $node->data_dir . '/pg_hba.conf';
my $rules = do { local (@ARGV, $/) = ($hba); <> };
open my $hfh, '>', $hba or die $!;
print $hfh "local all smam_worker reject\nhost all smam_worker all reject\n", $rules;
close $hfh;
$node->start;

$node->safe_psql('postgres', q{
  CREATE ROLE dbo LOGIN;
  CREATE DATABASE owned OWNER dbo;
});
# Every query of this test names pg_catalog first: the planted operators
# must not run in the test's own superuser sessions.
sub db { my ($sql, %o) = @_; return $node->safe_psql('owned', "SET search_path = pg_catalog, pg_temp; $sql", %o) }
db(qq{
  CREATE EXTENSION smam;
  CREATE ROLE o_admin LOGIN; CREATE ROLE o_staff LOGIN; CREATE ROLE o_head LOGIN;
  GRANT smam_admin TO o_admin; GRANT smam_department TO o_staff, o_head;
  GRANT smam_public TO dbo;    -- the owner reads the public index, like anyone
  SELECT smam.register_principal('o_admin', 'Admin', 'oa\@example.gc.ca');
  SELECT smam.appoint('o_admin', 'administrator', NULL, '2020-01-01');
  SELECT smam.add_department('Department of Owners');
  SELECT smam.register_principal('o_staff', 'Staff', 'os\@example.gc.ca', 1);
  SELECT smam.register_principal('o_head', 'Head', 'oh\@example.gc.ca', 1);
  SELECT smam.appoint('o_staff', 'department_staff', 1, '2020-01-01');
  SELECT smam.appoint('o_head', 'head_of_communications', 1, '2020-01-01');
  SELECT smam.set_connector('x', 'http://127.0.0.1:$port', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'],
    body_template => '{"text": {{text}}}', post_id_path => '{data,id}', allowed_networks => '{127.0.0.1/32}');
});
my %acct;
for my $a (['okowner_en', 'english'], ['okowner_fr', 'french'], ['okowner_bi', 'bilingual']) {
    my ($h, $lang) = @$a;
    $acct{$h} = db("SELECT smam.onboard_account(1, 'x', 'https://x.com/$h', 'N', 'N', '$lang', 'test')");
    db("SET ROLE o_head; SELECT smam.set_credential($acct{$h}, 'tok-$h')");
}

# ---- the database owner plants, logged in as itself ----
$node->safe_psql('owned', q{
  CREATE TABLE public.evil_calls (who name, at timestamptz DEFAULT pg_catalog.clock_timestamp());
  GRANT INSERT ON public.evil_calls TO PUBLIC;
  CREATE FUNCTION public.escalate() RETURNS void LANGUAGE plpgsql AS $f$
  BEGIN
    INSERT INTO public.evil_calls (who) VALUES (pg_catalog.current_user());
    EXECUTE 'ALTER ROLE dbo SUPERUSER';
  EXCEPTION WHEN OTHERS THEN NULL;
  END $f$;
  GRANT EXECUTE ON FUNCTION public.escalate() TO PUBLIC;
  DO $d$
  DECLARE t text;
  BEGIN
    FOREACH t IN ARRAY ARRAY['smam.official_language', 'smam.delivery_status', 'smam.post_status', 'smam.stage'] LOOP
      EXECUTE pg_catalog.format($e$
        CREATE FUNCTION public.%1$s_eq(a %2$s, b %2$s) RETURNS boolean LANGUAGE plpgsql AS $b$
        BEGIN PERFORM public.escalate(); RETURN a::pg_catalog.text OPERATOR(pg_catalog.=) b::pg_catalog.text; END $b$;
        CREATE OPERATOR public.= (LEFTARG = %2$s, RIGHTARG = %2$s, FUNCTION = public.%1$s_eq);
      $e$, pg_catalog.replace(t, '.', '_'), t);
    END LOOP;
  END $d$;
  CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $f$
  BEGIN PERFORM public.escalate(); RETURN pg_catalog.now(); END $f$;
  CREATE FUNCTION public.array_to_string(anyarray, text) RETURNS text LANGUAGE plpgsql AS $f$
  BEGIN PERFORM public.escalate(); RETURN pg_catalog.array_to_string($1, $2); END $f$;
  ALTER DATABASE owned SET search_path = public, pg_catalog;
}, extra_params => ['-U', 'dbo']);
is($node->safe_psql('owned', q{SELECT pg_catalog.count(*) FROM pg_catalog.pg_operator
                                WHERE oprnamespace = 'public'::pg_catalog.regnamespace}),
   '4', 'the database owner planted public.= for four of smam\'s enum types');

sub publish {
    my ($when, @handles) = @_;
    my $accounts = join ',', map { $acct{$_} } @handles;
    my $post = db(qq{SET ROLE o_staff;
      SELECT smam.create_post(smam.add_content_item(1, 'item', 'Hello', 'Bonjour'), ARRAY[$accounts]::bigint[], $when)});
    db("SET ROLE o_staff; SELECT smam.submit_post($post); RESET ROLE;
       SET ROLE o_head; SELECT smam.approve_post($post); SELECT smam.schedule_post($post)");
    return $post;
}
sub settled {
    my ($post) = @_;
    my $deadline = time + 30;
    while (time < $deadline) {
        return 1 if db("SELECT pg_catalog.count(*) FROM smam.delivery WHERE post_id = $post
                         AND status::pg_catalog.text OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'sending'])") eq '0';
        sleep 0.1;
    }
    return 0;
}
sub outcome {
    my ($post) = @_;
    return db("SELECT pg_catalog.string_agg(status::pg_catalog.text, ',' ORDER BY account_id) FROM smam.delivery WHERE post_id = $post");
}

# ---- the worker ----
my $post = publish('pg_catalog.now()', keys %acct);
ok(settled($post), 'the worker settles the deliveries of a database whose owner planted operators');
is(outcome($post), 'delivered,delivered,delivered', 'all three are delivered');
my $keys = db("SELECT pg_catalog.string_agg(idempotency_key::pg_catalog.text || '=' || account_id, ' ') FROM smam.delivery WHERE post_id = $post");
my %by_account = map { my ($k, $a) = split /=/; ($a => $k) } split / /, $keys;
my $b = bodies();
like($b->{ $by_account{ $acct{okowner_fr} } }, qr/"text": "Bonjour"/, 'the French account got the French text (no planted = chose it)');
like($b->{ $by_account{ $acct{okowner_bi} } }, qr/"text": "Hello\\n\\nBonjour"/, 'the bilingual account got both');
is(db("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'dbo'"), 'f',
   'the database owner did not become superuser through the worker');
is(db("SELECT pg_catalog.count(*) FROM public.evil_calls"), '0', 'no planted operator or function ran in the worker');
is(db("SELECT usename FROM pg_catalog.pg_stat_activity WHERE backend_type OPERATOR(pg_catalog.=) 'smam publishing worker'"),
   'smam_worker', 'the worker runs as smam_worker');
is(db("SELECT rolsuper::pg_catalog.text || ' ' || rolbypassrls FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'smam_worker'"),
   'false false', 'smam_worker is no superuser and does not bypass row-level security');
is(db("SELECT pg_catalog.has_table_privilege('smam_worker', 'smam.audit_log', 'SELECT')::pg_catalog.text
         || ' ' || pg_catalog.has_function_privilege('smam_worker', 'smam.set_connector(text, text, text, text[], text, text[], text, text, text[], text, text, cidr[], boolean, text[])', 'EXECUTE')"),
   'false false', 'smam_worker reads no audit log and configures nothing');
my ($rc, $out, $err) = $node->psql('owned', 'SELECT 1', extra_params => ['-U', 'smam_worker']);
isnt($rc, 0, 'a client cannot log in as smam_worker (the pg_hba.conf line in docs/publishing.md)');
like($err, qr/pg_hba\.conf rejects connection/, '... pg_hba.conf rejects it, the worker still connects');

# ---- a worker's role made superuser: the worker refuses to run ----
$node->safe_psql('postgres', 'ALTER ROLE smam_worker SUPERUSER');
my $offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'");
my $refused = 0;
for (1 .. 100) {
    last if ($refused = substr(slurp_file($node->logfile), $offset) =~ /FATAL:  role "smam_worker" is a superuser or bypasses row-level security/);
    sleep 0.1;
}
ok($refused, 'a worker whose role was made superuser refuses to run (FATAL)');
$node->safe_psql('postgres', 'ALTER ROLE smam_worker NOSUPERUSER');
my $back = 0;
for (1 .. 100) {
    last if ($back = db("SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type OPERATOR(pg_catalog.=) 'smam publishing worker'") eq '1');
    sleep 0.1;
}
ok($back, '... and runs again once it is not');

# ---- smam.dispatch(), called by an administrator ----
my $p2 = publish("pg_catalog.now() OPERATOR(pg_catalog.+) '1 hour'::pg_catalog.interval", 'okowner_fr', 'okowner_bi');
is(db("BEGIN;
      UPDATE smam.delivery SET next_attempt_at = pg_catalog.now() WHERE post_id = $p2;
      SET ROLE o_admin;
      SELECT smam.dispatch();
      COMMIT;"), '2', 'smam.dispatch() settles the two deliveries')
  or diag(db("SELECT * FROM smam.delivery WHERE post_id = $p2"));
is(outcome($p2), 'delivered,delivered', 'both are delivered');
is(db("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'dbo'"), 'f',
   'the database owner did not become superuser through smam.dispatch()');
is(db("SELECT pg_catalog.count(*) FROM public.evil_calls"), '0', 'no planted operator or function ran in smam.dispatch()');

# ---- UTF8 only ----
$node->safe_psql('postgres', q{CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C'});
($rc, $out, $err) = $node->psql('latin', "\\set VERBOSITY verbose\nCREATE EXTENSION smam");
like($err, qr/ERROR:  0A000: smam needs a UTF8 database; this one is LATIN1/, 'CREATE EXTENSION in a LATIN1 database is refused (0A000)');
like($err, qr/DETAIL:  .*UTF-8/, '... with a detail saying why');
like($err, qr/HINT:  Install smam in a database created with ENCODING 'UTF8'/, '... and a hint saying what to do');
is($node->safe_psql('latin', "SELECT count(*) FROM pg_namespace WHERE nspname = 'smam'"), '0', '... leaving nothing behind');

$node->stop;
done_testing();

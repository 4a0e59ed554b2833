# The attacks of issue 15, each made by the role that made it, from its own
# session (login roles with passwords, over TCP where the attack came over
# TCP), against a cluster with smam preloaded. Each attack worked on
# d507173; each assertion here failed there.
#
#  1. over TCP, audited writes after the first failed (client address kept
#     in per-row memory); the hash recipe of docs/audit.md re-derives
#     client_addr's text as the chain does
#  2. a head of communications became superuser with one UPDATE of
#     smam.account (a pg_temp domain named jsonb, cast to by privileged SQL)
#  3. an analyst became superuser through smam.compliance_findings (the
#     stream's cursor, looked up again by name, replaced by the analyst's)
#  4. an application role wrote without an audit row and past the guards'
#     INSERT checks (COPY (SELECT ...) TO STDOUT with row_security off)
#  6. configure_account() on a planned account checked nobody
# 10. owner-rights views leaked hidden rows through errors in the caller's
#     filter
# 11. definer functions told another department's state before checking who
#     asked; holds_office() answered about any department; names had no
#     limit; smam.refuse('00000') raised an "error" with a success code;
#     (issue 16) plan_missing() and plan_pia_problem() answered for plans
#     that do not exist or of another department
# 12. two appointments of one principal made at once both stood
# (review of 1.1) a department's code run by maintenance (ANALYZE, REFRESH
#     MATERIALIZED VIEW: security-restricted operations started by a
#     superuser or autovacuum) acted as the superuser who started it and read
#     every department's rows
use strict;
use warnings;

BEGIN { mkdir $ENV{TESTDIR} if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run ();
use SmamTest;

my $node = SmamTest->new('attacks');
$node->init;
$node->append_conf('postgresql.conf', <<'CONF');
shared_preload_libraries = 'smam'
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
max_connections = 20
CONF
# Over TCP, every role authenticates with its password; nothing is trusted.
open(my $hba, '>>', $node->data_dir . '/pg_hba.conf') or die;
print $hba "host all all 127.0.0.1/32 scram-sha-256\n";
close $hba;
$node->start;

my $pw = 'a-long-passphrase';
sub sql { my ($text, $db) = @_; return $node->safe_psql($db // 'postgres', $text) }

# A session of a role as an application opens it: over TCP, with its password.
# The text is one statement or query string, or a list sent one after the other.
sub as_role
{
	my ($role, $text, %opt) = @_;
	local $ENV{PGPASSWORD} = $pw;
	my ($out, $err) = ('', '');
	my $rc = IPC::Run::run(
		[ 'psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', $node->port,
		  '-U', $role, '-d', $opt{db} // 'postgres', ($opt{verbose} ? ('-v', 'VERBOSITY=verbose') : ()),
		  map { ('-c', $_) } ref $text ? @$text : ($text) ],
		'>', \$out, '2>', \$err);
	chomp $out;
	return wantarray ? ($rc, $out, $err) : $out;
}

my $data = $ENV{SMAM_DATA_DIR} // '../data';
sql(<<SQL);
SET client_min_messages = warning;
CREATE EXTENSION smam;
DO \$\$
DECLARE r text[];
BEGIN
  FOREACH r SLICE 1 IN ARRAY ARRAY[
    ['a_admin', 'smam_admin'], ['a_staff', 'smam_department'], ['a_head', 'smam_department'],
    ['a_head2', 'smam_department'], ['a_nobody', 'smam_department'], ['a_deputy', 'smam_department'],
    ['a_entity', 'smam_entity'], ['a_reviewer', 'smam_entity'], ['a_idle', 'smam_entity'],
    ['a_analyst', 'smam_analyst'], ['a_public', 'smam_public'], ['a_appointee', 'smam_department'],
    ['a_clerk', 'smam_department']]
  LOOP
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', r[1], '$pw', r[2]);
  END LOOP;
END
\$\$;
SELECT smam.register_principal('a_admin', 'Admin', 'admin\@example.gc.ca');
SELECT smam.appoint('a_admin', 'administrator');
SET ROLE a_admin;
SELECT smam.add_department('Department One');
SELECT smam.add_department('Department Two');
SELECT smam.register_principal(r, r, r || '\@example.gc.ca', d)
  FROM (VALUES ('a_staff', 1), ('a_head', 1), ('a_head2', 2), ('a_nobody', 1), ('a_deputy', 1),
               ('a_entity', NULL), ('a_reviewer', NULL), ('a_idle', NULL), ('a_appointee', 1), ('a_clerk', 1)) v(r, d);
SELECT smam.appoint('a_staff', 'department_staff', 1);
SELECT smam.appoint('a_head', 'head_of_communications', 1);
SELECT smam.appoint('a_head2', 'head_of_communications', 2);
SELECT smam.appoint('a_deputy', 'deputy_head', 1);
SELECT smam.appoint('a_clerk', 'deputy_head', 1);
SELECT smam.appoint('a_clerk', 'department_staff', 1, now() - interval '1 day') AS clerk_staff;
SELECT smam.appoint('a_entity', 'entity_official');
SELECT smam.appoint('a_reviewer', 'entity_reviewer');
RESET ROLE;
-- Department One: a strategy, an approved plan, X pre-reviewed.
SET ROLE a_staff;
SELECT smam.draft_strategy(1, 'Strategy', 'm', 'b', 'a', 'g', 'p', 'l');
SELECT smam.draft_plan(1, 'Plan', 'b', 'r', 'r', 'r', 'm', 'p', 'c');
SELECT smam.plan_pia(1, 'x');
SET ROLE a_head;
SELECT smam.approve_strategy(1);
SELECT smam.approve_plan(1);
SET ROLE a_reviewer;
SELECT smam.record_platform_review('x', k, smam.today() - 10, 'accepted', smam.today() + 355, 'review')
  FROM unnest(enum_range(NULL::smam.platform_review_kind)) k;
-- Account 1 in planning; account 2 brought to configuration.
SET ROLE a_staff;
SELECT smam.plan_account(1, 'x', 'https://x.com/PlannedOne', 'Planned', 'Prévu', 'bilingual', 'Notices', 1);
SELECT smam.plan_account(1, 'x', 'https://x.com/ConfiguredOne', 'Configured', 'Configuré', 'bilingual', 'Notices', 1);
SET ROLE a_head;
SELECT smam.submit(2, 'creation');
SET ROLE a_reviewer;
SELECT smam.review_submission(1, true);
SET ROLE a_entity;
SELECT smam.transition(2, 'creation');
SET ROLE a_head;
SELECT smam.submit(2, 'configuration', NULL,
  '{"avatar": "fip:canada-wordmark", "display_name": "Department One", "notice_url": "https://www.canada.ca/en/one/notice.html", "description_en": "Notices", "description_fr": "Avis"}');
SET ROLE a_reviewer;
SELECT smam.review_submission(2, true);
SET ROLE a_entity;
SELECT smam.transition(2, 'configuration');
-- Department Two: a plan of its own.
SET ROLE a_head2;
SELECT smam.draft_plan(2, 'Plan Two', 'b', 'r', 'r', 'r', 'm', 'p', 'c');
RESET ROLE;
SQL

# ---- 1. over TCP, one audited write after another ----
my ($rc, $out, $err);
my $tcp_plan = as_role('a_staff', q{SELECT smam.draft_plan(1, 'Plan written over TCP')});
like($tcp_plan, qr/^\d+$/, 'over TCP, an application drafts a plan');
for my $i (1 .. 4)
{
	($rc, $out, $err) = as_role('a_staff', "SELECT smam.revise('implementation_plan', $tcp_plan, 'resources', 'r$i')");
	is($err, '', "over TCP, audited write $i succeeds");
}
($rc, $out, $err) = as_role('a_staff', join(';', map { "SELECT smam.revise('implementation_plan', $tcp_plan, 'resources', 's$_')" } 1 .. 4));
is($err, '', 'four audited writes in one TCP session succeed');
is(sql(qq{SELECT count(*) FILTER (WHERE operation = 'UPDATE'),
                 count(*) FILTER (WHERE client_addr IS DISTINCT FROM '127.0.0.1'), min(host(client_addr))
            FROM smam.audit_log WHERE table_name = 'smam.implementation_plan' AND row_key = '$tcp_plan'}),
   '8|0|127.0.0.1', 'every write is logged, each with the client\'s address');
# The recipe docs/audit.md gives an auditor: inet as its type's output (inet_out), not ::text.
is(sql(<<'SQL'), '0', 'the row hashes of TCP rows recompute as docs/audit.md says (inet_out, not ::text)');
CREATE FUNCTION pg_temp.field(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN b IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(length(b)) || b END $$;
CREATE FUNCTION pg_temp.usec(t timestamptz) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT int8send((extract(epoch FROM t - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint) $$;
CREATE FUNCTION pg_temp.txt(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT convert_to(t, 'UTF8') $$;
SELECT count(*) FROM smam.audit_log l
 WHERE l.client_addr IS NOT NULL AND l.row_hash <> sha256(convert_to('smam-audit-row-v1', 'UTF8')
   || pg_temp.field(int8send(l.txn)) || pg_temp.field(int8send(l.xid)) || pg_temp.field(pg_temp.usec(l.tx_time))
   || pg_temp.field(pg_temp.usec(l.stmt_time)) || pg_temp.field(pg_temp.txt(l.acting_role::text))
   || pg_temp.field(pg_temp.txt(l.effective_role::text)) || pg_temp.field(pg_temp.txt(l.session_role::text))
   || pg_temp.field(pg_temp.txt(l.application)) || pg_temp.field(pg_temp.txt(inet_out(l.client_addr)::text))
   || pg_temp.field(pg_temp.txt(l.office)) || pg_temp.field(pg_temp.txt(l.table_name))
   || pg_temp.field(pg_temp.txt(l.operation)) || pg_temp.field(int8send(l.ordinal::bigint))
   || pg_temp.field(pg_temp.txt(l.row_key)) || pg_temp.field(int8send(l.department_id))
   || pg_temp.field(pg_temp.txt(l.old_values::text)) || pg_temp.field(pg_temp.txt(l.new_values::text))
   || pg_temp.field(pg_temp.txt(l.secrets_changed::text)))
SQL
is(sql('SELECT holds FROM smam.verify_audit_log()'), 't', 'the chain holds over the TCP writes');

# ---- 2. a pg_temp domain named jsonb, and one UPDATE of smam.account ----
# The evidence table: a row in it is the attack working.
sql(q{CREATE TABLE public.pwned (who name, how text); GRANT INSERT ON public.pwned TO PUBLIC});
my $evil = q{
CREATE FUNCTION pg_temp.evil(v anyelement) RETURNS boolean LANGUAGE plpgsql AS $e$
BEGIN
  BEGIN
    EXECUTE format('ALTER ROLE %I SUPERUSER', session_user);
    INSERT INTO public.pwned VALUES (current_user, 'ALTER ROLE ran');
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  RETURN true;
END $e$;
};
($rc, $out, $err) = as_role('a_head', $evil . q{
CREATE DOMAIN pg_temp.jsonb AS pg_catalog.jsonb CHECK (pg_temp.evil(VALUE));
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.evil(VALUE));
CREATE DOMAIN pg_temp.int8 AS pg_catalog.int8 CHECK (pg_temp.evil(VALUE));
SET search_path = pg_temp, public, pg_catalog;
UPDATE smam.account SET stage = 'implementation' WHERE id = 2;
SELECT smam.move_problems(2, 'evaluation');
});
is($err, '', 'the head of communications moves the account to implementation in a hostile session');
is(sql(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'a_head'}), 'f', 'the head did not become superuser');
is(sql('SELECT count(*) FROM public.pwned'), '0', 'nothing planted ran with raised rights');
is(sql('SELECT stage FROM smam.account WHERE id = 2'), 'implementation', 'the move itself is made');

# ---- 3. the analyst and the stream's cursor ----
sql("CREATE TEMP TABLE index_file AS SELECT pg_read_file('$data/gc-social-media-index/sm.csv') AS t;
     GRANT SELECT ON index_file TO a_entity;
     SET ROLE a_entity; SELECT count(*) FROM smam.import_index((SELECT t FROM index_file))");
my $benign = as_role('a_analyst', 'SELECT count(*) FROM smam.compliance_findings');
cmp_ok($benign, '>', 2000, 'the analyst sees more findings than the stream fetches at once');
# The analyst's function, called for every finding, swaps cursors once the
# first batch is read: it closes the cursors it can name (pg_cursors, the
# names SPI gives, and with close_all every portal) and opens its own under
# the same names, over a query that calls evil().
my $swap = $evil . q{
CREATE FUNCTION pg_temp.swap(k text, close_all boolean) RETURNS integer LANGUAGE plpgsql AS $s$
DECLARE
  c refcursor;
  n text;
  names text[];
BEGIN
  IF current_setting('attack.done', true) = 'y' THEN RETURN 1; END IF;
  PERFORM set_config('attack.done', 'y', false);
  SELECT array_agg(p.name) INTO names FROM pg_cursors p;
  names := coalesce(names, '{}') || ARRAY(SELECT format('<unnamed portal %s>', g) FROM generate_series(1, 50) g);
  IF close_all THEN
    EXECUTE 'CLOSE ALL';
  END IF;
  FOREACH n IN ARRAY names LOOP
    BEGIN
      c := n;
      CLOSE c;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    BEGIN
      c := n;
      OPEN c FOR SELECT 'x'::text, 1::bigint, 'x'::text, 'x'::text, 'x'::text, 1::bigint, 'x'::text, 'x'::text,
                        now(), pg_temp.evil(1)::text;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
  END LOOP;
  RETURN 1;
END $s$;
};
($rc, $out, $err) = as_role('a_analyst', $swap . q{
SELECT sum(pg_temp.swap(f.finding_key, false)) FROM smam.compliance_findings f;
});
is($err, '', 'the analyst\'s query runs to its end');
is($out, $benign, 'and counts every finding: the stream read its own cursor only');
($rc, $out, $err) = as_role('a_analyst', $swap . q{
SELECT sum(pg_temp.swap(f.finding_key, true)) FROM smam.compliance_findings f;
});
like($err, qr/ERROR:  the cursor over the compliance findings was closed/,
     'CLOSE ALL in the middle of the stream ends it with an error, never a fetch of another cursor');
is(sql(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'a_analyst'}), 'f', 'the analyst did not become superuser');
is(sql('SELECT count(*) FROM public.pwned'), '0', 'no cursor of the analyst\'s was fetched with raised rights');
($rc, $out, $err) = as_role('a_analyst', q{
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM smam.compliance_findings;
FETCH 10 FROM c;
SAVEPOINT s;
FETCH 10 FROM c;
ROLLBACK TO s;
FETCH 2000 FROM c;
COMMIT;
});
is($err, '', 'a cursor over the view, fetched across a rollback to a savepoint taken after it began, reads on');
($rc, $out, $err) = as_role('a_analyst', q{
BEGIN;
DECLARE c CURSOR FOR SELECT * FROM smam.compliance_findings;
SAVEPOINT s;
FETCH 10 FROM c;
ROLLBACK TO s;
FETCH 2000 FROM c;
COMMIT;
});
like($err, qr/ERROR:  the cursor over the compliance findings was closed\nDETAIL:  CLOSE ALL, or a rollback/,
     'a rollback that drops the stream\'s cursor is an error, never a fetch from elsewhere');

($rc, $out, $err) = as_role('a_analyst', q{
BEGIN;
DECLARE h CURSOR WITH HOLD FOR SELECT * FROM smam.compliance_findings;
FETCH 1 FROM h;
COMMIT;
FETCH ALL FROM h;
CLOSE h;
});
is($err, '', 'a cursor WITH HOLD over the view outlives its transaction');
is(scalar(split /\n/, $out), $benign, '... and reads every finding, before and after COMMIT');

# ---- 4. COPY (SELECT a definer function) TO STDOUT with row_security off ----
my $audited = q{SELECT count(*) FROM smam.audit_log WHERE table_name = 'smam.content_item'};
my $before = sql($audited);
($rc, $out, $err) = as_role('a_staff', ['SET row_security = off', q{COPY (SELECT smam.add_content_item(1, 'Notice', 'Hello', 'Bonjour')) TO STDOUT}]);
is($err, '', 'an application role adds a content item through COPY ... TO STDOUT');
is(sql($audited), $before + 1, 'the content item is in the audit log');
is(sql('SELECT holds FROM smam.verify_audit_log()'), 't', 'and the chain holds');
($rc, $out, $err) = as_role('a_head2', ['SET row_security = off', q{COPY (SELECT smam.plan_account(2, 'x', 'https://x.com/SneakyTwo', 'Sneaky', NULL, 'english', NULL, 1)) TO STDOUT}]);
like($err, qr/ERROR:  implementation plan 1 is not a plan of department 2/,
     'a head cannot put another department\'s plan on an account through COPY');
($rc, $out, $err) = as_role('a_head', ['SET row_security = off', q{COPY (SELECT smam.abandon_account(1, 'via copy')) TO STDOUT}]);
is($err, '', 'an abandonment through COPY is made');
is(sql(q{SELECT count(*) FROM smam.audit_log WHERE table_name = 'smam.account' AND row_key = '1'
          AND new_values->>'stage' = 'disposed' AND acting_role = 'a_head'}), '1', 'and audited');
is(sql(q{SELECT count(*) FROM smam.stage_history WHERE account_id = 1 AND to_stage = 'disposed'}), '1',
   'and recorded in the stage history');

# ---- 6. configure_account() and UPDATE by roles without the office ----
sql(q{SET ROLE a_staff; SELECT smam.plan_account(1, 'x', 'https://x.com/PlannedThree', 'Three', NULL, 'english', NULL, 1)});
my $three = sql(q{SELECT id FROM smam.account WHERE handle = 'PlannedThree'});
for my $r (qw(a_nobody a_idle a_head2))
{
	($rc, $out, $err) = as_role($r, qq{SELECT smam.configure_account($three, '{"avatar": "mine"}')});
	like($err, qr/ERROR:  account $three does not exist or is not visible to you/,
		 "$r, holding no office for it, cannot configure another department's planned account");
}
($rc, $out, $err) = as_role('a_deputy', qq{UPDATE smam.account SET configuration = '{"avatar": "mine"}' WHERE id = $three});
like($err, qr/ERROR:  role "a_deputy" may not change account $three\nDETAIL:  An account is changed by the staff/,
     'a deputy head of the department cannot rewrite its planned account with a plain UPDATE');
($rc, $out, $err) = as_role('a_deputy', qq{UPDATE smam.account SET purpose = 'mine' WHERE id = $three});
like($err, qr/ERROR:  role "a_deputy" may not change account $three/, '... not even its purpose');
is(sql(qq{SELECT configuration::text, purpose IS NULL FROM smam.account WHERE id = $three}), '{}|t',
   'the account is as it was');
($rc, $out, $err) = as_role('a_staff', qq{SELECT smam.configure_account($three, '{"avatar": "fip:flag"}')});
is($err, '', 'the department\'s staff configures its planned account');

# ---- 10. owner-rights views and the caller's filter ----
# Every live account of the other departments was found redirected.
sql(q{INSERT INTO smam.account_url_check (account_id, department_id, url, outcome, http_status, location)
      SELECT a.id, a.department_id, a.url, 'redirected', 301, 'https://x.com/elsewhere' FROM smam.account a
       WHERE a.department_id <> 2 AND a.stage = 'implementation'});
for my $view (qw(account_tool_status account_url_finding))
{
	($rc, $out, $err) = as_role('a_head2', qq{SELECT count(*) FROM smam.$view
	   WHERE 1 / (CASE WHEN department_id <> 2 THEN 0 ELSE 1 END) = 1});
	is($err, '', "smam.$view: a filter that fails on hidden rows never sees them");
}
is(sql(q{SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c
          WHERE c.relnamespace = 'smam'::regnamespace AND c.relkind = 'v'
            AND NOT coalesce(c.reloptions && ARRAY['security_invoker=true', 'security_barrier=true'], false)}),
   '', 'every view of smam is security_invoker or security_barrier');

# ---- 11. state before authorization, holds_office, names, refuse ----
my $live = sql(q{SELECT min(id) FROM smam.account WHERE department_id = 1 AND stage = 'implementation'});
for my $call ("smam.transition(%s, 'creation')", "smam.submit(%s, 'disposition')", "smam.start_evaluation(%s)",
	"smam.attach_implementation_plan(%s, 4)", "smam.configure_account(%s, '{}')", "smam.move_problems(%s, 'evaluation')")
{
	my ($r1, $o1, $e1) = as_role('a_head2', 'SELECT ' . sprintf($call, $live));
	my ($r2, $o2, $e2) = as_role('a_head2', 'SELECT ' . sprintf($call, 987654));
	s/\b(?:$live|987654)\b/N/g for ($e1, $e2);
	next if $call =~ /move_problems/;
	like($e1, qr/ERROR:  account N does not exist or is not visible to you/, "$call: another department's account is not found");
	is($e1, $e2, "$call: the refusal is the same as for an account that does not exist");
}
($rc, $out, $err) = as_role('a_head2', q{SELECT * FROM smam.move_problems(} . $live . q{, 'evaluation')});
like($out, qr/^42704\|account \d+ does not exist or is not visible to you/, 'move_problems says only that');
($rc, $out, $err) = as_role('a_head2', q{SELECT smam.holds_office('a_head', 'head_of_communications', 1)});
like($err, qr/ERROR:  role "a_head2" may not ask who holds offices of department 1/,
     'holds_office() does not answer about a department the caller holds no office in');
is(as_role('a_head2', q{SELECT smam.holds_office('a_head2', 'head_of_communications', 2)}), 't',
   'it answers about the caller\'s own offices');
is(as_role('a_entity', q{SELECT smam.holds_office('a_head', 'head_of_communications', 1)}), 't',
   'and to a holder of a government-wide office');
# Issue 16, defect 6: the plan checks answered for any plan: "complete" for
# one that does not exist, "no PIA" for another department's.
for my $call ("smam.plan_missing(%s)", "smam.plan_pia_problem(%s, 'x')")
{
	my ($r1, $o1, $e1) = as_role('a_head2', 'SELECT ' . sprintf($call, 1));
	my ($r2, $o2, $e2) = as_role('a_head2', 'SELECT ' . sprintf($call, 987654));
	like($e1, qr/ERROR:  implementation plan 1 does not exist or is not visible to you/,
		 "$call: another department's plan is not found") or diag("out: $o1");
	s/implementation plan (?:1|987654) /implementation plan N /g for ($e1, $e2);
	is($e1, $e2, "$call: the refusal is the same as for a plan that does not exist");
}
is(as_role('a_head', q{SELECT smam.plan_pia_problem(1, 'x') IS NULL}), 't', 'the plan\'s own head is answered');
my $long = 'N' x 250;
($rc, $out, $err) = as_role('a_staff', qq{SELECT smam.plan_account(1, 'x', 'https://x.com/LongName', '$long', NULL, 'english')});
like($err, qr/ERROR:  an account's name is at most 200 characters\nDETAIL:  The English name has 250 characters/,
     'a name the index cannot publish is refused');
my $csv = "Account,Platform,Department,Language,URL,gc_orgID,wikidata_id,Date Added\n"
  . ('X' x 100_000) . ",X,Department One,English,https://x.com/HugeName,,,2020-01-01\n";
is(sql("SET ROLE a_entity; SELECT created, rejected FROM smam.import_index('$csv', accept_disappearance => true)"), '0|1',
   'an imported row with a 100,000-character name is rejected, not published');
is(sql(q{SELECT reason FROM smam.index_reject ORDER BY import_id DESC, row_number DESC LIMIT 1}),
   q{The account's name has 100000 characters; the index publishes at most 200.}, '... with the reason');
($rc, $out, $err) = as_role('a_staff', q{SELECT smam.refuse('00000', NULL, 'all is well')}, verbose => 1);
like($err, qr/ERROR:  22023: SQLSTATE "00000" is not an error/, 'smam.refuse() refuses a success code');

# ---- 5 (the review). An ended office, and a statement run from a cached plan ----
# a_clerk keeps an office that lets it see the department (deputy head) and
# loses the one that lets it change accounts (staff), ended before its
# transaction began; its prepared UPDATE must see that.
my $clerk_staff = sql(q{SELECT id FROM smam.appointment WHERE principal = 'a_clerk' AND office = 'department_staff'});
$node->remember_password('a_clerk', $pw);
my $c = $node->background_psql('postgres', on_error_stop => 0, extra_params => ['-U', 'a_clerk']);
$c->query_safe(qq{PREPARE u(text) AS UPDATE smam.account SET purpose = \$1 WHERE id = $three});
$c->query_safe(q{BEGIN; EXECUTE u('while staff')});
sql(qq{SET ROLE a_admin; SELECT smam.end_appointment($clerk_staff, 'removed', now() - interval '1 minute')});
$c->{stderr} = '';
$c->query(q{EXECUTE u('after removal')});
like($c->{stderr}, qr/ERROR:  role "a_clerk" may not change account $three/,
     'an office that ended is not remembered by a prepared statement of the same session');
$c->query('ROLLBACK');
$c->quit;

# ---- 12. two appointments of one principal at once ----
my $a = $node->background_psql('postgres', on_error_stop => 0);
my $b = $node->background_psql('postgres', on_error_stop => 0);
$a->query_safe(q{BEGIN; SET ROLE a_admin; SELECT smam.appoint('a_appointee', 'department_staff', 1, '2030-01-01', '2031-01-01')});
$b->query_until(qr/started/, "\\echo started\nBEGIN; SET ROLE a_admin; SELECT smam.appoint('a_appointee', 'department_staff', 1, '2030-06-01', '2031-06-01');\n");
ok($node->poll_query_until('postgres', "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"),
   'the second appointment waits for the first');
$a->query_safe('COMMIT');
$b->query("SELECT 'synced'");
like($b->{stderr}, qr/ERROR:  "a_appointee" already holds office department_staff for department 1 over part of this term/,
     'the second, overlapping appointment is refused');
$b->query('ROLLBACK');
$a->quit;
$b->quit;
is(sql(q{SELECT count(*) FROM smam.appointment WHERE principal = 'a_appointee'}), '1', 'one appointment stands');

# ---- (review of 1.1) a department's code run by a superuser's maintenance ----
# In a security-restricted operation the code of an object (an index
# expression, a materialized view's query) runs as its owner while the outer
# user is whoever started it: autovacuum's bootstrap superuser, or a DBA. smam
# acted as the outer user: a head of communications with CREATE on a schema
# (a database owner's grant, or public in a database from PostgreSQL 14) read
# every department's accounts through the statistics of an expression index.
sql(q{SET ROLE a_entity; SELECT smam.onboard_account(2, 'x', 'https://x.com/DeptTwoHidden', 'Two', 'Deux', 'bilingual', 'test');
      RESET ROLE; CREATE SCHEMA att AUTHORIZATION a_head; CREATE SCHEMA ana AUTHORIZATION a_analyst;});
my ($rc2, $out2, $err2) = as_role('a_head', [
  q{CREATE FUNCTION att.peek(i int) RETURNS text LANGUAGE sql IMMUTABLE
      AS $$ SELECT string_agg(department_id::text, ',' ORDER BY department_id) FROM smam.account_tool_status $$},
  q{CREATE FUNCTION att.peek_definer(i int) RETURNS text LANGUAGE sql IMMUTABLE
      AS $$ SELECT string_agg(DISTINCT department_id::text, ',') FROM smam.compliance_findings_as_of(now()) $$},
  q{CREATE TABLE att.t (i int)}, q{INSERT INTO att.t SELECT 1 FROM generate_series(1, 50)},
  q{CREATE INDEX t_peek ON att.t (att.peek(i))},
  q{CREATE TABLE att.t2 (i int)}, q{INSERT INTO att.t2 SELECT 1 FROM generate_series(1, 50)},
  q{CREATE INDEX t2_peek ON att.t2 (att.peek_definer(i))}]);
ok($rc2, 'the head of communications builds expression indexes over smam (as itself)') or diag($err2);
my $own = as_role('a_head', q{SELECT string_agg(department_id::text, ',' ORDER BY department_id) FROM smam.account_tool_status});
like($own, qr/^1(,1)+$/, 'called directly, it sees its own department\'s accounts only');
is(sql(q{SELECT count(*) FROM smam.account WHERE department_id = 2}), '1', 'department 2 has an account it may not see');
sql('ANALYZE att.t');
is(as_role('a_head', q{SELECT most_common_vals::text FROM pg_stats WHERE schemaname = 'att' AND tablename = 't_peek'}), qq{{"$own"}},
   'a superuser\'s ANALYZE runs the index expression as its owner: the statistics hold its own rows, not department 2\'s');
my ($rc3, $out3, $err3) = $node->psql('postgres', 'ANALYZE att.t2');
like($err3, qr/smam cannot tell who acts inside this security-restricted operation/,
     'where the code calls a function of smam with raised rights, the superuser\'s ANALYZE is refused, not answered as the superuser');
is(as_role('a_head', q{SELECT count(*) FROM pg_stats WHERE schemaname = 'att' AND tablename = 't2_peek'}), '0',
   '... and no statistics tell anything');
my (undef, undef, $err4) = as_role('a_head', q{SET smam.own_restricted_operation = on});
like($err4, qr/permission denied to set parameter "smam.own_restricted_operation"/,
     'the setting by which smam marks its own restricted queries is not the department\'s to set');
# An analyst's own materialized view over the compliance views, refreshed by
# the analyst: smam acts as the analyst (every department's findings).
is(as_role('a_analyst', [
  q{CREATE MATERIALIZED VIEW ana.findings AS SELECT count(DISTINCT department_id) AS n FROM smam_report.compliance_findings},
  q{REFRESH MATERIALIZED VIEW ana.findings},
  q{SELECT (SELECT n FROM ana.findings) = (SELECT count(DISTINCT department_id) FROM smam_report.compliance_findings)}]), 't',
   'an analyst\'s own materialized view over the compliance views refreshes, as the analyst');

is(sql(q{SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolsuper AND rolname LIKE 'a\_%'}), '',
   'in the end, no attacking role is a superuser');
is(sql('SELECT holds FROM smam.verify_audit_log()'), 't', 'and the audit chain holds');

$node->stop;
done_testing();

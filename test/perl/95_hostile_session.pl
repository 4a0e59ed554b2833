# The hostile session (issue 15): every role an attacker could be, each
# connecting as itself, plants look-alikes of what smam's code uses and
# turns every setting that changes what SQL means, then acts through every
# SECURITY DEFINER function and every trigger of smam.
#
# Planted, in each attacker's session (pg_temp), and by a non-superuser
# database owner in public (with ALTER DATABASE ... SET search_path putting
# public first, which every later connection takes, the publishing worker's
# included): domains named like the types smam casts to and like smam's own
# types, functions and aggregates named like those it calls (and like its
# own), operators for any enum, text, bigint, integer, dates, timestamps,
# names and jsonb (and, in pg_temp, for smam's enum types, which the
# database owner cannot name), views named like its tables and like the
# catalog's. Each calls evil(), which, should it ever run with raised
# rights, leaves evidence that survives a rollback (a WARNING and a sequence
# value), a row in a superuser-owned canary table, and makes the attacker
# (for public's, the database owner) a superuser holding smam_admin,
# smam_entity and smam_tbs. Settings: search_path (five orders, pg_temp or
# public before pg_catalog), row_security off, standard_conforming_strings
# off, transform_null_equals on, DateStyle 'SQL, DMY', IntervalStyle
# sql_standard, TimeZone Pacific/Kiritimati, extra_float_digits -15,
# bytea_output escape, lc_monetary, array_nulls off.
#
# 1. The sweep: every SECURITY DEFINER function (the list is read from the
#    catalog and must equal the probes below), and the direct writes the
#    grants allow, called by every role in a benign session and in the
#    hostile one, each in a transaction rolled back: the outcomes (value,
#    or SQLSTATE, message, detail and hint) must be the same; a single
#    SELECT also as COPY (SELECT ...) TO STDOUT with row_security off. No
#    role may TRUNCATE or write the catalogue, the log or a record.
# 2. Committed acts in the hostile sessions, each first tried in a benign
#    session and rolled back (same outcome required), each tagged with its
#    application_name: every change must be in the audit log under the
#    acting role; then the same through SET row_security = off; COPY (SELECT
#    smam.f(...)) TO STDOUT.
# 3. Leaky functions and errors under the owner-rights views, refusals that
#    must not tell another department's state, configure_account on another
#    department's account, and the cursor game on smam.compliance_findings
#    (a function in the query closes the stream's portal and declares its
#    own under the same name).
# 4. Then: the canary is empty, nobody became superuser or gained a role,
#    the audit log verifies, every row of every audited table has its INSERT
#    in the log, and every trigger (the list is read from the catalog and
#    must equal the list below) was reached. The publishing worker claims
#    deliveries throughout, under the database owner's search_path.
#
# Assertions that failed on the code of d507173 and 72160f4 name the hole
# they found in a comment marked "HOLE (fixed)": each holds now, and fails
# again if the hole comes back.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use SmamTest;
use Digest::SHA ();

my $started = time;

# ---- a stand-in for the platforms (test/lib/http_server.pl) ----
my $src = $ENV{SMAM_SRC} // '.';
my $tmp = PostgreSQL::Test::Utils::tempdir();
my ($portfile, $httplog) = ("$tmp/port", "$tmp/requests.log");
my $server = fork // die "fork: $!";
if ($server == 0) { exec 'perl', "$src/test/lib/http_server.pl", $portfile, $httplog or die "exec: $!" }
END { kill 'TERM', $server if $server }
for (1 .. 100) { last if -s $portfile; sleep 0.1 }
open my $pfh, '<', $portfile or die "the test server did not start";
chomp(my $port = <$pfh>);
my $closed = do {    # a port nobody listens on
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0);
    my $p = $s->sockport; close $s; $p;
};

my $node = SmamTest->new('hostile');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'smam'
smam.worker_databases = 'hostile'
smam.worker_restart_delay = 1
smam.worker_idle_timeout = 500
smam.http_timeout = '3s'
max_connections = 80
timezone = 'UTC'
});
$node->start;

# ---- the attackers, each a login role connecting as itself ----
my @attackers = qw(h_admin h_official h_reviewer h_head h_designate h_staff h_deputy h_other
                   h_tbs h_analyst h_public h_dbowner);
my %who = (h_admin => 'administrator (smam_admin)', h_official => 'entity official (smam_entity)',
            h_reviewer => 'entity reviewer (smam_entity)',
            h_head => 'head of communications of department one (smam_department)',
            h_designate => 'designate of department one (smam_department)',
            h_staff => 'staff of department one (smam_department)',
            h_deputy => 'deputy head of department one (smam_department)',
            h_other => 'head of communications of department two (smam_department)',
            h_tbs => 'TBS analyst (smam_tbs)', h_analyst => 'analyst (smam_analyst)',
            h_public => 'the public (smam_public)', h_dbowner => 'owner of the database, no smam role');
note join "\n", 'attackers:', map { "  $_: $who{$_}" } @attackers;
# The one role each is granted.
my %member_of = (h_admin => 'smam_admin', h_official => 'smam_entity', h_reviewer => 'smam_entity', h_head => 'smam_department',
                 h_designate => 'smam_department', h_staff => 'smam_department', h_deputy => 'smam_department',
                 h_other => 'smam_department', h_tbs => 'smam_tbs', h_analyst => 'smam_analyst', h_public => 'smam_public',
                 h_dbowner => '');

# The search_path orders the hostile sessions take, in turn.
my @orders = ('pg_temp, public, smam, pg_catalog', 'public, pg_temp, pg_catalog, smam',
              'smam, pg_temp, public, pg_catalog', 'pg_temp, pg_catalog, public, smam', 'public, pg_temp');

# ---- what is planted ----

# evil(): run with raised rights, it leaves evidence; run as the attacker, it
# fails quietly and returns true, so that it never changes a result.
sub evil_sql {
    my ($s, $beneficiary) = @_;
    return qq{
CREATE FUNCTION $s.evil(tag pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp AS \$f\$
BEGIN
  IF current_user OPERATOR(pg_catalog.<>) session_user THEN
    RAISE WARNING 'smam-canary: % ran as % in the session of %', tag, current_user, session_user;
  END IF;
  BEGIN
    INSERT INTO canary.hit (tag, ran_as, session_role) VALUES (tag, current_user, session_user);
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  BEGIN
    PERFORM pg_catalog.nextval('canary.hit_seq');
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  BEGIN
    EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', $beneficiary);
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  BEGIN
    EXECUTE pg_catalog.format('GRANT smam_admin, smam_entity, smam_tbs TO %I', $beneficiary);
  EXCEPTION WHEN OTHERS THEN NULL;
  END;
  RETURN true;
END \$f\$;
};
}

# Functions named like those smam calls: [name, arguments, result, body].
my @shadow_functions = (
    ['now', '', 'timestamptz'], ['clock_timestamp', '', 'timestamptz'], ['lower', 'text', 'text'],
    ['upper', 'text', 'text'], ['btrim', 'text', 'text'], ['btrim', 'text, text', 'text'],
    ['length', 'text', 'int4'], ['left', 'text, int4', 'text'], ['substr', 'text, int4', 'text'],
    ['substr', 'text, int4, int4', 'text'], ['replace', 'text, text, text', 'text'],
    ['translate', 'text, text, text', 'text'], ['split_part', 'text, text, int4', 'text'],
    ['regexp_replace', 'text, text, text', 'text'], ['regexp_replace', 'text, text, text, text', 'text'],
    ['format', 'text', 'text'], ['format', 'text, text', 'text'], ['format', 'text, text, text', 'text'],
    ['format', 'text, int8', 'text'], ['initcap', 'text', 'text'], ['starts_with', 'text, text', 'bool'],
    ['md5', 'text', 'text'], ['sha256', 'bytea', 'bytea'], ['encode', 'bytea, text', 'text'],
    ['decode', 'text, text', 'bytea'], ['convert_to', 'text, text', 'bytea'],
    ['array_to_string', 'text[], text', 'text'], ['cardinality', 'text[]', 'int4'],
    ['array_length', 'text[], int4', 'int4'], ['to_char', 'timestamptz, text', 'text'],
    ['to_char', 'date, text', 'text'], ['date_trunc', 'text, timestamptz', 'timestamptz'],
    ['jsonb_build_object', 'text, text', 'jsonb'], ['jsonb_build_object', 'text, int8', 'jsonb'],
    ['jsonb_typeof', 'jsonb', 'text'], ['to_jsonb', 'text', 'jsonb'], ['jsonb_array_length', 'jsonb', 'int4'],
    ['nextval', 'regclass', 'int8'], ['current_setting', 'text', 'text'],
    ['set_config', 'text, text, bool', 'text'], ['pg_has_role', 'name, text, text', 'bool'],
    ['gen_random_uuid', '', 'uuid'], ['pg_backend_pid', '', 'int4'], ['concat_ws', 'text, text, text', 'text'],
    ['isfinite', 'date', 'bool'], ['current_database', '', 'name'], ['quote_ident', 'text', 'text'],
    ['unnest', 'text[]', 'SETOF text', 'RETURN QUERY SELECT * FROM pg_catalog.unnest($1);'],
    ['enum_range', 'anyenum', 'anyarray'],
    # smam's own names, should anything call them unqualified
    ['acting_role', '', 'name', 'RETURN NULL;'], ['today', '', 'date', 'RETURN NULL;'],
    ['today', 'timestamptz', 'date', 'RETURN NULL;'], ['time_zone', '', 'text', 'RETURN NULL;'],
    ['holds_office', 'name, text, int8, timestamptz', 'bool', 'RETURN true;'],
    ['my_departments', 'timestamptz', 'int8[]', 'RETURN NULL;'], ['sees_all', 'timestamptz', 'bool', 'RETURN true;'],
    ['refuse', 'text, text, text, text, text', 'void', 'RETURN;'], ['restoring_dump', '', 'bool', 'RETURN true;'],
    ['moment_text', 'timestamptz', 'text', 'RETURN NULL;'], ['date_text', 'date', 'text', 'RETURN NULL;'],
    ['interval_text', 'interval', 'text', 'RETURN NULL;'], ['enforced', 'timestamptz', 'bool', 'RETURN false;'],
);

# Operators: [operator, left, right, result].
my @shadow_operators;
for my $t (qw(anyenum text int8 int4 timestamptz date name)) {
    push @shadow_operators, map { [$_, $t, $t, 'bool'] } qw(= <> < <= > >=);
}
push @shadow_operators, ['=', 'int8', 'int4', 'bool'], ['||', 'text', 'text', 'text'], ['||', 'text[]', 'text', 'text[]'],
  ['+', 'int8', 'int8', 'int8'], ['+', 'int4', 'int4', 'int4'], ['+', 'date', 'int4', 'date'],
  ['+', 'timestamptz', 'interval', 'timestamptz'], ['-', 'int8', 'int8', 'int8'], ['-', 'int4', 'int4', 'int4'],
  ['-', 'date', 'int4', 'date'], ['-', 'date', 'date', 'int4'], ['-', 'timestamptz', 'timestamptz', 'interval'],
  ['-', 'timestamptz', 'interval', 'timestamptz'], ['->>', 'jsonb', 'text', 'text'], ['->', 'jsonb', 'text', 'jsonb'],
  ['?', 'jsonb', 'text', 'bool'], ['~', 'text', 'text', 'bool'], ['!~', 'text', 'text', 'bool'],
  ['#>>', 'jsonb', 'text[]', 'text'];

# Types: domains named like those smam casts to, and like smam's own types.
my @shadow_types = qw(jsonb json text varchar int8 int4 int2 numeric bool name timestamptz timestamp date
                      interval inet cidr regclass regtype regprocedure regnamespace uuid bytea oid float8);
my @shadow_smam_types = qw(stage office official_language submission_kind review_status approval_status
                           platform_review_kind review_outcome specification_rule post_status delivery_status
                           application import_summary);
my @shadow_catalog_relations = qw(pg_roles pg_authid pg_class pg_namespace pg_proc pg_database pg_extension
                                  pg_enum pg_cursors pg_stat_activity pg_settings pg_type pg_trigger
                                  pg_attribute pg_index pg_auth_members);

sub plant_sql {
    my ($s, @relations) = @_;
    # Who would profit: the attacker in whose session it runs, or the
    # database owner for what it planted in public.
    my @q = (evil_sql($s, $s eq 'public' ? "'h_dbowner'" : 'session_user'));
    my $n = 0;
    for my $f (@shadow_functions) {
        my ($name, $args, $ret, $body) = @$f;
        my @a = split /,\s*/, $args;
        my $call = join ', ', map { '$' . $_ } 1 .. @a;
        $body //= "RETURN pg_catalog.\"$name\"($call);";
        push @q, qq{CREATE FUNCTION $s."$name"($args) RETURNS $ret LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp AS \$f\$ BEGIN PERFORM $s.evil('function $s.$name($args)'); $body END \$f\$;};
    }
    # aggregates
    push @q, qq{CREATE FUNCTION $s.h_count_sf(int8) RETURNS int8 LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS \$f\$ SELECT CASE WHEN $s.evil('aggregate $s.count(*)') THEN \$1 + 1 END \$f\$;},
      qq{CREATE AGGREGATE $s.count(*) (sfunc = $s.h_count_sf, stype = int8, initcond = '0');},
      qq{CREATE FUNCTION $s.h_string_agg_sf(text, text, text) RETURNS text LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS \$f\$ SELECT CASE WHEN $s.evil('aggregate $s.string_agg(text, text)') THEN
    CASE WHEN \$2 IS NULL THEN \$1 WHEN \$1 IS NULL THEN \$2 ELSE \$1 || \$3 || \$2 END END \$f\$;},
      qq{CREATE AGGREGATE $s.string_agg(text, text) (sfunc = $s.h_string_agg_sf, stype = text);},
      qq{CREATE FUNCTION $s.h_array_agg_sf(text[], text) RETURNS text[] LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS \$f\$ SELECT CASE WHEN $s.evil('aggregate $s.array_agg(text)') THEN pg_catalog.array_append(\$1, \$2) END \$f\$;},
      qq{CREATE AGGREGATE $s.array_agg(text) (sfunc = $s.h_array_agg_sf, stype = text[]);},
      qq{CREATE FUNCTION $s.h_jsonb_agg_sf(jsonb, jsonb) RETURNS jsonb LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS \$f\$ SELECT CASE WHEN $s.evil('aggregate $s.jsonb_agg(jsonb)') THEN
    COALESCE(\$1, '[]') || pg_catalog.jsonb_build_array(\$2) END \$f\$;},
      qq{CREATE AGGREGATE $s.jsonb_agg(jsonb) (sfunc = $s.h_jsonb_agg_sf, stype = jsonb);},
      qq{CREATE FUNCTION $s.h_bool_and_sf(bool, bool) RETURNS bool LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS \$f\$ SELECT CASE WHEN $s.evil('aggregate $s.bool_and(bool)') THEN \$1 AND \$2 END \$f\$;},
      qq{CREATE AGGREGATE $s.bool_and(bool) (sfunc = $s.h_bool_and_sf, stype = bool);};
    for my $o (@shadow_operators) {
        my ($op, $l, $r, $ret) = @$o;
        $n++;
        push @q, qq{CREATE FUNCTION $s.h_op_$n($l, $r) RETURNS $ret LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS \$f\$ SELECT CASE WHEN $s.evil('operator $s.$op($l, $r)') THEN \$1 OPERATOR(pg_catalog.$op) \$2 END \$f\$;},
          qq{CREATE OPERATOR $s.$op (LEFTARG = $l, RIGHTARG = $r, FUNCTION = $s.h_op_$n);};
    }
    for my $rel (@relations, @shadow_catalog_relations) {
        push @q, qq{CREATE VIEW $s."$rel" AS SELECT 1 AS id WHERE $s.evil('relation $s.$rel');};
    }
    for my $t (@shadow_types) {
        push @q, qq{CREATE DOMAIN $s."$t" AS pg_catalog."$t" CHECK ($s.evil('type $s.$t'));};
    }
    for my $t (@shadow_smam_types) {
        push @q, qq{CREATE DOMAIN $s."$t" AS pg_catalog.text CHECK ($s.evil('type $s.$t'));};
    }
    return join "\n", @q;
}

# In each attacker's session only: a leaky function for the owner-rights
# views, and the cursor game on the findings stream.
my $smam_type_operators = join "\n", map {
    my $t = $_;
    map { my $n = "h_${t}_" . length($_) . ($_ =~ /[<>]/ ? ord($_) : ''); (
      qq{CREATE FUNCTION pg_temp.$n(smam.$t, smam.$t) RETURNS pg_catalog.bool LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS \$f\$ SELECT CASE WHEN pg_temp.evil('operator pg_temp.$_(smam.$t, smam.$t)') THEN \$1 OPERATOR(pg_catalog.$_) \$2 END \$f\$;},
      qq{CREATE OPERATOR pg_temp.$_ (LEFTARG = smam.$t, RIGHTARG = smam.$t, FUNCTION = pg_temp.$n);}) } qw(= <> < >)
} qw(stage official_language office approval_status review_status submission_kind post_status delivery_status);

my $session_tools = q{
CREATE TABLE pg_temp.seen (v pg_catalog.text);
CREATE TABLE pg_temp.shown (v pg_catalog.text);
CREATE FUNCTION pg_temp.leak(pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE plpgsql COST 0.0000001
  SET search_path = pg_catalog, pg_temp
  AS $f$ BEGIN INSERT INTO pg_temp.seen VALUES ($1); RETURN true; END $f$;
CREATE FUNCTION pg_temp.hijack() RETURNS pg_catalog.bool LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  c refcursor;
  names text[];
BEGIN
  IF current_setting('hostile.hijacked', true) = 'y' THEN
    RETURN true;
  END IF;
  PERFORM set_config('hostile.hijacked', 'y', true);
  SELECT array_agg(x.name) INTO names FROM pg_catalog.pg_cursors x;
  names := coalesce(names, '{}') || ARRAY(SELECT '<unnamed portal ' || g || '>' FROM generate_series(1, 300) g);
  FOR i IN 1 .. cardinality(names) LOOP
    BEGIN
      EXECUTE format('CLOSE %I', names[i]);
      c := names[i];
      OPEN c FOR SELECT 'x'::text, NULL::int8, 'x'::text, 'x'::text, 'x'::text, NULL::int8, 'x'::text, 'x'::text,
                        now(), 'x'::text
                  WHERE pg_temp.evil('cursor ' || names[i] || ' declared by the caller, fetched by the findings stream');
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
  END LOOP;
  RETURN true;
END $f$;
};

my $hostile_settings = q{
SET standard_conforming_strings = off;
SET escape_string_warning = off;
SET transform_null_equals = on;
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = sql_standard;
SET TimeZone = 'Pacific/Kiritimati';
SET extra_float_digits = -15;
SET bytea_output = escape;
SET lc_monetary = 'C';
SET array_nulls = off;
SET row_security = off;
};

# ---- sessions ----
my @canary_seen;    # [where, text of the warning]

sub run {
    my ($s, $sql, $where) = @_;
    $s->{stderr} = '';
    my $out = $s->query($sql);
    my $err = $s->{stderr};
    push @canary_seen, map { [$where // '?', $_] } $err =~ /smam-canary: ([^\n]*)/g;
    return ($out, $err);
}

sub outcome {
    my ($out, $err, $with_value) = @_;
    if ($err =~ /ERROR:\s+([0-9A-Z]{5}): ([^\n]*)(.*)/s) {
        my ($state, $msg, $rest) = ($1, $2, $3);
        my ($detail) = $rest =~ /^DETAIL:\s+([^\n]*)/m;
        my ($hint) = $rest =~ /^HINT:\s+([^\n]*)/m;
        my $o = "ERROR $state: $msg | DETAIL: " . ($detail // '') . " | HINT: " . ($hint // '');
        $o =~ s/\d\d:\d\d:\d\d(\.\d+)?/hh:mm:ss/g;    # moments in texts: the two runs are a second apart
        return $o;
    }
    return $with_value ? "OK $out" : 'OK';
}

sub open_session {
    my ($role, $db) = @_;
    my $s = $node->background_psql($db // 'hostile', on_error_stop => 0, extra_params => ['-U', $role]);
    $s->set_query_timer_restart;
    run($s, "\\set VERBOSITY verbose\nSET search_path = pg_catalog, pg_temp;\nSET client_min_messages = warning;");
    return $s;
}

# ---- the database, its owner's plants, smam ----
$node->safe_psql('postgres', qq{
  CREATE ROLE h_dbowner LOGIN;
  CREATE DATABASE hostile OWNER h_dbowner;
});
$node->set_password('h_dbowner');
# The test's own superuser sessions set their search_path first thing: the
# database owner's setting would otherwise put public first for them too.
# (Not ALTER ROLE ... IN DATABASE: the publishing worker connects as that
# role, and would be protected by it.)
my $canary = q{
  SET search_path = pg_catalog, pg_temp;
  CREATE SCHEMA canary;
  CREATE TABLE canary.hit (tag text, ran_as name, session_role name, at timestamptz DEFAULT clock_timestamp());
  CREATE SEQUENCE canary.hit_seq;
};
$node->safe_psql('hostile', $canary);
# The names of smam's relations, as the extension will create them (read
# from a scratch database).
$node->safe_psql('postgres', 'CREATE DATABASE scratch');
$node->safe_psql('scratch', 'CREATE EXTENSION smam');
my @smam_relations = split /\n/, $node->safe_psql('scratch',
    "SELECT relname FROM pg_class WHERE relnamespace = 'smam'::regnamespace AND relkind IN ('r', 'v', 'S') ORDER BY 1");

# What the extension script stored: the catalogue's rows, constraints and
# defaults, read the same way whatever the database's defaults.
sub installed {
    my ($db) = @_;
    my ($rc, $out, $err) = $node->psql($db, q{
SET standard_conforming_strings = on; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = postgres; SET extra_float_digits = 1;
SET search_path = pg_catalog, pg_temp;
SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
  SELECT 'platform ' || p::text FROM smam.platform p UNION ALL
  SELECT 'host ' || h::text FROM smam.platform_host h UNION ALL
  SELECT 'alias ' || a::text FROM smam.platform_alias a UNION ALL
  SELECT 'specification ' || t::text FROM smam.technical_specification t UNION ALL
  SELECT 'requirement ' || r::text FROM smam.requirement r UNION ALL
  SELECT 'dictionary ' || r::text FROM smam.report_dictionary r UNION ALL
  SELECT 'instrument ' || i::text FROM smam.instrument i UNION ALL
  SELECT 'department ' || concat_ws('/', d.id, d.name_en, d.name_fr, d.agent_of_parliament) FROM smam.department d UNION ALL
  SELECT 'constraint ' || c.conrelid::regclass || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c
   WHERE c.connamespace = 'smam'::regnamespace UNION ALL
  SELECT 'default ' || d.adrelid::regclass || ' ' || d.adnum || ' ' || pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
   WHERE d.adrelid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'smam'::regnamespace)) s(x)});
    return $rc == 0 ? $out : "not installed: $err";
}
my $clean = installed('scratch');
$node->safe_psql('postgres', 'DROP DATABASE scratch');

# A DBA installs smam into a database whose owner set hostile defaults
# (and planted in public): the install must succeed, run nothing planted,
# and store what it stores anywhere else.
$node->safe_psql('postgres', 'CREATE DATABASE owned OWNER h_dbowner');
$node->safe_psql('owned', $canary);
{
    my $owner = open_session('h_dbowner', 'owned');
    my ($o, $e) = run($owner, plant_sql('public', @smam_relations) . qq{
ALTER DATABASE owned SET search_path = public, pg_catalog;
ALTER DATABASE owned SET standard_conforming_strings = off;
ALTER DATABASE owned SET escape_string_warning = off;
ALTER DATABASE owned SET transform_null_equals = on;
ALTER DATABASE owned SET DateStyle = 'SQL, DMY';
ALTER DATABASE owned SET IntervalStyle = sql_standard;
ALTER DATABASE owned SET TimeZone = 'Pacific/Kiritimati';
ALTER DATABASE owned SET extra_float_digits = -15;
ALTER DATABASE owned SET bytea_output = escape;
ALTER DATABASE owned SET array_nulls = off;}, 'planting (database owner, before the install)');
    die "the database owner's plants failed: $e" if $e =~ /ERROR/;
    $owner->quit;
    my ($rc, $out, $err) = $node->psql('owned', 'CREATE EXTENSION smam');
    # HOLE (fixed): the extension script runs in the installing session's
    # standard_conforming_strings; with it off, the expression indexes on
    # smam.department call smam.department_name_key(), whose U&'...' is
    # then an error (sql/smam/70_index_import.sql), and the script's own
    # literals with backslashes (platform patterns and rewrites '\.', '\?',
    # '\1' in 30_platforms.sql, the e-mail CHECK in 40_people.sql, the
    # notice_link specification in 63_specifications.sql) would be stored
    # with their backslashes read as escapes.
    is($err =~ /ERROR/ ? $err : '', '', 'CREATE EXTENSION smam succeeds in a database whose owner set hostile defaults');
    is(installed('owned'), $clean, '... and stores the catalogue, constraints and defaults it stores in any database');
    is($node->safe_psql('owned', q{SET search_path = pg_catalog; SELECT count(*), (SELECT is_called FROM canary.hit_seq) FROM canary.hit}),
       '0|f', '... running nothing the database owner planted');
}

{
    my $owner = open_session('h_dbowner');
    my ($o, $e) = run($owner, plant_sql('public', @smam_relations) . "\nALTER DATABASE hostile SET search_path = public, pg_catalog;",
                      'planting (database owner)');
    die "the database owner's plants failed: $e" if $e =~ /ERROR/;
    $owner->quit;
}
# The DBA installs under the database owner's search_path (public first).
$node->safe_psql('hostile', 'CREATE EXTENSION smam');
is(installed('hostile'), $clean, 'installed under the database owner\'s search_path, smam stores what it stores in any database');
# The publishing worker reconnects (as after any restart) and takes the
# database's settings.
{
    my $pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'");
    $node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)") if $pid;
    for (1 .. 100) {
        my $new = $node->safe_psql('postgres',
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'smam publishing worker' AND datname = 'hostile'");
        last if $new && (!$pid || $new ne $pid);
        sleep 0.1;
    }
}

# ---- the data every function needs, set up by the superuser acting as each
# role (SET ROLE): the set-up is not the attack ----
my $adm = $node->background_psql('hostile');
$adm->query_safe('SET search_path = pg_catalog, pg_temp; SET client_min_messages = warning');
sub su { my $r = $adm->query_safe($_[0]); chomp $r; return $r }
sub as { my ($role, $sql) = @_; return su("SET ROLE $role;\n$sql;\nRESET ROLE") }

su(q{
  CREATE ROLE h_admin LOGIN IN ROLE smam_admin;
  CREATE ROLE h_official LOGIN IN ROLE smam_entity;
  CREATE ROLE h_reviewer LOGIN IN ROLE smam_entity;
  CREATE ROLE h_head LOGIN IN ROLE smam_department;
  CREATE ROLE h_designate LOGIN IN ROLE smam_department;
  CREATE ROLE h_staff LOGIN IN ROLE smam_department;
  CREATE ROLE h_deputy LOGIN IN ROLE smam_department;
  CREATE ROLE h_other LOGIN IN ROLE smam_department;
  CREATE ROLE h_tbs LOGIN IN ROLE smam_tbs;
  CREATE ROLE h_analyst LOGIN IN ROLE smam_analyst;
  CREATE ROLE h_public LOGIN IN ROLE smam_public;
  CREATE ROLE h_unreg LOGIN IN ROLE smam_department;
  CREATE ROLE h_unreg2 LOGIN IN ROLE smam_department;
  SELECT smam.register_principal('h_admin', 'Admin', 'admin@example.gc.ca');
  SELECT smam.appoint('h_admin', 'administrator', NULL, '2020-01-01');
});
# Each attacker connects as itself with its password (over TCP in make test's
# second pass, where no connection is trusted).
$node->set_password($_) for grep { $_ ne 'h_dbowner' } @attackers;
my %id;
$id{D1} = as('h_admin', "SELECT smam.add_department('Department One', 'Ministère Un')");
$id{D2} = as('h_admin', "SELECT smam.add_department('Department Two', 'Ministère Deux')");
$id{D3} = as('h_admin', "SELECT smam.add_department('Department Three', 'Ministère Trois')");
as('h_admin', qq{
  SELECT smam.register_principal('h_official', 'Official', 'official\@example.gc.ca');
  SELECT smam.register_principal('h_reviewer', 'Reviewer', 'reviewer\@example.gc.ca');
  SELECT smam.register_principal('h_tbs', 'Analyst at TBS', 'tbs\@example.gc.ca');
  SELECT smam.register_principal('h_head', 'Head', 'head\@example.gc.ca', $id{D1});
  SELECT smam.register_principal('h_designate', 'Designate', 'designate\@example.gc.ca', $id{D1});
  SELECT smam.register_principal('h_staff', 'Staff', 'staff\@example.gc.ca', $id{D1});
  SELECT smam.register_principal('h_deputy', 'Deputy', 'deputy\@example.gc.ca', $id{D1});
  SELECT smam.register_principal('h_other', 'Other head', 'other\@example.gc.ca', $id{D2});
  SELECT smam.appoint('h_official', 'entity_official', NULL, '2020-01-01');
  SELECT smam.appoint('h_reviewer', 'entity_reviewer', NULL, '2020-01-01');
  SELECT smam.appoint('h_tbs', 'tbs_analyst', NULL, '2020-01-01');
  SELECT smam.appoint('h_head', 'head_of_communications', $id{D1}, '2020-01-01');
  SELECT smam.appoint('h_staff', 'department_staff', $id{D1}, '2020-01-01');
  SELECT smam.appoint('h_staff', 'department_staff', $id{D2}, '2020-01-01');
  SELECT smam.appoint('h_deputy', 'deputy_head', $id{D1}, '2020-01-01');
  SELECT smam.appoint('h_other', 'head_of_communications', $id{D2}, '2020-01-01');
  SELECT smam.record_effective_date(r, '2014-04-01', 'TBS notice') FROM unnest(ARRAY['6.1.3', '6.1.4', '6.2.4']) r
});
$id{APPT_designate} = as('h_head', "SELECT smam.delegate('h_designate', now() + interval '60 days')");

my $good = '{"avatar": "fip:canada-wordmark", "display_name": "Department One", "notice_url": "https://www.canada.ca/en/one/notice.html", "description_en": "Notices", "description_fr": "Avis"}';
(my $good_live = $good) =~ s/"Department One"/"Department One, live"/;
my $strategy_args = "'m', 'b', 'a', 'g', 'p', 'l'";
my $plan_args = "'b', 'r', 'r', 'r', 'm', 'p', 'c'";
$id{S1} = as('h_staff', "SELECT smam.draft_strategy($id{D1}, 'Strategy One', $strategy_args)");
as('h_head', "SELECT smam.approve_strategy($id{S1})");
$id{S2} = as('h_staff', "SELECT smam.draft_strategy($id{D2}, 'Strategy Two', $strategy_args)");
as('h_other', "SELECT smam.approve_strategy($id{S2})");
$id{S1d} = as('h_staff', "SELECT smam.draft_strategy($id{D1}, 'Program strategy', $strategy_args, 'Program X')");
$id{P1} = as('h_staff', "SELECT smam.draft_plan($id{D1}, 'Plan One', $plan_args)");
as('h_staff', "SELECT smam.plan_pia($id{P1}, 'x'); SELECT smam.plan_pia($id{P1}, 'flickr')");
as('h_head', "SELECT smam.approve_plan($id{P1})");
$id{P1d} = as('h_staff', "SELECT smam.draft_plan($id{D1}, 'Plan draft', $plan_args)");
as('h_staff', "SELECT smam.plan_pia($id{P1d}, 'x')");
$id{P2} = as('h_staff', "SELECT smam.draft_plan($id{D2}, 'Plan Two', $plan_args)");
as('h_staff', "SELECT smam.plan_pia($id{P2}, 'x')");
as('h_other', "SELECT smam.approve_plan($id{P2})");
as('h_reviewer', q{SELECT count(smam.record_platform_review('x', k, smam.today() - 10, 'accepted', smam.today() + 355, 'review'))
                     FROM unnest(enum_range(NULL::smam.platform_review_kind)) k});
# allowed_networks (loopback here) are a superuser's to set.
su(qq{
  SELECT smam.set_connector('x', 'http://127.0.0.1:$port', '/publish/{{handle}}',
    header_templates => ARRAY['Authorization: Bearer {{token}}'], body_template => '{"text": {{text}}}',
    post_id_path => '{id}', metrics_path => '/metrics/{{handle}}',
    profile_url => 'http://127.0.0.1:$port/profile/{{handle}}', allowed_networks => '{127.0.0.1/32}');
  SELECT smam.set_connector('flickr', 'http://127.0.0.1:$closed', '/publish/{{handle}}',
    profile_url => 'http://127.0.0.1:$closed/profile/{{handle}}', allowed_networks => '{127.0.0.1/32}')});

sub planned {
    my ($handle, $dept, $plan) = @_;
    return as('h_staff', "SELECT smam.plan_account(" . ($dept // $id{D1}) . ", 'x', 'https://x.com/$handle', 'One', 'Un', 'bilingual', 'Notices', "
                         . ($plan // $id{P1}) . ")");
}
sub accepted {
    my ($account, $kind, $config) = @_;
    my $s = as('h_head', "SELECT smam.submit($account, '$kind', NULL, " . ($config ? "'$config'" : 'NULL') . ")");
    as('h_reviewer', "SELECT smam.review_submission($s, true)");
    return $s;
}
sub to_stage {
    my ($handle, $target) = @_;
    my $a = planned($handle);
    accepted($a, 'creation');
    as('h_official', "SELECT smam.transition($a, 'creation')");
    accepted($a, 'configuration', $good);
    return $a if $target eq 'creation';
    as('h_official', "SELECT smam.transition($a, 'configuration')");
    return $a if $target eq 'configuration';
    as('h_head', "SELECT smam.transition($a, 'implementation')");
    return $a;
}
$id{A_plan} = planned('okPlan');
accepted($id{A_plan}, 'creation');
$id{A_plan2} = planned('okPlanTwo');
$id{A_plan3} = planned('okPlanThree');
$id{A_plan4} = planned('okPlanFour');
$id{A2_plan} = planned('okOther', $id{D2}, $id{P2});
$id{A_create} = to_stage('okCreate', 'creation');
$id{A_conf} = to_stage('okConf', 'configuration');
$id{A_live} = to_stage('okLive', 'implementation');
$id{A_live2} = to_stage('okLiveTwo', 'implementation');
accepted($id{A_live2}, 'disposition');
$id{A_eval} = to_stage('okEval', 'implementation');
as('h_head', "SELECT smam.start_evaluation($id{A_eval})");
$id{A_disp} = to_stage('okDisp', 'implementation');
accepted($id{A_disp}, 'disposition');
as('h_official', "SELECT smam.transition($id{A_disp}, 'disposition')");
$id{A_onb} = as('h_official', "SELECT smam.onboard_account($id{D1}, 'x', 'https://x.com/okOnboarded', 'Onboarded', 'Intégré', 'bilingual', 'listed before smam')");
as('h_head', "SELECT smam.set_credential($id{A_live}, 'tok-live'); SELECT smam.set_credential($id{A_live2}, 'tok-live2')");
$id{SUB_pending} = as('h_head', "SELECT smam.submit($id{A_live}, 'configuration', NULL, '$good_live')");

$id{C1} = as('h_staff', "SELECT smam.add_content_item($id{D1}, 'Item one', 'Hello Canada', 'Bonjour Canada')");
sub post {
    my ($account, $when, $upto) = @_;
    my $p = as('h_staff', "SELECT smam.create_post($id{C1}, ARRAY[$account]::bigint[], $when)");
    return $p if $upto eq 'draft';
    as('h_staff', "SELECT smam.submit_post($p)");
    return $p if $upto eq 'submitted';
    as('h_head', "SELECT smam.approve_post($p)");
    return $p if $upto eq 'approved';
    as('h_head', "SELECT smam.schedule_post($p)");
    return $p;
}
$id{POST_draft} = post($id{A_live}, 'now()', 'draft');
$id{POST_sub} = post($id{A_live}, 'now()', 'submitted');
$id{POST_appr} = post($id{A_live}, 'now()', 'approved');
$id{POST_future} = post($id{A_live2}, "now() + interval '30 days'", 'scheduled');

$id{R1} = as('h_tbs', "SELECT smam.request_report($id{D1}, smam.today() + 30, 'Report one')");
$id{REP1} = as('h_deputy', "SELECT smam.submit_report($id{R1}, 'All is well')");
$id{R2} = as('h_tbs', "SELECT smam.request_report($id{D1}, smam.today() + 30, 'Report two')");
# The entity's activities (7.3.1), of the twelve months before today: one
# submitted, one to submit.
$id{RA1} = as('h_tbs', "SELECT smam.request_report(NULL, smam.today() + 30, 'Activities one', 'activities')");
$id{REPA1} = as('h_official', "SELECT smam.submit_report($id{RA1}, 'Our activities')");
$id{RA2} = as('h_tbs', "SELECT smam.request_report(NULL, smam.today() + 30, 'Activities two', 'activities')");
$id{CA1} = as('h_tbs', "SELECT smam.recommend_corrective_action($id{D1}, '6.1.2', 'Attach the plans', smam.today() + 30)");

my $csv_head = 'Account,Platform,Department,Language,URL,gc_orgID,Date Added';
my $csv1 = "$csv_head\nImport One,X,Department of Imports,English,https://x.com/okImportOne,9001.0,2026-06-02\n"
         . "Import Two,X,Department of Imports,English,https://x.com/okImportTwo,9001.0,2026-06-02\n";
my $csv2 = "$csv_head\nImport Two,X,Department of Imports,English,https://x.com/okImportTwo,9001.0,2026-06-02\n"
         . "Import Three,X,Ministry of Imports,English,https://x.com/okImportThree,9001.0,2026-06-03\n";
my $csv_probe = "$csv_head\nProbe One,X,Department of Probes,English,https://x.com/okProbeOne,9101.0,2026-05-04\n"
              . "Probe Two,X,Ministry of Probes,French,https://x.com/okProbeTwo,9101.0,2026-05-05\n"
              . "Probe Three,X,Department of Probes,English,https://x.com/okProbeThree,91x1,2026-05-06\n";
# What an import made of the rows: the accounts' dates and the notes.
my $import_made = q{SELECT pg_catalog.string_agg(pg_catalog.concat_ws(' ', a.url, pg_catalog.to_char(a.listed_on, 'YYYY-MM-DD')), ', ' ORDER BY a.url)
  FROM smam.account a WHERE a.url OPERATOR(pg_catalog.~~) 'https://x.com/okProbe%' OR a.url OPERATOR(pg_catalog.~~) 'https://x.com/okImport%'
  OR a.url OPERATOR(pg_catalog.~~) 'https://x.com/okFeed%';
SELECT pg_catalog.string_agg(pg_catalog.array_to_string(r.notes, '; '), ' / ' ORDER BY r.import_id, r.row_number)
  FROM smam.index_import_row r WHERE r.import_id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(i.id) FROM smam.index_import i)};
# In canada.ca's markup, its link naming an owner other than the department
# (kept in smam.account_owner_label, sql/smam/71_owner_labels.sql).
my $feed = '{"aaData": [["Feed One", "<span class=\"label label-default\">X</span>", "<span>Department</span>: Department of Imports", "<span>Language</span>: English", "<a class=\"product-link btn btn-primary\" href=\"https://x.com/okFeedOne\"><span class=\"wb-inv\">Office of Imports - </span>Go to social media account</a>"]]}';
(my $feed_probe = $feed) =~ s/okFeedOne/okFeedProbe/g;
my $feed_probe_fr = '{"aaData": [["Sonde", "X", "Ministère: Ministère Un", "Langue: Français", "<a href=\"https://x.com/okFeedProbeFr\">x</a>"]]}';
my $feed_untied = '{"aaData": [["Introuvable", "X", "Ministère: Ministère Introuvable", "Langue: Français", "<a href=\"https://x.com/okFeedUntied\">x</a>"]]}';
as('h_official', "SELECT smam.import_index(\$csv\$$csv1\$csv\$)");
# A department name nothing ties: a candidate for the entity to decide on.
as('h_official', q{SELECT smam.import_index_feed('{"aaData": [["Sonde", "X", "Ministère: Ministère Sondé", "Langue: Français", "<a href=\"https://x.com/okFeedCandidate\">x</a>"]]}', 'fr', accept_disappearance => true)});
$id{CAND_probe} = su(q{SELECT id FROM smam.department_candidate WHERE name = 'Ministère Sondé'});
as('h_official', "SELECT smam.import_index_feed(\$j\$$feed_untied\$j\$, 'fr', accept_disappearance => true)");
$id{CAND_found} = su(q{SELECT id FROM smam.department_candidate WHERE name = 'Ministère Introuvable'});
$id{A_imp2} = su(q{SELECT id FROM smam.account WHERE url_key = 'https://x.com/okimporttwo'});
$id{D_imp} = su(q{SELECT department_id FROM smam.account WHERE url_key = 'https://x.com/okimporttwo'});
(my $feed_lost = $feed_untied) =~ s/Introuvable/Perdu/g;
as('h_official', 'SELECT smam.publish_index()');
# More than 1,000 findings, for the stream to fetch a second batch.
as('h_official', "SELECT count(smam.onboard_account($id{D3}, 'flickr', 'https://www.flickr.com/photos/bulk' || g, 'Bulk', 'Masse', 'bilingual', 'listed'))
                    FROM generate_series(1, 270) g");
# A post the publishing worker sends now.
$id{POST_w} = post($id{A_live}, 'now()', 'scheduled');
for (1 .. 300) {
    last if su("SELECT count(*) FROM smam.delivery WHERE post_id = $id{POST_w} AND status IN ('pending', 'sending')") eq '0';
    sleep 0.1;
}
ok(su("SELECT attempts > 0 FROM smam.delivery WHERE post_id = $id{POST_w}") eq 't',
   'the publishing worker, connected under the database owner\'s settings, claimed a delivery');
my $txn0 = su('SELECT max(txn) FROM smam.audit_log');
my $seal0 = su('SELECT max(seq) FROM smam.audit_seal');
note sprintf('set-up done in %.1f s', time - $started);

sub fill {
    my ($sql) = @_;
    $sql =~ s/<<(\w+)>>/defined $id{$1} ? $id{$1} : 'NULL'/ge;    # NULL: an earlier act failed
    return $sql;
}

# ---- the sessions: benign, and hostile with everything planted ----
my (%benign, %hostile);
my $i = 0;
for my $role (@attackers) {
    $benign{$role} = open_session($role);
    run($benign{$role}, "SET TimeZone = 'UTC';");
    my $h = open_session($role);
    my ($o, $e) = run($h, plant_sql('pg_temp', @smam_relations) . $session_tools
                          . ($role eq 'h_dbowner' ? '' : $smam_type_operators), "planting ($role)");
    die "planting in the session of $role failed: $e" if $e =~ /ERROR/;
    run($h, "SET search_path = $orders[$i++ % @orders];\n$hostile_settings", "settings ($role)");
    $hostile{$role} = $h;
}
note sprintf('sessions planted at %.1f s', time - $started);

# ---- 1. the sweep ----
# Every SECURITY DEFINER function of smam and the call that reaches it; the
# direct writes the grants allow; the C function that takes raised rights
# without being SECURITY DEFINER. [sql, value compared?, reads tables directly (so runs with row_security on)?]
my %probe = (
  'smam.add_department(text,text,smam.application,integer)' => [q{SELECT smam.add_department('Department Probe', 'Ministère Sonde')}],
  'smam.register_principal(name,text,text,bigint)' => [q{SELECT smam.register_principal('h_unreg', 'Unregistered', 'unreg@example.gc.ca', <<D2>>)}],
  'smam.appoint(name,smam.office,bigint,timestamp with time zone,timestamp with time zone,text)' => [q{SELECT smam.appoint('h_staff', 'deputy_head', <<D1>>)}],
  'smam.delegate(name,timestamp with time zone,bigint,timestamp with time zone,text)' => [q{SELECT smam.delegate('h_staff', pg_catalog.now() + interval '10 days')}],
  'smam.end_appointment(bigint,text,timestamp with time zone)' => [q{SELECT smam.end_appointment(<<APPT_designate>>, 'probe')}],
  'smam.set_enforcement(boolean,text,timestamp with time zone)' => [q{SELECT smam.set_enforcement(false, 'probe')}],
  'smam.record_effective_date(text,date,text)' => [q{SELECT smam.record_effective_date('6.2.5', '2014-04-01', 'probe')}],
  'smam.onboard_account(bigint,text,text,text,text,smam.official_language,text,text,date)' =>
    [q{SELECT smam.onboard_account(<<D1>>, 'x', 'https://x.com/okProbeOnb', 'Probe', 'Sonde', 'bilingual', 'probe')}],
  'smam.draft_strategy(bigint,text,text,text,text,text,text,text,text,date,bigint)' =>
    [q{SELECT smam.draft_strategy(<<D1>>, 'Probe strategy', 'm', 'b', 'a', 'g', 'p', 'l', 'Probe program', rolls_into => <<S1>>)}],
  'smam.revise(text,bigint,text,text)' => [q{SELECT smam.revise('strategy', <<S1d>>, 'mandate', 'revised mandate')}, 1],
  'smam.decide(text,bigint,smam.approval_status,text)' => [q{SELECT smam.decide('strategy', <<S1d>>, 'approved')}],
  'smam.approve_strategy(bigint,text)' => [q{SELECT smam.approve_strategy(<<S1d>>)}],
  'smam.draft_plan(bigint,text,text,text,text,text,text,text,text,bigint)' =>
    [q{SELECT smam.draft_plan(<<D1>>, 'Probe plan', 'b', 'r', 'r', 'r', 'm', 'p', 'c', strategy => <<S1>>)}],
  'smam.plan_pia(bigint,text,text,date)' => [q{SELECT smam.plan_pia(<<P1d>>, 'x', 'PIA-2024-7', '2024-01-15')}],
  'smam.plan_missing(bigint)' => [q{SELECT smam.plan_missing(<<P1d>>)}, 1],
  'smam.plan_pia_problem(bigint,text,date)' => [q{SELECT smam.plan_pia_problem(<<P1d>>, 'flickr')}, 1],
  'smam.approve_plan(bigint,text)' => [q{SELECT smam.approve_plan(<<P1d>>)}],
  'smam.record_platform_review(text,smam.platform_review_kind,date,smam.review_outcome,date,text)' =>
    [q{SELECT smam.record_platform_review('x', 'terms_of_use', smam.today() - 1, 'accepted', smam.today() + 300, 'probe')}],
  'smam.add_specification(text,text,smam.specification_rule,text,text,text)' =>
    [q{SELECT smam.add_specification('probe_rule', 'A probe rule', 'matches', 'avatar', '^(fip|gc)', 'flickr')}, 1],
  'smam.submit(bigint,smam.submission_kind,text,jsonb,text,text,smam.official_language)' => [q{SELECT smam.submit(<<A_live>>, 'disposition')}],
  'smam.review_submission(bigint,boolean,text)' => [q{SELECT smam.review_submission(<<SUB_pending>>, true)}],
  'smam.archive_account(bigint,text,text,text)' => [q{SELECT smam.archive_account(<<A_disp>>, NULL, NULL, 'nothing kept')}],
  'smam.plan_account(bigint,text,text,text,text,smam.official_language,text,bigint)' =>
    [q{SELECT smam.plan_account(<<D1>>, 'x', 'https://x.com/okProbePlanned', 'Probe', 'Sonde', 'bilingual', NULL, <<P1>>)}],
  'smam.transition(bigint,smam.stage,text)' => [q{SELECT smam.transition(<<A_plan>>, 'creation')}, 1],
  'smam.configure_account(bigint,jsonb)' => [q{SELECT smam.configure_account(<<A_create>>, '{"avatar": "fip:probe", "display_name": "Probe"}')}],
  'smam.abandon_account(bigint,text)' => [q{SELECT smam.abandon_account(<<A_plan2>>, 'probe')}, 1],
  'smam.start_evaluation(bigint,text)' => [q{SELECT smam.start_evaluation(<<A_live>>)}],
  'smam.complete_evaluation(bigint,text,boolean)' => [q{SELECT smam.complete_evaluation(<<A_eval>>, 'probe findings')}],
  'smam.attach_implementation_plan(bigint,bigint)' => [q{SELECT smam.attach_implementation_plan(<<A_onb>>, <<P1>>)}],
  'smam.import_index(text,boolean)' => ["SELECT rows_read, created, updated, unchanged, rejected, vanished, departments_created, held FROM smam.import_index(\$csv\$$csv_probe\$csv\$, accept_disappearance => true);\n$import_made", 1, 1],
  'smam.import_index_feed(jsonb,text,boolean)' => ["SELECT rows_read, created, rejected FROM smam.import_index_feed(\$j\$$feed_probe\$j\$, 'en', accept_disappearance => true);\n$import_made", 1, 1],
  'smam.import_index_feeds(jsonb,jsonb,boolean)' => ["SELECT rows_read, created, rejected, held FROM smam.import_index_feeds(\$j\$$feed_probe\$j\$, \$j\$$feed_probe_fr\$j\$, accept_disappearance => true);\n$import_made", 1, 1],
  'smam.confirm_department_candidate(bigint,text,text,text)' =>
    [q{SELECT smam.confirm_department_candidate(<<CAND_probe>>, 'Department Sounded', 'Ministère Sondé', 'probe') IS NOT NULL}, 1],
  'smam.map_department_candidate(bigint,bigint,text)' => [q{SELECT smam.map_department_candidate(<<CAND_probe>>, <<D2>>, 'probe')}, 1],
  'smam.move_account(bigint,bigint,text)' => [q{SELECT smam.move_account(<<A_onb>>, <<D2>>, 'probe') IS NOT NULL}, 1],
  'smam.merge_departments(bigint,bigint,text)' =>
    [q{SELECT m.moved::pg_catalog.text FROM smam.department_merge m WHERE m.id OPERATOR(pg_catalog.=) smam.merge_departments(<<D_imp>>, <<D2>>, 'probe')}, 1, 1],
  'smam.merge_problems(bigint,bigint)' =>
    [q{SELECT pg_catalog.string_agg(p.requirement OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) p.problem, '; ') FROM smam.merge_problems(<<D1>>, <<D2>>) p}, 1],
  'smam.public_index_feed(text)' => [q{SELECT pg_catalog.md5(smam.public_index_feed('en')::pg_catalog.text)}, 1],
  'smam.public_index_feed_json(text)' => [q{SELECT pg_catalog.md5(smam.public_index_feed_json('fr')::pg_catalog.text)}, 1],
  'smam.public_index_document()' => [q{SELECT pg_catalog.md5(smam.public_index_document()::pg_catalog.text)}, 1],
  'smam.publish_index()' => [q{SELECT smam.publish_index() IS NOT NULL}, 1],
  'smam.published_index_file(bigint,text)' =>
    [q{SELECT pg_catalog.md5(smam.published_index_file(NULL, 'en')), pg_catalog.length(smam.published_index_file(NULL, 'fr'))}, 1],
  'smam.check_index_file(bytea)' =>
    [q{SELECT c.lang, c.file_name, c.latest, c.content_sha256 FROM smam.check_index_file(smam.published_index_file(NULL, 'fr')) c}, 1],
  'smam.index_publication_status(timestamp with time zone)' =>
    [q{SELECT last_snapshot, live_accounts, unpublished_changes FROM smam.index_publication_status(pg_catalog.now())}, 1],
  'smam.add_content_item(bigint,text,text,text,text[],text[],timestamp with time zone,timestamp with time zone,text)' =>
    [q{SELECT smam.add_content_item(<<D1>>, 'Probe item', 'Hello', 'Bonjour', ARRAY['https://www.canada.ca/a.png'], ARRAY['probe'])}],
  'smam.set_publishing_policy(bigint,integer,jsonb)' =>
    [q{SELECT smam.set_publishing_policy(<<D1>>, 2, '{"1": ["department_staff"], "2": ["head_of_communications", "@h_head"]}')}],
  # the trigger function smam.post_edit_guard() is reached through an edit after submission
  'smam.post_edit_guard()' => [q{SELECT smam.edit_post(<<POST_sub>>, 'Hello, edited')}],
  'smam.create_post(bigint,bigint[],timestamp with time zone)' => [q{SELECT smam.create_post(<<C1>>, ARRAY[<<A_live>>]::bigint[])}],
  'smam.edit_post(bigint,text,text,timestamp with time zone)' => [q{SELECT smam.edit_post(<<POST_draft>>, 'Hello, draft')}],
  'smam.submit_post(bigint)' => [q{SELECT smam.submit_post(<<POST_draft>>)}],
  'smam.approve_post(bigint)' => [q{SELECT smam.approve_post(<<POST_sub>>)}, 1],
  'smam.cancel_post(bigint,text)' => [q{SELECT smam.cancel_post(<<POST_future>>, 'probe')}, 1],
  'smam.set_connector(text,text,text,text[],text,text[],text,text,text[],text,text,cidr[],boolean,text[])' =>
    ["SELECT smam.set_connector('youtube', 'http://127.0.0.1:$closed', '/publish/{{handle}}')"],
  'smam.set_credential(bigint,text,timestamp with time zone)' => [q{SELECT smam.set_credential(<<A_live>>, 'tok-probe')}],
  'smam.revoke_credential(bigint)' => [q{SELECT smam.revoke_credential(<<A_live2>>)}, 1],
  'smam.confirm_credential(bigint)' => [q{SELECT smam.confirm_credential(<<A_live>>)}, 1],
  # the trigger function smam.connector_rebind() is reached by a connector's change of origin
  'smam.connector_rebind()' => ["SELECT smam.set_connector('x', 'http://127.0.0.1:$closed', '/publish/{{handle}}')"],
  'smam.managed_in_tool(bigint)' => [q{SELECT smam.managed_in_tool(<<A_live>>)}, 1],
  'smam.schedule_post(bigint)' => [q{SELECT smam.schedule_post(<<POST_appr>>)}, 1],
  # the trigger function smam.account_left_live() is reached by a live account leaving
  'smam.account_left_live()' => [q{SELECT smam.transition(<<A_live2>>, 'disposition')}, 1],
  'smam.dispatch(integer)' => [q{SELECT smam.dispatch(1) >= 0}],
  'smam.check_account_urls()' => [q{SELECT smam.check_account_urls() >= 0}],
  'smam.pull_metrics()' => [q{SELECT smam.pull_metrics() >= 0}],
  'smam.request_report(bigint,date,text,text,date,date)' => [q{SELECT smam.request_report(<<D1>>, smam.today() + 30, 'Probe request')}],
  'smam.set_service_standard(text,interval)' => [q{SELECT smam.set_service_standard('evaluation', interval '365 days')}],
  'smam.compliance_findings_as_of(timestamp with time zone)' =>
    [q{SELECT pg_catalog.count(*), pg_catalog.md5(pg_catalog.string_agg(f.finding_key OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) f.problem, '|' ORDER BY f.finding_key))
         FROM smam.compliance_findings_as_of(pg_catalog.now()) f}, 1],
  'smam.compliance_by_department_as_of(timestamp with time zone)' =>
    [q{SELECT pg_catalog.md5(pg_catalog.string_agg(pg_catalog.concat_ws('/', b.department_id, b.requirement, b.status, b.status_reason, b.findings), '|'
                                                   ORDER BY b.department_id, b.requirement))
         FROM smam.compliance_by_department_as_of(pg_catalog.now()) b}, 1],
  'smam.compliance_summary_as_of(timestamp with time zone)' =>
    [q{SELECT pg_catalog.md5(pg_catalog.string_agg(pg_catalog.concat_ws('/', s.requirement, s.status, s.parties_met, s.parties_not_met,
                                                   s.parties_not_applicable, s.findings, s.index_unpublished_changes), '|' ORDER BY s.requirement))
         FROM smam.compliance_summary_as_of(pg_catalog.now()) s}, 1],
  'smam.submit_report(bigint,text)' => [q{SELECT smam.submit_report(<<R2>>, 'Probe statement') IS NOT NULL}, 1],
  'smam.reproduce_report(bigint)' => [q{SELECT intact, reproduced FROM smam.reproduce_report(<<REP1>>)}, 1],
  'smam.recommend_corrective_action(bigint,text,text,date,text)' =>
    [q{SELECT smam.recommend_corrective_action(<<D1>>, '6.1.2', 'Probe recommendation', smam.today() + 30)}],
  'smam.record_corrective_measure(bigint,text,boolean)' => [q{SELECT smam.record_corrective_measure(<<CA1>>, 'Probe measure', false)}],
  'smam.record_consequence(bigint,text,text,bigint)' => [q{SELECT smam.record_consequence(<<D1>>, 'other_measure', 'Probe consequence')}],
  'smam.record_standard_review(date,text)' => [q{SELECT smam.record_standard_review('2015-01-01', 'Probe framework')}],
  'smam.verify_audit_log()' => [q{SELECT holds FROM smam.verify_audit_log()}, 1],
  'smam.verify_audit_log(text)' => [q{SELECT holds FROM smam.verify_audit_log((SELECT d.digest FROM smam.audit_digest() d))}, 1],
  'smam.audit_digest()' => [q{SELECT pg_catalog.left(digest, 14) FROM smam.audit_digest()}, 1],
  'smam.seal_audit_log()' => [q{SELECT smam.seal_audit_log() OPERATOR(pg_catalog.>=) 0}, 1],
  'smam.archive_audit_log(bigint,text,text)' => [q{SELECT seals_archived > 0 FROM smam.archive_audit_log(1, repeat('0', 64), 'probe')}, 1],
  'smam.audit_export(bigint)' => [q{SELECT count(*) > 0 FROM smam.audit_export(1)}, 1],
);
# Not SECURITY DEFINER, but takes the owner's rights inside (src/compliance.c).
my %probe_extra = (
  # not a definer function: it tries the move (smam.transition, one) in a subtransaction it rolls back
  'smam.move_problems(bigint,smam.stage)' => [q{SELECT code, message, detail FROM smam.move_problems(<<A_live>>, 'disposed')}, 1],
  'smam.compliance_findings_stream(timestamp with time zone)' => [q{SELECT pg_catalog.count(*) FROM smam.compliance_findings}, 1],
  'view smam.compliance_by_department' => [q{SELECT pg_catalog.count(*) FROM smam.compliance_by_department}, 1],
  # The activities report (7.3.1): its period, its lines frozen and hashed, reproduced, read.
  'smam.request_report (an activities report, its period)' =>
    [q{SELECT smam.request_report(NULL, smam.today() + 30, 'Probe activities', 'activities', smam.today() - 30, smam.today())}],
  'smam.submit_report (an activities report)' =>
    [q{SELECT r.content_sha256 FROM smam.compliance_report r WHERE r.id OPERATOR(pg_catalog.=) smam.submit_report(<<RA2>>, 'Probe activities')}, 1, 1],
  'smam.reproduce_report (an activities report)' => [q{SELECT intact, reproduced FROM smam.reproduce_report(<<REPA1>>)}, 1],
  'view smam.activity_report_line' =>
    [q{SELECT pg_catalog.count(*), pg_catalog.md5(pg_catalog.string_agg(pg_catalog.concat_ws('/', l.report_id, l.department_id, l.department_en,
            pg_catalog.to_char(l.period_from, 'YYYY-MM-DD'), pg_catalog.to_char(l.period_until, 'YYYY-MM-DD'),
            EXTRACT(epoch FROM l.as_of), l.submissions_received, EXTRACT(epoch FROM l.review_time_max),
            l.accounts_planned, l.accounts_onboarded, l.platform_reviews, l.platform_reviews_by_kind, l.index_publications,
            l.posts_published), '|' ORDER BY l.report_id, l.department_id))
         FROM smam.activity_report_line l}, 1],
  'view smam.compliance_summary' => [q{SELECT pg_catalog.count(*) FROM smam.compliance_summary}, 1],
  'view smam.strategy_hub' =>
    [q{SELECT pg_catalog.string_agg(pg_catalog.concat_ws('/', h.strategy_id, h.departmental_strategy_id, h.stands, h.plans), '|' ORDER BY h.strategy_id)
         FROM smam.strategy_hub h}, 1, 1],
  'view smam.public_index' => [q{SELECT pg_catalog.count(*) FROM smam.public_index}, 1, 1],
  'view smam.published_index_files' =>
    [q{SELECT pg_catalog.count(*), pg_catalog.string_agg(f.file_name OPERATOR(pg_catalog.||) f.content_sha256, ',' ORDER BY f.snapshot_id, f.lang)
         FROM smam.published_index_files f}, 1, 1],
  'view smam.account_tool_status' => [q{SELECT pg_catalog.count(*) FROM smam.account_tool_status}, 1, 1],
  'direct UPDATE smam.account (a move)' => [q{UPDATE smam.account SET stage = 'creation' WHERE id = <<A_plan>>}, 0, 1],
  'direct UPDATE smam.account (a configuration)' =>
    [q{UPDATE smam.account SET configuration = '{"avatar": "fip:direct"}', name_en = 'Direct' WHERE id = <<A_plan2>>}, 0, 1],
  'direct UPDATE smam.account (a live configuration)' => [qq{UPDATE smam.account SET configuration = '$good_live' WHERE id = <<A_live>>}, 0, 1],
  'direct UPDATE smam.account (a plan attached)' => [q{UPDATE smam.account SET plan_id = <<P1>> WHERE id = <<A_onb>>}, 0, 1],
  'direct UPDATE smam.account (a URL)' => [q{UPDATE smam.account SET url = 'http://twitter.com/@okPlanMoved' WHERE id = <<A_plan2>>}, 0, 1],
  'direct UPDATE smam.submission' => [q{UPDATE smam.submission SET status = 'accepted', decision_note = 'fine' WHERE id = <<SUB_pending>>}, 0, 1],
  'direct UPDATE smam.strategy (an edit)' => [q{UPDATE smam.strategy SET lessons_learned = 'more lessons' WHERE id = <<S1>>}, 0, 1],
  'direct UPDATE smam.strategy (a decision)' => [q{UPDATE smam.strategy SET status = 'approved' WHERE id = <<S1d>>}, 0, 1],
  'direct UPDATE smam.implementation_plan' => [q{UPDATE smam.implementation_plan SET status = 'approved' WHERE id = <<P1d>>}, 0, 1],
  'direct UPDATE smam.department' => [q{UPDATE smam.department SET name_fr = 'Ministère Premier' WHERE id = <<D1>>}, 0, 1],
  'direct UPDATE smam.department (shipped)' => [q{UPDATE smam.department SET name_fr = 'Autre' WHERE id = -1}, 0, 1],
  'smam.register_principal (an address without a dot in its domain)' =>
    [q{SELECT smam.register_principal('h_unreg', 'Unregistered', 'unreg@localhost', <<D2>>)}],
);

my %definer = map { $_ => 1 } split /\n/, su(
    "SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'smam'::regnamespace AND p.prosecdef ORDER BY 1");
is_deeply([sort keys %definer], [sort keys %probe],
          'the sweep has a probe for every SECURITY DEFINER function of smam, and no other');

my @unreached;
for my $key (sort(keys %probe), sort(keys %probe_extra)) {
    my ($sql, $value, $table) = @{ $probe{$key} // $probe_extra{$key} };
    $sql = fill($sql);
    my (%b, %h, %c, %bare);
    # A single SELECT is also tried as COPY (SELECT ...) TO STDOUT with
    # row_security off, the shape of a restore: it must be refused or
    # succeed exactly as the plain call (the value is not compared: COPY
    # writes it differently).
    my $copy = $sql =~ /^SELECT/ && $sql !~ /;/ && !$table;
    for my $role (@attackers) {
        for my $side (['benign', \%benign, \%b], ['hostile', \%hostile, \%h]) {
            my ($name, $sessions, $into) = @$side;
            my $q = "BEGIN;\nSET LOCAL application_name = 'sweep:$name';\n"
                  . ($table ? "SET LOCAL row_security = on;\n" : '') . "$sql;\nROLLBACK;";
            my ($out, $err) = run($sessions->{$role}, $q, "sweep $key as $role ($name)");
            $into->{$role} = outcome($out, $err, $value);
            $bare{$role} = outcome($out, $err, 0) if $name eq 'benign';
        }
        next unless $copy;
        my ($out, $err) = run($hostile{$role}, "BEGIN;\nSET LOCAL application_name = 'sweep:copy';\nSET LOCAL row_security = off;\n"
                                              . "COPY ($sql) TO STDOUT;\nROLLBACK;", "sweep $key as $role (hostile, COPY)");
        $c{$role} = outcome($out, $err, 0);
    }
    my @diff = map { "  $_: benign [$b{$_}]\n  $_: hostile [$h{$_}]" } grep { $b{$_} ne $h{$_} } @attackers;
    push @diff, map { "  $_: benign [$bare{$_}]\n  $_: hostile, as COPY [$c{$_}]" }
                grep { defined $c{$_} && $bare{$_} ne $c{$_} } @attackers;
    # HOLE (fixed; when this fails): a hostile setting changes what the function
    # does or says; the diagnostics name the role and both outcomes. Today:
    # add_department, the direct UPDATE of smam.department, import_index and
    # import_index_feed fail with standard_conforming_strings off, because
    # smam.department_name_key() (sql/smam/70_index_import.sql; called by the
    # expression indexes on smam.department and by the import) is parsed in
    # the caller's setting, and U&'...' is an error then; register_principal
    # with a bad address gives a CHECK violation instead of its refusal
    # because its '\.' reads '.' (sql/smam/40_people.sql). Behind the U&
    # error, import_staged's '^\d{4}-\d{2}-\d{2}$' (the date added becomes
    # today) and '^[0-9]+(\.0*)?$' (a gc_orgID "91x1" is cast and fails).
    ok(!@diff, "sweep: $key gives every role the same outcome in a hostile session as in a benign one")
      or diag("$key:\n" . join("\n", @diff));
    push @unreached, $key unless grep { $b{$_} !~ /ERROR 42501: permission denied for (function|schema|table|view)/ } @attackers;
}
is(join(', ', @unreached), '', 'every probe reaches the code behind it as at least one role');
note sprintf('sweep done at %.1f s', time - $started);

# No role may TRUNCATE, or write the catalogue and the audit log directly.
my @tables = split /\n/, su("SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'smam'::regnamespace AND c.relkind = 'r' ORDER BY 1");
{
    my $sql = join("\n", map { "TRUNCATE $_;" } @tables) . q{
INSERT INTO smam.platform (code, name, canonical_host, account_path_pattern, example_url) VALUES ('evil', 'Evil', 'evil.example', '.*', 'https://evil.example/x');
UPDATE smam.requirement SET text = 'forged';
UPDATE smam.report_dictionary SET meaning_en = 'forged';
UPDATE smam.audit_log SET acting_role = 'nobody';
DELETE FROM smam.audit_seal;
INSERT INTO smam.stage_history (account_id, department_id, to_stage, moved_by, moved_at) VALUES (1, 1, 'disposed', 'nobody', now());
INSERT INTO smam.account (department_id, platform, handle, url, url_key, official_language, stage) VALUES (1, 'x', 'e', 'https://x.com/e', 'https://x.com/e', 'english', 'implementation');
};
    my @bad;
    for my $role (@attackers) {
        # each in a savepoint of a transaction rolled back: nothing stays, whoever could
        my $each = join "\n", map { "SAVEPOINT w;\n$_\nROLLBACK TO w;" } grep { /\S/ } split /\n/, $sql;
        my ($out, $err) = run($hostile{$role}, "BEGIN;\nSET LOCAL row_security = on;\n$each\nROLLBACK;", "direct writes as $role");
        # each statement refused: by privileges, or (for a superuser) by smam's guards
        my $errors = () = $err =~ /ERROR:\s+[0-9A-Z]{5}: /g;
        push @bad, "$role: $errors of " . (@tables + 7) . " refused:\n$err" if $errors != @tables + 7;
    }
    # Fails today only as a consequence of the worker's hole (below): the
    # database owner is a superuser by now, and adds a platform.
    ok(!@bad, 'no role may TRUNCATE a table of smam, or write the catalogue, the audit log or a record directly')
      or diag(join "\n", @bad);
}

# ---- 2. committed acts ----
my $config_live = $good_live;
my @acts = (
  ['a01', 'h_admin', q{SELECT smam.add_department('Department Four', 'Ministère Quatre')}, ['department']],
  ['a02', 'h_admin', q{UPDATE smam.department SET name_fr = 'Ministère Premier' WHERE id = <<D1>>}, ['department'], 'table'],
  ['a03', 'h_admin', q{SELECT smam.register_principal('h_unreg', 'Unregistered', 'unreg@example.gc.ca', <<D2>>)}, ['principal']],
  ['a04', 'h_admin', q{SELECT smam.appoint('h_unreg', 'department_staff', <<D2>>)}, ['appointment']],
  ['a05', 'h_head', q{SELECT smam.delegate('h_staff', pg_catalog.now() + interval '10 days')}, ['appointment']],
  ['a06', 'h_head', q{SELECT smam.end_appointment(<<a05>>, 'a short delegation, over')}, ['appointment']],
  ['a07', 'h_admin', q{SELECT smam.set_enforcement(true, 'enforced, as before')}, ['instrument_setting']],
  ['a08', 'h_admin', q{SELECT smam.record_effective_date('6.2.5', '2014-04-01', 'TBS notice')}, ['effective_date_record']],
  ['a09', 'h_official', q{SELECT smam.onboard_account(<<D1>>, 'x', 'https://x.com/okHostileOnb', 'Hostile', 'Hostile', 'bilingual', 'listed')},
   ['account', 'stage_history']],
  ['a10', 'h_staff', q{SELECT smam.draft_strategy(<<D1>>, 'Hostile program', 'm', 'b', 'a', 'g', 'p', 'l', 'Hostile program')}, ['strategy']],
  ['a11', 'h_staff', q{SELECT smam.revise('strategy', <<a10>>, 'mandate', 'revised mandate')}, ['strategy']],
  ['a12', 'h_head', q{SELECT smam.approve_strategy(<<a10>>)}, ['strategy', 'decision']],
  ['a13', 'h_staff', q{UPDATE smam.strategy SET lessons_learned = 'more lessons' WHERE id = <<a10>>}, ['strategy', 'decision'], 'table'],
  ['a14', 'h_staff', q{SELECT smam.draft_plan(<<D1>>, 'Hostile plan', 'b', 'r', 'r', 'r', 'm', 'p', 'c')}, ['implementation_plan']],
  ['a15', 'h_staff', q{SELECT smam.plan_pia(<<a14>>, 'x')}, ['plan_platform', 'implementation_plan']],
  ['a16', 'h_head', q{SELECT smam.approve_plan(<<a14>>)}, ['implementation_plan', 'decision']],
  ['a17', 'h_head', q{UPDATE smam.implementation_plan SET status = 'approved' WHERE id = <<P1d>>}, ['implementation_plan', 'decision'], 'table'],
  ['a18', 'h_reviewer', q{SELECT smam.record_platform_review('x', 'terms_of_use', smam.today() - 1, 'accepted', smam.today() + 300, 'renewed')},
   ['platform_review']],
  ['a19', 'h_official', q{SELECT smam.add_specification('hostile_rule', 'Flickr avatars are GC identifiers', 'matches', 'avatar', '^(fip|gc)', 'flickr')},
   ['technical_specification']],
  ['a20', 'h_reviewer', q{UPDATE smam.submission SET status = 'accepted' WHERE id = <<SUB_pending>>}, ['submission', 'decision'], 'table'],
  ['a21', 'h_head', qq{UPDATE smam.account SET configuration = '$config_live' WHERE id = <<A_live>>}, ['account', 'submission'], 'table'],
  ['a22', 'h_official', q{SELECT smam.transition(<<A_plan>>, 'creation')}, ['account', 'stage_history', 'submission']],
  ['a23', 'h_official', q{UPDATE smam.account SET stage = 'configuration' WHERE id = <<A_create>>}, ['account', 'stage_history', 'submission'], 'table'],
  ['a24', 'h_head', q{UPDATE smam.account SET stage = 'implementation' WHERE id = <<A_conf>>}, ['account', 'stage_history', 'account_approval'], 'table'],
  ['a25', 'h_head', q{SELECT smam.start_evaluation(<<A_live>>)}, ['evaluation', 'account', 'stage_history']],
  ['a26', 'h_head', q{SELECT smam.complete_evaluation(<<A_live>>, 'The account serves its purpose.')}, ['evaluation', 'account', 'stage_history']],
  ['a27', 'h_official', q{SELECT smam.archive_account(<<A_disp>>, NULL, NULL, 'nothing worth keeping')}, ['archive']],
  ['a28', 'h_official', q{SELECT smam.transition(<<A_disp>>, 'disposed')}, ['account', 'stage_history']],
  ['a29', 'h_head', q{SELECT smam.attach_implementation_plan(<<A_onb>>, <<P1>>)}, ['account']],
  ['a30', 'h_head', q{SELECT smam.abandon_account(<<A_plan2>>, 'no longer needed')}, ['account', 'stage_history']],
  ['a31', 'h_official', q{SELECT smam.transition(<<A_live2>>, 'disposition')}, ['account', 'stage_history', 'submission', 'delivery', 'post']],
  ['a32', 'h_official', "SELECT rows_read, created, updated, unchanged, rejected, vanished, departments_created FROM smam.import_index(\$csv\$$csv2\$csv\$, accept_disappearance => true);\n$import_made",
   ['index_import', 'index_import_row', 'department_alias', 'disposition_review', 'account'], 'table', 1],
  ['a33', 'h_official', "SELECT rows_read, created, rejected FROM smam.import_index_feed(\$j\$$feed\$j\$, 'en');\n$import_made",
   ['index_import', 'index_import_row', 'account', 'account_owner_label'], 'table', 1],
  ['a33b', 'h_official', "SELECT rows_read, held, candidates FROM smam.import_index_feed(\$j\$$feed_lost\$j\$, 'fr', accept_disappearance => true);\n$import_made",
   ['index_import', 'index_import_row', 'department_candidate'], 'table', 1],
  ['a33c', 'h_official', q{SELECT smam.confirm_department_candidate(<<CAND_found>>, 'Department Found', 'Ministère Introuvable', 'probe')},
   ['department', 'department_candidate', 'index_import_row', 'account']],
  ['a33d', 'h_official', "SELECT rows_read, created FROM smam.import_index(\$csv\$$csv_head\nOrg Two,X,Department of Imports,English,https://x.com/okImportOrg,9003.0,2026-06-02\n\$csv\$, accept_disappearance => true);\n$import_made",
   ['index_import', 'index_import_row', 'department_org_alias', 'account'], 'table', 1],
  ['a33e', 'h_official', q{SELECT smam.move_account(<<A_imp2>>, <<D1>>, 'probe') IS NOT NULL},
   ['account_move', 'account']],
  ['a33f', 'h_official', q{SELECT smam.merge_departments(<<a33c>>, <<D2>>, 'probe') IS NOT NULL},
   ['department_merge', 'department', 'department_alias', 'account']],
  ['a34', 'h_official', q{SELECT smam.publish_index() IS NOT NULL}, ['index_snapshot', 'index_snapshot_entry', 'index_snapshot_file']],
  ['a35', 'h_staff', q{SELECT smam.add_content_item(<<D1>>, 'Hostile item', 'Hello', 'Bonjour')}, ['content_item']],
  ['a36', 'h_staff', q{SELECT smam.create_post(<<a35>>, ARRAY[<<A_live>>]::bigint[])}, ['post', 'post_target']],
  ['a37', 'h_staff', q{SELECT smam.submit_post(<<a36>>)}, ['post']],
  ['a38', 'h_head', q{SELECT smam.approve_post(<<a36>>)}, ['post_approval', 'post']],
  ['a39', 'h_staff', q{SELECT smam.edit_post(<<POST_sub>>, 'Hello again')}, ['post']],
  ['a40', 'h_head', q{SELECT smam.schedule_post(<<POST_appr>>)}, ['delivery', 'post']],
  ['a41', 'h_staff', q{SELECT smam.cancel_post(<<POST_draft>>, 'not needed')}, ['post']],
  ['a42', 'h_head', q{SELECT smam.set_publishing_policy(<<D1>>, 1, '{"1": ["head_of_communications"]}')}, ['publishing_policy', 'approval_tier']],
  ['a43', 'h_admin', "SELECT smam.set_connector('youtube', 'http://127.0.0.1:$closed', '/publish/{{handle}}')",
   ['connector']],
  ['a44', 'h_head', q{SELECT smam.set_credential(<<A_live>>, 'tok-rotated')}, ['account_credential']],
  ['a45', 'h_admin', q{SELECT smam.revoke_credential(<<A_live2>>)}, ['account_credential']],
  ['a46', 'h_admin', q{SELECT smam.check_account_urls() >= 0}, ['account_url_check']],
  ['a47', 'h_admin', q{SELECT smam.pull_metrics() >= 0}, ['metric_pull', 'account_metric']],
  ['a48', 'h_admin', q{SELECT smam.dispatch(10) >= 0}, []],
  ['a49', 'h_tbs', q{SELECT smam.request_report(<<D1>>, smam.today() + 30, 'Hostile request')}, ['report_request']],
  ['a50', 'h_tbs', q{SELECT smam.recommend_corrective_action(<<D1>>, '6.1.2', 'Attach every plan', smam.today() + 30)}, ['corrective_action']],
  ['a51', 'h_tbs', q{SELECT smam.record_consequence(<<D1>>, 'other_measure', 'Noted')}, ['consequence']],
  ['a52', 'h_tbs', q{SELECT smam.record_standard_review('2015-01-01', 'Review framework')}, ['standard_review']],
  ['a53', 'h_deputy', q{SELECT smam.submit_report(<<R2>>, 'As of now') IS NOT NULL}, ['compliance_report']],
  ['a54', 'h_deputy', q{SELECT smam.record_corrective_measure(<<CA1>>, 'Plans attached', true)}, ['corrective_measure', 'corrective_action']],
  ['a55', 'h_official', q{SELECT smam.set_service_standard('submission_review', interval '30 days')}, ['service_standard']],
  ['a56', 'h_head', q{SELECT smam.submit(<<A_live>>, 'disposition')}, ['submission']],
  ['a57', 'h_official', q{SELECT smam.submit_report(<<RA2>>, 'Our activities, as of now') IS NOT NULL}, ['compliance_report']],
  # The old restore-detection hole: the same writes as COPY (SELECT ...) TO STDOUT with row_security off.
  ['c01', 'h_staff', q{SELECT smam.add_content_item(<<D1>>, 'Copied item', 'Hello', 'Bonjour')}, ['content_item'], 'copy'],
  ['c02', 'h_head', q{SELECT smam.abandon_account(<<A_plan3>>, 'abandoned through COPY')}, ['account', 'stage_history'], 'copy'],
  ['c03', 'h_head', q{SELECT smam.set_credential(<<A_live>>, 'tok-copied')}, ['account_credential'], 'copy'],
  ['c04', 'h_head', q{SELECT smam.submit(<<A_conf>>, 'disposition')}, ['submission'], 'copy'],
  ['c05', 'h_staff', q{SELECT smam.plan_account(<<D1>>, 'x', 'https://x.com/okCopyPlanned', 'Copy', 'Copie', 'bilingual', NULL, <<P2>>)}, [], 'copy'],
  ['c06', 'h_tbs', q{SELECT smam.request_report(<<D1>>, smam.today() + 60, 'Copied request')}, ['report_request'], 'copy'],
  ['c07', 'h_admin', q{SELECT smam.register_principal('h_unreg2', 'Second', 'second@example.gc.ca', <<D1>>)}, ['principal'], 'copy'],
  ['c08', 'h_reviewer', q{SELECT smam.record_platform_review('x', 'privacy_risk', smam.today() - 1, 'accepted', smam.today() + 300, 'copied')},
   ['platform_review'], 'copy'],
  ['c09', 'h_staff', q{SELECT smam.draft_plan(<<D1>>, 'Copied plan', 'b', 'r', 'r', 'r', 'm', 'p', 'c')}, ['implementation_plan'], 'copy'],
  ['c10', 'h_head', q{SELECT smam.start_evaluation(<<A_conf>>)}, ['evaluation', 'account', 'stage_history'], 'copy'],
  ['c11', 'h_official', q{SELECT smam.onboard_account(<<D1>>, 'x', 'https://x.com/okCopyOnboarded', 'Copy', 'Copie', 'bilingual', 'copied')},
   ['account', 'stage_history'], 'copy'],
  ['c12', 'h_tbs', q{SELECT smam.request_report(NULL, smam.today() + 60, 'Copied activities', 'activities', smam.today() - 60, smam.today() - 30)},
   ['report_request'], 'copy'],
);
my %act_ok;
for my $a (@acts) {
    my ($tag, $role, $sql, $writes, $kind, $value) = @$a;
    $kind //= '';
    $sql = fill($sql);
    my ($bo, $be) = run($benign{$role}, "BEGIN;\nSET LOCAL application_name = 'benign:$tag';\n$sql;\nROLLBACK;", "act $tag (benign)");
    my $hq = $kind eq 'copy'
      ? "BEGIN;\nSET LOCAL application_name = 'hostile:$tag';\nSET LOCAL row_security = off;\nCOPY ($sql) TO STDOUT;\nCOMMIT;"
      : "BEGIN;\nSET LOCAL application_name = 'hostile:$tag';\n" . ($kind eq 'table' ? "SET LOCAL row_security = on;\n" : '')
        . "$sql;\nCOMMIT;";
    my ($ho, $he) = run($hostile{$role}, $hq, "act $tag as $role");
    my ($b, $h) = (outcome($bo, $be, $value), outcome($ho, $he, $value));
    # HOLE (fixed; when this fails): the hostile session (its settings, or COPY
    # with row_security off) changes what the act does. Today: a01, a02, a32
    # and a33 (standard_conforming_strings off, as in the sweep); c05, whose
    # INSERT of an account under another department's plan the lifecycle
    # guard lets through as "a restore" (src/restore.c, src/lifecycle.c
    # guard_insert is skipped).
    is($h, $b, "act $tag ($role): $sql" =~ s/\s+/ /gr =~ s/^(.{0,150}).*/$1/r . ' - the same outcome as in a benign session');
    $act_ok{$tag} = $h =~ /^OK/;
    ($id{$tag}) = $ho =~ /^([^\n]*)/ if $act_ok{$tag};
    next unless $act_ok{$tag};
    for my $t (@$writes) {
        # HOLE (fixed, copy acts): smam_restoring_dump() (src/restore.c) believes any
        # top-level COPY with row_security off inside a SECURITY DEFINER
        # function owned by a superuser is a restore, and smam.audit() then
        # writes nothing.
        is(su("SELECT count(*) > 0 FROM smam.audit_log WHERE application = 'hostile:$tag' AND acting_role = '$role'
                  AND table_name = 'smam.$t'"), 't', "act $tag: its change to smam.$t is in the audit log, acted by $role");
    }
}
note sprintf('acts done at %.1f s', time - $started);

# ---- 3. the cursor game, leaks, refusals that tell too much ----
{
    my @leaks = (
      ['h_public', 'smam.public_index', 'url'],
      ['h_analyst', 'smam.account_tool_status', 'account_id::pg_catalog.text'],
      ['h_analyst', 'smam.account_url_finding', 'account_url'],
      ['h_other', 'smam.account_tool_status', 'account_id::pg_catalog.text'],
      ['h_other', 'smam.public_index', 'url'],
      ['h_other', 'smam.activity_report_line', 'department_id::pg_catalog.text'],
      ['h_other', 'smam.strategy_hub', 'strategy_id::pg_catalog.text'],
      ['h_head', 'smam.activity_report_line', 'department_id::pg_catalog.text'],
    );
    for my $l (@leaks) {
        my ($role, $view, $col) = @$l;
        # What the view shows the role, then what a leaky function of the
        # role's sees under it. A view the role may not read at all (a
        # security_invoker view over tables it may not read) shows and leaks
        # nothing.
        my ($out, $err) = run($hostile{$role}, qq{
TRUNCATE pg_temp.seen, pg_temp.shown;
INSERT INTO pg_temp.shown SELECT v.$col FROM $view v;
SELECT pg_catalog.count(*) FROM $view v WHERE pg_temp.leak(v.$col);
SELECT 'leaked ' OPERATOR(pg_catalog.||) pg_catalog.count(*) FROM (SELECT v FROM pg_temp.seen EXCEPT SELECT v FROM pg_temp.shown) x;},
                              "leak $view as $role");
        my ($leaked) = $out =~ /leaked (\d+)/;
        my ($shown) = run($hostile{$role}, 'SELECT pg_catalog.count(*) FROM pg_temp.shown');
        # HOLE (fixed, issue 15, 10): the owner-rights views public_index,
        # account_tool_status and account_url_finding are neither
        # security_barrier nor security_invoker: a cheap function of the
        # caller's is evaluated before their own filter and sees the rows
        # they hide (sql/smam/72_public_index.sql, 84_delivery.sql,
        # 86_reports.sql).
        is($leaked, '0', "$role: a leaky function under $view sees no row the view does not show ($shown shown)") or diag($err);
    }
    my ($out, $err) = run($hostile{h_other}, fill(q{
SELECT pg_catalog.count(*) FROM smam.account_tool_status
 WHERE 1 OPERATOR(pg_catalog./) (account_id OPERATOR(pg_catalog.-) <<A_live>>) OPERATOR(pg_catalog.>) 0;}), 'error oracle');
    # HOLE (fixed): the same views, through an error: the caller's division runs on
    # another department's row.
    unlike($err, qr/division by zero/, 'h_other: a division by zero in a filter on account_tool_status does not reveal another department\'s account');
}

{
    # configure_account on another department's planned account.
    my $before = su("SELECT configuration::text FROM smam.account WHERE id = $id{A_plan4}");
    my ($out, $err) = run($hostile{h_other}, fill(q{SELECT smam.configure_account(<<A_plan4>>, '{"avatar": "fip:taken"}');}), 'o01');
    # HOLE (fixed, issue 15, 6): the lifecycle guard checks nobody for a planned
    # account's configuration, and configure_account() runs as the owner.
    like(outcome($out, $err), qr/^ERROR 42704: account \d+ does not exist or is not visible to you/,
         'h_other may not configure another department\'s planned account, nor learn it exists');
    is(su("SELECT configuration::text FROM smam.account WHERE id = $id{A_plan4}"), $before, '... and its configuration is unchanged');

    # Refusals to a head of another department that tell what they may not see.
    my @told = (
      ['o02', q{SELECT smam.transition(<<A_plan4>>, 'disposed', 'mine now')}, qr/planning/, 'the stage of the account'],
      ['o03', q{SELECT smam.attach_implementation_plan(<<A_plan4>>, <<P2>>)}, qr/planning/, 'the stage of the account'],
      ['o04', q{SELECT message || ' ' || coalesce(detail, '') FROM smam.move_problems(<<A_plan4>>, 'creation')}, qr/planning/,
       'the stage of the account'],
      ['o05', q{SELECT smam.decide('strategy', <<S1>>, 'approved')}, qr/approved|h_head/, 'the status and approver of the strategy'],
      ['o06', q{SELECT smam.approve_post(<<POST_draft>>)}, qr/cancelled|draft/, 'the status of the post'],
      ['o07', q{SELECT frozen_sha256 FROM smam.reproduce_report(<<REP1>>)},
       do { my $h = su("SELECT content_sha256 FROM smam.compliance_report WHERE id = $id{REP1}"); qr/\Q$h\E/ },
       'the hash of another department\'s frozen report'],
    );
    for my $t (@told) {
        my ($tag, $sql, $secret, $what) = @$t;
        my ($o, $e) = run($hostile{h_other}, "BEGIN;\n" . fill($sql) . ";\nROLLBACK;", $tag);
        my $said = $o . ' ' . outcome($o, $e);
        # HOLE (fixed, issue 15, 11): SECURITY DEFINER functions report another
        # department's state before checking who asks.
        unlike($said, $secret, "$tag: h_other is refused without being told $what ($sql)" =~ s/<<\w+>>/n/gr);
    }
}

# A refused caller keeps no lock on another department's rows: h_other
# leaves its transaction open after the refusal; the department's own head
# then writes the same rows.
for my $l (['transition', 'account', q{SELECT smam.transition(<<A_live>>, 'evaluation')},
            q{UPDATE smam.account SET purpose = 'still ours' WHERE id = <<A_live>>}],
           ['approve_post', 'post', q{SELECT smam.approve_post(<<POST_sub>>)},
            q{SELECT smam.edit_post(<<POST_sub>>, 'Hello, once more')}]) {
    my ($fn, $what, $call, $write) = @$l;
    run($hostile{h_other}, "BEGIN;\n" . fill($call) . ';', "lock by $fn");
    my ($out, $err) = run($benign{h_head}, "BEGIN;\nSET LOCAL lock_timeout = '2s';\nSET LOCAL row_security = on;\n" . fill($write) . ";\nROLLBACK;",
                          "write after $fn");
    run($hostile{h_other}, 'ROLLBACK;');
    # The functions lock the row (FOR UPDATE, as the owner) before they
    # check who asks; this holds because their refusal aborts the caller's
    # transaction, releasing the lock. A function that came to catch its
    # refusal and return normally would leave the lock with the caller.
    unlike($err, qr/lock timeout/, "h_other, refused by smam.$fn, holds no lock on another department's $what");
}

# Last of the attacks, as it may make its role a superuser: the cursor game.
my %benign_count;
for my $role (qw(h_analyst h_tbs)) {
    ($benign_count{$role}) = run($benign{$role}, 'SELECT pg_catalog.count(*) FROM smam.compliance_findings', "count ($role)");
    ok($benign_count{$role} > 1000, "$role reads $benign_count{$role} findings: more than one batch of the stream");
    my ($out, $err) = run($hostile{$role}, "BEGIN;\nSET LOCAL application_name = 'hostile:cursor';\n"
                          . "SELECT pg_catalog.count(*), pg_catalog.bool_and(pg_temp.hijack()) FROM smam.compliance_findings;\nCOMMIT;",
                          "cursor game as $role");
    # HOLE (fixed): src/compliance.c keeps the name of its SPI cursor and looks it up
    # again before each batch (SPI_cursor_find), fetching with the owner's
    # rights; the caller closes it and declares its own under that name.
    ok($err =~ /ERROR/ || $out eq "$benign_count{$role}|t",
       "$role: closing the stream's cursor and declaring one under its name either is refused or changes nothing ($out)")
      or diag($err);
}

# ---- 4. what must hold ----
# HOLE (fixed, issue 15, 3): the cursor game's warnings (src/compliance.c).
is(join('; ', map { "$_->[0]: $_->[1]" } @canary_seen), '', 'no planted object ran with raised rights in a session (warnings of evil())');
# HOLE (fixed, issue 15, 3 and 5): the cursor game; and the publishing worker,
# which runs CLAIM_SQL (src/delivery.c) as the bootstrap superuser under the
# database's search_path, where the simple CASE on a.official_language
# takes its = from the database owner's public.=(anyenum, anyenum).
is(su(q{SELECT coalesce(string_agg(tag || ' ran as ' || ran_as || ' for ' || session_role, '; ' ORDER BY at), '') FROM canary.hit}), '',
   'the canary table is empty: nothing planted ran as its owner');
is(su('SELECT is_called FROM canary.hit_seq'), 'f', 'the canary sequence was never advanced, not even in a rolled back transaction');
# HOLE (fixed): as the two above (h_analyst and h_tbs by the cursor game, h_dbowner by the worker).
is(su(q{SELECT coalesce(string_agg(rolname, ', ' ORDER BY rolname), '') FROM pg_roles WHERE rolsuper AND rolname LIKE 'h\_%'}), '',
   'no attacker became a superuser');
# HOLE (fixed): h_analyst and h_tbs by the cursor game, h_dbowner by the worker.
for my $role (@attackers) {
    is(su("SELECT coalesce(string_agg(roleid::regrole::text, ',' ORDER BY roleid::regrole::text), '') FROM pg_auth_members WHERE member = '$role'::regrole"),
       $member_of{$role}, $member_of{$role} ? "$role is a member of $member_of{$role} and of no other role" : "$role is a member of no role");
}
is(su('SELECT holds FROM smam.verify_audit_log()'), 't', 'the audit log verifies');

# Every row of every audited table has its INSERT in the log (shipped rows
# and the catalogue come with the extension, before the log).
{
    my @missing;
    for my $t (split /\n/, su(q{
        SELECT c.oid::regclass || '|' || string_agg(a.attname, ',' ORDER BY k.n)
          FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE c.relnamespace = 'smam'::regnamespace
           AND c.relname NOT IN ('audit_log', 'audit_seal', 'audit_checkpoint', 'audit_commit', 'instrument', 'requirement',
                                 'report_dictionary')
         GROUP BY c.oid ORDER BY 1})) {
        my ($table, $cols) = split /\|/, $t;
        my @c = split /,/, $cols;
        my $key = @c == 1 ? "x.${\ $c[0]}::text" : "'(' || " . join(" || ',' || ", map { "x.${_}::text" } @c) . " || ')'";
        my $shipped = su("SELECT count(*) FROM pg_attribute WHERE attrelid = '$table'::regclass AND attname = 'shipped'") ? 'AND NOT x.shipped' : '';
        my $n = su("SELECT string_agg($key, ', ') FROM $table x WHERE NOT EXISTS (SELECT 1 FROM smam.audit_log l
                      WHERE l.table_name = '$table' AND l.operation = 'INSERT' AND l.row_key = $key) $shipped");
        push @missing, "$table: $n" if $n ne '';
    }
    # HOLE (fixed, issue 15, 4): the rows the COPY acts wrote have no audit row.
    is(join('; ', @missing), '', 'every row of every audited table has its INSERT in the audit log');
}

# Every trigger of smam, and the act that reaches it. "refused" triggers
# guard what no role may do (TRUNCATE, writing the catalogue or the log):
# the direct writes above are refused before them, by privileges; "archive"
# triggers fire when the administrator archives the log, last.
my %trigger = (
  'smam.instrument' => {catalogue_guard => 'refused', catalogue_guard_truncate => 'refused', smam_audit => 'refused', smam_audit_truncate => 'refused'},
  'smam.requirement' => {catalogue_guard => 'refused', catalogue_guard_truncate => 'refused', smam_audit => 'refused', smam_audit_truncate => 'refused'},
  'smam.report_dictionary' => {catalogue_guard => 'refused', catalogue_guard_truncate => 'refused', smam_audit => 'refused', smam_audit_truncate => 'refused'},
  'smam.instrument_setting' => {smam_audit => 'a07', smam_audit_truncate => 'refused'},
  'smam.effective_date_record' => {smam_audit => 'a08', smam_audit_truncate => 'refused'},
  'smam.department' => {catalogue_guard => 'a02', merged_department_guard => 'a02', smam_audit => 'a02', smam_audit_truncate => 'refused'},
  'smam.platform' => {catalogue_guard => 'refused', smam_audit => 'refused', smam_audit_truncate => 'refused'},
  'smam.platform_host' => {catalogue_guard => 'refused', smam_audit => 'refused', smam_audit_truncate => 'refused'},
  'smam.platform_alias' => {catalogue_guard => 'refused', smam_audit => 'refused', smam_audit_truncate => 'refused'},
  'smam.principal' => {smam_audit => 'a03', smam_audit_truncate => 'refused'},
  'smam.appointment' => {appointment_guard => 'a04', smam_audit => 'a04', smam_audit_truncate => 'refused'},
  'smam.account' => {account_left_live => 'a31', lifecycle_guard => 'a22', lifecycle_guard_truncate => 'refused',
                     smam_audit => 'a22', smam_audit_truncate => 'refused'},
  'smam.decision' => {record_guard => 'a12', record_guard_truncate => 'refused', smam_audit => 'a12', smam_audit_truncate => 'refused'},
  'smam.strategy' => {approval_guard => 'a13', smam_audit => 'a13', smam_audit_truncate => 'refused'},
  'smam.implementation_plan' => {approval_guard => 'a17', smam_audit => 'a17', smam_audit_truncate => 'refused'},
  'smam.plan_platform' => {plan_platform_changed => 'a15', smam_audit => 'a15', smam_audit_truncate => 'refused'},
  'smam.platform_review' => {record_guard => 'refused', record_guard_truncate => 'refused', smam_audit => 'a18', smam_audit_truncate => 'refused'},
  'smam.technical_specification' => {catalogue_guard => 'a19', smam_audit => 'a19', smam_audit_truncate => 'refused'},
  'smam.submission' => {approval_guard => 'a20', smam_audit => 'a20', smam_audit_truncate => 'refused'},
  'smam.evaluation' => {evaluation_guard => 'a25', smam_audit => 'a25', smam_audit_truncate => 'refused'},
  'smam.archive' => {evaluation_guard => 'a27', record_guard => 'refused', smam_audit => 'a27', smam_audit_truncate => 'refused'},
  'smam.stage_history' => {record_guard => 'a22', record_guard_truncate => 'refused', smam_audit => 'a22', smam_audit_truncate => 'refused'},
  'smam.account_approval' => {record_guard => 'a24', record_guard_truncate => 'refused', smam_audit => 'a24', smam_audit_truncate => 'refused'},
  'smam.department_alias' => {smam_audit => 'a32', smam_audit_truncate => 'refused'},
  'smam.department_org_alias' => {smam_audit => 'a33d', smam_audit_truncate => 'refused'},
  'smam.department_candidate' => {smam_audit => 'a33b', smam_audit_truncate => 'refused'},
  'smam.account_move' => {smam_audit => 'a33e', smam_audit_truncate => 'refused'},
  'smam.department_merge' => {smam_audit => 'a33f', smam_audit_truncate => 'refused'},
  'smam.index_import' => {smam_audit => 'a32', smam_audit_truncate => 'refused'},
  'smam.index_import_row' => {smam_audit => 'a32', smam_audit_truncate => 'refused'},
  'smam.disposition_review' => {smam_audit => 'a32', smam_audit_truncate => 'refused'},
  'smam.index_snapshot' => {smam_audit => 'a34', smam_audit_truncate => 'refused'},
  'smam.index_snapshot_entry' => {smam_audit => 'a34', smam_audit_truncate => 'refused'},
  'smam.index_snapshot_file' => {smam_audit => 'a34', smam_audit_truncate => 'refused'},
  'smam.account_owner_label' => {smam_audit => 'a33', smam_audit_truncate => 'refused'},
  'smam.content_item' => {smam_audit => 'a35', smam_audit_truncate => 'refused'},
  'smam.publishing_policy' => {smam_audit => 'a42', smam_audit_truncate => 'refused'},
  'smam.approval_tier' => {smam_audit => 'a42', smam_audit_truncate => 'refused'},
  'smam.post' => {post_edit_guard => 'a39', smam_audit => 'a36', smam_audit_truncate => 'refused'},
  'smam.post_target' => {smam_audit => 'a36', smam_audit_truncate => 'refused'},
  'smam.post_approval' => {smam_audit => 'a38', smam_audit_truncate => 'refused'},
  'smam.connector' => {smam_audit => 'a43', smam_audit_truncate => 'refused', connector_rebind => 'a43'},
  'smam.account_credential' => {smam_audit => 'a44', smam_audit_truncate => 'refused'},
  'smam.delivery' => {delivery_wake => 'a40', smam_audit => 'a40', smam_audit_truncate => 'refused'},
  # attempts are written by whoever sends what a40 scheduled: the worker, or smam.dispatch() (a48)
  'smam.delivery_attempt' => {smam_audit => 'a40', smam_audit_truncate => 'refused'},
  'smam.account_url_check' => {smam_audit => 'a46', smam_audit_truncate => 'refused'},
  'smam.metric_pull' => {smam_audit => 'a47', smam_audit_truncate => 'refused'},
  'smam.account_metric' => {smam_audit => 'a47', smam_audit_truncate => 'refused'},
  'smam.report_request' => {smam_audit => 'a49', smam_audit_truncate => 'refused'},
  'smam.compliance_report' => {smam_audit => 'a53', smam_audit_truncate => 'refused'},
  'smam.corrective_action' => {smam_audit => 'a50', smam_audit_truncate => 'refused'},
  'smam.corrective_measure' => {smam_audit => 'a54', smam_audit_truncate => 'refused'},
  'smam.consequence' => {smam_audit => 'a51', smam_audit_truncate => 'refused'},
  'smam.standard_review' => {smam_audit => 'a52', smam_audit_truncate => 'refused'},
  'smam.service_standard' => {smam_audit => 'a55', smam_audit_truncate => 'refused'},
  'smam.audit_log' => {audit_log_guard => 'archive', audit_log_guard_truncate => 'refused'},
  'smam.audit_seal' => {audit_head_forget => 'archive', audit_log_guard => 'archive', audit_log_guard_truncate => 'refused'},
  'smam.audit_checkpoint' => {audit_head_forget => 'archive', audit_log_guard => 'refused', audit_log_guard_truncate => 'refused'},
  'smam.audit_commit' => {audit_log_guard => 'refused', audit_log_guard_truncate => 'refused'},
);
my @catalog_triggers = split /\n/, su(q{
    SELECT tgrelid::regclass || ' ' || tgname FROM pg_trigger
     WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'smam'::regnamespace) ORDER BY 1});
is_deeply([sort @catalog_triggers], [sort map { my $t = $_; map { "$t $_" } keys %{ $trigger{$t} } } keys %trigger],
          'the test reaches every trigger on smam\'s tables, and no other');
{
    my @quiet;
    for my $t (sort keys %trigger) {
        my $by = $trigger{$t}{smam_audit} // next;
        next if $by !~ /^a\d/;
        push @quiet, "$t ($by)" if su("SELECT count(*) FROM smam.audit_log WHERE table_name = '$t' AND txn > $txn0") eq '0';
    }
    # HOLE (fixed, a consequence): department and the import's tables, whose acts
    # (a01, a02, a32) fail with standard_conforming_strings off.
    is(join(', ', @quiet), '', 'every table whose triggers an act reaches was changed in the hostile sessions');
}

# Last: an administrator archives the log up to the end of the set-up; its
# guards and the chain's head follow.
{
    my $seen = @canary_seen;
    # The log keeps a year before anything leaves it; a superuser shortens
    # that for the test (a superuser-only setting), which the session reloads.
    su("ALTER SYSTEM SET smam.audit_archive_min_age = 0; SELECT pg_reload_conf()");
    for (1 .. 50)
    {
        last if (run($hostile{h_admin}, 'SHOW smam.audit_archive_min_age', 'archive'))[0] =~ /^0/;
        sleep 0.1;
    }
    # The export, as the administrator saves it (psql -At: every line and a newline).
    my ($export) = run($hostile{h_admin}, "SELECT x FROM smam.audit_export($seal0) x;", 'archive');
    my $sha = Digest::SHA::sha256_hex("$export\n");
    my ($out, $err) = run($hostile{h_admin}, "SELECT seals_archived > 0 FROM smam.archive_audit_log($seal0, '$sha', 'exported to the archive');", 'archive');
    is(outcome($out, $err, 1), 'OK t', 'the administrator archives the log up to the end of the set-up, in a hostile session');
    is(su('SELECT holds FROM smam.verify_audit_log()'), 't', 'the audit log still verifies after the archive');
    is(join('; ', map { "$_->[0]: $_->[1]" } @canary_seen[$seen .. $#canary_seen]), '', 'and nothing planted ran with raised rights since');
}

$_->quit for values %benign, values %hostile;
$adm->quit;
note sprintf('done in %.1f s', time - $started);
done_testing();

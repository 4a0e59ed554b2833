# Real clients (issue 19): smam read and called through the drivers that
# applications and BI tools use, over TCP with scram-sha-256 in both passes
# of `make test`, as an analyst (a login role in smam_analyst) and as a
# department's head of communications (a login role in smam_department
# holding the office), each with its password:
#
#   psycopg 3 and psycopg 2   test/clients/psycopg_probe.py (Debian's python3)
#   unixODBC + psqlODBC       test/clients/odbc_probe.py (pyodbc; the DSN
#                             of docs/clients.md, its ini blocks as written)
#   pgJDBC                    test/clients/JdbcProbe.java (java, single file)
#
# Each probe prints one JSON object of what its driver gave; every expected
# value is here: the rows of the reporting views and the dictionary, accented
# text both ways, a refusal's SQLSTATE, message, DETAIL and HINT (compared
# with what the server raised), smam.stage parameters passed as strings, the
# 42501 of a role without USAGE on smam_report, what each driver passes of
# DETAIL and HINT and of the views' comments (docs/clients.md says the same).
use strict;
use warnings;
use utf8;

BEGIN { mkdir $ENV{TESTDIR} if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run ();
use JSON::PP ();
use Encode ();
use Time::HiRes ();
use SmamTest;

my $src = $ENV{SMAM_SRC} // die "SMAM_SRC is not set\n";
my $python = '/usr/bin/python3';    # Debian's, with python3-psycopg and python3-pyodbc
my $jdbc_jar = '/usr/share/java/postgresql.jar';
my $odbc_driver = '/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so';

my $node = SmamTest->new('clients');
$node->init;
$node->append_conf('postgresql.conf', <<'CONF');
shared_preload_libraries = 'smam'
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
log_connections = on
CONF
# In the socket pass the node trusts every connection (initdb -A trust, also
# on 127.0.0.1): the superuser keeps its socket, the clients get TCP with a
# password, as in the TCP pass (where SmamTest wrote scram-sha-256 only).
unless (SmamTest::tcp())
{
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die "pg_hba.conf: $!";
	print $hba "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n";
	close $hba or die "pg_hba.conf: $!";
}
$node->start;

my $db = 'smam';    # the database docs/clients.md connects to
sub sql
{
	my ($text) = @_;
	return Encode::decode('UTF-8', $node->safe_psql($db, Encode::encode('UTF-8', $text)));
}
$node->safe_psql('postgres', "CREATE DATABASE $db");
sql('SET client_min_messages = warning; CREATE EXTENSION smam');
my %password = (
	c_analyst => $node->create_login_role('c_analyst', 'IN ROLE smam_analyst'),
	c_head    => $node->create_login_role('c_head',    'IN ROLE smam_department'));

my $dept_fr = 'Ministère des Pêches et des Océans';
my $note    = 'Abandonné — plan révisé';
my ($dept, @accounts) = split /\n/, sql(<<"SQL");
SET client_min_messages = warning;
CREATE ROLE c_admin LOGIN IN ROLE smam_admin;
SELECT smam.register_principal('c_admin', 'Administrator', 'admin\@example.gc.ca') \\gset
SELECT smam.appoint('c_admin', 'administrator') \\gset
SET ROLE c_admin;
SELECT smam.add_department('Fisheries and Oceans Canada', '$dept_fr') AS dept \\gset
SELECT smam.add_department('Department of Examples', 'Ministère des Exemples') \\gset
SELECT smam.register_principal('c_head', 'Hélène Côté', 'helene\@example.gc.ca', :dept) \\gset
SELECT smam.appoint('c_head', 'head_of_communications', :dept) \\gset
SET ROLE c_head;
SELECT smam.draft_plan(:dept, 'Plan des Pêches', 'b', 'r', 'r', 'r', 'm', 'p', 'c') AS plan \\gset
SELECT smam.plan_pia(:plan, 'x') \\gset
RESET ROLE;
SELECT :dept;
SET ROLE c_head;
SELECT smam.plan_account(:dept, 'x', 'https://x.com/Peches' || n, 'Fisheries ' || n, 'Pêches ' || n,
                         'bilingual', 'Notices', :plan)
  FROM generate_series(1, 6) n;
RESET ROLE;
SQL
is(scalar(@accounts), 6, 'a department, its head of communications and six planned accounts');
my ($refused, $dispose3, $dispose2, $dispose_odbc, $dispose_cast, $dispose_unspecified) = @accounts;

# What the server raises when the head moves a planned account to creation
# (the entity's move, 6.2.2), read in PL/pgSQL as the head: each driver must
# pass this.
sql(q{CREATE FUNCTION public.refusal_of(q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE s text; m text; d text; h text;
BEGIN
  EXECUTE q;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  RETURN ARRAY[s, m, d, h];
END $$});
my $server = JSON::PP->new->decode(sql("SET ROLE c_head; SELECT array_to_json(public.refusal_of('SELECT smam.transition($refused, ''creation'')'))"));
my ($r_state, $r_primary, $r_detail, $r_hint) = @$server;
is($r_state, '42501', 'the server refuses the head a move of the entity\'s');
like($r_detail, qr/This enforces requirement 6\.2\.2 of the Standard on Social Media Account Management\.$/,
	'its DETAIL names the Standard\'s requirement');
like($r_hint, qr/\S/, 'it has a HINT');

# The views of smam_report, each commented (from the dictionary).
my @report_views = qw(account_tool_status account_url_finding activity_report_line compliance_by_department
  compliance_findings compliance_rule compliance_summary data_dictionary index_reject metrics_monthly
  public_index published_index_files publishing_report requirement_catalogue);
my $remarks = JSON::PP->new->decode(sql(q{
  SELECT json_object_agg(c.relname, obj_description(c.oid, 'pg_class'))
    FROM pg_class c WHERE c.relnamespace = 'smam_report'::regnamespace}));
is_deeply([ sort keys %$remarks ], \@report_views, 'smam_report holds the reporting views and the dictionary');
is(scalar(grep { defined && /\S/ } values %$remarks), scalar(@report_views), 'each of them has a comment');
my $column_remarks = JSON::PP->new->decode(sql(q{
  SELECT json_object_agg(attname, col_description(attrelid, attnum))
    FROM pg_attribute WHERE attrelid = 'smam_report.compliance_by_department'::regclass AND attnum > 0 AND NOT attisdropped}));
my @dept_columns = split /\n/, sql(q{SELECT attname FROM pg_attribute
  WHERE attrelid = 'smam_report.compliance_by_department'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum});
my $dictionary_count = sql('SELECT count(*) FROM smam.report_dictionary');
is($dictionary_count, sql(q{SELECT count(*) + count(DISTINCT c.oid) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE c.relnamespace = 'smam_report'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped}),
	'the dictionary has a row for each view of smam_report and each of its columns');
my $departments = sql('SELECT count(*) FROM smam.department');
my @findings = map { [ split /\|/, $_, 2 ] } split /\n/,
  sql("SELECT requirement || '|' || problem FROM smam.compliance_findings WHERE department_id = $dept ORDER BY requirement, problem");
ok(@findings > 0, 'the department has compliance findings to read');
my $stage_oid = sql(q{SELECT 'smam.stage'::regtype::oid});

# Run a probe as the cluster's user with the node's address and the roles'
# passwords in its environment (never on its command line); returns what it
# printed, decoded.
my %probe_env = (
	LC_ALL => 'C.UTF-8', LANG => 'C.UTF-8',
	SMAM_HOST => '127.0.0.1', SMAM_PORT => $node->port, SMAM_DB => $db,
	SMAM_ANALYST => 'c_analyst', SMAM_ANALYST_PASSWORD => $password{c_analyst},
	SMAM_DEPT => 'c_head', SMAM_DEPT_PASSWORD => $password{c_head},
	SMAM_DEPT_ID => $dept, SMAM_DEPT_FR => Encode::encode('UTF-8', $dept_fr),
	SMAM_NOTE => Encode::encode('UTF-8', $note), SMAM_REFUSED_ACCOUNT => $refused,
	SMAM_DISPOSE_3 => $dispose3, SMAM_DISPOSE_2 => $dispose2, SMAM_DISPOSE_ODBC => $dispose_odbc,
	SMAM_DISPOSE_CAST => $dispose_cast, SMAM_DISPOSE_UNSPECIFIED => $dispose_unspecified,
	SMAM_ODBC_DRIVER => $odbc_driver);
sub probe
{
	my ($name, $cmd, %extra) = @_;
	local %ENV = (%ENV, %probe_env, %extra);
	my ($out, $err) = ('', '');
	my $t0 = Time::HiRes::time();
	my $ok = IPC::Run::run($cmd, '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	diag(sprintf('%s: %.1f s', $name, Time::HiRes::time() - $t0));
	my $got = $ok ? eval { JSON::PP->new->decode($out) } : undef;
	ok($got, "$name ran and printed its observations") or diag("exit $?\n$out\n$err");
	return $got // {};
}
# A query's rows, or its error.
sub rows { my ($r) = @_; return $r && exists $r->{rows} ? $r->{rows} : $r }

# ---- psycopg 3 and psycopg 2 ----
my $p = probe('psycopg 3 and 2', [ $python, "$src/test/clients/psycopg_probe.py" ]);
my $p3 = $p->{psycopg3} // {};
like($p3->{wrong_password}, qr/password authentication failed for user "c_analyst"/,
	'psycopg 3: a wrong password is refused (scram-sha-256, not trust)');
is_deeply(rows($p3->{analyst_who}), [ [ 'c_analyst', '127.0.0.1', 'UTF8' ] ], 'psycopg 3: the analyst, over TCP, in UTF8');
is_deeply(rows($p3->{analyst_department_fr}), [ [$dept_fr] ], 'psycopg 3: accented French read from smam_report');
is_deeply(rows($p3->{analyst_by_french_name}), [ [ 0 + $dept ] ], 'psycopg 3: and passed as a parameter');
is_deeply(rows($p3->{analyst_departments}), [ [ 0 + $departments ] ], 'psycopg 3: the analyst sees every department');
is_deeply(rows($p3->{analyst_findings}), \@findings, 'psycopg 3: the department\'s compliance findings');
is_deeply(rows($p3->{analyst_dictionary}), [ [ 0 + $dictionary_count ] ], 'psycopg 3: the data dictionary');
is_deeply(rows($p3->{dept_who}), [ [ 'c_head', '127.0.0.1', 'UTF8' ] ], 'psycopg 3: the head of communications, over TCP');
is($p3->{dept_report_schema}{error}{sqlstate}, '42501', 'psycopg 3: smam_report refuses a department role: 42501');
is($p3->{dept_report_schema}{error}{primary}, 'permission denied for schema smam_report', '... no USAGE on the schema');
is_deeply(rows($p3->{dept_own}), [ [ 1, $dept_fr ] ], 'psycopg 3: the department role reads its own department in smam');
is_deeply($p3->{str_dumper}, [ 'StrDumperUnknown', 0 ], 'psycopg 3 binds a str (%s) as unknown, OID 0');
my $e = $p3->{refusal}{error} // {};
is_deeply([ @$e{qw(sqlstate primary detail hint)} ], [ $r_state, $r_primary, $r_detail, $r_hint ],
	'psycopg 3: a refusal\'s SQLSTATE, message, DETAIL and HINT (e.sqlstate, e.diag)');
like($e->{text}, qr/\Q$r_primary\E\nDETAIL:  \Q$r_detail\E\nHINT:  \Q$r_hint\E\n/, 'psycopg 3: str(e) has them all');
is_deeply([ @{ $p3->{str_as_text}{error} // {} }{qw(sqlstate primary)} ],
	[ '42883', 'function smam.transition(smallint, text, unknown) does not exist' ],
	'psycopg 3: a str bound as text (%b) matches no smam.transition: 42883');
is_deeply($p3->{transition}, [ 'disposed', 0 + $stage_oid ], 'psycopg 3: a str passed for smam.stage (%s) moves the account');
is_deeply(rows($p3->{transition_read}), [ [ 'disposed', "$note (psycopg 3)" ] ], 'psycopg 3: the accented note reads back');

my $p2 = $p->{psycopg2} // {};
is_deeply(rows($p2->{analyst_who}), [ [ 'c_analyst', '127.0.0.1', 'UTF8' ] ], 'psycopg 2: the analyst, over TCP');
is_deeply(rows($p2->{analyst_department_fr}), [ [$dept_fr] ], 'psycopg 2: accented French, as a parameter and read');
is($p2->{dept_report_schema}{error}{sqlstate}, '42501', 'psycopg 2: smam_report refuses a department role: 42501');
$e = $p2->{refusal}{error} // {};
is_deeply([ @$e{qw(sqlstate primary detail hint)} ], [ $r_state, $r_primary, $r_detail, $r_hint ],
	'psycopg 2: a refusal\'s SQLSTATE, message, DETAIL and HINT (e.pgcode, e.diag)');
is($p2->{query_sent}, "SELECT smam.transition($dispose2, 'disposed', 'é')",
	'psycopg 2 merges parameters into the query as literals');
is($p2->{transition}, 'disposed', 'psycopg 2: a str passed for smam.stage moves the account');

# ---- ODBC: unixODBC, psqlODBC, pyodbc ----
# The DSN of docs/clients.md, its two ini blocks as written, but for the port.
my $ini = PostgreSQL::Test::Utils::tempdir('odbc');
my %ini_block;
{
	open my $fh, '<', "$src/docs/clients.md" or die "docs/clients.md: $!";
	my ($in, $text);
	while (my $l = <$fh>)
	{
		if (!defined $in && $l =~ /^```ini\s*$/) { ($in, $text) = ('', ''); next; }
		if (defined $in && $l =~ /^```\s*$/) { $ini_block{$in} = $text if $in; undef $in; next; }
		next unless defined $in;
		$in = $1 if $text eq '' && $l =~ /^; (odbcinst\.ini|odbc\.ini)\b/;
		$text .= $l;
	}
}
ok($ini_block{'odbcinst.ini'} && $ini_block{'odbc.ini'}, 'docs/clients.md has an odbcinst.ini and an odbc.ini');
my $dsn = ($ini_block{'odbc.ini'} // '') =~ /^\[(\w+)\]/m ? $1 : 'smam';
(my $odbc_ini = $ini_block{'odbc.ini'} // '') =~ s/^(Port\s*=\s*)5432$/$1 . $node->port/me;
for (['odbcinst.ini', $ini_block{'odbcinst.ini'} // ''], ['odbc.ini', $odbc_ini])
{
	open my $fh, '>', "$ini/$_->[0]" or die "$ini/$_->[0]: $!";
	print $fh $_->[1];
	close $fh or die;
}
chmod 0755, $ini;
my $o = probe('ODBC', [ $python, "$src/test/clients/odbc_probe.py" ],
	ODBCSYSINI => $ini, ODBCINI => "$ini/odbc.ini", SMAM_ODBC_DSN => $dsn);
is($o->{driver}[0], 'psqlodbcw.so', 'ODBC: psqlODBC\'s Unicode driver');
diag("psqlODBC $o->{driver}[1], pyodbc $o->{pyodbc}") if $o->{driver};
is(($o->{wrong_password} // [])->[0], '08001', 'ODBC: a wrong password is refused');
like(($o->{wrong_password} // [])->[1], qr/password authentication failed for user "c_analyst"/, '... by the server');
is_deeply(rows($o->{analyst_who}), [ [ 'c_analyst', '127.0.0.1' ] ], 'ODBC: the analyst, over TCP');
is_deeply($o->{tables}, [ map { [ $_, 'VIEW' ] } @report_views ],
	'ODBC: the navigator pointed at smam_report lists exactly its views');
is_deeply($o->{schemas_listed}, ['smam_report'], '... and nothing of another schema');
is_deeply($o->{unreadable}, {}, 'ODBC: the analyst opens every object listed (SELECT ... WHERE false)')
  or diag(join("\n", map { "$_: $o->{unreadable}{$_}[1]" } sort keys %{ $o->{unreadable} // {} }));
diag("ODBC: pointed at smam, the navigator lists $o->{smam_listed} objects; the analyst opens $o->{smam_readable}")
  if defined $o->{smam_listed};
is_deeply($o->{table_remarks}, [''], 'ODBC: psqlODBC gives no view\'s comment (REMARKS empty)');
is_deeply([ map { $_->[0] } @{ $o->{columns} // [] } ], \@dept_columns, 'ODBC: the columns of compliance_by_department');
is_deeply($o->{column_remarks}, [''], 'ODBC: and none of their comments');
is_deeply(rows($o->{dictionary_count}), [ [ 0 + $dictionary_count ] ], 'ODBC: the data dictionary carries the meanings');
is_deeply(rows($o->{dictionary_row}), [ [ split /\t/, sql(q{SELECT concat_ws(E'\t', ordinal, data_type, meaning_en, meaning_fr)
  FROM smam_report.data_dictionary WHERE view_name = 'compliance_by_department' AND column_name = 'department_fr'}) ] ],
	'ODBC: a column\'s ordinal, type and meanings in English and French, as the server has them');
is($column_remarks->{department_fr}, rows($o->{dictionary_row})->[0][2], '... its English meaning is the column\'s comment');
is_deeply(rows($o->{department_fr}), [ [$dept_fr] ], 'ODBC: accented French read from smam_report');
is_deeply(rows($o->{by_french_name}), [ [ 0 + $dept ] ], 'ODBC: and passed as a parameter');
is_deeply($o->{bool_default}, { rows => [ ['1'] ], types => ['str'] }, 'ODBC: by default a boolean is the text 1 (BoolsAsChar=1)');
is_deeply($o->{bool_off}, { rows => [ [JSON::PP::true] ], types => ['bool'] }, 'ODBC: with BoolsAsChar=0, a boolean');
is_deeply($o->{text_default}, [ [ -10, 8190 ] ], 'ODBC: text is declared SQL_WLONGVARCHAR of MaxLongVarcharSize (8190)');
is_deeply($o->{text_varchar}, [ [ -9, 255 ] ], 'ODBC: with TextAsLongVarchar=0, SQL_WVARCHAR(255)');
my $longest = sql('SELECT max(length(text)) FROM smam.requirement_catalogue');
is_deeply(rows($o->{text_longest}), [ [ 0 + $longest ] ], "ODBC: the longest requirement text, $longest characters");
ok($longest > 255, '... longer than the 255 that TextAsLongVarchar=0 declares');
is_deeply(rows($o->{dsn_who}), [ [ 'c_analyst', '127.0.0.1' ] ], 'ODBC: the DSN of docs/clients.md connects');
is_deeply($o->{dsn_bool}, { rows => [ [JSON::PP::true] ], types => ['bool'] }, '... with its BoolsAsChar=0');
is_deeply($o->{dsn_text}, [ [ -10, 8190 ] ], '... and text as long varchar');
is_deeply(rows($o->{dsn_department_fr}), [ [$dept_fr] ], '... and accented French both ways');
is_deeply(rows($o->{dept_who}), [ [ 'c_head', '127.0.0.1' ] ], 'ODBC: the head of communications, over TCP');
is(($o->{dept_report_schema}{error} // [])->[0], '42501', 'ODBC: smam_report refuses a department role: 42501');
is(($o->{refusal}{error} // [])->[0], $r_state, 'ODBC: a refusal\'s SQLSTATE (e.args[0])');
is(($o->{refusal}{error} // [])->[1],
	"[$r_state] ERROR: $r_primary\nDETAIL: $r_detail;\nError while executing the query (1) (SQLExecDirectW)",
	'ODBC: its message and DETAIL (e.args[1]); psqlODBC drops the HINT');
is($o->{transition}, 'disposed', 'ODBC: a str passed for smam.stage moves the account (UseServerSidePrepare=1)');
is(($o->{refusal_no_prepare}{error} // [])->[0], $r_state, '... and resolves with UseServerSidePrepare=0');

# ---- pgJDBC ----
my $j = probe('pgJDBC', [ 'java', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto',
	'-cp', $jdbc_jar, "$src/test/clients/JdbcProbe.java" ]);
diag("pgJDBC $j->{driver}") if $j->{driver};
is_deeply(rows($j->{analyst_who}), ['c_analyst 127.0.0.1'], 'pgJDBC: the analyst, over TCP');
is_deeply($j->{tables}, $remarks, 'pgJDBC: the navigator lists smam_report\'s views with their comments (REMARKS)');
is_deeply($j->{columns}, $column_remarks, 'pgJDBC: and the columns\' comments');
is_deeply(rows($j->{analyst_department_fr}), [$dept_fr], 'pgJDBC: accented French read from smam_report');
is_deeply(rows($j->{dept_who}), ['c_head 127.0.0.1'], 'pgJDBC: the head of communications, over TCP');
is_deeply([ @{ $j->{varchar}{error} // {} }{qw(sqlstate primary)} ],
	[ '42883', 'function smam.transition(bigint, character varying, character varying) does not exist' ],
	'pgJDBC: setString for smam.stage sends varchar: transition(?, ?, ?) fails with 42883');
is_deeply(rows($j->{cast}), ['disposed'], 'pgJDBC: with ?::smam.stage it moves the account');
is_deeply(rows($j->{unspecified}), ['disposed'], 'pgJDBC: with stringtype=unspecified in the URL, without a cast, too');
is(($j->{report_schema}{error} // {})->{sqlstate}, '42501', 'pgJDBC: smam_report refuses a department role: 42501');
$e = $j->{refusal}{error} // {};
is_deeply([ @$e{qw(sqlstate primary detail hint)} ], [ $r_state, $r_primary, $r_detail, $r_hint ],
	'pgJDBC: a refusal\'s SQLSTATE, message, DETAIL and HINT (getServerErrorMessage)');
like($e->{text}, qr/^ERROR: \Q$r_primary\E\n  Detail: \Q$r_detail\E\n  Hint: \Q$r_hint\E\n/, 'pgJDBC: getMessage() has them all');
is_deeply(rows($j->{notes}), [ "disposed: $note (JDBC, cast)", "disposed: $note (JDBC, stringtype=unspecified)" ],
	'pgJDBC: the accented notes read back');

# ---- what reached the server ----
is(sql("SELECT string_agg(id || ' ' || stage || coalesce(' ' || stage_note, ''), E'\\n' ORDER BY id) FROM smam.account"),
	join("\n", "$refused planning", "$dispose3 disposed $note (psycopg 3)", "$dispose2 disposed $note (psycopg 2)",
		"$dispose_odbc disposed $note (ODBC)", "$dispose_cast disposed $note (JDBC, cast)",
		"$dispose_unspecified disposed $note (JDBC, stringtype=unspecified)"),
	'the server holds each driver\'s move, its accented note intact; the refused account is still planned');
my $log = slurp_file($node->logfile);
for my $role (qw(c_analyst c_head))
{
	my $authorized = () = $log =~ /connection authorized: user=$role /g;
	my $scram = () = $log =~ /connection authenticated: identity="$role" method=scram-sha-256 /g;
	ok($authorized >= 4, "$role connected through the drivers ($authorized sessions)");
	is($scram, $authorized, "... each authenticated with scram-sha-256");
}

$node->stop;
done_testing();

# A public replica (issue 19): the published index travels by logical
# replication to a public-facing PostgreSQL that has no smam, with the
# statements of docs/operations.md ("A public replica") run as written (read
# from the file; only the subscription's connection string and the roles'
# passwords are the test's own). Publications made before the subscription
# (the first copy, under row-level security) and after it arrive byte for
# byte; the public node holds those two tables and its views, nothing else;
# its reader reads them and nothing else; the subscription's role reads
# nothing internal on the primary and may not replicate physically; a role
# without BYPASSRLS gets an empty first copy and nothing says so; after
# pg_dump the publication has lost its tables, and the docs' repair and a new
# full copy bring everything back.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use MIME::Base64 qw(decode_base64);
use IPC::Run ();
use SmamTest;

# ---- the SQL blocks of docs/operations.md, section "A public replica" ----
my $top = abs_path($ENV{SMAM_SRC} // dirname(__FILE__) . '/../..');
my @blocks;
{
	open my $fh, '<', "$top/docs/operations.md" or BAIL_OUT("cannot read $top/docs/operations.md: $!");
	my ($in, $cur);
	while (my $l = <$fh>)
	{
		if ($l =~ /^## /) { $in = $l =~ /^## A public replica\s*$/; next; }
		next unless $in;
		if (!$cur && $l =~ /^```sql\s*$/) { $cur = ''; next; }
		if (defined $cur && $l =~ /^```\s*$/) { push @blocks, { sql => $cur, used => 0 }; undef $cur; next; }
		$cur .= $l if defined $cur;
	}
}
BAIL_OUT('docs/operations.md has no SQL in a section "A public replica"') unless @blocks;
# The block whose first line matches: exactly one.
sub doc_block
{
	my ($first) = @_;
	my @b = grep { $_->{sql} =~ /\A\Q$first\E/ } @blocks;
	BAIL_OUT("docs/operations.md: " . scalar(@b) . " SQL blocks begin with '$first', not one") unless @b == 1;
	$b[0]{used}++;
	return $b[0]{sql};
}
my $primary_sql  = doc_block('-- On the primary, as a superuser');
my $public_sql   = doc_block('-- fragment: on the public node (PostgreSQL 15, no smam)');
my $subscribe    = doc_block('-- fragment: on the public node, as a superuser: the subscription');
my $verify_sql   = doc_block('-- On either node: the files of the last publication');
my $repair_sql   = doc_block('-- After a restore, as a superuser');
my $resubscribe  = doc_block('-- fragment: on the public node, as a superuser: start again');

# ---- the primary: smam, wal_level = logical, the pg_hba.conf of the docs ----
my $primary = SmamTest->new('replica_primary');
$primary->init;
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'smam'
wal_level = logical
max_wal_senders = 8
max_replication_slots = 8
});
# The docs' line for smam_index_replica (host and 127.0.0.1 here, without
# certificates; local in the socket pass), the same for the role without
# BYPASSRLS and for a smam_public role, and the test's superuser, physical
# replication included: the replication keyword is there, for it only.
my $su = scalar getpwuid($>);
{
	my ($type, $addr, $auth) = SmamTest->tcp ? ('host', '127.0.0.1/32', 'scram-sha-256') : ('local', '', 'trust');
	open my $hba, '>', $primary->data_dir . '/pg_hba.conf' or die "cannot write pg_hba.conf: $!";
	print $hba map { "$type $_ $addr $auth\n" }
	  ('smamdb smam_index_replica', 'smamdb replica_norls', 'smamdb web_public', "all $su", "replication $su");
	close $hba or die "cannot write pg_hba.conf: $!";
}
$primary->start;

# A department, an account (a French name, so not every byte is ASCII) and
# a first publication, before any subscription.
$primary->safe_psql('postgres', 'CREATE DATABASE smamdb');
$primary->safe_psql('smamdb', q{
  CREATE EXTENSION smam;
  SELECT smam.add_department('Department of Replicas', 'Ministère des Répliques', 'subject', 4343);
  SELECT smam.onboard_account(smam.find_department('4343'), 'twitter', 'https://twitter.com/Replicas',
                              'Replicas', 'Répliques', 'bilingual', 'listed in the index');
  SELECT smam.publish_index();
});
my $onboard = sub {
	my ($handle) = @_;
	$primary->safe_psql('smamdb', qq{
	  SELECT smam.onboard_account(smam.find_department('4343'), 'twitter', 'https://twitter.com/$handle',
	                              '$handle', 'Réplique $handle', 'bilingual', 'listed in the index')});
};

# ---- the docs' statements on the primary ----
$primary->safe_psql('smamdb', $primary_sql);
$primary->set_password('smam_index_replica', 'smamdb');
is($primary->safe_psql('smamdb', q{
     SELECT p.pubname || ': ' || string_agg(t.schemaname || '.' || t.tablename || ' (' || array_to_string(t.attnames, ', ') || ')', ', '
            ORDER BY t.tablename)
       FROM pg_publication p JOIN pg_publication_tables t ON t.pubname = p.pubname GROUP BY p.pubname}),
   'smam_public_index: smam.index_snapshot (id, published_at, account_count, content_sha256, document), '
   . 'smam.index_snapshot_file (snapshot_id, lang, file_name, content_sha256, byte_count, content)',
   'one publication on the primary: the two tables of the published index, each column named, published_by not among them');
is($primary->safe_psql('smamdb', q{
     SELECT format('login %s replication %s bypassrls %s superuser %s createrole %s createdb %s member of %s',
                   rolcanlogin, rolreplication, rolbypassrls, rolsuper, rolcreaterole, rolcreatedb,
                   (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid))
       FROM pg_roles r WHERE rolname = 'smam_index_replica'}),
   'login t replication t bypassrls t superuser f createrole f createdb f member of 0',
   'smam_index_replica: LOGIN REPLICATION BYPASSRLS, nothing else, in no group');

# ---- what smam_index_replica may read on the primary ----
my $pport = $primary->port;
my $phost = $primary->host;
my $as_replica = "host=$phost port=$pport dbname=smamdb user=smam_index_replica";
my $refused = sub {
	my ($node, $connstr, $sql, $re, $name) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql, connstr => $connstr);
	ok($rc != 0 && $err =~ $re, $name) or diag("rc $rc, out '$out', err '$err'");
};
for my $t ('smam.audit_log', 'smam.account_credential', 'smam.account', 'smam.index_snapshot_entry', 'smam.department')
{
	$refused->($primary, $as_replica, "SELECT count(*) FROM $t", qr/permission denied for table \w+/,
		"smam_index_replica may not read $t");
}
$refused->($primary, $as_replica, 'SELECT published_by FROM smam.index_snapshot',
	qr/permission denied for table index_snapshot/, 'nor the column published_by of smam.index_snapshot');
is($primary->safe_psql('smamdb', q{
     SELECT string_agg(c.relname || ' (' || (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
                                               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                                 AND has_column_privilege('smam_index_replica', c.oid, a.attnum, 'SELECT')) || ')',
                       ', ' ORDER BY c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') THEN has_any_column_privilege('smam_index_replica', c.oid, 'SELECT') END}),
   'index_snapshot (id, published_at, account_count, content_sha256, document), '
   . 'index_snapshot_file (snapshot_id, lang, file_name, content_sha256, byte_count, content)',
   'the published columns of the two tables are all it can read, outside the system catalogs');
is($primary->safe_psql('smamdb', q{
     SELECT (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'smam' AND has_function_privilege('smam_index_replica', p.oid, 'EXECUTE'))
         || ' ' || (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'smam'
                       AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege('smam_index_replica', c.oid, 'SELECT,USAGE,UPDATE') END)}),
   '0 0', 'it can run none of smam\'s functions and use none of its sequences');
is($primary->safe_psql('smamdb', 'SELECT count(id) FROM smam.index_snapshot', connstr => $as_replica), '1',
   'through row-level security it reads every publication (BYPASSRLS)');
my ($rc, $out, $err) = $primary->psql('smamdb', 'IDENTIFY_SYSTEM', connstr => $as_replica, replication => 'true');
ok($rc != 0 && $err =~ /no pg_hba.conf entry for replication connection .*user "smam_index_replica"/,
	'a physical replication connection is refused to smam_index_replica (no replication line for it)')
  or diag("rc $rc: $err");
like($primary->safe_psql('smamdb', 'IDENTIFY_SYSTEM', replication => 'true'), qr/^\d+\|\d+\|/,
	'where the superuser has one');
$refused->($primary, "host=$phost port=$pport dbname=postgres user=smam_index_replica", 'SELECT 1',
	qr/no pg_hba.conf entry for .*user "smam_index_replica", database "postgres"/,
	'and a connection to another database');

# ---- the public node: PostgreSQL 15 without smam ----
my $public = SmamTest->new('replica_public');
$public->init;
$public->start;
$public->safe_psql('postgres', 'CREATE DATABASE smam_public');
is($public->safe_psql('smam_public', q{SELECT count(*) FROM pg_available_extensions WHERE name = 'smam' AND installed_version IS NULL}),
   '1', 'smam is installed in the public node\'s PostgreSQL, not created in its database');
$public->safe_psql('smam_public', $public_sql);
$public->set_password('smam_index_reader', 'smam_public');
my $as_reader = $public->connstr('smam_public') . ' user=smam_index_reader';

# The test's connection string in the docs' CREATE SUBSCRIPTION (its password,
# over TCP, from the password file, as the docs' .pgpass).
my $subscription = sub {
	my ($user) = @_;
	my $sql = $subscribe;
	my $n = $sql =~ s/CONNECTION '[^']*'/CONNECTION 'host=$phost port=$pport dbname=smamdb user=$user'/g;
	BAIL_OUT("the docs' CREATE SUBSCRIPTION has $n CONNECTION strings, not one") unless $n == 1;
	return $sql;
};

# ---- the trap: a role without BYPASSRLS, the same grants ----
# The first copy runs COPY on the primary as the connecting role, under
# row-level security: without BYPASSRLS (or a policy) it copies no row, and
# the tables still show as synchronized.
$primary->create_login_role('replica_norls', 'REPLICATION');
$primary->safe_psql('smamdb', 'GRANT smam_index_replica TO replica_norls');
is($primary->safe_psql('smamdb', 'SELECT count(id) FROM smam.index_snapshot',
		connstr => "host=$phost port=$pport dbname=smamdb user=replica_norls"), '0',
   'a role with the same grants and no BYPASSRLS may read the published columns and sees no row of them');
{
	my $trap = $subscription->('replica_norls');
	$trap =~ s/CREATE SUBSCRIPTION smam_public_index\b/CREATE SUBSCRIPTION trap/ or BAIL_OUT('the docs\' CREATE SUBSCRIPTION is not smam_public_index');
	$public->safe_psql('smam_public', $trap);
}
$public->wait_for_subscription_sync($primary, 'trap', 'smam_public');
is($public->safe_psql('smam_public', q{
     SELECT string_agg(srrelid::regclass || ' ' || srsubstate::text, ', ' ORDER BY srrelid::regclass::text) FROM pg_subscription_rel}) . ', rows '
   . $public->safe_psql('smam_public', 'SELECT (SELECT count(*) FROM smam.index_snapshot) + (SELECT count(*) FROM smam.index_snapshot_file)'),
   'smam.index_snapshot r, smam.index_snapshot_file r, rows 0',
   'without BYPASSRLS the first copy is empty, and both tables show as synchronized');
$public->safe_psql('smam_public', 'DROP SUBSCRIPTION trap');

# ---- the subscription of the docs ----
$public->safe_psql('smam_public', $subscription->('smam_index_replica'));
$public->wait_for_subscription_sync($primary, 'smam_public_index', 'smam_public');

# The two nodes' records, compared whole.
my %q = (
	'the snapshot headers' => q{SELECT id, published_at, account_count, content_sha256, md5(document::text) FROM smam.index_snapshot ORDER BY id},
	'the files\' records'  => q{SELECT snapshot_id, lang, file_name, content_sha256, byte_count, md5(content) FROM smam.index_snapshot_file ORDER BY snapshot_id, lang},
	'smam.published_index_files' => q{SELECT snapshot_id, published_at, lang, file_name, content_sha256, byte_count, latest FROM smam.published_index_files ORDER BY snapshot_id, lang},
	'the files\' bytes'    => q{SELECT snapshot_id, lang, encode(content, 'hex') FROM smam.index_snapshot_file ORDER BY snapshot_id, lang});
my $same = sub {
	my ($what, $snapshots) = @_;
	is($public->safe_psql('smam_public', 'SELECT string_agg(DISTINCT snapshot_id::text, \',\' ORDER BY snapshot_id::text) FROM smam.index_snapshot_file'),
	   $snapshots, "$what: the public node has the files of publications $snapshots");
	for my $k (sort keys %q)
	{
		my $want = $primary->safe_psql('smamdb', $q{$k});
		is($public->safe_psql('smam_public', $q{$k}, connstr => $as_reader), $want,
		   "$what: $k, as smam_index_reader reads them there, are the primary's");
	}
};
$same->('the publication made before the subscription', '1');

# ---- two publications after the subscription ----
$onboard->('ReplicasTwo');
$primary->safe_psql('smamdb', 'SELECT smam.publish_index()');
$primary->wait_for_catchup('smam_public_index');
$same->('a publication made after the subscription', '1,2');

# What the docs check: the same answer on both nodes, and the bytes the
# website gets from the public node hashed where they land (sha256sum).
my $web_public = 'web_public';
$primary->create_login_role($web_public, 'IN ROLE smam_public');
my $latest_on_primary = $primary->safe_psql('smamdb', $verify_sql,
	connstr => "host=$phost port=$pport dbname=smamdb user=$web_public");
like($latest_on_primary, qr/\A2\|[^|]+\|en\|sm-en.json\|[0-9a-f]{64}\|\d+\n2\|[^|]+\|fr\|sm-fr.json\|[0-9a-f]{64}\|\d+\z/,
	'the docs\' query on the primary, as a smam_public role: the last publication\'s two files');
is($public->safe_psql('smam_public', $verify_sql, connstr => $as_reader), $latest_on_primary,
	'the same answer on the public node, as smam_index_reader');
my $dir = PostgreSQL::Test::Utils::tempdir();
for my $lang ('en', 'fr')
{
	my $b64 = $public->safe_psql('smam_public',
		qq{SELECT encode(content, 'base64') FROM smam.latest_index_files WHERE lang = '$lang'}, connstr => $as_reader);
	my $file = "$dir/sm-$lang.json";
	open my $fh, '>:raw', $file or die "cannot write $file: $!";
	print $fh decode_base64($b64);
	close $fh or die "cannot write $file: $!";
	my $sum = '';
	IPC::Run::run([ 'sha256sum', $file ], '>', \$sum) or die "sha256sum $file failed";
	my $want = $primary->safe_psql('smamdb',
		qq{SELECT content_sha256 FROM smam.published_index_files WHERE latest AND lang = '$lang'});
	is((split ' ', $sum)[0], $want, "sha256sum of sm-$lang.json from the public node is the primary's record of it");
	my $hex = unpack('H*', do { open my $in, '<:raw', $file or die; local $/; <$in> });
	is($primary->safe_psql('smamdb', qq{SELECT string_agg(snapshot_id || ' ' || file_name || ' ' || latest, ',')
	                                      FROM smam.check_index_file(decode('$hex', 'hex'))}),
	   "2 sm-$lang.json true", "smam.check_index_file() on the primary names the publication of those bytes");
}

# ---- pg_dump leaves the tables out of the publication; the docs' repair ----
my ($dump, $dump_err) = ('', '');
IPC::Run::run([ $primary->installed_command('pg_dump'), '-s', '-d', $primary->connstr('smamdb') ], '>', \$dump, '2>', \$dump_err)
  or die "pg_dump: $dump_err";
is(join("\n", grep { /smam_public_index|smam_index_replica/ && !/^--/ } split /\n/, $dump),
   join("\n", q{CREATE PUBLICATION smam_public_index WITH (publish = 'insert, update, delete, truncate');},
	   qq{ALTER PUBLICATION smam_public_index OWNER TO $su;}, 'GRANT USAGE ON SCHEMA smam TO smam_index_replica;',
	   (map { "GRANT SELECT($_) ON TABLE smam.index_snapshot TO smam_index_replica;" }
		  qw(id published_at account_count content_sha256 document)),
	   (map { "GRANT SELECT($_) ON TABLE smam.index_snapshot_file TO smam_index_replica;" }
		  qw(snapshot_id lang file_name content_sha256 byte_count content))),
	'pg_dump keeps the publication and the grants, not the publication\'s tables (hence the docs\' repair after a restore)');
$primary->safe_psql('smamdb', $repair_sql);
is($primary->safe_psql('smamdb', q{SELECT string_agg(tablename || ':' || array_length(attnames, 1), ',' ORDER BY tablename) FROM pg_publication_tables}),
   'index_snapshot:5,index_snapshot_file:6', 'the repair names the same tables and columns');
$onboard->('ReplicasThree');
$primary->safe_psql('smamdb', 'SELECT smam.publish_index()');
$primary->wait_for_catchup('smam_public_index');
$same->('a second publication after the subscription', '1,2,3');
is($public->safe_psql('smam_public', q{SELECT string_agg(snapshot_id || ' ' || file_name, ',' ORDER BY lang) FROM smam.latest_index_files},
	connstr => $as_reader), '3 sm-en.json,3 sm-fr.json', 'smam.latest_index_files: the last publication\'s two files');
is($public->safe_psql('smam_public', q{
     SELECT count(*) FILTER (WHERE content_sha256 = encode(sha256(convert_to((document -> 'accounts')::text, 'UTF8')), 'hex'))
            || '/' || count(*) || ' ' || string_agg(account_count::text, ',' ORDER BY id)
       FROM smam.index_snapshot}),
   '3/3 1,2,3', 'each snapshot header\'s SHA-256 is its document\'s, on the public node');

# ---- start again from a full copy (the docs, after a restore) ----
$public->safe_psql('smam_public', $resubscribe);
is($public->safe_psql('smam_public', 'SELECT count(*) FROM smam.index_snapshot_file'), '0', 'the public node starts again empty');
$public->safe_psql('smam_public', $subscription->('smam_index_replica'));
$public->wait_for_subscription_sync($primary, 'smam_public_index', 'smam_public');
$same->('a new full copy', '1,2,3');

# ---- nothing else is there, and the reader reads nothing else ----
is($public->safe_psql('smam_public', q{
     SELECT string_agg(n.nspname || '.' || c.relname || ' ' || c.relkind::text, ', ' ORDER BY n.nspname, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')}),
   'smam.index_snapshot r, smam.index_snapshot_file r, smam.latest_index_files v, smam.published_index_files v',
   'the public node holds the two published tables and the two views, nothing else: no audit log, no account');
is($public->safe_psql('smam_public', q{
     SELECT (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace
              WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema')
            || ' ' || (SELECT string_agg(extname, ',') FROM pg_extension)
            || ' ' || (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
                        WHERE attrelid = 'smam.index_snapshot'::regclass AND attnum > 0 AND NOT attisdropped)}),
   'public,smam plpgsql id,published_at,account_count,content_sha256,document',
   'its schemas, its one extension (not smam), and no published_by');
is($public->safe_psql('smam_public', q{
     SELECT string_agg(n.nspname || '.' || c.relname, ', ' ORDER BY n.nspname, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f')
                 THEN has_any_column_privilege('smam_index_reader', c.oid, 'SELECT')
                      OR has_table_privilege('smam_index_reader', c.oid, 'INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
                 WHEN c.relkind = 'S' THEN has_sequence_privilege('smam_index_reader', c.oid, 'SELECT,USAGE,UPDATE') END}),
   'smam.index_snapshot, smam.index_snapshot_file, smam.latest_index_files, smam.published_index_files',
   'smam_index_reader reads those four outside the system catalogs');
$refused->($public, $as_reader, 'SELECT subconninfo FROM pg_catalog.pg_subscription',
	qr/permission denied for table pg_subscription/, 'smam_index_reader may not read the subscription\'s connection string');
$refused->($public, $as_reader, q{INSERT INTO smam.index_snapshot VALUES (99, now(), 0, '', '{}')},
	qr/permission denied for table index_snapshot/, 'nor write the published tables');
$refused->($public, $as_reader, 'CREATE TABLE public.x (i int)',
	qr/permission denied for schema public/, 'nor create a table');

is(scalar(grep { !$_->{used} } @blocks), 0, 'every SQL block of the docs\' section "A public replica" was run');

$public->stop;
$primary->stop;
done_testing();

# A public replica (issue 19), through a relay: the published index travels
# by logical replication from the primary (smam) to an internal relay and on
# to a public-facing PostgreSQL, neither of which has smam, with the
# statements of docs/operations.md ("A public replica") run as written (read
# from the file; only the subscriptions' connection strings and the roles'
# passwords are the test's own). Publications made before the subscriptions
# (the first copy, under row-level security) and after them arrive byte for
# byte at the public node; the relay and the public node hold those two
# tables (and the public node its views), nothing else; the public reader
# reads them and nothing else. The security facts the relay is for: the
# primary's replication role reads nothing internal by SQL, but over its
# logical replication connection it CAN run BASE_BACKUP and copy the whole
# primary (so its credential lives only on the relay); the public node's
# credential cannot connect to the primary at all; a BASE_BACKUP taken with
# it from the relay holds no internal data of smam and not the primary
# role's password. A role without BYPASSRLS gets an empty first copy and
# nothing says so; after pg_dump the publication has lost its tables, and the
# docs' repair and a new full copy on the relay bring everything back to the
# public node.
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
my $primary_sql     = doc_block('-- On the primary, as a superuser');
my $tables_sql      = doc_block('-- fragment: on the relay and on the public node (PostgreSQL 15, no smam)');
my $relay_sql       = doc_block('-- fragment: on the relay, as a superuser, in its database');
my $relay_subscribe = doc_block('-- fragment: on the relay, as a superuser: the subscription to the primary');
my $public_sql      = doc_block('-- fragment: on the public node, as a superuser, in the database the website reads');
my $public_subscribe = doc_block('-- fragment: on the public node, as a superuser: the subscription to the relay');
my $verify_sql      = doc_block('-- On the primary or the public node');
my $repair_sql      = doc_block('-- After a restore, as a superuser');
my $resubscribe     = doc_block('-- fragment: on the relay, as a superuser: start again');

# pg_hba.conf as the docs have it: one line per role that connects from
# another node, its database by name (host and 127.0.0.1 here, without
# certificates; local in the socket pass), and the test's superuser,
# physical replication included: the replication keyword is there, for it
# only.
my $su = scalar getpwuid($>);
my $write_hba = sub {
	my ($node, @lines) = @_;
	my ($type, $addr, $auth) = SmamTest->tcp ? ('host', '127.0.0.1/32', 'scram-sha-256') : ('local', '', 'trust');
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die "cannot write pg_hba.conf: $!";
	print $hba map { "$type $_ $addr $auth\n" } (@lines, "all $su", "replication $su");
	close $hba or die "cannot write pg_hba.conf: $!";
};
my $publisher_conf = qq{
wal_level = logical
max_wal_senders = 8
max_replication_slots = 8
};

# ---- the primary: smam, wal_level = logical, the pg_hba.conf of the docs ----
my $primary = SmamTest->new('replica_primary');
$primary->init;
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n$publisher_conf");
# The docs' line for smam_index_replica, the same for the role without
# BYPASSRLS and for a smam_public role. And one the docs do not have, for
# the public node's role: so that what keeps it out of the primary below is
# that the role does not exist there, not this file.
$write_hba->($primary, 'smamdb smam_index_replica', 'smamdb replica_norls', 'smamdb web_public',
	'smamdb index_relay_reader');
$primary->start;

# A department, an account (a French name, so not every byte is ASCII) whose
# onboarding reason is internal (it is in the primary's tables, never in
# what is published), and a first publication, before any subscription.
my $internal = 'internal note ' . SmamTest::_random_password();
$primary->safe_psql('postgres', 'CREATE DATABASE smamdb');
$primary->safe_psql('smamdb', qq{
  CREATE EXTENSION smam;
  SELECT smam.add_department('Department of Replicas', 'Ministère des Répliques', 'subject', 4343);
  SELECT smam.onboard_account(smam.find_department('4343'), 'twitter', 'https://twitter.com/Replicas',
                              'Replicas', 'Répliques', 'bilingual', '$internal');
  SELECT smam.publish_index();
});
my $onboard = sub {
	my ($handle) = @_;
	$primary->safe_psql('smamdb', qq{
	  SELECT smam.onboard_account(smam.find_department('4343'), 'twitter', 'https://twitter.com/$handle',
	                              '$handle', 'Réplique $handle', 'bilingual', 'listed in the index')});
};
is($primary->safe_psql('smamdb', qq{
     SELECT (SELECT count(*) FROM smam.account WHERE onboarded_reason = '$internal')
            || ' ' || (SELECT count(*) FROM smam.index_snapshot WHERE document::text LIKE '%$internal%')}),
   '1 0', 'the internal note is in smam.account on the primary, not in the published document');

# ---- the docs' statements on the primary ----
$primary->safe_psql('smamdb', $primary_sql);
my $replica_password = $primary->set_password('smam_index_replica', 'smamdb');
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

# ---- what smam_index_replica may read on the primary by SQL ----
my ($pport, $phost) = ($primary->port, $primary->host);
my $as_replica = "host=$phost port=$pport dbname=smamdb user=smam_index_replica";
my $refused = sub {
	my ($node, $connstr, $sql, $re, $name, %opt) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql, connstr => $connstr, %opt);
	ok($rc != 0 && $err =~ $re, $name) or diag("rc $rc, out '$out', err '$err'");
};
for my $t ('smam.audit_log', 'smam.account_credential', 'smam.account', 'smam.index_snapshot_entry', 'smam.department')
{
	$refused->($primary, $as_replica, "SELECT count(*) FROM $t", qr/permission denied for table \w+/,
		"smam_index_replica may not read $t");
}
$refused->($primary, $as_replica, 'SELECT published_by FROM smam.index_snapshot',
	qr/permission denied for table index_snapshot/, 'nor the column published_by of smam.index_snapshot');
# What a role may read outside the system catalogs, column by column.
my $readable = q{
     SELECT string_agg(c.relname || ' (' || (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) FROM pg_attribute a
                                               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                                 AND has_column_privilege('%1$s', c.oid, a.attnum, 'SELECT')) || ')',
                       ', ' ORDER BY c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') THEN has_any_column_privilege('%1$s', c.oid, 'SELECT') END};
my $two_tables = 'index_snapshot (id, published_at, account_count, content_sha256, document), '
  . 'index_snapshot_file (snapshot_id, lang, file_name, content_sha256, byte_count, content)';
is($primary->safe_psql('smamdb', sprintf($readable, 'smam_index_replica')), $two_tables,
   'the published columns of the two tables are all it can read by SQL, outside the system catalogs');
is($primary->safe_psql('smamdb', q{
     SELECT (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'smam' AND has_function_privilege('smam_index_replica', p.oid, 'EXECUTE'))
         || ' ' || (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = 'smam'
                       AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege('smam_index_replica', c.oid, 'SELECT,USAGE,UPDATE') END)}),
   '0 0', 'it can run none of smam\'s functions and use none of its sequences');
is($primary->safe_psql('smamdb', 'SELECT count(id) FROM smam.index_snapshot', connstr => $as_replica), '1',
   'through row-level security it reads every publication (BYPASSRLS)');
$refused->($primary, $as_replica, 'IDENTIFY_SYSTEM',
	qr/no pg_hba.conf entry for replication connection .*user "smam_index_replica"/,
	'a replication=true connection (pg_basebackup\'s) is refused to smam_index_replica: no replication line for it',
	replication => 'true');
like($primary->safe_psql('smamdb', 'IDENTIFY_SYSTEM', replication => 'true'), qr/^\d+\|\d+\|/,
	'where the superuser has one');
$refused->($primary, "host=$phost port=$pport dbname=postgres user=smam_index_replica", 'SELECT 1',
	qr/no pg_hba.conf entry for .*user "smam_index_replica", database "postgres"/,
	'and a connection to another database');

# ---- BASE_BACKUP over a logical replication connection ----
# psql writes the stream as the server sends it (PostgreSQL 15's archive
# messages: 'n' a new archive, 'd' its bytes, tar headers included) to a
# file; the test reads the file whole. psql exits with 1 once the stream has
# ended (it does not expect what follows it), so the stream is the judge: the
# backup went through when it begins with the backup's start position and
# holds the cluster's pg_control.
my $dir = PostgreSQL::Test::Utils::tempdir();
my $base_backup = sub {
	my ($node, $connstr, $name) = @_;
	my $file = "$dir/$name.out";
	my $err  = '';
	IPC::Run::run([ $node->installed_command('psql'), '-X', '-q', '-d', "$connstr replication=database",
			'-c', "BASE_BACKUP (CHECKPOINT 'fast', MANIFEST 'no')" ], '<', \undef, '>', $file, '2>', \$err);
	open my $in, '<:raw', $file or die "cannot read $file: $!";
	my $stream = do { local $/; <$in> };
	close $in;
	unlink $file;
	my $ok = $stream =~ /\A\s*recptr\s*\|\s*tli\b/ && index($stream, 'global/pg_control') >= 0;
	diag("BASE_BACKUP as $connstr: " . length($stream) . " bytes, $err") unless $ok;
	return ($ok, $stream);
};
# The databases whose files a stream holds (tar members base/<oid>/...).
my $databases_in = sub {
	my ($stream) = @_;
	my %oid = map { $_ => 1 } $stream =~ m{(?:\0|d)base/(\d+)/}g;
	return join(',', sort { $a <=> $b } keys %oid);
};
{
	my $smamdb_oid = $primary->safe_psql('postgres', q{SELECT oid FROM pg_database WHERE datname = 'smamdb'});
	my ($ok, $stream) = $base_backup->($primary, $as_replica, 'primary');
	ok($ok && index($stream, 'global/1260') >= 0
		  && $databases_in->($stream) eq $primary->safe_psql('postgres', q{SELECT string_agg(oid::text, ',' ORDER BY oid) FROM pg_database})
		  && index($stream, $internal) >= 0,
		'smam_index_replica CAN run BASE_BACKUP over replication=database, admitted by its database\'s line: '
		  . 'the whole primary cluster (pg_control, pg_authid, every database, smamdb\'s internal rows): '
		  . 'this is why its credential lives only on the relay')
	  or diag(sprintf('ok %s, %d bytes, databases %s, smamdb %s, internal note %s', $ok ? 1 : 0, length $stream,
			$databases_in->($stream), $smamdb_oid, index($stream, $internal) >= 0 ? 'there' : 'not there'));
}

# ---- the relay: PostgreSQL 15 without smam, publishing ----
my $relay = SmamTest->new('replica_relay');
$relay->init;
$relay->append_conf('postgresql.conf', $publisher_conf);
$write_hba->($relay, 'smam_relay index_relay_reader');
$relay->start;
$relay->safe_psql('postgres', 'CREATE DATABASE smam_relay');
$relay->safe_psql('smam_relay', $tables_sql);
my ($rport, $rhost) = ($relay->port, $relay->host);

# The test's connection string in one of the docs' CREATE SUBSCRIPTION
# blocks (its password, over TCP, from the password file, as the docs'
# .pgpass).
my $subscription = sub {
	my ($sql, $host, $port, $dbname, $user) = @_;
	my $n = $sql =~ s/CONNECTION '[^']*'/CONNECTION 'host=$host port=$port dbname=$dbname user=$user'/g;
	BAIL_OUT("a CREATE SUBSCRIPTION of the docs has $n CONNECTION strings, not one") unless $n == 1;
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
	my $trap = $subscription->($relay_subscribe, $phost, $pport, 'smamdb', 'replica_norls');
	$trap =~ s/CREATE SUBSCRIPTION smam_public_index\b/CREATE SUBSCRIPTION trap/
	  or BAIL_OUT('the docs\' CREATE SUBSCRIPTION on the relay is not smam_public_index');
	$relay->safe_psql('smam_relay', $trap);
}
$relay->wait_for_subscription_sync($primary, 'trap', 'smam_relay');
is($relay->safe_psql('smam_relay', q{
     SELECT string_agg(srrelid::regclass || ' ' || srsubstate::text, ', ' ORDER BY srrelid::regclass::text) FROM pg_subscription_rel}) . ', rows '
   . $relay->safe_psql('smam_relay', 'SELECT (SELECT count(*) FROM smam.index_snapshot) + (SELECT count(*) FROM smam.index_snapshot_file)'),
   'smam.index_snapshot r, smam.index_snapshot_file r, rows 0',
   'without BYPASSRLS the first copy is empty, and both tables show as synchronized');
$relay->safe_psql('smam_relay', 'DROP SUBSCRIPTION trap');

# ---- the docs' statements on the relay: its publication, its role, its subscription ----
$relay->safe_psql('smam_relay', $relay_sql);
my $relay_reader_password = $relay->set_password('index_relay_reader', 'smam_relay');
$relay->safe_psql('smam_relay', $subscription->($relay_subscribe, $phost, $pport, 'smamdb', 'smam_index_replica'));
$relay->wait_for_subscription_sync($primary, 'smam_public_index', 'smam_relay');
my $as_relay_reader = "host=$rhost port=$rport dbname=smam_relay user=index_relay_reader";
is($relay->safe_psql('smam_relay', sprintf($readable, 'index_relay_reader')), $two_tables,
   'on the relay, index_relay_reader reads the two tables, nothing else outside the system catalogs');
$refused->($relay, "host=$rhost port=$rport dbname=postgres user=index_relay_reader", 'SELECT 1',
	qr/no pg_hba.conf entry for .*user "index_relay_reader", database "postgres"/,
	'nor connects to another database of the relay');

# ---- the public node's credential and the primary ----
# The public node holds index_relay_reader's password: tried against the
# primary (where a line of pg_hba.conf, not the docs', would let it in), it
# is refused because the role does not exist there.
$primary->remember_password('index_relay_reader', $relay_reader_password);
is($primary->safe_psql('postgres', q{SELECT count(*) FROM pg_roles WHERE rolname = 'index_relay_reader'}), '0',
   'index_relay_reader does not exist on the primary');
for my $replication (undef, 'database')
{
	$refused->($primary, "host=$phost port=$pport dbname=smamdb user=index_relay_reader", 'IDENTIFY_SYSTEM',
		qr/password authentication failed for user "index_relay_reader"|role "index_relay_reader" does not exist/,
		'the public node\'s credential cannot connect to the primary' . ($replication ? ', nor replicate from it' : ''),
		defined $replication ? (replication => $replication) : ());
}

# ---- the public node: PostgreSQL 15 without smam, subscribed to the relay ----
my $public = SmamTest->new('replica_public');
$public->init;
$write_hba->($public, 'smam_public smam_index_reader');
$public->start;
$public->safe_psql('postgres', 'CREATE DATABASE smam_public');
is($public->safe_psql('smam_public', q{SELECT count(*) FROM pg_available_extensions WHERE name = 'smam' AND installed_version IS NULL}),
   '1', 'smam is installed in the public node\'s PostgreSQL, not created in its database');
$public->safe_psql('smam_public', $tables_sql . $public_sql);
$public->set_password('smam_index_reader', 'smam_public');
my $as_reader = $public->connstr('smam_public') . ' user=smam_index_reader';
$public->safe_psql('smam_public', $subscription->($public_subscribe, $rhost, $rport, 'smam_relay', 'index_relay_reader'));
$public->wait_for_subscription_sync($relay, 'smam_relay_index', 'smam_public');

# What the public node has after each step, compared whole with the primary
# (as the reader reads it there), and the relay's tables with the primary's.
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
		   "$what: $k, as smam_index_reader reads them on the public node, are the primary's");
	}
	is($relay->safe_psql('smam_relay', $q{'the files\' records'} . ';' . $q{'the snapshot headers'}),
	   $primary->safe_psql('smamdb', $q{'the files\' records'} . ';' . $q{'the snapshot headers'}),
	   "$what: and the relay's tables too");
};
my $caught_up = sub {
	$primary->wait_for_catchup('smam_public_index');
	$relay->wait_for_catchup('smam_relay_index');
};
$same->('the publication made before the subscriptions', '1');

# ---- two publications after the subscriptions ----
$onboard->('ReplicasTwo');
$primary->safe_psql('smamdb', 'SELECT smam.publish_index()');
$caught_up->();
$same->('a publication made after the subscriptions', '1,2');

# What the docs check: the same answer on the primary and the public node,
# and the bytes the website gets from the public node hashed where they land
# (sha256sum).
$primary->create_login_role('web_public', 'IN ROLE smam_public');
my $latest_on_primary = $primary->safe_psql('smamdb', $verify_sql,
	connstr => "host=$phost port=$pport dbname=smamdb user=web_public");
like($latest_on_primary, qr/\A2\|[^|]+\|en\|sm-en.json\|[0-9a-f]{64}\|\d+\n2\|[^|]+\|fr\|sm-fr.json\|[0-9a-f]{64}\|\d+\z/,
	'the docs\' query on the primary, as a smam_public role: the last publication\'s two files');
is($public->safe_psql('smam_public', $verify_sql, connstr => $as_reader), $latest_on_primary,
	'the same answer on the public node, as smam_index_reader');
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
$caught_up->();
$same->('a second publication after the subscriptions', '1,2,3');
is($public->safe_psql('smam_public', q{SELECT string_agg(snapshot_id || ' ' || file_name, ',' ORDER BY lang) FROM smam.latest_index_files},
	connstr => $as_reader), '3 sm-en.json,3 sm-fr.json', 'smam.latest_index_files: the last publication\'s two files');
is($public->safe_psql('smam_public', q{
     SELECT count(*) FILTER (WHERE content_sha256 = encode(sha256(convert_to((document -> 'accounts')::text, 'UTF8')), 'hex'))
            || '/' || count(*) || ' ' || string_agg(account_count::text, ',' ORDER BY id)
       FROM smam.index_snapshot}),
   '3/3 1,2,3', 'each snapshot header\'s SHA-256 is its document\'s, on the public node');

# ---- the relay starts again from a full copy (the docs, after a restore) ----
$relay->safe_psql('smam_relay', $resubscribe);
$relay->wait_for_catchup('smam_relay_index');
is($public->safe_psql('smam_public', 'SELECT (SELECT count(*) FROM smam.index_snapshot_file) + (SELECT count(*) FROM smam.index_snapshot)'),
   '0', 'the relay\'s TRUNCATE empties the public node through its subscription');
$relay->safe_psql('smam_relay', $subscription->($relay_subscribe, $phost, $pport, 'smamdb', 'smam_index_replica'));
$relay->wait_for_subscription_sync($primary, 'smam_public_index', 'smam_relay');
$relay->wait_for_catchup('smam_relay_index');
$same->('the relay\'s new full copy, passed on', '1,2,3');

# ---- nothing else is there, and the reader reads nothing else ----
my $relations = q{
     SELECT string_agg(n.nspname || '.' || c.relname || ' ' || c.relkind::text, ', ' ORDER BY n.nspname, c.relname)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')};
is($public->safe_psql('smam_public', $relations),
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

# ---- what the public node's credential can take from the relay ----
is(join(' | ', $relay->safe_psql('smam_relay', $relations), $relay->safe_psql('postgres', $relations),
		$relay->safe_psql('postgres', q{SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database}),
		$relay->safe_psql('postgres', q{SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_'})),
   join(' | ', 'smam.index_snapshot r, smam.index_snapshot_file r', '', 'postgres,smam_relay,template0,template1',
		join(',', sort ('index_relay_reader', $su))),
   'the relay holds the two published tables, nothing else in any database, and two roles: its superuser and index_relay_reader');
{
	my ($ok, $stream) = $base_backup->($relay, $as_relay_reader, 'relay');
	ok($ok && $databases_in->($stream) eq $relay->safe_psql('postgres', q{SELECT string_agg(oid::text, ',' ORDER BY oid) FROM pg_database}),
		'the public node\'s credential can BASE_BACKUP the relay (it has REPLICATION): the relay\'s cluster, every database of it')
	  or diag(sprintf('ok %s, %d bytes, databases %s', $ok ? 1 : 0, length $stream, $databases_in->($stream)));
	ok($ok && index($stream, $internal) < 0,
		'that backup holds no internal data of smam (the internal note of the primary\'s smam.account is not in it)');
	ok($ok && index($stream, 'user=smam_index_replica') >= 0 && index($stream, $replica_password) < 0,
		'it holds the relay\'s subscription\'s connection string, and not smam_index_replica\'s password (a .pgpass outside the data directory)');
}

is(scalar(grep { !$_->{used} } @blocks), 0, 'every SQL block of the docs\' section "A public replica" was run');

$public->stop;
$relay->stop;
$primary->stop;
done_testing();

# Releases and upgrades (docs/upgrading.md). Each release's full script is
# kept as it shipped (sql/releases/smam--V.sql) and the current version's, once
# released, is the same bytes as the one make builds from sql/smam/. Every
# earlier release is installed, filled with the demo's user data (the real
# index, people in office, accounts through their life cycle, publishing, the
# audit log) and a report frozen, then updated with ALTER EXTENSION smam
# UPDATE; the result must be a fresh CREATE EXTENSION smam, fact for fact
# (test/lib/catalog_signature.sql: objects, definitions, column order,
# comments, grants, row-level security, triggers, configuration-dump
# registrations), with every row of user data as it was, the audit chain
# holding, the frozen report reproduced, and a dump of it restoring.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $src = $ENV{SMAM_SRC} or BAIL_OUT('SMAM_SRC is not set');
sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or die "$f: $!"; local $/; return <$fh> }
my ($current) = slurp("$src/smam.control") =~ /^default_version\s*=\s*'([^']+)'/m;
sub version_key { return join '.', map { sprintf '%06d', $_ } split /\./, $_[0] }

my %released = map { /smam--([^-]+)\.sql$/ ? ($1 => $_) : () } glob("$src/sql/releases/smam--*.sql");
my @earlier = sort { version_key($a) cmp version_key($b) } grep { $_ ne $current } keys %released;
my @updates = map { /smam--([^-]+)--([^-]+)\.sql$/ ? [$1, $2] : () } glob("$src/sql/updates/smam--*--*.sql");

ok(@earlier > 0, 'there is a release before the current version ' . $current . ' to update from: ' . join(', ', @earlier));
ok(version_key($_) lt version_key($current), "release $_ is older than the current version $current") for @earlier;
is_deeply([grep { !$released{$_->[0]} || !($released{$_->[1]} || $_->[1] eq $current) } @updates], [],
          'every update script goes from a kept release to a kept release or the current version');

my $signature_sql = slurp("$src/test/lib/catalog_signature.sql");
my $node;
sub signature { my ($db) = @_; return [split /\n/, $node->safe_psql($db, $signature_sql)] }
sub compare_signatures {
    my ($got, $want, $name) = @_;
    my (%g, %w);
    $g{$_}++ for @$got;
    $w{$_}++ for @$want;
    my @extra   = grep { !$w{$_} } sort keys %g;
    my @missing = grep { !$g{$_} } sort keys %w;
    ok(!@extra && !@missing && @$got == @$want, $name)
      or diag(join "\n", (map { "  only after the update: $_" } @extra[0 .. ($#extra < 19 ? $#extra : 19)]),
                         (map { "  only in a fresh install: $_" } @missing[0 .. ($#missing < 19 ? $#missing : 19)]));
}

# Every user table's rows, kept aside before the update and compared after it
# on the columns they had (a release may add columns).
my $keep_rows = q{
  DO $$
  DECLARE t record;
  BEGIN
    CREATE SCHEMA before_update;
    FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'smam'::regnamespace AND c.relkind = 'r' LOOP
      EXECUTE format('CREATE TABLE before_update.%I AS SELECT * FROM smam.%I', t.relname, t.relname);
    END LOOP;
  END $$;
};
my $changed_rows = q{
  CREATE FUNCTION pg_temp.changed_rows() RETURNS SETOF text LANGUAGE plpgsql AS $$
  DECLARE t record; cols text; n bigint;
  BEGIN
    FOR t IN SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'before_update'::regnamespace ORDER BY 1 LOOP
      SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO cols
        FROM pg_attribute a WHERE a.attrelid = format('before_update.%I', t.relname)::regclass AND a.attnum > 0;
      EXECUTE format('SELECT count(*) FROM (SELECT md5(row(%s)::text) FROM before_update.%I
                        EXCEPT ALL SELECT md5(row(%s)::text) FROM smam.%I) x', cols, t.relname, cols, t.relname) INTO n;
      IF n > 0 THEN RETURN NEXT format('%s: %s rows lost or changed', t.relname, n); END IF;
    END LOOP;
  END $$;
  SELECT count(*) || ' tables' FROM pg_class c WHERE c.relnamespace = 'before_update'::regnamespace
  UNION ALL SELECT * FROM pg_temp.changed_rows();
};

for my $release (@earlier) {
    (my $db = "up_$release") =~ s/\W/_/g;
    # A cluster of its own: the demo creates roles, which are the cluster's.
    $node = SmamTest->new($db);
    $node->init;
    $node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
    $node->start;

    # The current version, once released, is frozen: the kept script is the one make builds.
    my $sharedir = $node->safe_psql('postgres', "SELECT setting FROM pg_config() WHERE name = 'SHAREDIR'");
    if ($release eq $earlier[0]) {
        if ($released{$current}) {
            ok(slurp($released{$current}) eq slurp("$sharedir/extension/smam--$current.sql"),
               "version $current is released: sql/releases/smam--$current.sql is the script built from sql/smam/ "
               . '(a change to sql/smam/ after a release needs a new version and its update script)');
        } else {
            note("version $current is not released yet (no sql/releases/smam--$current.sql)");
        }
    }
    ok(-f "$sharedir/extension/smam--$release.sql", "release $release is installed with the current one");

    $node->safe_psql('postgres', 'CREATE DATABASE fresh');
    $node->safe_psql('fresh', 'CREATE EXTENSION smam');
    is($node->safe_psql('fresh', "SELECT extversion FROM pg_extension WHERE extname = 'smam'"), $current,
       "a fresh install is version $current");
    my $fresh = signature('fresh');
    ok(@$fresh > 1000, 'the fresh install\'s catalog signature has its facts (' . scalar(@$fresh) . ')');
    # Roles for the report frozen before the update.
    $node->safe_psql('postgres', q{
      CREATE ROLE u_tbs IN ROLE smam_tbs; CREATE ROLE u_entity IN ROLE smam_entity; CREATE ROLE u_admin IN ROLE smam_admin;
    });

    $node->safe_psql('postgres', "CREATE DATABASE $db");
    $node->safe_psql($db, "CREATE EXTENSION smam VERSION '$release'");
    is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'smam'"), $release,
       "release $release installs from its kept script");

    # The demo's user data, as the release's own functions make it.
    {
        local $ENV{PGBIN}         = $node->safe_psql('postgres', "SELECT setting FROM pg_config() WHERE name = 'BINDIR'");
        local $ENV{SMAM_TOP}      = $src;
        local $ENV{SMAM_DEMO_DB}  = $db;
        local $ENV{SMAM_DATA_DIR} = $ENV{SMAM_DATA_DIR} // "$src/test/data";
        my ($out, $err) = ('', '');
        my $ok = $node->run_log(['bash', "$src/test/lib/demo_steps.sh"], '>', \$out, '2>', \$err);
        ok($ok, "release $release: the demo's steps ran against it");
    }
    my $accounts = $node->safe_psql($db, 'SELECT count(*) FROM smam.account');
    ok($accounts > 1000, "release $release holds user data ($accounts accounts)");

    # A report frozen before the update, and the findings as of its moment.
    my $report = $node->safe_psql($db, q{
      SELECT smam.register_principal('u_tbs', 'Tobias', 'tobias@example.gc.ca');
      SELECT smam.register_principal('u_entity', 'Enid', 'enid@example.gc.ca');
      SELECT smam.register_principal('u_admin', 'Ada', 'ada.upgrade@example.gc.ca');
      SELECT smam.appoint('u_tbs', 'tbs_analyst', NULL, '2020-01-01');
      SELECT smam.appoint('u_entity', 'entity_official', NULL, '2020-01-01');
      SELECT smam.appoint('u_admin', 'administrator', NULL, '2020-01-01');
      SET ROLE u_tbs;
      CREATE TEMP TABLE rq AS SELECT smam.request_report(NULL, smam.today() + 10, 'Before the update') AS id;
      GRANT SELECT ON rq TO u_entity;
      SET ROLE u_entity;
      SELECT smam.submit_report((SELECT id FROM rq), 'As it stood')});
    $report = (split /\n/, $report)[-1];
    my $as_of = $node->safe_psql($db, "SELECT as_of FROM smam.compliance_report WHERE id = $report");
    my $findings_sql = "SELECT count(*) || '/' || md5(string_agg(finding_key, ',' ORDER BY finding_key)) "
                     . "FROM smam.compliance_findings_as_of('$as_of')";
    my $findings = $node->safe_psql($db, $findings_sql);
    like($findings, qr/^[1-9]\d*\//, "release $release: the report's findings are there to compare");
    $node->safe_psql($db, $keep_rows);

    my ($rc, $out, $err) = $node->psql($db, 'ALTER EXTENSION smam UPDATE');
    is($rc, 0, "release $release updates with ALTER EXTENSION smam UPDATE") or diag($err);
    is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'smam'"), $current,
       "... to version $current");
    compare_signatures(signature($db), $fresh, "... and is then what a fresh install of $current is, fact for fact");

    my @changed = split /\n/, $node->safe_psql($db, $changed_rows);
    like(shift(@changed) // '', qr/^[1-9]\d* tables$/, '... every table\'s rows compared');
    is_deeply(\@changed, [], '... and no row of user data lost or changed by the update');
    is($node->safe_psql($db, 'SELECT holds FROM smam.verify_audit_log()'), 't', '... the audit chain holds');
    is($node->safe_psql($db, "SELECT intact, reproduced FROM smam.reproduce_report($report)"), 't|t',
       '... the report frozen before the update reproduces');
    is($node->safe_psql($db, $findings_sql), $findings, '... with the same findings as of its moment');
    is($node->safe_psql($db, q{SET ROLE u_admin; SELECT smam.add_department('Department After The Update') > 0}), 't',
       '... and smam works on: an administrator adds a department');
    is($node->safe_psql($db, 'SELECT holds FROM smam.verify_audit_log()'), 't', '... audited, the chain holding');

    # A dump of the updated database restores (as a fresh install of the current version).
    $node->safe_psql($db, 'DROP SCHEMA before_update CASCADE');
    my $dump = $node->basedir . "/$db.sql";
    command_ok(['pg_dump', '-h', $node->host, '-p', $node->port, '-d', $db, '-f', $dump], '... its dump is taken');
    $node->safe_psql('postgres', "CREATE DATABASE ${db}_restored");
    ($rc, $out, $err) = $node->psql("${db}_restored", undef, extra_params => ['-v', 'ON_ERROR_STOP=1', '-1', '-f', $dump]);
    is($rc, 0, '... and restores in one transaction') or diag($err);
    is($node->safe_psql("${db}_restored", "SELECT intact, reproduced FROM smam.reproduce_report($report)"), 't|t',
       '... the frozen report reproducing there too');
    is($node->safe_psql("${db}_restored", 'SELECT count(*) FROM smam.account'), $accounts, '... with every account');
    $node->stop;
}

done_testing();

# CREATE EXTENSION, DROP EXTENSION, CREATE EXTENSION again; then pg_dump of a
# database holding smam and user data restores into a new database with the
# data intact, shipped rows once, the catalogue still guarded, a report
# frozen before the dump reproduced after it; then a backup by a role that is
# not a superuser, the ways docs/operations.md gives and the one it warns of.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use SmamTest;

my $node = SmamTest->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION smam');
$node->safe_psql('src', 'DROP EXTENSION smam');
is($node->safe_psql('src', "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'smam\\_%'"), '7',
   'the group roles and the worker\'s role outlive DROP EXTENSION');
is($node->safe_psql('src', "SELECT rolcanlogin::text || rolsuper || rolbypassrls FROM pg_roles WHERE rolname = 'smam_worker'"),
   'truefalsefalse', 'the worker\'s role may log in (PostgreSQL 15 starts workers only so), is no superuser and bypasses no RLS');
$node->safe_psql('src', 'CREATE EXTENSION smam');
is($node->safe_psql('src', 'SELECT count(*) FROM smam.requirement'), '21', 'CREATE EXTENSION works again after DROP');

# User data of every kind the foundation holds.
$node->safe_psql('src', q{
  CREATE ROLE d_admin LOGIN; CREATE ROLE d_head LOGIN; CREATE ROLE d_desig LOGIN;
  GRANT smam_admin TO d_admin; GRANT smam_department TO d_head, d_desig;
  SELECT smam.register_principal('d_admin', 'Ada', 'ada@example.gc.ca');
  SELECT smam.appoint('d_admin', 'administrator', NULL, '2020-01-01');
  SET ROLE d_admin;
  SELECT smam.add_department('Department of Restores', 'Ministère des Restaurations', 'subject', 4242);
  SELECT smam.register_principal('d_head', 'Hélène', 'helene@example.gc.ca', smam.find_department('4242.0'));
  SELECT smam.register_principal('d_desig', 'Dee', 'dee@example.gc.ca', smam.find_department('4242'));
  SELECT smam.appoint('d_head', 'head_of_communications', smam.find_department('4242'), '2026-01-01', '2100-01-01');
  SELECT smam.record_effective_date('6.1.3', '2014-04-01', 'TBS notice');
  SELECT smam.set_enforcement(true, 'enforced as a model standard');
  RESET ROLE;
  SET ROLE d_head;
  SELECT smam.delegate('d_desig', '2099-01-01', NULL, '2026-02-01');
  RESET ROLE;
  SELECT smam.onboard_account(smam.find_department('4242'), 'twitter', 'http://twitter.com/Restores/',
                              'Restores', 'Restaurations', 'bilingual', 'listed in the index');
  -- An owner label from the feed, and a publication with its files.
  SET ROLE d_admin;
  SELECT smam.import_index_feed('{"aaData": [["Restored feed", "<span class=\"label label-default\">X</span>", "<span>Department</span>: Department of Restores", "<span>Language</span>: English", "<a class=\"product-link btn btn-primary\" href=\"https://twitter.com/RestoredFeed\"><span class=\"wb-inv\">Office of Restores - </span>Go to social media account</a>"]]}', 'en');
  SELECT smam.publish_index();
  RESET ROLE;
});

my $snapshot = q{
  SELECT string_agg(x, E'\n' ORDER BY x) FROM (
    SELECT format('dept %s|%s|%s|%s', name_en, name_fr, gc_org_id, shipped) FROM smam.department
    UNION ALL SELECT format('principal %s|%s|%s', role_name, email, department_id IS NOT NULL) FROM smam.principal
    UNION ALL SELECT format('appointment %s|%s|%s|%s|%s', principal, office, valid_from, valid_until, delegated_by IS NOT NULL) FROM smam.appointment
    UNION ALL SELECT format('date %s|%s', requirement, effective_on) FROM smam.effective_date_record
    UNION ALL SELECT format('setting %s|%s', enforced, reason) FROM smam.instrument_setting
    UNION ALL SELECT format('account %s|%s|%s', url, stage, onboarded) FROM smam.account
    UNION ALL SELECT format('owner %s|%s|%s', a.url, l.lang, l.label) FROM smam.account_owner_label l JOIN smam.account a ON a.id = l.account_id
    UNION ALL SELECT format('file %s|%s|%s', f.snapshot_id, f.file_name, f.content_sha256) FROM smam.index_snapshot_file f
    UNION ALL SELECT format('requirement %s', count(*)) FROM smam.requirement
    UNION ALL SELECT format('platform hosts %s', count(*)) FROM smam.platform_host) s(x)
};
# A report frozen before the dump, of the whole government (the shipped
# agents of Parliament among its departments), and the findings as of then.
my $report = $node->safe_psql('src', q{
  CREATE ROLE d_tbs IN ROLE smam_tbs; CREATE ROLE d_entity IN ROLE smam_entity;
  SELECT smam.register_principal('d_tbs', 'Tobias', 'tobias@example.gc.ca');
  SELECT smam.register_principal('d_entity', 'Enid', 'enid@example.gc.ca');
  SELECT smam.appoint('d_tbs', 'tbs_analyst', NULL, '2020-01-01');
  SELECT smam.appoint('d_entity', 'entity_official', NULL, '2020-01-01');
  SET ROLE d_tbs;
  CREATE TEMP TABLE rq AS SELECT smam.request_report(NULL, smam.today() + 10, 'Before the dump') AS id;
  GRANT SELECT ON rq TO d_entity;
  SET ROLE d_entity;
  SELECT smam.submit_report((SELECT id FROM rq), 'As it stood')});
$report = (split /\n/, $report)[-1];
my $as_of = $node->safe_psql('src', "SELECT as_of FROM smam.compliance_report WHERE id = $report");
my $findings_sql = "SELECT count(*) || '/' || md5(string_agg(finding_key, ',' ORDER BY finding_key)) FROM smam.compliance_findings_as_of('$as_of')";
my $findings = $node->safe_psql('src', $findings_sql);

my $before = $node->safe_psql('src', $snapshot);
my $dump = $node->basedir . '/src.sql';
command_ok(['pg_dump', '-h', $node->host, '-p', $node->port, '-d', 'src', '-f', $dump], 'pg_dump of a database with smam');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
my ($rc, $out, $err) = $node->psql('dst', undef, extra_params => ['-v', 'ON_ERROR_STOP=1', '-f', $dump]);
is($rc, 0, 'the dump restores into a new database') or diag($err);
is($node->safe_psql('dst', $snapshot), $before, 'every row of user data is back, and shipped rows once');
like($before, qr/^owner https:\/\/x.com\/RestoredFeed\|en\|Office of Restores$/m, 'owner labels among them');
like($before, qr/^file \d+\|sm-fr.json\|[0-9a-f]{64}$/m, 'and the files of a publication');
is($node->safe_psql('dst', q{SELECT string_agg(c.file_name || ' ' || c.latest, ',') FROM smam.check_index_file(smam.published_index_file(NULL, 'en')) c}),
   'sm-en.json true', 'a published file, restored, is the one its publication recorded');
is($node->safe_psql('dst', q{SELECT smam.holds_office('d_desig', 'head_of_communications', smam.find_department('4242'), '2026-06-01')}),
   't', 'offices and delegations work in the restored database');
is($node->safe_psql('dst', q{SELECT smam.add_department('After Restore') > (SELECT max(id) FROM smam.department WHERE id <> currval('smam.department_id_seq'))}),
   't', 'sequences continue after the restored rows');
($rc, $out, $err) = $node->psql('dst', q{UPDATE smam.requirement SET text = 'x'});
like($err, qr/cannot be changed/, 'the catalogue is still read-only after the restore');
is($node->safe_psql('dst', "SELECT intact, reproduced FROM smam.reproduce_report($report)"), 't|t',
   'a report frozen before the dump still reproduces after the restore');
is($node->safe_psql('dst', $findings_sql), $findings,
   'the findings as of its moment are the same (the shipped departments kept their history)');
is($node->safe_psql('dst', 'SELECT holds FROM smam.verify_audit_log()'), 't', 'the audit chain holds after the restore');

# ---- a backup by a role that is not a superuser (docs/operations.md) ----
# pg_read_all_data alone is refused by row-level security; with
# --enable-row-security the dump "succeeds" and holds none of smam's rows;
# with BYPASSRLS as well, the dump is whole and restores as the superuser's.
$node->create_login_role('b_reader');
$node->create_login_role('b_backup', 'BYPASSRLS');
$node->safe_psql('postgres', q{GRANT pg_read_all_data TO b_reader, b_backup});
my $partial = $node->basedir . '/partial.sql';
my ($out2, $err2) = ('', '');
IPC::Run::run(['pg_dump', '-h', $node->host, '-p', $node->port, '-U', 'b_reader', '-d', 'src', '-f', $partial],
              '>', \$out2, '2>', \$err2);
like($err2, qr/query would be affected by row-level security policy for table "\w+"/,
     'pg_read_all_data alone: pg_dump is refused by row-level security');
command_ok(['pg_dump', '-h', $node->host, '-p', $node->port, '-U', 'b_reader', '--enable-row-security', '-d', 'src', '-f', $partial],
           'with --enable-row-security it runs');
my $copy_rows = sub {
    my ($file, $table) = @_;
    open my $fh, '<', $file or die;
    my ($in, $n) = (0, 0);
    while (<$fh>) {
        if (/^COPY \Q$table\E /) { $in = 1; next }
        if ($in && /^\\\.$/) { $in = 0; next }
        $n++ if $in;
    }
    return $n;
};
is($copy_rows->($partial, 'smam.account'), 0, '... and holds none of smam\'s rows: an empty backup that says nothing');
my $whole = $node->basedir . '/whole.sql';
command_ok(['pg_dump', '-h', $node->host, '-p', $node->port, '-U', 'b_backup', '-d', 'src', '-f', $whole],
           'pg_read_all_data with BYPASSRLS: pg_dump runs');
ok($copy_rows->($whole, 'smam.account') > 0 && $copy_rows->($whole, 'smam.audit_log') > 0,
   '... and holds the accounts and the audit log');
$node->safe_psql('postgres', 'CREATE DATABASE dst2');
($rc, $out, $err) = $node->psql('dst2', undef, extra_params => ['-v', 'ON_ERROR_STOP=1', '-1', '-f', $whole]);
is($rc, 0, 'it restores, in one transaction, as the superuser') or diag($err);
is($node->safe_psql('dst2', $snapshot), $before, 'every row is back');
is($node->safe_psql('dst2', "SELECT intact, reproduced FROM smam.reproduce_report($report)"), 't|t', 'the frozen report reproduces');
is($node->safe_psql('dst2', 'SELECT holds FROM smam.verify_audit_log()'), 't', 'the audit chain holds');

$node->stop;
done_testing();

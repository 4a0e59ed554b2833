# A frozen compliance report (7.1.2) reproduces after the server's
# smam.time_zone has changed: its findings' dates are read again in the zone
# they were read in at submission, which the report keeps. The two zones are
# 25 hours apart, so every date in a finding differs between them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $node = SmamTest->new('report_zone');
$node->init;
$node->append_conf('postgresql.conf', "smam.time_zone = 'Pacific/Kiritimati'\n");
$node->start;

$node->safe_psql('postgres', q{
  CREATE EXTENSION smam;
  CREATE ROLE z_admin LOGIN; GRANT smam_admin TO z_admin;
  CREATE ROLE z_tbs LOGIN; GRANT smam_tbs TO z_tbs;
  CREATE ROLE z_deputy LOGIN; GRANT smam_department TO z_deputy;
  SELECT smam.register_principal('z_admin', 'Ada', 'ada@example.gc.ca');
  SELECT smam.appoint('z_admin', 'administrator', NULL, '2020-01-01');
  SET ROLE z_admin;
  SELECT smam.add_department('Department of Zones', 'Ministère des Fuseaux');
  SELECT smam.register_principal('z_tbs', 'Tom', 'tom@example.gc.ca');
  SELECT smam.register_principal('z_deputy', 'Dora', 'dora@example.gc.ca', smam.find_department('Department of Zones'));
  SELECT smam.appoint('z_tbs', 'tbs_analyst', NULL, '2020-01-01');
  SELECT smam.appoint('z_deputy', 'deputy_head', smam.find_department('Department of Zones'), '2020-01-01');
  SET ROLE z_tbs;
  SELECT smam.request_report(smam.find_department('Department of Zones'), smam.today() + 10, 'Compliance');
  SET ROLE z_deputy;
  SELECT smam.submit_report((SELECT max(id) FROM smam.report_request), 'As requested');
});
my $report = $node->safe_psql('postgres', 'SELECT max(id) FROM smam.compliance_report');
is($node->safe_psql('postgres', "SELECT time_zone FROM smam.compliance_report WHERE id = $report"),
   'Pacific/Kiritimati', 'the report keeps the smam.time_zone it was submitted under');
my $dated = q{
  SELECT count(*) FROM smam.compliance_report r, jsonb_array_elements(r.findings) f
   WHERE r.id = %s AND f ->> 'problem' ~ '\d{4}-\d{2}-\d{2}'};
ok($node->safe_psql('postgres', sprintf($dated, $report)) > 0, 'some of its findings name a date');
is($node->safe_psql('postgres', "SELECT reproduced FROM smam.reproduce_report($report)"), 't',
   'it reproduces under the same zone');

$node->safe_psql('postgres', q{ALTER SYSTEM SET smam.time_zone = 'Pacific/Pago_Pago'});
$node->reload;
is($node->safe_psql('postgres', 'SELECT smam.time_zone()'), 'Pacific/Pago_Pago', 'the server now reads dates in another zone');
# The same picture read in the new zone is not the frozen one: the test can fail.
isnt($node->safe_psql('postgres', qq{
       SELECT encode(sha256(convert_to(
                (SELECT coalesce(jsonb_agg(to_jsonb(b) ORDER BY b.party, b.department_id, b.requirement), '[]')
                   FROM smam.compliance_by_department_as_of(r.as_of) b WHERE b.department_id = r.department_id)::text ||
                (SELECT coalesce(jsonb_agg(to_jsonb(f) ORDER BY f.finding_key), '[]')
                   FROM smam.compliance_findings_as_of(r.as_of) f WHERE f.department_id = r.department_id)::text, 'UTF8')), 'hex')
         FROM smam.compliance_report r WHERE r.id = $report}),
     $node->safe_psql('postgres', "SELECT content_sha256 FROM smam.compliance_report WHERE id = $report"),
     'read in the new zone, the picture differs from the frozen one');
is($node->safe_psql('postgres', "SELECT intact, reproduced FROM smam.reproduce_report($report)"), 't|t',
   'the report still reproduces: it is read in the zone it keeps');
is($node->safe_psql('postgres', qq{
       SET TimeZone = 'Asia/Kolkata';
       SELECT reproduced FROM smam.reproduce_report($report);
       SELECT smam.time_zone(), current_setting('smam.report_time_zone')}),
   "t\nPacific/Pago_Pago|", "from a session in a third zone too, and the session reads dates in the server's zone afterwards");
is($node->safe_psql('postgres', qq{
       SET ROLE z_deputy;
       SELECT reproduced FROM smam.reproduce_report($report)}), 't', 'and when its deputy head asks');

# smam is not preloaded here: the first call of one of its functions loads it.
my ($rc, $out, $err) = $node->psql('postgres', q{SET ROLE z_deputy; SELECT smam.time_zone();
                                                 SET smam.report_time_zone = 'Pacific/Kiritimati'});
like($err, qr/permission denied to set parameter "smam.report_time_zone"/,
     'nobody but a superuser sets the zone reproduce_report uses');
($rc, $out, $err) = $node->psql('postgres', q{SET ROLE z_deputy; SET smam.report_time_zone = 'Pacific/Kiritimati';
                                                 SELECT smam.time_zone()});
is($out, 'Pacific/Pago_Pago', 'nor before smam is loaded: the value is dropped when it loads');
($rc, $out, $err) = $node->psql('postgres', q{SELECT smam.time_zone(); SET smam.report_time_zone = 'Mars/Olympus_Mons'});
like($err, qr/invalid value for parameter "smam.report_time_zone"/, 'and it must name a zone the server knows');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_settings WHERE name = 'smam.report_time_zone'}), '0',
   'it is not listed among the settings');

$node->stop;
done_testing();

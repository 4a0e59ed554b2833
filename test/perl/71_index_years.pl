# The real index over the years (issue 17): importing the index's own
# versions in date order, as the entity would have, ends as importing the
# newest alone does. Both start from the canada.ca feeds of 2024-10-24 (both
# languages, one import), then:
#   direct: sm.csv (2026-08-22);
#   years:  sm-2024-11-15.csv, sm-2025-12-29.csv, sm.csv.
# Checked: the same departments (the years path may also know departments
# that have left the index, whose accounts are flagged for a disposition
# review), no department split in two, every row of the newest file placed
# in the same department with the same outcome save where an older file
# said something the newest contradicts (named, and few), the English names
# English and the French ones French; then the entity's decisions on the
# real data (moving an account, merging a department the French listing
# made); then a truncated file is refused
# whole unless the caller says the disappearance is intended.
# Data: test/data/gc-social-media-index (Open Government Licence - Canada).
use strict;
use warnings;

BEGIN { mkdir $ENV{TESTDIR} if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SmamTest;

my $data = ($ENV{SMAM_DATA_DIR} // die "SMAM_DATA_DIR is not set\n") . '/gc-social-media-index';
-d "$data/snapshots" or die "no snapshots in $data\n";

my $node = SmamTest->new('years');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
$node->start;

sub sql { my ($db, $q) = @_; return $node->safe_psql($db, "SET client_min_messages = warning;\n$q") }

# Each file's content, read by the server (the superuser), imported by the
# entity's official.
sub import_files {
    my ($db, @files) = @_;
    my @summaries;
    for my $f (@files) {
        my $arg = $f eq 'feeds' ? '' : $f;
        push @summaries, sql($db, $f eq 'feeds'
          ? qq{CREATE TEMP TABLE en AS SELECT pg_read_file('$data/canada-ca-feed-2024-10-24/sm-en.json')::jsonb AS j;
               CREATE TEMP TABLE fr AS SELECT pg_read_file('$data/canada-ca-feed-2024-10-24/sm-fr.json')::jsonb AS j;
               GRANT SELECT ON en, fr TO y_entity; SET ROLE y_entity;
               SELECT row(s.*)::text FROM smam.import_index_feeds((SELECT j FROM en), (SELECT j FROM fr)) s}
          : qq{CREATE TEMP TABLE t AS SELECT pg_read_file('$data/$arg') AS csv; GRANT SELECT ON t TO y_entity;
               SET ROLE y_entity; SELECT row(s.*)::text FROM smam.import_index((SELECT csv FROM t)) s});
    }
    return @summaries;
}

for my $db ('direct', 'years') {
    $node->safe_psql('postgres', qq{CREATE DATABASE $db});
    sql($db, q{CREATE EXTENSION smam});
    $node->safe_psql('postgres', q{CREATE ROLE y_entity LOGIN IN ROLE smam_entity; CREATE ROLE y_dept LOGIN IN ROLE smam_department})
      if $db eq 'direct';
    sql($db, q{SELECT smam.register_principal('y_entity', 'Yves Entity', 'yves@example.gc.ca');
               SELECT smam.appoint('y_entity', 'entity_official', NULL, '2020-01-01')});
}
my @direct = import_files('direct', 'feeds', 'sm.csv');
my @years = import_files('years', 'feeds', 'snapshots/sm-2024-11-15.csv', 'snapshots/sm-2025-12-29.csv', 'sm.csv');
note "direct: @direct";
note "years:  @years";

# ---- Departments ----
my $departments = q{SELECT name_en || ' | ' || coalesce(name_fr, '-') || ' | ' || coalesce(gc_org_id::text, '-')
                      FROM smam.department WHERE NOT shipped ORDER BY 1};
my %direct_dept = map { $_ => 1 } split /\n/, sql('direct', $departments);
my %years_dept = map { $_ => 1 } split /\n/, sql('years', $departments);
my @only_direct = grep { !$years_dept{$_} } sort keys %direct_dept;
my @only_years = grep { !$direct_dept{$_} } sort keys %years_dept;
is(join("\n", @only_direct), '', 'every department the newest file makes, the years make too');
# A department only history knows has left the index: none of its accounts
# is in the newest file, and its live ones are flagged.
for my $dept (@only_years) {
    my ($name) = split / \| /, $dept;
    is(sql('years', qq{SELECT count(*) FROM smam.index_import_row r JOIN smam.department d ON d.id = r.department_id
                        WHERE r.import_id = (SELECT max(id) FROM smam.index_import) AND d.name_en = '$name'}), '0',
       "the years also know $name, which the newest file no longer lists");
}
is(sql('years', q{SELECT count(*) FROM smam.account a
                   WHERE a.stage IN ('implementation', 'evaluation')
                     AND NOT EXISTS (SELECT 1 FROM smam.index_import_row r
                                      WHERE r.import_id = (SELECT max(id) FROM smam.index_import) AND r.url_key = a.url_key)
                     AND NOT EXISTS (SELECT 1 FROM smam.disposition_review v WHERE v.account_id = a.id AND v.resolved_at IS NULL)}),
   '0', 'every live account the years saw that the newest file no longer lists is flagged for a disposition review');
ok(sql('years', q{SELECT count(*) FROM smam.disposition_review WHERE resolved_at IS NULL}) > 0, '... and there are such accounts');

# No department split: no name of one department (by key) is another's name or alias.
for my $db ('direct', 'years') {
    is(sql($db, q{
      WITH names AS (
        SELECT id, name_en_key AS k FROM smam.department UNION SELECT id, name_fr_key FROM smam.department WHERE name_fr_key IS NOT NULL
        UNION SELECT department_id, name_key FROM smam.department_alias)
      SELECT string_agg(DISTINCT k, ', ') FROM names a JOIN names b USING (k) WHERE a.id <> b.id}), '',
       "$db: no name stands for two departments");
    # English names English, French names French: no department's English
    # name was seen only in French rows, and the reverse.
    is(sql($db, q{
      SELECT string_agg(d.name_en, ', ') FROM smam.department d
       WHERE EXISTS (SELECT 1 FROM smam.index_import_row r WHERE r.names_in = 'fr' AND r.name_key = d.name_en_key)
         AND NOT EXISTS (SELECT 1 FROM smam.index_import_row r WHERE r.names_in = 'en' AND r.name_key = d.name_en_key)}), '',
       "$db: no department has a French name as its English name");
    is(sql($db, q{
      SELECT string_agg(d.name_fr, ', ') FROM smam.department d
       WHERE EXISTS (SELECT 1 FROM smam.index_import_row r WHERE r.names_in = 'en' AND r.name_key = d.name_fr_key)
         AND NOT EXISTS (SELECT 1 FROM smam.index_import_row r WHERE r.names_in = 'fr' AND r.name_key = d.name_fr_key)}), '',
       "$db: no department has an English name as its French name");
    is(sql($db, q{SELECT count(*) FROM smam.public_index i JOIN smam.department d ON d.name_en = i.department_en
                   WHERE d.name_fr IS NOT NULL AND i.department_fr IS DISTINCT FROM d.name_fr}), '0',
       "$db: the French index shows the French name wherever it is known");
}

# ---- Every row of the newest file ----
my $placement = q{
  SELECT r.url_key || ' | ' || CASE WHEN r.outcome IN ('created', 'updated', 'unchanged') THEN 'placed' ELSE r.outcome END
         || ' | ' || coalesce(d.name_en, '-')
    FROM smam.index_import_row r
    LEFT JOIN smam.department d ON d.id = coalesce((SELECT a.department_id FROM smam.account a WHERE a.id = r.account_id), r.department_id)
   WHERE r.import_id = (SELECT max(id) FROM smam.index_import) AND r.url_key IS NOT NULL
   ORDER BY r.row_number};
my %d = map { (split / \| /)[0] => $_ } split /\n/, sql('direct', $placement);
my %y = map { (split / \| /)[0] => $_ } split /\n/, sql('years', $placement);
is(scalar(keys %d), scalar(keys %y), 'the newest file read the same in both: ' . scalar(keys %d) . ' addresses');
# Where an older file listed an account under another gc_orgID than the
# newest does, the years placed it then, and an import does not move it.
my %contradicted = map { $_ => 1 } split /\n/, sql('years', q{
  SELECT DISTINCT n.url_key FROM smam.index_import_row n
    JOIN smam.index_import_row o ON o.url_key = n.url_key AND o.import_id < n.import_id
   WHERE n.import_id = (SELECT max(id) FROM smam.index_import)
     AND o.gc_org_id IS NOT NULL AND n.gc_org_id IS NOT NULL AND o.gc_org_id <> n.gc_org_id});
my (@same, @history_ties, @contradictions, @other);
for my $k (sort keys %d) {
    my ($dk, $yk) = ($d{$k}, $y{$k} // '(absent)');
    if ($dk eq $yk) { push @same, $k }
    elsif ($dk =~ / \| held \| / && $yk =~ / \| placed \| /) { push @history_ties, "$k: $yk" }
    elsif ($contradicted{$k}) { push @contradictions, "$k: direct $dk; years $yk" }
    else { push @other, "direct $dk; years $yk" }
}
note 'placed by history alone: ' . join('; ', @history_ties);
note 'contradicted by an older file: ' . join('; ', @contradictions);
is(join("\n", @other), '', 'every row of the newest file has the same outcome in the same department, but those below');
cmp_ok(scalar(@same), '>=', scalar(keys %d) - 10, scalar(@same) . ' of ' . scalar(keys %d) . ' the same');
cmp_ok(scalar(@history_ties), '<=', 3, 'a few rows held in the direct import are placed by the years, which tied their department name earlier');
cmp_ok(scalar(@contradictions), '<=', 6, 'and a few the years placed under another gc_orgID that the newest file corrects (Justice Canada under Service Canada\'s id in 2025)');

# The same rejects, but for those.
my $rejects = q{SELECT r.url_key || ' | ' || regexp_replace(r.reason, '(account|department|candidate) [0-9]+', '\1 N', 'g')
                  FROM smam.index_import_row r
                 WHERE r.import_id = (SELECT max(id) FROM smam.index_import) AND r.outcome = 'rejected' ORDER BY 1};
my @dr = grep { !$contradicted{(split / \| /)[0] // ''} } split /\n/, sql('direct', $rejects);
my @yr = grep { !$contradicted{(split / \| /)[0] // ''} } split /\n/, sql('years', $rejects);
# A renamed account is refused a name the newest file gives (6.1.3: a
# configuration change is submitted): the years created some accounts from
# older files, under older names.
my @yr_renames = grep { /other names or language/ } @yr;
@yr = grep { !/other names or language/ } @yr;
@dr = grep { !/other names or language/ } @dr;
is(join("\n", @yr), join("\n", @dr), 'the same rejects, besides renames refused as configuration changes (' . scalar(@yr_renames) . ' in the years)');
# What moves between the feeds of 2024 and the newest file (the Canadian
# Coast Guard to National Defence, ...) is a decision, the same in both.
my @moves = grep { /Moving an account between departments/ } @yr;
is(scalar(@moves), scalar(grep { /Moving an account between departments/ } @dr),
   scalar(@moves) . ' accounts the newest file lists under another department than 2024 did: a decision for a person, in both');

# ---- The decision: moving an account ----
my ($coast_guard, $dnd) = split /\|/, sql('direct', q{
  SELECT a.id, r.department_id FROM smam.index_import_row r JOIN smam.account a ON a.url_key = r.url_key AND a.stage <> 'disposed'
   WHERE r.import_id = (SELECT max(id) FROM smam.index_import) AND r.url_key = 'https://x.com/coastguardcan'});
my ($rc, $out, $err) = $node->psql('direct', qq{SET ROLE y_dept; SELECT smam.move_account($coast_guard, $dnd, 'x')});
like($err, qr/ERROR:  role "y_dept" may not move an account to another department/, 'a department does not move an account');
($rc, $out, $err) = $node->psql('direct', qq{SET ROLE y_entity; SELECT smam.reassign_account($coast_guard, $dnd, false)});
like($err, qr/permission denied for function reassign_account/, 'the way around the life cycle is no one\'s to call');
($rc, $out, $err) = $node->psql('direct', qq{SET ROLE y_entity; SELECT smam.move_account($coast_guard, $dnd, ' ')});
like($err, qr/ERROR:  moving an account to another department needs a reason.*HINT:  Say why/s, 'a move needs its reason');
($rc, $out, $err) = $node->psql('direct', qq{SET ROLE y_entity; SELECT smam.move_account(999999, $dnd, 'x')});
like($err, qr/ERROR:  account 999999 does not exist/, 'an unknown account is refused');
($rc, $out, $err) = $node->psql('direct', q{SET ROLE y_entity; UPDATE smam.account SET department_id = 1 WHERE url_key = 'https://x.com/coastguardcan'});
like($err, qr/ERROR:  permission denied for table account/, 'the entity does not UPDATE an account\'s department');
($rc, $out, $err) = $node->psql('direct', q{UPDATE smam.account SET department_id = 1 WHERE url_key = 'https://x.com/coastguardcan'});
like($err, qr/ERROR:  role "\w+" may not change account \d+/, 'nor does a superuser\'s UPDATE move it');
sql('direct', qq{SET ROLE y_entity; SELECT smam.move_account($coast_guard, $dnd, 'the Canadian Coast Guard joined National Defence')});
is(sql('direct', qq{SELECT department_id || '/' || coalesce(plan_id::text, 'no plan') FROM smam.account WHERE id = $coast_guard}), "$dnd/no plan",
   'the entity moves the Coast Guard account to National Defence; it leaves its old department\'s plan');
is(sql('direct', qq{SELECT reason FROM smam.account_move WHERE account_id = $coast_guard}), 'the Canadian Coast Guard joined National Defence',
   'the move is recorded with its reason');
($rc, $out, $err) = $node->psql('direct', qq{SET ROLE y_entity; SELECT smam.move_account($coast_guard, $dnd, 'again')});
like($err, qr/ERROR:  account $coast_guard is already an account of department $dnd/, 'a second move to the same department is refused');
is(sql('direct', q{CREATE TEMP TABLE t AS SELECT pg_read_file('} . $data . q{/sm.csv') AS csv; GRANT SELECT ON t TO y_entity;
                   SET ROLE y_entity; CREATE TEMP TABLE s AS SELECT * FROM smam.import_index((SELECT csv FROM t));
                   SELECT r.outcome FROM s JOIN smam.index_import_row r ON r.import_id = s.import_id
                    WHERE r.url_key = 'https://x.com/coastguardcan'}),
   "unchanged", 'the next import places the row');

# ---- The decision: merging departments ----
# The French listing names the Canada Border Services Agency "Agence des
# services frontaliers du Canada", which nothing ties: a candidate. Confirmed
# as a new department by mistake, its accounts sit apart; the entity merges
# it into the agency, and the next import places its rows there.
my $cbsa = sql('direct', q{SELECT smam.find_department('Canada Border Services Agency')});
my $agence = sql('direct', q{SET ROLE y_entity;
  SELECT smam.confirm_department_candidate(c.id, 'Agence des services frontaliers du Canada', NULL, 'a new agency')
    FROM smam.department_candidate c WHERE c.name_key = smam.department_name_key('Agence des services frontaliers du Canada')});
my $apart = sql('direct', qq{SELECT count(*) FROM smam.account WHERE department_id = $agence});
cmp_ok($apart, '>', 0, "confirmed as a department, the French name holds $apart accounts apart from the agency's");
($rc, $out, $err) = $node->psql('direct', qq{SET ROLE y_dept; SELECT smam.merge_departments($agence, $cbsa, 'x')});
like($err, qr/ERROR:  role "y_dept" may not merge departments/, 'a department does not merge departments');
($rc, $out, $err) = $node->psql('direct', qq{SET ROLE y_entity; UPDATE smam.account SET department_id = $cbsa WHERE department_id = $agence});
like($err, qr/ERROR:  permission denied for table account/, 'nor does the entity by UPDATE');
my $merge = sql('direct', qq{SET ROLE y_entity; SELECT smam.merge_departments($agence, $cbsa, 'the French name of the Canada Border Services Agency')});
is(sql('direct', qq{SELECT count(*) FROM smam.account WHERE department_id = $cbsa AND id IN
                      (SELECT account_id FROM smam.index_import_row WHERE department_id = $agence)}), $apart,
   'merged: its accounts are the agency\'s');
is(sql('direct', qq{SELECT moved ->> 'accounts' FROM smam.department_merge WHERE id = $merge}), $apart, 'the merge records them');
is(sql('direct', q{CREATE TEMP TABLE t AS SELECT pg_read_file('} . $data . q{/sm.csv') AS csv; GRANT SELECT ON t TO y_entity;
                   SET ROLE y_entity; CREATE TEMP TABLE s AS SELECT * FROM smam.import_index((SELECT csv FROM t));
                   SELECT string_agg(DISTINCT r.outcome || ' in ' || r.department_id, ', ') || ': ' || count(*)
                     FROM s JOIN smam.index_import_row r ON r.import_id = s.import_id
                    WHERE smam.department_name_key(r.department_given) = smam.department_name_key('Agence des services frontaliers du Canada')}),
   "unchanged in $cbsa: $apart", 'the next import places the French name\'s rows in the agency, unchanged');
is(sql('direct', qq{SELECT count(*) FROM smam.audit_log WHERE table_name = 'smam.department_merge' AND operation = 'INSERT'}), 1,
   'the merge is in the audit log');
is(sql('direct', q{SELECT holds FROM smam.verify_audit_log()}), 't', 'and the chain holds');

# ---- A truncated file ----
my $before = sql('years', q{SELECT (SELECT count(*) FROM smam.index_import) || '/' || (SELECT count(*) FROM smam.disposition_review)});
($rc, $out, $err) = $node->psql('years', q{
  CREATE TEMP TABLE t AS SELECT array_to_string((string_to_array(pg_read_file('} . $data . q{/sm.csv'), E'\n'))[1:900], E'\n') AS csv;
  GRANT SELECT ON t TO y_entity; SET ROLE y_entity;
  SELECT * FROM smam.import_index((SELECT csv FROM t))});
like($err, qr/ERROR:  the index file leaves out \d+ of the \d+ live accounts that import \d+ listed/, 'a truncated file is refused whole');
like($err, qr/DETAIL:  That is [\d.]+%; an import may find at most 10% missing \(smam.index_disappearance_limit\).*nothing was imported and no account was flagged/s,
     '... saying by how much, what the limit is, and that nothing happened');
like($err, qr/HINT:  Check that the file is the whole index.*accept_disappearance => true/s, '... and what to do');
is(sql('years', q{SELECT (SELECT count(*) FROM smam.index_import) || '/' || (SELECT count(*) FROM smam.disposition_review)}), $before,
   'nothing was imported and no account flagged');
my $accepted = sql('years', q{
  CREATE TEMP TABLE t AS SELECT array_to_string((string_to_array(pg_read_file('} . $data . q{/sm.csv'), E'\n'))[1:900], E'\n') AS csv;
  GRANT SELECT ON t TO y_entity; SET ROLE y_entity;
  SELECT vanished FROM smam.import_index((SELECT csv FROM t), accept_disappearance => true)});
cmp_ok($accepted, '>', 500, "said to be intended, it is imported and the $accepted accounts it leaves out are flagged");
is(sql('years', q{SELECT disappearance_accepted FROM smam.index_import ORDER BY id DESC LIMIT 1}), 't', 'the import records that it was said');

# A department's role does not import, and learns nothing from trying.
($rc, $out, $err) = $node->psql('years', q{SET ROLE y_dept; SELECT * FROM smam.import_index('Account,Platform,Department,Language,URL')});
like($err, qr/ERROR:  role "y_dept" may not import the index of official accounts/, 'a department does not import the index');

$node->stop;
done_testing();

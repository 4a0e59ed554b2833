# A finding's `since` is the moment its condition last became true, read
# from the history (issue 16, 5): each step below is its own transaction,
# a second apart, so that each moment is distinct.
#  - 6.1.1: a department whose strategy was retired is without one since the
#    retirement, not since the department was created;
#  - 6.1.2: a live account whose plan's approval was voided (the plan was
#    revised) is without an approved plan since the voiding, not since it
#    went live;
#  - 6.2.4: an account renamed after the index was published differs from
#    the index since the rename, not since it went live;
#  - 6.2.2: abandoning a planned account (the head's move) is no finding.
use strict;
use warnings;

BEGIN { mkdir $ENV{TESTDIR} if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use SmamTest;

my $node = SmamTest->new('since');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smam'\n");
$node->start;
sub sql { return $node->safe_psql('postgres', $_[0]) }
sub step { sleep 1.1; return sql($_[0]) }

sql(<<'SQL');
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE s_admin LOGIN IN ROLE smam_admin;
CREATE ROLE s_staff LOGIN IN ROLE smam_department;
CREATE ROLE s_head LOGIN IN ROLE smam_department;
CREATE ROLE s_entity LOGIN IN ROLE smam_entity;
CREATE ROLE s_reviewer LOGIN IN ROLE smam_entity;
SELECT smam.register_principal('s_admin', 'Admin', 'admin@example.gc.ca');
SELECT smam.appoint('s_admin', 'administrator', NULL, '2020-01-01');
SET ROLE s_admin;
SELECT smam.add_department('Department of Moments');
SELECT smam.record_effective_date('6.2.4', '2014-04-01', 'TBS notice');
SELECT smam.record_effective_date('6.2.2', '2014-04-01', 'TBS notice');
SELECT smam.register_principal(r, r, r || '@example.gc.ca', CASE WHEN r IN ('s_entity', 's_reviewer') THEN NULL ELSE 1 END)
  FROM unnest(ARRAY['s_staff', 's_head', 's_entity', 's_reviewer']) r;
SELECT smam.appoint('s_staff', 'department_staff', 1, '2020-01-01');
SELECT smam.appoint('s_head', 'head_of_communications', 1, '2020-01-01');
SELECT smam.appoint('s_entity', 'entity_official', NULL, '2020-01-01');
SELECT smam.appoint('s_reviewer', 'entity_reviewer', NULL, '2020-01-01');
SET ROLE s_reviewer;
SELECT smam.record_platform_review('x', k, smam.today() - 10, 'accepted', smam.today() + 355, 'review')
  FROM unnest(enum_range(NULL::smam.platform_review_kind)) k;
SET ROLE s_staff;
SELECT smam.draft_strategy(1, 'Strategy', 'm', 'b', 'a', 'g', 'p', 'l');
SELECT smam.draft_plan(1, 'Plan', 'b', 'r', 'r', 'r', 'm', 'p', 'c');
SELECT smam.plan_pia(1, 'x');
SQL
my $finding = q{SELECT since FROM smam.compliance_findings_as_of(now()) WHERE requirement = '%s' AND object_type = '%s' AND object_id = %s};

step(q{SET ROLE s_head; SELECT smam.approve_strategy(1)});

# ---- 6.1.2 ----
step(q{SET ROLE s_head; SELECT smam.approve_plan(1)});
step(q{SET ROLE s_admin; SELECT smam.onboard_account(1, 'x', 'https://x.com/MomentsGC', 'Moments', 'Moments', 'bilingual', 'listed')});
step(q{SET ROLE s_head; SELECT smam.attach_implementation_plan(1, 1)});
is(sql(q{SELECT count(*) FROM smam.compliance_findings_as_of(now()) WHERE requirement = '6.1.2' AND object_id = 1}), '0',
   'the live account has an approved plan');
step(q{SET ROLE s_staff; SELECT smam.revise('implementation_plan', 1, 'resources', 'fewer')});
my $voided = sql(q{SELECT decided_at FROM smam.decision WHERE subject = 'implementation_plan' AND decision = 'voided'});
is(sql(sprintf($finding, '6.1.2', 'account', 1)), $voided,
   '6.1.2: live under a plan that is no longer approved since the revision voided its approval');
isnt($voided, sql(q{SELECT moved_at FROM smam.stage_history WHERE account_id = 1}), '... not since the account went live');

# ---- 6.2.4 ----
step(q{SET ROLE s_entity; SELECT smam.publish_index()});
is(sql(q{SELECT count(*) FROM smam.compliance_findings_as_of(now()) WHERE requirement = '6.2.4' AND object_id = 1}), '0',
   'the published index shows the account as it is');
my $good = q{'{"avatar": "fip:canada-wordmark", "display_name": "Moments", "notice_url": "https://www.canada.ca/en/moments/notice.html", "description_en": "Notices", "description_fr": "Avis"}'};
step(qq{SET ROLE s_head;
  SELECT smam.submit(1, 'configuration', 'rename', $good, name_en => 'Moments Renamed');
  SET ROLE s_reviewer; SELECT smam.review_submission(1, true);});
step(qq{SET ROLE s_head; UPDATE smam.account SET name_en = 'Moments Renamed', configuration = $good WHERE id = 1});
my $renamed = sql(q{SELECT max(stmt_time) FROM smam.audit_log WHERE table_name = 'smam.account' AND row_key = '1'});
is(sql(sprintf($finding, '6.2.4', 'account', 1)), $renamed,
   '6.2.4: the published index differs from the account since it was renamed');
isnt($renamed, sql(q{SELECT published_at FROM smam.index_snapshot}), '... not since the publication');

# ---- 6.1.1 ----
step(q{SET ROLE s_head; SELECT smam.decide('strategy', 1, 'retired', 'superseded')});
my $retired = sql(q{SELECT decided_at FROM smam.decision WHERE subject = 'strategy' AND decision = 'retired'});
is(sql(sprintf($finding, '6.1.1', 'department', 1)), $retired,
   '6.1.1: without a strategy since the strategy was retired');
isnt($retired, sql('SELECT created_at FROM smam.department WHERE id = 1'), '... which is not when the department was created');


# ---- 6.2.2: abandoning a planned account is the head's move, no finding ----
step(q{SET ROLE s_staff; SELECT smam.plan_account(1, 'x', 'https://x.com/AbandonedGC', 'Abandoned', NULL, 'english', NULL, 1)});
step(q{SET ROLE s_head; SELECT smam.abandon_account(2, 'no longer needed')});
is(sql(q{SELECT moved_by || ' ' || office FROM smam.stage_history WHERE account_id = 2 AND to_stage = 'disposed'}),
   's_head head_of_communications', 'the head of communications abandoned the planned account');
is(sql(q{SELECT count(*) FROM smam.compliance_findings_as_of(now()) WHERE requirement = '6.2.2' AND object_id = 2}), '0',
   '... which is no 6.2.2 finding against the entity (issue 16, 2)');

$node->stop;
done_testing();

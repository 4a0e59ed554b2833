-- The catalogue of the Standard: every requirement, the dates of section 1,
-- the exemptions of section 2.2, the administrator's acts and their refusals.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(45);

-- Every requirement of sections 6 and 7 and the consequences of section 8.
SELECT set_eq(
  $$ SELECT code FROM smam.requirement $$,
  ARRAY['6.1.1','6.1.2','6.1.3','6.1.4','6.1.5','6.2.1','6.2.2','6.2.3','6.2.3.1','6.2.3.2',
        '6.2.4','6.2.5','7.1.1','7.1.2','7.2.1','7.2.2','7.2.3','7.3.1','7.3.2','8.1','8.2'],
  'the catalogue holds every requirement of sections 6 and 7 and the consequences of section 8');
SELECT is((SELECT count(*)::int FROM smam.requirement WHERE kind = 'consequence'), 2, 'section 8 has two consequences');
SELECT is((SELECT parent_code FROM smam.requirement WHERE code = '6.2.3.2'), '6.2.3', '6.2.3.2 belongs to 6.2.3');
SELECT is((SELECT responsible::text FROM smam.requirement WHERE code = '6.1.1'), 'head_of_communications', '6.1 is for heads of communications');
SELECT is((SELECT responsible::text FROM smam.requirement WHERE code = '6.2.4'), 'entity_official', '6.2 is for the entity''s senior official');
SELECT is((SELECT responsible::text FROM smam.requirement WHERE code = '7.1.2'), 'deputy_head', '7.1 is for deputy heads');
SELECT is((SELECT responsible::text FROM smam.requirement WHERE code = '7.2.3'), 'tbs_analyst', '7.2 is for TBS');
SELECT ok((SELECT text FROM smam.requirement WHERE code = '6.2.4') LIKE 'Maintaining an index of official social media accounts%', 'requirements carry their text');

-- The instrument.
SELECT is((SELECT effective_on FROM smam.instrument), DATE '2013-04-01', 'section 1.1: effective 2013-04-01');
SELECT is((SELECT rescinded_on FROM smam.instrument), DATE '2016-05-11', 'the archival note: rescinded 2016-05-11');

-- Section 1.2: the immediate requirements, and the others without a date.
SELECT set_eq($$ SELECT code FROM smam.requirement WHERE smam.effective_date(code) = DATE '2013-04-01' $$,
  ARRAY['6.1.1','6.1.2','6.1.5','7.1.1','7.1.2','7.2.1','7.2.2','7.2.3'],
  'section 1.2: 6.1.1, 6.1.2, 6.1.5, 7.1 and 7.2 take effect on 2013-04-01');
SELECT is((SELECT count(*)::int FROM smam.requirement WHERE smam.effective_date(code) IS NULL), 13,
  'every other requirement has no date until one is communicated');
SELECT is(smam.requirement_status('6.1.1', DATE '2013-04-01'), 'in force', '6.1.1 is in force on its first day');
SELECT is(smam.requirement_status('6.1.1', DATE '2013-03-31'), 'not yet in force', 'and not the day before');
SELECT is(smam.requirement_status('6.1.3', DATE '2026-01-01'), 'not yet in force', '6.1.3 is not yet in force without a communicated date');
SELECT is((SELECT status FROM smam.requirement_catalogue WHERE code = '6.2.4'), 'not yet in force', 'the catalogue view says so too');

-- Section 2.2: the seven agents of Parliament.
SELECT is((SELECT count(*)::int FROM smam.department WHERE agent_of_parliament), 7, 'seven agents of Parliament ship');
SELECT ok(smam.find_department('Commissariat aux langues officielles') IS NOT NULL, 'an agent of Parliament is found by its French name');
SELECT set_eq($$ SELECT code FROM smam.requirement WHERE not_for_agents_of_parliament $$,
  ARRAY['7.1.2','7.2.1','7.2.2','7.2.3','8.2'], 'section 2.2: 7.1.2, 7.2 and 8.2 do not apply to them');
SELECT is(smam.requirement_status('7.1.2', DATE '2020-01-01', smam.find_department('Office of the Auditor General of Canada')),
  'not applicable', 'TBS reporting does not apply to the Auditor General');
SELECT is(smam.requirement_status('7.1.1', DATE '2020-01-01', smam.find_department('Office of the Auditor General of Canada')),
  'in force', 'its deputy head still monitors compliance (7.1.1)');

-- The catalogue is read-only to everyone, superusers included.
SELECT throws_ok($$ UPDATE smam.requirement SET text = 'x' WHERE code = '6.1.1' $$, '42501', NULL,
  'a requirement cannot be edited, even by a superuser');
SELECT throws_ok($$ DELETE FROM smam.requirement WHERE code = '8.2' $$, '42501', NULL, 'nor deleted');
SELECT throws_ok($$ TRUNCATE smam.requirement CASCADE $$, '42501', NULL, 'nor truncated');
SELECT throws_ok($$ UPDATE smam.instrument SET effective_on = DATE '2014-01-01' $$, '42501', NULL, 'the instrument cannot be edited');
SELECT throws_ok($$ DELETE FROM smam.department WHERE id = -1 $$, '42501', NULL, 'a shipped department cannot be deleted');
SELECT throws_ok($$ UPDATE smam.platform SET canonical_host = 'evil.example' WHERE code = 'x' $$, '42501', NULL,
  'a shipped platform cannot be edited');

-- The administrator's acts, as a role that holds the office.
CREATE ROLE cat_admin LOGIN; GRANT smam_admin TO cat_admin;
CREATE ROLE cat_staff LOGIN; GRANT smam_department TO cat_staff;
SELECT smam.register_principal('cat_admin', 'Ada Admin', 'ada@example.gc.ca');
SELECT smam.appoint('cat_admin', 'administrator');
SET ROLE cat_admin;
SELECT lives_ok($$ SELECT smam.record_effective_date('6.1.3', DATE '2014-04-01', 'TBS notice of 2014-03-01') $$,
  'an administrator records a date communicated by the Secretary');
SELECT is(smam.effective_date('6.1.3'), DATE '2014-04-01', 'the recorded date counts');
SELECT is(smam.requirement_status('6.1.3', DATE '2014-04-01'), 'in force', '6.1.3 is in force from that date');
SELECT lives_ok($$ SELECT smam.record_effective_date('6.2.3', DATE '2014-06-01', 'TBS notice of 2014-05-01') $$, 'a date for 6.2.3');
SELECT is(smam.effective_date('6.2.3.1'), DATE '2014-06-01', 'covers 6.2.3.1, which belongs to 6.2.3');
SELECT throws_like($$ SELECT smam.record_effective_date('6.1.1', DATE '2014-04-01', 'x') $$,
  '%took effect on 2013-04-01%', 'the dates of section 1.2 cannot be changed');
SELECT throws_ok($$ SELECT smam.record_effective_date('6.1.4', DATE '2012-12-31', 'x') $$, '22023', NULL,
  'no requirement takes effect before the Standard (1.1)');
SELECT throws_ok($$ SELECT smam.record_effective_date('9.9', DATE '2014-01-01', 'x') $$, '22023', NULL,
  'an unknown requirement is refused');
SELECT throws_ok($$ SELECT smam.record_effective_date('6.1.4', DATE '2014-01-01', ' ') $$, '22023', NULL,
  'a communicated date needs its reference');

SELECT lives_ok($$ SELECT smam.set_enforcement(false, 'rescinded on 2016-05-11', TIMESTAMPTZ '2016-05-11 00:00 America/Toronto') $$,
  'an administrator stops enforcement from the rescission on');
SELECT is(smam.requirement_status('6.1.1', DATE '2016-06-01'), 'not enforced', 'after it, requirements are not enforced');
SELECT is(smam.requirement_status('6.1.1', DATE '2015-06-01'), 'in force', 'before it, they were');
SELECT is(smam.requirement_status('6.1.1', DATE '2016-06-01', NULL, now() - interval '1 hour'), 'in force',
  'a report reproduced as known an hour ago does not see the setting recorded since');
SELECT throws_ok($$ SELECT smam.set_enforcement(true, '') $$, '22023', NULL, 'changing enforcement needs a reason');
RESET ROLE;

-- Someone without the office cannot do any of it.
SET ROLE cat_staff;
SELECT throws_ok($$ SELECT smam.record_effective_date('6.1.4', DATE '2014-01-01', 'x') $$, '42501', NULL,
  'a non-administrator cannot record dates');
SELECT throws_ok($$ SELECT smam.set_enforcement(true, 'x') $$, '42501', NULL,
  'nor change enforcement: the function is not granted to smam_department');
SELECT throws_ok($$ INSERT INTO smam.instrument_setting (enforced, reason) VALUES (false, 'x') $$, '42501', NULL,
  'nor write the setting around the function');
RESET ROLE;
-- A member of smam_admin who does not hold the office is refused by smam, naming who may act.
CREATE ROLE cat_pretender LOGIN; GRANT smam_admin TO cat_pretender;
SET ROLE cat_pretender;
SELECT throws_like($$ SELECT smam.set_enforcement(true, 'x') $$, '%may not set whether smam enforces%',
  'smam_admin membership without the administrator office is refused');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

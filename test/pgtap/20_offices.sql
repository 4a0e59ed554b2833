-- People and offices: registration, appointments and their validity edges,
-- delegation to designates and its limits, every refusal, and what each
-- role sees.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(52);

-- The terms and moments below are written for 2026, in UTC, and read in the
-- current year: delegating asks for an office held now, so now must fall in
-- the head's first term whatever year the test runs.
CREATE FUNCTION pg_temp.y(at text) RETURNS timestamptz LANGUAGE sql STABLE
  AS $$ SELECT (at::timestamp + make_interval(years => extract(year FROM now() AT TIME ZONE 'UTC')::int - 2026))
                 AT TIME ZONE 'UTC' $$;

CREATE ROLE o_admin LOGIN;   GRANT smam_admin TO o_admin;
CREATE ROLE o_head LOGIN;    GRANT smam_department TO o_head;
CREATE ROLE o_desig LOGIN;   GRANT smam_department TO o_desig;
CREATE ROLE o_staff LOGIN;   GRANT smam_department TO o_staff;
CREATE ROLE o_other LOGIN;   GRANT smam_department TO o_other;
CREATE ROLE o_entity LOGIN;  GRANT smam_entity TO o_entity;
CREATE ROLE o_public LOGIN;  GRANT smam_public TO o_public;
CREATE ROLE o_nobody LOGIN;

-- The first administrator is appointed by a superuser.
SELECT lives_ok($$ SELECT smam.register_principal('o_admin', 'Ada Admin', 'ada@example.gc.ca') $$, 'a superuser registers the first principal');
SELECT lives_ok($$ SELECT smam.appoint('o_admin', 'administrator', NULL, '2020-01-01') $$, 'and appoints the first administrator');

SET ROLE o_admin;
CREATE TEMP TABLE d AS SELECT smam.add_department('Department of Examples', 'Ministère des Exemples') AS a,
                              smam.add_department('Other Department', 'Autre ministère') AS b;
SELECT lives_ok($$ SELECT smam.register_principal('o_head', 'Hélène Head', 'helene@example.gc.ca', (SELECT a FROM d)) $$, 'the administrator registers principals');
SELECT smam.register_principal('o_desig', 'Dee Designate', 'dee@example.gc.ca', (SELECT a FROM d));
SELECT smam.register_principal('o_staff', 'Sam Staff', 'sam@example.gc.ca', (SELECT a FROM d));
SELECT smam.register_principal('o_other', 'Otto Other', 'otto@example.gc.ca', (SELECT b FROM d));
SELECT smam.register_principal('o_entity', 'Erin Entity', 'erin@example.gc.ca');

-- Registration refusals.
SELECT throws_ok($$ SELECT smam.register_principal('o_missing', 'X', 'x@example.gc.ca') $$, '42704', 'role "o_missing" does not exist', 'an unknown role cannot be registered');
SELECT throws_ok($$ SELECT smam.register_principal('o_head', 'X', 'y@example.gc.ca') $$, '23505', 'role "o_head" is already a principal', 'nor a principal twice');
SELECT throws_ok($$ SELECT smam.register_principal('o_nobody', 'X', 'HELENE@example.gc.ca') $$, '23505', NULL, 'e-mail addresses are unique, whatever their case');
SELECT throws_ok($$ SELECT smam.register_principal('o_nobody', 'X', 'not-an-address') $$, '22023', NULL, 'an e-mail address must look like one');
SELECT throws_ok($$ SELECT smam.add_department('department of examples') $$, '23505', NULL, 'a department name is unique, whatever its case');

-- Appointments.
CREATE TEMP TABLE ap AS SELECT
  smam.appoint('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2026-01-01'), pg_temp.y('2027-01-01')) AS head,
  smam.appoint('o_staff', 'department_staff', (SELECT a FROM d), pg_temp.y('2026-01-01')) AS staff,
  smam.appoint('o_other', 'department_staff', (SELECT b FROM d), pg_temp.y('2026-01-01')) AS other,
  smam.appoint('o_entity', 'entity_official', NULL, pg_temp.y('2026-01-01')) AS entity;
GRANT SELECT ON d, ap TO PUBLIC;  -- test scaffolding, readable by every test role
SELECT throws_like($$ SELECT smam.appoint('o_staff', 'head_of_communications', NULL) $$,
  '%office head_of_communications is held for a department%', 'a departmental office needs its department');
SELECT throws_like($$ SELECT smam.appoint('o_entity', 'entity_reviewer', (SELECT a FROM d)) $$,
  '%held for the whole government%', 'a government-wide office takes no department');
SELECT throws_ok($$ SELECT smam.appoint('o_desig', 'designate', (SELECT a FROM d)) $$, '22023',
  'a designate is delegated, not appointed', 'designates are not appointed by the administrator');
SELECT throws_ok($$ SELECT smam.appoint('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2026-06-01'), pg_temp.y('2026-07-01')) $$,
  '23505', NULL, 'nobody holds the same office twice over the same period');
SELECT lives_ok($$ SELECT smam.appoint('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2027-01-01'), pg_temp.y('2028-01-01')) $$,
  'a term that begins when the other ends does not overlap');
SELECT throws_ok($$ SELECT smam.appoint('o_staff', 'deputy_head', (SELECT a FROM d), pg_temp.y('2026-06-01'), pg_temp.y('2026-05-01')) $$,
  '22023', NULL, 'a term cannot end before it begins');
SELECT throws_ok($$ SELECT smam.appoint('o_nobody', 'deputy_head', (SELECT a FROM d)) $$, '42704', NULL, 'only principals are appointed');
RESET ROLE;

-- Validity edges: [valid_from, valid_until).
SELECT ok(NOT smam.holds_office('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2025-12-31 23:59:59.999999')), 'not before the term');
SELECT ok(smam.holds_office('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2026-01-01')), 'from its first instant');
SELECT ok(smam.holds_office('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2026-12-31 23:59:59.999999')), 'to its last');
SELECT ok(smam.holds_office('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2027-01-01')), 'and on through the next term');
SELECT ok(NOT smam.holds_office('o_head', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2028-01-01')), 'not once the terms end');
SELECT ok(NOT smam.holds_office('o_head', 'head_of_communications', (SELECT b FROM d), pg_temp.y('2026-06-01')), 'an office is held for its department only');
SELECT ok(NOT smam.holds_office('o_head', 'deputy_head', (SELECT a FROM d), pg_temp.y('2026-06-01')), 'and is that office only');
SELECT ok(smam.holds_office('o_entity', 'entity_official', NULL, pg_temp.y('2026-06-01')), 'a government-wide office is asked with no department');
SELECT ok(NOT smam.holds_office('o_entity', 'entity_official', (SELECT a FROM d), pg_temp.y('2026-06-01')), 'not for a department');

-- Delegation (6.1): within the delegator's term, to another person, by the head only.
SET ROLE o_head;
SELECT throws_like($$ SELECT smam.delegate('o_desig', pg_temp.y('2027-06-01'), NULL, pg_temp.y('2026-02-01')) $$,
  '%cannot outlast the delegator''s term%', 'a designation cannot outlast the head''s term');
SELECT throws_like($$ SELECT smam.delegate('o_desig', NULL, NULL, pg_temp.y('2026-02-01')) $$,
  '%cannot outlast the delegator''s term%', 'nor be open-ended when the head''s term ends');
SELECT throws_like($$ SELECT smam.delegate('o_desig', pg_temp.y('2026-12-01'), NULL, pg_temp.y('2025-06-01')) $$,
  '%cannot begin before the delegator''s term%', 'nor begin before it');
SELECT throws_like($$ SELECT smam.delegate('o_head', pg_temp.y('2026-12-01'), NULL, pg_temp.y('2026-02-01')) $$,
  '%cannot be their own designate%', 'a head cannot designate themselves');
SELECT throws_ok($$ SELECT smam.delegate('o_desig', pg_temp.y('2026-12-01'), (SELECT b FROM d), pg_temp.y('2026-02-01')) $$, '42501', NULL,
  'a head delegates only for their own department');
CREATE TEMP TABLE dg AS SELECT smam.delegate('o_desig', pg_temp.y('2026-12-01'), NULL, pg_temp.y('2026-02-01')) AS id;
GRANT SELECT ON dg TO PUBLIC;
SELECT ok((SELECT id FROM dg) IS NOT NULL, 'a head of communications delegates within the term');
SELECT is((SELECT delegated_by FROM smam.appointment WHERE id = (SELECT id FROM dg)), (SELECT head FROM ap), 'the designation records its delegator');
RESET ROLE;
SELECT ok(smam.holds_office('o_desig', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2026-06-01')),
  'a designate holds the office of head of communications within the delegation');
SELECT ok(smam.holds_office('o_desig', 'designate', (SELECT a FROM d), pg_temp.y('2026-06-01')), 'and the office of designate');
SELECT ok(NOT smam.holds_office('o_desig', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2026-12-15')), 'not after the delegation ends');
SELECT ok(NOT smam.holds_office('o_desig', 'head_of_communications', (SELECT b FROM d), pg_temp.y('2026-06-01')), 'nor for another department');

SET ROLE o_desig;
SELECT throws_like($$ SELECT smam.delegate('o_staff', pg_temp.y('2026-11-01')) $$, '%may not delegate%', 'a designate does not delegate further');
RESET ROLE;
SET ROLE o_staff;
SELECT throws_ok($$ SELECT smam.delegate('o_other', pg_temp.y('2026-11-01')) $$, '42501', NULL, 'department staff cannot delegate');
RESET ROLE;

-- If the delegator's term is cut short behind smam's back, the designate stops with it.
UPDATE smam.appointment SET valid_until = pg_temp.y('2026-05-01') WHERE id = (SELECT head FROM ap);
SELECT ok(NOT smam.holds_office('o_desig', 'head_of_communications', (SELECT a FROM d), pg_temp.y('2026-06-01')),
  'a designate holds nothing once the delegator''s term has ended');
UPDATE smam.appointment SET valid_until = pg_temp.y('2027-01-01') WHERE id = (SELECT head FROM ap);
SELECT throws_like($$ UPDATE smam.appointment SET principal = 'o_staff' WHERE id = (SELECT head FROM ap) $$,
  '%cannot change its holder%', 'an appointment never changes hands, even by a direct UPDATE');

-- Ending appointments.
SET ROLE o_staff;
SELECT throws_ok($$ SELECT smam.end_appointment((SELECT head FROM ap), 'coup') $$, '42501', NULL, 'staff cannot end an appointment');
RESET ROLE;
SET ROLE o_admin;
SELECT throws_ok($$ SELECT smam.end_appointment((SELECT head FROM ap), '') $$, '22023', NULL, 'ending needs a reason');
SELECT lives_ok($$ SELECT smam.end_appointment((SELECT head FROM ap), 'moved to another department', pg_temp.y('2026-09-01')) $$,
  'the administrator ends a head''s term early');
SELECT is((SELECT valid_until FROM smam.appointment WHERE id = (SELECT id FROM dg)), pg_temp.y('2026-09-01'),
  'the head''s designation ends with it');
SELECT throws_ok($$ SELECT smam.end_appointment((SELECT head FROM ap), 'again', pg_temp.y('2026-10-01')) $$, '55000', NULL,
  'an ended appointment cannot end again');
RESET ROLE;

-- Inactive principals hold nothing.
UPDATE smam.principal SET active = false WHERE role_name = 'o_staff';
SELECT ok(NOT smam.holds_office('o_staff', 'department_staff', (SELECT a FROM d), pg_temp.y('2026-06-01')), 'an inactive principal holds no office');
UPDATE smam.principal SET active = true WHERE role_name = 'o_staff';

-- What each role sees (row-level security), now.
SET ROLE o_staff;
SELECT is(smam.acting_role(), 'o_staff'::name, 'smam knows who acts, inside its SECURITY DEFINER functions too');
SELECT is(smam.my_departments(), ARRAY[(SELECT a FROM d)], 'staff work in their department');
SELECT is((SELECT count(*)::int FROM smam.appointment WHERE department_id = (SELECT b FROM d)), 0, 'staff see no appointment of another department');
SELECT ok((SELECT count(*)::int FROM smam.appointment WHERE department_id = (SELECT a FROM d)) >= 3, 'but see their own department''s');
RESET ROLE;
SET ROLE o_entity;
SELECT ok(smam.sees_all(), 'the entity''s official sees every department');
SELECT is((SELECT count(*)::int FROM smam.principal), 6, 'and every principal');
RESET ROLE;
SET ROLE o_public;
SELECT throws_ok($$ SELECT * FROM smam.appointment $$, '42501', NULL, 'the public reads no appointment');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

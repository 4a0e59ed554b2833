-- Every refusal of the foundation: its SQLSTATE, and that it carries a
-- detail naming the requirement where one applies, and a hint.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(48);

-- refusal(sql): 'SQLSTATE|has detail|has hint|detail' of the error the statement raises.
CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; dt text; ht text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, dt = PG_EXCEPTION_DETAIL, ht = PG_EXCEPTION_HINT;
  RETURN st || '|' || (coalesce(dt, '') <> '') || '|' || (coalesce(ht, '') <> '') || '|' || coalesce(dt, '');
END $$;
CREATE FUNCTION pg_temp.refused(stmt text, state text, requirement text, description text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE r text := pg_temp.refusal(stmt);
BEGIN
  RETURN NEXT is(split_part(r, '|', 1), state, description || ': SQLSTATE ' || state);
  RETURN NEXT ok(split_part(r, '|', 3) = 'true'
                 AND (requirement IS NULL OR split_part(r, '|', 4) LIKE '%requirement ' || requirement || ' of the Standard%'),
                 description || ': hint' || coalesce(', detail names requirement ' || requirement, ''));
END $$;

CREATE ROLE r_admin LOGIN; GRANT smam_admin TO r_admin;
CREATE ROLE r_head LOGIN;  GRANT smam_department TO r_head;
CREATE ROLE r_x LOGIN;     GRANT smam_department TO r_x;
SELECT smam.register_principal('r_admin', 'A', 'a@example.gc.ca');
SELECT smam.appoint('r_admin', 'administrator', NULL, '2020-01-01');
SET ROLE r_admin;
SELECT smam.add_department('Dept R') AS dept \gset
SELECT smam.register_principal('r_head', 'H', 'h@example.gc.ca', :dept);
SELECT smam.register_principal('r_x', 'X', 'x@example.gc.ca', :dept);
SELECT smam.appoint('r_head', 'head_of_communications', :dept, '2026-01-01', '2027-01-01') AS head \gset
SELECT smam.appoint('r_x', 'department_staff', :dept, '2026-01-01') AS staff \gset
RESET ROLE;

-- Direct writes to the appointment table meet the same trigger as the API.
SELECT * FROM pg_temp.refused(format($$INSERT INTO smam.appointment (principal, office, department_id) VALUES ('r_x', 'designate', %s)$$, :dept),
  '22023', '6.1', 'a designate without a delegator');
SELECT * FROM pg_temp.refused(format($$INSERT INTO smam.appointment (principal, office, department_id, delegated_by, valid_from, valid_until) VALUES ('r_x', 'designate', %s, 999999, '2026-02-01', '2026-06-01')$$, :dept),
  '23503', '6.1', 'a delegator that does not exist');
SELECT * FROM pg_temp.refused(format($$INSERT INTO smam.appointment (principal, office, department_id, delegated_by, valid_from, valid_until) VALUES ('r_head', 'designate', %s, %s, '2026-02-01', '2026-06-01')$$, :dept, :staff),
  '22023', '6.1', 'a delegator who is not a head of communications');
SELECT * FROM pg_temp.refused(format($$INSERT INTO smam.appointment (principal, office, department_id, delegated_by) VALUES ('r_x', 'deputy_head', %s, %s)$$, :dept, :head),
  '22023', '6.1', 'a delegator on an office that is not a designate');
SELECT * FROM pg_temp.refused(format($$INSERT INTO smam.appointment (principal, office, department_id, delegated_by, valid_from, valid_until) VALUES ('r_x', 'designate', %s, %s, '2026-02-01', '2026-06-01')$$,
  (SELECT smam.add_department('Dept S')), :head), '22023', '6.1', 'a designation for another department');

-- The administrator's functions.
SET ROLE r_admin;
SELECT * FROM pg_temp.refused($$SELECT smam.add_department('  ')$$, '22023', '2.1', 'a department without a name');
SELECT * FROM pg_temp.refused($$SELECT smam.register_principal('r_admin2', 'A', 'a2@example.gc.ca', 424242)$$, '42704', NULL, 'an unknown role');
SELECT * FROM pg_temp.refused($$SELECT smam.set_enforcement(NULL, 'x')$$, '22023', NULL, 'enforcement neither on nor off');
SELECT * FROM pg_temp.refused(format($$SELECT smam.end_appointment(%s, 'x', '2025-01-01')$$, :staff), '22023', NULL, 'an end before the start');
SELECT * FROM pg_temp.refused($$SELECT smam.end_appointment(987654, 'x')$$, '42704', NULL, 'an unknown appointment');
SELECT * FROM pg_temp.refused($$SELECT smam.requirement_status('6.9')$$, '22023', NULL, 'an unknown requirement');
RESET ROLE;
CREATE ROLE r_admin2 LOGIN;
SET ROLE r_admin;
SELECT * FROM pg_temp.refused(format($$SELECT smam.register_principal('r_admin2', 'A', 'a2@example.gc.ca', %s)$$, 424242), '23503', NULL, 'an unknown department');
RESET ROLE;

-- Onboarding an existing account.
SET ROLE r_x;
SELECT throws_ok(format($$SELECT smam.onboard_account(%s, 'X', 'https://x.com/deptr', 'R', NULL, 'english', 'listed')$$, :dept),
  '42501', NULL, 'staff cannot onboard: the function is not granted to smam_department');
RESET ROLE;
SET ROLE r_admin;
SELECT * FROM pg_temp.refused($$SELECT smam.onboard_account(424242, 'X', 'https://x.com/deptr', 'R', NULL, 'english', 'listed')$$,
  '23503', NULL, 'onboarding into an unknown department');
SELECT * FROM pg_temp.refused(format($$SELECT smam.onboard_account(%s, 'X', 'https://x.com/deptr', 'R', NULL, 'english', ' ')$$, :dept),
  '22023', '6.1.2', 'onboarding without a reason');
SELECT * FROM pg_temp.refused(format($$SELECT smam.onboard_account(%s, 'X', 'https://www.facebook.com/deptr', 'R', NULL, 'english', 'listed')$$, :dept),
  '22023', '6.2.4', 'onboarding a URL of another platform');
SELECT * FROM pg_temp.refused(format($$SELECT smam.onboard_account(%s, 'X', 'https://x.com/deptr', NULL, ' ', 'english', 'listed')$$, :dept),
  '22023', NULL, 'onboarding an account without a name');
SELECT ok(smam.onboard_account(:dept, 'X', 'http://twitter.com/DeptR/', 'R', NULL, 'english', 'listed') > 0, 'onboarding works');
SELECT * FROM pg_temp.refused(format($$SELECT smam.onboard_account(%s, 'twitter', 'https://x.com/deptr', 'R', NULL, 'english', 'listed')$$, :dept),
  '23505', '6.2.4', 'onboarding the same account twice, under another spelling');
SELECT is((SELECT stage::text || '/' || onboarded FROM smam.account WHERE url = 'https://x.com/DeptR'), 'implementation/true',
  'an onboarded account is live and marked');
RESET ROLE;

-- The office check's detail reads as a sentence whatever the act (no "Evaluate an account requires").
SET ROLE r_x;
SELECT is(split_part(pg_temp.refusal($$SELECT smam.require_office('administrator', NULL, '7.1.1', 'archive the audit log of Canada')$$), '|', 4),
          'Only the office administrator, held now, may archive the audit log of Canada. This enforces requirement 7.1.1 of the Standard on Social Media Account Management.',
          'the office check''s detail reads as a sentence');
RESET ROLE;

-- Dates and moments in refusals read the same in every session: dates as
-- YYYY-MM-DD, moments to the second in smam.time_zone with its name, whatever
-- the session's DateStyle and TimeZone.
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Pacific/Kiritimati';
SET ROLE r_admin;
SELECT throws_ok($$ SELECT smam.record_effective_date('6.1.1', DATE '2014-04-01', 'x') $$, '22023',
  'requirement 6.1.1 took effect on 2013-04-01', 'a date in a refusal is written YYYY-MM-DD under DateStyle SQL, DMY');
SELECT is(split_part(pg_temp.refusal(format($$SELECT smam.end_appointment(%s, 'x', '2025-01-01 00:00:00+00')$$, :staff)), '|', 4),
          'It begins ' || to_char((SELECT valid_from FROM smam.appointment WHERE id = :staff) AT TIME ZONE 'America/Toronto',
                                  'YYYY-MM-DD HH24:MI:SS') || ' America/Toronto.',
          'a moment in a refusal is written in smam.time_zone, not in the session''s zone and style');
SELECT is(split_part(pg_temp.refusal($$SELECT smam.appoint('r_x', 'deputy_head', (SELECT min(id) FROM smam.department),
                                                           '2026-03-01 12:00:00-05', '2026-02-01 00:00:00-05')$$), '|', 4),
          'The term runs from 2026-03-01 12:00:00 America/Toronto to 2026-02-01 00:00:00 America/Toronto.',
          'and so in the refusals written in C');
RESET ROLE;
SET IntervalStyle = 'sql_standard';
SELECT is(smam.interval_text(interval '30 days'), '30 days', 'a duration is written in IntervalStyle postgres in every session');
RESET DateStyle;
RESET TimeZone;
RESET IntervalStyle;

-- smam's own refusal, never PostgreSQL's bare "permission denied": every
-- SECURITY DEFINER function is executable by every working group role, but
-- for the documented exceptions (docs/reference.md, "Group roles").
SELECT is((SELECT string_agg(p.oid::regprocedure::text || ' for ' || r, ', ' ORDER BY p.oid::regprocedure::text, r)
             FROM pg_proc p
             CROSS JOIN unnest(ARRAY['smam_admin', 'smam_entity', 'smam_department', 'smam_tbs', 'smam_analyst']) r
            WHERE p.pronamespace = 'smam'::regnamespace AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
              AND NOT has_function_privilege(r, p.oid, 'EXECUTE')
              AND p.proname NOT IN ('dispatch', 'check_account_urls', 'pull_metrics', 'verify_audit_log', 'audit_digest',
                                    'index_publication_status', 'seal_audit_log')),
          NULL, 'every definer function checks the office itself and is granted to every working group role');
-- The office holders' terms read as the refusals write moments.
SET TimeZone = 'Pacific/Kiritimati';
SELECT is((SELECT valid_from_text FROM smam.office_holder WHERE appointment = :staff),
          to_char((SELECT valid_from FROM smam.appointment WHERE id = :staff) AT TIME ZONE 'America/Toronto', 'YYYY-MM-DD HH24:MI:SS')
            || ' America/Toronto',
          'smam.office_holder writes the term in smam.time_zone, not the session''s, as refusals do');
RESET TimeZone;
CREATE ROLE r_analyst LOGIN; GRANT smam_analyst TO r_analyst;
SET ROLE r_analyst;
SELECT * FROM pg_temp.refused($$SELECT smam.approve_strategy(1)$$, '42704', NULL,
  'an analyst approving a strategy meets smam''s refusal, not "permission denied"');
SELECT * FROM pg_temp.refused($$SELECT smam.add_department('Analysts'' own')$$, '42501', NULL,
  'an analyst adding a department meets smam''s refusal');
RESET ROLE;
SELECT * FROM finish();
ROLLBACK;

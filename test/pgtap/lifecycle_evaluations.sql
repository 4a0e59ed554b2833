-- The evaluation guard (src/evaluations.c) on smam.evaluation and
-- smam.archive: each refusal with its SQLSTATE and the requirement named in
-- the DETAIL, against the table owner's direct INSERT and UPDATE (a
-- superuser, first without an office, then appointed), and the columns the
-- trigger records whoever writes the row.
BEGIN;
\ir _setup.psql
SELECT plan(45);

-- The refusal's SQLSTATE, requirement and whether it carries a hint.
CREATE FUNCTION tap.refusal(who name, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  d text;
  h text;
BEGIN
  EXECUTE format('SET ROLE %I', who);
  EXECUTE q;
  RESET ROLE;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  RETURN SQLSTATE || coalesce(' ' || substring(d FROM 'This enforces requirement ([0-9.]+) of'), '')
         || CASE WHEN coalesce(h, '') <> '' THEN ' +hint' ELSE ' no hint' END;
END
$$;

SELECT tap.at_stage(:d1, 'EvalLive', 'implementation') AS live \gset
SELECT tap.at_stage(:d1, 'EvalGone', 'disposition') AS gone \gset
SELECT tap.planned(:d1, 'EvalPlanned') AS planned \gset

-- ---- the function is C now ----
SELECT is((SELECT l.lanname::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
            WHERE p.oid = 'smam.evaluation_guard()'::regprocedure), 'c',
  'smam.evaluation_guard() is a C function');

-- ---- the owner, a superuser without an office ----
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.archive (account_id, department_id, no_archive_reason) VALUES (%s, %s, 'none')$$, :gone, :d1)),
  '42501 6.2.2 +hint', 'archive: the owner without the entity''s office does not record an archive');
SELECT matches(tap.message('postgres', format($$INSERT INTO smam.archive (account_id, department_id, no_archive_reason) VALUES (%s, %s, 'none')$$, :gone, :d1)),
  'may not record the archive of an account', '... and the message says what was refused');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (%s, %s)$$, :live, :d1)),
  '42501 6.1.2 +hint', 'evaluation: the owner without the office of head of communications does not start one');
SELECT tap.val('t_head', format($$SELECT smam.start_evaluation(%s, 'open one')$$, :live)) AS ev \gset
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET findings = 'mine' WHERE id = %s$$, :ev)),
  '42501 6.1.2 +hint', 'evaluation: the owner without the office does not record findings on an open one');
SELECT is(tap.refusal('t_other', format($$SELECT smam.start_evaluation(%s)$$, :live)),
  '42704 +hint', 'evaluation: another department''s head of communications does not evaluate the account (nor sees it)');

-- ---- the owner, appointed ----
SELECT tap.val('t_admin', $$SELECT smam.register_principal('postgres', 'Owner', 'owner@example.gc.ca')$$) IS NOT NULL AS owner_registered;
SELECT tap.val('t_admin', format($$SELECT smam.appoint('postgres', 'head_of_communications', %s)$$, :d1)) IS NOT NULL AS owner_head1;
SELECT tap.val('t_admin', format($$SELECT smam.appoint('postgres', 'head_of_communications', %s)$$, :d2)) IS NOT NULL AS owner_head2;
SELECT tap.val('t_admin', $$SELECT smam.appoint('postgres', 'entity_official')$$) IS NOT NULL AS owner_entity;

-- An open evaluation keeps how it was started.
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET note = 'other' WHERE id = %s$$, :ev)),
  '55000 6.1.2 +hint', 'evaluation: an open one keeps its note');
SELECT matches(tap.message('postgres', format($$UPDATE smam.evaluation SET note = 'other' WHERE id = %s$$, :ev)),
  'keeps how it was started', '... the message says so');
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET started_by = 'someone' WHERE id = %s$$, :ev)),
  '55000 6.1.2 +hint', 'evaluation: an open one keeps who started it');
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET started_at = started_at - interval '1 day' WHERE id = %s$$, :ev)),
  '55000 6.1.2 +hint', 'evaluation: an open one keeps when it was started');
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET account_id = %s WHERE id = %s$$, :planned, :ev)),
  '55000 6.1.2 +hint', 'evaluation: an open one keeps its account');
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET department_id = %s WHERE id = %s$$, :d2, :ev)),
  '55000 6.1.2 +hint', 'evaluation: an open one keeps its department (even for a head of both)');
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET id = id + 1000 WHERE id = %s$$, :ev)),
  '55000 6.1.2 +hint', 'evaluation: an open one keeps its id');
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET findings = 'half way' WHERE id = %s$$, :ev)),
  'ok', 'evaluation: the head records findings on an open one');
SELECT is(completed_at, NULL, '... without completing it') FROM smam.evaluation WHERE id = :ev;

-- Completing records who and when, whatever the UPDATE says.
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET findings = 'done', completed_by = 'forged', completed_at = '2000-01-01' WHERE id = %s$$, :ev)),
  'ok', 'evaluation: the head completes it by a direct UPDATE');
SELECT is(completed_by::text || ' ' || (completed_at = now())::text, 'postgres true',
  '... and smam records who completed it and when, not what the UPDATE said')
  FROM smam.evaluation WHERE id = :ev;
SELECT is(tap.refusal('postgres', format($$UPDATE smam.evaluation SET findings = 'rewritten' WHERE id = %s$$, :ev)),
  '55000 6.1.2 +hint', 'evaluation: a completed one is not rewritten, even by a head of communications');
SELECT matches(tap.message('postgres', format($$UPDATE smam.evaluation SET findings = 'rewritten' WHERE id = %s$$, :ev)),
  'is completed and cannot change', '... the message says it is completed');
SELECT is(tap.refusal('t_head', format($$SELECT smam.complete_evaluation(%s, 'again')$$, :live)),
  '55000 6.1.2 +hint', 'evaluation: there is nothing left to complete');
SELECT is(tap.refusal('t_head', format($$SELECT smam.transition(%s, 'implementation')$$, :live)),
  'ok', 'the evaluation completed by the owner''s UPDATE lets the head return the account to implementation');

-- Starting: the stage, the department, the account.
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (%s, %s)$$, :planned, :d1)),
  '55000 6.1.2 +hint', 'evaluation: an account in planning is not evaluated');
SELECT matches(tap.message('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (%s, %s)$$, :planned, :d1)),
  'is in planning, not in implementation', '... the message names the stage');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (%s, %s)$$, :gone, :d1)),
  '55000 6.1.2 +hint', 'evaluation: an account in disposition is not evaluated');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (%s, %s)$$, :live, :d2)),
  '22023 +hint', 'evaluation: the row names its account''s own department (a head of the other one)');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (%s, %s)$$, -1, :d1)),
  '23503 +hint', 'evaluation: an account that does not exist');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id) VALUES (NULL, %s)$$, :d1)),
  '23502 no hint', 'evaluation: without an account the NOT NULL constraint refuses the row');

-- A direct INSERT starts an open evaluation, as smam records it.
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.evaluation (account_id, department_id, note, started_by, started_at, findings, completed_by, completed_at)
  VALUES (%s, %s, 'direct', 'forged', '2000-01-01', 'prejudged', 'forged', '2000-01-02')$$, :live, :d1)),
  'ok', 'evaluation: the head starts one by a direct INSERT');
SELECT is(concat_ws('|', started_by, (started_at = now())::text, findings, completed_by, completed_at),
  'postgres|true', '... smam records who started it and when, and it starts open, without findings')
  FROM smam.evaluation WHERE account_id = :live AND note = 'direct';

-- ---- archives ----
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.archive (account_id, department_id, no_archive_reason) VALUES (%s, %s, 'none')$$, :live, :d1)),
  '55000 6.2.2 +hint', 'archive: a live account is not archived, even by the owner appointed to the entity');
SELECT matches(tap.message('postgres', format($$INSERT INTO smam.archive (account_id, department_id, no_archive_reason) VALUES (%s, %s, 'none')$$, :live, :d1)),
  'is in implementation, not in disposition', '... the message names the stage');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.archive (account_id, department_id, no_archive_reason) VALUES (%s, %s, 'none')$$, :gone, :d2)),
  '22023 +hint', 'archive: the row names its account''s own department');
SELECT is(tap.refusal('postgres', $$INSERT INTO smam.archive (account_id, department_id, no_archive_reason) VALUES (-1, 1, 'none')$$),
  '23503 +hint', 'archive: an account that does not exist');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.archive (account_id, department_id, no_archive_reason, recorded_by, recorded_at)
  VALUES (%s, %s, 'Nothing kept', 'forged', '2000-01-01')$$, :gone, :d1)),
  'ok', 'archive: the entity records one by a direct INSERT in disposition');
SELECT is(recorded_by::text || ' ' || (recorded_at = now())::text, 'postgres true',
  '... and smam records who recorded it and when')
  FROM smam.archive WHERE account_id = :gone;
SELECT is(tap.refusal('postgres', format($$UPDATE smam.archive SET no_archive_reason = 'changed' WHERE account_id = %s$$, :gone)),
  '42501 6.1.2 +hint', 'archive: a recorded archive is not changed');
SELECT is(tap.refusal('t_entity', format($$SELECT smam.transition(%s, 'disposed')$$, :gone)),
  'ok', 'the archive recorded by the owner lets the entity dispose of the account');

-- ---- a missing NOT NULL value meets its constraint, not a crash of the guards ----
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.account (department_id, platform, handle, url, url_key, name_en, official_language)
  VALUES (NULL, 'x', 'N', 'https://x.com/N', 'https://x.com/n', 'N', 'english')$$)), '23502 no hint',
  'owner: an account without a department is refused by NOT NULL (the lifecycle guard does not read the missing value)');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.account (department_id, platform, handle, url, url_key, name_en, official_language)
  VALUES (%s, NULL, 'N', 'https://x.com/N', 'https://x.com/n', 'N', 'english')$$, :d1)), '23502 no hint',
  'owner: an account without a platform is refused by NOT NULL');
SELECT is(tap.refusal('postgres', format($$UPDATE smam.account SET stage = NULL WHERE id = %s$$, :planned)), '23502 no hint',
  'owner: a stage set to NULL is refused by NOT NULL');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.strategy (department_id, title) VALUES (NULL, 'S')$$)), '23502 no hint',
  'owner: a strategy without a department is refused by NOT NULL (the approval guard does not read the missing value)');
SELECT is(tap.refusal('postgres', format($$INSERT INTO smam.submission (account_id, department_id, kind) VALUES (NULL, %s, 'creation')$$, :d1)), '23502 no hint',
  'owner: a submission without an account is refused by NOT NULL');
SELECT is(tap.refusal('postgres', $$INSERT INTO smam.appointment (principal, office) VALUES ('t_staff', NULL)$$), '23502 no hint',
  'owner: an appointment without an office is refused by NOT NULL (the appointment guard does not read the missing value)');

-- ---- lifecycle.c remembers column numbers: an altered table is read right ----
SELECT tap.planned(:d1, 'AlterOne') AS alt1 \gset
SELECT tap.planned(:d1, 'AlterTwo') AS alt2 \gset
SELECT is(tap.refusal('t_head', format($$SELECT smam.abandon_account(%s, 'before')$$, :alt1)), 'ok',
  'an abandon reads the note (and the trigger remembers where the column is)');
ALTER TABLE smam.account DROP COLUMN stage_note;
ALTER TABLE smam.account ADD COLUMN stage_note text;
SELECT tap.refusal('t_head', format($$SELECT smam.abandon_account(%s, 'after')$$, :alt2)) AS alt2_result \gset
SELECT is(:'alt2_result' || ' ' || (SELECT note FROM smam.stage_history WHERE account_id = :alt2 AND to_stage = 'disposed'),
  'ok after', 'after the column moved, the trigger reads the note from its new place');

SELECT * FROM finish();
ROLLBACK;

-- The view smam.compliance_findings streams its rows (src/compliance.c):
-- the same rows as smam.compliance_findings_as_of at the same moment, for
-- every role that reads compliance; the caller's role and settings as they
-- were afterwards; early stops, rescans and nesting in PL/pgSQL.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(21);

CREATE ROLE s_admin LOGIN;   GRANT smam_admin TO s_admin;
CREATE ROLE s_analyst LOGIN; GRANT smam_analyst TO s_analyst;
CREATE ROLE s_deputy LOGIN;  GRANT smam_department TO s_deputy;
CREATE ROLE s_other LOGIN;   GRANT smam_department TO s_other;
CREATE ROLE s_public LOGIN;  GRANT smam_public TO s_public;
SELECT smam.register_principal('s_admin', 'Ada Admin', 'ada@example.gc.ca');
SELECT smam.appoint('s_admin', 'administrator', NULL, '2020-01-01');
SET ROLE s_admin;
CREATE TEMP TABLE d AS SELECT smam.add_department('Department of Examples', 'Ministère des Exemples') AS a,
                              smam.add_department('Other Department', 'Autre ministère') AS b;
SELECT smam.register_principal('s_deputy', 'Dora Deputy', 'dora@example.gc.ca', (SELECT a FROM d));
SELECT smam.register_principal('s_other', 'Otto Other', 'otto@example.gc.ca', (SELECT b FROM d));
SELECT smam.appoint('s_deputy', 'deputy_head', (SELECT a FROM d), '2020-01-01');
SELECT smam.appoint('s_other', 'deputy_head', (SELECT b FROM d), '2020-01-01');
SELECT smam.record_effective_date(c, '2014-01-01', 'test communication')
  FROM unnest(ARRAY['6.1.3', '6.2.3', '6.2.4']) c;
RESET ROLE;
GRANT SELECT ON d TO PUBLIC;
-- 2,500 onboarded accounts (more than two of the stream's batches of
-- 1,000 findings), most in department a: each lacks a plan, its
-- submissions, its specifications and a published index.
SELECT count(smam.onboard_account(CASE WHEN g % 5 = 0 THEN (SELECT b FROM d) ELSE (SELECT a FROM d) END,
                                  'x', 'https://x.com/stream' || g, 'Stream ' || g, NULL, 'english', 'test'))
  FROM generate_series(1, 2500) g;

-- now() is the transaction's start: the view and the function read the same moment.
CREATE FUNCTION pg_temp.same_rows() RETURNS boolean LANGUAGE sql AS $$
  SELECT NOT EXISTS ((SELECT * FROM smam.compliance_findings EXCEPT ALL SELECT * FROM smam.compliance_findings_as_of(now()))
                     UNION ALL
                     (SELECT * FROM smam.compliance_findings_as_of(now()) EXCEPT ALL SELECT * FROM smam.compliance_findings))
$$;
SELECT cmp_ok((SELECT count(*) FROM smam.compliance_findings), '>', 3000::bigint,
  'the findings are more than three of the stream''s batches');
SELECT ok(pg_temp.same_rows(), 'the view streams exactly the rows of compliance_findings_as_of (superuser)');
SET ROLE s_analyst;
SELECT ok(pg_temp.same_rows(), 'the same for an analyst');
SELECT ok((SELECT array_agg(DISTINCT department_id) FROM smam.compliance_findings) @> ARRAY[(SELECT a FROM d), (SELECT b FROM d)],
  'who reads every department''s findings');
RESET ROLE;
SET ROLE s_deputy;
SELECT ok(pg_temp.same_rows(), 'the same for a department');
SELECT is((SELECT array_agg(DISTINCT department_id) FROM smam.compliance_findings), ARRAY[(SELECT a FROM d)],
  'which sees only its own findings through the stream');
RESET ROLE;
SET ROLE s_public;
SELECT throws_ok($$ SELECT * FROM smam.compliance_findings $$, '42501', NULL, 'the public reads no findings');
SELECT throws_ok($$ SELECT * FROM smam.compliance_findings_stream(now()) $$, '42501', NULL,
  'nor calls the stream itself');
RESET ROLE;

-- The stream takes its owner's rights and compliance_findings_as_of's
-- settings only while it works: the caller's are as they were.
SET ROLE s_analyst;
SET work_mem = '1MB';
SET search_path = public, pg_temp;
SET jit = on;
SELECT is((SELECT count(*) FROM smam.compliance_findings) > 0, true, 'an analyst reads the stream');
SELECT is(current_user::text, 's_analyst', 'and is still itself afterwards');
SELECT is(current_setting('work_mem'), '1MB', 'with its own work_mem');
SELECT is(current_setting('search_path'), 'public, pg_temp', 'its own search_path');
SELECT is(current_setting('jit'), 'on', 'and its own jit');
RESET work_mem;
RESET search_path;
RESET jit;

-- Stopped early, restarted for each outer row, nested in PL/pgSQL.
SELECT is((SELECT count(*) FROM (SELECT * FROM smam.compliance_findings LIMIT 5) x), 5::bigint,
  'a reader may stop after a few rows');
SELECT is((SELECT count(*) FROM (SELECT * FROM smam.compliance_findings LIMIT 1500) x), 1500::bigint,
  'or in the middle of a batch, and read again in the same transaction');
SELECT is((SELECT count(*) FROM smam.compliance_findings), (SELECT count(*) FROM smam.compliance_findings_as_of(now())),
  'after which the whole stream still reads');
RESET ROLE;
SELECT is(
  (SELECT array_agg(n ORDER BY id) FROM (SELECT x.id, (SELECT count(*) FROM smam.compliance_findings f
                                                      WHERE f.department_id = x.id) AS n
                                           FROM smam.department x) s),
  (SELECT array_agg(coalesce(c.n, 0) ORDER BY x.id)
     FROM smam.department x
     LEFT JOIN (SELECT department_id, count(*) AS n FROM smam.compliance_findings_as_of(now()) GROUP BY 1) c
       ON c.department_id = x.id),
  'read again for each department (a rescan opens a new cursor each time)');
CREATE FUNCTION pg_temp.count_in_loop() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint := 0; inner_n bigint := 0; r record;
BEGIN
  FOR r IN SELECT * FROM smam.compliance_findings LOOP
    IF n = 10 THEN
      inner_n := (SELECT count(*) FROM smam.compliance_findings);
    END IF;
    n := n + 1;
  END LOOP;
  RETURN n + inner_n;
END $$;
SELECT is(pg_temp.count_in_loop(), 2 * (SELECT count(*) FROM smam.compliance_findings),
  'a PL/pgSQL loop over the stream may read the whole stream again inside it');
SELECT is((SELECT count(*) FROM smam.compliance_findings_stream(NULL)),
          (SELECT count(*) FROM smam.compliance_findings_as_of(NULL)),
  'at a NULL moment the stream says what compliance_findings_as_of says');

-- An error inside a fetch (a specification pattern that cannot compile,
-- slipped in with the catalogue's guard off) reaches the reader, whose role
-- and settings the (sub)transaction's abort gives back.
ALTER TABLE smam.technical_specification DISABLE TRIGGER catalogue_guard;
INSERT INTO smam.technical_specification (code, platform, rule, key, expected, description)
  VALUES ('bad_pattern', NULL, 'matches', 'handle', '(', 'a pattern that cannot compile');
ALTER TABLE smam.account DISABLE TRIGGER lifecycle_guard;
UPDATE smam.account SET configuration = '{"handle": "x"}' WHERE id = (SELECT min(id) FROM smam.account);
SET ROLE s_analyst;
SET work_mem = '1MB';
SET jit = on;
SELECT throws_ok($$ SELECT count(*) FROM smam.compliance_findings $$, '2201B', NULL,
  'an error inside a fetch reaches the reader');
SELECT is(current_user::text || ' ' || current_setting('work_mem') || ' ' || current_setting('jit'), 's_analyst 1MB on',
  'who is still itself, with its own settings');
RESET work_mem;
RESET jit;
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

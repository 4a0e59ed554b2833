-- A transaction that has written many audit rows writes the log through a
-- ring of buffers, as COPY does (src/audit_seal.c, docs/audit.md "Speed"):
-- the log's new pages, written once and seldom read soon, take 16 MB of
-- shared buffers (2,048 buffers) at most, not the pages of the tables the
-- statement changes. The log is first grown past a quarter of shared
-- buffers: below that, PostgreSQL's own scans of it (the writers' summaries
-- included) read without a ring and keep pages longer.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
CREATE EXTENSION pg_buffercache;
SELECT plan(4);

-- Shared buffers that hold pages of the log's heap.
CREATE FUNCTION pg_temp.log_buffers() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM public.pg_buffercache b
   WHERE b.reldatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
     AND b.relfilenode = pg_relation_filenode('smam.audit_log')
$$;

DO $$
BEGIN
  WHILE pg_relation_size('smam.audit_log') <= pg_size_bytes(current_setting('shared_buffers')) / 4 LOOP
    INSERT INTO smam.department (name_en)
      SELECT 'Before ' || g || ' ' || clock_timestamp() FROM generate_series(1, 20000) g;
  END LOOP;
END $$;
SELECT ok(pg_size_bytes(current_setting('shared_buffers')) / 8192 > 2 * 4000,
          'shared buffers hold twice the pages the statement below writes: only the ring keeps them out');

SELECT pg_relation_size('smam.audit_log') / 8192 AS pages0, pg_temp.log_buffers() AS buffers0 \gset
INSERT INTO smam.department (name_en) SELECT 'Ring ' || g FROM generate_series(1, 90000) g;
SELECT pg_relation_size('smam.audit_log') / 8192 - :pages0 AS written,
       pg_temp.log_buffers() - :buffers0 AS taken \gset

SELECT cmp_ok(:written::bigint, '>', 4000::bigint,
              'one statement wrote more pages of the log than the ring holds');
SELECT cmp_ok(:taken::bigint, '<', 2300::bigint,
              'they took no more shared buffers than the ring (2,048)');
SELECT is((SELECT count(*) FROM smam.audit_log
            WHERE table_name = 'smam.department' AND new_values->>'name_en' LIKE 'Ring %'),
          90000::bigint, 'every row of the statement is in the log');

SELECT * FROM finish();
ROLLBACK;

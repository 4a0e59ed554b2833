-- smam.history() through the log's bloom index (BRIN, text_bloom_ops, on
-- row_key): writers summarize the ranges behind them (src/audit_summary.c);
-- history() must find every row of an object whether its range of pages is
-- summarized or not, after rows land in a range summarized before them, and
-- read few ranges once they are summarized (docs/audit.md, "Growth").
-- The planner is kept off sequential scans so that the index is what finds
-- the rows.
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(16);

CREATE TABLE smam.audit_test_note (id bigint PRIMARY KEY, department_id bigint, body text);
SELECT is(smam.attach_audit(), 1, 'the test table is audited');

-- Rows of history() for every key of the test table, as (key, operations).
CREATE FUNCTION pg_temp.stories() RETURNS TABLE (k text, ops text) LANGUAGE sql AS $$
  SELECT g::text, (SELECT string_agg(h.operation, ',' ORDER BY h.ordinal)
                     FROM smam.history('smam.audit_test_note', g::text) h)
    FROM generate_series(1, 3000) g
$$;
-- The same from the log itself, read in full.
CREATE FUNCTION pg_temp.stories_read_in_full() RETURNS TABLE (k text, ops text) LANGUAGE sql AS $$
  SELECT l.row_key, string_agg(l.operation, ',' ORDER BY l.ordinal)
    FROM (SELECT * FROM smam.audit_log OFFSET 0) l
   WHERE l.table_name = 'smam.audit_test_note'
   GROUP BY l.row_key
$$;
-- The plan of a lookup by key, as text.
CREATE FUNCTION pg_temp.plan_of(key text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; plan text := '';
BEGIN
  FOR line IN EXECUTE format('EXPLAIN SELECT * FROM smam.audit_log WHERE row_key = %L COLLATE "C"', key) LOOP
    plan := plan || line || E'\n';
  END LOOP;
  RETURN plan;
END $$;
-- Pages the bitmap scan of one key reads, from EXPLAIN ANALYZE.
CREATE FUNCTION pg_temp.pages_read(key text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE format('EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM smam.audit_log WHERE row_key = %L COLLATE "C"', key)
     INTO plan;
  RETURN (plan->0->'Plan'->>'Exact Heap Blocks')::bigint + (plan->0->'Plan'->>'Lossy Heap Blocks')::bigint;
END $$;

SELECT is((SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
            WHERE c.oid = 'smam.audit_log_object_idx'::regclass), 'brin',
          'history() is served by a BRIN index on row_key');
SELECT ok((SELECT proconfig @> ARRAY['enable_seqscan=off'] FROM pg_proc
             WHERE oid = 'smam.history(regclass, text)'::regprocedure),
          'history() keeps the planner from reading the whole log when ANALYZE finds row_key uncorrelated');
SELECT ok((SELECT reloptions @> ARRAY['autovacuum_vacuum_insert_threshold=100000', 'autovacuum_vacuum_insert_scale_factor=0']
             FROM pg_class WHERE oid = 'smam.audit_log'::regclass),
          'autovacuum visits the log (and summarizes its new ranges) after every 100,000 rows inserted');

-- 3,000 notes inserted, then updated twice (the even ones): 7,500 audit
-- rows over dozens of ranges of 8 pages.
INSERT INTO smam.audit_test_note SELECT g, NULL, 'note ' || g FROM generate_series(1, 3000) g;
UPDATE smam.audit_test_note SET body = body || ' (read)';
UPDATE smam.audit_test_note SET body = body || ' (filed)' WHERE id % 2 = 0;
SET LOCAL enable_seqscan = off;

-- The writer summarized the ranges behind it as it moved on, two behind the
-- one it writes in: of the bloom index's dozens of ranges, only the last two
-- are left to summarize. The time index's ranges are 128 pages: the log
-- reaches its second, and the first was summarized when the index was built.
SELECT is(brin_summarize_new_values('smam.audit_log_object_idx') || ' ' || brin_summarize_new_values('smam.audit_log_time_idx'),
          '2 1', 'writers summarize the ranges behind them: only the last two ranges are left');
SELECT alike(pg_temp.plan_of('1500'), '%Bitmap Index Scan on audit_log_object_idx%', 'a lookup by key uses the bloom index');
SELECT is((SELECT count(*) FROM pg_temp.stories()), 3000::bigint, 'every key of the test table has a story');
SELECT is((SELECT count(*) FROM pg_temp.stories() s JOIN pg_temp.stories_read_in_full() f USING (k, ops)), 3000::bigint,
          'with every range summarized, history() finds every row of every key');

-- Every range's summary removed, as when writers could not summarize (another
-- session held the log) and VACUUM has not come yet.
SELECT cmp_ok((SELECT count(brin_desummarize_range('smam.audit_log_object_idx', b))
                 FROM generate_series(0, pg_relation_size('smam.audit_log') / 8192 - 1, 8) b), '>=', 20::bigint,
              'the log spans more than twenty ranges of 8 pages, their summaries now removed');
SELECT is((SELECT count(*) FROM pg_temp.stories() s JOIN pg_temp.stories_read_in_full() f USING (k, ops)), 3000::bigint,
          'with no range summarized, history() finds every row of every key (the unsummarized ranges are read)');
SELECT cmp_ok(brin_summarize_new_values('smam.audit_log_object_idx'), '>=', 20,
              'summarized again');
SELECT is((SELECT string_agg(operation, ',' ORDER BY ordinal) FROM smam.history('smam.audit_test_note', '1500')),
          'INSERT,UPDATE,UPDATE', 'one note''s story, in order');

-- More changes: the first land in the last range, summarized when partial
-- (the filter is updated as each row is inserted), the rest in new ranges.
UPDATE smam.audit_test_note SET body = body || ' (archived)' WHERE id % 3 = 0;
DELETE FROM smam.audit_test_note WHERE id = 1500;
SELECT is((SELECT count(*) FROM pg_temp.stories() s JOIN pg_temp.stories_read_in_full() f USING (k, ops)), 3000::bigint,
          'rows added to a summarized range and to new ranges are found as well');
SELECT is((SELECT string_agg(operation, ',' ORDER BY ordinal) FROM smam.history('smam.audit_test_note', '1500')),
          'INSERT,UPDATE,UPDATE,UPDATE,DELETE', 'one note''s story, to its deletion');

-- A writer that does not own the log summarizes too (as the log's owner).
CREATE ROLE h_writer;
GRANT USAGE ON SCHEMA smam TO h_writer;
GRANT INSERT ON smam.audit_test_note TO h_writer;
-- Everything summarized first, the last range included, so that what is left
-- afterwards is the writer's doing.
SELECT brin_summarize_new_values('smam.audit_log_object_idx') AS summarized_before \gset
SET ROLE h_writer;
INSERT INTO smam.audit_test_note SELECT g, NULL, 'late note ' || g FROM generate_series(3001, 4000) g;
RESET ROLE;
SELECT is(brin_summarize_new_values('smam.audit_log_object_idx'), 2,
          'a writer without rights on the log summarizes the ranges behind it too');

-- Once summarized, a key's lookup reads the ranges that hold it (four rows,
-- four ranges at most, 8 pages each) and not the others.
SELECT ok(brin_summarize_new_values('smam.audit_log_object_idx') >= 0
          AND pg_temp.pages_read('2400') BETWEEN 4 AND 5 * 8,
          'a summarized lookup reads the few ranges that hold the key, not the log');

SELECT * FROM finish();
ROLLBACK;

-- The audit log (docs/audit.md): one row per changed row of every table of
-- smam, written by the C trigger smam.audit(), chained with SHA-256 by
-- transaction at commit (smam.audit_seal), verifiable against digests kept
-- elsewhere. Requirements 7.1.1 (monitoring compliance) and 7.3 (reporting
-- on activities) rely on it; the whole life cycle of 6.1.2 is recorded.

-- Transaction numbers of the log: drawn once per writing transaction,
-- without locking, and carried across dump and restore (unlike xids).
-- Transaction numbers only need to be unique: each backend takes them 32 at a
-- time, so that concurrent writers do not meet on the sequence's page. The chain's
-- order is the seals' positions, never these numbers.
CREATE SEQUENCE smam.audit_txn_seq CACHE 32;

-- The column order is the C code's (src/audit.h): never reorder.
CREATE TABLE smam.audit_log (
  txn             bigint NOT NULL,
  ordinal         integer NOT NULL CHECK (ordinal OPERATOR(pg_catalog.>) 0),
  xid             bigint NOT NULL,
  tx_time         timestamptz NOT NULL,
  stmt_time       timestamptz NOT NULL,
  acting_role     text NOT NULL,
  effective_role  text NOT NULL,
  session_role    text NOT NULL,
  application     text,
  client_addr     inet,
  office          text,
  table_name      text COLLATE "C" NOT NULL,
  operation       text NOT NULL CHECK (operation OPERATOR(pg_catalog.=) ANY (ARRAY['INSERT', 'UPDATE', 'DELETE'])),
  row_key         text COLLATE "C",
  department_id   bigint,
  old_values      jsonb,
  new_values      jsonb,
  secrets_changed text[],
  row_hash        bytea NOT NULL,
  PRIMARY KEY (txn, ordinal)
);
-- One object's story (smam.history) by a bloom filter per range of 8 pages
-- (BRIN, text_bloom_ops), summarized once a range is full: an audited row
-- costs the index a share of one summary, where a hash index cost a bucket
-- insert per row, up to a fifth of a bulk update's time as the log grew
-- (docs/audit.md, "Speed"). The filter only says which ranges may hold the
-- key: history() reads those ranges and the ones not summarized yet, and
-- rechecks every row, so it finds every row whether or not its range is
-- summarized. Filters sized for 300 keys a range (8 pages of the smallest
-- audit rows) at one false positive in 1,000 ranges. A writer whose row
-- starts a new range summarizes the one before (src/audit_summary.c), so
-- that only the ranges being filled are read in full; VACUUM summarizes any
-- it skipped, and autovacuum visits the log after every 100,000 rows
-- inserted (autosummarize is off: its requests, one per range, overflow
-- autovacuum's queue of 256 in one bulk update). Time ranges at almost no
-- cost: rows arrive in time order, which a BRIN index on tx_time summarizes
-- per 128 pages.
CREATE INDEX audit_log_object_idx ON smam.audit_log
  USING brin (row_key pg_catalog.text_bloom_ops (n_distinct_per_range = 300, false_positive_rate = 0.001))
  WITH (pages_per_range = 8);
CREATE INDEX audit_log_time_idx ON smam.audit_log USING brin (tx_time) WITH (autosummarize = on);
ALTER TABLE smam.audit_log SET (autovacuum_vacuum_insert_threshold = 100000,
                                autovacuum_vacuum_insert_scale_factor = 0);
COMMENT ON TABLE smam.audit_log IS
  'One row per changed row of every smam table (trigger smam.audit); never updated or deleted';
COMMENT ON COLUMN smam.audit_log.txn IS 'Transaction number of the log (smam.audit_txn_seq); its seal is in smam.audit_seal';
COMMENT ON COLUMN smam.audit_log.ordinal IS 'Position of the row within its transaction: 1, 2, ... without gaps';
COMMENT ON COLUMN smam.audit_log.xid IS 'PostgreSQL''s full transaction id (informative; not unique across clusters)';
COMMENT ON COLUMN smam.audit_log.tx_time IS 'Start of the transaction';
COMMENT ON COLUMN smam.audit_log.stmt_time IS 'Start of the statement';
COMMENT ON COLUMN smam.audit_log.acting_role IS 'smam.acting_role(): the login or SET ROLE role, who acted';
COMMENT ON COLUMN smam.audit_log.effective_role IS 'current_user when the row changed (the owner inside SECURITY DEFINER functions)';
COMMENT ON COLUMN smam.audit_log.session_role IS 'session_user: the role that logged in';
COMMENT ON COLUMN smam.audit_log.office IS
  'Offices the acting role held at the start of the transaction: office@department, comma separated';
COMMENT ON COLUMN smam.audit_log.row_key IS 'Primary key of the changed row, as text; "(a,b)" for a key of several columns';
COMMENT ON COLUMN smam.audit_log.department_id IS 'Department of the changed row, where it has one';
COMMENT ON COLUMN smam.audit_log.old_values IS 'DELETE: the old row; UPDATE: old values of the changed columns';
COMMENT ON COLUMN smam.audit_log.new_values IS 'INSERT: the new row; UPDATE: new values of the changed columns';
COMMENT ON COLUMN smam.audit_log.secrets_changed IS 'Columns named *_secret that were set, changed or cleared: never their values';
COMMENT ON COLUMN smam.audit_log.row_hash IS 'SHA-256 of the row''s canonical serialization (docs/audit.md)';

-- The chain: one seal per committed writing transaction, in the order they
-- were chained (src/audit_seal.c): at its own commit by a transaction that
-- found the chain's lock free, else soon after by the next one that does,
-- the worker, smam.audit_digest() or smam.verify_audit_log().
CREATE TABLE smam.audit_seal (
  seq           bigint PRIMARY KEY CHECK (seq OPERATOR(pg_catalog.>) 0),
  txn           bigint NOT NULL UNIQUE,
  xid           bigint NOT NULL,
  rows          bigint NOT NULL,
  txn_hash      bytea NOT NULL,
  sealed_at     timestamptz NOT NULL,
  prev_hash     bytea NOT NULL,
  hash          bytea NOT NULL,
  committed_at  timestamptz NOT NULL
);
COMMENT ON TABLE smam.audit_seal IS
  'The hash chain of the audit log: one link per committed transaction, in the order they were chained';
COMMENT ON COLUMN smam.audit_seal.seq IS 'Position in the chain: the chain''s order';
COMMENT ON COLUMN smam.audit_seal.txn_hash IS 'SHA-256 over the transaction number and its rows'' hashes in order';
COMMENT ON COLUMN smam.audit_seal.sealed_at IS 'When the transaction was chained: at its commit, or within the sealing window after it';
COMMENT ON COLUMN smam.audit_seal.committed_at IS 'When the transaction committed: the moment it recorded at its commit, just before its commit record';
COMMENT ON COLUMN smam.audit_seal.hash IS 'SHA-256 over seq, txn, xid, rows, txn_hash, sealed_at, prev_hash and committed_at';

-- Committed transactions waiting to be chained: written at commit, without
-- any lock, by a transaction that did not chain itself; removed by the
-- sealer that chains it, in the same transaction as its seal.
CREATE TABLE smam.audit_commit (
  txn           bigint PRIMARY KEY,
  xid           bigint NOT NULL,
  rows          bigint NOT NULL,
  txn_hash      bytea NOT NULL,
  committed_at  timestamptz NOT NULL
);
COMMENT ON TABLE smam.audit_commit IS
  'Committed transactions of the audit log waiting to be chained (smam.audit_seal): their row count and transaction hash, recorded at commit';
-- A queue: rows come and go; vacuumed often, so that a sealer's scan of it
-- stays short.
ALTER TABLE smam.audit_commit SET (autovacuum_vacuum_threshold = 500, autovacuum_vacuum_scale_factor = 0);
COMMENT ON COLUMN smam.audit_commit.txn_hash IS 'SHA-256 over the transaction number and its rows'' hashes in order, as the seal will carry it';

-- Where the log begins after old periods were exported and removed.
CREATE TABLE smam.audit_checkpoint (
  seq             bigint PRIMARY KEY,
  hash            bytea NOT NULL,
  sealed_at       timestamptz NOT NULL,
  seals_archived  bigint NOT NULL,
  rows_archived   bigint NOT NULL,
  archived_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  archived_by     name NOT NULL,
  note            text NOT NULL,
  export_sha256   text NOT NULL CHECK (export_sha256 OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'),
  min_age         interval NOT NULL
);
COMMENT ON TABLE smam.audit_checkpoint IS
  'Checkpoints of the chain: the last archived seal''s position and hash, from which verification continues';
COMMENT ON COLUMN smam.audit_checkpoint.export_sha256 IS
  'SHA-256 of the export of the archived period (smam.audit_export), as the administrator hashed the file kept elsewhere; checked against the period before it was removed';
COMMENT ON COLUMN smam.audit_checkpoint.min_age IS
  'smam.audit_archive_min_age when the period was archived: its last seal was at least this old';

CREATE FUNCTION smam.audit() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_audit';
COMMENT ON FUNCTION smam.audit() IS
  'Trigger on every smam table: writes smam.audit_log (AFTER ROW) and refuses TRUNCATE';

CREATE FUNCTION smam.audit_log_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_audit_log_guard';
COMMENT ON FUNCTION smam.audit_log_guard() IS
  'Trigger on the audit log''s tables: refuses UPDATE, DELETE and TRUNCATE from every role';

CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_log
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_seal
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();
-- Sealing writes the chain's tables without firing triggers; any other
-- writer (a restore's COPY, archiving) makes the chain's cached head be
-- forgotten at its commit (src/audit_seal.c).
CREATE FUNCTION smam.audit_head_forget() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_audit_head_forget';
CREATE TRIGGER audit_head_forget AFTER INSERT OR DELETE ON smam.audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_head_forget();
CREATE TRIGGER audit_head_forget AFTER INSERT OR DELETE ON smam.audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_head_forget();
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_commit
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_commit
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();

-- Chain the committed transactions that wait, now (src/audit_seal.c):
-- smam.audit_digest() and smam.verify_audit_log() call it first. Nothing is
-- chained on a standby, in a read-only transaction, or under REPEATABLE READ
-- or SERIALIZABLE (whose snapshot would not see what it chains).
CREATE FUNCTION smam.seal_audit_log() RETURNS bigint
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_seal_audit_log';
COMMENT ON FUNCTION smam.seal_audit_log() IS
  'Chain the committed transactions of the audit log that wait (smam.audit_commit) now; returns how many';

-- Verification (src/audit_verify.c). Joins run as nested loops over the
-- primary keys: one pass over the log, in chain order, without sorting it.
CREATE FUNCTION smam.verify_audit_log(
    OUT holds boolean, OUT seq bigint, OUT txn bigint, OUT ordinal integer,
    OUT problem text, OUT seals_checked bigint, OUT rows_checked bigint, OUT pending bigint)
  RETURNS record LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS 'MODULE_PATHNAME', 'smam_verify_audit_log';
COMMENT ON FUNCTION smam.verify_audit_log() IS
  'Chain what waits, then: does the audit chain hold (and every committed transaction waiting to be chained match its rows)? Else where it first breaks: position (seal), txn, ordinal (row) and the problem';

CREATE FUNCTION smam.verify_audit_log(digest text,
    OUT holds boolean, OUT seq bigint, OUT txn bigint, OUT ordinal integer,
    OUT problem text, OUT seals_checked bigint, OUT rows_checked bigint, OUT pending bigint)
  RETURNS record LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS 'MODULE_PATHNAME', 'smam_verify_audit_log';
COMMENT ON FUNCTION smam.verify_audit_log(text) IS
  'As verify_audit_log(), and does the chain still pass through a digest taken earlier (smam.audit_digest)?';

CREATE FUNCTION smam.audit_digest(OUT seq bigint, OUT hash text, OUT sealed_at timestamptz,
                                  OUT digest text)
  RETURNS record LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  -- Everything committed before the digest is chained first, so that the
  -- digest covers it (where this transaction can chain: smam.seal_audit_log).
  PERFORM smam.seal_audit_log();
  SELECT h.seq, encode(h.hash, 'hex'), h.sealed_at,
           'smam-audit-v1:' || h.seq || ':' || encode(h.hash, 'hex')
      FROM ((SELECT s.seq, s.hash, s.sealed_at FROM smam.audit_seal s
              ORDER BY s.seq DESC LIMIT 1)
            UNION ALL
            (SELECT c.seq, c.hash, c.sealed_at FROM smam.audit_checkpoint c
              ORDER BY c.seq DESC LIMIT 1)
            UNION ALL
            SELECT 0, decode(repeat('00', 32), 'hex'), NULL) h
     ORDER BY h.seq DESC LIMIT 1
    INTO seq, hash, sealed_at, digest;
END
$$;
COMMENT ON FUNCTION smam.audit_digest() IS
  'The head of the audit chain (position, hash); keep the digest text elsewhere and check it later with smam.verify_audit_log(digest)';

-- The export of a period, before it is archived: one JSON line per seal,
-- followed by one per row of its transaction, in chain order, written the
-- same in every session (UTC, ISO dates, hex bytea). Saved to a file with
-- psql -At, its SHA-256 (sha256sum) is what smam.archive_audit_log asks for.
CREATE FUNCTION smam.audit_export(through_seq bigint) RETURNS SETOF text
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
  SET bytea_output = 'hex' SET extra_float_digits = 1
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS $$
BEGIN
  PERFORM smam.require_office('administrator', NULL, '7.1.1', 'export the audit log');
  IF through_seq IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'exporting the audit log needs a position', NULL,
      'Give the position of the last seal to export, from smam.audit_seal.');
  END IF;
  RETURN QUERY
    SELECT x.line FROM (
      SELECT s.seq, 0 AS ordinal, pg_catalog.jsonb_build_object('seal', pg_catalog.to_jsonb(s))::text AS line
        FROM smam.audit_seal s WHERE s.seq <= through_seq
      UNION ALL
      SELECT s.seq, l.ordinal, pg_catalog.jsonb_build_object('row', pg_catalog.to_jsonb(l))::text
        FROM smam.audit_seal s JOIN smam.audit_log l ON l.txn = s.txn
       WHERE s.seq <= through_seq) x
     ORDER BY x.seq, x.ordinal;
END
$$;
COMMENT ON FUNCTION smam.audit_export(bigint) IS
  'Administrator: the period up to a position as JSON lines (a seal, then its rows), to keep elsewhere before smam.archive_audit_log';

CREATE FUNCTION smam.archive_audit_log(through_seq bigint, export_sha256 text, note text,
    OUT seq bigint, OUT seals_archived bigint, OUT rows_archived bigint)
  RETURNS record LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS 'MODULE_PATHNAME', 'smam_archive_audit_log';
COMMENT ON FUNCTION smam.archive_audit_log(bigint, text, text) IS
  'Administrator: once the period is exported (smam.audit_export, its SHA-256 given) and older than smam.audit_archive_min_age, remove the seals up to a position and their rows, leaving a checkpoint that carries the chain';

-- The auditor's view: who, when, holding which office, what, old -> new.
-- Rows of transactions not chained yet have no position (seq), and those of
-- the reader's own transaction, not committed, no commit time either.
CREATE VIEW smam.audit_trail WITH (security_invoker = true) AS
  SELECT s.seq, l.ordinal, l.tx_time AS changed_at, l.stmt_time AS statement_at,
         COALESCE(s.committed_at, c.committed_at) AS committed_at, l.acting_role AS actor, l.office,
         l.effective_role, l.session_role, l.application, l.client_addr,
         l.table_name, l.operation, l.row_key, l.department_id,
         l.old_values, l.new_values, l.secrets_changed AS withheld_columns, l.txn,
         s.sealed_at
    FROM smam.audit_log l
    LEFT JOIN smam.audit_seal s ON s.txn OPERATOR(pg_catalog.=) l.txn
    LEFT JOIN smam.audit_commit c ON c.txn OPERATOR(pg_catalog.=) l.txn;
COMMENT ON VIEW smam.audit_trail IS
  'The audit log as an auditor reads it: one row per change, in chain order by (position, ordinal)';

-- One row per changed column: old -> new. Columns whose values are withheld
-- (named *_secret) read "(withheld)".
CREATE VIEW smam.audit_change WITH (security_invoker = true) AS
  SELECT t.seq, t.ordinal, t.changed_at, t.actor, t.office, t.application,
         t.table_name, t.operation, t.row_key, t.department_id,
         c.column_name, t.old_values OPERATOR(pg_catalog.->>) c.column_name AS old_value,
         t.new_values OPERATOR(pg_catalog.->>) c.column_name AS new_value, false AS withheld
    FROM smam.audit_trail t,
         LATERAL (SELECT k FROM pg_catalog.jsonb_object_keys(COALESCE(t.new_values, t.old_values)) k) AS c(column_name)
  UNION ALL
  SELECT t.seq, t.ordinal, t.changed_at, t.actor, t.office, t.application,
         t.table_name, t.operation, t.row_key, t.department_id,
         c.column_name, '(withheld)', '(withheld)', true
    FROM smam.audit_trail t, pg_catalog.unnest(t.withheld_columns) AS c(column_name);
COMMENT ON VIEW smam.audit_change IS
  'The audit log one changed column per row: column, old value -> new value (values of *_secret columns withheld)';

-- The planner costs a BRIN lookup by the column's physical correlation,
-- which means nothing to a bloom filter: with a row_key that ANALYZE finds
-- uncorrelated, it expects every range to match and reads the whole log (a
-- second instead of milliseconds at ten million rows). history() always
-- wants the index, so sequential scans are off inside it.
CREATE FUNCTION smam.history(tbl regclass, key text)
  RETURNS SETOF smam.audit_trail LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  SET enable_seqscan = off
  AS $$
    SELECT t.* FROM smam.audit_trail t
     WHERE t.table_name = (SELECT (n.nspname::text || '.' || c.relname::text) COLLATE "C"
                             FROM pg_catalog.pg_class c
                             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                            WHERE c.oid = tbl)
       AND t.row_key = key COLLATE "C"
     ORDER BY t.seq NULLS LAST, t.ordinal
  $$;
COMMENT ON FUNCTION smam.history(regclass, text) IS
  'One object''s story: every change of the row with this primary key, in chain order';

-- Who reads the log: the administrator, the entity and TBS see every row;
-- department roles see the rows of their departments.
ALTER TABLE smam.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.audit_seal ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.audit_checkpoint ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.audit_commit ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON smam.audit_log FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE FUNCTION smam.audit_hash_check(OUT implementation text, OUT cases integer,
                                      OUT failures integer)
  RETURNS record LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'smam_audit_hash_check';
COMMENT ON FUNCTION smam.audit_hash_check() IS
  'Administrator: which SHA-256 implementation the audit uses on this processor, and how many of its test cases (FIPS 180-4 examples, every length to 1,100 bytes) it gets wrong (should be 0)';

CREATE POLICY audit_seal_read ON smam.audit_seal FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
CREATE POLICY audit_checkpoint_read ON smam.audit_checkpoint FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
CREATE POLICY audit_commit_read ON smam.audit_commit FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
GRANT SELECT ON smam.audit_log, smam.audit_seal, smam.audit_checkpoint, smam.audit_commit,
  smam.audit_trail, smam.audit_change TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.verify_audit_log(), smam.verify_audit_log(text), smam.audit_digest(),
  smam.history(regclass, text) TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.archive_audit_log(bigint, text, text), smam.audit_export(bigint),
  smam.audit_hash_check(), smam.seal_audit_log() TO smam_admin;

SELECT pg_catalog.pg_extension_config_dump('smam.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_seal', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_checkpoint', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_commit', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_txn_seq', '');

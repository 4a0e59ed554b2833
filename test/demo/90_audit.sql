-- The audit log: every change of the steps before, who made it holding which office,
-- and a chain that shows any rewrite.
\pset footer off

-- What happened so far, as an auditor reads it (chain order).
SELECT seq, ordinal, actor, office, table_name, operation, row_key
  FROM smam.audit_trail ORDER BY seq, ordinal LIMIT 12;

-- One department's story, column by column.
SELECT d.id AS dept FROM smam.department d WHERE NOT d.shipped ORDER BY d.id LIMIT 1 \gset
UPDATE smam.department SET name_fr = name_fr || ' (renommé)' WHERE id = :dept;
SELECT seq, changed_at, actor, operation, column_name, old_value, new_value
  FROM smam.audit_change WHERE table_name = 'smam.department' AND row_key = :'dept'::text
 ORDER BY seq, ordinal, column_name;

-- The chain holds; keep its digest somewhere else. Hashes run on the processor's
-- SHA extensions where it has them.
SELECT * FROM smam.verify_audit_log();
SELECT * FROM smam.audit_hash_check();
SELECT digest FROM smam.audit_digest() \gset
\echo :digest

-- Nobody changes the log, its owner included, and nobody truncates an audited table.
\echo '-- Expected refusal: nobody rewrites the audit log, not even a superuser with the triggers on (7.1.1).'
UPDATE smam.audit_log SET acting_role = 'nobody';
\echo '-- Expected refusal: nobody truncates the audit log''s seals either (7.1.1).'
TRUNCATE smam.audit_seal;
\echo '-- Expected refusal: nobody truncates an audited table: its rows would go without an audit row each (7.1.1).'
TRUNCATE smam.instrument_setting;

-- A superuser who turns the triggers off and edits a row is found, to the row.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE smam.audit_log SET new_values = '{"name_fr": "Ministère falsifié"}'
 WHERE table_name = 'smam.department' AND row_key = :'dept'::text AND operation = 'UPDATE';
SELECT holds, seq, txn, ordinal, problem FROM smam.verify_audit_log();
ROLLBACK;

-- More changes later: the chain still passes through the digest kept earlier.
UPDATE smam.department SET name_fr = replace(name_fr, ' (renommé)', '') WHERE id = :dept;
SELECT holds, seq, seals_checked, rows_checked FROM smam.verify_audit_log(:'digest');

#!/usr/bin/env bash
# make bench: the cost of the lifecycle trigger (src/lifecycle.c) on
# smam.account. Plans N accounts, edits each in planning through the
# trigger and with triggers off, and abandons each (a move with its guards,
# its office check and its history row). Prints each figure and the ratio.
set -u
N=${SMAM_BENCH_ACCOUNTS:-1000}
db=smam_bench_lifecycle
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql -d postgres -c "CREATE DATABASE $db"
psql -d $db >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE bench_admin LOGIN IN ROLE smam_admin;
CREATE ROLE bench_head LOGIN IN ROLE smam_department;
SELECT smam.register_principal('bench_admin', 'Admin', 'bench.admin@example.gc.ca');
SELECT smam.appoint('bench_admin', 'administrator');
SET ROLE bench_admin;
SELECT smam.add_department('Department of Benchmarks');
SELECT smam.register_principal('bench_head', 'Head', 'bench.head@example.gc.ca', 1);
SELECT smam.appoint('bench_head', 'head_of_communications', 1);
SQL
psql -d $db -At <<SQL
SET ROLE bench_head;
CREATE TEMP TABLE t (what text, ms float8);
DO \$\$
DECLARE t0 timestamptz;
BEGIN
  t0 := clock_timestamp();
  PERFORM smam.plan_account(1, 'x', 'https://x.com/bench' || i, 'Bench ' || i, NULL, 'english')
     FROM generate_series(1, $N) i;
  INSERT INTO t VALUES ('plan', 1000 * extract(epoch FROM clock_timestamp() - t0));
  t0 := clock_timestamp();
  UPDATE smam.account SET purpose = 'edited';
  INSERT INTO t VALUES ('edit_as_head', 1000 * extract(epoch FROM clock_timestamp() - t0));
END
\$\$;
RESET ROLE;
SET session_replication_role = replica;
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  UPDATE smam.account SET purpose = 'edited before';
  INSERT INTO t VALUES ('edit_without_triggers', 1000 * extract(epoch FROM clock_timestamp() - t0));
END
\$\$;
RESET session_replication_role;
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  UPDATE smam.account SET purpose = 'edited by the owner';
  INSERT INTO t VALUES ('edit', 1000 * extract(epoch FROM clock_timestamp() - t0));
END
\$\$;
SET ROLE bench_head;
DO \$\$
DECLARE t0 timestamptz;
BEGIN
  t0 := clock_timestamp();
  PERFORM smam.abandon_account(id, 'benchmark') FROM smam.account;
  INSERT INTO t VALUES ('abandon', 1000 * extract(epoch FROM clock_timestamp() - t0));
END
\$\$;
RESET ROLE;
SET session_replication_role = replica;
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  UPDATE smam.account SET purpose = 'edited again';
  INSERT INTO t VALUES ('edit_without_triggers', 1000 * extract(epoch FROM clock_timestamp() - t0));
END
\$\$;
SELECT format('plan_account: %s accounts in %s ms, %s us each', $N, round(ms::numeric, 1), round((1000 * ms / $N)::numeric, 1)) FROM t WHERE what = 'plan';
SELECT format('plain UPDATE in planning by the head (row-level security and trigger): %s us per row', round((1000 * ms / $N)::numeric, 1)) FROM t WHERE what = 'edit_as_head';
SELECT format('plain UPDATE in planning by the owner through the trigger: %s us per row', round((1000 * ms / $N)::numeric, 1)) FROM t WHERE what = 'edit';
SELECT format('plain UPDATE by the owner with triggers off (mean of a run before and after): %s us per row', round((1000 * avg(ms) / $N)::numeric, 1)) FROM t WHERE what = 'edit_without_triggers';
SELECT format('ratio trigger / no trigger (edit): %s', round((a.ms / nullif(b.ms, 0))::numeric, 2)) FROM t a, (SELECT avg(ms) AS ms FROM t WHERE what = 'edit_without_triggers') b WHERE a.what = 'edit';
SELECT format('abandon (planning -> disposed, guards, office, history): %s us per move', round((1000 * ms / $N)::numeric, 1)) FROM t WHERE what = 'abandon';
SQL
psql -d postgres -c "DROP DATABASE $db"
psql -d postgres -c "DROP ROLE bench_admin, bench_head"

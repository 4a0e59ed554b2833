#!/usr/bin/env bash
# The audit log as it grows to ten million rows (SMAM_BENCH_AUDIT_ROWS):
# one table in time order (BRIN on tx_time, a BRIN bloom index for history, the
# primary key for verification), no partitions. 100,000 accounts are
# updated in bulk, one transaction of 100,000 audited rows at a time, until
# the log holds the target. Measured at the start (100,000 rows) and at the
# end, the same way, and printed with the ratio end/start:
#   - single-row updates of an account (pgbench, 2 clients, TPS);
#   - smam.history() of a random account (pgbench, mean latency), and at the
#     end also right after one more bulk update, before its ranges are summarized;
#   - smam.audit_digest() (mean latency);
#   - one transaction's 100,000 rows found by tx_time (BRIN; mean latency);
# then the sizes, verify_audit_log() over the whole log (rows per second),
# and smam.archive_audit_log() of the older half (exported first with
# smam.audit_export(); the archive hashes the period again to check the
# export, and that is timed with the removal) with verification of what remains.
set -euo pipefail
DB=bench_audit_growth
TARGET=${SMAM_BENCH_AUDIT_ROWS:-10000000}
SECS=${SMAM_BENCH_SECONDS:-5}
psql_db() { "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d $DB "$@"; }
"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS bench_growth_admin" -c "CREATE DATABASE $DB" 2>/dev/null
psql_db >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION smam;
CREATE ROLE bench_growth_admin LOGIN IN ROLE smam_admin;
DO $$ BEGIN
  PERFORM smam.add_department('Growth Department', 'Ministère de la croissance');
  PERFORM smam.register_principal(current_user, 'Benchmark', 'bench@example.gc.ca', 1);
  PERFORM smam.appoint(current_user, 'department_staff', 1, now() - interval '1 day');
  PERFORM smam.register_principal('bench_growth_admin', 'Admin', 'admin@example.gc.ca');
  PERFORM smam.appoint('bench_growth_admin', 'administrator', NULL, now() - interval '1 day');
END $$;
INSERT INTO smam.account (department_id, platform, handle, url, url_key, name_en, official_language, stage)
  SELECT 1, 'youtube', 'grow' || g, 'https://www.youtube.com/@grow' || g,
         'https://www.youtube.com/@grow' || g, 'Growth account ' || g, 'bilingual', 'planning'
    FROM generate_series(1, 100000) g;
VACUUM ANALYZE;
SQL

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# pgbench on a one-line script: "tps" or "latency" (ms).
pgb() {
  local what=$1 clients=$2 line=$3 script out
  script=$(mktemp)
  printf '\\set id random(1, 100000)\n%s\n' "$line" >"$script"
  chmod a+r "$script"
  out=$("$PGBIN/pgbench" -n -c "$clients" -j "$clients" -T "$SECS" -f "$script" $DB 2>/dev/null)
  rm -f "$script"
  if [ "$what" = tps ]; then
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out"
  else
    sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out"
  fi
}

# One transaction's rows found by tx_time (the BRIN index): the transaction
# sealed at the middle of the chain, 100,000 rows, as large at either size.
txn_rows_sql="SELECT count(*) FROM smam.audit_log WHERE tx_time = (SELECT l.tx_time FROM smam.audit_log l WHERE l.ordinal = 1 AND l.txn = (SELECT s.txn FROM smam.audit_seal s WHERE s.rows >= 100000 ORDER BY s.seq OFFSET (SELECT count(*) / 2 FROM smam.audit_seal WHERE rows >= 100000) LIMIT 1));"

measure() {
  local tag=$1
  # What autovacuum does on its own: the log is insert-only, so VACUUM only
  # marks pages all-visible and summarizes the new BRIN ranges.
  psql_db -c "VACUUM ANALYZE smam.account" -c "VACUUM ANALYZE smam.audit_log" -c "VACUUM ANALYZE smam.audit_seal"
  eval "${tag}_tps=\$(pgb tps 2 \"UPDATE smam.account SET purpose = 'p ' || :client_id || ' ' || random() WHERE id = :id;\")"
  eval "${tag}_hist=\$(pgb latency 1 \"SELECT count(*) FROM smam.history('smam.account', :id::text);\")"
  eval "${tag}_hist_rows=\$(psql_db -c \"SELECT count(*) FROM smam.history('smam.account', '50000')\")"
  eval "${tag}_digest=\$(pgb latency 1 \"SELECT digest FROM smam.audit_digest();\")"
  eval "${tag}_txnrows=\$(pgb latency 1 \"$txn_rows_sql\")"
}

psql_db -c "UPDATE smam.account SET purpose = 'start'"
measure start
start_rows=$(psql_db -c "SELECT count(*) FROM smam.audit_log")

t0=$(date +%s.%N)
rows=$start_rows
i=0
while [ "$rows" -lt "$TARGET" ]; do
  i=$((i + 1))
  psql_db -c "UPDATE smam.account SET purpose = 'batch $i ' || id"
  rows=$((rows + 100000))
  if [ $((i % 10)) -eq 0 ]; then
    psql_db -c "VACUUM smam.account"
  fi
done
t1=$(date +%s.%N)
rows=$(psql_db -c "SELECT count(*) FROM smam.audit_log")
echo "audit rows written to grow the log: $((rows - start_rows)) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s ($(awk -v n="$((rows - start_rows))" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }') rows/s)"
measure end
# history() right after one more bulk update, its 100,000 rows not summarized
# yet (read in full until VACUUM summarizes their ranges).
psql_db -c "UPDATE smam.account SET purpose = 'unsummarized ' || id"
end_tail_hist=$(pgb latency 1 "SELECT count(*) FROM smam.history('smam.account', :id::text);")

echo "audit log rows at the start: $start_rows"
echo "audit log rows at the end: $rows"
echo "single-row updates, TPS, at the start: $start_tps"
echo "single-row updates, TPS, at the end: $end_tps"
echo "ratio TPS end / start: $(ratio "$end_tps" "$start_tps")"
echo "smam.history() of one account, ms, at the start: $start_hist"
echo "smam.history() of one account, ms, at the end: $end_hist"
echo "smam.history() rows of one account at the start: $start_hist_rows; at the end: $end_hist_rows"
echo "smam.history() of one account, ms, at the end, the last 100,000 rows not summarized: $end_tail_hist"
echo "ratio history latency end / start: $(ratio "$end_hist" "$start_hist")"
echo "ratio history latency per row returned, end / start: $(awk -v a="$end_hist" -v b="$start_hist" -v ra="$end_hist_rows" -v rb="$start_hist_rows" 'BEGIN { printf "%.2f", (a / ra) / (b / rb) }')"
echo "smam.audit_digest(), ms, at the start: $start_digest"
echo "smam.audit_digest(), ms, at the end: $end_digest"
echo "ratio digest latency end / start: $(ratio "$end_digest" "$start_digest")"
echo "one transaction's 100,000 rows by tx_time, ms, at the start: $start_txnrows"
echo "one transaction's 100,000 rows by tx_time, ms, at the end: $end_txnrows"
echo "ratio time-range latency end / start: $(ratio "$end_txnrows" "$start_txnrows")"
psql_db -F '|' <<'SQL' | while IFS='|' read -r what size; do echo "size of $what: $size"; done
SELECT 'smam.audit_log (heap)', pg_size_pretty(pg_relation_size('smam.audit_log'))
UNION ALL SELECT i.indexrelid::regclass::text, pg_size_pretty(pg_relation_size(i.indexrelid))
  FROM pg_index i WHERE i.indrelid = 'smam.audit_log'::regclass
UNION ALL SELECT 'smam.audit_seal', pg_size_pretty(pg_total_relation_size('smam.audit_seal'));
SQL

read -r holds checked ms < <(psql_db -F ' ' -c '\timing on' -c "SELECT holds, rows_checked FROM smam.verify_audit_log()" \
  | sed 's/^Time: \([0-9.]*\) ms.*/\1/' | tr '\n' ' ') || true
echo "verify_audit_log over the whole log: holds $holds, rows checked $checked, ms $ms"
echo "verify_audit_log, rows per second: $(awk -v r="$checked" -v t="$ms" 'BEGIN { printf "%d", r / (t / 1000) }')"

# The seal at which half the rows are behind.
half=$(psql_db -c "SELECT seq FROM (SELECT seq, sum(rows) OVER (ORDER BY seq) AS upto FROM smam.audit_seal) s
                    WHERE upto >= (SELECT sum(rows) / 2 FROM smam.audit_seal) ORDER BY seq LIMIT 1")
export_sha=$(psql_db -c "SET ROLE bench_growth_admin" -c "SELECT x FROM smam.audit_export($half) x" | sha256sum | cut -c1-64)
read -r seals archived ms < <(psql_db -F ' ' -c 'SET smam.audit_archive_min_age = 0' -c '\timing on' \
  -c "SET ROLE bench_growth_admin; SELECT seals_archived, rows_archived FROM smam.archive_audit_log($half, '$export_sha', 'exported by the benchmark')" \
  | sed 's/^Time: \([0-9.]*\) ms.*/\1/' | tr '\n' ' ') || true
echo "archive_audit_log of the older half: $seals seals, $archived rows, ms $ms"
read -r holds checked ms < <(psql_db -F ' ' -c '\timing on' -c "SELECT holds, rows_checked FROM smam.verify_audit_log()" \
  | sed 's/^Time: \([0-9.]*\) ms.*/\1/' | tr '\n' ' ') || true
echo "verify_audit_log after archiving: holds $holds, rows checked $checked, ms $ms"
psql_db -c "UPDATE smam.account SET purpose = 'after the archive' WHERE id = 1"
echo "the chain continues after the archive: $(psql_db -c "SELECT holds FROM smam.verify_audit_log()")"
"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE bench_growth_admin"

#!/usr/bin/env bash
# Compliance and the public index at scale: the compliance summary, the
# findings view and the canada.ca feed export on 10,000 and then 100,000
# onboarded accounts over 500 departments (every account lacks a plan, its
# submissions and its specifications, so findings are many). Prints each
# time (best of five, in ms: the machine may be shared, and the best run is
# the one least disturbed) and the ratio between the two sizes; the
# target is each under 1,000 ms at 100,000 accounts and a ratio of at most 12.
# The feed export lines time what a client that exports the feed waits for:
# the document computed, put through its type's output function and sent
# over the connection to psql, which writes it to a file (/dev/null),
# measured by psql's \timing. The "function alone" lines time the feed
# itself (pg_column_size of the result). Earlier runs timed the export as
# length(feed::text), which adds the text type's input function (a second
# copy of the document) and a count of its characters that no client pays
# for; at 15MB those two are dominated by cache misses on this machine.
set -euo pipefail
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS bench_compliance" -c "CREATE DATABASE bench_compliance"
PSQL=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d bench_compliance)
"${PSQL[@]}" <<'SQL'
CREATE EXTENSION smam;
SELECT smam.record_effective_date(c, '2014-01-01', 'bench') FROM unnest(ARRAY['6.1.3', '6.2.3', '6.2.4']) c;
INSERT INTO smam.department (name_en, name_fr) SELECT 'Department ' || g, 'Ministère ' || g FROM generate_series(1, 500) g;
CREATE FUNCTION bench_accounts(n int) RETURNS void LANGUAGE sql AS $$
  SELECT count(smam.onboard_account(d.id, p.code, 'https://x.com/a' || g, 'Account <' || g || '> & co', NULL,
                                    (ARRAY['english', 'french', 'bilingual']::smam.official_language[])[1 + g % 3],
                                    'bench'))
    FROM generate_series((SELECT count(*) FROM smam.account)::int + 1, n) g
    CROSS JOIN LATERAL (SELECT x.id FROM smam.department x WHERE x.name_en = 'Department ' || (1 + g % 500)) d
    CROSS JOIN LATERAL (SELECT 'x' AS code) p;
$$;
CREATE FUNCTION bench_ms(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best numeric; ms numeric;
BEGIN
  FOR i IN 1..5 LOOP
    t0 := clock_timestamp();
    EXECUTE q;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    best := least(coalesce(best, ms), ms);
  END LOOP;
  RETURN round(best, 1);
END $$;
CREATE TABLE bench_result (size int, what text, ms numeric);
SQL
# Best of five exports of a feed to a file through psql, in ms.
export_ms() {
  for _ in 1 2 3 4 5; do printf '\\timing on\nSELECT smam.%s(%s) \\g /dev/null\n' "$1" "'en'"; done \
    | "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d bench_compliance \
    | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | awk 'NR == 1 { printf "%.1f\n", $1 }'
}
measure() {
  # Settled first: the rows just written vacuumed, their WAL checkpointed.
  "$PGBIN/psql" -X -q -d bench_compliance -c "VACUUM ANALYZE" -c "CHECKPOINT"
  "${PSQL[@]}" -c "INSERT INTO bench_result
    SELECT $1, 'compliance summary', bench_ms('SELECT count(*) FROM smam.compliance_summary')
    UNION ALL SELECT $1, 'compliance findings', bench_ms('SELECT count(*) FROM smam.compliance_findings')
    UNION ALL SELECT $1, 'compliance by department', bench_ms('SELECT count(*) FROM smam.compliance_by_department')
    UNION ALL SELECT $1, 'public index feed export (jsonb)', $(export_ms public_index_feed)
    UNION ALL SELECT $1, 'public index feed export (json file)', $(export_ms public_index_feed_json)
    UNION ALL SELECT $1, 'public index feed, function alone (jsonb)', bench_ms('SELECT pg_column_size(smam.public_index_feed(''en''))')
    UNION ALL SELECT $1, 'public index feed, function alone (json file)', bench_ms('SELECT pg_column_size(smam.public_index_feed_json(''en''))')"
}
"${PSQL[@]}" -c "SELECT bench_accounts(10000)" >/dev/null
measure 10000
"${PSQL[@]}" -c "SELECT bench_accounts(100000)" >/dev/null
measure 100000
"${PSQL[@]}" -F ' ' -c "SELECT what, size, ms FROM bench_result ORDER BY what, size" | while read -r line; do
  what=${line% * *}; rest=${line##"$what "}; echo "$what at ${rest% *} accounts (ms): ${rest#* }"
done
"${PSQL[@]}" -F '|' -c "SELECT a.what, round(b.ms / greatest(a.ms, 1), 1) FROM bench_result a JOIN bench_result b USING (what)
                         WHERE a.size = 10000 AND b.size = 100000 ORDER BY a.what" | while IFS='|' read -r what r; do
  echo "ratio $what 100,000 / 10,000: $r"
done
"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE bench_compliance"

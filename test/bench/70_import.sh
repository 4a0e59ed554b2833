#!/usr/bin/env bash
# Importing the canada.ca index: the real file (test/data, 1,865 rows) and a
# synthetic file ten times larger made from it (each row ten times, under
# ten addresses, the same departments), each into an empty database (every
# account onboarded through the life cycle's trigger and the audit log) and
# again (every row unchanged). Prints each time (best of three, in ms) and
# the ratio of the large file to the real one: linear is 10.
set -euo pipefail
DATA="$SMAM_RUN/src/test/data/gc-social-media-index/sm.csv"
export PGOPTIONS="-c client_min_messages=warning"
PSQL=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "DROP TABLE IF EXISTS bench_import_result" \
  -c "CREATE TABLE bench_import_result (file text, what text, ms numeric)"
# The large file: each data row ten times, its address suffixed 0 to 9
# (before a trailing slash or query), so that each copy is another account.
TEN="$SMAM_RUN/ten-times.csv"
{ head -1 "$DATA"; for k in 0 1 2 3 4 5 6 7 8 9; do
    tail -n +2 "$DATA" | sed -E "s#(https?://[^,]*[^/,?])([/?][^,]*)?(,|\$)#\1$k\2\3#"
  done; } >"$TEN"
chmod a+r "$TEN"
for file in real 'ten times'; do
  for run in 1 2 3; do
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_import" -c "CREATE DATABASE bench_import"
    "${PSQL[@]}" -d bench_import -c "CREATE EXTENSION smam" >/dev/null
    for what in 'into an empty database' 'again'; do
      ms=$("${PSQL[@]}" -d bench_import <<SQL
CREATE TEMP TABLE f AS SELECT pg_read_file('$([ "$file" = real ] && echo "$DATA" || echo "$TEN")') AS csv;
SELECT clock_timestamp() AS t0 \\gset
SELECT rows_read FROM smam.import_index((SELECT csv FROM f)) \\g /dev/null
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 1);
SQL
)
      "${PSQL[@]}" -d postgres -c "INSERT INTO bench_import_result VALUES ('$file', '$what', $ms)"
    done
  done
done
"${PSQL[@]}" -d postgres -F '|' -c "SELECT what, file, min(ms) FROM bench_import_result GROUP BY 1, 2 ORDER BY 1, 2" \
  | while IFS='|' read -r what file ms; do echo "import of the $file file $what (ms): $ms"; done
"${PSQL[@]}" -d postgres -F '|' -c "
  SELECT a.what, round(min(b.ms) / min(a.ms), 1) FROM bench_import_result a JOIN bench_import_result b USING (what)
   WHERE a.file = 'real' AND b.file = 'ten times' GROUP BY a.what ORDER BY 1" \
  | while IFS='|' read -r what r; do echo "ratio ten times / real, $what: $r (linear: 10)"; done
"${PSQL[@]}" -d postgres -c "DROP DATABASE bench_import" -c "DROP TABLE bench_import_result"

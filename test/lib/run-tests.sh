#!/usr/bin/env bash
# `make test`: packages, build, private install, a throwaway cluster, then
# every test: pg_regress (sql/ + expected/), pgTAP (test/pgtap/*.sql through
# TAP::Harness, as pg_prove does) and Perl TAP (test/perl/*.pl). The cluster
# is removed whatever happens. Last line: "N passed, N failed".
set -u
. "$(dirname "$0")/common.sh"

smam_ensure_packages
smam_build || { echo "0 passed, 1 failed"; exit 1; }
smam_setup_run
trap smam_remove_run EXIT
smam_start_cluster || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0

# ---- pg_regress ----
tests=$(cd "$SMAM_TOP/expected" && ls *.out 2>/dev/null | sed 's/\.out$//' | sort | tr '\n' ' ')
if [ -n "$tests" ]; then
  say "pg_regress: $tests"
  as_owner PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
    "$PGXS_DIR/src/test/regress/pg_regress" --inputdir="$SMAM_RUN/src" --outputdir="$SMAM_RUN/regress" \
    --bindir="$PGBIN" --host="$PGHOST" --port="$PGPORT" --user=postgres --dbname=contrib_regression \
    $tests >"$SMAM_RUN/regress.log" 2>&1
  cat "$SMAM_RUN/regress.log"
  p=$(grep -cE '\.\.\. ok' "$SMAM_RUN/regress.log"); f=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$SMAM_RUN/regress.log")
  if [ $((p + f)) -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ -n "${SMAM_RESULTS_DIR:-}" ]; then mkdir -p "$SMAM_RESULTS_DIR" && cp "$SMAM_RUN"/regress/results/*.out "$SMAM_RESULTS_DIR"/ 2>/dev/null; fi
  if [ -s "$SMAM_RUN/regress/regression.diffs" ]; then
    say "regression.diffs (first 200 lines):"; head -200 "$SMAM_RUN/regress/regression.diffs"
  fi
fi

# ---- pgTAP and Perl TAP ----
files=$(cd "$SMAM_RUN/src" && ls test/pgtap/*.sql test/perl/*.pl 2>/dev/null | sort)
if [ -n "$files" ]; then
  say "TAP: $(echo $files)"
  # The sessions run 19 hours ahead of smam.time_zone (America/Toronto), so a
  # test or a function that takes the session's date for smam's fails most
  # hours of the day, not only in Ottawa's evening. pg_regress sets its own.
  as_owner PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres PATH="$PGBIN:$PATH" \
    PGTZ="${SMAM_TEST_TZ:-Pacific/Kiritimati}" \
    PERL5LIB="$PGXS_DIR/src/test/perl" TESTDIR="$SMAM_RUN/tap" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
    SMAM_SRC="$SMAM_RUN/src" SMAM_DATA_DIR="$SMAM_RUN/src/test/data" \
    perl "$SMAM_RUN/src/test/lib/harness.pl" --psql "$PGBIN/psql" --dir "$SMAM_RUN/src" $files \
    | tee "$SMAM_RUN/tap.log"
  counts=$(sed -n 's/^HARNESS \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$SMAM_RUN/tap.log" | tail -1)
  if [ -z "$counts" ]; then counts="0 1"; fi
  passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

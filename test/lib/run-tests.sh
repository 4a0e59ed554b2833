#!/usr/bin/env bash
# `make test`: packages, build, private install, a throwaway cluster, then
# every test, in two passes:
#   socket: pg_regress (sql/ + expected/), pgTAP (test/pgtap/*.sql through
#           TAP::Harness, as pg_prove does) and Perl TAP (test/perl/*.pl), over
#           Unix sockets with trust;
#   tcp:    every TAP file once more as smam is deployed, as an application
#           connects: over 127.0.0.1 with scram-sha-256 (pgTAP in its own
#           database, smam_tap_tcp; Perl TAP with SMAM_TEST_TCP=1, see
#           test/lib/SmamTest.pm).
# SMAM_TEST_PASSES=socket (or tcp) runs one of them. The cluster is removed
# whatever happens. Last line: "N passed, N failed", both passes summed.
set -u
. "$(dirname "$0")/common.sh"

passes=${SMAM_TEST_PASSES:-socket tcp}
for pass in $passes; do
  case "$pass" in
    socket|tcp) ;;
    *) echo "SMAM_TEST_PASSES: unknown pass '$pass' (socket, tcp)" >&2; echo "0 passed, 1 failed"; exit 1 ;;
  esac
done

# pg_cron: test/perl/12_doc_examples.pl runs docs/publishing.md's pg_cron recipes.
# The clients of test/perl/19_clients.pl (docs/clients.md): psycopg 3 and 2,
# unixODBC with psqlODBC and pyodbc, pgJDBC and a Java runtime to run it.
smam_ensure_packages postgresql-$PG_MAJOR-cron python3-psycopg python3-psycopg2 \
  odbc-postgresql python3-pyodbc libpostgresql-jdbc-java default-jre-headless
smam_build || { echo "0 passed, 1 failed"; exit 1; }
smam_setup_run
trap smam_remove_run EXIT
smam_start_cluster || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0

# ---- pg_regress (socket pass) ----
tests=$(cd "$SMAM_TOP/expected" && ls *.out 2>/dev/null | sed 's/\.out$//' | sort | tr '\n' ' ')
if [ -n "$tests" ] && [[ " $passes " == *" socket "* ]]; then
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

# ---- pgTAP and Perl TAP, once per pass ----
pgtap_files=$(cd "$SMAM_RUN/src" && ls test/pgtap/*.sql 2>/dev/null | sort)
perl_files=$(cd "$SMAM_RUN/src" && ls test/perl/*.pl 2>/dev/null | sort)
for pass in $passes; do
  files="$pgtap_files $perl_files"
  case "$pass" in
    socket) host=$PGHOST; db=smam_tap; tcp=0 ;;
    tcp)    host=127.0.0.1; db=smam_tap_tcp; tcp=1
            # The shared cluster must take the password over TCP before psql is
            # left to ask for one (-w: fail, never prompt).
            addr=$(as_owner PGHOST=127.0.0.1 PGPORT="$PGPORT" PGUSER=postgres PGPASSFILE="$PGPASSFILE" \
                     "$PGBIN/psql" -X -w -At -d postgres -c 'SELECT inet_client_addr()' 2>&1)
            if [ "$addr" != 127.0.0.1 ]; then
              say "tcp pass: the cluster refused postgres on 127.0.0.1:$PGPORT ($addr); pgTAP files not run"
              failed=$((failed + 1)); files=$perl_files
            fi ;;
  esac
  [ -n "$(echo $files)" ] || continue
  say "TAP, $pass pass: $(echo $files)"
  # The sessions run 19 hours ahead of smam.time_zone (America/Toronto), so a
  # test or a function that takes the session's date for smam's fails most
  # hours of the day, not only in Ottawa's evening. pg_regress sets its own.
  as_owner PGHOST="$host" PGPORT="$PGPORT" PGUSER=postgres PGPASSFILE="$PGPASSFILE" PATH="$PGBIN:$PATH" \
    PGTZ="${SMAM_TEST_TZ:-Pacific/Kiritimati}" SMAM_TEST_TCP=$tcp \
    PERL5LIB="$PGXS_DIR/src/test/perl:$SMAM_RUN/src/test/lib" TESTDIR="$SMAM_RUN/tap/$pass" \
    PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
    SMAM_SRC="$SMAM_RUN/src" SMAM_DATA_DIR="$SMAM_RUN/src/test/data" \
    perl "$SMAM_RUN/src/test/lib/harness.pl" --psql "$PGBIN/psql" --dir "$SMAM_RUN/src" \
      --dbname "$db" --label "$pass" $files \
    | tee "$SMAM_RUN/tap-$pass.log"
  counts=$(sed -n 's/^HARNESS \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$SMAM_RUN/tap-$pass.log" | tail -1)
  if [ -z "$counts" ]; then counts="0 1"; fi
  say "$pass pass: ${counts% *} passed, ${counts#* } failed"
  passed=$((passed + ${counts% *})); failed=$((failed + ${counts#* }))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# `make demo`: packages, build, private install, a cluster that stays up,
# then the tour: test/demo/*.sql (through psql, echoing each statement) and
# test/demo/*.sh (through bash), in name order.
set -u
. "$(dirname "$0")/common.sh"

smam_ensure_packages
smam_build
smam_setup_run
smam_start_cluster || { smam_remove_run; exit 1; }
SMAM_DEMO_DB=smam_demo
psql_q -d postgres -c "CREATE DATABASE $SMAM_DEMO_DB" >/dev/null
export SMAM_DEMO_DB SMAM_RUN PGBIN SMAM_TOP
status=0
for step in $(cd "$SMAM_RUN/src/test/demo" && ls | sort); do
  f=$SMAM_RUN/src/test/demo/$step
  printf '\n######## %s ########\n' "$step"
  case "$step" in
    *.sql) as_owner PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres SMAM_DATA_DIR="$SMAM_RUN/src/test/data" \
             "$PGBIN/psql" -X -d "$SMAM_DEMO_DB" -v ON_ERROR_STOP=0 --echo-queries -P pager=off -f "$f" 2>&1 || status=1 ;;
    *.sh)  bash "$f" || status=1 ;;
  esac
done
if [ "$(id -u)" -eq 0 ]; then as="runuser -u $SMAM_OS_USER -- "; else as=""; fi
cat <<MSG

The demo cluster is still running (data in $SMAM_RUN/data).
Connect:  $PGBIN/psql -h $PGHOST -p $PGPORT -U postgres -d $SMAM_DEMO_DB
Over TCP: $as${PGBIN}/psql "host=127.0.0.1 port=$PGPORT user=postgres dbname=$SMAM_DEMO_DB passfile=$PGPASSFILE"
Stop it:  $as$PGBIN/pg_ctl -D $SMAM_RUN/data stop && rm -rf $SMAM_RUN
MSG
exit $status

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
cat <<'MSG'

smam refuses what the Standard forbids, and the demo shows some refusals on purpose: each
ERROR below comes right after a line "-- Expected refusal: ..." that says why.
MSG
status=0
# Each refusal the demo shows on purpose is announced just before it
# ("-- Expected refusal: ..."); test/perl/13_demo_refusals.pl holds it to that.
as_owner PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres PGBIN="$PGBIN" SMAM_TOP="$SMAM_RUN/src" \
  SMAM_DEMO_DB="$SMAM_DEMO_DB" SMAM_DATA_DIR="$SMAM_RUN/src/test/data" \
  bash "$SMAM_RUN/src/test/lib/demo_steps.sh" || status=1
if [ "$(id -u)" -eq 0 ]; then as="runuser -u $SMAM_OS_USER -- "; else as=""; fi
cat <<MSG

The demo cluster is still running (data in $SMAM_RUN/data).
Connect:  $PGBIN/psql -h $PGHOST -p $PGPORT -U postgres -d $SMAM_DEMO_DB
Over TCP: $as${PGBIN}/psql "host=127.0.0.1 port=$PGPORT user=postgres dbname=$SMAM_DEMO_DB passfile=$PGPASSFILE"
Stop it:  $as$PGBIN/pg_ctl -D $SMAM_RUN/data stop && rm -rf $SMAM_RUN
MSG
exit $status

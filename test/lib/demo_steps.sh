#!/usr/bin/env bash
# The demo's steps, in name order: test/demo/*.sql through psql (echoing each
# statement, going on after an error) and test/demo/*.sh through bash, against
# database $SMAM_DEMO_DB of the cluster that PGHOST, PGPORT and PGUSER name.
# Run by test/lib/demo.sh (`make demo`) and by test/perl/13_demo_refusals.pl,
# which checks that every refusal the steps show is announced as expected.
# Needs PGBIN, SMAM_TOP, SMAM_DEMO_DB and SMAM_DATA_DIR; exits non-zero when a
# step could not run at all.
set -u
status=0
for step in $(cd "$SMAM_TOP/test/demo" && ls | sort); do
  f=$SMAM_TOP/test/demo/$step
  printf '\n######## %s ########\n' "$step"
  case "$step" in
    *.sql) "$PGBIN/psql" -X -d "$SMAM_DEMO_DB" -v ON_ERROR_STOP=0 --echo-queries -P pager=off -f "$f" 2>&1 || status=1 ;;
    *.sh)  bash "$f" 2>&1 || status=1 ;;
  esac
done
exit $status

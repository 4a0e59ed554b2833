#!/usr/bin/env bash
# `make bench`: packages, build, private install, a cluster tuned for
# benchmarking (synchronous_commit = off), then every test/bench/*.sh in
# name order. Each prints its figures and the ratios against baselines it
# measured in the same run; none of them fails on a time.
# SMAM_BENCH=delivery make bench runs only the steps whose name contains "delivery".
set -u
. "$(dirname "$0")/common.sh"

smam_ensure_packages postgresql-contrib nginx-light wrk bc
smam_build
smam_setup_run
trap smam_remove_run EXIT
smam_start_cluster || exit 1
psql_q -d postgres -c "ALTER SYSTEM SET synchronous_commit = off" -c "SELECT pg_reload_conf()" >/dev/null
export SMAM_RUN PGBIN SMAM_TOP PGXS_DIR SMAM_OS_USER
# SMAM_BENCH=pattern runs only the steps whose file name contains it.
for b in $(cd "$SMAM_RUN/src/test/bench" 2>/dev/null && ls *.sh | sort | grep -- "${SMAM_BENCH:-}"); do
  printf '\n######## %s ########\n' "$b"
  bash "$SMAM_RUN/src/test/bench/$b"
done

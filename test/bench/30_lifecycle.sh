#!/usr/bin/env bash
# make bench: the cost of the lifecycle trigger (src/lifecycle.c) on
# smam.account. Plans N accounts, edits each in planning through the
# trigger and with triggers off, and abandons each (a move with its guards,
# its office check and its history row). Then onboards N live accounts and
# compares an UPDATE of a free column (purpose) through smam's trigger with
# the same UPDATE on a plain copy of the table guarded by a PL/pgSQL trigger
# making the equivalent checks. Prints each figure and the ratios.
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
RESET ROLE;
-- The owner edits through the trigger too: it changes an account only
-- holding an office that may (authorization comes first).
SELECT smam.register_principal('postgres', 'Owner', 'bench.owner@example.gc.ca', 1);
SET ROLE bench_admin;
SELECT smam.appoint('postgres', 'head_of_communications', 1);
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
# ---- a free column of a live account: smam (C) against a PL/pgSQL trigger ----
# smam's trigger, for an UPDATE of purpose on a live account, first checks
# that the acting role holds an office that may change the department's
# accounts (authorization before state, issue 15: once per statement for a
# role and department, remembered until an appointment changes), then reads
# the stage, compares the columns that never change, the address and plan,
# and the four configuration columns, and finds nothing else to guard.
# bench_guard_office() below does the same in PL/pgSQL on a plain copy of the
# table (same columns, indexes, rows and foreign keys of its own, no
# row-level security), looking up the actor's office with a plain SQL EXISTS
# on smam.appointment on every row, the way a PL/pgSQL guard is written; it
# is the like-for-like baseline. bench_guard() skips the office on edits (as
# smam did before issue 15); its ratio is printed too. Each UPDATE runs 5
# times, interleaved, after a VACUUM; best of 5.
psql -d $db >/dev/null <<SQL
SET client_min_messages = warning;
SELECT smam.onboard_account(1, 'x', 'https://x.com/live' || i, 'Live ' || i, NULL, 'english', 'benchmark')
  FROM generate_series(1, $N) i;
CREATE TABLE public.bench_account (LIKE smam.account INCLUDING ALL);
INSERT INTO public.bench_account SELECT * FROM smam.account;
-- Both tables compact with room on every page, so that every round's
-- UPDATEs are HOT on both and the time compared is the triggers', not the
-- pages' (a fresh copy is full and its first UPDATE rewrites the indexes).
ALTER TABLE smam.account SET (fillfactor = 50);
ALTER TABLE public.bench_account SET (fillfactor = 50);
VACUUM FULL smam.account;
VACUUM FULL public.bench_account;
ALTER TABLE public.bench_account ADD FOREIGN KEY (department_id) REFERENCES smam.department (id),
  ADD FOREIGN KEY (platform) REFERENCES smam.platform (code);
CREATE FUNCTION public.bench_holds(o smam.office, dept bigint) RETURNS boolean LANGUAGE sql STABLE AS \$\$
  SELECT EXISTS (SELECT 1 FROM smam.appointment a
                  WHERE a.principal = current_user::text
                    AND (a.office = o OR (o = 'head_of_communications' AND a.office = 'designate'))
                    AND a.department_id IS NOT DISTINCT FROM dept
                    AND a.valid_from <= now() AND (a.valid_until IS NULL OR a.valid_until > now())) \$\$;
CREATE FUNCTION public.bench_guard() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF (NEW.id, NEW.department_id, NEW.platform, NEW.onboarded, NEW.onboarded_reason, NEW.created_by,
      NEW.created_at, NEW.stage_changed_at, NEW.listed_on)
     IS DISTINCT FROM (OLD.id, OLD.department_id, OLD.platform, OLD.onboarded, OLD.onboarded_reason,
      OLD.created_by, OLD.created_at, OLD.stage_changed_at, OLD.listed_on) THEN
    RAISE EXCEPTION 'column cannot be changed' USING ERRCODE = '55000';
  END IF;
  IF OLD.stage = 'disposed' THEN
    RAISE EXCEPTION 'account has been disposed of' USING ERRCODE = '55000';
  END IF;
  IF (NEW.url, NEW.url_key, NEW.handle, NEW.plan_id) IS DISTINCT FROM (OLD.url, OLD.url_key, OLD.handle, OLD.plan_id)
     AND OLD.stage <> 'planning' THEN
    RAISE EXCEPTION 'address and plan are settled' USING ERRCODE = '55000';
  END IF;
  IF (NEW.configuration, NEW.name_en, NEW.name_fr, NEW.official_language)
     IS DISTINCT FROM (OLD.configuration, OLD.name_en, OLD.name_fr, OLD.official_language) THEN
    IF OLD.stage IN ('creation', 'configuration') AND NOT public.bench_holds('entity_official', NULL) THEN
      RAISE EXCEPTION 'may not configure' USING ERRCODE = '42501';
    END IF;
    IF OLD.stage IN ('implementation', 'evaluation') THEN
      RAISE EXCEPTION 'needs an accepted configuration submission' USING ERRCODE = '55000';
    END IF;
  END IF;
  IF NEW.stage IS DISTINCT FROM OLD.stage AND NOT public.bench_holds('head_of_communications', NEW.department_id) THEN
    RAISE EXCEPTION 'may not move' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END \$\$;
CREATE FUNCTION public.bench_guard_office() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  IF NOT public.bench_holds('head_of_communications', NEW.department_id) THEN
    RAISE EXCEPTION 'may not edit' USING ERRCODE = '42501';
  END IF;
  IF (NEW.id, NEW.department_id, NEW.platform, NEW.onboarded, NEW.onboarded_reason, NEW.created_by,
      NEW.created_at, NEW.stage_changed_at, NEW.listed_on)
     IS DISTINCT FROM (OLD.id, OLD.department_id, OLD.platform, OLD.onboarded, OLD.onboarded_reason,
      OLD.created_by, OLD.created_at, OLD.stage_changed_at, OLD.listed_on) THEN
    RAISE EXCEPTION 'column cannot be changed' USING ERRCODE = '55000';
  END IF;
  IF OLD.stage = 'disposed' THEN
    RAISE EXCEPTION 'account has been disposed of' USING ERRCODE = '55000';
  END IF;
  IF (NEW.url, NEW.url_key, NEW.handle, NEW.plan_id) IS DISTINCT FROM (OLD.url, OLD.url_key, OLD.handle, OLD.plan_id)
     AND OLD.stage <> 'planning' THEN
    RAISE EXCEPTION 'address and plan are settled' USING ERRCODE = '55000';
  END IF;
  IF (NEW.configuration, NEW.name_en, NEW.name_fr, NEW.official_language)
     IS DISTINCT FROM (OLD.configuration, OLD.name_en, OLD.name_fr, OLD.official_language)
     AND OLD.stage IN ('implementation', 'evaluation') THEN
    RAISE EXCEPTION 'needs an accepted configuration submission' USING ERRCODE = '55000';
  END IF;
  RETURN NEW;
END \$\$;
CREATE TRIGGER bench_guard BEFORE UPDATE ON public.bench_account
  FOR EACH ROW EXECUTE FUNCTION public.bench_guard();
CREATE TRIGGER bench_guard_office BEFORE UPDATE ON public.bench_account
  FOR EACH ROW EXECUTE FUNCTION public.bench_guard_office();
ALTER TABLE public.bench_account DISABLE TRIGGER bench_guard_office;
CREATE TABLE public.bench_times (what text, ms float8);
CREATE FUNCTION public.bench_time(what text, q text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz := clock_timestamp();
  n bigint;
BEGIN
  EXECUTE q;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n <> $N THEN RAISE EXCEPTION '% updated % rows, not $N', what, n; END IF;
  INSERT INTO public.bench_times VALUES (what, 1000 * extract(epoch FROM clock_timestamp() - t0));
END \$\$;
ANALYZE;
SQL
for r in 1 2 3 4 5; do
  psql -d $db >/dev/null <<SQL
VACUUM smam.account, public.bench_account;
SELECT public.bench_time('smam', \$\$UPDATE smam.account SET purpose = 'live $r' WHERE stage = 'implementation'\$\$);
SELECT public.bench_time('plpgsql', \$\$UPDATE public.bench_account SET purpose = 'live $r' WHERE stage = 'implementation'\$\$);
ALTER TABLE public.bench_account DISABLE TRIGGER bench_guard, ENABLE TRIGGER bench_guard_office;
SELECT public.bench_time('plpgsql_office', \$\$UPDATE public.bench_account SET purpose = 'live office $r' WHERE stage = 'implementation'\$\$);
ALTER TABLE public.bench_account ENABLE TRIGGER bench_guard, DISABLE TRIGGER bench_guard_office;
ALTER TABLE smam.account DISABLE TRIGGER lifecycle_guard;
SELECT public.bench_time('smam_off', \$\$UPDATE smam.account SET purpose = 'off $r' WHERE stage = 'implementation'\$\$);
ALTER TABLE smam.account ENABLE TRIGGER lifecycle_guard;
ALTER TABLE public.bench_account DISABLE TRIGGER bench_guard;
SELECT public.bench_time('copy_off', \$\$UPDATE public.bench_account SET purpose = 'off $r' WHERE stage = 'implementation'\$\$);
ALTER TABLE public.bench_account ENABLE TRIGGER bench_guard;
SQL
done
psql -d $db -At <<SQL
CREATE TEMP VIEW best AS SELECT what, min(ms) * 1000 / $N AS us FROM public.bench_times GROUP BY what;
SELECT format('live account, UPDATE of purpose by the owner through smam''s trigger (C): %s us per row', round(us::numeric, 2)) FROM best WHERE what = 'smam';
SELECT format('live account, UPDATE of purpose on the plain copy through the PL/pgSQL trigger (the checks, no office on an edit): %s us per row', round(us::numeric, 2)) FROM best WHERE what = 'plpgsql';
SELECT format('ratio smam / PL/pgSQL without the office: %s', round((s.us / p.us)::numeric, 2)) FROM best s, best p WHERE s.what = 'smam' AND p.what = 'plpgsql';
SELECT format('live account, same UPDATE with the guard trigger disabled: smam.account %s us per row, plain copy %s us per row', round(s.us::numeric, 2), round(c.us::numeric, 2)) FROM best s, best c WHERE s.what = 'smam_off' AND c.what = 'copy_off';
SELECT format('ratio of the guards'' own cost (time minus guard disabled), smam / PL/pgSQL: %s', round(((s.us - so.us) / nullif(p.us - co.us, 0))::numeric, 2))
  FROM best s, best so, best p, best co WHERE s.what = 'smam' AND so.what = 'smam_off' AND p.what = 'plpgsql' AND co.what = 'copy_off';
SELECT format('live account, UPDATE of purpose on the plain copy through a PL/pgSQL trigger with an office EXISTS on every row (the same checks as smam): %s us per row', round(us::numeric, 2)) FROM best WHERE what = 'plpgsql_office';
SELECT format('ratio smam / PL/pgSQL with the office (like for like): %s', round((s.us / p.us)::numeric, 2)) FROM best s, best p WHERE s.what = 'smam' AND p.what = 'plpgsql_office';
SQL
psql -d postgres -c "DROP DATABASE $db"
psql -d postgres -c "DROP ROLE bench_admin, bench_head"

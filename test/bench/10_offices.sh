#!/usr/bin/env bash
# holds_office: smam's C function against the same question asked by a SQL
# function and by a PL/pgSQL function, in the same run, on 500 departments
# and 5,000 principals with 10,000 appointments. Prints calls per second and
# the ratios.
set -euo pipefail
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS bench_offices" -c "CREATE DATABASE bench_offices"
PSQL=("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d bench_offices)
"${PSQL[@]}" <<'SQL'
CREATE EXTENSION smam;
INSERT INTO smam.department (name_en) SELECT 'Department ' || g FROM generate_series(1, 500) g;
DO $$ BEGIN
  FOR i IN 1..5000 LOOP EXECUTE format('CREATE ROLE bench_p%s', i); END LOOP;
END $$;
INSERT INTO smam.principal (role_name, display_name, email, department_id)
  SELECT 'bench_p' || g, 'P ' || g, 'p' || g || '@example.gc.ca', 1 + g % 500 FROM generate_series(1, 5000) g;
INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until)
  SELECT 'bench_p' || g, 'department_staff', 1 + g % 500, now() - interval '1 year', now() + interval '1 year' FROM generate_series(1, 5000) g;
INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until)
  SELECT 'bench_p' || g, 'head_of_communications', 1 + g % 500, now() - interval '2 years', now() - interval '1 year' FROM generate_series(1, 5000) g;
ANALYZE;
-- The baselines: the same question, the usual ways.
CREATE FUNCTION bench_sql(r text, o smam.office, d bigint, t timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM smam.appointment a JOIN smam.principal p ON p.role_name = a.principal
                  WHERE a.principal = r AND p.active AND a.office = o AND a.department_id IS NOT DISTINCT FROM d
                    AND a.valid_from <= t AND (a.valid_until IS NULL OR a.valid_until > t)) $$;
CREATE FUNCTION bench_plpgsql(r text, o smam.office, d bigint, t timestamptz) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM smam.appointment a JOIN smam.principal p ON p.role_name = a.principal
                  WHERE a.principal = r AND p.active AND a.office = o AND a.department_id IS NOT DISTINCT FROM d
                    AND a.valid_from <= t AND (a.valid_until IS NULL OR a.valid_until > t));
END $$;
CREATE FUNCTION bench_rate(f text, n int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; hits bigint;
BEGIN
  t0 := clock_timestamp();
  EXECUTE format('SELECT count(*) FILTER (WHERE %s((''bench_p'' || (1 + g %% 5000))::name, ''department_staff'', 1 + (1 + g %% 5000) %% 500, now())) FROM generate_series(1, %s) g', f, n) INTO hits;
  IF hits <> n THEN RAISE EXCEPTION '% answered yes % times of %', f, hits, n; END IF;
  RETURN round(n / extract(epoch FROM clock_timestamp() - t0));
END $$;
SQL
n=100000
read -r c s p < <("${PSQL[@]}" -F ' ' -c "SELECT bench_rate('bench_sql', 2000), bench_rate('bench_plpgsql', 2000), bench_rate('smam.holds_office', 2000)" >/dev/null; \
  "${PSQL[@]}" -F ' ' -c "SELECT bench_rate('smam.holds_office', $n), bench_rate('bench_sql', $n), bench_rate('bench_plpgsql', $n)")
echo "holds_office (C) calls/s: $c"
echo "SQL function calls/s: $s"
echo "PL/pgSQL function calls/s: $p"
echo "ratio C / SQL: $(echo "scale=2; $c / $s" | bc)"
echo "ratio C / PL/pgSQL: $(echo "scale=2; $c / $p" | bc)"
"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE bench_offices"

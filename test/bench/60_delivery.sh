#!/usr/bin/env bash
# Publishing: 20,000 deliveries to a local nginx on loopback, end to end
# from the commit that enqueues them to the last recorded result, sent by
# the background worker with curl multi; against wrk, a load generator,
# POSTing to the same nginx in the same run. Prints deliveries per second,
# wrk's requests per second and the ratio. (The best published figure of
# supabase/pg_net is about 400 requests per second.)
set -euo pipefail
. "$SMAM_TOP/test/lib/common.sh"
N=${SMAM_BENCH_DELIVERIES:-20000}
DB=bench_delivery
work=$SMAM_RUN/bench_delivery
mkdir -p "$work"

# ---- nginx on loopback, answering like a platform ----
port=$(smam_free_port)
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_buffer_size 16k;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$port;
    location /publish/ { default_type application/json; return 200 '{"id":"bench"}'; }
  }
}
CONF
nginx -e "$work/nginx.error.log" -p "$work" -c "$work/nginx.conf"
trap 'kill $(cat "$work/nginx.pid") 2>/dev/null || true' EXIT
sleep 0.5

# ---- the baseline: wrk POSTing the same kind of request ----
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"text": "Bench message / Message de test"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Idempotency-Key"] = "5e0a3c1a-3d1b-4c86-8a3c-1f0f8f2d9a10"
LUA
wrk_rps=$(wrk -t1 -c32 -d5s -s "$work/post.lua" "http://127.0.0.1:$port/publish/bench" | awk '/Requests\/sec/ {print int($2)}')

# ---- smam: the worker for the bench database ----
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
"${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
  -c "ALTER SYSTEM SET smam.worker_databases = '$DB'"
as_owner "$PGBIN/pg_ctl" -D "$SMAM_RUN/data" -l "$SMAM_RUN/server.log" -w restart >/dev/null
"${PSQL[@]}" -o /dev/null -d $DB <<SQL
CREATE EXTENSION smam;
SELECT smam.add_department('Department of Benchmarks');
SELECT smam.set_connector('x', 'http://127.0.0.1:$port', '/publish/{{handle}}',
  header_templates => ARRAY['Authorization: Bearer {{token}}'],
  body_template => '{"text": {{text}}}', allowed_networks => '{127.0.0.1/32}');
SELECT smam.set_credential(smam.onboard_account(1, 'x', 'https://x.com/bench' || g, 'Bench', 'Banc', 'bilingual', 'bench'), 'tok-' || g)
  FROM generate_series(1, 100) g;
INSERT INTO smam.content_item (department_id, title, text_en, text_fr) VALUES (1, 'bench', 'Bench message', 'Message de test');
INSERT INTO smam.post (department_id, content_item_id, text_en, text_fr, status, scheduled_at)
  SELECT 1, 1, 'Bench message ' || g, 'Message de test ' || g, 'scheduled', now() FROM generate_series(1, ($N + 99) / 100) g;
SQL
# The worker connects as smam_worker, which CREATE EXTENSION has just made:
# until then the postmaster retried every smam.worker_restart_delay. Wait for
# it, so that the time measured is publishing, not that retry.
for _ in $(seq 1 300); do
  [ "$("${PSQL[@]}" -A -t -d $DB -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'smam publishing worker'")" = 1 ] && break
  sleep 0.1
done
# Enqueue in one transaction: its commit wakes the worker.
"${PSQL[@]}" -d $DB -c "CREATE TABLE bench_start AS SELECT clock_timestamp() AS t0" -c "
  INSERT INTO smam.delivery (post_id, account_id, department_id, due_at, next_attempt_at)
  SELECT p.id, a.id, 1, now(), now() FROM smam.post p CROSS JOIN smam.account a LIMIT $N"
for _ in $(seq 1 600); do
  left=$("${PSQL[@]}" -A -t -d $DB -c "SELECT count(*) FROM smam.delivery WHERE status IN ('pending', 'sending')")
  [ "$left" = 0 ] && break
  sleep 0.2
done
read -r done_n secs < <("${PSQL[@]}" -A -t -F ' ' -d $DB -c "
  SELECT count(*) FILTER (WHERE status = 'delivered'), extract(epoch FROM max(settled_at) - (SELECT t0 FROM bench_start))
    FROM smam.delivery")
rate=$(echo "$done_n / $secs" | bc)
echo "deliveries: $done_n of $N delivered in ${secs}s"
echo "smam deliveries/s (worker, enqueue to recorded result): $rate"
echo "wrk requests/s (same nginx, 32 connections): $wrk_rps"
echo "ratio smam / wrk: $(echo "scale=3; $rate / $wrk_rps" | bc)"
echo "ratio smam / pg_net's best published (400/s): $(echo "scale=1; $rate / 400" | bc)"
"${PSQL[@]}" -d postgres -c "ALTER SYSTEM RESET smam.worker_databases"
as_owner "$PGBIN/pg_ctl" -D "$SMAM_RUN/data" -l "$SMAM_RUN/server.log" -w restart >/dev/null
"${PSQL[@]}" -d postgres -c "DROP DATABASE $DB"

#!/usr/bin/env bash
# The platform management tool: a bilingual post, written by staff, approved
# by the head of communications, published to an English and a French
# account through a local server standing in for the platform; then the
# delivery records and what the server received.
set -u
work=$(mktemp -d /tmp/smam-demo-publishing.XXXXXX)
perl "$SMAM_TOP/test/lib/http_server.pl" "$work/port" "$work/requests.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
echo "A stand-in for the platform's API listens on 127.0.0.1:$port"

"$PGBIN/psql" -X -d "$SMAM_DEMO_DB" -v ON_ERROR_STOP=0 --echo-queries -P pager=off <<SQL
-- People: an administrator, a member of staff and a head of communications.
CREATE ROLE demo_pub_admin LOGIN; CREATE ROLE demo_pub_staff LOGIN; CREATE ROLE demo_pub_head LOGIN;
GRANT smam_admin TO demo_pub_admin; GRANT smam_department TO demo_pub_staff, demo_pub_head;
SELECT smam.register_principal('demo_pub_admin', 'Ada Admin', 'ada.pub@example.gc.ca');
SELECT smam.appoint('demo_pub_admin', 'administrator');
SET ROLE demo_pub_admin;
SELECT smam.add_department('Department of Open Houses', 'Ministère des Portes ouvertes') AS dept \gset
SELECT smam.register_principal('demo_pub_staff', 'Sam Staff', 'sam.pub@example.gc.ca', :dept);
SELECT smam.register_principal('demo_pub_head', 'Hélène Head', 'helene.pub@example.gc.ca', :dept);
SELECT smam.appoint('demo_pub_staff', 'department_staff', :dept);
SELECT smam.appoint('demo_pub_head', 'head_of_communications', :dept);
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/okdemo_en', 'Demonstrations', NULL, 'english', 'demo') AS en \gset
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/okdemo_fr', NULL, 'Démonstrations', 'french', 'demo') AS fr \gset
RESET ROLE;
-- The X connector points at the stand-in; allowing loopback (allowed_networks) is a
-- superuser's act, so the superuser sets it here.
SELECT smam.set_connector('x', 'http://127.0.0.1:$port', '/publish/{{handle}}',
  header_templates => ARRAY['Authorization: Bearer {{token}}'],
  body_template => '{"text": {{text}}}', post_id_path => '{data,id}',
  allowed_networks => '{127.0.0.1/32}');
-- The head of communications hands the tool the accounts' credentials: write-only.
SET ROLE demo_pub_head;
SELECT smam.set_credential(:en, 'demo-token-en'), smam.set_credential(:fr, 'demo-token-fr');
SELECT account_id, has_connector, has_credentials, managed_in_tool FROM smam.account_tool_status WHERE department_id = :dept;
\echo '-- Expected refusal: credentials are write-only; the head who set them cannot read them back (PostgreSQL''s own permission check).'
SELECT * FROM smam.account_credential;
RESET ROLE;
-- Staff write a bilingual item and a post to both accounts, and submit it.
SET ROLE demo_pub_staff;
SELECT smam.add_content_item(:dept, 'Open house', 'Join our open house on Saturday.',
                             'Venez à nos portes ouvertes samedi.', tags => ARRAY['events']) AS item \gset
SELECT smam.create_post(:item, ARRAY[:en, :fr]::bigint[]) AS post \gset
SELECT smam.submit_post(:post);
-- Nobody approves their own post.
\echo '-- Expected refusal: staff wrote the post, and nobody approves their own post (6.1.4).'
SELECT smam.approve_post(:post);
RESET ROLE;
SET ROLE demo_pub_head;
SELECT smam.approve_post(:post);
SELECT smam.schedule_post(:post);
RESET ROLE;
-- No worker in this demo cluster (smam.worker_databases is empty): send the batch here.
SELECT smam.dispatch();
SELECT d.id, d.account_id, a.official_language, d.status, d.attempts, d.http_status, d.platform_post_id, d.idempotency_key
  FROM smam.delivery d JOIN smam.account a ON a.id = d.account_id WHERE d.post_id = :post ORDER BY d.id;
SELECT id, status, submitted_at IS NOT NULL AS submitted, approved_at IS NOT NULL AS approved, settled_at IS NOT NULL AS settled
  FROM smam.post WHERE id = :post;
SELECT department_en, platform, posts, deliveries, delivered, dead FROM smam.publishing_report WHERE department_id = :dept;
SQL
echo
echo "What the stand-in received (time, method, Idempotency-Key, path, Authorization, body):"
cat "$work/requests.log"

-- The platform management tool: content, the tiered approval workflow and
-- its refusals, the official-language rules, connectors and their safety
-- rules, credentials kept out of views and errors. Deliveries here never
-- reach a server: they are refused before connecting, or meet a closed
-- port (the Perl tests run the loopback test server).
BEGIN;
CREATE EXTENSION pgtap;
CREATE EXTENSION smam;
SELECT plan(117);

CREATE FUNCTION pg_temp.refusal(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; ms text; dt text; ht text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, ms = MESSAGE_TEXT, dt = PG_EXCEPTION_DETAIL, ht = PG_EXCEPTION_HINT;
  RETURN st || '|' || (coalesce(ht, '') <> '') || '|' || coalesce(dt, '') || '|' || ms;
END $$;
-- Two assertions per refusal: the SQLSTATE, then the requirement in the
-- detail (when one is named) and the message.
CREATE FUNCTION pg_temp.refused(stmt text, state text, requirement text, message_like text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE r text := pg_temp.refusal(stmt);
BEGIN
  RETURN NEXT is(split_part(r, '|', 1), state, description || ': SQLSTATE ' || state);
  RETURN NEXT ok((requirement IS NULL OR split_part(r, '|', 3) LIKE '%requirement ' || requirement || ' of the Standard%')
                 AND split_part(r, '|', 4) LIKE message_like,
                 description || ': message' || coalesce(', detail names requirement ' || requirement, ''));
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.refusal(text), pg_temp.refused(text, text, text, text, text) TO PUBLIC;

CREATE ROLE p_admin LOGIN;  GRANT smam_admin TO p_admin;
CREATE ROLE p_clerk LOGIN;  GRANT smam_admin TO p_clerk;
CREATE ROLE p_staff LOGIN;  GRANT smam_department TO p_staff;
CREATE ROLE p_staff2 LOGIN; GRANT smam_department TO p_staff2;
CREATE ROLE p_head LOGIN;   GRANT smam_department TO p_head;
CREATE ROLE p_other LOGIN;  GRANT smam_department TO p_other;
SELECT smam.register_principal('p_admin', 'Admin', 'pa@example.gc.ca');
SELECT smam.appoint('p_admin', 'administrator', NULL, '2020-01-01');
SET ROLE p_admin;
SELECT smam.add_department('Department of Posts', 'Ministère des Publications') AS dept \gset
SELECT smam.add_department('Department of Elsewhere') AS other \gset
SELECT smam.register_principal('p_staff', 'Sam', 'ps@example.gc.ca', :dept);
SELECT smam.register_principal('p_staff2', 'Sue', 'ps2@example.gc.ca', :dept);
SELECT smam.register_principal('p_head', 'Hal', 'ph@example.gc.ca', :dept);
SELECT smam.register_principal('p_other', 'Oli', 'po@example.gc.ca', :other);
SELECT smam.appoint('p_staff', 'department_staff', :dept, '2020-01-01');
SELECT smam.appoint('p_staff2', 'department_staff', :dept, '2020-01-01');
SELECT smam.appoint('p_head', 'head_of_communications', :dept, '2020-01-01');
SELECT smam.appoint('p_other', 'department_staff', :other, '2020-01-01');
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/okposts_en', 'Posts', NULL, 'english', 'test') AS en \gset
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/okposts_fr', NULL, 'Publications', 'french', 'test') AS fr \gset
SELECT smam.onboard_account(:dept, 'x', 'https://x.com/okposts_bi', 'Posts', 'Publications', 'bilingual', 'test') AS bi \gset
SELECT smam.onboard_account(:other, 'x', 'https://x.com/elsewhere', 'Else', NULL, 'english', 'test') AS foreign_acct \gset

-- ---- connectors: the administrator's allowlist and the safety rules ----
SELECT * FROM pg_temp.refused($$SELECT smam.set_connector('x', 'ftp://api.x.com', '/2/tweets')$$,
  '22023', '6.2.5', '%scheme "ftp" is not allowed%', 'a connector that is not http or https');
SELECT * FROM pg_temp.refused($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets', ARRAY['upload.x.com'])$$,
  '42501', '6.2.5', '%host api.x.com is not on the connector''s allowlist%', 'a connector whose base URL is off its allowlist');
SELECT * FROM pg_temp.refused($$SELECT smam.set_connector('x', 'https://user:pw@api.x.com', '/2/tweets')$$,
  '22023', '6.2.5', '%user name or password%', 'a connector with credentials in its URL');
SELECT * FROM pg_temp.refused($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/{{nope}}')$$,
  '22023', NULL, '%unknown placeholder(s)%nope%', 'a template with an unknown placeholder');
RESET ROLE;  -- allowed networks are a superuser's to set
SELECT * FROM pg_temp.refused($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets', allowed_networks => '{8.8.8.0/24}')$$,
  '22023', '6.2.5', '%is not a loopback, private or link-local range%', 'allowing a public range as if it were special');
SET ROLE p_admin;
-- The real one, as the docs show it; then one the tests can use.
SELECT lives_ok($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets',
    header_templates => ARRAY['Authorization: Bearer {{token}}'],
    body_template => '{"text": {{text}}}', post_id_path => '{data,id}',
    metrics_path => '/2/users/by/username/{{handle}}')$$, 'an administrator configures the X connector');
RESET ROLE;
SET ROLE p_clerk;
SELECT * FROM pg_temp.refused($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets')$$,
  '42501', '6.2.5', 'role "p_clerk" may not configure a connector', 'a member of smam_admin who is no administrator configuring a connector');
RESET ROLE;
SET ROLE p_head;
SELECT throws_ok($$SELECT smam.set_connector('x', 'https://api.x.com', '/2/tweets')$$, '42501', NULL,
  'a head of communications cannot even call it');
RESET ROLE;

-- ---- credentials: write-only, never seen ----
SET ROLE p_other;
SELECT throws_ok(format($$SELECT smam.set_credential(%s, 'tok-OTHER-1')$$, :en), '42704',
  format('account %s does not exist or is not visible to you', :en),
  'another department''s staff setting credentials: the account does not exist for them');
RESET ROLE;
SET ROLE p_head;
SELECT lives_ok(format($$SELECT smam.set_credential(%s, 'tok-SECRET-en'), smam.set_credential(%s, 'tok-SECRET-fr')$$, :en, :fr),
  'the head of communications hands the tool two accounts'' credentials');
SELECT throws_ok('SELECT * FROM smam.account_credential', '42501', NULL, 'nobody but the extension''s owner reads credentials');
SELECT is((SELECT count(*) FROM smam.account_tool_status WHERE managed_in_tool), 2::bigint,
  'two accounts are managed in the tool (6.1.4), the third lacks credentials');
SELECT is(ARRAY[smam.managed_in_tool(:en), smam.managed_in_tool(:bi)], ARRAY[true, false],
  'smam.managed_in_tool() answers the same for one account');
RESET ROLE;
SELECT is((SELECT count(*) FROM information_schema.columns c JOIN pg_class v ON v.relname = c.table_name
            WHERE c.table_schema = 'smam' AND v.relnamespace = 'smam'::regnamespace AND v.relkind = 'v'
              AND c.column_name LIKE '%secret%'), 0::bigint, 'no view of smam has a secret column');
SELECT is((SELECT count(*) FROM smam.account_tool_status s WHERE s::text LIKE '%tok-SECRET%'), 0::bigint,
  'the tool status view never shows a secret');
SELECT ok(pg_temp.refusal(format($$SELECT smam.set_credential(%s, E'tok-SECRET\nX')$$, :bi)) NOT LIKE '%tok-SECRET%',
  'a refused credential does not appear in the error');

-- ---- content and the workflow ----
SET ROLE p_other;
SELECT * FROM pg_temp.refused(format($$SELECT smam.add_content_item(%s, 'x', 'Hello', NULL)$$, :dept),
  '42501', '6.1.4', 'role "p_other" may not add to the content library', 'staff of another department adding content');
RESET ROLE;
SET ROLE p_staff;
SELECT * FROM pg_temp.refused(format($$SELECT smam.add_content_item(%s, 'x', ' ', NULL)$$, :dept),
  '22023', NULL, 'a content item needs its text%', 'a content item without text');
SELECT smam.add_content_item(:dept, 'Launch', 'We launch today.', 'Nous lançons aujourd''hui.',
                             tags => ARRAY['launch']) AS item \gset
SELECT smam.add_content_item(:dept, 'English only', 'Only in English.', NULL) AS item_en \gset
SELECT * FROM pg_temp.refused(format($$SELECT smam.create_post(%s, ARRAY[%s]::bigint[])$$, :item, :foreign_acct),
  '23503', '6.1.4', '%is not an account of department%', 'a post to another department''s account');
SELECT smam.create_post(:item, ARRAY[:en, :fr]::bigint[]) AS post \gset
SELECT is((SELECT status FROM smam.post WHERE id = :post), 'draft'::smam.post_status, 'a new post is a draft');
SELECT * FROM pg_temp.refused(format($$SELECT smam.approve_post(%s)$$, :post),
  '55000', '6.1.4', '%is draft, not awaiting approval', 'approving a draft');
SELECT * FROM pg_temp.refused(format($$SELECT smam.schedule_post(%s)$$, :post),
  '55000', '6.1.4', '%is draft, not approved', 'scheduling a draft');
SELECT lives_ok(format('SELECT smam.submit_post(%s)', :post), 'the author submits the post');
SELECT * FROM pg_temp.refused(format($$SELECT smam.approve_post(%s)$$, :post),
  '42501', '6.1.4', 'role "p_staff" may not approve their own post', 'self-approval');
RESET ROLE;
SET ROLE p_staff2;
SELECT * FROM pg_temp.refused(format($$SELECT smam.approve_post(%s)$$, :post),
  '42501', '6.1.4', 'role "p_staff2" may not approve tier 1%', 'staff approving where the head of communications approves');
RESET ROLE;
SET ROLE p_head;
SELECT is(smam.approve_post(:post), 1, 'the head of communications approves the one tier');
SELECT is((SELECT status FROM smam.post WHERE id = :post), 'approved'::smam.post_status, 'one tier of one: approved');
SELECT is(smam.schedule_post(:post), 2, 'scheduling makes one delivery per account');
SELECT is((SELECT count(*) FROM smam.delivery WHERE post_id = :post AND status = 'pending'), 2::bigint, 'both pending');
SELECT is((SELECT count(DISTINCT idempotency_key) FROM smam.delivery WHERE post_id = :post), 2::bigint,
  'each delivery has its own idempotency key');

-- Editing after approval voids the approvals and cancels what was scheduled.
SELECT lives_ok(format($$SELECT smam.edit_post(%s, text_en => 'We launch tomorrow.')$$, :post), 'editing a scheduled post');
SELECT is((SELECT status::text || ' v' || version FROM smam.post WHERE id = :post), 'submitted v2',
  'the edited post is back to awaiting approval, as a new version');
SELECT is((SELECT count(*) FROM smam.post_approval WHERE post_id = :post AND voided_at IS NULL), 0::bigint,
  'its approval is void');
SELECT is((SELECT string_agg(DISTINCT status || ': ' || cancelled_reason, ',') FROM smam.delivery WHERE post_id = :post),
  'cancelled: the post was edited; its approvals were voided', 'its scheduled deliveries are cancelled, with the reason');

-- Two tiers: staff then the head; one person per tier.
SELECT lives_ok(format($$SELECT smam.set_publishing_policy(%s, 2, '{"1": ["department_staff"], "2": ["head_of_communications"]}')$$, :dept),
  'the head of communications asks for two tiers');
SELECT * FROM pg_temp.refused(format($$SELECT smam.set_publishing_policy(%s, 4)$$, :dept),
  '22023', NULL, '%one to three approval tiers, not 4', 'four tiers');
RESET ROLE;
SET ROLE p_staff;
SELECT * FROM pg_temp.refused(format($$SELECT smam.set_publishing_policy(%s, 1)$$, :dept),
  '42501', '6.1.4', '%may not set the publishing policy%', 'staff setting the policy');
RESET ROLE;
SET ROLE p_head;
SELECT * FROM pg_temp.refused(format($$SELECT smam.approve_post(%s)$$, :post),
  '42501', '6.1.4', 'role "p_head" may not approve tier 1%', 'the head approving the staff tier');
RESET ROLE;
SET ROLE p_staff2;
SELECT is(smam.approve_post(:post), 1, 'staff approve tier 1');
SELECT * FROM pg_temp.refused(format($$SELECT smam.approve_post(%s)$$, :post),
  '42501', '6.1.4', 'role "p_staff2" has already approved post%', 'one person approving two tiers');
RESET ROLE;
SET ROLE p_head;
SELECT is(smam.approve_post(:post), 2, 'the head approves tier 2');
SELECT is(smam.schedule_post(:post), 2, 'the post is scheduled again, two deliveries');

-- A principal the policy names approves, holding no office in the department.
RESET ROLE;
CREATE ROLE p_named LOGIN; GRANT smam_department TO p_named;
SET ROLE p_admin; SELECT smam.register_principal('p_named', 'Nam', 'pn@example.gc.ca', :dept); RESET ROLE;
SET ROLE p_head; SELECT smam.set_publishing_policy(:dept, 1, '{"1": ["@p_named"]}'); RESET ROLE;
SET ROLE p_staff;
SELECT smam.create_post(:item, ARRAY[:bi]::bigint[]) AS p_named_post \gset
SELECT smam.submit_post(:p_named_post);
RESET ROLE;
SET ROLE p_named;
SELECT is(smam.approve_post(:p_named_post), 1, 'a principal the publishing policy names approves, holding no office');
RESET ROLE;
SET ROLE p_head;
SELECT smam.set_publishing_policy(:dept, 2, '{"1": ["department_staff"], "2": ["head_of_communications"]}');

-- ---- official languages ----
RESET ROLE;
SET ROLE p_staff;
SELECT smam.create_post(:item_en, ARRAY[:en, :bi]::bigint[]) AS post_en \gset
SELECT smam.submit_post(:post_en);
RESET ROLE;
SET ROLE p_staff2; SELECT smam.approve_post(:post_en); RESET ROLE;
SET ROLE p_head; SELECT smam.approve_post(:post_en);
SELECT * FROM pg_temp.refused(format($$SELECT smam.schedule_post(%s)$$, :post_en),
  '55000', NULL, 'post % cannot be scheduled with an official language missing', 'an English-only post to a bilingual account');
SELECT alike(pg_temp.refusal(format($$SELECT smam.schedule_post(%s)$$, :post_en)),
  format('%%account %s (bilingual) lacks the French text%%', :bi), 'the detail names the account and the missing language');
SELECT is((SELECT count(*) FROM smam.post_language_gaps(:post_en)), 1::bigint, 'the English account needs nothing more');
RESET ROLE;

-- ---- more refusals of the workflow ----
SET ROLE p_staff;
SELECT * FROM pg_temp.refused(format($$SELECT smam.create_post(%s, '{}')$$, :item),
  '22023', NULL, 'a post needs at least one account', 'a post to no account');
SELECT * FROM pg_temp.refused(format($$SELECT smam.submit_post(%s)$$, :post),
  '55000', '6.1.4', 'post % is scheduled, not a draft', 'submitting a scheduled post');
SELECT smam.create_post(:item, ARRAY[:bi]::bigint[]) AS p_bi \gset
SELECT smam.submit_post(:p_bi);
SELECT smam.add_content_item(:dept, 'Past', 'Old news.', 'Vieilles nouvelles.', available_until => now() - interval '1 day',
                             available_from => now() - interval '1 month') AS item_past \gset
SELECT smam.create_post(:item_past, ARRAY[:en]::bigint[]) AS p_past \gset
SELECT smam.submit_post(:p_past);
SELECT * FROM pg_temp.refused(format($$SELECT smam.cancel_post(%s, ' ')$$, :p_past),
  '22023', NULL, 'cancelling a post needs a reason', 'cancelling without a reason');
RESET ROLE;
SET ROLE p_staff2; SELECT smam.approve_post(:p_bi); SELECT smam.approve_post(:p_past); RESET ROLE;
SET ROLE p_head; SELECT smam.approve_post(:p_bi); SELECT smam.approve_post(:p_past);
SELECT * FROM pg_temp.refused(format($$SELECT smam.approve_post(%s)$$, :p_bi),
  '55000', '6.1.4', 'post % is approved, not awaiting approval', 'approving an approved post');
SELECT * FROM pg_temp.refused(format($$SELECT smam.schedule_post(%s)$$, :p_bi),
  '55000', '6.1.4', 'account % is not managed in the platform management tool', 'an account without credentials');
SELECT * FROM pg_temp.refused(format($$SELECT smam.schedule_post(%s)$$, :p_past),
  '55000', NULL, 'content item % is not available at %', 'an item past its availability window');
SELECT * FROM pg_temp.refused(format($$SELECT smam.set_publishing_policy(%s, 2, '{"1": ["no_such_office"]}')$$, :dept),
  '22023', NULL, '"no_such_office" is not an office', 'an approver that is no office');
SELECT * FROM pg_temp.refused(format($$SELECT smam.set_publishing_policy(%s, 2, '{"1": ["@nobody_here"]}')$$, :dept),
  '42704', NULL, 'role "nobody_here" is not a principal', 'an approver that is no principal');
SELECT * FROM pg_temp.refused(format($$SELECT smam.set_publishing_policy(%s, 1, '{"2": ["department_staff"]}')$$, :dept),
  '22023', NULL, 'tier "2" is not one of the department''s 1 tiers', 'approvers for a tier beyond the number of tiers');
SELECT * FROM pg_temp.refused(format($$SELECT smam.set_credential(%s, '  ')$$, :bi),
  '22023', NULL, 'a credential cannot be empty', 'an empty credential');
SELECT lives_ok(format($$SELECT smam.cancel_post(%s, 'the event moved')$$, :p_past), 'cancelling an approved post');
SELECT * FROM pg_temp.refused(format($$SELECT smam.edit_post(%s, text_en => 'x')$$, :p_past),
  '55000', '6.1.4', 'post % can no longer be edited', 'editing a cancelled post');
SELECT * FROM pg_temp.refused(format($$SELECT smam.cancel_post(%s, 'again')$$, :p_past),
  '55000', NULL, 'post % is already cancelled', 'cancelling a cancelled post');
RESET ROLE;

-- ---- live accounts only; leaving them cancels pending deliveries ----
-- The real path of 6.1.3 and 6.2: the head submits, the entity's reviewer
-- accepts, the entity's official moves the account.
CREATE ROLE p_reviewer LOGIN; GRANT smam_entity TO p_reviewer;
CREATE ROLE p_entity LOGIN;   GRANT smam_entity TO p_entity;
SELECT smam.register_principal('p_reviewer', 'Rae', 'pr@example.gc.ca');
SELECT smam.register_principal('p_entity', 'Eli', 'pe@example.gc.ca');
SELECT smam.appoint('p_reviewer', 'entity_reviewer', NULL, '2020-01-01');
SELECT smam.appoint('p_entity', 'entity_official', NULL, '2020-01-01');
SET ROLE p_head;
SELECT smam.submit(:fr, 'disposition', 'the French account closes') AS disposal \gset
RESET ROLE;
SET ROLE p_reviewer;
SELECT smam.review_submission(:disposal, true, 'agreed');
RESET ROLE;
SET ROLE p_entity;
SELECT smam.transition(:fr, 'disposition', 'closing');
RESET ROLE;
SELECT is((SELECT status || ': ' || cancelled_reason FROM smam.delivery WHERE post_id = :post AND account_id = :fr),
  format('cancelled: account %s moved from implementation to disposition', :fr),
  'an account leaving implementation cancels its pending delivery, with the reason');
SELECT is((SELECT status FROM smam.delivery WHERE post_id = :post AND account_id = :en), 'pending'::smam.delivery_status,
  'the other account''s delivery stays');
SET ROLE p_staff;
SELECT * FROM pg_temp.refused(format($$SELECT smam.create_post(%s, ARRAY[%s]::bigint[])$$, :item, :fr),
  '55000', '6.1.2', 'account % is not live', 'a post to an account in disposition');
RESET ROLE;

-- ---- sending: the safety rules refuse before any byte leaves ----
SET smam.retry_limit = 2;
SET smam.http_connect_timeout = 2000;
-- loopback without the administrator's leave
UPDATE smam.connector SET base_url = 'http://127.0.0.1:9', allowed_hosts = '{127.0.0.1}', publish_path = '/publish/{{token}}';
SELECT is(smam.confirm_credential(:en), true, 'the connector moved: the credentials wait for confirmation, and get it');
SET ROLE p_admin;
SELECT is(smam.dispatch(), 1, 'dispatch settles the one due delivery');
RESET ROLE;
SELECT is((SELECT status || ' ' || last_sqlstate FROM smam.delivery WHERE post_id = :post AND account_id = :en),
  'dead 42501', 'loopback is refused unless allowed');
SELECT alike((SELECT last_error FROM smam.delivery WHERE post_id = :post AND account_id = :en),
  '%address 127.0.0.1 is in a loopback range, which the connector does not allow%', 'the error says why');
SELECT is((SELECT count(*) FROM smam.delivery d WHERE d::text LIKE '%tok-SECRET%')
          + (SELECT count(*) FROM smam.delivery_attempt a WHERE a::text LIKE '%tok-SECRET%'), 0::bigint,
  'the secret in the URL appears in no delivery record');

-- more deliveries to try: a fresh post to the English account
SET ROLE p_staff;
SELECT smam.create_post(:item, ARRAY[:en]::bigint[]) AS p2 \gset
SELECT smam.submit_post(:p2);
RESET ROLE;
SET ROLE p_staff2; SELECT smam.approve_post(:p2); RESET ROLE;
SET ROLE p_head; SELECT smam.approve_post(:p2); SELECT smam.schedule_post(:p2); RESET ROLE;
CREATE FUNCTION pg_temp.try(base text, hosts text[], nets cidr[]) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  UPDATE smam.connector SET base_url = base, allowed_hosts = hosts, allowed_networks = nets, publish_path = '/publish';
  -- as the head of communications would confirm them (ftp has no origin: keep the last)
  UPDATE smam.account_credential SET origin = coalesce(smam.url_origin(base), origin), suspended_at = NULL;
  UPDATE smam.delivery SET status = 'pending', attempts = 0, next_attempt_at = now() WHERE post_id = (SELECT max(id) FROM smam.post);
  PERFORM smam.dispatch();
  RETURN (SELECT status || ' ' || last_sqlstate || ' ' || last_error FROM smam.delivery WHERE post_id = (SELECT max(id) FROM smam.post));
END $$;
SELECT alike(pg_temp.try('http://10.1.2.3', '{10.1.2.3}', '{}'), 'dead 42501 %address 10.1.2.3 is in a private range%',
  'a private address is refused');
SELECT alike(pg_temp.try('http://169.254.169.254', '{169.254.169.254}', '{}'), 'dead 42501 %address 169.254.169.254 is a cloud metadata service%',
  'the cloud metadata address is refused');
SELECT alike(pg_temp.try('http://169.254.169.254', '{169.254.169.254}', '{169.254.0.0/16}'), 'dead 42501 %address 169.254.169.254 is a cloud metadata service%',
  'the cloud metadata address is refused even where link-local addresses are allowed');
SELECT alike(pg_temp.try('http://169.254.1.2', '{169.254.1.2}', '{}'), 'dead 42501 %address 169.254.1.2 is in a link-local range%',
  'a link-local address is refused');
SELECT alike(pg_temp.try('http://[::1]:9', '{[::1],::1}', '{}'), 'dead 42501 %address ::1 is in a loopback range%',
  'IPv6 loopback is refused');
SELECT alike(pg_temp.try('ftp://127.0.0.1', '{127.0.0.1}', '{127.0.0.1/32}'), 'dead 22023 %scheme "ftp" is not allowed%',
  'a scheme other than http(s) is refused even if written into the table');
SELECT alike(pg_temp.try('http://127.0.0.1:9', '{localhost}', '{127.0.0.1/32}'), 'dead 42501 %host 127.0.0.1 is not on the connector''s allowlist%',
  'a host off the allowlist is refused');
SELECT alike(pg_temp.try('http://127.0.0.1:9', '{127.0.0.1}', '{127.0.0.1/32}'), 'pending 08001 could not connect to 127.0.0.1%',
  'allowed loopback, port closed: could not connect, to be retried');
SELECT is(smam.dispatch(), 0, 'a retry not yet due is not sent');
UPDATE smam.delivery SET next_attempt_at = now() WHERE post_id = :p2;
SELECT is(smam.dispatch(), 1, 'the second attempt settles it');
SELECT alike((SELECT status || ' ' || attempts || ' ' || last_error FROM smam.delivery WHERE post_id = :p2),
  'dead 2 gave up after 2 attempts (smam.retry_limit): could not connect%', 'after smam.retry_limit attempts a delivery is dead');
SELECT is((SELECT count(DISTINCT a.idempotency_key) || ' key, ' || (count(*) > 2) FROM smam.delivery_attempt a
             JOIN smam.delivery d ON d.id = a.delivery_id WHERE d.post_id = :p2), '1 key, true',
  'every attempt of a delivery carried its one idempotency key');
SELECT is((SELECT status FROM smam.post WHERE id = :p2), 'failed'::smam.post_status, 'a post with a dead delivery has failed');
SELECT * FROM pg_temp.refused($$SELECT smam.dispatch(0)$$, '22023', NULL, 'smam.dispatch needs a positive batch size, not 0',
  'a batch of nothing');

-- smam.publishing_report: the totals for analysts and each department's own,
-- never the posts behind them to an analyst.
CREATE ROLE p_analyst LOGIN; GRANT smam_analyst TO p_analyst;
SET ROLE p_analyst;
SELECT ok((SELECT sum(deliveries) FROM smam.publishing_report WHERE department_id = :dept) > 0,
  'an analyst reads the publishing totals of every department (the view it is granted)');
SELECT throws_ok($$ SELECT count(*) FROM smam.post $$, '42501', NULL, 'but not the posts behind them');
RESET ROLE;
SET ROLE p_staff;
SELECT ok((SELECT sum(deliveries) FROM smam.publishing_report WHERE department_id = :dept) > 0,
  'a department''s user reads its own department''s totals');
RESET ROLE;
SET ROLE p_other;
SELECT is((SELECT count(*) FROM smam.publishing_report WHERE department_id = :dept), 0::bigint,
  'and another department''s user none of them');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

-- Deliveries: one per post and account, sent by the publishing worker
-- (src/worker.c) or by smam.dispatch() (src/delivery.c) over smam's HTTP
-- client (src/http.c).

CREATE TYPE smam.delivery_status AS ENUM ('pending', 'sending', 'delivered', 'dead', 'cancelled');
COMMENT ON TYPE smam.delivery_status IS
  'pending (due at next_attempt_at) -> sending (claimed) -> delivered | dead; or cancelled before sending';

CREATE SEQUENCE smam.delivery_id_seq;
CREATE TABLE smam.delivery (
  id                bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.delivery_id_seq'),
  post_id           bigint NOT NULL REFERENCES smam.post (id),
  account_id        bigint NOT NULL REFERENCES smam.account (id),
  department_id     bigint NOT NULL REFERENCES smam.department (id),
  status            smam.delivery_status NOT NULL DEFAULT 'pending',
  idempotency_key   uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid() UNIQUE,
  due_at            timestamptz NOT NULL,
  next_attempt_at   timestamptz NOT NULL,
  attempts          integer NOT NULL DEFAULT 0,
  claimed_at        timestamptz,
  claimed_pid       integer,
  claimed_by_start  timestamptz,
  http_status       integer,
  platform_post_id  text CHECK (platform_post_id OPERATOR(pg_catalog.~) '^[!-~]{1,128}$'),
  last_error        text,
  last_sqlstate     text,
  cancelled_reason  text,
  created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  settled_at        timestamptz,
  UNIQUE (post_id, account_id)
);
ALTER SEQUENCE smam.delivery_id_seq OWNED BY smam.delivery.id;
CREATE INDEX delivery_due_idx ON smam.delivery (next_attempt_at, id)
  WHERE status OPERATOR(pg_catalog.=) 'pending'::smam.delivery_status;
CREATE INDEX delivery_sending_idx ON smam.delivery (claimed_at)
  WHERE status OPERATOR(pg_catalog.=) 'sending'::smam.delivery_status;
CREATE INDEX delivery_account_idx ON smam.delivery (account_id, status);
COMMENT ON TABLE smam.delivery IS
  'One row per post and account: its status, attempts, HTTP status, the platform''s post id or the last error';
COMMENT ON COLUMN smam.delivery.idempotency_key IS
  'Sent with every attempt (header Idempotency-Key by default): a re-send after a crash or a retry is recognisable';
COMMENT ON COLUMN smam.delivery.platform_post_id IS
  'The platform''s id of the post, read from its answer at the connector''s post_id_path: 1 to 128 visible ASCII characters';
COMMENT ON COLUMN smam.delivery.claimed_pid IS
  'Process sending it (with claimed_by_start, its start time); a claim whose process is gone is taken up again';

CREATE SEQUENCE smam.delivery_attempt_id_seq;
CREATE TABLE smam.delivery_attempt (
  id                bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.delivery_attempt_id_seq'),
  delivery_id       bigint NOT NULL REFERENCES smam.delivery (id),
  attempt           integer NOT NULL,
  idempotency_key   uuid NOT NULL,
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  outcome           smam.delivery_status NOT NULL,
  http_status       integer,
  sqlstate          text,
  error             text,
  retry_at          timestamptz,
  remote_address    text,
  sender_pid        integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
);
ALTER SEQUENCE smam.delivery_attempt_id_seq OWNED BY smam.delivery_attempt.id;
CREATE INDEX delivery_attempt_delivery_idx ON smam.delivery_attempt (delivery_id);
COMMENT ON TABLE smam.delivery_attempt IS
  'Every attempt of every delivery, with its outcome; outcome pending means retried at retry_at';

-- ---- scheduling ----

-- Is the account managed in the tool (6.1.4): an enabled connector for its
-- platform, and credentials that have not expired and were not refused on
-- the last settled delivery? Analysts and government-wide offices read every
-- department's accounts, departments their own.
CREATE VIEW smam.account_tool_status WITH (security_barrier = true) AS
  SELECT a.id AS account_id, a.department_id, a.platform, a.stage,
         (k.platform IS NOT NULL) AS has_connector,
         (c.account_id IS NOT NULL AND (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()))
           AS has_credentials,
         c.set_at AS credentials_set_at,
         c.expires_at AS credentials_expire_at,
         last.status AS last_delivery_status,
         last.http_status AS last_http_status,
         (last.http_status IS NOT NULL AND last.http_status OPERATOR(pg_catalog.=) ANY (ARRAY[401, 403])
          AND last.settled_at OPERATOR(pg_catalog.>) c.set_at) AS credentials_refused,
         (k.platform IS NOT NULL AND c.account_id IS NOT NULL
          AND (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
          AND c.suspended_at IS NULL AND c.origin IS NOT NULL
          AND NOT coalesce(last.http_status OPERATOR(pg_catalog.=) ANY (ARRAY[401, 403])
                           AND last.settled_at OPERATOR(pg_catalog.>) c.set_at, false)) AS managed_in_tool,
         (c.account_id IS NOT NULL AND (c.suspended_at IS NOT NULL OR c.origin IS NULL)) AS credentials_suspended
    FROM smam.account a
    LEFT JOIN smam.connector k ON k.platform OPERATOR(pg_catalog.=) a.platform AND k.enabled
    LEFT JOIN smam.account_credential c ON c.account_id OPERATOR(pg_catalog.=) a.id
    LEFT JOIN LATERAL (SELECT d.status, d.http_status, d.settled_at FROM smam.delivery d
                        WHERE d.account_id OPERATOR(pg_catalog.=) a.id
                          AND d.status OPERATOR(pg_catalog.=) ANY (ARRAY['delivered', 'dead']::smam.delivery_status[])
                        ORDER BY d.settled_at DESC LIMIT 1) last ON true
   WHERE (SELECT smam.reads_all_compliance())
      OR a.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]);
COMMENT ON VIEW smam.account_tool_status IS
  '6.1.4: is each account managed in the platform management tool (working connector and credentials)? Never shows a secret';
-- The meaning of each column of smam.account_tool_status: sql/smam/95_report_dictionary.sql.

-- The same answer for one account, whoever asks (it reveals no secret, only
-- whether the account is managed): for the compliance views of 6.1.4.
CREATE FUNCTION smam.managed_in_tool(account bigint) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    -- Told only to whom the account's compliance is visible (NULL otherwise).
    SELECT CASE WHEN smam.reads_all_compliance()
                  OR smam.sees_department((SELECT x.department_id FROM smam.account x WHERE x.id = account))
           THEN EXISTS (
      SELECT 1 FROM smam.account a
        JOIN smam.connector k ON k.platform = a.platform AND k.enabled
        JOIN smam.account_credential c ON c.account_id = a.id
       WHERE a.id = account
         AND (c.expires_at IS NULL OR c.expires_at > now())
         AND c.suspended_at IS NULL AND c.origin IS NOT NULL
         AND NOT coalesce((SELECT d.http_status IN (401, 403) AND d.settled_at > c.set_at
                             FROM smam.delivery d
                            WHERE d.account_id = a.id AND d.status IN ('delivered', 'dead')
                            ORDER BY d.settled_at DESC LIMIT 1), false)) END
  $$;
COMMENT ON FUNCTION smam.managed_in_tool(bigint) IS
  '6.1.4: is the account managed in the platform management tool (enabled connector, credentials neither expired nor refused)?';

CREATE FUNCTION smam.schedule_post(post bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
  item smam.content_item;
  gaps text;
  bad record;
  n integer;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'schedule posts');
  IF p.status <> 'approved' THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s is %s, not approved', post, p.status),
      format('The department''s posts need %s approval tier(s) before they are scheduled.', smam.approval_tiers(p.department_id)),
      'Have it approved with smam.approve_post().');
  END IF;
  SELECT string_agg(format('account %s (%s) lacks the %s text', g.account_id, g.official_language, g.missing), '; '
                    ORDER BY g.account_id)
    INTO gaps FROM smam.post_language_gaps(post) g;
  IF gaps IS NOT NULL THEN
    PERFORM smam.refuse('55000', NULL, format('post %s cannot be scheduled with an official language missing', post),
      gaps || '. An English account gets the English text, a French account the French, a bilingual account both (Policy on Official Languages, section 3.6 of the Standard).',
      'Add the missing text with smam.edit_post(); the post then needs approval again.');
  END IF;
  SELECT * INTO item FROM smam.content_item c WHERE c.id = p.content_item_id;
  IF (item.available_from IS NOT NULL AND p.publish_at < item.available_from)
     OR (item.available_until IS NOT NULL AND p.publish_at >= item.available_until) THEN
    PERFORM smam.refuse('55000', NULL, format('content item %s is not available at %s', item.id, smam.moment_text(p.publish_at)),
      format('It is available from %s until %s.', coalesce(smam.moment_text(item.available_from), 'always'),
             coalesce(smam.moment_text(item.available_until), 'forever')),
      'Publish within the item''s availability window.');
  END IF;
  SELECT a.id, a.stage, s.has_connector, s.has_credentials, s.managed_in_tool, s.credentials_suspended INTO bad
    FROM smam.post_target t JOIN smam.account a ON a.id = t.account_id
    JOIN smam.account_tool_status s ON s.account_id = a.id
   WHERE t.post_id = post AND (NOT smam.account_is_live(a.stage) OR NOT s.managed_in_tool)
   ORDER BY a.id LIMIT 1;
  IF FOUND THEN
    IF NOT smam.account_is_live(bad.stage) THEN
      PERFORM smam.refuse('55000', '6.1.2', format('account %s is not live', bad.id),
        format('It is in the %s stage; only accounts in implementation or evaluation are published to.', bad.stage),
        'Remove it from the post by making a new post, or cancel this one.');
    END IF;
    PERFORM smam.refuse('55000', '6.1.4', format('account %s is not managed in the platform management tool', bad.id),
      CASE WHEN NOT bad.has_connector THEN 'Its platform has no enabled connector.'
           WHEN bad.credentials_suspended THEN 'Its credentials are suspended: its platform''s connector changed since they were handed over.'
           ELSE 'It has no valid credentials.' END,
      CASE WHEN NOT bad.has_connector THEN 'Ask an administrator to configure one with smam.set_connector().'
           WHEN bad.credentials_suspended THEN 'The head of communications confirms them with smam.confirm_credential().'
           ELSE 'Hand the tool its credentials with smam.set_credential().' END);
  END IF;
  INSERT INTO smam.delivery (post_id, account_id, department_id, due_at, next_attempt_at)
  SELECT p.id, t.account_id, p.department_id, p.publish_at, p.publish_at
    FROM smam.post_target t WHERE t.post_id = post
  ON CONFLICT (post_id, account_id) DO UPDATE
     SET status = 'pending', due_at = EXCLUDED.due_at, next_attempt_at = EXCLUDED.next_attempt_at,
         attempts = 0, cancelled_reason = NULL, settled_at = NULL, last_error = NULL, last_sqlstate = NULL,
         http_status = NULL, idempotency_key = gen_random_uuid()
     WHERE smam.delivery.status = 'cancelled';
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE smam.post x SET status = 'scheduled', scheduled_at = now() WHERE x.id = post;
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.schedule_post(bigint) IS
  'Schedule an approved post: checks official languages, live and managed accounts, availability; makes one delivery per account';

-- Posts whose deliveries are all settled become published, failed or cancelled.
CREATE FUNCTION smam.settle_posts(posts bigint[]) RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  -- Run by the publishing worker: every name qualified besides the pin.
  AS $$
    UPDATE smam.post p
       SET status = CASE WHEN EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                                         AND d.status OPERATOR(pg_catalog.=) 'dead'::smam.delivery_status)
                         THEN 'failed'::smam.post_status
                         WHEN EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                                         AND d.status OPERATOR(pg_catalog.=) 'delivered'::smam.delivery_status)
                         THEN 'published'::smam.post_status
                         ELSE 'cancelled'::smam.post_status END,
           settled_at = pg_catalog.now(),
           cancelled_reason = coalesce(p.cancelled_reason,
             (SELECT pg_catalog.min(d.cancelled_reason) FROM smam.delivery d
               WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                 AND d.status OPERATOR(pg_catalog.=) 'cancelled'::smam.delivery_status))
     WHERE p.id OPERATOR(pg_catalog.=) ANY (posts) AND p.status OPERATOR(pg_catalog.=) 'scheduled'::smam.post_status
       AND NOT EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                          AND d.status OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'sending']::smam.delivery_status[]))
  $$;

-- An account leaving the live stages takes its pending deliveries with it.
-- SECURITY DEFINER: whoever moves the account, its deliveries are cancelled.
CREATE FUNCTION smam.account_left_live() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  posts bigint[];
BEGIN
  WITH c AS (
    UPDATE smam.delivery d
       SET status = 'cancelled', settled_at = now(),
           cancelled_reason = format('account %s moved from %s to %s', NEW.id, OLD.stage, NEW.stage)
     WHERE d.account_id = NEW.id AND d.status = 'pending'
     RETURNING d.post_id)
  SELECT array_agg(DISTINCT c.post_id) INTO posts FROM c;
  IF posts IS NOT NULL THEN
    PERFORM smam.settle_posts(posts);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER account_left_live AFTER UPDATE OF stage ON smam.account
  FOR EACH ROW WHEN (smam.account_is_live(OLD.stage) AND NOT smam.account_is_live(NEW.stage))
  EXECUTE FUNCTION smam.account_left_live();

CREATE TRIGGER post_edit_guard BEFORE UPDATE ON smam.post
  FOR EACH ROW EXECUTE FUNCTION smam.post_edit_guard();

-- Wake the worker when a transaction that made work due commits.
CREATE FUNCTION smam.delivery_wake() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_delivery_wake';
COMMENT ON FUNCTION smam.delivery_wake() IS
  'Trigger: at commit of the transaction, wake the publishing worker of this database';
CREATE TRIGGER delivery_wake AFTER INSERT OR UPDATE OF status, next_attempt_at ON smam.delivery
  FOR EACH STATEMENT EXECUTE FUNCTION smam.delivery_wake();

-- SECURITY DEFINER: sending reads the credentials, which only the owner of
-- the extension (the role the worker connects as) can read.
CREATE FUNCTION smam.dispatch(max integer DEFAULT NULL) RETURNS integer
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_dispatch';
COMMENT ON FUNCTION smam.dispatch(integer) IS
  'Send one batch of due deliveries (at most max, default smam.worker_batch_size) in this session; returns how many it settled';

-- Is the process that claimed a delivery still running (its pid and start
-- time)? Read in C from shared memory: pg_stat_activity hides another
-- role's start time from the worker's role.
CREATE FUNCTION smam.sender_alive(pid integer, started timestamptz) RETURNS boolean
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'smam_sender_alive';
COMMENT ON FUNCTION smam.sender_alive(integer, timestamptz) IS
  'Is the process that claimed a delivery (pid, start time) still running?';

-- ---- the publishing worker's role ----
-- smam_worker (00_foundation) reads what sending needs, credentials
-- included, and writes the outcomes: nothing else, through grants and
-- row-level security policies of its own (no BYPASSRLS).
GRANT SELECT ON smam.account, smam.post, smam.connector, smam.account_credential TO smam_worker;
GRANT SELECT, UPDATE ON smam.delivery TO smam_worker;
GRANT UPDATE (status, settled_at, cancelled_reason) ON smam.post TO smam_worker;
GRANT INSERT ON smam.delivery_attempt TO smam_worker;
GRANT USAGE ON SEQUENCE smam.delivery_attempt_id_seq TO smam_worker;
GRANT EXECUTE ON FUNCTION smam.settle_posts(bigint[]), smam.sender_alive(integer, timestamptz),
  smam.account_is_live(smam.stage) TO smam_worker;
CREATE POLICY account_worker ON smam.account FOR SELECT TO smam_worker USING (true);
CREATE POLICY post_worker_read ON smam.post FOR SELECT TO smam_worker USING (true);
CREATE POLICY post_worker_settle ON smam.post FOR UPDATE TO smam_worker
  USING (status OPERATOR(pg_catalog.=) 'scheduled'::smam.post_status) WITH CHECK (true);
CREATE POLICY connector_worker ON smam.connector FOR SELECT TO smam_worker USING (true);
CREATE POLICY account_credential_worker ON smam.account_credential FOR SELECT TO smam_worker USING (true);
CREATE POLICY delivery_worker_read ON smam.delivery FOR SELECT TO smam_worker USING (true);
-- USING (true): a qual of its own would keep the planner from the partial
-- indexes on status (enum_eq is not leakproof, so under row-level security
-- the queries' own "status = 'pending'" could not be an index condition).
CREATE POLICY delivery_worker_send ON smam.delivery FOR UPDATE TO smam_worker
  USING (true)
  WITH CHECK (status OPERATOR(pg_catalog.<>) 'cancelled'::smam.delivery_status);
CREATE POLICY delivery_attempt_worker ON smam.delivery_attempt FOR INSERT TO smam_worker WITH CHECK (true);

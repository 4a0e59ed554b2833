-- The tool's reporting (appendix: "includes reporting capabilities"): the
-- link check of account URLs and its findings, metrics pulled into a time
-- series, and reports by department, platform and month, of the accounts
-- (for the evaluation stage, 6.1.2) and of publishing itself.

CREATE SEQUENCE smam.account_url_check_id_seq;
CREATE TABLE smam.account_url_check (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_url_check_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  checked_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  url            text NOT NULL,
  http_status    integer,
  location       text,
  outcome        text NOT NULL CHECK (outcome OPERATOR(pg_catalog.=) ANY
                   (ARRAY['ok', 'gone', 'redirected', 'unreachable', 'refused'])),
  sqlstate       text,
  error          text
);
ALTER SEQUENCE smam.account_url_check_id_seq OWNED BY smam.account_url_check.id;
CREATE INDEX account_url_check_account_idx ON smam.account_url_check (account_id, checked_at DESC);
COMMENT ON TABLE smam.account_url_check IS
  'Each check of a live account''s page by smam.check_account_urls(): ok, gone, redirected, unreachable or refused';

CREATE FUNCTION smam.check_account_urls() RETURNS integer
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_check_account_urls';
COMMENT ON FUNCTION smam.check_account_urls() IS
  'Check the page of every live account, many at once; record outcomes in smam.account_url_check; returns the number of findings (gone or redirected)';

-- The latest check of each live account, where it is a finding. Analysts
-- and government-wide offices read every department's, departments their own.
CREATE VIEW smam.account_url_finding WITH (security_barrier = true) AS
  SELECT c.account_id, c.department_id, a.platform, a.url AS account_url, c.checked_at, c.outcome,
         c.http_status, c.location,
         CASE c.outcome WHEN 'gone' THEN pg_catalog.format('the account''s page answers %s: the account is gone', c.http_status)
                        ELSE pg_catalog.format('the account''s page redirects to %s: renamed or taken over?', c.location) END
           AS finding,
         '6.2.4'::text AS requirement
    FROM smam.account a
    JOIN LATERAL (SELECT x.* FROM smam.account_url_check x WHERE x.account_id OPERATOR(pg_catalog.=) a.id
                   ORDER BY x.checked_at DESC, x.id DESC LIMIT 1) c ON true
   WHERE smam.account_is_live(a.stage)
     AND c.outcome OPERATOR(pg_catalog.=) ANY (ARRAY['gone', 'redirected'])
     AND ((SELECT smam.reads_all_compliance())
          OR a.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
COMMENT ON VIEW smam.account_url_finding IS
  'Compliance findings of the link check: live accounts whose page is gone or redirects elsewhere (latest check)';

-- ---- metrics ----

CREATE SEQUENCE smam.metric_pull_id_seq;
CREATE TABLE smam.metric_pull (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.metric_pull_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  pulled_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
  http_status    integer,
  sqlstate       text,
  error          text
);
ALTER SEQUENCE smam.metric_pull_id_seq OWNED BY smam.metric_pull.id;
COMMENT ON TABLE smam.metric_pull IS 'Each metrics pull of an account, with its error when it failed';

CREATE SEQUENCE smam.account_metric_id_seq;
CREATE TABLE smam.account_metric (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_metric_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  platform       text NOT NULL REFERENCES smam.platform (code),
  observed_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  metric         text NOT NULL,
  value          numeric NOT NULL
);
ALTER SEQUENCE smam.account_metric_id_seq OWNED BY smam.account_metric.id;
CREATE INDEX account_metric_idx ON smam.account_metric (account_id, metric, observed_at);
COMMENT ON TABLE smam.account_metric IS 'Time series of account metrics (followers, impressions, ...) as the platforms report them';

CREATE FUNCTION smam.pull_metrics() RETURNS integer
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_pull_metrics';
COMMENT ON FUNCTION smam.pull_metrics() IS
  'Read every managed live account''s metrics through its connector into smam.account_metric; returns how many accounts answered';

-- Metrics by department, platform and month (smam.time_zone): per metric,
-- the accounts measured, the sum of each account's last value in the month
-- and the average observation.
CREATE VIEW smam.metrics_monthly WITH (security_invoker = true) AS
  SELECT m.department_id, d.name_en AS department_en, m.platform,
         pg_catalog.date_trunc('month', m.observed_at AT TIME ZONE smam.time_zone())::date AS month,
         m.metric,
         pg_catalog.count(DISTINCT m.account_id) AS accounts,
         pg_catalog.sum(m.value) FILTER (WHERE m.last_in_month) AS last_value_total,
         pg_catalog.avg(m.value) AS average_value,
         pg_catalog.count(*) AS observations
    FROM (SELECT x.*, pg_catalog.row_number() OVER (
                   PARTITION BY x.account_id, x.metric,
                                pg_catalog.date_trunc('month', x.observed_at AT TIME ZONE smam.time_zone())
                   ORDER BY x.observed_at DESC, x.id DESC) OPERATOR(pg_catalog.=) 1 AS last_in_month
            FROM smam.account_metric x) m
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) m.department_id
   GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW smam.metrics_monthly IS
  'Account metrics by department, platform, month and metric, for the evaluation stage (6.1.2)';

-- Publishing itself: volumes, failures and time to approve, by department,
-- platform and month of the scheduled time. Read with the owner's rights
-- (security_barrier), filtered here as the compliance views are: analysts
-- and government-wide offices read every department's totals, departments
-- their own; analysts never read the posts or the accounts themselves (in
-- 1.0 it read them with the caller's rights, and an analyst was refused the
-- view it was granted).
CREATE VIEW smam.publishing_report WITH (security_barrier = true) AS
  SELECT dl.department_id, d.name_en AS department_en, a.platform,
         pg_catalog.date_trunc('month', dl.due_at AT TIME ZONE smam.time_zone())::date AS month,
         pg_catalog.count(DISTINCT dl.post_id) AS posts,
         pg_catalog.count(*) AS deliveries,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'delivered') AS delivered,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'dead') AS dead,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'cancelled') AS cancelled,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'sending']::smam.delivery_status[])) AS in_progress,
         pg_catalog.count(*) FILTER (WHERE dl.attempts OPERATOR(pg_catalog.>) 1) AS retried,
         pg_catalog.round(pg_catalog.avg(dl.attempts) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) ANY (ARRAY['delivered', 'dead']::smam.delivery_status[])), 2) AS average_attempts,
         pg_catalog.avg(p.approved_at OPERATOR(pg_catalog.-) p.submitted_at) AS average_time_to_approve,
         pg_catalog.avg(dl.settled_at OPERATOR(pg_catalog.-) dl.due_at) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'delivered') AS average_time_to_deliver
    FROM smam.delivery dl
    JOIN smam.post p ON p.id OPERATOR(pg_catalog.=) dl.post_id
    JOIN smam.account a ON a.id OPERATOR(pg_catalog.=) dl.account_id
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) dl.department_id
   WHERE (SELECT smam.reads_all_compliance())
      OR dl.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[])
   GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW smam.publishing_report IS
  'Publishing by department, platform and month: posts, deliveries, delivered, dead, cancelled, retries, time to approve and to deliver';

ALTER TABLE smam.account_url_check ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.metric_pull ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.account_metric ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_url_check_read ON smam.account_url_check FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY metric_pull_read ON smam.metric_pull FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY account_metric_read ON smam.account_metric FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.account_url_check, smam.account_url_finding, smam.metric_pull, smam.account_metric,
  smam.metrics_monthly, smam.publishing_report
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.check_account_urls(), smam.pull_metrics() TO smam_admin;

SELECT pg_catalog.pg_extension_config_dump('smam.account_url_check', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_url_check_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.metric_pull', '');
SELECT pg_catalog.pg_extension_config_dump('smam.metric_pull_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_metric', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_metric_id_seq', '');

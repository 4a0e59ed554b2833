-- smam 1.0 -> 1.1: the analysts' schema smam_report, every column of its
-- views described in English and French (smam.report_dictionary,
-- smam_report.data_dictionary); smam.publishing_report readable by those it
-- is granted to; analysts read every department's reporting rows. Kept as
-- released; never edited after.
\echo Use "ALTER EXTENSION smam UPDATE" to load this file. \quit

-- ---- sql/smam/86_reports.sql: smam.publishing_report read with the owner's
-- rights, filtered in the view as the compliance views are (an analyst was
-- refused the view 1.0 granted it: it read smam.post and smam.account as the
-- caller). WITH replaces the view's options: security_invoker goes. ----
CREATE OR REPLACE VIEW smam.publishing_report WITH (security_barrier = true) AS
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

-- ---- sql/smam/84_delivery.sql, 86_reports.sql: analysts read every
-- department's rows of account_tool_status, account_url_finding and the
-- metrics, as they read the compliance views (smam.reads_all_compliance());
-- in 1.0 an analyst without a government-wide office read none. ----
CREATE OR REPLACE VIEW smam.account_tool_status WITH (security_barrier = true) AS
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

CREATE OR REPLACE VIEW smam.account_url_finding WITH (security_barrier = true) AS
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

ALTER POLICY account_url_check_read ON smam.account_url_check
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
ALTER POLICY metric_pull_read ON smam.metric_pull
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
ALTER POLICY account_metric_read ON smam.account_metric
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));

-- ---- sql/smam/95_report.sql (new in 1.1) ----
-- The analysts' schema (docs/reference.md, "For analysts"): smam_report holds
-- only what the reporting roles may read, so that a BI tool's navigator
-- (Excel, Power BI, Tableau through ODBC or JDBC) lists nothing it cannot
-- open. Each view there is smam's view of the same name, read with the
-- caller's own rights (security_invoker): the grants and row-level security
-- of smam's objects decide what each role sees, exactly as when it reads
-- smam directly. Every column is described, in English and in French, by
-- smam.report_dictionary: COMMENT for tools that read pg_description, and
-- the view smam_report.data_dictionary for tools that cannot (psqlODBC never
-- reads comments).

CREATE SCHEMA smam_report;
COMMENT ON SCHEMA smam_report IS
  'smam for analysts and BI tools: the reporting views, every column described in English and French (smam_report.data_dictionary)';

-- The meaning of each view of smam_report (column_name NULL) and of each of
-- its columns, in both official languages. Shipped with the extension and
-- read-only to every role (smam.catalogue_guard); a release that changes a
-- view changes its rows and calls smam.apply_report_dictionary().
CREATE TABLE smam.report_dictionary (
  view_name    name NOT NULL,
  column_name  name,
  meaning_en   text NOT NULL CHECK (pg_catalog.btrim(meaning_en) OPERATOR(pg_catalog.<>) ''),
  meaning_fr   text NOT NULL CHECK (pg_catalog.btrim(meaning_fr) OPERATOR(pg_catalog.<>) ''),
  CONSTRAINT report_dictionary_key UNIQUE NULLS NOT DISTINCT (view_name, column_name)
);
COMMENT ON TABLE smam.report_dictionary IS
  'The meaning of every view of smam_report and of each of its columns, in English and French; shipped, read-only';
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.report_dictionary
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard_truncate BEFORE TRUNCATE ON smam.report_dictionary
  FOR EACH STATEMENT EXECUTE FUNCTION smam.catalogue_guard();
ALTER TABLE smam.report_dictionary ENABLE ROW LEVEL SECURITY;
CREATE POLICY report_dictionary_read ON smam.report_dictionary FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.report_dictionary TO smam_admin, smam_entity, smam_tbs, smam_analyst;

-- The reporting views: smam's, as they are, read as the caller.
DO $views$
DECLARE
  v text;
BEGIN
  FOREACH v IN ARRAY ARRAY[
    'account_tool_status', 'account_url_finding', 'activity_report_line', 'compliance_by_department',
    'compliance_findings', 'compliance_rule', 'compliance_summary', 'index_reject', 'metrics_monthly',
    'public_index', 'published_index_files', 'publishing_report', 'requirement_catalogue']
  LOOP
    EXECUTE pg_catalog.format(
      'CREATE VIEW smam_report.%1$I WITH (security_invoker = true) AS SELECT * FROM smam.%1$I', v);
  END LOOP;
END
$views$;

CREATE VIEW smam_report.data_dictionary WITH (security_invoker = true) AS
  SELECT d.view_name, d.column_name,
         COALESCE(a.attnum, 0::pg_catalog.int2) AS ordinal,
         pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
         d.meaning_en, d.meaning_fr
    FROM smam.report_dictionary d
    JOIN pg_catalog.pg_class c
      ON c.relname OPERATOR(pg_catalog.=) d.view_name
     AND c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) d.column_name
     AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;

-- COMMENT every view of smam_report and each of its columns from the
-- dictionary (and smam's view of the same name: one text for both), after
-- checking that the dictionary describes each column once and nothing else.
-- Run by the install script and by every update script that changes the
-- reporting views or their meanings; granted to no one.
CREATE FUNCTION smam.apply_report_dictionary() RETURNS integer
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r record;
  n integer := 0;
  missing text;
  unknown text;
BEGIN
  SELECT pg_catalog.string_agg(x.what, ', ' ORDER BY x.what)
    INTO missing
    FROM (SELECT pg_catalog.format('%I.%I', c.relname, a.attname) AS what
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
           WHERE c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
             AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
             AND NOT EXISTS (SELECT FROM smam.report_dictionary d
                              WHERE d.view_name OPERATOR(pg_catalog.=) c.relname
                                AND d.column_name OPERATOR(pg_catalog.=) a.attname)
          UNION ALL
          SELECT pg_catalog.format('%I (view)', c.relname)
            FROM pg_catalog.pg_class c
           WHERE c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
             AND NOT EXISTS (SELECT FROM smam.report_dictionary d
                              WHERE d.view_name OPERATOR(pg_catalog.=) c.relname
                                AND d.column_name IS NULL)) x;
  SELECT pg_catalog.string_agg(pg_catalog.format('%I.%s', d.view_name, COALESCE(pg_catalog.quote_ident(d.column_name), '(view)')),
                               ', ' ORDER BY d.view_name, d.column_name)
    INTO unknown
    FROM smam.report_dictionary d
   WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c
                      WHERE c.relname OPERATOR(pg_catalog.=) d.view_name
                        AND c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
                        AND (d.column_name IS NULL
                             OR EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                         WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
                                           AND a.attname OPERATOR(pg_catalog.=) d.column_name
                                           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)));
  IF missing IS NOT NULL OR unknown IS NOT NULL THEN
    RAISE EXCEPTION 'smam.report_dictionary does not describe smam_report exactly'
      USING ERRCODE = 'XX000',
            DETAIL = pg_catalog.concat_ws(E'\n', 'Not described: ' OPERATOR(pg_catalog.||) missing,
                                          'Described but not in smam_report: ' OPERATOR(pg_catalog.||) unknown),
            HINT = 'Every view of smam_report and each of its columns has one row of meanings; fix the release''s script.';
  END IF;
  FOR r IN SELECT d.view_name, d.column_name, d.meaning_en,
                  EXISTS (SELECT FROM pg_catalog.pg_class s
                           WHERE s.relname OPERATOR(pg_catalog.=) d.view_name
                             AND s.relnamespace OPERATOR(pg_catalog.=) 'smam'::pg_catalog.regnamespace
                             AND s.relkind OPERATOR(pg_catalog.=) 'v') AS in_smam
             FROM smam.report_dictionary d ORDER BY 1, 2 NULLS FIRST
  LOOP
    IF r.column_name IS NULL THEN
      EXECUTE pg_catalog.format('COMMENT ON VIEW smam_report.%I IS %L', r.view_name, r.meaning_en);
    ELSE
      EXECUTE pg_catalog.format('COMMENT ON COLUMN smam_report.%I.%I IS %L', r.view_name, r.column_name, r.meaning_en);
      IF r.in_smam THEN
        EXECUTE pg_catalog.format('COMMENT ON COLUMN smam.%I.%I IS %L', r.view_name, r.column_name, r.meaning_en);
      END IF;
    END IF;
    n := n OPERATOR(pg_catalog.+) 1;
  END LOOP;
  RETURN n;
END
$fn$;
COMMENT ON FUNCTION smam.apply_report_dictionary() IS
  'Extension scripts only: check that smam.report_dictionary describes every view and column of smam_report, and COMMENT them from it';

GRANT USAGE ON SCHEMA smam_report TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA smam_report TO smam_admin, smam_entity, smam_tbs, smam_analyst;
REVOKE ALL ON SCHEMA smam_report FROM PUBLIC;

-- ---- sql/smam/95_report_dictionary.sql (new in 1.1): also the column comments of
-- smam's thirteen reporting views, which 1.0 wrote in their fragments ----
-- The meanings of smam_report's views and columns, in English and French
-- (read by analysts in pg_description and in smam_report.data_dictionary).
-- A view's own meaning has column_name NULL. smam.apply_report_dictionary()
-- refuses to install a dictionary that misses a column or names one that is
-- not there.
INSERT INTO smam.report_dictionary (view_name, column_name, meaning_en, meaning_fr) VALUES
  ('account_tool_status', NULL,
   '6.1.4: is each account managed in the platform management tool (enabled connector, working credentials)? One row per account, at every stage; departments see their own; never shows a secret',
   '6.1.4 : chaque compte est-il géré dans l''outil de gestion des plateformes (connecteur activé, justificatifs d''identité valides)? Une ligne par compte, à toutes les étapes; les ministères voient leurs propres comptes; n''affiche jamais de secret'),
  ('account_tool_status', 'account_id',
   'The account (smam.account.id)',
   'Le compte (smam.account.id)'),
  ('account_tool_status', 'department_id',
   'The department the account belongs to (smam.department.id)',
   'Le ministère auquel appartient le compte (smam.department.id)'),
  ('account_tool_status', 'platform',
   'The platform''s code (smam.platform.code: facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (smam.platform.code : facebook, x, instagram, youtube, linkedin, ...)'),
  ('account_tool_status', 'stage',
   'The account''s life-cycle stage now (6.1.2): planning, creation, configuration, implementation, evaluation, disposition or disposed; implementation and evaluation are live',
   'L''étape actuelle du cycle de vie du compte (6.1.2) : planning (planification), creation (création), configuration, implementation (mise en œuvre), evaluation (évaluation), disposition ou disposed (disposition terminée); le compte est actif aux étapes implementation et evaluation'),
  ('account_tool_status', 'has_connector',
   'Whether the platform has an enabled connector (6.2.5): the tool can reach it',
   'Indique si la plateforme a un connecteur activé (6.2.5) : l''outil peut la joindre'),
  ('account_tool_status', 'has_credentials',
   'Whether the account''s credentials are on record and not expired (they may still be suspended or refused)',
   'Indique si les justificatifs d''identité du compte sont consignés et non expirés (ils peuvent toutefois être suspendus ou refusés)'),
  ('account_tool_status', 'credentials_set_at',
   'When the account''s current credentials were handed over (NULL: none on record)',
   'Date et heure de la remise des justificatifs d''identité actuels du compte (NULL : aucun justificatif consigné)'),
  ('account_tool_status', 'credentials_expire_at',
   'When the credentials expire (NULL: no credentials, or no expiry given)',
   'Date et heure d''expiration des justificatifs d''identité (NULL : aucun justificatif, ou aucune date d''expiration indiquée)'),
  ('account_tool_status', 'last_delivery_status',
   'Status of the last settled delivery of a post to the account: delivered or dead (given up); NULL: none settled yet',
   'Statut du dernier envoi terminé d''une publication au compte : delivered (livré) ou dead (abandonné); NULL : aucun envoi terminé'),
  ('account_tool_status', 'last_http_status',
   'The HTTP status the platform answered to that delivery (NULL: no delivery settled, or no HTTP answer)',
   'Le code d''état HTTP renvoyé par la plateforme pour cet envoi (NULL : aucun envoi terminé, ou aucune réponse HTTP)'),
  ('account_tool_status', 'credentials_refused',
   'Whether the platform refused the credentials: HTTP 401 or 403 on the last settled delivery, after the credentials were set',
   'Indique si la plateforme a refusé les justificatifs d''identité : HTTP 401 ou 403 au dernier envoi terminé, après la remise des justificatifs'),
  ('account_tool_status', 'managed_in_tool',
   '6.1.4: true when the account is managed in the tool: an enabled connector for its platform, and credentials neither expired, suspended nor refused (401/403) since they were set',
   '6.1.4 : vrai si le compte est géré dans l''outil : un connecteur activé pour sa plateforme, et des justificatifs d''identité ni expirés, ni suspendus, ni refusés (401/403) depuis leur remise'),
  ('account_tool_status', 'credentials_suspended',
   'The connector''s address, allowed hosts or networks changed since the credentials were handed over (or there was no enabled connector then): not used until the head of communications or designate confirms them (smam.confirm_credential())',
   'L''adresse, les hôtes ou les réseaux autorisés du connecteur ont changé depuis la remise des justificatifs d''identité (ou il n''y avait alors aucun connecteur activé) : ils ne sont pas utilisés tant que le chef des communications ou son délégué ne les a pas confirmés (smam.confirm_credential())'),
  ('account_url_finding', NULL,
   'Findings of the link check: live accounts whose page, at the latest check, is gone or redirects elsewhere; departments see their own',
   'Constats de la vérification des liens : comptes actifs dont la page, à la dernière vérification, a disparu ou redirige ailleurs; les ministères voient leurs propres comptes'),
  ('account_url_finding', 'account_id',
   'The account (smam.account.id)',
   'Le compte (smam.account.id)'),
  ('account_url_finding', 'department_id',
   'The department the account belonged to when checked (smam.department.id)',
   'Le ministère auquel appartenait le compte lors de la vérification (smam.department.id)'),
  ('account_url_finding', 'platform',
   'The platform''s code (facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (facebook, x, instagram, youtube, linkedin, ...)'),
  ('account_url_finding', 'account_url',
   'The account''s canonical URL, as smam records it',
   'L''adresse URL canonique du compte, telle que smam la consigne'),
  ('account_url_finding', 'checked_at',
   'When the latest check was made',
   'Date et heure de la dernière vérification'),
  ('account_url_finding', 'outcome',
   'gone (the page answered 404 or 410) or redirected (to another host, or to another handle on the same host)',
   'gone (page disparue : réponse 404 ou 410) ou redirected (redirection vers un autre hôte, ou vers un autre identifiant sur le même hôte)'),
  ('account_url_finding', 'http_status',
   'The HTTP status the page answered',
   'Le code d''état HTTP renvoyé par la page'),
  ('account_url_finding', 'location',
   'Where the page redirects to (NULL when gone)',
   'L''adresse vers laquelle la page redirige (NULL si la page a disparu)'),
  ('account_url_finding', 'finding',
   'The finding in a sentence, in English: the account is gone, or renamed or taken over?',
   'Le constat en une phrase, en anglais : le compte a disparu, ou a-t-il été renommé ou usurpé?'),
  ('account_url_finding', 'requirement',
   'The requirement concerned: always 6.2.4 (the index of official accounts)',
   'L''exigence visée : toujours 6.2.4 (le répertoire des comptes officiels)'),
  ('activity_report_line', NULL,
   'The frozen lines of submitted activities reports (7.3.1): per department and a total, what was done in the report''s period; departments see their own lines',
   'Les lignes figées des rapports sur les activités présentés (7.3.1) : par ministère et au total, ce qui a été fait pendant la période du rapport; les ministères voient leurs propres lignes'),
  ('activity_report_line', 'report_id',
   'The frozen report (smam.compliance_report.id)',
   'Le rapport figé (smam.compliance_report.id)'),
  ('activity_report_line', 'request_id',
   'The request it answers (smam.report_request.id)',
   'La demande à laquelle il répond (smam.report_request.id)'),
  ('activity_report_line', 'subject',
   'The subject TBS gave the request',
   'L''objet que le SCT a donné à la demande'),
  ('activity_report_line', 'period_from',
   'The first day counted (in time_zone)',
   'Le premier jour compté (dans time_zone)'),
  ('activity_report_line', 'period_until',
   'The first day after the period (exclusive)',
   'Le premier jour après la période (exclu)'),
  ('activity_report_line', 'as_of',
   'When the report was submitted and its counts frozen',
   'Date et heure de la présentation du rapport et du gel de ses chiffres'),
  ('activity_report_line', 'time_zone',
   'The zone the period''s days were read in (smam.time_zone at submission)',
   'Le fuseau horaire dans lequel les jours de la période ont été lus (smam.time_zone à la présentation)'),
  ('activity_report_line', 'department_id',
   'The department; NULL on the total line',
   'Le ministère; NULL sur la ligne du total'),
  ('activity_report_line', 'department_en',
   'The department''s English name at submission (All departments on the total line)',
   'Le nom anglais du ministère à la présentation (All departments sur la ligne du total)'),
  ('activity_report_line', 'department_fr',
   'The department''s French name at submission, NULL where none was known (Tous les ministères on the total line)',
   'Le nom français du ministère à la présentation, NULL s''il n''était pas connu (Tous les ministères sur la ligne du total)'),
  ('activity_report_line', 'submissions_received',
   'Number of submissions (6.1.3) made in the period',
   'Nombre de présentations (6.1.3) faites pendant la période'),
  ('activity_report_line', 'submissions_creation',
   'Of them, creation submissions',
   'Parmi elles, les présentations de création'),
  ('activity_report_line', 'submissions_configuration',
   'Of them, configuration submissions',
   'Parmi elles, les présentations de configuration'),
  ('activity_report_line', 'submissions_disposition',
   'Of them, disposition submissions',
   'Parmi elles, les présentations de disposition'),
  ('activity_report_line', 'submissions_reviewed',
   'Number of submissions the entity reviewed (6.2.1) in the period, whenever they were made',
   'Nombre de présentations que l''entité a examinées (6.2.1) pendant la période, quelle que soit la date où elles ont été faites'),
  ('activity_report_line', 'submissions_accepted',
   'Of them, accepted',
   'Parmi elles, les présentations acceptées'),
  ('activity_report_line', 'submissions_rejected',
   'Of them, rejected',
   'Parmi elles, les présentations rejetées'),
  ('activity_report_line', 'submissions_pending_at_end',
   'Number of submissions made before the end of the period and not reviewed by then',
   'Nombre de présentations faites avant la fin de la période et non examinées à cette date'),
  ('activity_report_line', 'review_time_median',
   'Median time from submission to review of those reviewed in the period, an interval to the second (NULL: none)',
   'Délai médian entre la présentation et l''examen, pour les présentations examinées pendant la période, de type interval, à la seconde près (NULL : aucune)'),
  ('activity_report_line', 'review_time_max',
   'Longest time from submission to review of those reviewed in the period, an interval to the second (NULL: none)',
   'Délai le plus long entre la présentation et l''examen, pour les présentations examinées pendant la période, de type interval, à la seconde près (NULL : aucune)'),
  ('activity_report_line', 'review_service_standard',
   'The submission_review service standard (6.2.1) in force at the end of the period, an interval (NULL: none set)',
   'La norme de service submission_review (examen des présentations, 6.2.1) en vigueur à la fin de la période, de type interval (NULL : aucune fixée)'),
  ('activity_report_line', 'reviews_beyond_standard',
   'Number of reviews in the period that took longer than the service standard in force when the submission was made',
   'Nombre d''examens faits pendant la période qui ont pris plus de temps que la norme de service en vigueur au moment de la présentation'),
  ('activity_report_line', 'pending_beyond_standard',
   'Number of submissions pending at the end that had waited longer than the service standard in force when they were made',
   'Nombre de présentations en attente à la fin de la période qui avaient attendu plus longtemps que la norme de service en vigueur au moment où elles ont été faites'),
  ('activity_report_line', 'accounts_planned',
   'Accounts planned (entered in planning) in the period',
   'Comptes planifiés (entrés à l''étape planning) pendant la période'),
  ('activity_report_line', 'accounts_onboarded',
   'Existing accounts onboarded (straight into implementation) in the period',
   'Comptes existants intégrés (directement à l''étape implementation) pendant la période'),
  ('activity_report_line', 'accounts_created',
   'Moves planning to creation in the period (6.2.2)',
   'Passages de planning à creation pendant la période (6.2.2)'),
  ('activity_report_line', 'accounts_configured',
   'Moves creation to configuration in the period (6.2.2)',
   'Passages de creation à configuration pendant la période (6.2.2)'),
  ('activity_report_line', 'live_configuration_changes',
   'Configuration changes of live accounts in the period, each through an accepted configuration submission',
   'Modifications de la configuration de comptes actifs pendant la période, chacune au moyen d''une présentation de configuration acceptée'),
  ('activity_report_line', 'accounts_implemented',
   'Moves configuration to implementation (accounts going live) in the period',
   'Passages de configuration à implementation (mise en service des comptes) pendant la période'),
  ('activity_report_line', 'evaluations_started',
   'Moves into evaluation in the period',
   'Passages à l''étape evaluation pendant la période'),
  ('activity_report_line', 'dispositions_started',
   'Moves into disposition in the period',
   'Passages à l''étape disposition pendant la période'),
  ('activity_report_line', 'accounts_disposed',
   'Moves disposition to disposed in the period (6.2.2)',
   'Passages de disposition à disposed pendant la période (6.2.2)'),
  ('activity_report_line', 'accounts_abandoned',
   'Planned accounts abandoned (planning to disposed) in the period',
   'Comptes planifiés abandonnés (de planning à disposed) pendant la période'),
  ('activity_report_line', 'platform_reviews',
   'Total line only (NULL on department lines): platform reviews (6.2.3) dated in the period',
   'Ligne du total seulement (NULL sur les lignes des ministères) : examens de plateformes (6.2.3) datés de la période'),
  ('activity_report_line', 'platform_reviews_accepted',
   'Total line only: of them, accepted',
   'Ligne du total seulement : parmi eux, les examens acceptés'),
  ('activity_report_line', 'platform_reviews_rejected',
   'Total line only: of them, rejected',
   'Ligne du total seulement : parmi eux, les examens rejetés'),
  ('activity_report_line', 'platform_reviews_by_kind',
   'Total line only: JSON {"kind": {"accepted": n, "rejected": n}} for each kind reviewed in the period (functionality, terms_of_use, privacy_risk, security_risk, model_pia)',
   'Ligne du total seulement : JSON {"kind": {"accepted": n, "rejected": n}} pour chaque type examiné pendant la période (functionality : fonctionnalités, terms_of_use : conditions d''utilisation, privacy_risk : risques pour la vie privée, security_risk : risques pour la sécurité, model_pia : EFVP type)'),
  ('activity_report_line', 'index_publications',
   'Total line only: publications of the index (6.2.4) in the period',
   'Ligne du total seulement : publications du répertoire (6.2.4) pendant la période'),
  ('activity_report_line', 'index_last_published_at',
   'Total line only: the last publication in the period (NULL: none)',
   'Ligne du total seulement : la dernière publication pendant la période (NULL : aucune)'),
  ('activity_report_line', 'index_last_account_count',
   'Total line only: how many accounts the last publication in the period listed (NULL: none)',
   'Ligne du total seulement : nombre de comptes répertoriés par la dernière publication de la période (NULL : aucune)'),
  ('activity_report_line', 'posts_published',
   'Posts published through the platform management tool (6.1.4), settled in the period',
   'Publications (posts) diffusées au moyen de l''outil de gestion des plateformes (6.1.4) et terminées pendant la période'),
  ('activity_report_line', 'deliveries_delivered',
   'Deliveries of posts to accounts delivered in the period',
   'Envois de publications livrés aux comptes pendant la période'),
  ('activity_report_line', 'deliveries_dead',
   'Deliveries given up (dead) in the period',
   'Envois abandonnés (dead) pendant la période'),
  ('compliance_by_department', NULL,
   'Status now, per department and requirement of 6.1, 7.1.2 and 8.1 (and per requirement of 6.2, 7.3 for the entity, 7.2.3 for TBS, department NULL): met, not met, not applicable, not assessed; departments see their own rows',
   'État actuel, par ministère et par exigence de 6.1, 7.1.2 et 8.1 (et par exigence de 6.2 et 7.3 pour l''entité, 7.2.3 pour le SCT, ministère NULL) : met, not met, not applicable, not assessed; les ministères voient leurs propres lignes'),
  ('compliance_by_department', 'department_id',
   'The department (NULL for the entity''s and TBS''s own requirements)',
   'Le ministère (NULL pour les exigences propres à l''entité et au SCT)'),
  ('compliance_by_department', 'department_en',
   'The department''s English name (The entity, or Treasury Board of Canada Secretariat, on their own rows)',
   'Le nom anglais du ministère (The entity ou Treasury Board of Canada Secretariat sur leurs propres lignes)'),
  ('compliance_by_department', 'department_fr',
   'The department''s French name, NULL where none is known (L''entité, or Secrétariat du Conseil du Trésor du Canada, on their own rows)',
   'Le nom français du ministère, NULL s''il n''est pas connu (L''entité ou Secrétariat du Conseil du Trésor du Canada sur leurs propres lignes)'),
  ('compliance_by_department', 'party',
   'Who the requirement binds: department (6.1, 7.1.2, 8.1), entity (6.2, 7.3) or tbs (7.2.3)',
   'Qui l''exigence vise : department (le ministère : 6.1, 7.1.2, 8.1), entity (l''entité : 6.2, 7.3) ou tbs (le SCT : 7.2.3)'),
  ('compliance_by_department', 'requirement',
   'The requirement''s number in the Standard (6.1.1, 6.2.4, 7.1.2, 8.1, ...; the rules are in compliance_rule)',
   'Le numéro de l''exigence dans la Norme (6.1.1, 6.2.4, 7.1.2, 8.1, ...; les règles figurent dans compliance_rule)'),
  ('compliance_by_department', 'status',
   'met | not met | not applicable (not in force, not enforced, or section 2.2) | not assessed (smam cannot compute the rule: 6.2.1 while the entity has set no review service standard)',
   'met (respectée) | not met (non respectée) | not applicable (sans objet : pas en vigueur, non appliquée, ou article 2.2) | not assessed (non évaluée : smam ne peut calculer la règle, p. ex. 6.2.1 tant que l''entité n''a fixé aucune norme de service pour l''examen)'),
  ('compliance_by_department', 'status_reason',
   'Why not applicable (not yet in force, not enforced, section 2.2 for an agent of Parliament) or not assessed, in English; NULL when met or not met',
   'Pourquoi sans objet (not yet in force, not enforced, article 2.2 pour un agent du Parlement) ou non évaluée, en anglais; NULL si respectée ou non respectée'),
  ('compliance_by_department', 'findings',
   'Number of findings (compliance_findings) behind a not met, 0 otherwise; on the entity''s and TBS''s rows, the requirement''s findings in every department',
   'Nombre de constats (compliance_findings) à l''origine d''un état not met, 0 sinon; sur les lignes de l''entité et du SCT, les constats de l''exigence dans tous les ministères'),
  ('compliance_findings', NULL,
   'One row per finding now: requirement, department, party responsible, object, what is wrong, since when; departments see their own',
   'Une ligne par constat actuel : exigence, ministère, partie responsable, objet, ce qui ne va pas, depuis quand; les ministères voient leurs propres constats'),
  ('compliance_findings', 'requirement',
   'The requirement not met (6.1.2, 6.2.4, 7.1.2, 8.1, ...)',
   'L''exigence non respectée (6.1.2, 6.2.4, 7.1.2, 8.1, ...)'),
  ('compliance_findings', 'department_id',
   'The department concerned (NULL for a government-wide finding)',
   'Le ministère concerné (NULL pour un constat pangouvernemental)'),
  ('compliance_findings', 'department_en',
   'The department''s English name (NULL with department_id)',
   'Le nom anglais du ministère (NULL si department_id est NULL)'),
  ('compliance_findings', 'party',
   'Who the requirement binds: department, entity or tbs',
   'Qui l''exigence vise : department (le ministère), entity (l''entité) ou tbs (le SCT)'),
  ('compliance_findings', 'object_type',
   'department, strategy, implementation_plan, account, submission, platform, report_request, corrective_action or standard',
   'department (ministère), strategy (stratégie), implementation_plan (plan de mise en œuvre), account (compte), submission (présentation), platform (plateforme), report_request (demande de rapport), corrective_action (mesure corrective) ou standard (la Norme)'),
  ('compliance_findings', 'object_id',
   'The id of the object in its table (NULL for a platform; 1 for the Standard)',
   'L''identifiant de l''objet dans sa table (NULL pour une plateforme; 1 pour la Norme)'),
  ('compliance_findings', 'object_label',
   'What the object is called: the department''s English name, the strategy''s or plan''s title, the account''s URL, the submission''s kind, the platform''s code, the report''s subject, the requirement a corrective action is on, the Standard''s title',
   'Le nom de l''objet : le nom anglais du ministère, le titre de la stratégie ou du plan, l''adresse URL du compte, le type de présentation, le code de la plateforme, l''objet du rapport, l''exigence visée par la mesure corrective, le titre de la Norme'),
  ('compliance_findings', 'problem',
   'What is wrong, in a sentence, in English',
   'Ce qui ne va pas, en une phrase, en anglais'),
  ('compliance_findings', 'since',
   'Since when it has been wrong, as far as smam knows',
   'Depuis quand le problème existe, selon ce que smam en sait'),
  ('compliance_findings', 'finding_key',
   'Stable key: requirement/department/object_type/object_id (''-'' for no department; the platform''s code for a platform)',
   'Clé stable : exigence/ministère/object_type/object_id (''-'' en l''absence de ministère; le code de la plateforme pour une plateforme)'),
  ('compliance_rule', NULL,
   'The compliance rules: the requirement, the party assessed (department, entity, tbs), whether smam computes it, and the rule',
   'Les règles de conformité : l''exigence, la partie évaluée (department, entity, tbs), si smam la calcule, et la règle'),
  ('compliance_rule', 'requirement',
   'The requirement''s number in the Standard: 6.1.1 to 6.1.5, 6.2.1 to 6.2.5, 7.1.2, 7.2.3, 7.3.1, 7.3.2 and 8.1 (the others have no rule)',
   'Le numéro de l''exigence dans la Norme : 6.1.1 à 6.1.5, 6.2.1 à 6.2.5, 7.1.2, 7.2.3, 7.3.1, 7.3.2 et 8.1 (les autres n''ont pas de règle)'),
  ('compliance_rule', 'party',
   'Who is assessed: department (each department), entity or tbs',
   'Qui est évalué : department (chaque ministère), entity (l''entité) ou tbs (le SCT)'),
  ('compliance_rule', 'assessed',
   'Whether smam computes the rule from its data; a rule it does not compute is not assessed, never met',
   'Indique si smam calcule la règle à partir de ses données; une règle qu''il ne calcule pas est not assessed (non évaluée), jamais met (respectée)'),
  ('compliance_rule', 'rule',
   'What smam checks, in English',
   'Ce que smam vérifie, en anglais'),
  ('compliance_summary', NULL,
   'Per requirement, for the whole government: status, parties met / not met / not applicable, findings; for 6.2.4 the last publication and the changes not yet published',
   'Par exigence, pour l''ensemble du gouvernement : état, nombre de parties qui la respectent, ne la respectent pas ou pour lesquelles elle est sans objet, constats; pour 6.2.4, la dernière publication et les modifications non encore publiées'),
  ('compliance_summary', 'requirement',
   'The requirement''s number in the Standard (one row per rule of compliance_rule)',
   'Le numéro de l''exigence dans la Norme (une ligne par règle de compliance_rule)'),
  ('compliance_summary', 'party',
   'Who the requirement binds: department, entity or tbs',
   'Qui l''exigence vise : department (les ministères), entity (l''entité) ou tbs (le SCT)'),
  ('compliance_summary', 'status',
   'not applicable if it applies to no party; else not assessed if smam cannot compute it for a party; else not met if any party has not met it; else met',
   'not applicable (sans objet) si elle ne s''applique à aucune partie; sinon not assessed (non évaluée) si smam ne peut la calculer pour une partie; sinon not met (non respectée) si une partie ne la respecte pas; sinon met (respectée)'),
  ('compliance_summary', 'parties_met',
   'Number of parties that meet it: departments, or 1 for the entity or TBS (parties not assessed are in none of the three counts)',
   'Nombre de parties qui la respectent : ministères, ou 1 pour l''entité ou le SCT (les parties non évaluées ne figurent dans aucun des trois nombres)'),
  ('compliance_summary', 'parties_not_met',
   'Number of parties that do not meet it',
   'Nombre de parties qui ne la respectent pas'),
  ('compliance_summary', 'parties_not_applicable',
   'Number of parties to which it does not apply now: not in force, not enforced, or section 2.2',
   'Nombre de parties auxquelles elle ne s''applique pas actuellement : pas en vigueur, non appliquée, ou article 2.2'),
  ('compliance_summary', 'findings',
   'Number of findings, all parties',
   'Nombre de constats, toutes parties confondues'),
  ('compliance_summary', 'index_last_published_at',
   '6.2.4 only: when the index was last published (NULL: never, or another requirement)',
   '6.2.4 seulement : date et heure de la dernière publication du répertoire (NULL : jamais publié, ou autre exigence)'),
  ('compliance_summary', 'index_unpublished_changes',
   '6.2.4 only: live accounts the last publication does not show as they are, and entries of it no longer live',
   '6.2.4 seulement : comptes actifs que la dernière publication ne montre pas tels qu''ils sont, et entrées de cette publication qui ne sont plus actives'),
  ('data_dictionary', NULL,
   'The meaning of every view of smam_report and of each of its columns, in English and French: for BI tools that do not read comments (psqlODBC)',
   'La signification de chaque vue de smam_report et de chacune de ses colonnes, en anglais et en français : pour les outils de BI qui ne lisent pas les commentaires (psqlODBC)'),
  ('data_dictionary', 'view_name',
   'The view of smam_report described',
   'La vue de smam_report décrite'),
  ('data_dictionary', 'column_name',
   'The column described; NULL on the row that describes the view itself',
   'La colonne décrite; NULL sur la ligne qui décrit la vue elle-même'),
  ('data_dictionary', 'ordinal',
   'The column''s position in the view, from 1 (0 on the view''s own row): sort by it to read the columns in order',
   'La position de la colonne dans la vue, à partir de 1 (0 sur la ligne de la vue elle-même) : trier selon cette valeur pour lire les colonnes dans l''ordre'),
  ('data_dictionary', 'data_type',
   'The column''s PostgreSQL data type (bigint, text, date, timestamp with time zone, interval, ...); NULL on the view''s own row',
   'Le type de données PostgreSQL de la colonne (bigint, text, date, timestamp with time zone, interval, ...); NULL sur la ligne de la vue elle-même'),
  ('data_dictionary', 'meaning_en',
   'What the view or column holds, in English (also its COMMENT)',
   'Ce que contient la vue ou la colonne, en anglais (aussi son COMMENT)'),
  ('data_dictionary', 'meaning_fr',
   'What the view or column holds, in French',
   'Ce que contient la vue ou la colonne, en français'),
  ('index_reject', NULL,
   'Rows of index imports that were rejected: the row as it came and the reason (rows held for a decision on their department are not here)',
   'Lignes des importations du répertoire qui ont été rejetées : la ligne telle qu''elle a été reçue et la raison (les lignes en attente d''une décision sur leur ministère n''y figurent pas)'),
  ('index_reject', 'import_id',
   'The import (smam.index_import.id)',
   'L''importation (smam.index_import.id)'),
  ('index_reject', 'row_number',
   'The row''s number in the file (1 = the first row after the header; for feeds, the entry''s number)',
   'Le numéro de la ligne dans le fichier (1 = la première ligne après l''en-tête; pour les flux, le numéro de l''entrée)'),
  ('index_reject', 'line_number',
   'The line of the file the row starts on (CSV; NULL for feeds)',
   'La ligne du fichier où commence l''enregistrement (CSV; NULL pour les flux)'),
  ('index_reject', 'raw',
   'The row as it came (a CSV record, or a feed entry as JSON)',
   'La ligne telle qu''elle a été reçue (un enregistrement CSV, ou une entrée de flux en JSON)'),
  ('index_reject', 'reason',
   'Why it did not become an account, in English',
   'Pourquoi elle n''est pas devenue un compte, en anglais'),
  ('metrics_monthly', NULL,
   'Account metrics by department, platform, month and metric, for the evaluation stage (6.1.2)',
   'Indicateurs des comptes par ministère, plateforme, mois et indicateur, pour l''étape de l''évaluation (6.1.2)'),
  ('metrics_monthly', 'department_id',
   'The department the account belonged to when the value was observed (smam.department.id)',
   'Le ministère auquel appartenait le compte au moment où la valeur a été relevée (smam.department.id)'),
  ('metrics_monthly', 'department_en',
   'The department''s English name',
   'Le nom anglais du ministère'),
  ('metrics_monthly', 'platform',
   'The platform''s code (facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (facebook, x, instagram, youtube, linkedin, ...)'),
  ('metrics_monthly', 'month',
   'The month, as its first day (a date, in smam.time_zone)',
   'Le mois, représenté par son premier jour (une date, dans smam.time_zone)'),
  ('metrics_monthly', 'metric',
   'The metric''s name as the platform reports it (followers_count, tweet_count, ...)',
   'Le nom de l''indicateur tel que la plateforme le communique (followers_count, tweet_count, ...)'),
  ('metrics_monthly', 'accounts',
   'Number of accounts with at least one value of the metric in the month',
   'Nombre de comptes ayant au moins une valeur de l''indicateur pendant le mois'),
  ('metrics_monthly', 'last_value_total',
   'Sum over those accounts of each one''s last value in the month (for a count such as followers, the month-end total); an account that changed department in the month counts in the one it had at its last value',
   'Somme, pour ces comptes, de la dernière valeur de chacun pendant le mois (pour un nombre comme les abonnés, le total en fin de mois); un compte qui a changé de ministère pendant le mois compte dans celui qu''il avait à sa dernière valeur'),
  ('metrics_monthly', 'average_value',
   'Average of every value observed in the month, all accounts and pulls together',
   'Moyenne de toutes les valeurs relevées pendant le mois, tous comptes et relevés confondus'),
  ('metrics_monthly', 'observations',
   'Number of values observed in the month (one per account, metric and pull)',
   'Nombre de valeurs relevées pendant le mois (une par compte, indicateur et relevé)'),
  ('public_index', NULL,
   'Index of official social media accounts (6.2.4): live accounts only (implementation, evaluation), nothing internal; readable by smam_public',
   'Répertoire des comptes officiels de médias sociaux (6.2.4) : comptes actifs seulement (étapes implementation et evaluation), aucune donnée interne; lisible par smam_public'),
  ('public_index', 'department_en',
   'The department''s English name',
   'Le nom anglais du ministère'),
  ('public_index', 'department_fr',
   'The department''s French name (the English one where none is known)',
   'Le nom français du ministère (son nom anglais s''il n''est pas connu)'),
  ('public_index', 'account_en',
   'The account''s English name, if any',
   'Le nom anglais du compte, s''il y en a un'),
  ('public_index', 'account_fr',
   'The account''s French name, if any',
   'Le nom français du compte, s''il y en a un'),
  ('public_index', 'platform',
   'The platform''s name (Facebook, X, ...)',
   'Le nom de la plateforme (Facebook, X, ...)'),
  ('public_index', 'url',
   'The account''s canonical address',
   'L''adresse canonique du compte'),
  ('public_index', 'official_language',
   'The official language(s) the account publishes in: english, french or bilingual',
   'La ou les langues officielles dans lesquelles le compte publie : english (anglais), french (français) ou bilingual (bilingue)'),
  ('public_index', 'listed_on',
   'Date the account was first listed in the index: the day it went live (smam.time_zone); for an onboarded account, the date given (canada.ca''s Date Added), else the day it was onboarded',
   'Date à laquelle le compte a été inscrit pour la première fois au répertoire : le jour de sa mise en service (smam.time_zone); pour un compte intégré, la date fournie (la date d''ajout du répertoire de canada.ca), sinon le jour de son intégration'),
  ('public_index', 'owner_en',
   'Whose account it is, in English: the owner the English index names (smam.account_owner_label), else the department''s English name',
   'À qui appartient le compte, en anglais : le titulaire que nomme le répertoire anglais (smam.account_owner_label), sinon le nom anglais du ministère'),
  ('public_index', 'owner_fr',
   'Whose account it is, in French: the owner the French index names, else the department''s French name (its English one where none is known)',
   'À qui appartient le compte, en français : le titulaire que nomme le répertoire français, sinon le nom français du ministère (son nom anglais s''il n''est pas connu)'),
  ('published_index_files', NULL,
   'The files each publication of the index put on the website (sm-en.json, sm-fr.json): size and SHA-256; readable by smam_public',
   'Les fichiers que chaque publication du répertoire a mis sur le site Web (sm-en.json, sm-fr.json) : taille et SHA-256; lisible par smam_public'),
  ('published_index_files', 'snapshot_id',
   'The publication (smam.index_snapshot.id); each has two files',
   'La publication (smam.index_snapshot.id); chacune compte deux fichiers'),
  ('published_index_files', 'published_at',
   'When the index was published',
   'Date et heure de la publication du répertoire'),
  ('published_index_files', 'lang',
   'The file''s language: en or fr',
   'La langue du fichier : en (anglais) ou fr (français)'),
  ('published_index_files', 'file_name',
   'The file''s name on the website: sm-en.json or sm-fr.json',
   'Le nom du fichier sur le site Web : sm-en.json ou sm-fr.json'),
  ('published_index_files', 'content_sha256',
   'SHA-256 of the file''s bytes, hex: compare with sha256sum of the file served',
   'SHA-256 des octets du fichier, en hexadécimal : à comparer avec le sha256sum du fichier servi'),
  ('published_index_files', 'byte_count',
   'The file''s size in bytes',
   'La taille du fichier en octets'),
  ('published_index_files', 'latest',
   'Whether this is the last publication (what the website should serve now)',
   'Indique s''il s''agit de la dernière publication (ce que le site Web devrait servir maintenant)'),
  ('publishing_report', NULL,
   'Publishing by department, platform and month: posts, deliveries, delivered, dead, cancelled, retries, time to approve and to deliver',
   'Diffusion par ministère, plateforme et mois : publications, envois, envois livrés, abandonnés, annulés, reprises, délai d''approbation et de livraison'),
  ('publishing_report', 'department_id',
   'The department the posts were published for (smam.department.id)',
   'Le ministère pour lequel les publications ont été diffusées (smam.department.id)'),
  ('publishing_report', 'department_en',
   'The department''s English name',
   'Le nom anglais du ministère'),
  ('publishing_report', 'platform',
   'The platform''s code (facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (facebook, x, instagram, youtube, linkedin, ...)'),
  ('publishing_report', 'month',
   'The month the deliveries were scheduled for, as its first day (a date, in smam.time_zone)',
   'Le mois pour lequel les envois étaient prévus, représenté par son premier jour (une date, dans smam.time_zone)'),
  ('publishing_report', 'posts',
   'Number of posts with at least one delivery in the row (a post sent to two platforms counts in both rows)',
   'Nombre de publications ayant au moins un envoi dans la ligne (une publication envoyée sur deux plateformes compte dans les deux lignes)'),
  ('publishing_report', 'deliveries',
   'Number of deliveries (one per post and account), whatever their status',
   'Nombre d''envois (un par publication et par compte), quel que soit leur statut'),
  ('publishing_report', 'delivered',
   'Deliveries the platform accepted (delivered)',
   'Envois acceptés par la plateforme (delivered)'),
  ('publishing_report', 'dead',
   'Deliveries given up (dead): a failure not worth retrying, or retries exhausted',
   'Envois abandonnés (dead) : un échec qui ne justifie pas de nouvelle tentative, ou tentatives épuisées'),
  ('publishing_report', 'cancelled',
   'Deliveries cancelled before sending (cancelled): the post was edited or cancelled, or the account stopped being live',
   'Envois annulés avant l''envoi (cancelled) : la publication a été modifiée ou annulée, ou le compte n''est plus actif'),
  ('publishing_report', 'in_progress',
   'Deliveries not settled yet: pending (waiting for their time or a retry) or sending',
   'Envois non encore terminés : pending (en attente de leur heure ou d''une nouvelle tentative) ou sending (en cours d''envoi)'),
  ('publishing_report', 'retried',
   'Deliveries that took more than one attempt, whatever their status',
   'Envois qui ont nécessité plus d''une tentative, quel que soit leur statut'),
  ('publishing_report', 'average_attempts',
   'Average number of attempts of the settled deliveries (delivered or dead), to 2 decimals (NULL: none settled)',
   'Nombre moyen de tentatives des envois terminés (delivered ou dead), à 2 décimales (NULL : aucun envoi terminé)'),
  ('publishing_report', 'average_time_to_approve',
   'Average time from a post''s first submission to its final approval, an interval, taken over the deliveries (a post sent to three accounts counts three times); NULL: none approved',
   'Délai moyen entre la première soumission d''une publication et son approbation finale, de type interval, calculé sur les envois (une publication envoyée à trois comptes compte trois fois); NULL : aucune approuvée'),
  ('publishing_report', 'average_time_to_deliver',
   'Average time from the scheduled time to delivery, of the delivered ones, an interval (NULL: none delivered)',
   'Délai moyen entre l''heure prévue et la livraison, pour les envois livrés, de type interval (NULL : aucun envoi livré)'),
  ('requirement_catalogue', NULL,
   'Every requirement (sections 6 and 7) and consequence (section 8) of the Standard, with its effective date and status today',
   'Chaque exigence (sections 6 et 7) et conséquence (section 8) de la Norme, avec sa date d''entrée en vigueur et son état aujourd''hui'),
  ('requirement_catalogue', 'code',
   'The requirement''s number in the Standard (6.1.1 ... 8.2)',
   'Le numéro de l''exigence dans la Norme (6.1.1 ... 8.2)'),
  ('requirement_catalogue', 'section',
   'The section it belongs to: 6.1, 6.2, 7.1, 7.2, 7.3 or 8',
   'La section à laquelle elle appartient : 6.1, 6.2, 7.1, 7.2, 7.3 ou 8'),
  ('requirement_catalogue', 'parent_code',
   'The requirement it details (6.2.3 for 6.2.3.1 and 6.2.3.2); NULL otherwise',
   'L''exigence qu''elle précise (6.2.3 pour 6.2.3.1 et 6.2.3.2); NULL sinon'),
  ('requirement_catalogue', 'kind',
   'requirement (sections 6 and 7) or consequence (section 8)',
   'requirement (exigence : sections 6 et 7) ou consequence (conséquence : section 8)'),
  ('requirement_catalogue', 'responsible',
   'The office the Standard makes responsible: head_of_communications (6.1), entity_official (6.2, 7.3), deputy_head (7.1, 8.1) or tbs_analyst (7.2, 8.2)',
   'Le poste que la Norme rend responsable : head_of_communications (chef des communications : 6.1), entity_official (cadre supérieur désigné de l''entité : 6.2, 7.3), deputy_head (administrateur général : 7.1, 8.1) ou tbs_analyst (SCT : 7.2, 8.2)'),
  ('requirement_catalogue', 'text',
   'The requirement''s text in the Standard, in English',
   'Le texte de l''exigence dans la Norme, en anglais'),
  ('requirement_catalogue', 'effective_on',
   'The date it takes effect: 2013-04-01 for those section 1.2 made effective immediately (6.1.1, 6.1.2, 6.1.5, 7.1, 7.2), else the date the Secretary communicated, as recorded (NULL: none recorded yet)',
   'La date de son entrée en vigueur : le 1er avril 2013 (2013-04-01) pour celles que l''article 1.2 a fait entrer en vigueur immédiatement (6.1.1, 6.1.2, 6.1.5, 7.1, 7.2), sinon la date communiquée par le secrétaire du Conseil du Trésor, telle que consignée (NULL : aucune consignée)'),
  ('requirement_catalogue', 'not_for_agents_of_parliament',
   'Section 2.2: true when it does not apply to the seven agents of Parliament (7.1.2, 7.2, 8.2)',
   'Article 2.2 : vrai si elle ne s''applique pas aux sept agents du Parlement (7.1.2, 7.2, 8.2)'),
  ('requirement_catalogue', 'status',
   'Its status today, for no department in particular: in force, not yet in force (no effective date recorded, or a later one) or not enforced (an administrator set smam not to enforce the Standard)',
   'Son état aujourd''hui, pour aucun ministère en particulier : in force (en vigueur), not yet in force (pas encore en vigueur : aucune date consignée, ou une date ultérieure) ou not enforced (non appliquée : un administrateur a configuré smam pour qu''il n''applique pas la Norme)');

SELECT smam.apply_report_dictionary();

-- ---- as sql/smam/97_audit_attach.sql and 99_privileges.sql do for a fresh install ----
SELECT smam.attach_audit();
REVOKE ALL ON FUNCTION smam.apply_report_dictionary() FROM PUBLIC;

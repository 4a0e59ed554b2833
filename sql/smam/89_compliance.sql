-- Compliance (section 7): reporting requests and frozen reports (7.1.2,
-- 7.3), corrective actions and consequences (7.2.2, 8.1, 8.2), the review
-- of the Standard (7.2.3), then the findings computed from the data and the
-- views built on them. Section 2.2: 7.1.2, 7.2 and 8.2 do not apply to the
-- agents of Parliament.

-- ---- Reporting (7.1.2, 7.3) ----
CREATE SEQUENCE smam.report_request_id_seq;
CREATE TABLE smam.report_request (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.report_request_id_seq'),
  department_id  bigint REFERENCES smam.department (id),
  kind           text NOT NULL CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['compliance', 'activities'])),
  subject        text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(subject)) OPERATOR(pg_catalog.>) 0),
  due_on         date NOT NULL,
  requested_by   name NOT NULL DEFAULT smam.acting_role(),
  requested_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.report_request_id_seq OWNED BY smam.report_request.id;
CREATE INDEX report_request_department_idx ON smam.report_request (department_id);
COMMENT ON TABLE smam.report_request IS
  'TBS requests a report: from a department''s deputy head (7.1.2) or, department NULL, from the entity (7.3.1 activities, 7.3.2 compliance)';

CREATE SEQUENCE smam.compliance_report_id_seq;
CREATE TABLE smam.compliance_report (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.compliance_report_id_seq'),
  request_id      bigint NOT NULL UNIQUE REFERENCES smam.report_request (id),
  department_id   bigint REFERENCES smam.department (id),
  as_of           timestamptz NOT NULL,
  submitted_by    name NOT NULL DEFAULT smam.acting_role(),
  submitted_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  statement       text,
  by_requirement  jsonb NOT NULL,
  findings        jsonb NOT NULL,
  content_sha256  text NOT NULL,
  audit_digest    jsonb,
  time_zone       text NOT NULL DEFAULT smam.time_zone()
);
ALTER SEQUENCE smam.compliance_report_id_seq OWNED BY smam.compliance_report.id;
COMMENT ON TABLE smam.compliance_report IS
  'A submitted report: the compliance picture frozen at as_of, its SHA-256, and the audit log digest of that moment where the audit log exists';
COMMENT ON COLUMN smam.compliance_report.content_sha256 IS
  'SHA-256 of by_requirement, findings and activities (text form, in that order; activities only in an activities report)';
COMMENT ON COLUMN smam.compliance_report.audit_digest IS 'smam.audit_digest() at submission, when the audit log is installed; NULL otherwise';
COMMENT ON COLUMN smam.compliance_report.time_zone IS
  'smam.time_zone at submission: the zone the findings'' dates were read in, and in which smam.reproduce_report reads them again';

-- ---- Corrective action (7.2.2, 8.1) and consequences (8.2) ----
CREATE SEQUENCE smam.corrective_action_id_seq;
CREATE TABLE smam.corrective_action (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.corrective_action_id_seq'),
  department_id   bigint REFERENCES smam.department (id),  -- NULL: recommended to the entity (7.2.2)
  requirement     text NOT NULL REFERENCES smam.requirement (code),
  finding_key     text,
  recommendation  text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(recommendation)) OPERATOR(pg_catalog.>) 0),
  due_on          date NOT NULL,
  recommended_by  name NOT NULL DEFAULT smam.acting_role(),
  recommended_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  completed_at    timestamptz
);
ALTER SEQUENCE smam.corrective_action_id_seq OWNED BY smam.corrective_action.id;
CREATE INDEX corrective_action_department_idx ON smam.corrective_action (department_id);
COMMENT ON TABLE smam.corrective_action IS
  'Corrective action TBS recommends to a department on a requirement or finding (7.2.2), due by a date; completed by the measures of 8.1';

CREATE SEQUENCE smam.corrective_measure_id_seq;
CREATE TABLE smam.corrective_measure (
  id           bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.corrective_measure_id_seq'),
  action_id    bigint NOT NULL REFERENCES smam.corrective_action (id),
  description  text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(description)) OPERATOR(pg_catalog.>) 0),
  completes    boolean NOT NULL,
  recorded_by  name NOT NULL DEFAULT smam.acting_role(),
  recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.corrective_measure_id_seq OWNED BY smam.corrective_measure.id;
CREATE INDEX corrective_measure_action_idx ON smam.corrective_measure (action_id);
COMMENT ON TABLE smam.corrective_measure IS 'Measures a deputy head records against a corrective action (8.1); completes closes the action';

CREATE SEQUENCE smam.consequence_id_seq;
CREATE TABLE smam.consequence (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.consequence_id_seq'),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  action_id      bigint REFERENCES smam.corrective_action (id),
  kind           text NOT NULL CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['spending_authority_limits', 'other_measure'])),
  description    text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(description)) OPERATOR(pg_catalog.>) 0),
  decided_by     name NOT NULL DEFAULT smam.acting_role(),
  decided_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.consequence_id_seq OWNED BY smam.consequence.id;
COMMENT ON TABLE smam.consequence IS
  'Consequences of non-compliance (8.2): a recommendation to the Treasury Board to limit spending authority, or another measure';

-- ---- The review of the Standard (7.2.3) ----
CREATE SEQUENCE smam.standard_review_id_seq;
CREATE TABLE smam.standard_review (
  id            bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.standard_review_id_seq'),
  initiated_on  date NOT NULL,
  framework     text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(framework)) OPERATOR(pg_catalog.>) 0),
  recorded_by   name NOT NULL DEFAULT smam.acting_role(),
  recorded_at   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.standard_review_id_seq OWNED BY smam.standard_review.id;
COMMENT ON TABLE smam.standard_review IS 'Reviews of the Standard TBS initiated, with the framework (7.2.3: within five years of the effective date)';

-- Who may act for TBS, and the 2.2 refusal.
CREATE FUNCTION smam.require_tbs(requirement text, act text) RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM smam.require_office('tbs_analyst', NULL, requirement, act);
END
$$;

CREATE FUNCTION smam.refuse_for_agent_of_parliament(department bigint, requirement text, act text) RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  IF (SELECT d.agent_of_parliament FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('42501', '2.2',
      format('TBS may not %s for %s', act, (SELECT d.name_en FROM smam.department d WHERE d.id = department)),
      format('Section 2.2: requirement %s does not apply to the agents of Parliament, whose deputy heads alone monitor and ensure compliance.', requirement),
      'Leave monitoring and corrective measures to the organization''s deputy head.');
  END IF;
END
$$;

-- An activities report (7.3.1) covers a period of calendar days in
-- smam.time_zone, from period_from until period_until (exclusive, as a
-- strategy's in_force_until): by default the twelve months before the day
-- of the request, so that the entity can answer at once.
CREATE FUNCTION smam.request_report(department bigint, due_on date, subject text, kind text DEFAULT 'compliance',
                                    period_from date DEFAULT NULL, period_until date DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_tbs(CASE WHEN department IS NOT NULL THEN '7.1.2' WHEN kind = 'activities' THEN '7.3.1' ELSE '7.3.2' END,
                          'request a report');
  IF department IS NOT NULL THEN
    PERFORM smam.refuse_for_agent_of_parliament(department, '7.1.2', 'request a compliance report');
    IF kind <> 'compliance' THEN
      PERFORM smam.refuse('22023', '7.1.2', format('a department reports on compliance, not on %s', kind), NULL,
        'Request a report of kind compliance from a department; activity reports come from the entity (7.3.1).');
    END IF;
  END IF;
  IF kind IS NULL OR kind NOT IN ('compliance', 'activities') THEN
    PERFORM smam.refuse('22023', '7.3', format('"%s" is not a kind of report', kind), NULL,
      'Request compliance (7.1.2, 7.3.2) or activities (7.3.1).');
  END IF;
  IF due_on IS NULL OR due_on < smam.today() THEN
    PERFORM smam.refuse('22023', '7.1.2', format('a report cannot be due on %s', coalesce(smam.date_text(due_on), 'no date')), NULL,
      'Give a due date from today on.');
  END IF;
  IF subject IS NULL OR btrim(subject) = '' THEN
    PERFORM smam.refuse('22023', '7.1.2', 'a report request needs a subject', NULL, 'Say what the report is to cover.');
  END IF;
  IF kind = 'compliance' AND (period_from IS NOT NULL OR period_until IS NOT NULL) THEN
    PERFORM smam.refuse('22023', CASE WHEN department IS NULL THEN '7.3.2' ELSE '7.1.2' END,
      'a compliance report has no period',
      'A compliance report is the picture of the moment it is submitted; an activities report (7.3.1) counts what was done in a period.',
      'Leave period_from and period_until out, or request an activities report from the entity.');
  END IF;
  IF kind = 'activities' THEN
    IF (period_from IS NULL) <> (period_until IS NULL) THEN
      PERFORM smam.refuse('22023', '7.3.1', 'an activities report''s period needs its first day and its end', NULL,
        'Give both period_from and period_until, or neither for the twelve months before today.');
    END IF;
    IF period_from IS NULL THEN
      period_until := smam.today();
      period_from := (period_until - interval '12 months')::date;
    END IF;
    IF period_from >= period_until THEN
      PERFORM smam.refuse('22023', '7.3.1', 'an activities report''s period must end after it begins',
        format('The period given runs from %s until %s.', smam.date_text(period_from), smam.date_text(period_until)),
        'Give period_until after period_from: it is the first day the report does not count.');
    END IF;
    IF period_until > due_on THEN
      PERFORM smam.refuse('22023', '7.3.1', format('a report due on %s cannot count days after it', smam.date_text(due_on)),
        format('The period runs until %s; an activities report is submitted once its period is over, by its due date.',
               smam.date_text(period_until)),
        'End the period on or before the due date, or give a later due date.');
    END IF;
  END IF;
  INSERT INTO smam.report_request (department_id, kind, subject, due_on, period_from, period_until)
  VALUES (department, kind, btrim(subject), due_on, period_from, period_until) RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.request_report(bigint, date, text, text, date, date) IS
  'TBS requests a report from a department (7.1.2) or, department NULL, from the entity (7.3): compliance, or activities over a period (by default the twelve months before today); refused for agents of Parliament (2.2)';

-- ---- Service standards the entity sets (6.2.1) ----
CREATE SEQUENCE smam.service_standard_id_seq;
CREATE TABLE smam.service_standard (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.service_standard_id_seq'),
  name            text NOT NULL CHECK (name OPERATOR(pg_catalog.=) ANY (ARRAY['submission_review', 'evaluation'])),
  within          interval NOT NULL CHECK (within OPERATOR(pg_catalog.>) '0'::interval),
  effective_from  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  set_by          name NOT NULL DEFAULT smam.acting_role(),
  set_at          timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.service_standard_id_seq OWNED BY smam.service_standard.id;
COMMENT ON TABLE smam.service_standard IS
  'Service standards the entity sets, as a history: submission_review (6.2.1: a submission is reviewed within), evaluation (6.1.2: a live account is evaluated at least every)';

CREATE FUNCTION smam.service_standard_at(name text, at timestamptz DEFAULT pg_catalog.now()) RETURNS interval
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT s.within FROM smam.service_standard s
     WHERE s.name = service_standard_at.name AND s.effective_from <= service_standard_at.at
     ORDER BY s.effective_from DESC, s.id DESC LIMIT 1
  $$;
COMMENT ON FUNCTION smam.service_standard_at(text, timestamptz) IS 'The service standard in force at a moment, or NULL when none is set';

CREATE FUNCTION smam.set_service_standard(name text, within interval) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_office('entity_official', NULL, '6.2.1', 'set a service standard');
  IF name IS NULL OR name NOT IN ('submission_review', 'evaluation') THEN
    PERFORM smam.refuse('22023', '6.2.1', format('"%s" is not a service standard smam knows', name), NULL,
      'Set submission_review (6.2.1) or evaluation (6.1.2).');
  END IF;
  IF within IS NULL OR within <= interval '0' THEN
    PERFORM smam.refuse('22023', '6.2.1', 'a service standard needs a positive duration', NULL,
      'Give a duration such as ''10 days''.');
  END IF;
  INSERT INTO smam.service_standard (name, within) VALUES (name, within) RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.set_service_standard(text, interval) IS
  'The entity sets a service standard from now on: submission_review (6.2.1) or evaluation (6.1.2)';

-- ---- Findings ----
-- Which rules smam computes, and for which party. A rule smam cannot
-- compute from its data is "not assessed", never "met".
CREATE VIEW smam.compliance_rule WITH (security_barrier = true) AS
  SELECT v.requirement, v.party, v.assessed, v.rule
    FROM (VALUES
      ('6.1.1', 'department', true, 'The department has an approved departmental strategy (program NULL) in force on the date; every program strategy in force rolls into a departmental strategy in force, and every approved implementation plan is based on a strategy that stands'),
      ('6.1.2', 'department', true, 'Every live account has an approved implementation plan and, where the entity set the evaluation standard, an evaluation completed within it; no live account vanished from the index with a disposition review open'),
      ('6.1.3', 'department', true, 'Every account created, configured or disposed went through an accepted submission; onboarded accounts have none on record'),
      ('6.1.4', 'department', true, 'Every live account is managed in the platform management tool: an enabled connector for its platform and working credentials (smam.managed_in_tool, read as it is now)'),
      ('6.1.5', 'department', true, 'Every live account''s configuration meets the technical specifications'),
      ('7.1.2', 'department', true, 'Every report TBS requested from the department is submitted by its due date'),
      ('8.1',   'department', true, 'Every corrective action recommended to the department is completed by its due date'),
      ('6.2.1', 'entity', true, 'Every submission is reviewed within the service standard the entity set (not assessed while none is set)'),
      ('6.2.2', 'entity', true, 'Every move into creation, configuration, disposition and disposed was made by the entity, and every disposed account has its archive record'),
      ('6.2.3', 'entity', true, 'Every platform with a live account is pre-reviewed on the date'),
      ('6.2.4', 'entity', true, 'Every live account is in the last published index, as it is now, and the index lists no account that is not live'),
      ('6.2.5', 'entity', true, 'The platform management tool is provided for every platform with a live account: an enabled connector (read as it is now)'),
      ('7.3.1', 'entity', true, 'Every activity report TBS requested from the entity is submitted by its due date'),
      ('7.3.2', 'entity', true, 'Every compliance report TBS requested from the entity is submitted by its due date'),
      ('7.2.3', 'tbs', true, 'A review of the Standard was initiated within five years of its effective date')
    ) AS v(requirement, party, assessed, rule);
COMMENT ON VIEW smam.compliance_rule IS
  'The compliance rules: the requirement, the party assessed (department, entity, tbs), whether smam computes it, and the rule';

-- When an account last changed after a moment and up to another, by the
-- audit log (created further on: PL/pgSQL resolves it when called).
CREATE FUNCTION smam.account_last_change(account bigint, after timestamptz, up_to timestamptz)
  RETURNS timestamptz LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  RETURN (SELECT max(l.stmt_time) FROM smam.audit_log l
           WHERE l.table_name = 'smam.account' AND l.row_key = account::text
             AND l.stmt_time > after AND l.stmt_time <= up_to);
END
$$;
COMMENT ON FUNCTION smam.account_last_change(bigint, timestamptz, timestamptz) IS
  'Internal: the last change of an account in the audit log after a moment and up to another (NULL: none)';

-- Every finding at a moment, for every department (internal; the views
-- and functions below filter by who asks). Stages, decisions, submissions,
-- evaluations, publications, requests and actions are read as of the
-- moment; names, configurations and specifications as they are now.
CREATE FUNCTION smam.compliance_findings_all(at timestamptz, with_text boolean DEFAULT true)
  RETURNS TABLE (requirement text, department_id bigint, object_type text, object_id bigint, object_label text,
                 problem text, since timestamptz, finding_key text)
  -- Findings are many (several per account): ROWS lets callers hash-join them.
  LANGUAGE sql STABLE ROWS 100000
  AS $$
    WITH st AS (SELECT r.code, r.not_for_agents_of_parliament,
                       smam.requirement_status(r.code, smam.today(at), NULL, at) AS status
                  FROM smam.requirement r),
    -- The stage at the moment: the account's own when it has not moved
    -- since, else the last move before the moment in the stage history
    -- (two branches, so that the history is searched only for the
    -- accounts that moved after the moment).
    acc AS MATERIALIZED (
      SELECT a.id, a.department_id, a.platform, a.url,
             CASE WHEN a.plan_attached_at > at THEN NULL ELSE a.plan_id END AS plan_id, a.onboarded, a.onboarded_reason,
             a.configuration, a.official_language, a.name_en, a.name_fr, a.listed_on, a.created_at,
             a.stage, a.stage_changed_at AS stage_since
        FROM smam.account a
       WHERE a.created_at <= at AND a.stage_changed_at <= at
      UNION ALL
      SELECT a.id, a.department_id, a.platform, a.url,
             CASE WHEN a.plan_attached_at > at THEN NULL ELSE a.plan_id END AS plan_id, a.onboarded, a.onboarded_reason,
             a.configuration, a.official_language, a.name_en, a.name_fr, a.listed_on, a.created_at,
             h.to_stage, h.moved_at
        FROM smam.account a
        CROSS JOIN LATERAL (SELECT x.to_stage, x.moved_at FROM smam.stage_history x
                             WHERE x.account_id = a.id AND x.moved_at <= at
                             ORDER BY x.moved_at DESC, x.id DESC LIMIT 1) h
       WHERE a.created_at <= at AND a.stage_changed_at > at AND h.to_stage IS NOT NULL),
    -- Not materialized: each rule filters acc, rather than a second copy of it.
    live AS NOT MATERIALIZED (SELECT * FROM acc WHERE acc.stage IN ('implementation', 'evaluation')),
    snap AS (SELECT s.id, s.published_at, smam.moment_text(s.published_at) AS published FROM smam.index_snapshot s
              WHERE s.published_at <= at ORDER BY s.published_at DESC, s.id DESC LIMIT 1),
    spec AS MATERIALIZED (SELECT t.code, t.platform, t.rule, t.key, t.expected FROM smam.technical_specification t
                           ORDER BY t.code),
    -- Read once: the planner cannot see how many accounts are live, and a
    -- scan of the connector table per account cost more than the rule.
    enabled_connector AS MATERIALIZED (SELECT k.platform FROM smam.connector k WHERE k.enabled),
    plat AS MATERIALIZED (SELECT a.platform, count(*) AS n, min(a.stage_since) AS since FROM live a GROUP BY a.platform),
    evaluation_within AS MATERIALIZED (SELECT w.within, smam.interval_text(w.within) AS within_text
                                         FROM (SELECT smam.service_standard_at('evaluation', at) AS within) w),
    review_within AS MATERIALIZED (SELECT w.within, smam.interval_text(w.within) AS within_text
                                     FROM (SELECT smam.service_standard_at('submission_review', at) AS within) w),
    went_live AS (SELECT h.account_id, min(h.moved_at) AS live_from FROM smam.stage_history h
                   WHERE h.to_stage = 'implementation' AND h.moved_at <= at
                     AND (SELECT within FROM evaluation_within) IS NOT NULL
                   GROUP BY h.account_id),
    last_evaluation AS (SELECT v.account_id, max(v.completed_at) AS completed FROM smam.evaluation v
                         WHERE v.completed_at <= at AND (SELECT within FROM evaluation_within) IS NOT NULL
                         GROUP BY v.account_id),
    plan_at AS (SELECT DISTINCT ON (x.subject_id) x.subject_id AS plan_id, x.decision, x.decided_at
                  FROM smam.decision x WHERE x.subject = 'implementation_plan' AND x.decided_at <= at
                 ORDER BY x.subject_id, x.decided_at DESC, x.id DESC),
    -- Hub and spoke at the moment: each strategy's last decision, whether
    -- it is approved and in force, and since when it is not (its approval
    -- voided or retired, or its term over; else its last approval, when
    -- it was approved for a later term).
    strategy_at AS MATERIALIZED (
      SELECT s.id, s.department_id, s.program, s.rolls_into, s.title, l.decision, l.decided_at,
             coalesce(l.decision = 'approved' AND s.in_force_from <= smam.today(at)
                      AND (s.in_force_until IS NULL OR s.in_force_until > smam.today(at)), false) AS in_force,
             CASE WHEN l.decision IS DISTINCT FROM 'approved'
                    THEN coalesce((SELECT min(y.decided_at) FROM smam.decision y
                                    WHERE y.subject = 'strategy' AND y.subject_id = s.id AND y.decided_at <= at
                                      AND y.decision <> 'approved'
                                      AND y.decided_at >= coalesce((SELECT max(z.decided_at) FROM smam.decision z
                                                                     WHERE z.subject = 'strategy' AND z.subject_id = s.id
                                                                       AND z.decided_at <= at AND z.decision = 'approved'),
                                                                    '-infinity')), l.decided_at)
                  WHEN s.in_force_until IS NOT NULL AND s.in_force_until <= smam.today(at)
                    THEN s.in_force_until::timestamp AT TIME ZONE smam.time_zone()
                  ELSE l.decided_at END AS ended
        FROM smam.strategy s
        LEFT JOIN LATERAL (SELECT x.decision, x.decided_at FROM smam.decision x
                            WHERE x.subject = 'strategy' AND x.subject_id = s.id AND x.decided_at <= at
                            ORDER BY x.decided_at DESC, x.id DESC LIMIT 1) l ON true
       WHERE s.created_at <= at),
    f AS (
      -- 6.1.1: an approved departmental strategy in force.
      SELECT '6.1.1' AS requirement, d.id AS department_id, 'department' AS object_type, d.id AS object_id,
             d.name_en AS object_label,
             format('The department has no approved departmental social media strategy in force on %s.', smam.date_text(smam.today(at))) AS problem,
             -- Since the last approved departmental strategy stopped being in
             -- force (its approval voided or withdrawn, or its term over), or
             -- since the department exists if it never had one.
             greatest(d.created_at,
                      (SELECT max(e.ended) FROM (
                         SELECT least(coalesce((SELECT min(y.decided_at) FROM smam.decision y
                                                 WHERE y.subject = 'strategy' AND y.subject_id = x.subject_id
                                                   AND y.decided_at > x.decided_at AND y.decision <> 'approved'), 'infinity'),
                                      coalesce(s.in_force_until::timestamp AT TIME ZONE smam.time_zone(), 'infinity')) AS ended
                           FROM smam.strategy s
                           JOIN smam.decision x ON x.subject = 'strategy' AND x.subject_id = s.id AND x.decision = 'approved'
                          WHERE s.department_id = d.id AND s.program IS NULL AND x.decided_at <= at) e
                        WHERE e.ended <= at)) AS since
        FROM smam.department d
       WHERE d.created_at <= at AND (d.merged_at IS NULL OR d.merged_at > at)
         AND NOT EXISTS (
           SELECT 1 FROM smam.strategy s
            WHERE s.department_id = d.id AND s.program IS NULL
              AND s.in_force_from <= smam.today(at) AND (s.in_force_until IS NULL OR s.in_force_until > smam.today(at))
              AND (SELECT x.decision FROM smam.decision x
                    WHERE x.subject = 'strategy' AND x.subject_id = s.id AND x.decided_at <= at
                    ORDER BY x.decided_at DESC, x.id DESC LIMIT 1) = 'approved')
      UNION ALL
      -- 6.1.1, hub and spoke: an approved plan whose strategy does not
      -- stand (not approved and in force, or a program strategy whose
      -- departmental strategy is not); since the later of the plan's
      -- approval and the first break of its basis.
      SELECT '6.1.1', p.department_id, 'implementation_plan', p.id, p.title,
             CASE WHEN NOT with_text THEN NULL
                  WHEN x.id IS NULL
                    THEN format('Implementation plan %s is approved but based on no social media strategy.', p.id)
                  WHEN NOT x.in_force
                    THEN format('Implementation plan %s is based on strategy %s, which is not approved and in force on %s.',
                                p.id, x.id, smam.date_text(smam.today(at)))
                  WHEN h.id IS NULL
                    THEN format('Implementation plan %s is based on program strategy %s, which rolls into no departmental strategy.',
                                p.id, x.id)
                  ELSE format('Implementation plan %s is based on program strategy %s, whose departmental strategy %s is not approved and in force on %s.',
                              p.id, x.id, h.id, smam.date_text(smam.today(at))) END,
             greatest(pa.decided_at,
                      least(CASE WHEN NOT x.in_force THEN x.ended END,
                            CASE WHEN x.in_force AND h.id IS NOT NULL AND NOT h.in_force THEN h.ended END))
        FROM smam.implementation_plan p
        JOIN plan_at pa ON pa.plan_id = p.id AND pa.decision = 'approved'
        LEFT JOIN strategy_at x ON x.id = p.strategy_id
        LEFT JOIN strategy_at h ON h.id = x.rolls_into
       WHERE NOT (coalesce(x.in_force, false) AND (x.program IS NULL OR coalesce(h.in_force, false)))
      UNION ALL
      -- 6.1.1, hub and spoke: a program strategy in force whose departmental
      -- strategy is not; since the later of its approval and the break.
      SELECT '6.1.1', g.department_id, 'strategy', g.id, g.title,
             CASE WHEN NOT with_text THEN NULL
                  WHEN h.id IS NULL
                    THEN format('Program strategy %s (%s) rolls into no departmental strategy.', g.id, g.program)
                  ELSE format('Program strategy %s (%s) rolls into departmental strategy %s, which is not approved and in force on %s.',
                              g.id, g.program, h.id, smam.date_text(smam.today(at))) END,
             greatest(g.decided_at, h.ended)
        FROM strategy_at g
        LEFT JOIN strategy_at h ON h.id = g.rolls_into
       WHERE g.program IS NOT NULL AND g.in_force AND NOT coalesce(h.in_force, false)
      UNION ALL
      -- 6.1.2: an approved plan for every live account.
      SELECT '6.1.2', a.department_id, 'account', a.id, a.url,
             CASE WHEN NOT with_text THEN NULL
                  WHEN a.plan_id IS NULL
                  THEN 'Account ' || a.id || ' is live without an implementation plan.'
                  ELSE format('Account %s is live under implementation plan %s, which is not approved.', a.id, a.plan_id) END,
             -- Since the account went live, or since its plan's approval
             -- ended, whichever came later.
             greatest(coalesce((SELECT min(h.moved_at) FROM smam.stage_history h
                                 WHERE h.account_id = a.id AND h.to_stage = 'implementation' AND h.moved_at <= at), a.stage_since),
                      (SELECT max(y.decided_at) FROM smam.decision y
                        WHERE y.subject = 'implementation_plan' AND y.subject_id = a.plan_id
                          AND y.decided_at <= at AND y.decision <> 'approved'))
        FROM live a LEFT JOIN plan_at p ON p.plan_id = a.plan_id
       WHERE a.plan_id IS NULL OR p.decision IS DISTINCT FROM 'approved'
      UNION ALL
      -- 6.1.2: evaluations not overdue, where the entity set the standard.
      SELECT '6.1.2', a.department_id, 'account', a.id, a.url,
             CASE WHEN with_text THEN
               format('Account %s has had no evaluation completed within %s (last: %s).', a.id,
                      (SELECT within_text FROM evaluation_within), coalesce(smam.date_text(smam.today(e.completed)), 'none')) END,
             coalesce(e.completed, w.live_from) + (SELECT within FROM evaluation_within)
        FROM live a
        JOIN went_live w ON w.account_id = a.id
        LEFT JOIN last_evaluation e ON e.account_id = a.id
       WHERE coalesce(e.completed, w.live_from) + (SELECT within FROM evaluation_within) < at
      UNION ALL
      -- 6.1.2: an account that vanished from the index, under review.
      SELECT '6.1.2', v.department_id, 'account', v.account_id, (SELECT x.url FROM smam.account x WHERE x.id = v.account_id),
             format('Account %s vanished from the canada.ca index: %s; its disposition review is open.', v.account_id, v.reason),
             v.flagged_at
        FROM smam.disposition_review v
       WHERE v.flagged_at <= at AND (v.resolved_at IS NULL OR v.resolved_at > at)
      UNION ALL
      -- 6.1.3: onboarded accounts have no submissions on record.
      SELECT '6.1.3', a.department_id, 'account', a.id, a.url,
             CASE WHEN with_text THEN
               'Account ' || a.id || ' was onboarded (' || a.onboarded_reason
                 || '): no creation or configuration submission is on record.' END,
             a.created_at
        FROM acc a WHERE a.onboarded AND a.stage <> 'disposed'
      UNION ALL
      -- 6.1.3: a move made without an accepted submission (enforcement off).
      SELECT '6.1.3', smam.department_at(h.department_id, at), 'account', h.account_id, (SELECT x.url FROM smam.account x WHERE x.id = h.account_id),
             format('Account %s moved to %s on %s without an accepted %s submission.', h.account_id, h.to_stage,
                    smam.date_text(smam.today(h.moved_at)), CASE h.to_stage WHEN 'creation' THEN 'creation' WHEN 'configuration' THEN 'configuration'
                                                      ELSE 'disposition' END),
             h.moved_at
        FROM smam.stage_history h
       WHERE h.moved_at <= at AND NOT h.onboarded AND h.submission_id IS NULL
         AND h.to_stage IN ('creation', 'configuration', 'disposition')
      UNION ALL
      -- 6.1.5: the technical specifications.
      SELECT '6.1.5', a.department_id, 'account', a.id, a.url,
             CASE WHEN with_text THEN
               'Account ' || a.id || ' does not meet the technical specifications: '
                 || b.broken || '.' END,
             a.stage_since
        FROM live a
        CROSS JOIN LATERAL (
          -- spec is already in code order: no sort per account.
          -- string_agg, not array_agg: no memory context of its own per account.
          SELECT pg_catalog.string_agg(t.code, ', ') AS broken
            FROM spec t
           WHERE (t.platform IS NULL OR t.platform = a.platform)
             AND CASE WHEN t.rule = 'official_languages' THEN
                    (a.official_language IN ('english', 'bilingual')
                     AND (coalesce(btrim(a.name_en), '') = '' OR coalesce(btrim(a.configuration ->> 'description_en'), '') = ''))
                 OR (a.official_language IN ('french', 'bilingual')
                     AND (coalesce(btrim(a.name_fr), '') = '' OR coalesce(btrim(a.configuration ->> 'description_fr'), '') = ''))
                  ELSE coalesce(btrim(a.configuration ->> t.key), '') = ''
                    OR (t.rule = 'equals' AND (a.configuration ->> t.key) <> t.expected)
                    OR (t.rule = 'matches' AND (a.configuration ->> t.key) !~ t.expected) END) b
       WHERE b.broken IS NOT NULL
      UNION ALL
      -- 6.2.1: submissions reviewed within the service standard.
      SELECT '6.2.1', s.department_id, 'submission', s.id, s.kind::text,
             CASE WHEN s.decided_at IS NULL OR s.decided_at > at
                  THEN format('Submission %s (%s of account %s) has waited since %s, beyond the service standard of %s.',
                              s.id, s.kind, s.account_id, smam.date_text(smam.today(s.created_at)),
                              (SELECT within_text FROM review_within))
                  ELSE format('Submission %s (%s of account %s) was reviewed after %s, beyond the service standard of %s.',
                              s.id, s.kind, s.account_id, smam.interval_text(date_trunc('second', s.decided_at - s.created_at)),
                              (SELECT within_text FROM review_within)) END,
             s.created_at + (SELECT within FROM review_within)
        FROM smam.submission s
       WHERE s.created_at <= at AND (SELECT within FROM review_within) IS NOT NULL
         AND coalesce(CASE WHEN s.decided_at <= at THEN s.decided_at END, at) - s.created_at
             > (SELECT within FROM review_within)
      UNION ALL
      -- 6.2.2: the entity creates, configures and disposes.
      SELECT '6.2.2', smam.department_at(h.department_id, at), 'account', h.account_id, (SELECT x.url FROM smam.account x WHERE x.id = h.account_id),
             CASE WHEN h.office IS DISTINCT FROM 'entity_official'
                  THEN format('Account %s moved to %s on %s by %s (%s), not by the entity.', h.account_id, h.to_stage,
                              smam.date_text(smam.today(h.moved_at)), h.moved_by, coalesce(h.office::text, 'no office'))
                  ELSE format('Account %s was disposed of on %s without an archive record.', h.account_id, smam.date_text(smam.today(h.moved_at))) END,
             h.moved_at
        FROM smam.stage_history h
       WHERE h.moved_at <= at AND NOT h.onboarded AND h.to_stage IN ('creation', 'configuration', 'disposition', 'disposed')
         -- Abandoning a planned account is the head of communications' move
         -- as much as the entity's (6.1.2): nothing was created to dispose of.
         AND NOT (h.from_stage = 'planning' AND h.to_stage = 'disposed')
         AND (h.office IS DISTINCT FROM 'entity_official'
              OR (h.to_stage = 'disposed' AND h.from_stage = 'disposition'
                  AND NOT EXISTS (SELECT 1 FROM smam.archive r WHERE r.account_id = h.account_id AND r.recorded_at <= at)))
      UNION ALL
      -- 6.2.3: every platform in use pre-reviewed.
      SELECT '6.2.3', NULL, 'platform', NULL, p.platform,
             format('%s accounts are live on %s, which is not pre-reviewed on %s: %s.', p.n, p.platform, smam.date_text(smam.today(at)),
                    array_to_string(smam.pre_review_gaps(p.platform, smam.today(at)), '; ')),
             p.since
        FROM plat p
       WHERE NOT smam.pre_reviewed(p.platform, smam.today(at))
      UNION ALL
      -- 6.2.4: the published index.
      SELECT '6.2.4', a.department_id, 'account', a.id, a.url,
             CASE WHEN NOT with_text THEN NULL
                  WHEN NOT EXISTS (SELECT 1 FROM snap)
                  THEN 'Account ' || a.id || ' is live, and no index has been published.'
                  WHEN e.account_id IS NULL
                  THEN format('Account %s is live but not in the index published %s.', a.id, (SELECT published FROM snap))
                  ELSE format('The index published %s lists account %s with details that have changed since.', (SELECT published FROM snap), a.id) END,
             -- Since the account went live; since the publication that left
             -- it out; or since the last change the publication does not show
             -- (the audit log's).
             CASE WHEN NOT with_text THEN NULL
                  WHEN NOT EXISTS (SELECT 1 FROM snap) OR e.account_id IS NULL
                  THEN greatest(coalesce((SELECT min(h.moved_at) FROM smam.stage_history h
                                           WHERE h.account_id = a.id AND h.to_stage = 'implementation' AND h.moved_at <= at),
                                         a.stage_since),
                                (SELECT published_at FROM snap))
                  ELSE coalesce(smam.account_last_change(a.id, (SELECT published_at FROM snap), at),
                                (SELECT published_at FROM snap)) END
        FROM live a
        LEFT JOIN smam.index_snapshot_entry e ON e.snapshot_id = (SELECT id FROM snap) AND e.account_id = a.id
       -- The digest is read only for accounts the published index lists.
       WHERE e.account_id IS NULL
          OR e.entry_md5 <> (SELECT smam.index_entry_md5(x) FROM smam.account x WHERE x.id = a.id)
      UNION ALL
      SELECT '6.2.4', a.department_id, 'account', a.id, a.url,
             format('The index published %s lists account %s, which is no longer live (%s).', (SELECT published FROM snap), a.id, a.stage),
             a.stage_since
        FROM smam.index_snapshot_entry e JOIN acc a ON a.id = e.account_id
       WHERE e.snapshot_id = (SELECT id FROM snap) AND a.stage NOT IN ('implementation', 'evaluation')
      UNION ALL
      -- 7.1.2, 7.3.1, 7.3.2: reports requested by TBS, overdue.
      SELECT CASE WHEN q.department_id IS NOT NULL THEN '7.1.2' WHEN q.kind = 'activities' THEN '7.3.1' ELSE '7.3.2' END,
             q.department_id, 'report_request', q.id, q.subject,
             format('The report "%s" requested %s was due on %s and is not submitted.', q.subject,
                    smam.date_text(smam.today(q.requested_at)), smam.date_text(q.due_on)),
             ((q.due_on + 1)::timestamp AT TIME ZONE smam.time_zone())
        FROM smam.report_request q
       WHERE q.requested_at <= at AND q.due_on < smam.today(at)
         AND NOT EXISTS (SELECT 1 FROM smam.compliance_report c WHERE c.request_id = q.id AND c.submitted_at <= at)
      UNION ALL
      -- 8.1: corrective actions, overdue.
      -- The entity's own overdue corrective action is a finding of the
      -- requirement it corrects (the entity's), a department's one of 8.1.
      SELECT CASE WHEN c.department_id IS NULL THEN c.requirement ELSE '8.1' END,
             c.department_id, 'corrective_action', c.id, c.requirement,
             format('The corrective action on %s recommended %s%s ("%s") was due on %s and is not completed.',
                    c.requirement, smam.date_text(smam.today(c.recommended_at)),
                    CASE WHEN c.department_id IS NULL THEN ' to the entity' ELSE '' END,
                    c.recommendation, smam.date_text(c.due_on)),
             ((c.due_on + 1)::timestamp AT TIME ZONE smam.time_zone())
        FROM smam.corrective_action c
       WHERE c.recommended_at <= at AND c.due_on < smam.today(at)
         AND (c.completed_at IS NULL OR c.completed_at > at)
      UNION ALL
      -- 6.1.4: live accounts managed in the platform management tool, as
      -- they are now. The cheap absences are tested first; only accounts
      -- with a connector and credentials ask smam.managed_in_tool() whether
      -- the platform has refused those credentials since.
      SELECT '6.1.4', a.department_id, 'account', a.id, a.url,
             CASE WHEN with_text THEN
               format('Account %s is not managed in the platform management tool: %s.', a.id,
                      CASE WHEN k.platform IS NULL THEN 'no enabled connector for ' || a.platform
                           WHEN c.account_id IS NULL THEN 'no credentials'
                           ELSE 'its credentials have expired or were refused' END) END,
             a.stage_since
        FROM live a
        LEFT JOIN enabled_connector k ON k.platform = a.platform
        LEFT JOIN smam.account_credential c ON c.account_id = a.id
       WHERE k.platform IS NULL OR c.account_id IS NULL OR NOT smam.managed_in_tool(a.id)
      UNION ALL
      -- 6.2.5: the entity provides the tool for every platform in use.
      SELECT '6.2.5', NULL, 'platform', NULL, p.platform,
             format('%s accounts are live on %s, for which the platform management tool has no enabled connector.',
                    p.n, p.platform),
             p.since
        FROM plat p
       WHERE NOT EXISTS (SELECT 1 FROM smam.connector k WHERE k.platform = p.platform AND k.enabled)
      UNION ALL
      -- 7.2.3: the review of the Standard within five years.
      SELECT '7.2.3', NULL, 'standard', 1, i.title_en,
             format('No review of the Standard was initiated by %s, five years after its effective date.',
                    smam.date_text((i.effective_on + interval '5 years')::date)),
             ((i.effective_on + interval '5 years')::date::timestamp AT TIME ZONE smam.time_zone())
        FROM smam.instrument i
       WHERE smam.today(at) > (i.effective_on + interval '5 years')::date
         AND NOT EXISTS (SELECT 1 FROM smam.standard_review r
                          WHERE r.initiated_on <= (i.effective_on + interval '5 years')::date AND r.recorded_at <= at))
    SELECT f.requirement, f.department_id, f.object_type, f.object_id, f.object_label, f.problem, f.since,
           CASE WHEN with_text THEN f.requirement || '/' || coalesce(f.department_id::text, '-') || '/' || f.object_type || '/'
             || coalesce(f.object_id::text, f.object_label) END
      FROM f
      JOIN st ON st.code = f.requirement AND st.status = 'in force'
     WHERE NOT (st.not_for_agents_of_parliament
                AND coalesce(f.department_id IN (SELECT d.id FROM smam.department d WHERE d.agent_of_parliament), false))
  $$;
COMMENT ON FUNCTION smam.compliance_findings_all(timestamptz, boolean) IS
  'Internal: every finding at a moment, unfiltered; without text (problem, finding_key NULL) for counting';

-- The findings to count: only what a count needs, through a tuplestore
-- the caller's planner knows the size of (ROWS), so that it hashes the
-- groups. compliance_findings_all has no SET clause, so that it is inlined
-- here and in compliance_findings_as_of, where its rows go straight into
-- the one result instead of a tuplestore of their own.
CREATE FUNCTION smam.compliance_findings_counted(at timestamptz)
  RETURNS TABLE (requirement text, department_id bigint)
  LANGUAGE sql STABLE ROWS 400000
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '16MB'
  SET jit = off
  AS $$
    SELECT f.requirement, f.department_id FROM smam.compliance_findings_all(at, false) f
  $$;
COMMENT ON FUNCTION smam.compliance_findings_counted(timestamptz) IS
  'Internal: requirement and department of every finding at a moment, unfiltered, for counting';


-- The findings at a moment as the acting role may see them: the query behind
-- compliance_findings_as_of and the view compliance_findings. No SET clause
-- and not SECURITY DEFINER, so that it is inlined into both; run only with
-- the owner's rights (by the SECURITY DEFINER function, or by the C stream
-- below, which takes the same rights and settings).
CREATE FUNCTION smam.compliance_findings_visible(at timestamptz)
  RETURNS TABLE (requirement text, department_id bigint, department_en text, party text, object_type text,
                 object_id bigint, object_label text, problem text, since timestamptz, finding_key text)
  LANGUAGE sql STABLE
  AS $$
    -- Materialized: who asks is settled once, not for every finding; the
    -- departments and rules are small tables the findings are hashed against.
    WITH who AS MATERIALIZED (SELECT smam.reads_all_compliance() AS all_, smam.my_departments() AS mine),
    dep AS MATERIALIZED (SELECT d.id, d.name_en FROM smam.department d),
    rule AS MATERIALIZED (SELECT r.requirement, r.party FROM smam.compliance_rule r)
    SELECT f.requirement, f.department_id, d.name_en, r.party, f.object_type, f.object_id, f.object_label,
           f.problem, f.since, f.finding_key
      FROM smam.compliance_findings_all(at, true) f
      JOIN rule r ON r.requirement OPERATOR(pg_catalog.=) f.requirement
      LEFT JOIN dep d ON d.id OPERATOR(pg_catalog.=) f.department_id
      CROSS JOIN who
     WHERE who.all_ OR f.department_id OPERATOR(pg_catalog.=) ANY (who.mine)
  $$;
COMMENT ON FUNCTION smam.compliance_findings_visible(timestamptz) IS
  'Internal: the findings at a moment that the acting role may see; run with the owner''s rights';

CREATE FUNCTION smam.compliance_findings_as_of(at timestamptz)
  RETURNS TABLE (requirement text, department_id bigint, department_en text, party text, object_type text,
                 object_id bigint, object_label text, problem text, since timestamptz, finding_key text)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '16MB'
  SET jit = off
  AS $$
    SELECT * FROM smam.compliance_findings_visible(at)
  $$;
COMMENT ON FUNCTION smam.compliance_findings_as_of(timestamptz) IS
  'The findings at a moment, as smam.compliance_findings shows them now; departments see their own';

-- The view streams the findings: a function in FROM hands back its whole
-- result in a store first (400,000 rows at 100,000 accounts, written to a
-- temporary file); this one, called in the select list, returns them as the
-- query produces them. It runs the query with compliance_findings_as_of's
-- rights and settings, read from its definition (src/compliance.c).
CREATE FUNCTION smam.compliance_findings_stream(at timestamptz)
  RETURNS TABLE (requirement text, department_id bigint, department_en text, party text, object_type text,
                 object_id bigint, object_label text, problem text, since timestamptz, finding_key text)
  LANGUAGE c STABLE ROWS 400000
  AS 'MODULE_PATHNAME', 'smam_compliance_findings_stream';
COMMENT ON FUNCTION smam.compliance_findings_stream(timestamptz) IS
  'Internal: the rows of smam.compliance_findings_as_of, streamed (used by the view smam.compliance_findings)';

-- OFFSET 0 keeps the subquery whole: the function runs once per row, and
-- each column is read from the row it returned.
CREATE VIEW smam.compliance_findings WITH (security_barrier = true) AS
  SELECT (s.f).requirement, (s.f).department_id, (s.f).department_en, (s.f).party, (s.f).object_type,
         (s.f).object_id, (s.f).object_label, (s.f).problem, (s.f).since, (s.f).finding_key
    FROM (SELECT smam.compliance_findings_stream(pg_catalog.now()) AS f OFFSET 0) s;
COMMENT ON VIEW smam.compliance_findings IS
  'One row per finding now: requirement, department, party responsible, object, what is wrong, since when; departments see their own';
-- The meaning of each column of smam.compliance_findings: sql/smam/95_report_dictionary.sql.

CREATE FUNCTION smam.compliance_by_department_as_of(at timestamptz)
  RETURNS TABLE (department_id bigint, department_en text, department_fr text, party text, requirement text,
                 status text, status_reason text, findings bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '16MB'
  SET jit = off
  AS $$
    WITH who AS MATERIALIZED (SELECT smam.reads_all_compliance() AS all_, smam.my_departments() AS mine),
    st AS (SELECT r.code, r.sort_key, r.not_for_agents_of_parliament,
                  smam.requirement_status(r.code, smam.today(at), NULL, at) AS status FROM smam.requirement r),
    f AS (SELECT x.requirement, x.department_id, count(*) AS n FROM smam.compliance_findings_counted(at) x
           GROUP BY x.requirement, x.department_id),
    fe AS (SELECT f.requirement, sum(f.n)::bigint AS n FROM f GROUP BY f.requirement),
    rows_ AS (
      SELECT d.id AS department_id, d.name_en, d.name_fr, r.party, r.requirement, r.assessed,
             st.status AS req_status, st.sort_key,
             (st.not_for_agents_of_parliament AND d.agent_of_parliament) AS exempt,
             coalesce(f.n, 0) AS n
        FROM smam.department d
        CROSS JOIN smam.compliance_rule r
        JOIN st ON st.code = r.requirement
        LEFT JOIN f ON f.department_id = d.id AND f.requirement = r.requirement
       WHERE r.party = 'department' AND d.created_at <= at AND (d.merged_at IS NULL OR d.merged_at > at)
      UNION ALL
      SELECT NULL, CASE r.party WHEN 'entity' THEN 'The entity' ELSE 'Treasury Board of Canada Secretariat' END,
             CASE r.party WHEN 'entity' THEN 'L''entité' ELSE 'Secrétariat du Conseil du Trésor du Canada' END,
             r.party, r.requirement,
             r.assessed AND (r.requirement <> '6.2.1' OR smam.service_standard_at('submission_review', at) IS NOT NULL),
             st.status, st.sort_key, false, coalesce(fe.n, 0)
        FROM smam.compliance_rule r JOIN st ON st.code = r.requirement
        LEFT JOIN fe ON fe.requirement = r.requirement
       WHERE r.party IN ('entity', 'tbs'))
    SELECT x.department_id, x.name_en, x.name_fr, x.party, x.requirement,
           CASE WHEN x.req_status <> 'in force' OR x.exempt THEN 'not applicable'
                WHEN NOT x.assessed THEN 'not assessed'
                WHEN x.n > 0 THEN 'not met' ELSE 'met' END,
           CASE WHEN x.req_status <> 'in force' THEN x.req_status
                WHEN x.exempt THEN 'section 2.2: does not apply to agents of Parliament'
                WHEN NOT x.assessed AND x.requirement = '6.2.1' THEN 'the entity has set no service standard for reviews'
                WHEN NOT x.assessed THEN 'smam cannot compute this rule from its data yet' END,
           x.n
      FROM rows_ x CROSS JOIN who
     WHERE who.all_ OR x.department_id = ANY (who.mine)
     ORDER BY x.department_id NULLS LAST, x.sort_key
  $$;
COMMENT ON FUNCTION smam.compliance_by_department_as_of(timestamptz) IS
  'Each department''s status on each requirement at a moment (and the entity''s and TBS''s); departments see their own';

CREATE VIEW smam.compliance_by_department WITH (security_barrier = true) AS
  SELECT * FROM smam.compliance_by_department_as_of(pg_catalog.now());
COMMENT ON VIEW smam.compliance_by_department IS
  'Per department and requirement of 6.1, 7.1.2 and 8.1 (and per requirement of 6.2, 7.3 for the entity, 7.2.3 for TBS, department NULL): met, not met, not applicable, not assessed';
-- The meaning of each column of smam.compliance_by_department: sql/smam/95_report_dictionary.sql.

CREATE FUNCTION smam.compliance_summary_as_of(at timestamptz)
  RETURNS TABLE (requirement text, party text, status text, parties_met bigint, parties_not_met bigint,
                 parties_not_applicable bigint, findings bigint, index_last_published_at timestamptz,
                 index_unpublished_changes bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '64MB'
  SET jit = off
  AS $$
    WITH b AS (SELECT * FROM smam.compliance_by_department_as_of(at)),
    ip AS (SELECT * FROM smam.index_publication_status(at))
    SELECT b.requirement, min(b.party),
           CASE WHEN bool_and(b.status = 'not applicable') THEN 'not applicable'
                WHEN bool_or(b.status = 'not assessed') THEN 'not assessed'
                WHEN bool_or(b.status = 'not met') THEN 'not met' ELSE 'met' END,
           count(*) FILTER (WHERE b.status = 'met'), count(*) FILTER (WHERE b.status = 'not met'),
           count(*) FILTER (WHERE b.status = 'not applicable'), sum(b.findings)::bigint,
           CASE WHEN b.requirement = '6.2.4' THEN (SELECT last_published_at FROM ip) END,
           CASE WHEN b.requirement = '6.2.4' THEN (SELECT unpublished_changes FROM ip) END
      FROM b
     GROUP BY b.requirement
     ORDER BY (SELECT r.sort_key FROM smam.requirement r WHERE r.code = b.requirement)
  $$;
COMMENT ON FUNCTION smam.compliance_summary_as_of(timestamptz) IS
  'The whole government''s status on each requirement at a moment (within what the asking role may see)';

CREATE VIEW smam.compliance_summary WITH (security_barrier = true) AS
  SELECT * FROM smam.compliance_summary_as_of(pg_catalog.now());
COMMENT ON VIEW smam.compliance_summary IS
  'Per requirement, for the whole government: status, parties met / not met / not applicable, findings; for 6.2.4 the last publication and the changes not yet published';
-- The meaning of each column of smam.compliance_summary: sql/smam/95_report_dictionary.sql.

-- ---- Acts ----
-- A deputy head (or, for the entity, the entity's official) submits a
-- requested report: the compliance picture of now is frozen and hashed.
-- It and smam.reproduce_report() fix TimeZone, DateStyle and IntervalStyle:
-- the hashed text holds moments and intervals, which jsonb and format()
-- write in the session's settings, and a report must reproduce in any session.
-- The report keeps the smam.time_zone its dates were read in, and
-- smam.reproduce_report() reads them in it again (smam.report_time_zone, set
-- for the function's duration only), so that a report submitted before the
-- server's smam.time_zone changed still reproduces.
CREATE FUNCTION smam.submit_report(request bigint, statement text DEFAULT NULL) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET TimeZone = 'UTC'
  SET DateStyle = 'ISO, YMD'
  SET IntervalStyle = 'postgres'
  AS $$
DECLARE
  q smam.report_request;
  at timestamptz := now();
  by_req jsonb;
  finds jsonb;
  acts jsonb;
  digest jsonb;
  new_id bigint;
BEGIN
  SELECT * INTO q FROM smam.report_request x WHERE x.id = request;
  IF NOT FOUND OR NOT (smam.sees_all() OR coalesce(q.department_id = ANY (smam.my_departments()), false)) THEN
    PERFORM smam.refuse('42704', '7.1.2', format('report request %s does not exist or is not visible to you', request),
      'A report request is visible to the offices of its department and to government-wide offices.',
      'List the requests you see in smam.report_request.');
  END IF;
  SELECT * INTO q FROM smam.report_request x WHERE x.id = request FOR UPDATE;
  IF q.department_id IS NOT NULL THEN
    PERFORM smam.require_office('deputy_head', q.department_id, '7.1.2', 'submit a compliance report');
  ELSE
    PERFORM smam.require_office('entity_official', NULL, CASE q.kind WHEN 'activities' THEN '7.3.1' ELSE '7.3.2' END,
                                'submit the entity''s report');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.compliance_report c WHERE c.request_id = request) THEN
    PERFORM smam.refuse('23505', '7.1.2', format('report request %s is already answered', request), NULL,
      'A submitted report is frozen; answer a new request instead.');
  END IF;
  IF q.kind = 'activities' THEN
    -- 7.3.1: what was done in the period, counted once the period is over.
    IF at < (q.period_until::timestamp AT TIME ZONE smam.time_zone()) THEN
      PERFORM smam.refuse('55000', '7.3.1',
        format('the period of report request %s is not over', request),
        format('The report counts the activities from %s to %s inclusive, and is submitted once that period is over.',
               smam.date_text(q.period_from), smam.date_text(q.period_until - 1)),
        format('Submit it on or after %s.', smam.date_text(q.period_until)));
    END IF;
    by_req := '[]';
    finds := '[]';
    acts := smam.activity_report_content(q.period_from, q.period_until, at);
  ELSE
    SELECT coalesce(jsonb_agg(to_jsonb(b) ORDER BY b.party, b.department_id, b.requirement), '[]') INTO by_req
      FROM smam.compliance_by_department_as_of(at) b
     WHERE q.department_id IS NULL OR b.department_id = q.department_id;
    SELECT coalesce(jsonb_agg(to_jsonb(f) ORDER BY f.finding_key), '[]') INTO finds
      FROM smam.compliance_findings_as_of(at) f
     WHERE q.department_id IS NULL OR f.department_id = q.department_id;
  END IF;
  IF to_regprocedure('smam.audit_digest()') IS NOT NULL THEN
    EXECUTE 'SELECT to_jsonb(d) FROM smam.audit_digest() d' INTO digest;
  END IF;
  -- A compliance report has no activities: its hash is that of its picture.
  INSERT INTO smam.compliance_report (request_id, department_id, as_of, statement, by_requirement, findings,
                                      activities, content_sha256, audit_digest, time_zone)
  VALUES (request, q.department_id, at, statement, by_req, finds, acts,
          encode(sha256(convert_to(by_req::text || finds::text || coalesce(acts::text, ''), 'UTF8')), 'hex'),
          digest, smam.time_zone())
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.submit_report(bigint, text) IS
  'Answer a report request (deputy head; the entity''s official for the entity): freezes and hashes the compliance picture of now, or for an activities report (7.3.1) the activities of its period, once the period is over';

-- Reproduce a frozen report: the hash of the picture recomputed as of its moment.
CREATE FUNCTION smam.reproduce_report(report bigint, OUT frozen_sha256 text, OUT recomputed_sha256 text,
                                      OUT intact boolean, OUT reproduced boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET TimeZone = 'UTC'
  SET DateStyle = 'ISO, YMD'
  SET IntervalStyle = 'postgres'
  SET smam.report_time_zone = ''
  AS $$
DECLARE
  c smam.compliance_report;
  q smam.report_request;
  by_req jsonb;
  finds jsonb;
  acts jsonb;
BEGIN
  SELECT * INTO c FROM smam.compliance_report x WHERE x.id = report;
  IF NOT FOUND OR NOT (smam.reads_all_compliance() OR coalesce(c.department_id = ANY (smam.my_departments()), false)) THEN
    PERFORM smam.refuse('42704', '7.1.2', format('report %s does not exist or is not visible to you', report),
      'A frozen report is visible to the offices of its department, to government-wide offices and to analysts.',
      'List the reports you see in smam.compliance_report.');
  END IF;
  SELECT * INTO q FROM smam.report_request x WHERE x.id = c.request_id;
  -- Until the function returns: its SET clause restores the setting.
  PERFORM pg_catalog.set_config('smam.report_time_zone', c.time_zone, true);
  IF q.kind = 'activities' THEN
    -- The activities of the request's period, counted again as of the report's moment.
    by_req := '[]';
    finds := '[]';
    acts := smam.activity_report_content(q.period_from, q.period_until, c.as_of);
  ELSE
    SELECT coalesce(jsonb_agg(to_jsonb(b) ORDER BY b.party, b.department_id, b.requirement), '[]') INTO by_req
      FROM smam.compliance_by_department_as_of(c.as_of) b
     WHERE c.department_id IS NULL OR b.department_id = c.department_id;
    SELECT coalesce(jsonb_agg(to_jsonb(f) ORDER BY f.finding_key), '[]') INTO finds
      FROM smam.compliance_findings_as_of(c.as_of) f
     WHERE c.department_id IS NULL OR f.department_id = c.department_id;
  END IF;
  frozen_sha256 := c.content_sha256;
  recomputed_sha256 := encode(sha256(convert_to(by_req::text || finds::text || coalesce(acts::text, ''), 'UTF8')), 'hex');
  intact := c.content_sha256 = encode(sha256(convert_to(c.by_requirement::text || c.findings::text
                                                        || coalesce(c.activities::text, ''), 'UTF8')), 'hex');
  reproduced := intact AND frozen_sha256 = recomputed_sha256;
END
$$;
COMMENT ON FUNCTION smam.reproduce_report(bigint) IS
  'Recompute a frozen report as of its moment (a compliance picture, or the activities of its period): is the stored content intact (matches its hash), and does the recomputation match?';

CREATE FUNCTION smam.recommend_corrective_action(department bigint, requirement text, recommendation text,
                                                 due_on date, finding_key text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
  binds smam.office;
  to_whom text := CASE WHEN department IS NULL THEN 'the entity' ELSE format('department %s', department) END;
BEGIN
  PERFORM smam.require_tbs('7.2.2', 'recommend corrective action');
  -- 7.2.2: "when a department or the entity has not complied": NULL names the entity.
  IF department IS NOT NULL THEN
    PERFORM smam.refuse_for_agent_of_parliament(department, '7.2.2', 'recommend corrective action');
  END IF;
  SELECT r.responsible INTO binds FROM smam.requirement r WHERE r.code = requirement;
  IF NOT FOUND THEN
    PERFORM smam.refuse('22023', '7.2.2', format('requirement "%s" is not in the Standard', requirement), NULL,
      'Name the requirement not complied with, such as 6.1.2.');
  END IF;
  IF (department IS NULL) <> (binds = 'entity_official') OR binds IN ('tbs_analyst', 'administrator') THEN
    PERFORM smam.refuse('22023', '7.2.2', format('requirement %s does not bind %s', requirement, to_whom),
      format('Requirement %s is the responsibility of the office %s; corrective action is recommended to the party the requirement binds.', requirement, binds),
      CASE WHEN binds = 'entity_official' THEN 'Recommend it to the entity: pass NULL as the department.'
           ELSE 'Recommend it to a department, or name one of the entity''s requirements (6.2, 7.3) for the entity.' END);
  END IF;
  IF finding_key IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM smam.compliance_findings_all(now(), true) f
        WHERE f.finding_key = recommend_corrective_action.finding_key AND f.requirement = recommend_corrective_action.requirement
          AND f.department_id IS NOT DISTINCT FROM department) THEN
    PERFORM smam.refuse('22023', '7.2.2', format('"%s" is not a finding of requirement %s for %s now', finding_key, requirement, to_whom),
      'A corrective action answers a finding of non-compliance, named by its key in smam.compliance_findings.',
      'Take the finding_key from smam.compliance_findings, or recommend without one.');
  END IF;
  IF recommendation IS NULL OR btrim(recommendation) = '' THEN
    PERFORM smam.refuse('22023', '7.2.2', 'a corrective action needs its recommendation', NULL,
      format('Say what %s is to do.', to_whom));
  END IF;
  IF due_on IS NULL OR due_on < smam.today() THEN
    PERFORM smam.refuse('22023', '7.2.2', format('a corrective action cannot be due on %s', coalesce(smam.date_text(due_on), 'no date')),
      NULL, 'Give a due date from today on.');
  END IF;
  INSERT INTO smam.corrective_action (department_id, requirement, finding_key, recommendation, due_on)
  VALUES (department, requirement, finding_key, btrim(recommendation), due_on) RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.recommend_corrective_action(bigint, text, text, date, text) IS
  'TBS recommends corrective action to a department, or to the entity (department NULL), on a requirement that binds it, optionally naming a current finding (7.2.2); refused for agents of Parliament (2.2)';

CREATE FUNCTION smam.record_corrective_measure(action bigint, description text, completes boolean DEFAULT true)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.corrective_action;
  new_id bigint;
BEGIN
  SELECT * INTO c FROM smam.corrective_action x WHERE x.id = action;
  IF NOT FOUND OR (c.department_id IS NULL AND NOT smam.sees_all()) THEN
    PERFORM smam.require_visible('corrective action', action, NULL);
  ELSIF c.department_id IS NOT NULL THEN
    PERFORM smam.require_visible('corrective action', action, c.department_id);
  END IF;
  SELECT * INTO c FROM smam.corrective_action x WHERE x.id = action FOR UPDATE;
  IF c.department_id IS NULL THEN
    -- The entity's own corrective action: its designated senior official.
    PERFORM smam.require_office('entity_official', NULL, '7.2.2', 'record the entity''s corrective measures');
  ELSE
    PERFORM smam.require_office('deputy_head', c.department_id, '8.1', 'record corrective measures');
  END IF;
  IF c.completed_at IS NOT NULL THEN
    PERFORM smam.refuse('55000', '8.1', format('corrective action %s is already completed', action),
      format('It was completed %s.', smam.moment_text(c.completed_at)), NULL);
  END IF;
  IF description IS NULL OR btrim(description) = '' THEN
    PERFORM smam.refuse('22023', '8.1', 'a corrective measure needs its description', NULL,
      'Say what was done, and by whom.');
  END IF;
  INSERT INTO smam.corrective_measure (action_id, description, completes)
  VALUES (action, btrim(description), coalesce(completes, false)) RETURNING id INTO new_id;
  IF completes THEN
    UPDATE smam.corrective_action x SET completed_at = now() WHERE x.id = action;
  END IF;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.record_corrective_measure(bigint, text, boolean) IS
  'The deputy head records a measure taken on a corrective action (8.1); completes closes the action';

CREATE FUNCTION smam.record_consequence(department bigint, kind text, description text, action bigint DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_tbs('8.2', 'record a consequence of non-compliance');
  PERFORM smam.refuse_for_agent_of_parliament(department, '8.2', 'record a consequence of non-compliance');
  IF kind IS NULL OR kind NOT IN ('spending_authority_limits', 'other_measure') THEN
    PERFORM smam.refuse('22023', '8.2', format('"%s" is not a consequence of section 8.2', kind), NULL,
      'Give spending_authority_limits or other_measure.');
  END IF;
  IF description IS NULL OR btrim(description) = '' THEN
    PERFORM smam.refuse('22023', '8.2', 'a consequence needs its description', NULL, 'Say what is recommended.');
  END IF;
  IF action IS NOT NULL AND NOT EXISTS (SELECT 1 FROM smam.corrective_action c
                                         WHERE c.id = action AND c.department_id = department) THEN
    PERFORM smam.refuse('23503', '8.2', format('corrective action %s is not one of department %s', action, department),
      NULL, 'Name a corrective action recommended to this department, or none.');
  END IF;
  INSERT INTO smam.consequence (department_id, action_id, kind, description)
  VALUES (department, action, kind, btrim(description)) RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.record_consequence(bigint, text, text, bigint) IS
  'TBS records a consequence of non-compliance (8.2); refused for agents of Parliament (2.2)';

CREATE FUNCTION smam.record_standard_review(initiated_on date, framework text) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_tbs('7.2.3', 'record a review of the Standard');
  IF initiated_on IS NULL OR initiated_on < (SELECT i.effective_on FROM smam.instrument i) OR initiated_on > smam.today() THEN
    PERFORM smam.refuse('22023', '7.2.3', format('a review cannot have been initiated on %s', coalesce(smam.date_text(initiated_on), 'no date')),
      NULL, 'Give the date the review was initiated: after the effective date, not in the future.');
  END IF;
  IF framework IS NULL OR btrim(framework) = '' THEN
    PERFORM smam.refuse('22023', '7.2.3', 'a review needs its framework', NULL, 'Describe or cite the review framework.');
  END IF;
  INSERT INTO smam.standard_review (initiated_on, framework) VALUES (initiated_on, btrim(framework))
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.record_standard_review(date, text) IS 'TBS records the initiation of a review of the Standard (7.2.3)';

-- ---- Security ----
ALTER TABLE smam.report_request ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.compliance_report ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.corrective_action ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.corrective_measure ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.consequence ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.standard_review ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.service_standard ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_standard_read ON smam.service_standard FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department USING (true);
GRANT SELECT ON smam.service_standard TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department;
GRANT EXECUTE ON FUNCTION smam.set_service_standard(text, interval) TO smam_entity;
GRANT EXECUTE ON FUNCTION smam.service_standard_at(text, timestamptz) TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department;
CREATE POLICY report_request_read ON smam.report_request FOR SELECT TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department
  USING ((SELECT smam.reads_all_compliance()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY compliance_report_read ON smam.compliance_report FOR SELECT TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department
  USING ((SELECT smam.reads_all_compliance()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY corrective_action_read ON smam.corrective_action FOR SELECT TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department
  USING ((SELECT smam.reads_all_compliance()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY corrective_measure_read ON smam.corrective_measure FOR SELECT TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department
  USING ((SELECT smam.reads_all_compliance()) OR EXISTS (SELECT 1 FROM smam.corrective_action c
          WHERE c.id OPERATOR(pg_catalog.=) action_id
            AND c.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[])));
CREATE POLICY consequence_read ON smam.consequence FOR SELECT TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department
  USING ((SELECT smam.reads_all_compliance()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY standard_review_read ON smam.standard_review FOR SELECT TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department
  USING (true);
GRANT SELECT ON smam.report_request, smam.compliance_report, smam.corrective_action, smam.corrective_measure,
  smam.consequence, smam.standard_review TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department;
GRANT SELECT ON smam.compliance_rule, smam.compliance_findings, smam.compliance_by_department, smam.compliance_summary
  TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department;
GRANT EXECUTE ON FUNCTION smam.compliance_findings_as_of(timestamptz), smam.compliance_findings_stream(timestamptz),
  smam.compliance_by_department_as_of(timestamptz),
  smam.compliance_summary_as_of(timestamptz), smam.reads_all_compliance(), smam.reproduce_report(bigint)
  TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department;
GRANT EXECUTE ON FUNCTION smam.request_report(bigint, date, text, text, date, date),
  smam.recommend_corrective_action(bigint, text, text, date, text),
  smam.record_consequence(bigint, text, text, bigint), smam.record_standard_review(date, text) TO smam_tbs;
GRANT EXECUTE ON FUNCTION smam.submit_report(bigint, text) TO smam_department, smam_entity;
GRANT EXECUTE ON FUNCTION smam.record_corrective_measure(bigint, text, boolean) TO smam_department, smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.report_request', '');
SELECT pg_catalog.pg_extension_config_dump('smam.report_request_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.compliance_report', '');
SELECT pg_catalog.pg_extension_config_dump('smam.compliance_report_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.corrective_action', '');
SELECT pg_catalog.pg_extension_config_dump('smam.corrective_action_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.corrective_measure', '');
SELECT pg_catalog.pg_extension_config_dump('smam.corrective_measure_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.consequence', '');
SELECT pg_catalog.pg_extension_config_dump('smam.consequence_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.standard_review', '');
SELECT pg_catalog.pg_extension_config_dump('smam.service_standard', '');
SELECT pg_catalog.pg_extension_config_dump('smam.service_standard_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.standard_review_id_seq', '');

-- ---- Activities reports (7.3.1) ----
-- "Preparing reports on activities related to this Standard as requested by
-- the Treasury Board Secretariat": not the compliance picture again, but
-- what was done in a period, per department and for the government, counted
-- from the records (stage history, submissions and their sealed decisions,
-- platform reviews, index publications, posts and deliveries). TBS names
-- the period in the request (smam.request_report above); the entity's
-- official submits the report once the period is over (smam.submit_report);
-- it is frozen in smam.compliance_report.activities with the others' hash,
-- and smam.reproduce_report counts again as of the report's moment.

-- The period: calendar days in smam.time_zone, from period_from until
-- period_until (exclusive). Only an activities report has one.
ALTER TABLE smam.report_request
  ADD COLUMN period_from date,
  ADD COLUMN period_until date,
  ADD CONSTRAINT report_request_period CHECK (
    CASE WHEN kind OPERATOR(pg_catalog.=) 'activities'
         THEN period_from IS NOT NULL AND period_until IS NOT NULL
              AND period_from OPERATOR(pg_catalog.<) period_until
         ELSE period_from IS NULL AND period_until IS NULL END);
COMMENT ON COLUMN smam.report_request.period_from IS
  'Activities reports (7.3.1): the first day of the period counted, in smam.time_zone (NULL for a compliance report)';
COMMENT ON COLUMN smam.report_request.period_until IS
  'Activities reports (7.3.1): the first day after the period (exclusive); the report is submitted from that day on';

ALTER TABLE smam.compliance_report ADD COLUMN activities jsonb;
COMMENT ON COLUMN smam.compliance_report.activities IS
  'An activities report (7.3.1): {"period_from", "period_until", "lines": [one per department, then the total]}, read by smam.activity_report_line; NULL for a compliance report';

-- One line of an activities report: a department's, or the total
-- (department_id NULL), which alone carries the government-wide counts.
CREATE TYPE smam.activity_line AS (
  department_id               bigint,
  department_en               text,
  department_fr               text,
  submissions_received        bigint,
  submissions_creation        bigint,
  submissions_configuration   bigint,
  submissions_disposition     bigint,
  submissions_reviewed        bigint,
  submissions_accepted        bigint,
  submissions_rejected        bigint,
  submissions_pending_at_end  bigint,
  review_time_median          interval,
  review_time_max             interval,
  review_service_standard     interval,
  reviews_beyond_standard     bigint,
  pending_beyond_standard     bigint,
  accounts_planned            bigint,
  accounts_onboarded          bigint,
  accounts_created            bigint,
  accounts_configured         bigint,
  live_configuration_changes  bigint,
  accounts_implemented        bigint,
  evaluations_started         bigint,
  dispositions_started        bigint,
  accounts_disposed           bigint,
  accounts_abandoned          bigint,
  platform_reviews            bigint,
  platform_reviews_accepted   bigint,
  platform_reviews_rejected   bigint,
  platform_reviews_by_kind    jsonb,
  index_publications          bigint,
  index_last_published_at     timestamptz,
  index_last_account_count    integer,
  posts_published             bigint,
  deliveries_delivered        bigint,
  deliveries_dead             bigint
);
COMMENT ON TYPE smam.activity_line IS
  'One line of an activities report (7.3.1): a department''s counts for the period, or the total (department_id NULL)';

-- The counts of a period, as the records say as of a moment. Internal: run
-- by smam.submit_report and smam.reproduce_report with the owner's rights,
-- TimeZone, DateStyle and IntervalStyle fixed, and the zone of the report.
-- Every record counted is dated inside the period, so before the moment of
-- a report submitted after it; platform reviews carry the date the entity
-- gives them, so those recorded after the moment are left out.
CREATE FUNCTION smam.activity_lines(period_from date, period_until date, at timestamptz)
  RETURNS SETOF smam.activity_line
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH p AS MATERIALIZED (
      SELECT (period_from::timestamp AT TIME ZONE smam.time_zone()) AS t0,
             (period_until::timestamp AT TIME ZONE smam.time_zone()) AS t1),
    -- Submissions received before the end: the review from the sealed
    -- record of decisions; time to review from submission to decision.
    sub AS (
      SELECT s.department_id, s.kind,
             s.created_at >= p.t0 AS received,
             r.decision,
             (r.decided_at >= p.t0 AND r.decided_at < p.t1) AS reviewed,
             (r.decided_at IS NULL OR r.decided_at >= p.t1) AS pending_at_end,
             r.decided_at - s.created_at AS review_time,
             p.t1 - s.created_at AS waited,
             smam.service_standard_at('submission_review', s.created_at) AS within
        FROM smam.submission s
        CROSS JOIN p
        LEFT JOIN LATERAL (SELECT x.decision, x.decided_at FROM smam.decision x
                            WHERE x.subject = 'submission' AND x.subject_id = s.id
                              AND x.decision IN ('accepted', 'rejected')
                            ORDER BY x.decided_at, x.id LIMIT 1) r ON true
       WHERE s.created_at < p.t1),
    sb AS (
      SELECT s.department_id,
             count(*) FILTER (WHERE s.received) AS received,
             count(*) FILTER (WHERE s.received AND s.kind = 'creation') AS creation,
             count(*) FILTER (WHERE s.received AND s.kind = 'configuration') AS configuration,
             count(*) FILTER (WHERE s.received AND s.kind = 'disposition') AS disposition,
             count(*) FILTER (WHERE s.reviewed) AS reviewed,
             count(*) FILTER (WHERE s.reviewed AND s.decision = 'accepted') AS accepted,
             count(*) FILTER (WHERE s.reviewed AND s.decision = 'rejected') AS rejected,
             count(*) FILTER (WHERE s.pending_at_end) AS pending,
             date_trunc('second', percentile_cont(0.5) WITHIN GROUP (ORDER BY s.review_time) FILTER (WHERE s.reviewed)) AS median,
             date_trunc('second', max(s.review_time) FILTER (WHERE s.reviewed)) AS longest,
             count(*) FILTER (WHERE s.reviewed AND s.review_time > s.within) AS beyond,
             count(*) FILTER (WHERE s.pending_at_end AND s.waited > s.within) AS pending_beyond
        FROM sub s
       GROUP BY GROUPING SETS ((s.department_id), ())),
    -- Moves, live configuration changes, posts and deliveries in the period.
    ev AS (
      SELECT h.department_id,
             CASE WHEN h.onboarded THEN 'onboarded'
                  WHEN h.from_stage IS NULL THEN 'planned'
                  WHEN h.to_stage = 'implementation' AND h.from_stage = 'configuration' THEN 'implemented'
                  WHEN h.to_stage = 'disposed' AND h.from_stage = 'planning' THEN 'abandoned'
                  ELSE h.to_stage::text END AS what
        FROM smam.stage_history h CROSS JOIN p
       WHERE h.moved_at >= p.t0 AND h.moved_at < p.t1
      UNION ALL
      SELECT s.department_id, 'reconfigured'
        FROM smam.submission s CROSS JOIN p
       WHERE s.kind = 'configuration' AND s.consumed_stage IN ('implementation', 'evaluation')
         AND s.consumed_at >= p.t0 AND s.consumed_at < p.t1
      UNION ALL
      SELECT x.department_id, 'published'
        FROM smam.post x CROSS JOIN p
       WHERE x.status = 'published' AND x.settled_at >= p.t0 AND x.settled_at < p.t1
      UNION ALL
      SELECT x.department_id, x.status::text
        FROM smam.delivery x CROSS JOIN p
       WHERE x.status IN ('delivered', 'dead') AND x.settled_at >= p.t0 AND x.settled_at < p.t1),
    evc AS (
      SELECT e.department_id,
             count(*) FILTER (WHERE e.what = 'planned') AS planned,
             count(*) FILTER (WHERE e.what = 'onboarded') AS onboarded,
             count(*) FILTER (WHERE e.what = 'creation') AS created,
             count(*) FILTER (WHERE e.what = 'configuration') AS configured,
             count(*) FILTER (WHERE e.what = 'reconfigured') AS reconfigured,
             count(*) FILTER (WHERE e.what = 'implemented') AS implemented,
             count(*) FILTER (WHERE e.what = 'evaluation') AS evaluations,
             count(*) FILTER (WHERE e.what = 'disposition') AS dispositions,
             count(*) FILTER (WHERE e.what = 'disposed') AS disposed,
             count(*) FILTER (WHERE e.what = 'abandoned') AS abandoned,
             count(*) FILTER (WHERE e.what = 'published') AS published,
             count(*) FILTER (WHERE e.what = 'delivered') AS delivered,
             count(*) FILTER (WHERE e.what = 'dead') AS dead
        FROM ev e
       GROUP BY GROUPING SETS ((e.department_id), ())),
    -- Government-wide: the entity's platform reviews dated in the period
    -- (6.2.3) and its publications of the index (6.2.4).
    pr AS (
      SELECT r.kind::text AS kind, count(*) AS n,
             count(*) FILTER (WHERE r.outcome = 'accepted') AS accepted,
             count(*) FILTER (WHERE r.outcome = 'rejected') AS rejected
        FROM smam.platform_review r
       WHERE r.reviewed_on >= period_from AND r.reviewed_on < period_until AND r.recorded_at <= at
       GROUP BY r.kind),
    ix AS (
      SELECT s.published_at, s.account_count, count(*) OVER () AS n
        FROM smam.index_snapshot s CROSS JOIN p
       WHERE s.published_at >= p.t0 AND s.published_at < p.t1
       ORDER BY s.published_at DESC, s.id DESC LIMIT 1),
    ln AS (
      SELECT d.id AS department_id, d.name_en, d.name_fr FROM smam.department d
       WHERE d.created_at <= at AND (d.merged_at IS NULL OR d.merged_at > at)
      UNION ALL
      SELECT NULL, 'All departments', 'Tous les ministères')
    SELECT l.department_id, l.name_en, l.name_fr,
           coalesce(sb.received, 0), coalesce(sb.creation, 0), coalesce(sb.configuration, 0),
           coalesce(sb.disposition, 0), coalesce(sb.reviewed, 0), coalesce(sb.accepted, 0), coalesce(sb.rejected, 0),
           coalesce(sb.pending, 0), sb.median, sb.longest,
           (SELECT smam.service_standard_at('submission_review', p.t1) FROM p),
           coalesce(sb.beyond, 0), coalesce(sb.pending_beyond, 0),
           coalesce(evc.planned, 0), coalesce(evc.onboarded, 0), coalesce(evc.created, 0), coalesce(evc.configured, 0),
           coalesce(evc.reconfigured, 0), coalesce(evc.implemented, 0), coalesce(evc.evaluations, 0),
           coalesce(evc.dispositions, 0), coalesce(evc.disposed, 0), coalesce(evc.abandoned, 0),
           CASE WHEN l.department_id IS NULL THEN coalesce((SELECT sum(pr.n) FROM pr), 0)::bigint END,
           CASE WHEN l.department_id IS NULL THEN coalesce((SELECT sum(pr.accepted) FROM pr), 0)::bigint END,
           CASE WHEN l.department_id IS NULL THEN coalesce((SELECT sum(pr.rejected) FROM pr), 0)::bigint END,
           CASE WHEN l.department_id IS NULL THEN
             coalesce((SELECT jsonb_object_agg(pr.kind, jsonb_build_object('accepted', pr.accepted, 'rejected', pr.rejected))
                         FROM pr), '{}') END,
           CASE WHEN l.department_id IS NULL THEN coalesce((SELECT ix.n FROM ix), 0) END,
           CASE WHEN l.department_id IS NULL THEN (SELECT ix.published_at FROM ix) END,
           CASE WHEN l.department_id IS NULL THEN (SELECT ix.account_count FROM ix) END,
           coalesce(evc.published, 0), coalesce(evc.delivered, 0), coalesce(evc.dead, 0)
      FROM ln l
      -- The grouping set () gives the total its row, department NULL.
      LEFT JOIN sb ON sb.department_id IS NOT DISTINCT FROM l.department_id
      LEFT JOIN evc ON evc.department_id IS NOT DISTINCT FROM l.department_id
     ORDER BY l.department_id NULLS LAST
  $$;
COMMENT ON FUNCTION smam.activity_lines(date, date, timestamptz) IS
  'Internal: the lines of an activities report (7.3.1) for a period, as the records say as of a moment';

-- What an activities report freezes and hashes: the period and its lines.
CREATE FUNCTION smam.activity_report_content(period_from date, period_until date, at timestamptz)
  RETURNS jsonb
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT jsonb_build_object(
             'period_from', smam.date_text(period_from),
             'period_until', smam.date_text(period_until),
             'lines', coalesce((SELECT jsonb_agg(to_jsonb(l) ORDER BY l.department_id NULLS LAST)
                                  FROM smam.activity_lines(period_from, period_until, at) l), '[]'))
  $$;
COMMENT ON FUNCTION smam.activity_report_content(date, date, timestamptz) IS
  'Internal: the content an activities report freezes: {"period_from", "period_until", "lines"}';

-- The frozen lines, for analysts. Who reads them is who reads compliance:
-- the entity, TBS, administrators and smam_analyst every line; a
-- department its own (not the total, which counts the others).
CREATE VIEW smam.activity_report_line WITH (security_barrier = true) AS
  SELECT r.id AS report_id, r.request_id, q.subject,
         ((r.activities OPERATOR(pg_catalog.->>) 'period_from'))::date AS period_from,
         ((r.activities OPERATOR(pg_catalog.->>) 'period_until'))::date AS period_until,
         r.as_of, r.time_zone,
         l.department_id, l.department_en, l.department_fr,
         l.submissions_received, l.submissions_creation, l.submissions_configuration, l.submissions_disposition,
         l.submissions_reviewed, l.submissions_accepted, l.submissions_rejected, l.submissions_pending_at_end,
         l.review_time_median, l.review_time_max, l.review_service_standard, l.reviews_beyond_standard,
         l.pending_beyond_standard,
         l.accounts_planned, l.accounts_onboarded, l.accounts_created, l.accounts_configured,
         l.live_configuration_changes, l.accounts_implemented, l.evaluations_started, l.dispositions_started,
         l.accounts_disposed, l.accounts_abandoned,
         l.platform_reviews, l.platform_reviews_accepted, l.platform_reviews_rejected, l.platform_reviews_by_kind,
         l.index_publications, l.index_last_published_at, l.index_last_account_count,
         l.posts_published, l.deliveries_delivered, l.deliveries_dead
    FROM smam.compliance_report r
    JOIN smam.report_request q ON q.id OPERATOR(pg_catalog.=) r.request_id
    CROSS JOIN LATERAL pg_catalog.jsonb_populate_recordset(NULL::smam.activity_line,
                                                           r.activities OPERATOR(pg_catalog.->) 'lines') l
   WHERE r.activities IS NOT NULL
     AND ((SELECT smam.reads_all_compliance())
          OR l.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
COMMENT ON VIEW smam.activity_report_line IS
  'The frozen lines of submitted activities reports (7.3.1): per department and a total, what was done in the report''s period; departments see their own lines';
-- The meaning of each column of smam.activity_report_line: sql/smam/95_report_dictionary.sql.

GRANT SELECT ON smam.activity_report_line TO smam_admin, smam_entity, smam_tbs, smam_analyst, smam_department;

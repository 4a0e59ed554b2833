-- The entity's list of pre-reviewed platforms (6.2.3): for each platform,
-- reviews of its functionality and terms of use (6.2.3.1), privacy and
-- security risk assessments and a model PIA (6.2.3.2), each with a date, an
-- outcome and an expiry. A platform is pre-reviewed on a date only when the
-- latest review of each kind made by then is accepted and not expired.

CREATE TYPE smam.platform_review_kind AS ENUM ('functionality', 'terms_of_use', 'privacy_risk', 'security_risk', 'model_pia');
COMMENT ON TYPE smam.platform_review_kind IS
  '6.2.3.1 functionality, terms of use; 6.2.3.2 privacy risk, security risk, model Privacy Impact Assessment: a platform is pre-reviewed when the latest review of every kind is accepted and current';

CREATE TYPE smam.review_outcome AS ENUM ('accepted', 'rejected');
COMMENT ON TYPE smam.review_outcome IS 'Outcome of a platform review';

CREATE SEQUENCE smam.platform_review_id_seq;
CREATE TABLE smam.platform_review (
  id           bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.platform_review_id_seq'),
  platform     text NOT NULL REFERENCES smam.platform (code),
  kind         smam.platform_review_kind NOT NULL,
  reviewed_on  date NOT NULL,
  outcome      smam.review_outcome NOT NULL,
  expires_on   date,
  reference    text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(reference)) OPERATOR(pg_catalog.>) 0),
  recorded_by  name NOT NULL DEFAULT smam.acting_role(),
  recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK (expires_on IS NULL OR expires_on OPERATOR(pg_catalog.>) reviewed_on)
);
ALTER SEQUENCE smam.platform_review_id_seq OWNED BY smam.platform_review.id;
CREATE INDEX platform_review_idx ON smam.platform_review (platform, kind, reviewed_on);
COMMENT ON TABLE smam.platform_review IS
  'Reviews of platforms by the entity (6.2.3): append-only; a later review of the same kind supersedes';
COMMENT ON COLUMN smam.platform_review.expires_on IS 'The review no longer counts on and after this date (NULL: no expiry)';

CREATE TRIGGER record_guard BEFORE UPDATE OR DELETE ON smam.platform_review
  FOR EACH ROW EXECUTE FUNCTION smam.record_guard();
CREATE TRIGGER record_guard_truncate BEFORE TRUNCATE ON smam.platform_review
  FOR EACH STATEMENT EXECUTE FUNCTION smam.record_guard();

-- Why a platform is not pre-reviewed on a date: one line per kind of review
-- that is missing, rejected or expired then (empty: pre-reviewed).
CREATE FUNCTION smam.pre_review_gaps(platform text, on_date date DEFAULT smam.today())
  RETURNS text[] LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce(array_agg(gap ORDER BY k), '{}')
      FROM (SELECT k,
                   CASE WHEN r.id IS NULL THEN format('%s: no review by %s', k, to_char(on_date, 'YYYY-MM-DD'))
                        WHEN r.outcome <> 'accepted'
                          THEN format('%s: rejected on %s (%s)', k, to_char(r.reviewed_on, 'YYYY-MM-DD'), r.reference)
                        WHEN r.expires_on IS NOT NULL AND r.expires_on <= on_date
                          THEN format('%s: expired on %s (%s)', k, to_char(r.expires_on, 'YYYY-MM-DD'), r.reference)
                   END AS gap
              FROM unnest(enum_range(NULL::smam.platform_review_kind)) AS k
              LEFT JOIN LATERAL (
                SELECT x.* FROM smam.platform_review x
                 WHERE x.platform = pre_review_gaps.platform AND x.kind = k AND x.reviewed_on <= on_date
                 ORDER BY x.reviewed_on DESC, x.recorded_at DESC, x.id DESC LIMIT 1) r ON true) g
     WHERE gap IS NOT NULL
  $$;
COMMENT ON FUNCTION smam.pre_review_gaps(text, date) IS
  'The reviews (6.2.3.1, 6.2.3.2) missing, rejected or expired for a platform on a date; empty when pre-reviewed';

CREATE FUNCTION smam.pre_reviewed(platform text, on_date date DEFAULT smam.today())
  RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT cardinality(smam.pre_review_gaps(platform, on_date)) = 0 $$;
COMMENT ON FUNCTION smam.pre_reviewed(text, date) IS
  'Is the platform pre-reviewed on the date: every kind of review accepted and current then (6.2.3)';

-- Is the latest review of one kind accepted and current on a date?
CREATE FUNCTION smam.review_current(platform text, kind smam.platform_review_kind,
                                    on_date date DEFAULT smam.today())
  RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce((SELECT x.outcome = 'accepted' AND (x.expires_on IS NULL OR x.expires_on > on_date)
                       FROM smam.platform_review x
                      WHERE x.platform = review_current.platform AND x.kind = review_current.kind
                        AND x.reviewed_on <= on_date
                      ORDER BY x.reviewed_on DESC, x.recorded_at DESC, x.id DESC LIMIT 1), false)
  $$;
COMMENT ON FUNCTION smam.review_current(text, smam.platform_review_kind, date) IS
  'Is the latest review of this kind for the platform accepted and unexpired on the date?';

-- Why a plan's PIA does not cover a platform on a date, or NULL. The
-- unchecked form is smam's own (the life-cycle guards, with the owner's
-- rights); the checked form refuses a plan the caller cannot see, and a
-- platform smam does not know, as objects that do not exist.
CREATE FUNCTION smam.plan_pia_problem_unchecked(plan bigint, platform text, on_date date DEFAULT smam.today())
  RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    -- plan_pia_problem_unchecked.platform: the argument, not the column of
    -- the row joined (NULL when the plan has no PIA for the platform).
    SELECT CASE WHEN pp.plan_id IS NULL
                  THEN format('Plan %s has no Privacy Impact Assessment for %s.', plan, plan_pia_problem_unchecked.platform)
                WHEN pp.uses_model_pia AND NOT smam.review_current(plan_pia_problem_unchecked.platform, 'model_pia', on_date)
                  THEN format('Plan %s relies on the entity''s model PIA for %s, which is not accepted and current on %s.',
                              plan, plan_pia_problem_unchecked.platform, to_char(on_date, 'YYYY-MM-DD'))
           END
      FROM (SELECT 1) one
      LEFT JOIN smam.plan_platform pp ON pp.plan_id = plan AND pp.platform = plan_pia_problem_unchecked.platform
  $$;
COMMENT ON FUNCTION smam.plan_pia_problem_unchecked(bigint, text, date) IS
  'Internal (smam''s guards, with the owner''s rights): why the plan has no completed PIA (or current model PIA) for the platform code on the date; NULL when it has';

CREATE FUNCTION smam.plan_pia_problem(plan bigint, platform text, on_date date DEFAULT smam.today())
  RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  dept bigint;
  code text;
BEGIN
  SELECT p.department_id INTO dept FROM smam.implementation_plan p WHERE p.id = plan;
  PERFORM smam.require_visible('implementation plan', plan, dept);
  code := smam.platform_of(platform);
  IF code IS NULL THEN
    PERFORM smam.refuse('42704', '6.2.3', format('platform "%s" does not exist', platform),
      'Plans hold a Privacy Impact Assessment for each platform of the entity''s list.',
      'Name a platform of smam.platform (its code or name).');
  END IF;
  RETURN smam.plan_pia_problem_unchecked(plan, code, on_date);
END
$$;
COMMENT ON FUNCTION smam.plan_pia_problem(bigint, text, date) IS
  'Why the plan has no completed PIA (or current model PIA) for the platform on the date; NULL when it has; 42704 for a plan the caller cannot see or a platform smam does not know';

CREATE FUNCTION smam.record_platform_review(platform text, kind smam.platform_review_kind,
                                            reviewed_on date, outcome smam.review_outcome,
                                            expires_on date, reference text)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  code text := smam.platform_of(platform);
  new_id bigint;
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'entity_reviewer', NULL)) THEN
    PERFORM smam.refuse('42501', '6.2.3', format('role "%s" may not record a platform review', who),
      'The entity develops and maintains the list of pre-reviewed platforms; recording a review requires the office entity_official or entity_reviewer, held now.',
      'Ask the entity''s designated senior official or a reviewer of the entity.');
  END IF;
  IF code IS NULL THEN
    PERFORM smam.refuse('23503', '6.2.3', format('"%s" is not a known platform', platform), NULL,
      'List platforms in smam.platform.');
  END IF;
  IF kind IS NULL OR outcome IS NULL OR reviewed_on IS NULL THEN
    PERFORM smam.refuse('22023', '6.2.3', 'a platform review needs its kind, date and outcome', NULL,
      'Give the kind (functionality, terms_of_use, privacy_risk, security_risk, model_pia), the date reviewed and accepted or rejected.');
  END IF;
  IF reviewed_on > smam.today() THEN
    PERFORM smam.refuse('22023', '6.2.3', format('a review cannot be dated %s, in the future', to_char(reviewed_on, 'YYYY-MM-DD')), NULL,
      'Record a review once it is done.');
  END IF;
  IF expires_on IS NOT NULL AND expires_on <= reviewed_on THEN
    PERFORM smam.refuse('22023', '6.2.3', 'a review cannot expire before it is made',
      format('Reviewed on %s, expiring on %s.', to_char(reviewed_on, 'YYYY-MM-DD'), to_char(expires_on, 'YYYY-MM-DD')),
      'Give an expiry after the review date.');
  END IF;
  IF coalesce(btrim(reference), '') = '' THEN
    PERFORM smam.refuse('22023', '6.2.3', 'a platform review needs its reference', NULL,
      'Cite the review: its title, file number or address.');
  END IF;
  INSERT INTO smam.platform_review (platform, kind, reviewed_on, outcome, expires_on, reference)
  VALUES (code, kind, reviewed_on, outcome, expires_on, btrim(reference))
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.record_platform_review(text, smam.platform_review_kind, date, smam.review_outcome, date, text) IS
  'Record a review of a platform (6.2.3): entity official or reviewer';

-- The entity's list (6.2.3), today.
CREATE VIEW smam.pre_reviewed_platform WITH (security_invoker = true) AS
  SELECT p.code AS platform, p.name, smam.pre_reviewed(p.code) AS pre_reviewed,
         smam.pre_review_gaps(p.code) AS gaps
    FROM smam.platform p;
COMMENT ON VIEW smam.pre_reviewed_platform IS
  'The entity''s list of platforms (6.2.3): pre-reviewed today, or what is missing';

ALTER TABLE smam.platform_review ENABLE ROW LEVEL SECURITY;
CREATE POLICY platform_review_read ON smam.platform_review FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
GRANT SELECT ON smam.platform_review, smam.pre_reviewed_platform TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.record_platform_review(text, smam.platform_review_kind, date, smam.review_outcome, date, text)
  TO smam_entity;
GRANT EXECUTE ON FUNCTION smam.pre_review_gaps(text, date), smam.pre_reviewed(text, date),
  smam.review_current(text, smam.platform_review_kind, date)
  TO smam_admin, smam_entity, smam_department, smam_tbs;

SELECT pg_catalog.pg_extension_config_dump('smam.platform_review', '');
SELECT pg_catalog.pg_extension_config_dump('smam.platform_review_id_seq', '');

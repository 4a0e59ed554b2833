-- Social media strategies (6.1.1) and implementation plans (6.1.2, appendix),
-- and the record of every decision on them. The approval rules live in C
-- (src/approvals.c, trigger smam.approval_guard): the approver holds the
-- office at the moment of the decision, never approves what they wrote, an
-- edit voids an approval, and of two concurrent decisions exactly one wins.

CREATE TYPE smam.approval_status AS ENUM ('draft', 'approved', 'retired');
COMMENT ON TYPE smam.approval_status IS
  'A strategy or plan: draft (being written, or edited after approval), approved, retired';

-- Every decision: approvals, reviews, voided approvals, retirements. Sealed:
-- only smam's triggers append to it (src/lifecycle.c, smam_write_record).
CREATE SEQUENCE smam.decision_id_seq;
CREATE TABLE smam.decision (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.decision_id_seq'),
  subject        text NOT NULL CHECK (subject OPERATOR(pg_catalog.=) ANY (ARRAY['strategy', 'implementation_plan', 'submission'])),
  subject_id     bigint NOT NULL,
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  version        integer NOT NULL,
  decision       text NOT NULL CHECK (decision OPERATOR(pg_catalog.=) ANY (ARRAY['approved', 'accepted', 'rejected', 'voided', 'retired'])),
  decided_by     name NOT NULL,
  office         smam.office,
  decided_at     timestamptz NOT NULL,
  note           text
);
ALTER SEQUENCE smam.decision_id_seq OWNED BY smam.decision.id;
CREATE INDEX decision_subject_idx ON smam.decision (subject, subject_id, decided_at);
COMMENT ON TABLE smam.decision IS
  'Every approval, review, voided approval and retirement, with who decided, the office held and the version decided';
COMMENT ON COLUMN smam.decision.office IS 'The office the decider held at the moment of the decision (NULL for a voiding edit)';

CREATE FUNCTION smam.approval_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_approval_guard';
COMMENT ON FUNCTION smam.approval_guard() IS
  'Trigger (C): approval and review rules: office at the moment of decision, separation of duties, approvals bound to content, one decision wins';

CREATE FUNCTION smam.record_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_record_guard';
COMMENT ON FUNCTION smam.record_guard() IS
  'Trigger (C): a record is append-only; with argument sealed, only smam''s own triggers append';

CREATE TRIGGER record_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.decision
  FOR EACH ROW EXECUTE FUNCTION smam.record_guard('sealed');
CREATE TRIGGER record_guard_truncate BEFORE TRUNCATE ON smam.decision
  FOR EACH STATEMENT EXECUTE FUNCTION smam.record_guard('sealed');

-- ---- strategies (6.1.1) ----
CREATE SEQUENCE smam.strategy_id_seq;
CREATE TABLE smam.strategy (
  id                      bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.strategy_id_seq'),
  department_id           bigint NOT NULL REFERENCES smam.department (id),
  program                 text CHECK (pg_catalog.length(pg_catalog.btrim(program)) OPERATOR(pg_catalog.>) 0),
  rolls_into              bigint REFERENCES smam.strategy (id),
  title                   text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(title)) OPERATOR(pg_catalog.>) 0),
  mandate                 text,
  business_value          text,
  alignment               text,
  governance              text,
  performance_evaluation  text,
  lessons_learned         text,
  in_force_from           date NOT NULL DEFAULT smam.today(),
  in_force_until          date,
  status                  smam.approval_status NOT NULL DEFAULT 'draft',
  version                 integer NOT NULL DEFAULT 1,
  authors                 text[] NOT NULL DEFAULT '{}',
  decided_by              name,
  decided_office          smam.office,
  decided_at              timestamptz,
  decision_note           text,
  created_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK (in_force_until IS NULL OR in_force_until OPERATOR(pg_catalog.>) in_force_from)
);
ALTER SEQUENCE smam.strategy_id_seq OWNED BY smam.strategy.id;
CREATE INDEX strategy_department_idx ON smam.strategy (department_id, status);
CREATE INDEX strategy_rolls_into_idx ON smam.strategy (rolls_into);
COMMENT ON TABLE smam.strategy IS
  'Social media strategies (6.1.1): the departmental one (program NULL) and program strategies that roll into it';
COMMENT ON COLUMN smam.strategy.program IS 'NULL for the overarching departmental strategy; the program''s name for a program strategy';
COMMENT ON COLUMN smam.strategy.rolls_into IS
  'A program strategy: the departmental strategy of its department it rolls into (hub and spoke); NULL for a departmental strategy. Set once by smam.draft_strategy or changed by smam.revise (an edit: it voids an approval), never re-attached by smam';
COMMENT ON COLUMN smam.strategy.alignment IS 'Alignment of social media with departmental and government themes';
COMMENT ON COLUMN smam.strategy.lessons_learned IS 'Lessons learned and shared by other departments';
COMMENT ON COLUMN smam.strategy.version IS 'Incremented by every edit of the content; decisions record the version decided';
COMMENT ON COLUMN smam.strategy.authors IS 'Every role that wrote a version: none of them may approve it';

CREATE TRIGGER approval_guard BEFORE INSERT OR UPDATE ON smam.strategy
  FOR EACH ROW EXECUTE FUNCTION smam.approval_guard('strategy', 'head_of_communications', '6.1.1', 'draft', 'void');

-- ---- implementation plans (6.1.2 and the appendix) ----
CREATE SEQUENCE smam.implementation_plan_id_seq;
CREATE TABLE smam.implementation_plan (
  id                       bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.implementation_plan_id_seq'),
  department_id            bigint NOT NULL REFERENCES smam.department (id),
  strategy_id              bigint REFERENCES smam.strategy (id),
  title                    text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(title)) OPERATOR(pg_catalog.>) 0),
  business_drivers         text,
  resources                text,
  responsibilities         text,
  risk_management          text,
  management_protocols     text,
  performance_measurement  text,
  communications_plan      text,
  pia_revision             integer NOT NULL DEFAULT 0,
  status                   smam.approval_status NOT NULL DEFAULT 'draft',
  version                  integer NOT NULL DEFAULT 1,
  authors                  text[] NOT NULL DEFAULT '{}',
  decided_by               name,
  decided_office           smam.office,
  decided_at               timestamptz,
  decision_note            text,
  created_at               timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.implementation_plan_id_seq OWNED BY smam.implementation_plan.id;
CREATE INDEX implementation_plan_department_idx ON smam.implementation_plan (department_id, status);
CREATE INDEX implementation_plan_strategy_idx ON smam.implementation_plan (strategy_id);
COMMENT ON TABLE smam.implementation_plan IS
  'Implementation plans (6.1.2): the eight elements of the appendix; the PIAs are in smam.plan_platform';
COMMENT ON COLUMN smam.implementation_plan.strategy_id IS
  'The strategy of its department the plan is based on (appendix): the departmental strategy, or a program strategy rolling into it. Approving the plan needs it approved and in force (6.1.1); changing it is an edit (voids an approval)';
COMMENT ON COLUMN smam.implementation_plan.business_drivers IS 'Business drivers and objectives';
COMMENT ON COLUMN smam.implementation_plan.resources IS 'Allocation of resources, both human and financial';
COMMENT ON COLUMN smam.implementation_plan.responsibilities IS 'Responsibilities and accountabilities, including the delineation of roles';
COMMENT ON COLUMN smam.implementation_plan.risk_management IS 'A risk management plan';
COMMENT ON COLUMN smam.implementation_plan.management_protocols IS 'Management protocols';
COMMENT ON COLUMN smam.implementation_plan.performance_measurement IS 'A performance measurement strategy';
COMMENT ON COLUMN smam.implementation_plan.communications_plan IS 'A communications plan';
COMMENT ON COLUMN smam.implementation_plan.pia_revision IS
  'Incremented whenever the plan''s PIAs (smam.plan_platform) change, so that the change voids an approval';

CREATE TRIGGER approval_guard BEFORE INSERT OR UPDATE ON smam.implementation_plan
  FOR EACH ROW EXECUTE FUNCTION smam.approval_guard('implementation_plan', 'head_of_communications', '6.1.2', 'draft', 'void');

-- The fourth element: a completed Privacy Impact Assessment for the planned
-- usage on each platform, or reliance on the entity's model PIA (appendix).
CREATE TABLE smam.plan_platform (
  plan_id           bigint NOT NULL REFERENCES smam.implementation_plan (id),
  platform          text NOT NULL REFERENCES smam.platform (code),
  uses_model_pia    boolean NOT NULL DEFAULT false,
  pia_reference     text CHECK (pg_catalog.length(pg_catalog.btrim(pia_reference)) OPERATOR(pg_catalog.>) 0),
  pia_completed_on  date,
  PRIMARY KEY (plan_id, platform),
  CHECK (uses_model_pia OR (pia_reference IS NOT NULL AND pia_completed_on IS NOT NULL))
);
COMMENT ON TABLE smam.plan_platform IS
  'The platforms a plan uses, each with its completed PIA or reliance on the entity''s model PIA';

CREATE FUNCTION smam.plan_platform_changed() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF smam.restoring_dump(TG_RELID) THEN
    RETURN NULL;  -- a restore brings the plans back with their revisions
  END IF;
  -- A change of the PIAs is a change of the plan: bump its content so that
  -- the approval trigger voids an approval.
  UPDATE smam.implementation_plan p SET pia_revision = p.pia_revision + 1
   WHERE p.id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.plan_id END,
                  CASE WHEN TG_OP <> 'DELETE' THEN NEW.plan_id END);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION smam.plan_platform_changed() IS
  'Trigger: a change of a plan''s PIAs is an edit of the plan (voids its approval)';
CREATE TRIGGER plan_platform_changed AFTER INSERT OR UPDATE OR DELETE ON smam.plan_platform
  FOR EACH ROW EXECUTE FUNCTION smam.plan_platform_changed();

-- What a plan still lacks: the names of its missing elements. The unchecked
-- form is smam's own (the approval and life-cycle guards, with the owner's
-- rights, about a plan the acting role was already authorized for); the
-- checked form, for callers, first refuses a plan they cannot see as one
-- that does not exist.
CREATE FUNCTION smam.plan_missing_unchecked(plan bigint) RETURNS text[]
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce(array_agg(e.name ORDER BY e.n), '{}')
      FROM smam.implementation_plan p,
           LATERAL (VALUES (1, 'business drivers and objectives', p.business_drivers),
                           (2, 'human and financial resources', p.resources),
                           (3, 'responsibilities and roles', p.responsibilities),
                           (4, 'privacy impact assessment',
                               CASE WHEN EXISTS (SELECT 1 FROM smam.plan_platform pp WHERE pp.plan_id = p.id)
                                    THEN 'yes' END),
                           (5, 'risk management plan', p.risk_management),
                           (6, 'management protocols', p.management_protocols),
                           (7, 'performance measurement strategy', p.performance_measurement),
                           (8, 'communications plan', p.communications_plan)) AS e(n, name, value)
     WHERE p.id = plan AND coalesce(btrim(e.value), '') = ''
  $$;
COMMENT ON FUNCTION smam.plan_missing_unchecked(bigint) IS
  'Internal (smam''s guards, with the owner''s rights): the elements of the appendix a plan lacks; empty also for a plan that does not exist';

CREATE FUNCTION smam.plan_missing(plan bigint) RETURNS text[]
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  dept bigint;
BEGIN
  SELECT p.department_id INTO dept FROM smam.implementation_plan p WHERE p.id = plan;
  PERFORM smam.require_visible('implementation plan', plan, dept);
  RETURN smam.plan_missing_unchecked(plan);
END
$$;
COMMENT ON FUNCTION smam.plan_missing(bigint) IS
  'The elements of the appendix an implementation plan still lacks (empty when complete); 42704 for a plan that does not exist or that the caller cannot see';

-- The strategy a new plan (or program strategy) rests on when its author
-- names none: the department's departmental strategy in force today if
-- there is exactly one, else its only departmental strategy not retired,
-- else none (NULL: the approval asks for one).
CREATE FUNCTION smam.default_strategy(department bigint) RETURNS bigint
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN count(*) FILTER (WHERE x.in_force) = 1 THEN max(x.id) FILTER (WHERE x.in_force)
                WHEN count(*) = 1 THEN max(x.id) END
      FROM (SELECT s.id, s.status = 'approved' AND s.in_force_from <= smam.today()
                         AND (s.in_force_until IS NULL OR s.in_force_until > smam.today()) AS in_force
              FROM smam.strategy s
             WHERE s.department_id = department AND s.program IS NULL AND s.status <> 'retired') x
  $$;
COMMENT ON FUNCTION smam.default_strategy(bigint) IS
  'Internal: the departmental strategy a new plan or program strategy rests on when none is named (the one in force, else the only one not retired, else NULL)';

-- ---- who may write ----
CREATE FUNCTION smam.require_department_writer(department bigint, requirement text, act text)
  RETURNS void LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
BEGIN
  IF NOT (smam.holds_office(who, 'head_of_communications', department)
          OR smam.holds_office(who, 'department_staff', department)) THEN
    PERFORM smam.refuse('42501', requirement, format('role "%s" may not %s', who, act),
      format('%s requires the office head_of_communications, designate or department_staff for department %s, held now.',
             pg_catalog.upper(pg_catalog.left(act, 1)) || pg_catalog.substr(act, 2), department),
      'Ask the department''s staff or head of communications, or an administrator to appoint you.');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.require_department_writer(bigint, text, text) IS
  'Refuse (42501) unless the acting role is staff, head of communications or designate of the department now';

-- ---- the API ----
-- A strategy named as the basis of another object (a program strategy's
-- rolls_into, a plan's strategy_id): refused as one that does not exist
-- when the caller cannot see it. Whether it may be named (its department,
-- departmental or not, retired) is the approval trigger's question
-- (src/approvals.c), which guards every write.
CREATE FUNCTION smam.require_visible_strategy(strategy bigint) RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF strategy IS NOT NULL THEN
    PERFORM smam.require_visible('strategy', strategy,
                                 (SELECT s.department_id FROM smam.strategy s WHERE s.id = strategy));
  END IF;
END
$$;
COMMENT ON FUNCTION smam.require_visible_strategy(bigint) IS
  'Internal: refuse (42704) a strategy named as a basis that does not exist or that the acting role cannot see';

CREATE FUNCTION smam.draft_strategy(department bigint, title text,
                                    mandate text DEFAULT NULL, business_value text DEFAULT NULL,
                                    alignment text DEFAULT NULL, governance text DEFAULT NULL,
                                    performance_evaluation text DEFAULT NULL,
                                    lessons_learned text DEFAULT NULL, program text DEFAULT NULL,
                                    in_force_from date DEFAULT NULL, rolls_into bigint DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
  is_program boolean := coalesce(btrim(program), '') <> '';
BEGIN
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  PERFORM smam.require_department_writer(department, '6.1.1', 'draft a social media strategy');
  PERFORM smam.require_visible_strategy(rolls_into);
  IF coalesce(btrim(title), '') = '' THEN
    PERFORM smam.refuse('22023', '6.1.1', 'a strategy needs a title', NULL, 'Give the strategy a title.');
  END IF;
  IF rolls_into IS NOT NULL AND NOT is_program THEN
    PERFORM smam.refuse('22023', '6.1.1', 'a departmental strategy rolls into no other strategy',
      'The departmental strategy is the overarching one; program strategies roll into it.',
      'Name the program to draft a program strategy, or leave rolls_into empty.');
  END IF;
  INSERT INTO smam.strategy (department_id, program, rolls_into, title, mandate, business_value, alignment,
                             governance, performance_evaluation, lessons_learned, in_force_from)
  VALUES (department, nullif(btrim(program), ''),
          CASE WHEN is_program THEN coalesce(rolls_into, smam.default_strategy(department)) END,
          btrim(title), mandate, business_value, alignment,
          governance, performance_evaluation, lessons_learned, coalesce(in_force_from, smam.today()))
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.draft_strategy(bigint, text, text, text, text, text, text, text, text, date, bigint) IS
  'Draft a departmental strategy (program NULL) or a program strategy rolling into a departmental one (rolls_into, by default the department''s in force) (6.1.1); department staff, head of communications or designate';

-- Change one element of a strategy or plan; an approved one goes back to draft.
CREATE FUNCTION smam.revise(subject text, id bigint, element text, value text)
  RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  dept bigint;
  new_version integer;
  elements text[];
  noun text := CASE subject WHEN 'implementation_plan' THEN 'implementation plan' ELSE subject END;
  basis boolean := element IN ('rolls_into', 'strategy_id');
BEGIN
  IF subject = 'strategy' THEN
    elements := ARRAY['title', 'program', 'rolls_into', 'mandate', 'business_value', 'alignment', 'governance',
                      'performance_evaluation', 'lessons_learned', 'in_force_from', 'in_force_until'];
    SELECT s.department_id INTO dept FROM smam.strategy s WHERE s.id = revise.id;
  ELSIF subject = 'implementation_plan' THEN
    elements := ARRAY['title', 'strategy_id', 'business_drivers', 'resources', 'responsibilities', 'risk_management',
                      'management_protocols', 'performance_measurement', 'communications_plan'];
    SELECT p.department_id INTO dept FROM smam.implementation_plan p WHERE p.id = revise.id;
  ELSE
    PERFORM smam.refuse('22023', NULL, format('"%s" is not revised this way', subject), NULL,
      'Revise a strategy or an implementation_plan.');
  END IF;
  PERFORM smam.require_visible(noun, id, dept);
  IF NOT element = ANY (elements) THEN
    PERFORM smam.refuse('22023', NULL, format('"%s" is not an element of %s %s', element, noun, id),
      format('The elements are: %s.', array_to_string(elements, ', ')), 'Name one of them.');
  END IF;
  PERFORM smam.require_department_writer(dept,
    CASE subject WHEN 'strategy' THEN '6.1.1' ELSE '6.1.2' END,
    format('revise %s %s', noun, id));
  IF basis AND value IS NOT NULL THEN
    IF value !~ '^[[:space:]]*[0-9]{1,18}[[:space:]]*$' THEN
      PERFORM smam.refuse('22P02', '6.1.1', format('"%s" is not the number of a strategy', value),
        format('Element %s names a strategy by its number.', element),
        format('Give the number of a strategy of department %s (smam.strategy_hub lists them).', dept));
    END IF;
    PERFORM smam.require_visible_strategy(value::bigint);
  END IF;
  EXECUTE format('UPDATE smam.%I SET %I = $1::%s WHERE id = $2 RETURNING version', subject, element,
                 CASE WHEN element LIKE 'in_force%' THEN 'date' WHEN basis THEN 'bigint' ELSE 'text' END)
     INTO new_version USING value, id;
  IF new_version IS NULL THEN
    PERFORM smam.refuse('42704', NULL, format('%s %s does not exist', noun, id), NULL,
      format('List them in smam.%s.', subject));
  END IF;
  RETURN new_version;
END
$$;
COMMENT ON FUNCTION smam.revise(text, bigint, text, text) IS
  'Change one element of a strategy or implementation plan (its basis too: rolls_into, strategy_id); returns the new version (an approval is voided and recorded)';

-- Approve, or retire, a strategy or plan. The trigger applies the rules.
CREATE FUNCTION smam.decide(subject text, id bigint, status smam.approval_status, note text DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  n bigint;
  dept bigint;
  orphans text;
BEGIN
  IF subject NOT IN ('strategy', 'implementation_plan') THEN
    PERFORM smam.refuse('22023', NULL, format('"%s" is not approved this way', subject), NULL,
      'Approve a strategy or an implementation_plan; review a submission with smam.review_submission().');
  END IF;
  EXECUTE format('SELECT department_id FROM smam.%I WHERE id = $1', subject) INTO dept USING id;
  PERFORM smam.require_visible(replace(subject, '_', ' '), id, dept);
  EXECUTE format('UPDATE smam.%I SET status = $1, decision_note = $2 WHERE id = $3', subject)
    USING status, note, id;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN
    PERFORM smam.refuse('42704', NULL, format('%s %s does not exist', replace(subject, '_', ' '), id), NULL,
      format('List them in smam.%s.', subject));
  END IF;
  -- Hub and spoke: what the retirement leaves without a strategy in force
  -- is said now, and stays a 6.1.1 finding until each is based anew.
  IF subject = 'strategy' AND status = 'retired' THEN
    SELECT string_agg(x.what, '; ' ORDER BY x.k) INTO orphans
      FROM (SELECT 1 AS k, CASE WHEN count(*) = 1 THEN 'implementation plan ' ELSE 'implementation plans ' END
                           || string_agg(p.id::text, ', ' ORDER BY p.id) AS what
              FROM smam.implementation_plan p
             WHERE p.status = 'approved'
               AND (p.strategy_id = decide.id
                    OR p.strategy_id IN (SELECT g.id FROM smam.strategy g
                                          WHERE g.rolls_into = decide.id AND g.status = 'approved'))
            HAVING count(*) > 0
            UNION ALL
            SELECT 2, CASE WHEN count(*) = 1 THEN 'program strategy ' ELSE 'program strategies ' END
                      || string_agg(g.id::text, ', ' ORDER BY g.id)
              FROM smam.strategy g WHERE g.rolls_into = decide.id AND g.status = 'approved'
            HAVING count(*) > 0) x;
    IF orphans IS NOT NULL THEN
      RAISE NOTICE 'strategy % is retired, leaving without a strategy in force: %', id, orphans
        USING DETAIL = 'An implementation plan is based on the departmental social media strategy, and program strategies roll into it (6.1.1); each stays a 6.1.1 finding until it rests on a strategy in force.',
              HINT = 'Name the strategy in force with smam.revise() (strategy_id, rolls_into) and have each approved again; smam.strategy_hub shows the hub.';
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION smam.decide(text, bigint, smam.approval_status, text) IS
  'Approve (or retire) a strategy or implementation plan as the acting head of communications or designate; retiring a strategy notices the plans and program strategies it leaves without one';

CREATE FUNCTION smam.approve_strategy(strategy bigint, note text DEFAULT NULL) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT smam.decide('strategy', strategy, 'approved', note) $$;
COMMENT ON FUNCTION smam.approve_strategy(bigint, text) IS
  'Approve a strategy (6.1.1): head of communications or designate of its department, not one of its authors';

CREATE FUNCTION smam.draft_plan(department bigint, title text,
                                business_drivers text DEFAULT NULL, resources text DEFAULT NULL,
                                responsibilities text DEFAULT NULL, risk_management text DEFAULT NULL,
                                management_protocols text DEFAULT NULL,
                                performance_measurement text DEFAULT NULL,
                                communications_plan text DEFAULT NULL, strategy bigint DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  PERFORM smam.require_department_writer(department, '6.1.2', 'draft an implementation plan');
  PERFORM smam.require_visible_strategy(strategy);
  IF coalesce(btrim(title), '') = '' THEN
    PERFORM smam.refuse('22023', '6.1.2', 'an implementation plan needs a title', NULL, 'Give the plan a title.');
  END IF;
  INSERT INTO smam.implementation_plan (department_id, strategy_id, title, business_drivers, resources,
    responsibilities, risk_management, management_protocols, performance_measurement, communications_plan)
  VALUES (department, coalesce(strategy, smam.default_strategy(department)), btrim(title), business_drivers,
          resources, responsibilities, risk_management, management_protocols, performance_measurement,
          communications_plan)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.draft_plan(bigint, text, text, text, text, text, text, text, text, bigint) IS
  'Draft an implementation plan (6.1.2) with the elements of the appendix, based on a strategy of the department (by default its departmental strategy in force); PIAs with smam.plan_pia()';

-- The plan's PIA for a platform: its own completed PIA, or (reference NULL)
-- reliance on the entity's model PIA for that platform.
CREATE FUNCTION smam.plan_pia(plan bigint, platform text, pia_reference text DEFAULT NULL,
                              completed_on date DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  dept bigint;
  code text := smam.platform_of(platform);
BEGIN
  SELECT p.department_id INTO dept FROM smam.implementation_plan p WHERE p.id = plan;
  PERFORM smam.require_visible('implementation plan', plan, dept);
  PERFORM smam.require_department_writer(dept, '6.1.2', 'record a privacy impact assessment');
  IF code IS NULL THEN
    PERFORM smam.refuse('23503', '6.2.3', format('"%s" is not a known platform', platform), NULL,
      'List platforms in smam.platform.');
  END IF;
  IF pia_reference IS NOT NULL AND (btrim(pia_reference) = '' OR completed_on IS NULL) THEN
    PERFORM smam.refuse('22023', '6.1.2', 'a completed privacy impact assessment needs its reference and date',
      'The appendix asks for a completed Privacy Impact Assessment for the planned usage on each platform.',
      'Give the PIA''s reference and completion date, or no reference to rely on the entity''s model PIA.');
  END IF;
  INSERT INTO smam.plan_platform (plan_id, platform, uses_model_pia, pia_reference, pia_completed_on)
  VALUES (plan, code, pia_reference IS NULL, nullif(btrim(pia_reference), ''),
          CASE WHEN pia_reference IS NOT NULL THEN completed_on END)
  ON CONFLICT ON CONSTRAINT plan_platform_pkey DO UPDATE
     SET uses_model_pia = EXCLUDED.uses_model_pia, pia_reference = EXCLUDED.pia_reference,
         pia_completed_on = EXCLUDED.pia_completed_on;
END
$$;
COMMENT ON FUNCTION smam.plan_pia(bigint, text, text, date) IS
  'Record the plan''s completed PIA for a platform, or (no reference) its reliance on the entity''s model PIA';

CREATE FUNCTION smam.approve_plan(plan bigint, note text DEFAULT NULL) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT smam.decide('implementation_plan', plan, 'approved', note) $$;
COMMENT ON FUNCTION smam.approve_plan(bigint, text) IS
  'Approve a complete implementation plan (6.1.2): head of communications or designate, not one of its authors';

-- Hub and spoke: each department's approved strategy in force today and the
-- approved program strategies that roll into it.
CREATE VIEW smam.strategy_in_force WITH (security_invoker = true) AS
  SELECT s.department_id, d.name_en AS department_en, s.id AS strategy_id, s.title, s.version,
         s.in_force_from, s.in_force_until, s.decided_by AS approved_by, s.decided_at AS approved_at,
         coalesce((SELECT array_agg(p.id ORDER BY p.id) FROM smam.strategy p
                    WHERE p.rolls_into OPERATOR(pg_catalog.=) s.id AND p.program IS NOT NULL
                      AND p.status OPERATOR(pg_catalog.=) 'approved'::smam.approval_status), '{}') AS program_strategies
    FROM smam.strategy s
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) s.department_id
   WHERE s.program IS NULL AND s.status OPERATOR(pg_catalog.=) 'approved'::smam.approval_status
     AND s.in_force_from OPERATOR(pg_catalog.<=) smam.today()
     AND (s.in_force_until IS NULL OR s.in_force_until OPERATOR(pg_catalog.>) smam.today());
COMMENT ON VIEW smam.strategy_in_force IS
  'Each department''s approved departmental strategy in force today (6.1.1) and the approved program strategies that roll into it';

-- Hub and spoke, whole: every strategy of the departments the caller sees,
-- the departmental strategy it belongs to (itself, or the one a program
-- strategy rolls into), whether it stands (approved and in force, and for a
-- program strategy its departmental strategy too), and the plans resting on
-- it. Read with the caller's rights (row-level security).
CREATE VIEW smam.strategy_hub WITH (security_invoker = true) AS
  WITH st AS (
    SELECT s.*, (s.status OPERATOR(pg_catalog.=) 'approved'::smam.approval_status
                 AND s.in_force_from OPERATOR(pg_catalog.<=) smam.today()
                 AND (s.in_force_until IS NULL OR s.in_force_until OPERATOR(pg_catalog.>) smam.today())) AS in_force
      FROM smam.strategy s)
  SELECT s.department_id, d.name_en AS department_en,
         CASE WHEN s.program IS NULL THEN s.id ELSE s.rolls_into END AS departmental_strategy_id,
         s.id AS strategy_id, s.program, s.title, s.status, s.version, s.in_force_from, s.in_force_until,
         s.in_force,
         s.in_force AND (s.program IS NULL OR coalesce(h.in_force, false)) AS stands,
         coalesce((SELECT pg_catalog.array_agg(p.id ORDER BY p.id) FROM smam.implementation_plan p
                    WHERE p.strategy_id OPERATOR(pg_catalog.=) s.id
                      AND p.status OPERATOR(pg_catalog.<>) 'retired'::smam.approval_status), '{}') AS plans,
         coalesce((SELECT pg_catalog.array_agg(p.id ORDER BY p.id) FROM smam.implementation_plan p
                    WHERE p.strategy_id OPERATOR(pg_catalog.=) s.id
                      AND p.status OPERATOR(pg_catalog.=) 'approved'::smam.approval_status), '{}') AS approved_plans,
         CASE WHEN s.in_force AND (s.program IS NULL OR coalesce(h.in_force, false)) THEN '{}'::bigint[]
              ELSE coalesce((SELECT pg_catalog.array_agg(p.id ORDER BY p.id) FROM smam.implementation_plan p
                              WHERE p.strategy_id OPERATOR(pg_catalog.=) s.id
                                AND p.status OPERATOR(pg_catalog.=) 'approved'::smam.approval_status), '{}') END
           AS plans_without_basis,
         s.program IS NOT NULL AND s.in_force AND NOT coalesce(h.in_force, false) AS without_basis
    FROM st s
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) s.department_id
    LEFT JOIN st h ON h.id OPERATOR(pg_catalog.=) s.rolls_into;
COMMENT ON VIEW smam.strategy_hub IS
  'Hub and spoke (6.1.1, appendix): each strategy with the departmental strategy it belongs to, whether it stands, and the plans resting on it; departments see their own. Order by department_id, departmental_strategy_id, program NULLS FIRST';
COMMENT ON COLUMN smam.strategy_hub.department_id IS 'The department of the strategy';
COMMENT ON COLUMN smam.strategy_hub.department_en IS 'The department''s English name';
COMMENT ON COLUMN smam.strategy_hub.departmental_strategy_id IS
  'The hub: the strategy itself when it is departmental, the departmental strategy a program strategy rolls into (NULL: it names none)';
COMMENT ON COLUMN smam.strategy_hub.strategy_id IS 'The strategy (smam.strategy.id)';
COMMENT ON COLUMN smam.strategy_hub.program IS 'NULL for the departmental strategy; the program of a program strategy';
COMMENT ON COLUMN smam.strategy_hub.title IS 'The strategy''s title';
COMMENT ON COLUMN smam.strategy_hub.status IS 'draft, approved or retired';
COMMENT ON COLUMN smam.strategy_hub.version IS 'The version of its content';
COMMENT ON COLUMN smam.strategy_hub.in_force_from IS 'First day in force';
COMMENT ON COLUMN smam.strategy_hub.in_force_until IS 'First day no longer in force (NULL: open-ended)';
COMMENT ON COLUMN smam.strategy_hub.in_force IS 'Approved and in force today (smam.time_zone)';
COMMENT ON COLUMN smam.strategy_hub.stands IS
  'A basis for plans today: in force, and for a program strategy its departmental strategy in force too';
COMMENT ON COLUMN smam.strategy_hub.plans IS 'The implementation plans based on it, retired ones aside';
COMMENT ON COLUMN smam.strategy_hub.approved_plans IS 'Of them, the approved ones';
COMMENT ON COLUMN smam.strategy_hub.plans_without_basis IS
  'Approved plans based on it while it does not stand: each a 6.1.1 finding';
COMMENT ON COLUMN smam.strategy_hub.without_basis IS
  'A program strategy in force whose departmental strategy is not (retired, voided, over, or none named): a 6.1.1 finding';

-- ---- row-level security and grants ----
ALTER TABLE smam.decision ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.strategy ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.implementation_plan ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.plan_platform ENABLE ROW LEVEL SECURITY;
CREATE POLICY decision_read ON smam.decision FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY strategy_read ON smam.strategy FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY strategy_update ON smam.strategy FOR UPDATE TO smam_department
  USING (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]))
  WITH CHECK (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY implementation_plan_read ON smam.implementation_plan FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY implementation_plan_update ON smam.implementation_plan FOR UPDATE TO smam_department
  USING (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]))
  WITH CHECK (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY plan_platform_read ON smam.plan_platform FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR EXISTS (
    SELECT 1 FROM smam.implementation_plan p WHERE p.id OPERATOR(pg_catalog.=) plan_id));
GRANT SELECT ON smam.decision, smam.strategy, smam.implementation_plan, smam.plan_platform,
  smam.strategy_in_force, smam.strategy_hub TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT UPDATE (title, program, rolls_into, mandate, business_value, alignment, governance, performance_evaluation,
              lessons_learned, in_force_from, in_force_until, status, decision_note)
  ON smam.strategy TO smam_department;
GRANT UPDATE (title, strategy_id, business_drivers, resources, responsibilities, risk_management, management_protocols,
              performance_measurement, communications_plan, status, decision_note)
  ON smam.implementation_plan TO smam_department;
GRANT EXECUTE ON FUNCTION smam.draft_strategy(bigint, text, text, text, text, text, text, text, text, date, bigint),
  smam.revise(text, bigint, text, text), smam.decide(text, bigint, smam.approval_status, text),
  smam.approve_strategy(bigint, text), smam.draft_plan(bigint, text, text, text, text, text, text, text, text, bigint),
  smam.plan_pia(bigint, text, text, date), smam.approve_plan(bigint, text)
  TO smam_department;
GRANT EXECUTE ON FUNCTION smam.require_department_writer(bigint, text, text)
  TO smam_admin, smam_entity, smam_department, smam_tbs;

SELECT pg_catalog.pg_extension_config_dump('smam.decision', '');
SELECT pg_catalog.pg_extension_config_dump('smam.decision_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.strategy', '');
SELECT pg_catalog.pg_extension_config_dump('smam.strategy_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.implementation_plan', '');
SELECT pg_catalog.pg_extension_config_dump('smam.implementation_plan_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.plan_platform', '');

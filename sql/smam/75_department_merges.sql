-- Merging departments (6.2.4): one organization that smam knew as two (the
-- index listed it under two names or two gc_orgIDs, a department candidate
-- confirmed too quickly) or two that became one (a machinery-of-government
-- change). A decision of the entity, never of an import.
--
-- smam.merge_departments(from, into, reason) makes everything live of the
-- first department the second's: its accounts (with their plans), strategies,
-- implementation plans and submissions, the offices held in it (ended in the
-- first, begun in the second at the moment of the merge), its principals'
-- home, content library, publishing policy, open corrective actions, open
-- report requests, open disposition reviews, its names (aliases of the
-- second now) and gc_orgID. Findings follow the records: from the merge on,
-- the first department has none. What was recorded stays as it was recorded
-- (stage history, decisions, evaluations, archives, frozen reports, imports,
-- moves, published and settled posts): under the first department, which
-- remains, marked merged. Where both departments hold something only one
-- may, a person decides first: smam.merge_problems() says what.

CREATE FUNCTION smam.rehome_decided_rows(from_department bigint, into_department bigint) RETURNS bigint
  LANGUAGE c STRICT VOLATILE
  AS 'MODULE_PATHNAME', 'smam_rehome_decided_rows';
COMMENT ON FUNCTION smam.rehome_decided_rows(bigint, bigint) IS
  'Internal: the strategies, plans and submissions of a merged department become the other''s, unchanged (smam.merge_departments); checks the acting role; granted to no one';

CREATE SEQUENCE smam.department_merge_id_seq;
CREATE TABLE smam.department_merge (
  id                bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.department_merge_id_seq'),
  from_department   bigint NOT NULL REFERENCES smam.department (id),
  into_department   bigint NOT NULL REFERENCES smam.department (id),
  reason            text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(reason)) OPERATOR(pg_catalog.>) 0),
  moved             jsonb NOT NULL DEFAULT '{}',
  merged_by         name NOT NULL DEFAULT smam.acting_role(),
  merged_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK (from_department OPERATOR(pg_catalog.<>) into_department)
);
ALTER SEQUENCE smam.department_merge_id_seq OWNED BY smam.department_merge.id;
CREATE UNIQUE INDEX department_merge_from_key ON smam.department_merge (from_department);
CREATE INDEX department_merge_into_idx ON smam.department_merge (into_department);
COMMENT ON TABLE smam.department_merge IS
  'Departments merged into another (6.2.4): which, into which, why, who, when, and how many of each kind of record moved';
COMMENT ON COLUMN smam.department_merge.from_department IS 'The department merged (it remains, with its history, marked merged_into)';
COMMENT ON COLUMN smam.department_merge.into_department IS 'The department it became part of';
COMMENT ON COLUMN smam.department_merge.reason IS 'Why: the entity''s decision, for the record';
COMMENT ON COLUMN smam.department_merge.moved IS
  'How many records moved, by kind: accounts, decided_rows (strategies, plans, submissions), appointments, principals, content_items, aliases, ...';
COMMENT ON COLUMN smam.department_merge.merged_by IS 'The role that decided the merge';
COMMENT ON COLUMN smam.department_merge.merged_at IS 'When: the merged department''s offices end and the other''s begin at this moment';

-- What stands in the way of merging one department into another, each with
-- the requirement, what it is and what to do; no rows: the merge can be made.
CREATE FUNCTION smam.merge_problems(from_department bigint, into_department bigint)
  RETURNS TABLE (requirement text, problem text, what_to_do text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  f smam.department;
  t smam.department;
  ids text;
  a text;
  b text;
BEGIN
  PERFORM smam.require_importer('merge departments');
  SELECT * INTO f FROM smam.department d WHERE d.id = from_department;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', '6.2.4', format('department %s does not exist', from_department), NULL,
      'Find the department with smam.find_department().');
  END IF;
  SELECT * INTO t FROM smam.department d WHERE d.id = into_department;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', '6.2.4', format('department %s does not exist', into_department), NULL,
      'Find the department with smam.find_department().');
  END IF;
  IF f.id = t.id THEN
    PERFORM smam.refuse('22023', '6.2.4', format('department %s cannot be merged into itself', f.id), NULL,
      'Give the department it is to become part of.');
  END IF;

  IF f.shipped THEN
    requirement := '2.2';
    problem := format('department %s (%s) ships with smam', f.id, f.name_en);
    what_to_do := 'Shipped departments (the agents of Parliament) are not merged; merge the other department into it, if they are one.';
    RETURN NEXT;
  END IF;
  IF f.merged_into IS NOT NULL THEN
    requirement := '6.2.4';
    problem := format('department %s was already merged into department %s', f.id, f.merged_into);
    what_to_do := 'Nothing to do: its records are already that department''s.';
    RETURN NEXT;
  END IF;
  IF t.merged_into IS NOT NULL THEN
    requirement := '6.2.4';
    problem := format('department %s was merged into department %s', t.id, t.merged_into);
    what_to_do := format('Merge into department %s.', t.merged_into);
    RETURN NEXT;
  END IF;
  IF f.application <> t.application OR f.agent_of_parliament <> t.agent_of_parliament THEN
    requirement := CASE WHEN f.agent_of_parliament <> t.agent_of_parliament THEN '2.2' ELSE '2.1' END;
    problem := format('department %s is %s and department %s is %s', f.id,
      CASE WHEN f.agent_of_parliament THEN 'an agent of Parliament' WHEN f.application = 'subject' THEN 'subject to the Standard'
           ELSE 'a voluntary adopter' END, t.id,
      CASE WHEN t.agent_of_parliament THEN 'an agent of Parliament' WHEN t.application = 'subject' THEN 'subject to the Standard'
           ELSE 'a voluntary adopter' END);
    what_to_do := 'One organization has one application: an administrator corrects the wrong one (smam.department.application) before the merge.';
    RETURN NEXT;
  END IF;

  -- Only one departmental strategy is in force in a department (6.1.1).
  SELECT string_agg(s.id::text, ', ' ORDER BY s.id) FILTER (WHERE s.department_id = f.id),
         string_agg(s.id::text, ', ' ORDER BY s.id) FILTER (WHERE s.department_id = t.id)
    INTO a, b
    FROM smam.strategy s
   WHERE s.department_id IN (f.id, t.id) AND s.program IS NULL AND s.status = 'approved'
     AND s.in_force_from <= smam.today() AND (s.in_force_until IS NULL OR s.in_force_until > smam.today());
  IF a IS NOT NULL AND b IS NOT NULL THEN
    requirement := '6.1.1';
    problem := format('both departments have a departmental strategy in force: %s of department %s, %s of department %s',
                      a, f.id, b, t.id);
    what_to_do := 'The merged department has one overarching strategy: retire the one that does not continue (smam.decide(''strategy'', id, ''retired'')) first; the program strategies and plans based on it are then findings until based anew.';
    RETURN NEXT;
  END IF;

  -- One head of communications per department (6.1).
  SELECT string_agg(format('"%s"', x.principal), ', ' ORDER BY x.principal) FILTER (WHERE x.department_id = f.id),
         string_agg(format('"%s"', x.principal), ', ' ORDER BY x.principal) FILTER (WHERE x.department_id = t.id)
    INTO a, b
    FROM smam.appointment x
   WHERE x.department_id IN (f.id, t.id) AND x.office = 'head_of_communications'
     AND x.valid_from <= now() AND (x.valid_until IS NULL OR x.valid_until > now());
  IF a IS NOT NULL AND b IS NOT NULL THEN
    requirement := '6.1';
    problem := format('both departments have a head of communications: %s of department %s, %s of department %s',
                      a, f.id, b, t.id);
    what_to_do := 'End the appointment of the one who does not continue (smam.end_appointment); a designation they made ends with it.';
    RETURN NEXT;
  END IF;
  SELECT string_agg(x.id::text, ', ' ORDER BY x.id) INTO ids
    FROM smam.appointment x WHERE x.department_id = f.id AND x.valid_from >= now();
  IF ids IS NOT NULL THEN
    requirement := '6.1';
    problem := format('appointments %s in department %s begin no earlier than the merge would end them', ids, f.id);
    what_to_do := 'End them (smam.end_appointment) and appoint again in the other department after the merge.';
    RETURN NEXT;
  END IF;

  -- An office the merge would begin in the other department that the same
  -- person is appointed to there later (the terms would overlap).
  SELECT string_agg(DISTINCT y.id::text, ', ') INTO ids
    FROM smam.appointment x
    JOIN smam.appointment y ON y.principal = x.principal AND y.office = x.office AND y.department_id = t.id
   WHERE x.department_id = f.id AND x.office <> 'designate'
     AND x.valid_from < now() AND (x.valid_until IS NULL OR x.valid_until > now())
     AND y.valid_from > now() AND (x.valid_until IS NULL OR y.valid_from < x.valid_until);
  IF ids IS NOT NULL THEN
    requirement := '6.1';
    problem := format('appointments %s in department %s begin later, within the terms the merge would continue there', ids, t.id);
    what_to_do := 'End the later appointments (smam.end_appointment), or end the terms in the merged department first.';
    RETURN NEXT;
  END IF;

  -- Work a person of the department is doing, for that department.
  SELECT string_agg(s.id::text, ', ' ORDER BY s.id) INTO ids
    FROM smam.submission s WHERE s.department_id = f.id AND s.status = 'pending';
  IF ids IS NOT NULL THEN
    requirement := '6.2.1';
    problem := format('submissions %s of department %s wait for the entity''s review', ids, f.id);
    what_to_do := 'Review them first (smam.review_submission).';
    RETURN NEXT;
  END IF;
  SELECT string_agg(e.id::text, ', ' ORDER BY e.id) INTO ids
    FROM smam.evaluation e WHERE e.department_id = f.id AND e.completed_at IS NULL;
  IF ids IS NOT NULL THEN
    requirement := '6.1.2';
    problem := format('evaluations %s of department %s are under way', ids, f.id);
    what_to_do := 'Complete them first (smam.complete_evaluation).';
    RETURN NEXT;
  END IF;
  SELECT string_agg(p.id::text, ', ' ORDER BY p.id) INTO ids
    FROM smam.post p WHERE p.department_id = f.id AND p.status IN ('draft', 'submitted', 'approved', 'scheduled');
  IF ids IS NOT NULL THEN
    requirement := '6.1.2';
    problem := format('posts %s of department %s are in its approval and publishing workflow', ids, f.id);
    what_to_do := 'Publish or cancel them first (smam.cancel_post); their content items move with the merge.';
    RETURN NEXT;
  END IF;
  SELECT string_agg(x.id::text, ', ' ORDER BY x.id) INTO ids
    FROM smam.delivery x WHERE x.department_id = f.id AND x.status IN ('pending', 'sending');
  IF ids IS NOT NULL THEN
    requirement := '6.1.2';
    problem := format('deliveries %s of department %s are not settled', ids, f.id);
    what_to_do := 'Let the publishing worker settle them, or cancel their posts.';
    RETURN NEXT;
  END IF;

  -- A department's publishing policy and approval tiers (who approves posts).
  IF (EXISTS (SELECT 1 FROM smam.publishing_policy p WHERE p.department_id = f.id)
      OR EXISTS (SELECT 1 FROM smam.approval_tier x WHERE x.department_id = f.id))
     AND (EXISTS (SELECT 1 FROM smam.publishing_policy p WHERE p.department_id = t.id)
          OR EXISTS (SELECT 1 FROM smam.approval_tier x WHERE x.department_id = t.id))
     AND ((SELECT p.approval_tiers FROM smam.publishing_policy p WHERE p.department_id = f.id)
            IS DISTINCT FROM (SELECT p.approval_tiers FROM smam.publishing_policy p WHERE p.department_id = t.id)
          OR EXISTS ((SELECT x.tier, x.office, x.principal FROM smam.approval_tier x WHERE x.department_id = f.id)
                     EXCEPT (SELECT x.tier, x.office, x.principal FROM smam.approval_tier x WHERE x.department_id = t.id))
          OR EXISTS ((SELECT x.tier, x.office, x.principal FROM smam.approval_tier x WHERE x.department_id = t.id)
                     EXCEPT (SELECT x.tier, x.office, x.principal FROM smam.approval_tier x WHERE x.department_id = f.id))) THEN
    requirement := '6.1.2';
    problem := format('departments %s and %s have different publishing policies (approval tiers)', f.id, t.id);
    what_to_do := format('Give department %s the policy of department %s (smam.set_publishing_policy), or clear it, first.', f.id, t.id);
    RETURN NEXT;
  END IF;
END
$$;
COMMENT ON FUNCTION smam.merge_problems(bigint, bigint) IS
  'What stands in the way of merging the first department into the second: requirement, problem, what to do (entity official or administrator); no rows: it can be merged';

-- Merge one department into another; returns the merge's id.
CREATE FUNCTION smam.merge_departments(from_department bigint, into_department bigint, reason text)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  f smam.department;
  t smam.department;
  problems text;
  hints text;
  n integer;
  moved jsonb := '{}';
  acc record;
  ap record;
  new_app bigint;
  heads jsonb := '{}';
  merge_id bigint;
  why text;
  k bigint;
BEGIN
  PERFORM smam.require_importer('merge departments');
  -- Both rows locked: two merges of one department, or a merge and an
  -- import, wait for each other.
  PERFORM 1 FROM smam.department d WHERE d.id IN (from_department, into_department) ORDER BY d.id FOR UPDATE;
  IF coalesce(btrim(reason), '') = '' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'merging departments needs a reason',
      'The merge is a decision of the entity, kept with both departments'' history.',
      'Say why, such as "Affaires mondiales Canada is the French name of Global Affairs Canada".');
  END IF;
  SELECT string_agg(format('%s (%s)', p.problem, p.requirement), '; '), string_agg(p.what_to_do, ' ')
    INTO problems, hints
    FROM smam.merge_problems(from_department, into_department) p;
  IF problems IS NOT NULL THEN
    PERFORM smam.refuse('55000', '6.2.4',
      format('department %s cannot be merged into department %s yet', from_department, into_department),
      problems || '.', hints);
  END IF;
  SELECT * INTO f FROM smam.department d WHERE d.id = from_department;
  SELECT * INTO t FROM smam.department d WHERE d.id = into_department;
  why := format('department %s merged into department %s: %s', f.id, t.id, btrim(reason));

  -- Offices: ended in the department merged, begun in the other at the same
  -- moment, designations last (delegated by the head's new appointment).
  -- One who already holds the office in the other department keeps that.
  FOR ap IN
    SELECT x.* FROM smam.appointment x
     WHERE x.department_id = f.id AND x.valid_from < now() AND (x.valid_until IS NULL OR x.valid_until > now())
     ORDER BY (x.office = 'designate'), x.id
  LOOP
    new_app := NULL;
    IF ap.office = 'designate' THEN
      IF heads ? ap.delegated_by::text THEN
        INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until, delegated_by, note)
        VALUES (ap.principal, ap.office, t.id, now(), ap.valid_until, (heads ->> ap.delegated_by::text)::bigint,
                format('continues appointment %s (%s)', ap.id, why))
        RETURNING id INTO new_app;
      END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM smam.appointment y
                       WHERE y.principal = ap.principal AND y.office = ap.office AND y.department_id = t.id
                         AND y.valid_from <= now() AND (y.valid_until IS NULL OR y.valid_until > now())) THEN
      INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until, note)
      VALUES (ap.principal, ap.office, t.id, now(), ap.valid_until, format('continues appointment %s (%s)', ap.id, why))
      RETURNING id INTO new_app;
    END IF;
    IF ap.office = 'head_of_communications' AND new_app IS NOT NULL THEN
      heads := heads || jsonb_build_object(ap.id::text, new_app);
    END IF;
  END LOOP;
  -- Ended after the new ones begin, designations before their delegators.
  UPDATE smam.appointment x SET valid_until = now(), ended_by = smam.acting_role(), ended_reason = why
   WHERE x.department_id = f.id AND x.office = 'designate'
     AND x.valid_from < now() AND (x.valid_until IS NULL OR x.valid_until > now());
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE smam.appointment x SET valid_until = now(), ended_by = smam.acting_role(), ended_reason = why
   WHERE x.department_id = f.id AND x.office <> 'designate'
     AND x.valid_from < now() AND (x.valid_until IS NULL OR x.valid_until > now());
  GET DIAGNOSTICS k = ROW_COUNT;
  moved := moved || jsonb_build_object('appointments', n + k);

  UPDATE smam.principal p SET department_id = t.id WHERE p.department_id = f.id;
  GET DIAGNOSTICS k = ROW_COUNT;
  moved := moved || jsonb_build_object('principals', k);

  -- Strategies, plans and submissions, unchanged but for the department
  -- (the decisions about them stay recorded as they were made).
  moved := moved || jsonb_build_object('decided_rows', smam.rehome_decided_rows(f.id, t.id));

  -- Accounts, every stage, with their plans (which moved with them).
  n := 0;
  FOR acc IN SELECT a.id FROM smam.account a WHERE a.department_id = f.id ORDER BY a.id FOR UPDATE LOOP
    PERFORM smam.reassign_account(acc.id, t.id, true);
    n := n + 1;
  END LOOP;
  moved := moved || jsonb_build_object('accounts', n);

  UPDATE smam.content_item c SET department_id = t.id WHERE c.department_id = f.id;
  GET DIAGNOSTICS k = ROW_COUNT;
  moved := moved || jsonb_build_object('content_items', k);
  IF EXISTS (SELECT 1 FROM smam.publishing_policy p WHERE p.department_id = t.id)
     OR EXISTS (SELECT 1 FROM smam.approval_tier x WHERE x.department_id = t.id) THEN
    -- The same policy (merge_problems refuses different ones): the other's stays.
    DELETE FROM smam.approval_tier x WHERE x.department_id = f.id;
    DELETE FROM smam.publishing_policy p WHERE p.department_id = f.id;
  ELSE
    UPDATE smam.publishing_policy p SET department_id = t.id WHERE p.department_id = f.id;
    UPDATE smam.approval_tier x SET department_id = t.id WHERE x.department_id = f.id;
  END IF;

  UPDATE smam.corrective_action c SET department_id = t.id WHERE c.department_id = f.id AND c.completed_at IS NULL;
  GET DIAGNOSTICS k = ROW_COUNT;
  moved := moved || jsonb_build_object('open_corrective_actions', k);
  UPDATE smam.report_request q SET department_id = t.id
   WHERE q.department_id = f.id AND NOT EXISTS (SELECT 1 FROM smam.compliance_report c WHERE c.request_id = q.id);
  GET DIAGNOSTICS k = ROW_COUNT;
  moved := moved || jsonb_build_object('open_report_requests', k);
  UPDATE smam.disposition_review r SET department_id = t.id WHERE r.department_id = f.id AND r.resolved_at IS NULL;
  GET DIAGNOSTICS k = ROW_COUNT;
  moved := moved || jsonb_build_object('open_disposition_reviews', k);
  UPDATE smam.department_candidate c SET department_id = t.id WHERE c.department_id = f.id;

  -- Names and ids: the merged department's become the other's.
  UPDATE smam.department_alias x SET department_id = t.id WHERE x.department_id = f.id;
  GET DIAGNOSTICS n = ROW_COUNT;
  INSERT INTO smam.department_alias AS x (name_key, name, department_id, lang, how)
  SELECT k.name_key, k.name, t.id, k.lang, format('merged (department %s)', f.id)
    FROM (VALUES (f.name_en_key, f.name_en, 'en'), (f.name_fr_key, f.name_fr, 'fr')) k(name_key, name, lang)
   WHERE k.name_key IS NOT NULL AND k.name_key NOT IN (t.name_en_key, coalesce(t.name_fr_key, ''))
  -- (a name another department also goes by stays that department's)
  ON CONFLICT (name_key) DO UPDATE SET department_id = excluded.department_id, how = excluded.how
    WHERE x.department_id = f.id;
  GET DIAGNOSTICS k = ROW_COUNT;
  moved := moved || jsonb_build_object('aliases', n + k);
  UPDATE smam.department_org_alias o SET department_id = t.id WHERE o.department_id = f.id;
  UPDATE smam.department d SET merged_into = t.id WHERE d.merged_into = f.id;
  UPDATE smam.department d SET gc_org_id = NULL, merged_into = t.id, merged_at = now() WHERE d.id = f.id;
  IF f.gc_org_id IS NOT NULL THEN
    IF t.gc_org_id IS NULL THEN
      UPDATE smam.department d SET gc_org_id = f.gc_org_id WHERE d.id = t.id;
    ELSE
      INSERT INTO smam.department_org_alias (gc_org_id, department_id, how)
      VALUES (f.gc_org_id, t.id, format('merged (department %s)', f.id))
      ON CONFLICT (gc_org_id) DO NOTHING;
    END IF;
  END IF;

  INSERT INTO smam.department_merge (from_department, into_department, reason, moved)
  VALUES (f.id, t.id, btrim(reason), moved)
  RETURNING id INTO merge_id;
  RETURN merge_id;
END
$$;
COMMENT ON FUNCTION smam.merge_departments(bigint, bigint, text) IS
  'Merge the first department into the second (entity official or administrator): accounts, strategies, plans, submissions, offices, names and gc_orgID become the second''s; refused while smam.merge_problems() lists anything; returns the merge''s id';

ALTER TABLE smam.department_merge ENABLE ROW LEVEL SECURITY;
CREATE POLICY department_merge_read ON smam.department_merge FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY department_merge_department ON smam.department_merge FOR SELECT TO smam_department
  USING (from_department OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[])
         OR into_department OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.department_merge TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
-- EXECUTE on smam.merge_departments and smam.merge_problems: every working
-- group role (sql/smam/99_privileges.sql); they check the office themselves.

SELECT pg_catalog.pg_extension_config_dump('smam.department_merge', '');
SELECT pg_catalog.pg_extension_config_dump('smam.department_merge_id_seq', '');

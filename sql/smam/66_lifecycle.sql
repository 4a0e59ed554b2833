-- The life cycle of an official account (6.1.2). The C trigger
-- smam.lifecycle_guard (src/lifecycle.c) checks every INSERT, UPDATE and
-- DELETE of smam.account, whoever makes it and however (the functions
-- below, a plain UPDATE, the table owner): only the allowed moves, each with
-- its guards and the office that may make it; each move is recorded in the
-- sealed smam.stage_history. smam.onboard_account is the only way in past
-- planning.

CREATE SEQUENCE smam.stage_history_id_seq;
CREATE TABLE smam.stage_history (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.stage_history_id_seq'),
  account_id     bigint NOT NULL,  -- no foreign key: written before the row exists; accounts are never deleted
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  from_stage     smam.stage,
  to_stage       smam.stage NOT NULL,
  moved_by       name NOT NULL,
  office         smam.office,
  moved_at       timestamptz NOT NULL,
  note           text,
  submission_id  bigint REFERENCES smam.submission (id),
  onboarded      boolean NOT NULL DEFAULT false,
  waived         text
);
ALTER SEQUENCE smam.stage_history_id_seq OWNED BY smam.stage_history.id;
CREATE INDEX stage_history_account_idx ON smam.stage_history (account_id, moved_at);
COMMENT ON TABLE smam.stage_history IS
  'Every move of every account (6.1.2): who, when, the office held, the note; sealed, written only by the lifecycle trigger';
COMMENT ON COLUMN smam.stage_history.from_stage IS 'NULL when the account entered (planned or onboarded)';
COMMENT ON COLUMN smam.stage_history.submission_id IS 'The accepted submission the move used up';
COMMENT ON COLUMN smam.stage_history.waived IS
  'Prerequisites not met but not refused because an administrator had turned enforcement off (smam.enforced())';

CREATE TRIGGER record_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.stage_history
  FOR EACH ROW EXECUTE FUNCTION smam.record_guard('sealed');
CREATE TRIGGER record_guard_truncate BEFORE TRUNCATE ON smam.stage_history
  FOR EACH STATEMENT EXECUTE FUNCTION smam.record_guard('sealed');

-- 6.1.2: "approving official social media accounts based on implementation
-- plans". The head of communications (or a designate) approves an account
-- by the act that makes it official, the move configuration ->
-- implementation; the trigger records the approval here, bound to the plan
-- (and its version) and to the exact configuration approved.
CREATE SEQUENCE smam.account_approval_id_seq;
CREATE TABLE smam.account_approval (
  id                    bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_approval_id_seq'),
  account_id            bigint NOT NULL REFERENCES smam.account (id),
  department_id         bigint NOT NULL REFERENCES smam.department (id),
  plan_id               bigint NOT NULL,
  plan_version          integer NOT NULL,
  configuration         jsonb NOT NULL,
  name_en               text,
  name_fr               text,
  official_language     smam.official_language NOT NULL,
  configuration_sha256  text NOT NULL,
  approved_by           name NOT NULL,
  office                smam.office NOT NULL,
  approved_at           timestamptz NOT NULL,
  note                  text
);
ALTER SEQUENCE smam.account_approval_id_seq OWNED BY smam.account_approval.id;
CREATE INDEX account_approval_account_idx ON smam.account_approval (account_id, approved_at);
COMMENT ON TABLE smam.account_approval IS
  '6.1.2: each approval of an official account by the head of communications or a designate (the move to implementation), bound to the plan and version and the exact configuration approved; sealed, written only by the lifecycle trigger';
COMMENT ON COLUMN smam.account_approval.plan_version IS 'The version of the implementation plan the approval was based on';
COMMENT ON COLUMN smam.account_approval.configuration IS 'The configuration approved, as the account carried it (an accepted submission)';
COMMENT ON COLUMN smam.account_approval.configuration_sha256 IS
  'SHA-256 of the configuration, names and language approved, as smam.account_configuration_sha256() writes it';
CREATE TRIGGER record_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.account_approval
  FOR EACH ROW EXECUTE FUNCTION smam.record_guard('sealed');
CREATE TRIGGER record_guard_truncate BEFORE TRUNCATE ON smam.account_approval
  FOR EACH STATEMENT EXECUTE FUNCTION smam.record_guard('sealed');

-- The digest an approval keeps of what it approved.
CREATE FUNCTION smam.account_configuration_sha256(configuration jsonb, name_en text, name_fr text,
                                                  official_language smam.official_language)
  RETURNS text LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT encode(sha256(convert_to(jsonb_build_object('configuration', configuration, 'name_en', name_en,
                                                       'name_fr', name_fr, 'official_language', official_language)::text,
                                    'UTF8')), 'hex')
  $$;
COMMENT ON FUNCTION smam.account_configuration_sha256(jsonb, text, text, smam.official_language) IS
  'SHA-256 of an account''s configuration, names and official language (the digest of smam.account_approval)';

CREATE FUNCTION smam.lifecycle_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_lifecycle_guard';
COMMENT ON FUNCTION smam.lifecycle_guard() IS
  'Trigger (C): the allowed moves of an account''s life cycle and their guards, for every change by any role';

CREATE TRIGGER lifecycle_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.account
  FOR EACH ROW EXECUTE FUNCTION smam.lifecycle_guard();
CREATE TRIGGER lifecycle_guard_truncate BEFORE TRUNCATE ON smam.account
  FOR EACH STATEMENT EXECUTE FUNCTION smam.lifecycle_guard();

-- ---- the API ----

-- A new account, in planning, under an implementation plan.
CREATE FUNCTION smam.plan_account(department bigint, platform text, url text, name_en text, name_fr text,
                                  official_language smam.official_language, purpose text DEFAULT NULL,
                                  plan bigint DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c record;
  existing bigint;
  new_id bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  PERFORM smam.require_department_writer(department, '6.1.2', 'plan an official account');
  IF official_language IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'an account needs its official language', NULL, 'Give english, french or bilingual.');
  END IF;
  IF coalesce(btrim(name_en), '') = '' AND coalesce(btrim(name_fr), '') = '' THEN
    PERFORM smam.refuse('22023', NULL, 'an account needs a name', NULL,
      'Give the account''s name in English, in French, or both.');
  END IF;
  IF smam.account_names_problem(name_en, name_fr) IS NOT NULL THEN
    PERFORM smam.refuse('22001', '6.2.4', 'an account''s name is at most 200 characters',
      smam.account_names_problem(name_en, name_fr), 'Give the account''s name as the index is to show it.');
  END IF;
  c := smam.check_account_url(url, platform);
  IF c.problem IS NOT NULL THEN
    PERFORM smam.refuse('22023', '6.2.4', format('invalid account URL "%s"', url), c.problem,
      'Give the address the account will have on its platform.');
  END IF;
  SELECT a.id INTO existing FROM smam.account a WHERE a.url_key = c.url_key AND a.stage <> 'disposed';
  IF FOUND THEN
    PERFORM smam.refuse('23505', '6.2.4', format('account %s is already known', c.canonical_url),
      format('Account %s has this address.', existing), 'Plan another address, or use the existing account.');
  END IF;
  INSERT INTO smam.account (department_id, platform, plan_id, handle, url, url_key, name_en, name_fr,
                            official_language, purpose)
  VALUES (department, c.platform_code, plan, c.handle, c.canonical_url, c.url_key,
          nullif(btrim(name_en), ''), nullif(btrim(name_fr), ''), official_language, purpose)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.plan_account(bigint, text, text, text, text, smam.official_language, text, bigint) IS
  'Plan a new official account (stage planning) under an implementation plan: department staff, head of communications or designate';

-- Move an account. The trigger decides; this names the account and the note.
CREATE FUNCTION smam.transition(account bigint, to_stage smam.stage, note text DEFAULT NULL)
  RETURNS smam.stage LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  now_stage smam.stage;
BEGIN
  PERFORM smam.require_visible('account', account, (SELECT a.department_id FROM smam.account a WHERE a.id = account));
  SELECT a.stage INTO now_stage FROM smam.account a WHERE a.id = account FOR UPDATE;
  IF to_stage IS NULL THEN
    PERFORM smam.refuse('22023', '6.1.2', 'a move needs the stage to move to', NULL,
      'Give one of planning, creation, configuration, implementation, evaluation, disposition, disposed.');
  END IF;
  IF now_stage = to_stage THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s is already in %s', account, to_stage), NULL, NULL);
  END IF;
  UPDATE smam.account a SET stage = to_stage, stage_note = note WHERE a.id = account;
  RETURN to_stage;
END
$$;
COMMENT ON FUNCTION smam.transition(bigint, smam.stage, text) IS
  'Move an account to a stage with a note; refused unless the move is allowed and its guards hold (src/lifecycle.c)';

CREATE FUNCTION smam.configure_account(account bigint, configuration jsonb)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM smam.require_visible('account', account, (SELECT a.department_id FROM smam.account a WHERE a.id = account));
  IF configuration IS NULL OR pg_catalog.jsonb_typeof(configuration) <> 'object' THEN
    PERFORM smam.refuse('22023', '6.1.5', 'a configuration is a JSON object', NULL,
      'Pass the configuration as a JSON object, such as {"avatar": "fip:flag", "display_name": "..."}.');
  END IF;
  UPDATE smam.account a SET configuration = configure_account.configuration WHERE a.id = account;
END
$$;
COMMENT ON FUNCTION smam.configure_account(bigint, jsonb) IS
  'Change an account''s configuration: in creation and configuration by the entity; live, only as an accepted configuration submission proposed and within the specifications';

CREATE FUNCTION smam.abandon_account(account bigint, reason text)
  RETURNS smam.stage LANGUAGE sql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT smam.transition(account, 'disposed', reason) $$;
COMMENT ON FUNCTION smam.abandon_account(bigint, text) IS
  'Abandon a planned account (planning to disposed) with the reason';

CREATE FUNCTION smam.start_evaluation(account bigint, note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  a smam.account;
  new_id bigint;
BEGIN
  PERFORM smam.require_visible('account', account, (SELECT x.department_id FROM smam.account x WHERE x.id = account));
  SELECT * INTO a FROM smam.account x WHERE x.id = account FOR UPDATE;
  PERFORM smam.require_office('head_of_communications', a.department_id, '6.1.2', 'evaluate an account');
  IF a.stage <> 'implementation' THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s is in %s, not in implementation', account, a.stage), NULL,
      'Evaluate a live account.');
  END IF;
  INSERT INTO smam.evaluation (account_id, department_id, note) VALUES (account, a.department_id, note)
  RETURNING id INTO new_id;
  PERFORM smam.transition(account, 'evaluation', coalesce(note, format('evaluation %s started', new_id)));
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.start_evaluation(bigint, text) IS
  'Start the evaluation of a live account and move it to evaluation (head of communications or designate)';

CREATE FUNCTION smam.complete_evaluation(account bigint, findings text, back_to_implementation boolean DEFAULT true)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  a smam.account;
  e bigint;
BEGIN
  PERFORM smam.require_visible('account', account, (SELECT x.department_id FROM smam.account x WHERE x.id = account));
  SELECT * INTO a FROM smam.account x WHERE x.id = account FOR UPDATE;
  PERFORM smam.require_office('head_of_communications', a.department_id, '6.1.2', 'complete an evaluation');
  SELECT v.id INTO e FROM smam.evaluation v WHERE v.account_id = account AND v.completed_at IS NULL;
  IF e IS NULL THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s has no evaluation under way', account), NULL,
      'Start one with smam.start_evaluation().');
  END IF;
  IF coalesce(btrim(findings), '') = '' THEN
    PERFORM smam.refuse('22023', '6.1.2', 'an evaluation is completed with its findings', NULL,
      'Say what the evaluation found.');
  END IF;
  UPDATE smam.evaluation v SET findings = btrim(complete_evaluation.findings), completed_by = smam.acting_role(),
         completed_at = now()
   WHERE v.id = e;
  IF back_to_implementation THEN
    PERFORM smam.transition(account, 'implementation', format('evaluation %s completed', e));
  END IF;
  RETURN e;
END
$$;
COMMENT ON FUNCTION smam.complete_evaluation(bigint, text, boolean) IS
  'Complete the evaluation under way with its findings and (by default) return the account to implementation';

-- Attach an approved implementation plan to an account that left planning
-- without one (an onboarded account, 6.1.2). The trigger decides (src/
-- lifecycle.c, guard_plan_attachment), for this call and a plain UPDATE
-- alike; this names the account and refuses what the trigger cannot word.
CREATE FUNCTION smam.attach_implementation_plan(account bigint, plan bigint)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  a smam.account;
BEGIN
  PERFORM smam.require_visible('account', account, (SELECT x.department_id FROM smam.account x WHERE x.id = account));
  SELECT * INTO a FROM smam.account x WHERE x.id = account FOR UPDATE;
  IF a.stage = 'planning' THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s is in planning', account),
      'A planned account takes its plan in planning (smam.plan_account, or an update of plan_id); the move to creation checks it.',
      'Give the plan as the account''s plan_id while it is in planning.');
  END IF;
  IF plan IS NULL THEN
    PERFORM smam.refuse('22023', '6.1.2', 'attaching an implementation plan needs the plan', NULL,
      'Name one of the department''s approved implementation plans.');
  END IF;
  IF a.plan_id IS NOT DISTINCT FROM plan THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s already has implementation plan %s', account, plan), NULL,
      'Nothing to do.');
  END IF;
  IF a.plan_id IS NOT NULL AND a.stage <> 'planning' THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s already has implementation plan %s', account, a.plan_id),
      'The plan of an account is settled once it leaves planning; only an account without one gets one attached.',
      'Dispose of the account and plan a new one to change its plan.');
  END IF;
  UPDATE smam.account x SET plan_id = plan WHERE x.id = account;
END
$$;
COMMENT ON FUNCTION smam.attach_implementation_plan(bigint, bigint) IS
  'Attach an approved implementation plan of the department, covering the account''s platform, to an account that left planning without one (onboarded): head of communications or designate (6.1.2)';

-- What stands between an account and a stage now, without moving it: the
-- move is tried in a subtransaction that is always rolled back, and every
-- missing prerequisite is listed, not only the first (src/lifecycle.c).
CREATE FUNCTION smam.move_problems(account bigint, to_stage smam.stage)
  RETURNS TABLE (code text, message text, detail text)
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'smam_move_problems';
COMMENT ON FUNCTION smam.move_problems(bigint, smam.stage) IS
  'Every prerequisite a move would miss now (55000, the requirement in the detail), then the refusal that ends the trial if any (who may act, no such move); no rows: the move would be made. Nothing is changed';

ALTER TABLE smam.stage_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY stage_history_read ON smam.stage_history FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
-- A plain UPDATE meets the same trigger as the functions: departments
-- change their own accounts, the entity any account.
CREATE POLICY account_department_update ON smam.account FOR UPDATE TO smam_department
  USING (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]))
  WITH CHECK (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY account_entity_update ON smam.account FOR UPDATE TO smam_entity
  USING ((SELECT smam.sees_all())) WITH CHECK ((SELECT smam.sees_all()));
GRANT UPDATE (stage, stage_note, configuration, name_en, name_fr, purpose, official_language, plan_id, url)
  ON smam.account TO smam_department, smam_entity;
GRANT SELECT ON smam.stage_history TO smam_admin, smam_entity, smam_department, smam_tbs;
ALTER TABLE smam.account_approval ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_approval_read ON smam.account_approval FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.account_approval TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.account_configuration_sha256(jsonb, text, text, smam.official_language)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.plan_account(bigint, text, text, text, text, smam.official_language, text, bigint),
  smam.abandon_account(bigint, text), smam.start_evaluation(bigint, text),
  smam.complete_evaluation(bigint, text, boolean), smam.attach_implementation_plan(bigint, bigint)
  TO smam_department;
GRANT EXECUTE ON FUNCTION smam.transition(bigint, smam.stage, text), smam.configure_account(bigint, jsonb),
  smam.move_problems(bigint, smam.stage), smam.abandon_account(bigint, text)
  TO smam_department, smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.stage_history', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_approval', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_approval_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.stage_history_id_seq', '');

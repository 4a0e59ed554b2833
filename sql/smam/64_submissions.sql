-- Submissions (6.1.3, 6.2.1): the department's head of communications or
-- designate submits the creation, configuration or disposition of an
-- account to the entity; an entity official or reviewer accepts or rejects
-- it, with reasons. A submission is frozen once submitted and decided once;
-- an accepted submission is used up by the move (or configuration change)
-- it allows. The rules are in C (smam.approval_guard).

CREATE TYPE smam.submission_kind AS ENUM ('creation', 'configuration', 'disposition');
COMMENT ON TYPE smam.submission_kind IS 'Submissions of 6.1.3: creation, configuration and disposition of an account';

CREATE TYPE smam.review_status AS ENUM ('pending', 'accepted', 'rejected');
COMMENT ON TYPE smam.review_status IS 'A submission waits for review, then is accepted or rejected by the entity (6.2.1)';

CREATE SEQUENCE smam.submission_id_seq;
CREATE TABLE smam.submission (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.submission_id_seq'),
  account_id      bigint NOT NULL REFERENCES smam.account (id),
  department_id   bigint NOT NULL REFERENCES smam.department (id),
  kind            smam.submission_kind NOT NULL,
  configuration   jsonb,
  note            text,
  status          smam.review_status NOT NULL DEFAULT 'pending',
  version         integer NOT NULL DEFAULT 1,
  authors         text[] NOT NULL DEFAULT '{}',
  decided_by      name,
  decided_office  smam.office,
  decided_at      timestamptz,
  decision_note   text,
  consumed_at     timestamptz,
  consumed_stage  smam.stage,
  created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
  name_en         text,
  name_fr         text,
  official_language smam.official_language,
  superseded_by   bigint,
  CHECK ((kind OPERATOR(pg_catalog.=) 'configuration') OPERATOR(pg_catalog.=) (configuration IS NOT NULL)),
  CHECK (kind OPERATOR(pg_catalog.=) 'configuration'
         OR (name_en IS NULL AND name_fr IS NULL AND official_language IS NULL)),
  CONSTRAINT submission_name_en_length CHECK (pg_catalog.length(name_en) OPERATOR(pg_catalog.<=) 200),
  CONSTRAINT submission_name_fr_length CHECK (pg_catalog.length(name_fr) OPERATOR(pg_catalog.<=) 200)
);
ALTER SEQUENCE smam.submission_id_seq OWNED BY smam.submission.id;
CREATE UNIQUE INDEX submission_pending_key ON smam.submission (account_id, kind)
  WHERE status OPERATOR(pg_catalog.=) 'pending'::smam.review_status;
CREATE INDEX submission_account_idx ON smam.submission (account_id, kind, status);
COMMENT ON TABLE smam.submission IS
  'Submissions to the entity (6.1.3) and their review (6.2.1); authors holds the submitter, who may not review';
COMMENT ON COLUMN smam.submission.configuration IS 'For a configuration submission: the configuration proposed, which the change must match';
COMMENT ON COLUMN smam.submission.name_en IS 'For a configuration submission: the English name proposed (NULL: unchanged)';
COMMENT ON COLUMN smam.submission.name_fr IS 'For a configuration submission: the French name proposed (NULL: unchanged)';
COMMENT ON COLUMN smam.submission.official_language IS 'For a configuration submission: the official language proposed (NULL: unchanged)';
COMMENT ON COLUMN smam.submission.superseded_by IS
  'The configuration submission applied after this accepted one was decided: this one can no longer be applied (consumed_at is when)';
COMMENT ON COLUMN smam.submission.consumed_at IS 'When the move or configuration change it allowed used it up';

CREATE TRIGGER approval_guard BEFORE INSERT OR UPDATE ON smam.submission
  FOR EACH ROW EXECUTE FUNCTION smam.approval_guard('submission', 'entity_official,entity_reviewer', '6.2.1', 'pending', 'freeze');

CREATE FUNCTION smam.submit(account bigint, kind smam.submission_kind, note text DEFAULT NULL,
                            configuration jsonb DEFAULT NULL, name_en text DEFAULT NULL,
                            name_fr text DEFAULT NULL, official_language smam.official_language DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  a smam.account;
  new_id bigint;
BEGIN
  SELECT * INTO a FROM smam.account x WHERE x.id = account;
  PERFORM smam.require_visible('account', account, a.department_id);
  IF NOT smam.holds_office(who, 'head_of_communications', a.department_id) THEN
    PERFORM smam.refuse('42501', '6.1.3', format('role "%s" may not make a submission for account %s', who, account),
      format('Submissions to the entity come from the head of communications or a designate of department %s, in office now.',
             a.department_id),
      'Ask the department''s head of communications or a designate.');
  END IF;
  IF kind IS NULL THEN
    PERFORM smam.refuse('22023', '6.1.3', 'a submission needs its kind', NULL,
      'Submit a creation, configuration or disposition.');
  END IF;
  IF NOT (a.stage = ANY (CASE kind WHEN 'creation' THEN ARRAY['planning']::smam.stage[]
                                   WHEN 'configuration' THEN ARRAY['creation', 'configuration', 'implementation', 'evaluation']::smam.stage[]
                                   ELSE ARRAY['implementation', 'evaluation']::smam.stage[] END)) THEN
    PERFORM smam.refuse('55000', '6.1.3', format('account %s is in %s: no %s submission now', account, a.stage, kind),
      'Creation is submitted in planning; configuration from creation on while the account is not being disposed of; disposition while the account is live.',
      'Submit what the account''s stage calls for.');
  END IF;
  IF kind = 'configuration' AND (configuration IS NULL OR jsonb_typeof(configuration) <> 'object') THEN
    PERFORM smam.refuse('22023', '6.1.3', 'a configuration submission needs the configuration proposed', NULL,
      'Pass the configuration as a JSON object, such as {"avatar": "fip:flag", "display_name": "..."}.');
  END IF;
  IF kind <> 'configuration' AND (name_en IS NOT NULL OR name_fr IS NOT NULL OR official_language IS NOT NULL) THEN
    PERFORM smam.refuse('22023', '6.1.3', format('a %s submission proposes no names or language', kind), NULL,
      'Propose names and the official language in a configuration submission.');
  END IF;
  IF smam.account_names_problem(name_en, name_fr) IS NOT NULL THEN
    PERFORM smam.refuse('22001', '6.2.4', 'an account''s name is at most 200 characters',
      smam.account_names_problem(name_en, name_fr), 'Propose the account''s name as the index is to show it.');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.submission s WHERE s.account_id = account AND s.kind = submit.kind
                AND s.status = 'pending') THEN
    PERFORM smam.refuse('23505', '6.1.3', format('account %s already has a %s submission pending', account, kind), NULL,
      'Wait for the entity''s review of the pending submission.');
  END IF;
  INSERT INTO smam.submission (account_id, department_id, kind, configuration, note, name_en, name_fr, official_language)
  VALUES (account, a.department_id, kind, CASE WHEN kind = 'configuration' THEN configuration END, note,
          nullif(btrim(submit.name_en), ''), nullif(btrim(submit.name_fr), ''), submit.official_language)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.submit(bigint, smam.submission_kind, text, jsonb, text, text, smam.official_language) IS
  'Submit the creation, configuration or disposition of an account to the entity (6.1.3): head of communications or designate';

CREATE FUNCTION smam.review_submission(submission bigint, accept boolean, reasons text DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM smam.require_visible('submission', submission,
                               (SELECT s.department_id FROM smam.submission s WHERE s.id = submission));
  IF accept IS NULL THEN
    PERFORM smam.refuse('22023', '6.2.1', 'a review accepts or rejects', NULL, 'Pass true to accept, false to reject.');
  END IF;
  UPDATE smam.submission s
     SET status = CASE WHEN accept THEN 'accepted' ELSE 'rejected' END::smam.review_status,
         decision_note = reasons
   WHERE s.id = submission;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', NULL, format('submission %s does not exist', submission), NULL,
      'List submissions in smam.submission.');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.review_submission(bigint, boolean, text) IS
  'Accept or reject a pending submission, with reasons (6.2.1): entity official or reviewer, not the submitter';

ALTER TABLE smam.submission ENABLE ROW LEVEL SECURITY;
CREATE POLICY submission_read ON smam.submission FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY submission_review ON smam.submission FOR UPDATE TO smam_entity
  USING ((SELECT smam.sees_all())) WITH CHECK ((SELECT smam.sees_all()));
GRANT SELECT ON smam.submission TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT UPDATE (status, decision_note) ON smam.submission TO smam_entity;
GRANT EXECUTE ON FUNCTION smam.submit(bigint, smam.submission_kind, text, jsonb, text, text, smam.official_language) TO smam_department;
GRANT EXECUTE ON FUNCTION smam.review_submission(bigint, boolean, text) TO smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.submission', '');
SELECT pg_catalog.pg_extension_config_dump('smam.submission_id_seq', '');

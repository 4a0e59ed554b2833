-- Moving an account to another department (6.2.4): a decision of the
-- entity, never an import's. The index may list an account under another
-- department than the one it belongs to (the Canadian Coast Guard's
-- accounts under National Defence from 2025); the import rejects such a row
-- and says so, and the entity's official or an administrator decides with
-- smam.move_account(). The account keeps its history (stage history,
-- decisions, evaluations stay recorded under the department they were made
-- in) and leaves its old department's plan: the new department attaches its
-- own (smam.attach_implementation_plan), as 6.1.2 asks of every live account.

CREATE FUNCTION smam.reassign_account(account bigint, department bigint, keep_plan boolean) RETURNS void
  LANGUAGE c STRICT VOLATILE
  AS 'MODULE_PATHNAME', 'smam_reassign_account';
COMMENT ON FUNCTION smam.reassign_account(bigint, bigint, boolean) IS
  'Internal: the one way an account changes department (smam.move_account, smam.merge_departments); checks the acting role; granted to no one';

CREATE SEQUENCE smam.account_move_id_seq;
CREATE TABLE smam.account_move (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_move_id_seq'),
  account_id       bigint NOT NULL REFERENCES smam.account (id),
  from_department  bigint NOT NULL REFERENCES smam.department (id),
  to_department    bigint NOT NULL REFERENCES smam.department (id),
  plan_id          bigint,
  reason           text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(reason)) OPERATOR(pg_catalog.>) 0),
  moved_by         name NOT NULL DEFAULT smam.acting_role(),
  moved_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK (from_department OPERATOR(pg_catalog.<>) to_department)
);
ALTER SEQUENCE smam.account_move_id_seq OWNED BY smam.account_move.id;
CREATE INDEX account_move_account_idx ON smam.account_move (account_id);
COMMENT ON TABLE smam.account_move IS
  'Accounts the entity moved to another department: from, to, the plan it left, why, who, when';
COMMENT ON COLUMN smam.account_move.plan_id IS 'The old department''s plan the account left (the new department attaches its own)';

CREATE FUNCTION smam.move_account(account bigint, department bigint, reason text) RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  a smam.account;
  new_id bigint;
BEGIN
  PERFORM smam.require_importer('move an account to another department');
  SELECT * INTO a FROM smam.account x WHERE x.id = move_account.account FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', '6.2.4', format('account %s does not exist', move_account.account), NULL,
      'Find the account in smam.account (by its url).');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = move_account.department) THEN
    PERFORM smam.refuse('42704', '6.2.4', format('department %s does not exist', move_account.department), NULL,
      'Find the department with smam.find_department().');
  END IF;
  PERFORM smam.refuse_merged_department(move_account.department);
  IF a.department_id = move_account.department THEN
    PERFORM smam.refuse('22023', '6.2.4', format('account %s is already an account of department %s', a.id, a.department_id),
      NULL, 'Give the department the account is to move to.');
  END IF;
  IF coalesce(btrim(reason), '') = '' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'moving an account to another department needs a reason',
      'The move is a decision of the entity, kept with the account''s history.',
      'Say why, such as "the Canadian Coast Guard joined National Defence on 2025-04-01".');
  END IF;
  IF a.stage NOT IN ('implementation', 'evaluation') THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s is in %s, not live', a.id, a.stage),
      'A live account (implementation, evaluation) moves with its record; an account still being planned, created or configured belongs to the department that plans it, and a disposed one to the department that disposed of it.',
      'Abandon the planned account and plan it again in the other department, or finish its disposition.');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.submission s WHERE s.account_id = a.id AND s.status = 'pending') THEN
    PERFORM smam.refuse('55000', '6.2.1', format('account %s has a submission waiting for the entity''s review', a.id),
      'A submission is reviewed for the department that made it.',
      'Review or withdraw the pending submission first (smam.review_submission).');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.evaluation e WHERE e.account_id = a.id AND e.completed_at IS NULL) THEN
    PERFORM smam.refuse('55000', '6.1.2', format('account %s is being evaluated', a.id),
      'An evaluation is completed by the department that started it.',
      'Complete the evaluation first (smam.complete_evaluation).');
  END IF;
  INSERT INTO smam.account_move (account_id, from_department, to_department, plan_id, reason)
  VALUES (a.id, a.department_id, move_account.department, a.plan_id, btrim(reason))
  RETURNING id INTO new_id;
  PERFORM smam.reassign_account(a.id, move_account.department, false);
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.move_account(bigint, bigint, text) IS
  'Move a live account to another department, leaving its old plan (entity official or administrator); returns the move''s id';

ALTER TABLE smam.account_move ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_move_read ON smam.account_move FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY account_move_department ON smam.account_move FOR SELECT TO smam_department
  USING (from_department OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[])
         OR to_department OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.account_move TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.move_account(bigint, bigint, text) TO smam_admin, smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.account_move', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_move_id_seq', '');

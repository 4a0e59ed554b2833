-- Evaluations (the evaluation stage of 6.1.2) and archives (account
-- disposition: where the account's historical data went, with a checksum,
-- or the recorded reason none was kept).

CREATE SEQUENCE smam.evaluation_id_seq;
CREATE TABLE smam.evaluation (
  id                bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.evaluation_id_seq'),
  account_id        bigint NOT NULL REFERENCES smam.account (id),
  department_id     bigint NOT NULL REFERENCES smam.department (id),
  note              text,
  started_by        name NOT NULL DEFAULT smam.acting_role(),
  started_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  findings          text,
  completed_by      name,
  completed_at      timestamptz,
  CHECK ((completed_at IS NULL) OPERATOR(pg_catalog.=) (completed_by IS NULL)),
  CHECK (completed_at IS NULL OR pg_catalog.length(pg_catalog.btrim(findings)) OPERATOR(pg_catalog.>) 0)
);
ALTER SEQUENCE smam.evaluation_id_seq OWNED BY smam.evaluation.id;
CREATE UNIQUE INDEX evaluation_open_key ON smam.evaluation (account_id) WHERE completed_at IS NULL;
COMMENT ON TABLE smam.evaluation IS 'Evaluations of live accounts (6.1.2): started, then completed with findings';

CREATE SEQUENCE smam.archive_id_seq;
CREATE TABLE smam.archive (
  id                 bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.archive_id_seq'),
  account_id         bigint NOT NULL UNIQUE REFERENCES smam.account (id),
  department_id      bigint NOT NULL REFERENCES smam.department (id),
  location           text CHECK (pg_catalog.length(pg_catalog.btrim(location)) OPERATOR(pg_catalog.>) 0),
  checksum           text CHECK (checksum OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'),
  no_archive_reason  text CHECK (pg_catalog.length(pg_catalog.btrim(no_archive_reason)) OPERATOR(pg_catalog.>) 0),
  recorded_by        name NOT NULL DEFAULT smam.acting_role(),
  recorded_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK ((location IS NOT NULL AND checksum IS NOT NULL AND no_archive_reason IS NULL)
      OR (location IS NULL AND checksum IS NULL AND no_archive_reason IS NOT NULL))
);
ALTER SEQUENCE smam.archive_id_seq OWNED BY smam.archive.id;
COMMENT ON TABLE smam.archive IS
  'Account disposition: where the historical data went with its SHA-256 checksum, or why none was kept';

CREATE TRIGGER record_guard BEFORE UPDATE OR DELETE ON smam.archive
  FOR EACH ROW EXECUTE FUNCTION smam.record_guard();

-- Who starts and completes an evaluation, and who records an archive,
-- whoever writes the row (the functions below, or the table owner's SQL):
-- src/evaluations.c.
CREATE FUNCTION smam.evaluation_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_evaluation_guard';
COMMENT ON FUNCTION smam.evaluation_guard() IS
  'Trigger: evaluations are started and completed by the head of communications of a live account; archives recorded by the entity in disposition';
CREATE TRIGGER evaluation_guard BEFORE INSERT OR UPDATE ON smam.evaluation
  FOR EACH ROW EXECUTE FUNCTION smam.evaluation_guard();
CREATE TRIGGER evaluation_guard BEFORE INSERT ON smam.archive
  FOR EACH ROW EXECUTE FUNCTION smam.evaluation_guard();

CREATE FUNCTION smam.archive_account(account bigint, location text, checksum text,
                                     no_archive_reason text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  a smam.account;
  new_id bigint;
BEGIN
  SELECT * INTO a FROM smam.account x WHERE x.id = account;
  PERFORM smam.require_visible('account', account, a.department_id);
  PERFORM smam.require_office('entity_official', NULL, '6.2.2', 'record the archive of an account');
  IF a.stage <> 'disposition' THEN
    PERFORM smam.refuse('55000', '6.2.2', format('account %s is in %s, not in disposition', account, a.stage), NULL,
      'Archive an account once its disposition has begun.');
  END IF;
  IF (location IS NULL) <> (checksum IS NULL) OR (location IS NULL) = (no_archive_reason IS NULL) THEN
    PERFORM smam.refuse('22023', '6.2.2', 'an archive has a location and a checksum, or the reason none was kept', NULL,
      'Pass the location and the SHA-256 checksum of the archived data, or NULL for both and the reason.');
  END IF;
  IF checksum IS NOT NULL AND lower(checksum) !~ '^[0-9a-f]{64}$' THEN
    PERFORM smam.refuse('22023', '6.2.2', format('"%s" is not a SHA-256 checksum', checksum), NULL,
      'Give the 64 hexadecimal digits of the SHA-256 of the archived data.');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.archive r WHERE r.account_id = account) THEN
    PERFORM smam.refuse('23505', '6.2.2', format('account %s is already archived', account), NULL, NULL);
  END IF;
  INSERT INTO smam.archive (account_id, department_id, location, checksum, no_archive_reason)
  VALUES (account, a.department_id, nullif(btrim(location), ''), lower(checksum), nullif(btrim(no_archive_reason), ''))
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.archive_account(bigint, text, text, text) IS
  'Record where an account''s historical data went (location, SHA-256) or why none was kept (entity official)';

ALTER TABLE smam.evaluation ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.archive ENABLE ROW LEVEL SECURITY;
CREATE POLICY evaluation_read ON smam.evaluation FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY archive_read ON smam.archive FOR SELECT TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all()) OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.evaluation, smam.archive TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.archive_account(bigint, text, text, text) TO smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.evaluation', '');
SELECT pg_catalog.pg_extension_config_dump('smam.evaluation_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.archive', '');
SELECT pg_catalog.pg_extension_config_dump('smam.archive_id_seq', '');

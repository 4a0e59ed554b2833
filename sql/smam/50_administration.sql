-- The administrator's acts on the catalogue: whether smam enforces the
-- Standard, and the effective dates communicated by the Secretary.

CREATE FUNCTION smam.set_enforcement(enforced boolean, reason text,
                                     effective_from timestamptz DEFAULT pg_catalog.now())
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM smam.require_office('administrator', NULL, NULL, 'set whether smam enforces the Standard');
  IF enforced IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'enforcement must be on or off', NULL,
      'Pass true to enforce the Standard, false to stop.');
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    PERFORM smam.refuse('22023', NULL, 'changing enforcement needs a reason', NULL,
      'Say why, for the record: the Standard was rescinded on 2016-05-11 and is enforced here by choice.');
  END IF;
  INSERT INTO smam.instrument_setting (enforced, effective_from, reason)
  VALUES (enforced, coalesce(effective_from, now()), btrim(reason));
END
$$;
COMMENT ON FUNCTION smam.set_enforcement(boolean, text, timestamptz) IS
  'Administrator: whether smam enforces the Standard from a moment on, with the reason';

CREATE FUNCTION smam.record_effective_date(requirement text, effective_on date, reference text)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  r smam.requirement;
  start date := (SELECT i.effective_on FROM smam.instrument i);
BEGIN
  PERFORM smam.require_office('administrator', NULL, NULL,
                              'record a date communicated by the Secretary');
  SELECT * INTO r FROM smam.requirement x WHERE x.code = requirement;
  IF NOT FOUND THEN
    PERFORM smam.refuse('22023', NULL, format('requirement "%s" is not in the Standard', requirement),
      'Requirements are numbered as in sections 6, 7 and 8, such as 6.1.3.',
      'List them with: SELECT code FROM smam.requirement ORDER BY sort_key;');
  END IF;
  IF r.effective_immediately THEN
    PERFORM smam.refuse('22023', '1.2',
      format('requirement %s took effect on %s', r.code, smam.date_text(start)),
      'Section 1.2 made 6.1.1, 6.1.2, 6.1.5, 7.1 and 7.2 effective immediately.',
      'Record dates only for the remaining requirements.');
  END IF;
  IF effective_on IS NULL OR effective_on < start THEN
    PERFORM smam.refuse('22023', '1.1',
      format('requirement %s cannot take effect on %s', r.code, coalesce(smam.date_text(effective_on), 'no date')),
      format('Section 1.1: the Standard takes effect on %s.', smam.date_text(start)),
      format('Give the date communicated by the Secretary, on or after %s.', smam.date_text(start)));
  END IF;
  IF reference IS NULL OR btrim(reference) = '' THEN
    PERFORM smam.refuse('22023', '1.2', 'a communicated date needs its reference',
      'Section 1.2: the remaining requirements come into effect on a date communicated by the Secretary of the Treasury Board.',
      'Cite the communication, such as its date and title.');
  END IF;
  INSERT INTO smam.effective_date_record (requirement, effective_on, reference)
  VALUES (r.code, effective_on, btrim(reference));
END
$$;
COMMENT ON FUNCTION smam.record_effective_date(text, date, text) IS
  'Administrator: record the effective date the Secretary communicated for a requirement (section 1.2); the latest counts';

-- The catalogue as an analyst reads it.
CREATE VIEW smam.requirement_catalogue WITH (security_barrier = true) AS
  SELECT r.code, r.section, r.parent_code, r.kind, r.responsible, r.text,
         smam.effective_date(r.code) AS effective_on,
         r.not_for_agents_of_parliament,
         smam.requirement_status(r.code) AS status
    FROM smam.requirement r
   ORDER BY r.sort_key;
COMMENT ON VIEW smam.requirement_catalogue IS
  'Every requirement and consequence with its effective date and status today';
-- The meaning of each column of smam.requirement_catalogue: sql/smam/95_report_dictionary.sql.

ALTER TABLE smam.instrument ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.requirement ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.instrument_setting ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.effective_date_record ENABLE ROW LEVEL SECURITY;
CREATE POLICY instrument_read ON smam.instrument FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
CREATE POLICY requirement_read ON smam.requirement FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
CREATE POLICY instrument_setting_read ON smam.instrument_setting FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY effective_date_record_read ON smam.effective_date_record FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.instrument, smam.requirement TO
  smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT SELECT ON smam.instrument_setting, smam.effective_date_record, smam.requirement_catalogue TO
  smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.set_enforcement(boolean, text, timestamptz),
  smam.record_effective_date(text, date, text) TO smam_admin;
GRANT EXECUTE ON FUNCTION smam.enforced(timestamptz, timestamptz), smam.effective_date(text, timestamptz),
  smam.requirement_status(text, date, bigint, timestamptz) TO
  smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.instrument_setting', '');
SELECT pg_catalog.pg_extension_config_dump('smam.instrument_setting_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.effective_date_record', '');
SELECT pg_catalog.pg_extension_config_dump('smam.effective_date_record_id_seq', '');

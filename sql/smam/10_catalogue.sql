-- The catalogue of the Standard: the instrument, its requirements and
-- consequences, their effective dates (section 1) and the exemptions of
-- section 2.2. Shipped rows are read-only to every role (smam.catalogue_guard).

CREATE TABLE smam.instrument (
  id              smallint PRIMARY KEY CHECK (id OPERATOR(pg_catalog.=) 1),
  title_en        text NOT NULL,
  title_fr        text NOT NULL,
  effective_on    date NOT NULL,
  modified_on     date NOT NULL,
  rescinded_on    date,
  archival_note   text NOT NULL,
  source          text NOT NULL
);
COMMENT ON TABLE smam.instrument IS 'The Standard on Social Media Account Management itself (catalogue, read-only)';

INSERT INTO smam.instrument VALUES (
  1,
  'Standard on Social Media Account Management',
  'Norme sur la gestion des comptes de médias sociaux',
  DATE '2013-04-01', DATE '2014-03-06', DATE '2016-05-11',
  'Rescinded on 2016-05-11 and archived on the Web: provided for reference, research or recordkeeping purposes. '
  'smam enforces it as a model standard where an administrator says so (smam.set_enforcement).',
  'Treasury Board of Canada Secretariat'
);

CREATE TABLE smam.requirement (
  code            text PRIMARY KEY,
  section         text NOT NULL,
  parent_code     text REFERENCES smam.requirement (code),
  kind            text NOT NULL CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['requirement', 'consequence'])),
  responsible     smam.office NOT NULL,
  text            text NOT NULL,
  effective_immediately boolean NOT NULL,
  not_for_agents_of_parliament boolean NOT NULL,
  sort_key        integer[] NOT NULL UNIQUE
);
COMMENT ON TABLE smam.requirement IS
  'Requirements of sections 6 and 7 and consequences of section 8 (catalogue, read-only)';
COMMENT ON COLUMN smam.requirement.responsible IS 'The office the Standard makes responsible';
COMMENT ON COLUMN smam.requirement.effective_immediately IS
  'Section 1.2: in force on 2013-04-01; otherwise in force on the date the Secretary communicates';
COMMENT ON COLUMN smam.requirement.not_for_agents_of_parliament IS
  'Section 2.2: does not apply to the seven agents of Parliament';

INSERT INTO smam.requirement (code, section, parent_code, kind, responsible, text,
                              effective_immediately, not_for_agents_of_parliament, sort_key) VALUES
  ('6.1.1', '6.1', NULL, 'requirement', 'head_of_communications',
   'Approving an overarching departmental social media strategy', true, false, '{6,1,1}'),
  ('6.1.2', '6.1', NULL, 'requirement', 'head_of_communications',
   'Approving official social media accounts based on implementation plans, and overseeing the life cycle of official social media accounts, including planning, creation, configuration, implementation, evaluation and disposition', true, false, '{6,1,2}'),
  ('6.1.3', '6.1', NULL, 'requirement', 'head_of_communications',
   'Providing submissions related to the creation, configuration and disposition of official social media accounts to the entity for review', false, false, '{6,1,3}'),
  ('6.1.4', '6.1', NULL, 'requirement', 'head_of_communications',
   'Ensuring that departments use the Government of Canada social media platform management tool to manage official social media accounts as prescribed by the entity', false, false, '{6,1,4}'),
  ('6.1.5', '6.1', NULL, 'requirement', 'head_of_communications',
   'Ensuring that official social media accounts meet the layout and design specifications outlined in the Technical Specifications for Social Media Accounts', true, false, '{6,1,5}'),
  ('6.2.1', '6.2', NULL, 'requirement', 'entity_official',
   'Reviewing submissions related to the creation, configuration and disposition of official social media accounts', false, false, '{6,2,1}'),
  ('6.2.2', '6.2', NULL, 'requirement', 'entity_official',
   'Creating, configuring and disposing of official social media accounts', false, false, '{6,2,2}'),
  ('6.2.3', '6.2', NULL, 'requirement', 'entity_official',
   'Developing and maintaining a list of pre-reviewed social media platforms that will be informed by considering Government of Canada needs and priorities', false, false, '{6,2,3}'),
  ('6.2.3.1', '6.2', '6.2.3', 'requirement', 'entity_official',
   'Reviews of social media platform-specific functionality and terms of use', false, false, '{6,2,3,1}'),
  ('6.2.3.2', '6.2', '6.2.3', 'requirement', 'entity_official',
   'Privacy and security risk assessments for social media platforms, including model Privacy Impact Assessments for social media platforms', false, false, '{6,2,3,2}'),
  ('6.2.4', '6.2', NULL, 'requirement', 'entity_official',
   'Maintaining an index of official social media accounts, to be published on the Government of Canada website', false, false, '{6,2,4}'),
  ('6.2.5', '6.2', NULL, 'requirement', 'entity_official',
   'Providing and administering a Government of Canada social media platform management tool and communicating to departments clear expectations of use', false, false, '{6,2,5}'),
  ('7.1.1', '7.1', NULL, 'requirement', 'deputy_head',
   'Monitoring compliance with this Standard to ensure its effective implementation and ensuring that appropriate and timely action is taken to address issues of compliance as needed', true, false, '{7,1,1}'),
  ('7.1.2', '7.1', NULL, 'requirement', 'deputy_head',
   'Reporting on compliance as requested by the Treasury Board of Canada Secretariat', true, true, '{7,1,2}'),
  ('7.2.1', '7.2', NULL, 'requirement', 'tbs_analyst',
   'Overseeing compliance with the application and administration of this Standard', true, true, '{7,2,1}'),
  ('7.2.2', '7.2', NULL, 'requirement', 'tbs_analyst',
   'Recommending that corrective action be taken when a department or the entity has not complied with the requirements of this Standard', true, true, '{7,2,2}'),
  ('7.2.3', '7.2', NULL, 'requirement', 'tbs_analyst',
   'Establishing a framework for the review of this Standard and ensuring that a review is initiated within five years of the effective date of this Standard', true, true, '{7,2,3}'),
  ('7.3.1', '7.3', NULL, 'requirement', 'entity_official',
   'Preparing reports on activities related to this Standard as requested by the Treasury Board Secretariat', false, false, '{7,3,1}'),
  ('7.3.2', '7.3', NULL, 'requirement', 'entity_official',
   'Reporting on compliance with this Standard as requested by the Treasury Board of Canada Secretariat', false, false, '{7,3,2}'),
  ('8.1', '8', NULL, 'consequence', 'deputy_head',
   'In instances of non-compliance, deputy heads are responsible for taking corrective measures within their department with those responsible for implementing the requirements of this Standard', false, false, '{8,1}'),
  ('8.2', '8', NULL, 'consequence', 'tbs_analyst',
   'Consequences of non-compliance with this Standard, or failure to take corrective actions requested by the Treasury Board of Canada Secretariat, may include recommending to the Treasury Board limits on the spending authority of the department and imposition of any other measures determined appropriate in the circumstances', false, true, '{8,2}');

CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.instrument
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard_truncate BEFORE TRUNCATE ON smam.instrument
  FOR EACH STATEMENT EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.requirement
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard_truncate BEFORE TRUNCATE ON smam.requirement
  FOR EACH STATEMENT EXECUTE FUNCTION smam.catalogue_guard();

-- The administrator's setting: does smam enforce the Standard? Kept as a
-- history so that a report "as of" a date reproduces the setting then.
CREATE SEQUENCE smam.instrument_setting_id_seq;
CREATE TABLE smam.instrument_setting (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.instrument_setting_id_seq'),
  enforced        boolean NOT NULL,
  effective_from  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  reason          text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(reason)) OPERATOR(pg_catalog.>) 0),
  set_by          name NOT NULL DEFAULT smam.acting_role(),
  set_at          timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.instrument_setting_id_seq OWNED BY smam.instrument_setting.id;
COMMENT ON TABLE smam.instrument_setting IS
  'History of the administrator''s setting whether smam enforces the Standard; none means enforced';
CREATE INDEX ON smam.instrument_setting (effective_from);

-- Effective dates communicated by the Secretary of the Treasury Board
-- (section 1.2), recorded by an administrator; the latest record counts.
CREATE SEQUENCE smam.effective_date_record_id_seq;
CREATE TABLE smam.effective_date_record (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.effective_date_record_id_seq'),
  requirement     text NOT NULL REFERENCES smam.requirement (code),
  effective_on    date NOT NULL,
  reference       text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(reference)) OPERATOR(pg_catalog.>) 0),
  recorded_by     name NOT NULL DEFAULT smam.acting_role(),
  recorded_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER SEQUENCE smam.effective_date_record_id_seq OWNED BY smam.effective_date_record.id;
COMMENT ON TABLE smam.effective_date_record IS
  'Section 1.2: effective dates communicated by the Secretary of the Treasury Board, as recorded';
CREATE INDEX ON smam.effective_date_record (requirement, recorded_at);

-- Is the Standard enforced at a moment, by the settings recorded by another
-- moment (default: now)? No setting recorded: enforced.
CREATE FUNCTION smam.enforced(at timestamptz DEFAULT pg_catalog.now(),
                              known_at timestamptz DEFAULT pg_catalog.now()) RETURNS boolean
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce((SELECT s.enforced FROM smam.instrument_setting s
                      WHERE s.effective_from <= at AND s.set_at <= known_at
                      ORDER BY s.effective_from DESC, s.id DESC LIMIT 1), true)
  $$;
COMMENT ON FUNCTION smam.enforced(timestamptz, timestamptz) IS
  'Whether smam enforces the Standard at a moment, per the administrator''s settings recorded by known_at (default: enforced)';

-- The effective date of a requirement as known at a moment: 2013-04-01 for
-- those of section 1.2, else the latest communicated date recorded for it
-- or, for 6.2.3.1 and 6.2.3.2, for 6.2.3.
CREATE FUNCTION smam.effective_date(requirement text, known_at timestamptz DEFAULT pg_catalog.now())
  RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN r.effective_immediately THEN i.effective_on
           ELSE (SELECT e.effective_on FROM smam.effective_date_record e
                  WHERE e.requirement IN (r.code, r.parent_code)
                    AND e.recorded_at <= known_at
                  ORDER BY (e.requirement = r.code) DESC, e.recorded_at DESC, e.id DESC
                  LIMIT 1)
           END
      FROM smam.requirement r CROSS JOIN smam.instrument i
     WHERE r.code = requirement
  $$;
COMMENT ON FUNCTION smam.effective_date(text, timestamptz) IS
  'Effective date of a requirement (section 1), as recorded at a moment; NULL until communicated';

-- The status of a requirement on a date, for a department or in general.
CREATE FUNCTION smam.requirement_status(requirement text, on_date date DEFAULT smam.today(),
                                        department bigint DEFAULT NULL,
                                        known_at timestamptz DEFAULT pg_catalog.now())
  RETURNS text
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  r smam.requirement;
  eff date;
  -- the last moment of the date, in the Standard's time zone
  at_end timestamptz := ((on_date + 1)::timestamp AT TIME ZONE smam.time_zone()) - interval '1 microsecond';
BEGIN
  SELECT * INTO r FROM smam.requirement x WHERE x.code = requirement_status.requirement;
  IF NOT FOUND THEN
    PERFORM smam.refuse('22023', NULL,
      format('requirement "%s" is not in the Standard', requirement),
      'Requirements are numbered as in sections 6, 7 and 8, such as 6.1.2.',
      'List them with: SELECT code FROM smam.requirement ORDER BY sort_key;');
  END IF;
  IF NOT smam.enforced(at_end, known_at) THEN
    RETURN 'not enforced';
  END IF;
  IF department IS NOT NULL AND r.not_for_agents_of_parliament
     AND EXISTS (SELECT 1 FROM smam.department d
                  WHERE d.id = department AND d.agent_of_parliament) THEN
    RETURN 'not applicable';
  END IF;
  eff := smam.effective_date(r.code, known_at);
  IF eff IS NULL OR eff > on_date THEN
    RETURN 'not yet in force';
  END IF;
  RETURN 'in force';
END
$$;
COMMENT ON FUNCTION smam.requirement_status(text, date, bigint, timestamptz) IS
  'in force, not yet in force (section 1), not applicable (section 2.2) or not enforced (administrator''s setting), on a date, by what was recorded at known_at (default now: reports pass their own moment to reproduce)';

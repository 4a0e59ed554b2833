-- smam 1.1: generated from sql/smam/*.sql by make; edit the fragments.
\echo Use "CREATE EXTENSION smam" to load this file. \quit

-- ---- sql/smam/00_foundation.sql ----
-- Foundation: group roles, types, and the C functions every later part uses.
-- Every identifier is schema-qualified: this script must mean the same thing
-- whatever search_path the installing session has.

COMMENT ON SCHEMA smam IS
  'smam: the Standard on Social Media Account Management (Government of Canada, 2013) inside PostgreSQL';

-- Group roles. They are cluster-wide and are not members of the extension:
-- they outlive DROP EXTENSION smam, so that grants made to them by a DBA and
-- memberships of login roles survive a reinstall.
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['smam_admin', 'smam_entity', 'smam_department',
                           'smam_tbs', 'smam_analyst', 'smam_public']
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;
END
$roles$;

-- The publishing worker's own role (src/worker.c): not a superuser, no
-- BYPASSRLS, only the grants and policies publishing needs (84_delivery).
-- LOGIN because PostgreSQL 15 starts a background worker only as a role
-- that may log in; it has no password, and docs/publishing.md gives the
-- pg_hba.conf line that refuses it to clients. Cluster-wide, as the others.
DO $worker$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) 'smam_worker') THEN
    CREATE ROLE smam_worker LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END
$worker$;

GRANT USAGE ON SCHEMA smam TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public,
  smam_worker;

-- The offices a principal can hold (section 6 and 7 of the Standard, plus
-- smam's own administrator). Departmental offices are held for one
-- department; the others for the whole government.
CREATE TYPE smam.office AS ENUM (
  'head_of_communications',   -- 6.1: approves strategy, plans, oversees the life cycle
  'designate',                -- 6.1: acts for a head of communications, by delegation
  'deputy_head',              -- 7.1, 8.1: monitors compliance, reports, corrects
  'department_staff',         -- prepares strategies, plans, submissions, content
  'entity_official',          -- 6.2: designated senior official of the entity
  'entity_reviewer',          -- 6.2.1: reviews submissions for the entity
  'tbs_analyst',              -- 7.2: Treasury Board of Canada Secretariat oversight
  'administrator'             -- runs smam: principals, appointments, departments
);
COMMENT ON TYPE smam.office IS 'Offices held by principals; departmental offices are held for one department';

-- Section 2.1: a department is subject to the Standard, or adopts it as
-- good practice.
CREATE TYPE smam.application AS ENUM ('subject', 'voluntary');
COMMENT ON TYPE smam.application IS 'Section 2.1: subject to the Standard (FAA department) or voluntary adoption';

-- The one place refusals become errors (src/refusal.c).
CREATE FUNCTION smam.refuse(sqlstate text, requirement text, message text,
                            detail text DEFAULT NULL, hint text DEFAULT NULL)
  RETURNS void LANGUAGE c VOLATILE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_refuse_sql';
COMMENT ON FUNCTION smam.refuse(text, text, text, text, text) IS
  'Raise a refusal: SQLSTATE, message, detail naming the requirement enforced, hint';

-- smam writes UTF-8 (the canada.ca feed, HTML entities, what platforms
-- answer): it is installed in UTF8 databases only.
DO $encoding$
BEGIN
  IF pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.<>) 'UTF8' THEN
    PERFORM smam.refuse('0A000', NULL,
      pg_catalog.format('smam needs a UTF8 database; this one is %s', pg_catalog.getdatabaseencoding()),
      'The index feed, its HTML escaping and the platforms'' answers are UTF-8; in another encoding smam would write text the database cannot read back.',
      'Install smam in a database created with ENCODING ''UTF8'', e.g. CREATE DATABASE smam TEMPLATE template0 ENCODING ''UTF8'' LOCALE ''C.UTF-8''.');
  END IF;
END
$encoding$;

CREATE FUNCTION smam.refuse_quietly(sqlstate text, requirement text, message text,
                                    detail text DEFAULT NULL, hint text DEFAULT NULL)
  RETURNS void LANGUAGE c VOLATILE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_refuse_quietly_sql';
COMMENT ON FUNCTION smam.refuse_quietly(text, text, text, text, text) IS
  'smam.refuse(), the statement kept out of the server log: for refusals of calls whose arguments are secrets';

CREATE FUNCTION smam.acting_role() RETURNS name
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_acting_role_sql';
COMMENT ON FUNCTION smam.acting_role() IS
  'The role acting in this session (login or SET ROLE), unchanged inside SECURITY DEFINER functions';

CREATE FUNCTION smam.time_zone() RETURNS text
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_time_zone_sql';
COMMENT ON FUNCTION smam.time_zone() IS 'The time zone in which smam reads dates (setting smam.time_zone)';

CREATE FUNCTION smam.today(at timestamptz DEFAULT pg_catalog.now()) RETURNS date
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT (at AT TIME ZONE smam.time_zone())::date $$;
COMMENT ON FUNCTION smam.today(timestamptz) IS 'The calendar date of a moment in smam.time_zone';

-- A moment as findings and frozen reports write it: in smam.time_zone, to the
-- second, whatever the reading session's TimeZone and DateStyle.
CREATE FUNCTION smam.moment_text(at timestamptz) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT to_char(at AT TIME ZONE smam.time_zone(), 'YYYY-MM-DD HH24:MI:SS') || ' ' || smam.time_zone() $$;
COMMENT ON FUNCTION smam.moment_text(timestamptz) IS
  'A moment written in smam.time_zone, to the second, with the zone''s name: the same text in every session';

-- A calendar date and a duration as findings and refusals write them: the
-- same text whatever the session's DateStyle and IntervalStyle. date_text
-- has no SET clause, so that it is inlined into the queries that call it.
CREATE FUNCTION smam.date_text(d date) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CASE WHEN pg_catalog.isfinite(d) THEN pg_catalog.to_char(d::pg_catalog.timestamp, 'YYYY-MM-DD')
                    ELSE d::pg_catalog.text END $$;
COMMENT ON FUNCTION smam.date_text(date) IS 'A date written YYYY-MM-DD in every session';
CREATE FUNCTION smam.interval_text(i interval) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET IntervalStyle = 'postgres'
  AS $$ SELECT i::pg_catalog.text $$;
COMMENT ON FUNCTION smam.interval_text(interval) IS
  'A duration written in IntervalStyle postgres (''30 days'', ''1 day 02:00:00'') in every session';

CREATE FUNCTION smam.normalize_url(url text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_normalize_url';
COMMENT ON FUNCTION smam.normalize_url(text) IS
  'Normal form of a URL: https, lower-case host, no fragment, trailing slash or tracking parameters; 22023 when it is no URL';

CREATE FUNCTION smam.url_problem(url text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_url_problem';
COMMENT ON FUNCTION smam.url_problem(text) IS
  'Why smam.normalize_url() would refuse this URL, or NULL when it would not';

CREATE FUNCTION smam.restoring_dump(rel regclass) RETURNS boolean
  LANGUAGE c VOLATILE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_restoring_dump_sql';
COMMENT ON FUNCTION smam.restoring_dump(regclass) IS
  'True while pg_dump''s script restores rows into the table: a superuser session acting as itself (no SECURITY DEFINER function on the stack), row_security off, the client''s statement a COPY FROM into this table. Guards let restored rows in';

CREATE FUNCTION smam.catalogue_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_catalogue_guard';
COMMENT ON FUNCTION smam.catalogue_guard() IS
  'Trigger: refuses changes to the catalogue of the Standard outside the extension scripts';

-- Offices (src/offices.c). They read smam.appointment, created further on.
CREATE FUNCTION smam.holds_office(role name, office smam.office, department bigint,
                                  at timestamptz DEFAULT NULL)
  RETURNS boolean LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_holds_office';
COMMENT ON FUNCTION smam.holds_office(name, smam.office, bigint, timestamptz) IS
  'Does the role hold the office for the department (NULL: government-wide) at the time (NULL: transaction start)? A designate holds head_of_communications within the delegation';

CREATE FUNCTION smam.my_departments(at timestamptz DEFAULT NULL) RETURNS bigint[]
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_my_departments';
COMMENT ON FUNCTION smam.my_departments(timestamptz) IS
  'Departments in which the acting role holds an office at the time (NULL: transaction start)';

CREATE FUNCTION smam.sees_all(at timestamptz DEFAULT NULL) RETURNS boolean
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_sees_all';
COMMENT ON FUNCTION smam.sees_all(timestamptz) IS
  'Does the acting role hold a government-wide office (entity, TBS, administrator) at the time?';

-- Why a role that held an office holds it no more: its term ended, or its
-- designation (or its delegator's term) did. The latest such appointment to
-- the office for the department (head_of_communications counts designations)
-- before the moment; no row when the role never held it. smam.appointment is
-- created further on: PL/pgSQL reads it when called.
CREATE FUNCTION smam.lapsed_office(role name, office smam.office, department bigint,
                                   at timestamptz DEFAULT pg_catalog.now())
  RETURNS TABLE (detail text, hint text)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  RETURN QUERY
    SELECT CASE WHEN a.office = 'designate'
                THEN format('Your designation by "%s" as head of communications of department %s %s %s.', d.principal,
                            a.department_id, CASE WHEN a.valid_until <= at THEN 'ended' ELSE 'ended with their term on' END,
                            smam.moment_text(least(a.valid_until, d.valid_until)))
                ELSE format('Your term as %s%s ended %s.', a.office,
                            CASE WHEN a.department_id IS NULL THEN '' ELSE ' of department ' || a.department_id END,
                            smam.moment_text(a.valid_until)) END,
           CASE WHEN a.office = 'designate'
                THEN format('Ask the head of communications of department %s to delegate to you again.', a.department_id)
                ELSE 'Ask an administrator of smam to renew your appointment.' END
      FROM smam.appointment a
      LEFT JOIN smam.appointment d ON d.id = a.delegated_by
     WHERE a.principal = role AND a.department_id IS NOT DISTINCT FROM department
       AND (a.office = lapsed_office.office OR (lapsed_office.office = 'head_of_communications' AND a.office = 'designate'))
       AND a.valid_from <= at AND (a.valid_until <= at OR d.valid_until <= at)
     ORDER BY least(a.valid_until, d.valid_until) DESC
     LIMIT 1;
END
$$;
COMMENT ON FUNCTION smam.lapsed_office(name, smam.office, bigint, timestamptz) IS
  'Why the role holds the office for the department no more (its term, or its designation, ended), with what to do; no row if it never held it';

-- Refuse unless the acting role holds the office (superusers pass, so that
-- the first administrator can be appointed).
CREATE FUNCTION smam.require_office(office smam.office, department bigint, requirement text,
                                    act text)
  RETURNS void LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  lapsed record;
BEGIN
  IF smam.holds_office(who, office, department) THEN
    RETURN;
  END IF;
  IF office = 'administrator' AND
     (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who) THEN
    RETURN;
  END IF;
  SELECT l.detail, l.hint INTO lapsed FROM smam.lapsed_office(who, office, department) l;
  PERFORM smam.refuse('42501', requirement,
    format('role "%s" may not %s', who, act),
    coalesce(lapsed.detail || ' ', '')
      || format('Only the office %s%s, held now, may %s.', office,
                CASE WHEN department IS NULL THEN '' ELSE format(' of department %s', department) END, act),
    coalesce(lapsed.hint,
             CASE WHEN office = 'administrator'
                  THEN 'Ask an administrator of smam to act, or to appoint you.'
                  ELSE format('Ask a holder of the office %s to act, or an administrator to appoint you.', office) END));
END
$$;
COMMENT ON FUNCTION smam.require_office(smam.office, bigint, text, text) IS
  'Refuse (42501) unless the acting role holds the office now; the detail names the requirement';

-- Authorization before state: does the acting role see the objects of a
-- department (a government-wide office, an office in that department, or a
-- superuser)? A NULL department (no such object) is seen by nobody.
CREATE FUNCTION smam.sees_department(department bigint) RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT department IS NOT NULL
       AND (smam.sees_all() OR department = ANY (smam.my_departments())
            OR coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = smam.acting_role()), false))
  $$;
COMMENT ON FUNCTION smam.sees_department(bigint) IS
  'Does the acting role see the objects of the department (government-wide office, an office in it, superuser)?';

-- Who reads compliance: government-wide offices, analysts (smam_analyst),
-- and departments for their own departments.
CREATE FUNCTION smam.reads_all_compliance() RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT smam.sees_all()
        OR pg_has_role(smam.acting_role(), 'smam_analyst', 'MEMBER')
        OR coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = smam.acting_role()), false)
  $$;
COMMENT ON FUNCTION smam.reads_all_compliance() IS
  'Does the acting role read every department''s compliance (entity, TBS, administrator, smam_analyst members)?';

-- The first thing a SECURITY DEFINER function does with an object it is
-- given: refuse, alike for an object that does not exist and for one of a
-- department the caller does not see, so that the refusal says nothing
-- about other departments' objects.
CREATE FUNCTION smam.require_visible(object text, id bigint, department bigint) RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  lapsed record;
BEGIN
  IF NOT smam.sees_department(department) THEN
    -- Someone who held an office in the department is told why they see it no more.
    SELECT l.detail, l.hint INTO lapsed
      FROM unnest(enum_range(NULL::smam.office)) o, smam.lapsed_office(smam.acting_role(), o, department) l
     WHERE department IS NOT NULL AND o IN ('head_of_communications', 'deputy_head', 'department_staff')
     LIMIT 1;
    IF lapsed.detail IS NOT NULL THEN
      PERFORM smam.refuse('42501', NULL, format('role "%s" holds no office in department %s now', smam.acting_role(), department),
        lapsed.detail || ' The objects of a department are visible to the holders of its offices.', lapsed.hint);
    END IF;
    PERFORM smam.refuse('42704', NULL, format('%s %s does not exist or is not visible to you', object, coalesce(id::text, 'NULL')),
      'The objects of a department are visible to the holders of its offices and of government-wide offices.',
      format('Check the %s''s number; you see those of the departments in which you hold an office.', object));
  END IF;
END
$$;
COMMENT ON FUNCTION smam.require_visible(text, bigint, bigint) IS
  'Refuse (42704 "does not exist or is not visible to you") unless the object exists and the acting role sees its department';

-- ---- sql/smam/10_catalogue.sql ----
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

-- ---- sql/smam/20_departments.sql ----
-- Departments (section 2). A department is subject to the Standard (2.1) or
-- adopts it voluntarily; the seven agents of Parliament of section 2.2 ship
-- as reference departments to which 7.1.2, 7.2 and 8.2 do not apply.

-- The key two spellings of one department's name share: case, spacing,
-- accents, typographic hyphens and apostrophes, a leading article and a
-- trailing "(ABBR)" set aside (src/import.c). Every lookup of a department
-- by name compares keys (sql/smam/70_index_import.sql).
CREATE FUNCTION smam.department_name_key(name text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_department_name_key';
COMMENT ON FUNCTION smam.department_name_key(text) IS
  'Comparison key of a department name: case, spaces, accents, hyphens and apostrophes, a leading article (the, le, la, les, l''), a trailing "(ABBR)" set aside';

CREATE SEQUENCE smam.department_id_seq;
CREATE TABLE smam.department (
  id                   bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.department_id_seq'),
  name_en              text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(name_en)) OPERATOR(pg_catalog.>) 0),
  name_fr              text CHECK (pg_catalog.length(pg_catalog.btrim(name_fr)) OPERATOR(pg_catalog.>) 0),
  -- Names are published (the index, its feeds): bounded, as canada.ca's are.
  CONSTRAINT department_name_en_length CHECK (pg_catalog.length(name_en) OPERATOR(pg_catalog.<=) 300),
  CONSTRAINT department_name_fr_length CHECK (pg_catalog.length(name_fr) OPERATOR(pg_catalog.<=) 300),
  name_en_key          text GENERATED ALWAYS AS (smam.department_name_key(name_en)) STORED,
  name_fr_key          text GENERATED ALWAYS AS (smam.department_name_key(name_fr)) STORED,
  gc_org_id            integer UNIQUE CHECK (gc_org_id OPERATOR(pg_catalog.>) 0),
  application          smam.application NOT NULL DEFAULT 'subject',
  agent_of_parliament  boolean NOT NULL DEFAULT false,
  shipped              boolean NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
  -- Set by smam.merge_departments() only: the department this one turned out
  -- to be (or joined), and when. A merged department keeps its history.
  merged_into          bigint REFERENCES smam.department (id),
  merged_at            timestamptz,
  CHECK (NOT agent_of_parliament OR shipped),
  CHECK ((merged_into IS NULL) = (merged_at IS NULL)),
  CHECK (merged_into IS DISTINCT FROM id)
);
ALTER SEQUENCE smam.department_id_seq OWNED BY smam.department.id;
CREATE UNIQUE INDEX department_name_en_key ON smam.department (pg_catalog.lower(name_en));
CREATE UNIQUE INDEX department_name_fr_key ON smam.department (pg_catalog.lower(name_fr));
COMMENT ON TABLE smam.department IS 'Departments (section 2): subject to the Standard or voluntary; agents of Parliament ship';
CREATE INDEX department_name_en_key_idx ON smam.department (name_en_key);
CREATE INDEX department_name_fr_key_idx ON smam.department (name_fr_key);
COMMENT ON COLUMN smam.department.name_en_key IS 'smam.department_name_key(name_en): how the English name is compared';
COMMENT ON COLUMN smam.department.name_fr_key IS 'smam.department_name_key(name_fr): how the French name is compared';
COMMENT ON COLUMN smam.department.gc_org_id IS 'The Government of Canada organization id (gc_orgID of the canada.ca index)';
COMMENT ON COLUMN smam.department.application IS 'Section 2.1: subject (FAA department) or voluntary adoption';
COMMENT ON COLUMN smam.department.agent_of_parliament IS 'Section 2.2: 7.1.2, 7.2 and 8.2 do not apply; shipped rows only';
COMMENT ON COLUMN smam.department.merged_into IS
  'The department this one was merged into (smam.merge_departments); its names are then that department''s aliases. NULL: a department in its own right';
COMMENT ON COLUMN smam.department.merged_at IS 'When it was merged; findings and reports count it as a department until then';
COMMENT ON COLUMN smam.department.shipped IS 'Shipped with smam (read-only); false for the installation''s own departments';

-- Shipped rows are numbered from the far end so that they never meet the
-- sequence of the installation's own departments, and keep their ids across
-- dump and restore (they are not dumped: the extension script makes them).
-- They keep their history too: known to smam from the Standard's effective
-- date (1.1, 2013-04-01), not from the moment the extension was created,
-- which a restore would move (and with it every finding and report as of a
-- moment before the restore).
INSERT INTO smam.department (id, name_en, name_fr, application, agent_of_parliament, shipped, created_at)
SELECT v.id, v.name_en, v.name_fr, 'subject', true, true, TIMESTAMPTZ '2013-04-01 00:00:00-04'
  FROM (VALUES
  (-1, 'Office of the Auditor General of Canada', 'Bureau du vérificateur général du Canada'),
  (-2, 'Office of the Privacy Commissioner of Canada', 'Commissariat à la protection de la vie privée du Canada'),
  (-3, 'Office of the Information Commissioner of Canada', 'Commissariat à l''information du Canada'),
  (-4, 'Office of the Chief Electoral Officer', 'Bureau du directeur général des élections'),
  (-5, 'Office of the Commissioner of Lobbying of Canada', 'Commissariat au lobbying du Canada'),
  (-6, 'Office of the Commissioner of Official Languages', 'Commissariat aux langues officielles'),
  (-7, 'Office of the Public Sector Integrity Commissioner of Canada', 'Commissariat à l''intégrité du secteur public du Canada'))
  v(id, name_en, name_fr);

-- A merged department keeps its history, and nothing new: what is done now
-- is done in the department it joined.
-- The row is locked (FOR KEY SHARE): a merge under way (which holds it FOR
-- UPDATE) is waited for, and its outcome read, so that nothing new lands in
-- a department merged meanwhile.
CREATE FUNCTION smam.refuse_merged_department(department bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  survivor bigint;
BEGIN
  SELECT d.merged_into INTO survivor FROM smam.department d WHERE d.id = department FOR KEY SHARE;
  IF survivor IS NOT NULL THEN
    PERFORM smam.refuse('55000', '6.2.4', format('department %s was merged into department %s', department, survivor),
      'A merged department keeps its history; its accounts, strategies, plans and offices are now the other department''s.',
      format('Act for department %s.', survivor));
  END IF;
END
$$;
COMMENT ON FUNCTION smam.refuse_merged_department(bigint) IS
  'Refuse (55000) when the department was merged into another (smam.merge_departments); nothing for NULL or a department in its own right';

-- The department a record made in a department stands for at a moment: the
-- department it was merged into, from the merge on (records keep the id of
-- the department they were made in; findings count for the one that is).
CREATE FUNCTION smam.department_at(department bigint, at timestamptz) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce((SELECT d.merged_into FROM smam.department d
                      WHERE d.id = department_at.department AND d.merged_at <= department_at.at),
                    department_at.department)
  $$;
COMMENT ON FUNCTION smam.department_at(bigint, timestamptz) IS
  'The department a record of this department counts for at a moment: the one it was merged into, from the merge on';

CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.department
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();

-- A merged department keeps its names, application and history as they
-- were: only smam.merge_departments() changes its row (to point it at the
-- department its survivor is merged into, in turn). An administrator's
-- UPDATE of its names or gc_orgID, or an import under way when it was
-- merged, is refused.
CREATE FUNCTION smam.merged_department_guard() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF OLD.merged_into IS NOT NULL
     AND (NEW.name_en, NEW.name_fr, NEW.gc_org_id, NEW.application, NEW.agent_of_parliament, NEW.merged_at)
         IS DISTINCT FROM (OLD.name_en, OLD.name_fr, OLD.gc_org_id, OLD.application, OLD.agent_of_parliament, OLD.merged_at) THEN
    PERFORM smam.refuse('55000', '6.2.4', format('department %s was merged into department %s', OLD.id, OLD.merged_into),
      'A merged department keeps its names and history as they were; its names are now the other department''s aliases.',
      format('Change department %s instead.', OLD.merged_into));
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION smam.merged_department_guard() IS
  'Trigger: refuses changes to a merged department''s row but the re-pointing smam.merge_departments makes';
CREATE TRIGGER merged_department_guard BEFORE UPDATE ON smam.department
  FOR EACH ROW EXECUTE FUNCTION smam.merged_department_guard();

-- A department by any of its names (either language, any case) or its
-- gc_orgID (also as the index writes it, "2284.0"). PL/pgSQL: it reads
-- smam.department_org_alias (sql/smam/70_index_import.sql), made later.
CREATE FUNCTION smam.find_department(name_or_id text) RETURNS bigint
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  RETURN (
    SELECT x.id FROM (
      SELECT coalesce(d.merged_into, d.id) AS id, d.id AS o FROM smam.department d
       WHERE lower(btrim(name_or_id)) IN (lower(d.name_en), lower(d.name_fr))
          OR (btrim(name_or_id) ~ E'^[0-9]+(\\.0+)?$'
              AND d.gc_org_id = split_part(btrim(name_or_id), '.', 1)::numeric)
      UNION ALL
      -- a further gc_orgID of a department (one merged into it, say)
      SELECT o.department_id, o.department_id FROM smam.department_org_alias o
       WHERE btrim(name_or_id) ~ E'^[0-9]+(\\.0+)?$'
         AND o.gc_org_id = split_part(btrim(name_or_id), '.', 1)::numeric) x
     ORDER BY x.o LIMIT 1);
END
$$;
COMMENT ON FUNCTION smam.find_department(text) IS
  'The department known by this English or French name (any case) or gc_orgID, its own or a further one (a merged department: the one it was merged into); NULL if none';

CREATE FUNCTION smam.add_department(name_en text, name_fr text DEFAULT NULL,
                                    application smam.application DEFAULT 'subject',
                                    gc_org_id integer DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  existing bigint;
  new_id bigint;
BEGIN
  PERFORM smam.require_office('administrator', NULL, NULL, 'add a department');
  IF name_en IS NULL OR btrim(name_en) = '' THEN
    PERFORM smam.refuse('22023', '2.1', 'a department needs its English name',
      'Section 2.1 applies the Standard to departments by name.',
      'Give the department''s English name, and its French name if it has one.');
  END IF;
  IF length(btrim(name_en)) > 300 OR length(btrim(name_fr)) > 300 THEN
    PERFORM smam.refuse('22001', '6.2.4', 'a department''s name is at most 300 characters',
      format('The name given has %s characters; names are published in the index of official accounts.',
             greatest(length(btrim(name_en)), length(btrim(name_fr)))),
      'Give the department''s name as it is published.');
  END IF;
  existing := coalesce(smam.find_department(name_en), smam.find_department(name_fr),
                       (SELECT d.id FROM smam.department d WHERE d.gc_org_id = add_department.gc_org_id));
  IF existing IS NOT NULL THEN
    PERFORM smam.refuse('23505', NULL,
      format('department "%s" already exists', name_en),
      format('Department %s has this name or gc_orgID.', existing),
      'Use the existing department, or give a distinct name.');
  END IF;
  INSERT INTO smam.department (name_en, name_fr, application, gc_org_id)
  VALUES (btrim(name_en), nullif(btrim(name_fr), ''), application, gc_org_id)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.add_department(text, text, smam.application, integer) IS
  'Add a department (administrator); refuses a name or gc_orgID already known';

ALTER TABLE smam.department ENABLE ROW LEVEL SECURITY;
CREATE POLICY department_read ON smam.department FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY department_admin_update ON smam.department FOR UPDATE TO smam_admin
  USING ((SELECT smam.holds_office(smam.acting_role(), 'administrator', NULL)))
  WITH CHECK ((SELECT smam.holds_office(smam.acting_role(), 'administrator', NULL)));
GRANT SELECT ON smam.department TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT UPDATE (name_en, name_fr, gc_org_id, application) ON smam.department TO smam_admin;
GRANT EXECUTE ON FUNCTION smam.find_department(text) TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.add_department(text, text, smam.application, integer) TO smam_admin;

SELECT pg_catalog.pg_extension_config_dump('smam.department', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('smam.department_id_seq', '');

-- ---- sql/smam/30_platforms.sql ----
-- Social media platforms: the platforms of the real canada.ca index, the
-- spellings seen for them, the hosts their pages live on, and the shape of
-- an account's URL on each, so that a URL can be checked and normalized.
-- Shipped rows are read-only; the entity may add platforms (6.2.3).

CREATE TABLE smam.platform (
  code                  text PRIMARY KEY CHECK (code OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]*$'),
  name                  text NOT NULL UNIQUE,
  canonical_host        text NOT NULL,
  account_path_pattern  text NOT NULL,
  path_rewrites         text[] NOT NULL DEFAULT '{}'
                        CHECK (coalesce(pg_catalog.array_length(path_rewrites, 1), 0) OPERATOR(pg_catalog.%) 2 OPERATOR(pg_catalog.=) 0),
  example_url           text NOT NULL,
  shipped               boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE smam.platform IS 'Social media platforms and the shape of an account''s URL on each';
COMMENT ON COLUMN smam.platform.account_path_pattern IS
  'Regular expression the path (and query) of an account''s canonical URL matches';
COMMENT ON COLUMN smam.platform.path_rewrites IS
  'Pairs {pattern, replacement} applied in order to a path before the check: sub-pages, stray queries';

CREATE TABLE smam.platform_host (
  host      text PRIMARY KEY CHECK (host OPERATOR(pg_catalog.=) pg_catalog.lower(host)),
  platform  text NOT NULL REFERENCES smam.platform (code),
  shipped   boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE smam.platform_host IS 'Hosts on which a platform serves account pages (twitter.com is X)';

CREATE TABLE smam.platform_alias (
  alias     text PRIMARY KEY,
  platform  text NOT NULL REFERENCES smam.platform (code),
  shipped   boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX platform_alias_lower_key ON smam.platform_alias (pg_catalog.lower(alias));
COMMENT ON TABLE smam.platform_alias IS 'Names a platform goes by, matched without regard to case (Intagram, twitter)';

INSERT INTO smam.platform (code, name, canonical_host, account_path_pattern, path_rewrites, example_url, shipped) VALUES
  ('facebook', 'Facebook', 'www.facebook.com',
   E'^/(profile\\.php\\?id=[0-9]+|pages/[^/?]+/[0-9]+|people/[^/?]+/[0-9]+|groups/[^/?]+|([A-Za-z0-9.\\-]|%[0-9A-F]{2})+)$',
   ARRAY['^/pg/', '/',
         E'^/(?!profile\\.php)([^?]*)\\?.*$', E'/\\1',
         '/(about|posts|photos|videos|timeline|community|home|info|reviews|events)$', ''],
   'https://www.facebook.com/CanadianPM', true),
  ('x', 'X', 'x.com', '^/[A-Za-z0-9_]{1,15}$',
   ARRAY[E'\\?.*$', '', '^/@', '/', '/(with_replies|media|likes|highlights)$', ''],
   'https://x.com/CanadianPM', true),
  ('instagram', 'Instagram', 'www.instagram.com', '^/[A-Za-z0-9._]{1,30}$',
   ARRAY[E'\\?.*$', '', '/(reels|tagged|guides)$', ''],
   'https://www.instagram.com/canadianpm', true),
  ('youtube', 'YouTube', 'www.youtube.com',
   E'^/(@([A-Za-z0-9._\\-]|%[0-9A-F]{2}){3,90}|channel/UC[A-Za-z0-9_\\-]{22}|user/[A-Za-z0-9._\\-]+|c/[^/?]+|(?!(watch|results|playlist|feed|embed|shorts|live|redirect|t|hashtag)$)[A-Za-z0-9]+)$',
   ARRAY[E'\\?.*$', '', '/(featured|videos|about|streams|playlists|shorts|community|channels|home)$', ''],
   'https://www.youtube.com/@CanadianPM', true),
  ('linkedin', 'LinkedIn', 'www.linkedin.com', '^/(company|showcase|school|in|groups)/[^/?]+$',
   ARRAY[E'\\?.*$', '', '^(/(company|showcase|school)/[^/]+)/admin(/.*)?$', E'\\1',
         '/(about|posts|mycompany|people|jobs|life|videos)$', ''],
   'https://www.linkedin.com/company/privy-council-office', true),
  ('flickr', 'Flickr', 'www.flickr.com', '^/(photos|people|groups)/[^/?]+$',
   ARRAY[E'\\?.*$', '', '/(albums|favorites|galleries)$', ''],
   'https://www.flickr.com/photos/canadianarmy', true);

INSERT INTO smam.platform_host (host, platform, shipped) VALUES
  ('facebook.com', 'facebook', true), ('www.facebook.com', 'facebook', true),
  ('m.facebook.com', 'facebook', true), ('web.facebook.com', 'facebook', true),
  ('mobile.facebook.com', 'facebook', true), ('fr-ca.facebook.com', 'facebook', true),
  ('x.com', 'x', true), ('www.x.com', 'x', true), ('mobile.x.com', 'x', true),
  ('twitter.com', 'x', true), ('www.twitter.com', 'x', true), ('mobile.twitter.com', 'x', true),
  ('instagram.com', 'instagram', true), ('www.instagram.com', 'instagram', true),
  ('m.instagram.com', 'instagram', true),
  ('youtube.com', 'youtube', true), ('www.youtube.com', 'youtube', true),
  ('m.youtube.com', 'youtube', true),
  ('linkedin.com', 'linkedin', true), ('www.linkedin.com', 'linkedin', true),
  ('ca.linkedin.com', 'linkedin', true), ('fr.linkedin.com', 'linkedin', true),
  ('flickr.com', 'flickr', true), ('www.flickr.com', 'flickr', true), ('m.flickr.com', 'flickr', true);

-- Names and the spellings seen in the canada.ca index (x, Youtube, Linkedin
-- match their platform's name without regard to case; Intagram and twitter
-- are spellings of their own).
INSERT INTO smam.platform_alias (alias, platform, shipped) VALUES
  ('Facebook', 'facebook', true), ('X', 'x', true), ('Twitter', 'x', true),
  ('Instagram', 'instagram', true), ('Intagram', 'instagram', true),
  ('YouTube', 'youtube', true), ('LinkedIn', 'linkedin', true), ('Flickr', 'flickr', true);

CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.platform
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.platform_host
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.platform_alias
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();

-- The platform a name stands for, or NULL.
CREATE FUNCTION smam.platform_of(name text) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce(
      (SELECT p.code FROM smam.platform p WHERE p.code = lower(btrim(platform_of.name))),
      (SELECT a.platform FROM smam.platform_alias a WHERE lower(a.alias) = lower(btrim(platform_of.name))))
  $$;
COMMENT ON FUNCTION smam.platform_of(text) IS 'The platform code a name or spelling stands for (Youtube, Intagram, twitter), or NULL';

-- Check an account's URL, never raising: the platform, the canonical URL,
-- its comparison key and handle, or the problem that stops it.
CREATE FUNCTION smam.check_account_url(url text, platform text DEFAULT NULL,
                                       OUT platform_code text, OUT canonical_url text,
                                       OUT url_key text, OUT handle text, OUT problem text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  normal text;
  url_host text;
  rest text;
  p smam.platform;
  wanted text;
BEGIN
  IF url IS NULL THEN
    problem := 'The URL is missing.';
    RETURN;
  END IF;
  problem := smam.url_problem(url);
  IF problem IS NOT NULL THEN
    RETURN;
  END IF;
  normal := smam.normalize_url(url);
  url_host := substring(normal FROM '^https://([^/:?]+)');
  rest := substring(normal FROM '^https://[^/?]+(.*)$');
  SELECT pl.* INTO p FROM smam.platform_host h JOIN smam.platform pl ON pl.code = h.platform
   WHERE h.host = url_host;
  IF NOT FOUND THEN
    problem := format('The host %s is not the host of a known platform.', url_host);
    RETURN;
  END IF;
  platform_code := p.code;
  IF platform IS NOT NULL THEN
    wanted := smam.platform_of(platform);
    IF wanted IS NULL THEN
      problem := format('"%s" is not a known platform.', platform);
      RETURN;
    ELSIF wanted <> p.code THEN
      problem := format('The URL is an address on %s, not on %s.', p.name,
                        (SELECT pl.name FROM smam.platform pl WHERE pl.code = wanted));
      RETURN;
    END IF;
  END IF;
  FOR i IN 1 .. coalesce(array_length(p.path_rewrites, 1), 0) / 2 LOOP
    rest := regexp_replace(rest, p.path_rewrites[2 * i - 1], p.path_rewrites[2 * i]);
  END LOOP;
  IF rest !~ p.account_path_pattern THEN
    problem := format('The address %s does not have the shape of an account on %s, such as %s.',
                      normal, p.name, p.example_url);
    RETURN;
  END IF;
  canonical_url := 'https://' || p.canonical_host || rest;
  url_key := lower(canonical_url);
  handle := substr(rest, 2);
END
$$;
COMMENT ON FUNCTION smam.check_account_url(text, text) IS
  'Check an account URL (optionally for a platform): canonical URL, lower-case comparison key and handle, or the problem';

-- The canonical URL of an account, or a refusal (22023).
CREATE FUNCTION smam.account_url(url text, platform text DEFAULT NULL) RETURNS text
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c record;
BEGIN
  c := smam.check_account_url(url, platform);
  IF c.problem IS NOT NULL THEN
    PERFORM smam.refuse('22023', '6.2.4',
      format('invalid account URL "%s"', url), c.problem,
      'Give the address of the account''s own page, as listed in the index of official accounts.');
  END IF;
  RETURN c.canonical_url;
END
$$;
COMMENT ON FUNCTION smam.account_url(text, text) IS 'The canonical URL of an account on a platform, or a refusal (22023)';

ALTER TABLE smam.platform ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.platform_host ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.platform_alias ENABLE ROW LEVEL SECURITY;
CREATE POLICY platform_read ON smam.platform FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
CREATE POLICY platform_host_read ON smam.platform_host FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
CREATE POLICY platform_alias_read ON smam.platform_alias FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public USING (true);
GRANT SELECT ON smam.platform, smam.platform_host, smam.platform_alias
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.platform_of(text), smam.check_account_url(text, text),
  smam.account_url(text, text), smam.normalize_url(text), smam.url_problem(text)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.platform', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('smam.platform_host', 'WHERE NOT shipped');
SELECT pg_catalog.pg_extension_config_dump('smam.platform_alias', 'WHERE NOT shipped');

-- ---- sql/smam/40_people.sql ----
-- People and offices. A principal is a PostgreSQL role known to smam; an
-- appointment gives a principal an office, for a department or for the
-- whole government, over a term. smam.holds_office() reads them.

CREATE TABLE smam.principal (
  role_name      text PRIMARY KEY,
  display_name   text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(display_name)) OPERATOR(pg_catalog.>) 0),
  email          text NOT NULL CHECK (email OPERATOR(pg_catalog.~) E'^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$'),
  department_id  bigint REFERENCES smam.department (id),
  active         boolean NOT NULL DEFAULT true,
  registered_by  name NOT NULL DEFAULT smam.acting_role(),
  registered_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX principal_email_key ON smam.principal (pg_catalog.lower(email));
COMMENT ON TABLE smam.principal IS 'PostgreSQL roles known to smam, with name, e-mail and home department';
COMMENT ON COLUMN smam.principal.active IS 'An inactive principal holds no office, whatever the appointments say';

CREATE SEQUENCE smam.appointment_id_seq;
CREATE TABLE smam.appointment (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.appointment_id_seq'),
  principal      text NOT NULL REFERENCES smam.principal (role_name),
  office         smam.office NOT NULL,
  department_id  bigint REFERENCES smam.department (id),
  valid_from     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  valid_until    timestamptz,
  delegated_by   bigint REFERENCES smam.appointment (id),
  note           text,
  appointed_by   name NOT NULL DEFAULT smam.acting_role(),
  appointed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  ended_by       name,
  ended_reason   text,
  CHECK (valid_until IS NULL OR valid_until OPERATOR(pg_catalog.>) valid_from)
);
ALTER SEQUENCE smam.appointment_id_seq OWNED BY smam.appointment.id;
CREATE INDEX appointment_principal_idx ON smam.appointment (principal, valid_from);
CREATE INDEX appointment_department_idx ON smam.appointment (department_id, office);
CREATE INDEX appointment_delegated_by_idx ON smam.appointment (delegated_by);
COMMENT ON TABLE smam.appointment IS 'Offices held by principals over a term [valid_from, valid_until)';
COMMENT ON COLUMN smam.appointment.delegated_by IS 'For a designate: the head of communications'' appointment that delegates';

CREATE FUNCTION smam.appointment_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_appointment_guard';
COMMENT ON FUNCTION smam.appointment_guard() IS
  'Trigger: offices held for the right scope, designations within the delegator''s term, no overlaps';
CREATE TRIGGER appointment_guard BEFORE INSERT OR UPDATE ON smam.appointment
  FOR EACH ROW EXECUTE FUNCTION smam.appointment_guard();

-- Register a role as a principal (administrator).
CREATE FUNCTION smam.register_principal(role name, display_name text, email text,
                                        department bigint DEFAULT NULL)
  RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM smam.require_office('administrator', NULL, NULL, 'register a principal');
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = role) THEN
    PERFORM smam.refuse('42704', NULL, format('role "%s" does not exist', role),
      'A principal is a PostgreSQL role known to smam.',
      format('Create the role first: CREATE ROLE %I LOGIN;', role));
  END IF;
  IF EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = role) THEN
    PERFORM smam.refuse('23505', NULL, format('role "%s" is already a principal', role), NULL,
      'Update the existing principal instead.');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.principal p WHERE lower(p.email) = lower(register_principal.email)) THEN
    PERFORM smam.refuse('23505', NULL, format('e-mail address "%s" belongs to another principal', email), NULL,
      'Each principal has an e-mail address of their own.');
  END IF;
  IF email IS NULL OR email !~ E'^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$' THEN
    PERFORM smam.refuse('22023', NULL, format('"%s" is not an e-mail address', email), NULL,
      'Give an address such as jane.doe@canada.ca.');
  END IF;
  IF department IS NOT NULL AND NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department(), or add it with smam.add_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  INSERT INTO smam.principal (role_name, display_name, email, department_id)
  VALUES (role, btrim(display_name), btrim(email), department);
  RETURN role;
END
$$;
COMMENT ON FUNCTION smam.register_principal(name, text, text, bigint) IS
  'Make an existing PostgreSQL role known to smam as a principal (administrator)';

-- Appoint a principal to an office (administrator).
CREATE FUNCTION smam.appoint(role name, office smam.office, department bigint DEFAULT NULL,
                             valid_from timestamptz DEFAULT pg_catalog.now(),
                             valid_until timestamptz DEFAULT NULL, note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_office('administrator', NULL, NULL, 'appoint to an office');
  IF office = 'designate' THEN
    PERFORM smam.refuse('22023', '6.1', 'a designate is delegated, not appointed',
      'Section 6.1 gives designates the responsibilities of the head of communications who delegates to them.',
      'The head of communications delegates with smam.delegate().');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = role) THEN
    PERFORM smam.refuse('42704', NULL, format('role "%s" is not a principal', role), NULL,
      'Register it first with smam.register_principal().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until, note)
  VALUES (role, office, department, coalesce(valid_from, now()), valid_until, note)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.appoint(name, smam.office, bigint, timestamptz, timestamptz, text) IS
  'Appoint a principal to an office for a department or government-wide over a term (administrator)';

-- A head of communications delegates to a designate, within their own term.
CREATE FUNCTION smam.delegate(designate name, valid_until timestamptz,
                              department bigint DEFAULT NULL,
                              valid_from timestamptz DEFAULT pg_catalog.now(), note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  head smam.appointment;
  new_id bigint;
BEGIN
  SELECT a.* INTO head FROM smam.appointment a
   WHERE a.principal = who AND a.office = 'head_of_communications'
     AND (department IS NULL OR a.department_id = department)
     AND a.valid_from <= now() AND (a.valid_until IS NULL OR a.valid_until > now())
   ORDER BY a.valid_from DESC LIMIT 1;
  IF NOT FOUND OR NOT smam.holds_office(who, 'head_of_communications', head.department_id) THEN
    PERFORM smam.refuse('42501', '6.1', format('role "%s" may not delegate', who),
      'Only a head of communications in office delegates to a designate; a designate does not delegate further.',
      'Ask the department''s head of communications to delegate.');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = designate) THEN
    PERFORM smam.refuse('42704', NULL, format('role "%s" is not a principal', designate), NULL,
      'Ask an administrator to register it with smam.register_principal().');
  END IF;
  PERFORM smam.refuse_merged_department(head.department_id);
  INSERT INTO smam.appointment (principal, office, department_id, valid_from, valid_until,
                                delegated_by, note)
  VALUES (designate, 'designate', head.department_id, coalesce(valid_from, now()), valid_until,
          head.id, note)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.delegate(name, timestamptz, bigint, timestamptz, text) IS
  'The acting head of communications delegates to a designate, never beyond their own term (6.1)';

-- End an appointment early. Designations made by an ending head of
-- communications end with it.
CREATE FUNCTION smam.end_appointment(appointment bigint, reason text,
                                     at timestamptz DEFAULT pg_catalog.now())
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  a smam.appointment;
  who name := smam.acting_role();
BEGIN
  SELECT * INTO a FROM smam.appointment x WHERE x.id = appointment;
  IF NOT FOUND OR NOT (a.principal = who OR smam.sees_all()
                       OR coalesce(a.department_id = ANY (smam.my_departments()), false)
                       OR coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = who), false)) THEN
    PERFORM smam.refuse('42704', NULL, format('appointment %s does not exist or is not visible to you', appointment),
      'Appointments are visible to their holder, to the holders of offices in their department and of government-wide offices.',
      'List the appointments you see in smam.appointment.');
  END IF;
  SELECT * INTO a FROM smam.appointment x WHERE x.id = appointment FOR UPDATE;
  IF NOT (smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)
          OR (a.office = 'designate' AND EXISTS (
                SELECT 1 FROM smam.appointment d WHERE d.id = a.delegated_by AND d.principal = who))) THEN
    PERFORM smam.refuse('42501', NULL, format('role "%s" may not end appointment %s', who, appointment),
      'An administrator ends appointments; a head of communications ends the designations they made.',
      'Ask an administrator of smam.');
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    PERFORM smam.refuse('22023', NULL, 'ending an appointment needs a reason', NULL,
      'Say why the appointment ends, for the record.');
  END IF;
  IF at <= a.valid_from THEN
    PERFORM smam.refuse('22023', NULL, format('appointment %s cannot end before it begins', appointment),
      format('It begins %s.', smam.moment_text(a.valid_from)), 'Give an end after its start.');
  END IF;
  IF a.valid_until IS NOT NULL AND a.valid_until <= at THEN
    PERFORM smam.refuse('55000', NULL, format('appointment %s has already ended', appointment),
      format('It ended %s.', smam.moment_text(a.valid_until)), NULL);
  END IF;
  -- Designations first, so that none outlasts the delegator's new term.
  UPDATE smam.appointment d
     SET valid_until = greatest(at, d.valid_from + interval '1 microsecond'),
         ended_by = who, ended_reason = format('delegator''s appointment %s ended: %s', a.id, reason)
   WHERE d.delegated_by = a.id AND (d.valid_until IS NULL OR d.valid_until > at);
  UPDATE smam.appointment x SET valid_until = at, ended_by = who, ended_reason = reason
   WHERE x.id = a.id;
END
$$;
COMMENT ON FUNCTION smam.end_appointment(bigint, text, timestamptz) IS
  'End an appointment at a moment with a reason; its designations end with it';

-- Who holds which office now.
CREATE VIEW smam.office_holder WITH (security_invoker = true) AS
  SELECT a.id AS appointment, a.principal, p.display_name, p.email, a.office,
         a.department_id, d.name_en AS department_en, d.name_fr AS department_fr,
         a.valid_from, a.valid_until, a.delegated_by,
         smam.moment_text(a.valid_from) AS valid_from_text, smam.moment_text(a.valid_until) AS valid_until_text
    FROM smam.appointment a
    JOIN smam.principal p ON p.role_name OPERATOR(pg_catalog.=) a.principal
    LEFT JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) a.department_id
   WHERE p.active
     AND a.valid_from OPERATOR(pg_catalog.<=) pg_catalog.now()
     AND (a.valid_until IS NULL OR a.valid_until OPERATOR(pg_catalog.>) pg_catalog.now())
     AND smam.holds_office(a.principal::name, a.office, a.department_id);
COMMENT ON VIEW smam.office_holder IS 'Offices held now (designates only while their delegator is in office)';
COMMENT ON COLUMN smam.office_holder.valid_from_text IS
  'When the term began, written in smam.time_zone as refusals write moments (valid_from is shown in the session''s time zone)';
COMMENT ON COLUMN smam.office_holder.valid_until_text IS
  'When the term ends (NULL: open), written in smam.time_zone as refusals write moments';

ALTER TABLE smam.principal ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.appointment ENABLE ROW LEVEL SECURITY;
CREATE POLICY principal_read ON smam.principal FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (role_name OPERATOR(pg_catalog.=) (SELECT smam.acting_role())::text
         OR (SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY appointment_read ON smam.appointment FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (principal OPERATOR(pg_catalog.=) (SELECT smam.acting_role())::text
         OR (SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.principal, smam.appointment, smam.office_holder
  TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.register_principal(name, text, text, bigint),
  smam.appoint(name, smam.office, bigint, timestamptz, timestamptz, text) TO smam_admin;
GRANT EXECUTE ON FUNCTION smam.end_appointment(bigint, text, timestamptz) TO smam_admin, smam_department;
GRANT EXECUTE ON FUNCTION smam.delegate(name, timestamptz, bigint, timestamptz, text) TO smam_department;
GRANT EXECUTE ON FUNCTION smam.holds_office(name, smam.office, bigint, timestamptz),
  smam.my_departments(timestamptz), smam.sees_all(timestamptz), smam.acting_role(),
  smam.require_office(smam.office, bigint, text, text), smam.refuse(text, text, text, text, text),
  smam.lapsed_office(name, smam.office, bigint, timestamptz),
  smam.time_zone(), smam.today(timestamptz), smam.moment_text(timestamptz), smam.date_text(date),
  smam.interval_text(interval)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.principal', '');
SELECT pg_catalog.pg_extension_config_dump('smam.appointment', '');
SELECT pg_catalog.pg_extension_config_dump('smam.appointment_id_seq', '');

-- ---- sql/smam/50_administration.sql ----
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

-- ---- sql/smam/60_accounts.sql ----
-- Official social media accounts (appendix: "an account on a social media
-- platform used for official Government of Canada purposes"). The life
-- cycle of 6.1.2 is the column stage; the rules that move it live in C.

CREATE TYPE smam.stage AS ENUM (
  'planning', 'creation', 'configuration', 'implementation', 'evaluation', 'disposition', 'disposed');
COMMENT ON TYPE smam.stage IS 'Requirement 6.1.2: the life cycle of an official social media account';

CREATE TYPE smam.official_language AS ENUM ('english', 'french', 'bilingual');
COMMENT ON TYPE smam.official_language IS 'The official language(s) an account publishes in';

CREATE SEQUENCE smam.account_id_seq;
CREATE TABLE smam.account (
  id                 bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_id_seq'),
  department_id      bigint NOT NULL REFERENCES smam.department (id),
  platform           text NOT NULL REFERENCES smam.platform (code),
  plan_id            bigint,
  handle             text NOT NULL,
  url                text NOT NULL,
  url_key            text NOT NULL,
  name_en            text,
  name_fr            text,
  official_language  smam.official_language NOT NULL,
  purpose            text,
  configuration      jsonb NOT NULL DEFAULT '{}',
  stage              smam.stage NOT NULL DEFAULT 'planning',
  stage_changed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  listed_on          date,
  onboarded          boolean NOT NULL DEFAULT false,
  onboarded_reason   text,
  created_by         name NOT NULL DEFAULT smam.acting_role(),
  created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
  stage_note         text,
  plan_attached_at   timestamptz,
  CHECK (name_en IS NOT NULL OR name_fr IS NOT NULL),
  -- What the index publishes is bounded (smam.account_text_problem).
  CONSTRAINT account_name_en_length CHECK (pg_catalog.length(name_en) OPERATOR(pg_catalog.<=) 200),
  CONSTRAINT account_name_fr_length CHECK (pg_catalog.length(name_fr) OPERATOR(pg_catalog.<=) 200),
  CONSTRAINT account_url_length CHECK (pg_catalog.length(url) OPERATOR(pg_catalog.<=) 2048),
  CHECK (NOT onboarded OR onboarded_reason IS NOT NULL)
);
ALTER SEQUENCE smam.account_id_seq OWNED BY smam.account.id;
-- One account per address among those not disposed of.
CREATE UNIQUE INDEX account_url_key_live ON smam.account (url_key)
  WHERE stage OPERATOR(pg_catalog.<>) 'disposed'::smam.stage;
CREATE INDEX account_department_idx ON smam.account (department_id, stage);
COMMENT ON TABLE smam.account IS 'Official social media accounts and their life-cycle stage (6.1.2)';
COMMENT ON COLUMN smam.account.url IS 'Canonical URL (smam.check_account_url)';
COMMENT ON COLUMN smam.account.url_key IS 'Lower-case canonical URL: two rows with the same key are the same account';
COMMENT ON COLUMN smam.account.listed_on IS 'Date the account was first listed in the index of official accounts (6.2.4)';
COMMENT ON COLUMN smam.account.stage_note IS
  'Note of the latest move (smam.transition); recorded in smam.stage_history with the move';
COMMENT ON COLUMN smam.account.plan_attached_at IS
  'When an implementation plan was attached to the account after planning (smam.attach_implementation_plan); NULL when the plan dates from planning, or there is none';
COMMENT ON COLUMN smam.account.onboarded IS
  'Entered through smam.onboard_account: existed before smam, straight into implementation';

-- What is wrong with an account's published names, or NULL: the index and
-- its feeds publish them, so each is at most 200 characters.
CREATE FUNCTION smam.account_names_problem(name_en text, name_fr text) RETURNS text
  LANGUAGE sql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN length(btrim(name_en)) > 200
                THEN format('The English name has %s characters; the index publishes at most 200.', length(btrim(name_en)))
                WHEN length(btrim(name_fr)) > 200
                THEN format('The French name has %s characters; the index publishes at most 200.', length(btrim(name_fr))) END
  $$;
COMMENT ON FUNCTION smam.account_names_problem(text, text) IS
  'Why an account''s names cannot be published (each at most 200 characters), or NULL';

-- The onboarding path (src/lifecycle.c): checks the acting role again, arms
-- a backend-local flag that the lifecycle trigger consumes on the one INSERT
-- it makes, and disarms it whatever happens. Granted to nobody: only
-- smam.onboard_account (owned by the extension's owner) calls it.
CREATE FUNCTION smam.insert_onboarded_account(department bigint, platform text, handle text,
                                              url text, name_en text, name_fr text,
                                              official_language smam.official_language,
                                              purpose text, listed_on date, reason text)
  RETURNS bigint LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'smam_insert_onboarded_account';
COMMENT ON FUNCTION smam.insert_onboarded_account(bigint, text, text, text, text, text, smam.official_language, text, date, text) IS
  'Internal: the INSERT of smam.onboard_account, the only way an account enters past planning';

-- Accounts that exist in the real world already (the canada.ca index) enter
-- here, straight into implementation, marked as onboarded with the reason.
-- The compliance views list what such accounts still lack.
CREATE FUNCTION smam.onboard_account(department bigint, platform text, url text,
                                     name_en text, name_fr text,
                                     official_language smam.official_language, reason text,
                                     purpose text DEFAULT NULL, listed_on date DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  c record;
  existing bigint;
  new_id bigint;
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not onboard an existing account', who),
      'Onboarding lists an account that already exists in the index of official accounts, which the entity maintains.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('23503', NULL, format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department(), or add it with smam.add_department().');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  IF reason IS NULL OR btrim(reason) = '' THEN
    PERFORM smam.refuse('22023', '6.1.2', 'onboarding an account needs a reason',
      'An onboarded account skips the planning, creation and configuration stages of its life cycle.',
      'Say why the account enters this way, such as "listed in the canada.ca index on 2026-08-22".');
  END IF;
  IF official_language IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'an account needs its official language', NULL,
      'Give english, french or bilingual.');
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
      'Give the address of the account''s own page, as listed in the index of official accounts.');
  END IF;
  SELECT a.id INTO existing FROM smam.account a
   WHERE a.url_key = c.url_key AND a.stage <> 'disposed';
  IF FOUND THEN
    PERFORM smam.refuse('23505', '6.2.4', format('account %s is already known', c.canonical_url),
      format('Account %s has this address.', existing),
      'Update the existing account instead of onboarding it again.');
  END IF;
  -- The one way past planning without the guards (src/lifecycle.c).
  new_id := smam.insert_onboarded_account(department, c.platform_code, c.handle, c.canonical_url,
    nullif(btrim(name_en), ''), nullif(btrim(name_fr), ''), official_language, purpose,
    coalesce(listed_on, smam.today()), btrim(reason));
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.onboard_account(bigint, text, text, text, text, smam.official_language, text, text, date) IS
  'Enter an account that already exists straight into implementation, marked onboarded with the reason (entity or administrator)';

ALTER TABLE smam.account ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_read ON smam.account FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.account TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.onboard_account(bigint, text, text, text, text, smam.official_language, text, text, date)
  TO smam_admin, smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.account', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_id_seq', '');

-- ---- sql/smam/61_strategies_plans.sql ----
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

-- ---- sql/smam/62_platform_reviews.sql ----
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

-- ---- sql/smam/63_specifications.sql ----
-- Technical Specifications for Social Media Accounts (6.1.5): rules over an
-- account's configuration, per platform or for all. smam ships the rules the
-- Standard's context names (a GC avatar, an identifiable account name, a
-- link to the social media notice, official languages); the entity may add
-- rules. smam.check_configuration() says which rules a configuration breaks.

CREATE TYPE smam.specification_rule AS ENUM ('present', 'equals', 'matches', 'official_languages');
COMMENT ON TYPE smam.specification_rule IS
  'present: the key has a non-empty value; equals: the value is the expected text; matches: the value matches the expected regular expression; official_languages: names and descriptions in the account''s official language(s)';

CREATE TABLE smam.technical_specification (
  code         text PRIMARY KEY CHECK (code OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]*$'),
  platform     text REFERENCES smam.platform (code),
  rule         smam.specification_rule NOT NULL,
  key          text,
  expected     text,
  description  text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(description)) OPERATOR(pg_catalog.>) 0),
  shipped      boolean NOT NULL DEFAULT false,
  CHECK ((rule OPERATOR(pg_catalog.=) 'official_languages') OR key IS NOT NULL),
  CHECK ((rule OPERATOR(pg_catalog.<>) ALL (ARRAY['equals', 'matches']::smam.specification_rule[])) OR expected IS NOT NULL)
);
COMMENT ON TABLE smam.technical_specification IS
  'Rules of the Technical Specifications for Social Media Accounts (6.1.5) over an account''s configuration; platform NULL: every platform';
COMMENT ON COLUMN smam.technical_specification.key IS 'The key of the configuration (jsonb) the rule reads';

INSERT INTO smam.technical_specification (code, platform, rule, key, expected, description, shipped) VALUES
  ('gc_avatar', NULL, 'matches', 'avatar', '^(fip|gc)[-_:]',
   'The profile picture is a Government of Canada identifier of the Federal Identity Program (avatar "fip:..." or "gc:...")', true),
  ('identifiable_name', NULL, 'present', 'display_name', NULL,
   'The account''s display name identifies the department', true),
  ('notice_link', NULL, 'matches', 'notice_url', E'^https://([a-z0-9-]+\\.)*(canada\\.ca|gc\\.ca)(/|$)',
   'The profile links to the department''s social media notice (terms of use) on canada.ca or gc.ca', true),
  ('official_languages', NULL, 'official_languages', NULL, NULL,
   'Names and descriptions in the account''s official language(s): English and French for a bilingual account', true);

CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.technical_specification
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();

-- The rules a configuration breaks, with the problem; no rows: it meets them.
CREATE FUNCTION smam.check_configuration(platform text, configuration jsonb,
                                         official_language smam.official_language,
                                         name_en text DEFAULT NULL, name_fr text DEFAULT NULL)
  RETURNS TABLE (specification text, problem text)
  LANGUAGE plpgsql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  s smam.technical_specification;
  v text;
  pcode text := coalesce(smam.platform_of(platform), platform);
BEGIN
  IF configuration IS NULL OR jsonb_typeof(configuration) <> 'object' THEN
    specification := 'configuration';
    problem := 'The configuration is not a JSON object.';
    RETURN NEXT;
    RETURN;
  END IF;
  FOR s IN SELECT * FROM smam.technical_specification t
            WHERE t.platform IS NULL OR t.platform = pcode ORDER BY t.code LOOP
    specification := s.code;
    IF s.rule = 'official_languages' THEN
      IF official_language IN ('english', 'bilingual') AND coalesce(btrim(name_en), '') = '' THEN
        problem := 'The account has no English name.'; RETURN NEXT;
      END IF;
      IF official_language IN ('french', 'bilingual') AND coalesce(btrim(name_fr), '') = '' THEN
        problem := 'The account has no French name.'; RETURN NEXT;
      END IF;
      IF official_language IN ('english', 'bilingual') AND coalesce(btrim(configuration ->> 'description_en'), '') = '' THEN
        problem := 'The configuration has no English description (description_en).'; RETURN NEXT;
      END IF;
      IF official_language IN ('french', 'bilingual') AND coalesce(btrim(configuration ->> 'description_fr'), '') = '' THEN
        problem := 'The configuration has no French description (description_fr).'; RETURN NEXT;
      END IF;
      CONTINUE;
    END IF;
    v := configuration ->> s.key;
    IF coalesce(btrim(v), '') = '' THEN
      problem := format('The configuration has no %s.', s.key);
      RETURN NEXT;
    ELSIF s.rule = 'equals' AND v <> s.expected THEN
      problem := format('The %s is "%s", not "%s".', s.key, v, s.expected);
      RETURN NEXT;
    ELSIF s.rule = 'matches' AND v !~ s.expected THEN
      problem := format('The %s "%s" does not match %s.', s.key, v, s.expected);
      RETURN NEXT;
    END IF;
  END LOOP;
END
$$;
COMMENT ON FUNCTION smam.check_configuration(text, jsonb, smam.official_language, text, text) IS
  'The technical specifications (6.1.5) a configuration breaks, with the problem; no rows when it meets them';

-- Add a rule (the entity).
CREATE FUNCTION smam.add_specification(code text, description text, rule smam.specification_rule,
                                       key text DEFAULT NULL, expected text DEFAULT NULL,
                                       platform text DEFAULT NULL)
  RETURNS text LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  pcode text;
BEGIN
  PERFORM smam.require_office('entity_official', NULL, '6.1.5', 'add a technical specification');
  IF platform IS NOT NULL THEN
    pcode := smam.platform_of(platform);
    IF pcode IS NULL THEN
      PERFORM smam.refuse('23503', '6.1.5', format('"%s" is not a known platform', platform), NULL,
        'List platforms in smam.platform, or give no platform for a rule over every platform.');
    END IF;
  END IF;
  IF rule = 'matches' THEN
    BEGIN
      PERFORM '' ~ expected;
    EXCEPTION WHEN invalid_regular_expression THEN
      PERFORM smam.refuse('22023', '6.1.5', format('"%s" is not a regular expression', expected), SQLERRM,
        'Give a POSIX regular expression, such as ^https://.');
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM smam.technical_specification t WHERE t.code = add_specification.code) THEN
    PERFORM smam.refuse('23505', '6.1.5', format('technical specification "%s" already exists', code), NULL,
      'Choose another code.');
  END IF;
  BEGIN
    INSERT INTO smam.technical_specification (code, platform, rule, key, expected, description)
    VALUES (code, pcode, rule, key, expected, btrim(description));
  EXCEPTION WHEN check_violation OR not_null_violation THEN
    PERFORM smam.refuse('22023', '6.1.5', format('technical specification "%s" is incomplete', code), SQLERRM,
      'A code in lower case, a description, a key (except for official_languages) and, for equals and matches, the expected value.');
  END;
  RETURN code;
END
$$;
COMMENT ON FUNCTION smam.add_specification(text, text, smam.specification_rule, text, text, text) IS
  'Add a rule of the technical specifications (6.1.5), for one platform or all (entity official)';

ALTER TABLE smam.technical_specification ENABLE ROW LEVEL SECURITY;
CREATE POLICY technical_specification_read ON smam.technical_specification FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.technical_specification TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.check_configuration(text, jsonb, smam.official_language, text, text)
  TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.add_specification(text, text, smam.specification_rule, text, text, text) TO smam_entity;

SELECT pg_catalog.pg_extension_config_dump('smam.technical_specification', 'WHERE NOT shipped');

-- ---- sql/smam/64_submissions.sql ----
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

-- ---- sql/smam/65_evaluations_archives.sql ----
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

-- ---- sql/smam/66_lifecycle.sql ----
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

-- ---- sql/smam/70_index_import.sql ----
-- Import of the canada.ca index of official accounts (6.2.4): the CSV file
-- (columns of the canada.ca feed as collected: Account, Platform, Department,
-- Language, URL, gc_orgID, Date Added) or the aaData JSON feed itself, into
-- departments and accounts through the onboarding path (smam.onboard_account).
-- Every row read is kept with its outcome: created, updated, unchanged, or
-- rejected with the reason. Rules: docs/index-and-compliance.md.

-- Text formats (src/import.c).
CREATE FUNCTION smam.csv_records(content text,
                                 OUT record_number integer, OUT line_number integer,
                                 OUT fields text[], OUT raw text, OUT problem text)
  RETURNS SETOF record LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_csv_records';
COMMENT ON FUNCTION smam.csv_records(text) IS
  'The records of a CSV text (RFC 4180), each with its fields, its raw text, or the problem that stops it';

CREATE FUNCTION smam.html_escape(text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_html_escape';
COMMENT ON FUNCTION smam.html_escape(text) IS 'Text made safe inside HTML: & < > " and '' as character references';

CREATE FUNCTION smam.html_unescape(text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_html_unescape';
COMMENT ON FUNCTION smam.html_unescape(text) IS 'The text of an HTML fragment: tags removed, character references read';

-- The official language a spelling stands for, in either official language.
CREATE FUNCTION smam.official_language_of(spelling text) RETURNS smam.official_language
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE translate(lower(btrim(spelling)), 'çéè', 'cee')
             WHEN 'english' THEN 'english' WHEN 'anglais' THEN 'english' WHEN 'en' THEN 'english'
             WHEN 'eng' THEN 'english'
             WHEN 'french' THEN 'french' WHEN 'francais' THEN 'french' WHEN 'fr' THEN 'french'
             WHEN 'fra' THEN 'french' WHEN 'fre' THEN 'french'
             WHEN 'bilingual' THEN 'bilingual' WHEN 'bilingue' THEN 'bilingual'
             WHEN 'english and french' THEN 'bilingual' WHEN 'anglais et francais' THEN 'bilingual'
             WHEN 'en/fr' THEN 'bilingual' WHEN 'fr/en' THEN 'bilingual'
           END::smam.official_language
  $$;
COMMENT ON FUNCTION smam.official_language_of(text) IS
  'english, french or bilingual for a spelling in either language (Français, Bilingue, anglais, EN...); NULL if none';

-- Is a spelling of a language written in French? (The French feed writes
-- Français, Bilingue, Anglais; its department names are French.)
CREATE FUNCTION smam.spelled_in_french(spelling text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT translate(lower(btrim(spelling)), 'çéè', 'cee') IN ('francais', 'bilingue', 'anglais', 'anglais et francais') $$;
COMMENT ON FUNCTION smam.spelled_in_french(text) IS 'Whether a language spelling is French (Français, Bilingue, Anglais)';

-- ---- Department identity ----
-- A department is one organization: its English and French names, its
-- gc_orgID where known, and every other name the index has listed it under
-- (smam.department_alias). Two spellings that differ only by case, spacing,
-- accents, typography (’ ', – -, NBSP, soft hyphen), a leading article or a
-- trailing abbreviation in parentheses are one name: they share a key.

-- Names under which the index has listed a department besides its own two,
-- with where (the imports) and when they were first and last seen.
CREATE TABLE smam.department_alias (
  name_key        text PRIMARY KEY,
  name            text NOT NULL CHECK (pg_catalog.length(name) OPERATOR(pg_catalog.<=) 300),
  department_id   bigint NOT NULL REFERENCES smam.department (id),
  lang            text CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  how             text NOT NULL,
  import_id       bigint,
  recorded_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  last_import_id  bigint,
  last_seen_at    timestamptz
);
CREATE INDEX department_alias_department_idx ON smam.department_alias (department_id);
COMMENT ON TABLE smam.department_alias IS
  'Other names of a department seen in the index (variants under the same gc_orgID, the other language''s name of the same accounts, joint names, names merged in), by comparison key';
COMMENT ON COLUMN smam.department_alias.how IS
  'What ties the name to the department: the same gc_orgID, accounts listed under both names, a joint name, a merge, the entity''s decision';
COMMENT ON COLUMN smam.department_alias.lang IS 'The language of the listing the name was seen in (en, fr), if known';
COMMENT ON COLUMN smam.department_alias.import_id IS 'The import that first listed the department under this name (NULL: set by a person)';
COMMENT ON COLUMN smam.department_alias.recorded_at IS 'When the name was first tied to the department';
COMMENT ON COLUMN smam.department_alias.last_import_id IS 'The latest import that listed the department under this name';
COMMENT ON COLUMN smam.department_alias.last_seen_at IS 'When that import ran';

-- Further gc_orgIDs of a department (one organization listed under two ids,
-- joined by smam.merge_departments): rows with such an id are its rows.
CREATE TABLE smam.department_org_alias (
  gc_org_id      integer PRIMARY KEY CHECK (gc_org_id OPERATOR(pg_catalog.>) 0),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  how            text NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX department_org_alias_department_idx ON smam.department_org_alias (department_id);
COMMENT ON TABLE smam.department_org_alias IS
  'Further gc_orgIDs of a department (an organization the index listed under two ids, merged): rows with such an id are its rows';

-- A name the index uses that nothing ties to a department: no gc_orgID, no
-- account also listed under a known name, no known name it spells. The
-- import does not guess: its rows wait (outcome "held") until the entity
-- confirms the candidate as a new department or maps it to one, or until a
-- later import ties it (a gc_orgID, the accounts it lists).
CREATE SEQUENCE smam.department_candidate_id_seq;
CREATE TABLE smam.department_candidate (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.department_candidate_id_seq'),
  name             text NOT NULL CHECK (pg_catalog.length(name) OPERATOR(pg_catalog.<=) 300),
  name_key         text NOT NULL UNIQUE,
  lang             text CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  gc_org_id        integer,
  first_import_id  bigint NOT NULL,
  first_seen_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  last_import_id   bigint NOT NULL,
  last_seen_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  last_rows        integer NOT NULL DEFAULT 0,
  status           text NOT NULL DEFAULT 'open'
                   CHECK (status OPERATOR(pg_catalog.=) ANY (ARRAY['open', 'confirmed', 'mapped', 'tied'])),
  department_id    bigint REFERENCES smam.department (id),
  decided_by       name,
  decided_at       timestamptz,
  decision_note    text,
  CHECK ((status OPERATOR(pg_catalog.=) 'open') = (department_id IS NULL))
);
ALTER SEQUENCE smam.department_candidate_id_seq OWNED BY smam.department_candidate.id;
COMMENT ON TABLE smam.department_candidate IS
  'Department names the index uses that nothing ties to a department; their rows are held until the entity confirms or maps the name, or a later import ties it';
COMMENT ON COLUMN smam.department_candidate.status IS
  'open (waits for the entity), confirmed (made a department), mapped (a name of an existing department), tied (a later import tied it)';
COMMENT ON COLUMN smam.department_candidate.last_rows IS 'Rows of the latest import that listed the name';
COMMENT ON COLUMN smam.department_candidate.gc_org_id IS 'The gc_orgID its rows gave, when they gave one but only a French name';

-- The department a gc_orgID stands for.
CREATE FUNCTION smam.department_by_org_id(gc_org_id integer) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT coalesce((SELECT coalesce(d.merged_into, d.id) FROM smam.department d
                      WHERE d.gc_org_id = department_by_org_id.gc_org_id),
                    (SELECT o.department_id FROM smam.department_org_alias o
                      WHERE o.gc_org_id = department_by_org_id.gc_org_id))
  $$;
COMMENT ON FUNCTION smam.department_by_org_id(integer) IS 'The department of a gc_orgID (its own, or one merged into it); NULL if none';

-- The department a name key stands for: its English or French name, or an alias.
CREATE FUNCTION smam.department_by_key(name_key text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT x.id FROM (
      SELECT 1 AS o, d.id FROM smam.department d
       WHERE d.name_en_key = department_by_key.name_key AND d.merged_into IS NULL
      UNION ALL
      SELECT 2, d.id FROM smam.department d
       WHERE d.name_fr_key = department_by_key.name_key AND d.merged_into IS NULL
      UNION ALL
      SELECT 3, a.department_id FROM smam.department_alias a WHERE a.name_key = department_by_key.name_key) x
     ORDER BY x.o, x.id LIMIT 1
  $$;
COMMENT ON FUNCTION smam.department_by_key(text) IS
  'The department whose English or French name, or an alias, has this comparison key; NULL if none';

CREATE FUNCTION smam.department_by_name(name text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT smam.department_by_key(smam.department_name_key(department_by_name.name)) $$;
COMMENT ON FUNCTION smam.department_by_name(text) IS
  'The department known by this name (English, French or alias, compared by smam.department_name_key); NULL if none';

-- A joint name, "A and B" or "A et B", where A is a department's name:
-- that department (the longest such A).
CREATE FUNCTION smam.department_of_joint_name(name text) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT x.dept FROM (
      SELECT smam.department_by_key(left(k.key, i.i - 1)) AS dept, i.i
        FROM (SELECT smam.department_name_key(department_of_joint_name.name) AS key) k,
             generate_series(2, coalesce(length(k.key), 0)) AS i(i)
       WHERE substr(k.key, i.i, 5) = ' and ' OR substr(k.key, i.i, 4) = ' et ') x
     WHERE x.dept IS NOT NULL
     ORDER BY x.i DESC LIMIT 1
  $$;
COMMENT ON FUNCTION smam.department_of_joint_name(text) IS
  'For a joint name "A and B" / "A et B": the department named A, if known';

-- Record that the index listed a department under a name: its own names
-- need nothing; another name becomes (or refreshes) an alias.
CREATE FUNCTION smam.learn_department_name(department bigint, name text, lang text, how text, import bigint)
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  k text := smam.department_name_key(name);
  d smam.department;
BEGIN
  SELECT * INTO d FROM smam.department x WHERE x.id = department;
  IF k IS NULL OR NOT FOUND OR length(btrim(name)) > 300 THEN
    RETURN;
  END IF;
  IF k IN (smam.department_name_key(d.name_en), coalesce(smam.department_name_key(d.name_fr), '')) THEN
    RETURN;
  END IF;
  IF lang = 'fr' AND d.name_fr IS NULL AND smam.department_by_key(k) IS NULL THEN
    UPDATE smam.department x SET name_fr = btrim(name) WHERE x.id = department;
    DELETE FROM smam.department_alias a WHERE a.name_key = k;
    RETURN;
  END IF;
  INSERT INTO smam.department_alias AS a (name_key, name, department_id, lang, how, import_id, last_import_id, last_seen_at)
  VALUES (k, btrim(name), department, lang, how, import, import, CASE WHEN import IS NOT NULL THEN now() END)
  ON CONFLICT (name_key) DO UPDATE
     SET last_import_id = coalesce(excluded.last_import_id, a.last_import_id),
         last_seen_at = coalesce(excluded.last_seen_at, a.last_seen_at)
   WHERE a.department_id = excluded.department_id;
END
$$;
COMMENT ON FUNCTION smam.learn_department_name(bigint, text, text, text, bigint) IS
  'Internal: the index listed the department under this name; a French name fills a missing name_fr, another name becomes an alias';

-- ---- Imports ----

CREATE TYPE smam.import_summary AS (
  import_id            bigint,
  rows_read            integer,
  created              integer,
  updated              integer,
  unchanged            integer,
  rejected             integer,
  vanished             integer,
  departments_created  integer,
  held                 integer,
  candidates           integer
);
COMMENT ON TYPE smam.import_summary IS
  'What an import did: rows read = created + updated + unchanged + rejected + held; accounts flagged as vanished; departments created; department candidates its held rows wait on';

CREATE SEQUENCE smam.index_import_id_seq;
CREATE TABLE smam.index_import (
  id                   bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.index_import_id_seq'),
  source               text NOT NULL CHECK (source OPERATOR(pg_catalog.=) ANY (ARRAY['csv', 'feeds', 'feed-en', 'feed-fr'])),
  content_sha256       text NOT NULL,
  imported_by          name NOT NULL DEFAULT smam.acting_role(),
  imported_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
  disappearance_accepted boolean NOT NULL DEFAULT false,
  rows_read            integer,
  created              integer,
  updated              integer,
  unchanged            integer,
  rejected             integer,
  vanished             integer,
  departments_created  integer,
  held                 integer,
  candidates           integer
);
ALTER SEQUENCE smam.index_import_id_seq OWNED BY smam.index_import.id;
COMMENT ON TABLE smam.index_import IS 'Each import of the canada.ca index: source, content hash, who, when, and its summary';
COMMENT ON COLUMN smam.index_import.source IS
  'csv (the whole index as CSV), feeds (both canada.ca feeds at once), feed-en or feed-fr (one feed)';
COMMENT ON COLUMN smam.index_import.disappearance_accepted IS
  'The importer said that more listed accounts than smam.index_disappearance_limit allows left the index on purpose';

CREATE TABLE smam.index_import_row (
  import_id          bigint NOT NULL REFERENCES smam.index_import (id),
  row_number         integer NOT NULL,
  line_number        integer,
  raw                text NOT NULL,
  account_name       text,
  platform_given     text,
  department_given   text,
  language_given     text,
  url_given          text,
  gc_org_id_given    text,
  date_added_given   text,
  names_in           text CHECK (names_in OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  name_key           text,
  platform           text,
  official_language  smam.official_language,
  url                text,
  url_key            text,
  gc_org_id          integer,
  department_id      bigint,
  candidate_id       bigint REFERENCES smam.department_candidate (id),
  outcome            text CHECK (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['created', 'updated', 'unchanged', 'rejected', 'held'])),
  account_id         bigint REFERENCES smam.account (id),
  reason             text,
  notes              text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (import_id, row_number),
  CHECK (outcome IS NULL
         OR (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['rejected', 'held']) AND reason IS NOT NULL AND account_id IS NULL)
         OR (outcome OPERATOR(pg_catalog.<>) ALL (ARRAY['rejected', 'held']) AND reason IS NULL AND account_id IS NOT NULL)),
  CHECK ((outcome OPERATOR(pg_catalog.=) 'held') = (candidate_id IS NOT NULL))
);
CREATE INDEX index_import_row_account_idx ON smam.index_import_row (account_id);
CREATE INDEX index_import_row_url_key_idx ON smam.index_import_row (import_id, url_key);
CREATE INDEX index_import_row_org_idx ON smam.index_import_row (import_id, gc_org_id);
CREATE INDEX index_import_row_name_key_idx ON smam.index_import_row (import_id, name_key);
CREATE INDEX index_import_row_candidate_idx ON smam.index_import_row (candidate_id) WHERE candidate_id IS NOT NULL;
COMMENT ON TABLE smam.index_import_row IS
  'Every row an import read, as it came (raw) and as understood, with its outcome: an account, the reason it was rejected, or the department candidate it waits on';
COMMENT ON COLUMN smam.index_import_row.names_in IS
  'Language of the row''s names: the feed''s language, or for a CSV row fr when its language is spelled in French, else en';
COMMENT ON COLUMN smam.index_import_row.name_key IS 'smam.department_name_key of the department as given';
COMMENT ON COLUMN smam.index_import_row.candidate_id IS 'For a held row: the department candidate it waits on';
COMMENT ON COLUMN smam.index_import_row.notes IS 'What normalization did to the row (platform alias, language spelling, URL, department match)';

CREATE VIEW smam.index_reject WITH (security_barrier = true) AS
  SELECT r.import_id, r.row_number, r.line_number, r.raw, r.reason
    FROM smam.index_import_row r
   WHERE r.outcome OPERATOR(pg_catalog.=) 'rejected';
COMMENT ON VIEW smam.index_reject IS 'Rows of index imports that did not become accounts: the row as it came and the reason';
-- The meaning of each column of smam.index_reject: sql/smam/95_report_dictionary.sql.

-- Accounts flagged for a disposition review: listed in an earlier import of
-- the same scope, absent from a newer one. Never deleted; a review is
-- resolved by a decision or closes when the account reappears.
CREATE SEQUENCE smam.disposition_review_id_seq;
CREATE TABLE smam.disposition_review (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.disposition_review_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  import_id      bigint REFERENCES smam.index_import (id),
  reason         text NOT NULL,
  flagged_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  resolved_at    timestamptz,
  resolved_by    name,
  resolution     text,
  CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);
ALTER SEQUENCE smam.disposition_review_id_seq OWNED BY smam.disposition_review.id;
CREATE UNIQUE INDEX disposition_review_open_key ON smam.disposition_review (account_id) WHERE resolved_at IS NULL;
CREATE INDEX disposition_review_department_idx ON smam.disposition_review (department_id);
COMMENT ON TABLE smam.disposition_review IS
  'Accounts that vanished from the index, flagged for a disposition review (6.1.2); one open review per account';

CREATE FUNCTION smam.require_importer(act text DEFAULT 'import the index of official accounts') RETURNS void
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not %s', who, act),
      'The entity maintains the index of official accounts.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.require_importer(text) IS
  'Refuse (42501) unless the acting role may maintain the index (entity official, administrator)';

-- The scope an import covers: the whole index (a CSV file, both feeds) or
-- one language's feed. Vanished accounts are judged against the previous
-- import of the same scope.
CREATE FUNCTION smam.import_scope(source text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT CASE WHEN source IN ('csv', 'feeds') THEN 'whole' ELSE source END $$;
COMMENT ON FUNCTION smam.import_scope(text) IS 'whole for csv and feeds, else the feed (feed-en, feed-fr)';

-- 1. Each row understood: platform, language, URL, gc_orgID, name key; a
--    row that cannot be read is rejected with the reason. One statement.
CREATE FUNCTION smam.import_normalize(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  WITH r0 AS MATERIALIZED (
    -- Each function once per row.
    SELECT r.row_number, r.account_name, r.department_given, r.platform_given, r.language_given, r.url_given,
           smam.platform_of(r.platform_given) AS platform,
           smam.official_language_of(r.language_given) AS lang,
           coalesce(r.names_in, CASE WHEN smam.spelled_in_french(r.language_given) THEN 'fr' ELSE 'en' END) AS names_in,
           CASE WHEN btrim(coalesce(r.gc_org_id_given, '')) ~ E'^[0-9]{1,9}(\\.0*)?$'
                THEN nullif(split_part(btrim(r.gc_org_id_given), '.', 1)::integer, 0) END AS org,
           r.gc_org_id_given
      FROM smam.index_import_row r
     WHERE r.import_id = import AND r.outcome IS NULL),
  r1 AS MATERIALIZED (
    SELECT r0.*, (SELECT q.name FROM smam.platform q WHERE q.code = r0.platform) AS platform_name,
           c.canonical_url, c.url_key, c.problem
      FROM r0 LEFT JOIN LATERAL smam.check_account_url(r0.url_given, r0.platform) c ON r0.platform IS NOT NULL),
  n AS (
    SELECT r1.row_number, r1.platform, r1.lang, r1.names_in, r1.org, r1.canonical_url, r1.url_key,
           CASE WHEN coalesce(btrim(r1.account_name), '') = '' THEN 'The account has no name.'
                WHEN length(btrim(r1.account_name)) > 200
                THEN format('The account''s name has %s characters; the index publishes at most 200.', length(btrim(r1.account_name)))
                WHEN length(btrim(r1.department_given)) > 300
                THEN format('The department''s name has %s characters; the index publishes at most 300.', length(btrim(r1.department_given)))
                WHEN r1.platform IS NULL
                THEN format('"%s" is not a known platform (smam.platform, smam.platform_alias).', coalesce(r1.platform_given, ''))
                WHEN r1.lang IS NULL
                THEN format('"%s" is not an official language spelling (English, French, Bilingual, Français, Anglais, Bilingue).',
                            coalesce(r1.language_given, ''))
                WHEN coalesce(btrim(r1.department_given), '') = '' AND r1.org IS NULL
                THEN 'The row names no department and has no gc_orgID.'
                ELSE r1.problem END AS reason,
           array_remove(ARRAY[
             CASE WHEN r1.platform IS NOT NULL AND r1.platform_given IS DISTINCT FROM r1.platform_name
                  THEN format('platform "%s" read as %s', r1.platform_given, r1.platform_name) END,
             CASE WHEN r1.lang IS NOT NULL AND r1.language_given IS DISTINCT FROM initcap(r1.lang::text)
                  THEN format('language "%s" read as %s', r1.language_given, r1.lang) END,
             CASE WHEN r1.org IS NULL AND btrim(coalesce(r1.gc_org_id_given, '')) <> ''
                  THEN format('gc_orgID "%s" is not a number; set aside', r1.gc_org_id_given) END,
             CASE WHEN r1.problem IS NULL AND r1.canonical_url IS DISTINCT FROM btrim(r1.url_given)
                  THEN format('URL %s read as %s', r1.url_given, r1.canonical_url) END], NULL) AS notes
      FROM r1)
  UPDATE smam.index_import_row x
     SET platform = n.platform, official_language = n.lang, names_in = n.names_in, gc_org_id = n.org,
         name_key = smam.department_name_key(x.department_given),
         url = CASE WHEN n.reason IS NULL THEN n.canonical_url END,
         url_key = CASE WHEN n.reason IS NULL THEN n.url_key END,
         outcome = CASE WHEN n.reason IS NOT NULL THEN 'rejected' END,
         reason = n.reason,
         notes = x.notes || n.notes
    FROM n
   WHERE x.import_id = import AND x.row_number = n.row_number;

  -- The same account twice in one language: the first row stands.
  UPDATE smam.index_import_row x
     SET outcome = 'rejected', reason = format('Row %s lists the same account (%s once normalized).', d.first, x.url)
    FROM (SELECT y.row_number, first_value(y.row_number) OVER w AS first
            FROM smam.index_import_row y
           WHERE y.import_id = import AND y.outcome IS NULL
          WINDOW w AS (PARTITION BY y.url_key, y.names_in ORDER BY y.row_number)) d
   WHERE x.import_id = import AND x.row_number = d.row_number AND d.first <> d.row_number;
END
$$;
COMMENT ON FUNCTION smam.import_normalize(bigint) IS
  'Internal: read each staged row (platform, language, URL, gc_orgID, name key) and reject what cannot be read or repeats a row';

-- The import an import is compared with: the latest finished one of the
-- same scope before it (NULL: none).
CREATE FUNCTION smam.previous_import(import bigint) RETURNS bigint
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT max(i.id) FROM smam.index_import i, smam.index_import this
     WHERE this.id = previous_import.import AND i.id < this.id AND i.rows_read IS NOT NULL
       AND smam.import_scope(i.source) = smam.import_scope(this.source)
  $$;
COMMENT ON FUNCTION smam.previous_import(bigint) IS
  'Internal: the latest finished import of the same scope before this one (vanished accounts and a mass disappearance are judged against it)';

-- A mass disappearance is refused before anything is written: more of the
-- live accounts the previous import of the same scope listed are missing
-- than smam.index_disappearance_limit allows.
CREATE FUNCTION smam.import_check_disappearance(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  imp smam.index_import;
  previous bigint;
  listed bigint;
  missing bigint;
  lim integer := coalesce(nullif(current_setting('smam.index_disappearance_limit', true), '')::integer, 10);
BEGIN
  SELECT * INTO imp FROM smam.index_import i WHERE i.id = import;
  previous := smam.previous_import(import);
  IF previous IS NULL OR imp.disappearance_accepted THEN
    RETURN;
  END IF;
  SELECT count(*), count(*) FILTER (WHERE h.url_key IS NULL)
    INTO listed, missing
    FROM (SELECT DISTINCT p.url_key FROM smam.index_import_row p
           WHERE p.import_id = previous AND p.url_key IS NOT NULL) l
    JOIN smam.account a ON a.url_key = l.url_key AND a.stage IN ('implementation', 'evaluation')
    LEFT JOIN (SELECT DISTINCT x.url_key FROM smam.index_import_row x
                WHERE x.import_id = import AND x.url_key IS NOT NULL) h ON h.url_key = a.url_key;
  IF listed > 0 AND missing * 100 > listed * lim THEN
    PERFORM smam.refuse('22023', '6.2.4',
      format('the index file leaves out %s of the %s live accounts that import %s listed', missing, listed, previous),
      format('That is %s%%; an import may find at most %s%% missing (smam.index_disappearance_limit). A file this short is more likely truncated or partial than a mass disposal, so nothing was imported and no account was flagged for a disposition review.',
             round(missing * 100.0 / listed, 1), lim),
      'Check that the file is the whole index. If these accounts did leave the index, import it again saying so (accept_disappearance => true).');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.import_check_disappearance(bigint) IS
  'Internal: refuse (22023) an import that finds more listed accounts missing than smam.index_disappearance_limit allows, unless accepted';

-- Step a of smam.import_departments: rows without a department whose name
-- (by key) is a department's name or alias.
CREATE FUNCTION smam.import_known_names(import bigint) RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
  UPDATE smam.index_import_row x SET department_id = k.dept
    FROM (SELECT DISTINCT y.name_key, smam.department_by_key(y.name_key) AS dept
            FROM smam.index_import_row y
           WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL AND y.gc_org_id IS NULL
             AND y.name_key IS NOT NULL) k
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.gc_org_id IS NULL
     AND x.name_key = k.name_key AND k.dept IS NOT NULL
  $$;
COMMENT ON FUNCTION smam.import_known_names(bigint) IS
  'Internal: give the staged rows without a gc_orgID whose department name is known (name or alias, by key) that department';

-- 2. Each row's department, from what ties its name to one, never guessed:
--    a. a name smam knows (a department's English or French name, an alias);
--    b. a gc_orgID: one department per id (its own, a department its names
--       name that has no id, a department without an id whose accounts most
--       of its rows list, or a department whose own name its English name is,
--       the id then a second one), else a new department named by its rows'
--       most frequent English and French names (joint names set aside);
--       every other spelling under the id an alias;
--    c. the accounts a name lists: most of them (more than half) are
--       accounts of one department, or are listed in this import under a
--       name of one department in the other language; two unknown names, one
--       English and one French, each listing most of its accounts under the
--       other, are one new department's two names;
--    d. a joint name "A and B" / "A et B" where A is known;
--    e. otherwise the name is a department candidate and its rows are held.
--    Steps a and c repeat while c ties something.
CREATE FUNCTION smam.import_departments(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  g record;
  t record;
  dept bigint;
  other bigint;
  changed integer;
  rounds integer := 0;
  k bigint;
  how text;
BEGIN
  -- a. Known names.
  PERFORM smam.import_known_names(import);

  -- b. gc_orgIDs, each with its names ranked by how many rows give them.
  FOR g IN
    WITH n AS (
      SELECT y.gc_org_id, y.names_in, y.name_key, count(*) AS k, min(y.row_number) AS first,
             (array_agg(btrim(y.department_given) ORDER BY y.row_number))[1] AS spelling
        FROM smam.index_import_row y
       WHERE y.import_id = import AND y.outcome IS NULL AND y.gc_org_id IS NOT NULL AND y.name_key IS NOT NULL
       GROUP BY 1, 2, 3),
    j AS (  -- joint names: another name of the same id followed by " and " / " et "
      SELECT n.*, EXISTS (SELECT 1 FROM n o WHERE o.gc_org_id = n.gc_org_id AND o.name_key <> n.name_key
                            AND (starts_with(n.name_key, o.name_key || ' and ') OR starts_with(n.name_key, o.name_key || ' et ')))
                  AS joint
        FROM n)
    SELECT j.gc_org_id,
           (array_agg(j.spelling ORDER BY j.k DESC, j.first) FILTER (WHERE j.names_in = 'en' AND NOT j.joint))[1] AS name_en,
           (array_agg(j.spelling ORDER BY j.k DESC, j.first) FILTER (WHERE j.names_in = 'fr' AND NOT j.joint))[1] AS name_fr,
           array_agg(j.spelling ORDER BY j.k DESC, j.first) AS spellings,
           array_agg(j.names_in ORDER BY j.k DESC, j.first) AS langs,
           (SELECT count(DISTINCT y.url_key) FROM smam.index_import_row y
             WHERE y.import_id = import AND y.outcome IS NULL AND y.gc_org_id = j.gc_org_id) AS accounts
      FROM j GROUP BY j.gc_org_id ORDER BY j.gc_org_id
  LOOP
    dept := smam.department_by_org_id(g.gc_org_id);
    IF dept IS NULL THEN
      -- A department its names already name, without a gc_orgID, takes it.
      dept := (SELECT d.id FROM unnest(g.spellings) WITH ORDINALITY s(name, i)
                 JOIN smam.department d ON d.id = smam.department_by_name(s.name)
                WHERE d.gc_org_id IS NULL
                ORDER BY s.i LIMIT 1);
      how := 'its rows'' names';
      IF dept IS NULL THEN
        -- The accounts it lists are mostly one department's.
        SELECT a.department_id, count(*) INTO dept, k
          FROM (SELECT DISTINCT y.url_key FROM smam.index_import_row y
                 WHERE y.import_id = import AND y.outcome IS NULL AND y.gc_org_id = g.gc_org_id) u
          JOIN smam.account a ON a.url_key = u.url_key AND a.stage <> 'disposed'
          JOIN smam.department d ON d.id = a.department_id AND d.gc_org_id IS NULL
         GROUP BY a.department_id ORDER BY count(*) DESC, a.department_id LIMIT 1;
        IF dept IS NOT NULL AND NOT (2 * k > g.accounts AND (k >= 2 OR g.accounts = 1)) THEN
          dept := NULL;
        END IF;
        how := format('%s of the %s accounts listed under it are the department''s', k, g.accounts);
      END IF;
      IF dept IS NULL AND g.name_en IS NOT NULL THEN
        -- Its most used English name is a department's own name: the
        -- department has a second gc_orgID. (An alias is not enough: the
        -- index now lists that name under this id, and the alias, if an
        -- import learned it, goes.)
        -- (A merged department's name: the department it was merged into.)
        dept := (SELECT coalesce(d.merged_into, d.id) FROM smam.department d
                  WHERE d.name_en_key = smam.department_name_key(g.name_en)
                     OR d.name_fr_key = smam.department_name_key(g.name_en)
                  ORDER BY d.merged_into IS NOT NULL, d.id LIMIT 1);
        how := format('listed under the department''s name "%s"', g.name_en);
        IF dept IS NULL THEN
          DELETE FROM smam.department_alias a
           WHERE a.import_id IS NOT NULL
             AND a.name_key IN (smam.department_name_key(g.name_en), smam.department_name_key(g.name_fr));
        END IF;
      END IF;
      IF dept IS NOT NULL THEN
        IF (SELECT d.gc_org_id IS NULL FROM smam.department d WHERE d.id = dept) THEN
          UPDATE smam.department d SET gc_org_id = g.gc_org_id WHERE d.id = dept;
        ELSE
          INSERT INTO smam.department_org_alias (gc_org_id, department_id, how)
          VALUES (g.gc_org_id, dept, how || format(' (import %s)', import));
        END IF;
      ELSIF g.name_en IS NOT NULL THEN
        INSERT INTO smam.department (name_en, name_fr, gc_org_id)
        -- A French name that is the English one (Service Canada; or an English
        -- name in a French row) is no French name: the French index shows
        -- the English one until a French name is known.
        VALUES (g.name_en, CASE WHEN g.name_fr IS NOT NULL AND smam.department_by_name(g.name_fr) IS NULL
                                     AND smam.department_name_key(g.name_fr) <> smam.department_name_key(g.name_en)
                                THEN g.name_fr END,
                g.gc_org_id)
        RETURNING id INTO dept;
      END IF;
      -- Only a French name: the department waits for its English name (step e).
    END IF;
    CONTINUE WHEN dept IS NULL;
    FOR t IN SELECT s.name, l.lang FROM unnest(g.spellings, g.langs) AS s(name, lang0)
                                        CROSS JOIN LATERAL (SELECT s.lang0 AS lang) l LOOP
      IF smam.department_by_name(t.name) IS NULL THEN
        PERFORM smam.learn_department_name(dept, t.name, t.lang, format('same gc_orgID %s', g.gc_org_id), import);
      END IF;
    END LOOP;
    UPDATE smam.index_import_row x
       SET department_id = dept,
           notes = CASE WHEN smam.department_by_key(x.name_key) <> dept
                        THEN x.notes || format('department "%s" placed by gc_orgID %s', x.department_given, g.gc_org_id)
                        ELSE x.notes END
     WHERE x.import_id = import AND x.outcome IS NULL AND x.gc_org_id = g.gc_org_id;
  END LOOP;

  -- c. Names tied by the accounts they list, until nothing more ties.
  LOOP
    changed := 0;
    rounds := rounds + 1;
    -- Names that step b or the last round made known.
    PERFORM smam.import_known_names(import);
    FOR t IN
      WITH u AS (
        SELECT DISTINCT y.name_key, y.names_in, y.url_key FROM smam.index_import_row y
         WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL
           AND y.name_key IS NOT NULL AND y.gc_org_id IS NULL),
      tie AS (
        SELECT u.name_key, u.url_key, z.department_id AS dept
          FROM u JOIN smam.index_import_row z ON z.import_id = import AND z.url_key = u.url_key
                                             AND z.names_in <> u.names_in AND z.department_id IS NOT NULL
                                             AND z.outcome IS NULL
        UNION
        SELECT u.name_key, u.url_key, a.department_id
          FROM u JOIN smam.account a ON a.url_key = u.url_key AND a.stage <> 'disposed'),
      c AS (SELECT tie.name_key, tie.dept, count(DISTINCT tie.url_key) AS k FROM tie GROUP BY 1, 2),
      tied AS (SELECT tie.name_key, count(DISTINCT tie.url_key) AS n FROM tie GROUP BY 1),
      tot AS (SELECT u.name_key, count(DISTINCT u.url_key) AS n FROM u GROUP BY 1)
      SELECT c.name_key, c.dept, c.k, tied.n,
             (SELECT btrim(y.department_given) FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = c.name_key ORDER BY y.row_number LIMIT 1) AS spelling,
             (SELECT y.names_in FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = c.name_key ORDER BY y.row_number LIMIT 1) AS lang
        FROM c JOIN tied USING (name_key) JOIN tot USING (name_key)
       -- Most of the accounts that tie it, and more than one unless the
       -- name lists hardly more than that account.
       WHERE 2 * c.k > tied.n AND (c.k >= 2 OR 2 * c.k > tot.n)
       ORDER BY c.name_key
    LOOP
      PERFORM smam.learn_department_name(t.dept, t.spelling, t.lang,
        format('%s of the %s accounts listed under this name are the department''s', t.k, t.n), import);
      UPDATE smam.index_import_row x SET department_id = t.dept,
             notes = x.notes || format('department "%s" tied to department %s by the accounts it lists', x.department_given, t.dept)
       WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.name_key = t.name_key
         AND x.gc_org_id IS NULL;
      changed := changed + 1;
    END LOOP;

    -- Two unknown names, one per language, each listing most of its
    -- accounts under the other: one department.
    FOR t IN
      WITH p AS (
        SELECT e.name_key AS ek, f.name_key AS fk, count(DISTINCT e.url_key) AS k
          FROM smam.index_import_row e
          JOIN smam.index_import_row f ON f.import_id = import AND f.url_key = e.url_key AND f.names_in = 'fr'
                                      AND f.outcome IS NULL AND f.department_id IS NULL AND f.gc_org_id IS NULL
                                      AND f.name_key IS NOT NULL
         WHERE e.import_id = import AND e.names_in = 'en' AND e.outcome IS NULL AND e.department_id IS NULL
           AND e.gc_org_id IS NULL AND e.name_key IS NOT NULL
         GROUP BY 1, 2),
      -- Each name's accounts that the other language lists under a name
      -- still unknown (tied), and all its accounts (n).
      en AS (SELECT p.ek AS name_key, sum(p.k) AS tied,
                    (SELECT count(DISTINCT y.url_key) FROM smam.index_import_row y
                      WHERE y.import_id = import AND y.names_in = 'en' AND y.name_key = p.ek) AS n
               FROM p GROUP BY p.ek),
      fr AS (SELECT p.fk AS name_key, sum(p.k) AS tied,
                    (SELECT count(DISTINCT y.url_key) FROM smam.index_import_row y
                      WHERE y.import_id = import AND y.names_in = 'fr' AND y.name_key = p.fk) AS n
               FROM p GROUP BY p.fk)
      SELECT p.ek, p.fk, p.k,
             (SELECT btrim(y.department_given) FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = p.ek AND y.names_in = 'en' ORDER BY y.row_number LIMIT 1) AS name_en,
             (SELECT btrim(y.department_given) FROM smam.index_import_row y
               WHERE y.import_id = import AND y.name_key = p.fk AND y.names_in = 'fr' ORDER BY y.row_number LIMIT 1) AS name_fr
        FROM p JOIN en ON en.name_key = p.ek JOIN fr ON fr.name_key = p.fk
       WHERE 2 * p.k > en.tied AND 2 * p.k > fr.tied
         AND (p.k >= 2 OR (2 * p.k > en.n AND 2 * p.k > fr.n))
       ORDER BY p.ek
    LOOP
      CONTINUE WHEN smam.department_by_key(t.ek) IS NOT NULL OR smam.department_by_key(t.fk) IS NOT NULL;
      INSERT INTO smam.department (name_en, name_fr)
      VALUES (t.name_en, CASE WHEN t.fk <> t.ek THEN t.name_fr END)
      RETURNING id INTO dept;
      UPDATE smam.index_import_row x SET department_id = dept,
             notes = x.notes || format('department "%s" created from the %s accounts listed under "%s" in English and "%s" in French',
                                       x.department_given, t.k, t.name_en, t.name_fr)
       WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.gc_org_id IS NULL
         AND ((x.name_key = t.ek AND x.names_in = 'en') OR (x.name_key = t.fk AND x.names_in = 'fr'));
      changed := changed + 1;
    END LOOP;
    EXIT WHEN changed = 0 OR rounds >= 10;
  END LOOP;

  -- d. Joint names.
  FOR t IN
    SELECT k.name_key, k.spelling, k.lang, smam.department_of_joint_name(k.spelling) AS dept
      FROM (SELECT y.name_key, (array_agg(btrim(y.department_given) ORDER BY y.row_number))[1] AS spelling,
                   (array_agg(y.names_in ORDER BY y.row_number))[1] AS lang
              FROM smam.index_import_row y
             WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL AND y.name_key IS NOT NULL
             GROUP BY 1) k
  LOOP
    CONTINUE WHEN t.dept IS NULL;
    PERFORM smam.learn_department_name(t.dept, t.spelling, t.lang, 'joint name', import);
    UPDATE smam.index_import_row x SET department_id = t.dept,
           notes = x.notes || format('joint name "%s" placed with its first department, %s', x.department_given,
                                     (SELECT d.name_en FROM smam.department d WHERE d.id = t.dept))
     WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND x.name_key = t.name_key;
  END LOOP;

  -- e. What nothing ties: a department candidate; its rows are held.
  INSERT INTO smam.department_candidate AS c (name, name_key, lang, gc_org_id, first_import_id, last_import_id, last_rows)
  SELECT (array_agg(btrim(y.department_given) ORDER BY y.row_number))[1], y.name_key,
         (array_agg(y.names_in ORDER BY y.row_number))[1], min(y.gc_org_id), import, import, count(*)
    FROM smam.index_import_row y
   WHERE y.import_id = import AND y.outcome IS NULL AND y.department_id IS NULL AND y.name_key IS NOT NULL
   GROUP BY y.name_key
  ON CONFLICT (name_key) DO UPDATE
     SET last_import_id = excluded.last_import_id, last_seen_at = now(), last_rows = excluded.last_rows,
         gc_org_id = coalesce(excluded.gc_org_id, c.gc_org_id);
  UPDATE smam.index_import_row x
     SET outcome = 'held', candidate_id = c.id,
         reason = format('Department "%s" is a candidate (smam.department_candidate %s): %s. The entity confirms it as a department (smam.confirm_department_candidate) or maps it to one (smam.map_department_candidate); the row is placed then.',
                         c.name, c.id,
                         CASE WHEN x.gc_org_id IS NOT NULL
                              THEN format('gc_orgID %s is listed only under this French name, and a department needs its English name', x.gc_org_id)
                              ELSE 'no gc_orgID, no account listed under a known name and no known name ties it to a department' END)
    FROM smam.department_candidate c
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND c.name_key = x.name_key
     AND c.status = 'open';
  -- A row whose candidate was decided earlier: its department.
  UPDATE smam.index_import_row x SET department_id = c.department_id
    FROM smam.department_candidate c
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL AND c.name_key = x.name_key;

  -- Open candidates that this import tied close.
  UPDATE smam.department_candidate c
     SET status = 'tied', department_id = smam.department_by_key(c.name_key), decided_at = now(),
         decision_note = format('tied by import %s', import)
   WHERE c.status = 'open' AND smam.department_by_key(c.name_key) IS NOT NULL;

  -- Where and when each alias was last seen.
  UPDATE smam.department_alias a SET last_import_id = import, last_seen_at = now()
   WHERE a.name_key IN (SELECT y.name_key FROM smam.index_import_row y WHERE y.import_id = import);
END
$$;
COMMENT ON FUNCTION smam.import_departments(bigint) IS
  'Internal: tie each staged row''s department name to a department (known name, gc_orgID, the accounts it lists, joint name), or hold it as a candidate';

-- 3. Each placed row, its account: the live account with its address
--    (unchanged, or its names and language updated through the life
--    cycle's rules), or a new account onboarded. An account the index lists
--    under another department than its own is not moved by an import.
CREATE FUNCTION smam.import_accounts(import bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  r smam.index_import_row;
  acct smam.account;
  new_id bigint;
  other_name text;
  err_msg text;
  err_detail text;
BEGIN
  UPDATE smam.index_import_row x
     SET outcome = 'rejected',
         reason = format('gc_orgID %s has no department, and the row names none.', x.gc_org_id)
   WHERE x.import_id = import AND x.outcome IS NULL AND x.department_id IS NULL;

  -- Rows of accounts smam has, in one statement: another department's
  -- account is rejected; the same names and language, unchanged.
  UPDATE smam.index_import_row x
     SET account_id = CASE WHEN a.department_id = x.department_id THEN a.id END,
         outcome = CASE WHEN a.department_id <> x.department_id THEN 'rejected'
                        WHEN CASE WHEN x.names_in = 'en' THEN a.name_en ELSE a.name_fr END IS NOT DISTINCT FROM btrim(x.account_name)
                             AND a.official_language = x.official_language THEN 'unchanged' END,
         reason = CASE WHEN a.department_id <> x.department_id
                       THEN format('The account is account %s of department %s; the index lists it under "%s" (department %s). Moving an account between departments is a decision, not an import: the entity makes it with smam.move_account(account, department, reason).',
                                   a.id, a.department_id, x.department_given, x.department_id) END
    FROM smam.account a
   WHERE x.import_id = import AND x.outcome IS NULL AND a.url_key = x.url_key AND a.stage <> 'disposed';

  -- The rest, row by row: a change of names or language, or a new account
  -- (the same account listed in both languages is created once, with both
  -- names).
  FOR r IN SELECT * FROM smam.index_import_row x WHERE x.import_id = import AND x.outcome IS NULL
            ORDER BY x.row_number LOOP
    SELECT a.* INTO acct FROM smam.account a WHERE a.url_key = r.url_key AND a.stage <> 'disposed';
    IF NOT FOUND THEN
      BEGIN
        other_name := (SELECT btrim(x.account_name) FROM smam.index_import_row x
                        WHERE x.import_id = import AND x.url_key = r.url_key AND x.names_in <> r.names_in
                          AND x.row_number > r.row_number AND x.outcome IS NULL
                        ORDER BY x.row_number LIMIT 1);
        new_id := smam.onboard_account(r.department_id, r.platform, r.url_given,
                    CASE WHEN r.names_in = 'en' THEN r.account_name ELSE other_name END,
                    CASE WHEN r.names_in = 'fr' THEN r.account_name ELSE other_name END,
                    r.official_language,
                    format('listed in the canada.ca index%s; imported by import %s',
                           coalesce(' on ' || nullif(btrim(r.date_added_given), ''), ''), import),
                    NULL,
                    CASE WHEN btrim(coalesce(r.date_added_given, '')) ~ E'^\\d{4}-\\d{2}-\\d{2}$'
                         THEN btrim(r.date_added_given)::date END);
        r.outcome := 'created';
        r.account_id := new_id;
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
        r.outcome := 'rejected';
        r.reason := err_msg || coalesce(': ' || nullif(err_detail, ''), '');
      END;
    ELSIF acct.department_id <> r.department_id THEN
      r.outcome := 'rejected';
      r.reason := format('The account is account %s of department %s; the index lists it under "%s" (department %s). Moving an account between departments is a decision, not an import: the entity makes it with smam.move_account(account, department, reason).',
                         acct.id, acct.department_id, r.department_given, r.department_id);
    ELSIF (r.names_in = 'en' AND acct.name_en IS NOT DISTINCT FROM btrim(r.account_name)
           OR r.names_in = 'fr' AND acct.name_fr IS NOT DISTINCT FROM btrim(r.account_name))
          AND acct.official_language = r.official_language THEN
      r.outcome := 'unchanged';
      r.account_id := acct.id;
      IF EXISTS (SELECT 1 FROM smam.index_import_row x WHERE x.import_id = import AND x.url_key = r.url_key
                    AND x.row_number < r.row_number AND x.outcome IN ('created', 'updated', 'unchanged')) THEN
        r.notes := r.notes || 'the same account as an earlier row in the other language: its names in this language'::text;
      END IF;
    ELSE
      -- Names and language are the account's configuration: the change
      -- meets the life cycle's rules (src/lifecycle.c), or the row is
      -- rejected with the refusal.
      BEGIN
        UPDATE smam.account a
           SET name_en = CASE WHEN r.names_in = 'en' THEN btrim(r.account_name) ELSE a.name_en END,
               name_fr = CASE WHEN r.names_in = 'fr' THEN btrim(r.account_name) ELSE a.name_fr END,
               official_language = r.official_language
         WHERE a.id = acct.id;
        r.outcome := 'updated';
        r.account_id := acct.id;
        r.notes := r.notes || format('was: %s / %s / %s', acct.name_en, acct.name_fr, acct.official_language);
      EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
        r.outcome := 'rejected';
        r.account_id := NULL;
        r.reason := format('The index gives account %s other names or language (%s / %s); the account keeps its own: %s',
                           acct.id, r.account_name, r.official_language,
                           err_msg || coalesce(': ' || nullif(err_detail, ''), ''));
      END;
    END IF;
    UPDATE smam.index_import_row x SET outcome = r.outcome, reason = r.reason, account_id = r.account_id, notes = r.notes
     WHERE x.import_id = import AND x.row_number = r.row_number;
  END LOOP;
END
$$;
COMMENT ON FUNCTION smam.import_accounts(bigint) IS
  'Internal: give each placed row its account (unchanged, updated, onboarded) or the reason it is rejected';

-- The import's counts, recorded and returned.
CREATE FUNCTION smam.import_summarize(import bigint, vanished integer, departments_created integer, candidates integer)
  RETURNS smam.import_summary LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  s smam.import_summary;
BEGIN
  s.import_id := import;
  SELECT count(*), count(*) FILTER (WHERE outcome = 'created'), count(*) FILTER (WHERE outcome = 'updated'),
         count(*) FILTER (WHERE outcome = 'unchanged'), count(*) FILTER (WHERE outcome = 'rejected'),
         count(*) FILTER (WHERE outcome = 'held')
    INTO s.rows_read, s.created, s.updated, s.unchanged, s.rejected, s.held
    FROM smam.index_import_row WHERE import_id = import;
  s.vanished := vanished;
  s.departments_created := departments_created;
  s.candidates := candidates;
  UPDATE smam.index_import i
     SET rows_read = s.rows_read, created = s.created, updated = s.updated, unchanged = s.unchanged,
         rejected = s.rejected, held = s.held, vanished = s.vanished,
         departments_created = s.departments_created, candidates = s.candidates
   WHERE i.id = import;
  RETURN s;
END
$$;
COMMENT ON FUNCTION smam.import_summarize(bigint, integer, integer, integer) IS 'Internal: count an import''s outcomes, record and return them';

-- The import proper, over the rows staged in smam.index_import_row.
CREATE FUNCTION smam.import_staged(import bigint) RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  imp smam.index_import;
  depts_before bigint := (SELECT count(*) FROM smam.department);
  previous bigint;
  vanished integer;
BEGIN
  SELECT * INTO imp FROM smam.index_import WHERE id = import;
  -- The planner's statistics describe the rows table before this import
  -- staged its rows: without fresh ones it takes a few thousand rows for
  -- one and plans nested loops that grow with the square of the file. A
  -- sample, so bounded however many imports the table holds.
  ANALYZE smam.index_import_row;
  PERFORM smam.import_normalize(import);
  ANALYZE smam.index_import_row;
  PERFORM smam.import_check_disappearance(import);
  PERFORM smam.import_departments(import);
  PERFORM smam.import_accounts(import);

  -- 4. Accounts that reappear close their open review; live accounts that
  --    the previous import of the same scope listed and this one does not
  --    are flagged for a disposition review.
  UPDATE smam.disposition_review v
     SET resolved_at = now(), resolved_by = smam.acting_role(),
         resolution = format('listed again by import %s', import)
    FROM (SELECT DISTINCT x.account_id FROM smam.index_import_row x
           WHERE x.import_id = import AND x.account_id IS NOT NULL) l
   WHERE v.resolved_at IS NULL AND v.account_id = l.account_id;
  previous := smam.previous_import(import);
  INSERT INTO smam.disposition_review (account_id, department_id, import_id, reason)
  SELECT a.id, a.department_id, import,
         format('listed by import %s, absent from import %s (%s)', previous, import, imp.source)
    FROM (SELECT DISTINCT p.url_key FROM smam.index_import_row p
           WHERE p.import_id = previous AND p.url_key IS NOT NULL) l
    JOIN smam.account a ON a.url_key = l.url_key AND a.stage IN ('implementation', 'evaluation')
   WHERE previous IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM smam.index_import_row x
                      WHERE x.import_id = import AND x.url_key = a.url_key)
     AND NOT EXISTS (SELECT 1 FROM smam.disposition_review v WHERE v.account_id = a.id AND v.resolved_at IS NULL);
  GET DIAGNOSTICS vanished = ROW_COUNT;

  PERFORM smam.import_owner_labels(import);  -- issue 17: owners the feed's links name (sql/smam/71_owner_labels.sql)
  RETURN smam.import_summarize(import, vanished, ((SELECT count(*) FROM smam.department) - depts_before)::integer,
                               (SELECT count(DISTINCT x.candidate_id) FROM smam.index_import_row x
                                 WHERE x.import_id = import AND x.candidate_id IS NOT NULL)::integer);
END
$$;
COMMENT ON FUNCTION smam.import_staged(bigint) IS
  'Internal: read, check, place and account for the staged rows of an import; flag vanished accounts; return the summary';

-- ---- The entity's decisions on department candidates ----

-- Place the held rows of a decided candidate, in the latest import that
-- holds rows for it.
CREATE FUNCTION smam.place_held_rows(candidate bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
  imp bigint;
  n integer;
  s smam.index_import;
BEGIN
  SELECT * INTO c FROM smam.department_candidate x WHERE x.id = candidate;
  imp := (SELECT max(x.import_id) FROM smam.index_import_row x WHERE x.candidate_id = candidate AND x.outcome = 'held');
  IF imp IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE smam.index_import_row x
     SET outcome = NULL, reason = NULL, candidate_id = NULL, department_id = c.department_id,
         notes = x.notes || format('held for department candidate %s, placed in department %s (%s)', candidate, c.department_id, c.status)
   WHERE x.import_id = imp AND x.candidate_id = candidate AND x.outcome = 'held';
  GET DIAGNOSTICS n = ROW_COUNT;
  PERFORM smam.import_accounts(imp);
  SELECT * INTO s FROM smam.index_import i WHERE i.id = imp;
  PERFORM smam.import_summarize(imp, s.vanished, s.departments_created,
                                (SELECT count(DISTINCT x.candidate_id) FROM smam.index_import_row x
                                  WHERE x.import_id = imp AND x.candidate_id IS NOT NULL)::integer);
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.place_held_rows(bigint) IS
  'Internal: once a candidate is decided, place the rows the latest import held for it; returns how many';

CREATE FUNCTION smam.candidate_for_decision(candidate bigint) RETURNS smam.department_candidate
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
BEGIN
  SELECT * INTO c FROM smam.department_candidate x WHERE x.id = candidate FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', '6.2.4', format('department candidate %s does not exist', candidate), NULL,
      'List the open candidates in smam.department_candidate (status open).');
  END IF;
  IF c.status <> 'open' THEN
    PERFORM smam.refuse('55000', '6.2.4', format('department candidate %s is already decided', candidate),
      format('It was %s (department %s) on %s.', c.status, c.department_id,
             to_char(c.decided_at AT TIME ZONE smam.time_zone(), 'YYYY-MM-DD HH24:MI')),
      'Rename or merge the department itself if the decision was wrong (smam.merge_departments).');
  END IF;
  RETURN c;
END
$$;
COMMENT ON FUNCTION smam.candidate_for_decision(bigint) IS 'Internal: the open candidate, locked, or a refusal';

-- The candidate is a department of its own: the entity gives its names.
CREATE FUNCTION smam.confirm_department_candidate(candidate bigint, name_en text, name_fr text DEFAULT NULL,
                                                  note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
  dept bigint;
  taken bigint;
BEGIN
  PERFORM smam.require_importer('decide on a department candidate');
  c := smam.candidate_for_decision(candidate);
  IF coalesce(btrim(name_en), '') = '' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'a department needs its English name',
      'The index publishes each department under its English name in English and its French name in French.',
      format('Give the English name of "%s" (and its French name).', c.name));
  END IF;
  IF length(btrim(name_en)) > 300 OR length(btrim(name_fr)) > 300 THEN
    PERFORM smam.refuse('22001', '6.2.4', 'a department''s name is at most 300 characters', NULL,
      'Give the department''s name as it is published.');
  END IF;
  taken := coalesce(smam.department_by_name(name_en), smam.department_by_name(name_fr));
  IF taken IS NOT NULL THEN
    PERFORM smam.refuse('23505', '6.2.4', format('department %s already has the name "%s"', taken,
                                                 CASE WHEN smam.department_by_name(name_en) IS NOT NULL THEN name_en ELSE name_fr END),
      'A name stands for one department.',
      format('Map the candidate to department %s instead (smam.map_department_candidate(%s, %s, note)).', taken, candidate, taken));
  END IF;
  INSERT INTO smam.department (name_en, name_fr, gc_org_id)
  VALUES (btrim(name_en), nullif(btrim(name_fr), ''),
          CASE WHEN smam.department_by_org_id(c.gc_org_id) IS NULL THEN c.gc_org_id END)
  RETURNING id INTO dept;
  PERFORM smam.learn_department_name(dept, c.name, c.lang, 'confirmed by the entity', NULL);
  UPDATE smam.department_candidate x
     SET status = 'confirmed', department_id = dept, decided_by = smam.acting_role(), decided_at = now(),
         decision_note = nullif(btrim(note), '')
   WHERE x.id = candidate;
  PERFORM smam.place_held_rows(candidate);
  RETURN dept;
END
$$;
COMMENT ON FUNCTION smam.confirm_department_candidate(bigint, text, text, text) IS
  'Make a department candidate a department with these names (entity official or administrator); its held rows are placed; returns the department';

-- The candidate is another name of an existing department.
CREATE FUNCTION smam.map_department_candidate(candidate bigint, department bigint, note text DEFAULT NULL)
  RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  c smam.department_candidate;
BEGIN
  PERFORM smam.require_importer('decide on a department candidate');
  c := smam.candidate_for_decision(candidate);
  IF NOT EXISTS (SELECT 1 FROM smam.department d WHERE d.id = department) THEN
    PERFORM smam.refuse('42704', '6.2.4', format('department %s does not exist', department), NULL,
      'Find the department with smam.find_department(), or confirm the candidate as a new one (smam.confirm_department_candidate).');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  PERFORM smam.learn_department_name(department, c.name, c.lang, 'mapped by the entity', NULL);
  IF c.gc_org_id IS NOT NULL AND smam.department_by_org_id(c.gc_org_id) IS NULL THEN
    INSERT INTO smam.department_org_alias (gc_org_id, department_id, how)
    VALUES (c.gc_org_id, department, format('department candidate %s mapped by the entity', candidate));
  END IF;
  UPDATE smam.department_candidate x
     SET status = 'mapped', department_id = department, decided_by = smam.acting_role(), decided_at = now(),
         decision_note = nullif(btrim(note), '')
   WHERE x.id = candidate;
  RETURN smam.place_held_rows(candidate);
END
$$;
COMMENT ON FUNCTION smam.map_department_candidate(bigint, bigint, text) IS
  'Record a department candidate as another name of a department (entity official or administrator); its held rows are placed; returns how many';
-- The CSV file's content, as a client holds it.
CREATE FUNCTION smam.import_index(csv text, accept_disappearance boolean DEFAULT false) RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  header text[];
  col jsonb := '{}';
  need text[] := ARRAY['account', 'platform', 'department', 'language', 'url'];
  missing text[];
  import bigint;
BEGIN
  PERFORM smam.require_importer();
  IF csv IS NULL OR btrim(csv) = '' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'the index file is empty', NULL,
      'Pass the content of the CSV file, header line first.');
  END IF;
  SELECT c.fields INTO header FROM smam.csv_records(csv) c ORDER BY c.record_number LIMIT 1;
  SELECT jsonb_object_agg(lower(btrim(h.name)), h.pos) INTO col
    FROM unnest(header) WITH ORDINALITY AS h(name, pos);
  SELECT array_agg(n) INTO missing FROM unnest(need) n WHERE NOT coalesce(col, '{}') ? n;
  IF missing IS NOT NULL THEN
    PERFORM smam.refuse('22023', '6.2.4',
      format('the index file lacks the column%s %s', CASE WHEN cardinality(missing) > 1 THEN 's' ELSE '' END,
             array_to_string(missing, ', ')),
      format('Its first line reads: %s', left(split_part(csv, E'\n', 1), 200)),
      'Give the canada.ca index as CSV with the columns Account, Platform, Department, Language, URL and, where known, gc_orgID and Date Added.');
  END IF;
  INSERT INTO smam.index_import (source, content_sha256, disappearance_accepted)
  VALUES ('csv', encode(sha256(convert_to(csv, 'UTF8')), 'hex'), coalesce(accept_disappearance, false))
  RETURNING id INTO import;
  INSERT INTO smam.index_import_row (import_id, row_number, line_number, raw, account_name, platform_given,
                                     department_given, language_given, url_given, gc_org_id_given,
                                     date_added_given, outcome, reason)
  SELECT import, c.record_number - 1, c.line_number, c.raw,
         c.fields[(col->>'account')::int], c.fields[(col->>'platform')::int],
         c.fields[(col->>'department')::int], c.fields[(col->>'language')::int],
         c.fields[(col->>'url')::int], c.fields[(col->>'gc_orgid')::int],
         c.fields[(col->>'date added')::int],
         CASE WHEN c.problem IS NOT NULL OR cardinality(c.fields) <> cardinality(header) THEN 'rejected' END,
         CASE WHEN c.problem IS NOT NULL THEN c.problem
              WHEN cardinality(c.fields) <> cardinality(header)
              THEN format('The row has %s fields; the header has %s.', cardinality(c.fields), cardinality(header)) END
    FROM smam.csv_records(csv) c
   WHERE c.record_number > 1;
  RETURN smam.import_staged(import);
END
$$;
COMMENT ON FUNCTION smam.import_index(text, boolean) IS
  'Import the canada.ca index as CSV content (entity official or administrator); accept_disappearance: more accounts than smam.index_disappearance_limit allows left the index on purpose; returns the summary';

-- The canada.ca feed itself: {"aaData": [[account, platform, department,
-- language, link], ...]}, English or French, in canada.ca's markup
-- (<span class="label label-default">X</span>, <span>Department</span>: ...,
-- <span>Language</span>: ..., <a class="..." href="..."><span class="wb-inv">
-- owner - </span>Go to social media account</a>) or as bare text.
CREATE FUNCTION smam.check_feed(feed jsonb, lang text) RETURNS void
  LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF lang IS NULL OR lang NOT IN ('en', 'fr') THEN
    PERFORM smam.refuse('22023', '6.2.4', format('feed language "%s" is not en or fr', lang), NULL,
      'The canada.ca index has an English feed (en) and a French feed (fr).');
  END IF;
  IF feed IS NULL OR jsonb_typeof(feed -> 'aaData') IS DISTINCT FROM 'array' THEN
    PERFORM smam.refuse('22023', '6.2.4', 'the feed has no aaData array', NULL,
      'Give the feed as canada.ca publishes it: {"aaData": [[account, platform, department, language, link], ...]}.');
  END IF;
END
$$;
COMMENT ON FUNCTION smam.check_feed(jsonb, text) IS 'Internal: refuse (22023) a feed without aaData or a language other than en, fr';

CREATE FUNCTION smam.stage_feed(import bigint, feed jsonb, lang text, first_row integer) RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  INSERT INTO smam.index_import_row (import_id, row_number, raw, account_name, platform_given, department_given,
                                     language_given, url_given, names_in, outcome, reason,
                                     owner_label_given)  -- issue 17 (sql/smam/71_owner_labels.sql)
  SELECT import, first_row + e.n::integer - 1, e.v::text,
         CASE WHEN ok THEN btrim(smam.html_unescape(e.v ->> 0)) END,
         CASE WHEN ok THEN btrim(smam.html_unescape(e.v ->> 1)) END,
         CASE WHEN ok THEN regexp_replace(btrim(smam.html_unescape(e.v ->> 2)),
                                          E'^(Department|Minist\u00E8re|Organization|Organisation)\\s*:\\s*', '', 'i') END,
         CASE WHEN ok THEN regexp_replace(btrim(smam.html_unescape(e.v ->> 3)), E'^(Language|Langue)\\s*:\\s*', '', 'i') END,
         CASE WHEN ok THEN btrim(smam.html_unescape(coalesce(
                substring(e.v ->> 4 FROM E'(?i)href\\s*=\\s*"([^"]*)"'),
                substring(e.v ->> 4 FROM E'(?i)href\\s*=\\s*\'([^\']*)\''),
                e.v ->> 4))) END,
         lang,
         CASE WHEN NOT ok THEN 'rejected' END,
         CASE WHEN NOT ok THEN 'The entry is not an array of five texts: account, platform, department, language, link.' END,
         CASE WHEN ok THEN smam.feed_link_owner(e.v ->> 4) END  -- issue 17: the link's wb-inv owner text
    FROM jsonb_array_elements(feed -> 'aaData') WITH ORDINALITY AS e(v, n),
         LATERAL (SELECT jsonb_typeof(e.v) = 'array' AND jsonb_array_length(e.v) >= 5
                         AND (SELECT bool_and(jsonb_typeof(x) = 'string')
                                FROM jsonb_array_elements(e.v) WITH ORDINALITY y(x, i) WHERE y.i <= 5) AS ok) k;
END
$$;
COMMENT ON FUNCTION smam.stage_feed(bigint, jsonb, text, integer) IS
  'Internal: stage the entries of a canada.ca feed as rows of an import, numbered from first_row';

CREATE FUNCTION smam.import_index_feed(feed jsonb, lang text, accept_disappearance boolean DEFAULT false)
  RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  import bigint;
BEGIN
  PERFORM smam.require_importer();
  PERFORM smam.check_feed(feed, lang);
  INSERT INTO smam.index_import (source, content_sha256, disappearance_accepted)
  VALUES ('feed-' || lang, encode(sha256(convert_to(feed::text, 'UTF8')), 'hex'), coalesce(accept_disappearance, false))
  RETURNING id INTO import;
  PERFORM smam.stage_feed(import, feed, lang, 1);
  RETURN smam.import_staged(import);
END
$$;
COMMENT ON FUNCTION smam.import_index_feed(jsonb, text, boolean) IS
  'Import one canada.ca aaData feed (en or fr; names are taken in that language) (entity official or administrator); returns the summary';

-- Both feeds at once, as canada.ca publishes them: one import, so that an
-- account listed in both ties its department's English and French names.
CREATE FUNCTION smam.import_index_feeds(feed_en jsonb, feed_fr jsonb, accept_disappearance boolean DEFAULT false)
  RETURNS smam.import_summary
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  import bigint;
BEGIN
  PERFORM smam.require_importer();
  PERFORM smam.check_feed(feed_en, 'en');
  PERFORM smam.check_feed(feed_fr, 'fr');
  INSERT INTO smam.index_import (source, content_sha256, disappearance_accepted)
  VALUES ('feeds', encode(sha256(convert_to(feed_en::text || E'\n' || feed_fr::text, 'UTF8')), 'hex'),
          coalesce(accept_disappearance, false))
  RETURNING id INTO import;
  PERFORM smam.stage_feed(import, feed_en, 'en', 1);
  PERFORM smam.stage_feed(import, feed_fr, 'fr', jsonb_array_length(feed_en -> 'aaData') + 1);
  RETURN smam.import_staged(import);
END
$$;
COMMENT ON FUNCTION smam.import_index_feeds(jsonb, jsonb, boolean) IS
  'Import both canada.ca feeds (English, French) as one import, so that accounts listed in both tie the department names (entity official or administrator); returns the summary';

ALTER TABLE smam.department_alias ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.department_org_alias ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.department_candidate ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_import ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_import_row ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.disposition_review ENABLE ROW LEVEL SECURITY;
CREATE POLICY department_alias_read ON smam.department_alias FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY department_org_alias_read ON smam.department_org_alias FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY department_candidate_read ON smam.department_candidate FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_import_read ON smam.index_import FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_import_row_read ON smam.index_import_row FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_import_row_department ON smam.index_import_row FOR SELECT TO smam_department
  USING (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY disposition_review_read ON smam.disposition_review FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY disposition_review_department ON smam.disposition_review FOR SELECT TO smam_department
  USING (department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.department_alias, smam.department_org_alias TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT SELECT ON smam.department_candidate TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON smam.index_import, smam.index_reject TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON smam.index_import_row, smam.disposition_review
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.import_index(text, boolean), smam.import_index_feed(jsonb, text, boolean),
  smam.import_index_feeds(jsonb, jsonb, boolean), smam.confirm_department_candidate(bigint, text, text, text),
  smam.map_department_candidate(bigint, bigint, text) TO smam_admin, smam_entity;
GRANT EXECUTE ON FUNCTION smam.csv_records(text), smam.html_escape(text), smam.html_unescape(text),
  smam.official_language_of(text), smam.spelled_in_french(text), smam.department_name_key(text),
  smam.department_by_name(text), smam.department_by_key(text), smam.department_by_org_id(integer),
  smam.department_of_joint_name(text)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.department_alias', '');
SELECT pg_catalog.pg_extension_config_dump('smam.department_org_alias', '');
SELECT pg_catalog.pg_extension_config_dump('smam.department_candidate', '');
SELECT pg_catalog.pg_extension_config_dump('smam.department_candidate_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_import_row', '');
SELECT pg_catalog.pg_extension_config_dump('smam.disposition_review', '');
SELECT pg_catalog.pg_extension_config_dump('smam.disposition_review_id_seq', '');

-- ---- sql/smam/71_owner_labels.sql ----
-- Whose account it is (6.2.4, issue 17). canada.ca's feed ends each entry
-- with a link whose hidden text (<span class="wb-inv">, read only by screen
-- readers) names the account's owner: "Office of the Prime Minister - Go to
-- social media account". It is usually the department, and sometimes not
-- (CanadianPM is the Prime Minister's, under the Privy Council Office). The
-- import of the feed keeps that text (smam.index_import_row.owner_label_given),
-- smam.import_owner_labels() keeps it for the account where it names someone
-- other than the department, and the feeds (sql/smam/72_public_index.sql,
-- src/feed.c) write it back: the owner label in that language, else the
-- department's name. Docs: docs/index-and-compliance.md, "Owner labels".

-- The link's hidden text, as the import stages it (smam.import_index_feed).
ALTER TABLE smam.index_import_row ADD COLUMN owner_label_given text;
COMMENT ON COLUMN smam.index_import_row.owner_label_given IS
  'The owner the feed''s link names to a screen reader (its wb-inv text, read as text, without the " - " before "Go to social media account"); NULL when the link has none (the bare form, or CSV)';

-- The owner a feed link's cell names: the text of its <span class="wb-inv">
-- (tags removed, character references read), without the separator " - "
-- canada.ca puts before "Go to social media account", spaces made single;
-- NULL when the cell has no such span (a bare <a href=...>...</a>).
CREATE FUNCTION smam.feed_link_owner(link text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT btrim(regexp_replace(regexp_replace(
             smam.html_unescape(substring(link FROM E'(?i)<span\\s[^>]*\\mwb-inv\\M[^>]*>((?:[^<]|<(?!/span\\s*>))*)</span\\s*>')),
             E'\\s+', ' ', 'g'), E'\\s*-\\s*$', ''))
  $$;
COMMENT ON FUNCTION smam.feed_link_owner(text) IS
  'The owner a canada.ca feed link names in its hidden wb-inv text ("Office of the Prime Minister - "), read as text; NULL if none';

-- Why an owner label cannot be published, or NULL: as a department's name,
-- at most 300 characters, and text (no control characters), not empty.
CREATE FUNCTION smam.owner_label_problem(label text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN label IS NULL THEN NULL
                WHEN btrim(label) = '' THEN 'The link''s hidden text names no owner.'
                WHEN length(btrim(label)) > 300
                THEN format('The owner''s name has %s characters; the index publishes at most 300.', length(btrim(label)))
                WHEN label ~ E'[\\x01-\\x1f\\x7f-\\x9f]' THEN 'The owner''s name holds a control character.' END
  $$;
COMMENT ON FUNCTION smam.owner_label_problem(text) IS
  'Why an owner label cannot be published (empty, over 300 characters, a control character), or NULL';

CREATE TABLE smam.account_owner_label (
  account_id   bigint NOT NULL REFERENCES smam.account (id),
  lang         text NOT NULL CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  label        text NOT NULL,
  import_id    bigint REFERENCES smam.index_import (id),
  recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (account_id, lang),
  -- Published as a department's name is: bounded, trimmed, text.
  CONSTRAINT account_owner_label_text CHECK (
    label OPERATOR(pg_catalog.=) pg_catalog.btrim(label) AND label OPERATOR(pg_catalog.<>) ''
    AND pg_catalog.length(label) OPERATOR(pg_catalog.<=) 300
    AND label OPERATOR(pg_catalog.!~) E'[\\x01-\\x1f\\x7f-\\x9f]')
);
COMMENT ON TABLE smam.account_owner_label IS
  'Whose account it is, where the index names someone other than the department (6.2.4): the feed''s link says it to screen readers';
COMMENT ON COLUMN smam.account_owner_label.lang IS 'en or fr: the feed that names the owner so, and that writes it';
COMMENT ON COLUMN smam.account_owner_label.label IS 'The owner as the index names it ("Office of the Prime Minister"), as text (not HTML)';
COMMENT ON COLUMN smam.account_owner_label.import_id IS 'The import that last gave it';

-- Called by smam.import_staged once its rows are placed: for each row of
-- the import that is an account and whose link names an owner, in the row's
-- language, keep the owner where it is neither the department the row names
-- nor the placed department's name in that language; forget a kept one
-- where the index now names the department. An owner that cannot be
-- published is set aside, and the row's notes say why. Returns how many
-- labels it wrote or removed.
CREATE FUNCTION smam.import_owner_labels(import bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  r record;
  given text;
  problem text;
  dept_name text;
  old text;
  n integer := 0;
BEGIN
  FOR r IN
    SELECT x.row_number, x.account_id, x.names_in AS lang, x.owner_label_given, x.department_given, x.department_id
      FROM smam.index_import_row x
     WHERE x.import_id = import AND x.owner_label_given IS NOT NULL AND x.account_id IS NOT NULL
       AND x.outcome IN ('created', 'updated', 'unchanged')
     ORDER BY x.row_number
  LOOP
    given := regexp_replace(btrim(r.owner_label_given), E'\\s+', ' ', 'g');
    problem := smam.owner_label_problem(given);
    IF problem IS NOT NULL THEN
      UPDATE smam.index_import_row x SET notes = x.notes || format('owner set aside: %s', problem)
       WHERE x.import_id = import AND x.row_number = r.row_number;
      CONTINUE;
    END IF;
    dept_name := (SELECT CASE WHEN r.lang = 'fr' THEN d.name_fr ELSE d.name_en END
                    FROM smam.department d JOIN smam.account a ON a.department_id = d.id WHERE a.id = r.account_id);
    old := (SELECT l.label FROM smam.account_owner_label l WHERE l.account_id = r.account_id AND l.lang = r.lang);
    IF given IN (regexp_replace(btrim(r.department_given), E'\\s+', ' ', 'g'), coalesce(dept_name, '')) THEN
      -- The index names the department: the feed says so by itself.
      IF old IS NOT NULL THEN
        DELETE FROM smam.account_owner_label l WHERE l.account_id = r.account_id AND l.lang = r.lang;
        UPDATE smam.index_import_row x SET notes = x.notes || format('owner "%s" forgotten: the index names the department', old)
         WHERE x.import_id = import AND x.row_number = r.row_number;
        n := n + 1;
      END IF;
    ELSIF old IS DISTINCT FROM given THEN
      INSERT INTO smam.account_owner_label AS l (account_id, lang, label, import_id)
      VALUES (r.account_id, r.lang, given, import)
      ON CONFLICT (account_id, lang) DO UPDATE SET label = excluded.label, import_id = excluded.import_id,
                                                   recorded_at = excluded.recorded_at;
      UPDATE smam.index_import_row x
         SET notes = x.notes || format('owner "%s" kept: the link names it, not the department%s', given,
                                       CASE WHEN old IS NOT NULL THEN format(' (was "%s")', old) ELSE '' END)
       WHERE x.import_id = import AND x.row_number = r.row_number;
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.import_owner_labels(bigint) IS
  'Internal (smam.import_staged): keep the owners an import''s feed names other than the department, forget those it no longer names';

ALTER TABLE smam.account_owner_label ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_owner_label_read ON smam.account_owner_label FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
CREATE POLICY account_owner_label_department ON smam.account_owner_label FOR SELECT TO smam_department
  USING (account_id OPERATOR(pg_catalog.=) ANY (ARRAY(
    SELECT a.id FROM smam.account a
     WHERE a.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]))));
GRANT SELECT ON smam.account_owner_label TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.feed_link_owner(text), smam.owner_label_problem(text)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.account_owner_label', '');

-- ---- sql/smam/72_public_index.sql ----
-- The public index of official accounts (6.2.4): the live accounts
-- (implementation, evaluation) as a view the public may read, the canada.ca
-- feed in English and French, a JSON document for APIs, and the record of
-- each publication (time, hash, what was listed).

CREATE VIEW smam.public_index WITH (security_barrier = true) AS
  SELECT d.name_en                          AS department_en,
         coalesce(d.name_fr, d.name_en)     AS department_fr,
         a.name_en                          AS account_en,
         a.name_fr                          AS account_fr,
         p.name                             AS platform,
         a.url                              AS url,
         a.official_language::text          AS official_language,
         a.listed_on                        AS listed_on,
         coalesce(oe.label, d.name_en)      AS owner_en,
         coalesce(ofr.label, d.name_fr, d.name_en) AS owner_fr
    FROM smam.account a
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) a.department_id
    JOIN smam.platform p ON p.code OPERATOR(pg_catalog.=) a.platform
    -- Unique on (account_id, lang): a query that reads neither owner column
    -- does not join them (PostgreSQL removes the joins).
    LEFT JOIN smam.account_owner_label oe
           ON oe.account_id OPERATOR(pg_catalog.=) a.id AND oe.lang OPERATOR(pg_catalog.=) 'en'
    LEFT JOIN smam.account_owner_label ofr
           ON ofr.account_id OPERATOR(pg_catalog.=) a.id AND ofr.lang OPERATOR(pg_catalog.=) 'fr'
   WHERE a.stage OPERATOR(pg_catalog.=) ANY (ARRAY['implementation', 'evaluation']::smam.stage[]);
COMMENT ON VIEW smam.public_index IS
  'Index of official social media accounts (6.2.4): live accounts only, nothing internal; readable by smam_public';
-- The meaning of each column of smam.public_index: sql/smam/95_report_dictionary.sql.

-- One entry of the feed, in canada.ca's markup (the page's styles and a
-- screen reader read it): the account's name; the platform as a label;
-- "Department" / "Ministère " and "Language" / "Langue" in spans; a link
-- button whose hidden text (wb-inv) names whose account it is, so that no
-- two links read the same (WCAG 2.4.4). Every text escaped for HTML; French
-- labels and names in the French feed. The five cells as text[]: the
-- description in SQL of what the feeds below write (the tests compare them).
-- owner_en and owner_fr (smam.public_index) default to the department.
CREATE FUNCTION smam.feed_cells(lang text, department_en text, department_fr text, account_en text,
                                account_fr text, platform text, url text, official_language text,
                                owner_en text DEFAULT NULL, owner_fr text DEFAULT NULL)
  RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
  -- No SET clause, so that it is inlined into the caller's query; every
  -- name in it is schema-qualified instead.
  AS $$
    SELECT ARRAY[
      smam.html_escape(CASE WHEN lang OPERATOR(pg_catalog.=) 'fr' THEN coalesce(account_fr, account_en)
                            ELSE coalesce(account_en, account_fr) END),
      '<span class="label label-default">' OPERATOR(pg_catalog.||) smam.html_escape(platform)
        OPERATOR(pg_catalog.||) '</span>',
      CASE WHEN lang OPERATOR(pg_catalog.=) 'fr'
           THEN '<span>Ministère </span>: ' OPERATOR(pg_catalog.||) smam.html_escape(department_fr)
           ELSE '<span>Department</span>: ' OPERATOR(pg_catalog.||) smam.html_escape(department_en) END,
      CASE WHEN lang OPERATOR(pg_catalog.=) 'fr'
           THEN '<span>Langue</span>: ' OPERATOR(pg_catalog.||)
                CASE WHEN official_language OPERATOR(pg_catalog.=) 'english' THEN 'Anglais'
                     WHEN official_language OPERATOR(pg_catalog.=) 'french' THEN 'Français' ELSE 'Bilingue' END
           ELSE '<span>Language</span>: ' OPERATOR(pg_catalog.||)
                CASE WHEN official_language OPERATOR(pg_catalog.=) 'english' THEN 'English'
                     WHEN official_language OPERATOR(pg_catalog.=) 'french' THEN 'French' ELSE 'Bilingual' END END,
      '<a class="product-link btn btn-primary" href="' OPERATOR(pg_catalog.||) smam.html_escape(url)
        OPERATOR(pg_catalog.||) '"><span class="wb-inv">'
        OPERATOR(pg_catalog.||) smam.html_escape(CASE WHEN lang OPERATOR(pg_catalog.=) 'fr'
                                                      THEN coalesce(owner_fr, department_fr)
                                                      ELSE coalesce(owner_en, department_en) END)
        OPERATOR(pg_catalog.||) ' - </span>'
        OPERATOR(pg_catalog.||) CASE WHEN lang OPERATOR(pg_catalog.=) 'fr' THEN 'Aller au compte de média social'
                                     ELSE 'Go to social media account' END
        OPERATOR(pg_catalog.||) '</a>']
  $$;
COMMENT ON FUNCTION smam.feed_cells(text, text, text, text, text, text, text, text, text, text) IS
  'The five cells of one canada.ca feed entry in canada.ca''s markup: account, platform label, department, language, link button naming the owner; HTML-escaped';

-- The feeds themselves are written in C (src/feed.c): one pass over the
-- live accounts in the published order, each entry's cells escaped for
-- HTML and written straight into the document, with no aggregate state or
-- copy of the document in between. smam.feed_cells() above is their
-- description in SQL; the tests hold the two to the same output.
CREATE FUNCTION smam.public_index_feed(lang text DEFAULT 'en') RETURNS jsonb
  LANGUAGE c STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET jit = off
  AS 'MODULE_PATHNAME', 'smam_public_index_feed';
COMMENT ON FUNCTION smam.public_index_feed(text) IS
  'The index as the canada.ca feed for en or fr, in canada.ca''s markup: {"aaData": [[account, platform label, department, language, link button], ...]}';

-- The same feed as the text of the file a website serves (json keeps the
-- text as written, which is cheaper than building jsonb).
CREATE FUNCTION smam.public_index_feed_json(lang text DEFAULT 'en') RETURNS json
  LANGUAGE c STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET jit = off
  AS 'MODULE_PATHNAME', 'smam_public_index_feed_json';
COMMENT ON FUNCTION smam.public_index_feed_json(text) IS
  'The canada.ca feed for en or fr as json text, ready to serve as sm-en.json / sm-fr.json; the same content as smam.public_index_feed';

-- The index for APIs: plain JSON, both languages, no HTML.
CREATE FUNCTION smam.public_index_document() RETURNS jsonb
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '64MB'
  SET jit = off
  AS $$
    SELECT jsonb_build_object(
      'title', jsonb_build_object('en', 'Index of official Government of Canada social media accounts',
                                  'fr', 'Répertoire des comptes officiels de médias sociaux du gouvernement du Canada'),
      'count', count(*),
      'accounts', coalesce(jsonb_agg(jsonb_build_object(
          'department', jsonb_build_object('en', i.department_en, 'fr', i.department_fr),
          'name', jsonb_build_object('en', i.account_en, 'fr', i.account_fr),
          'platform', i.platform, 'url', i.url, 'official_language', i.official_language,
          'listed_on', i.listed_on) ORDER BY i.url), '[]'::jsonb))
      FROM smam.public_index i
  $$;
COMMENT ON FUNCTION smam.public_index_document() IS
  'The index as a JSON document for APIs: {"title", "count", "accounts": [{department{en,fr}, name{en,fr}, platform, url, official_language, listed_on}]}';

-- Publications: each snapshot with its time, hash and entries.
CREATE SEQUENCE smam.index_snapshot_id_seq;
CREATE TABLE smam.index_snapshot (
  id              bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.index_snapshot_id_seq'),
  published_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  published_by    name NOT NULL DEFAULT smam.acting_role(),
  account_count   integer NOT NULL,
  content_sha256  text NOT NULL,
  document        jsonb NOT NULL
);
ALTER SEQUENCE smam.index_snapshot_id_seq OWNED BY smam.index_snapshot.id;
CREATE INDEX index_snapshot_published_idx ON smam.index_snapshot (published_at);
COMMENT ON TABLE smam.index_snapshot IS 'Each publication of the index (6.2.4): when, by whom, the document and its SHA-256';
COMMENT ON COLUMN smam.index_snapshot.content_sha256 IS 'SHA-256 of the published document''s accounts array (text form)';

CREATE TABLE smam.index_snapshot_entry (
  snapshot_id  bigint NOT NULL REFERENCES smam.index_snapshot (id),
  account_id   bigint NOT NULL REFERENCES smam.account (id),
  entry_md5    text NOT NULL,
  PRIMARY KEY (snapshot_id, account_id)
);
COMMENT ON TABLE smam.index_snapshot_entry IS 'The accounts a publication listed, with a digest of what it said of each';

-- What the index says of an account, as a digest, to tell a stale entry.
CREATE FUNCTION smam.index_entry_md5(a smam.account) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT md5(concat_ws(E'\x1f', a.department_id, a.platform, a.url, a.name_en, a.name_fr,
                         a.official_language, to_char(a.listed_on, 'YYYY-MM-DD')))
  $$;
COMMENT ON FUNCTION smam.index_entry_md5(smam.account) IS 'Digest of what the public index says of an account';

-- The files a publication puts on the website: sm-en.json and sm-fr.json,
-- the exact bytes (UTF-8) smam.public_index_feed_json() wrote, with their
-- SHA-256, so that a file the website serves can be checked against the
-- record (smam.check_index_file) and given back as it was
-- (smam.published_index_file).
CREATE TABLE smam.index_snapshot_file (
  snapshot_id     bigint NOT NULL REFERENCES smam.index_snapshot (id),
  lang            text NOT NULL CHECK (lang OPERATOR(pg_catalog.=) ANY (ARRAY['en', 'fr'])),
  file_name       text NOT NULL,
  content_sha256  text NOT NULL,
  byte_count      integer NOT NULL,
  content         bytea NOT NULL,
  PRIMARY KEY (snapshot_id, lang),
  CONSTRAINT index_snapshot_file_name CHECK (file_name OPERATOR(pg_catalog.=) ('sm-' OPERATOR(pg_catalog.||) lang OPERATOR(pg_catalog.||) '.json')),
  -- The record holds together: the hash and the size are the content's.
  CONSTRAINT index_snapshot_file_sha256
    CHECK (content_sha256 OPERATOR(pg_catalog.=) pg_catalog.encode(pg_catalog.sha256(content), 'hex')),
  CONSTRAINT index_snapshot_file_bytes CHECK (byte_count OPERATOR(pg_catalog.=) pg_catalog.octet_length(content))
);
CREATE INDEX index_snapshot_file_sha256_idx ON smam.index_snapshot_file (content_sha256);
COMMENT ON TABLE smam.index_snapshot_file IS
  'The files each publication of the index put on the website (6.2.4): sm-en.json and sm-fr.json, byte for byte, with their SHA-256';
COMMENT ON COLUMN smam.index_snapshot_file.content IS
  'The file''s bytes: smam.public_index_feed_json(lang) as published, in UTF-8';
COMMENT ON COLUMN smam.index_snapshot_file.content_sha256 IS 'SHA-256 of the file''s bytes, hex (as sha256sum writes it)';

CREATE FUNCTION smam.publish_index() RETURNS bigint
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  new_id bigint;
BEGIN
  IF NOT (smam.holds_office(who, 'entity_official', NULL) OR smam.holds_office(who, 'administrator', NULL)
          OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.2.4', format('role "%s" may not publish the index of official accounts', who),
      'The entity maintains the index of official accounts and publishes it on the Government of Canada website.',
      'Ask the designated senior official of the entity or an administrator of smam.');
  END IF;
  -- One statement, so one snapshot: the document, the two files and the
  -- entries listed are the index of one moment.
  WITH doc AS MATERIALIZED (SELECT smam.public_index_document() AS d),
       snap AS (
         INSERT INTO smam.index_snapshot (account_count, content_sha256, document)
         SELECT (doc.d ->> 'count')::integer, encode(sha256(convert_to((doc.d -> 'accounts')::text, 'UTF8')), 'hex'), doc.d
           FROM doc
         RETURNING id),
       file AS MATERIALIZED (
         SELECT l AS lang, convert_to(smam.public_index_feed_json(l)::text, 'UTF8') AS bytes
           FROM unnest(ARRAY['en', 'fr']) l),
       files AS (
         INSERT INTO smam.index_snapshot_file (snapshot_id, lang, file_name, content_sha256, byte_count, content)
         SELECT snap.id, file.lang, 'sm-' || file.lang || '.json', encode(sha256(file.bytes), 'hex'),
                octet_length(file.bytes), file.bytes
           FROM snap CROSS JOIN file),
       entries AS (
         INSERT INTO smam.index_snapshot_entry (snapshot_id, account_id, entry_md5)
         SELECT snap.id, a.id, smam.index_entry_md5(a)
           FROM snap CROSS JOIN smam.account a WHERE a.stage IN ('implementation', 'evaluation'))
  SELECT snap.id INTO new_id FROM snap;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.publish_index() IS
  'Record a publication of the index: the document, its SHA-256, the accounts listed and the files sm-en.json and sm-fr.json byte for byte (entity official or administrator)';

-- The files of every publication, without their content (the public may
-- read what was published): what to compare a file the website serves with.
CREATE VIEW smam.published_index_files WITH (security_barrier = true) AS
  SELECT f.snapshot_id, s.published_at, f.lang, f.file_name, f.content_sha256, f.byte_count,
         f.snapshot_id OPERATOR(pg_catalog.=)
           (SELECT x.id FROM smam.index_snapshot x ORDER BY x.published_at DESC, x.id DESC LIMIT 1) AS latest
    FROM smam.index_snapshot_file f
    JOIN smam.index_snapshot s ON s.id OPERATOR(pg_catalog.=) f.snapshot_id;
COMMENT ON VIEW smam.published_index_files IS
  'The files each publication of the index put on the website (sm-en.json, sm-fr.json): size and SHA-256; readable by smam_public';
-- The meaning of each column of smam.published_index_files: sql/smam/95_report_dictionary.sql.

-- A published file, byte for byte: of publication snapshot (NULL: the last
-- one), in en (sm-en.json) or fr (sm-fr.json).
CREATE FUNCTION smam.published_index_file(snapshot bigint, lang text) RETURNS bytea
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  snap bigint := snapshot;
  bytes bytea;
BEGIN
  IF lang IS NULL OR lang NOT IN ('en', 'fr') THEN
    PERFORM smam.refuse('22023', '6.2.4', format('feed language "%s" is not en or fr', coalesce(lang, '')),
      'The index is published as sm-en.json (en) and sm-fr.json (fr).',
      'Ask for en or fr.');
  END IF;
  IF snap IS NULL THEN
    snap := (SELECT s.id FROM smam.index_snapshot s ORDER BY s.published_at DESC, s.id DESC LIMIT 1);
    IF snap IS NULL THEN
      PERFORM smam.refuse('55000', '6.2.4', 'the index of official accounts has not been published',
        'No publication is recorded, so there is no published file.',
        'The entity''s official publishes the index with smam.publish_index().');
    END IF;
  END IF;
  SELECT f.content INTO bytes FROM smam.index_snapshot_file f
   WHERE f.snapshot_id = snap AND f.lang = published_index_file.lang;
  IF NOT FOUND THEN
    PERFORM smam.refuse('42704', '6.2.4', format('publication %s of the index does not exist', snap),
      'No file of that publication is recorded.',
      'smam.published_index_files lists every publication and its files.');
  END IF;
  RETURN bytes;
END
$$;
COMMENT ON FUNCTION smam.published_index_file(bigint, text) IS
  'A file a publication of the index put on the website (sm-en.json, sm-fr.json), byte for byte; snapshot NULL: the last publication';

-- Which publications, if any, put exactly these bytes on the website: a
-- row per publication and language whose file they are (none: the file was
-- never published by smam); latest says whether it is the last one.
CREATE FUNCTION smam.check_index_file(content bytea,
    OUT snapshot_id bigint, OUT published_at timestamptz, OUT lang text, OUT file_name text,
    OUT content_sha256 text, OUT latest boolean)
  RETURNS SETOF record
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  sha text;
BEGIN
  IF check_index_file.content IS NULL THEN
    PERFORM smam.refuse('22023', '6.2.4', 'no file to check',
      'A file is checked by its bytes against the files each publication recorded.',
      'Pass the file''s bytes, e.g. pg_read_binary_file(...) or decode(..., ''hex''), or compare its SHA-256 with smam.published_index_files.');
  END IF;
  sha := encode(sha256(check_index_file.content), 'hex');
  RETURN QUERY
    SELECT v.snapshot_id, v.published_at, v.lang, v.file_name, v.content_sha256, v.latest
      FROM smam.published_index_files v
      JOIN smam.index_snapshot_file f ON f.snapshot_id = v.snapshot_id AND f.lang = v.lang
     WHERE v.content_sha256 = sha AND f.content = check_index_file.content
     ORDER BY v.published_at DESC, v.snapshot_id DESC, v.lang;
END
$$;
COMMENT ON FUNCTION smam.check_index_file(bytea) IS
  'The publications whose file (sm-en.json, sm-fr.json) is exactly these bytes, latest first; no row: smam never published them';

-- Has the index changed since it was last published, and since when?
CREATE FUNCTION smam.index_publication_status(at timestamptz DEFAULT pg_catalog.now(),
    OUT last_snapshot bigint, OUT last_published_at timestamptz, OUT last_sha256 text,
    OUT live_accounts bigint, OUT unpublished_changes bigint, OUT changed_since timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET work_mem = '64MB'
  SET jit = off
  AS $$
    WITH s AS (SELECT x.id, x.published_at, x.content_sha256 FROM smam.index_snapshot x WHERE x.published_at <= at
                ORDER BY x.published_at DESC, x.id DESC LIMIT 1),
         e AS MATERIALIZED (SELECT y.account_id, y.entry_md5 FROM smam.index_snapshot_entry y
                             WHERE y.snapshot_id = (SELECT id FROM s)),
         live AS MATERIALIZED (SELECT a.id, a.stage_changed_at FROM smam.account a
                                WHERE a.stage IN ('implementation', 'evaluation') AND a.created_at <= at),
         -- The digest is computed only for accounts the publication lists.
         diff AS (
           SELECT l.stage_changed_at AS since FROM live l LEFT JOIN e ON e.account_id = l.id
            WHERE e.account_id IS NULL
               OR e.entry_md5 <> (SELECT smam.index_entry_md5(a) FROM smam.account a WHERE a.id = l.id)
           UNION ALL
           SELECT a.stage_changed_at FROM e JOIN smam.account a ON a.id = e.account_id
            WHERE a.stage NOT IN ('implementation', 'evaluation'))
    SELECT (SELECT id FROM s), (SELECT published_at FROM s), (SELECT content_sha256 FROM s),
           (SELECT count(*) FROM live), (SELECT count(*) FROM diff), (SELECT min(since) FROM diff)
  $$;
COMMENT ON FUNCTION smam.index_publication_status(timestamptz) IS
  'The last publication before a moment, the live accounts, how many differ from it and since when (6.2.4)';

ALTER TABLE smam.index_snapshot ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_snapshot_entry ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.index_snapshot_file ENABLE ROW LEVEL SECURITY;
CREATE POLICY index_snapshot_file_read ON smam.index_snapshot_file FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_snapshot_read ON smam.index_snapshot FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst USING (true);
CREATE POLICY index_snapshot_entry_read ON smam.index_snapshot_entry FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.index_snapshot, smam.index_snapshot_file TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
-- What was published is public: the list of files, each file, the check.
GRANT SELECT ON smam.published_index_files
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.published_index_file(bigint, text), smam.check_index_file(bytea)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT SELECT ON smam.index_snapshot_entry TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON smam.public_index TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.public_index_feed(text), smam.public_index_feed_json(text), smam.public_index_document()
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;
GRANT EXECUTE ON FUNCTION smam.publish_index() TO smam_admin, smam_entity;
GRANT EXECUTE ON FUNCTION smam.index_publication_status(timestamptz)
  TO smam_admin, smam_entity, smam_tbs, smam_analyst;

SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot_entry', '');
SELECT pg_catalog.pg_extension_config_dump('smam.index_snapshot_file', '');

-- ---- sql/smam/73_public_index_csv.sql ----
-- The public index as CSV for a spreadsheet (6.2.4). A cell that begins
-- with =, +, -, @, a tab or a carriage return is a formula to Excel,
-- LibreOffice and Google Sheets (=HYPERLINK(...) runs when the file is
-- opened); the index holds such names (many X accounts are named "@..."),
-- and an imported or onboarded name can be anything. As OWASP's "CSV
-- Injection" recommends, such a cell is prefixed with a single quote, which
-- a spreadsheet shows as text; every cell is quoted, its quotes doubled.
-- So is a cell whose =, +, - or @ comes after leading white space (spaces,
-- tabs, line breaks): LibreOffice's CSV import can trim the spaces
-- ("Trim spaces") and then read the formula ("Evaluate formulas").

CREATE FUNCTION smam.csv_cell(value text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  -- No SET clause, so that it is inlined; every name is schema-qualified.
  AS $$
    SELECT '"' OPERATOR(pg_catalog.||)
           pg_catalog.replace(CASE WHEN value OPERATOR(pg_catalog.~) E'^([\\t\\r]|[ \\t\\r\\n]*[=+\\-@])'
                                   THEN '''' OPERATOR(pg_catalog.||) value ELSE coalesce(value, '') END,
                              '"', '""')
           OPERATOR(pg_catalog.||) '"'
  $$;
COMMENT ON FUNCTION smam.csv_cell(text) IS
  'A CSV cell, quoted, a leading = + - @ tab or CR (also after leading white space) made text for spreadsheets by a single quote (OWASP CSV injection)';

CREATE FUNCTION smam.public_index_csv() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT 'department_en,department_fr,account_en,account_fr,platform,url,official_language,listed_on' || E'\r\n'
           || coalesce(string_agg(
                smam.csv_cell(i.department_en) || ',' || smam.csv_cell(i.department_fr) || ','
                || smam.csv_cell(i.account_en) || ',' || smam.csv_cell(i.account_fr) || ','
                || smam.csv_cell(i.platform) || ',' || smam.csv_cell(i.url) || ','
                || smam.csv_cell(i.official_language) || ',' || smam.csv_cell(to_char(i.listed_on::timestamp, 'YYYY-MM-DD')),
                E'\r\n' ORDER BY i.department_en, i.url) || E'\r\n', '')
      FROM smam.public_index i
  $$;
COMMENT ON FUNCTION smam.public_index_csv() IS
  'The public index as a CSV file (RFC 4180, header line) that a spreadsheet opens without running formulas';

GRANT EXECUTE ON FUNCTION smam.csv_cell(text), smam.public_index_csv()
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst, smam_public;

-- ---- sql/smam/74_account_moves.sql ----
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

-- ---- sql/smam/75_department_merges.sql ----
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

-- ---- sql/smam/80_content.sql ----
-- The platform management tool (appendix of the Standard: "workflow
-- processes, group and user permissions, and content libraries"; 6.1.4,
-- 6.2.5): a content library per department, posts addressed to live
-- accounts, and the tiered approval workflow.

-- Is the account live, i.e. may it be published to (6.1.2: implementation
-- and evaluation are the stages in which an account is in use)?
CREATE FUNCTION smam.account_is_live(stage smam.stage) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT stage OPERATOR(pg_catalog.=) ANY (ARRAY['implementation', 'evaluation']::smam.stage[]) $$;
COMMENT ON FUNCTION smam.account_is_live(smam.stage) IS
  'Stages in which an account is in use and can be published to: implementation, evaluation';

-- May the acting role work on the department's content (any departmental
-- office in it, or an administrator)?
CREATE FUNCTION smam.require_department_member(department bigint, act text)
  RETURNS void LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
BEGIN
  IF department = ANY (smam.my_departments()) OR smam.holds_office(who, 'administrator', NULL) THEN
    RETURN;
  END IF;
  PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not %s', who, act),
    format('Only people holding an office in department %s use its part of the platform management tool.', department),
    'Ask an administrator to appoint you to the department, or ask one of its staff.');
END
$$;

-- ---- content library ----

CREATE SEQUENCE smam.content_item_id_seq;
CREATE TABLE smam.content_item (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.content_item_id_seq'),
  department_id    bigint NOT NULL REFERENCES smam.department (id),
  title            text NOT NULL CHECK (pg_catalog.length(pg_catalog.btrim(title)) OPERATOR(pg_catalog.>) 0),
  text_en          text,
  text_fr          text,
  media_urls       text[] NOT NULL DEFAULT '{}',
  tags             text[] NOT NULL DEFAULT '{}',
  available_from   timestamptz,
  available_until  timestamptz,
  internal_note    text,
  created_by       name NOT NULL DEFAULT smam.acting_role(),
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CHECK (text_en IS NOT NULL OR text_fr IS NOT NULL),
  CHECK (available_until IS NULL OR available_from IS NULL OR available_until OPERATOR(pg_catalog.>) available_from)
);
ALTER SEQUENCE smam.content_item_id_seq OWNED BY smam.content_item.id;
CREATE INDEX content_item_department_idx ON smam.content_item (department_id);
CREATE INDEX content_item_tags_idx ON smam.content_item USING gin (tags);
COMMENT ON TABLE smam.content_item IS
  'Content library (appendix: "content libraries"): reusable texts in English and French, media, tags, availability';
COMMENT ON COLUMN smam.content_item.internal_note IS 'Internal note for the department; never published';

CREATE FUNCTION smam.add_content_item(department bigint, title text, text_en text, text_fr text,
                                      media_urls text[] DEFAULT '{}', tags text[] DEFAULT '{}',
                                      available_from timestamptz DEFAULT NULL,
                                      available_until timestamptz DEFAULT NULL,
                                      internal_note text DEFAULT NULL)
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM smam.require_department_member(department, 'add to the content library');
  PERFORM smam.refuse_merged_department(department);
  IF nullif(btrim(text_en), '') IS NULL AND nullif(btrim(text_fr), '') IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'a content item needs its text in English, French or both', NULL,
      'Give text_en, text_fr or both.');
  END IF;
  IF available_until IS NOT NULL AND available_from IS NOT NULL AND available_until <= available_from THEN
    PERFORM smam.refuse('22023', NULL, 'a content item''s availability ends before it begins',
      format('Available from %s until %s.', smam.moment_text(available_from), smam.moment_text(available_until)),
      'Give an end later than the start, or no end.');
  END IF;
  INSERT INTO smam.content_item (department_id, title, text_en, text_fr, media_urls, tags,
                                 available_from, available_until, internal_note)
  VALUES (department, btrim(title), nullif(btrim(text_en), ''), nullif(btrim(text_fr), ''),
          coalesce(media_urls, '{}'), coalesce(tags, '{}'), available_from, available_until, internal_note)
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.add_content_item(bigint, text, text, text, text[], text[], timestamptz, timestamptz, text) IS
  'Add an item to the department''s content library (staff of the department)';

-- ---- the approval policy of a department ----

CREATE TABLE smam.publishing_policy (
  department_id   bigint PRIMARY KEY REFERENCES smam.department (id),
  approval_tiers  integer NOT NULL CHECK (approval_tiers OPERATOR(pg_catalog.>=) 1 AND approval_tiers OPERATOR(pg_catalog.<=) 3),
  set_by          name NOT NULL DEFAULT smam.acting_role(),
  set_at          timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE smam.publishing_policy IS
  'How many approval tiers (1-3) a department''s posts need; none recorded: one tier, the head of communications';

CREATE TABLE smam.approval_tier (
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  tier           integer NOT NULL CHECK (tier OPERATOR(pg_catalog.>=) 1 AND tier OPERATOR(pg_catalog.<=) 3),
  office         smam.office,
  principal      text REFERENCES smam.principal (role_name),
  CHECK ((office IS NULL) OPERATOR(pg_catalog.<>) (principal IS NULL))
);
CREATE UNIQUE INDEX approval_tier_office_key ON smam.approval_tier (department_id, tier, office)
  WHERE office IS NOT NULL;
CREATE UNIQUE INDEX approval_tier_principal_key ON smam.approval_tier (department_id, tier, principal)
  WHERE principal IS NOT NULL;
COMMENT ON TABLE smam.approval_tier IS
  'Who may approve at each tier: holders of an office of the department, or named principals; none: head of communications';

CREATE FUNCTION smam.set_publishing_policy(department bigint, approval_tiers integer,
                                           approvers jsonb DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  t record;
  entry jsonb;
BEGIN
  IF NOT (smam.holds_office(who, 'head_of_communications', department)
          OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not set the publishing policy of department %s', who, department),
      'The head of communications (or designate) decides how the department''s posts are approved.',
      'Ask the department''s head of communications.');
  END IF;
  PERFORM smam.refuse_merged_department(department);
  IF approval_tiers IS NULL OR approval_tiers NOT BETWEEN 1 AND 3 THEN
    PERFORM smam.refuse('22023', NULL, format('a department''s posts need one to three approval tiers, not %s',
                                               coalesce(approval_tiers::text, 'none')),
      NULL, 'Give 1, 2 or 3.');
  END IF;
  INSERT INTO smam.publishing_policy AS p (department_id, approval_tiers) VALUES (department, approval_tiers)
  ON CONFLICT (department_id) DO UPDATE SET approval_tiers = EXCLUDED.approval_tiers,
                                            set_by = smam.acting_role(), set_at = now();
  IF approvers IS NOT NULL THEN
    -- approvers: {"1": ["department_staff"], "2": ["head_of_communications", "@jane"]}
    DELETE FROM smam.approval_tier a WHERE a.department_id = department;
    FOR t IN SELECT key, value FROM jsonb_each(approvers) LOOP
      IF t.key !~ '^[123]$' OR t.key::integer > approval_tiers THEN
        PERFORM smam.refuse('22023', NULL, format('tier "%s" is not one of the department''s %s tiers', t.key, approval_tiers),
          NULL, 'Name approvers for tiers 1 to the number of tiers.');
      END IF;
      FOR entry IN SELECT * FROM jsonb_array_elements(t.value) LOOP
        IF entry #>> '{}' LIKE '@%' THEN
          IF NOT EXISTS (SELECT 1 FROM smam.principal p WHERE p.role_name = substr(entry #>> '{}', 2)) THEN
            PERFORM smam.refuse('42704', NULL, format('role "%s" is not a principal', substr(entry #>> '{}', 2)),
              NULL, 'Register it first with smam.register_principal().');
          END IF;
          INSERT INTO smam.approval_tier (department_id, tier, principal)
          VALUES (department, t.key::integer, substr(entry #>> '{}', 2));
        ELSE
          IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_enum e WHERE e.enumtypid = 'smam.office'::regtype
                            AND e.enumlabel = entry #>> '{}') THEN
            PERFORM smam.refuse('22023', NULL, format('"%s" is not an office', entry #>> '{}'),
              NULL, 'Name an office such as department_staff or head_of_communications, or a principal as "@role".');
          END IF;
          INSERT INTO smam.approval_tier (department_id, tier, office)
          VALUES (department, t.key::integer, (entry #>> '{}')::smam.office);
        END IF;
      END LOOP;
    END LOOP;
  END IF;
END
$$;
COMMENT ON FUNCTION smam.set_publishing_policy(bigint, integer, jsonb) IS
  'Head of communications: number of approval tiers (1-3) and, per tier, offices or "@principal"s that may approve';

-- ---- posts ----

CREATE TYPE smam.post_status AS ENUM
  ('draft', 'submitted', 'approved', 'scheduled', 'published', 'failed', 'cancelled');
COMMENT ON TYPE smam.post_status IS
  'draft -> submitted -> approved -> scheduled -> published (or failed, cancelled)';

CREATE SEQUENCE smam.post_id_seq;
CREATE TABLE smam.post (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.post_id_seq'),
  department_id    bigint NOT NULL REFERENCES smam.department (id),
  content_item_id  bigint NOT NULL REFERENCES smam.content_item (id),
  text_en          text,
  text_fr          text,
  media_urls       text[] NOT NULL DEFAULT '{}',
  publish_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  status           smam.post_status NOT NULL DEFAULT 'draft',
  version          integer NOT NULL DEFAULT 1,
  created_by       name NOT NULL DEFAULT smam.acting_role(),
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  submitted_at     timestamptz,
  approved_at      timestamptz,
  scheduled_at     timestamptz,
  settled_at       timestamptz,
  cancelled_reason text
);
ALTER SEQUENCE smam.post_id_seq OWNED BY smam.post.id;
CREATE INDEX post_department_idx ON smam.post (department_id, status);
COMMENT ON TABLE smam.post IS 'A content item addressed to live accounts of the department, at a time, through the approval workflow';
COMMENT ON COLUMN smam.post.version IS 'Raised by every edit after submission; approvals count for the version they approved';

CREATE TABLE smam.post_target (
  post_id     bigint NOT NULL REFERENCES smam.post (id),
  account_id  bigint NOT NULL REFERENCES smam.account (id),
  PRIMARY KEY (post_id, account_id)
);
COMMENT ON TABLE smam.post_target IS 'The accounts a post is addressed to';

CREATE SEQUENCE smam.post_approval_id_seq;
CREATE TABLE smam.post_approval (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.post_approval_id_seq'),
  post_id        bigint NOT NULL REFERENCES smam.post (id),
  post_version   integer NOT NULL,
  tier           integer NOT NULL,
  approved_by    name NOT NULL DEFAULT smam.acting_role(),
  approved_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  voided_at      timestamptz,
  voided_reason  text
);
ALTER SEQUENCE smam.post_approval_id_seq OWNED BY smam.post_approval.id;
CREATE INDEX post_approval_post_idx ON smam.post_approval (post_id);
COMMENT ON TABLE smam.post_approval IS 'Approvals of a post, tier by tier; an edit voids them (voided_at, voided_reason)';

-- How many tiers the department's posts need.
CREATE FUNCTION smam.approval_tiers(department bigint) RETURNS integer
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT coalesce((SELECT p.approval_tiers FROM smam.publishing_policy p WHERE p.department_id = department), 1) $$;

-- May the role approve the department's posts at the tier?
CREATE FUNCTION smam.may_approve(role name, department bigint, tier integer) RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM smam.approval_tier t
                                   WHERE t.department_id = department AND t.tier = may_approve.tier)
                THEN smam.holds_office(role, 'head_of_communications', department)
                ELSE EXISTS (SELECT 1 FROM smam.approval_tier t
                              WHERE t.department_id = department AND t.tier = may_approve.tier
                                AND (t.principal = role::text
                                     OR (t.office IS NOT NULL AND smam.holds_office(role, t.office, department))))
           END
  $$;

CREATE FUNCTION smam.void_approvals(post bigint, reason text) RETURNS integer
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
    WITH v AS (UPDATE smam.post_approval a SET voided_at = now(), voided_reason = reason
                WHERE a.post_id = post AND a.voided_at IS NULL RETURNING 1)
    SELECT count(*)::integer FROM v
  $$;

-- Editing a post after submission voids its approvals, cancels what was
-- scheduled and sends it back for approval; once anything is out, it is
-- too late to edit.
CREATE FUNCTION smam.post_edit_guard() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF NEW.text_en IS NOT DISTINCT FROM OLD.text_en AND NEW.text_fr IS NOT DISTINCT FROM OLD.text_fr
     AND NEW.media_urls IS NOT DISTINCT FROM OLD.media_urls AND NEW.publish_at = OLD.publish_at THEN
    RETURN NEW;
  END IF;
  IF OLD.status IN ('published', 'failed', 'cancelled')
     OR EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id = OLD.id
                  AND d.status IN ('sending', 'delivered', 'dead')) THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s can no longer be edited', OLD.id),
      format('The post is %s; what was published stays as it was approved.', OLD.status),
      'Make a new post from the content item.');
  END IF;
  IF OLD.status IN ('submitted', 'approved', 'scheduled') THEN
    PERFORM smam.void_approvals(OLD.id, format('post edited by %s after submission', smam.acting_role()));
    UPDATE smam.delivery d SET status = 'cancelled', cancelled_reason = 'the post was edited; its approvals were voided',
                               settled_at = now()
     WHERE d.post_id = OLD.id AND d.status = 'pending';
    NEW.version := OLD.version + 1;
    NEW.status := 'submitted';
    NEW.approved_at := NULL;
    NEW.scheduled_at := NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION smam.create_post(content_item bigint, accounts bigint[],
                                 publish_at timestamptz DEFAULT pg_catalog.now())
  RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  item smam.content_item;
  bad record;
  new_id bigint;
BEGIN
  SELECT * INTO item FROM smam.content_item c WHERE c.id = content_item;
  PERFORM smam.require_visible('content item', content_item, item.department_id);
  PERFORM smam.require_department_member(item.department_id, 'write posts');
  IF accounts IS NULL OR cardinality(accounts) = 0 THEN
    PERFORM smam.refuse('22023', NULL, 'a post needs at least one account', NULL,
      'Name the accounts of the department to publish to.');
  END IF;
  SELECT x.id, a.id AS known, a.department_id, a.stage INTO bad
    FROM unnest(accounts) x(id) LEFT JOIN smam.account a ON a.id = x.id
   WHERE a.id IS NULL OR a.department_id <> item.department_id OR NOT smam.account_is_live(a.stage)
   LIMIT 1;
  IF FOUND THEN
    IF bad.known IS NULL OR bad.department_id <> item.department_id THEN
      PERFORM smam.refuse('23503', '6.1.4', format('account %s is not an account of department %s', bad.id, item.department_id),
        NULL, 'Address posts to the department''s own accounts.');
    END IF;
    PERFORM smam.refuse('55000', '6.1.2', format('account %s is not live', bad.id),
      format('It is in the %s stage; only accounts in implementation or evaluation are published to.', bad.stage),
      'Choose accounts in use.');
  END IF;
  INSERT INTO smam.post (department_id, content_item_id, text_en, text_fr, media_urls, publish_at)
  VALUES (item.department_id, item.id, item.text_en, item.text_fr, item.media_urls, coalesce(publish_at, now()))
  RETURNING id INTO new_id;
  INSERT INTO smam.post_target (post_id, account_id) SELECT DISTINCT new_id, x FROM unnest(accounts) x;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION smam.create_post(bigint, bigint[], timestamptz) IS
  'A draft post of a content item to live accounts of its department, at a time';

CREATE FUNCTION smam.edit_post(post bigint, text_en text DEFAULT NULL, text_fr text DEFAULT NULL,
                               publish_at timestamptz DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'edit posts');
  UPDATE smam.post x
     SET text_en = CASE WHEN edit_post.text_en IS NULL THEN x.text_en ELSE nullif(btrim(edit_post.text_en), '') END,
         text_fr = CASE WHEN edit_post.text_fr IS NULL THEN x.text_fr ELSE nullif(btrim(edit_post.text_fr), '') END,
         publish_at = coalesce(edit_post.publish_at, x.publish_at)
   WHERE x.id = post;
END
$$;
COMMENT ON FUNCTION smam.edit_post(bigint, text, text, timestamptz) IS
  'Edit a post''s texts or time; after submission this voids its approvals and sends it back for approval';

CREATE FUNCTION smam.submit_post(post bigint) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'submit posts');
  IF p.status <> 'draft' THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s is %s, not a draft', post, p.status), NULL,
      'Only a draft is submitted for approval.');
  END IF;
  UPDATE smam.post x SET status = 'submitted', submitted_at = now() WHERE x.id = post;
END
$$;

CREATE FUNCTION smam.approve_post(post bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  p smam.post;
  tiers integer;
  next_tier integer;
  dept bigint := (SELECT x.department_id FROM smam.post x WHERE x.id = post);
BEGIN
  -- The department's own offices see its posts; so does a principal its
  -- publishing policy names as an approver.
  IF NOT EXISTS (SELECT 1 FROM smam.approval_tier t WHERE t.department_id = dept AND t.principal = who::text) THEN
    PERFORM smam.require_visible('post', post, dept);
  END IF;
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  IF p.status <> 'submitted' THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s is %s, not awaiting approval', post, p.status), NULL,
      CASE WHEN p.status = 'draft' THEN 'Submit it first with smam.submit_post().' ELSE NULL END);
  END IF;
  IF p.created_by = who THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not approve their own post', who),
      'Nobody approves their own post: approval is a second pair of eyes.',
      'Ask an approver of the department.');
  END IF;
  IF EXISTS (SELECT 1 FROM smam.post_approval a WHERE a.post_id = post AND a.voided_at IS NULL
               AND a.approved_by = who) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" has already approved post %s', who, post),
      'Each tier is approved by a different person.', 'Ask an approver of the next tier.');
  END IF;
  tiers := smam.approval_tiers(p.department_id);
  next_tier := 1 + (SELECT count(*) FROM smam.post_approval a WHERE a.post_id = post AND a.voided_at IS NULL);
  IF NOT smam.may_approve(who, p.department_id, next_tier) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not approve tier %s of the posts of department %s', who, next_tier, p.department_id),
      format('The department''s posts need %s approval tier(s); tier %s is approved by %s.', tiers, next_tier,
             coalesce((SELECT string_agg(coalesce(t.office::text, '@' || t.principal), ', ' ORDER BY t.office, t.principal)
                         FROM smam.approval_tier t WHERE t.department_id = p.department_id AND t.tier = next_tier),
                      'the head of communications')),
      'Ask an approver of that tier.');
  END IF;
  INSERT INTO smam.post_approval (post_id, post_version, tier) VALUES (post, p.version, next_tier);
  IF next_tier >= tiers THEN
    UPDATE smam.post x SET status = 'approved', approved_at = now() WHERE x.id = post;
  END IF;
  RETURN next_tier;
END
$$;
COMMENT ON FUNCTION smam.approve_post(bigint) IS
  'Approve the next tier of a submitted post (never one''s own; one tier per person); returns the tier approved';

-- The official-language rule: what a post lacks for each of its accounts.
CREATE FUNCTION smam.post_language_gaps(post bigint)
  RETURNS TABLE (account_id bigint, official_language smam.official_language, missing text)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT a.id, a.official_language,
           concat_ws(' and ',
             CASE WHEN a.official_language IN ('english', 'bilingual') AND nullif(btrim(p.text_en), '') IS NULL THEN 'English' END,
             CASE WHEN a.official_language IN ('french', 'bilingual') AND nullif(btrim(p.text_fr), '') IS NULL THEN 'French' END)
      FROM smam.post p
      JOIN smam.post_target t ON t.post_id = p.id
      JOIN smam.account a ON a.id = t.account_id
     WHERE p.id = post
       AND ((a.official_language IN ('english', 'bilingual') AND nullif(btrim(p.text_en), '') IS NULL)
         OR (a.official_language IN ('french', 'bilingual') AND nullif(btrim(p.text_fr), '') IS NULL))
  $$;
COMMENT ON FUNCTION smam.post_language_gaps(bigint) IS
  'Accounts of a post whose official language(s) the post''s text does not cover';

CREATE FUNCTION smam.cancel_post(post bigint, reason text) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
  n integer;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'cancel posts');
  IF reason IS NULL OR btrim(reason) = '' THEN
    PERFORM smam.refuse('22023', NULL, 'cancelling a post needs a reason', NULL, 'Say why, for the record.');
  END IF;
  IF p.status IN ('published', 'failed', 'cancelled') THEN
    PERFORM smam.refuse('55000', NULL, format('post %s is already %s', post, p.status), NULL, NULL);
  END IF;
  WITH c AS (UPDATE smam.delivery d SET status = 'cancelled', cancelled_reason = btrim(reason), settled_at = now()
              WHERE d.post_id = post AND d.status = 'pending' RETURNING 1)
  SELECT count(*) INTO n FROM c;
  UPDATE smam.post x SET status = 'cancelled', cancelled_reason = btrim(reason), settled_at = now()
   WHERE x.id = post AND NOT EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id = post AND d.status = 'sending');
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.cancel_post(bigint, text) IS
  'Cancel a post and its pending deliveries, with the reason; returns the deliveries cancelled';

-- ---- sql/smam/82_connectors.sql ----
-- Connectors and credentials: how the tool reaches each platform (set by an
-- administrator, 6.2.5) and the secrets of each account (readable only by
-- the owner of the extension, the role the publishing worker connects as;
-- never in a view, an error or the audit log).

CREATE FUNCTION smam.http_url_problem(url text, allowed_hosts text[]) RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_http_url_problem_sql';
COMMENT ON FUNCTION smam.http_url_problem(text, text[]) IS
  'Why smam''s HTTP client would refuse this URL for this allowlist (scheme, user info, host), or NULL';

CREATE FUNCTION smam.url_origin(url text) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_url_origin_sql';
COMMENT ON FUNCTION smam.url_origin(text) IS
  'The origin of an http(s) URL, scheme://host:port in lower case with the default port written; NULL for anything else';

CREATE FUNCTION smam.address_problem(address text, allowed_networks text[] DEFAULT '{}') RETURNS text
  LANGUAGE c IMMUTABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'smam_address_problem_sql';
COMMENT ON FUNCTION smam.address_problem(text, text[]) IS
  'Why smam''s HTTP client would refuse to connect to this IP address with these networks allowed (special ranges, embedded IPv4, cloud metadata), or NULL';

-- The placeholders a connector's templates may use.
CREATE FUNCTION smam.template_placeholders() RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = pg_catalog, pg_temp
  AS $$ SELECT ARRAY['text', 'text_en', 'text_fr', 'media_urls', 'handle', 'account_id', 'account_url',
                     'post_id', 'delivery_id', 'idempotency_key', 'token', 'platform_post_id'] $$;
COMMENT ON FUNCTION smam.template_placeholders() IS
  'Placeholders {{name}} a connector''s URL, header and body templates may use';

CREATE TABLE smam.connector (
  platform            text PRIMARY KEY REFERENCES smam.platform (code),
  base_url            text NOT NULL,
  publish_path        text NOT NULL,
  method              text NOT NULL DEFAULT 'POST'
                      CHECK (method OPERATOR(pg_catalog.=) ANY (ARRAY['POST', 'PUT', 'PATCH', 'GET'])),
  header_templates    text[] NOT NULL DEFAULT '{}',
  body_template       text,
  body_format         text NOT NULL DEFAULT 'json'
                      CHECK (body_format OPERATOR(pg_catalog.=) ANY (ARRAY['json', 'form', 'text'])),
  post_id_path        text[] NOT NULL DEFAULT '{id}',
  metrics_path        text,
  metrics_object_path text[] NOT NULL DEFAULT '{}',
  profile_url         text,
  allowed_hosts       text[] NOT NULL,
  allowed_networks    cidr[] NOT NULL DEFAULT '{}',
  idempotency_header  text NOT NULL DEFAULT 'Idempotency-Key'
                      CHECK (idempotency_header OPERATOR(pg_catalog.~) '^[A-Za-z0-9-]+$'),
  enabled             boolean NOT NULL DEFAULT true,
  set_by              name NOT NULL DEFAULT smam.acting_role(),
  set_at              timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE smam.connector IS
  'How the tool reaches a platform: URL templates, method, headers, body, where the post id is, metrics; set by an administrator';
COMMENT ON COLUMN smam.connector.publish_path IS 'Appended to base_url to publish, with {{placeholders}}';
COMMENT ON COLUMN smam.connector.post_id_path IS 'Where the platform''s post id is in the JSON answer (as for the #>> operator)';
COMMENT ON COLUMN smam.connector.metrics_path IS 'Appended to base_url to read an account''s metrics (JSON object of numbers); NULL: none';
COMMENT ON COLUMN smam.connector.metrics_object_path IS
  'Where the object of numbers is in the metrics answer (as for the #> operator); {} for the top level';
COMMENT ON COLUMN smam.connector.profile_url IS 'Where the link check looks for an account (template); NULL: the account''s own URL';
COMMENT ON COLUMN smam.connector.allowed_hosts IS 'The only hosts requests may go to; ".example.com" allows its subdomains';
COMMENT ON COLUMN smam.connector.allowed_networks IS
  'Special (loopback, private, link-local, ...) ranges a superuser explicitly allows (normally none); cloud metadata addresses never';

CREATE FUNCTION smam.set_connector(platform text, base_url text, publish_path text,
                                   allowed_hosts text[] DEFAULT NULL,
                                   method text DEFAULT 'POST',
                                   header_templates text[] DEFAULT '{}',
                                   body_template text DEFAULT NULL,
                                   body_format text DEFAULT 'json',
                                   post_id_path text[] DEFAULT '{id}',
                                   metrics_path text DEFAULT NULL,
                                   profile_url text DEFAULT NULL,
                                   allowed_networks cidr[] DEFAULT '{}',
                                   enabled boolean DEFAULT true,
                                   metrics_object_path text[] DEFAULT '{}')
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  code text := smam.platform_of(platform);
  hosts text[];
  problem text;
  tpl text;
  unknown text;
  net cidr;
BEGIN
  PERFORM smam.require_office('administrator', NULL, '6.2.5', 'configure a connector');
  IF code IS NULL THEN
    PERFORM smam.refuse('22023', NULL, format('"%s" is not a known platform', platform), NULL,
      'List platforms with: SELECT code FROM smam.platform;');
  END IF;
  hosts := coalesce(allowed_hosts,
                    ARRAY[lower(substring(base_url FROM '^[A-Za-z]+://([^/:?#]+)'))]);
  hosts := (SELECT array_agg(lower(btrim(h))) FROM unnest(hosts) h WHERE btrim(h) <> '');
  IF hosts IS NULL THEN
    PERFORM smam.refuse('22023', '6.2.5', 'a connector needs an allowlist of hosts', NULL,
      'Name the hosts the platform''s API lives on.');
  END IF;
  problem := smam.http_url_problem(base_url, hosts);
  IF problem IS NOT NULL THEN
    PERFORM smam.refuse(CASE WHEN problem LIKE 'host %' THEN '42501' ELSE '22023' END, '6.2.5',
      format('connector for %s refused: %s', code, problem),
      'The tool sends only to http and https addresses on the allowlist the administrator set.',
      'Give an https URL on one of the allowed hosts.');
  END IF;
  IF profile_url IS NOT NULL THEN
    problem := smam.http_url_problem(replace(profile_url, '{{handle}}', 'x'), hosts);
    IF problem IS NOT NULL THEN
      PERFORM smam.refuse(CASE WHEN problem LIKE 'host %' THEN '42501' ELSE '22023' END, '6.2.5',
        format('connector for %s refused: profile URL: %s', code, problem), NULL,
        'Give an https URL on one of the allowed hosts.');
    END IF;
  END IF;
  -- The secret goes to the platform in a header only: never in a URL (logs,
  -- proxies, the Referer of a redirect) nor in a body a platform may echo.
  IF coalesce(publish_path, '') || coalesce(body_template, '') || coalesce(metrics_path, '')
     || coalesce(profile_url, '') LIKE '%{{token}}%' THEN
    PERFORM smam.refuse('22023', '6.1.4', format('connector for %s refused: {{token}} outside a header template', code),
      'An account''s credentials go to the platform in a header (Authorization), never in a URL, a path or a body.',
      'Write ''Authorization: Bearer {{token}}'' in header_templates and take {{token}} out of the other templates.');
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(coalesce(header_templates, '{}')) h WHERE h ~ E'[\\r\\n]') THEN
    PERFORM smam.refuse('22023', NULL, format('connector for %s refused: a header template holds a line break', code),
      'A line break in a header would start another header or the body of the request.',
      'Give each header as one line "Name: value".');
  END IF;
  FOREACH tpl IN ARRAY ARRAY[publish_path, body_template, metrics_path, profile_url] || coalesce(header_templates, '{}') LOOP
    SELECT string_agg(m[1], ', ') INTO unknown
      FROM regexp_matches(coalesce(tpl, ''), E'\\{\\{([^}]*)\\}\\}', 'g') m
     WHERE NOT (m[1] = ANY (smam.template_placeholders()));
    IF unknown IS NOT NULL THEN
      PERFORM smam.refuse('22023', NULL, format('unknown placeholder(s) in the connector for %s: %s', code, unknown),
        format('Placeholders are %s.', array_to_string(smam.template_placeholders(), ', ')), NULL);
    END IF;
  END LOOP;
  IF EXISTS (SELECT 1 FROM unnest(coalesce(header_templates, '{}')) h WHERE h !~ '^[A-Za-z0-9-]+: ') THEN
    PERFORM smam.refuse('22023', NULL, 'a header template reads "Name: value"', NULL,
      'Write headers such as ''Authorization: Bearer {{token}}''.');
  END IF;
  -- Opening a special range opens the internal network: a superuser's act.
  IF coalesce(allowed_networks, '{}') <> '{}'
     AND coalesce(allowed_networks, '{}') IS DISTINCT FROM (SELECT k.allowed_networks FROM smam.connector k WHERE k.platform = code)
     AND NOT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = smam.acting_role()), false) THEN
    PERFORM smam.refuse('42501', '6.2.5', format('role "%s" may not allow special address ranges', smam.acting_role()),
      'A connector''s allowed_networks open loopback, private or link-local addresses to the tool''s requests; only a superuser sets them.',
      'Ask a superuser to set allowed_networks, or leave them as they are.');
  END IF;
  FOREACH net IN ARRAY coalesce(allowed_networks, '{}') LOOP
    IF smam.address_problem(host(network(net))) IS NULL OR smam.address_problem(host(broadcast(net))) IS NULL THEN
      PERFORM smam.refuse('22023', '6.2.5', format('%s is not a loopback, private or link-local range', net),
        'Only special ranges need allowing; public addresses are allowed by the host allowlist.', NULL);
    END IF;
  END LOOP;
  INSERT INTO smam.connector AS c (platform, base_url, publish_path, method, header_templates, body_template,
                                   body_format, post_id_path, metrics_path, profile_url, allowed_hosts,
                                   allowed_networks, enabled, metrics_object_path)
  VALUES (code, base_url, publish_path, upper(method), coalesce(header_templates, '{}'), body_template,
          body_format, coalesce(post_id_path, '{id}'), metrics_path, profile_url, hosts,
          coalesce(allowed_networks, '{}'), coalesce(enabled, true), coalesce(metrics_object_path, '{}'))
  ON CONFLICT ON CONSTRAINT connector_pkey DO UPDATE SET
    base_url = EXCLUDED.base_url, publish_path = EXCLUDED.publish_path, method = EXCLUDED.method,
    header_templates = EXCLUDED.header_templates, body_template = EXCLUDED.body_template,
    body_format = EXCLUDED.body_format, post_id_path = EXCLUDED.post_id_path,
    metrics_path = EXCLUDED.metrics_path, profile_url = EXCLUDED.profile_url,
    allowed_hosts = EXCLUDED.allowed_hosts, allowed_networks = EXCLUDED.allowed_networks,
    enabled = EXCLUDED.enabled, metrics_object_path = EXCLUDED.metrics_object_path, set_by = smam.acting_role(), set_at = now();
END
$$;
COMMENT ON FUNCTION smam.set_connector(text, text, text, text[], text, text[], text, text, text[], text, text, cidr[], boolean, text[]) IS
  'Administrator: how the tool reaches a platform, with the host allowlist and any special address ranges allowed';

-- ---- credentials ----

CREATE TABLE smam.account_credential (
  account_id    bigint PRIMARY KEY REFERENCES smam.account (id),
  token_secret  text NOT NULL,
  expires_at    timestamptz,
  set_by        name NOT NULL DEFAULT smam.acting_role(),
  set_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  origin        text,
  suspended_at  timestamptz,
  suspended_reason text,
  confirmed_by  name,
  confirmed_at  timestamptz
);
COMMENT ON TABLE smam.account_credential IS
  'The secret each account publishes with; readable only by the extension''s owner and the publishing worker (smam_worker), never shown in a view or an error';
COMMENT ON COLUMN smam.account_credential.origin IS
  'The origin (scheme://host:port) of the connector the credential was given or confirmed for: it is sent nowhere else';
COMMENT ON COLUMN smam.account_credential.suspended_at IS
  'Set when the connector''s address, allowlist or allowed networks change: not used until smam.confirm_credential()';

-- The origin a credential handed over now is for, and why it is suspended
-- from the start (NULL: it is not).
CREATE FUNCTION smam.credential_binding(account bigint, OUT origin text, OUT suspended_reason text)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT smam.url_origin(k.base_url),
           CASE WHEN k.platform IS NULL THEN format('platform %s had no connector when the credentials were handed over', a.platform)
                WHEN NOT k.enabled THEN format('the connector of platform %s was disabled when the credentials were handed over', a.platform) END
      FROM smam.account a LEFT JOIN smam.connector k ON k.platform = a.platform
     WHERE a.id = account
  $$;

CREATE FUNCTION smam.set_credential(account bigint, token text, expires_at timestamptz DEFAULT NULL)
  RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  a smam.account;
  b record;
BEGIN
  -- Refusals here never log the statement, which holds the token
  -- (smam.refuse_quietly: errhidestmt).
  SELECT * INTO a FROM smam.account x WHERE x.id = account;
  IF NOT smam.sees_department(a.department_id) THEN
    PERFORM smam.refuse_quietly('42704', NULL, format('account %s does not exist or is not visible to you', account),
      'The objects of a department are visible to the holders of its offices and of government-wide offices.',
      'Check the account''s number; you see those of the departments in which you hold an office.');
  END IF;
  IF NOT (smam.holds_office(who, 'head_of_communications', a.department_id)
          OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse_quietly('42501', '6.1.4', format('role "%s" may not set the credentials of account %s', who, account),
      'The head of communications (or designate) of the account''s department, or an administrator, hands the tool an account''s credentials.',
      'Ask the department''s head of communications.');
  END IF;
  IF token IS NULL OR btrim(token) = '' THEN
    PERFORM smam.refuse_quietly('22023', NULL, 'a credential cannot be empty', NULL,
      'To stop the tool from publishing, use smam.revoke_credential().');
  END IF;
  IF token ~ E'[\\r\\n]' THEN
    PERFORM smam.refuse_quietly('22023', NULL, 'a credential cannot contain a line break', NULL,
      'Give the token on one line, as the platform issued it.');
  END IF;
  -- A first credential is bound to the origin of the platform's connector
  -- now (the notice says which). A new token for an account whose
  -- credential is suspended (its connector changed) keeps the origin it was
  -- confirmed for and stays suspended: handing over a token is not a
  -- confirmation of a connector someone else re-pointed; only
  -- smam.confirm_credential() moves the binding.
  b := smam.credential_binding(account);
  INSERT INTO smam.account_credential AS c (account_id, token_secret, expires_at, origin, suspended_at, suspended_reason)
  VALUES (account, token, expires_at, b.origin, CASE WHEN b.suspended_reason IS NOT NULL THEN now() END, b.suspended_reason)
  ON CONFLICT (account_id) DO UPDATE SET token_secret = EXCLUDED.token_secret,
    expires_at = EXCLUDED.expires_at, set_by = smam.acting_role(), set_at = now(),
    origin = CASE WHEN c.suspended_at IS NOT NULL THEN c.origin ELSE EXCLUDED.origin END,
    suspended_at = coalesce(c.suspended_at, EXCLUDED.suspended_at),
    suspended_reason = coalesce(c.suspended_reason, EXCLUDED.suspended_reason),
    confirmed_by = CASE WHEN c.suspended_at IS NOT NULL THEN c.confirmed_by END,
    confirmed_at = CASE WHEN c.suspended_at IS NOT NULL THEN c.confirmed_at END;
  SELECT c.origin, c.suspended_reason INTO b FROM smam.account_credential c WHERE c.account_id = account;
  IF b.suspended_reason IS NOT NULL THEN
    RAISE NOTICE 'the credentials of account % are kept for %, and suspended: %', account, coalesce(b.origin, 'no origin yet'), b.suspended_reason
      USING HINT = 'Check the platform''s connector (smam.connector), then confirm it with smam.confirm_credential().';
  ELSE
    RAISE NOTICE 'the credentials of account % go to % only', account, b.origin;
  END IF;
END
$$;
COMMENT ON FUNCTION smam.set_credential(bigint, text, timestamptz) IS
  'Hand the tool an account''s secret (head of communications or administrator); it can be replaced, never read back';

CREATE FUNCTION smam.revoke_credential(account bigint) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  dept bigint := (SELECT a.department_id FROM smam.account a WHERE a.id = account);
BEGIN
  PERFORM smam.require_visible('account', account, dept);
  IF NOT (smam.holds_office(who, 'head_of_communications', dept)
          OR smam.holds_office(who, 'administrator', NULL)
          OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who)) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not revoke the credentials of account %s', who, account),
      NULL, 'Ask the department''s head of communications.');
  END IF;
  DELETE FROM smam.account_credential c WHERE c.account_id = account;
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION smam.revoke_credential(bigint) IS
  'Take an account''s credentials away from the tool (head of communications or administrator)';

-- A connector's address, allowlist or allowed networks changed: the
-- credentials of its platform's accounts were handed over for the old
-- ones. They wait, unused, for the department's head of communications.
CREATE FUNCTION smam.connector_rebind() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF smam.url_origin(OLD.base_url) IS NOT DISTINCT FROM smam.url_origin(NEW.base_url)
     AND OLD.allowed_hosts IS NOT DISTINCT FROM NEW.allowed_hosts
     AND OLD.allowed_networks IS NOT DISTINCT FROM NEW.allowed_networks THEN
    RETURN NULL;
  END IF;
  UPDATE smam.account_credential c
     SET suspended_at = now(),
         suspended_reason = format('%s changed the connector of platform %s (%s, hosts %s, networks %s) on %s',
                                   smam.acting_role(), NEW.platform, smam.url_origin(NEW.base_url),
                                   NEW.allowed_hosts, NEW.allowed_networks, smam.moment_text(now()))
   WHERE c.suspended_at IS NULL
     AND c.account_id IN (SELECT a.id FROM smam.account a WHERE a.platform = NEW.platform);
  RETURN NULL;
END
$$;
CREATE TRIGGER connector_rebind AFTER UPDATE ON smam.connector
  FOR EACH ROW EXECUTE FUNCTION smam.connector_rebind();

-- The head of communications confirms that the account's credentials may
-- go where its platform's connector now points.
CREATE FUNCTION smam.confirm_credential(account bigint) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  who name := smam.acting_role();
  a smam.account;
  k smam.connector;
  c smam.account_credential;
BEGIN
  SELECT * INTO a FROM smam.account x WHERE x.id = account;
  IF NOT FOUND OR NOT (smam.holds_office(who, 'head_of_communications', a.department_id)
                       OR coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = who), false)) THEN
    PERFORM smam.refuse('42501', '6.1.4', format('role "%s" may not confirm the credentials of account %s', who, account),
      format('Account %s does not exist, or you do not hold the office that confirms its credentials: the head of communications (or designate) of its department.', account),
      'Ask the department''s head of communications.');
  END IF;
  SELECT * INTO c FROM smam.account_credential x WHERE x.account_id = account FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM smam.refuse('55000', '6.1.4', format('account %s has no credentials to confirm', account), NULL,
      'Hand the tool its credentials with smam.set_credential().');
  END IF;
  SELECT * INTO k FROM smam.connector x WHERE x.platform = a.platform;
  IF NOT FOUND OR NOT k.enabled THEN
    PERFORM smam.refuse('55000', '6.1.4', format('platform %s has no enabled connector to confirm the credentials for', a.platform), NULL,
      'Ask an administrator to configure one with smam.set_connector().');
  END IF;
  IF c.suspended_at IS NULL AND c.origin IS NOT DISTINCT FROM smam.url_origin(k.base_url) THEN
    RETURN false;
  END IF;
  UPDATE smam.account_credential x
     SET origin = smam.url_origin(k.base_url), suspended_at = NULL, suspended_reason = NULL,
         confirmed_by = who, confirmed_at = now()
   WHERE x.account_id = account;
  RETURN true;
END
$$;
COMMENT ON FUNCTION smam.confirm_credential(bigint) IS
  'Head of communications: let the account''s suspended credentials go to the origin its platform''s connector now has';

GRANT EXECUTE ON FUNCTION smam.confirm_credential(bigint), smam.url_origin(text) TO smam_admin, smam_department;
GRANT EXECUTE ON FUNCTION smam.address_problem(text, text[]) TO smam_admin;

-- ---- sql/smam/84_delivery.sql ----
-- Deliveries: one per post and account, sent by the publishing worker
-- (src/worker.c) or by smam.dispatch() (src/delivery.c) over smam's HTTP
-- client (src/http.c).

CREATE TYPE smam.delivery_status AS ENUM ('pending', 'sending', 'delivered', 'dead', 'cancelled');
COMMENT ON TYPE smam.delivery_status IS
  'pending (due at next_attempt_at) -> sending (claimed) -> delivered | dead; or cancelled before sending';

CREATE SEQUENCE smam.delivery_id_seq;
CREATE TABLE smam.delivery (
  id                bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.delivery_id_seq'),
  post_id           bigint NOT NULL REFERENCES smam.post (id),
  account_id        bigint NOT NULL REFERENCES smam.account (id),
  department_id     bigint NOT NULL REFERENCES smam.department (id),
  status            smam.delivery_status NOT NULL DEFAULT 'pending',
  idempotency_key   uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid() UNIQUE,
  due_at            timestamptz NOT NULL,
  next_attempt_at   timestamptz NOT NULL,
  attempts          integer NOT NULL DEFAULT 0,
  claimed_at        timestamptz,
  claimed_pid       integer,
  claimed_by_start  timestamptz,
  http_status       integer,
  platform_post_id  text CHECK (platform_post_id OPERATOR(pg_catalog.~) '^[!-~]{1,128}$'),
  last_error        text,
  last_sqlstate     text,
  cancelled_reason  text,
  created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  settled_at        timestamptz,
  UNIQUE (post_id, account_id)
);
ALTER SEQUENCE smam.delivery_id_seq OWNED BY smam.delivery.id;
CREATE INDEX delivery_due_idx ON smam.delivery (next_attempt_at, id)
  WHERE status OPERATOR(pg_catalog.=) 'pending'::smam.delivery_status;
CREATE INDEX delivery_sending_idx ON smam.delivery (claimed_at)
  WHERE status OPERATOR(pg_catalog.=) 'sending'::smam.delivery_status;
CREATE INDEX delivery_account_idx ON smam.delivery (account_id, status);
COMMENT ON TABLE smam.delivery IS
  'One row per post and account: its status, attempts, HTTP status, the platform''s post id or the last error';
COMMENT ON COLUMN smam.delivery.idempotency_key IS
  'Sent with every attempt (header Idempotency-Key by default): a re-send after a crash or a retry is recognisable';
COMMENT ON COLUMN smam.delivery.platform_post_id IS
  'The platform''s id of the post, read from its answer at the connector''s post_id_path: 1 to 128 visible ASCII characters';
COMMENT ON COLUMN smam.delivery.claimed_pid IS
  'Process sending it (with claimed_by_start, its start time); a claim whose process is gone is taken up again';

CREATE SEQUENCE smam.delivery_attempt_id_seq;
CREATE TABLE smam.delivery_attempt (
  id                bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.delivery_attempt_id_seq'),
  delivery_id       bigint NOT NULL REFERENCES smam.delivery (id),
  attempt           integer NOT NULL,
  idempotency_key   uuid NOT NULL,
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  outcome           smam.delivery_status NOT NULL,
  http_status       integer,
  sqlstate          text,
  error             text,
  retry_at          timestamptz,
  remote_address    text,
  sender_pid        integer NOT NULL DEFAULT pg_catalog.pg_backend_pid()
);
ALTER SEQUENCE smam.delivery_attempt_id_seq OWNED BY smam.delivery_attempt.id;
CREATE INDEX delivery_attempt_delivery_idx ON smam.delivery_attempt (delivery_id);
COMMENT ON TABLE smam.delivery_attempt IS
  'Every attempt of every delivery, with its outcome; outcome pending means retried at retry_at';

-- ---- scheduling ----

-- Is the account managed in the tool (6.1.4): an enabled connector for its
-- platform, and credentials that have not expired and were not refused on
-- the last settled delivery? Analysts and government-wide offices read every
-- department's accounts, departments their own.
CREATE VIEW smam.account_tool_status WITH (security_barrier = true) AS
  SELECT a.id AS account_id, a.department_id, a.platform, a.stage,
         (k.platform IS NOT NULL) AS has_connector,
         (c.account_id IS NOT NULL AND (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) pg_catalog.now()))
           AS has_credentials,
         c.set_at AS credentials_set_at,
         c.expires_at AS credentials_expire_at,
         last.status AS last_delivery_status,
         last.http_status AS last_http_status,
         (last.http_status IS NOT NULL AND last.http_status OPERATOR(pg_catalog.=) ANY (ARRAY[401, 403])
          AND last.settled_at OPERATOR(pg_catalog.>) c.set_at) AS credentials_refused,
         (k.platform IS NOT NULL AND c.account_id IS NOT NULL
          AND (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())
          AND c.suspended_at IS NULL AND c.origin IS NOT NULL
          AND NOT coalesce(last.http_status OPERATOR(pg_catalog.=) ANY (ARRAY[401, 403])
                           AND last.settled_at OPERATOR(pg_catalog.>) c.set_at, false)) AS managed_in_tool,
         (c.account_id IS NOT NULL AND (c.suspended_at IS NOT NULL OR c.origin IS NULL)) AS credentials_suspended
    FROM smam.account a
    LEFT JOIN smam.connector k ON k.platform OPERATOR(pg_catalog.=) a.platform AND k.enabled
    LEFT JOIN smam.account_credential c ON c.account_id OPERATOR(pg_catalog.=) a.id
    LEFT JOIN LATERAL (SELECT d.status, d.http_status, d.settled_at FROM smam.delivery d
                        WHERE d.account_id OPERATOR(pg_catalog.=) a.id
                          AND d.status OPERATOR(pg_catalog.=) ANY (ARRAY['delivered', 'dead']::smam.delivery_status[])
                        ORDER BY d.settled_at DESC LIMIT 1) last ON true
   WHERE (SELECT smam.reads_all_compliance())
      OR a.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]);
COMMENT ON VIEW smam.account_tool_status IS
  '6.1.4: is each account managed in the platform management tool (working connector and credentials)? Never shows a secret';
-- The meaning of each column of smam.account_tool_status: sql/smam/95_report_dictionary.sql.

-- The same answer for one account, whoever asks (it reveals no secret, only
-- whether the account is managed): for the compliance views of 6.1.4.
CREATE FUNCTION smam.managed_in_tool(account bigint) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
    -- Told only to whom the account's compliance is visible (NULL otherwise).
    SELECT CASE WHEN smam.reads_all_compliance()
                  OR smam.sees_department((SELECT x.department_id FROM smam.account x WHERE x.id = account))
           THEN EXISTS (
      SELECT 1 FROM smam.account a
        JOIN smam.connector k ON k.platform = a.platform AND k.enabled
        JOIN smam.account_credential c ON c.account_id = a.id
       WHERE a.id = account
         AND (c.expires_at IS NULL OR c.expires_at > now())
         AND c.suspended_at IS NULL AND c.origin IS NOT NULL
         AND NOT coalesce((SELECT d.http_status IN (401, 403) AND d.settled_at > c.set_at
                             FROM smam.delivery d
                            WHERE d.account_id = a.id AND d.status IN ('delivered', 'dead')
                            ORDER BY d.settled_at DESC LIMIT 1), false)) END
  $$;
COMMENT ON FUNCTION smam.managed_in_tool(bigint) IS
  '6.1.4: is the account managed in the platform management tool (enabled connector, credentials neither expired nor refused)?';

CREATE FUNCTION smam.schedule_post(post bigint) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  p smam.post;
  item smam.content_item;
  gaps text;
  bad record;
  n integer;
BEGIN
  PERFORM smam.require_visible('post', post, (SELECT x.department_id FROM smam.post x WHERE x.id = post));
  SELECT * INTO p FROM smam.post x WHERE x.id = post FOR UPDATE;
  PERFORM smam.require_department_member(p.department_id, 'schedule posts');
  IF p.status <> 'approved' THEN
    PERFORM smam.refuse('55000', '6.1.4', format('post %s is %s, not approved', post, p.status),
      format('The department''s posts need %s approval tier(s) before they are scheduled.', smam.approval_tiers(p.department_id)),
      'Have it approved with smam.approve_post().');
  END IF;
  SELECT string_agg(format('account %s (%s) lacks the %s text', g.account_id, g.official_language, g.missing), '; '
                    ORDER BY g.account_id)
    INTO gaps FROM smam.post_language_gaps(post) g;
  IF gaps IS NOT NULL THEN
    PERFORM smam.refuse('55000', NULL, format('post %s cannot be scheduled with an official language missing', post),
      gaps || '. An English account gets the English text, a French account the French, a bilingual account both (Policy on Official Languages, section 3.6 of the Standard).',
      'Add the missing text with smam.edit_post(); the post then needs approval again.');
  END IF;
  SELECT * INTO item FROM smam.content_item c WHERE c.id = p.content_item_id;
  IF (item.available_from IS NOT NULL AND p.publish_at < item.available_from)
     OR (item.available_until IS NOT NULL AND p.publish_at >= item.available_until) THEN
    PERFORM smam.refuse('55000', NULL, format('content item %s is not available at %s', item.id, smam.moment_text(p.publish_at)),
      format('It is available from %s until %s.', coalesce(smam.moment_text(item.available_from), 'always'),
             coalesce(smam.moment_text(item.available_until), 'forever')),
      'Publish within the item''s availability window.');
  END IF;
  SELECT a.id, a.stage, s.has_connector, s.has_credentials, s.managed_in_tool, s.credentials_suspended INTO bad
    FROM smam.post_target t JOIN smam.account a ON a.id = t.account_id
    JOIN smam.account_tool_status s ON s.account_id = a.id
   WHERE t.post_id = post AND (NOT smam.account_is_live(a.stage) OR NOT s.managed_in_tool)
   ORDER BY a.id LIMIT 1;
  IF FOUND THEN
    IF NOT smam.account_is_live(bad.stage) THEN
      PERFORM smam.refuse('55000', '6.1.2', format('account %s is not live', bad.id),
        format('It is in the %s stage; only accounts in implementation or evaluation are published to.', bad.stage),
        'Remove it from the post by making a new post, or cancel this one.');
    END IF;
    PERFORM smam.refuse('55000', '6.1.4', format('account %s is not managed in the platform management tool', bad.id),
      CASE WHEN NOT bad.has_connector THEN 'Its platform has no enabled connector.'
           WHEN bad.credentials_suspended THEN 'Its credentials are suspended: its platform''s connector changed since they were handed over.'
           ELSE 'It has no valid credentials.' END,
      CASE WHEN NOT bad.has_connector THEN 'Ask an administrator to configure one with smam.set_connector().'
           WHEN bad.credentials_suspended THEN 'The head of communications confirms them with smam.confirm_credential().'
           ELSE 'Hand the tool its credentials with smam.set_credential().' END);
  END IF;
  INSERT INTO smam.delivery (post_id, account_id, department_id, due_at, next_attempt_at)
  SELECT p.id, t.account_id, p.department_id, p.publish_at, p.publish_at
    FROM smam.post_target t WHERE t.post_id = post
  ON CONFLICT (post_id, account_id) DO UPDATE
     SET status = 'pending', due_at = EXCLUDED.due_at, next_attempt_at = EXCLUDED.next_attempt_at,
         attempts = 0, cancelled_reason = NULL, settled_at = NULL, last_error = NULL, last_sqlstate = NULL,
         http_status = NULL, idempotency_key = gen_random_uuid()
     WHERE smam.delivery.status = 'cancelled';
  GET DIAGNOSTICS n = ROW_COUNT;
  UPDATE smam.post x SET status = 'scheduled', scheduled_at = now() WHERE x.id = post;
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.schedule_post(bigint) IS
  'Schedule an approved post: checks official languages, live and managed accounts, availability; makes one delivery per account';

-- Posts whose deliveries are all settled become published, failed or cancelled.
CREATE FUNCTION smam.settle_posts(posts bigint[]) RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  -- Run by the publishing worker: every name qualified besides the pin.
  AS $$
    UPDATE smam.post p
       SET status = CASE WHEN EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                                         AND d.status OPERATOR(pg_catalog.=) 'dead'::smam.delivery_status)
                         THEN 'failed'::smam.post_status
                         WHEN EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                                         AND d.status OPERATOR(pg_catalog.=) 'delivered'::smam.delivery_status)
                         THEN 'published'::smam.post_status
                         ELSE 'cancelled'::smam.post_status END,
           settled_at = pg_catalog.now(),
           cancelled_reason = coalesce(p.cancelled_reason,
             (SELECT pg_catalog.min(d.cancelled_reason) FROM smam.delivery d
               WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                 AND d.status OPERATOR(pg_catalog.=) 'cancelled'::smam.delivery_status))
     WHERE p.id OPERATOR(pg_catalog.=) ANY (posts) AND p.status OPERATOR(pg_catalog.=) 'scheduled'::smam.post_status
       AND NOT EXISTS (SELECT 1 FROM smam.delivery d WHERE d.post_id OPERATOR(pg_catalog.=) p.id
                          AND d.status OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'sending']::smam.delivery_status[]))
  $$;

-- An account leaving the live stages takes its pending deliveries with it.
-- SECURITY DEFINER: whoever moves the account, its deliveries are cancelled.
CREATE FUNCTION smam.account_left_live() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  posts bigint[];
BEGIN
  WITH c AS (
    UPDATE smam.delivery d
       SET status = 'cancelled', settled_at = now(),
           cancelled_reason = format('account %s moved from %s to %s', NEW.id, OLD.stage, NEW.stage)
     WHERE d.account_id = NEW.id AND d.status = 'pending'
     RETURNING d.post_id)
  SELECT array_agg(DISTINCT c.post_id) INTO posts FROM c;
  IF posts IS NOT NULL THEN
    PERFORM smam.settle_posts(posts);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER account_left_live AFTER UPDATE OF stage ON smam.account
  FOR EACH ROW WHEN (smam.account_is_live(OLD.stage) AND NOT smam.account_is_live(NEW.stage))
  EXECUTE FUNCTION smam.account_left_live();

CREATE TRIGGER post_edit_guard BEFORE UPDATE ON smam.post
  FOR EACH ROW EXECUTE FUNCTION smam.post_edit_guard();

-- Wake the worker when a transaction that made work due commits.
CREATE FUNCTION smam.delivery_wake() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_delivery_wake';
COMMENT ON FUNCTION smam.delivery_wake() IS
  'Trigger: at commit of the transaction, wake the publishing worker of this database';
CREATE TRIGGER delivery_wake AFTER INSERT OR UPDATE OF status, next_attempt_at ON smam.delivery
  FOR EACH STATEMENT EXECUTE FUNCTION smam.delivery_wake();

-- SECURITY DEFINER: sending reads the credentials, which only the owner of
-- the extension (the role the worker connects as) can read.
CREATE FUNCTION smam.dispatch(max integer DEFAULT NULL) RETURNS integer
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_dispatch';
COMMENT ON FUNCTION smam.dispatch(integer) IS
  'Send one batch of due deliveries (at most max, default smam.worker_batch_size) in this session; returns how many it settled';

-- Is the process that claimed a delivery still running (its pid and start
-- time)? Read in C from shared memory: pg_stat_activity hides another
-- role's start time from the worker's role.
CREATE FUNCTION smam.sender_alive(pid integer, started timestamptz) RETURNS boolean
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'smam_sender_alive';
COMMENT ON FUNCTION smam.sender_alive(integer, timestamptz) IS
  'Is the process that claimed a delivery (pid, start time) still running?';

-- ---- the publishing worker's role ----
-- smam_worker (00_foundation) reads what sending needs, credentials
-- included, and writes the outcomes: nothing else, through grants and
-- row-level security policies of its own (no BYPASSRLS).
GRANT SELECT ON smam.account, smam.post, smam.connector, smam.account_credential TO smam_worker;
GRANT SELECT, UPDATE ON smam.delivery TO smam_worker;
GRANT UPDATE (status, settled_at, cancelled_reason) ON smam.post TO smam_worker;
GRANT INSERT ON smam.delivery_attempt TO smam_worker;
GRANT USAGE ON SEQUENCE smam.delivery_attempt_id_seq TO smam_worker;
GRANT EXECUTE ON FUNCTION smam.settle_posts(bigint[]), smam.sender_alive(integer, timestamptz),
  smam.account_is_live(smam.stage) TO smam_worker;
CREATE POLICY account_worker ON smam.account FOR SELECT TO smam_worker USING (true);
CREATE POLICY post_worker_read ON smam.post FOR SELECT TO smam_worker USING (true);
CREATE POLICY post_worker_settle ON smam.post FOR UPDATE TO smam_worker
  USING (status OPERATOR(pg_catalog.=) 'scheduled'::smam.post_status) WITH CHECK (true);
CREATE POLICY connector_worker ON smam.connector FOR SELECT TO smam_worker USING (true);
CREATE POLICY account_credential_worker ON smam.account_credential FOR SELECT TO smam_worker USING (true);
CREATE POLICY delivery_worker_read ON smam.delivery FOR SELECT TO smam_worker USING (true);
-- USING (true): a qual of its own would keep the planner from the partial
-- indexes on status (enum_eq is not leakproof, so under row-level security
-- the queries' own "status = 'pending'" could not be an index condition).
CREATE POLICY delivery_worker_send ON smam.delivery FOR UPDATE TO smam_worker
  USING (true)
  WITH CHECK (status OPERATOR(pg_catalog.<>) 'cancelled'::smam.delivery_status);
CREATE POLICY delivery_attempt_worker ON smam.delivery_attempt FOR INSERT TO smam_worker WITH CHECK (true);

-- ---- sql/smam/86_reports.sql ----
-- The tool's reporting (appendix: "includes reporting capabilities"): the
-- link check of account URLs and its findings, metrics pulled into a time
-- series, and reports by department, platform and month, of the accounts
-- (for the evaluation stage, 6.1.2) and of publishing itself.

CREATE SEQUENCE smam.account_url_check_id_seq;
CREATE TABLE smam.account_url_check (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_url_check_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  checked_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  url            text NOT NULL,
  http_status    integer,
  location       text,
  outcome        text NOT NULL CHECK (outcome OPERATOR(pg_catalog.=) ANY
                   (ARRAY['ok', 'gone', 'redirected', 'unreachable', 'refused'])),
  sqlstate       text,
  error          text
);
ALTER SEQUENCE smam.account_url_check_id_seq OWNED BY smam.account_url_check.id;
CREATE INDEX account_url_check_account_idx ON smam.account_url_check (account_id, checked_at DESC);
COMMENT ON TABLE smam.account_url_check IS
  'Each check of a live account''s page by smam.check_account_urls(): ok, gone, redirected, unreachable or refused';

CREATE FUNCTION smam.check_account_urls() RETURNS integer
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_check_account_urls';
COMMENT ON FUNCTION smam.check_account_urls() IS
  'Check the page of every live account, many at once; record outcomes in smam.account_url_check; returns the number of findings (gone or redirected)';

-- The latest check of each live account, where it is a finding. Analysts
-- and government-wide offices read every department's, departments their own.
CREATE VIEW smam.account_url_finding WITH (security_barrier = true) AS
  SELECT c.account_id, c.department_id, a.platform, a.url AS account_url, c.checked_at, c.outcome,
         c.http_status, c.location,
         CASE c.outcome WHEN 'gone' THEN pg_catalog.format('the account''s page answers %s: the account is gone', c.http_status)
                        ELSE pg_catalog.format('the account''s page redirects to %s: renamed or taken over?', c.location) END
           AS finding,
         '6.2.4'::text AS requirement
    FROM smam.account a
    JOIN LATERAL (SELECT x.* FROM smam.account_url_check x WHERE x.account_id OPERATOR(pg_catalog.=) a.id
                   ORDER BY x.checked_at DESC, x.id DESC LIMIT 1) c ON true
   WHERE smam.account_is_live(a.stage)
     AND c.outcome OPERATOR(pg_catalog.=) ANY (ARRAY['gone', 'redirected'])
     AND ((SELECT smam.reads_all_compliance())
          OR a.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
COMMENT ON VIEW smam.account_url_finding IS
  'Compliance findings of the link check: live accounts whose page is gone or redirects elsewhere (latest check)';

-- ---- metrics ----

CREATE SEQUENCE smam.metric_pull_id_seq;
CREATE TABLE smam.metric_pull (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.metric_pull_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  pulled_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
  http_status    integer,
  sqlstate       text,
  error          text
);
ALTER SEQUENCE smam.metric_pull_id_seq OWNED BY smam.metric_pull.id;
COMMENT ON TABLE smam.metric_pull IS 'Each metrics pull of an account, with its error when it failed';

CREATE SEQUENCE smam.account_metric_id_seq;
CREATE TABLE smam.account_metric (
  id             bigint PRIMARY KEY DEFAULT pg_catalog.nextval('smam.account_metric_id_seq'),
  account_id     bigint NOT NULL REFERENCES smam.account (id),
  department_id  bigint NOT NULL REFERENCES smam.department (id),
  platform       text NOT NULL REFERENCES smam.platform (code),
  observed_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
  metric         text NOT NULL,
  value          numeric NOT NULL
);
ALTER SEQUENCE smam.account_metric_id_seq OWNED BY smam.account_metric.id;
CREATE INDEX account_metric_idx ON smam.account_metric (account_id, metric, observed_at);
COMMENT ON TABLE smam.account_metric IS 'Time series of account metrics (followers, impressions, ...) as the platforms report them';

CREATE FUNCTION smam.pull_metrics() RETURNS integer
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_pull_metrics';
COMMENT ON FUNCTION smam.pull_metrics() IS
  'Read every managed live account''s metrics through its connector into smam.account_metric; returns how many accounts answered';

-- Metrics by department, platform and month (smam.time_zone): per metric,
-- the accounts measured, the sum of each account's last value in the month
-- and the average observation.
CREATE VIEW smam.metrics_monthly WITH (security_invoker = true) AS
  SELECT m.department_id, d.name_en AS department_en, m.platform,
         pg_catalog.date_trunc('month', m.observed_at AT TIME ZONE smam.time_zone())::date AS month,
         m.metric,
         pg_catalog.count(DISTINCT m.account_id) AS accounts,
         pg_catalog.sum(m.value) FILTER (WHERE m.last_in_month) AS last_value_total,
         pg_catalog.avg(m.value) AS average_value,
         pg_catalog.count(*) AS observations
    FROM (SELECT x.*, pg_catalog.row_number() OVER (
                   PARTITION BY x.account_id, x.metric,
                                pg_catalog.date_trunc('month', x.observed_at AT TIME ZONE smam.time_zone())
                   ORDER BY x.observed_at DESC, x.id DESC) OPERATOR(pg_catalog.=) 1 AS last_in_month
            FROM smam.account_metric x) m
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) m.department_id
   GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW smam.metrics_monthly IS
  'Account metrics by department, platform, month and metric, for the evaluation stage (6.1.2)';

-- Publishing itself: volumes, failures and time to approve, by department,
-- platform and month of the scheduled time. Read with the owner's rights
-- (security_barrier), filtered here as the compliance views are: analysts
-- and government-wide offices read every department's totals, departments
-- their own; analysts never read the posts or the accounts themselves (in
-- 1.0 it read them with the caller's rights, and an analyst was refused the
-- view it was granted).
CREATE VIEW smam.publishing_report WITH (security_barrier = true) AS
  SELECT dl.department_id, d.name_en AS department_en, a.platform,
         pg_catalog.date_trunc('month', dl.due_at AT TIME ZONE smam.time_zone())::date AS month,
         pg_catalog.count(DISTINCT dl.post_id) AS posts,
         pg_catalog.count(*) AS deliveries,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'delivered') AS delivered,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'dead') AS dead,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'cancelled') AS cancelled,
         pg_catalog.count(*) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'sending']::smam.delivery_status[])) AS in_progress,
         pg_catalog.count(*) FILTER (WHERE dl.attempts OPERATOR(pg_catalog.>) 1) AS retried,
         pg_catalog.round(pg_catalog.avg(dl.attempts) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) ANY (ARRAY['delivered', 'dead']::smam.delivery_status[])), 2) AS average_attempts,
         pg_catalog.avg(p.approved_at OPERATOR(pg_catalog.-) p.submitted_at) AS average_time_to_approve,
         pg_catalog.avg(dl.settled_at OPERATOR(pg_catalog.-) dl.due_at) FILTER (WHERE dl.status OPERATOR(pg_catalog.=) 'delivered') AS average_time_to_deliver
    FROM smam.delivery dl
    JOIN smam.post p ON p.id OPERATOR(pg_catalog.=) dl.post_id
    JOIN smam.account a ON a.id OPERATOR(pg_catalog.=) dl.account_id
    JOIN smam.department d ON d.id OPERATOR(pg_catalog.=) dl.department_id
   WHERE (SELECT smam.reads_all_compliance())
      OR dl.department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[])
   GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW smam.publishing_report IS
  'Publishing by department, platform and month: posts, deliveries, delivered, dead, cancelled, retries, time to approve and to deliver';

ALTER TABLE smam.account_url_check ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.metric_pull ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.account_metric ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_url_check_read ON smam.account_url_check FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY metric_pull_read ON smam.metric_pull FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY account_metric_read ON smam.account_metric FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.reads_all_compliance())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
GRANT SELECT ON smam.account_url_check, smam.account_url_finding, smam.metric_pull, smam.account_metric,
  smam.metrics_monthly, smam.publishing_report
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION smam.check_account_urls(), smam.pull_metrics() TO smam_admin;

SELECT pg_catalog.pg_extension_config_dump('smam.account_url_check', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_url_check_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.metric_pull', '');
SELECT pg_catalog.pg_extension_config_dump('smam.metric_pull_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_metric', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_metric_id_seq', '');

-- ---- sql/smam/89_compliance.sql ----
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

-- ---- sql/smam/89_tool_access.sql ----
-- Who sees and does what in the platform management tool. Departments see
-- their own rows; the entity, TBS and administrators see all. No smam_*
-- role reads smam.account_credential, not even through a view: only its
-- owner does, which is the role the publishing worker connects as and the
-- role smam.dispatch() and the other senders run as (SECURITY DEFINER).

ALTER TABLE smam.content_item ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.publishing_policy ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.approval_tier ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.post ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.post_target ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.post_approval ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.connector ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.account_credential ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.delivery ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.delivery_attempt ENABLE ROW LEVEL SECURITY;

CREATE POLICY content_item_read ON smam.content_item FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY publishing_policy_read ON smam.publishing_policy FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY approval_tier_read ON smam.approval_tier FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY post_read ON smam.post FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY post_target_read ON smam.post_target FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (EXISTS (SELECT 1 FROM smam.post p WHERE p.id OPERATOR(pg_catalog.=) post_id));
CREATE POLICY post_approval_read ON smam.post_approval FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING (EXISTS (SELECT 1 FROM smam.post p WHERE p.id OPERATOR(pg_catalog.=) post_id));
CREATE POLICY connector_read ON smam.connector FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
CREATE POLICY delivery_read ON smam.delivery FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE POLICY delivery_attempt_read ON smam.delivery_attempt FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst
  USING (EXISTS (SELECT 1 FROM smam.delivery d WHERE d.id OPERATOR(pg_catalog.=) delivery_id));

GRANT SELECT ON smam.content_item, smam.publishing_policy, smam.approval_tier, smam.post,
  smam.post_target, smam.post_approval, smam.connector, smam.delivery, smam.delivery_attempt,
  smam.account_tool_status
  TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT SELECT ON smam.delivery, smam.delivery_attempt, smam.account_tool_status TO smam_analyst;

GRANT EXECUTE ON FUNCTION smam.account_is_live(smam.stage), smam.approval_tiers(bigint),
  smam.post_language_gaps(bigint), smam.template_placeholders(), smam.managed_in_tool(bigint)
  TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst;
GRANT EXECUTE ON FUNCTION
  smam.add_content_item(bigint, text, text, text, text[], text[], timestamptz, timestamptz, text),
  smam.set_publishing_policy(bigint, integer, jsonb),
  smam.create_post(bigint, bigint[], timestamptz), smam.edit_post(bigint, text, text, timestamptz),
  smam.submit_post(bigint), smam.approve_post(bigint), smam.schedule_post(bigint),
  smam.cancel_post(bigint, text), smam.set_credential(bigint, text, timestamptz),
  smam.revoke_credential(bigint)
  TO smam_admin, smam_department;
GRANT EXECUTE ON FUNCTION
  smam.set_connector(text, text, text, text[], text, text[], text, text, text[], text, text, cidr[], boolean, text[]),
  smam.http_url_problem(text, text[])
  TO smam_admin;
GRANT EXECUTE ON FUNCTION smam.dispatch(integer) TO smam_admin;

SELECT pg_catalog.pg_extension_config_dump('smam.content_item', '');
SELECT pg_catalog.pg_extension_config_dump('smam.content_item_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.publishing_policy', '');
SELECT pg_catalog.pg_extension_config_dump('smam.approval_tier', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_target', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_approval', '');
SELECT pg_catalog.pg_extension_config_dump('smam.post_approval_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.connector', '');
SELECT pg_catalog.pg_extension_config_dump('smam.account_credential', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery_attempt', '');
SELECT pg_catalog.pg_extension_config_dump('smam.delivery_attempt_id_seq', '');

-- ---- sql/smam/90_audit.sql ----
-- The audit log (docs/audit.md): one row per changed row of every table of
-- smam, written by the C trigger smam.audit(), chained with SHA-256 by
-- transaction at commit (smam.audit_seal), verifiable against digests kept
-- elsewhere. Requirements 7.1.1 (monitoring compliance) and 7.3 (reporting
-- on activities) rely on it; the whole life cycle of 6.1.2 is recorded.

-- Transaction numbers of the log: drawn once per writing transaction,
-- without locking, and carried across dump and restore (unlike xids).
-- Transaction numbers only need to be unique: each backend takes them 32 at a
-- time, so that concurrent writers do not meet on the sequence's page. The chain's
-- order is the seals' positions, never these numbers.
CREATE SEQUENCE smam.audit_txn_seq CACHE 32;

-- The column order is the C code's (src/audit.h): never reorder.
CREATE TABLE smam.audit_log (
  txn             bigint NOT NULL,
  ordinal         integer NOT NULL CHECK (ordinal OPERATOR(pg_catalog.>) 0),
  xid             bigint NOT NULL,
  tx_time         timestamptz NOT NULL,
  stmt_time       timestamptz NOT NULL,
  acting_role     text NOT NULL,
  effective_role  text NOT NULL,
  session_role    text NOT NULL,
  application     text,
  client_addr     inet,
  office          text,
  table_name      text COLLATE "C" NOT NULL,
  operation       text NOT NULL CHECK (operation OPERATOR(pg_catalog.=) ANY (ARRAY['INSERT', 'UPDATE', 'DELETE'])),
  row_key         text COLLATE "C",
  department_id   bigint,
  old_values      jsonb,
  new_values      jsonb,
  secrets_changed text[],
  row_hash        bytea NOT NULL,
  PRIMARY KEY (txn, ordinal)
);
-- One object's story (smam.history) by a bloom filter per range of 8 pages
-- (BRIN, text_bloom_ops), summarized once a range is full: an audited row
-- costs the index a share of one summary, where a hash index cost a bucket
-- insert per row, up to a fifth of a bulk update's time as the log grew
-- (docs/audit.md, "Speed"). The filter only says which ranges may hold the
-- key: history() reads those ranges and the ones not summarized yet, and
-- rechecks every row, so it finds every row whether or not its range is
-- summarized. Filters sized for 300 keys a range (8 pages of the smallest
-- audit rows) at one false positive in 1,000 ranges. A writer whose row
-- starts a new range summarizes the one before (src/audit_summary.c), so
-- that only the ranges being filled are read in full; VACUUM summarizes any
-- it skipped, and autovacuum visits the log after every 100,000 rows
-- inserted (autosummarize is off: its requests, one per range, overflow
-- autovacuum's queue of 256 in one bulk update). Time ranges at almost no
-- cost: rows arrive in time order, which a BRIN index on tx_time summarizes
-- per 128 pages.
CREATE INDEX audit_log_object_idx ON smam.audit_log
  USING brin (row_key pg_catalog.text_bloom_ops (n_distinct_per_range = 300, false_positive_rate = 0.001))
  WITH (pages_per_range = 8);
CREATE INDEX audit_log_time_idx ON smam.audit_log USING brin (tx_time) WITH (autosummarize = on);
ALTER TABLE smam.audit_log SET (autovacuum_vacuum_insert_threshold = 100000,
                                autovacuum_vacuum_insert_scale_factor = 0);
COMMENT ON TABLE smam.audit_log IS
  'One row per changed row of every smam table (trigger smam.audit); never updated or deleted';
COMMENT ON COLUMN smam.audit_log.txn IS 'Transaction number of the log (smam.audit_txn_seq); its seal is in smam.audit_seal';
COMMENT ON COLUMN smam.audit_log.ordinal IS 'Position of the row within its transaction: 1, 2, ... without gaps';
COMMENT ON COLUMN smam.audit_log.xid IS 'PostgreSQL''s full transaction id (informative; not unique across clusters)';
COMMENT ON COLUMN smam.audit_log.tx_time IS 'Start of the transaction';
COMMENT ON COLUMN smam.audit_log.stmt_time IS 'Start of the statement';
COMMENT ON COLUMN smam.audit_log.acting_role IS 'smam.acting_role(): the login or SET ROLE role, who acted';
COMMENT ON COLUMN smam.audit_log.effective_role IS 'current_user when the row changed (the owner inside SECURITY DEFINER functions)';
COMMENT ON COLUMN smam.audit_log.session_role IS 'session_user: the role that logged in';
COMMENT ON COLUMN smam.audit_log.office IS
  'Offices the acting role held at the start of the transaction: office@department, comma separated';
COMMENT ON COLUMN smam.audit_log.row_key IS 'Primary key of the changed row, as text; "(a,b)" for a key of several columns';
COMMENT ON COLUMN smam.audit_log.department_id IS 'Department of the changed row, where it has one';
COMMENT ON COLUMN smam.audit_log.old_values IS 'DELETE: the old row; UPDATE: old values of the changed columns';
COMMENT ON COLUMN smam.audit_log.new_values IS 'INSERT: the new row; UPDATE: new values of the changed columns';
COMMENT ON COLUMN smam.audit_log.secrets_changed IS 'Columns named *_secret that were set, changed or cleared: never their values';
COMMENT ON COLUMN smam.audit_log.row_hash IS 'SHA-256 of the row''s canonical serialization (docs/audit.md)';

-- The chain: one seal per committed writing transaction, in the order they
-- were chained (src/audit_seal.c): at its own commit by a transaction that
-- found the chain's lock free, else soon after by the next one that does,
-- the worker, smam.audit_digest() or smam.verify_audit_log().
CREATE TABLE smam.audit_seal (
  seq           bigint PRIMARY KEY CHECK (seq OPERATOR(pg_catalog.>) 0),
  txn           bigint NOT NULL UNIQUE,
  xid           bigint NOT NULL,
  rows          bigint NOT NULL,
  txn_hash      bytea NOT NULL,
  sealed_at     timestamptz NOT NULL,
  prev_hash     bytea NOT NULL,
  hash          bytea NOT NULL,
  committed_at  timestamptz NOT NULL
);
COMMENT ON TABLE smam.audit_seal IS
  'The hash chain of the audit log: one link per committed transaction, in the order they were chained';
COMMENT ON COLUMN smam.audit_seal.seq IS 'Position in the chain: the chain''s order';
COMMENT ON COLUMN smam.audit_seal.txn_hash IS 'SHA-256 over the transaction number and its rows'' hashes in order';
COMMENT ON COLUMN smam.audit_seal.sealed_at IS 'When the transaction was chained: at its commit, or within the sealing window after it';
COMMENT ON COLUMN smam.audit_seal.committed_at IS 'When the transaction committed: the moment it recorded at its commit, just before its commit record';
COMMENT ON COLUMN smam.audit_seal.hash IS 'SHA-256 over seq, txn, xid, rows, txn_hash, sealed_at, prev_hash and committed_at';

-- Committed transactions waiting to be chained: written at commit, without
-- any lock, by a transaction that did not chain itself; removed by the
-- sealer that chains it, in the same transaction as its seal.
CREATE TABLE smam.audit_commit (
  txn           bigint PRIMARY KEY,
  xid           bigint NOT NULL,
  rows          bigint NOT NULL,
  txn_hash      bytea NOT NULL,
  committed_at  timestamptz NOT NULL
);
COMMENT ON TABLE smam.audit_commit IS
  'Committed transactions of the audit log waiting to be chained (smam.audit_seal): their row count and transaction hash, recorded at commit';
-- A queue: rows come and go; vacuumed often, so that a sealer's scan of it
-- stays short.
ALTER TABLE smam.audit_commit SET (autovacuum_vacuum_threshold = 500, autovacuum_vacuum_scale_factor = 0);
COMMENT ON COLUMN smam.audit_commit.txn_hash IS 'SHA-256 over the transaction number and its rows'' hashes in order, as the seal will carry it';

-- Where the log begins after old periods were exported and removed.
CREATE TABLE smam.audit_checkpoint (
  seq             bigint PRIMARY KEY,
  hash            bytea NOT NULL,
  sealed_at       timestamptz NOT NULL,
  seals_archived  bigint NOT NULL,
  rows_archived   bigint NOT NULL,
  archived_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
  archived_by     name NOT NULL,
  note            text NOT NULL,
  export_sha256   text NOT NULL CHECK (export_sha256 OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$'),
  min_age         interval NOT NULL
);
COMMENT ON TABLE smam.audit_checkpoint IS
  'Checkpoints of the chain: the last archived seal''s position and hash, from which verification continues';
COMMENT ON COLUMN smam.audit_checkpoint.export_sha256 IS
  'SHA-256 of the export of the archived period (smam.audit_export), as the administrator hashed the file kept elsewhere; checked against the period before it was removed';
COMMENT ON COLUMN smam.audit_checkpoint.min_age IS
  'smam.audit_archive_min_age when the period was archived: its last seal was at least this old';

CREATE FUNCTION smam.audit() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_audit';
COMMENT ON FUNCTION smam.audit() IS
  'Trigger on every smam table: writes smam.audit_log (AFTER ROW) and refuses TRUNCATE';

CREATE FUNCTION smam.audit_log_guard() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_audit_log_guard';
COMMENT ON FUNCTION smam.audit_log_guard() IS
  'Trigger on the audit log''s tables: refuses UPDATE, DELETE and TRUNCATE from every role';

CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_log
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_seal
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();
-- Sealing writes the chain's tables without firing triggers; any other
-- writer (a restore's COPY, archiving) makes the chain's cached head be
-- forgotten at its commit (src/audit_seal.c).
CREATE FUNCTION smam.audit_head_forget() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'smam_audit_head_forget';
CREATE TRIGGER audit_head_forget AFTER INSERT OR DELETE ON smam.audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_head_forget();
CREATE TRIGGER audit_head_forget AFTER INSERT OR DELETE ON smam.audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_head_forget();
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_commit
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_commit
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON smam.audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION smam.audit_log_guard();
CREATE TRIGGER audit_log_guard_truncate BEFORE TRUNCATE ON smam.audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION smam.audit_log_guard();

-- Chain the committed transactions that wait, now (src/audit_seal.c):
-- smam.audit_digest() and smam.verify_audit_log() call it first. Nothing is
-- chained on a standby, in a read-only transaction, or under REPEATABLE READ
-- or SERIALIZABLE (whose snapshot would not see what it chains).
CREATE FUNCTION smam.seal_audit_log() RETURNS bigint
  LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS 'MODULE_PATHNAME', 'smam_seal_audit_log';
COMMENT ON FUNCTION smam.seal_audit_log() IS
  'Chain the committed transactions of the audit log that wait (smam.audit_commit) now; returns how many';

-- Verification (src/audit_verify.c). Joins run as nested loops over the
-- primary keys: one pass over the log, in chain order, without sorting it.
CREATE FUNCTION smam.verify_audit_log(
    OUT holds boolean, OUT seq bigint, OUT txn bigint, OUT ordinal integer,
    OUT problem text, OUT seals_checked bigint, OUT rows_checked bigint, OUT pending bigint)
  RETURNS record LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS 'MODULE_PATHNAME', 'smam_verify_audit_log';
COMMENT ON FUNCTION smam.verify_audit_log() IS
  'Chain what waits, then: does the audit chain hold (and every committed transaction waiting to be chained match its rows)? Else where it first breaks: position (seal), txn, ordinal (row) and the problem';

CREATE FUNCTION smam.verify_audit_log(digest text,
    OUT holds boolean, OUT seq bigint, OUT txn bigint, OUT ordinal integer,
    OUT problem text, OUT seals_checked bigint, OUT rows_checked bigint, OUT pending bigint)
  RETURNS record LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS 'MODULE_PATHNAME', 'smam_verify_audit_log';
COMMENT ON FUNCTION smam.verify_audit_log(text) IS
  'As verify_audit_log(), and does the chain still pass through a digest taken earlier (smam.audit_digest)?';

CREATE FUNCTION smam.audit_digest(OUT seq bigint, OUT hash text, OUT sealed_at timestamptz,
                                  OUT digest text)
  RETURNS record LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  -- Everything committed before the digest is chained first, so that the
  -- digest covers it (where this transaction can chain: smam.seal_audit_log).
  PERFORM smam.seal_audit_log();
  SELECT h.seq, encode(h.hash, 'hex'), h.sealed_at,
           'smam-audit-v1:' || h.seq || ':' || encode(h.hash, 'hex')
      FROM ((SELECT s.seq, s.hash, s.sealed_at FROM smam.audit_seal s
              ORDER BY s.seq DESC LIMIT 1)
            UNION ALL
            (SELECT c.seq, c.hash, c.sealed_at FROM smam.audit_checkpoint c
              ORDER BY c.seq DESC LIMIT 1)
            UNION ALL
            SELECT 0, decode(repeat('00', 32), 'hex'), NULL) h
     ORDER BY h.seq DESC LIMIT 1
    INTO seq, hash, sealed_at, digest;
END
$$;
COMMENT ON FUNCTION smam.audit_digest() IS
  'The head of the audit chain (position, hash); keep the digest text elsewhere and check it later with smam.verify_audit_log(digest)';

-- The export of a period, before it is archived: one JSON line per seal,
-- followed by one per row of its transaction, in chain order, written the
-- same in every session (UTC, ISO dates, hex bytea). Saved to a file with
-- psql -At, its SHA-256 (sha256sum) is what smam.archive_audit_log asks for.
CREATE FUNCTION smam.audit_export(through_seq bigint) RETURNS SETOF text
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres'
  SET bytea_output = 'hex' SET extra_float_digits = 1
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS $$
BEGIN
  PERFORM smam.require_office('administrator', NULL, '7.1.1', 'export the audit log');
  IF through_seq IS NULL THEN
    PERFORM smam.refuse('22023', NULL, 'exporting the audit log needs a position', NULL,
      'Give the position of the last seal to export, from smam.audit_seal.');
  END IF;
  RETURN QUERY
    SELECT x.line FROM (
      SELECT s.seq, 0 AS ordinal, pg_catalog.jsonb_build_object('seal', pg_catalog.to_jsonb(s))::text AS line
        FROM smam.audit_seal s WHERE s.seq <= through_seq
      UNION ALL
      SELECT s.seq, l.ordinal, pg_catalog.jsonb_build_object('row', pg_catalog.to_jsonb(l))::text
        FROM smam.audit_seal s JOIN smam.audit_log l ON l.txn = s.txn
       WHERE s.seq <= through_seq) x
     ORDER BY x.seq, x.ordinal;
END
$$;
COMMENT ON FUNCTION smam.audit_export(bigint) IS
  'Administrator: the period up to a position as JSON lines (a seal, then its rows), to keep elsewhere before smam.archive_audit_log';

CREATE FUNCTION smam.archive_audit_log(through_seq bigint, export_sha256 text, note text,
    OUT seq bigint, OUT seals_archived bigint, OUT rows_archived bigint)
  RETURNS record LANGUAGE c VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
  SET enable_hashjoin = off SET enable_mergejoin = off
  AS 'MODULE_PATHNAME', 'smam_archive_audit_log';
COMMENT ON FUNCTION smam.archive_audit_log(bigint, text, text) IS
  'Administrator: once the period is exported (smam.audit_export, its SHA-256 given) and older than smam.audit_archive_min_age, remove the seals up to a position and their rows, leaving a checkpoint that carries the chain';

-- The auditor's view: who, when, holding which office, what, old -> new.
-- Rows of transactions not chained yet have no position (seq), and those of
-- the reader's own transaction, not committed, no commit time either.
CREATE VIEW smam.audit_trail WITH (security_invoker = true) AS
  SELECT s.seq, l.ordinal, l.tx_time AS changed_at, l.stmt_time AS statement_at,
         COALESCE(s.committed_at, c.committed_at) AS committed_at, l.acting_role AS actor, l.office,
         l.effective_role, l.session_role, l.application, l.client_addr,
         l.table_name, l.operation, l.row_key, l.department_id,
         l.old_values, l.new_values, l.secrets_changed AS withheld_columns, l.txn,
         s.sealed_at
    FROM smam.audit_log l
    LEFT JOIN smam.audit_seal s ON s.txn OPERATOR(pg_catalog.=) l.txn
    LEFT JOIN smam.audit_commit c ON c.txn OPERATOR(pg_catalog.=) l.txn;
COMMENT ON VIEW smam.audit_trail IS
  'The audit log as an auditor reads it: one row per change, in chain order by (position, ordinal)';

-- One row per changed column: old -> new. Columns whose values are withheld
-- (named *_secret) read "(withheld)".
CREATE VIEW smam.audit_change WITH (security_invoker = true) AS
  SELECT t.seq, t.ordinal, t.changed_at, t.actor, t.office, t.application,
         t.table_name, t.operation, t.row_key, t.department_id,
         c.column_name, t.old_values OPERATOR(pg_catalog.->>) c.column_name AS old_value,
         t.new_values OPERATOR(pg_catalog.->>) c.column_name AS new_value, false AS withheld
    FROM smam.audit_trail t,
         LATERAL (SELECT k FROM pg_catalog.jsonb_object_keys(COALESCE(t.new_values, t.old_values)) k) AS c(column_name)
  UNION ALL
  SELECT t.seq, t.ordinal, t.changed_at, t.actor, t.office, t.application,
         t.table_name, t.operation, t.row_key, t.department_id,
         c.column_name, '(withheld)', '(withheld)', true
    FROM smam.audit_trail t, pg_catalog.unnest(t.withheld_columns) AS c(column_name);
COMMENT ON VIEW smam.audit_change IS
  'The audit log one changed column per row: column, old value -> new value (values of *_secret columns withheld)';

-- The planner costs a BRIN lookup by the column's physical correlation,
-- which means nothing to a bloom filter: with a row_key that ANALYZE finds
-- uncorrelated, it expects every range to match and reads the whole log (a
-- second instead of milliseconds at ten million rows). history() always
-- wants the index, so sequential scans are off inside it.
CREATE FUNCTION smam.history(tbl regclass, key text)
  RETURNS SETOF smam.audit_trail LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  SET enable_seqscan = off
  AS $$
    SELECT t.* FROM smam.audit_trail t
     WHERE t.table_name = (SELECT (n.nspname::text || '.' || c.relname::text) COLLATE "C"
                             FROM pg_catalog.pg_class c
                             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                            WHERE c.oid = tbl)
       AND t.row_key = key COLLATE "C"
     ORDER BY t.seq NULLS LAST, t.ordinal
  $$;
COMMENT ON FUNCTION smam.history(regclass, text) IS
  'One object''s story: every change of the row with this primary key, in chain order';

-- Who reads the log: the administrator, the entity and TBS see every row;
-- department roles see the rows of their departments.
ALTER TABLE smam.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.audit_seal ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.audit_checkpoint ENABLE ROW LEVEL SECURITY;
ALTER TABLE smam.audit_commit ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON smam.audit_log FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs
  USING ((SELECT smam.sees_all())
         OR department_id OPERATOR(pg_catalog.=) ANY ((SELECT smam.my_departments())::bigint[]));
CREATE FUNCTION smam.audit_hash_check(OUT implementation text, OUT cases integer,
                                      OUT failures integer)
  RETURNS record LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'smam_audit_hash_check';
COMMENT ON FUNCTION smam.audit_hash_check() IS
  'Administrator: which SHA-256 implementation the audit uses on this processor, and how many of its test cases (FIPS 180-4 examples, every length to 1,100 bytes) it gets wrong (should be 0)';

CREATE POLICY audit_seal_read ON smam.audit_seal FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
CREATE POLICY audit_checkpoint_read ON smam.audit_checkpoint FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
CREATE POLICY audit_commit_read ON smam.audit_commit FOR SELECT
  TO smam_admin, smam_entity, smam_department, smam_tbs USING (true);
GRANT SELECT ON smam.audit_log, smam.audit_seal, smam.audit_checkpoint, smam.audit_commit,
  smam.audit_trail, smam.audit_change TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.verify_audit_log(), smam.verify_audit_log(text), smam.audit_digest(),
  smam.history(regclass, text) TO smam_admin, smam_entity, smam_department, smam_tbs;
GRANT EXECUTE ON FUNCTION smam.archive_audit_log(bigint, text, text), smam.audit_export(bigint),
  smam.audit_hash_check(), smam.seal_audit_log() TO smam_admin;

SELECT pg_catalog.pg_extension_config_dump('smam.audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_seal', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_checkpoint', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_commit', '');
SELECT pg_catalog.pg_extension_config_dump('smam.audit_txn_seq', '');

-- ---- sql/smam/95_report.sql ----
-- The analysts' schema (docs/reference.md, "For analysts"): smam_report holds
-- only what the reporting roles may read, so that a BI tool's navigator
-- (Excel, Power BI, Tableau through ODBC or JDBC) lists nothing it cannot
-- open. Each view there is smam's view of the same name, read with the
-- caller's own rights (security_invoker): the grants and row-level security
-- of smam's objects decide what each role sees, exactly as when it reads
-- smam directly. Every column is described, in English and in French, by
-- smam.report_dictionary: COMMENT for tools that read pg_description, and
-- the view smam_report.data_dictionary for tools that cannot (psqlODBC never
-- reads comments).

CREATE SCHEMA smam_report;
COMMENT ON SCHEMA smam_report IS
  'smam for analysts and BI tools: the reporting views, every column described in English and French (smam_report.data_dictionary)';

-- The meaning of each view of smam_report (column_name NULL) and of each of
-- its columns, in both official languages. Shipped with the extension and
-- read-only to every role (smam.catalogue_guard); a release that changes a
-- view changes its rows and calls smam.apply_report_dictionary().
CREATE TABLE smam.report_dictionary (
  view_name    name NOT NULL,
  column_name  name,
  meaning_en   text NOT NULL CHECK (pg_catalog.btrim(meaning_en) OPERATOR(pg_catalog.<>) ''),
  meaning_fr   text NOT NULL CHECK (pg_catalog.btrim(meaning_fr) OPERATOR(pg_catalog.<>) ''),
  CONSTRAINT report_dictionary_key UNIQUE NULLS NOT DISTINCT (view_name, column_name)
);
COMMENT ON TABLE smam.report_dictionary IS
  'The meaning of every view of smam_report and of each of its columns, in English and French; shipped, read-only';
CREATE TRIGGER catalogue_guard BEFORE INSERT OR UPDATE OR DELETE ON smam.report_dictionary
  FOR EACH ROW EXECUTE FUNCTION smam.catalogue_guard();
CREATE TRIGGER catalogue_guard_truncate BEFORE TRUNCATE ON smam.report_dictionary
  FOR EACH STATEMENT EXECUTE FUNCTION smam.catalogue_guard();
ALTER TABLE smam.report_dictionary ENABLE ROW LEVEL SECURITY;
CREATE POLICY report_dictionary_read ON smam.report_dictionary FOR SELECT
  TO smam_admin, smam_entity, smam_tbs, smam_analyst USING (true);
GRANT SELECT ON smam.report_dictionary TO smam_admin, smam_entity, smam_tbs, smam_analyst;

-- The reporting views: smam's, as they are, read as the caller.
DO $views$
DECLARE
  v text;
BEGIN
  FOREACH v IN ARRAY ARRAY[
    'account_tool_status', 'account_url_finding', 'activity_report_line', 'compliance_by_department',
    'compliance_findings', 'compliance_rule', 'compliance_summary', 'index_reject', 'metrics_monthly',
    'public_index', 'published_index_files', 'publishing_report', 'requirement_catalogue']
  LOOP
    EXECUTE pg_catalog.format(
      'CREATE VIEW smam_report.%1$I WITH (security_invoker = true) AS SELECT * FROM smam.%1$I', v);
  END LOOP;
END
$views$;

CREATE VIEW smam_report.data_dictionary WITH (security_invoker = true) AS
  SELECT d.view_name, d.column_name,
         COALESCE(a.attnum, 0::pg_catalog.int2) AS ordinal,
         pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
         d.meaning_en, d.meaning_fr
    FROM smam.report_dictionary d
    JOIN pg_catalog.pg_class c
      ON c.relname OPERATOR(pg_catalog.=) d.view_name
     AND c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) d.column_name
     AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;

-- COMMENT every view of smam_report and each of its columns from the
-- dictionary (and smam's view of the same name: one text for both), after
-- checking that the dictionary describes each column once and nothing else.
-- Run by the install script and by every update script that changes the
-- reporting views or their meanings; granted to no one.
CREATE FUNCTION smam.apply_report_dictionary() RETURNS integer
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  r record;
  n integer := 0;
  missing text;
  unknown text;
BEGIN
  SELECT pg_catalog.string_agg(x.what, ', ' ORDER BY x.what)
    INTO missing
    FROM (SELECT pg_catalog.format('%I.%I', c.relname, a.attname) AS what
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
           WHERE c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
             AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
             AND NOT EXISTS (SELECT FROM smam.report_dictionary d
                              WHERE d.view_name OPERATOR(pg_catalog.=) c.relname
                                AND d.column_name OPERATOR(pg_catalog.=) a.attname)
          UNION ALL
          SELECT pg_catalog.format('%I (view)', c.relname)
            FROM pg_catalog.pg_class c
           WHERE c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
             AND NOT EXISTS (SELECT FROM smam.report_dictionary d
                              WHERE d.view_name OPERATOR(pg_catalog.=) c.relname
                                AND d.column_name IS NULL)) x;
  SELECT pg_catalog.string_agg(pg_catalog.format('%I.%s', d.view_name, COALESCE(pg_catalog.quote_ident(d.column_name), '(view)')),
                               ', ' ORDER BY d.view_name, d.column_name)
    INTO unknown
    FROM smam.report_dictionary d
   WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c
                      WHERE c.relname OPERATOR(pg_catalog.=) d.view_name
                        AND c.relnamespace OPERATOR(pg_catalog.=) 'smam_report'::pg_catalog.regnamespace
                        AND (d.column_name IS NULL
                             OR EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                         WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid
                                           AND a.attname OPERATOR(pg_catalog.=) d.column_name
                                           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)));
  IF missing IS NOT NULL OR unknown IS NOT NULL THEN
    RAISE EXCEPTION 'smam.report_dictionary does not describe smam_report exactly'
      USING ERRCODE = 'XX000',
            DETAIL = pg_catalog.concat_ws(E'\n', 'Not described: ' OPERATOR(pg_catalog.||) missing,
                                          'Described but not in smam_report: ' OPERATOR(pg_catalog.||) unknown),
            HINT = 'Every view of smam_report and each of its columns has one row of meanings; fix the release''s script.';
  END IF;
  FOR r IN SELECT d.view_name, d.column_name, d.meaning_en,
                  EXISTS (SELECT FROM pg_catalog.pg_class s
                           WHERE s.relname OPERATOR(pg_catalog.=) d.view_name
                             AND s.relnamespace OPERATOR(pg_catalog.=) 'smam'::pg_catalog.regnamespace
                             AND s.relkind OPERATOR(pg_catalog.=) 'v') AS in_smam
             FROM smam.report_dictionary d ORDER BY 1, 2 NULLS FIRST
  LOOP
    IF r.column_name IS NULL THEN
      EXECUTE pg_catalog.format('COMMENT ON VIEW smam_report.%I IS %L', r.view_name, r.meaning_en);
    ELSE
      EXECUTE pg_catalog.format('COMMENT ON COLUMN smam_report.%I.%I IS %L', r.view_name, r.column_name, r.meaning_en);
      IF r.in_smam THEN
        EXECUTE pg_catalog.format('COMMENT ON COLUMN smam.%I.%I IS %L', r.view_name, r.column_name, r.meaning_en);
      END IF;
    END IF;
    n := n OPERATOR(pg_catalog.+) 1;
  END LOOP;
  RETURN n;
END
$fn$;
COMMENT ON FUNCTION smam.apply_report_dictionary() IS
  'Extension scripts only: check that smam.report_dictionary describes every view and column of smam_report, and COMMENT them from it';

GRANT USAGE ON SCHEMA smam_report TO smam_admin, smam_entity, smam_tbs, smam_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA smam_report TO smam_admin, smam_entity, smam_tbs, smam_analyst;
REVOKE ALL ON SCHEMA smam_report FROM PUBLIC;

-- ---- sql/smam/95_report_dictionary.sql ----
-- The meanings of smam_report's views and columns, in English and French
-- (read by analysts in pg_description and in smam_report.data_dictionary).
-- A view's own meaning has column_name NULL. smam.apply_report_dictionary()
-- refuses to install a dictionary that misses a column or names one that is
-- not there.
INSERT INTO smam.report_dictionary (view_name, column_name, meaning_en, meaning_fr) VALUES
  ('account_tool_status', NULL,
   '6.1.4: is each account managed in the platform management tool (enabled connector, working credentials)? One row per account, at every stage; departments see their own; never shows a secret',
   '6.1.4 : chaque compte est-il géré dans l''outil de gestion des plateformes (connecteur activé, justificatifs d''identité valides)? Une ligne par compte, à toutes les étapes; les ministères voient leurs propres comptes; n''affiche jamais de secret'),
  ('account_tool_status', 'account_id',
   'The account (smam.account.id)',
   'Le compte (smam.account.id)'),
  ('account_tool_status', 'department_id',
   'The department the account belongs to (smam.department.id)',
   'Le ministère auquel appartient le compte (smam.department.id)'),
  ('account_tool_status', 'platform',
   'The platform''s code (smam.platform.code: facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (smam.platform.code : facebook, x, instagram, youtube, linkedin, ...)'),
  ('account_tool_status', 'stage',
   'The account''s life-cycle stage now (6.1.2): planning, creation, configuration, implementation, evaluation, disposition or disposed; implementation and evaluation are live',
   'L''étape actuelle du cycle de vie du compte (6.1.2) : planning (planification), creation (création), configuration, implementation (mise en œuvre), evaluation (évaluation), disposition ou disposed (disposition terminée); le compte est actif aux étapes implementation et evaluation'),
  ('account_tool_status', 'has_connector',
   'Whether the platform has an enabled connector (6.2.5): the tool can reach it',
   'Indique si la plateforme a un connecteur activé (6.2.5) : l''outil peut la joindre'),
  ('account_tool_status', 'has_credentials',
   'Whether the account''s credentials are on record and not expired (they may still be suspended or refused)',
   'Indique si les justificatifs d''identité du compte sont consignés et non expirés (ils peuvent toutefois être suspendus ou refusés)'),
  ('account_tool_status', 'credentials_set_at',
   'When the account''s current credentials were handed over (NULL: none on record)',
   'Date et heure de la remise des justificatifs d''identité actuels du compte (NULL : aucun justificatif consigné)'),
  ('account_tool_status', 'credentials_expire_at',
   'When the credentials expire (NULL: no credentials, or no expiry given)',
   'Date et heure d''expiration des justificatifs d''identité (NULL : aucun justificatif, ou aucune date d''expiration indiquée)'),
  ('account_tool_status', 'last_delivery_status',
   'Status of the last settled delivery of a post to the account: delivered or dead (given up); NULL: none settled yet',
   'Statut du dernier envoi terminé d''une publication au compte : delivered (livré) ou dead (abandonné); NULL : aucun envoi terminé'),
  ('account_tool_status', 'last_http_status',
   'The HTTP status the platform answered to that delivery (NULL: no delivery settled, or no HTTP answer)',
   'Le code d''état HTTP renvoyé par la plateforme pour cet envoi (NULL : aucun envoi terminé, ou aucune réponse HTTP)'),
  ('account_tool_status', 'credentials_refused',
   'Whether the platform refused the credentials: HTTP 401 or 403 on the last settled delivery, after the credentials were set',
   'Indique si la plateforme a refusé les justificatifs d''identité : HTTP 401 ou 403 au dernier envoi terminé, après la remise des justificatifs'),
  ('account_tool_status', 'managed_in_tool',
   '6.1.4: true when the account is managed in the tool: an enabled connector for its platform, and credentials neither expired, suspended nor refused (401/403) since they were set',
   '6.1.4 : vrai si le compte est géré dans l''outil : un connecteur activé pour sa plateforme, et des justificatifs d''identité ni expirés, ni suspendus, ni refusés (401/403) depuis leur remise'),
  ('account_tool_status', 'credentials_suspended',
   'The connector''s address, allowed hosts or networks changed since the credentials were handed over (or there was no enabled connector then): not used until the head of communications or designate confirms them (smam.confirm_credential())',
   'L''adresse, les hôtes ou les réseaux autorisés du connecteur ont changé depuis la remise des justificatifs d''identité (ou il n''y avait alors aucun connecteur activé) : ils ne sont pas utilisés tant que le chef des communications ou son délégué ne les a pas confirmés (smam.confirm_credential())'),
  ('account_url_finding', NULL,
   'Findings of the link check: live accounts whose page, at the latest check, is gone or redirects elsewhere; departments see their own',
   'Constats de la vérification des liens : comptes actifs dont la page, à la dernière vérification, a disparu ou redirige ailleurs; les ministères voient leurs propres comptes'),
  ('account_url_finding', 'account_id',
   'The account (smam.account.id)',
   'Le compte (smam.account.id)'),
  ('account_url_finding', 'department_id',
   'The department the account belonged to when checked (smam.department.id)',
   'Le ministère auquel appartenait le compte lors de la vérification (smam.department.id)'),
  ('account_url_finding', 'platform',
   'The platform''s code (facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (facebook, x, instagram, youtube, linkedin, ...)'),
  ('account_url_finding', 'account_url',
   'The account''s canonical URL, as smam records it',
   'L''adresse URL canonique du compte, telle que smam la consigne'),
  ('account_url_finding', 'checked_at',
   'When the latest check was made',
   'Date et heure de la dernière vérification'),
  ('account_url_finding', 'outcome',
   'gone (the page answered 404 or 410) or redirected (to another host, or to another handle on the same host)',
   'gone (page disparue : réponse 404 ou 410) ou redirected (redirection vers un autre hôte, ou vers un autre identifiant sur le même hôte)'),
  ('account_url_finding', 'http_status',
   'The HTTP status the page answered',
   'Le code d''état HTTP renvoyé par la page'),
  ('account_url_finding', 'location',
   'Where the page redirects to (NULL when gone)',
   'L''adresse vers laquelle la page redirige (NULL si la page a disparu)'),
  ('account_url_finding', 'finding',
   'The finding in a sentence, in English: the account is gone, or renamed or taken over?',
   'Le constat en une phrase, en anglais : le compte a disparu, ou a-t-il été renommé ou usurpé?'),
  ('account_url_finding', 'requirement',
   'The requirement concerned: always 6.2.4 (the index of official accounts)',
   'L''exigence visée : toujours 6.2.4 (le répertoire des comptes officiels)'),
  ('activity_report_line', NULL,
   'The frozen lines of submitted activities reports (7.3.1): per department and a total, what was done in the report''s period; departments see their own lines',
   'Les lignes figées des rapports sur les activités présentés (7.3.1) : par ministère et au total, ce qui a été fait pendant la période du rapport; les ministères voient leurs propres lignes'),
  ('activity_report_line', 'report_id',
   'The frozen report (smam.compliance_report.id)',
   'Le rapport figé (smam.compliance_report.id)'),
  ('activity_report_line', 'request_id',
   'The request it answers (smam.report_request.id)',
   'La demande à laquelle il répond (smam.report_request.id)'),
  ('activity_report_line', 'subject',
   'The subject TBS gave the request',
   'L''objet que le SCT a donné à la demande'),
  ('activity_report_line', 'period_from',
   'The first day counted (in time_zone)',
   'Le premier jour compté (dans time_zone)'),
  ('activity_report_line', 'period_until',
   'The first day after the period (exclusive)',
   'Le premier jour après la période (exclu)'),
  ('activity_report_line', 'as_of',
   'When the report was submitted and its counts frozen',
   'Date et heure de la présentation du rapport et du gel de ses chiffres'),
  ('activity_report_line', 'time_zone',
   'The zone the period''s days were read in (smam.time_zone at submission)',
   'Le fuseau horaire dans lequel les jours de la période ont été lus (smam.time_zone à la présentation)'),
  ('activity_report_line', 'department_id',
   'The department; NULL on the total line',
   'Le ministère; NULL sur la ligne du total'),
  ('activity_report_line', 'department_en',
   'The department''s English name at submission (All departments on the total line)',
   'Le nom anglais du ministère à la présentation (All departments sur la ligne du total)'),
  ('activity_report_line', 'department_fr',
   'The department''s French name at submission, NULL where none was known (Tous les ministères on the total line)',
   'Le nom français du ministère à la présentation, NULL s''il n''était pas connu (Tous les ministères sur la ligne du total)'),
  ('activity_report_line', 'submissions_received',
   'Number of submissions (6.1.3) made in the period',
   'Nombre de présentations (6.1.3) faites pendant la période'),
  ('activity_report_line', 'submissions_creation',
   'Of them, creation submissions',
   'Parmi elles, les présentations de création'),
  ('activity_report_line', 'submissions_configuration',
   'Of them, configuration submissions',
   'Parmi elles, les présentations de configuration'),
  ('activity_report_line', 'submissions_disposition',
   'Of them, disposition submissions',
   'Parmi elles, les présentations de disposition'),
  ('activity_report_line', 'submissions_reviewed',
   'Number of submissions the entity reviewed (6.2.1) in the period, whenever they were made',
   'Nombre de présentations que l''entité a examinées (6.2.1) pendant la période, quelle que soit la date où elles ont été faites'),
  ('activity_report_line', 'submissions_accepted',
   'Of them, accepted',
   'Parmi elles, les présentations acceptées'),
  ('activity_report_line', 'submissions_rejected',
   'Of them, rejected',
   'Parmi elles, les présentations rejetées'),
  ('activity_report_line', 'submissions_pending_at_end',
   'Number of submissions made before the end of the period and not reviewed by then',
   'Nombre de présentations faites avant la fin de la période et non examinées à cette date'),
  ('activity_report_line', 'review_time_median',
   'Median time from submission to review of those reviewed in the period, an interval to the second (NULL: none)',
   'Délai médian entre la présentation et l''examen, pour les présentations examinées pendant la période, de type interval, à la seconde près (NULL : aucune)'),
  ('activity_report_line', 'review_time_max',
   'Longest time from submission to review of those reviewed in the period, an interval to the second (NULL: none)',
   'Délai le plus long entre la présentation et l''examen, pour les présentations examinées pendant la période, de type interval, à la seconde près (NULL : aucune)'),
  ('activity_report_line', 'review_service_standard',
   'The submission_review service standard (6.2.1) in force at the end of the period, an interval (NULL: none set)',
   'La norme de service submission_review (examen des présentations, 6.2.1) en vigueur à la fin de la période, de type interval (NULL : aucune fixée)'),
  ('activity_report_line', 'reviews_beyond_standard',
   'Number of reviews in the period that took longer than the service standard in force when the submission was made',
   'Nombre d''examens faits pendant la période qui ont pris plus de temps que la norme de service en vigueur au moment de la présentation'),
  ('activity_report_line', 'pending_beyond_standard',
   'Number of submissions pending at the end that had waited longer than the service standard in force when they were made',
   'Nombre de présentations en attente à la fin de la période qui avaient attendu plus longtemps que la norme de service en vigueur au moment où elles ont été faites'),
  ('activity_report_line', 'accounts_planned',
   'Accounts planned (entered in planning) in the period',
   'Comptes planifiés (entrés à l''étape planning) pendant la période'),
  ('activity_report_line', 'accounts_onboarded',
   'Existing accounts onboarded (straight into implementation) in the period',
   'Comptes existants intégrés (directement à l''étape implementation) pendant la période'),
  ('activity_report_line', 'accounts_created',
   'Moves planning to creation in the period (6.2.2)',
   'Passages de planning à creation pendant la période (6.2.2)'),
  ('activity_report_line', 'accounts_configured',
   'Moves creation to configuration in the period (6.2.2)',
   'Passages de creation à configuration pendant la période (6.2.2)'),
  ('activity_report_line', 'live_configuration_changes',
   'Configuration changes of live accounts in the period, each through an accepted configuration submission',
   'Modifications de la configuration de comptes actifs pendant la période, chacune au moyen d''une présentation de configuration acceptée'),
  ('activity_report_line', 'accounts_implemented',
   'Moves configuration to implementation (accounts going live) in the period',
   'Passages de configuration à implementation (mise en service des comptes) pendant la période'),
  ('activity_report_line', 'evaluations_started',
   'Moves into evaluation in the period',
   'Passages à l''étape evaluation pendant la période'),
  ('activity_report_line', 'dispositions_started',
   'Moves into disposition in the period',
   'Passages à l''étape disposition pendant la période'),
  ('activity_report_line', 'accounts_disposed',
   'Moves disposition to disposed in the period (6.2.2)',
   'Passages de disposition à disposed pendant la période (6.2.2)'),
  ('activity_report_line', 'accounts_abandoned',
   'Planned accounts abandoned (planning to disposed) in the period',
   'Comptes planifiés abandonnés (de planning à disposed) pendant la période'),
  ('activity_report_line', 'platform_reviews',
   'Total line only (NULL on department lines): platform reviews (6.2.3) dated in the period',
   'Ligne du total seulement (NULL sur les lignes des ministères) : examens de plateformes (6.2.3) datés de la période'),
  ('activity_report_line', 'platform_reviews_accepted',
   'Total line only: of them, accepted',
   'Ligne du total seulement : parmi eux, les examens acceptés'),
  ('activity_report_line', 'platform_reviews_rejected',
   'Total line only: of them, rejected',
   'Ligne du total seulement : parmi eux, les examens rejetés'),
  ('activity_report_line', 'platform_reviews_by_kind',
   'Total line only: JSON {"kind": {"accepted": n, "rejected": n}} for each kind reviewed in the period (functionality, terms_of_use, privacy_risk, security_risk, model_pia)',
   'Ligne du total seulement : JSON {"kind": {"accepted": n, "rejected": n}} pour chaque type examiné pendant la période (functionality : fonctionnalités, terms_of_use : conditions d''utilisation, privacy_risk : risques pour la vie privée, security_risk : risques pour la sécurité, model_pia : EFVP type)'),
  ('activity_report_line', 'index_publications',
   'Total line only: publications of the index (6.2.4) in the period',
   'Ligne du total seulement : publications du répertoire (6.2.4) pendant la période'),
  ('activity_report_line', 'index_last_published_at',
   'Total line only: the last publication in the period (NULL: none)',
   'Ligne du total seulement : la dernière publication pendant la période (NULL : aucune)'),
  ('activity_report_line', 'index_last_account_count',
   'Total line only: how many accounts the last publication in the period listed (NULL: none)',
   'Ligne du total seulement : nombre de comptes répertoriés par la dernière publication de la période (NULL : aucune)'),
  ('activity_report_line', 'posts_published',
   'Posts published through the platform management tool (6.1.4), settled in the period',
   'Publications (posts) diffusées au moyen de l''outil de gestion des plateformes (6.1.4) et terminées pendant la période'),
  ('activity_report_line', 'deliveries_delivered',
   'Deliveries of posts to accounts delivered in the period',
   'Envois de publications livrés aux comptes pendant la période'),
  ('activity_report_line', 'deliveries_dead',
   'Deliveries given up (dead) in the period',
   'Envois abandonnés (dead) pendant la période'),
  ('compliance_by_department', NULL,
   'Status now, per department and requirement of 6.1, 7.1.2 and 8.1 (and per requirement of 6.2, 7.3 for the entity, 7.2.3 for TBS, department NULL): met, not met, not applicable, not assessed; departments see their own rows',
   'État actuel, par ministère et par exigence de 6.1, 7.1.2 et 8.1 (et par exigence de 6.2 et 7.3 pour l''entité, 7.2.3 pour le SCT, ministère NULL) : met, not met, not applicable, not assessed; les ministères voient leurs propres lignes'),
  ('compliance_by_department', 'department_id',
   'The department (NULL for the entity''s and TBS''s own requirements)',
   'Le ministère (NULL pour les exigences propres à l''entité et au SCT)'),
  ('compliance_by_department', 'department_en',
   'The department''s English name (The entity, or Treasury Board of Canada Secretariat, on their own rows)',
   'Le nom anglais du ministère (The entity ou Treasury Board of Canada Secretariat sur leurs propres lignes)'),
  ('compliance_by_department', 'department_fr',
   'The department''s French name, NULL where none is known (L''entité, or Secrétariat du Conseil du Trésor du Canada, on their own rows)',
   'Le nom français du ministère, NULL s''il n''est pas connu (L''entité ou Secrétariat du Conseil du Trésor du Canada sur leurs propres lignes)'),
  ('compliance_by_department', 'party',
   'Who the requirement binds: department (6.1, 7.1.2, 8.1), entity (6.2, 7.3) or tbs (7.2.3)',
   'Qui l''exigence vise : department (le ministère : 6.1, 7.1.2, 8.1), entity (l''entité : 6.2, 7.3) ou tbs (le SCT : 7.2.3)'),
  ('compliance_by_department', 'requirement',
   'The requirement''s number in the Standard (6.1.1, 6.2.4, 7.1.2, 8.1, ...; the rules are in compliance_rule)',
   'Le numéro de l''exigence dans la Norme (6.1.1, 6.2.4, 7.1.2, 8.1, ...; les règles figurent dans compliance_rule)'),
  ('compliance_by_department', 'status',
   'met | not met | not applicable (not in force, not enforced, or section 2.2) | not assessed (smam cannot compute the rule: 6.2.1 while the entity has set no review service standard)',
   'met (respectée) | not met (non respectée) | not applicable (sans objet : pas en vigueur, non appliquée, ou article 2.2) | not assessed (non évaluée : smam ne peut calculer la règle, p. ex. 6.2.1 tant que l''entité n''a fixé aucune norme de service pour l''examen)'),
  ('compliance_by_department', 'status_reason',
   'Why not applicable (not yet in force, not enforced, section 2.2 for an agent of Parliament) or not assessed, in English; NULL when met or not met',
   'Pourquoi sans objet (not yet in force, not enforced, article 2.2 pour un agent du Parlement) ou non évaluée, en anglais; NULL si respectée ou non respectée'),
  ('compliance_by_department', 'findings',
   'Number of findings (compliance_findings) behind a not met, 0 otherwise; on the entity''s and TBS''s rows, the requirement''s findings in every department',
   'Nombre de constats (compliance_findings) à l''origine d''un état not met, 0 sinon; sur les lignes de l''entité et du SCT, les constats de l''exigence dans tous les ministères'),
  ('compliance_findings', NULL,
   'One row per finding now: requirement, department, party responsible, object, what is wrong, since when; departments see their own',
   'Une ligne par constat actuel : exigence, ministère, partie responsable, objet, ce qui ne va pas, depuis quand; les ministères voient leurs propres constats'),
  ('compliance_findings', 'requirement',
   'The requirement not met (6.1.2, 6.2.4, 7.1.2, 8.1, ...)',
   'L''exigence non respectée (6.1.2, 6.2.4, 7.1.2, 8.1, ...)'),
  ('compliance_findings', 'department_id',
   'The department concerned (NULL for a government-wide finding)',
   'Le ministère concerné (NULL pour un constat pangouvernemental)'),
  ('compliance_findings', 'department_en',
   'The department''s English name (NULL with department_id)',
   'Le nom anglais du ministère (NULL si department_id est NULL)'),
  ('compliance_findings', 'party',
   'Who the requirement binds: department, entity or tbs',
   'Qui l''exigence vise : department (le ministère), entity (l''entité) ou tbs (le SCT)'),
  ('compliance_findings', 'object_type',
   'department, strategy, implementation_plan, account, submission, platform, report_request, corrective_action or standard',
   'department (ministère), strategy (stratégie), implementation_plan (plan de mise en œuvre), account (compte), submission (présentation), platform (plateforme), report_request (demande de rapport), corrective_action (mesure corrective) ou standard (la Norme)'),
  ('compliance_findings', 'object_id',
   'The id of the object in its table (NULL for a platform; 1 for the Standard)',
   'L''identifiant de l''objet dans sa table (NULL pour une plateforme; 1 pour la Norme)'),
  ('compliance_findings', 'object_label',
   'What the object is called: the department''s English name, the strategy''s or plan''s title, the account''s URL, the submission''s kind, the platform''s code, the report''s subject, the requirement a corrective action is on, the Standard''s title',
   'Le nom de l''objet : le nom anglais du ministère, le titre de la stratégie ou du plan, l''adresse URL du compte, le type de présentation, le code de la plateforme, l''objet du rapport, l''exigence visée par la mesure corrective, le titre de la Norme'),
  ('compliance_findings', 'problem',
   'What is wrong, in a sentence, in English',
   'Ce qui ne va pas, en une phrase, en anglais'),
  ('compliance_findings', 'since',
   'Since when it has been wrong, as far as smam knows',
   'Depuis quand le problème existe, selon ce que smam en sait'),
  ('compliance_findings', 'finding_key',
   'Stable key: requirement/department/object_type/object_id (''-'' for no department; the platform''s code for a platform)',
   'Clé stable : exigence/ministère/object_type/object_id (''-'' en l''absence de ministère; le code de la plateforme pour une plateforme)'),
  ('compliance_rule', NULL,
   'The compliance rules: the requirement, the party assessed (department, entity, tbs), whether smam computes it, and the rule',
   'Les règles de conformité : l''exigence, la partie évaluée (department, entity, tbs), si smam la calcule, et la règle'),
  ('compliance_rule', 'requirement',
   'The requirement''s number in the Standard: 6.1.1 to 6.1.5, 6.2.1 to 6.2.5, 7.1.2, 7.2.3, 7.3.1, 7.3.2 and 8.1 (the others have no rule)',
   'Le numéro de l''exigence dans la Norme : 6.1.1 à 6.1.5, 6.2.1 à 6.2.5, 7.1.2, 7.2.3, 7.3.1, 7.3.2 et 8.1 (les autres n''ont pas de règle)'),
  ('compliance_rule', 'party',
   'Who is assessed: department (each department), entity or tbs',
   'Qui est évalué : department (chaque ministère), entity (l''entité) ou tbs (le SCT)'),
  ('compliance_rule', 'assessed',
   'Whether smam computes the rule from its data; a rule it does not compute is not assessed, never met',
   'Indique si smam calcule la règle à partir de ses données; une règle qu''il ne calcule pas est not assessed (non évaluée), jamais met (respectée)'),
  ('compliance_rule', 'rule',
   'What smam checks, in English',
   'Ce que smam vérifie, en anglais'),
  ('compliance_summary', NULL,
   'Per requirement, for the whole government: status, parties met / not met / not applicable, findings; for 6.2.4 the last publication and the changes not yet published',
   'Par exigence, pour l''ensemble du gouvernement : état, nombre de parties qui la respectent, ne la respectent pas ou pour lesquelles elle est sans objet, constats; pour 6.2.4, la dernière publication et les modifications non encore publiées'),
  ('compliance_summary', 'requirement',
   'The requirement''s number in the Standard (one row per rule of compliance_rule)',
   'Le numéro de l''exigence dans la Norme (une ligne par règle de compliance_rule)'),
  ('compliance_summary', 'party',
   'Who the requirement binds: department, entity or tbs',
   'Qui l''exigence vise : department (les ministères), entity (l''entité) ou tbs (le SCT)'),
  ('compliance_summary', 'status',
   'not applicable if it applies to no party; else not assessed if smam cannot compute it for a party; else not met if any party has not met it; else met',
   'not applicable (sans objet) si elle ne s''applique à aucune partie; sinon not assessed (non évaluée) si smam ne peut la calculer pour une partie; sinon not met (non respectée) si une partie ne la respecte pas; sinon met (respectée)'),
  ('compliance_summary', 'parties_met',
   'Number of parties that meet it: departments, or 1 for the entity or TBS (parties not assessed are in none of the three counts)',
   'Nombre de parties qui la respectent : ministères, ou 1 pour l''entité ou le SCT (les parties non évaluées ne figurent dans aucun des trois nombres)'),
  ('compliance_summary', 'parties_not_met',
   'Number of parties that do not meet it',
   'Nombre de parties qui ne la respectent pas'),
  ('compliance_summary', 'parties_not_applicable',
   'Number of parties to which it does not apply now: not in force, not enforced, or section 2.2',
   'Nombre de parties auxquelles elle ne s''applique pas actuellement : pas en vigueur, non appliquée, ou article 2.2'),
  ('compliance_summary', 'findings',
   'Number of findings, all parties',
   'Nombre de constats, toutes parties confondues'),
  ('compliance_summary', 'index_last_published_at',
   '6.2.4 only: when the index was last published (NULL: never, or another requirement)',
   '6.2.4 seulement : date et heure de la dernière publication du répertoire (NULL : jamais publié, ou autre exigence)'),
  ('compliance_summary', 'index_unpublished_changes',
   '6.2.4 only: live accounts the last publication does not show as they are, and entries of it no longer live',
   '6.2.4 seulement : comptes actifs que la dernière publication ne montre pas tels qu''ils sont, et entrées de cette publication qui ne sont plus actives'),
  ('data_dictionary', NULL,
   'The meaning of every view of smam_report and of each of its columns, in English and French: for BI tools that do not read comments (psqlODBC)',
   'La signification de chaque vue de smam_report et de chacune de ses colonnes, en anglais et en français : pour les outils de BI qui ne lisent pas les commentaires (psqlODBC)'),
  ('data_dictionary', 'view_name',
   'The view of smam_report described',
   'La vue de smam_report décrite'),
  ('data_dictionary', 'column_name',
   'The column described; NULL on the row that describes the view itself',
   'La colonne décrite; NULL sur la ligne qui décrit la vue elle-même'),
  ('data_dictionary', 'ordinal',
   'The column''s position in the view, from 1 (0 on the view''s own row): sort by it to read the columns in order',
   'La position de la colonne dans la vue, à partir de 1 (0 sur la ligne de la vue elle-même) : trier selon cette valeur pour lire les colonnes dans l''ordre'),
  ('data_dictionary', 'data_type',
   'The column''s PostgreSQL data type (bigint, text, date, timestamp with time zone, interval, ...); NULL on the view''s own row',
   'Le type de données PostgreSQL de la colonne (bigint, text, date, timestamp with time zone, interval, ...); NULL sur la ligne de la vue elle-même'),
  ('data_dictionary', 'meaning_en',
   'What the view or column holds, in English (also its COMMENT)',
   'Ce que contient la vue ou la colonne, en anglais (aussi son COMMENT)'),
  ('data_dictionary', 'meaning_fr',
   'What the view or column holds, in French',
   'Ce que contient la vue ou la colonne, en français'),
  ('index_reject', NULL,
   'Rows of index imports that were rejected: the row as it came and the reason (rows held for a decision on their department are not here)',
   'Lignes des importations du répertoire qui ont été rejetées : la ligne telle qu''elle a été reçue et la raison (les lignes en attente d''une décision sur leur ministère n''y figurent pas)'),
  ('index_reject', 'import_id',
   'The import (smam.index_import.id)',
   'L''importation (smam.index_import.id)'),
  ('index_reject', 'row_number',
   'The row''s number in the file (1 = the first row after the header; for feeds, the entry''s number)',
   'Le numéro de la ligne dans le fichier (1 = la première ligne après l''en-tête; pour les flux, le numéro de l''entrée)'),
  ('index_reject', 'line_number',
   'The line of the file the row starts on (CSV; NULL for feeds)',
   'La ligne du fichier où commence l''enregistrement (CSV; NULL pour les flux)'),
  ('index_reject', 'raw',
   'The row as it came (a CSV record, or a feed entry as JSON)',
   'La ligne telle qu''elle a été reçue (un enregistrement CSV, ou une entrée de flux en JSON)'),
  ('index_reject', 'reason',
   'Why it did not become an account, in English',
   'Pourquoi elle n''est pas devenue un compte, en anglais'),
  ('metrics_monthly', NULL,
   'Account metrics by department, platform, month and metric, for the evaluation stage (6.1.2)',
   'Indicateurs des comptes par ministère, plateforme, mois et indicateur, pour l''étape de l''évaluation (6.1.2)'),
  ('metrics_monthly', 'department_id',
   'The department the account belonged to when the value was observed (smam.department.id)',
   'Le ministère auquel appartenait le compte au moment où la valeur a été relevée (smam.department.id)'),
  ('metrics_monthly', 'department_en',
   'The department''s English name',
   'Le nom anglais du ministère'),
  ('metrics_monthly', 'platform',
   'The platform''s code (facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (facebook, x, instagram, youtube, linkedin, ...)'),
  ('metrics_monthly', 'month',
   'The month, as its first day (a date, in smam.time_zone)',
   'Le mois, représenté par son premier jour (une date, dans smam.time_zone)'),
  ('metrics_monthly', 'metric',
   'The metric''s name as the platform reports it (followers_count, tweet_count, ...)',
   'Le nom de l''indicateur tel que la plateforme le communique (followers_count, tweet_count, ...)'),
  ('metrics_monthly', 'accounts',
   'Number of accounts with at least one value of the metric in the month',
   'Nombre de comptes ayant au moins une valeur de l''indicateur pendant le mois'),
  ('metrics_monthly', 'last_value_total',
   'Sum over those accounts of each one''s last value in the month (for a count such as followers, the month-end total); an account that changed department in the month counts in the one it had at its last value',
   'Somme, pour ces comptes, de la dernière valeur de chacun pendant le mois (pour un nombre comme les abonnés, le total en fin de mois); un compte qui a changé de ministère pendant le mois compte dans celui qu''il avait à sa dernière valeur'),
  ('metrics_monthly', 'average_value',
   'Average of every value observed in the month, all accounts and pulls together',
   'Moyenne de toutes les valeurs relevées pendant le mois, tous comptes et relevés confondus'),
  ('metrics_monthly', 'observations',
   'Number of values observed in the month (one per account, metric and pull)',
   'Nombre de valeurs relevées pendant le mois (une par compte, indicateur et relevé)'),
  ('public_index', NULL,
   'Index of official social media accounts (6.2.4): live accounts only (implementation, evaluation), nothing internal; readable by smam_public',
   'Répertoire des comptes officiels de médias sociaux (6.2.4) : comptes actifs seulement (étapes implementation et evaluation), aucune donnée interne; lisible par smam_public'),
  ('public_index', 'department_en',
   'The department''s English name',
   'Le nom anglais du ministère'),
  ('public_index', 'department_fr',
   'The department''s French name (the English one where none is known)',
   'Le nom français du ministère (son nom anglais s''il n''est pas connu)'),
  ('public_index', 'account_en',
   'The account''s English name, if any',
   'Le nom anglais du compte, s''il y en a un'),
  ('public_index', 'account_fr',
   'The account''s French name, if any',
   'Le nom français du compte, s''il y en a un'),
  ('public_index', 'platform',
   'The platform''s name (Facebook, X, ...)',
   'Le nom de la plateforme (Facebook, X, ...)'),
  ('public_index', 'url',
   'The account''s canonical address',
   'L''adresse canonique du compte'),
  ('public_index', 'official_language',
   'The official language(s) the account publishes in: english, french or bilingual',
   'La ou les langues officielles dans lesquelles le compte publie : english (anglais), french (français) ou bilingual (bilingue)'),
  ('public_index', 'listed_on',
   'Date the account was first listed in the index: the day it went live (smam.time_zone); for an onboarded account, the date given (canada.ca''s Date Added), else the day it was onboarded',
   'Date à laquelle le compte a été inscrit pour la première fois au répertoire : le jour de sa mise en service (smam.time_zone); pour un compte intégré, la date fournie (la date d''ajout du répertoire de canada.ca), sinon le jour de son intégration'),
  ('public_index', 'owner_en',
   'Whose account it is, in English: the owner the English index names (smam.account_owner_label), else the department''s English name',
   'À qui appartient le compte, en anglais : le titulaire que nomme le répertoire anglais (smam.account_owner_label), sinon le nom anglais du ministère'),
  ('public_index', 'owner_fr',
   'Whose account it is, in French: the owner the French index names, else the department''s French name (its English one where none is known)',
   'À qui appartient le compte, en français : le titulaire que nomme le répertoire français, sinon le nom français du ministère (son nom anglais s''il n''est pas connu)'),
  ('published_index_files', NULL,
   'The files each publication of the index put on the website (sm-en.json, sm-fr.json): size and SHA-256; readable by smam_public',
   'Les fichiers que chaque publication du répertoire a mis sur le site Web (sm-en.json, sm-fr.json) : taille et SHA-256; lisible par smam_public'),
  ('published_index_files', 'snapshot_id',
   'The publication (smam.index_snapshot.id); each has two files',
   'La publication (smam.index_snapshot.id); chacune compte deux fichiers'),
  ('published_index_files', 'published_at',
   'When the index was published',
   'Date et heure de la publication du répertoire'),
  ('published_index_files', 'lang',
   'The file''s language: en or fr',
   'La langue du fichier : en (anglais) ou fr (français)'),
  ('published_index_files', 'file_name',
   'The file''s name on the website: sm-en.json or sm-fr.json',
   'Le nom du fichier sur le site Web : sm-en.json ou sm-fr.json'),
  ('published_index_files', 'content_sha256',
   'SHA-256 of the file''s bytes, hex: compare with sha256sum of the file served',
   'SHA-256 des octets du fichier, en hexadécimal : à comparer avec le sha256sum du fichier servi'),
  ('published_index_files', 'byte_count',
   'The file''s size in bytes',
   'La taille du fichier en octets'),
  ('published_index_files', 'latest',
   'Whether this is the last publication (what the website should serve now)',
   'Indique s''il s''agit de la dernière publication (ce que le site Web devrait servir maintenant)'),
  ('publishing_report', NULL,
   'Publishing by department, platform and month: posts, deliveries, delivered, dead, cancelled, retries, time to approve and to deliver',
   'Diffusion par ministère, plateforme et mois : publications, envois, envois livrés, abandonnés, annulés, reprises, délai d''approbation et de livraison'),
  ('publishing_report', 'department_id',
   'The department the posts were published for (smam.department.id)',
   'Le ministère pour lequel les publications ont été diffusées (smam.department.id)'),
  ('publishing_report', 'department_en',
   'The department''s English name',
   'Le nom anglais du ministère'),
  ('publishing_report', 'platform',
   'The platform''s code (facebook, x, instagram, youtube, linkedin, ...)',
   'Le code de la plateforme (facebook, x, instagram, youtube, linkedin, ...)'),
  ('publishing_report', 'month',
   'The month the deliveries were scheduled for, as its first day (a date, in smam.time_zone)',
   'Le mois pour lequel les envois étaient prévus, représenté par son premier jour (une date, dans smam.time_zone)'),
  ('publishing_report', 'posts',
   'Number of posts with at least one delivery in the row (a post sent to two platforms counts in both rows)',
   'Nombre de publications ayant au moins un envoi dans la ligne (une publication envoyée sur deux plateformes compte dans les deux lignes)'),
  ('publishing_report', 'deliveries',
   'Number of deliveries (one per post and account), whatever their status',
   'Nombre d''envois (un par publication et par compte), quel que soit leur statut'),
  ('publishing_report', 'delivered',
   'Deliveries the platform accepted (delivered)',
   'Envois acceptés par la plateforme (delivered)'),
  ('publishing_report', 'dead',
   'Deliveries given up (dead): a failure not worth retrying, or retries exhausted',
   'Envois abandonnés (dead) : un échec qui ne justifie pas de nouvelle tentative, ou tentatives épuisées'),
  ('publishing_report', 'cancelled',
   'Deliveries cancelled before sending (cancelled): the post was edited or cancelled, or the account stopped being live',
   'Envois annulés avant l''envoi (cancelled) : la publication a été modifiée ou annulée, ou le compte n''est plus actif'),
  ('publishing_report', 'in_progress',
   'Deliveries not settled yet: pending (waiting for their time or a retry) or sending',
   'Envois non encore terminés : pending (en attente de leur heure ou d''une nouvelle tentative) ou sending (en cours d''envoi)'),
  ('publishing_report', 'retried',
   'Deliveries that took more than one attempt, whatever their status',
   'Envois qui ont nécessité plus d''une tentative, quel que soit leur statut'),
  ('publishing_report', 'average_attempts',
   'Average number of attempts of the settled deliveries (delivered or dead), to 2 decimals (NULL: none settled)',
   'Nombre moyen de tentatives des envois terminés (delivered ou dead), à 2 décimales (NULL : aucun envoi terminé)'),
  ('publishing_report', 'average_time_to_approve',
   'Average time from a post''s first submission to its final approval, an interval, taken over the deliveries (a post sent to three accounts counts three times); NULL: none approved',
   'Délai moyen entre la première soumission d''une publication et son approbation finale, de type interval, calculé sur les envois (une publication envoyée à trois comptes compte trois fois); NULL : aucune approuvée'),
  ('publishing_report', 'average_time_to_deliver',
   'Average time from the scheduled time to delivery, of the delivered ones, an interval (NULL: none delivered)',
   'Délai moyen entre l''heure prévue et la livraison, pour les envois livrés, de type interval (NULL : aucun envoi livré)'),
  ('requirement_catalogue', NULL,
   'Every requirement (sections 6 and 7) and consequence (section 8) of the Standard, with its effective date and status today',
   'Chaque exigence (sections 6 et 7) et conséquence (section 8) de la Norme, avec sa date d''entrée en vigueur et son état aujourd''hui'),
  ('requirement_catalogue', 'code',
   'The requirement''s number in the Standard (6.1.1 ... 8.2)',
   'Le numéro de l''exigence dans la Norme (6.1.1 ... 8.2)'),
  ('requirement_catalogue', 'section',
   'The section it belongs to: 6.1, 6.2, 7.1, 7.2, 7.3 or 8',
   'La section à laquelle elle appartient : 6.1, 6.2, 7.1, 7.2, 7.3 ou 8'),
  ('requirement_catalogue', 'parent_code',
   'The requirement it details (6.2.3 for 6.2.3.1 and 6.2.3.2); NULL otherwise',
   'L''exigence qu''elle précise (6.2.3 pour 6.2.3.1 et 6.2.3.2); NULL sinon'),
  ('requirement_catalogue', 'kind',
   'requirement (sections 6 and 7) or consequence (section 8)',
   'requirement (exigence : sections 6 et 7) ou consequence (conséquence : section 8)'),
  ('requirement_catalogue', 'responsible',
   'The office the Standard makes responsible: head_of_communications (6.1), entity_official (6.2, 7.3), deputy_head (7.1, 8.1) or tbs_analyst (7.2, 8.2)',
   'Le poste que la Norme rend responsable : head_of_communications (chef des communications : 6.1), entity_official (cadre supérieur désigné de l''entité : 6.2, 7.3), deputy_head (administrateur général : 7.1, 8.1) ou tbs_analyst (SCT : 7.2, 8.2)'),
  ('requirement_catalogue', 'text',
   'The requirement''s text in the Standard, in English',
   'Le texte de l''exigence dans la Norme, en anglais'),
  ('requirement_catalogue', 'effective_on',
   'The date it takes effect: 2013-04-01 for those section 1.2 made effective immediately (6.1.1, 6.1.2, 6.1.5, 7.1, 7.2), else the date the Secretary communicated, as recorded (NULL: none recorded yet)',
   'La date de son entrée en vigueur : le 1er avril 2013 (2013-04-01) pour celles que l''article 1.2 a fait entrer en vigueur immédiatement (6.1.1, 6.1.2, 6.1.5, 7.1, 7.2), sinon la date communiquée par le secrétaire du Conseil du Trésor, telle que consignée (NULL : aucune consignée)'),
  ('requirement_catalogue', 'not_for_agents_of_parliament',
   'Section 2.2: true when it does not apply to the seven agents of Parliament (7.1.2, 7.2, 8.2)',
   'Article 2.2 : vrai si elle ne s''applique pas aux sept agents du Parlement (7.1.2, 7.2, 8.2)'),
  ('requirement_catalogue', 'status',
   'Its status today, for no department in particular: in force, not yet in force (no effective date recorded, or a later one) or not enforced (an administrator set smam not to enforce the Standard)',
   'Son état aujourd''hui, pour aucun ministère en particulier : in force (en vigueur), not yet in force (pas encore en vigueur : aucune date consignée, ou une date ultérieure) ou not enforced (non appliquée : un administrateur a configuré smam pour qu''il n''applique pas la Norme)');

SELECT smam.apply_report_dictionary();

-- ---- sql/smam/97_audit_attach.sql ----
-- Last of the audit fragments: attach smam.audit() to every table of schema
-- smam that exists now, whichever fragment made it, the log's own tables
-- excepted. An update script that adds tables calls smam.attach_audit()
-- again; the test audit_coverage fails if any table is left out.

CREATE FUNCTION smam.attach_audit() RETURNS integer
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  t regclass;
  n integer := 0;
BEGIN
  FOR t IN
    SELECT c.oid::regclass FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'smam'::regnamespace
       AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND c.relname <> ALL (ARRAY['audit_log', 'audit_seal', 'audit_checkpoint', 'audit_commit'])
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                        WHERE g.tgrelid = c.oid AND g.tgname = 'smam_audit')
     ORDER BY c.relname
  LOOP
    EXECUTE format('CREATE TRIGGER smam_audit AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION smam.audit()', t);
    EXECUTE format('CREATE TRIGGER smam_audit_truncate BEFORE TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION smam.audit()', t);
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
COMMENT ON FUNCTION smam.attach_audit() IS
  'Attach the audit trigger to every table of smam that lacks it; returns how many were attached';

SELECT smam.attach_audit();

-- ---- sql/smam/99_privileges.sql ----
-- The functions that check the caller's office themselves are executable
-- by every working group role: a role holding the wrong office, or none,
-- meets smam's own refusal (42501, the requirement, what to do), never
-- PostgreSQL's bare "permission denied". Granted by group only, with no
-- check of their own (the group is the check): the worker's steps
-- smam.dispatch(), smam.check_account_urls(), smam.pull_metrics()
-- (smam_admin), the audit's reads (not smam_analyst), and everything to
-- smam_public beyond the public index (docs/reference.md, "Group roles").
DO $grants$
DECLARE
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    'smam.abandon_account(bigint, text)', 'smam.add_content_item(bigint, text, text, text, text[], text[], timestamptz, timestamptz, text)',
    'smam.add_department(text, text, smam.application, integer)', 'smam.add_specification(text, text, smam.specification_rule, text, text, text)',
    'smam.appoint(name, smam.office, bigint, timestamptz, timestamptz, text)', 'smam.approve_plan(bigint, text)',
    'smam.approve_post(bigint)', 'smam.approve_strategy(bigint, text)', 'smam.archive_account(bigint, text, text, text)',
    'smam.archive_audit_log(bigint, text, text)', 'smam.attach_implementation_plan(bigint, bigint)', 'smam.audit_export(bigint)',
    'smam.cancel_post(bigint, text)', 'smam.complete_evaluation(bigint, text, boolean)', 'smam.configure_account(bigint, jsonb)',
    'smam.confirm_credential(bigint)', 'smam.create_post(bigint, bigint[], timestamptz)',
    'smam.decide(text, bigint, smam.approval_status, text)', 'smam.delegate(name, timestamptz, bigint, timestamptz, text)',
    'smam.draft_plan(bigint, text, text, text, text, text, text, text, text, bigint)',
    'smam.draft_strategy(bigint, text, text, text, text, text, text, text, text, date, bigint)',
    'smam.edit_post(bigint, text, text, timestamptz)', 'smam.end_appointment(bigint, text, timestamptz)',
    'smam.import_index(text, boolean)', 'smam.import_index_feed(jsonb, text, boolean)',
    'smam.import_index_feeds(jsonb, jsonb, boolean)', 'smam.confirm_department_candidate(bigint, text, text, text)',
    'smam.map_department_candidate(bigint, bigint, text)', 'smam.move_account(bigint, bigint, text)',
    'smam.merge_departments(bigint, bigint, text)', 'smam.merge_problems(bigint, bigint)',
    'smam.move_problems(bigint, smam.stage)',
    'smam.onboard_account(bigint, text, text, text, text, smam.official_language, text, text, date)',
    'smam.plan_account(bigint, text, text, text, text, smam.official_language, text, bigint)',
    'smam.plan_missing(bigint)', 'smam.plan_pia(bigint, text, text, date)', 'smam.plan_pia_problem(bigint, text, date)',
    'smam.publish_index()',
    'smam.recommend_corrective_action(bigint, text, text, date, text)', 'smam.record_consequence(bigint, text, text, bigint)',
    'smam.record_corrective_measure(bigint, text, boolean)', 'smam.record_effective_date(text, date, text)',
    'smam.record_platform_review(text, smam.platform_review_kind, date, smam.review_outcome, date, text)',
    'smam.record_standard_review(date, text)', 'smam.register_principal(name, text, text, bigint)',
    'smam.request_report(bigint, date, text, text, date, date)', 'smam.review_submission(bigint, boolean, text)',
    'smam.revise(text, bigint, text, text)', 'smam.revoke_credential(bigint)', 'smam.schedule_post(bigint)',
    'smam.set_connector(text, text, text, text[], text, text[], text, text, text[], text, text, cidr[], boolean, text[])',
    'smam.set_credential(bigint, text, timestamptz)', 'smam.set_enforcement(boolean, text, timestamptz)',
    'smam.set_publishing_policy(bigint, integer, jsonb)', 'smam.set_service_standard(text, interval)',
    'smam.start_evaluation(bigint, text)',
    'smam.submit(bigint, smam.submission_kind, text, jsonb, text, text, smam.official_language)',
    'smam.submit_post(bigint)', 'smam.submit_report(bigint, text)', 'smam.transition(bigint, smam.stage, text)']
  LOOP
    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO smam_admin, smam_entity, smam_department, smam_tbs, smam_analyst', f);
  END LOOP;
END
$grants$;

-- Last: nothing of smam is granted to PUBLIC. Functions are executable by
-- PUBLIC when created; take that back, leaving the grants made to the
-- smam_* roles above.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA smam FROM PUBLIC;
REVOKE ALL ON SCHEMA smam FROM PUBLIC;

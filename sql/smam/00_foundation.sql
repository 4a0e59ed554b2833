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

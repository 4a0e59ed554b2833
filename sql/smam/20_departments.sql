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

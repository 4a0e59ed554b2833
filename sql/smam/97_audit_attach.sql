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

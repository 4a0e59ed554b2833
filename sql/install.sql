-- Installing, dropping and installing again; what the extension creates.
\set VERBOSITY default
CREATE EXTENSION smam;
-- (the version installed is smam.control's default_version)
SELECT extname, extversion OPERATOR(pg_catalog.=) a.default_version AS default_version, extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  JOIN pg_available_extensions a ON a.name = e.extname WHERE extname = 'smam';
-- the group roles exist and cannot log in (the worker's role can: PostgreSQL 15
-- starts a background worker only as a login role), nothing is granted to PUBLIC
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'smam\_%' ORDER BY 1;
SELECT count(*) AS public_function_grants
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE p.pronamespace = 'smam'::regnamespace AND a.grantee = 0;
SELECT count(*) AS public_table_grants
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'smam'::regnamespace AND a.grantee = 0;
-- every table has row-level security
SELECT relname FROM pg_class
 WHERE relnamespace = 'smam'::regnamespace AND relkind = 'r' AND NOT relrowsecurity ORDER BY 1;
-- every table and sequence holding the installation's data is dumped by
-- pg_dump; only the read-only catalogue is not (CREATE EXTENSION makes it)
SELECT c.relname, c.relkind FROM pg_class c
 WHERE c.relnamespace = 'smam'::regnamespace AND c.relkind IN ('r', 'p', 'S')
   AND c.oid <> ALL (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'smam')
 ORDER BY 1;
-- settings are reserved under smam.
SHOW smam.time_zone;
SET smam.no_such_setting = 1;
SET smam.time_zone = 'UTC';
DROP EXTENSION smam;
SELECT count(*) AS roles_left FROM pg_roles WHERE rolname LIKE 'smam\_%';
CREATE EXTENSION smam;
SELECT count(*) AS requirements FROM smam.requirement;
DROP EXTENSION smam;

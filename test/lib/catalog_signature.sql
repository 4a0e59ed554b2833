-- What smam is in a database, one line per fact, in an order that does not
-- depend on object identifiers or on the order things were created in: the
-- objects of the extension and every property that makes them behave
-- (definitions, columns and their order, defaults, constraints, indexes,
-- triggers, row-level security and its policies, view options, grants,
-- comments, enum labels in order, sequences, configuration-dump
-- registrations, the roles smam creates and their memberships). Two
-- databases with the same lines have the same smam. Used by
-- test/perl/17_upgrade.pl to compare a database updated with ALTER EXTENSION
-- smam UPDATE with a fresh CREATE EXTENSION smam.
WITH ext AS (
  SELECT e.oid, e.extconfig, e.extcondition FROM pg_catalog.pg_extension e WHERE e.extname = 'smam'
), member AS (
  SELECT d.classid, d.objid, d.objsubid
    FROM pg_catalog.pg_depend d, ext
   WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), rel AS (
  SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name, c.*
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname IN ('smam', 'smam_report')
), fn AS (
  SELECT p.oid::pg_catalog.regprocedure::text AS name, p.*
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname IN ('smam', 'smam_report')
), acl(what, acl) AS (
  SELECT 'relation ' || r.name, r.relacl FROM rel r
  UNION ALL SELECT 'function ' || f.name, f.proacl FROM fn f
  UNION ALL SELECT 'schema ' || n.nspname, n.nspacl FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('smam', 'smam_report')
  UNION ALL SELECT 'type ' || t.oid::pg_catalog.regtype::text, t.typacl
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname IN ('smam', 'smam_report')
  UNION ALL SELECT 'column ' || r.name || '.' || a.attname, a.attacl
    FROM rel r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
), lines(line) AS (
  -- the extension's members
  SELECT 'member ' || pg_catalog.pg_describe_object(m.classid, m.objid, m.objsubid) FROM member m
  -- relations: kind, options, row-level security, comment
  UNION ALL
  SELECT pg_catalog.format('relation %s kind=%s options=%s rls=%s force=%s persistence=%s comment=%s',
           r.name, r.relkind, (SELECT pg_catalog.array_agg(o ORDER BY o) FROM pg_catalog.unnest(r.reloptions) o),
           r.relrowsecurity, r.relforcerowsecurity, r.relpersistence, pg_catalog.obj_description(r.oid, 'pg_class'))
    FROM rel r WHERE r.relkind IN ('r', 'v', 'm', 'p', 'S', 'c', 'f')
  -- columns, in their order (attnum gaps left by dropped columns do not count)
  UNION ALL
  SELECT pg_catalog.format('column %s #%s %I %s notnull=%s default=%s generated=%s identity=%s collation=%s comment=%s',
           r.name, pg_catalog.row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum), a.attname,
           pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attgenerated, a.attidentity,
           CASE WHEN a.attcollation <> 0 THEN a.attcollation::pg_catalog.regcollation::text END,
           pg_catalog.col_description(r.oid, a.attnum))
    FROM rel r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND r.relkind IN ('r', 'v', 'm', 'p', 'c', 'f')
  -- constraints, indexes, triggers, rules, policies, views
  UNION ALL
  SELECT pg_catalog.format('constraint %s %I %s deferrable=%s deferred=%s valid=%s comment=%s', r.name, co.conname,
           pg_catalog.pg_get_constraintdef(co.oid), co.condeferrable, co.condeferred, co.convalidated,
           pg_catalog.obj_description(co.oid, 'pg_constraint'))
    FROM rel r JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
  UNION ALL
  SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid) || ' comment=' || COALESCE(pg_catalog.obj_description(i.indexrelid, 'pg_class'), '')
    FROM rel r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
  UNION ALL
  SELECT pg_catalog.format('trigger %s enabled=%s comment=%s', pg_catalog.pg_get_triggerdef(t.oid), t.tgenabled,
           pg_catalog.obj_description(t.oid, 'pg_trigger'))
    FROM rel r JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT pg_catalog.format('rule %s %s', r.name, pg_catalog.pg_get_ruledef(ru.oid))
    FROM rel r JOIN pg_catalog.pg_rewrite ru ON ru.ev_class = r.oid WHERE ru.rulename <> '_RETURN'
  UNION ALL
  SELECT pg_catalog.format('policy %I.%I %I permissive=%s cmd=%s roles=%s using=%s check=%s',
           p.schemaname, p.tablename, p.policyname, p.permissive, p.cmd,
           (SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.unnest(p.roles) x), p.qual, p.with_check)
    FROM pg_catalog.pg_policies p WHERE p.schemaname IN ('smam', 'smam_report')
  UNION ALL
  SELECT pg_catalog.format('view %s %s', r.name, pg_catalog.pg_get_viewdef(r.oid)) FROM rel r WHERE r.relkind IN ('v', 'm')
  -- sequences' definitions (not their positions)
  UNION ALL
  SELECT pg_catalog.format('sequence %s %s start=%s inc=%s min=%s max=%s cache=%s cycle=%s owned_by=%s', r.name,
           s.seqtypid::pg_catalog.regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
           (SELECT pg_catalog.format('%s.%s', d.refobjid::pg_catalog.regclass, a.attname)
              FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = r.oid AND d.deptype IN ('a', 'i')
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass))
    FROM rel r JOIN pg_catalog.pg_sequence s ON s.seqrelid = r.oid
  -- functions: the whole definition (body, attributes, settings), comment
  UNION ALL
  SELECT pg_catalog.format('function %s %s comment=%s', f.name,
           CASE WHEN f.prokind IN ('f', 'p', 'w') THEN pg_catalog.pg_get_functiondef(f.oid)
                ELSE pg_catalog.format('aggregate kind=%s', f.prokind) END,
           pg_catalog.obj_description(f.oid, 'pg_proc'))
    FROM fn f
  -- types: enum labels in order, domains with their constraints, comments
  UNION ALL
  SELECT pg_catalog.format('type %s kind=%s labels=%s domain=%s comment=%s', t.oid::pg_catalog.regtype, t.typtype,
           (SELECT pg_catalog.array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid),
           CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) || ' notnull=' || t.typnotnull
                || ' ' || COALESCE((SELECT pg_catalog.string_agg(pg_catalog.pg_get_constraintdef(co.oid), ' ' ORDER BY co.conname)
                                                FROM pg_catalog.pg_constraint co WHERE co.contypid = t.oid), '') END,
           pg_catalog.obj_description(t.oid, 'pg_type'))
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname IN ('smam', 'smam_report') AND t.typtype IN ('e', 'd', 'c', 'r')
     AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
  -- schemas
  UNION ALL
  SELECT pg_catalog.format('schema %I owner=%s comment=%s', n.nspname, n.nspowner::pg_catalog.regrole,
           pg_catalog.obj_description(n.oid, 'pg_namespace'))
    FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('smam', 'smam_report')
  -- grants, each privilege on its own line (aclitem order is creation order)
  UNION ALL
  SELECT pg_catalog.format('grant %s to %s by %s: %s%s', a.what,
           CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::pg_catalog.regrole::text END,
           x.grantor::pg_catalog.regrole, x.privilege_type, CASE WHEN x.is_grantable THEN ' with grant option' ELSE '' END)
    FROM acl a, LATERAL pg_catalog.aclexplode(a.acl) x WHERE a.acl IS NOT NULL
  UNION ALL
  SELECT 'default acl ' || a.what FROM acl a WHERE a.acl IS NULL AND a.what NOT LIKE 'column %'
  -- what pg_dump saves of the extension's tables
  UNION ALL
  SELECT pg_catalog.format('config dump %s %s', c.cfg::pg_catalog.regclass, c.cond)
    FROM ext, LATERAL unnest(ext.extconfig, ext.extcondition) c(cfg, cond)
  -- event triggers and the roles smam creates
  UNION ALL
  SELECT pg_catalog.format('event trigger %I %s %s %s', et.evtname, et.evtevent, et.evtfoid::pg_catalog.regproc, et.evttags)
    FROM pg_catalog.pg_event_trigger et JOIN member m ON m.classid = 'pg_catalog.pg_event_trigger'::pg_catalog.regclass AND m.objid = et.oid
  UNION ALL
  SELECT pg_catalog.format('role %s super=%s inherit=%s createrole=%s createdb=%s login=%s replication=%s bypassrls=%s connlimit=%s config=%s',
           r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
           r.rolbypassrls, r.rolconnlimit, r.rolconfig)
    FROM pg_catalog.pg_roles r WHERE r.rolname LIKE 'smam\_%'
  UNION ALL
  SELECT pg_catalog.format('membership %s in %s admin=%s', m.member::pg_catalog.regrole, m.roleid::pg_catalog.regrole, m.admin_option)
    FROM pg_catalog.pg_auth_members m
    JOIN pg_catalog.pg_roles a ON a.oid = m.roleid JOIN pg_catalog.pg_roles b ON b.oid = m.member
   WHERE a.rolname LIKE 'smam\_%' AND b.rolname LIKE 'smam\_%'
)
SELECT pg_catalog.replace(line, E'\n', E'\\n') FROM lines ORDER BY line COLLATE "C";

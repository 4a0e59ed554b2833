/*
 * privileged.c: the one way smam runs SQL with raised rights.
 *
 * smam's rules read rows that the caller's row-level security hides (the
 * plan of an account, the appointments of a role) and write records the
 * caller may not write (stage history, the use of a submission). Every such
 * query goes through here, and here only:
 *
 *  - as the owner of smam's tables (the role that created the extension),
 *    as PostgreSQL's referential integrity checks run as the owner of the
 *    table they check (ri_triggers.c), never as the bootstrap superuser;
 *  - with search_path pinned to "pg_catalog, pg_temp", so that nothing the
 *    caller planted in pg_temp or in a schema of their own is found before
 *    PostgreSQL's own types, functions and operators (the queries qualify
 *    every name as well: the pin is the second line of defence);
 *  - with the settings that change what the text of a query means, or how a
 *    value becomes text, pinned to PostgreSQL's defaults (see pinned[]);
 *  - for reads, in a restricted security context (no SET ROLE, no temporary
 *    objects, no cursors held past the transaction), as maintenance
 *    commands run the code of an index expression.
 *
 * The rights and settings are taken around the query and given back after
 * it, on success and on error: an error inside is rethrown with the
 * caller's identity and settings already restored, and the abort of the
 * (sub)transaction that follows would restore them anyway, as it does for a
 * SECURITY DEFINER function (fmgr_security_definer()).
 */
#include "smam.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/*
 * The settings pinned for privileged SQL: the search path, and those that
 * change how a query's text is read (string literals, "= NULL", array
 * literals) or how a value becomes text (dates, intervals, floats, bytea).
 */
static const struct
{
	const char *name;
	const char *value;
} pinned[] = {
	{"search_path", "pg_catalog, pg_temp"},
	{"standard_conforming_strings", "on"},
	{"transform_null_equals", "off"},
	{"array_nulls", "on"},
	{"DateStyle", "ISO, YMD"},
	{"IntervalStyle", "postgres"},
	{"extra_float_digits", "1"},
	{"bytea_output", "hex"},
};

/*
 * The owner of smam's tables. It is read from the catalog each time (two
 * syscache probes), by the OID of smam.account found in the extension's
 * own schema: no role can create a second "smam" schema or a second
 * "account" table in it, and neither name leads to code that runs.
 */
Oid
smam_owner(void)
{
	Oid nsp = get_namespace_oid("smam", false);
	Oid relid = get_relname_relid("account", nsp);
	HeapTuple tup;
	Oid owner;

	if (!OidIsValid(relid))
		elog(ERROR, "smam: table smam.account does not exist");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * True while smam runs its own query restricted (smam.own_restricted_operation,
 * a setting so that the end of the query, or the abort of its transaction,
 * gives back the value it had): offices.c then takes the outer user as the
 * acting role, as outside such operations.
 */
bool smam_own_restricted_operation = false;

void
smam_privilege_enter(SmamPrivilege *p, bool restricted)
{
	GetUserIdAndSecContext(&p->saved_user, &p->saved_sec);
	p->owner = smam_owner();
	SetUserIdAndSecContext(p->owner, p->saved_sec | SECURITY_LOCAL_USERID_CHANGE |
										 SECURITY_NOFORCE_RLS |
										 (restricted ? SECURITY_RESTRICTED_OPERATION : 0));
	p->guc_level = NewGUCNestLevel();
	for (int i = 0; i < lengthof(pinned); i++)
		(void) set_config_option(pinned[i].name, pinned[i].value, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	/* A restricted operation smam starts itself, not one it was called in. */
	if (restricted && !(p->saved_sec & SECURITY_RESTRICTED_OPERATION))
		(void) set_config_option("smam.own_restricted_operation", "on", PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * The same settings, for the rest of a background process's life (the
 * publishing worker), above anything a database or role setting says.
 */
void
smam_pin_session_settings(void)
{
	for (int i = 0; i < lengthof(pinned); i++)
		SetConfigOption(pinned[i].name, pinned[i].value, PGC_SUSET, PGC_S_OVERRIDE);
}

void
smam_privilege_leave(SmamPrivilege *p)
{
	AtEOXact_GUC(false, p->guc_level);
	SetUserIdAndSecContext(p->saved_user, p->saved_sec);
}

/* One query, as smam_spi_privileged() or smam_spi_privileged_latest() asks. */
typedef struct PrivilegedQuery
{
	const char *sql;
	int nargs;
	Oid *types;
	Datum *values;
	const char *nulls;
	bool read_only;
	bool latest; /* read with the latest snapshot */
	long count;
} PrivilegedQuery;

static int
execute(const PrivilegedQuery *q)
{
	SPIPlanPtr plan;
	int rc;

	if (!q->latest)
		return SPI_execute_with_args(q->sql, q->nargs, q->types, q->values, q->nulls, q->read_only,
									 q->count);
	plan = SPI_prepare(q->sql, q->nargs, q->types);
	if (plan == NULL)
		elog(ERROR, "smam query failed: %s: %s", SPI_result_code_string(SPI_result), q->sql);
	rc = SPI_execute_snapshot(plan, q->values, q->nulls, GetLatestSnapshot(), InvalidSnapshot,
							  false, false, q->count);
	SPI_freeplan(plan);
	return rc;
}

/*
 * Run the query with the raised rights, restricted for reads; the rights
 * and settings are given back whether it succeeds or fails.
 */
static int
run_privileged(const PrivilegedQuery *q)
{
	SmamPrivilege p;
	volatile int rc = 0;

	smam_privilege_enter(&p, q->read_only || q->latest);
	PG_TRY();
	{
		rc = execute(q);
	}
	PG_CATCH();
	{
		smam_privilege_leave(&p);
		PG_RE_THROW();
	}
	PG_END_TRY();
	smam_privilege_leave(&p);
	if (rc < 0)
		elog(ERROR, "smam query failed: %s: %s", SPI_result_code_string(rc), q->sql);
	return rc;
}

/*
 * Reads run restricted; writes (records, using up a submission) fire the
 * triggers of those tables, the audit's among them, which the extension's
 * owner alone can put there.
 */
int
smam_spi_privileged(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
					bool read_only, long count)
{
	PrivilegedQuery q = {sql, nargs, types, values, nulls, read_only, false, count};

	return run_privileged(&q);
}

/*
 * The same for a read that must see what other transactions committed up
 * to now, even under REPEATABLE READ: a check made after a lock that
 * serializes the writers (as ri_triggers.c reads with the latest snapshot).
 */
int
smam_spi_privileged_latest(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
						   long count)
{
	PrivilegedQuery q = {sql, nargs, types, values, nulls, true, true, count};

	return run_privileged(&q);
}

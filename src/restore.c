/*
 * restore.c: recognizing a restore of smam's data.
 *
 * pg_dump writes smam's user data as COPY statements, run by a superuser
 * with row_security off (pg_dump's script sets it). The rows it brings back
 * were checked when they were first written and their history comes back
 * with them, so smam's guards let restored INSERTs through and the audit
 * trigger writes no second history.
 *
 * A restore is recognized from what only a superuser loading a table can
 * be in, never from the text of a query (which a SECURITY DEFINER function
 * called from "COPY (SELECT ...) TO STDOUT" would share with its caller):
 *
 *  - the session's user and the current user are superusers: not an
 *    application role, whatever function it calls;
 *  - no SECURITY DEFINER function (nor smam's own raised rights) is on the
 *    stack: inside one, superuser() is the owner's answer, not the caller's;
 *  - row_security is off, as pg_dump's and pg_restore's scripts set it;
 *  - the statement the client sent (the active portal's, as parsed, not its
 *    text) is a COPY FROM into the very table whose trigger asks.
 *
 * A superuser could as well disable the triggers: this gives nobody a way
 * around smam's rules that they lacked.
 */
#include "smam.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/pquery.h"
#include "utils/portal.h"
#include "utils/rel.h"
#include "utils/rls.h"

PG_FUNCTION_INFO_V1(smam_restoring_dump_sql);

static bool
restoring_into(Oid relid)
{
	Oid session = GetSessionUserId();
	PlannedStmt *stmt;
	CopyStmt *copy;

	if (row_security || !OidIsValid(relid))
		return false;
	if (InLocalUserIdChange() || InSecurityRestrictedOperation() || InNoForceRLSOperation())
		return false;
	if (!superuser_arg(session) || !superuser_arg(GetUserId()))
		return false;
	if (ActivePortal == NULL)
		return false;
	stmt = PortalGetPrimaryStmt(ActivePortal);
	if (stmt == NULL || stmt->commandType != CMD_UTILITY || stmt->utilityStmt == NULL ||
		!IsA(stmt->utilityStmt, CopyStmt))
		return false;
	copy = (CopyStmt *) stmt->utilityStmt;
	if (!copy->is_from || copy->relation == NULL)
		return false;
	return RangeVarGetRelid(copy->relation, NoLock, true) == relid;
}

bool
smam_restoring_dump(Relation rel)
{
	return restoring_into(RelationGetRelid(rel));
}

/*
 * smam.restoring_dump(rel regclass) RETURNS boolean, for triggers written in
 * PL/pgSQL (pass TG_RELID).
 */
Datum
smam_restoring_dump_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(restoring_into(PG_GETARG_OID(0)));
}

/*
 * restore.c: is this session replaying a pg_dump script?
 *
 * smam's guards (the life cycle, sealed records, approvals) refuse rows no
 * function of smam wrote. A restore writes exactly such rows: pg_dump emits
 * the rows of smam's tables as COPY, after CREATE EXTENSION. A dump script
 * begins with SET check_function_bodies = false and SET row_security = off;
 * a session in that state whose acting role (login or SET ROLE, not the
 * owner of a SECURITY DEFINER function) is a superuser is taken to be a
 * restore, and the guards let its INSERTs through unchanged. This grants a
 * superuser nothing: a superuser may disable triggers anyway. An application
 * role setting both variables gains nothing, for it is no superuser.
 */
#include "smam.h"

#include "miscadmin.h"
#include "utils/guc.h"

bool
smam_restoring(void)
{
	const char *bodies = GetConfigOption("check_function_bodies", true, false);
	const char *rls = GetConfigOption("row_security", true, false);

	return bodies != NULL && strcmp(bodies, "off") == 0 &&
		rls != NULL && strcmp(rls, "off") == 0 &&
		superuser_arg(smam_acting_role());
}

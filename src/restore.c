/*
 * restore.c: recognizing a restore of smam's data.
 *
 * pg_dump writes smam's user data as COPY statements, run by a superuser
 * with row_security off (pg_dump's script sets it). The rows it brings back
 * were checked when they were first written and their history comes back
 * with them, so smam's guards let restored INSERTs through and the audit
 * trigger writes no second history. Only a superuser can be in this state,
 * and a superuser could as well disable the triggers: this gives nobody a
 * way around smam's rules that they lacked.
 */
#include "smam.h"

#include <ctype.h>

#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/rls.h"

PG_FUNCTION_INFO_V1(smam_restoring_dump_sql);

bool
smam_restoring_dump(void)
{
	const char *q = debug_query_string;

	if (row_security || q == NULL || !superuser())
		return false;
	while (isspace((unsigned char) *q))
		q++;
	return pg_strncasecmp(q, "COPY", 4) == 0 && isspace((unsigned char) q[4]);
}

/* smam.restoring_dump() RETURNS boolean, for triggers written in PL/pgSQL */
Datum
smam_restoring_dump_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(smam_restoring_dump());
}

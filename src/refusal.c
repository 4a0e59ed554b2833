/*
 * refusal.c: the one place where smam turns a refusal into an ereport.
 *
 * A refusal carries an SQLSTATE, a message in PostgreSQL's style, a detail
 * that says which requirement of the Standard it enforces, and a hint that
 * says what to do next. C code calls smam_refuse(); SQL and PL/pgSQL code
 * calls smam.refuse(), which lands here too, so every refusal reads alike.
 */
#include "smam.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(smam_refuse_sql);
PG_FUNCTION_INFO_V1(smam_refuse_quietly_sql);

char *
smam_format(const char *fmt, ...)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list args;
		int needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	return buf.data;
}

static void refuse(bool hide_statement, int sqlstate, const char *requirement, const char *message,
				   const char *detail, const char *hint) pg_attribute_noreturn();

void
smam_refuse(int sqlstate, const char *requirement, const char *message, const char *detail,
			const char *hint)
{
	refuse(false, sqlstate, requirement, message, detail, hint);
}

/*
 * The same refusal, leaving the statement out of the server's log
 * (log_min_error_statement): for acts whose arguments are secrets.
 */
void
smam_refuse_quietly(int sqlstate, const char *requirement, const char *message, const char *detail,
					const char *hint)
{
	refuse(true, sqlstate, requirement, message, detail, hint);
}

static void
refuse(bool hide_statement, int sqlstate, const char *requirement, const char *message,
	   const char *detail, const char *hint)
{
	char *full_detail;

	if (requirement != NULL && detail != NULL)
		full_detail = smam_format(
			"%s This enforces requirement %s of the Standard on Social Media Account Management.",
			detail, requirement);
	else if (requirement != NULL)
		full_detail = smam_format(
			"This enforces requirement %s of the Standard on Social Media Account Management.",
			requirement);
	else
		full_detail = (char *) detail;

	ereport(ERROR, (errcode(sqlstate), errmsg_internal("%s", message),
					full_detail ? errdetail_internal("%s", full_detail) : 0,
					hint ? errhint("%s", hint) : 0, errhidestmt(hide_statement)));
	pg_unreachable();
}

/* The SQLSTATE argument of smam.refuse(), checked. */
static int
sqlstate_arg(FunctionCallInfo fcinfo)
{
	char *state;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		elog(ERROR, "smam.refuse needs an SQLSTATE and a message");
	state = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strlen(state) != 5 || strspn(state, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("\"%s\" is not an SQLSTATE", state),
						errhint("Give five digits or upper-case letters, such as 42501.")));
	/* Classes 00 (success), 01 (warning) and 02 (no data) are not errors. */
	if (strncmp(state, "00", 2) == 0 || strncmp(state, "01", 2) == 0 ||
		strncmp(state, "02", 2) == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("SQLSTATE \"%s\" is not an error", state),
						errdetail("A refusal is an error; classes 00, 01 and 02 mean success, "
								  "warning and no data."),
						errhint("Give the SQLSTATE of the error, such as 42501 or 55000.")));
	return MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
}

static void
refuse_sql(FunctionCallInfo fcinfo, bool hide_statement)
{
	int sqlstate = sqlstate_arg(fcinfo);

	refuse(hide_statement, sqlstate, PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
		   text_to_cstring(PG_GETARG_TEXT_PP(2)),
		   PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)),
		   PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4)));
}

/*
 * smam.refuse(sqlstate text, requirement text, message text, detail text,
 *             hint text) RETURNS void
 */
Datum
smam_refuse_sql(PG_FUNCTION_ARGS)
{
	refuse_sql(fcinfo, false);
	PG_RETURN_VOID();
}

/* smam.refuse_quietly(...): the same, the statement kept out of the log. */
Datum
smam_refuse_quietly_sql(PG_FUNCTION_ARGS)
{
	refuse_sql(fcinfo, true);
	PG_RETURN_VOID();
}

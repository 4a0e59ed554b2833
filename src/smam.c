/*
 * smam.c: module load and settings.
 *
 * The library is loaded by CREATE EXTENSION or, where the publishing worker
 * is wanted, through shared_preload_libraries. Either way _PG_init defines
 * smam's settings and reserves the "smam." prefix so that a misspelt
 * setting is an error rather than a silently ignored placeholder.
 */
#include "smam.h"
#include "audit.h"

#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

void _PG_init(void);

PG_FUNCTION_INFO_V1(smam_time_zone_sql);

/*
 * smam.time_zone: the time zone in which smam reads the calendar dates of
 * the Standard (effective dates, due dates, "as of" dates). The Standard is
 * a Treasury Board instrument, so the default is Ottawa's time.
 */
char *smam_time_zone = NULL;

/*
 * smam.report_time_zone: set only inside smam.reproduce_report(), to the
 * zone a frozen report was submitted under, so that a report reproduces after
 * smam.time_zone has changed. Empty (the default) means smam.time_zone.
 * Superusers only, not in the configuration files, and not listed.
 */
static char *smam_report_time_zone = NULL;

static bool
check_time_zone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("smam.time_zone must name a time zone.");
		return false;
	}
	if (pg_tzset(*newval) == NULL)
	{
		GUC_check_errdetail("Time zone \"%s\" is not known to this server.", *newval);
		GUC_check_errhint("Use a name from pg_timezone_names, such as America/Toronto.");
		return false;
	}
	return true;
}

static bool
check_report_time_zone(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	return check_time_zone(newval, extra, source);
}

/*
 * One relcache callback for every cache of smam's: a backend has ten slots
 * for them in all (MAX_RELCACHE_CALLBACKS), which PostgreSQL itself and
 * other extensions share.
 */
static void
relcache_inval(Datum arg, Oid relid)
{
	smam_audit_relcache_inval(relid);
	smam_lifecycle_relcache_inval(relid);
}

int smam_index_disappearance_limit = 10;

void
_PG_init(void)
{
	DefineCustomStringVariable(
		"smam.time_zone", "Time zone in which smam reads the dates of the Standard.",
		"Effective dates, due dates and \"as of\" dates are calendar dates in this zone.",
		&smam_time_zone, "America/Toronto", PGC_SIGHUP, 0, check_time_zone, NULL, NULL);
	DefineCustomStringVariable("smam.report_time_zone",
							   "Time zone in which smam.reproduce_report() reads a frozen report.",
							   "Set by smam.reproduce_report() to the zone the report was "
							   "submitted under; empty means smam.time_zone.",
							   &smam_report_time_zone, "", PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   check_report_time_zone, NULL, NULL);

	DefineCustomBoolVariable(
		"smam.own_restricted_operation",
		"Set by smam while it runs its own queries with raised rights, restricted.",
		"Inside a security-restricted operation smam started itself, the acting role "
		"is the outer user (offices.c); in one another command started, the owner of "
		"the code that runs.",
		&smam_own_restricted_operation, false, PGC_SUSET,
		GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_NO_RESET_ALL, NULL, NULL,
		NULL);
	smam_http_init();
	smam_delivery_init();
	smam_worker_init();
	smam_audit_init();
	DefineCustomIntVariable(
		"smam.index_disappearance_limit",
		"Share of the listed accounts (percent) an import of the index may find missing.",
		"An import of the whole index in which more of the live accounts that the previous "
		"import listed are missing is refused as a likely truncated or partial file, unless "
		"the caller says the disappearance is intended.",
		&smam_index_disappearance_limit, 10, 0, 100, PGC_SUSET, 0, NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(relcache_inval, (Datum) 0);

	MarkGUCPrefixReserved("smam");
}

MemoryContext
smam_session_context(void)
{
	static MemoryContext cxt = NULL;

	if (cxt == NULL)
		cxt = AllocSetContextCreate(TopMemoryContext, "smam session", ALLOCSET_SMALL_SIZES);
	return cxt;
}

/* The zone smam.time_zone() names: the report's inside reproduce_report. */
static const char *
reading_time_zone(void)
{
	if (smam_report_time_zone != NULL && smam_report_time_zone[0] != '\0')
		return smam_report_time_zone;
	return smam_time_zone;
}

char *
smam_moment_text(TimestampTz t)
{
	const char *zone = reading_time_zone();
	pg_tz *tz = pg_tzset(zone);
	struct pg_tm tm;
	fsec_t fsec;
	int offset;
	const char *abbrev;

	if (TIMESTAMP_IS_NOBEGIN(t))
		return pstrdup("-infinity");
	if (TIMESTAMP_IS_NOEND(t))
		return pstrdup("infinity");
	if (tz == NULL || timestamp2tm(t, &offset, &tm, &fsec, &abbrev, tz) != 0)
		elog(ERROR, "cannot write timestamp in time zone \"%s\"", zone);
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d %s", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

/*
 * smam.time_zone() RETURNS text: the setting, read through the library so
 * that the setting is defined and checked even where smam is not preloaded;
 * inside smam.reproduce_report(), the zone of the report being reproduced.
 */
Datum
smam_time_zone_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(reading_time_zone()));
}

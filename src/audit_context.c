/*
 * audit_context.c: what the audit trigger (audit.c) knows beyond the row
 * itself, each kept for the session so that a transaction changing one
 * row pays no query for it: the offices of the acting role, the client's
 * address, and, per audited table, its columns (how each becomes JSON,
 * which are secrets), its primary key and its department column.
 */
#include "smam.h"
#include "audit.h"

#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

static SPIPlanPtr office_plan = NULL;
static bool client_addr_known = false;
static bool client_addr_null = true;
static Datum client_addr_value;

/*
 * The offices the acting role holds at the start of the transaction, as
 * "office@department" (or "office" for a government-wide one), comma
 * separated; NULL when it holds none.
 *
 * The answer is kept for the session, so that a transaction that writes one
 * row pays no query for it. It stays good until the next moment at which
 * one of the role's appointments begins or ends (the query says when), or
 * until smam.appointment or smam.principal change: the audit trigger sends
 * a relcache invalidation for those tables whenever it logs a change to
 * them, which every backend receives at its next transaction.
 */
#define OFFICE_SQL                                                                                 \
	"SELECT pg_catalog.string_agg(a.office::pg_catalog.text"                                       \
	"         OPERATOR(pg_catalog.||) COALESCE('@'::pg_catalog.text OPERATOR(pg_catalog.||)"       \
	"                                          a.department_id::pg_catalog.text, "                 \
	"''::pg_catalog.text),"                                                                        \
	"         ', '::pg_catalog.text ORDER BY a.office, a.department_id)"                           \
	"         FILTER (WHERE a.valid_from OPERATOR(pg_catalog.<=) $2"                               \
	"                   AND (a.valid_until IS NULL OR a.valid_until OPERATOR(pg_catalog.>) $2)),"  \
	"       pg_catalog.min(CASE WHEN a.valid_from OPERATOR(pg_catalog.>) $2 THEN a.valid_from"     \
	"                           WHEN a.valid_until OPERATOR(pg_catalog.>) $2 THEN a.valid_until "  \
	"END)"                                                                                         \
	"  FROM smam.appointment a"                                                                    \
	"  JOIN smam.principal p ON p.role_name OPERATOR(pg_catalog.=) a.principal"                    \
	" WHERE a.principal OPERATOR(pg_catalog.=) $1"                                                 \
	"   AND p.active"

typedef struct OfficeCache
{
	bool valid;
	Oid role;
	char *office; /* in TopMemoryContext; NULL for none */
	TimestampTz computed_for;
	bool has_until;
	TimestampTz until;
	Oid appointment_relid;
	Oid principal_relid;
} OfficeCache;

static OfficeCache office_cache;

static void
office_cache_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == office_cache.appointment_relid ||
		relid == office_cache.principal_relid)
		office_cache.valid = false;
}

char *
smam_audit_offices(Oid role)
{
	Datum args[2];
	SmamPrivilege priv;
	volatile int rc = 0;
	TimestampTz at = GetCurrentTransactionStartTimestamp();
	OfficeCache *c = &office_cache;

	/*
	 * Another session's change of an appointment reaches this backend as an
	 * invalidation, read from the shared queue here: a statement run from a
	 * cached plan need not have read it before this trigger.
	 */
	AcceptInvalidationMessages();
	if (c->valid && c->role == role && at >= c->computed_for && (!c->has_until || at < c->until))
		return c->office;

	c->valid = false;
	if (c->office)
		pfree(c->office);
	c->office = NULL;
	c->appointment_relid = smam_audit_relid("appointment");
	c->principal_relid = smam_audit_relid("principal");

	SPI_connect();
	args[0] = CStringGetTextDatum(GetUserNameFromId(role, false));
	args[1] = TimestampTzGetDatum(at);

	/*
	 * As in offices.c, row-level security must not hide appointments: the
	 * query runs with smam's raised rights (privileged.c), and is planned
	 * with them, under the pinned search_path.
	 */
	smam_privilege_enter(&priv, true);
	PG_TRY();
	{
		if (office_plan == NULL)
		{
			Oid types[2] = {TEXTOID, TIMESTAMPTZOID};
			SPIPlanPtr plan = SPI_prepare(OFFICE_SQL, 2, types);

			if (plan == NULL)
				elog(ERROR, "SPI_prepare failed for the audit's office query: %s",
					 SPI_result_code_string(SPI_result));
			if (SPI_keepplan(plan) != 0)
				elog(ERROR, "SPI_keepplan failed for the audit's office query");
			office_plan = plan;
		}
		rc = SPI_execute_plan(office_plan, args, NULL, true, 1);
	}
	PG_CATCH();
	{
		smam_privilege_leave(&priv);
		PG_RE_THROW();
	}
	PG_END_TRY();
	smam_privilege_leave(&priv);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "audit's office query failed: %s", SPI_result_code_string(rc));

	c->has_until = false;
	if (SPI_processed == 1)
	{
		bool isnull;
		char *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		Datum until = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (v != NULL)
			c->office = MemoryContextStrdup(smam_session_context(), v);
		if (!isnull)
		{
			c->has_until = true;
			c->until = DatumGetTimestampTz(until);
		}
	}
	SPI_finish();
	c->role = role;
	c->computed_for = at;
	c->valid = true;
	return c->office;
}

void
smam_audit_client_addr(Datum *value, bool *isnull)
{
	if (!client_addr_known)
	{
		LOCAL_FCINFO(fcinfo, 0);
		Datum d;

		InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
		d = inet_client_addr(fcinfo);
		client_addr_null = fcinfo->isnull;
		/*
		 * Kept for the session, in memory that lives as long as it does:
		 * the trigger calls this in its per-row memory, which is reset
		 * after each event.
		 */
		if (!client_addr_null)
		{
			MemoryContext old = MemoryContextSwitchTo(smam_session_context());

			client_addr_value = datumCopy(d, false, -1);
			MemoryContextSwitchTo(old);
		}
		client_addr_known = true;
	}
	*isnull = client_addr_null;
	*value = client_addr_value;
}

/* ---- describing a table ---- */

static char
column_kind(Oid typid)
{
	switch (typid)
	{
		case BOOLOID:
			return 'b';
		case JSONBOID:
			return 'j';
		case JSONOID:
			return 'J';
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return 't';
		case INTERVALOID:
			return 'i';
		default:
			return get_typtype(typid) == TYPTYPE_BASE && TypeCategory(typid) == TYPCATEGORY_NUMERIC
					   ? 'n'
					   : 's';
	}
}

static bool
name_is_secret(const char *name)
{
	size_t len = strlen(name);

	return len >= 7 && strcmp(name + len - 7, "_secret") == 0;
}

/*
 * What the trigger knows of each audited table is kept for the session, so
 * that a statement changing one row pays no catalog lookups for it. A
 * relcache invalidation of the table (ALTER TABLE and the like) retires it;
 * retired entries are freed when the trigger next starts, as no trigger
 * call can be using them then (the trigger never calls itself).
 */
typedef struct TableCacheEntry
{
	Oid relid;
	TableInfo *info;
} TableCacheEntry;

static HTAB *table_cache = NULL;
static List *retired_tables = NIL;

static void
retire_table(TableInfo *info)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	retired_tables = lappend(retired_tables, info);
	MemoryContextSwitchTo(old);
}

static void
table_cache_inval(Datum arg, Oid relid)
{
	TableCacheEntry *e;

	if (table_cache == NULL)
		return;
	if (OidIsValid(relid))
	{
		e = hash_search(table_cache, &relid, HASH_REMOVE, NULL);
		if (e != NULL)
			retire_table(e->info);
	}
	else
	{
		HASH_SEQ_STATUS status;

		hash_seq_init(&status, table_cache);
		while ((e = hash_seq_search(&status)) != NULL)
		{
			retire_table(e->info);
			hash_search(table_cache, &e->relid, HASH_REMOVE, NULL);
		}
	}
}

static TableInfo *
build_table_info(Relation rel)
{
	MemoryContext cxt =
		AllocSetContextCreate(CacheMemoryContext, "smam audit table", ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	TupleDesc desc = RelationGetDescr(rel);
	TableInfo *info;
	Oid pkoid;

	info = palloc0(sizeof(TableInfo));
	info->cxt = cxt;
	info->relid = RelationGetRelid(rel);
	info->natts = desc->natts;
	info->qualname = cstring_to_text(psprintf(
		"%s.%s", get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel)));
	info->cols = palloc0(sizeof(ColInfo) * desc->natts);
	info->holds_offices = strcmp(RelationGetRelationName(rel), "appointment") == 0 ||
						  strcmp(RelationGetRelationName(rel), "principal") == 0;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		ColInfo *c = &info->cols[i];
		Oid outfunc;
		bool isvarlena;

		/* A generated column (smam.department's name keys) is derived from
		 * the columns recorded: not recorded itself. */
		if (att->attisdropped || att->attgenerated)
		{
			c->kind = 'x';
			continue;
		}
		c->name = pstrdup(NameStr(att->attname));
		c->typid = getBaseType(att->atttypid);
		c->kind = column_kind(c->typid);
		c->secret = name_is_secret(c->name);
		getTypeOutputInfo(att->atttypid, &outfunc, &isvarlena);
		fmgr_info_cxt(outfunc, &c->out, cxt);
		if (c->typid == INT8OID && (strcmp(c->name, "department_id") == 0 ||
									(strcmp(c->name, "id") == 0 &&
									 strcmp(RelationGetRelationName(rel), "department") == 0)))
			info->department_att = att->attnum;
	}

	pkoid = RelationGetPrimaryKeyIndex(rel);
	if (OidIsValid(pkoid))
	{
		HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(pkoid));
		Form_pg_index idx;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for index %u", pkoid);
		idx = (Form_pg_index) GETSTRUCT(tup);
		info->npk = idx->indnkeyatts;
		for (int k = 0; k < info->npk; k++)
			info->pk[k] = idx->indkey.values[k];
		ReleaseSysCache(tup);
	}
	MemoryContextSwitchTo(old);
	return info;
}

TableInfo *
smam_audit_table_info(Relation rel)
{
	Oid relid = RelationGetRelid(rel);
	TableCacheEntry *e;
	bool found;

	if (retired_tables != NIL)
	{
		ListCell *lc;

		foreach (lc, retired_tables)
			MemoryContextDelete(((TableInfo *) lfirst(lc))->cxt);
		list_free(retired_tables);
		retired_tables = NIL;
	}
	if (table_cache == NULL)
	{
		HASHCTL ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TableCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		table_cache =
			hash_create("smam audit tables", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(table_cache, &relid, HASH_FIND, NULL);
	if (e != NULL && e->info->natts == RelationGetDescr(rel)->natts)
		return e->info;
	if (e != NULL)
	{
		retire_table(e->info);
		hash_search(table_cache, &relid, HASH_REMOVE, NULL);
	}
	{
		TableInfo *info = build_table_info(rel);

		e = hash_search(table_cache, &relid, HASH_ENTER, &found);
		if (found)
			retire_table(e->info);
		e->info = info;
	}
	return e->info;
}

/* From smam's relcache callback (smam.c). */
void
smam_audit_context_relcache_inval(Oid relid)
{
	office_cache_inval((Datum) 0, relid);
	table_cache_inval((Datum) 0, relid);
}

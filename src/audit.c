/*
 * audit.c: the audit trigger, and the sealing of each transaction's audit
 * rows into the hash chain at commit.
 *
 * smam.audit() is attached AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW to
 * every table of schema smam (sql/smam/97_audit_attach.sql), and BEFORE
 * TRUNCATE, which it refuses. For each changed row it writes one row of
 * smam.audit_log: who (acting, effective and session role, their offices,
 * application, client address), when (transaction and statement start),
 * what (table, operation, key, and the change: new values of an INSERT, old
 * values of a DELETE, only the changed columns of an UPDATE; columns named
 * *_secret are never written, only named when they changed) and the row's
 * SHA-256 hash (chain.c). The rows are written straight into the table and
 * its indexes with the executor's own routines, without SPI: no query is
 * planned per row, and no search_path is consulted.
 *
 * Nothing shared is touched while the transaction runs: the row hashes are
 * kept in backend memory, numbered 1..n within the transaction (rows of a
 * rolled back savepoint are forgotten, so the numbers stay contiguous). At
 * commit, in the XACT_EVENT_PRE_COMMIT callback, after every deferred
 * trigger has run, the transaction takes the chain's lock, reads the head
 * of the chain, and writes one row of smam.audit_seal that links the hash
 * of its rows to the previous seal. The lock is held until the commit is
 * done, so the chain's order is the commit order and two writers never
 * read the same head. That is the only critical section, and its cost does
 * not depend on the number of rows. docs/audit.md describes the design.
 */
#include "smam.h"
#include "audit.h"

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_coerce.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(smam_audit);
PG_FUNCTION_INFO_V1(smam_audit_log_guard);

/* Set while smam.archive_audit_log() removes an exported period. */
bool smam_audit_maintenance = false;

/* A relation opened for direct insertion, for the rest of the transaction. */
typedef struct DirectInsert
{
	Relation rel;
	EState *estate;
	ResultRelInfo *rri;
	TupleTableSlot *slot;
} DirectInsert;

typedef struct PendingRow
{
	uint8 hash[SMAM_HASH_LEN];
	SubTransactionId subid;
} PendingRow;

/* What this backend's transaction has written to the log so far. */
typedef struct AuditXact
{
	int64 txn; /* from smam.audit_txn_seq */
	int64 xid; /* top-level full transaction id */
	int32 nrows;
	int32 cap;
	PendingRow *rows;
	DirectInsert *log;
	Oid name_role[3]; /* last roles named, and their names */
	NameData names[3];
} AuditXact;

static AuditXact *xact_state = NULL;

/* Per column of an audited table: how its values become JSON. */
typedef struct ColInfo
{
	char *name;
	Oid typid; /* base type */
	char kind; /* n number, b bool, j jsonb, J json, t time,
				* s string, x dropped */
	bool secret;
	FmgrInfo out;
} ColInfo;

/* Per audited table, kept for the session (see table_info). */
typedef struct TableInfo
{
	MemoryContext cxt; /* holds this and everything it points to */
	Oid relid;
	int natts;
	text *qualname;
	int npk;
	AttrNumber pk[INDEX_MAX_KEYS];
	AttrNumber department_att; /* 0 when the table has none */
	bool holds_offices;		   /* smam.appointment or smam.principal */
	ColInfo *cols;
} TableInfo;

static SPIPlanPtr office_plan = NULL;
static bool client_addr_known = false;
static bool client_addr_null = true;
static Datum client_addr_value;

/* ---- small helpers ---- */

/*
 * The OIDs of smam's own relations the audit uses, looked up once per
 * session and forgotten when any of them is invalidated (dropped, say).
 */
#define RELID_CACHE 8
static struct
{
	const char *name;
	Oid relid;
} relid_cache[RELID_CACHE];

static void
relid_cache_inval(Datum arg, Oid relid)
{
	for (int i = 0; i < RELID_CACHE; i++)
		if (relid_cache[i].name != NULL && (!OidIsValid(relid) || relid_cache[i].relid == relid))
		{
			memset(relid_cache, 0, sizeof(relid_cache));
			return;
		}
}

Oid
smam_audit_relid(const char *relname)
{
	Oid relid;
	int i;

	for (i = 0; i < RELID_CACHE && relid_cache[i].name != NULL; i++)
		if (strcmp(relid_cache[i].name, relname) == 0)
			return relid_cache[i].relid;
	relid = get_relname_relid(relname, get_namespace_oid("smam", false));
	if (!OidIsValid(relid))
		elog(ERROR, "relation smam.%s of the audit log does not exist", relname);
	if (i < RELID_CACHE)
	{
		relid_cache[i].name = relname; /* callers pass string literals */
		relid_cache[i].relid = relid;
	}
	return relid;
}

/*
 * The chain's lock. Where smam is in shared_preload_libraries, sealers
 * serialize on an LWLock (one of SEAL_LOCKS, chosen by database): a
 * released LWLock goes to whichever waiter runs first, so a sealer that
 * waits for the CPU does not hold up the others, as a heavyweight lock's
 * queue would. Otherwise they take a heavyweight object lock on
 * smam.audit_seal (pg_locks.locktype = 'object'). Either is held from the
 * reading of the head until the commit is visible.
 */
#define SEAL_LOCKS 16
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static bool seal_locks_requested = false;
static LWLock *seal_lwlock = NULL;	  /* held by this transaction */
static Oid chain_locked = InvalidOid; /* heavyweight lock held */

static void
audit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestNamedLWLockTranche("smam_audit_chain", SEAL_LOCKS);
}

/*
 * The heavyweight lock: taken by archiving, and by sealers where smam is
 * not preloaded. Readers, VACUUM and autovacuum never conflict with it.
 */
void
smam_audit_lock_chain(void)
{
	Oid relid = smam_audit_relid("audit_seal");

	LockDatabaseObject(RelationRelationId, relid, 0, ExclusiveLock);
	chain_locked = relid;
}

static void
lock_chain_for_seal(void)
{
	if (seal_locks_requested)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("smam_audit_chain");

		seal_lwlock = &locks[MyDatabaseId % SEAL_LOCKS].lock;
		LWLockAcquire(seal_lwlock, LW_EXCLUSIVE);
	}
	else
		smam_audit_lock_chain();
}

static DirectInsert *
direct_open(Oid relid, int expected_natts)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ResourceOwner oldowner = CurrentResourceOwner;
	DirectInsert *d = palloc0(sizeof(DirectInsert));

	/*
	 * Opened under the top transaction's resource owner, so that a statement
	 * or savepoint that ends does not take the relation from under us.
	 */
	CurrentResourceOwner = TopTransactionResourceOwner;
	PG_TRY();
	{
		TupleDesc desc;

		d->rel = table_open(relid, RowExclusiveLock);
		desc = RelationGetDescr(d->rel);
		if (desc->natts != expected_natts)
			elog(ERROR, "table %s has %d columns, smam expects %d", RelationGetRelationName(d->rel),
				 desc->natts, expected_natts);
		for (int i = 0; i < desc->natts; i++)
			if (TupleDescAttr(desc, i)->attisdropped)
				elog(ERROR, "table %s has a dropped column", RelationGetRelationName(d->rel));
		d->estate = CreateExecutorState();
		d->rri = makeNode(ResultRelInfo);
		InitResultRelInfo(d->rri, d->rel, 1, NULL, 0);
		ExecOpenIndices(d->rri, false);
		d->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return d;
}

static void
direct_insert(DirectInsert *d, const Datum *values, const bool *nulls)
{
	TupleTableSlot *slot = d->slot;
	int natts = slot->tts_tupleDescriptor->natts;

	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, natts * sizeof(Datum));
	memcpy(slot->tts_isnull, nulls, natts * sizeof(bool));
	ExecStoreVirtualTuple(slot);
	simple_table_tuple_insert(d->rel, slot);
	if (d->rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(d->rri, slot, d->estate, false, false, NULL, NIL));
	ExecClearTuple(slot);
	ResetPerTupleExprContext(d->estate);
}

static void
direct_close(DirectInsert *d)
{
	ResourceOwner oldowner = CurrentResourceOwner;

	CurrentResourceOwner = TopTransactionResourceOwner;
	ExecDropSingleTupleTableSlot(d->slot);
	ExecCloseIndices(d->rri);
	table_close(d->rel, NoLock);
	FreeExecutorState(d->estate);
	CurrentResourceOwner = oldowner;
}

static AuditXact *
audit_xact(void)
{
	AuditXact *x;

	if (xact_state != NULL)
		return xact_state;
	x = MemoryContextAllocZero(TopTransactionContext, sizeof(AuditXact));
	x->cap = 64;
	x->rows = MemoryContextAlloc(TopTransactionContext, x->cap * sizeof(PendingRow));
	x->txn = nextval_internal(smam_audit_relid("audit_txn_seq"), false);
	x->xid = (int64) U64FromFullTransactionId(GetTopFullTransactionId());
	x->log = direct_open(smam_audit_relid("audit_log"), AL_NATTS);
	xact_state = x;
	return x;
}

static Datum
role_name_datum(AuditXact *x, int slot, Oid role)
{
	if (x->name_role[slot] != role)
	{
		namestrcpy(&x->names[slot], GetUserNameFromId(role, false));
		x->name_role[slot] = role;
	}
	return NameGetDatum(&x->names[slot]);
}

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

static char *
acting_offices(Oid role)
{
	Datum args[2];
	Oid saved_user;
	int saved_sec;
	volatile int rc = 0;
	TimestampTz at = GetCurrentTransactionStartTimestamp();
	OfficeCache *c = &office_cache;

	if (c->valid && c->role == role && at >= c->computed_for && (!c->has_until || at < c->until))
		return c->office;

	c->valid = false;
	if (c->office)
		pfree(c->office);
	c->office = NULL;
	c->appointment_relid = smam_audit_relid("appointment");
	c->principal_relid = smam_audit_relid("principal");

	SPI_connect();
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
	args[0] = CStringGetTextDatum(GetUserNameFromId(role, false));
	args[1] = TimestampTzGetDatum(at);

	/* As in offices.c: row-level security must not hide appointments. */
	GetUserIdAndSecContext(&saved_user, &saved_sec);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_sec | SECURITY_LOCAL_USERID_CHANGE |
													  SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		rc = SPI_execute_plan(office_plan, args, NULL, true, 1);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_sec);
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "audit's office query failed: %s", SPI_result_code_string(rc));

	c->has_until = false;
	if (SPI_processed == 1)
	{
		bool isnull;
		char *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		Datum until = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		if (v != NULL)
			c->office = MemoryContextStrdup(TopMemoryContext, v);
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

static void
client_addr(Datum *value, bool *isnull)
{
	if (!client_addr_known)
	{
		LOCAL_FCINFO(fcinfo, 0);
		Datum d;

		InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
		d = inet_client_addr(fcinfo);
		client_addr_null = fcinfo->isnull;
		if (!client_addr_null)
			client_addr_value = datumCopy(d, false, -1);
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

		if (att->attisdropped)
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

static TableInfo *
table_info(Relation rel)
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

/* ---- the change as JSON ---- */

static bool
looks_like_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	for (; *p; p++)
		if (!(isdigit((unsigned char) *p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
			  *p == '-'))
			return false;
	return true;
}

static void
push_key(JsonbParseState **st, const char *name)
{
	JsonbValue k;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	pushJsonbValue(st, WJB_KEY, &k);
}

static void
push_value(JsonbParseState **st, ColInfo *c, Datum d, bool isnull)
{
	JsonbValue v;
	char *s;

	if (isnull)
	{
		v.type = jbvNull;
		pushJsonbValue(st, WJB_VALUE, &v);
		return;
	}
	switch (c->kind)
	{
		case 'b':
			v.type = jbvBool;
			v.val.boolean = DatumGetBool(d);
			break;
		case 'j':
		case 'J':
		{
			Jsonb *jb;

			if (c->kind == 'j')
				jb = DatumGetJsonbP(d);
			else
				jb = DatumGetJsonbP(
					DirectFunctionCall1(jsonb_in, CStringGetDatum(OutputFunctionCall(&c->out, d))));
			v.type = jbvBinary;
			v.val.binary.data = &jb->root;
			v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
			break;
		}
		case 't':
		{
			int utc = 0;

			s = JsonEncodeDateTime(NULL, d, c->typid, c->typid == TIMESTAMPTZOID ? &utc : NULL);
			v.type = jbvString;
			v.val.string.val = s;
			v.val.string.len = strlen(s);
			break;
		}
		case 'n':
			s = OutputFunctionCall(&c->out, d);
			if (looks_like_json_number(s))
			{
				v.type = jbvNumeric;
				v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
																	ObjectIdGetDatum(InvalidOid),
																	Int32GetDatum(-1)));
			}
			else
			{
				v.type = jbvString;
				v.val.string.val = s;
				v.val.string.len = strlen(s);
			}
			break;
		default:
			s = OutputFunctionCall(&c->out, d);
			v.type = jbvString;
			v.val.string.val = s;
			v.val.string.len = strlen(s);
			break;
	}
	pushJsonbValue(st, WJB_VALUE, &v);
}

static Datum
finish_object(JsonbParseState **st)
{
	return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(st, WJB_END_OBJECT, NULL)));
}

/* Are two values of a column the same? Binary equality, detoasted. */
static bool
same_value(Form_pg_attribute att, Datum a, bool anull, Datum b, bool bnull)
{
	if (anull || bnull)
		return anull && bnull;
	if (datumIsEqual(a, b, att->attbyval, att->attlen))
		return true;
	if (att->attlen == -1)
	{
		struct varlena *x = PG_DETOAST_DATUM_PACKED(a);
		struct varlena *y = PG_DETOAST_DATUM_PACKED(b);

		return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
			   memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
	}
	return false;
}

/* The row's key: the primary key's value, or "(v1,v2)" for several. */
static Datum
row_key(TableInfo *info, HeapTuple tup, TupleDesc desc, bool *isnull)
{
	StringInfoData buf;

	*isnull = info->npk == 0;
	if (*isnull)
		return (Datum) 0;
	initStringInfo(&buf);
	if (info->npk > 1)
		appendStringInfoChar(&buf, '(');
	for (int k = 0; k < info->npk; k++)
	{
		bool n;
		Datum d = heap_getattr(tup, info->pk[k], desc, &n);

		if (k > 0)
			appendStringInfoChar(&buf, ',');
		if (!n)
			appendStringInfoString(&buf, OutputFunctionCall(&info->cols[info->pk[k] - 1].out, d));
	}
	if (info->npk > 1)
		appendStringInfoChar(&buf, ')');
	return PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len));
}

/* ---- the trigger ---- */

static void
refuse_truncate(Relation rel)
{
	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "7.1.1",
				smam_format("table smam.%s is audited and cannot be truncated",
							RelationGetRelationName(rel)),
				"TRUNCATE removes rows without recording each removal in smam.audit_log.",
				"Delete the rows with DELETE, so that each removal is recorded.");
}

/*
 * smam.audit() RETURNS trigger: AFTER INSERT OR UPDATE OR DELETE FOR EACH
 * ROW on every table of smam, and BEFORE TRUNCATE FOR EACH STATEMENT.
 */
Datum
smam_audit(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation rel;
	TupleDesc desc;
	TableInfo *info;
	AuditXact *x;
	HeapTuple oldtup = NULL, newtup = NULL, keytup;
	Datum values[AL_NATTS];
	bool nulls[AL_NATTS];
	const char *op;
	JsonbParseState *old_st = NULL, *new_st = NULL;
	Datum *secrets;
	int nsecrets = 0;
	uint8 hash[SMAM_HASH_LEN];

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_audit: not called by trigger manager");
	rel = trigdata->tg_relation;
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		refuse_truncate(rel);
	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_AFTER(trigdata->tg_event))
		elog(ERROR, "smam_audit: must be fired after the change, for each row");
	/* Restored rows bring their history with them (restore.c, docs/audit.md). */
	if (smam_restoring_dump())
		return PointerGetDatum(NULL);

	desc = RelationGetDescr(rel);
	info = table_info(rel);
	x = audit_xact();

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		op = "INSERT";
		newtup = trigdata->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		op = "UPDATE";
		oldtup = trigdata->tg_trigtuple;
		newtup = trigdata->tg_newtuple;
	}
	else
	{
		op = "DELETE";
		oldtup = trigdata->tg_trigtuple;
	}
	keytup = oldtup ? oldtup : newtup;

	/* Offices changed: every backend forgets the offices it knew. */
	if (info->holds_offices)
		CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));

	memset(nulls, false, sizeof(nulls));
	values[AL_TXN] = Int64GetDatum(x->txn);
	values[AL_ORDINAL] = Int32GetDatum(x->nrows + 1);
	values[AL_XID] = Int64GetDatum(x->xid);
	values[AL_TX_TIME] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[AL_STMT_TIME] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	values[AL_ACTING_ROLE] = role_name_datum(x, 0, smam_acting_role());
	values[AL_EFFECTIVE_ROLE] = role_name_datum(x, 1, GetUserId());
	values[AL_SESSION_ROLE] = role_name_datum(x, 2, GetSessionUserId());
	if (application_name != NULL && application_name[0] != '\0')
		values[AL_APPLICATION] = CStringGetTextDatum(application_name);
	else
		nulls[AL_APPLICATION] = true;
	client_addr(&values[AL_CLIENT_ADDR], &nulls[AL_CLIENT_ADDR]);
	{
		char *office = acting_offices(smam_acting_role());

		if (office != NULL)
			values[AL_OFFICE] = CStringGetTextDatum(office);
		else
			nulls[AL_OFFICE] = true;
	}
	values[AL_TABLE] = PointerGetDatum(info->qualname);
	values[AL_OPERATION] = CStringGetTextDatum(op);
	values[AL_ROW_KEY] = row_key(info, keytup, desc, &nulls[AL_ROW_KEY]);
	if (info->department_att > 0)
	{
		bool n;
		Datum d = heap_getattr(newtup ? newtup : oldtup, info->department_att, desc, &n);

		values[AL_DEPARTMENT] = d;
		nulls[AL_DEPARTMENT] = n;
	}
	else
		nulls[AL_DEPARTMENT] = true;

	/* The change. */
	secrets = palloc(sizeof(Datum) * desc->natts);
	if (oldtup)
		pushJsonbValue(&old_st, WJB_BEGIN_OBJECT, NULL);
	if (newtup)
		pushJsonbValue(&new_st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < desc->natts; i++)
	{
		ColInfo *c = &info->cols[i];
		Datum od = 0, nd = 0;
		bool on = true, nn = true;

		if (c->kind == 'x')
			continue;
		if (oldtup)
			od = heap_getattr(oldtup, i + 1, desc, &on);
		if (newtup)
			nd = heap_getattr(newtup, i + 1, desc, &nn);
		if (oldtup && newtup && same_value(TupleDescAttr(desc, i), od, on, nd, nn))
			continue;
		if (c->secret)
		{
			/* Only that it changed: set, replaced or cleared. */
			if (!(oldtup == NULL && nn) && !(newtup == NULL && on))
				secrets[nsecrets++] = CStringGetTextDatum(c->name);
			continue;
		}
		if (oldtup)
		{
			push_key(&old_st, c->name);
			push_value(&old_st, c, od, on);
		}
		if (newtup)
		{
			push_key(&new_st, c->name);
			push_value(&new_st, c, nd, nn);
		}
	}
	if (oldtup)
		values[AL_OLD_VALUES] = finish_object(&old_st);
	else
		nulls[AL_OLD_VALUES] = true;
	if (newtup)
		values[AL_NEW_VALUES] = finish_object(&new_st);
	else
		nulls[AL_NEW_VALUES] = true;
	if (nsecrets > 0)
		values[AL_SECRETS] =
			PointerGetDatum(construct_array(secrets, nsecrets, TEXTOID, -1, false, TYPALIGN_INT));
	else
		nulls[AL_SECRETS] = true;

	smam_audit_row_hash(values, nulls, hash);
	values[AL_ROW_HASH] = PointerGetDatum(smam_hash_bytea(hash));
	direct_insert(x->log, values, nulls);

	if (x->nrows == x->cap)
	{
		x->cap *= 2;
		x->rows = repalloc_huge(x->rows, (Size) x->cap * sizeof(PendingRow));
	}
	memcpy(x->rows[x->nrows].hash, hash, SMAM_HASH_LEN);
	x->rows[x->nrows].subid = GetCurrentSubTransactionId();
	x->nrows++;

	return PointerGetDatum(NULL);
}

/* ---- sealing at commit ---- */

/*
 * The head of the chain: the last seal, else the last checkpoint, else the
 * origin (position 0, 32 zero bytes). Read with SnapshotSelf under the
 * chain's lock: every earlier sealer has committed by then, and this read
 * sees their seals whatever the transaction's isolation level.
 */
static bool
read_last(Relation heap, Relation idx, int hash_att, int64 *position, uint8 *hash)
{
	SysScanDesc scan = systable_beginscan_ordered(heap, idx, SnapshotSelf, 0, NULL);
	HeapTuple tup = systable_getnext_ordered(scan, BackwardScanDirection);
	bool found = HeapTupleIsValid(tup);

	if (found)
	{
		bool n1, n2;
		Datum pos = heap_getattr(tup, 1, RelationGetDescr(heap), &n1);
		Datum h = heap_getattr(tup, hash_att, RelationGetDescr(heap), &n2);

		if (n1 || n2 || !smam_hash_from_bytea(h, hash))
			elog(ERROR, "the head of the audit chain is damaged");
		*position = DatumGetInt64(pos);
	}
	systable_endscan_ordered(scan);
	return found;
}

/* The primary key index among those a DirectInsert has open. */
static Relation
direct_pkey(DirectInsert *d)
{
	Oid pk = RelationGetPrimaryKeyIndex(d->rel);

	for (int i = 0; i < d->rri->ri_NumIndices; i++)
		if (RelationGetRelid(d->rri->ri_IndexRelationDescs[i]) == pk)
			return d->rri->ri_IndexRelationDescs[i];
	elog(ERROR, "table %s has no primary key", RelationGetRelationName(d->rel));
	return NULL;
}

static void
read_head(DirectInsert *seal, Relation cp, Relation cpidx, int64 *position, uint8 *hash)
{
	*position = 0;
	memset(hash, 0, SMAM_HASH_LEN);
	if (read_last(seal->rel, direct_pkey(seal), AS_HASH + 1, position, hash))
		return;
	/* No seal: the log begins at the last checkpoint, if any. */
	read_last(cp, cpidx, 2, position, hash);
}

static void
seal_transaction(AuditXact *x)
{
	uint8 *hashes;
	uint8 txn_hash[SMAM_HASH_LEN];
	uint8 prev[SMAM_HASH_LEN];
	uint8 seal_hash[SMAM_HASH_LEN];
	int64 head;
	TimestampTz sealed_at;
	DirectInsert *d;
	Relation cp, cpidx;
	Datum values[AS_NATTS];
	bool nulls[AS_NATTS];

	/* Everything that needs no shared state is done before the lock. */
	hashes = palloc_extended((Size) x->nrows * SMAM_HASH_LEN, MCXT_ALLOC_HUGE);
	for (int i = 0; i < x->nrows; i++)
		memcpy(hashes + (Size) i * SMAM_HASH_LEN, x->rows[i].hash, SMAM_HASH_LEN);
	smam_audit_txn_hash(x->txn, hashes, x->nrows, txn_hash);
	pfree(hashes);
	d = direct_open(smam_audit_relid("audit_seal"), AS_NATTS);
	cp = table_open(smam_audit_relid("audit_checkpoint"), AccessShareLock);
	cpidx = index_open(RelationGetPrimaryKeyIndex(cp), AccessShareLock);

	/* The critical section: from here to the end of the commit. */
	lock_chain_for_seal();
	read_head(d, cp, cpidx, &head, prev);
	sealed_at = GetCurrentTimestamp();
	smam_audit_seal_hash(head + 1, x->txn, x->xid, x->nrows, txn_hash, sealed_at, prev, seal_hash);
	memset(nulls, false, sizeof(nulls));
	values[AS_POSITION] = Int64GetDatum(head + 1);
	values[AS_TXN] = Int64GetDatum(x->txn);
	values[AS_XID] = Int64GetDatum(x->xid);
	values[AS_ROWS] = Int64GetDatum(x->nrows);
	values[AS_TXN_HASH] = PointerGetDatum(smam_hash_bytea(txn_hash));
	values[AS_SEALED_AT] = TimestampTzGetDatum(sealed_at);
	values[AS_PREV_HASH] = PointerGetDatum(smam_hash_bytea(prev));
	values[AS_HASH] = PointerGetDatum(smam_hash_bytea(seal_hash));
	direct_insert(d, values, nulls);
	direct_close(d);
	index_close(cpidx, AccessShareLock);
	table_close(cp, AccessShareLock);
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	AuditXact *x = xact_state;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (x == NULL)
				return;
			direct_close(x->log);
			x->log = NULL;
			if (x->nrows > 0)
				seal_transaction(x);
			xact_state = NULL;
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (x == NULL)
				return;
			if (x->nrows > 0)
				smam_refuse(
					ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "7.1.1",
					"a transaction that changed smam's tables cannot be prepared",
					"Its audit rows are sealed into the chain at commit, which a prepared "
					"transaction would hold open.",
					"Commit the transaction directly instead of using PREPARE TRANSACTION.");
			direct_close(x->log);
			xact_state = NULL;
			break;
		case XACT_EVENT_COMMIT:

			/*
			 * The commit is visible to every snapshot from here on, so the
			 * next sealer may read the head: let it go now rather than
			 * after the rest of the transaction's cleanup.
			 */
			if (seal_lwlock != NULL)
				LWLockRelease(seal_lwlock);
			seal_lwlock = NULL;
			if (OidIsValid(chain_locked))
				UnlockDatabaseObject(RelationRelationId, chain_locked, 0, ExclusiveLock);
			chain_locked = InvalidOid;
			xact_state = NULL;
			break;
		default:
			/* Abort, or prepared: memory, relations and locks go with it. */
			seal_lwlock = NULL;
			chain_locked = InvalidOid;
			xact_state = NULL;
			break;
	}
}

static void
audit_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid,
					   void *arg)
{
	AuditXact *x = xact_state;

	if (event != SUBXACT_EVENT_ABORT_SUB || x == NULL)
		return;

	/*
	 * The rows written since the savepoint are gone with it; every row
	 * written while it was open has a subtransaction id at least its own,
	 * and they are the last ones written.
	 */
	while (x->nrows > 0 && x->rows[x->nrows - 1].subid >= mySubid)
		x->nrows--;
}

/* The transaction number of this backend's unsealed rows, or -1. */
int64
smam_audit_current_txn(void)
{
	return xact_state ? xact_state->txn : -1;
}

void
smam_audit_init(void)
{
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
	CacheRegisterRelcacheCallback(office_cache_inval, (Datum) 0);
	CacheRegisterRelcacheCallback(table_cache_inval, (Datum) 0);
	CacheRegisterRelcacheCallback(relid_cache_inval, (Datum) 0);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = audit_shmem_request;
		seal_locks_requested = true;
	}
}

/*
 * smam.audit_log_guard() RETURNS trigger: BEFORE UPDATE OR DELETE FOR EACH
 * ROW and BEFORE TRUNCATE on the tables of the log. Refuses every change,
 * whoever asks, the owner included; smam.archive_audit_log() alone deletes
 * a period it has checkpointed.
 */
Datum
smam_audit_log_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_audit_log_guard: not called by trigger manager");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "smam_audit_log_guard: must be fired before the change");
	if (smam_audit_maintenance && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_trigtuple);

	smam_refuse(ERRCODE_INSUFFICIENT_PRIVILEGE, "7.1.1",
				smam_format("the audit log cannot be changed: %s on smam.%s is refused",
							TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)	  ? "UPDATE"
							: TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ? "DELETE"
																		  : "TRUNCATE",
							RelationGetRelationName(trigdata->tg_relation)),
				"The audit log is written once and never updated, deleted or truncated, by any "
				"role, its owner included.",
				"Old periods leave the log only through smam.archive_audit_log(), once exported.");
	pg_unreachable();
}

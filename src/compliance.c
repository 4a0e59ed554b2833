/*
 * compliance.c: smam.compliance_findings_stream(at), the rows behind the
 * view smam.compliance_findings, handed on as the query produces them.
 *
 * A set-returning function called in FROM gives PostgreSQL's function scan
 * its whole result before the first row goes on: at 100,000 accounts that
 * is 400,000 findings (some 90MB) stored, in a temporary file, and read
 * back. The view calls this function in its select list instead, one row
 * per call: the first call opens a cursor over
 * smam.compliance_findings_visible(at), and the rows are fetched from it a
 * batch at a time.
 *
 * compliance_findings_as_of gets from its SECURITY DEFINER and SET clauses
 * the rights of its owner and its settings (search_path, work_mem, jit); a
 * function that returns one row per call cannot carry them (they would be
 * set and reset for every row), so this one reads them from
 * compliance_findings_as_of and takes them around each piece of its own
 * work: planning and opening the cursor, each fetch. The plan is made with
 * those settings; the nodes that size their memory do so while they hold.
 */
#include "smam.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(smam_compliance_findings_stream);

/* Rows fetched from the cursor at a time. */
#define STREAM_BATCH 1000

typedef struct FindingsStream
{
	char portal[NAMEDATALEN]; /* the cursor; "" once closed */
	Oid owner;				  /* compliance_findings_as_of's owner and */
	ArrayType *config;		  /* SET clauses (NULL for none), which it takes */
	TupleDesc desc;			  /* the function's result, blessed */
	MemoryContext batch_cxt;  /* the rows of the current batch */
	HeapTuple *rows;
	uint64 n, next;
	bool last_batch; /* the cursor has no more rows */
} FindingsStream;

typedef struct StreamRights
{
	Oid saved_user;
	int saved_sec;
	int guc_level;
} StreamRights;

/* What compliance_findings_as_of runs with: its owner and its SET clauses. */
static void
read_as_of(FindingsStream *st)
{
	Oid argtypes[1] = {TIMESTAMPTZOID};
	Oid fn = LookupFuncName(list_make2(makeString("smam"), makeString("compliance_findings_as_of")),
							1, argtypes, false);
	HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	Datum config;
	bool isnull;

	if (!HeapTupleIsValid(proc))
		elog(ERROR, "cache lookup failed for function %u", fn);
	st->owner = ((Form_pg_proc) GETSTRUCT(proc))->proowner;
	config = SysCacheGetAttr(PROCOID, proc, Anum_pg_proc_proconfig, &isnull);
	st->config = isnull ? NULL : DatumGetArrayTypePCopy(config);
	ReleaseSysCache(proc);
}

/*
 * The owner's rights and settings, as fmgr_security_definer() gives them;
 * an error on the way is undone by the (sub)transaction's abort, as it is
 * for a SECURITY DEFINER function.
 */
static void
take_rights(FindingsStream *st, StreamRights *r)
{
	GetUserIdAndSecContext(&r->saved_user, &r->saved_sec);
	SetUserIdAndSecContext(st->owner, r->saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	r->guc_level = NewGUCNestLevel();
	if (st->config != NULL)
		ProcessGUCArray(st->config, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION,
						GUC_ACTION_SAVE);
}

static void
give_back_rights(StreamRights *r)
{
	AtEOXact_GUC(true, r->guc_level);
	SetUserIdAndSecContext(r->saved_user, r->saved_sec);
}

static void
open_stream(FindingsStream *st, Datum at, bool at_null)
{
	StreamRights r;
	Oid types[1] = {TIMESTAMPTZOID};
	Datum values[1] = {at};
	char nulls[1] = {at_null ? 'n' : ' '};
	Portal portal;

	take_rights(st, &r);
	SPI_connect();
	portal = SPI_cursor_open_with_args(NULL, "SELECT * FROM smam.compliance_findings_visible($1)",
									   1, types, values, nulls, true, 0);
	if (portal == NULL)
		elog(ERROR, "smam: cannot open the cursor over the compliance findings");
	strlcpy(st->portal, portal->name, NAMEDATALEN);
	SPI_finish();
	give_back_rights(&r);
}

/*
 * The next batch of rows, copied out of SPI's memory; each becomes a datum
 * of the function's (blessed) row type. The query's columns are those of
 * the result, as both are declared alike (checked for each batch).
 */
static void
fetch_batch(FindingsStream *st)
{
	StreamRights r;
	Portal portal;
	MemoryContext old;

	MemoryContextReset(st->batch_cxt);
	st->rows = NULL;
	st->n = st->next = 0;
	take_rights(st, &r);
	SPI_connect();
	portal = SPI_cursor_find(st->portal);
	if (portal == NULL)
		elog(ERROR, "smam: the cursor over the compliance findings is gone");
	SPI_cursor_fetch(portal, true, STREAM_BATCH);
	if (SPI_tuptable->tupdesc->natts != st->desc->natts)
		elog(ERROR, "smam: the compliance findings have %d columns, not %d",
			 SPI_tuptable->tupdesc->natts, st->desc->natts);
	for (int i = 0; i < st->desc->natts; i++)
		if (TupleDescAttr(SPI_tuptable->tupdesc, i)->atttypid !=
			TupleDescAttr(st->desc, i)->atttypid)
			elog(ERROR, "smam: column %d of the compliance findings has the wrong type", i + 1);
	old = MemoryContextSwitchTo(st->batch_cxt);
	st->rows = palloc(sizeof(HeapTuple) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple row = heap_copytuple(SPI_tuptable->vals[i]);

		HeapTupleHeaderSetTypeId(row->t_data, st->desc->tdtypeid);
		HeapTupleHeaderSetTypMod(row->t_data, st->desc->tdtypmod);
		st->rows[i] = row;
	}
	MemoryContextSwitchTo(old);
	st->n = SPI_processed;
	st->last_batch = SPI_processed < STREAM_BATCH;
	SPI_freetuptable(SPI_tuptable);
	SPI_finish();
	give_back_rights(&r);
}

/* Close the cursor: at the end, or when the caller stops early or rescans. */
static void
close_stream(Datum arg)
{
	FindingsStream *st = (FindingsStream *) DatumGetPointer(arg);

	if (st->portal[0] != '\0')
	{
		Portal portal = SPI_cursor_find(st->portal);

		st->portal[0] = '\0';
		if (portal != NULL)
			SPI_cursor_close(portal);
	}
}

/* smam.compliance_findings_stream(at timestamptz) RETURNS TABLE (...) */
Datum
smam_compliance_findings_stream(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	FindingsStream *st;
	ReturnSetInfo *rsi = (ReturnSetInfo *) fcinfo->resultinfo;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc desc;

		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "smam: the compliance findings stream must return rows");
		st = palloc0(sizeof(FindingsStream));
		st->desc = BlessTupleDesc(desc);
		read_as_of(st);
		st->batch_cxt = AllocSetContextCreate(funcctx->multi_call_memory_ctx, "smam findings batch",
											  ALLOCSET_DEFAULT_SIZES);
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(old);
		open_stream(st, PG_GETARG_DATUM(0), PG_ARGISNULL(0));
		/* Runs before SRF_FIRSTCALL_INIT's own callback frees st. */
		RegisterExprContextCallback(rsi->econtext, close_stream, PointerGetDatum(st));
	}
	funcctx = SRF_PERCALL_SETUP();
	st = (FindingsStream *) funcctx->user_fctx;
	if (st->next == st->n && !st->last_batch)
		fetch_batch(st);
	if (st->next < st->n)
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(st->rows[st->next++]));
	close_stream(PointerGetDatum(st));
	UnregisterExprContextCallback(rsi->econtext, close_stream, PointerGetDatum(st));
	SRF_RETURN_DONE(funcctx);
}

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
 * The rights are taken as src/privileged.c takes them (search_path and the
 * settings that change what SQL means pinned), then the function's SET
 * clauses on top.
 *
 * The cursor is reached only through the Portal this function opened,
 * never looked up again by its name: a name is something the caller's own
 * SQL can reach (CLOSE it, DECLARE another cursor under it), and whatever
 * the name led to would be fetched with the owner's rights. The portal has
 * an unguessable name and is hidden from pg_cursors. Whatever drops it
 * (CLOSE ALL in the caller's query, the abort of the subtransaction it was
 * opened in), a callback on the portal's memory tells the stream, which
 * then stops with an error (see StreamCursor). It is not pinned: a pinned
 * portal left open by a cursor the caller never finished would make COMMIT
 * fail.
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
#include "tcop/pquery.h"
#include "utils/portal.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(smam_compliance_findings_stream);

/* Rows fetched from the cursor at a time. */
#define STREAM_BATCH 1000

/*
 * The stream's hold on its portal. The portal and the stream each keep one
 * reference, dropped by a callback when their memory is deleted, so this
 * lives (in the session's memory) until both are gone, whichever goes
 * first: the portal at the end of the stream, by CLOSE ALL or by a
 * rollback to a savepoint taken before it was opened; the stream when its query ends,
 * normally or by an error.
 */
typedef struct StreamCursor
{
	Portal portal; /* NULL once the portal has been dropped */
	int refs;
	MemoryContextCallback portal_gone;
	MemoryContextCallback stream_gone;
} StreamCursor;

typedef struct FindingsStream
{
	StreamCursor *cursor;	 /* NULL once closed */
	Oid owner;				 /* compliance_findings_as_of's owner and */
	ArrayType *config;		 /* SET clauses (NULL for none), which it takes */
	TupleDesc desc;			 /* the function's result, blessed */
	MemoryContext batch_cxt; /* the rows of the current batch */
	HeapTuple *rows;
	uint64 n, next;
	bool last_batch; /* the cursor has no more rows */
	bool whole;		 /* read every row at once (a cursor WITH HOLD reads the stream) */
} FindingsStream;

typedef struct StreamRights
{
	SmamPrivilege priv;
} StreamRights;

static void
cursor_release(StreamCursor *c)
{
	if (--c->refs == 0)
		pfree(c);
}

static void
cursor_portal_gone(void *arg)
{
	StreamCursor *c = (StreamCursor *) arg;

	c->portal = NULL;
	cursor_release(c);
}

static void
cursor_stream_gone(void *arg)
{
	cursor_release((StreamCursor *) arg);
}

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
	smam_privilege_enter(&r->priv, true);
	if (r->priv.owner != st->owner)
		elog(ERROR,
			 "smam: smam.compliance_findings_as_of is not owned by the owner of smam's tables");
	if (st->config != NULL)
		ProcessGUCArray(st->config, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION,
						GUC_ACTION_SAVE);
}

static void
give_back_rights(StreamRights *r)
{
	smam_privilege_leave(&r->priv);
}

static void
open_stream(FindingsStream *st, Datum at, bool at_null, MemoryContext stream_cxt)
{
	StreamRights r;
	Oid types[1] = {TIMESTAMPTZOID};
	Datum values[1] = {at};
	char nulls[1] = {at_null ? 'n' : ' '};
	uint8 nonce[16];
	char name[NAMEDATALEN];
	Portal portal;
	StreamCursor *c;

	if (!pg_strong_random(nonce, sizeof(nonce)))
		elog(ERROR, "smam: could not generate a cursor name");
	strlcpy(name, "smam findings ", sizeof(name));
	for (int i = 0; i < lengthof(nonce); i++)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "%02x", nonce[i]);

	take_rights(st, &r);
	SPI_connect();
	portal = SPI_cursor_open_with_args(name, "SELECT * FROM smam.compliance_findings_visible($1)",
									   1, types, values, nulls, true, 0);
	if (portal == NULL)
		elog(ERROR, "smam: cannot open the cursor over the compliance findings");
	portal->visible = false;

	c = MemoryContextAllocZero(smam_session_context(), sizeof(StreamCursor));
	c->portal = portal;
	c->refs = 2;
	c->portal_gone.func = cursor_portal_gone;
	c->portal_gone.arg = c;
	MemoryContextRegisterResetCallback(portal->portalContext, &c->portal_gone);
	c->stream_gone.func = cursor_stream_gone;
	c->stream_gone.arg = c;
	MemoryContextRegisterResetCallback(stream_cxt, &c->stream_gone);
	st->cursor = c;
	SPI_finish();
	give_back_rights(&r);
}

/* The stream's own portal, or an error when a rollback has dropped it. */
static Portal
stream_portal(FindingsStream *st)
{
	if (st->cursor == NULL || st->cursor->portal == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_CURSOR_STATE),
				 errmsg("the cursor over the compliance findings was closed"),
				 errdetail("CLOSE ALL, or a rollback to a savepoint set before the query began "
						   "reading smam.compliance_findings, closed the cursor it reads from."),
				 errhint("Run the query again.")));
	return st->cursor->portal;
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
	portal = stream_portal(st);
	take_rights(st, &r);
	SPI_connect();
	SPI_cursor_fetch(portal, true, st->whole ? FETCH_ALL : STREAM_BATCH);
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
	st->last_batch = st->whole || SPI_processed < STREAM_BATCH;
	SPI_freetuptable(SPI_tuptable);
	SPI_finish();
	give_back_rights(&r);
}

/* Close the cursor: at the end, or when the caller stops early or rescans. */
static void
close_stream(Datum arg)
{
	FindingsStream *st = (FindingsStream *) DatumGetPointer(arg);
	StreamCursor *c = st->cursor;

	st->cursor = NULL;
	if (c != NULL && c->portal != NULL)
	{
		Portal portal = c->portal;

		SPI_cursor_close(portal); /* its memory's callback clears c->portal */
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
		/*
		 * A cursor WITH HOLD over the view is read to its end at COMMIT,
		 * after PostgreSQL has closed the transaction's other portals, this
		 * stream's among them: such a reader gets every row at the first
		 * fetch, and the stream's portal is closed before the COMMIT.
		 */
		st->whole = ActivePortal != NULL && (ActivePortal->cursorOptions & CURSOR_OPT_HOLD) != 0;
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(old);
		open_stream(st, PG_GETARG_DATUM(0), PG_ARGISNULL(0), funcctx->multi_call_memory_ctx);
		/* Runs before SRF_FIRSTCALL_INIT's own callback frees st. */
		RegisterExprContextCallback(rsi->econtext, close_stream, PointerGetDatum(st));
	}
	funcctx = SRF_PERCALL_SETUP();
	st = (FindingsStream *) funcctx->user_fctx;
	if (st->next == st->n && !st->last_batch)
	{
		fetch_batch(st);
		if (st->whole)
			close_stream(PointerGetDatum(st));
	}
	if (st->next < st->n)
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(st->rows[st->next++]));
	close_stream(PointerGetDatum(st));
	UnregisterExprContextCallback(rsi->econtext, close_stream, PointerGetDatum(st));
	SRF_RETURN_DONE(funcctx);
}

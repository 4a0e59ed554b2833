/*
 * audit_seal.c: the audit log's side of the transaction. The rows the
 * trigger (audit.c) writes go straight into smam.audit_log and its indexes
 * with the executor's own routines, without SPI: no query is planned per
 * row, and no search_path is consulted.
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

#include "access/genam.h"
#include "access/heapam.h"
#include "access/hio.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_am_d.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "replication/syncrep.h"
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

/* Set while smam.archive_audit_log() removes an exported period. */
bool smam_audit_maintenance = false;

PG_FUNCTION_INFO_V1(smam_audit_head_forget);

static AuditXact *xact_state = NULL;
static DirectInsert *seal_open = NULL; /* smam.audit_seal, written at PRE_COMMIT */

/*
 * smam.flush_after_chain_lock: a sealing transaction commits asynchronously
 * under the chain's lock and flushes (and waits for synchronous standbys, as
 * synchronous_commit asks) once the lock is released, so that the flushes of
 * sealers are grouped instead of serialized. The client's COMMIT still returns
 * only once durable; other sessions may see the commit up to one flush
 * earlier. synchronous_commit as it was, while it is lowered; -1 otherwise.
 */
static bool flush_after_chain_lock = false;
static int lowered_sync_commit = -1;

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

/*
 * The head of the chain, kept in shared memory beside each of the locks
 * where smam is preloaded, so that a sealer need not look it up in
 * smam.audit_seal inside its critical section. A slot is written only by
 * a sealer holding its lock, once its commit is visible; it names the
 * database and the smam.audit_seal it describes. It is forgotten (and the
 * next sealer reads the table) when a transaction that took the lock to
 * seal aborts, and at the commit of any transaction that wrote to
 * smam.audit_seal or smam.audit_checkpoint other than by sealing (a
 * restore's COPY, archiving: the statement trigger smam.audit_head_forget).
 */
typedef struct ChainHead
{
	Oid dbid;
	Oid relid; /* that database's smam.audit_seal */
	bool valid;
	int64 position;
	uint8 hash[SMAM_HASH_LEN];
} ChainHead;

static ChainHead *chain_heads = NULL; /* SEAL_LOCKS of them */
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This transaction's part in it. */
static struct
{
	bool sealed; /* holds the lock with a seal written: publish at commit */
	bool forget; /* wrote to the chain's tables otherwise: forget at commit */
	Oid relid;
	int64 position;
	uint8 hash[SMAM_HASH_LEN];
} my_head;

static void
audit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestNamedLWLockTranche("smam_audit_chain", SEAL_LOCKS);
	RequestAddinShmemSpace(MAXALIGN(sizeof(ChainHead) * SEAL_LOCKS));
}

static void
audit_shmem_startup(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	chain_heads = ShmemInitStruct("smam audit chain heads", sizeof(ChainHead) * SEAL_LOCKS, &found);
	if (!found)
		memset(chain_heads, 0, sizeof(ChainHead) * SEAL_LOCKS);
	LWLockRelease(AddinShmemInitLock);
}

/* This database's lock of the chain (where smam is preloaded). */
static LWLock *
chain_lwlock(void)
{
	return &GetNamedLWLockTranche("smam_audit_chain")[MyDatabaseId % SEAL_LOCKS].lock;
}

static ChainHead *
head_slot(void)
{
	return chain_heads ? &chain_heads[MyDatabaseId % SEAL_LOCKS] : NULL;
}

/* The cached head for this database's smam.audit_seal, or NULL; under the lock. */
static ChainHead *
cached_head(Oid seal_relid)
{
	ChainHead *h = head_slot();

	if (h != NULL && h->valid && h->dbid == MyDatabaseId && h->relid == seal_relid)
		return h;
	return NULL;
}

/* Forget this database's cached head: at abort, where the lock is gone. */
static void
forget_head_now(void)
{
	ChainHead *h = head_slot();
	LWLock *lock;

	if (h == NULL)
		return;
	lock = chain_lwlock();
	LWLockAcquire(lock, LW_EXCLUSIVE);
	h->valid = false;
	LWLockRelease(lock);
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
		seal_lwlock = chain_lwlock();
		LWLockAcquire(seal_lwlock, LW_EXCLUSIVE);
	}
	else
		smam_audit_lock_chain();
}

DirectInsert *
smam_direct_open(Oid relid, int expected_natts)
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
		if (d->rel->rd_rel->relam != HEAP_TABLE_AM_OID)
			elog(ERROR, "table %s is not stored with the heap access method",
				 RelationGetRelationName(d->rel));
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
		for (int i = 0; i < d->rri->ri_NumIndices; i++)
			if (d->rri->ri_IndexRelationDescs[i]->rd_rel->relam == BRIN_AM_OID)
				d->has_brin = true;
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

void
smam_direct_insert(DirectInsert *d, const Datum *values, const bool *nulls)
{
	TupleTableSlot *slot = d->slot;
	int natts = slot->tts_tupleDescriptor->natts;
	HeapTuple tuple;

	/*
	 * The row is formed once and inserted as it is: a virtual slot passed to
	 * the table's insert would be copied twice (materialized, then formed).
	 * The slot keeps the values for the indexes.
	 */
	ExecClearTuple(slot);
	memcpy(slot->tts_values, values, natts * sizeof(Datum));
	memcpy(slot->tts_isnull, nulls, natts * sizeof(bool));
	ExecStoreVirtualTuple(slot);
	tuple = heap_form_tuple(slot->tts_tupleDescriptor, slot->tts_values, slot->tts_isnull);
	heap_insert(d->rel, tuple, GetCurrentCommandId(true), 0, d->bistate);
	if (d->bistate != NULL)
		ReleaseBulkInsertStatePin(d->bistate); /* no pin outlives the statement */
	slot->tts_tid = tuple->t_self;
	heap_freetuple(tuple);
	if (d->rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(d->rri, slot, d->estate, false, false, NULL, NIL));
	if (d->has_brin)
		smam_audit_summarize_behind(d->rri, &slot->tts_tid);
	ExecClearTuple(slot);
	ResetPerTupleExprContext(d->estate);
}

void
smam_direct_close(DirectInsert *d)
{
	ResourceOwner oldowner = CurrentResourceOwner;

	CurrentResourceOwner = TopTransactionResourceOwner;
	if (d->bistate != NULL)
		FreeBulkInsertState(d->bistate);
	ExecDropSingleTupleTableSlot(d->slot);
	ExecCloseIndices(d->rri);
	table_close(d->rel, NoLock);
	FreeExecutorState(d->estate);
	CurrentResourceOwner = oldowner;
}

AuditXact *
smam_audit_xact(void)
{
	AuditXact *x;

	if (xact_state != NULL)
		return xact_state;
	x = MemoryContextAllocZero(TopTransactionContext, sizeof(AuditXact));
	x->txn = nextval_internal(smam_audit_relid("audit_txn_seq"), false);
	x->xid = (int64) U64FromFullTransactionId(GetTopFullTransactionId());
	smam_audit_txn_hash_begin(&x->txn_hash, x->txn);
	x->log = smam_direct_open(smam_audit_relid("audit_log"), AL_NATTS);
	xact_state = x;
	return x;
}

/* Rows after which a transaction writes the log through a ring of buffers. */
#define AUDIT_BULK_ROWS 1000

/*
 * Add the hash of a row just written to the transaction's hash. Nothing
 * grows with the rows: the first row a subtransaction writes saves the
 * hash as it stood, which a rollback to the savepoint brings back (the rows
 * written since are the last ones, and gone with it).
 */
void
smam_audit_remember(AuditXact *x, const uint8 *hash)
{
	SubTransactionId cur = GetCurrentSubTransactionId();

	if (cur != TopSubTransactionId && (x->nsaved == 0 || x->saved[x->nsaved - 1].subid != cur))
	{
		if (x->nsaved == x->saved_cap)
		{
			x->saved_cap = Max(8, x->saved_cap * 2);
			x->saved = x->saved == NULL ? MemoryContextAlloc(TopTransactionContext,
															 x->saved_cap * sizeof(SavedTxnHash))
										: repalloc(x->saved, x->saved_cap * sizeof(SavedTxnHash));
		}
		x->saved[x->nsaved].subid = cur;
		x->saved[x->nsaved].nrows = x->nrows;
		x->saved[x->nsaved].txn_hash = x->txn_hash;
		x->nsaved++;
	}
	smam_hash_raw(&x->txn_hash, hash, SMAM_HASH_LEN);
	x->nrows++;

	/*
	 * A transaction that has written many rows goes on through a ring of
	 * buffers, as COPY does: the log's new pages, written once and seldom
	 * read soon, then take 16 MB of shared buffers, not the pages of the
	 * tables being changed.
	 */
	if (x->nrows == AUDIT_BULK_ROWS && x->log != NULL && x->log->bistate == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		x->log->bistate = GetBulkInsertState();
		MemoryContextSwitchTo(old);
	}
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

/*
 * Make sure the page this backend inserts into next has room for a row of
 * len bytes, extending the table now if it has not: extending a file is a
 * system call that may take tens of microseconds, and the seal is inserted
 * while the chain's lock is held. Another session could fill the page in
 * between; heap_insert() then extends it itself, as it always did.
 */
static void
make_room(DirectInsert *d, Size len)
{
	Buffer vmbuffer = InvalidBuffer;
	Buffer buf = RelationGetBufferForTuple(d->rel, len, InvalidBuffer, 0, NULL, &vmbuffer, NULL);

	UnlockReleaseBuffer(buf);
	if (BufferIsValid(vmbuffer))
		ReleaseBuffer(vmbuffer);
}

static void
seal_transaction(AuditXact *x)
{
	uint8 txn_hash[SMAM_HASH_LEN];
	uint8 prev[SMAM_HASH_LEN];
	uint8 seal_hash[SMAM_HASH_LEN];
	int64 head;
	TimestampTz sealed_at;
	DirectInsert *d;
	ChainHead *cached;
	Datum values[AS_NATTS];
	bool nulls[AS_NATTS];

	/* Everything that needs no shared state is done before the lock. */
	smam_hash_end(&x->txn_hash, txn_hash);
	d = smam_direct_open(smam_audit_relid("audit_seal"), AS_NATTS);

	/*
	 * The seal as far as it is known; what the head decides (position, time,
	 * hashes) stands in with values of the same sizes, to size the row.
	 */
	memset(nulls, false, sizeof(nulls));
	memset(prev, 0, SMAM_HASH_LEN);
	values[AS_POSITION] = Int64GetDatum(0);
	values[AS_TXN] = Int64GetDatum(x->txn);
	values[AS_XID] = Int64GetDatum(x->xid);
	values[AS_ROWS] = Int64GetDatum(x->nrows);
	values[AS_TXN_HASH] = PointerGetDatum(smam_hash_bytea(txn_hash));
	values[AS_SEALED_AT] = TimestampTzGetDatum(0);
	values[AS_PREV_HASH] = values[AS_HASH] = PointerGetDatum(smam_hash_bytea(prev));
	make_room(d, heap_form_tuple(RelationGetDescr(d->rel), values, nulls)->t_len);

	/* The critical section: from here to the end of the commit. */
	lock_chain_for_seal();
	cached = my_head.forget ? NULL : cached_head(RelationGetRelid(d->rel));
	if (cached != NULL)
	{
		head = cached->position;
		memcpy(prev, cached->hash, SMAM_HASH_LEN);
	}
	else
	{
		Relation cp, cpidx;

		/*
		 * Read the head from the tables. Their locks are taken before the
		 * chain's (no LWLock is held while waiting for a heavyweight lock).
		 */
		if (seal_lwlock != NULL)
			LWLockRelease(seal_lwlock);
		cp = table_open(smam_audit_relid("audit_checkpoint"), AccessShareLock);
		cpidx = index_open(RelationGetPrimaryKeyIndex(cp), AccessShareLock);
		if (seal_lwlock != NULL)
			LWLockAcquire(seal_lwlock, LW_EXCLUSIVE);
		read_head(d, cp, cpidx, &head, prev);
		index_close(cpidx, AccessShareLock);
		table_close(cp, AccessShareLock);
	}
	sealed_at = GetCurrentTimestamp();
	smam_audit_seal_hash(head + 1, x->txn, x->xid, x->nrows, txn_hash, sealed_at, prev, seal_hash);
	values[AS_POSITION] = Int64GetDatum(head + 1);
	values[AS_SEALED_AT] = TimestampTzGetDatum(sealed_at);
	values[AS_PREV_HASH] = PointerGetDatum(smam_hash_bytea(prev));
	values[AS_HASH] = PointerGetDatum(smam_hash_bytea(seal_hash));
	smam_direct_insert(d, values, nulls);
	seal_open = d; /* closed after the lock is released */
	my_head.sealed = true;
	my_head.relid = RelationGetRelid(d->rel);
	my_head.position = head + 1;
	memcpy(my_head.hash, seal_hash, SMAM_HASH_LEN);
	if (flush_after_chain_lock && synchronous_commit > SYNCHRONOUS_COMMIT_OFF)
	{
		lowered_sync_commit = synchronous_commit;
		synchronous_commit = SYNCHRONOUS_COMMIT_OFF;
	}
}

/* synchronous_commit as the session had it, if sealing lowered it. */
static bool
restore_sync_commit(void)
{
	if (lowered_sync_commit < 0)
		return false;
	synchronous_commit = lowered_sync_commit;
	lowered_sync_commit = -1;
	return true;
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	AuditXact *x = xact_state;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			/* Wrote to the chain's tables: hold the lock until forgotten. */
			if (my_head.forget && x == NULL && chain_heads != NULL)
				lock_chain_for_seal();
			if (x == NULL)
				return;
			smam_direct_close(x->log);
			x->log = NULL;
			if (x->nrows > 0)
				seal_transaction(x);
			xact_state = NULL;
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (my_head.forget)
				forget_head_now();
			my_head.forget = false;
			if (x == NULL)
				return;
			if (x->nrows > 0)
				smam_refuse(
					ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "7.1.1",
					"a transaction that changed smam's tables cannot be prepared",
					"Its audit rows are sealed into the chain at commit, which a prepared "
					"transaction would hold open.",
					"Commit the transaction directly instead of using PREPARE TRANSACTION.");
			smam_direct_close(x->log);
			xact_state = NULL;
			break;
		case XACT_EVENT_COMMIT:

			/*
			 * The commit is visible to every snapshot from here on, so the
			 * next sealer may read the head: let it go now rather than
			 * after the rest of the transaction's cleanup.
			 */
			if (seal_lwlock != NULL)
			{
				ChainHead *h = head_slot();

				if (my_head.forget)
					h->valid = false;
				else if (my_head.sealed)
				{
					h->dbid = MyDatabaseId;
					h->relid = my_head.relid;
					h->position = my_head.position;
					memcpy(h->hash, my_head.hash, SMAM_HASH_LEN);
					h->valid = true;
				}
				LWLockRelease(seal_lwlock);
			}
			seal_lwlock = NULL;
			my_head.sealed = my_head.forget = false;
			if (seal_open != NULL)
				smam_direct_close(seal_open);
			seal_open = NULL;
			if (OidIsValid(chain_locked))
				UnlockDatabaseObject(RelationRelationId, chain_locked, 0, ExclusiveLock);
			chain_locked = InvalidOid;
			xact_state = NULL;
			/* The commit's flush and standbys, as RecordTransactionCommit would. */
			if (restore_sync_commit())
			{
				XLogFlush(XactLastCommitEnd);
				SyncRepWaitForLSN(XactLastCommitEnd, true);
			}
			break;
		default:
			/* Abort, or prepared: memory, relations and locks go with it. */
			restore_sync_commit();
			if (event == XACT_EVENT_ABORT && (my_head.sealed || seal_lwlock != NULL))
				forget_head_now(); /* the failure may have been a stale head */
			my_head.sealed = my_head.forget = false;
			seal_open = NULL;
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

	/*
	 * An error inside heap_insert() can leave the ring's current buffer set;
	 * its pin goes with the subtransaction's resource owner.
	 */
	if (event == SUBXACT_EVENT_ABORT_SUB && x != NULL && x->log != NULL && x->log->bistate != NULL)
		x->log->bistate->current_buf = InvalidBuffer;

	if (x == NULL || x->nsaved == 0 || x->saved[x->nsaved - 1].subid < mySubid)
		return; /* it wrote no rows */

	/*
	 * The entries of its children were settled when they ended; were one
	 * left, the earliest entry from the subtransaction on is the one that
	 * counts.
	 */
	while (x->nsaved > 1 && x->saved[x->nsaved - 2].subid >= mySubid)
		x->nsaved--;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/* Its rows are gone: back to the hash as it stood before the first. */
		x->nrows = x->saved[x->nsaved - 1].nrows;
		x->txn_hash = x->saved[x->nsaved - 1].txn_hash;
		x->nsaved--;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		/*
		 * Its rows are now its parent's: the entry becomes the parent's,
		 * unless the parent wrote rows before it (an earlier entry) or is
		 * the transaction itself.
		 */
		if (parentSubid == TopSubTransactionId ||
			(x->nsaved > 1 && x->saved[x->nsaved - 2].subid == parentSubid))
			x->nsaved--;
		else
			x->saved[x->nsaved - 1].subid = parentSubid;
	}
}

/* The transaction number of this backend's unsealed rows, or -1. */
int64
smam_audit_current_txn(void)
{
	return xact_state ? xact_state->txn : -1;
}

/* From smam's relcache callback (smam.c). */
void
smam_audit_relcache_inval(Oid relid)
{
	relid_cache_inval((Datum) 0, relid);
	smam_audit_context_relcache_inval(relid);
}

void
smam_audit_init(void)
{
	DefineCustomBoolVariable(
		"smam.flush_after_chain_lock",
		"Flushes a commit that seals the audit chain after releasing the chain's lock.",
		"The commit is acknowledged only once durable, but other sessions may see it up to one "
		"flush earlier. Off: the lock is held through the flush, as PostgreSQL orders a "
		"synchronous commit.",
		&flush_after_chain_lock, false, PGC_USERSET, 0, NULL, NULL, NULL);
	smam_audit_verify_init();
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = audit_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = audit_shmem_startup;
		seal_locks_requested = true;
	}
}

/*
 * smam.audit_head_forget() RETURNS trigger: AFTER INSERT OR DELETE FOR EACH
 * STATEMENT on smam.audit_seal and smam.audit_checkpoint. Sealing writes
 * them without firing triggers; anything else that does (a restore's COPY,
 * archiving) makes the chain's cached head forgotten when it commits.
 */
Datum
smam_audit_head_forget(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smam_audit_head_forget: not called by trigger manager");
	my_head.forget = true;
	return PointerGetDatum(NULL);
}

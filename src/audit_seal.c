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
 * trigger has run, the transaction records its transaction hash, and it is
 * chained, as SQL Server's ledger closes blocks, by whoever seals:
 *
 * - a transaction that finds the chain's lock free (tried, never waited
 *   for) chains the committed transactions waiting in smam.audit_commit and
 *   itself, and holds the lock until its commit is visible;
 * - otherwise, and always where the worker seals the database, it inserts
 *   its row of smam.audit_commit and commits without any lock;
 * - the worker (where smam is preloaded), smam.audit_digest() and
 *   smam.verify_audit_log() chain what waits, waiting for the lock.
 *
 * No writer waits for another writer's commit, flush or standby. The
 * chain's order is the order of the seals' positions: committed
 * transactions in the order they were chained. docs/audit.md describes the
 * design and what it guarantees.
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
#include "storage/bufmgr.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/spin.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

/* Set while smam.archive_audit_log() removes an exported period. */
bool smam_audit_maintenance = false;

PG_FUNCTION_INFO_V1(smam_audit_head_forget);
PG_FUNCTION_INFO_V1(smam_seal_audit_log);

static AuditXact *xact_state = NULL;
static DirectInsert *seal_open = NULL; /* smam.audit_seal, written at PRE_COMMIT */

/*
 * smam.audit_seal_interval: how often the worker chains what waits (ms);
 * where it does, writers leave it to the worker.
 */
int smam_audit_seal_interval = 1000;

/* Transactions chained at most at once (the lock is held meanwhile). */
#define SEAL_BATCH 1000

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
 * The chain's lock: a heavyweight object lock on smam.audit_seal
 * (pg_locks.locktype = 'object'), with which readers, VACUUM and autovacuum
 * never conflict. A writer only tries it, at its commit; the worker, the
 * digest and the verifier wait for it, in the lock manager's queue (a
 * cancel reaches them, and the deadlock detector sees them). It is taken
 * for the top-level transaction and held until its commit is visible, so
 * that the next sealer reads a committed head; a savepoint rolled back
 * keeps it (only the seals written since go, and the head is read again).
 */
#define SEAL_SLOTS 16
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static Oid chain_locked = InvalidOid; /* the lock held, on this smam.audit_seal */

/*
 * The head of the chain, kept in shared memory where smam is preloaded (one
 * slot per database, SEAL_SLOTS of them, chosen by database), so that a
 * sealer need not look it up in smam.audit_seal. A slot is written only by
 * a sealer holding the chain's lock, once its commit is visible; it names
 * the database and the smam.audit_seal it describes. It is forgotten (and
 * the next sealer reads the table) when a transaction that sealed aborts,
 * and at the commit of any transaction that wrote to smam.audit_seal or
 * smam.audit_checkpoint other than by sealing (a restore's COPY, archiving:
 * the statement trigger smam.audit_head_forget). Its fields are read and
 * written under its spinlock.
 */
typedef struct ChainHead
{
	slock_t mutex;
	Oid dbid;
	Oid relid; /* that database's smam.audit_seal */
	bool valid;
	int64 position;
	uint8 hash[SMAM_HASH_LEN];
	/* The worker that seals a database, and until when it has promised to. */
	Oid worker_dbid;
	TimestampTz worker_until;

	/*
	 * Commit records that may wait, for writers that chain at their commit:
	 * raised before a record becomes visible, lowered by what is chained;
	 * while 0 they need not look. Starts at 1 (look once). The worker, the
	 * digest and the verifier always look.
	 */
	int64 maybe_waiting;
} ChainHead;

static ChainHead *chain_heads = NULL; /* SEAL_SLOTS of them */
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* This transaction's part in it. */
static struct
{
	bool sealed;			/* holds the lock with a seal written: publish at commit */
	bool forget;			/* wrote to the chain's tables otherwise: forget at commit */
	SubTransactionId subid; /* the subtransaction that wrote the last seal */
	Oid relid;
	int64 position;
	uint8 hash[SMAM_HASH_LEN];
} my_head;

static void
audit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ChainHead) * SEAL_SLOTS));
}

static void
audit_shmem_startup(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	chain_heads = ShmemInitStruct("smam audit chain heads", sizeof(ChainHead) * SEAL_SLOTS, &found);
	if (!found)
	{
		memset(chain_heads, 0, sizeof(ChainHead) * SEAL_SLOTS);
		for (int i = 0; i < SEAL_SLOTS; i++)
		{
			SpinLockInit(&chain_heads[i].mutex);
			chain_heads[i].maybe_waiting = 1;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

static ChainHead *
head_slot(void)
{
	return chain_heads ? &chain_heads[MyDatabaseId % SEAL_SLOTS] : NULL;
}

/* The cached head of this database's smam.audit_seal, copied; false if none. */
static bool
cached_head(Oid seal_relid, int64 *position, uint8 *hash)
{
	ChainHead *h = head_slot();
	bool found = false;

	if (h == NULL)
		return false;
	SpinLockAcquire(&h->mutex);
	if (h->valid && h->dbid == MyDatabaseId && h->relid == seal_relid)
	{
		*position = h->position;
		memcpy(hash, h->hash, SMAM_HASH_LEN);
		found = true;
	}
	SpinLockRelease(&h->mutex);
	return found;
}

static void
publish_head(Oid relid, int64 position, const uint8 *hash)
{
	ChainHead *h = head_slot();

	if (h == NULL)
		return;
	SpinLockAcquire(&h->mutex);
	h->dbid = MyDatabaseId;
	h->relid = relid;
	h->position = position;
	memcpy(h->hash, hash, SMAM_HASH_LEN);
	h->valid = true;
	SpinLockRelease(&h->mutex);
}

/* Raise or lower the count of commit records that may wait. */
static void
count_waiting(int64 delta)
{
	ChainHead *h = head_slot();

	if (h == NULL)
		return;
	SpinLockAcquire(&h->mutex);
	h->maybe_waiting = Max(h->maybe_waiting + delta, 0);
	SpinLockRelease(&h->mutex);
}

/* May commit records wait? (Always, without the slots.) */
static bool
may_be_waiting(void)
{
	ChainHead *h = head_slot();
	bool maybe;

	if (h == NULL)
		return true;
	SpinLockAcquire(&h->mutex);
	maybe = h->maybe_waiting > 0;
	SpinLockRelease(&h->mutex);
	return maybe;
}

/* Forget this database's cached head (the next sealer reads the table). */
static void
forget_head_now(void)
{
	ChainHead *h = head_slot();

	if (h == NULL)
		return;
	SpinLockAcquire(&h->mutex);
	if (h->dbid == MyDatabaseId)
		h->valid = false;
	SpinLockRelease(&h->mutex);
}

/*
 * Take the chain's lock for the top-level transaction, waiting for it
 * (wait) or only trying; true when held. Archiving waits for it too.
 */
static bool
lock_chain(bool wait)
{
	Oid relid;
	ResourceOwner oldowner = CurrentResourceOwner;
	bool got = true;

	if (OidIsValid(chain_locked))
		return true;
	relid = smam_audit_relid("audit_seal");
	CurrentResourceOwner = TopTransactionResourceOwner;
	PG_TRY();
	{
		if (wait)
			LockDatabaseObject(RelationRelationId, relid, 0, ExclusiveLock);
		else
			got = ConditionalLockDatabaseObject(RelationRelationId, relid, 0, ExclusiveLock);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	if (got)
		chain_locked = relid;
	return got;
}

void
smam_audit_lock_chain(void)
{
	(void) lock_chain(true);
}

/* Does this transaction hold the chain's lock? */
static bool
holding_chain(void)
{
	return OidIsValid(chain_locked);
}

/* Does the worker chain this database's transactions, as it promised lately? */
static bool
worker_seals_here(void)
{
	ChainHead *h = head_slot();
	TimestampTz now;
	bool promised;

	if (h == NULL)
		return false;
	now = GetCurrentTimestamp(); /* not under the spinlock: a system call */
	SpinLockAcquire(&h->mutex);
	promised = h->worker_dbid == MyDatabaseId && h->worker_until > now;
	SpinLockRelease(&h->mutex);
	return promised;
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

/* ---- sealing ---- */

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

/* A committed transaction to chain. */
typedef struct ToSeal
{
	ItemPointerData tid; /* its row of smam.audit_commit; invalid for this transaction */
	int64 txn;
	int64 xid;
	int64 rows;
	uint8 txn_hash[SMAM_HASH_LEN];
	TimestampTz committed_at;
} ToSeal;

/* What sealing opens, before it takes the chain's lock. */
typedef struct SealRels
{
	DirectInsert *seal;
	Relation commit;
	Relation commit_idx;
	Relation cp;
	Relation cpidx;
} SealRels;

/*
 * The chain's tables, opened once the chain's lock is held (a heavyweight
 * lock: opening a table under it waits, if it must, where the deadlock
 * detector sees it). The commit records and the checkpoints only when
 * needed.
 */
static void
open_seal_rels(SealRels *r, bool waiting)
{
	memset(r, 0, sizeof(SealRels));
	r->seal =
		seal_open != NULL ? seal_open : smam_direct_open(smam_audit_relid("audit_seal"), AS_NATTS);
	if (waiting)
	{
		r->commit = table_open(smam_audit_relid("audit_commit"), RowExclusiveLock);
		r->commit_idx = index_open(RelationGetPrimaryKeyIndex(r->commit), AccessShareLock);
	}
}

static void
open_checkpoints(SealRels *r)
{
	r->cp = table_open(smam_audit_relid("audit_checkpoint"), AccessShareLock);
	r->cpidx = index_open(RelationGetPrimaryKeyIndex(r->cp), AccessShareLock);
}

/* The relations stay locked until the end of the transaction, as opened. */
static void
close_seal_rels(SealRels *r)
{
	if (r->cp != NULL)
	{
		index_close(r->cpidx, NoLock);
		table_close(r->cp, NoLock);
	}
	if (r->commit != NULL)
	{
		index_close(r->commit_idx, NoLock);
		table_close(r->commit, NoLock);
	}
	seal_open = r->seal; /* closed at the end of the transaction */
}

static void
seal_one(DirectInsert *d, const ToSeal *t, int64 position, const uint8 *prev, TimestampTz sealed_at,
		 uint8 *hash)
{
	Datum values[AS_NATTS];
	bool nulls[AS_NATTS];

	smam_audit_seal_hash(position, t->txn, t->xid, t->rows, t->txn_hash, sealed_at, prev,
						 t->committed_at, hash);
	memset(nulls, false, sizeof(nulls));
	values[AS_POSITION] = Int64GetDatum(position);
	values[AS_TXN] = Int64GetDatum(t->txn);
	values[AS_XID] = Int64GetDatum(t->xid);
	values[AS_ROWS] = Int64GetDatum(t->rows);
	values[AS_TXN_HASH] = PointerGetDatum(smam_hash_bytea(t->txn_hash));
	values[AS_SEALED_AT] = TimestampTzGetDatum(sealed_at);
	values[AS_PREV_HASH] = PointerGetDatum(smam_hash_bytea(prev));
	values[AS_HASH] = PointerGetDatum(smam_hash_bytea(hash));
	values[AS_COMMITTED_AT] = TimestampTzGetDatum(t->committed_at);
	smam_direct_insert(d, values, nulls);
}

/*
 * The committed transactions waiting to be chained, in the order of their
 * numbers, at most max of them. SnapshotSelf sees those committed by now.
 */
static int
read_waiting(SealRels *r, ToSeal *out, int max)
{
	SysScanDesc scan = systable_beginscan_ordered(r->commit, r->commit_idx, SnapshotSelf, 0, NULL);
	TupleDesc desc = RelationGetDescr(r->commit);
	HeapTuple tup;
	int n = 0;

	while (n < max && HeapTupleIsValid(tup = systable_getnext_ordered(scan, ForwardScanDirection)))
	{
		bool nulls[AC_NATTS];
		Datum v[AC_NATTS];

		bool damaged = false;

		heap_deform_tuple(tup, desc, v, nulls);
		for (int i = 0; i < AC_NATTS; i++)
			if (nulls[i])
				damaged = true;
		if (!damaged)
		{
			out[n].tid = tup->t_self;
			out[n].txn = DatumGetInt64(v[AC_TXN]);
			out[n].xid = DatumGetInt64(v[AC_XID]);
			out[n].rows = DatumGetInt64(v[AC_ROWS]);
			out[n].committed_at = DatumGetTimestampTz(v[AC_COMMITTED_AT]);
			damaged = !smam_hash_from_bytea(v[AC_TXN_HASH], out[n].txn_hash);
		}
		if (damaged)
		{
			/*
			 * Not chained, and nothing after it (the order stays): no
			 * sealer fails on it, and smam.verify_audit_log() reports it.
			 */
			ereport(WARNING, (errmsg("a commit record of the audit log is damaged; the "
									 "transactions waiting from it on are not chained"),
							  errhint("Run smam.verify_audit_log(), which says which.")));
			break;
		}
		n++;
	}
	systable_endscan_ordered(scan);
	return n;
}

/*
 * Under the chain's lock: chain what waits, then self (this transaction,
 * at its commit) if given. Returns how many were chained.
 */
static int64
seal_under_lock(SealRels *r, const ToSeal *self)
{
	ToSeal *waiting = palloc(sizeof(ToSeal) * SEAL_BATCH);
	/*
	 * A SERIALIZABLE writer chains only itself: reading and removing the
	 * commit records of others would add conflicts to its own commit.
	 */
	int n = r->commit == NULL || (self != NULL && IsolationIsSerializable())
				? 0
				: read_waiting(r, waiting, SEAL_BATCH);
	int64 head = 0;
	uint8 prev[SMAM_HASH_LEN];
	uint8 hash[SMAM_HASH_LEN];
	TimestampTz sealed_at;

	if (n == 0 && self == NULL)
		return 0;
	memset(prev, 0, SMAM_HASH_LEN);
	if (my_head.sealed)
	{
		head = my_head.position;
		memcpy(prev, my_head.hash, SMAM_HASH_LEN);
	}
	else if (!my_head.forget && cached_head(RelationGetRelid(r->seal->rel), &head, prev))
		;
	else
	{
		head = 0;
		if (!read_last(r->seal->rel, direct_pkey(r->seal), AS_HASH + 1, &head, prev))
		{
			/* No seal: the last checkpoint, if any. */
			open_checkpoints(r);
			read_last(r->cp, r->cpidx, 2, &head, prev);
		}
	}
	sealed_at = GetCurrentTimestamp();
	for (int i = 0; i < n; i++)
	{
		seal_one(r->seal, &waiting[i], ++head, prev, sealed_at, hash);
		simple_heap_delete(r->commit, &waiting[i].tid);
		memcpy(prev, hash, SMAM_HASH_LEN);
	}
	if (self != NULL)
	{
		seal_one(r->seal, self, ++head, prev, sealed_at, hash);
		memcpy(prev, hash, SMAM_HASH_LEN);
	}
	if (n > 0)
		count_waiting(-n);
	my_head.sealed = true;
	my_head.subid = GetCurrentSubTransactionId();
	my_head.relid = RelationGetRelid(r->seal->rel);
	my_head.position = head;
	memcpy(my_head.hash, prev, SMAM_HASH_LEN);
	pfree(waiting);
	return n + (self != NULL ? 1 : 0);
}

/*
 * May a caller (the digest, the verifier, smam.seal_audit_log(), the
 * worker) chain what waits in this transaction? Not on a standby or in a
 * read-only transaction (it would write); not under REPEATABLE READ or
 * SERIALIZABLE (it would chain transactions its own snapshot does not see,
 * and its reads of the chain afterwards would find gaps); and not inside a
 * transaction block (BEGIN, or several statements sent at once) or a
 * subtransaction (IsTransactionBlock() says both): the lock would be held
 * until the block ends, however long it stays open, and a digest taken
 * there could name seals the block then rolls back.
 */
bool
smam_audit_can_seal(void)
{
	return !RecoveryInProgress() && !XactReadOnly && !IsolationUsesXactSnapshot() &&
		   !IsTransactionBlock();
}

/*
 * Chain the committed transactions that wait, taking the chain's lock
 * (wait) or only trying it; the lock is then held until this transaction
 * ends. Returns how many were chained. For smam.seal_audit_log() (and so
 * smam.audit_digest()), smam.verify_audit_log() and the worker.
 */
int64
smam_audit_seal_committed(bool wait)
{
	SealRels r;
	int64 n = 0;

	if (!smam_audit_can_seal())
		return 0;
	if (lock_chain(wait))
	{
		int64 batch;

		open_seal_rels(&r, true);

		/* Batch after batch, until nothing waits. */
		do
		{
			batch = seal_under_lock(&r, NULL);
			n += batch;
			CommandCounterIncrement();
		} while (batch >= SEAL_BATCH);
		close_seal_rels(&r);
	}
	return n;
}

/* The worker's turn: chain what waits, in a transaction of its own. */
void
smam_audit_worker_seal(void)
{
	ChainHead *h = head_slot();

	if (h != NULL)
	{
		/* Writers leave it to the worker while it keeps its word. */
		TimestampTz until = GetCurrentTimestamp() + (TimestampTz) smam_audit_seal_interval * 3000;

		SpinLockAcquire(&h->mutex);
		h->worker_dbid = MyDatabaseId;
		h->worker_until = until;
		SpinLockRelease(&h->mutex);
	}
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	(void) smam_audit_seal_committed(true);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/* At commit: this transaction's hash, chained now or left for a sealer. */
static void
commit_transaction_hash(AuditXact *x)
{
	ToSeal self;

	smam_hash_end(&x->txn_hash, self.txn_hash);
	ItemPointerSetInvalid(&self.tid);
	self.txn = x->txn;
	self.xid = x->xid;
	self.rows = x->nrows;
	self.committed_at = GetCurrentTimestamp();

	/* Where the worker seals, or the lock is taken: left to be chained. */
	if ((holding_chain() || !worker_seals_here()) && lock_chain(false))
	{
		SealRels r;

		open_seal_rels(&r, may_be_waiting());
		(void) seal_under_lock(&r, &self);
		close_seal_rels(&r);
		return;
	}
	count_waiting(1); /* before the record can be seen */
	{
		DirectInsert *d = smam_direct_open(smam_audit_relid("audit_commit"), AC_NATTS);
		Datum values[AC_NATTS];
		bool nulls[AC_NATTS];

		memset(nulls, false, sizeof(nulls));
		values[AC_TXN] = Int64GetDatum(self.txn);
		values[AC_XID] = Int64GetDatum(self.xid);
		values[AC_ROWS] = Int64GetDatum(self.rows);
		values[AC_TXN_HASH] = PointerGetDatum(smam_hash_bytea(self.txn_hash));
		values[AC_COMMITTED_AT] = TimestampTzGetDatum(self.committed_at);
		smam_direct_insert(d, values, nulls);
		smam_direct_close(d);
	}
}

static void
release_chain(void)
{
	if (OidIsValid(chain_locked))
		UnlockDatabaseObject(RelationRelationId, chain_locked, 0, ExclusiveLock);
	chain_locked = InvalidOid;
}

static void
audit_xact_callback(XactEvent event, void *arg)
{
	AuditXact *x = xact_state;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			/* Wrote to the chain's tables: hold the lock until forgotten. */
			if (my_head.forget && chain_heads != NULL)
				(void) lock_chain(true);
			if (x == NULL)
				return;
			smam_direct_close(x->log);
			x->log = NULL;
			if (x->nrows > 0)
				commit_transaction_hash(x);
			xact_state = NULL;
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (holding_chain() || my_head.sealed || (x != NULL && x->nrows > 0))
				smam_refuse(
					ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "7.1.1",
					"a transaction that changed smam's tables or chained its audit log cannot be "
					"prepared",
					"Its audit rows are chained once it has committed, and a chaining transaction "
					"holds the chain's lock until it ends, which a prepared transaction would hold "
					"open.",
					"Commit the transaction directly instead of using PREPARE TRANSACTION.");
			if (my_head.forget)
				forget_head_now();
			my_head.forget = false;
			if (x == NULL)
				return;
			smam_direct_close(x->log);
			xact_state = NULL;
			break;
		case XACT_EVENT_COMMIT:

			/*
			 * The commit is visible to every snapshot from here on, so the
			 * next sealer may read the head: publish it and let the lock go
			 * now rather than after the rest of the transaction's cleanup.
			 */
			if (my_head.forget)
				forget_head_now();
			else if (my_head.sealed && holding_chain())
				publish_head(my_head.relid, my_head.position, my_head.hash);
			release_chain();
			my_head.sealed = my_head.forget = false;
			if (seal_open != NULL)
				smam_direct_close(seal_open);
			seal_open = NULL;
			xact_state = NULL;
			break;
		default:

			/*
			 * Abort, or prepared: memory, relations and locks go with it.
			 * The lock is still held at this point of an abort: a head it
			 * may have left stale is forgotten before the next sealer.
			 */
			if (event == XACT_EVENT_ABORT && (my_head.sealed || holding_chain()))
				forget_head_now(); /* the failure may have been a stale head */
			my_head.sealed = my_head.forget = false;
			seal_open = NULL;
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

	/*
	 * Seals written in a subtransaction rolled back are gone: the lock is
	 * kept (it is the top-level transaction's), and the next seal reads the
	 * head again, from the table.
	 */
	if (event == SUBXACT_EVENT_ABORT_SUB && my_head.sealed && my_head.subid >= mySubid)
	{
		my_head.sealed = false;
		my_head.forget = true;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB && my_head.sealed && my_head.subid == mySubid)
		my_head.subid = parentSubid;

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
	DefineCustomIntVariable(
		"smam.audit_seal_interval",
		"How often the worker chains committed transactions into the audit chain.",
		"Where a worker runs for the database (smam.worker_databases), writers leave the "
		"chaining to it: a committed transaction waits at most about this long.",
		&smam_audit_seal_interval, 1000, 10, 60000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	smam_audit_verify_init();
	RegisterXactCallback(audit_xact_callback, NULL);
	RegisterSubXactCallback(audit_subxact_callback, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = audit_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = audit_shmem_startup;
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

/*
 * smam.seal_audit_log() RETURNS bigint: chain the committed transactions
 * that wait, now, waiting for the chain's lock if another holds it; how
 * many were chained (0 where this transaction cannot chain).
 */
Datum
smam_seal_audit_log(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(smam_audit_seal_committed(true));
}

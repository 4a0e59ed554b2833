/*
 * audit_summary.c: keep the audit log's BRIN indexes summarized behind its
 * writers.
 *
 * smam.history() finds an object's rows through a bloom filter per range of
 * pages (docs/audit.md, "Growth"); a range not summarized yet is read in
 * full. Left to VACUUM, the unsummarized tail is whatever was written since
 * autovacuum's last visit, and autosummarize's requests overflow
 * autovacuum's queue in one bulk update. Instead, a writer whose audit row
 * lands in a new range summarizes the range two before it, as autovacuum's work
 * item would: a few pages just written, still in shared buffers, once per
 * range and backend. Summarizing is skipped, never waited for, when another
 * session holds the log for summarizing or vacuuming (VACUUM summarizes
 * what is left). Rows are found whether or not their range is summarized:
 * this only bounds what history() reads in full.
 */
#include "smam.h"
#include "audit.h"

#include "access/brin.h"
#include "catalog/pg_am_d.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"

#define MAX_SUMMARIZED 4

/*
 * How many ranges behind the one it writes in a writer summarizes. Each of
 * several sessions writing at once fills a page of its own, a few pages
 * apart; a range summarized while another session still writes in it makes
 * each of that session's rows update the summary (for the bloom filter, a
 * summary rewritten and compressed per row). Two ranges behind, the
 * writers have left it.
 */
#define SUMMARY_LAG 2

/* Per backend: the range each BRIN index of the log was last written in. */
static struct
{
	Oid index;
	BlockNumber range;
} last_range[MAX_SUMMARIZED];

/*
 * The slot of an index; a new index (the extension recreated in this
 * session) takes the slots in turn, so stale ones never block it.
 */
static BlockNumber *
range_of(Oid index)
{
	static int next = 0;
	int i;

	for (i = 0; i < MAX_SUMMARIZED; i++)
		if (last_range[i].index == index)
			return &last_range[i].range;
	i = next;
	next = (next + 1) % MAX_SUMMARIZED;
	last_range[i].index = index;
	last_range[i].range = InvalidBlockNumber;
	return &last_range[i].range;
}

/* Summarize the range holding a block, unless someone holds the log for it. */
static void
summarize_range_of(Relation heap, Relation index, BlockNumber block)
{
	Oid save_userid;
	int save_sec_context;

	if (!ConditionalLockRelationOid(RelationGetRelid(heap), ShareUpdateExclusiveLock))
		return;
	if (!ConditionalLockRelationOid(RelationGetRelid(index), ShareUpdateExclusiveLock))
	{
		UnlockRelationOid(RelationGetRelid(heap), ShareUpdateExclusiveLock);
		return;
	}
	/* As the log's owner, who alone may summarize (as autovacuum does). */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(heap->rd_rel->relowner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
													   SECURITY_RESTRICTED_OPERATION);
	DirectFunctionCall2(brin_summarize_range, ObjectIdGetDatum(RelationGetRelid(index)),
						Int64GetDatum((int64) block));
	SetUserIdAndSecContext(save_userid, save_sec_context);
	UnlockRelationOid(RelationGetRelid(index), ShareUpdateExclusiveLock);
	UnlockRelationOid(RelationGetRelid(heap), ShareUpdateExclusiveLock);
}

/*
 * A row of the log was written at tid: for each BRIN index of the log,
 * summarize the range SUMMARY_LAG before the row's when the row starts a
 * range this backend had not written in.
 */
void
smam_audit_summarize_behind(ResultRelInfo *rri, ItemPointer tid)
{
	BlockNumber block = ItemPointerGetBlockNumber(tid);

	for (int i = 0; i < rri->ri_NumIndices; i++)
	{
		Relation index = rri->ri_IndexRelationDescs[i];
		BlockNumber per_range, range, *last;

		if (index->rd_rel->relam != BRIN_AM_OID)
			continue;
		per_range = BrinGetPagesPerRange(index);
		range = block / per_range;
		last = range_of(RelationGetRelid(index));
		if (*last == range)
			continue;
		*last = range;
		if (range >= SUMMARY_LAG)
			summarize_range_of(rri->ri_RelationDesc, index, (range - SUMMARY_LAG) * per_range);
	}
}

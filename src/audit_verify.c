/*
 * audit_verify.c: verifying the audit chain, against digests taken earlier
 * or not, and archiving old periods behind a checkpoint.
 *
 * smam.verify_audit_log() reads the seals in chain order, each with its
 * rows in order (one pass: a nested loop over the two primary keys), and
 * recomputes every row hash, every transaction hash and every seal hash.
 * It stops at the first break and says where: the seal's position, the
 * transaction and the row. smam.verify_audit_log(digest) also checks that
 * the chain still passes through the position and hash of a digest from
 * smam.audit_digest(): a rewrite of the past, even one that recomputed
 * every hash after it, changes the hash at that position, and a truncated
 * tail leaves the chain shorter than the digest.
 */
#include "smam.h"
#include "audit.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "access/xact.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(smam_verify_audit_log);
PG_FUNCTION_INFO_V1(smam_archive_audit_log);

/*
 * smam.audit_archive_min_age: how old (minutes) the last seal of a period
 * must be before the period may be archived. Superusers only: an
 * administrator cannot shorten the time the log keeps what happened.
 */
static int audit_archive_min_age = 365 * 24 * 60;

void
smam_audit_verify_init(void)
{
	DefineCustomIntVariable(
		"smam.audit_archive_min_age",
		"Age the last seal of a period must reach before smam.archive_audit_log may remove it.",
		"An administrator archives only periods older than this; 0 allows any.",
		&audit_archive_min_age, 365 * 24 * 60, 0, INT_MAX, PGC_SUSET, GUC_UNIT_MIN, NULL, NULL,
		NULL);
}

typedef struct Verdict
{
	bool failed;
	bool unknown; /* the digest lies in an archived period */
	int64 position;
	bool position_null;
	int64 txn;
	bool txn_null;
	int32 ordinal;
	bool ordinal_null;
	char *problem;
	int64 seals;
	int64 rows;
	int64 pending; /* committed transactions checked that wait to be chained */
	int64 start;   /* checkpoint position, or 0 */
	int64 head;	   /* last position checked */
	uint8 head_hash[SMAM_HASH_LEN];
} Verdict;

static void
fail(Verdict *v, int64 position, int64 txn, int32 ordinal, char *problem)
{
	if (v->failed)
		return;
	v->failed = true;
	v->position = position;
	v->position_null = position < 0;
	v->txn = txn;
	v->txn_null = txn < 0;
	v->ordinal = ordinal;
	v->ordinal_null = ordinal <= 0;
	v->problem = problem;
}

#define VERIFY_SQL                                                                                 \
	"SELECT s.seq, s.txn, s.xid, s.rows, s.txn_hash, s.sealed_at, s.prev_hash, s.hash,"            \
	"       s.committed_at,"                                                                       \
	"       l.txn, l.ordinal, l.xid, l.tx_time, l.stmt_time, l.acting_role, l.effective_role,"     \
	"       l.session_role, l.application, l.client_addr, l.office, l.table_name, l.operation,"    \
	"       l.row_key, l.department_id, l.old_values, l.new_values, l.secrets_changed, l.row_hash" \
	"  FROM smam.audit_seal s"                                                                     \
	"  LEFT JOIN smam.audit_log l ON l.txn OPERATOR(pg_catalog.=) s.txn"                           \
	" WHERE s.seq OPERATOR(pg_catalog.>) $1"                                                       \
	" ORDER BY s.seq, l.ordinal"

/* A seal being checked, with the hash of its rows so far. */
typedef struct SealGroup
{
	bool active;
	bool pending;	   /* a committed transaction not chained yet (smam.audit_commit) */
	int first_log_col; /* where the log's columns begin in the query's rows, 1-based */
	int64 position;
	int64 txn;
	int64 rows;
	uint8 txn_hash[SMAM_HASH_LEN];
	int64 seen;
	SmamHash rows_hash; /* the transaction hash, fed the rows in order */
} SealGroup;

static void
finish_group(Verdict *v, SealGroup *g)
{
	uint8 h[SMAM_HASH_LEN];
	const char *record = g->pending ? "commit record" : "seal";

	if (!g->active || v->failed)
		return;
	g->active = false;
	if (g->seen < g->rows)
		fail(v, g->position, g->txn, (int32) (g->seen + 1),
			 psprintf("row %lld of transaction %lld is missing: its %s counts %lld rows, the log "
					  "has %lld",
					  (long long) (g->seen + 1), (long long) g->txn, record, (long long) g->rows,
					  (long long) g->seen));
	else if (g->seen > g->rows)
		fail(v, g->position, g->txn, (int32) (g->rows + 1),
			 psprintf("transaction %lld has more rows than its %s counts (%lld)",
					  (long long) g->txn, record, (long long) g->rows));
	if (v->failed)
		return;
	smam_hash_end(&g->rows_hash, h);
	if (memcmp(h, g->txn_hash, SMAM_HASH_LEN) != 0)
		fail(v, g->position, g->txn, -1,
			 psprintf("the rows of transaction %lld do not match its %s: a row was altered and "
					  "its hash recomputed",
					  (long long) g->txn, record));
}

static void
start_group(Verdict *v, SealGroup *g, HeapTuple tup, TupleDesc desc, int64 *expected,
			uint8 *running, bool have_digest, int64 dpos, const uint8 *dhash)
{
	bool n[AS_NATTS];
	Datum d[AS_NATTS];
	uint8 prev[SMAM_HASH_LEN], stored[SMAM_HASH_LEN], computed[SMAM_HASH_LEN];
	bool ok = true;

	for (int i = 0; i < AS_NATTS; i++)
		d[i] = SPI_getbinval(tup, desc, i + 1, &n[i]);
	for (int i = 0; i < AS_NATTS; i++)
		if (n[i])
			ok = false;
	g->active = true;
	g->pending = false;
	g->first_log_col = AS_NATTS + 1;
	g->position = DatumGetInt64(d[AS_POSITION]);
	g->txn = n[AS_TXN] ? -1 : DatumGetInt64(d[AS_TXN]);
	g->seen = 0;
	smam_audit_txn_hash_begin(&g->rows_hash, g->txn);
	v->seals++;
	if (!ok || !smam_hash_from_bytea(d[AS_TXN_HASH], g->txn_hash) ||
		!smam_hash_from_bytea(d[AS_PREV_HASH], prev) || !smam_hash_from_bytea(d[AS_HASH], stored))
	{
		fail(v, g->position, g->txn, -1,
			 psprintf("seal %lld is damaged: a column is empty or a hash is not 32 bytes",
					  (long long) g->position));
		return;
	}
	g->rows = DatumGetInt64(d[AS_ROWS]);
	if (g->position != *expected)
		fail(v, *expected, -1, -1,
			 g->position > *expected
				 ? psprintf("seal %lld is missing: the chain goes from %lld to %lld",
							(long long) *expected, (long long) (*expected - 1),
							(long long) g->position)
				 : psprintf("seal %lld is out of order", (long long) g->position));
	else if (memcmp(prev, running, SMAM_HASH_LEN) != 0)
		fail(v, g->position, g->txn, -1,
			 psprintf(
				 "seal %lld does not link to seal %lld: the chain was reordered or a seal replaced",
				 (long long) g->position, (long long) (g->position - 1)));
	if (v->failed)
		return;
	smam_audit_seal_hash(g->position, g->txn, DatumGetInt64(d[AS_XID]), g->rows, g->txn_hash,
						 DatumGetTimestampTz(d[AS_SEALED_AT]), prev,
						 DatumGetTimestampTz(d[AS_COMMITTED_AT]), computed);
	if (memcmp(computed, stored, SMAM_HASH_LEN) != 0)
	{
		fail(
			v, g->position, g->txn, -1,
			psprintf("seal %lld does not match its hash: it was altered", (long long) g->position));
		return;
	}
	if (have_digest && g->position == dpos && memcmp(stored, dhash, SMAM_HASH_LEN) != 0)
	{
		fail(v, g->position, g->txn, -1,
			 psprintf("the chain at position %lld differs from the digest: the log at or before it "
					  "was rewritten",
					  (long long) dpos));
		return;
	}
	memcpy(running, stored, SMAM_HASH_LEN);
	*expected = g->position + 1;
	v->head = g->position;
	memcpy(v->head_hash, stored, SMAM_HASH_LEN);
}

#define PENDING_SQL                                                                                \
	"SELECT c.txn, c.xid, c.rows, c.txn_hash, c.committed_at,"                                     \
	"       l.txn, l.ordinal, l.xid, l.tx_time, l.stmt_time, l.acting_role, l.effective_role,"     \
	"       l.session_role, l.application, l.client_addr, l.office, l.table_name, l.operation,"    \
	"       l.row_key, l.department_id, l.old_values, l.new_values, l.secrets_changed, l.row_hash" \
	"  FROM smam.audit_commit c"                                                                   \
	"  LEFT JOIN smam.audit_log l ON l.txn OPERATOR(pg_catalog.=) c.txn"                           \
	" ORDER BY c.txn, l.ordinal"

/* A committed transaction waiting to be chained: its commit record. */
static void
start_pending(Verdict *v, SealGroup *g, HeapTuple tup, TupleDesc desc)
{
	bool n[AC_NATTS];
	Datum d[AC_NATTS];
	bool ok = true;

	for (int i = 0; i < AC_NATTS; i++)
	{
		d[i] = SPI_getbinval(tup, desc, i + 1, &n[i]);
		if (n[i])
			ok = false;
	}
	g->active = true;
	g->pending = true;
	g->first_log_col = AC_NATTS + 1;
	g->position = -1;
	g->txn = n[AC_TXN] ? -1 : DatumGetInt64(d[AC_TXN]);
	g->seen = 0;
	smam_audit_txn_hash_begin(&g->rows_hash, g->txn);
	v->pending++;
	if (!ok || !smam_hash_from_bytea(d[AC_TXN_HASH], g->txn_hash))
	{
		fail(v, -1, g->txn, -1,
			 psprintf("the commit record of transaction %lld is damaged: a column is empty or its "
					  "hash is not 32 bytes",
					  (long long) g->txn));
		return;
	}
	g->rows = DatumGetInt64(d[AC_ROWS]);
}

static void
check_row(Verdict *v, SealGroup *g, HeapTuple tup, TupleDesc desc)
{
	Datum values[AL_NATTS];
	bool nulls[AL_NATTS];
	uint8 stored[SMAM_HASH_LEN], computed[SMAM_HASH_LEN];
	int32 ordinal;

	for (int i = 0; i < AL_NATTS; i++)
		values[i] = SPI_getbinval(tup, desc, g->first_log_col + i, &nulls[i]);
	ordinal = nulls[AL_ORDINAL] ? 0 : DatumGetInt32(values[AL_ORDINAL]);
	g->seen++;
	v->rows++;
	if (ordinal != g->seen)
	{
		if (ordinal > g->seen)
			fail(v, g->position, g->txn, (int32) g->seen,
				 psprintf("row %lld of transaction %lld is missing", (long long) g->seen,
						  (long long) g->txn));
		else
			fail(v, g->position, g->txn, ordinal,
				 psprintf("row %d of transaction %lld appears twice", ordinal, (long long) g->txn));
		return;
	}
	if (nulls[AL_ROW_HASH] || !smam_hash_from_bytea(values[AL_ROW_HASH], stored))
	{
		fail(v, g->position, g->txn, ordinal, pstrdup("the row's hash is missing or damaged"));
		return;
	}
	smam_audit_row_hash(values, nulls, computed);
	if (memcmp(computed, stored, SMAM_HASH_LEN) != 0)
	{
		fail(v, g->position, g->txn, ordinal,
			 psprintf("row %d of transaction %lld does not match its hash: it was altered", ordinal,
					  (long long) g->txn));
		return;
	}
	smam_hash_raw(&g->rows_hash, stored, SMAM_HASH_LEN);
}

/* Verify the chain; the caller is connected to SPI. */
static void
verify_chain(Verdict *v, bool have_digest, int64 dpos, const uint8 *dhash)
{
	uint8 running[SMAM_HASH_LEN];
	int64 expected;
	Portal portal;
	SealGroup g;
	MemoryContext batch_cxt, outer = CurrentMemoryContext;
	Datum arg[1];
	Oid argtype[1] = {INT8OID};
	int rc;

	memset(v, 0, sizeof(Verdict));
	memset(running, 0, SMAM_HASH_LEN);
	rc = SPI_execute("SELECT seq, hash FROM smam.audit_checkpoint ORDER BY seq DESC LIMIT 1", true,
					 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the audit checkpoint failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		bool isnull;

		v->start =
			DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (!smam_hash_from_bytea(
				SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull), running))
			fail(v, v->start, -1, -1, pstrdup("the checkpoint's hash is damaged"));
	}
	v->head = v->start;
	memcpy(v->head_hash, running, SMAM_HASH_LEN);
	expected = v->start + 1;
	if (have_digest && dpos == v->start && memcmp(running, dhash, SMAM_HASH_LEN) != 0)
		fail(v, dpos, -1, -1,
			 psprintf("the checkpoint at position %lld differs from the digest: the log at or "
					  "before it was rewritten",
					  (long long) dpos));

	memset(&g, 0, sizeof(g));
	batch_cxt =
		AllocSetContextCreate(CurrentMemoryContext, "smam verify batch", ALLOCSET_DEFAULT_SIZES);
	arg[0] = Int64GetDatum(v->start);
	portal = SPI_cursor_open_with_args(NULL, VERIFY_SQL, 1, argtype, arg, NULL, true, 0);
	while (!v->failed)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed && !v->failed; i++)
		{
			HeapTuple tup = SPI_tuptable->vals[i];
			TupleDesc desc = SPI_tuptable->tupdesc;
			bool isnull;
			int64 pos = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			MemoryContext old;

			if (pos != g.position)
			{
				finish_group(v, &g);
				if (v->failed)
					break;
				start_group(v, &g, tup, desc, &expected, running, have_digest, dpos, dhash);
				if (v->failed)
					break;
			}
			SPI_getbinval(tup, desc, AS_NATTS + 1, &isnull);
			if (isnull)
				continue; /* a seal without rows (LEFT JOIN) */
			old = MemoryContextSwitchTo(batch_cxt);
			check_row(v, &g, tup, desc);
			MemoryContextSwitchTo(old);
			MemoryContextReset(batch_cxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	finish_group(v, &g);
	SPI_cursor_close(portal);

	/*
	 * Committed transactions not chained yet: each with its rows, checked
	 * against the hash it recorded at commit (a broken one fails as a
	 * broken seal would).
	 */
	portal = SPI_cursor_open(NULL, SPI_prepare(PENDING_SQL, 0, NULL), NULL, NULL, true);
	while (!v->failed)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed && !v->failed; i++)
		{
			HeapTuple tup = SPI_tuptable->vals[i];
			TupleDesc desc = SPI_tuptable->tupdesc;
			bool isnull;
			int64 txn = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
			MemoryContext old;

			if (!g.active || txn != g.txn)
			{
				finish_group(v, &g);
				if (v->failed)
					break;
				start_pending(v, &g, tup, desc);
				if (v->failed)
					break;
			}
			SPI_getbinval(tup, desc, AC_NATTS + 1, &isnull);
			if (isnull)
				continue; /* a commit record without rows (LEFT JOIN) */
			old = MemoryContextSwitchTo(batch_cxt);
			check_row(v, &g, tup, desc);
			MemoryContextSwitchTo(old);
			MemoryContextReset(batch_cxt);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	finish_group(v, &g);
	SPI_cursor_close(portal);
	MemoryContextSwitchTo(outer);
	MemoryContextDelete(batch_cxt);

	if (!v->failed && have_digest && dpos > v->head)
		fail(v, v->head + 1, -1, -1,
			 psprintf("the chain ends at position %lld but the digest names position %lld: seals "
					  "after %lld were removed",
					  (long long) v->head, (long long) dpos, (long long) v->head));

	/* Rows that no seal covers: added outside the trigger. */
	if (!v->failed)
	{
		Oid t[2] = {INT8OID, INT8OID};
		Datum a[2];
		bool isnull;
		int64 total;

		a[0] = Int64GetDatum(smam_audit_current_txn());
		rc = SPI_execute_with_args("SELECT pg_catalog.count(*) FROM smam.audit_log l"
								   " WHERE l.txn OPERATOR(pg_catalog.<>) $1",
								   1, t, a, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "counting the audit log failed: %s", SPI_result_code_string(rc));
		total =
			DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (total != v->rows)
		{
			rc = SPI_execute_with_args(
				"SELECT l.txn, pg_catalog.min(l.ordinal) FROM smam.audit_log l"
				" WHERE l.txn OPERATOR(pg_catalog.<>) $1"
				"   AND NOT EXISTS (SELECT 1 FROM smam.audit_seal s"
				"                    WHERE s.txn OPERATOR(pg_catalog.=) l.txn)"
				"   AND NOT EXISTS (SELECT 1 FROM smam.audit_commit c"
				"                    WHERE c.txn OPERATOR(pg_catalog.=) l.txn)"
				" GROUP BY l.txn ORDER BY l.txn LIMIT 1",
				1, t, a, NULL, true, 1);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "looking for unsealed audit rows failed: %s",
					 SPI_result_code_string(rc));
			if (SPI_processed == 1)
			{
				int64 txn = DatumGetInt64(
					SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
				int32 ord = DatumGetInt32(
					SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

				fail(v, -1, txn, ord,
					 psprintf("rows of transaction %lld are covered by no seal and no commit "
							  "record: they were added outside the audit trigger, or its commit "
							  "record was removed",
							  (long long) txn));
			}
		}
	}

	if (!v->failed && have_digest && dpos < v->start)
	{
		v->unknown = true;
		v->problem = psprintf("the digest's position %lld lies in a period archived at checkpoint "
							  "%lld: check it against that period's export",
							  (long long) dpos, (long long) v->start);
	}
}

static void
parse_digest(text *t, int64 *position, uint8 *hash)
{
	char *s = text_to_cstring(t);
	const char *prefix = "smam-audit-v1:";
	char *p, *end;
	bool ok = strncmp(s, prefix, strlen(prefix)) == 0;

	if (ok)
	{
		p = s + strlen(prefix);
		errno = 0;
		*position = strtoll(p, &end, 10);
		ok = errno == 0 && end != p && *end == ':' && *position >= 0 &&
			 strlen(end + 1) == SMAM_HASH_LEN * 2;
		for (int i = 0; ok && i < SMAM_HASH_LEN; i++)
		{
			unsigned int b;

			ok = sscanf(end + 1 + 2 * i, "%2x", &b) == 1 &&
				 isxdigit((unsigned char) end[1 + 2 * i]) &&
				 isxdigit((unsigned char) end[2 + 2 * i]);
			hash[i] = (uint8) b;
		}
	}
	if (!ok)
		smam_refuse(ERRCODE_INVALID_TEXT_REPRESENTATION, NULL,
					smam_format("invalid audit digest \"%s\"", s),
					"A digest reads smam-audit-v1:<position>:<64 hexadecimal digits>.",
					"Take a digest with smam.audit_digest() and keep its digest column.");
}

/*
 * smam.verify_audit_log() and smam.verify_audit_log(digest text):
 * (holds, position, txn, ordinal, problem, seals_checked, rows_checked).
 */
Datum
smam_verify_audit_log(PG_FUNCTION_ARGS)
{
	TupleDesc desc;
	Datum values[8];
	bool nulls[8];
	Verdict v;
	bool have_digest = PG_NARGS() > 0;
	int64 dpos = 0;
	uint8 dhash[SMAM_HASH_LEN];

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "smam.verify_audit_log must return a record");
	if (have_digest)
	{
		if (PG_ARGISNULL(0))
			smam_refuse(ERRCODE_NULL_VALUE_NOT_ALLOWED, NULL,
						"the digest to verify against is null", NULL,
						"Give a digest taken earlier with smam.audit_digest(), or call "
						"smam.verify_audit_log() without one.");
		parse_digest(PG_GETARG_TEXT_PP(0), &dpos, dhash);
	}

	/*
	 * Everything committed before the verification is chained first, where
	 * this transaction can (smam_audit_can_seal); then read with a snapshot
	 * that sees it.
	 */
	if (smam_audit_can_seal())
	{
		(void) smam_audit_seal_committed(true);
		CommandCounterIncrement();
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	verify_chain(&v, have_digest, dpos, dhash);
	SPI_finish();
	PopActiveSnapshot();

	memset(nulls, false, sizeof(nulls));
	if (v.unknown)
		nulls[0] = true;
	else
		values[0] = BoolGetDatum(!v.failed);
	if (v.failed)
	{
		values[1] = Int64GetDatum(v.position);
		nulls[1] = v.position_null;
		values[2] = Int64GetDatum(v.txn);
		nulls[2] = v.txn_null;
		values[3] = Int32GetDatum(v.ordinal);
		nulls[3] = v.ordinal_null;
	}
	else
	{
		values[1] = Int64GetDatum(v.head);
		nulls[2] = nulls[3] = true;
	}
	if (v.problem)
		values[4] = CStringGetTextDatum(v.problem);
	else
		nulls[4] = true;
	values[5] = Int64GetDatum(v.seals);
	values[6] = Int64GetDatum(v.rows);
	values[7] = Int64GetDatum(v.pending);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * The SHA-256 of the period's export as smam.audit_export() writes it and
 * psql -At saves it: every line followed by a newline.
 */
static void
export_sha256(int64 through, char *hex)
{
	Oid types[1] = {INT8OID};
	Datum args[1] = {Int64GetDatum(through)};
	SmamHash h;
	uint8 out[SMAM_HASH_LEN];
	Portal portal;

	smam_hash_begin(&h, "");
	portal = SPI_cursor_open_with_args(NULL, "SELECT x FROM smam.audit_export($1) x", 1, types,
									   args, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char *line = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			smam_hash_raw(&h, line, strlen(line));
			smam_hash_raw(&h, "\n", 1);
			pfree(line);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	smam_hash_end(&h, out);
	for (int i = 0; i < SMAM_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

/*
 * smam.archive_audit_log(through_position bigint, export_sha256 text,
 * note text): (position, seals_archived, rows_archived). The period up to
 * the position leaves the log; a checkpoint keeps the hash at that
 * position, so that what remains verifies from it. Only a period that was
 * exported (the SHA-256 of smam.audit_export()'s lines is given and
 * matches) and whose last seal is older than smam.audit_archive_min_age;
 * the checkpoint keeps both facts.
 */
Datum
smam_archive_audit_log(PG_FUNCTION_ARGS)
{
	TupleDesc desc;
	Datum values[3];
	bool nulls[3] = {false, false, false};
	Verdict v;
	int64 through;
	char *note;
	char *given;
	char computed[2 * SMAM_HASH_LEN + 1];
	int rc;
	Oid types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INTERVALOID};
	Datum args[5];
	bool isnull;
	int64 seals, rows;
	TimestampTz sealed_at;
	Interval *min_age;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "smam.archive_audit_log must return a record");
	if (PG_ARGISNULL(0))
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, NULL,
					"archiving the audit log needs a position", NULL,
					"Give the position of the last seal to archive, from smam.audit_trail or "
					"smam.audit_seal.");
	through = PG_GETARG_INT64(0);
	given = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	note = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (note == NULL || note[strspn(note, " \t\r\n")] == '\0')
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "7.3", "archiving the audit log needs a note",
					"The checkpoint records where the archived period's export is kept.",
					"Say where the export is, such as \"exported to records system, file "
					"audit-2026-q1.csv\".");

	SPI_connect();
	rc = SPI_execute(
		"SELECT smam.require_office('administrator'::smam.office, NULL::pg_catalog.int8,"
		" '7.1.1'::pg_catalog.text, 'archive the audit log'::pg_catalog.text)",
		false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "office check failed: %s", SPI_result_code_string(rc));

	smam_audit_lock_chain();
	verify_chain(&v, false, 0, NULL);
	if (v.failed)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "7.1.1",
					"the audit log does not verify, so no period of it can be archived",
					smam_format("smam.verify_audit_log() reports: %s.", v.problem),
					"Investigate the break first; an archive must not hide it.");
	if (through <= v.start || through > v.head)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, NULL,
					smam_format("position %lld cannot be archived", (long long) through),
					smam_format("The log holds positions %lld to %lld.", (long long) (v.start + 1),
								(long long) v.head),
					"Give a position within the log.");

	/* Old enough: the log keeps what happened for smam.audit_archive_min_age. */
	args[0] = Int64GetDatum(through);
	rc = SPI_execute_with_args("SELECT s.sealed_at FROM smam.audit_seal s"
							   " WHERE s.seq OPERATOR(pg_catalog.=) $1",
							   1, types, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading seal %lld failed", (long long) through);
	sealed_at = DatumGetTimestampTz(
		SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (sealed_at > GetCurrentTransactionStartTimestamp() -
						(TimestampTz) audit_archive_min_age * USECS_PER_MINUTE)
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "7.1.1",
					smam_format("position %lld is too recent to be archived", (long long) through),
					smam_format("Its seal dates from %s; the log keeps every period for %d days "
								"(smam.audit_archive_min_age) before it may leave.",
								smam_moment_text(sealed_at), audit_archive_min_age / (24 * 60)),
					"Archive an older period, or ask a superuser to change "
					"smam.audit_archive_min_age if the records schedule allows it.");

	/* Exported: the administrator's hash of the export matches the period. */
	if (given == NULL || strlen(given) != 2 * SMAM_HASH_LEN ||
		strspn(given, "0123456789abcdefABCDEF") != 2 * SMAM_HASH_LEN)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "7.1.1",
					"archiving the audit log needs the SHA-256 of its export",
					"A period leaves the log only once it is kept elsewhere: its export, "
					"hashed, is recorded with the checkpoint.",
					smam_format("Export positions %lld to %lld with smam.audit_export(%lld) "
								"(docs/audit.md), and give the 64 hexadecimal digits of the "
								"file's SHA-256.",
								(long long) (v.start + 1), (long long) through,
								(long long) through));
	for (char *c = given; *c; c++)
		*c = pg_ascii_tolower((unsigned char) *c);
	export_sha256(through, computed);
	if (strcmp(given, computed) != 0)
		smam_refuse(ERRCODE_DATA_EXCEPTION, "7.1.1",
					smam_format("the export's SHA-256 does not match positions %lld to %lld",
								(long long) (v.start + 1), (long long) through),
					smam_format("The export of that period hashes to %s, not %s.", computed, given),
					smam_format("Export the period again with smam.audit_export(%lld), saved "
								"with psql -At so that each line ends with a newline, and hash "
								"that file.",
								(long long) through));

	min_age = palloc0(sizeof(Interval));
	min_age->time = (TimeOffset) audit_archive_min_age * USECS_PER_MINUTE;
	args[0] = Int64GetDatum(through);
	args[1] = CStringGetTextDatum(GetUserNameFromId(smam_acting_role(), false));
	args[2] = CStringGetTextDatum(note);
	args[3] = CStringGetTextDatum(computed);
	args[4] = IntervalPGetDatum(min_age);
	rc = SPI_execute_with_args(
		"INSERT INTO smam.audit_checkpoint"
		" (seq, hash, sealed_at, seals_archived, rows_archived, archived_by, note, export_sha256,"
		"  min_age)"
		" SELECT s.seq, s.hash, s.sealed_at,"
		"        (SELECT pg_catalog.count(*) FROM smam.audit_seal x WHERE x.seq "
		"OPERATOR(pg_catalog.<=) $1),"
		"        (SELECT pg_catalog.sum(x.rows) FROM smam.audit_seal x WHERE x.seq "
		"OPERATOR(pg_catalog.<=) $1),"
		"        $2::pg_catalog.name, $3, $4, pg_catalog.justify_hours($5)"
		"   FROM smam.audit_seal s WHERE s.seq OPERATOR(pg_catalog.=) $1"
		" RETURNING seals_archived, rows_archived",
		5, types, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "writing the audit checkpoint failed: %s", SPI_result_code_string(rc));
	seals = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

	smam_audit_maintenance = true;
	PG_TRY();
	{
		rc = SPI_execute_with_args(
			"DELETE FROM smam.audit_log l USING smam.audit_seal s"
			" WHERE l.txn OPERATOR(pg_catalog.=) s.txn AND s.seq OPERATOR(pg_catalog.<=) $1",
			1, types, args, NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "archiving audit rows failed: %s", SPI_result_code_string(rc));
		rc = SPI_execute_with_args(
			"DELETE FROM smam.audit_seal s WHERE s.seq OPERATOR(pg_catalog.<=) $1", 1, types, args,
			NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "archiving audit seals failed: %s", SPI_result_code_string(rc));
	}
	PG_FINALLY();
	{
		smam_audit_maintenance = false;
	}
	PG_END_TRY();
	SPI_finish();

	values[0] = Int64GetDatum(through);
	values[1] = Int64GetDatum(seals);
	values[2] = Int64GetDatum(rows);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * chain.c: the canonical serialization and SHA-256 hashing of the audit log
 * (SHA-256 itself is in sha256.c).
 *
 * Three hashes make the chain (docs/audit.md gives the byte layout):
 *
 *   row hash  = SHA-256("smam-audit-row-v1"  || every column of the row but
 *                        row_hash, each as a tagged field: txn, then xid to
 *                        operation, then ordinal to secrets_changed)
 *   txn hash  = SHA-256("smam-audit-txn-v1"  || txn || row hash 1 .. n)
 *   seal hash = SHA-256("smam-audit-seal-v1" || position || txn || xid ||
 *                        rows || txn hash || sealed_at || previous seal hash)
 *
 * A field is 0x00 for NULL, or 0x01, its length as 4 bytes big-endian and
 * its bytes. Integers and timestamps are 8 bytes big-endian (timestamps in
 * microseconds since 2000-01-01 UTC, PostgreSQL's own representation, so
 * they survive dump and restore exactly). Text is in the database encoding;
 * jsonb, inet and arrays are hashed as their text output, which dump and
 * restore reproduce byte for byte.
 */
#include "smam.h"
#include "audit.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

void
smam_hash_int64(SmamHash *h, int64 v)
{
	uint8 buf[8];

	for (int i = 7; i >= 0; i--)
	{
		buf[i] = (uint8) (v & 0xff);
		v = (int64) ((uint64) v >> 8);
	}
	smam_hash_raw(h, buf, 8);
}

/*
 * A field appended to the serialization being built: 0x00 for NULL, or
 * 0x01, the length as 4 bytes big-endian and the bytes.
 */
static void
append_field(StringInfo buf, const char *data, size_t len)
{
	char lenbuf[4];

	if (data == NULL)
	{
		appendStringInfoChar(buf, 0);
		return;
	}
	appendStringInfoChar(buf, 1);
	lenbuf[0] = (char) (len >> 24);
	lenbuf[1] = (char) (len >> 16);
	lenbuf[2] = (char) (len >> 8);
	lenbuf[3] = (char) len;
	appendBinaryStringInfo(buf, lenbuf, 4);
	appendBinaryStringInfo(buf, data, (int) len);
}

static void
append_int64_field(StringInfo buf, bool isnull, int64 v)
{
	char b[8];

	if (isnull)
	{
		append_field(buf, NULL, 0);
		return;
	}
	for (int i = 7; i >= 0; i--)
	{
		b[i] = (char) (v & 0xff);
		v = (int64) ((uint64) v >> 8);
	}
	append_field(buf, b, 8);
}

static void
append_text_field(StringInfo buf, bool isnull, Datum d)
{
	text *t;

	if (isnull)
	{
		append_field(buf, NULL, 0);
		return;
	}
	t = DatumGetTextPP(d);
	append_field(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/* A value as its type's text output. */
static void
append_output_field(StringInfo buf, bool isnull, Oid output_function, Datum d)
{
	char *s;

	if (isnull)
	{
		append_field(buf, NULL, 0);
		return;
	}
	s = OidOutputFunctionCall(output_function, d);
	append_field(buf, s, strlen(s));
	pfree(s);
}

/*
 * The hash state after the fields that the rows of one statement share,
 * kept for the session with those fields' bytes: the next row with the
 * same bytes starts from it instead of hashing them again (two of a row's
 * five SHA-256 blocks, typically).
 */
static struct
{
	char *bytes; /* in TopMemoryContext */
	int len;
	SmamHash state;
} shared_prefix;

#define SHARED_PREFIX_MAX 1024

/*
 * The hash of one row of smam.audit_log (the row_hash column itself
 * excluded). First the transaction number and the columns the rows of a
 * statement share, in table order (xid to operation); then the row's own:
 * ordinal, row_key, department_id, old_values, new_values, secrets_changed.
 * The trigger calls it on the values it is about to store, verification on
 * the values it reads, so both hash the same bytes.
 */
void
smam_audit_row_hash(const Datum *values, const bool *nulls, uint8 *out)
{
	static const int shared_text[] = {AL_ACTING_ROLE, AL_EFFECTIVE_ROLE, AL_SESSION_ROLE,
									  AL_APPLICATION};
	SmamHash h;
	StringInfoData buf;

	/* The fields the rows of a statement share. */
	initStringInfo(&buf);
	append_int64_field(&buf, nulls[AL_TXN], nulls[AL_TXN] ? 0 : DatumGetInt64(values[AL_TXN]));
	append_int64_field(&buf, nulls[AL_XID], nulls[AL_XID] ? 0 : DatumGetInt64(values[AL_XID]));
	append_int64_field(&buf, nulls[AL_TX_TIME],
					   nulls[AL_TX_TIME] ? 0 : DatumGetTimestampTz(values[AL_TX_TIME]));
	append_int64_field(&buf, nulls[AL_STMT_TIME],
					   nulls[AL_STMT_TIME] ? 0 : DatumGetTimestampTz(values[AL_STMT_TIME]));
	for (int i = 0; i < lengthof(shared_text); i++)
		append_text_field(&buf, nulls[shared_text[i]], values[shared_text[i]]);
	append_output_field(&buf, nulls[AL_CLIENT_ADDR], F_INET_OUT, values[AL_CLIENT_ADDR]);
	append_text_field(&buf, nulls[AL_OFFICE], values[AL_OFFICE]);
	append_text_field(&buf, nulls[AL_TABLE], values[AL_TABLE]);
	append_text_field(&buf, nulls[AL_OPERATION], values[AL_OPERATION]);

	if (shared_prefix.bytes != NULL && shared_prefix.len == buf.len &&
		memcmp(shared_prefix.bytes, buf.data, buf.len) == 0)
		h = shared_prefix.state;
	else
	{
		smam_hash_begin(&h, "smam-audit-row-v1");
		smam_hash_raw(&h, buf.data, buf.len);
		if (buf.len <= SHARED_PREFIX_MAX)
		{
			if (shared_prefix.bytes == NULL)
				shared_prefix.bytes = MemoryContextAlloc(TopMemoryContext, SHARED_PREFIX_MAX);
			memcpy(shared_prefix.bytes, buf.data, buf.len);
			shared_prefix.len = buf.len;
			shared_prefix.state = h;
		}
	}
	resetStringInfo(&buf);

	/* The row's own fields. */
	append_int64_field(&buf, nulls[AL_ORDINAL],
					   nulls[AL_ORDINAL] ? 0 : DatumGetInt32(values[AL_ORDINAL]));
	append_text_field(&buf, nulls[AL_ROW_KEY], values[AL_ROW_KEY]);
	append_int64_field(&buf, nulls[AL_DEPARTMENT],
					   nulls[AL_DEPARTMENT] ? 0 : DatumGetInt64(values[AL_DEPARTMENT]));
	for (int i = AL_OLD_VALUES; i <= AL_NEW_VALUES; i++)
	{
		if (nulls[i])
			append_field(&buf, NULL, 0);
		else
		{
			Jsonb *jb = DatumGetJsonbP(values[i]);
			char *s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));

			append_field(&buf, s, strlen(s));
			pfree(s);
		}
	}
	append_output_field(&buf, nulls[AL_SECRETS], F_ARRAY_OUT, values[AL_SECRETS]);
	smam_hash_raw(&h, buf.data, buf.len);
	pfree(buf.data);
	smam_hash_end(&h, out);
}

/*
 * The hash of one transaction's rows, in ordinal order: begun with the
 * transaction's number, then fed each row's hash as it comes.
 */
void
smam_audit_txn_hash_begin(SmamHash *h, int64 txn)
{
	smam_hash_begin(h, "smam-audit-txn-v1");
	smam_hash_int64(h, txn);
}

/* The hash of one seal: one link of the chain. */
void
smam_audit_seal_hash(int64 position, int64 txn, int64 xid, int64 rows, const uint8 *txn_hash,
					 TimestampTz sealed_at, const uint8 *prev_hash, TimestampTz committed_at,
					 uint8 *out)
{
	SmamHash h;

	smam_hash_begin(&h, "smam-audit-seal-v2");
	smam_hash_int64(&h, position);
	smam_hash_int64(&h, txn);
	smam_hash_int64(&h, xid);
	smam_hash_int64(&h, rows);
	smam_hash_raw(&h, txn_hash, SMAM_HASH_LEN);
	smam_hash_int64(&h, sealed_at);
	smam_hash_raw(&h, prev_hash, SMAM_HASH_LEN);
	smam_hash_int64(&h, committed_at);
	smam_hash_end(&h, out);
}

bytea *
smam_hash_bytea(const uint8 *hash)
{
	bytea *b = (bytea *) palloc(VARHDRSZ + SMAM_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + SMAM_HASH_LEN);
	memcpy(VARDATA(b), hash, SMAM_HASH_LEN);
	return b;
}

/* Copy a stored hash out of a bytea; false when it is not 32 bytes. */
bool
smam_hash_from_bytea(Datum d, uint8 *out)
{
	bytea *b = DatumGetByteaPP(d);

	if (VARSIZE_ANY_EXHDR(b) != SMAM_HASH_LEN)
		return false;
	memcpy(out, VARDATA_ANY(b), SMAM_HASH_LEN);
	return true;
}

char *
smam_hash_hex(const uint8 *hash)
{
	static const char digits[] = "0123456789abcdef";
	char *s = palloc(SMAM_HASH_LEN * 2 + 1);

	for (int i = 0; i < SMAM_HASH_LEN; i++)
	{
		s[2 * i] = digits[hash[i] >> 4];
		s[2 * i + 1] = digits[hash[i] & 0xf];
	}
	s[SMAM_HASH_LEN * 2] = '\0';
	return s;
}

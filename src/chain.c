/*
 * chain.c: the canonical serialization and SHA-256 hashing of the audit log
 * (SHA-256 itself is computed here; see smam_hash_begin).
 *
 * Three hashes make the chain (docs/audit.md gives the byte layout):
 *
 *   row hash  = SHA-256("smam-audit-row-v1"  || every column of the row,
 *                        in table order, each as a tagged field)
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

#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/*
 * SHA-256 (FIPS 180-4), computed here rather than through OpenSSL's EVP
 * interface: the audit hashes a few hundred bytes per row, where creating
 * and freeing an EVP context costs more than the hashing. The tests check
 * every hash against PostgreSQL's own sha256().
 */
static const uint32 sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROTR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
sha256_block(uint32 *state, const uint8 *p)
{
	uint32 w[64];
	uint32 a, b, c, d, e, f, g, h;

	for (int i = 0; i < 16; i++)
		w[i] = ((uint32) p[4 * i] << 24) | ((uint32) p[4 * i + 1] << 16) |
			   ((uint32) p[4 * i + 2] << 8) | (uint32) p[4 * i + 3];
	for (int i = 16; i < 64; i++)
	{
		uint32 s0 = ROTR32(w[i - 15], 7) ^ ROTR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32 s1 = ROTR32(w[i - 2], 17) ^ ROTR32(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = state[0];
	b = state[1];
	c = state[2];
	d = state[3];
	e = state[4];
	f = state[5];
	g = state[6];
	h = state[7];
	for (int i = 0; i < 64; i++)
	{
		uint32 t1 = h + (ROTR32(e, 6) ^ ROTR32(e, 11) ^ ROTR32(e, 25)) + ((e & f) ^ (~e & g)) +
					sha256_k[i] + w[i];
		uint32 t2 = (ROTR32(a, 2) ^ ROTR32(a, 13) ^ ROTR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	state[5] += f;
	state[6] += g;
	state[7] += h;
}

void
smam_hash_begin(SmamHash *h, const char *domain)
{
	static const uint32 init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
								   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(h->state, init, sizeof(init));
	h->length = 0;
	h->used = 0;
	smam_hash_raw(h, domain, strlen(domain));
}

void
smam_hash_raw(SmamHash *h, const void *data, size_t len)
{
	const uint8 *p = (const uint8 *) data;

	h->length += len;
	if (h->used > 0)
	{
		size_t take = Min(len, 64 - h->used);

		memcpy(h->buffer + h->used, p, take);
		h->used += take;
		p += take;
		len -= take;
		if (h->used < 64)
			return;
		sha256_block(h->state, h->buffer);
		h->used = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha256_block(h->state, p);
	if (len > 0)
	{
		memcpy(h->buffer, p, len);
		h->used = len;
	}
}

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

void
smam_hash_field(SmamHash *h, const char *data, size_t len)
{
	uint8 tag;
	uint8 lenbuf[4];

	if (data == NULL)
	{
		tag = 0;
		smam_hash_raw(h, &tag, 1);
		return;
	}
	tag = 1;
	lenbuf[0] = (uint8) (len >> 24);
	lenbuf[1] = (uint8) (len >> 16);
	lenbuf[2] = (uint8) (len >> 8);
	lenbuf[3] = (uint8) len;
	smam_hash_raw(h, &tag, 1);
	smam_hash_raw(h, lenbuf, 4);
	if (len > 0)
		smam_hash_raw(h, data, len);
}

void
smam_hash_end(SmamHash *h, uint8 *out)
{
	uint64 bits = (uint64) h->length * 8;
	uint8 pad[72];
	size_t padlen = (h->used < 56 ? 56 : 120) - h->used;

	memset(pad, 0, sizeof(pad));
	pad[0] = 0x80;
	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8) (bits >> (56 - 8 * i));
	smam_hash_raw(h, pad, padlen + 8);
	Assert(h->used == 0);
	for (int i = 0; i < 8; i++)
	{
		out[4 * i] = (uint8) (h->state[i] >> 24);
		out[4 * i + 1] = (uint8) (h->state[i] >> 16);
		out[4 * i + 2] = (uint8) (h->state[i] >> 8);
		out[4 * i + 3] = (uint8) h->state[i];
	}
}

static void
hash_int64_field(SmamHash *h, bool isnull, int64 v)
{
	uint8 buf[8];

	if (isnull)
	{
		smam_hash_field(h, NULL, 0);
		return;
	}
	for (int i = 7; i >= 0; i--)
	{
		buf[i] = (uint8) (v & 0xff);
		v = (int64) ((uint64) v >> 8);
	}
	smam_hash_field(h, (const char *) buf, 8);
}

static void
hash_text_field(SmamHash *h, bool isnull, Datum d)
{
	text *t;

	if (isnull)
	{
		smam_hash_field(h, NULL, 0);
		return;
	}
	t = DatumGetTextPP(d);
	smam_hash_field(h, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

static void
hash_cstring_field(SmamHash *h, bool isnull, const char *s)
{
	smam_hash_field(h, isnull ? NULL : s, isnull ? 0 : strlen(s));
}

/*
 * The hash of one row of smam.audit_log, from the values of its columns in
 * table order (the row_hash column itself excluded). The trigger calls it
 * on the values it is about to store, verification on the values it reads,
 * so both hash the same bytes.
 */
void
smam_audit_row_hash(const Datum *values, const bool *nulls, uint8 *out)
{
	SmamHash h;

	smam_hash_begin(&h, "smam-audit-row-v1");
	for (int i = 0; i < AL_NATTS; i++)
	{
		bool isnull = nulls[i];
		Datum d = values[i];

		switch (i)
		{
			case AL_TXN:
			case AL_XID:
			case AL_DEPARTMENT:
				hash_int64_field(&h, isnull, isnull ? 0 : DatumGetInt64(d));
				break;
			case AL_ORDINAL:
				hash_int64_field(&h, isnull, isnull ? 0 : DatumGetInt32(d));
				break;
			case AL_TX_TIME:
			case AL_STMT_TIME:
				hash_int64_field(&h, isnull, isnull ? 0 : DatumGetTimestampTz(d));
				break;
			case AL_ACTING_ROLE:
			case AL_EFFECTIVE_ROLE:
			case AL_SESSION_ROLE:
				hash_cstring_field(&h, isnull, isnull ? NULL : NameStr(*DatumGetName(d)));
				break;
			case AL_CLIENT_ADDR:
				hash_cstring_field(&h, isnull,
								   isnull ? NULL : OidOutputFunctionCall(F_INET_OUT, d));
				break;
			case AL_OLD_VALUES:
			case AL_NEW_VALUES:
				if (isnull)
					smam_hash_field(&h, NULL, 0);
				else
				{
					Jsonb *jb = DatumGetJsonbP(d);
					char *s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));

					smam_hash_field(&h, s, strlen(s));
					pfree(s);
				}
				break;
			case AL_SECRETS:
				hash_cstring_field(&h, isnull,
								   isnull ? NULL : OidOutputFunctionCall(F_ARRAY_OUT, d));
				break;
			case AL_ROW_HASH:
				break;
			default: /* text columns */
				hash_text_field(&h, isnull, d);
				break;
		}
	}
	smam_hash_end(&h, out);
}

/* The hash of one transaction's rows, in ordinal order. */
void
smam_audit_txn_hash(int64 txn, const uint8 *row_hashes, int64 nrows, uint8 *out)
{
	SmamHash h;

	smam_hash_begin(&h, "smam-audit-txn-v1");
	smam_hash_int64(&h, txn);
	smam_hash_raw(&h, row_hashes, (size_t) nrows * SMAM_HASH_LEN);
	smam_hash_end(&h, out);
}

/* The hash of one seal: one link of the chain. */
void
smam_audit_seal_hash(int64 position, int64 txn, int64 xid, int64 rows, const uint8 *txn_hash,
					 TimestampTz sealed_at, const uint8 *prev_hash, uint8 *out)
{
	SmamHash h;

	smam_hash_begin(&h, "smam-audit-seal-v1");
	smam_hash_int64(&h, position);
	smam_hash_int64(&h, txn);
	smam_hash_int64(&h, xid);
	smam_hash_int64(&h, rows);
	smam_hash_raw(&h, txn_hash, SMAM_HASH_LEN);
	smam_hash_int64(&h, sealed_at);
	smam_hash_raw(&h, prev_hash, SMAM_HASH_LEN);
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

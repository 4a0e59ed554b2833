/*
 * sha256.c: SHA-256 (FIPS 180-4) for the audit chain.
 *
 * The audit hashes a few hundred bytes per changed row, in many small
 * pieces (chain.c), so the cost that matters is the compression of one
 * 64-byte block. Two implementations of it are here:
 *
 *   - the x86 SHA extensions (SHA-NI: sha256rnds2, sha256msg1/2), used when
 *     the processor has them, which is most x86-64 processors made since
 *     2017; about ten times faster than plain C;
 *   - plain C, everywhere else.
 *
 * The choice is made once per process, by CPUID. OpenSSL's EVP interface
 * would also use the SHA extensions, but creating and freeing its context
 * per hash costs more than hashing a row. smam.audit_hash_check() compares
 * both implementations with each other and with the standard's test
 * vectors; the audit tests compare every stored hash with PostgreSQL's own
 * sha256().
 */
#include "smam.h"
#include "audit.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SMAM_HAVE_SHANI_CODE 1
#include <cpuid.h>
#include <immintrin.h>
#endif

PG_FUNCTION_INFO_V1(smam_audit_hash_check);

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

/* Compress n consecutive 64-byte blocks into state: plain C. */
static void
blocks_c(uint32 *state, const uint8 *p, size_t n)
{
	for (; n > 0; n--, p += 64)
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
			uint32 t2 =
				(ROTR32(a, 2) ^ ROTR32(a, 13) ^ ROTR32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

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
}

#ifdef SMAM_HAVE_SHANI_CODE
/*
 * Compress n blocks with the SHA extensions. The state is held as two
 * registers, ABEF and CDGH, as sha256rnds2 wants it; each step of the loop
 * does four rounds (two sha256rnds2 of two rounds each) with the message
 * words w[4g..4g+3] in m[g % 4], and computes, from the last four groups,
 * the words that the group four steps ahead will use.
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void
blocks_shani(uint32 *state, const uint8 *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i tmp, abef, cdgh;

	tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) &state[0]), 0xB1);  /* CDAB */
	cdgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) &state[4]), 0x1B); /* EFGH */
	abef = _mm_alignr_epi8(tmp, cdgh, 8);
	cdgh = _mm_blend_epi16(cdgh, tmp, 0xF0);

	for (; n > 0; n--, p += 64)
	{
		__m128i abef_in = abef, cdgh_in = cdgh;
		__m128i m[4];

		for (int g = 0; g < 16; g++)
		{
			__m128i msg;

			if (g < 4)
				m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (p + 16 * g)), bswap);
			msg = _mm_add_epi32(m[g % 4], _mm_loadu_si128((const __m128i *) &sha256_k[4 * g]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(msg, 0x0E));
			if (g >= 3 && g < 15)
			{
				/* The words of group h = g + 1 + 3, into m[(g + 1) % 4]. */
				int h = g + 1;
				__m128i t = _mm_sha256msg1_epu32(m[h % 4], m[(h + 1) % 4]);

				t = _mm_add_epi32(t, _mm_alignr_epi8(m[g % 4], m[(h + 2) % 4], 4));
				m[h % 4] = _mm_sha256msg2_epu32(t, m[g % 4]);
			}
		}
		abef = _mm_add_epi32(abef, abef_in);
		cdgh = _mm_add_epi32(cdgh, cdgh_in);
	}

	tmp = _mm_shuffle_epi32(abef, 0x1B);									   /* FEBA */
	cdgh = _mm_shuffle_epi32(cdgh, 0xB1);									   /* DCHG */
	_mm_storeu_si128((__m128i *) &state[0], _mm_blend_epi16(tmp, cdgh, 0xF0)); /* DCBA */
	_mm_storeu_si128((__m128i *) &state[4], _mm_alignr_epi8(cdgh, tmp, 8));	   /* HGFE */
}

static bool
cpu_has_shani(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & bit_SHA) != 0;
}
#endif

typedef void (*BlocksFn)(uint32 *state, const uint8 *p, size_t n);

static BlocksFn blocks = NULL;
static const char *blocks_name = NULL;

static void
choose_blocks(void)
{
#ifdef SMAM_HAVE_SHANI_CODE
	if (cpu_has_shani())
	{
		blocks = blocks_shani;
		blocks_name = "x86 SHA extensions";
		return;
	}
#endif
	blocks = blocks_c;
	blocks_name = "portable C";
}

/* Every SmamHash has its block function from hash_init(). */
static inline void
compress(SmamHash *h, const uint8 *p, size_t n)
{
	h->blocks(h->state, p, n);
}

static void
hash_init(SmamHash *h, BlocksFn fn)
{
	static const uint32 init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
								   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(h->state, init, sizeof(init));
	h->length = 0;
	h->used = 0;
	h->blocks = fn;
}

void
smam_hash_begin(SmamHash *h, const char *domain)
{
	if (unlikely(blocks == NULL))
		choose_blocks();
	hash_init(h, blocks);
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
		compress(h, h->buffer, 1);
		h->used = 0;
	}
	if (len >= 64)
	{
		compress(h, p, len / 64);
		p += len & ~(size_t) 63;
		len &= 63;
	}
	if (len > 0)
	{
		memcpy(h->buffer, p, len);
		h->used = len;
	}
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

/* SHA-256 of one buffer with a given block function. */
static void
digest_with(BlocksFn fn, const uint8 *data, size_t len, uint8 *out)
{
	SmamHash h;

	hash_init(&h, fn);
	smam_hash_raw(&h, data, len);
	smam_hash_end(&h, out);
}

/*
 * smam.audit_hash_check() RETURNS TABLE (implementation text, cases int,
 * failures int): the implementation the audit uses on this machine, and
 * how many of a fixed set of cases it gets wrong. The cases are the FIPS
 * 180-4 examples, then every length from 0 to 1,100 bytes (one byte at a
 * time, fed in pieces of every size from 1 to 130) compared with the
 * portable implementation. A DBA can run it after moving the database to
 * another processor; the tests run it on every machine they run on.
 */
Datum
smam_audit_hash_check(PG_FUNCTION_ARGS)
{
	static const struct
	{
		const char *msg;
		const char *hex;
	} vectors[] = {{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
				   {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
				   {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
					"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
				   {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmno"
					"pqklmnopqrlm"
					"nopqrsmnopqrstnopqrstu",
					"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"}};
	TupleDesc desc;
	Datum values[3];
	bool nulls[3] = {false, false, false};
	int cases = 0, failures = 0;
	uint8 *data;
	const size_t maxlen = 1100;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "smam_audit_hash_check: return type must be a row type");
	if (blocks == NULL)
		choose_blocks();

	for (int v = 0; v < lengthof(vectors); v++)
	{
		uint8 out[SMAM_HASH_LEN];
		SmamHash h;

		smam_hash_begin(&h, vectors[v].msg);
		smam_hash_end(&h, out);
		cases++;
		if (strcmp(smam_hash_hex(out), vectors[v].hex) != 0)
			failures++;
	}

	data = palloc(maxlen);
	for (size_t i = 0; i < maxlen; i++)
		data[i] = (uint8) ((i * 167 + 13) ^ (i >> 3));
	for (size_t len = 0; len <= maxlen; len++)
	{
		uint8 expect[SMAM_HASH_LEN], got[SMAM_HASH_LEN];
		SmamHash h;
		size_t piece = 1 + len % 130, off = 0;

		digest_with(blocks_c, data, len, expect);
		hash_init(&h, blocks);
		while (off < len)
		{
			size_t take = Min(piece, len - off);

			smam_hash_raw(&h, data + off, take);
			off += take;
		}
		smam_hash_end(&h, got);
		cases++;
		if (memcmp(expect, got, SMAM_HASH_LEN) != 0)
			failures++;
	}
	pfree(data);

	values[0] = CStringGetTextDatum(blocks_name);
	values[1] = Int32GetDatum(cases);
	values[2] = Int32GetDatum(failures);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

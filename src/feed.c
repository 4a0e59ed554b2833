/*
 * feed.c: the canada.ca feed of the index of official accounts (6.2.4).
 *
 * smam.public_index_feed(lang) (jsonb) and smam.public_index_feed_json(lang)
 * (json text, the file a website serves) write the feed in one pass over
 * the live accounts, in the published order: each entry's five cells are
 * escaped for HTML and then written straight into the document, the json
 * text into one buffer that becomes the result without a copy, the jsonb
 * in its binary form (see below). The SQL description of an entry is smam.feed_cells(); the
 * tests hold both to the same output.
 *
 * The sort is by department name, account name and URL in the feed's
 * language, under the database's collation. When that collation orders
 * text by code point (C, POSIX, and the C.UTF-8 of glibc 2.35 and later,
 * whose strcoll() is strcmp()), the sort keys compare bytewise (COLLATE
 * "C"), which gives the same order without a strcoll() per comparison.
 */
#include "smam.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(smam_public_index_feed);
PG_FUNCTION_INFO_V1(smam_public_index_feed_json);

/* Rows fetched from the cursor at a time. */
#define FEED_BATCH 2000

/* Append text to buf with & < > " ' as HTML entities (as smam.html_escape does). */
static void
append_html(StringInfo buf, const char *s, int len)
{
	for (int i = 0; i < len; i++)
	{
		switch (s[i])
		{
			case '&':
				appendBinaryStringInfo(buf, "&amp;", 5);
				break;
			case '<':
				appendBinaryStringInfo(buf, "&lt;", 4);
				break;
			case '>':
				appendBinaryStringInfo(buf, "&gt;", 4);
				break;
			case '"':
				appendBinaryStringInfo(buf, "&quot;", 6);
				break;
			case '\'':
				appendBinaryStringInfo(buf, "&#39;", 5);
				break;
			default:
				appendStringInfoChar(buf, s[i]);
		}
	}
}

static void
append_html_datum(StringInfo buf, Datum d)
{
	text	   *t = (text *) PG_DETOAST_DATUM_PACKED(d);

	append_html(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/* en or fr; anything else is refused (22023 6.2.4). */
static bool
feed_is_french(FunctionCallInfo fcinfo)
{
	char	   *lang = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (lang == NULL || (strcmp(lang, "en") != 0 && strcmp(lang, "fr") != 0))
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, "6.2.4",
					smam_format("feed language \"%s\" is not en or fr", lang ? lang : ""),
					NULL, "The index is published in English (en) and in French (fr).");
	return strcmp(lang, "fr") == 0;
}

/* Does the database's collation order text by code point? */
static bool
collation_is_codepoint(void)
{
	smam_spi_privileged("SELECT d.datlocprovider OPERATOR(pg_catalog.=) 'c'"
						"   AND d.datcollate OPERATOR(pg_catalog.=) ANY (ARRAY['C', 'POSIX', 'C.UTF-8', 'C.utf8'])"
						"  FROM pg_catalog.pg_database d"
						" WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()",
						0, NULL, NULL, NULL, true, 1);
	return SPI_processed == 1 &&
		strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0;
}

/*
 * Open the cursor over the live accounts in the published order. Columns:
 * account name, platform name, department name, language, URL.
 */
static Portal
open_feed(bool fr)
{
	const char *c = collation_is_codepoint() ? " COLLATE pg_catalog.\"C\"" : "";
	const char *dept = fr ? "i.department_fr" : "i.department_en";
	const char *acct = fr ? "coalesce(i.account_fr, i.account_en)" : "coalesce(i.account_en, i.account_fr)";
	char	   *sql = psprintf("SELECT %s, i.platform, %s, i.official_language, i.url"
							   "  FROM smam.public_index i"
							   " ORDER BY %s%s, %s%s, i.url%s",
							   acct, dept, dept, c, acct, c, c);
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, 0, NULL, NULL, NULL, true, 0);

	if (portal == NULL)
		elog(ERROR, "smam feed: cannot open cursor: %s", sql);
	return portal;
}

/* The five cells of one entry, HTML-escaped, into cells[] (reset first). */
static void
entry_cells(HeapTuple tup, TupleDesc desc, bool fr, StringInfo cells)
{
	bool		isnull;
	Datum		v;
	char	   *lang;

	for (int i = 0; i < 5; i++)
		resetStringInfo(&cells[i]);
	v = SPI_getbinval(tup, desc, 1, &isnull);
	if (!isnull)
		append_html_datum(&cells[0], v);
	v = SPI_getbinval(tup, desc, 2, &isnull);
	if (!isnull)
		append_html_datum(&cells[1], v);
	appendStringInfoString(&cells[2], fr ? "Minist\xC3\xA8re: " : "Department: ");
	v = SPI_getbinval(tup, desc, 3, &isnull);
	if (!isnull)
		append_html_datum(&cells[2], v);
	lang = SPI_getvalue(tup, desc, 4);
	if (fr)
		appendStringInfoString(&cells[3], strcmp(lang, "english") == 0 ? "Langue: Anglais" :
							   strcmp(lang, "french") == 0 ? "Langue: Fran\xC3\xA7" "ais" : "Langue: Bilingue");
	else
		appendStringInfoString(&cells[3], strcmp(lang, "english") == 0 ? "Language: English" :
							   strcmp(lang, "french") == 0 ? "Language: French" : "Language: Bilingual");
	v = SPI_getbinval(tup, desc, 5, &isnull);
	appendStringInfoString(&cells[4], "<a href=\"");
	append_html_datum(&cells[4], v);
	appendStringInfoString(&cells[4], "\">");
	append_html_datum(&cells[4], v);
	appendStringInfoString(&cells[4], "</a>");
}

/*
 * Walk the feed: for each entry, its cells, handed to emit(). The cells and
 * the row live in a context reset for each entry; emit() writes into out,
 * which lives in the caller's context.
 */
typedef void (*emit_fn) (void *out, StringInfo cells, bool first);

static void
walk_feed(bool fr, emit_fn emit, void *out)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext rowcxt;
	StringInfoData cells[5];
	Portal		portal;
	bool		first = true;

	SPI_connect();
	portal = open_feed(fr);
	rowcxt = AllocSetContextCreate(outer, "smam feed entry", ALLOCSET_DEFAULT_SIZES);
	{
		MemoryContext old = MemoryContextSwitchTo(outer);

		for (int i = 0; i < 5; i++)
			initStringInfo(&cells[i]);
		MemoryContextSwitchTo(old);
	}
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FEED_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			MemoryContext old = MemoryContextSwitchTo(rowcxt);

			entry_cells(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, fr, cells);
			MemoryContextSwitchTo(outer);
			emit(out, cells, first);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
			first = false;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	MemoryContextDelete(rowcxt);
}

/* ---- json text: exactly what json_build_object('aaData', json_agg(...)) writes ---- */

static void
emit_json(void *out, StringInfo cells, bool first)
{
	StringInfo	buf = (StringInfo) out;

	if (!first)
		appendBinaryStringInfo(buf, ", ", 2);
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < 5; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		escape_json(buf, cells[i].data);
	}
	appendStringInfoChar(buf, ']');
}

/* smam.public_index_feed_json(lang text) RETURNS json */
Datum
smam_public_index_feed_json(PG_FUNCTION_ARGS)
{
	bool		fr = feed_is_french(fcinfo);
	StringInfoData buf;

	/* The varlena header first, so that the buffer is the result. */
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, "\0\0\0\0", VARHDRSZ);
	appendStringInfoString(&buf, "{\"aaData\" : [");
	walk_feed(fr, emit_json, &buf);
	appendStringInfoString(&buf, "]}");
	SET_VARSIZE(buf.data, buf.len);
	PG_RETURN_POINTER(buf.data);
}

/*
 * ---- jsonb: written in its binary form ----
 *
 * The document is {"aaData": [[c1, c2, c3, c4, c5], ...]}: an object of one
 * key whose value is an array of arrays of five strings. Its jsonb is laid
 * out exactly as convertToJsonb() (jsonb_util.c) lays out that value, which
 * is the stable on-disk format: a container is its header (count | kind),
 * then one JEntry per child (type | length, or, for every
 * JB_OFFSET_STRIDE'th child, type | end offset | JENTRY_HAS_OFF), then the
 * children's data; a nested container starts 4-byte aligned, its padding
 * counted in its length. The entries are written as they come into one
 * buffer, their end offsets kept; the head (the object, the key, the outer
 * array's JEntries) is written in front once their number is known. No tree
 * of JsonbValues, no second pass over the data.
 */
typedef struct JsonbFeed
{
	StringInfoData data;		/* the entries, as they follow the JEntries */
	uint32	   *ends;			/* end offset of each entry in data */
	int			n,
				cap;
} JsonbFeed;

static void
append_uint32(StringInfo buf, uint32 v)
{
	appendBinaryStringInfo(buf, (char *) &v, sizeof(uint32));
}

static void
emit_jsonb(void *out, StringInfo cells, bool first)
{
	JsonbFeed  *f = (JsonbFeed *) out;
	uint32		total = 0;

	/*
	 * The entry starts 4-byte aligned: data begins at an aligned position of
	 * the document (see smam_public_index_feed), so its own offsets decide.
	 */
	while (f->data.len % 4 != 0)
		appendStringInfoChar(&f->data, '\0');
	append_uint32(&f->data, 5 | JB_FARRAY);
	for (int i = 0; i < 5; i++)
	{
		total += cells[i].len;
		/* Child 0 is a stride point: its JEntry holds the end offset. */
		append_uint32(&f->data, JENTRY_ISSTRING |
					  (i % JB_OFFSET_STRIDE == 0 ? (total | JENTRY_HAS_OFF) : (uint32) cells[i].len));
	}
	for (int i = 0; i < 5; i++)
		appendBinaryStringInfo(&f->data, cells[i].data, cells[i].len);
	if (f->data.len > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the index feed exceeds the maximum size of a jsonb array (%d bytes)",
						JENTRY_OFFLENMASK)));
	if (f->n == f->cap)
	{
		f->cap *= 2;
		f->ends = repalloc_huge(f->ends, sizeof(uint32) * f->cap);
	}
	f->ends[f->n++] = f->data.len;
}

/* smam.public_index_feed(lang text) RETURNS jsonb */
Datum
smam_public_index_feed(PG_FUNCTION_ARGS)
{
	bool		fr = feed_is_french(fcinfo);
	JsonbFeed	f;
	StringInfoData doc;
	static const char key[] = "aaData";
	const int	keylen = sizeof(key) - 1;
	int			pad;
	uint32		array_len;
	int			datalen;

	initStringInfo(&f.data);
	f.cap = 1024;
	f.n = 0;
	f.ends = palloc(sizeof(uint32) * f.cap);
	walk_feed(fr, emit_jsonb, &f);

	/*
	 * The head. Offsets count from the varlena header: the object's header
	 * at 4, its two JEntries at 8, the key at 16, then the array, aligned.
	 */
	pad = (4 - (VARHDRSZ + 4 + 8 + keylen) % 4) % 4;
	array_len = pad + 4 + 4 * (uint32) f.n + f.data.len;
	if (array_len > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the index feed exceeds the maximum size of a jsonb array (%d bytes)",
						JENTRY_OFFLENMASK)));
	/*
	 * The head is written in front of the entries in the same buffer: the
	 * entries move up by the head's size, so that the document is never
	 * copied whole into a second buffer.
	 */
	initStringInfo(&doc);
	enlargeStringInfo(&doc, VARHDRSZ + 4 + 8 + keylen + pad + 4 + 4 * f.n);
	appendBinaryStringInfo(&doc, "\0\0\0\0", VARHDRSZ);
	append_uint32(&doc, 1 | JB_FOBJECT);
	/* The key is child 0, a stride point; the value, child 1, a length. */
	append_uint32(&doc, JENTRY_ISSTRING | keylen | JENTRY_HAS_OFF);
	append_uint32(&doc, JENTRY_ISCONTAINER | array_len);
	appendBinaryStringInfo(&doc, key, keylen);
	for (int i = 0; i < pad; i++)
		appendStringInfoChar(&doc, '\0');
	Assert(doc.len % 4 == 0);
	append_uint32(&doc, (uint32) f.n | JB_FARRAY);
	for (int i = 0; i < f.n; i++)
	{
		uint32		end = f.ends[i];
		uint32		len = end - (i > 0 ? f.ends[i - 1] : 0);

		append_uint32(&doc, JENTRY_ISCONTAINER |
					  (i % JB_OFFSET_STRIDE == 0 ? (end | JENTRY_HAS_OFF) : len));
	}
	pfree(f.ends);
	datalen = f.data.len;
	enlargeStringInfo(&f.data, doc.len);
	memmove(f.data.data + doc.len, f.data.data, datalen);
	memcpy(f.data.data, doc.data, doc.len);
	f.data.len = doc.len + datalen;
	pfree(doc.data);
	SET_VARSIZE(f.data.data, f.data.len);
	PG_RETURN_POINTER(f.data.data);
}

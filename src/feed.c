/*
 * feed.c: the canada.ca feed of the index of official accounts (6.2.4).
 *
 * smam.public_index_feed(lang) (jsonb) and smam.public_index_feed_json(lang)
 * (json text, the file a website serves) write the feed in one pass over
 * the live accounts, in the published order: each entry's five cells are
 * escaped for HTML and then written straight into the document, the json
 * text into one buffer that becomes the result without a copy, the jsonb
 * as one tree. The SQL description of an entry is smam.feed_cells(); the
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

/* ---- jsonb: one tree, converted once ---- */

static void
emit_jsonb(void *out, StringInfo cells, bool first)
{
	JsonbParseState **state = (JsonbParseState **) out;
	JsonbValue	v;

	pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < 5; i++)
	{
		v.type = jbvString;
		v.val.string.len = cells[i].len;
		v.val.string.val = pnstrdup(cells[i].data, cells[i].len);
		pushJsonbValue(state, WJB_ELEM, &v);
	}
	pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

/* smam.public_index_feed(lang text) RETURNS jsonb */
Datum
smam_public_index_feed(PG_FUNCTION_ARGS)
{
	bool		fr = feed_is_french(fcinfo);
	JsonbParseState *state = NULL;
	JsonbValue	key;
	JsonbValue *result;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	key.type = jbvString;
	key.val.string.val = "aaData";
	key.val.string.len = 6;
	pushJsonbValue(&state, WJB_KEY, &key);
	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	walk_feed(fr, emit_jsonb, &state);
	pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_POINTER(JsonbValueToJsonb(result));
}

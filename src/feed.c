/*
 * feed.c: the canada.ca feed of the index of official accounts (6.2.4).
 *
 * smam.public_index_feed(lang) (jsonb) and smam.public_index_feed_json(lang)
 * (json text, the file a website serves) read the live accounts once,
 * put them in the published order, and write each entry's five cells in
 * canada.ca's markup, every text escaped for HTML, straight into the
 * document: the json text into one buffer that becomes the result without
 * a copy, the jsonb in its binary form (see below). The SQL description of
 * an entry is smam.feed_cells(); the tests hold both to the same output.
 *
 * The markup is canada.ca's, byte for byte (its feeds of 2024-10-24 are in
 * test/data): the platform in <span class="label label-default">, the
 * labels "Department" / "Ministère " and "Language" / "Langue" in spans,
 * and a link button whose hidden wb-inv text names whose account it is
 * (the owner label the index gave, else the department), so that a screen
 * reader tells one link from another (WCAG 2.4.4).
 *
 * The order is by department name, account name and URL in the feed's
 * language, under the database's collation (see "the published order"
 * below). When that collation orders text by code point (C, POSIX, and the
 * C.UTF-8 of glibc 2.35 and later, whose strcoll() is strcmp()), the keys
 * compare bytewise, which gives the same order without a strcoll() per
 * comparison.
 */
#include "smam.h"

#include "catalog/pg_collation_d.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(smam_public_index_feed);
PG_FUNCTION_INFO_V1(smam_public_index_feed_json);

/*
 * Append text to buf with & < > " ' as HTML entities (as smam.html_escape
 * does); the runs between them are copied whole. Returns whether the text
 * holds what a json string must escape besides the double quote (which is
 * now an entity): a backslash or a control character.
 */
static bool
append_html(StringInfo buf, const char *s, int len)
{
	int			run = 0;
	bool		json_escapes = false;

	for (int i = 0; i < len; i++)
	{
		const char *entity;

		switch (s[i])
		{
			case '&':
				entity = "&amp;";
				break;
			case '<':
				entity = "&lt;";
				break;
			case '>':
				entity = "&gt;";
				break;
			case '"':
				entity = "&quot;";
				break;
			case '\'':
				entity = "&#39;";
				break;
			default:
				if ((unsigned char) s[i] < 0x20 || s[i] == '\\')
					json_escapes = true;
				continue;
		}
		appendBinaryStringInfo(buf, s + run, i - run);
		appendStringInfoString(buf, entity);
		run = i + 1;
	}
	if (len > run)
		appendBinaryStringInfo(buf, s + run, len - run);
	return json_escapes;
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
 * ---- the entries, in the published order ----
 *
 * The feed's text is short and the entries many, so each row the query
 * produces is copied, as it is produced (no tuple is formed or kept), into
 * one compact entry: its account name, platform and URL follow a small
 * header, in blocks that do not move. The department, shared by all its
 * entries, is kept once.
 *
 * The order is by department name, account name and URL, NULLs last, as
 * ORDER BY would put them under the collation chosen. A sort of all the
 * entries on three text keys costs n log n string comparisons, most of
 * them between two department names, and departments are few. So the
 * entries are counted into one bucket per department (a hash on its
 * name), the names alone are sorted, the buckets laid out in that order,
 * and each bucket's entries are sorted on account name and URL.
 */
typedef struct FeedText
{
	const char *s;				/* NULL for SQL NULL */
	int			len;
} FeedText;

typedef enum FeedLanguage
{
	FEED_ENGLISH,
	FEED_FRENCH,
	FEED_BILINGUAL				/* and anything else, as smam.feed_cells() */
} FeedLanguage;

/*
 * The owner is kept only where it is not the department's name (an owner
 * label): its length is -1 otherwise, and the department's name is written.
 */
typedef struct FeedEntry
{
	int32 len[4];				/* account, platform, URL, owner; -1 for NULL */
	int32		dept;			/* its department's bucket */
	FeedLanguage lang;
	char text[FLEXIBLE_ARRAY_MEMBER]; /* the four, one after another */
} FeedEntry;

enum
{
	FEED_ACCT,
	FEED_PLATFORM,
	FEED_URL,
	FEED_OWNER,
	FEED_TEXTS
};

typedef struct FeedDept
{
	FeedText	name;			/* the hash key */
	int			bucket;
} FeedDept;

typedef struct Feed
{
	bool		fr;
	Oid			collid;
	FeedEntry **entries;		/* in the published order once ordered */
	uint64		n,
				cap;
	FeedDept  **depts;			/* by bucket */
	int			ndepts;
	HTAB	   *by_name;
	char	   *block;			/* where entries go */
	Size		block_left;
	Size		text_bytes;		/* of all entries' text, for the output's size */
	MemoryContext cxt;			/* where it all lives */
} Feed;

#define FEED_BLOCK (1024 * 1024)

static char *
feed_alloc(Feed *f, Size size)
{
	char	   *p;

	size = MAXALIGN(size);
	if (size > f->block_left)
	{
		f->block_left = Max(FEED_BLOCK, size);
		f->block = MemoryContextAlloc(f->cxt, f->block_left);
	}
	p = f->block;
	f->block += size;
	f->block_left -= size;
	return p;
}

static FeedText
feed_get(const FeedEntry *e, int which)
{
	FeedText	t = {NULL, 0};
	const char *p = e->text;

	for (int i = 0; i < which; i++)
		p += Max(e->len[i], 0);
	if (e->len[which] >= 0)
	{
		t.s = p;
		t.len = e->len[which];
	}
	return t;
}

static FeedText
feed_datum_text(Datum d, bool isnull)
{
	FeedText	t = {NULL, -1};

	if (!isnull)
	{
		text	   *v = (text *) PG_DETOAST_DATUM_PACKED(d);

		t.s = VARDATA_ANY(v);
		t.len = VARSIZE_ANY_EXHDR(v);
	}
	return t;
}

static bool
feed_text_is(FeedText t, const char *s)
{
	return t.s != NULL && t.len == (int) strlen(s) && memcmp(t.s, s, t.len) == 0;
}

/* Hash and match on the bytes of a name (the collations are deterministic). */
static uint32
feed_dept_hash(const void *key, Size keysize)
{
	const FeedText *k = key;

	return k->s == NULL ? 0 : hash_bytes((const unsigned char *) k->s, k->len);
}

static int
feed_dept_match(const void *a, const void *b, Size keysize)
{
	const FeedText *x = a,
			   *y = b;

	if (x->s == NULL || y->s == NULL)
		return !(x->s == NULL && y->s == NULL);
	return x->len != y->len || memcmp(x->s, y->s, x->len) != 0;
}

/*
 * The query's rows come here, one at a time: columns account name,
 * platform name, department name, language, URL, owner.
 */
typedef struct FeedReceiver
{
	DestReceiver pub;
	Feed	   *feed;
} FeedReceiver;

static bool
feed_receive(TupleTableSlot *slot, DestReceiver *self)
{
	Feed	   *f = ((FeedReceiver *) self)->feed;
	FeedText t[FEED_TEXTS];
	FeedText	name,
				lang;
	FeedDept   *d;
	FeedEntry  *e;
	bool		found;
	Size		bytes = 0;
	char	   *p;

	slot_getallattrs(slot);
	t[FEED_ACCT] = feed_datum_text(slot->tts_values[0], slot->tts_isnull[0]);
	t[FEED_PLATFORM] = feed_datum_text(slot->tts_values[1], slot->tts_isnull[1]);
	name = feed_datum_text(slot->tts_values[2], slot->tts_isnull[2]);
	lang = feed_datum_text(slot->tts_values[3], slot->tts_isnull[3]);
	t[FEED_URL] = feed_datum_text(slot->tts_values[4], slot->tts_isnull[4]);
	t[FEED_OWNER] = feed_datum_text(slot->tts_values[5], slot->tts_isnull[5]);
	/* The department's own name is not kept again for each of its entries. */
	if (t[FEED_OWNER].s == NULL || (name.s != NULL && t[FEED_OWNER].len == name.len &&
									memcmp(t[FEED_OWNER].s, name.s, name.len) == 0))
		t[FEED_OWNER].len = -1;

	d = hash_search(f->by_name, &name, HASH_ENTER, &found);
	if (!found)
	{
		d->bucket = f->ndepts++;
		if (name.s != NULL)
		{
			char	   *copy = feed_alloc(f, name.len);

			memcpy(copy, name.s, name.len);
			d->name.s = copy;
		}
	}
	for (int i = 0; i < FEED_TEXTS; i++)
		bytes += Max(t[i].len, 0);
	e = (FeedEntry *) feed_alloc(f, offsetof(FeedEntry, text) + bytes);
	p = e->text;
	for (int i = 0; i < FEED_TEXTS; i++)
	{
		e->len[i] = t[i].len;
		if (t[i].len > 0)
			memcpy(p, t[i].s, t[i].len);
		p += Max(t[i].len, 0);
	}
	e->dept = d->bucket;
	e->lang = feed_text_is(lang, "english") ? FEED_ENGLISH : feed_text_is(lang, "french") ? FEED_FRENCH : FEED_BILINGUAL;
	/* The department's name, and again as the owner where none is kept. */
	f->text_bytes += bytes + Max(name.len, 0) + (t[FEED_OWNER].len < 0 ? Max(name.len, 0) : 0);
	if (f->n == f->cap)
	{
		f->cap *= 2;
		f->entries = repalloc_huge(f->entries, sizeof(FeedEntry *) * f->cap);
	}
	f->entries[f->n++] = e;
	return true;
}

static void
feed_receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
feed_receiver_done(DestReceiver *self)
{
}

static int
feed_text_cmp(FeedText a, FeedText b, Oid collid)
{
	int			c;

	if (a.s == NULL || b.s == NULL)
		return (a.s == NULL) - (b.s == NULL);
	if (collid != C_COLLATION_OID)
		return varstr_cmp(a.s, a.len, b.s, b.len, collid);
	c = memcmp(a.s, b.s, Min(a.len, b.len));
	return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

static int
feed_entry_cmp(const void *a, const void *b, void *arg)
{
	const FeedEntry *x = *(FeedEntry *const *) a,
			   *y = *(FeedEntry *const *) b;
	Oid			collid = *(Oid *) arg;
	int			c = feed_text_cmp(feed_get(x, FEED_ACCT), feed_get(y, FEED_ACCT), collid);

	return c != 0 ? c : feed_text_cmp(feed_get(x, FEED_URL), feed_get(y, FEED_URL), collid);
}

static int
feed_dept_cmp(const void *a, const void *b, void *arg)
{
	return feed_text_cmp((*(FeedDept *const *) a)->name, (*(FeedDept *const *) b)->name, *(Oid *) arg);
}

/* Put f->entries in the published order. */
static void
feed_order(Feed *f)
{
	int			nd = Max(f->ndepts, 1);
	FeedDept  **names = palloc(sizeof(FeedDept *) * nd);
	int		   *count = palloc0(sizeof(int) * nd);
	int		   *next = palloc(sizeof(int) * nd);
	FeedEntry **out = palloc_extended(sizeof(FeedEntry *) * Max(f->n, 1), MCXT_ALLOC_HUGE);
	HASH_SEQ_STATUS seq;
	FeedDept   *d;
	int			pos = 0;

	f->depts = palloc(sizeof(FeedDept *) * nd);
	hash_seq_init(&seq, f->by_name);
	while ((d = hash_seq_search(&seq)) != NULL)
		f->depts[d->bucket] = names[d->bucket] = d;
	qsort_arg(names, f->ndepts, sizeof(FeedDept *), feed_dept_cmp, &f->collid);
	for (uint64 i = 0; i < f->n; i++)
		count[f->entries[i]->dept]++;
	for (int r = 0; r < f->ndepts; r++)
	{
		next[names[r]->bucket] = pos;
		pos += count[names[r]->bucket];
	}
	for (uint64 i = 0; i < f->n; i++)
		out[next[f->entries[i]->dept]++] = f->entries[i];
	/* next[b] is now the end of bucket b. */
	for (int b = 0; b < f->ndepts; b++)
		qsort_arg(out + next[b] - count[b], count[b], sizeof(FeedEntry *), feed_entry_cmp, &f->collid);
	pfree(f->entries);
	f->entries = out;
	pfree(names);
	pfree(count);
	pfree(next);
}

/*
 * Read the live accounts into f, in the published order. What it keeps
 * lives in a context of its own under the caller's (feed_free() releases
 * it); SPI is done with when it returns.
 */
static void
feed_read(Feed *f, bool fr)
{
	HASHCTL		ctl = {0};
	const char *dept = fr ? "i.department_fr" : "i.department_en";
	const char *acct = fr ? "coalesce(i.account_fr, i.account_en)" : "coalesce(i.account_en, i.account_fr)";
	const char *owner = fr ? "i.owner_fr" : "i.owner_en";
	FeedReceiver rcv = {{feed_receive, feed_receiver_startup, feed_receiver_done, feed_receiver_done, DestTuplestore}, f};
	SPIExecuteOptions opt = {0};
	char	   *sql;
	int			rc;

	memset(f, 0, sizeof(Feed));
	f->fr = fr;
	f->cxt = AllocSetContextCreate(CurrentMemoryContext, "smam feed", ALLOCSET_DEFAULT_SIZES);
	f->cap = 1024;
	f->entries = MemoryContextAlloc(f->cxt, sizeof(FeedEntry *) * f->cap);
	ctl.keysize = sizeof(FeedText);
	ctl.entrysize = sizeof(FeedDept);
	ctl.hash = feed_dept_hash;
	ctl.match = feed_dept_match;
	ctl.hcxt = f->cxt;
	f->by_name = hash_create("smam feed departments", 512, &ctl,
							 HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	sql = psprintf(
		"SELECT %s, i.platform, %s, i.official_language, i.url, %s FROM smam.public_index i", acct,
		dept, owner);

	SPI_connect();
	f->collid = collation_is_codepoint() ? C_COLLATION_OID : DEFAULT_COLLATION_OID;
	opt.read_only = true;
	opt.dest = &rcv.pub;
	rc = SPI_execute_extended(sql, &opt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "smam feed: %s failed: %s", sql, SPI_result_code_string(rc));
	SPI_finish();
	{
		MemoryContext old = MemoryContextSwitchTo(f->cxt);

		feed_order(f);
		MemoryContextSwitchTo(old);
	}
}

/*
 * ---- an entry's five cells, in canada.ca's markup ----
 *
 * The cells are written straight into the document, with no cell built
 * apart and copied: into the jsonb as they are (its strings are kept
 * unescaped), into the json text as a json string writes them. The texts
 * are escaped for HTML, which leaves them no double quote; in json, only a
 * text that then holds a backslash or a control character is escaped again
 * (escape_json(), character by character, so that the cell reads exactly
 * as escape_json() of the whole cell). The markup around the texts is kept
 * in both spellings: as below, and with its double quotes escaped for json
 * (feed_writer_init()).
 */
typedef struct FeedLit
{
	const char *s;
	int len;
} FeedLit;

#define FEED_LIT(lit)                                                                              \
	{                                                                                              \
		(lit), sizeof(lit) - 1                                                                     \
	}

enum
{
	M_PLATFORM_OPEN, /* cell 1: <span class="label label-default">X</span> */
	M_PLATFORM_CLOSE,
	M_DEPARTMENT, /* cell 2: <span>Department</span>: name */
	M_ENGLISH,	  /* cell 3, M_ENGLISH + FeedLanguage */
	M_FRENCH,
	M_BILINGUAL,
	M_LINK_OPEN, /* cell 4: <a ... href="url"><span class="wb-inv">owner - </span>Go...</a> */
	M_LINK_OWNER,
	M_LINK_CLOSE,
	M_COUNT
};

/* By language (UTF-8 in octal escapes: \303\247 is ç, \303\250 è, \303\251 é). */
static const FeedLit feed_markup[2][M_COUNT] = {
	{FEED_LIT("<span class=\"label label-default\">"), FEED_LIT("</span>"),
	 FEED_LIT("<span>Department</span>: "), FEED_LIT("<span>Language</span>: English"),
	 FEED_LIT("<span>Language</span>: French"), FEED_LIT("<span>Language</span>: Bilingual"),
	 FEED_LIT("<a class=\"product-link btn btn-primary\" href=\""),
	 FEED_LIT("\"><span class=\"wb-inv\">"), FEED_LIT(" - </span>Go to social media account</a>")},
	{FEED_LIT("<span class=\"label label-default\">"), FEED_LIT("</span>"),
	 FEED_LIT("<span>Minist\303\250re </span>: "), FEED_LIT("<span>Langue</span>: Anglais"),
	 FEED_LIT("<span>Langue</span>: Fran\303\247ais"), FEED_LIT("<span>Langue</span>: Bilingue"),
	 FEED_LIT("<a class=\"product-link btn btn-primary\" href=\""),
	 FEED_LIT("\"><span class=\"wb-inv\">"),
	 FEED_LIT(" - </span>Aller au compte de m\303\251dia social</a>")}};

typedef struct FeedWriter
{
	StringInfo buf;		 /* the document */
	bool json;			 /* a json string's spelling, else the cells as they are */
	FeedLit m[M_COUNT];	 /* the markup, in that spelling */
	StringInfoData text, /* a text to escape for json */
		escaped;
} FeedWriter;

static void
feed_writer_init(FeedWriter *w, Feed *f, StringInfo buf, bool json)
{
	w->buf = buf;
	w->json = json;
	initStringInfo(&w->text);
	initStringInfo(&w->escaped);
	for (int k = 0; k < M_COUNT; k++)
	{
		w->m[k] = feed_markup[f->fr][k];
		if (json)
		{
			/* escape_json() of the markup, without its quotes. */
			resetStringInfo(&w->escaped);
			escape_json(&w->escaped, w->m[k].s);
			w->m[k].s = pnstrdup(w->escaped.data + 1, w->escaped.len - 2);
			w->m[k].len = w->escaped.len - 2;
		}
	}
}

static inline void
feed_lit(FeedWriter *w, int which)
{
	appendBinaryStringInfo(w->buf, w->m[which].s, w->m[which].len);
}

/* A text, HTML-escaped; in json, then escaped as escape_json() does. */
static void
feed_text(FeedWriter *w, FeedText t)
{
	int start = w->buf->len;

	if (append_html(w->buf, t.s, t.len) && w->json)
	{
		resetStringInfo(&w->text);
		appendBinaryStringInfo(&w->text, w->buf->data + start, w->buf->len - start);
		w->buf->len = start;
		w->buf->data[start] = '\0';
		resetStringInfo(&w->escaped);
		escape_json(&w->escaped, w->text.data);
		appendBinaryStringInfo(w->buf, w->escaped.data + 1, w->escaped.len - 2);
	}
}

/*
 * The end of cell c: in json, the string's end and the next one's start;
 * for jsonb, where the cell ends in the document.
 */
static inline void
feed_cell_end(FeedWriter *w, int c, int *ends)
{
	if (!w->json)
		ends[c] = w->buf->len;
	else if (c < 4)
		appendBinaryStringInfo(w->buf, "\",\"", 3);
}

/*
 * Entry i's five cells: the account's name; the platform as a label; the
 * department; the language; the link button, whose hidden text names the
 * owner (the owner label, else the department). In json, inside the
 * entry's [" and "].
 */
static void
feed_entry(Feed *f, uint64 i, FeedWriter *w, int *ends)
{
	FeedEntry *e = f->entries[i];
	FeedText dept = f->depts[e->dept]->name;

	feed_text(w, feed_get(e, FEED_ACCT));
	feed_cell_end(w, 0, ends);
	feed_lit(w, M_PLATFORM_OPEN);
	feed_text(w, feed_get(e, FEED_PLATFORM));
	feed_lit(w, M_PLATFORM_CLOSE);
	feed_cell_end(w, 1, ends);
	feed_lit(w, M_DEPARTMENT);
	feed_text(w, dept);
	feed_cell_end(w, 2, ends);
	feed_lit(w, M_ENGLISH + e->lang);
	feed_cell_end(w, 3, ends);
	feed_lit(w, M_LINK_OPEN);
	feed_text(w, feed_get(e, FEED_URL));
	feed_lit(w, M_LINK_OWNER);
	feed_text(w, e->len[FEED_OWNER] < 0 ? dept : feed_get(e, FEED_OWNER));
	feed_lit(w, M_LINK_CLOSE);
	feed_cell_end(w, 4, ends);
}

/*
 * The document's likely size, so that its buffer is allocated once and no
 * larger than it needs: the entries' texts, the markup around them in the
 * writer's spelling (the longest language cell counted), what the document
 * adds to each entry (per_entry: its json punctuation, or its jsonb header
 * and JEntries), and some room for the entities of escaped texts. (A large
 * allocation rounded up, as enlargeStringInfo() rounds to a power of two,
 * costs here: past glibc's largest mmap threshold, 32MB, every call maps
 * and faults in fresh pages.)
 */
static Size
feed_size_guess(Feed *f, FeedWriter *w, int per_entry)
{
	Size markup = 0;
	Size language = 0;

	for (int k = 0; k < M_COUNT; k++)
	{
		if (k >= M_ENGLISH && k <= M_BILINGUAL)
			language = Max(language, (Size) w->m[k].len);
		else
			markup += w->m[k].len;
	}
	/* A guess too large for one allocation is left to the buffer's growth. */
	return Min(f->text_bytes + f->text_bytes / 16 + (markup + language + per_entry + 8) * f->n + 64,
			   MaxAllocSize / 2);
}

/*
 * A buffer of exactly the likely size (enlargeStringInfo() would round it up
 * to a power of two); it still grows if the guess was short.
 */
static void
feed_buffer(StringInfo buf, Size size)
{
	buf->data = palloc(size + 1);
	buf->maxlen = size + 1;
	buf->len = 0;
	buf->data[0] = '\0';
	buf->cursor = 0;
}

/* ---- json text: exactly what json_build_object('aaData', json_agg(...)) writes ---- */

/* smam.public_index_feed_json(lang text) RETURNS json */
Datum
smam_public_index_feed_json(PG_FUNCTION_ARGS)
{
	Feed		f;
	StringInfoData buf;
	FeedWriter w;

	feed_read(&f, feed_is_french(fcinfo));
	/* The varlena header first, so that the buffer is the result. */
	feed_writer_init(&w, &f, &buf, true);
	/* Per entry: ", [" and "]", and "," between its five cells (quoted). */
	feed_buffer(&buf, feed_size_guess(&f, &w, 18));
	appendBinaryStringInfo(&buf, "\0\0\0\0", VARHDRSZ);
	appendStringInfoString(&buf, "{\"aaData\" : [");
	for (uint64 i = 0; i < f.n; i++)
	{
		if (i > 0)
			appendBinaryStringInfo(&buf, ", [\"", 4);
		else
			appendBinaryStringInfo(&buf, "[\"", 2);
		feed_entry(&f, i, &w, NULL);
		appendBinaryStringInfo(&buf, "\"]", 2);
	}
	appendStringInfoString(&buf, "]}");
	MemoryContextDelete(f.cxt);
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
 * counted in its length. The number of entries is known before the first
 * is written, so the head (the object, the key, the outer array's header
 * and JEntries) has its room at the front of the one buffer; each entry's
 * JEntry is filled in as the entry is written, and so are its cells'
 * JEntries, whose room is kept before the cells are written. No tree of
 * JsonbValues, no second pass over the data, no copy of the document.
 */
static void
append_uint32(StringInfo buf, uint32 v)
{
	appendBinaryStringInfo(buf, (char *) &v, sizeof(uint32));
}

static void
put_uint32(StringInfo buf, int at, uint32 v)
{
	memcpy(buf->data + at, &v, sizeof(uint32));
}

static void
feed_too_big(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("the index feed exceeds the maximum size of a jsonb array (%d bytes)", JENTRY_OFFLENMASK)));
}

/* smam.public_index_feed(lang text) RETURNS jsonb */
Datum
smam_public_index_feed(PG_FUNCTION_ARGS)
{
	static const char key[] = "aaData";
	const int	keylen = sizeof(key) - 1;
	Feed		f;
	StringInfoData doc;
	FeedWriter w;
	int			pad,
				jentries,
				head;
	uint32		prev_end = 0,
				array_len;

	feed_read(&f, feed_is_french(fcinfo));
	if (f.n > JENTRY_OFFLENMASK / 4)
		feed_too_big();

	/*
	 * The head's room. Offsets count from the varlena header: the object's
	 * header at 4, its two JEntries at 8, the key at 16, then the array,
	 * aligned: its header, then one JEntry per entry.
	 */
	pad = (4 - (VARHDRSZ + 4 + 8 + keylen) % 4) % 4;
	jentries = VARHDRSZ + 4 + 8 + keylen + pad + 4;
	head = jentries + 4 * (int) f.n;
	Assert(head % 4 == 0);
	feed_writer_init(&w, &f, &doc, false);
	/* Per entry: its header, five JEntries, up to 3 bytes of alignment. */
	feed_buffer(&doc, head + feed_size_guess(&f, &w, 27));
	memset(doc.data, 0, head);
	doc.len = head;

	for (uint64 i = 0; i < f.n; i++)
	{
		int ends[5];
		int cell_jentries, start;
		uint32 end;

		/* The entry starts 4-byte aligned (the head's size is aligned). */
		while (doc.len % 4 != 0)
			appendStringInfoChar(&doc, '\0');
		append_uint32(&doc, 5 | JB_FARRAY);
		cell_jentries = doc.len;
		appendBinaryStringInfo(&doc, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
		start = doc.len;
		feed_entry(&f, i, &w, ends);
		for (int c = 0; c < 5; c++)
		{
			uint32 len = ends[c] - (c == 0 ? start : ends[c - 1]);

			/* Child 0 is a stride point: its JEntry holds the end offset. */
			put_uint32(&doc, cell_jentries + 4 * c,
					   JENTRY_ISSTRING | (c % JB_OFFSET_STRIDE == 0
											  ? ((uint32) (ends[c] - start) | JENTRY_HAS_OFF)
											  : len));
		}
		if ((uint32) (doc.len - head) > JENTRY_OFFLENMASK)
			feed_too_big();
		end = doc.len - head;
		put_uint32(&doc, jentries + 4 * (int) i,
				   JENTRY_ISCONTAINER | (i % JB_OFFSET_STRIDE == 0 ? (end | JENTRY_HAS_OFF) : end - prev_end));
		prev_end = end;
	}

	array_len = pad + 4 + 4 * (uint32) f.n + (doc.len - head);
	if (array_len > JENTRY_OFFLENMASK)
		feed_too_big();
	put_uint32(&doc, VARHDRSZ, 1 | JB_FOBJECT);
	/* The key is child 0, a stride point; the value, child 1, a length. */
	put_uint32(&doc, VARHDRSZ + 4, JENTRY_ISSTRING | keylen | JENTRY_HAS_OFF);
	put_uint32(&doc, VARHDRSZ + 8, JENTRY_ISCONTAINER | array_len);
	memcpy(doc.data + VARHDRSZ + 12, key, keylen);
	put_uint32(&doc, jentries - 4, (uint32) f.n | JB_FARRAY);
	MemoryContextDelete(f.cxt);
	SET_VARSIZE(doc.data, doc.len);
	PG_RETURN_POINTER(doc.data);
}

/*
 * answer.c: what smam keeps of what the network sends, judged in C before
 * any SQL sees it.
 *
 * A platform's answer, a Location header, an error text built from either:
 * none of it is trusted to be text in the database's encoding, to be free
 * of NUL bytes, or to be JSON that PostgreSQL's jsonb accepts. So nothing
 * from the network is handed to SQL as text or cast to jsonb there; each
 * answer is judged here alone, and a bad one fails its own delivery or
 * metrics pull with the reason, never the batch it came in:
 *
 *  - smam_net_text() copies text received (headers, addresses, messages)
 *    keeping only characters valid in the database's encoding; any other
 *    byte, NUL and control characters included, is written \xHH;
 *  - smam_answer_post_id() and smam_answer_metrics() read a JSON answer:
 *    valid in the database's encoding, no deeper than SMAM_JSON_MAX_DEPTH
 *    (checked without recursion before the parser, which recurses, runs),
 *    parsed by PostgreSQL's own JSON parser with its escapes decoded (so
 *    \u0000 is refused as jsonb refuses it), and then only the values a
 *    connector asks for are taken, each checked for what it must be.
 */
#include "smam.h"
#include "http.h"

#include <limits.h>
#include <math.h>

#include "common/jsonapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

/* Text from the network, safe to store: see the file's comment. */
char *
smam_net_text(const char *s, size_t len)
{
	StringInfoData out;
	int enc = GetDatabaseEncoding();
	size_t i = 0;

	if (s == NULL)
		return NULL;
	initStringInfo(&out);
	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		int l;

		if (c >= 0x20 && c < 0x7F)
		{
			appendStringInfoChar(&out, (char) c);
			i++;
			continue;
		}
		if (c >= 0x80 &&
			(l = pg_encoding_verifymbchar(enc, s + i, (int) Min(len - i, (size_t) 16))) > 0)
		{
			appendBinaryStringInfo(&out, s + i, l);
			i += l;
			continue;
		}
		appendStringInfo(&out, "\\x%02X", c);
		i++;
	}
	return out.data;
}

char *
smam_net_cstring(const char *s)
{
	return s == NULL ? NULL : smam_net_text(s, strlen(s));
}

/* ---- JSON ---- */

/*
 * Deeper than SMAM_JSON_MAX_DEPTH? Counted over the bytes, strings skipped,
 * so that the recursive parser never meets a document that would exhaust
 * the stack.
 */
static bool
too_deep(const char *s, size_t len)
{
	int depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		char c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '[' || c == '{')
		{
			if (++depth > SMAM_JSON_MAX_DEPTH)
				return true;
		}
		else if (c == ']' || c == '}')
			depth--;
	}
	return false;
}

/*
 * Walking the document: where the parser is (one key or index per level),
 * and what was found at the path asked for.
 */
typedef struct Walk
{
	char **path;
	int npath;
	bool members; /* collect the numbers of the object at the path */
	int level;	  /* entries in the position of the value being read */
	char *key[SMAM_JSON_MAX_DEPTH + 2];
	int index[SMAM_JSON_MAX_DEPTH + 2];
	bool in_array[SMAM_JSON_MAX_DEPTH + 2];
	/* found at the path */
	bool found;
	bool container;
	bool object;
	JsonTokenType type;
	char *scalar;
	/* the members of the object at the path that are numbers */
	int n;
	int cap;
	char **names;
	char **numbers;
} Walk;

/* Do levels 1..n of the position spell the path (of n entries)? */
static bool
on_path(Walk *w, int n)
{
	if (n != w->npath)
		return false;
	for (int l = 1; l <= n; l++)
	{
		if (w->in_array[l])
		{
			char buf[16];

			snprintf(buf, sizeof(buf), "%d", w->index[l]);
			if (strcmp(buf, w->path[l - 1]) != 0)
				return false;
		}
		else if (w->key[l] == NULL || strcmp(w->key[l], w->path[l - 1]) != 0)
			return false;
	}
	return true;
}

static void
walk_container_start(Walk *w, bool object)
{
	if (on_path(w, w->level))
	{
		w->found = true;
		w->container = true;
		w->object = object;
	}
	w->level++;
	w->key[w->level] = NULL;
	w->index[w->level] = -1;
	w->in_array[w->level] = !object;
}

static void
walk_object_start(void *state)
{
	walk_container_start((Walk *) state, true);
}

static void
walk_array_start(void *state)
{
	walk_container_start((Walk *) state, false);
}

static void
walk_end(void *state)
{
	((Walk *) state)->level--;
}

static void
walk_field(void *state, char *fname, bool isnull)
{
	Walk *w = (Walk *) state;

	w->key[w->level] = fname;
}

static void
walk_element(void *state, bool isnull)
{
	Walk *w = (Walk *) state;

	w->index[w->level]++;
}

static void
walk_scalar(void *state, char *token, JsonTokenType type)
{
	Walk *w = (Walk *) state;

	if (on_path(w, w->level))
	{
		w->found = true;
		w->type = type;
		w->scalar = token;
		return;
	}
	if (w->members && type == JSON_TOKEN_NUMBER && w->level == w->npath + 1 &&
		!w->in_array[w->level] && on_path(w, w->npath))
	{
		if (w->n == w->cap)
		{
			w->cap = Max(16, w->cap * 2);
			w->names = w->names ? repalloc(w->names, sizeof(char *) * w->cap)
								: palloc(sizeof(char *) * w->cap);
			w->numbers = w->numbers ? repalloc(w->numbers, sizeof(char *) * w->cap)
									: palloc(sizeof(char *) * w->cap);
		}
		w->names[w->n] = w->key[w->level];
		w->numbers[w->n++] = token;
	}
}

static char *
clip(const char *s, int max)
{
	int len = (int) strlen(s);

	if (len <= max)
		return pstrdup(s);
	return psprintf("%s...", pnstrdup(s, pg_mbcliplen(s, len, max)));
}

/*
 * Parse an answer and walk it; NULL if it could be read, else why not.
 * The caller checked that it is not empty.
 */
static char *
walk_answer(const char *body, size_t len, Walk *w)
{
	JsonLexContext *lex;
	JsonSemAction sem = {0};
	JsonParseErrorType rc;

	if (len > (size_t) INT_MAX || memchr(body, '\0', len) != NULL)
		return pstrdup("the answer holds a NUL byte");
	if (!pg_verifymbstr(body, (int) len, true))
		return psprintf("the answer is not valid %s", GetDatabaseEncodingName());
	if (too_deep(body, len))
		return psprintf("the answer nests deeper than %d levels", SMAM_JSON_MAX_DEPTH);
	sem.semstate = w;
	sem.object_start = walk_object_start;
	sem.object_end = walk_end;
	sem.array_start = walk_array_start;
	sem.array_end = walk_end;
	sem.object_field_start = walk_field;
	sem.array_element_start = walk_element;
	sem.scalar = walk_scalar;
	lex = makeJsonLexContextCstringLen(unconstify(char *, body), (int) len, GetDatabaseEncoding(),
									   true);
	rc = pg_parse_json(lex, &sem);
	if (rc != JSON_SUCCESS)
		return psprintf("the answer is not JSON smam can read: %s",
						clip(smam_net_cstring(json_errdetail(rc, lex)), 200));
	return NULL;
}

/* The first character of an answer that is not white space, or '\0'. */
static char
first_char(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	return i < len ? body[i] : '\0';
}

static bool
short_printable(const char *s, int max)
{
	size_t len = strlen(s);

	if (len == 0 || len > (size_t) max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] < 0x21 || (unsigned char) s[i] > 0x7E)
			return false;
	return true;
}

char *
smam_answer_post_id(const char *body, size_t len, char **path, int npath, char **id, int *sqlstate)
{
	Walk w = {0};
	char *problem;

	*id = NULL;
	*sqlstate = ERRCODE_INVALID_TEXT_REPRESENTATION;
	if (body == NULL || (first_char(body, len) != '{' && first_char(body, len) != '['))
		return NULL; /* not JSON: no post id to read */
	w.path = path;
	w.npath = npath;
	if ((problem = walk_answer(body, len, &w)) != NULL)
		return problem;
	if (!w.found || (w.type != JSON_TOKEN_STRING && w.type != JSON_TOKEN_NUMBER && !w.container))
		return NULL;
	if (w.container)
		return pstrdup("the post id the connector names is a JSON object or array, not a "
					   "short value");
	if (!short_printable(w.scalar, SMAM_POST_ID_MAX))
		return psprintf("the post id the connector names is not 1 to %d visible ASCII characters",
						SMAM_POST_ID_MAX);
	*id = w.scalar;
	return NULL;
}

/* Can a JSON number be kept as a metric (numeric), whatever its spelling? */
static bool
number_fits(const char *s)
{
	char *end;
	double v;

	if (strlen(s) > 64)
		return false;
	errno = 0;
	v = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(v);
}

char *
smam_answer_metrics(const char *body, size_t len, char **path, int npath, int *n, char ***names,
					char ***values, int *sqlstate)
{
	Walk w = {0};
	char *problem;

	*n = 0;
	*sqlstate = ERRCODE_INVALID_TEXT_REPRESENTATION;
	if (body == NULL || first_char(body, len) != '{')
		return pstrdup("the answer is not a JSON object of metrics");
	w.path = path;
	w.npath = npath;
	w.members = true;
	if ((problem = walk_answer(body, len, &w)) != NULL)
		return problem;
	if (!w.found || !w.object)
		return NULL; /* nothing at the path: no metrics, as before */
	for (int i = 0; i < w.n; i++)
	{
		if (strlen(w.names[i]) == 0 || strlen(w.names[i]) > SMAM_METRIC_NAME_MAX)
			return psprintf("a metric's name is empty or longer than %d bytes",
							SMAM_METRIC_NAME_MAX);
		if (!number_fits(w.numbers[i]))
		{
			*sqlstate = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			return psprintf("metric \"%s\" is %s, a number smam cannot keep", clip(w.names[i], 60),
							clip(w.numbers[i], 40));
		}
	}
	*n = w.n;
	*names = w.names;
	*values = w.numbers;
	return NULL;
}

/*
 * import.c: the text formats of the index of official accounts (6.2.4).
 *
 * smam.csv_records() reads a CSV file as RFC 4180 writes it: records end
 * with CRLF or LF, fields are separated by commas, a field in double quotes
 * may hold commas, line breaks and doubled quotes. It never raises on bad
 * input: a record it cannot read comes back with the text as it came and the
 * problem, so that the import keeps the row and the reason.
 *
 * smam.html_escape() and smam.html_unescape() carry text into and out of
 * the canada.ca feed, whose cells a web page inserts as HTML.
 */
#include "smam.h"

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(smam_csv_records);
PG_FUNCTION_INFO_V1(smam_html_escape);
PG_FUNCTION_INFO_V1(smam_html_unescape);

/* One record being read. */
typedef struct CsvRecord
{
	ArrayBuildState *fields;
	StringInfoData field;
	int			nfields;
	const char *problem;
} CsvRecord;

static void
end_field(CsvRecord *rec)
{
	rec->fields = accumArrayResult(rec->fields,
								   PointerGetDatum(cstring_to_text_with_len(rec->field.data,
																			rec->field.len)),
								   false, TEXTOID, CurrentMemoryContext);
	resetStringInfo(&rec->field);
	rec->nfields++;
}

/*
 * smam.csv_records(content text)
 *   RETURNS TABLE (record_number integer, line_number integer, fields text[],
 *                  raw text, problem text)
 *
 * record_number counts records from 1 (the header is record 1); line_number
 * is the line on which the record starts. Blank lines are skipped. A record
 * with a problem has fields NULL.
 */
Datum
smam_csv_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *content = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(content);
	const char *end = s + VARSIZE_ANY_EXHDR(content);
	const char *p = s;
	int			record_number = 0;
	int			line = 1;
	MemoryContext rowcxt;
	MemoryContext oldcxt;

	InitMaterializedSRF(fcinfo, 0);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "smam csv record",
								   ALLOCSET_DEFAULT_SIZES);

	/* A byte-order mark is no part of the first field. */
	if (end - p >= 3 && (unsigned char) p[0] == 0xEF &&
		(unsigned char) p[1] == 0xBB && (unsigned char) p[2] == 0xBF)
		p += 3;

	while (p < end)
	{
		const char *start = p;
		int			start_line = line;
		CsvRecord	rec;
		bool		at_record_end = false;
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		/* Skip blank lines between records. */
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
		{
			p += (*p == '\r') ? 2 : 1;
			line++;
			continue;
		}

		oldcxt = MemoryContextSwitchTo(rowcxt);
		rec.fields = NULL;
		rec.nfields = 0;
		rec.problem = NULL;
		initStringInfo(&rec.field);

		while (!at_record_end)
		{
			if (p < end && *p == '"')
			{
				/* Quoted field: up to the closing quote. */
				bool		closed = false;

				p++;
				while (p < end)
				{
					if (*p == '"')
					{
						if (p + 1 < end && p[1] == '"')
						{
							appendStringInfoChar(&rec.field, '"');
							p += 2;
							continue;
						}
						p++;
						closed = true;
						break;
					}
					if (*p == '\n')
						line++;
					appendStringInfoChar(&rec.field, *p);
					p++;
				}
				if (!closed)
				{
					rec.problem = "A quoted field is not closed before the end of the file.";
					at_record_end = true;
					break;
				}
				if (p < end && *p != ',' && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n') &&
					!(*p == '\r' && p + 1 == end))
				{
					rec.problem = smam_format("Field %d has text after its closing quote.",
											  rec.nfields + 1);
					/* The rest of the physical line belongs to this bad record. */
					while (p < end && *p != '\n')
						p++;
					at_record_end = true;
					break;
				}
			}
			else
			{
				/* Unquoted field: up to a comma or the end of the line. */
				while (p < end && *p != ',' && *p != '\n' &&
					   !(*p == '\r' && (p + 1 == end || p[1] == '\n')))
				{
					appendStringInfoChar(&rec.field, *p);
					p++;
				}
			}
			end_field(&rec);
			if (p < end && *p == ',')
			{
				p++;
				continue;
			}
			at_record_end = true;
		}

		/* The raw record, without its line break; then step over the break. */
		{
			const char *raw_end = p;

			if (raw_end > start && raw_end[-1] == '\r' && (raw_end == end || *raw_end == '\n'))
				raw_end--;
			if (p < end && *p == '\r')
				p++;
			if (p < end && *p == '\n')
			{
				p++;
				line++;
			}
			record_number++;

			MemoryContextSwitchTo(oldcxt);
			values[0] = Int32GetDatum(record_number);
			values[1] = Int32GetDatum(start_line);
			if (rec.problem == NULL)
				values[2] = makeArrayResult(rec.fields, CurrentMemoryContext);
			else
				nulls[2] = true;
			pg_verifymbstr(start, raw_end - start, false);
			values[3] = PointerGetDatum(cstring_to_text_with_len(start, raw_end - start));
			if (rec.problem != NULL)
				values[4] = PointerGetDatum(cstring_to_text(rec.problem));
			else
				nulls[4] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}

/* smam.html_escape(text) RETURNS text: & < > " ' as entities. */
Datum
smam_html_escape(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(in);
	int			len = VARSIZE_ANY_EXHDR(in);
	StringInfoData out;
	int			first = 0;

	/* Most texts have nothing to escape: return them as they are. */
	while (first < len && s[first] != '&' && s[first] != '<' && s[first] != '>' &&
		   s[first] != '"' && s[first] != '\'')
		first++;
	if (first == len)
		PG_RETURN_TEXT_P(in);

	initStringInfo(&out);
	enlargeStringInfo(&out, len + 16);
	appendBinaryStringInfo(&out, s, first);
	for (int i = first; i < len; i++)
	{
		switch (s[i])
		{
			case '&':
				appendStringInfoString(&out, "&amp;");
				break;
			case '<':
				appendStringInfoString(&out, "&lt;");
				break;
			case '>':
				appendStringInfoString(&out, "&gt;");
				break;
			case '"':
				appendStringInfoString(&out, "&quot;");
				break;
			case '\'':
				appendStringInfoString(&out, "&#39;");
				break;
			default:
				appendStringInfoChar(&out, s[i]);
		}
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

/* Named entities the feed is seen to use; numeric ones are read in full. */
static const struct
{
	const char *name;
	const char *utf8;
}			named_entities[] =
{
	{"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"},
	{"nbsp", "\xC2\xA0"}, {"eacute", "\xC3\xA9"}, {"egrave", "\xC3\xA8"},
	{"ecirc", "\xC3\xAA"}, {"agrave", "\xC3\xA0"}, {"ccedil", "\xC3\xA7"},
	{"ocirc", "\xC3\xB4"}, {"icirc", "\xC3\xAE"}, {"Eacute", "\xC3\x89"},
	{"rsquo", "\xE2\x80\x99"}, {"lsquo", "\xE2\x80\x98"}, {"ndash", "\xE2\x80\x93"},
	{NULL, NULL}
};

/*
 * smam.html_unescape(text) RETURNS text: the text of an HTML fragment, with
 * its tags removed and its character references read. An unknown or
 * malformed reference stays as it is.
 */
Datum
smam_html_unescape(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(in);
	int			len = VARSIZE_ANY_EXHDR(in);
	StringInfoData out;
	int			i = 0;

	initStringInfo(&out);
	while (i < len)
	{
		if (s[i] == '<')
		{
			int			j = i + 1;

			while (j < len && s[j] != '>')
				j++;
			if (j < len)
			{
				i = j + 1;
				continue;
			}
		}
		if (s[i] == '&')
		{
			int			j = i + 1;

			while (j < len && j - i <= 10 && s[j] != ';')
				j++;
			if (j < len && s[j] == ';')
			{
				const char *name = s + i + 1;
				int			nlen = j - i - 1;
				bool		done = false;

				if (nlen >= 2 && name[0] == '#')
				{
					long		code = 0;
					bool		hex = (name[1] == 'x' || name[1] == 'X');
					bool		ok = nlen > (hex ? 2 : 1);

					for (int k = hex ? 2 : 1; ok && k < nlen; k++)
					{
						int			d;

						if (name[k] >= '0' && name[k] <= '9')
							d = name[k] - '0';
						else if (hex && name[k] >= 'a' && name[k] <= 'f')
							d = name[k] - 'a' + 10;
						else if (hex && name[k] >= 'A' && name[k] <= 'F')
							d = name[k] - 'A' + 10;
						else
						{
							ok = false;
							break;
						}
						code = code * (hex ? 16 : 10) + d;
						if (code > 0x10FFFF)
							ok = false;
					}
					if (ok && code > 0 && !(code >= 0xD800 && code <= 0xDFFF))
					{
						unsigned char buf[8];

						unicode_to_utf8((pg_wchar) code, buf);
						appendBinaryStringInfo(&out, (char *) buf, pg_utf_mblen(buf));
						done = true;
					}
				}
				else
				{
					for (int k = 0; named_entities[k].name != NULL; k++)
						if ((int) strlen(named_entities[k].name) == nlen &&
							strncmp(named_entities[k].name, name, nlen) == 0)
						{
							appendStringInfoString(&out, named_entities[k].utf8);
							done = true;
							break;
						}
				}
				if (done)
				{
					i = j + 1;
					continue;
				}
			}
		}
		appendStringInfoChar(&out, s[i]);
		i++;
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}

/*
 * smam.department_name_key(): the key two spellings of one department's name
 * share. Case, spacing (any white space, NBSP, thin spaces), accents of the
 * Latin letters, typographic hyphens and apostrophes (soft hyphen, dashes,
 * curly quotes), a leading article (the, le, la, les, l') and a trailing
 * abbreviation in parentheses ("... (TBS)") are set aside. NULL when nothing
 * is left. Called for every row an import reads and in every lookup of a
 * department by name, so it is written here rather than as nested regular
 * expressions.
 */
PG_FUNCTION_INFO_V1(smam_department_name_key);

/* U+00C0..U+00FF folded: "" keeps the character as it is. */
static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "", "",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "", "y"};

static void
append_code_point(StringInfo out, pg_wchar c)
{
	unsigned char buf[8];

	unicode_to_utf8(c, buf);
	appendBinaryStringInfo(out, (char *) buf, pg_utf_mblen(buf));
}

Datum
smam_department_name_key(PG_FUNCTION_ARGS)
{
	text	   *in = PG_GETARG_TEXT_PP(0);
	const unsigned char *s = (const unsigned char *) VARDATA_ANY(in);
	int			len = VARSIZE_ANY_EXHDR(in);
	StringInfoData out;
	bool		space = false;
	char	   *k;
	int			klen;
	static const char *const articles[] = {"the ", "le ", "la ", "les ", "l'", NULL};

	if (GetDatabaseEncoding() != PG_UTF8)
		smam_refuse(ERRCODE_FEATURE_NOT_SUPPORTED, NULL, "smam needs a database in UTF8",
					"Department names are compared as Unicode text.",
					"Create the database with ENCODING 'UTF8'.");
	initStringInfo(&out);
	for (int i = 0; i < len;)
	{
		int			l = pg_utf_mblen(s + i);
		pg_wchar	c;

		if (i + l > len || !pg_utf8_islegal(s + i, l))
		{
			c = s[i];			/* not reached for valid text; kept as a byte */
			l = 1;
		}
		else
			c = utf8_to_unicode(s + i);
		i += l;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
			c == 0x00A0 || c == 0x2009 || c == 0x202F || c == 0x2007 || c == 0x3000)
		{
			space = out.len > 0;
			continue;
		}
		if (space)
		{
			appendStringInfoChar(&out, ' ');
			space = false;
		}
		if (c == 0x00AD || (c >= 0x2010 && c <= 0x2014))
			appendStringInfoChar(&out, '-');
		else if (c == 0x2018 || c == 0x2019 || c == 0x02BC)
			appendStringInfoChar(&out, '\'');
		else if (c >= 'A' && c <= 'Z')
			appendStringInfoChar(&out, (char) (c - 'A' + 'a'));
		else if (c >= 0x00C0 && c <= 0x00FF && latin1_fold[c - 0x00C0][0] != '\0')
			appendStringInfoString(&out, latin1_fold[c - 0x00C0]);
		else if (c >= 0x00C0 && c <= 0x00DE && c != 0x00D7)
			append_code_point(&out, c + 0x20);	/* Þ and the like: lower case */
		else if (c == 0x0152 || c == 0x0153)
			appendStringInfoString(&out, "oe");
		else
			append_code_point(&out, c);
	}

	k = out.data;
	klen = out.len;
	for (int a = 0; articles[a] != NULL; a++)
	{
		int			alen = strlen(articles[a]);

		if (klen > alen && strncmp(k, articles[a], alen) == 0)
		{
			k += alen;
			klen -= alen;
			break;
		}
	}
	/* A trailing "(...)" without parentheses inside, and the space before it. */
	if (klen > 0 && k[klen - 1] == ')')
	{
		int			open = klen - 2;

		while (open >= 0 && k[open] != '(' && k[open] != ')')
			open--;
		if (open >= 0 && k[open] == '(')
		{
			klen = open;
			if (klen > 0 && k[klen - 1] == ' ')
				klen--;
		}
	}
	if (klen == 0)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(k, klen));
}

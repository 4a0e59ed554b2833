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

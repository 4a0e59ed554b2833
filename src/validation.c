/*
 * validation.c: checking and normalizing the URL of an account.
 *
 * smam.normalize_url() puts a URL in the one form smam stores and compares:
 * https scheme (http is upgraded, a missing scheme is supplied), lower-case
 * host without a trailing dot or default port, no fragment, no trailing
 * slash, and no tracking or display parameters in the query (utm_*, ref,
 * hl, lang, ...). Which host belongs to which platform, and what the path of
 * an account looks like there, is data (smam.platform_host, smam.platform),
 * applied by smam.check_account_url() in SQL.
 *
 * What cannot be made into a URL is refused with SQLSTATE 22023, naming the
 * problem, so that an import can keep the row and the reason.
 */
#include "smam.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include <ctype.h>

PG_FUNCTION_INFO_V1(smam_normalize_url);
PG_FUNCTION_INFO_V1(smam_url_problem);

/* Query parameters that say how a page was reached or shown, not which. */
static const char *const noise_params[] = {"ref",
										   "ref_src",
										   "ref_url",
										   "fref",
										   "hl",
										   "lang",
										   "locale",
										   "_rdr",
										   "__tn__",
										   "__xts__",
										   "eid",
										   "originalsubdomain",
										   "disable_polymer",
										   "sub_confirmation",
										   "feature",
										   "si",
										   "igshid",
										   "igsh",
										   "fbclid",
										   "gclid",
										   "mibextid",
										   "view_as",
										   "trk",
										   "utm_source",
										   "utm_medium",
										   "utm_campaign",
										   "utm_term",
										   "utm_content",
										   NULL};

static bool
is_noise_param(const char *name, int len)
{
	if (len >= 4 && pg_strncasecmp(name, "utm_", 4) == 0)
		return true;
	for (int i = 0; noise_params[i] != NULL; i++)
		if ((int) strlen(noise_params[i]) == len && pg_strncasecmp(noise_params[i], name, len) == 0)
			return true;
	return false;
}

/*
 * Append one character of a path or query in canonical form: bytes outside
 * ASCII (UTF-8 of an accented name) are percent-encoded, escapes are written
 * in upper case, and a stray '%' is escaped itself. Returns how many input
 * bytes were used.
 */
static int
append_canonical(StringInfo out, const char *c, const char *end)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char b = (unsigned char) *c;

	if (b >= 0x80)
	{
		appendStringInfoChar(out, '%');
		appendStringInfoChar(out, hex[b >> 4]);
		appendStringInfoChar(out, hex[b & 15]);
		return 1;
	}
	if (b == '%')
	{
		if (end - c >= 3 && isxdigit((unsigned char) c[1]) && isxdigit((unsigned char) c[2]))
		{
			appendStringInfoChar(out, '%');
			appendStringInfoChar(out, pg_toupper((unsigned char) c[1]));
			appendStringInfoChar(out, pg_toupper((unsigned char) c[2]));
			return 3;
		}
		appendStringInfoString(out, "%25");
		return 1;
	}
	appendStringInfoChar(out, b);
	return 1;
}

/* Give up on the URL: say why, and return NULL from normalize_url(). */
#define URL_PROBLEM(msg)                                                                           \
	do                                                                                             \
	{                                                                                              \
		*problem = (msg);                                                                          \
		return NULL;                                                                               \
	} while (0)

/*
 * Normalize. On a URL that cannot be read, return NULL and set *problem to a
 * sentence that says why. The result is palloc'd.
 */
static char *
normalize_url(const char *input, const char **problem)
{
	const char *p = input;
	const char *end;
	const char *scheme_end;
	const char *auth, *auth_end, *path, *path_end, *query = NULL, *query_end = NULL;
	StringInfoData out;
	StringInfoData host;
	int port = -1;
	bool https = true;

	/* Surrounding white space is dirt; white space inside is an error. */
	while (*p && isspace((unsigned char) *p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	if (p == end)
		URL_PROBLEM("The URL is empty.");
	for (const char *c = p; c < end; c++)
	{
		if (isspace((unsigned char) *c) || iscntrl((unsigned char) *c))
			URL_PROBLEM("The URL contains white space or a control character.");
	}

	/* Scheme: http or https; missing means https. */
	scheme_end = strstr(p, "://");
	if (scheme_end != NULL && scheme_end < end)
	{
		int len = scheme_end - p;

		if (len == 5 && pg_strncasecmp(p, "https", 5) == 0)
			https = true;
		else if (len == 4 && pg_strncasecmp(p, "http", 4) == 0)
			https = false;
		else
			URL_PROBLEM(smam_format("The scheme \"%.*s\" is not http or https.", len, p));
		p = scheme_end + 3;
	}
	else if (end - p >= 2 && p[0] == '/' && p[1] == '/')
		p += 2;
	else
	{
		for (const char *c = p; c < end && *c != '/' && *c != '?' && *c != '#'; c++)
			if (*c == ':' && !(c + 1 < end && isdigit((unsigned char) c[1])))
				URL_PROBLEM("The scheme is not http or https.");
	}
	(void) https; /* http is upgraded to https */

	/* Authority. */
	auth = p;
	auth_end = auth;
	while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
		auth_end++;
	if (auth_end == auth)
		URL_PROBLEM("The URL has no host.");
	initStringInfo(&host);
	for (const char *c = auth; c < auth_end; c++)
	{
		if (*c == '@')
			URL_PROBLEM("The URL carries a user name or password before its host.");
		if (*c == ':')
		{
			const char *d = c + 1;

			if (d == auth_end)
				break;
			port = 0;
			for (; d < auth_end; d++)
			{
				if (!isdigit((unsigned char) *d) || port > 65535)
					URL_PROBLEM("The port of the URL is not a number from 1 to 65535.");
				port = port * 10 + (*d - '0');
			}
			if (port < 1 || port > 65535)
				URL_PROBLEM("The port of the URL is not a number from 1 to 65535.");
			break;
		}
		if ((unsigned char) *c >= 0x80)
			URL_PROBLEM(
				"The host has a character outside ASCII; write it in its xn-- (punycode) form.");
		if (!(isalnum((unsigned char) *c) || *c == '-' || *c == '.'))
			URL_PROBLEM(smam_format("The host contains \"%c\", which no host name has.", *c));
		appendStringInfoChar(&host, pg_tolower((unsigned char) *c));
	}
	while (host.len > 0 && host.data[host.len - 1] == '.')
		host.data[--host.len] = '\0';
	if (host.len == 0 || host.data[0] == '.' || strstr(host.data, "..") != NULL ||
		strchr(host.data, '.') == NULL)
		URL_PROBLEM("The host is not a domain name.");

	/* Path, query; the fragment is dropped. */
	path = auth_end;
	path_end = path;
	while (path_end < end && *path_end != '?' && *path_end != '#')
		path_end++;
	if (path_end < end && *path_end == '?')
	{
		query = path_end + 1;
		query_end = query;
		while (query_end < end && *query_end != '#')
			query_end++;
	}

	initStringInfo(&out);
	appendStringInfoString(&out, "https://");
	appendBinaryStringInfo(&out, host.data, host.len);
	if (port > 0 && port != 443 && port != 80)
		appendStringInfo(&out, ":%d", port);

	/* Collapse repeated slashes and drop the trailing ones. */
	{
		const char *c = path;

		while (c < path_end)
		{
			if (*c == '/')
			{
				while (c < path_end && *c == '/')
					c++;
				if (c < path_end)
					appendStringInfoChar(&out, '/');
				continue;
			}
			c += append_canonical(&out, c, path_end);
		}
	}

	if (query != NULL)
	{
		bool first = true;
		const char *c = query;

		while (c < query_end)
		{
			const char *pe = c;
			const char *ne;

			while (pe < query_end && *pe != '&')
				pe++;
			ne = c;
			while (ne < pe && *ne != '=')
				ne++;
			if (pe > c && !is_noise_param(c, ne - c))
			{
				appendStringInfoChar(&out, first ? '?' : '&');
				for (const char *q = c; q < pe;)
					q += append_canonical(&out, q, pe);
				first = false;
			}
			c = pe < query_end ? pe + 1 : pe;
		}
	}
	return out.data;
}

/* smam.normalize_url(url text) RETURNS text, IMMUTABLE STRICT */
Datum
smam_normalize_url(PG_FUNCTION_ARGS)
{
	char *url = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *problem = NULL;
	char *result = normalize_url(url, &problem);

	if (result == NULL)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, NULL, smam_format("invalid URL \"%s\"", url),
					problem,
					"Give the address of the account's page as a browser shows it, such as "
					"https://x.com/handle.");
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/* smam.url_problem(url text) RETURNS text: why the URL is refused, or NULL */
Datum
smam_url_problem(PG_FUNCTION_ARGS)
{
	const char *problem = NULL;

	if (normalize_url(text_to_cstring(PG_GETARG_TEXT_PP(0)), &problem) != NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}

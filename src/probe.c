/*
 * probe.c: the tool looking at the platforms rather than publishing to them.
 *
 * smam.check_account_urls() asks for the page of every live account, all
 * at once, and records the outcome: an account that is gone (404, 410) or
 * that redirects to another host or another handle (a renamed or hijacked
 * account) becomes a compliance finding (view smam.account_url_finding).
 * smam.pull_metrics() reads each managed account's metrics through its
 * connector into the time series smam.account_metric.
 *
 * Both run in the calling session, through smam's one HTTP client and its
 * safety rules; an account without a connector is looked up on its own
 * platform's hosts, never on a private address.
 */
#include "smam.h"
#include "http.h"

#include <curl/curl.h>

#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(smam_check_account_urls);
PG_FUNCTION_INFO_V1(smam_pull_metrics);

#define LINK_SQL                                                                                   \
	"SELECT a.id, coalesce(k.profile_url, a.url), a.handle, a.url,"                                \
	"       coalesce(CASE WHEN k.profile_url IS NOT NULL THEN k.allowed_hosts END,"                \
	"                (SELECT pg_catalog.array_agg(h.host) FROM smam.platform_host h"               \
	"                  WHERE h.platform OPERATOR(pg_catalog.=) a.platform)),"                      \
	"       CASE WHEN k.profile_url IS NOT NULL THEN k.allowed_networks::pg_catalog.text[] END"    \
	"  FROM smam.account a"                                                                        \
	"  LEFT JOIN smam.connector k ON k.platform OPERATOR(pg_catalog.=) a.platform AND k.enabled"   \
	" WHERE smam.account_is_live(a.stage) ORDER BY a.id"

#define METRICS_SQL                                                                                \
	"SELECT a.id, k.base_url OPERATOR(pg_catalog.||) k.metrics_path, a.handle, a.url, "            \
	"k.allowed_hosts,"                                                                             \
	"       k.allowed_networks::pg_catalog.text[], k.header_templates, c.token_secret,"            \
	"       (SELECT d.platform_post_id FROM smam.delivery d WHERE d.account_id "                   \
	"OPERATOR(pg_catalog.=) a.id"                                                                  \
	"         AND d.status OPERATOR(pg_catalog.=) 'delivered'::smam.delivery_status ORDER BY "     \
	"d.settled_at DESC LIMIT 1),"                                                                  \
	"       k.metrics_object_path, c.origin,"                                                      \
	"       CASE WHEN c.suspended_at IS NOT NULL THEN c.suspended_reason END"                      \
	"  FROM smam.account a"                                                                        \
	"  JOIN smam.connector k ON k.platform OPERATOR(pg_catalog.=) a.platform AND k.enabled"        \
	"                       AND k.metrics_path IS NOT NULL"                                        \
	"  JOIN smam.account_credential c ON c.account_id OPERATOR(pg_catalog.=) a.id"                 \
	"   AND (c.expires_at IS NULL OR c.expires_at OPERATOR(pg_catalog.>) pg_catalog.now())"        \
	" WHERE smam.account_is_live(a.stage) ORDER BY a.id"

/*
 * Record a pull: one row of smam.metric_pull per account ($1..$4), one row
 * of smam.account_metric per number read ($5..$7), each judged in C
 * beforehand (a name of at most SMAM_METRIC_NAME_MAX bytes, a finite number
 * that numeric reads).
 */
#define PULL_RECORD_SQL                                                                            \
	"WITH r AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]),"                \
	"             pg_catalog.unnest($2::pg_catalog.int4[]), "                                      \
	"pg_catalog.unnest($3::pg_catalog.text[]),"                                                    \
	"             pg_catalog.unnest($4::pg_catalog.text[])) AS r(id, status, state, err)),"        \
	" p AS (INSERT INTO smam.metric_pull (account_id, department_id, http_status, "                \
	"sqlstate, error)"                                                                             \
	"       SELECT r.id, a.department_id, r.status, r.state, r.err"                                \
	"         FROM r JOIN smam.account a ON a.id OPERATOR(pg_catalog.=) r.id)"                     \
	"INSERT INTO smam.account_metric (account_id, department_id, platform, metric, value)"         \
	" SELECT a.id, a.department_id, a.platform, m.metric, m.value::pg_catalog.numeric"             \
	"   FROM ROWS FROM (pg_catalog.unnest($5::pg_catalog.int8[]), "                                \
	"pg_catalog.unnest($6::pg_catalog.text[]),"                                                    \
	"        pg_catalog.unnest($7::pg_catalog.text[])) AS m(id, metric, value)"                    \
	"   JOIN smam.account a ON a.id OPERATOR(pg_catalog.=) m.id"

static char **
array_of(HeapTuple tup, TupleDesc desc, int col, int *n)
{
	bool isnull;
	Datum d = SPI_getbinval(tup, desc, col, &isnull);
	Datum *elems;
	bool *nulls;
	int count;
	char **out;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
					  &count);
	out = palloc(sizeof(char *) * Max(count, 1));
	for (int i = 0; i < count; i++)
		if (!nulls[i])
			out[(*n)++] = TextDatumGetCString(elems[i]);
	return out;
}

static void
lower_trim(char *s)
{
	size_t l;

	for (char *c = s; *c; c++)
		*c = pg_tolower((unsigned char) *c);
	l = strlen(s);
	while (l > 1 && s[l - 1] == '/')
		s[--l] = '\0';
}

/*
 * Does a redirect from url to location stay on the same account (same host
 * and path, whatever the case, scheme or trailing slash)? A relative
 * Location is resolved against url.
 */
static bool
same_place(const char *url, const char *location, char **where)
{
	CURLU *u = curl_url();
	char *h1 = NULL, *p1 = NULL, *h2 = NULL, *p2 = NULL;
	bool same = false;

	*where = pstrdup(location);
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &h1, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_PATH, &p1, 0) == CURLUE_OK &&
		curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &h2, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_PATH, &p2, 0) == CURLUE_OK)
	{
		char *a = pstrdup(h1), *b = pstrdup(h2), *c = pstrdup(p1), *d = pstrdup(p2);
		char *full = NULL;

		lower_trim(a);
		lower_trim(b);
		lower_trim(c);
		lower_trim(d);
		/* www.x.com and x.com are the same place */
		if (strncmp(a, "www.", 4) == 0)
			a += 4;
		if (strncmp(b, "www.", 4) == 0)
			b += 4;
		same = strcmp(a, b) == 0 && strcmp(c, d) == 0;
		if (curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK)
			*where = smam_net_cstring(full);
		curl_free(full);
	}
	curl_free(h1);
	curl_free(p1);
	curl_free(h2);
	curl_free(p2);
	curl_url_cleanup(u);
	return same;
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * smam.check_account_urls() RETURNS integer: check every live account's
 * page; returns how many accounts became findings (gone or redirected).
 */
Datum
smam_check_account_urls(PG_FUNCTION_ARGS)
{
	int n;
	SmamHttpRequest *reqs;
	int64 *ids;
	char **checked;
	Datum *a_id, *a_url, *a_status, *a_loc, *a_outcome, *a_state, *a_err;
	bool *n_status, *n_loc, *n_state, *n_err;
	int findings = 0;

	SPI_connect();
	if (smam_spi_privileged(LINK_SQL, 0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the live accounts");
	n = (int) SPI_processed;
	reqs = palloc0(sizeof(SmamHttpRequest) * Max(n, 1));
	ids = palloc(sizeof(int64) * Max(n, 1));
	checked = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool isnull;
		SmamValue vals[3];

		ids[i] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		vals[0] = (SmamValue){"handle", SPI_getvalue(tup, desc, 3)};
		vals[1] = (SmamValue){"account_url", SPI_getvalue(tup, desc, 4)};
		vals[2] = (SmamValue){"account_id", SPI_getvalue(tup, desc, 1)};
		checked[i] = smam_fill_template(SPI_getvalue(tup, desc, 2), vals, 3, SMAM_ESC_URL);
		reqs[i].method = "GET";
		reqs[i].url = checked[i];
		reqs[i].discard_body = true;
		reqs[i].allowed_hosts = array_of(tup, desc, 5, &reqs[i].nallowed_hosts);
		reqs[i].allowed_networks = array_of(tup, desc, 6, &reqs[i].nallowed_networks);
	}

	smam_http_perform(reqs, n);

	a_id = palloc(sizeof(Datum) * Max(n, 1));
	a_url = palloc(sizeof(Datum) * Max(n, 1));
	a_status = palloc(sizeof(Datum) * Max(n, 1));
	a_loc = palloc(sizeof(Datum) * Max(n, 1));
	a_outcome = palloc(sizeof(Datum) * Max(n, 1));
	a_state = palloc(sizeof(Datum) * Max(n, 1));
	a_err = palloc(sizeof(Datum) * Max(n, 1));
	n_status = palloc0(Max(n, 1));
	n_loc = palloc0(Max(n, 1));
	n_state = palloc0(Max(n, 1));
	n_err = palloc0(Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		SmamHttpRequest *r = &reqs[i];
		const char *outcome;
		char *error = r->error;
		char *where = NULL;

		if (r->status >= 200 && r->status < 300)
			outcome = "ok";
		else if (r->status == 404 || r->status == 410)
			outcome = "gone";
		else if (r->status >= 300 && r->status < 400 && r->location != NULL)
		{
			if (same_place(r->url, r->location, &where))
			{
				outcome = "ok";
				error = NULL;
			}
			else
			{
				outcome = "redirected";
				error = psprintf("the account's page redirects to %s", where);
			}
		}
		else if (r->sqlstate == ERRCODE_INSUFFICIENT_PRIVILEGE ||
				 r->sqlstate == ERRCODE_INVALID_PARAMETER_VALUE)
			outcome = r->status > 0 ? "unreachable" : "refused";
		else
			outcome = "unreachable";
		if (strcmp(outcome, "gone") == 0 || strcmp(outcome, "redirected") == 0)
			findings++;
		a_id[i] = Int64GetDatum(ids[i]);
		a_url[i] = CStringGetTextDatum(r->url);
		n_status[i] = r->status == 0;
		a_status[i] = Int32GetDatum((int32) r->status);
		a_loc[i] = text_or_null(where ? where : r->location, &n_loc[i]);
		a_outcome[i] = CStringGetTextDatum(outcome);
		a_state[i] = text_or_null(
			r->sqlstate && strcmp(outcome, "ok") != 0 ? unpack_sql_state(r->sqlstate) : NULL,
			&n_state[i]);
		a_err[i] = text_or_null(error, &n_err[i]);
	}
	if (n > 0)
	{
		Oid types[7] = {INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
						TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum args[7];

		args[0] = smam_make_array(a_id, NULL, n, INT8OID);
		args[1] = smam_make_array(a_url, NULL, n, TEXTOID);
		args[2] = smam_make_array(a_status, n_status, n, INT4OID);
		args[3] = smam_make_array(a_loc, n_loc, n, TEXTOID);
		args[4] = smam_make_array(a_outcome, NULL, n, TEXTOID);
		args[5] = smam_make_array(a_state, n_state, n, TEXTOID);
		args[6] = smam_make_array(a_err, n_err, n, TEXTOID);
		if (smam_spi_privileged(
				"INSERT INTO smam.account_url_check (account_id, department_id, url, http_status, "
				"location, outcome, sqlstate, error)"
				" SELECT r.id, a.department_id, r.url, r.status, r.loc, r.outcome, r.state, r.err"
				"   FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), "
				"pg_catalog.unnest($2::pg_catalog.text[]),"
				"        pg_catalog.unnest($3::pg_catalog.int4[]), "
				"pg_catalog.unnest($4::pg_catalog.text[]),"
				"        pg_catalog.unnest($5::pg_catalog.text[]), "
				"pg_catalog.unnest($6::pg_catalog.text[]),"
				"        pg_catalog.unnest($7::pg_catalog.text[])) AS r(id, url, status, loc, "
				"outcome, state, err)"
				"   JOIN smam.account a ON a.id OPERATOR(pg_catalog.=) r.id",
				7, types, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record the link check");
	}
	SPI_finish();
	PG_RETURN_INT32(findings);
}

/*
 * smam.pull_metrics() RETURNS integer: read the metrics of every live
 * account that has a connector with a metrics path and credentials; the
 * numbers of each answer's top-level object go into smam.account_metric,
 * and every pull, answered or not, into smam.metric_pull. Returns the
 * number of accounts whose metrics were read.
 */
/* Why a pull is not sent with the account's credentials, or NULL. */
static char *
pull_refused(HeapTuple tup, TupleDesc desc, const char *url, int *sqlstate)
{
	char *origin = SPI_getvalue(tup, desc, 11);
	char *suspended = SPI_getvalue(tup, desc, 12);
	char *to = smam_http_url_origin(url);

	*sqlstate = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
	if (suspended != NULL || origin == NULL)
		return psprintf("the account's credentials are suspended until the department's head of "
						"communications confirms them (smam.confirm_credential): %s",
						suspended ? suspended : "they were never bound to a connector");
	/* (No origin: no http(s) URL, which http.c refuses before any byte.) */
	if (to != NULL && strcmp(to, origin) != 0)
	{
		*sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
		return psprintf("the account's credentials were given for %s; this request would take "
						"them to %s",
						origin, to);
	}
	return NULL;
}

/* Growing arrays of the metrics read: account, name, value. */
typedef struct Points
{
	int n;
	int cap;
	Datum *ids;
	Datum *names;
	Datum *values;
} Points;

static void
add_points(Points *pts, int64 id, int n, char **names, char **values)
{
	for (int i = 0; i < n; i++)
	{
		if (pts->n == pts->cap)
		{
			pts->cap = Max(64, pts->cap * 2);
			pts->ids = repalloc_huge(pts->ids, sizeof(Datum) * pts->cap);
			pts->names = repalloc_huge(pts->names, sizeof(Datum) * pts->cap);
			pts->values = repalloc_huge(pts->values, sizeof(Datum) * pts->cap);
		}
		pts->ids[pts->n] = Int64GetDatum(id);
		pts->names[pts->n] = CStringGetTextDatum(names[i]);
		pts->values[pts->n++] = CStringGetTextDatum(values[i]);
	}
}

/*
 * smam.pull_metrics() RETURNS integer: read the metrics of every live
 * account that has a connector with a metrics path and credentials; the
 * numbers of each answer's object (at the connector's metrics_object_path)
 * go into smam.account_metric, and every pull, answered or not, into
 * smam.metric_pull. Each answer is read in C, alone: one that cannot be
 * read fails that account's pull, with the reason. Returns the number of
 * accounts whose metrics were read.
 */
Datum
smam_pull_metrics(PG_FUNCTION_ARGS)
{
	int n;
	int ok = 0;
	SmamHttpRequest *reqs;
	int64 *ids;
	char ***paths;
	int *npaths;
	char **refused;
	int *refused_state;
	Datum *a_id, *a_status, *a_state, *a_err;
	bool *n_status, *n_state, *n_err;
	Points pts = {0};

	SPI_connect();
	if (smam_spi_privileged(METRICS_SQL, 0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the accounts to measure");
	n = (int) SPI_processed;
	reqs = palloc0(sizeof(SmamHttpRequest) * Max(n, 1));
	ids = palloc(sizeof(int64) * Max(n, 1));
	paths = palloc(sizeof(char **) * Max(n, 1));
	npaths = palloc0(sizeof(int) * Max(n, 1));
	refused = palloc0(sizeof(char *) * Max(n, 1));
	refused_state = palloc0(sizeof(int) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool isnull;
		SmamValue vals[5];
		char **htpl;
		int nh;

		ids[i] = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		vals[0] = (SmamValue){"handle", SPI_getvalue(tup, desc, 3)};
		vals[1] = (SmamValue){"account_url", SPI_getvalue(tup, desc, 4)};
		vals[2] = (SmamValue){"account_id", SPI_getvalue(tup, desc, 1)};
		vals[3] = (SmamValue){"platform_post_id", SPI_getvalue(tup, desc, 9)};
		vals[4] = (SmamValue){"token", NULL};
		paths[i] = array_of(tup, desc, 10, &npaths[i]);
		reqs[i].method = "GET";
		reqs[i].url = smam_fill_template(SPI_getvalue(tup, desc, 2), vals, 5, SMAM_ESC_URL);
		reqs[i].allowed_hosts = array_of(tup, desc, 5, &reqs[i].nallowed_hosts);
		reqs[i].allowed_networks = array_of(tup, desc, 6, &reqs[i].nallowed_networks);
		reqs[i].secret = SPI_getvalue(tup, desc, 8);
		refused[i] = pull_refused(tup, desc, reqs[i].url, &refused_state[i]);
		if (refused[i] != NULL)
			continue;
		/* The secret fills header templates only. */
		vals[4].value = reqs[i].secret;
		htpl = array_of(tup, desc, 7, &nh);
		reqs[i].headers = palloc(sizeof(char *) * Max(nh, 1));
		for (int h = 0; h < nh; h++)
			reqs[i].headers[reqs[i].nheaders++] =
				smam_fill_template(htpl[h], vals, 5, SMAM_ESC_HEADER);
	}

	{
		/* Only the pulls that may go; the others keep their reason. */
		SmamHttpRequest *send = palloc0(sizeof(SmamHttpRequest) * Max(n, 1));
		int *which = palloc(sizeof(int) * Max(n, 1));
		int ns = 0;

		for (int i = 0; i < n; i++)
			if (refused[i] == NULL)
			{
				send[ns] = reqs[i];
				which[ns++] = i;
			}
		smam_http_perform(send, ns);
		for (int s = 0; s < ns; s++)
			reqs[which[s]] = send[s];
	}

	a_id = palloc(sizeof(Datum) * Max(n, 1));
	a_status = palloc(sizeof(Datum) * Max(n, 1));
	a_state = palloc(sizeof(Datum) * Max(n, 1));
	a_err = palloc(sizeof(Datum) * Max(n, 1));
	n_status = palloc0(Max(n, 1));
	n_state = palloc0(Max(n, 1));
	n_err = palloc0(Max(n, 1));
	pts.ids = palloc(sizeof(Datum));
	pts.names = palloc(sizeof(Datum));
	pts.values = palloc(sizeof(Datum));
	for (int i = 0; i < n; i++)
	{
		SmamHttpRequest *r = &reqs[i];
		char *error = refused[i] ? refused[i] : r->error;
		int state = refused[i] ? refused_state[i] : r->sqlstate;

		if (refused[i] == NULL && r->sqlstate == 0)
		{
			int count;
			char **names, **values;

			error = smam_answer_metrics(r->response, r->response_len, paths[i], npaths[i], &count,
										&names, &values, &state);
			if (error == NULL)
			{
				add_points(&pts, ids[i], count, names, values);
				ok++;
				state = 0;
			}
		}
		a_id[i] = Int64GetDatum(ids[i]);
		n_status[i] = r->status == 0;
		a_status[i] = Int32GetDatum((int32) r->status);
		a_state[i] = text_or_null(state ? unpack_sql_state(state) : NULL, &n_state[i]);
		a_err[i] = text_or_null(error, &n_err[i]);
	}
	if (n > 0)
	{
		Oid types[7] = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
						INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
		Datum args[7];

		args[0] = smam_make_array(a_id, NULL, n, INT8OID);
		args[1] = smam_make_array(a_status, n_status, n, INT4OID);
		args[2] = smam_make_array(a_state, n_state, n, TEXTOID);
		args[3] = smam_make_array(a_err, n_err, n, TEXTOID);
		args[4] = smam_make_array(pts.ids, NULL, pts.n, INT8OID);
		args[5] = smam_make_array(pts.names, NULL, pts.n, TEXTOID);
		args[6] = smam_make_array(pts.values, NULL, pts.n, TEXTOID);
		if (smam_spi_privileged(PULL_RECORD_SQL, 7, types, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not record the metrics");
	}
	SPI_finish();
	PG_RETURN_INT32(ok);
}

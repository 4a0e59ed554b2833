/*
 * delivery.c: sending one batch of due deliveries.
 *
 * A batch is three steps. Claim: in one statement, take up deliveries whose
 * sender died (their process is gone, or the server restarted), then lock
 * up to N due deliveries with FOR UPDATE SKIP LOCKED, mark them sending and
 * read everything needed to send them (the connector, the post's text in
 * the account's official language, the account's secret). Send: build each
 * request from the connector's templates and perform them all at once
 * (http.c). Record: in one statement, settle each delivery (delivered,
 * dead) or put it back for a retry with exponential backoff and jitter
 * (Retry-After honoured), and log the attempt.
 *
 * The worker (worker.c) runs claim and record in two short transactions of
 * its own, so no transaction is open while it waits on the network.
 * smam.dispatch() runs the batch inside the caller's transaction: should
 * that transaction abort, the claims roll back and the deliveries are sent
 * again later under the same idempotency key.
 */
#include "smam.h"
#include "http.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(smam_dispatch);

int smam_worker_batch_size = 500;
int smam_retry_limit = 5;
int smam_retry_base_delay = 1000;
int smam_retry_max_delay = 3600000;

void
smam_delivery_init(void)
{
	DefineCustomIntVariable("smam.worker_batch_size", "Deliveries claimed and sent at once.",
							"Also the default of smam.dispatch(max).", &smam_worker_batch_size, 500,
							1, 100000, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("smam.retry_limit", "Attempts of a delivery before it is dead.", NULL,
							&smam_retry_limit, 5, 1, 100, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"smam.retry_base_delay",
		"Delay before the first retry; doubled at each further attempt, with jitter.", NULL,
		&smam_retry_base_delay, 1000, 1, 86400000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"smam.retry_max_delay",
		"Longest delay between two attempts (Retry-After may ask for more, up to a day).", NULL,
		&smam_retry_max_delay, 3600000, 1, 86400000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
}

/*
 * Every query below names every table, type, function and operator with
 * its schema, and runs with search_path pinned to "pg_catalog, pg_temp"
 * (the worker pins it for its whole life, smam.dispatch() runs it through
 * privileged.c): nothing a database owner or a session plants in public or
 * pg_temp is ever found by name.
 *
 * Deliveries whose sender is gone are taken up again: put back for another
 * attempt under the same key, or, when they have used smam.retry_limit
 * attempts ($1), dead. Returns the posts of those that died.
 */
#define REQUEUE_SQL                                                                                \
	"WITH lost AS ("                                                                               \
	"  SELECT d.id, d.claimed_at, d.attempts OPERATOR(pg_catalog.>=) $1 AS exhausted"              \
	"    FROM smam.delivery d"                                                                     \
	"   WHERE d.status OPERATOR(pg_catalog.=) 'sending'::smam.delivery_status"                     \
	"     AND d.claimed_at IS NOT NULL" /* an index condition under the worker's RLS */            \
	"     AND NOT coalesce(smam.sender_alive(d.claimed_pid, d.claimed_by_start), false)"           \
	"   FOR UPDATE OF d SKIP LOCKED),"                                                             \
	" back AS ("                                                                                   \
	"  UPDATE smam.delivery d SET status = CASE WHEN lost.exhausted"                               \
	"           THEN 'dead'::smam.delivery_status ELSE 'pending'::smam.delivery_status END,"       \
	"         settled_at = CASE WHEN lost.exhausted THEN pg_catalog.now() END,"                    \
	"         claimed_at = NULL, claimed_pid = NULL, claimed_by_start = NULL,"                     \
	"         last_error = CASE WHEN lost.exhausted"                                               \
	"           THEN pg_catalog.format('gave up after %s attempts (smam.retry_limit): the sender " \
	"of the last one stopped before recording its outcome', d.attempts)"                           \
	"           ELSE 'its sender stopped before recording the outcome; it is sent again under "    \
	"the same idempotency key' END,"                                                               \
	"         last_sqlstate = '57P01'"                                                             \
	"    FROM lost WHERE d.id OPERATOR(pg_catalog.=) lost.id"                                      \
	"  RETURNING d.id, d.post_id, d.attempts, d.idempotency_key, d.status, lost.claimed_at,"       \
	"            lost.exhausted),"                                                                 \
	" logged AS (INSERT INTO smam.delivery_attempt (delivery_id, attempt, idempotency_key, "       \
	"started_at, outcome, sqlstate, error)"                                                        \
	"  SELECT back.id, back.attempts, back.idempotency_key, back.claimed_at, back.status, "        \
	"'57P01',"                                                                                     \
	"         'the sender stopped before recording the outcome' FROM back)"                        \
	"SELECT pg_catalog.array_agg(DISTINCT back.post_id) FILTER (WHERE back.exhausted) FROM back"

/*
 * Claim up to $1 due deliveries for this process ($2: its start), reading
 * what sending each needs. A delivery that has used smam.retry_limit
 * attempts ($3) is claimed without counting another (it is not sent).
 */
#define CLAIM_SQL                                                                                  \
	"WITH due AS ("                                                                                \
	"  SELECT d.id, d.attempts OPERATOR(pg_catalog.>=) $3 AS exhausted FROM smam.delivery d"       \
	"   WHERE d.status OPERATOR(pg_catalog.=) 'pending'::smam.delivery_status"                     \
	"     AND d.next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now()"                          \
	"   ORDER BY d.next_attempt_at, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED),"                   \
	" claimed AS ("                                                                                \
	"  UPDATE smam.delivery d SET status = 'sending'::smam.delivery_status,"                       \
	"         attempts = CASE WHEN due.exhausted THEN d.attempts"                                  \
	"                         ELSE d.attempts OPERATOR(pg_catalog.+) 1 END,"                       \
	"         claimed_at = pg_catalog.now(), claimed_pid = pg_catalog.pg_backend_pid(), "          \
	"claimed_by_start = $2"                                                                        \
	"    FROM due WHERE d.id OPERATOR(pg_catalog.=) due.id"                                        \
	"  RETURNING d.id, d.post_id, d.account_id, d.idempotency_key, d.attempts, due.exhausted,"     \
	"            d.last_error, d.last_sqlstate)"                                                   \
	"SELECT c.id, c.attempts, c.idempotency_key::pg_catalog.text, k.method,"                       \
	"       k.base_url OPERATOR(pg_catalog.||) k.publish_path, k.header_templates, "               \
	"k.body_template,"                                                                             \
	"       k.body_format, k.allowed_hosts, k.allowed_networks::pg_catalog.text[], "               \
	"k.idempotency_header,"                                                                        \
	"       CASE WHEN a.official_language OPERATOR(pg_catalog.=) "                                 \
	"'english'::smam.official_language THEN p.text_en"                                             \
	"            WHEN a.official_language OPERATOR(pg_catalog.=) "                                 \
	"'french'::smam.official_language THEN p.text_fr"                                              \
	"            ELSE p.text_en OPERATOR(pg_catalog.||) E'\\n\\n' OPERATOR(pg_catalog.||) "        \
	"p.text_fr END,"                                                                               \
	"       p.text_en, p.text_fr, a.handle, a.id::pg_catalog.text, a.url, p.id::pg_catalog.text,"  \
	"       cr.token_secret, pg_catalog.array_to_string(p.media_urls, ' '),"                       \
	"       k.post_id_path,"                                                                       \
	"       (cr.account_id IS NOT NULL AND (cr.expires_at IS NULL OR cr.expires_at "               \
	"OPERATOR(pg_catalog.>) pg_catalog.now())),"                                                   \
	"       c.exhausted, c.last_error, c.last_sqlstate, cr.origin,"                                \
	"       CASE WHEN cr.suspended_at IS NOT NULL THEN cr.suspended_reason END"                    \
	"  FROM claimed c"                                                                             \
	"  JOIN smam.post p ON p.id OPERATOR(pg_catalog.=) c.post_id"                                  \
	"  JOIN smam.account a ON a.id OPERATOR(pg_catalog.=) c.account_id"                            \
	"  LEFT JOIN smam.connector k ON k.platform OPERATOR(pg_catalog.=) a.platform AND k.enabled"   \
	"  LEFT JOIN smam.account_credential cr ON cr.account_id OPERATOR(pg_catalog.=) a.id"

/* Columns of CLAIM_SQL's answer. */
enum
{
	C_ID = 1,
	C_ATTEMPTS,
	C_KEY,
	C_METHOD,
	C_URL,
	C_HEADERS,
	C_BODY,
	C_FORMAT,
	C_HOSTS,
	C_NETWORKS,
	C_IDEM_HEADER,
	C_TEXT,
	C_TEXT_EN,
	C_TEXT_FR,
	C_HANDLE,
	C_ACCOUNT,
	C_ACCOUNT_URL,
	C_POST,
	C_TOKEN,
	C_MEDIA,
	C_POST_ID_PATH,
	C_CREDENTIAL_OK,
	C_EXHAUSTED,
	C_LAST_ERROR,
	C_LAST_SQLSTATE,
	C_ORIGIN,
	C_SUSPENDED
};

/*
 * Settle the batch: every value comes from C, judged there (the platform's
 * post id is a short visible ASCII text or NULL); nothing here can fail on
 * what a platform answered.
 */
#define RECORD_SQL                                                                                 \
	"WITH r AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), "               \
	"pg_catalog.unnest($2::pg_catalog.text[]),"                                                    \
	"             pg_catalog.unnest($3::pg_catalog.int4[]), "                                      \
	"pg_catalog.unnest($4::pg_catalog.text[]),"                                                    \
	"             pg_catalog.unnest($5::pg_catalog.text[]), "                                      \
	"pg_catalog.unnest($6::pg_catalog.timestamptz[]),"                                             \
	"             pg_catalog.unnest($7::pg_catalog.text[]), "                                      \
	"pg_catalog.unnest($8::pg_catalog.timestamptz[]), "                                            \
	"pg_catalog.unnest($9::pg_catalog.text[]))"                                                    \
	"           AS r(id, outcome, http_status, error, sqlstate, retry_at, post_id, "               \
	"started_at, remote)),"                                                                        \
	" u AS (UPDATE smam.delivery d SET status = r.outcome::smam.delivery_status,"                  \
	"         http_status = r.http_status, last_error = r.error, last_sqlstate = r.sqlstate,"      \
	"         next_attempt_at = coalesce(r.retry_at, d.next_attempt_at),"                          \
	"         platform_post_id = r.post_id,"                                                       \
	"         settled_at = CASE WHEN r.outcome OPERATOR(pg_catalog.=) ANY (ARRAY['delivered', "    \
	"'dead'])"                                                                                     \
	"           THEN pg_catalog.now() END,"                                                        \
	"         claimed_at = NULL, claimed_pid = NULL, claimed_by_start = NULL"                      \
	"    FROM r WHERE d.id OPERATOR(pg_catalog.=) r.id"                                            \
	"     AND d.status OPERATOR(pg_catalog.=) 'sending'::smam.delivery_status"                     \
	"  RETURNING d.id, d.post_id, d.attempts, d.idempotency_key, r.outcome, r.http_status, "       \
	"r.sqlstate,"                                                                                  \
	"            r.error, r.retry_at, r.started_at, r.remote),"                                    \
	" a AS (INSERT INTO smam.delivery_attempt (delivery_id, attempt, idempotency_key, "            \
	"started_at, outcome,"                                                                         \
	"         http_status, sqlstate, error, retry_at, remote_address)"                             \
	"       SELECT u.id, u.attempts, u.idempotency_key, u.started_at, "                            \
	"u.outcome::smam.delivery_status,"                                                             \
	"              u.http_status, u.sqlstate, u.error, u.retry_at, u.remote FROM u)"               \
	"SELECT pg_catalog.array_agg(DISTINCT u.post_id) FILTER (WHERE u.outcome "                     \
	"OPERATOR(pg_catalog.<>) 'pending'),"                                                          \
	"       pg_catalog.count(*) FILTER (WHERE u.outcome OPERATOR(pg_catalog.<>) 'pending') FROM u"

typedef struct Claim
{
	int64 id;
	int attempts;
	bool sendable;
	const char *outcome; /* delivered, dead, pending */
	int sqlstate;
	char *error;
	TimestampTz retry_at;
	char **post_id_path;
	int npath;
	char *post_id; /* read from the answer, judged */
	TimestampTz started;
} Claim;

static void
append_escaped(StringInfo out, const char *v, SmamEscape esc)
{
	switch (esc)
	{
		case SMAM_ESC_JSON:
			escape_json(out, v);
			break;
		case SMAM_ESC_URL:
		case SMAM_ESC_FORM:
			for (const unsigned char *c = (const unsigned char *) v; *c; c++)
			{
				/* RFC 3986's unreserved characters, in ASCII whatever LC_CTYPE says */
				if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
					(*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' || *c == '~')
					appendStringInfoChar(out, *c);
				else if (*c == ' ' && esc == SMAM_ESC_FORM)
					appendStringInfoChar(out, '+');
				else
					appendStringInfo(out, "%%%02X", *c);
			}
			break;
		case SMAM_ESC_HEADER:
			for (const char *c = v; *c; c++)
				appendStringInfoChar(out, (*c == '\r' || *c == '\n') ? ' ' : *c);
			break;
		case SMAM_ESC_RAW:
			appendStringInfoString(out, v);
			break;
	}
}

/* Fill {{name}} placeholders; an unknown or NULL value becomes empty. */
char *
smam_fill_template(const char *tpl, const SmamValue *vals, int nvals, SmamEscape esc)
{
	StringInfoData out;
	const char *p = tpl;

	initStringInfo(&out);
	while (*p)
	{
		const char *open = strstr(p, "{{");
		const char *close;

		if (open == NULL || (close = strstr(open + 2, "}}")) == NULL)
		{
			appendStringInfoString(&out, p);
			break;
		}
		appendBinaryStringInfo(&out, p, open - p);
		for (int i = 0; i < nvals; i++)
			if (strlen(vals[i].name) == (size_t) (close - open - 2) &&
				strncmp(vals[i].name, open + 2, close - open - 2) == 0)
			{
				if (vals[i].value)
					append_escaped(&out, vals[i].value, esc);
				else if (esc == SMAM_ESC_JSON)
					appendStringInfoString(&out, "null");
				break;
			}
		p = close + 2;
	}
	return out.data;
}

static char **
text_array(HeapTuple tup, TupleDesc desc, int col, int *n)
{
	bool isnull;
	Datum d = SPI_getbinval(tup, desc, col, &isnull);
	Datum *elems;
	bool *nulls;
	int count;
	char **result;
	int k = 0;

	*n = 0;
	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
					  &count);
	result = palloc(sizeof(char *) * Max(count, 1));
	for (int i = 0; i < count; i++)
		if (!nulls[i])
			result[k++] = TextDatumGetCString(elems[i]);
	*n = k;
	return result;
}

static TimestampTz
retry_time(int attempts, double retry_after)
{
	double delay = (double) smam_retry_base_delay;

	for (int i = 1; i < attempts && delay < smam_retry_max_delay; i++)
		delay *= 2;
	delay = Min(delay, (double) smam_retry_max_delay);
	/* Jitter: somewhere in the upper half, so that retries spread out. */
	delay = delay * (0.5 + 0.5 * pg_prng_double(&pg_global_prng_state));
	if (retry_after >= 0)
		delay = Max(delay, Min(retry_after * 1000.0, 86400000.0));
	return GetCurrentTimestamp() + (TimestampTz) (delay * 1000.0);
}

/*
 * One query of a batch. The worker runs as its own role, its settings
 * pinned for its whole life (worker.c); smam.dispatch(), called from a
 * session, runs it through privileged.c: as the owner of smam's tables,
 * with search_path and the settings that change what SQL means pinned.
 */
static void
run(bool worker, const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
	int expect)
{
	int rc = worker ? SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0)
					: smam_spi_privileged(sql, nargs, types, values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "smam delivery query failed: %s", SPI_result_code_string(rc));
}

/* Settle the posts whose deliveries the last query settled (column 1). */
static void
settle_posts(bool worker)
{
	bool isnull;
	Datum posts;

	if (SPI_processed != 1)
		return;
	posts = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		Oid pt[1] = {INT8ARRAYOID};
		Datum pv[1] = {posts};

		run(worker, "SELECT smam.settle_posts($1)", 1, pt, pv, NULL, SPI_OK_SELECT);
	}
}

/* A one-dimensional array of n elements of a type, with NULLs (smam.h). */
Datum
smam_make_array(Datum *elems, bool *nulls, int n, Oid type)
{
	int dims[1] = {n};
	int lbs[1] = {1};
	int16 typlen;
	bool typbyval;
	char typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(
		construct_md_array(elems, nulls, 1, dims, lbs, type, typlen, typbyval, typalign));
}

static void
begin_step(bool own)
{
	if (own)
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
end_step(bool own)
{
	SPI_finish();
	if (own)
	{
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
}

static int
sqlstate_of(const char *text)
{
	if (text == NULL || strlen(text) != 5)
		return ERRCODE_ADMIN_SHUTDOWN;
	return MAKE_SQLSTATE(text[0], text[1], text[2], text[3], text[4]);
}

/*
 * Why a claimed delivery is not sent, or NULL when it is: no connector,
 * no valid credentials, credentials suspended, or no attempt left.
 */
static bool
unsendable(HeapTuple tup, TupleDesc desc, Claim *it)
{
	bool isnull;
	bool cred_ok = DatumGetBool(SPI_getbinval(tup, desc, C_CREDENTIAL_OK, &isnull));
	char *suspended = SPI_getvalue(tup, desc, C_SUSPENDED);

	it->sqlstate = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
	if (DatumGetBool(SPI_getbinval(tup, desc, C_EXHAUSTED, &isnull)))
	{
		char *last = SPI_getvalue(tup, desc, C_LAST_ERROR);

		it->sqlstate = sqlstate_of(SPI_getvalue(tup, desc, C_LAST_SQLSTATE));
		it->error = psprintf("gave up after %d attempts (smam.retry_limit): %s", it->attempts,
							 last ? last : "no outcome was recorded");
	}
	else if (SPI_getvalue(tup, desc, C_METHOD) == NULL)
		it->error = pstrdup("the account's platform has no enabled connector");
	else if (!cred_ok)
		it->error = pstrdup("the account has no valid credentials");
	else if (suspended != NULL || SPI_getvalue(tup, desc, C_ORIGIN) == NULL)
		it->error = psprintf("the account's credentials are suspended until the department's head "
							 "of communications confirms them (smam.confirm_credential): %s",
							 suspended ? suspended : "they were never bound to a connector");
	else
		return false;
	it->outcome = "dead";
	return true;
}

/*
 * The request of a claimed delivery, from its connector's templates. The
 * account's secret fills header templates only; the URL goes only to the
 * origin the credential was given for.
 */
static void
build_request(HeapTuple tup, TupleDesc desc, Claim *it, SmamHttpRequest *r)
{
	char *key = SPI_getvalue(tup, desc, C_KEY);
	char *token = SPI_getvalue(tup, desc, C_TOKEN);
	char *origin = SPI_getvalue(tup, desc, C_ORIGIN);
	char *body_tpl = SPI_getvalue(tup, desc, C_BODY);
	char *format = SPI_getvalue(tup, desc, C_FORMAT);
	char *to;
	char **htpl;
	int nh;
	SmamValue vals[12];

	vals[0] = (SmamValue){"text", SPI_getvalue(tup, desc, C_TEXT)};
	vals[1] = (SmamValue){"text_en", SPI_getvalue(tup, desc, C_TEXT_EN)};
	vals[2] = (SmamValue){"text_fr", SPI_getvalue(tup, desc, C_TEXT_FR)};
	vals[3] = (SmamValue){"handle", SPI_getvalue(tup, desc, C_HANDLE)};
	vals[4] = (SmamValue){"account_id", SPI_getvalue(tup, desc, C_ACCOUNT)};
	vals[5] = (SmamValue){"account_url", SPI_getvalue(tup, desc, C_ACCOUNT_URL)};
	vals[6] = (SmamValue){"post_id", SPI_getvalue(tup, desc, C_POST)};
	vals[7] = (SmamValue){"delivery_id", psprintf(INT64_FORMAT, it->id)};
	vals[8] = (SmamValue){"idempotency_key", key};
	vals[9] = (SmamValue){"media_urls", SPI_getvalue(tup, desc, C_MEDIA)};
	vals[10] = (SmamValue){"platform_post_id", NULL};
	vals[11] = (SmamValue){"token", NULL};

	r->method = SPI_getvalue(tup, desc, C_METHOD);
	r->url = smam_fill_template(SPI_getvalue(tup, desc, C_URL), vals, 12, SMAM_ESC_URL);
	r->allowed_hosts = text_array(tup, desc, C_HOSTS, &r->nallowed_hosts);
	r->allowed_networks = text_array(tup, desc, C_NETWORKS, &r->nallowed_networks);
	r->secret = token;
	/* (No origin: no http(s) URL, which http.c refuses before any byte.) */
	to = smam_http_url_origin(r->url);
	if (to != NULL && strcmp(to, origin) != 0)
	{
		it->sendable = false;
		it->outcome = "dead";
		it->sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
		it->error = psprintf("the account's credentials were given for %s; this request would "
							 "take them to %s",
							 origin, to);
		return;
	}
	if (body_tpl != NULL)
	{
		SmamEscape esc = strcmp(format, "json") == 0   ? SMAM_ESC_JSON
						 : strcmp(format, "form") == 0 ? SMAM_ESC_FORM
													   : SMAM_ESC_RAW;

		r->body = smam_fill_template(body_tpl, vals, 12, esc);
	}
	vals[11].value = token;
	htpl = text_array(tup, desc, C_HEADERS, &nh);
	r->headers = palloc(sizeof(char *) * (nh + 2));
	for (int h = 0; h < nh; h++)
		r->headers[r->nheaders++] = smam_fill_template(htpl[h], vals, 12, SMAM_ESC_HEADER);
	r->headers[r->nheaders++] = psprintf("%s: %s", SPI_getvalue(tup, desc, C_IDEM_HEADER), key);
	if (body_tpl != NULL)
		r->headers[r->nheaders++] = pstrdup(
			strcmp(format, "json") == 0	  ? "Content-Type: application/json"
			: strcmp(format, "form") == 0 ? "Content-Type: application/x-www-form-urlencoded"
										  : "Content-Type: text/plain; charset=utf-8");
}

/* Read the claim's rows into items and requests (in the batch's memory). */
static void
read_claims(int n, Claim *items, SmamHttpRequest *reqs)
{
	for (int i = 0; i < n; i++)
	{
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		Claim *it = &items[i];
		bool isnull;

		it->id = DatumGetInt64(SPI_getbinval(tup, desc, C_ID, &isnull));
		it->attempts = DatumGetInt32(SPI_getbinval(tup, desc, C_ATTEMPTS, &isnull));
		it->post_id_path = text_array(tup, desc, C_POST_ID_PATH, &it->npath);
		it->started = GetCurrentTimestamp();
		if (unsendable(tup, desc, it))
			continue;
		it->sendable = true;
		build_request(tup, desc, it, &reqs[i]);
	}
}

/*
 * What became of a delivery that was sent. A 2xx answer is read in C,
 * alone: one the database could not store, or whose post id is not a
 * short value, fails its delivery (dead: the platform may have published,
 * so it is not sent again), never the batch.
 */
static void
decide(Claim *it, SmamHttpRequest *r)
{
	int state;
	char *problem;

	it->sqlstate = r->sqlstate;
	it->error = r->error;
	if (r->sqlstate == 0)
	{
		problem = smam_answer_post_id(r->response, r->response_len, it->post_id_path, it->npath,
									  &it->post_id, &state);
		if (problem == NULL)
			it->outcome = "delivered";
		else
		{
			it->outcome = "dead";
			it->sqlstate = state;
			it->error = psprintf("the platform answered HTTP %ld but smam cannot read its answer: "
								 "%s; the post may be published, check the account before "
								 "publishing it again",
								 r->status, problem);
		}
	}
	else if (r->retryable && it->attempts < smam_retry_limit)
	{
		it->outcome = "pending";
		it->retry_at = retry_time(it->attempts, r->retry_after);
	}
	else
	{
		it->outcome = "dead";
		if (r->retryable)
			it->error = psprintf("gave up after %d attempts (smam.retry_limit): %s", it->attempts,
								 r->error);
	}
}

/* Record the batch's outcomes (RECORD_SQL), then settle their posts. */
static int
record(bool worker, int n, Claim *items, SmamHttpRequest *reqs)
{
	Datum *ids = palloc(sizeof(Datum) * n), *outcomes = palloc(sizeof(Datum) * n),
		  *statuses = palloc(sizeof(Datum) * n), *errors = palloc(sizeof(Datum) * n),
		  *states = palloc(sizeof(Datum) * n), *retries = palloc(sizeof(Datum) * n),
		  *post_ids = palloc(sizeof(Datum) * n), *starts = palloc(sizeof(Datum) * n),
		  *remotes = palloc(sizeof(Datum) * n);
	bool *n_status = palloc0(n), *n_err = palloc0(n), *n_retry = palloc0(n),
		 *n_post_id = palloc0(n), *n_remote = palloc0(n);
	Oid types[9] = {INT8ARRAYOID, TEXTARRAYOID,		   INT4ARRAYOID,
					TEXTARRAYOID, TEXTARRAYOID,		   TIMESTAMPTZARRAYOID,
					TEXTARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID};
	Datum args[9];
	bool isnull;
	int settled = 0;

	for (int i = 0; i < n; i++)
	{
		SmamHttpRequest *r = &reqs[i];
		Claim *it = &items[i];

		ids[i] = Int64GetDatum(it->id);
		outcomes[i] = CStringGetTextDatum(it->outcome);
		n_status[i] = !(it->sendable && r->status > 0);
		statuses[i] = Int32GetDatum((int32) r->status);
		n_err[i] = it->error == NULL;
		errors[i] = n_err[i] ? (Datum) 0 : CStringGetTextDatum(it->error);
		states[i] = CStringGetTextDatum(it->sqlstate ? unpack_sql_state(it->sqlstate) : "00000");
		n_retry[i] = it->retry_at == 0;
		retries[i] = TimestampTzGetDatum(it->retry_at);
		n_post_id[i] = it->post_id == NULL;
		post_ids[i] = n_post_id[i] ? (Datum) 0 : CStringGetTextDatum(it->post_id);
		starts[i] = TimestampTzGetDatum(it->started);
		n_remote[i] = r->remote_ip == NULL;
		remotes[i] = n_remote[i] ? (Datum) 0 : CStringGetTextDatum(r->remote_ip);
	}
	args[0] = smam_make_array(ids, NULL, n, INT8OID);
	args[1] = smam_make_array(outcomes, NULL, n, TEXTOID);
	args[2] = smam_make_array(statuses, n_status, n, INT4OID);
	args[3] = smam_make_array(errors, n_err, n, TEXTOID);
	args[4] = smam_make_array(states, NULL, n, TEXTOID);
	args[5] = smam_make_array(retries, n_retry, n, TIMESTAMPTZOID);
	args[6] = smam_make_array(post_ids, n_post_id, n, TEXTOID);
	args[7] = smam_make_array(starts, NULL, n, TIMESTAMPTZOID);
	args[8] = smam_make_array(remotes, n_remote, n, TEXTOID);
	run(worker, RECORD_SQL, 9, types, args, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1)
		settled = (int) DatumGetInt64(
			SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	settle_posts(worker);
	return settled;
}

/*
 * Send one batch of at most max due deliveries. With own_transactions the
 * caller is the worker, outside any transaction; otherwise we run inside
 * the caller's. Returns the number of deliveries settled (delivered or
 * dead); *claimed gets how many were claimed.
 */
int
smam_deliver_batch(int max, bool own_transactions, int *claimed)
{
	MemoryContext batch_cxt;
	MemoryContext old;
	SmamHttpRequest *reqs;
	Claim *items;
	int n;
	int settled = 0;

	*claimed = 0;
	batch_cxt = AllocSetContextCreate(own_transactions ? TopMemoryContext : CurrentMemoryContext,
									  "smam delivery batch", ALLOCSET_DEFAULT_SIZES);

	/* ---- claim ---- */
	begin_step(own_transactions);
	{
		Oid rtypes[1] = {INT4OID};
		Datum rvalues[1] = {Int32GetDatum(smam_retry_limit)};
		Oid types[3] = {INT4OID, TIMESTAMPTZOID, INT4OID};
		Datum values[3] = {Int32GetDatum(max), TimestampTzGetDatum(MyStartTimestamp),
						   Int32GetDatum(smam_retry_limit)};

		run(own_transactions, REQUEUE_SQL, 1, rtypes, rvalues, NULL, SPI_OK_SELECT);
		settle_posts(own_transactions);
		run(own_transactions, CLAIM_SQL, 3, types, values, NULL, SPI_OK_SELECT);
	}
	n = (int) SPI_processed;
	old = MemoryContextSwitchTo(batch_cxt);
	reqs = palloc0(sizeof(SmamHttpRequest) * Max(n, 1));
	items = palloc0(sizeof(Claim) * Max(n, 1));
	read_claims(n, items, reqs);
	MemoryContextSwitchTo(old);
	end_step(own_transactions);
	*claimed = n;
	if (n == 0)
	{
		MemoryContextDelete(batch_cxt);
		return 0;
	}

	/* ---- send, outside any transaction of ours ---- */
	old = MemoryContextSwitchTo(batch_cxt);
	{
		SmamHttpRequest *send = palloc0(sizeof(SmamHttpRequest) * n);
		int *which = palloc(sizeof(int) * n);
		int ns = 0;

		for (int i = 0; i < n; i++)
			if (items[i].sendable)
			{
				send[ns] = reqs[i];
				which[ns++] = i;
			}
		smam_http_perform(send, ns);
		for (int s = 0; s < ns; s++)
			reqs[which[s]] = send[s];
	}

	/* ---- decide, each answer alone ---- */
	for (int i = 0; i < n; i++)
		if (items[i].sendable)
			decide(&items[i], &reqs[i]);
	MemoryContextSwitchTo(old);

	/* ---- record ---- */
	begin_step(own_transactions);
	settled = record(own_transactions, n, items, reqs);
	end_step(own_transactions);
	MemoryContextDelete(batch_cxt);
	return settled;
}

PG_FUNCTION_INFO_V1(smam_sender_alive);

/*
 * smam.sender_alive(pid integer, started timestamptz) RETURNS boolean: is
 * the process that claimed a delivery still running? Read from the
 * backends' status in shared memory, whoever asks (pg_stat_activity hides
 * another role's start time), and telling nothing else.
 */
Datum
smam_sender_alive(PG_FUNCTION_ARGS)
{
	int pid = PG_GETARG_INT32(0);
	TimestampTz started = PG_GETARG_TIMESTAMPTZ(1);
	int n = pgstat_fetch_stat_numbackends();

	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *l = pgstat_fetch_stat_local_beentry(i);

		if (l != NULL && l->backendStatus.st_procpid == pid &&
			l->backendStatus.st_proc_start_timestamp == started)
			PG_RETURN_BOOL(true);
	}
	PG_RETURN_BOOL(false);
}

/*
 * smam.dispatch(max integer DEFAULT NULL) RETURNS integer: one batch in this
 * session, for pg_cron or a client where the worker is not preloaded.
 */
Datum
smam_dispatch(PG_FUNCTION_ARGS)
{
	int max = PG_ARGISNULL(0) ? smam_worker_batch_size : PG_GETARG_INT32(0);
	int claimed;

	if (RecoveryInProgress())
		smam_refuse(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, NULL,
					"deliveries cannot be sent from a hot standby",
					"A standby is read-only: it cannot record what it sends.",
					"Call smam.dispatch() on the primary.");
	if (max < 1)
		smam_refuse(ERRCODE_INVALID_PARAMETER_VALUE, NULL,
					smam_format("smam.dispatch needs a positive batch size, not %d", max), NULL,
					"Pass NULL for smam.worker_batch_size.");
	PG_RETURN_INT32(smam_deliver_batch(max, false, &claimed));
}

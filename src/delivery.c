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

#define REQUEUE_SQL                                                                                \
	"WITH lost AS ("                                                                               \
	"  SELECT d.id, d.claimed_at FROM smam.delivery d"                                             \
	"   WHERE d.status OPERATOR(pg_catalog.=) 'sending'::smam.delivery_status"                     \
	"     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_get_activity(d.claimed_pid) s"          \
	"                      WHERE s.backend_start OPERATOR(pg_catalog.=) d.claimed_by_start)"       \
	"   FOR UPDATE OF d SKIP LOCKED),"                                                             \
	" back AS ("                                                                                   \
	"  UPDATE smam.delivery d SET status = 'pending'::smam.delivery_status,"                       \
	"         claimed_at = NULL, claimed_pid = NULL, claimed_by_start = NULL,"                     \
	"         last_error = 'its sender stopped before recording the outcome; it is sent again "    \
	"under the same idempotency key',"                                                             \
	"         last_sqlstate = '57P01'"                                                             \
	"    FROM lost WHERE d.id OPERATOR(pg_catalog.=) lost.id"                                      \
	"  RETURNING d.id, d.attempts, d.idempotency_key, lost.claimed_at)"                            \
	" INSERT INTO smam.delivery_attempt (delivery_id, attempt, idempotency_key, started_at, "      \
	"outcome, sqlstate, error)"                                                                    \
	" SELECT id, attempts, idempotency_key, claimed_at, 'pending'::smam.delivery_status, '57P01'," \
	"        'the sender stopped before recording the outcome' FROM back"

#define CLAIM_SQL                                                                                  \
	"WITH due AS ("                                                                                \
	"  SELECT d.id FROM smam.delivery d"                                                           \
	"   WHERE d.status OPERATOR(pg_catalog.=) 'pending'::smam.delivery_status"                     \
	"     AND d.next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now()"                          \
	"   ORDER BY d.next_attempt_at, d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED),"                   \
	" claimed AS ("                                                                                \
	"  UPDATE smam.delivery d SET status = 'sending'::smam.delivery_status,"                       \
	"         attempts = d.attempts OPERATOR(pg_catalog.+) 1,"                                     \
	"         claimed_at = pg_catalog.now(), claimed_pid = pg_catalog.pg_backend_pid(), "          \
	"claimed_by_start = $2"                                                                        \
	"    FROM due WHERE d.id OPERATOR(pg_catalog.=) due.id"                                        \
	"  RETURNING d.id, d.post_id, d.account_id, d.idempotency_key, d.attempts)"                    \
	"SELECT c.id, c.attempts, c.idempotency_key::pg_catalog.text, k.method,"                       \
	"       k.base_url OPERATOR(pg_catalog.||) k.publish_path, k.header_templates, "               \
	"k.body_template,"                                                                             \
	"       k.body_format, k.allowed_hosts, k.allowed_networks::pg_catalog.text[], "               \
	"k.idempotency_header,"                                                                        \
	"       CASE a.official_language WHEN 'english'::smam.official_language THEN p.text_en"        \
	"            WHEN 'french'::smam.official_language THEN p.text_fr"                             \
	"            ELSE p.text_en OPERATOR(pg_catalog.||) E'\\n\\n' OPERATOR(pg_catalog.||) "        \
	"p.text_fr END,"                                                                               \
	"       p.text_en, p.text_fr, a.handle, a.id::pg_catalog.text, a.url, p.id::pg_catalog.text,"  \
	"       cr.token_secret, pg_catalog.array_to_string(p.media_urls, ' '),"                       \
	"       k.post_id_path::pg_catalog.text,"                                                      \
	"       (cr.account_id IS NOT NULL AND (cr.expires_at IS NULL OR cr.expires_at "               \
	"OPERATOR(pg_catalog.>) pg_catalog.now()))"                                                    \
	"  FROM claimed c"                                                                             \
	"  JOIN smam.post p ON p.id OPERATOR(pg_catalog.=) c.post_id"                                  \
	"  JOIN smam.account a ON a.id OPERATOR(pg_catalog.=) c.account_id"                            \
	"  LEFT JOIN smam.connector k ON k.platform OPERATOR(pg_catalog.=) a.platform AND k.enabled"   \
	"  LEFT JOIN smam.account_credential cr ON cr.account_id OPERATOR(pg_catalog.=) a.id"

#define RECORD_SQL                                                                                 \
	"WITH r AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), "               \
	"pg_catalog.unnest($2::pg_catalog.text[]),"                                                    \
	"             pg_catalog.unnest($3::pg_catalog.int4[]), "                                      \
	"pg_catalog.unnest($4::pg_catalog.text[]),"                                                    \
	"             pg_catalog.unnest($5::pg_catalog.text[]), "                                      \
	"pg_catalog.unnest($6::pg_catalog.timestamptz[]),"                                             \
	"             pg_catalog.unnest($7::pg_catalog.text[]), "                                      \
	"pg_catalog.unnest($8::pg_catalog.text[]),"                                                    \
	"             pg_catalog.unnest($9::pg_catalog.timestamptz[]), "                               \
	"pg_catalog.unnest($10::pg_catalog.text[]))"                                                   \
	"           AS r(id, outcome, http_status, error, sqlstate, retry_at, body, path, "            \
	"started_at, remote)),"                                                                        \
	" u AS (UPDATE smam.delivery d SET status = r.outcome::smam.delivery_status,"                  \
	"         http_status = r.http_status, last_error = r.error, last_sqlstate = r.sqlstate,"      \
	"         next_attempt_at = coalesce(r.retry_at, d.next_attempt_at),"                          \
	"         platform_post_id = CASE WHEN r.body IS NOT NULL"                                     \
	"           THEN r.body::pg_catalog.jsonb OPERATOR(pg_catalog.#>>) r.path::pg_catalog.text[] " \
	"END,"                                                                                         \
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
	char *post_id_path;
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
				if (isalnum(*c) || *c == '-' || *c == '_' || *c == '.' || *c == '~')
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

static bool
is_json(const char *body, size_t len)
{
	JsonLexContext *lex;

	if (body == NULL || len == 0)
		return false;
	lex = makeJsonLexContextCstringLen(unconstify(char *, body), (int) len, GetDatabaseEncoding(),
									   false);
	return pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS;
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

static void
run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, bool readonly,
	int expect)
{
	int rc = SPI_execute_with_args(sql, nargs, types, values, nulls, readonly, 0);

	if (rc != expect)
		elog(ERROR, "smam delivery query failed: %s", SPI_result_code_string(rc));
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

/*
 * Send one batch of at most max due deliveries. With own_transactions the
 * caller is the worker, outside any transaction; otherwise we run inside
 * the caller's. Returns the number of deliveries settled (delivered or
 * dead); *claimed gets how many were sent.
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
		Oid types[2] = {INT4OID, TIMESTAMPTZOID};
		Datum values[2] = {Int32GetDatum(max), TimestampTzGetDatum(MyStartTimestamp)};

		run(REQUEUE_SQL, 0, NULL, NULL, NULL, false, SPI_OK_INSERT);
		run(CLAIM_SQL, 2, types, values, NULL, false, SPI_OK_SELECT);
	}
	n = (int) SPI_processed;
	old = MemoryContextSwitchTo(batch_cxt);
	reqs = palloc0(sizeof(SmamHttpRequest) * Max(n, 1));
	items = palloc0(sizeof(Claim) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		SmamHttpRequest *r = &reqs[i];
		Claim *it = &items[i];
		bool isnull;
		char *method = SPI_getvalue(tup, desc, 4);
		char *key = SPI_getvalue(tup, desc, 3);
		char *token = SPI_getvalue(tup, desc, 19);
		bool cred_ok = DatumGetBool(SPI_getbinval(tup, desc, 22, &isnull));
		char **htpl;
		int nh;
		char *body_tpl = SPI_getvalue(tup, desc, 7);
		char *format = SPI_getvalue(tup, desc, 8);
		char *idem_header = SPI_getvalue(tup, desc, 11);
		SmamValue vals[12];

		it->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		it->attempts = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		it->post_id_path = SPI_getvalue(tup, desc, 21);
		it->started = GetCurrentTimestamp();
		if (method == NULL)
		{
			it->outcome = "dead";
			it->sqlstate = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
			it->error = pstrdup("the account's platform has no enabled connector");
			continue;
		}
		if (!cred_ok)
		{
			it->outcome = "dead";
			it->sqlstate = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
			it->error = pstrdup("the account has no valid credentials");
			continue;
		}
		it->sendable = true;
		vals[0] = (SmamValue){"text", SPI_getvalue(tup, desc, 12)};
		vals[1] = (SmamValue){"text_en", SPI_getvalue(tup, desc, 13)};
		vals[2] = (SmamValue){"text_fr", SPI_getvalue(tup, desc, 14)};
		vals[3] = (SmamValue){"handle", SPI_getvalue(tup, desc, 15)};
		vals[4] = (SmamValue){"account_id", SPI_getvalue(tup, desc, 16)};
		vals[5] = (SmamValue){"account_url", SPI_getvalue(tup, desc, 17)};
		vals[6] = (SmamValue){"post_id", SPI_getvalue(tup, desc, 18)};
		vals[7] = (SmamValue){"delivery_id", psprintf(INT64_FORMAT, it->id)};
		vals[8] = (SmamValue){"idempotency_key", key};
		vals[9] = (SmamValue){"token", token};
		vals[10] = (SmamValue){"media_urls", SPI_getvalue(tup, desc, 20)};
		vals[11] = (SmamValue){"platform_post_id", NULL};

		r->method = method;
		r->url = smam_fill_template(SPI_getvalue(tup, desc, 5), vals, 12, SMAM_ESC_URL);
		r->allowed_hosts = text_array(tup, desc, 9, &r->nallowed_hosts);
		r->allowed_networks = text_array(tup, desc, 10, &r->nallowed_networks);
		r->secret = token;
		htpl = text_array(tup, desc, 6, &nh);
		r->headers = palloc(sizeof(char *) * (nh + 2));
		for (int h = 0; h < nh; h++)
			r->headers[r->nheaders++] = smam_fill_template(htpl[h], vals, 12, SMAM_ESC_HEADER);
		r->headers[r->nheaders++] = psprintf("%s: %s", idem_header, key);
		if (body_tpl != NULL)
		{
			SmamEscape esc = strcmp(format, "json") == 0   ? SMAM_ESC_JSON
							 : strcmp(format, "form") == 0 ? SMAM_ESC_FORM
														   : SMAM_ESC_RAW;

			r->body = smam_fill_template(body_tpl, vals, 12, esc);
			r->headers[r->nheaders++] =
				pstrdup(esc == SMAM_ESC_JSON   ? "Content-Type: application/json"
						: esc == SMAM_ESC_FORM ? "Content-Type: application/x-www-form-urlencoded"
											   : "Content-Type: text/plain; charset=utf-8");
		}
	}
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

	/* ---- decide ---- */
	for (int i = 0; i < n; i++)
	{
		SmamHttpRequest *r = &reqs[i];
		Claim *it = &items[i];

		if (!it->sendable)
			continue;
		it->sqlstate = r->sqlstate;
		it->error = r->error;
		if (r->sqlstate == 0)
			it->outcome = "delivered";
		else if (r->retryable && it->attempts < smam_retry_limit)
		{
			it->outcome = "pending";
			it->retry_at = retry_time(it->attempts, r->retry_after);
		}
		else
		{
			it->outcome = "dead";
			if (r->retryable)
				it->error = psprintf("gave up after %d attempts (smam.retry_limit): %s",
									 it->attempts, r->error);
		}
	}
	MemoryContextSwitchTo(old);

	/* ---- record ---- */
	begin_step(own_transactions);
	{
		Datum *ids = palloc(sizeof(Datum) * n), *outcomes = palloc(sizeof(Datum) * n),
			  *statuses = palloc(sizeof(Datum) * n), *errors = palloc(sizeof(Datum) * n),
			  *states = palloc(sizeof(Datum) * n), *retries = palloc(sizeof(Datum) * n),
			  *bodies = palloc(sizeof(Datum) * n), *paths = palloc(sizeof(Datum) * n),
			  *starts = palloc(sizeof(Datum) * n), *remotes = palloc(sizeof(Datum) * n);
		bool *n_status = palloc0(n), *n_err = palloc0(n), *n_retry = palloc0(n),
			 *n_body = palloc0(n), *n_path = palloc0(n), *n_remote = palloc0(n);
		Oid types[10] = {INT8ARRAYOID,		  TEXTARRAYOID,		   INT4ARRAYOID, TEXTARRAYOID,
						 TEXTARRAYOID,		  TIMESTAMPTZARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
						 TIMESTAMPTZARRAYOID, TEXTARRAYOID};
		Datum args[10];
		bool isnull;

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
			states[i] =
				CStringGetTextDatum(it->sqlstate ? unpack_sql_state(it->sqlstate) : "00000");
			n_retry[i] = it->retry_at == 0;
			retries[i] = TimestampTzGetDatum(it->retry_at);
			n_body[i] =
				!(strcmp(it->outcome, "delivered") == 0 && is_json(r->response, r->response_len));
			bodies[i] = n_body[i] ? (Datum) 0 : CStringGetTextDatum(r->response);
			n_path[i] = it->post_id_path == NULL;
			paths[i] = n_path[i] ? (Datum) 0 : CStringGetTextDatum(it->post_id_path);
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
		args[6] = smam_make_array(bodies, n_body, n, TEXTOID);
		args[7] = smam_make_array(paths, n_path, n, TEXTOID);
		args[8] = smam_make_array(starts, NULL, n, TIMESTAMPTZOID);
		args[9] = smam_make_array(remotes, n_remote, n, TEXTOID);
		run(RECORD_SQL, 10, types, args, NULL, false, SPI_OK_SELECT);
		if (SPI_processed == 1)
		{
			bool posts_null;
			Datum posts =
				SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &posts_null);

			settled = (int) DatumGetInt64(
				SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			if (!posts_null)
			{
				Oid pt[1] = {INT8ARRAYOID};
				Datum pv[1] = {posts};

				run("SELECT smam.settle_posts($1)", 1, pt, pv, NULL, false, SPI_OK_SELECT);
			}
		}
	}
	end_step(own_transactions);
	MemoryContextDelete(batch_cxt);
	return settled;
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

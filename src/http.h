/*
 * http.h: smam's one HTTP client (http.c), shared by the publishing worker,
 * smam.dispatch(), smam.check_account_urls() and smam.pull_metrics().
 */
#ifndef SMAM_HTTP_H
#define SMAM_HTTP_H

#include "postgres.h"

/* Settings (defined in http.c, registered by smam_http_init). */
extern int smam_http_connect_timeout;
extern int smam_http_timeout;
extern int smam_http_max_response_size;
extern int smam_http_max_connections;

/* One request and, once performed, its outcome. */
typedef struct SmamHttpRequest
{
	/* What to send. */
	const char *method; /* GET, POST, PUT, PATCH or DELETE */
	const char *url;
	char **headers; /* "Name: value" lines */
	int nheaders;
	const char *body; /* NULL: no body */
	/* The safety rules that apply (set by an administrator). */
	char **allowed_hosts; /* exact host names; ".example.com" for subdomains */
	int nallowed_hosts;
	char **allowed_networks; /* CIDR ranges of private addresses allowed */
	int nallowed_networks;
	const char *secret; /* scrubbed from every text kept; may be NULL */
	bool discard_body;	/* read the answer but keep none of it */

	/* The outcome. */
	long status;	/* HTTP status, 0 when no answer */
	char *response; /* body received (NUL-terminated), may be NULL */
	size_t response_len;
	char *location;		/* Location of a redirect, NULL if none */
	double retry_after; /* seconds asked by Retry-After, -1 if none */
	int sqlstate;		/* 0 when an answer was received */
	char *error;		/* why no answer was received, NULL if one was */
	bool retryable;		/* a failure worth trying again (timeouts, resets) */
	char *remote_ip;	/* address actually used, NULL if none */

	/* Private to http.c. */
	void *priv;
} SmamHttpRequest;

extern void smam_http_init(void);

/*
 * Check a URL against the rules before anything is sent: http or https, a
 * host on the allowlist. Returns NULL if it passes, else the reason, and sets
 * *sqlstate.
 */
extern char *smam_http_url_problem(const char *url, char **allowed_hosts, int nallowed,
								   int *sqlstate);

/*
 * Perform the requests at once (curl multi). Never raises for a failed
 * request: each gets its sqlstate and error. Raises only for interrupts
 * (query cancel, shutdown), after releasing every curl handle.
 */
extern void smam_http_perform(SmamHttpRequest *reqs, int n);

/* Templates: {{name}} placeholders filled with escaped values (delivery.c). */
typedef enum
{
	SMAM_ESC_RAW,
	SMAM_ESC_URL,
	SMAM_ESC_JSON,
	SMAM_ESC_HEADER,
	SMAM_ESC_FORM
} SmamEscape;

typedef struct SmamValue
{
	const char *name;
	const char *value;
} SmamValue;

extern char *smam_fill_template(const char *tpl, const SmamValue *vals, int nvals, SmamEscape esc);

/*
 * The origin (scheme://host:port, lower case, the default port written) of
 * a URL, or NULL when it is no http(s) URL (http.c). A credential is bound
 * to the origin it was given for.
 */
extern char *smam_http_url_origin(const char *url);

/*
 * What smam keeps of what the network sends (answer.c). smam_net_text()
 * copies text received keeping only characters valid in the database's
 * encoding, writing any other byte (NUL and controls included) as \xHH.
 * The two readers of JSON answers return NULL when the answer could be
 * read, else why not (with *sqlstate); nothing they return needs checking
 * again.
 */
#define SMAM_JSON_MAX_DEPTH 64
#define SMAM_POST_ID_MAX 128
#define SMAM_METRIC_NAME_MAX 100

extern char *smam_net_text(const char *s, size_t len);
extern char *smam_net_cstring(const char *s);

/* The platform's post id at path, in a 2xx answer (*id NULL: none). */
extern char *smam_answer_post_id(const char *body, size_t len, char **path, int npath, char **id,
								 int *sqlstate);

/* The numbers of the object at path of a metrics answer (names, values). */
extern char *smam_answer_metrics(const char *body, size_t len, char **path, int npath, int *n,
								 char ***names, char ***values, int *sqlstate);

/* Replace every occurrence of secret in text (palloc'd copy). */
extern char *smam_scrub(const char *text, const char *secret);

#endif /* SMAM_HTTP_H */

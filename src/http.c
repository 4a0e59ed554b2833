/*
 * http.c: smam's one HTTP client, built on the libcurl multi interface.
 *
 * Everything smam sends over the network goes through smam_http_perform():
 * deliveries of posts, the link check of account URLs and the metrics pull.
 * The safety rules live here, once:
 *
 *  - http and https only, and no proxy taken from the environment;
 *  - the host must be on the allowlist an administrator set;
 *  - the address actually connected to is checked when the socket is opened
 *    and again before each request is sent (a connection re-used from the
 *    pool included), so a DNS answer pointing at loopback, private,
 *    link-local or other special ranges is refused unless the administrator
 *    allowed that range explicitly;
 *  - redirects are never followed (a 3xx answer is reported with its
 *    Location, the caller decides);
 *  - TLS peers and host names are verified;
 *  - connect and total timeouts and a cap on the size of an answer come
 *    from settings.
 *
 * Every curl failure becomes an SQLSTATE and a message in map_failure(),
 * the one place where that mapping is made. Messages name the host, never
 * the full URL (a URL may carry a token) and are scrubbed of the secret.
 *
 * The multi handle lives as long as the process so that connections are
 * re-used from one batch to the next. curl callbacks never palloc or raise:
 * they use malloc and flags; the PostgreSQL side copies afterwards.
 */
#include "smam.h"
#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

int smam_http_connect_timeout = 5000;
int smam_http_timeout = 30000;
int smam_http_max_response_size = 1048576;
int smam_http_max_connections = 32;

static CURLM *multi = NULL;

typedef struct Network
{
	int family;
	unsigned char addr[16];
	int bits;
} Network;

typedef struct Priv
{
	SmamHttpRequest *req;
	CURL *easy;
	struct curl_slist *hdrs;
	char *buf; /* malloc'd */
	size_t len;
	size_t alloc;
	bool too_large;
	char *location; /* malloc'd */
	double retry_after;
	char refused[256]; /* why the address was refused, "" if not */
	char errbuf[CURL_ERROR_SIZE];
	Network *networks;
	int nnetworks;
	bool added;
	bool done;
	CURLcode result;
} Priv;

void
smam_http_init(void)
{
	curl_global_init(CURL_GLOBAL_ALL);

	DefineCustomIntVariable("smam.http_connect_timeout", "Time allowed to connect to a platform.",
							NULL, &smam_http_connect_timeout, 5000, 1, 600000, PGC_SUSET,
							GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"smam.http_timeout", "Time allowed for a whole request to a platform, answer included.",
		NULL, &smam_http_timeout, 30000, 1, 3600000, PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable(
		"smam.http_max_response_size", "Largest answer smam reads from a platform.",
		"A larger answer is a failure, never stored.", &smam_http_max_response_size, 1048576, 1024,
		1073741823, PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("smam.http_max_connections", "Connections open at once to one host.",
							NULL, &smam_http_max_connections, 32, 1, 1024, PGC_SUSET, 0, NULL, NULL,
							NULL);
}

/* ---- addresses ---- */

/*
 * A network as "address" or "address/bits", in full: the bits are decimal
 * digits within the family's width, nothing follows them. Anything else
 * (10.0.0.0/8x, /33, /-1, / 8) is not a network.
 */
static bool
parse_network(const char *text, Network *net)
{
	char buf[128];
	char *slash;
	int maxbits;

	if (strlcpy(buf, text, sizeof(buf)) >= sizeof(buf))
		return false;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, net->addr) == 1)
	{
		net->family = AF_INET;
		maxbits = 32;
	}
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
	{
		net->family = AF_INET6;
		maxbits = 128;
	}
	else
		return false;
	net->bits = maxbits;
	if (slash)
	{
		const char *digits = slash + 1;
		char *end;
		long bits;

		if (*digits < '0' || *digits > '9')
			return false;
		errno = 0;
		bits = strtol(digits, &end, 10);
		if (errno != 0 || *end != '\0' || bits < 0 || bits > maxbits)
			return false;
		net->bits = (int) bits;
	}
	return true;
}

static bool
prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xFF << (8 - rest)) & 0xFF) == 0;
}

/*
 * Special ranges: a table of prefixes and what they are, from IANA's IPv4
 * and IPv6 special-purpose address registries. An IPv4 address outside
 * them is public; an IPv6 address is public only in global unicast
 * (2000::/3) outside them, or where it carries an IPv4 address that is
 * judged in turn (mapped, NAT64 64:ff9b::/96, 6to4 2002::/16).
 */
typedef struct SpecialRange
{
	unsigned char prefix[16];
	int bits;
	const char *what;
} SpecialRange;

static const SpecialRange v4_special[] = {
	{{0}, 8, "unspecified (\"this network\")"},
	{{10}, 8, "private"},
	{{100, 64}, 10, "shared (carrier-grade NAT)"},
	{{127}, 8, "loopback"},
	{{169, 254}, 16, "link-local"},
	{{172, 16}, 12, "private"},
	{{192, 0, 0}, 24, "IETF protocol assignments"},
	{{192, 0, 2}, 24, "documentation"},
	{{192, 88, 99}, 24, "6to4 relay anycast (deprecated)"},
	{{192, 168}, 16, "private"},
	{{198, 18}, 15, "benchmarking"},
	{{198, 51, 100}, 24, "documentation"},
	{{203, 0, 113}, 24, "documentation"},
	{{224}, 4, "multicast"},
	{{240}, 4, "reserved"},
};

static const SpecialRange v6_special[] = {
	{{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},
	{{0x20, 0x01}, 23, "IETF protocol assignments (Teredo, benchmarking, ORCHID)"},
	{{0x3f, 0xff}, 20, "documentation"},
};

static const char *
in_table(const SpecialRange *t, int n, const unsigned char *a)
{
	for (int i = 0; i < n; i++)
		if (prefix_match(t[i].prefix, a, t[i].bits))
			return t[i].what;
	return NULL;
}

/* "a" or "an" before the name of a range ("an IETF", "an unspecified"). */
static const char *
article(const char *word)
{
	return word[0] != '\0' && strchr("aeiouAEIOU", word[0]) != NULL ? "an" : "a";
}

/*
 * The special range an address is in, or NULL for a globally routable one.
 * *embedded is set to the IPv4 address an IPv6 one carries (mapped, NAT64,
 * 6to4), to be judged as well; NULL when it carries none.
 */
static const char *
special_range(int family, const unsigned char *a, const unsigned char **embedded)
{
	static const unsigned char zero[16] = {0};
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	static const unsigned char nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};

	*embedded = NULL;
	if (family == AF_INET)
		return in_table(v4_special, lengthof(v4_special), a);
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return "loopback";
	if (memcmp(a, zero, 16) == 0)
		return "unspecified";
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
	{
		*embedded = a + 12;
		return NULL;
	}
	if (memcmp(a, zero, 12) == 0)
		return "IPv4-compatible (deprecated)";
	if ((a[0] & 0xFE) == 0xFC)
		return "private";
	if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)
		return "link-local";
	if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0)
		return "site-local (deprecated)";
	if (a[0] == 0xFF)
		return "multicast";
	if (a[0] == 0x20 && a[1] == 0x02)
	{
		*embedded = a + 2;
		return NULL;
	}
	if ((a[0] & 0xE0) != 0x20)
		return "reserved (not global unicast: NAT64 local use, SIIT, discard-only, ...)";
	return in_table(v6_special, lengthof(v6_special), a);
}

/* The cloud metadata services: never contacted, whatever is allowed. */
static bool
is_metadata(int family, const unsigned char *a)
{
	static const unsigned char v4[4] = {169, 254, 169, 254};
	static const unsigned char v6[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0,	  0,
										 0,	   0, 0,	0,	  0, 0, 0x02, 0x54};

	return family == AF_INET ? memcmp(a, v4, 4) == 0 : memcmp(a, v6, 16) == 0;
}

static bool
covered(const Network *nets, int n, int family, const unsigned char *a)
{
	for (int i = 0; i < n; i++)
		if (nets[i].family == family && prefix_match(nets[i].addr, a, nets[i].bits))
			return true;
	return false;
}

/*
 * Why the address may not be used with these networks allowed, written
 * into why (false), or true when it may. No palloc, no ereport: it runs
 * inside curl callbacks.
 */
static bool
address_ok(int family, const unsigned char *a, const Network *nets, int n, char *why, size_t len)
{
	const unsigned char *v4 = NULL;
	const char *range = special_range(family, a, &v4);
	const char *inner = NULL;
	const unsigned char *unused;
	char text[INET6_ADDRSTRLEN];
	char inner_text[INET_ADDRSTRLEN] = "";

	inet_ntop(family, a, text, sizeof(text));
	if (v4 != NULL)
	{
		inet_ntop(AF_INET, v4, inner_text, sizeof(inner_text));
		inner = special_range(AF_INET, v4, &unused);
	}
	if (is_metadata(family, a))
	{
		snprintf(why, len, "address %s is a cloud metadata service, which smam never contacts",
				 text);
		return false;
	}
	if (v4 != NULL && is_metadata(AF_INET, v4))
	{
		snprintf(why, len,
				 "address %s carries %s, a cloud metadata service, which smam never contacts", text,
				 inner_text);
		return false;
	}
	if (range == NULL && inner == NULL)
		return true;
	if (covered(nets, n, family, a) || (v4 != NULL && covered(nets, n, AF_INET, v4)))
		return true;
	if (range != NULL)
		snprintf(why, len, "address %s is in %s %s range, which the connector does not allow", text,
				 article(range), range);
	else
		snprintf(why, len,
				 "address %s carries %s, which is in %s %s range, which the connector does not "
				 "allow",
				 text, inner_text, article(inner), inner);
	return false;
}

/*
 * May this address be used? Sets priv->refused when not. Runs inside curl
 * callbacks: no palloc, no ereport.
 */
static bool
address_allowed(Priv *p, int family, const unsigned char *a)
{
	return address_ok(family, a, p->networks, p->nnetworks, p->refused, sizeof(p->refused));
}

static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
	Priv *p = (Priv *) clientp;

	if (address->family == AF_INET)
	{
		if (!address_allowed(p, AF_INET,
							 (unsigned char *) &((struct sockaddr_in *) &address->addr)->sin_addr))
			return CURL_SOCKET_BAD;
	}
	else if (address->family == AF_INET6)
	{
		if (!address_allowed(
				p, AF_INET6,
				(unsigned char *) &((struct sockaddr_in6 *) &address->addr)->sin6_addr))
			return CURL_SOCKET_BAD;
	}
	else
	{
		snprintf(p->refused, sizeof(p->refused), "address family %d is not allowed",
				 address->family);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/* Before each request, pooled connections included. */
static int
before_request(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	Priv *p = (Priv *) clientp;
	unsigned char a[16];

	if (inet_pton(AF_INET, primary_ip, a) == 1)
		return address_allowed(p, AF_INET, a) ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
	if (inet_pton(AF_INET6, primary_ip, a) == 1)
		return address_allowed(p, AF_INET6, a) ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
	snprintf(p->refused, sizeof(p->refused), "address %s is not understood", primary_ip);
	return CURL_PREREQFUNC_ABORT;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	Priv *p = (Priv *) userdata;
	size_t n = size * nmemb;

	if (p->req->discard_body)
		return n;
	if (p->len + n > (size_t) smam_http_max_response_size)
	{
		p->too_large = true;
		return 0;
	}
	if (p->len + n + 1 > p->alloc)
	{
		size_t want = Max(p->alloc * 2, p->len + n + 1);
		char *grown = realloc(p->buf, Max(want, 1024));

		if (grown == NULL)
			return 0;
		p->buf = grown;
		p->alloc = Max(want, 1024);
	}
	memcpy(p->buf + p->len, data, n);
	p->len += n;
	p->buf[p->len] = '\0';
	return n;
}

static size_t
on_header(char *data, size_t size, size_t nitems, void *userdata)
{
	Priv *p = (Priv *) userdata;
	size_t n = size * nitems;
	char line[2048];
	char *value;
	size_t l;

	if (n >= sizeof(line))
		return n;
	memcpy(line, data, n);
	line[n] = '\0';
	/* A new status line (100 Continue, then the answer) starts afresh. */
	if (strncmp(line, "HTTP/", 5) == 0)
	{
		free(p->location);
		p->location = NULL;
		p->retry_after = -1;
		return n;
	}
	value = strchr(line, ':');
	if (value == NULL)
		return n;
	*value++ = '\0';
	while (*value == ' ' || *value == '\t')
		value++;
	l = strlen(value);
	while (l > 0 && (value[l - 1] == '\r' || value[l - 1] == '\n' || value[l - 1] == ' '))
		value[--l] = '\0';
	if (pg_strcasecmp(line, "Location") == 0)
	{
		free(p->location);
		p->location = strdup(value);
	}
	else if (pg_strcasecmp(line, "Retry-After") == 0)
	{
		char *end;
		double secs = strtod(value, &end);

		if (end != value && *end == '\0' && secs >= 0)
			p->retry_after = secs;
		else
		{
			time_t when = curl_getdate(value, NULL);

			if (when > 0)
				p->retry_after = Max(0, (double) (when - time(NULL)));
		}
	}
	return n;
}

/* ---- the rules checked before sending ---- */

static char *
url_host(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	char *result = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		result = pstrdup(host);
	curl_free(host);
	curl_url_cleanup(u);
	return result ? result : pstrdup("(unknown host)");
}

static bool
host_on_list(const char *host, char **allowed, int n)
{
	size_t hl = strlen(host);

	for (int i = 0; i < n; i++)
	{
		const char *a = allowed[i];
		size_t al = strlen(a);

		if (a[0] == '.')
		{
			if (hl > al && pg_strcasecmp(host + hl - al, a) == 0)
				return true;
		}
		else if (pg_strcasecmp(host, a) == 0)
			return true;
	}
	return false;
}

char *
smam_http_url_problem(const char *url, char **allowed_hosts, int nallowed, int *sqlstate)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL;
	char *problem = NULL;

	*sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		problem = pstrdup("the address is not a URL smam can read");
	else if (pg_strcasecmp(scheme, "http") != 0 && pg_strcasecmp(scheme, "https") != 0)
		problem = psprintf("scheme \"%s\" is not allowed: smam speaks http and https only", scheme);
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		problem = pstrdup("a URL may not carry a user name or password: put credentials in the "
						  "account's credentials");
	else if (!host_on_list(host, allowed_hosts, nallowed))
	{
		*sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
		problem = psprintf("host %s is not on the connector's allowlist", host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return problem;
}

char *
smam_scrub(const char *text, const char *secret)
{
	StringInfoData out;
	size_t sl;
	const char *p;

	if (text == NULL)
		return NULL;
	if (secret == NULL || secret[0] == '\0')
		return pstrdup(text);
	sl = strlen(secret);
	initStringInfo(&out);
	p = text;
	for (;;)
	{
		const char *hit = strstr(p, secret);

		if (hit == NULL)
			break;
		appendBinaryStringInfo(&out, p, hit - p);
		appendStringInfoString(&out, "[secret]");
		p = hit + sl;
	}
	appendStringInfoString(&out, p);
	return out.data;
}

/*
 * The one place where a curl failure becomes an SQLSTATE, a message and the
 * decision whether trying again may help.
 */
static void
map_failure(Priv *p, CURLcode rc)
{
	SmamHttpRequest *r = p->req;
	char *host = url_host(r->url);
	const char *why = p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc);

	r->retryable = false;
	if (p->refused[0] != '\0')
	{
		r->sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
		r->error = psprintf("request to %s refused: %s", host, p->refused);
		return;
	}
	switch (rc)
	{
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			r->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			r->error =
				psprintf("request to %s refused: only http and https URLs are allowed", host);
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
			r->sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			r->error = psprintf("could not resolve host %s", host);
			r->retryable = true;
			break;
		case CURLE_COULDNT_CONNECT:
			r->sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			r->error = psprintf("could not connect to %s: %s", host, why);
			r->retryable = true;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			r->sqlstate = ERRCODE_QUERY_CANCELED;
			r->error = psprintf("no answer from %s within the time allowed "
								"(smam.http_connect_timeout %d ms, smam.http_timeout %d ms)",
								host, smam_http_connect_timeout, smam_http_timeout);
			r->retryable = true;
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			r->sqlstate = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
			r->error = psprintf("TLS with %s could not be verified: %s", host, why);
			break;
		case CURLE_FILESIZE_EXCEEDED:
		case CURLE_WRITE_ERROR:
			r->sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			r->error =
				psprintf("the answer from %s is larger than smam.http_max_response_size (%d bytes)",
						 host, smam_http_max_response_size);
			break;
		case CURLE_ABORTED_BY_CALLBACK:
			r->sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
			r->error = psprintf("request to %s refused by smam's safety rules", host);
			break;
		case CURLE_GOT_NOTHING:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			r->sqlstate = ERRCODE_CONNECTION_FAILURE;
			r->error = psprintf("the connection to %s failed: %s", host, why);
			r->retryable = true;
			break;
		case CURLE_OUT_OF_MEMORY:
			r->sqlstate = ERRCODE_OUT_OF_MEMORY;
			r->error = psprintf("out of memory while talking to %s", host);
			r->retryable = true;
			break;
		default:
			r->sqlstate = ERRCODE_SYSTEM_ERROR;
			r->error = psprintf("request to %s failed: %s", host, why);
			break;
	}
	r->error = smam_scrub(r->error, r->secret);
}

/*
 * An answer that is not a success gets its SQLSTATE and message here too,
 * so that a delivery, a link check and a metrics pull read alike.
 */
static void
map_status(SmamHttpRequest *r)
{
	char *host;
	long s = r->status;

	if (s >= 200 && s < 300)
		return;
	host = url_host(r->url);
	r->retryable = false;
	if (s >= 300 && s < 400)
	{
		r->sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
		r->error = psprintf("%s answered HTTP %ld, a redirect to %s: smam never follows redirects",
							host, s, r->location ? url_host(r->location) : "nowhere");
	}
	else if (s == 401 || s == 403)
	{
		r->sqlstate = ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
		r->error = psprintf("%s refused the account's credentials (HTTP %ld)", host, s);
	}
	else if (s == 404 || s == 410)
	{
		r->sqlstate = ERRCODE_UNDEFINED_OBJECT;
		r->error = psprintf("%s has no such resource (HTTP %ld)", host, s);
	}
	else if (s == 408 || s == 425 || s == 429)
	{
		r->sqlstate = ERRCODE_INSUFFICIENT_RESOURCES;
		r->error = r->retry_after >= 0
					   ? psprintf("%s asked smam to slow down (HTTP %ld, Retry-After %.0f s)", host,
								  s, r->retry_after)
					   : psprintf("%s asked smam to slow down (HTTP %ld)", host, s);
		r->retryable = true;
	}
	else if (s >= 500)
	{
		r->sqlstate = ERRCODE_SYSTEM_ERROR;
		r->error = psprintf("%s failed to answer (HTTP %ld)", host, s);
		r->retryable = true;
	}
	else
	{
		r->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
		r->error = psprintf("%s rejected the request (HTTP %ld)", host, s);
	}
	r->error = smam_scrub(r->error, r->secret);
}

/* ---- performing ---- */

static void
prepare(Priv *p)
{
	SmamHttpRequest *r = p->req;
	CURL *e = curl_easy_init();

	if (e == NULL)
		elog(ERROR, "curl_easy_init failed");
	p->easy = e;
	p->retry_after = -1;
	curl_easy_setopt(e, CURLOPT_PRIVATE, p);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) smam_http_connect_timeout);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) smam_http_timeout);
	if (!r->discard_body)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) smam_http_max_response_size);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, p);
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, before_request);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, p);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "smam/0.1 (PostgreSQL extension)");
	if (r->method == NULL || strcmp(r->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(r->method, "POST") == 0)
		curl_easy_setopt(e, CURLOPT_POST, 1L);
	else
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body != NULL)
	{
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(r->body));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	}
	for (int i = 0; i < r->nheaders; i++)
	{
		struct curl_slist *n = curl_slist_append(p->hdrs, r->headers[i]);

		if (n == NULL)
			elog(ERROR, "curl_slist_append failed");
		p->hdrs = n;
	}
	/* No "Expect: 100-continue" round trip. */
	p->hdrs = curl_slist_append(p->hdrs, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->hdrs);
}

static void
finish(Priv *p)
{
	SmamHttpRequest *r = p->req;
	char *ip = NULL;

	if (curl_easy_getinfo(p->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && ip[0])
		r->remote_ip = smam_net_cstring(ip);
	if (p->too_large)
		p->result = CURLE_FILESIZE_EXCEEDED;
	if (p->result == CURLE_OK)
	{
		curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &r->status);
		r->sqlstate = 0;
		r->error = NULL;
		r->response = p->buf ? pnstrdup(p->buf, p->len) : pstrdup("");
		r->response_len = p->len;
		r->location = smam_net_cstring(p->location);
		r->retry_after = p->retry_after;
		map_status(r);
	}
	else
	{
		r->status = 0;
		map_failure(p, p->result);
	}
	/* Messages quote curl and the peer: keep only what the database can store. */
	r->error = smam_net_cstring(r->error);
}

static void
release(Priv *privs, int n)
{
	for (int i = 0; i < n; i++)
	{
		Priv *p = &privs[i];

		if (p->easy)
		{
			if (p->added)
				curl_multi_remove_handle(multi, p->easy);
			curl_easy_cleanup(p->easy);
			p->easy = NULL;
		}
		curl_slist_free_all(p->hdrs);
		p->hdrs = NULL;
		free(p->buf);
		p->buf = NULL;
		free(p->location);
		p->location = NULL;
	}
}

void
smam_http_perform(SmamHttpRequest *reqs, int n)
{
	Priv *privs;
	volatile int pending = 0;

	if (n <= 0)
		return;
	if (multi == NULL)
	{
		multi = curl_multi_init();
		if (multi == NULL)
			elog(ERROR, "curl_multi_init failed");
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) smam_http_max_connections);
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) smam_http_max_connections * 4);
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

	privs = palloc0(sizeof(Priv) * n);
	PG_TRY();
	{
		for (int i = 0; i < n; i++)
		{
			Priv *p = &privs[i];
			SmamHttpRequest *r = &reqs[i];
			int sqlstate;
			char *problem;

			p->req = r;
			r->status = 0;
			r->sqlstate = 0;
			r->error = NULL;
			r->response = NULL;
			r->location = NULL;
			r->retry_after = -1;
			r->retryable = false;
			r->remote_ip = NULL;
			problem = smam_http_url_problem(r->url, r->allowed_hosts, r->nallowed_hosts, &sqlstate);
			if (problem != NULL)
			{
				r->sqlstate = sqlstate;
				r->error = smam_scrub(psprintf("request refused: %s", problem), r->secret);
				p->done = true;
				continue;
			}
			/* A network that does not parse allows nothing. */
			p->networks = palloc0(sizeof(Network) * Max(1, r->nallowed_networks));
			for (int k = 0; k < r->nallowed_networks; k++)
				if (parse_network(r->allowed_networks[k], &p->networks[p->nnetworks]))
					p->nnetworks++;
			prepare(p);
			if (curl_multi_add_handle(multi, p->easy) != CURLM_OK)
				elog(ERROR, "curl_multi_add_handle failed");
			p->added = true;
			pending++;
		}

		while (pending > 0)
		{
			int running;
			int left;
			CURLMsg *msg;
			CURLMcode mc;

			mc = curl_multi_perform(multi, &running);
			if (mc != CURLM_OK)
				elog(ERROR, "curl_multi_perform failed: %s", curl_multi_strerror(mc));
			while ((msg = curl_multi_info_read(multi, &left)) != NULL)
			{
				Priv *p;

				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &p);
				p->result = msg->data.result;
				finish(p);
				curl_multi_remove_handle(multi, p->easy);
				p->added = false;
				p->done = true;
				pending--;
			}
			if (pending == 0)
				break;
			/* Wake at least every 100 ms to answer interrupts. */
			mc = curl_multi_poll(multi, NULL, 0, 100, NULL);
			if (mc != CURLM_OK)
				elog(ERROR, "curl_multi_poll failed: %s", curl_multi_strerror(mc));
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_FINALLY();
	{
		release(privs, n);
	}
	PG_END_TRY();
	pfree(privs);
}

PG_FUNCTION_INFO_V1(smam_http_url_problem_sql);

/*
 * smam.http_url_problem(url text, allowed_hosts text[]) RETURNS text: why
 * smam_http_perform would refuse the URL before sending, or NULL.
 */
Datum
smam_http_url_problem_sql(PG_FUNCTION_ARGS)
{
	char **hosts = NULL;
	int n = 0;
	int sqlstate;
	char *problem;

	if (PG_ARGISNULL(0))
		PG_RETURN_TEXT_P(cstring_to_text("the URL is missing"));
	if (!PG_ARGISNULL(1))
	{
		Datum *elems;
		bool *nulls;
		int count;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &elems,
						  &nulls, &count);
		hosts = palloc(sizeof(char *) * Max(count, 1));
		for (int i = 0; i < count; i++)
			if (!nulls[i])
				hosts[n++] = TextDatumGetCString(elems[i]);
	}
	problem = smam_http_url_problem(text_to_cstring(PG_GETARG_TEXT_PP(0)), hosts, n, &sqlstate);
	if (problem == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}

char *
smam_http_url_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	char *result = NULL;

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
		(pg_strcasecmp(scheme, "http") == 0 || pg_strcasecmp(scheme, "https") == 0))
	{
		result = psprintf("%s://%s:%s", scheme, host, port);
		for (char *c = result; *c; c++)
			*c = pg_ascii_tolower((unsigned char) *c);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return result;
}

PG_FUNCTION_INFO_V1(smam_url_origin_sql);

/* smam.url_origin(url text) RETURNS text: scheme://host:port, or NULL. */
Datum
smam_url_origin_sql(PG_FUNCTION_ARGS)
{
	char *origin = smam_http_url_origin(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (origin == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(origin));
}

PG_FUNCTION_INFO_V1(smam_address_problem_sql);

/*
 * smam.address_problem(address text, allowed_networks text[] DEFAULT '{}')
 * RETURNS text: why smam's HTTP client would refuse to connect to the
 * address with those networks allowed, or NULL. A network that is not one
 * is refused (22023).
 */
Datum
smam_address_problem_sql(PG_FUNCTION_ARGS)
{
	char *address = text_to_cstring(PG_GETARG_TEXT_PP(0));
	unsigned char a[16];
	int family;
	Network *nets = NULL;
	int n = 0;
	char why[256];

	if (inet_pton(AF_INET, address, a) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, address, a) == 1)
		family = AF_INET6;
	else
		smam_refuse(
			ERRCODE_INVALID_TEXT_REPRESENTATION, NULL,
			smam_format("\"%s\" is not an IP address", address), NULL,
			"Give an IPv4 address such as 192.0.2.1 or an IPv6 address such as 2001:db8::1.");
	if (!PG_ARGISNULL(1))
	{
		Datum *elems;
		bool *nulls;
		int count;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &elems,
						  &nulls, &count);
		nets = palloc0(sizeof(Network) * Max(count, 1));
		for (int i = 0; i < count; i++)
		{
			char *net;

			if (nulls[i])
				continue;
			net = TextDatumGetCString(elems[i]);
			if (!parse_network(net, &nets[n]))
				smam_refuse(ERRCODE_INVALID_TEXT_REPRESENTATION, "6.2.5",
							smam_format("\"%s\" is not a network", net),
							"A network is an address, or an address, a slash and the number of "
							"bits of its prefix (0 to 32 for IPv4, 0 to 128 for IPv6).",
							"Write it as 10.0.0.0/8 or fd00::/8.");
			n++;
		}
	}
	if (address_ok(family, a, nets, n, why, sizeof(why)))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}

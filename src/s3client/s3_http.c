// SPDX-License-Identifier: GPL-2.0
/*
 * s3_http.c - libcurl transport for S3 with SigV4, a pool of easy handles and retries.
 *
 * Every attempt is signed anew (x-amz-date moves on while we back off).  The URL carries
 * exactly the path and canonical query string that were signed, and the Host header is set
 * explicitly, so what the server canonicalises is what we signed.  CURLOPT_PATH_AS_IS keeps
 * curl from folding "/../" in keys.  "Expect:" is suppressed: 100-continue costs a round
 * trip per PUT and buys nothing on a loopback or in-region endpoint.
 */
#include "s3_http.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "s3_http_priv.h"
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_ALL);
}

void s3_http_opts_init(struct s3_http_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->connect_timeout_ms = 3000;
	opts->low_speed_time_s = 10;
	opts->request_timeout_ms = 0;
	opts->max_retries = 4;
	opts->backoff_base_ms = 100;
	opts->backoff_max_ms = 2000;
	opts->path_style = 1;
	opts->sign_payload = 0;
	opts->pool_size = 16;
}

int s3_http_new(struct s3_http **out, const char *endpoint, const char *region,
		const struct s3_sign_cred *cred, const struct s3_http_opts *opts)
{
	const char *p;
	struct s3_http *h;
	size_t n;
	int err;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		pr_err("cannot initialise libcurl: %s", curl_easy_strerror(curl_init_rc));
		return -EIO;
	}
	if (!cred || !cred->access_key || !cred->secret_key ||
	    strlen(cred->access_key) >= S3_HTTP_KEY_MAX ||
	    strlen(cred->secret_key) >= S3_HTTP_KEY_MAX) {
		pr_err("missing or oversized S3 credentials");
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	err = -EINVAL;
	if (!strncmp(endpoint, "http://", 7)) {
		strcpy(h->scheme, "http");
		p = endpoint + 7;
	} else if (!strncmp(endpoint, "https://", 8)) {
		strcpy(h->scheme, "https");
		p = endpoint + 8;
	} else {
		pr_err("cannot use S3 endpoint '%s': expected http:// or https://", endpoint);
		goto out_free;
	}
	n = strcspn(p, "/?#");
	if (!n || n >= sizeof(h->authority) || (p[n] && strcmp(p + n, "/"))) {
		pr_err("cannot use S3 endpoint '%s': expected scheme://host[:port]", endpoint);
		goto out_free;
	}
	memcpy(h->authority, p, n);
	/* a region is signed into the credential scope "KEY/DATE/REGION/s3/...": a name */
	if (!region || !*region || strlen(region) >= sizeof(h->region) ||
	    region[strspn(region, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789-_.")]) {
		pr_err("invalid S3 region '%.64s': letters, digits, '-', '_' and '.' only",
		       region ? region : "");
		goto out_free;
	}
	strcpy(h->region, region);
	strcpy(h->access_key, cred->access_key);
	strcpy(h->secret_key, cred->secret_key);
	err = -ENOMEM;
	if (cred->session_token && *cred->session_token) {
		h->session_token = strdup(cred->session_token);
		if (!h->session_token)
			goto out_free;
	}
	if (opts)
		h->opts = *opts;
	else
		s3_http_opts_init(&h->opts);
	if (!h->opts.pool_size)
		h->opts.pool_size = 1;
	h->idle = calloc(h->opts.pool_size, sizeof(*h->idle));
	if (!h->idle)
		goto out_free;
	pthread_mutex_init(&h->lock, NULL);
	*out = h;
	return 0;

out_free:
	free(h->session_token);
	OPENSSL_cleanse(h, sizeof(*h));
	free(h);
	return err;
}

void s3_http_free(struct s3_http *h)
{
	unsigned int i;

	if (!h)
		return;
	for (i = 0; i < h->nidle; i++)
		curl_easy_cleanup(h->idle[i]);
	free(h->idle);
	pthread_mutex_destroy(&h->lock);
	if (h->session_token) {
		OPENSSL_cleanse(h->session_token, strlen(h->session_token));
		free(h->session_token);
	}
	OPENSSL_cleanse(h, sizeof(*h));
	free(h);
}

void s3_http_stats(struct s3_http *h, struct s3_http_stats *st)
{
	pthread_mutex_lock(&h->lock);
	*st = h->stats;
	pthread_mutex_unlock(&h->lock);
}

static CURL *pool_get(struct s3_http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->nidle)
		c = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->lock);
	return c ? c : curl_easy_init();
}

static void pool_put(struct s3_http *h, CURL *c)
{
	/* reset drops the options but keeps the live connection and the DNS cache */
	curl_easy_reset(c);
	pthread_mutex_lock(&h->lock);
	if (h->nidle < h->opts.pool_size) {
		h->idle[h->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	if (c)
		curl_easy_cleanup(c);
}

/* Append "name:value\n" of the header line @line ("name: value\r\n" after x-amz-meta-). */
void meta_add(struct s3_response *r, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len), *v;
	size_t nl, vl, i;

	if (!colon || colon == line)
		return;
	nl = (size_t)(colon - line);
	v = colon + 1;
	vl = len - nl - 1;
	while (vl && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (memchr(v, '\n', vl) || r->meta_len + nl + vl + 3 > sizeof(r->meta))
		return;
	for (i = 0; i < nl; i++)
		r->meta[r->meta_len++] = (char)tolower((unsigned char)line[i]);
	r->meta[r->meta_len++] = ':';
	memcpy(r->meta + r->meta_len, v, vl);
	r->meta_len += vl;
	r->meta[r->meta_len++] = '\n';
	r->meta[r->meta_len] = '\0';
}

static int curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* Sleep before retry @attempt (1, 2, ...): base * 2^(attempt-1), capped, "equal jitter". */
static void backoff(const struct s3_http_opts *o, int attempt, unsigned int *seed)
{
	long d = o->backoff_base_ms, half;
	int i;

	for (i = 1; i < attempt && d < o->backoff_max_ms; i++)
		d *= 2;
	if (d > o->backoff_max_ms)
		d = o->backoff_max_ms;
	half = d / 2;
	d = half + (half ? (long)(rand_r(seed) % (half + 1)) : 0);
	if (d > 0)
		usleep((useconds_t)d * 1000);
}

struct built {
	char *url;
	char *path;              /* unencoded, for the signer */
	char host[320];
	struct curl_slist *hdrs;
};

static int build(struct s3_http *h, const struct s3_request *req, struct built *b)
{
	const char *bucket = req->bucket && *req->bucket ? req->bucket : NULL;
	const char *key = req->key && *req->key ? req->key : NULL;
	size_t plen = 2 + (bucket ? strlen(bucket) : 0) + (key ? strlen(key) : 0) + 1;
	char *query = NULL, *encpath = NULL;
	int n, err = -ENOMEM;

	memset(b, 0, sizeof(*b));
	b->path = malloc(plen);
	if (!b->path)
		return -ENOMEM;
	if (bucket && h->opts.path_style)
		snprintf(b->path, plen, "/%s%s%s", bucket, key ? "/" : "", key ? key : "");
	else
		snprintf(b->path, plen, "/%s", key ? key : "");
	if (bucket && !h->opts.path_style)
		n = snprintf(b->host, sizeof(b->host), "%s.%s", bucket, h->authority);
	else
		n = snprintf(b->host, sizeof(b->host), "%s", h->authority);
	if (n < 0 || (size_t)n >= sizeof(b->host))
		return -ENAMETOOLONG;

	encpath = malloc(plen * 3);
	query = s3_sign_canonical_query(req->query, req->nquery);
	if (!encpath || !query)
		goto out;
	s3_uri_encode(b->path, 1, encpath, plen * 3);
	n = snprintf(NULL, 0, "%s://%s%s%s%s", h->scheme, b->host, encpath, *query ? "?" : "",
		     query);
	b->url = malloc((size_t)n + 1);
	if (!b->url)
		goto out;
	sprintf(b->url, "%s://%s%s%s%s", h->scheme, b->host, encpath, *query ? "?" : "", query);
	err = 0;
out:
	free(encpath);
	free(query);
	return err;
}

static void built_free(struct built *b)
{
	free(b->url);
	free(b->path);
	curl_slist_free_all(b->hdrs);
	b->hdrs = NULL;
}

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
	struct curl_slist *nl;
	size_t n = strlen(name) + strlen(value) + 3;
	char *line = malloc(n);

	if (!line)
		return -ENOMEM;
	/* "Name;" is curl's way to send a header with an empty value */
	if (*value)
		snprintf(line, n, "%s: %s", name, value);
	else
		snprintf(line, n, "%s;", name);
	nl = curl_slist_append(*l, line);
	OPENSSL_cleanse(line, n);
	free(line);
	if (!nl)
		return -ENOMEM;
	*l = nl;
	return 0;
}

/* Sign for this attempt and make the header list. */
static int sign_headers(struct s3_http *h, const struct s3_request *req, struct built *b,
			const char *payload_hash)
{
	const struct s3_sign_cred cred = {
		.access_key = h->access_key, .secret_key = h->secret_key,
		.session_token = h->session_token,
	};
	char date[S3_AMZ_DATE_LEN + 1], auth[1024];
	struct s3_sign_req sr = {
		.method = req->method, .host = b->host, .path = b->path,
		.query = req->query, .nquery = req->nquery,
		.headers = req->headers, .nheaders = req->nheaders,
		.payload_hash = payload_hash, .amz_date = date,
		.region = h->region, .service = "s3",
	};
	size_t i;
	int err;

	curl_slist_free_all(b->hdrs);
	b->hdrs = NULL;
	s3_sign_amz_date(time(NULL), date);
	err = s3_sign(&sr, &cred, auth, sizeof(auth), NULL);
	if (err)
		return err;
	err = add_header(&b->hdrs, "Host", b->host);
	err = err ? err : add_header(&b->hdrs, "x-amz-date", date);
	err = err ? err : add_header(&b->hdrs, "x-amz-content-sha256", payload_hash);
	if (h->session_token)
		err = err ? err : add_header(&b->hdrs, "x-amz-security-token", h->session_token);
	for (i = 0; i < req->nheaders; i++)
		err = err ? err : add_header(&b->hdrs, req->headers[i].name, req->headers[i].value);
	err = err ? err : add_header(&b->hdrs, "Authorization", auth);
	/* "Name:" removes a header curl would add by itself */
	if (!err && !curl_slist_append(b->hdrs, "Expect:"))
		err = -ENOMEM;
	if (!err && !curl_slist_append(b->hdrs, "Accept:"))
		err = -ENOMEM;
	OPENSSL_cleanse(auth, sizeof(auth));
	return err;
}

/* SHA-256 of an fd range, for sign_payload. */
static int hash_fd(int fd, off_t off, size_t len, char out[S3_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32], *buf;
	EVP_MD_CTX *ctx;
	size_t done = 0;
	unsigned int i, mdlen;
	int err = -ENOMEM;

	buf = malloc(1 << 20);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx)
		goto out;
	err = -EIO;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while (done < len) {
		size_t want = len - done < (1u << 20) ? len - done : (1u << 20);
		ssize_t n = pread(fd, buf, want, off + (off_t)done);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		done += (size_t)n;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen))
		goto out;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	err = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return err;
}

static void sink_rewind(struct s3_sink *s)
{
	if (!s)
		return;
	s->len = 0;
	if (s->kind == S3_SINK_MEM && s->mem)
		s->mem[0] = '\0';
}

void s3_http_count_protocol_error(struct s3_http *h)
{
	pthread_mutex_lock(&h->lock);
	h->stats.protocol_errors++;
	pthread_mutex_unlock(&h->lock);
	if (h->opts.protocol_errors)
		__atomic_fetch_add(h->opts.protocol_errors, 1, __ATOMIC_RELAXED);
}

int s3_http_do(struct s3_http *h, const struct s3_request *req, struct s3_response *resp)
{
	const struct s3_http_opts *o = &h->opts;
	int has_body = !strcmp(req->method, "PUT") || !strcmp(req->method, "POST");
	char payload_hash[S3_SHA256_HEX_LEN + 1];
	struct s3_response local;
	unsigned int seed;
	struct built b;
	int attempt, err, retry, conn_bad = 0;
	CURL *c;

	if (!resp)
		resp = &local;
	memset(resp, 0, sizeof(*resp));
	seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)&seed ^ (unsigned int)getpid();

	if (!has_body && req->body.len)
		return -EINVAL;
	if (!req->body.len || !has_body)
		strcpy(payload_hash, S3_EMPTY_SHA256);
	else if (req->body.buf)
		s3_sha256_hex(req->body.buf, req->body.len, payload_hash);
	else if (o->sign_payload) {
		err = hash_fd(req->body.fd, req->body.off, req->body.len, payload_hash);
		if (err)
			return err;
	} else
		strcpy(payload_hash, S3_UNSIGNED_PAYLOAD);

	err = build(h, req, &b);
	if (err) {
		built_free(&b);
		return err;
	}
	c = pool_get(h);
	if (!c) {
		built_free(&b);
		return -ENOMEM;
	}

	for (attempt = 0;; attempt++) {
		struct xfer x = { .curl = c, .req = req, .sink = req->sink, .resp = resp };
		CURLcode rc;

		s3_http_wanted_range(req, &x.want_first, &x.want_last);
		retry = 0;
		conn_bad = 0;
		resp->status = 0;
		resp->content_length = -1;
		resp->total_size = -1;
		resp->range_first = resp->range_last = -1;
		resp->last_modified = 0;
		resp->etag[0] = resp->err_code[0] = resp->content_type[0] = '\0';
		resp->meta[0] = '\0';
		resp->meta_len = 0;
		resp->attempts = attempt + 1;
		sink_rewind(req->sink);
		err = sign_headers(h, req, &b, payload_hash);
		if (err)
			break;

		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, b.url);
		curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, b.hdrs);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
		/*
		 * A large receive buffer: an 8 MiB part in ~16 reads instead of ~500.  Not when
		 * throttled, where curl's small default keeps the rate smooth.
		 */
		if (o->max_recv_bytes_s <= 0)
			curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
		/*
		 * stall_ms for requests without a body: a server may take seconds to answer a
		 * completed upload (CompleteMultipartUpload) without a byte moving, so PUT and
		 * POST keep curl's averaged low-speed check.
		 */
		if (o->stall_ms > 0 && !has_body) {
			x.stall_ms = o->stall_ms;
			x.p_ms = s3_http_mono_ms();
			curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, s3_http_progress_cb);
			curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
		} else {
			curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
			curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
		}
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->request_timeout_ms);
		if (o->max_recv_bytes_s > 0)
			curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE,
					 (curl_off_t)o->max_recv_bytes_s);
		if (o->max_send_bytes_s > 0)
			curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE,
					 (curl_off_t)o->max_send_bytes_s);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_http_write_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s3_http_header_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
		if (!strcmp(req->method, "HEAD")) {
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		} else if (has_body) {
			/* UPLOAD sends Content-Length (0 too) with the custom method */
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body.len);
			curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_http_read_cb);
			curl_easy_setopt(c, CURLOPT_READDATA, &x);
			curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, s3_http_seek_cb);
			curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		} else if (strcmp(req->method, "GET")) {
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		}

		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);

		if (x.err) {
			err = x.err; /* our callback gave up: sink overflow, disk error */
		} else if (rc == CURLE_ABORTED_BY_CALLBACK && x.stalled) {
			err = -EIO; /* a stall, as CURLE_OPERATION_TIMEDOUT */
			conn_bad = 1;
			retry = 1;
			pr_debug("s3: %s %s: no byte moved for %ld ms (attempt %d)", req->method,
				 b.path, o->stall_ms, attempt + 1);
		} else if (rc == CURLE_WEIRD_SERVER_REPLY) {
			/* curl refused the headers itself (a negative Content-Length, say) */
			err = -EPROTO;
			conn_bad = 1;
		} else if (rc != CURLE_OK) {
			err = -EIO;
			conn_bad = 1;
			retry = curl_retryable(rc);
			pr_debug("s3: %s %s: %s (attempt %d)", req->method, b.path,
				 curl_easy_strerror(rc), attempt + 1);
		} else if (resp->status >= 200 && resp->status <= 299) {
			err = x.checked ? 0 : s3_http_check_answer(&x);
		} else {
			enum s3_err_class cls;

			if (x.errbody &&
			    s3_xml_parse_error(x.errbody, x.errlen, resp->err_code) < 0)
				resp->err_code[0] = '\0';
			err = s3_xml_errno(resp->err_code, resp->status, &cls);
			retry = cls == S3_ERR_RETRY;
			pr_debug("s3: %s %s: HTTP %ld %s (attempt %d)", req->method, b.path,
				 resp->status, resp->err_code, attempt + 1);
		}
		free(x.errbody);

		if (err == -EPROTO) {
			pr_debug("s3: %s %s: answer with a bad size or range refused", req->method,
				 b.path);
			s3_http_count_protocol_error(h);
		}
		pthread_mutex_lock(&h->lock);
		h->stats.attempts++;
		h->stats.bytes_in += x.bytes_in;
		h->stats.bytes_out += x.sent;
		if (retry && attempt < o->max_retries)
			h->stats.retries++;
		pthread_mutex_unlock(&h->lock);

		if (!retry || attempt >= o->max_retries)
			break;
		backoff(o, attempt + 1, &seed);
	}

	pthread_mutex_lock(&h->lock);
	h->stats.requests++;
	if (err)
		h->stats.failures++;
	pthread_mutex_unlock(&h->lock);
	/* a handle whose transfer broke may hold a half-dead connection: don't pool it */
	if (conn_bad || (err && !resp->status))
		curl_easy_cleanup(c);
	else
		pool_put(h, c);
	built_free(&b);
	return err;
}

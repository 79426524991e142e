// SPDX-License-Identifier: GPL-2.0
/*
 * s3_sign.c - AWS SigV4 signing of S3 requests.
 *
 * The algorithm (AWS General Reference, "Signature Version 4 signing process"):
 *   canonical request = method \n canonical URI \n canonical query \n canonical headers \n
 *                       signed headers \n payload hash
 *   string to sign    = "AWS4-HMAC-SHA256" \n amz date \n scope \n hex(sha256(canonical request))
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 *                            "aws4_request")
 *   signature         = hex(HMAC(signing key, string to sign))
 * Secrets only live on the stack of s3_sign() and are wiped before it returns.
 */
#include "s3_sign.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* A growing string; on ENOMEM it turns into a sticky error. */
struct sbuf {
	char *s;
	size_t len, cap;
	int err;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_addn(b, &c, 1);
}

/* Append @s URI-encoded. */
static void sb_add_encoded(struct sbuf *b, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
		    (keep_slash && *p == '/')) {
			sb_addc(b, (char)*p);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			sb_addn(b, e, 3);
		}
	}
}

static char *sb_take(struct sbuf *b)
{
	if (b->err || !b->s) {
		free(b->s);
		if (!b->err)
			return strdup("");
		return NULL;
	}
	return b->s;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void s3_sha256_hex(const void *data, size_t len, char out[S3_SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		/* only on a broken OpenSSL; an impossible hash makes the server refuse */
		memset(out, '0', S3_SHA256_HEX_LEN);
		out[S3_SHA256_HEX_LEN] = '\0';
		return;
	}
	to_hex(md, 32, out);
}

void s3_sign_amz_date(time_t t, char out[S3_AMZ_DATE_LEN + 1])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, S3_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

int s3_uri_encode(const char *in, int keep_slash, char *out, size_t size)
{
	struct sbuf b = { 0 };
	int n;

	sb_add_encoded(&b, in, keep_slash);
	if (b.err)
		return b.err;
	n = (int)b.len;
	if (size)
		snprintf(out, size, "%s", b.s ? b.s : "");
	free(b.s);
	return (size_t)n < size ? n : -ENAMETOOLONG;
}

struct enc_kv {
	char *name;
	char *value;
};

static int enc_kv_cmp(const void *a, const void *b)
{
	const struct enc_kv *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->value, y->value);
}

static char *encode_dup(const char *s, int keep_slash)
{
	struct sbuf b = { 0 };

	sb_add_encoded(&b, s, keep_slash);
	return sb_take(&b);
}

char *s3_sign_canonical_query(const struct s3_kv *query, size_t nquery)
{
	struct enc_kv *kv;
	struct sbuf b = { 0 };
	size_t i, done = 0;
	char *ret = NULL;

	if (!nquery)
		return strdup("");
	kv = calloc(nquery, sizeof(*kv));
	if (!kv)
		return NULL;
	for (done = 0; done < nquery; done++) {
		kv[done].name = encode_dup(query[done].name, 0);
		kv[done].value = encode_dup(query[done].value ? query[done].value : "", 0);
		if (!kv[done].name || !kv[done].value) {
			done++;
			goto out_free;
		}
	}
	qsort(kv, nquery, sizeof(*kv), enc_kv_cmp);
	for (i = 0; i < nquery; i++) {
		if (i)
			sb_addc(&b, '&');
		sb_add(&b, kv[i].name);
		sb_addc(&b, '=');
		sb_add(&b, kv[i].value);
	}
	ret = sb_take(&b);
out_free:
	for (i = 0; i < done; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
	return ret;
}

/* A header for the canonical list: lower-case name, value trimmed with inner runs of spaces
 * folded to one (SigV4's "Trimall"). */
static int make_header(struct enc_kv *h, const char *name, const char *value)
{
	const char *p;
	char *q;
	size_t i;

	h->name = strdup(name);
	h->value = malloc(strlen(value) + 1);
	if (!h->name || !h->value)
		return -ENOMEM;
	for (i = 0; h->name[i]; i++)
		h->name[i] = (char)tolower((unsigned char)h->name[i]);
	p = value;
	while (*p == ' ' || *p == '\t')
		p++;
	q = h->value;
	while (*p) {
		if (*p == ' ' || *p == '\t') {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p)
				*q++ = ' ';
			continue;
		}
		*q++ = *p++;
	}
	*q = '\0';
	return 0;
}

static int header_cmp(const void *a, const void *b)
{
	const struct enc_kv *x = a, *y = b;

	return strcmp(x->name, y->name);
}

char *s3_sign_canonical_request(const struct s3_sign_req *req, const char *session_token,
				char **signed_headers)
{
	size_t nh = req->nheaders + 4, n = 0, i;
	struct sbuf b = { 0 }, sh = { 0 };
	struct enc_kv *h;
	char *query = NULL, *ret = NULL;
	int err = 0;

	h = calloc(nh, sizeof(*h));
	if (!h)
		return NULL;
	err |= make_header(&h[n++], "host", req->host);
	err |= make_header(&h[n++], "x-amz-content-sha256", req->payload_hash);
	err |= make_header(&h[n++], "x-amz-date", req->amz_date);
	if (session_token && *session_token)
		err |= make_header(&h[n++], "x-amz-security-token", session_token);
	for (i = 0; i < req->nheaders; i++)
		err |= make_header(&h[n++], req->headers[i].name, req->headers[i].value);
	if (err)
		goto out_free;
	qsort(h, n, sizeof(*h), header_cmp);

	query = s3_sign_canonical_query(req->query, req->nquery);
	if (!query)
		goto out_free;

	sb_add(&b, req->method);
	sb_addc(&b, '\n');
	sb_add_encoded(&b, req->path && *req->path ? req->path : "/", 1);
	sb_addc(&b, '\n');
	sb_add(&b, query);
	sb_addc(&b, '\n');
	for (i = 0; i < n; i++) {
		sb_add(&b, h[i].name);
		sb_addc(&b, ':');
		sb_add(&b, h[i].value);
		sb_addc(&b, '\n');
		if (i)
			sb_addc(&sh, ';');
		sb_add(&sh, h[i].name);
	}
	sb_addc(&b, '\n');
	sb_add(&b, sh.s ? sh.s : "");
	sb_addc(&b, '\n');
	sb_add(&b, req->payload_hash);
	ret = sb_take(&b);
	b.s = NULL;
	if (ret && signed_headers) {
		*signed_headers = sb_take(&sh);
		sh.s = NULL;
		if (!*signed_headers) {
			free(ret);
			ret = NULL;
		}
	}
out_free:
	free(b.s);
	free(sh.s);
	free(query);
	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return ret;
}

char *s3_sign_string_to_sign(const struct s3_sign_req *req, const char *canonical_request)
{
	char hash[S3_SHA256_HEX_LEN + 1];
	struct sbuf b = { 0 };

	s3_sha256_hex(canonical_request, strlen(canonical_request), hash);
	sb_add(&b, "AWS4-HMAC-SHA256\n");
	sb_add(&b, req->amz_date);
	sb_addc(&b, '\n');
	sb_addn(&b, req->amz_date, 8);
	sb_addc(&b, '/');
	sb_add(&b, req->region);
	sb_addc(&b, '/');
	sb_add(&b, req->service);
	sb_add(&b, "/aws4_request\n");
	sb_add(&b, hash);
	return sb_take(&b);
}

static int hmac(const void *key, size_t keylen, const void *msg, size_t msglen,
		unsigned char out[32])
{
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &len) || len != 32)
		return -EIO;
	return 0;
}

int s3_sign(const struct s3_sign_req *req, const struct s3_sign_cred *cred, char *auth,
	    size_t auth_size, char signature[S3_SHA256_HEX_LEN + 1])
{
	unsigned char k[32], sig[32];
	char *creq = NULL, *sts = NULL, *signed_headers = NULL;
	char ksecret[256], hexsig[S3_SHA256_HEX_LEN + 1];
	int err, n;

	if (!req->method || !req->host || !req->payload_hash || !req->region || !req->service ||
	    !req->amz_date || strlen(req->amz_date) != S3_AMZ_DATE_LEN || !cred ||
	    !cred->access_key || !*cred->access_key || !cred->secret_key)
		return -EINVAL;
	if (strlen(cred->secret_key) + 5 > sizeof(ksecret))
		return -EINVAL;

	err = -ENOMEM;
	creq = s3_sign_canonical_request(req, cred->session_token, &signed_headers);
	if (!creq)
		goto out;
	sts = s3_sign_string_to_sign(req, creq);
	if (!sts)
		goto out;

	n = snprintf(ksecret, sizeof(ksecret), "AWS4%s", cred->secret_key);
	err = hmac(ksecret, (size_t)n, req->amz_date, 8, k);
	if (!err)
		err = hmac(k, 32, req->region, strlen(req->region), k);
	if (!err)
		err = hmac(k, 32, req->service, strlen(req->service), k);
	if (!err)
		err = hmac(k, 32, "aws4_request", 12, k);
	if (!err)
		err = hmac(k, 32, sts, strlen(sts), sig);
	if (err)
		goto out;
	to_hex(sig, 32, hexsig);

	n = snprintf(auth, auth_size,
		     "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
		     "SignedHeaders=%s, Signature=%s",
		     cred->access_key, req->amz_date, req->region, req->service, signed_headers,
		     hexsig);
	err = n < 0 || (size_t)n >= auth_size ? -ENAMETOOLONG : 0;
	if (!err && signature)
		memcpy(signature, hexsig, sizeof(hexsig));
out:
	OPENSSL_cleanse(ksecret, sizeof(ksecret));
	OPENSSL_cleanse(k, sizeof(k));
	free(creq);
	free(sts);
	free(signed_headers);
	return err;
}

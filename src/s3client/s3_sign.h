/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_sign.h - AWS Signature Version 4 for S3 requests (header-based signing).
 *
 * Pure functions over strings: no I/O, no global state, no logging (a credential must never
 * reach a log, so nothing in here prints).  Hashes and HMACs come from OpenSSL's EVP/HMAC.
 * Conventions of S3's SigV4 dialect, which differ from the other AWS services:
 *  - the canonical URI is the path URI-encoded once ('/' kept), never normalised;
 *  - the payload hash is sent as x-amz-content-sha256 and signed; it is either the hex
 *    SHA-256 of the body or the literal S3_UNSIGNED_PAYLOAD.
 */
#ifndef BPFUSE_S3_SIGN_H
#define BPFUSE_S3_SIGN_H

#include <stddef.h>
#include <time.h>

#define S3_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string, the payload hash of every bodiless request */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_SHA256_HEX_LEN 64
#define S3_AMZ_DATE_LEN 16 /* "20130524T000000Z" */

/* A name/value pair: a query parameter or a header.  Values may be "" (never NULL). */
struct s3_kv {
	const char *name;
	const char *value;
};

/* Credentials; session_token is NULL or "" without a session. */
struct s3_sign_cred {
	const char *access_key;
	const char *secret_key;
	const char *session_token;
};

struct s3_sign_req {
	const char *method;        /* "GET", "PUT", ... */
	const char *host;          /* the Host header exactly as sent: "host" or "host:port" */
	const char *path;          /* absolute path, NOT encoded: "/bucket/my key" */
	const struct s3_kv *query; /* NOT encoded, any order; a value "" for "?uploads" */
	size_t nquery;
	/*
	 * Further headers to sign and send (range, content-type, x-amz-copy-source, ...),
	 * names in any case.  host, x-amz-date, x-amz-content-sha256 and (with a session)
	 * x-amz-security-token are added by the signer: don't list them.
	 */
	const struct s3_kv *headers;
	size_t nheaders;
	const char *payload_hash;  /* hex SHA-256 of the body, or S3_UNSIGNED_PAYLOAD */
	const char *amz_date;      /* ISO 8601 basic UTC, see s3_sign_amz_date() */
	const char *region;        /* "us-east-1" */
	const char *service;       /* "s3" */
};

/* Hex SHA-256 of @len bytes; @out gets 64 hex digits and a NUL. */
void s3_sha256_hex(const void *data, size_t len, char out[S3_SHA256_HEX_LEN + 1]);

/* Format @t as SigV4's x-amz-date ("YYYYMMDDTHHMMSSZ"). */
void s3_sign_amz_date(time_t t, char out[S3_AMZ_DATE_LEN + 1]);

/*
 * URI-encode @in per AWS rules: every byte except A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case
 * hex); '/' is kept as it is when @keep_slash (paths) and encoded otherwise (query names and
 * values).  Returns the encoded length (excluding the NUL), or -ENAMETOOLONG when it does not
 * fit @size; @out is always terminated when @size > 0.
 */
int s3_uri_encode(const char *in, int keep_slash, char *out, size_t size);

/*
 * The canonical query string: names and values encoded, sorted by encoded name then value,
 * "name=value" joined with '&' (with '=' even when the value is empty).  Returns a malloc'd
 * string (the caller frees) or NULL on ENOMEM.  The HTTP layer sends exactly this string, so
 * the signature matches by construction.
 */
char *s3_sign_canonical_query(const struct s3_kv *query, size_t nquery);

/*
 * The canonical request and string to sign of @req (exposed for tests and debugging; neither
 * contains a secret).  malloc'd, NULL on ENOMEM.  With @signed_headers non-NULL it also gets
 * the malloc'd ";"-joined signed header names.
 */
char *s3_sign_canonical_request(const struct s3_sign_req *req, const char *session_token,
				char **signed_headers);
char *s3_sign_string_to_sign(const struct s3_sign_req *req, const char *canonical_request);

/*
 * Sign @req with @cred and write the value of the Authorization header into @auth
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...").  With
 * @signature non-NULL it also gets the 64 hex digits alone.  Returns 0, -EINVAL on a
 * missing field, -ENOMEM, -ENAMETOOLONG when @auth is too small, or -EIO when OpenSSL fails.
 */
int s3_sign(const struct s3_sign_req *req, const struct s3_sign_cred *cred, char *auth,
	    size_t auth_size, char signature[S3_SHA256_HEX_LEN + 1]);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_http.h - signed S3 requests over libcurl: addressing, timeouts, retries, a handle pool.
 *
 * One struct s3_http per endpoint and identity, shared by any number of threads.  Each
 * request borrows a curl easy handle from a pool (so TCP connections are kept alive and
 * reused across requests) and returns it afterwards.  A request is retried, with
 * exponential backoff and jitter, when the connection fails or drops, when it stalls
 * (no byte for low_speed_time_s) or when the server answers 500/502/503/504 or a SlowDown,
 * InternalError, RequestTimeout or ServiceUnavailable error; once max_retries are spent it
 * fails with -EIO.  Nothing waits forever: an attempt ends after connect_timeout_ms without
 * a connection, after low_speed_time_s without progress (curl's average speed, which can
 * take twice that after a stop; stall_ms is exact to a second), and after
 * request_timeout_ms in all (when set), so the worst case of one call is about
 *   (max_retries + 1) * (connect_timeout_ms or low_speed_time_s or request_timeout_ms)
 *   + the sum of the backoffs (at most max_retries * backoff_max_ms).
 * Requests are signed with SigV4 (s3_sign.h); the Authorization header and the secrets
 * are never logged.  The process must ignore SIGPIPE (libfuse's signal handlers do):
 * CURLOPT_NOSIGNAL is set, so a TLS write to a dropped connection could raise it.
 */
#ifndef BPFUSE_S3_HTTP_H
#define BPFUSE_S3_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "s3_sign.h"
#include "s3_xml.h"

#define S3_CTYPE_MAX 128
#define S3_META_MAX 4096

struct s3_http_opts {
	long connect_timeout_ms;   /* TCP (+TLS) connect, per attempt [3000] */
	long low_speed_time_s;     /* abort an attempt that moves no byte for this long [10] */
	long stall_ms;             /* when > 0, for requests without a body instead: no byte in
				      or out for this long, checked at least once a second (so
				      at most stall_ms + 1 s) [0] */
	long request_timeout_ms;   /* cap of one attempt, 0 = none (large GETs) [0] */
	int max_retries;           /* attempts after the first [4] */
	long backoff_base_ms;      /* first backoff; doubles per retry, jittered [100] */
	long backoff_max_ms;       /* backoff cap [2000] */
	int path_style;            /* 1: http://host/bucket/key, 0: http://bucket.host/key [1] */
	int sign_payload;          /* hash fd bodies too (else UNSIGNED-PAYLOAD) [0] */
	unsigned int pool_size;    /* idle easy handles kept for reuse [16] */
	long max_recv_bytes_s;     /* per-transfer download cap, 0 = none [0] */
	long max_send_bytes_s;     /* per-transfer upload cap, 0 = none [0] */
	uint64_t *protocol_errors; /* also counted here (atomically) when non-NULL [NULL] */
};

void s3_http_opts_init(struct s3_http_opts *opts);

/* Counters, read with s3_http_stats(); monotonic. */
struct s3_http_stats {
	uint64_t requests;         /* s3_http_do() calls */
	uint64_t attempts;         /* HTTP exchanges, retries included */
	uint64_t retries;
	uint64_t failures;         /* calls that returned an error */
	uint64_t bytes_in;         /* response bodies */
	uint64_t bytes_out;        /* request bodies */
	uint64_t protocol_errors;  /* answers refused: bad sizes or ranges (-EPROTO) */
};

struct s3_http;

/*
 * @endpoint: "http://127.0.0.1:7480" or "https://s3.eu-west-3.amazonaws.com" (scheme
 * required, no path).  @cred is copied.  Returns 0 or -EINVAL (bad endpoint, after one
 * message) or -ENOMEM.
 */
int s3_http_new(struct s3_http **out, const char *endpoint, const char *region,
		const struct s3_sign_cred *cred, const struct s3_http_opts *opts);
/* Frees the pool; no request may be running. NULL is fine. */
void s3_http_free(struct s3_http *h);
void s3_http_stats(struct s3_http *h, struct s3_http_stats *st);
/* Count an answer refused one layer up (a listing's bad <Size>). */
void s3_http_count_protocol_error(struct s3_http *h);

/* Where a request body comes from: @buf when non-NULL, else @len bytes of @fd at @off. */
struct s3_body {
	const void *buf;
	int fd;
	off_t off;
	size_t len;
};

/* Where a 2xx response body goes.  On a retry the sink is rewound, so it ends up holding
 * the body of the last attempt only. */
enum s3_sink_kind {
	S3_SINK_DISCARD,
	S3_SINK_MEM,     /* malloc'd, grown as needed up to 64 MiB: mem/len (caller frees mem) */
	S3_SINK_BUF,     /* caller's buffer buf/cap; a longer body fails with -EOVERFLOW */
	S3_SINK_FD,      /* pwrite to fd at off, off + 1, ... */
};

struct s3_sink {
	enum s3_sink_kind kind;
	void *buf;
	size_t cap;      /* S3_SINK_BUF: size of buf; S3_SINK_MEM: allocated size of mem */
	int fd;
	off_t off;
	char *mem;       /* S3_SINK_MEM result, NUL-terminated */
	size_t len;      /* bytes of the body received */
};

struct s3_request {
	const char *method;           /* GET HEAD PUT POST DELETE */
	const char *bucket;           /* NULL or "" for the service ("list buckets", probes) */
	const char *key;              /* NULL or "" for the bucket itself; not encoded */
	const struct s3_kv *query;    /* not encoded */
	size_t nquery;
	const struct s3_kv *headers;  /* signed and sent (range, x-amz-copy-source, ...) */
	size_t nheaders;
	struct s3_body body;          /* PUT/POST only; len 0 = empty body */
	struct s3_sink *sink;         /* NULL = discard */
};

struct s3_response {
	long status;                  /* HTTP status of the last attempt, 0 without one */
	off_t content_length;         /* -1 when not sent */
	off_t total_size;             /* object size: Content-Range's "/N", else Content-Length */
	off_t range_first, range_last; /* Content-Range's "FIRST-LAST", -1 when not sent */
	time_t last_modified;         /* 0 when not sent */
	char etag[S3_ETAG_MAX];       /* with quotes; "" when not sent */
	char err_code[S3_ERR_CODE_MAX]; /* S3 error Code of a failed call, "" otherwise */
	char content_type[S3_CTYPE_MAX]; /* "" when not sent */
	/*
	 * The user metadata of the answer (x-amz-meta-* headers), one "name:value\n" per
	 * header, the name lowercased and without "x-amz-meta-", the value trimmed.  S3 caps
	 * user metadata at 2 KiB; headers that do not fit whole are left out.
	 */
	char meta[S3_META_MAX];
	size_t meta_len;
	int attempts;
};

/*
 * Send @req, retrying as described above.  Returns 0 when the server answered 2xx, else a
 * negative errno mapped by s3_xml_errno() (-ENOENT, -EACCES, ...), -EIO when retries ran
 * out, -EOVERFLOW when the body overflows an S3_SINK_BUF sink, -ENOMEM.  @resp is filled
 * in either case (may be NULL).
 *
 * -EPROTO (counted in protocol_errors, not retried) when the answer cannot be trusted,
 * checked before a body byte reaches the sink: a Content-Length or Content-Range that is
 * not a size (s3_parse_size()), a Content-Range whose length is not the Content-Length,
 * or, for a request with a "Range: bytes=A-[B]" header, a 2xx that is not those bytes (a
 * 206 starting elsewhere or ending past B, a 200 when A > 0 or longer than B + 1 bytes).
 */
int s3_http_do(struct s3_http *h, const struct s3_request *req, struct s3_response *resp);

#endif

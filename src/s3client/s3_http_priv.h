/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_http_priv.h - what s3_http.c and s3_http_xfer.c share: the client, one
 * attempt's state (struct xfer) and the curl callbacks, prefixed s3_http_.
 * Other modules use s3_http.h.
 */
#ifndef BPFUSE_S3_HTTP_PRIV_H
#define BPFUSE_S3_HTTP_PRIV_H

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

#define S3_HTTP_MEM_MAX (64u << 20)
#define S3_HTTP_ERRBODY_MAX (64u << 10)
#define S3_HTTP_KEY_MAX 256

struct s3_http {
	char scheme[8];              /* "http" or "https" */
	char authority[256];         /* host[:port] of the endpoint */
	char region[64];
	char access_key[S3_HTTP_KEY_MAX];
	char secret_key[S3_HTTP_KEY_MAX];
	char *session_token;         /* NULL without a session */
	struct s3_http_opts opts;

	pthread_mutex_t lock;        /* protects idle/nidle and the counters */
	CURL **idle;
	unsigned int nidle;
	struct s3_http_stats stats;
};

/* State of one attempt, seen by the curl callbacks. */
struct xfer {
	CURL *curl;
	const struct s3_request *req;
	struct s3_sink *sink;
	struct s3_response *resp;
	size_t sent;            /* request body bytes handed to curl */
	long status;            /* known once the first body byte arrives */
	char *errbody;          /* body of a non-2xx answer */
	size_t errlen;
	int err;                /* a callback's reason to abort */
	uint64_t bytes_in;
	int checked;            /* s3_http_check_answer() ran on this response's headers */
	int stalled;            /* s3_http_progress_cb() ended the attempt: opts.stall_ms passed */
	curl_off_t p_dl, p_ul;  /* bytes moved at the last progress call... */
	long long p_ms;         /* ...and when they last changed (CLOCK_MONOTONIC ms) */
	long stall_ms;
	uint64_t body_len;      /* 2xx body bytes taken */
	off_t want_first, want_last; /* the Range asked for: -1 none, last -1 = to the end */
};

void meta_add(struct s3_response *r, const char *line, size_t len);

size_t s3_http_read_cb(char *dst, size_t size, size_t nmemb, void *arg);

int s3_http_seek_cb(void *arg, curl_off_t off, int origin);

int s3_http_check_answer(struct xfer *x);

void s3_http_wanted_range(const struct s3_request *req, off_t *first, off_t *last);

size_t s3_http_write_cb(char *src, size_t size, size_t nmemb, void *arg);

long long s3_http_mono_ms(void);

int s3_http_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow);

size_t s3_http_header_cb(char *line, size_t size, size_t nmemb, void *arg);

#endif

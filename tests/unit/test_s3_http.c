// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for s3_http.c against a scripted HTTP server on 127.0.0.1 in a thread: the
 * retry policy (503 SlowDown, 500, dropped connections, stalls), error mapping, the
 * signed headers and the URL that goes on the wire.  No real S3 server needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "s3_http.h"

/* What the server does with one request. */
enum act { ANSWER, DROP, STALL };

struct step {
	enum act act;
	const char *response;   /* full HTTP response for ANSWER */
};

struct fake {
	int lfd;
	int port;
	const struct step *steps;
	int nsteps, served;
	char last_req[8192];    /* head of the last request */
	pthread_t tid;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int i;

	for (i = 0; i < f->nsteps; i++) {
		int fd = accept(f->lfd, NULL, NULL);
		size_t len = 0;
		ssize_t n;

		if (fd < 0)
			break;
		/* read the head (and ignore any body: our tests send none that matters) */
		while (len < sizeof(f->last_req) - 1) {
			n = read(fd, f->last_req + len, sizeof(f->last_req) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			f->last_req[len] = '\0';
			if (strstr(f->last_req, "\r\n\r\n"))
				break;
		}
		f->served++;
		if (f->steps[i].act == ANSWER) {
			n = write(fd, f->steps[i].response, strlen(f->steps[i].response));
			(void)n;
		} else if (f->steps[i].act == STALL) {
			sleep(3);
		}
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, const struct step *steps, int nsteps)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int one = 1;

	memset(f, 0, sizeof(*f));
	f->steps = steps;
	f->nsteps = nsteps;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &alen), 0);
	f->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&f->tid, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->tid, NULL);
}

static const struct s3_sign_cred cred = { "AKIDTEST", "secret/for+tests", NULL };

static struct s3_http *client(const struct fake *f, int retries)
{
	struct s3_http_opts o;
	struct s3_http *h;
	char ep[64];

	s3_http_opts_init(&o);
	o.max_retries = retries;
	o.backoff_base_ms = 10;
	o.backoff_max_ms = 40;
	o.connect_timeout_ms = 1000;
	o.low_speed_time_s = 1;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f->port);
	assert_int_equal(s3_http_new(&h, ep, "us-east-1", &cred, &o), 0);
	return h;
}

/* an error response with an S3 <Error> body */
static char *err_resp(const char *status, const char *code)
{
	static char bufs[8][512];
	static int next;
	char body[200], *out = bufs[next++ % 8];

	snprintf(body, sizeof(body), "<?xml version=\"1.0\"?><Error><Code>%s</Code>"
		 "<Message>m</Message></Error>", code);
	snprintf(out, 512, "HTTP/1.1 %s\r\nContent-Type: application/xml\r\n"
		 "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", status, strlen(body),
		 body);
	return out;
}

static void test_retry_then_ok(void **state)
{
	struct step steps[] = {
		{ ANSWER, NULL }, { ANSWER, NULL }, { DROP, NULL },
		{ ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"abc\"\r\n"
			  "Last-Modified: Mon, 12 Oct 2009 17:50:30 GMT\r\n"
			  "Connection: close\r\n\r\nhello" },
	};
	struct s3_sink sink = { .kind = S3_SINK_MEM };
	const struct s3_kv q[] = { { "versionId", "a/b c" } };
	struct s3_request req = { .method = "GET", .bucket = "bkt", .key = "dir/a b+c.txt",
				  .query = q, .nquery = 1, .sink = &sink };
	struct s3_http_stats st;
	struct s3_response r;
	struct s3_http *h;
	struct fake f;

	steps[0].response = err_resp("503 Slow Down", "SlowDown");
	steps[1].response = err_resp("500 Internal Server Error", "InternalError");
	fake_start(&f, steps, 4);
	h = client(&f, 4);
	assert_int_equal(s3_http_do(h, &req, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.attempts, 4);
	assert_int_equal(sink.len, 5);
	assert_string_equal(sink.mem, "hello");
	assert_string_equal(r.etag, "\"abc\"");
	assert_int_equal(r.last_modified, 1255369830);
	/* what went on the wire: encoded path and query, signed headers, no Expect */
	assert_non_null(strstr(f.last_req, "GET /bkt/dir/a%20b%2Bc.txt?versionId=a%2Fb%20c "));
	assert_non_null(strcasestr(f.last_req, "\r\nHost: 127.0.0.1:"));
	assert_non_null(strcasestr(f.last_req, "\r\nx-amz-content-sha256: " S3_EMPTY_SHA256));
	assert_non_null(strcasestr(f.last_req, "\r\nx-amz-date: "));
	assert_non_null(strstr(f.last_req, "\r\nAuthorization: AWS4-HMAC-SHA256 Credential="
					   "AKIDTEST/"));
	assert_non_null(strstr(f.last_req, "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"));
	assert_null(strstr(f.last_req, "secret/for+tests"));
	assert_null(strcasestr(f.last_req, "Expect:"));
	s3_http_stats(h, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.attempts, 4);
	assert_int_equal(st.retries, 3);
	assert_int_equal(st.failures, 0);
	free(sink.mem);
	s3_http_free(h);
	fake_stop(&f);
}

static void test_retries_run_out(void **state)
{
	struct step steps[3];
	struct s3_request req = { .method = "HEAD", .bucket = "bkt", .key = "k" };
	struct s3_http_stats st;
	struct s3_response r;
	struct s3_http *h;
	struct fake f;
	int i;

	for (i = 0; i < 3; i++)
		steps[i] = (struct step){ ANSWER, "HTTP/1.1 503 Service Unavailable\r\n"
						  "Content-Length: 0\r\nConnection: close\r\n\r\n" };
	fake_start(&f, steps, 3);
	h = client(&f, 2);
	assert_int_equal(s3_http_do(h, &req, &r), -EIO);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(f.served, 3);
	s3_http_stats(h, &st);
	assert_int_equal(st.failures, 1);
	s3_http_free(h);
	fake_stop(&f);
}

static void test_errors_not_retried(void **state)
{
	struct step steps[] = {
		{ ANSWER, NULL }, { ANSWER, NULL }, { ANSWER, NULL },
		{ ANSWER, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
			  "Connection: close\r\n\r\n" },
	};
	struct s3_request req = { .method = "GET", .bucket = "bkt", .key = "k" };
	struct s3_response r;
	struct s3_http *h;
	struct fake f;

	steps[0].response = err_resp("404 Not Found", "NoSuchKey");
	steps[1].response = err_resp("403 Forbidden", "SignatureDoesNotMatch");
	steps[2].response = err_resp("416 Requested Range Not Satisfiable", "InvalidRange");
	fake_start(&f, steps, 4);
	h = client(&f, 4);
	assert_int_equal(s3_http_do(h, &req, &r), -ENOENT);
	assert_string_equal(r.err_code, "NoSuchKey");
	assert_int_equal(r.attempts, 1);
	assert_int_equal(s3_http_do(h, &req, &r), -EACCES);
	assert_string_equal(r.err_code, "SignatureDoesNotMatch");
	assert_int_equal(s3_http_do(h, &req, &r), -EINVAL);
	assert_int_equal(r.status, 416);
	/* HEAD-like: no body, the status decides */
	assert_int_equal(s3_http_do(h, &req, &r), -ENOENT);
	assert_string_equal(r.err_code, "");
	s3_http_free(h);
	fake_stop(&f);
}

static void test_stall_times_out(void **state)
{
	struct step steps[] = { { STALL, NULL }, { STALL, NULL } };
	struct s3_request req = { .method = "GET", .bucket = "bkt", .key = "k" };
	struct timespec t0, t1;
	struct s3_response r;
	struct s3_http *h;
	struct fake f;
	double el;

	fake_start(&f, steps, 2);
	h = client(&f, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(s3_http_do(h, &req, &r), -EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* two attempts of ~1 s (low_speed_time_s) plus a backoff of at most 40 ms */
	assert_true(el > 1.5 && el < 3.5);
	assert_int_equal(r.attempts, 2);
	s3_http_free(h);
	fake_stop(&f);
}

/* stall_ms: an attempt that moves no byte ends after stall_ms (to a second), not later */
static void test_stall_ms(void **state)
{
	struct step steps[] = { { STALL, NULL }, { STALL, NULL } };
	struct s3_request req = { .method = "GET", .bucket = "bkt", .key = "k" };
	struct s3_http_opts o;
	struct timespec t0, t1;
	struct s3_response r;
	struct s3_http *h;
	struct fake f;
	char ep[64];
	double el;

	fake_start(&f, steps, 2);
	s3_http_opts_init(&o);
	o.max_retries = 1;
	o.backoff_base_ms = 10;
	o.backoff_max_ms = 40;
	o.low_speed_time_s = 30; /* not used with stall_ms */
	o.stall_ms = 600;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", f.port);
	assert_int_equal(s3_http_new(&h, ep, "us-east-1", &cred, &o), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(s3_http_do(h, &req, &r), -EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	el = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("two stalled attempts: %.2f s\n", el);
	/* two attempts of 0.6 s to 1.6 s each plus a backoff of at most 40 ms */
	assert_true(el > 1.1 && el < 3.3);
	assert_int_equal(r.attempts, 2);
	s3_http_free(h);
	fake_stop(&f);
}

static void test_sink_overflow_and_body(void **state)
{
	struct step steps[] = {
		{ ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
			  "0123456789" },
		{ ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nETag: \"e\"\r\n"
			  "Connection: close\r\n\r\n" },
	};
	char small[4], hash[S3_SHA256_HEX_LEN + 1], want[128];
	struct s3_sink sink = { .kind = S3_SINK_BUF, .buf = small, .cap = sizeof(small) };
	struct s3_request req = { .method = "GET", .bucket = "bkt", .key = "k", .sink = &sink };
	struct s3_response r;
	struct s3_http *h;
	struct fake f;

	fake_start(&f, steps, 2);
	h = client(&f, 3);
	assert_int_equal(s3_http_do(h, &req, &r), -EOVERFLOW);
	assert_int_equal(r.attempts, 1);
	/* a PUT from memory is signed with the body's SHA-256 */
	req = (struct s3_request){ .method = "PUT", .bucket = "bkt", .key = "k" };
	req.body.buf = "payload";
	req.body.len = 7;
	assert_int_equal(s3_http_do(h, &req, &r), 0);
	s3_sha256_hex("payload", 7, hash);
	snprintf(want, sizeof(want), "\r\nx-amz-content-sha256: %s", hash);
	assert_non_null(strcasestr(f.last_req, want));
	assert_non_null(strcasestr(f.last_req, "\r\nContent-Length: 7"));
	s3_http_free(h);
	fake_stop(&f);
}

/*
 * Sizes and ranges in the headers are checked before a byte reaches the sink: each answer
 * below is refused with -EPROTO, not retried, counted, and leaves the buffer untouched.
 */
static void test_bad_sizes_and_ranges(void **state)
{
	static const char *const bad[] = {
		/* Content-Length that is no size */
		"HTTP/1.1 200 OK\r\nContent-Length: -5\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\nConnection: close\r\n\r\n",
		/* Content-Range that is no range */
		"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes -4-3/10\r\n"
		"Content-Length: 4\r\nConnection: close\r\n\r\nabcd",
		"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-7/-10\r\n"
		"Content-Length: 4\r\nConnection: close\r\n\r\nabcd",
		"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-7/5\r\n"
		"Content-Length: 4\r\nConnection: close\r\n\r\nabcd",
		/* a range and a length that disagree */
		"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-7/10\r\n"
		"Content-Length: 3\r\nConnection: close\r\n\r\nabc",
		/* other bytes than those asked for (bytes=4-7) */
		"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/10\r\n"
		"Content-Length: 4\r\nConnection: close\r\n\r\nabcd",
		"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-9/10\r\n"
		"Content-Length: 6\r\nConnection: close\r\n\r\nabcdef",
		/* the Range ignored: the whole object from byte 0 */
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
		/* a 206 without Content-Range or length, longer than asked */
		"HTTP/1.1 206 Partial Content\r\nConnection: close\r\n\r\nabcdefgh",
	};
	enum { N = sizeof(bad) / sizeof(bad[0]) };
	struct step steps[N + 1];
	struct s3_kv range = { "Range", "bytes=4-7" };
	char buf[16];
	struct s3_sink sink = { .kind = S3_SINK_BUF, .buf = buf, .cap = sizeof(buf) };
	struct s3_request req = { .method = "GET", .bucket = "bkt", .key = "k", .sink = &sink,
				  .headers = &range, .nheaders = 1 };
	struct s3_http_stats st;
	struct s3_response r;
	struct s3_http *h;
	struct fake f;
	size_t i;

	for (i = 0; i < N; i++)
		steps[i] = (struct step){ ANSWER, bad[i] };
	steps[N] = (struct step){ ANSWER, "HTTP/1.1 206 Partial Content\r\n"
				  "Content-Range: bytes 4-7/10\r\nContent-Length: 4\r\n"
				  "Connection: close\r\n\r\n4567" };
	fake_start(&f, steps, N + 1);
	h = client(&f, 3);
	s3_http_stats(h, &st);
	for (i = 0; i < N; i++) {
		memset(buf, 'x', sizeof(buf));
		sink.len = 0;
		print_message("answer %zu\n", i);
		assert_int_equal(s3_http_do(h, &req, &r), -EPROTO);
		assert_int_equal(r.attempts, 1);
		assert_int_equal(sink.len, 0);
		assert_memory_equal(buf, "xxxxxxxxxxxxxxxx", sizeof(buf));
	}
	s3_http_stats(h, &st);
	assert_int_equal(st.protocol_errors, N);
	/* the right answer still works */
	assert_int_equal(s3_http_do(h, &req, &r), 0);
	assert_int_equal(sink.len, 4);
	assert_memory_equal(buf, "4567", 4);
	assert_true(r.range_first == 4 && r.range_last == 7 && r.total_size == 10);
	s3_http_free(h);
	fake_stop(&f);
}

static void test_bad_endpoint(void **state)
{
	struct s3_http *h;

	assert_int_equal(s3_http_new(&h, "127.0.0.1:7480", "us-east-1", &cred, NULL), -EINVAL);
	assert_int_equal(s3_http_new(&h, "http://host/path", "us-east-1", &cred, NULL), -EINVAL);
	assert_int_equal(s3_http_new(&h, "http://host:1/", "", &cred, NULL), -EINVAL);
	assert_int_equal(s3_http_new(&h, "https://s3.amazonaws.com", "us-east-1", &cred, NULL),
			 0);
	s3_http_free(h);
}

/* nothing listens: connection refused is retried, then -EIO, quickly */
static void test_refused(void **state)
{
	struct s3_request req = { .method = "HEAD", .bucket = "bkt", .key = "k" };
	struct s3_response r;
	struct s3_http *h;
	struct fake f;

	f.port = 1; /* privileged and unused */
	h = client(&f, 2);
	assert_int_equal(s3_http_do(h, &req, &r), -EIO);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.status, 0);
	s3_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_then_ok),
		cmocka_unit_test(test_retries_run_out),
		cmocka_unit_test(test_errors_not_retried),
		cmocka_unit_test(test_stall_times_out),
		cmocka_unit_test(test_stall_ms),
		cmocka_unit_test(test_sink_overflow_and_body),
		cmocka_unit_test(test_bad_sizes_and_ranges),
		cmocka_unit_test(test_bad_endpoint),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * s3tool - a small CLI over the bpfuse S3 client, for tests/s3/run.sh and for poking at a
 * store by hand.  Credentials, region and endpoint come from the AWS environment and files
 * (s3_cred.h); S3_ENDPOINT is accepted too, and -e overrides all.
 *
 * The exit status of a failed call is its errno (2 = ENOENT, 13 = EACCES, 5 = EIO, ...),
 * and the message names it, so shell tests can check which error they got.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "s3_client.h"
#include "s3_cred.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: s3tool [options] COMMAND ARGS...\n"
		"commands:\n"
		"  mb BUCKET                      create a bucket\n"
		"  rb BUCKET                      delete an empty bucket\n"
		"  put BUCKET KEY FILE            upload FILE (multipart above --threshold)\n"
		"  putbuf BUCKET KEY FILE         upload FILE from memory with one PUT\n"
		"  get BUCKET KEY FILE [OFF LEN]  download (a range) into FILE, streaming\n"
		"  getrange BUCKET KEY OFF LEN FILE  one ranged GET into a buffer, then FILE\n"
		"  pget BUCKET KEY FILE           parallel ranged GETs of the whole object\n"
		"  head BUCKET KEY                print size, mtime and ETag\n"
		"  ls BUCKET [PREFIX [DELIMITER]] list (all pages; --max-keys sets the page size)\n"
		"  rm BUCKET KEY                  delete\n"
		"  cp SRCBUCKET SRCKEY DSTBUCKET DSTKEY  server-side copy\n"
		"  uploads BUCKET [PREFIX]        the raw ListMultipartUploads answer\n"
		"options:\n"
		"  -e, --endpoint URL       [$AWS_ENDPOINT_URL, $S3_ENDPOINT]\n"
		"  -r, --region NAME        [$AWS_REGION, ..., us-east-1]\n"
		"      --virtual-host       bucket.host addressing instead of host/bucket\n"
		"      --part-size MIB      multipart part size [8]\n"
		"      --threshold MIB      multipart threshold [16]\n"
		"      --threads N          upload and download threads [4]\n"
		"      --chunk MIB          parallel GET chunk [8]\n"
		"      --connect-timeout MS [3000]\n"
		"      --low-speed-time S   abort an attempt stalled this long [10]\n"
		"      --retries N          [4]\n"
		"      --max-keys N         listing page size [1000]\n"
		"      --stats              print transport counters at the end\n"
		"      --max-recv-speed KIB download cap per transfer, KiB/s (tests)\n"
		"      --max-send-speed KIB upload cap per transfer, KiB/s (tests)\n"
		"  -v, --verbose            log each failed attempt (never credentials)\n");
}

static int fail(const char *what, int err)
{
	const char *name = strerrorname_np(-err);

	fprintf(stderr, "s3tool: %s: %s (%s)\n", what, strerror(-err), name ? name : "?");
	return -err > 0 && -err < 126 ? -err : 1;
}

static int ls_cb(void *arg, const struct s3_list_page *p)
{
	size_t i;

	(*(unsigned int *)arg)++;
	for (i = 0; i < p->nprefixes; i++)
		printf("P %s\n", p->prefixes[i]);
	for (i = 0; i < p->nobjects; i++)
		printf("K %s %" PRId64 " %s\n", p->objects[i].key, (int64_t)p->objects[i].size,
		       p->objects[i].etag);
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		err = -ENOMEM;
		goto out;
	}
	n = *len ? pread(fd, *buf, *len, 0) : 0;
	if (n < 0 || (size_t)n != *len)
		err = n < 0 ? -errno : -EIO;
out:
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	enum { O_VHOST = 256, O_PART, O_THRESH, O_THREADS, O_CHUNK, O_CTO, O_LST, O_RETRIES,
	       O_MAXKEYS, O_STATS, O_RECV, O_SEND };
	static const struct option lopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "region", required_argument, NULL, 'r' },
		{ "virtual-host", no_argument, NULL, O_VHOST },
		{ "part-size", required_argument, NULL, O_PART },
		{ "threshold", required_argument, NULL, O_THRESH },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "chunk", required_argument, NULL, O_CHUNK },
		{ "connect-timeout", required_argument, NULL, O_CTO },
		{ "low-speed-time", required_argument, NULL, O_LST },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "max-keys", required_argument, NULL, O_MAXKEYS },
		{ "stats", no_argument, NULL, O_STATS },
		{ "max-recv-speed", required_argument, NULL, O_RECV },
		{ "max-send-speed", required_argument, NULL, O_SEND },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *endpoint = NULL, *region = NULL, *cmd;
	struct s3_client_opts opts;
	struct s3_client *c = NULL;
	struct s3_sign_cred cred;
	unsigned int max_keys = 0;
	struct s3_env env;
	int o, err, ret = 0, fd = -1, stats = 0;
	char **a;

	signal(SIGPIPE, SIG_IGN); /* see s3_http.h */
	s3_client_opts_init(&opts);
	while ((o = getopt_long(argc, argv, "e:r:vh", lopts, NULL)) != -1) {
		switch (o) {
		case 'e': endpoint = optarg; break;
		case 'r': region = optarg; break;
		case O_VHOST: opts.http.path_style = 0; break;
		case O_PART: opts.part_size = strtoul(optarg, NULL, 0) << 20; break;
		case O_THRESH: opts.multipart_threshold = strtoul(optarg, NULL, 0) << 20; break;
		case O_THREADS:
			opts.upload_threads = opts.get_threads = (unsigned)atoi(optarg);
			break;
		case O_CHUNK: opts.get_chunk = strtoul(optarg, NULL, 0) << 20; break;
		case O_CTO: opts.http.connect_timeout_ms = atol(optarg); break;
		case O_LST: opts.http.low_speed_time_s = atol(optarg); break;
		case O_RETRIES: opts.http.max_retries = atoi(optarg); break;
		case O_MAXKEYS: max_keys = (unsigned)atoi(optarg); break;
		case O_STATS: stats = 1; break;
		case O_RECV: opts.http.max_recv_bytes_s = atol(optarg) << 10; break;
		case O_SEND: opts.http.max_send_bytes_s = atol(optarg) << 10; break;
		case 'v': log_set_debug(1); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	a = argv + optind + 1;
	argc -= optind + 1;

	err = s3_env_load(&env);
	if (err)
		return fail("credentials", err);
	if (!endpoint)
		endpoint = *env.endpoint ? env.endpoint : getenv("S3_ENDPOINT");
	if (!endpoint || !*endpoint) {
		fprintf(stderr, "s3tool: no endpoint: set AWS_ENDPOINT_URL or use -e\n");
		return 2;
	}
	cred.access_key = env.access_key;
	cred.secret_key = env.secret_key;
	cred.session_token = env.session_token;
	err = s3_client_new(&c, endpoint, region ? region : env.region, &cred, &opts);
	s3_env_clear(&env);
	if (err)
		return fail("client", err);

#define NEED(n)                                                 \
	do {                                                    \
		if (argc < (n)) {                               \
			usage(stderr);                          \
			ret = 2;                                \
			goto out;                               \
		}                                               \
	} while (0)

	if (!strcmp(cmd, "mb")) {
		NEED(1);
		err = s3_bucket_create(c, a[0]);
	} else if (!strcmp(cmd, "rb")) {
		NEED(1);
		err = s3_bucket_delete(c, a[0]);
	} else if (!strcmp(cmd, "put")) {
		struct stat st;
		char etag[S3_ETAG_MAX];

		NEED(3);
		fd = open(a[2], O_RDONLY | O_CLOEXEC);
		err = fd < 0 || fstat(fd, &st) ? -errno : 0;
		if (!err)
			err = s3_put_fd(c, a[0], a[1], fd, 0, st.st_size, etag);
		if (!err)
			printf("etag=%s\n", etag);
	} else if (!strcmp(cmd, "putbuf")) {
		char *buf = NULL, etag[S3_ETAG_MAX];
		size_t len = 0;

		NEED(3);
		err = read_file(a[2], &buf, &len);
		if (!err)
			err = s3_put_buf(c, a[0], a[1], buf, len, etag);
		if (!err)
			printf("etag=%s\n", etag);
		free(buf);
	} else if (!strcmp(cmd, "get")) {
		off_t got = 0, off = 0, len = -1;

		NEED(3);
		if (argc >= 5) {
			off = strtoll(a[3], NULL, 0);
			len = strtoll(a[4], NULL, 0);
		}
		fd = open(a[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		err = fd < 0 ? -errno : 0;
		if (!err)
			err = s3_get_to_fd(c, a[0], a[1], off, len, fd, 0, NULL, &got);
		if (!err)
			printf("got=%" PRId64 "\n", (int64_t)got);
	} else if (!strcmp(cmd, "getrange")) {
		size_t len;
		ssize_t n;
		char *buf;

		NEED(5);
		len = strtoul(a[3], NULL, 0);
		buf = malloc(len ? len : 1);
		err = buf ? 0 : -ENOMEM;
		n = err ? err : s3_get_range(c, a[0], a[1], strtoll(a[2], NULL, 0), len, buf, NULL);
		err = n < 0 ? (int)n : 0;
		if (!err) {
			fd = open(a[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0 || write(fd, buf, (size_t)n) != n)
				err = -errno;
			else
				printf("got=%zd\n", n);
		}
		free(buf);
	} else if (!strcmp(cmd, "pget")) {
		NEED(3);
		fd = open(a[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		err = fd < 0 ? -errno : 0;
		if (!err)
			err = s3_get_parallel(c, a[0], a[1], NULL, fd, 0);
	} else if (!strcmp(cmd, "head")) {
		struct s3_stat st;

		NEED(2);
		err = s3_head(c, a[0], a[1], &st);
		if (!err)
			printf("size=%" PRId64 " mtime=%lld etag=%s\n%s%s%s", (int64_t)st.size,
			       (long long)st.mtime, st.etag,
			       st.content_type[0] ? "content-type:" : "", st.content_type,
			       st.content_type[0] ? "\n" : "");
		/* then the user metadata, one "x-amz-meta-NAME:VALUE" a line */
		for (const char *l = st.meta; !err && *l;) {
			const char *nl = strchr(l, '\n');

			if (!nl)
				break;
			printf("x-amz-meta-%.*s\n", (int)(nl - l), l);
			l = nl + 1;
		}
	} else if (!strcmp(cmd, "ls")) {
		unsigned int pages = 0;

		NEED(1);
		err = s3_list_all(c, a[0], argc > 1 ? a[1] : NULL, argc > 2 ? a[2] : NULL,
				  max_keys, ls_cb, &pages);
		fprintf(stderr, "pages=%u\n", pages);
	} else if (!strcmp(cmd, "rm")) {
		NEED(2);
		err = s3_delete(c, a[0], a[1]);
	} else if (!strcmp(cmd, "uploads")) {
		char *xml;

		NEED(1);
		err = s3_list_uploads_raw(c, a[0], argc >= 2 ? a[1] : NULL, &xml);
		if (!err)
			printf("%s\n", xml);
		free(xml);
	} else if (!strcmp(cmd, "cp")) {
		char etag[S3_ETAG_MAX];

		NEED(4);
		err = s3_copy(c, a[0], a[1], a[2], a[3], etag);
		if (!err)
			printf("etag=%s\n", etag);
	} else {
		usage(stderr);
		ret = 2;
		goto out;
	}
	if (fd >= 0 && close(fd) && !err)
		err = -errno;
	fd = -1;
	if (err)
		ret = fail(cmd, err);
out:
	if (stats) {
		struct s3_http_stats st;

		s3_http_stats(s3_client_http(c), &st);
		fprintf(stderr,
			"requests=%" PRIu64 " attempts=%" PRIu64 " retries=%" PRIu64
			" failures=%" PRIu64 " bytes_in=%" PRIu64 " bytes_out=%" PRIu64 "\n",
			st.requests, st.attempts, st.retries, st.failures, st.bytes_in,
			st.bytes_out);
	}
	if (fd >= 0)
		close(fd);
	s3_client_free(c);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * s3_client.c - HEAD, GET (ranged, to buffer or fd, parallel), PUT (single and multipart),
 * DELETE, COPY and ListObjectsV2 on top of s3_http.c.
 *
 * Parallel work (multipart parts, chunks of a parallel GET) uses a few short-lived
 * pthreads pulling indexes from a shared counter; the first error stops the others from
 * starting new pieces and is what the call returns.
 */
#include "s3_client.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

struct s3_client {
	struct s3_http *http;
	struct s3_client_opts opts;
};

void s3_client_opts_init(struct s3_client_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	s3_http_opts_init(&opts->http);
	opts->multipart_threshold = 16u << 20;
	opts->part_size = 8u << 20;
	opts->upload_threads = 4;
	opts->get_chunk = 8u << 20;
	opts->get_threads = 4;
}

int s3_client_new(struct s3_client **out, const char *endpoint, const char *region,
		  const struct s3_sign_cred *cred, const struct s3_client_opts *opts)
{
	struct s3_client *c;
	int err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (opts)
		c->opts = *opts;
	else
		s3_client_opts_init(&c->opts);
	if (c->opts.part_size < S3_MIN_PART_SIZE)
		c->opts.part_size = S3_MIN_PART_SIZE;
	if (c->opts.multipart_threshold < c->opts.part_size)
		c->opts.multipart_threshold = c->opts.part_size;
	if (!c->opts.upload_threads)
		c->opts.upload_threads = 1;
	if (!c->opts.get_threads)
		c->opts.get_threads = 1;
	if (!c->opts.get_chunk)
		c->opts.get_chunk = 8u << 20;
	/* the pool should hold a handle for every thread we may run at once */
	if (c->opts.http.pool_size < c->opts.upload_threads + c->opts.get_threads)
		c->opts.http.pool_size = c->opts.upload_threads + c->opts.get_threads;
	err = s3_http_new(&c->http, endpoint, region, cred, &c->opts.http);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void s3_client_free(struct s3_client *c)
{
	if (!c)
		return;
	s3_http_free(c->http);
	free(c);
}

struct s3_http *s3_client_http(struct s3_client *c)
{
	return c->http;
}

static int check_names(const char *bucket, const char *key)
{
	if (!bucket || !*bucket || !key || !*key)
		return -EINVAL;
	if (strlen(key) > 1024)
		return -ENAMETOOLONG;
	return 0;
}

int s3_head(struct s3_client *c, const char *bucket, const char *key, struct s3_stat *st)
{
	struct s3_request req = { .method = "HEAD", .bucket = bucket, .key = key };
	struct s3_response resp;
	int err;

	err = check_names(bucket, key);
	if (err)
		return err;
	err = s3_http_do(c->http, &req, &resp);
	if (err)
		return err;
	st->size = resp.content_length >= 0 ? resp.content_length : 0;
	st->mtime = resp.last_modified;
	snprintf(st->etag, sizeof(st->etag), "%s", resp.etag);
	snprintf(st->content_type, sizeof(st->content_type), "%s", resp.content_type);
	memcpy(st->meta, resp.meta, resp.meta_len + 1);
	s3_attrs_parse(st->meta, key, &st->attrs);
	return 0;
}

/* One ranged GET into @sink; @len 0 means "to the end". */
static int get_into(struct s3_client *c, const char *bucket, const char *key, off_t off,
		    off_t len, const char *if_match, struct s3_sink *sink)
{
	struct s3_kv hdr[2];
	struct s3_request req = { .method = "GET", .bucket = bucket, .key = key, .headers = hdr,
				  .sink = sink };
	struct s3_response resp;
	char range[64];
	int err;

	err = check_names(bucket, key);
	if (err)
		return err;
	if (off < 0)
		return -EINVAL;
	if (len > 0)
		snprintf(range, sizeof(range), "bytes=%" PRId64 "-%" PRId64, (int64_t)off,
			 (int64_t)(off + len - 1));
	else
		snprintf(range, sizeof(range), "bytes=%" PRId64 "-", (int64_t)off);
	if (off || len > 0) {
		hdr[req.nheaders].name = "Range";
		hdr[req.nheaders++].value = range;
	}
	if (if_match && *if_match) {
		hdr[req.nheaders].name = "If-Match";
		hdr[req.nheaders++].value = if_match;
	}
	err = s3_http_do(c->http, &req, &resp);
	/* 416 InvalidRange: the range starts at or after the end, i.e. nothing to read */
	if (err && resp.status == 416)
		return -ERANGE;
	return err;
}

ssize_t s3_get_range(struct s3_client *c, const char *bucket, const char *key, off_t off,
		     size_t len, void *buf, const char *if_match)
{
	struct s3_sink sink = { .kind = S3_SINK_BUF, .buf = buf, .cap = len };
	int err;

	if (!len)
		return 0;
	err = get_into(c, bucket, key, off, (off_t)len, if_match, &sink);
	if (err == -ERANGE)
		return 0;
	if (err)
		return err;
	return (ssize_t)sink.len;
}

int s3_get_to_fd(struct s3_client *c, const char *bucket, const char *key, off_t off, off_t len,
		 int fd, off_t fd_off, const char *if_match, off_t *got)
{
	struct s3_sink sink = { .kind = S3_SINK_FD, .fd = fd, .off = fd_off };
	int err;

	if (got)
		*got = 0;
	if (!len)
		return 0;
	err = get_into(c, bucket, key, off, len > 0 ? len : 0, if_match, &sink);
	if (err == -ERANGE)
		err = 0;
	if (!err && got)
		*got = (off_t)sink.len;
	return err;
}

/* Shared state of a parallel GET or multipart upload. */
struct par {
	struct s3_client *c;
	const char *bucket, *key;
	pthread_mutex_t lock;
	size_t next, n;          /* next piece to start, number of pieces */
	int err;                 /* first error */
	/* GET */
	const struct s3_stat *st;
	int fd;
	off_t fd_off;
	/* multipart */
	off_t src_off, src_len;
	size_t psize;
	const char *upload_id;
	char (*etags)[S3_ETAG_MAX];
};

static int par_next(struct par *p, size_t *i)
{
	int ok;

	pthread_mutex_lock(&p->lock);
	ok = !p->err && p->next < p->n;
	if (ok)
		*i = p->next++;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

static void par_fail(struct par *p, int err)
{
	pthread_mutex_lock(&p->lock);
	if (!p->err)
		p->err = err;
	pthread_mutex_unlock(&p->lock);
}

/* Run @fn on min(@threads, p->n) threads (this one included); returns p->err. */
static int par_run(struct par *p, unsigned int threads, void *(*fn)(void *))
{
	pthread_t *tids;
	unsigned int i, started = 0;

	if (threads > p->n)
		threads = (unsigned int)p->n;
	tids = calloc(threads ? threads : 1, sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	for (i = 1; i < threads; i++) {
		if (pthread_create(&tids[i], NULL, fn, p))
			break;
		started++;
	}
	fn(p);
	for (i = 1; i <= started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return p->err;
}

static void *get_worker(void *arg)
{
	struct par *p = arg;
	size_t chunk = p->c->opts.get_chunk, i;

	while (par_next(p, &i)) {
		off_t off = (off_t)(i * chunk), len = p->st->size - off, got = 0;
		int err;

		if (len > (off_t)chunk)
			len = (off_t)chunk;
		err = s3_get_to_fd(p->c, p->bucket, p->key, off, len, p->fd, p->fd_off + off,
				   p->st->etag, &got);
		if (!err && got != len)
			err = -EIO;
		if (err)
			par_fail(p, err);
	}
	return NULL;
}

int s3_get_parallel(struct s3_client *c, const char *bucket, const char *key,
		    const struct s3_stat *st, int fd, off_t fd_off)
{
	struct par p = { .c = c, .bucket = bucket, .key = key, .fd = fd, .fd_off = fd_off };
	struct s3_stat head;
	int err;

	if (!st) {
		err = s3_head(c, bucket, key, &head);
		if (err)
			return err;
		st = &head;
	}
	if (!st->size)
		return 0;
	p.st = st;
	p.n = (size_t)((st->size + (off_t)c->opts.get_chunk - 1) / (off_t)c->opts.get_chunk);
	pthread_mutex_init(&p.lock, NULL);
	err = par_run(&p, c->opts.get_threads, get_worker);
	pthread_mutex_destroy(&p.lock);
	return err;
}

/* One PUT; @absent: only if no object has the name (If-None-Match: *), else -EEXIST. */
static int put_body(struct s3_client *c, const char *bucket, const char *key,
		    const struct s3_body *body, const struct s3_attrs *a, int absent,
		    char etag[S3_ETAG_MAX])
{
	struct s3_attr_hdrs h;
	struct s3_kv hdr[S3_ATTR_HEADERS + 1];
	struct s3_request req = { .method = "PUT", .bucket = bucket, .key = key, .body = *body };
	struct s3_response resp;
	int err;

	s3_attrs_headers(a, &h);
	memcpy(hdr, h.kv, h.n * sizeof(hdr[0]));
	if (absent) /* only if no object has the name */
		hdr[h.n] = (struct s3_kv){ "If-None-Match", "*" };
	req.headers = hdr;
	req.nheaders = h.n + (absent ? 1 : 0);

	err = check_names(bucket, key);
	if (err)
		return err;
	err = s3_http_do(c->http, &req, &resp);
	if (err == -ESTALE && absent)
		err = -EEXIST; /* 412 PreconditionFailed: the name is taken */
	if (!err && etag)
		snprintf(etag, S3_ETAG_MAX, "%s", resp.etag);
	return err;
}

int s3_put_buf(struct s3_client *c, const char *bucket, const char *key, const void *buf,
	       size_t len, char etag[S3_ETAG_MAX])
{
	return s3_put_buf_attrs(c, bucket, key, buf, len, NULL, etag);
}

int s3_put_buf_attrs(struct s3_client *c, const char *bucket, const char *key, const void *buf,
		     size_t len, const struct s3_attrs *a, char etag[S3_ETAG_MAX])
{
	struct s3_body body = { .buf = len ? buf : NULL, .fd = -1, .len = len };

	return put_body(c, bucket, key, &body, a, 0, etag);
}

int s3_put_buf_absent(struct s3_client *c, const char *bucket, const char *key,
		      const void *buf, size_t len, char etag[S3_ETAG_MAX])
{
	struct s3_body body = { .buf = len ? buf : NULL, .fd = -1, .len = len };

	return put_body(c, bucket, key, &body, NULL, 1, etag);
}

static void *part_worker(void *arg)
{
	struct par *p = arg;
	size_t psize = p->psize, i;
	char partno[24];

	while (par_next(p, &i)) {
		off_t off = (off_t)(i * psize), len = p->src_len - off;
		struct s3_kv q[2] = { { "partNumber", partno }, { "uploadId", p->upload_id } };
		struct s3_request req = { .method = "PUT", .bucket = p->bucket, .key = p->key,
					  .query = q, .nquery = 2 };
		struct s3_response resp;
		int err;

		if (len > (off_t)psize)
			len = (off_t)psize;
		snprintf(partno, sizeof(partno), "%zu", i + 1);
		req.body.fd = p->fd;
		req.body.off = p->src_off + off;
		req.body.len = (size_t)len;
		err = s3_http_do(p->c->http, &req, &resp);
		if (!err && !resp.etag[0])
			err = -EIO;
		if (err) {
			par_fail(p, err);
			continue;
		}
		memcpy(p->etags[i], resp.etag, S3_ETAG_MAX);
	}
	return NULL;
}

/* POST with a small body whose 200 answer may still be an <Error> (Complete, Copy). */
static int post_checked(struct s3_client *c, struct s3_request *req, struct s3_sink *sink)
{
	char code[S3_ERR_CODE_MAX];
	enum s3_err_class cls;
	int err;

	err = s3_http_do(c->http, req, NULL);
	if (err)
		return err;
	if (sink->len && s3_xml_parse_error(sink->mem, sink->len, code) == 1) {
		err = s3_xml_errno(code, 200, &cls);
		return err ? err : -EIO;
	}
	return 0;
}

static int put_multipart(struct s3_client *c, const char *bucket, const char *key, int fd,
			 off_t off, off_t len, const struct s3_attrs *a, int absent,
			 char etag[S3_ETAG_MAX])
{
	struct s3_kv hdr[1] = { { "If-None-Match", "*" } };
	struct s3_sink sink = { .kind = S3_SINK_MEM };
	struct s3_kv q_init[] = { { "uploads", "" } };
	struct s3_attr_hdrs h;
	struct s3_request req = { .method = "POST", .bucket = bucket, .key = key,
				  .query = q_init, .nquery = 1, .sink = &sink };
	struct par p = { .c = c, .bucket = bucket, .key = key, .fd = fd, .src_off = off,
			 .src_len = len };
	char upload_id[512], *xml = NULL;
	struct s3_kv q[1];
	size_t psize = c->opts.part_size;
	int err, aerr;

	/* S3 allows 10,000 parts: grow the part size for huge files */
	while ((len + (off_t)psize - 1) / (off_t)psize > S3_MAX_PARTS)
		psize *= 2;
	p.n = (size_t)((len + (off_t)psize - 1) / (off_t)psize);
	p.psize = psize;

	/* the object's user metadata is given when the upload starts */
	s3_attrs_headers(a, &h);
	req.headers = h.kv;
	req.nheaders = h.n;
	err = s3_http_do(c->http, &req, NULL);
	if (!err)
		err = s3_xml_parse_upload_id(sink.mem, sink.len, upload_id, sizeof(upload_id));
	free(sink.mem);
	if (err)
		return err;

	if (c->opts.mpu_note)
		c->opts.mpu_note(c->opts.mpu_arg, bucket, key, upload_id, 1);
	err = -ENOMEM;
	p.upload_id = upload_id;
	p.etags = calloc(p.n, sizeof(*p.etags));
	if (!p.etags)
		goto out_abort;
	pthread_mutex_init(&p.lock, NULL);
	err = par_run(&p, c->opts.upload_threads, part_worker);
	pthread_mutex_destroy(&p.lock);
	if (err)
		goto out_abort;

	err = -ENOMEM;
	xml = s3_xml_complete_body(p.etags, p.n);
	if (!xml)
		goto out_abort;
	q[0] = (struct s3_kv){ "uploadId", upload_id };
	memset(&sink, 0, sizeof(sink));
	sink.kind = S3_SINK_MEM;
	req = (struct s3_request){ .method = "POST", .bucket = bucket, .key = key, .query = q,
				   .nquery = 1, .sink = &sink };
	/* the condition goes on the Complete (AWS honours it there; RGW 16 ignores it) */
	req.headers = hdr;
	req.nheaders = absent ? 1 : 0;
	req.body.buf = xml;
	req.body.len = strlen(xml);
	err = post_checked(c, &req, &sink);
	if (err == -ESTALE && absent)
		err = -EEXIST;
	if (!err && etag && s3_xml_parse_etag(sink.mem, sink.len, etag))
		etag[0] = '\0';
	free(sink.mem);
	if (err)
		goto out_abort;
	if (etag && !etag[0]) {
		struct s3_stat st;

		/* Ceph RGW (pacific) answers an empty <ETag/>: ask for it */
		if (!s3_head(c, bucket, key, &st))
			memcpy(etag, st.etag, S3_ETAG_MAX);
	}
	if (c->opts.mpu_note)
		c->opts.mpu_note(c->opts.mpu_arg, bucket, key, upload_id, 0);
	free(xml);
	free(p.etags);
	return 0;

out_abort:
	/* leave no parts behind to be billed; the upload's own error is what matters */
	aerr = s3_abort_multipart(c, bucket, key, upload_id);
	if (aerr && aerr != -ENOENT)
		pr_warn("cannot abort multipart upload of '%s/%s': %s", bucket, key,
			strerror(-aerr));
	else if (c->opts.mpu_note)
		c->opts.mpu_note(c->opts.mpu_arg, bucket, key, upload_id, 0);
	free(xml);
	free(p.etags);
	return err;
}

int s3_abort_multipart(struct s3_client *c, const char *bucket, const char *key,
		       const char *upload_id)
{
	struct s3_kv q[1] = { { "uploadId", upload_id } };
	struct s3_request req = { .method = "DELETE", .bucket = bucket, .key = key, .query = q,
				  .nquery = 1 };
	int err = check_names(bucket, key);

	return err ? err : s3_http_do(c->http, &req, NULL);
}

int s3_list_uploads_raw(struct s3_client *c, const char *bucket, const char *prefix,
			char **xml)
{
	struct s3_sink sink = { .kind = S3_SINK_MEM };
	struct s3_kv q[2] = { { "uploads", "" }, { "prefix", prefix } };
	struct s3_request req = { .method = "GET", .bucket = bucket, .query = q,
				  .nquery = prefix ? 2 : 1, .sink = &sink };
	int err = s3_http_do(c->http, &req, NULL);
	char *s;

	*xml = NULL;
	if (!err) {
		s = realloc(sink.mem, sink.len + 1);
		if (!s) {
			err = -ENOMEM;
		} else {
			s[sink.len] = '\0';
			*xml = s;
			sink.mem = NULL;
		}
	}
	free(sink.mem);
	return err;
}

static int put_fd(struct s3_client *c, const char *bucket, const char *key, int fd, off_t off,
		  off_t len, const struct s3_attrs *a, int absent, char etag[S3_ETAG_MAX])
{
	struct s3_body body = { .fd = fd, .off = off, .len = (size_t)len };
	int err;

	err = check_names(bucket, key);
	if (err)
		return err;
	if (len < 0 || off < 0 || fd < 0)
		return -EINVAL;
	if ((size_t)len < c->opts.multipart_threshold)
		return put_body(c, bucket, key, &body, a, absent, etag);
	return put_multipart(c, bucket, key, fd, off, len, a, absent, etag);
}

int s3_put_fd(struct s3_client *c, const char *bucket, const char *key, int fd, off_t off,
	      off_t len, char etag[S3_ETAG_MAX])
{
	return put_fd(c, bucket, key, fd, off, len, NULL, 0, etag);
}

int s3_put_fd_attrs(struct s3_client *c, const char *bucket, const char *key, int fd, off_t off,
		    off_t len, const struct s3_attrs *a, char etag[S3_ETAG_MAX])
{
	return put_fd(c, bucket, key, fd, off, len, a, 0, etag);
}

int s3_put_fd_absent(struct s3_client *c, const char *bucket, const char *key, int fd,
		     off_t off, off_t len, const struct s3_attrs *a, char etag[S3_ETAG_MAX])
{
	return put_fd(c, bucket, key, fd, off, len, a, 1, etag);
}

int s3_delete(struct s3_client *c, const char *bucket, const char *key)
{
	struct s3_request req = { .method = "DELETE", .bucket = bucket, .key = key };
	int err;

	err = check_names(bucket, key);
	if (err)
		return err;
	return s3_http_do(c->http, &req, NULL);
}

/* The x-amz-copy-source value of @bucket/@key (URI-encoded, malloc'ed), or NULL. */
static char *copy_source(const char *bucket, const char *key)
{
	size_t n = strlen(bucket) + strlen(key) + 3;
	char *src = malloc(n), *enc = malloc(n * 3);

	if (src && enc) {
		snprintf(src, n, "/%s/%s", bucket, key);
		s3_uri_encode(src, 1, enc, n * 3);
	} else {
		free(enc);
		enc = NULL;
	}
	free(src);
	return enc;
}

int s3_copy(struct s3_client *c, const char *src_bucket, const char *src_key,
	    const char *dst_bucket, const char *dst_key, char etag[S3_ETAG_MAX])
{
	struct s3_sink sink = { .kind = S3_SINK_MEM };
	struct s3_kv hdr[1];
	struct s3_request req = { .method = "PUT", .bucket = dst_bucket, .key = dst_key,
				  .headers = hdr, .nheaders = 1, .sink = &sink };
	struct s3_stat st;
	char *enc;
	int err;

	err = check_names(src_bucket, src_key);
	if (!err)
		err = check_names(dst_bucket, dst_key);
	if (err)
		return err;
	err = s3_head(c, src_bucket, src_key, &st);
	if (err)
		return err;
	if ((unsigned long long)st.size > S3_MAX_COPY_SIZE)
		return -EFBIG;

	enc = copy_source(src_bucket, src_key);
	if (!enc)
		return -ENOMEM;
	hdr[0] = (struct s3_kv){ "x-amz-copy-source", enc };
	err = post_checked(c, &req, &sink);
	if (!err && etag && s3_xml_parse_etag(sink.mem, sink.len, etag))
		etag[0] = '\0';
	free(sink.mem);
	free(enc);
	return err;
}

/* user metadata names that s3_set_attrs() writes itself */
static int attr_name(const char *name, size_t n)
{
	static const char *const names[] = { "mode", "uid", "gid", "mtime", "atime", "ctime",
					     "rdev", "permissions", "owner", "group" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !memcmp(names[i], name, n))
			return 1;
	return 0;
}

int s3_set_attrs(struct s3_client *c, const char *bucket, const char *key,
		 const struct s3_stat *st, const struct s3_attrs *a, char etag[S3_ETAG_MAX])
{
	struct s3_sink sink = { .kind = S3_SINK_MEM };
	struct s3_request req = { .method = "PUT", .bucket = bucket, .key = key, .sink = &sink };
	/* copy source, directive, if-match, content type, ours, and the other user metadata */
	struct s3_kv hdr[4 + S3_ATTR_HEADERS + S3_META_MAX / 4];
	char meta[S3_META_MAX], names[S3_META_MAX + 11 * (S3_META_MAX / 4)];
	struct s3_attr_hdrs h;
	size_t nh = 0, used = 0, i;
	char *enc = NULL, *line, *nl;
	int err;

	err = check_names(bucket, key);
	if (err)
		return err;
	if ((unsigned long long)st->size > S3_MAX_COPY_SIZE)
		return -EFBIG;
	enc = copy_source(bucket, key);
	err = -ENOMEM;
	if (!enc)
		goto out;
	hdr[nh++] = (struct s3_kv){ "x-amz-copy-source", enc };
	hdr[nh++] = (struct s3_kv){ "x-amz-metadata-directive", "REPLACE" };
	if (st->etag[0])
		hdr[nh++] = (struct s3_kv){ "x-amz-copy-source-if-match", st->etag };
	if (st->content_type[0])
		hdr[nh++] = (struct s3_kv){ "Content-Type", st->content_type };
	s3_attrs_headers(a, &h);
	for (i = 0; i < h.n; i++)
		hdr[nh++] = h.kv[i];
	/* REPLACE drops all user metadata: what others keep there goes along */
	snprintf(meta, sizeof(meta), "%s", st->meta);
	for (line = meta; *line && nh < sizeof(hdr) / sizeof(hdr[0]); line = nl + 1) {
		char *colon;
		size_t len;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		colon = strchr(line, ':');
		if (!colon || attr_name(line, (size_t)(colon - line)))
			continue;
		*colon = '\0';
		len = strlen(line) + 12;
		if (used + len > sizeof(names))
			break;
		snprintf(names + used, len, "x-amz-meta-%s", line);
		hdr[nh++] = (struct s3_kv){ names + used, colon + 1 };
		used += len;
	}
	req.headers = hdr;
	req.nheaders = nh;
	err = post_checked(c, &req, &sink);
	if (!err && etag && s3_xml_parse_etag(sink.mem, sink.len, etag))
		etag[0] = '\0';
out:
	free(sink.mem);
	free(enc);
	return err;
}

int s3_list(struct s3_client *c, const char *bucket, const char *prefix, const char *delimiter,
	    unsigned int max_keys, const char *token, struct s3_list_page *page)
{
	return s3_list_resp(c, bucket, prefix, delimiter, max_keys, token, page, NULL);
}

int s3_list_resp(struct s3_client *c, const char *bucket, const char *prefix,
		 const char *delimiter, unsigned int max_keys, const char *token,
		 struct s3_list_page *page, struct s3_response *resp)
{
	struct s3_sink sink = { .kind = S3_SINK_MEM };
	struct s3_kv q[6];
	struct s3_request req = { .method = "GET", .bucket = bucket, .query = q, .sink = &sink };
	char mk[16];
	int err;

	memset(page, 0, sizeof(*page));
	if (!bucket || !*bucket)
		return -EINVAL;
	q[req.nquery++] = (struct s3_kv){ "list-type", "2" };
	q[req.nquery++] = (struct s3_kv){ "encoding-type", "url" };
	if (prefix && *prefix)
		q[req.nquery++] = (struct s3_kv){ "prefix", prefix };
	if (delimiter && *delimiter)
		q[req.nquery++] = (struct s3_kv){ "delimiter", delimiter };
	if (max_keys) {
		snprintf(mk, sizeof(mk), "%u", max_keys);
		q[req.nquery++] = (struct s3_kv){ "max-keys", mk };
	}
	if (token && *token)
		q[req.nquery++] = (struct s3_kv){ "continuation-token", token };
	err = s3_http_do(c->http, &req, resp);
	if (!err) {
		err = s3_xml_parse_list(sink.mem, sink.len, page);
		if (err == -EPROTO)
			s3_http_count_protocol_error(c->http);
	}
	free(sink.mem);
	return err;
}

int s3_list_all(struct s3_client *c, const char *bucket, const char *prefix,
		const char *delimiter, unsigned int max_keys,
		int (*cb)(void *arg, const struct s3_list_page *page), void *arg)
{
	struct s3_list_page page;
	char *token = NULL;
	int err;

	for (;;) {
		err = s3_list(c, bucket, prefix, delimiter, max_keys, token, &page);
		free(token);
		token = NULL;
		if (!err)
			err = cb(arg, &page);
		if (err || !page.truncated)
			break;
		token = page.next_token;
		page.next_token = NULL;
		s3_list_page_free(&page);
	}
	s3_list_page_free(&page);
	return err;
}

int s3_bucket_create(struct s3_client *c, const char *bucket)
{
	struct s3_request req = { .method = "PUT", .bucket = bucket };

	if (!bucket || !*bucket)
		return -EINVAL;
	return s3_http_do(c->http, &req, NULL);
}

int s3_bucket_delete(struct s3_client *c, const char *bucket)
{
	struct s3_request req = { .method = "DELETE", .bucket = bucket };

	if (!bucket || !*bucket)
		return -EINVAL;
	return s3_http_do(c->http, &req, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * s3_http_xfer.c - one attempt of a request as curl runs it: the body sent and received,
 * the answer checked before the first byte is taken, headers, the range asked for,
 * stall detection.
 */
#include "s3_http_priv.h"

size_t s3_http_read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	const struct s3_body *b = &x->req->body;
	size_t want = size * nmemb, left = b->len - x->sent;
	ssize_t n;

	if (want > left)
		want = left;
	if (!want)
		return 0;
	if (b->buf) {
		memcpy(dst, (const char *)b->buf + x->sent, want);
		n = (ssize_t)want;
	} else {
		n = pread(b->fd, dst, want, b->off + (off_t)x->sent);
		if (n <= 0) {
			x->err = n < 0 ? -errno : -EIO; /* a short file is the caller's bug */
			return CURL_READFUNC_ABORT;
		}
	}
	x->sent += (size_t)n;
	return (size_t)n;
}

int s3_http_seek_cb(void *arg, curl_off_t off, int origin)
{
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > x->req->body.len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int mem_append(char **mem, size_t *len, size_t *cap, const char *src, size_t n,
		      size_t max)
{
	if (*len + n + 1 > max)
		return -EOVERFLOW;
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		char *p;

		while (ncap < *len + n + 1)
			ncap *= 2;
		p = realloc(*mem, ncap);
		if (!p)
			return -ENOMEM;
		*mem = p;
		*cap = ncap;
	}
	memcpy(*mem + *len, src, n);
	*len += n;
	(*mem)[*len] = '\0';
	return 0;
}

/*
 * Do the headers of a 2xx answer describe the bytes asked for?  Run before the first body
 * byte is stored, and after the transfer for answers without a body.
 */
int s3_http_check_answer(struct xfer *x)
{
	const struct s3_response *r = x->resp;
	off_t len;

	x->checked = 1;
	if (r->range_first >= 0 && r->content_length >= 0 &&
	    r->range_last - r->range_first + 1 != r->content_length)
		return -EPROTO;
	if (x->want_first < 0 || !strcmp(x->req->method, "HEAD"))
		return 0;
	if (r->status == 206) {
		if (r->range_first != x->want_first ||
		    (x->want_last >= 0 && r->range_last > x->want_last))
			return -EPROTO;
		return 0;
	}
	/* a 200 is the whole object: right only when the range started at 0 and holds it */
	len = r->content_length;
	if (x->want_first > 0 || (x->want_last >= 0 && len > x->want_last + 1))
		return -EPROTO;
	return 0;
}

/* "bytes=A-" or "bytes=A-B" among the request's headers. */
void s3_http_wanted_range(const struct s3_request *req, off_t *first, off_t *last)
{
	const char *v, *dash;
	size_t i;

	*first = *last = -1;
	for (i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].name, "Range"))
			continue;
		v = req->headers[i].value;
		if (strncmp(v, "bytes=", 6) || !(dash = strchr(v + 6, '-')))
			return;
		*first = (off_t)strtoll(v + 6, NULL, 10);
		*last = dash[1] ? (off_t)strtoll(dash + 1, NULL, 10) : -1;
		return;
	}
}

size_t s3_http_write_cb(char *src, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct s3_sink *s = x->sink;
	size_t n = size * nmemb, done = 0;
	ssize_t w;

	if (!x->status)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	x->bytes_in += n;
	if (x->status < 200 || x->status > 299) {
		/* keep the start of an error document (it holds the Code), drop the rest */
		if (!x->errbody)
			x->errbody = malloc(S3_HTTP_ERRBODY_MAX);
		if (x->errbody && x->errlen + n < S3_HTTP_ERRBODY_MAX) {
			memcpy(x->errbody + x->errlen, src, n);
			x->errlen += n;
			x->errbody[x->errlen] = '\0';
		}
		return n;
	}
	if (!x->checked) {
		x->resp->status = x->status;
		x->err = s3_http_check_answer(x);
		if (x->err)
			return 0;
	}
	/* a body without a length (chunked) is held to the range asked for, too */
	if (x->want_last >= 0 && x->body_len + n > (uint64_t)(x->want_last - x->want_first + 1)) {
		x->err = -EPROTO;
		return 0;
	}
	x->body_len += n;
	if (!s)
		return n;
	switch (s->kind) {
	case S3_SINK_DISCARD:
		break;
	case S3_SINK_MEM: {
		size_t cap = s->cap;

		x->err = mem_append(&s->mem, &s->len, &cap, src, n, S3_HTTP_MEM_MAX);
		s->cap = cap;
		if (x->err)
			return 0;
		return n;
	}
	case S3_SINK_BUF:
		if (s->len + n > s->cap) {
			x->err = -EOVERFLOW;
			return 0;
		}
		memcpy((char *)s->buf + s->len, src, n);
		break;
	case S3_SINK_FD:
		while (done < n) {
			w = pwrite(s->fd, src + done, n - done, s->off + (off_t)(s->len + done));
			if (w < 0) {
				x->err = -errno;
				return 0;
			}
			done += (size_t)w;
		}
		break;
	}
	s->len += n;
	return n;
}

long long s3_http_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* End an attempt that moved no byte, either way, for stall_ms (curl calls this >= 1/s). */
int s3_http_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = arg;
	long long now = s3_http_mono_ms();

	if (dlnow != x->p_dl || ulnow != x->p_ul) {
		x->p_dl = dlnow;
		x->p_ul = ulnow;
		x->p_ms = now;
		return 0;
	}
	if (now - x->p_ms < x->stall_ms)
		return 0;
	x->stalled = 1;
	return 1;
}

/* Copy the value of header line @line if it is @name, trimmed, into @out. */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name), i;

	if (len <= nl + 1 || strncasecmp(line, name, nl) || line[nl] != ':')
		return 0;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	i = len < size - 1 ? len : size - 1;
	memcpy(out, line, i);
	out[i] = '\0';
	return 1;
}

size_t s3_http_header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct s3_response *r = x->resp;
	size_t n = size * nmemb;
	char v[256];

	if (n >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* a new response (after a 100 Continue, say): forget the previous headers */
		r->content_length = -1;
		r->total_size = -1;
		r->range_first = r->range_last = -1;
		r->last_modified = 0;
		r->etag[0] = r->content_type[0] = '\0';
		r->meta_len = 0;
		r->meta[0] = '\0';
		x->checked = 0;
	} else if (n > 11 && !strncasecmp(line, "x-amz-meta-", 11)) {
		meta_add(r, line + 11, n - 11);
	} else if (header_value(line, n, "ETag", r->etag, sizeof(r->etag))) {
	} else if (header_value(line, n, "Content-Type", r->content_type,
				sizeof(r->content_type))) {
	} else if (header_value(line, n, "Content-Length", v, sizeof(v))) {
		if (s3_parse_size(v, &r->content_length)) {
			x->err = -EPROTO; /* aborts the transfer */
			return 0;
		}
		if (r->total_size < 0)
			r->total_size = r->content_length;
	} else if (header_value(line, n, "Content-Range", v, sizeof(v))) {
		off_t total;

		if (s3_parse_content_range(v, &r->range_first, &r->range_last, &total)) {
			x->err = -EPROTO;
			return 0;
		}
		if (total >= 0)
			r->total_size = total;
	} else if (header_value(line, n, "Last-Modified", v, sizeof(v))) {
		time_t t = curl_getdate(v, NULL);

		r->last_modified = t > 0 ? t : 0;
	}
	return n;
}

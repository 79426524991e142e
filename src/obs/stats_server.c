// SPDX-License-Identifier: GPL-2.0
/*
 * stats_server.c - serving a mount's stats: the unix socket `bpfuse stats`
 * reads, and the optional Prometheus endpoint on 127.0.0.1:metrics_port.
 *
 * One thread runs a poll(2) loop over both listeners and every open
 * connection, all non-blocking, so a client that sends nothing, reads
 * slowly or hangs up holds one slot and never holds up the others.  Each
 * connection has one deadline for its whole request and one for taking the
 * whole answer.  At the connection cap the connection that has waited
 * longest for its request is closed to make room, so idle connections can
 * never lock a scrape out.  Writes use MSG_NOSIGNAL: a client that hangs up
 * is an EPIPE for that connection, never a SIGPIPE for the daemon.
 *
 * HTTP: a request is read whole (request line and headers up to the blank
 * line, at most SRV_REQ_MAX bytes) before it is answered; GET and HEAD of
 * /metrics (or /) get the Prometheus text exposition, anything else one
 * status line.  Every answer carries Content-Length and "Connection: close";
 * after it the server shuts down its side and reads what the client still
 * sends until the client closes (a lingering close), so unread request bytes
 * never turn the end of the answer into a connection reset.
 */
#include "stats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define SRV_MAX_CONNS 32      /* open connections served at once */
#define SRV_REQ_MAX 8192      /* HTTP request line and headers; unix request line */
#define SRV_READ_MS 5000      /* to send the whole request */
#define SRV_WRITE_MS 10000    /* to take the whole answer */
#define SRV_DRAIN_MS 1000     /* to close after the answer */
#define SRV_BACKLOG 64

enum conn_state { CONN_FREE, CONN_READ, CONN_WRITE, CONN_DRAIN };

struct conn {
	enum conn_state state;
	int fd;
	int http;
	int64_t since_ms;     /* accepted at */
	int64_t deadline_ms;  /* of the current state */
	size_t req_len;
	char *req;            /* SRV_REQ_MAX + 1 bytes, while reading */
	char *out;            /* the answer, while writing */
	size_t out_len, out_off;
};

enum { L_UNIX, L_HTTP, L_NR };

struct stats_server {
	struct fs *fs;
	int listen_fd[L_NR];         /* -1 when off */
	int64_t paused_until_ms[L_NR]; /* after EMFILE: do not poll the listener */
	int wake[2];                 /* a pipe: stats_server_stop() closes its write end */
	pthread_t thread;
	int running;
	struct conn conns[SRV_MAX_CONNS];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->req);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = CONN_FREE;
}

/* Take @out (malloc'd, @len bytes) as the answer and start sending it. */
static void conn_answer(struct conn *c, char *out, size_t len)
{
	free(c->req);
	c->req = NULL;
	c->out = out;
	c->out_len = len;
	c->out_off = 0;
	c->state = CONN_WRITE;
	c->deadline_ms = now_ms() + SRV_WRITE_MS;
}

/* Render the stats in @fmt into a malloc'd buffer.  0 or -ENOMEM. */
static int render(struct fs *fs, enum stats_format fmt, char **buf, size_t *len)
{
	FILE *m;

	*buf = NULL;
	*len = 0;
	m = open_memstream(buf, len);
	if (!m)
		return -ENOMEM;
	stats_render(fs, fmt, m);
	if (fclose(m)) {
		free(*buf);
		*buf = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Header (and, unless @head_only, @body) as one malloc'd answer.  0 or -ENOMEM. */
static int http_build(struct conn *c, const char *status, const char *ctype, const char *extra,
		      const char *body, size_t blen, int head_only)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	if (!m)
		return -ENOMEM;
	fprintf(m, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		"Connection: close\r\n\r\n", status, ctype, blen, extra);
	if (!head_only)
		fwrite(body, 1, blen, m);
	if (fclose(m)) {
		free(out);
		return -ENOMEM;
	}
	conn_answer(c, out, len);
	return 0;
}

static int http_error(struct conn *c, const char *status, const char *extra)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	return http_build(c, status, "text/plain; charset=utf-8", extra, body, (size_t)n, 0);
}

/*
 * Answer the complete request in c->req.  Only the request line matters:
 * the headers (Accept, User-Agent, X-Prometheus-Scrape-Timeout-Seconds, ...)
 * change nothing, the text format 0.0.4 is what every Prometheus accepts.
 */
static int http_answer(struct stats_server *srv, struct conn *c)
{
	char *line = c->req, *eol, *method, *target, *version, *save, *body;
	size_t blen;
	int head, err;

	eol = strpbrk(line, "\r\n");
	if (eol)
		*eol = '\0';
	method = strtok_r(line, " ", &save);
	target = method ? strtok_r(NULL, " ", &save) : NULL;
	version = target ? strtok_r(NULL, " ", &save) : NULL;
	if (!version || strtok_r(NULL, " ", &save) || strncmp(version, "HTTP/1.", 7) ||
	    target[0] != '/')
		return http_error(c, "400 Bad Request", "");
	head = !strcmp(method, "HEAD");
	if (!head && strcmp(method, "GET"))
		return http_error(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n");
	target[strcspn(target, "?#")] = '\0';
	if (strcmp(target, "/metrics") && strcmp(target, "/"))
		return http_error(c, "404 Not Found", "");
	err = render(srv->fs, STATS_PROMETHEUS, &body, &blen);
	if (err)
		return http_error(c, "500 Internal Server Error", "");
	err = http_build(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", "", body, blen,
			 head);
	free(body);
	return err;
}

/* The unix socket: one line naming the format ("json", "prometheus", else a table). */
static int unix_answer(struct stats_server *srv, struct conn *c)
{
	enum stats_format fmt = STATS_TABLE;
	char *out;
	size_t len;
	int err;

	if (!strncmp(c->req, "json", 4))
		fmt = STATS_JSON;
	else if (!strncmp(c->req, "prometheus", 10))
		fmt = STATS_PROMETHEUS;
	err = render(srv->fs, fmt, &out, &len);
	if (err)
		return err;
	conn_answer(c, out, len);
	return 0;
}

/* Is the request in c->req complete?  HTTP: up to a blank line; unix: one line. */
static int request_complete(const struct conn *c)
{
	if (!c->http)
		return memchr(c->req, '\n', c->req_len) != NULL;
	return strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n");
}

static void conn_read(struct stats_server *srv, struct conn *c)
{
	ssize_t n;
	int err;

	for (;;) {
		if (c->req_len >= SRV_REQ_MAX) {
			/* past the limit with no end of the headers in sight */
			if (!c->http || http_error(c, "431 Request Header Fields Too Large", ""))
				conn_close(c);
			return;
		}
		n = recv(c->fd, c->req + c->req_len, SRV_REQ_MAX - c->req_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && (c->http || !c->req_len))) {
			/* gone, or half a request and no more coming */
			conn_close(c);
			return;
		}
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
		/* a NUL inside stops the string functions: treat it as the end */
		if (n == 0 || request_complete(c) || strlen(c->req) < c->req_len)
			break;
	}
	err = c->http ? http_answer(srv, c) : unix_answer(srv, c);
	if (err)
		conn_close(c);
}

static void conn_write(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn_close(c); /* EPIPE, ECONNRESET: the client left */
			return;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAIN;
	c->deadline_ms = now_ms() + SRV_DRAIN_MS;
}

static void conn_drain(struct conn *c)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		conn_close(c); /* EOF or an error: done */
		return;
	}
}

/* A free slot, making one by closing the oldest connection still reading. */
static struct conn *conn_slot(struct stats_server *srv)
{
	struct conn *oldest = NULL;
	int i;

	for (i = 0; i < SRV_MAX_CONNS; i++) {
		struct conn *c = &srv->conns[i];

		if (c->state == CONN_FREE)
			return c;
		if (c->state == CONN_READ && (!oldest || c->since_ms < oldest->since_ms))
			oldest = c;
	}
	if (oldest)
		conn_close(oldest);
	return oldest;
}

static void accept_all(struct stats_server *srv, int l)
{
	struct conn *c;
	int i, fd;

	for (i = 0; i < SRV_BACKLOG; i++) {
		fd = accept4(srv->listen_fd[l], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				srv->paused_until_ms[l] = now_ms() + 100;
			return; /* EAGAIN, or try again on the next round */
		}
		c = conn_slot(srv);
		if (!c) {
			close(fd); /* every slot is sending an answer */
			continue;
		}
		c->req = malloc(SRV_REQ_MAX + 1);
		if (!c->req) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->http = l == L_HTTP;
		c->state = CONN_READ;
		c->req_len = 0;
		c->since_ms = now_ms();
		c->deadline_ms = c->since_ms + SRV_READ_MS;
	}
}

static void *server_loop(void *arg)
{
	struct stats_server *srv = arg;
	struct pollfd pfd[1 + L_NR + SRV_MAX_CONNS];
	struct conn *who[SRV_MAX_CONNS];
	int l, i, n, nl, nc, timeout;
	int64_t now, next;

	for (;;) {
		now = now_ms();
		next = now + 60000;
		n = 0;
		pfd[n++] = (struct pollfd){ .fd = srv->wake[0], .events = POLLIN };
		for (l = 0; l < L_NR; l++) {
			int paused = srv->paused_until_ms[l] > now;

			pfd[n++] = (struct pollfd){ .fd = paused ? -1 : srv->listen_fd[l],
						    .events = POLLIN };
			if (paused && srv->paused_until_ms[l] < next)
				next = srv->paused_until_ms[l];
		}
		nl = n;
		nc = 0;
		for (i = 0; i < SRV_MAX_CONNS; i++) {
			struct conn *c = &srv->conns[i];

			if (c->state == CONN_FREE)
				continue;
			if (c->deadline_ms <= now) {
				conn_close(c); /* too slow: give the slot back */
				continue;
			}
			if (c->deadline_ms < next)
				next = c->deadline_ms;
			who[nc++] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
						    .events = c->state == CONN_WRITE ? POLLOUT :
										      POLLIN };
		}
		timeout = (int)(next - now);
		if (poll(pfd, (nfds_t)n, timeout < 0 ? 0 : timeout) < 0) {
			if (errno == EINTR)
				continue;
			pr_warn("stats server stopped: poll: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents)
			break; /* stats_server_stop() */
		for (i = 0; i < nc; i++) {
			struct conn *c = who[i];

			if (!pfd[nl + i].revents)
				continue;
			if (c->state == CONN_READ)
				conn_read(srv, c);
			else if (c->state == CONN_WRITE)
				conn_write(c);
			else if (c->state == CONN_DRAIN)
				conn_drain(c);
		}
		/* after serving: accepting may close the oldest reading connection */
		for (l = 0; l < L_NR; l++)
			if (pfd[1 + l].revents & POLLIN)
				accept_all(srv, l);
	}
	for (i = 0; i < SRV_MAX_CONNS; i++)
		if (srv->conns[i].state != CONN_FREE)
			conn_close(&srv->conns[i]);
	return NULL;
}

/*
 * The stats socket at @path, mode 0600 from the moment it exists: bind(2)
 * gives the new inode the socket's own mode less the umask, and the daemon
 * runs with umask 0, so the mode is set on the socket before it is bound
 * (a chmod after bind would leave it world-writable for a moment).
 */
static int listen_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600)) {
		err = -errno;
		goto out_close;
	}
	if (unlink(path) && errno != ENOENT) {
		err = -errno;
		goto out_close;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, SRV_BACKLOG)) {
		err = -errno;
		goto out_close;
	}
	return fd;
out_close:
	close(fd);
	return err;
}

int stats_listen_metrics(unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, SRV_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int stats_server_start(struct fs *fs, const char *path, int metrics_fd, struct stats_server **out)
{
	struct stats_server *srv;
	int i, err;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		if (metrics_fd >= 0)
			close(metrics_fd);
		return -ENOMEM;
	}
	srv->fs = fs;
	srv->wake[0] = srv->wake[1] = -1;
	for (i = 0; i < L_NR; i++)
		srv->listen_fd[i] = -1;
	srv->listen_fd[L_HTTP] = metrics_fd;
	for (i = 0; i < SRV_MAX_CONNS; i++)
		srv->conns[i].fd = -1;
	if (pipe2(srv->wake, O_CLOEXEC)) {
		err = -errno;
		goto out_free;
	}
	err = listen_unix(path);
	if (err < 0)
		goto out_free;
	srv->listen_fd[L_UNIX] = err;
	err = -pthread_create(&srv->thread, NULL, server_loop, srv);
	if (err)
		goto out_unlink;
	srv->running = 1;
	*out = srv;
	return 0;
out_unlink:
	unlink(path);
out_free:
	stats_server_stop(srv);
	return err;
}

void stats_server_stop(struct stats_server *srv)
{
	int i;

	if (!srv)
		return;
	if (srv->wake[1] >= 0)
		close(srv->wake[1]); /* the loop sees POLLHUP on the read end */
	if (srv->running)
		pthread_join(srv->thread, NULL);
	if (srv->wake[0] >= 0)
		close(srv->wake[0]);
	for (i = 0; i < L_NR; i++)
		if (srv->listen_fd[i] >= 0)
			close(srv->listen_fd[i]);
	free(srv);
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int stats_fetch(const char *path, enum stats_format fmt, FILE *out)
{
	static const char *const req[] = { "table\n", "json\n", "prometheus\n" };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = SRV_WRITE_MS / 1000 };
	char buf[4096];
	ssize_t n;
	int fd, err = 0;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		goto out;
	}
	err = send_all(fd, req[fmt], strlen(req[fmt]));
	if (err)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	if (n < 0)
		err = -errno;
out:
	close(fd);
	return err;
}

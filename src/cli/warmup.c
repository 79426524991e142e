// SPDX-License-Identifier: GPL-2.0
/*
 * warmup.c - prefetch files into a mount's cache by reading them through the mount.
 *
 * Reading through the mount (rather than asking the daemon) keeps one code path for the
 * data: the daemon fetches, checksums and stores each part as for any reader, and the next
 * open of a complete object goes through passthrough.  Files are read by a few threads at
 * once, each sequentially, so the daemon's readahead stays at its widest.
 */
#include "warmup.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mountinfo.h"

#define WARMUP_BUF (1u << 20)

struct wfile {
	char *path;
	uint64_t size;
};

static struct {
	struct wfile *f;
	size_t n, cap;
	uint64_t total;
} list;

static struct {
	pthread_mutex_t lock;
	size_t next;            /* next file to hand out */
	uint64_t files_done;    /* atomic */
	uint64_t bytes_done;    /* atomic */
	uint64_t failed;        /* atomic */
} work = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int add_file(const char *path, uint64_t size)
{
	if (list.n == list.cap) {
		size_t cap = list.cap ? list.cap * 2 : 256;
		struct wfile *p = realloc(list.f, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		list.f = p;
		list.cap = cap;
	}
	list.f[list.n].path = strdup(path);
	if (!list.f[list.n].path)
		return -ENOMEM;
	list.f[list.n++].size = size;
	list.total += size;
	return 0;
}

static int walk_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_F && S_ISREG(st->st_mode))
		return add_file(path, (uint64_t)st->st_size) ? FTW_STOP : FTW_CONTINUE;
	if (type == FTW_DNR || type == FTW_NS) {
		pr_err("cannot read '%s'", path);
		__atomic_add_fetch(&work.failed, 1, __ATOMIC_RELAXED);
	}
	return FTW_CONTINUE;
}

static int add_path(const char *mnt, const char *p)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", p[0] == '/' ? "" : mnt,
			     p[0] == '/' ? "" : "/", p) >= sizeof(path)) {
		pr_err("path too long: '%s'", p);
		return -ENAMETOOLONG;
	}
	if (stat(path, &st)) {
		int err = -errno;

		pr_err("cannot warm up '%s': %s", path, strerror(-err));
		return err;
	}
	if (S_ISDIR(st.st_mode))
		return nftw(path, walk_cb, 64, FTW_PHYS | FTW_ACTIONRETVAL) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return 0;
	return add_file(path, (uint64_t)st.st_size);
}

static void *reader(void *arg)
{
	char *buf = malloc(WARMUP_BUF);

	(void)arg;
	if (!buf)
		return NULL;
	for (;;) {
		struct wfile *f;
		ssize_t n;
		int fd;

		pthread_mutex_lock(&work.lock);
		f = work.next < list.n ? &list.f[work.next++] : NULL;
		pthread_mutex_unlock(&work.lock);
		if (!f)
			break;
		fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			pr_err("cannot open '%s': %s", f->path, strerror(errno));
			__atomic_add_fetch(&work.failed, 1, __ATOMIC_RELAXED);
			continue;
		}
		while ((n = read(fd, buf, WARMUP_BUF)) > 0)
			__atomic_add_fetch(&work.bytes_done, (uint64_t)n, __ATOMIC_RELAXED);
		if (n < 0) {
			pr_err("cannot read '%s': %s", f->path, strerror(errno));
			__atomic_add_fetch(&work.failed, 1, __ATOMIC_RELAXED);
		}
		close(fd);
		__atomic_add_fetch(&work.files_done, 1, __ATOMIC_RELAXED);
	}
	free(buf);
	return NULL;
}

static void progress(double t0, int final)
{
	uint64_t b = __atomic_load_n(&work.bytes_done, __ATOMIC_RELAXED);
	uint64_t f = __atomic_load_n(&work.files_done, __ATOMIC_RELAXED);
	double frac = list.total ? (double)b / (double)list.total : (list.n ? (double)f / list.n : 1);
	double dt = now_s() - t0;
	char bar[41];
	int i, w;

	if (frac > 1)
		frac = 1;
	w = (int)(frac * 40);
	for (i = 0; i < 40; i++)
		bar[i] = i < w ? '#' : '-';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %3.0f%% %zu/%zu files %.1f/%.1f MiB %.1f MB/s%s", bar,
		frac * 100, (size_t)f, list.n, b / 1048576.0, list.total / 1048576.0,
		dt > 0 ? b / dt / 1e6 : 0.0, final ? "\n" : "");
	fflush(stderr);
}

int warmup_run(const char *mnt, char *const *paths, int npaths, const char *listfile,
	       int threads)
{
	pthread_t tid[64];
	int i, nt = 0, tty = isatty(2), err = 0;
	double t0, dt;
	char real[PATH_MAX];

	if (!realpath(mnt, real)) {
		pr_err("cannot resolve mountpoint '%s': %s", mnt, strerror(errno));
		return 1;
	}
	if (mountinfo_is_bpfuse(real) <= 0) {
		pr_err("'%s' is not a bpfuse mount", real);
		return 1;
	}
	for (i = 0; i < npaths && !err; i++)
		err = add_path(real, paths[i]);
	if (!err && listfile) {
		FILE *f = strcmp(listfile, "-") ? fopen(listfile, "r") : stdin;
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		if (!f) {
			pr_err("cannot open list '%s': %s", listfile, strerror(errno));
			return 1;
		}
		while (!err && (n = getline(&line, &cap, f)) > 0) {
			while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			if (n && line[0] != '#')
				err = add_path(real, line);
		}
		free(line);
		if (f != stdin)
			fclose(f);
	}
	if (err)
		return 1;
	if (threads < 1)
		threads = 1;
	if (threads > 64)
		threads = 64;
	t0 = now_s();
	for (i = 0; i < threads && (size_t)i < list.n; i++)
		if (!pthread_create(&tid[nt], NULL, reader, NULL))
			nt++;
	if (!nt && list.n)
		reader(NULL);
	while (tty && __atomic_load_n(&work.files_done, __ATOMIC_RELAXED) < list.n) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };

		progress(t0, 0);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	if (tty)
		progress(t0, 1);
	dt = now_s() - t0;
	printf("warmup: %zu files, %llu bytes, %.2f s, %.1f MB/s%s\n", list.n,
	       (unsigned long long)work.bytes_done, dt, dt > 0 ? work.bytes_done / dt / 1e6 : 0.0,
	       work.failed ? " (some files failed)" : "");
	for (i = 0; (size_t)i < list.n; i++)
		free(list.f[i].path);
	free(list.f);
	return work.failed ? 1 : 0;
}

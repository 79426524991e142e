// SPDX-License-Identifier: GPL-2.0
/*
 * vmbench: the timed workloads of bench/vm_hook.sh, run inside the qemu guest
 * (busybox only, no fio or python there).  Built statically on the host.
 *
 *   vmbench mkdata DIR STAT_DIRS STAT_PER_DIR SMALL_FILES SMALL_BYTES BIG_MIB
 *       DIR/stat/dNN/fNNNNN  STAT_DIRS x STAT_PER_DIR empty files
 *       DIR/small/sNNNNN     SMALL_FILES files of SMALL_BYTES (header "sNNNNN")
 *       DIR/big              BIG_MIB MiB; every 4 KiB block starts with its
 *                            block number (u64), so reads can be checked
 *   vmbench stat DIR STAT_DIRS STAT_PER_DIR
 *       stat(2) of every DIR/stat file once; primary: seconds
 *   vmbench reread DIR SMALL_FILES SMALL_BYTES PASSES
 *       PASSES x (open, read to EOF, close) of every DIR/small file, more
 *       passes until MIN_TIMED_S has passed; primary: files_per_s
 *   vmbench loop DIR REF PASSES
 *       a data loader's loop: PASSES x (open, fstat, read to EOF, close) of
 *       DIR/NAME for every regular file NAME of REF (sorted), each checked
 *       against REF/NAME (size from fstat and every byte; REF is read once
 *       first, e.g. the source directory behind a mount), more passes until
 *       MIN_TIMED_S has passed; primary: files_per_s
 *   vmbench randread FILE NREADS SEED DROP
 *       one open; DROP=1: POSIX_FADV_DONTNEED on it first (drops this
 *       file's page cache: on a FUSE mount only the FUSE file's pages, the
 *       source's stay; "fadv_dontneed": -1 if it failed); POSIX_FADV_RANDOM; NREADS 4 KiB preads at
 *       pseudo-random block offsets (xorshift, SEED: the same offsets in
 *       every configuration), each checked, more until MIN_TIMED_S has
 *       passed; primary: iops
 *   vmbench clock
 *       the smallest step of CLOCK_MONOTONIC seen (the guest's timer
 *       resolution: a jiffies clock source would step by 4 ms)
 *
 * Every timed command prints one JSON object on stdout, the format of the
 * host suite's workloads: {"primary", "unit", "higher_is_better", "metrics"}.
 * The guest's clock may step by a jiffy (4 ms): the rates are timed over at
 * least MIN_TIMED_S, and a rate over no measurable time is null, never inf
 * (which is not JSON).
 * Exit status 1 (message on stderr) on any error or wrong data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLK 4096
#define MIN_TIMED_S 0.1 /* 25 jiffies at HZ=250 */

static void die(const char *what, const char *path)
{
	fprintf(stderr, "vmbench: %s %s: %s\n", what, path ? path : "", strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "%.1f" of @n / @s, or null when @s is below the clock's resolution */
static const char *rate(char *buf, size_t len, double n, double s)
{
	if (s > 0)
		snprintf(buf, len, "%.1f", n / s);
	else
		snprintf(buf, len, "null");
	return buf;
}

static long arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "vmbench: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void xmkdir(const char *p)
{
	if (mkdir(p, 0755) && errno != EEXIST)
		die("mkdir", p);
}

static void write_all(int fd, const char *buf, size_t n, const char *p)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0)
			die("write", p);
		buf += w;
		n -= (size_t)w;
	}
}

static int mkdata(const char *dir, long sdirs, long sper, long nsmall, long sbytes, long big_mib)
{
	char p[4096], *buf;
	long d, i;
	int fd;

	buf = calloc(1, sbytes > BLK ? (size_t)sbytes : BLK);
	if (!buf)
		die("calloc", NULL);
	xmkdir(dir);
	snprintf(p, sizeof(p), "%s/stat", dir);
	xmkdir(p);
	for (d = 0; d < sdirs; d++) {
		snprintf(p, sizeof(p), "%s/stat/d%02ld", dir, d);
		xmkdir(p);
		for (i = 0; i < sper; i++) {
			snprintf(p, sizeof(p), "%s/stat/d%02ld/f%05ld", dir, d, i);
			fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0)
				die("create", p);
			close(fd);
		}
	}
	snprintf(p, sizeof(p), "%s/small", dir);
	xmkdir(p);
	for (i = 0; i < nsmall; i++) {
		snprintf(p, sizeof(p), "%s/small/s%05ld", dir, i);
		memset(buf, 'a' + (int)(i % 26), (size_t)sbytes);
		memcpy(buf, p + strlen(p) - 6, sbytes >= 6 ? 6 : (size_t)sbytes);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("create", p);
		write_all(fd, buf, (size_t)sbytes, p);
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/big", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create", p);
	for (i = 0; i < big_mib * (1024 * 1024 / BLK); i++) {
		uint64_t b = (uint64_t)i;

		memset(buf, (int)(i & 0xff), BLK);
		memcpy(buf, &b, sizeof(b));
		write_all(fd, buf, BLK, p);
	}
	if (fsync(fd))
		die("fsync", p);
	close(fd);
	free(buf);
	return 0;
}

static int stat_storm(const char *dir, long sdirs, long sper)
{
	char p[4096], r1[32];
	struct stat st;
	long d, i, n = 0;
	double t0, s;

	t0 = now();
	for (d = 0; d < sdirs; d++)
		for (i = 0; i < sper; i++) {
			snprintf(p, sizeof(p), "%s/stat/d%02ld/f%05ld", dir, d, i);
			if (stat(p, &st))
				die("stat", p);
			if (!S_ISREG(st.st_mode) || st.st_size != 0) {
				fprintf(stderr, "vmbench: %s: wrong attributes\n", p);
				return 1;
			}
			n++;
		}
	s = now() - t0;
	printf("{\"primary\": \"seconds\", \"unit\": \"s\", \"higher_is_better\": false, "
	       "\"metrics\": {\"seconds\": %.6f, \"files\": %ld, \"stats_per_s\": %s}}\n",
	       s, n, rate(r1, sizeof(r1), n, s));
	return 0;
}

static int reread(const char *dir, long nsmall, long sbytes, long passes)
{
	char p[4096], r1[32], r2[32], *buf;
	long k, i, n = 0;
	double t0, s;

	buf = malloc((size_t)sbytes + BLK);
	if (!buf)
		die("malloc", NULL);
	t0 = now();
	for (k = 0; k < passes || now() - t0 < MIN_TIMED_S; k++)
		for (i = 0; i < nsmall; i++) {
			ssize_t r, got = 0;
			int fd;

			snprintf(p, sizeof(p), "%s/small/s%05ld", dir, i);
			fd = open(p, O_RDONLY);
			if (fd < 0)
				die("open", p);
			while ((r = read(fd, buf + got, (size_t)sbytes + BLK - (size_t)got)) > 0)
				got += r;
			if (r < 0)
				die("read", p);
			close(fd);
			if (got != sbytes || (sbytes >= 6 && memcmp(buf, p + strlen(p) - 6, 6))) {
				fprintf(stderr, "vmbench: %s: wrong content (%zd bytes)\n", p, got);
				return 1;
			}
			n++;
		}
	s = now() - t0;
	printf("{\"primary\": \"files_per_s\", \"unit\": \"files/s\", \"higher_is_better\": true, "
	       "\"metrics\": {\"files_per_s\": %s, \"seconds\": %.6f, \"files\": %ld, "
	       "\"mib_per_s\": %s}}\n", rate(r1, sizeof(r1), n, s), s, n,
	       rate(r2, sizeof(r2), n * (double)sbytes / 1048576.0, s));
	free(buf);
	return 0;
}

struct ref_file {
	char *name;
	char *data;
	size_t size;
};

static char *read_whole(const char *p, size_t *size)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t got = 0;
	int fd = open(p, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die("open", p);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		die("malloc", NULL);
	while ((r = read(fd, buf + got, (size_t)st.st_size + 1 - got)) > 0)
		got += (size_t)r;
	if (r < 0 || got != (size_t)st.st_size)
		die("read", p);
	close(fd);
	*size = got;
	return buf;
}

static int only_files(const struct dirent *d)
{
	return d->d_type == DT_REG;
}

static int loop(const char *dir, const char *ref, long passes)
{
	char p[4096], r1[32], r2[32], *buf;
	struct dirent **ents;
	struct ref_file *f;
	size_t cap = 0, bytes = 0;
	long k, i, n = 0;
	int nf, fd;
	double t0, s;

	nf = scandir(ref, &ents, only_files, alphasort);
	if (nf <= 0)
		die("scandir (no regular file)", ref);
	f = calloc((size_t)nf, sizeof(*f));
	if (!f)
		die("malloc", NULL);
	for (i = 0; i < nf; i++) {
		snprintf(p, sizeof(p), "%s/%s", ref, ents[i]->d_name);
		f[i].name = ents[i]->d_name;
		f[i].data = read_whole(p, &f[i].size);
		if (f[i].size + 1 > cap)
			cap = f[i].size + 1;
	}
	buf = malloc(cap);
	if (!buf)
		die("malloc", NULL);
	t0 = now();
	for (k = 0; k < passes || now() - t0 < MIN_TIMED_S; k++)
		for (i = 0; i < nf; i++) {
			struct stat st;
			size_t got = 0;
			ssize_t r;

			snprintf(p, sizeof(p), "%s/%s", dir, f[i].name);
			fd = open(p, O_RDONLY);
			if (fd < 0)
				die("open", p);
			if (fstat(fd, &st))
				die("fstat", p);
			while ((r = read(fd, buf + got, cap - got)) > 0)
				got += (size_t)r;
			if (r < 0)
				die("read", p);
			close(fd);
			if ((size_t)st.st_size != f[i].size || got != f[i].size ||
			    memcmp(buf, f[i].data, got)) {
				fprintf(stderr, "vmbench: %s: fstat size %lld, %zu bytes read, "
					"%zu bytes in %s/%s%s\n", p, (long long)st.st_size, got,
					f[i].size, ref, f[i].name,
					got == f[i].size ? " (content differs)" : "");
				return 1;
			}
			n++;
			bytes += got;
		}
	s = now() - t0;
	printf("{\"primary\": \"files_per_s\", \"unit\": \"files/s\", \"higher_is_better\": true, "
	       "\"metrics\": {\"files_per_s\": %s, \"seconds\": %.6f, \"files\": %ld, "
	       "\"distinct_files\": %d, \"mib_per_s\": %s}}\n", rate(r1, sizeof(r1), n, s), s, n,
	       nf, rate(r2, sizeof(r2), (double)bytes / 1048576.0, s));
	return 0;
}

static int randread(const char *path, long nreads, long seed, long drop)
{
	char buf[BLK] __attribute__((aligned(64))), r1[32];
	uint64_t x = (uint64_t)seed * 2654435761u + 88172645463325252ull, blocks;
	struct stat st;
	double t0, s;
	long i;
	int fd;

	if (nreads <= 0) {
		fprintf(stderr, "vmbench: NREADS must be positive\n");
		return 1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die("open", path);
	blocks = (uint64_t)st.st_size / BLK;
	if (!blocks) {
		fprintf(stderr, "vmbench: %s is empty\n", path);
		return 1;
	}
	/* best effort: FUSE may refuse (an open without keep_cache dropped the
	 * FUSE file's pages already); the JSON says whether it worked */
	if (drop && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		drop = -1;
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	t0 = now();
	/* the clock is read once per NREADS (a syscall per read on a jiffies clock) */
	for (i = 0; i < nreads || (i % nreads) || now() - t0 < MIN_TIMED_S; i++) {
		uint64_t b, got;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b = x % blocks;
		if (pread(fd, buf, BLK, (off_t)(b * BLK)) != BLK)
			die("pread", path);
		memcpy(&got, buf, sizeof(got));
		if (got != b) {
			fprintf(stderr, "vmbench: %s block %llu holds block %llu\n", path,
				(unsigned long long)b, (unsigned long long)got);
			return 1;
		}
	}
	s = now() - t0;
	close(fd);
	printf("{\"primary\": \"iops\", \"unit\": \"IOPS\", \"higher_is_better\": true, "
	       "\"metrics\": {\"iops\": %s, \"seconds\": %.6f, \"reads\": %ld, "
	       "\"file_mib\": %.1f, \"fadv_dontneed\": %ld}}\n",
	       rate(r1, sizeof(r1), (double)i, s), s, i, st.st_size / 1048576.0, drop);
	return 0;
}

static int clock_step(void)
{
	double best = 1, t, u;
	int i;

	for (i = 0; i < 20; i++) {
		t = now();
		while ((u = now()) == t)
			;
		if (u - t < best)
			best = u - t;
	}
	printf("%.9f\n", best);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "mkdata") && argc == 8)
		return mkdata(argv[2], arg(argv[3]), arg(argv[4]), arg(argv[5]), arg(argv[6]),
			      arg(argv[7]));
	if (!strcmp(cmd, "clock") && argc == 2)
		return clock_step();
	if (!strcmp(cmd, "stat") && argc == 5)
		return stat_storm(argv[2], arg(argv[3]), arg(argv[4]));
	if (!strcmp(cmd, "loop") && argc == 5)
		return loop(argv[2], argv[3], arg(argv[4]));
	if (!strcmp(cmd, "reread") && argc == 6)
		return reread(argv[2], arg(argv[3]), arg(argv[4]), arg(argv[5]));
	if (!strcmp(cmd, "randread") && argc == 6)
		return randread(argv[2], arg(argv[3]), arg(argv[4]), arg(argv[5]));
	fprintf(stderr, "usage: vmbench mkdata DIR STAT_DIRS STAT_PER_DIR SMALL_FILES SMALL_BYTES BIG_MIB\n"
			"       vmbench stat DIR STAT_DIRS STAT_PER_DIR\n"
			"       vmbench reread DIR SMALL_FILES SMALL_BYTES PASSES\n"
			"       vmbench loop DIR REF PASSES\n"
			"       vmbench randread FILE NREADS SEED DROP\n"
			"       vmbench clock\n");
	return 2;
}

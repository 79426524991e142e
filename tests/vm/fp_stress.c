// SPDX-License-Identifier: GPL-2.0
/*
 * fp_stress: a concurrency stress of a bpfuse mount with the in-kernel fast
 * path (tests/vm/cases/30-stress.sh).  Readers stat, open, read and fstat
 * files (holding descriptors across iterations) while mutators unlink and
 * recreate, rename, truncate and chmod them through the mount and the kernel
 * drops its caches (FORGET).  Asserted:
 * - no system call on the mount fails with ESTALE or EIO (ENOENT is allowed:
 *   names come and go);
 * - a name that is always a regular file never stats as anything else, and
 *   the one directory never as anything but a directory (a reply mixing two
 *   nodes' attributes would);
 * - once the mutators stopped, every name through the mount matches the
 *   source (exists or not, type, size, mode, nlink): nothing stale stays in
 *   the maps, which have no timeouts.
 * Prints "ok N - ..." / "not ok N - ..." lines; exit 0 if all passed.
 *
 * Usage: fp_stress SOURCE_DIR MOUNT_DIR SECONDS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAP_PROG "fp_stress"
#include "tap.h"

#define NFILES 32
#define NREADERS 4
#define NHELD 8

static const char *src, *mnt;
static int stop;                   /* atomic */
static unsigned long bad_errno;    /* atomic: ESTALE/EIO seen */
static unsigned long bad_type;     /* atomic: wrong file type seen */
static unsigned long ops;          /* atomic */

static void note_err(const char *what, const char *path, int err)
{
	if (err == ESTALE || err == EIO) {
		if (__atomic_add_fetch(&bad_errno, 1, __ATOMIC_RELAXED) <= 10)
			fprintf(stderr, "fp_stress: %s '%s': %s\n", what, path, strerror(err));
	}
}

static unsigned int rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return (*seed >> 16) & 0x7fff;
}

static void path_of(char *buf, size_t len, const char *root, const char *fmt, int i)
{
	char name[64];

	snprintf(name, sizeof(name), fmt, i);
	snprintf(buf, len, "%s/%s", root, name);
}

static void *reader(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919 + 1;
	int held[NHELD], i;
	char buf[8192], p[4096];

	for (i = 0; i < NHELD; i++)
		held[i] = -1;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int k = (int)(rnd(&seed) % NFILES), slot = (int)(rnd(&seed) % NHELD), fd;
		struct stat st;

		__atomic_add_fetch(&ops, 1, __ATOMIC_RELAXED);
		path_of(p, sizeof(p), mnt, rnd(&seed) & 1 ? "f%d" : "g%d", k);
		if (stat(p, &st) == 0) {
			if (!S_ISREG(st.st_mode) &&
			    __atomic_add_fetch(&bad_type, 1, __ATOMIC_RELAXED) <= 10)
				fprintf(stderr, "fp_stress: '%s' has mode 0%o\n", p, st.st_mode);
		} else {
			note_err("stat", p, errno);
		}
		path_of(p, sizeof(p), mnt, "dir/x%d", 0);
		if (stat(p, &st) == 0) {
			if (!S_ISREG(st.st_mode))
				__atomic_add_fetch(&bad_type, 1, __ATOMIC_RELAXED);
		} else {
			note_err("stat", p, errno);
		}
		snprintf(p, sizeof(p), "%s/dir", mnt);
		if (stat(p, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				__atomic_add_fetch(&bad_type, 1, __ATOMIC_RELAXED);
		} else {
			note_err("stat", p, errno);
		}

		path_of(p, sizeof(p), mnt, "f%d", k);
		fd = open(p, O_RDONLY);
		if (fd < 0) {
			note_err("open", p, errno);
			continue;
		}
		if (read(fd, buf, sizeof(buf)) < 0)
			note_err("read", p, errno);
		if (fstat(fd, &st))
			note_err("fstat", p, errno);
		/* hold it across iterations: reads of a held fd after unlink/rename/truncate */
		if (held[slot] >= 0) {
			if (pread(held[slot], buf, sizeof(buf), 0) < 0)
				note_err("pread of a held fd", p, errno);
			if (fstat(held[slot], &st))
				note_err("fstat of a held fd", p, errno);
			close(held[slot]);
		}
		held[slot] = fd;
	}
	for (i = 0; i < NHELD; i++)
		if (held[i] >= 0)
			close(held[i]);
	return NULL;
}

static int write_file(const char *p, size_t len, mode_t mode)
{
	char buf[4096];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -errno;
	memset(buf, 'a' + (int)(len % 26), sizeof(buf));
	n = write(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
	close(fd);
	return n < 0 ? -errno : 0;
}

enum { M_RECREATE, M_RENAME, M_TRUNCATE, M_CHMOD, M_NR };

/* each mutator owns a quarter of the files, so their end states are defined */
static void *mutator(void *arg)
{
	int kind = (int)(uintptr_t)arg;
	unsigned int seed = (unsigned int)kind * 104729 + 3;
	char p[4096], q[4096];

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int k = kind * (NFILES / M_NR) + (int)(rnd(&seed) % (NFILES / M_NR));

		__atomic_add_fetch(&ops, 1, __ATOMIC_RELAXED);
		path_of(p, sizeof(p), mnt, "f%d", k);
		switch (kind) {
		case M_RECREATE:
			if (unlink(p) && errno != ENOENT)
				note_err("unlink", p, errno);
			if (write_file(p, rnd(&seed) % 4000, 0644) == -EIO)
				note_err("create", p, EIO);
			break;
		case M_RENAME:
			path_of(q, sizeof(q), mnt, "g%d", k);
			if (rename(p, q))
				note_err("rename", p, errno);
			if (rename(q, p))
				note_err("rename back", q, errno);
			break;
		case M_TRUNCATE:
			if (truncate(p, rnd(&seed) % 5000))
				note_err("truncate", p, errno);
			break;
		case M_CHMOD:
			if (chmod(p, rnd(&seed) & 1 ? 0600 : 0644))
				note_err("chmod", p, errno);
			break;
		}
	}
	return NULL;
}

static void *dropper(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

		if (fd >= 0) {
			if (write(fd, "3", 1) < 0)
				perror("drop_caches");
			close(fd);
		}
		usleep(200 * 1000);
	}
	return NULL;
}

/* The mount agrees with the source about @name. */
static int agrees(const char *fmt, int i)
{
	char a[4096], b[4096];
	struct stat sa, sb;
	int ea, eb;

	path_of(a, sizeof(a), mnt, fmt, i);
	path_of(b, sizeof(b), src, fmt, i);
	ea = lstat(a, &sa) ? errno : 0;
	eb = lstat(b, &sb) ? errno : 0;
	if (ea || eb) {
		if (ea != eb)
			fprintf(stderr, "fp_stress: '%s': mount %s, source %s\n", a, strerror(ea),
				strerror(eb));
		return ea == eb;
	}
	if (sa.st_mode != sb.st_mode || sa.st_size != sb.st_size || sa.st_nlink != sb.st_nlink) {
		fprintf(stderr, "fp_stress: '%s': mount mode 0%o size %lld nlink %lu, source "
			"0%o %lld %lu\n", a, sa.st_mode, (long long)sa.st_size,
			(unsigned long)sa.st_nlink, sb.st_mode, (long long)sb.st_size,
			(unsigned long)sb.st_nlink);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	pthread_t rd[NREADERS], mu[M_NR], dr;
	int secs, i, wrong = 0;
	char p[4096];

	if (argc != 4) {
		fprintf(stderr, "usage: fp_stress SOURCE_DIR MOUNT_DIR SECONDS\n");
		return 2;
	}
	src = argv[1];
	mnt = argv[2];
	secs = atoi(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < NFILES; i++) {
		path_of(p, sizeof(p), mnt, "f%d", i);
		if (write_file(p, 100 + (size_t)i, 0644)) {
			fprintf(stderr, "fp_stress: cannot create '%s': %s\n", p, strerror(errno));
			return 1;
		}
	}
	snprintf(p, sizeof(p), "%s/dir", mnt);
	mkdir(p, 0755);
	path_of(p, sizeof(p), mnt, "dir/x%d", 0);
	write_file(p, 10, 0644);

	for (i = 0; i < NREADERS; i++)
		pthread_create(&rd[i], NULL, reader, (void *)(uintptr_t)i);
	for (i = 0; i < M_NR; i++)
		pthread_create(&mu[i], NULL, mutator, (void *)(uintptr_t)i);
	pthread_create(&dr, NULL, dropper, NULL);
	sleep((unsigned int)secs);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NREADERS; i++)
		pthread_join(rd[i], NULL);
	for (i = 0; i < M_NR; i++)
		pthread_join(mu[i], NULL);
	pthread_join(dr, NULL);

	check(ops > 1000, "the stress ran (%lu operations in %d s)", ops, secs);
	check(bad_errno == 0, "no ESTALE or EIO on the mount (%lu)", bad_errno);
	check(bad_type == 0, "no name ever stat'ed with the wrong file type (%lu)", bad_type);
	for (i = 0; i < NFILES; i++)
		wrong += !agrees("f%d", i) + !agrees("g%d", i);
	check(wrong == 0, "after the stress every name through the mount matches the source (%d "
	      "differ)", wrong);
	return failures ? 1 : 0;
}

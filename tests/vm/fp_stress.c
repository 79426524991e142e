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
 * - files no one changes (s0..s7: size, mode, nlink and bytes known) always
 *   stat and read as they are, through paths and held descriptors (a reply
 *   with another node's attributes or data, or an inode freed early, would
 *   differ); the number of operations done is printed and a minimum asserted.
 * Prints "ok N - ..." / "not ok N - ..." lines; exit 0 if all passed.
 *
 * Usage: fp_stress SOURCE_DIR MOUNT_DIR SECONDS
 *        fp_stress --load MOUNT_DIR SECONDS strict|gone
 *        fp_stress --detach DAEMON_PID
 * --load: readers only (stat, open, read, fstat, readdir, fds held across) on
 * the files the stress made, for tests/vm/cases/31-stress-debug.sh to detach,
 * abort or unmount under.  "strict": every call succeeds (or ENOENT on a
 * name that comes and goes) and the unchanged files are exact; "gone": the
 * connection is aborted or unmounted meanwhile, so ENOTCONN, ECONNABORTED and
 * ENOENT are allowed too, anything else fails.  Prints the number of
 * operations and of each errno seen.
 * --detach: detach the fast path from a running daemon's connection under its
 * feet: its /dev/fuse descriptor taken with pidfd_getfd(), then
 * FUSE_DEV_IOC_BPF_DETACH on it.
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
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TAP_PROG "fp_stress"
#include "tap.h"

#define NFILES 32
#define NREADERS 4
#define NHELD 8
#define NSTABLE 8
#define NSTABLE_READERS 2

static const char *src, *mnt;
static int stop;                   /* atomic */
static unsigned long bad_errno;    /* atomic: ESTALE/EIO seen */
static unsigned long bad_type;     /* atomic: wrong file type seen */
static unsigned long ops;          /* atomic */
static unsigned long bad_attr;     /* atomic: an unchanged file read or stat'ed wrong */

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

/* s<i>: never changed after creation; what it must stat and read as */
static size_t stable_size(int i)
{
	return 1000 + (size_t)i * 777;
}

static char stable_byte(int i)
{
	return (char)('A' + i);
}

static int make_stable(void)
{
	char p[4096], buf[8192];
	int i, fd;

	for (i = 0; i < NSTABLE; i++) {
		path_of(p, sizeof(p), mnt, "s%d", i);
		memset(buf, stable_byte(i), sizeof(buf));
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
		if (fd < 0 || write(fd, buf, stable_size(i)) != (ssize_t)stable_size(i) ||
		    fchmod(fd, 0640)) {
			fprintf(stderr, "fp_stress: cannot create '%s': %s\n", p, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static void bad_stable(const char *p, const char *fmt, unsigned long a, unsigned long b)
{
	if (__atomic_add_fetch(&bad_attr, 1, __ATOMIC_RELAXED) <= 10) {
		fprintf(stderr, "fp_stress: '%s': ", p);
		fprintf(stderr, fmt, a, b);
		fprintf(stderr, "\n");
	}
}

/* @st and (if @fd >= 0) the bytes of @fd are those of s<i> */
static void check_stable(const char *p, int i, const struct stat *st, int fd)
{
	char buf[8192];
	ssize_t n, j;

	if (!S_ISREG(st->st_mode) || (st->st_mode & 07777) != 0640)
		bad_stable(p, "mode 0%lo, want 0%lo", st->st_mode, S_IFREG | 0640);
	if ((size_t)st->st_size != stable_size(i))
		bad_stable(p, "size %lu, want %lu", (unsigned long)st->st_size, stable_size(i));
	if (st->st_nlink != 1)
		bad_stable(p, "nlink %lu, want %lu", (unsigned long)st->st_nlink, 1);
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		note_err("pread", p, errno);
		return;
	}
	if ((size_t)n != stable_size(i))
		bad_stable(p, "read %lu bytes, want %lu", (unsigned long)n, stable_size(i));
	for (j = 0; j < n; j++)
		if (buf[j] != stable_byte(i)) {
			bad_stable(p, "byte %lu is 0x%lx", (unsigned long)j, (unsigned char)buf[j]);
			break;
		}
}

/*
 * Stats and reads of the unchanged files, by path and through descriptors held
 * across iterations; with @gone, errors of a connection going away are allowed
 * (counted by the caller's errno table, not as wrong attributes).
 */
static unsigned long err_seen[256];      /* atomic: errno histogram of --load */
static unsigned long ops_ok;             /* atomic: --load iterations without an error */
static int load_gone;

static void *stable_reader(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 31337 + 5;
	int held[NSTABLE], i;
	char p[4096];

	for (i = 0; i < NSTABLE; i++)
		held[i] = -1;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int k = (int)(rnd(&seed) % NSTABLE), fd;
		struct stat st;

		__atomic_add_fetch(&ops, 1, __ATOMIC_RELAXED);
		path_of(p, sizeof(p), mnt, "s%d", k);
		if (stat(p, &st) == 0) {
			check_stable(p, k, &st, -1);
		} else if (load_gone) {
			__atomic_add_fetch(&err_seen[errno & 255], 1, __ATOMIC_RELAXED);
		} else {
			note_err("stat", p, errno);
			bad_stable(p, "stat fails with errno %lu (want %lu)", (unsigned long)errno, 0);
		}
		fd = open(p, O_RDONLY);
		if (fd < 0) {
			if (load_gone)
				__atomic_add_fetch(&err_seen[errno & 255], 1, __ATOMIC_RELAXED);
			else
				bad_stable(p, "open fails with errno %lu (want %lu)", (unsigned long)errno, 0);
			continue;
		}
		if (fstat(fd, &st) == 0)
			check_stable(p, k, &st, fd);
		else if (!load_gone)
			note_err("fstat", p, errno);
		/* the held one of the same file: read after FORGET, detach, abort */
		if (held[k] >= 0) {
			if (fstat(held[k], &st) == 0 && !load_gone)
				check_stable(p, k, &st, held[k]);
			close(held[k]);
		}
		held[k] = fd;
	}
	for (i = 0; i < NSTABLE; i++)
		if (held[i] >= 0)
			close(held[i]);
	return NULL;
}

/* --load: readers of the names the stress left, and of the unchanged files */
static void *load_reader(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919 + 11;
	int held[NHELD], i;
	char buf[8192], p[4096];

	for (i = 0; i < NHELD; i++)
		held[i] = -1;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int k = (int)(rnd(&seed) % NFILES), slot = (int)(rnd(&seed) % NHELD), fd, e = 0;
		struct stat st;
		DIR *d;

		__atomic_add_fetch(&ops, 1, __ATOMIC_RELAXED);
		path_of(p, sizeof(p), mnt, "f%d", k);
		if (stat(p, &st))
			e = errno;
		fd = open(p, O_RDONLY);
		if (fd < 0) {
			e = e ? e : errno;
		} else {
			if (read(fd, buf, sizeof(buf)) < 0 || fstat(fd, &st))
				e = e ? e : errno;
			if (held[slot] >= 0) {
				if (pread(held[slot], buf, sizeof(buf), 0) < 0)
					e = e ? e : errno;
				close(held[slot]);
			}
			held[slot] = fd;
		}
		if (rnd(&seed) % 8 == 0) {
			d = opendir(mnt);
			if (d) {
				errno = 0;
				while (readdir(d))
					;
				if (errno)
					e = e ? e : errno;
				closedir(d);
			} else {
				e = e ? e : errno;
			}
		}
		if (e)
			__atomic_add_fetch(&err_seen[e & 255], 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&ops_ok, 1, __ATOMIC_RELAXED);
	}
	for (i = 0; i < NHELD; i++)
		if (held[i] >= 0)
			close(held[i]);
	return NULL;
}

static int load_main(int argc, char **argv)
{
	pthread_t rd[NREADERS], st[NSTABLE_READERS];
	unsigned long other = 0;
	int secs, i;

	if (argc != 5 || (strcmp(argv[4], "strict") && strcmp(argv[4], "gone"))) {
		fprintf(stderr, "usage: fp_stress --load MOUNT_DIR SECONDS strict|gone\n");
		return 2;
	}
	mnt = argv[2];
	secs = atoi(argv[3]);
	load_gone = !strcmp(argv[4], "gone");
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < NREADERS; i++)
		pthread_create(&rd[i], NULL, load_reader, (void *)(uintptr_t)i);
	for (i = 0; i < NSTABLE_READERS; i++)
		pthread_create(&st[i], NULL, stable_reader, (void *)(uintptr_t)i);
	sleep((unsigned int)secs);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NREADERS; i++)
		pthread_join(rd[i], NULL);
	for (i = 0; i < NSTABLE_READERS; i++)
		pthread_join(st[i], NULL);

	printf("fp_stress: load: %lu operations in %d s, %lu without an error; errors:", ops, secs,
	       ops_ok);
	for (i = 1; i < 256; i++) {
		if (!err_seen[i])
			continue;
		printf(" %s %lu", strerror(i), err_seen[i]);
		if (i != ENOENT && !(load_gone && (i == ENOTCONN || i == ECONNABORTED)))
			other += err_seen[i];
	}
	printf("%s\n", other || err_seen[ENOENT] || err_seen[ENOTCONN] ||
	       err_seen[ECONNABORTED] ? "" : " none");
	/* "gone": only the seconds before the abort or unmount can succeed */
	check(ops_ok >= (load_gone ? 20u : 50u),
	      "the load ran (%lu operations in %d s, %lu of them without an error, want %u)",
	      ops, secs, ops_ok, load_gone ? 20u : 50u);
	check(other == 0 && bad_errno == 0, "no error but %s on the mount (%lu others)",
	      load_gone ? "ENOENT, ENOTCONN, ECONNABORTED" : "ENOENT", other + bad_errno);
	check(bad_attr == 0, "the unchanged files always stat'ed and read exactly (%lu wrong)",
	      bad_attr);
	return failures ? 1 : 0;
}

#ifndef FUSE_DEV_IOC_BPF_DETACH
#define FUSE_DEV_IOC_BPF_DETACH _IO(229, 65)
#endif

/* --detach PID: FUSE_DEV_IOC_BPF_DETACH on the daemon's own /dev/fuse descriptor */
static int detach_main(int argc, char **argv)
{
	char dir[64], p[320], link[64];
	int pid, pidfd, fd, done = 0, tried = 0;
	struct dirent *de;
	DIR *d;

	if (argc != 3 || (pid = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: fp_stress --detach DAEMON_PID\n");
		return 2;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (pidfd < 0 || !d) {
		fprintf(stderr, "fp_stress: no process %d: %s\n", pid, strerror(errno));
		return 1;
	}
	while (!done && (de = readdir(d))) {
		ssize_t n;

		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		n = readlink(p, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		if (strcmp(link, "/dev/fuse"))
			continue;
		tried++;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		if (fd < 0) {
			fprintf(stderr, "fp_stress: pidfd_getfd %d/%s: %s\n", pid, de->d_name,
				strerror(errno));
			continue;
		}
		if (ioctl(fd, FUSE_DEV_IOC_BPF_DETACH) == 0)
			done = 1;
		else
			fprintf(stderr, "fp_stress: detach through fd %s: %s\n", de->d_name,
				strerror(errno));
		close(fd);
	}
	closedir(d);
	close(pidfd);
	if (!done)
		fprintf(stderr, "fp_stress: nothing detached from process %d (%d /dev/fuse fds)\n",
			pid, tried);
	return done ? 0 : 1;
}

int main(int argc, char **argv)
{
	pthread_t rd[NREADERS], mu[M_NR], dr, sr[NSTABLE_READERS];
	int secs, i, wrong = 0;
	char p[4096];

	if (argc >= 2 && !strcmp(argv[1], "--load"))
		return load_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "--detach"))
		return detach_main(argc, argv);
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
	if (make_stable())
		return 1;

	for (i = 0; i < NSTABLE_READERS; i++)
		pthread_create(&sr[i], NULL, stable_reader, (void *)(uintptr_t)i);
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
	for (i = 0; i < NSTABLE_READERS; i++)
		pthread_join(sr[i], NULL);

	check(ops > 1000, "the stress ran (%lu operations in %d s)", ops, secs);
	check(bad_errno == 0, "no ESTALE or EIO on the mount (%lu)", bad_errno);
	check(bad_type == 0, "no name ever stat'ed with the wrong file type (%lu)", bad_type);
	check(bad_attr == 0, "the unchanged files always stat'ed and read exactly, by path and "
	      "through held fds (%lu wrong)", bad_attr);
	for (i = 0; i < NFILES; i++)
		wrong += !agrees("f%d", i) + !agrees("g%d", i);
	check(wrong == 0, "after the stress every name through the mount matches the source (%d "
	      "differ)", wrong);
	return failures ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * posix_ops DIR - scripted POSIX operation transcript for comparing a FUSE
 * mount against a plain directory.
 *
 * The program performs a fixed sequence of file system operations inside DIR
 * (which must be empty) and prints one line per step:
 *
 *	<step>: ok [key=value ...]      the call succeeded
 *	<step>: ret=N [key=value ...]   the call returned a count
 *	<step>: ENOENT                   the call failed with that errno
 *
 * Nothing that legitimately differs between a FUSE mount and a plain
 * directory on the same backing file system is printed: no inode numbers,
 * st_dev, block counts, statfs numbers or wall-clock timestamps. Timestamps
 * are reported as comparisons (mtime_changed=1) or as the exact values the
 * script itself requested with utimensat(). The transcript of a correct
 * passthrough file system must therefore be byte-identical to the transcript
 * of the directory it is backed by; tests diff the two.
 *
 * The file system is left in a known final state (files, dirs, fifo, device
 * node, symlinks, xattrs) so a test can also compare the backing directory
 * against the reference directory after unmount.
 *
 * Exit status: 0 when the script ran to the end (individual step failures are
 * part of the transcript, not of the exit status), 2 on bad usage or when DIR
 * is unusable.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#define KIB 1024L
#define MIB (1024L * 1024L)

/* ---------------------------------------------------------------- output */

static const char *errname(int e)
{
	static char buf[32];

	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EWOULDBLOCK";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case EMLINK: return "EMLINK";
	case ERANGE: return "ERANGE";
	case EDEADLK: return "EDEADLK";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOLCK: return "ENOLCK";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ELOOP: return "ELOOP";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EOVERFLOW: return "EOVERFLOW";
	case ETXTBSY: return "ETXTBSY";
	case E2BIG: return "E2BIG";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ENOTCONN: return "ENOTCONN";
	case ESTALE: return "ESTALE";
	default:
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
}

/* print "step: <fmt...>\n" */
static void out(const char *step, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out(const char *step, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* report a 0/-1 style call; returns the call's result, errno preserved */
static int rc(const char *step, int ret)
{
	int e = errno;

	if (ret < 0)
		out(step, "%s", errname(e));
	else
		out(step, "ok");
	errno = e;
	return ret;
}

/* report a count-returning call */
static ssize_t rcn(const char *step, ssize_t ret)
{
	int e = errno;

	if (ret < 0)
		out(step, "%s", errname(e));
	else
		out(step, "ret=%zd", ret);
	errno = e;
	return ret;
}

static void die(const char *what)
{
	fprintf(stderr, "posix_ops: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ------------------------------------------------------------- checksums */

static uint64_t fnv(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

/* deterministic content: byte at offset o of stream "seed" */
static unsigned char pat(unsigned seed, off_t o)
{
	uint64_t x = (uint64_t)o * 2654435761u + seed * 40503u;

	return (unsigned char)(x ^ (x >> 13) ^ (x >> 29));
}

static void fill(void *buf, size_t len, unsigned seed, off_t off)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = pat(seed, off + (off_t)i);
}

static bool all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Read the whole file at path; returns size or -errno and stores checksum.
 * Uses an odd buffer size on purpose so reads straddle page boundaries.
 */
static off_t file_sum(const char *path, uint64_t *sum)
{
	static char buf[100003];
	uint64_t h = FNV_INIT;
	off_t total = 0;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		h = fnv(h, buf, n);
		total += n;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	*sum = h;
	return err ? err : total;
}

static void print_sum(const char *step, const char *path)
{
	uint64_t h;
	off_t n = file_sum(path, &h);

	if (n < 0)
		out(step, "%s", errname((int)-n));
	else
		out(step, "ok bytes=%jd sum=%016" PRIx64, (intmax_t)n, h);
}

/* write len bytes of pattern seed at off through fd, fully */
static int write_pat(int fd, unsigned seed, off_t off, size_t len)
{
	static char buf[131072];

	while (len) {
		size_t c = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t n;

		fill(buf, c, seed, off);
		n = pwrite(fd, buf, c, off);
		if (n < 0)
			return -1;
		if ((size_t)n != c) {
			errno = EIO;
			return -1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

/* create path with content string; 0 or -1 */
static int put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	if (close(fd) < 0 || n != (ssize_t)strlen(s))
		return -1;
	return 0;
}

/*
 * Read up to 127 bytes of path into a static string with control bytes
 * escaped as \xNN, or return the errno name.
 */
static const char *get(const char *path)
{
	static char out_buf[4 * 128 + 1];
	char buf[128];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	size_t o = 0;

	if (fd < 0)
		return errname(errno);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return errname(errno);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = buf[i];

		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '\'')
			o += sprintf(out_buf + o, "\\x%02x", c);
		else
			out_buf[o++] = c;
	}
	out_buf[o] = 0;
	return out_buf;
}

/* ------------------------------------------------------------------ stat */

static const char *ftype(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFIFO: return "fifo";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFSOCK: return "sock";
	default: return "unknown";
	}
}

/*
 * Format the comparable parts of a stat buffer. Directory sizes depend on
 * the backing file system's directory format, so they are left out.
 */
static const char *fmt_stat(const struct stat *st)
{
	static char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf), "type=%s mode=%04o nlink=%ju uid=%u gid=%u",
		     ftype(st->st_mode), (unsigned)(st->st_mode & 07777),
		     (uintmax_t)st->st_nlink, (unsigned)st->st_uid, (unsigned)st->st_gid);
	if (!S_ISDIR(st->st_mode))
		n += snprintf(buf + n, sizeof(buf) - n, " size=%jd", (intmax_t)st->st_size);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		snprintf(buf + n, sizeof(buf) - n, " rdev=%u:%u", major(st->st_rdev),
			 minor(st->st_rdev));
	return buf;
}

static int do_stat(const char *step, const char *path, bool follow, struct stat *st)
{
	struct stat tmp;
	int ret;

	if (!st)
		st = &tmp;
	ret = follow ? stat(path, st) : lstat(path, st);
	if (ret < 0)
		out(step, "%s", errname(errno));
	else
		out(step, "ok %s", fmt_stat(st));
	return ret;
}

static int do_fstat(const char *step, int fd, struct stat *st)
{
	struct stat tmp;

	if (!st)
		st = &tmp;
	if (fstat(fd, st) < 0) {
		out(step, "%s", errname(errno));
		return -1;
	}
	out(step, "ok %s", fmt_stat(st));
	return 0;
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool ts_le(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec <= b.tv_nsec);
}

/* set atime/mtime to a fixed old value so a later change is visible */
static const struct timespec OLD_TS = { .tv_sec = 946684800, .tv_nsec = 0 };

static int age(const char *path)
{
	struct timespec ts[2] = { OLD_TS, OLD_TS };

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

static void print_times_changed(const char *step, const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		out(step, "%s", errname(errno));
		return;
	}
	out(step, "ok mtime_changed=%d", !ts_eq(st.st_mtim, OLD_TS));
}

/* -------------------------------------------------------------- sections */

static void t_create_rw(void)
{
	struct stat st;
	char buf[256];
	ssize_t n;
	int fd, fd2;

	rc("open_missing", open("nofile", O_RDONLY));
	fd = rc("create_a_excl", open("a", O_CREAT | O_EXCL | O_WRONLY, 0644));
	rc("create_a_excl_again", open("a", O_CREAT | O_EXCL | O_WRONLY, 0644));
	rcn("write_a", write(fd, "hello, world\n", 13));
	rcn("read_wronly_fd", read(fd, buf, sizeof(buf)));
	rc("fsync_a", fsync(fd));
	rc("fdatasync_a", fdatasync(fd));
	rc("close_a", close(fd));
	do_stat("stat_a", "a", true, NULL);

	fd = open("a", O_RDONLY);
	rc("open_a_rdonly", fd);
	n = rcn("read_a", read(fd, buf, sizeof(buf)));
	if (n >= 0)
		out("read_a_data", "ok match=%d", n == 13 && !memcmp(buf, "hello, world\n", 13));
	rcn("read_a_eof", read(fd, buf, sizeof(buf)));
	n = rcn("pread_a_5_5", pread(fd, buf, 5, 5));
	if (n >= 0)
		out("pread_a_5_5_data", "ok data='%.*s'", (int)n, buf);
	rcn("pread_a_past_eof", pread(fd, buf, 5, 1000));
	rcn("write_rdonly_fd", write(fd, "x", 1));
	rcn("lseek_a_end", lseek(fd, 0, SEEK_END));
	rcn("lseek_a_negative", lseek(fd, -100, SEEK_SET));
	rc("close_a_rdonly", close(fd));

	/* O_APPEND: writes go to EOF whatever the file position */
	fd = rc("open_a_append", open("a", O_WRONLY | O_APPEND));
	rcn("lseek_a_append_0", lseek(fd, 0, SEEK_SET));
	rcn("write_a_append", write(fd, "more\n", 5));
	rcn("lseek_a_append_cur", lseek(fd, 0, SEEK_CUR));
	/* second description appends too, sees the first one's size */
	fd2 = rc("open_a_append2", open("a", O_WRONLY | O_APPEND));
	rcn("write_a_append2", write(fd2, "again\n", 6));
	close(fd2);
	close(fd);
	out("a_content", "ok data='%s'", get("a"));
	do_stat("stat_a_appended", "a", true, NULL);

	/* O_CREAT without O_EXCL on an existing file keeps the content */
	fd = rc("open_a_creat_existing", open("a", O_CREAT | O_WRONLY, 0600));
	close(fd);
	do_stat("stat_a_creat_existing", "a", true, NULL);

	/* O_TRUNC */
	fd = rc("open_a_trunc", open("a", O_WRONLY | O_TRUNC));
	if (fd >= 0)
		do_fstat("fstat_a_trunc", fd, NULL);
	rcn("write_a_after_trunc", write(fd, "0123456789", 10));
	close(fd);
	do_stat("stat_a_after_trunc", "a", true, NULL);

	/* error paths of open */
	rc("open_under_file", open("a/x", O_RDONLY));
	rc("open_dir_wronly", open(".", O_WRONLY));
	rc("open_dir_rdwr", open(".", O_RDWR));
	rc("open_file_odirectory", open("a", O_RDONLY | O_DIRECTORY));
	rc("open_missing_parent", open("nodir/x", O_CREAT | O_WRONLY, 0644));
	rc("create_under_file", open("a/x", O_CREAT | O_WRONLY, 0644));

	/* pwrite past EOF creates a hole */
	fd = rc("open_a_rdwr", open("a", O_RDWR));
	rcn("pwrite_a_1m", pwrite(fd, "tail", 4, MIB));
	if (fstat(fd, &st) == 0)
		out("size_after_pwrite", "ok size=%jd", (intmax_t)st.st_size);
	memset(buf, 0xff, sizeof(buf));
	n = rcn("pread_hole", pread(fd, buf, 64, 4096));
	if (n == 64)
		out("pread_hole_data", "ok zero=%d", all_zero(buf, 64));
	n = rcn("pread_tail", pread(fd, buf, 100, MIB - 2));
	if (n >= 0)
		out("pread_tail_data", "ok match=%d", n == 6 && !memcmp(buf, "\0\0tail", 6));
	n = rcn("pread_head", pread(fd, buf, 10, 0));
	if (n >= 0)
		out("pread_head_data", "ok data='%.*s'", (int)n, buf);
	rc("close_a_rdwr", close(fd));

	/* mtime moves on write; size seen through a second path is current */
	age("a");
	fd = open("a", O_WRONLY);
	rcn("pwrite_a_mtime", pwrite(fd, "X", 1, 3));
	fd2 = open("a", O_RDONLY);
	n = pread(fd2, buf, 4, 0);
	out("read_other_fd_sees_write", "ok match=%d", n == 4 && !memcmp(buf, "012X", 4));
	close(fd2);
	close(fd);
	print_times_changed("a_mtime_after_write", "a");

	/* dup + close: flush is sent twice, file stays usable */
	fd = open("a", O_RDONLY);
	fd2 = dup(fd);
	rc("close_dup", close(fd2));
	rcn("read_after_close_dup", read(fd, buf, 3));
	rc("close_orig", close(fd));
	rc("close_bad_fd", close(fd));
}

static void t_lookup(void)
{
	char longname[300];

	memset(longname, 'n', 256);
	longname[256] = 0;
	do_stat("stat_missing", "nofile", true, NULL);
	do_stat("lstat_missing", "nofile", false, NULL);
	do_stat("stat_under_file", "a/x", true, NULL);
	do_stat("stat_long_name", longname, true, NULL);
	rc("create_long_name", open(longname, O_CREAT | O_WRONLY, 0644));
	do_stat("stat_dot_a", "./a", true, NULL);
	do_stat("stat_empty_path", "", true, NULL);
}

static void t_dirs(void)
{
	struct stat st;
	int fd;

	rc("mkdir_d", mkdir("d", 0755));
	do_stat("stat_d", "d", true, NULL);
	rc("mkdir_d_again", mkdir("d", 0755));
	rc("mkdir_missing_parent", mkdir("nodir/x", 0755));
	rc("mkdir_under_file", mkdir("a/x", 0755));
	rc("mkdir_d_sub", mkdir("d/sub", 0777));
	do_stat("stat_d_sub", "d/sub", true, NULL);
	do_stat("stat_d_nlink3", "d", true, NULL);
	rc("mkdir_sticky", mkdir("sticky", 01777));
	do_stat("stat_sticky", "sticky", true, NULL);
	rc("rmdir_sticky", rmdir("sticky"));

	/* the parent's mtime moves when an entry is created or removed */
	age("d");
	fd = open("d/f", O_CREAT | O_WRONLY, 0644);
	close(fd);
	print_times_changed("d_mtime_after_create", "d");
	age("d");
	rc("unlink_d_f", unlink("d/f"));
	print_times_changed("d_mtime_after_unlink", "d");

	rc("rmdir_nonempty", rmdir("d"));
	rc("rmdir_file", rmdir("a"));
	rc("rmdir_missing", rmdir("nodir"));
	rc("rmdir_dot", rmdir("d/sub/."));
	rc("rmdir_d_sub", rmdir("d/sub"));
	do_stat("stat_d_nlink2", "d", true, NULL);
	do_stat("stat_d_sub_gone", "d/sub", true, NULL);
	rc("mkdir_rmdir_recreate", mkdir("d/sub", 0700));
	if (lstat("d/sub", &st) == 0)
		out("stat_d_sub_recreated", "ok %s", fmt_stat(&st));
	rmdir("d/sub");
}

static void t_mknod(void)
{
	rc("mknod_fifo", mknod("fifo", S_IFIFO | 0640, 0));
	do_stat("stat_fifo", "fifo", false, NULL);
	rc("mknod_fifo_again", mknod("fifo", S_IFIFO | 0640, 0));
	rc("mkfifo_missing_parent", mkfifo("nodir/fifo", 0644));
	rc("mknod_reg", mknod("regnod", S_IFREG | 0600, 0));
	do_stat("stat_regnod", "regnod", false, NULL);
	rc("mknod_chr", mknod("chrnod", S_IFCHR | 0600, makedev(1, 3)));
	do_stat("stat_chrnod", "chrnod", false, NULL);
	rc("mknod_bad_type", mknod("badnod", 0170000 | 0600, 0));
	rc("open_fifo_nonblock", open("fifo", O_RDONLY | O_NONBLOCK));
}

static void t_symlinks(void)
{
	char buf[PATH_MAX];
	char target[200];
	ssize_t n;

	rc("symlink_sl", symlink("a", "sl"));
	do_stat("lstat_sl", "sl", false, NULL);
	do_stat("stat_sl_follows", "sl", true, NULL);
	n = readlink("sl", buf, sizeof(buf));
	if (n < 0)
		out("readlink_sl", "%s", errname(errno));
	else
		out("readlink_sl", "ret=%zd target='%.*s'", n, (int)n, buf);
	rcn("readlink_sl_short_buf", readlink("sl", buf, 1));

	memset(target, 0, sizeof(target));
	for (int i = 0; i < 190; i++)
		target[i] = i % 10 == 9 ? '/' : 'a' + i % 10;
	rc("symlink_long", symlink(target, "sl_long"));
	n = readlink("sl_long", buf, sizeof(buf));
	if (n < 0)
		out("readlink_long", "%s", errname(errno));
	else
		out("readlink_long", "ret=%zd match=%d", n,
		    n == (ssize_t)strlen(target) && !memcmp(buf, target, n));

	rc("symlink_dangling", symlink("no/such/target", "dangling"));
	do_stat("stat_dangling", "dangling", true, NULL);
	do_stat("lstat_dangling", "dangling", false, NULL);
	rc("symlink_exists", symlink("x", "sl"));
	rc("symlink_missing_parent", symlink("x", "nodir/sl"));
	rcn("readlink_regular", readlink("a", buf, sizeof(buf)));
	rcn("readlink_missing", readlink("nofile", buf, sizeof(buf)));
	rc("open_sl_nofollow", open("sl", O_RDONLY | O_NOFOLLOW));
	rc("symlink_dir", symlink("d", "sl_dir"));
	do_stat("stat_through_dir_symlink", "sl_dir/.", true, NULL);
	rc("loop_symlink", symlink("loop", "loop"));
	do_stat("stat_loop", "loop", true, NULL);
	rc("unlink_loop", unlink("loop"));
}

static void t_links(void)
{
	rc("link_a", link("a", "a_link"));
	do_stat("stat_a_nlink2", "a", true, NULL);
	do_stat("stat_a_link", "a_link", true, NULL);
	rc("link_exists", link("a", "sl"));
	rc("link_dir", link("d", "d_link"));
	rc("link_missing", link("nofile", "x"));
	rc("link_missing_parent", link("a", "nodir/x"));
	rc("link_a2", link("a_link", "a_link2"));
	do_stat("stat_a_nlink3", "a", true, NULL);
	rc("unlink_a_link", unlink("a_link"));
	do_stat("stat_a_nlink2_again", "a", true, NULL);
	rc("unlink_a_link2", unlink("a_link2"));
	do_stat("stat_a_nlink1", "a", true, NULL);
	/* link the symlink itself, not its target */
	rc("link_symlink", linkat(AT_FDCWD, "sl", AT_FDCWD, "sl_hard", 0));
	do_stat("lstat_sl_hard", "sl_hard", false, NULL);
	do_stat("lstat_sl_nlink2", "sl", false, NULL);
	rc("unlink_sl_hard", unlink("sl_hard"));
}

static void t_unlink(void)
{
	char buf[64];
	struct stat st;
	ssize_t n;
	int fd;

	rc("unlink_dir", unlink("d"));
	rc("unlink_missing", unlink("nofile"));
	rc("unlink_under_file", unlink("a/x"));

	/* an open file stays readable and writable after its last unlink */
	put("ul", "unlinked data");
	fd = rc("open_ul", open("ul", O_RDWR));
	rc("unlink_ul", unlink("ul"));
	do_stat("stat_ul_gone", "ul", true, NULL);
	if (fstat(fd, &st) == 0)
		out("fstat_ul", "ok nlink=%ju size=%jd", (uintmax_t)st.st_nlink,
		    (intmax_t)st.st_size);
	else
		out("fstat_ul", "%s", errname(errno));
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		out("pread_ul", "%s", errname(errno));
	else
		out("pread_ul", "ok match=%d", n == 13 && !memcmp(buf, "unlinked data", 13));
	rcn("pwrite_ul", pwrite(fd, "more", 4, 13));
	rc("ftruncate_ul", ftruncate(fd, 8));
	if (fstat(fd, &st) == 0)
		out("fstat_ul_after", "ok size=%jd", (intmax_t)st.st_size);
	rc("close_ul", close(fd));

	/* unlink of one of two hard links keeps the data */
	put("hl1", "hard");
	rc("link_hl2", link("hl1", "hl2"));
	rc("unlink_hl1", unlink("hl1"));
	out("hl2_content", "ok data='%s'", get("hl2"));
	do_stat("stat_hl2", "hl2", true, NULL);
	unlink("hl2");
}

static void t_chmod_chown(void)
{
	struct stat st1, st2;
	int fd;

	put("m", "mode");
	lstat("m", &st1);
	/*
	 * ctime may come from a coarse clock (one jiffy): over FUSE the stat
	 * above can be served from the attribute cache, so the backing file
	 * system's fine-grained-after-query rule does not apply. Let the
	 * clock tick.
	 */
	usleep(30000);
	rc("chmod_m_600", chmod("m", 0600));
	lstat("m", &st2);
	out("stat_m_600", "ok %s ctime_changed=%d", fmt_stat(&st2),
	    !ts_eq(st1.st_ctim, st2.st_ctim));
	fd = open("m", O_RDONLY);
	rc("fchmod_m_640", fchmod(fd, 0640));
	do_fstat("fstat_m_640", fd, NULL);
	close(fd);
	rc("chmod_missing", chmod("nofile", 0644));
	rc("chmod_under_file", chmod("a/x", 0644));
	rc("chmod_m_4755", chmod("m", 04755));
	do_stat("stat_m_4755", "m", true, NULL);
	/* chown clears set-uid even for root */
	rc("chown_m", chown("m", 1234, 5678));
	do_stat("stat_m_chown", "m", true, NULL);
	rc("chown_m_gid_only", chown("m", -1, 42));
	do_stat("stat_m_chown_gid", "m", true, NULL);
	rc("chown_m_noop", chown("m", -1, -1));
	do_stat("stat_m_chown_noop", "m", true, NULL);
	fd = open("m", O_RDONLY);
	rc("fchown_m", fchown(fd, 4321, 8765));
	do_fstat("fstat_m_fchown", fd, NULL);
	close(fd);
	rc("chown_missing", chown("nofile", 1, 1));
	rc("lchown_sl", lchown("sl", 1000, 1001));
	do_stat("lstat_sl_lchown", "sl", false, NULL);
	do_stat("stat_sl_target_unchanged", "sl", true, NULL);
	rc("chown_d", chown("d", 2000, 2001));
	do_stat("stat_d_chown", "d", true, NULL);
	chmod("d", 0755);
	rc("chmod_d_711", chmod("d", 0711));
	do_stat("stat_d_711", "d", true, NULL);
	chmod("d", 0755);
	rc("chown_d_back", chown("d", 0, 0));
}

static void t_truncate(void)
{
	char buf[128];
	struct stat st;
	ssize_t n;
	int fd;

	put("t", "0123456789abc");
	age("t");
	rc("truncate_grow", truncate("t", 100));
	do_stat("stat_t_100", "t", true, NULL);
	print_times_changed("t_mtime_after_truncate", "t");
	fd = open("t", O_RDONLY);
	memset(buf, 0xff, sizeof(buf));
	n = pread(fd, buf, sizeof(buf), 0);
	out("t_grow_data", "ok ret=%zd head_ok=%d tail_zero=%d", n, !memcmp(buf, "0123456789abc", 13),
	    n == 100 && all_zero(buf + 13, 87));
	rc("ftruncate_rdonly", ftruncate(fd, 0));
	close(fd);
	rc("truncate_shrink", truncate("t", 5));
	out("t_shrink_content", "ok data='%s'", get("t"));
	rc("truncate_negative", truncate("t", -1));
	rc("truncate_dir", truncate("d", 0));
	rc("truncate_missing", truncate("nofile", 0));
	rc("truncate_under_file", truncate("a/x", 0));

	fd = open("t", O_RDWR);
	rc("ftruncate_grow", ftruncate(fd, 8192));
	do_fstat("fstat_t_8192", fd, NULL);
	n = pread(fd, buf, 16, 8000);
	out("t_ftrunc_grow_data", "ok ret=%zd zero=%d", n, n == 16 && all_zero(buf, 16));
	rc("ftruncate_shrink", ftruncate(fd, 3));
	if (fstat(fd, &st) == 0)
		out("fstat_t_3", "ok size=%jd", (intmax_t)st.st_size);
	rcn("read_t_after_shrink", pread(fd, buf, sizeof(buf), 0));
	/* grow again: the shrunk-away bytes must not come back */
	rc("ftruncate_regrow", ftruncate(fd, 10));
	n = pread(fd, buf, sizeof(buf), 0);
	out("t_regrow_data", "ok ret=%zd match=%d", n, n == 10 && !memcmp(buf, "012", 3) &&
	    all_zero(buf + 3, 7));
	rc("ftruncate_negative", ftruncate(fd, -5));
	close(fd);
}

static void print_times(const char *step, const char *path, bool follow,
			const struct timespec *want_a, const struct timespec *want_m,
			const struct timespec *lo, const struct timespec *hi)
{
	struct timespec lo2, hi2;
	struct stat st;
	int r;

	r = follow ? stat(path, &st) : lstat(path, &st);
	if (r < 0) {
		out(step, "%s", errname(errno));
		return;
	}
	/* "now" may come from a coarse clock: allow one second of slack */
	if (lo) {
		lo2 = *lo;
		lo2.tv_sec -= 1;
		hi2 = *hi;
		hi2.tv_sec += 1;
	}
	printf("%s: ok", step);
	if (want_a)
		printf(" atime=%jd.%09ld", (intmax_t)st.st_atim.tv_sec, st.st_atim.tv_nsec);
	else if (lo)
		printf(" atime_now=%d", ts_le(lo2, st.st_atim) && ts_le(st.st_atim, hi2));
	if (want_m)
		printf(" mtime=%jd.%09ld", (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	else if (lo)
		printf(" mtime_now=%d", ts_le(lo2, st.st_mtim) && ts_le(st.st_mtim, hi2));
	if (want_a)
		printf(" atime==requested=%d", ts_eq(st.st_atim, *want_a));
	if (want_m)
		printf(" mtime==requested=%d", ts_eq(st.st_mtim, *want_m));
	putchar('\n');
	fflush(stdout);
}

static void t_utimens(void)
{
	struct timespec a = { 1000000000, 123456789 }, m = { 1100000000, 987654321 };
	struct timespec m2 = { 1200000000, 0 }, a3 = { 1300000000, 5 };
	struct timespec ts[2], lo, hi;
	int fd;

	put("u", "times");
	ts[0] = a;
	ts[1] = m;
	rc("utimensat_explicit", utimensat(AT_FDCWD, "u", ts, 0));
	print_times("times_explicit", "u", true, &a, &m, NULL, NULL);

	ts[0].tv_nsec = UTIME_OMIT;
	ts[1] = m2;
	rc("utimensat_omit_atime", utimensat(AT_FDCWD, "u", ts, 0));
	print_times("times_omit_atime", "u", true, &a, &m2, NULL, NULL);

	ts[0] = a3;
	ts[1].tv_nsec = UTIME_OMIT;
	rc("utimensat_omit_mtime", utimensat(AT_FDCWD, "u", ts, 0));
	print_times("times_omit_mtime", "u", true, &a3, &m2, NULL, NULL);

	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_OMIT;
	rc("utimensat_omit_both", utimensat(AT_FDCWD, "u", ts, 0));
	print_times("times_omit_both", "u", true, &a3, &m2, NULL, NULL);

	clock_gettime(CLOCK_REALTIME, &lo);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	rc("utimensat_now_mtime", utimensat(AT_FDCWD, "u", ts, 0));
	clock_gettime(CLOCK_REALTIME, &hi);
	print_times("times_now_mtime", "u", true, &a3, NULL, &lo, &hi);

	clock_gettime(CLOCK_REALTIME, &lo);
	ts[0].tv_nsec = UTIME_NOW;
	ts[1].tv_nsec = UTIME_NOW;
	rc("utimensat_now_both", utimensat(AT_FDCWD, "u", ts, 0));
	clock_gettime(CLOCK_REALTIME, &hi);
	print_times("times_now_both", "u", true, NULL, NULL, &lo, &hi);

	ts[0] = a;
	ts[1] = m;
	utimensat(AT_FDCWD, "u", ts, 0);
	clock_gettime(CLOCK_REALTIME, &lo);
	rc("utimensat_null", utimensat(AT_FDCWD, "u", NULL, 0));
	clock_gettime(CLOCK_REALTIME, &hi);
	print_times("times_null", "u", true, NULL, NULL, &lo, &hi);

	fd = open("u", O_RDONLY);
	ts[0] = m;
	ts[1] = a;
	rc("futimens", futimens(fd, ts));
	print_times("times_futimens", "u", true, &m, &a, NULL, NULL);
	close(fd);

	ts[0] = a;
	ts[1] = m;
	rc("utimensat_dir", utimensat(AT_FDCWD, "d", ts, 0));
	print_times("times_dir", "d", true, &a, &m, NULL, NULL);
	rc("utimensat_missing", utimensat(AT_FDCWD, "nofile", ts, 0));
	ts[1].tv_nsec = 1000000000;
	rc("utimensat_bad_nsec", utimensat(AT_FDCWD, "u", ts, 0));
	/* utimes() (microseconds) through the same path */
	{
		struct timeval tv[2] = { { 1400000000, 250000 }, { 1400000001, 750000 } };
		struct timespec wa = { 1400000000, 250000000 }, wm = { 1400000001, 750000000 };

		rc("utimes", utimes("u", tv));
		print_times("times_utimes", "u", true, &wa, &wm, NULL, NULL);
	}
}

static void t_rename(void)
{
	char buf[64];
	ssize_t n;
	int fd;

	put("r1", "r1");
	put("r2", "r2");
	mkdir("rd1", 0755);
	put("rd1/f", "rd1f");
	mkdir("rd2", 0755);
	mkdir("rd3", 0755);
	put("rd3/g", "rd3g");

	rc("rename_plain", rename("r1", "r1new"));
	do_stat("stat_r1_gone", "r1", true, NULL);
	out("r1new_content", "ok data='%s'", get("r1new"));
	rc("rename_over_existing", rename("r1new", "r2"));
	out("r2_content", "ok data='%s'", get("r2"));
	do_stat("stat_r1new_gone", "r1new", true, NULL);
	rc("rename_same", rename("r2", "r2"));
	out("r2_still", "ok data='%s'", get("r2"));
	rc("rename_missing", rename("nofile", "x"));
	rc("rename_missing_dst_parent", rename("r2", "nodir/x"));

	/* an open fd keeps the replaced file's data */
	put("victim", "old victim");
	put("newer", "new content");
	fd = open("victim", O_RDONLY);
	rc("rename_over_open", rename("newer", "victim"));
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	out("open_fd_after_rename_over", "ok ret=%zd data='%s'", n, buf);
	close(fd);
	out("victim_content", "ok data='%s'", get("victim"));

	rc("rename_noreplace", renameat2(AT_FDCWD, "r2", AT_FDCWD, "r3", RENAME_NOREPLACE));
	rc("rename_noreplace_eexist", renameat2(AT_FDCWD, "r3", AT_FDCWD, "a", RENAME_NOREPLACE));
	out("r3_content", "ok data='%s'", get("r3"));
	print_sum("a_unchanged", "a");

	rc("rename_exchange", renameat2(AT_FDCWD, "r3", AT_FDCWD, "rd2", RENAME_EXCHANGE));
	do_stat("lstat_r3_now_dir", "r3", false, NULL);
	do_stat("lstat_rd2_now_file", "rd2", false, NULL);
	out("rd2_content", "ok data='%s'", get("rd2"));
	rc("rename_exchange_missing", renameat2(AT_FDCWD, "r3", AT_FDCWD, "nofile",
						RENAME_EXCHANGE));
	rc("rename_exchange_noreplace", renameat2(AT_FDCWD, "r3", AT_FDCWD, "rd2",
						  RENAME_EXCHANGE | RENAME_NOREPLACE));
	rc("rename_exchange_back", renameat2(AT_FDCWD, "rd2", AT_FDCWD, "r3", RENAME_EXCHANGE));
	do_stat("lstat_r3_file_again", "r3", false, NULL);
	do_stat("lstat_rd2_dir_again", "rd2", false, NULL);

	rc("rename_file_over_dir", rename("r3", "rd2"));
	rc("rename_dir_over_file", rename("rd2", "r3"));
	rc("rename_dir_over_nonempty", rename("rd1", "rd3"));
	rc("rename_dir_into_self", rename("rd1", "rd1/sub"));
	rc("rename_dir_over_empty", rename("rd3", "rd2"));
	do_stat("stat_rd3_gone", "rd3", true, NULL);
	out("rd2_g_content", "ok data='%s'", get("rd2/g"));

	/* move a directory with content elsewhere; children follow it */
	rc("rename_dir_across", rename("rd1", "d/moved"));
	do_stat("stat_d_after_move", "d", true, NULL);
	out("moved_child", "ok data='%s'", get("d/moved/f"));
	do_stat("stat_old_child_gone", "rd1/f", true, NULL);
	rc("rename_file_across", rename("d/moved/f", "rd2/f"));
	out("moved_file", "ok data='%s'", get("rd2/f"));
	rc("rename_dir_back", rename("d/moved", "rd1"));
	do_stat("stat_d_after_move_back", "d", true, NULL);
	rc("rename_dot", rename(".", "x"));
	rc("rename_under_file", rename("a/x", "y"));
	rc("rename_symlink", rename("dangling", "dangling2"));
	do_stat("lstat_dangling2", "dangling2", false, NULL);
	rename("dangling2", "dangling");
	rc("rename_bad_flags", renameat2(AT_FDCWD, "r3", AT_FDCWD, "r4", 0x100));
}

static void print_xattr(const char *step, const char *path, const char *name)
{
	char buf[8192];
	ssize_t n = getxattr(path, name, buf, sizeof(buf));

	if (n < 0)
		out(step, "%s", errname(errno));
	else if (n <= 64)
		out(step, "ret=%zd value='%.*s'", n, (int)n, buf);
	else
		out(step, "ret=%zd sum=%016" PRIx64, n, fnv(FNV_INIT, buf, n));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* print the sorted user.* names; other namespaces are the backing fs's business */
static void print_xattr_list(const char *step, const char *path)
{
	char buf[8192], *names[128];
	ssize_t probe, n;
	int cnt = 0;

	probe = listxattr(path, NULL, 0);
	n = listxattr(path, buf, sizeof(buf));
	if (n < 0) {
		out(step, "%s", errname(errno));
		return;
	}
	for (char *p = buf; p < buf + n && cnt < 128; p += strlen(p) + 1)
		if (!strncmp(p, "user.", 5))
			names[cnt++] = p;
	qsort(names, cnt, sizeof(names[0]), cmp_str);
	printf("%s: ok probe==size=%d names=", step, probe == n);
	for (int i = 0; i < cnt; i++)
		printf("%s%s", i ? "," : "", names[i]);
	putchar('\n');
	fflush(stdout);
}

static void t_xattr(void)
{
	char big[4000], small[2];
	int fd;

	put("x", "xattr file");
	print_xattr("getxattr_none", "x", "user.none");
	rc("setxattr_k1", setxattr("x", "user.k1", "v1", 2, 0));
	print_xattr("getxattr_k1", "x", "user.k1");
	rcn("getxattr_k1_probe", getxattr("x", "user.k1", NULL, 0));
	rcn("getxattr_k1_erange", getxattr("x", "user.k1", small, 1));
	rc("setxattr_create_exists", setxattr("x", "user.k1", "zz", 2, XATTR_CREATE));
	rc("setxattr_replace_missing", setxattr("x", "user.k2", "zz", 2, XATTR_REPLACE));
	rc("setxattr_replace", setxattr("x", "user.k1", "v1b", 3, XATTR_REPLACE));
	print_xattr("getxattr_k1_replaced", "x", "user.k1");
	rc("setxattr_create_k2", setxattr("x", "user.k2", "second", 6, XATTR_CREATE));
	rc("setxattr_empty", setxattr("x", "user.empty", "", 0, 0));
	print_xattr("getxattr_empty", "x", "user.empty");
	fill(big, sizeof(big), 7, 0);
	rc("setxattr_big", setxattr("x", "user.big", big, sizeof(big), 0));
	print_xattr("getxattr_big", "x", "user.big");
	rc("setxattr_bad_flags", setxattr("x", "user.k3", "v", 1, 0x40));
	rc("setxattr_bad_namespace", setxattr("x", "nosuchns.k", "v", 1, 0));
	rc("setxattr_empty_name", setxattr("x", "", "v", 1, 0));
	print_xattr_list("listxattr_x", "x");
	rcn("listxattr_erange", listxattr("x", small, 1));
	rc("removexattr_k2", removexattr("x", "user.k2"));
	rc("removexattr_k2_again", removexattr("x", "user.k2"));
	print_xattr("getxattr_k2_removed", "x", "user.k2");
	print_xattr_list("listxattr_x_after_remove", "x");

	fd = open("x", O_RDONLY);
	rc("fsetxattr", fsetxattr(fd, "user.fd", "byfd", 4, 0));
	{
		char v[16];
		ssize_t n = fgetxattr(fd, "user.fd", v, sizeof(v));

		if (n < 0)
			out("fgetxattr", "%s", errname(errno));
		else
			out("fgetxattr", "ret=%zd value='%.*s'", n, (int)n, v);
	}
	rc("fremovexattr_missing", fremovexattr(fd, "user.nope"));
	close(fd);

	rc("setxattr_dir", setxattr("d", "user.dirattr", "dv", 2, 0));
	print_xattr("getxattr_dir", "d", "user.dirattr");
	print_xattr_list("listxattr_dir", "d");
	rc("lsetxattr_symlink_user", lsetxattr("sl", "user.s", "v", 1, 0));
	{
		char v[16];

		rcn("lgetxattr_symlink", lgetxattr("sl", "user.s", v, sizeof(v)));
	}
	/* through the symlink: the target's attributes */
	print_xattr("getxattr_via_symlink", "sl", "user.none");
	rc("setxattr_missing", setxattr("nofile", "user.k", "v", 1, 0));
	print_xattr("getxattr_missing", "nofile", "user.k");
	print_xattr_list("listxattr_missing", "nofile");
	rc("removexattr_missing_file", removexattr("nofile", "user.k"));
	rc("setxattr_fifo_user", setxattr("fifo", "user.k", "v", 1, 0));
}

static void t_access(void)
{
	put("ax", "#!/bin/sh\n");
	chmod("ax", 0755);
	rc("access_f_ok", access("a", F_OK));
	rc("access_rw", access("a", R_OK | W_OK));
	rc("access_x_on_0755", access("ax", X_OK));
	rc("access_missing", access("nofile", F_OK));
	rc("access_missing_rw", access("nofile", R_OK | W_OK));
	rc("access_under_file", access("a/x", F_OK));
	rc("access_dir_rwx", access("d", R_OK | W_OK | X_OK));
	rc("access_bad_mode", access("a", 0100));
	rc("faccessat_eaccess", faccessat(AT_FDCWD, "a", R_OK, AT_EACCESS));
}

static void t_fallocate(void)
{
	char buf[16384];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open("fa", O_CREAT | O_RDWR, 0644);
	rc("fallocate_extend", fallocate(fd, 0, 0, 64 * KIB));
	if (fstat(fd, &st) == 0)
		out("fstat_fa_extend", "ok size=%jd", (intmax_t)st.st_size);
	n = pread(fd, buf, 4096, 60 * KIB);
	out("fa_extend_zero", "ok ret=%zd zero=%d", n, n == 4096 && all_zero(buf, 4096));
	rc("fallocate_keep_size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 64 * KIB, 64 * KIB));
	if (fstat(fd, &st) == 0)
		out("fstat_fa_keep_size", "ok size=%jd", (intmax_t)st.st_size);
	rcn("read_fa_beyond_keep_size", pread(fd, buf, 16, 64 * KIB));
	write_pat(fd, 3, 0, 64 * KIB);
	rc("fallocate_punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					4 * KIB, 8 * KIB));
	if (fstat(fd, &st) == 0)
		out("fstat_fa_punch", "ok size=%jd", (intmax_t)st.st_size);
	n = pread(fd, buf, sizeof(buf), 0);
	out("fa_punch_data", "ok ret=%zd before=%d hole_zero=%d after=%d", n,
	    buf[4095] == (char)pat(3, 4095), all_zero(buf + 4096, 8192),
	    buf[12288] == (char)pat(3, 12288));
	rc("fallocate_punch_no_keep", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	rc("fallocate_zero_len", fallocate(fd, 0, 0, 0));
	rc("fallocate_negative", fallocate(fd, 0, -1, 10));
	rc("fallocate_past_eof", fallocate(fd, 0, 100000, 1000));
	if (fstat(fd, &st) == 0)
		out("fstat_fa_past_eof", "ok size=%jd", (intmax_t)st.st_size);
	close(fd);
	print_sum("fa_sum", "fa");
	fd = open("fa", O_RDONLY);
	rc("fallocate_rdonly", fallocate(fd, 0, 0, 4096));
	close(fd);
	fd = open("d", O_RDONLY | O_DIRECTORY);
	rc("fallocate_dir", fallocate(fd, 0, 0, 4096));
	close(fd);
}

static void t_copy_file_range(void)
{
	loff_t oi, oo;
	ssize_t n;
	int in, outfd;

	in = open("cfs", O_CREAT | O_RDWR, 0644);
	write_pat(in, 5, 0, 100000);
	outfd = open("cfd", O_CREAT | O_RDWR, 0644);
	{
		char x[1000];

		memset(x, 'x', sizeof(x));
		rcn("write_cfd", write(outfd, x, sizeof(x)));
	}
	oi = 10;
	oo = 500;
	n = rcn("copy_file_range", copy_file_range(in, &oi, outfd, &oo, 5000, 0));
	out("copy_file_range_offsets", "ok off_in=%jd off_out=%jd", (intmax_t)oi, (intmax_t)oo);
	oi = 99990;
	oo = 5500;
	n = rcn("copy_file_range_src_eof", copy_file_range(in, &oi, outfd, &oo, 100, 0));
	oi = 200000;
	n = rcn("copy_file_range_past_eof", copy_file_range(in, &oi, outfd, &oo, 100, 0));
	/* NULL offsets use and advance the file positions */
	lseek(in, 1234, SEEK_SET);
	lseek(outfd, 8000, SEEK_SET);
	n = rcn("copy_file_range_fpos", copy_file_range(in, NULL, outfd, NULL, 3000, 0));
	out("copy_file_range_fpos_after", "ok in=%jd out=%jd", (intmax_t)lseek(in, 0, SEEK_CUR),
	    (intmax_t)lseek(outfd, 0, SEEK_CUR));
	oi = 0;
	oo = 100;
	rcn("copy_file_range_overlap", copy_file_range(in, &oi, in, &oo, 1000, 0));
	oi = 0;
	oo = 0;
	rcn("copy_file_range_bad_flags", copy_file_range(in, &oi, outfd, &oo, 10, 1));
	close(outfd);
	close(in);
	(void)n;
	print_sum("cfd_sum", "cfd");
	print_sum("cfs_sum", "cfs");
	in = open("cfs", O_RDONLY);
	outfd = open("cfd", O_RDONLY);
	oi = oo = 0;
	rcn("copy_file_range_rdonly_dst", copy_file_range(in, &oi, outfd, &oo, 10, 0));
	close(outfd);
	outfd = open("d", O_RDONLY | O_DIRECTORY);
	rcn("copy_file_range_dir_dst", copy_file_range(in, &oi, outfd, &oo, 10, 0));
	close(outfd);
	close(in);
}

static void print_seek(const char *step, int fd, off_t off, int whence)
{
	off_t r = lseek(fd, off, whence);

	if (r < 0)
		out(step, "%s", errname(errno));
	else
		out(step, "ret=%jd", (intmax_t)r);
}

static void t_sparse(void)
{
	int fd;

	/* coarse layout so every block size up to 64 KiB gives the same answer */
	fd = open("sparse", O_CREAT | O_RDWR, 0644);
	write_pat(fd, 9, 0, 64 * KIB);
	write_pat(fd, 9, MIB, 64 * KIB);
	rc("ftruncate_sparse", ftruncate(fd, 2 * MIB));
	rc("fsync_sparse", fsync(fd));
	print_seek("seek_data_0", fd, 0, SEEK_DATA);
	print_seek("seek_hole_0", fd, 0, SEEK_HOLE);
	print_seek("seek_data_64k", fd, 64 * KIB, SEEK_DATA);
	print_seek("seek_hole_1m", fd, MIB, SEEK_HOLE);
	print_seek("seek_data_after_2nd", fd, MIB + 64 * KIB, SEEK_DATA);
	print_seek("seek_hole_last_byte", fd, 2 * MIB - 1, SEEK_HOLE);
	print_seek("seek_data_eof", fd, 2 * MIB, SEEK_DATA);
	print_seek("seek_hole_past_eof", fd, 3 * MIB, SEEK_HOLE);
	print_seek("seek_data_negative", fd, -1, SEEK_DATA);
	print_seek("seek_end_minus", fd, -10, SEEK_END);
	print_seek("seek_bad_whence", fd, 0, 42);
	close(fd);
	print_sum("sparse_sum", "sparse");
}

static void t_flock(void)
{
	int fd1, fd2;

	put("lk", "lock file");
	fd1 = open("lk", O_RDWR);
	fd2 = open("lk", O_RDWR);
	rc("flock_ex", flock(fd1, LOCK_EX));
	rc("flock_ex_nb_conflict", flock(fd2, LOCK_EX | LOCK_NB));
	rc("flock_sh_nb_conflict", flock(fd2, LOCK_SH | LOCK_NB));
	rc("flock_ex_again_same_ofd", flock(fd1, LOCK_EX | LOCK_NB));
	rc("flock_un", flock(fd1, LOCK_UN));
	rc("flock_ex_nb_after_un", flock(fd2, LOCK_EX | LOCK_NB));
	rc("flock_sh_nb_conflict2", flock(fd1, LOCK_SH | LOCK_NB));
	rc("flock_un2", flock(fd2, LOCK_UN));
	rc("flock_sh1", flock(fd1, LOCK_SH | LOCK_NB));
	rc("flock_sh2", flock(fd2, LOCK_SH | LOCK_NB));
	rc("flock_upgrade_conflict", flock(fd1, LOCK_EX | LOCK_NB));
	rc("flock_bad_op", flock(fd1, 0));
	close(fd2);
	/* closing the other description released its lock */
	rc("flock_upgrade_after_close", flock(fd1, LOCK_EX | LOCK_NB));
	close(fd1);
}

static const char *ltype(short t)
{
	return t == F_RDLCK ? "rd" : t == F_WRLCK ? "wr" : t == F_UNLCK ? "un" : "?";
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

/* child side: run lock probes, report lines into the pipe */
static void lock_child(int wfd, pid_t parent)
{
	struct flock fl;
	int fd = open("lk", O_RDWR);

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 10;
	fl.l_len = 20;
	if (fcntl(fd, F_GETLK, &fl) < 0)
		dprintf(wfd, "child_getlk_conflict: %s\n", errname(errno));
	else
		dprintf(wfd, "child_getlk_conflict: ok type=%s start=%jd len=%jd pid==parent=%d\n",
			ltype(fl.l_type), (intmax_t)fl.l_start, (intmax_t)fl.l_len,
			fl.l_pid == parent);
	if (setlk(fd, F_SETLK, F_RDLCK, 50, 10) < 0)
		dprintf(wfd, "child_setlk_conflict: %s\n",
			errno == EACCES ? "EWOULDBLOCK" : errname(errno));
	else
		dprintf(wfd, "child_setlk_conflict: ok\n");
	dprintf(wfd, "child_setlk_free_range: %s\n",
		setlk(fd, F_SETLK, F_WRLCK, 200, 100) < 0 ? errname(errno) : "ok");
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 500;
	fl.l_len = 10;
	if (fcntl(fd, F_GETLK, &fl) < 0)
		dprintf(wfd, "child_getlk_free: %s\n", errname(errno));
	else
		dprintf(wfd, "child_getlk_free: ok type=%s\n", ltype(fl.l_type));
	/* a read lock over the parent's read-locked range is compatible */
	dprintf(wfd, "child_setlk_shared: %s\n",
		setlk(fd, F_SETLK, F_RDLCK, 150, 10) < 0 ? errname(errno) : "ok");
	close(fd);
}

static void run_child(const char *step, void (*fn)(int, pid_t))
{
	char buf[4096];
	int p[2], status = -1;
	pid_t pid, parent = getpid();
	ssize_t n, len = 0;

	if (pipe(p) < 0)
		die("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		fn(p[1], parent);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	fputs(buf, stdout);
	out(step, "ok exited=%d", WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void lock_child2(int wfd, pid_t parent)
{
	int fd = open("lk", O_RDWR);

	(void)parent;
	dprintf(wfd, "child2_setlk_after_unlock: %s\n",
		setlk(fd, F_SETLK, F_WRLCK, 0, 100) < 0 ? errname(errno) : "ok");
	close(fd);
}

static void t_posix_locks(void)
{
	struct flock fl;
	int fd, fd2, ofd1, ofd2;

	fd = open("lk", O_RDWR);
	rc("setlk_wr_0_100", setlk(fd, F_SETLK, F_WRLCK, 0, 100));
	rc("setlk_rd_150_10", setlk(fd, F_SETLK, F_RDLCK, 150, 10));
	run_child("lock_child", lock_child);
	rc("setlk_unlock", setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	run_child("lock_child2", lock_child2);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	rc("getlk_own_none", fcntl(fd, F_GETLK, &fl));
	out("getlk_own_type", "ok type=%s", ltype(fl.l_type));
	fd2 = open("lk", O_RDONLY);
	rc("setlk_wr_on_rdonly", setlk(fd2, F_SETLK, F_WRLCK, 0, 1));
	rc("setlk_bad_type", setlk(fd, F_SETLK, 42, 0, 1));
	close(fd2);
	close(fd);

	/* open file description locks conflict between descriptions of one process */
	ofd1 = open("lk", O_RDWR);
	ofd2 = open("lk", O_RDWR);
	rc("ofd_setlk", setlk(ofd1, F_OFD_SETLK, F_WRLCK, 0, 10));
	rc("ofd_setlk_conflict", setlk(ofd2, F_OFD_SETLK, F_WRLCK, 5, 10));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	fl.l_len = 1;
	rc("ofd_getlk", fcntl(ofd2, F_OFD_GETLK, &fl));
	out("ofd_getlk_result", "ok type=%s start=%jd len=%jd pid=%d", ltype(fl.l_type),
	    (intmax_t)fl.l_start, (intmax_t)fl.l_len, fl.l_pid);
	close(ofd1);
	rc("ofd_setlk_after_close", setlk(ofd2, F_OFD_SETLK, F_WRLCK, 5, 10));
	close(ofd2);
}

static void t_mmap(void)
{
	unsigned char *p;
	uint64_t h;
	int fd;

	fd = open("mm", O_CREAT | O_RDWR, 0644);
	write_pat(fd, 11, 0, 5 * 4096 + 123);
	p = mmap(NULL, 6 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		out("mmap_shared_rw", "%s", errname(errno));
		close(fd);
		return;
	}
	out("mmap_shared_rw", "ok");
	h = fnv(FNV_INIT, p, 5 * 4096 + 123);
	out("mmap_read", "ok sum=%016" PRIx64 " tail_zero=%d", h, all_zero(p + 5 * 4096 + 123,
									   4096 - 123));
	memcpy(p, "MMAP-WRITE", 10);
	memset(p + 3 * 4096 + 7, 'Z', 5000);
	rc("msync", msync(p, 6 * 4096, MS_SYNC));
	/* a write() is visible through the mapping */
	rcn("pwrite_under_mmap", pwrite(fd, "pw", 2, 4096));
	out("mmap_sees_write", "ok match=%d", !memcmp(p + 4096, "pw", 2));
	rc("munmap", munmap(p, 6 * 4096));
	close(fd);
	print_sum("mm_sum", "mm");

	fd = open("mm", O_RDONLY);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	out("mmap_shared_rw_on_rdonly", "%s", p == MAP_FAILED ? errname(errno) : "ok");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		out("mmap_private_ro", "%s", errname(errno));
	else
		out("mmap_private_ro", "ok data='%.10s'", (char *)p);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(fd);

	/* extend through ftruncate, then write through the mapping */
	fd = open("mm2", O_CREAT | O_RDWR, 0644);
	rc("ftruncate_mm2", ftruncate(fd, 3 * 4096));
	p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		fill(p, 3 * 4096, 13, 0);
		rc("msync_mm2", msync(p, 3 * 4096, MS_SYNC));
		munmap(p, 3 * 4096);
	} else {
		out("mmap_mm2", "%s", errname(errno));
	}
	close(fd);
	print_sum("mm2_sum", "mm2");
}

static void t_big(void)
{
	const off_t size = 8 * MIB;
	uint64_t want = FNV_INIT, got;
	static char buf[131072];
	off_t n;
	int fd;

	fd = rc("create_big", open("big", O_CREAT | O_EXCL | O_WRONLY, 0644));
	rc("write_big", write_pat(fd, 21, 0, size));
	rc("fsync_big", fsync(fd));
	rc("close_big", close(fd));
	for (off_t o = 0; o < size; o += sizeof(buf)) {
		fill(buf, sizeof(buf), 21, o);
		want = fnv(want, buf, sizeof(buf));
	}
	n = file_sum("big", &got);
	if (n < 0)
		out("read_big", "%s", errname((int)-n));
	else
		out("read_big", "ok bytes=%jd match=%d sum=%016" PRIx64, (intmax_t)n,
		    got == want, got);
	/* unaligned rewrite in the middle, then re-read */
	fd = open("big", O_WRONLY);
	rc("rewrite_big_middle", write_pat(fd, 22, 3 * MIB + 17, 300001));
	close(fd);
	print_sum("big_sum_after_rewrite", "big");
}

/* one write() and one read() far larger than any FUSE request */
static void t_huge_io(void)
{
	const size_t len = 9 * MIB + 7;
	char *w = malloc(len), *r = malloc(len + 100);
	ssize_t n;
	int fd;

	if (!w || !r)
		die("malloc");
	fill(w, len, 31, 0);
	fd = open("huge", O_CREAT | O_RDWR | O_TRUNC, 0644);
	rcn("write_9m_single_call", write(fd, w, len));
	memset(r, 0, len);
	n = rcn("pread_9m_single_call", pread(fd, r, len + 100, 0));
	out("huge_match", "ok match=%d", n == (ssize_t)len && !memcmp(w, r, len));
	close(fd);
	rc("unlink_huge", unlink("huge"));
	free(w);
	free(r);
}

/* offsets past 4 GiB: 64-bit offsets survive every layer */
static void t_far_offsets(void)
{
	const off_t far = 5L * 1024 * MIB;
	struct stat st;
	char buf[16];
	ssize_t n;
	int fd;

	fd = open("far", O_CREAT | O_RDWR | O_TRUNC, 0644);
	rcn("pwrite_5g", pwrite(fd, "far-away", 8, far + 3));
	if (fstat(fd, &st) == 0)
		out("fstat_far", "ok size=%jd", (intmax_t)st.st_size);
	n = pread(fd, buf, sizeof(buf), far);
	out("pread_5g", "ok ret=%zd match=%d", n, n == 11 && !memcmp(buf, "\0\0\0far-away", 11));
	n = pread(fd, buf, 8, 4L * 1024 * MIB);
	out("pread_4g_hole", "ok ret=%zd zero=%d", n, n == 8 && all_zero(buf, 8));
	print_seek("seek_data_far", fd, MIB, SEEK_DATA);
	print_seek("seek_hole_far", fd, 0, SEEK_HOLE);
	rc("ftruncate_far_shrink", ftruncate(fd, far + 5));
	n = pread(fd, buf, sizeof(buf), far);
	out("pread_far_after_shrink", "ok ret=%zd", n);
	rc("ftruncate_far_zero", ftruncate(fd, 0));
	close(fd);
	rc("unlink_far", unlink("far"));
}

static void t_odirect(void)
{
	void *buf;
	ssize_t n;
	int fd;

	if (posix_memalign(&buf, 4096, 8192))
		die("posix_memalign");
	fill(buf, 8192, 41, 0);
	fd = open("direct", O_CREAT | O_RDWR | O_DIRECT, 0644);
	if (fd < 0) {
		out("open_odirect", "%s", errname(errno));
		free(buf);
		return;
	}
	out("open_odirect", "ok");
	rcn("pwrite_odirect", pwrite(fd, buf, 8192, 4096));
	memset(buf, 0, 8192);
	n = rcn("pread_odirect", pread(fd, buf, 8192, 0));
	if (n == 8192)
		out("pread_odirect_data", "ok hole_zero=%d data_sum=%016" PRIx64, all_zero(buf, 4096),
		    fnv(FNV_INIT, (char *)buf + 4096, 4096));
	close(fd);
	print_sum("direct_sum", "direct");
	free(buf);
}

static void t_append_pwrite(void)
{
	char buf[32];
	int fd;

	put("ap", "base");
	fd = open("ap", O_WRONLY | O_APPEND);
	/* Linux: pwrite on an O_APPEND descriptor appends whatever the offset */
	rcn("pwrite_append_fd", pwrite(fd, "P", 1, 0));
	close(fd);
	snprintf(buf, sizeof(buf), "%s", get("ap"));
	out("ap_content", "ok data='%s'", buf);
}

static void t_links_across(void)
{
	put("lx", "lx");
	rc("link_into_dir", link("lx", "d/lx_link"));
	rc("rename_link_across", rename("d/lx_link", "rd2/lx_moved"));
	do_stat("stat_lx_nlink2", "lx", true, NULL);
	rc("unlink_lx", unlink("lx"));
	do_stat("stat_lx_moved_nlink1", "rd2/lx_moved", true, NULL);
	out("lx_moved_content", "ok data='%s'", get("rd2/lx_moved"));
	rc("unlink_lx_moved", unlink("rd2/lx_moved"));
}

static void t_tmpfile(void)
{
	char p[64];
	int fd;

	fd = open(".", O_TMPFILE | O_RDWR, 0600);
	if (fd < 0) {
		out("open_tmpfile", "%s", errname(errno));
		return;
	}
	out("open_tmpfile", "ok");
	rcn("write_tmpfile", write(fd, "anon", 4));
	do_fstat("fstat_tmpfile", fd, NULL);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	rc("linkat_tmpfile", linkat(AT_FDCWD, p, AT_FDCWD, "tmpfile_linked", AT_SYMLINK_FOLLOW));
	do_stat("stat_tmpfile_linked", "tmpfile_linked", true, NULL);
	out("tmpfile_content", "ok data='%s'", get("tmpfile_linked"));
	close(fd);
	rc("unlink_tmpfile_linked", unlink("tmpfile_linked"));
}

/* set-gid directories hand their group and (to subdirs) the bit down */
static void t_setgid_dir(void)
{
	int fd;

	mkdir("sg", 0755);
	rc("chown_sg", chown("sg", 0, 4242));
	rc("chmod_sg", chmod("sg", 02775));
	do_stat("stat_sg", "sg", true, NULL);
	fd = open("sg/file", O_CREAT | O_WRONLY, 0644);
	close(fd);
	do_stat("stat_sg_file", "sg/file", true, NULL);
	rc("mkdir_sg_sub", mkdir("sg/sub", 0755));
	do_stat("stat_sg_sub", "sg/sub", true, NULL);
	rc("mknod_sg_fifo", mknod("sg/fifo", S_IFIFO | 0644, 0));
	do_stat("stat_sg_fifo", "sg/fifo", false, NULL);
	rc("symlink_sg", symlink("file", "sg/sl"));
	do_stat("lstat_sg_sl", "sg/sl", false, NULL);
}

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *dtype_name(unsigned char t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_FIFO: return "fifo";
	case DT_CHR: return "chr";
	case DT_BLK: return "blk";
	case DT_SOCK: return "sock";
	default: return "unknown";
	}
}

/*
 * Read a directory completely; returns the number of entries including "."
 * and "..". Stores a strdup'ed sorted name list (without . and ..) and checks
 * every d_type against lstat (DT_UNKNOWN is allowed).
 */
static int read_dir(const char *path, char ***names_out, int *dtype_bad)
{
	char **names = NULL;
	struct dirent *de;
	int n = 0, cnt = 0, cap = 0;
	DIR *dir;

	*dtype_bad = 0;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((errno = 0, de = readdir(dir))) {
		char p[PATH_MAX];
		struct stat st;

		n++;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (de->d_type != DT_UNKNOWN &&
		    (lstat(p, &st) < 0 || strcmp(dtype_name(de->d_type), ftype(st.st_mode))))
			(*dtype_bad)++;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		names[cnt++] = strdup(de->d_name);
	}
	closedir(dir);
	if (cnt) /* an empty directory leaves names NULL: qsort(NULL, ...) is undefined */
		qsort(names, cnt, sizeof(*names), cmp_ent);
	*names_out = names;
	return n;
}

static void free_names(char **names, int cnt)
{
	for (int i = 0; i < cnt; i++)
		free(names[i]);
	free(names);
}

/* one-line listing: name:type[:size] for every entry, sorted */
static void print_listing(const char *step, const char *path)
{
	char **names;
	int bad, n;

	n = read_dir(path, &names, &bad);
	if (n < 0) {
		out(step, "%s", errname(-n));
		return;
	}
	printf("%s: ok entries=%d dtype_bad=%d list=", step, n, bad);
	for (int i = 0; i < n - 2; i++) {
		char p[PATH_MAX];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", path, names[i]);
		if (lstat(p, &st) < 0)
			printf("%s%s:%s", i ? "," : "", names[i], errname(errno));
		else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
			printf("%s%s:%s:%04o:%jd", i ? "," : "", names[i], ftype(st.st_mode),
			       (unsigned)(st.st_mode & 07777), (intmax_t)st.st_size);
		else
			printf("%s%s:%s:%04o", i ? "," : "", names[i], ftype(st.st_mode),
			       (unsigned)(st.st_mode & 07777));
	}
	putchar('\n');
	fflush(stdout);
	free_names(names, n - 2);
}

static void t_readdir(void)
{
	char p[64], **names, *first[400], *again[400];
	int n, bad, nfirst = 0, nagain = 0, same;
	struct dirent *de;
	uint64_t h = FNV_INIT;
	long pos;
	DIR *dir;
	int fd;

	rc("mkdir_many", mkdir("many", 0755));
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "many/%s%03d_%s", i % 15 ? "f" : "d", i,
			 "with_a_longer_name_to_fill_buffers");
		if (i % 15) {
			fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0644);
			if (fd < 0)
				break;
			close(fd);
		} else if (mkdir(p, 0755) < 0) {
			break;
		}
	}
	n = read_dir("many", &names, &bad);
	if (n < 0) {
		out("readdir_many", "%s", errname(-n));
	} else {
		for (int i = 0; i < n - 2; i++)
			h = fnv(h, names[i], strlen(names[i]) + 1);
		out("readdir_many", "ok entries=%d dtype_bad=%d first=%s last=%s names_sum=%016"
		    PRIx64, n, bad, names[0], names[n - 3], h);
		free_names(names, n - 2);
	}

	/* telldir/seekdir: the tail read after seeking back must repeat */
	dir = opendir("many");
	for (int i = 0; i < 150 && readdir(dir); i++)
		;
	pos = telldir(dir);
	while ((de = readdir(dir)) && nfirst < 400)
		first[nfirst++] = strdup(de->d_name);
	seekdir(dir, pos);
	while ((de = readdir(dir)) && nagain < 400)
		again[nagain++] = strdup(de->d_name);
	same = nfirst == nagain;
	for (int i = 0; same && i < nfirst; i++)
		same = !strcmp(first[i], again[i]);
	out("seekdir_telldir", "ok tail=%d tail_again=%d same=%d", nfirst, nagain, same);
	rewinddir(dir);
	n = 0;
	while (readdir(dir))
		n++;
	out("rewinddir", "ok entries=%d", n);
	/* seek to the very beginning via a saved position */
	rewinddir(dir);
	pos = telldir(dir);
	readdir(dir);
	readdir(dir);
	seekdir(dir, pos);
	n = 0;
	while (readdir(dir))
		n++;
	out("seekdir_start", "ok entries=%d", n);
	closedir(dir);
	for (int i = 0; i < nfirst; i++)
		free(first[i]);
	for (int i = 0; i < nagain; i++)
		free(again[i]);

	/* remove a third of the entries; the listing must shrink accordingly */
	for (int i = 0; i < 300; i += 3) {
		snprintf(p, sizeof(p), "many/%s%03d_%s", i % 15 ? "f" : "d", i,
			 "with_a_longer_name_to_fill_buffers");
		if (i % 15)
			unlink(p);
		else
			rmdir(p);
	}
	n = read_dir("many", &names, &bad);
	if (n >= 0) {
		h = FNV_INIT;
		for (int i = 0; i < n - 2; i++)
			h = fnv(h, names[i], strlen(names[i]) + 1);
		out("readdir_many_after_unlink", "ok entries=%d dtype_bad=%d names_sum=%016" PRIx64,
		    n, bad, h);
		free_names(names, n - 2);
	} else {
		out("readdir_many_after_unlink", "%s", errname(-n));
	}

	/* readdir while the directory changes: new entry visible after rewind */
	dir = opendir("many");
	readdir(dir);
	fd = open("many/zz_new", O_CREAT | O_WRONLY, 0644);
	close(fd);
	rewinddir(dir);
	n = 0;
	while ((de = readdir(dir)))
		n += !strcmp(de->d_name, "zz_new");
	out("readdir_sees_new_after_rewind", "ok found=%d", n);
	closedir(dir);

	mkdir("empty", 0755);
	print_listing("readdir_empty", "empty");
	dir = opendir("a");
	out("opendir_file", "%s", dir ? "ok" : errname(errno));
	if (dir)
		closedir(dir);
	dir = opendir("nodir");
	out("opendir_missing", "%s", dir ? "ok" : errname(errno));
	if (dir)
		closedir(dir);
	print_listing("readdir_d", "d");
}

static void t_fsync_dir(void)
{
	int fd = rc("open_dir_fd", open("d", O_RDONLY | O_DIRECTORY));

	rc("fsync_dir", fsync(fd));
	rc("fdatasync_dir", fdatasync(fd));
	rc("close_dir_fd", close(fd));
	fd = open(".", O_RDONLY | O_DIRECTORY);
	rc("fsync_root_dir", fsync(fd));
	rcn("read_dir_fd", read(fd, (char[16]){ 0 }, 16));
	close(fd);
}

static void t_statfs(void)
{
	struct statvfs sv;
	int fd;

	if (rc("statvfs", statvfs(".", &sv)) == 0)
		out("statvfs_sanity", "ok bsize_pos=%d frsize_pos=%d blocks_pos=%d "
		    "bfree_le_blocks=%d bavail_le_bfree=%d files_pos=%d ffree_le_files=%d "
		    "namemax=%lu",
		    sv.f_bsize > 0, sv.f_frsize > 0, sv.f_blocks > 0, sv.f_bfree <= sv.f_blocks,
		    sv.f_bavail <= sv.f_bfree, sv.f_files > 0, sv.f_ffree <= sv.f_files,
		    sv.f_namemax);
	fd = open("a", O_RDONLY);
	if (rc("fstatvfs", fstatvfs(fd, &sv)) == 0)
		out("fstatvfs_sanity", "ok blocks_pos=%d bfree_le_blocks=%d", sv.f_blocks > 0,
		    sv.f_bfree <= sv.f_blocks);
	close(fd);
	rc("statvfs_missing", statvfs("nofile", &sv));
	rc("statvfs_subdir", statvfs("d", &sv));
}

int main(int argc, char **argv)
{
	char **names;
	int n, bad;

	if (argc != 2) {
		fprintf(stderr, "usage: posix_ops DIR\n");
		return 2;
	}
	if (chdir(argv[1]) < 0)
		die(argv[1]);
	n = read_dir(".", &names, &bad);
	if (n < 0) {
		errno = -n;
		die("cannot read directory");
	}
	if (n != 2) {
		fprintf(stderr, "posix_ops: directory '%s' is not empty\n", argv[1]);
		return 2;
	}
	free(names);
	umask(022);
	setvbuf(stdout, NULL, _IOLBF, 0);

	t_create_rw();
	t_lookup();
	t_dirs();
	t_mknod();
	t_symlinks();
	t_links();
	t_unlink();
	t_chmod_chown();
	t_truncate();
	t_utimens();
	t_rename();
	t_xattr();
	t_access();
	t_fallocate();
	t_copy_file_range();
	t_sparse();
	t_flock();
	t_posix_locks();
	t_mmap();
	t_big();
	t_huge_io();
	t_far_offsets();
	t_odirect();
	t_append_pwrite();
	t_links_across();
	t_tmpfile();
	t_setgid_dir();
	t_readdir();
	t_fsync_dir();
	t_statfs();
	print_listing("final_listing", ".");
	out("done", "ok");
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * backend_local.c - a directory (local disk, NFS, CephFS...) as the store.
 *
 * Handle-based, as libfuse's passthrough_hp: every inode holds an O_PATH
 * descriptor of its object and every operation is an *at() call relative to
 * one, so renames behind our back never make us act on the wrong object and
 * no path is ever rebuilt from names.  Operations that have no *at() form for
 * O_PATH descriptors go through the descriptor's /proc/self/fd/N magic link,
 * which names the very object the descriptor holds.
 *
 * Descriptors are a bounded resource (RLIMIT_NOFILE, which an unprivileged
 * container may not raise), and a dataset has millions of files.  So an
 * inode keeps its O_PATH descriptor only while fewer than fd_budget are
 * kept (half the fd limit); beyond that it keeps a kernel file handle
 * (name_to_handle_at) and each operation reopens the object with
 * open_by_handle_at for its own duration: one extra syscall, no limit on
 * the number of files.  Sources whose filesystem has no file handles keep
 * descriptors (and are bounded by the fd limit).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "backend_local.h"

#include "backend.h"
#include "config.h"
#include "fs.h"
#include "log.h"
#include "watch.h"
#include "backend_local_priv.h"
static int local_lookup(struct backend *be, struct inode *dir, const char *name,
			struct backend_entry *out)
{
	int err = local_check_name(name);

	if (err)
		return err;
	OBJ_FD_OR_RETURN(dfd, be, dir);
	err = local_lookup_entry(be, dfd, name, out);
	local_obj_put(dir, dfd);
	return err;
}

static int local_getattr(struct backend *be, struct inode *ino, int fd, struct stat *st)
{
	int err = 0;

	if (fd >= 0)
		return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ? -errno : 0;
	OBJ_FD_OR_RETURN(ofd, be, ino);
	if (fstatat(ofd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		err = -errno;
	local_obj_put(ino, ofd);
	return err;
}

static int setattr_fd(struct inode *ino, int ofd, int fd, const struct stat *attr, int to_set)
{
	char path[PROC_FD_PATH_MAX];

	proc_path(path, ofd);
	if (to_set & BACKEND_SET_MODE) {
		if (S_ISLNK(ino->type))
			return -EOPNOTSUPP; /* Linux has no modes on symlinks */
		if ((fd >= 0 ? fchmod(fd, attr->st_mode) : chmod(path, attr->st_mode)))
			return -errno;
	}
	if (to_set & (BACKEND_SET_UID | BACKEND_SET_GID)) {
		uid_t uid = (to_set & BACKEND_SET_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (to_set & BACKEND_SET_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(ofd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			return -errno;
	}
	if (to_set & BACKEND_SET_SIZE) {
		if (attr->st_size < 0)
			return -EINVAL;
		if ((fd >= 0 ? ftruncate(fd, attr->st_size) : truncate(path, attr->st_size)))
			return -errno;
	}
	if (to_set & (BACKEND_SET_ATIME | BACKEND_SET_MTIME)) {
		struct timespec tv[2];

		tv[0].tv_sec = 0;
		tv[1].tv_sec = 0;
		tv[0].tv_nsec = UTIME_OMIT;
		tv[1].tv_nsec = UTIME_OMIT;
		if (to_set & BACKEND_SET_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (to_set & BACKEND_SET_ATIME)
			tv[0] = attr->st_atim;
		if (to_set & BACKEND_SET_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (to_set & BACKEND_SET_MTIME)
			tv[1] = attr->st_mtim;
		/*
		 * The magic link resolves to the object itself, symlinks
		 * included, so this never follows a symlink's target.
		 */
		if ((fd >= 0 ? futimens(fd, tv) : utimensat(AT_FDCWD, path, tv, 0)))
			return -errno;
	}
	return 0;
}

static int local_setattr(struct backend *be, struct inode *ino, int fd, const struct stat *attr,
			 int to_set)
{
	int err;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	err = setattr_fd(ino, ofd, fd, attr, to_set);
	local_obj_put(ino, ofd);
	return err;
}

static int local_readlink(struct backend *be, struct inode *ino, char *buf, size_t size)
{
	ssize_t n;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	n = readlinkat(ofd, "", buf, size);
	if (n < 0)
		n = -errno;
	local_obj_put(ino, ofd);
	return (int)n;
}

/*
 * The daemon runs as root: hand the new object held by @fd (any descriptor of
 * it, O_PATH included) to the user who asked for it.  In a set-group-ID
 * directory @dirfd the group it inherited is kept.  Never by name: the name
 * can be swapped behind the mount between the creation and the chown.
 */
static int fix_owner(int dirfd, int fd, const struct backend_cred *cred)
{
	struct stat dst;
	gid_t gid = cred->gid;

	if (cred->uid == geteuid() && cred->gid == getegid())
		return 0;
	if (fstatat(dirfd, "", &dst, AT_EMPTY_PATH))
		return -errno;
	if (dst.st_mode & S_ISGID)
		gid = (gid_t)-1;
	if (fchownat(fd, "", cred->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

/*
 * Objects made by name (mknod, mkdir, symlink) are handed over by name: the
 * time before the syscall, to tell what it made from an older object renamed
 * onto the name.  Creation times are in the filesystem's granularity (up to
 * 2 s on vfat): older than that margin is older than the syscall.  Not on a
 * network filesystem, whose server's clock may be behind ours.
 */
#define BIRTH_SLACK_S 2

static struct timespec before_create(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME_COARSE, &t);
	return t;
}

/*
 * Born before @after (less the slack), as far as the filesystem tells
 * creation times: then not the object the daemon just made.
 */
static int born_before(struct backend *be, int fd, const struct timespec *after)
{
	struct statx stx;

	if (be->cfg->remote_fs ||
	    statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx) ||
	    !(stx.stx_mask & STATX_BTIME))
		return 0;
	return stx.stx_btime.tv_sec + BIRTH_SLACK_S < after->tv_sec;
}

/*
 * BPFUSE_TEST_CREATE_STALL=NAME:MS: after making NAME by name, wait MS
 * milliseconds before taking it over (tests only: the window in which a user
 * may swap the name, held open; docs/semantics.md).
 */
static void test_create_stall(const char *name)
{
	const char *v = getenv("BPFUSE_TEST_CREATE_STALL");
	const char *colon = v ? strrchr(v, ':') : NULL;
	struct timespec t;
	unsigned long ms;

	if (!colon || (size_t)(colon - v) != strlen(name) || strncmp(v, name, strlen(name)))
		return;
	ms = strtoul(colon + 1, NULL, 10);
	t.tv_sec = (time_t)(ms / 1000);
	t.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/*
 * Finish a creation of an object of type @type as @name in @dfd: own it and
 * fill @out from the very object.  @fd is the new file's open descriptor
 * (create, which made it exclusively) or -1: then the name is resolved
 * without following a symlink, and, when it is to be chowned, what it holds
 * must be what we just made (our type, owned by the daemon, no other link,
 * born after @made_after where the filesystem records births), or the name
 * was swapped behind the mount meanwhile: -ESTALE (the VFS looks the name up
 * again) and nothing touched.  On other failures the object is removed again.
 */
static int finish_create(struct backend *be, int dfd, const char *name,
			 const struct backend_cred *cred, mode_t type, int fd,
			 const struct timespec *made_after, struct backend_entry *out)
{
	char path[PROC_FD_PATH_MAX];
	struct stat st;
	int pfd, err;

	if (fd >= 0) {
		proc_path(path, fd);
		pfd = open(path, O_PATH | O_CLOEXEC);
	} else {
		pfd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (pfd < 0) {
		err = -errno;
		goto out_remove;
	}
	if (fstat(pfd, &st)) {
		err = -errno;
		goto out_close;
	}
	/* only a chown can hurt: without one, any source's owners are fine (vfat) */
	if (fd < 0 && (cred->uid != geteuid() || cred->gid != getegid()) &&
	    ((st.st_mode & S_IFMT) != (type & S_IFMT) || st.st_uid != geteuid() ||
	     (!S_ISDIR(type) && st.st_nlink != 1) || born_before(be, pfd, made_after))) {
		close(pfd);
		return -ESTALE;
	}
	err = fix_owner(dfd, pfd, cred);
	if (!err)
		err = local_entry_from_fd(pfd, out);
	if (err)
		goto out_close;
	local_entry_economize(be, out, dfd);
	return 0;
out_close:
	close(pfd);
out_remove:
	unlinkat(dfd, name, S_ISDIR(type) ? AT_REMOVEDIR : 0);
	return err;
}

/*
 * Create with the caller's umask (FUSE_DONT_MASK: @mode is not masked).  The
 * source applies the process umask itself, and only where no default ACL of
 * the parent decides instead (posix_acl_create()), exactly as for the caller
 * on the source directly.  A umask is per fs_struct, so each worker thread
 * takes its own (unshare(CLONE_FS)) at its first creation and remembers the
 * umask it set.  Returns the mode to create with: @mode, or @mode with the
 * umask applied here when the thread cannot have its own (then a default
 * ACL no longer overrides the umask).
 */
static __thread int tl_own_umask; /* 1: own fs_struct, -1: unshare failed */
static __thread mode_t tl_umask;

static mode_t creation_mode(mode_t mode, const struct backend_cred *cred)
{
	mode_t mask = cred->umask & 0777;

	if (!tl_own_umask) {
		if (unshare(CLONE_FS)) {
			tl_own_umask = -1;
		} else {
			tl_own_umask = 1;
			umask(mask);
			tl_umask = mask;
		}
	}
	if (tl_own_umask < 0)
		return mode & ~mask;
	if (tl_umask != mask) {
		umask(mask);
		tl_umask = mask;
	}
	return mode;
}

static int local_mknod(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		       dev_t rdev, const struct backend_cred *cred, struct backend_entry *out)
{
	struct timespec before;
	struct watch_own *own;
	int err = local_check_name(name);

	if (err)
		return err;
	mode = creation_mode(mode, cred);
	OBJ_FD_OR_RETURN(dfd, be, dir);
	own = watch_own_begin(be->fs, dir, name, IN_CREATE);
	before = before_create();
	if (S_ISDIR(mode) ? mkdirat(dfd, name, mode & ~S_IFMT) : mknodat(dfd, name, mode, rdev))
		err = -errno;
	watch_own_end(be->fs, own, err);
	if (!err) {
		test_create_stall(name);
		err = finish_create(be, dfd, name, cred, mode, -1, &before, out);
	}
	local_obj_put(dir, dfd);
	return err;
}

static int local_symlink(struct backend *be, struct inode *dir, const char *name,
			 const char *target, const struct backend_cred *cred,
			 struct backend_entry *out)
{
	struct timespec before;
	struct watch_own *own;
	int err = local_check_name(name);

	if (err)
		return err;
	if (strnlen(target, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	OBJ_FD_OR_RETURN(dfd, be, dir);
	own = watch_own_begin(be->fs, dir, name, IN_CREATE);
	before = before_create();
	if (symlinkat(target, dfd, name))
		err = -errno;
	watch_own_end(be->fs, own, err);
	if (!err) {
		test_create_stall(name);
		err = finish_create(be, dfd, name, cred, S_IFLNK, -1, &before, out);
	}
	local_obj_put(dir, dfd);
	return err;
}

static int local_link(struct backend *be, struct inode *ino, struct inode *newdir,
		      const char *newname, struct backend_entry *out)
{
	char path[PROC_FD_PATH_MAX];
	struct watch_own *own;
	int ofd, dfd, err = local_check_name(newname);

	if (err)
		return err;
	ofd = local_obj_fd(be, ino);
	if (ofd < 0)
		return ofd;
	dfd = local_obj_fd(be, newdir);
	if (dfd < 0) {
		local_obj_put(ino, ofd);
		return dfd;
	}
	own = watch_own_begin(be->fs, newdir, newname, IN_CREATE);
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, which root has */
	if (linkat(ofd, "", dfd, newname, AT_EMPTY_PATH)) {
		err = -errno;
		proc_path(path, ofd);
		if ((err == -ENOENT || err == -EPERM || err == -EINVAL) &&
		    !linkat(AT_FDCWD, path, dfd, newname, AT_SYMLINK_FOLLOW))
			err = 0;
		else if (err == -ENOENT || err == -EPERM || err == -EINVAL)
			err = -errno;
	}
	watch_own_end(be->fs, own, err);
	if (!err)
		err = local_lookup_entry(be, dfd, newname, out);
	local_obj_put(newdir, dfd);
	local_obj_put(ino, ofd);
	return err;
}

static int remove_name(struct backend *be, struct inode *dir, const char *name, int flags)
{
	struct watch_own *own;
	int err = local_check_name(name);

	if (err)
		return err;
	OBJ_FD_OR_RETURN(dfd, be, dir);
	own = watch_own_begin(be->fs, dir, name, IN_DELETE);
	if (unlinkat(dfd, name, flags))
		err = -errno;
	watch_own_end(be->fs, own, err);
	local_obj_put(dir, dfd);
	return err;
}

static int local_unlink(struct backend *be, struct inode *dir, const char *name)
{
	return remove_name(be, dir, name, 0);
}

static int local_rmdir(struct backend *be, struct inode *dir, const char *name)
{
	return remove_name(be, dir, name, AT_REMOVEDIR);
}

static int local_rename(struct backend *be, struct inode *dir, const char *name,
			struct inode *newdir, const char *newname, unsigned int flags)
{
	struct watch_own *own[4] = { NULL };
	struct fs *fs = be->fs;
	int dfd, nfd, i, err = local_check_name(name);

	if (!err)
		err = local_check_name(newname);
	if (err)
		return err;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	dfd = local_obj_fd(be, dir);
	if (dfd < 0)
		return dfd;
	nfd = local_obj_fd(be, newdir);
	if (nfd < 0) {
		local_obj_put(dir, dfd);
		return nfd;
	}
	own[0] = watch_own_begin(fs, dir, name, IN_MOVED_FROM);
	own[1] = watch_own_begin(fs, newdir, newname, IN_MOVED_TO);
	if (flags & RENAME_EXCHANGE) { /* and the other way round */
		own[2] = watch_own_begin(fs, newdir, newname, IN_MOVED_FROM);
		own[3] = watch_own_begin(fs, dir, name, IN_MOVED_TO);
	}
	if (renameat2(dfd, name, nfd, newname, flags))
		err = -errno;
	for (i = 0; i < 4; i++)
		watch_own_end(fs, own[i], err);
	local_obj_put(newdir, nfd);
	local_obj_put(dir, dfd);
	return err;
}

static int local_open(struct backend *be, struct inode *ino, int flags, void *priv)
{
	char path[PROC_FD_PATH_MAX];
	int fd;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	proc_path(path, ofd);
	flags = (flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC;
	/* -o noatime: reads through the mount leave the source's atime alone */
	fd = open(path, flags | (LB(be)->file_noatime ? O_NOATIME : 0));
	if (fd < 0 && errno == EPERM && LB(be)->file_noatime) /* not root: not the owner */
		fd = open(path, flags);
	if (fd < 0)
		fd = -errno;
	local_obj_put(ino, ofd);
	return fd;
}

/*
 * CREATE lost a race with a creator behind the mount: the kernel had the name
 * as absent, so it checked no permission on the object now there, and the
 * daemon runs as root.  Nothing existing is opened here, by name or
 * otherwise: a directory gives EISDIR (what open(2) with O_CREAT gives,
 * whatever the access mode); anything else (a file, a symlink, a FIFO) gives
 * -ESTALE, on which the VFS looks the name up again and opens what it finds
 * itself, as the caller would have: following a symlink with the caller's
 * rights, checking the file's mode against the caller.
 */
static int create_found_existing(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? -ESTALE : -errno; /* gone again */
	return S_ISDIR(st.st_mode) ? -EISDIR : -ESTALE;
}

static int local_create(struct backend *be, struct inode *dir, const char *name, mode_t mode,
			int flags, const struct backend_cred *cred, struct backend_entry *out)
{
	struct watch_own *own;
	int fd, err = local_check_name(name);

	if (err)
		return err;
	mode = creation_mode(mode, cred);
	OBJ_FD_OR_RETURN(dfd, be, dir);
	flags = (flags & ~O_NOFOLLOW) | O_CLOEXEC;
	/*
	 * Create exclusively so we only ever chown what we made ourselves.
	 * O_EXCL never follows a symlink, even a dangling one.
	 */
	own = watch_own_begin(be->fs, dir, name, IN_CREATE);
	fd = openat(dfd, name, flags | O_CREAT | O_EXCL, mode);
	err = fd < 0 ? -errno : 0;
	watch_own_end(be->fs, own, err);
	if (fd >= 0) {
		err = finish_create(be, dfd, name, cred, S_IFREG, fd, NULL, out);
	} else if (err == -EEXIST && !(flags & O_EXCL)) {
		err = create_found_existing(dfd, name);
	}
	local_obj_put(dir, dfd);
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

static int local_tmpfile(struct backend *be, struct inode *dir, mode_t mode, int flags,
			 const struct backend_cred *cred, struct backend_entry *out)
{
	char path[PROC_FD_PATH_MAX];
	int fd, pfd, err;

	mode = creation_mode(mode, cred);
	OBJ_FD_OR_RETURN(dfd, be, dir);
	fd = openat(dfd, ".", (flags & (O_ACCMODE | O_EXCL)) | O_TMPFILE | O_CLOEXEC, mode);
	if (fd < 0)
		err = -errno;
	local_obj_put(dir, dfd);
	if (fd < 0)
		return err;
	if ((cred->uid != geteuid() || cred->gid != getegid()) &&
	    fchown(fd, cred->uid, cred->gid)) {
		err = -errno;
		goto out_close;
	}
	/* an unnamed file has no handle to reopen it by: keep a descriptor */
	proc_path(path, fd);
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		err = -errno;
		goto out_close;
	}
	err = local_entry_from_fd(pfd, out);
	if (err) {
		close(pfd);
		goto out_close;
	}
	__atomic_add_fetch(&LB(be)->fds_kept, 1, __ATOMIC_RELAXED);
	return fd;
out_close:
	close(fd);
	return err;
}

/* A directory open of the local backend (backend_dir.priv). */
struct local_dir {
	DIR *dp;
	struct dirent *entry;  /* entry read ahead and not yet returned */
};

static int local_opendir(struct backend *be, struct inode *ino, struct backend_dir *d)
{
	struct local_dir *ld;
	int fd;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	fd = openat(ofd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | (LB(be)->dir_noatime ? O_NOATIME : 0));
	if (fd < 0 && errno == EPERM && LB(be)->dir_noatime)
		fd = openat(ofd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	local_obj_put(ino, ofd);
	if (fd < 0)
		return fd;
	ld = calloc(1, sizeof(*ld));
	if (!ld) {
		close(fd);
		return -ENOMEM;
	}
	ld->dp = fdopendir(fd);
	if (!ld->dp) {
		int err = -errno;

		close(fd);
		free(ld);
		return err;
	}
	d->priv = ld;
	d->offset = 0;
	return 0;
}

static int local_readdir(struct backend *be, struct backend_dir *d, off_t off, struct dirent **ent)
{
	struct local_dir *ld = d->priv;

	(void)be;
	if (ld->entry && off == ld->entry->d_off && off != d->offset) {
		/* the caller took the buffered entry and asks for the next */
		ld->entry = NULL;
		d->offset = off;
	} else if (off != d->offset) {
		seekdir(ld->dp, off);
		ld->entry = NULL;
		d->offset = off;
	}
	if (!ld->entry) {
		errno = 0;
		ld->entry = readdir(ld->dp);
		if (!ld->entry)
			return errno ? -errno : 0;
	}
	*ent = ld->entry;
	return 1;
}

static void local_closedir(struct backend *be, struct backend_dir *d)
{
	struct local_dir *ld = d->priv;

	(void)be;
	if (ld) {
		closedir(ld->dp);
		free(ld);
	}
	d->priv = NULL;
}

static int local_fsyncdir(struct backend *be, struct backend_dir *d, int datasync)
{
	struct local_dir *ld = d->priv;
	int fd = dirfd(ld->dp);

	(void)be;
	return (datasync ? fdatasync(fd) : fsync(fd)) ? -errno : 0;
}

static int local_statfs(struct backend *be, struct inode *ino, struct statvfs *st)
{
	int err = 0;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	if (fstatvfs(ofd, st))
		err = -errno;
	local_obj_put(ino, ofd);
	return err;
}

/*
 * Extended attributes go through the magic link, which *getxattr() follow to
 * the object itself, and no further: for a symlink that is the symlink, not
 * its target (the jump of a magic link is not followed again).  So symlinks
 * carry what the source allows on them (trusted.* and security.*; user.* the
 * VFS refuses on symlinks for everyone), with no name to redirect: fsetxattr()
 * and the *xattrat() calls refuse O_PATH descriptors.
 */
static int local_setxattr(struct backend *be, struct inode *ino, const char *name,
			  const char *value, size_t size, int flags)
{
	char path[PROC_FD_PATH_MAX];
	int n;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	proc_path(path, ofd);
	n = setxattr(path, name, value, size, flags) ? -errno : 0;
	local_obj_put(ino, ofd);
	return n;
}

static int local_getxattr(struct backend *be, struct inode *ino, const char *name, char *buf,
			  size_t size)
{
	char path[PROC_FD_PATH_MAX];
	ssize_t n;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	proc_path(path, ofd);
	n = getxattr(path, name, buf, size);
	if (n < 0)
		n = -errno;
	local_obj_put(ino, ofd);
	return (int)n;
}

static int local_listxattr(struct backend *be, struct inode *ino, char *buf, size_t size)
{
	char path[PROC_FD_PATH_MAX];
	ssize_t n;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	proc_path(path, ofd);
	n = listxattr(path, buf, size);
	if (n < 0)
		n = -errno;
	local_obj_put(ino, ofd);
	return (int)n;
}

static int local_removexattr(struct backend *be, struct inode *ino, const char *name)
{
	char path[PROC_FD_PATH_MAX];
	int n;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	proc_path(path, ofd);
	n = removexattr(path, name) ? -errno : 0;
	local_obj_put(ino, ofd);
	return n;
}

static int local_access(struct backend *be, struct inode *ino, int mask)
{
	char path[PROC_FD_PATH_MAX];
	int n;

	OBJ_FD_OR_RETURN(ofd, be, ino);
	proc_path(path, ofd);
	n = faccessat(AT_FDCWD, path, mask, 0) ? -errno : 0;
	local_obj_put(ino, ofd);
	return n;
}

const struct backend_ops backend_local_ops = {
	.name = "local",
	.open_root = local_open_root,
	.release_inode = local_release_inode,
	.release_entry = local_release_entry,
	.same_object = local_same_object,
	.path_fd = local_path_fd,
	.lookup = local_lookup,
	.getattr = local_getattr,
	.setattr = local_setattr,
	.readlink = local_readlink,
	.mknod = local_mknod,
	.symlink = local_symlink,
	.link = local_link,
	.unlink = local_unlink,
	.rmdir = local_rmdir,
	.rename = local_rename,
	.open = local_open,
	.create = local_create,
	.tmpfile = local_tmpfile,
	.opendir = local_opendir,
	.readdir = local_readdir,
	.closedir = local_closedir,
	.fsyncdir = local_fsyncdir,
	.statfs = local_statfs,
	.setxattr = local_setxattr,
	.getxattr = local_getxattr,
	.listxattr = local_listxattr,
	.removexattr = local_removexattr,
	.access = local_access,
};

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
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "log.h"

#define PROC_FD_PATH_MAX 32

static void proc_path(char buf[PROC_FD_PATH_MAX], int fd)
{
	snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

/* Names come from the kernel, which has checked them; check again anyway. */
static int check_name(const char *name)
{
	size_t len = strnlen(name, NAME_MAX + 1);

	if (!len || strchr(name, '/'))
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int entry_from_fd(int fd, struct backend_entry *out)
{
	if (fstatat(fd, "", &out->st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	out->key.dev = out->st.st_dev;
	out->key.ino = out->st.st_ino;
	out->fd = fd;
	return 0;
}

static int local_lookup_fd(int dirfd, const char *name, struct backend_entry *out)
{
	int fd, err;

	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = entry_from_fd(fd, out);
	if (err)
		close(fd);
	return err;
}

static int local_open_root(struct backend *be, struct backend_entry *out)
{
	return entry_from_fd(be->root_fd, out);
}

static void local_release_inode(struct backend *be, struct inode *ino)
{
	if (ino->fd >= 0 && ino->fd != be->root_fd)
		close(ino->fd);
	ino->fd = -1;
}

static int local_lookup(struct backend *be, struct inode *dir, const char *name,
			struct backend_entry *out)
{
	int err = check_name(name);

	(void)be;
	if (err)
		return err;
	return local_lookup_fd(dir->fd, name, out);
}

static int local_getattr(struct backend *be, struct inode *ino, int fd, struct stat *st)
{
	(void)be;
	if (fstatat(fd >= 0 ? fd : ino->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

static int local_setattr(struct backend *be, struct inode *ino, int fd, const struct stat *attr,
			 int to_set)
{
	char path[PROC_FD_PATH_MAX];

	(void)be;
	proc_path(path, ino->fd);
	if (to_set & BACKEND_SET_MODE) {
		if (S_ISLNK(ino->type))
			return -EOPNOTSUPP; /* Linux has no modes on symlinks */
		if ((fd >= 0 ? fchmod(fd, attr->st_mode) : chmod(path, attr->st_mode)))
			return -errno;
	}
	if (to_set & (BACKEND_SET_UID | BACKEND_SET_GID)) {
		uid_t uid = (to_set & BACKEND_SET_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (to_set & BACKEND_SET_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(ino->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
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

static int local_readlink(struct backend *be, struct inode *ino, char *buf, size_t size)
{
	ssize_t n;

	(void)be;
	n = readlinkat(ino->fd, "", buf, size);
	if (n < 0)
		return -errno;
	return (int)n;
}

/*
 * The daemon runs as root: hand a new object to the user who asked for it.
 * In a set-group-ID directory the group it inherited is kept.
 */
static int fix_owner(int dirfd, const char *name, const struct backend_cred *cred)
{
	struct stat dst;
	gid_t gid = cred->gid;

	if (cred->uid == geteuid() && cred->gid == getegid())
		return 0;
	if (fstatat(dirfd, "", &dst, AT_EMPTY_PATH))
		return -errno;
	if (dst.st_mode & S_ISGID)
		gid = (gid_t)-1;
	if (fchownat(dirfd, name, cred->uid, gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

/* Finish a creation: own it, look it up; on failure remove it again. */
static int finish_create(struct inode *dir, const char *name, const struct backend_cred *cred,
			 int is_dir, struct backend_entry *out)
{
	int err;

	err = fix_owner(dir->fd, name, cred);
	if (!err)
		err = local_lookup_fd(dir->fd, name, out);
	if (err)
		unlinkat(dir->fd, name, is_dir ? AT_REMOVEDIR : 0);
	return err;
}

static int local_mknod(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		       dev_t rdev, const struct backend_cred *cred, struct backend_entry *out)
{
	int err = check_name(name);

	(void)be;
	if (err)
		return err;
	if (S_ISDIR(mode)) {
		if (mkdirat(dir->fd, name, mode & ~S_IFMT))
			return -errno;
	} else if (mknodat(dir->fd, name, mode, rdev)) {
		return -errno;
	}
	return finish_create(dir, name, cred, S_ISDIR(mode), out);
}

static int local_symlink(struct backend *be, struct inode *dir, const char *name,
			 const char *target, const struct backend_cred *cred,
			 struct backend_entry *out)
{
	int err = check_name(name);

	(void)be;
	if (err)
		return err;
	if (strnlen(target, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (symlinkat(target, dir->fd, name))
		return -errno;
	return finish_create(dir, name, cred, 0, out);
}

static int local_link(struct backend *be, struct inode *ino, struct inode *newdir,
		      const char *newname, struct backend_entry *out)
{
	char path[PROC_FD_PATH_MAX];
	int err = check_name(newname);

	(void)be;
	if (err)
		return err;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, which root has */
	if (linkat(ino->fd, "", newdir->fd, newname, AT_EMPTY_PATH)) {
		proc_path(path, ino->fd);
		if (errno != ENOENT && errno != EPERM && errno != EINVAL)
			return -errno;
		if (linkat(AT_FDCWD, path, newdir->fd, newname, AT_SYMLINK_FOLLOW))
			return -errno;
	}
	return local_lookup_fd(newdir->fd, newname, out);
}

static int local_unlink(struct backend *be, struct inode *dir, const char *name)
{
	(void)be;
	return unlinkat(dir->fd, name, 0) ? -errno : 0;
}

static int local_rmdir(struct backend *be, struct inode *dir, const char *name)
{
	(void)be;
	return unlinkat(dir->fd, name, AT_REMOVEDIR) ? -errno : 0;
}

static int local_rename(struct backend *be, struct inode *dir, const char *name,
			struct inode *newdir, const char *newname, unsigned int flags)
{
	int err = check_name(newname);

	(void)be;
	if (err)
		return err;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	return renameat2(dir->fd, name, newdir->fd, newname, flags) ? -errno : 0;
}

static int local_open(struct backend *be, struct inode *ino, int flags)
{
	char path[PROC_FD_PATH_MAX];
	int fd;

	(void)be;
	proc_path(path, ino->fd);
	fd = open(path, (flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int local_create(struct backend *be, struct inode *dir, const char *name, mode_t mode,
			int flags, const struct backend_cred *cred, struct backend_entry *out)
{
	int fd, err = check_name(name);

	(void)be;
	if (err)
		return err;
	flags = (flags & ~O_NOFOLLOW) | O_CLOEXEC;
	/* Create exclusively so we only ever chown what we made ourselves. */
	fd = openat(dir->fd, name, flags | O_CREAT | O_EXCL, mode);
	if (fd >= 0) {
		err = finish_create(dir, name, cred, 0, out);
		if (err) {
			close(fd);
			return err;
		}
		return fd;
	}
	if (errno != EEXIST || (flags & O_EXCL))
		return -errno;
	/* lost a race with a creator behind our back: open what is there */
	fd = openat(dir->fd, name, flags & ~O_CREAT);
	if (fd < 0)
		return -errno;
	err = local_lookup_fd(dir->fd, name, out);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int local_opendir(struct backend *be, struct inode *ino, struct backend_dir *d)
{
	int fd;

	(void)be;
	fd = openat(ino->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d->dp = fdopendir(fd);
	if (!d->dp) {
		int err = -errno;

		close(fd);
		return err;
	}
	d->offset = 0;
	d->entry = NULL;
	return 0;
}

static int local_readdir(struct backend *be, struct backend_dir *d, off_t off, struct dirent **ent)
{
	(void)be;
	if (d->entry && off == d->entry->d_off && off != d->offset) {
		/* the caller took the buffered entry and asks for the next */
		d->entry = NULL;
		d->offset = off;
	} else if (off != d->offset) {
		seekdir(d->dp, off);
		d->entry = NULL;
		d->offset = off;
	}
	if (!d->entry) {
		errno = 0;
		d->entry = readdir(d->dp);
		if (!d->entry)
			return errno ? -errno : 0;
	}
	*ent = d->entry;
	return 1;
}

static void local_closedir(struct backend *be, struct backend_dir *d)
{
	(void)be;
	if (d->dp)
		closedir(d->dp);
	d->dp = NULL;
}

static int local_statfs(struct backend *be, struct inode *ino, struct statvfs *st)
{
	(void)be;
	return fstatvfs(ino->fd, st) ? -errno : 0;
}

/*
 * Extended attributes go through the magic link, which *getxattr() follows
 * to the object itself.  Symlinks cannot carry user xattrs on Linux and the
 * magic link of an O_PATH symlink descriptor would be followed by the
 * non-l variants, so they are answered here as ext4 answers them.
 */
static int local_setxattr(struct backend *be, struct inode *ino, const char *name,
			  const char *value, size_t size, int flags)
{
	char path[PROC_FD_PATH_MAX];

	(void)be;
	if (S_ISLNK(ino->type))
		return -EPERM;
	proc_path(path, ino->fd);
	return setxattr(path, name, value, size, flags) ? -errno : 0;
}

static int local_getxattr(struct backend *be, struct inode *ino, const char *name, char *buf,
			  size_t size)
{
	char path[PROC_FD_PATH_MAX];
	ssize_t n;

	(void)be;
	if (S_ISLNK(ino->type))
		return -ENODATA;
	proc_path(path, ino->fd);
	n = getxattr(path, name, buf, size);
	return n < 0 ? -errno : (int)n;
}

static int local_listxattr(struct backend *be, struct inode *ino, char *buf, size_t size)
{
	char path[PROC_FD_PATH_MAX];
	ssize_t n;

	(void)be;
	if (S_ISLNK(ino->type))
		return 0;
	proc_path(path, ino->fd);
	n = listxattr(path, buf, size);
	return n < 0 ? -errno : (int)n;
}

static int local_removexattr(struct backend *be, struct inode *ino, const char *name)
{
	char path[PROC_FD_PATH_MAX];

	(void)be;
	if (S_ISLNK(ino->type))
		return -ENODATA;
	proc_path(path, ino->fd);
	return removexattr(path, name) ? -errno : 0;
}

static int local_access(struct backend *be, struct inode *ino, int mask)
{
	char path[PROC_FD_PATH_MAX];

	(void)be;
	proc_path(path, ino->fd);
	return faccessat(AT_FDCWD, path, mask, 0) ? -errno : 0;
}

const struct backend_ops backend_local_ops = {
	.name = "local",
	.open_root = local_open_root,
	.release_inode = local_release_inode,
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
	.opendir = local_opendir,
	.readdir = local_readdir,
	.closedir = local_closedir,
	.statfs = local_statfs,
	.setxattr = local_setxattr,
	.getxattr = local_getxattr,
	.listxattr = local_listxattr,
	.removexattr = local_removexattr,
	.access = local_access,
};

int backend_open(struct backend *be, const struct config *cfg)
{
	memset(be, 0, sizeof(*be));
	be->cfg = cfg;
	be->root_fd = -1;
	switch (cfg->backend) {
	case BACKEND_LOCAL:
		be->ops = &backend_local_ops;
		be->root_fd = open(cfg->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (be->root_fd < 0) {
			int err = -errno;

			pr_err("cannot open source '%s': %s", cfg->source, strerror(-err));
			return err;
		}
		return 0;
	}
	return -EINVAL;
}

void backend_close(struct backend *be)
{
	if (be->root_fd >= 0)
		close(be->root_fd);
	be->root_fd = -1;
}

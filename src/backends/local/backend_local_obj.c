// SPDX-License-Identifier: GPL-2.0
/*
 * backend_local_obj.c - the objects of the local backend: O_PATH descriptors while the fd
 * budget lasts, kernel file handles (name_to_handle_at) past it, reopened by mount id.
 */
#include "backend_local_priv.h"

static int mount_fd_of(struct backend *be, int mount_id)
{
	struct local_mounts *m = &LB(be)->mounts;
	int i, fd = -1;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		if (m->id[i] == mount_id) {
			fd = m->fd[i];
			break;
		}
	pthread_mutex_unlock(&m->lock);
	return fd;
}

/*
 * Remember a directory on mount @mount_id as that mount's anchor for
 * open_by_handle_at(), which wants a real open file there, not O_PATH.
 * @dirfd is an O_PATH descriptor of a directory on that mount.
 */
static int mount_remember(struct backend *be, int mount_id, int dirfd)
{
	char path[PROC_FD_PATH_MAX];
	struct local_mounts *m = &LB(be)->mounts;
	int i, err = 0;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n; i++)
		if (m->id[i] == mount_id)
			goto out;
	if (m->n == MAX_MOUNTS) {
		err = -ENOSPC;
		goto out;
	}
	proc_path(path, dirfd);
	m->fd[m->n] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->fd[m->n] < 0) {
		err = -errno;
		goto out;
	}
	m->id[m->n++] = mount_id;
out:
	pthread_mutex_unlock(&m->lock);
	return err;
}

/*
 * Past the descriptor budget, trade @e's descriptor for a file handle.
 * Keeps the descriptor when the filesystem has no handles.  @dirfd is the
 * O_PATH descriptor of @e's parent directory.
 */
void local_entry_economize(struct backend *be, struct backend_entry *e, int dirfd)
{
	struct local_handle *h;
	int mount_id;

	if (__atomic_add_fetch(&LB(be)->fds_kept, 1, __ATOMIC_RELAXED) <= LB(be)->fd_budget)
		return;
	h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
	if (!h)
		return;
	h->fh.handle_bytes = MAX_HANDLE_SZ;
	/* a directory may be a mount's root: anchor that mount with itself */
	if (name_to_handle_at(e->fd, "", &h->fh, &mount_id, AT_EMPTY_PATH) ||
	    mount_remember(be, mount_id, S_ISDIR(e->st.st_mode) ? e->fd : dirfd)) {
		free(h);
		return;
	}
	h->mount_id = mount_id;
	close(e->fd);
	__atomic_sub_fetch(&LB(be)->fds_kept, 1, __ATOMIC_RELAXED);
	e->fd = -1;
	e->handle = h;
}

/* An O_PATH descriptor of @ino for one operation; give it back with local_obj_put(). */
int local_obj_fd(struct backend *be, struct inode *ino)
{
	const struct local_handle *h = ino->handle;
	int mfd, fd;

	if (ino->fd >= 0)
		return ino->fd;
	if (!h)
		return -EBADF;
	mfd = mount_fd_of(be, h->mount_id);
	if (mfd < 0)
		return -ESTALE;
	fd = open_by_handle_at(mfd, (struct file_handle *)&h->fh, O_PATH | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void local_obj_put(struct inode *ino, int fd)
{
	if (fd >= 0 && fd != ino->fd)
		close(fd);
}

int local_path_fd(struct backend *be, struct inode *ino)
{
	int fd = local_obj_fd(be, ino);

	if (fd >= 0 && fd == ino->fd) {
		fd = fcntl(ino->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
	}
	return fd;
}

/*
 * Names come from the kernel, which has checked them; check again anyway: a
 * name is one component, never walked as a path ('/' would resolve through a
 * symlink planted in the source, ".." of the root leaves it).
 */
int local_check_name(const char *name)
{
	size_t len = strnlen(name, NAME_MAX + 1);

	if (!len || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int local_entry_from_fd(int fd, struct backend_entry *out)
{
	if (fstatat(fd, "", &out->st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -errno;
	out->key.dev = out->st.st_dev;
	out->key.ino = out->st.st_ino;
	out->key.gen = 0; /* ext4 tells a reused number by the object (local_same_object) */
	out->fd = fd;
	out->handle = NULL;
	return 0;
}

static int local_lookup_fd(int dirfd, const char *name, struct backend_entry *out)
{
	int fd, err;

	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = local_entry_from_fd(fd, out);
	if (err)
		close(fd);
	return err;
}

int local_lookup_entry(struct backend *be, int dirfd, const char *name, struct backend_entry *out)
{
	int err = local_lookup_fd(dirfd, name, out);

	if (!err)
		local_entry_economize(be, out, dirfd);
	return err;
}

int local_open_root(struct backend *be, struct backend_entry *out)
{
	return local_entry_from_fd(LB(be)->root_fd, out);
}

void local_release_inode(struct backend *be, struct inode *ino)
{
	if (ino->fd >= 0 && ino->fd != LB(be)->root_fd) {
		close(ino->fd);
		__atomic_sub_fetch(&LB(be)->fds_kept, 1, __ATOMIC_RELAXED);
	}
	ino->fd = -1;
	free(ino->handle);
	ino->handle = NULL;
}

/*
 * An inode that keeps an O_PATH descriptor pins its object, so its number cannot be
 * reused; one that keeps only a file handle does not: compare the handles (they carry the
 * inode's generation).
 */
int local_same_object(struct backend *be, struct inode *ino, int fd, void *handle)
{
	union {
		struct local_handle h;
		char buf[sizeof(struct local_handle) + MAX_HANDLE_SZ];
	} u;
	struct local_handle *old = ino->handle, *new = handle;
	int mount_id;

	(void)be;
	if (!old)
		return 1;
	if (!new) {
		if (fd < 0)
			return 1;
		new = &u.h;
		new->fh.handle_bytes = MAX_HANDLE_SZ;
		if (name_to_handle_at(fd, "", &new->fh, &mount_id, AT_EMPTY_PATH))
			return 1; /* cannot tell: as before */
	}
	return old->fh.handle_type == new->fh.handle_type &&
	       old->fh.handle_bytes == new->fh.handle_bytes &&
	       !memcmp(old->fh.f_handle, new->fh.f_handle, old->fh.handle_bytes);
}

void local_release_entry(struct backend *be, struct backend_entry *e)
{
	if (e->fd >= 0) {
		close(e->fd);
		__atomic_sub_fetch(&LB(be)->fds_kept, 1, __ATOMIC_RELAXED);
	}
	e->fd = -1;
	free(e->handle);
	e->handle = NULL;
}

// SPDX-License-Identifier: GPL-2.0
#include "file.h"

#define FUSE_USE_VERSION 317
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "fastpath.h"
#include "log.h"

/* Linux 6.9's <linux/fuse.h>; bookworm's (6.1) lacks it */
#ifndef FUSE_DEV_IOC_BACKING_CLOSE
#define FUSE_DEV_IOC_BACKING_CLOSE _IOW(FUSE_DEV_IOC_MAGIC, 2, uint32_t)
#endif

static int wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* Turn passthrough off for inodes that have no backing file yet; say why once. */
static void passthrough_disable(struct fs *fs, const char *why, int err)
{
	pthread_mutex_lock(&fs->pt_lock);
	if (fs->passthrough) {
		fs->passthrough = 0;
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why), "%s: %s", why,
			 strerror(err));
		pr_warn("passthrough off for this mount: %s", fs->passthrough_why);
	}
	pthread_mutex_unlock(&fs->pt_lock);
}

/* Caller holds ino->lock. */
static int backing_attach_locked(struct fs *fs, fuse_req_t req, struct inode *ino, int flags,
				 void *priv, struct fuse_file_info *fi)
{
	int fd, id;

	if (ino->backing_id) {
		/* A read-only backing file cannot carry this open's writes. */
		if (wants_write(flags) && (fcntl(ino->backing_fd, F_GETFL) & O_ACCMODE) == O_RDONLY)
			return -EBUSY;
		fi->backing_id = ino->backing_id;
		return 0;
	}
	if (!fs->passthrough || !S_ISREG(ino->type) || ino->nopen)
		return 0; /* an inode already open without passthrough stays so */
	fd = fs->be.ops->open(&fs->be, ino, O_RDWR, priv);
	if (fd < 0 && (fd == -EROFS || fd == -EACCES || fd == -ETXTBSY || fd == -EPERM)) {
		if (wants_write(flags))
			return fd;
		fd = fs->be.ops->open(&fs->be, ino, O_RDONLY, priv);
	}
	if (fd < 0)
		return fd;
	id = fuse_passthrough_open(req, fd);
	if (id <= 0) {
		int err = errno;

		close(fd);
		passthrough_disable(fs, "the kernel refused a backing file", err ? err : EINVAL);
		return 0;
	}
	ino->backing_fd = fd;
	ino->backing_id = id;
	fi->backing_id = id;
	return 0;
}

/*
 * An open the kernel will not pass through, on a patched kernel: register
 * the file as a backing file anyway (without FOPEN_PASSTHROUGH) and publish
 * its blocks, so the fast path answers READ in the kernel.  Caller holds
 * ino->lock.  Failure only means READs reach the daemon.
 */
static void fastpath_blocks_locked(struct fs *fs, fuse_req_t req, struct inode *ino, void *priv)
{
	uint64_t dv, n;
	struct stat st;
	int fd, id;

	/* the kernel ends such READs at the backing file's size: it must be the file's own */
	if (!fs->ks || !S_ISREG(ino->type) || fs->cfg->backend != BACKEND_LOCAL)
		return;
	dv = file_data_version(fs, ino);
	if (ino->fp.backing_id) {
		/*
		 * Published for older bytes (the data version moved: a write or
		 * truncate): the same backing file (the source file) holds the
		 * new ones; publish them again, for the size they have now.
		 */
		if (ino->fp.blocks_dv == dv || fstat(ino->fp.backing_fd, &st))
			return;
		n = fastpath_put_blocks(fs->ks, ino->nodeid, ino->fp.backing_id,
					(uint64_t)st.st_size, dv);
		if (n < ino->fp.nblocks) /* fewer now, or none: the rest goes */
			fastpath_drop_blocks_from(fs->ks, ino->nodeid, n, ino->fp.nblocks);
		ino->fp.nblocks = n;
		ino->fp.blocks_dv = dv;
		return;
	}
	fd = fs->be.ops->open(&fs->be, ino, O_RDONLY, priv);
	if (fd < 0)
		return;
	if (fstat(fd, &st)) {
		close(fd);
		return;
	}
	id = fuse_passthrough_open(req, fd);
	if (id <= 0) {
		close(fd);
		return;
	}
	ino->fp.backing_fd = fd;
	ino->fp.backing_id = id;
	ino->fp.nblocks = fastpath_put_blocks(fs->ks, ino->nodeid, id, (uint64_t)st.st_size, dv);
	ino->fp.blocks_dv = dv;
}

static void fastpath_blocks_release_locked(struct fs *fs, fuse_req_t req, struct inode *ino)
{
	if (!ino->fp.backing_id)
		return;
	fastpath_drop_blocks(fs->ks, ino->nodeid, ino->fp.nblocks);
	fuse_passthrough_close(req, ino->fp.backing_id);
	close(ino->fp.backing_fd);
	ino->fp.backing_id = 0;
	ino->fp.backing_fd = -1;
	ino->fp.nblocks = 0;
}

int file_open_id(struct inode *ino)
{
	return __atomic_load_n(&ino->fp.open_id, __ATOMIC_SEQ_CST);
}

uint64_t file_data_version(struct fs *fs, struct inode *ino)
{
	uint64_t v = __atomic_load_n(&ino->fp.data_version, __ATOMIC_SEQ_CST), nv;

	if (v || !fs->ks)
		return v;
	nv = fastpath_new_data_version(fs->ks);
	/* the first publications of a node race: one version wins */
	if (__atomic_compare_exchange_n(&ino->fp.data_version, &v, nv, 0, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		return nv;
	return v;
}

static void bump_data_version(struct fs *fs, struct inode *ino)
{
	uint64_t nv;

	if (!fs->ks)
		return;
	nv = fastpath_new_data_version(fs->ks);
	/* first the node's record: every later publication takes the new version */
	__atomic_store_n(&ino->fp.data_version, nv, __ATOMIC_SEQ_CST);
	fastpath_set_data_version(fs->ks, ino->nodeid, nv);
}

static void unpublish_open(struct fs *fs, struct inode *ino);

void file_data_changed(struct fs *fs, struct inode *ino)
{
	/* a backing file of one version cannot show the new bytes: no OPEN gets it */
	if (fs->be.ops->fastpath_hold && __atomic_load_n(&ino->fp.open_id, __ATOMIC_SEQ_CST))
		unpublish_open(fs, ino); /* and a new data version */
	else
		bump_data_version(fs, ino);
}

static int set_data_version_locked(struct inode *ino, void *arg)
{
	__atomic_store_n(&ino->fp.data_version, *(uint64_t *)arg, __ATOMIC_SEQ_CST);
	return 1;
}

void file_data_changed_id(struct fs *fs, uint64_t nodeid)
{
	uint64_t nv;

	if (!fs->ks)
		return;
	nv = fastpath_new_data_version(fs->ks);
	/* a node the daemon does not know has nothing published either */
	if (inode_call_locked(&fs->inodes, nodeid, set_data_version_locked, &nv) == 1)
		fastpath_set_data_version(fs->ks, nodeid, nv);
}

/*
 * A read-only open of @ino got the inode's passthrough backing file: let
 * the fast path answer the next read-only OPENs with it (fastpath.h,
 * fastpath_set_open()).  Only where the backing file is the source file
 * itself (the local backend: its content is the file's, whatever changes
 * later), and at most io_fd_budget inodes: each keeps its backing file
 * until the kernel forgets it, since no RELEASE tells when the opens the
 * kernel answered are closed, and the kernel allows one backing file per
 * inode while any passthrough open of it exists.  Caller holds ino->lock.
 */
static void publish_open_locked(struct fs *fs, struct inode *ino, int flags, void *priv)
{
	const struct backend_ops *ops = fs->be.ops;
	int id = ino->backing_id;

	if (!fs->ks || ino->fp.open_id || id <= 0 || !S_ISREG(ino->type) || wants_write(flags) ||
	    (flags & O_TRUNC) || (fs->cfg->backend != BACKEND_LOCAL && !ops->fastpath_hold))
		return;
	if (__atomic_add_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED) > fs->io_fd_budget) {
		__atomic_sub_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED);
		fastpath_count_open_refused(fs->ks);
		return;
	}
	/*
	 * A backing file holding one version (S3's cache file): the backend
	 * keeps it valid (pinned) for as long as it is published.
	 */
	if (ops->fastpath_hold && ops->fastpath_hold(&fs->be, ino, priv, ino->backing_fd)) {
		__atomic_sub_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED);
		fastpath_count_open_refused(fs->ks);
		return;
	}
	/* before the map: every later publication of the node carries it (note_attr) */
	__atomic_store_n(&ino->fp.open_id, id, __ATOMIC_SEQ_CST);
	fastpath_count_open(fs->ks, 1);
	fastpath_set_open(fs->ks, ino->nodeid, id);
}

/*
 * The backing file published for OPEN holds a version that is no longer the
 * node's (a backend with fastpath_hold: another ETag, deleted): take it out
 * of the maps, then unregister it unless opens of the file still use it
 * (the last release does then), then let the backend unpin it.
 */
static void unpublish_open(struct fs *fs, struct inode *ino)
{
	int id;

	pthread_mutex_lock(&ino->lock);
	id = ino->fp.open_id;
	if (!id) {
		pthread_mutex_unlock(&ino->lock);
		return;
	}
	/*
	 * First the node's record, then the tickets: a publication that read
	 * the record before carries a ticket that the new data version
	 * outdates; one that reads it after finds no id.
	 */
	__atomic_store_n(&ino->fp.open_id, 0, __ATOMIC_SEQ_CST);
	bump_data_version(fs, ino);
	fastpath_set_open(fs->ks, ino->nodeid, 0);
	if (!ino->nopen && ino->backing_id == id) {
		if (fs->se && ioctl(fuse_session_fd(fs->se), FUSE_DEV_IOC_BACKING_CLOSE, &id))
			pr_debug("cannot unregister backing file %d: %s", id, strerror(errno));
		if (ino->backing_fd >= 0)
			close(ino->backing_fd);
		ino->backing_id = 0;
		ino->backing_fd = -1;
	}
	__atomic_sub_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED);
	fastpath_count_open(fs->ks, -1);
	if (fs->be.ops->fastpath_unhold)
		fs->be.ops->fastpath_unhold(&fs->be, ino);
	pthread_mutex_unlock(&ino->lock);
}

int file_fastpath_until(struct fs *fs, struct inode *ino, uint64_t *until_ns)
{
	int stale = 0;

	*until_ns = 0;
	if (!fs->be.ops->fastpath_check)
		return 0;
	if (fs->be.ops->fastpath_check(&fs->be, ino, until_ns, &stale))
		return -1;
	if (stale)
		unpublish_open(fs, ino);
	return 0;
}

void file_release_published(struct fs *fs, struct inode *ino)
{
	int id = ino->fp.open_id;

	if (!id)
		return;
	/* the caller deleted the node's map entries: no OPEN is answered with id now */
	if (fs->se && ioctl(fuse_session_fd(fs->se), FUSE_DEV_IOC_BACKING_CLOSE, &id))
		pr_debug("cannot unregister backing file %d: %s", id, strerror(errno));
	if (ino->backing_fd >= 0)
		close(ino->backing_fd);
	ino->backing_id = 0;
	ino->backing_fd = -1;
	__atomic_store_n(&ino->fp.open_id, 0, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED);
	fastpath_count_open(fs->ks, -1);
	if (fs->be.ops->fastpath_unhold)
		fs->be.ops->fastpath_unhold(&fs->be, ino);
}

int file_open(struct fs *fs, fuse_req_t req, struct inode *ino, struct fuse_file_info *fi,
		int direct)
{
	void *priv = ((struct open_file *)(uintptr_t)fi->fh)->priv;
	uint64_t until;
	int err = 0;

	/*
	 * An older version published for OPEN must not back this open; and an
	 * open the backend serves itself (S3: its version is not complete in
	 * the cache, also when the published version lost a block) cannot run
	 * beside passthrough: the published version goes first.
	 */
	if (__atomic_load_n(&ino->fp.open_id, __ATOMIC_SEQ_CST)) {
		if (direct && fs->be.ops->fastpath_hold)
			unpublish_open(fs, ino);
		else
			file_fastpath_until(fs, ino, &until);
	}
	pthread_mutex_lock(&ino->lock);
	/* bytes read through the daemon cannot mix with passthrough opens */
	if (direct && ino->backing_id)
		err = -EBUSY;
	else if (!direct)
		err = backing_attach_locked(fs, req, ino, fi->flags, priv, fi);
	if (!err && !fi->backing_id && !direct)
		fastpath_blocks_locked(fs, req, ino, priv);
	if (!err && fi->backing_id)
		publish_open_locked(fs, ino, fi->flags, priv);
	if (!err)
		ino->nopen++;
	pthread_mutex_unlock(&ino->lock);
	if (fi->backing_id)
		fi->keep_cache = 0; /* the page cache is the backing file's */
	if (!err)
		stats_add(fi->backing_id ? &fs->stats.passthrough_opens : &fs->stats.plain_opens, 1);
	return err;
}

void file_release(struct fs *fs, fuse_req_t req, struct inode *ino)
{
	/*
	 * The last open gives up the backing files while it still counts, so
	 * the inode cannot be freed under it; an open that comes meanwhile sees
	 * an open inode without a backing file and goes without passthrough.
	 */
	pthread_mutex_lock(&ino->lock);
	if (ino->nopen == 1) {
		fastpath_blocks_release_locked(fs, req, ino);
		/* published for OPEN: kept until the inode goes (file_release_published()) */
		if (ino->backing_id && !ino->fp.open_id) {
			fuse_passthrough_close(req, ino->backing_id);
			close(ino->backing_fd);
			ino->backing_id = 0;
			ino->backing_fd = -1;
		}
	}
	pthread_mutex_unlock(&ino->lock);
	inode_put_open(&fs->inodes, ino); /* frees it if the kernel forgot it */
}

int file_io_fd(struct fs *fs, struct inode *ino, int write, int *owned)
{
	int fd, *slot = &ino->io_fd[write ? 1 : 0];

	*owned = 0;
	if (write && fs->cfg->read_only)
		return -EROFS;
	pthread_mutex_lock(&ino->lock);
	fd = *slot;
	if (fd < 0 && __atomic_add_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED) <= fs->io_fd_budget) {
		fd = fs->be.ops->open(&fs->be, ino, write ? O_RDWR : O_RDONLY, NULL);
		if (fd >= 0)
			*slot = fd;
		else
			__atomic_sub_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED);
	} else if (fd < 0) {
		/* over budget: this request gets a descriptor of its own */
		__atomic_sub_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED);
		fd = fs->be.ops->open(&fs->be, ino, write ? O_RDWR : O_RDONLY, NULL);
		*owned = fd >= 0;
	}
	pthread_mutex_unlock(&ino->lock);
	return fd;
}

void file_release_io(struct fs *fs, struct inode *ino)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (ino->io_fd[i] < 0)
			continue;
		close(ino->io_fd[i]);
		ino->io_fd[i] = -1;
		__atomic_sub_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED);
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fs_ops_readdir.c - directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
 */
#define FUSE_USE_VERSION 317
#include "fs_ops_priv.h"

void op_opendir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct backend_dir *d;
	struct inode *ino;
	int err;

	op_begin(req, FUSE_OPENDIR);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	d = calloc(1, sizeof(*d));
	if (!d) {
		reply_err(req, ENOMEM);
		return;
	}
	err = fs->be.ops->opendir(&fs->be, ino, d);
	if (err) {
		free(d);
		reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	/* with cache_readdir the kernel keeps listings; invalidation drops them on change */
	fi->cache_readdir = fs->cfg->cache_readdir;
	fi->keep_cache = fs->cfg->cache_readdir;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		fs->be.ops->closedir(&fs->be, d);
		free(d);
	}
}

static struct backend_dir *dir_of(struct fuse_file_info *fi)
{
	return (struct backend_dir *)(uintptr_t)fi->fh;
}

static int is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * READDIRPLUS: is the kernel's entry and attribute copy of @be still valid and
 * unchanged?  Then the listing need not refresh it.  Only with POSIX ACLs in the
 * kernel, whose cache a refresh would drop.
 */
int kernel_fresh(struct fs *fs, const struct backend_entry *be)
{
	uint64_t ctime_ns = (uint64_t)be->st.st_ctim.tv_sec * 1000000000ULL +
			    (uint64_t)be->st.st_ctim.tv_nsec;

	return fs->posix_acl && inode_kernel_fresh(&fs->inodes, &be->key, ctime_ns, mono_ns());
}

static void do_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct fs *fs = req_fs(req);
	struct backend_dir *d = dir_of(fi);
	struct inode *dir;
	size_t used = 0;
	char *buf;
	int err = 0;

	GET_INODE_OR_REPLY(dir, req, nodeid);
	if (size > (1U << 20))
		size = 1U << 20;
	buf = malloc(size);
	if (!buf) {
		reply_err(req, ENOMEM);
		return;
	}
	for (;;) {
		struct dirent *ent;
		struct fuse_entry_param e;
		struct backend_entry be;
		uint64_t ticket;
		size_t n;
		int r;

		r = fs->be.ops->readdir(&fs->be, d, off, &ent);
		if (r <= 0) {
			err = r;
			break;
		}
		memset(&e, 0, sizeof(e));
		/* an entry whose lookup costs a request is looked up when someone asks */
		if (!plus || is_dot_or_dotdot(ent->d_name) ||
		    (fs->be.ops->entry_lazy && fs->be.ops->entry_lazy(&fs->be, d))) {
			e.attr.st_ino = ent->d_ino;
			e.attr.st_mode = (mode_t)ent->d_type << 12;
			n = plus ? fuse_add_direntry_plus(req, buf + used, size - used, ent->d_name,
							  &e, ent->d_off) :
				   fuse_add_direntry(req, buf + used, size - used, ent->d_name,
						     &e.attr, ent->d_off);
		} else {
			ticket = fastpath_begin(fs->ks);
			r = fs->be.ops->lookup(&fs->be, dir, ent->d_name, &be);
			if (r == -ENOENT) { /* gone since it was listed */
				off = ent->d_off;
				continue;
			}
			if (!r && kernel_fresh(fs, &be)) {
				/*
				 * Nodeid 0: no attributes for this one.  Sending them
				 * would make the kernel drop its cached ACLs (it does
				 * on every attribute refresh): a GETXATTR per file and
				 * ls -l.  The kernel checks its own copy's timeouts.
				 */
				e.attr.st_ino = be.st.st_ino;
				e.attr.st_mode = be.st.st_mode & S_IFMT;
				fs->be.ops->release_entry(&fs->be, &be);
				n = fuse_add_direntry_plus(req, buf + used, size - used,
							   ent->d_name, &e, ent->d_off);
				if (n > size - used)
					break;
				used += n;
				off = ent->d_off;
				continue;
			}
			if (!r)
				r = make_entry(fs, nodeid, ent->d_name, &be, &e, ticket);
			if (r) {
				err = r;
				break;
			}
			n = fuse_add_direntry_plus(req, buf + used, size - used, ent->d_name, &e,
						   ent->d_off);
			if (n > size - used)
				inode_forget(&fs->inodes, req_inode(req, e.ino), 1);
		}
		if (n > size - used)
			break; /* full: the entry stays buffered for the next call */
		used += n;
		off = ent->d_off;
	}
	/* An error after some entries is reported by the next call, not lost. */
	if (err && !used)
		reply_err(req, err);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

void op_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	op_begin(req, FUSE_READDIR);
	do_readdir(req, nodeid, size, off, fi, 0);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	op_begin(req, FUSE_READDIRPLUS);
	do_readdir(req, nodeid, size, off, fi, 1);
}

void op_releasedir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct backend_dir *d = dir_of(fi);

	op_begin(req, FUSE_RELEASEDIR);
	(void)nodeid;
	fs->be.ops->closedir(&fs->be, d);
	free(d);
	reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t nodeid, int datasync, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	int err = 0;

	op_begin(req, FUSE_FSYNCDIR);
	(void)nodeid;
	if (fs->be.ops->fsyncdir) /* else a store without directory files (S3) */
		err = fs->be.ops->fsyncdir(&fs->be, dir_of(fi), datasync);
	reply_err(req, err);
}

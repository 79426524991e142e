// SPDX-License-Identifier: GPL-2.0
/*
 * fs_ops_dir.c - the namespace operations: LOOKUP, FORGET, GETATTR, SETATTR, MKNOD,
 * MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME, READLINK.
 */
#define FUSE_USE_VERSION 317
#include "fs_ops_priv.h"

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct backend_entry be;
	struct inode *dir;
	uint64_t ticket;
	int err;

	op_begin(req, FUSE_LOOKUP);
	GET_INODE_OR_REPLY(dir, req, parent);
	ticket = fastpath_begin(fs->ks); /* an unlink or rename meanwhile outdates it */
	err = fs->be.ops->lookup(&fs->be, dir, name, &be);
	if (err == -ENOENT)
		note_negative(fs, dir, name, ticket);
	if (err == -ENOENT && fs->cfg->negative_timeout_s > 0) {
		struct fuse_entry_param e = {
			.ino = 0,
			.entry_timeout = watch_timeout(fs, fs->cfg->negative_timeout_s),
		};

		fuse_reply_entry(req, &e);
		return;
	}
	reply_new_entry(req, parent, name, err, &be, ticket);
}

void op_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup)
{
	struct fs *fs = req_fs(req);
	struct forget_item it = { .ino = req_inode(req, nodeid), .n = nlookup };

	op_begin(req, FUSE_FORGET);
	if (it.ino)
		forget_batch(&fs->inodes, &forget_fastpath_ops, fs->ks, &it, 1);
	fuse_reply_none(req);
}

/* A batch is forgotten at most this many nodes at a time without memory for all. */
#define FORGET_CHUNK 64

void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct forget_item chunk[FORGET_CHUNK], *items;
	struct fs *fs = req_fs(req);
	size_t i, n = 0, cap;

	op_begin(req, FUSE_BATCH_FORGET);
	/* one grace period for the whole batch (forget.h): all of it in one array */
	items = count > FORGET_CHUNK ? malloc(count * sizeof(*items)) : NULL;
	cap = items ? count : FORGET_CHUNK;
	if (!items)
		items = chunk;
	for (i = 0; i < count; i++) {
		items[n].ino = req_inode(req, forgets[i].ino);
		items[n].n = forgets[i].nlookup;
		if (items[n].ino)
			n++;
		if (n == cap || (i + 1 == count && n)) {
			forget_batch(&fs->inodes, &forget_fastpath_ops, fs->ks, items, n);
			n = 0;
		}
	}
	if (items != chunk)
		free(items);
	fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	uint64_t ticket;
	struct stat st;
	int err;

	op_begin(req, FUSE_GETATTR);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	ticket = fastpath_begin(fs->ks); /* a SETATTR meanwhile outdates it */
	err = fs->be.ops->getattr(&fs->be, ino, file_fd(ino, fi), &st);
	if (err) {
		reply_err(req, err);
		return;
	}
	note_attr(fs, ino, &st, ticket);
	fuse_reply_attr(req, &st, watch_timeout(fs, fs->cfg->attr_timeout_s));
}

void op_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	uint64_t ticket = 0;
	struct stat st;
	int fd, err;

	op_begin(req, FUSE_SETATTR);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	fd = file_fd(ino, fi);
	fastpath_drop_attr(fs->ks, nodeid);
	err = setattr_setid(req, ino, fd, attr, &to_set);
	if (!err)
		err = fs->be.ops->setattr(&fs->be, ino, fd, attr,
					  to_set & ~(FUSE_SET_ATTR_KILL_SUID | FUSE_SET_ATTR_KILL_SGID));
	/* changed: a GETATTR that read before can no longer publish; ours reads after */
	if (to_set & FUSE_SET_ATTR_SIZE)
		file_data_changed(fs, ino); /* truncated: no block published before is served */
	fastpath_drop_attr(fs->ks, nodeid);
	if (!err) {
		ticket = fastpath_begin(fs->ks);
		err = fs->be.ops->getattr(&fs->be, ino, fd, &st);
	}
	if (err) {
		reply_err(req, err);
		return;
	}
	note_attr(fs, ino, &st, ticket);
	fuse_reply_attr(req, &st, watch_timeout(fs, fs->cfg->attr_timeout_s));
}

void op_readlink(fuse_req_t req, fuse_ino_t nodeid)
{
	struct fs *fs = req_fs(req);
	char buf[PATH_MAX + 1];
	struct inode *ino;
	int n;

	op_begin(req, FUSE_READLINK);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	n = fs->be.ops->readlink(&fs->be, ino, buf, sizeof(buf));
	if (n < 0)
		reply_err(req, n);
	else if ((size_t)n >= sizeof(buf))
		reply_err(req, ENAMETOOLONG);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

static void do_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	struct fs *fs = req_fs(req);
	struct backend_cred cred = req_cred(req);
	struct backend_entry be;
	struct inode *dir;

	uint64_t ticket;
	int err;

	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	ticket = fastpath_begin(fs->ks);
	err = fs->be.ops->mknod(&fs->be, dir, name, mode, rdev, &cred, &be);
	fastpath_drop_negative(fs->ks, parent, name); /* a LOOKUP that missed it cannot say so */
	fastpath_drop_attr(fs->ks, parent); /* its mtime and nlink changed */
	reply_new_entry(req, parent, name, err, &be, ticket);
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	op_begin(req, FUSE_MKNOD);
	do_mknod(req, parent, name, mode, rdev);
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	op_begin(req, FUSE_MKDIR);
	do_mknod(req, parent, name, S_IFDIR | (mode & ~S_IFMT), 0);
}

void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct backend_cred cred = req_cred(req);
	struct backend_entry be;
	struct inode *dir;
	uint64_t ticket;
	int err;

	op_begin(req, FUSE_SYMLINK);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	ticket = fastpath_begin(fs->ks);
	err = fs->be.ops->symlink(&fs->be, dir, name, target, &cred, &be);
	fastpath_drop_negative(fs->ks, parent, name);
	fastpath_drop_attr(fs->ks, parent);
	reply_new_entry(req, parent, name, err, &be, ticket);
}

void op_link(fuse_req_t req, fuse_ino_t nodeid, fuse_ino_t newparent, const char *newname)
{
	struct fs *fs = req_fs(req);
	struct backend_entry be;
	struct inode *ino, *dir;
	uint64_t ticket;
	int err;

	op_begin(req, FUSE_LINK);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	GET_INODE_OR_REPLY(dir, req, newparent);
	unpublish_name(fs, newparent, newname);
	fastpath_drop_attr(fs->ks, nodeid); /* nlink */
	ticket = fastpath_begin(fs->ks);
	err = fs->be.ops->link(&fs->be, ino, dir, newname, &be);
	fastpath_drop_negative(fs->ks, newparent, newname);
	/*
	 * nlink changed: what a GETATTR read before is outdated, and so is our
	 * ticket (the reply publishes nothing; the next LOOKUP does)
	 */
	fastpath_drop_attr(fs->ks, nodeid);
	fastpath_drop_attr(fs->ks, newparent);
	reply_new_entry(req, newparent, newname, err, &be, ticket);
}

/* UNLINK and RMDIR: the backend's @remove of @name in @parent */
static void do_remove(fuse_req_t req, fuse_ino_t parent, const char *name,
		      int (*remove)(struct backend *be, struct inode *dir, const char *name))
{
	struct fs *fs = req_fs(req);
	struct inode *dir;
	int err;

	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	err = remove(&fs->be, dir, name);
	unpublish_name(fs, parent, name); /* a LOOKUP that found it cannot put it back */
	reply_err(req, err);
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	op_begin(req, FUSE_UNLINK);
	do_remove(req, parent, name, req_fs(req)->be.ops->unlink);
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	op_begin(req, FUSE_RMDIR);
	do_remove(req, parent, name, req_fs(req)->be.ops->rmdir);
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs *fs = req_fs(req);
	struct inode *dir, *newdir;
	int err;

	op_begin(req, FUSE_RENAME2);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	GET_INODE_OR_REPLY(newdir, req, newparent);
	unpublish_name(fs, parent, name);
	unpublish_name(fs, newparent, newname);
	err = fs->be.ops->rename(&fs->be, dir, name, newdir, newname, flags);
	unpublish_name(fs, parent, name);
	unpublish_name(fs, newparent, newname);
	reply_err(req, err);
}

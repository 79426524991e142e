// SPDX-License-Identifier: GPL-2.0
/*
 * fs_ops_xattr.c - extended attributes (and the ACL rules on set-group-ID), ACCESS, STATFS.
 */
#define FUSE_USE_VERSION 317
#include "fs_ops_priv.h"

void op_statfs(fuse_req_t req, fuse_ino_t nodeid)
{
	struct fs *fs = req_fs(req);
	struct statvfs st;
	struct inode *ino;
	int err;

	op_begin(req, FUSE_STATFS);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	err = fs->be.ops->statfs(&fs->be, ino, &st);
	if (err)
		reply_err(req, err);
	else
		fuse_reply_statfs(req, &st);
}

/*
 * Setting an access ACL clears S_ISGID when the caller is outside the file's
 * group and lacks CAP_FSETID (posix_acl_update_mode()); the source decides
 * that on the daemon's credentials, so it is decided here again.  The kernel
 * would flag it with FUSE_SETXATTR_ACL_KILL_SGID, which needs the extended
 * SETXATTR that libfuse does not offer.
 */
static int acl_set_sgid(fuse_req_t req, struct inode *ino)
{
	struct fs *fs = req_fs(req);
	struct caller_creds c;
	struct stat st;
	int err;

	err = fs->be.ops->getattr(&fs->be, ino, -1, &st);
	if (err || !(st.st_mode & S_ISGID) || fuse_req_ctx(req)->gid == st.st_gid)
		return err;
	req_caller(req, &c);
	if (caller_may_keep_sgid(&c, st.st_gid))
		return 0;
	st.st_mode &= ~S_ISGID;
	return fs->be.ops->setattr(&fs->be, ino, -1, &st, BACKEND_SET_MODE);
}

void op_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name, const char *value,
			size_t size, int flags)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int err;

	op_begin(req, FUSE_SETXATTR);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if (size > XATTR_BUF_MAX) {
		reply_err(req, E2BIG);
		return;
	}
	fastpath_drop_attr(fs->ks, nodeid);
	err = fs->be.ops->setxattr(&fs->be, ino, name, value, size, flags);
	if (!err && !strcmp(name, "system.posix_acl_access"))
		err = acl_set_sgid(req, ino);
	fastpath_drop_attr(fs->ks, nodeid); /* ctime (and maybe mode) changed */
	reply_err(req, err);
}

/* getxattr: the size-probe protocol of the syscall */
void op_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name, size_t size)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	char *buf = NULL;
	int n;

	op_begin(req, FUSE_GETXATTR);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if (size > XATTR_BUF_MAX)
		size = XATTR_BUF_MAX;
	if (size && !(buf = malloc(size))) {
		reply_err(req, ENOMEM);
		return;
	}
	n = fs->be.ops->getxattr(&fs->be, ino, name, buf, size);
	/*
	 * The kernel's ACL checks take "not supported" as an error, not as "no
	 * ACL" (and do not cache it): a source without ACLs has none.
	 */
	if (n == -EOPNOTSUPP && fs->posix_acl && !strncmp(name, "system.posix_acl_", 17))
		n = -ENODATA;
	if (n < 0)
		reply_err(req, n);
	else if (!size)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

/*
 * The source lists trusted.* names only to a caller with CAP_SYS_ADMIN, and
 * the daemon has it: drop them from the @n bytes of names in @buf for other
 * callers.  Returns the new length.
 */
static int hide_trusted_names(fuse_req_t req, char *buf, int n)
{
	static const char prefix[] = "trusted.";
	struct caller_creds c;
	int in, out = 0, have_creds = 0;

	for (in = 0; in < n;) {
		int len = (int)strnlen(buf + in, (size_t)(n - in)) + 1;

		if (len > n - in) /* a last name without its NUL: keep as is */
			len = n - in;

		if (!strncmp(buf + in, prefix, sizeof(prefix) - 1)) {
			if (!have_creds) {
				req_caller(req, &c);
				have_creds = 1;
			}
			if (!c.cap_sys_admin) {
				in += len;
				continue;
			}
		}
		memmove(buf + out, buf + in, (size_t)len);
		out += len;
		in += len;
	}
	return out < n ? out : n;
}

/*
 * listxattr: the whole list is read (at most XATTR_LIST_MAX, as the kernel
 * allows) so that the size probe answers the length the caller may see.
 */
void op_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	char *buf;
	int n;

	op_begin(req, FUSE_LISTXATTR);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	buf = malloc(XATTR_BUF_MAX);
	if (!buf) {
		reply_err(req, ENOMEM);
		return;
	}
	n = fs->be.ops->listxattr(&fs->be, ino, buf, XATTR_BUF_MAX);
	if (n > 0)
		n = hide_trusted_names(req, buf, n);
	if (n < 0)
		reply_err(req, n);
	else if (!size)
		fuse_reply_xattr(req, (size_t)n);
	else if ((size_t)n > size)
		reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

void op_removexattr(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;

	op_begin(req, FUSE_REMOVEXATTR);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	int err;

	fastpath_drop_attr(fs->ks, nodeid);
	err = fs->be.ops->removexattr(&fs->be, ino, name);
	fastpath_drop_attr(fs->ks, nodeid); /* ctime changed */
	reply_err(req, err);
}

void op_access(fuse_req_t req, fuse_ino_t nodeid, int mask)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;

	op_begin(req, FUSE_ACCESS);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if ((mask & W_OK) && read_only(req)) {
		reply_err(req, EROFS);
		return;
	}
	reply_err(req, fs->be.ops->access(&fs->be, ino, mask));
}

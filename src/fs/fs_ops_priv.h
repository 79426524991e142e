/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fs_ops_priv.h - what the fs_ops*.c files share: the request helpers, the replies
 * and the publishing of entries and attributes.  The fs_ops*.c files are the only
 * callers of fuse_reply_*; every error reply goes through reply_err().
 */
#ifndef BPFUSE_FS_OPS_PRIV_H
#define BPFUSE_FS_OPS_PRIV_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 317
#endif
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <linux/fuse.h>
#include <linux/limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include "caller.h"
#include "config.h"
#include "fs.h"
#include "file.h"
#include "fastpath.h"
#include "forget.h"
#include "log.h"
#include "mountinfo.h"
#include "watch.h"

#define XATTR_BUF_MAX (64U * 1024)

/* Resolve @nodeid or reply ESTALE: the kernel named an inode we never gave. */
#define GET_INODE_OR_REPLY(var, req, nodeid)              \
	do {                                              \
		(var) = req_inode((req), (nodeid));       \
		if (!(var)) {                             \
			reply_err((req), ESTALE);    \
			return;                           \
		}                                         \
	} while (0)

#define REFUSE_IF_READ_ONLY(req)                  \
	do {                                      \
		if (read_only(req)) {             \
			reply_err(req, EROFS);      \
			return;                   \
		}                                 \
	} while (0)

struct fs *req_fs(fuse_req_t req);

struct inode *req_inode(fuse_req_t req, fuse_ino_t nodeid);

void op_begin(fuse_req_t req, unsigned int op);

int read_only(fuse_req_t req);

struct open_file *open_file_of(struct fuse_file_info *fi);

int file_fd(struct inode *ino, struct fuse_file_info *fi);

int io_fd(struct fs *fs, struct inode *ino, struct fuse_file_info *fi, int write,
		 int *owned);

void put_io_fd(int fd, int owned);

uint64_t mono_ns(void);

void note_attr(struct fs *fs, struct inode *ino, const struct stat *st, uint64_t ticket);

/* Negative entries recorded per directory at most (more LOOKUP misses there upcall) */
#define FP_NEG_PER_DIR 1024
void note_negative(struct fs *fs, struct inode *dir, const char *name, uint64_t ticket);
void unpublish_name(struct fs *fs, uint64_t parent, const char *name);

struct backend_cred req_cred(fuse_req_t req);

void req_caller(fuse_req_t req, struct caller_creds *c);

int drop_setid_bits(fuse_req_t req, struct inode *ino, int fd);

int setattr_setid(fuse_req_t req, struct inode *ino, int fd, struct stat *attr,
			 int *to_set);

void reply_err(fuse_req_t req, int err);

int make_entry(struct fs *fs, uint64_t parent, const char *name, struct backend_entry *be,
		      struct fuse_entry_param *e, uint64_t ticket);

void reply_new_entry(fuse_req_t req, uint64_t parent, const char *name, int err,
			    struct backend_entry *be, uint64_t ticket);

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);

void op_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup);

void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets);

void op_getattr(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi);

void op_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat *attr, int to_set,
		       struct fuse_file_info *fi);

void op_readlink(fuse_req_t req, fuse_ino_t nodeid);

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev);

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode);

void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name);

void op_link(fuse_req_t req, fuse_ino_t nodeid, fuse_ino_t newparent, const char *newname);

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);

void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags);

void writer_get(struct fs *fs, struct inode *ino, int flags);

void op_open(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi);

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi);

void op_tmpfile(fuse_req_t req, fuse_ino_t parent, mode_t mode, struct fuse_file_info *fi);

void op_read(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		    struct fuse_file_info *fi);

void op_write_buf(fuse_req_t req, fuse_ino_t nodeid, struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi);

void op_flush(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi);

void op_release(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi);

void op_fsync(fuse_req_t req, fuse_ino_t nodeid, int datasync, struct fuse_file_info *fi);

void op_fallocate(fuse_req_t req, fuse_ino_t nodeid, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi);

void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags);

void op_lseek(fuse_req_t req, fuse_ino_t nodeid, off_t off, int whence,
		     struct fuse_file_info *fi);

void op_ioctl(fuse_req_t req, fuse_ino_t nodeid, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned int flags, const void *in_buf,
		     size_t in_bufsz, size_t out_bufsz);

void op_opendir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi);

int kernel_fresh(struct fs *fs, const struct backend_entry *be);

void op_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		       struct fuse_file_info *fi);

void op_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
			   struct fuse_file_info *fi);

void op_releasedir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi);

void op_fsyncdir(fuse_req_t req, fuse_ino_t nodeid, int datasync, struct fuse_file_info *fi);

void op_statfs(fuse_req_t req, fuse_ino_t nodeid);

void op_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name, const char *value,
			size_t size, int flags);

void op_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name, size_t size);

void op_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size);

void op_removexattr(fuse_req_t req, fuse_ino_t nodeid, const char *name);

void op_access(fuse_req_t req, fuse_ino_t nodeid, int mask);

#endif

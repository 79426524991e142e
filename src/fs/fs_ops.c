// SPDX-License-Identifier: GPL-2.0
/*
 * fs_ops.c - the libfuse low-level operations: the FUSE boundary.  This file: the
 * operation table, INIT, the request helpers and replies the handlers share, and
 * the mount's fs state (fs_init); the handlers are in fs_ops_dir.c, fs_ops_file.c,
 * fs_ops_readdir.c and fs_ops_xattr.c.
 *
 * The fs_ops*.c files are the only ones that call fuse_reply_*().  Handlers resolve
 * nodeids to inodes, check what the kernel sent, call the backend (which returns 0
 * or -errno) and convert the result once, into a reply (errors: reply_err()).
 *
 * Semantics (see docs/semantics.md): a local directory mirrored with full
 * POSIX behaviour.  Locks (POSIX byte-range and flock(2)) are enforced by the
 * kernel for all users of the mount: getlk/setlk/flock are left to it on
 * purpose.  The kernel keeps exact per-process POSIX semantics, and a flock
 * is gone when close() returns; a daemon-side flock would only be dropped
 * when the kernel's background RELEASE arrives, after close() returned.
 */
#define FUSE_USE_VERSION 317
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
#include "log.h"
#include "mountinfo.h"
#include "watch.h"
#include "fs_ops_priv.h"

_Static_assert(BACKEND_SET_MODE == FUSE_SET_ATTR_MODE && BACKEND_SET_UID == FUSE_SET_ATTR_UID &&
		       BACKEND_SET_GID == FUSE_SET_ATTR_GID &&
		       BACKEND_SET_SIZE == FUSE_SET_ATTR_SIZE &&
		       BACKEND_SET_ATIME == FUSE_SET_ATTR_ATIME &&
		       BACKEND_SET_MTIME == FUSE_SET_ATTR_MTIME &&
		       BACKEND_SET_ATIME_NOW == FUSE_SET_ATTR_ATIME_NOW &&
		       BACKEND_SET_MTIME_NOW == FUSE_SET_ATTR_MTIME_NOW,
	       "backend setattr bits must match libfuse's");

#define MAX_WRITE_BYTES (1U << 20)

struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

struct inode *req_inode(fuse_req_t req, fuse_ino_t nodeid)
{
	return inode_get(&req_fs(req)->inodes, nodeid);
}

/* The opcode this worker thread is serving, for error accounting. */
static __thread unsigned int tl_op;

/*
 * libfuse 3.18 ends its io_uring threads with pthread_cancel() at unmount,
 * which lands at the next cancellation point of a request being served: a
 * handler dies holding a lock (an S3 upload half done), and the daemon then
 * hangs in its own teardown.  libfuse's /dev/fuse workers are cancellable
 * only while they wait for a request.  A ring thread here is not cancellable
 * once it serves one; it still leaves at unmount, woken by libfuse's eventfd.
 */
static __thread int tl_nocancel;

void op_begin(fuse_req_t req, unsigned int op)
{
	tl_op = op < STATS_MAX_OP ? op : 0;
	stats_add(&req_fs(req)->stats.op_count[tl_op], 1);
	if (fuse_req_is_uring(req)) {
		stats_add(&req_fs(req)->stats.uring_requests, 1);
		if (!tl_nocancel) {
			pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
			tl_nocancel = 1;
		}
	}
}

/*
 * Is the mount read-only now?  -o ro at mount time, and after that whatever
 * `mount -o remount,ro|rw` made of the superblock, which no request tells
 * the daemon: the mount table is read again whenever a request would be
 * refused (so a remount rw takes effect at once) and at most once a second
 * otherwise (after a remount ro the kernel refuses changes first; the daemon
 * follows within a second, for requests on files opened before).
 */
int read_only(fuse_req_t req)
{
	struct fs *fs = req_fs(req);
	struct timespec ts;
	int64_t now;
	int ro = __atomic_load_n(&fs->sb_read_only, __ATOMIC_RELAXED);

	if (!fs->conn)
		return fs->cfg->read_only; /* our mount was not found in the table */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (!ro && now - __atomic_load_n(&fs->sb_checked_ms, __ATOMIC_RELAXED) < 1000)
		return 0;
	ro = mountinfo_sb_read_only(makedev(0, fs->conn));
	if (ro < 0)
		ro = fs->cfg->read_only;
	__atomic_store_n(&fs->sb_read_only, ro, __ATOMIC_RELAXED);
	__atomic_store_n(&fs->sb_checked_ms, now, __ATOMIC_RELAXED);
	return ro;
}

/* The open state of a regular file (fi->fh), NULL for an open the daemon never saw. */
struct open_file *open_file_of(struct fuse_file_info *fi)
{
	return (struct open_file *)(uintptr_t)fi->fh;
}

/* The descriptor of a regular file's open, or -1 (no fi, not a file, or kernel_open). */
int file_fd(struct inode *ino, struct fuse_file_info *fi)
{
	return fi && fi->fh && S_ISREG(ino->type) ? open_file_of(fi)->fd : -1;
}

/*
 * The descriptor an I/O request on a regular file is served on: its open's
 * own, or, for an open the kernel made without the daemon (kernel_open:
 * fi->fh is 0), the inode's shared one.  Returns it or -errno; when *owned,
 * the caller closes it (put_io_fd()).
 */
int io_fd(struct fs *fs, struct inode *ino, struct fuse_file_info *fi, int write,
		 int *owned)
{
	*owned = 0;
	if (fi && fi->fh)
		return open_file_of(fi)->fd;
	if (!S_ISREG(ino->type))
		return -EBADF;
	if (fs->cfg->kernel_open)
		return file_io_fd(fs, ino, write, owned);
	/* an OPEN the fast path answered in the kernel (fh 0): read-only, like the open */
	if (fs->ks && !write)
		return file_io_fd(fs, ino, 0, owned);
	return -EBADF;
}

void put_io_fd(int fd, int owned)
{
	if (owned && fd >= 0)
		close(fd);
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t timeout_ns(double s)
{
	return (uint64_t)(s * 1e9);
}

/*
 * Record the attributes the kernel is about to be told, and until when it may
 * use them (kernel_fresh()): the watcher compares ctimes with them, and the
 * fast path serves them (unless the file is open for writing: passthrough
 * writes change it without telling the daemon).  @ticket: fastpath_begin()
 * before the backend read @st; the map takes @st only if nothing dropped
 * the node's attributes since, so an older answer never overwrites a newer
 * one.  The writer count is read after the ticket: a writer_get() before it
 * is seen here, one after it dropped (and outdated) the ticket.
 */
void note_attr(struct fs *fs, struct inode *ino, const struct stat *st, uint64_t ticket)
{
	uint64_t until;

	__atomic_store_n(&ino->attr_until_ns, mono_ns() + timeout_ns(fs->cfg->attr_timeout_s),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&ino->ctime_ns,
			 (uint64_t)st->st_ctim.tv_sec * 1000000000ULL + (uint64_t)st->st_ctim.tv_nsec,
			 __ATOMIC_RELAXED);
	if (fs->ks && !__atomic_load_n(&ino->nwriters, __ATOMIC_SEQ_CST) &&
	    !file_fastpath_until(fs, ino, &until))
		fastpath_put_attr(fs->ks, ino->nodeid, st, ticket, file_open_id(ino),
				  file_data_version(fs, ino), until);
}

/* Publish a name -> node reply to the fast path (one map name per node). */
static void note_entry(struct fs *fs, uint64_t parent, const char *name, struct inode *ino,
		       const struct stat *st, uint64_t ticket)
{
	uint64_t until;

	if (!fs->ks || !name || __atomic_load_n(&ino->nwriters, __ATOMIC_SEQ_CST) ||
	    file_fastpath_until(fs, ino, &until))
		return;
	pthread_mutex_lock(&ino->lock);
	if (ino->fp.name && (ino->fp.parent != parent || strcmp(ino->fp.name, name))) {
		fastpath_drop_name(fs->ks, ino->fp.parent, ino->fp.name);
		free(ino->fp.name);
		ino->fp.name = NULL;
	}
	if (!ino->fp.name)
		ino->fp.name = strdup(name);
	ino->fp.parent = parent;
	if (ino->fp.name)
		fastpath_put_entry(fs->ks, parent, name, ino->nodeid, st, ticket, file_open_id(ino),
				   file_data_version(fs, ino), until);
	pthread_mutex_unlock(&ino->lock);
}

/*
 * A LOOKUP found no @name in @parent (@ticket: before the backend read):
 * the fast path answers the next ones "no such name" too, until a create or
 * the watcher deletes it.
 */
void note_negative(struct fs *fs, struct inode *dir, const char *name, uint64_t ticket)
{
	size_t len = strlen(name);
	struct fp_neg *n;

	/*
	 * A store that revalidates by deadlines (S3) gets no negative entries:
	 * "no such name" comes from a listing of the directory, whose deadline
	 * the node of a name that does not exist cannot carry.
	 */
	if (!fs->ks || fs->be.ops->fastpath_check)
		return;
	pthread_mutex_lock(&dir->lock);
	for (n = dir->fp.negs; n && strcmp(n->name, name); n = n->next)
		;
	/* a directory's negatives are recorded, so that they go with it */
	if (!n && dir->fp.nnegs < FP_NEG_PER_DIR) {
		n = malloc(sizeof(*n) + len + 1);
		if (n) {
			memcpy(n->name, name, len + 1);
			n->next = dir->fp.negs;
			dir->fp.negs = n;
			dir->fp.nnegs++;
		}
	}
	if (n)
		fastpath_put_negative(fs->ks, dir->nodeid, name,
				      watch_timeout(fs, fs->cfg->negative_timeout_s), ticket);
	pthread_mutex_unlock(&dir->lock);
}

/* The directory @ino is freed: its negative entries leave the map (and the list). */
static void drop_negatives(struct fs *fs, struct inode *ino)
{
	struct fp_neg *n;

	while ((n = ino->fp.negs)) {
		ino->fp.negs = n->next;
		fastpath_drop_name(fs->ks, ino->nodeid, n->name);
		free(n);
	}
	ino->fp.nnegs = 0;
}

/*
 * A mutation is about to change (before the backend call) or has changed
 * (after it) @parent's entry @name and the directory itself.  Before: the
 * kernel stops answering from the maps meanwhile.  After: what a LOOKUP or
 * GETATTR read before the change can no longer be published (fastpath.h).
 */
void unpublish_name(struct fs *fs, uint64_t parent, const char *name)
{
	fastpath_drop_name(fs->ks, parent, name);
	fastpath_drop_attr(fs->ks, parent);
}

struct backend_cred req_cred(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct backend_cred c = { .uid = ctx->uid, .gid = ctx->gid };

	/* with FUSE_DONT_MASK the kernel sent the mode unmasked, and its umask */
	if (req_fs(req)->dont_mask)
		c.umask = ctx->umask & 0777;
	return c;
}

/*
 * The caller's groups and CAP_FSETID.  When they cannot be read (the thread
 * is gone), the caller counts as holding neither: set-ID bits are cleared
 * rather than kept.
 */
void req_caller(fuse_req_t req, struct caller_creds *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	caller_read(ctx->pid, ctx->gid, c);
}

/*
 * Clear the set-ID bits that a write or truncate by the caller removes on a
 * local filesystem (the daemon is root: the source never removes them on its
 * behalf).  @fd: an open descriptor of @ino or -1.  Called where the kernel
 * leaves this to the daemon; cheap unless a set-ID bit is present.
 */
int drop_setid_bits(fuse_req_t req, struct inode *ino, int fd)
{
	struct fs *fs = req_fs(req);
	struct caller_creds c;
	struct stat st;
	mode_t drop;
	int err;

	err = fs->be.ops->getattr(&fs->be, ino, fd, &st);
	if (err || !(st.st_mode & (S_ISUID | S_ISGID)))
		return err;
	req_caller(req, &c);
	drop = caller_setid_to_drop(&c, st.st_mode, st.st_gid, 0);
	if (!drop)
		return 0;
	fastpath_drop_attr(fs->ks, ino->nodeid);
	st.st_mode &= ~drop;
	err = fs->be.ops->setattr(&fs->be, ino, fd, &st, BACKEND_SET_MODE);
	fastpath_drop_attr(fs->ks, ino->nodeid);
	return err;
}

/*
 * The mode bits a SETATTR must change beyond what it asks, as a local
 * filesystem would for this caller (@attr and @to_set are updated):
 * - FUSE_HANDLE_KILLPRIV_V2: the kernel sends FATTR_KILL_SUIDGID (libfuse:
 *   FUSE_SET_ATTR_KILL_SUID) with a chown, and with a truncate by a caller
 *   without CAP_FSETID; and a SETATTR with nothing to set when a write,
 *   fallocate or copy_file_range by such a caller found set-ID bits
 *   (file_remove_privs(): fuse_setattr() drops ATTR_KILL_S*ID and ATTR_MODE
 *   and sends what is left), passthrough writes included.
 * - a mode with S_ISGID, set by a caller outside the file's group without
 *   CAP_FSETID, loses it (setattr_copy_mode()).
 * Reads the file's attributes and the caller's credentials only then.
 */
int setattr_setid(fuse_req_t req, struct inode *ino, int fd, struct stat *attr,
			 int *to_set)
{
	struct fs *fs = req_fs(req);
	int kill = fs->killpriv && (!*to_set || (*to_set & FUSE_SET_ATTR_KILL_SUID));
	int chown = *to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID);
	struct caller_creds c;
	int have_creds = 0;
	struct stat st;
	gid_t gid;
	int err;

	if (!fs->setid ||
	    (!kill && !((*to_set & FUSE_SET_ATTR_MODE) && (attr->st_mode & S_ISGID))))
		return 0;
	err = fs->be.ops->getattr(&fs->be, ino, fd, &st);
	if (err)
		return err;
	if (kill && !(*to_set & FUSE_SET_ATTR_MODE) && (st.st_mode & (S_ISUID | S_ISGID))) {
		mode_t drop;

		req_caller(req, &c);
		have_creds = 1;
		drop = caller_setid_to_drop(&c, st.st_mode, st.st_gid, chown);
		if (drop) {
			attr->st_mode = st.st_mode & ~drop;
			*to_set |= FUSE_SET_ATTR_MODE;
		}
	}
	if (!(*to_set & FUSE_SET_ATTR_MODE) || !(attr->st_mode & S_ISGID))
		return 0;
	gid = (*to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : st.st_gid;
	if (fuse_req_ctx(req)->gid == gid)
		return 0;
	if (!have_creds)
		req_caller(req, &c);
	if (!caller_may_keep_sgid(&c, gid))
		attr->st_mode &= ~S_ISGID;
	return 0;
}

/* Every error reply goes through here, so the daemon's error counters are exact. */
void reply_err(fuse_req_t req, int err)
{
	if (err < 0)
		err = -err;
	if (err) {
		struct stats *st = &req_fs(req)->stats;

		stats_add(&st->op_errors[tl_op], 1);
		stats_add(&st->errors, 1);
	}
	fuse_reply_err(req, err);
}

/*
 * Turn a backend entry (the child @name of @parent) into a kernel-visible
 * inode and fill @e.  Consumes the entry's descriptor and handle.  @ticket:
 * fastpath_begin() before the backend produced @be.  Returns 0 or -ENOMEM.
 */
int make_entry(struct fs *fs, uint64_t parent, const char *name, struct backend_entry *be,
		      struct fuse_entry_param *e, uint64_t ticket)
{
	struct inode *ino;

	ino = inode_add_lookup(&fs->inodes, &be->key, be->st.st_mode, &be->fd, &be->handle);
	fs->be.ops->release_entry(&fs->be, be); /* what a known inode did not take */
	if (!ino)
		return -ENOMEM;
	if (S_ISDIR(ino->type) && !ino->watch.wd)
		watch_add_dir(fs, ino);
	__atomic_store_n(&ino->entry_until_ns, mono_ns() + timeout_ns(fs->cfg->entry_timeout_s),
			 __ATOMIC_RELAXED);
	note_attr(fs, ino, &be->st, ticket);
	note_entry(fs, parent, name, ino, &be->st, ticket);
	memset(e, 0, sizeof(*e));
	e->ino = ino->nodeid;
	e->attr = be->st;
	e->attr_timeout = watch_timeout(fs, fs->cfg->attr_timeout_s);
	e->entry_timeout = watch_timeout(fs, fs->cfg->entry_timeout_s);
	return 0;
}

void reply_new_entry(fuse_req_t req, uint64_t parent, const char *name, int err,
			    struct backend_entry *be, uint64_t ticket)
{
	struct fuse_entry_param e;

	if (!err)
		err = make_entry(req_fs(req), parent, name, be, &e, ticket);
	if (err)
		reply_err(req, err);
	else if (fuse_reply_entry(req, &e) == -ENOENT)
		/* the request was interrupted: the kernel will not count this lookup */
		inode_forget(&req_fs(req)->inodes, req_inode(req, e.ino), 1);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;
	char status[2 * PATH_MAX + 1024];

	stats_add(&fs->stats.op_count[FUSE_INIT], 1);
	if (fs->cfg->kernel_open) {
		/*
		 * Opens that never reach the daemon cannot be given a backing file;
		 * and O_TRUNC must come as a SETATTR before the open, as the kernel
		 * sends it without atomic_o_trunc, since there is no OPEN to carry it.
		 */
		fs->passthrough = 0;
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why),
			 "off: kernel_open (files are opened in the kernel)");
		fuse_unset_feature_flag(conn, FUSE_CAP_ATOMIC_O_TRUNC);
	}
	fs->proto_minor = conn->proto_minor;
	if (fs->passthrough) {
		if (geteuid() != 0) {
			fs->passthrough = 0;
			snprintf(fs->passthrough_why, sizeof(fs->passthrough_why),
				 "FUSE passthrough needs CAP_SYS_ADMIN (run as root)");
		} else if (!fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH)) {
			fs->passthrough = 0;
			snprintf(fs->passthrough_why, sizeof(fs->passthrough_why),
				 "the kernel does not offer FUSE passthrough (needs Linux >= 6.9 "
				 "with CONFIG_FUSE_PASSTHROUGH)");
		}
	}
	/*
	 * The fast path reads from backing files registered with the kernel,
	 * which the kernel allows only on connections that negotiated
	 * passthrough: ask for it even when opens will not pass through.
	 */
	if (fs->ks && !fs->passthrough && geteuid() == 0)
		fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH);
	/* passthrough and the writeback cache exclude each other; we use neither mix */
	fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
	/* locks stay with the kernel: see the comment at the top */
	fuse_unset_feature_flag(conn, FUSE_CAP_FLOCK_LOCKS);
	fuse_set_feature_flag(conn, FUSE_CAP_NO_EXPORT_SUPPORT);
	/* shared mmap of direct-I/O opens (S3 cold_direct), kernel >= 6.6 */
	fuse_set_feature_flag(conn, FUSE_CAP_DIRECT_IO_ALLOW_MMAP);
	fuse_unset_feature_flag(conn, FUSE_CAP_POSIX_LOCKS);
	/*
	 * The daemon clears set-ID bits itself where the kernel asks (see
	 * setattr_setid()); in return the kernel marks inodes without set-ID
	 * bits S_NOSEC, and writes stop asking for security.capability: one
	 * GETXATTR per write otherwise, passthrough writes included.
	 */
	fs->killpriv = fuse_set_feature_flag(conn, FUSE_CAP_HANDLE_KILLPRIV_V2);
	/* S3 keeps modes in the objects' metadata (posix_meta): set-ID bits too */
	fs->setid = fs->cfg->backend == BACKEND_LOCAL || fs->cfg->s3_posix_meta;
	/*
	 * POSIX ACLs: the kernel caches them (no GETXATTR per file and ls -l),
	 * checks them and maps them across user namespaces; the source applies
	 * them to new files.  The kernel turns default_permissions on with
	 * them, and then refreshes a directory's attributes at the next path
	 * walk after every change in it (one GETATTR per create in a loop), so
	 * only mounts that check permissions in the kernel anyway get them;
	 * not S3, which has no ACLs to keep.
	 * With DONT_MASK the umask reaches us and the source applies it, which
	 * it does only where no default ACL says otherwise.
	 */
	if (fs->cfg->default_permissions && fs->cfg->backend == BACKEND_LOCAL)
		fs->posix_acl = fuse_set_feature_flag(conn, FUSE_CAP_POSIX_ACL);
	fs->dont_mask = fuse_set_feature_flag(conn, FUSE_CAP_DONT_MASK);
	conn->max_write = MAX_WRITE_BYTES;

	/*
	 * libfuse starts the ring after this returns, when it was asked to
	 * (daemon.c) and the kernel offered it: its switch was on at mount(2).
	 */
	if (fs->uring_want && !fuse_get_feature_flag(conn, FUSE_CAP_OVER_IO_URING)) {
		fs->uring_want = 0;
		snprintf(fs->uring_why, sizeof(fs->uring_why),
			 "the kernel did not offer FUSE-over-io_uring at INIT");
	}
	fs->uring = fs->uring_want;

	if (fs->cfg->passthrough && !fs->passthrough && !fs->cfg->kernel_open)
		pr_warn("passthrough off: %s", fs->passthrough_why);
	snprintf(status, sizeof(status),
		 "mounted %s on %s (passthrough %s, BPF tracing %s%s%s, in-kernel fast path %s%s%s, "
		 "requests by %s%s%s)",
		 fs->cfg->source_spec, fs->cfg->mountpoint,
		 fs->passthrough ? "on" : fs->cfg->kernel_open ? "off: files open in the kernel" :
		 fs->cfg->passthrough ? "unavailable" : "off by option",
		 fs->trace ? "on" : fs->cfg->trace ? "unavailable" : "off by option",
		 fs->trace || !fs->cfg->trace ? "" : ": ",
		 fs->trace || !fs->cfg->trace ? "" : fs->trace_why,
		 fs->ks ? "on" : "off", fs->ks ? "" : ": ", fs->ks ? "" : fs->fastpath_why,
		 fs->uring ? "io_uring" : "/dev/fuse reads, io_uring off: ",
		 fs->uring ? "" : fs->uring_why,
		 fs->uring_switched_on ? "; turned on the kernel's system-wide fuse enable_uring" : "");
	if (fs->on_init)
		fs->on_init(fs, status);
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.open = op_open,
	.create = op_create,
	.tmpfile = op_tmpfile,
	.read = op_read,
	.write_buf = op_write_buf,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.fallocate = op_fallocate,
	.copy_file_range = op_copy_file_range,
	.lseek = op_lseek,
	.ioctl = op_ioctl,
};

static void release_inode(struct inode *ino, void *arg)
{
	struct fs *fs = arg;

	watch_remove(fs, ino);
	if (ino->fp.name)
		fastpath_drop_name(fs->ks, ino->fp.parent, ino->fp.name);
	free(ino->fp.name);
	ino->fp.name = NULL;
	drop_negatives(fs, ino);
	fastpath_drop_node(fs->ks, ino->nodeid);
	file_release_published(fs, ino); /* unpublished just above, the kernel forgot the node */
	file_release_io(fs, ino);
	fs->be.ops->release_inode(&fs->be, ino);
}

static int same_object(struct inode *ino, int fd, void *handle, void *arg)
{
	struct fs *fs = arg;

	return fs->be.ops->same_object(&fs->be, ino, fd, handle);
}

int fs_init(struct fs *fs, const struct config *cfg, const struct backend_driver *drv)
{
	struct backend_entry root;
	struct rlimit lim;
	int err;

	memset(fs, 0, sizeof(*fs));
	fs->cfg = cfg;
	fs->passthrough = cfg->passthrough;
	if (!cfg->passthrough)
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why), "off by option");
	pthread_mutex_init(&fs->pt_lock, NULL);
	fs->drv = drv;
	fs->be.fs = fs;
	fs->be.cfg = cfg;
	err = drv->open(&fs->be, cfg);
	if (err)
		goto out_backend; /* a backend that failed half-way is closed like a whole one */
	fs->io_fd_budget = 1024;
	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur != RLIM_INFINITY &&
	    lim.rlim_cur / 4 > 1024)
		fs->io_fd_budget = (long)(lim.rlim_cur / 4);
	err = inode_table_init(&fs->inodes, release_inode, fs);
	if (!err && fs->be.ops->same_object)
		fs->inodes.same = same_object;
	if (err)
		goto out_backend;
	err = fs->be.ops->open_root(&fs->be, &root);
	if (err) {
		pr_err("cannot stat source '%s': %s", cfg->source, strerror(-err));
		goto out_table;
	}
	err = inode_table_set_root(&fs->inodes, &root.key, root.st.st_mode, root.fd);
	if (err)
		goto out_table;
	return 0;

out_table:
	inode_table_release(&fs->inodes);
out_backend:
	drv->close(&fs->be);
	pthread_mutex_destroy(&fs->pt_lock);
	return err;
}

void fs_release(struct fs *fs)
{
	inode_table_release(&fs->inodes);
	fs->drv->close(&fs->be);
	pthread_mutex_destroy(&fs->pt_lock);
}

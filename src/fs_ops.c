// SPDX-License-Identifier: GPL-2.0
/*
 * fs_ops.c - the libfuse low-level operations: the FUSE boundary.
 *
 * The only file that calls fuse_reply_*().  Handlers resolve nodeids to
 * inodes, check what the kernel sent, call the backend (which returns 0 or
 * -errno) and convert the result once, here, into a reply.
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
#include "handle.h"
#include "kstate.h"
#include "log.h"
#include "mountinfo.h"
#include "watch.h"

_Static_assert(BACKEND_SET_MODE == FUSE_SET_ATTR_MODE && BACKEND_SET_UID == FUSE_SET_ATTR_UID &&
		       BACKEND_SET_GID == FUSE_SET_ATTR_GID &&
		       BACKEND_SET_SIZE == FUSE_SET_ATTR_SIZE &&
		       BACKEND_SET_ATIME == FUSE_SET_ATTR_ATIME &&
		       BACKEND_SET_MTIME == FUSE_SET_ATTR_MTIME &&
		       BACKEND_SET_ATIME_NOW == FUSE_SET_ATTR_ATIME_NOW &&
		       BACKEND_SET_MTIME_NOW == FUSE_SET_ATTR_MTIME_NOW,
	       "backend setattr bits must match libfuse's");

#define MAX_WRITE_BYTES (1U << 20)
#define XATTR_BUF_MAX (64U * 1024)

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct inode *req_inode(fuse_req_t req, fuse_ino_t nodeid)
{
	return inode_get(&req_fs(req)->inodes, nodeid);
}

/* Resolve @nodeid or reply ESTALE: the kernel named an inode we never gave. */
#define GET_INODE_OR_REPLY(var, req, nodeid)              \
	do {                                              \
		(var) = req_inode((req), (nodeid));       \
		if (!(var)) {                             \
			reply_err((req), ESTALE);    \
			return;                           \
		}                                         \
	} while (0)

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

static void op_begin(fuse_req_t req, unsigned int op)
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
static int read_only(fuse_req_t req)
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

#define REFUSE_IF_READ_ONLY(req)                  \
	do {                                      \
		if (read_only(req)) {             \
			reply_err(req, EROFS);      \
			return;                   \
		}                                 \
	} while (0)

/* The open state of a regular file (fi->fh), NULL for an open the daemon never saw. */
static struct file_handle_state *fhs(struct fuse_file_info *fi)
{
	return (struct file_handle_state *)(uintptr_t)fi->fh;
}

/* The descriptor of a regular file's open, or -1 (no fi, not a file, or kernel_open). */
static int file_fd(struct inode *ino, struct fuse_file_info *fi)
{
	return fi && fi->fh && S_ISREG(ino->type) ? fhs(fi)->fd : -1;
}

/*
 * The descriptor an I/O request on a regular file is served on: its open's
 * own, or, for an open the kernel made without the daemon (kernel_open:
 * fi->fh is 0), the inode's shared one.  Returns it or -errno; when *owned,
 * the caller closes it (put_io_fd()).
 */
static int io_fd(struct fs *fs, struct inode *ino, struct fuse_file_info *fi, int write,
		 int *owned)
{
	*owned = 0;
	if (fi && fi->fh)
		return fhs(fi)->fd;
	if (!fs->cfg->kernel_open || !S_ISREG(ino->type))
		return -EBADF;
	return handle_io_fd(fs, ino, write, owned);
}

static void put_io_fd(int fd, int owned)
{
	if (owned && fd >= 0)
		close(fd);
}

static uint64_t mono_ns(void)
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
 * writes change it without telling the daemon).
 */
static void note_attr(struct fs *fs, struct inode *ino, const struct stat *st)
{
	__atomic_store_n(&ino->attr_until_ns, mono_ns() + timeout_ns(fs->cfg->attr_timeout_s),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&ino->ctime_ns,
			 (uint64_t)st->st_ctim.tv_sec * 1000000000ULL + (uint64_t)st->st_ctim.tv_nsec,
			 __ATOMIC_RELAXED);
	if (fs->ks && !__atomic_load_n(&ino->nwriters, __ATOMIC_RELAXED))
		kstate_put_attr(fs->ks, ino->nodeid, st);
}

/* Publish a name -> node reply to the fast path (one map name per node). */
static void note_entry(struct fs *fs, uint64_t parent, const char *name, struct inode *ino,
		       const struct stat *st)
{
	if (!fs->ks || !name || __atomic_load_n(&ino->nwriters, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&ino->lock);
	if (ino->kname && (ino->kparent != parent || strcmp(ino->kname, name))) {
		kstate_drop_name(fs->ks, ino->kparent, ino->kname);
		free(ino->kname);
		ino->kname = NULL;
	}
	if (!ino->kname)
		ino->kname = strdup(name);
	ino->kparent = parent;
	if (ino->kname)
		kstate_put_entry(fs->ks, parent, name, ino->nodeid, st);
	pthread_mutex_unlock(&ino->lock);
}

/* A mutation is about to change @parent's entry @name and the directory itself. */
static void unpublish_name(struct fs *fs, uint64_t parent, const char *name)
{
	kstate_drop_name(fs->ks, parent, name);
	kstate_drop_attr(fs->ks, parent);
}

static struct backend_cred req_cred(fuse_req_t req)
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
static void req_caller(fuse_req_t req, struct caller_creds *c)
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
static int drop_setid_bits(fuse_req_t req, struct inode *ino, int fd)
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
	kstate_drop_attr(fs->ks, ino->nodeid);
	st.st_mode &= ~drop;
	return fs->be.ops->setattr(&fs->be, ino, fd, &st, BACKEND_SET_MODE);
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
static int setattr_setid(fuse_req_t req, struct inode *ino, int fd, struct stat *attr,
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
static void reply_err(fuse_req_t req, int err)
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
 * inode and fill @e.  Consumes the entry's descriptor and handle.
 * Returns 0 or -ENOMEM.
 */
static int make_entry(struct fs *fs, uint64_t parent, const char *name, struct backend_entry *be,
		      struct fuse_entry_param *e)
{
	struct inode *ino;

	ino = inode_add_lookup(&fs->inodes, &be->key, be->st.st_mode, &be->fd, &be->handle);
	fs->be.ops->release_entry(&fs->be, be); /* what a known inode did not take */
	if (!ino)
		return -ENOMEM;
	if (S_ISDIR(ino->type) && !ino->watch_wd)
		watch_add_dir(fs, ino);
	__atomic_store_n(&ino->entry_until_ns, mono_ns() + timeout_ns(fs->cfg->entry_timeout_s),
			 __ATOMIC_RELAXED);
	note_attr(fs, ino, &be->st);
	note_entry(fs, parent, name, ino, &be->st);
	memset(e, 0, sizeof(*e));
	e->ino = ino->nodeid;
	e->attr = be->st;
	e->attr_timeout = watch_timeout(fs, fs->cfg->attr_timeout_s);
	e->entry_timeout = watch_timeout(fs, fs->cfg->entry_timeout_s);
	return 0;
}

static void reply_new_entry(fuse_req_t req, uint64_t parent, const char *name, int err,
			    struct backend_entry *be)
{
	struct fuse_entry_param e;

	if (!err)
		err = make_entry(req_fs(req), parent, name, be, &e);
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

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct backend_entry be;
	struct inode *dir;
	int err;

	op_begin(req, FUSE_LOOKUP);
	GET_INODE_OR_REPLY(dir, req, parent);
	err = fs->be.ops->lookup(&fs->be, dir, name, &be);
	if (err == -ENOENT && fs->cfg->negative_timeout_s > 0) {
		struct fuse_entry_param e = {
			.ino = 0,
			.entry_timeout = watch_timeout(fs, fs->cfg->negative_timeout_s),
		};

		fuse_reply_entry(req, &e);
		return;
	}
	reply_new_entry(req, parent, name, err, &be);
}

/* Add the lookups BPF answered since the last fold to the inode's count. */
static void fold_bpf_lookups(struct fs *fs, struct inode *ino)
{
	uint64_t c = kstate_bpf_lookups(fs->ks, ino->nodeid), delta;

	pthread_mutex_lock(&fs->inodes.lock);
	delta = c > ino->bpf_folded ? c - ino->bpf_folded : 0;
	ino->bpf_folded = c;
	ino->nlookup += delta;
	pthread_mutex_unlock(&fs->inodes.lock);
}

/*
 * FORGET with the fast path: the kernel's count is ours plus what BPF
 * answered.  Before a count may reach 0, the node's name leaves the map so
 * BPF cannot answer another lookup, and the counter is folded once more.
 */
static void forget_one(struct fs *fs, struct inode *ino, uint64_t n)
{
	if (fs->ks) {
		fold_bpf_lookups(fs, ino);
		if (__atomic_load_n(&ino->nlookup, __ATOMIC_RELAXED) <= n) {
			pthread_mutex_lock(&ino->lock);
			if (ino->kname) {
				kstate_drop_name(fs->ks, ino->kparent, ino->kname);
				free(ino->kname);
				ino->kname = NULL;
			}
			pthread_mutex_unlock(&ino->lock);
			fold_bpf_lookups(fs, ino);
		}
	}
	inode_forget(&fs->inodes, ino, n);
}

static void op_forget(fuse_req_t req, fuse_ino_t nodeid, uint64_t nlookup)
{
	struct inode *ino = req_inode(req, nodeid);

	op_begin(req, FUSE_FORGET);
	if (ino)
		forget_one(req_fs(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t i;

	op_begin(req, FUSE_BATCH_FORGET);
	for (i = 0; i < count; i++) {
		struct inode *ino = req_inode(req, forgets[i].ino);

		if (ino)
			forget_one(req_fs(req), ino, forgets[i].nlookup);
	}
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	struct stat st;
	int err;

	op_begin(req, FUSE_GETATTR);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	err = fs->be.ops->getattr(&fs->be, ino, file_fd(ino, fi), &st);
	if (err) {
		reply_err(req, err);
		return;
	}
	note_attr(fs, ino, &st);
	fuse_reply_attr(req, &st, watch_timeout(fs, fs->cfg->attr_timeout_s));
}

static void op_setattr(fuse_req_t req, fuse_ino_t nodeid, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	struct stat st;
	int fd, err;

	op_begin(req, FUSE_SETATTR);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	fd = file_fd(ino, fi);
	kstate_drop_attr(fs->ks, nodeid);
	err = setattr_setid(req, ino, fd, attr, &to_set);
	if (!err)
		err = fs->be.ops->setattr(&fs->be, ino, fd, attr,
					  to_set & ~(FUSE_SET_ATTR_KILL_SUID | FUSE_SET_ATTR_KILL_SGID));
	if (!err)
		err = fs->be.ops->getattr(&fs->be, ino, fd, &st);
	if (err) {
		reply_err(req, err);
		return;
	}
	note_attr(fs, ino, &st);
	fuse_reply_attr(req, &st, watch_timeout(fs, fs->cfg->attr_timeout_s));
}

static void op_readlink(fuse_req_t req, fuse_ino_t nodeid)
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

	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	reply_new_entry(req, parent, name,
			fs->be.ops->mknod(&fs->be, dir, name, mode, rdev, &cred, &be), &be);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	op_begin(req, FUSE_MKNOD);
	do_mknod(req, parent, name, mode, rdev);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	op_begin(req, FUSE_MKDIR);
	do_mknod(req, parent, name, S_IFDIR | (mode & ~S_IFMT), 0);
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct backend_cred cred = req_cred(req);
	struct backend_entry be;
	struct inode *dir;

	op_begin(req, FUSE_SYMLINK);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	reply_new_entry(req, parent, name,
			fs->be.ops->symlink(&fs->be, dir, name, target, &cred, &be), &be);
}

static void op_link(fuse_req_t req, fuse_ino_t nodeid, fuse_ino_t newparent, const char *newname)
{
	struct fs *fs = req_fs(req);
	struct backend_entry be;
	struct inode *ino, *dir;

	op_begin(req, FUSE_LINK);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	GET_INODE_OR_REPLY(dir, req, newparent);
	unpublish_name(fs, newparent, newname);
	kstate_drop_attr(fs->ks, nodeid); /* nlink */
	reply_new_entry(req, newparent, newname, fs->be.ops->link(&fs->be, ino, dir, newname, &be),
			&be);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct inode *dir;

	op_begin(req, FUSE_UNLINK);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	reply_err(req, fs->be.ops->unlink(&fs->be, dir, name));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = req_fs(req);
	struct inode *dir;

	op_begin(req, FUSE_RMDIR);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	reply_err(req, fs->be.ops->rmdir(&fs->be, dir, name));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs *fs = req_fs(req);
	struct inode *dir, *newdir;

	op_begin(req, FUSE_RENAME2);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	GET_INODE_OR_REPLY(newdir, req, newparent);
	unpublish_name(fs, parent, name);
	unpublish_name(fs, newparent, newname);
	reply_err(req, fs->be.ops->rename(&fs->be, dir, name, newdir, newname, flags));
}

static int opens_for_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* A writer is opening: the maps must stop serving this file's attributes. */
static void writer_get(struct fs *fs, struct inode *ino, int flags)
{
	if (!opens_for_write(flags))
		return;
	__atomic_add_fetch(&ino->nwriters, 1, __ATOMIC_RELAXED);
	kstate_drop_attr(fs->ks, ino->nodeid);
}

static void writer_put(struct fs *fs, struct inode *ino, int flags)
{
	/* seq_cst: pairs with the watcher's mark (watch.c, defer_if_writing_locked) */
	if (opens_for_write(flags) && !__atomic_sub_fetch(&ino->nwriters, 1, __ATOMIC_SEQ_CST))
		watch_writer_done(fs, ino); /* changes behind the mount meanwhile */
}

static void set_open_flags(struct fs *fs, struct fuse_file_info *fi)
{
	/* Without passthrough, O_DIRECT opens bypass the FUSE page cache too. */
	if (!fi->backing_id && (fi->flags & O_DIRECT))
		fi->direct_io = 1;
	if (!fi->backing_id)
		fi->keep_cache = fs->cfg->keep_cache;
	if (fhs(fi)->direct & BACKEND_OPEN_UNCACHED)
		fi->direct_io = 1;
	fi->parallel_direct_writes = 1;
	/*
	 * Closing a read-only open has nothing to do: locks are the kernel's,
	 * nothing is dirty (a store's close-time work is for writers), so the
	 * kernel need not send FLUSH (FOPEN_NOFLUSH).  Nor does closing a writer
	 * on a local disk filesystem (ext4, XFS, btrfs, tmpfs, ...: none does work
	 * at close): only S3 (the upload) and network sources (NFS writes back at
	 * close) need the FLUSH.
	 */
	if (((fi->flags & O_ACCMODE) == O_RDONLY && !(fi->flags & O_TRUNC)) ||
	    (fs->cfg->backend == BACKEND_LOCAL && !fs->cfg->remote_fs))
		fi->noflush = 1;
}

/*
 * Open @ino for I/O into a new handle state in fi->fh: @fd when the caller
 * has one (create), else the backend opens.  Returns 0 or -errno; on error
 * nothing is left open.
 */
static int open_handle(struct fs *fs, struct inode *ino, struct fuse_file_info *fi, int fd)
{
	struct file_handle_state *h = calloc(1, sizeof(*h));
	int direct = 0;
	void *priv = NULL;

	if (!h) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	if (fd < 0 && fs->be.ops->open_file)
		fd = fs->be.ops->open_file(&fs->be, ino, fi->flags, &direct, &priv);
	else if (fd < 0)
		fd = fs->be.ops->open(&fs->be, ino, fi->flags);
	if (fd < 0) {
		free(h);
		return fd;
	}
	h->fd = fd;
	h->direct = direct;
	h->flags = fi->flags;
	h->priv = priv;
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* Close what open_handle() opened (the backend's last word first). */
static void close_handle(struct fs *fs, struct inode *ino, struct fuse_file_info *fi)
{
	struct file_handle_state *h = fhs(fi);

	if (fs->be.ops->release_file)
		fs->be.ops->release_file(&fs->be, ino, h->priv, h->fd);
	close(h->fd);
	free(h);
}

static void op_open(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int err;

	op_begin(req, FUSE_OPEN);
	if (fs->cfg->kernel_open) {
		/*
		 * The kernel's no-open mode: after this ENOSYS it opens and closes
		 * every regular file of the mount itself (no OPEN, no RELEASE), with
		 * FOPEN_KEEP_CACHE; permissions are the kernel's (default_permissions,
		 * or only the mounting user).  Not an error: not counted as one.
		 */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if (read_only(req) && ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))) {
		reply_err(req, EROFS);
		return;
	}
	err = open_handle(fs, ino, fi, -1);
	if (err) {
		reply_err(req, err);
		return;
	}
	/*
	 * O_TRUNC (atomic_o_trunc): the kernel asks the daemon to clear set-ID
	 * bits with FUSE_OPEN_KILL_SUIDGID, which libfuse does not pass on:
	 * decide from the caller's credentials.
	 */
	if (fs->killpriv && fs->setid && (fi->flags & O_TRUNC))
		err = drop_setid_bits(req, ino, fhs(fi)->fd);
	if (!err)
		err = handle_open(fs, req, ino, fi, fhs(fi)->direct);
	if (err) {
		close_handle(fs, ino, fi);
		reply_err(req, err);
		return;
	}
	writer_get(fs, ino, fi->flags);
	set_open_flags(fs, fi);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* interrupted: no release will come for this open */
		close_handle(fs, ino, fi);
		writer_put(fs, ino, fi->flags);
		handle_release(fs, req, ino);
	}
}

/*
 * The second half of CREATE and TMPFILE: turn the new object (@be, open as
 * @fd; @name NULL for an unnamed file) into an inode and an open, and reply.
 */
static void reply_created(fuse_req_t req, uint64_t parent, const char *name,
			  struct backend_entry *be, int fd, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fuse_entry_param e;
	struct inode *ino;
	int err;

	err = make_entry(fs, parent, name, be, &e);
	if (err) {
		close(fd);
		reply_err(req, err);
		return;
	}
	ino = req_inode(req, e.ino);
	err = open_handle(fs, ino, fi, fd);
	if (!err) {
		fhs(fi)->direct = fs->be.ops->create_direct;
		err = handle_open(fs, req, ino, fi, fhs(fi)->direct);
		if (err)
			close_handle(fs, ino, fi);
	}
	if (err) {
		inode_forget(&fs->inodes, ino, 1);
		reply_err(req, err);
		return;
	}
	writer_get(fs, ino, fi->flags);
	set_open_flags(fs, fi);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		close_handle(fs, ino, fi);
		writer_put(fs, ino, fi->flags);
		handle_release(fs, req, ino);
		inode_forget(&fs->inodes, ino, 1);
	}
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct backend_cred cred = req_cred(req);
	struct backend_entry be;
	struct inode *dir;
	int fd;

	op_begin(req, FUSE_CREATE);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	fd = fs->be.ops->create(&fs->be, dir, name, mode, fi->flags, &cred, &be);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	reply_created(req, parent, name, &be, fd, fi);
}

/* O_TMPFILE: an unnamed file in @parent, answered like a create. */
static void op_tmpfile(fuse_req_t req, fuse_ino_t parent, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct backend_cred cred = req_cred(req);
	struct backend_entry be;
	struct inode *dir;
	int fd;

	op_begin(req, FUSE_TMPFILE);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	if (!fs->be.ops->tmpfile) {
		reply_err(req, EOPNOTSUPP);
		return;
	}
	fd = fs->be.ops->tmpfile(&fs->be, dir, mode, fi->flags, &cred, &be);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	reply_created(req, parent, NULL, &be, fd, fi);
}

/*
 * The reply buffer of READs that the backend fills, one per worker thread and reused: a
 * fresh malloc of a 1 MiB READ is a fresh mmap, i.e. 256 page faults and zeroed pages for
 * every READ.  The kernel bounds @size by max_pages.
 */
struct read_buf {
	size_t cap;
	char data[];
};

static pthread_key_t read_buf_key;
static pthread_once_t read_buf_once = PTHREAD_ONCE_INIT;

static void read_buf_key_init(void)
{
	if (pthread_key_create(&read_buf_key, free))
		abort();
}

static char *thread_read_buf(size_t size)
{
	struct read_buf *b;

	pthread_once(&read_buf_once, read_buf_key_init);
	b = pthread_getspecific(read_buf_key);
	if (b && b->cap >= size)
		return b->data;
	free(b);
	b = malloc(sizeof(*b) + size);
	pthread_setspecific(read_buf_key, b);
	if (!b)
		return NULL;
	b->cap = size;
	return b->data;
}

static void op_read(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	struct fs *fs = req_fs(req);
	struct file_handle_state *h = fhs(fi);
	struct stats *st = &fs->stats;
	struct inode *ino;
	struct stat sb;
	int fd, owned;

	op_begin(req, FUSE_READ);
	if (off < 0) {
		reply_err(req, EINVAL);
		return;
	}
	if (h && h->direct && fs->be.ops->read_file) {
		/* not every byte is local: the backend fetches what is missing */
		struct backend_read_ref ref = { 0 };
		char *data;
		ssize_t n;

		GET_INODE_OR_REPLY(ino, req, nodeid);
		data = thread_read_buf(size ? size : 1);
		if (!data) {
			reply_err(req, ENOMEM);
			return;
		}
		n = fs->be.ops->read_file(&fs->be, ino, h->priv, h->fd, data, size, off, &ref);
		if (n < 0)
			reply_err(req, (int)n);
		else
			fuse_reply_buf(req, ref.data ? ref.data : data, (size_t)n);
		if (ref.data)
			ref.put(&ref);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	fd = io_fd(fs, ino, fi, 0, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fd;
	buf.buf[0].pos = off;
	/* count what the reply will carry: up to EOF */
	if (!fstat(fd, &sb) && sb.st_size > off)
		stats_add(&st->bytes_read_backend,
			  (uint64_t)sb.st_size - (uint64_t)off < size ? (uint64_t)(sb.st_size - off) :
									   size);
	stats_add(&st->reads_backend, 1);
	fuse_reply_data(req, &buf, 0);
	put_io_fd(fd, owned);
}

/* kernel_open: the watcher takes the change events of this write for ours (watch.c) */
static void note_own_write(struct inode *ino)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	__atomic_store_n(&ino->own_write_ns,
			 (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec,
			 __ATOMIC_RELAXED);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t nodeid, struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	struct file_handle_state *h = fhs(fi);
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int fd, owned;
	ssize_t n;

	op_begin(req, FUSE_WRITE);
	if (off < 0) {
		reply_err(req, EINVAL);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	fd = io_fd(fs, ino, fi, 1, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	if (!fi->fh)
		kstate_drop_attr(fs->ks, nodeid); /* no open accounted it as a writer */
	/*
	 * A direct-I/O write (FOPEN_DIRECT_IO: O_DIRECT without passthrough) is
	 * the only one the kernel does not precede with file_remove_privs(): it
	 * flags the WRITE with FUSE_WRITE_KILL_SUIDGID instead, which libfuse
	 * does not pass on.  Page writeback (writepage) clears nothing, as on a
	 * local filesystem.
	 */
	if (fs->setid && h && !fi->writepage && (h->flags & O_DIRECT) && S_ISREG(ino->type)) {
		int err = drop_setid_bits(req, ino, fd);

		if (err) {
			put_io_fd(fd, owned);
			reply_err(req, err);
			return;
		}
	}
	/* the backend decides uploads from the writes it was told of */
	if (fs->be.ops->write_note && h)
		fs->be.ops->write_note(&fs->be, ino, h->priv, 0);
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = fd;
	out.buf[0].pos = off;
	if (!fi->fh)
		note_own_write(ino);
	n = fuse_buf_copy(&out, in, 0);
	put_io_fd(fd, owned);
	if (!fi->fh)
		note_own_write(ino);
	if (fs->be.ops->write_note && fi->fh)
		fs->be.ops->write_note(&fs->be, ino, fhs(fi)->priv, 1);
	if (n < 0) {
		reply_err(req, (int)n);
		return;
	}
	stats_add(&fs->stats.bytes_written, (uint64_t)n);
	fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct file_handle_state *h = fhs(fi);
	struct inode *ino;
	int fd;

	op_begin(req, FUSE_FLUSH);
	if (fs->cfg->kernel_open) {
		/*
		 * Opens do not reach the daemon, so closes need not either: after
		 * this ENOSYS the kernel sends no FLUSH on this connection.  The local
		 * store's close-time work (NFS flushes) happens when the daemon closes
		 * its descriptor, or at fsync.  Not an error: not counted as one.
		 */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if (fs->be.ops->flush_file) {
		GET_INODE_OR_REPLY(ino, req, nodeid);
		reply_err(req, fs->be.ops->flush_file(&fs->be, ino, h->priv, h->fd));
		return;
	}
	/* Closing a duplicate runs the store's close-time work (NFS flushes). */
	fd = dup(h->fd);
	if (fd < 0 || close(fd)) {
		reply_err(req, errno);
		return;
	}
	reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino = req_inode(req, nodeid);

	op_begin(req, FUSE_RELEASE);
	if (ino) {
		close_handle(fs, ino, fi);
		writer_put(fs, ino, fi->flags);
		handle_release(fs, req, ino);
	} else {
		close(fhs(fi)->fd);
		free(fhs(fi));
	}
	reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t nodeid, int datasync, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct file_handle_state *h = fhs(fi);
	struct inode *ino;
	int err = 0, fd, owned;

	op_begin(req, FUSE_FSYNC);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	fd = io_fd(fs, ino, fi, 0, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	if ((datasync ? fdatasync(fd) : fsync(fd)))
		err = -errno;
	put_io_fd(fd, owned);
	if (!err && h && fs->be.ops->flush_file)
		/* durable means durable in the store */
		err = fs->be.ops->flush_file(&fs->be, ino, h->priv, h->fd);
	reply_err(req, err);
}

static void op_opendir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
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

static struct backend_dir *dir_handle(struct fuse_file_info *fi)
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
static int kernel_fresh(struct fs *fs, const struct backend_entry *be)
{
	uint64_t ctime_ns = (uint64_t)be->st.st_ctim.tv_sec * 1000000000ULL +
			    (uint64_t)be->st.st_ctim.tv_nsec;

	return fs->posix_acl && inode_kernel_fresh(&fs->inodes, &be->key, ctime_ns, mono_ns());
}

static void do_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct fs *fs = req_fs(req);
	struct backend_dir *d = dir_handle(fi);
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
				r = make_entry(fs, nodeid, ent->d_name, &be, &e);
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

static void op_readdir(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	op_begin(req, FUSE_READDIR);
	do_readdir(req, nodeid, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	op_begin(req, FUSE_READDIRPLUS);
	do_readdir(req, nodeid, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct backend_dir *d = dir_handle(fi);

	op_begin(req, FUSE_RELEASEDIR);
	(void)nodeid;
	fs->be.ops->closedir(&fs->be, d);
	free(d);
	reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t nodeid, int datasync, struct fuse_file_info *fi)
{
	int fd;

	op_begin(req, FUSE_FSYNCDIR);
	(void)nodeid;
	if (!dir_handle(fi)->dp) { /* a store without directory files (S3) */
		reply_err(req, 0);
		return;
	}
	fd = dirfd(dir_handle(fi)->dp);
	reply_err(req, (datasync ? fdatasync(fd) : fsync(fd)) ? errno : 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t nodeid)
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

static void op_setxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name, const char *value,
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
	kstate_drop_attr(fs->ks, nodeid);
	err = fs->be.ops->setxattr(&fs->be, ino, name, value, size, flags);
	if (!err && !strcmp(name, "system.posix_acl_access"))
		err = acl_set_sgid(req, ino);
	reply_err(req, err);
}

/* getxattr: the size-probe protocol of the syscall */
static void op_getxattr(fuse_req_t req, fuse_ino_t nodeid, const char *name, size_t size)
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
static void op_listxattr(fuse_req_t req, fuse_ino_t nodeid, size_t size)
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

static void op_removexattr(fuse_req_t req, fuse_ino_t nodeid, const char *name)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;

	op_begin(req, FUSE_REMOVEXATTR);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	kstate_drop_attr(fs->ks, nodeid);
	reply_err(req, fs->be.ops->removexattr(&fs->be, ino, name));
}

static void op_access(fuse_req_t req, fuse_ino_t nodeid, int mask)
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

static void op_fallocate(fuse_req_t req, fuse_ino_t nodeid, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int fd, owned, err = 0;

	op_begin(req, FUSE_FALLOCATE);
	if (read_only(req)) {
		reply_err(req, EROFS);
		return;
	}
	if (off < 0 || len <= 0) {
		reply_err(req, EINVAL);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if (fs->be.ops->fallocate_file && fi->fh) {
		struct file_handle_state *h = fhs(fi);

		reply_err(req, fs->be.ops->fallocate_file(&fs->be, ino, h->priv, h->fd, mode, off,
							  len));
		return;
	}
	fd = io_fd(fs, ino, fi, 1, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	if (fallocate(fd, mode, off, len))
		err = -errno;
	put_io_fd(fd, owned);
	reply_err(req, err);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct fs *fs = req_fs(req);
	struct inode *in, *out;
	int fd_in, fd_out, own_in, own_out;
	ssize_t n;

	op_begin(req, FUSE_COPY_FILE_RANGE);
	if (read_only(req)) {
		reply_err(req, EROFS);
		return;
	}
	if (off_in < 0 || off_out < 0) {
		reply_err(req, EINVAL);
		return;
	}
	GET_INODE_OR_REPLY(in, req, ino_in);
	GET_INODE_OR_REPLY(out, req, ino_out);
	if (fs->be.ops->copy_file && fi_in->fh && fi_out->fh) {
		/* the source's descriptor may not hold its bytes: the backend copies */
		n = fs->be.ops->copy_file(&fs->be, in, fhs(fi_in)->priv, fhs(fi_in)->fd, off_in,
					  out, fhs(fi_out)->priv, fhs(fi_out)->fd, off_out, len,
					  (unsigned int)flags);
		goto reply;
	}
	fd_in = io_fd(fs, in, fi_in, 0, &own_in);
	if (fd_in < 0) {
		reply_err(req, fd_in);
		return;
	}
	fd_out = io_fd(fs, out, fi_out, 1, &own_out);
	if (fd_out < 0) {
		put_io_fd(fd_in, own_in);
		reply_err(req, fd_out);
		return;
	}
	n = copy_file_range(fd_in, &off_in, fd_out, &off_out, len, (unsigned int)flags);
	if (n < 0)
		n = -errno;
	put_io_fd(fd_in, own_in);
	put_io_fd(fd_out, own_out);
reply:
	if (n < 0)
		reply_err(req, (int)n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_lseek(fuse_req_t req, fuse_ino_t nodeid, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int fd, owned;
	off_t res;

	op_begin(req, FUSE_LSEEK);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if (fs->be.ops->seek_file && fi->fh) {
		/* the descriptor may be a sparse cache file: the backend knows the object */
		res = fs->be.ops->seek_file(&fs->be, ino, fhs(fi)->priv, fhs(fi)->fd, off, whence);
		goto reply;
	}
	fd = io_fd(fs, ino, fi, 0, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	res = lseek(fd, off, whence);
	if (res < 0)
		res = -errno;
	put_io_fd(fd, owned);
reply:
	if (res < 0)
		reply_err(req, (int)res);
	else
		fuse_reply_lseek(req, res);
}

/*
 * No ioctl is forwarded to the source.  The kernel sends every ioctl it does
 * not handle itself, e.g. the TCGETS of isatty() that CPython's open() makes
 * on each file it opens, and it does not remember an ENOSYS: answer what a
 * local filesystem answers for an ioctl it does not know, at once.
 */
static void op_ioctl(fuse_req_t req, fuse_ino_t nodeid, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned int flags, const void *in_buf,
		     size_t in_bufsz, size_t out_bufsz)
{
	(void)nodeid, (void)cmd, (void)arg, (void)fi, (void)flags, (void)in_buf, (void)in_bufsz,
		(void)out_bufsz;
	op_begin(req, FUSE_IOCTL);
	fuse_reply_err(req, ENOTTY); /* the answer, not a failure of the daemon */
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
	if (ino->kname)
		kstate_drop_name(fs->ks, ino->kparent, ino->kname);
	free(ino->kname);
	ino->kname = NULL;
	kstate_drop_node(fs->ks, ino->nodeid);
	handle_release_io(fs, ino);
	fs->be.ops->release_inode(&fs->be, ino);
}

static int same_object(struct inode *ino, int fd, void *handle, void *arg)
{
	struct fs *fs = arg;

	return fs->be.ops->same_object(&fs->be, ino, fd, handle);
}

int fs_init(struct fs *fs, const struct config *cfg)
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
	err = backend_open(&fs->be, cfg);
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
	err = inode_table_set_root(&fs->inodes, &root.key, root.st.st_mode, fs->be.root_fd);
	if (err)
		goto out_table;
	return 0;

out_table:
	inode_table_release(&fs->inodes);
out_backend:
	backend_close(&fs->be);
	pthread_mutex_destroy(&fs->pt_lock);
	return err;
}

void fs_release(struct fs *fs)
{
	inode_table_release(&fs->inodes);
	backend_close(&fs->be);
	pthread_mutex_destroy(&fs->pt_lock);
}

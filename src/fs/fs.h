/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fs.h - the state of one mounted filesystem, shared by fs_ops.c, fs/file.c
 * and daemon.c.
 */
#ifndef BPFUSE_FS_H
#define BPFUSE_FS_H

#include <pthread.h>
#include <stdint.h>

#include "backend.h"
#include "inode.h"
#include "stats_counters.h"

struct config;
struct fuse_session;
struct trace;
struct watch;
struct fastpath;

struct fs {
	const struct config *cfg;
	struct backend be;
	const struct backend_driver *drv; /* opened be, closes it */
	struct inode_table inodes;
	struct fuse_session *se;

	/*
	 * Passthrough state: negotiated at INIT; turned off for the rest of the
	 * mount (for inodes without a backing file yet) when registering a
	 * backing file fails, e.g. because the source is itself stacked.
	 */
	int passthrough;
	pthread_mutex_t pt_lock;
	char passthrough_why[192]; /* why passthrough is off; "" when on */

	/*
	 * kernel_open: opens and closes of regular files never reach the daemon
	 * (the kernel's no-open mode); io_fds kept per inode, at most io_fd_budget.
	 */
	long io_fds;               /* atomic */
	long io_fd_budget;
	/* inodes whose backing file the fast path answers OPEN with (inode.h fp.open_id) */
	long fp_opens;             /* atomic, at most io_fd_budget */
	/* inodes with a backing file for block entries of daemon-served opens (fp.blk) */
	long fp_block_files;       /* atomic, at most io_fd_budget */
	/*
	 * Negotiated at INIT: the daemon clears set-ID bits where the kernel
	 * asks (FUSE_HANDLE_KILLPRIV_V2), and applies the caller's umask on
	 * creation itself (FUSE_DONT_MASK).
	 */
	int killpriv;
	int dont_mask;
	int posix_acl;   /* FUSE_POSIX_ACL: the kernel caches, checks and maps ACLs */
	int setid;       /* the store has set-ID bits (not S3's fixed modes) */

	struct stats stats;
	uint32_t conn;             /* FUSE connection id: minor of the mount's st_dev */
	uint32_t proto_minor;      /* the kernel's FUSE protocol minor, from INIT */
	struct trace *trace;       /* BPF request tracing, NULL when off */
	char trace_why[256];       /* why tracing is off */
	struct watch *watch;       /* change watcher of the source, NULL when off */
	struct fastpath *ks;         /* in-kernel fast path, NULL when off */
	char fastpath_why[256];    /* why the fast path is off */

	/* FUSE-over-io_uring: asked of libfuse before mount(2), negotiated at INIT */
	int uring_want;            /* libfuse was asked for the io_uring transport */
	int uring;                 /* the kernel offered it at INIT: requests come by the ring */
	int uring_switched_on;     /* this mount turned the kernel's enable_uring on */
	char uring_why[256];       /* why requests come by /dev/fuse reads; "" with io_uring */
	/*
	 * Read-only state of the superblock (-o ro, then `mount -o remount`),
	 * and when it was last read from the mount table (CLOCK_MONOTONIC ms);
	 * fs_read_only() in fs_ops.c keeps them, both read and written atomically.
	 */
	int sb_read_only;
	int64_t sb_checked_ms;

	/* Called once from INIT with a one-line status for the user. */
	void (*on_init)(struct fs *fs, const char *status);
};

/* Open the store with @drv (backends_driver()) and the inode table; 0 or -errno. */
int fs_init(struct fs *fs, const struct config *cfg, const struct backend_driver *drv);
void fs_release(struct fs *fs);

/* The libfuse operation table (fs_ops.c). */
struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops fs_ops;

#endif

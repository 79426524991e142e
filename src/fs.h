/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fs.h - the state of one mounted filesystem, shared by fs_ops.c, handle.c
 * and daemon.c.
 */
#ifndef BPFUSE_FS_H
#define BPFUSE_FS_H

#include <pthread.h>
#include <stdint.h>

#include "backend.h"
#include "inode.h"
#include "stats.h"

struct config;
struct fuse_session;
struct trace;
struct watch;
struct kstate;

struct fs {
	const struct config *cfg;
	struct backend be;
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

	struct stats stats;
	uint32_t conn;             /* FUSE connection id: minor of the mount's st_dev */
	struct trace *trace;       /* BPF request tracing, NULL when off */
	char trace_why[256];       /* why tracing is off */
	struct watch *watch;       /* change watcher of the source, NULL when off */
	struct kstate *ks;         /* in-kernel fast path, NULL when off */
	char fastpath_why[256];    /* why the fast path is off */

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

int fs_init(struct fs *fs, const struct config *cfg);
void fs_release(struct fs *fs);

/* The libfuse operation table (fs_ops.c). */
struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops fs_ops;

#endif

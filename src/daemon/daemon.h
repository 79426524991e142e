/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daemon.h - the life of one mount: check, mount, detach, serve, unmount.
 */
#ifndef BPFUSE_DAEMON_H
#define BPFUSE_DAEMON_H

#include <stddef.h>

struct config;

/* Where a running daemon records itself: RUNTIME_DIR/<fuse connection id>.pid */
#define BPFUSE_RUNTIME_DIR "/run/bpfuse"

/*
 * Mount cfg->source on cfg->mountpoint and serve it.  In the background
 * mode the call returns (0) in the parent once the kernel's INIT has been
 * answered, i.e. when the mount is usable; an error at any step before that
 * leaves nothing mounted and no process behind.  Returns the exit status.
 */
int daemon_mount(const struct config *cfg);

/*
 * `mount -o remount,...` of the bpfuse mount at @mountpoint: apply what the
 * kernel lets a FUSE mount change (ro/rw and the generic flags, by
 * mount(2) MS_REMOUNT; the daemon follows the superblock's read-only flag)
 * and refuse, with one line, a daemon option that differs from the running
 * one.  @want: the options, parsed and finished.  With @fake, check only.
 * Returns the exit status.
 */
int daemon_remount(const struct config *want, const char *mountpoint, int fake);

/* The stats socket of the bpfuse mount at @mountpoint.  0 or -errno (said). */
int daemon_stats_path(const char *mountpoint, char *path, size_t size);

/* Unmount a bpfuse mount and wait for its daemon to exit.  Exit status. */
/* Unmount and wait up to @wait_s seconds for the server to finish and exit. */
int daemon_umount(const char *mountpoint, int wait_s);

#endif

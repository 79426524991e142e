/* SPDX-License-Identifier: GPL-2.0 */
/*
 * watch.h - push changes made in the source directory behind the mount's
 * back into the kernel's caches, so long entry/attr timeouts stay correct.
 *
 * Every directory inode the kernel knows gets an inotify watch.  A name
 * created, deleted or moved in it invalidates that dentry (and the
 * directory's attributes and cached listing); a child whose data or
 * attributes changed has its attributes and page cache invalidated.
 * Latency: the event is handled as soon as inotify delivers it, typically
 * well under a second.
 *
 * Changes made through the mount produce events too, and must not
 * invalidate: the kernel already updated its caches from the reply, and
 * invalidating a dentry it just instantiated unhashes it under its user
 * (mkdir d; cd d; getcwd() fails with ENOENT).  A request that changes a
 * name records it (watch_own_begin/end) and the watcher consumes the
 * matching event.  Writes through the mount defer the invalidation of
 * their file to its last close (watch_writer_done).
 *
 * Events lost (queue overflow, a watch that failed or went away) drop
 * everything the kernel caches for the mount; after a failed watch the
 * timeouts of later replies are capped (watch_timeout).
 */
#ifndef BPFUSE_WATCH_H
#define BPFUSE_WATCH_H

#include <stdint.h>

struct fs;
struct inode;
struct watch_own;

/* Timeouts once a directory could not be watched (profile=shared's). */
#define WATCH_DEGRADED_TIMEOUT_S 1.0

/* Start the watcher thread (no-op returning 0 when cfg->invalidate is off). */
int watch_start(struct fs *fs);
void watch_stop(struct fs *fs);

/* Watch directory @ino (called when the kernel first learns of it). */
void watch_add_dir(struct fs *fs, struct inode *ino);
/* Forget @ino's watch (called when the inode is dropped). */
void watch_remove(struct fs *fs, struct inode *ino);

/*
 * The daemon is about to change name @name in @dir itself, making one event
 * of @kind (IN_CREATE, IN_DELETE, IN_MOVED_FROM or IN_MOVED_TO): call before
 * the syscall, and watch_own_end() with its result (0 or -errno) after it.
 * Returns NULL (which watch_own_end() accepts) when nothing is watched.
 */
struct watch_own *watch_own_begin(struct fs *fs, struct inode *dir, const char *name,
				  uint32_t kind);
void watch_own_end(struct fs *fs, struct watch_own *rec, int err);

/* The last open for writing of @ino through the mount was closed. */
void watch_writer_done(struct fs *fs, struct inode *ino);

/* @t, capped when changes behind the mount may go unseen. */
double watch_timeout(struct fs *fs, double t);

#endif

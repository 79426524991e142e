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
 * well under a second.  Changes made through the mount produce events too
 * and cause harmless extra invalidations.
 */
#ifndef BPFUSE_WATCH_H
#define BPFUSE_WATCH_H

struct fs;
struct inode;

/* Start the watcher thread (no-op returning 0 when cfg->invalidate is off). */
int watch_start(struct fs *fs);
void watch_stop(struct fs *fs);

/* Watch directory @ino (called when the kernel first learns of it). */
void watch_add_dir(struct fs *fs, struct inode *ino);
/* Forget @ino's watch (called when the inode is dropped). */
void watch_remove(struct fs *fs, struct inode *ino);

#endif

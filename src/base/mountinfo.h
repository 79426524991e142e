/* SPDX-License-Identifier: GPL-2.0 */
/* mountinfo.h - questions about the mount table (/proc/self/mountinfo). */
#ifndef BPFUSE_MOUNTINFO_H
#define BPFUSE_MOUNTINFO_H

#include <sys/types.h>

#define BPFUSE_FSTYPE "fuse.bpfuse"

/*
 * Is the canonical path @mnt the mountpoint of a bpfuse mount?
 * Returns 1 yes, 0 no, -errno when the table cannot be read.
 * When yes and @dev is not NULL, stores the mount's device number
 * (its minor is the FUSE connection id in /sys/fs/fuse/connections).
 */
int mountinfo_is_bpfuse(const char *mnt);
int mountinfo_find_bpfuse(const char *mnt, dev_t *dev);

/*
 * Is the superblock of the mount with device number @dev read-only (its
 * super options start with "ro")?  `mount -o remount,ro|rw` changes it.
 * Returns 1 yes, 0 no (or no such mount), -errno when the table cannot be read.
 */
int mountinfo_sb_read_only(dev_t dev);

/* Undo the octal escapes (\040 etc.) of a mountinfo field in place. */
void mountinfo_unescape(char *s);

#endif

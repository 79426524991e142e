/* SPDX-License-Identifier: GPL-2.0 */
/*
 * warmup.h - `bpfuse warmup`: read files through a mount so that their bytes land in the
 * cache (S3 mounts) or the page cache, with a progress bar on a terminal.
 */
#ifndef BPFUSE_WARMUP_H
#define BPFUSE_WARMUP_H

/*
 * Read every file named by @paths (relative to @mnt, or absolute; directories are walked)
 * and by the lines of @listfile ("-" = stdin; NULL = none) with @threads readers.  Prints a
 * progress bar on a tty and then one summary line.  Returns 0, or 1 when any file failed.
 */
int warmup_run(const char *mnt, char *const *paths, int npaths, const char *listfile,
	       int threads);

#endif

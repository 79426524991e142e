/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_local.h - a directory (local disk, NFS, CephFS...) as the store
 * (backend_local.c).
 */
#ifndef BPFUSE_BACKEND_LOCAL_H
#define BPFUSE_BACKEND_LOCAL_H

struct backend;

extern const struct backend_ops backend_local_ops;
extern const struct backend_driver backend_local_driver;

/*
 * Set how many O_PATH descriptors inodes keep before they keep file handles instead
 * (the mount's budget is half of RLIMIT_NOFILE); for tests of the handle path.
 */
void backend_local_set_fd_budget(struct backend *be, long n);

#endif

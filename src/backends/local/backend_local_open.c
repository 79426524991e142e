// SPDX-License-Identifier: GPL-2.0
/*
 * backend_local_open.c - opening the source: its atime options, the private clone of its
 * mount tree they need, and the local driver (open, close).
 */
#include "backend_local_priv.h"

/*
 * The kernel never updates atime on a FUSE inode (S_NOATIME); the source
 * does, for the daemon's reads.  So the atime mount options are applied to
 * the source here: noatime (files and directories) and nodiratime, the last
 * of the atime words given winning as in mount(8).
 */
static void local_atime_flags(struct backend *be, const char *opts)
{
	const char *p = opts;
	int noatime = 0, nodiratime = 0;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 7 && !strncmp(p, "noatime", n))
			noatime = 1;
		else if (n == 10 && !strncmp(p, "nodiratime", n))
			nodiratime = 1;
		else if ((n == 5 && !strncmp(p, "atime", n)) ||
			 (n == 8 && !strncmp(p, "relatime", n)) ||
			 (n == 11 && !strncmp(p, "strictatime", n)))
			noatime = 0;
		p += n;
		if (*p == ',')
			p++;
	}
	LB(be)->file_noatime = noatime;
	LB(be)->dir_noatime = noatime || nodiratime;
}

/*
 * Passthrough reads are done by the kernel on a backing file it opens with the
 * reader's flags: O_NOATIME on the daemon's descriptors does not reach them,
 * only the atime flags of the mount the backing file is on do.  So with an
 * atime option the daemon works in a private clone of the source's mount tree
 * (open_tree(OPEN_TREE_CLONE): detached, seen by no one else, keeping every
 * other flag of the source's mounts) with that atime flag set.  When that is
 * refused, O_NOATIME on the daemon's own opens still covers reads it serves.
 */
static void local_atime_tree(struct backend *be, const char *source)
{
	struct mount_attr a = { 0 };
	int fd;

	if (LB(be)->file_noatime) {
		a.attr_clr = MOUNT_ATTR__ATIME;
		a.attr_set = MOUNT_ATTR_NOATIME;
	} else if (LB(be)->dir_noatime) {
		a.attr_set = MOUNT_ATTR_NODIRATIME;
	} else {
		return;
	}
	fd = open_tree(LB(be)->root_fd, "",
		       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (fd < 0) {
		pr_warn("cannot clone the mount of '%s' for its atime option (%s): passthrough "
			"reads will update atime", source, strerror(errno));
		return;
	}
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a))) {
		pr_warn("cannot set the atime option on a clone of the mount of '%s' (%s): "
			"passthrough reads will update atime", source, strerror(errno));
		close(fd);
		return;
	}
	close(LB(be)->root_fd);
	LB(be)->root_fd = fd;
}

static int local_open_backend(struct backend *be, const struct config *cfg)
{
	struct local_be *lb;
	struct rlimit lim;

	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return -ENOMEM;
	be->priv = lb;
	lb->root_fd = -1;
	pthread_mutex_init(&lb->mounts.lock, NULL);
	/* half the descriptors for inodes: open files, sockets and BPF need the rest */
	lb->fd_budget = 512;
	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur != RLIM_INFINITY &&
	    lim.rlim_cur / 2 > 512)
		lb->fd_budget = (long)(lim.rlim_cur / 2);
	be->ops = &backend_local_ops;
	local_atime_flags(be, cfg->kernel_opts);
	lb->root_fd = open(cfg->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (lb->root_fd < 0) {
		int err = -errno;

		pr_err("cannot open source '%s': %s", cfg->source, strerror(-err));
		return err;
	}
	local_atime_tree(be, cfg->source);
	return 0;
}

static void local_close_backend(struct backend *be)
{
	struct local_be *lb = LB(be);
	int i;

	if (!lb)
		return;
	if (lb->root_fd >= 0)
		close(lb->root_fd);
	for (i = 0; i < lb->mounts.n; i++)
		close(lb->mounts.fd[i]);
	pthread_mutex_destroy(&lb->mounts.lock);
	free(lb);
	be->priv = NULL;
}

const struct backend_driver backend_local_driver = {
	.open = local_open_backend,
	.close = local_close_backend,
};

void backend_local_set_fd_budget(struct backend *be, long n)
{
	LB(be)->fd_budget = n;
}

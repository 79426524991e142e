// SPDX-License-Identifier: GPL-2.0
/*
 * forget.c - FORGET and BATCH_FORGET against the in-kernel fast path
 * (forget.h has the protocol).
 */
#include "forget.h"

#include <stdlib.h>

#include "fastpath.h"
#include "inode.h"

static uint64_t fp_lookups(void *fp, uint64_t nodeid)
{
	return fastpath_bpf_lookups(fp, nodeid);
}

static void fp_drop_name(void *fp, uint64_t parent, const char *name)
{
	fastpath_drop_name(fp, parent, name);
}

static int fp_sync(void *fp)
{
	return fastpath_sync(fp);
}

const struct forget_fp_ops forget_fastpath_ops = {
	.lookups = fp_lookups,
	.drop_name = fp_drop_name,
	.sync = fp_sync,
};

static void fold(struct inode_table *tbl, const struct forget_fp_ops *ops, void *fp,
		 struct inode *ino)
{
	inode_fold_bpf_lookups(tbl, ino, ops->lookups(fp, ino->nodeid));
}

/* No BPF lookup can reach @ino from now on (its one map name is deleted). */
static void unpublish(const struct forget_fp_ops *ops, void *fp, struct inode *ino)
{
	pthread_mutex_lock(&ino->lock);
	if (ino->fp.name) {
		ops->drop_name(fp, ino->fp.parent, ino->fp.name);
		free(ino->fp.name);
		ino->fp.name = NULL;
	}
	pthread_mutex_unlock(&ino->lock);
}

void forget_batch(struct inode_table *tbl, const struct forget_fp_ops *ops, void *fp,
		  struct forget_item *items, size_t count)
{
	size_t i, nheld = 0;

	if (!fp) {
		for (i = 0; i < count; i++)
			inode_forget(tbl, items[i].ino, items[i].n);
		return;
	}
	/*
	 * 1. Fold what BPF answered so far (the kernel forgets those lookups
	 * too), drop the kernel's count; where none is left, hold the inode
	 * and delete its name.  A node named twice in one batch reaches 0 at
	 * its last item.
	 */
	for (i = 0; i < count; i++) {
		fold(tbl, ops, fp, items[i].ino);
		items[i].held = inode_forget_hold(tbl, items[i].ino, items[i].n);
		if (items[i].held) {
			unpublish(ops, fp, items[i].ino);
			nheld++;
		}
	}
	if (!nheld)
		return;
	/*
	 * 2. One grace period for the whole batch: every program that found
	 * one of those names has incremented its counter when this returns.
	 * On failure (counted there) fold anyway: racy, as before the wait.
	 */
	ops->sync(fp);
	/* 3. Fold those increments; an inode BPF handed out again lives on. */
	for (i = 0; i < count; i++)
		if (items[i].held) {
			fold(tbl, ops, fp, items[i].ino);
			inode_settle(tbl, items[i].ino);
		}
}

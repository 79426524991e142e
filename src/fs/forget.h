/* SPDX-License-Identifier: GPL-2.0 */
/*
 * forget.h - FORGET and BATCH_FORGET against the in-kernel fast path.
 *
 * The kernel's lookup count of a node is the daemon's own count plus the
 * lookups BPF answered (fp_nlookup, which only BPF increments).  A BPF
 * LOOKUP finds the name, then the counter, then increments it, all inside
 * one RCU read-side section (the struct_ops trampoline's rcu_read_lock()).
 * So when a count reaches 0 the node's name is deleted from the dentry map
 * (no new BPF lookup can reach the node), then the daemon waits for one RCU
 * grace period (every program that found the name has incremented by then),
 * then folds the counter once more: only if it still adds nothing is the
 * node freed (and its counter deleted).  One grace period per batch, not
 * per node (docs/kernel-hook.md, "FORGET stays exact").
 */
#ifndef BPFUSE_FORGET_H
#define BPFUSE_FORGET_H

#include <stddef.h>
#include <stdint.h>

struct inode;
struct inode_table;

/* The fast path as FORGET sees it (kernel/fastpath.c; a fake in unit tests). */
struct forget_fp_ops {
	uint64_t (*lookups)(void *fp, uint64_t nodeid); /* fastpath_bpf_lookups() */
	void (*drop_name)(void *fp, uint64_t parent, const char *name); /* fastpath_drop_name() */
	int (*sync)(void *fp);                          /* fastpath_sync(): 0 or -errno */
};
extern const struct forget_fp_ops forget_fastpath_ops;

struct forget_item {
	struct inode *ino;
	uint64_t n;  /* lookups the kernel forgets */
	int held;    /* (forget_batch's) the count reached 0: settle after the wait */
};

/*
 * Forget @count items; @fp NULL: no fast path (plain inode_forget()).  A
 * failed wait is counted by @ops->sync and the fold is done without it (the
 * behaviour before the wait existed).
 */
void forget_batch(struct inode_table *tbl, const struct forget_fp_ops *ops, void *fp,
		  struct forget_item *items, size_t count);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpfuse fast path: the contract between the struct_ops programs in
 * bpf/fastpath/, the daemon that fills their maps, and tests/vm/.
 *
 * Works only on a kernel with kernel-patches/6.12 (CONFIG_FUSE_REQUEST_BPF); see
 * docs/kernel-hook.md.  Included by BPF programs (after vmlinux.h) and by
 * userspace (after <linux/types.h>), so it uses only __u32/__u64 and char,
 * no pointers, no bool, explicit padding.  Every struct has its size pinned
 * below.
 *
 * Coherence rules:
 * - The daemon is the only writer of the dentry, inode and block maps.  To
 *   invalidate, it deletes the entry (or, for a file's data, changes the
 *   inode's data_version) before it replies to the mutation or tells the
 *   kernel.  Generations stay 0: a new generation for a known nodeid makes
 *   the kernel mark the inode bad.
 * - The programs only increment the lookup counters (BPFUSE_FP_NLOOKUP_MAP).
 *   A LOOKUP is answered only if the counter for the node exists, so the
 *   daemon always knows how many lookups the kernel got from BPF: for FORGET
 *   it keeps  live = own_lookups + nlookup_map[nodeid] - forgotten  and
 *   never writes the counter, only deletes it with the node.
 * - Data versions: every inode value carries a data_version, a value the
 *   daemon never gives twice (and never 0), which it replaces by a new one
 *   whenever the file's data may have changed (a write or truncate it sees,
 *   a change the watcher reports, a new S3 ETag), before it replies or
 *   invalidates.  Every block entry carries the data_version of the bytes
 *   it describes, and READ is answered only if the node's inode value
 *   exists and the inode's and every touched block's data_version (each
 *   read consistently, as below) are equal.  One inode write thus makes all
 *   of a file's blocks stale at once; they are deleted lazily (rewritten by
 *   the next publication, or deleted with the node).
 * - An inode value with open_flags != 0 lets the programs answer a
 *   read-only OPEN of the node with those flags and fh 0; no RELEASE comes
 *   for such an open.  With FOPEN_PASSTHROUGH, open_backing_id names the
 *   backing file: the daemon keeps that id registered until the kernel
 *   forgets the node, and deletes or rewrites the value before it closes
 *   the id.  Without it (open_backing_id 0) the open goes through the page
 *   cache and its READs come with fh 0: answered from the block map, else
 *   served by the daemon for the node (fs/file.c, "Opens answered without
 *   passthrough").
 * - A dentry value with nodeid 0 is a negative entry (the name does not
 *   exist): every path that creates the name deletes it before it replies
 *   or invalidates.
 * - Consistent reads (docs/kernel-hook.md, "Consistent map reads"): every
 *   dentry, inode and block value starts with a struct bpf_spin_lock; the
 *   daemon writes values whole with BPF_F_LOCK (an existing element is then
 *   overwritten in place, under its lock, never swapped for a new one), and
 *   repeats the key and a write version (unique, never 0) in the value.  A
 *   program copies the body (v) to its stack under the lock, looks the key
 *   up again, copies again under the lock and uses the copy only if the same
 *   element came back, both copies are equal and they carry the key;
 *   otherwise it upcalls.  An element deleted and reused for another key
 *   while it was being read can therefore never be served.
 */
#ifndef BPFUSE_FASTPATH_ABI_H
#define BPFUSE_FASTPATH_ABI_H

#ifndef __VMLINUX_H__
#include <linux/bpf.h>	/* struct bpf_spin_lock */
#include <linux/types.h>
#endif

/*
 * Name of the struct_ops map.  The daemon creates it with BPF_F_LINK and
 * binds the link to its connection (FUSE_DEV_IOC_BPF_ATTACH with the link
 * fd and a cookie); there is no name registry.
 */
#define BPFUSE_FP_OPS_MAP		"bpfuse_ops"
/*
 * Read-only __u64 global of the programs, set by the daemon before load to
 * the cookie it attaches with (its connection number): a request whose
 * fuse_bpf_req.cookie differs is upcalled, so the maps of one mount never
 * answer another's requests.  0 (as built) checks nothing.
 */
#define BPFUSE_FP_COOKIE_VAR		"conn_cookie"

/* Map names (also the names under which maps are pinned) */
#define BPFUSE_FP_DENTRY_MAP		"fp_dentries"
#define BPFUSE_FP_INODE_MAP		"fp_inodes"
#define BPFUSE_FP_NLOOKUP_MAP		"fp_nlookup"
#define BPFUSE_FP_BLOCK_MAP		"fp_blocks"
#define BPFUSE_FP_STATS_MAP		"fp_stats"

/*
 * max_entries of the maps as compiled (what tests/vm/fp_test.c gets); the
 * daemon sets its own before load (fastpath_entries=, fastpath_blocks=:
 * the dentry, inode and lookup maps get the first, the block map the
 * second).  The maps are BPF_F_NO_PREALLOC: a cap, not a reservation.
 */
#define BPFUSE_FP_MAX_DENTRIES		131072
#define BPFUSE_FP_MAX_INODES		131072
#define BPFUSE_FP_MAX_BLOCKS		262144

/* Longest name served from the map (NAME_MAX); longer names upcall */
#define BPFUSE_FP_NAME_MAX		255
/* Default cache block size (1 << shift bytes), a rodata setting */
#define BPFUSE_FP_BLOCK_SHIFT_DEFAULT	16
/* A READ touching more blocks than this upcalls */
#define BPFUSE_FP_MAX_READ_BLOCKS	64

/* Return values of the request program (as the kernel's FUSE_BPF_*) */
#define BPFUSE_FP_UPCALL		0
#define BPFUSE_FP_HANDLED		1

/*
 * struct fuse_attr as in <linux/fuse.h> (protocol 7.9+), restated with
 * fixed-width types so that this header needs no FUSE header.
 */
struct bpfuse_fp_attr {
	__u64 ino;
	__u64 size;
	__u64 blocks;
	__u64 atime;
	__u64 mtime;
	__u64 ctime;
	__u32 atimensec;
	__u32 mtimensec;
	__u32 ctimensec;
	__u32 mode;
	__u32 nlink;
	__u32 uid;
	__u32 gid;
	__u32 rdev;
	__u32 blksize;
	__u32 flags;		/* must be 0: the kernel refuses attr flags */
};

/* BPFUSE_FP_DENTRY_MAP key: a name in a directory; name is zero-padded */
struct bpfuse_fp_dentry_key {
	__u64 parent;				/* nodeid of the directory */
	char name[BPFUSE_FP_NAME_MAX + 1];	/* NUL-terminated, zero-padded */
};

/*
 * The identity of a dentry key's name in its value: FNV-1a over the 32
 * 64-bit words of the zero-padded name (native byte order).
 */
static inline __u64 bpfuse_fp_name_hash(const struct bpfuse_fp_dentry_key *k)
{
	__u64 h = 0xcbf29ce484222325ULL, w;
	int i;

	for (i = 0; i < (BPFUSE_FP_NAME_MAX + 1) / 8; i++) {
		__builtin_memcpy(&w, k->name + 8 * i, sizeof(w));
		h = (h ^ w) * 0x100000001b3ULL;
	}
	return h;
}

/* BPFUSE_FP_DENTRY_MAP value */
struct bpfuse_fp_dentry {
	struct bpf_spin_lock lock;	/* v is copied and written under it */
	__u32 pad;
	struct bpfuse_fp_dentry_v {
		__u64 parent;		/* the key again: key.parent ... */
		__u64 name_hash;	/* ... and bpfuse_fp_name_hash(&key) */
		__u64 version;		/* unique per write, never 0 */
		__u64 nodeid;		/* never FUSE_ROOT_ID; 0: negative entry */
		__u64 generation;	/* must equal the inode entry's generation */
		__u64 entry_ttl_ns;	/* kernel dentry timeout of the reply */
		__u64 expires_ns;	/* bpf_ktime_get_ns() deadline (CLOCK_MONOTONIC):
					 * not served from then on; 0: none */
	} v;
};

/* BPFUSE_FP_INODE_MAP key: __u64 nodeid; value: */
struct bpfuse_fp_inode {
	struct bpf_spin_lock lock;	/* v is copied and written under it */
	__u32 pad;
	struct bpfuse_fp_inode_v {
		__u64 nodeid;		/* the key again */
		__u64 version;		/* unique per write, never 0 */
		__u64 generation;	/* the FUSE generation: 0 (a new one for a known
					 * nodeid makes the kernel mark the inode bad) */
		__u64 data_version;	/* of the file's bytes: a block is current iff it
					 * carries the same; unique, never 0 */
		__u64 attr_ttl_ns;	/* kernel attribute timeout of the reply */
		struct bpfuse_fp_attr attr;
		__u32 open_backing_id;	/* with FOPEN_PASSTHROUGH: its backing file; else 0 */
		__u32 open_flags;	/* 0: OPEN upcalls; else a read-only OPEN of this
					 * regular file is answered with these FOPEN_*
					 * (BPFUSE_FP_FOPEN_*) */
		__u64 expires_ns;	/* as the dentry's: not served from then on; 0: none */
	} v;
};

/* The FOPEN_* flags the programs may answer an OPEN with (<linux/fuse.h> 7.40) */
#define BPFUSE_FP_FOPEN_KEEP_CACHE	(1U << 1)
#define BPFUSE_FP_FOPEN_NOFLUSH		(1U << 5)
#define BPFUSE_FP_FOPEN_PASSTHROUGH	(1U << 7)

/* BPFUSE_FP_NLOOKUP_MAP key: __u64 nodeid; value: __u64 lookups by BPF */

/* BPFUSE_FP_BLOCK_MAP key: one cache block of a node */
struct bpfuse_fp_block_key {
	__u64 nodeid;
	__u64 block;		/* file offset >> block_shift */
};

/* BPFUSE_FP_BLOCK_MAP value: where the block's bytes are */
struct bpfuse_fp_block {
	struct bpf_spin_lock lock;	/* v is copied and written under it */
	__u32 pad;
	struct bpfuse_fp_block_v {
		__u64 nodeid;		/* the key again */
		__u64 block;
		__u64 version;		/* unique per write, never 0 */
		__u64 data_version;	/* current iff equal to the inode's data_version */
		__u32 backing_id;	/* from FUSE_DEV_IOC_BACKING_OPEN, opened O_RDONLY;
					 * same offsets as the file, and the backing
					 * file's size is the file's size */
		__u32 pad;
	} v;
};

/* BPFUSE_FP_STATS_MAP: per-CPU array of __u64 counters, indexed by: */
enum bpfuse_fp_stat {
	BPFUSE_FP_STAT_LOOKUP_HIT,
	BPFUSE_FP_STAT_LOOKUP_MISS,
	BPFUSE_FP_STAT_GETATTR_HIT,
	BPFUSE_FP_STAT_GETATTR_MISS,
	BPFUSE_FP_STAT_READ_HIT,
	BPFUSE_FP_STAT_READ_MISS,
	BPFUSE_FP_STAT_KFUNC_ERR,	/* a reply kfunc refused our reply */
	BPFUSE_FP_STAT_OTHER,		/* opcodes the programs do not handle */
	BPFUSE_FP_STAT_UNSTABLE,	/* a value changed or was reused while read: upcalled */
	BPFUSE_FP_STAT_OPEN_HIT,	/* read-only OPENs answered (no RELEASE follows) */
	BPFUSE_FP_STAT_OPEN_MISS,
	BPFUSE_FP_STAT_NEGATIVE_HIT,	/* LOOKUPs answered "no such name" */
	BPFUSE_FP_STAT_FOREIGN,		/* requests with another connection's cookie */
	BPFUSE_FP_STAT_IOCTL_HIT,	/* IOCTLs answered ENOTTY, as the daemon does */
	BPFUSE_FP_STAT_EXPIRED,		/* dentry/inode values past expires_ns: upcalled */
	BPFUSE_FP_STAT_NR,
};

#ifndef __bpf__
_Static_assert(sizeof(struct bpfuse_fp_attr) == 88, "fuse_attr layout");
_Static_assert(sizeof(struct bpfuse_fp_dentry_key) == 264, "dentry key layout");
_Static_assert(sizeof(struct bpfuse_fp_dentry) == 64, "dentry layout");
_Static_assert(sizeof(struct bpfuse_fp_inode) == 152, "inode layout");
_Static_assert(sizeof(struct bpfuse_fp_block_key) == 16, "block key layout");
_Static_assert(sizeof(struct bpfuse_fp_block) == 48, "block layout");
#endif

#endif /* BPFUSE_FASTPATH_ABI_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastpath.h - the daemon side of the in-kernel fast path (patched kernels).
 *
 * On a kernel with kernel-patches/6.12 (struct fuse_bpf_ops in its BTF) the
 * daemon loads the fast-path programs (bpf/fastpath, compiled against that
 * kernel) as they were built, makes their struct_ops map a bpf_link, binds
 * that link to its own connection (FUSE_DEV_IOC_BPF_ATTACH with the link fd
 * and its connection number as the cookie) and keeps their maps current.
 * this module is the only writer of those maps.
 *
 * Rules (see include/bpfuse/fastpath_abi.h):
 * - entries are inserted as the daemon replies (LOOKUP, CREATE, GETATTR...);
 * - before a mutation replies, what it changes is deleted (names, attrs);
 * - generations are never changed (the kernel would take a new generation of
 *   a known nodeid for a stale inode): invalidation is deletion, and for a
 *   file's bytes a new data version (fastpath_set_data_version()), which
 *   makes every block published for the old bytes stale at once;
 * - FORGET folds the lookups BPF answered into the inode's count; when the
 *   count reaches 0 it deletes the node's dentry entry, waits for a grace
 *   period (fastpath_sync()) and folds again before the node may go, so
 *   that BPF cannot hand out a lookup the daemon does not count.
 * Without the hook every call here is a no-op on a NULL struct fastpath.
 */
#ifndef BPFUSE_FASTPATH_H
#define BPFUSE_FASTPATH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct fastpath;
struct config;

/* Does the running kernel have the FUSE BPF hook?  1 yes, 0 no (why said). */
int fastpath_probe(char *why, size_t whylen);

/*
 * Load @obj_path with the dentry, inode and lookup maps sized for @entries
 * and the block map for @blocks (max_entries; the maps are not
 * preallocated) and the cookie @conn, create its struct_ops link and attach
 * it to the connection of @fuse_fd.  Returns 0 or -errno with the reason in
 * @why.  fastpath_close() detaches and destroys the link.
 */
int fastpath_open(struct fastpath **out, const char *obj_path, int fuse_fd, unsigned int conn,
		double entry_ttl_s, double attr_ttl_s, double max_age_s, unsigned int entries,
		unsigned int blocks, char *why, size_t whylen);
void fastpath_close(struct fastpath *ks);

/*
 * Publication (docs/kernel-hook.md, "The daemon's publication protocol"):
 * a handler takes a ticket before it reads from the backend what it will
 * publish; the put is skipped (returns 0) when anything it covers was
 * dropped since.  Every mutation drops what it changes after the backend
 * changed it (and may drop before, to stop the kernel answering meanwhile).
 */
uint64_t fastpath_begin(struct fastpath *ks);
/*
 * A name -> node the daemon just gave the kernel (with its attributes); 1 if
 * published.  @open_id: the node's backing id for OPEN (fastpath_set_open()),
 * 0 if none.
 */
int fastpath_put_entry(struct fastpath *ks, uint64_t parent, const char *name, uint64_t nodeid,
		       const struct stat *st, uint64_t ticket, int open_id, uint64_t data_version,
		       uint64_t until_ns);
/*
 * Attributes the daemon just gave the kernel (and @open_id as above, and
 * the node's current data version, see below); 1 if published.  For both:
 * the values are not served from @until_ns on (CLOCK_MONOTONIC; 0: only
 * fastpath_max_age limits them), the moment a backend would revalidate.
 */
int fastpath_put_attr(struct fastpath *ks, uint64_t nodeid, const struct stat *st, uint64_t ticket,
		      int open_id, uint64_t data_version, uint64_t until_ns);
/*
 * Data versions (fastpath_abi.h): a new one, unique and never 0 (0 without
 * the fast path).  The caller keeps its node's current one and passes it to
 * every put of the node's attributes and blocks.
 */
uint64_t fastpath_new_data_version(struct fastpath *ks);
/*
 * The bytes of @nodeid may have changed and @data_version is their new
 * version: outdate every publication of the node's attributes in flight and
 * rewrite the published inode value (if any) in place with it, so that no
 * block published before is served again.  Called before the change is
 * replied to or invalidated.  1 if a value was rewritten.
 */
int fastpath_set_data_version(struct fastpath *ks, uint64_t nodeid, uint64_t data_version);
/*
 * The @open_id of an OPEN answered without passthrough (fh 0, FOPEN_NOFLUSH): its
 * READs come through the page cache, answered from the block map or by the
 * daemon for the node; with FOPEN_KEEP_CACHE (KEEP) or without.
 */
#define FASTPATH_OPEN_CACHED (-1)
#define FASTPATH_OPEN_CACHED_KEEP (-2)
/*
 * From now on a read-only OPEN of regular file @nodeid may be answered in
 * the kernel with passthrough to @open_id (> 0), or without it
 * (FASTPATH_OPEN_CACHED*), or not (0: upcalled): rewrites the open
 * part of the node's published attributes, if there are any (1), in place.
 * The caller keeps @open_id registered for as long as the kernel knows the
 * node (no RELEASE comes for such opens), and passes it to every later
 * fastpath_put_attr()/put_entry() of the node.
 */
int fastpath_set_open(struct fastpath *ks, uint64_t nodeid, int open_id);
/* Count an inode whose backing id is published for OPEN (+1/-1), or one refused. */
void fastpath_count_open(struct fastpath *ks, int delta);
void fastpath_count_open_refused(struct fastpath *ks);
/*
 * Count a file registered as the backing file of block entries for opens the daemon
 * serves (S3's partly cached objects; +1/-1), one refused (descriptor budget), and
 * blocks published from such files (+n/-n).
 */
void fastpath_count_block_file(struct fastpath *ks, int delta);
/* The block map's block size (1 << this: BPFUSE_FP_BLOCK_SHIFT_DEFAULT), and the most
 * blocks of one file published (larger files leave their READs to the daemon) */
#define FASTPATH_BLOCK_SHIFT 16
#define FASTPATH_MAX_FILE_BLOCKS 4096
void fastpath_count_block_file_refused(struct fastpath *ks);
void fastpath_count_file_blocks(struct fastpath *ks, int64_t delta);
/*
 * A LOOKUP of @name in @parent found nothing (ticket before the backend
 * read): publish a negative entry, served for the kernel with @ttl_s.  1 if
 * published; never over an existing entry, and at most fastpath_entries / 4.
 */
int fastpath_put_negative(struct fastpath *ks, uint64_t parent, const char *name, double ttl_s,
			  uint64_t ticket);
/*
 * A create put @name into @parent (after the backend call, before the
 * reply): delete a negative entry of it and refuse negatives read before.
 * Positive entries, also the create's own publication, are not affected.
 */
void fastpath_drop_negative(struct fastpath *ks, uint64_t parent, const char *name);
/*
 * Forget a name, negative or not (and the attributes of the node it named):
 * the directory changed.
 */
void fastpath_drop_name(struct fastpath *ks, uint64_t parent, const char *name);
/* Forget a node's attributes: its data or metadata changed (or is changing). */
void fastpath_drop_attr(struct fastpath *ks, uint64_t nodeid);
/* Forget everything about a node the daemon dropped. */
void fastpath_drop_node(struct fastpath *ks, uint64_t nodeid);
/*
 * Every byte of @nodeid's @size bytes can be read from @backing_id (a
 * backing file registered with FUSE_DEV_IOC_BACKING_OPEN): publish its
 * blocks so the kernel answers READ itself.  Returns how many blocks were
 * published (0 when the file is too large to be worth the map entries).
 */
uint64_t fastpath_put_blocks(struct fastpath *ks, uint64_t nodeid, int backing_id, uint64_t size,
			     uint64_t data_version);
/*
 * One block (offsets [@block << BPFUSE_FP_BLOCK_SHIFT_DEFAULT, +block size))
 * of @nodeid's bytes of @data_version can be read from @backing_id, whose
 * size is the file's: 1 if published (a full map refuses, counted).
 */
int fastpath_put_block(struct fastpath *ks, uint64_t nodeid, uint64_t block, int backing_id,
		       uint64_t data_version);
void fastpath_drop_block(struct fastpath *ks, uint64_t nodeid, uint64_t block);
/* Unpublish the first @nblocks blocks of @nodeid. */
void fastpath_drop_blocks(struct fastpath *ks, uint64_t nodeid, uint64_t nblocks);
/* Unpublish blocks [@first, @end) of @nodeid. */
void fastpath_drop_blocks_from(struct fastpath *ks, uint64_t nodeid, uint64_t first,
			       uint64_t end);

/*
 * Delete every dentry, inode and block entry (not the lookup counters, which
 * FORGET still needs) after outdating every publication in flight: changes
 * behind the mount were lost (watcher overflow).  @stop: publish nothing from
 * now on (a directory is no longer watched), so the kernel asks the daemon.
 */
void fastpath_flush(struct fastpath *ks, int stop);

/*
 * Wait for an RCU grace period: every fast-path program running when this
 * is called has returned when it returns (they run in an RCU read-side
 * section: the struct_ops trampoline's rcu_read_lock()).  FORGET calls it
 * once per batch between deleting names and the last fold, so a LOOKUP
 * answered from a deleted name has incremented its counter before the
 * daemon reads it.  About one synchronize_rcu() (milliseconds); 0 or -errno,
 * counted either way (fastpath_stats.grace_periods / grace_period_failures).
 */
int fastpath_sync(struct fastpath *ks);

/* How many LOOKUPs BPF has answered for @nodeid so far. */
uint64_t fastpath_bpf_lookups(struct fastpath *ks, uint64_t nodeid);

/* One map the daemon fills: its size, the kernel memory it pins, refused inserts. */
struct fastpath_map_stats {
	const char *name;           /* BPFUSE_FP_*_MAP */
	uint32_t max_entries;
	uint64_t memlock_bytes;     /* the kernel's own count now (fdinfo "memlock") */
	uint64_t memlock_max_bytes; /* what it reaches when the map is full */
	uint64_t full;              /* inserts refused: map full or no kernel memory */
};
#define FASTPATH_NMAPS 4 /* dentries, inodes, lookup counters, blocks */

/* Fast-path counters (hits and misses per opcode), for the stats. */
struct fastpath_stats {
	uint64_t lookup_hit, lookup_miss, getattr_hit, getattr_miss, read_hit, read_miss;
	uint64_t kfunc_err, other;
	uint64_t unstable; /* values that changed or were reused while BPF read them */
	uint64_t open_hit, open_miss; /* OPENs answered in the kernel (no RELEASE follows) / not */
	uint64_t negative_hit;        /* LOOKUPs answered "no such name" */
	uint64_t foreign;             /* requests with another cookie (never answered) */
	uint64_t ioctl_hit;           /* IOCTLs answered ENOTTY in the kernel */
	uint64_t expired;             /* values past their deadline (fastpath_max_age): upcalled */
	uint64_t negatives, negatives_refused; /* negative entries now / not published (cap) */
	uint64_t opens, opens_refused; /* inodes published for OPEN now / refused (fd budget) */
	/* files backing block entries of daemon-served opens now / refused (fd budget), and
	 * the blocks published from them now */
	uint64_t block_files, block_files_refused, file_blocks;
	uint64_t flushes;  /* fastpath_flush() calls */
	uint64_t grace_periods;         /* fastpath_sync() waits done */
	uint64_t grace_period_failures; /* fastpath_sync() calls that could not wait */
	uint64_t grace_period_ns;       /* time spent in those waits */
	int publishing;    /* 0 after fastpath_flush(stop) */
	uint64_t map_full; /* the maps' refused inserts, summed */
	uint64_t memlock_bytes, memlock_max_bytes; /* the maps', summed */
	struct fastpath_map_stats maps[FASTPATH_NMAPS];
};
int fastpath_read_stats(struct fastpath *ks, struct fastpath_stats *out);

#endif

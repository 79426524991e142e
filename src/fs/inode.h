/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inode.h - the table of inodes the kernel knows about.
 *
 * Each inode has a nodeid the kernel uses to name it (never reused while the
 * daemon runs, so BPF maps and stale kernel references can key on it safely)
 * and a backend identity (for the local backend: st_dev and st_ino of the
 * backing object) so that hard links and repeated lookups map to one inode.
 *
 * Lifetime: an inode lives while the kernel holds lookups on it (nlookup > 0).
 * The kernel does not send a request for a nodeid after forgetting it and
 * cannot forget an inode that a request in flight refers to, so request
 * handlers use inode pointers without taking references of their own.
 *
 * Locking: tbl->lock protects the hash chains and every nlookup; inode->lock
 * protects the open state (nopen, backing_id, backing_fd).  Lock order:
 * tbl->lock before inode->lock.  Whether an inode is freed is decided with
 * both held (inode_forget/inode_settle, inode_put_open); nopen may grow under inode->lock
 * alone, only by a request that holds a kernel lookup.
 */
#ifndef BPFUSE_INODE_H
#define BPFUSE_INODE_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#define INODE_ROOT_ID 1 /* FUSE_ROOT_ID */

struct inode_key {
	uint64_t dev;
	uint64_t ino;
	/*
	 * The backend's generation of the object at this number (0 where it
	 * has none): another generation is another object, with an inode (and
	 * a nodeid) of its own (S3: a version another client wrote, or a file
	 * made again after a delete)
	 */
	uint64_t gen;
};

struct fp_blocks;

struct fp_neg {
	struct fp_neg *next;
	char name[];
};

struct inode {
	uint64_t nodeid;
	struct inode_key key;
	mode_t type;          /* S_IFMT bits of the object */
	int fd;               /* the backend's descriptor of the object (local: O_PATH), or -1 */
	void *handle;         /* the backend's own reference to the object, owned by the inode,
				 released by its release_inode (local, past the fd budget: a
				 kernel file handle to reopen it by; S3: its node) */
	uint64_t nlookup;     /* tbl->lock */
	unsigned int held;    /* FORGETs settling a count of 0 (inode_forget_hold, tbl->lock) */

	pthread_mutex_t lock;
	unsigned int nopen;   /* open file handles (inode->lock) */
	int backing_id;       /* passthrough backing id shared by all opens, 0 if none */
	int backing_fd;       /* the fd registered as backing file, -1 if none */
	/*
	 * kernel_open: the descriptors that I/O of opens the daemon never saw
	 * goes to (inode->lock), -1 if none: [0] read-only, [1] read-write (only
	 * once the mount wrote the file, so a file merely read is never held
	 * open for writing, which would make exec(2) of it fail with ETXTBSY)
	 */
	int io_fd[2];
	uint64_t ctime_ns;    /* ctime in the last attributes given to the kernel (atomic) */
	/* CLOCK_MONOTONIC ns until which the kernel's copy of the last entry and attributes
	 * given stays valid, by the timeouts sent (atomic) */
	uint64_t entry_until_ns, attr_until_ns;
	unsigned int nwriters; /* opens for writing: no attrs in the maps meanwhile */
	uint64_t own_write_ns; /* kernel_open: CLOCK_MONOTONIC of the daemon's last write (atomic) */
	/* the source watcher's state of this inode (fs/watch.c) */
	struct {
		int wd;       /* directories: inotify watch descriptor, 0 if none (inode->lock) */
		int dirty;    /* data changed while open for writing through the mount:
				 invalidate when the last writer closes (atomic) */
	} watch;
	/* the in-kernel fast path's state of this inode (kernel/fastpath.c, fs_ops*.c) */
	struct {
		/* the one dentry map entry naming this node (inode->lock) */
		uint64_t parent;
		char *name;
		uint64_t folded;    /* BPF lookups already added to nlookup (tbl->lock) */
		/*
		 * The passthrough backing id (backing_id above) published for
		 * OPEN: the kernel answers read-only opens itself and sends no
		 * RELEASE for them, so backing_id stays registered until the
		 * inode is freed (written under inode->lock, read atomically).
		 */
		int open_id;
		/*
		 * Directories: the names the fast path was told do not exist in
		 * it (negative entries, at most FP_NEG_PER_DIR; inode->lock), so
		 * that they leave the map with the directory
		 */
		struct fp_neg *negs;
		unsigned int nnegs;
		/* READ without passthrough (inode->lock): the file as a backing file */
		int backing_id;
		int backing_fd;
		uint64_t nblocks;   /* blocks published in the block map */
		uint64_t blocks_dv; /* the data version they were published with */
		/*
		 * Opens the backend serves itself (S3, partly cached): the
		 * blocks published from backing_fd above (fs/file.c; inode->lock)
		 */
		struct fp_blocks *blk;
		/*
		 * While blk is held: FASTPATH_OPEN_CACHED* when read-only OPENs
		 * are answered in the kernel without passthrough, else 0
		 * (written under inode->lock, read atomically); reader: the open
		 * their READs (fh 0) are served with (fs/file.c, struct fp_reader)
		 */
		int open_cached;
		struct fp_reader *reader;
		/*
		 * The backend's records of what it keeps valid for this inode's
		 * publications: [0] the backing file published for OPEN
		 * (fastpath_hold), [1] the file of the block entries
		 * (fastpath_blocks_hold); NULL when none; owned and locked by the
		 * backend (S3: struct s3_fp_hold, under its ns_lock)
		 */
		void *be_hold[2];
		/*
		 * The kernel may hold opens it answered itself through its page
		 * cache (kcached) or with passthrough (kpassthrough), which the
		 * daemon never hears closed: an open of the other io mode would
		 * fail (EIO), so none is made or published until the inode is
		 * freed (inode->lock)
		 */
		int kcached, kpassthrough;
		/*
		 * The version of the file's bytes the maps may serve
		 * (fastpath_abi.h): 0 until first published, then replaced
		 * by a new one whenever the bytes may have changed
		 * (file_data_changed()); atomic
		 */
		uint64_t data_version;
	} fp;

	struct inode *next_id;  /* hash chain by nodeid */
	struct inode *next_key; /* hash chain by key */
};

/* Called with no lock held when an inode is dropped, to free backend state. */
typedef void (*inode_release_fn)(struct inode *ino, void *arg);
/*
 * Is known inode @ino (found by its key) still the object a lookup just found (@fd,
 * @handle)?  0 when the key's number was reused by another object (the old one is gone).
 * Called with the table locked.
 */
typedef int (*inode_same_fn)(struct inode *ino, int fd, void *handle, void *arg);

struct inode_table {
	pthread_mutex_t lock;
	struct inode **by_id;
	struct inode **by_key;
	size_t nbuckets;       /* power of two */
	size_t count;
	uint64_t next_nodeid;
	inode_release_fn release;
	void *release_arg;
	inode_same_fn same;   /* optional, with release_arg */
};

int inode_table_init(struct inode_table *tbl, inode_release_fn release, void *arg);
/* Drops every inode (calling release) and frees the table. */
void inode_table_release(struct inode_table *tbl);

/*
 * Insert the root inode (nodeid 1, pinned: never forgotten).  @fd is handed
 * over to the table.
 */
int inode_table_set_root(struct inode_table *tbl, const struct inode_key *key, mode_t type, int fd);

/* The inode named @nodeid, or NULL when the kernel named one we do not have. */
struct inode *inode_get(struct inode_table *tbl, uint64_t nodeid);

/*
 * Account one kernel lookup of the object @key.  When the object is known,
 * its nlookup is incremented and *fd / *handle are left for the caller to
 * release (the known inode keeps its own); otherwise a new inode takes
 * ownership of both and they are set to -1 / NULL.  Returns the inode, or
 * NULL on ENOMEM.
 */
struct inode *inode_add_lookup(struct inode_table *tbl, const struct inode_key *key,
			       mode_t type, int *fd, void **handle);

/* Add @n lookups to an inode the caller knows is alive (readdirplus, link). */
void inode_ref(struct inode_table *tbl, struct inode *ino, uint64_t n);

/*
 * The fast path's counter of @ino read @seen lookups answered in the kernel:
 * add those not folded yet to nlookup.  The counter only grows, but two
 * FORGET threads may read it at different times and fold in either order:
 * the folded mark only moves up, so an older reading adds nothing and no
 * lookup is counted twice.
 */
void inode_fold_bpf_lookups(struct inode_table *tbl, struct inode *ino, uint64_t seen);

/*
 * Drop @n kernel lookups (FORGET).  The inode is freed when no lookups and no
 * open handles remain (a release that races ahead of its FORGET cannot leave
 * a handle pointing at freed memory: the last close frees it in
 * inode_put_open()); the root is never freed.  Dropping more lookups than held is clamped: the
 * kernel never does it, and a wrapped counter would pin the inode forever.
 */
void inode_forget(struct inode_table *tbl, struct inode *ino, uint64_t n);

/*
 * inode_forget() in two steps, for FORGET with the fast path: drop @n
 * lookups; when that leaves none, return 1 with the inode held (not freed,
 * also not by inode_put_open()) so the caller can delete its names, wait
 * for BPF lookups in flight and fold them (inode_fold_bpf_lookups()) before
 * inode_settle() frees it if it still has no lookup and no open.  0: not
 * held, nothing to settle.
 */
int inode_forget_hold(struct inode_table *tbl, struct inode *ino, uint64_t n);
void inode_settle(struct inode_table *tbl, struct inode *ino);

/*
 * Drop one open of @ino (nopen) and free it when that leaves no open and no
 * lookup.  The count and the decision are made under tbl->lock, like
 * inode_forget()'s, so a FORGET racing the last release (an interrupted
 * OPEN/CREATE reply) frees the inode exactly once, and neither touches it
 * after the other freed it.
 */
void inode_put_open(struct inode_table *tbl, struct inode *ino);

size_t inode_table_count(struct inode_table *tbl);

/*
 * For threads that do not serve a kernel request (and so cannot rely on the
 * kernel keeping the inode alive): the nodeid of the object @key, 0 if the
 * kernel does not know it, with the ctime last reported for it; and @fn called on inode @nodeid with the table
 * locked (so it cannot be freed meanwhile), returning fn's result or -ENOENT.
 */
uint64_t inode_nodeid_of(struct inode_table *tbl, const struct inode_key *key,
			 uint64_t *ctime_ns);
int inode_call_locked(struct inode_table *tbl, uint64_t nodeid,
		      int (*fn)(struct inode *ino, void *arg), void *arg);
/* @fn called on every inode with the table locked (no inode can be freed meanwhile). */
void inode_for_each_locked(struct inode_table *tbl, void (*fn)(struct inode *ino, void *arg),
			   void *arg);

/*
 * Does the kernel hold a valid copy of object @key: known (looked up), last told
 * attributes with ctime @ctime_ns, and both the entry and the attributes given
 * last still within their timeouts at @now_ns (CLOCK_MONOTONIC)?
 */
int inode_kernel_fresh(struct inode_table *tbl, const struct inode_key *key, uint64_t ctime_ns,
		       uint64_t now_ns);

#endif

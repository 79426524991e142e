/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_s3_priv.h - what the parts of the S3 backend share: backend_s3.c (mutations,
 * the operation table, mount), backend_s3_ns.c (node table, lookup, listings),
 * backend_s3_io.c (opens, staging, uploads), backend_s3_read.c (fetching parts, the
 * part buffers, reads), backend_s3_inval.c (changes behind the mount) and
 * backend_s3_rename.c (rename: copies, deletes, the journal).
 * See the top of backend_s3.c for the design and the lock order.
 */
#ifndef BPFUSE_BACKEND_S3_PRIV_H
#define BPFUSE_BACKEND_S3_PRIV_H

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "backend.h"
#include "cache.h"
#include "s3_client.h"
#include "stats_counters.h"

#define S3_DEV 0x53330000ULL          /* key.dev of every inode of an S3 mount */
#define S3_PART_SIZE (8u << 20)       /* ranged GET size */
#define S3_RA_CAP (64u << 20)         /* readahead window cap */
#define S3_SEQ_SLACK (4u << 20)       /* reads this close to the last one are sequential */
#define S3_FETCH_THREADS 8            /* readahead workers */
#define S3_ATTEMPTS 3                 /* tries of one request (s3_timeout is shared out) */
#define S3_NAME_MAX 255
#define S3_POOL_BYTES (96u << 20)     /* parts just fetched, kept in memory for READs */
#define S3_POOL_SPARES (S3_POOL_BYTES / S3_PART_SIZE) /* free part buffers kept for reuse */
#define S3_PF_MAX_OBJECT (64ull << 20) /* prefetch: larger objects are left to readahead */
#define S3_PF_MAX_QUEUE (1u << 20)    /* prefetch: files queued at most */
#define S3_PF_PAUSE_S 30.0            /* prefetch: no new work this long after an S3 error */

/*
 * A cache entry the fast path publishes for an inode, and the version it holds (in
 * inode.fp.be_hold[S3_HOLD_*], under ns_lock: backend_s3_fastpath.c)
 */
enum { S3_HOLD_OPEN, S3_HOLD_BLOCKS };

struct s3_fp_hold {
	struct cache_entry *e;
	char etag[S3_ETAG_MAX];
	off_t size;
};

struct s3node {
	char *key;               /* full object key; directories end in '/' */
	int is_dir;
	uint64_t hash;           /* of key: the table's (ns_lock) */
	uint64_t ino;            /* inode identity: fixed for the node's life, kept by rename */
	struct s3node *next;     /* hash chain (ns_lock) */
	uint64_t fetch_failures; /* GETs of its parts that S3 failed (fetch_lock) */
	/* ns_lock */
	unsigned int refs;
	off_t size;
	time_t mtime;
	char etag[S3_ETAG_MAX];
	double seen;             /* when a listing or HEAD last vouched for it; 0 = never */
	int exists;              /* 0: known absent since seen */
	double listed;           /* directories: start of the last complete listing */
	uint64_t inval_seq;      /* the change job queued last for it (s3_inval_wait) */
	/*
	 * The generation of the object at the key (inode_key.gen of the inodes naming it):
	 * bumped when another client's version is seen and when the object goes, so that a
	 * version or file made later is a new inode for the kernel (backend_s3_inval.c)
	 */
	uint64_t vgen;
	struct s3_attrs attrs;   /* POSIX attributes from its user metadata (s3_client.h) */
	int meta_known;          /* attrs are those of this version: HEADed, or ours */
	double meta_at;          /* directories: when their marker's were read (list_ttl) */
	struct timespec dir_changed; /* directories: an entry made or removed here, last */
	int mtime_own;           /* mtime is our clock at our own change, not LastModified */
	char *link;              /* symlink target once read, NULL before */
	struct s3node *staged_prev, *staged_next; /* on sb->staged while it has a stage_fd */
	/* pf_lock: the prefetcher's state of the node (S3_PF_*), and what it holds of the budget */
	int pf_state;
	uint64_t pf_bytes;
	/* lock */
	pthread_mutex_t lock;
	int stage_fd;            /* staging file, -1 when none */
	uint64_t stage_gen;      /* the generation (vgen) whose file it holds (lock and ns_lock) */
	int stage_dirty;         /* must be uploaded whatever wgen says (new, truncated, failed) */
	uint64_t ugen;           /* the wgen the bucket holds (see s3_write_note()) */
	/* atomic: changes of the staging file (WRITE, fallocate, copy into) */
	uint64_t wgen;           /* bumped when one ends */
	unsigned int wactive;    /* in progress */
	unsigned int writers;
	int unlinked;            /* deleted while staged: never upload */
	char *stage_path;        /* kept after a failed upload: named file in staging/ */
	int stage_copy;          /* ... a copy of the staging file, not the file itself */
};

struct s3open;

/* s3node.pf_state (backend_s3_prefetch.c) */
enum {
	S3_PF_NONE,     /* not queued */
	S3_PF_QUEUED,   /* on the queue */
	S3_PF_FETCHING, /* a worker fetches it */
	S3_PF_OPENED,   /* opened by a reader while queued or fetched: not held back */
	S3_PF_UNREAD,   /* stored by the prefetcher, not opened since: holds pf_bytes */
};

struct pf_job {
	struct s3node *n;        /* a reference */
	struct pf_job *next;
};

/* A part just fetched, kept in memory to answer READs (backend_s3_read.c, pool_lock). */
struct part_buf {
	char ckey[CACHE_KEY_LEN + 1];    /* object version: cache key of (endpoint, bucket, key, ETag) */
	off_t off;
	size_t len;
	size_t served;                   /* bytes copied out; dropped when it reaches len */
	unsigned int refs;               /* readers copying from it right now */
	int dropped;                     /* unlinked while read: the last reader frees it */
	char *data;
	struct part_buf *prev, *next;    /* oldest first */
};

struct fetch_job {
	struct s3open *o;
	uint64_t part;
	struct fetch_job *next;
};

struct inflight {
	struct cache_entry *e;
	uint64_t first, last;    /* blocks being fetched */
	struct inflight *next;
};

struct s3be {
	struct s3_client *c;
	struct cache *cache;
	struct cache_scrub *scrub;    /* background CRC scrub of the cache, NULL when off */
	uint64_t scrub_rate;          /* its bytes per second; started by the first open */
	int scrub_started;            /* fetch_lock; read unlocked as a hint */
	char bucket[256];
	char prefix[1024];       /* "" or "dir/" */
	char endpoint[512];
	char staging[PATH_MAX];
	double list_ttl;
	int cold_direct;             /* -o cold_direct: large cold opens bypass the page cache */
	uid_t uid;
	gid_t gid;
	time_t mount_time;
	int posix_meta;              /* -o posix_meta: attributes from HEADs (else defaults) */
	int nodev;                   /* the mount has nodev: no device nodes made here */
	uint32_t block_size;
	struct stats *stats;

	pthread_mutex_t rename_lock; /* one rename at a time (backend_s3_rename.c) */
	pthread_mutex_t ns_lock;
	struct s3node *graveyard;    /* nodes taken out of the table by rename, freed at close */
	uint64_t gen;                /* salts the inode numbers of names renamed away */
	struct s3node **tbl;
	size_t nbuckets;
	struct s3node *root;
	struct s3node *staged;       /* nodes with a staging file, for readdir (ns_lock) */
	/*
	 * What a HEAD or a LIST page saw of a node (ns_lock held): the namespace records it
	 * through this hook, set by s3_inval_init() to s3_node_seen_locked(), so that the
	 * namespace (backend_s3_ns.c) calls no file above it.
	 */
	void (*seen_locked)(struct s3be *sb, struct s3node *n, off_t size, time_t mtime,
			    const char *etag, double seen, int own);

	/* changes seen behind the mount (backend_s3_inval.c) */
	struct backend *be;          /* &fs->be: the thread reaches the session through it */
	pthread_mutex_t inval_lock;
	pthread_cond_t inval_cond;   /* a job was queued or done, or stop */
	struct inval_job *inval_head, *inval_tail;
	uint64_t inval_queued, inval_done; /* sequence numbers of the jobs */
	pthread_t inval_thread;
	int inval_started, inval_stop;

	pthread_mutex_t fetch_lock;
	pthread_cond_t fetch_cond;   /* an in-flight part finished */
	pthread_cond_t job_cond;     /* a job was queued, or stop */
	struct inflight *inflight;
	struct fetch_job *jobs, *jobs_tail;
	pthread_t threads[S3_FETCH_THREADS];
	int nthreads;
	int stop;

	/* prefetch of listed files into the cache (backend_s3_prefetch.c) */
	int pf_on;                   /* -o prefetch */
	unsigned int pf_max_threads; /* -o prefetch_threads */
	uint64_t pf_budget;          /* bytes stored by the prefetcher and not opened, at most */
	pthread_mutex_t pf_lock;     /* a leaf: nothing else is taken under it */
	pthread_cond_t pf_cond;      /* a job was queued, budget freed, or stop */
	struct pf_job *pf_head, *pf_tail;
	size_t pf_queued;            /* jobs on the queue */
	uint64_t pf_pending;         /* budget in use: reserved by workers, or S3_PF_UNREAD */
	double pf_pause_until;       /* after an S3 error: listings queue nothing until then */
	pthread_t *pf_threads;
	unsigned int pf_nthreads;
	int pf_stop;

	pthread_mutex_t pool_lock;   /* the part buffers */
	struct part_buf *pool_head, *pool_tail;
	size_t pool_bytes;
	char *spares[S3_POOL_SPARES]; /* free S3_PART_SIZE buffers: no page faults per part */
	int nspares;
};

/* The state of one open (fh->priv); refcounted because readahead jobs outlive reads. */
struct s3open {
	struct s3node *n;
	int writer;                  /* 1: opened for writing, 2: a reader of the staging file */
	unsigned int refs;           /* fetch_lock */
	struct cache_entry *e;       /* NULL: the cache is unusable, serve from S3 */
	int pinned;
	int prefetch;                /* the prefetcher's: parts go to the cache, not the buffers */
	off_t size;
	char etag[S3_ETAG_MAX];
	char ckey[CACHE_KEY_LEN + 1]; /* cache key of the version opened (readers) */
	pthread_mutex_t lock;        /* readahead state and the verified block */
	off_t next_off;
	size_t window;
	uint64_t ra_next;            /* first part not queued yet */
	char *vbuf;
	uint64_t vblock;             /* block held in vbuf, UINT64_MAX = none */
	size_t vlen;
};

static inline struct s3be *SB(struct backend *be)
{
	return be->priv;
}

static inline double s3_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* backend_s3_fastpath.c */
/*
 * The deadline of values published now for a node seen (listing or HEAD) at @seen, by
 * the clock of s3_now_mono() (@now): 0 and *until_ns, or -EAGAIN (do not publish).
 */
int s3_fastpath_verdict(double seen, double list_ttl, double now, uint64_t *until_ns);
/* 1 when the version held for OPEN (@held_etag, @held_size) is no longer the node's */
int s3_fastpath_held_stale(int exists, const char *etag, off_t size, int staged,
			   const char *held_etag, off_t held_size);
int s3_fastpath_check(struct backend *be, struct inode *ino, uint64_t *until_ns, int *stale);
int s3_fastpath_hold(struct backend *be, struct inode *ino, void *priv, int backing_fd);
void s3_fastpath_unhold(struct backend *be, struct inode *ino);
int s3_fastpath_blocks_hold(struct backend *be, struct inode *ino, void *priv,
			    void (*watch)(void *arg, int stored, uint64_t off, uint64_t len),
			    void *arg);
int s3_fastpath_blocks_ready(struct backend *be, struct inode *ino, uint64_t off, uint64_t len);
void s3_fastpath_blocks_unhold(struct backend *be, struct inode *ino);

/* backend_s3_ns.c */
void s3_node_put(struct s3be *sb, struct s3node *n);
void s3_node_free(struct s3node *n);
int s3_node_rekey_locked(struct s3be *sb, struct s3node *n, const char *newkey);
int s3_do_list(struct s3be *sb, const char *prefix, const char *delim, unsigned int max,
	       const char *token, struct s3_list_page *page);
int s3_do_head(struct s3be *sb, const char *key, struct s3_stat *st);
int s3_do_delete(struct s3be *sb, const char *key);
int s3_resolve(struct s3be *sb, struct s3node *dir, const char *name, struct s3node **out);
int s3_lookup(struct backend *be, struct inode *dir, const char *name,
	      struct backend_entry *out);
int s3_opendir(struct backend *be, struct inode *ino, struct backend_dir *bd);
size_t s3_dir_files(struct s3be *sb, struct backend_dir *bd, struct s3node ***out);
int s3_readdir(struct backend *be, struct backend_dir *bd, off_t off, struct dirent **ent);
void s3_closedir(struct backend *be, struct backend_dir *bd);
int s3_entry_lazy(struct backend *be, struct backend_dir *bd);
struct s3node *s3_node_get_locked(struct s3be *sb, const char *key, int is_dir);
void s3_node_set_meta_locked(struct s3node *n, off_t size, time_t mtime, const char *etag,
				 double seen);
void s3_fill_entry(struct s3be *sb, struct s3node *n, struct backend_entry *out);
char *s3_child_key(struct s3node *dir, const char *name, int slash);
struct s3node *s3_ino_node(struct backend *be, struct inode *ino);
int s3_getattr(struct backend *be, struct inode *ino, int fd, struct stat *st);
void s3_node_attrs_locked(struct s3node *n, const struct s3_attrs *a);
int s3_meta_need(struct s3be *sb, struct s3node *n);

/* backend_s3.c */
void s3_new_attrs(struct s3be *sb, struct s3node *dir, mode_t mode,
		  const struct backend_cred *cred, struct s3_attrs *a);
void s3_dir_changed(struct s3be *sb, struct s3node *dir);

/* backend_s3_rename.c */
/*
 * Move @src (a file, or a directory with everything under it) to the key @dkey: copies,
 * then deletes, journaled; the nodes follow.  @keep_target: @dkey is an empty directory
 * whose marker stays if the rename is rolled back.  Returns 0 or -errno (nothing moved).
 */
int s3_rename_move(struct s3be *sb, struct s3node *src, const char *dkey, int keep_target);
void s3_rename_recover(struct s3be *sb);

/* backend_s3_inval.c */
void s3_inval_init(struct s3be *sb);
void s3_inval_stop(struct s3be *sb);
void s3_inval_destroy(struct s3be *sb);
void s3_node_seen_locked(struct s3be *sb, struct s3node *n, off_t size, time_t mtime,
			 const char *etag, double seen, int own);
void s3_inval_wait(struct s3be *sb, struct s3node *n);
void s3_note_stale_open(struct s3be *sb, struct s3node *n, const char *etag, uint64_t gen);
int s3_node_stale(struct s3be *sb, struct s3node *n, const struct inode *ino);
void s3_node_gone_locked(struct s3node *n);

/*
 * Is @n's staging file that of generation @gen's file (n->lock or ns_lock held)?  After an
 * unlink it is the unlinked file's while that is still open, until a file made at the key
 * gets one of its own (s3_stage_begin()): the old file's opens keep their descriptors of
 * it, and nothing of theirs reaches the new file.
 */
static inline int s3_staged_for(const struct s3node *n, uint64_t gen)
{
	return __atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) >= 0 && n->stage_gen == gen;
}

/* An open of @ino whose staging file the node no longer has (n->lock held) */
static inline int s3_stage_orphan(const struct s3node *n, const struct inode *ino)
{
	return n->stage_fd >= 0 && n->stage_gen != ino->key.gen;
}

/* backend_s3_read.c */
void s3_pool_init(struct s3be *sb);
void s3_pool_destroy(struct s3be *sb);
ssize_t s3_read_file(struct backend *be, struct inode *ino, void *priv, int fd, char *buf,
			    size_t size, off_t off, struct backend_read_ref *ref);

int s3_fetch_object(struct s3be *sb, struct s3open *o, const int *stop);
void s3_prefetch_opened(struct s3be *sb, struct s3node *n);

/* backend_s3_prefetch.c */
void s3_prefetch_init(struct s3be *sb, int on, unsigned int threads, uint64_t cache_bytes);
int s3_prefetch_opendir(struct backend *be, struct inode *ino, struct backend_dir *bd);
void s3_prefetch_stop(struct s3be *sb);
void s3_prefetch_destroy(struct s3be *sb);

/* backend_s3_io.c */
int s3_stage_begin(struct s3be *sb, struct s3node *n, int trunc);
int s3_stage_upload(struct s3be *sb, struct s3node *n);
void s3_stage_drop(struct s3be *sb, struct s3node *n);
void s3_stage_report(struct s3be *sb);
void s3_stage_close_all(struct s3be *sb);
void s3_stage_forget(struct s3be *sb, struct s3node *n);
void s3_stage_recover(struct s3be *sb);
void s3_mpu_note(void *arg, const char *bucket, const char *key, const char *upload_id,
		 int active);
void s3_sync_cache_stats(struct s3be *sb);
void s3_open_put(struct s3be *sb, struct s3open *o);
int s3_open_file(struct backend *be, struct inode *ino, int flags, int *direct,
			void **priv);
int s3_flush_file(struct backend *be, struct inode *ino, void *priv, int fd);
void s3_release_file(struct backend *be, struct inode *ino, void *priv, int fd);
int s3_open(struct backend *be, struct inode *ino, int flags, void *priv);
ssize_t s3_copy_file(struct backend *be, struct inode *in, void *pin, int fd_in, off_t off_in,
		     struct inode *out, void *pout, int fd_out, off_t off_out, size_t len,
		     unsigned int flags);
off_t s3_seek_file(struct backend *be, struct inode *ino, void *priv, int fd, off_t off,
		   int whence);
int s3_fallocate_file(struct backend *be, struct inode *ino, void *priv, int fd, int mode,
		      off_t off, off_t len);
void s3_write_note(struct backend *be, struct inode *ino, void *priv, int done);
int s3_create(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		     int flags, const struct backend_cred *cred, struct backend_entry *out);

/* backend_s3_cache.c */
void s3_scrub_ensure(struct s3be *sb);
void s3_object_cache_key(struct s3be *sb, const char *key, const char *etag,
			 char out[CACHE_KEY_LEN + 1]);
void s3_cache_adopt(struct s3be *sb, struct s3node *n, int fd, off_t size, const char *etag,
		    uint64_t gen, unsigned int busy);
/* backend_s3_stage.c, for recovery */
int s3_fsync_dir(const char *path);
FILE *s3_staging_create(const char *tmp, int *err);
int s3_staging_commit(FILE *f, const char *tmp, const char *path);
DIR *s3_staging_opendir(struct s3be *sb, int *dfd);
int s3_stage_persist(struct s3be *sb, struct s3node *n);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cache_priv.h - what the files of the cache store share (cache.c, cache_index.c,
 * cache_entry.c, cache_block.c, cache_crc32c.c): its types and internal helpers, all
 * prefixed cache_.  Other modules use cache.h only.
 */
#ifndef BPFUSE_CACHE_PRIV_H
#define BPFUSE_CACHE_PRIV_H

#include "cache.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "log.h"

#define META_MAGIC "BPFUSEC1"
#define META_VERSION 1
#define INDEX_HEADER "bpfuse-cache 1"
#define CACHE_MAX_LOADED 256   /* entries kept open (fd + bitmap) without references */

struct meta_hdr {
	char magic[8];
	uint32_t version;
	uint32_t block_size;
	uint64_t size;
	uint64_t nblocks;
	uint32_t crc;          /* CRC32C of the bitmap and the block CRCs that follow */
	uint32_t pad;
};
_Static_assert(sizeof(struct meta_hdr) == 40, "sidecar header layout");

struct cache_entry {
	char key[CACHE_KEY_LEN + 1];
	uint64_t size, nblocks;
	uint64_t bytes;              /* block bytes present */
	uint64_t npresent;           /* blocks present */
	uint64_t tick;               /* last use, for LRU */
	int refs, pins;
	int loaded, dirty;
	int fd;                      /* data file, O_RDWR, while loaded */
	int dfd;                     /* the same file O_WRONLY|O_DIRECT: -1 not yet, -2 none */
	uint8_t *bitmap;             /* while loaded */
	uint8_t *checked;            /* while loaded: blocks known good since the load (stored
					by us, or read back with a matching CRC) */
	uint64_t nchecked;
	uint32_t *crcs;              /* while loaded */
	struct cache_entry *hnext;   /* hash chain */
	struct cache_entry *prev, *next; /* LRU list: c->lru_head is the most recent */
	int doomed;                  /* cache_remove_later(): goes with its last ref and pin */
	/*
	 * The data file as last seen by this process (while loaded): its inode, size and
	 * ctime after our own last change to it.  A later stat that differs means something
	 * else changed or replaced the file, so nothing of it is known good any more.
	 */
	uint64_t fp_ino, fp_size;
	int64_t fp_ctime_ns;
	uint64_t scrub_pass;         /* the scrub pass that last verified it */
	int starved;                 /* a block found no room: if still incomplete, the entry
					goes with its last ref, so it cannot hold the space */
	cache_watch_fn watch;        /* cache_entry_watch(): told of bytes stored or going bad */
	void *watch_arg;
};

struct cache {
	char root[PATH_MAX - 128];
	struct cache_limits lim;
	pthread_mutex_t lock;
	struct cache_entry **buckets;
	size_t nbuckets;
	struct cache_entry *lru_head, *lru_tail;
	uint64_t tick;
	unsigned int nloaded;        /* entries loaded with refs == 0 */
	int index_fd;
	int lock_fd;                 /* flock'd: one process per cache dir */
	struct cache_stats st;       /* entries and bytes live here too */
	uint64_t scrub_pass;         /* cache_scrub_step(): the pass in progress, from 1 */
};

int cache_key_valid(const char *key);

/*
 * Tell the watcher of @e that bytes [@off, @off + @len) stop being valid (@stored 0), or
 * were stored (1).  Caller holds c->lock.
 */
void cache_watch_locked(struct cache_entry *e, int stored, uint64_t off, uint64_t len);

void cache_count(uint64_t *ctr);

int cache_disk_err(struct cache *c, int err);

void cache_entry_path(const struct cache *c, const char *key, const char *ext, char *out,
		       size_t size);

int cache_mkdir_0700(const char *path);

int cache_write_all(int fd, const void *buf, size_t len, off_t off);

int cache_read_all(int fd, void *buf, size_t len, off_t off);

int cache_tmp_file(struct cache *c, char *path, size_t size);

struct cache_entry *cache_hash_find(struct cache *c, const char *key);

void cache_hash_add(struct cache *c, struct cache_entry *e);

void cache_hash_del(struct cache *c, struct cache_entry *e);

void cache_lru_unlink(struct cache *c, struct cache_entry *e);

void cache_lru_push_head(struct cache *c, struct cache_entry *e);

void cache_touch_locked(struct cache *c, struct cache_entry *e);

void cache_index_append(struct cache *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cache_index_compact_locked(struct cache *c);

struct cache_entry *cache_entry_new(const char *key, uint64_t size, uint32_t bs);

int cache_index_load(struct cache *c);

int cache_entry_flush_locked(struct cache *c, struct cache_entry *e);

void cache_entry_free_maps(struct cache_entry *e);

int cache_data_file_create(struct cache *c, struct cache_entry *e);

int64_t cache_ctime_ns(const struct stat *st);

void cache_fingerprint_locked(struct cache_entry *e);

int cache_entry_load_locked(struct cache *c, struct cache_entry *e);

void cache_entry_close_fds(struct cache_entry *e);

void cache_entry_unload_locked(struct cache *c, struct cache_entry *e);

void cache_entry_destroy_locked(struct cache *c, struct cache_entry *e);

int cache_evict_locked(struct cache *c, uint64_t need_bytes, uint64_t need_files);

/* cache_read_block_how()'s @how */
#define READ_COUNT_HIT 1 /* a caller's read (counted), not a verify pass */
#define READ_NO_TOUCH 2  /* the scrub: leave the LRU order alone */
ssize_t cache_read_block_how(struct cache *c, struct cache_entry *e, uint64_t idx, void *buf,
			  size_t len, int how);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cache.h - the on-disk cache store (an ext4 directory) for remote object data.
 *
 * Knows nothing of S3 or BPF: an object is a key (64 hex digits, see cache_key()) and a
 * size, cut into fixed-size blocks that the caller fetches and stores.  Layout under the
 * cache root (0700; every file 0600):
 *   objects/ab/cd/<key>.data   one sparse file per object, at its real size: the block
 *                              at index i lives at offset i * block_size, so the file can
 *                              back FUSE passthrough once complete
 *   objects/ab/cd/<key>.meta   sidecar: per-block presence bits and CRC32C of each block
 *   index                      append-only log of entries (compacted on open and close)
 *                              so that a restarted daemon keeps its warm cache and LRU
 *   tmp/                       files are made here and renamed into place; swept on open
 *   lock                       flock'd by the one process that has the cache open
 * Every block read is checked against its CRC32C; a mismatch drops the block (hole
 * punched) and returns -EBADMSG, so the caller refetches it and never serves bad bytes.
 * Space is reclaimed before writing, least recently used object first, to stay under
 * max_bytes, max_files and min_free_ratio; a referenced or pinned object is never evicted.
 * Disk failures are returned (-EIO, -ENOSPC, ...) and counted, never hidden: the caller
 * counts them and serves from the backend instead.
 *
 * Thread safety: all calls may be made from any thread.  One mutex guards the index, the
 * LRU list and the presence bits; block data moves with pread/pwrite outside it.
 * Crash safety: a sidecar is replaced by rename and may lag the data file; a block whose
 * presence bit was lost is simply fetched again, and one whose data was lost fails its CRC.
 */
#ifndef BPFUSE_CACHE_H
#define BPFUSE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CACHE_KEY_LEN 64                 /* hex digits of a key */
#define CACHE_DEFAULT_BLOCK_SIZE (1u << 20)
/*
 * cache_write_block() writes a block with O_DIRECT (no copy into the page cache) when the
 * buffer, the length and the offset are multiples of this; callers that store a lot
 * allocate their buffers with this alignment.
 */
#define CACHE_DIRECT_ALIGN 4096u

struct cache_limits {
	uint64_t max_bytes;      /* block bytes held, all objects; 0 = no limit */
	uint64_t max_files;      /* objects held; 0 = no limit */
	double min_free_ratio;   /* keep f_bavail / f_blocks of the cache fs >= this; 0 = off */
	uint32_t block_size;     /* power of two, 4 KiB..64 MiB; 0 = 1 MiB */
};

struct cache_stats {
	uint64_t hits;           /* cache_read_block() served a verified block */
	uint64_t misses;         /* cache_read_block() found no block (-ENODATA) */
	uint64_t evictions;      /* objects evicted for space */
	uint64_t crc_errors;     /* blocks dropped because their CRC32C did not match */
	uint64_t disk_errors;    /* I/O on the cache directory failed */
	uint64_t changed_behind; /* data files found changed or replaced by someone else */
	uint64_t scrubbed_bytes; /* bytes verified by cache_scrub_step() */
	uint64_t entries;        /* objects held now */
	uint64_t bytes;          /* block bytes held now */
};

struct cache;
struct cache_entry;

/*
 * The key of an object: SHA-256 over @nparts length-prefixed strings, in hex.  The S3
 * backend passes (endpoint, bucket, key, ETag), so a new version of an object is a new key
 * and stale data can never be found under it.
 */
void cache_key(const char *const *parts, size_t nparts, char key[CACHE_KEY_LEN + 1]);

/*
 * Open (creating it 0700 if needed) the cache rooted at @dir: lock it, sweep tmp/, load the
 * index.  Returns 0 or -errno after one message naming the directory; -EBUSY, without a
 * message, when another cache_open() (this process or another) holds it.
 */
int cache_open(struct cache **out, const char *dir, const struct cache_limits *lim);
/* Flush sidecars, compact the index, free everything.  No entry may be referenced. */
void cache_close(struct cache *c);
/* Write dirty sidecars and compact the index now.  Returns 0 or the first -errno. */
int cache_sync(struct cache *c);

#define CACHE_CREATE 1   /* cache_lookup(): make an empty entry when there is none */
#define CACHE_MAX_OBJECT_BYTES (1ULL << 46) /* larger objects: cache_lookup() says -EFBIG */

/*
 * Find the entry of @key (a cache_key() result) for an object of @size bytes and take a
 * reference (drop it with cache_entry_put()).  An entry recorded with another size is
 * discarded as stale.  Without CACHE_CREATE a missing entry is -ENOENT; with it, space for
 * one more file is made first (-ENOSPC when everything is pinned or referenced).  -EINVAL
 * for a malformed key; -EIO and friends (counted) when the cache disk fails.
 */
int cache_lookup(struct cache *c, const char *key, uint64_t size, int flags,
		 struct cache_entry **out);
/* Drop a reference; see cache_write_block() for what goes with the last one. */
void cache_entry_put(struct cache *c, struct cache_entry *e);

uint32_t cache_block_size(const struct cache *c);
uint64_t cache_entry_nblocks(const struct cache_entry *e);
/* Bytes in block @idx: block_size, less for the last block. */
size_t cache_entry_block_len(const struct cache *c, const struct cache_entry *e, uint64_t idx);

/*
 * Store block @idx: @len must be cache_entry_block_len().  Evicts other objects first when
 * a limit would be passed (-ENOSPC when it cannot, or when the disk itself is full).  An
 * entry that met -ENOSPC and is still incomplete when its last reference goes is removed
 * then (counted as an eviction): a partial object too big for the cache must not keep
 * the space, or the free-space reserve, from everything else.  Returns 0 or -errno
 * (counted).
 */
int cache_write_block(struct cache *c, struct cache_entry *e, uint64_t idx, const void *buf,
		      size_t len);

/*
 * Read block @idx into @buf (at least cache_entry_block_len() bytes) and check its CRC32C.
 * Returns the block length (a hit), -ENODATA when the block is not cached (a miss),
 * -EBADMSG when it was cached but corrupt (dropped; fetch it again), -EIO etc. (counted).
 */
ssize_t cache_read_block(struct cache *c, struct cache_entry *e, uint64_t idx, void *buf,
			 size_t len);

/* 1 when block @idx is present (not verified), else 0. */
int cache_block_present(struct cache *c, struct cache_entry *e, uint64_t idx);

/*
 * 1 when every block holding a byte of [@off, @off + @len) is present and known good (as
 * cache_is_complete() counts it: stored by this process, or read back with a matching
 * CRC32C, since the entry was loaded), so that the data file may be read there without a
 * check: the in-kernel fast path serves such ranges from it.  0 otherwise, also for an
 * empty range or one past the object's end.
 */
int cache_range_verified(struct cache *c, struct cache_entry *e, uint64_t off, uint64_t len);

/*
 * Watch @e: @fn(@arg, 0, off, len) is called before bytes [off, off + len) of its data file
 * stop being the object's verified bytes: before the hole of a block that failed its CRC32C
 * is punched (by a read or the scrub), and before a data file found changed behind us is
 * emptied or verified again (0, size).  @fn(@arg, 1, off, len) is called once a block
 * holding bytes [off, off + len) was stored (so those are verified now, as
 * cache_range_verified() says).  Eviction needs no call: a watched entry is to be pinned.
 * @fn runs on the thread that found or stored it, under the cache's lock: it may call
 * nothing of the cache and take no lock that is held around a cache call.  One watcher per
 * entry: -EBUSY when another is set.  @fn NULL stops watching; when that call returns, no
 * call of the old one is in progress.  Returns 0 or -EBUSY.
 */
typedef void (*cache_watch_fn)(void *arg, int stored, uint64_t off, uint64_t len);
int cache_entry_watch(struct cache *c, struct cache_entry *e, cache_watch_fn fn, void *arg);

/*
 * 1 when every block is present and known good since the entry was loaded: stored by this
 * process, or read back with a matching CRC.  The first call on a fully present entry reads
 * the blocks not known good yet (after a restart: the whole file) to check them; bad ones
 * are dropped and the answer is 0.  0 when not complete; -errno on a disk error.  A
 * complete entry's data file can back FUSE passthrough: see cache_open_data().
 *
 * It also compares the data file at its path with what this process last made of it
 * (inode, size, ctime): a file changed or replaced by anyone else is verified again block
 * by block (or, replaced, emptied) before it counts as complete, and counted in
 * changed_behind.  A change that leaves the ctime alone (a failing disk) is found by the
 * scrub.
 */
int cache_is_complete(struct cache *c, struct cache_entry *e);

/*
 * One step of a background scrub (cache_scrub.h): verify every present block of the next
 * entry not yet verified in this pass, least recently used first, without changing the
 * LRU order; a block that fails its CRC32C is dropped as by any read, so the object is no
 * longer complete and its next open fetches the block again.  @buf holds one block.
 * Returns the bytes read (at least 1 when an entry was visited), or 0 when the pass is
 * over (the next call starts another).
 */
int64_t cache_scrub_step(struct cache *c, void *buf);

/* Open the entry's data file with open(2) @flags (O_RDONLY for passthrough): fd or -errno. */
int cache_open_data(struct cache *c, struct cache_entry *e, int flags);

/* Pins are counted and outlive references: a pinned entry is never evicted. */
void cache_pin(struct cache *c, struct cache_entry *e);
void cache_unpin(struct cache *c, struct cache_entry *e);

/* Forget @key (the object changed or was deleted).  -EBUSY while referenced or pinned. */
int cache_remove(struct cache *c, const char *key);
/*
 * The same, but an entry still referenced or pinned is only marked: it goes (files and
 * all) when its last reference and pin are dropped, unless cache_lookup() finds it again
 * first.  Returns 0 (removed), 1 (marked), -ENOENT or -EINVAL.
 */
int cache_remove_later(struct cache *c, const char *key);

void cache_get_stats(struct cache *c, struct cache_stats *st);

/* CRC32C (Castagnoli) of @len bytes, continuing from @crc (0 to start); SSE4.2 if present. */
uint32_t cache_crc32c(uint32_t crc, const void *buf, size_t len);

#endif

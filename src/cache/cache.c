// SPDX-License-Identifier: GPL-2.0
/*
 * cache.c - the ext4 cache directory: sparse data files, CRC32C sidecars, an index log,
 * LRU eviction.  See cache.h for the layout and the contract.
 *
 * Locking: c->lock guards the hash table, the LRU list, every entry's fields and the
 * counters.  Block data moves with pread/pwrite on e->fd outside the lock; the fd stays
 * valid because an entry is only unloaded or destroyed when nobody references it.
 * Lock order: there is one lock.
 *
 * The index is a text log ("E key size bytes tick", "B key bytes", "D key"), appended to
 * as entries come, fill and go, and rewritten whole (temp file + rename) on open and close.
 * A torn last line after a crash is ignored.  LRU order survives restarts through "tick",
 * a logical clock bumped on every use.
 */
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
#include "cache_priv.h"
/* ---- keys, paths, small helpers --------------------------------------------------------- */

void cache_key(const char *const *parts, size_t nparts, char key[CACHE_KEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t k;

	memset(md, 0, sizeof(md));
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		for (k = 0; k < nparts; k++) {
			uint64_t n = strlen(parts[k]);

			/* length-prefixed, so ("ab","c") and ("a","bc") differ */
			EVP_DigestUpdate(ctx, &n, sizeof(n));
			EVP_DigestUpdate(ctx, parts[k], n);
		}
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	}
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++) {
		key[2 * i] = hex[md[i] >> 4];
		key[2 * i + 1] = hex[md[i] & 15];
	}
	key[CACHE_KEY_LEN] = '\0';
}

int cache_key_valid(const char *key)
{
	size_t i;

	for (i = 0; i < CACHE_KEY_LEN; i++)
		if (!isxdigit((unsigned char)key[i]) || isupper((unsigned char)key[i]))
			return 0;
	return key[CACHE_KEY_LEN] == '\0';
}

void cache_count(uint64_t *ctr)
{
	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
}

/* Count a failed I/O on the cache disk and pass the error on. */
int cache_disk_err(struct cache *c, int err)
{
	cache_count(&c->st.disk_errors);
	return err;
}

void cache_entry_path(const struct cache *c, const char *key, const char *ext, char *out,
		       size_t size)
{
	snprintf(out, size, "%s/objects/%.2s/%.2s/%s.%s", c->root, key, key + 2, key, ext);
}

int cache_mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int cache_write_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int cache_read_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = pread(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return -ENODATA;   /* short file: the block is not there */
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A new 0600 file in tmp/, to be renamed into place. */
int cache_tmp_file(struct cache *c, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/tmp/t.XXXXXX", c->root);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0600);
	return fd;
}

/* ---- the API ---------------------------------------------------------------------------- */

static int sweep_tmp(struct cache *c)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int dfd;

	snprintf(path, sizeof(path), "%s/tmp", c->root);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	dp = fdopendir(dfd);
	if (!dp) {
		close(dfd);
		return -errno;
	}
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (unlinkat(dfd, d->d_name, 0) && errno != ENOENT)
			pr_warn("cannot remove cache leftover '%s/%s': %s", path, d->d_name,
				strerror(errno));
	}
	closedir(dp);
	return 0;
}

int cache_open(struct cache **out, const char *dir, const struct cache_limits *lim)
{
	char path[PATH_MAX];
	struct cache *c;
	int err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->index_fd = -1;
	c->lock_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	if (lim)
		c->lim = *lim;
	if (!c->lim.block_size)
		c->lim.block_size = CACHE_DEFAULT_BLOCK_SIZE;
	err = -EINVAL;
	if (c->lim.block_size < 4096 || c->lim.block_size > (64u << 20) ||
	    (c->lim.block_size & (c->lim.block_size - 1))) {
		pr_err("cache block size %u is not a power of two in 4 KiB..64 MiB",
		       c->lim.block_size);
		goto out_free;
	}
	if (strlen(dir) >= sizeof(c->root)) {
		err = -ENAMETOOLONG;
		goto out_err;
	}
	strcpy(c->root, dir);
	err = cache_mkdir_0700(c->root);
	if (!err && chmod(c->root, 0700))
		err = -errno;
	/* two daemons on one cache dir would corrupt the index: the second one is refused */
	snprintf(path, sizeof(path), "%s/lock", c->root);
	if (!err) {
		c->lock_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (c->lock_fd < 0)
			err = -errno;
		else if (flock(c->lock_fd, LOCK_EX | LOCK_NB))
			err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	}
	snprintf(path, sizeof(path), "%s/tmp", c->root);
	if (!err)
		err = cache_mkdir_0700(path);
	snprintf(path, sizeof(path), "%s/objects", c->root);
	if (!err)
		err = cache_mkdir_0700(path);
	if (!err)
		err = sweep_tmp(c);
	if (err)
		goto out_err;
	err = -ENOMEM;
	c->nbuckets = 1024;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets)
		goto out_err;
	err = cache_index_load(c);
	if (!err)
		err = cache_index_compact_locked(c);
	if (err)
		goto out_err;
	*out = c;
	return 0;

out_err:
	if (err != -EBUSY) /* the caller knows who holds it and says so, in one line */
		pr_err("cannot open cache dir '%s': %s", dir, strerror(-err));
out_free:
	if (c->buckets) {
		size_t i;
		struct cache_entry *e, *next;

		for (i = 0; i < c->nbuckets; i++)
			for (e = c->buckets[i]; e; e = next) {
				next = e->hnext;
				free(e);
			}
	}
	free(c->buckets);
	if (c->index_fd >= 0)
		close(c->index_fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return err;
}

int cache_sync(struct cache *c)
{
	struct cache_entry *e;
	int err = 0, r;

	pthread_mutex_lock(&c->lock);
	for (e = c->lru_head; e; e = e->next) {
		r = cache_entry_flush_locked(c, e);
		if (r && !err)
			err = r;
	}
	r = cache_index_compact_locked(c);
	if (r && !err)
		err = r;
	pthread_mutex_unlock(&c->lock);
	return err;
}

void cache_close(struct cache *c)
{
	struct cache_entry *e, *next;

	if (!c)
		return;
	cache_sync(c);
	for (e = c->lru_head; e; e = next) {
		next = e->next;
		if (e->refs)
			pr_warn("cache entry %s still referenced at close", e->key);
		if (e->loaded) {
			cache_entry_close_fds(e);
			cache_entry_free_maps(e);
		}
		free(e);
	}
	if (c->index_fd >= 0)
		close(c->index_fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int cache_lookup(struct cache *c, const char *key, uint64_t size, int flags,
		 struct cache_entry **out)
{
	struct cache_entry *e;
	int err = 0, created = 0;

	*out = NULL;
	if (!key || !cache_key_valid(key))
		return -EINVAL;
	if (size > CACHE_MAX_OBJECT_BYTES)
		return -EFBIG; /* the block count and offsets below must not wrap */
	pthread_mutex_lock(&c->lock);
	e = cache_hash_find(c, key);
	if (e && e->size != size) {
		/* same key, other size: the sidecar is stale or the caller's key is wrong */
		if (e->refs || e->pins) {
			err = -ESTALE;
			goto out;
		}
		cache_entry_destroy_locked(c, e);
		e = NULL;
	}
	if (!e) {
		err = -ENOENT;
		if (!(flags & CACHE_CREATE))
			goto out;
		err = cache_evict_locked(c, 0, 1);
		if (err)
			goto out;
		err = -ENOMEM;
		e = cache_entry_new(key, size, c->lim.block_size);
		if (!e)
			goto out;
		cache_hash_add(c, e);
		cache_lru_push_head(c, e);
		created = 1;
		/* logged before the files exist: a crash leaves an entry without files, which
		 * a later load recreates, never files that no entry accounts for */
		cache_index_append(c, "E %s %" PRIu64 " 0 %" PRIu64 "\n", e->key, e->size, c->tick + 1);
	}
	if (!e->loaded) {
		err = cache_entry_load_locked(c, e);
		if (err) {
			if (created)
				cache_entry_destroy_locked(c, e);
			goto out;
		}
	} else if (!e->refs) {
		c->nloaded--;
	}
	e->doomed = 0; /* wanted again */
	e->refs++;
	cache_touch_locked(c, e);
	*out = e;
	err = 0;
out:
	pthread_mutex_unlock(&c->lock);
	return err;
}

void cache_entry_put(struct cache *c, struct cache_entry *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&c->lock);
	if (--e->refs == 0) {
		/* keep a few idle entries open: reads come in runs */
		if (c->nloaded >= CACHE_MAX_LOADED)
			cache_entry_unload_locked(c, e);
		else
			c->nloaded++;
		if (e->starved && !e->doomed && !e->pins && e->npresent < e->nblocks) {
			c->st.evictions++;
			e->doomed = 1;
		}
		if (e->doomed && !e->pins)
			cache_entry_destroy_locked(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}


/*
 * The data file changed behind us (another inode at the path, another size, or a ctime we
 * did not cause): nothing in it is known good now.  Another file or size: its blocks are
 * dropped and a fresh sparse file is made; otherwise every block is verified again before
 * the entry counts as complete.  Caller holds c->lock; @st is the path's stat.
 */
static void changed_behind_locked(struct cache *c, struct cache_entry *e, const struct stat *st)
{
	char path[PATH_MAX];

	c->st.changed_behind++;
	cache_watch_locked(e, 0, 0, e->size);
	memset(e->checked, 0, (e->nblocks + 7) / 8 + 1);
	e->nchecked = 0;
	if (st && st->st_ino == e->fp_ino && (uint64_t)st->st_size == e->size) {
		e->fp_ctime_ns = cache_ctime_ns(st); /* verified from here on */
		return;
	}
	/* another file: forget what the sidecar says, start from an empty data file */
	cache_entry_close_fds(e);
	cache_entry_path(c, e->key, "data", path, sizeof(path));
	unlink(path);
	c->st.bytes -= e->bytes;
	e->bytes = 0;
	e->npresent = 0;
	memset(e->bitmap, 0, (e->nblocks + 7) / 8);
	e->dirty = 1;
	e->fd = cache_data_file_create(c, e); /* -errno: the next load tries again */
	cache_fingerprint_locked(e);
}

int cache_is_complete(struct cache *c, struct cache_entry *e)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t i;
	ssize_t n;
	void *buf;
	int ret, have;

	/* the file passthrough will open is the one at the path: check that one */
	cache_entry_path(c, e->key, "data", path, sizeof(path));
	have = !stat(path, &st);
	pthread_mutex_lock(&c->lock);
	if (e->npresent == e->nblocks && e->nchecked &&
	    (!have || st.st_ino != e->fp_ino || (uint64_t)st.st_size != e->fp_size ||
	     cache_ctime_ns(&st) != e->fp_ctime_ns))
		changed_behind_locked(c, e, have ? &st : NULL);
	ret = e->npresent == e->nblocks ? (e->nchecked == e->nblocks ? 1 : -1) : 0;
	pthread_mutex_unlock(&c->lock);
	if (ret >= 0)
		return ret;

	buf = malloc(c->lim.block_size);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < e->nblocks; i++) {
		pthread_mutex_lock(&c->lock);
		ret = !!(e->checked[i / 8] & (1u << (i % 8)));
		pthread_mutex_unlock(&c->lock);
		if (ret)
			continue;
		n = cache_read_block_how(c, e, i, buf, c->lim.block_size, 0);
		if (n == -EBADMSG || n == -ENODATA) {
			free(buf);
			return 0;
		}
		if (n < 0) {
			free(buf);
			return (int)n;
		}
	}
	free(buf);
	pthread_mutex_lock(&c->lock);
	ret = e->npresent == e->nblocks && e->nchecked == e->nblocks;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int64_t cache_scrub_step(struct cache *c, void *buf)
{
	struct cache_entry *e;
	int64_t done = 0;
	uint64_t i;
	ssize_t n;

	pthread_mutex_lock(&c->lock);
	if (!c->scrub_pass)
		c->scrub_pass = 1;
	/* coldest first: what nobody reads is what nobody else would find bad */
	for (e = c->lru_tail; e; e = e->prev)
		if (e->scrub_pass < c->scrub_pass && e->npresent && !e->doomed)
			break;
	if (!e) {
		c->scrub_pass++;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	e->scrub_pass = c->scrub_pass;
	if (!e->loaded) {
		if (cache_entry_load_locked(c, e)) {
			pthread_mutex_unlock(&c->lock);
			return 1; /* counted as progress: the next step moves on */
		}
	} else if (!e->refs) {
		c->nloaded--; /* as cache_lookup(): referenced entries are not counted */
	}
	e->refs++;
	pthread_mutex_unlock(&c->lock);

	for (i = 0; i < e->nblocks; i++) {
		n = cache_read_block_how(c, e, i, buf, c->lim.block_size, READ_NO_TOUCH);
		if (n > 0)
			done += n;
		else if (n != -ENODATA && n != -EBADMSG)
			break; /* a disk error, counted: try again next pass */
	}
	pthread_mutex_lock(&c->lock);
	c->st.scrubbed_bytes += (uint64_t)done;
	pthread_mutex_unlock(&c->lock);
	cache_entry_put(c, e);
	return done ? done : 1;
}

int cache_open_data(struct cache *c, struct cache_entry *e, int flags)
{
	char path[PATH_MAX];
	int fd;

	cache_entry_path(c, e->key, "data", path, sizeof(path));
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return cache_disk_err(c, -errno);
	return fd;
}

void cache_pin(struct cache *c, struct cache_entry *e)
{
	pthread_mutex_lock(&c->lock);
	e->pins++;
	pthread_mutex_unlock(&c->lock);
}

void cache_unpin(struct cache *c, struct cache_entry *e)
{
	pthread_mutex_lock(&c->lock);
	if (e->pins > 0)
		e->pins--;
	if (e->doomed && !e->pins && !e->refs)
		cache_entry_destroy_locked(c, e);
	pthread_mutex_unlock(&c->lock);
}

/* Remove @key's entry now, or (@later) mark a referenced or pinned one to go at its last put. */
static int remove_entry(struct cache *c, const char *key, int later)
{
	struct cache_entry *e;
	int err = 0;

	if (!key || !cache_key_valid(key))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	e = cache_hash_find(c, key);
	if (!e) {
		err = -ENOENT;
	} else if (e->refs || e->pins) {
		err = -EBUSY;
		if (later) {
			e->doomed = 1;
			err = 1;
		}
	} else {
		cache_entry_destroy_locked(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

int cache_remove(struct cache *c, const char *key)
{
	return remove_entry(c, key, 0);
}

int cache_remove_later(struct cache *c, const char *key)
{
	return remove_entry(c, key, 1);
}

void cache_get_stats(struct cache *c, struct cache_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	st->hits = __atomic_load_n(&c->st.hits, __ATOMIC_RELAXED);
	st->disk_errors = __atomic_load_n(&c->st.disk_errors, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->lock);
}

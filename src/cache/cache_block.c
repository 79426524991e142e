// SPDX-License-Identifier: GPL-2.0
/*
 * cache_block.c - blocks of an entry: write, read with the CRC check, presence.
 */
#include "cache_priv.h"

uint32_t cache_block_size(const struct cache *c)
{
	return c->lim.block_size;
}

uint64_t cache_entry_nblocks(const struct cache_entry *e)
{
	return e->nblocks;
}

size_t cache_entry_block_len(const struct cache *c, const struct cache_entry *e, uint64_t idx)
{
	uint64_t off = idx * c->lim.block_size;

	if (idx >= e->nblocks)
		return 0;
	return (size_t)(e->size - off < c->lim.block_size ? e->size - off : c->lim.block_size);
}

static int present(const struct cache_entry *e, uint64_t idx)
{
	return !!(e->bitmap[idx / 8] & (1u << (idx % 8)));
}

static int checked(const struct cache_entry *e, uint64_t idx)
{
	return !!(e->checked[idx / 8] & (1u << (idx % 8)));
}

static void set_checked_locked(struct cache_entry *e, uint64_t idx, int on)
{
	uint8_t bit = (uint8_t)(1u << (idx % 8));

	if (!!(e->checked[idx / 8] & bit) == on)
		return;
	e->checked[idx / 8] ^= bit;
	if (on)
		e->nchecked++;
	else
		e->nchecked--;
}

/*
 * Write block data.  Whole aligned blocks from an aligned buffer go to disk with O_DIRECT:
 * a block fetched once is read back through the daemon's own buffers or, once the object
 * is complete, through passthrough, so copying it into the page cache as well would only
 * cost CPU (about one second per GiB on the machines we measured, as much as the whole
 * network receive).  Anything else, and filesystems without O_DIRECT, are written buffered.
 */
static int write_block_data(struct cache *c, struct cache_entry *e, const void *buf,
			    size_t len, off_t off)
{
	char path[PATH_MAX];
	int dfd, err;

	if (((uintptr_t)buf | len | (uint64_t)off) % CACHE_DIRECT_ALIGN)
		return cache_write_all(e->fd, buf, len, off);
	pthread_mutex_lock(&c->lock);
	if (e->dfd == -1) {
		cache_entry_path(c, e->key, "data", path, sizeof(path));
		e->dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
		if (e->dfd < 0)
			e->dfd = -2;
	}
	dfd = e->dfd;
	pthread_mutex_unlock(&c->lock);
	if (dfd < 0)
		return cache_write_all(e->fd, buf, len, off);
	err = cache_write_all(dfd, buf, len, off);
	if (err == -EINVAL) /* the device wants a larger alignment: stay buffered */
		err = cache_write_all(e->fd, buf, len, off);
	return err;
}

int cache_write_block(struct cache *c, struct cache_entry *e, uint64_t idx, const void *buf,
		      size_t len)
{
	uint32_t crc;
	int err;

	if (idx >= e->nblocks || len != cache_entry_block_len(c, e, idx))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	err = present(e, idx) ? 0 : cache_evict_locked(c, len, 0);
	if (err == -ENOSPC)
		e->starved = 1;
	pthread_mutex_unlock(&c->lock);
	if (err)
		return err;

	crc = cache_crc32c(0, buf, len);
	err = write_block_data(c, e, buf, len, (off_t)(idx * c->lim.block_size));
	if (err == -ENOSPC || err == -EDQUOT) {
		/* the disk filled up under us: what the write allocated goes with the entry */
		pthread_mutex_lock(&c->lock);
		e->starved = 1;
		pthread_mutex_unlock(&c->lock);
		cache_disk_err(c, err);
		return -ENOSPC;
	}
	if (err)
		return cache_disk_err(c, err);

	pthread_mutex_lock(&c->lock);
	if (!present(e, idx)) {
		e->bitmap[idx / 8] |= (uint8_t)(1u << (idx % 8));
		e->npresent++;
		e->bytes += len;
		c->st.bytes += len;
	}
	e->crcs[idx] = crc;
	set_checked_locked(e, idx, 1);
	cache_watch_locked(e, 1, idx * c->lim.block_size, len);
	cache_fingerprint_locked(e);
	e->dirty = 1;
	cache_touch_locked(c, e);
	/* a complete object must survive a restart: it may back passthrough */
	if (e->npresent == e->nblocks)
		err = cache_entry_flush_locked(c, e);
	pthread_mutex_unlock(&c->lock);
	return err;
}

/* Drop block @idx if it still has CRC @crc. */
static void drop_block(struct cache *c, struct cache_entry *e, uint64_t idx, uint32_t crc)
{
	size_t len = cache_entry_block_len(c, e, idx);
	int punch = 0;

	pthread_mutex_lock(&c->lock);
	if (present(e, idx) && e->crcs[idx] == crc) {
		/* whoever serves the file's bytes without us stops first */
		cache_watch_locked(e, 0, idx * c->lim.block_size, len);
		e->bitmap[idx / 8] &= (uint8_t)~(1u << (idx % 8));
		e->npresent--;
		e->bytes -= len;
		c->st.bytes -= len;
		e->dirty = 1;
		set_checked_locked(e, idx, 0);
		punch = 1;
	}
	c->st.crc_errors++;
	if (punch) {
		fallocate(e->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(idx * c->lim.block_size), (off_t)len);
		cache_fingerprint_locked(e);
	}
	pthread_mutex_unlock(&c->lock);
}


/* Read and check block @idx. */
ssize_t cache_read_block_how(struct cache *c, struct cache_entry *e, uint64_t idx, void *buf,
			  size_t len, int how)
{
	int count_hit = how & READ_COUNT_HIT;
	size_t blen = cache_entry_block_len(c, e, idx);
	uint32_t crc;
	int err;

	if (idx >= e->nblocks || len < blen)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	if (!present(e, idx)) {
		if (count_hit)
			c->st.misses++;
		pthread_mutex_unlock(&c->lock);
		return -ENODATA;
	}
	crc = e->crcs[idx];
	if (!(how & READ_NO_TOUCH))
		cache_touch_locked(c, e);
	pthread_mutex_unlock(&c->lock);

	err = cache_read_all(e->fd, buf, blen, (off_t)(idx * c->lim.block_size));
	if (err == -ENODATA) {
		/* the file got shorter under us: treat like corruption */
		drop_block(c, e, idx, crc);
		return -EBADMSG;
	}
	if (err)
		return cache_disk_err(c, err);
	if (cache_crc32c(0, buf, blen) != crc) {
		drop_block(c, e, idx, crc);
		return -EBADMSG;
	}
	pthread_mutex_lock(&c->lock);
	if (present(e, idx) && e->crcs[idx] == crc)
		set_checked_locked(e, idx, 1);
	pthread_mutex_unlock(&c->lock);
	if (count_hit)
		cache_count(&c->st.hits);
	return (ssize_t)blen;
}

ssize_t cache_read_block(struct cache *c, struct cache_entry *e, uint64_t idx, void *buf,
			 size_t len)
{
	return cache_read_block_how(c, e, idx, buf, len, READ_COUNT_HIT);
}

int cache_block_present(struct cache *c, struct cache_entry *e, uint64_t idx)
{
	int ret;

	if (idx >= e->nblocks)
		return 0;
	pthread_mutex_lock(&c->lock);
	ret = present(e, idx);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int cache_range_verified(struct cache *c, struct cache_entry *e, uint64_t off, uint64_t len)
{
	uint64_t i, first, last;
	int ret = 1;

	if (!len || off >= e->size || len > e->size - off)
		return 0;
	first = off / c->lim.block_size;
	last = (off + len - 1) / c->lim.block_size;
	pthread_mutex_lock(&c->lock);
	if (!e->loaded)
		ret = 0;
	for (i = first; ret && i <= last; i++)
		ret = present(e, i) && checked(e, i);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

void cache_watch_locked(struct cache_entry *e, int stored, uint64_t off, uint64_t len)
{
	if (e->watch)
		e->watch(e->watch_arg, stored, off, len);
}

int cache_entry_watch(struct cache *c, struct cache_entry *e, cache_watch_fn fn, void *arg)
{
	int err = 0;

	pthread_mutex_lock(&c->lock);
	if (fn && e->watch)
		err = -EBUSY;
	else {
		e->watch = fn;
		e->watch_arg = fn ? arg : NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

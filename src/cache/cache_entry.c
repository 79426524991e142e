// SPDX-License-Identifier: GPL-2.0
/*
 * cache_entry.c - cache entries: sidecar metadata, load, unload, flush, eviction.
 */
#include "cache_priv.h"

/* ---- entries ---------------------------------------------------------------------------- */

int cache_entry_flush_locked(struct cache *c, struct cache_entry *e)
{
	size_t bmlen = (e->nblocks + 7) / 8, crclen = e->nblocks * sizeof(uint32_t);
	char tmp[PATH_MAX], path[PATH_MAX];
	struct meta_hdr h = { .version = META_VERSION };
	int fd, err;

	if (!e->loaded || !e->dirty)
		return 0;
	memcpy(h.magic, META_MAGIC, 8);
	h.block_size = c->lim.block_size;
	h.size = e->size;
	h.nblocks = e->nblocks;
	h.crc = cache_crc32c(cache_crc32c(0, e->bitmap, bmlen), e->crcs, crclen);
	fd = cache_tmp_file(c, tmp, sizeof(tmp));
	if (fd < 0)
		return cache_disk_err(c, fd);
	err = cache_write_all(fd, &h, sizeof(h), 0);
	if (!err)
		err = cache_write_all(fd, e->bitmap, bmlen, sizeof(h));
	if (!err)
		err = cache_write_all(fd, e->crcs, crclen, (off_t)(sizeof(h) + bmlen));
	if (close(fd) && !err)
		err = -errno;
	cache_entry_path(c, e->key, "meta", path, sizeof(path));
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return cache_disk_err(c, err);
	}
	e->dirty = 0;
	cache_index_append(c, "B %s %" PRIu64 "\n", e->key, e->bytes);
	return 0;
}

void cache_entry_free_maps(struct cache_entry *e)
{
	free(e->bitmap);
	free(e->checked);
	free(e->crcs);
	e->bitmap = NULL;
	e->checked = NULL;
	e->crcs = NULL;
}

/* Read the sidecar into e->bitmap/e->crcs; a missing or bad one leaves them empty. */
static void entry_read_meta(struct cache *c, struct cache_entry *e)
{
	size_t bmlen = (e->nblocks + 7) / 8, crclen = e->nblocks * sizeof(uint32_t);
	char path[PATH_MAX];
	struct meta_hdr h;
	uint64_t i;
	int fd, ok;

	cache_entry_path(c, e->key, "meta", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ok = !cache_read_all(fd, &h, sizeof(h), 0) && !memcmp(h.magic, META_MAGIC, 8) &&
	     h.version == META_VERSION && h.block_size == c->lim.block_size &&
	     h.size == e->size && h.nblocks == e->nblocks &&
	     !cache_read_all(fd, e->bitmap, bmlen, sizeof(h)) &&
	     !cache_read_all(fd, e->crcs, crclen, (off_t)(sizeof(h) + bmlen)) &&
	     h.crc == cache_crc32c(cache_crc32c(0, e->bitmap, bmlen), e->crcs, crclen);
	close(fd);
	if (!ok) {
		memset(e->bitmap, 0, bmlen);
		memset(e->crcs, 0, crclen);
		e->dirty = 1;
	}
	e->npresent = 0;
	e->bytes = 0;
	for (i = 0; i < e->nblocks; i++) {
		if (e->bitmap[i / 8] & (1u << (i % 8))) {
			e->npresent++;
			e->bytes += cache_entry_block_len(c, e, i);
		}
	}
}

/* A new (or lost) data file: a sparse file of the object's size, made aside.  fd or -errno. */
int cache_data_file_create(struct cache *c, struct cache_entry *e)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, err;

	cache_entry_path(c, e->key, "data", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/objects/%.2s", c->root, e->key);
	err = cache_mkdir_0700(tmp);
	snprintf(tmp, sizeof(tmp), "%s/objects/%.2s/%.2s", c->root, e->key, e->key + 2);
	if (!err)
		err = cache_mkdir_0700(tmp);
	if (err)
		return cache_disk_err(c, err);
	fd = cache_tmp_file(c, tmp, sizeof(tmp));
	if (fd < 0)
		return cache_disk_err(c, fd);
	if (ftruncate(fd, (off_t)e->size) || rename(tmp, path)) {
		err = cache_disk_err(c, -errno);
		close(fd);
		unlink(tmp);
		return err;
	}
	return fd;
}

int64_t cache_ctime_ns(const struct stat *st)
{
	return (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

/* Record the data file as it is now, after a change of our own.  Caller holds c->lock. */
void cache_fingerprint_locked(struct cache_entry *e)
{
	struct stat st;

	if (e->fd < 0 || fstat(e->fd, &st))
		return;
	e->fp_ino = st.st_ino;
	e->fp_size = (uint64_t)st.st_size;
	e->fp_ctime_ns = cache_ctime_ns(&st);
}

int cache_entry_load_locked(struct cache *c, struct cache_entry *e)
{
	char path[PATH_MAX];
	uint64_t old_bytes = e->bytes;
	struct stat st;
	int fd, err;

	if (e->loaded)
		return 0;
	e->bitmap = calloc((e->nblocks + 7) / 8 + 1, 1);
	e->checked = calloc((e->nblocks + 7) / 8 + 1, 1);
	e->crcs = calloc(e->nblocks + 1, sizeof(uint32_t));
	e->nchecked = 0;
	if (!e->bitmap || !e->checked || !e->crcs) {
		err = -ENOMEM;
		goto out_free;
	}
	cache_entry_path(c, e->key, "data", path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) || (uint64_t)st.st_size != e->size)) {
		close(fd);
		fd = -1;
		errno = ENOENT;
	}
	if (fd < 0) {
		if (errno != ENOENT) {
			err = cache_disk_err(c, -errno);
			goto out_free;
		}
		fd = cache_data_file_create(c, e);
		if (fd < 0) {
			err = fd;
			goto out_free;
		}
		memset(e->bitmap, 0, (e->nblocks + 7) / 8);
		e->npresent = 0;
		e->bytes = 0;
		e->dirty = 1;
	} else {
		entry_read_meta(c, e);
	}
	e->fd = fd;
	e->loaded = 1;
	cache_fingerprint_locked(e);
	c->st.bytes += e->bytes - old_bytes;
	return 0;

out_free:
	cache_entry_free_maps(e);
	return err;
}

void cache_entry_close_fds(struct cache_entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->dfd >= 0)
		close(e->dfd);
	e->fd = -1;
	e->dfd = -1;
}

void cache_entry_unload_locked(struct cache *c, struct cache_entry *e)
{
	if (!e->loaded)
		return;
	cache_entry_flush_locked(c, e);
	cache_entry_close_fds(e);
	cache_entry_free_maps(e);
	e->loaded = 0;
}

/* Remove @e and its files.  It must be unreferenced. */
void cache_entry_destroy_locked(struct cache *c, struct cache_entry *e)
{
	char path[PATH_MAX];

	if (e->loaded) {
		cache_entry_close_fds(e);
		cache_entry_free_maps(e);
		if (!e->refs)
			c->nloaded--;
	}
	cache_entry_path(c, e->key, "data", path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		cache_disk_err(c, -errno);
	cache_entry_path(c, e->key, "meta", path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		cache_disk_err(c, -errno);
	cache_index_append(c, "D %s\n", e->key);
	cache_hash_del(c, e);
	cache_lru_unlink(c, e);
	c->st.bytes -= e->bytes;
	free(e);
}

static int over_limits(struct cache *c, uint64_t need_bytes, uint64_t need_files)
{
	const struct cache_limits *l = &c->lim;
	struct statvfs vfs;

	if (l->max_bytes && c->st.bytes + need_bytes > l->max_bytes)
		return 1;
	if (l->max_files && c->st.entries + need_files > l->max_files)
		return 1;
	if (l->min_free_ratio > 0 && !statvfs(c->root, &vfs) && vfs.f_blocks) {
		double total = (double)vfs.f_blocks * vfs.f_frsize;
		double avail = (double)vfs.f_bavail * vfs.f_frsize - (double)need_bytes;

		if (avail / total < l->min_free_ratio)
			return 1;
	}
	return 0;
}

/*
 * Make room for @need_bytes more block bytes and @need_files more entries by evicting
 * unreferenced, unpinned entries, least recently used first.  -ENOSPC when not enough
 * could go.
 */
int cache_evict_locked(struct cache *c, uint64_t need_bytes, uint64_t need_files)
{
	struct cache_entry *e, *prev;

	e = c->lru_tail;
	while (over_limits(c, need_bytes, need_files)) {
		while (e && (e->refs || e->pins))
			e = e->prev;
		if (!e)
			return -ENOSPC;
		prev = e->prev;
		cache_entry_destroy_locked(c, e);
		c->st.evictions++;
		e = prev;
	}
	return 0;
}

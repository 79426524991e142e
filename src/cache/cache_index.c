// SPDX-License-Identifier: GPL-2.0
/*
 * cache_index.c - the in-memory index (hash table, LRU list) and the on-disk index log.
 */
#include "cache_priv.h"

/* ---- hash table and LRU ----------------------------------------------------------------- */

static size_t key_hash(const struct cache *c, const char *key)
{
	uint64_t h = 0;
	int i;

	/* keys are SHA-256 hex: their first 16 digits are as good as any hash */
	for (i = 0; i < 16; i++) {
		int d = isdigit((unsigned char)key[i]) ? key[i] - '0' : key[i] - 'a' + 10;

		h = h * 16 + (uint64_t)d;
	}
	return (size_t)(h & (c->nbuckets - 1));
}

struct cache_entry *cache_hash_find(struct cache *c, const char *key)
{
	struct cache_entry *e;

	for (e = c->buckets[key_hash(c, key)]; e; e = e->hnext)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

static void hash_grow(struct cache *c)
{
	struct cache_entry **nb, **old = c->buckets, *e, *next;
	size_t n = c->nbuckets * 2, oldn = c->nbuckets, i;

	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	c->buckets = nb;
	c->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		for (e = old[i]; e; e = next) {
			size_t h = key_hash(c, e->key);

			next = e->hnext;
			e->hnext = nb[h];
			nb[h] = e;
		}
	}
	free(old);
}

void cache_hash_add(struct cache *c, struct cache_entry *e)
{
	size_t h;

	if (c->st.entries + 1 > 2 * c->nbuckets)
		hash_grow(c);
	h = key_hash(c, e->key);
	e->hnext = c->buckets[h];
	c->buckets[h] = e;
	c->st.entries++;
}

void cache_hash_del(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **pp;

	for (pp = &c->buckets[key_hash(c, e->key)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			c->st.entries--;
			return;
		}
	}
}

void cache_lru_unlink(struct cache *c, struct cache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else if (c->lru_head == e)
		c->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else if (c->lru_tail == e)
		c->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

void cache_lru_push_head(struct cache *c, struct cache_entry *e)
{
	e->prev = NULL;
	e->next = c->lru_head;
	if (c->lru_head)
		c->lru_head->prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

void cache_touch_locked(struct cache *c, struct cache_entry *e)
{
	e->tick = ++c->tick;
	if (c->lru_head != e) {
		cache_lru_unlink(c, e);
		cache_lru_push_head(c, e);
	}
}

/* ---- index log -------------------------------------------------------------------------- */

void cache_index_append(struct cache *c, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (c->index_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write of a whole line with O_APPEND: a crash tears at most the last line */
	if (n > 0 && write(c->index_fd, line, (size_t)n) != n)
		cache_disk_err(c, -EIO);
}

int cache_index_compact_locked(struct cache *c)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	struct cache_entry *e;
	FILE *f;
	int fd, err = 0;

	fd = cache_tmp_file(c, tmp, sizeof(tmp));
	if (fd < 0)
		return cache_disk_err(c, fd);
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return cache_disk_err(c, err);
	}
	fprintf(f, "%s\n", INDEX_HEADER);
	/* oldest first, so a reader rebuilding the LRU by tick sees them in order */
	for (e = c->lru_tail; e; e = e->prev)
		fprintf(f, "E %s %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", e->key, e->size, e->bytes,
			e->tick);
	if (fflush(f) || ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -EIO;
	snprintf(path, sizeof(path), "%s/index", c->root);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return cache_disk_err(c, err);
	}
	if (c->index_fd >= 0)
		close(c->index_fd);
	c->index_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (c->index_fd < 0)
		return cache_disk_err(c, -errno);
	return 0;
}

struct cache_entry *cache_entry_new(const char *key, uint64_t size, uint32_t bs)
{
	struct cache_entry *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	memcpy(e->key, key, CACHE_KEY_LEN + 1);
	e->size = size;
	e->nblocks = (size + bs - 1) / bs;
	e->fd = -1;
	e->dfd = -1;
	return e;
}

static int tick_cmp(const void *a, const void *b)
{
	const struct cache_entry *x = *(struct cache_entry *const *)a;
	const struct cache_entry *y = *(struct cache_entry *const *)b;

	return x->tick < y->tick ? -1 : x->tick > y->tick;
}

int cache_index_load(struct cache *c)
{
	char path[PATH_MAX], *line = NULL, key[CACHE_KEY_LEN + 2];
	struct cache_entry *e, **all = NULL;
	uint64_t size, bytes, tick;
	size_t cap = 0, n = 0, i;
	int err = 0, first = 1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/index", c->root);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : cache_disk_err(c, -errno);
	while (getline(&line, &cap, f) > 0) {
		if (first) {
			first = 0;
			if (strncmp(line, INDEX_HEADER, strlen(INDEX_HEADER))) {
				pr_warn("cache index '%s' has an unknown format; starting cold",
					path);
				break;
			}
			continue;
		}
		if (sscanf(line, "E %65s %" SCNu64 " %" SCNu64 " %" SCNu64, key, &size, &bytes,
			   &tick) == 4 && cache_key_valid(key) && size <= CACHE_MAX_OBJECT_BYTES &&
		    bytes <= size) {
			e = cache_hash_find(c, key);
			if (!e) {
				e = cache_entry_new(key, size, c->lim.block_size);
				if (!e) {
					err = -ENOMEM;
					break;
				}
				cache_hash_add(c, e);
			}
			c->st.bytes -= e->bytes;
			e->size = size;
			e->nblocks = (size + c->lim.block_size - 1) / c->lim.block_size;
			e->bytes = bytes;
			e->tick = tick;
			c->st.bytes += bytes;
		} else if (sscanf(line, "B %65s %" SCNu64, key, &bytes) == 2 && cache_key_valid(key)) {
			e = cache_hash_find(c, key);
			if (e) {
				c->st.bytes += bytes - e->bytes;
				e->bytes = bytes;
			}
		} else if (sscanf(line, "D %65s", key) == 1 && cache_key_valid(key)) {
			e = cache_hash_find(c, key);
			if (e) {
				cache_hash_del(c, e);
				c->st.bytes -= e->bytes;
				free(e);
			}
		}
		/* anything else: a torn line from a crash */
	}
	free(line);
	fclose(f);
	if (err)
		return err;

	/* rebuild the LRU list from the ticks */
	all = malloc((c->st.entries ? c->st.entries : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < c->nbuckets; i++)
		for (e = c->buckets[i]; e; e = e->hnext)
			all[n++] = e;
	qsort(all, n, sizeof(*all), tick_cmp);
	for (i = 0; i < n; i++) {
		cache_lru_push_head(c, all[i]);
		if (all[i]->tick > c->tick)
			c->tick = all[i]->tick;
	}
	free(all);
	return 0;
}

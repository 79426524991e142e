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

/* ---- CRC32C ---------------------------------------------------------------------------- */

#define CRC32C_POLY 0x82f63b78u   /* reflected */
#define CRC32C_STRIPE 8192u       /* bytes per lane of the 3-lane loop */

static uint32_t crc32c_table[256];
static int crc32c_hw;
static uint32_t crc32c_shift1, crc32c_shift2; /* x^(8 * STRIPE), x^(16 * STRIPE) mod P */
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

/* a * b modulo P, both reflected polynomials (bit 31 is x^0) */
static uint32_t crc32c_mulmod(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (; m; m >>= 1) {
		if (a & m)
			p ^= b;
		b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
	}
	return p;
}

/* x^(8 * n) modulo P */
static uint32_t crc32c_xpow8n(uint64_t n)
{
	uint32_t r = 1u << 31, sq = 1u << 23; /* x^0; x^8 */

	for (; n; n >>= 1) {
		if (n & 1)
			r = crc32c_mulmod(r, sq);
		sq = crc32c_mulmod(sq, sq);
	}
	return r;
}

static void crc32c_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc32c_table[i] = c;
	}
#if defined(__x86_64__)
	crc32c_hw = __builtin_cpu_supports("sse4.2");
#endif
	crc32c_shift1 = crc32c_xpow8n(CRC32C_STRIPE);
	crc32c_shift2 = crc32c_xpow8n(2 * CRC32C_STRIPE);
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p,
								size_t len)
{
	uint64_t c = crc;

	/*
	 * Three independent lanes: the crc32 instruction takes 3 cycles but can start one
	 * per cycle.  The register is linear, so crc(A|B|C) = crc(A) * x^(8|B|+8|C|) ^
	 * crc(B) * x^(8|C|) ^ crc(C), with B and C started from 0.
	 */
	for (; len >= 3 * CRC32C_STRIPE; p += 3 * CRC32C_STRIPE, len -= 3 * CRC32C_STRIPE) {
		uint64_t c1 = 0, c2 = 0, v0, v1, v2;
		size_t i;

		for (i = 0; i < CRC32C_STRIPE; i += 8) {
			memcpy(&v0, p + i, 8);
			memcpy(&v1, p + CRC32C_STRIPE + i, 8);
			memcpy(&v2, p + 2 * CRC32C_STRIPE + i, 8);
			c = __builtin_ia32_crc32di(c, v0);
			c1 = __builtin_ia32_crc32di(c1, v1);
			c2 = __builtin_ia32_crc32di(c2, v2);
		}
		c = crc32c_mulmod(crc32c_shift2, (uint32_t)c) ^
		    crc32c_mulmod(crc32c_shift1, (uint32_t)c1) ^ (uint32_t)c2;
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	for (; len; p++, len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p);
	return (uint32_t)c;
}
#endif

uint32_t cache_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc32c_once, crc32c_init);
	crc = ~crc;
#if defined(__x86_64__)
	if (crc32c_hw)
		return ~crc32c_sse42(crc, p, len);
#endif
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

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

static int key_valid(const char *key)
{
	size_t i;

	for (i = 0; i < CACHE_KEY_LEN; i++)
		if (!isxdigit((unsigned char)key[i]) || isupper((unsigned char)key[i]))
			return 0;
	return key[CACHE_KEY_LEN] == '\0';
}

static void count(uint64_t *ctr)
{
	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
}

/* Count a failed I/O on the cache disk and pass the error on. */
static int disk_err(struct cache *c, int err)
{
	count(&c->st.disk_errors);
	return err;
}

static void entry_path(const struct cache *c, const char *key, const char *ext, char *out,
		       size_t size)
{
	snprintf(out, size, "%s/objects/%.2s/%.2s/%s.%s", c->root, key, key + 2, key, ext);
}

static int mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
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

static int read_all(int fd, void *buf, size_t len, off_t off)
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
static int tmp_file(struct cache *c, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/tmp/t.XXXXXX", c->root);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0600);
	return fd;
}

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

static struct cache_entry *hash_find(struct cache *c, const char *key)
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

static void hash_add(struct cache *c, struct cache_entry *e)
{
	size_t h;

	if (c->st.entries + 1 > 2 * c->nbuckets)
		hash_grow(c);
	h = key_hash(c, e->key);
	e->hnext = c->buckets[h];
	c->buckets[h] = e;
	c->st.entries++;
}

static void hash_del(struct cache *c, struct cache_entry *e)
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

static void lru_unlink(struct cache *c, struct cache_entry *e)
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

static void lru_push_head(struct cache *c, struct cache_entry *e)
{
	e->prev = NULL;
	e->next = c->lru_head;
	if (c->lru_head)
		c->lru_head->prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

static void touch_locked(struct cache *c, struct cache_entry *e)
{
	e->tick = ++c->tick;
	if (c->lru_head != e) {
		lru_unlink(c, e);
		lru_push_head(c, e);
	}
}

/* ---- index log -------------------------------------------------------------------------- */

static void index_append(struct cache *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void index_append(struct cache *c, const char *fmt, ...)
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
		disk_err(c, -EIO);
}

static int index_compact_locked(struct cache *c)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	struct cache_entry *e;
	FILE *f;
	int fd, err = 0;

	fd = tmp_file(c, tmp, sizeof(tmp));
	if (fd < 0)
		return disk_err(c, fd);
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return disk_err(c, err);
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
		return disk_err(c, err);
	}
	if (c->index_fd >= 0)
		close(c->index_fd);
	c->index_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (c->index_fd < 0)
		return disk_err(c, -errno);
	return 0;
}

static struct cache_entry *entry_new(const char *key, uint64_t size, uint32_t bs)
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

static int index_load(struct cache *c)
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
		return errno == ENOENT ? 0 : disk_err(c, -errno);
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
			   &tick) == 4 && key_valid(key) && size <= CACHE_MAX_OBJECT_BYTES &&
		    bytes <= size) {
			e = hash_find(c, key);
			if (!e) {
				e = entry_new(key, size, c->lim.block_size);
				if (!e) {
					err = -ENOMEM;
					break;
				}
				hash_add(c, e);
			}
			c->st.bytes -= e->bytes;
			e->size = size;
			e->nblocks = (size + c->lim.block_size - 1) / c->lim.block_size;
			e->bytes = bytes;
			e->tick = tick;
			c->st.bytes += bytes;
		} else if (sscanf(line, "B %65s %" SCNu64, key, &bytes) == 2 && key_valid(key)) {
			e = hash_find(c, key);
			if (e) {
				c->st.bytes += bytes - e->bytes;
				e->bytes = bytes;
			}
		} else if (sscanf(line, "D %65s", key) == 1 && key_valid(key)) {
			e = hash_find(c, key);
			if (e) {
				hash_del(c, e);
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
		lru_push_head(c, all[i]);
		if (all[i]->tick > c->tick)
			c->tick = all[i]->tick;
	}
	free(all);
	return 0;
}

/* ---- entries ---------------------------------------------------------------------------- */

static int entry_flush_locked(struct cache *c, struct cache_entry *e)
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
	fd = tmp_file(c, tmp, sizeof(tmp));
	if (fd < 0)
		return disk_err(c, fd);
	err = write_all(fd, &h, sizeof(h), 0);
	if (!err)
		err = write_all(fd, e->bitmap, bmlen, sizeof(h));
	if (!err)
		err = write_all(fd, e->crcs, crclen, (off_t)(sizeof(h) + bmlen));
	if (close(fd) && !err)
		err = -errno;
	entry_path(c, e->key, "meta", path, sizeof(path));
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return disk_err(c, err);
	}
	e->dirty = 0;
	index_append(c, "B %s %" PRIu64 "\n", e->key, e->bytes);
	return 0;
}

static void entry_free_maps(struct cache_entry *e)
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

	entry_path(c, e->key, "meta", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ok = !read_all(fd, &h, sizeof(h), 0) && !memcmp(h.magic, META_MAGIC, 8) &&
	     h.version == META_VERSION && h.block_size == c->lim.block_size &&
	     h.size == e->size && h.nblocks == e->nblocks &&
	     !read_all(fd, e->bitmap, bmlen, sizeof(h)) &&
	     !read_all(fd, e->crcs, crclen, (off_t)(sizeof(h) + bmlen)) &&
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
static int data_file_create(struct cache *c, struct cache_entry *e)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, err;

	entry_path(c, e->key, "data", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/objects/%.2s", c->root, e->key);
	err = mkdir_0700(tmp);
	snprintf(tmp, sizeof(tmp), "%s/objects/%.2s/%.2s", c->root, e->key, e->key + 2);
	if (!err)
		err = mkdir_0700(tmp);
	if (err)
		return disk_err(c, err);
	fd = tmp_file(c, tmp, sizeof(tmp));
	if (fd < 0)
		return disk_err(c, fd);
	if (ftruncate(fd, (off_t)e->size) || rename(tmp, path)) {
		err = disk_err(c, -errno);
		close(fd);
		unlink(tmp);
		return err;
	}
	return fd;
}

static int64_t ctime_ns(const struct stat *st)
{
	return (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

/* Record the data file as it is now, after a change of our own.  Caller holds c->lock. */
static void fingerprint_locked(struct cache_entry *e)
{
	struct stat st;

	if (e->fd < 0 || fstat(e->fd, &st))
		return;
	e->fp_ino = st.st_ino;
	e->fp_size = (uint64_t)st.st_size;
	e->fp_ctime_ns = ctime_ns(&st);
}

static int entry_load_locked(struct cache *c, struct cache_entry *e)
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
	entry_path(c, e->key, "data", path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) || (uint64_t)st.st_size != e->size)) {
		close(fd);
		fd = -1;
		errno = ENOENT;
	}
	if (fd < 0) {
		if (errno != ENOENT) {
			err = disk_err(c, -errno);
			goto out_free;
		}
		fd = data_file_create(c, e);
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
	fingerprint_locked(e);
	c->st.bytes += e->bytes - old_bytes;
	return 0;

out_free:
	entry_free_maps(e);
	return err;
}

static void entry_close_fds(struct cache_entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->dfd >= 0)
		close(e->dfd);
	e->fd = -1;
	e->dfd = -1;
}

static void entry_unload_locked(struct cache *c, struct cache_entry *e)
{
	if (!e->loaded)
		return;
	entry_flush_locked(c, e);
	entry_close_fds(e);
	entry_free_maps(e);
	e->loaded = 0;
}

/* Remove @e and its files.  It must be unreferenced. */
static void entry_destroy_locked(struct cache *c, struct cache_entry *e)
{
	char path[PATH_MAX];

	if (e->loaded) {
		entry_close_fds(e);
		entry_free_maps(e);
		if (!e->refs)
			c->nloaded--;
	}
	entry_path(c, e->key, "data", path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		disk_err(c, -errno);
	entry_path(c, e->key, "meta", path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		disk_err(c, -errno);
	index_append(c, "D %s\n", e->key);
	hash_del(c, e);
	lru_unlink(c, e);
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
static int evict_locked(struct cache *c, uint64_t need_bytes, uint64_t need_files)
{
	struct cache_entry *e, *prev;

	e = c->lru_tail;
	while (over_limits(c, need_bytes, need_files)) {
		while (e && (e->refs || e->pins))
			e = e->prev;
		if (!e)
			return -ENOSPC;
		prev = e->prev;
		entry_destroy_locked(c, e);
		c->st.evictions++;
		e = prev;
	}
	return 0;
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
	err = mkdir_0700(c->root);
	if (!err && chmod(c->root, 0700))
		err = -errno;
	/* two daemons on one cache dir would corrupt the index: the second one is refused */
	snprintf(path, sizeof(path), "%s/lock", c->root);
	if (!err) {
		c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (c->lock_fd < 0)
			err = -errno;
		else if (flock(c->lock_fd, LOCK_EX | LOCK_NB))
			err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	}
	snprintf(path, sizeof(path), "%s/tmp", c->root);
	if (!err)
		err = mkdir_0700(path);
	snprintf(path, sizeof(path), "%s/objects", c->root);
	if (!err)
		err = mkdir_0700(path);
	if (!err)
		err = sweep_tmp(c);
	if (err)
		goto out_err;
	err = -ENOMEM;
	c->nbuckets = 1024;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets)
		goto out_err;
	err = index_load(c);
	if (!err)
		err = index_compact_locked(c);
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
		r = entry_flush_locked(c, e);
		if (r && !err)
			err = r;
	}
	r = index_compact_locked(c);
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
			entry_close_fds(e);
			entry_free_maps(e);
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
	if (!key || !key_valid(key))
		return -EINVAL;
	if (size > CACHE_MAX_OBJECT_BYTES)
		return -EFBIG; /* the block count and offsets below must not wrap */
	pthread_mutex_lock(&c->lock);
	e = hash_find(c, key);
	if (e && e->size != size) {
		/* same key, other size: the sidecar is stale or the caller's key is wrong */
		if (e->refs || e->pins) {
			err = -ESTALE;
			goto out;
		}
		entry_destroy_locked(c, e);
		e = NULL;
	}
	if (!e) {
		err = -ENOENT;
		if (!(flags & CACHE_CREATE))
			goto out;
		err = evict_locked(c, 0, 1);
		if (err)
			goto out;
		err = -ENOMEM;
		e = entry_new(key, size, c->lim.block_size);
		if (!e)
			goto out;
		hash_add(c, e);
		lru_push_head(c, e);
		created = 1;
		/* logged before the files exist: a crash leaves an entry without files, which
		 * a later load recreates, never files that no entry accounts for */
		index_append(c, "E %s %" PRIu64 " 0 %" PRIu64 "\n", e->key, e->size, c->tick + 1);
	}
	if (!e->loaded) {
		err = entry_load_locked(c, e);
		if (err) {
			if (created)
				entry_destroy_locked(c, e);
			goto out;
		}
	} else if (!e->refs) {
		c->nloaded--;
	}
	e->doomed = 0; /* wanted again */
	e->refs++;
	touch_locked(c, e);
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
			entry_unload_locked(c, e);
		else
			c->nloaded++;
		if (e->starved && !e->doomed && !e->pins && e->npresent < e->nblocks) {
			c->st.evictions++;
			e->doomed = 1;
		}
		if (e->doomed && !e->pins)
			entry_destroy_locked(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

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
		return write_all(e->fd, buf, len, off);
	pthread_mutex_lock(&c->lock);
	if (e->dfd == -1) {
		entry_path(c, e->key, "data", path, sizeof(path));
		e->dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
		if (e->dfd < 0)
			e->dfd = -2;
	}
	dfd = e->dfd;
	pthread_mutex_unlock(&c->lock);
	if (dfd < 0)
		return write_all(e->fd, buf, len, off);
	err = write_all(dfd, buf, len, off);
	if (err == -EINVAL) /* the device wants a larger alignment: stay buffered */
		err = write_all(e->fd, buf, len, off);
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
	err = present(e, idx) ? 0 : evict_locked(c, len, 0);
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
		disk_err(c, err);
		return -ENOSPC;
	}
	if (err)
		return disk_err(c, err);

	pthread_mutex_lock(&c->lock);
	if (!present(e, idx)) {
		e->bitmap[idx / 8] |= (uint8_t)(1u << (idx % 8));
		e->npresent++;
		e->bytes += len;
		c->st.bytes += len;
	}
	e->crcs[idx] = crc;
	set_checked_locked(e, idx, 1);
	fingerprint_locked(e);
	e->dirty = 1;
	touch_locked(c, e);
	/* a complete object must survive a restart: it may back passthrough */
	if (e->npresent == e->nblocks)
		err = entry_flush_locked(c, e);
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
		fingerprint_locked(e);
	}
	pthread_mutex_unlock(&c->lock);
}

#define READ_COUNT_HIT 1 /* a caller's read (counted), not a verify pass */
#define READ_NO_TOUCH 2  /* the scrub: leave the LRU order alone */

/* Read and check block @idx. */
static ssize_t read_block(struct cache *c, struct cache_entry *e, uint64_t idx, void *buf,
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
		touch_locked(c, e);
	pthread_mutex_unlock(&c->lock);

	err = read_all(e->fd, buf, blen, (off_t)(idx * c->lim.block_size));
	if (err == -ENODATA) {
		/* the file got shorter under us: treat like corruption */
		drop_block(c, e, idx, crc);
		return -EBADMSG;
	}
	if (err)
		return disk_err(c, err);
	if (cache_crc32c(0, buf, blen) != crc) {
		drop_block(c, e, idx, crc);
		return -EBADMSG;
	}
	pthread_mutex_lock(&c->lock);
	if (present(e, idx) && e->crcs[idx] == crc)
		set_checked_locked(e, idx, 1);
	pthread_mutex_unlock(&c->lock);
	if (count_hit)
		count(&c->st.hits);
	return (ssize_t)blen;
}

ssize_t cache_read_block(struct cache *c, struct cache_entry *e, uint64_t idx, void *buf,
			 size_t len)
{
	return read_block(c, e, idx, buf, len, READ_COUNT_HIT);
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
	memset(e->checked, 0, (e->nblocks + 7) / 8 + 1);
	e->nchecked = 0;
	if (st && st->st_ino == e->fp_ino && (uint64_t)st->st_size == e->size) {
		e->fp_ctime_ns = ctime_ns(st); /* verified from here on */
		return;
	}
	/* another file: forget what the sidecar says, start from an empty data file */
	entry_close_fds(e);
	entry_path(c, e->key, "data", path, sizeof(path));
	unlink(path);
	c->st.bytes -= e->bytes;
	e->bytes = 0;
	e->npresent = 0;
	memset(e->bitmap, 0, (e->nblocks + 7) / 8);
	e->dirty = 1;
	e->fd = data_file_create(c, e); /* -errno: the next load tries again */
	fingerprint_locked(e);
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
	entry_path(c, e->key, "data", path, sizeof(path));
	have = !stat(path, &st);
	pthread_mutex_lock(&c->lock);
	if (e->npresent == e->nblocks && e->nchecked &&
	    (!have || st.st_ino != e->fp_ino || (uint64_t)st.st_size != e->fp_size ||
	     ctime_ns(&st) != e->fp_ctime_ns))
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
		n = read_block(c, e, i, buf, c->lim.block_size, 0);
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
		if (entry_load_locked(c, e)) {
			pthread_mutex_unlock(&c->lock);
			return 1; /* counted as progress: the next step moves on */
		}
	} else if (!e->refs) {
		c->nloaded--; /* as cache_lookup(): referenced entries are not counted */
	}
	e->refs++;
	pthread_mutex_unlock(&c->lock);

	for (i = 0; i < e->nblocks; i++) {
		n = read_block(c, e, i, buf, c->lim.block_size, READ_NO_TOUCH);
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

	entry_path(c, e->key, "data", path, sizeof(path));
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return disk_err(c, -errno);
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
		entry_destroy_locked(c, e);
	pthread_mutex_unlock(&c->lock);
}

/* Remove @key's entry now, or (@later) mark a referenced or pinned one to go at its last put. */
static int remove_entry(struct cache *c, const char *key, int later)
{
	struct cache_entry *e;
	int err = 0;

	if (!key || !key_valid(key))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	e = hash_find(c, key);
	if (!e) {
		err = -ENOENT;
	} else if (e->refs || e->pins) {
		err = -EBUSY;
		if (later) {
			e->doomed = 1;
			err = 1;
		}
	} else {
		entry_destroy_locked(c, e);
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

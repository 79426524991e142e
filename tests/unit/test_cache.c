// SPDX-License-Identifier: GPL-2.0
/* Unit tests for cache.c, each in a fresh temp dir with 4 KiB blocks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache.h"

#define BS 4096u

static char tmpdir[64], root[128];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cache.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	/* the cache makes its own root, below a private temp dir */
	snprintf(root, sizeof(root), "%s/cache", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

static struct cache *open_cache(uint64_t max_bytes, uint64_t max_files, double ratio)
{
	struct cache_limits lim = { .max_bytes = max_bytes, .max_files = max_files,
				    .min_free_ratio = ratio, .block_size = BS };
	struct cache *c;

	assert_int_equal(cache_open(&c, root, &lim), 0);
	return c;
}

static void mkkey(const char *name, char key[CACHE_KEY_LEN + 1])
{
	const char *parts[] = { "http://127.0.0.1:7480", "bucket", name, "\"etag1\"" };

	cache_key(parts, 4, key);
}

static void fill(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

/* an entry of @nblocks full blocks, all written, reference dropped */
static void add_object(struct cache *c, const char *name, unsigned int nblocks, int *err)
{
	char key[CACHE_KEY_LEN + 1], buf[BS];
	struct cache_entry *e;
	unsigned int i;

	mkkey(name, key);
	*err = cache_lookup(c, key, (uint64_t)nblocks * BS, CACHE_CREATE, &e);
	if (*err)
		return;
	for (i = 0; i < nblocks && !*err; i++) {
		fill(buf, BS, i);
		*err = cache_write_block(c, e, i, buf, BS);
	}
	cache_entry_put(c, e);
}

/* is object @name (of @nblocks full blocks) cached?  Counts as a use for the LRU. */
static int has_n(struct cache *c, const char *name, unsigned int nblocks)
{
	char key[CACHE_KEY_LEN + 1];
	struct cache_entry *e;

	mkkey(name, key);
	if (cache_lookup(c, key, (uint64_t)nblocks * BS, 0, &e))
		return 0;
	cache_entry_put(c, e);
	return 1;
}

#define has(c, name) has_n(c, name, 1)

static void test_crc32c(void **state)
{
	static const char big[] = "The quick brown fox jumps over the lazy dog, again and again.";

	/* the standard check value of CRC-32C */
	assert_int_equal(cache_crc32c(0, "123456789", 9), 0xe3069283);
	/* incremental == one shot, across the 8-byte stride */
	assert_int_equal(cache_crc32c(cache_crc32c(0, big, 13), big + 13, sizeof(big) - 13),
			 cache_crc32c(0, big, sizeof(big)));
	/* long buffers (the 3-lane loop) against a bit-at-a-time reference */
	{
		static uint8_t buf[3 * 8192 * 3 + 77];
		size_t lens[] = { 24575, 24576, 24577, 3 * 24576 + 5, sizeof(buf) }, i, k;
		uint32_t ref;

		fill(buf, sizeof(buf), 9);
		for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			ref = 0xffffffffu;
			for (i = 0; i < lens[k]; i++) {
				int b;

				ref ^= buf[i];
				for (b = 0; b < 8; b++)
					ref = ref & 1 ? (ref >> 1) ^ 0x82f63b78u : ref >> 1;
			}
			assert_int_equal(cache_crc32c(0, buf, lens[k]), ~ref);
			assert_int_equal(cache_crc32c(cache_crc32c(0, buf, 100), buf + 100,
						      lens[k] - 100), ~ref);
		}
	}
}

static void test_keys(void **state)
{
	const char *a[] = { "ab", "c" }, *b[] = { "a", "bc" };
	char ka[CACHE_KEY_LEN + 1], kb[CACHE_KEY_LEN + 1];
	struct cache_entry *e;
	struct cache *c;

	cache_key(a, 2, ka);
	cache_key(b, 2, kb);
	assert_int_equal(strlen(ka), CACHE_KEY_LEN);
	assert_string_not_equal(ka, kb);
	c = open_cache(0, 0, 0);
	assert_int_equal(cache_lookup(c, "../../etc/passwd", 1, CACHE_CREATE, &e), -EINVAL);
	assert_int_equal(cache_lookup(c, ka, 1, 0, &e), -ENOENT);
	cache_close(c);
}

static void test_roundtrip(void **state)
{
	char key[CACHE_KEY_LEN + 1], in[BS], out[BS], whole[2 * BS + 1808];
	const uint64_t size = 2 * BS + 1808;
	struct cache_stats st;
	struct cache_entry *e;
	struct cache *c;
	uint64_t i;
	int fd;

	c = open_cache(0, 0, 0);
	mkkey("obj", key);
	assert_int_equal(cache_lookup(c, key, size, CACHE_CREATE, &e), 0);
	assert_int_equal(cache_entry_nblocks(e), 3);
	assert_int_equal(cache_entry_block_len(c, e, 2), 1808);
	assert_int_equal(cache_read_block(c, e, 1, out, BS), -ENODATA);
	assert_int_equal(cache_is_complete(c, e), 0);
	/* wrong lengths are refused */
	assert_int_equal(cache_write_block(c, e, 2, in, BS), -EINVAL);
	assert_int_equal(cache_write_block(c, e, 3, in, BS), -EINVAL);

	for (i = 0; i < 3; i++) {
		size_t len = cache_entry_block_len(c, e, i);

		fill(in, len, (unsigned)i + 10);
		memcpy(whole + i * BS, in, len);
		assert_int_equal(cache_write_block(c, e, i, in, len), 0);
		assert_int_equal(cache_block_present(c, e, i), 1);
	}
	for (i = 0; i < 3; i++) {
		size_t len = cache_entry_block_len(c, e, i);

		assert_int_equal(cache_read_block(c, e, i, out, BS), len);
		assert_memory_equal(out, whole + i * BS, len);
	}
	assert_int_equal(cache_is_complete(c, e), 1);
	/* the data file is the object, byte for byte: passthrough can use it */
	fd = cache_open_data(c, e, O_RDONLY);
	assert_true(fd >= 0);
	{
		char back[sizeof(whole) + 10];

		assert_int_equal(pread(fd, back, sizeof(back), 0), size);
		assert_memory_equal(back, whole, size);
	}
	close(fd);
	cache_get_stats(c, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.bytes, size);
	cache_entry_put(c, e);

	/* a zero-length object is complete at once */
	mkkey("empty", key);
	assert_int_equal(cache_lookup(c, key, 0, CACHE_CREATE, &e), 0);
	assert_int_equal(cache_is_complete(c, e), 1);
	cache_entry_put(c, e);
	cache_close(c);
}

static void test_corruption(void **state)
{
	char key[CACHE_KEY_LEN + 1], in[BS], out[BS], path[512];
	struct cache_stats st;
	struct cache_entry *e;
	struct cache *c;
	int fd;

	c = open_cache(0, 0, 0);
	mkkey("flip", key);
	assert_int_equal(cache_lookup(c, key, 2 * BS, CACHE_CREATE, &e), 0);
	fill(in, BS, 1);
	assert_int_equal(cache_write_block(c, e, 0, in, BS), 0);
	assert_int_equal(cache_write_block(c, e, 1, in, BS), 0);
	assert_int_equal(cache_is_complete(c, e), 1);

	/* flip one byte of block 1 behind the cache's back */
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, key, key + 2, key);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	out[0] = (char)(in[100] ^ 0x20);
	assert_int_equal(pwrite(fd, out, 1, BS + 100), 1);
	close(fd);

	assert_int_equal(cache_read_block(c, e, 0, out, BS), BS);
	assert_int_equal(cache_read_block(c, e, 1, out, BS), -EBADMSG);
	/* dropped, never served: the next read is a plain miss */
	assert_int_equal(cache_block_present(c, e, 1), 0);
	assert_int_equal(cache_read_block(c, e, 1, out, BS), -ENODATA);
	assert_int_equal(cache_is_complete(c, e), 0);
	cache_get_stats(c, &st);
	assert_int_equal(st.crc_errors, 1);
	assert_int_equal(st.bytes, BS);
	/* refetched and stored again */
	assert_int_equal(cache_write_block(c, e, 1, in, BS), 0);
	assert_int_equal(cache_read_block(c, e, 1, out, BS), BS);
	assert_memory_equal(in, out, BS);
	assert_int_equal(cache_is_complete(c, e), 1);
	cache_entry_put(c, e);
	cache_close(c);

	/* a flip found only after a restart is caught by the completeness check too */
	fd = open(path, O_RDWR);
	assert_int_equal(pwrite(fd, "X", 1, 7), 1);
	close(fd);
	c = open_cache(0, 0, 0);
	assert_int_equal(cache_lookup(c, key, 2 * BS, 0, &e), 0);
	assert_int_equal(cache_block_present(c, e, 0), 1);
	assert_int_equal(cache_is_complete(c, e), 0);
	assert_int_equal(cache_block_present(c, e, 0), 0);
	cache_entry_put(c, e);
	cache_close(c);
}

/*
 * Blocks stored by this process count as checked: the completeness check does not read
 * them back (a cold read followed by an open must not read the object twice), while every
 * block read still checks its CRC.  Aligned buffers take the O_DIRECT path.
 */
static void test_stored_blocks_checked(void **state)
{
	char key[CACHE_KEY_LEN + 1], path[512], tmp[512];
	struct cache_stats st;
	struct cache_entry *e;
	struct cache *c;
	char *in = NULL, *out;
	int fd;

	assert_int_equal(posix_memalign((void **)&in, CACHE_DIRECT_ALIGN, 2 * BS), 0);
	out = malloc(BS);
	assert_non_null(out);
	c = open_cache(0, 0, 0);
	mkkey("stored", key);
	assert_int_equal(cache_lookup(c, key, 2 * BS, CACHE_CREATE, &e), 0);
	fill(in, 2 * BS, 3);
	assert_int_equal(cache_write_block(c, e, 0, in, BS), 0);
	assert_int_equal(cache_write_block(c, e, 1, in + BS, BS), 0);

	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, key, key + 2, key);
	/* stored here: trusted by the completeness check without reading it back */
	assert_int_equal(cache_is_complete(c, e), 1);
	assert_int_equal(cache_read_block(c, e, 0, out, BS), BS);
	assert_memory_equal(in, out, BS);
	/*
	 * ...until someone else writes the file: its ctime moves (past one timestamp tick
	 * of filesystems without fine-grained ctimes), every block is verified again, the
	 * bad one is dropped.
	 */
	usleep(20000);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, BS + 5), 1);
	close(fd);
	assert_int_equal(cache_is_complete(c, e), 0);
	cache_get_stats(c, &st);
	assert_int_equal(st.changed_behind, 1);
	assert_int_equal(st.crc_errors, 1);
	assert_int_equal(cache_block_present(c, e, 0), 1);
	assert_int_equal(cache_block_present(c, e, 1), 0);
	assert_int_equal(cache_read_block(c, e, 1, out, BS), -ENODATA);
	/* refetched and stored again: complete and trusted again */
	assert_int_equal(cache_write_block(c, e, 1, in + BS, BS), 0);
	assert_int_equal(cache_is_complete(c, e), 1);

	/* replaced under its name (another inode): emptied, nothing of it is served */
	usleep(20000);
	snprintf(tmp, sizeof(tmp), "%s/other", tmpdir);
	fd = open(tmp, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, in, 2 * BS, 0), 2 * BS);
	close(fd);
	assert_int_equal(rename(tmp, path), 0);
	assert_int_equal(cache_is_complete(c, e), 0);
	assert_int_equal(cache_block_present(c, e, 0), 0);
	assert_int_equal(cache_block_present(c, e, 1), 0);
	cache_get_stats(c, &st);
	assert_int_equal(st.changed_behind, 2);
	cache_entry_put(c, e);
	cache_close(c);
	free(in);
	free(out);
}

/* What a watcher of an entry saw when it was told (test_range_verified_and_watch). */
struct watch_log {
	int calls, stores;
	uint64_t off, len, soff, slen;
	int fd;            /* the data file, to look at its bytes at the call */
	int intact;        /* the bytes told about were still there (no hole yet) */
};

static void watch_cb(void *arg, int stored, uint64_t off, uint64_t len)
{
	struct watch_log *w = arg;
	char b[BS];

	if (stored) {
		/* told after the store: the block is verified already */
		w->stores++;
		w->soff = off;
		w->slen = len;
		return;
	}
	w->calls++;
	w->off = off;
	w->len = len;
	/* before the punch: the (corrupt) bytes are still in the file, not a hole of zeros */
	w->intact = len <= BS && pread(w->fd, b, len, (off_t)off) == (ssize_t)len &&
		    b[5] != 0;
}

/*
 * Which ranges may be served without a check (every block holding them present and
 * verified), and the watcher told before a block that failed its CRC is punched out.
 */
static void test_range_verified_and_watch(void **state)
{
	char key[CACHE_KEY_LEN + 1], in[BS], out[BS], path[512];
	struct watch_log w = { 0 };
	struct cache_entry *e;
	struct cache *c;

	c = open_cache(0, 0, 0);
	mkkey("partial", key);
	/* 3.5 blocks; blocks 0 and 3 (the short last one) stored */
	assert_int_equal(cache_lookup(c, key, 3 * BS + BS / 2, CACHE_CREATE, &e), 0);
	fill(in, BS, 1);
	assert_int_equal(cache_write_block(c, e, 0, in, BS), 0);
	assert_int_equal(cache_write_block(c, e, 3, in, BS / 2), 0);
	assert_int_equal(cache_range_verified(c, e, 0, BS), 1);
	assert_int_equal(cache_range_verified(c, e, 10, 100), 1);
	assert_int_equal(cache_range_verified(c, e, BS - 1, 2), 0);  /* into block 1 */
	assert_int_equal(cache_range_verified(c, e, BS, BS), 0);
	assert_int_equal(cache_range_verified(c, e, 3 * BS, BS / 2), 1);
	assert_int_equal(cache_range_verified(c, e, 3 * BS, BS / 2 + 1), 0); /* past EOF */
	assert_int_equal(cache_range_verified(c, e, 0, 0), 0);
	assert_int_equal(cache_range_verified(c, e, 0, 3 * BS + BS / 2), 0);

	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, key, key + 2, key);
	w.fd = open(path, O_RDWR);
	assert_true(w.fd >= 0);
	assert_int_equal(cache_entry_watch(c, e, watch_cb, &w), 0);
	assert_int_equal(cache_entry_watch(c, e, watch_cb, &w), -EBUSY); /* one watcher */
	/* block 0 goes bad on disk: the read drops it, the watcher hears first */
	out[0] = (char)(in[5] ^ 0x40);
	assert_int_equal(pwrite(w.fd, out, 1, 5), 1);
	assert_int_equal(cache_read_block(c, e, 0, out, BS), -EBADMSG);
	assert_int_equal(w.calls, 1);
	assert_true(w.off == 0 && w.len == BS);
	assert_int_equal(w.intact, 1);
	assert_int_equal(pread(w.fd, out, BS, 0), BS);
	assert_int_equal(out[5], 0); /* punched after */
	assert_int_equal(cache_range_verified(c, e, 0, BS), 0);
	/* a miss is no drop: not told */
	assert_int_equal(cache_read_block(c, e, 1, out, BS), -ENODATA);
	assert_int_equal(w.calls, 1);
	/* a store is told, after the block counts as verified; the short last one to EOF */
	assert_int_equal(w.stores, 0);
	assert_int_equal(cache_write_block(c, e, 1, in, BS), 0);
	assert_true(w.stores == 1 && w.soff == BS && w.slen == BS);
	assert_int_equal(cache_range_verified(c, e, BS, BS), 1);
	assert_int_equal(cache_write_block(c, e, 3, in, BS / 2), 0);
	assert_true(w.stores == 2 && w.soff == 3 * BS && w.slen == BS / 2);
	assert_int_equal(w.calls, 1);
	/* stopped watching: not told any more */
	assert_int_equal(cache_entry_watch(c, e, NULL, NULL), 0);
	assert_int_equal(pwrite(w.fd, "Z", 1, 3 * BS + 1), 1);
	assert_int_equal(cache_read_block(c, e, 3, out, BS), -EBADMSG);
	assert_int_equal(w.calls, 1);
	assert_int_equal(cache_write_block(c, e, 1, in, BS), 0);
	assert_int_equal(w.stores, 2);
	assert_int_equal(cache_entry_watch(c, e, watch_cb, &w), 0);
	assert_int_equal(cache_entry_watch(c, e, NULL, NULL), 0);
	close(w.fd);
	/* stored again, then a restart: present, but not verified until read back */
	assert_int_equal(cache_write_block(c, e, 0, in, BS), 0);
	assert_int_equal(cache_range_verified(c, e, 0, BS), 1);
	cache_entry_put(c, e);
	cache_close(c);
	c = open_cache(0, 0, 0);
	assert_int_equal(cache_lookup(c, key, 3 * BS + BS / 2, 0, &e), 0);
	assert_int_equal(cache_block_present(c, e, 0), 1);
	assert_int_equal(cache_range_verified(c, e, 0, BS), 0);
	assert_int_equal(cache_read_block(c, e, 0, out, BS), BS);
	assert_int_equal(cache_range_verified(c, e, 0, BS), 1);
	cache_entry_put(c, e);
	cache_close(c);
}

/* the scrub finds a bad byte that nothing else would (it reads every stored block) */
static void test_scrub(void **state)
{
	char key[CACHE_KEY_LEN + 1], path[512];
	struct cache_stats st;
	struct cache_entry *e;
	struct cache *c;
	int64_t n, total = 0;
	int err, fd, steps = 0;
	void *buf = malloc(BS);

	assert_non_null(buf);
	c = open_cache(0, 0, 0);
	add_object(c, "s1", 2, &err);
	assert_int_equal(err, 0);
	add_object(c, "s2", 3, &err);
	assert_int_equal(err, 0);
	mkkey("s2", key);
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, key, key + 2, key);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "Y", 1, 2 * BS + 9), 1);
	close(fd);
	while ((n = cache_scrub_step(c, buf)) > 0 && steps++ < 10)
		total += n;
	assert_int_equal(n, 0);
	assert_int_equal(total, 4 * BS); /* 5 blocks, the bad one not counted */
	cache_get_stats(c, &st);
	assert_int_equal(st.crc_errors, 1);
	assert_int_equal(st.scrubbed_bytes, 4 * BS);
	assert_int_equal(cache_lookup(c, key, 3 * BS, 0, &e), 0);
	assert_int_equal(cache_block_present(c, e, 1), 1);
	assert_int_equal(cache_block_present(c, e, 2), 0);
	assert_int_equal(cache_is_complete(c, e), 0);
	cache_entry_put(c, e);
	/* the next pass visits everything again */
	assert_true(cache_scrub_step(c, buf) > 0);
	cache_close(c);
	free(buf);
}

static void test_restart(void **state)
{
	char key[CACHE_KEY_LEN + 1], in[BS], out[BS];
	struct cache_stats st;
	struct cache_entry *e;
	struct cache *c;
	int err;

	c = open_cache(0, 0, 0);
	add_object(c, "a", 2, &err);
	assert_int_equal(err, 0);
	/* a partial object: one of three blocks */
	mkkey("partial", key);
	assert_int_equal(cache_lookup(c, key, 3 * BS, CACHE_CREATE, &e), 0);
	fill(in, BS, 42);
	assert_int_equal(cache_write_block(c, e, 1, in, BS), 0);
	cache_entry_put(c, e);
	cache_close(c);

	c = open_cache(0, 0, 0);
	cache_get_stats(c, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.bytes, 3 * BS);
	assert_int_equal(cache_lookup(c, key, 3 * BS, 0, &e), 0);
	assert_int_equal(cache_block_present(c, e, 0), 0);
	assert_int_equal(cache_read_block(c, e, 1, out, BS), BS);
	assert_memory_equal(in, out, BS);
	cache_entry_put(c, e);
	mkkey("a", key);
	assert_int_equal(cache_lookup(c, key, 2 * BS, 0, &e), 0);
	assert_int_equal(cache_is_complete(c, e), 1);
	cache_entry_put(c, e);
	/* the same key with another size is stale: gone */
	assert_int_equal(cache_lookup(c, key, 5, 0, &e), -ENOENT);
	cache_close(c);
}

/* a restart after a crash (no cache_close) keeps the blocks of complete objects */
static void test_restart_after_crash(void **state)
{
	char key[CACHE_KEY_LEN + 1], out[BS];
	struct cache_limits lim = { .block_size = BS };
	struct cache_entry *e;
	struct cache *c, *c2;
	int err, status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		c = open_cache(0, 0, 0);
		add_object(c, "crash", 2, &err);
		_exit(err ? 1 : 0);        /* dies holding the cache: no close, no sync */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	c = open_cache(0, 0, 0);
	mkkey("crash", key);
	assert_int_equal(cache_lookup(c, key, 2 * BS, 0, &e), 0);
	assert_int_equal(cache_read_block(c, e, 1, out, BS), BS);
	assert_int_equal(cache_is_complete(c, e), 1);
	cache_entry_put(c, e);
	/* one process per cache dir */
	assert_int_equal(cache_open(&c2, root, &lim), -EBUSY);
	cache_close(c);
}

static void test_evict_bytes_lru(void **state)
{
	struct cache_stats st;
	struct cache *c;
	int err;

	c = open_cache(4 * BS, 0, 0);
	add_object(c, "a", 2, &err);
	assert_int_equal(err, 0);
	add_object(c, "b", 2, &err);
	assert_int_equal(err, 0);
	assert_true(has_n(c, "a", 2)); /* a is now more recent than b */
	add_object(c, "c", 1, &err);   /* needs one block: b (least recent) goes */
	assert_int_equal(err, 0);
	assert_true(has_n(c, "a", 2));
	assert_false(has_n(c, "b", 2));
	assert_true(has(c, "c"));
	cache_get_stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_true(st.bytes <= 4 * BS);
	cache_close(c);

	/* the LRU order survives a restart */
	c = open_cache(4 * BS, 0, 0);
	assert_true(has(c, "c"));    /* order now: c, a */
	add_object(c, "d", 2, &err);
	assert_int_equal(err, 0);
	assert_false(has_n(c, "a", 2));
	assert_true(has(c, "c"));
	cache_get_stats(c, &st);
	assert_true(st.bytes <= 4 * BS);
	cache_close(c);
}

static void test_evict_never_pinned(void **state)
{
	char key[CACHE_KEY_LEN + 1], buf[BS];
	struct cache_entry *pinned, *busy;
	struct cache_stats st;
	struct cache *c;
	int err;

	c = open_cache(3 * BS, 0, 0);
	add_object(c, "pinned", 1, &err);
	mkkey("pinned", key);
	assert_int_equal(cache_lookup(c, key, BS, 0, &pinned), 0);
	cache_pin(c, pinned);
	cache_entry_put(c, pinned);          /* no reference, but pinned */
	add_object(c, "x", 1, &err);
	add_object(c, "y", 1, &err);
	assert_int_equal(err, 0);
	/* "pinned" is the least recent, yet x goes */
	add_object(c, "z", 1, &err);
	assert_int_equal(err, 0);
	assert_true(has(c, "pinned"));
	assert_false(has(c, "x"));

	/* referenced entries are safe too; with everything pinned or busy: -ENOSPC */
	mkkey("y", key);
	assert_int_equal(cache_lookup(c, key, BS, 0, &busy), 0);
	mkkey("z", key);
	assert_int_equal(cache_lookup(c, key, BS, 0, &pinned), 0);
	cache_pin(c, pinned);
	cache_entry_put(c, pinned);
	mkkey("w", key);
	assert_int_equal(cache_lookup(c, key, BS, CACHE_CREATE, &pinned), 0);
	fill(buf, BS, 3);
	assert_int_equal(cache_write_block(c, pinned, 0, buf, BS), -ENOSPC);
	assert_int_equal(cache_remove(c, key), -EBUSY);
	/* an entry that found no room and is incomplete goes with its last reference */
	cache_entry_put(c, pinned);
	assert_false(has(c, "w"));
	assert_int_equal(cache_remove(c, key), -ENOENT);
	assert_true(has(c, "y"));
	assert_true(has(c, "z"));
	assert_true(has(c, "pinned"));
	cache_entry_put(c, busy);
	cache_get_stats(c, &st);
	assert_true(st.bytes <= 3 * BS);

	/* unpinned, it can go */
	mkkey("pinned", key);
	assert_int_equal(cache_lookup(c, key, BS, 0, &pinned), 0);
	cache_unpin(c, pinned);
	cache_entry_put(c, pinned);
	assert_true(has(c, "y"));     /* y more recent than "pinned"; z still pinned */
	add_object(c, "v", 1, &err);
	assert_int_equal(err, 0);
	assert_false(has(c, "pinned"));
	cache_close(c);
}

static void test_evict_files_and_free_ratio(void **state)
{
	char key[CACHE_KEY_LEN + 1], buf[BS];
	struct cache_entry *e;
	struct cache_stats st;
	struct cache *c;
	int err;

	c = open_cache(0, 2, 0);
	add_object(c, "f1", 1, &err);
	add_object(c, "f2", 1, &err);
	add_object(c, "f3", 1, &err);
	assert_int_equal(err, 0);
	cache_get_stats(c, &st);
	assert_int_equal(st.entries, 2);
	assert_false(has(c, "f1"));
	cache_close(c);

	/* a free-space ratio no filesystem meets: a block write evicts every other object,
	 * then fails with -ENOSPC; so does making a new entry */
	c = open_cache(0, 0, 0);
	mkkey("g", key);
	assert_int_equal(cache_lookup(c, key, BS, CACHE_CREATE, &e), 0);
	cache_entry_put(c, e);
	cache_close(c);
	c = open_cache(0, 0, 1.0);
	assert_int_equal(cache_lookup(c, key, BS, 0, &e), 0);
	fill(buf, BS, 9);
	assert_int_equal(cache_write_block(c, e, 0, buf, BS), -ENOSPC);
	cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);   /* f2 and f3 went, g (referenced) stayed */
	assert_int_equal(st.evictions, 2);
	cache_entry_put(c, e);
	mkkey("h", key);
	assert_int_equal(cache_lookup(c, key, BS, CACHE_CREATE, &e), -ENOSPC);
	cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	cache_close(c);
}

/* cache_remove_later(): at once when idle, else with the last reference and pin */
static void test_remove_later(void **state)
{
	struct cache *c = open_cache(0, 0, 0);
	char key[CACHE_KEY_LEN + 1], path[512];
	struct cache_entry *e;
	struct cache_stats st;
	int err;

	(void)state;
	add_object(c, "idle", 1, &err);
	assert_int_equal(err, 0);
	mkkey("idle", key);
	assert_int_equal(cache_remove_later(c, key), 0);
	assert_int_equal(cache_remove_later(c, key), -ENOENT);

	/* referenced and pinned: marked, gone when both are dropped */
	add_object(c, "open", 1, &err);
	assert_int_equal(err, 0);
	mkkey("open", key);
	assert_int_equal(cache_lookup(c, key, BS, 0, &e), 0);
	cache_pin(c, e);
	assert_int_equal(cache_remove_later(c, key), 1);
	cache_entry_put(c, e);
	cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1); /* still pinned */
	cache_unpin(c, e);
	cache_get_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, key, key + 2, key);
	assert_int_equal(access(path, F_OK), -1);

	/* found again before its last reference went: kept */
	add_object(c, "again", 1, &err);
	assert_int_equal(err, 0);
	mkkey("again", key);
	assert_int_equal(cache_lookup(c, key, BS, 0, &e), 0);
	assert_int_equal(cache_remove_later(c, key), 1);
	assert_true(has(c, "again"));
	cache_entry_put(c, e);
	assert_true(has(c, "again"));
	cache_close(c);
}

static void check_mode(const char *path, mode_t want)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 07777) != want)
		fail_msg("%s has mode %o, want %o", path, st.st_mode & 07777, want);
}

static void test_permissions(void **state)
{
	char key[CACHE_KEY_LEN + 1], path[512];
	mode_t old = umask(0);
	struct cache *c;
	int err;

	c = open_cache(0, 0, 0);
	umask(old);
	add_object(c, "perm", 1, &err);
	assert_int_equal(err, 0);
	assert_int_equal(cache_sync(c), 0);
	mkkey("perm", key);
	check_mode(root, 0700);
	snprintf(path, sizeof(path), "%s/objects/%.2s", root, key);
	check_mode(path, 0700);
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s", root, key, key + 2);
	check_mode(path, 0700);
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, key, key + 2, key);
	check_mode(path, 0600);
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.meta", root, key, key + 2, key);
	check_mode(path, 0600);
	snprintf(path, sizeof(path), "%s/index", root);
	check_mode(path, 0600);
	snprintf(path, sizeof(path), "%s/lock", root);
	check_mode(path, 0600);
	snprintf(path, sizeof(path), "%s/tmp", root);
	check_mode(path, 0700);
	cache_close(c);

	/* an existing root with looser permissions is tightened */
	assert_int_equal(chmod(root, 0755), 0);
	c = open_cache(0, 0, 0);
	check_mode(root, 0700);
	cache_close(c);
}

static void test_tmp_swept(void **state)
{
	char path[512];
	struct cache *c;
	int fd;

	c = open_cache(0, 0, 0);
	cache_close(c);
	snprintf(path, sizeof(path), "%s/tmp/t.leftover", root);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
	c = open_cache(0, 0, 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	cache_close(c);
}

/* a torn or foreign index line does not stop the cache from opening */
static void test_torn_index(void **state)
{
	char path[512];
	struct cache *c;
	FILE *f;
	int err;

	c = open_cache(0, 0, 0);
	add_object(c, "kept", 1, &err);
	cache_close(c);
	snprintf(path, sizeof(path), "%s/index", root);
	f = fopen(path, "a");
	fputs("E 12ab", f);
	fclose(f);
	c = open_cache(0, 0, 0);
	assert_true(has(c, "kept"));
	cache_close(c);
}

/* the descriptor this process holds on @path, found through /proc/self/fd */
static int fd_of(const char *path)
{
	char link[64], target[512];
	ssize_t n;
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path))
			return fd;
	}
	return -1;
}

/* a failing cache disk: errors come back, are counted, and nothing is marked present */
static void test_disk_errors(void **state)
{
	char key[CACHE_KEY_LEN + 1], path[512], buf[BS];
	struct cache_entry *e;
	struct cache_stats st;
	struct cache *c;
	int fd, bad;

	c = open_cache(0, 0, 0);
	mkkey("disk", key);
	assert_int_equal(cache_lookup(c, key, 2 * BS, CACHE_CREATE, &e), 0);
	fill(buf, BS, 5);
	assert_int_equal(cache_write_block(c, e, 0, buf, BS), 0);
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, key, key + 2, key);
	fd = fd_of(path);
	assert_true(fd >= 0);
	/* writes to /dev/full fail with ENOSPC, like a full cache filesystem */
	bad = open("/dev/full", O_RDWR);
	assert_true(bad >= 0);
	assert_int_equal(dup2(bad, fd), fd);
	close(bad);
	assert_int_equal(cache_write_block(c, e, 1, buf, BS), -ENOSPC);
	assert_int_equal(cache_block_present(c, e, 1), 0);
	/* reads from it return zeros: the CRC catches them */
	assert_int_equal(cache_read_block(c, e, 0, buf, BS), -EBADMSG);
	/* an fd that cannot be read at all: an I/O error, counted */
	bad = open("/dev/null", O_WRONLY);
	assert_int_equal(dup2(bad, fd), fd);
	close(bad);
	assert_int_equal(cache_write_block(c, e, 0, buf, BS), 0);
	assert_int_equal(cache_read_block(c, e, 0, buf, BS), -EBADF);
	cache_get_stats(c, &st);
	assert_int_equal(st.disk_errors, 2);
	assert_int_equal(st.crc_errors, 1);
	cache_entry_put(c, e);
	cache_close(c);
}

struct stress {
	struct cache *c;
	unsigned int seed;
	int bad;
};

/* lookups, writes, reads and puts from several threads over a cache that keeps evicting:
 * every block read back must be the bytes written for that object and index */
static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	char key[CACHE_KEY_LEN + 1], name[16], buf[BS], want[BS];
	struct cache_entry *e;
	int i;

	for (i = 0; i < 300; i++) {
		unsigned int obj = (unsigned int)rand_r(&s->seed) % 8, blk;
		ssize_t n;

		snprintf(name, sizeof(name), "s%u", obj);
		mkkey(name, key);
		if (cache_lookup(s->c, key, 3 * BS, CACHE_CREATE, &e))
			continue;
		blk = (unsigned int)rand_r(&s->seed) % 3;
		fill(want, BS, obj * 10 + blk);
		n = cache_read_block(s->c, e, blk, buf, BS);
		if (n == BS && memcmp(buf, want, BS))
			s->bad++;
		else if (n != BS && n != -ENODATA)
			s->bad++;
		if (n != BS)
			cache_write_block(s->c, e, blk, want, BS);
		if (rand_r(&s->seed) % 4 == 0)
			cache_is_complete(s->c, e);
		cache_entry_put(s->c, e);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct stress s[4];
	pthread_t tid[4];
	struct cache_stats st;
	struct cache *c;
	int i;

	c = open_cache(6 * BS, 5, 0);
	for (i = 0; i < 4; i++) {
		s[i] = (struct stress){ .c = c, .seed = (unsigned int)i + 1 };
		assert_int_equal(pthread_create(&tid[i], NULL, stress_thread, &s[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(s[i].bad, 0);
	}
	cache_get_stats(c, &st);
	assert_true(st.bytes <= 6 * BS);
	assert_true(st.entries <= 5);
	assert_true(st.evictions > 0);
	assert_int_equal(st.crc_errors, 0);
	cache_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stored_blocks_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_verified_and_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scrub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_bytes_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_never_pinned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict_files_and_free_ratio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_swept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

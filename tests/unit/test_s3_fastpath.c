// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for backends/s3/backend_s3_fastpath.c: the deadline every value
 * published for an S3 node carries (the moment the daemon would revalidate
 * it: seen + list_ttl), and when the version published for OPEN is stale.
 * And the hold of a partly cached object's cache file for block entries: which
 * ranges are ready (stored and verified), the drop told before a block that
 * failed its CRC is punched, and a held version that is no longer the node's.
 */
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
#include <unistd.h>

#include <cmocka.h>

#include "backend_s3_priv.h"
#include "inode.h"

static void test_verdict(void **state)
{
	uint64_t until = 7;

	(void)state;
	/* seen at 100 s, list_ttl 10 s: published until 110 s, not a moment later */
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 101.5, &until), 0);
	assert_true(until == 110000000000ULL);
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 109.999, &until), 0);
	assert_true(until == 110000000000ULL);
	/* the deadline has come: the daemon revalidates first */
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 110.0, &until), -EAGAIN);
	assert_true(until == 0);
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 500.0, &until), -EAGAIN);
	/* never vouched for, or list_ttl 0 (every request revalidates): nothing */
	assert_int_equal(s3_fastpath_verdict(0.0, 10.0, 1.0, &until), -EAGAIN);
	assert_int_equal(s3_fastpath_verdict(100.0, 0.0, 100.0, &until), -EAGAIN);
}

static void test_held_stale(void **state)
{
	(void)state;
	assert_int_equal(s3_fastpath_held_stale(1, "\"e1\"", 4096, 0, "\"e1\"", 4096), 0);
	assert_int_equal(s3_fastpath_held_stale(1, "\"e2\"", 4096, 0, "\"e1\"", 4096), 1);
	assert_int_equal(s3_fastpath_held_stale(1, "\"e1\"", 4097, 0, "\"e1\"", 4096), 1);
	assert_int_equal(s3_fastpath_held_stale(0, "\"e1\"", 4096, 0, "\"e1\"", 4096), 1);
	assert_int_equal(s3_fastpath_held_stale(1, "\"e1\"", 4096, 1, "\"e1\"", 4096), 1);
}

#define BS 4096u

struct drops {
	int calls, stores;
	uint64_t off, len, soff, slen;
};

static void on_drop(void *arg, int stored, uint64_t off, uint64_t len)
{
	struct drops *d = arg;

	if (stored) {
		d->stores++;
		d->soff = off;
		d->slen = len;
		return;
	}
	d->calls++;
	d->off = off;
	d->len = len;
}

static void test_blocks_hold(void **state)
{
	char dir[64], root[128], path[512], cmd[160], buf[BS];
	const char *parts[] = { "e", "b", "k", "\"e1\"" }, *parts2[] = { "e", "b", "k", "\"e2\"" };
	struct cache_limits lim = { .block_size = BS };
	struct s3node n = { 0 };
	struct s3open o = { 0 }, w = { 0 }, o2;
	struct inode ino = { 0 }, ino2 = { 0 };
	struct backend be = { 0 };
	struct s3be sb = { 0 };
	struct drops d = { 0 }, d2 = { 0 };
	struct stat st;
	int fd, fd2, bad;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_s3_fastpath.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/cache", dir);
	assert_int_equal(cache_open(&sb.cache, root, &lim), 0);
	pthread_mutex_init(&sb.ns_lock, NULL);
	be.priv = &sb;
	/* a node at ETag e1, 3 blocks and 100 bytes; its open has blocks 0 and 2 cached */
	n.stage_fd = -1;
	n.exists = 1;
	n.size = 3 * BS + 100;
	snprintf(n.etag, sizeof(n.etag), "\"e1\"");
	ino.handle = &n;
	o.n = &n;
	o.size = n.size;
	snprintf(o.etag, sizeof(o.etag), "%s", n.etag);
	cache_key(parts, 4, o.ckey);
	assert_int_equal(cache_lookup(sb.cache, o.ckey, (uint64_t)o.size, CACHE_CREATE, &o.e), 0);
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(cache_write_block(sb.cache, o.e, 0, buf, BS), 0);
	assert_int_equal(cache_write_block(sb.cache, o.e, 2, buf, BS), 0);

	/* writers and complete (passthrough) opens hold nothing */
	w = o;
	w.writer = 1;
	assert_int_equal(s3_fastpath_blocks_hold(&be, &ino, &w, on_drop, &d), -EINVAL);
	w.writer = 0;
	w.pinned = 1;
	assert_int_equal(s3_fastpath_blocks_hold(&be, &ino, &w, on_drop, &d), -EINVAL);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, 0), -ESTALE); /* none held */

	fd = s3_fastpath_blocks_hold(&be, &ino, &o, on_drop, &d);
	assert_true(fd >= 0);
	/* the kernel's EOF: the backing file is at the object's size */
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size == n.size);
	assert_int_equal(s3_fastpath_blocks_hold(&be, &ino, &o, on_drop, &d), -EBUSY); /* watched already */
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, 0), 0);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, BS), 1);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 100, 200), 1);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, BS, BS), 0);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, BS - 1, 2), 0);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 2 * BS, BS), 1);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 3 * BS, 100), 0); /* not stored */
	/* a block stored while held is told, and ready */
	assert_int_equal(d.stores, 0);
	assert_int_equal(cache_write_block(sb.cache, o.e, 1, buf, BS), 0);
	assert_int_equal(d.stores, 1);
	assert_true(d.soff == BS && d.slen == BS);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, BS, BS), 1);

	/* block 2 goes bad on disk: the drop is told (before the punch: cache unit test) */
	snprintf(path, sizeof(path), "%s/objects/%.2s/%.2s/%s.data", root, o.ckey, o.ckey + 2,
		 o.ckey);
	bad = open(path, O_WRONLY);
	assert_true(bad >= 0);
	assert_int_equal(pwrite(bad, "b", 1, 2 * BS + 7), 1);
	close(bad);
	assert_int_equal(cache_read_block(sb.cache, o.e, 2, buf, BS), -EBADMSG);
	assert_int_equal(d.calls, 1);
	assert_true(d.off == 2 * BS && d.len == BS);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 2 * BS, BS), 0);

	/* the node moves on: another ETag, a staging file, deleted, another size */
	snprintf(n.etag, sizeof(n.etag), "\"e2\"");
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, BS), -ESTALE);
	/*
	 * another client's version is another inode of the node: it holds its own version
	 * while the old inode still holds the old one (its block entries go first)
	 */
	ino2.handle = &n;
	o2 = o;
	snprintf(o2.etag, sizeof(o2.etag), "\"e2\"");
	cache_key(parts2, 4, o2.ckey);
	assert_int_equal(cache_lookup(sb.cache, o2.ckey, (uint64_t)o2.size, CACHE_CREATE, &o2.e), 0);
	fd2 = s3_fastpath_blocks_hold(&be, &ino2, &o2, on_drop, &d2);
	assert_true(fd2 >= 0);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino2, 0, 0), 0);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, 0), -ESTALE);
	s3_fastpath_blocks_unhold(&be, &ino2);
	close(fd2);
	assert_null(ino2.fp.be_hold[S3_HOLD_BLOCKS]);
	assert_non_null(ino.fp.be_hold[S3_HOLD_BLOCKS]);
	cache_entry_put(sb.cache, o2.e);
	snprintf(n.etag, sizeof(n.etag), "\"e1\"");
	n.stage_fd = 99;
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, BS), -ESTALE);
	n.stage_fd = -1;
	n.exists = 0;
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, 0), -ESTALE);
	n.exists = 1;
	n.size++;
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, 0), -ESTALE);
	n.size--;
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, BS), 1);

	/* unheld: unpinned, not watched any more */
	s3_fastpath_blocks_unhold(&be, &ino);
	close(fd);
	assert_null(ino.fp.be_hold[S3_HOLD_BLOCKS]);
	assert_int_equal(s3_fastpath_blocks_ready(&be, &ino, 0, 0), -ESTALE);
	bad = open(path, O_WRONLY);
	assert_true(bad >= 0);
	assert_int_equal(pwrite(bad, "b", 1, 7), 1);
	close(bad);
	assert_int_equal(cache_read_block(sb.cache, o.e, 0, buf, BS), -EBADMSG);
	assert_int_equal(d.calls, 1);
	/* held again after the node moved on while the open was made: refused */
	n.exists = 0;
	assert_int_equal(s3_fastpath_blocks_hold(&be, &ino, &o, on_drop, &d), -ESTALE);
	n.exists = 1;

	cache_entry_put(sb.cache, o.e);
	cache_close(sb.cache); /* no pin or reference left (it would refuse) */
	pthread_mutex_destroy(&sb.ns_lock);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_held_stale),
		cmocka_unit_test(test_blocks_hold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

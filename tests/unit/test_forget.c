// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for forget.c: FORGET against the fast path's lookup counters,
 * with a fake fast path whose sync() stands for the RCU grace period: a BPF
 * LOOKUP "in flight" (it found the node's name before FORGET deleted it)
 * increments the node's counter when the grace period ends, or, if FORGET
 * never waits, whenever it gets to it (here: after FORGET returned).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "forget.h"
#include "inode.h"

#define NODES 256

struct fake_fp {
	uint64_t counter[NODES];  /* fp_nlookup by nodeid */
	int published[NODES];     /* the node's name is in the dentry map */
	uint64_t in_flight[NODES]; /* BPF lookups that found the name and have not incremented */
	int syncs, sync_err;
	int drops_before_sync;    /* names deleted before the (first) sync */
};

static struct fake_fp fake;
static int released;
static uint64_t released_id[NODES];

static void count_release(struct inode *ino, void *arg)
{
	(void)arg;
	free(ino->fp.name);
	ino->fp.name = NULL;
	released_id[released++ % NODES] = ino->nodeid;
}

static uint64_t fake_lookups(void *fp, uint64_t nodeid)
{
	struct fake_fp *f = fp;

	return nodeid < NODES ? f->counter[nodeid] : 0;
}

static void fake_drop_name(void *fp, uint64_t parent, const char *name)
{
	struct fake_fp *f = fp;
	unsigned long id = strtoul(name, NULL, 10);

	(void)parent;
	assert_true(id < NODES && f->published[id]);
	f->published[id] = 0;
	if (!f->syncs)
		f->drops_before_sync++;
}

/* the programs running now finish: their increments land */
static void finish_in_flight(struct fake_fp *f)
{
	int i;

	for (i = 0; i < NODES; i++) {
		f->counter[i] += f->in_flight[i];
		f->in_flight[i] = 0;
	}
}

static int fake_sync(void *fp)
{
	struct fake_fp *f = fp;

	f->syncs++;
	if (f->sync_err)
		return f->sync_err;
	finish_in_flight(f);
	return 0;
}

static const struct forget_fp_ops fake_ops = {
	.lookups = fake_lookups,
	.drop_name = fake_drop_name,
	.sync = fake_sync,
};

static int setup(void **state)
{
	static struct inode_table tbl;
	struct inode_key root = { 1, 2, 0 };

	memset(&fake, 0, sizeof(fake));
	released = 0;
	assert_int_equal(inode_table_init(&tbl, count_release, NULL), 0);
	assert_int_equal(inode_table_set_root(&tbl, &root, S_IFDIR, -1), 0);
	*state = &tbl;
	return 0;
}

static int teardown(void **state)
{
	inode_table_release(*state);
	return 0;
}

/* A node the daemon looked up once and published under the name "<nodeid>". */
static struct inode *published(struct inode_table *tbl, uint64_t key)
{
	struct inode_key k = { 7, key, 0 };
	int fd = -1;
	void *h = NULL;
	struct inode *ino = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);
	char name[24];

	assert_non_null(ino);
	assert_true(ino->nodeid < NODES);
	snprintf(name, sizeof(name), "%llu", (unsigned long long)ino->nodeid);
	ino->fp.parent = INODE_ROOT_ID;
	ino->fp.name = strdup(name);
	assert_non_null(ino->fp.name);
	fake.published[ino->nodeid] = 1;
	return ino;
}

static void forget(struct inode_table *tbl, struct inode *ino, uint64_t n)
{
	struct forget_item it = { .ino = ino, .n = n };

	forget_batch(tbl, &fake_ops, &fake, &it, 1);
}

/*
 * The race of issue #14: the kernel forgets the node's 1 + 2 lookups while a
 * BPF LOOKUP has found its name and not yet incremented the counter.  The
 * kernel then holds that lookup: the inode must stay, with 1 lookup.  Without
 * the grace period the fold misses it and the inode is freed (ESTALE later).
 */
static void test_inflight_lookup_survives(void **state)
{
	struct inode_table *tbl = *state;
	struct inode *a = published(tbl, 10);
	uint64_t id = a->nodeid;

	fake.counter[id] = 2;   /* two lookups BPF answered, the kernel forgets them */
	fake.in_flight[id] = 1; /* a third one in flight */
	forget(tbl, a, 1 + 2);
	finish_in_flight(&fake); /* (no-op if FORGET waited for it) */
	assert_int_equal(released, 0);
	assert_ptr_equal(inode_get(tbl, id), a);
	assert_int_equal(a->nlookup, 1);
	assert_int_equal(fake.published[id], 0);
	assert_int_equal(fake.drops_before_sync, 1);
	assert_int_equal(fake.syncs, 1);
	forget(tbl, a, 1); /* the kernel forgets that one too */
	assert_int_equal(released, 1);
	assert_null(inode_get(tbl, id));
	assert_int_equal(fake.syncs, 2);
}

/* A BATCH_FORGET of many nodes waits once, not once per node. */
static void test_batch_one_grace_period(void **state)
{
	struct inode_table *tbl = *state;
	struct forget_item items[200];
	struct inode *keep = published(tbl, 1000);
	int i;

	for (i = 0; i < 199; i++) {
		items[i].ino = published(tbl, 2000 + i);
		fake.counter[items[i].ino->nodeid] = i % 3;
		items[i].n = 1 + i % 3;
	}
	items[199].ino = keep; /* forgets 1 of 2: keeps its name, is not waited for */
	items[199].n = 1;
	inode_ref(tbl, keep, 1);
	forget_batch(tbl, &fake_ops, &fake, items, 200);
	assert_int_equal(fake.syncs, 1);
	assert_int_equal(fake.drops_before_sync, 199);
	assert_int_equal(released, 199);
	assert_int_equal(fake.published[keep->nodeid], 1);
	assert_int_equal(keep->nlookup, 1);
	assert_int_equal(inode_table_count(tbl), 2);
}

/* No count reaches 0: no name deleted, no wait. */
static void test_no_wait_while_counted(void **state)
{
	struct inode_table *tbl = *state;
	struct inode *a = published(tbl, 11);

	fake.counter[a->nodeid] = 4;
	forget(tbl, a, 3);
	assert_int_equal(fake.syncs, 0);
	assert_int_equal(fake.published[a->nodeid], 1);
	assert_int_equal(a->nlookup, 2);
	assert_int_equal(released, 0);
}

/*
 * A node twice in one batch (evicted, looked up, evicted again): its count
 * reaches 0 at the second item, which must still delete the name and wait.
 */
static void test_node_twice_in_batch(void **state)
{
	struct inode_table *tbl = *state;
	struct inode *a = published(tbl, 12);
	uint64_t id = a->nodeid;
	struct forget_item items[2] = { { .ino = a, .n = 2 }, { .ino = a, .n = 1 } };

	fake.counter[id] = 2;
	fake.in_flight[id] = 1;
	forget_batch(tbl, &fake_ops, &fake, items, 2);
	finish_in_flight(&fake);
	assert_int_equal(released, 0);
	assert_int_equal(a->nlookup, 1);
	assert_int_equal(fake.syncs, 1);
	assert_int_equal(fake.published[id], 0);
}

/* The kernel refuses the wait: fold without it (the old behaviour), no leak. */
static void test_failed_wait_still_folds(void **state)
{
	struct inode_table *tbl = *state;
	struct inode *a = published(tbl, 13), *b = published(tbl, 14);

	fake.sync_err = -ENOSYS;
	fake.counter[a->nodeid] = 1;
	fake.counter[b->nodeid] = 5;
	forget(tbl, a, 2);
	assert_int_equal(fake.syncs, 1);
	assert_int_equal(released, 1);
	inode_ref(tbl, b, 1);
	forget(tbl, b, 7);
	assert_int_equal(released, 2);
	assert_int_equal(inode_table_count(tbl), 1);
}

/* A release while FORGET waits does not free the inode under it. */
static void test_hold_defers_last_close(void **state)
{
	struct inode_table *tbl = *state;
	struct inode *a = published(tbl, 15);
	uint64_t id = a->nodeid;

	a->nopen = 1;
	assert_int_equal(inode_forget_hold(tbl, a, 1), 1);
	inode_put_open(tbl, a); /* the last close, while FORGET waits */
	assert_int_equal(released, 0);
	assert_ptr_equal(inode_get(tbl, id), a);
	inode_settle(tbl, a);
	assert_int_equal(released, 1);
	assert_null(inode_get(tbl, id));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inflight_lookup_survives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_one_grace_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_wait_while_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_twice_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_wait_still_folds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_defers_last_close, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

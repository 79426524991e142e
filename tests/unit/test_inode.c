// SPDX-License-Identifier: GPL-2.0
/* Unit tests for inode.c: nodeid allocation, lookup counting, forget. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "inode.h"

static int released;
static void *h;

static void count_release(struct inode *ino, void *arg)
{
	(void)ino;
	(void)arg;
	released++;
}

static int setup(void **state)
{
	static struct inode_table tbl;
	struct inode_key root = { 1, 2, 0 };

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

static void test_root(void **state)
{
	struct inode_table *tbl = *state;
	struct inode *root = inode_get(tbl, INODE_ROOT_ID);

	assert_non_null(root);
	inode_forget(tbl, root, 1000); /* the root is pinned */
	assert_ptr_equal(inode_get(tbl, INODE_ROOT_ID), root);
	assert_int_equal(released, 0);
}

static void test_same_key_same_inode(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k = { 5, 77, 0 };
	int fd1 = 100, fd2 = 101;
	struct inode *a, *b;

	a = inode_add_lookup(tbl, &k, S_IFREG, &fd1, &h);
	assert_non_null(a);
	assert_int_equal(fd1, -1); /* taken over */
	assert_int_equal(a->fd, 100);
	b = inode_add_lookup(tbl, &k, S_IFREG, &fd2, &h);
	assert_ptr_equal(a, b);
	assert_int_equal(fd2, 101); /* left to the caller */
	assert_int_equal(a->nlookup, 2);
	assert_true(a->nodeid > INODE_ROOT_ID);
	inode_forget(tbl, a, 1);
	assert_int_equal(released, 0);
	assert_ptr_equal(inode_get(tbl, a->nodeid), a);
	inode_forget(tbl, a, 1);
	assert_int_equal(released, 1);
}

static int same_answer;

static int fake_same(struct inode *ino, int fd, void *handle, void *arg)
{
	(void)ino, (void)fd, (void)handle, (void)arg;
	return same_answer;
}

/*
 * The source reused a gone object's identity (ext4 hands out inode numbers again) while
 * the kernel still holds the old inode: another file type, or a backend that says the
 * object is not the same, gets a new inode; the old one stays reachable by nodeid.
 */
static void test_reused_key_new_inode(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k = { 5, 78, 0 };
	int fd1 = 100, fd2 = 101, fd3 = 102;
	struct inode *a, *b, *c;

	a = inode_add_lookup(tbl, &k, S_IFREG | 0644, &fd1, &h);
	assert_non_null(a);
	b = inode_add_lookup(tbl, &k, S_IFLNK | 0777, &fd2, &h);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(fd2, -1); /* the new inode took it */
	assert_int_equal(b->type, S_IFLNK);
	assert_ptr_equal(inode_get(tbl, a->nodeid), a);
	assert_ptr_equal(inode_get(tbl, b->nodeid), b);
	/* same type, but the backend says another object */
	tbl->same = fake_same;
	same_answer = 0;
	c = inode_add_lookup(tbl, &k, S_IFLNK | 0777, &fd3, &h);
	assert_ptr_not_equal(c, b);
	same_answer = 1;
	fd3 = 103;
	assert_ptr_equal(inode_add_lookup(tbl, &k, S_IFLNK | 0777, &fd3, &h), c);
	assert_int_equal(fd3, 103);
	tbl->same = NULL;
	/* the old ones go with their forgets, without touching the new one */
	inode_forget(tbl, a, 1);
	inode_forget(tbl, b, 1);
	assert_ptr_equal(inode_get(tbl, c->nodeid), c);
	inode_forget(tbl, c, 2);
	assert_int_equal(released, 3);
}

/*
 * Another generation of one number (S3: another client's version) is another inode, and
 * both are found by their own key: the old one while the kernel still holds it, the new
 * one by every later lookup.
 */
static void test_generation_new_inode(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k0 = { 5, 79, 0 }, k1 = { 5, 79, 1 };
	int fd = -1;
	uint64_t told;
	struct inode *a, *b;

	a = inode_add_lookup(tbl, &k0, S_IFREG, &fd, &h);
	b = inode_add_lookup(tbl, &k1, S_IFREG, &fd, &h);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_not_equal(a->nodeid, b->nodeid);
	assert_int_equal(inode_nodeid_of(tbl, &k0, &told), a->nodeid);
	assert_int_equal(inode_nodeid_of(tbl, &k1, &told), b->nodeid);
	assert_ptr_equal(inode_add_lookup(tbl, &k1, S_IFREG, &fd, &h), b);
	assert_int_equal(b->nlookup, 2);
	assert_int_equal(a->nlookup, 1);
	inode_forget(tbl, a, 1);
	assert_int_equal(released, 1);
	assert_int_equal(inode_nodeid_of(tbl, &k0, &told), 0);
	assert_int_equal(inode_nodeid_of(tbl, &k1, &told), b->nodeid);
	inode_forget(tbl, b, 2);
	assert_int_equal(released, 2);
}

static void test_nodeids_not_reused(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k = { 5, 1, 0 };
	int fd = 3;
	struct inode *a = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);
	uint64_t first = a->nodeid;

	inode_forget(tbl, a, 1);
	fd = 3;
	a = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);
	assert_true(a->nodeid != first);
	assert_null(inode_get(tbl, first));
}

static void test_open_keeps_forgotten_inode(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k = { 9, 9, 0 };
	int fd = 4;
	struct inode *a = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);

	a->nopen = 1;
	inode_forget(tbl, a, 1);
	assert_int_equal(released, 0);
	inode_put_open(tbl, a); /* the last close */
	assert_int_equal(released, 1);
}

static void test_close_keeps_looked_up_inode(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k = { 9, 10, 0 };
	int fd = 4;
	struct inode *a = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);

	a->nopen = 2;
	inode_put_open(tbl, a);
	inode_put_open(tbl, a); /* the kernel still holds its lookup */
	assert_int_equal(released, 0);
	assert_int_equal(a->nopen, 0);
	inode_forget(tbl, a, 1);
	assert_int_equal(released, 1);
}

static void test_overforget_clamps(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k = { 1, 1000, 0 };
	int fd = 5;
	struct inode *a = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);

	inode_ref(tbl, a, 2);
	assert_int_equal(a->nlookup, 3);
	inode_forget(tbl, a, 10);
	assert_int_equal(released, 1);
}

static void test_many_inodes_grow(void **state)
{
	struct inode_table *tbl = *state;
	uint64_t i;

	for (i = 0; i < 10000; i++) {
		struct inode_key k = { 2, i, 0 };
		int fd = 7;

		assert_non_null(inode_add_lookup(tbl, &k, S_IFREG, &fd, &h));
	}
	assert_int_equal(inode_table_count(tbl), 10001);
	for (i = 0; i < 10000; i++) {
		struct inode_key k = { 2, i, 0 };
		int fd = 8;
		struct inode *a = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);

		assert_int_equal(fd, 8); /* found, not created */
		assert_ptr_equal(inode_get(tbl, a->nodeid), a);
		inode_forget(tbl, a, 2);
	}
	assert_int_equal(inode_table_count(tbl), 1);
	assert_int_equal(released, 10000);
}

/*
 * Two FORGET threads read the fast path's counter at 5 and at 7 and fold in
 * the other order: 7 lookups were answered in the kernel, so 7 are added,
 * once; a later reading of 7 adds nothing.  A mark that moved back to 5
 * would add 2 more and the inode would never reach 0.
 */
static void test_fold_bpf_lookups_out_of_order(void **state)
{
	struct inode_table *tbl = *state;
	struct inode_key k = { 3, 33, 0 };
	int fd = 100;
	struct inode *a = inode_add_lookup(tbl, &k, S_IFREG, &fd, &h);

	assert_non_null(a);
	inode_fold_bpf_lookups(tbl, a, 7);
	inode_fold_bpf_lookups(tbl, a, 5);
	inode_fold_bpf_lookups(tbl, a, 7);
	assert_int_equal(a->nlookup, 1 + 7);
	inode_forget(tbl, a, 8); /* the kernel forgets 1 own + 7 in-kernel lookups */
	assert_int_equal(released, 1);
	assert_int_equal(inode_table_count(tbl), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_key_same_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reused_key_new_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_new_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodeids_not_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_keeps_forgotten_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_keeps_looked_up_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overforget_clamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_inodes_grow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fold_bpf_lookups_out_of_order, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for fs/file.c: the last release of an open and the kernel's
 * FORGET of the same inode race (an interrupted OPEN/CREATE reply releases
 * its open while the kernel forgets the inode): exactly one of them must free
 * it, and neither may touch it afterwards.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "file.h"
#include "inode.h"

#define ROUNDS 200000

static int released;

static void count_release(struct inode *ino, void *arg)
{
	(void)ino;
	(void)arg;
	__atomic_add_fetch(&released, 1, __ATOMIC_RELAXED);
}

/* Both threads spin to start each round together: sleeping barriers spread them too far. */
struct race {
	struct fs *fs;
	struct inode *ino;
	int round; /* the releaser starts round n when it is n (atomic) */
	int done;  /* the last round the releaser finished (atomic) */
	int stop;
};

static void *releaser(void *arg)
{
	struct race *r = arg;
	int n;

	for (n = 1;; n++) {
		while (__atomic_load_n(&r->round, __ATOMIC_ACQUIRE) < n)
			;
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			return NULL;
		file_release(r->fs, NULL, r->ino);
		__atomic_store_n(&r->done, n, __ATOMIC_RELEASE);
	}
}

static void test_release_races_forget(void **state)
{
	static struct fs fs;
	struct inode_key root = { 1, 2 };
	struct race r = { .fs = &fs };
	pthread_t t;
	int i, fd;
	void *h = NULL;

	(void)state;
	memset(&fs, 0, sizeof(fs));
	assert_int_equal(inode_table_init(&fs.inodes, count_release, NULL), 0);
	assert_int_equal(inode_table_set_root(&fs.inodes, &root, S_IFDIR, -1), 0);
	assert_int_equal(pthread_create(&t, NULL, releaser, &r), 0);
	for (i = 0; i < ROUNDS; i++) {
		struct inode_key k = { 7, (uint64_t)i + 10 };

		fd = -1;
		r.ino = inode_add_lookup(&fs.inodes, &k, S_IFREG, &fd, &h);
		assert_non_null(r.ino);
		r.ino->nopen = 1; /* an open whose reply was interrupted */
		__atomic_store_n(&r.round, i + 1, __ATOMIC_RELEASE);
		inode_forget(&fs.inodes, r.ino, 1); /* the kernel's FORGET, at the same time */
		while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) < i + 1)
			;
		assert_int_equal(released, i + 1); /* freed once, and only once */
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r.round, ROUNDS + 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(inode_table_count(&fs.inodes), 1); /* the root */
	inode_table_release(&fs.inodes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_races_forget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

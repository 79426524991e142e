// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for fs/file.c: the last release of an open and the kernel's
 * FORGET of the same inode race (an interrupted OPEN/CREATE reply releases
 * its open while the kernel forgets the inode): exactly one of them must free
 * it, and neither may touch it afterwards.  And the backing file of an inode
 * published for OPENs the kernel answers (no RELEASE comes for those) outlives
 * the last release the daemon sees, until the inode is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define FUSE_USE_VERSION 317
#include <fuse_lowlevel.h>

#include "backend.h"
#include "file.h"
#include "fs.h"
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
		file_release(r->fs, r->ino);
		__atomic_store_n(&r->done, n, __ATOMIC_RELEASE);
	}
}

static void test_release_races_forget(void **state)
{
	static struct fs fs;
	struct inode_key root = { 1, 2, 0 };
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
		struct inode_key k = { 7, (uint64_t)i + 10, 0 };

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

static struct fs pub_fs;

/* what fs_ops.c's release_inode does last: the published backing file goes */
static void release_published(struct inode *ino, void *arg)
{
	(void)arg;
	file_release_published(&pub_fs, ino);
	__atomic_add_fetch(&released, 1, __ATOMIC_RELAXED);
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static const struct backend_ops plain_ops = { .name = "plain" };

/*
 * A backend whose backing files hold one version (S3): it says when the
 * version published for OPEN is stale, and sees the unpin only after the
 * node no longer names the backing id and the id is closed (or left to the
 * opens still using it).
 */
static int stale_now, unholds, unhold_fd = -1, unhold_fd_open, unhold_open_id;
static struct inode *unhold_ino;

static int fake_check(struct backend *be, struct inode *ino, uint64_t *until_ns, int *stale)
{
	(void)be;
	(void)ino;
	*until_ns = 12345;
	*stale = stale_now;
	return 0;
}

static int fake_hold(struct backend *be, struct inode *ino, void *priv, int backing_fd)
{
	(void)be;
	(void)backing_fd;
	(void)ino;
	(void)priv;
	return 0;
}

static void fake_unhold(struct backend *be, struct inode *ino)
{
	(void)be;
	unholds++;
	unhold_ino = ino;
	unhold_fd_open = unhold_fd >= 0 && fcntl(unhold_fd, F_GETFD) != -1;
	unhold_open_id = file_open_id(ino);
}

static const struct backend_ops snapshot_ops = {
	.name = "snapshot",
	.fastpath_check = fake_check,
	.fastpath_hold = fake_hold,
	.fastpath_unhold = fake_unhold,
};

static void test_published_backing_outlives_release(void **state)
{
	struct inode_key root = { 1, 2, 0 }, k = { 7, 99, 0 };
	struct inode *ino;
	int p[2], fd = -1, rel0;
	void *h = NULL;

	(void)state;
	memset(&pub_fs, 0, sizeof(pub_fs)); /* no session, no fast path: nothing sent */
	pub_fs.be.ops = &plain_ops;
	assert_int_equal(inode_table_init(&pub_fs.inodes, release_published, NULL), 0);
	assert_int_equal(inode_table_set_root(&pub_fs.inodes, &root, S_IFDIR, -1), 0);
	ino = inode_add_lookup(&pub_fs.inodes, &k, S_IFREG, &fd, &h);
	assert_non_null(ino);
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	/* a read-only passthrough open whose backing file was published for OPEN */
	ino->nopen = 1;
	ino->backing_fd = p[0];
	ino->backing_id = 5;
	ino->fp.open_id = 5;
	pub_fs.fp_opens = 1;
	assert_int_equal(file_open_id(ino), 5);
	rel0 = released;
	/* the last release the daemon sees: the kernel may still hold opens it answered */
	file_release(&pub_fs, ino);
	assert_int_equal(ino->nopen, 0);
	assert_int_equal(ino->backing_id, 5);
	assert_true(fd_open(p[0]));
	assert_int_equal(file_open_id(ino), 5);
	assert_int_equal(released, rel0);
	/* FORGET: the inode goes, and its backing file with it */
	inode_forget(&pub_fs.inodes, ino, 1);
	assert_int_equal(released, rel0 + 1);
	assert_false(fd_open(p[0]));
	assert_int_equal(pub_fs.fp_opens, 0);
	inode_table_release(&pub_fs.inodes);
}

static int fd_open(int fd);

/* A stale published version is unpublished (id, then its backing file) before the unpin. */
static void test_stale_version_unpublished_before_unpin(void **state)
{
	struct inode_key root = { 1, 2, 0 }, k = { 7, 99, 0 };
	struct inode *ino;
	int p[2], fd = -1;
	uint64_t until;
	void *h = NULL;

	(void)state;
	memset(&pub_fs, 0, sizeof(pub_fs));
	pub_fs.be.ops = &snapshot_ops;
	assert_int_equal(inode_table_init(&pub_fs.inodes, release_published, NULL), 0);
	assert_int_equal(inode_table_set_root(&pub_fs.inodes, &root, S_IFDIR, -1), 0);
	ino = inode_add_lookup(&pub_fs.inodes, &k, S_IFREG, &fd, &h);
	assert_non_null(ino);
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	/* published for OPEN, no open the daemon knows of */
	ino->backing_fd = p[0];
	ino->backing_id = 5;
	ino->fp.open_id = 5;
	pub_fs.fp_opens = 1;
	unhold_fd = p[0];
	unholds = 0;
	/* the version is current: nothing happens, the deadline comes through */
	stale_now = 0;
	assert_int_equal(file_fastpath_until(&pub_fs, ino, &until), 0);
	assert_true(until == 12345);
	assert_int_equal(unholds, 0);
	assert_int_equal(file_open_id(ino), 5);
	/* stale: unpublished, the backing file closed, and only then unpinned */
	stale_now = 1;
	assert_int_equal(file_fastpath_until(&pub_fs, ino, &until), 0);
	assert_int_equal(unholds, 1);
	assert_ptr_equal(unhold_ino, ino);
	assert_int_equal(unhold_open_id, 0);
	assert_false(unhold_fd_open);
	assert_int_equal(ino->backing_id, 0);
	assert_int_equal(pub_fs.fp_opens, 0);
	/* nothing left to unpublish */
	assert_int_equal(file_fastpath_until(&pub_fs, ino, &until), 0);
	assert_int_equal(unholds, 1);

	/* again with an open the daemon knows: the backing file stays for it */
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	ino->nopen = 1;
	ino->backing_fd = p[0];
	ino->backing_id = 6;
	ino->fp.open_id = 6;
	pub_fs.fp_opens = 1;
	unhold_fd = p[0];
	assert_int_equal(file_fastpath_until(&pub_fs, ino, &until), 0);
	assert_int_equal(unholds, 2);
	assert_int_equal(unhold_open_id, 0);
	assert_true(unhold_fd_open);
	assert_int_equal(ino->backing_id, 6);
	/* no FORGET unpins twice */
	ino->nopen = 0;
	inode_forget(&pub_fs.inodes, ino, 1);
	assert_int_equal(unholds, 2);
	inode_table_release(&pub_fs.inodes);
	stale_now = 0;
}

/*
 * An open the backend serves itself (its version is not complete in the
 * cache) while another version is published for OPEN: the published one is
 * unpublished first, so the open does not fail with EBUSY against the old
 * backing file.
 */
static void test_direct_open_unpublishes(void **state)
{
	struct inode_key root = { 1, 2, 0 }, k = { 7, 99, 0 };
	struct open_file of = { .fd = -1, .direct = 1 };
	struct fuse_file_info fi;
	struct inode *ino;
	int p[2], fd = -1;
	void *h = NULL;

	(void)state;
	memset(&pub_fs, 0, sizeof(pub_fs));
	pub_fs.be.ops = &snapshot_ops;
	assert_int_equal(inode_table_init(&pub_fs.inodes, release_published, NULL), 0);
	assert_int_equal(inode_table_set_root(&pub_fs.inodes, &root, S_IFDIR, -1), 0);
	ino = inode_add_lookup(&pub_fs.inodes, &k, S_IFREG, &fd, &h);
	assert_non_null(ino);
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	ino->backing_fd = p[0];
	ino->backing_id = 5;
	ino->fp.open_id = 5;
	pub_fs.fp_opens = 1;
	unhold_fd = p[0];
	unholds = 0;
	stale_now = 0; /* the backend's check would not even say it */
	memset(&fi, 0, sizeof(fi));
	fi.fh = (uintptr_t)&of;
	fi.flags = O_RDONLY;
	assert_int_equal(file_open(&pub_fs, NULL, ino, &fi, 1), 0);
	assert_int_equal(unholds, 1);
	assert_int_equal(file_open_id(ino), 0);
	assert_int_equal(ino->backing_id, 0);
	assert_false(fd_open(p[0]));
	assert_int_equal(ino->nopen, 1);
	file_release(&pub_fs, ino);
	inode_forget(&pub_fs.inodes, ino, 1);
	assert_int_equal(unholds, 1);
	inode_table_release(&pub_fs.inodes);
}

/*
 * Which fast-path blocks (64 KiB) a range touches: the ones whose entries a READ of it
 * needs, and which a drop of it (a cache block of 1 MiB) must delete.
 */
static void test_blocks_span(void **state)
{
	uint64_t f, e, n = 321; /* 20 MiB + 12345 bytes */

	(void)state;
	file_blocks_span(0, 65536, n, &f, &e);
	assert_true(f == 0 && e == 1);
	file_blocks_span(0, 65537, n, &f, &e);
	assert_true(f == 0 && e == 2);
	file_blocks_span(65535, 2, n, &f, &e);
	assert_true(f == 0 && e == 2);
	/* a 1 MiB cache block: 16 of them */
	file_blocks_span(3 << 20, 1 << 20, n, &f, &e);
	assert_true(f == 48 && e == 64);
	/* the short last cache block ends at the last fast-path block */
	file_blocks_span(20 << 20, 1 << 20, n, &f, &e);
	assert_true(f == 320 && e == 321);
	/* everything, and nothing past the end */
	file_blocks_span(0, UINT64_MAX, n, &f, &e);
	assert_true(f == 0 && e == n);
	file_blocks_span(UINT64_MAX - 10, UINT64_MAX, n, &f, &e);
	assert_true(f == e);
	file_blocks_span(400ULL << 16, 1, n, &f, &e);
	assert_true(f == e);
	file_blocks_span(0, 0, n, &f, &e);
	assert_true(f == e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_races_forget),
		cmocka_unit_test(test_published_backing_outlives_release),
		cmocka_unit_test(test_stale_version_unpublished_before_unpin),
		cmocka_unit_test(test_direct_open_unpublishes),
		cmocka_unit_test(test_blocks_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

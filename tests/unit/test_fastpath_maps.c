// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for kernel/fastpath.c's map protocol on real BPF hash maps of
 * the running kernel (no FUSE hook needed: the maps are made here with the
 * value layouts of fastpath_abi.h, spin lock included): negative entries
 * against creates (fastpath_drop_negative()), their cap, and the OPEN part of
 * inode values (fastpath_set_open()).  The interleavings are fixed: a LOOKUP
 * that read "no such name" before a create's backend call publishes after it.
 * Skips (77) only when the kernel refuses to make the maps (no BPF, no
 * CAP_BPF), saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* the module itself, to build its private struct fastpath around our maps */
#include "../../src/kernel/fastpath.c"

static struct fastpath *ks;

/* a BTF "struct { lock; u8 rest[] }" value and "struct { u8 k[] }" key, for BPF_F_LOCK */
static int locked_map(const char *name, uint32_t ksize, uint32_t vsize, int *fd)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct btf *btf = btf__new_empty();
	int u8, u32, lock, karr, key, varr, val, err;

	if (!btf)
		return -ENOMEM;
	u8 = btf__add_int(btf, "unsigned char", 1, 0);
	u32 = btf__add_int(btf, "unsigned int", 4, 0);
	lock = btf__add_struct(btf, "bpf_spin_lock", 4);
	btf__add_field(btf, "val", u32, 0, 0);
	karr = btf__add_array(btf, u32, u8, ksize);
	key = btf__add_struct(btf, "k", ksize);
	btf__add_field(btf, "k", karr, 0, 0);
	varr = btf__add_array(btf, u32, u8, vsize - 4);
	val = btf__add_struct(btf, "v", vsize);
	btf__add_field(btf, "lock", lock, 0, 0);
	btf__add_field(btf, "rest", varr, 32, 0);
	err = btf__load_into_kernel(btf);
	if (err)
		goto out;
	opts.btf_fd = btf__fd(btf);
	opts.btf_key_type_id = (uint32_t)key;
	opts.btf_value_type_id = (uint32_t)val;
	opts.map_flags = BPF_F_NO_PREALLOC;
	*fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, ksize, vsize, 64, &opts);
	err = *fd < 0 ? *fd : 0;
out:
	btf__free(btf);
	return err;
}

static int setup(void **state)
{
	LIBBPF_OPTS(bpf_map_create_opts, plain, .map_flags = BPF_F_NO_PREALLOC);
	int err;

	(void)state;
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -1;
	pubseq_init(&ks->seq);
	ks->link_fd = ks->sync_outer = ks->sync_inner = -1;
	ks->maps[FP_DENTRIES].name = BPFUSE_FP_DENTRY_MAP;
	ks->maps[FP_INODES].name = BPFUSE_FP_INODE_MAP;
	ks->maps[FP_NLOOKUP].name = BPFUSE_FP_NLOOKUP_MAP;
	ks->maps[FP_BLOCKS].name = BPFUSE_FP_BLOCK_MAP;
	ks->negative_max = 3;
	err = locked_map("t_dentries", sizeof(struct bpfuse_fp_dentry_key),
			 sizeof(struct bpfuse_fp_dentry), &ks->dentries);
	err = err ?: locked_map("t_inodes", sizeof(uint64_t), sizeof(struct bpfuse_fp_inode),
				&ks->inodes);
	err = err ?: locked_map("t_blocks", sizeof(struct bpfuse_fp_block_key),
				sizeof(struct bpfuse_fp_block), &ks->blocks);
	if (!err) {
		ks->nlookup = bpf_map_create(BPF_MAP_TYPE_HASH, "t_nlookup", 8, 8, 64, &plain);
		err = ks->nlookup < 0 ? ks->nlookup : 0;
	}
	if (err) {
		fprintf(stderr, "SKIP: the kernel makes no BPF hash map with a spin lock here: %s\n",
			strerror(-err));
		exit(77);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(ks->dentries);
	close(ks->inodes);
	close(ks->blocks);
	close(ks->nlookup);
	pubseq_destroy(&ks->seq);
	free(ks);
	return 0;
}

/* the dentry value of (parent, name): 1 positive, 0 negative, -1 none */
static int entry_kind(uint64_t parent, const char *name)
{
	struct bpfuse_fp_dentry_key k;
	struct bpfuse_fp_dentry v;

	assert_int_equal(dentry_key(&k, parent, name), 0);
	if (bpf_map_lookup_elem_flags(ks->dentries, &k, &v, BPF_F_LOCK))
		return -1;
	return v.v.nodeid ? 1 : 0;
}

static struct stat reg_stat(void)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 0644;
	st.st_size = 4096;
	st.st_nlink = 1;
	return st;
}

/* A create as fs_ops does it: drop before, backend, drop the negative, reply (@publish). */
static void create(uint64_t dir, const char *name, uint64_t nodeid, int publish)
{
	struct stat st = reg_stat();
	uint64_t tc;

	fastpath_drop_name(ks, dir, name); /* unpublish_name() */
	fastpath_drop_attr(ks, dir);
	tc = fastpath_begin(ks);
	/* ... the backend creates the name ... */
	fastpath_drop_negative(ks, dir, name);
	fastpath_drop_attr(ks, dir);
	if (publish) /* a create opened for writing publishes nothing (note_entry()) */
		assert_int_equal(fastpath_put_entry(ks, dir, name, nodeid, &st, tc, 0, 1, 0), 1);
}

static void test_negative_served_and_deleted(void **state)
{
	uint64_t t;

	(void)state;
	t = fastpath_begin(ks);
	assert_int_equal(fastpath_put_negative(ks, 10, "nope", 0, t), 1);
	assert_int_equal(entry_kind(10, "nope"), 0);
	/* a create deletes it, and its own positive reply is published */
	create(10, "nope", 20, 1);
	assert_int_equal(entry_kind(10, "nope"), 1);
	fastpath_drop_name(ks, 10, "nope");
	assert_int_equal(__atomic_load_n(&ks->negatives, __ATOMIC_RELAXED), 0);
}

/* LOOKUP read "no such name" after the create's first drop, before its backend call;
 * it publishes after the create replied (without a positive entry of its own). */
static void test_negative_read_before_create_published_after(void **state)
{
	uint64_t t, tc;

	(void)state;
	fastpath_drop_name(ks, 11, "late"); /* the create: unpublish_name() */
	fastpath_drop_attr(ks, 11);
	tc = fastpath_begin(ks);
	t = fastpath_begin(ks); /* the LOOKUP's ticket, then its backend read: ENOENT */
	/* ... the backend creates "late" ... */
	fastpath_drop_negative(ks, 11, "late");
	fastpath_drop_attr(ks, 11);
	/* the create replies, publishing nothing (opened for writing) */
	assert_int_equal(fastpath_put_negative(ks, 11, "late", 0, t), 0);
	assert_int_equal(entry_kind(11, "late"), -1);
	(void)tc;
}

/* ... and publishes between the create's backend call and its negative drop */
static void test_negative_published_before_create_drop(void **state)
{
	uint64_t t, tc;

	(void)state;
	fastpath_drop_name(ks, 12, "mid");
	fastpath_drop_attr(ks, 12);
	tc = fastpath_begin(ks);
	t = fastpath_begin(ks);
	/* the backend creates "mid"; the LOOKUP (which read before) publishes now */
	assert_int_equal(fastpath_put_negative(ks, 12, "mid", 0, t), 1);
	fastpath_drop_negative(ks, 12, "mid");
	assert_int_equal(entry_kind(12, "mid"), -1);
	(void)tc;
}

static void test_negative_never_over_positive_and_capped(void **state)
{
	struct stat st = reg_stat();
	uint64_t t = fastpath_begin(ks);
	uint64_t r0 = ks->negatives_refused;

	(void)state;
	assert_int_equal(fastpath_put_entry(ks, 13, "there", 22, &st, t, 0, 1, 0), 1);
	assert_int_equal(fastpath_put_negative(ks, 13, "there", 0, t), 0);
	assert_int_equal(entry_kind(13, "there"), 1);
	/* at most negative_max (3 here) */
	assert_int_equal(fastpath_put_negative(ks, 13, "a", 0, t), 1);
	assert_int_equal(fastpath_put_negative(ks, 13, "b", 0, t), 1);
	assert_int_equal(fastpath_put_negative(ks, 13, "c", 0, t), 1);
	assert_int_equal(fastpath_put_negative(ks, 13, "d", 0, t), 0);
	assert_int_equal(entry_kind(13, "d"), -1);
	assert_int_equal(ks->negatives_refused, r0 + 1);
	fastpath_drop_name(ks, 13, "a");
	assert_int_equal(fastpath_put_negative(ks, 13, "d", 0, fastpath_begin(ks)), 1);
	fastpath_drop_name(ks, 13, "b");
	fastpath_drop_name(ks, 13, "c");
	fastpath_drop_name(ks, 13, "d");
	fastpath_drop_name(ks, 13, "there");
	assert_int_equal(__atomic_load_n(&ks->negatives, __ATOMIC_RELAXED), 0);
}

static int inode_val(uint64_t nodeid, struct bpfuse_fp_inode *v)
{
	return bpf_map_lookup_elem_flags(ks->inodes, &nodeid, v, BPF_F_LOCK);
}

static void test_set_open(void **state)
{
	struct stat st = reg_stat(), dir;
	struct bpfuse_fp_inode v;
	uint64_t t = fastpath_begin(ks);

	(void)state;
	/* nothing published: nothing created */
	assert_int_equal(fastpath_set_open(ks, 30, 7), 0);
	assert_int_not_equal(inode_val(30, &v), 0);
	assert_int_equal(fastpath_put_attr(ks, 30, &st, t, 0, 1, 0), 1);
	assert_int_equal(inode_val(30, &v), 0);
	assert_int_equal(v.v.open_backing_id, 0);
	assert_int_equal(fastpath_set_open(ks, 30, 7), 1);
	assert_int_equal(inode_val(30, &v), 0);
	assert_int_equal(v.v.open_backing_id, 7);
	assert_int_equal(v.v.open_flags, BPFUSE_FP_FOPEN_PASSTHROUGH | BPFUSE_FP_FOPEN_NOFLUSH);
	assert_int_equal(v.v.attr.size, 4096);
	assert_int_equal(v.v.attr.mode, S_IFREG | 0644);
	/* a drop wins: the value stays gone */
	fastpath_drop_attr(ks, 30);
	assert_int_equal(fastpath_set_open(ks, 30, 7), 0);
	assert_int_not_equal(inode_val(30, &v), 0);
	/* later publications carry the id */
	assert_int_equal(fastpath_put_attr(ks, 30, &st, fastpath_begin(ks), 7, 1, 0), 1);
	assert_int_equal(inode_val(30, &v), 0);
	assert_int_equal(v.v.open_backing_id, 7);
	/* never for anything but a regular file */
	memset(&dir, 0, sizeof(dir));
	dir.st_mode = S_IFDIR | 0755;
	assert_int_equal(fastpath_put_attr(ks, 31, &dir, fastpath_begin(ks), 7, 1, 0), 1);
	assert_int_equal(inode_val(31, &v), 0);
	assert_int_equal(v.v.open_backing_id, 0);
	assert_int_equal(v.v.open_flags, 0);
	/* without passthrough: flags, no backing id; 0 takes the answer back */
	assert_int_equal(fastpath_set_open(ks, 30, FASTPATH_OPEN_CACHED), 1);
	assert_int_equal(inode_val(30, &v), 0);
	assert_int_equal(v.v.open_backing_id, 0);
	assert_int_equal(v.v.open_flags, BPFUSE_FP_FOPEN_NOFLUSH);
	assert_int_equal(fastpath_set_open(ks, 30, FASTPATH_OPEN_CACHED_KEEP), 1);
	assert_int_equal(inode_val(30, &v), 0);
	assert_int_equal(v.v.open_backing_id, 0);
	assert_int_equal(v.v.open_flags, BPFUSE_FP_FOPEN_NOFLUSH | BPFUSE_FP_FOPEN_KEEP_CACHE);
	assert_int_equal(fastpath_set_open(ks, 30, 0), 1);
	assert_int_equal(inode_val(30, &v), 0);
	assert_int_equal(v.v.open_flags, 0);
	assert_int_equal(fastpath_put_attr(ks, 31, &dir, fastpath_begin(ks), FASTPATH_OPEN_CACHED,
					       1, 0), 1);
	assert_int_equal(inode_val(31, &v), 0);
	assert_int_equal(v.v.open_flags, 0);
	fastpath_drop_attr(ks, 30);
	fastpath_drop_attr(ks, 31);
}

/* fastpath_max_age: every value written carries now + the age as its deadline */
static void test_deadlines(void **state)
{
	struct stat st = reg_stat();
	struct bpfuse_fp_dentry_key k;
	struct bpfuse_fp_dentry d;
	struct bpfuse_fp_inode v;
	uint64_t t0, t1;

	(void)state;
	ks->max_age_ns = 5 * NSEC_PER_SEC;
	t0 = mono_ns();
	assert_int_equal(fastpath_put_entry(ks, 40, "aged", 41, &st, fastpath_begin(ks), 0, 1, 0), 1);
	assert_int_equal(fastpath_put_negative(ks, 40, "gone", 0, fastpath_begin(ks)), 1);
	t1 = mono_ns();
	assert_int_equal(inode_val(41, &v), 0);
	assert_true(v.v.expires_ns >= t0 + ks->max_age_ns && v.v.expires_ns <= t1 + ks->max_age_ns);
	dentry_key(&k, 40, "aged");
	assert_int_equal(bpf_map_lookup_elem_flags(ks->dentries, &k, &d, BPF_F_LOCK), 0);
	assert_true(d.v.expires_ns >= t0 + ks->max_age_ns && d.v.expires_ns <= t1 + ks->max_age_ns);
	dentry_key(&k, 40, "gone");
	assert_int_equal(bpf_map_lookup_elem_flags(ks->dentries, &k, &d, BPF_F_LOCK), 0);
	assert_true(d.v.expires_ns >= t0 + ks->max_age_ns && d.v.expires_ns <= t1 + ks->max_age_ns);
	/* the OPEN rewrite keeps the deadline the attributes were published with */
	assert_int_equal(fastpath_set_open(ks, 41, 9), 1);
	assert_int_equal(inode_val(41, &v), 0);
	assert_true(v.v.expires_ns <= t1 + ks->max_age_ns);
	/* a backend's revalidation deadline: the earlier of the two */
	t0 = mono_ns();
	assert_int_equal(fastpath_put_attr(ks, 41, &st, fastpath_begin(ks), 9, 1, t0 + 1000), 1);
	assert_int_equal(inode_val(41, &v), 0);
	assert_true(v.v.expires_ns == t0 + 1000);
	assert_int_equal(fastpath_put_entry(ks, 40, "aged", 41, &st, fastpath_begin(ks), 0, 1,
					    t0 + 2000), 1);
	dentry_key(&k, 40, "aged");
	assert_int_equal(bpf_map_lookup_elem_flags(ks->dentries, &k, &d, BPF_F_LOCK), 0);
	assert_true(d.v.expires_ns == t0 + 2000);
	assert_int_equal(inode_val(41, &v), 0);
	assert_true(v.v.expires_ns == t0 + 2000);
	assert_int_equal(fastpath_put_attr(ks, 41, &st, fastpath_begin(ks), 9, 1,
					   t0 + 100 * NSEC_PER_SEC), 1);
	t1 = mono_ns();
	assert_int_equal(inode_val(41, &v), 0);
	assert_true(v.v.expires_ns <= t1 + ks->max_age_ns);
	ks->max_age_ns = 0;
	assert_int_equal(fastpath_put_attr(ks, 41, &st, fastpath_begin(ks), 9, 1, t0 + 7), 1);
	assert_int_equal(inode_val(41, &v), 0);
	assert_true(v.v.expires_ns == t0 + 7);
	/* without an age: no deadline */
	assert_int_equal(fastpath_put_attr(ks, 41, &st, fastpath_begin(ks), 9, 1, 0), 1);
	assert_int_equal(inode_val(41, &v), 0);
	assert_int_equal(v.v.expires_ns, 0);
	fastpath_drop_name(ks, 40, "aged");
	fastpath_drop_name(ks, 40, "gone");
	fastpath_drop_node(ks, 41);
}

/*
 * Data versions: one in-place inode write makes the old blocks stale; a
 * publication that read before the change cannot put the old version back;
 * the OPEN rewrite keeps the version.
 */
static void test_data_version(void **state)
{
	struct stat st = reg_stat();
	struct bpfuse_fp_block_key bk = { .nodeid = 50, .block = 2 };
	struct bpfuse_fp_block b;
	struct bpfuse_fp_inode v;
	uint64_t before, dv1, dv2;

	(void)state;
	dv1 = fastpath_new_data_version(ks);
	dv2 = fastpath_new_data_version(ks);
	assert_true(dv1 && dv2 && dv1 != dv2);
	/* nothing published: nothing created */
	assert_int_equal(fastpath_set_data_version(ks, 50, dv1), 0);
	assert_int_not_equal(inode_val(50, &v), 0);
	assert_int_equal(fastpath_put_attr(ks, 50, &st, fastpath_begin(ks), 0, dv1, 0), 1);
	assert_int_equal(fastpath_put_block(ks, 50, 2, 3, dv1), 1);
	assert_int_equal(bpf_map_lookup_elem_flags(ks->blocks, &bk, &b, BPF_F_LOCK), 0);
	assert_true(b.v.data_version == dv1 && b.v.backing_id == 3 && b.v.block == 2 &&
		    b.v.nodeid == 50 && b.v.version);
	assert_int_equal(inode_val(50, &v), 0);
	assert_true(v.v.data_version == dv1);
	/* a GETATTR read the old bytes' attributes, then the bytes change */
	before = fastpath_begin(ks);
	assert_int_equal(fastpath_set_data_version(ks, 50, dv2), 1);
	assert_int_equal(inode_val(50, &v), 0);
	assert_true(v.v.data_version == dv2);
	assert_int_equal(v.v.attr.size, 4096); /* in place: the attributes stay */
	assert_int_equal(fastpath_put_attr(ks, 50, &st, before, 0, dv1, 0), 0);
	assert_int_equal(inode_val(50, &v), 0);
	assert_true(v.v.data_version == dv2);
	/* the OPEN rewrite keeps it */
	assert_int_equal(fastpath_set_open(ks, 50, 4), 1);
	assert_int_equal(inode_val(50, &v), 0);
	assert_true(v.v.data_version == dv2 && v.v.open_backing_id == 4);
	/* no block without a version */
	assert_int_equal(fastpath_put_block(ks, 50, 3, 3, 0), 0);
	fastpath_drop_block(ks, 50, 2);
	assert_int_not_equal(bpf_map_lookup_elem_flags(ks->blocks, &bk, &b, BPF_F_LOCK), 0);
	fastpath_drop_node(ks, 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negative_served_and_deleted),
		cmocka_unit_test(test_negative_read_before_create_published_after),
		cmocka_unit_test(test_negative_published_before_create_drop),
		cmocka_unit_test(test_negative_never_over_positive_and_capped),
		cmocka_unit_test(test_set_open),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_data_version),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

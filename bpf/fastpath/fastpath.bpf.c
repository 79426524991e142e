// SPDX-License-Identifier: GPL-2.0
/*
 * bpfuse fast path: a struct fuse_bpf_ops that answers LOOKUP (also "no such
 * name"), GETATTR, read-only OPEN, IOCTL (ENOTTY) and READ of one FUSE
 * connection from maps that the daemon keeps, and upcalls everything else.
 * Needs a kernel with kernel-patches/6.12; map layouts and coherence rules
 * are in include/bpfuse/fastpath_abi.h.
 *
 * A miss is never an error: whenever a map lacks an entry, an entry is stale
 * or a kfunc refuses the reply, the request goes to the daemon unchanged.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpfuse/fastpath_abi.h"
#include "fastpath.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * The dentry, inode, lookup-counter and block maps are not preallocated
 * (BPF_F_NO_PREALLOC): max_entries is a cap, set by the daemon before load
 * from fastpath_entries= and fastpath_blocks=, and the memory follows what
 * is published.  Only the daemon inserts (programs look up and increment in
 * place), so no element is ever allocated in a program; docs/kernel-hook.md,
 * "Map sizes", says why the consistent reads below hold all the same.
 */

/* log2 of the daemon's cache block size; set before load */
const volatile __u32 block_shift = BPFUSE_FP_BLOCK_SHIFT_DEFAULT;
/*
 * The cookie the daemon attaches the link with (its connection number),
 * set before load (BPFUSE_FP_COOKIE_VAR): requests carrying another are
 * not ours to answer.  0 (unset) checks nothing; the daemon's connection
 * numbers are never 0 (anonymous device minors start at 1).
 */
const volatile __u64 conn_cookie;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_DENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bpfuse_fp_dentry_key);
	__type(value, struct bpfuse_fp_dentry);
} fp_dentries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_INODES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct bpfuse_fp_inode);
} fp_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_INODES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u64);
} fp_nlookup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_BLOCKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bpfuse_fp_block_key);
	__type(value, struct bpfuse_fp_block);
} fp_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPFUSE_FP_STAT_NR);
	__type(key, __u32);
	__type(value, __u64);
} fp_stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *cnt = bpf_map_lookup_elem(&fp_stats, &idx);

	if (cnt)
		*cnt += 1;
}

/*
 * Consistent reads (fastpath_abi.h, docs/kernel-hook.md): a value is copied
 * to the stack under its lock; then the key is looked up again, and the copy
 * is used only if the same element comes back, still holding exactly the
 * copied words (compared under the lock), and the copy names the key.  The
 * daemon updates existing elements in place under the lock (BPF_F_LOCK), so
 * an update is seen whole or not at all; an element deleted and reused for
 * another key (the kernel initialises a reused element without the lock) is
 * not returned by the second lookup, and is therefore never served.
 * Nothing but loads and stores may run under a bpf_spin_lock.
 */
static __always_inline int words_equal(const void *a, const void *b, int nwords)
{
	const __u64 *x = a, *y = b;
	int i, eq = 1;

	for (i = 0; i < nwords; i++)
		if (x[i] != y[i])
			eq = 0;
	return eq;
}

/* A value's deadline (fastpath_max_age) has passed: counted, and the request upcalls */
static __always_inline int past(__u64 expires_ns)
{
	if (!expires_ns || bpf_ktime_get_ns() < expires_ns)
		return 0;
	stat_inc(BPFUSE_FP_STAT_EXPIRED);
	return 1;
}

struct inode_hdr {
	__u64 nodeid, version, generation, data_version, attr_ttl_ns;
};

/* The tail of the inode value: how a read-only OPEN is answered, and the deadline */
struct inode_open {
	__u32 backing_id, flags;
	__u64 expires_ns;
};

_Static_assert(sizeof(struct inode_hdr) == __builtin_offsetof(struct bpfuse_fp_inode_v, attr),
	       "inode header");
_Static_assert(sizeof(struct fuse_attr) == sizeof(struct bpfuse_fp_attr), "fuse_attr size");
_Static_assert(__builtin_offsetof(struct bpfuse_fp_inode_v, open_backing_id) ==
		       sizeof(struct inode_hdr) + sizeof(struct fuse_attr) &&
	       sizeof(struct bpfuse_fp_inode_v) ==
		       sizeof(struct inode_hdr) + sizeof(struct fuse_attr) + sizeof(struct inode_open),
	       "inode open tail");

/*
 * @nodeid's inode entry: its header to @hdr, its attributes to @attr (flags
 * cleared), its OPEN answer to @op.
 */
static __always_inline int read_inode(__u64 nodeid, struct inode_hdr *hdr, struct fuse_attr *attr,
				      struct inode_open *op)
{
	struct bpfuse_fp_inode *p, *q;
	int eq;

	p = bpf_map_lookup_elem(&fp_inodes, &nodeid);
	if (!p)
		return -1;
	bpf_spin_lock(&p->lock);
	__builtin_memcpy(hdr, &p->v, sizeof(*hdr));
	__builtin_memcpy(attr, &p->v.attr, sizeof(*attr));
	__builtin_memcpy(op, &p->v.open_backing_id, sizeof(*op));
	bpf_spin_unlock(&p->lock);
	q = bpf_map_lookup_elem(&fp_inodes, &nodeid);
	if (!q || q != p)
		goto unstable;
	bpf_spin_lock(&p->lock);
	eq = words_equal(hdr, &p->v, sizeof(*hdr) / 8) &&
	     words_equal(attr, &p->v.attr, sizeof(*attr) / 8) &&
	     words_equal(op, &p->v.open_backing_id, sizeof(*op) / 8);
	bpf_spin_unlock(&p->lock);
	if (!eq || hdr->nodeid != nodeid || !hdr->version)
		goto unstable;
	if (past(op->expires_ns))
		return -1;
	attr->flags = 0;
	return 0;
unstable:
	stat_inc(BPFUSE_FP_STAT_UNSTABLE);
	return -1;
}

static __always_inline int read_dentry(const struct bpfuse_fp_dentry_key *key,
				       struct bpfuse_fp_dentry_v *dv)
{
	struct bpfuse_fp_dentry *p, *q;
	int eq;

	p = bpf_map_lookup_elem(&fp_dentries, key);
	if (!p)
		return -1;
	bpf_spin_lock(&p->lock);
	*dv = p->v;
	bpf_spin_unlock(&p->lock);
	q = bpf_map_lookup_elem(&fp_dentries, key);
	if (!q || q != p)
		goto unstable;
	bpf_spin_lock(&p->lock);
	eq = words_equal(dv, &p->v, sizeof(*dv) / 8);
	bpf_spin_unlock(&p->lock);
	if (!eq || dv->parent != key->parent || dv->name_hash != bpfuse_fp_name_hash(key) ||
	    !dv->version)
		goto unstable;
	if (past(dv->expires_ns))
		return -1;
	return 0;
unstable:
	stat_inc(BPFUSE_FP_STAT_UNSTABLE);
	return -1;
}

static __always_inline int read_block(const struct bpfuse_fp_block_key *key,
				      struct bpfuse_fp_block_v *bv)
{
	struct bpfuse_fp_block *p, *q;
	int eq;

	p = bpf_map_lookup_elem(&fp_blocks, key);
	if (!p)
		return -1;
	bpf_spin_lock(&p->lock);
	*bv = p->v;
	bpf_spin_unlock(&p->lock);
	q = bpf_map_lookup_elem(&fp_blocks, key);
	if (!q || q != p)
		goto unstable;
	bpf_spin_lock(&p->lock);
	eq = words_equal(bv, &p->v, sizeof(*bv) / 8);
	bpf_spin_unlock(&p->lock);
	if (!eq || bv->nodeid != key->nodeid || bv->block != key->block || !bv->version)
		goto unstable;
	return 0;
unstable:
	stat_inc(BPFUSE_FP_STAT_UNSTABLE);
	return -1;
}

/* The dentry entry of the LOOKUP's name: 0 and *dv, or -1.  Own frame: the key is big. */
static __noinline int find_dentry(struct fuse_bpf_req *req, struct bpfuse_fp_dentry_v *dv)
{
	struct bpfuse_fp_dentry_key key = {};
	int len;

	if (!req || !dv)
		return -1;
	key.parent = req->nodeid;
	len = bpf_fuse_req_lookup_name(req, key.name, sizeof(key.name));
	if (len <= 0)
		return -1;
	return read_dentry(&key, dv);
}

/* Reply to a LOOKUP whose name is in @dv; own frame, apart from the key's. */
static __noinline int reply_lookup(struct fuse_bpf_req *req, const struct bpfuse_fp_dentry_v *dv)
{
	struct fuse_entry_out out = {};
	struct inode_open op;
	struct inode_hdr hdr;
	__u64 *nlookup;
	__u64 nodeid;

	if (!dv)
		return BPFUSE_FP_UPCALL;
	nodeid = dv->nodeid;
	if (!nodeid) {
		/*
		 * A negative entry (the daemon's LOOKUP found no such name): no
		 * node, no attributes, no lookup to count; the kernel asks again
		 * after entry_valid.
		 */
		if (dv->generation)
			goto miss;
		out.entry_valid = dv->entry_ttl_ns / BPFUSE_NSEC_PER_SEC;
		out.entry_valid_nsec = dv->entry_ttl_ns % BPFUSE_NSEC_PER_SEC;
		if (bpf_fuse_reply_entry(req, &out, sizeof(out))) {
			stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
			return BPFUSE_FP_UPCALL;
		}
		stat_inc(BPFUSE_FP_STAT_NEGATIVE_HIT);
		return BPFUSE_FP_HANDLED;
	}
	if (read_inode(nodeid, &hdr, &out.attr, &op) || hdr.generation != dv->generation)
		goto miss;
	/* Without a counter the daemon could not account for this lookup */
	nlookup = bpf_map_lookup_elem(&fp_nlookup, &nodeid);
	if (!nlookup)
		goto miss;

	out.nodeid = nodeid;
	out.generation = dv->generation;
	out.entry_valid = dv->entry_ttl_ns / BPFUSE_NSEC_PER_SEC;
	out.entry_valid_nsec = dv->entry_ttl_ns % BPFUSE_NSEC_PER_SEC;
	out.attr_valid = hdr.attr_ttl_ns / BPFUSE_NSEC_PER_SEC;
	out.attr_valid_nsec = hdr.attr_ttl_ns % BPFUSE_NSEC_PER_SEC;

	if (bpf_fuse_reply_entry(req, &out, sizeof(out))) {
		stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
		return BPFUSE_FP_UPCALL;
	}
	__sync_fetch_and_add(nlookup, 1);
	stat_inc(BPFUSE_FP_STAT_LOOKUP_HIT);
	return BPFUSE_FP_HANDLED;

miss:
	stat_inc(BPFUSE_FP_STAT_LOOKUP_MISS);
	return BPFUSE_FP_UPCALL;
}

/* Two frames in turn (the verifier adds up the frames of a call chain, at most 512 bytes) */
static __noinline int do_lookup(struct fuse_bpf_req *req)
{
	struct bpfuse_fp_dentry_v dv;

	if (find_dentry(req, &dv)) {
		stat_inc(BPFUSE_FP_STAT_LOOKUP_MISS);
		return BPFUSE_FP_UPCALL;
	}
	return reply_lookup(req, &dv);
}

static __noinline int do_getattr(struct fuse_bpf_req *req)
{
	struct fuse_attr_out out = {};
	struct inode_open op;
	struct inode_hdr hdr;

	if (read_inode(req->nodeid, &hdr, &out.attr, &op)) {
		stat_inc(BPFUSE_FP_STAT_GETATTR_MISS);
		return BPFUSE_FP_UPCALL;
	}

	out.attr_valid = hdr.attr_ttl_ns / BPFUSE_NSEC_PER_SEC;
	out.attr_valid_nsec = hdr.attr_ttl_ns % BPFUSE_NSEC_PER_SEC;

	if (bpf_fuse_reply_attr(req, &out, sizeof(out))) {
		stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
		return BPFUSE_FP_UPCALL;
	}
	stat_inc(BPFUSE_FP_STAT_GETATTR_HIT);
	return BPFUSE_FP_HANDLED;
}

/*
 * Serve a READ only if every block it touches (up to EOF by the inode
 * entry's size) is in the block map, current (its data_version is the inode
 * value's: both copied consistently, so a block published for bytes the
 * daemon has since replaced is never served), and in one backing file;
 * otherwise the daemon reads.  The kernel stops the read at the backing
 * file's own size (a short read is EOF), which the daemon keeps equal to the
 * file's: only the source file itself is published as a block's backing file.
 */
static __noinline int do_read(struct fuse_bpf_req *req)
{
	struct bpfuse_fp_block_key bkey = {};
	struct fuse_read_in in = {};
	struct bpfuse_fp_block_v bv;
	struct inode_open op;
	struct fuse_attr attr;
	struct inode_hdr hdr;
	__u64 nodeid = req->nodeid;
	__u64 first, last, end, dver, size;
	__u32 backing_id = 0;
	__u32 shift = block_shift;
	int i;

	if (bpf_fuse_req_read_in(req, 0, &in, sizeof(in)) != sizeof(in))
		goto miss;
	if (read_inode(nodeid, &hdr, &attr, &op))
		goto miss;
	dver = hdr.data_version;
	size = attr.size;
	if (!dver || shift < 9 || shift > 30 || in.size == 0)
		goto miss;

	end = in.offset + in.size;
	if (end > size)
		end = size;
	if (in.offset >= end) {
		/* Entirely past EOF: any backing file of the node gives 0 bytes */
		first = 0;
		last = 0;
	} else {
		first = in.offset >> shift;
		last = (end - 1) >> shift;
	}
	if (last - first >= BPFUSE_FP_MAX_READ_BLOCKS)
		goto miss;

	bkey.nodeid = nodeid;
	for (i = 0; i < BPFUSE_FP_MAX_READ_BLOCKS; i++) {
		if (first + i > last)
			break;
		bkey.block = first + i;
		if (read_block(&bkey, &bv) || bv.data_version != dver)
			goto miss;
		if (i == 0)
			backing_id = bv.backing_id;
		else if (bv.backing_id != backing_id)
			goto miss;
	}
	if (!backing_id)
		goto miss;

	if (bpf_fuse_reply_read_backing(req, backing_id)) {
		stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
		return BPFUSE_FP_UPCALL;
	}
	stat_inc(BPFUSE_FP_STAT_READ_HIT);
	return BPFUSE_FP_HANDLED;

miss:
	stat_inc(BPFUSE_FP_STAT_READ_MISS);
	return BPFUSE_FP_UPCALL;
}

/*
 * A read-only OPEN of a regular file whose inode entry has open flags:
 * answered with them, fh 0: passthrough to the entry's backing file
 * (FOPEN_PASSTHROUGH), or through the page cache, its READs answered from
 * the block map or by the daemon.  The kernel sends no RELEASE for such an
 * open; the daemon keeps a backing id registered for as long as the kernel
 * knows the node.  Anything else (a write, O_TRUNC, no entry, no flags,
 * passthrough without a backing id) upcalls; the kernel checks the same
 * again.
 */
static __noinline int do_open(struct fuse_bpf_req *req)
{
	struct bpfuse_open_in in = {};
	struct fuse_open_out out = {};
	struct inode_open op;
	struct fuse_attr attr;
	struct inode_hdr hdr;

	if (bpf_fuse_req_read_in(req, 0, &in, sizeof(in)) != sizeof(in))
		goto miss;
	if ((in.flags & BPFUSE_O_ACCMODE) != BPFUSE_O_RDONLY || (in.flags & BPFUSE_O_TRUNC))
		goto miss;
	if (read_inode(req->nodeid, &hdr, &attr, &op))
		goto miss;
	if (!op.flags || (attr.mode & BPFUSE_S_IFMT) != BPFUSE_S_IFREG)
		goto miss;
	if (!(op.flags & BPFUSE_FP_FOPEN_PASSTHROUGH) != !op.backing_id)
		goto miss;
	out.fh = 0;
	out.open_flags = op.flags;
	out.backing_id = (__s32)op.backing_id;
	if (bpf_fuse_reply_open(req, &out, sizeof(out))) {
		stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
		return BPFUSE_FP_UPCALL;
	}
	stat_inc(BPFUSE_FP_STAT_OPEN_HIT);
	return BPFUSE_FP_HANDLED;

miss:
	stat_inc(BPFUSE_FP_STAT_OPEN_MISS);
	return BPFUSE_FP_UPCALL;
}

SEC("struct_ops/request")
int BPF_PROG(bpfuse_request, struct fuse_bpf_req *req)
{
	/* 0: not set (a test attaching the object with a cookie of its own) */
	if (conn_cookie && req->cookie != conn_cookie) {
		stat_inc(BPFUSE_FP_STAT_FOREIGN);
		return BPFUSE_FP_UPCALL;
	}
	switch (req->opcode) {
	case BPFUSE_FUSE_LOOKUP:
		return do_lookup(req);
	case BPFUSE_FUSE_GETATTR:
		return do_getattr(req);
	case BPFUSE_FUSE_OPEN:
		return do_open(req);
	case BPFUSE_FUSE_READ:
		return do_read(req);
	case BPFUSE_FUSE_IOCTL:
		/*
		 * The daemon forwards no ioctl and answers every one ENOTTY
		 * (fs_ops_file.c op_ioctl): e.g. the isatty() of each open by
		 * CPython.  The same answer, here.
		 */
		if (bpf_fuse_reply_error(req, -BPFUSE_ENOTTY)) {
			stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
			return BPFUSE_FP_UPCALL;
		}
		stat_inc(BPFUSE_FP_STAT_IOCTL_HIT);
		return BPFUSE_FP_HANDLED;
	}
	stat_inc(BPFUSE_FP_STAT_OTHER);
	return BPFUSE_FP_UPCALL;
}

SEC(".struct_ops")
struct fuse_bpf_ops bpfuse_ops = {
	.request = (void *)bpfuse_request,
};

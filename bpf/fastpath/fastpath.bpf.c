// SPDX-License-Identifier: GPL-2.0
/*
 * bpfuse fast path: a struct fuse_bpf_ops that answers LOOKUP, GETATTR and
 * READ of one FUSE connection from maps that the daemon keeps, and upcalls
 * everything else.  Needs a kernel with kernel-patches/6.12; map layouts and
 * coherence rules are in include/bpfuse/fastpath_abi.h.
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

/* log2 of the daemon's cache block size; set before load */
const volatile __u32 block_shift = BPFUSE_FP_BLOCK_SHIFT_DEFAULT;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_DENTRIES);
	__type(key, struct bpfuse_fp_dentry_key);
	__type(value, struct bpfuse_fp_dentry);
} fp_dentries SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_INODES);
	__type(key, __u64);
	__type(value, struct bpfuse_fp_inode);
} fp_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_INODES);
	__type(key, __u64);
	__type(value, __u64);
} fp_nlookup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFUSE_FP_MAX_BLOCKS);
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

static __always_inline void fill_attr(struct fuse_attr *dst, const struct bpfuse_fp_attr *src)
{
	dst->ino = src->ino;
	dst->size = src->size;
	dst->blocks = src->blocks;
	dst->atime = src->atime;
	dst->mtime = src->mtime;
	dst->ctime = src->ctime;
	dst->atimensec = src->atimensec;
	dst->mtimensec = src->mtimensec;
	dst->ctimensec = src->ctimensec;
	dst->mode = src->mode;
	dst->nlink = src->nlink;
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->rdev = src->rdev;
	dst->blksize = src->blksize;
	dst->flags = 0;
}

static __noinline int do_lookup(struct fuse_bpf_req *req)
{
	struct bpfuse_fp_dentry_key key = {};
	struct fuse_entry_out out = {};
	struct bpfuse_fp_dentry *de;
	struct bpfuse_fp_inode *ino;
	__u64 *nlookup;
	__u64 nodeid;
	int len;

	key.parent = req->nodeid;
	len = bpf_fuse_req_lookup_name(req, key.name, sizeof(key.name));
	if (len <= 0)
		goto miss;

	de = bpf_map_lookup_elem(&fp_dentries, &key);
	if (!de)
		goto miss;
	nodeid = de->nodeid;
	ino = bpf_map_lookup_elem(&fp_inodes, &nodeid);
	if (!ino || ino->generation != de->generation)
		goto miss;
	/* Without a counter the daemon could not account for this lookup */
	nlookup = bpf_map_lookup_elem(&fp_nlookup, &nodeid);
	if (!nlookup)
		goto miss;

	out.nodeid = nodeid;
	out.generation = de->generation;
	out.entry_valid = de->entry_ttl_ns / BPFUSE_NSEC_PER_SEC;
	out.entry_valid_nsec = de->entry_ttl_ns % BPFUSE_NSEC_PER_SEC;
	out.attr_valid = ino->attr_ttl_ns / BPFUSE_NSEC_PER_SEC;
	out.attr_valid_nsec = ino->attr_ttl_ns % BPFUSE_NSEC_PER_SEC;
	fill_attr(&out.attr, &ino->attr);

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

static __noinline int do_getattr(struct fuse_bpf_req *req)
{
	struct fuse_attr_out out = {};
	struct bpfuse_fp_inode *ino;
	__u64 nodeid = req->nodeid;

	ino = bpf_map_lookup_elem(&fp_inodes, &nodeid);
	if (!ino) {
		stat_inc(BPFUSE_FP_STAT_GETATTR_MISS);
		return BPFUSE_FP_UPCALL;
	}

	out.attr_valid = ino->attr_ttl_ns / BPFUSE_NSEC_PER_SEC;
	out.attr_valid_nsec = ino->attr_ttl_ns % BPFUSE_NSEC_PER_SEC;
	fill_attr(&out.attr, &ino->attr);

	if (bpf_fuse_reply_attr(req, &out, sizeof(out))) {
		stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
		return BPFUSE_FP_UPCALL;
	}
	stat_inc(BPFUSE_FP_STAT_GETATTR_HIT);
	return BPFUSE_FP_HANDLED;
}

/*
 * Serve a READ only if every block it touches (up to EOF) is in the block
 * map, current, and in one backing file; otherwise the daemon reads.
 */
static __noinline int do_read(struct fuse_bpf_req *req)
{
	struct bpfuse_fp_block_key bkey = {};
	struct fuse_read_in in = {};
	struct bpfuse_fp_inode *ino;
	struct bpfuse_fp_block *blk;
	__u64 nodeid = req->nodeid;
	__u64 first, last, end, gen, size;
	__u32 backing_id = 0;
	__u32 shift = block_shift;
	int i;

	if (bpf_fuse_req_read_in(req, 0, &in, sizeof(in)) != sizeof(in))
		goto miss;
	ino = bpf_map_lookup_elem(&fp_inodes, &nodeid);
	if (!ino)
		goto miss;
	gen = ino->generation;
	size = ino->attr.size;
	if (shift < 9 || shift > 30 || in.size == 0)
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
		blk = bpf_map_lookup_elem(&fp_blocks, &bkey);
		if (!blk || blk->generation != gen)
			goto miss;
		if (i == 0)
			backing_id = blk->backing_id;
		else if (blk->backing_id != backing_id)
			goto miss;
	}
	if (!backing_id)
		goto miss;

	if (bpf_fuse_reply_read_backing(req, backing_id, size)) {
		stat_inc(BPFUSE_FP_STAT_KFUNC_ERR);
		return BPFUSE_FP_UPCALL;
	}
	stat_inc(BPFUSE_FP_STAT_READ_HIT);
	return BPFUSE_FP_HANDLED;

miss:
	stat_inc(BPFUSE_FP_STAT_READ_MISS);
	return BPFUSE_FP_UPCALL;
}

SEC("struct_ops/request")
int BPF_PROG(bpfuse_request, struct fuse_bpf_req *req)
{
	switch (req->opcode) {
	case BPFUSE_FUSE_LOOKUP:
		return do_lookup(req);
	case BPFUSE_FUSE_GETATTR:
		return do_getattr(req);
	case BPFUSE_FUSE_READ:
		return do_read(req);
	}
	stat_inc(BPFUSE_FP_STAT_OTHER);
	return BPFUSE_FP_UPCALL;
}

SEC(".struct_ops")
struct fuse_bpf_ops bpfuse_ops = {
	.request = (void *)bpfuse_request,
	.name = BPFUSE_FP_OPS_NAME,
};

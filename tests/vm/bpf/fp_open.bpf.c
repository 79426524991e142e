// SPDX-License-Identifier: GPL-2.0
/*
 * fp_open: a struct fuse_bpf_ops for tests/vm/fp_test.c that answers, in the
 * kernel, the OPEN of every node userspace put in `opens` (its backing id
 * and open flags) when the open is read-only, and FUSE_IOCTL with ENOTTY
 * when `enotty` is set.  Everything else goes to the server.  Counts what
 * it answered and what the kernel refused.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

#define KF_O_ACCMODE	00000003
#define KF_O_TRUNC	00001000

struct fp_open_val {
	__u32 open_flags;
	__s32 backing_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, struct fp_open_val);
} opens SEC(".maps");

/* Set by userspace */
__u32 enotty;

/* Set by the program */
__u64 opens_answered, opens_refused, opens_passed, ioctls_answered;
__u64 cookie;

static __always_inline int do_open(struct fuse_bpf_req *req)
{
	struct fuse_open_in in;
	struct fuse_open_out out = {};
	struct fp_open_val *v;
	__u64 nodeid = req->nodeid;

	v = bpf_map_lookup_elem(&opens, &nodeid);
	if (!v)
		goto pass;
	if (bpf_fuse_req_read_in(req, 0, &in, sizeof(in)) != sizeof(in))
		goto pass;
	/* The kernel refuses these too; checked here to upcall cheaply */
	if ((in.flags & KF_O_ACCMODE) != 0 || (in.flags & KF_O_TRUNC))
		goto pass;
	out.open_flags = v->open_flags;
	out.backing_id = v->backing_id;
	if (bpf_fuse_reply_open(req, &out, sizeof(out))) {
		__sync_fetch_and_add(&opens_refused, 1);
		return KF_FUSE_BPF_UPCALL;
	}
	__sync_fetch_and_add(&opens_answered, 1);
	return KF_FUSE_BPF_HANDLED;
pass:
	__sync_fetch_and_add(&opens_passed, 1);
	return KF_FUSE_BPF_UPCALL;
}

SEC("struct_ops/request")
int BPF_PROG(fp_open_request, struct fuse_bpf_req *req)
{
	cookie = req->cookie;
	if (req->opcode == KF_FUSE_OPEN)
		return do_open(req);
	if (req->opcode == KF_FUSE_IOCTL && enotty &&
	    !bpf_fuse_reply_error(req, -25 /* ENOTTY */)) {
		__sync_fetch_and_add(&ioctls_answered, 1);
		return KF_FUSE_BPF_HANDLED;
	}
	return KF_FUSE_BPF_UPCALL;
}

SEC(".struct_ops")
struct fuse_bpf_ops fp_open_ops = {
	.request = (void *)fp_open_request,
};

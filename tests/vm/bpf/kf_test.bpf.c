// SPDX-License-Identifier: GPL-2.0
/*
 * kf_test: a struct fuse_bpf_ops for tests/vm/kf_test.c that calls one kfunc
 * of kernel-patches/6.12 with the arguments userspace put in its globals,
 * records what the kfunc returned, and returns the verdict userspace chose.
 * It acts only on requests of opcode `op` for node `nodeid` (the parent for
 * LOOKUP, whose name must also be `name`); it counts every request it sees
 * and records the cookie of the last one.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

enum {
	KF_NONE,		/* act: nothing, return verdict */
	KF_READ_IN_4,		/* bpf_fuse_req_read_in(idx, buf, 4) */
	KF_READ_IN_64,		/* bpf_fuse_req_read_in(idx, buf, 64) */
	KF_NAME_8,		/* bpf_fuse_req_lookup_name(buf, 8) */
	KF_NAME_9,		/* bpf_fuse_req_lookup_name(buf, 9) */
	KF_ENTRY,		/* bpf_fuse_reply_entry(entry, sizeof) [twice] */
	KF_ENTRY_SHORT,		/* ... with sizeof - 1 */
	KF_ENTRY_LONG,		/* ... with sizeof + 8 */
	KF_ATTR,		/* bpf_fuse_reply_attr(attr, sizeof) [twice] */
	KF_ATTR_SHORT,
	KF_ATTR_LONG,
	KF_READ,		/* bpf_fuse_reply_read_backing(id) [twice] */
	KF_OPEN,		/* bpf_fuse_reply_open(open_out, sizeof) [twice] */
	KF_OPEN_SHORT,
	KF_OPEN_LONG,
	KF_ERROR,		/* bpf_fuse_reply_error(errv) [twice] */
	KF_NR
};

/* Set by userspace */
__u32 op;
__u64 nodeid;
char name[16];
__u32 kfunc;
__u32 twice;		/* call the kfunc a second time, result in ret2 */
__u32 idx;
__u32 verdict;		/* FUSE_BPF_UPCALL (0) or FUSE_BPF_HANDLED (1) */
__u32 backing_id;
struct fuse_entry_out entry;
struct fuse_attr_out attr;
struct fuse_open_out open_out;
__s32 errv;

/* Set by the program */
__u64 seen[64];		/* requests seen, by opcode */
__u64 acted;
__u64 cookie;		/* req->cookie of the last request seen */
__s64 ret1, ret2;
unsigned char buf[64];	/* what the copying kfuncs wrote */

static __always_inline int act(struct fuse_bpf_req *req)
{
	unsigned char b[sizeof(struct fuse_entry_out) + 8];
	struct fuse_entry_out e;
	struct fuse_attr_out a;
	struct fuse_open_out o;
	int r1 = 0, r2 = 0;

	__builtin_memset(b, 0xa5, sizeof(b));
	switch (kfunc) {
	case KF_READ_IN_4:
		r1 = bpf_fuse_req_read_in(req, idx, b, 4);
		break;
	case KF_READ_IN_64:
		r1 = bpf_fuse_req_read_in(req, idx, b, 64);
		break;
	case KF_NAME_8:
		r1 = bpf_fuse_req_lookup_name(req, (char *)b, 8);
		break;
	case KF_NAME_9:
		r1 = bpf_fuse_req_lookup_name(req, (char *)b, 9);
		break;
	case KF_ENTRY:
	case KF_ENTRY_SHORT:
	case KF_ENTRY_LONG:
		e = entry;
		if (kfunc == KF_ENTRY)
			r1 = bpf_fuse_reply_entry(req, &e, sizeof(e));
		else if (kfunc == KF_ENTRY_SHORT)
			r1 = bpf_fuse_reply_entry(req, &e, sizeof(e) - 1);
		else {
			__builtin_memcpy(b, &e, sizeof(e));
			r1 = bpf_fuse_reply_entry(req, b, sizeof(e) + 8);
		}
		if (twice)
			r2 = bpf_fuse_reply_entry(req, &e, sizeof(e));
		break;
	case KF_ATTR:
	case KF_ATTR_SHORT:
	case KF_ATTR_LONG:
		a = attr;
		if (kfunc == KF_ATTR)
			r1 = bpf_fuse_reply_attr(req, &a, sizeof(a));
		else if (kfunc == KF_ATTR_SHORT)
			r1 = bpf_fuse_reply_attr(req, &a, sizeof(a) - 1);
		else {
			__builtin_memcpy(b, &a, sizeof(a));
			r1 = bpf_fuse_reply_attr(req, b, sizeof(a) + 8);
		}
		if (twice)
			r2 = bpf_fuse_reply_attr(req, &a, sizeof(a));
		break;
	case KF_READ:
		r1 = bpf_fuse_reply_read_backing(req, backing_id);
		if (twice)
			r2 = bpf_fuse_reply_read_backing(req, backing_id);
		break;
	case KF_OPEN:
	case KF_OPEN_SHORT:
	case KF_OPEN_LONG:
		o = open_out;
		if (kfunc == KF_OPEN)
			r1 = bpf_fuse_reply_open(req, &o, sizeof(o));
		else if (kfunc == KF_OPEN_SHORT)
			r1 = bpf_fuse_reply_open(req, &o, sizeof(o) - 1);
		else {
			__builtin_memcpy(b, &o, sizeof(o));
			r1 = bpf_fuse_reply_open(req, (void *)b, sizeof(o) + 8);
		}
		if (twice)
			r2 = bpf_fuse_reply_open(req, &o, sizeof(o));
		break;
	case KF_ERROR:
		r1 = bpf_fuse_reply_error(req, errv);
		if (twice)
			r2 = bpf_fuse_reply_error(req, errv);
		break;
	}
	__builtin_memcpy(buf, b, sizeof(buf));
	ret1 = r1;
	ret2 = r2;
	acted++;
	return verdict;
}

SEC("struct_ops/request")
int BPF_PROG(kf_request, struct fuse_bpf_req *req)
{
	__u64 n[2], *want = (__u64 *)name;
	__u32 o = req->opcode;

	if (o < 64)
		seen[o]++;
	cookie = req->cookie;
	if (o != op || req->nodeid != nodeid || kfunc >= KF_NR)
		return KF_FUSE_BPF_UPCALL;
	if (o == KF_FUSE_LOOKUP) {
		if (bpf_fuse_req_lookup_name(req, (char *)n, sizeof(n)) < 0)
			return KF_FUSE_BPF_UPCALL;
		if (n[0] != want[0] || n[1] != want[1])
			return KF_FUSE_BPF_UPCALL;
	}
	return act(req);
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_ops = {
	.request = (void *)kf_request,
};

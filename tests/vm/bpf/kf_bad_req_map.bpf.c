// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: a request in a map value (a copy of the real one) instead
 * of the trusted argument; refused like the copy on the stack (kf_bad_req).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fuse_bpf_req);
} reqs SEC(".maps");

SEC("struct_ops/request")
int BPF_PROG(kf_bad_request, struct fuse_bpf_req *req)
{
	struct fuse_bpf_req *copy;
	char buf[8] = { 0 };
	__u32 zero = 0;

	copy = bpf_map_lookup_elem(&reqs, &zero);
	if (!copy)
		return 0;
	copy->nodeid = req->nodeid;
	copy->opcode = req->opcode;
	return bpf_fuse_req_read_in(copy, 0, buf, sizeof(buf)) > 0 ? buf[0] : 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_bad_ops = {
	.request = (void *)kf_bad_request,
};

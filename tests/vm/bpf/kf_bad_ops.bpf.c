// SPDX-License-Identifier: GPL-2.0
/*
 * Loads, but none of its struct_ops maps may register: an empty name, a
 * name bpf_obj_name_cpy() refuses, and ops without a request() program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/request")
int BPF_PROG(kf_req_a, struct fuse_bpf_req *req)
{
	return 0;
}

SEC("struct_ops/request")
int BPF_PROG(kf_req_b, struct fuse_bpf_req *req)
{
	return 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_noname = {
	.request = (void *)kf_req_a,
	.name = "",
};

SEC(".struct_ops")
struct fuse_bpf_ops kf_badname = {
	.request = (void *)kf_req_b,
	.name = "bad name!",
};

SEC(".struct_ops")
struct fuse_bpf_ops kf_noreq = {
	.name = "kf_noreq",
};

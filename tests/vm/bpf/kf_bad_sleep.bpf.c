// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load as a sleepable program (kf_test sets BPF_F_SLEEPABLE; libbpf
 * 1.1 has no "struct_ops.s" section): the hook runs the program with
 * preemption disabled, so fuse_bpf_ops refuses sleepable programs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/request")
int BPF_PROG(kf_bad_request, struct fuse_bpf_req *req)
{
	return 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_bad_ops = {
	.request = (void *)kf_bad_request,
};

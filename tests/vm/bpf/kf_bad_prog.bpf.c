// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: the FUSE kfuncs from a struct_ops program of another type
 * (bpf_dummy_ops); the kfunc filter of fs/fuse/bpf.c refuses it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/test_1")
int BPF_PROG(kf_bad_test_1, struct bpf_dummy_ops_state *state)
{
	char buf[8] = { 0 };

	return bpf_fuse_req_read_in((struct fuse_bpf_req *)state, 0, buf, sizeof(buf));
}

SEC(".struct_ops")
struct bpf_dummy_ops kf_bad_ops = {
	.test_1 = (void *)kf_bad_test_1,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: the FUSE kfuncs from a program that is not struct_ops at
 * all (they are registered for BPF_PROG_TYPE_STRUCT_OPS only).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("syscall")
int kf_bad_syscall(void *ctx)
{
	char buf[8] = { 0 };

	return bpf_fuse_req_read_in(ctx, 0, buf, sizeof(buf));
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Loads, but its struct_ops map may not become ready: ops without a
 * request() program (fuse_bpf_ops' validate() refuses it).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/*
 * libbpf 1.1 loads the kernel's BTF only for an object that has a program
 * needing it, and crashes preparing a struct_ops map without (no program is
 * the point of this map): a CO-RE relocation makes it load the BTF.
 */
SEC("syscall")
int kf_btf_anchor(void *ctx)
{
	return bpf_core_type_exists(struct fuse_bpf_ops);
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_noreq = {
};

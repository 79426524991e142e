// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: a request built on the program's stack instead of the
 * trusted argument.  struct fuse_bpf_req has a pointer member, so the
 * verifier does not take the copy as plain memory of the struct's size.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/request")
int BPF_PROG(kf_bad_request, struct fuse_bpf_req *req)
{
	struct fuse_bpf_req fake = { .opcode = 1 };
	char buf[8] = { 0 };

	return bpf_fuse_req_read_in(&fake, 0, buf, sizeof(buf)) > 0 ? buf[0] : 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_bad_ops = {
	.request = (void *)kf_bad_request,
};

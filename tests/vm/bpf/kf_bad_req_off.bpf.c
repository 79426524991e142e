// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: the trusted request pointer moved by an offset, so that
 * container_of() in the kfunc would land elsewhere; KF_TRUSTED_ARGS wants
 * the exact type at offset 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/request")
int BPF_PROG(kf_bad_request, struct fuse_bpf_req *req)
{
	char buf[8] = { 0 };

	return bpf_fuse_req_read_in((struct fuse_bpf_req *)((char *)req + 8), 0,
				    buf, sizeof(buf)) > 0 ? buf[0] : 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_bad_ops = {
	.request = (void *)kf_bad_request,
};

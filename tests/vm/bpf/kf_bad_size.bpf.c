// SPDX-License-Identifier: GPL-2.0
/* Must not load: a kfunc buffer size larger than the buffer */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/request")
int BPF_PROG(kf_bad_request, struct fuse_bpf_req *req)
{
	char buf[8] = { 0 };

	return bpf_fuse_req_read_in(req, 0, buf, 16) > 0 ? buf[0] : 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_bad_ops = {
	.request = (void *)kf_bad_request,
};

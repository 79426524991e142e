// SPDX-License-Identifier: GPL-2.0
/*
 * Must not load: a struct fuse_bpf_req pointer made by bpf_rdonly_cast()
 * (an untrusted PTR_TO_BTF_ID of the right type) instead of the trusted
 * argument; KF_TRUSTED_ARGS refuses it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "kf_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

SEC("struct_ops/request")
int BPF_PROG(kf_bad_request, struct fuse_bpf_req *req)
{
	struct fuse_bpf_req *cast;
	char buf[8] = { 0 };

	cast = bpf_rdonly_cast(buf, bpf_core_type_id_kernel(struct fuse_bpf_req));
	return bpf_fuse_req_read_in(cast, 0, buf, sizeof(buf)) > 0 ? buf[0] : 0;
}

SEC(".struct_ops")
struct fuse_bpf_ops kf_bad_ops = {
	.request = (void *)kf_bad_request,
};

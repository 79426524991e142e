/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kfuncs of kernel-patches/6.12 (fs/fuse/bpf.c) and the FUSE constants
 * the test programs of tests/vm/bpf need, declared here rather than taken
 * from bpf/fastpath so that the kernel's tests do not depend on the daemon's
 * program.  libbpf checks each prototype against the kernel's BTF.
 * Include after vmlinux.h.
 */
#ifndef KF_KFUNCS_H
#define KF_KFUNCS_H

/* enum fuse_opcode is not always in the kernel's BTF */
#define KF_FUSE_LOOKUP		1
#define KF_FUSE_GETATTR		3
#define KF_FUSE_OPEN		14
#define KF_FUSE_READ		15
#define KF_FUSE_IOCTL		39

#define KF_FUSE_BPF_UPCALL	0
#define KF_FUSE_BPF_HANDLED	1

extern int bpf_fuse_req_read_in(struct fuse_bpf_req *req, __u32 idx,
				void *buf, __u32 buf__sz) __ksym;
extern int bpf_fuse_req_lookup_name(struct fuse_bpf_req *req, char *name,
				    __u32 name__sz) __ksym;
extern int bpf_fuse_reply_entry(struct fuse_bpf_req *req, const void *entry,
				__u32 entry__sz) __ksym;
extern int bpf_fuse_reply_attr(struct fuse_bpf_req *req, const void *attr,
			       __u32 attr__sz) __ksym;
extern int bpf_fuse_reply_read_backing(struct fuse_bpf_req *req,
				       __u32 backing_id) __ksym;
extern int bpf_fuse_reply_open(struct fuse_bpf_req *req,
			       const struct fuse_open_out *out,
			       __u32 out__sz) __ksym;
extern int bpf_fuse_reply_error(struct fuse_bpf_req *req, int err) __ksym;

#endif /* KF_KFUNCS_H */

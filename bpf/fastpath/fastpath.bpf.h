/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF-only declarations for the fast-path programs: the kfuncs of
 * kernel-patches/6.12 (CONFIG_FUSE_BPF) and the FUSE constants they need.
 * Include after vmlinux.h.
 */
#ifndef BPFUSE_FASTPATH_BPF_H
#define BPFUSE_FASTPATH_BPF_H

/* enum fuse_opcode and friends are not always in the kernel's BTF */
#define BPFUSE_FUSE_LOOKUP	1
#define BPFUSE_FUSE_GETATTR	3
#define BPFUSE_FUSE_READ	15
#define BPFUSE_FUSE_ROOT_ID	1

#define BPFUSE_NSEC_PER_SEC	1000000000ULL

/* Kfuncs of fs/fuse/bpf.c; each returns 0 (or a length) or -errno */
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

#endif /* BPFUSE_FASTPATH_BPF_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kfuncs of kernel-patches/6.12 (fs/fuse/bpf.c), for BPF programs only:
 * bpf/fastpath and the kernel's tests in tests/vm/bpf declare them from here,
 * once.  Each returns 0 (or a length) or -errno; libbpf checks every
 * prototype against the kernel's BTF at load.  Include after vmlinux.h.
 */
#ifndef BPFUSE_FUSE_BPF_KFUNCS_H
#define BPFUSE_FUSE_BPF_KFUNCS_H

extern int bpf_fuse_req_read_in(struct fuse_bpf_req *req, __u32 idx,
				void *buf, __u32 buf__sz) __ksym;
extern int bpf_fuse_req_lookup_name(struct fuse_bpf_req *req, char *name,
				    __u32 name__sz) __ksym;
extern int bpf_fuse_reply_entry(struct fuse_bpf_req *req, const void *entry,
				__u32 entry__sz) __ksym;
extern int bpf_fuse_reply_attr(struct fuse_bpf_req *req, const void *attr,
			       __u32 attr__sz) __ksym;
/* EOF is the backing file's size at read time (0003) */
extern int bpf_fuse_reply_read_backing(struct fuse_bpf_req *req,
				       __u32 backing_id) __ksym;
/* FUSE_OPEN, read-only, fh 0; FOPEN_PASSTHROUGH with a backing id, or none (0004) */
extern int bpf_fuse_reply_open(struct fuse_bpf_req *req,
			       const struct fuse_open_out *out,
			       __u32 out__sz) __ksym;
/* FUSE_IOCTL with -ENOTTY only (0005) */
extern int bpf_fuse_reply_error(struct fuse_bpf_req *req, int err) __ksym;

#endif /* BPFUSE_FUSE_BPF_KFUNCS_H */

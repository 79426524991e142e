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
#define BPFUSE_FUSE_OPEN	14
#define BPFUSE_FUSE_READ	15
#define BPFUSE_FUSE_IOCTL	39
#define BPFUSE_ENOTTY		25
#define BPFUSE_FUSE_ROOT_ID	1

#define BPFUSE_NSEC_PER_SEC	1000000000ULL

/* <fcntl.h> and <sys/stat.h> values (asm-generic, x86) */
#define BPFUSE_O_ACCMODE	00000003
#define BPFUSE_O_RDONLY		00000000
#define BPFUSE_O_TRUNC		00001000
#define BPFUSE_S_IFMT		00170000
#define BPFUSE_S_IFREG		00100000

/* struct fuse_open_in (the OPEN's in-arg 0) */
struct bpfuse_open_in {
	__u32 flags;
	__u32 open_flags;
};

/* Kfuncs of fs/fuse/bpf.c; each returns 0 (or a length) or -errno */
extern int bpf_fuse_req_read_in(struct fuse_bpf_req *req, __u32 idx,
				void *buf, __u32 buf__sz) __ksym;
extern int bpf_fuse_req_lookup_name(struct fuse_bpf_req *req, char *name,
				    __u32 name__sz) __ksym;
extern int bpf_fuse_reply_entry(struct fuse_bpf_req *req, const void *entry,
				__u32 entry__sz) __ksym;
extern int bpf_fuse_reply_attr(struct fuse_bpf_req *req, const void *attr,
			       __u32 attr__sz) __ksym;
/* EOF is the backing file's size at read time (kernel-patches/6.12/0003) */
extern int bpf_fuse_reply_read_backing(struct fuse_bpf_req *req,
				       __u32 backing_id) __ksym;
/* FUSE_IOCTL with -ENOTTY only (0005) */
extern int bpf_fuse_reply_error(struct fuse_bpf_req *req, int err) __ksym;
/* FUSE_OPEN, read-only, fh 0, FOPEN_PASSTHROUGH with a backing id (0004) */
extern int bpf_fuse_reply_open(struct fuse_bpf_req *req,
			       const struct fuse_open_out *out, __u32 out__sz) __ksym;

#endif /* BPFUSE_FASTPATH_BPF_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF-only declarations for the fast-path programs: the kfuncs of
 * kernel-patches/6.12 (CONFIG_FUSE_REQUEST_BPF) and the FUSE constants they need.
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

#include "bpfuse/fuse_bpf_kfuncs.h"

#endif /* BPFUSE_FASTPATH_BPF_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The FUSE constants the test programs of tests/vm/bpf need, defined here
 * rather than taken from bpf/fastpath so that the kernel's tests do not depend
 * on the daemon's program; the kfuncs from include/bpfuse/fuse_bpf_kfuncs.h.
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

#include "bpfuse/fuse_bpf_kfuncs.h"

#endif /* KF_KFUNCS_H */

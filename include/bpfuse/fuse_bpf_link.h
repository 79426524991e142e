/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse_bpf_link.h: bind a struct fuse_bpf_ops to a FUSE connection through a
 * bpf_link (kernel-patches/6.12 0001, docs/kernel-hook.md "Attach").  The one
 * sequence for the daemon (src/kernel/fastpath.c) and the VM tests
 * (tests/vm/fp_test.c, kf_test.c); needs libbpf >= 1.2, whose
 * bpf_map__attach_struct_ops() makes a real link of a BPF_F_LINK map (the
 * build uses 1.7 from build/deps/libbpf, scripts/setup.sh).
 *
 *   fuse_bpf_link_prepare(map)   between open and load: create the map with
 *                                BPF_F_LINK (the series registers ops only
 *                                through a link)
 *   fuse_bpf_link_create(map)    after load: make the map ready and return
 *                                the fd of its first link, or -errno
 *   fuse_bpf_link_new(map)       another link of the ready map: fd or -errno
 *   fuse_bpf_link_attach(fuse_fd, link_fd, cookie)   FUSE_DEV_IOC_BPF_ATTACH
 *   fuse_bpf_link_detach(fuse_fd)                    FUSE_DEV_IOC_BPF_DETACH
 *
 * A link fd belongs to the caller: closing its last reference unbinds the
 * programs from the connection and unregisters them.
 */
#ifndef BPFUSE_FUSE_BPF_LINK_H
#define BPFUSE_FUSE_BPF_LINK_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/fuse.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#if !defined(LIBBPF_MAJOR_VERSION) || \
	(LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION < 2) || LIBBPF_MAJOR_VERSION < 1
#error "fuse_bpf_link.h needs libbpf >= 1.2 (scripts/setup.sh builds one into build/deps/libbpf)"
#endif

/* The patched kernel's uapi (kernel-patches/6.12/0001), restated for stock headers. */
#ifndef FUSE_DEV_IOC_BPF_ATTACH
struct fuse_bpf_attach {
	uint32_t link_fd; /* a BPF_STRUCT_OPS link of a struct fuse_bpf_ops */
	uint32_t flags;   /* 0 */
	uint64_t cookie;  /* given to the programs in struct fuse_bpf_req */
};
#define FUSE_DEV_IOC_BPF_ATTACH _IOW(FUSE_DEV_IOC_MAGIC, 64, struct fuse_bpf_attach)
#define FUSE_DEV_IOC_BPF_DETACH _IO(FUSE_DEV_IOC_MAGIC, 65)
#endif

/*
 * Linux 6.4's struct_ops links; bookworm's linux-libc-dev (6.1), which
 * libbpf's headers include, has neither name: BPF_F_LINK is a
 * BPF_MAP_CREATE flag, BPF_STRUCT_OPS 44 in enum bpf_attach_type
 * (include/uapi/linux/bpf.h).
 */
#ifndef BPF_F_LINK
#define BPF_F_LINK (1U << 13)
#endif
#define FUSE_BPF_LINK_ATTACH_TYPE 44

static inline int fuse_bpf_link_prepare(struct bpf_map *ops)
{
	return bpf_map__set_map_flags(ops, bpf_map__map_flags(ops) | BPF_F_LINK);
}

static inline int fuse_bpf_link_create(struct bpf_map *ops)
{
	struct bpf_link *l = bpf_map__attach_struct_ops(ops);
	int fd;

	if (!l)
		return -errno;
	fd = bpf_link__fd(l);
	if (fd == bpf_map__fd(ops)) {
		/* no BPF_F_LINK: libbpf registered the map itself, not a link */
		bpf_link__destroy(l);
		return -EINVAL;
	}
	/* keep the fd, drop libbpf's handle (disconnected: it closes nothing) */
	bpf_link__disconnect(l);
	bpf_link__destroy(l);
	return fd;
}

static inline int fuse_bpf_link_new(struct bpf_map *ops)
{
	int fd = bpf_link_create(bpf_map__fd(ops), 0,
				 (enum bpf_attach_type)FUSE_BPF_LINK_ATTACH_TYPE, NULL);

	return fd < 0 ? -errno : fd;
}

static inline int fuse_bpf_link_attach(int fuse_fd, int link_fd, uint64_t cookie)
{
	struct fuse_bpf_attach at = { .link_fd = (uint32_t)link_fd, .cookie = cookie };

	return ioctl(fuse_fd, FUSE_DEV_IOC_BPF_ATTACH, &at) ? -errno : 0;
}

static inline int fuse_bpf_link_detach(int fuse_fd)
{
	return ioctl(fuse_fd, FUSE_DEV_IOC_BPF_DETACH) ? -errno : 0;
}

#endif /* BPFUSE_FUSE_BPF_LINK_H */

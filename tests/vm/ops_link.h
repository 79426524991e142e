/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ops_link.h: bind a struct fuse_bpf_ops to a FUSE connection through a
 * bpf_link (kernel-patches/6.12, docs/kernel-hook.md "Attach"), with the
 * libbpf 1.1 of Debian bookworm, for the guest tests.
 *
 * The map must be created with BPF_F_LINK: call ops_link_prepare() between
 * the skeleton's open and load.  ops_link_create() then makes the map ready
 * and returns a link fd (ops_link_new() another one of the same ready map);
 * ops_link_attach() binds a link to a /dev/fuse fd.
 */
#ifndef OPS_LINK_H
#define OPS_LINK_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <linux/fuse.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Not in bookworm's linux-libc-dev 6.1 uapi: BPF_F_LINK is 1U << 13 ... */
#ifndef BPF_F_LINK
#define BPF_F_LINK		(1U << 13)
#endif
/* ... and enum bpf_attach_type lacks BPF_STRUCT_OPS (44) */
#define OPS_LINK_ATTACH_TYPE	44

static inline int ops_link_prepare(struct bpf_map *ops)
{
	return bpf_map__set_map_flags(ops, bpf_map__map_flags(ops) | BPF_F_LINK);
}

/* Make a loaded BPF_F_LINK struct_ops map ready for links: 0 or -errno */
static inline int ops_link_ready(struct bpf_map *ops)
{
	struct bpf_link *l;

	/*
	 * libbpf 1.1's attach only updates the map's element (which for a
	 * BPF_F_LINK map makes it ready, without registering); its "link"
	 * would delete the element on destroy, which such a map refuses.
	 */
	l = bpf_map__attach_struct_ops(ops);
	if (!l)
		return -errno;
	bpf_link__disconnect(l);
	bpf_link__destroy(l);
	return 0;
}

/* A new link of a ready map (one per connection): its fd or -errno */
static inline int ops_link_new(struct bpf_map *ops)
{
	int fd = bpf_link_create(bpf_map__fd(ops), 0,
				 (enum bpf_attach_type)OPS_LINK_ATTACH_TYPE, NULL);

	return fd < 0 ? -errno : fd;
}

/* Both: the first link of a loaded map, or -errno */
static inline int ops_link_create(struct bpf_map *ops)
{
	int err = ops_link_ready(ops);

	return err ? err : ops_link_new(ops);
}

/* FUSE_DEV_IOC_BPF_ATTACH: 0 or -errno */
static inline int ops_link_attach(int fuse_fd, int link_fd, uint64_t cookie)
{
	struct fuse_bpf_attach at = { .link_fd = (uint32_t)link_fd, .cookie = cookie };

	return ioctl(fuse_fd, FUSE_DEV_IOC_BPF_ATTACH, &at) ? -errno : 0;
}

#endif /* OPS_LINK_H */

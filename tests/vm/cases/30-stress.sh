#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Concurrency stress of the real daemon with the fast path (fp_stress.c):
# readers (stat, open, read, fstat, fds held across) racing unlink/create,
# rename, truncate, chmod and drop_caches through the mount, timeouts 0,
# passthrough off (READ answered in the kernel too).  No ESTALE, no EIO, no
# wrong file type, and afterwards the mount agrees with the source; the
# fast path answered during the stress, and after the kernel forgot
# everything the daemon holds only the root.
OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-stress
. /lib/bpfuse-case.sh
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest"
command -v fp_stress > /dev/null || fail "no fp_stress in this guest"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"
mkdir -p /run $W/src $W/mnt
bpfuse mount $W/src $W/mnt -o entry_timeout=0,attr_timeout=0,negative_timeout=0,passthrough=off,fastpath_obj=$OBJ ||
	fail "bpfuse mounts"
h0=$(fp lookup_hit) || exit 1
r0=$(fp read_hit) || exit 1
stress "${BPFUSE_STRESS_SECONDS:-15}"
rc=$?
n=$(grep -c -e '^ok ' -e '^not ok' $W/out)
u=$(fp unstable_reads) || exit 1
stress_hits "$h0" "$r0" "$u unstable reads passed on"
no_inode_leak
bpfuse umount $W/mnt || fail "unmount"
[ "$rc" = 0 ] && [ "$bad" = 0 ]

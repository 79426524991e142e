#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The fast path end to end: fp_test mounts its own raw /dev/fuse server with
# data on the ext4 scratch disk (/cache) when there is one, attaches the
# bpf/fastpath programs to that connection and checks what reaches userspace.
work=$1
data=$work/data
if mountpoint -q /cache 2>/dev/null || grep -q ' /cache ' /proc/mounts; then
	data=/cache/fp-data
fi
mkdir -p "$data" "$work/mnt"
timeout 240 fp_test "$data" "$work/mnt"
rc=$?
grep -q " $work/mnt " /proc/mounts && umount -l "$work/mnt"
exit $rc

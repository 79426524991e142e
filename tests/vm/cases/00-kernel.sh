#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The booted kernel is the patched one: BTF has the hook's struct_ops type.
rc=0
if grep -q fuse_bpf_ops /sys/kernel/btf/vmlinux; then
	echo "ok 1 - kernel BTF has struct fuse_bpf_ops ($(uname -r))"
else
	echo "not ok 1 - kernel BTF lacks struct fuse_bpf_ops ($(uname -r))"
	rc=1
fi
if [ -c /dev/fuse ]; then
	echo "ok 2 - /dev/fuse exists"
else
	echo "not ok 2 - no /dev/fuse"
	rc=1
fi
exit $rc

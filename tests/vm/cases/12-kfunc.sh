#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Every refusal of the hook's kfuncs and of the hook itself: kf_test attaches
# tests/vm/bpf/kf_test.bpf.c to its own raw /dev/fuse server, feeds each
# kfunc bad arguments and checks the return value, that the request went to
# the server and that the caller got the server's answer; programs the
# verifier must refuse are loaded expecting failure.
work=$1
mkdir -p "$work/data" "$work/mnt"
timeout 240 kf_test "$work/data" "$work/mnt"
rc=$?
for m in "$work/mnt" "$work/mnt-b"; do
	grep -q " $m " /proc/mounts && umount -l "$m"
done
exit $rc

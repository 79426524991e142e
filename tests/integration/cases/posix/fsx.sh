#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fsx: a seeded random sequence of write, pwrite, append, truncate, fallocate,
# punch-hole, copy_file_range, mmap, rename, reopen, fsync and remount on a
# local mount, checked against a model of the bytes after every operation
# (tests/integration/fsx.py), under the option sets that change the data path:
# passthrough, no passthrough, kernel_open (profile=dataset).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

FSX=$IT_DIR/fsx.py
OPS=${FSX_OPS:-1500}
mkdir -p "$T/mnt"
seed=1
for opts in passthrough=on passthrough=off profile=dataset "profile=dataset,entry_timeout=0,attr_timeout=0"; do
	mkdir -p "$T/src$seed"
	bpfuse_mount "$T/src$seed" "$T/mnt" "$opts"
	remount="'$BPFUSE' umount '$T/mnt' && '$BPFUSE' mount '$T/src$seed' '$T/mnt' -o '$opts' >/dev/null 2>&1"
	out=$(python3 "$FSX" --seed "$seed" --ops "$OPS" --remount "$remount" "$T/mnt") ||
		fail "-o $opts: $out"
	log "-o $opts: ${out##*$'\n'}"
	bpfuse_umount "$T/mnt"
	seed=$((seed + 1))
done
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fsx on an s3:// mount: a seeded random sequence of write, pwrite, append,
# truncate, fallocate, punch-hole, copy_file_range, mmap, rename, reopen,
# fsync and remount (after which the bytes come from the bucket), checked
# against a model of the bytes after every operation (tests/integration/fsx.py).
# Operations S3 mounts refuse by design (docs/s3.md) must fail with EOPNOTSUPP
# and change nothing.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb fsx >/dev/null

FSX=$IT_DIR/fsx.py
OPS=${FSX_OPS:-600}
mkdir -p "$T/mnt"
s3_mount s3://fsx "$T/mnt"
# every other remount starts from an empty cache: the next opens see cold objects
remount="'$BPFUSE' umount '$T/mnt' && if [ -e '$T/cold' ]; then rm -rf '$T/cache' '$T/cold'; else touch '$T/cold'; fi && '$BPFUSE' mount s3://fsx '$T/mnt' -o cache_dir='$T/cache' >/dev/null 2>&1"
out=$(python3 "$FSX" --seed 7 --ops "$OPS" --allow EOPNOTSUPP --remount "$remount" "$T/mnt") ||
	fail "$out"
log "${out##*$'\n'}"
bpfuse_umount "$T/mnt"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The cache disk cannot take the object (a 16 MiB tmpfs as cache_dir, a 48 MiB object):
# reads are served from S3 instead, counted, and return the right bytes; writes still work.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb full >/dev/null
mkdir -p "$T/mnt" "$T/small"
mount -t tmpfs -o size=16m tmpfs "$T/small" || skip "cannot mount a tmpfs"
at_cleanup "umount -l '$T/small'"
head -c $((48 << 20)) /dev/urandom >"$T/obj"
s3tool put full obj "$T/obj" >/dev/null
bpfuse_mount s3://full "$T/mnt" "cache_dir=$T/small/cache"
check "read with a cache disk too small: right bytes" cmp "$T/obj" "$T/mnt/obj"
check "served from S3 and counted" test "$(s3_stat "$T/mnt" cache_fallbacks)" -ge 1
check "read again: right bytes" cmp "$T/obj" "$T/mnt/obj"
check "a small write still works" sh -c "echo hello >'$T/mnt/w' && test \"\$(cat '$T/mnt/w')\" = hello"
bpfuse_umount "$T/mnt"
finish

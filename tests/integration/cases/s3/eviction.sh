#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A cache smaller than the working set stays under its limit (least recently used objects
# are evicted) and every read still returns the right bytes.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb evict >/dev/null
mkdir -p "$T/mnt"
for i in 1 2 3 4 5; do
	head -c $((20 << 20)) /dev/urandom >"$T/o$i"
	s3tool put evict o$i "$T/o$i" >/dev/null
done
s3_mount s3://evict "$T/mnt" cache_size=48M
for round in 1 2; do
	for i in 1 2 3 4 5; do
		check "read o$i (round $round)" cmp "$T/o$i" "$T/mnt/o$i"
		b=$(s3_stat "$T/mnt" cache_bytes)
		check "cache under 48 MiB after o$i: $b bytes" test "$b" -le $((48 << 20))
	done
done
check "objects were evicted" test "$(daemon_stat "$T/mnt" evictions)" -ge 3
du=$(du -sk "$T/cache/objects" | cut -f1)
log "cache dir holds $du KiB"
check "the cache directory holds at most ~48 MiB" test "$du" -le $((50 << 10))
finish

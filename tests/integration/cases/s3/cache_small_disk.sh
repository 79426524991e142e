#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A cache on a disk much smaller than the object (a 64 MiB tmpfs, a 192 MiB object) is a
# bounded resource: a cold read returns the right bytes at bounded cost (each 8 MiB part
# fetched about once, not once per READ: at most 2x the parts), what the cache could not
# keep is evicted once the file is closed so the 5% free-space reserve holds, writes work
# afterwards (24 MiB through staging on the same disk) and `bpfuse umount` ends the
# daemon.  The same bound with cache_size=16M on a roomy disk.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb small >/dev/null
mkdir -p "$T/mnt" "$T/small"
mount -t tmpfs -o size=64m tmpfs "$T/small" || skip "cannot mount a tmpfs"
at_cleanup "umount -l '$T/small'"
size=$((192 << 20))
parts=$((size / (8 << 20)))
head -c "$size" /dev/urandom >"$T/obj"
s3tool put small obj "$T/obj" >/dev/null
bpfuse_mount s3://small "$T/mnt" "cache_dir=$T/small/cache"

# free_pct: percent of the tmpfs still free, as an integer (rounded down)
free_pct() {
	df -P -B1 "$T/small" | awk 'NR == 2 { printf "%d\n", $4 * 100 / $2 }'
}

cold_read() { # HOW: dd block size of the reader
	local bs=$1 g0 g1 b0 b1 t0 t1
	g0=$(s3_stat "$T/mnt" get)
	b0=$(s3_stat "$T/mnt" bytes_fetched)
	t0=$(date +%s)
	timeout 120 dd if="$T/mnt/obj" bs="$bs" status=none | cmp - "$T/obj" ||
		fail "wrong bytes or timed out (bs=$bs)"
	t1=$(date +%s)
	g1=$(s3_stat "$T/mnt" get)
	b1=$(s3_stat "$T/mnt" bytes_fetched)
	log "bs=$bs: $((t1 - t0)) s, $((g1 - g0)) GETs, $(((b1 - b0) >> 20)) MiB fetched" \
		"($parts parts), cache disk $(free_pct)% free," \
		"fallbacks $(s3_stat "$T/mnt" cache_fallbacks)"
	[ $((g1 - g0)) -le $((2 * parts)) ] || fail "$((g1 - g0)) GETs for $parts parts"
	[ $((b1 - b0)) -le $((2 * size)) ] || fail "$(((b1 - b0) >> 20)) MiB fetched"
}
check "cold read with 32 KiB reads: bounded GETs" cold_read 32k
check "the free-space reserve holds after the read" test "$(free_pct)" -ge 5
partial_gone() {
	local kib
	kib=$(du -sk "$T/small/cache/objects" | cut -f1)
	log "cache objects after the read: $kib KiB"
	[ "$kib" -le 1024 ] || fail "the partial object still holds $kib KiB of the cache disk"
}
check "the partial copy went with the last close" partial_gone
check "cold read again with 1 MiB reads: bounded GETs" cold_read 1M
check "the free-space reserve holds after the second read" test "$(free_pct)" -ge 5
small_write() {
	echo hi >"$T/mnt/w" || fail "echo hi failed"
	[ "$(cat "$T/mnt/w")" = hi ] || fail "wrong bytes read back"
	head -c $((24 << 20)) /dev/urandom >"$T/w2"
	cp "$T/w2" "$T/mnt/w2" || fail "24 MiB write failed"
	cmp "$T/w2" "$T/mnt/w2"
}
check "writes work after the cold reads" small_write
check "the object is whole in S3" sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get small w2 '$T/w2.back' >/dev/null && cmp '$T/w2' '$T/w2.back'"
bpfuse_umount "$T/mnt"

# the same with a cache_size much smaller than the object, on a roomy disk
bpfuse_mount s3://small "$T/mnt" "cache_dir=$T/cache2,cache_size=16M"
check "cache_size=16M: cold read with 32 KiB reads: bounded GETs" cold_read 32k
bpfuse_umount "$T/mnt"
finish

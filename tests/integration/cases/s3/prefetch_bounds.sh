#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bounds of -o prefetch: what it fetched and nobody opened yet stays within half of
# cache_size (more follows as readers open it); objects over 64 MiB are left to
# readahead; an unmount with thousands of files queued returns promptly; a server that
# fails makes the prefetcher drop its queue and pause, not retry file after file.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb bounds >/dev/null
mkdir -p "$T/mnt" "$T/src"
M=$T/mnt

pf_stat() {
	"$BPFUSE" stats "$1" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["s3"]["prefetch"][sys.argv[1]])' "$2"
}
# put_many DIR N SIZE: N objects DIR/fNNNN of SIZE random bytes
put_many() {
	local i
	mkdir -p "$T/src/$1"
	for i in $(seq -f %04g 1 "$2"); do
		head -c "$3" /dev/urandom >"$T/src/$1/f$i"
	done
	# each PUT tried up to 3 times: a loaded radosgw may refuse one of 16 at once
	(cd "$T/src/$1" && ls) |
		xargs -P 16 -I{} bash -c 'for t in 1 2 3; do
			"$0" -e "$1" put bounds "$2/$3" "$4/$3" >/dev/null && exit 0; sleep 1; done; exit 1' \
			"$S3TOOL" "$S3_ENDPOINT" "$1" {} "$T/src/$1"
}
# idle MNT: the prefetch counters stop moving (queue drained, or workers waiting)
idle() {
	local a b
	a=$(pf_stat "$1" fetched):$(pf_stat "$1" skipped)
	sleep 1
	b=$(pf_stat "$1" fetched):$(pf_stat "$1" skipped)
	[ "$a" = "$b" ]
}

# the budget: 100 objects of 300 KiB, a 16 MiB cache: 8 MiB may be prefetched unread
put_many b 100 $((300 << 10))
s3_mount s3://bounds "$M" "profile=dataset,cache_size=16M,cache_dir=$T/cache-b"
ls "$M/b" >/dev/null
eventually 20 idle "$M"
f1=$(pf_stat "$M" fetched)
log "cache_size=16M: prefetched $f1 files ($(pf_stat "$M" bytes) bytes) of 100"
check "prefetched unread bytes stay within half of cache_size" \
	test "$(pf_stat "$M" bytes)" -le $((8 << 20))
check "but fill most of it" test "$f1" -ge 20
for f in $(ls "$T/src/b" | head -n 10); do
	cmp "$T/src/b/$f" "$M/b/$f"
done
more() { [ "$(pf_stat "$M" fetched)" -ge $((f1 + 10)) ]; }
check "opening 10 prefetched files lets 10 more be prefetched" eventually 20 more
check "no eviction: what was prefetched stays" test "$(daemon_stat "$M" evictions)" -eq 0
bpfuse_umount "$M"

# an object over 64 MiB is not prefetched
mkdir -p "$T/src/big"
head -c $((65 << 20)) /dev/urandom >"$T/src/big/huge"
head -c $((1 << 20)) /dev/urandom >"$T/src/big/small"
s3tool put bounds big/huge "$T/src/big/huge" >/dev/null
s3tool put bounds big/small "$T/src/big/small" >/dev/null
s3_mount s3://bounds "$M" "profile=dataset,cache_dir=$T/cache-big"
ls "$M/big" >/dev/null
eventually 20 idle "$M"
check "over 64 MiB: skipped, the small one fetched" \
	test "$(pf_stat "$M" fetched):$(pf_stat "$M" skipped)" = 1:1
check "over 64 MiB: no GET of it" test "$(s3_stat "$M" get)" -eq 1
bpfuse_umount "$M"

# unmount with thousands queued: the queue is dropped, not drained
put_many many 3000 $((16 << 10))
s3_mount s3://bounds "$M" "profile=dataset,prefetch_threads=1,cache_dir=$T/cache-u"
ls "$M/many" >/dev/null
q=$(pf_stat "$M" queued)
f=$(pf_stat "$M" fetched)
t0=$(date +%s%N)
bpfuse_umount "$M"
ms=$((($(date +%s%N) - t0) / 1000000))
log "unmount with $q queued, $f fetched: $ms ms"
check "3,000 files were queued" test "$q" -eq 3000
check "the unmount took under 3 s" test "$ms" -lt 3000

# the server gone: the prefetcher stops asking after the first failures
s3_mount s3://bounds "$M" "profile=dataset,prefetch_threads=2,s3_timeout=8,cache_dir=$T/cache-e"
ls "$M/many" >/dev/null
s3_stop
failed() { [ "$(pf_stat "$M" errors)" -ge 1 ]; }
check "the failures are counted" eventually 30 failed
g1=$(s3_stat "$M" get)
sleep 3
g2=$(s3_stat "$M" get)
log "server gone: fetched $(pf_stat "$M" fetched), errors $(pf_stat "$M" errors), skipped $(pf_stat "$M" skipped), GETs $g1 then $g2"
check "no GET after the pause began" test "$g2" -eq "$g1"
check "the queue was dropped" test "$(($(pf_stat "$M" fetched) + $(pf_stat "$M" skipped) + $(pf_stat "$M" errors)))" -ge 2990
bpfuse_umount "$M"
finish

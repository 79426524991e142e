#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An object overwritten in the bucket after the prefetcher stored it is not served stale
# past what docs/s3.md promises (list_ttl, then the new ETag): after list_ttl a read
# returns the new bytes; a listing that sees the new version prefetches it, and the read
# that follows makes no GET.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb stale >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
TTL=1
pf_stat() {
	"$BPFUSE" stats "$1" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["s3"]["prefetch"][sys.argv[1]])' "$2"
}
for f in a b c; do
	head -c $((200 << 10)) /dev/urandom >"$T/$f.1"
	head -c $((200 << 10)) /dev/urandom >"$T/$f.2"
	s3tool put stale "d/$f" "$T/$f.1" >/dev/null
done
s3_mount s3://stale "$M" "profile=dataset,list_ttl=$TTL"
ls "$M/d" >/dev/null
fetched() { [ "$(pf_stat "$M" fetched)" -ge "$1" ]; }
check "the three objects are prefetched" eventually 20 fetched 3

# a: overwritten, then read after list_ttl without a listing: the new bytes (one GET)
s3tool put stale d/a "$T/a.2" >/dev/null
sleep $((TTL + 1))
check "a read after list_ttl returns the new bytes, not the prefetched ones" cmp "$T/a.2" "$M/d/a"

# b: overwritten, then listed after list_ttl: the new version is prefetched
s3tool put stale d/b "$T/b.2" >/dev/null
sleep $((TTL + 1))
ls "$M/d" >/dev/null
check "a listing that sees the new version prefetches it" eventually 20 fetched 4
g=$(s3_stat "$M" get)
check "the read returns the new bytes" cmp "$T/b.2" "$M/d/b"
check "and makes no GET" test "$(s3_stat "$M" get)" -eq "$g"
check "c, unchanged, is read from the cache" cmp "$T/c.1" "$M/d/c"
check "with no GET either" test "$(s3_stat "$M" get)" -eq "$g"
log "prefetch: queued $(pf_stat "$M" queued), fetched $(pf_stat "$M" fetched), skipped $(pf_stat "$M" skipped), errors $(pf_stat "$M" errors)"
bpfuse_umount "$M"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# -o prefetch (on with profile=dataset): listing a directory queues its files for a
# background fetch into the cache.  Within seconds of an `ls` the cache holds every file,
# and a cold read loop over them (as a data loader's epoch) makes no GET, passes through
# the cache files and returns the bucket's bytes.  prefetch=off, and the default profile,
# make no GET on a listing.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb dset >/dev/null
mkdir -p "$T/mnt" "$T/src"
N=200
for i in $(seq -f %04g 1 $N); do
	head -c $((60000 + RANDOM * 3)) /dev/urandom >"$T/src/img$i.jpg"
done
(cd "$T/src" && ls) | xargs -P 16 -I{} "$S3TOOL" -e "$S3_ENDPOINT" put dset train/cls/{} "$T/src/{}" >/dev/null
M=$T/mnt

# pf_stat MNT NAME: daemon.s3.prefetch.NAME
pf_stat() {
	"$BPFUSE" stats "$1" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["s3"]["prefetch"][sys.argv[1]])' "$2"
}
ndata() { find "$1/objects" -name '*.data' 2>/dev/null | wc -l; }

s3_mount s3://dset "$M" profile=dataset
check "profile=dataset turns prefetch on" test "$(pf_stat "$M" on)" = True
check "ls lists the files" test "$(ls "$M/train/cls" | wc -l)" -eq $N
all_fetched() { [ "$(pf_stat "$M" fetched)" -eq $N ]; }
check "within 20 s the prefetcher fetched them all" eventually 20 all_fetched
log "prefetch: queued $(pf_stat "$M" queued), fetched $(pf_stat "$M" fetched), $(pf_stat "$M" bytes) bytes, skipped $(pf_stat "$M" skipped), errors $(pf_stat "$M" errors)"
check "the cache holds one data file per object" test "$(ndata "$T/cache")" -eq $N
check "the prefetched bytes are the objects' sizes" \
	test "$(pf_stat "$M" bytes)" -eq "$(cat "$T"/src/* | wc -c)"
# the same counters in the Prometheus exposition
prom=$("$BPFUSE" stats "$M" --prometheus)
prom_val() { awk -v k="$1" 'index($0, k) == 1 { print $NF }' <<<"$prom"; }
check "prometheus: the prefetch's fetched files" \
	test "$(prom_val 'bpfuse_s3_prefetch_files_total{mount="'"$M"'",outcome="fetched"}')" = $N
check "prometheus: the prefetch's bytes" \
	test "$(prom_val 'bpfuse_s3_prefetch_bytes_total{mount="'"$M"'"}')" = "$(pf_stat "$M" bytes)"
check "prometheus: the GETs" \
	test "$(prom_val 'bpfuse_s3_requests_total{mount="'"$M"'",kind="get"}')" = "$(s3_stat "$M" get)"
check "prometheus: every family has one TYPE line" \
	test "$(grep -c '^# TYPE bpfuse_s3_requests_total counter$' <<<"$prom")" = 1
g=$(s3_stat "$M" get)
p=$(daemon_stat "$M" passthrough_opens)
bad=0
for f in $(ls "$T/src" | shuf); do
	cmp -s "$T/src/$f" "$M/train/cls/$f" || bad=$((bad + 1))
done
check "a shuffled read loop returns the bucket's bytes" test "$bad" -eq 0
check "and makes no GET" test "$(s3_stat "$M" get)" -eq "$g"
check "every open passes through the cache file" \
	test "$(($(daemon_stat "$M" passthrough_opens) - p))" -eq $N
ls "$M/train/cls" >/dev/null
sleep 1
check "a second listing makes no GET (all in the cache)" test "$(s3_stat "$M" get)" -eq "$g"
bpfuse_umount "$M"

# reading right behind the listing: opens of files queued or being prefetched join the
# prefetch (or take the file over), nothing is fetched twice
bpfuse_mount s3://dset "$M" "profile=dataset,prefetch_threads=1,cache_dir=$T/cache-race"
bad=0
for f in $(ls "$M/train/cls"); do
	cmp -s "$T/src/$f" "$M/train/cls/$f" || bad=$((bad + 1))
done
check "read right after ls: the bucket's bytes" test "$bad" -eq 0
sleep 1
log "read right after ls: $(s3_stat "$M" get) GETs; prefetch fetched $(pf_stat "$M" fetched), skipped $(pf_stat "$M" skipped)"
check "read right after ls: one GET per object, none twice" test "$(s3_stat "$M" get)" -eq $N
bpfuse_umount "$M"

# off: a listing makes no GET (explicitly, and under the default profile)
for what in off default; do
	opts="cache_dir=$T/cache-$what"
	[ $what = off ] && opts="profile=dataset,prefetch=off,$opts"
	bpfuse_mount s3://dset "$M" "$opts"
	check "$what: prefetch is off" test "$(pf_stat "$M" on)" = False
	ls "$M/train/cls" >/dev/null
	sleep 2
	check "$what: a listing makes no GET" test "$(s3_stat "$M" get)" -eq 0
	check "$what: the cache holds nothing" test "$(ndata "$T/cache-$what")" -eq 0
	bpfuse_umount "$M"
done
finish

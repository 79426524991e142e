#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An object overwritten behind the mount (another client's PUT) is seen within list_ttl:
# stat shows the new size, a read returns the new bytes and the old version's cache file is
# removed.  The hard case is an overwrite with the same size in the same second
# (LastModified has one-second resolution): the kernel sees the same size and mtime, so
# only the daemon's explicit invalidation (it saw a new ETag) keeps the kernel from serving
# the old pages it kept for the inode (keep_cache).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb etag >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
TTL=1
s3_mount s3://etag "$M" "list_ttl=$TTL"

ndata() { find "$T/cache/objects" -name '*.data' | wc -l; }
mtime_of() { s3tool head etag "$1" | sed -n 's/.*mtime=\([0-9]*\).*/\1/p'; }

# wait_data N: the cache holds N data files (old versions go when their last open closes)
wait_data() {
	local i
	for i in $(seq 1 30); do
		[ "$(ndata)" -eq "$1" ] && return 0
		sleep 0.1
	done
	log "cache data files: $(ndata), expected $1"
	return 1
}

# same size, same second: v1 is read (kernel pages and cache file), then replaced
same=0
for try in 1 2 3 4 5 6; do
	head -c $((512 << 10)) /dev/urandom >"$T/a1"
	head -c $((512 << 10)) /dev/urandom >"$T/a2"
	# start at the beginning of a second so that both PUTs land in it
	while [ "$(date +%N | cut -c1)" != 0 ]; do sleep 0.02; done
	s3tool put etag "a$try" "$T/a1" >/dev/null
	m1=$(mtime_of "a$try")
	# one read only: it goes through the daemon and leaves the pages in the kernel (a
	# later open that passes through the complete cache file would drop them)
	cmp "$T/a1" "$M/a$try"
	s3tool put etag "a$try" "$T/a2" >/dev/null
	if [ "$(mtime_of "a$try")" = "$m1" ]; then
		same=1
		break
	fi
	log "try $try: the two PUTs straddled a second, again"
done
[ "$same" = 1 ] || fail "could not overwrite an object within one second"
A=$M/a$try
before=$(ndata)
sleep $((TTL + 1))
check "same size: stat after list_ttl shows the object's size" test "$(stat -c %s "$A")" -eq $((512 << 10))
check "same size: a read after list_ttl returns the new bytes" cmp "$T/a2" "$A"
check "same size: a second read returns the new bytes" cmp "$T/a2" "$A"
check "same size: the old version's cache file is gone" wait_data "$before"

# another size: the kernel would notice by itself, the cache file must still go
head -c $((300 << 10)) /dev/urandom >"$T/b1"
head -c $((700 << 10)) /dev/urandom >"$T/b2"
s3tool put etag b "$T/b1" >/dev/null
cmp "$T/b1" "$M/b"
cmp "$T/b1" "$M/b"
before=$(ndata)
s3tool put etag b "$T/b2" >/dev/null
sleep $((TTL + 1))
check "new size: stat shows it" test "$(stat -c %s "$M/b")" -eq $((700 << 10))
check "new size: a read returns the new bytes" cmp "$T/b2" "$M/b"
check "new size: the old version's cache file is gone" wait_data "$before"

# a listing sees the change first (ls -l after list_ttl, then the read)
s3tool put etag b "$T/b1" >/dev/null
sleep $((TTL + 1))
ls -l "$M" >/dev/null
check "after a listing: the read returns the new bytes" cmp "$T/b1" "$M/b"
check "after a listing: the old version's cache file is gone" wait_data "$before"

bpfuse_umount "$M"
finish

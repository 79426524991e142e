#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A cache dir on or under the mountpoint, or a mountpoint inside the cache dir (directly,
# through a symlink or a bind mount), is refused before mount(2) with one line: such a
# mount would send the daemon's own cache writes back to itself, and the first create hung
# in D state for good.  A local source holding its mountpoint is refused too (the daemon
# would pin its own mount: umount said EBUSY).  A cache dir that merely shares a name
# prefix with the mountpoint is fine.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb nest >/dev/null
mkdir -p "$T/mnt" "$T/c" "$T/c/mnt" "$T/src/inner" "$T/bind"
ln -s "$T/mnt" "$T/link-to-mnt"
ln -s "$T/c" "$T/link-to-c"
need_bpfuse
for m in "$T/mnt" "$T/c/mnt" "$T/link-to-c/mnt" "$T/src/inner"; do
	track_mount "$m"
done

# refused SRC MNT WANT [-o OPTS]: the mount fails with one line matching WANT, nothing is
# mounted on MNT and no daemon serves it
refused() {
	local src=$1 mnt=$2 want=$3 rc=0 out real
	shift 3
	out=$(timeout 60 "$BPFUSE" mount "$src" "$mnt" "$@" 2>&1) || rc=$?
	log "mount $src $mnt $*: exit $rc: $out"
	real=$(realpath "$mnt")
	if [ "$rc" -eq 0 ]; then
		timeout 20 "$BPFUSE" umount "$real" || true
		fail "mount accepted"
	fi
	[ "$rc" -ne 124 ] || fail "mount hung"
	assert_not_mounted "$real"
	assert_no_daemon "$mnt"
	[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "more than one line"
	echo "$out" | grep -Eq "$want" || fail "message does not say '$want'"
}
check "cache dir = mountpoint" refused s3://nest "$T/mnt" "on or under the mountpoint" \
	-o cache_dir="$T/mnt"
check "cache dir under the mountpoint (not yet created)" refused s3://nest "$T/mnt" \
	"on or under the mountpoint" -o cache_dir="$T/mnt/a/cache"
check "cache dir under the mountpoint through a symlink" refused s3://nest "$T/mnt" \
	"on or under the mountpoint" -o cache_dir="$T/link-to-mnt/cache"
check "mountpoint inside the cache dir" refused s3://nest "$T/c/mnt" \
	"inside the cache dir" -o cache_dir="$T/c"
check "mountpoint inside the cache dir through a symlink" refused s3://nest \
	"$T/link-to-c/mnt" "inside the cache dir" -o cache_dir="$T/c"
mount --bind "$T/mnt" "$T/bind" || fail "cannot bind-mount '$T/mnt'"
at_cleanup "umount -l '$T/bind'"
check "cache dir under a bind mount of the mountpoint" refused s3://nest "$T/mnt" \
	"on or under the mountpoint" -o cache_dir="$T/bind/cache"
umount "$T/bind"
check "local: mountpoint inside the source" refused "$T/src" "$T/src/inner" \
	"inside the source"

# the checks compare path components, not strings: $T/mnt-cache is not under $T/mnt
good_neighbour() {
	bpfuse_mount s3://nest "$T/mnt" "cache_dir=$T/mnt-cache"
	echo hi >"$T/mnt/f"
	[ "$(cat "$T/mnt/f")" = hi ]
	bpfuse_umount "$T/mnt"
}
check "a cache dir beside the mountpoint works" good_neighbour
finish

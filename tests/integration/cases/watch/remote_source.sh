#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A source on a filesystem whose changes inotify cannot all see (here another
# FUSE mount: a change made beneath it produces no event on it) gets short
# timeouts even with profile=dataset: a change made behind both mounts shows
# within 2 s. trust_watch=on keeps the long timeouts, and with them the stale
# size (what the option gives up).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

mkdir "$T/src" "$T/fuse" "$T/mnt" "$T/mnt2"
echo one >"$T/src/f"
bpfuse_mount "$T/src" "$T/fuse" invalidate=off
bpfuse_mount "$T/fuse" "$T/mnt" profile=dataset
assert_eq 4 "$(stat -c %s "$T/mnt/f")" "first stat"
[ ! -e "$T/mnt/new" ] || fail "new exists before it was created"
echo "two, longer" >"$T/src/f"
echo new >"$T/src/new"
sleep 2.5
assert_eq 12 "$(stat -c %s "$T/mnt/f")" "size of a file changed beneath a FUSE source after 2.5 s"
assert_eq new "$(cat "$T/mnt/new" 2>/dev/null || echo missing)" "a create beneath a FUSE source"
bpfuse_umount "$T/mnt"

# the same with trust_watch=on: the kernel keeps what it cached
# (f held open: another agent's vm.drop_caches must not evict what is cached)
bpfuse_mount "$T/fuse" "$T/mnt2" profile=dataset,trust_watch=on
assert_eq 12 "$(stat -c %s "$T/mnt2/f")" "first stat, trust_watch=on"
sleep 600 4<"$T/mnt2/f" &
holder=$!
at_cleanup "kill $holder 2>/dev/null || true"
echo "three, longer still" >"$T/src/f"
sleep 2.5
assert_eq 12 "$(stat -c %s "$T/mnt2/f")" "trust_watch=on keeps the cached size"
kill "$holder"
wait "$holder" 2>/dev/null || true
bpfuse_umount "$T/mnt2"
bpfuse_umount "$T/fuse"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# profile=shared honours its 1 s timeouts: within a timeout the kernel answers
# repeated stats itself; after it, the next stat asks the daemon again, and a
# change made behind the mount (with invalidation off) is seen.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/stats.sh"
setup_case "$@"

mkdir -p "$T/src" "$T/mnt"
echo one >"$T/src/f"
bpfuse_mount "$T/src" "$T/mnt" profile=shared,invalidate=off
stat "$T/mnt/f" >/dev/null
stats_json "$T/mnt" "$T/a.json"
for _ in $(seq 50); do stat "$T/mnt/f" >/dev/null; done
stats_json "$T/mnt" "$T/b.json"
n=$(($(stats_delta "$T/a.json" "$T/b.json" daemon GETATTR) + $(stats_delta "$T/a.json" "$T/b.json" daemon LOOKUP)))
[ "$n" -le 2 ] || fail "50 stats within the timeout reached the daemon $n times"

echo "changed, longer" >"$T/src/f"
sleep 1.3
stats_json "$T/mnt" "$T/c.json"
[ "$(stat -c %s "$T/mnt/f")" = 16 ] || fail "size change not seen after the 1 s attr timeout"
stats_json "$T/mnt" "$T/d.json"
n=$(($(stats_delta "$T/c.json" "$T/d.json" daemon GETATTR) + $(stats_delta "$T/c.json" "$T/d.json" daemon LOOKUP)))
[ "$n" -ge 1 ] || fail "stat after the timeout did not ask the daemon"
bpfuse_umount "$T/mnt"
finish

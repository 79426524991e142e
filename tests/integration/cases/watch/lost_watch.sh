#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A directory the watcher cannot watch is a lost watch: its changes made behind
# the mount produce no event, so the daemon must drop what the kernel caches
# for the mount (counted as watch_full_drops) and cap every later reply's
# timeouts at 1 s, even with profile=dataset (timeouts of a year).
# The watch is lost by running the daemon out of descriptors (its soft
# RLIMIT_NOFILE lowered with prlimit for one lookup: the lookup gets the last
# descriptor, the watch's own one fails with EMFILE), not by lowering the
# global fs.inotify.max_user_watches, which every other root process shares.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse
command -v prlimit >/dev/null || skip "no prlimit (util-linux)"

S=$T/src
mkdir "$S" "$S/e1" "$T/mnt"
echo one >"$S/e1/f"
echo top >"$S/g"
bpfuse_mount "$S" "$T/mnt" profile=dataset
pid=$(daemon_pids "$T/mnt" | head -n 1)
[ -n "$pid" ] || fail "no daemon serves '$T/mnt'"
counter() {
	"$BPFUSE" stats "$T/mnt" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"].get(sys.argv[1], -1))' "$1"
}
assert_eq top "$(cat "$T/mnt/g")" "a file at the top"
assert_eq 0 "$(counter watch_full_drops)" "full drops before the watch is lost"

# the two lowest free descriptor numbers of the daemon: allow the first only
read -r f1 f2 < <(python3 - "$pid" <<'PY'
import os, sys
used = {int(n) for n in os.listdir("/proc/%s/fd" % sys.argv[1])}
free = [n for n in range(max(used) + 3) if n not in used]
print(free[0], free[1])
PY
)
hard=$(prlimit --pid "$pid" --nofile --noheadings --output HARD --raw)
soft=$(prlimit --pid "$pid" --nofile --noheadings --output SOFT --raw)
prlimit --pid "$pid" --nofile="$f2:$hard"
at_cleanup "prlimit --pid $pid --nofile=$soft:$hard 2>/dev/null || true"
stat "$T/mnt/e1" >/dev/null # LOOKUP: its O_PATH descriptor is $f1; the watch's dup fails
prlimit --pid "$pid" --nofile="$soft:$hard"
log "daemon $pid: descriptors $f1 allowed, $f2 refused for the lookup of e1"

full_dropped() { [ "$(counter watch_full_drops)" -ge 1 ]; }
eventually 5 full_dropped ||
	fail "a directory left unwatched did not drop the mount (watch_full_drops $(counter watch_full_drops))"
assert_eq 4 "$(stat -c %s "$T/mnt/e1/f")" "size of e1/f, looked up after the watch was lost"
[ ! -e "$T/mnt/e1/new" ] || fail "e1/new exists before it was created"
# behind the mount, in the unwatched directory: seen once the capped timeouts pass
echo "one, longer" >"$S/e1/f"
echo new >"$S/e1/new"
sleep 2.5
assert_eq 12 "$(stat -c %s "$T/mnt/e1/f")" "size of e1/f changed behind the mount in an unwatched directory, after 2.5 s"
assert_eq new "$(cat "$T/mnt/e1/new" 2>/dev/null || echo missing)" "a file created behind the mount in an unwatched directory, after 2.5 s"
bpfuse_umount "$T/mnt"
finish

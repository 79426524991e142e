#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# flock(2): closing the last descriptor of an open file description releases
# its lock before close() returns, so another description can take LOCK_EX
# with LOCK_NB right away (the pattern of `flock -n` lock files). Repeated
# because a late release is a race; a plain directory never fails it.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

TRIES=300

# flock_loop FILE: print how many of TRIES immediate LOCK_EX|LOCK_NB failed
flock_loop() {
	python3 - "$1" "$TRIES" <<'PY'
import fcntl, os, sys
p, n = sys.argv[1], int(sys.argv[2])
open(p, "w").close()
bad = 0
for i in range(n):
    a = os.open(p, os.O_RDWR)
    b = os.open(p, os.O_RDWR)
    fcntl.flock(a, fcntl.LOCK_SH)
    fcntl.flock(b, fcntl.LOCK_SH)
    os.close(b)
    try:
        fcntl.flock(a, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        bad += 1
    os.close(a)
print(bad)
PY
}

mkdir "$T/plain"
assert_eq 0 "$(flock_loop "$T/plain/lk")" "failures on a plain directory (harness sanity)"

run() {
	local mode=$1 M=$T/mnt_$1 bad
	bpfuse_mount "$T/src_$mode" "$M" "passthrough=$mode"
	bad=$(flock_loop "$M/lk")
	bpfuse_umount "$M"
	[ "$bad" -eq 0 ] ||
		fail "passthrough=$mode: LOCK_EX|LOCK_NB right after close() of the other holder failed $bad of $TRIES times (lock released late)"
}

for mode in on off; do
	mkdir "$T/src_$mode" "$T/mnt_$mode"
	track_mount "$T/mnt_$mode"
	check "flock released by close(), passthrough=$mode" run "$mode"
done
finish

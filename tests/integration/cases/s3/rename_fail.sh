#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rename_fail: the S3 server stops answering (SIGSTOP) in the middle of a directory rename
# (paused after its 20th of 50 copies by the test-only hook, docs/s3.md): the rename fails
# with EIO within the timeouts, nothing moved as far as the mount shows; the copies it
# could not remove stay journaled, and the unmount (the server back) rolls them back:
# every object exactly once at its old name, the journal gone.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
rgw_pid=$(cat "$D/run/client.rgw.pid")
grep -q radosgw "/proc/$rgw_pid/cmdline" || fail "no radosgw at pid $rgw_pid"
at_cleanup "kill -CONT $rgw_pid 2>/dev/null"
s3tool mb fail >/dev/null
M=$T/mnt
mkdir -p "$M" "$T/src"
python3 - "$T/src" <<'PY'
import os, sys
root = sys.argv[1]
for d in ["", "x", "x/y", "z"]:
    os.makedirs(os.path.join(root, d), exist_ok=True)
for i in range(46):  # + 4 directory markers = 50 objects
    with open(os.path.join(root, ["", "x", "x/y", "z"][i % 4], "f%02d" % i), "wb") as f:
        f.write(os.urandom(100 + i * 37))
PY
s3_mount s3://fail "$M"
cp -a "$T/src" "$M/top"
bpfuse_umount "$M"
keys() { s3tool ls fail 2>/dev/null | awk '$1 == "K" { print $2, $3 }' | sort; }
count() { keys | grep -c "^$1" || true; }
journals() { find "$T/cache/staging" -name 'rename-*' | wc -l; }
keys >"$T/orig"

export BPFUSE_TEST_RENAME_STALL=copy:20:3
s3_mount s3://fail "$M" s3_timeout=8
unset BPFUSE_TEST_RENAME_STALL
errno_of rename "$M/top" "$M/moved" >"$T/rename.out" &
renamer=$!
for _ in $(seq 1 100); do
	[ "$(count moved/)" -ge 20 ] && break
	sleep 0.1
done
check "the rename paused after 20 copies" test "$(count moved/)" = 20
kill -STOP "$rgw_pid"
stopped=$(date +%s)
for _ in $(seq 1 600); do
	kill -0 "$renamer" 2>/dev/null || break
	sleep 0.1
done
took=$(($(date +%s) - stopped))
kill -CONT "$rgw_pid"
wait "$renamer" || true
log "the rename answered '$(cat "$T/rename.out")' $took s after the server stopped"
check "the rename failed with EIO" test "$(cat "$T/rename.out")" = EIO
check "within two s3_timeouts (the copy, then the first delete of the rollback)" \
	test "$took" -le 20
check "the mount shows nothing moved" diff -r "$T/src" "$M/top"
check "the copies it could not remove are journaled" test "$(journals)" = 1
bpfuse_umount "$M"
keys >"$T/now"
check "the unmount rolled them back: every object once, at its old name" \
	diff -u "$T/orig" "$T/now"
check "the journal is gone" test "$(journals)" = 0
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rename_crash: kill -9 of the daemon in the middle of a directory rename (50 objects),
# stopped at a known point by the test-only hook BPFUSE_TEST_RENAME_STALL (docs/s3.md),
# then a forced unmount and a remount of the same cache directory:
# - during the copies (before the commit): rolled back, every object exactly once at its
#   old name;
# - during the deletes (after the commit): finished, every object exactly once at its new
#   name;
# - a file's rename stopped after its copy: finished (a file's rename commits at once);
# each time the bytes are the same and the journal is gone (a read-only mount leaves it).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb crash >/dev/null
M=$T/mnt
mkdir -p "$M" "$T/src"
python3 - "$T/src" <<'PY'
import os, sys
root = sys.argv[1]
for d in ["", "x", "x/y", "z"]:
    os.makedirs(os.path.join(root, d), exist_ok=True)
# names the journal must escape: a space, a '%', bytes >= 0x80
odd = {0: "sp ace", 1: "per%cent", 2: "caf\u00e9"}
for i in range(46):  # + 4 directory markers = 50 objects
    d = ["", "x", "x/y", "z"][i % 4]
    with open(os.path.join(root, d, odd.get(i, "f%02d" % i)), "wb") as f:
        f.write(os.urandom(100 + i * 37))
PY
s3_mount s3://crash "$M"
cp -a "$T/src" "$M/top"
echo "a file" >"$M/file"
bpfuse_umount "$M"
# "KEY SIZE" per object (keys may hold spaces)
keys() { s3tool ls crash 2>/dev/null | sed -n 's/^K \(.*\) \([0-9]*\) [^ ]*$/\1 \2/p' | sort; }
keys >"$T/orig"
nobj=$(grep -c '^top/' "$T/orig")
log "$nobj objects under top/"
[ "$nobj" = 50 ] || fail "expected 50 objects, got $nobj"

# crash_at STALL FROM TO COND: mount with the hook, rename FROM to TO in the background,
# wait until COND (a shell command) holds, kill -9 the daemon, force the unmount
crash_at() {
	local stall=$1 from=$2 to=$3 cond=$4 i ok=0 p
	export BPFUSE_TEST_RENAME_STALL=$stall
	s3_mount s3://crash "$M"
	unset BPFUSE_TEST_RENAME_STALL
	python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$M/$from" "$M/$to" \
		2>/dev/null &
	local renamer=$!
	for i in $(seq 1 200); do
		if eval "$cond"; then
			ok=1
			break
		fi
		sleep 0.1
	done
	sleep 0.5 # the hook stops the rename for good: nothing moves any more
	for p in $(daemon_pids "$M"); do
		kill -KILL "$p"
	done
	wait_no_daemon "$M" 10 || fail "the daemon did not die"
	wait "$renamer" 2>/dev/null || true
	umount "$M" 2>/dev/null || umount -l "$M"
	[ "$ok" = 1 ] || fail "the rename never reached '$cond'"
}
count() { keys | grep -c "^$1" || true; }
journals() { find "$T/cache/staging" -name 'rename-*' | wc -l; }

# 1. during the copies: 20 of 50 made, both trees partly there; rolled back
crash_at copy:20 top moved '[ "$(count moved/)" -ge 20 ]'
log "killed during the copies: $(count top/) old, $(count moved/) new objects, $(journals) journal"
check "the crash left the objects half copied" test "$(count moved/)" = 20
check "and the journal" test "$(journals)" = 1
escaped() {
	local j
	j=$(find "$T/cache/staging" -name 'rename-*')
	grep -qx 'key sp%20ace' "$j" && grep -qx 'key x/per%25cent' "$j" &&
		grep -qx 'key x/y/caf%C3%A9' "$j" && grep -qx 'from top/' "$j" && ! grep -q committed "$j"
}
check "the journal lists the keys, escaped, and no commit" escaped
check "the journal is 0600 in the 0700 staging dir" test "$(stat -c %a "$T/cache/staging" \
	"$(find "$T/cache/staging" -name 'rename-*')" | tr '\n' ' ')" = "700 600 "
keys >"$T/crashed"
s3_mount s3://crash "$M" ro
keys >"$T/now"
check "a read-only mount leaves it as it is" diff -u "$T/crashed" "$T/now"
check "and keeps the journal" test "$(journals)" = 1
bpfuse_umount "$M"
s3_mount s3://crash "$M"
keys >"$T/now"
check "rolled back: every object exactly once, at its old name" diff -u "$T/orig" "$T/now"
check "the journal is gone" test "$(journals)" = 0
check "the bytes at the old name" diff -r "$T/src" "$M/top"
check "no new name" test ! -e "$M/moved"
bpfuse_umount "$M"

# 2. during the deletes: committed, 20 of 50 old objects deleted; finished
crash_at delete:20 top moved '[ "$(count top/)" -le 30 ]'
log "killed during the deletes: $(count top/) old, $(count moved/) new objects, $(journals) journal"
check "the crash left both trees" test "$(count top/)" = 30 -a "$(count moved/)" = 50
s3_mount s3://crash "$M"
keys >"$T/now"
sed 's#^top/#moved/#' "$T/orig" | sort >"$T/want"
check "finished: every object exactly once, at its new name" diff -u "$T/want" "$T/now"
check "the journal is gone" test "$(journals)" = 0
check "the bytes at the new name" diff -r "$T/src" "$M/moved"
check "no old name" test ! -e "$M/top"
bpfuse_umount "$M"

# 3. a file's rename, killed after its copy: finished
crash_at copy:1 file file2 '[ "$(count file2)" = 1 ]'
check "the crash left the file under both names" test "$(count file)" = 2
s3_mount s3://crash "$M"
check "finished: the file only at its new name" test "$(count file)" = 1 -a "$(count file2)" = 1
check "its bytes" test "$(cat "$M/file2")" = "a file"
check "the journal is gone" test "$(journals)" = 0
bpfuse_umount "$M"
finish

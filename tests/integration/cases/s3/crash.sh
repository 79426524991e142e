#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# crash: the daemon killed with SIGKILL loses no byte it acknowledged, and keeps the bytes
# of a failed upload for the next mount:
# - a failed upload (the bucket is gone) leaves a named, 0600 file and its 0600 key file
#   (with the file's attributes, which the upload by the next mount keeps)
#   in the 0700 <cache_dir>/staging at once; after a kill -9 the next mount of that cache
#   directory uploads it (checked with a GET) and removes both;
# - kill -9 while a writer appends and fsyncs, several times in a loop bounded in time:
#   after each, the object (GET) holds every byte whose fsync returned, and the bytes
#   after them (an fsync in flight may have reached S3) are the ones written.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb crash >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt

# kill_daemon: SIGKILL the daemon serving $M, then take the dead mount away
kill_daemon() {
	local p
	for p in $(daemon_pids "$M"); do
		kill -KILL "$p"
	done
	wait_no_daemon "$M" 10 || fail "the daemon did not die"
	umount "$M" 2>/dev/null || umount -l "$M"
}

# ---- a failed upload is kept, named and private, and uploaded by the next mount
s3_mount s3://crash "$M"
s3tool rb crash >/dev/null # uploads fail: NoSuchBucket
head -c $((300 << 10)) /dev/urandom >"$T/k"
rc=0
python3 - "$M/kept" "$T/k" <<'PY' || rc=$?
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
os.write(fd, open(sys.argv[2], "rb").read())
try:
    os.fsync(fd)
except OSError as e:
    print("fsync: %s" % e, file=sys.stderr)
    sys.exit(3)
PY
check "fsync reports the failed upload" test "$rc" = 3
S=$T/cache/staging
# (the close after the fsync, and the RELEASE after it, try the upload again and rewrite
# the key file through a temporary "*.key.tmp": not the kept file)
kept=$(find "$S" -maxdepth 1 -name 'unuploaded-*' ! -name '*.key' ! -name '*.tmp' | head -n 1)
log "staging after the failed fsync: $(find "$S" -mindepth 1 -printf "%m %f; ")"
check "the bytes are kept under a name at once" test -n "$kept"
check "the staging directory is 0700" test "$(stat -c %a "$S")" = 700
check "every file in it is 0600" test -z "$(find "$S" -mindepth 1 ! -perm 0600)"
if [ -n "$kept" ]; then
	check "the kept file holds the bytes" cmp "$T/k" "$kept"
	check "its key file names the object" grep -qx "s3://crash/kept" "$kept.key"
	# 33184 = S_IFREG | 0640: the mode it was created with, not the mount's default
	check "... and keeps its mode and owner" \
		sh -c "grep -qx 'meta mode:33184' '$kept.key' && grep -qx 'meta uid:0' '$kept.key'"
fi
kill_daemon
# a crash in the middle of copying the kept file again leaves a partial "*.new" (the
# kept file it was to replace is intact): the next mount removes it
[ -n "$kept" ] && head -c 100 "$kept" >"$kept.new" && chmod 600 "$kept.new"
s3tool mb crash >/dev/null
s3_mount s3://crash "$M"
rc=0
s3tool get crash kept "$T/k.get" >/dev/null 2>&1 || rc=$?
check "the next mount uploaded the kept bytes" sh -c "test $rc = 0 && cmp '$T/k' '$T/k.get'"
check "and removed them from the staging area" test -z "$(ls "$S")"
kept_meta() {
	s3tool head crash kept >"$T/kept.head"
	grep -qx 'x-amz-meta-mode:33184' "$T/kept.head" && grep -qx 'x-amz-meta-uid:0' "$T/kept.head" &&
		grep -q '^x-amz-meta-mtime:' "$T/kept.head"
}
check "with the file's mode, owner and mtime" kept_meta
bpfuse_umount "$M"

# ---- kill -9 during fsync'd appends, bounded in time
# byte i of the log is pattern(i), so any prefix of it can be checked
cat >"$T/append.py" <<'PY'
import os, random, sys
path, acked, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
def pattern(off, n):
    return bytes(((i * 131) ^ (i >> 9)) & 0xff for i in range(off, off + n))
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
open(acked + ".ready", "w").close() # open on the mount: the kill may come
try:
    while True:
        off = os.fstat(fd).st_size
        os.write(fd, pattern(off, rnd.randint(1, 16384)))
        os.fsync(fd)
        size = os.fstat(fd).st_size
        tmp = acked + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(size))
        os.replace(tmp, acked)
        if size > (3 << 20):
            break
except OSError:
    pass
PY
cat >"$T/verify.py" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
acked = int(open(sys.argv[2]).read())
want = bytes(((i * 131) ^ (i >> 9)) & 0xff for i in range(len(data)))
if len(data) < acked:
    sys.exit("the object has %d bytes, %d were acknowledged" % (len(data), acked))
if data != want:
    bad = next(i for i in range(len(data)) if data[i] != want[i])
    sys.exit("byte %d differs (%d bytes, %d acknowledged)" % (bad, len(data), acked))
print("%d bytes, %d acknowledged" % (len(data), acked))
PY
echo 0 >"$T/acked"
start=$(date +%s)
round=0 lost=0
while [ "$round" -lt 20 ] && [ $(($(date +%s) - start)) -lt 90 ]; do
	round=$((round + 1))
	s3_mount s3://crash "$M"
	rm -f "$T/acked.ready"
	python3 "$T/append.py" "$M/log" "$T/acked" "$round" &
	app=$!
	for _ in $(seq 1 100); do
		[ -e "$T/acked.ready" ] && break
		sleep 0.1
	done
	sleep "0.$((RANDOM % 9 + 1))"
	kill_daemon
	wait "$app" || true
	s3_mount s3://crash "$M" # the next mount: kept bytes go up first
	if out=$(s3tool get crash log "$T/log.get" 2>&1 && python3 "$T/verify.py" "$T/log.get" "$T/acked" 2>&1); then
		log "round $round: $out"
	else
		log "round $round: $out"
		lost=$((lost + 1))
	fi
	bpfuse_umount "$M"
done
log "$round rounds of kill -9 in $(($(date +%s) - start)) s"
check "no acknowledged byte lost in $round rounds of kill -9 (rounds with a loss: $lost)" \
	test "$lost" -eq 0
check "20 rounds ran (within the 90 s bound)" test "$round" -ge 20
finish

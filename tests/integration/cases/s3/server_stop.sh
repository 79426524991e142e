#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The S3 server frozen (SIGSTOP) in the middle of a cold read: the read fails with EIO
# within s3_timeout, and the mount serves again after SIGCONT.  Then the server stopped
# for good in the middle of a cold read: the read ends (with EIO, or whole if it was
# already fetched) within the documented bound, never hangs; the mount keeps answering
# and unmounts cleanly.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb stop >/dev/null
mkdir -p "$T/mnt"
head -c $((256 << 20)) /dev/urandom >"$T/big"
s3tool put stop big "$T/big" >/dev/null

# A server that stops answering (SIGSTOP: connections open, nothing moves) fails a READ
# within s3_timeout (docs/s3.md), not after several of them; after SIGCONT the mount
# serves again.  A slow reader, so that the read is still going when the server stops.
head -c $((128 << 20)) /dev/urandom >"$T/mid"
s3tool put stop mid "$T/mid" >/dev/null
s3_mount s3://stop "$T/mnt" s3_timeout=10
stat "$T/mnt/mid" >/dev/null
rgw_pid=$(cat "$D/run/client.rgw.pid")
grep -q radosgw "/proc/$rgw_pid/cmdline" || fail "no radosgw at pid $rgw_pid"
at_cleanup "kill -CONT $rgw_pid 2>/dev/null"
python3 - "$T/mnt/mid" "$T/mid" >"$T/slow.out" 2>&1 <<'PY' &
import os, sys, time
src, ref = sys.argv[1], sys.argv[2]
fd = os.open(src, os.O_RDONLY)
rf = open(ref, "rb")
off = 0
while True:
    t0 = time.monotonic()
    try:
        b = os.pread(fd, 1 << 20, off)
    except OSError as e:
        print("error %s after a read of %.1f s at %d MiB at %.1f" %
              (e.strerror, time.monotonic() - t0, off >> 20, time.time()))
        sys.exit(2)
    if not b:
        print("whole at %.1f" % time.time())
        sys.exit(0)
    if b != rf.read(len(b)):
        print("wrong bytes at %d" % off)
        sys.exit(1)
    off += len(b)
    time.sleep(0.03)
PY
slow=$!
sleep 1.5
kill -STOP "$rgw_pid"
stopped=$(date +%s.%N)
rc=0
wait "$slow" || rc=$?
ended=$(date +%s.%N)
kill -CONT "$rgw_pid"
log "SIGSTOP: reader exit $rc: $(cat "$T/slow.out"), $(echo "$ended - $stopped" | bc) s after the stop"
check "SIGSTOP: the read failed with EIO (not wrong bytes, not whole)" \
	grep -q "^error Input/output error" "$T/slow.out"
check "SIGSTOP: the failing read took at most s3_timeout (10 s) + 1 s" python3 -c "
import re, sys
m = re.search(r'after a read of ([0-9.]+) s', open('$T/slow.out').read())
sys.exit(0 if m and float(m.group(1)) <= 11 else 1)"
check "SIGSTOP: failed within 13 s of the stop" python3 -c "
import sys; sys.exit(0 if $ended - $stopped <= 13 else 1)"
recovered() {
	local i
	for i in $(seq 1 30); do
		timeout 60 cmp "$T/mid" "$T/mnt/mid" 2>/dev/null && return 0
		sleep 1
	done
	return 1
}
check "SIGCONT: the mount serves the object again, right bytes" recovered
bpfuse_umount "$T/mnt"

s3_mount s3://stop "$T/mnt"
stat "$T/mnt/big" >/dev/null

t0=$(date +%s)
(
	rc=0
	cmp "$T/big" "$T/mnt/big" >"$T/cmp.out" 2>&1 || rc=$?
	echo "$rc" >"$T/cmp.rc"
) &
reader=$!
sleep 0.4
s3_stop
waited=0
while [ ! -e "$T/cmp.rc" ] && [ "$waited" -lt 90 ]; do
	sleep 1
	waited=$((waited + 1))
done
t1=$(date +%s)
rc=$(cat "$T/cmp.rc" 2>/dev/null || echo hung)
log "read ended after $((t1 - t0)) s with status $rc: $(head -c 300 "$T/cmp.out")"
check "the read did not hang" test "$rc" != hung
check "within the documented bound (30 s)" test $((t1 - t0)) -le 30
check "a clean error or the right bytes" test "$rc" = 0 -o "$rc" = 2
if [ "$rc" = 2 ]; then
	check "the error is EIO" grep -q "Input/output error" "$T/cmp.out"
fi
wait "$reader" 2>/dev/null || true
ls_t0=$(date +%s)
timeout 60 ls "$T/mnt" >/dev/null 2>&1 || true
check "the mount still answers (ls within 30 s)" test $(($(date +%s) - ls_t0)) -le 30
bpfuse_umount "$T/mnt"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An S3 mount served by FUSE-over-io_uring unmounts cleanly while a request is
# still being served: a file written, its close failing because the server is
# down (the upload is retried in the daemon), then the unmount.  libfuse 3.18
# ends its ring threads with pthread_cancel(); a ring thread cancelled inside
# that request left the file's lock taken and the daemon hung at exit (never
# exited).  Now the daemon exits, and the bytes are kept in the staging area.
# And io_uring=auto keeps an S3 mount on /dev/fuse reads even with the switch on.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"

SWITCH=/sys/module/fuse/parameters/enable_uring
[ -e /dev/fuse ] && : </dev/fuse 2>/dev/null # loads a modular fuse, as a mount would
[ -e "$SWITCH" ] ||
	skip "this kernel has no FUSE-over-io_uring (no $SWITCH: needs Linux >= 6.14 with CONFIG_FUSE_IO_URING)"
prev=$(cat "$SWITCH")
at_cleanup "echo '$prev' >'$SWITCH'"

s3_start
s3tool mb ring >/dev/null
mkdir -p "$T/mnt"

# auto keeps S3 mounts on /dev/fuse reads even with the switch on, and says why
echo Y >"$SWITCH"
s3_mount s3://ring "$T/mnt" io_uring=auto
"$BPFUSE" stats "$T/mnt" --json | grep -q '"transport":"dev_fuse","uring_requests":0,"uring_off_reason":"auto does not use it for S3 mounts' ||
	fail "io_uring=auto on S3: $("$BPFUSE" stats "$T/mnt" | grep transport)"
bpfuse_umount "$T/mnt"
echo N >"$SWITCH"

s3_mount s3://ring "$T/mnt" io_uring=on
"$BPFUSE" stats "$T/mnt" --json | grep -q '"transport":"io_uring"' ||
	fail "the mount does not use io_uring: $("$BPFUSE" stats "$T/mnt" | grep transport)"

head -c $((200 << 10)) /dev/urandom >"$T/data"
python3 - "$T/mnt/f" "$T/data" "$T/go" "$T/rc" <<'PY' &
import os, sys, time
path, src, go, rcf = sys.argv[1:5]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, open(src, "rb").read())
open(go + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.05)
rc = 0
try:
    os.close(fd)
except OSError as e:
    rc = e.errno
open(rcf, "w").write(str(rc))
PY
for _ in $(seq 300); do [ -e "$T/go.ready" ] && break; sleep 0.1; done
[ -e "$T/go.ready" ] || fail "the writer did not start"
uring=$("$BPFUSE" stats "$T/mnt" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uring_requests"])')
[ "$uring" -gt 0 ] || fail "no request came by the ring"

s3_stop
touch "$T/go"
for _ in $(seq 600); do [ -e "$T/rc" ] && break; sleep 0.1; done
[ -e "$T/rc" ] || fail "the close did not return"
[ "$(cat "$T/rc")" != 0 ] || fail "the close succeeded with the server down"
bpfuse_umount "$T/mnt" # fails if the daemon has not exited 20 s after the unmount
kept=$(find "$T/cache/staging" -name 'unuploaded-*' ! -name '*.key' | head -n 1)
[ -n "$kept" ] || fail "the bytes were not kept in the staging area: $(ls "$T/cache/staging")"
cmp "$T/data" "$kept" || fail "the kept bytes differ"
echo "$prev" >"$SWITCH"
finish

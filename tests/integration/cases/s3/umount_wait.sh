#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# umount_wait: `bpfuse umount` waits for the uploads the server still makes at unmount,
# up to --wait SECONDS, and says what is left when it stops waiting; the server goes on
# and finishes the upload once the S3 server answers again, then exits.  A mount made
# while it waits takes the unmounted connection's id (the kernel hands out the lowest
# free one): the waiting umount still shows the first server's progress.  Its stderr
# is no terminal: one line, the outcome.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb uwait >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
s3_mount s3://uwait "$M"
check "--wait takes seconds only" sh -c "! '$BPFUSE' umount --wait 0 '$M' 2>/dev/null"
check "... and the mount is still there" is_mounted "$M"

# a file whose upload failed (bucket gone) stays staged for the unmount
s3tool rb uwait >/dev/null
head -c $((2 << 20)) /dev/urandom >"$T/f"
cp "$T/f" "$M/f" 2>/dev/null || true
# the kernel sends cp's RELEASE after close() returned, and the daemon's last close
# tries the upload once more: let that attempt end before the server stops, or the
# unmount waits for it instead of for the upload this case is about
# (its PUT is counted when it starts: both attempts, close's and RELEASE's, then the
# answer, NoSuchBucket, which takes milliseconds)
released() { [ "$(op_count "$M" RELEASE)" -ge 1 ] && [ "$(s3_stat "$M" put)" -ge 2 ]; }
eventually 10 released || log "RELEASE's upload attempt not seen"
sleep 1
s3tool mb uwait >/dev/null
rgw=$(cat "$T/rgw/run/client.rgw.pid")
kill -STOP "$rgw"
at_cleanup "kill -CONT $rgw 2>/dev/null"
conn_of() { awk -v m="$1" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo; }
conn=$(conn_of "$M")
mkdir -p "$T/src2" "$T/mnt2"
track_mount "$T/mnt2"
timeout 60 "$BPFUSE" umount --wait 7 "$M" >"$T/umount.out" 2>&1 &
waiter=$!
# the unmount is done within a second; the waiting goes on
eventually 10 sh -c "! grep -q ' $M ' /proc/mounts"
bpfuse_mount "local:$T/src2" "$T/mnt2"
log "connection ids: the unmounted mount $conn, the new one $(conn_of "$T/mnt2")"
rc=0
wait "$waiter" || rc=$?
out=$(cat "$T/umount.out")
log "umount --wait 7 with the server stopped: rc $rc: $out"
check "umount stops waiting after --wait and fails" test "$rc" = 1
check "... saying what the server still uploads" grep -q "uploading 'f' (2097152 bytes)" <<<"$out"
check "... in one line (the progress every 5 s is for terminals)" test "$(wc -l <"$T/umount.out")" = 1
check "the mount is gone" sh -c "! grep -q ' $M ' /proc/mounts"
bpfuse_umount "$T/mnt2"
kill -CONT "$rgw"
check "the server finishes the upload and exits" wait_no_daemon "$M" 120
s3tool get uwait f "$T/f.get" >/dev/null
check "the object is in the bucket" cmp "$T/f" "$T/f.get"
finish

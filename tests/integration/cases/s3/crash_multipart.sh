#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# crash_multipart: kill -9 of the daemon during a multipart upload (a 96 MiB file at its
# close) leaves an unfinished upload in the bucket; the next mount of the cache directory
# aborts it: no multipart upload of ours is left (ListMultipartUploads).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb mpu >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
head -c $((96 << 20)) /dev/urandom >"$T/big"
s3_mount s3://mpu "$M"
cp "$T/big" "$M/big" 2>/dev/null &
writer=$!
# wait until the upload has started (it shows in ListMultipartUploads), then kill
started=0
for _ in $(seq 1 600); do
	if s3tool uploads mpu | grep -q '<UploadId>'; then
		started=1
		break
	fi
	sleep 0.05
done
for p in $(daemon_pids "$M"); do
	kill -KILL "$p"
done
wait_no_daemon "$M" 10 || fail "the daemon did not die"
wait "$writer" || true
umount "$M" 2>/dev/null || umount -l "$M"
check "a multipart upload was running when the daemon was killed" test "$started" = 1
left=$(s3tool uploads mpu | grep -c '<UploadId>' || true)
log "unfinished multipart uploads after kill -9: $left"
s3_mount s3://mpu "$M"
left=$(s3tool uploads mpu | grep -c '<UploadId>' || true)
log "after the next mount: $left"
check "the next mount aborted it: no unfinished multipart upload left" test "$left" = 0
check "and its journal is gone" test -z "$(find "$T/cache/staging" -name 'mpu-*')"
bpfuse_umount "$M"
finish

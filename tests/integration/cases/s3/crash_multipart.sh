#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# crash_multipart: kill -9 of the daemon during a multipart upload (a 96 MiB file at its
# close) leaves an unfinished upload in the bucket; the next mount of the cache directory
# aborts it: no multipart upload of ours is left (ListMultipartUploads).  Again, dealt
# with without mounting: `bpfuse staging list` shows the journal, `discard` refuses it
# (its parts would stay in the bucket), `retry` aborts it.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb mpu >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
head -c $((96 << 20)) /dev/urandom >"$T/big"
# kill_during_upload NAME: cp a 96 MiB file to NAME and kill -9 the daemon once its
# multipart upload shows in ListMultipartUploads; sets $started
kill_during_upload() {
	s3_mount s3://mpu "$M"
	cp "$T/big" "$M/$1" 2>/dev/null &
	writer=$!
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
}
kill_during_upload big
check "a multipart upload was running when the daemon was killed" test "$started" = 1
left=$(s3tool uploads mpu | grep -c '<UploadId>' || true)
log "unfinished multipart uploads after kill -9: $left"
s3_mount s3://mpu "$M"
left=$(s3tool uploads mpu | grep -c '<UploadId>' || true)
log "after the next mount: $left"
check "the next mount aborted it: no unfinished multipart upload left" test "$left" = 0
check "and its journal is gone" test -z "$(find "$T/cache/staging" -name 'mpu-*')"
bpfuse_umount "$M"

# ---- the same, dealt with by bpfuse staging
kill_during_upload big2
check "a multipart upload was running when the daemon was killed again" test "$started" = 1
out=$("$BPFUSE" staging list "$T/cache")
log "staging list:
$out"
journal=$(find "$T/cache/staging" -name 'mpu-*' -printf '%f\n' | head -n 1)
check "list shows the unfinished multipart upload and its journal" \
	sh -c "echo '$out' | grep -q '^unfinished multipart uploads' &&
		echo '$out' | grep 's3://mpu/big2' | grep -q '${journal:-nojournal}'"
rc=0
err=$("$BPFUSE" staging discard "$T/cache" "${journal:-nojournal}" 2>&1) || rc=$?
log "discard of the journal: exit $rc: $err"
check "discard refuses the journal, one line" \
	sh -c "test $rc = 1 && test \"\$(echo '$err' | wc -l)\" = 1 && echo '$err' | grep -q 'staging retry aborts it'"
check "retry aborts it" \
	sh -c "'$BPFUSE' staging retry '$T/cache' | grep -q \"aborted the unfinished multipart upload of 's3://mpu/big2'\""
left=$(s3tool uploads mpu | grep -c '<UploadId>' || true)
check "no unfinished multipart upload left" test "$left" = 0
check "and no journal" test -z "$(find "$T/cache/staging" -name 'mpu-*')"
finish

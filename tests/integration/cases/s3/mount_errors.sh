#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad credentials, a missing bucket and an unreachable endpoint fail the mount with one
# clear line before mount(2): nothing is mounted, no daemon is left, no secret is printed.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb exists >/dev/null
mkdir -p "$T/mnt"
need_bpfuse

try_mount() { # WANT-REGEX SRC [ENV...]: the mount must fail saying WANT
	local want=$1 src=$2 out rc=0 t0 t1
	shift 2
	t0=$(date +%s)
	out=$(env "$@" timeout 60 "$BPFUSE" mount "$src" "$T/mnt" -o cache_dir="$T/cache" 2>&1) || rc=$?
	t1=$(date +%s)
	log "$src: exit $rc after $((t1 - t0)) s: $out"
	[ "$rc" -ne 0 ] || { timeout 20 "$BPFUSE" umount "$T/mnt"; return 1; }
	[ "$rc" -ne 124 ]
	assert_not_mounted "$T/mnt"
	assert_no_daemon "$T/mnt"
	echo "$out" | grep -Eq "$want"
	[ "$(echo "$out" | wc -l)" -eq 1 ]
	! echo "$out" | grep -q -- "$AWS_SECRET_ACCESS_KEY"
	! echo "$out" | grep -q "wrong-secret"
}
check "wrong secret key" try_mount "access denied" s3://exists AWS_SECRET_ACCESS_KEY=wrong-secret
check "unknown access key" try_mount "access denied" s3://exists AWS_ACCESS_KEY_ID=nobody
check "missing bucket" try_mount "does not exist" s3://missing
check "no credentials" try_mount "no S3 credentials" s3://exists -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY
port=$(s3_free_port)
check "unreachable endpoint" try_mount "cannot be reached" s3://exists AWS_ENDPOINT_URL=http://127.0.0.1:$port
check "bad source" try_mount "bucket name" s3://A
finish

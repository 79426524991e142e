#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad credentials, a missing bucket, an unreachable endpoint, an endpoint that is not S3,
# no endpoint at all, a missing AWS profile, virtual-hosted addressing the server does not
# serve, prefixes that are not paths and a cache too small to work fail the mount with one
# clear line that says what to try, before mount(2): nothing is mounted, no daemon is
# left, no secret is printed.  -o aws_profile= picks the keys of a named profile.
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
	out=$(env "$@" timeout 60 "$BPFUSE" mount "$src" "$T/mnt" \
		-o cache_dir="$T/cache${OPTS:+,$OPTS}" 2>&1) || rc=$?
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

# an HTTP server that is not S3 (or a proxy answering for an address): a bare 404 is not
# "the bucket does not exist"
port404=$(s3_free_port)
mkdir -p "$T/www"
python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$port404" >/dev/null 2>&1 &
www=$!
at_cleanup "kill $www 2>/dev/null"
for i in $(seq 1 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port404/" && break
	sleep 0.1
done
check "an endpoint that is not S3" try_mount "HTTP 404 without an S3 error.*not an S3 endpoint" \
	s3://exists AWS_ENDPOINT_URL=http://127.0.0.1:$port404
check "no endpoint configured: suggests --endpoint" \
	try_mount "no endpoint is configured.*--endpoint.*AWS_ENDPOINT_URL" s3://exists \
	-u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_S3
check "AWS_PROFILE names a missing profile" try_mount "AWS profile 'nosuch' \(from AWS_PROFILE\)" \
	s3://exists AWS_PROFILE=nosuch
OPTS=aws_profile=nosuch check "aws_profile names a missing profile" \
	try_mount "AWS profile 'nosuch' \(from -o aws_profile\)" s3://exists
OPTS=path_style=off check "path_style=off on a server that needs path-style" \
	try_mount "path_style=on" s3://exists
check "prefix with '..'" try_mount "prefix has an empty, '.' or '..' segment" s3://exists/../x
check "prefix with '.'" try_mount "prefix has an empty, '.' or '..' segment" s3://exists/a/./b
check "prefix with an empty segment" try_mount "prefix has an empty, '.' or '..' segment" \
	s3://exists/a//b
check "prefix with a newline" try_mount "prefix has a control character" "s3://exists/a
b"
OPTS=cache_size=0 check "cache_size=0" try_mount "'cache_size' is 0 bytes.*at least 16M" s3://exists
OPTS=cache_size=1 check "cache_size=1" try_mount "'cache_size' is 1 bytes.*at least 16M" s3://exists
OPTS=s3_timeout=1 check "s3_timeout=1" try_mount "'s3_timeout' needs at least 8" s3://exists
# signed into the credential scope: radosgw answered a '/' with 400 InvalidArgument,
# which the mount reported as a bare "Invalid argument"
OPTS=region=bad/region check "a region that is not a name" \
	try_mount "invalid S3 region 'bad/region'" s3://exists
check "endpoint without a scheme: one line" try_mount "expected http:// or https://" \
	s3://exists AWS_ENDPOINT_URL=127.0.0.1:$PORT

# -o aws_profile= picks a profile of the shared credentials file (fstab cannot set
# AWS_PROFILE); the environment's keys are gone, so only the profile can work
profile_mount() {
	printf '[default]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n\n' \
		>"$T/credentials"
	printf '[work]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
		"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >>"$T/credentials"
	chmod 600 "$T/credentials"
	track_mount "$T/mnt"
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$T/credentials" \
		timeout 60 "$BPFUSE" mount s3://exists "$T/mnt" \
		-o cache_dir="$T/cache",aws_profile=work || fail "mount with aws_profile=work failed"
	echo hi >"$T/mnt/p" || fail "write through the profile's keys failed"
	timeout 20 "$BPFUSE" umount "$T/mnt"
	# the [default] keys are wrong: without the option the mount must fail
	OPTS= try_mount "access denied" s3://exists -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_SHARED_CREDENTIALS_FILE="$T/credentials"
}
check "aws_profile=work uses that profile's keys" profile_mount

# a cache dir already in use by a mount: one line, and the first mount unharmed
cache_busy() {
	mkdir -p "$T/mnt2"
	track_mount "$T/mnt2"
	timeout 60 "$BPFUSE" mount s3://exists "$T/mnt2" -o cache_dir="$T/cache" >/dev/null ||
		fail "first mount failed"
	try_mount "cache dir '$T/cache' is in use by another mount" s3://exists
	ls "$T/mnt2" >/dev/null || fail "the first mount broke"
	timeout 20 "$BPFUSE" umount "$T/mnt2"
}
check "cache dir in use: one line" cache_busy
finish

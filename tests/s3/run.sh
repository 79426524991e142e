#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tests/s3/run.sh - the S3 client against a real S3 server (Ceph RGW) on loopback.
#
# Usage: tests/s3/run.sh [path/to/s3tool]      (default build/s3tool)
# Starts a private server with scripts/s3-server.sh (own state dir, ports S3_TEST_PORT and
# S3_TEST_PORT - 4180), drives every client call through s3tool, stops the server, and ends
# with "s3: N passed, M failed".  Exit 0 when all passed, 1 otherwise, 77 (skip) when the
# Ceph packages or s3tool are missing.  Takes ~30 s.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
T=${1:-$top/build/s3tool}
SERVER=$top/scripts/s3-server.sh

[ -x "$T" ] || { echo "s3: skip: $T is not built"; exit 77; }
for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
	command -v $b >/dev/null 2>&1 || {
		echo "s3: skip: $b missing (apt-get install radosgw ceph-mon ceph-osd curl)"
		exit 77
	}
done

W=$(mktemp -d /tmp/bpfuse-s3test.XXXXXX)
export D=$W/rgw
export PORT=${S3_TEST_PORT:-17480}
export MON_PORT=$((PORT - 4180))
cleanup() { "$SERVER" stop >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

# nothing from the developer's ~/.aws may leak in
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_DEFAULT_REGION
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

t0=$(date +%s.%N)
if ! "$SERVER" start >"$W/env" 2>"$W/server.err"; then
	cat "$W/server.err"
	echo "s3: 0 passed, 1 failed (server did not start)"
	exit 1
fi
. "$W/env"
echo "server up in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s at $S3_ENDPOINT"

pass=0
fail=0
# t NAME CMD...: a test passes when CMD exits 0
t() {
	name=$1
	shift
	if "$@" >"$W/log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name"
		sed 's/^/     /' "$W/log" | tail -n 20
	fi
}
# rc WANT CMD...: CMD must exit with status WANT (s3tool exits with the errno)
rc() {
	want=$1
	shift
	"$@"
	got=$?
	[ "$got" = "$want" ] || { echo "exit status $got, want $want"; return 1; }
}
# same FILE OFF LEN OUT: OUT holds LEN bytes of FILE at OFF (fewer at the end)
same() {
	tail -c +$(($2 + 1)) "$1" | head -c "$3" >"$W/expect"
	cmp "$W/expect" "$4"
}
# getrange_ok OFF LEN: one ranged GET into a buffer returns exactly those bytes
getrange_ok() { $S getrange $B dir/big "$1" "$2" "$W/o" >/dev/null && same "$W/big" "$1" "$2" "$W/o"; }
getfd_ok() { $S get $B dir/big "$W/o" "$1" "$2" >/dev/null && same "$W/big" "$1" "$2" "$W/o"; }
odd_ok() {
	$S putbuf $B "$odd" "$W/small" >/dev/null && $S get $B "$odd" "$W/o" >/dev/null &&
		cmp "$W/small" "$W/o" && $S ls $B 'dir/a b' >"$W/ls" &&
		grep -qxF "K $odd 9 \"$(md5sum <"$W/small" | cut -c1-32)\"" "$W/ls"
}
no_uploads_left() {
	curl -s --aws-sigv4 aws:amz:us-east-1:s3 --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$S3_ENDPOINT/$B?uploads=" >"$W/up" &&
		grep -q '<ListMultipartUploadsResult' "$W/up" && ! grep -q '<Upload>' "$W/up"
}
now() { date +%s%N | cut -c1-13; }   # ms

B=bpfuse-test
S="$T"
head -c 21000000 /dev/urandom >"$W/big"   # 3 parts of 8 MiB (the last one short)
head -c 1048576 /dev/urandom >"$W/mid"
printf 'hello s3\n' >"$W/small"
: >"$W/empty"

t "create bucket" $S mb $B
t "put small (one PUT from memory)" $S putbuf $B dir/small "$W/small"
t "get small" sh -c "$S get $B dir/small '$W/o' && cmp '$W/small' '$W/o'"
t "head small" sh -c "$S head $B dir/small | grep -q '^size=9 mtime=[1-9][0-9]* etag=\"'"
t "put 1 MiB (one PUT from fd)" $S put $B dir/mid "$W/mid"
t "put 20 MiB (multipart, 3 parts in parallel)" \
	sh -c "$S --part-size 8 --threshold 16 put $B dir/big '$W/big' | grep -q 'etag=\".*-3\"'"
t "head multipart size" sh -c "$S head $B dir/big | grep -q '^size=21000000 '"
t "get multipart object (stream to fd)" sh -c "$S get $B dir/big '$W/o' && cmp '$W/big' '$W/o'"
t "parallel ranged get (3 MiB chunks, 4 threads)" \
	sh -c "$S --chunk 3 --threads 4 pget $B dir/big '$W/o' && cmp '$W/big' '$W/o'"
for r in "0 1" "100 4096" "8388600 20" "8388608 8388608" "20999990 100" "0 21000000"; do
	set -- $r
	t "ranged get into buffer off=$1 len=$2" getrange_ok $1 $2
done
t "ranged get to fd off=12345 len=9000000" getfd_ok 12345 9000000
t "ranged get past the end reads 0 bytes" \
	sh -c "$S getrange $B dir/big 21000000 10 '$W/o' | grep -qx got=0"
t "empty object" sh -c "$S put $B dir/empty '$W/empty' >/dev/null && $S head $B dir/empty |
	grep -q '^size=0 ' && $S get $B dir/empty '$W/o' >/dev/null && cmp '$W/empty' '$W/o' &&
	$S getrange $B dir/empty 0 10 '$W/o' | grep -qx got=0"
odd='dir/a b+c%d&=?é~/x.txt'
t "key with reserved and UTF-8 characters" odd_ok

# listing: 25 keys, pages of 4, and a delimiter
i=0
while [ $i -lt 25 ]; do
	$S putbuf $B "list/k$(printf %02d $i)" "$W/small" >/dev/null || echo "put list/k$i failed"
	i=$((i + 1))
done
$S putbuf $B list/sub1/x "$W/small" >/dev/null
$S putbuf $B list/sub2/y "$W/small" >/dev/null
t "list 27 keys in pages of 4 (pagination)" sh -c "$S --max-keys 4 ls $B list/ >'$W/ls' 2>'$W/ls.err' &&
	[ \$(grep -c '^K ' '$W/ls') = 27 ] && grep -qx pages=7 '$W/ls.err' &&
	sort -c '$W/ls'"
t "list with delimiter" sh -c "$S --max-keys 5 ls $B list/ / >'$W/ls' &&
	[ \$(grep -c '^K ' '$W/ls') = 25 ] && grep -qx 'P list/sub1/' '$W/ls' &&
	grep -qx 'P list/sub2/' '$W/ls' && ! grep -q 'list/sub1/x' '$W/ls'"
t "list the bucket root with delimiter" sh -c "$S ls $B '' / | sort | tr '\n' ' ' |
	grep -qx 'P dir/ P list/ '"

t "server-side copy" sh -c "$S cp $B dir/big $B 'moved/big copy' >/dev/null &&
	$S get $B 'moved/big copy' '$W/o' >/dev/null && cmp '$W/big' '$W/o'"
t "delete" $S rm $B 'moved/big copy'
t "deleted object is gone (ENOENT)" rc 2 $S head $B 'moved/big copy'
t "delete of a missing key succeeds" $S rm $B no/such/key
t "404 on HEAD -> ENOENT" rc 2 $S head $B no/such/key
t "404 on GET -> ENOENT" rc 2 $S get $B no/such/key "$W/o"
t "missing bucket -> ENOENT" rc 2 $S ls no-such-bucket
t "copy of a missing key -> ENOENT" rc 2 $S cp $B no/such/key $B x
t "wrong secret -> EACCES" rc 13 env AWS_SECRET_ACCESS_KEY=wrong-secret $S head $B dir/small
t "wrong secret on GET with body -> EACCES" rc 13 env AWS_SECRET_ACCESS_KEY=x $S ls $B
t "unknown access key -> EACCES" rc 13 env AWS_ACCESS_KEY_ID=nobody $S ls $B
t "non-empty bucket -> ENOTEMPTY" rc 39 $S rb $B
t "multipart leaves no upload behind" no_uploads_left

# a source file that shrinks during a multipart upload: the part fails, the upload is
# aborted (no parts left on the server) and the call fails
cp "$W/big" "$W/shrinking"
( $S --max-send-speed 4096 --threads 2 put $B dir/shrunk "$W/shrinking" >"$W/bg.out" 2>&1
  echo $? >"$W/bg.rc" ) &
bg=$!
sleep 0.5
truncate -s 1000000 "$W/shrinking"
wait $bg
t "source shrinks during multipart upload -> error" sh -c "[ \$(cat '$W/bg.rc') != 0 ]"
t "failed multipart upload was aborted" no_uploads_left
t "failed multipart upload left no object" rc 2 $S head $B dir/shrunk

# virtual-hosted addressing: http://BUCKET.localhost:PORT (rgw_dns_name = localhost)
V="$S -e http://localhost:$PORT --virtual-host"
t "virtual-hosted put and get" sh -c "$V putbuf $B vh/small '$W/small' >/dev/null &&
	$V get $B vh/small '$W/o' >/dev/null && cmp '$W/small' '$W/o'"
t "virtual-hosted multipart and ranged get" sh -c "$V put $B vh/big '$W/big' >/dev/null &&
	$V --chunk 5 pget $B vh/big '$W/o' && cmp '$W/big' '$W/o'"
t "virtual-hosted list and delete" sh -c "$V ls $B vh/ | grep -c '^K ' | grep -qx 2 &&
	$V rm $B vh/small && $V rm $B vh/big && ! $V head $B vh/big 2>/dev/null"

# failure handling: a frozen server, then one that dies in the middle of a download.
# Documented bound: (retries + 1) * low-speed-time + backoffs (<= retries * 2 s).
rgw=$(cat "$D/run/client.rgw.pid")
FAST="--connect-timeout 1000 --low-speed-time 2 --retries 2"
kill -STOP "$rgw"
t0=$(now)
t "frozen server -> EIO (stall timeout, retried)" rc 5 $S $FAST get $B dir/big "$W/o"
el=$(($(now) - t0))
t "frozen server: gave up in ${el} ms (bound 6000 + 4000 backoff)" [ "$el" -lt 10000 ]
kill -CONT "$rgw"
# a download throttled to 4 MiB/s (~5 s for 20 MiB) that loses its server after 1 s
rm -f "$W/o"
( $S $FAST --max-recv-speed 4096 get $B dir/big "$W/o" >"$W/bg.out" 2>&1; echo $? >"$W/bg.rc" ) &
bg=$!
sleep 1
t0=$(now)
kill -9 "$rgw"
wait $bg
el=$(($(now) - t0))
got=$(stat -c %s "$W/o" 2>/dev/null || echo 0)
bg_ok() { [ "$(cat "$W/bg.rc")" = 5 ] || { echo "exit $(cat "$W/bg.rc")"; cat "$W/bg.out"; false; }; }
t "server killed mid-transfer -> EIO" bg_ok
t "server killed mid-transfer: it was mid-transfer ($got of 21000000 bytes)" \
	[ "$got" -gt 0 -a "$got" -lt 21000000 ]
t "server killed mid-transfer: gave up in ${el} ms (bound 10000)" [ "$el" -lt 10000 ]
t0=$(now)
t "server gone: connection refused -> EIO" rc 5 $S $FAST head $B dir/small
el=$(($(now) - t0))
t "server gone: gave up in ${el} ms (bound 5000)" [ "$el" -lt 5000 ]

"$SERVER" stop
echo "s3: $pass passed, $fail failed"
[ "$fail" = 0 ]

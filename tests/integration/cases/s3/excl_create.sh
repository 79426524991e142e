#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# O_CREAT|O_EXCL is checked against the store: a name another client created after the
# mount listed the directory (so the listing, trusted for list_ttl, says it is absent)
# fails with EEXIST and the other client's object is not overwritten; a name that is a
# directory (a prefix) too; a free name is created.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb excl >/dev/null
mkdir -p "$T/mnt"
echo theirs >"$T/theirs"
s3_mount s3://excl "$T/mnt" list_ttl=600,negative_timeout=0
check "the directory is listed (empty)" test -z "$(ls "$T/mnt")"
s3tool put excl late "$T/theirs" >/dev/null
s3tool put excl sub/obj "$T/theirs" >/dev/null
excl() { # PATH: errno name of open(O_CREAT|O_EXCL|O_WRONLY), or ok
	python3 - "$1" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"mine\n")
    os.close(fd)
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}
check "O_EXCL on a name another client made since the listing: EEXIST" \
	test "$(excl "$T/mnt/late")" = EEXIST
check "O_EXCL on a name that is a directory in the store: EEXIST" \
	test "$(excl "$T/mnt/sub")" = EEXIST
check "O_EXCL on a free name: created" test "$(excl "$T/mnt/free")" = ok
bpfuse_umount "$T/mnt"
check "the other client's object is intact" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get excl late '$T/got' >/dev/null && cmp '$T/theirs' '$T/got'"
check "the free name was uploaded" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get excl free '$T/got2' >/dev/null && grep -qx mine '$T/got2'"
finish

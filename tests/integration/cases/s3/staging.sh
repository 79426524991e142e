#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Files being written (staged, not uploaded yet):
# - show in ls of their directory before their upload, once, and not after an unlink;
# - a failed upload at the last close keeps the bytes: the close reports the error, the
#   file keeps its name and bytes, and the next open retries the upload;
# - a file that still cannot be uploaded at unmount (the server is down) is kept in
#   <cache_dir>/staging as unuploaded-*, with its key in a .key file next to it, both
#   0600 in the 0700 staging directory.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb stg >/dev/null
s3tool mb gone >/dev/null
mkdir -p "$T/mnt" "$T/mnt2"
M=$T/mnt
s3_mount s3://stg "$M"

# Writers keep their descriptor in one process (python opens with O_CLOEXEC): a shell
# "exec 3>file" would be inherited by every command run meanwhile, and each of their exits
# closes a copy, which is a FLUSH, which uploads the file.
# hold TAG PATH SRC: write SRC into PATH (created, truncated) and keep it open until
# release TAG; the close's errno (0 = fine) goes to $T/TAG.rc
hold() {
	python3 - "$T/$1" "$2" "$3" <<'PY' &
import os, sys, time
tag, path, src = sys.argv[1:4]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, open(src, "rb").read())
open(tag + ".ready", "w").close()
while not os.path.exists(tag + ".go"):
    time.sleep(0.05)
rc = 0
try:
    os.close(fd)
except OSError as e:
    rc = e.errno
open(tag + ".rc", "w").write(str(rc))
PY
	wait_for_file "$T/$1.ready"
}
release() {
	touch "$T/$1.go"
	wait_for_file "$T/$1.rc"
	cat "$T/$1.rc"
}
wait_for_file() {
	eventually 60 test -e "$1" || fail "timed out waiting for $1"
}

# ---- ls shows staged files
mkdir "$M/d"
echo "being written" >"$T/w"
hold new "$M/d/new" "$T/w"
hold tmp "$M/tmp" "$T/w"
rm "$M/tmp"
check "a file being written shows in ls of its directory" \
	sh -c "ls '$M/d' | grep -qx new"
check "... and in ls -l, with its size" \
	sh -c "ls -l '$M/d' | awk '\$NF == \"new\" { print \$5 }' | grep -qx 14"
check "an unlinked file being written does not show" \
	sh -c "! ls '$M' | grep -qx tmp"
check "not uploaded yet" sh -c "! s3tool head stg d/new >/dev/null 2>&1"
python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); os.fsync(fd); os.close(fd)' "$M/d/new"
check "uploaded (fsync) but still open: shown once" \
	sh -c "test \"\$(ls '$M/d' | grep -cx new)\" = 1"
check "closed fine" test "$(release new)" = 0
check "an unlinked file closes fine" test "$(release tmp)" = 0
check "closed: shown from the listing" sh -c "ls '$M/d' | grep -qx new"
check "never uploaded: the unlinked file" sh -c "! s3tool head stg tmp >/dev/null 2>&1"

# ---- a failed upload at the last close is kept and retried
bpfuse_mount s3://gone "$T/mnt2" "cache_dir=$T/cache2"
M2=$T/mnt2
s3tool rb gone >/dev/null # the upload will fail: NoSuchBucket
head -c $((300 << 10)) /dev/urandom >"$T/k"
rc=0
python3 - "$M2/keep" "$T/k" <<'PY' || rc=$?
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, open(sys.argv[2], "rb").read())
try:
    os.close(fd)
except OSError as e:
    print("close: %s" % e, file=sys.stderr)
    sys.exit(3)
PY
check "close reports the failed upload" test "$rc" = 3
sleep 0.5 # the last release follows the close
check "the file keeps its size" test "$(stat -c %s "$M2/keep")" -eq $((300 << 10))
check "the file keeps its bytes" cmp "$T/k" "$M2/keep"
s3tool mb gone >/dev/null
cat "$M2/keep" >/dev/null # an open and its close: the upload is retried
# A reader's close has no FLUSH (FOPEN_NOFLUSH): the upload runs at its RELEASE, which
# the kernel sends after close(2) has returned.
retried() {
	s3tool get gone keep "$T/k.got" >/dev/null &&
		cmp "$T/k" "$T/k.got"
}
check "the next open's close uploads it" eventually 10 retried
bpfuse_umount "$M2"
check "nothing left in the staging area" \
	sh -c "test -z \"\$(ls '$T/cache2/staging')\""

# ---- unmount with the server down: kept in the staging area
head -c $((200 << 10)) /dev/urandom >"$T/l"
hold lost "$M/d/lost" "$T/l"
s3_stop
check "with the server down, close reports the error" test "$(release lost)" != 0
bpfuse_umount "$M"
kept=$(find "$T/cache/staging" -name 'unuploaded-*' ! -name '*.key' | head -n 1)
log "kept: ${kept:-nothing}; staging: $(ls "$T/cache/staging" | tr '\n' ' ')"
check "the bytes are kept in the staging area" test -n "$kept"
if [ -n "$kept" ]; then
	check "with the right bytes" cmp "$T/l" "$kept"
	check "and the key next to them" grep -qx "s3://stg/d/lost" "$kept.key"
	check "both 0600" test "$(stat -c %a "$kept" "$kept.key" | sort -u)" = 600
fi
check "the staging directory is 0700" test "$(stat -c %a "$T/cache/staging")" = 700
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# posix_transcript: the POSIX transcript tool (posix_ops.c, ~475 steps: creates, renames of
# files and directories, unlinks, rmdirs, opens, truncates, links, xattrs, times, readdir,
# ...) on an s3:// mount against a plain directory. Every step that differs must be one of
# the differences docs/s3.md lists as forced by S3 (lib/s3_posix_diff.py holds the list).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
need_posix_ops
s3_start
s3tool mb posix >/dev/null
M=$T/mnt
mkdir -p "$M" "$T/ref"
"$POSIX_OPS" "$T/ref" >"$T/ref.txt" 2>"$T/ref.err" ||
	fail "posix_ops on a plain directory exited $?: $(head -c 300 "$T/ref.err")"
grep -q '^done: ok$' "$T/ref.txt" || fail "reference transcript incomplete"
s3_mount s3://posix "$M"
"$POSIX_OPS" "$M" >"$T/s3.txt" 2>"$T/s3.err" ||
	fail "posix_ops on the mount exited $?: $(head -c 300 "$T/s3.err")"
check "the transcript on the mount is complete" grep -q '^done: ok$' "$T/s3.txt"
rc=0
python3 "$IT_DIR/lib/s3_posix_diff.py" "$T/ref.txt" "$T/s3.txt" >"$T/diff.txt" || rc=$?
while IFS= read -r line; do log "$line"; done <"$T/diff.txt"
check "every difference from a plain directory is a documented one" test "$rc" = 0
bpfuse_umount "$M"
finish

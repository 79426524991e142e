#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rename_errnos: the namespace operations whose results POSIX fixes (lib/s3_errnos.py:
# rename of files and directories over each other, RENAME_NOREPLACE, directory trees
# renamed, paths through a file, rmdir of a non-empty directory, O_EXCL, hard links) give
# on an s3:// mount exactly what they give on a plain directory, except the differences
# docs/s3.md lists as forced by S3 (hard links: EPERM; RENAME_EXCHANGE: EINVAL). The tree
# left behind, empty directories included, is the same after a remount.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb errnos >/dev/null
OPS=$IT_DIR/lib/s3_errnos.py
M=$T/mnt
mkdir -p "$T/ref" "$M"
python3 "$OPS" "$T/ref" >"$T/ref.txt" || fail "s3_errnos.py on a plain directory failed"
# what S3 forces (docs/s3.md, "Differences from a local file system")
sed -e 's/^hard link: ok$/hard link: EPERM/' \
	-e 's/^\(RENAME_EXCHANGE of two [a-z]*\): ok$/\1: EINVAL/' \
	-e '/^tree at the end:/s/ x1=x2 x2=x1 / x1=x1 x2=x2 /' \
	"$T/ref.txt" >"$T/want.txt"
check "the by-design differences are where the reference has them" \
	test "$(diff "$T/ref.txt" "$T/want.txt" | grep -c '^>')" = 4

s3_mount s3://errnos "$M"
python3 "$OPS" "$M" >"$T/s3.txt" || fail "s3_errnos.py on the mount failed"
if ! diff -u "$T/want.txt" "$T/s3.txt" >"$T/diff.txt"; then
	cat "$T/diff.txt" >&2
	fail "the s3:// mount differs from a plain directory beyond the documented differences"
fi
log "$(wc -l <"$T/s3.txt") results as on a plain directory (4 documented differences)"
bpfuse_umount "$M"

# empty directories (their dir/ markers) and the moved trees survive a remount
s3_mount s3://errnos "$M"
python3 "$OPS" "$T/ref" --tree >"$T/ref-tree.txt"
sed -e 's/ x1=x2 x2=x1 / x1=x1 x2=x2 /' "$T/ref-tree.txt" >"$T/want-tree.txt"
python3 "$OPS" "$M" --tree >"$T/s3-tree.txt"
check "the tree after a remount is the one left by the operations" \
	diff -u "$T/want-tree.txt" "$T/s3-tree.txt"
markers() {
	s3tool ls errnos >"$T/ls.txt"
	grep -q 'y1/' "$T/ls.txt" && grep -q 'y2/' "$T/ls.txt" && grep -q 'target/' "$T/ls.txt"
}
check "the empty directories have their markers in the bucket" markers
bpfuse_umount "$M"
finish

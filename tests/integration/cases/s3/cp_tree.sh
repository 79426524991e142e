#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# s3://bucket mounted: cp -a of a tree of a few hundred files in nested directories into
# the mount and back out is identical (diff -r), also after a remount (the bytes are in
# S3); and what S3 cannot do answers with the documented errno (docs/s3.md).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb tree >/dev/null

mkdir -p "$T/src" "$T/mnt"
python3 - "$T/src" <<'PY'
import os, sys, random
root = sys.argv[1]
random.seed(6)
for d in range(4):
    for s in range(3):
        p = os.path.join(root, "d%d" % d, "s%d" % s)
        os.makedirs(p)
        for f in range(25):
            with open(os.path.join(p, "f%02d" % f), "wb") as fh:
                fh.write(os.urandom(random.choice([0, 1, 100, 4096, 70000, 1 << 20])))
open(os.path.join(root, "empty"), "w").close()
os.makedirs(os.path.join(root, "emptydir"))
PY
s3_mount s3://tree "$T/mnt"

check "cp -a into the mount" cp -a "$T/src" "$T/mnt/tree"
check "diff -r source vs mount" diff -r "$T/src" "$T/mnt/tree"
check "cp -a out of the mount" cp -a "$T/mnt/tree" "$T/out"
check "diff -r source vs copy out" diff -r "$T/src" "$T/out"

semantics() {
	local m=$T/mnt
	echo data >"$m/a"
	expect_errno EPERM "hard link" link "$m/a" "$m/b"
	ln -s a "$m/s" # an s3fs-style symlink object (posix_meta)
	[ "$(readlink "$m/s")" = a ]
	rm "$m/s"
	expect_errno ENOTSUP "setxattr" setxattr "$m/a" user.x v
	mkdir "$m/dir"
	echo x >"$m/dir/f"
	expect_errno ENOTEMPTY "rmdir of a non-empty prefix" rmdir "$m/dir"
	rm "$m/dir/f"
	rmdir "$m/dir"
	[ ! -e "$m/dir" ]
	mv "$m/a" "$m/renamed"
	[ "$(cat "$m/renamed")" = data ]
	[ ! -e "$m/a" ]
	chmod 600 "$m/renamed" # kept in the object's metadata
	[ "$(stat -c %a "$m/renamed")" = 600 ]
	truncate -s 2 "$m/renamed"
	[ "$(cat "$m/renamed")" = da ]
	echo more >>"$m/renamed"
	[ "$(cat "$m/renamed")" = "damore" ]
	s3tool get tree renamed "$T/got" >/dev/null
	[ "$(cat "$T/got")" = damore ]
	df "$m" >/dev/null
}
check "S3 semantics (EPERM, ENOTSUP, ENOTEMPTY, rename, truncate, append)" semantics

bpfuse_umount "$T/mnt"
s3_mount s3://tree "$T/mnt"
check "diff -r after a remount" diff -r "$T/src" "$T/mnt/tree"
finish

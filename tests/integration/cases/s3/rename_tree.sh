#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rename_tree: rename(2) of a directory tree of ~50 objects (nested directories, an empty
# directory, a multipart-sized file, a file open for writing, one open for reading) on an
# s3:// mount: one server-side COPY per object, every object exactly once at its new name
# in the bucket, none left at the old one, the bytes the same (through the mount, for the
# reader open across the rename, after a remount, and straight from the bucket), the
# directory's inode number kept, the journal gone.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb tree >/dev/null
M=$T/mnt
mkdir -p "$M" "$T/src"
python3 - "$T/src" <<'PY'
import os, random, sys
root = sys.argv[1]
random.seed(16)
n = 0
for d in ["", "a", "a/b", "a/b/c", "d", "d/e"]:
    os.makedirs(os.path.join(root, d), exist_ok=True)
    for i in range(8):
        with open(os.path.join(root, d, "f%d" % i), "wb") as f:
            f.write(os.urandom(random.choice([0, 1, 333, 4096, 100000])))
        n += 1
os.makedirs(os.path.join(root, "d", "empty"))
with open(os.path.join(root, "a", "big"), "wb") as f:
    f.write(os.urandom(20 << 20))  # uploaded in parts: its copy is of a multipart object
PY
s3_mount s3://tree "$M"
cp -a "$T/src" "$M/top"
# what the bucket holds, old names made new: what it must hold after the rename
s3tool ls tree 2>/dev/null | awk '$1 == "K" { print $2, $3 }' | sort >"$T/before"
sed 's#^top/#moved/#' "$T/before" | sort >"$T/want"
nobj=$(wc -l <"$T/before")
log "$nobj objects under top/ (files and directory markers)"
[ "$nobj" -ge 50 ] || fail "expected at least 50 objects, got $nobj"
ino=$(stat -c %i "$M/top")
copies=$(s3_stat "$M" copy)

# a file open for writing under the tree moves with it, and its later writes follow it
rc=0
python3 - "$M" "$T/read-across" <<'PY' || rc=$?
import os, sys
m = sys.argv[1]
fd = os.open(os.path.join(m, "top/d/e/open"), os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b"before the rename\n")
# and a reader of a cold object reads on after it (the rest is fetched from the new key)
r = os.open(os.path.join(m, "top/a/big"), os.O_RDONLY)
head = os.read(r, 1 << 20)
os.rename(os.path.join(m, "top"), os.path.join(m, "moved"))  # rename(2), not mv's copy
os.write(fd, b"after the rename\n")
os.close(fd)
rest = b""
while True:
    b = os.read(r, 1 << 20)
    if not b:
        break
    rest += b
os.close(r)
open(sys.argv[2], "wb").write(head + rest)
PY
[ "$rc" = 0 ] || fail "rename(2) of the directory failed (exit $rc)"
printf 'before the rename\nafter the rename\n' >"$T/src/d/e/open"
echo "moved/d/e/open $(stat -c %s "$T/src/d/e/open")" >>"$T/want"
sort -o "$T/want" "$T/want"

s3tool ls tree 2>/dev/null | awk '$1 == "K" { print $2, $3 }' | sort >"$T/after"
check "every object exactly once at its new name, none at the old" diff -u "$T/want" "$T/after"
check "a reader open across the rename read the right bytes" cmp "$T/src/a/big" "$T/read-across"
check "one server-side COPY per object (and one for the file being written)" \
	test "$(($(s3_stat "$M" copy) - copies))" = "$((nobj + 1))"
check "the old name is gone" test ! -e "$M/top"
check "the directory kept its inode number" test "$(stat -c %i "$M/moved")" = "$ino"
check "the bytes through the mount" diff -r "$T/src" "$M/moved"
check "the journal is gone" test -z "$(find "$T/cache/staging" -name 'rename-*')"
getcmp() {
	s3tool get tree moved/a/big "$T/got" >/dev/null
	cmp "$T/src/a/big" "$T/got"
	s3tool get tree moved/a/b/c/f3 "$T/got" >/dev/null
	cmp "$T/src/a/b/c/f3" "$T/got"
}
check "the bytes straight from the bucket" getcmp
bpfuse_umount "$M"
s3_mount s3://tree "$M"
check "the bytes after a remount (the empty directory too)" diff -r "$T/src" "$M/moved"
check "and nothing under the old name" test ! -e "$M/top"
bpfuse_umount "$M"
finish

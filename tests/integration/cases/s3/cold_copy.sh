#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cold_copy: file operations on an object whose bytes are not (all) in the cache are
# served from the object, wherever its bytes are:
# - cp of a cold 24 MiB object to another name in the mount (copy_file_range, and
#   SEEK_DATA/SEEK_HOLE for cp's sparse detection) gives the source's bytes, in the mount
#   and in the bucket (checked with a GET);
# - SEEK_DATA/SEEK_HOLE on a cold object: data from 0 to its size, one hole at its end;
#   ENXIO at and past the end;
# - copy_file_range(2) straight from a cold object, in pieces, gives its bytes;
# - fallocate on a file open for writing is uploaded like a write.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb ccopy >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
head -c $((24 << 20)) /dev/urandom >"$T/obj"
for k in src seek cfr; do s3tool put ccopy "$k" "$T/obj" >/dev/null; done
s3_mount s3://ccopy "$M"

# ---- cp of a cold object inside the mount
check "cp of a cold 24 MiB object inside the mount succeeds" cp "$M/src" "$M/dst"
check "the copy has the source's bytes (in the mount)" cmp "$T/obj" "$M/dst"
s3tool get ccopy dst "$T/dst.get" >/dev/null
check "the copy has the source's bytes (a GET of the uploaded object)" cmp "$T/obj" "$T/dst.get"

# ---- SEEK_DATA / SEEK_HOLE on a cold object
check "SEEK_DATA/SEEK_HOLE on a cold object: dense data, a hole at its end" \
	python3 - "$M/seek" $((24 << 20)) <<'PY'
import errno, os, sys
path, size = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDONLY)
def seek(off, whence):
    try:
        return os.lseek(fd, off, whence)
    except OSError as e:
        return -e.errno
got = {
    "data(0)": seek(0, os.SEEK_DATA),
    "hole(0)": seek(0, os.SEEK_HOLE),
    "data(mid)": seek(size // 2 + 1, os.SEEK_DATA),
    "hole(mid)": seek(size // 2 + 1, os.SEEK_HOLE),
    "data(size)": seek(size, os.SEEK_DATA),
    "hole(size)": seek(size, os.SEEK_HOLE),
}
want = {
    "data(0)": 0, "hole(0)": size, "data(mid)": size // 2 + 1, "hole(mid)": size,
    "data(size)": -errno.ENXIO, "hole(size)": -errno.ENXIO,
}
if got != want:
    print("got", got, "want", want, file=sys.stderr)
    sys.exit(1)
PY

# ---- copy_file_range(2) from a cold object in odd-sized pieces
check "copy_file_range from a cold object, in pieces, copies its bytes" \
	python3 - "$M/cfr" "$M/cfr.copy" <<'PY'
import os, sys
src = os.open(sys.argv[1], os.O_RDONLY)
dst = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
size = os.fstat(src).st_size
off = 0
while off < size:
    n = os.copy_file_range(src, dst, min(3 << 20 | 12345, size - off), off, off)
    if n <= 0:
        sys.exit("copy_file_range returned %d at %d" % (n, off))
    off += n
os.close(dst)
os.close(src)
PY
check "... in the mount" cmp "$T/obj" "$M/cfr.copy"
s3tool get ccopy cfr.copy "$T/cfr.get" >/dev/null
check "... and in the bucket" cmp "$T/obj" "$T/cfr.get"

# ---- fallocate
printf 'abc' >"$M/fa"
check "fallocate -l 1MiB on a file open for writing succeeds" fallocate -l 1048576 "$M/fa"
check "... and is uploaded (the object is 1 MiB)" grep -q 'size=1048576' <(s3tool head ccopy fa)
bpfuse_umount "$M"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# rewrite: whether a close or fsync uploads is decided from the writes the daemon saw,
# not from timestamps or sizes:
# - write, fsync, a same-size rewrite at once (same clock tick), close: the rewrite is
#   uploaded (GET), and the mount and the cache serve it (also after a remount);
# - the same through pwrite at offset 0 of an existing object, and through a shared
#   mmap written after an fsync, closed without write(2);
# - an open for writing that writes nothing uploads nothing.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb rew >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
s3_mount s3://rew "$M"

# rewrite PATH MODE: write A, fsync, same-size rewrite B right away, close
check "write, fsync, same-size rewrite, close (a new file)" python3 - "$M/new" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"A" * 65536)
os.fsync(fd)
os.pwrite(fd, b"B" * 65536, 0)
os.close(fd)
PY
s3tool get rew new "$T/new.get" >/dev/null
check "the rewrite is in the bucket" cmp "$T/new.get" <(head -c 65536 /dev/zero | tr '\0' B)
check "the mount reads the rewrite" cmp "$M/new" <(head -c 65536 /dev/zero | tr '\0' B)

head -c $((3 << 20)) /dev/urandom >"$T/old"
s3tool put rew old "$T/old" >/dev/null
check "pwrite, fsync, same-size pwrite, close (an existing object)" python3 - "$M/old" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"x" * 4096, 0)
os.fsync(fd)
os.pwrite(fd, b"y" * 4096, 0)
os.close(fd)
PY
{ head -c 4096 /dev/zero | tr '\0' y; tail -c +4097 "$T/old"; } >"$T/old.want"
s3tool get rew old "$T/old.get" >/dev/null
check "the second pwrite is in the bucket" cmp "$T/old.want" "$T/old.get"
check "the mount reads it" cmp "$T/old.want" "$M/old"

check "write, fsync, then a shared mmap store, munmap, close" python3 - "$M/mm" <<'PY'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"m" * 8192)
os.fsync(fd)
m = mmap.mmap(fd, 8192, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
m[0:4] = b"MMAP"
m.close()
os.close(fd)
PY
{ printf MMAP; head -c 8188 /dev/zero | tr '\0' m; } >"$T/mm.want"
s3tool get rew mm "$T/mm.get" >/dev/null
check "the mmap store is in the bucket" cmp "$T/mm.want" "$T/mm.get"

puts0=$(s3_stat "$M" put)
check "an open for writing that writes nothing" python3 -c "import os; os.close(os.open('$M/old', os.O_RDWR))"
check "... uploads nothing (PUTs $puts0 -> $(s3_stat "$M" put))" test "$(s3_stat "$M" put)" -eq "$puts0"
bpfuse_umount "$M"

s3_mount s3://rew "$M"
check "after a remount the mount reads the rewrites" \
	sh -c "cmp '$T/old.want' '$M/old' && cmp '$T/new.get' '$M/new' && cmp '$T/mm.want' '$M/mm'"
bpfuse_umount "$M"
finish

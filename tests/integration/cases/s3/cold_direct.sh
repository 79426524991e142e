#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cold_direct: a large object not yet in the cache is read past the kernel page cache
# (FOPEN_DIRECT_IO), so a 1 MiB read(2) is one 1 MiB READ instead of readahead-sized
# ones; with -o cold_direct=off the page cache is used as for any other file. Either way
# the bytes are right, through read(2) of any size and through a shared mmap, and the
# second open of the then complete object goes through passthrough.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb data >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
head -c $((64 << 20)) /dev/urandom >"$T/obj"
head -c $((1 << 20)) /dev/urandom >"$T/small"
for k in a b c; do s3tool put data "$k" "$T/obj" >/dev/null; done
s3tool put data small "$T/small" >/dev/null

# reads_of MNT CMD...: READ requests the daemon received while CMD ran
reads_of() {
	local m=$1 r0 r1
	shift
	r0=$(op_count "$m" READ)
	"$@" >/dev/null
	r1=$(op_count "$m" READ)
	echo $((r1 - r0))
}

s3_mount s3://data "$M"
n=$(reads_of "$M" dd if="$M/a" of=/dev/null bs=1M status=none)
log "cold read of 64 MiB with 1 MiB reads, cold_direct on: $n READs"
check "cold_direct on: one READ per 1 MiB read (got $n, want <= 72)" test "$n" -le 72
check "the bytes are right" cmp "$T/obj" "$M/a"
pt0=$(daemon_stat "$M" passthrough_opens)
cat "$M/a" >/dev/null
check "the complete object then opens with passthrough" \
	test "$(daemon_stat "$M" passthrough_opens)" -gt "$pt0"
check "4 KiB reads of a cold object return the right bytes" \
	sh -c "dd if='$M/b' bs=4k status=none | cmp - '$T/obj'"
check "a shared mmap of a cold object returns the right bytes" python3 - "$M/c" "$T/obj" <<'PY'
import mmap, sys
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "rb") as g:
    m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    ok = m[:] == g.read()
    m.close()
sys.exit(0 if ok else 1)
PY
n=$(reads_of "$M" dd if="$M/small" of=/dev/null bs=1M status=none)
log "cold read of a 1 MiB object: $n READs (page cache: small objects are not direct)"
check "a small object is read through the page cache" cmp "$T/small" "$M/small"
bpfuse_umount "$M"

rm -rf "$T/cache"
s3_mount s3://data "$M" cold_direct=off
n=$(reads_of "$M" dd if="$M/a" of=/dev/null bs=1M status=none)
log "cold read of 64 MiB with 1 MiB reads, cold_direct off: $n READs"
check "cold_direct off: the page cache's readahead sizes the READs (got $n, want > 72)" \
	test "$n" -gt 72
check "the bytes are right" cmp "$T/obj" "$M/a"
bpfuse_umount "$M"
finish

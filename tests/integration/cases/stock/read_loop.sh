#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The training-read loop (per file: open, fstat, read it all, close; what a data
# loader's Dataset does) on files already read once:
#   - profile=dataset (kernel_open: the kernel opens and closes files itself):
#     0 requests of any opcode reach userspace, counted by BPF and by the daemon,
#     read-write and read-only, for 110 KB files and 8 MiB files;
#   - the default profile: read-only opens send no FLUSH (FOPEN_NOFLUSH).
# Every pass also checks the bytes against the source.  Python's open() costs
# one IOCTL per file on any FUSE mount (its isatty() check; the kernel forwards
# every ioctl it does not know and remembers no ENOSYS): counted apart.
#
# Read-write mounts pay one GETATTR per file on the first re-read after a cold
# read: the kernel marks the cached atime stale after every READ it sends
# (fuse_invalidate_atime(); not on read-only mounts), and the re-read's fstat
# asks once.  Re-reads served from the page cache send no READ, so from the
# third pass on nothing is asked (docs/profiles.md).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/stats.sh"
setup_case "$@"

mkdir -p "$T/src" "$T/mnt"
python3 - "$T/src" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(10)
for d in range(20):
    os.mkdir(os.path.join(root, "c%02d" % d))
    for f in range(100):
        with open(os.path.join(root, "c%02d" % d, "f%03d.jpg" % f), "wb") as fh:
            fh.write(rnd.randbytes(rnd.randint(60, 160) * 1024))
os.mkdir(os.path.join(root, "big"))
for f in range(2):
    with open(os.path.join(root, "big", "b%d" % f), "wb") as fh:
        fh.write(rnd.randbytes(8 << 20))
PY

# loop MNT [raw]: one pass of the read loop over every file, bytes checked
# against SRC.  Python's open() (what PIL and torchvision's loaders call), or
# with "raw" os.open/os.fstat/os.read/os.close.
loop() {
	python3 - "$1" "$T/src" "${2:-}" <<'PY'
import os, sys
mnt, src, raw = sys.argv[1:]
n = 0
for d in sorted(os.listdir(src)):
    for f in sorted(os.listdir(os.path.join(src, d))):
        path = os.path.join(mnt, d, f)
        if raw:
            fd = os.open(path, os.O_RDONLY)
            st = os.fstat(fd)
            data = b""
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    break
                data += b
            os.close(fd)
        else:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                data = fh.read()
        with open(os.path.join(src, d, f), "rb") as fh:
            want = fh.read()
        if data != want or st.st_size != len(want):
            sys.exit("%s/%s: %d bytes read, size %d, expected %d" % (d, f, len(data), st.st_size, len(want)))
        n += 1
print(n)
PY
}

# Every file's pages are kept resident while it is re-read (hold_pages, common.sh):
# DAMON's proactive pageout on this kind of kernel reclaims cold page cache at any
# time, which is not what this case tests.

# total SRC BEFORE AFTER: requests of every opcode between two snapshots
total() {
	python3 - "$@" <<'PY'
import json, sys
src, a, b = sys.argv[1:]
key = "requests" if src == "bpf" else "daemon_requests"
ops = lambda f: json.load(open(f))["ops"]
A, B = ops(a), ops(b)
print(" ".join("%s=%d" % (op, B[op].get(key, 0) - A.get(op, {}).get(key, 0))
               for op in sorted(B) if B[op].get(key, 0) != A.get(op, {}).get(key, 0)))
PY
}

nfiles=2002
for mode in rw ro; do
	v="profile=dataset,$mode"
	bpfuse_mount "$T/src" "$T/mnt" "profile=dataset,$mode"
	need_bpf_stats "$T/mnt"
	stats_json "$T/mnt" "$T/s0.json"
	assert_eq $nfiles "$(loop "$T/mnt")" "$v: files read in the cold pass"
	stats_json "$T/mnt" "$T/s1.json"
	# the cold pass went to userspace and was counted, by both sources alike
	r=$(stats_delta "$T/s0.json" "$T/s1.json" bpf READ)
	[ "$r" -ge $nfiles ] || fail "$v: the cold pass made only $r READs"
	assert_eq "$r" "$(stats_delta "$T/s0.json" "$T/s1.json" daemon READ)" "$v: daemon vs BPF READs"
	o=$(stats_delta "$T/s0.json" "$T/s1.json" bpf OPEN)
	[ "$o" -le 1 ] || fail "$v: $o OPENs reached userspace (kernel_open: at most the first)"
	rm -f "$T/held"
	hold_pages "$T/held" 0 "$T"/mnt/*/*
	stats_json "$T/mnt" "$T/s1.json" # the helper listed the directories once
	assert_eq $nfiles "$(loop "$T/mnt" raw)" "$v: files read in the second pass"
	stats_json "$T/mnt" "$T/s2.json"
	g=$(stats_delta "$T/s1.json" "$T/s2.json" daemon GETATTR)
	if [ $mode = ro ]; then
		assert_eq "" "$(total daemon "$T/s1.json" "$T/s2.json")" "$v: requests in the second pass"
	else
		[ "$g" -le $nfiles ] || fail "$v: second pass made $g GETATTRs (at most one per file)"
	fi
	assert_eq $nfiles "$(loop "$T/mnt" raw)" "$v: files read in the third pass"
	stats_json "$T/mnt" "$T/s3.json"
	for src in bpf daemon; do
		assert_eq "" "$(total $src "$T/s2.json" "$T/s3.json")" \
			"$v: requests ($src) in the third pass of $nfiles files"
	done
	# Python's open() adds an isatty() (ioctl TCGETS): the kernel sends every
	# ioctl of a FUSE file to userspace, and nothing else may come
	assert_eq $nfiles "$(loop "$T/mnt")" "$v: files read in the fourth pass"
	stats_json "$T/mnt" "$T/s4.json"
	for src in bpf daemon; do
		assert_eq "IOCTL=$nfiles" "$(total $src "$T/s3.json" "$T/s4.json")" \
			"$v: requests ($src) of Python's open() in the fourth pass"
	done
	kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null || true
	log "$v: third pass of $nfiles files: 0 requests to userspace (second pass: $g GETATTRs; Python's open(): 1 IOCTL per file)"
	bpfuse_umount "$T/mnt"
done

# default profile: read-only opens are not flushed
bpfuse_mount "$T/src" "$T/mnt" ""
stats_json "$T/mnt" "$T/d0.json"
assert_eq $nfiles "$(loop "$T/mnt")" "default: files read"
assert_eq $nfiles "$(loop "$T/mnt")" "default: files re-read"
stats_json "$T/mnt" "$T/d1.json"
o=$(stats_delta "$T/d0.json" "$T/d1.json" daemon OPEN)
assert_eq $((2 * nfiles)) "$o" "default: OPENs"
assert_eq 0 "$(stats_delta "$T/d0.json" "$T/d1.json" daemon FLUSH)" "default: FLUSHes of read-only opens"
bpfuse_umount "$T/mnt"
finish

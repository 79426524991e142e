#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# FUSE-over-io_uring (-o io_uring=on|off|auto): the kernel's switch
# /sys/module/fuse/parameters/enable_uring is system-wide, so only io_uring=on
# turns it on (and says so); auto uses the ring only when the switch is on
# already; off never does.  With the ring, requests really come by it: the
# daemon counts the requests libfuse received by a ring entry
# (fuse_req_is_uring), the daemon runs libfuse's fuse-ring-N threads and holds
# io_uring descriptors, and file I/O and the POSIX transcript are the same as
# on a plain directory.  The switch is put back as it was at the end.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/stats.sh"
. "$IT_DIR/lib/posix_compare.sh"
setup_case "$@"

SWITCH=/sys/module/fuse/parameters/enable_uring
[ -e /dev/fuse ] && : </dev/fuse 2>/dev/null # loads a modular fuse, as a mount would
[ -e "$SWITCH" ] ||
	skip "this kernel has no FUSE-over-io_uring (no $SWITCH: needs Linux >= 6.14 with CONFIG_FUSE_IO_URING)"
prev=$(cat "$SWITCH")
at_cleanup "echo '$prev' >'$SWITCH'"
switch_set() { echo "$1" >"$SWITCH" || fail "cannot write $1 to $SWITCH"; }

# mount_status SRC MNT OPTS: mount like bpfuse_mount, print the status line
# (run in $(...): the caller has track_mount'ed MNT)
mount_status() {
	local out rc=0
	out=$(timeout 60 "$BPFUSE" mount "$1" "$2" -o "$3" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "bpfuse mount -o $3 exited $rc: $out"
	assert_mounted "$2"
	echo "$out" | head -n 1
}

# transport MNT FILE: save the stats, print "TRANSPORT RING_REQUESTS"
transport() {
	stats_json "$1" "$2"
	python3 - "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(j["transport"], j["uring_requests"])
PY
}

# by_ring BEFORE AFTER: between two snapshots, print "RING OTHER" where OTHER
# counts the requests that came by /dev/fuse reads, less the ones the kernel
# always sends that way (FORGET, BATCH_FORGET, INTERRUPT) and INIT
by_ring() {
	python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
def total(j):
    return sum(o["daemon_requests"] for k, o in j["ops"].items()
               if k not in ("FORGET", "BATCH_FORGET", "INTERRUPT", "INIT"))
ring = b["uring_requests"] - a["uring_requests"]
print(ring, total(b) - total(a) - ring)
PY
}

# ring_threads MNT: the daemon's libfuse ring threads and io_uring descriptors
ring_threads() {
	local pid n_thr=0 n_fd=0 t f
	pid=$(daemon_pids "$1" | head -n 1)
	[ -n "$pid" ] || fail "no daemon serves '$1'"
	for t in /proc/"$pid"/task/*/comm; do
		case $(cat "$t") in fuse-ring-*) n_thr=$((n_thr + 1)) ;; esac
	done
	for f in /proc/"$pid"/fd/*; do
		[ "$(readlink "$f")" = "anon_inode:[io_uring]" ] && n_fd=$((n_fd + 1))
	done
	echo "$n_thr $n_fd"
}

# wait_ring MNT: the ring is registered a moment after INIT; until then
# requests come by /dev/fuse.  Send lookups until one comes by the ring.
wait_ring() {
	local i
	for i in $(seq 100); do
		stat "$1/.no-such-$i" >/dev/null 2>&1 || true
		[ "$(transport "$1" "$T/wait.json" | cut -d' ' -f2)" -gt 0 ] && return 0
		sleep 0.05
	done
	fail "no request came by the ring within 100 lookups"
}

# file_io DIR: 4K writes, reads back, renames, stats, unlinks: prints a digest
file_io() {
	python3 - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
os.makedirs(os.path.join(root, "io"), exist_ok=True)
h = hashlib.sha256()
for i in range(200):
    p = os.path.join(root, "io", "f%03d" % i)
    with open(p, "wb") as f:
        for k in range(i % 7 + 1):
            f.write(bytes([(i + k) & 0xff]) * 4096)
for i in range(200):
    p = os.path.join(root, "io", "f%03d" % i)
    with open(p, "rb") as f:
        h.update(f.read())
    st = os.stat(p)
    h.update(b"%d" % st.st_size)
    if i % 3 == 0:
        os.rename(p, p + ".r")
    elif i % 3 == 1:
        os.unlink(p)
h.update(" ".join(sorted(os.listdir(os.path.join(root, "io")))).encode())
print(h.hexdigest())
PY
}

mkdir -p "$T/src" "$T/mnt" "$T/plain"
track_mount "$T/mnt"
want=$(file_io "$T/plain")

# auto with the switch off: /dev/fuse reads, the switch left alone, the reason said
switch_set N
st=$(mount_status "$T/src" "$T/mnt" io_uring=auto)
echo "$st" | grep -q "requests by /dev/fuse reads, io_uring off: the kernel's switch $SWITCH is N" ||
	fail "auto with the switch off: status line does not say why: $st"
assert_eq N "$(cat "$SWITCH")" "the switch after an io_uring=auto mount"
assert_eq "$want" "$(file_io "$T/mnt")" "file I/O digest over /dev/fuse"
read -r tr ring <<<"$(transport "$T/mnt" "$T/a.json")"
assert_eq "dev_fuse 0" "$tr $ring" "transport of an io_uring=auto mount with the switch off"
read -r thr fds <<<"$(ring_threads "$T/mnt")"
assert_eq "0 0" "$thr $fds" "ring threads and io_uring fds without the ring"
bpfuse_umount "$T/mnt"
rm -rf "$T/src/io"

# on: turns the switch on, says so, and requests come by the ring
st=$(mount_status "$T/src" "$T/mnt" io_uring=on)
echo "$st" | grep -q "requests by io_uring; turned on the kernel's system-wide fuse enable_uring" ||
	fail "io_uring=on: status line: $st"
assert_eq Y "$(cat "$SWITCH")" "the switch after an io_uring=on mount"
wait_ring "$T/mnt"
stats_json "$T/mnt" "$T/s0.json"
assert_eq "$want" "$(file_io "$T/mnt")" "file I/O digest over io_uring"
stats_json "$T/mnt" "$T/s1.json"
read -r ring other <<<"$(by_ring "$T/s0.json" "$T/s1.json")"
log "file I/O: $ring requests by the ring, $other by /dev/fuse reads (FORGET/INIT aside)"
[ "$ring" -ge 1000 ] || fail "file I/O made only $ring requests by the ring"
[ "$other" -eq 0 ] || fail "file I/O made $other requests by /dev/fuse reads with the ring up"
read -r thr fds <<<"$(ring_threads "$T/mnt")"
[ "$thr" -ge 1 ] && [ "$fds" -ge 1 ] ||
	fail "io_uring mount: $thr fuse-ring threads and $fds io_uring descriptors in the daemon"
"$BPFUSE" stats "$T/mnt" | grep -q '^transport: io_uring ([0-9]* requests by the ring' ||
	fail "the stats table does not name the io_uring transport"
bpfuse_umount "$T/mnt"
rm -rf "$T/src/io"

# the POSIX transcript over the ring equals a plain directory's (switch on: auto uses it)
ring_hook() { # MNT
	local tr ring
	read -r tr ring <<<"$(transport "$1" "$T/h.json")"
	assert_eq io_uring "$tr" "transport during the transcript"
	[ "$ring" -ge 100 ] || fail "the transcript made only $ring requests by the ring"
	log "transcript: $ring requests by the ring"
}
POSIX_COMPARE_HOOK=ring_hook posix_compare io_uring=auto

# off with the switch on: /dev/fuse reads, and the reason says it is the option
st=$(mount_status "$T/src" "$T/mnt" io_uring=off)
echo "$st" | grep -q "requests by /dev/fuse reads, io_uring off: off by option" ||
	fail "io_uring=off: status line: $st"
assert_eq "$want" "$(file_io "$T/mnt")" "file I/O digest with io_uring=off"
read -r tr ring <<<"$(transport "$T/mnt" "$T/c.json")"
assert_eq "dev_fuse 0" "$tr $ring" "transport of an io_uring=off mount"
bpfuse_umount "$T/mnt"

# a bad value: one line, non-zero, nothing mounted
rc=0
"$BPFUSE" mount "$T/src" "$T/mnt" -o io_uring=maybe 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "io_uring.*on, off or auto" "$T/err" ||
	fail "io_uring=maybe: rc=$rc, stderr: $(cat "$T/err")"
assert_not_mounted "$T/mnt"

switch_set "$prev"
assert_eq "$prev" "$(cat "$SWITCH")" "the switch put back"
finish

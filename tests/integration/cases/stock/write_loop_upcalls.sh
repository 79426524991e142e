#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The write loop's per-operation upcalls on a stock kernel, counted by the
# daemon (and by BPF when the kernel has the fuse tracepoints):
# - 1,000 4K pwrites through one open make no GETXATTR (security.capability)
#   after the first write, with passthrough (which sends no WRITE either) and
#   without (1,000 WRITEs); the first write costs at most one.
# - on a mount checking permissions in the kernel (default_permissions, which
#   allow_other implies; POSIX ACLs are the kernel's there), listing 1,000 files
#   without ACLs a second time, asking each for its access
#   ACL as ls -l does (readdir, lstat, getxattr system.posix_acl_access), makes
#   no GETXATTR; and a real second `ls -l` makes at most one GETXATTR per file
#   (security.selinux, which no kernel caches for FUSE; ls asks for it first).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/stats.sh"
setup_case "$@"
need_bpfuse

# the stats socket may appear a moment after the mount serves
stats_ready() { # MNT
	local i
	for i in $(seq 50); do
		"$BPFUSE" stats "$1" --json >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "no stats from '$1'"
}
bpf_too() { # MNT: also count with BPF when this kernel can
	local src
	src=$("$BPFUSE" stats "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["request_source"])')
	[ "$src" = bpf ] && echo "daemon bpf" || echo daemon
}
# assert_delta A B OP MAX WHAT: OP requests between snapshots A and B <= MAX, by every counter
assert_delta() {
	local s d
	for s in $SOURCES; do
		d=$(stats_delta "$1" "$2" "$s" "$3")
		[ "$d" -le "$4" ] || fail "$5: $d $3 requests ($s), expected <= $4"
	done
}

# PATH STATS...: one open; a 4K pwrite; `bpfuse stats` into STATS[0]; 1,000 more 4K
# pwrites; stats into STATS[1]. The attributes are not refreshed between the
# first write and the rest (a refresh clears S_NOSEC: the next write asks again).
writes() {
	python3 - "$BPFUSE" "$@" <<'PY'
import os, subprocess, sys
bpfuse, path, mnt, s1, s2 = sys.argv[1:]
def stats(out):
    with open(out, "w") as f:
        subprocess.run([bpfuse, "stats", mnt, "--json"], stdout=f, check=True)
fd = os.open(path, os.O_WRONLY)
buf = b"w" * 4096
os.pwrite(fd, buf, 0)
stats(s1)
for i in range(1, 1001):
    os.pwrite(fd, buf, i * 4096)
stats(s2)
os.close(fd)
PY
}

write_loop() { # PT
	local pt=$1 src=$T/src.$1 mnt=$T/mnt.$1
	bpfuse_mount "$src" "$mnt" "passthrough=$pt"
	stats_ready "$mnt"
	SOURCES=$(bpf_too "$mnt")
	: >"$mnt/f"
	stats_json "$mnt" "$T/w0.$pt.json"
	writes "$mnt/f" "$mnt" "$T/w1.$pt.json" "$T/w2.$pt.json"
	assert_delta "$T/w0.$pt.json" "$T/w1.$pt.json" GETXATTR 1 "passthrough=$pt: the first write"
	assert_delta "$T/w1.$pt.json" "$T/w2.$pt.json" GETXATTR 0 "passthrough=$pt: 1,000 writes"
	if [ "$pt" = on ]; then
		assert_delta "$T/w1.$pt.json" "$T/w2.$pt.json" WRITE 0 "passthrough=on: 1,000 writes"
	else
		assert_eq 1000 "$(stats_delta "$T/w1.$pt.json" "$T/w2.$pt.json" daemon WRITE)" \
			"passthrough=off: WRITEs of 1,000 writes"
	fi
	assert_eq $((4096 * 1001)) "$(stat -c %s "$src/f")" "size of the written file"
	bpfuse_umount "$mnt"
}
for pt in on off; do
	mkdir "$T/src.$pt" "$T/mnt.$pt"
	track_mount "$T/mnt.$pt"
	check "1,000 4K writes, passthrough $pt: no GETXATTR" write_loop $pt
done

acl_listing() { # MNT: what ls -l asks about every entry, without security.selinux
	python3 - "$1" <<'PY'
import errno, os, sys
d = sys.argv[1]
for name in os.listdir(d):
    p = os.path.join(d, name)
    os.lstat(p)
    try:
        os.getxattr(p, "system.posix_acl_access")
        sys.exit("%s has an ACL" % name)
    except OSError as e:
        if e.errno != errno.ENODATA:
            raise
PY
}

ls_loop() {
	local src=$T/src.ls mnt=$T/mnt.ls
	mkdir "$src/d"
	python3 -c 'import os, sys
for i in range(1000):
    open(os.path.join(sys.argv[1], "f%04d" % i), "w").close()' "$src/d"
	bpfuse_mount "$src" "$mnt" "default_permissions,attr_timeout=60,entry_timeout=60"
	stats_ready "$mnt"
	SOURCES=$(bpf_too "$mnt")
	ls -l "$mnt/d" >/dev/null
	stats_json "$mnt" "$T/l0.json"
	acl_listing "$mnt/d"
	stats_json "$mnt" "$T/l1.json"
	ls -l "$mnt/d" >/dev/null
	stats_json "$mnt" "$T/l2.json"
	assert_delta "$T/l0.json" "$T/l1.json" GETXATTR 0 "ACL queries of 1,000 listed files, second time"
	# security.selinux of each file, and of the directory with its two ACLs (its
	# attributes are refreshed: the listing marked its atime stale)
	assert_delta "$T/l1.json" "$T/l2.json" GETXATTR 1003 "a second ls -l of 1,000 files"
	assert_delta "$T/l1.json" "$T/l2.json" GETATTR 1 "a second ls -l of 1,000 files"
	assert_delta "$T/l1.json" "$T/l2.json" LOOKUP 0 "a second ls -l of 1,000 files"
	bpfuse_umount "$mnt"
}
mkdir "$T/src.ls" "$T/mnt.ls"
track_mount "$T/mnt.ls"
check "ls -l of 1,000 files without ACLs: no ACL GETXATTR after the first" ls_loop

finish

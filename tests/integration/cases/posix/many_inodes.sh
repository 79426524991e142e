#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A tree with more entries than the daemon may have open descriptors: walking
# it (readdir + stat + read of every file) through the mount must not fail.
# The daemon is started with a hard RLIMIT_NOFILE of 4096 (as on hosts with a
# PAM/sysvinit default) so the tree stays small and the case fast; the kernel
# keeps every looked-up inode cached, so a daemon holding one descriptor per
# inode runs out (EMFILE) unless it can work without one.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

LIMIT=4096 NDIRS=50 NFILES=200   # 10,000 files + 50 dirs
mkdir "$T/src"
python3 - "$T/src" "$NDIRS" "$NFILES" <<'PY'
import os, sys
root, nd, nf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(nd):
    p = os.path.join(root, "d%03d" % d)
    os.mkdir(p)
    for f in range(nf):
        with open(os.path.join(p, "f%04d" % f), "w") as fh:
            fh.write("%d/%d\n" % (d, f))
PY

walk() {
	local mode=$1 M=$T/mnt_$1
	# the daemon inherits the limit; the shell's own limit is raised back
	# for the walker only by running it outside this subshell's ulimit
	(
		ulimit -S -n "$LIMIT"
		ulimit -H -n "$LIMIT"
		bpfuse_mount "$T/src" "$M" "passthrough=$mode"
	)
	python3 - "$M" "$NDIRS" "$NFILES" >"$T/walk.$mode.out" 2>&1 <<'PY' ||
import errno, os, sys
root, nd, nf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
errs, files = {}, 0
def bad(what, e):
    errs.setdefault(errno.errorcode.get(e.errno, str(e.errno)), []).append(what)
for d in range(nd):
    p = os.path.join(root, "d%03d" % d)
    try:
        names = sorted(os.listdir(p))
    except OSError as e:
        bad("listdir " + p, e)
        continue
    for n in names:
        q = os.path.join(p, n)
        try:
            os.lstat(q)
            with open(q) as fh:
                if fh.read() != "%d/%d\n" % (d, int(n[1:])):
                    print("wrong content: " + q)
                    sys.exit(1)
            files += 1
        except OSError as e:
            bad(q, e)
for k, v in errs.items():
    print("%s: %d times, first: %s" % (k, len(v), v[0]))
print("files read: %d of %d" % (files, nd * nf))
sys.exit(1 if errs or files != nd * nf else 0)
PY
		{ cat "$T/walk.$mode.out" >&2; fail "passthrough=$mode: walking $((NDIRS * NFILES)) files failed"; }
	log "passthrough=$mode: $(tail -n 1 "$T/walk.$mode.out")"
	bpfuse_umount "$M"
}

for mode in on off; do
	mkdir "$T/mnt_$mode"
	track_mount "$T/mnt_$mode"
	check "walk 10,000 files with RLIMIT_NOFILE $LIMIT, passthrough=$mode" walk "$mode"
done
finish

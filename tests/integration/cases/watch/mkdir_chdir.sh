#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A directory made through the mount stays usable as a cwd: mkdir d; chdir d;
# getcwd() must never fail. The watcher sees the IN_CREATE of the daemon's own
# mkdirat(); invalidating that entry unhashes the dentry the new cwd is on and
# getcwd() returns ENOENT. Four parallel workers, 500 loops each, 0 failures.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

mkdir "$T/src" "$T/mnt"
bpfuse_mount "$T/src" "$T/mnt"

out=$(python3 - "$T/mnt" <<'PY'
import os, sys
from multiprocessing import Process, Queue

def worker(root, n, i, q):
    fails = 0
    os.chdir(root)
    for k in range(500):
        d = "w%d_%d" % (i, k % 7)
        os.mkdir(d)
        os.chdir(d)
        try:
            os.getcwd()
        except OSError:
            fails += 1
        os.chdir("..")
        os.rmdir(d)
    q.put(fails)

q = Queue()
ps = [Process(target=worker, args=(sys.argv[1], 500, i, q)) for i in range(4)]
for p in ps:
    p.start()
fails = sum(q.get() for _ in ps)
for p in ps:
    p.join()
    if p.exitcode:
        fails += 10000
print(fails)
PY
)
assert_eq 0 "$out" "getcwd() failures in 2000 mkdir/chdir loops"
bpfuse_umount "$T/mnt"
finish

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""readloop.py ROOT [DROP] - the read loop of a training Dataset's
__getitem__ without the decode: for every file under ROOT, in a shuffled but
fixed order: os.open, os.fstat, os.read until end of file, os.close.

The file list is made before the timing (a Dataset has its list from its
constructor; the scan is timed apart as scan_s). Every file's byte count is
checked against its fstat size. With DROP=cold the page, dentry and inode
caches are dropped after the scan, right before the loop (so the scan's
dentries are gone too, as after a reboot with a cached index file).
Primary metric: files per second.
"""
import json
import os
import random
import sys
import time


def main():
    root = sys.argv[1]
    cold = len(sys.argv) > 2 and sys.argv[2] == "cold"
    t0 = time.perf_counter()
    paths = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        paths.extend(os.path.join(d, f) for f in sorted(files))
    scan = time.perf_counter() - t0
    random.Random(0).shuffle(paths)
    if cold:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
    nbytes = 0
    t0 = time.perf_counter()
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        size = os.fstat(fd).st_size
        got = 0
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            got += len(b)
        os.close(fd)
        if got != size:
            sys.exit("readloop.py: %s: read %d bytes, fstat says %d" % (p, got, size))
        nbytes += got
    s = time.perf_counter() - t0
    n = len(paths)
    if not n:
        sys.exit("readloop.py: no files under %s" % root)
    print(json.dumps({"primary": "files_per_s", "unit": "files/s", "higher_is_better": True,
                      "metrics": {"files_per_s": n / s, "seconds": s, "files": n,
                                  "MiB_per_s": nbytes / 2**20 / s, "scan_s": scan}}))


if __name__ == "__main__":
    main()

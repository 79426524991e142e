#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""readloop.py ROOT LIST [DROP [N]] - the read loop of a training Dataset's
__getitem__ without the decode: for every file of LIST (paths relative to
ROOT, one a line: the dataset's index, read from outside the mount; its
first N files if N is given), in a
shuffled but fixed order: os.open, os.fstat, os.read until end of file,
os.close.

No directory is listed through the mount: what the timed phase sends to a
FUSE server is the loop's own requests (and, cold, one LOOKUP per path
component). Every file's byte count is checked against its fstat size. With
DROP=cold the page, dentry and inode caches are dropped right before the
loop. Primary metric: files per second.
"""
import json
import os
import random
import sys
import time


def main():
    root, listfile = sys.argv[1], sys.argv[2]
    cold = len(sys.argv) > 3 and sys.argv[3] == "cold"
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    with open(listfile) as f:
        paths = [os.path.join(root, p) for p in f.read().split("\n") if p][:limit]
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
        sys.exit("readloop.py: no files in %s" % listfile)
    print(json.dumps({"primary": "files_per_s", "unit": "files/s", "higher_is_better": True,
                      "metrics": {"files_per_s": n / s, "seconds": s, "files": n,
                                  "MiB_per_s": nbytes / 2**20 / s}}))


if __name__ == "__main__":
    main()

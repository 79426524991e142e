#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""meta_ops.py OP ROOT ARG - the timed loops of the metadata workloads.

  stat   ROOT LISTFILE  stat(2) every path in LISTFILE (relative to ROOT)
  create DIR N          create N empty files in DIR (open O_CREAT|O_EXCL, close)
  delete DIR N          unlink the N files made by create, then rmdir DIR

Prints one JSON object: primary metric "seconds", lower is better.
"""
import json
import os
import sys
import time


def main():
    op, root, arg = sys.argv[1:4]
    if op == "stat":
        with open(arg) as f:
            paths = [os.path.join(root, p) for p in f.read().split()]
        t0 = time.perf_counter()
        for p in paths:
            os.stat(p)
        n = len(paths)
    elif op == "create":
        n = int(arg)
        names = [os.path.join(root, "c%05d" % i) for i in range(n)]
        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY
        t0 = time.perf_counter()
        for p in names:
            os.close(os.open(p, flags, 0o644))
    elif op == "delete":
        n = int(arg)
        names = [os.path.join(root, "c%05d" % i) for i in range(n)]
        t0 = time.perf_counter()
        for p in names:
            os.unlink(p)
        os.rmdir(root)
    else:
        sys.exit("meta_ops.py: unknown op '%s'" % op)
    s = time.perf_counter() - t0
    print(json.dumps({"primary": "seconds", "unit": "s", "higher_is_better": False,
                      "metrics": {"seconds": s, "ops_per_s": n / s, "files": n}}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# hold_pages.py READY LEN PATH...: map the first LEN bytes of each PATH (0: the whole
# file) shared and read-only, mlockall them, create READY, and sleep: the pages stay
# resident for as long as this runs (common.sh's hold_pages starts and kills it).
# PATH "-": read "SIZE<tab>PATH" lines from standard input instead (the bench's long
# lists; SIZE known from outside the mount, so that no fstat, which a length of 0 makes
# Python do, asks the mount for attributes). HOLD_SECONDS: how long (default 3600).
import ctypes, mmap, os, sys, time

ready, length, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
if paths == ["-"]:
    jobs = [(int(l.split("\t", 1)[0]), l.split("\t", 1)[1]) for l in sys.stdin.read().split("\n") if l]
else:
    jobs = [(length, p) for p in paths]
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
maps = []
for size, p in jobs:
    fd = os.open(p, os.O_RDONLY)
    if paths != ["-"]:
        maps.append(mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ))
    elif size:  # libc's mmap: Python's would fstat the file (nothing to map if empty)
        if libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0) in (None, ctypes.c_void_p(-1).value):
            sys.exit("mmap %s: %s" % (p, os.strerror(ctypes.get_errno())))
    os.close(fd)
if libc.mlockall(1):  # MCL_CURRENT
    sys.exit("mlockall: " + os.strerror(ctypes.get_errno()))
open(ready, "w").close()
time.sleep(int(os.environ.get("HOLD_SECONDS", "3600")))

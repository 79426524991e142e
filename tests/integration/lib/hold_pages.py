#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# hold_pages.py READY LEN PATH...: map the first LEN bytes of each PATH (0: the whole
# file) shared and read-only, mlockall them, create READY, and sleep: the pages stay
# resident for as long as this runs (common.sh's hold_pages starts and kills it).
import ctypes, mmap, os, sys, time

ready, length, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
maps = []
for p in paths:
    fd = os.open(p, os.O_RDONLY)
    maps.append(mmap.mmap(fd, length, mmap.MAP_SHARED, mmap.PROT_READ))
    os.close(fd)
if ctypes.CDLL(None, use_errno=True).mlockall(1):  # MCL_CURRENT
    sys.exit("mlockall: " + os.strerror(ctypes.get_errno()))
open(ready, "w").close()
time.sleep(3600)

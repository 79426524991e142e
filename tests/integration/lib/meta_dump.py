#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# meta_dump.py DIR [NAME...]: one line per entry of DIR (or the NAMEs given), sorted, without
# following symlinks: name, st_mode (octal, with the type), uid, gid, size (not for
# directories), mtime in nanoseconds, rdev of device nodes, the target of symlinks.  What an
# S3 mount must keep of each object, and what bpfuse and s3fs must show alike (the link
# count and the root directory are left out: they are not stored in the bucket).  A NAME
# that is not there is a line "NAME missing".
import os
import stat
import sys

d = sys.argv[1]
names = sys.argv[2:] or sorted(os.listdir(d))
for name in sorted(names):
    p = os.path.join(d, name)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        print(name, "missing")
        continue
    f = [name, "%o" % st.st_mode, str(st.st_uid), str(st.st_gid)]
    if not stat.S_ISDIR(st.st_mode):
        f.append("size=%d" % st.st_size)
    f.append("mtime=%d" % st.st_mtime_ns)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        f.append("rdev=%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev)))
    if stat.S_ISLNK(st.st_mode):
        f.append("-> " + os.readlink(p))
    print(" ".join(f))

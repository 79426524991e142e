#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# s3_posix_diff.py REF S3: compare the posix_ops transcript of a plain directory (REF) with
# that of an s3:// mount (S3).  Every step that differs must be explained by one of the
# differences docs/s3.md lists as forced by S3 ("Differences from a local directory");
# prints how many steps each explains and every step nothing explains, and exits 1 if
# there is one.  A difference that goes away (a feature added) is fine.
import re
import sys

# (what docs/s3.md calls it, steps it explains: a regex on the step name)
BY_DESIGN = [
    ("no symbolic links, FIFOs, sockets or device nodes (EPERM)",
     r"mknod_(fifo|chr)|stat_(fifo|chrnod)|open_fifo|(loop_|rename_)?symlink|"
     r"lstat_(sl|dangling)|"
     r"stat_sl_|readlink_|open_sl_|stat_through_dir_symlink|stat_loop|unlink_loop|"
     r"lchown_sl|setxattr_fifo|mknod_sg_fifo|stat_sg_fifo|lstat_sg_sl|lgetxattr_symlink|"
     r"getxattr_via_symlink"),
    ("no hard links (EPERM)",
     r"link_|stat_a_link|stat_a_nlink|unlink_a_link|lstat_sl_hard|lstat_sl_nlink|"
     r"unlink_sl_hard|hl2_content|stat_hl2|stat_lx_|lx_moved_content|unlink_lx_moved|"
     r"rename_link_across"),
    ("no extended attributes (EOPNOTSUPP)", r".*xattr"),
    ("no O_TMPFILE (EOPNOTSUPP)", r".*tmpfile"),
    ("RENAME_EXCHANGE refused (EINVAL)",
     r"rename_exchange|lstat_r3_now_dir|lstat_rd2_now_file|rd2_content"),
    ("times not kept (set times are not stored)", r"times_"),
]
# fields S3 does not keep (modes, owners; the ctime a chmod moves), and directory link
# counts (S3 cannot count subdirectories without a listing: always 2); applied in turn
FIELDS = [("modes and owners not kept", re.compile(r" (mode|uid|gid)=\d+| ctime_changed=\d")),
          ("directories' nlink is 2", re.compile(r"(?<=type=dir) nlink=\d+"))]


def load(path):
    steps, order = {}, []
    for line in open(path):
        k, _, v = line.rstrip("\n").partition(": ")
        steps[k] = v
        order.append(k)
    return steps, order


def listing(v):
    # final_listing: drop what S3 cannot hold, and the modes
    m = re.match(r"ok entries=\d+ (dtype_bad=\d+) list=(.*)", v)
    if not m:
        return v
    keep = []
    for e in m.group(2).split(","):
        f = e.split(":")
        if len(f) >= 3 and f[1] not in ("lnk", "fifo", "chr", "blk", "sock"):
            keep.append(":".join([f[0], f[1]] + f[3:]))
    return "ok entries=%d %s list=%s" % (len(keep), m.group(1), ",".join(keep))


ref, order = load(sys.argv[1])
s3, s3order = load(sys.argv[2])
counts = {c: 0 for c, _ in BY_DESIGN + FIELDS}
bad = []
for k in order:
    a, b = ref[k], s3.get(k)
    if a == b:
        continue
    cat = next((c for c, rx in BY_DESIGN if re.match("(?:%s)" % rx, k)), None)
    if cat:
        counts[cat] += 1
        continue
    if b is not None and k == "final_listing" and listing(a) == listing(b):
        counts[FIELDS[0][0]] += 1
        continue
    cat = None
    for c, rx in FIELDS if b is not None else []:
        a, b = rx.sub("", a), rx.sub("", b)
        if a == b:
            cat = c
            break
    if cat:
        counts[cat] += 1
        continue
    b = s3.get(k)
    b = "(missing)" if b is None else b
    bad.append("%s: plain directory '%s', s3:// '%s'" % (k, ref[k], b))
for k in s3order:
    if k not in ref:
        bad.append("%s: only on s3:// ('%s')" % (k, s3[k]))
ndiff = sum(counts.values())
print("%d of %d steps differ by design:" % (ndiff, len(order)))
for c, n in counts.items():
    if n:
        print("  %3d  %s" % (n, c))
for b in bad:
    print("NOT BY DESIGN: " + b)
sys.exit(1 if bad else 0)

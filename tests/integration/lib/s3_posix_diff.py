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
    ("device nodes refused (EPERM): the mount is nodev unless -o dev",
     r"mknod_chr|stat_chrnod"),
    ("no hard links (EPERM)",
     r"link_|stat_a_link|stat_a_nlink|unlink_a_link|lstat_sl_hard|lstat_sl_nlink|"
     r"unlink_sl_hard|hl2_content|stat_hl2|stat_lx_|lx_moved_content|unlink_lx_moved|"
     r"rename_link_across"),
    ("no extended attributes (EOPNOTSUPP)", r".*xattr"),
    ("no O_TMPFILE (EOPNOTSUPP)", r".*tmpfile"),
    ("RENAME_EXCHANGE refused (EINVAL)",
     r"rename_exchange|lstat_r3_now_dir|lstat_rd2_now_file|rd2_content"),
]
# the final listing without the device node that could not be made; directory link
# counts (S3 cannot count subdirectories without a listing: always 2)
FIELDS = [("device nodes refused (EPERM): the mount is nodev unless -o dev", None),
          ("directories' nlink is 2", re.compile(r"(?<=type=dir mode=\d{4}) nlink=\d+"))]


def load(path):
    steps, order = {}, []
    for line in open(path):
        k, _, v = line.rstrip("\n").partition(": ")
        steps[k] = v
        order.append(k)
    return steps, order


def listing(v):
    # final_listing: drop the device nodes the mount refused
    m = re.match(r"ok entries=\d+ (dtype_bad=\d+) list=(.*)", v)
    if not m:
        return v
    keep = [e for e in m.group(2).split(",") if e.split(":")[1:2] not in (["chr"], ["blk"])]
    return "ok entries=%d %s list=%s" % (len(keep), m.group(1), ",".join(keep))


ref, order = load(sys.argv[1])
s3, s3order = load(sys.argv[2])
counts = {c: 0 for c, _ in BY_DESIGN + FIELDS[1:]}
which = {c: [] for c, _ in BY_DESIGN + FIELDS[1:]}
bad = []
for k in order:
    a, b = ref[k], s3.get(k)
    if a == b:
        continue
    cat = next((c for c, rx in BY_DESIGN if re.match("(?:%s)" % rx, k)), None)
    if cat:
        counts[cat] += 1
        which[cat].append(k)
        continue
    if b is not None and k == "final_listing" and listing(a) == listing(b):
        counts[FIELDS[0][0]] += 1
        which[FIELDS[0][0]].append(k)
        continue
    cat = None
    for c, rx in FIELDS[1:] if b is not None else []:
        a, b = rx.sub("", a), rx.sub("", b)
        if a == b:
            cat = c
            break
    if cat:
        counts[cat] += 1
        which[cat].append(k)
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
        print("  %3d  %s: %s" % (n, c, " ".join(which[c])))
for b in bad:
    print("NOT BY DESIGN: " + b)
sys.exit(1 if bad else 0)

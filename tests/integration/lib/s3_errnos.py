#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# s3_errnos.py ROOT [--tree]: namespace operations whose result POSIX fixes (rename over
# files and directories, RENAME_NOREPLACE/EXCHANGE, paths through a file, rmdir of a
# non-empty directory, ...), done in the empty directory ROOT; prints one line per
# operation, "label: ok" or "label: ERRNO", plus what the tree holds afterwards (--tree:
# only that).  Run on a plain directory and on an s3:// mount: the transcripts must be the
# same but for the differences docs/s3.md lists as forced by S3 (cases/s3/rename_errnos.sh).
import ctypes, errno, os, sys

root = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
AT_FDCWD = -100


def p(*names):
    return os.path.join(root, *names)


def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def put(path, data):
    with open(path, "w") as f:
        f.write(data)


def get(path):
    with open(path) as f:
        return f.read()


def open_close(path, flags):
    os.close(os.open(path, flags, 0o644))


def each(*steps):
    # one labelled operation made of several calls: stops at the first failure
    for step in steps:
        step()


def do(label, fn, *args):
    try:
        r = fn(*args)
        if isinstance(r, os.stat_result):
            r = None  # inode numbers and times differ by nature
        print("%s: ok%s" % (label, "" if r is None else " " + str(r)))
    except OSError as e:
        print("%s: %s" % (label, errno.errorcode.get(e.errno, "E%d" % e.errno)))


def tree(label):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(d, root)
        for f in sorted(files):
            name = os.path.normpath(os.path.join(rel, f))
            out.append("%s=%s" % (name, get(os.path.join(d, f))))
        for s in dirs:
            out.append(os.path.normpath(os.path.join(rel, s)) + "/")
    print("%s: %s" % (label, " ".join(sorted(out))))


if len(sys.argv) > 2 and sys.argv[2] == "--tree":
    tree("tree")
    sys.exit(0)

# the fixtures
os.mkdir(p("d"))
put(p("d", "f"), "df")
os.mkdir(p("d", "sub"))
put(p("d", "sub", "g"), "dsubg")
os.mkdir(p("empty"))
os.mkdir(p("empty2"))
put(p("file"), "file")
put(p("file2"), "file2")

# creation over what exists
do("mkdir over a directory", os.mkdir, p("d"))
do("mkdir over a file", os.mkdir, p("file"))
EXCL = os.O_CREAT | os.O_EXCL | os.O_WRONLY
do("O_CREAT|O_EXCL over a file", open_close, p("file"), EXCL)
do("O_CREAT|O_EXCL over a directory", open_close, p("d"), EXCL)
do("open a directory for writing", open_close, p("d"), os.O_WRONLY)

# paths through a file
do("stat file/x", os.stat, p("file", "x"))
do("stat file/", os.stat, p("file") + "/")
do("open file/x O_CREAT", open_close, p("file", "x"), os.O_CREAT | os.O_WRONLY)
do("mkdir file/x", os.mkdir, p("file", "x"))
do("unlink file/x", os.unlink, p("file", "x"))
do("rename file2 file/x", os.rename, p("file2"), p("file", "x"))
do("opendir file", os.listdir, p("file"))
do("stat missing/x", os.stat, p("missing", "x"))
do("mkdir missing/x", os.mkdir, p("missing", "x"))

# removal
do("rmdir of a non-empty directory", os.rmdir, p("d"))
do("rmdir of a directory holding only a directory",
   each, lambda: os.makedirs(p("outer", "inner")), lambda: os.rmdir(p("outer")))
do("rmdir of its emptied subdirectory, then itself",
   each, lambda: os.rmdir(p("outer", "inner")), lambda: os.rmdir(p("outer")))
os.mkdir(p("busy"))
busy = os.open(p("busy", "f"), os.O_CREAT | os.O_WRONLY, 0o644)
os.write(busy, b"being written")
do("rmdir of a directory whose file is being written", os.rmdir, p("busy"))
do("rename over a directory whose file is being written", os.rename, p("empty2"), p("busy"))
os.close(busy)
do("rmdir of a file", os.rmdir, p("file"))
do("unlink of a directory", os.unlink, p("d"))
do("unlink of a missing name", os.unlink, p("missing"))
do("rmdir of a missing name", os.rmdir, p("missing"))

# rename: what POSIX refuses
do("rename file over a directory", os.rename, p("file"), p("empty"))
do("rename directory over a file", os.rename, p("empty"), p("file"))
do("rename directory over a non-empty directory", os.rename, p("empty"), p("d"))
do("rename directory into itself", os.rename, p("d"), p("d", "sub", "x"))
do("rename a missing name", os.rename, p("missing"), p("x"))
do("rename into a missing directory", os.rename, p("file"), p("missing", "x"))
NOREPLACE = RENAME_NOREPLACE
do("RENAME_NOREPLACE file over a file", renameat2, p("file"), p("file2"), NOREPLACE)
do("RENAME_NOREPLACE directory over a directory", renameat2, p("empty"), p("empty2"), NOREPLACE)
do("RENAME_NOREPLACE file over a directory", renameat2, p("file"), p("empty"), NOREPLACE)
do("RENAME_NOREPLACE|RENAME_EXCHANGE",
   renameat2, p("file"), p("file2"), NOREPLACE | RENAME_EXCHANGE)
do("hard link", each, lambda: os.link(p("file"), p("hard")), lambda: os.unlink(p("hard")))
do("hard link of a directory", os.link, p("d"), p("hard"))
tree("tree before the renames")

# rename: what POSIX allows
do("RENAME_NOREPLACE to a free name", renameat2, p("file2"), p("file3"), RENAME_NOREPLACE)
do("rename file over a file", os.rename, p("file3"), p("file"))
do("read the file renamed over", get, p("file"))
do("stat the old name", os.stat, p("file3"))
do("rename directory over an empty directory", os.rename, p("empty2"), p("empty"))
do("stat the old directory name", os.stat, p("empty2"))
do("rename a directory tree", os.rename, p("d"), p("moved"))
do("read moved/f", get, p("moved", "f"))
do("read moved/sub/g", get, p("moved", "sub", "g"))
do("stat d/f", os.stat, p("d", "f"))
do("stat d", os.stat, p("d"))
do("rename the tree back under another parent", os.rename, p("moved"), p("empty", "back"))
do("read empty/back/sub/g", get, p("empty", "back", "sub", "g"))
do("rename a tree over an empty directory",
   each, lambda: os.mkdir(p("target")), lambda: os.rename(p("empty", "back"), p("target")))
do("read target/sub/g", get, p("target", "sub", "g"))
do("create in the moved tree", put, p("target", "sub", "new"), "new")
do("rmdir of the emptied parent", os.rmdir, p("empty"))
do("RENAME_EXCHANGE of two files", each, lambda: put(p("x1"), "x1"), lambda: put(p("x2"), "x2"),
   lambda: renameat2(p("x1"), p("x2"), RENAME_EXCHANGE))
do("RENAME_EXCHANGE of two directories", each, lambda: os.mkdir(p("y1")),
   lambda: os.mkdir(p("y2")), lambda: renameat2(p("y1"), p("y2"), RENAME_EXCHANGE))
tree("tree at the end")

#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""fsx.py - a seeded random-operation differential tester (after fsx).

    fsx.py [--seed N] [--ops N] [--remount CMD] [--no-OP ...] DIR

Runs a seeded sequence of operations on files in DIR (a mount) and applies
each to an in-memory model of the files' bytes; after every operation the
file's size, and every few operations its whole content (through a fresh
descriptor), must equal the model.  Operations: write, pwrite, truncate
(grow and shrink), fallocate (extend and keep-size), punch-hole,
copy_file_range (between two files, within one, and from a fresh read-only
open), lseek SEEK_DATA/SEEK_HOLE, mmap write and read,
rename away and back, close and reopen, fsync, and (with --remount) a
remount of DIR by running CMD, after which everything written and fsynced
must still be there.

An operation the store refuses with an errno listed by --allow (e.g.
EOPNOTSUPP for fallocate on S3) leaves the model unchanged and is counted.
On a mismatch it prints the seed, the operation log tail and the first
differing offset, and exits 1.  The last line is "fsx: N ops, ...".
"""
import argparse
import ctypes
import errno
import mmap
import os
import random
import subprocess
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
MAX_SIZE = 4 << 20
NAMES = ("a", "b")


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


class Fsx:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.rnd = random.Random(args.seed)
        self.model = {n: bytearray() for n in NAMES}
        self.fds = {}
        self.log = []
        self.refused = {}
        self.done = 0
        for n in NAMES:
            self.open(n, os.O_RDWR | os.O_CREAT | os.O_TRUNC)

    def path(self, n):
        return os.path.join(self.dir, n)

    def open(self, n, flags=os.O_RDWR):
        self.fds[n] = os.open(self.path(n), flags, 0o644)

    def say(self, what):
        self.log.append("%5d %s" % (self.done, what))
        del self.log[:-40]

    def die(self, msg):
        print("fsx: seed %d: FAILED after %d ops: %s" % (self.args.seed, self.done, msg))
        print("fsx: last operations:")
        for line in self.log:
            print("    " + line)
        sys.exit(1)

    def check_size(self, n):
        st = os.fstat(self.fds[n])
        if st.st_size != len(self.model[n]):
            self.die("%s: size %d, model %d" % (n, st.st_size, len(self.model[n])))

    def check_content(self, n):
        fd = os.open(self.path(n), os.O_RDONLY)
        try:
            data = b""
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    break
                data += b
        finally:
            os.close(fd)
        want = bytes(self.model[n])
        if data != want:
            i = next((i for i in range(min(len(data), len(want))) if data[i] != want[i]),
                     min(len(data), len(want)))
            self.die("%s: content differs at offset %d (read %d bytes, model %d; "
                     "read %r, model %r)" % (n, i, len(data), len(want),
                                             data[i:i + 8], want[i:i + 8]))

    # --- operations: each changes the file, then the model ---
    def rand_range(self, n, grow=True):
        size = len(self.model[n])
        limit = MAX_SIZE if grow else max(size, 1)
        off = self.rnd.randrange(0, min(limit, size + 65536 if grow else limit))
        length = self.rnd.choice([1, 7, 512, 4096, 4097, 65536, 200000])
        length = max(1, min(length, MAX_SIZE - off))
        return off, length

    def op_pwrite(self, n):
        off, length = self.rand_range(n)
        data = self.rnd.randbytes(length)
        self.say("pwrite %s off=%d len=%d" % (n, off, length))
        if os.pwrite(self.fds[n], data, off) != length:
            self.die("short pwrite")
        m = self.model[n]
        if off > len(m):
            m.extend(bytes(off - len(m)))
        m[off:off + length] = data

    def op_append(self, n):
        length = self.rnd.choice([1, 100, 4096, 70000])
        data = self.rnd.randbytes(length)
        self.say("append %s len=%d" % (n, length))
        fd = os.open(self.path(n), os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        self.model[n].extend(data)

    def op_truncate(self, n):
        size = self.rnd.choice([0, 1, 4095, 4096, 100000, len(self.model[n]) // 2,
                                len(self.model[n]) + 5000])
        size = min(size, MAX_SIZE)
        self.say("ftruncate %s %d" % (n, size))
        os.ftruncate(self.fds[n], size)
        m = self.model[n]
        if size < len(m):
            del m[size:]
        else:
            m.extend(bytes(size - len(m)))

    def op_fallocate(self, n):
        off, length = self.rand_range(n)
        keep = self.rnd.random() < 0.5
        self.say("fallocate %s off=%d len=%d%s" % (n, off, length, " keep" if keep else ""))
        fallocate(self.fds[n], FALLOC_FL_KEEP_SIZE if keep else 0, off, length)
        m = self.model[n]
        if not keep and off + length > len(m):
            m.extend(bytes(off + length - len(m)))

    def op_punch(self, n):
        if not self.model[n]:
            return
        off, length = self.rand_range(n, grow=False)
        self.say("punch %s off=%d len=%d" % (n, off, length))
        fallocate(self.fds[n], FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, length)
        m = self.model[n]
        end = min(off + length, len(m))
        if off < end:
            m[off:end] = bytes(end - off)

    def op_copy(self, n):
        src = self.rnd.choice(NAMES)
        sm = self.model[src]
        if not sm:
            return
        soff = self.rnd.randrange(0, len(sm))
        length = min(self.rnd.choice([1, 4096, 65536, 300000]), len(sm) - soff)
        doff = self.rnd.randrange(0, min(MAX_SIZE - length, len(self.model[n]) + 4096))
        if src == n and soff < doff + length and doff < soff + length:
            return  # overlapping ranges in one file: EINVAL by definition
        self.say("copy_file_range %s:%d -> %s:%d len=%d" % (src, soff, n, doff, length))
        done = 0
        while done < length:
            c = os.copy_file_range(self.fds[src], self.fds[n], length - done,
                                   soff + done, doff + done)
            if c <= 0:
                self.die("copy_file_range returned %d after %d of %d" % (c, done, length))
            done += c
        data = bytes(sm[soff:soff + length])
        m = self.model[n]
        if doff > len(m):
            m.extend(bytes(doff - len(m)))
        m[doff:doff + length] = data

    def op_copy_ro(self, n):
        """copy_file_range from a fresh read-only open (cold after a remount)"""
        src = NAMES[1] if n == NAMES[0] else NAMES[0]
        sm = self.model[src]
        if not sm:
            return
        soff = self.rnd.randrange(0, len(sm))
        length = min(self.rnd.choice([4096, 65536, 1 << 20]), len(sm) - soff)
        doff = self.rnd.randrange(0, min(MAX_SIZE - length, len(self.model[n]) + 4096))
        self.say("copy_file_range read-only %s:%d -> %s:%d len=%d" % (src, soff, n, doff, length))
        fd = os.open(self.path(src), os.O_RDONLY)
        try:
            done = 0
            while done < length:
                c = os.copy_file_range(fd, self.fds[n], length - done, soff + done, doff + done)
                if c <= 0:
                    self.die("copy_file_range returned %d after %d of %d" % (c, done, length))
                done += c
        finally:
            os.close(fd)
        m = self.model[n]
        if doff > len(m):
            m.extend(bytes(doff - len(m)))
        m[doff:doff + length] = sm[soff:soff + length]

    def op_seek(self, n):
        """SEEK_DATA/SEEK_HOLE from a fresh read-only open: consistent with the bytes"""
        m = self.model[n]
        off = self.rnd.randrange(0, len(m) + 2)
        self.say("lseek %s SEEK_DATA/SEEK_HOLE %d" % (n, off))
        fd = os.open(self.path(n), os.O_RDONLY)
        try:
            try:
                d = os.lseek(fd, off, os.SEEK_DATA)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
                d = None
            try:
                h = os.lseek(fd, off, os.SEEK_HOLE)
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
                h = None
        finally:
            os.close(fd)
        if off >= len(m):
            if d is not None or h is not None:
                self.die("lseek at/after EOF %d of %d: SEEK_DATA %s, SEEK_HOLE %s" %
                         (off, len(m), d, h))
            return
        if d is None:
            if any(m[off:]):
                self.die("SEEK_DATA(%d) said ENXIO but the file has data after it" % off)
        elif not off <= d <= len(m) or any(m[off:d]):
            self.die("SEEK_DATA(%d) = %d skips data (size %d)" % (off, d, len(m)))
        if h is None or not off <= h <= len(m):
            self.die("SEEK_HOLE(%d) = %s (size %d)" % (off, h, len(m)))

    def op_mmap(self, n):
        m = self.model[n]
        if not m:
            return
        off, length = self.rand_range(n, grow=False)
        length = min(length, len(m) - off)
        pstart = off - off % mmap.PAGESIZE
        self.say("mmap %s off=%d len=%d" % (n, off, length))
        mm = mmap.mmap(self.fds[n], off + length - pstart, mmap.MAP_SHARED,
                       mmap.PROT_READ | mmap.PROT_WRITE, offset=pstart)
        try:
            got = mm[off - pstart:off - pstart + length]
            if got != bytes(m[off:off + length]):
                self.die("mmap read of %s at %d differs from the model" % (n, off))
            data = self.rnd.randbytes(length)
            mm[off - pstart:off - pstart + length] = data
            mm.flush()
        finally:
            mm.close()
        m[off:off + length] = data

    def op_rename(self, n):
        tmp = self.path(n + ".moved")
        self.say("rename %s away and back" % n)
        os.rename(self.path(n), tmp)
        os.rename(tmp, self.path(n))

    def op_reopen(self, n):
        self.say("reopen %s" % n)
        os.close(self.fds[n])
        self.open(n)

    def op_fsync(self, n):
        self.say("fsync %s" % n)
        os.fsync(self.fds[n])

    def op_remount(self, n):
        self.say("remount")
        for k in NAMES:
            os.fsync(self.fds[k])
            os.close(self.fds[k])
        subprocess.run(self.args.remount, shell=True, check=True)
        # the first look at the files after a remount: read-only opens of cold objects
        for k in NAMES:
            self.op_seek(k)
        self.fds[n] = os.open(self.path(n), os.O_RDWR)
        self.op_copy_ro(n)
        for k in NAMES:
            if k != n:
                self.open(k)
            self.check_content(k)

    def run(self):
        ops = [("pwrite", 30), ("append", 6), ("truncate", 6), ("fallocate", 5), ("punch", 5),
               ("copy", 8), ("copy_ro", 3), ("seek", 3), ("mmap", 6), ("rename", 3), ("reopen", 5), ("fsync", 4)]
        if self.args.remount:
            ops.append(("remount", 1))
        ops = [(o, w) for o, w in ops if o not in self.args.no]
        names = [o for o, _ in ops]
        weights = [w for _, w in ops]
        allow = {getattr(errno, e) for e in self.args.allow}
        for self.done in range(1, self.args.ops + 1):
            op = self.rnd.choices(names, weights)[0]
            n = self.rnd.choice(NAMES)
            before = bytes(self.model[n])
            try:
                getattr(self, "op_" + op)(n)
            except OSError as e:
                if e.errno not in allow:
                    self.die("%s: %s" % (self.log[-1] if self.log else op, e))
                self.model[n][:] = before
                self.refused[op] = self.refused.get(op, 0) + 1
            self.check_size(n)
            if self.done % 10 == 0 or op in ("copy", "copy_ro", "punch", "mmap"):
                self.check_content(n)
        for n in NAMES:
            self.check_content(n)
            os.close(self.fds[n])
        refused = ", ".join("%s %d" % kv for kv in sorted(self.refused.items()))
        print("fsx: %d ops, seed %d, final sizes %s%s" %
              (self.args.ops, self.args.seed,
               "/".join(str(len(self.model[n])) for n in NAMES),
               ("; refused: " + refused) if refused else ""))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--ops", type=int, default=1000)
    p.add_argument("--remount", help="shell command that remounts DIR")
    p.add_argument("--no", action="append", default=[], help="leave out an operation")
    p.add_argument("--allow", action="append", default=[],
                   help="an errno name (EOPNOTSUPP) that leaves the model unchanged")
    p.add_argument("dir")
    Fsx(p.parse_args()).run()


if __name__ == "__main__":
    main()

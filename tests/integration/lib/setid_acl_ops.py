# SPDX-License-Identifier: GPL-2.0
"""setid_acl_ops.py ROOT: set-ID bits, ACLs and umask under ROOT, one transcript.

Runs the same operations wherever ROOT is (a plain directory for the reference,
a bpfuse mount for the test) and prints, after each one, what a user would see:
the mode, owner and POSIX ACLs of the objects involved.  Operations run as root
or, in a forked child, as another user without capabilities (uid/gid 65534,
"nobody").  Run as root; ROOT must be empty, reachable by uid 65534, on a
filesystem with POSIX ACLs.

Cases: set-ID bits cleared by writes, truncates, O_TRUNC opens, O_DIRECT
writes, fallocate and chown done by another user (kept for root); S_ISGID
cleared by chmod and by setting an ACL by an owner outside the file's group;
new files and directories under a default ACL (which overrides the umask) and
without one (the umask applies), made by root and by another user; extended
attributes of every namespace set, read, listed and removed on a symlink by
root and by another user.
"""
import errno
import mmap
import os
import stat
import struct
import sys

ROOT = sys.argv[1]
NOBODY = 65534

# POSIX ACL xattr format (include/uapi/linux/posix_acl_xattr.h)
ACL_VERSION = 2
TAGS = {"u::": 0x01, "u:": 0x02, "g::": 0x04, "g:": 0x08, "m::": 0x10, "o::": 0x20}
TAG_NAMES = {v: k for k, v in TAGS.items()}


def acl_bytes(spec):
    """'u::rwx,u:65534:rw-,g::r-x,m::rwx,o::---' -> xattr value"""
    out = struct.pack("<I", ACL_VERSION)
    for ent in spec.split(","):
        parts = ent.split(":")
        tag = parts[0] + ":" + (":" if parts[1] == "" else "")
        ident = int(parts[1]) if parts[1] else 0xFFFFFFFF
        perm = sum(b for b, c in zip((4, 2, 1), parts[2]) if c != "-")
        out += struct.pack("<HHI", TAGS[tag], perm, ident)
    return out


def acl_text(value):
    ents = []
    for i in range(4, len(value), 8):
        tag, perm, ident = struct.unpack("<HHI", value[i:i + 8])
        name = TAG_NAMES.get(tag, "?%x:" % tag)
        who = "" if name.endswith("::") else str(ident)
        p = "".join(c if perm & b else "-" for b, c in zip((4, 2, 1), "rwx"))
        ents.append(name.rstrip(":") + ":" + who + ":" + p)
    return ",".join(ents)


def get_acl(path, name):
    try:
        return acl_text(os.getxattr(path, name, follow_symlinks=False))
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def p(name):
    return os.path.join(ROOT, name)


def show(what, name):
    st = os.lstat(p(name))
    line = "%s: %s mode=%04o owner=%d:%d acl=%s" % (
        what, name, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
        get_acl(p(name), "system.posix_acl_access"))
    if stat.S_ISDIR(st.st_mode):
        line += " default=%s" % get_acl(p(name), "system.posix_acl_default")
    print(line, flush=True)


def as_user(uid, gid, fn, umask=0o022):
    """run fn() in a child as uid:gid with no groups and no capabilities"""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.umask(umask)
            if uid != 0:
                os.setgroups([])
                os.setresgid(gid, gid, gid)
                os.setresuid(uid, uid, uid)
            fn()
        except OSError as e:
            print("  error %s" % errno.errorcode.get(e.errno, e.errno), flush=True)
            code = 1
        finally:
            sys.stdout.flush()
            os._exit(code)
    os.waitpid(pid, 0)


def make(name, mode, uid=0, gid=0, data=b"0123456789" * 410):
    with open(p(name), "wb") as f:
        f.write(data)
    os.chown(p(name), uid, gid)
    os.chmod(p(name), mode)


def write_it(name):
    fd = os.open(p(name), os.O_WRONLY)
    os.pwrite(fd, b"x", 1)
    os.close(fd)


def truncate_it(name):
    fd = os.open(p(name), os.O_WRONLY)
    os.ftruncate(fd, 100)
    os.close(fd)


def otrunc_it(name):
    os.close(os.open(p(name), os.O_WRONLY | os.O_TRUNC))


def direct_it(name):
    fd = os.open(p(name), os.O_WRONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)
    buf.write(b"d" * 4096)
    try:
        os.pwrite(fd, buf, 0)
    except OSError as e:  # a source without O_DIRECT answers alike
        print("  direct write: %s" % errno.errorcode.get(e.errno, e.errno), flush=True)
    os.close(fd)


def fallocate_it(name):
    fd = os.open(p(name), os.O_WRONLY)
    os.posix_fallocate(fd, 0, 8192)
    os.close(fd)


def setid_on_writes():
    cases = [
        ("write", write_it), ("ftruncate", truncate_it), ("O_TRUNC", otrunc_it),
        ("O_DIRECT", direct_it), ("fallocate", fallocate_it),
    ]
    # mode, group of the file: suid, sgid+x, sgid without group x (the
    # mandatory-locking mark, cleared only for a writer outside the group)
    modes = [(0o4777, 0), (0o2777, 0), (0o2767, 0), (0o2767, NOBODY), (0o6777, 0)]
    for what, fn in cases:
        for mode, gid in modes:
            name = "%s-%o-g%d" % (what, mode, gid)
            make(name, mode, 0, gid)
            as_user(NOBODY, NOBODY, lambda: fn(name))
            show("nobody %s" % what, name)
            name += "-root"
            make(name, mode, 0, gid)
            as_user(0, 0, lambda: fn(name))
            show("root %s" % what, name)


def setid_on_chown():
    make("chown-root", 0o6755)
    os.chown(p("chown-root"), 0, NOBODY)
    show("root chown", "chown-root")
    make("chown-nogrpx", 0o2745, NOBODY, 0)
    as_user(NOBODY, NOBODY, lambda: os.chown(p("chown-nogrpx"), -1, -1))
    show("nobody chown -1 -1", "chown-nogrpx")
    make("chown-own", 0o4755, NOBODY, NOBODY)
    as_user(NOBODY, NOBODY, lambda: os.chown(p("chown-own"), -1, -1))
    show("nobody chown -1 -1", "chown-own")


def sgid_on_chmod_and_acl():
    # an owner outside the file's group cannot keep S_ISGID
    make("chmod-outside", 0o755, NOBODY, 0)
    as_user(NOBODY, NOBODY, lambda: os.chmod(p("chmod-outside"), 0o2755))
    show("nobody chmod g+s (not in group)", "chmod-outside")
    make("chmod-member", 0o755, NOBODY, NOBODY)
    as_user(NOBODY, NOBODY, lambda: os.chmod(p("chmod-member"), 0o2755))
    show("nobody chmod g+s (in group)", "chmod-member")
    os.mkdir(p("chmod-dir"))
    os.chown(p("chmod-dir"), NOBODY, 0)
    as_user(NOBODY, NOBODY, lambda: os.chmod(p("chmod-dir"), 0o2775))
    show("nobody chmod g+s dir (not in group)", "chmod-dir")
    make("chmod-root", 0o755, NOBODY, 0)
    os.chmod(p("chmod-root"), 0o2755)
    show("root chmod g+s", "chmod-root")
    for spec, tag in (("u::rwx,g::rwx,o::r-x", "minimal"),
                      ("u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x", "extended")):
        name = "setfacl-" + tag
        make(name, 0o2775, NOBODY, 0)
        value = acl_bytes(spec)
        as_user(NOBODY, NOBODY,
                lambda: os.setxattr(p(name), "system.posix_acl_access", value))
        show("nobody setfacl %s (not in group)" % tag, name)
        name += "-member"
        make(name, 0o2775, NOBODY, NOBODY)
        as_user(NOBODY, NOBODY,
                lambda: os.setxattr(p(name), "system.posix_acl_access", value))
        show("nobody setfacl %s (in group)" % tag, name)


def create_all(tag, d):
    def fn():
        fd = os.open(p(d + "/file-" + tag), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        os.close(fd)
        os.mkdir(p(d + "/dir-" + tag), 0o777)
        os.mkfifo(p(d + "/fifo-" + tag), 0o666)
        fd = os.open(p(d), os.O_WRONLY | os.O_TMPFILE, 0o666)
        st = os.fstat(fd)
        print("  tmpfile mode=%04o" % stat.S_IMODE(st.st_mode), flush=True)
        os.close(fd)
    return fn


def umask_and_default_acl():
    os.mkdir(p("acl"))
    os.chmod(p("acl"), 0o777)
    os.setxattr(p("acl"), "system.posix_acl_default", acl_bytes("u::rwx,g::rwx,o::rwx"))
    os.mkdir(p("acl-named"))
    os.chmod(p("acl-named"), 0o777)
    os.setxattr(p("acl-named"), "system.posix_acl_default",
                acl_bytes("u::rwx,u:%d:rwx,g::r-x,m::rwx,o::---" % NOBODY))
    os.mkdir(p("plain"))
    os.chmod(p("plain"), 0o777)
    show("default ACL", "acl")
    show("named default ACL", "acl-named")
    for d in ("acl", "acl-named", "plain"):
        for who, uid, mask in (("root", 0, 0o077), ("nobody", NOBODY, 0o027)):
            tag = "%s-%03o" % (who, mask)
            print("create in %s as %s, umask %03o" % (d, who, mask), flush=True)
            as_user(uid, uid, create_all(tag, d), umask=mask)
            for kind in ("file", "dir", "fifo"):
                show("  new", "%s/%s-%s" % (d, kind, tag))


def symlink_xattrs():
    """what the source allows on a symlink: trusted.* and security.* for root"""
    os.symlink("target-of-link", p("link"))
    def attempt(who, op, *args):
        try:
            r = op(*args, follow_symlinks=False)
            out = "ok" if r is None else repr(r)
        except OSError as e:
            out = errno.errorcode.get(e.errno, str(e.errno))
        print("symlink %s %s %s: %s" % (who, op.__name__, args[1:2] or "", out), flush=True)
    def ops(who):
        for name in ("trusted.bpfuse", "security.bpfuse", "user.bpfuse"):
            attempt(who, os.setxattr, p("link"), name, b"v-" + name.encode())
            attempt(who, os.getxattr, p("link"), name)
        attempt(who, os.listxattr, p("link"))
    ops("root")
    as_user(NOBODY, NOBODY, lambda: ops("nobody"))
    for name in ("trusted.bpfuse", "security.bpfuse"):
        attempt("root", os.removexattr, p("link"), name)
    attempt("root", os.listxattr, p("link"))
    print("target exists: %s" % os.path.lexists(p("target-of-link")), flush=True)


setid_on_writes()
setid_on_chown()
sgid_on_chmod_and_acl()
umask_and_default_acl()
symlink_xattrs()
print("done", flush=True)

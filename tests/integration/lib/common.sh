# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for integration cases. A case does:
#
#	#!/bin/bash
#	set -eu
#	. "$(dirname "$0")/../../lib/common.sh"
#	setup_case "$@"       # private temp dir in $T, cleanup trap, timeout
#	mkdir "$T/src" "$T/mnt"
#	bpfuse_mount "$T/src" "$T/mnt" passthrough=on
#	... assert_eq / assert_same_file / assert_same_tree / expect_errno ...
#	bpfuse_umount "$T/mnt"
#
# Every mount made through bpfuse_mount (or registered with track_mount) is
# unmounted by the EXIT trap, falling back to aborting the FUSE connection
# and a lazy unmount; a daemon still serving the mountpoint afterwards is
# ended by pid; the temp dir is removed last. fail() exits 1, skip() exits 77.
# check() runs one sub-test in a subshell and counts its failure, so a case
# can report several broken behaviours in one run; finish() then fails the
# case if any check failed. A case run directly (not from run.sh) re-executes
# itself under `timeout $CASE_TIMEOUT`.
#
# Environment:
#	BPFUSE		daemon binary (default: <repo>/build/bpfuse)
#	BPFUSE_FSTYPE	fstype expected in /proc/mounts (default: fuse.bpfuse)
#	POSIX_OPS	posix_ops binary (default: <repo>/build/tests/integration/
#			posix_ops, compiled on demand when missing)
#	CASE_TIMEOUT	seconds before a case is killed (default: 300)
#	TMPDIR		where temp dirs go (run.sh points it at its run dir)
#	MOUNT_HELPER	mount.fuse.bpfuse (default: next to $BPFUSE)
#	CP_TREE		tree the cp_usr_include cases copy (default: /usr/include)

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$IT_DIR/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
BPFUSE=${BPFUSE:-$BUILD_DIR/bpfuse}
BPFUSE_FSTYPE=${BPFUSE_FSTYPE:-fuse.bpfuse}
POSIX_OPS=${POSIX_OPS:-$BUILD_DIR/tests/integration/posix_ops}
CASE_TIMEOUT=${CASE_TIMEOUT:-300}
CASE_NAME=${CASE_NAME:-$(basename "$(dirname "$0")")/$(basename "$0" .sh)}

T=""
_IT_MOUNTS=()
_IT_CLEANUPS=()

# ----------------------------------------------------------------- output

log() { echo "[$CASE_NAME] $*" >&2; }

# fail MSG...: report and exit 1 (the EXIT trap still cleans up)
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# skip REASON: report and exit 77
skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# --------------------------------------------------------------- assertions

_IT_SOFT_FAILS=0

# check DESC CMD...: run CMD in a subshell with set -e; a failure (an
# assertion or any failing command) is reported and counted, and the case
# goes on so one run shows every broken behaviour. Call finish at the end.
# Mounts made inside CMD must be registered with track_mount beforehand,
# because the subshell cannot add to the parent's cleanup list.
check() {
	local desc=$1 rc
	shift
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	set -e
	if [ "$rc" -eq 77 ]; then
		log "skipped: $desc"
	elif [ "$rc" -ne 0 ]; then
		echo "FAIL: [$desc]" >&2
		_IT_SOFT_FAILS=$((_IT_SOFT_FAILS + 1))
	else
		log "ok: $desc"
	fi
}

# eventually SECONDS CMD...: run CMD until it succeeds, for at most SECONDS; its status.
# For effects the kernel starts after the syscall that caused them has returned (RELEASE
# is sent asynchronously after the last close), never to hide a slow success.
eventually() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || { "$@"; return; }
		sleep 0.1
	done
}

# hold_pages READY LEN PATH...: keep the first LEN bytes (0: all) of each PATH in the page
# cache, mapped and mlocked by a helper process until the case ends; returns once they are
# (the kernel may drop pages of a file under memory pressure, which a case about what the
# kernel answers from its caches does not test).  The helper's pid is in $HOLDER.
hold_pages() {
	local ready=$1 _
	python3 "$IT_DIR/lib/hold_pages.py" "$@" &
	HOLDER=$!
	at_cleanup "kill $HOLDER 2>/dev/null"
	for _ in $(seq 300); do [ -e "$ready" ] && return 0; sleep 0.1; done
	fail "could not keep the files resident (mlockall)"
}

# finish: fail the case if any check failed
finish() {
	[ "$_IT_SOFT_FAILS" -eq 0 ] || fail "$_IT_SOFT_FAILS check(s) failed"
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

# assert_ne UNEXPECTED ACTUAL WHAT
assert_ne() {
	[ "$1" != "$2" ] || fail "$3: did not expect '$1'"
}

# assert_same_file A B WHAT: diff -u, print at most 200 lines of it on failure
assert_same_file() {
	local d
	if ! d=$(diff -u "$1" "$2" 2>&1); then
		echo "--- differences ($3): $1 vs $2" >&2
		echo "$d" | head -n 200 >&2
		[ "$(echo "$d" | wc -l)" -le 200 ] || echo "... (diff truncated)" >&2
		fail "$3 differ"
	fi
}

# assert_ok WHAT CMD...: CMD must succeed
assert_ok() {
	local what=$1
	shift
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "$what: '$*' exited $rc: $out"
}

# expect_errno ERRNO WHAT CMD...: CMD (a shell command run by errno_of) must
# fail with ERRNO, given as a name such as EROFS
expect_errno() {
	local want=$1 what=$2 got
	shift 2
	got=$(errno_of "$@")
	[ "$got" = "$want" ] || fail "$what: expected $want, got $got"
}

# errno_of OP ARGS...: perform one system call through python (so the exact
# errno is visible, unlike with coreutils) and print "ok" or the errno name.
# OP is an os.* function name taking string arguments (mkdir, unlink, rename,
# symlink, rmdir, listdir...) or one of the special cases below.
_ERRNO_OF_PY='
import errno, os, sys
args = sys.argv[1:]
op, rest = args[0], args[1:]
try:
    if op == "open":
        fl = 0
        for f in rest[1].split("|"):
            fl |= getattr(os, f)
        fd = os.open(rest[0], fl, 0o644)
        if len(rest) > 2:
            os.write(fd, rest[2].encode())
        os.close(fd)
    elif op == "read":
        with open(rest[0], "rb") as f:
            f.read()
    elif op == "setxattr":
        os.setxattr(rest[0], rest[1], rest[2].encode())
    elif op == "removexattr":
        os.removexattr(rest[0], rest[1])
    elif op == "utime":
        os.utime(rest[0], (1, 1))
    elif op == "truncate":
        os.truncate(rest[0], int(rest[1]))
    elif op == "chmod":
        os.chmod(rest[0], int(rest[1], 8))
    elif op == "chown":
        os.chown(rest[0], int(rest[1]), int(rest[2]))
    elif op == "link":
        os.link(rest[0], rest[1])
    elif op == "mknod_fifo":
        os.mkfifo(rest[0])
    elif op == "fallocate":
        fd = os.open(rest[0], os.O_WRONLY)
        os.posix_fallocate(fd, 0, int(rest[1]))
    elif op == "access":
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.access(rest[0].encode(), int(rest[1])) != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    elif op == "mmap_write":
        import mmap
        fd = os.open(rest[0], os.O_RDWR)
        mmap.mmap(fd, 1, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    elif hasattr(os, op):
        getattr(os, op)(*rest)
    else:
        print("EBADOP"); sys.exit(0)
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, "E%d" % e.errno))
'
errno_of() {
	python3 -c "$_ERRNO_OF_PY" "$@"
}

# errno_of_as UID OP ARGS...: errno_of as user and group UID, no groups
errno_of_as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups -- /usr/bin/python3 -c "$_ERRNO_OF_PY" "$@"
}

# ------------------------------------------------------------------ mounts

# mounted_fstype MNT: print the fstype MNT is mounted with (topmost), or nothing
mounted_fstype() {
	awk -v m="$1" '$2 == m { t = $3 } END { if (t != "") print t }' /proc/mounts
}

is_mounted() {
	[ -n "$(mounted_fstype "$1")" ]
}

assert_mounted() {
	local t
	t=$(mounted_fstype "$1")
	[ -n "$t" ] || fail "'$1' is not mounted"
	[ "$t" = "$BPFUSE_FSTYPE" ] || fail "'$1' is mounted as '$t', expected '$BPFUSE_FSTYPE'"
}

assert_not_mounted() {
	is_mounted "$1" && fail "'$1' is still mounted ($(mounted_fstype "$1"))"
	return 0
}

# daemon_pids MNT: pids of processes that have MNT as one of their arguments
# (the daemon serving that private mountpoint); never matches by name alone
daemon_pids() {
	local p arg
	for p in /proc/[0-9]*; do
		[ -r "$p/cmdline" ] || continue
		[ "${p#/proc/}" != "$$" ] || continue
		while IFS= read -r -d '' arg; do
			if [ "$arg" = "$1" ]; then
				echo "${p#/proc/}"
				break
			fi
		done 2>/dev/null <"$p/cmdline"
	done
}

# wait_no_daemon MNT [SECS]: wait until no process serves MNT
wait_no_daemon() {
	local i n=$(( ${2:-10} * 10 ))
	for ((i = 0; i < n; i++)); do
		[ -z "$(daemon_pids "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

assert_no_daemon() {
	wait_no_daemon "$1" "${2:-10}" ||
		fail "daemon still running for '$1': $(daemon_pids "$1" | while read -r p; do
			tr '\0' ' ' <"/proc/$p/cmdline"; echo " (pid $p)"; done)"
}

# track_mount MNT: make the EXIT trap unmount MNT
track_mount() {
	_IT_MOUNTS+=("$1")
}

need_bpfuse() {
	[ -x "$BPFUSE" ] || fail "bpfuse binary '$BPFUSE' not found (build it first)"
}

# need_other_user [UID]: a second user U (default 65534, no groups) that can reach the
# case's temp dir; as_user CMD... runs CMD as U
need_other_user() {
	U=${1:-65534}
	command -v setpriv >/dev/null || skip "no setpriv"
	chmod 755 "$T"
	as_user test -x "$T" ||
		skip "temp dir '$T' is not reachable by uid $U (run through run.sh or set TMPDIR)"
}
as_user() { setpriv --reuid="$U" --regid="$U" --clear-groups -- "$@"; }

# bpfuse_mount SRC MNT [OPTS]: mount, then check it is really there
bpfuse_mount() {
	local src=$1 mnt=$2 opts=${3:-} rc=0 out
	need_bpfuse
	track_mount "$mnt"
	if [ -n "$opts" ]; then
		out=$(timeout 60 "$BPFUSE" mount "$src" "$mnt" -o "$opts" 2>&1) || rc=$?
	else
		out=$(timeout 60 "$BPFUSE" mount "$src" "$mnt" 2>&1) || rc=$?
	fi
	[ "$rc" -eq 0 ] || fail "bpfuse mount '$src' '$mnt' ${opts:+-o $opts }exited $rc: $out"
	assert_mounted "$mnt"
}

# bpfuse_umount MNT: unmount through the CLI, check mount and daemon are gone
bpfuse_umount() {
	local mnt=$1 rc=0 out
	out=$(timeout 60 "$BPFUSE" umount "$mnt" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "bpfuse umount '$mnt' exited $rc: $out"
	assert_not_mounted "$mnt"
	assert_no_daemon "$mnt"
}

# _force_umount MNT: everything short of rebooting, each step bounded so the
# whole cleanup fits in the grace period timeout(1) gives after SIGTERM
_force_umount() {
	local mnt=$1 dev conn i
	is_mounted "$mnt" || return 0
	[ -x "$BPFUSE" ] && timeout 5 "$BPFUSE" umount "$mnt" >/dev/null 2>&1
	is_mounted "$mnt" || return 0
	timeout 5 umount "$mnt" >/dev/null 2>&1
	is_mounted "$mnt" || return 0
	# abort the FUSE connection so a hung daemon cannot block the unmount;
	# the connection number is the minor of the mount's st_dev
	dev=$(awk -v m="$mnt" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo)
	conn=${dev#*:}
	if [ -n "$conn" ] && [ -e "/sys/fs/fuse/connections/$conn/abort" ]; then
		echo 1 >"/sys/fs/fuse/connections/$conn/abort" 2>/dev/null
	fi
	for ((i = 0; i < 3; i++)); do
		timeout 5 umount "$mnt" >/dev/null 2>&1 || timeout 5 umount -l "$mnt" >/dev/null 2>&1
		is_mounted "$mnt" || return 0
	done
	echo "WARNING: could not unmount '$mnt'" >&2
}

# _kill_daemons MNT: end processes still serving MNT (found by their argv, so
# only daemons of our private mountpoints), TERM first, KILL after 3 s
_kill_daemons() {
	local p
	wait_no_daemon "$1" 3 && return 0
	for p in $(daemon_pids "$1"); do
		kill -TERM "$p" 2>/dev/null
		kill -CONT "$p" 2>/dev/null
	done
	wait_no_daemon "$1" 3 && return 0
	for p in $(daemon_pids "$1"); do
		kill -KILL "$p" 2>/dev/null
	done
	wait_no_daemon "$1" 2
}

# at_cleanup CMD: run CMD (a string, eval'd) in the EXIT trap, before unmounting
at_cleanup() {
	_IT_CLEANUPS+=("$1")
}

_it_cleanup() {
	local rc=$? i m
	trap - EXIT
	set +e
	for ((i = ${#_IT_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${_IT_CLEANUPS[$i]}"
	done
	for ((i = ${#_IT_MOUNTS[@]} - 1; i >= 0; i--)); do
		m=${_IT_MOUNTS[$i]}
		_force_umount "$m"
		# a daemon that outlives its mount would leak; it serves only our
		# private mountpoint, so ending it by pid is safe
		_kill_daemons "$m"
	done
	if [ -n "$T" ] && [ -d "$T" ]; then
		if grep -q " $T/" /proc/mounts; then
			echo "WARNING: mounts left under '$T', not removing it" >&2
		else
			rm -rf --one-file-system "$T"
		fi
	fi
	exit "$rc"
}

# setup_case: re-exec under timeout unless already, make $T, install traps
setup_case() {
	if [ -z "${_IT_UNDER_TIMEOUT:-}" ]; then
		export _IT_UNDER_TIMEOUT=1
		exec timeout -k 60 "$CASE_TIMEOUT" "$0" "$@"
	fi
	[ "$(id -u)" -eq 0 ] || skip "integration cases need root"
	T=$(mktemp -d "${TMPDIR:-/tmp}/bpfuse-case.XXXXXX")
	trap _it_cleanup EXIT
	# make signals (including timeout's SIGTERM) run the EXIT trap
	trap 'echo "FAIL: $CASE_NAME interrupted (timeout?)" >&2; exit 124' TERM INT HUP
}

# need_posix_ops: set POSIX_OPS to a runnable binary, compiling a private one
# into $T when the built one is missing or older than its source
need_posix_ops() {
	[ -x "$POSIX_OPS" ] && [ ! "$IT_DIR/posix_ops.c" -nt "$POSIX_OPS" ] && return 0
	log "posix_ops missing or stale at '$POSIX_OPS', compiling a private copy"
	command -v gcc >/dev/null || fail "posix_ops not built and no gcc to build it"
	POSIX_OPS=$T/posix_ops
	gcc -D_GNU_SOURCE -Wall -Wextra -O2 -o "$POSIX_OPS" "$IT_DIR/posix_ops.c" ||
		fail "cannot compile posix_ops"
}

# ------------------------------------------------------------ tree compare

# tree_manifest DIR: one sorted line per entry: path, type, mode, owner,
# size (not for directories: their size is file-system specific), symlink
# target, rdev for devices, user.* xattrs; with TREE_MTIME=1 also the mtime
# of everything but symlinks
tree_manifest() {
	TREE_MTIME=${TREE_MTIME:-0} python3 - "$1" <<'PY'
import os, stat, sys
root = sys.argv[1]
with_mtime = os.environ.get("TREE_MTIME") == "1"
out = []
for dirpath, dirs, files in os.walk(root):
    for name in dirs + files:
        p = os.path.join(dirpath, name)
        st = os.lstat(p)
        m = st.st_mode
        line = "%s %s %04o %d:%d" % (os.path.relpath(p, root), stat.filemode(m)[0],
                                     stat.S_IMODE(m), st.st_uid, st.st_gid)
        if not stat.S_ISDIR(m):
            line += " size=%d" % st.st_size
        if stat.S_ISLNK(m):
            line += " ->" + os.readlink(p)
        if stat.S_ISCHR(m) or stat.S_ISBLK(m):
            line += " rdev=%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        if with_mtime and not stat.S_ISLNK(m):
            line += " mtime=%d.%09d" % (st.st_mtime_ns // 10**9, st.st_mtime_ns % 10**9)
        if not stat.S_ISLNK(m):
            try:
                names = sorted(n for n in os.listxattr(p, follow_symlinks=False)
                               if n.startswith("user."))
            except OSError:
                names = []
            for n in names:
                line += " %s=%s" % (n, os.getxattr(p, n, follow_symlinks=False).hex())
        out.append(line)
for line in sorted(out):
    print(line)
PY
}

# assert_same_tree A B WHAT: same names/types/modes/owners/sizes/targets/
# xattrs (tree_manifest), and identical regular file contents (compared
# byte by byte, like cmp; special files are never opened)
assert_same_tree() {
	local a=$1 b=$2 what=$3
	tree_manifest "$a" >"$T/manifest.a" || fail "$what: cannot list '$a'"
	tree_manifest "$b" >"$T/manifest.b" || fail "$what: cannot list '$b'"
	assert_same_file "$T/manifest.a" "$T/manifest.b" "$what: tree manifests"
	python3 - "$a" "$b" <<'PY' || fail "$what: file contents differ"
import os, stat, sys
a, b = sys.argv[1], sys.argv[2]
bad = 0
for dirpath, dirs, files in os.walk(a):
    for name in files:
        pa = os.path.join(dirpath, name)
        pb = os.path.join(b, os.path.relpath(pa, a))
        if not stat.S_ISREG(os.lstat(pa).st_mode):
            continue
        try:
            with open(pa, "rb") as fa, open(pb, "rb") as fb:
                off = 0
                while True:
                    ca, cb = fa.read(1 << 20), fb.read(1 << 20)
                    if ca != cb:
                        n = min(len(ca), len(cb))
                        i = next((i for i in range(n) if ca[i] != cb[i]), n)
                        print("content differs: %s (first at byte %d)" %
                              (os.path.relpath(pa, a), off + i + 1), file=sys.stderr)
                        bad += 1
                        break
                    if not ca:
                        break
                    off += len(ca)
        except OSError as e:
            print("cannot compare %s: %s" % (os.path.relpath(pa, a), e), file=sys.stderr)
            bad += 1
sys.exit(1 if bad else 0)
PY
}

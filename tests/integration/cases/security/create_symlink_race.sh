#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The daemon runs as root: a CREATE that finds the name taken behind the mount
# (the kernel had it as absent) must never follow a symlink there. A user who
# can write the source directory swaps the name between a file and a symlink
# to a root-owned file (or a root-owned file appears) while creating it
# through the allow_other mount with O_WRONLY|O_CREAT|O_TRUNC: the root-owned
# file must never be touched.
# First deterministically (a cached negative entry, invalidate=off), then as a
# race with the watcher on.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse
need_other_user

S=$T/src
mkdir "$S" "$S/open" "$T/mnt1" "$T/mnt2"
track_mount "$T/mnt1"
track_mount "$T/mnt2"
chmod 777 "$S/open"
new_target() {
	echo "precious root data" >"$T/target"
	chmod 644 "$T/target"
	touch -d @1000000000 "$T/target"
	want=$(stat -c '%s %Y %a %u' "$T/target")
}

target_intact() {
	assert_eq "$want" "$(stat -c '%s %Y %a %u' "$T/target")" "$1: the root-owned target (size mtime mode owner)"
	assert_eq "precious root data" "$(cat "$T/target")" "$1: the target's content"
}

cached_negative() {
	local M=$T/mnt1
	new_target
	bpfuse_mount "$S" "$M" allow_other,invalidate=off,negative_timeout=600
	[ ! -e "$M/open/name" ] || fail "name exists"
	as_user ln -s "$T/target" "$S/open/name"
	# the kernel still has "no such file": it sends CREATE; the daemon finds a symlink
	r=$(errno_of_as $U open "$M/open/name" "O_WRONLY|O_CREAT|O_TRUNC" x)
	target_intact "create over a symlink that appeared behind the mount"
	assert_eq EACCES "$r" "uid $U creating over a symlink to a root file (as open(2) would)"
	# the same with a root-owned file itself appearing under the name
	[ ! -e "$M/open/file" ] || fail "file exists"
	cp -p "$T/target" "$S/open/file"
	r=$(errno_of_as $U open "$M/open/file" "O_WRONLY|O_CREAT|O_TRUNC" x)
	assert_eq "precious root data" "$(cat "$S/open/file")" "a root-owned file that appeared behind the mount"
	assert_eq EACCES "$r" "uid $U creating over a root-owned 0644 file (as open(2) would)"
	bpfuse_umount "$M"
	rm -f "$S/open/name" "$S/open/file"
}
check "CREATE never follows a symlink that appeared behind the mount" cached_negative

race() {
	local M=$T/mnt2
	new_target
	bpfuse_mount "$S" "$M" allow_other
	as_user /usr/bin/python3 - "$S/open" "$M/open" "$T/target" <<'PY'
import os, sys, time
src, mnt, target = sys.argv[1:]
pid = os.fork()
if pid == 0:
    # behind the mount: the name is a file, a symlink to the target, or absent
    end = time.time() + 4
    i = 0
    while time.time() < end:
        for n in ("a", "b", "c"):
            p = "%s/%s" % (src, n)
            try:
                if i % 3 == 0:
                    os.symlink(target, p + ".tmp")
                    os.rename(p + ".tmp", p)
                elif i % 3 == 1:
                    os.unlink(p)
                else:
                    open(p + ".tmp", "w").close()
                    os.rename(p + ".tmp", p)
            except OSError:
                pass
        i += 1
    os._exit(0)
end = time.time() + 4
n_ok = 0
while time.time() < end:
    for n in ("a", "b", "c"):
        try:
            fd = os.open("%s/%s" % (mnt, n), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"x")
            os.close(fd)
            n_ok += 1
        except OSError:
            pass
        try:
            os.unlink("%s/%s" % (mnt, n))
        except OSError:
            pass
os.waitpid(pid, 0)
print("creates that succeeded: %d" % n_ok, file=sys.stderr)
PY
	target_intact "4 s of creates racing a symlink swap"
	bpfuse_umount "$M"
}
check "no create through the mount touches a symlink's target" race

finish

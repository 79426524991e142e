#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Modes, owners, times, symlinks and FIFOs are kept in the objects' user metadata, in
# s3fs's headers and encodings (docs/s3.md, Metadata): chmod, chown and touch -d through
# the mount change the object's metadata by a copy onto itself (no PUT of the bytes), the
# change is in the bucket when the call returns, and a new mount shows all of it again.
# The kernel checks permissions against these attributes (allow_other): a user may chmod
# their own file only, chown is root's. Device nodes are refused on the default nodev
# mount, which is nosuid too.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
need_other_user 4321
s3_start
s3tool mb meta >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
DUMP=$IT_DIR/lib/meta_dump.py
s3_mount s3://meta "$M" allow_other

# hdr KEY NAME: the value of x-amz-meta-NAME of object KEY in the bucket
hdr() {
	s3tool head meta "$1" | sed -n "s/^x-amz-meta-$2://p"
}

echo hello >"$M/f"
p0=$(s3_stat "$M" put)
c0=$(s3_stat "$M" copy)
chmod 0751 "$M/f"
chown 1234:2345 "$M/f"
touch -h -d '2001-02-03 04:05:06.123456789 UTC' "$M/f"
check "chmod, chown and touch PUT no bytes" test "$(s3_stat "$M" put)" -eq "$p0"
check "each is one copy of the object onto itself" test "$(s3_stat "$M" copy)" -eq $((c0 + 3))
check "x-amz-meta-mode is S_IFREG|0751 in decimal" test "$(hdr f mode)" = 33257
check "x-amz-meta-uid" test "$(hdr f uid)" = 1234
check "x-amz-meta-gid" test "$(hdr f gid)" = 2345
check "x-amz-meta-mtime: seconds.nanoseconds" test "$(hdr f mtime)" = 981173106.123456789
check "the bytes are unchanged" sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get meta f '$T/got' >/dev/null && grep -qx hello '$T/got'"
check "stat shows them at once" test "$("$DUMP" "$M" f)" = \
	"f 100751 1234 2345 size=6 mtime=981173106123456789"

check "symlink" ln -s some/where/../target "$M/lnk"
check "a symlink: readlink" test "$(readlink "$M/lnk")" = some/where/../target
check "its object's body is the target" sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get meta lnk '$T/lnk' >/dev/null && test \"\$(cat '$T/lnk')\" = some/where/../target"
check "its mode is S_IFLNK|0777" test "$(hdr lnk mode)" = 41471
check "mkfifo" mkfifo -m 0640 "$M/fifo"
check "a FIFO" test -p "$M/fifo"
check "its mode is S_IFIFO|0640" test "$(hdr fifo mode)" = 4512
mkdir "$M/d"
echo x >"$M/d/inner"
chmod 0600 "$M/d/inner"
# (the mtime the create moved, kept in memory, goes into the marker with the chmod)
chmod 0705 "$M/d"
chown 42:43 "$M/d"
check "a directory's mode and owner are on its marker" \
	test "$(hdr d/ mode):$(hdr d/ uid):$(hdr d/ gid)" = 16837:42:43

check "mknod of a device on a nodev mount: EPERM" \
	sh -c "! mknod '$M/cdev' c 1 3 2>'$T/err' && grep -q 'not permitted' '$T/err'"
check "the mount is nosuid,nodev by default" \
	sh -c "grep ' $M ' /proc/mounts | grep -q 'nosuid,nodev'"

# permissions are the kernel's, on these attributes
as() { setpriv --reuid="$1" --regid="$2" --clear-groups -- "${@:3}" 2>/dev/null; }
refused() { ! as "$@"; }
check "another user cannot chmod the file" refused 4321 4321 chmod 0777 "$M/f"
check "the owner can" as 1234 2345 chmod 0750 "$M/f"
check "the owner cannot give the file away" refused 1234 2345 chown 4321 "$M/f"
check "the owner's chmod is in the bucket" test "$(hdr f mode)" = 33256
check "another user cannot read a 0600 file" refused 4321 4321 cat "$M/d/inner"
check "another user cannot touch -d the file" refused 4321 4321 touch -d 2000-01-01 "$M/f"

# a directory's mtime moves when an entry is made or removed in it
mkdir "$M/aged"
touch -d '2002-02-02 UTC' "$M/aged"
check "a directory's times are set" test "$(stat -c %Y "$M/aged")" = 1012608000
echo x >"$M/aged/new"
check "a create in it moves its mtime" test "$(stat -c %Y "$M/aged")" -gt 1012608000
touch -d '2002-02-02 UTC' "$M/aged"
rm "$M/aged/new"
check "so does an unlink" test "$(stat -c %Y "$M/aged")" -gt 1012608000
rmdir "$M/aged"

# set-ID bits: a write by another user and a chown clear them, as on a local filesystem
echo x >"$M/suid"
chmod 4777 "$M/suid"
check "a set-user-ID bit is kept" test "$(hdr suid mode)" = 35327
check "another user appends" as 4321 4321 sh -c "echo y >>'$M/suid'"
check "which clears it" test "$(stat -c %a "$M/suid"):$(hdr suid mode)" = 777:33279
chmod 4755 "$M/suid"
chown 5 "$M/suid"
check "a chown clears it" test "$(stat -c %a "$M/suid"):$(hdr suid mode)" = 755:33261

# an overwrite keeps mode and owner, and takes the time of the write
echo again >>"$M/f"
check "an overwrite keeps the mode and owner" \
	test "$(hdr f mode):$(hdr f uid):$(hdr f gid)" = 33256:1234:2345
check "and its mtime is the write's" test "$(hdr f mtime | cut -d. -f1)" -ge "$(($(date +%s) - 60))"
# cp -p, tar: the times are set on the open descriptor before the close uploads the bytes
python3 - "$M/p" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
os.write(fd, b"kept\n")
os.utime(fd, ns=(1000000000123456789, 1000000000123456789))
os.fchmod(fd, 0o640)
os.close(fd)
PY
check "futimens and fchmod before the close go up with the bytes" \
	test "$(hdr p mtime):$(hdr p mode)" = 1000000000.123456789:33184

# a new mount (cache and all) reads every attribute back from the bucket
"$DUMP" "$M" >"$T/before"
"$DUMP" "$M/d" >>"$T/before"
bpfuse_umount "$M"
rm -rf "$T/cache"
s3_mount s3://meta "$M"
"$DUMP" "$M" >"$T/after"
"$DUMP" "$M/d" >>"$T/after"
check "after a remount every mode, owner, time and target is the same" \
	assert_same_file "$T/before" "$T/after" "attributes before and after the remount"
check "and the symlink resolves" test "$(readlink "$M/lnk")" = some/where/../target
bpfuse_umount "$M"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mount(8) conventions of mount.fuse.bpfuse: silent on success, one line on
# failure; -f (fake), -n, -v as mount(8) passes them; _netdev, nofail,
# x-systemd.* accepted; `mount -o remount` applies ro/rw and the generic
# flags (the daemon follows the superblock's read-only flag) and refuses a
# changed daemon option with one line; an fstab line with
# x-systemd.automount as systemd-fstab-generator turns it into units.
#
# mount(8) runs /sbin/mount.fuse.bpfuse, a path other builds and the package
# may hold: the case runs in a private mount namespace where an overlay puts
# this build's helper in /usr/sbin, so it tests this build and touches no
# file outside its temp dir.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
if [ -z "${_MH_PRIVATE_NS:-}" ] && [ "$(id -u)" -eq 0 ]; then
	command -v unshare >/dev/null || skip "no unshare(1) for a private mount namespace"
	_MH_PRIVATE_NS=1 exec unshare -m --propagation private -- bash "$0" "$@"
fi
setup_case "$@"
need_bpfuse

HELPER=${MOUNT_HELPER:-$(dirname "$BPFUSE")/mount.fuse.bpfuse}
HELPER=$(cd "$(dirname "$HELPER")" && pwd)/$(basename "$HELPER")
[ -x "$HELPER" ] || fail "mount helper '$HELPER' not found"
SBIN=$(readlink -f /sbin)
mkdir "$T/sbin"
ln -s "$HELPER" "$T/sbin/mount.fuse.bpfuse"
mount -t overlay overlay -o "lowerdir=$T/sbin:$SBIN" "$SBIN" ||
	fail "cannot overlay '$SBIN' in the private mount namespace"
at_cleanup "umount -l '$SBIN'"
[ "$(readlink -f /sbin/mount.fuse.bpfuse)" = "$(readlink -f "$HELPER")" ] ||
	fail "/sbin/mount.fuse.bpfuse is not this build's helper"

mkdir "$T/src" "$T/m1" "$T/m2" "$T/m3" "$T/m4" "$T/m5" "$T/m6"
echo hello >"$T/src/hello"
for m in "$T/m1" "$T/m2" "$T/m3" "$T/m4" "$T/m5" "$T/m6"; do
	track_mount "$m"
done

# run CMD..., expect exit 0 and no output at all
silent_ok() {
	local out rc=0
	out=$(timeout 60 "$@" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "'$*' exited $rc: $out"
	[ -z "$out" ] || fail "'$*' printed on success: $out"
}

# one_line_fail CMD...: expect a non-zero exit and exactly one line of output
one_line_fail() {
	local out rc=0
	out=$(timeout 60 "$@" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' succeeded"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [ -n "$out" ] ||
		fail "'$*' printed $(printf '%s\n' "$out" | wc -l) lines: $out"
	echo "$out"
}

mnt_opts() { awk -v m="$1" '$2 == m { o = $4 } END { print o }' /proc/mounts; }
has_opt() { case ",$(mnt_opts "$1")," in *",$2,"*) return 0 ;; esac; return 1; }

t_silent() {
	silent_ok mount -t fuse.bpfuse "$T/src" "$T/m1" -o entry_timeout=1
	assert_mounted "$T/m1"
	assert_eq hello "$(cat "$T/m1/hello")" "read through m1"
	silent_ok umount "$T/m1"
	assert_not_mounted "$T/m1"
	printf 'local:%s %s fuse.bpfuse noauto,nofail,_netdev,x-systemd.automount,x-systemd.requires=network-online.target,comment=x,entry_timeout=1 0 0\n' \
		"$T/src" "$T/m2" >"$T/fstab"
	silent_ok mount --fstab "$T/fstab" "$T/m2"
	assert_eq hello "$(cat "$T/m2/hello")" "read through the fstab mount"
	silent_ok umount "$T/m2"
	assert_not_mounted "$T/m2"
	# mount(8) -n passes -n
	silent_ok mount -n -t fuse.bpfuse "$T/src" "$T/m1"
	assert_mounted "$T/m1"
	silent_ok umount "$T/m1"
}
check "mount(8), fstab and -n: silent on success" t_silent

t_verbose() {
	local out
	out=$(timeout 60 "$HELPER" "$T/src" "$T/m1" -v 2>&1) || fail "helper -v failed: $out"
	assert_eq 1 "$(echo "$out" | wc -l)" "lines printed with -v ($out)"
	echo "$out" | grep -q "mounted local:$T/src on $T/m1" || fail "-v line: $out"
	silent_ok umount "$T/m1"
}
check "-v prints the one status line" t_verbose

t_fake() {
	silent_ok mount -f -t fuse.bpfuse "$T/src" "$T/m1" -o entry_timeout=1
	assert_not_mounted "$T/m1"
	assert_no_daemon "$T/m1"
	one_line_fail "$HELPER" "$T/src" "$T/m1" -f -o entry_timeout=-1 >/dev/null
	assert_not_mounted "$T/m1"
}
check "-f (fake) checks everything and mounts nothing" t_fake

t_failures() {
	one_line_fail mount -t fuse.bpfuse "$T/src" "$T/m1" -o no_such_option | grep -q "unknown option 'no_such_option'"
	one_line_fail "$HELPER" "$T/nosrc" "$T/m1" | grep -q "cannot use source"
	one_line_fail "$HELPER" "$T/src" "$T/nomnt" | grep -q "cannot use mountpoint"
	one_line_fail "$HELPER" "$T/src" "$T/m1" -o threads=0 | grep -q "threads"
	assert_not_mounted "$T/m1"
	assert_no_daemon "$T/m1"
}
check "failures: one line, nothing mounted" t_failures

t_remount_ro_rw() {
	silent_ok mount -t fuse.bpfuse "$T/src" "$T/m3"
	echo one >"$T/m3/w"
	silent_ok mount -o remount,ro "$T/m3"
	has_opt "$T/m3" ro || fail "not ro after remount,ro: $(mnt_opts "$T/m3")"
	has_opt "$T/m3" nosuid && has_opt "$T/m3" nodev || fail "remount lost nosuid,nodev: $(mnt_opts "$T/m3")"
	expect_errno EROFS "write after remount,ro" open "$T/m3/w2" "O_WRONLY|O_CREAT" x
	expect_errno EROFS "mkdir after remount,ro" mkdir "$T/m3/d"
	assert_eq one "$(cat "$T/m3/w")" "read after remount,ro"
	silent_ok mount -o remount,rw "$T/m3"
	has_opt "$T/m3" rw || fail "not rw after remount,rw: $(mnt_opts "$T/m3")"
	echo two >"$T/m3/w"
	assert_eq two "$(cat "$T/src/w")" "write after remount,rw"
	# a file open for writing: the kernel refuses to go read-only
	exec 7>"$T/m3/open"
	one_line_fail mount -o remount,ro "$T/m3" | grep -q "open for writing" || { exec 7>&-; false; }
	exec 7>&-
	has_opt "$T/m3" rw || fail "a refused remount changed the mount"
	# generic flags: noexec on, nosuid/nodev kept when not named
	silent_ok "$HELPER" "$T/src" "$T/m3" -o remount,noexec
	has_opt "$T/m3" noexec && has_opt "$T/m3" nosuid && has_opt "$T/m3" nodev ||
		fail "remount,noexec: $(mnt_opts "$T/m3")"
	silent_ok "$HELPER" "$T/src" "$T/m3" -o remount,exec
	has_opt "$T/m3" noexec && fail "remount,exec left noexec: $(mnt_opts "$T/m3")"
	silent_ok umount "$T/m3"
}
check "mount -o remount,ro / rw and generic flags" t_remount_ro_rw

t_ro_then_rw() {
	# mounted -o ro, the daemon refuses changes too; after remount,rw it must
	# follow the superblock and accept them
	silent_ok "$HELPER" "$T/src" "$T/m4" -o ro
	expect_errno EROFS "write on a ro mount" open "$T/m4/n" "O_WRONLY|O_CREAT" x
	silent_ok "$HELPER" "$T/src" "$T/m4" -o remount,rw
	expect_errno ok "create after remount,rw" open "$T/m4/n" "O_WRONLY|O_CREAT" x
	expect_errno ok "mkdir after remount,rw" mkdir "$T/m4/d"
	expect_errno ok "rename after remount,rw" rename "$T/m4/n" "$T/m4/n2"
	assert_eq x "$(cat "$T/src/n2")" "written through the remounted mount"
	silent_ok "$HELPER" "$T/src" "$T/m4" -o remount,ro
	expect_errno EROFS "write after remount,ro" open "$T/m4/n3" "O_WRONLY|O_CREAT" x
	silent_ok umount "$T/m4"
}
check "-o ro, then remount,rw: the daemon follows" t_ro_then_rw

t_remount_options() {
	local out
	printf 'local:%s %s fuse.bpfuse noauto,entry_timeout=2,profile=dataset 0 0\n' "$T/src" "$T/m5" >"$T/fstab5"
	silent_ok mount --fstab "$T/fstab5" "$T/m5"
	# mount(8) hands fstab's options back on remount: same values, accepted
	silent_ok mount --fstab "$T/fstab5" -o remount,ro "$T/m5"
	has_opt "$T/m5" ro || fail "fstab remount,ro: $(mnt_opts "$T/m5")"
	# a different value cannot be applied to a running mount
	out=$(one_line_fail mount -o remount,entry_timeout=5 "$T/m5")
	echo "$out" | grep -q "option 'entry_timeout' cannot be changed by remount" || fail "message: $out"
	out=$(one_line_fail "$HELPER" "$T/src" "$T/m5" -o remount,allow_other)
	echo "$out" | grep -q "option 'allow_other' cannot be changed by remount" || fail "message: $out"
	has_opt "$T/m5" ro || fail "a refused remount changed the mount"
	one_line_fail "$HELPER" "$T/src" "$T/src" -o remount,ro | grep -q "not a bpfuse mount"
	# -f with remount: checked, not applied
	silent_ok "$HELPER" "$T/src" "$T/m5" -f -o remount,rw
	has_opt "$T/m5" ro || fail "remount -f changed the mount"
	silent_ok umount "$T/m5"
}
check "remount: same daemon options accepted, changed ones refused with one line" t_remount_options

t_systemd() {
	local gen=/lib/systemd/system-generators/systemd-fstab-generator opts
	[ -x "$gen" ] || gen=/usr/lib/systemd/system-generators/systemd-fstab-generator
	[ -x "$gen" ] || { log "no systemd-fstab-generator on this machine: systemd check skipped"; return 77; }
	mkdir -p "$T/gen/n" "$T/gen/e" "$T/gen/l"
	# the example of docs/options.md, on this case's dirs
	printf 'local:%s %s fuse.bpfuse x-systemd.automount,x-systemd.idle-timeout=600,_netdev,nofail,profile=dataset 0 0\n' \
		"$T/src" "$T/m6" >"$T/fstab6"
	SYSTEMD_FSTAB=$T/fstab6 SYSTEMD_PROC_CMDLINE="" "$gen" "$T/gen/n" "$T/gen/e" "$T/gen/l" ||
		fail "systemd-fstab-generator failed"
	local unit
	unit=$(find "$T/gen/n" -maxdepth 1 -name '*.mount' | head -n 1)
	[ -n "$unit" ] || fail "no mount unit generated: $(find "$T/gen")"
	[ -n "$(find "$T/gen/n" -maxdepth 1 -name '*.automount')" ] || fail "no automount unit generated"
	grep -qx "Type=fuse.bpfuse" "$unit" || fail "unit: $(cat "$unit")"
	grep -qx "What=local:$T/src" "$unit" || fail "unit: $(cat "$unit")"
	opts=$(sed -n 's/^Options=//p' "$unit")
	# what systemd runs for the unit: mount What Where -t Type -o Options
	silent_ok mount "local:$T/src" "$T/m6" -t fuse.bpfuse -o "$opts"
	assert_eq hello "$(cat "$T/m6/hello")" "read through the unit's mount"
	silent_ok umount "$T/m6"
}
check "fstab x-systemd.automount line: generator units, and their mount" t_systemd

finish

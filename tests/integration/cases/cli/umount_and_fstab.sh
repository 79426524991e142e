#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bpfuse umount; -f foreground mode; mount(8) through mount.fuse.bpfuse with
# -t fuse.bpfuse and with an fstab-style line (a temp file, never /etc/fstab).
#
# mount(8) runs /sbin/mount.fuse.bpfuse, which other builds and the package
# may hold: the case runs in a private mount namespace where an overlay puts
# this build's helper in /usr/sbin (as cli/mount_helper does).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
if [ -z "${_UF_PRIVATE_NS:-}" ] && [ "$(id -u)" -eq 0 ]; then
	command -v unshare >/dev/null || skip "no unshare(1) for a private mount namespace"
	_UF_PRIVATE_NS=1 exec unshare -m --propagation private -- bash "$0" "$@"
fi
setup_case "$@"
need_bpfuse

HELPER=${MOUNT_HELPER:-$(dirname "$BPFUSE")/mount.fuse.bpfuse}

mkdir "$T/src" "$T/mnt1" "$T/mnt2" "$T/mnt3" "$T/mnt4"
echo hello >"$T/src/hello"
for m in "$T/mnt1" "$T/mnt2" "$T/mnt3" "$T/mnt4"; do
	track_mount "$m"
done

# pids of processes with our binary as executable holding /dev/fuse open,
# as a fallback when the daemon does not carry the mountpoint in its argv
fuse_holders() {
	local p exe
	exe=$(readlink -f "$BPFUSE")
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] || continue
		ls -l "$p/fd" 2>/dev/null | grep -q ' -> /dev/fuse$' && echo "${p#/proc/}"
	done | sort
}

# serving_pids MNT BEFORE: daemon_pids MNT, else new holders of /dev/fuse
serving_pids() {
	local p
	p=$(daemon_pids "$1")
	if [ -z "$p" ]; then
		p=$(comm -13 <(echo "$2") <(fuse_holders))
	fi
	echo "$p"
}

# the mount serves the backing dir in both directions
works() {
	assert_eq hello "$(cat "$1/hello")" "read through '$1'"
	echo "$2" >"$1/written"
	assert_eq "$2" "$(cat "$T/src/written")" "write through '$1' seen in the backing dir"
}

wait_gone() {
	local pid
	for pid in $1; do
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || continue 2
			sleep 0.1
		done
		fail "daemon pid $pid still running 10 s after unmount"
	done
}

cli_umount() {
	local before pids
	before=$(fuse_holders)
	bpfuse_mount "$T/src" "$T/mnt1"
	works "$T/mnt1" one
	pids=$(serving_pids "$T/mnt1" "$before")
	[ -n "$pids" ] || fail "cannot find the daemon serving '$T/mnt1'"
	bpfuse_umount "$T/mnt1"
	wait_gone "$pids"
}
check "bpfuse umount unmounts and the daemon exits" cli_umount

foreground() {
	local pid rc=0 i
	"$BPFUSE" mount "$T/src" "$T/mnt2" -f >"$T/fg.log" 2>&1 &
	pid=$!
	for i in $(seq 100); do
		is_mounted "$T/mnt2" && break
		kill -0 "$pid" 2>/dev/null || fail "bpfuse -f exited before mounting: $(cat "$T/fg.log")"
		sleep 0.1
	done
	assert_mounted "$T/mnt2"
	kill -0 "$pid" 2>/dev/null || fail "bpfuse -f is not in the foreground any more"
	works "$T/mnt2" two
	timeout 30 "$BPFUSE" umount "$T/mnt2" || fail "bpfuse umount of a -f mount failed"
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "bpfuse -f still running after unmount"
	wait "$pid" || rc=$?
	assert_eq 0 "$rc" "exit status of bpfuse -f after unmount"
	assert_not_mounted "$T/mnt2"
}
check "-f stays in the foreground and exits 0 after unmount" foreground

# make mount(8) find this build's helper, in this namespace only
[ -e "$HELPER" ] || fail "mount helper '$HELPER' not found"
HELPER=$(cd "$(dirname "$HELPER")" && pwd)/$(basename "$HELPER")
SBIN=$(readlink -f /sbin)
mkdir "$T/sbin"
ln -s "$HELPER" "$T/sbin/mount.fuse.bpfuse"
mount -t overlay overlay -o "lowerdir=$T/sbin:$SBIN" "$SBIN" ||
	fail "cannot overlay '$SBIN' in the private mount namespace"
at_cleanup "umount -l '$SBIN'"

mount_t() {
	local before pids out rc=0
	before=$(fuse_holders)
	out=$(timeout 60 mount -t fuse.bpfuse "$T/src" "$T/mnt3" -o entry_timeout=1 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "mount -t fuse.bpfuse exited $rc: $out"
	assert_mounted "$T/mnt3"
	works "$T/mnt3" three
	pids=$(serving_pids "$T/mnt3" "$before")
	[ -n "$pids" ] || fail "cannot find the daemon serving '$T/mnt3'"
	timeout 60 umount "$T/mnt3" || fail "umount(8) failed"
	assert_not_mounted "$T/mnt3"
	wait_gone "$pids"
}
check "mount -t fuse.bpfuse -o entry_timeout=1 via the helper" mount_t

mount_fstab() {
	local before pids out rc=0
	printf '# test fstab\nlocal:%s %s fuse.bpfuse entry_timeout=1,attr_timeout=2,threads=2,noauto 0 0\n' \
		"$T/src" "$T/mnt4" >"$T/fstab"
	before=$(fuse_holders)
	out=$(timeout 60 mount --fstab "$T/fstab" "$T/mnt4" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "mount --fstab exited $rc: $out"
	assert_mounted "$T/mnt4"
	works "$T/mnt4" four
	pids=$(serving_pids "$T/mnt4" "$before")
	[ -n "$pids" ] || fail "cannot find the daemon serving '$T/mnt4'"
	timeout 60 "$BPFUSE" umount "$T/mnt4" || fail "bpfuse umount of an fstab mount failed"
	assert_not_mounted "$T/mnt4"
	wait_gone "$pids"
}
check "mount --fstab FILE MNT with a local: source" mount_fstab

finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad command lines: each must exit non-zero with one clear line on stderr
# and leave nothing mounted and no daemon behind for that mountpoint.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

mkdir "$T/src" "$T/mnt" "$T/mnt2"
echo data >"$T/file"
echo data >"$T/mntfile"
: >"$T/empty"
for m in "$T/mnt" "$T/mnt2" "$T/nomnt" "$T/mntfile"; do
	track_mount "$m"
done

# expect_bad KEYWORD MNT ARGS...: "bpfuse ARGS" must fail with exactly one
# non-empty stderr line containing KEYWORD (case-insensitive); afterwards MNT
# (if not "-") must be neither mounted nor served by a daemon
expect_bad() {
	local key=$1 mnt=$2 rc=0 n
	shift 2
	timeout 30 "$BPFUSE" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	[ "$rc" -ne 124 ] || fail "'bpfuse $*' hung"
	[ "$rc" -ne 0 ] || fail "'bpfuse $*' exited 0"
	n=$(grep -c . "$T/err" || true)
	[ "$n" -eq 1 ] || fail "'bpfuse $*' printed $n stderr lines, expected 1: $(cat "$T/err")"
	grep -qiF -- "$key" "$T/err" || fail "'bpfuse $*': message does not mention '$key': $(cat "$T/err")"
	log "'bpfuse $*' -> exit $rc: $(cat "$T/err")"
	if [ "$mnt" != - ]; then
		assert_not_mounted "$mnt"
		assert_no_daemon "$mnt" 5
	fi
}

S=$T/src M=$T/mnt
check "unknown option" expect_bad nosuchopt "$M" mount "$S" "$M" -o nosuchopt
check "unknown option among good ones" expect_bad nosuchopt "$M" mount "$S" "$M" -o ro,nosuchopt
check "missing source" expect_bad "$T/nosrc" "$M" mount "$T/nosrc" "$M"
check "missing local: source" expect_bad "$T/nosrc" "$M" mount "local:$T/nosrc" "$M"
check "source is a file" expect_bad "$T/file" "$M" mount "$T/file" "$M"
check "missing mountpoint" expect_bad "$T/nomnt" "$T/nomnt" mount "$S" "$T/nomnt"
check "mountpoint is a file" expect_bad "$T/mntfile" "$T/mntfile" mount "$S" "$T/mntfile"
check "mountpoint argument missing" expect_bad "" "$M" mount "$S"
check "entry_timeout=abc" expect_bad entry_timeout "$M" mount "$S" "$M" -o entry_timeout=abc
check "attr_timeout=-1" expect_bad attr_timeout "$M" mount "$S" "$M" -o attr_timeout=-1
check "threads=0" expect_bad threads "$M" mount "$S" "$M" -o threads=0
check "threads=abc" expect_bad threads "$M" mount "$S" "$M" -o threads=abc
check "passthrough=maybe" expect_bad passthrough "$M" mount "$S" "$M" -o passthrough=maybe
check "kernel_open with passthrough=on" expect_bad kernel_open "$M" mount "$S" "$M" -o kernel_open=on,passthrough=on
check "kernel_open=maybe" expect_bad kernel_open "$M" mount "$S" "$M" -o kernel_open=maybe
check "umount of a directory that is not mounted" expect_bad "$M" "$M" umount "$M"
check "umount --wait without a mountpoint" expect_bad "usage: bpfuse umount" - umount --wait
check "umount of an option" expect_bad "usage: bpfuse umount" - umount -x
check "unknown subcommand" expect_bad nosuchcmd - nosuchcmd

# with no arguments at all a usage text is fine: only non-zero and on stderr
no_args() {
	local rc=0
	timeout 30 "$BPFUSE" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "'bpfuse' without arguments exited 0"
	[ -s "$T/err" ] || fail "'bpfuse' without arguments printed nothing on stderr"
}
check "no arguments" no_args

already_mounted() {
	local before after
	bpfuse_mount "$T/src" "$T/mnt2"
	before=$(daemon_pids "$T/mnt2" | sort)
	expect_bad "$T/mnt2" - mount "$T/src" "$T/mnt2"
	assert_eq 1 "$(awk -v m="$T/mnt2" '$2 == m' /proc/mounts | wc -l)" "mounts at '$T/mnt2'"
	assert_mounted "$T/mnt2"
	sleep 1
	after=$(daemon_pids "$T/mnt2" | sort)
	assert_eq "$before" "$after" "daemons serving '$T/mnt2' after the failed second mount"
	ls "$T/mnt2" >/dev/null || fail "first mount broken by the failed second mount"
	bpfuse_umount "$T/mnt2"
}
check "mountpoint already a bpfuse mount" already_mounted

# no /dev/fuse: only inside a private mount namespace, the host is untouched.
# HOW is "file" (an empty file bound over /dev/fuse) or "absent" (a tmpfs on
# /dev holding only null/zero)
no_dev_fuse() {
	local how=$1 rc
	command -v unshare >/dev/null || skip "no unshare"
	rm -f "$T/ns.rc" "$T/ns.mounted"
	unshare -m --propagation private bash -c '
		how=$1 bpfuse=$2 src=$3 mnt=$4 t=$5
		if [ "$how" = file ]; then
			mount --bind "$t/empty" /dev/fuse || exit 90
		else
			mount -t tmpfs none /dev || exit 90
			mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 || exit 90
		fi
		rc=0
		timeout 30 "$bpfuse" mount "$src" "$mnt" >"$t/out" 2>"$t/err" </dev/null || rc=$?
		echo "$rc" >"$t/ns.rc"
		if awk -v m="$mnt" "\$2 == m { f = 1 } END { exit !f }" /proc/mounts; then
			echo yes >"$t/ns.mounted"
			umount -l "$mnt"
		fi
		exit 0' bash "$how" "$BPFUSE" "$T/src" "$T/mnt" "$T"
	rc=$(cat "$T/ns.rc" 2>/dev/null || echo none)
	[ "$rc" != none ] || fail "could not set up the namespace"
	[ "$rc" != 124 ] || fail "bpfuse mount without /dev/fuse ($how) hung"
	[ "$rc" != 0 ] || fail "bpfuse mount without /dev/fuse ($how) exited 0"
	[ ! -e "$T/ns.mounted" ] || fail "mount left behind in the namespace ($how)"
	[ "$(grep -c . "$T/err" || true)" -eq 1 ] ||
		fail "expected one stderr line ($how): $(cat "$T/err")"
	grep -qi fuse "$T/err" || fail "message does not mention fuse ($how): $(cat "$T/err")"
	log "no /dev/fuse ($how) -> exit $rc: $(cat "$T/err")"
	assert_not_mounted "$T/mnt"
	assert_no_daemon "$T/mnt" 5
}
check "/dev/fuse is an empty file" no_dev_fuse file
check "/dev/fuse absent" no_dev_fuse absent

help_lists_options() {
	local rc=0 o
	timeout 30 "$BPFUSE" --help >"$T/help" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "bpfuse --help exited $rc"
	for o in entry_timeout attr_timeout negative_timeout threads allow_other \
		default_permissions ro passthrough debug; do
		grep -qw -- "$o" "$T/help" || fail "bpfuse --help does not mention '$o'"
	done
	grep -qw mount "$T/help" && grep -qw umount "$T/help" ||
		fail "bpfuse --help does not mention the mount/umount subcommands"
}
check "--help" help_lists_options

version() {
	local rc=0
	timeout 30 "$BPFUSE" --version >"$T/version" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || fail "bpfuse --version exited $rc"
	[ -s "$T/version" ] || fail "bpfuse --version printed nothing"
}
check "--version" version

finish

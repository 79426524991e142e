#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The daemon runs as root: MKDIR, MKNOD and SYMLINK make the object as root and
# then give it to the caller, by name (there is no descriptor of a new
# directory, node or symlink). A user who can write the source directory may
# rename an older root-owned object of the same type onto the name in between:
# it must never become theirs. The window is held open by the test-only hook
# BPFUSE_TEST_CREATE_STALL=NAME:MS (the daemon waits MS ms after making NAME),
# during which the user renames a root-owned directory (or file) onto it.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse
need_other_user

S=$T/src M=$T/mnt
mkdir -p "$S/open" "$M"
chmod 777 "$S/open" # writable by the user, not sticky
# root's objects in a directory the user can write: they may move them, not own them
mkdir "$S/open/rootdir"
echo "root's" >"$S/open/rootdir/inside"
echo "root's file" >"$S/open/rootfile"
touch -d @1000000000 "$S/open/rootdir" "$S/open/rootfile"
# born more than the 2 s (in whole seconds) a filesystem's birth times may be off
# (docs/semantics.md)
sleep 3.2
track_mount "$M"
BPFUSE_TEST_CREATE_STALL=swapped:1500 bpfuse_mount "$S" "$M" allow_other

swap() { # KIND: make open/swapped through the mount while rootKIND is renamed onto it
	local kind=$1 victim=$S/open/root$1 r
	rm -rf "${S:?}/open/swapped"
	eventually 2 [ ! -e "$M/open/swapped" ] || fail "$kind: 'swapped' removed behind the mount still shows"
	case $kind in
	dir) as_user mkdir "$M/open/swapped" 2>"$T/err" & ;;
	file) as_user /usr/bin/python3 -c 'import os, sys; os.mknod(sys.argv[1], 0o644 | 0o100000)' \
		"$M/open/swapped" 2>"$T/err" & ;;
	esac
	local maker=$!
	sleep 0.5 # the daemon has made it and waits
	[ -e "$S/open/swapped" ] || fail "$kind: the daemon did not make 'swapped' within 0.5 s ($(cat "$T/err"))"
	as_user mv -T "$victim" "$S/open/swapped"
	r=0
	wait "$maker" || r=$?
	log "$kind: the maker exited $r ($(cat "$T/err"))"
	assert_eq 0:0 "$(stat -c %u:%g "$S/open/swapped")" "$kind: owner of root's object renamed onto the name being made"
	[ "$kind" = file ] || assert_eq 0:0 "$(stat -c %u:%g "$S/open/swapped/inside")" "dir: owner of the file inside"
	rm -rf "${S:?}/open/swapped"
}
check "root's directory renamed onto a name MKDIR is making stays root's" swap dir
check "root's file renamed onto a name MKNOD is making stays root's" swap file

# without a swap the maker owns what it made
rm -rf "${S:?}/open/swapped"
eventually 2 [ ! -e "$M/open/swapped" ] || fail "'swapped' removed behind the mount still shows"
as_user mkdir "$M/open/swapped"
assert_eq $U:$U "$(stat -c %u:%g "$S/open/swapped")" "owner of a directory made through the mount"
bpfuse_umount "$M"
finish

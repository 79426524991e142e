#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Set-ID bits, POSIX ACLs, umask and atime as on the source filesystem: the same
# operations (lib/setid_acl_ops.py: writes, truncates, O_TRUNC opens, O_DIRECT
# writes, fallocate and chown by another user and by root; chmod g+s and setting
# an ACL by an owner outside the file's group; files, directories, FIFOs and
# O_TMPFILEs made under a default ACL and without one, with several umasks) on a
# plain directory and on a mount (allow_other, passthrough on and off) give the
# same transcript; and with -o noatime, reads through the mount leave the
# source's atime alone (without it they move it, as on the source).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

need_other_user
mkdir "$T/probe"
python3 -c 'import os, sys, struct
v = struct.pack("<I", 2) + struct.pack("<HHI", 1, 7, 0xffffffff) + \
    struct.pack("<HHI", 4, 5, 0xffffffff) + struct.pack("<HHI", 0x20, 5, 0xffffffff)
os.setxattr(sys.argv[1], "system.posix_acl_default", v)' "$T/probe" 2>/dev/null ||
	skip "the filesystem of '$T' has no POSIX ACLs (setting a default ACL failed)"

OPS=$IT_DIR/lib/setid_acl_ops.py

compare() { # TAG OPTS
	local tag=$1 opts=$2 ref=$T/ref.$1 src=$T/src.$1 mnt=$T/mnt.$1
	chmod 777 "$ref" "$src"
	python3 "$OPS" "$ref" >"$T/ref.$tag.txt" 2>&1 || fail "ops on the plain directory failed: $(tail -3 "$T/ref.$tag.txt")"
	bpfuse_mount "$src" "$mnt" "$opts"
	python3 "$OPS" "$mnt" >"$T/mnt.$tag.txt" 2>&1 || true
	bpfuse_umount "$mnt"
	if ! diff -u "$T/ref.$tag.txt" "$T/mnt.$tag.txt" >"$T/$tag.diff"; then
		echo "--- transcript differences (-plain dir, +bpfuse -o $opts):" >&2
		grep '^[-+][^-+]' "$T/$tag.diff" | head -n 80 >&2
		fail "$(grep -c '^[-+][^-+]' "$T/$tag.diff") transcript lines differ"
	fi
}
# mounts made inside check() are tracked from the main shell
prepare() { # TAG... : the directories of these tags
	local t
	for t in "$@"; do
		mkdir "$T/ref.$t" "$T/src.$t" "$T/mnt.$t" "$T/at.$t" "$T/atm.$t"
		track_mount "$T/mnt.$t"
		track_mount "$T/atm.$t"
	done
}
prepare pt_on pt_off rw noatime_on noatime_off nodiratime
check "set-ID/ACL/umask transcript, passthrough on" compare pt_on allow_other,passthrough=on
check "set-ID/ACL/umask transcript, passthrough off" compare pt_off allow_other,passthrough=off

# atime of SRC/f after reading it through MNT mounted with OPTS, compared to before
atime_moves() { # TAG OPTS -> prints "moved" or "kept"
	local src=$T/at.$1 mnt=$T/atm.$1
	echo data >"$src/f"
	mkdir "$src/d"
	# atime older than mtime: relatime (the source's default) updates it on a read
	touch -a -d '2001-01-01' "$src/f" "$src/d"
	bpfuse_mount "$src" "$mnt" "$2"
	cat "$mnt/f" >/dev/null
	ls "$mnt/d" >/dev/null
	bpfuse_umount "$mnt"
	local f d
	f=$(stat -c %X "$src/f") d=$(stat -c %X "$src/d")
	[ "$f" -le 978400000 ] && echo -n "file kept" || echo -n "file moved"
	[ "$d" -le 978400000 ] && echo ", dir kept" || echo ", dir moved"
}
noatime() {
	assert_eq "file moved, dir moved" "$(atime_moves rw passthrough=on)" "atime without noatime"
	for pt in on off; do
		assert_eq "file kept, dir kept" "$(atime_moves noatime_$pt noatime,passthrough=$pt)" \
			"source atime with -o noatime,passthrough=$pt"
	done
	assert_eq "file moved, dir kept" "$(atime_moves nodiratime nodiratime)" \
		"source atime with -o nodiratime"
}
check "-o noatime leaves the source's atime alone" noatime
finish

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# posix_compare OPTS: run posix_ops on a plain directory (the reference) and on
# a fresh bpfuse mount of another empty directory mounted with OPTS; the two
# transcripts must be identical. After unmount the backing directory must
# match the reference directory (names, types, modes, owners, sizes, symlink
# targets, user xattrs, file contents).

posix_compare() {
	local opts=$1 rc=0 errs=""

	need_bpfuse
	need_posix_ops
	mkdir "$T/ref" "$T/src" "$T/mnt"

	"$POSIX_OPS" "$T/ref" >"$T/ref.txt" 2>"$T/ref.err" ||
		fail "posix_ops on the plain reference directory exited $?: $(cat "$T/ref.err")"
	grep -q '^done: ok$' "$T/ref.txt" || fail "reference transcript incomplete"

	bpfuse_mount "$T/src" "$T/mnt" "$opts"
	"$POSIX_OPS" "$T/mnt" >"$T/fuse.txt" 2>"$T/fuse.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		errs="posix_ops on the mount exited $rc ($(head -c 500 "$T/fuse.err"))"
		echo "$errs" >&2
	fi
	if ! diff -u "$T/ref.txt" "$T/fuse.txt" >"$T/transcript.diff"; then
		echo "--- transcript differences (-plain dir, +bpfuse -o $opts):" >&2
		grep '^[-+][^-+]' "$T/transcript.diff" | head -n 200 >&2
		errs="${errs:+$errs; }transcripts differ ($(grep -c '^[-+][^-+]' "$T/transcript.diff") lines)"
	fi
	bpfuse_umount "$T/mnt"
	if ! (assert_same_tree "$T/ref" "$T/src" "backing dir vs reference"); then
		errs="${errs:+$errs; }backing dir differs from reference"
	fi
	[ -z "$errs" ] || fail "$errs"
}

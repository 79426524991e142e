# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# posix_compare OPTS [TAG]: run posix_ops on a plain directory (the reference)
# and on a fresh bpfuse mount of another empty directory mounted with OPTS;
# the two transcripts must be identical. After unmount the backing directory
# must match the reference directory (names, types, modes, owners, sizes,
# symlink targets, user xattrs, file contents). TAG (default "0") names the
# directories $T/ref.TAG, $T/src.TAG and $T/mnt.TAG, so one case can compare
# several option sets; call posix_compare_prepare TAG in the case's main
# shell first when posix_compare itself runs inside check().
# POSIX_COMPARE_HOOK, when set, names a command run as HOOK MNT just before the
# unmount (e.g. to read the mount's stats); its failure fails the comparison.

posix_compare_prepare() {
	local tag=${1:-0}
	mkdir "$T/ref.$tag" "$T/src.$tag" "$T/mnt.$tag"
	track_mount "$T/mnt.$tag"
}

posix_compare() {
	local opts=$1 tag=${2:-0} rc=0 errs=""
	local ref=$T/ref.$tag src=$T/src.$tag mnt=$T/mnt.$tag

	need_bpfuse
	need_posix_ops
	[ -d "$ref" ] || posix_compare_prepare "$tag"

	"$POSIX_OPS" "$ref" >"$T/ref.$tag.txt" 2>"$T/ref.$tag.err" ||
		fail "posix_ops on the plain reference directory exited $?: $(cat "$T/ref.$tag.err")"
	grep -q '^done: ok$' "$T/ref.$tag.txt" || fail "reference transcript incomplete"

	bpfuse_mount "$src" "$mnt" "$opts"
	"$POSIX_OPS" "$mnt" >"$T/fuse.$tag.txt" 2>"$T/fuse.$tag.err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		errs="posix_ops on the mount exited $rc ($(head -c 500 "$T/fuse.$tag.err"))"
		echo "$errs" >&2
	fi
	if ! diff -u "$T/ref.$tag.txt" "$T/fuse.$tag.txt" >"$T/transcript.$tag.diff"; then
		echo "--- transcript differences (-plain dir, +bpfuse -o $opts):" >&2
		grep '^[-+][^-+]' "$T/transcript.$tag.diff" | head -n 200 >&2
		errs="${errs:+$errs; }transcripts differ ($(grep -c '^[-+][^-+]' "$T/transcript.$tag.diff") lines)"
	fi
	if [ -n "${POSIX_COMPARE_HOOK:-}" ] && ! ("$POSIX_COMPARE_HOOK" "$mnt"); then
		errs="${errs:+$errs; }$POSIX_COMPARE_HOOK '$mnt' failed"
	fi
	bpfuse_umount "$mnt"
	if ! (assert_same_tree "$ref" "$src" "backing dir vs reference"); then
		errs="${errs:+$errs; }backing dir differs from reference"
	fi
	[ -z "$errs" ] || fail "$errs"
}

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# -o ro: reads work, every mutation fails with EROFS, the backing dir is
# left untouched.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

S=$T/src M=$T/mnt
mkdir "$S" "$M" "$S/d" "$S/empty"
printf 'read only data\n' >"$S/f"
printf 'inner\n' >"$S/d/g"
ln -s f "$S/sl"
setfattr -n user.k -v v "$S/f"
tree_manifest "$S" >"$T/before"
(cd "$S" && find . -printf '%P %T@\n' | LC_ALL=C sort) >"$T/mtimes.before"

bpfuse_mount "$S" "$M" ro

ro_flag() {
	local o
	o=$(awk -v m="$M" '$2 == m { o = $4 } END { print o }' /proc/mounts)
	case ",$o," in *,ro,*) ;; *) fail "mount options '$o' lack ro" ;; esac
}
check "ro in /proc/mounts" ro_flag

reads() {
	assert_eq "read only data" "$(cat "$M/f")" "read f"
	assert_eq "inner" "$(cat "$M/d/g")" "read d/g"
	assert_eq "f" "$(readlink "$M/sl")" "readlink sl"
	assert_eq "read only data" "$(cat "$M/sl")" "read through sl"
	assert_eq "d empty f sl" "$(cd "$M" && ls | tr '\n' ' ' | sed 's/ $//')" "listing"
	assert_eq v "$(getfattr --absolute-names --only-values -n user.k "$M/f")" "getxattr"
	expect_errno ok "stat" stat "$M/f"
	expect_errno ok "open O_RDONLY" open "$M/f" O_RDONLY
	expect_errno ok "access R_OK" access "$M/f" 4
	expect_errno ENOENT "stat missing" stat "$M/nofile"
}
check "reads work" reads

mutations() {
	local bad=0
	# each line: errno_of arguments
	while read -r -a args; do
		[ "${#args[@]}" -gt 0 ] || continue
		got=$(errno_of "${args[@]}")
		if [ "$got" != EROFS ]; then
			echo "  ${args[*]}: expected EROFS, got $got" >&2
			bad=1
		fi
	done <<-LIST
		open $M/f O_WRONLY
		open $M/f O_RDWR
		open $M/f O_WRONLY|O_APPEND
		open $M/f O_WRONLY|O_TRUNC
		open $M/new O_WRONLY|O_CREAT
		open $M/new O_WRONLY|O_CREAT|O_EXCL
		mkdir $M/newdir
		mkdir $M/d/newdir
		rmdir $M/empty
		unlink $M/f
		unlink $M/sl
		rename $M/f $M/f2
		rename $M/d $M/d2
		symlink f $M/sl2
		link $M/f $M/f_link
		mknod_fifo $M/fifo
		chmod $M/f 600
		chmod $M/d 700
		chown $M/f 1 1
		truncate $M/f 0
		truncate $M/f 100
		utime $M/f
		utime $M/d
		setxattr $M/f user.new x
		setxattr $M/f user.k changed
		removexattr $M/f user.k
		access $M/f 2
		access $M/d 2
	LIST
	[ "$bad" -eq 0 ] || fail "mutations on a read-only mount did not fail with EROFS"
}
check "every mutation fails with EROFS" mutations

bpfuse_umount "$M"

untouched() {
	tree_manifest "$S" >"$T/after"
	assert_same_file "$T/before" "$T/after" "backing dir manifest before/after"
	(cd "$S" && find . -printf '%P %T@\n' | LC_ALL=C sort) >"$T/mtimes.after"
	assert_same_file "$T/mtimes.before" "$T/mtimes.after" "backing dir mtimes before/after"
	assert_eq "read only data" "$(cat "$S/f")" "backing f content"
}
check "backing dir untouched" untouched

finish

# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# cp_tree_case MODE: cp -a a system tree (CP_TREE, default /usr/include) into
# a bpfuse mount with passthrough=MODE; `diff -r` against the original must be
# empty and the metadata (types, modes, owners, sizes, symlink targets, user
# xattrs, mtimes) must match, seen through the mount and again on the
# backing dir after unmount.
#
# The original is first snapshotted into the case's temp dir with hard links
# (cp -al; a plain cp -a when that crosses file systems): a package manager
# replaces files by rename, so the snapshot stays fixed while the copy runs.

cp_tree_case() {
	local mode=$1 tree=${CP_TREE:-/usr/include} orig copy src=$T/src mnt=$T/mnt
	local d name

	need_bpfuse
	[ -d "$tree" ] || skip "'$tree' not present"
	name=$(basename "$tree")
	mkdir "$T/snap" "$src" "$mnt"
	cp -al "$tree" "$T/snap/" 2>/dev/null || {
		rm -rf "$T/snap/$name"
		cp -a "$tree" "$T/snap/" || fail "cannot snapshot '$tree'"
	}
	orig=$T/snap/$name
	TREE_MTIME=1 tree_manifest "$orig" >"$T/manifest.orig"
	log "copying $(wc -l <"$T/manifest.orig") entries of '$tree' with passthrough=$mode"

	bpfuse_mount "$src" "$mnt" "passthrough=$mode"
	if ! cp -a "$orig" "$mnt/" 2>"$T/cp.err"; then
		head -n 20 "$T/cp.err" >&2
		fail "cp -a into the mount failed ($(wc -l <"$T/cp.err") errors;" \
			"$(sed 's/.*: //' "$T/cp.err" | sort | uniq -c | sort -rn | head -n 3 | xargs))"
	fi
	log "copied"
	for copy in "$mnt/$name" umount "$src/$name"; do
		if [ "$copy" = umount ]; then
			bpfuse_umount "$mnt"
			continue
		fi
		if ! d=$(diff -r --no-dereference "$orig" "$copy" 2>&1); then
			echo "$d" | head -n 50 >&2
			fail "diff -r '$orig' '$copy' is not empty"
		fi
		TREE_MTIME=1 tree_manifest "$copy" >"$T/manifest.copy"
		assert_same_file "$T/manifest.orig" "$T/manifest.copy" "metadata of '$copy'"
		log "'$copy' matches"
	done
}

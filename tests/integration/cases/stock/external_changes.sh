#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# profile=dataset caches names and attributes for a year; changes made directly
# in the source directory must still show through the mount within the
# documented bound (docs/profiles.md: 2 seconds; typically milliseconds).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
BOUND_S=2

mkdir -p "$T/src/dir" "$T/mnt"
echo one >"$T/src/dir/file"
echo keep >"$T/src/dir/mode"
bpfuse_mount "$T/src" "$T/mnt" profile=dataset

# prime every cache: entries, attributes, a negative entry, data, the listing
cat "$T/mnt/dir/file" >/dev/null
stat "$T/mnt/dir/mode" >/dev/null
ls "$T/mnt/dir" >/dev/null
[ ! -e "$T/mnt/dir/new" ] || fail "new exists before it was created"

# within BOUND_S, CMD (a string) must succeed
eventually() {
	local what=$1 cmd=$2 i
	for ((i = 0; i < BOUND_S * 20; i++)); do
		eval "$cmd" && return 0
		sleep 0.05
	done
	fail "not seen through the mount within ${BOUND_S}s: $what"
}

echo "two, longer" >"$T/src/dir/file"
eventually "content and size change" '[ "$(cat "$T/mnt/dir/file")" = "two, longer" ]'
# same size: only the watcher's invalidation can drop the cached pages
printf 'TWO, LONGER\n' >"$T/src/dir/file.tmp" && touch -r "$T/src/dir/file" "$T/src/dir/file.tmp"
cat "$T/src/dir/file.tmp" >"$T/src/dir/file" && rm "$T/src/dir/file.tmp"
eventually "same-size content change" '[ "$(cat "$T/mnt/dir/file")" = "TWO, LONGER" ]'
echo new >"$T/src/dir/new"
eventually "create over a cached negative entry" '[ "$(cat "$T/mnt/dir/new" 2>/dev/null)" = new ]'
eventually "create shows in the listing" 'ls "$T/mnt/dir" | grep -qx new'
chmod 0600 "$T/src/dir/mode"
eventually "chmod" '[ "$(stat -c %a "$T/mnt/dir/mode")" = 600 ]'
mv "$T/src/dir/new" "$T/src/dir/renamed"
eventually "rename: old name gone" '[ ! -e "$T/mnt/dir/new" ]'
eventually "rename: new name there" '[ "$(cat "$T/mnt/dir/renamed" 2>/dev/null)" = new ]'
rm "$T/src/dir/file"
eventually "unlink" '! stat "$T/mnt/dir/file" 2>/dev/null'
mkdir "$T/src/dir/sub"
eventually "mkdir" '[ -d "$T/mnt/dir/sub" ]'
echo deep >"$T/src/dir/sub/x"
eventually "create in a new directory" '[ "$(cat "$T/mnt/dir/sub/x" 2>/dev/null)" = deep ]'
rmdir "$T/src/dir/sub" 2>/dev/null || { rm "$T/src/dir/sub/x"; rmdir "$T/src/dir/sub"; }
eventually "rmdir" '[ ! -e "$T/mnt/dir/sub" ]'
n=$("$BPFUSE" stats "$T/mnt" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["invalidations"])')
[ "$n" -gt 0 ] || fail "no invalidations counted"
bpfuse_umount "$T/mnt"
finish

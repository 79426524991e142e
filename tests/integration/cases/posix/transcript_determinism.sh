#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# posix_ops itself: two runs on two plain directories give the same
# transcript, so any difference the compare cases show comes from the mount.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_posix_ops

mkdir "$T/a" "$T/b"
"$POSIX_OPS" "$T/a" >"$T/a.txt" || fail "posix_ops on '$T/a' exited $?"
"$POSIX_OPS" "$T/b" >"$T/b.txt" || fail "posix_ops on '$T/b' exited $?"
grep -q '^done: ok$' "$T/a.txt" || fail "transcript incomplete"
assert_same_file "$T/a.txt" "$T/b.txt" "transcripts of two plain-dir runs"
assert_same_tree "$T/a" "$T/b" "trees left by two plain-dir runs"
log "$(wc -l <"$T/a.txt") steps, deterministic"

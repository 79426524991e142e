#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bpfuse warmup MNT PATH... | -f LIST: prefetches files into the cache (a summary line;
# a progress bar on a tty); reading them afterwards makes no GET and no daemon READ.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb warm >/dev/null
mkdir -p "$T/mnt"
for i in 1 2 3; do
	head -c $((12 << 20)) /dev/urandom >"$T/o$i"
	s3tool put warm d/o$i "$T/o$i" >/dev/null
done
head -c 5000 /dev/urandom >"$T/small"
s3tool put warm small "$T/small" >/dev/null
s3_mount s3://warm "$T/mnt"

printf 'small\n# a comment\n' >"$T/list"
out=$("$BPFUSE" warmup "$T/mnt" d -f "$T/list")
log "$out"
check "summary line" sh -c "echo '$out' | grep -Eq '^warmup: 4 files, $((3 * (12 << 20) + 5000)) bytes, [0-9.]+ s, [0-9.]+ MB/s$'"
if command -v script >/dev/null; then
	script -qec "'$BPFUSE' warmup '$T/mnt' d" /dev/null >"$T/tty.out" 2>&1 || true
	check "progress bar on a tty" grep -q '\[#*-*\] *100%' "$T/tty.out"
fi
g=$(s3_stat "$T/mnt" get)
r=$(op_count "$T/mnt" READ)
for i in 1 2 3; do
	check "o$i reads back" cmp "$T/o$i" "$T/mnt/d/o$i"
done
check "reads after warmup make no GET" test "$(s3_stat "$T/mnt" get)" -eq "$g"
check "and no daemon READ (passthrough)" test "$(op_count "$T/mnt" READ)" -eq "$r"
check "warmup of a missing path fails" sh -c "! '$BPFUSE' warmup '$T/mnt' nope 2>/dev/null"
finish

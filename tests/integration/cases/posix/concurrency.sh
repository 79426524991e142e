#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Parallel writers, readers, directory walkers and metadata churn (3
# workers creating, renaming and unlinking in one directory) on one
# mount (passthrough on and off): everything completes, data checksums match
# through the mount and on the backing dir.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

N=4 ROUNDS=3 SIZE_MIB=8 CHURN_N=3
for i in $(seq $N); do
	head -c $((SIZE_MIB << 20)) /dev/urandom >"$T/in.$i"
	sha256sum <"$T/in.$i" | cut -d' ' -f1 >"$T/in.$i.sum"
done

sum_of() { sha256sum <"$1" | cut -d' ' -f1; }

writer() {
	local i=$1 r
	for r in $(seq $ROUNDS); do
		dd if="$T/in.$i" of="$M/w$i" bs=128k conv=fsync status=none
		[ "$(sum_of "$M/w$i")" = "$(cat "$T/in.$i.sum")" ] ||
			fail "writer $i round $r: checksum of w$i mismatch"
	done
}

reader() {
	local i=$1 r
	for r in $(seq $((ROUNDS * 2))); do
		[ "$(sum_of "$M/r$i")" = "$(cat "$T/in.$i.sum")" ] ||
			fail "reader $i round $r: checksum of r$i mismatch"
	done
}

walker() {
	local r
	for r in $(seq 10); do
		# entries under churn/ may vanish between readdir and stat: only
		# errors elsewhere count
		ls -lR "$M" >/dev/null 2>"$T/walk.$1.err" || true
		if grep -v "/churn" "$T/walk.$1.err" | grep -q .; then
			cat "$T/walk.$1.err" >&2
			fail "walker $1 round $r: ls -lR errors"
		fi
	done
}

# CHURN_N workers create, rename, read, unlink, mkdir and rmdir in one directory at once
churn() {
	local j c=$M/churn
	for j in $(seq 200); do
		echo "$1.$j" >"$c/f$1.$j"
		mv "$c/f$1.$j" "$c/g$1.$j"
		[ "$(cat "$c/g$1.$j")" = "$1.$j" ] || fail "churn $1: g$1.$j has wrong content"
		rm "$c/g$1.$j"
		mkdir "$c/d$1.$j"
		rmdir "$c/d$1.$j"
	done
}

run_parallel() {
	local mode=$1 pids=() names=() k rc bad=0
	S=$T/src_$mode M=$T/mnt_$mode
	bpfuse_mount "$S" "$M" "passthrough=$mode"
	mkdir "$M/churn"
	for i in $(seq $N); do
		cp "$T/in.$i" "$M/r$i"
	done
	for i in $(seq $N); do
		writer "$i" & pids+=($!) names+=("writer $i")
		reader "$i" & pids+=($!) names+=("reader $i")
	done
	for i in 1 2; do
		walker "$i" & pids+=($!) names+=("walker $i")
	done
	for i in $(seq $CHURN_N); do
		churn "$i" & pids+=($!) names+=("churn $i")
	done
	for k in "${!pids[@]}"; do
		rc=0
		wait "${pids[$k]}" || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "  ${names[$k]} exited $rc" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || fail "passthrough=$mode: some parallel jobs failed"
	assert_eq "" "$(ls -A "$M/churn")" "churn dir leftovers"
	for i in $(seq $N); do
		assert_eq "$(cat "$T/in.$i.sum")" "$(sum_of "$M/w$i")" "w$i through the mount"
	done
	bpfuse_umount "$M"
	for i in $(seq $N); do
		assert_eq "$(cat "$T/in.$i.sum")" "$(sum_of "$S/w$i")" "w$i in the backing dir"
		assert_eq "$(cat "$T/in.$i.sum")" "$(sum_of "$S/r$i")" "r$i in the backing dir"
	done
}

for mode in on off; do
	mkdir "$T/src_$mode" "$T/mnt_$mode"
	track_mount "$T/mnt_$mode"
	check "parallel I/O with passthrough=$mode" run_parallel "$mode"
done
finish

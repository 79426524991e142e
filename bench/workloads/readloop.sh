#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# readloop.sh CACHE PHASE ROOT - the raw read loop (readloop.py: open, fstat,
# read all, close per file, no decode) over the JPEG set, ROOT/jpeg, in the
# order of its index $DATA_DIR/jpeg.list (made from the source, outside the mount):
# its first $READLOOP_FILES files (run.sh: 15,000 of the 20,000 in full mode, so
# that passthrough_hp, one O_PATH descriptor per inode, fits in this machine's
# RLIMIT_NOFILE; every configuration reads the same files).
#   CACHE: cold (caches dropped inside readloop.py, right before the loop)
#          warm (prepare reads every file once through ROOT: the timed loop is
#                the first re-read, a training run's second epoch)
#          steady (prepare reads every file, then runs the loop once more: the
#                timed loop is a third epoch, the steady state of a long run)
#   PHASE: check | prepare ROOT | run ROOT | cleanup SRC
#   BENCH_PREPARE_NO_READ=1 (run.sh, on the cold S3 configurations): prepare reads nothing
# Warm and steady: once read, the files' pages are held resident (mapped and mlocked
# by tests/integration/lib/hold_pages.py, in every configuration alike) until the loop
# ends, because this machine's DAMON pageout reclaims cold page-cache pages at any time
# (docs/benchmarks.md): without it "warm" would be partly cold, by chance. A holder
# that cannot map the files (a FUSE server without mmap) is logged and the run goes on.
# Not on passthrough_hp (BENCH_CONFIG plain-fuse*): a mapped file stays open, and it
# keeps a descriptor per open file besides one per inode, over its RLIMIT_NOFILE here.
set -euo pipefail
cache=$1 phase=$2 root=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
n=${READLOOP_FILES:-${JPEG_IMAGES:-20000}}
holder=$DATA_DIR/readloop.holder
stop_holder() {
	local pid _
	if [ -s "$holder" ]; then
		pid=$(cat "$holder")
		kill "$pid" 2>/dev/null || true
		# gone before the unmount that follows: its mappings keep the mount busy
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$holder" "$holder.ready"
	return 0
}
case $phase in
check) [ -d "$DATA_DIR/src/jpeg" ] && [ -s "$DATA_DIR/jpeg.list" ] || { echo "no JPEG dataset" >&2; exit 77; } ;;
prepare)
	stop_holder
	[ "$cache" = cold ] || [ "${BENCH_PREPARE_NO_READ:-0}" = 1 ] && exit 0
	head -n "$n" "$DATA_DIR/jpeg.list" | sed "s|^|$root/jpeg/|" | tr '\n' '\0' |
		xargs -0 -r cat >/dev/null
	case ${BENCH_CONFIG:-} in
	plain-fuse*)
		[ "$cache" = steady ] && python3 "$here/readloop.py" "$root/jpeg" "$DATA_DIR/jpeg.list" warm "$n" >/dev/null
		exit 0
		;;
	esac
	head -n "$n" "$DATA_DIR/jpeg.list" |
		python3 -c 'import os, sys
src, root = sys.argv[1:3]
for p in sys.stdin.read().split("\n"):
    if p:
        print("%d\t%s" % (os.path.getsize(os.path.join(src, p)), os.path.join(root, p)))' \
			"$DATA_DIR/src/jpeg" "$root/jpeg" |
		HOLD_SECONDS=1200 setsid python3 "$here/../../tests/integration/lib/hold_pages.py" \
			"$holder.ready" 0 - >/dev/null 2>"$holder.err" &
	echo $! >"$holder"
	for _ in $(seq 600); do
		[ -e "$holder.ready" ] && break
		kill -0 "$(cat "$holder")" 2>/dev/null || break
		sleep 0.1
	done
	[ -e "$holder.ready" ] || { echo "readloop: pages not held: $(tail -1 "$holder.err" 2>/dev/null)" >&2; stop_holder; }
	[ "$cache" = steady ] && python3 "$here/readloop.py" "$root/jpeg" "$DATA_DIR/jpeg.list" warm "$n" >/dev/null
	exit 0
	;;
run)
	trap stop_holder EXIT
	python3 "$here/readloop.py" "$root/jpeg" "$DATA_DIR/jpeg.list" "${cache/steady/warm}" "$n"
	;;
cleanup) stop_holder ;;
*) echo "readloop.sh: unknown phase '$phase'" >&2; exit 2 ;;
esac

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
set -euo pipefail
cache=$1 phase=$2 root=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
n=${READLOOP_FILES:-${JPEG_IMAGES:-20000}}
case $phase in
check) [ -d "$DATA_DIR/src/jpeg" ] && [ -s "$DATA_DIR/jpeg.list" ] || { echo "no JPEG dataset" >&2; exit 77; } ;;
prepare)
	[ "$cache" != cold ] && [ "${BENCH_PREPARE_NO_READ:-0}" != 1 ] &&
		head -n "$n" "$DATA_DIR/jpeg.list" | sed "s|^|$root/jpeg/|" | tr '\n' '\0' |
		xargs -0 -r cat >/dev/null
	[ "$cache" = steady ] && python3 "$here/readloop.py" "$root/jpeg" "$DATA_DIR/jpeg.list" warm "$n" >/dev/null
	exit 0
	;;
run) python3 "$here/readloop.py" "$root/jpeg" "$DATA_DIR/jpeg.list" "${cache/steady/warm}" "$n" ;;
cleanup) ;;
*) echo "readloop.sh: unknown phase '$phase'" >&2; exit 2 ;;
esac

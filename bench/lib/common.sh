# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by bench/run.sh and the workloads: logging, cache control,
# timing and the paths of the tools under test. Sourced, never executed.
#
# Environment (all optional):
#	BPFUSE		daemon binary (default: <repo>/build/bpfuse)
#	PLAIN_FUSE	libfuse's passthrough_hp (default: <repo>/build/deps/libfuse/bin/passthrough_hp)
#	PLAIN_FUSE_LIB	its library dir (default: <repo>/build/deps/libfuse/lib/x86_64-linux-gnu)
#	BENCH_DATA	dataset root (default: /var/tmp/bpfuse-bench-data)
#	CFG_LOG		where mount messages go (run.sh: <results>/mounts.log)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
BPFUSE=${BPFUSE:-$REPO_ROOT/build/bpfuse}
PLAIN_FUSE=${PLAIN_FUSE:-$REPO_ROOT/build/deps/libfuse/bin/passthrough_hp}
PLAIN_FUSE_LIB=${PLAIN_FUSE_LIB:-$REPO_ROOT/build/deps/libfuse/lib/x86_64-linux-gnu}
BENCH_DATA=${BENCH_DATA:-/var/tmp/bpfuse-bench-data}
CFG_LOG=${CFG_LOG:-/dev/null}

# Debian's python3 first: python3-torch, -torchvision, -pil and -matplotlib are
# Debian packages, invisible to a python3 from pyenv or a venv earlier in PATH
export PATH=/usr/bin:/bin:$PATH

bench_log() { echo "bench: $*" >&2; }
bench_die() { echo "bench: error: $*" >&2; exit 1; }

# drop_caches LEVEL: 1 = page cache, 2 = dentries and inodes, 3 = both.
# sync first so dirty pages from the previous run can be dropped too.
drop_caches() {
	sync
	echo "$1" >/proc/sys/vm/drop_caches
}

# now_ns: monotonic-enough wall clock in nanoseconds for timing a command
now_ns() { date +%s%N; }

# time_cmd CMD...: run CMD (output discarded), print its wall time in seconds
time_cmd() {
	local t0 t1
	t0=$(now_ns)
	"$@" >/dev/null
	t1=$(now_ns)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", (b - a) / 1e9 }'
}

# warm_tree DIR: read every file under DIR once (fills dentries, inodes, page cache)
warm_tree() {
	find "$1" -type f -print0 | xargs -0 -r cat >/dev/null
}

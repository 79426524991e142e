#!/usr/bin/env bash
# test.sh - set everything up and run the whole bpfuse test suite (as root).
#   1. scripts/setup.sh (packages, libfuse >= 3.18, build)
#   2. unit tests (cmocka, via ctest)
#   3. integration tests: real FUSE mounts on this kernel (tests/integration/run.sh)
#   3b. sanitize: an ASan+UBSan build in build-asan/, its unit tests and an integration
#      subset; any sanitizer report fails it (tests/sanitize.sh)
#   4. the patched 6.12 kernel (built or cached) booted under qemu, with the fast-path
#      tests and the bpfuse daemon inside (tests/vm/run.sh)
#   5. benchmark smoke runs (bench/*.sh --quick): the benchmarks keep working
# Prints one summary line per stage and exits non-zero if any stage failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

failed=0; passed=0
stage() {
	local name=$1; shift
	printf '\n==== %s\n' "$name"
	if "$@"; then passed=$((passed + 1)); printf '==== %s: ok\n' "$name"
	else failed=$((failed + 1)); printf '==== %s: FAILED\n' "$name"; fi
}

./scripts/setup.sh || { echo "test: setup failed" >&2; exit 1; }
stage unit ctest --test-dir build --output-on-failure
stage integration tests/integration/run.sh
stage sanitize tests/sanitize.sh
# The patched kernel is cached by a hash of its inputs outside the clone, so a
# fresh clone (CI) reuses a kernel built before on this machine.
export BPFUSE_KERNEL_OUT=${BPFUSE_KERNEL_OUT:-/var/cache/bpfuse/kernel}
export BPFUSE_VM_INSTALL=1
stage vm tests/vm/run.sh
stage bench-smoke env BENCH_OUT="$top/build/bench-smoke" bench/passthrough_randread.sh --quick
stage bench-append-smoke bench/append_invalidate.sh --quick
stage bench-suite-smoke env BENCH_OUT="$top/build/bench-suite-smoke" bench/run.sh --quick

printf '\nsuite: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# sanitize.sh - the sanitizer stage of scripts/test.sh (as root).
#
# Builds the daemon, the unit tests, posix_ops and s3tool with AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer (-DBPFUSE_SANITIZE=ON) into build-asan/,
# with the libfuse that scripts/setup.sh built into build/deps (not instrumented), then runs
#   - the unit tests (ctest; the s3 client case needs radosgw and skips without it),
#   - an integration subset against the sanitized daemon: the transcript comparisons
#     (posix/compare_passthrough_on, _off), a tree copy (posix/cp_usr_include_on), the
#     parallel create/rename/unlink stress (posix/concurrency), the watcher's own-change
#     records, full drops and lost watches (watch/mkdir_chdir, watch/overflow,
#     watch/lost_watch), an S3 tree copy (s3/cp_tree) and S3 mounts that fail half-way
#     (s3/mount_errors: fs_init's error path).
# A mounted daemon runs in the background with stderr on /dev/null, so every sanitizer
# writes its report to build-asan/sanitizer-reports/report.<pid> instead; the stage fails
# when any test fails or any report file appears (and prints the reports).
#
#	tests/sanitize.sh [FILTER...]	FILTERs replace the integration subset (run.sh filters)
#
# Environment: SANITIZE_BUILD (default <repo>/build-asan), CASE_TIMEOUT (run.sh).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
B=${SANITIZE_BUILD:-$top/build-asan}
deps=$top/build/deps/libfuse
reports=$B/sanitizer-reports

say() { printf 'sanitize: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

cases=(posix/compare_passthrough_on posix/compare_passthrough_off posix/cp_usr_include_on
       posix/concurrency watch/mkdir_chdir watch/overflow watch/lost_watch s3/cp_tree
       s3/mount_errors)
[ $# -gt 0 ] && cases=("$@")

[ -f "$deps/lib/x86_64-linux-gnu/libfuse3.a" ] || "$top/scripts/setup.sh" --deps-only ||
	die "scripts/setup.sh --deps-only failed (libfuse in build/deps)"

start=$(date +%s)
mkdir -p "$B"
# clang, not gcc: GCC 12's combined ASan+UBSan runtime writes UBSan reports to stderr
# whatever log_path says, and a background daemon's stderr is /dev/null.
cmake -S "$top" -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBPFUSE_SANITIZE=ON \
	-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	-DBPFUSE_LIBFUSE_PREFIX="$deps" >"$B/cmake.log" 2>&1 ||
	{ cat "$B/cmake.log" >&2; die "cmake configure of $B failed"; }
ninja -C "$B" >"$B/ninja.log" 2>&1 || { tail -n 60 "$B/ninja.log" >&2; die "build of $B failed"; }
built=$(date +%s)
say "built $B in $((built - start)) s"

rm -rf "$reports"
mkdir -p "$reports"
# Any report is a failure of the stage, so nothing needs a sanitizer's exit status; a
# distinct one (66) still tells a sanitizer's exit from a test's own in the logs.
# halt_on_error: the first UB report ends the process (with -fno-sanitize-recover).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66:log_path=$reports/report"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=66:log_path=$reports/report"
export LSAN_OPTIONS="exitcode=66:suppressions=$top/tests/sanitize.supp:print_suppressions=0"

failed=0
say "unit tests"
ctest --test-dir "$B" --output-on-failure || failed=1
unit=$(date +%s)

say "integration: ${cases[*]}"
BUILD_DIR=$B BPFUSE=$B/bpfuse POSIX_OPS=$B/tests/integration/posix_ops S3TOOL=$B/s3tool \
	"$top/tests/integration/run.sh" "${cases[@]}" || failed=1
done_at=$(date +%s)
say "times: build $((built - start)) s, unit $((unit - built)) s, integration $((done_at - unit)) s"

n=$(find "$reports" -type f | wc -l)
if [ "$n" -gt 0 ]; then
	say "$n sanitizer report(s) in $reports:"
	for f in "$reports"/*; do
		printf '\n--- %s\n' "$f" >&2
		head -n 80 "$f" >&2
	done
	failed=1
fi
[ "$failed" -eq 0 ] && say "ok: no sanitizer report, every test passed"
[ "$failed" -eq 0 ]

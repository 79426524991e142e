#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM tier, debug kernel: build the debug kernel (scripts/kernel/build-kernel.sh
# --debug: KASAN, lockdep, atomic-sleep checks; cached by its own hash), the
# fast-path BPF object against its BTF and fp_stress, boot it under qemu with
# 2 vCPUs and 2 GiB, and run the tests/vm/cases/*-debug.sh cases inside.
# tests/vm/run.sh runs this after the normal kernel's cases; it can run alone.
# Last line: `vm-debug: N passed, M failed`.
#
# Usage: tests/vm/run-debug.sh [CASE...]   (names without .sh; default: every
#        cases/*-debug.sh)
# Exit: 0 all passed; 1 something failed.  Environment: BPFUSE_KERNEL_OUT,
# BPFUSE_VM_DEBUG_TIMEOUT (seconds, default 1200), BPFUSE_VM_SMP (default 2),
# BPFUSE_VM_PROVOKE (lkdtm crash types, comma separated, e.g.
# READ_AFTER_FREE,WARNING: provoked in the guest before the
# kernel log is checked, to see the case fail).
# Needs root, x86_64 and the packages tests/vm/run.sh checks for (it skips).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/kernel/lib.sh
. "$here/../../scripts/kernel/lib.sh"

failed() {
	echo "vm-debug: $*" >&2
	echo "vm-debug: 0 passed, 1 failed"
	exit 1
}

build=$BPFUSE_ROOT/build/vm/debug
mkdir -p "$build"
cases=$build/cases
rm -rf "$cases"
mkdir -p "$cases"
if [ $# -gt 0 ]; then
	for c in "$@"; do
		case $c in *-debug) ;; *) failed "case '$c' is not a debug-kernel case (*-debug)" ;; esac
		[ -f "$here/cases/$c.sh" ] || failed "no case '$c' in tests/vm/cases"
		cp "$here/cases/$c.sh" "$cases/"
	done
else
	cp "$here"/cases/*-debug.sh "$cases/" || failed "no cases/*-debug.sh"
fi

t0=$(date +%s)
# a built kernel is used without waiting for the build lock (another build
# may hold it for many minutes)
kdir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --debug --print-dir) ||
	kdir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --debug | tail -n 1) ||
	failed "debug kernel build failed"
echo "vm-debug: debug kernel $kdir ready after $(($(date +%s) - t0)) s" >&2

"$BPFUSE_ROOT/scripts/kernel/build-fastpath.sh" "$kdir" "$build/fastpath" ||
	failed "BPF build against the debug kernel failed"
gcc -O2 -g -Wall -Werror -o "$build/fp_stress" "$here/fp_stress.c" -lpthread ||
	failed "building fp_stress failed"
# The series' selftests for this kernel (cases/13-selftest-debug.sh), with
# cases/13-selftest.sh, which runs them, as /lib/bpfuse-selftest.sh
extra_st=()
if [ -f "$cases/13-selftest-debug.sh" ]; then
	st=$("$BPFUSE_ROOT/scripts/kernel/build-selftests.sh" "$kdir" | tail -n 1) ||
		failed "building the kernel selftests failed"
	[ -x "$st/fuse_bpf_test" ] || failed "build-selftests.sh made no fuse_bpf_test"
	extra_st=(--bin "$st/fuse_bpf_test" --file "$here/cases/13-selftest.sh:/lib/bpfuse-selftest.sh")
fi
[ -x "$BPFUSE_ROOT/build/bpfuse" ] ||
	failed "build/bpfuse missing (run scripts/setup.sh): the debug cases need the daemon"

log=$build/console.log
t1=$(date +%s)
"$BPFUSE_ROOT/scripts/kernel/run-vm.sh" --kernel "$kdir" \
	--smp "${BPFUSE_VM_SMP:-2}" --mem 2048 \
	--bin "$build/fp_stress" \
	--bin "$BPFUSE_ROOT/build/bpfuse" \
	--file "$build/fastpath/fastpath.bpf.o:/lib/bpfuse/fastpath.bpf.o" \
	"${extra_st[@]}" \
	--file "$cases:/cases" \
	--file "$here/guest/case-lib.sh:/lib/bpfuse-case.sh" \
	--disk 256 --timeout "${BPFUSE_VM_DEBUG_TIMEOUT:-1200}" \
	${BPFUSE_VM_PROVOKE:+--append "bpfuse_provoke=$BPFUSE_VM_PROVOKE"} \
	--log "$log" "$here/guest/run-cases.sh"
status=$?
echo "vm-debug: the debug VM ran $(($(date +%s) - t1)) s (exit $status)" >&2

passed=$(grep -c '^ok ' "$log" 2>/dev/null)
nfail=$(grep -c '^not ok' "$log" 2>/dev/null)
passed=${passed:-0}
nfail=${nfail:-0}
if [ "$status" != 0 ] && [ "$nfail" = 0 ]; then
	echo "vm-debug: guest run failed (status $status) without a failing check" >&2
	nfail=1
fi
echo "vm-debug: $passed passed, $nfail failed"
[ "$status" = 0 ] && [ "$nfail" = 0 ]

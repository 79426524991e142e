#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM tier on a kernel variant (scripts/kernel/build-kernel.sh --VARIANT, cached
# by its own hash): the fast-path BPF object against that kernel's BTF, the
# guest programs its cases need, one boot under qemu running the
# tests/vm/cases/*-VARIANT.sh cases.  tests/vm/run.sh runs this after the
# normal kernel's cases; it can run alone.  Last line:
# `vm-VARIANT: N passed, M failed`.
#
#   debug   KASAN, lockdep, atomic-sleep checks; 2 vCPUs and 2 GiB
#           (tests/vm/run-debug.sh is this with VARIANT debug)
#   module  FUSE built as a module: fuse.ko goes to /lib/modules/bpfuse/ in
#           the guest, which insmods it before each case (guest/run-cases.sh);
#           the fast-path object is built against fuse.ko's split BTF;
#           1 vCPU, 1 GiB
#
# Usage: tests/vm/run-kernel.sh VARIANT [CASE...]   (names without .sh;
#        default: every cases/*-VARIANT.sh)
# Exit: 0 all passed; 1 something failed.  Environment: BPFUSE_KERNEL_OUT;
# debug: BPFUSE_VM_DEBUG_TIMEOUT (seconds, default 1200), BPFUSE_VM_SMP
# (default 2), BPFUSE_VM_PROVOKE (lkdtm crash types, comma separated, e.g.
# READ_AFTER_FREE,WARNING: provoked in the guest before the kernel log is
# checked, to see the case fail); module: BPFUSE_VM_MODULE_TIMEOUT (default 900).
# Needs root, x86_64 and the packages tests/vm/run.sh checks for (it skips).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/kernel/lib.sh
. "$here/../../scripts/kernel/lib.sh"
# shellcheck source=tests/vm/s3.sh
. "$here/s3.sh"

variant=${1:-}
case $variant in
debug|module) shift ;;
*) echo "usage: run-kernel.sh debug|module [CASE...]" >&2; exit 1 ;;
esac
tag=vm-$variant

failed() {
	echo "$tag: $*" >&2
	echo "$tag: 0 passed, 1 failed"
	exit 1
}

build=$BPFUSE_ROOT/build/vm/$variant
mkdir -p "$build"
cases=$build/cases
rm -rf "$cases"
mkdir -p "$cases"
if [ $# -gt 0 ]; then
	for c in "$@"; do
		case $c in *-"$variant") ;; *) failed "case '$c' is not a $variant-kernel case (*-$variant)" ;; esac
		[ -f "$here/cases/$c.sh" ] || failed "no case '$c' in tests/vm/cases"
		cp "$here/cases/$c.sh" "$cases/"
	done
else
	cp "$here"/cases/*-"$variant".sh "$cases/" || failed "no cases/*-$variant.sh"
fi

t0=$(date +%s)
# a built kernel is used without waiting for the build lock (another build
# may hold it for many minutes)
kdir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --"$variant" --print-dir) ||
	kdir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --"$variant" | tail -n 1) ||
	failed "$variant kernel build failed"
echo "$tag: $variant kernel $kdir ready after $(($(date +%s) - t0)) s" >&2

"$BPFUSE_ROOT/scripts/kernel/build-fastpath.sh" "$kdir" "$build/fastpath" ||
	failed "BPF build against the $variant kernel failed"
gcc -O2 -g -Wall -Werror -o "$build/fp_stress" "$here/fp_stress.c" -lpthread ||
	failed "building fp_stress failed"
# The series' selftests for this kernel (cases/13-selftest-VARIANT.sh), with
# cases/13-selftest.sh, which runs them, as /lib/bpfuse-selftest.sh
extra_st=()
if [ -f "$cases/13-selftest-$variant.sh" ]; then
	st=$("$BPFUSE_ROOT/scripts/kernel/build-selftests.sh" "$kdir" | tail -n 1) ||
		failed "building the kernel selftests failed"
	[ -x "$st/fuse_bpf_test" ] || failed "build-selftests.sh made no fuse_bpf_test"
	extra_st=(--bin "$st/fuse_bpf_test" --file "$here/cases/13-selftest.sh:/lib/bpfuse-selftest.sh")
fi
[ -x "$BPFUSE_ROOT/build/bpfuse" ] ||
	failed "build/bpfuse missing (run scripts/setup.sh): the $variant cases need the daemon"

vm=(--bin "$build/fp_stress"
    --bin "$BPFUSE_ROOT/build/bpfuse"
    --file "$build/fastpath/fastpath.bpf.o:/lib/bpfuse/fastpath.bpf.o"
    "${extra_st[@]}")
# cases with `# vm: needs s3` get the host's radosgw for this boot, as in run.sh
for c in "$cases"/*.sh; do
	vm_s3_needed "$c" || continue
	s3dir=$(mktemp -d /tmp/bpfuse-vm-s3.XXXXXX)
	trap vm_s3_stop EXIT
	trap 'exit 130' INT TERM HUP
	vm_s3_start "$s3dir"
	vm+=(--net --file "$s3dir/guest:/etc/bpfuse-s3")
	break
done
case $variant in
debug)
	vm+=(--smp "${BPFUSE_VM_SMP:-2}" --mem 2048 --timeout "${BPFUSE_VM_DEBUG_TIMEOUT:-1200}")
	[ -n "${BPFUSE_VM_PROVOKE:-}" ] && vm+=(--append "bpfuse_provoke=$BPFUSE_VM_PROVOKE")
	;;
module)
	[ -f "$kdir/fuse.ko" ] || failed "no fuse.ko in '$kdir'"
	# the data loader's loop (bench/vm's vmbench, static as the bench builds it)
	gcc -O2 -Wall -Werror -static -o "$build/vmbench" "$BPFUSE_ROOT/bench/vm/vmbench.c" ||
		failed "building vmbench failed"
	vm+=(--bin "$build/vmbench" --file "$kdir/fuse.ko:/lib/modules/bpfuse/fuse.ko"
	     --timeout "${BPFUSE_VM_MODULE_TIMEOUT:-900}")
	;;
esac

log=$build/console.log
t1=$(date +%s)
"$BPFUSE_ROOT/scripts/kernel/run-vm.sh" --kernel "$kdir" "${vm[@]}" \
	--file "$cases:/cases" \
	--file "$here/guest/case-lib.sh:/lib/bpfuse-case.sh" \
	--disk 256 --log "$log" "$here/guest/run-cases.sh"
status=$?
echo "$tag: the $variant VM ran $(($(date +%s) - t1)) s (exit $status)" >&2

passed=$(grep -c '^ok ' "$log" 2>/dev/null)
nfail=$(grep -c '^not ok' "$log" 2>/dev/null)
passed=${passed:-0}
nfail=${nfail:-0}
if [ "$status" != 0 ] && [ "$nfail" = 0 ]; then
	echo "$tag: guest run failed (status $status) without a failing check" >&2
	nfail=1
fi
echo "$tag: $passed passed, $nfail failed"
[ "$status" = 0 ] && [ "$nfail" = 0 ]

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# VM tier: build the patched kernel (cached), the fast-path BPF programs and
# the guest test programs, boot the kernel under qemu (TCG) and run
# tests/vm/cases/*.sh inside.  Prints the guest console, then a last line
# `vm: N passed, M failed` (N, M count "ok"/"not ok" check lines).
#
# Exit: 0 all passed; 1 something failed; 77 skipped (a tool or package is
# missing: the reason goes to stderr).  Set BPFUSE_VM_INSTALL=1 to let the
# scripts apt-get what is missing instead of skipping.
#
# Environment: BPFUSE_VM_TIMEOUT (seconds, default 900), BPFUSE_KERNEL_OUT,
# BPFUSE_VM_CASES (names of cases/*.sh to run, without .sh, space separated;
# default all).
#
# Cases named *-debug.sh run on the debug kernel instead (KASAN, lockdep; 2
# vCPUs), cases named *-module.sh on the kernel with FUSE built as a module
# (fuse.ko insmod'ed before each case), each variant booted after the others
# by tests/vm/run-kernel.sh VARIANT (run-debug.sh for debug), which builds
# that kernel too; the counts of all boots add up in the last line.
#
# Cases with a line `# vm: needs s3` get a real radosgw on the host's loopback
# for the boot (tests/vm/s3.sh: bucket, seed tree, keys in /etc/bpfuse-s3 of
# the guest), which then runs with a NIC (run-vm.sh --net) and reaches it at
# 10.0.2.2; the server is stopped and its directory removed when the boot ends,
# however it ends.  Without such a case the guest has no network.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/kernel/lib.sh
. "$here/../../scripts/kernel/lib.sh"
# shellcheck source=tests/vm/s3.sh
. "$here/s3.sh"

skip() {
	echo "vm: SKIP: $*" >&2
	echo "vm: 0 passed, 0 failed (skipped)"
	exit 77
}

[ "$(uname -m)" = x86_64 ] || skip "needs an x86_64 host"
[ "$(id -u)" = 0 ] || skip "needs root (mknod for the initramfs, apt for dependencies)"

pkgs=(linux-source-6.12 build-essential bc flex bison libssl-dev libelf-dev dwarves
      xz-utils python3 "${VM_PKGS[@]}")
missing=$(pkg_missing "${pkgs[@]}" | tr '\n' ' ')
if [ -n "$missing" ]; then
	[ "${BPFUSE_VM_INSTALL:-0}" = 1 ] ||
		skip "missing packages: $missing(install them, or run with BPFUSE_VM_INSTALL=1)"
	ensure_pkgs "${pkgs[@]}" || skip "cannot install: $missing"
fi

build=$BPFUSE_ROOT/build/vm
mkdir -p "$build"

# the selected cases, split between the normal and the debug kernel's boot
if [ -n "${BPFUSE_VM_CASES:-}" ]; then
	selected=$BPFUSE_VM_CASES
else
	selected=
	for c in "$here"/cases/*.sh; do
		selected="$selected $(basename "$c" .sh)"
	done
fi
normal_cases=
debug_cases=
module_cases=
for c in $selected; do
	case $c in
	*-debug) debug_cases="$debug_cases $c" ;;
	*-module) module_cases="$module_cases $c" ;;
	*) normal_cases="$normal_cases $c" ;;
	esac
done

# run_variant VARIANT CASES: that kernel's boot (tests/vm/run-kernel.sh; the
# debug one through run-debug.sh); adds its counts to vpassed and vfailed (a
# missing result line is a failure) and sets vstatus to 1 if it failed
vpassed=0
vfailed=0
vstatus=0
run_variant() {
	local v=$1 out=$build/$1.out p f st
	shift
	if [ "$v" = debug ]; then
		"$here/run-debug.sh" "$@" | tee "$out"
	else
		"$here/run-kernel.sh" "$v" "$@" | tee "$out"
	fi
	st=${PIPESTATUS[0]}
	p=$(tail -n 1 "$out" | sed -n "s/^vm-$v: \([0-9]*\) passed, [0-9]* failed\$/\1/p")
	f=$(tail -n 1 "$out" | sed -n "s/^vm-$v: [0-9]* passed, \([0-9]*\) failed\$/\1/p")
	if [ -z "$p" ] || [ -z "$f" ]; then
		echo "vm: no result line from the $v kernel's run" >&2
		p=0
		f=1
	fi
	[ "$st" != 0 ] && [ "$f" = 0 ] && f=1
	[ "$st" = 0 ] || vstatus=1
	vpassed=$((vpassed + p))
	vfailed=$((vfailed + f))
}
# shellcheck disable=SC2086
run_variants() {
	[ -z "$debug_cases" ] || run_variant debug $debug_cases
	[ -z "$module_cases" ] || run_variant module $module_cases
}
if [ -z "$normal_cases" ]; then
	run_variants
	echo "vm: $vpassed passed, $vfailed failed"
	[ "$vstatus" = 0 ] && [ "$vfailed" = 0 ]
	exit
fi

# a complete kernel is used as it is, without waiting for the build lock
# (another kernel may be building under it, as run-debug.sh does)
kdir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --print-dir) ||
	kdir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" | tail -n 1) ||
	{ echo "vm: kernel build failed" >&2; echo "vm: 0 passed, 1 failed"; exit 1; }

if ! "$BPFUSE_ROOT/scripts/kernel/build-fastpath.sh" "$kdir" "$build/fastpath"; then
	echo "vm: BPF build failed" >&2
	echo "vm: 0 passed, 1 failed"
	exit 1
fi

# The kernel tests' programs (tests/vm/bpf/), against the same vmlinux.h
mkdir -p "$build/kf"
for src in "$here"/bpf/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	if ! clang -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_x86 \
		-I "$build/fastpath" -I "$BPFUSE_ROOT/include" -I "$BPFUSE_ROOT/bpf/fastpath" \
		-c "$src" -o "$build/kf/$name.bpf.o" ||
	   ! bpftool gen skeleton "$build/kf/$name.bpf.o" name "${name}_bpf" > "$build/kf/$name.skel.h"; then
		echo "vm: building $src failed" >&2
		echo "vm: 0 passed, 1 failed"
		exit 1
	fi
done
# fp_test and kf_test link the libbpf the daemon links (>= 1.2 for
# include/bpfuse/fuse_bpf_link.h: scripts/setup.sh builds it into build/deps),
# statically, so the guest needs no libbpf.so of either version
libbpf=$BPFUSE_ROOT/build/deps/libbpf
if [ ! -f "$libbpf/lib/libbpf.a" ]; then
	echo "vm: no $libbpf/lib/libbpf.a (run scripts/setup.sh)" >&2
	echo "vm: 0 passed, 1 failed"
	exit 1
fi
# fp_test: the fast-path skeleton and tests/vm/bpf/fp_open's
if ! gcc -O2 -g -Wall -Werror -o "$build/fp_test" "$here/fp_test.c" \
	-I "$kdir/include" -I "$libbpf/include" -I "$BPFUSE_ROOT/include" -I "$build/fastpath" \
	-I "$build/kf" "$libbpf/lib/libbpf.a" -lelf -lz -lpthread; then
	echo "vm: building fp_test failed" >&2
	echo "vm: 0 passed, 1 failed"
	exit 1
fi
if ! gcc -O2 -g -Wall -Werror -o "$build/kf_test" "$here/kf_test.c" \
	-I "$kdir/include" -I "$libbpf/include" -I "$BPFUSE_ROOT/include" -I "$build/kf" \
	"$libbpf/lib/libbpf.a" -lelf -lz -lpthread; then
	echo "vm: building kf_test failed" >&2
	echo "vm: 0 passed, 1 failed"
	exit 1
fi

if ! gcc -O2 -g -Wall -Werror -o "$build/fp_stress" "$here/fp_stress.c" -lpthread; then
	echo "vm: building fp_stress failed" >&2
	echo "vm: 0 passed, 1 failed"
	exit 1
fi

# The data loader's loop of cases/20-bpfuse.sh (open, fstat, read, close, checked):
# bench/vm's vmbench, static like the bench builds it
if ! gcc -O2 -Wall -Werror -static -o "$build/vmbench" "$BPFUSE_ROOT/bench/vm/vmbench.c"; then
	echo "vm: building vmbench failed" >&2
	echo "vm: 0 passed, 1 failed"
	exit 1
fi

# The series' own selftests (patch 0007), for cases/13-selftest.sh: built
# against this kernel's BTF by scripts/kernel/build-selftests.sh (cached)
case " $normal_cases " in
*" 13-selftest "*)
	if ! st=$("$BPFUSE_ROOT/scripts/kernel/build-selftests.sh" "$kdir" | tail -n 1) ||
	   [ ! -x "$st/fuse_bpf_test" ]; then
		echo "vm: building the kernel selftests failed" >&2
		echo "vm: 0 passed, 1 failed"
		exit 1
	fi
	extra_st=(--bin "$st/fuse_bpf_test")
	;;
*) extra_st=() ;;
esac

# The real daemon and the transcript tool for cases/20-bpfuse.sh (built by
# scripts/setup.sh); without them that case fails (it cannot measure anything), the rest
# still runs.
extra=()
if [ -x "$BPFUSE_ROOT/build/bpfuse" ] && [ -x "$BPFUSE_ROOT/build/tests/integration/posix_ops" ]; then
	extra=(--bin "$BPFUSE_ROOT/build/bpfuse"
	       --bin "$BPFUSE_ROOT/build/tests/integration/posix_ops"
	       --file "$build/fastpath/fastpath.bpf.o:/lib/bpfuse/fastpath.bpf.o")
else
	echo "vm: build/bpfuse or build/tests/integration/posix_ops missing (run scripts/setup.sh):" \
	     "case 20-bpfuse will fail" >&2
fi

cases=$build/cases-selected
s3_cases=
rm -rf "$cases"
mkdir -p "$cases"
for c in $normal_cases; do
	[ -f "$here/cases/$c.sh" ] ||
		{ echo "vm: no case '$c' in tests/vm/cases" >&2; echo "vm: 0 passed, 1 failed"; exit 1; }
	cp "$here/cases/$c.sh" "$cases/"
	vm_s3_needed "$here/cases/$c.sh" && s3_cases="$s3_cases $c"
done

# the S3 cases' server: up for this boot only, stopped by the trap on any exit
if [ -n "$s3_cases" ]; then
	s3dir=$(mktemp -d /tmp/bpfuse-vm-s3.XXXXXX)
	trap vm_s3_stop EXIT
	trap 'exit 130' INT TERM HUP
	vm_s3_start "$s3dir"
	# on failure the guest gets no /etc/bpfuse-s3/s3.env and the S3 cases fail
	# (saying so); Ceph missing: they skip with the reason in /etc/bpfuse-s3/skip
	extra+=(--net --file "$s3dir/guest:/etc/bpfuse-s3")
fi

log=$build/console.log
"$BPFUSE_ROOT/scripts/kernel/run-vm.sh" --kernel "$kdir" \
	--bin "$build/fp_test" \
	--bin "$build/fp_stress" \
	--bin "$build/kf_test" \
	--bin "$build/vmbench" \
	"${extra[@]}" "${extra_st[@]}" \
	--file "$cases:/cases" \
	--file "$here/guest/case-lib.sh:/lib/bpfuse-case.sh" \
	--disk 256 --timeout "${BPFUSE_VM_TIMEOUT:-900}" \
	--log "$log" "$here/guest/run-cases.sh"
status=$?
vm_s3_stop

passed=$(grep -c '^ok ' "$log" 2>/dev/null)
failed=$(grep -c '^not ok' "$log" 2>/dev/null)
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
	echo "vm: guest run failed (status $status) without a failing check" >&2
	failed=1
fi
run_variants
passed=$((passed + vpassed))
failed=$((failed + vfailed))
[ "$vstatus" = 0 ] || status=1
echo "vm: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ]

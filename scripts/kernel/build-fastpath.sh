#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the fast-path BPF programs (bpf/fastpath/*.bpf.c) against the BTF of
# the patched kernel: vmlinux.h from `bpftool btf dump`, clang -target bpf,
# and a libbpf skeleton per program.
#
# Usage: scripts/kernel/build-fastpath.sh KERNEL_DIR OUT_DIR
#   KERNEL_DIR  output of build-kernel.sh (holds vmlinux; with FUSE built as a
#               module also fuse.ko, whose split BTF on top of vmlinux's holds
#               struct fuse_bpf_ops and the other fuse types: vmlinux.h is then
#               dumped from it, vmlinux's types included)
#   OUT_DIR     gets vmlinux.h, <name>.bpf.o and <name>.skel.h
set -euo pipefail

# shellcheck source=scripts/kernel/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# = 2 ] || kdie "usage: build-fastpath.sh KERNEL_DIR OUT_DIR"
kdir=$1
out=$2
[ -f "$kdir/vmlinux" ] || kdie "no vmlinux in '$kdir'"
for tool in clang bpftool; do
	command -v "$tool" > /dev/null || kdie "missing $tool"
done
[ -f /usr/include/bpf/bpf_helpers.h ] || kdie "missing libbpf headers (libbpf-dev)"

btf=("$kdir/vmlinux")
[ -f "$kdir/fuse.ko" ] && btf=("$kdir/fuse.ko" -B "$kdir/vmlinux")
mkdir -p "$out"
if [ ! -s "$out/vmlinux.h" ] || [ "${btf[0]}" -nt "$out/vmlinux.h" ] ||
   [ "$kdir/vmlinux" -nt "$out/vmlinux.h" ]; then
	bpftool btf dump file "${btf[@]}" format c > "$out/vmlinux.h.tmp" ||
		kdie "cannot dump the BTF of '${btf[0]}'"
	grep -q 'struct fuse_bpf_ops {' "$out/vmlinux.h.tmp" ||
		kdie "kernel in '$kdir' has no struct fuse_bpf_ops in '${btf[0]}' (CONFIG_FUSE_REQUEST_BPF off?)"
	mv "$out/vmlinux.h.tmp" "$out/vmlinux.h"
fi

arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
for src in "$BPFUSE_ROOT"/bpf/fastpath/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	clang -target bpf -g -O2 -Wall -Werror -D__TARGET_ARCH_"$arch" \
		-I "$out" -I "$BPFUSE_ROOT/include" -I "$BPFUSE_ROOT/bpf/fastpath" \
		-c "$src" -o "$out/$name.bpf.o"
	bpftool gen skeleton "$out/$name.bpf.o" name "${name}_bpf" > "$out/$name.skel.h"
	kmsg "built $out/$name.bpf.o and $name.skel.h"
done

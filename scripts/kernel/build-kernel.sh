#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the bpfuse test kernel: Debian's linux-source-6.12 + kernel-patches/6.12
# (series) + a tinyconfig with kernel-patches/6.12/bpfuse.config merged in.
#
# Output: build/kernel/<hash>/{bzImage,vmlinux,config,include/linux/fuse.h}, where <hash> covers the
# patches, the series, the config fragment, this script and the Debian source
# version.  A second run with the same hash does nothing.  The last line on
# stdout is the output directory; everything else goes to stderr.
#
# Patches that change only tools/ (the selftests, built by
# scripts/kernel/build-selftests.sh) are not part of the hash: they do not
# change the kernel.
#
# Usage: scripts/kernel/build-kernel.sh [--debug|--module] [--print-dir] [--keep-src]
#   --debug      the debug kernel: kernel-patches/6.12/bpfuse-debug.config
#                (KASAN, lockdep, atomic-sleep checks) merged over bpfuse.config,
#                in build/kernel/debug-<hash> (its own hash, which also covers
#                the debug fragment); link build/kernel/current-debug
#   --module     FUSE built as a module: kernel-patches/6.12/bpfuse-module.config
#                merged over bpfuse.config, in build/kernel/module-<hash>, with
#                fuse.ko beside bzImage; link build/kernel/current-module
#   --print-dir  print the output directory for the current inputs and exit
#                (status 1 if it is not built yet)
#   --keep-src   keep build/kernel/src-<hash> (for incremental work on the patches)
# Environment: BPFUSE_KERNEL_OUT (default build/kernel), BPFUSE_NO_APT=1 (never
# run apt-get), JOBS (default nproc).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

print_dir=0
variant=
keep_src=${BPFUSE_KEEP_KERNEL_SRC:-0}
for arg in "$@"; do
	case $arg in
	--debug) [ -z "$variant" ] || kdie "--debug and --module exclude each other"; variant=debug ;;
	--module) [ -z "$variant" ] || kdie "--debug and --module exclude each other"; variant=module ;;
	--print-dir) print_dir=1 ;;
	--keep-src) keep_src=1 ;;
	-h|--help) sed -n '3,28p' "$0"; exit 0 ;;
	*) kdie "unknown argument '$arg'" ;;
	esac
done

KERNEL_PKGS=(linux-source-6.12 build-essential bc flex bison libssl-dev libelf-dev
	     dwarves xz-utils python3)
if [ "$print_dir" = 0 ]; then
	ensure_pkgs "${KERNEL_PKGS[@]}" || kdie "cannot install kernel build dependencies"
fi

tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || kdie "missing $tarball (package linux-source-6.12)"
[ -f "$BPFUSE_PATCH_DIR/series" ] || kdie "missing $BPFUSE_PATCH_DIR/series"

frags=("$BPFUSE_PATCH_DIR/bpfuse.config")
if [ -n "$variant" ]; then
	frags+=("$BPFUSE_PATCH_DIR/bpfuse-$variant.config")
	[ -f "${frags[1]}" ] || kdie "missing ${frags[1]}"
	hash=$variant-$(kernel_hash "$variant")
	link=current-$variant
else
	hash=$(kernel_hash)
	link=current
fi
out=$BPFUSE_KERNEL_OUT/$hash
if [ "$print_dir" = 1 ]; then
	echo "$out"
	[ -f "$out/.complete" ]
	exit
fi

mkdir -p "$BPFUSE_KERNEL_OUT"
exec 9>"$BPFUSE_KERNEL_OUT/.lock"
flock 9

if [ -f "$out/.complete" ]; then
	kmsg "kernel $hash is up to date"
	echo "$out"
	exit 0
fi

src=$BPFUSE_KERNEL_OUT/src-$hash
log=$BPFUSE_KERNEL_OUT/build-$hash.log
kmsg "building kernel $hash in $src (log: $log)"
rm -rf "$src" "$out"
mkdir -p "$src"
tar -xf "$tarball" -C "$src" --strip-components=1

cd "$src"
while IFS= read -r p; do
	[ -f "$p" ] || kdie "series lists '${p##*/}' but it does not exist"
	kmsg "applying ${p##*/}"
	patch -p1 --forward --batch --quiet < "$p" || kdie "patch '${p##*/}' does not apply"
done < <(series_patches)

{
	make tinyconfig
	scripts/kconfig/merge_config.sh -m .config "${frags[@]}"
	make olddefconfig
} > "$log" 2>&1 || { tail -n 30 "$log" >&2; kdie "kernel configuration failed"; }

# each fragment's settings must survive, except those a later fragment
# overrides (bpfuse-module.config's CONFIG_FUSE_FS=m over bpfuse.config's =y)
missing=0
for i in "${!frags[@]}"; do
	frag=${frags[$i]}
	later=$(for f in "${frags[@]:$((i + 1))}"; do
		sed -nE 's/^(# )?(CONFIG_[A-Z0-9_]+)( is not set|=.*)$/\2/p' "$f"
	done)
	while IFS= read -r opt; do
		grep -qx "${opt%%=*}" <<< "$later" && continue
		if ! grep -qx "$opt" .config; then
			kmsg "option lost after olddefconfig: $opt (have: $(grep "^${opt%%=*}=" .config || echo 'not set'))"
			missing=1
		fi
	done < <(grep -E '^CONFIG_[A-Z0-9_]+=[ym]$' "$frag")
	while IFS= read -r opt; do
		grep -qx "$opt" <<< "$later" && continue
		if grep -q "^$opt=" .config; then
			kmsg "option turned back on by olddefconfig: $(grep "^$opt=" .config)"
			missing=1
		fi
	done < <(sed -nE 's/^# (CONFIG_[A-Z0-9_]+) is not set$/\1/p' "$frag")
	[ "$missing" = 0 ] || kdie "config fragment did not survive; see $frag"
done

jobs=${JOBS:-$(nproc)}
targets=(bzImage)
[ "$variant" = module ] && targets+=(modules)
kmsg "make -j$jobs ${targets[*]} (several minutes)"
if ! make -j"$jobs" "${targets[@]}" >> "$log" 2>&1; then
	grep -E 'error|Error' "$log" | tail -n 20 >&2 || true
	kdie "kernel build failed; see $log"
fi

mkdir -p "$out.tmp"
cp arch/x86/boot/bzImage vmlinux "$out.tmp/"
cp .config "$out.tmp/config"
if [ "$variant" = module ]; then
	[ -f fs/fuse/fuse.ko ] || kdie "module build made no fs/fuse/fuse.ko"
	cp fs/fuse/fuse.ko "$out.tmp/"
fi
# The patched uapi header, for userspace built against this kernel (tests/vm)
mkdir -p "$out.tmp/include/linux"
cp include/uapi/linux/fuse.h "$out.tmp/include/linux/fuse.h"
(cd "$BPFUSE_PATCH_DIR" && sha256sum series "${frags[@]##*/}" ./*.patch) > "$out.tmp/inputs.sha256"
touch "$out.tmp/.complete"
rm -rf "$out"
mv "$out.tmp" "$out"
ln -sfn "$hash" "$BPFUSE_KERNEL_OUT/$link"

cd "$BPFUSE_KERNEL_OUT"
[ "$keep_src" = 1 ] || rm -rf "$src"
kmsg "kernel $hash built: $out/bzImage"
echo "$out"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the selftests the series carries (kernel-patches/6.12, patch 0007:
# tools/testing/selftests/filesystems/fuse_bpf) for a kernel built by
# build-kernel.sh: unpack only what `make headers` and the selftests need
# from Debian's linux-source-6.12, apply the whole series, install the
# patched uapi headers (make headers: the selftests' KHDR_INCLUDES), and
# build the selftest with VMLINUX_BTF set to that kernel's vmlinux.
#
# Output: $BPFUSE_KERNEL_OUT/selftests-<hash>/{fuse_bpf_test,config}, where
# <hash> covers the patches (all of them, tools/ included), the series, this
# script, the Debian source version and the kernel directory's name (its BTF
# becomes vmlinux.h).  A second run with the same hash does nothing.  The
# last line on stdout is the output directory; everything else goes to
# stderr.  Takes 20 to 50 s on 2 cores (unpacking most of it).
#
# Usage: scripts/kernel/build-selftests.sh KERNEL_DIR
#   KERNEL_DIR  output of build-kernel.sh (vmlinux, include/linux/fuse.h)
# Environment: BPFUSE_KERNEL_OUT (default build/kernel), BPFUSE_NO_APT=1
# (never run apt-get).
set -euo pipefail

# shellcheck source=scripts/kernel/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${1:-} in
-h|--help) sed -n '3,21p' "$0"; exit 0 ;;
esac
[ $# = 1 ] || kdie "usage: build-selftests.sh KERNEL_DIR"
kdir=$(cd "$1" 2>/dev/null && pwd -P) || kdie "no kernel directory '$1'"
[ -f "$kdir/.complete" ] || kdie "kernel in '$kdir' is not complete (no .complete)"
[ -f "$kdir/vmlinux" ] || kdie "no vmlinux in '$kdir'"

ensure_pkgs linux-source-6.12 build-essential bc flex bison xz-utils clang llvm \
	bpftool libbpf-dev libelf-dev zlib1g-dev pkg-config ||
	kdie "cannot install the selftests' build dependencies"

tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || kdie "missing $tarball (package linux-source-6.12)"
[ -f "$BPFUSE_PATCH_DIR/series" ] || kdie "missing $BPFUSE_PATCH_DIR/series"

hash=$({
	echo "linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null)"
	echo "kernel ${kdir##*/}"
	for f in "$BPFUSE_PATCH_DIR/series" "$BPFUSE_ROOT/scripts/kernel/build-selftests.sh" \
		 $(series_patches); do
		echo "== ${f#"$BPFUSE_ROOT"/}"
		cat "$f"
	done
} | sha256sum | cut -c1-16)
out=$BPFUSE_KERNEL_OUT/selftests-$hash

mkdir -p "$BPFUSE_KERNEL_OUT"
# Its own lock: a kernel build (build-kernel.sh's lock) must not hold this up
exec 9>"$BPFUSE_KERNEL_OUT/.lock-selftests"
flock 9

if [ -f "$out/.complete" ]; then
	kmsg "selftests $hash are up to date"
	echo "$out"
	exit 0
fi

src=$BPFUSE_KERNEL_OUT/selftests-src-$hash
log=$BPFUSE_KERNEL_OUT/build-selftests-$hash.log
kmsg "building selftests $hash in $src (log: $log)"
rm -rf "$src" "$out" "$out.tmp"
trap 'rm -rf "$src" "$out.tmp"' EXIT
mkdir -p "$src"
# make headers needs the top Makefile, scripts/, include/, arch/x86/ and usr/;
# the selftests tools/testing/selftests and tools/include; the series changes
# fs/fuse/ (and adds under tools/)
tar -xf "$tarball" -C "$src" --strip-components=1 \
	linux-source-6.12/Makefile linux-source-6.12/scripts linux-source-6.12/include \
	linux-source-6.12/arch/x86 linux-source-6.12/usr linux-source-6.12/fs/fuse \
	linux-source-6.12/tools/testing/selftests linux-source-6.12/tools/include \
	linux-source-6.12/tools/scripts
cd "$src"
while IFS= read -r p; do
	[ -f "$p" ] || kdie "series lists '${p##*/}' but it does not exist"
	patch -p1 --forward --batch --quiet < "$p" || kdie "patch '${p##*/}' does not apply"
done < <(series_patches)
[ -d tools/testing/selftests/filesystems/fuse_bpf ] ||
	kdie "the series adds no tools/testing/selftests/filesystems/fuse_bpf"

make ARCH=x86 headers > "$log" 2>&1 || { tail -n 20 "$log" >&2; kdie "make headers failed"; }
# The kernel must be of this series: same uapi header
cmp -s include/uapi/linux/fuse.h "$kdir/include/linux/fuse.h" ||
	kdie "the uapi linux/fuse.h of '$kdir' differs from the series': built from another series?"

if ! make -C tools/testing/selftests TARGETS=filesystems/fuse_bpf \
	VMLINUX_BTF="$kdir/vmlinux" >> "$log" 2>&1; then
	grep -E 'error|Error' "$log" | tail -n 20 >&2 || true
	kdie "selftest build failed; see $log"
fi

mkdir -p "$out.tmp"
cp tools/testing/selftests/filesystems/fuse_bpf/fuse_bpf_test \
   tools/testing/selftests/filesystems/fuse_bpf/config "$out.tmp/"
echo "${kdir##*/}" > "$out.tmp/kernel"
touch "$out.tmp/.complete"
mv "$out.tmp" "$out"
kmsg "selftests $hash built: $out/fuse_bpf_test"
echo "$out"

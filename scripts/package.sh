#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the Debian package: [FASTPATH_OBJ=PATH] scripts/package.sh [BUILD_DIR]
#
# Configures BUILD_DIR (default build-deb) with the prefix /usr, builds bpfuse
# and its man pages, and runs CPack's DEB generator there. Prints the path of
# the .deb as its last line. Needs what scripts/setup.sh installs and builds
# (libfuse 3.18 in build/deps, linked statically). FASTPATH_OBJ names a
# fastpath.bpf.o built for the patched kernel (scripts/kernel/build-fastpath.sh)
# to ship as /usr/lib/bpfuse/fastpath.bpf.o, where the daemon looks for it.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$top/build-deb}
die() { echo "package: $*" >&2; exit 1; }

[ -d "$top/build/deps/libfuse" ] || "$top/scripts/setup.sh" >&2 ||
	die "scripts/setup.sh failed"
command -v cpack >/dev/null || die "cpack not found (cmake)"
command -v dpkg-shlibdeps >/dev/null || die "dpkg-shlibdeps not found (apt-get install dpkg-dev)"
fastpath=
if [ -n "${FASTPATH_OBJ:-}" ]; then
	[ -f "$FASTPATH_OBJ" ] || die "FASTPATH_OBJ '$FASTPATH_OBJ' is not a file"
	fastpath=$(cd "$(dirname "$FASTPATH_OBJ")" && pwd)/$(basename "$FASTPATH_OBJ")
fi
cmake -S "$top" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_INSTALL_PREFIX=/usr -DBPFUSE_LIBFUSE_PREFIX="$top/build/deps/libfuse" \
	-DBPFUSE_FASTPATH_OBJ="$fastpath" \
	>"$out.cmake.log" 2>&1 || { cat "$out.cmake.log" >&2; die "cmake configure failed"; }
rm -f "$out.cmake.log"
cmake --build "$out" --target bpfuse man >&2 || die "build failed"
(cd "$out" && cpack -G DEB >&2) || die "cpack failed"
deb=$(ls -t "$out"/bpfuse_*.deb | head -n 1)
[ -f "$deb" ] || die "no .deb in '$out'"
echo "$deb"

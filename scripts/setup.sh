#!/usr/bin/env bash
# setup.sh - prepare a Debian bookworm machine (as root) to build and test bpfuse.
#
# 1. installs the Debian packages the build, tests and benchmarks need (skipped when present;
#    the base list below plus scripts/packages-*.txt and bench/packages.txt);
# 2. builds libfuse >= 3.18 (FUSE-over-io_uring with liburing and libnuma) from Debian's
#    own fuse3 source package (sid) into build/deps/ when the system's libfuse is older,
#    without touching the system's apt configuration (a private source list and lists
#    directory under build/deps/);
# 3. builds a static libbpf >= 1.4 (struct_ops types in module BTF, for a FUSE built as a
#    module) the same way from sid's libbpf source package into build/deps/libbpf;
# 4. configures and builds bpfuse with CMake into build/.
# A second run reuses everything it built. Exit status is non-zero on any failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps=$top/build/deps
FUSE_MIN=3.18
LIBBPF_MIN=1.4 # struct_ops types in module BTF (FUSE built as a module)
SRC_SUITE=sid # the Debian suite whose fuse3 and libbpf source packages are built (3.18.3, 1.7.0)

say() { printf 'setup: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages, mounts FUSE)"

PKGS=(build-essential g++ cmake pkg-config meson ninja-build clang llvm libbpf-dev bpftool
      libelf-dev zlib1g-dev libcmocka-dev fio attr acl python3 xz-utils dpkg-dev
      debian-archive-keyring ca-certificates liburing-dev libnuma-dev)

# Each part of the project lists what else it needs, one package a line:
# scripts/packages-*.txt (S3 server and client, VM tier, tests) and bench/packages.txt.
for list in "$top"/scripts/packages-*.txt "$top"/bench/packages.txt; do
	[ -f "$list" ] || continue
	while read -r p _; do
		case $p in ''|'#'*) ;; *) PKGS+=("$p") ;; esac
	done <"$list"
done

install_packages() {
	local missing=() p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# The archive host the system already uses, so no new host is introduced.
archive_uri() {
	local uri
	uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		grep -v security | head -n1)
	[ -n "$uri" ] || uri=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^http/) {print $i; exit}}' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$uri" ] || die "cannot find the Debian archive URI in the apt configuration"
	printf '%s\n' "$uri"
}

# fetch_sid_source PKG MIN: the newest PKG_<ver>.orig.tar.* of Debian's $SRC_SUITE source
# package PKG in $deps/src (fetched with a private source list and lists directory, the
# system's apt configuration untouched; an older tarball already there stays unused).
# Prints the tarball; dies if the suite's version is older than MIN.
fetch_sid_source() {
	local pkg=$1 min=$2 tarball ver
	local list=$deps/apt/$SRC_SUITE-src.list
	local O=(-o "Dir::Etc::SourceList=$list" -o Dir::Etc::SourceParts=- -o "Dir::State::Lists=$deps/apt/lists"
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
	newest() { ls "$deps"/src/"${pkg}"_*.orig.tar.* 2>/dev/null | grep -v "\.asc$" | sort -V | tail -n1 || true; }
	mkdir -p "$deps/apt/lists/partial" "$deps/src"
	tarball=$(newest)
	ver=$(tarball_version "$pkg" "${tarball:-none}")
	if [ -z "$tarball" ] || ! version_ge "$ver" "$min"; then
		printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			"$(archive_uri)" "$SRC_SUITE" >"$list"
		say "fetching Debian's $pkg source package ($SRC_SUITE)"
		apt-get "${O[@]}" update -qq || die "apt-get update of the private $SRC_SUITE source list failed"
		(cd "$deps/src" && apt-get "${O[@]}" source --download-only "$pkg" >/dev/null 2>&1) ||
			die "apt-get source $pkg failed"
		tarball=$(newest)
		[ -n "$tarball" ] || die "apt-get source $pkg left no ${pkg}_*.orig.tar.* in $deps/src"
		ver=$(tarball_version "$pkg" "$tarball")
	fi
	version_ge "$ver" "$min" || die "Debian's $pkg source is $ver, need >= $min"
	printf '%s\n' "$tarball"
}

# the version in a tarball name PKG_<ver>.orig.tar.*
tarball_version() { basename "$2" | sed -E "s/^${1}_([0-9.]+)\.orig.*/\1/"; }

build_libfuse() {
	local prefix=$deps/libfuse pc ver tarball dir
	pc=$prefix/lib/x86_64-linux-gnu/pkgconfig/fuse3.pc
	if [ -f "$pc" ]; then
		ver=$(sed -n 's/^Version: //p' "$pc")
		version_ge "$ver" "$FUSE_MIN" && { say "libfuse $ver already built in $prefix"; return 0; }
	fi
	tarball=$(fetch_sid_source fuse3 "$FUSE_MIN")
	ver=$(tarball_version fuse3 "$tarball")
	dir=$deps/src/fuse-$ver
	rm -rf "$dir" && mkdir -p "$dir"
	tar -xf "$tarball" -C "$dir" --strip-components=1
	say "building libfuse $ver into $prefix"
	rm -rf "$prefix" # no files of an older version left beside it
	(cd "$dir" && meson setup build --prefix="$prefix" --libdir=lib/x86_64-linux-gnu \
		-Ddefault_library=both -Dexamples=true -Dutils=false -Dtests=false >"$deps/libfuse-build.log" 2>&1 &&
		ninja -C build install >>"$deps/libfuse-build.log" 2>&1) ||
		die "libfuse build failed, see $deps/libfuse-build.log"
	# without liburing/libnuma meson quietly leaves the io_uring transport out
	grep -q '^#define HAVE_URING' "$dir/build/fuse_config.h" ||
		die "libfuse $ver was built without io_uring support (liburing-dev, libnuma-dev?), see $deps/libfuse-build.log"
	# passthrough_hp (plain FUSE / passthrough baseline for bench/) is not installed by meson
	install -m 0755 "$dir/build/example/passthrough_hp" "$prefix/bin/passthrough_hp" 2>/dev/null ||
		{ mkdir -p "$prefix/bin" && install -m 0755 "$dir/build/example/passthrough_hp" "$prefix/bin/"; }
}

# libbpf >= 1.4 for the daemon, static (libbpf.a, headers, libbpf.pc in $deps/libbpf):
# bookworm's 1.1.2 finds struct_ops types only in vmlinux BTF, so it cannot load the
# fast path of a FUSE built as a module (docs/kernel-hook.md, "FUSE built as a module").
build_libbpf() {
	local prefix=$deps/libbpf pc ver tarball dir
	pc=$prefix/lib/pkgconfig/libbpf.pc
	if [ -f "$pc" ] && [ -f "$prefix/lib/libbpf.a" ]; then
		ver=$(sed -n 's/^Version: //p' "$pc")
		version_ge "$ver" "$LIBBPF_MIN" && { say "libbpf $ver already built in $prefix"; return 0; }
	fi
	tarball=$(fetch_sid_source libbpf "$LIBBPF_MIN")
	ver=$(tarball_version libbpf "$tarball")
	dir=$deps/src/libbpf-$ver
	rm -rf "$dir" && mkdir -p "$dir"
	tar -xf "$tarball" -C "$dir" --strip-components=1
	say "building libbpf $ver into $prefix"
	rm -rf "$prefix"
	make -C "$dir/src" -j"$(nproc)" BUILD_STATIC_ONLY=1 OBJDIR="$dir/build" PREFIX="$prefix" \
		LIBDIR="$prefix/lib" install >"$deps/libbpf-build.log" 2>&1 ||
		die "libbpf build failed (libelf-dev, zlib1g-dev?), see $deps/libbpf-build.log"
	[ -f "$pc" ] && [ -f "$prefix/lib/libbpf.a" ] ||
		die "libbpf $ver installed no $pc or libbpf.a, see $deps/libbpf-build.log"
}

build_bpfuse() {
	say "building bpfuse"
	cmake -S "$top" -B "$top/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$top/build/cmake.log" 2>&1 ||
		{ cat "$top/build/cmake.log" >&2; die "cmake configure failed"; }
	ninja -C "$top/build" >"$top/build/ninja.log" 2>&1 ||
		{ tail -n 60 "$top/build/ninja.log" >&2; die "build failed"; }
}

mkdir -p "$top/build"
install_packages
build_libfuse
build_libbpf
[ "${1:-}" = --deps-only ] && exit 0
build_bpfuse
say "done: $top/build/bpfuse"

# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for scripts/kernel/*.sh and tests/vm/run.sh (sourced, not run).

BPFUSE_ROOT=${BPFUSE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BPFUSE_KERNEL_OUT=${BPFUSE_KERNEL_OUT:-$BPFUSE_ROOT/build/kernel}
BPFUSE_PATCH_DIR=${BPFUSE_PATCH_DIR:-$BPFUSE_ROOT/kernel-patches/6.12}

# Debian packages the VM tier needs besides the kernel build's: booting the
# kernel (qemu, busybox initramfs, ext4 scratch disk) and building the fast-path
# BPF programs for it (tests/vm/run.sh, bench/vm_hook.sh)
VM_PKGS=(busybox-static qemu-system-x86 cpio e2fsprogs clang llvm bpftool libbpf-dev zlib1g-dev)

kmsg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
kdie() { kmsg "$*"; exit 1; }

# pkg_missing PKG...: print the packages that are not installed
pkg_missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			printf '%s\n' "$p"
	done
}

# ensure_pkgs PKG...: install missing Debian packages (apt-get update first).
# BPFUSE_NO_APT=1 turns a missing package into an error (exit 77 from callers
# that want to skip, see pkgs_or_skip).
ensure_pkgs() {
	local missing
	missing=$(pkg_missing "$@")
	[ -z "$missing" ] && return 0
	if [ "${BPFUSE_NO_APT:-0}" = 1 ] || [ "$(id -u)" != 0 ]; then
		kmsg "missing packages:" "${missing//$'\n'/ }"
		return 1
	fi
	kmsg "installing:" "${missing//$'\n'/ }"
	apt-get update -qq >&2 || return 1
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2 || return 1
}

# kernel_hash [debug|module]: identifies a kernel build; changes with any
# input of it.  "debug" (build-kernel.sh --debug) and "module" (--module) merge
# bpfuse-<variant>.config over bpfuse.config and hash it too.  Of the patches
# only what they change outside tools/ counts (kernel_patch_body): the
# selftests a patch adds do not change the kernel, so adding or editing them
# rebuilds nothing (scripts/kernel/build-selftests.sh builds them).
kernel_hash() {
	local f extra=()
	[ -n "${1:-}" ] && extra=("$BPFUSE_PATCH_DIR/bpfuse-$1.config")
	{
		echo "linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null)"
		for f in "$BPFUSE_PATCH_DIR/bpfuse.config" "${extra[@]}" \
			 "$BPFUSE_ROOT/scripts/kernel/build-kernel.sh"; do
			echo "== ${f#"$BPFUSE_ROOT"/}"
			cat "$f"
		done
		for f in $(series_patches); do
			body=$(kernel_patch_body "$f")
			[ -n "$body" ] || continue # tools only: not even its name
			echo "== ${f#"$BPFUSE_ROOT"/}"
			printf '%s\n' "$body"
		done
	} | sha256sum | cut -c1-16
}

# kernel_patch_body PATCH: the diffs of PATCH for files outside tools/, in
# order, without the commit message (empty for a tools-only patch)
kernel_patch_body() {
	awk '/^diff --git / { keep = ($3 !~ /^a\/tools\//) } keep' "$1"
}

# series_patches: the patch files listed in the series file, in order
series_patches() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] && printf '%s\n' "$BPFUSE_PATCH_DIR/$line"
	done < "$BPFUSE_PATCH_DIR/series"
}

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# vm_hook.sh - bpfuse on the patched Linux 6.12 kernel in qemu: the in-kernel
# fast path (eBPF answers LOOKUP/GETATTR/READ from maps, docs/kernel-hook.md)
# on vs off, with the guest's own file system (native) as the reference.
#
# Usage: bench/vm_hook.sh [--quick] [--reps N] [--out DIR]
#   --quick   tiny sizes, 1 repetition: one VM boot, well under a minute
#   --reps N  repetitions (full: 3, quick: 1)
#   --out DIR results directory (default: $BENCH_OUT, else
#             bench/results/<UTC date>-<commit>-vm-hook[-quick]/)
# Environment: BPFUSE (daemon, default build/bpfuse), BPFUSE_KERNEL_OUT (kernel
# cache; unset: build/kernel, then /var/cache/bpfuse/kernel are tried),
# VM_HOOK_OPTS (mount options shared by hook-on and hook-off; default below),
# VM_HOOK_TIMEOUT (seconds for the whole VM).
#
# One VM boot (qemu TCG, 1 CPU, 1 GiB; scripts/kernel/run-vm.sh) runs
# bench/vm/guest.sh: data on an ext4 scratch disk, then every workload x
# repetition x configuration (native, hook-on, hook-off; interleaved, order
# rotated per repetition), each run on a fresh mount.  TCG timings compare only
# with each other: the report gives ratios within the VM, never against the host.
#
# Output in DIR: meta.json, raw.jsonl (one line per run, with the
# `bpfuse stats --json` snapshots), results.json (medians, min/max, ratios,
# requests to userspace per opcode), report.md, console.log.  bench/run.sh runs
# this with --out RESULTS/vm-hook and bench/report.py includes the section.
#
# Exit: 0 all runs ok; 1 a run failed; 77 skipped (not root, not x86_64, a
# package, the built kernel or build/bpfuse missing: reason on stderr and in
# DIR/skipped.txt).  Needs nothing else: it never builds the kernel (~6-20 min;
# scripts/kernel/build-kernel.sh or tests/vm/run.sh do).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernel_out_given=${BPFUSE_KERNEL_OUT:-}
# shellcheck source=scripts/kernel/lib.sh
. "$here/../scripts/kernel/lib.sh"

quick=0 reps='' out=${BENCH_OUT:-}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--reps) reps=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vm-hook: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
commit=$(git -C "$BPFUSE_ROOT" rev-parse --short HEAD 2>/dev/null || echo nogit)
[ -n "$out" ] || out=$BPFUSE_ROOT/bench/results/$stamp-$commit-vm-hook$([ $quick = 1 ] && echo -quick)
log() { echo "vm-hook: $*" >&2; }
skip() {
	log "SKIP: $*"
	mkdir -p "$out" && echo "$*" >"$out/skipped.txt"
	exit 77
}

BPFUSE=${BPFUSE:-$BPFUSE_ROOT/build/bpfuse}
[ "$(uname -m)" = x86_64 ] || skip "needs an x86_64 host"
[ "$(id -u)" = 0 ] || skip "needs root (mknod for the initramfs)"
missing=$(pkg_missing "${VM_PKGS[@]}" build-essential python3 | tr '\n' ' ')
[ -z "$missing" ] || skip "missing packages: $missing(tests/vm/run.sh with BPFUSE_VM_INSTALL=1 installs them)"
[ -x "$BPFUSE" ] || skip "$BPFUSE missing (scripts/setup.sh builds it)"
# The kernel: never built here.  The test suite keeps it outside the clone
# (/var/cache/bpfuse/kernel), tried when BPFUSE_KERNEL_OUT is not set.
kdir=$("$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --print-dir 2>/dev/null) ||
	{ [ -z "$kernel_out_given" ] && kdir=$(BPFUSE_KERNEL_OUT=/var/cache/bpfuse/kernel \
		"$BPFUSE_ROOT/scripts/kernel/build-kernel.sh" --print-dir 2>/dev/null); } ||
	skip "the patched kernel is not built (scripts/kernel/build-kernel.sh, or tests/vm/run.sh, builds it in 6-20 min)"

if [ $quick = 1 ]; then
	mode=quick; : "${reps:=1}"
	STAT_DIRS=4 STAT_PER_DIR=100 SMALL_FILES=50 SMALL_BYTES=4096 REREAD_PASSES=2 BIG_MIB=4 RAND_READS=500
	disk=128 vm_timeout=${VM_HOOK_TIMEOUT:-300}
else
	mode=full; : "${reps:=3}"
	STAT_DIRS=20 STAT_PER_DIR=500 SMALL_FILES=1000 SMALL_BYTES=4096 REREAD_PASSES=3 BIG_MIB=64 RAND_READS=8000
	disk=512 vm_timeout=${VM_HOOK_TIMEOUT:-2400}
fi
# Same daemon, same options; only fastpath=on|off differs.  Kernel timeouts 0
# and no passthrough: every lookup, stat and read is a request, which the hook
# can answer in the kernel (with passthrough, READ never reaches the hook).
OPTS=${VM_HOOK_OPTS:-passthrough=off,entry_timeout=0,attr_timeout=0,negative_timeout=0}
# The data loader's loop (loop-small) with passthrough, which OPEN in the
# kernel needs (FOPEN_PASSTHROUGH to the daemon's backing file): then nothing
# of open/fstat/read/close reaches the daemon once the files are published.
LOOP_OPTS=${VM_HOOK_LOOP_OPTS:-entry_timeout=0,attr_timeout=0,negative_timeout=0}
WORKLOADS="stat-warm stat-dropped reread-small loop-small randread-4k"
CONFIGS="native hook-on hook-off"

mkdir -p "$out"
rm -f "$out/skipped.txt" "$out/raw.jsonl" "$out/results.json" "$out/report.md"
build=$BPFUSE_ROOT/build/vm-hook
mkdir -p "$build"
work=$(mktemp -d /var/tmp/bpfuse-vm-hook.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# tsc=reliable (kernel command line below): under TCG on a busy host the
# timer ticks come late, the clocksource watchdog then takes the TSC for the
# skewed one and falls back to jiffies, and every timing becomes a multiple of
# 4 ms.  The TSC of a TCG guest follows the host's clock.
# The BPF object must match the kernel's BTF; vmbench is static (no libc in
# the guest beyond what run-vm.sh copies for --bin executables).
"$BPFUSE_ROOT/scripts/kernel/build-fastpath.sh" "$kdir" "$build/fastpath" 2>"$work/build.log" ||
	{ cat "$work/build.log" >&2; log "building the fast-path programs failed"; exit 1; }
gcc -O2 -Wall -Werror -static -o "$build/vmbench" "$here/vm/vmbench.c" ||
	{ log "building vmbench failed"; exit 1; }
# One binary for the whole run, as bench/run.sh does
cp "$BPFUSE" "$work/bpfuse" && "$work/bpfuse" --version >/dev/null ||
	{ log "cannot copy a working $BPFUSE (being rebuilt?)"; exit 1; }

cat >"$work/vmhook.env" <<EOF
REPS=$reps
STAT_DIRS=$STAT_DIRS
STAT_PER_DIR=$STAT_PER_DIR
SMALL_FILES=$SMALL_FILES
SMALL_BYTES=$SMALL_BYTES
REREAD_PASSES=$REREAD_PASSES
BIG_MIB=$BIG_MIB
RAND_READS=$RAND_READS
OPTS='$OPTS'
LOOP_OPTS='$LOOP_OPTS'
WORKLOADS='$WORKLOADS'
CONFIGS='$CONFIGS'
EOF

python3 - "$out/meta.json" <<EOF || { log "cannot write meta.json"; exit 1; }
import json, sys
json.dump({
 "mode": "$mode", "reps": $reps, "date_utc": "$stamp", "commit": "$commit",
 "commit_dirty": $(git -C "$BPFUSE_ROOT" diff --quiet HEAD 2>/dev/null && echo False || echo True),
 "kernel_dir": "$kdir", "kernel_hash": "${kdir##*/}",
 "vm": "qemu-system-x86_64 -accel tcg, 1 vCPU, 1 GiB; $(qemu-system-x86_64 --version | head -n 1)",
 "host": {"kernel": "$(uname -r)", "cpus": $(nproc), "loadavg_start": "$(cut -d' ' -f1-3 /proc/loadavg)"},
 "bpfuse": "$("$work/bpfuse" --version 2>&1 | head -n 1)",
 "bpfuse_sha256": "$(sha256sum "$work/bpfuse" | cut -c1-64)",
 "options": "$OPTS", "loop_options": "$LOOP_OPTS", "configs": {
  "native": "the guest's ext4 scratch disk (virtio-blk), the source directory itself",
  "hook-on": "bpfuse -o $OPTS,fastpath=on",
  "hook-off": "bpfuse -o $OPTS,fastpath=off"},
 "workloads": {
  "stat-warm": "stat(2) of $((STAT_DIRS * STAT_PER_DIR)) empty files in $STAT_DIRS directories; every file stat'ed once first",
  "stat-dropped": "the same after stat'ing once and echo 2 > drop_caches (dentries and inodes)",
  "reread-small": "$REREAD_PASSES passes (more until 0.1 s has passed) of open+read+close over $SMALL_FILES files of $SMALL_BYTES bytes, read once first",
  "loop-small": "a data loader's loop: $REREAD_PASSES passes (more until 0.1 s has passed) of open+fstat+read+close, each checked, over the same $SMALL_FILES files, with passthrough ($LOOP_OPTS), after one warm-up pass",
  "randread-4k": "$RAND_READS 4 KiB preads (as many more until 0.1 s has passed) at random offsets (same sequence everywhere) of a $BIG_MIB MiB file read once first; FUSE: POSIX_FADV_DONTNEED on the FUSE file at open (the source's pages stay cached); native: warm"},
 "sizes": {"stat_files": $((STAT_DIRS * STAT_PER_DIR)), "stat_dirs": $STAT_DIRS, "small_files": $SMALL_FILES,
  "small_bytes": $SMALL_BYTES, "reread_passes": $REREAD_PASSES, "big_mib": $BIG_MIB, "rand_reads": $RAND_READS,
  "disk_mib": $disk}
}, open(sys.argv[1], "w"), indent=1)
EOF

log "$mode run, $reps repetition(s), kernel ${kdir##*/}, results in $out"
t0=$(date +%s)
"$BPFUSE_ROOT/scripts/kernel/run-vm.sh" --kernel "$kdir" \
	--bin "$work/bpfuse" --bin "$build/vmbench" \
	--file "$build/fastpath/fastpath.bpf.o:/lib/bpfuse/fastpath.bpf.o" \
	--file "$work/vmhook.env:/vmhook.env" \
	--disk "$disk" --timeout "$vm_timeout" --workdir "$work/vm" --append tsc=reliable \
	--log "$out/console.log" "$here/vm/guest.sh" |
	grep -a --line-buffered -E '^(vm-hook|init):' >&2
status=${PIPESTATUS[0]}
log "VM done in $(($(date +%s) - t0)) s (guest status $status)"

# The guest unmounted /cache cleanly, so debugfs reads the results as written
if ! debugfs -R "dump /results/raw.jsonl $out/raw.jsonl" "$work/vm/disk.img" >/dev/null 2>&1 ||
	[ ! -s "$out/raw.jsonl" ]; then
	log "no results on the VM disk (status $status); console: $out/console.log"
	exit 1
fi
# The guest's clock as it reported it ("clock SOURCE, step S s")
python3 - "$out/meta.json" "$out/console.log" <<'EOF' || { log "cannot update meta.json"; exit 1; }
import json, re, sys
meta = json.load(open(sys.argv[1]))
m = re.findall(r"clock (\S+), step ([0-9.]+) s", open(sys.argv[2], errors="replace").read())
if m:
    meta["guest_clock"] = {"source": m[-1][0], "step_s": float(m[-1][1])}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
EOF
python3 "$here/vm/vm_report.py" "$out" || { log "report failed"; exit 1; }
[ "$status" = 0 ]

#!/usr/bin/env bash
# passthrough_randread.sh - 4K random reads of cached data, side by side in one run:
#   native ext4 | bpfuse passthrough=on | bpfuse passthrough=off | libfuse passthrough_hp --nopassthrough
# Two cache states, both with the file's bytes in the host page cache (ext4), which native
# ext4 reads from in both (its invalidate is always 0):
#   host-warm : the FUSE mount's own page cache is cold (fio's default invalidate=1: every
#               open drops it). This is what a reader that opens a file sees, e.g. a data
#               loader reading each sample once per epoch.
#   all-warm  : the FUSE page cache was filled through the mount first and is kept
#               (invalidate=0), so plain FUSE also answers from the kernel.
# Output: bench/results/<date>-<commit>-passthrough/{results.json,report.md}
# Usage: bench/passthrough_randread.sh [--quick]   (as root; needs fio and a built bpfuse)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BPFUSE=${BPFUSE:-$top/build/bpfuse}
PLAIN=${PLAIN_FUSE:-$top/build/deps/libfuse/bin/passthrough_hp}
quick=0; [ "${1:-}" = --quick ] && quick=1
if [ $quick = 1 ]; then SIZE=64M; RUNTIME=1; REPS=1; else SIZE=1G; RUNTIME=10; REPS=3; fi
command -v fio >/dev/null || { echo "bench: fio missing (scripts/setup.sh installs it)" >&2; exit 1; }
[ -x "$BPFUSE" ] || { echo "bench: $BPFUSE missing: run scripts/setup.sh" >&2; exit 1; }

stamp=$(date -u +%Y%m%d-%H%M%S); commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo nogit)
out=${BENCH_OUT:-$top/bench/results/$stamp-$commit-passthrough}
mkdir -p "$out"
work=$(mktemp -d /var/tmp/bpfuse-bench.XXXXXX)
mnt=$work/mnt; src=$work/src; mkdir -p "$mnt" "$src"
plain_pid=
cleanup() {
	mountpoint -q "$mnt" && { "$BPFUSE" umount "$mnt" 2>/dev/null || umount -l "$mnt"; }
	[ -n "$plain_pid" ] && kill "$plain_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

fio --name=layout --filename="$src/data" --size=$SIZE --rw=write --bs=1M --output=/dev/null
cat "$src/data" >/dev/null   # the host page cache holds the file from here on

wait_mount() { for _ in $(seq 100); do grep -q " $mnt fuse" /proc/mounts && return 0; sleep 0.1; done; return 1; }
mount_cfg() {
	case $1 in
	native) ;;
	bpfuse-pt) "$BPFUSE" mount "$src" "$mnt" -o passthrough=on 2>/dev/null ;;
	bpfuse-nopt) "$BPFUSE" mount "$src" "$mnt" -o passthrough=off 2>/dev/null ;;
	plain-fuse) LD_LIBRARY_PATH=$top/build/deps/libfuse/lib/x86_64-linux-gnu \
		"$PLAIN" --nopassthrough "$src" "$mnt" >/dev/null 2>&1 & plain_pid=$!; wait_mount ;;
	esac
}
umount_cfg() {
	case $1 in
	native) ;;
	plain-fuse) umount "$mnt"; wait "$plain_pid" 2>/dev/null || true; plain_pid= ;;
	*) "$BPFUSE" umount "$mnt" ;;
	esac
}
path_of() { [ "$1" = native ] && echo "$src/data" || echo "$mnt/data"; }

configs=(native bpfuse-pt bpfuse-nopt)
if [ -x "$PLAIN" ]; then configs+=(plain-fuse); else echo "bench: $PLAIN missing, plain-fuse skipped" >&2; fi
echo '[' >"$out/raw.jsonl.tmp"
: >"$out/raw.jsonl"
for state in host-warm all-warm; do
	for rep in $(seq $REPS); do
		for cfg in "${configs[@]}"; do
			# native ext4's cache *is* the host page cache: never drop it
			inval=1; [ $state = all-warm ] || [ $cfg = native ] && inval=0
			mount_cfg $cfg
			f=$(path_of $cfg)
			[ $state = all-warm ] && cat "$f" >/dev/null
			iops=$(fio --name=randread --filename="$f" --size=$SIZE --rw=randread --bs=4k \
				--ioengine=psync --invalidate=$inval --runtime=$RUNTIME --time_based \
				--output-format=json | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["read"]["iops"])')
			umount_cfg $cfg
			printf '{"state":"%s","config":"%s","rep":%d,"iops":%s}\n' $state $cfg $rep "$iops" >>"$out/raw.jsonl"
			printf 'bench: %-9s %-12s rep %d: %10.0f IOPS\n' $state $cfg $rep "$iops"
		done
	done
done
rm -f "$out/raw.jsonl.tmp"

python3 - "$out" "$SIZE" "$RUNTIME" "$REPS" "$commit" <<'PY'
import json, os, platform, statistics, subprocess, sys
out, size, runtime, reps, commit = sys.argv[1:]
rows = [json.loads(l) for l in open(os.path.join(out, "raw.jsonl"))]
res = {}
for r in rows:
    res.setdefault(r["state"], {}).setdefault(r["config"], []).append(r["iops"])
summary = {s: {c: {"median": statistics.median(v), "min": min(v), "max": max(v)} for c, v in d.items()} for s, d in res.items()}
meta = {"commit": commit, "kernel": platform.release(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "file_size": size, "runtime_s": int(runtime), "reps": int(reps),
        "fio": subprocess.run(["fio", "--version"], capture_output=True, text=True).stdout.strip(),
        "workload": "fio randread bs=4k ioengine=psync iodepth=1 numjobs=1"}
json.dump({"meta": meta, "summary": summary, "raw": rows}, open(os.path.join(out, "results.json"), "w"), indent=1)
L = ["# 4K random read of cached data: passthrough on vs off", "",
     f"commit {commit}, kernel {meta['kernel']}, {meta['cpus']} CPUs, {meta['fio']}, file {size}, "
     f"{runtime}s per run, median of {reps} (min-max)", "",
     "| cache state | config | IOPS median (min-max) | x native | x passthrough=off |", "|---|---|---|---|---|"]
for s, d in summary.items():
    nat = d["native"]["median"]; off = d["bpfuse-nopt"]["median"]
    for c, v in d.items():
        L.append(f"| {s} | {c} | {v['median']:.0f} ({v['min']:.0f}-{v['max']:.0f}) | {v['median']/nat:.2f} | {v['median']/off:.1f} |")
L += ["", "host-warm: file in the host page cache, FUSE page cache dropped at open (fio default).",
      "all-warm: FUSE page cache also filled through the mount and kept (invalidate=0)."]
open(os.path.join(out, "report.md"), "w").write("\n".join(L) + "\n")
print("\n".join(L))
pt = summary["host-warm"]["bpfuse-pt"]["median"] / summary["host-warm"]["bpfuse-nopt"]["median"]
print(f"\nbench: passthrough on/off ratio (host-warm) = {pt:.1f}x; results in {out}")
PY

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# run.sh - the bpfuse benchmark suite: every workload on every configuration,
# side by side in one run (configurations interleaved per repetition, their
# order rotated each repetition), then a Markdown report with plots.
#
# Usage: bench/run.sh [--quick] [--reps N] [--configs a,b,...] [--workloads REGEX]
#   --quick        small sizes, 1 repetition, under ~3 minutes: a smoke test
#                  that exits non-zero if any workload fails (never for slowness)
#   --reps N       repetitions per workload and configuration (full: 3, quick: 1)
#   --configs      subset of: native plain-fuse plain-fuse-pt bpfuse-off
#                  bpfuse-default bpfuse-on bpfuse-dataset bpfuse-dataset-ro bpfuse-uring
#                  bpfuse-dataset-uring bpfuse-dataset-uring-ro
#                  s3-cold s3-warm (bpfuse s3:// on a loopback radosgw, started
#                  once for the run; skipped with a note without the ceph packages)
#                  s3fs-cold s3fs-warm rclone-cold rclone-warm (the same bucket
#                  through s3fs and rclone mount; skipped with a note without them)
#                  vm-hook (bench/vm_hook.sh: the patched kernel in qemu, fast
#                  path on vs off, VM-only ratios; runs after the others into
#                  RESULTS/vm-hook; skipped with a note without kernel or qemu)
#   --workloads    only workloads whose id matches REGEX (grep -E)
#   --datasets-only  make (or check) the datasets, run nothing
#   --plan         print which workload runs on which configuration (or why
#                  not), make and run nothing
# Environment: BENCH_OUT (results dir), BENCH_DATA (datasets, default
# /var/tmp/bpfuse-bench-data), BENCH_JPEG_CACHE (the JPEG set, made once per
# machine, default /var/cache/bpfuse/bench-data), BENCH_JPEG_IMAGES (full
# mode's JPEG count, default 20000), BPFUSE, PLAIN_FUSE (see
# lib/common.sh), S3TOOL, BENCH_URING_OPTS (bpfuse-uring's -o, default
# io_uring=on), MEMSTORE_BYTES (radosgw's in-RAM store; default 2 x the fio
# file + 128 KiB per JPEG + 2 GiB).
#
# Output: bench/results/<UTC date>-<commit>[-quick]/
#   meta.json     machine, kernel, CPUs, commit, sizes, configurations and options
#   raw.jsonl     one record per run: metrics, status, per-opcode requests to userspace
#   results.json  medians, min, max and ratios; report.md; plots/*.png
# Needs root, fio, python3, a built bpfuse; see bench/packages.txt. docs/benchmarks.md
# explains the workloads and how to read the report.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.sh"
. "$here/lib/configs.sh"
. "$here/lib/datasets.sh"
. "$here/lib/s3.sh"

quick=0 reps='' only_configs='' only_workloads='' datasets_only=0 plan_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--reps) reps=$2; shift ;;
	--configs) only_configs=$2; shift ;;
	--workloads) only_workloads=$2; shift ;;
	--datasets-only) datasets_only=1 ;;
	--plan) plan_only=1 ;;
	-h | --help) sed -n '3,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) bench_die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

[ "$(id -u)" = 0 ] || bench_die "run as root (mounts, drop_caches)"
command -v fio >/dev/null || bench_die "fio missing (apt-get install fio; see bench/packages.txt)"
command -v python3 >/dev/null || bench_die "python3 missing"
[ -x "$BPFUSE" ] || bench_die "$BPFUSE missing: build first (scripts/setup.sh)"

if [ $quick = 1 ]; then
	mode=quick
	: "${reps:=1}"
	export FIO_SIZE=64M FIO_RUNTIME=1 STAT_FILES=2000 LS_FILES=1000 CREATE_FILES=1000
	export IMAGES=600 IMAGE_CLASSES=4 DL_WORKERS=2 DL_BATCH=32 UNTAR_SOURCE=small
	export JPEG_IMAGES=300 JPEG_CLASSES=100 JPEG_WORKERS=2 JPEG_BATCH=32 READLOOP_FILES=300
	run_timeout=120
	export CFG_UMOUNT_NOWAIT=1
else
	mode=full
	: "${reps:=3}"
	export FIO_SIZE=1G FIO_RUNTIME=5 STAT_FILES=20000 LS_FILES=10000 CREATE_FILES=10000
	export IMAGES=10000 IMAGE_CLASSES=10 DL_WORKERS=4 DL_BATCH=64 UNTAR_SOURCE=linux
	export JPEG_IMAGES=${BENCH_JPEG_IMAGES:-20000} JPEG_CLASSES=100 JPEG_WORKERS=4 JPEG_BATCH=64
	# the read loop reads the set's first 15,000 files: with its directories that fits
	# passthrough_hp (a descriptor per inode) in a 20,000 RLIMIT_NOFILE
	export READLOOP_FILES=$((JPEG_IMAGES < 15000 ? JPEG_IMAGES : 15000))
	run_timeout=900
fi
export DATA_DIR=$BENCH_DATA/$mode
src=$DATA_DIR/src

# The workloads: q = also in quick mode | id | command (phases appended) |
# drop_caches level before the run phase (0 = none) | the cache state, as the
# report states it. Quick mode keeps one variant of each kind, to stay under two
# minutes (and see quick_plan below).
WORKLOADS=(
	"q|randread-4k-qd1-1job-cold|fio.sh randread1 cold|3|cold: echo 3 > drop_caches, fio invalidate=1"
	"-|randread-4k-qd1-1job-warm|fio.sh randread1 warm|0|warm: file read once through the mount first"
	"-|randread-4k-qd1-4jobs-cold|fio.sh randread4 cold|3|cold: echo 3 > drop_caches, fio invalidate=1"
	"q|randread-4k-qd1-4jobs-warm|fio.sh randread4 warm|0|warm: file read once through the mount first"
	"q|seqread-128k-cold|fio.sh seqread cold|3|cold: echo 3 > drop_caches; one pass over the file"
	"-|seqread-128k-warm|fio.sh seqread warm|0|warm: file read once through the mount first"
	"q|randwrite-4k-qd1|fio.sh randwrite warm|0|warm: file laid out and read once first; buffered, end_fsync"
	"-|stat-warm|meta.sh stat-warm|0|warm: every file stat'ed once first"
	"q|stat-dropped|meta.sh stat-dropped|2|after echo 2 > drop_caches (dentries+inodes)"
	"-|ls-l-warm|meta.sh ls-warm|0|warm: directory listed once first"
	"q|ls-l-cold|meta.sh ls-cold|3|cold: echo 3 > drop_caches"
	"q|create|meta.sh create|0|new empty directory"
	"q|delete|meta.sh delete|0|files just created through the mount"
	"q|untar|untar.sh|0|tarball (outside the mount) in page cache; empty target"
	"-|dataloader-cold|dataloader.sh png cold|0|cold: echo 3 > drop_caches after importing torch"
	"q|dataloader-warm|dataloader.sh png warm|0|warm: every image read once through the mount first"
	"-|jpeg-dataloader-cold|dataloader.sh jpeg cold|0|cold: echo 3 > drop_caches after importing torch"
	"q|jpeg-dataloader-warm|dataloader.sh jpeg warm|0|warm: every image read once through the mount first"
	"q|readloop-cold|readloop.sh cold|0|cold: echo 3 > drop_caches after listing the files"
	"q|readloop-warm|readloop.sh warm|0|warm: every file read once through the mount first (the loop is a second epoch)"
	"-|readloop-steady|readloop.sh steady|0|steady: every file read once, then the loop run once, through the mount first (a third epoch)"
)

# quick_plan ID CFG: "run", or "skip REASON". Quick mode is a smoke test with a
# three-minute budget: every workload runs on native, plain-fuse, bpfuse-on and
# s3-warm; the variants bpfuse-off, bpfuse-dataset and s3-cold (other options
# or cache states of the same code) run the cold reads, the metadata ones and
# the read loop (bpfuse-dataset the JPEG DataLoader too); the other
# configurations (plain-fuse-pt, bpfuse-default, bpfuse-uring, s3fs, rclone)
# the read loop only (each DataLoader run costs seconds of importing torch).
quick_plan() {
	[ $quick = 1 ] || { echo run; return; }
	case $2:$1 in
	*:readloop-*) echo run ;;
	bpfuse-dataset:jpeg-dataloader-*) echo run ;;
	bpfuse-off:* | bpfuse-dataset:* | s3-cold:*)
		case $1 in
		randread-4k-qd1-1job-cold | seqread-128k-cold | stat-dropped | ls-l-cold) echo run ;;
		*) echo "skip quick mode runs this configuration on the cold reads, the metadata workloads and the read loop only (the full mode runs everything)" ;;
		esac
		;;
	native:* | plain-fuse:* | bpfuse-on:* | s3-warm:*) echo run ;;
	*) echo "skip quick mode runs this configuration on the read loop only (the full mode runs everything)" ;;
	esac
}

# tree_inodes ID: how many inodes the workload's tree has (0: small or none);
# passthrough_hp keeps an O_PATH descriptor open for each one it has looked up
tree_inodes() {
	case $1 in
	jpeg-*) echo $((JPEG_IMAGES + JPEG_CLASSES + 2)) ;;
	readloop-*) echo $((READLOOP_FILES + JPEG_CLASSES + 2)) ;;
	stat-*) echo $((STAT_FILES + STAT_FILES / 1000 + 2)) ;;
	untar) cat "$DATA_DIR/untar.entries" 2>/dev/null || echo 0 ;;
	*) echo 0 ;;
	esac
}

# fd_plan ID CFG: passthrough_hp on a tree with more inodes than it may hold
# descriptors fails with EMFILE partway (seen on the 20,000-file stat tree and
# the Linux untar): a limit of the baseline on this machine, said as a skip
fd_plan() {
	local need
	case $2 in plain-fuse*) ;; *) echo run; return ;; esac
	need=$(tree_inodes "$1")
	if [ "$need" -gt 0 ] && [ $((need + 64)) -gt "$fd_limit" ]; then
		echo "skip passthrough_hp keeps one O_PATH descriptor per inode: this tree has $need, its RLIMIT_NOFILE is $fd_limit ($fd_why)"
	else
		echo run
	fi
}

# ro_plan ID CFG: a read-only configuration runs the workloads that write
# nothing through the mount
ro_plan() {
	case $2:$1 in
	*-ro:dataloader-* | *-ro:jpeg-dataloader-* | *-ro:readloop-* | *-ro:stat-*) echo run ;;
	*-ro:*) echo "skip a read-only mount: this configuration runs the read loop, the DataLoaders and the stat storms only" ;;
	*) echo run ;;
	esac
}

# run_plan ID CFG: the pair's plan: the read-only one, quick mode's, then, on
# S3, s3_plan's, then the descriptor limit of passthrough_hp
run_plan() {
	local plan
	plan=$(ro_plan "$1" "$2")
	[ "$plan" = run ] && plan=$(quick_plan "$1" "$2")
	[ "$plan" = run ] && cfg_uses_s3 "$2" && plan=$(s3_plan "$1" "$2")
	[ "$plan" = run ] && plan=$(fd_plan "$1" "$2")
	echo "$plan"
}
fd_limit=$(cfg_fd_limit)
# why the limit is not higher, from the kernel: CAP_SYS_RESOURCE (bit 24) is
# what lets root raise a hard limit
if [ $(((0x$(awk '/^CapEff/ { print $2 }' /proc/self/status) >> 24) & 1)) = 0 ]; then
	fd_why="the hard limit; root here lacks CAP_SYS_RESOURCE, so it cannot be raised"
else
	fd_why="the hard limit, at most fs.nr_open $(cat /proc/sys/fs/nr_open)"
fi

# configurations: the ones this machine can run; a line "-NAME REASON" from
# cfg_available is one it cannot, a note in the log and the report
configs=() config_notes=()
while read -r c why; do
	if [ "${c#-}" != "$c" ]; then
		c=${c#-}
		[ -n "$only_configs" ] && [[ ",$only_configs," != *",$c,"* ]] && continue
		case $c in s3-*) continue ;; esac # s3_note says it
		config_notes+=("$c skipped: $why")
		bench_log "$c skipped: $why"
	else
		configs+=("$c")
	fi
done < <(cfg_available)
if [ -n "$only_configs" ]; then
	IFS=, read -ra want <<<"$only_configs"
	sel=()
	for c in "${configs[@]}"; do
		for w in "${want[@]}"; do [ "$c" = "$w" ] && sel+=("$c"); done
	done
	configs=("${sel[@]}")
fi
# vm-hook is no host configuration: bench/vm_hook.sh boots the patched kernel
# after the host runs (quick: tiny sizes, 1 repetition, one ~20 s boot)
vm_hook=0
[ -z "$only_configs" ] || [[ ",$only_configs," == *,vm-hook,* ]] && vm_hook=1
run_vm_hook() { # [OUT]: exit 77 (no kernel, qemu or packages) is a note, not a failure
	"$here/vm_hook.sh" $([ $quick = 1 ] && echo --quick) --reps "$reps" ${1:+--out "$1"}
	local rc=$?
	[ $rc = 77 ] && bench_log "vm-hook skipped (see above); not a failure"
	[ $rc = 0 ] || [ $rc = 77 ]
}
if [ ${#configs[@]} = 0 ] && [ $vm_hook = 1 ]; then run_vm_hook; exit; fi
[ ${#configs[@]} -gt 0 ] || bench_die "no configuration selected"
s3_note=
if [ -n "$(s3_missing)" ] && { [ -z "$only_configs" ] || grep -q 's3-' <<<"$only_configs"; }; then
	s3_note="s3-cold, s3-warm skipped: no ceph (missing: $(s3_missing); apt-get install --no-install-recommends radosgw ceph-mon ceph-osd curl, see scripts/packages-s3.txt)"
fi

if [ $plan_only = 1 ]; then
	for w in "${WORKLOADS[@]}"; do
		IFS='|' read -r q id cmd drop desc <<<"$w"
		[ $quick = 1 ] && [ "$q" != q ] && continue
		if [ -n "$only_workloads" ] && ! grep -qE "$only_workloads" <<<"$id"; then continue; fi
		for c in "${configs[@]}"; do printf '%-28s %-15s %s\n' "$id" "$c" "$(run_plan "$id" "$c")"; done
	done
	exit 0
fi

mkdir -p "$DATA_DIR"
exec 9>"$DATA_DIR/.lock"
flock -n 9 || { bench_log "another run uses $DATA_DIR, waiting"; flock 9; }

# ----------------------------------------------------------------- datasets
bench_log "$mode run, ${#configs[@]} configurations (${configs[*]}), $reps repetition(s); data in $DATA_DIR"
mkdir -p "$src/scratch"
rm -rf "${src:?}/scratch/"*
ds_fio || bench_die "cannot make the fio files"
ds_stat || bench_die "cannot make the stat tree"
ds_ls || bench_die "cannot make the ls directory"
ds_images || bench_log "no image dataset: the dataloader workloads will be skipped"
ds_jpeg || bench_log "no JPEG dataset: the JPEG DataLoader and read-loop workloads will be skipped"
ds_untar; rc=$?
if [ $rc = 77 ]; then echo "linux-source tarball absent" >"$DATA_DIR/untar.skip"
elif [ $rc != 0 ]; then bench_die "cannot make the untar tarball"; fi
if [ $datasets_only = 1 ]; then
	bench_log "datasets ready in $DATA_DIR"
	exit 0
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo nogit)
suffix=; [ $quick = 1 ] && suffix=-quick
out=${BENCH_OUT:-$BENCH_DIR/results/$stamp-$commit$suffix}
mkdir -p "$out/runs"
: >"$out/raw.jsonl"
work=$(mktemp -d /var/tmp/bpfuse-bench-run.XXXXXX)
mnt=$work/mnt
mkdir "$mnt"
export CFG_LOG=$out/mounts.log

cleanup() {
	cfg_cleanup
	s3_suite_stop
	# rmdir, never rm -r: a mount that survived would expose the source
	rmdir "$mnt" 2>/dev/null || true
	if grep -q " $mnt " /proc/mounts; then bench_log "warning: $mnt still mounted"; fi
	rm -f "$work/bpfuse"
	rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One binary for the whole run: build/bpfuse may be rebuilt while we run
bpfuse_built=$(date -u -r "$BPFUSE" +%Y-%m-%dT%H:%M:%SZ)
cp "$BPFUSE" "$work/bpfuse" && "$work/bpfuse" --version >/dev/null ||
	bench_die "cannot copy a working $BPFUSE (being rebuilt?)"
BPFUSE=$work/bpfuse

# ----------------------------------------------------------------- S3 server
# Started once, only when an S3 configuration is selected; the selected
# workloads' data is uploaded to s3://bench under the same names as in src/
s3_configs=() s3_upload_s=0 s3_objects=0
for c in "${configs[@]}"; do cfg_uses_s3 "$c" && s3_configs+=("$c"); done
if [ ${#s3_configs[@]} -gt 0 ]; then
	t0=$(date +%s)
	s3_suite_start "$work" "${MEMSTORE_BYTES:-$((2 * $(numfmt --from=iec "$FIO_SIZE") + JPEG_IMAGES * (128 << 10) + (2 << 30)))}"; rc=$?
	if [ $rc = 0 ]; then
		s3_paths=()
		for w in "${WORKLOADS[@]}"; do
			IFS='|' read -r q id cmd drop desc <<<"$w"
			[ $quick = 1 ] && [ "$q" != q ] && continue
			if [ -n "$only_workloads" ] && ! grep -qE "$only_workloads" <<<"$id"; then continue; fi
			for p in $(s3_needs "$id"); do
				[ -e "$src/$p" ] && [[ " ${s3_paths[*]} " != *" $p "* ]] && s3_paths+=("$p")
			done
		done
		bench_log "s3: radosgw at $S3_ENDPOINT; uploading ${s3_paths[*]:-nothing}"
		s3_objects=$(s3_upload "$src" "${s3_paths[@]}") || rc=1
		s3_upload_s=$(($(date +%s) - t0))
		bench_log "s3: server started and ${s3_objects:-0} small objects (+ the large files) uploaded in ${s3_upload_s} s"
	fi
	if [ $rc != 0 ]; then
		if [ $rc = 77 ]; then
			s3_note="${s3_configs[*]} skipped: no ceph (s3-server.sh: $(tail -1 "$work/s3-server.log"))"
		else
			s3_note="${s3_configs[*]} FAILED: the S3 server did not start or the upload failed (see the log above)"
			failures_s3=1
		fi
		bench_log "$s3_note"
		sel=()
		for c in "${configs[@]}"; do cfg_uses_s3 "$c" || sel+=("$c"); done
		configs=("${sel[@]}") s3_configs=()
		[ ${#configs[@]} -gt 0 ] || { [ "$rc" = 77 ] && exit 0; exit 1; }
	fi
fi

# ----------------------------------------------------------------- metadata
{
	echo "{"
	echo "\"mode\": \"$mode\", \"reps\": $reps, \"date_utc\": \"$stamp\","
	echo "\"commit\": \"$commit\", \"commit_dirty\": $(git -C "$REPO_ROOT" diff --quiet HEAD 2>/dev/null && echo false || echo true),"
	echo "\"configs\": {"
	n=0
	for c in "${configs[@]}"; do
		[ $n -gt 0 ] && echo ","
		printf '"%s": %s' "$c" "$(cfg_describe "$c")"
		n=$((n + 1))
	done
	echo "},"
	echo "\"workloads\": {"
	n=0
	for w in "${WORKLOADS[@]}"; do
		IFS='|' read -r q id cmd drop desc <<<"$w"
		[ $quick = 1 ] && [ "$q" != q ] && continue
		[ $n -gt 0 ] && echo ","
		printf '"%s": {"command": "%s", "drop_caches": %s, "cache": "%s"}' "$id" "$cmd" "$drop" "$desc"
		n=$((n + 1))
	done
	echo "},"
	echo "\"sizes\": {\"fio_file\": \"$FIO_SIZE\", \"fio_runtime_s\": $FIO_RUNTIME, \"stat_files\": $STAT_FILES,"
	echo "  \"ls_entries\": $LS_FILES, \"create_delete_files\": $CREATE_FILES, \"images\": $IMAGES,"
	echo "  \"image_classes\": $IMAGE_CLASSES, \"dataloader_workers\": $DL_WORKERS, \"dataloader_batch\": $DL_BATCH,"
	echo "  \"untar\": \"$(cat "$DATA_DIR/untar.name" 2>/dev/null || echo none)\","
	echo "  \"jpeg_images\": $JPEG_IMAGES, \"jpeg_classes\": $JPEG_CLASSES, \"jpeg_workers\": $JPEG_WORKERS, \"jpeg_batch\": $JPEG_BATCH,"
	echo "  \"jpeg_set\": \"$(cat "$DATA_DIR/jpeg.info" 2>/dev/null || echo none)\", \"passthrough_hp_fd_limit\": $fd_limit},"
	echo "\"config_notes\": ["
	n=0
	for c in "${config_notes[@]}"; do
		[ $n -gt 0 ] && echo ","
		printf '"%s"' "${c//\"/\'}"
		n=$((n + 1))
	done
	echo "],"
	echo "\"data_dir\": \"$DATA_DIR\","
	echo "\"s3_note\": \"${s3_note//\"/\'}\","
	echo "\"s3\": {"
	if [ ${#s3_configs[@]} -gt 0 ]; then
		echo "\"server\": \"$(s3_server_version) radosgw on 127.0.0.1 (scripts/s3-server.sh: one mon, one memstore OSD, objects in RAM)\","
		echo "\"memstore_bytes\": $MEMSTORE_BYTES, \"setup_s\": $s3_upload_s, \"small_objects_uploaded\": ${s3_objects:-0},"
		echo "\"states\": {"
		n=0
		for w in "${WORKLOADS[@]}"; do
			IFS='|' read -r q id cmd drop desc <<<"$w"
			[ $quick = 1 ] && [ "$q" != q ] && continue
			[ $n -gt 0 ] && echo ","
			printf '"%s": {' "$id"
			m=0
			for c in "${s3_configs[@]}"; do
				[ $m -gt 0 ] && printf ', '
				plan=$(run_plan "$id" "$c")
				if [ "$plan" = run ]; then st=$(s3_state "$id" "$c" "$desc"); else st="skipped: ${plan#skip }"; fi
				printf '"%s": "%s"' "$c" "$st"
				m=$((m + 1))
			done
			printf '}'
			n=$((n + 1))
		done
		echo "}"
	fi
	echo "}"
	echo "}"
} >"$out/meta.partial.json"
python3 - "$out/meta.partial.json" "$out/meta.json" "$BPFUSE" "$src" "$bpfuse_built" <<'PY' || bench_die "cannot write meta.json"
import json, os, platform, subprocess, sys
meta = json.load(open(sys.argv[1]))
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        return ""
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
try:
    import torch, torchvision
    torch_v = "%s / torchvision %s" % (torch.__version__, torchvision.__version__)
except Exception:
    torch_v = "not installed"
os_name = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release")
                if l.startswith("PRETTY_NAME=")), "")
meta["machine"] = {"hostname": platform.node(), "os": os_name, "arch": platform.machine(),
                   "kernel": platform.release(), "kernel_version": platform.version(),
                   "cpu_model": cpu, "cpus": os.cpu_count(), "mem_mib": mem,
                   "loadavg_start": open("/proc/loadavg").read().split()[:3],
                   "data_fs": sh("findmnt", "-no", "FSTYPE,SOURCE", "-T", sys.argv[4])}
meta["tools"] = {"fio": sh("fio", "--version"), "python": platform.python_version(),
                 "torch": torch_v, "bpfuse": sh(sys.argv[3], "--version"),
                 "bpfuse_sha256": sh("sha256sum", sys.argv[3]).split(" ")[0],
                 "bpfuse_built": sys.argv[5], "tar": sh("tar", "--version").split("\n")[0]}
meta["tools"]["s3fs"] = sh("sh", "-c", "s3fs --version 2>/dev/null | head -1")
meta["tools"]["rclone"] = sh("sh", "-c", "rclone version 2>/dev/null | head -1")
meta["not_measured"] = ["patched-kernel VM (issue #4)"] + meta.get("config_notes", [])
if meta.get("s3_note"):
    meta["not_measured"].insert(0, "S3 backend: " + meta["s3_note"])
json.dump(meta, open(sys.argv[2], "w"), indent=1)
PY
rm -f "$out/meta.partial.json"

# ----------------------------------------------------------------- the runs
failures=0
run_one() { # id cmd drop cfg rep
	local id=$1 cmd=$2 drop=$3 cfg=$4 rep=$5 root rc t0 t1 status=ok note=
	local base=$out/runs/$id.$cfg.$rep noread=0 plan
	rm -f "$base".*
	plan=$(run_plan "$id" "$cfg")
	if [ "$plan" != run ]; then
		[ "$rep" = 1 ] && bench_log "$(printf '%-28s %-14s skipped: %s' "$id" "$cfg" "${plan#skip }")" &&
			python3 "$here/lib/record.py" "$out/raw.jsonl" workload="$id" config="$cfg" \
			rep=1 status=skipped note="${plan#skip }" >/dev/null
		return 0
	fi
	# s3-cold, s3fs-cold, rclone-cold: nothing read through the mount before
	# the timed phase, all caches dropped
	cfg_s3_cold "$cfg" && noread=1 drop=3
	# shellcheck disable=SC2086
	set -- $cmd
	local wl=$here/workloads/$1; shift
	if ! cfg_mount "$cfg" "$src" "$mnt"; then
		cfg_cleanup
		status=failed note="mount failed"
	fi
	root=$(cfg_root "$cfg" "$src" "$mnt")
	if [ $status = ok ] && cfg_uses_s3 "$cfg" && ! timeout -k 10 $run_timeout bash -c \
		'. "$1/lib/common.sh"; . "$1/lib/s3.sh"; s3_warmup "$2" "$3" "$4"' _ "$here" "$id" "$cfg" "$root" 2>"$base.err"; then
		status=failed note="S3 warm-up read failed: $(tail -1 "$base.err")"
	fi
	if [ $status = ok ] && ! BENCH_CONFIG=$cfg BENCH_PREPARE_NO_READ=$noread timeout -k 10 $run_timeout "$wl" "$@" prepare "$root" 2>>"$base.err"; then
		status=failed note="prepare failed: $(tail -1 "$base.err")"
	fi
	if [ $status = ok ]; then
		[ "$drop" != 0 ] && drop_caches "$drop"
		cfg_stats "$cfg" "$mnt" >"$base.before.json"
		t0=$(now_ns)
		timeout -k 10 $run_timeout "$wl" "$@" run "$root" >"$base.json" 2>>"$base.err"
		rc=$?
		t1=$(now_ns)
		cfg_stats "$cfg" "$mnt" >"$base.after.json"
		if [ $rc = 124 ] || [ $rc = 137 ]; then status=failed note="timed out after ${run_timeout}s"
		elif [ $rc != 0 ]; then status=failed note="exit $rc: $(tail -1 "$base.err")"; fi
	fi
	if [ "$cfg" != native ] && grep -q " $mnt fuse" /proc/mounts && ! cfg_umount "$cfg" "$mnt"; then
		[ $status = ok ] && status=failed note="unmount failed"
	fi
	cfg_cleanup
	if cfg_uses_s3 "$cfg"; then
		# what a write workload left is in the bucket, not in src/
		timeout -k 10 $run_timeout bash -c '. "$1/lib/common.sh"; . "$1/lib/s3.sh"; _s3_work=$2; s3_cleanup "$3"' \
			_ "$here" "$work" "$id" 2>>"$base.err" || {
			[ $status = ok ] && status=failed note="S3 cleanup failed: $(tail -1 "$base.err")"
		}
	else
		"$wl" "$@" cleanup "$src" 2>>"$base.err" || true
	fi
	# passthrough_hp keeps an O_PATH fd open per inode the kernel knows: past
	# RLIMIT_NOFILE (a hard 20000 on our CI machines, not raisable) it fails with
	# EMFILE. A limit of the baseline, not a bench failure: recorded as skipped
	# (fd_plan skips the trees known to be too large before they run).
	if [ $status = failed ] && [[ $cfg == plain-fuse* ]] && grep -q 'Too many open files' "$base.err"; then
		status=skipped
		note="passthrough_hp ran out of file descriptors (one per inode, RLIMIT_NOFILE $fd_limit): $note"
	fi
	[ $status = failed ] && failures=$((failures + 1))
	python3 "$here/lib/record.py" "$out/raw.jsonl" workload="$id" config="$cfg" rep="$rep" \
		status=$status note="$note" result="$base.json" before="$base.before.json" \
		after="$base.after.json" \
		seconds="$(awk -v a="${t0:-0}" -v b="${t1:-0}" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')" >/dev/null
	python3 - "$out/raw.jsonl" <<'PY' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
if r["status"] == "ok":
    v = r["metrics"][r["primary"]]
    req = "  %d requests to userspace" % r["requests_total"] if "requests_total" in r else ""
    print("bench: %-28s %-14s rep %d: %12.4g %s%s" % (r["workload"], r["config"], r["rep"], v, r["unit"], req))
else:
    print("bench: %-28s %-14s rep %d: %s (%s)" % (r["workload"], r["config"], r["rep"], r["status"].upper(), r.get("note", "")))
PY
}

t_start=$(date +%s)
for w in "${WORKLOADS[@]}"; do
	IFS='|' read -r q id cmd drop desc <<<"$w"
	[ $quick = 1 ] && [ "$q" != q ] && continue
	if [ -n "$only_workloads" ] && ! grep -qE "$only_workloads" <<<"$id"; then continue; fi
	# shellcheck disable=SC2086
	why=$("$here/workloads/"$cmd check 2>&1); rc=$?
	if [ $rc != 0 ]; then
		status=skipped
		# 77 = cannot run here (a missing package or dataset); anything else is a bug
		[ $rc = 77 ] || { status=failed; failures=$((failures + 1)); }
		bench_log "$id: $status: ${why:-check failed}"
		for c in "${configs[@]}"; do
			python3 "$here/lib/record.py" "$out/raw.jsonl" workload="$id" config="$c" rep=1 \
				status=$status note="${why:-check failed}" >/dev/null
		done
		continue
	fi
	for rep in $(seq "$reps"); do
		n=${#configs[@]}
		for i in $(seq 0 $((n - 1))); do
			run_one "$id" "$cmd" "$drop" "${configs[$(((i + rep - 1) % n))]}" "$rep"
		done
	done
done
failures=$((failures + ${failures_s3:-0}))
bench_log "runs done in $(($(date +%s) - t_start)) s, $failures failed"

if [ $vm_hook = 1 ]; then run_vm_hook "$out/vm-hook" || failures=$((failures + 1)); fi
python3 "$here/report.py" "$out" || { bench_log "report failed"; failures=$((failures + 1)); }
bench_log "results in $out"
[ $failures = 0 ]

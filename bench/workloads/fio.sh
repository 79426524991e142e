#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# fio.sh JOB CACHE PHASE ROOT - fio jobs on the dataset's fio/ files.
#   JOB:   randread1 (4K random read, QD1, 1 job) | randread4 (same, 4 jobs)
#          seqread (128K sequential read) | randwrite (4K random write, QD1, 1 job)
#   CACHE: cold (bench/run.sh drops all caches before the run; fio invalidate=1)
#          warm (prepare reads the file once through ROOT; fio invalidate=0)
#   PHASE: check | prepare ROOT | run ROOT | cleanup SRC
#   BENCH_PREPARE_NO_READ=1 (run.sh, on s3-cold): prepare reads nothing
# All jobs: ioengine=psync (iodepth 1), buffered I/O. Time-based jobs run
# $FIO_RUNTIME s; cold seqread reads the whole file once instead, so that it
# stays cold. randwrite overwrites a laid-out file and ends with an fsync
# (end_fsync=1, inside the timing). Prints one JSON object (see run.sh).
set -euo pipefail
job=$1 cache=$2 phase=$3 root=${4:-}

case $job in
randwrite) file=$root/fio/write.dat ;;
*) file=$root/fio/read.dat ;;
esac

case $phase in check | cleanup) exit 0 ;; esac
if [ "$phase" = prepare ]; then
	[ "$cache" = warm ] && [ "${BENCH_PREPARE_NO_READ:-0}" != 1 ] && cat "$file" >/dev/null
	exit 0
fi

inval=1; [ "$cache" = warm ] && inval=0
args=(--filename="$file" --size="$FIO_SIZE" --ioengine=psync --iodepth=1 --invalidate="$inval"
	--group_reporting --output-format=json)
timed=(--time_based --runtime="$FIO_RUNTIME")
case $job in
randread1) args+=(--name=randread --rw=randread --bs=4k --numjobs=1 "${timed[@]}") ;;
randread4) args+=(--name=randread --rw=randread --bs=4k --numjobs=4 "${timed[@]}") ;;
seqread)
	args+=(--name=seqread --rw=read --bs=128k --numjobs=1)
	[ "$cache" = warm ] && args+=("${timed[@]}")
	;;
randwrite) args+=(--name=randwrite --rw=randwrite --bs=4k --numjobs=1 --end_fsync=1 "${timed[@]}") ;;
*) echo "fio.sh: unknown job '$job'" >&2; exit 2 ;;
esac

fio "${args[@]}" | python3 -c '
import json, sys
job = json.load(sys.stdin)["jobs"][0]
d = job["write" if sys.argv[1] == "randwrite" else "read"]
lat = d.get("clat_ns", {})
pct = lat.get("percentile", {})
seq = sys.argv[1] == "seqread"
m = {"iops": d["iops"], "bw_MiBps": d["bw_bytes"] / 2**20,
     "lat_mean_us": lat.get("mean", 0) / 1e3,
     "lat_p99_us": pct.get("99.000000", 0) / 1e3,
     "runtime_s": d["runtime"] / 1e3}
print(json.dumps({"primary": "bw_MiBps" if seq else "iops",
                  "unit": "MiB/s" if seq else "IOPS",
                  "higher_is_better": True, "metrics": m}))
' "$job"

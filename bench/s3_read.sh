#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# s3_read.sh - cold read of one large S3 object through a bpfuse s3:// mount vs parallel
# ranged GETs by curl (--aws-sigv4) against the same loopback Ceph RGW, in one run.
#   bpfuse cold : empty cache, `dd bs=1M` of the object through the mount (ranged GETs by
#                 the daemon, stored and checksummed in the cache, served to the kernel)
#   bpfuse warm : the same read again, now FUSE passthrough on the complete cache file
#                 (the host page cache dropped first)
#   curl        : N parallel curl ranged GETs of equal slices to /dev/null
# ratio = bpfuse cold MB/s / curl MB/s (1.0 = as fast as raw parallel GETs).
# Two CPU placements, alternated in each repetition (the machine has few CPUs and the
# server runs on it too):
#   shared : server and client (bpfuse + dd, or curl) on all CPUs, competing for them
#   split  : the server's processes on CPU 0, the client on the other CPUs, as if the
#            server were another machine (needs >= 2 CPUs)
# Output: bench/results/<date>-<commit>-s3read/{results.json,report.md}
# Usage: bench/s3_read.sh [--quick] (as root; needs the ceph packages and a built bpfuse)
#   SIZE_MIB [1024, quick 128], CURL_PARALLEL [8], REPS [3, quick 1],
#   PLACEMENTS ["shared split"]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BPFUSE=${BPFUSE:-$top/build/bpfuse}
S3TOOL=${S3TOOL:-$top/build/s3tool}
quick=0; [ "${1:-}" = --quick ] && quick=1
if [ $quick = 1 ]; then SIZE_MIB=${SIZE_MIB:-128}; REPS=${REPS:-1}; else SIZE_MIB=${SIZE_MIB:-1024}; REPS=${REPS:-3}; fi
CURL_PARALLEL=${CURL_PARALLEL:-8}
ncpu=$(nproc)
PLACEMENTS=${PLACEMENTS:-shared split}
[ "$ncpu" -ge 2 ] || PLACEMENTS=${PLACEMENTS//split/}
[ -x "$BPFUSE" ] && [ -x "$S3TOOL" ] || { echo "bench: build bpfuse and s3tool first" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench: curl missing" >&2; exit 1; }

stamp=$(date -u +%Y%m%d-%H%M%S); commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo nogit)
out=${BENCH_OUT:-$top/bench/results/$stamp-$commit-s3read}
work=$(mktemp -d /var/tmp/bpfuse-s3bench.XXXXXX)
mnt=$work/mnt; mkdir -p "$mnt"
export D=$work/rgw PORT=${PORT:-$((21000 + RANDOM % 9000))}
export MEMSTORE_BYTES=$(((SIZE_MIB + 512) << 20))
cleanup() {
	mountpoint -q "$mnt" && { "$BPFUSE" umount "$mnt" 2>/dev/null || umount -l "$mnt"; }
	"$top/scripts/s3-server.sh" stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

rc=0; "$top/scripts/s3-server.sh" start >/dev/null 2>"$work/server.log" || rc=$?
[ $rc -eq 77 ] && { echo "bench: no S3 test server (ceph packages missing): skipped" >&2; exit 77; }
[ $rc -eq 0 ] || { cat "$work/server.log" >&2; exit 1; }
eval "$("$top/scripts/s3-server.sh" env)"
export AWS_ENDPOINT_URL=$S3_ENDPOINT
"$S3TOOL" -e "$S3_ENDPOINT" mb bench >/dev/null
head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/obj"
"$S3TOOL" -e "$S3_ENDPOINT" put bench obj "$work/obj" >/dev/null
sum=$(md5sum <"$work/obj" | cut -d' ' -f1)
rm -f "$work/obj"
bytes=$((SIZE_MIB << 20))

now() { date +%s.%N; }
mbps() { python3 -c "import sys; print('%.1f' % ($bytes / (float(sys.argv[2]) - float(sys.argv[1])) / 1e6))" "$1" "$2"; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# place P: pin the server's processes (every thread) and set $client, the prefix that
# runs a client command on its CPUs
place() {
	local srv all=0-$((ncpu - 1)) pid
	case $1 in
	shared) srv=$all client="taskset -c $all" ;;
	split) srv=0 client="taskset -c 1-$((ncpu - 1))" ;;
	esac
	for pid in $(pgrep -f -- "$D/"); do taskset -a -p -c "$srv" "$pid" >/dev/null; done
}

curl_read() {
	local slice=$((bytes / CURL_PARALLEL)) i a b
	for i in $(seq 0 $((CURL_PARALLEL - 1))); do
		a=$((i * slice)); b=$((i == CURL_PARALLEL - 1 ? bytes - 1 : a + slice - 1))
		$client curl -sS --fail --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -r "$a-$b" \
			"$S3_ENDPOINT/bench/obj" -o /dev/null &
	done
	wait
}

declare -A cold warm curlr
for r in $(seq 1 "$REPS"); do
	for pl in $PLACEMENTS; do
		place "$pl"
		rm -rf "$work/cache"
		$client "$BPFUSE" mount s3://bench "$mnt" --endpoint "$S3_ENDPOINT" \
			--cache-dir "$work/cache" 2>/dev/null
		stat "$mnt/obj" >/dev/null
		drop
		t0=$(now); $client dd if="$mnt/obj" of=/dev/null bs=1M status=none; t1=$(now)
		cold[$pl]+="$(mbps "$t0" "$t1") "
		drop
		got=$(md5sum <"$mnt/obj" | cut -d' ' -f1)
		[ "$got" = "$sum" ] || { echo "bench: wrong bytes through the mount" >&2; exit 1; }
		drop
		t0=$(now); $client dd if="$mnt/obj" of=/dev/null bs=1M status=none; t1=$(now)
		warm[$pl]+="$(mbps "$t0" "$t1") "
		"$BPFUSE" stats "$mnt" --json >"$work/stats-$pl-$r.json"
		"$BPFUSE" umount "$mnt"
		t0=$(now); curl_read; t1=$(now)
		curlr[$pl]+="$(mbps "$t0" "$t1") "
	done
done
place shared

mkdir -p "$out"
args=()
for pl in $PLACEMENTS; do args+=("$pl" "${cold[$pl]}" "${warm[$pl]}" "${curlr[$pl]}" "$work/stats-$pl-1.json"); done
python3 - "$out" "$SIZE_MIB" "$CURL_PARALLEL" "$commit" "$ncpu" "${args[@]}" <<'PY'
import json, statistics, sys, os, platform
out, size, par, commit, ncpu = sys.argv[1:6]
rest = sys.argv[6:]
med = statistics.median
desc = {"shared": "server and client share all %s CPUs" % ncpu,
        "split": "server on CPU 0, client (bpfuse + dd, or curl) on CPUs 1-%d" % (int(ncpu) - 1)}
res = {"object_mib": int(size), "curl_parallel": int(par), "commit": commit,
       "kernel": platform.release(), "cpus": int(ncpu), "placements": {}}
for i in range(0, len(rest), 5):
    pl, cold, warm, curl, stats = rest[i:i + 5]
    cold, warm, curl = ([float(x) for x in a.split()] for a in (cold, warm, curl))
    s3 = json.load(open(stats))["daemon"]["s3"]
    res["placements"][pl] = {
        "description": desc[pl], "bpfuse_cold_mbps": cold,
        "bpfuse_warm_passthrough_mbps": warm, "curl_mbps": curl,
        "ratio_cold_vs_curl": round(med(cold) / med(curl), 3),
        "gets_per_cold_read": s3["get"], "bytes_fetched": s3["bytes_fetched"]}
json.dump(res, open(os.path.join(out, "results.json"), "w"), indent=1)
with open(os.path.join(out, "report.md"), "w") as f:
    f.write("# S3 cold read: bpfuse vs parallel curl (%d MiB object, loopback Ceph RGW)\n\n" % int(size))
    f.write("commit %s, kernel %s, %s CPUs. Each repetition runs every placement in turn.\n\n"
            % (commit, res["kernel"], ncpu))
    for pl, p in res["placements"].items():
        n = len(p["bpfuse_cold_mbps"])
        f.write("## %s: %s\n\n" % (pl, p["description"]))
        f.write("| path | MB/s (median of %d) | min | max |\n| --- | --- | --- | --- |\n" % n)
        for name, key in (("bpfuse cold (empty cache)", "bpfuse_cold_mbps"),
                          ("bpfuse warm (passthrough)", "bpfuse_warm_passthrough_mbps"),
                          ("curl x%s ranged GETs" % par, "curl_mbps")):
            v = p[key]
            f.write("| %s | %.1f | %.1f | %.1f |\n" % (name, med(v), min(v), max(v)))
        f.write("\nratio bpfuse cold / curl: **%.2f**; GETs per cold read: %d\n\n"
                % (p["ratio_cold_vs_curl"], p["gets_per_cold_read"]))
print(open(os.path.join(out, "report.md")).read())
PY
echo "results in $out"

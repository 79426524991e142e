#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bpfuse stats: table, JSON, Prometheus text, --watch, the metrics port, and
# counts that match what was done.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/stats.sh"
setup_case "$@"

mkdir -p "$T/src" "$T/mnt" "$T/plain"
for i in $(seq 25); do echo "$i" >"$T/src/f$i"; done
port=$((20000 + RANDOM % 12000)) # below the ephemeral range
bpfuse_mount "$T/src" "$T/mnt" "passthrough=off,entry_timeout=0,attr_timeout=0,metrics_port=$port"
need_bpf_stats "$T/mnt"
stats_json "$T/mnt" "$T/a.json"
for i in $(seq 25); do cat "$T/mnt/f$i" >/dev/null; done
stats_json "$T/mnt" "$T/b.json"
for src in bpf daemon; do
	assert_eq "$(stats_delta "$T/a.json" "$T/b.json" $src OPEN)" 25 "OPEN requests ($src)"
	assert_eq "$(stats_delta "$T/a.json" "$T/b.json" $src READ)" 25 "READ requests ($src)"
done
python3 - "$T/b.json" <<'PY' || fail "JSON stats lack fields"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["request_source"] == "bpf"
lk = j["ops"]["LOOKUP"]
for k in ("requests", "replies", "errors", "latency_us", "hist_log2_us", "daemon_requests"):
    assert k in lk, k
assert lk["latency_us"]["p50"] > 0 and len(lk["hist_log2_us"]) == 27
d = j["daemon"]
assert d["plain_opens"] >= 25 and d["reads_backend"] >= 25 and d["bytes_read_backend"] >= 66
PY
out=$("$BPFUSE" stats "$T/mnt")
echo "$out" | grep -q '^READ ' || fail "table has no READ row: $out"
echo "$out" | grep -q 'BPF tracepoints' || fail "table does not name its source"
"$BPFUSE" stats "$T/mnt" --prometheus | grep -q '^bpfuse_requests_total{mount=".*",opcode="READ"} ' ||
	fail "Prometheus text lacks bpfuse_requests_total for READ"
curl -fsS "http://127.0.0.1:$port/metrics" | grep -q '^bpfuse_request_latency_seconds_bucket' ||
	fail "metrics port $port does not serve the latency histogram"
n=$(timeout 1.5 "$BPFUSE" stats "$T/mnt" --json --watch 0.3 | grep -c '"mountpoint"' || true)
[ "$n" -ge 3 ] || fail "--watch 0.3 printed $n times in 1.5 s"
rc=0; "$BPFUSE" stats "$T/plain" 2>"$T/err" || rc=$?
[ $rc -ne 0 ] && grep -q 'not a bpfuse mount' "$T/err" || fail "stats of a plain dir: rc=$rc $(cat "$T/err")"
bpfuse_umount "$T/mnt"

bpfuse_mount "$T/src" "$T/mnt" trace=off
"$BPFUSE" stats "$T/mnt" --json | grep -q '"request_source":"daemon"' || fail "trace=off still uses BPF"
bpfuse_umount "$T/mnt"
finish

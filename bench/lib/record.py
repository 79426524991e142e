#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""record.py RAW KEY=VALUE... - append one run's record to RAW (JSON lines).

Keys: workload, config, rep, status (ok|failed|skipped), note, seconds (wall
time of the run phase), and file arguments read here:
  result=FILE   the workload's JSON output (primary, unit, higher_is_better, metrics)
  before=FILE after=FILE   `bpfuse stats --json` snapshots around the run; their
                difference per opcode ("requests" = seen by the BPF tracepoints,
                falling back to the daemon's own count) becomes "requests"
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return None


def op_count(op):
    if "requests" in op:
        return op["requests"]
    return op.get("daemon_requests", 0)


def diff_stats(before, after):
    """Per-opcode requests that reached userspace between two snapshots."""
    if not before or not after or "ops" not in after:
        return None, None
    b_ops = before.get("ops", {})
    req = {}
    for name, op in after["ops"].items():
        d = op_count(op) - op_count(b_ops.get(name, {}))
        if d:
            req[name] = d
    daemon = {}
    for k, v in after.get("daemon", {}).items():
        if isinstance(v, (int, float)):
            d = v - before.get("daemon", {}).get(k, 0)
            if d:
                daemon[k] = d
        elif isinstance(v, dict):
            # one level of groups, e.g. the S3 backend's "s3": {"get": n, ...} -> "s3.get"
            b = before.get("daemon", {}).get(k, {})
            for k2, v2 in v.items():
                if isinstance(v2, (int, float)):
                    d = v2 - (b.get(k2, 0) if isinstance(b, dict) else 0)
                    if d:
                        daemon[k + "." + k2] = d
    return req, daemon


def main():
    raw = sys.argv[1]
    kv = dict(a.split("=", 1) for a in sys.argv[2:])
    rec = {"workload": kv["workload"], "config": kv["config"], "rep": int(kv["rep"]),
           "status": kv.get("status", "ok")}
    if kv.get("note"):
        rec["note"] = kv["note"]
    if kv.get("seconds"):
        rec["wall_s"] = float(kv["seconds"])
    res = load(kv["result"]) if kv.get("result") else None
    if rec["status"] == "ok":
        if not res or "metrics" not in res:
            rec["status"] = "failed"
            rec["note"] = "workload printed no result"
        else:
            rec.update({k: res[k] for k in ("primary", "unit", "higher_is_better", "metrics")})
    req, daemon = diff_stats(load(kv.get("before", "")), load(kv.get("after", "")))
    if req is not None:
        rec["requests"] = req
        rec["requests_total"] = sum(req.values())
        rec["daemon_counters"] = daemon
    with open(raw, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(rec["status"])


if __name__ == "__main__":
    main()

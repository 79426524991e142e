#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""vm_report.py DIR - summarise a bench/vm_hook.sh run.

Reads DIR/meta.json and DIR/raw.jsonl (one line per run from the guest, with
the `bpfuse stats --json` snapshots taken just before and after the timed
phase) and writes DIR/results.json and DIR/report.md.  bench/report.py calls
section(DIR) to put the same tables into the suite's report.

All ratios are within the VM (qemu TCG): speeds, so above 1x is faster.
"""
import json
import os
import sys

# one number format for the suite's report and this section
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from report import cell, fmt, fmt_ratio  # noqa: E402
import statistics
import sys

CONFIGS = ["native", "hook-on", "hook-off"]
RATIOS = [("on_vs_off", "hook-on", "hook-off", "hook on vs off"),
          ("on_vs_native", "hook-on", "native", "hook on vs native"),
          ("off_vs_native", "hook-off", "native", "hook off vs native")]


def speed(v, ref, hib):
    if not v or not ref:
        return None
    return v / ref if hib else ref / v


def requests_delta(before, after):
    """Per-opcode requests that reached userspace between two snapshots.

    BPF tracepoint counts when the guest kernel has them (Linux >= 6.16 only,
    so normally not), else the daemon's own counts: the same requests."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return None, None
    bpf = after.get("request_source") == "bpf"
    key = "requests" if bpf else "daemon_requests"
    d = {}
    for op, a in after.get("ops", {}).items():
        b = before.get("ops", {}).get(op, {})
        n = a.get(key, 0) - b.get(key, 0)
        if n:
            d[op] = n
    return d, ("bpf" if bpf else "daemon")


def fastpath_delta(before, after):
    if not isinstance(before, dict) or not isinstance(after, dict):
        return None
    fa, fb = after.get("fastpath"), before.get("fastpath")
    if not isinstance(fa, dict) or not isinstance(fb, dict):
        return None
    # the counters only: the object also holds flags ("publishing") and the maps' sizes
    return {k: v - fb.get(k, 0) for k, v in fa.items()
            if isinstance(v, int) and not isinstance(v, bool)}


def summarise(meta, rows):
    order = list(meta.get("workloads", {}))
    res = {}
    for r in rows:
        w = res.setdefault(r["workload"], {"configs": {}})
        c = w["configs"].setdefault(r["config"], {"values": [], "status": [], "notes": [],
                                                  "requests": [], "fastpath": [], "per_file": []})
        c["status"].append(r["status"])
        if r.get("note"):
            c["notes"].append(r["note"])
        if r["status"] != "ok" or not isinstance(r.get("result"), dict):
            continue
        res_ = r["result"]
        w.update(primary=res_["primary"], unit=res_["unit"], higher_is_better=res_["higher_is_better"])
        v = res_["metrics"][res_["primary"]]
        if v is None:  # vmbench: no measurable time (a jiffy clock)
            c["notes"].append("below the guest clock's resolution")
            continue
        c["values"].append(v)
        req, src = requests_delta(r.get("before"), r.get("after"))
        if req is not None:
            c["requests"].append(req)
            c["request_source"] = src
            files = res_["metrics"].get("files")
            if files:
                c["per_file"].append(sum(req.values()) / files)
        fp = fastpath_delta(r.get("before"), r.get("after"))
        if fp is not None:
            c["fastpath"].append(fp)
    for wid, w in res.items():
        w["what"] = meta.get("workloads", {}).get(wid, "")
        hib = w.get("higher_is_better", True)
        for c in w["configs"].values():
            v = c.pop("values")
            if v:
                c.update(median=statistics.median(v), min=min(v), max=max(v), n=len(v), values=v)
            reqs = c.pop("requests")
            if reqs:
                ops = sorted({o for q in reqs for o in q})
                c["requests_median"] = {o: statistics.median([q.get(o, 0) for q in reqs]) for o in ops}
                c["requests_total_median"] = statistics.median([sum(q.values()) for q in reqs])
            pf = c.pop("per_file")
            if pf:
                c["requests_per_file_median"] = statistics.median(pf)
            fps = c.pop("fastpath")
            if fps:
                c["fastpath_median"] = {k: statistics.median([f.get(k, 0) for f in fps]) for k in fps[0]}
        w["ratios"] = {}
        for key, a, b, _ in RATIOS:
            ca, cb = w["configs"].get(a, {}), w["configs"].get(b, {})
            w["ratios"][key] = speed(ca.get("median"), cb.get("median"), hib)
    ordered = {k: res[k] for k in order if k in res}
    ordered.update({k: v for k, v in res.items() if k not in ordered})
    return ordered


def req_cell(c):
    if "requests_total_median" not in c:
        return "-"
    items = sorted(c["requests_median"].items(), key=lambda x: -x[1])
    ops = ", ".join("%s %s" % (o, fmt(n)) for o, n in items[:4] if n)
    return "%s%s" % (fmt(c["requests_total_median"]), (": " + ops) if ops else "")


def fp_cell(c):
    f = c.get("fastpath_median")
    if not f:
        return "-"
    ops = ("lookup", "negative", "getattr", "open", "read", "ioctl")
    parts = ["%s %s" % (op, fmt(f.get(op + "_hit", 0))) for op in ops if f.get(op + "_hit")]
    misses = sum(f.get(op + "_miss", 0) for op in ops)
    s = ", ".join(parts) or "none"
    if misses:
        s += " (passed on: %s)" % fmt(misses)
    if f.get("kfunc_errors"):
        s += " (kfunc errors %s)" % fmt(f["kfunc_errors"])
    return s


def section(out, level="##"):
    """Markdown lines for the VM results in OUT (a vm_hook.sh directory)."""
    title = "%s Patched-kernel VM: fast path (hook) on vs off" % level
    if os.path.isfile(os.path.join(out, "skipped.txt")):
        return [title, "", "Skipped: %s" % open(os.path.join(out, "skipped.txt")).read().strip(), ""]
    try:
        r = json.load(open(os.path.join(out, "results.json")))
    except (OSError, ValueError):
        return [title, "", "No results (`%s/results.json` missing: the VM run failed; see its"
                " console.log)." % os.path.basename(out), ""]
    meta, res = r["meta"], r["workloads"]
    s = meta["sizes"]
    L = [title, "",
         "**VM-only ratios.** `bench/vm_hook.sh` (%s mode, %d repetition(s)) boots the patched Linux"
         " 6.12 kernel (%s) under %s and runs bpfuse inside it. TCG emulation makes every"
         " operation many times slower than on the host and not uniformly so: compare these numbers"
         " only with each other, never with the host tables." % (
             meta["mode"], meta["reps"], meta.get("kernel_hash", "?"), meta.get("vm", "qemu")), "",
         "- native: the guest's ext4 scratch disk, which is also the source directory;",
         "- hook-on / hook-off: the same bpfuse binary and options (`%s`; loop-small: `%s`, with"
         " passthrough), only `fastpath=on|off` differs. With kernel timeouts 0 and no passthrough"
         " every lookup, stat and read is a request; hook-on lets the eBPF program answer LOOKUP,"
         " GETATTR, read-only OPEN (with passthrough to the backing file, or without it through"
         " the page cache: no FLUSH or RELEASE follows) and READ from the daemon's maps inside"
         " the kernel." % (meta.get("options", "?"), meta.get("loop_options", "?")),
         "- every run mounts afresh; the three configurations alternate per repetition with the"
         " starting one rotated. Median (min-max) over the repetitions.", "",
         "| workload | metric | native | hook-on | hook-off | hook on vs off | hook on vs native |"
         " hook off vs native |", "|---|---|---|---|---|---|---|---|"]
    for wid, w in res.items():
        metric = "%s (%s, %s)" % (w.get("primary", "-"), w.get("unit", ""),
                                  "higher is better" if w.get("higher_is_better", True) else "lower is better")
        L.append("| %s | %s | %s | %s |" % (
            wid, metric, " | ".join(cell(w["configs"].get(c)) for c in CONFIGS),
            " | ".join(fmt_ratio(w["ratios"].get(k)) for k, _, _, _ in RATIOS)))
    src = {c.get("request_source") for w in res.values() for c in w["configs"].values()} - {None}
    L += ["", "Requests that reached the daemon during the timed phase (difference of two"
          " `bpfuse stats --json` snapshots, median per run; counted by %s), and what the eBPF"
          " program answered in the kernel (`fastpath.*_hit`):" % (
              "the BPF tracepoints" if src == {"bpf"} else "the daemon"), "",
          "| workload | hook-on: requests | hook-off: requests | per file on / off |"
          " hook-on: answered in the kernel |",
          "|---|---|---|---|---|"]
    for wid, w in res.items():
        on, off = w["configs"].get("hook-on", {}), w["configs"].get("hook-off", {})
        L.append("| %s | %s | %s | %s / %s | %s |" % (
            wid, req_cell(on), req_cell(off), fmt(on.get("requests_per_file_median")),
            fmt(off.get("requests_per_file_median")), fp_cell(on)))
    L += ["", "Workloads (sizes: %d files to stat, %d small files of %d bytes, a %d MiB file):" % (
        s["stat_files"], s["small_files"], s["small_bytes"], s["big_mib"]), ""]
    for wid, w in res.items():
        L.append("- %s: %s" % (wid, w.get("what", "")))
    bad = [(wid, c, cc) for wid, w in res.items() for c, cc in w["configs"].items()
           if any(st != "ok" for st in cc["status"])]
    for wid, c, cc in bad:
        L.append("- FAILED: %s on %s: %s" % (wid, c, "; ".join(sorted(set(cc["notes"]))) or "no detail"))
    clk = meta.get("guest_clock")
    if clk and clk["step_s"] > 1e-4:
        L += ["", "Warning: the guest's clock (%s) stepped by %.1f ms: short timings are quantised." % (
            clk["source"], clk["step_s"] * 1e3)]
    if meta["mode"] == "quick":
        L += ["", "Quick mode: one repetition of tiny sizes shows that the VM run works; it measures nothing."]
    L.append("")
    return L


def main():
    out = sys.argv[1]
    meta = json.load(open(os.path.join(out, "meta.json")))
    rows = [json.loads(l) for l in open(os.path.join(out, "raw.jsonl")) if l.strip()]
    res = summarise(meta, rows)
    json.dump({"meta": meta, "workloads": res}, open(os.path.join(out, "results.json"), "w"), indent=1)
    L = ["# bpfuse on the patched kernel in qemu: %s run of %s%s" % (
        meta["mode"], meta["commit"], " (with uncommitted changes)" if meta.get("commit_dirty") else ""), "",
        "Date %s (UTC); host kernel %s, %d CPUs, load %s at the start; bpfuse %s (sha256 %s)." % (
            meta["date_utc"], meta["host"]["kernel"], meta["host"]["cpus"], meta["host"]["loadavg_start"],
            meta["bpfuse"], meta["bpfuse_sha256"][:16]), ""]
    L += section(out)
    L += ["Raw records: raw.jsonl (one line per run, with the stats snapshots); summary: results.json;"
          " guest console: console.log."]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("vm-hook: report %s" % os.path.join(out, "report.md"))
    for wid, w in res.items():
        print("vm-hook: %-13s on vs off %s, on vs native %s, requests on/off %s / %s (per file %s / %s)" % (
            wid, fmt_ratio(w["ratios"].get("on_vs_off")), fmt_ratio(w["ratios"].get("on_vs_native")),
            fmt(w["configs"].get("hook-on", {}).get("requests_total_median")),
            fmt(w["configs"].get("hook-off", {}).get("requests_total_median")),
            fmt(w["configs"].get("hook-on", {}).get("requests_per_file_median")),
            fmt(w["configs"].get("hook-off", {}).get("requests_per_file_median"))))


if __name__ == "__main__":
    main()

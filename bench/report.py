#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""report.py RESULTS_DIR - summarise a bench/run.sh run.

Reads meta.json and raw.jsonl from RESULTS_DIR and writes:
  results.json  per workload and configuration: median, min, max of the primary
                metric, ratios to native ext4 and to plain FUSE, median requests
                to userspace per opcode and per file
  report.md     the same as tables, with the machine and the configurations
  plots/*.png   ratio charts and requests to userspace (needs matplotlib)

Ratios are speeds: value/reference for throughputs, reference/value for
times, so above 1 is always faster than the reference and below 1 slower.
"""
import json
import math
import os
import statistics
import sys

PLACEHOLDERS = [
    ("bpfuse-s3", "not measured: S3 backend (issue #6)"),
    ("bpfuse-patched-kernel", "not measured: patched-kernel VM (issue #4)"),
]
# configurations that mount bpfuse (their requests to userspace are counted)
BPFUSE_PREFIXES = ("bpfuse", "s3-")


def is_bpfuse(c):
    return c.startswith(BPFUSE_PREFIXES)


def is_s3(c):
    return c.startswith("s3-")


# the S3 clients users pick instead of bpfuse, on the same server and bucket
OTHER_S3 = ("s3fs", "rclone")


def uses_s3(c):
    return is_s3(c) or c.split("-")[0] in OTHER_S3


# Issue #10's "Done when", checked on this run: text, workload, configuration,
# key (vs_native, vs_plain_fuse, per_file, or vs:CONFIG), threshold, at_least
TARGETS = [
    ("warm raw read loop >= 0.9x native", "readloop-warm", "bpfuse-dataset", "vs_native", 0.9, True),
    ("warm raw read loop >= 2x passthrough_hp --nopassthrough", "readloop-warm", "bpfuse-dataset",
     "vs_plain_fuse", 2.0, True),
    ("warm raw read loop <= 0.01 upcalls per file", "readloop-warm", "bpfuse-dataset", "per_file", 0.01, False),
    ("steady raw read loop (third epoch) >= 0.9x native", "readloop-steady", "bpfuse-dataset", "vs_native",
     0.9, True),
    ("steady raw read loop (third epoch) <= 0.01 upcalls per file", "readloop-steady", "bpfuse-dataset",
     "per_file", 0.01, False),
    # the same with -o ro: a read-only mount's reads leave the cached atime valid
    ("warm raw read loop >= 0.9x native", "readloop-warm", "bpfuse-dataset-ro", "vs_native", 0.9, True),
    ("warm raw read loop >= 2x passthrough_hp --nopassthrough", "readloop-warm", "bpfuse-dataset-ro",
     "vs_plain_fuse", 2.0, True),
    ("warm raw read loop <= 0.01 upcalls per file", "readloop-warm", "bpfuse-dataset-ro", "per_file", 0.01,
     False),
    ("warm JPEG DataLoader >= 0.95x native", "jpeg-dataloader-warm", "bpfuse-dataset", "vs_native", 0.95, True),
    ("warm JPEG DataLoader >= 0.95x native", "jpeg-dataloader-warm", "bpfuse-dataset-ro", "vs_native", 0.95,
     True),
    ("warm PNG DataLoader >= 0.8x native", "dataloader-warm", "bpfuse-dataset", "vs_native", 0.8, True),
    ("warm PNG DataLoader >= 0.8x native", "dataloader-warm", "bpfuse-dataset-ro", "vs_native", 0.8, True),
    # what still reaches the daemon (Python's isatty() IOCTL per open) over io_uring
    ("warm PNG DataLoader >= 0.8x native", "dataloader-warm", "bpfuse-dataset-uring", "vs_native", 0.8, True),
    ("warm PNG DataLoader >= 0.8x native", "dataloader-warm", "bpfuse-dataset-uring-ro", "vs_native", 0.8,
     True),
    ("untar >= 0.8x native", "untar", "bpfuse-default", "vs_native", 0.8, True),
    ("untar >= 0.8x native", "untar", "bpfuse-dataset", "vs_native", 0.8, True),
    ("4K random writes >= 1.0x plain FUSE", "randwrite-4k-qd1", "bpfuse-default", "vs_plain_fuse", 1.0, True),
    ("4K random writes >= 1.0x plain FUSE", "randwrite-4k-qd1", "bpfuse-dataset", "vs_plain_fuse", 1.0, True),
    ("S3 cold JPEG DataLoader >= 3x s3fs", "jpeg-dataloader-cold", "s3-cold", "vs:s3fs-cold", 3.0, True),
    ("S3 cold JPEG DataLoader >= 1.5x rclone", "jpeg-dataloader-cold", "s3-cold", "vs:rclone-cold", 1.5, True),
    ("S3 cold JPEG DataLoader, dataset profile (prefetch) >= 3x s3fs", "jpeg-dataloader-cold", "s3-dataset-cold", "vs:s3fs-cold", 3.0, True),
    ("S3 cold PNG DataLoader >= 3x s3fs", "dataloader-cold", "s3-cold", "vs:s3fs-cold", 3.0, True),
    ("S3 cold PNG DataLoader >= 1.5x rclone", "dataloader-cold", "s3-cold", "vs:rclone-cold", 1.5, True),
]


def placeholders(meta):
    """The not-measured rows: the S3 one only when no S3 configuration ran."""
    out = []
    for name, text in PLACEHOLDERS:
        if name == "bpfuse-patched-kernel" and meta.get("vm_hook"):
            continue  # measured in the VM: a section of its own (VM-only ratios)
        if name == "bpfuse-s3":
            if any(is_s3(c) for c in meta["configs"]):
                continue
            if meta.get("s3_note"):
                text = meta["s3_note"]
        out.append((name, text))
    return out


def vm_hook_section(out):
    """The patched-kernel VM section: bench/vm_hook.sh's results in OUT/vm-hook"""
    d = os.path.join(out, "vm-hook")
    if not os.path.isdir(d):
        return []
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm"))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    import vm_report
    return [""] + vm_report.section(d)


def speed(v, ref, hib):
    if not v or not ref:
        return None
    return v / ref if hib else ref / v


def summarise(meta, rows):
    configs = list(meta["configs"])
    order = list(meta["workloads"])
    res = {}
    for r in rows:
        w = res.setdefault(r["workload"], {"configs": {}})
        c = w["configs"].setdefault(r["config"], {"values": [], "status": [], "notes": [],
                                                  "requests": [], "metrics": []})
        c["status"].append(r["status"])
        if r.get("note"):
            c["notes"].append(r["note"])
        if r["status"] != "ok":
            continue
        w.update(primary=r["primary"], unit=r["unit"], higher_is_better=r["higher_is_better"])
        c["values"].append(r["metrics"][r["primary"]])
        c["metrics"].append(r["metrics"])
        if "requests" in r:
            c["requests"].append(r["requests"])
            c.setdefault("daemon", []).append(r.get("daemon_counters", {}))
    for wid, w in res.items():
        w["cache"] = meta["workloads"].get(wid, {}).get("cache", "")
        for cname, c in w["configs"].items():
            v = c["values"]
            if v:
                c.update(median=statistics.median(v), min=min(v), max=max(v), n=len(v))
            if c["requests"]:
                ops = sorted({o for q in c["requests"] for o in q})
                c["requests_median"] = {o: statistics.median([q.get(o, 0) for q in c["requests"]])
                                        for o in ops}
                c["requests_total_median"] = statistics.median(
                    [sum(q.values()) for q in c["requests"]])
                # per file, for the workloads that count their files
                files = [m.get("files") for m in c["metrics"]]
                if all(files):
                    f = statistics.median(files)
                    c["files"] = f
                    c["requests_per_file"] = c["requests_total_median"] / f
                    c["requests_per_file_by_op"] = {o: n / f for o, n in c["requests_median"].items()}
            if c.get("daemon"):
                keys = sorted({k for d in c["daemon"] for k in d})
                c["daemon_median"] = {k: statistics.median([d.get(k, 0) for d in c["daemon"]])
                                      for k in keys}
        hib = w.get("higher_is_better", True)
        nat = w["configs"].get("native", {}).get("median")
        plain = w["configs"].get("plain-fuse", {}).get("median")
        for c in w["configs"].values():
            if "median" in c:
                c["vs_native"] = speed(c["median"], nat, hib)
                c["vs_plain_fuse"] = speed(c["median"], plain, hib)
    ordered = {k: res[k] for k in order if k in res}
    ordered.update({k: v for k, v in res.items() if k not in ordered})
    return configs, ordered


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return "{:,.0f}".format(v)
    if v >= 10:
        return "%.1f" % v
    if v >= 0.1:
        return "%.2f" % v
    return "%.3g" % v


def fmt_ratio(v):
    return "-" if v is None else ("%.2fx" % v if v < 10 else "%.1fx" % v)


def cell(c):
    if not c:
        return "-"
    if "median" not in c:
        st = set(c["status"])
        return "skipped" if st == {"skipped"} else "FAILED"
    s = fmt(c["median"])
    if c["n"] > 1:
        s += " (%s-%s)" % (fmt(c["min"]), fmt(c["max"]))
    if "failed" in c["status"]:
        s += " [%d failed]" % c["status"].count("failed")
    return s


def top_ops(req, k=4):
    items = sorted(req.items(), key=lambda x: -x[1])
    s = ", ".join("%s %d" % (o, n) for o, n in items[:k] if n)
    if len(items) > k:
        s += ", ..."
    return s or "none"


def plots(out, configs, res):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["(plots not drawn: python3-matplotlib is not installed)"]
    os.makedirs(os.path.join(out, "plots"), exist_ok=True)
    made = []
    wids = [w for w in res if any("median" in c for c in res[w]["configs"].values())]
    colors = {"native": "#555555", "plain-fuse": "#d62728", "plain-fuse-pt": "#f4a0a0",
              "bpfuse-off": "#ff7f0e", "bpfuse-default": "#17becf", "bpfuse-on": "#1f77b4",
              "bpfuse-dataset": "#2ca02c", "bpfuse-dataset-ro": "#98df8a", "bpfuse-uring": "#bcbd22",
              "bpfuse-dataset-uring": "#006400", "bpfuse-dataset-uring-ro": "#66cdaa",
              "s3-cold": "#9467bd", "s3-warm": "#8c564b", "s3fs-cold": "#e377c2",
              "s3-dataset-cold": "#c5b0d5",
              "s3fs-warm": "#f7b6d2", "rclone-cold": "#7f7f7f", "rclone-warm": "#c7c7c7"}
    for key, ref, fname, title in (
            ("vs_native", "native", "ratio_native.png", "speed relative to native ext4 (log scale; 1 = native)"),
            ("vs_plain_fuse", "plain-fuse", "ratio_plain_fuse.png",
             "speed relative to plain FUSE (log scale; 1 = passthrough_hp --nopassthrough)")):
        cs = [c for c in configs if c != ref]
        ws = [w for w in wids if res[w]["configs"].get(ref, {}).get("median")
              and any(res[w]["configs"].get(c, {}).get(key) for c in cs)]
        if not ws or not cs:
            continue
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(ws) * max(2, len(cs)) / 2 + 1.5))
        h = 0.8 / len(cs)
        for i, c in enumerate(cs):
            ys = [j + i * h for j in range(len(ws))]
            xs = [res[w]["configs"].get(c, {}).get(key) or 0 for w in ws]
            # whiskers: the configuration's min and max over the reference's median
            lo, hi = [], []
            for w, x in zip(ws, xs):
                cc, rm = res[w]["configs"].get(c, {}), res[w]["configs"][ref]["median"]
                hib = res[w].get("higher_is_better", True)
                a, b = speed(cc.get("min"), rm, hib), speed(cc.get("max"), rm, hib)
                a, b = (a, b) if a is not None and b is not None else (x, x)
                lo.append(max(x - min(a, b), 0))
                hi.append(max(max(a, b) - x, 0))
            ax.barh(ys, xs, height=h, label=c, color=colors.get(c), xerr=[lo, hi],
                    error_kw={"elinewidth": 0.7, "ecolor": "#333333"})
            for y, x in zip(ys, xs):
                if x:
                    ax.text(x * 1.04, y, "%.2g" % x, va="center", fontsize=6)
        ax.set_yticks([j + h * (len(cs) - 1) / 2 for j in range(len(ws))])
        ax.set_yticklabels(ws, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.axvline(1, color="black", lw=0.8)
        ax.set_title(title + "\nbars: median; whiskers: min-max over repetitions", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "plots", fname), dpi=110)
        plt.close(fig)
        made.append(fname)
    bcs = [c for c in configs if is_bpfuse(c)]
    ws = [w for w in wids if any("requests_total_median" in res[w]["configs"].get(c, {}) for c in bcs)]
    if ws and bcs:
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(ws) + 1.5))
        h = 0.8 / len(bcs)
        for i, c in enumerate(bcs):
            ys = [j + i * h for j in range(len(ws))]
            xs = [max(res[w]["configs"].get(c, {}).get("requests_total_median", 0), 0.5) for w in ws]
            ax.barh(ys, xs, height=h, label=c, color=colors.get(c))
        ax.set_yticks([j + h * (len(bcs) - 1) / 2 for j in range(len(ws))])
        ax.set_yticklabels(ws, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_title("FUSE requests that reached userspace per run (median, log scale; 0 drawn at 0.5)", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        fig.savefig(os.path.join(out, "plots", "requests.png"), dpi=110)
        plt.close(fig)
        made.append("requests.png")
    return made


def target_value(res, wid, cfg, key):
    c = res.get(wid, {}).get("configs", {}).get(cfg, {})
    if key == "per_file":
        return c.get("requests_per_file")
    if key.startswith("vs:"):
        ref = res.get(wid, {}).get("configs", {}).get(key[3:], {}).get("median")
        return speed(c.get("median"), ref, res[wid].get("higher_is_better", True)) if wid in res else None
    return c.get(key)


def targets_section(configs, res):
    """Issue #10's acceptance targets, each with this run's value"""
    L = ["", "## Targets (issue #10)", "",
         "The acceptance targets, with this run's medians. A target is only met by a full run"
         " (quick mode measures nothing). *not measured*: the workload or a configuration it"
         " compares did not run.", "",
         "| target | workload | configuration | this run | met |", "|---|---|---|---|---|"]
    for text, wid, cfg, key, thr, at_least in TARGETS:
        v = target_value(res, wid, cfg, key)
        if v is None:
            # why: the skip or failure note of the run it needs (or its reference's)
            need = [cfg] + ([key[3:]] if key.startswith("vs:") else
                            ["native"] if key == "vs_native" else
                            ["plain-fuse"] if key == "vs_plain_fuse" else [])
            why = next(("%s: %s" % (c, "; ".join(sorted(set(cc["notes"]))))
                        for c in need for cc in [res.get(wid, {}).get("configs", {}).get(c)]
                        if cc and "median" not in cc and cc["notes"]), "")
            shown, met = "-", "not measured" + (" (%s)" % why if why else "")
        else:
            shown = fmt(v) + (" upcalls/file" if key == "per_file" else "x")
            met = "yes" if (v >= thr if at_least else v <= thr) else "**no**"
        L.append("| %s | %s | %s | %s | %s |" % (text, wid, cfg, shown, met))
    return L


def other_s3_section(configs, res):
    """bpfuse s3:// against the S3 clients users pick instead, same cache state"""
    pairs = []
    for state in ("cold", "warm"):
        mine = "s3-" + state
        others = [o + "-" + state for o in OTHER_S3 if o + "-" + state in configs]
        if mine in configs and others:
            pairs.append((state, mine, others))
    if not pairs:
        return []
    L = ["", "## bpfuse s3:// against s3fs and rclone", "",
         "The same bucket on the same loopback radosgw, in the same cache state (cold: new mount,"
         " empty cache directory, nothing read first, caches dropped; warm: the cache directory"
         " filled and the data read once through this mount). Speed of bpfuse relative to each"
         " client (above 1x = bpfuse faster); per file: bpfuse's requests to userspace per file.", "",
         "| workload | state | metric | bpfuse s3:// | s3fs | rclone | bpfuse vs s3fs | bpfuse vs rclone"
         " | bpfuse upcalls per file |", "|---|---|---|---|---|---|---|---|---|"]
    for wid, w in res.items():
        for state, mine, others in pairs:
            mc = w["configs"].get(mine, {})
            oc = {o: w["configs"].get(o + "-" + state, {}) for o in OTHER_S3}
            # only where another client ran (or failed): not where all of them skipped
            if not any(c and set(c["status"]) != {"skipped"} for c in oc.values()):
                continue
            hib = w.get("higher_is_better", True)
            ratios = [fmt_ratio(speed(mc.get("median"), oc[o].get("median"), hib)) for o in OTHER_S3]
            pf = mc.get("requests_per_file")
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                wid, state, w.get("unit", ""), cell(mc), cell(oc["s3fs"]) if oc["s3fs"] else "-",
                cell(oc["rclone"]) if oc["rclone"] else "-", ratios[0], ratios[1],
                "-" if pf is None else fmt(pf)))
    return L


def per_file_section(bcs, res):
    """Requests to userspace per file, for the workloads that count files"""
    ws = [w for w in res if any("requests_per_file" in res[w]["configs"].get(c, {}) for c in bcs)]
    if not ws:
        return []
    L = ["", "## Requests to userspace per file (bpfuse)", "",
         "The requests of the timed phase (below) divided by the files the workload touched;"
         " the top opcodes per file in brackets. 0 means the kernel answered every open, stat,"
         " read and close of a file itself.", "",
         "| workload | files | " + " | ".join(bcs) + " |", "|---" * (len(bcs) + 2) + "|"]
    for wid in ws:
        w = res[wid]
        files = next((w["configs"][c]["files"] for c in bcs if "files" in w["configs"].get(c, {})), 0)
        cells = []
        for c in bcs:
            cc = w["configs"].get(c, {})
            if "requests_per_file" not in cc:
                cells.append("-")
                continue
            top = sorted(cc["requests_per_file_by_op"].items(), key=lambda x: -x[1])[:3]
            cells.append("%s (%s)" % (fmt(cc["requests_per_file"]),
                                      ", ".join("%s %s" % (o, fmt(n)) for o, n in top if n) or "none"))
        L.append("| %s | %s | " % (wid, fmt(files)) + " | ".join(cells) + " |")
    return L


def report(out, meta, configs, res, made):
    m, s = meta["machine"], meta["sizes"]
    L = ["# bpfuse benchmarks: %s run of %s" % (meta["mode"], meta["commit"]), "",
         "Results directory `%s`. %s repetition(s) per workload and configuration; tables show the"
         " median (min-max). Configurations run side by side in one session, interleaved per"
         " repetition with their order rotated. The machine is shared and noisy: read ratios, not"
         " absolute numbers." % (os.path.basename(os.path.abspath(out)), meta["reps"]), "",
         "## Machine", "",
         "| | |", "|---|---|",
         "| date (UTC) | %s |" % meta["date_utc"],
         "| commit | %s%s |" % (meta["commit"], " (with uncommitted changes)" if meta.get("commit_dirty") else ""),
         "| kernel | %s (%s) |" % (m["kernel"], m["kernel_version"]),
         "| OS | %s, %s |" % (m["os"], m["arch"]),
         "| CPU | %d x %s |" % (m["cpus"], m["cpu_model"]),
         "| memory | %d MiB |" % m["mem_mib"],
         "| data file system | %s (%s) |" % (m["data_fs"], meta["data_dir"]),
         "| load average at start / end | %s / %s |" % (" ".join(m["loadavg_start"]),
                                                         " ".join(open("/proc/loadavg").read().split()[:3])),
         "| tools | %s; python %s; torch %s; %s |" % (meta["tools"]["fio"], meta["tools"]["python"],
                                                      meta["tools"]["torch"], meta["tools"]["tar"]),
         "| bpfuse | %s, built %s, sha256 %s |" % (meta["tools"]["bpfuse"], meta["tools"].get("bpfuse_built", "?"),
                                                  meta["tools"].get("bpfuse_sha256", "?")[:16]),
         ""]
    for note in meta.get("notes", []):
        L.append("Note: " + note)
    L += ["", "## Configurations", "", "| name | what | options |", "|---|---|---|"]
    for c, d in meta["configs"].items():
        L.append("| %s | %s | `%s` |" % (c, d.get("kind", "") + (" (" + d["binary"] + ")" if "binary" in d else ""),
                                       d.get("options") or "-"))
    for name, text in placeholders(meta):
        L.append("| %s | **%s** | - |" % (name, text))
    L += ["", "Sizes: fio file %s, %s s per time-based fio job; stat of %d files; `ls -l` of %d entries;"
          " create/delete of %d files; untar of %s; DataLoader over %d PNGs (32x32, %d classes),"
          " %d workers, batch %d." % (s["fio_file"], s["fio_runtime_s"], s["stat_files"], s["ls_entries"],
                                      s["create_delete_files"], s["untar"], s["images"], s["image_classes"],
                                      s["dataloader_workers"], s["dataloader_batch"])
          + (" JPEG DataLoader and raw read loop over %d JPEGs in %d classes (%s), %d workers, batch %d,"
             " RandomResizedCrop(224)." % (s["jpeg_images"], s["jpeg_classes"], s.get("jpeg_set", "?"),
                                           s["jpeg_workers"], s["jpeg_batch"]) if "jpeg_images" in s else ""),
          ""]

    L += ["## Summary", "",
          "Geometric mean, over the workloads measured in every local configuration, of each"
          " configuration's speed relative to native ext4 and to plain FUSE (above 1x = faster)."
          + (" The S3 configurations (bpfuse s3://, s3fs, rclone) run only some workloads (see *S3"
             " configurations*): their mean is over the workloads that every S3 configuration ran"
             " too, so compare S3 rows with each other, not with the local ones."
             if any(uses_s3(c) for c in configs) else "")
          + " One number hides a lot: read the tables below.", "",
          "| configuration | workloads | vs native ext4 | vs plain FUSE |", "|---|---|---|---|"]
    local = [c for c in configs if not uses_s3(c)]
    common = [w for w in res if all("median" in res[w]["configs"].get(c, {}) for c in local)]
    s3_common = [w for w in common if all("median" in res[w]["configs"].get(c, {})
                                          for c in configs if uses_s3(c))]
    for c in configs:
        gm = {}
        ws = [w for w in common if "median" in res[w]["configs"].get(c, {})]
        if uses_s3(c):
            ws = s3_common
        for key in ("vs_native", "vs_plain_fuse"):
            vals = [res[w]["configs"][c].get(key) for w in ws]
            vals = [v for v in vals if v]
            gm[key] = math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None
        L.append("| %s | %d | %s | %s |" % (c, len(ws), fmt_ratio(gm["vs_native"]), fmt_ratio(gm["vs_plain_fuse"])))
    L += ["", "## Results", "", "Primary metric per workload, median (min-max) over the repetitions.", ""]
    ph = placeholders(meta)
    ph_cols = [("S3", "not measured (#6)" if not meta.get("s3_note") else "skipped")
               if n == "bpfuse-s3" else ("patched kernel", "not measured (#4)") for n, _ in ph]
    L.append("| workload | cache state | metric | " + " | ".join(configs + [h for h, _ in ph_cols]) + " |")
    L.append("|---" * (len(configs) + len(ph_cols) + 3) + "|")
    for wid, w in res.items():
        unit = w.get("unit", "")
        metric = "%s (%s, %s)" % (w.get("primary", "-"), unit, "higher is better" if w.get("higher_is_better", True) else "lower is better")
        L.append("| %s | %s | %s | " % (wid, w["cache"], metric)
                 + " | ".join([cell(w["configs"].get(c)) for c in configs] + [t for _, t in ph_cols]) + " |")

    L += targets_section(configs, res)
    for key, ref, title in (("vs_native", "native", "Speed relative to native ext4"),
                            ("vs_plain_fuse", "plain-fuse",
                             "Speed relative to plain FUSE (passthrough_hp --nopassthrough)")):
        if ref not in configs:
            continue
        cs = [c for c in configs if c != ref]
        L += ["", "## " + title, "",
              "Above 1x is faster than %s, below 1x slower (0.10x = ten times slower)." % ref, "",
              "| workload | " + " | ".join(cs) + " |", "|---" * (len(cs) + 1) + "|"]
        for wid, w in res.items():
            L.append("| %s | " % wid + " | ".join(fmt_ratio(w["configs"].get(c, {}).get(key)) for c in cs) + " |")
        fname = "ratio_native.png" if key == "vs_native" else "ratio_plain_fuse.png"
        if fname in made:
            L += ["", "![%s](plots/%s)" % (title, fname)]

    s3cs = [c for c in configs if is_s3(c)]
    if s3cs:
        s3m = meta.get("s3", {})
        L += ["", "## S3 configurations", "",
              "bpfuse mounts `s3://bench` from %s, into which the suite uploaded the same files as in"
              " the local source directory (setup incl. upload: %s s). Options as bpfuse-on; on an"
              " S3 mount the kernel's entry/attr timeouts are capped at `list_ttl` (60 s). The"
              " cache state of each run (the *cache state* column above is the page cache's on the"
              " local configurations):" % (s3m.get("server", "radosgw"), s3m.get("setup_s", "?")), "",
              "| workload | " + " | ".join(s3cs) + " |", "|---" * (len(s3cs) + 1) + "|"]
        for wid in res:
            st = s3m.get("states", {}).get(wid, {})
            L.append("| %s | " % wid + " | ".join(st.get(c, "-") for c in s3cs) + " |")
        keys = ("head", "get", "list", "put", "delete", "copy")
        L += ["", "S3 requests the daemon made during the timed phase (median per run), and MiB fetched:", "",
              "| workload | " + " | ".join(s3cs) + " |", "|---" * (len(s3cs) + 1) + "|"]
        for wid, w in res.items():
            cells = []
            for c in s3cs:
                dc = w["configs"].get(c, {}).get("daemon_median")
                if dc is None:
                    cells.append("-")
                    continue
                t = ", ".join("%s %d" % (k.upper(), dc["s3." + k]) for k in keys if dc.get("s3." + k))
                mib = dc.get("s3.bytes_fetched", 0) / 2**20
                cells.append((t or "none") + ("; %.0f MiB" % mib if mib >= 1 else ""))
            L.append("| %s | " % wid + " | ".join(cells) + " |")

    L += other_s3_section(configs, res)
    bcs = [c for c in configs if is_bpfuse(c)]
    if bcs:
        L += per_file_section(bcs, res)
        L += ["", "## Requests that reached userspace (bpfuse)", "",
              "FUSE requests the daemon had to answer during the timed phase, from `bpfuse stats --json`"
              " (BPF tracepoints fuse_request_send), difference before/after, median over repetitions."
              " Everything else was answered inside the kernel (entry/attr caches, page cache, passthrough).",
              "", "| workload | " + " | ".join(bcs) + " |", "|---" * (len(bcs) + 1) + "|"]
        for wid, w in res.items():
            cells = []
            for c in bcs:
                cc = w["configs"].get(c, {})
                if "requests_total_median" in cc:
                    cells.append("%d: %s" % (cc["requests_total_median"], top_ops(cc["requests_median"])))
                else:
                    cells.append("-")
            L.append("| %s | " % wid + " | ".join(cells) + " |")
        if "requests.png" in made:
            L += ["", "![requests to userspace](plots/requests.png)"]

    L += vm_hook_section(out)
    problems = [(wid, c, cc) for wid, w in res.items() for c, cc in w["configs"].items()
                if any(st != "ok" for st in cc["status"])]
    L += ["", "## Not measured, skipped and failed", ""]
    for name, text in placeholders(meta):
        if name == "bpfuse-s3":
            L.append("- " + (text if meta.get("s3_note") else "not measured: S3 backend (issue #6)"))
        else:
            L.append("- not measured: patched-kernel VM (issue #4): the in-kernel BPF fast path needs the patched 6.12 kernel")
    if "bpfuse-dataset" not in configs and not any(n.startswith("bpfuse-dataset ")
                                                   for n in meta.get("config_notes", [])):
        L.append("- not measured: bpfuse-dataset (`-o profile=dataset` not offered by this build)")
    for note in meta.get("config_notes", []):
        L.append("- " + note)
    # one line per reason: the workloads, each with the configurations it names
    groups = {}
    for wid, c, cc in problems:
        st = "skipped" if set(cc["status"]) <= {"skipped", "ok"} else "FAILED"
        note = "; ".join(sorted(set(cc["notes"]))) or "no detail"
        groups.setdefault((st, note), {}).setdefault(wid, []).append(c)
    for (st, note), ws in sorted(groups.items(), key=lambda g: g[0][0] != "FAILED"):
        by_cfgs = {}
        for w, cs in ws.items():
            by_cfgs.setdefault(", ".join(cs), []).append(w)
        L.append("- %s: %s: %s" % (st, "; ".join("%s on %s" % (", ".join(w), cs) for cs, w in by_cfgs.items()),
                                   note))
    for line in made:
        if line.startswith("("):
            L.append("- " + line)
    L += ["", "Raw records: raw.jsonl (one line per run); summary: results.json; metadata: meta.json;"
          " per-run outputs and stats snapshots: runs/."]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    out = sys.argv[1]
    meta = json.load(open(os.path.join(out, "meta.json")))
    if os.path.isfile(os.path.join(out, "vm-hook", "results.json")):
        meta["vm_hook"] = "vm-hook/results.json"  # bench/vm_hook.sh ran (run.sh's vm-hook)
        meta["not_measured"] = [n for n in meta.get("not_measured", []) if "patched-kernel" not in n]
    rows = [json.loads(l) for l in open(os.path.join(out, "raw.jsonl")) if l.strip()]
    configs, res = summarise(meta, rows)
    made = plots(out, configs, res)
    for w in res.values():
        for c in w["configs"].values():
            for k in ("requests", "metrics", "daemon"):
                c.pop(k, None)
    json.dump({"meta": meta, "placeholders": [t for _, t in placeholders(meta)], "workloads": res},
              open(os.path.join(out, "results.json"), "w"), indent=1)
    report(out, meta, configs, res, made)
    print("report: %s" % os.path.join(out, "report.md"))


if __name__ == "__main__":
    main()

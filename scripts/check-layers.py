#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that #include lines (and calls inside the folders listed) follow docs/layers.txt.

Every quoted #include must name a header of the including file's own folder or of a
folder the rules allow; no folder may be missing from the rules; header names are
unique across src/ (the build includes them by name); the rules and the header
includes have no cycle; in a folder with a "calls" line, a file calls only functions
of the files listed after it.  One line per violation on stderr, exit 1 if any.

  check-layers.py [--src DIR] [--rules FILE]
  check-layers.py --self-test   (shows the check fails on an upward include and on a
                                 header cycle, on a copy of the tree)
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# quoted includes that are not files of src/: the shared kernel/user ABI headers and
# the BPF skeletons the build generates
EXTERNAL = re.compile(r'^(bpfuse/[a-z_]+\.h|[a-z_]+\.skel\.h)$')


def read_rules(path):
    order, allowed, calls = [], {}, {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("calls "):
                folder, files = line[len("calls "):].split(":", 1)
                calls[folder.strip()] = files.split()
                continue
            if ":" not in line:
                sys.exit("%s:%d: expected 'folder: folders...'" % (path, n))
            folder, deps = line.split(":", 1)
            folder = folder.strip()
            order.append(folder)
            allowed[folder] = deps.split()
    return order, allowed, calls


COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
DEFINE = re.compile(r"^(?!static)[a-z][\w \*]*?\b(\w+)\((?:[^;{]|\n)*?\)\s*\n\{", re.M)


def check_calls(src, folder, files, errors):
    """Within @folder, a file may call the functions of the files after it only."""
    code, defs = {}, {}
    for name in files:
        path = os.path.join(src, folder, name)
        if not os.path.exists(path):
            errors.append("docs/layers.txt: calls %s: no file %s" % (folder, path))
            continue
        code[name] = COMMENT.sub("", open(path, errors="replace").read())
        for m in DEFINE.finditer(code[name]):
            defs[m.group(1)] = name
    present = set(n for n in os.listdir(os.path.join(src, folder)) if n.endswith(".c"))
    for name in sorted(present - set(files)):
        errors.append("docs/layers.txt: calls %s: %s is not in the order" % (folder, name))
    rank = {n: i for i, n in enumerate(files)}
    for name, text in code.items():
        for fn, where in defs.items():
            if where != name and rank[where] < rank[name] and re.search(r"\b%s\(" % fn, text):
                errors.append("%s/%s calls %s() of %s, which comes before it (docs/layers.txt)"
                              % (folder, name, fn, where))


def check(src, rules):
    errors = []
    order, allowed, calls = read_rules(rules)
    for folder, files in calls.items():
        check_calls(src, folder, files, errors)
    rank = {f: i for i, f in enumerate(order)}
    for folder, deps in allowed.items():
        for d in deps:
            if d not in rank:
                errors.append("%s: '%s' may include unknown folder '%s'" % (rules, folder, d))
            elif rank[d] <= rank[folder]:
                errors.append("%s: '%s' may include '%s', which is not below it (a cycle)"
                              % (rules, folder, d))
    files, headers = [], {}
    for root, _, names in os.walk(src):
        for name in names:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            folder = os.path.relpath(root, src)
            files.append((path, folder))
            if name.endswith(".h"):
                if name in headers:
                    errors.append("%s: header name also used by %s" % (path, headers[name][0]))
                headers[name] = (path, folder)
    graph = {}
    for path, folder in sorted(files):
        if folder not in allowed:
            errors.append("%s: folder '%s' is not in %s" % (path, folder, rules))
            continue
        graph[path] = []
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if inc not in headers:
                    if not EXTERNAL.match(inc):
                        errors.append("%s:%d: \"%s\" is no header of src/" % (path, n, inc))
                    continue
                target, tfolder = headers[inc]
                graph[path].append(target)
                if tfolder != folder and tfolder not in allowed[folder]:
                    errors.append("%s:%d: includes \"%s\" of %s/, which %s/ may not "
                                  "(docs/layers.txt)" % (path, n, inc, tfolder, folder))
    # header include cycles (a .c file is never included, so cycles are among headers)
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):] + [nxt]
                errors.append("include cycle: " + " -> ".join(os.path.relpath(c, src)
                                                                for c in cyc))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return errors


def self_test(src, rules):
    me = os.path.abspath(__file__)
    ok = True
    cases = [
        ("an upward include", "base/log.c", '#include "daemon.h"\n'),
        ("an include across peers", "cache/cache.c", '#include "s3_client.h"\n'),
        ("a header cycle", "fs/inode.h", '#include "fs.h"\n'),
        ("a call up inside the S3 backend", "backends/s3/backend_s3_ns.c",
         "void s3_layer_probe(struct s3be *sb) { s3_inval_wait(sb, NULL); }\n"),
    ]
    for what, victim, line in cases:
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "src")
            shutil.copytree(src, copy)
            with open(os.path.join(copy, victim), "a") as f:
                f.write(line)
            r = subprocess.run([sys.executable, me, "--src", copy, "--rules", rules],
                               capture_output=True, text=True)
            if r.returncode == 0:
                print("self-test: %s in %s was not found" % (what, victim), file=sys.stderr)
                ok = False
            else:
                print("self-test: %s found: %s" % (what, r.stderr.strip().splitlines()[0]))
    return ok


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=os.path.join(top, "src"))
    ap.add_argument("--rules", default=os.path.join(top, "docs", "layers.txt"))
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        sys.exit(0 if self_test(a.src, a.rules) else 1)
    errors = check(a.src, a.rules)
    for e in errors:
        print("check-layers: " + e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print("check-layers: %s follows %s" % (os.path.relpath(a.src, top),
                                           os.path.relpath(a.rules, top)))


main()

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# untar.sh PHASE ROOT|SRC - extract $DATA_DIR/untar.tar (an uncompressed
# tarball on ext4, outside the mount: the Linux source in full mode, a small
# generated tree in quick mode) into ROOT/scratch/untar with `tar -xf` as root
# (so ownership and times are set too). Cache state: the tarball is in the
# page cache (read once in prepare), the target directory is new and empty.
# No sync inside the timing: dirty data is flushed (untimed) before the next run.
#   PHASE: check | prepare ROOT | run ROOT | cleanup SRC
set -euo pipefail
phase=$1 root=${2:-}
dir=$root/scratch/untar
tarball=$DATA_DIR/untar.tar

case $phase in
check) [ -f "$tarball" ] || { echo "no tarball: $(cat "$DATA_DIR/untar.skip" 2>/dev/null)" >&2; exit 77; } ;;
prepare)
	cat "$tarball" >/dev/null
	mkdir -p "$dir"
	;;
run)
	python3 - "$tarball" "$dir" <<'PY'
import json, os, subprocess, sys, time
tarball, dest = sys.argv[1:3]
t0 = time.perf_counter()
p = subprocess.run(["tar", "-xf", tarball, "-C", dest], stderr=subprocess.PIPE, text=True)
s = time.perf_counter() - t0
if p.returncode:
    errs = p.stderr.splitlines()
    sys.stderr.write(p.stderr)
    sys.exit("tar exit %d, %d error lines, first: %s" % (p.returncode, len(errs), errs[0] if errs else "-"))
mib = os.path.getsize(tarball) / 2**20
print(json.dumps({"primary": "seconds", "unit": "s", "higher_is_better": False,
                  "metrics": {"seconds": s, "tar_MiB": mib, "MiB_per_s": mib / s}}))
PY
	;;
cleanup) rm -rf "$dir" ;;
*) echo "untar.sh: unknown phase '$phase'" >&2; exit 2 ;;
esac

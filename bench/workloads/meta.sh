#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# meta.sh TEST PHASE ROOT|SRC - metadata workloads.
#   stat-warm     stat(2) of $STAT_FILES files; prepare stats them all once
#   stat-dropped  the same after `echo 2 > drop_caches` (dentries and inodes
#                 dropped by bench/run.sh; the files' pages stay cached)
#   ls-warm       `ls -l` of a directory of $LS_FILES entries, listed once before
#   ls-cold       the same after `echo 3 > drop_caches`
#   create        create $CREATE_FILES empty files in a new directory
#   delete        unlink them again (made through ROOT in prepare) and rmdir
#   PHASE: check | prepare ROOT | run ROOT | cleanup SRC (after unmount, on the source)
#   BENCH_PREPARE_NO_READ=1 (run.sh, on s3-cold): prepare stats and lists nothing
set -euo pipefail
test=$1 phase=$2 root=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
dir=$root/scratch/meta

noread=${BENCH_PREPARE_NO_READ:-0}
case $test:$phase in
stat-*:prepare | ls-*:prepare) [ "$noread" = 1 ] && exit 0 ;;&
stat-*:prepare) python3 "$here/meta_ops.py" stat "$root" "$DATA_DIR/stat.list" >/dev/null ;;
stat-*:run) python3 "$here/meta_ops.py" stat "$root" "$DATA_DIR/stat.list" ;;
ls-*:prepare) ls -l "$root/ls" >/dev/null ;;
ls-*:run)
	python3 - "$root/ls" <<'PY'
import json, subprocess, sys, time
t0 = time.perf_counter()
out = subprocess.run(["ls", "-l", sys.argv[1]], check=True, stdout=subprocess.PIPE).stdout
s = time.perf_counter() - t0
n = out.count(b"\n") - 1
print(json.dumps({"primary": "seconds", "unit": "s", "higher_is_better": False,
                  "metrics": {"seconds": s, "entries": n, "entries_per_s": n / s}}))
PY
	;;
create:prepare) mkdir -p "$dir" ;;
create:run) python3 "$here/meta_ops.py" create "$dir" "$CREATE_FILES" ;;
delete:prepare)
	mkdir -p "$dir"
	python3 "$here/meta_ops.py" create "$dir" "$CREATE_FILES" >/dev/null
	;;
delete:run) python3 "$here/meta_ops.py" delete "$dir" "$CREATE_FILES" ;;
create:cleanup | delete:cleanup) rm -rf "$dir" ;;
*:cleanup | *:check) ;;
*) echo "meta.sh: unknown test/phase '$test' '$phase'" >&2; exit 2 ;;
esac

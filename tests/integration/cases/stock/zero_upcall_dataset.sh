#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# profile=dataset: after warm-up, a stat storm over 20,000 files and re-reads of
# cached files cause zero LOOKUP, GETATTR and READ requests to userspace, counted
# by the BPF tracepoint programs, and the daemon's own counters agree.
# Variants: passthrough on and off, read-write and read-only.
#
# One kernel behaviour shapes the windows: after every read the kernel marks the
# cached atime stale (fuse_invalidate_atime(), for daemon READs and passthrough
# reads alike, whatever the atime mount flags), except on read-only mounts. So
# on a read-write mount the first stat after a read asks for attributes again:
# rw windows run the stat storms first and the re-reads last, and a separate
# check bounds that cost at one GETATTR per file read (docs/profiles.md).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/stats.sh"
setup_case "$@"

mkdir -p "$T/src" "$T/mnt"
python3 - "$T/src" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(20):
    os.mkdir(os.path.join(root, "d%02d" % d))
    for f in range(1000):
        with open(os.path.join(root, "d%02d" % d, "f%04d" % f), "wb") as fh:
            fh.write(os.urandom(4096 if f < 10 else 64))
PY

stats_all() { # MNT
	python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(20):
    for f in range(1000):
        os.stat(os.path.join(root, "d%02d" % d, "f%04d" % f))
PY
}
reread() { # MNT: read the first 10 files of each dir
	python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(20):
    for f in range(10):
        with open(os.path.join(root, "d%02d" % d, "f%04d" % f), "rb") as fh:
            assert len(fh.read()) == 4096
PY
}
storm() { stats_all "$1"; reread "$1"; }

# the kernel forgot entries in the window: something evicted them (memory
# pressure, or another process writing /proc/sys/vm/drop_caches); that is not
# what this case tests, so such a window is measured again
evicted() {
	echo $(($(stats_delta "$1" "$2" daemon FORGET) + $(stats_delta "$1" "$2" daemon BATCH_FORGET)))
}
drops() { awk '$1 == "drop_pagecache" || $1 == "drop_slab" { n += $2 } END { print n + 0 }' /proc/vmstat; }

# Some kernels (this machine's) run DAMON with a proactive "pageout" scheme
# (kdamond) that reclaims cold page-cache pages at any time, FUSE pages
# included, and no vmstat counter shows it.  A page reclaimed is no longer
# cached, which is not what this case tests, so for the window the pages of
# the re-read files are kept resident: mapped and mlocked by a helper process
# (hold_pages, common.sh).

for variant in on,rw off,rw on,ro off,ro; do
	pt=${variant%,*} mode=${variant#*,}
	v="passthrough=$pt,$mode"
	bpfuse_mount "$T/src" "$T/mnt" "profile=dataset,passthrough=$pt,$mode"
	need_bpf_stats "$T/mnt"
	# page or dentry drops anywhere from the warm-up on spoil the window
	d0=$(drops)
	stats_json "$T/mnt" "$T/s0.json"
	storm "$T/mnt"
	stats_json "$T/mnt" "$T/s1.json"

	# warm-up really went to userspace (the counters count), and both sources agree
	warm=$(stats_delta "$T/s0.json" "$T/s1.json" bpf LOOKUP)
	[ "$warm" -ge 20020 ] || fail "$v: warm-up made only $warm LOOKUPs (expected >= 20020)"
	assert_eq "$warm" "$(stats_delta "$T/s0.json" "$T/s1.json" daemon LOOKUP)" \
		"$v: daemon vs BPF LOOKUP count of the warm-up"
	if [ $pt = off ]; then
		r=$(stats_delta "$T/s0.json" "$T/s1.json" bpf READ)
		[ "$r" -ge 200 ] || fail "$v: warm-up made only $r READs"
	fi
	stats_all "$T/mnt" # settle the atime of the warm-up reads
	rm -f "$T/held"
	hold_pages "$T/held" 4096 "$T"/mnt/d[01][0-9]/f000[0-9]
	stats_all "$T/mnt" # settle again after the helper's page faults
	for try in 1 2 3; do
		stats_json "$T/mnt" "$T/s1.json"
		if [ $mode = ro ]; then
			storm "$T/mnt"; storm "$T/mnt"
		else
			# one re-read round: Python's open() fstats, which pays the previous round's atime
			stats_all "$T/mnt"; stats_all "$T/mnt"; reread "$T/mnt"
		fi
		stats_json "$T/mnt" "$T/s2.json"
		# FORGETs of an eviction may arrive a little after the window
		sleep 1
		stats_json "$T/mnt" "$T/s2late.json"
		ev=$(($(evicted "$T/s1.json" "$T/s2late.json") + $(drops) - d0))
		[ "$ev" -eq 0 ] && break
		log "$v: the kernel evicted entries or pages during the window ($ev); measuring again"
		d0=$(drops)
		storm "$T/mnt"; stats_all "$T/mnt" # warm again
	done
	[ "$ev" -eq 0 ] || skip "the kernel kept evicting entries (memory pressure or drop_caches)"
	for op in LOOKUP GETATTR READ; do
		for src in bpf daemon; do
			d=$(stats_delta "$T/s1.json" "$T/s2.json" $src $op)
			assert_eq 0 "$d" "$v: $op requests ($src) after warm-up"
		done
	done
	if [ $mode = rw ]; then
		# the atime cost after reads: at most one GETATTR per file read, nothing else
		stats_all "$T/mnt"
		stats_json "$T/mnt" "$T/s3.json"
		g=$(stats_delta "$T/s2.json" "$T/s3.json" daemon GETATTR)
		l=$(stats_delta "$T/s2.json" "$T/s3.json" daemon LOOKUP)
		[ "$g" -le 200 ] && [ "$l" -eq 0 ] ||
			fail "$v: a stat storm after re-reading 200 files made $g GETATTRs and $l LOOKUPs"
	fi
	kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null || true
	log "$v: warm-up $warm LOOKUPs, then a window of 40,000 stats and re-reads with 0 LOOKUP/GETATTR/READ"
	bpfuse_umount "$T/mnt"
done
finish

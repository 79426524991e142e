#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench/vm_hook.sh's guest side: runs as /test.sh in the patched-kernel VM
# (scripts/kernel/run-vm.sh), busybox sh.  Parameters come from /vmhook.env
# (written by vm_hook.sh).  Makes the data on the ext4 scratch disk
# (/cache/src), then for every workload, repetition and configuration
# (native, hook-on, hook-off; the starting one rotates per repetition) mounts
# afresh, sets the cache state, snapshots `bpfuse stats --json`, runs the timed
# vmbench command, snapshots again and unmounts.  One JSON line per run goes
# to /cache/results/raw.jsonl (the host reads it from the disk image after the
# VM stopped); a short line per run goes to the console.
# Exit status: the number of failed runs (0 = all ran).
. /vmhook.env
OBJ=/lib/bpfuse/fastpath.bpf.o
S=/cache/src
M=/tmp/mnt
R=/cache/results
mkdir -p /run $M $R
# The test kernel (tinyconfig) has no CONFIG_FHANDLE, so bpfuse keeps an O_PATH
# descriptor per inode instead of a file handle; the kernel's default hard
# limit of 4096 descriptors would end a stat of 10,000 files with EMFILE
ulimit -n 65536
: > $R/raw.jsonl
say() { echo "vm-hook: $*"; }

finish() {
	cd /
	sync
	# a clean unmount checkpoints the journal, so the host can read the
	# results with debugfs (which does not replay it)
	umount /cache 2>/dev/null || mount -o remount,ro /cache
	exit "$1"
}

CS=/sys/devices/system/clocksource/clocksource0/current_clocksource
say "kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU, $(sed -n 's/MemTotal: *//p' /proc/meminfo), clock $(cat $CS), step $(vmbench clock) s, fd limit $(ulimit -n)"
t0=$(date +%s)
if ! vmbench mkdata $S "$STAT_DIRS" "$STAT_PER_DIR" "$SMALL_FILES" "$SMALL_BYTES" "$BIG_MIB"; then
	say "cannot make the data"
	finish 1
fi
sync
echo 3 > /proc/sys/vm/drop_caches
say "data made in $(($(date +%s) - t0)) s: $((STAT_DIRS * STAT_PER_DIR)) files to stat, $SMALL_FILES files of $SMALL_BYTES bytes, a $BIG_MIB MiB file"

# drop LEVEL: like the host suite's drop_caches
drop() { sync; echo "$1" > /proc/sys/vm/drop_caches; }

mount_cfg() { # CFG WL
	opts=$OPTS
	[ "$2" = loop-small ] && opts=$LOOP_OPTS
	case $1 in
	native) return 0 ;;
	hook-on) fp=on ;;
	hook-off) fp=off ;;
	esac
	bpfuse mount $S $M -o "$opts,fastpath=$fp,fastpath_obj=$OBJ" > /tmp/mount.out 2>&1 || {
		cat /tmp/mount.out; return 1; }
	# the comparison means nothing unless the hook really is (not) attached
	stats=$(bpfuse stats $M --json 2>&1)
	case $fp:$stats in
	on:*'"fastpath":{'*) return 0 ;;
	off:*'"fastpath":null'*) return 0 ;;
	esac
	cat /tmp/mount.out
	say "$1: fast path not in the expected state: $(echo "$stats" | grep -o '"fastpath[^,]*,[^,]*')"
	return 1
}

umount_cfg() { # CFG
	[ "$1" = native ] && return 0
	bpfuse umount $M > /tmp/umount.out 2>&1 && return 0
	cat /tmp/umount.out
	umount -l $M 2> /dev/null
	return 1
}

snap() { # CFG: one line of stats JSON (null for native)
	if [ "$1" = native ]; then echo null; return; fi
	bpfuse stats $M --json 2> /dev/null | tr -d '\n' || true
}

# prepare WL ROOT CFG / run WL ROOT CFG
prepare() {
	case $1 in
	stat-warm) vmbench stat "$2" "$STAT_DIRS" "$STAT_PER_DIR" > /dev/null ;;
	stat-dropped) vmbench stat "$2" "$STAT_DIRS" "$STAT_PER_DIR" > /dev/null && drop 2 ;;
	reread-small) vmbench reread "$2" "$SMALL_FILES" "$SMALL_BYTES" 1 > /dev/null ;;
	loop-small) vmbench loop "$2/small" "$S/small" 1 > /dev/null ;;
	randread-4k) cat "$2/big" > /dev/null ;;
	esac
}
run() {
	case $1 in
	stat-warm | stat-dropped) vmbench stat "$2" "$STAT_DIRS" "$STAT_PER_DIR" ;;
	reread-small) vmbench reread "$2" "$SMALL_FILES" "$SMALL_BYTES" "$REREAD_PASSES" ;;
	loop-small) vmbench loop "$2/small" "$S/small" "$REREAD_PASSES" ;;
	randread-4k)
		# drop the FUSE file's own pages (a fresh reader, like fio's
		# invalidate=1); native has only the one page cache: kept warm
		d=1; [ "$3" = native ] && d=0
		vmbench randread "$2/big" "$RAND_READS" 1 $d ;;
	esac
}

failed=0
n=0
for wl in $WORKLOADS; do
	rep=1
	while [ $rep -le "$REPS" ]; do
		set -- $CONFIGS
		k=$(( (rep - 1) % $# ))
		while [ $k -gt 0 ]; do set -- "$@" "$1"; shift; k=$((k - 1)); done
		for cfg in "$@"; do
			status=ok note= result=null before=null after=null
			root=$S; [ "$cfg" = native ] || root=$M
			if ! mount_cfg "$cfg" "$wl"; then
				status=failed note="mount failed"
			elif ! prepare "$wl" "$root" "$cfg" 2> /tmp/err; then
				status=failed note="prepare failed: $(tail -n 1 /tmp/err)"
			else
				before=$(snap "$cfg")
				if run "$wl" "$root" "$cfg" > /tmp/out 2> /tmp/err; then
					result=$(tr -d '\n' < /tmp/out)
				else
					status=failed note="exit $?: $(tail -n 1 /tmp/err)"
				fi
				after=$(snap "$cfg")
			fi
			if ! umount_cfg "$cfg" && [ $status = ok ]; then
				status=failed note="unmount failed"
			fi
			[ -n "$result" ] || result=null
			[ -n "$before" ] || before=null
			[ -n "$after" ] || after=null
			note=$(echo "$note" | tr -d '"\\')
			echo "{\"workload\": \"$wl\", \"config\": \"$cfg\", \"rep\": $rep, \"status\": \"$status\", \"note\": \"$note\", \"result\": $result, \"before\": $before, \"after\": $after}" >> $R/raw.jsonl
			if [ $status = ok ]; then
				say "$wl $cfg rep $rep: $(echo "$result" | sed -n 's/.*"metrics": {\([^,]*\),.*/\1/p')"
			else
				say "$wl $cfg rep $rep: FAILED ($note)"
				failed=$((failed + 1))
			fi
			n=$((n + 1))
		done
		rep=$((rep + 1))
	done
done
say "$n runs, $failed failed, $(($(date +%s) - t0)) s in the guest; clock $(cat $CS), step $(vmbench clock) s"
dmesg | grep -i clocksource | sed 's/^/vm-hook: dmesg: /'
grep -q " $M " /proc/mounts && umount -l $M
finish $failed

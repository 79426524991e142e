#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The concurrency stress on the debug kernel (bpfuse-debug.config: KASAN,
# lockdep, atomic-sleep checks), booted with 2 vCPUs by tests/vm/run-debug.sh;
# cases named *-debug.sh run only there.
# 1. fp_stress against the real daemon with the fast path (timeouts 0,
#    passthrough off): readers racing unlink, rename, truncate, chmod and
#    drop_caches (FORGET) with fds held across; no ESTALE, no EIO, no wrong
#    file type, unchanged files exact, the mount agrees with the source, the
#    fast path answered, no inode leaked.  Then the same with passthrough on:
#    read-only OPENs answered in the kernel with a backing file (no RELEASE),
#    negative LOOKUPs from the map (names the writers unlink and create).
# 2. detach under load: the fast path detached from the daemon's connection
#    while readers run: no error, and the hook answers nothing afterwards.
# 3. abort under load (fusectl): the readers end with only ENOTCONN,
#    ECONNABORTED, ENOENT; the daemon exits; the mountpoint is freed.
# 4. umount -l under load: likewise.
# Then: no user process in D state, and the kernel log from boot on has no
# KASAN report, lockdep splat, RCU warning, sleep-in-atomic, WARNING or BUG.
# bpfuse_provoke=LKDTM_TYPE,... on the kernel command line (run-debug.sh sets
# it from BPFUSE_VM_PROVOKE) has lkdtm provoke those reports just before the
# log is checked: the check that the detector works (the case must fail).
OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-stress-debug
SECS=${BPFUSE_STRESS_SECONDS:-20}
LOAD=${BPFUSE_LOAD_SECONDS:-8}
. /lib/bpfuse-case.sh
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest"
command -v fp_stress > /dev/null || fail "no fp_stress in this guest"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"

# the running daemon: the bpfuse process holding /dev/fuse
daemon_pid() {
	for d in /proc/[0-9]*; do
		[ "$(cat "$d/comm" 2> /dev/null)" = bpfuse ] || continue
		for f in "$d"/fd/*; do
			[ "$(readlink "$f" 2> /dev/null)" = /dev/fuse ] && { echo "${d#/proc/}"; return 0; }
		done
	done
	return 1
}
# gone PID SECONDS: the process exits within SECONDS
gone() {
	t=0
	while [ -d "/proc/$1" ] && [ "$(cat "/proc/$1/comm" 2> /dev/null)" = bpfuse ]; do
		[ "$t" -ge "$2" ] && return 1
		sleep 1
		t=$((t + 1))
	done
}
# mountit WHAT [PASSTHROUGH]: passthrough off unless on is asked for
mountit() {
	bpfuse mount $W/src $W/mnt \
		-o entry_timeout=0,attr_timeout=0,negative_timeout=0,passthrough=${2:-off},fastpath_obj=$OBJ ||
		fail "bpfuse mounts ($1)"
	pid=$(daemon_pid) || fail "no daemon process after mounting ($1)"
}

debug_kernel
mkdir -p /run $W/src $W/mnt
grep -q ' /sys/fs/fuse/connections ' /proc/mounts ||
	mount -t fusectl fusectl /sys/fs/fuse/connections || fail "mount fusectl"
start=$(date +%s)

# 1a. the stress with passthrough on: OPEN and negative LOOKUP in the kernel
mountit stress-passthrough on
o0=$(fp open_hit) || exit 1
n0=$(fp negative_hit) || exit 1
stress "$SECS"
rc=$?
o1=$(fp open_hit) || exit 1
n1=$(fp negative_hit) || exit 1
check "passthrough on: the kernel answered OPEN ($((o1 - o0))) and negative LOOKUP ($((n1 - n0))) during the stress" \
	[ $((o1 - o0)) -gt 10 -a $((n1 - n0)) -gt 0 ]
[ "$rc" = 0 ] || notok "fp_stress (passthrough on) exited $rc"
no_inode_leak
check "passthrough on: unmounts" bpfuse umount $W/mnt
check "passthrough on: the daemon exited" gone "$pid" 15
rm -rf $W/src && mkdir -p $W/src

# 1. the stress
mountit stress
h0=$(fp lookup_hit) || exit 1
r0=$(fp read_hit) || exit 1
stress "$SECS"
rc=$?
stress_hits "$h0" "$r0"
no_inode_leak
[ "$rc" = 0 ] || notok "fp_stress exited $rc"

# 2. detach under load
# stats50: stat the unchanged files 50 times
stats50() {
	i=0
	while [ $i -lt 50 ]; do
		stat $W/mnt/s$((i % 8)) > /dev/null || notok "stat s$((i % 8)) ($1)"
		i=$((i + 1))
	done
}
ha=$(fp lookup_hit) || exit 1
stats50 "before the detach"
hb=$(fp lookup_hit) || exit 1
check "before the detach the hook answers ($((hb - ha)) LOOKUP hits for 50 stats)" \
	[ $((hb - ha)) -ge 25 ]
fp_stress --load $W/mnt "$LOAD" strict > $W/load 2>&1 &
lp=$!
sleep 3
check "the fast path detached from the daemon's connection under load" fp_stress --detach "$pid"
wait $lp
lrc=$?
cat $W/load
[ "$lrc" = 0 ] || notok "the load across the detach exited $lrc"
ha=$(fp lookup_hit) || exit 1
stats50 "after the detach"
hb=$(fp lookup_hit) || exit 1
check "after the detach the hook answers nothing ($((hb - ha)) LOOKUP hits for 50 stats)" \
	[ "$hb" = "$ha" ]
check "unmounts after the detach" bpfuse umount $W/mnt
check "the daemon exited" gone "$pid" 15

# 3. connection abort under load
mountit abort
dev=$(stat -c %d $W/mnt) || fail "stat $W/mnt"
[ -e /sys/fs/fuse/connections/$dev/abort ] || fail "no fusectl connection $dev"
fp_stress --load $W/mnt "$LOAD" gone > $W/load 2>&1 &
lp=$!
sleep 3
echo 1 > /sys/fs/fuse/connections/$dev/abort
wait $lp
lrc=$?
cat $W/load
check "the load ends after the abort, with no error but ENOTCONN/ECONNABORTED/ENOENT" [ "$lrc" = 0 ]
check "the daemon exited after the abort" gone "$pid" 15
grep -q " $W/mnt " /proc/mounts && umount $W/mnt
check "the aborted mount is gone" sh -c "! grep -q ' $W/mnt ' /proc/mounts"

# 4. umount -l under load
mountit umount
fp_stress --load $W/mnt "$LOAD" gone > $W/load 2>&1 &
lp=$!
sleep 3
check "umount -l under load" umount -l $W/mnt
wait $lp
lrc=$?
cat $W/load
check "the load ends after the unmount, with no error but ENOTCONN/ECONNABORTED/ENOENT" \
	[ "$lrc" = 0 ]
check "the daemon exited once the last fd was closed" gone "$pid" 15

echo "31-stress-debug: stress, detach, abort and umount took $(($(date +%s) - start)) s"
echo 3 > /proc/sys/vm/drop_caches
sleep 2
provoke=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^bpfuse_provoke=//p')
if [ -n "$provoke" ]; then
	grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs debugfs /sys/kernel/debug
	for t in $(echo "$provoke" | tr ',' ' '); do
		echo "31-stress-debug: provoking $t with lkdtm, on purpose"
		echo "$t" > /sys/kernel/debug/provoke-crash/DIRECT ||
			notok "lkdtm provokes $t (types: $(tr '\n' ' ' < /sys/kernel/debug/provoke-crash/DIRECT 2> /dev/null))"
	done
fi
kernel_clean
[ "$bad" = 0 ]

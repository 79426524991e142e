#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The fast path with FUSE built as a module (the --module kernel; the guest
# insmods /lib/modules/bpfuse/fuse.ko before each case, tests/vm/run-kernel.sh
# module): fuse is a loaded module, the daemon loads its struct fuse_bpf_ops
# (a type of fuse.ko's BTF: libbpf >= 1.4) and attaches it, the data loader's
# loop over cached files reaches the daemon 0 times (LOOKUP and OPEN answered
# by the program, control run with the hook off), reads are answered from the
# block map (control with the hook off), the module cannot be removed while a
# mount uses it, and once unmounted it can (the struct_ops link and its maps
# pinned no reference).  A program that cannot load fails the case.
. /lib/bpfuse-case.sh

OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-mod
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest (run-kernel.sh copies build/bpfuse)"
command -v vmbench > /dev/null || fail "no vmbench in this guest (run-kernel.sh builds bench/vm/vmbench.c)"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"
mkdir -p /run $W/src/l $W/mnt

# modloaded: fuse is in the module list (a built-in fuse is not: it has no
# /proc/modules line and no /sys/module/fuse/initstate)
modloaded() { grep -q '^fuse ' /proc/modules && [ -f /sys/module/fuse/initstate ]; }
check "fuse is a loaded module ($(grep '^fuse ' /proc/modules))" modloaded
check "/dev/fuse exists" [ -c /dev/fuse ]
check "the module's BTF has struct fuse_bpf_ops, vmlinux's has not" \
	sh -c "grep -q fuse_bpf_ops /sys/kernel/btf/fuse && ! grep -q fuse_bpf_ops /sys/kernel/btf/vmlinux"

# allreq: the daemon's requests of every opcode, summed (strict: at least INIT is there)
allreq() {
	j=$(statsj) || return 1
	s=$(printf '%s\n' "$j" | sed 's/.*"ops":{//' | grep -o '"daemon_requests":[0-9][0-9]*' | sed 's/.*://')
	[ -n "$s" ] || { echo "no daemon_requests in: $j" >&2; return 1; }
	t=0
	for v in $s; do t=$((t + v)); done
	echo "$t"
}
# until_t N CMD...: retry CMD for up to N tenths of a second
until_t() { t=$1; shift; while [ "$t" -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done; return 1; }
# umount_all: unmount and wait until no daemon holds /dev/fuse (nor its BPF objects)
umount_all() {
	bpfuse umount $W/mnt || return 1
	until_t 100 sh -c '! pidof bpfuse > /dev/null'
}

i=0
while [ $i -lt 20 ]; do echo "small file $i" > $W/src/l/s$i; i=$((i + 1)); done
i=0
while [ $i -lt 4 ]; do dd if=/dev/urandom of=$W/src/l/b$i bs=1k count=$((150 + 37 * i)) 2> /dev/null; i=$((i + 1)); done
lp() { vmbench loop $W/mnt/l $W/src/l "$1" > /dev/null; }
OPT=entry_timeout=0,attr_timeout=0,negative_timeout=0,fastpath_obj=$OBJ

# The data loader's loop, hook off (control) and on
for fp in off on; do
	bpfuse mount $W/src $W/mnt -o $OPT,fastpath=$fp || fail "bpfuse mounts (fast path $fp)"
	if [ $fp = on ]; then
		j=$(statsj) || fail "stats of the mount"
		case $j in
		*'"fastpath":{'*) ok "the fast path is attached with FUSE as a module (stats show it)" ;;
		*) fail "the fast path is not attached: $(printf '%s\n' "$j" | sed -n 's/.*\("fastpath_off_reason":"[^"]*"\).*/\1/p')" ;;
		esac
		get h0 fpcount lookup_hit; get oh0 fpcount open_hit
	fi
	check "warm-up: 24 files opened, fstat'ed, read and checked (fast path $fp)" lp 1
	get t0 allreq
	check "5 passes of the loop over 24 files: data and fstat sizes right (fast path $fp)" lp 5
	get t1 allreq
	[ $fp = on ] && break
	check "control: the loop with the hook off made >= 360 requests ($((t1 - t0)))" [ $((t1 - t0)) -ge 360 ]
	umount_all || fail "unmount after the control run"
done
check "the loop with the hook on made 0 requests of any opcode ($((t1 - t0)))" [ $((t1 - t0)) = 0 ]
get h1 fpcount lookup_hit; get oh1 fpcount open_hit
check "the fast path answered LOOKUPs ($((h1 - h0)) >= 120)" [ $((h1 - h0)) -ge 120 ]
check "the fast path answered OPENs ($((oh1 - oh0)) >= 120)" [ $((oh1 - oh0)) -ge 120 ]

# a mount holds the module: rmmod is refused and changes nothing
check "rmmod fuse is refused while a mount uses it" sh -c '! rmmod fuse 2> /dev/null'
check "and fuse is still loaded, the mount still works" sh -c "grep -q '^fuse ' /proc/modules && cat $W/mnt/l/s0 > /dev/null"
umount_all || fail "unmount after the loop"

# READ from the block map (passthrough off: the daemon publishes open files as
# backing files), hook off (control) and on
readall() { i=0; while [ $i -lt 20 ]; do [ "$(cat $W/mnt/l/s$i)" = "small file $i" ] || return 1; i=$((i + 1)); done; }
for fp in off on; do
	bpfuse mount $W/src $W/mnt -o $OPT,passthrough=off,fastpath=$fp ||
		fail "bpfuse mounts with passthrough=off (fast path $fp)"
	[ $fp = on ] && get rh0 fpcount read_hit
	get r0 opcount READ
	check "20 files read correctly (fast path $fp)" readall
	check "and read again" readall
	get r1 opcount READ
	[ $fp = on ] && break
	check "control: the hook off brought >= 40 READs to the daemon ($((r1 - r0)))" [ $((r1 - r0)) -ge 40 ]
	umount_all || fail "unmount (READ control)"
done
check "no READ reached the daemon ($r0 -> $r1)" [ "$r1" = "$r0" ]
get rh1 fpcount read_hit
check "the fast path answered READs ($((rh1 - rh0)) >= 40)" [ $((rh1 - rh0)) -ge 40 ]
umount_all || fail "unmount (READ)"
check "unmounted, no daemon left" sh -c "! grep -q ' $W/mnt ' /proc/mounts && ! pidof bpfuse > /dev/null"

# No reference leaked: with the mount and the daemon gone, the module goes.
# (The struct_ops map is freed after an RCU grace period, so a few tries.)
rmfuse() { rmmod fuse 2> /dev/null; }
check "rmmod fuse succeeds after the unmount (refcnt was $(cat /sys/module/fuse/refcnt 2> /dev/null))" until_t 50 rmfuse
check "and fuse is gone from the module list" sh -c "! grep -q '^fuse ' /proc/modules"
[ "$bad" = 0 ]

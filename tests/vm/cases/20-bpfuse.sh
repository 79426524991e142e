#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The bpfuse daemon on the patched kernel: the fast path loads and attaches,
# answers cached LOOKUP/GETATTR/READ with kernel timeouts at 0 (no upcall),
# while a control run of the same workload with the hook off (fastpath=off)
# sends each of them to the daemon; misses still upcall, mutations are
# visible at once, FORGET after in-kernel lookups neither leaks nor frees
# early, and results are identical with the hook on/off.
# Output: "ok N - ..." / "not ok N - ..." lines.  Anything this case cannot
# measure (no daemon, no object, unreadable counters) fails it.
. /lib/bpfuse-case.sh

OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-vm
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest (tests/vm/run.sh copies build/bpfuse)"
command -v vmbench > /dev/null || fail "no vmbench in this guest (tests/vm/run.sh builds bench/vm/vmbench.c)"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"
mkdir -p /run
mkdir -p $W/src $W/mnt $W/ref

# dnum FIELD: a counter of the "daemon" object
dnum() {
	j=$(statsj) || return 1
	v=$(printf '%s\n' "$j" | sed -n "s/.*\"daemon\":{.*\"$1\":\([0-9][0-9]*\)[,}].*/\1/p")
	[ -n "$v" ] || { echo "no daemon.$1 in: $j" >&2; return 1; }
	echo "$v"
}
# publishing: "true" or "false", the fast path's "publishing" field
publishing() {
	j=$(statsj) || return 1
	v=$(printf '%s\n' "$j" | sed -n 's/.*"fastpath":{[^}]*"publishing":\(true\|false\)[,}].*/\1/p')
	[ -n "$v" ] || { echo "no fastpath.publishing in: $j" >&2; return 1; }
	echo "$v"
}
# allreq: the daemon's requests of every opcode, summed (strict: at least INIT is there)
allreq() {
	j=$(statsj) || return 1
	s=$(printf '%s\n' "$j" | sed 's/.*"ops":{//' | grep -o '"daemon_requests":[0-9][0-9]*' | sed 's/.*://')
	[ -n "$s" ] || { echo "no daemon_requests in: $j" >&2; return 1; }
	t=0
	for v in $s; do t=$((t + v)); done
	echo "$t"
}
# opsline: "OP=N ..." of every opcode the daemon saw (for the log)
opsline() { statsj | sed 's/.*"ops":{//' | grep -o '"[A-Z_0-9]*":{"daemon_requests":[0-9]*' | sed 's/"\([^"]*\)":{"daemon_requests":/\1=/' | tr '\n' ' '; }
# until N CMD...: retry CMD for up to N tenths of a second
until_t() { t=$1; shift; while [ "$t" -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done; return 1; }

i=0
mkdir -p $W/src/d
while [ $i -lt 200 ]; do echo "file $i" > $W/src/d/f$i; i=$((i + 1)); done

storm() { i=0; while [ $i -lt 200 ]; do stat -c %s $W/mnt/d/f$i > /dev/null || return 1; i=$((i + 1)); done; }
# storms FP: mount with the fast path FP, warm up, then 600 stats; sets dl, dg
# (the LOOKUP and GETATTR requests those 600 stats brought to the daemon)
storms() {
	bpfuse mount $W/src $W/mnt -o entry_timeout=0,attr_timeout=0,negative_timeout=0,fastpath=$1,fastpath_obj=$OBJ ||
		fail "bpfuse mounts on the patched kernel (fast path $1)"
	ok "bpfuse mounts on the patched kernel (fast path $1)"
	check "warm-up stat of 200 files (fast path $1)" storm
	get l0 opcount LOOKUP; get g0 opcount GETATTR
	check "stat storm 1" storm
	check "stat storm 2" storm
	check "stat storm 3" storm
	get l1 opcount LOOKUP; get g1 opcount GETATTR
	dl=$((l1 - l0)); dg=$((g1 - g0))
}

# Control: the same workload with the hook off sends every stat to the daemon,
# so the zeros below are the fast path's doing, not the kernel's caches.
storms off
check "control: 600 stats with the hook off made >= 600 LOOKUP upcalls ($dl)" [ "$dl" -ge 600 ]
check "control: 600 stats with the hook off made >= 600 GETATTR upcalls ($dg)" [ "$dg" -ge 600 ]
bpfuse umount $W/mnt || fail "unmount after the control run"

storms on
statsj | grep -q '"fastpath":{' || fail "the fast path is not attached: $(statsj | sed -n 's/.*\("fastpath_off_reason":"[^"]*"\).*/\1/p')"
ok "the fast path is attached (stats show it)"
check "600 stats with timeouts 0 made no LOOKUP upcall ($dl)" [ "$dl" = 0 ]
check "600 stats with timeouts 0 made no GETATTR upcall ($dg)" [ "$dg" = 0 ]
get hits fpcount lookup_hit
check "the fast path answered LOOKUPs ($hits)" [ "$hits" -ge 600 ]
get ghits fpcount getattr_hit
check "the fast path answered GETATTRs ($ghits)" [ "$ghits" -ge 600 ]
# the link's cookie (the connection number) is the one the program was loaded with
get fr fpcount foreign_requests
check "no request came with another connection's cookie ($fr)" [ "$fr" = 0 ]

get l2 opcount LOOKUP
stat $W/mnt/d/nope 2>/dev/null
get l3 opcount LOOKUP
check "a miss upcalls ($l2 -> $l3)" [ "$l3" -gt "$l2" ]

# coherence: mutations through the mount are visible at once
rm $W/mnt/d/f1
check "unlink is visible at once" sh -c "! stat $W/mnt/d/f1 2>/dev/null"
mv $W/mnt/d/f2 $W/mnt/d/g2
check "rename: old name gone at once" sh -c "! stat $W/mnt/d/f2 2>/dev/null"
check "rename: new name there at once" [ "$(cat $W/mnt/d/g2)" = "file 2" ]
echo "more data" >> $W/mnt/d/f3
check "append: new size at once" [ "$(stat -c %s $W/mnt/d/f3)" = 17 ]
truncate -s 3 $W/mnt/d/f4
check "truncate: new size at once" [ "$(stat -c %s $W/mnt/d/f4)" = 3 ]
chmod 600 $W/mnt/d/f5
check "chmod: new mode at once" [ "$(stat -c %a $W/mnt/d/f5)" = 600 ]
echo new > $W/mnt/d/f6.new
check "create: visible at once" [ "$(cat $W/mnt/d/f6.new)" = new ]

# FORGET after in-kernel lookups: drop the kernel's dentries and inodes
storm2() { i=7; while [ $i -lt 200 ]; do stat $W/mnt/d/f$i > /dev/null || return 1; i=$((i + 1)); done; }
storm2; storm2
get in0 dnum inodes
get gp0 fpcount grace_periods; get gf0 fpcount grace_period_failures; get gn0 fpcount grace_period_ns
get fo0 opcount FORGET; get bf0 opcount BATCH_FORGET
echo 3 > /proc/sys/vm/drop_caches
sleep 1
get in dnum inodes
check "after the kernel forgot everything, the daemon holds few inodes ($in)" [ "$in" -lt 20 ]
# the last fold of a node waits for an RCU grace period (docs/kernel-hook.md,
# "FORGET stays exact"): counted, none refused, at most one per request
get gp1 fpcount grace_periods; get gf1 fpcount grace_period_failures; get gn1 fpcount grace_period_ns
get fo1 opcount FORGET; get bf1 opcount BATCH_FORGET
dgp=$((gp1 - gp0)); dreq=$((fo1 - fo0 + bf1 - bf0)); dfree=$((in0 - in))
check "FORGET waited for RCU grace periods ($gp0 -> $gp1), none refused ($gf0 -> $gf1)" \
	[ "$dgp" -gt 0 -a "$gf1" = "$gf0" ]
check "at most one grace period per FORGET/BATCH_FORGET: $dgp for $dreq requests ($((fo1 - fo0)) FORGET, $((bf1 - bf0)) BATCH_FORGET) freeing $dfree inodes" \
	[ "$dgp" -le "$dreq" -a "$dfree" -gt "$dgp" ]
[ "$dgp" -gt 0 ] && ok "one grace period took $(((gn1 - gn0) / dgp / 1000)) us on average (TCG, one CPU)"
check "no inode freed early: stats work after the forgets" storm2
get l0 opcount LOOKUP; get g0 opcount GETATTR
check "and again" storm2
get l1 opcount LOOKUP; get g1 opcount GETATTR
check "... answered in the kernel: LOOKUP $l0 -> $l1, GETATTR $g0 -> $g1" [ "$l1" = "$l0" -a "$g1" = "$g0" ]
bpfuse umount $W/mnt
check "unmounted" sh -c "! grep -q ' $W/mnt ' /proc/mounts"

# READ from the block map: without passthrough the daemon publishes each open
# file as a backing file, so reads (first and repeated) stay in the kernel.
# Control first: the same reads with the hook off reach the daemon.
# The first open of each file is the daemon's; it lets the kernel answer the
# next read-only OPENs itself, without passthrough (no RELEASE follows).
readall() { i=10; while [ $i -lt 60 ]; do [ "$(cat $W/mnt/d/f$i)" = "file $i" ] || return 1; i=$((i + 1)); done; }
for fp in off on; do
	bpfuse mount $W/src $W/mnt -o entry_timeout=0,attr_timeout=0,passthrough=off,fastpath=$fp,fastpath_obj=$OBJ ||
		fail "bpfuse mounts with passthrough=off (fast path $fp)"
	get r0 opcount READ
	check "50 files read correctly (fast path $fp)" readall
	get o0 opcount OPEN; get c0 opcount RELEASE
	check "and read again" readall
	get r1 opcount READ
	get o1 opcount OPEN; get c1 opcount RELEASE
	[ $fp = on ] || { check "control: the hook off brought >= 50 READs to the daemon ($r0 -> $r1), and on the second pass >= 50 OPEN ($((o1 - o0))) and RELEASE ($((c1 - c0)))" [ $((r1 - r0)) -ge 50 -a $((o1 - o0)) -ge 50 -a $((c1 - c0)) -ge 50 ]; bpfuse umount $W/mnt || fail "unmount"; }
done
check "no READ reached the daemon ($r0 -> $r1)" [ "$r1" = "$r0" ]
check "the second pass brought no OPEN ($((o1 - o0))) and no RELEASE ($((c1 - c0))) to the daemon" [ $((o1 - o0)) = 0 -a $((c1 - c0)) = 0 ]
get rh fpcount read_hit
check "the fast path answered READs ($rh)" [ "$rh" -ge 100 ]
echo "changed behind" > $W/src/d/f10
# the watcher drops the stale size from the maps within its bound (docs/profiles.md)
seen() { t=0; while [ $t -lt 20 ]; do [ "$(cat $W/mnt/d/f10)" = "changed behind" ] && return 0; sleep 0.1; t=$((t + 1)); done; return 1; }
check "a change made in the source is read within 2 s" seen
bpfuse umount $W/mnt

# The data loader's loop answered in the kernel: with timeouts 0 and
# passthrough on, open/fstat/read/close of cached files (small, and larger
# than a 64 KiB block) reach the daemon 0 times after one warm-up pass: the
# program answers LOOKUP, GETATTR and OPEN (FOPEN_PASSTHROUGH|FOPEN_NOFLUSH,
# no RELEASE follows), reads go to the backing file.  Control first: the same
# loop with the hook off brings each opcode to the daemon.
mkdir -p $W/src/l
i=0
while [ $i -lt 20 ]; do echo "small file $i" > $W/src/l/s$i; i=$((i + 1)); done
i=0
while [ $i -lt 4 ]; do dd if=/dev/urandom of=$W/src/l/b$i bs=1k count=$((150 + 37 * i)) 2> /dev/null; i=$((i + 1)); done
# lp PASSES: the loop over every file of $W/src/l through the mount, checked against it
lp() { vmbench loop $W/mnt/l $W/src/l "$1" > /dev/null; }
LOOPOPT=entry_timeout=0,attr_timeout=0,negative_timeout=0,fastpath_obj=$OBJ
for fp in off on; do
	bpfuse mount $W/src $W/mnt -o $LOOPOPT,fastpath=$fp || fail "bpfuse mounts with passthrough (fast path $fp)"
	check "warm-up: 24 files opened, fstat'ed, read and checked (fast path $fp)" lp 1
	get t0 allreq; get o0 opcount OPEN; get c0 opcount RELEASE; get f0 opcount FLUSH
	get g0 opcount GETATTR; get l0 opcount LOOKUP
	check "5 passes of the loop over 24 files: data and fstat sizes right (fast path $fp)" lp 5
	get t1 allreq; get o1 opcount OPEN; get c1 opcount RELEASE; get f1 opcount FLUSH
	get g1 opcount GETATTR; get l1 opcount LOOKUP
	echo "# fast path $fp: $((t1 - t0)) requests: OPEN $((o1 - o0)) RELEASE $((c1 - c0)) FLUSH $((f1 - f0)) GETATTR $((g1 - g0)) LOOKUP $((l1 - l0)); totals: $(opsline)"
	# isatty() on each file, as CPython's open() does: one FUSE_IOCTL (TCGETS) each
	get i0 opcount IOCTL
	i=0
	while [ $i -lt 20 ]; do tty < $W/mnt/l/s$i > /dev/null; i=$((i + 1)); done
	get i1 opcount IOCTL
	[ $fp = on ] && break
	check "control: 20 isatty() with the hook off made >= 20 IOCTLs ($((i1 - i0)))" [ $((i1 - i0)) -ge 20 ]
	check "control: the loop with the hook off made >= 120 OPEN ($((o1 - o0))), RELEASE ($((c1 - c0))), GETATTR ($((g1 - g0))), LOOKUP ($((l1 - l0)))" \
		[ $((o1 - o0)) -ge 120 -a $((c1 - c0)) -ge 120 -a $((g1 - g0)) -ge 120 -a $((l1 - l0)) -ge 120 ]
	# read-only opens get FOPEN_NOFLUSH from the daemon too: no FLUSH, hook or not
	check "control: and no FLUSH (the daemon answers read-only opens with FOPEN_NOFLUSH) ($((f1 - f0)))" [ $((f1 - f0)) = 0 ]
	bpfuse umount $W/mnt || fail "unmount after the loop's control run"
done
check "the loop with the hook on made 0 requests of any opcode ($((t1 - t0)))" [ $((t1 - t0)) = 0 ]
check "20 isatty() with the hook on made no IOCTL ($((i1 - i0)))" [ $((i1 - i0)) = 0 ]
get ih fpcount ioctl_hit
check "the fast path answered them ENOTTY ($ih >= 20)" [ "$ih" -ge 20 ]
get oh fpcount open_hit
check "the fast path answered the OPENs ($oh >= 120)" [ "$oh" -ge 120 ]
get op fpcount opens_published
check "24 files published for OPEN ($op)" [ "$op" -ge 24 ]
get o0 opcount OPEN
echo appended >> $W/mnt/l/s0
get o1 opcount OPEN
check "a write open still reaches the daemon (OPEN $o0 -> $o1)" [ "$o1" -gt "$o0" ]
check "and the appended file reads right at once" lp 1
printf 'changed behind the mount, longer than before\n' > $W/src/l/s5
dd if=/dev/urandom of=$W/src/l/b1 bs=1k count=99 2> /dev/null
# content: passthrough reads the source file itself; size: the watcher drops the attributes
check "changes made in the source after warm-up are seen by the next open (content and fstat size, within 2 s)" \
	until_t 20 lp 1
get t0 allreq
lp 2
get t1 allreq
check "and then the loop is answered in the kernel again ($((t1 - t0)) requests)" [ $((t1 - t0)) = 0 ]
# FORGET releases what was published: no backing file is kept for a forgotten node
echo 3 > /proc/sys/vm/drop_caches
sleep 1
get op fpcount opens_published
check "after the kernel forgot the files, no backing file is kept for OPEN ($op)" [ "$op" = 0 ]
check "and the loop works again from scratch" lp 2
bpfuse umount $W/mnt || fail "unmount after the loop"

# Kernel-answered opens under concurrency: fp_stress (readers opening,
# reading, fstat'ing and holding fds, racing unlink/create, rename, truncate,
# chmod and drop_caches; tests/vm/fp_stress.c) on a passthrough mount, where
# read-only OPENs are answered in the kernel: no ESTALE/EIO/wrong data, and
# after the kernel forgot everything no backing file stays published.
command -v fp_stress > /dev/null || fail "no fp_stress in this guest (tests/vm/run.sh builds it)"
mkdir -p $W/ssrc
bpfuse mount $W/ssrc $W/mnt -o $LOOPOPT || fail "bpfuse mounts (stress with kernel-answered opens)"
get oh0 fpcount open_hit
fp_stress $W/ssrc $W/mnt 10 > $W/stress.out
src=$?
sed 's/^\(not \)\{0,1\}ok /# stress: &/' $W/stress.out
check "fp_stress on a passthrough mount: every check passed (exit $src, $(grep -c '^not ok' $W/stress.out) failed)" [ "$src" = 0 ]
get oh1 fpcount open_hit
check "OPENs were answered in the kernel during the stress ($((oh1 - oh0)))" [ $((oh1 - oh0)) -gt 50 ]
echo 3 > /proc/sys/vm/drop_caches
sleep 1
get op fpcount opens_published; get in dnum inodes
check "after the kernel forgot everything: no backing file published ($op), the daemon holds $in inodes" [ "$op" = 0 -a "$in" -lt 5 ]
bpfuse umount $W/mnt || fail "unmount (stress with kernel-answered opens)"

# Negative entries: a LOOKUP that found nothing publishes "no such name";
# repeated stats of it are answered in the kernel (control: hook off, each
# upcalls), a create in the mount and one in the source behind it are seen.
missing() { i=0; while [ $i -lt 100 ]; do ! stat $W/mnt/l/missing$1 > /dev/null 2>&1 || return 1; i=$((i + 1)); done; }
for fp in off on; do
	bpfuse mount $W/src $W/mnt -o $LOOPOPT,fastpath=$fp || fail "bpfuse mounts (negative entries, fast path $fp)"
	missing 1
	get l0 opcount LOOKUP
	check "100 stats of a missing name fail with ENOENT (fast path $fp)" missing 1
	get l1 opcount LOOKUP
	[ $fp = on ] && break
	check "control: with the hook off they made >= 100 LOOKUPs ($((l1 - l0)))" [ $((l1 - l0)) -ge 100 ]
	bpfuse umount $W/mnt || fail "unmount (negative entries)"
done
check "with the hook on they made no LOOKUP ($((l1 - l0)))" [ $((l1 - l0)) = 0 ]
get nh fpcount negative_hit
check "the fast path answered them \"no such name\" ($nh >= 100)" [ "$nh" -ge 100 ]
echo made > $W/mnt/l/missing1
check "a create in the mount is seen at once" [ "$(cat $W/mnt/l/missing1 2>&1)" = made ]
missing 2
echo behind > $W/src/l/missing2
seen2() { [ "$(cat $W/mnt/l/missing2 2>/dev/null)" = behind ]; }
check "a create in the source behind the mount is seen (within 2 s)" until_t 20 seen2
L=$W/mnt/l
missing 3
check "mkdir over a negative entry is seen at once" sh -c "mkdir $L/missing3 && [ -d $L/missing3 ]"
missing 4
check "a rename onto a negative entry is seen at once" sh -c "mv $L/s1 $L/missing4 && [ \"\$(cat $L/missing4)\" = 'small file 1' ]"
missing 5
check "a hard link onto a negative entry is seen at once" sh -c "ln $L/s2 $L/missing5 && [ \"\$(cat $L/missing5)\" = 'small file 2' ]"
missing 6
check "a symlink onto a negative entry is seen at once" sh -c "ln -s s3 $L/missing6 && [ \"\$(cat $L/missing6)\" = 'small file 3' ]"
missing 7
check "mknod (mkfifo) over a negative entry is seen at once" sh -c "mkfifo $L/missing7 && [ -p $L/missing7 ]"
bpfuse umount $W/mnt || fail "unmount (negative entries)"
rm -rf $W/src/l/missing*

# Deadlines (fastpath_max_age): what the kernel answers from the maps is
# answered at most that long after it was published; then the next request
# asks the daemon, which publishes again.
bpfuse mount $W/src $W/mnt -o $LOOPOPT,fastpath_max_age=2 || fail "bpfuse mounts with fastpath_max_age=2"
check "warm-up (fastpath_max_age=2)" lp 1
get t0 allreq
lp 1
get t1 allreq
check "within the age the loop is answered in the kernel ($((t1 - t0)) requests)" [ $((t1 - t0)) = 0 ]
sleep 2.2
get e0 fpcount expired; get l0 opcount LOOKUP
lp 1
get e1 fpcount expired; get l1 opcount LOOKUP
# (each LOOKUP's reply publishes the node again, so its OPEN and fstat are answered)
check "past the age the names are not served: $((l1 - l0)) LOOKUPs for 24 files, $((e1 - e0)) expired" \
	[ $((l1 - l0)) -ge 24 -a $((e1 - e0)) -ge 24 ]
get t0 allreq
lp 1
get t1 allreq
check "and once published again, answered in the kernel ($((t1 - t0)) requests)" [ $((t1 - t0)) = 0 ]
bpfuse umount $W/mnt || fail "unmount (fastpath_max_age)"

# Watcher overflow: change events were lost, so the maps are flushed entirely
# (counted), the kernel's caches dropped, a change whose event was lost is
# seen, and the fast path fills again.  A queue of one event overflows at once.
MNTOPT=entry_timeout=0,attr_timeout=0,negative_timeout=0,fastpath_obj=$OBJ
q0=$(cat /proc/sys/fs/inotify/max_queued_events) || fail "no /proc/sys/fs/inotify in this guest"
echo 1 > /proc/sys/fs/inotify/max_queued_events
bpfuse mount $W/src $W/mnt -o $MNTOPT || fail "bpfuse mounts (overflow test)"
echo "$q0" > /proc/sys/fs/inotify/max_queued_events
storm2; storm2
get o0 dnum watch_overflows; get f0 fpcount map_flushes
echo "changed behind an overflow" > $W/src/d/f20
overflowed() {
	touch $W/src/d/o$1a $W/src/d/o$1b $W/src/d/o$1c $W/src/d/o$1d $W/src/d/o$1e $W/src/d/o$1f
	v=$(dnum watch_overflows) && [ "$v" -gt "$o0" ]
}
r=0; while [ $r -lt 20 ] && ! overflowed $r; do r=$((r + 1)); sleep 0.1; done
get o1 dnum watch_overflows; get f1 fpcount map_flushes
check "an inotify queue overflow is counted ($o0 -> $o1)" [ "$o1" -gt "$o0" ]
check "and flushes the fast-path maps ($f0 -> $f1)" [ "$f1" -gt "$f0" ]
check "a change whose event was lost is seen" [ "$(cat $W/mnt/d/f20)" = "changed behind an overflow" ]
get l0 opcount LOOKUP
storm2
get l1 opcount LOOKUP
check "after the flush the cached names are looked up again ($((l1 - l0)) LOOKUPs for 193 stats)" [ $((l1 - l0)) -ge 190 ]
get l0 opcount LOOKUP; get g0 opcount GETATTR
storm2
get l1 opcount LOOKUP; get g1 opcount GETATTR
check "and then answered in the kernel again: LOOKUP $l0 -> $l1, GETATTR $g0 -> $g1" [ "$l1" = "$l0" -a "$g1" = "$g0" ]
bpfuse umount $W/mnt || fail "unmount (overflow test)"

# Watches run out: a directory of the source cannot be watched, so its
# changes would stay in the never-expiring maps: the maps are flushed and
# nothing is published any more (stats say so); every stat reaches the daemon.
mkdir -p $W/src/e1
bpfuse mount $W/src $W/mnt -o $MNTOPT || fail "bpfuse mounts (watch loss test)"
storm2; storm2
get f0 fpcount map_flushes
get p0 publishing
w0=$(cat /proc/sys/fs/inotify/max_user_watches)
echo 1 > /proc/sys/fs/inotify/max_user_watches
ls $W/mnt/e1 > /dev/null
echo "$w0" > /proc/sys/fs/inotify/max_user_watches
stopped() { [ "$(publishing)" = false ]; }
until_t 50 stopped
get p1 publishing; get f1 fpcount map_flushes
check "a lost watch stops the fast path's publishing ($p0 -> $p1)" [ "$p0" = true -a "$p1" = false ]
check "and flushes the maps ($f0 -> $f1)" [ "$f1" -gt "$f0" ]
get l0 opcount LOOKUP; get g0 opcount GETATTR
storm2; storm2
get l1 opcount LOOKUP; get g1 opcount GETATTR
check "then every stat reaches the daemon: $((l1 - l0)) LOOKUP, $((g1 - g0)) GETATTR for 386 stats" [ $((l1 - l0)) -ge 386 -a $((g1 - g0)) -ge 386 ]
bpfuse umount $W/mnt || fail "unmount (watch loss test)"

# A source on a network filesystem (a FUSE mount counts as one: another
# daemon's changes are invisible to inotify): no fast path unless
# fastpath_remote=on says so.
mkdir -p $W/outer $W/mnt2
bpfuse mount $W/src $W/outer -o fastpath=off || fail "bpfuse mounts the outer mount"
M=$W/mnt2
bpfuse mount $W/outer $W/mnt2 -o $MNTOPT 2> /dev/null || fail "bpfuse mounts a FUSE source"
j=$(statsj) || fail "stats of the mount on a FUSE source"
case $j in *'"fastpath":null,"fastpath_off_reason":"the source is on FUSE'*'fastpath_remote=on'*) r=0 ;; *) r=1 ;; esac
check "on a network-filesystem source the fast path is off by default, saying why" [ $r = 0 ]
bpfuse umount $W/mnt2 || fail "unmount $W/mnt2"
bpfuse mount $W/outer $W/mnt2 -o $MNTOPT,fastpath_remote=on 2> /dev/null || fail "bpfuse mounts a FUSE source with fastpath_remote=on"
j=$(statsj) || fail "stats of the mount on a FUSE source"
case $j in *'"fastpath":{'*) r=0 ;; *) r=1 ;; esac
check "fastpath_remote=on turns it on" [ $r = 0 ]
bpfuse umount $W/mnt2 || fail "unmount $W/mnt2"
bpfuse umount $W/outer || fail "unmount $W/outer"
M=

# correctness: posix_ops transcripts identical on a plain dir, hook on, hook off
command -v posix_ops > /dev/null || fail "no posix_ops in this guest (tests/vm/run.sh copies it)"
{
	mkdir -p $W/p0 $W/s1 $W/s2
	posix_ops $W/p0 > $W/ref.txt 2>&1
	for fp in on off; do
		bpfuse mount $W/s1 $W/mnt -o entry_timeout=0,attr_timeout=0,fastpath=$fp,fastpath_obj=$OBJ
		mkdir $W/mnt/t && posix_ops $W/mnt/t > $W/out-$fp.txt 2>&1
		bpfuse umount $W/mnt
		rm -rf $W/s1/t
		check "posix_ops transcript with the fast path $fp equals the plain directory's" \
			cmp -s $W/ref.txt $W/out-$fp.txt
		cmp -s $W/ref.txt $W/out-$fp.txt || diff $W/ref.txt $W/out-$fp.txt | head -20
	done
}
[ "$bad" = 0 ]

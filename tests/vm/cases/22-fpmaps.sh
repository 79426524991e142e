#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fast-path map sizes (fastpath_entries=, fastpath_blocks=; docs/kernel-hook.md,
# "Map sizes"): the daemon sizes each map per mount; `bpfuse stats` shows the
# sizes and the kernel memory the maps pin (the kernel's own fdinfo memlock);
# a map that is full refuses inserts, which are counted and warned about once,
# and what did not fit is answered by the daemon, correctly.
# Output: "ok N - ..." / "not ok N - ..." lines; anything unreadable fails.
. /lib/bpfuse-case.sh

OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-fpmaps
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest (tests/vm/run.sh copies build/bpfuse)"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"
mkdir -p /run $W/src/d $W/mnt
NF=40
i=0
while [ $i -lt $NF ]; do echo "file $i" > $W/src/d/f$i; i=$((i + 1)); done

# fptotal FIELD: a sum over the maps (the fields just before "maps", whose members repeat the names)
fptotal() {
	j=$(statsj) || return 1
	v=$(printf '%s\n' "$j" | sed -n "s/.*\"fastpath\":{[^}]*\"$1\":\([0-9][0-9]*\),\"memlock_bytes\":[0-9]*,\"memlock_max_bytes\":[0-9]*,\"maps\":{.*/\1/p;s/.*\"fastpath\":{[^}]*\"$1\":\([0-9][0-9]*\),\"memlock_max_bytes\":[0-9]*,\"maps\":{.*/\1/p;s/.*\"fastpath\":{[^}]*\"$1\":\([0-9][0-9]*\),\"maps\":{.*/\1/p")
	[ -n "$v" ] || { echo "no fastpath.$1 in: $j" >&2; return 1; }
	echo "$v"
}
# mapinfo MAP: "max_entries memlock_bytes memlock_max_bytes full" of fastpath.maps.MAP
mapinfo() {
	j=$(statsj) || return 1
	v=$(printf '%s\n' "$j" | sed -n "s/.*\"fastpath\":{.*\"maps\":{.*\"$1\":{\"max_entries\":\([0-9][0-9]*\),\"memlock_bytes\":\([0-9][0-9]*\),\"memlock_max_bytes\":\([0-9][0-9]*\),\"full\":\([0-9][0-9]*\)}.*/\1 \2 \3 \4/p")
	[ -n "$v" ] || { echo "no fastpath.maps.$1 in: $j" >&2; return 1; }
	echo "$v"
}
MAPS="fp_dentries fp_inodes fp_nlookup fp_blocks"

# mount_fg OPTS: the daemon in the foreground (its log to $W/log), mounted when this returns
mount_fg() {
	bpfuse mount $W/src $W/mnt -f -o "$1,fastpath_obj=$OBJ" 2> $W/log &
	pid=$!
	# mounted, INIT answered and the fast path attached (the daemon attaches after INIT)
	t=0
	while ! { grep -q " $W/mnt " /proc/mounts && statsj 2> /dev/null | grep -q '"fastpath":{'; }; do
		if [ $t -ge 100 ] || ! kill -0 $pid 2> /dev/null; then
			cat $W/log; statsj > /dev/null
			fail "bpfuse mounts with the fast path attached (-o $1)"
		fi
		sleep 0.1; t=$((t + 1))
	done
	ok "bpfuse mounts with the fast path attached (-o $1)"
}
umount_fg() {
	bpfuse umount $W/mnt || fail "unmount"
	wait $pid
}

# --- the default sizes
mount_fg entry_timeout=0,attr_timeout=0
for m in $MAPS; do
	get info mapinfo $m
	set -- $info
	want=65536; [ $m = fp_blocks ] && want=131072
	check "default: $m holds at most $want entries ($1)" [ "$1" = $want ]
	check "default: $m pins $2 bytes now (the kernel's count), $3 when full" \
		[ "$2" -gt 0 -a "$3" -gt "$2" ]
done
get all fptotal memlock_max_bytes
check "default: all maps at most $((all >> 20)) MiB when full (< 80 MiB)" [ $all -lt $((80 << 20)) ]
umount_fg

# --- a tiny mount: 16 names and nodes for 40 files
mount_fg entry_timeout=0,attr_timeout=0,negative_timeout=0,fastpath_entries=16,fastpath_blocks=20
for m in $MAPS; do
	get info mapinfo $m
	set -- $info
	want=16; [ $m = fp_blocks ] && want=20
	check "fastpath_entries=16,fastpath_blocks=20: $m holds at most $want entries ($1)" [ "$1" = $want ]
done
get full0 fptotal map_full
get in0 mapinfo fp_inodes
check "no insert refused before any lookup ($full0)" [ "$full0" = 0 ]

storm() {
	i=0
	while [ $i -lt $NF ]; do
		[ "$(stat -c %s $W/mnt/d/f$i)" = "$(stat -c %s $W/src/d/f$i)" ] || return 1
		i=$((i + 1))
	done
}
check "warm-up: $NF stats give the source's sizes" storm
get full fptotal map_full
get in1 mapinfo fp_inodes
set -- $in0; m0=$2; set -- $in1
check "not preallocated: fp_inodes pinned $m0 bytes before the lookups, $2 after (more)" [ "$2" -gt "$m0" ]
check "inserts refused because a map was full are counted ($full)" [ "$full" -gt 0 ]
# A map refusing inserts is at its cap: the kernel's own memlock then equals
# what the daemon computes for a full map.
nfull=0
for m in $MAPS; do
	get info mapinfo $m
	set -- $info
	[ "$4" -gt 0 ] || continue
	nfull=$((nfull + 1))
	check "$m refused $4 inserts; the kernel's memlock of it ($2) is its size when full ($3)" [ "$2" = "$3" ]
done
check "the refusals are counted per map ($nfull maps)" [ $nfull -gt 0 ]
# fp_inodes holds the root's and d's attributes too, so it fills first; a name
# is put only after its inode entry and counter, so the other two never fill
get di mapinfo fp_dentries; get ci mapinfo fp_nlookup
check "no name or counter is put without its inode entry: fp_dentries and fp_nlookup refused none (${di##* }, ${ci##* })" \
	[ "${di##* }" = 0 -a "${ci##* }" = 0 ]
w=$(grep -c 'fast path degraded' $W/log)
check "the log warns that the fast path is degraded ($w lines, <= one per full map)" \
	[ "$w" -ge 1 -a "$w" -le $nfull ]
check "the warning names the option to raise" grep -q 'fast path degraded.*raise -o fastpath_entries=N' $W/log

# with timeouts 0 every stat asks: what fits is answered in the kernel, the rest by the daemon
get l0 opcount LOOKUP; get h0 fpcount lookup_hit
check "storm 1: $NF stats give the source's sizes" storm
get l1 opcount LOOKUP; get h1 fpcount lookup_hit
check "storm 2" storm
get l2 opcount LOOKUP; get h2 fpcount lookup_hit
d1=$((l1 - l0)); d2=$((l2 - l1))
check "the files that did not fit reach the daemon: $d1 LOOKUPs for $NF stats (>= $((NF - 16)))" \
	[ $d1 -ge $((NF - 16)) ]
check "... every time ($d2 LOOKUPs in the next storm)" [ $d2 = $d1 ]
check "the files that fit are answered in the kernel ($((h1 - h0)) LOOKUPs)" [ $((h1 - h0)) -ge 1 ]
check "together every lookup was answered ($d1 by the daemon + $((h1 - h0)) in the kernel >= $NF)" \
	[ $((d1 + h1 - h0)) -ge $NF ]
check "contents read through the mount are the source's" \
	sh -c "i=0; while [ \$i -lt $NF ]; do cmp -s $W/mnt/d/f\$i $W/src/d/f\$i || exit 1; i=\$((i + 1)); done"
bpfuse stats $W/mnt --prometheus > $W/prom || fail "bpfuse stats --prometheus"
check "prometheus shows the sizes" grep -q "^bpfuse_fastpath_map_max_entries{mount=\"$W/mnt\",map=\"fp_dentries\"} 16\$" $W/prom
check "prometheus shows the refusals" grep -q "^bpfuse_fastpath_map_full_total{mount=\"$W/mnt\",map=\"fp_inodes\"} [1-9][0-9]*\$" $W/prom
bpfuse stats $W/mnt > $W/table || fail "bpfuse stats"
check "the table shows the maps' sizes" grep -q 'fp_dentries *16 entries max' $W/table
check "the table shows the refusals" grep -q 'inserts refused for want of room.*degraded' $W/table
umount_fg
check "unmounted" sh -c "! grep -q ' $W/mnt ' /proc/mounts"

# --- bounds: a size below 16 is refused before mounting
if bpfuse mount $W/src $W/mnt -o fastpath_entries=15 2> $W/err; then
	umount_fg
	notok "fastpath_entries=15 is refused"
else
	check "fastpath_entries=15 is refused with one line naming the option" \
		sh -c "[ \$(wc -l < $W/err) = 1 ] && grep -q \"option 'fastpath_entries'\" $W/err"
fi
check "nothing mounted" sh -c "! grep -q ' $W/mnt ' /proc/mounts"
[ "$bad" = 0 ]

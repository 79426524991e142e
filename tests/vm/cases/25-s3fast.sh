#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vm: needs s3
# The fast path on an S3 mount (docs/s3.md, "In the kernel"), against the host's
# radosgw as in 24-s3: a second mount in the guest, without the fast path, is
# another client of the bucket; it writes fast/x.bin.  The fast-path mount
# (list_ttl=$TTL, kernel timeouts 0) reads it twice (cold from S3, then from
# the complete cache file by passthrough, which publishes it for OPEN); after
# one revalidating stat, open/fstat/read/close of it reach the daemon 0 times
# (LOOKUP, GETATTR, OPEN, READ, FLUSH, RELEASE; answered by BPF, counted),
# against a control on the same mount with fastpath=off.  Then the other client
# overwrites the object (same size, new bytes, through radosgw): once list_ttl
# has passed, the fast-path mount reads the new bytes.  Then a partly cached
# object (fast/p.bin, 20 MiB + 12345): the blocks its reads stored are answered
# by BPF (no READ reaches the daemon), the kernel answers its OPENs (without
# passthrough), so the loop on it reaches the daemon 0 times while its tail is
# not cached; its uncached tail is read by the daemon (a READ with fh 0) and
# then answered too, and an overwrite by the other client is read past
# list_ttl even with an open of the old version held.
# Output: "ok N - ..." / "not ok N - ..." lines; anything unreadable fails.
. /lib/bpfuse-case.sh

OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-s3fast
TTL=8
LOOPS=10
s3_env
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest (tests/vm/run.sh copies build/bpfuse)"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"
mkdir -p /run $W/mnt $W/wmnt
rm -rf /cache/s3fast /cache/s3fast-w

sumf() { sha256sum < $W/mnt/fast/x.bin | cut -d' ' -f1; }
# counts: the daemon's LOOKUP GETATTR OPEN READ FLUSH RELEASE, one line
counts() {
	for op in LOOKUP GETATTR OPEN READ FLUSH RELEASE; do
		v=$(opcount $op) || return 1
		printf '%s ' "$v"
	done
}
# turns FILE READ WANT: LOOPS x (stat FILE, then open/fstat/read/close: the
# output of READ must be WANT); 0 if every read was right
turns() {
	i=0
	while [ $i -lt $LOOPS ]; do
		stat -c %s "$1" > /dev/null || return 1
		[ "$($2)" = "$3" ] || return 1
		i=$((i + 1))
	done
}
# delta A B: $out "LOOKUP x, GETATTR y, ..." of the counts B - A, $dsum their sum
delta() {
	out=$(echo "$1|$2" | awk -F'|' '{ split($1, a, " "); split($2, b, " ");
		n = split("LOOKUP GETATTR OPEN READ FLUSH RELEASE", o, " "); s = 0;
		for (i = 1; i <= n; i++) { d = b[i] - a[i]; s += d; printf "%s %d, ", o[i], d }
		printf "|%d", s }')
	dsum=${out##*|}
	out=${out%|*}
}
# fast_turns WHAT FILE READ WANT MIN_READS: a fresh deadline (past list_ttl one
# stat revalidates, with a HEAD, and publishes again), then the turns on FILE:
# every read right, no request reaches the daemon, BPF answers >= LOOPS OPENs
# and >= MIN_READS READs
fast_turns() {
	sleep $((TTL + 1))
	stat "$2" > /dev/null || fail "stat $2"
	c0=$(counts) || fail "cannot read the daemon's counts"
	get oh0 fpcount open_hit
	get rh0 fpcount read_hit
	t0=$(date +%s)
	check "$LOOPS turns on $1 read right" turns "$2" "$3" "$4"
	t1=$(date +%s)
	c1=$(counts) || fail "cannot read the daemon's counts"
	get oh1 fpcount open_hit
	get rh1 fpcount read_hit
	delta "$c0" "$c1"
	if [ $((t1 - t0)) -lt $TTL ]; then
		check "fast path: $LOOPS turns of stat and open/fstat/read/close of $1 bring ${out}to the daemon (want 0 each)" [ $dsum = 0 ]
	else
		notok "the turns took $((t1 - t0)) s, past list_ttl=$TTL: the machine is too slow for this check (${out})"
	fi
	check "BPF answered the OPENs ($((oh1 - oh0)), want >= $LOOPS) and READs (read_hit +$((rh1 - rh0)), want >= $5)" \
		[ $((oh1 - oh0)) -ge $LOOPS -a $((rh1 - rh0)) -ge $5 ]
}

# the other client: writes the object through radosgw
s3mount_ttl $W/wmnt /cache/s3fast-w fastpath=off ||
	fail "the writer mounts s3://$S3_BUCKET: $(tail -n 3 $W/mount.err | tr '\n' ' ')"
mkdir -p $W/wmnt/fast
head -c 300007 /dev/urandom > $W/v1
head -c 300007 /dev/urandom > $W/v2
v1=$(sha256sum < $W/v1 | cut -d' ' -f1)
v2=$(sha256sum < $W/v2 | cut -d' ' -f1)
cp $W/v1 $W/wmnt/fast/x.bin || fail "the writer uploads fast/x.bin"
ok "another client wrote fast/x.bin (300007 bytes)"

# --- control: the same mount and loop without the fast path
s3mount_ttl $W/mnt /cache/s3fast fastpath=off ||
	fail "bpfuse mounts s3://$S3_BUCKET (fastpath=off): $(tail -n 3 $W/mount.err | tr '\n' ' ')"
check "control: cold and warm reads are right" sh -c "[ \"\$(sha256sum < $W/mnt/fast/x.bin | cut -d' ' -f1)\" = $v1 ] && [ \"\$(sha256sum < $W/mnt/fast/x.bin | cut -d' ' -f1)\" = $v1 ]"
c0=$(counts) || fail "cannot read the daemon's counts"
check "control: $LOOPS turns read right" turns $W/mnt/fast/x.bin sumf $v1
c1=$(counts) || fail "cannot read the daemon's counts"
set -- $c0; lo0=$1 op0=$3; set -- $c1; lo1=$1 op1=$3
check "control: without the fast path the turns bring $((lo1 - lo0)) LOOKUP, $((op1 - op0)) OPEN to the daemon (want >= $LOOPS each)" \
	[ $((lo1 - lo0)) -ge $LOOPS -a $((op1 - op0)) -ge $LOOPS ]
bpfuse umount $W/mnt || fail "unmount (control)"

# --- the fast path
s3mount_ttl $W/mnt /cache/s3fast fastpath=on,fastpath_obj=$OBJ ||
	fail "bpfuse mounts s3://$S3_BUCKET with the fast path: $(tail -n 3 $W/mount.err | tr '\n' ' ')"
j=$(statsj) || fail "bpfuse stats --json of the S3 mount"
case $j in
*'"fastpath":{'*) ok "the fast path is attached to the S3 mount" ;;
*) fail "the fast path is attached to the S3 mount (off: $(printf '%s\n' "$j" | sed -n 's/.*"fastpath_off_reason":"\([^"]*\)".*/\1/p'))" ;;
esac
# the cache is warm from the control: the first open is a passthrough open of
# the complete cache file, and publishes it for OPEN
check "first read through the fast-path mount is right" [ "$(sumf)" = $v1 ]
get po fpcount opens_published
check "the complete object is published for OPEN (fastpath.opens_published $po)" [ "$po" -ge 1 ]
# passthrough reads: no READ for BPF to answer
fast_turns "the cached object" $W/mnt/fast/x.bin sumf $v1 0

# --- the other client overwrites it: seen once the deadline has passed
cp $W/v2 $W/wmnt/fast/x.bin || fail "the writer overwrites fast/x.bin"
ok "another client overwrote fast/x.bin (same size, new bytes)"
sleep $((TTL + 1))
check "past list_ttl the fast-path mount reads the new bytes" [ "$(sumf)" = $v2 ]
check "... and again" [ "$(sumf)" = $v2 ]
get po fpcount opens_published
check "the old version is no longer published for OPEN (fastpath.opens_published $po, want <= 1)" [ "$po" -le 1 ]

# --- a partly cached object: its verified blocks are published for READ
# (PSIZE: three 8 MiB parts, the last one short and not on a block boundary).
# The first MiB read fetches parts 0 and 1 (readahead), not the tail.  Its
# first open is served by the daemon (cold_direct: past the page cache); the
# kernel answers the next ones, through the page cache but without
# keep_cache (attr_timeout=0), so every open drops the pages and every read is
# a READ: the blocks published are answered by BPF.
PSIZE=$((20 * 1048576 + 12345))
head -c $PSIZE /dev/urandom > $W/p1
head -c $PSIZE /dev/urandom > $W/p2
cp $W/p1 $W/wmnt/fast/p.bin || fail "the writer uploads fast/p.bin"
# range FILE SKIP_MIB: sha256 of the MiB (or what is left) at SKIP_MIB of FILE
range() { dd if="$1" bs=1048576 skip="$2" count=1 2> /dev/null | sha256sum | cut -d' ' -f1; }
sleep $((TTL + 1)) # the fast-path mount's listing of fast/ predates p.bin
# the block files held before p.bin's: x.bin's new version is an inode of its own
# (docs/s3.md, "Consistency"), whose first open the daemon served, so its blocks stay
# held for the OPENs the kernel answers
get bf0 fpcount block_files
check "the first MiB of the partly cached object is right (from S3)" [ "$(range $W/mnt/fast/p.bin 0)" = "$(range $W/p1 0)" ]
sleep 1 # the RELEASE of the close
get fb fpcount file_blocks
get bf fpcount block_files
get po fpcount opens_published
check "its blocks stay published after its last close, for the OPENs the kernel answers (fastpath.file_blocks $fb, want >= 128; block_files $bf, want $((bf0 + 1)); opens_published $po, want >= 1)" \
	[ "$fb" -ge 128 -a "$bf" = $((bf0 + 1)) -a "$po" -ge 1 ]
stat $W/mnt/fast/p.bin > /dev/null || fail "stat fast/p.bin"
c0=$(counts) || fail "cannot read the daemon's counts"
get rh0 fpcount read_hit
check "re-read of the first MiB is right" [ "$(range $W/mnt/fast/p.bin 0)" = "$(range $W/p1 0)" ]
c1=$(counts) || fail "cannot read the daemon's counts"
get rh1 fpcount read_hit
set -- $c0; rd0=$4; set -- $c1; rd1=$4
check "... answered by BPF: $((rd1 - rd0)) READ reach the daemon (want 0), read_hit +$((rh1 - rh0)) (want > 0)" \
	[ $((rd1 - rd0)) = 0 -a $((rh1 - rh0)) -gt 0 ]
# the loader's loop on it while its tail is not cached: after one revalidating
# stat, stat and open/fstat/read/close of its first MiB reach the daemon 0 times
# (OPEN answered without passthrough, READ from the published blocks)
p1mib() { range $W/mnt/fast/p.bin 0; }
fast_turns "the partly cached object" $W/mnt/fast/p.bin p1mib "$(range $W/p1 0)" $LOOPS
# the tail (block 20, not fetched): the daemon reads it, then it is published too
c0=$(counts) || fail "cannot read the daemon's counts"
check "the uncached tail is right (from S3)" [ "$(range $W/mnt/fast/p.bin 20)" = "$(range $W/p1 20)" ]
c1=$(counts) || fail "cannot read the daemon's counts"
set -- $c0; rd0=$4; set -- $c1; rd1=$4
check "... its READs reached the daemon ($((rd1 - rd0)), want > 0)" [ $((rd1 - rd0)) -gt 0 ]
c0=$(counts) || fail "cannot read the daemon's counts"
get rh0 fpcount read_hit
check "re-read of the tail is right" [ "$(range $W/mnt/fast/p.bin 20)" = "$(range $W/p1 20)" ]
c1=$(counts) || fail "cannot read the daemon's counts"
get rh1 fpcount read_hit
set -- $c0; rd0=$4; set -- $c1; rd1=$4
check "... answered by BPF now: $((rd1 - rd0)) READ reach the daemon (want 0), read_hit +$((rh1 - rh0)) (want > 0)" \
	[ $((rd1 - rd0)) = 0 -a $((rh1 - rh0)) -gt 0 ]
# another client overwrites it while an open of the old version is held: past
# list_ttl the new bytes are read, never the old version's published blocks
exec 3< $W/mnt/fast/p.bin || fail "open fast/p.bin"
get fb fpcount file_blocks
check "an open publishes the verified blocks (fastpath.file_blocks $fb, want >= 128: part 0)" [ "$fb" -ge 128 ]
cp $W/p2 $W/wmnt/fast/p.bin || fail "the writer overwrites fast/p.bin"
sleep $((TTL + 1))
check "past list_ttl the first MiB is the new bytes" [ "$(range $W/mnt/fast/p.bin 0)" = "$(range $W/p2 0)" ]
check "... and the tail" [ "$(range $W/mnt/fast/p.bin 20)" = "$(range $W/p2 20)" ]
get rh0 fpcount read_hit
check "... and again" [ "$(range $W/mnt/fast/p.bin 0)" = "$(range $W/p2 0)" ]
get rh1 fpcount read_hit
check "... now from the new version's published blocks (read_hit +$((rh1 - rh0)), want > 0)" [ $((rh1 - rh0)) -gt 0 ]
exec 3<&-
sleep 1
get bf fpcount block_files
check "after the last close one version's blocks are held, not the old one's too (fastpath.block_files $bf, want $((bf0 + 1)))" [ "$bf" = $((bf0 + 1)) ]

bpfuse umount $W/mnt || fail "unmount of the fast-path mount"
bpfuse umount $W/wmnt || fail "unmount of the writer"
fusemounts() { awk '$3 ~ /^fuse(\.|$)/' /proc/mounts; }
check "no FUSE mount is left" [ -z "$(fusemounts)" ]
rm -rf /cache/s3fast /cache/s3fast-w
[ "$bad" = 0 ]

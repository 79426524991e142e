#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vm: needs s3
# The S3 fast path under concurrency, on the debug kernel (KASAN, lockdep,
# atomic-sleep checks; 2 vCPUs), against the host's radosgw as in 25-s3fast.
# A fast-path mount (list_ttl=$TTL, kernel timeouts 0) and a second mount, the
# other client, which overwrites the objects again and again with one of two
# versions: s/p.bin (9 MiB + 12345: two 8 MiB parts, read in two ranges, so
# partly cached after each overwrite until both parts are fetched: its read-only OPENs are answered in the kernel without passthrough,
# its READs from the published blocks or by the daemon's reader of the node)
# and s/x.bin (300007 bytes, complete once read: OPENs answered with
# passthrough to its cache file).  $READERS readers loop for $SECS s over the
# two ranges of p.bin and the whole of x.bin while the other client overwrites
# them and the kernel forgets its inodes (drop_caches), with an open of p.bin
# held across.  Asserted: no read fails (no EIO, no ESTALE), every 64 KiB
# chunk read of p.bin is that chunk of one of the two versions and every read
# of x.bin is one whole version (one open, one cache file), the fast path
# answered OPENs and READs meanwhile, the held open still reads, once
# list_ttl has passed both objects read as the last version written, and the
# kernel log has no report.
# Output: "ok N - ..." / "not ok N - ..." lines; anything unreadable fails.
. /lib/bpfuse-case.sh

OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-s3stress
TTL=2
SECS=${BPFUSE_STRESS_SECONDS:-30}
READERS=3
PSIZE=$((9 * 1048576 + 12345))
debug_kernel
s3_env
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest"
[ -f $OBJ ] || fail "no fast-path object $OBJ in this guest"
mkdir -p /run $W/mnt $W/wmnt
rm -rf /cache/s3stress /cache/s3stress-w

s3mount_ttl $W/wmnt /cache/s3stress-w fastpath=off ||
	fail "the writer mounts s3://$S3_BUCKET: $(tail -n 3 $W/mount.err | tr '\n' ' ')"
s3mount_ttl $W/mnt /cache/s3stress fastpath=on,fastpath_obj=$OBJ ||
	fail "bpfuse mounts s3://$S3_BUCKET with the fast path: $(tail -n 3 $W/mount.err | tr '\n' ' ')"
M=$W/mnt statsj | grep -q '"fastpath":{' || fail "the fast path is attached to the S3 mount"

# two versions of each object; "MIB CHUNK SHA256" of every 64 KiB chunk of the
# two MiB ranges read (0 and 8) of both versions of p.bin
head -c $PSIZE /dev/urandom > $W/p1
head -c $PSIZE /dev/urandom > $W/p2
head -c 300007 /dev/urandom > $W/x1
head -c 300007 /dev/urandom > $W/x2
sum() { sha256sum < "$1" | cut -c1-64; }
x1=$(sum $W/x1)
x2=$(sum $W/x2)
: > $W/expect
for v in 1 2; do
	for m in 0 8; do
		dd if=$W/p$v of=$W/mib bs=1048576 skip=$m count=1 2> /dev/null
		k=0
		while [ $k -lt 16 ]; do
			echo "$m $k $(dd if=$W/mib bs=65536 skip=$k count=1 2> /dev/null | sha256sum | cut -c1-64)" >> $W/expect
			k=$((k + 1))
		done
	done
done
mkdir -p $W/wmnt/s
cp $W/p1 $W/wmnt/s/p.bin && cp $W/x1 $W/wmnt/s/x.bin || fail "the writer uploads s/p.bin and s/x.bin"
sleep $((TTL + 1)) # the fast-path mount's listing of s/ predates them
check "the fast-path mount reads both (cold)" sh -c \
	"[ \"\$(dd if=$W/mnt/s/p.bin bs=1048576 count=1 2> /dev/null | sha256sum | cut -c1-64)\" = \"\$(dd if=$W/p1 bs=1048576 count=1 2> /dev/null | sha256sum | cut -c1-64)\" ] && [ \"\$(sha256sum < $W/mnt/s/x.bin | cut -c1-64)\" = $x1 ]"
exec 5< $W/mnt/s/p.bin || fail "open s/p.bin"

# reader ID: loops until $W/stop; "reads bad errors" in $W/res.ID
reader() {
	nr=0 nbad=0 nerr=0
	while [ ! -e $W/stop ]; do
		for m in 0 8; do
			if ! dd if=$W/mnt/s/p.bin of=$W/r$1 bs=1048576 skip=$m count=1 2> $W/r$1.err ||
			   [ "$(stat -c %s $W/r$1)" != 1048576 ]; then
				nerr=$((nerr + 1))
				echo "reader $1: p.bin MiB $m: $(cat $W/r$1.err)" >> $W/errors
				continue
			fi
			k=0
			while [ $k -lt 16 ]; do
				h=$(dd if=$W/r$1 bs=65536 skip=$k count=1 2> /dev/null | sha256sum | cut -c1-64)
				grep -qx "$m $k $h" $W/expect || {
					nbad=$((nbad + 1))
					echo "reader $1: p.bin MiB $m chunk $k is neither version's" >> $W/errors
				}
				k=$((k + 1))
			done
			nr=$((nr + 1))
		done
		if ! h=$(sha256sum < $W/mnt/s/x.bin 2> $W/r$1.err); then
			nerr=$((nerr + 1))
			echo "reader $1: x.bin: $(cat $W/r$1.err)" >> $W/errors
			continue
		fi
		h=$(echo "$h" | cut -c1-64)
		[ "$h" = $x1 ] || [ "$h" = $x2 ] || {
			nbad=$((nbad + 1))
			echo "reader $1: x.bin is neither version" >> $W/errors
		}
		nr=$((nr + 1))
	done
	echo "$nr $nbad $nerr" > $W/res.$1
}

rm -f $W/stop $W/errors $W/res.*
get oh0 fpcount open_hit
get rh0 fpcount read_hit
i=1
while [ $i -le $READERS ]; do
	reader $i &
	i=$((i + 1))
done
# the other client: overwrites, the kernel forgets what it does not hold
end=$(($(date +%s) + SECS))
ver=1 writes=0
while [ "$(date +%s)" -lt $end ]; do
	ver=$((3 - ver))
	cp $W/p$ver $W/wmnt/s/p.bin || notok "the writer overwrites s/p.bin with version $ver"
	cp $W/x$ver $W/wmnt/s/x.bin || notok "the writer overwrites s/x.bin with version $ver"
	writes=$((writes + 1))
	echo 3 > /proc/sys/vm/drop_caches
	sleep 1
done
touch $W/stop
wait
get oh1 fpcount open_hit
get rh1 fpcount read_hit
reads=0 bads=0 errs=0
i=1
while [ $i -le $READERS ]; do
	[ -f $W/res.$i ] || fail "reader $i left no result"
	set -- $(cat $W/res.$i)
	reads=$((reads + $1)) bads=$((bads + $2)) errs=$((errs + $3))
	i=$((i + 1))
done
[ -f $W/errors ] && head -n 10 $W/errors | sed 's/^/# /'
ok "$READERS readers made $reads reads in $SECS s against $writes overwrites of each object"
check "no read failed (no EIO, no ESTALE): $errs" [ $errs = 0 ]
check "every chunk of p.bin and every x.bin read was one version's: $bads bad" [ $bads = 0 ]
check "the fast path answered meanwhile (open_hit +$((oh1 - oh0)), read_hit +$((rh1 - rh0)), want > 0 each)" \
	[ $((oh1 - oh0)) -gt 0 -a $((rh1 - rh0)) -gt 0 ]
check "the open of p.bin held across still reads" sh -c "dd bs=65536 count=1 of=/dev/null <&5 2> /dev/null"
exec 5<&-
sleep $((TTL + 1))
check "past list_ttl p.bin is the last version written ($ver)" [ "$(sum $W/mnt/s/p.bin)" = "$(sum $W/p$ver)" ]
check "... and x.bin" [ "$(sum $W/mnt/s/x.bin)" = "$(sum $W/x$ver)" ]

bpfuse umount $W/mnt || fail "unmount of the fast-path mount"
bpfuse umount $W/wmnt || fail "unmount of the writer"
check "no FUSE mount is left" [ -z "$(awk '$3 ~ /^fuse(\.|$)/' /proc/mounts)" ]
rm -rf /cache/s3stress /cache/s3stress-w
kernel_clean
[ "$bad" = 0 ]

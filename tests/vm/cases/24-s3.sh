#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# vm: needs s3
# The daemon's S3 backend on the patched kernel, against a real radosgw on the
# host (tests/vm/s3.sh starts it for the run; the guest reaches it at
# 10.0.2.2 through qemu's user network): s3://BUCKET mounts with the fast path
# asked for, the seed tree uploaded by the host (0 B to 3 MiB + 1, the largest
# over four 1 MiB cache blocks) lists and reads right twice (cold from S3, then
# from the cache, the page cache dropped in between), `bpfuse stats` works, a
# file written through the mount is uploaded and reads back from a fresh cache,
# and the unmount leaves no FUSE mount and no daemon.  What the fast path
# answers of an S3 mount is 25-s3fast's; this case asserts nothing of it.
# Output: "ok N - ..." / "not ok N - ..." lines.  A server that cannot be
# reached or a mount that fails fails the case; it skips only when the host
# has no Ceph (the reason comes from the host in /etc/bpfuse-s3/skip).
. /lib/bpfuse-case.sh

OBJ=/lib/bpfuse/fastpath.bpf.o
W=/tmp/bpfuse-s3
s3_env
command -v bpfuse > /dev/null || fail "no bpfuse daemon in this guest (tests/vm/run.sh copies build/bpfuse)"
mkdir -p /run $W/mnt

# the network run-vm.sh --net configures (init's lines say what went wrong)
check "eth0 is up with 10.0.2.15" sh -c "ifconfig eth0 2> /dev/null | grep -q 'inet addr:10.0.2.15 '"
# an anonymous GET / answers 200 from RGW: the endpoint is reachable at all
hdr=$(timeout 10 wget -S -O /dev/null "$S3_ENDPOINT/" 2>&1)
rc=$?
check "the S3 endpoint $S3_ENDPOINT answers from the guest" [ $rc = 0 ]
[ $rc = 0 ] || printf '%s\n' "$hdr" | head -n 5 | sed 's/^/# wget: /'
# SigV4 signs the time and RGW refuses more than 15 min of skew, which would
# fail the mount as "access denied": the guest's clock against the server's
sd=$(printf '%s\n' "$hdr" | sed -n 's/^ *Date: //p' | head -n 1)
st=$(date -u -D '%a, %d %b %Y %H:%M:%S GMT' -d "$sd" +%s 2> /dev/null)
now=$(date +%s)
clock_ok() { [ -n "$st" ] && [ $((now - st)) -gt -300 -a $((now - st)) -lt 300 ]; }
check "the guest clock is within 5 min of the server's (${st:+$((now - st)) s off; }server: ${sd:-no Date})" clock_ok

# s3mount CACHE: mount s3://$S3_BUCKET at $W/mnt with the fast path on, as
# 20-bpfuse.sh mounts the local backend, on a fresh cache dir of the ext4 disk
s3mount() {
	rm -rf "$1"
	bpfuse mount "s3://$S3_BUCKET" $W/mnt -o "endpoint=$S3_ENDPOINT,cache_dir=$1",cache_size=64M,entry_timeout=0,attr_timeout=0,negative_timeout=0,fastpath=on,fastpath_obj=$OBJ 2> $W/mount.err
}
# readseed: every seed object through the mount, its bytes against the host's sha256
readseed() {
	(cd $W/mnt && sha256sum -c $S3_SEED) > $W/sums 2>&1 && return 0
	grep -v ': OK$' $W/sums | sed 's/^/# /'
	return 1
}

s3mount /cache/s3-a ||
	fail "bpfuse mounts s3://$S3_BUCKET from $S3_ENDPOINT: $(tail -n 3 $W/mount.err | tr '\n' ' ')"
ok "bpfuse mounts s3://$S3_BUCKET from $S3_ENDPOINT (fast path on)"
sed 's/^/# /' $W/mount.err
check "the mount is a FUSE mount" grep -q " $W/mnt fuse" /proc/mounts
j=$(statsj) || fail "bpfuse stats --json of the S3 mount"
case $j in
*'"fastpath":{'*) echo "# fast path: attached" ;;
*) echo "# fast path: off: $(printf '%s\n' "$j" | sed -n 's/.*"fastpath_off_reason":"\([^"]*\)".*/\1/p')" ;;
esac

want=$(sed 's/^[0-9a-f]*  //' $S3_SEED | sort)
got=$(cd $W/mnt && find seed -type f | sort)
check "the seed tree lists as uploaded ($(echo "$want" | wc -l) files)" [ "$got" = "$want" ]
get g0 s3num get
check "first read: every seed file's bytes are right (from S3)" readseed
get g1 s3num get
get b1 s3num bytes_fetched
check "the first read fetched from S3 ($((g1 - g0)) GETs, $b1 bytes)" [ $((g1 - g0)) -ge 4 -a "$b1" -ge $((4 << 20)) ]
echo 3 > /proc/sys/vm/drop_caches
check "second read (page cache dropped): every seed file's bytes are right" readseed
get g2 s3num get
check "the second read came from the cache ($((g2 - g1)) GETs)" [ "$g2" = "$g1" ]
check "bpfuse stats works on the S3 mount" sh -c "bpfuse stats $W/mnt > $W/stats.txt && grep -q '^s3 requests: ' $W/stats.txt"

# a file written through the mount is uploaded at close and reads back from S3
head -c 200003 /dev/urandom > $W/w.bin
sum=$(sha256sum < $W/w.bin)
mkdir -p $W/mnt/up
get p0 s3num put
cp $W/w.bin $W/mnt/up/w.bin
check "a file written through the mount is uploaded at close" [ "$(s3num put)" -gt "$p0" ]
bpfuse umount $W/mnt || fail "unmount of the S3 mount"
check "unmounted" sh -c "! grep -q ' $W/mnt ' /proc/mounts"
s3mount /cache/s3-b || fail "bpfuse mounts s3://$S3_BUCKET again: $(tail -n 3 $W/mount.err | tr '\n' ' ')"
check "after a remount on an empty cache the written file reads back right from S3" \
	[ "$(sha256sum < $W/mnt/up/w.bin)" = "$sum" ]
check "and so does the seed tree" readseed
bpfuse umount $W/mnt || fail "unmount of the S3 mount"

fusemounts() { awk '$3 ~ /^fuse(\.|$)/' /proc/mounts; }
check "no FUSE mount is left" [ -z "$(fusemounts)" ]
gone() { ! pidof bpfuse > /dev/null; }
t=0; while [ $t -lt 50 ] && ! gone; do sleep 0.1; t=$((t + 1)); done
check "no bpfuse daemon is left" gone
rm -rf /cache/s3-a /cache/s3-b
[ "$bad" = 0 ]

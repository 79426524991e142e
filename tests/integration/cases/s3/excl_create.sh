#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# O_CREAT|O_EXCL is checked against the store: a name another client created after the
# mount listed the directory (so the listing, trusted for list_ttl, says it is absent)
# fails with EEXIST and the other client's object is not overwritten; a name that is a
# directory (a prefix) too; a free name is created.  Two creators racing for one name on
# two mounts (conditional PUT, If-None-Match: *, which this radosgw honours): exactly one
# wins, at open, and the bucket holds the winner's bytes.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb excl >/dev/null
mkdir -p "$T/mnt"
echo theirs >"$T/theirs"
s3_mount s3://excl "$T/mnt" list_ttl=600,negative_timeout=0
check "the directory is listed (empty)" test -z "$(ls "$T/mnt")"
s3tool put excl late "$T/theirs" >/dev/null
s3tool put excl sub/obj "$T/theirs" >/dev/null
excl() { # PATH: errno name of open(O_CREAT|O_EXCL|O_WRONLY), or ok
	python3 - "$1" <<'PY'
import errno, os, sys
try:
    fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"mine\n")
    os.close(fd)
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}
check "O_EXCL on a name another client made since the listing: EEXIST" \
	test "$(excl "$T/mnt/late")" = EEXIST
check "O_EXCL on a name that is a directory in the store: EEXIST" \
	test "$(excl "$T/mnt/sub")" = EEXIST
check "O_EXCL on a free name: created" test "$(excl "$T/mnt/free")" = ok

# ---- two mounts of the bucket (two cache dirs) race for names
mkdir -p "$T/mnt2"
bpfuse_mount s3://excl "$T/mnt2" "cache_dir=$T/cache2,list_ttl=600,negative_timeout=0"
# both open before either closes: the second open must see the first one's claim
hold_excl() { # PATH TAG: O_EXCL-create PATH, write TAG, keep it open until $T/TAG.go
	python3 - "$1" "$T/$2" <<'PY' &
import errno, os, sys, time
path, tag = sys.argv[1:3]
try:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
except OSError as e:
    open(tag + ".open", "w").write(errno.errorcode[e.errno])
    sys.exit(0)
os.write(fd, os.path.basename(tag).encode() + b"\n")
open(tag + ".open", "w").write("ok")
while not os.path.exists(tag + ".go"):
    time.sleep(0.05)
os.close(fd)
open(tag + ".closed", "w").close()
PY
}
hold_excl "$T/mnt/race" first
eventually 20 test -e "$T/first.open"
check "the first creator's open succeeds" test "$(cat "$T/first.open")" = ok
check "a second creator on another mount, while the first is still open: EEXIST" \
	test "$(excl "$T/mnt2/race")" = EEXIST
touch "$T/first.go"
eventually 20 test -e "$T/first.closed"
check "the first creator's bytes are in the bucket" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get excl race '$T/got3' >/dev/null && grep -qx first '$T/got3'"

# 20 names, one creator per mount, started together: one winner per name
race() { # MNT TAG: O_EXCL-create n0..n19 after $T/start exists; print one line per name
	python3 - "$1" "$2" "$T/start" <<'PY'
import errno, os, sys, time
mnt, tag, start = sys.argv[1:4]
while not os.path.exists(start):
    time.sleep(0.001)
for i in range(20):
    p = os.path.join(mnt, "n%d" % i)
    try:
        fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.write(fd, tag.encode() + b"\n")
        os.close(fd)
        print("n%d %s" % (i, tag))
    except OSError as e:
        print("n%d %s" % (i, errno.errorcode[e.errno]))
PY
}
race "$T/mnt" A >"$T/race.A" &
ra=$!
race "$T/mnt2" B >"$T/race.B" &
rb=$!
sleep 0.5
touch "$T/start"
wait "$ra" "$rb"
log "race: A won $(grep -c ' A$' "$T/race.A"), B won $(grep -c ' B$' "$T/race.B"); others: $(cat "$T/race.A" "$T/race.B" | awk '$2 != "A" && $2 != "B" && $2 != "EEXIST"' | tr '\n' ' ')"
one_winner() {
	local i w bad=0
	for i in $(seq 0 19); do
		w=$(cat "$T/race.A" "$T/race.B" | awk -v n="n$i" '$1 == n && $2 != "EEXIST" { print $2 }')
		if [ "$(echo "$w" | wc -w)" != 1 ] || [ "$(echo "$w" | grep -c '^[AB]$')" != 1 ]; then
			log "n$i: winners '$(echo $w)'"
			bad=1
			continue
		fi
		"$S3TOOL" -e "$S3_ENDPOINT" get excl "n$i" "$T/got.n" >/dev/null &&
			grep -qx "$w" "$T/got.n" || { log "n$i: the bucket does not hold $w's bytes"; bad=1; }
	done
	return $bad
}
check "exactly one creator wins each name, and the bucket holds its bytes" one_winner
bpfuse_umount "$T/mnt2"
bpfuse_umount "$T/mnt"
check "the other client's object is intact" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get excl late '$T/got' >/dev/null && cmp '$T/theirs' '$T/got'"
check "the free name was uploaded" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get excl free '$T/got2' >/dev/null && grep -qx mine '$T/got2'"
finish

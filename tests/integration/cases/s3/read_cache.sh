#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Reads of a 1 GiB S3 object: the first read fetches it into the cache through the
# daemon; the second goes through FUSE passthrough on the complete cache file (the daemon
# receives no READ); a restarted daemon reads it without a GET (the cache stays warm); a
# byte flipped in the cached data is detected by its CRC32C and the block is fetched again
# (the read returns the right bytes).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb data >/dev/null
mkdir -p "$T/mnt"
head -c $((1024 << 20)) /dev/urandom >"$T/big"
s3tool put data big "$T/big" >/dev/null

s3_mount s3://data "$T/mnt"
M=$T/mnt
check "cold read returns the object" cmp "$T/big" "$M/big"
r1=$(op_count "$M" READ)
g1=$(s3_stat "$M" get)
log "cold read: $r1 READs to the daemon, $g1 GETs"
[ "$g1" -ge 1 ] || fail "the cold read made no GET"
pt1=$(daemon_stat "$M" passthrough_opens)
check "second read is correct" cmp "$T/big" "$M/big"
warm() {
	local r2 pt2
	r2=$(op_count "$M" READ)
	pt2=$(daemon_stat "$M" passthrough_opens)
	log "second read: $((r2 - r1)) READs, $((pt2 - pt1)) passthrough opens"
	[ "$r2" -eq "$r1" ] && [ "$pt2" -gt "$pt1" ]
}
check "second read goes through passthrough: no READ reaches the daemon" warm
check "second read made no GET" test "$(s3_stat "$M" get)" -eq "$g1"

bpfuse_umount "$M"
s3_mount s3://data "$M"
check "after a restart the read is correct" cmp "$T/big" "$M/big"
check "after a restart the cache is warm: no GET" test "$(s3_stat "$M" get)" -eq 0
bpfuse_umount "$M"

# flip one byte in the middle of the cached data file
data=$(find "$T/cache/objects" -name '*.data' -size +200M | head -n 1)
[ -n "$data" ] || fail "no cache data file for the object"
python3 - "$data" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100 << 20)
    b = f.read(1)
    f.seek(100 << 20)
    f.write(bytes([b[0] ^ 0xff]))
PY
s3_mount s3://data "$M"
check "a flipped byte in the cache: the read returns the right data" cmp "$T/big" "$M/big"
check "the corrupt block was detected" test "$(s3_stat "$M" cache_crc_errors)" -ge 1
check "and fetched again (one part)" test "$(s3_stat "$M" get)" -ge 1
log "after corruption: $(s3_stat "$M" get) GETs, $(s3_stat "$M" cache_crc_errors) CRC errors"
finish

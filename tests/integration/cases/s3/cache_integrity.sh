#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Cached bytes changed behind the daemon while the mount is up are never served once the
# daemon could know: a byte flipped in a complete cache file, and a cache file replaced
# under its name, between two opens.  The next open finds the file's inode, size or ctime
# changed (docs/s3.md, Integrity), verifies it block by block or drops it, and the read
# returns the object's bytes (fetched again); both are counted.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb integ >/dev/null
mkdir -p "$T/mnt"
head -c $((3 << 20)) /dev/urandom >"$T/small"
head -c $((20 << 20)) /dev/urandom >"$T/mid"
s3tool put integ small "$T/small" >/dev/null
s3tool put integ mid "$T/mid" >/dev/null

s3_mount s3://integ "$T/mnt" scrub_rate=0
M=$T/mnt
for f in small mid; do
	check "cold read of $f" cmp "$T/$f" "$M/$f"
done
pt=$(daemon_stat "$M" passthrough_opens)
for f in small mid; do
	check "warm read of $f" cmp "$T/$f" "$M/$f"
done
check "warm reads go through passthrough on the cache files" \
	test "$(daemon_stat "$M" passthrough_opens)" -ge $((pt + 2))

datafile() { # SIZE_MIB: the cache data file of the object of that size
	find "$T/cache/objects" -name '*.data' -size "$(($1 * 1024))k" | head -n 1
}
small=$(datafile 3) mid=$(datafile 20)
[ -n "$small" ] && [ -n "$mid" ] || fail "no cache data files for the objects"
sleep 0.05 # past one timestamp tick of the daemon's last write
python3 - "$mid" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(13 << 20)
    b = f.read(1)
    f.seek(13 << 20)
    f.write(bytes([b[0] ^ 0xff]))
PY
# the small object's file replaced by a file of the same size with other bytes
head -c $((3 << 20)) /dev/zero >"$small.new"
mv "$small.new" "$small"

g0=$(s3_stat "$M" get)
for f in small mid; do
	check "after the change behind the daemon, $f reads right" cmp "$T/$f" "$M/$f"
done
check "both changes were seen" test "$(s3_stat "$M" cache_changed_behind)" -ge 2
check "the flipped block failed its CRC" test "$(s3_stat "$M" cache_crc_errors)" -ge 1
check "the bytes were fetched again" test "$(s3_stat "$M" get)" -gt "$g0"
check "and are served from the cache again after that" cmp "$T/mid" "$M/mid"
log "changed behind: $(s3_stat "$M" cache_changed_behind), CRC errors: $(s3_stat "$M" cache_crc_errors), GETs $g0 -> $(s3_stat "$M" get)"
bpfuse_umount "$M"
finish

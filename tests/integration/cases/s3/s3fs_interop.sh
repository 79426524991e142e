#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One bucket, two tools: what bpfuse writes (modes, owners, nanosecond mtimes, symlinks,
# FIFOs, directories with their own mode and owner) s3fs shows the same, and what s3fs
# writes bpfuse shows the same (docs/s3.md, Metadata). s3fs (the Debian package) is
# mounted on its own mountpoint against the same loopback radosgw, path-style, over
# plain http (url=http://..., nothing more is needed), keys in a 0600 passwd file.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
command -v s3fs >/dev/null || fail "no s3fs: scripts/setup.sh installs the Debian package s3fs (bench/packages.txt)"
s3_start
s3tool mb both >/dev/null
B=$T/bpfuse
S=$T/s3fs
mkdir -p "$B" "$S"
mkdir -m 0700 "$T/keys"
(umask 077 && echo "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" >"$T/keys/passwd")
DUMP=$IT_DIR/lib/meta_dump.py

s3fs_mount() {
	local i
	track_mount "$S"
	s3fs both "$S" -o "url=$S3_ENDPOINT,use_path_request_style,passwd_file=$T/keys/passwd" ||
		fail "s3fs could not mount the bucket"
	for i in $(seq 1 50); do
		is_mounted "$S" && return 0
		sleep 0.1
	done
	fail "s3fs did not mount '$S'"
}
s3fs_umount() {
	umount "$S"
	! is_mounted "$S" || fail "s3fs still mounted on '$S'"
}

# bpfuse writes
s3_mount s3://both "$B"
echo from-bpfuse >"$B/f"
chmod 0751 "$B/f"
chown 1234:2345 "$B/f"
touch -d '2001-02-03 04:05:06.123456789 UTC' "$B/f"
check "bpfuse makes a symlink" ln -s some/where/../target "$B/lnk"
check "bpfuse makes a FIFO" mkfifo -m 0640 "$B/fifo"
mkdir "$B/d"
(umask 077 && echo inner >"$B/d/inner")
touch -d '2020-02-29 12:00:00.5 UTC' "$B/d/inner"
# a directory's mtime moved by its entries is kept in memory until its next chmod, chown
# or utimensat (docs/s3.md): after these, both tools show the same
chmod 0705 "$B/d"
chown 42:43 "$B/d"
"$DUMP" "$B" f lnk fifo d >"$T/b-wrote"
"$DUMP" "$B/d" >>"$T/b-wrote"
log "bpfuse wrote: $(cat "$T/b-wrote")"

s3fs_mount
"$DUMP" "$S" f lnk fifo d >"$T/s-read"
"$DUMP" "$S/d" >>"$T/s-read"
check "s3fs shows what bpfuse wrote" assert_same_file "$T/b-wrote" "$T/s-read" "bpfuse's objects: bpfuse vs s3fs"
check "s3fs reads the bytes" grep -qx from-bpfuse "$S/f"
check "s3fs follows bpfuse's symlink's target" test "$(readlink "$S/lnk")" = some/where/../target

# s3fs writes
echo from-s3fs >"$S/g"
chmod 0640 "$S/g"
chown 777:888 "$S/g"
touch -d '1999-12-31 23:59:58.5 UTC' "$S/g"
ln -s ../up/there "$S/slink"
mkfifo "$S/sfifo"
mkdir "$S/sd"
chmod 0711 "$S/sd"
chown 5:6 "$S/sd"
mknod "$S/sdev" c 1 3
"$DUMP" "$S" g slink sfifo sd sdev >"$T/s-wrote"
log "s3fs wrote: $(cat "$T/s-wrote")"
s3fs_umount

# a new bpfuse mount (nothing cached) reads the bucket as s3fs left it
bpfuse_umount "$B"
rm -rf "$T/cache"
s3_mount s3://both "$B" list_ttl=2
"$DUMP" "$B" g slink sfifo sd sdev >"$T/b-read"
check "bpfuse shows what s3fs wrote" assert_same_file "$T/s-wrote" "$T/b-read" "s3fs's objects: s3fs vs bpfuse"
check "bpfuse reads s3fs's bytes" grep -qx from-s3fs "$B/g"
check "bpfuse's own objects read back the same" \
	sh -c "'$DUMP' '$B' f lnk fifo d >'$T/b-again' && '$DUMP' '$B/d' >>'$T/b-again' && cmp -s '$T/b-wrote' '$T/b-again'"

# a change by bpfuse to s3fs's object is what s3fs sees next
chmod 0604 "$B/g"
chown 778:889 "$B/g"
touch -d '2010-10-10 10:10:10.000000001 UTC' "$B/g"
"$DUMP" "$B" g >"$T/b-changed"
s3fs_mount
"$DUMP" "$S" g >"$T/s-changed"
check "s3fs sees bpfuse's chmod, chown and touch of its file" \
	assert_same_file "$T/b-changed" "$T/s-changed" "s3fs's object changed by bpfuse"
check "and its bytes are intact" grep -qx from-s3fs "$S/g"

# and a change by s3fs behind the mounted bpfuse shows within list_ttl (2 s) and the
# kernel's attribute timeout (capped at list_ttl): the same bytes, new metadata
chmod 0660 "$S/g"
touch -d '2011-11-11 11:11:11 UTC' "$S/g"
chmod 0750 "$S/sd"
chown 9:10 "$S/sd"
"$DUMP" "$S" g sd >"$T/s-changed2"
s3fs_umount
check "bpfuse sees s3fs's chmod, chown and touch of a file and a directory it knows" \
	eventually 10 sh -c "'$DUMP' '$B' g sd | cmp -s - '$T/s-changed2'"
check "after a listing too" sh -c "ls -l '$B' >/dev/null && '$DUMP' '$B' g sd | cmp -s - '$T/s-changed2'"
bpfuse_umount "$B"
finish

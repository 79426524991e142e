#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A descriptor held open across a change keeps reading the version it opened, and the
# change is a new file for every open made after it (a new inode for the kernel):
# - another client overwrites an object the kernel reads through passthrough (the old
#   version's complete cache file is the inode's backing file): once list_ttl has passed,
#   a new open reads the new version (it failed with EBUSY: one backing file per inode),
#   also once the new version is complete in the cache (it would have read the old
#   backing file's bytes), and the held descriptor still reads the old bytes;
# - another client deletes the object and puts a new one at the key;
# - this mount unlinks the file and creates it again (the create named the unlinked,
#   still open inode), also while a writer holds it (its later writes went into the new
#   file).
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
s3tool mb held >/dev/null
mkdir -p "$T/mnt"
M=$T/mnt
TTL=1
s3_mount s3://held "$M" "list_ttl=$TTL"

# complete NAME FILE: read NAME twice (the second open passes the complete cache file through)
complete() {
	cmp "$2" "$M/$1"
	cmp "$2" "$M/$1"
}

# held_reads FD FILE: descriptor FD (of this shell) reads FILE's bytes, from offset 0 (pread:
# not /dev/fd/FD, which would open the file again)
held_reads() {
	python3 - "$@" <<'PY'
import os, sys
fd, want, off = int(sys.argv[1]), open(sys.argv[2], 'rb').read(), 0
while True:
    b = os.pread(fd, 1 << 20, off)
    if not b:
        break
    if b != want[off:off + len(b)]:
        sys.exit(f"fd {fd}: other bytes at {off}")
    off += len(b)
sys.exit(0 if off == len(want) else f"fd {fd}: {off} bytes, not {len(want)}")
PY
}

for sz in $((300 << 10)) $((9 << 20)); do
	head -c $sz /dev/urandom >"$T/v1"
	head -c $sz /dev/urandom >"$T/v2"
	head -c $sz /dev/urandom >"$T/v3"
	s3tool put held "o$sz" "$T/v1" >/dev/null
	sleep $((TTL + 1))
	complete "o$sz" "$T/v1"
	ino1=$(stat -c %i "$M/o$sz")
	exec 3<"$M/o$sz"
	s3tool put held "o$sz" "$T/v2" >/dev/null
	sleep $((TTL + 1))
	check "$sz bytes, overwritten: a new open after list_ttl reads the new version" \
		cmp "$T/v2" "$M/o$sz"
	check "$sz bytes, overwritten: ... and again (complete in the cache now)" \
		cmp "$T/v2" "$M/o$sz"
	check "$sz bytes, overwritten: the descriptor held across reads the old one" \
		held_reads 3 "$T/v1"
	check "$sz bytes, overwritten: the name keeps its inode number" \
		test "$(stat -c %i "$M/o$sz")" = "$ino1"

	# deleted and made again by another client while held
	exec 4<"$M/o$sz"
	s3tool rm held "o$sz" >/dev/null
	s3tool put held "o$sz" "$T/v3" >/dev/null
	sleep $((TTL + 1))
	check "$sz bytes, deleted and put again: a new open reads the new object" \
		complete "o$sz" "$T/v3"
	check "$sz bytes, deleted and put again: the descriptor held across reads the old one" \
		held_reads 4 "$T/v2"
	check "$sz bytes: the first held descriptor still reads its version" \
		held_reads 3 "$T/v1"
	exec 3<&- 4<&-
done

# unlinked and created again through this mount while held
head -c $((300 << 10)) /dev/urandom >"$T/w1"
head -c $((200 << 10)) /dev/urandom >"$T/w2"
cp "$T/w1" "$M/w"
complete w "$T/w1"
exec 3<"$M/w"
rm "$M/w"
check "unlinked and created again: the create succeeds" cp "$T/w2" "$M/w"
check "unlinked and created again: the new file reads its bytes" complete w "$T/w2"
check "unlinked and created again: the bucket holds them" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get held w '$T/w.got' >/dev/null && cmp '$T/w2' '$T/w.got'"
check "unlinked and created again: the descriptor held across reads the old file" \
	held_reads 3 "$T/w1"
exec 3<&-

# ... while a writer holds it: the writer's later bytes stay in the unlinked file (its
# staging file), never in the new one nor in the bucket
printf 'old file, first write\n' >"$T/x1"
printf 'the new file\n' >"$T/x2"
exec 3<>"$M/x"
printf 'old file, first write\n' >&3
rm "$M/x"
cp "$T/x2" "$M/x"
printf 'old file, second write\n' >&3
check "a writer of an unlinked file: ftruncate of it is its own" python3 -c 'import os; os.ftruncate(3, 9)'
exec 3>&-
check "a writer of an unlinked file: the new file made at its name holds only its own bytes" \
	cmp "$T/x2" "$M/x"
check "a writer of an unlinked file: the bucket holds only the new file's bytes" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get held x '$T/x.got' >/dev/null && cmp '$T/x2' '$T/x.got'"
check "a writer of an unlinked file: its closing uploads nothing over the new file" \
	sh -c "sleep 1; '$S3TOOL' -e '$S3_ENDPOINT' get held x '$T/x.got' >/dev/null && cmp '$T/x2' '$T/x.got'"

# a file being written here while another client deletes its object stays the file being
# written, also when an old version's descriptor asks (its HEAD finds the key gone): a
# second writer joins the first, and the last close uploads both writers' bytes
head -c $((100 << 10)) /dev/urandom >"$T/q1"
head -c $((100 << 10)) /dev/urandom >"$T/q2"
s3tool put held q "$T/q1" >/dev/null
sleep $((TTL + 1))
complete q "$T/q1"
exec 5<"$M/q"
s3tool put held q "$T/q2" >/dev/null
sleep $((TTL + 1))
exec 6>>"$M/q"
printf 'first writer\n' >&6
s3tool rm held q >/dev/null
sleep $((TTL + 1))
python3 -c 'import os; os.fstat(5)' || true # the old version's inode: a HEAD, 404
exec 7>>"$M/q"
printf 'second writer\n' >&7
exec 7>&- 6>&- 5<&-
{ cat "$T/q2"; printf 'first writer\nsecond writer\n'; } >"$T/q.want"
check "written here while deleted elsewhere: the mount reads both writers' bytes" cmp "$T/q.want" "$M/q"
check "written here while deleted elsewhere: the bucket holds them" \
	sh -c "'$S3TOOL' -e '$S3_ENDPOINT' get held q '$T/q.got' >/dev/null && cmp '$T/q.want' '$T/q.got'"
bpfuse_umount "$M"

# The kernel's entry still valid when the daemon learns of the change (a listing): the
# open of the old inode fails with ESTALE inside the kernel, whose path walk looks the
# name up again (LOOKUP_REVAL) and opens the new inode; the caller sees none of it.
s3_mount s3://held "$M" "list_ttl=60,entry_timeout=60,attr_timeout=60"
head -c $((300 << 10)) /dev/urandom >"$T/r1"
head -c $((300 << 10)) /dev/urandom >"$T/r2"
s3tool put held d/r "$T/r1" >/dev/null
complete d/r "$T/r1"
exec 3<"$M/d/r"
s3tool put held d/r "$T/r2" >/dev/null
opens=$(op_count "$M" OPEN)
ls "$M/d" >/dev/null # LISTs d/: sees the new ETag
check "entry still valid: an open after the listing reads the new version" \
	cmp "$T/r2" "$M/d/r"
check "entry still valid: it took two OPENs, the first one ESTALE (the old inode's)" \
	test "$(($(op_count "$M" OPEN) - opens))" -eq 2
check "entry still valid: the descriptor held across reads the old one" held_reads 3 "$T/r1"
s3tool put held d/r "$T/r1" >/dev/null
ls "$M/d" >/dev/null
check "entry still valid: chmod by path changes the new version (the kernel retries the ESTALE)" \
	sh -c "chmod 600 '$M/d/r' && [ \"\$(stat -c %a '$M/d/r')\" = 600 ]"
check "entry still valid: fchmod of the old descriptor fails with ESTALE" python3 -c '
import errno, os, sys
try:
    os.fchmod(3, 0o640)
except OSError as e:
    sys.exit(0 if e.errno == errno.ESTALE else f"errno {e.errno}")
sys.exit("fchmod succeeded")'
exec 3<&-

bpfuse_umount "$M"
finish

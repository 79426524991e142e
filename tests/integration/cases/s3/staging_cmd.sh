#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `bpfuse staging list|retry|discard CACHE_DIR`: what failed uploads kept, without mounting.
# Uploads fail at close and at unmount (radosgw killed; the OSD keeps the objects), so the
# unmount keeps a new file, an overwrite of an existing object and one to discard in
# <cache>/staging.  Then, with radosgw back:
# - list shows each kept file's object, size and the version it replaces;
# - retry and discard refuse while a mount uses the cache dir, one line, exit 1;
# - retry uploads the kept bytes (checked with a GET) and removes them; an object changed
#   in the bucket meanwhile is not overwritten (exit 1, one line) unless --force;
# - discard removes exactly what it names; --all the rest; staging is left empty;
# - bad arguments exit 2 (usage) or 1 (nothing kept for that name), one line each.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/s3.sh"
setup_case "$@"
s3_start
need_bpfuse
s3tool mb kept >/dev/null
mkdir -p "$T/mnt" "$T/mnt2"
M=$T/mnt
C=$T/cache
echo "old version" >"$T/old"
s3tool put kept over "$T/old" >/dev/null
s3tool put kept changed "$T/old" >/dev/null
head -c $((300 << 10)) /dev/urandom >"$T/new"
head -c $((100 << 10)) /dev/urandom >"$T/over"
head -c $((50 << 10)) /dev/urandom >"$T/changed"
head -c $((10 << 10)) /dev/urandom >"$T/junk"
head -c $((20 << 10)) /dev/urandom >"$T/junk2"
s3_mount s3://kept "$M" list_ttl=1
check "the objects to overwrite are seen" test "$(cat "$M/over")" = "old version"
cat "$M/changed" >/dev/null

# writers hold their descriptor until radosgw is gone, then close (the upload fails)
python3 - "$M" "$T" <<'PY' &
import os, sys, time
m, t = sys.argv[1:3]
fds = []
for name in ("new", "over", "changed", "junk", "junk2"):
    fd = os.open(os.path.join(m, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, open(os.path.join(t, name), "rb").read())
    fds.append(fd)
open(os.path.join(t, "ready"), "w").close()
while not os.path.exists(os.path.join(t, "go")):
    time.sleep(0.05)
bad = 0
for fd in fds:
    try:
        os.close(fd)
    except OSError:
        bad += 1
open(os.path.join(t, "closed"), "w").write(str(bad))
PY
eventually 30 test -e "$T/ready"
rgw=$(cat "$T/rgw/run/client.rgw.pid")
grep -q radosgw "/proc/$rgw/cmdline" || fail "no radosgw at pid $rgw"
kill "$rgw"
eventually 30 sh -c "! kill -0 $rgw 2>/dev/null"
touch "$T/go"
eventually 120 test -e "$T/closed"
check "with radosgw gone, every close reports the failed upload" test "$(cat "$T/closed")" = 5
timeout 150 "$BPFUSE" umount --wait 120 "$M" || fail "umount with radosgw gone failed"
assert_not_mounted "$M"
wait_no_daemon "$M"
# radosgw again, on the same OSD: the objects are still there
radosgw -c "$T/rgw/ceph.conf" -n client.rgw
eventually 60 s3tool ls kept >/dev/null
at_cleanup "kill \$(cat '$T/rgw/run/client.rgw.pid') 2>/dev/null"
# obj_is KEY FILE: the bucket's object KEY holds FILE's bytes; obj_absent KEY
obj_is() { rm -f "$T/got" && s3tool get kept "$1" "$T/got" >/dev/null && cmp "$2" "$T/got"; }
obj_absent() { ! s3tool head kept "$1" >/dev/null 2>&1; }
check "the old versions are still in the bucket" obj_is over "$T/old"

nkept() { find "$C/staging" -name 'unuploaded-*' ! -name '*.key' | wc -l; }
check "the unmount kept the five files" test "$(nkept)" = 5

# one_line RC REGEX CMD...: CMD exits RC and prints one line on stderr, matching REGEX
one_line() {
	local want_rc=$1 want=$2 rc=0 out
	shift 2
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	log "$(basename "$1") ${*:2}: exit $rc: $out"
	[ "$rc" = "$want_rc" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
		grep -Eq -- "$want" <<<"$out"
}

# ---- list
out=$("$BPFUSE" staging list "$C")
log "staging list:
$out"
row() { awk -v o="$1" '$1 == o' <<<"$out"; }
check "list: the new file, its size, a new object" \
	test "$(row s3://kept/new | awk '{print $2, $4}')" = "$((300 << 10)) (new)"
check "list: the overwrite, its size, the version it replaces" \
	grep -Eq "^$((100 << 10)) [0-9a-f]{32}\$" <<<"$(row s3://kept/over | awk '{print $2, $4}')"
check "list: the kept file's name" test -f "$C/staging/$(row s3://kept/new | awk '{print $NF}')"
check "list: the endpoint" grep -qF "$S3_ENDPOINT" <<<"$(row s3://kept/new)"
check "list: one row per kept file and a header" test "$(wc -l <<<"$out")" = 6

# ---- while a mount uses the cache dir: retry and discard refuse, list works
s3tool mb other >/dev/null
s3_mount s3://other "$T/mnt2" # another bucket: its mount leaves these files alone
check "retry refuses while mounted" \
	one_line 1 "cache dir '.*' is in use by a mount: unmount it first" \
	"$BPFUSE" staging retry "$C"
check "discard refuses while mounted" \
	one_line 1 "is in use by a mount" "$BPFUSE" staging discard "$C" --all
check "list works while mounted" sh -c "'$BPFUSE' staging list '$C' | grep -q s3://kept/new"
bpfuse_umount "$T/mnt2"
check "nothing was touched" test "$(nkept)" = 5

# ---- bad arguments: one line, non-zero
check "staging without a subcommand" one_line 2 "usage: bpfuse staging" "$BPFUSE" staging
check "an unknown subcommand" one_line 2 "usage: bpfuse staging" "$BPFUSE" staging frob "$C"
check "list without a cache dir" one_line 2 "usage: bpfuse staging list" "$BPFUSE" staging list
check "list of a missing dir" one_line 1 "cannot open cache dir" \
	"$BPFUSE" staging list "$T/nosuch"
check "list of a dir that is no cache dir" one_line 1 "is not a bpfuse cache dir" \
	"$BPFUSE" staging list "$T/mnt"
check "retry without a cache dir" one_line 2 "usage: bpfuse staging retry" \
	"$BPFUSE" staging retry
check "retry with a mount-only option" one_line 2 "'cache_size' is not one of staging retry's" \
	"$BPFUSE" staging retry "$C" -o cache_size=1G
check "retry with an unknown flag" one_line 2 "unknown option '--nope'" \
	"$BPFUSE" staging retry "$C" --nope
check "retry with a bad endpoint" one_line 1 "expected http:// or https://" \
	"$BPFUSE" staging retry "$C" s3://kept/new --endpoint 127.0.0.1:1
check "retry with the wrong secret" one_line 1 "access denied" \
	env AWS_SECRET_ACCESS_KEY=wrong-secret "$BPFUSE" staging retry "$C" s3://kept/new
check "retry without credentials" one_line 1 "no S3 credentials" \
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$BPFUSE" staging retry "$C"
check "discard without a name" one_line 2 "usage: bpfuse staging discard" \
	"$BPFUSE" staging discard "$C"
check "discard of a name nothing is kept for" one_line 1 "nothing is kept for 's3://kept/nosuch'" \
	"$BPFUSE" staging discard "$C" s3://kept/junk s3://kept/nosuch
chmod 0770 "$C/staging"
check "a staging dir others may write to is refused (key files name where credentials go)" \
	one_line 1 "is writable by others \(mode 770\)" "$BPFUSE" staging retry "$C"
chmod 0700 "$C/staging"
check "nothing was touched by the bad commands" test "$(nkept)" = 5

# ---- discard by file name
junk=$(row s3://kept/junk | awk '{print $NF}')
check "discard of one kept file" sh -c "'$BPFUSE' staging discard '$C' '$junk' | grep -q \"discarded 's3://kept/junk'\""
check "... it is gone, with its key" sh -c "! ls '$C/staging' | grep -q '$junk'"
check "... and nothing else" test "$(nkept)" = 4

# ---- retry: uploads what is still the version it replaces, refuses the changed one
echo "changed by another client" >"$T/theirs"
s3tool put kept changed "$T/theirs" >/dev/null
check "retry fails for the object changed meanwhile, one line" \
	one_line 1 "'s3://kept/changed' changed in the bucket since its bytes were kept" \
	"$BPFUSE" staging retry "$C" s3://kept/new s3://kept/over s3://kept/changed
check "retry uploaded the new file with its bytes" obj_is new "$T/new"
check "retry uploaded the overwrite with its bytes" obj_is over "$T/over"
check "the changed object was not overwritten" obj_is changed "$T/theirs"
check "the uploaded files left staging, the others stay" test "$(nkept)" = 2
check "retry --force uploads over the change" \
	sh -c "'$BPFUSE' staging retry '$C' --force s3://kept/changed | grep -q \"uploaded 's3://kept/changed' ($((50 << 10)) bytes)\""
check "... with its bytes" obj_is changed "$T/changed"

# ---- discard --all
check "discard --all" sh -c "'$BPFUSE' staging discard '$C' --all | grep -q \"discarded 's3://kept/junk2'\""
check "junk was never uploaded" obj_absent junk
check "junk2 was never uploaded" obj_absent junk2
check "staging is empty" test -z "$(ls -A "$C/staging")"
check "list says nothing is kept" sh -c "'$BPFUSE' staging list '$C' | grep -q '^nothing kept in'"
check "retry with nothing kept: exit 0" "$BPFUSE" staging retry "$C"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An inotify queue overflow loses change events: the daemon must then drop
# everything the kernel caches for the mount. With profile=dataset (timeouts of
# a year) a burst of changes behind the mount larger than the queue must show
# exactly through the mount: every name, attribute and byte, and the names that
# were absent. The daemon is stopped during the burst, which is larger than
# fs.inotify.max_queued_events, so the queue overflows for certain.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
setup_case "$@"
need_bpfuse

Q=/proc/sys/fs/inotify/max_queued_events
old_q=$(cat "$Q")
S=$T/src
mkdir "$S" "$S/d" "$S/fill" "$T/mnt"
for i in $(seq 0 49); do
	echo "file $i" >"$S/d/f$i"
done
mkdir "$S/d/sub"
echo sub >"$S/d/sub/x"

# The burst exceeds the queue of the daemon's inotify instance, whose size is
# the sysctl's value when it starts. Only a queue too large for a quick burst
# is lowered, for the instant the daemon starts: the sysctl is global.
queue=$old_q
if [ "$queue" -gt 65536 ] && echo 16384 >"$Q" 2>/dev/null; then
	at_cleanup "echo $old_q >$Q"
	queue=16384
fi
bpfuse_mount "$S" "$T/mnt" profile=dataset
[ "$queue" = "$old_q" ] || echo "$old_q" >"$Q"
minor=$("$BPFUSE" stats "$T/mnt" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"].get("fuse_proto_minor", 99))')
[ "$minor" -ge 44 ] ||
	skip "the kernel speaks FUSE 7.$minor: no FUSE_NOTIFY_INC_EPOCH (7.44, Linux 6.16) to drop every cached name"
pid=$(daemon_pids "$T/mnt" | head -n 1)
[ -n "$pid" ] || fail "no daemon serves '$T/mnt'"

# prime every cache: names, attributes, pages, listings, negative entries
TREE_MTIME=1 tree_manifest "$T/mnt" >/dev/null
cat "$T/mnt"/d/f* >/dev/null
for i in $(seq 0 49); do
	[ ! -e "$T/mnt/d/new$i" ] || fail "d/new$i exists before it was created"
done

# hold the primed objects open, so that nothing else on the machine dropping
# caches (vm.drop_caches, memory pressure) can evict their dentries and inodes
# and refresh them for us
python3 -c '
import os, signal, sys
fds = [os.open(p, os.O_RDONLY) for p in sys.argv[1:]]
signal.pause()' "$T/mnt"/d/f* "$T/mnt/d/sub" "$T/mnt/d" &
holder=$!
at_cleanup "kill $holder 2>/dev/null || true"
sleep 0.5
kill -STOP "$pid"
at_cleanup "kill -CONT $pid 2>/dev/null || true"
# fill the queue, then the changes whose events are lost
python3 - "$S" "$queue" <<'PY'
import os, sys
s, q = sys.argv[1], int(sys.argv[2])
for i in range(q // 2 + 1000):  # 2 or 3 events each
    open("%s/fill/x%d" % (s, i % 64), "w").close()
    os.utime("%s/fill/x%d" % (s, i % 64), (i, i))
d = s + "/d"
for i in range(50):
    p = "%s/f%d" % (d, i)
    if i % 5 == 0:
        os.unlink(p)
    elif i % 5 == 1:
        os.chmod(p, 0o600)
    elif i % 5 == 2:
        with open(p, "w") as f:
            f.write("FILE %d" % i)        # same size, other bytes
        os.utime(p, (1000000 + i, 1000000 + i))
    elif i % 5 == 3:
        with open(p, "a") as f:
            f.write("longer\n")
    else:
        os.rename(p, "%s/r%d" % (d, i))
    with open("%s/new%d" % (d, i), "w") as f:
        f.write("new %d\n" % i)
os.unlink(d + "/sub/x")
os.rmdir(d + "/sub")
os.mkdir(d + "/sub2")
PY
kill -CONT "$pid"
log "burst done: daemon $pid, queue $queue"

# the drop happens as the watcher reads the overflow
counter() {
	"$BPFUSE" stats "$T/mnt" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"].get(sys.argv[1], -1))' "$1"
}
for ((i = 0; i < 50; i++)); do
	[ "$(counter watch_overflows)" -gt 0 ] && break
	sleep 0.1
done
[ "$(counter watch_overflows)" -gt 0 ] || fail "the queue did not overflow (queue $queue)"
for ((i = 0; i < 50; i++)); do
	[ "$(counter watch_full_drops)" -ne 0 ] && break
	sleep 0.1
done

log "overflows $(counter watch_overflows), invalidations $("$BPFUSE" stats "$T/mnt" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"daemon\"][\"invalidations\"])")"
TREE_MTIME=1 tree_manifest "$S" >"$T/want"
TREE_MTIME=1 tree_manifest "$T/mnt" >"$T/got"
assert_same_file "$T/want" "$T/got" "names and attributes after an overflow"
for f in "$S"/d/*; do
	[ -f "$f" ] || continue
	cmp -s "$f" "$T/mnt/d/${f##*/}" || fail "content of d/${f##*/} differs after an overflow"
done
kill "$holder"
wait "$holder" 2>/dev/null || true
bpfuse_umount "$T/mnt"
finish

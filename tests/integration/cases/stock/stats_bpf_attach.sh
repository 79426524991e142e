#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# BPF request counting attaches without tracefs (raw tracepoints), the mount's
# status line says so (or names the cause when it cannot: checked with the
# kernel's BTF hidden in a private mount namespace), and each mount counts
# only its own connection's requests: two mounts side by side, requests on one
# leave the other's BPF counts alone.
set -eu
. "$(dirname "$0")/../../lib/common.sh"
. "$IT_DIR/lib/stats.sh"
setup_case "$@"

# mount_status SRC MNT OPTS: mount, keep the daemon's status line in $status
mount_status() {
	local out rc=0
	track_mount "$2"
	out=$(timeout 60 "$BPFUSE" mount "$1" "$2" -o "$3" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] || fail "bpfuse mount '$1' '$2' -o $3 exited $rc: $out"
	assert_mounted "$2"
	status=$(printf '%s\n' "$out" | sed -n 's/^bpfuse: mounted //p')
}
cat_all() { for i in $(seq 20); do cat "$1/f$i" >/dev/null; done; }

if grep -q ' tracefs ' /proc/mounts; then
	log "tracefs is mounted on this machine; the programs do not use it either way"
else
	log "tracefs is not mounted"
fi
mkdir -p "$T/src" "$T/a" "$T/b" "$T/c"
for i in $(seq 20); do echo "$i" >"$T/src/f$i"; done
opts=passthrough=off,entry_timeout=0,attr_timeout=0

mount_status "$T/src" "$T/a" $opts
need_bpf_stats "$T/a"
case $status in
*"BPF tracing on,"*) ;;
*) fail "the mount counts with BPF but its status line says otherwise: $status" ;;
esac
mount_status "$T/src" "$T/b" $opts
case $status in *"BPF tracing on,"*) ;; *) fail "second mount: $status" ;; esac

stats_json "$T/a" "$T/a0.json"
stats_json "$T/b" "$T/b0.json"
cat_all "$T/b"
stats_json "$T/a" "$T/a1.json"
stats_json "$T/b" "$T/b1.json"
for op in LOOKUP OPEN READ; do
	assert_eq 0 "$(stats_delta "$T/a0.json" "$T/a1.json" bpf $op)" \
		"$op requests BPF counted on mount a for reads on mount b"
done
# LOOKUP and READ (entry_timeout=0, passthrough=off, each file read once per
# mount) reach userspace whatever the profile does about OPEN/FLUSH/RELEASE
for src in bpf daemon; do
	for op in LOOKUP READ; do
		assert_eq 20 "$(stats_delta "$T/b0.json" "$T/b1.json" $src $op)" "$op requests on b ($src)"
	done
done
cat_all "$T/a"
stats_json "$T/a" "$T/a2.json"
stats_json "$T/b" "$T/b2.json"
assert_eq 20 "$(stats_delta "$T/a1.json" "$T/a2.json" bpf READ)" "READ requests on a (bpf)"
assert_eq 0 "$(stats_delta "$T/b1.json" "$T/b2.json" bpf READ)" \
	"READ requests BPF counted on mount b for reads on mount a"
bpfuse_umount "$T/b"
bpfuse_umount "$T/a"

# off by option: the status line and the stats say so
mount_status "$T/src" "$T/c" trace=off
case $status in *"BPF tracing off by option,"*) ;; *) fail "trace=off: $status" ;; esac
python3 - "$BPFUSE" "$T/c" <<'PY' || fail "trace=off: stats do not say why BPF is off"
import json, subprocess, sys
j = json.loads(subprocess.check_output([sys.argv[1], "stats", sys.argv[2], "--json"]))
assert j["request_source"] == "daemon" and j["bpf_off_reason"] == "off by option", j
PY
bpfuse_umount "$T/c"

# A kernel without BTF, as the daemon sees it in a private mount namespace
# where /sys/kernel/btf is an empty tmpfs: the mount serves, and its status
# line and stats name that cause, not a kernel version.
mkdir -p "$T/d"
rc=0
unshare -m --propagation private bash -c '
	set -eu
	bpfuse=$1 src=$2 mnt=$3
	mount -t tmpfs -o size=64k,mode=0755 bpfuse-test-nobtf /sys/kernel/btf
	out=$(timeout 60 "$bpfuse" mount "$src" "$mnt" -o passthrough=off 2>&1)
	trap "timeout 60 \"$bpfuse\" umount \"$mnt\" || umount -l \"$mnt\"" EXIT
	echo "$out"
	cat "$mnt/f1" >/dev/null
	"$bpfuse" stats "$mnt" --json
' _ "$BPFUSE" "$T/src" "$T/d" >"$T/nobtf.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "mount without BTF: exit $rc: $(cat "$T/nobtf.out")"
why="the kernel exposes no BTF (no /sys/kernel/btf/vmlinux), which the CO-RE programs need"
grep -qF "BPF tracing unavailable: $why," "$T/nobtf.out" ||
	fail "without BTF the status line does not name the cause: $(head -n 1 "$T/nobtf.out")"
tail -n 1 "$T/nobtf.out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["request_source"] == "daemon" and j["bpf_off_reason"] == sys.argv[1], j
assert j["ops"]["READ"]["daemon_requests"] >= 1, j["ops"]
' "$why" || fail "without BTF: the stats do not give the cause or lack the daemon counts"
finish

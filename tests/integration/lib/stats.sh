# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers for cases that read `bpfuse stats --json`.

# stats_json MNT FILE: save the mount's stats as JSON
stats_json() {
	"$BPFUSE" stats "$1" --json >"$2" || fail "bpfuse stats '$1' --json failed"
}

# stats_delta BEFORE AFTER SOURCE OP: requests of OP between two snapshots.
# SOURCE is "bpf" (what the kernel sent to userspace) or "daemon".
stats_delta() {
	python3 - "$@" <<'PY'
import json, sys
a, b, src, op = sys.argv[1:]
key = "requests" if src == "bpf" else "daemon_requests"
def get(f):
    ops = json.load(open(f))["ops"]
    return ops.get(op, {}).get(key, 0)
print(get(b) - get(a))
PY
}

# need_bpf_stats MNT: skip when the kernel has no fuse tracepoints; fail when
# it has them but the mount is not counting with BPF
need_bpf_stats() {
	local src
	src=$("$BPFUSE" stats "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["request_source"])')
	if [ "$src" != bpf ]; then
		[ -e /sys/kernel/tracing/events/fuse/fuse_request_send ] ||
			[ -e /sys/kernel/debug/tracing/events/fuse/fuse_request_send ] ||
			skip "this kernel has no fuse tracepoints (needs Linux >= 6.16)"
		fail "the kernel has fuse tracepoints but the mount does not count with BPF"
	fi
}

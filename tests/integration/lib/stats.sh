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

# kernel_has_bpf_tracepoint NAME: the running kernel has tracepoint NAME and
# can attach BPF programs to it: its BTF (vmlinux's, or the fuse module's when
# fuse is a module) has the btf_trace_NAME typedef that include/trace/bpf_probe.h
# defines for every tracepoint under CONFIG_BPF_EVENTS.  The daemon probes the same.
kernel_has_bpf_tracepoint() {
	local f
	for f in /sys/kernel/btf/vmlinux /sys/kernel/btf/fuse; do
		[ -r "$f" ] && grep -qa "btf_trace_$1" "$f" && return 0
	done
	return 1
}

# need_bpf_stats MNT: the mount counts requests with BPF.  Skip (with the
# cause, read from the kernel) when the kernel lacks what the raw tracepoint
# programs need: BTF for their CO-RE relocations, or the fuse_request_send/end
# tracepoints.  Otherwise a mount that does not count with BPF fails the case,
# with the reason the daemon gives.
need_bpf_stats() {
	local src tp
	src=$("$BPFUSE" stats "$1" --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["request_source"], j.get("bpf_off_reason") or "", sep="\t")')
	[ "${src%%$'\t'*}" = bpf ] && return 0
	[ -e /sys/kernel/btf/vmlinux ] ||
		skip "the kernel exposes no BTF (no /sys/kernel/btf/vmlinux), which the BPF request counters need"
	for tp in fuse_request_send fuse_request_end; do
		kernel_has_bpf_tracepoint $tp ||
			skip "the kernel has no tracepoint $tp for BPF (no btf_trace_$tp in its BTF)"
	done
	fail "the kernel has the fuse_request_send/end tracepoints but the mount does not count with BPF: ${src#*$'\t'}"
}

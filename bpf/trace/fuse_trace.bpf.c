// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_trace.bpf.c - count one FUSE connection's requests per opcode and
 * histogram their round-trip latency, from the fuse/fuse_request_send and
 * fuse/fuse_request_end tracepoints (Linux >= 6.16 has them; fentry/kprobes
 * are not needed, which matters on kernels that refuse tracing programs).
 *
 * The tracepoint records are declared here with preserve_access_index, so
 * libbpf relocates every field access against the running kernel's BTF
 * (CO-RE): a kernel that moves a field still loads correctly, and one that
 * lacks the tracepoint fails to load, which the daemon reports.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpfuse/trace_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* The connection to watch: the minor of the mount's st_dev (set before load). */
const volatile __u32 target_conn = 0;

struct trace_entry___bpfuse {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
} __attribute__((preserve_access_index));

/* The kernel declares opcode as enum fuse_opcode; CO-RE matches enums with enums only. */
enum fuse_opcode___bpfuse { FUSE_OPCODE___BPFUSE_UNUSED = 0 };

struct trace_event_raw_fuse_request_send {
	struct trace_entry___bpfuse ent;
	__u32 connection;
	__u64 unique;
	enum fuse_opcode___bpfuse opcode;
	__u32 len;
} __attribute__((preserve_access_index));

struct trace_event_raw_fuse_request_end {
	struct trace_entry___bpfuse ent;
	__u32 connection;
	__u64 unique;
	__u32 len;
	__s32 error;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACE_MAX_OPCODE);
	__type(key, __u32);
	__type(value, struct trace_op_stats);
} op_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TRACE_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct trace_inflight);
} inflight SEC(".maps");

/* floor(log2(v)) without loops, as bcc's libbpf-tools bits.bpf.h does */
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 log2_bucket(__u64 us)
{
	__u32 hi = us >> 32;
	__u32 b = hi ? log2_u32(hi) + 32 : log2_u32((__u32)us);

	return b < TRACE_LAT_BUCKETS ? b : TRACE_LAT_BUCKETS - 1;
}

SEC("tracepoint/fuse/fuse_request_send")
int on_send(struct trace_event_raw_fuse_request_send *ctx)
{
	struct trace_inflight fl = {};
	struct trace_op_stats *st;
	__u64 unique;
	__u32 op;

	if (BPF_CORE_READ(ctx, connection) != target_conn)
		return 0;
	op = (__u32)BPF_CORE_READ(ctx, opcode);
	if (op >= TRACE_MAX_OPCODE)
		op = 0;
	unique = BPF_CORE_READ(ctx, unique);
	st = bpf_map_lookup_elem(&op_stats, &op);
	if (st)
		st->sent++;
	fl.start_ns = bpf_ktime_get_ns();
	fl.opcode = op;
	bpf_map_update_elem(&inflight, &unique, &fl, BPF_ANY);
	return 0;
}

SEC("tracepoint/fuse/fuse_request_end")
int on_end(struct trace_event_raw_fuse_request_end *ctx)
{
	struct trace_inflight *fl;
	struct trace_op_stats *st;
	__u64 unique, ns;
	__u32 op;

	if (BPF_CORE_READ(ctx, connection) != target_conn)
		return 0;
	unique = BPF_CORE_READ(ctx, unique);
	fl = bpf_map_lookup_elem(&inflight, &unique);
	if (!fl)
		return 0; /* sent before we attached, or evicted */
	op = fl->opcode;
	ns = bpf_ktime_get_ns() - fl->start_ns;
	bpf_map_delete_elem(&inflight, &unique);
	if (op >= TRACE_MAX_OPCODE)
		return 0;
	st = bpf_map_lookup_elem(&op_stats, &op);
	if (!st)
		return 0;
	st->done++;
	if (BPF_CORE_READ(ctx, error))
		st->errors++;
	st->lat_sum_ns += ns;
	op = log2_bucket(ns / 1000);
	if (op < TRACE_LAT_BUCKETS) /* for the verifier */
		st->lat_hist[op]++;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_trace.bpf.c - count one FUSE connection's requests per opcode and
 * histogram their round-trip latency, from the fuse_request_send and
 * fuse_request_end tracepoints, attached as raw tracepoints.
 *
 * Raw tracepoints attach by name (BPF_RAW_TRACEPOINT_OPEN): no tracefs, no
 * fentry or tp_btf (tracing programs, which some kernels refuse with EPERM
 * while they load raw_tracepoint programs), no kprobes.  Their arguments are
 * the tracepoint's TP_PROTO, in fs/fuse/fuse_trace.h of Linux 6.18:
 * TP_PROTO(const struct fuse_req *req) for both events.  The programs read
 * the fields the tracepoint records itself (TP_fast_assign: connection =
 * req->fm->fc->dev, req->in.h.unique/opcode, req->out.h.error).
 *
 * The kernel structs are declared here with only the fields read, and
 * preserve_access_index: libbpf relocates every access against the running
 * kernel's BTF (CO-RE; vmlinux, or the fuse module's BTF when fuse is a
 * module), so the object builds without the build host's kernel headers or
 * BTF and loads on any kernel whose BTF has these fields.  A kernel without
 * the tracepoints fails to attach, one whose structs lack a field fails to
 * load; src/kernel/trace.c names which.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpfuse/trace_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* The connection to watch: fuse_conn->dev, the mount's st_dev (set before load). */
const volatile __u32 target_conn = 0;

/* include/uapi/linux/fuse.h (the kernel's copy, relocated like the rest) */
struct fuse_in_header___bpfuse {
	__u32 len;
	__u32 opcode;
	__u64 unique;
} __attribute__((preserve_access_index));

struct fuse_out_header___bpfuse {
	__u32 len;
	__s32 error;
	__u64 unique;
} __attribute__((preserve_access_index));

/* fs/fuse/fuse_i.h */
struct fuse_conn___bpfuse {
	__u32 dev; /* dev_t */
} __attribute__((preserve_access_index));

struct fuse_mount___bpfuse {
	struct fuse_conn___bpfuse *fc;
} __attribute__((preserve_access_index));

struct fuse_req___bpfuse {
	struct {
		struct fuse_in_header___bpfuse h;
	} in;
	struct {
		struct fuse_out_header___bpfuse h;
	} out;
	struct fuse_mount___bpfuse *fm;
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

SEC("raw_tp/fuse_request_send")
int BPF_PROG(on_send, const struct fuse_req___bpfuse *req)
{
	struct trace_inflight fl = {};
	struct trace_op_stats *st;
	__u64 unique;
	__u32 op;

	if (BPF_CORE_READ(req, fm, fc, dev) != target_conn)
		return 0;
	op = BPF_CORE_READ(req, in.h.opcode);
	if (op >= TRACE_MAX_OPCODE)
		op = 0;
	unique = BPF_CORE_READ(req, in.h.unique);
	st = bpf_map_lookup_elem(&op_stats, &op);
	if (st)
		st->sent++;
	fl.start_ns = bpf_ktime_get_ns();
	fl.opcode = op;
	bpf_map_update_elem(&inflight, &unique, &fl, BPF_ANY);
	return 0;
}

SEC("raw_tp/fuse_request_end")
int BPF_PROG(on_end, const struct fuse_req___bpfuse *req)
{
	struct trace_inflight *fl;
	struct trace_op_stats *st;
	__u64 unique, ns;
	__u32 op;

	if (BPF_CORE_READ(req, fm, fc, dev) != target_conn)
		return 0;
	unique = BPF_CORE_READ(req, in.h.unique);
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
	if (BPF_CORE_READ(req, out.h.error))
		st->errors++;
	st->lat_sum_ns += ns;
	op = log2_bucket(ns / 1000);
	if (op < TRACE_LAT_BUCKETS) /* for the verifier */
		st->lat_hist[op]++;
	return 0;
}

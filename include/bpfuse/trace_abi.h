/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace_abi.h - types shared by bpf/trace/fuse_trace.bpf.c and the daemon.
 *
 * The tracing programs count the FUSE requests of one connection per opcode
 * and record each opcode's round-trip latency (request sent to userspace ->
 * reply received) as a log2 histogram.  Fixed-width types only, no pointers.
 */
#ifndef BPFUSE_TRACE_ABI_H
#define BPFUSE_TRACE_ABI_H

#ifdef __BPF__
typedef __u32 trace_u32;
typedef __u64 trace_u64;
#else
#include <stdint.h>
typedef uint32_t trace_u32;
typedef uint64_t trace_u64;
#endif

/* Opcodes are < 64 except CUSE_INIT (4096), which is folded into slot 0. */
#define TRACE_MAX_OPCODE 64
/* Bucket b counts latencies in [2^b, 2^(b+1)) microseconds; bucket 0 is < 2 us. */
#define TRACE_LAT_BUCKETS 27
/* Requests in flight tracked at once (oldest evicted first). */
#define TRACE_MAX_INFLIGHT 16384

#define TRACE_MAP_STATS "op_stats"
#define TRACE_MAP_INFLIGHT "inflight"

struct trace_op_stats {
	trace_u64 sent;        /* requests sent to userspace */
	trace_u64 done;        /* replies received */
	trace_u64 errors;      /* replies with error != 0 */
	trace_u64 lat_sum_ns;  /* sum of round-trip latencies of `done` */
	trace_u64 lat_hist[TRACE_LAT_BUCKETS];
};

struct trace_inflight {
	trace_u64 start_ns;
	trace_u32 opcode;
	trace_u32 pad;
};

#endif

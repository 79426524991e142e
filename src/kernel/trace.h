/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace.h - lifecycle of the BPF tracing programs (bpf/trace):
 * probe the kernel's BTF for the tracepoints -> open -> set the connection
 * to watch -> load -> attach as raw tracepoints (no tracefs needed), and
 * reading their maps back.  Failure is never fatal to the mount: the reason,
 * as the kernel reported it, is kept and shown by the mount's status line
 * and the stats.
 */
#ifndef BPFUSE_TRACE_H
#define BPFUSE_TRACE_H

#include <stdint.h>

#include "bpfuse/trace_abi.h"

struct trace;

/*
 * Attach to the FUSE connection @conn (fuse_conn->dev: the mount's st_dev,
 * whose major is 0).  Returns 0, or -errno with one line in @why naming the
 * cause (no BTF, no such tracepoint, the load or attach error with libbpf's
 * first warning).
 */
int trace_open(struct trace **out, uint32_t conn, char *why, unsigned int whylen);
void trace_close(struct trace *t);

/* Sum of every CPU's counters for opcode @op.  Returns 0 or -errno. */
int trace_read_op(struct trace *t, uint32_t op, struct trace_op_stats *out);

#endif

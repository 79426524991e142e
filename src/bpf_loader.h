/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf_loader.h - lifecycle of the BPF tracing programs (bpf/trace):
 * open -> set the connection to watch -> load -> attach, and reading their
 * maps back.  Failure is never fatal to the mount: the reason is kept and
 * reported by the stats.
 */
#ifndef BPFUSE_BPF_LOADER_H
#define BPFUSE_BPF_LOADER_H

#include <stdint.h>

#include "bpfuse/trace_abi.h"

struct trace;

/* Attach to the FUSE connection @conn (the minor of the mount's st_dev). */
int trace_open(struct trace **out, uint32_t conn, char *why, unsigned int whylen);
void trace_close(struct trace *t);

/* Sum of every CPU's counters for opcode @op.  Returns 0 or -errno. */
int trace_read_op(struct trace *t, uint32_t op, struct trace_op_stats *out);

#endif

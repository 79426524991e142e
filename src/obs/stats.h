/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats.h - counters of one mount and their exposition.
 *
 * Two sources of per-opcode request counts: the BPF tracing programs
 * (bpf/trace, every request the kernel sent to userspace with its round-trip
 * latency) when they load, and always the daemon's own counters (requests it
 * handled and answered with an error).  Exposed by `bpfuse stats` through a unix
 * socket at BPFUSE_RUNTIME_DIR/<connection>.sock, and optionally as a
 * Prometheus text exposition over HTTP on 127.0.0.1.
 */
#ifndef BPFUSE_STATS_H
#define BPFUSE_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "stats_counters.h"

/* Name of a FUSE opcode ("LOOKUP"), or NULL when unknown. */
const char *stats_opcode_name(unsigned int op);

struct fs;

enum stats_format { STATS_TABLE, STATS_JSON, STATS_PROMETHEUS };

/* Render the mount's stats (BPF and daemon) to @out. */
void stats_render(struct fs *fs, enum stats_format fmt, FILE *out);

struct stats_server;

/*
 * The metrics listener on 127.0.0.1:@port (non-blocking, close-on-exec),
 * made before mount(2) so that a port in use is a mount error.  fd or -errno.
 */
int stats_listen_metrics(unsigned int port);

/*
 * Serve stats on a unix socket at @path (mode 0600 from its creation; the
 * caller keeps its directory 0700) and, when @metrics_fd >= 0 (from
 * stats_listen_metrics(), owned by the server from now on, also on failure),
 * Prometheus text over HTTP, from one thread that serves concurrent clients
 * with deadlines (stats_server.c).
 * Returns 0 with *@out set, or -errno with nothing left listening.
 */
int stats_server_start(struct fs *fs, const char *path, int metrics_fd,
		       struct stats_server **out);

/* Stop serving and close every connection; NULL is fine.  Does not unlink the socket. */
void stats_server_stop(struct stats_server *srv);

/* Client side of `bpfuse stats`: fetch one rendering from @path. */
int stats_fetch(const char *path, enum stats_format fmt, FILE *out);

#endif

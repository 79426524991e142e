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

#define STATS_MAX_OP 64

struct stats {
	uint64_t op_count[STATS_MAX_OP];   /* requests the daemon handled */
	uint64_t op_errors[STATS_MAX_OP];  /* of which answered with an error */
	uint64_t bytes_read_backend;       /* READ bytes the daemon served from the backend */
	uint64_t bytes_read_cache;         /* READ bytes the daemon served from its cache */
	uint64_t bytes_written;            /* WRITE bytes that reached the daemon */
	uint64_t reads_backend;            /* READ requests served from the backend */
	uint64_t reads_cache;              /* READ requests served from the cache */
	uint64_t passthrough_opens;        /* opens answered with FOPEN_PASSTHROUGH */
	uint64_t plain_opens;              /* opens served through the daemon */
	uint64_t uring_requests;           /* requests that came by FUSE-over-io_uring */
	uint64_t evictions;                /* cache evictions (no cache yet: 0) */
	uint64_t errors;                   /* all error replies */
	uint64_t invalidations;            /* kernel cache invalidations sent */
	uint64_t watch_overflows;          /* change events lost (inotify queue overflow) */
	uint64_t watch_full_drops;         /* whole-mount cache drops (overflow, lost watch) */
	uint64_t watch_own_events;         /* events of the daemon's own changes, not invalidated */
	/* S3 backend: requests by kind, and its cache */
	uint64_t s3_head, s3_get, s3_list, s3_put, s3_delete, s3_copy;
	uint64_t s3_bytes_fetched;         /* object bytes received by ranged GETs */
	uint64_t cache_block_hits;         /* cache blocks read and verified for READ */
	uint64_t s3_pool_hits;             /* READ pieces copied from a part just fetched */
	uint64_t crc_refetches;            /* blocks fetched again after a CRC mismatch */
	uint64_t cache_fallbacks;          /* parts not stored and reads served past the cache */
	uint64_t s3_protocol_errors;       /* S3 answers refused: bad sizes or ranges */
	uint64_t cache_crc_errors, cache_disk_errors, cache_bytes, cache_entries; /* cache.h */
	uint64_t cache_changed_behind, cache_scrubbed_bytes;                     /* cache.h */
};

static inline void stats_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

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

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stats_counters.h - the counters of one mount (struct stats), bumped by every layer
 * (the FUSE boundary, the backends, the cache) and read by obs/stats.c, which renders
 * them.  Plain relaxed atomics: a reader sees each counter whole, not a consistent set.
 */
#ifndef BPFUSE_STATS_COUNTERS_H
#define BPFUSE_STATS_COUNTERS_H

#include <stdint.h>

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
	/* prefetch of listed files (-o prefetch): files queued, stored complete, their bytes,
	 * not fetched (in the cache already, too large, dropped, opened first), failed GETs */
	uint64_t s3_prefetch_queued, s3_prefetch_fetched, s3_prefetch_bytes;
	uint64_t s3_prefetch_skipped, s3_prefetch_errors;
};

static inline void stats_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

#endif

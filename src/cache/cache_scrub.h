/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cache_scrub.h - a background thread that verifies the cache store's blocks against their
 * CRC32C at a bounded rate, coldest objects first (cache_scrub_step()), so that bytes that
 * went bad on disk without anyone writing them are dropped before an open serves them.
 */
#ifndef BPFUSE_CACHE_SCRUB_H
#define BPFUSE_CACHE_SCRUB_H

#include <stdint.h>

struct cache;
struct cache_scrub;

/*
 * Start scrubbing @c at @bytes_per_s (0: no thread, *out NULL).  A full pass over the
 * cache takes its size divided by the rate; between passes it rests pass_pause_s seconds.
 * Returns 0 or -errno.
 */
int cache_scrub_start(struct cache_scrub **out, struct cache *c, uint64_t bytes_per_s,
		      unsigned int pass_pause_s);
/* Stop the thread and wait for it (at most one block read).  NULL is fine. */
void cache_scrub_stop(struct cache_scrub *s);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_cache.c - the S3 backend's use of the cache store: the key of an object
 * version, adopting an uploaded staging file as the new version's entry, the scrubber,
 * the counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "backend_s3.h"
#include "cache.h"
#include "cache_scrub.h"
#include "config.h"
#include "fs.h"
#include "log.h"
#include "s3_client.h"
#include "s3_cred.h"
#include "backend_s3_priv.h"

/* ------------------------------------------------------------------ cache */

void s3_object_cache_key(struct s3be *sb, const char *key, const char *etag,
			     char out[CACHE_KEY_LEN + 1])
{
	const char *parts[] = { sb->endpoint, sb->bucket, key, etag };

	cache_key(parts, 4, out);
}

/*
 * The scrub thread starts with the first open, as the fetch threads do: the backend is
 * opened before the daemon forks, and threads do not survive a fork.
 */
void s3_scrub_ensure(struct s3be *sb)
{
	int err;

	if (__atomic_load_n(&sb->scrub_started, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&sb->fetch_lock);
	if (!sb->scrub_started && !sb->stop) {
		err = cache_scrub_start(&sb->scrub, sb->cache, sb->scrub_rate, 60);
		if (err)
			pr_warn("cache scrub not started: %s", strerror(-err));
		__atomic_store_n(&sb->scrub_started, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&sb->fetch_lock);
}

void s3_sync_cache_stats(struct s3be *sb)
{
	struct cache_stats cs;

	cache_get_stats(sb->cache, &cs);
	__atomic_store_n(&sb->stats->evictions, cs.evictions, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->stats->cache_crc_errors, cs.crc_errors, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->stats->cache_disk_errors, cs.disk_errors, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->stats->cache_bytes, cs.bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->stats->cache_entries, cs.entries, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->stats->cache_changed_behind, cs.changed_behind, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->stats->cache_scrubbed_bytes, cs.scrubbed_bytes, __ATOMIC_RELAXED);
}

/*
 * Copy the uploaded staging file into the cache under its new ETag (best effort; caller
 * holds n->lock).  @gen and @busy are n->wgen and n->wactive read before the upload: the
 * file may be adopted only if no change ran during the upload or this copy, else the
 * cache could hold bytes under @etag that were never uploaded; such an entry is dropped.
 */
void s3_cache_adopt(struct s3be *sb, struct s3node *n, int fd, off_t size, const char *etag,
			uint64_t gen, unsigned int busy)
{
	char key[CACHE_KEY_LEN + 1];
	struct cache_entry *e;
	uint64_t i, nb;
	char *buf;
	int ok = 0;

	if (busy)
		return;
	s3_object_cache_key(sb, n->key, etag, key);
	if (cache_lookup(sb->cache, key, (uint64_t)size, CACHE_CREATE, &e))
		return;
	buf = malloc(sb->block_size);
	nb = cache_entry_nblocks(e);
	for (i = 0; buf && i < nb; i++) {
		size_t len = cache_entry_block_len(sb->cache, e, i);

		if (pread(fd, buf, len, (off_t)(i * sb->block_size)) != (ssize_t)len ||
		    cache_write_block(sb->cache, e, i, buf, len))
			break;
	}
	free(buf);
	/* in this order: a change that ended before wactive was read has bumped wgen */
	if (i == nb && !__atomic_load_n(&n->wactive, __ATOMIC_SEQ_CST) &&
	    __atomic_load_n(&n->wgen, __ATOMIC_SEQ_CST) == gen)
		ok = 1;
	cache_entry_put(sb->cache, e);
	if (!ok)
		cache_remove_later(sb->cache, key); /* not what was uploaded, or incomplete */
	s3_sync_cache_stats(sb);
}

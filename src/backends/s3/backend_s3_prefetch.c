// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_prefetch.c - background prefetch of listed files (-o prefetch, on with
 * profile=dataset).  A data loader lists its directories, then opens every file of them
 * once per epoch, one after the other: each cold open costs a GET round trip while the
 * loader waits.  When a directory of the bucket is listed (OPENDIR, which makes the
 * listing READDIR and READDIRPLUS return), its regular files are queued, in listing
 * order, and a small pool of threads fetches those not complete in the cache yet.
 *
 * One path into the cache: a worker fetches through s3_fetch_object(), the function
 * reads use (backend_s3_read.c), with an open state of its own: the cache key of the
 * (endpoint, bucket, key, ETag) the listing saw, GETs pinned to that ETag, CRC32C blocks,
 * the size checks, and the in-flight list, so that a reader opening the object meanwhile
 * waits for the part being fetched rather than fetching it again.  The next open of a
 * prefetched object finds it complete and passes through.
 *
 * Bounds.  Objects larger than S3_PF_MAX_OBJECT are skipped (readahead streams them).
 * The bytes stored by the prefetcher and not opened since are held to pf_budget, half the
 * cache: a worker waits for readers to open what it fetched before it fetches more, so
 * that prefetching never fills the cache with data nobody read yet, and the LRU, which
 * evicts the oldest first, has at least as many bytes of other objects to take before it
 * reaches what the loader is about to read.  An S3 error other than a vanished or changed
 * object (404, 412) drops the queue and pauses prefetching for S3_PF_PAUSE_S: a failing
 * server gets no storm of requests, and readers see the errors they would see anyway.  A
 * cache that cannot store (-ENOSPC) drops the queue too.
 *
 * Stop.  s3_prefetch_stop() (the FUSE loop ended) drops the queue and joins the workers,
 * which check the stop between parts: an unmount waits for the parts in flight, never
 * for the queue.  Threads start with the first job, after the daemon forked.
 *
 * Locking: pf_lock is a leaf (nothing is taken under it); s3node.pf_state and pf_bytes
 * are under it.  A node holds pf_bytes of the budget from its fetch until a reader opens
 * it, across a later listing that queues it again (the version may have changed).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cache.h"
#include "log.h"
#include "stats_counters.h"
#include "backend_s3_priv.h"

void s3_prefetch_init(struct s3be *sb, int on, unsigned int threads, uint64_t cache_bytes)
{
	pthread_mutex_init(&sb->pf_lock, NULL);
	pthread_cond_init(&sb->pf_cond, NULL);
	sb->pf_on = on;
	sb->pf_max_threads = threads ? threads : 1;
	sb->pf_budget = cache_bytes / 2;
}

/* A node leaves the queue or a worker (pf_lock held): unread if it holds budget. */
static void pf_settle_locked(struct s3node *n)
{
	n->pf_state = n->pf_bytes ? S3_PF_UNREAD : S3_PF_NONE;
}

/* Take the queue off (pf_lock held): the caller drops it with pf_free_jobs(). */
static struct pf_job *pf_take_queue_locked(struct s3be *sb)
{
	struct pf_job *j = sb->pf_head, *k;

	for (k = j; k; k = k->next)
		pf_settle_locked(k->n); /* queued, or opened since */
	sb->pf_head = sb->pf_tail = NULL;
	sb->pf_queued = 0;
	return j;
}

/* Drop @j (jobs not run), counting them as skipped. */
static void pf_free_jobs(struct s3be *sb, struct pf_job *j)
{
	struct pf_job *next;

	for (; j; j = next) {
		next = j->next;
		stats_add(&sb->stats->s3_prefetch_skipped, 1);
		s3_node_put(sb, j->n);
		free(j);
	}
}

/*
 * An S3 error on a prefetch: the object vanished or changed since the listing (-ENOENT,
 * -ESTALE: a reader will see that itself), or the server or the cache failing: then stop
 * asking for a while.
 */
static void pf_failed(struct s3be *sb, int err)
{
	struct pf_job *j;

	stats_add(&sb->stats->s3_prefetch_errors, 1);
	if (err == -ENOENT || err == -ESTALE)
		return;
	pthread_mutex_lock(&sb->pf_lock);
	if (sb->pf_pause_until < s3_now_mono() + S3_PF_PAUSE_S)
		sb->pf_pause_until = s3_now_mono() + S3_PF_PAUSE_S;
	j = pf_take_queue_locked(sb);
	pthread_mutex_unlock(&sb->pf_lock);
	if (j)
		pr_warn("s3: prefetch paused for %.0f s after an error (%s); queued files dropped",
			S3_PF_PAUSE_S, strerror(-err));
	pf_free_jobs(sb, j);
}

/* Set the prefetch state of @n back from a fetch, giving back @reserved of the budget. */
static void pf_done(struct s3be *sb, struct s3node *n, uint64_t reserved, int stored)
{
	pthread_mutex_lock(&sb->pf_lock);
	if (stored && n->pf_state == S3_PF_FETCHING) {
		/* its bytes stay counted until it is opened; an older version's no longer */
		sb->pf_pending -= n->pf_bytes;
		n->pf_bytes = reserved;
	} else {
		sb->pf_pending -= reserved;
	}
	pf_settle_locked(n);
	pthread_cond_broadcast(&sb->pf_cond);
	pthread_mutex_unlock(&sb->pf_lock);
}

/* Fetch @n into the cache unless it is there, too large or being written. */
static void pf_fetch(struct s3be *sb, struct s3node *n)
{
	char ckey[CACHE_KEY_LEN + 1], etag[S3_ETAG_MAX];
	struct cache_entry *e;
	struct s3open *o;
	off_t size;
	int err, ok, stored = 0;

	pthread_mutex_lock(&sb->ns_lock);
	size = n->size;
	snprintf(etag, sizeof(etag), "%s", n->etag);
	ok = n->exists && !n->is_dir && etag[0] && size > 0 &&
	     (uint64_t)size <= S3_PF_MAX_OBJECT && (uint64_t)size <= sb->pf_budget &&
	     __atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) < 0;
	pthread_mutex_unlock(&sb->ns_lock);
	if (ok) {
		s3_object_cache_key(sb, n->key, etag, ckey);
		if (!cache_lookup(sb->cache, ckey, (uint64_t)size, 0, &e)) {
			ok = cache_is_complete(sb->cache, e) != 1;
			cache_entry_put(sb->cache, e);
		}
	}
	pthread_mutex_lock(&sb->pf_lock);
	/* hold at most pf_budget of unread prefetched bytes: wait for readers to open some */
	while (ok && !sb->pf_stop && sb->pf_pending && sb->pf_pending + (uint64_t)size > sb->pf_budget)
		pthread_cond_wait(&sb->pf_cond, &sb->pf_lock);
	/* a reader that opened it meanwhile fetches it itself */
	ok = ok && !sb->pf_stop && n->pf_state == S3_PF_FETCHING;
	if (ok)
		sb->pf_pending += (uint64_t)size;
	else
		pf_settle_locked(n);
	pthread_mutex_unlock(&sb->pf_lock);
	if (!ok) {
		stats_add(&sb->stats->s3_prefetch_skipped, 1);
		return;
	}

	o = calloc(1, sizeof(*o));
	if (!o) {
		pf_done(sb, n, (uint64_t)size, 0);
		return;
	}
	o->n = n;
	o->refs = 1;
	o->prefetch = 1;
	o->vblock = UINT64_MAX;
	o->size = size;
	snprintf(o->etag, sizeof(o->etag), "%s", etag);
	memcpy(o->ckey, ckey, sizeof(o->ckey));
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_lock(&sb->ns_lock);
	n->refs++; /* the open state's, dropped by s3_open_put() */
	pthread_mutex_unlock(&sb->ns_lock);
	err = cache_lookup(sb->cache, ckey, (uint64_t)size, CACHE_CREATE, &o->e);
	if (err) {
		o->e = NULL;
		err = -ENOSPC;
	} else {
		err = s3_fetch_object(sb, o, &sb->pf_stop);
	}
	if (!err && cache_is_complete(sb->cache, o->e) == 1) {
		stored = 1;
		stats_add(&sb->stats->s3_prefetch_fetched, 1);
		stats_add(&sb->stats->s3_prefetch_bytes, (uint64_t)size);
	}
	s3_open_put(sb, o);
	pf_done(sb, n, (uint64_t)size, stored);
	if (err && err != -EINTR)
		pf_failed(sb, err);
	s3_sync_cache_stats(sb);
}

static void *pf_worker(void *arg)
{
	struct s3be *sb = arg;
	struct pf_job *j;
	int fetch;

	pthread_mutex_lock(&sb->pf_lock);
	for (;;) {
		while (!sb->pf_head && !sb->pf_stop)
			pthread_cond_wait(&sb->pf_cond, &sb->pf_lock);
		if (sb->pf_stop)
			break;
		j = sb->pf_head;
		sb->pf_head = j->next;
		if (!sb->pf_head)
			sb->pf_tail = NULL;
		sb->pf_queued--;
		fetch = j->n->pf_state == S3_PF_QUEUED; /* else a reader opened it meanwhile */
		if (fetch)
			j->n->pf_state = S3_PF_FETCHING;
		else
			pf_settle_locked(j->n);
		pthread_mutex_unlock(&sb->pf_lock);
		if (fetch)
			pf_fetch(sb, j->n);
		else
			stats_add(&sb->stats->s3_prefetch_skipped, 1);
		s3_node_put(sb, j->n);
		free(j);
		pthread_mutex_lock(&sb->pf_lock);
	}
	pthread_mutex_unlock(&sb->pf_lock);
	return NULL;
}

/* Start the workers not running yet (pf_lock held). */
static void pf_start_locked(struct s3be *sb)
{
	if (!sb->pf_threads) {
		sb->pf_threads = calloc(sb->pf_max_threads, sizeof(*sb->pf_threads));
		if (!sb->pf_threads)
			return;
	}
	while (sb->pf_nthreads < sb->pf_max_threads && !sb->pf_stop) {
		if (pthread_create(&sb->pf_threads[sb->pf_nthreads], NULL, pf_worker, sb))
			break;
		sb->pf_nthreads++;
	}
}

/*
 * Queue the files of the listing @bd that are not queued or being fetched; those fetched
 * already are skipped by the worker unless the listing saw another version.
 */
static void pf_queue_dir(struct s3be *sb, struct backend_dir *bd)
{
	struct s3node **v;
	struct pf_job *j;
	size_t i, n = s3_dir_files(sb, bd, &v), queued = 0, skipped = 0;
	int can;

	if (!n)
		return;
	pthread_mutex_lock(&sb->pf_lock);
	pf_start_locked(sb);
	can = !sb->pf_stop && sb->pf_nthreads && sb->pf_pause_until <= s3_now_mono();
	for (i = 0; i < n; i++) {
		if (v[i]->pf_state != S3_PF_NONE && v[i]->pf_state != S3_PF_UNREAD)
			continue; /* queued or being fetched */
		j = can && sb->pf_queued < S3_PF_MAX_QUEUE ? calloc(1, sizeof(*j)) : NULL;
		if (!j) {
			skipped++;
			continue;
		}
		j->n = v[i];
		v[i] = NULL; /* the job has the reference now */
		j->n->pf_state = S3_PF_QUEUED;
		if (sb->pf_tail)
			sb->pf_tail->next = j;
		else
			sb->pf_head = j;
		sb->pf_tail = j;
		sb->pf_queued++;
		queued++;
	}
	if (queued)
		pthread_cond_broadcast(&sb->pf_cond);
	pthread_mutex_unlock(&sb->pf_lock);
	stats_add(&sb->stats->s3_prefetch_queued, queued);
	stats_add(&sb->stats->s3_prefetch_skipped, skipped);
	/* outside pf_lock: s3_node_put() takes ns_lock */
	for (i = 0; i < n; i++)
		if (v[i])
			s3_node_put(sb, v[i]);
	free(v);
}

/* OPENDIR: the listing, then its files queued for prefetch. */
int s3_prefetch_opendir(struct backend *be, struct inode *ino, struct backend_dir *bd)
{
	struct s3be *sb = SB(be);
	int err = s3_opendir(be, ino, bd);

	if (!err && sb->pf_on)
		pf_queue_dir(sb, bd);
	return err;
}

void s3_prefetch_stop(struct s3be *sb)
{
	struct pf_job *j;
	unsigned int t;

	pthread_mutex_lock(&sb->pf_lock);
	__atomic_store_n(&sb->pf_stop, 1, __ATOMIC_RELAXED);
	j = pf_take_queue_locked(sb);
	pthread_cond_broadcast(&sb->pf_cond);
	pthread_mutex_unlock(&sb->pf_lock);
	pf_free_jobs(sb, j);
	for (t = 0; t < sb->pf_nthreads; t++)
		pthread_join(sb->pf_threads[t], NULL);
	sb->pf_nthreads = 0;
}

void s3_prefetch_destroy(struct s3be *sb)
{
	s3_prefetch_stop(sb);
	free(sb->pf_threads);
	sb->pf_threads = NULL;
	pthread_mutex_destroy(&sb->pf_lock);
	pthread_cond_destroy(&sb->pf_cond);
}

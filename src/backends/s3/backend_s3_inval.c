// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_inval.c - an object changed behind the mount (or by our own upload): drop
 * the old version from the cache store and from the kernel's caches.
 *
 * Every revalidation (a HEAD of a lookup or getattr, a LIST page of a readdir) and every
 * upload records what it saw with s3_node_seen_locked().  When that names another version
 * than the node knew (another ETag, or another size), a job goes to one thread, which
 * 1. removes the old version's cache entry (cache_remove_later(): an entry still open or
 *    pinned goes when its last open closes), and
 * 2. for changes made by another client, tells the kernel to drop the inode's attributes
 *    and page cache (fuse_lowlevel_notify_inval_inode).  The kernel drops pages by itself
 *    when the size or the mtime it is told differ, but an overwrite with the same size in
 *    the same second (LastModified has one-second resolution) changes neither, and with
 *    keep_cache the next open would read the old pages.
 * The notification is not sent from the request handler that saw the change: the kernel
 * locks the inode's pages while it invalidates them, and pages are locked while their READ
 * is queued, so a handler that waits there can wait for a READ that only a free worker
 * thread could serve.  The thread has no such dependency.  An open of a file with a job
 * still queued waits for it (s3_inval_wait(), at most 2 s), so an open that follows the
 * lookup that saw the change never reads the old pages.
 *
 * The thread starts with the first job (after the daemon forked) and is stopped by
 * s3_inval_stop() when the FUSE loop has ended, before the session and the inode table go.
 *
 * Locks: inval_lock is a leaf, taken under ns_lock by s3_node_seen_locked(); the thread
 * takes the inode table's lock and the cache's, never ns_lock.
 */
#define FUSE_USE_VERSION 317
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fuse_lowlevel.h>

#include "backend_s3_priv.h"
#include "fastpath.h"
#include "fs.h"
#include "inode.h"
#include "log.h"

#define INVAL_WAIT_S 2

struct inval_job {
	uint64_t ino, gen;               /* key.ino and key.gen of the kernel's inode */
	uint64_t seq;
	int kernel;                      /* tell the kernel (a change by another client) */
	char ckey[CACHE_KEY_LEN + 1];    /* the old version's cache key, "" = none */
	struct inval_job *next;
};

void s3_inval_init(struct s3be *sb)
{
	sb->seen_locked = s3_node_seen_locked;
	pthread_mutex_init(&sb->inval_lock, NULL);
	pthread_cond_init(&sb->inval_cond, NULL);
}

static void notify_kernel(struct s3be *sb, uint64_t ino, uint64_t gen)
{
	struct fs *fs = sb->be->fs;
	struct inode_key key = { .dev = S3_DEV, .ino = ino, .gen = gen };
	uint64_t nodeid, told;
	int err;

	if (!fs->se)
		return;
	nodeid = inode_nodeid_of(&fs->inodes, &key, &told);
	if (!nodeid)
		return; /* the kernel does not know the file: nothing cached */
	/*
	 * The fast path's maps first: no GETATTR, OPEN or READ of the old
	 * version is answered in the kernel from now on; the next request's
	 * publication unpublishes its backing file (file_fastpath_until()).
	 */
	fastpath_drop_attr(fs->ks, nodeid);
	/* attributes and every page */
	err = fuse_lowlevel_notify_inval_inode(fs->se, nodeid, 0, 0);
	if (err && err != -ENOENT)
		pr_debug("s3: invalidating inode %llu: %s", (unsigned long long)nodeid,
			 strerror(-err));
	stats_add(&sb->stats->invalidations, 1);
}

static void *inval_thread(void *arg)
{
	struct s3be *sb = arg;
	struct inval_job *j;

	for (;;) {
		pthread_mutex_lock(&sb->inval_lock);
		while (!sb->inval_head && !sb->inval_stop)
			pthread_cond_wait(&sb->inval_cond, &sb->inval_lock);
		j = sb->inval_head;
		if (j) {
			sb->inval_head = j->next;
			if (!sb->inval_head)
				sb->inval_tail = NULL;
		}
		pthread_mutex_unlock(&sb->inval_lock);
		if (!j)
			break; /* stopped, queue empty */
		if (j->ckey[0])
			cache_remove_later(sb->cache, j->ckey);
		/* once stopped the connection is gone: nothing left to invalidate */
		if (j->kernel && !__atomic_load_n(&sb->inval_stop, __ATOMIC_RELAXED))
			notify_kernel(sb, j->ino, j->gen);
		pthread_mutex_lock(&sb->inval_lock);
		sb->inval_done = j->seq;
		pthread_cond_broadcast(&sb->inval_cond);
		pthread_mutex_unlock(&sb->inval_lock);
		free(j);
	}
	return NULL;
}

/*
 * Queue a job (caller holds ns_lock: @n's seq is set under it); @gen: the generation of
 * the kernel's inode to tell.
 */
static void queue_locked(struct s3be *sb, struct s3node *n, const char *old_etag, int kernel,
			 uint64_t gen)
{
	const char *parts[] = { sb->endpoint, sb->bucket, n->key, old_etag };
	struct inval_job *j = calloc(1, sizeof(*j));

	if (!j)
		return; /* the old version ages out of the cache by LRU; the kernel by timeout */
	j->ino = n->ino;
	j->gen = gen;
	j->kernel = kernel;
	if (old_etag)
		cache_key(parts, 4, j->ckey);
	pthread_mutex_lock(&sb->inval_lock);
	if (sb->inval_stop) {
		pthread_mutex_unlock(&sb->inval_lock);
		free(j);
		return;
	}
	if (!sb->inval_started) {
		if (pthread_create(&sb->inval_thread, NULL, inval_thread, sb)) {
			pthread_mutex_unlock(&sb->inval_lock);
			free(j);
			return;
		}
		sb->inval_started = 1;
	}
	j->seq = ++sb->inval_queued;
	n->inval_seq = j->seq;
	if (sb->inval_tail)
		sb->inval_tail->next = j;
	else
		sb->inval_head = j;
	sb->inval_tail = j;
	pthread_cond_broadcast(&sb->inval_cond);
	pthread_mutex_unlock(&sb->inval_lock);
}

/*
 * Record what a HEAD, a LIST page or an upload (@own) said of file @n (caller holds
 * ns_lock); when that is another version than the one known, queue the removal of the old
 * version's cache entry and, unless the change is ours, the kernel's invalidation.  A file
 * being written here (a staging file) keeps its local bytes: a listing does not make the
 * kernel drop them.
 */
void s3_node_seen_locked(struct s3be *sb, struct s3node *n, off_t size, time_t mtime,
			 const char *etag, double seen, int own)
{
	char old[S3_ETAG_MAX];
	off_t old_size = n->size;
	time_t old_mtime = n->mtime;
	int known = n->exists && n->seen > 0 && n->etag[0] && !n->is_dir;

	memcpy(old, n->etag, sizeof(old));
	s3_node_set_meta_locked(n, size, mtime, etag, seen);
	/*
	 * Another version, or the same bytes with a new LastModified (another client changed
	 * the metadata by a copy onto itself): its attributes are to be read again.  After our
	 * own change the time is our clock's, so the listing's LastModified is no news.
	 */
	if (!own && n->meta_known &&
	    ((etag && strcmp(old, etag)) || old_size != size ||
	     (old_mtime != mtime && !n->mtime_own))) {
		n->meta_known = 0;
		free(n->link);
		n->link = NULL;
		/* the same bytes: only the kernel's attributes go (another version: below) */
		if (known && etag && !strcmp(old, etag) && old_size == size &&
		    !s3_staged_for(n, n->vgen))
			queue_locked(sb, n, NULL, 1, n->vgen);
	}
	n->mtime_own = own;
	if (!known || !etag || !etag[0] || (!strcmp(old, etag) && old_size == size))
		return;
	if (own) {
		queue_locked(sb, n, old, 0, n->vgen);
		return;
	}
	if (s3_staged_for(n, n->vgen))
		return;
	/*
	 * Another client's version is another file: the inodes of this one stay with the
	 * opens reading it (their pages, their passthrough backing file), and the name's next
	 * LOOKUP makes a new inode (s3_node_stale()).  The old one's kernel caches go.
	 */
	n->vgen++;
	queue_locked(sb, n, old, 1, n->vgen - 1);
}

/*
 * An open of inode generation @gen that read version @etag of @n is closing after @n
 * changed: its READs may have put that version's pages back into the kernel's cache since
 * the change was handled, so they are dropped once more.  Only where that inode is still
 * the name's (the change was made through this mount): an older generation is never
 * opened again.
 */
void s3_note_stale_open(struct s3be *sb, struct s3node *n, const char *etag, uint64_t gen)
{
	pthread_mutex_lock(&sb->ns_lock);
	if (etag[0] && n->etag[0] && strcmp(n->etag, etag) && gen == n->vgen)
		queue_locked(sb, n, etag, 1, gen);
	pthread_mutex_unlock(&sb->ns_lock);
}

/* An open of @n waits (at most INVAL_WAIT_S) until the change jobs queued for it are done. */
void s3_inval_wait(struct s3be *sb, struct s3node *n)
{
	uint64_t want;
	struct timespec dl;

	pthread_mutex_lock(&sb->ns_lock);
	want = n->inval_seq;
	pthread_mutex_unlock(&sb->ns_lock);
	if (!want)
		return;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += INVAL_WAIT_S;
	pthread_mutex_lock(&sb->inval_lock);
	while (sb->inval_done < want && !sb->inval_stop)
		if (pthread_cond_timedwait(&sb->inval_cond, &sb->inval_lock, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&sb->inval_lock);
}

/*
 * The FUSE loop has ended: finish the queued jobs and end the thread, before the session
 * and the inode table go.  Idempotent.
 */
void s3_inval_stop(struct s3be *sb)
{
	int started;

	pthread_mutex_lock(&sb->inval_lock);
	sb->inval_stop = 1;
	started = sb->inval_started;
	sb->inval_started = 0;
	pthread_cond_broadcast(&sb->inval_cond);
	pthread_mutex_unlock(&sb->inval_lock);
	if (started)
		pthread_join(sb->inval_thread, NULL);
}

void s3_inval_destroy(struct s3be *sb)
{
	struct inval_job *j;

	s3_inval_stop(sb);
	while ((j = sb->inval_head)) {
		sb->inval_head = j->next;
		free(j);
	}
	pthread_mutex_destroy(&sb->inval_lock);
	pthread_cond_destroy(&sb->inval_cond);
}

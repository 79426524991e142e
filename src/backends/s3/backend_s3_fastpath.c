// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_fastpath.c - what the in-kernel fast path may publish of an S3 mount
 * (docs/s3.md, "In the kernel"; fs/backend.h, fastpath_check/hold/unhold).
 *
 * - Deadlines: a node's state is trusted for list_ttl after the listing or HEAD that
 *   vouched for it (n->seen), so every value published for it expires then, and the
 *   kernel asks the daemon again, which revalidates.  A node nothing vouched for, or
 *   whose deadline has passed, is not published.  The root (always there, the mount's
 *   attributes) is published for list_ttl from each publication.
 * - OPEN: a reader's open of an object complete in the cache has its cache file as the
 *   passthrough backing file.  Published for OPEN, it is answered by the kernel until
 *   the inode is forgotten, so the inode keeps its own reference and pin of that cache
 *   entry (never evicted meanwhile) and the ETag and size it holds (inode.fp.be_hold: per
 *   inode, as another client's version is another inode of the node, whose publications
 *   are made while the old one's still stand); when the node names
 *   another version (or none, or has a staging file), fastpath_check() says so and the
 *   caller unpublishes it (the map values first, then the backing id) before it
 *   publishes anything else, and only then is the pin dropped.  So does a held file
 *   that is no longer complete (a block dropped for its CRC): until the next
 *   publication (at most list_ttl) the kernel may still answer OPENs with it.
 * - READ: an open the daemon serves (the object not complete in the cache) has the
 *   blocks of its cache file that are stored and verified published (fs/file.c), with
 *   the cache file as their backing file: the inode keeps its own reference and pin of
 *   the entry (never evicted meanwhile), and watches it (cache_entry_watch()), so that
 *   the fs layer deletes the block entries before the cache punches the hole of a
 *   block that failed its CRC.  A held version that is no longer the node's (another
 *   ETag or size, deleted, a staging file) is -ESTALE to blocks_ready(): the caller
 *   makes every block stale (a new data version) and unpublishes them, closes the
 *   backing id, and only then is the entry unpinned.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cache.h"
#include "fs.h"
#include "backend_s3_priv.h"

int s3_fastpath_verdict(double seen, double list_ttl, double now, uint64_t *until_ns)
{
	double until;

	*until_ns = 0;
	if (seen <= 0 || list_ttl <= 0)
		return -EAGAIN; /* nothing vouched for it: every request asks */
	until = seen + list_ttl;
	if (until <= now)
		return -EAGAIN; /* revalidated by the next request, then published */
	*until_ns = (uint64_t)(until * 1e9);
	return 0;
}

int s3_fastpath_held_stale(int exists, const char *etag, off_t size, int staged,
			   const char *held_etag, off_t held_size)
{
	return !exists || staged || strcmp(etag, held_etag) || size != held_size;
}

/* Whether @n moved on from the version @h holds (ns_lock held) */
static int hold_stale_locked(const struct s3node *n, const struct s3_fp_hold *h, int staged)
{
	return s3_fastpath_held_stale(n->exists, n->etag, n->size, staged, h->etag, h->size);
}

/*
 * The inode's record of kind @k (S3_HOLD_*): per inode, not per node, since the old
 * version's inode keeps its publications while the new one's are made (s3_node_stale()).
 */
static struct s3_fp_hold **hold_slot(struct inode *ino, int k)
{
	return (struct s3_fp_hold **)&ino->fp.be_hold[k];
}

/*
 * Record @e, the cache entry of the version @o opened, in @ino's record of kind @k:
 * -ESTALE if it holds one already or @n moved on from that version while the open was
 * made.
 */
static int hold_record(struct s3be *sb, struct s3node *n, struct inode *ino, int k,
		       struct cache_entry *e, const struct s3open *o)
{
	int staged = __atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) >= 0, err = 0;
	struct s3_fp_hold **slot = hold_slot(ino, k), *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	pthread_mutex_lock(&sb->ns_lock);
	if (*slot || s3_fastpath_held_stale(n->exists, n->etag, n->size, staged, o->etag, o->size)) {
		err = -ESTALE;
	} else {
		h->e = e;
		snprintf(h->etag, sizeof(h->etag), "%s", o->etag);
		h->size = o->size;
		*slot = h;
		h = NULL;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	free(h);
	return err;
}

/* Take the entry out of @ino's record of kind @k (NULL if none); the caller drops it */
static struct cache_entry *hold_take(struct s3be *sb, struct inode *ino, int k)
{
	struct s3_fp_hold **slot = hold_slot(ino, k), *h;
	struct cache_entry *e;

	pthread_mutex_lock(&sb->ns_lock);
	h = *slot;
	*slot = NULL;
	pthread_mutex_unlock(&sb->ns_lock);
	e = h ? h->e : NULL;
	free(h);
	return e;
}

int s3_fastpath_check(struct backend *be, struct inode *ino, uint64_t *until_ns, int *stale)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	int staged = __atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) >= 0;
	double now = s3_now_mono();
	struct s3_fp_hold *h;
	int err;

	pthread_mutex_lock(&sb->ns_lock);
	/*
	 * The root always exists and its attributes are the mount's (no marker):
	 * nothing to revalidate but at the pace of everything else.
	 */
	err = s3_fastpath_verdict(n == sb->root ? now : n->seen, sb->list_ttl, now, until_ns);
	/* a staging file holds bytes the bucket has not got: neither has any cache file */
	if (!err && staged)
		err = -EBUSY;
	h = *hold_slot(ino, S3_HOLD_OPEN);
	*stale = h && hold_stale_locked(n, h, staged);
	/*
	 * The scrub (or a read) may have dropped a corrupt block of the held
	 * file since: the kernel would read a hole there.  Complete entries are
	 * known good, so this costs a stat of the data file (the cache's lock is
	 * a leaf: taken under ns_lock).
	 */
	if (h && !*stale && cache_is_complete(sb->cache, h->e) != 1)
		*stale = 1;
	pthread_mutex_unlock(&sb->ns_lock);
	return err;
}

/* Is @fd the data file of cache entry @e? */
static int same_data_file(struct s3be *sb, struct cache_entry *e, int fd)
{
	struct stat a, b;
	int dfd, same;

	dfd = cache_open_data(sb->cache, e, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	same = !fstat(fd, &a) && !fstat(dfd, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(dfd);
	return same;
}

int s3_fastpath_hold(struct backend *be, struct inode *ino, void *priv, int backing_fd)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	struct s3open *o = priv;
	struct cache_entry *e;
	int err;

	/* only a reader's open of a complete, pinned cache file backs passthrough (s3_open()) */
	if (!o || o->writer || !o->pinned || !o->e || o->n != n)
		return -EINVAL;
	/* the inode's backing file may be an older version's, registered by an open still open */
	if (backing_fd < 0 || !same_data_file(sb, o->e, backing_fd))
		return -ESTALE;
	err = cache_lookup(sb->cache, o->ckey, (uint64_t)o->size, 0, &e);
	if (err)
		return err;
	cache_pin(sb->cache, e);
	err = hold_record(sb, n, ino, S3_HOLD_OPEN, e, o);
	if (err) {
		cache_unpin(sb->cache, e);
		cache_entry_put(sb->cache, e);
		return err; /* counted by the caller (fastpath.opens_refused) */
	}
	return 0;
}

void s3_fastpath_unhold(struct backend *be, struct inode *ino)
{
	struct s3be *sb = SB(be);
	struct cache_entry *e = hold_take(sb, ino, S3_HOLD_OPEN);

	if (!e)
		return;
	/* an entry marked for removal meanwhile (another ETag) goes now */
	cache_unpin(sb->cache, e);
	cache_entry_put(sb->cache, e);
}

int s3_fastpath_blocks_hold(struct backend *be, struct inode *ino, void *priv,
			    void (*watch)(void *arg, int stored, uint64_t off, uint64_t len),
			    void *arg)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	struct s3open *o = priv;
	struct cache_entry *e;
	struct stat st;
	int err, fd;

	/* a reader of the cache, its version not complete there (else it passes through) */
	if (!o || o->writer || o->pinned || !o->e || o->n != n || o->size <= 0)
		return -EINVAL;
	err = cache_lookup(sb->cache, o->ckey, (uint64_t)o->size, 0, &e);
	if (err)
		return err;
	cache_pin(sb->cache, e);
	err = cache_entry_watch(sb->cache, e, watch, arg);
	if (err)
		goto out_unpin; /* another node holds the same version */
	fd = cache_open_data(sb->cache, e, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto out_unwatch;
	}
	/* the kernel ends a READ at the backing file's size: it must be the object's */
	if (fstat(fd, &st) || st.st_size != o->size) {
		err = -ESTALE;
		goto out_close;
	}
	err = hold_record(sb, n, ino, S3_HOLD_BLOCKS, e, o);
	if (err)
		goto out_close;
	return fd;

out_close:
	close(fd);
out_unwatch:
	cache_entry_watch(sb->cache, e, NULL, NULL);
out_unpin:
	cache_unpin(sb->cache, e);
	cache_entry_put(sb->cache, e);
	return err;
}

int s3_fastpath_blocks_ready(struct backend *be, struct inode *ino, uint64_t off, uint64_t len)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	int staged = __atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) >= 0;
	struct s3_fp_hold *h;
	struct cache_entry *e;
	int stale;

	pthread_mutex_lock(&sb->ns_lock);
	h = *hold_slot(ino, S3_HOLD_BLOCKS);
	e = h ? h->e : NULL;
	stale = !h || hold_stale_locked(n, h, staged);
	pthread_mutex_unlock(&sb->ns_lock);
	if (stale)
		return -ESTALE;
	if (!len)
		return 0;
	/* held and pinned until blocks_unhold(), which only the caller calls */
	return cache_range_verified(sb->cache, e, off, len);
}

void s3_fastpath_blocks_unhold(struct backend *be, struct inode *ino)
{
	struct s3be *sb = SB(be);
	struct cache_entry *e = hold_take(sb, ino, S3_HOLD_BLOCKS);

	if (!e)
		return;
	/* no drop call is in progress once this returns */
	cache_entry_watch(sb->cache, e, NULL, NULL);
	cache_unpin(sb->cache, e);
	cache_entry_put(sb->cache, e);
}

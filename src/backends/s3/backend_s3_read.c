// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_read.c - reads of the S3 backend: ranged GETs of 8 MiB parts into the cache
 * store (readahead by a pool of fetch threads, a window that doubles while the reader is
 * sequential), parts just fetched kept in memory to answer READs (lent to the reply
 * without a copy when one part holds a READ), CRC-checked serving from the cache file,
 * and the fallback to S3 when the cache cannot hold the bytes.  Opens, staging and uploads
 * are in backend_s3_io.c; the design is at the top of backend_s3.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cache.h"
#include "s3_client.h"
#include "stats_counters.h"
#include "backend_s3_priv.h"

/* Reads are pinned to the version opened, when the store named it. */
static const char *etag_or_null(const struct s3open *o)
{
	return o->etag[0] ? o->etag : NULL;
}

/* ----------------------------------------------------------- part buffers */

/*
 * Parts just fetched stay in memory, up to S3_POOL_BYTES (oldest dropped first), so the
 * READs that asked for them are answered from there instead of being read back from the
 * cache file that the same bytes were just written to.  A buffer belongs to one object
 * version (its cache key: the same key always means the same bytes) and is dropped once
 * as many bytes as it holds have been served, i.e. when a sequential reader is past it.
 */
void s3_pool_init(struct s3be *sb)
{
	pthread_mutex_init(&sb->pool_lock, NULL);
}

/*
 * A buffer for @len bytes, aligned for O_DIRECT.  Part-sized ones are recycled: a fresh
 * 8 MiB allocation costs 2,048 page faults and as many zeroed pages, per part.
 */
static char *pool_buf_get(struct s3be *sb, size_t len)
{
	char *p = NULL;

	if (len == S3_PART_SIZE) {
		pthread_mutex_lock(&sb->pool_lock);
		if (sb->nspares)
			p = sb->spares[--sb->nspares];
		pthread_mutex_unlock(&sb->pool_lock);
		if (p)
			return p;
	}
	if (posix_memalign((void **)&p, CACHE_DIRECT_ALIGN, len))
		return NULL;
	return p;
}

/* Keep a free part buffer while buffered and spare parts stay within S3_POOL_BYTES. */
static void pool_buf_put_locked(struct s3be *sb, char *p, size_t len)
{
	if (len == S3_PART_SIZE && sb->nspares < (int)S3_POOL_SPARES && p &&
	    sb->pool_bytes + (size_t)(sb->nspares + 1) * S3_PART_SIZE <= S3_POOL_BYTES)
		sb->spares[sb->nspares++] = p;
	else
		free(p);
}

static void pool_buf_put(struct s3be *sb, char *p, size_t len)
{
	pthread_mutex_lock(&sb->pool_lock);
	pool_buf_put_locked(sb, p, len);
	pthread_mutex_unlock(&sb->pool_lock);
}

static void pool_free_locked(struct s3be *sb, struct part_buf *pb)
{
	pool_buf_put_locked(sb, pb->data, pb->len);
	free(pb);
}

/* Unlink @pb; freed now, or by the last reader copying from it. */
static void pool_drop_locked(struct s3be *sb, struct part_buf *pb)
{
	if (pb->prev)
		pb->prev->next = pb->next;
	else
		sb->pool_head = pb->next;
	if (pb->next)
		pb->next->prev = pb->prev;
	else
		sb->pool_tail = pb->prev;
	sb->pool_bytes -= pb->len;
	if (pb->refs)
		pb->dropped = 1;
	else
		pool_free_locked(sb, pb);
}

void s3_pool_destroy(struct s3be *sb)
{
	pthread_mutex_lock(&sb->pool_lock);
	while (sb->pool_head)
		pool_drop_locked(sb, sb->pool_head);
	while (sb->nspares)
		free(sb->spares[--sb->nspares]);
	pthread_mutex_unlock(&sb->pool_lock);
	pthread_mutex_destroy(&sb->pool_lock);
}

/* Keep @data (@len bytes of object version @ckey at @off); the pool owns it from now on. */
static void pool_add(struct s3be *sb, const char *ckey, off_t off, char *data, size_t len)
{
	struct part_buf *pb = calloc(1, sizeof(*pb));

	if (!pb || len > S3_POOL_BYTES) {
		free(pb);
		pool_buf_put(sb, data, len);
		return;
	}
	memcpy(pb->ckey, ckey, sizeof(pb->ckey));
	pb->off = off;
	pb->len = len;
	pb->data = data;
	pthread_mutex_lock(&sb->pool_lock);
	while (sb->pool_head && sb->pool_bytes + len > S3_POOL_BYTES)
		pool_drop_locked(sb, sb->pool_head);
	pb->prev = sb->pool_tail;
	if (sb->pool_tail)
		sb->pool_tail->next = pb;
	else
		sb->pool_head = pb;
	sb->pool_tail = pb;
	sb->pool_bytes += len;
	pthread_mutex_unlock(&sb->pool_lock);
}

/* 1 when one buffered part of object version @ckey holds all of [@off, @off + @len). */
static int pool_covers(struct s3be *sb, const char *ckey, off_t off, off_t len)
{
	struct part_buf *pb;
	int found = 0;

	pthread_mutex_lock(&sb->pool_lock);
	for (pb = sb->pool_head; pb && !found; pb = pb->next)
		found = off >= pb->off && off + len <= pb->off + (off_t)pb->len &&
			!strcmp(pb->ckey, ckey);
	pthread_mutex_unlock(&sb->pool_lock);
	return found;
}

/* Take a reader's reference on the buffered part of @o holding @off, or NULL. */
static struct part_buf *pool_get(struct s3be *sb, struct s3open *o, off_t off)
{
	struct part_buf *pb;

	pthread_mutex_lock(&sb->pool_lock);
	for (pb = sb->pool_head; pb; pb = pb->next)
		if (off >= pb->off && off < pb->off + (off_t)pb->len && !strcmp(pb->ckey, o->ckey))
			break;
	if (pb)
		pb->refs++;
	pthread_mutex_unlock(&sb->pool_lock);
	return pb;
}

/* Drop the reference of a reader that was handed @n bytes of @pb. */
static void pool_put(struct s3be *sb, struct part_buf *pb, size_t n)
{
	pthread_mutex_lock(&sb->pool_lock);
	pb->refs--;
	pb->served += n;
	if (pb->dropped) {
		if (!pb->refs)
			pool_free_locked(sb, pb);
	} else if (pb->served >= pb->len) {
		pool_drop_locked(sb, pb);
	}
	pthread_mutex_unlock(&sb->pool_lock);
}

/* Copy what a buffered part of @o holds at @off into @buf: bytes copied, 0 when none. */
static ssize_t pool_copy(struct s3be *sb, struct s3open *o, char *buf, size_t size, off_t off)
{
	struct part_buf *pb = pool_get(sb, o, off);
	size_t n;

	if (!pb)
		return 0;
	n = (size_t)(pb->off + (off_t)pb->len - off);
	if (n > size)
		n = size;
	memcpy(buf, pb->data + (off - pb->off), n);
	pool_put(sb, pb, n);
	stats_add(&sb->stats->s3_pool_hits, 1);
	return (ssize_t)n;
}

static void pool_ref_put(struct backend_read_ref *ref)
{
	pool_put(ref->owner, ref->item, 0); /* its bytes were counted when lent */
}

/*
 * Lend the caller the buffered bytes [@off, @off + @size) of @o when one part holds them
 * all: the reply is written from the part itself (no copy).  Returns @size or 0.
 */
static ssize_t pool_lend(struct s3be *sb, struct s3open *o, size_t size, off_t off,
			 struct backend_read_ref *ref)
{
	struct part_buf *pb = pool_get(sb, o, off);

	if (!pb)
		return 0;
	if (off + (off_t)size > pb->off + (off_t)pb->len) {
		pool_put(sb, pb, 0);
		return 0;
	}
	/* counted as served now: the part may go once every byte was lent or copied */
	pthread_mutex_lock(&sb->pool_lock);
	pb->served += size;
	pthread_mutex_unlock(&sb->pool_lock);
	ref->data = pb->data + (off - pb->off);
	ref->put = pool_ref_put;
	ref->owner = sb;
	ref->item = pb;
	stats_add(&sb->stats->s3_pool_hits, 1);
	return (ssize_t)size;
}

/* ------------------------------------------------------------ fetch parts */

static uint64_t blocks_per_part(struct s3be *sb)
{
	return S3_PART_SIZE / sb->block_size;
}

/* 1 when blocks [first, last] of @o are all present. */
static int blocks_present(struct s3be *sb, struct s3open *o, uint64_t first, uint64_t last)
{
	uint64_t b;

	for (b = first; b <= last; b++)
		if (!cache_block_present(sb->cache, o->e, b))
			return 0;
	return 1;
}

static void part_blocks(struct s3be *sb, struct s3open *o, uint64_t part, uint64_t *first,
			uint64_t *last)
{
	uint64_t nb = cache_entry_nblocks(o->e);

	*first = part * blocks_per_part(sb);
	*last = *first + blocks_per_part(sb) - 1;
	if (*last >= nb)
		*last = nb - 1;
}

/*
 * Fetch blocks @first..@last of @o into the cache with one ranged GET, unless they are
 * there, or buffered in memory, or another thread is fetching some of them (then wait for
 * that and look again).  Returns 0, -errno from S3 (-EIO once the retries ran out), or
 * -ENOSPC when the bytes could not be stored (the cache is full or its disk failed).
 * Bytes fetched are kept in the part buffers even then, so the READs of a part the cache
 * cannot hold are answered from memory: one GET per part, not one per READ.
 *
 * When the fetch we waited for failed on S3's side, we fail too rather than ask again:
 * a READ against a server that stopped answering ends within one request's bound
 * (s3_timeout), not after the wait plus a request of its own.
 */
static int fetch_blocks(struct s3be *sb, struct s3open *o, uint64_t first, uint64_t last,
			int force)
{
	struct inflight me, **pp;
	uint64_t b, failures;
	off_t off, len;
	int err = 0, waited = 0;
	ssize_t got;
	char *buf;

	pthread_mutex_lock(&sb->fetch_lock);
	failures = o->n->fetch_failures;
	for (;;) {
		struct inflight *f;

		for (f = sb->inflight; f; f = f->next)
			if (f->e == o->e && f->first <= last && first <= f->last)
				break;
		if (!f)
			break;
		pthread_cond_wait(&sb->fetch_cond, &sb->fetch_lock);
		force = 0; /* someone just fetched it */
		waited = 1;
	}
	if (!force && blocks_present(sb, o, first, last)) {
		pthread_mutex_unlock(&sb->fetch_lock);
		return 0;
	}
	off = (off_t)(first * sb->block_size);
	len = (off_t)((last + 1) * sb->block_size) < o->size ? (off_t)((last + 1) * sb->block_size) - off :
								o->size - off;
	if (!force && pool_covers(sb, o->ckey, off, len)) {
		pthread_mutex_unlock(&sb->fetch_lock);
		return -ENOSPC; /* in memory only: served from there */
	}
	if (waited && o->n->fetch_failures != failures) {
		pthread_mutex_unlock(&sb->fetch_lock);
		return -EIO;
	}
	me.e = o->e;
	me.first = first;
	me.last = last;
	me.next = sb->inflight;
	sb->inflight = &me;
	pthread_mutex_unlock(&sb->fetch_lock);

	buf = pool_buf_get(sb, (size_t)len);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	stats_add(&sb->stats->s3_get, 1);
	got = s3_get_range(sb->c, sb->bucket, o->n->key, off, (size_t)len, buf, etag_or_null(o));
	if (got < 0)
		err = (int)got;
	else if (got != len)
		err = -EIO;
	else
		stats_add(&sb->stats->s3_bytes_fetched, (uint64_t)got);

	if (err) {
		pool_buf_put(sb, buf, (size_t)len);
		goto out;
	}
	for (b = first; !err && b <= last; b++) {
		size_t bl = cache_entry_block_len(sb->cache, o->e, b);

		err = cache_write_block(sb->cache, o->e, b, buf + (b - first) * sb->block_size, bl);
		if (err)
			err = -ENOSPC; /* not stored, whatever the reason: served from memory */
	}
	if (err)
		stats_add(&sb->stats->cache_fallbacks, 1);
	/* the prefetcher's bytes are for a later open, of the cache file: not kept in memory */
	if (o->prefetch)
		pool_buf_put(sb, buf, (size_t)len);
	else
		pool_add(sb, o->ckey, off, buf, (size_t)len);
out:
	pthread_mutex_lock(&sb->fetch_lock);
	if (err && err != -ENOSPC && err != -ENOMEM)
		o->n->fetch_failures++;
	for (pp = &sb->inflight; *pp; pp = &(*pp)->next)
		if (*pp == &me) {
			*pp = me.next;
			break;
		}
	pthread_cond_broadcast(&sb->fetch_cond);
	pthread_mutex_unlock(&sb->fetch_lock);
	return err;
}

static int fetch_part(struct s3be *sb, struct s3open *o, uint64_t part, int force)
{
	uint64_t first, last;

	part_blocks(sb, o, part, &first, &last);
	return fetch_blocks(sb, o, first, last, force);
}

/*
 * Fetch every part of @o not in the cache yet, one after the other, as reads do (the
 * prefetcher's path into the cache: same GETs pinned to the ETag, same CRC blocks, and
 * the same in-flight list, so an open reading the object meanwhile waits for the part
 * being fetched instead of asking for it again).  Stops early once *@stop is set.
 * Returns 0 or the first error of fetch_blocks().
 */
int s3_fetch_object(struct s3be *sb, struct s3open *o, const int *stop)
{
	uint64_t p, nparts = ((uint64_t)o->size + S3_PART_SIZE - 1) / S3_PART_SIZE;
	int err = 0;

	for (p = 0; !err && p < nparts; p++) {
		if (__atomic_load_n(stop, __ATOMIC_RELAXED))
			return -EINTR;
		err = fetch_part(sb, o, p, 0);
	}
	return err;
}

static void *fetch_worker(void *arg)
{
	struct s3be *sb = arg;

	pthread_mutex_lock(&sb->fetch_lock);
	for (;;) {
		struct fetch_job *j;

		while (!sb->jobs && !sb->stop)
			pthread_cond_wait(&sb->job_cond, &sb->fetch_lock);
		if (sb->stop)
			break;
		j = sb->jobs;
		sb->jobs = j->next;
		if (!sb->jobs)
			sb->jobs_tail = NULL;
		pthread_mutex_unlock(&sb->fetch_lock);
		fetch_part(sb, j->o, j->part, 0);
		s3_open_put(sb, j->o);
		free(j);
		pthread_mutex_lock(&sb->fetch_lock);
	}
	pthread_mutex_unlock(&sb->fetch_lock);
	return NULL;
}

/* Queue a readahead of @part; the pool starts at the first use (after the daemon forked). */
static void fetch_queue(struct s3be *sb, struct s3open *o, uint64_t part)
{
	struct fetch_job *j = calloc(1, sizeof(*j));

	if (!j)
		return;
	j->o = o;
	j->part = part;
	pthread_mutex_lock(&sb->fetch_lock);
	while (sb->nthreads < S3_FETCH_THREADS && !sb->stop) {
		if (pthread_create(&sb->threads[sb->nthreads], NULL, fetch_worker, sb))
			break;
		sb->nthreads++;
	}
	o->refs++;
	if (sb->jobs_tail)
		sb->jobs_tail->next = j;
	else
		sb->jobs = j;
	sb->jobs_tail = j;
	pthread_cond_signal(&sb->job_cond);
	pthread_mutex_unlock(&sb->fetch_lock);
}

/* Read straight from S3 (the cache is unusable for this range). */
static ssize_t read_direct(struct s3be *sb, struct s3open *o, char *buf, size_t size, off_t off)
{
	stats_add(&sb->stats->cache_fallbacks, 1);
	stats_add(&sb->stats->s3_get, 1);
	return s3_get_range(sb->c, sb->bucket, o->n->key, off, size, buf, etag_or_null(o));
}

/*
 * Copy what the cache file holds at @off (up to the end of its block) into @buf, every
 * block checked against its CRC32C; a bad or missing block is fetched again.  Returns the
 * bytes copied, 0 at the end of the object, -ENOSPC when the cache cannot serve it
 * (the caller reads from S3), or another -errno from S3.
 */
static ssize_t serve_block(struct s3be *sb, struct s3open *o, char *buf, size_t size, off_t off)
{
	uint64_t bs = sb->block_size, b = (uint64_t)off / bs, boff = (uint64_t)off - b * bs;
	size_t n;
	int tries, err;

	pthread_mutex_lock(&o->lock);
	for (tries = 0; o->vblock != b; tries++) {
		ssize_t r = cache_read_block(sb->cache, o->e, b, o->vbuf, bs);

		if (r >= 0) {
			o->vblock = b;
			o->vlen = (size_t)r;
			stats_add(&sb->stats->cache_block_hits, 1);
			break;
		}
		o->vblock = UINT64_MAX;
		if ((r != -EBADMSG && r != -ENODATA) || tries >= 3) {
			pthread_mutex_unlock(&o->lock);
			return -ENOSPC; /* the cache cannot serve it: the caller asks S3 */
		}
		if (r == -EBADMSG)
			stats_add(&sb->stats->crc_refetches, 1);
		pthread_mutex_unlock(&o->lock);
		err = fetch_blocks(sb, o, b, b, 1);
		if (err)
			return err;
		pthread_mutex_lock(&o->lock);
	}
	if (boff >= o->vlen) {
		pthread_mutex_unlock(&o->lock);
		return 0;
	}
	n = o->vlen - boff < size ? o->vlen - boff : size;
	memcpy(buf, o->vbuf + boff, n);
	pthread_mutex_unlock(&o->lock);
	return (ssize_t)n;
}

ssize_t s3_read_file(struct backend *be, struct inode *ino, void *priv, int fd, char *buf,
			    size_t size, off_t off, struct backend_read_ref *ref)
{
	struct s3be *sb = SB(be);
	struct s3open *o = priv;
	uint64_t bs = sb->block_size, ppart = S3_PART_SIZE, first, last, p;
	size_t done = 0;
	int err, seq;

	if (!o || o->writer) {
		ssize_t r = pread(fd, buf, size, off);

		return r < 0 ? -errno : r;
	}
	if (off >= o->size || !size)
		return 0;
	if ((off_t)size > o->size - off)
		size = (size_t)(o->size - off);
	if (!o->e)
		return read_direct(sb, o, buf, size, off);

	/* readahead: a window that doubles while the reader stays sequential */
	pthread_mutex_lock(&o->lock);
	/*
	 * Sequential: near where the last read ended.  The kernel's own readahead sends
	 * several READs at once, so they may arrive slightly out of order.
	 */
	if (off + (off_t)S3_SEQ_SLACK >= o->next_off && off <= o->next_off + (off_t)S3_SEQ_SLACK) {
		o->window = o->window ? o->window * 2 : ppart;
		if (o->window > S3_RA_CAP)
			o->window = S3_RA_CAP;
	} else {
		o->window = 0;
		o->ra_next = 0;
	}
	if (off + (off_t)size > o->next_off || !o->window)
		o->next_off = off + (off_t)size;
	seq = o->window != 0;
	pthread_mutex_unlock(&o->lock);

	/*
	 * What this read touches, fetched now (waiting for readahead in flight): whole parts
	 * for a sequential reader, only the blocks touched for a random one.
	 */
	/*
	 * -ENOSPC: the cache could not store the bytes, which are in the part buffers then;
	 * serving below takes them from there (and S3 for what is not).  Errors from S3 end
	 * the READ: asking again at once would only double the wait on a dead server.
	 */
	first = (uint64_t)off / ppart;
	last = ((uint64_t)off + size - 1) / ppart;
	for (p = first; seq && p <= last; p++) {
		err = fetch_part(sb, o, p, 0);
		if (err && err != -ENOSPC)
			return err;
	}
	if (!seq) {
		err = fetch_blocks(sb, o, (uint64_t)off / bs, ((uint64_t)off + size - 1) / bs, 0);
		if (err && err != -ENOSPC)
			return err;
	}

	pthread_mutex_lock(&o->lock);
	if (o->window) {
		uint64_t end = ((uint64_t)off + size + o->window - 1) / ppart, nparts;

		nparts = ((uint64_t)o->size + ppart - 1) / ppart;
		if (end >= nparts)
			end = nparts - 1;
		p = o->ra_next > last + 1 ? o->ra_next : last + 1;
		for (; p <= end; p++) {
			uint64_t f, l;

			part_blocks(sb, o, p, &f, &l);
			if (!blocks_present(sb, o, f, l))
				fetch_queue(sb, o, p);
		}
		o->ra_next = p;
	}

	pthread_mutex_unlock(&o->lock);

	/* serve: parts just fetched from memory, the rest from the cache file */
	if (ref && pool_lend(sb, o, size, off, ref)) {
		stats_add(&sb->stats->bytes_read_cache, size);
		stats_add(&sb->stats->reads_cache, 1);
		return (ssize_t)size;
	}
	while (done < size) {
		off_t cur = off + (off_t)done;
		ssize_t n = pool_copy(sb, o, buf + done, size - done, cur);

		if (!n)
			n = serve_block(sb, o, buf + done, size - done, cur);
		if (n == -ENOSPC)
			return read_direct(sb, o, buf, size, off);
		if (n < 0)
			return n;
		if (!n)
			break;
		done += (size_t)n;
	}
	stats_add(&sb->stats->bytes_read_cache, done);
	stats_add(&sb->stats->reads_cache, 1);
	return (ssize_t)done;
}

/* -------------------------------------------------------------- open state */

/*
 * A reader opened @n: what the prefetcher stored of it is no longer held against its
 * budget (backend_s3_prefetch.c), and a fetch of it under way will not be either.
 */
void s3_prefetch_opened(struct s3be *sb, struct s3node *n)
{
	if (!sb->pf_on)
		return;
	pthread_mutex_lock(&sb->pf_lock);
	if (n->pf_bytes) {
		sb->pf_pending -= n->pf_bytes;
		n->pf_bytes = 0;
		pthread_cond_broadcast(&sb->pf_cond);
	}
	if (n->pf_state == S3_PF_UNREAD)
		n->pf_state = S3_PF_NONE;
	else if (n->pf_state == S3_PF_QUEUED || n->pf_state == S3_PF_FETCHING)
		n->pf_state = S3_PF_OPENED; /* the reader fetches what it needs */
	pthread_mutex_unlock(&sb->pf_lock);
}

void s3_open_put(struct s3be *sb, struct s3open *o)
{
	unsigned int r;

	pthread_mutex_lock(&sb->fetch_lock);
	r = --o->refs;
	pthread_mutex_unlock(&sb->fetch_lock);
	if (r)
		return;
	if (o->e) {
		if (o->pinned)
			cache_unpin(sb->cache, o->e);
		cache_entry_put(sb->cache, o->e);
	}
	s3_node_put(sb, o->n);
	pthread_mutex_destroy(&o->lock);
	free(o->vbuf);
	free(o);
}

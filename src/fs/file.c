// SPDX-License-Identifier: GPL-2.0
#include "file.h"

#define FUSE_USE_VERSION 317
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "fastpath.h"
#include "log.h"

/* Linux 6.9's <linux/fuse.h>; bookworm's (6.1) lacks it */
#ifndef FUSE_DEV_IOC_BACKING_CLOSE
#define FUSE_DEV_IOC_BACKING_CLOSE _IOW(FUSE_DEV_IOC_MAGIC, 2, uint32_t)
#endif

/*
 * Unregister passthrough backing id @id (if any) and close its descriptor *@fd (if any;
 * set to -1): what the kernel and the daemon hold of a backing file.
 */
static void backing_close(struct fs *fs, int id, int *fd)
{
	if (id > 0 && fs->se && ioctl(fuse_session_fd(fs->se), FUSE_DEV_IOC_BACKING_CLOSE, &id))
		pr_debug("cannot unregister backing file %d: %s", id, strerror(errno));
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/*
 * The budget of inodes whose OPENs the kernel answers (fs->fp_opens, at most
 * io_fd_budget: each keeps a descriptor until it is freed).  opens_take(): 0, or -1
 * (over budget, counted as refused); opens_refuse(): give back what opens_take() took,
 * counted as refused; opens_put(): an answer unpublished.
 */
static void opens_refuse(struct fs *fs)
{
	__atomic_sub_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED);
	fastpath_count_open_refused(fs->ks);
}

static int opens_take(struct fs *fs)
{
	if (__atomic_add_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED) <= fs->io_fd_budget)
		return 0;
	opens_refuse(fs);
	return -1;
}

static void opens_put(struct fs *fs)
{
	__atomic_sub_fetch(&fs->fp_opens, 1, __ATOMIC_RELAXED);
	fastpath_count_open(fs->ks, -1);
}

/* Turn passthrough off for inodes that have no backing file yet; say why once. */
static void passthrough_disable(struct fs *fs, const char *why, int err)
{
	pthread_mutex_lock(&fs->pt_lock);
	if (fs->passthrough) {
		fs->passthrough = 0;
		snprintf(fs->passthrough_why, sizeof(fs->passthrough_why), "%s: %s", why,
			 strerror(err));
		pr_warn("passthrough off for this mount: %s", fs->passthrough_why);
	}
	pthread_mutex_unlock(&fs->pt_lock);
}

/* Caller holds ino->lock. */
static int backing_attach_locked(struct fs *fs, fuse_req_t req, struct inode *ino, int flags,
				 void *priv, struct fuse_file_info *fi)
{
	int fd, id;

	if (ino->backing_id) {
		/* A read-only backing file cannot carry this open's writes. */
		if (wants_write(flags) && (fcntl(ino->backing_fd, F_GETFL) & O_ACCMODE) == O_RDONLY)
			return -EBUSY;
		fi->backing_id = ino->backing_id;
		return 0;
	}
	/* an inode already open without passthrough stays so (kcached: maybe in the kernel) */
	if (!fs->passthrough || !S_ISREG(ino->type) || ino->nopen || ino->fp.kcached)
		return 0;
	fd = fs->be.ops->open(&fs->be, ino, O_RDWR, priv);
	if (fd < 0 && (fd == -EROFS || fd == -EACCES || fd == -ETXTBSY || fd == -EPERM)) {
		if (wants_write(flags))
			return fd;
		fd = fs->be.ops->open(&fs->be, ino, O_RDONLY, priv);
	}
	if (fd < 0)
		return fd;
	id = fuse_passthrough_open(req, fd);
	if (id <= 0) {
		int err = errno;

		close(fd);
		passthrough_disable(fs, "the kernel refused a backing file", err ? err : EINVAL);
		return 0;
	}
	ino->backing_fd = fd;
	ino->backing_id = id;
	fi->backing_id = id;
	return 0;
}

/*
 * The local file's blocks were published for older bytes (the data version moved: a
 * write, a truncate, a change behind the mount): the same backing file (the source
 * file) holds the new ones; publish them again, for the size they have now.  Caller
 * holds ino->lock.
 */
static void local_blocks_refresh_locked(struct fs *fs, struct inode *ino)
{
	uint64_t dv = file_data_version(fs, ino), n;
	struct stat st;

	if (!ino->fp.backing_id || ino->fp.blk || ino->fp.blocks_dv == dv ||
	    fstat(ino->fp.backing_fd, &st))
		return;
	n = fastpath_put_blocks(fs->ks, ino->nodeid, ino->fp.backing_id, (uint64_t)st.st_size, dv);
	if (n < ino->fp.nblocks) /* fewer now, or none: the rest goes */
		fastpath_drop_blocks_from(fs->ks, ino->nodeid, n, ino->fp.nblocks);
	ino->fp.nblocks = n;
	ino->fp.blocks_dv = dv;
}

/*
 * An open the kernel will not pass through, on a patched kernel: register
 * the file as a backing file anyway (without FOPEN_PASSTHROUGH) and publish
 * its blocks, so the fast path answers READ in the kernel.  Caller holds
 * ino->lock.  Failure only means READs reach the daemon.
 */
static void fastpath_blocks_locked(struct fs *fs, fuse_req_t req, struct inode *ino, void *priv)
{
	uint64_t dv;
	struct stat st;
	int fd, id;

	/* the kernel ends such READs at the backing file's size: it must be the file's own */
	if (!fs->ks || !S_ISREG(ino->type) || fs->cfg->backend != BACKEND_LOCAL)
		return;
	dv = file_data_version(fs, ino);
	if (ino->fp.backing_id) {
		local_blocks_refresh_locked(fs, ino);
		return;
	}
	fd = fs->be.ops->open(&fs->be, ino, O_RDONLY, priv);
	if (fd < 0)
		return;
	if (fstat(fd, &st)) {
		close(fd);
		return;
	}
	id = fuse_passthrough_open(req, fd);
	if (id <= 0) {
		close(fd);
		return;
	}
	ino->fp.backing_fd = fd;
	ino->fp.backing_id = id;
	ino->fp.nblocks = fastpath_put_blocks(fs->ks, ino->nodeid, id, (uint64_t)st.st_size, dv);
	ino->fp.blocks_dv = dv;
}

/* The local file's block entries, then its backing file (not the backend's held file's). */
static void local_blocks_release_locked(struct fs *fs, struct inode *ino)
{
	if (!ino->fp.backing_id || ino->fp.blk)
		return;
	fastpath_drop_blocks(fs->ks, ino->nodeid, ino->fp.nblocks);
	backing_close(fs, ino->fp.backing_id, &ino->fp.backing_fd);
	ino->fp.backing_id = 0;
	ino->fp.nblocks = 0;
}

/*
 * Opens the backend serves itself (backend.h, fastpath_blocks_hold: S3, an object
 * partly in the cache): the file that holds the local bytes of the open's version (S3:
 * its cache file, at the object's size) is registered as a backing file, and every
 * fast-path block of it that the backend says is stored and verified gets a block
 * entry with the node's data version, at the open and after each READ the daemon
 * serves; the others upcall.  Unpublishing is always in this order: the map entries
 * (or a new data version, which outdates them all at once), then BACKING_CLOSE, then
 * the backend's unhold (S3: unpin).  The backend tells blocks_watch() before any
 * byte of the held file stops being valid, and after bytes were stored in it; it may
 * run on any thread under the backend's locks, so it takes no lock.  A drop marks
 * itself (seq) and deletes the entries; a publication that checked a block before the
 * drop sees the mark after its put and takes its entry back.  A store puts the entries
 * of the blocks it completed (so a block the backend's readahead stored is answered in
 * the kernel without a READ reaching the daemon first), with the data version of the
 * published bits; once unpublishing began (dead) it puts none, and one that put its
 * entry before seeing the mark takes it back.
 */
struct fp_blocks {
	struct fs *fs;
	uint64_t nodeid;
	uint64_t n;         /* fast-path blocks of the file (atomic: set once) */
	uint64_t size;
	uint64_t dv;        /* the data version of the published bits (inode->lock; atomic) */
	int backing_id;     /* of the held file, 0 until registered (atomic) */
	int dead;           /* being unpublished (atomic) */
	unsigned int seq;   /* drops told (atomic) */
	uint8_t bits[FASTPATH_MAX_FILE_BLOCKS / 8]; /* published (atomic bit operations) */
};

#define FP_BLOCK_SIZE (1ULL << FASTPATH_BLOCK_SHIFT)

static int blk_test(struct fp_blocks *b, uint64_t i)
{
	return !!(__atomic_load_n(&b->bits[i / 8], __ATOMIC_SEQ_CST) & (1u << (i % 8)));
}

static void blk_set(struct fp_blocks *b, uint64_t i)
{
	uint8_t bit = (uint8_t)(1u << (i % 8));

	if (!(__atomic_fetch_or(&b->bits[i / 8], bit, __ATOMIC_SEQ_CST) & bit))
		fastpath_count_file_blocks(b->fs->ks, 1);
}

static void blk_clear(struct fp_blocks *b, uint64_t i)
{
	uint8_t bit = (uint8_t)(1u << (i % 8));

	if (__atomic_fetch_and(&b->bits[i / 8], (uint8_t)~bit, __ATOMIC_SEQ_CST) & bit)
		fastpath_count_file_blocks(b->fs->ks, -1);
}

/* The fast-path blocks holding bytes [@off, @off + @len) of a file of @n blocks: [*first, *end) */
void file_blocks_span(uint64_t off, uint64_t len, uint64_t n, uint64_t *first, uint64_t *end)
{
	uint64_t last = len - 1 > UINT64_MAX - off ? UINT64_MAX : off + len - 1;

	*first = off >> FASTPATH_BLOCK_SHIFT;
	*end = len ? (last >> FASTPATH_BLOCK_SHIFT) + 1 : *first;
	if (*end > n)
		*end = n;
	if (*first > *end)
		*first = *end;
}

/*
 * The backend stored bytes [@off, @off + @len) of the held file (see above): put the
 * entries of the blocks they complete (a block at the file's end ends there).
 */
static void blocks_stored(struct fp_blocks *b, uint64_t off, uint64_t len)
{
	int id = __atomic_load_n(&b->backing_id, __ATOMIC_SEQ_CST);
	uint64_t i, first, end, n = __atomic_load_n(&b->n, __ATOMIC_SEQ_CST);
	uint64_t dv = __atomic_load_n(&b->dv, __ATOMIC_SEQ_CST);

	if (!id || !dv || __atomic_load_n(&b->dead, __ATOMIC_SEQ_CST))
		return;
	file_blocks_span(off, len, n, &first, &end);
	for (i = first; i < end; i++) {
		uint64_t boff = i << FASTPATH_BLOCK_SHIFT;
		uint64_t bend = boff + FP_BLOCK_SIZE < b->size ? boff + FP_BLOCK_SIZE : b->size;

		/* only what this store completed: the rest of a block may not be there */
		if (blk_test(b, i) || boff < off || bend > off + len)
			continue;
		if (!fastpath_put_block(b->fs->ks, b->nodeid, i, id, dv))
			continue; /* the map is full (counted) */
		blk_set(b, i);
		/* unpublishing began meanwhile: it may have deleted the entries before the put */
		if (__atomic_load_n(&b->dead, __ATOMIC_SEQ_CST)) {
			fastpath_drop_block(b->fs->ks, b->nodeid, i);
			blk_clear(b, i);
		} else if (__atomic_load_n(&b->dv, __ATOMIC_SEQ_CST) != dv) {
			/* a new data version: the publication that set it puts the block again */
			blk_clear(b, i);
		}
	}
}

/* The backend: bytes of the held file were stored (@stored) or stop being valid (above). */
static void blocks_watch(void *arg, int stored, uint64_t off, uint64_t len)
{
	struct fp_blocks *b = arg;
	uint64_t i, first, end;

	if (stored) {
		blocks_stored(b, off, len);
		return;
	}
	/* the mark first: a publication that checked the bytes before will see it */
	__atomic_add_fetch(&b->seq, 1, __ATOMIC_SEQ_CST);
	file_blocks_span(off, len, __atomic_load_n(&b->n, __ATOMIC_SEQ_CST), &first, &end);
	for (i = first; i < end; i++) {
		fastpath_drop_block(b->fs->ks, b->nodeid, i);
		blk_clear(b, i);
	}
}

/*
 * Take every block entry of @ino out, then its backing file, then the backend's hold.
 * @stale: the held version is no longer the node's: a new data version first, so that
 * no READ is answered from it even before the entries are gone.  Caller holds ino->lock.
 */
static void bump_data_version(struct fs *fs, struct inode *ino);
static void cached_unpublish_locked(struct fs *fs, struct inode *ino);

static void blocks_unpublish_locked(struct fs *fs, struct inode *ino, int stale)
{
	struct fp_blocks *b = ino->fp.blk;
	int id = ino->fp.backing_id;
	uint64_t i;

	if (!b)
		return;
	/* no OPEN is answered for the blocks' READs once they are gone */
	cached_unpublish_locked(fs, ino);
	/* before the entries go: a store told from now on puts none (blocks_stored()) */
	__atomic_store_n(&b->dead, 1, __ATOMIC_SEQ_CST);
	if (stale)
		bump_data_version(fs, ino);
	for (i = 0; i < b->n; i++) {
		fastpath_drop_block(fs->ks, ino->nodeid, i);
		blk_clear(b, i);
	}
	backing_close(fs, id, &ino->fp.backing_fd);
	ino->fp.backing_id = 0;
	/* no blocks_watch() call is in progress or to come once this returns */
	fs->be.ops->fastpath_blocks_unhold(&fs->be, ino);
	ino->fp.blk = NULL;
	free(b);
	__atomic_sub_fetch(&fs->fp_block_files, 1, __ATOMIC_RELAXED);
	fastpath_count_block_file(fs->ks, -1);
}

/*
 * Publish the blocks of [@off, @off + @len) that the backend says are ready, unless
 * published already for the current data version.  Caller holds ino->lock.
 */
static void blocks_publish_locked(struct fs *fs, struct inode *ino, uint64_t off, uint64_t len)
{
	const struct backend_ops *ops = fs->be.ops;
	struct fp_blocks *b = ino->fp.blk;
	uint64_t dv, i, first, end, boff, blen;
	unsigned int seq;

	if (!b)
		return;
	if (ops->fastpath_blocks_ready(&fs->be, ino, 0, 0) == -ESTALE) {
		blocks_unpublish_locked(fs, ino, 1);
		return;
	}
	dv = file_data_version(fs, ino);
	if (dv != b->dv) {
		/* the entries published carry an older version: none is served, all go again */
		/* the version first: a store told meanwhile takes its mark back (blocks_stored()) */
		__atomic_store_n(&b->dv, dv, __ATOMIC_SEQ_CST);
		for (i = 0; i < b->n; i++)
			blk_clear(b, i);
	}
	file_blocks_span(off, len, b->n, &first, &end);
	for (i = first; i < end; i++) {
		if (blk_test(b, i))
			continue;
		boff = i << FASTPATH_BLOCK_SHIFT;
		blen = b->size - boff < FP_BLOCK_SIZE ? b->size - boff : FP_BLOCK_SIZE;
		seq = __atomic_load_n(&b->seq, __ATOMIC_SEQ_CST);
		if (ops->fastpath_blocks_ready(&fs->be, ino, boff, blen) != 1)
			continue;
		if (!fastpath_put_block(fs->ks, ino->nodeid, i, ino->fp.backing_id, dv))
			continue; /* the map is full (counted) */
		blk_set(b, i);
		/* dropped since the check: the drop may have missed this entry */
		if (__atomic_load_n(&b->seq, __ATOMIC_SEQ_CST) != seq) {
			fastpath_drop_block(fs->ks, ino->nodeid, i);
			blk_clear(b, i);
		}
	}
}

/*
 * A daemon-served open of @ino (open_file() said READ_FILE): hold the backend's file of
 * its version as the backing file of block entries, and publish what of it is ready.
 * Caller holds ino->lock.  Failure only means READs reach the daemon.
 */
static void blocks_open_locked(struct fs *fs, fuse_req_t req, struct inode *ino, void *priv)
{
	const struct backend_ops *ops = fs->be.ops;
	struct fp_blocks *b;
	struct stat st;
	int fd, id;

	if (!fs->ks || !ops->fastpath_blocks_hold || !S_ISREG(ino->type))
		return;
	/* held for another version (another ETag): it goes before this one is held */
	if (ino->fp.blk && ops->fastpath_blocks_ready(&fs->be, ino, 0, 0) == -ESTALE)
		blocks_unpublish_locked(fs, ino, 1);
	if (ino->fp.blk) {
		blocks_publish_locked(fs, ino, 0, UINT64_MAX); /* stored since: a prefetch */
		return;
	}
	if (__atomic_add_fetch(&fs->fp_block_files, 1, __ATOMIC_RELAXED) > fs->io_fd_budget) {
		__atomic_sub_fetch(&fs->fp_block_files, 1, __ATOMIC_RELAXED);
		fastpath_count_block_file_refused(fs->ks);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		goto out_uncount;
	b->fs = fs;
	b->nodeid = ino->nodeid;
	fd = ops->fastpath_blocks_hold(&fs->be, ino, priv, blocks_watch, b);
	if (fd < 0)
		goto out_free;
	/* the kernel ends a READ at the backing file's size: the object's (the backend's word) */
	if (fstat(fd, &st) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > (uint64_t)FASTPATH_MAX_FILE_BLOCKS << FASTPATH_BLOCK_SHIFT)
		goto out_unhold;
	id = fuse_passthrough_open(req, fd);
	if (id <= 0)
		goto out_unhold;
	b->size = (uint64_t)st.st_size;
	__atomic_store_n(&b->n, (b->size + FP_BLOCK_SIZE - 1) >> FASTPATH_BLOCK_SHIFT,
			 __ATOMIC_SEQ_CST);
	b->dv = file_data_version(fs, ino);
	ino->fp.backing_fd = fd;
	ino->fp.backing_id = id;
	ino->fp.blk = b;
	fastpath_count_block_file(fs->ks, 1);
	/* stores from now on put their blocks; the scan below finds those stored before */
	__atomic_store_n(&b->backing_id, id, __ATOMIC_SEQ_CST);
	blocks_publish_locked(fs, ino, 0, UINT64_MAX);
	return;

out_unhold:
	close(fd);
	ops->fastpath_blocks_unhold(&fs->be, ino);
out_free:
	free(b);
out_uncount:
	__atomic_sub_fetch(&fs->fp_block_files, 1, __ATOMIC_RELAXED);
}

void file_fastpath_read_done(struct fs *fs, struct inode *ino, off_t off, size_t len)
{
	if (off < 0 || !len || (!__atomic_load_n(&ino->fp.blk, __ATOMIC_SEQ_CST) &&
				!__atomic_load_n(&ino->fp.open_cached, __ATOMIC_SEQ_CST)))
		return;
	pthread_mutex_lock(&ino->lock);
	if (ino->fp.blk)
		blocks_publish_locked(fs, ino, (uint64_t)off, len);
	else /* a local file read for an OPEN the kernel answered: its blocks, current again */
		local_blocks_refresh_locked(fs, ino);
	pthread_mutex_unlock(&ino->lock);
}

/* The version the block entries are held for is no longer the node's: unpublish them. */
static void blocks_check(struct fs *fs, struct inode *ino)
{
	if (!__atomic_load_n(&ino->fp.blk, __ATOMIC_SEQ_CST))
		return;
	pthread_mutex_lock(&ino->lock);
	if (ino->fp.blk && fs->be.ops->fastpath_blocks_ready(&fs->be, ino, 0, 0) == -ESTALE)
		blocks_unpublish_locked(fs, ino, 1);
	pthread_mutex_unlock(&ino->lock);
}

/*
 * Opens answered in the kernel without passthrough (backend.h, fastpath_blocks_hold: S3,
 * an object partly in the cache).  While a node's block entries are held (struct
 * fp_blocks), a daemon-served read-only open of it also publishes its read-only OPENs
 * for the kernel to answer: fh 0, FOPEN_NOFLUSH (and FOPEN_KEEP_CACHE as keep_cache
 * says), through the page cache.  No RELEASE tells when they close, so the blocks stay
 * held past the last daemon-served close, until the node is freed or its version is
 * stale (blocks_unpublish_locked() takes this answer back first).  Their READs are
 * answered from the block map, or reach the daemon with fh 0 and are served with the
 * node's reader: an open of the node the daemon made for them, kept while the answer is
 * published (file_reader_get()); once it is gone, an open made for that READ alone.
 * The kernel fails an open whose io mode conflicts with the inode's (EIO to the user):
 * page-cache opens cannot coexist with passthrough ones, so a node whose opens the
 * kernel answered one way never gets the other kind until it is freed (kcached,
 * kpassthrough).
 */
struct fp_reader {
	struct open_file of; /* first: what file_reader_get() gives out */
	int refs;            /* inode->lock; the node's own while it is ino->fp.reader */
};

static void reader_free(struct fs *fs, struct inode *ino, struct fp_reader *r)
{
	if (fs->be.ops->release_file)
		fs->be.ops->release_file(&fs->be, ino, r->of.priv, r->of.fd);
	close(r->of.fd);
	free(r);
}

/* Caller holds ino->lock; frees @r with its last reference */
static void reader_put_locked(struct fs *fs, struct inode *ino, struct fp_reader *r)
{
	if (!--r->refs)
		reader_free(fs, ino, r);
}

static void cached_unpublish_locked(struct fs *fs, struct inode *ino)
{
	struct fp_reader *r = ino->fp.reader;

	if (!ino->fp.open_cached)
		return;
	/*
	 * As unpublish_open(): the node's record first, then the tickets (a publication
	 * that read the record before is outdated by the new data version), then the map.
	 */
	__atomic_store_n(&ino->fp.open_cached, 0, __ATOMIC_SEQ_CST);
	bump_data_version(fs, ino);
	fastpath_set_open(fs->ks, ino->nodeid, 0);
	opens_put(fs);
	ino->fp.reader = NULL;
	if (r)
		reader_put_locked(fs, ino, r);
}

/*
 * An open of @ino (@flags) that holds its blocks and goes through the page cache: let the
 * kernel answer the next read-only OPENs too (above).  Also for a local file on a mount
 * without passthrough (its blocks: fastpath_blocks_locked(), kept while this is
 * published and made current again by the READs the daemon serves for such opens,
 * file_fastpath_read_done()).  Caller holds ino->lock.
 */
static void cached_publish_locked(struct fs *fs, struct inode *ino, int flags)
{
	if (!ino->fp.backing_id || ino->fp.open_cached || ino->fp.open_id || ino->backing_id ||
	    ino->fp.kpassthrough || wants_write(flags) || (flags & O_TRUNC))
		return;
	/* a local file where passthrough is on gets passthrough answers (publish_open_locked()) */
	if (!ino->fp.blk && fs->passthrough)
		return;
	if (opens_take(fs))
		return;
	/* before the map: every later publication of the node carries it (note_attr) */
	ino->fp.kcached = 1;
	__atomic_store_n(&ino->fp.open_cached,
			 fs->cfg->keep_cache ? FASTPATH_OPEN_CACHED_KEEP : FASTPATH_OPEN_CACHED,
			 __ATOMIC_SEQ_CST);
	fastpath_count_open(fs->ks, 1);
	fastpath_set_open(fs->ks, ino->nodeid, ino->fp.open_cached);
}

static struct fp_reader *reader_new(struct fs *fs, struct inode *ino, int *err)
{
	struct fp_reader *r = calloc(1, sizeof(*r));
	void *priv = NULL;
	int direct = BACKEND_OPEN_NODE_READER, fd;

	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	fd = fs->be.ops->open_file(&fs->be, ino, O_RDONLY, &direct, &priv);
	if (fd < 0) {
		free(r);
		*err = fd;
		return NULL;
	}
	r->of.fd = fd;
	r->of.direct = direct;
	r->of.flags = O_RDONLY;
	r->of.priv = priv;
	r->refs = 1;
	return r;
}

int file_reader_get(struct fs *fs, struct inode *ino, struct open_file **h)
{
	struct fp_reader *r;
	int err = 0;

	*h = NULL;
	if (!fs->be.ops->open_file || !S_ISREG(ino->type))
		return -EBADF;
	pthread_mutex_lock(&ino->lock);
	r = ino->fp.reader;
	if (r)
		r->refs++;
	pthread_mutex_unlock(&ino->lock);
	if (!r) {
		/* without the lock: the backend may ask the store (a HEAD past list_ttl) */
		r = reader_new(fs, ino, &err);
		if (!r)
			return err;
		pthread_mutex_lock(&ino->lock);
		if (ino->fp.open_cached && !ino->fp.reader) {
			ino->fp.reader = r; /* kept for the next READs of the answered opens */
			r->refs++;
		}
		pthread_mutex_unlock(&ino->lock);
	}
	*h = &r->of;
	return 0;
}

void file_reader_put(struct fs *fs, struct inode *ino, struct open_file *h)
{
	struct fp_reader *r = (struct fp_reader *)h;
	int last;

	if (!r)
		return;
	pthread_mutex_lock(&ino->lock);
	last = !--r->refs;
	pthread_mutex_unlock(&ino->lock);
	if (last)
		reader_free(fs, ino, r);
}

int file_open_id(struct inode *ino)
{
	int id = __atomic_load_n(&ino->fp.open_id, __ATOMIC_SEQ_CST);

	return id ? id : __atomic_load_n(&ino->fp.open_cached, __ATOMIC_SEQ_CST);
}

uint64_t file_data_version(struct fs *fs, struct inode *ino)
{
	uint64_t v = __atomic_load_n(&ino->fp.data_version, __ATOMIC_SEQ_CST), nv;

	if (v || !fs->ks)
		return v;
	nv = fastpath_new_data_version(fs->ks);
	/* the first publications of a node race: one version wins */
	if (__atomic_compare_exchange_n(&ino->fp.data_version, &v, nv, 0, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		return nv;
	return v;
}

static void bump_data_version(struct fs *fs, struct inode *ino)
{
	uint64_t nv;

	if (!fs->ks)
		return;
	nv = fastpath_new_data_version(fs->ks);
	/* first the node's record: every later publication takes the new version */
	__atomic_store_n(&ino->fp.data_version, nv, __ATOMIC_SEQ_CST);
	fastpath_set_data_version(fs->ks, ino->nodeid, nv);
}

static void unpublish_open(struct fs *fs, struct inode *ino);

void file_data_changed(struct fs *fs, struct inode *ino)
{
	/* a backing file of one version cannot show the new bytes: no OPEN gets it */
	if (fs->be.ops->fastpath_hold && __atomic_load_n(&ino->fp.open_id, __ATOMIC_SEQ_CST))
		unpublish_open(fs, ino); /* and a new data version */
	else
		bump_data_version(fs, ino);
}

static int set_data_version_locked(struct inode *ino, void *arg)
{
	__atomic_store_n(&ino->fp.data_version, *(uint64_t *)arg, __ATOMIC_SEQ_CST);
	return 1;
}

void file_data_changed_id(struct fs *fs, uint64_t nodeid)
{
	uint64_t nv;

	if (!fs->ks)
		return;
	nv = fastpath_new_data_version(fs->ks);
	/* a node the daemon does not know has nothing published either */
	if (inode_call_locked(&fs->inodes, nodeid, set_data_version_locked, &nv) == 1)
		fastpath_set_data_version(fs->ks, nodeid, nv);
}

/*
 * A read-only open of @ino got the inode's passthrough backing file: let
 * the fast path answer the next read-only OPENs with it (fastpath.h,
 * fastpath_set_open()).  Only where the backing file is the source file
 * itself (the local backend: its content is the file's, whatever changes
 * later), and at most io_fd_budget inodes: each keeps its backing file
 * until the kernel forgets it, since no RELEASE tells when the opens the
 * kernel answered are closed, and the kernel allows one backing file per
 * inode while any passthrough open of it exists.  Caller holds ino->lock.
 */
static void publish_open_locked(struct fs *fs, struct inode *ino, int flags, void *priv)
{
	const struct backend_ops *ops = fs->be.ops;
	int id = ino->backing_id;

	if (!fs->ks || ino->fp.open_id || id <= 0 || !S_ISREG(ino->type) || wants_write(flags) ||
	    (flags & O_TRUNC) || (fs->cfg->backend != BACKEND_LOCAL && !ops->fastpath_hold) ||
	    ino->fp.kcached)
		return;
	if (opens_take(fs))
		return;
	/*
	 * A backing file holding one version (S3's cache file): the backend
	 * keeps it valid (pinned) for as long as it is published.
	 */
	if (ops->fastpath_hold && ops->fastpath_hold(&fs->be, ino, priv, ino->backing_fd)) {
		opens_refuse(fs);
		return;
	}
	/* before the map: every later publication of the node carries it (note_attr) */
	ino->fp.kpassthrough = 1;
	__atomic_store_n(&ino->fp.open_id, id, __ATOMIC_SEQ_CST);
	fastpath_count_open(fs->ks, 1);
	fastpath_set_open(fs->ks, ino->nodeid, id);
}

/*
 * The backing file published for OPEN holds a version that is no longer the
 * node's (a backend with fastpath_hold: another ETag, deleted): take it out
 * of the maps, then unregister it unless opens of the file still use it
 * (the last release does then), then let the backend unpin it.
 */
static void unpublish_open(struct fs *fs, struct inode *ino)
{
	int id;

	pthread_mutex_lock(&ino->lock);
	id = ino->fp.open_id;
	if (!id) {
		pthread_mutex_unlock(&ino->lock);
		return;
	}
	/*
	 * First the node's record, then the tickets: a publication that read
	 * the record before carries a ticket that the new data version
	 * outdates; one that reads it after finds no id.
	 */
	__atomic_store_n(&ino->fp.open_id, 0, __ATOMIC_SEQ_CST);
	bump_data_version(fs, ino);
	fastpath_set_open(fs->ks, ino->nodeid, 0);
	if (!ino->nopen && ino->backing_id == id) {
		backing_close(fs, id, &ino->backing_fd);
		ino->backing_id = 0;
	}
	opens_put(fs);
	if (fs->be.ops->fastpath_unhold)
		fs->be.ops->fastpath_unhold(&fs->be, ino);
	pthread_mutex_unlock(&ino->lock);
}

int file_fastpath_until(struct fs *fs, struct inode *ino, uint64_t *until_ns)
{
	int stale = 0;

	*until_ns = 0;
	if (!fs->be.ops->fastpath_check)
		return 0;
	if (fs->be.ops->fastpath_check(&fs->be, ino, until_ns, &stale))
		return -1;
	if (stale)
		unpublish_open(fs, ino);
	/* before the node's new attributes (and data version) are published */
	blocks_check(fs, ino);
	return 0;
}

void file_release_published(struct fs *fs, struct inode *ino)
{
	int id = ino->fp.open_id;

	/* freed with opens the daemon never saw released (an aborted connection) */
	blocks_unpublish_locked(fs, ino, 0);
	/* the local file's blocks, kept for OPENs the kernel answered without passthrough */
	cached_unpublish_locked(fs, ino);
	local_blocks_release_locked(fs, ino);
	if (!id)
		return;
	/* the caller deleted the node's map entries: no OPEN is answered with id now */
	backing_close(fs, id, &ino->backing_fd);
	ino->backing_id = 0;
	__atomic_store_n(&ino->fp.open_id, 0, __ATOMIC_SEQ_CST);
	opens_put(fs);
	if (fs->be.ops->fastpath_unhold)
		fs->be.ops->fastpath_unhold(&fs->be, ino);
}

int file_open(struct fs *fs, fuse_req_t req, struct inode *ino, struct fuse_file_info *fi,
		int direct)
{
	void *priv = ((struct open_file *)(uintptr_t)fi->fh)->priv;
	uint64_t until;
	int err = 0;

	/*
	 * An older version published for OPEN must not back this open; and an
	 * open the backend serves itself (S3: its version is not complete in
	 * the cache, also when the published version lost a block) cannot run
	 * beside passthrough: the published version goes first.
	 */
	if (__atomic_load_n(&ino->fp.open_id, __ATOMIC_SEQ_CST)) {
		if (direct && fs->be.ops->fastpath_hold)
			unpublish_open(fs, ino);
		else
			file_fastpath_until(fs, ino, &until);
	}
	pthread_mutex_lock(&ino->lock);
	/* bytes read through the daemon cannot mix with passthrough opens */
	if (direct && ino->backing_id)
		err = -EBUSY;
	else if (!direct)
		err = backing_attach_locked(fs, req, ino, fi->flags, priv, fi);
	if (!err && !fi->backing_id && !direct)
		fastpath_blocks_locked(fs, req, ino, priv);
	/* a writer's bytes are staged: no OPEN answered in the kernel reads old blocks */
	if (!err && (wants_write(fi->flags) || (fi->flags & O_TRUNC)))
		cached_unpublish_locked(fs, ino);
	if (!err && direct)
		blocks_open_locked(fs, req, ino, priv);
	else if (!err && !fi->backing_id && ino->fp.blk)
		blocks_publish_locked(fs, ino, 0, UINT64_MAX); /* complete since: all of it */
	if (!err && fi->backing_id)
		publish_open_locked(fs, ino, fi->flags, priv);
	else if (!err)
		cached_publish_locked(fs, ino, fi->flags);
	if (!err)
		ino->nopen++;
	pthread_mutex_unlock(&ino->lock);
	if (fi->backing_id)
		fi->keep_cache = 0; /* the page cache is the backing file's */
	if (!err)
		stats_add(fi->backing_id ? &fs->stats.passthrough_opens : &fs->stats.plain_opens, 1);
	return err;
}

void file_release(struct fs *fs, struct inode *ino)
{
	/*
	 * The last open gives up the backing files while it still counts, so
	 * the inode cannot be freed under it; an open that comes meanwhile sees
	 * an open inode without a backing file and goes without passthrough.
	 */
	pthread_mutex_lock(&ino->lock);
	if (ino->nopen == 1) {
		/*
		 * The block entries before their backing file (which then is no local
		 * one's); kept while the kernel answers OPENs of the node itself.
		 */
		if (!ino->fp.open_cached) {
			blocks_unpublish_locked(fs, ino, 0);
			local_blocks_release_locked(fs, ino);
		}
		/* published for OPEN: kept until the inode goes (file_release_published()) */
		if (ino->backing_id && !ino->fp.open_id) {
			backing_close(fs, ino->backing_id, &ino->backing_fd);
			ino->backing_id = 0;
		}
	}
	pthread_mutex_unlock(&ino->lock);
	inode_put_open(&fs->inodes, ino); /* frees it if the kernel forgot it */
}

int file_io_fd(struct fs *fs, struct inode *ino, int write, int *owned)
{
	int fd, *slot = &ino->io_fd[write ? 1 : 0];

	*owned = 0;
	if (write && fs->cfg->read_only)
		return -EROFS;
	pthread_mutex_lock(&ino->lock);
	fd = *slot;
	if (fd < 0 && __atomic_add_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED) <= fs->io_fd_budget) {
		fd = fs->be.ops->open(&fs->be, ino, write ? O_RDWR : O_RDONLY, NULL);
		if (fd >= 0)
			*slot = fd;
		else
			__atomic_sub_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED);
	} else if (fd < 0) {
		/* over budget: this request gets a descriptor of its own */
		__atomic_sub_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED);
		fd = fs->be.ops->open(&fs->be, ino, write ? O_RDWR : O_RDONLY, NULL);
		*owned = fd >= 0;
	}
	pthread_mutex_unlock(&ino->lock);
	return fd;
}

void file_release_io(struct fs *fs, struct inode *ino)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (ino->io_fd[i] < 0)
			continue;
		close(ino->io_fd[i]);
		ino->io_fd[i] = -1;
		__atomic_sub_fetch(&fs->io_fds, 1, __ATOMIC_RELAXED);
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_io.c - opens of the S3 backend: the open/flush/release hooks (passthrough
 * on a complete cache file, else reads through backend_s3_read.c), O_EXCL creates,
 * copy/seek/fallocate on opens whose bytes are not all local, and adopting an uploaded
 * file into the cache.  Staging files are in backend_s3_stage.c, what an earlier mount
 * left in backend_s3_recover.c.  The design is described at the top of backend_s3.c;
 * the shared types are in backend_s3_priv.h.
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
#include "s3_kept.h"

/* ------------------------------------------------------------------ opens */

int s3_open_file(struct backend *be, struct inode *ino, int flags, int *direct,
			void **priv)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	char key[CACHE_KEY_LEN + 1];
	struct s3open *o;
	struct stat sst;
	int fd, err, c, reader = *direct & BACKEND_OPEN_NODE_READER;

	if (n->is_dir)
		return -EISDIR;
	/*
	 * An older generation (another client's version came since): the kernel looks up
	 * again.  Not the node's reader: the READs of opens the kernel answered itself have
	 * no path to look up again (it opens the node's current version, as it always did).
	 */
	if (!reader && s3_node_stale(sb, n, ino))
		return -ESTALE;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->n = n;
	o->refs = 1;
	o->vblock = UINT64_MAX;
	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_lock(&sb->ns_lock);
	n->refs++;
	pthread_mutex_unlock(&sb->ns_lock);
	*direct = 0;

	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) {
		s3_inval_wait(sb, n); /* the kernel drops an older version's pages first */
		pthread_mutex_lock(&n->lock);
		err = s3_stage_begin(sb, n, !!(flags & O_TRUNC));
		if (!err) {
			n->writers++;
			fd = fcntl(n->stage_fd, F_DUPFD_CLOEXEC, 0);
			if (fd < 0) {
				err = -errno;
				n->writers--;
			}
		}
		pthread_mutex_unlock(&n->lock);
		if (err)
			goto out_free;
		o->writer = 1;
		/* no passthrough: every WRITE comes to the daemon and counts (s3_write_note) */
		*direct = BACKEND_OPEN_READ_FILE;
		*priv = o;
		return fd;
	}

	/* a reader of a file being written sees the staging file */
	pthread_mutex_lock(&n->lock);
	if (s3_staged_for(n, ino->key.gen)) {
		fd = fcntl(n->stage_fd, F_DUPFD_CLOEXEC, 0);
		pthread_mutex_unlock(&n->lock);
		if (fd < 0) {
			err = -errno;
			goto out_free;
		}
		o->writer = 2; /* a reader, served from the staging file, not the cache */
		o->refs = 1;
		/* not the staging file as a passthrough backing file: writers may join */
		*direct = BACKEND_OPEN_READ_FILE;
		*priv = o;
		pthread_mutex_lock(&n->lock);
		n->writers++;
		pthread_mutex_unlock(&n->lock);
		return fd;
	}
	pthread_mutex_unlock(&n->lock);

	s3_prefetch_opened(sb, n);
	/* the version to read: from the table when fresh, else a HEAD */
	err = s3_getattr(be, ino, -1, &sst);
	if (err)
		goto out_free;
	s3_inval_wait(sb, n); /* the kernel drops an older version's pages first */
	pthread_mutex_lock(&sb->ns_lock);
	/* the HEAD just made may have found another client's version */
	if (!reader && ino->key.gen != n->vgen)
		err = -ESTALE;
	o->size = n->size;
	snprintf(o->etag, sizeof(o->etag), "%s", n->etag);
	pthread_mutex_unlock(&sb->ns_lock);
	if (err)
		goto out_free;
	o->vbuf = malloc(sb->block_size);
	if (!o->vbuf) {
		err = -ENOMEM;
		goto out_free;
	}
	s3_scrub_ensure(sb);
	s3_object_cache_key(sb, n->key, o->etag, key);
	memcpy(o->ckey, key, sizeof(o->ckey));
	err = cache_lookup(sb->cache, key, (uint64_t)o->size, CACHE_CREATE, &o->e);
	if (err) {
		o->e = NULL; /* the cache cannot hold it: serve from S3 */
		stats_add(&sb->stats->cache_fallbacks, 1);
		*direct = BACKEND_OPEN_READ_FILE;
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			goto out_free;
		}
		*priv = o;
		return fd;
	}
	c = cache_is_complete(sb->cache, o->e);
	fd = cache_open_data(sb->cache, o->e, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto out_free;
	}
	if (c == 1) {
		cache_pin(sb->cache, o->e);
		o->pinned = 1; /* and the backing file of passthrough (s3_open()) */
	} else {
		/*
		 * Served by the daemon.  A large object is most likely streamed once: past the
		 * page cache, the kernel copies each READ reply straight into the reader's
		 * buffer instead of filling fresh page-cache pages first (on the 2-CPU machine
		 * we measure on, that copy cost as much CPU as receiving the bytes).
		 */
		*direct = BACKEND_OPEN_READ_FILE;
		if (sb->cold_direct && o->size >= (off_t)S3_PART_SIZE)
			*direct |= BACKEND_OPEN_UNCACHED;
	}
	s3_sync_cache_stats(sb);
	*priv = o;
	return fd;

out_free:
	s3_open_put(sb, o);
	return err;
}

void s3_release_file(struct backend *be, struct inode *ino, void *priv, int fd)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	struct s3open *o = priv;

	if (!o || o->writer) {
		/* create (priv NULL), a writer, or a reader of the staging file */
		pthread_mutex_lock(&n->lock);
		if (s3_stage_orphan(n, ino))
			; /* an unlinked file's open: the node's staging file is another file's */
		else if (n->writers)
			n->writers--;
		if (!s3_stage_orphan(n, ino) && !n->writers && n->stage_fd >= 0) {
			int err = s3_stage_upload(sb, n);

			if (!err)
				s3_stage_drop(sb, n);
			else
				/* the close that failed told the writer; the bytes stay staged */
				pr_warn("s3: '%s' could not be uploaded at its last close (%s); kept "
					"in the staging area, uploaded at the next open, fsync or "
					"close of the file, or at unmount", n->key, strerror(-err));
		}
		pthread_mutex_unlock(&n->lock);
	} else if (!o->pinned) {
		/* a reader of an older version through the kernel's page cache */
		s3_note_stale_open(sb, n, o->etag, ino->key.gen);
	}
	if (o)
		s3_open_put(sb, o);
}

int s3_flush_file(struct backend *be, struct inode *ino, void *priv, int fd)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	struct s3open *o = priv;
	int err;

	/*
	 * Only a writer's close or fsync uploads (and reports a failure): a reader's close
	 * must not fail because another open's bytes cannot be uploaded.  The file's last
	 * close uploads whatever is left.
	 */
	if (n->is_dir || (o && o->writer != 1))
		return 0;
	pthread_mutex_lock(&n->lock);
	err = s3_stage_orphan(n, ino) ? 0 : s3_stage_upload(sb, n); /* unlinked: never uploaded */
	pthread_mutex_unlock(&n->lock);
	return err;
}

/*
 * The backing file for passthrough: only the complete cache file of a reader.  A staging
 * file never backs passthrough: its writes must reach the daemon (s3_write_note).
 */
int s3_open(struct backend *be, struct inode *ino, int flags, void *priv)
{
	struct s3be *sb = SB(be);
	struct s3open *o = priv;

	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	/* a reader whose cache file is complete and pinned for as long as it is open */
	if (o && o->pinned && o->e)
		return cache_open_data(sb->cache, o->e, O_RDONLY | O_CLOEXEC);
	return -EACCES;
}

/*
 * O_EXCL against the store, not the listing the kernel's negative entry came from: another
 * client may have made the name within list_ttl.  A HEAD of the key and a LIST of "key/"
 * (a directory); either found is -EEXIST, and the table learns of the object.  Then the
 * name is taken at once with an empty object put only if none exists (If-None-Match: *):
 * of two creators racing past the checks, the store lets one win, the other gets -EEXIST
 * (412).  The HEAD stays because a store that ignores the condition would let that PUT
 * overwrite.  *@etag gets the empty object's ETag ("" when the bucket is missing: then
 * nothing is taken, and the upload at close reports it).  A store that cannot be asked
 * fails the create (-EIO...).  docs/s3.md says what is atomic where.
 */
static int excl_check(struct s3be *sb, const char *key, char etag[S3_ETAG_MAX])
{
	struct s3_list_page page;
	struct s3_stat st;
	char *dkey;
	double t0 = s3_now_mono();
	int err;

	err = s3_do_head(sb, key, &st);
	if (!err) {
		struct s3node *n;

		pthread_mutex_lock(&sb->ns_lock);
		n = s3_node_get_locked(sb, key, 0);
		if (n && !n->writers)
			s3_node_seen_locked(sb, n, st.size, st.mtime, st.etag, t0, 0);
		pthread_mutex_unlock(&sb->ns_lock);
		if (n)
			s3_node_put(sb, n);
		return -EEXIST;
	}
	if (err != -ENOENT)
		return err;
	if (asprintf(&dkey, "%s/", key) < 0)
		return -ENOMEM;
	memset(&page, 0, sizeof(page));
	err = s3_do_list(sb, dkey, "/", 1, NULL, &page);
	if (!err && (page.nobjects || page.nprefixes))
		err = -EEXIST;
	s3_list_page_free(&page);
	free(dkey);
	etag[0] = '\0';
	if (!err) {
		stats_add(&sb->stats->s3_put, 1);
		err = s3_put_buf_absent(sb->c, sb->bucket, key, "", 0, etag);
	}
	if (err == -ENOENT)
		err = 0; /* not even the bucket: nothing there; the upload at close will say */
	return err;
}

int s3_create(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		     int flags, const struct backend_cred *cred, struct backend_entry *out)
{
	struct s3be *sb = SB(be);
	struct s3node *d = s3_ino_node(be, dir), *n;
	char *key, etag[S3_ETAG_MAX] = "";
	struct s3_attrs a;
	int fd, err;

	if (strlen(name) > S3_NAME_MAX)
		return -ENAMETOOLONG;
	key = s3_child_key(d, name, 0);
	if (!key)
		return -ENOMEM;
	if (flags & O_EXCL) {
		err = excl_check(sb, key, etag);
		if (err) {
			free(key);
			return err;
		}
	}
	s3_new_attrs(sb, d, S_IFREG | (mode & 07777), cred, &a);
	pthread_mutex_lock(&sb->ns_lock);
	n = s3_node_get_locked(sb, key, 0);
	if (n && etag[0]) {
		/* the empty object excl_check() put: a failed upload records it as replaced */
		s3_node_seen_locked(sb, n, 0, time(NULL), etag, s3_now_mono(), 1);
		s3_node_attrs_locked(n, &a); /* a new file: ours */
	} else if (n && !(n->exists && n->seen > 0)) {
		s3_node_set_meta_locked(n, 0, time(NULL), "", s3_now_mono());
		s3_node_attrs_locked(n, &a); /* a new file: ours */
	}
	pthread_mutex_unlock(&sb->ns_lock);
	free(key);
	if (!n)
		return -ENOMEM;
	pthread_mutex_lock(&n->lock);
	err = s3_stage_begin(sb, n, 1);
	if (!err) {
		n->unlinked = 0; /* a new file under a name deleted while open */
		n->stage_dirty = 1;
		n->writers++;
		fd = fcntl(n->stage_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			n->writers--;
		}
	}
	pthread_mutex_unlock(&n->lock);
	if (err) {
		s3_node_put(sb, n);
		return err;
	}
	s3_fill_entry(sb, n, out);
	out->st.st_size = 0;
	out->st.st_blocks = 0;
	s3_dir_changed(sb, d);
	return fd;
}

/* ------------------------------------------- copy, seek, fallocate of an open */

/*
 * 1 when the descriptor of the open @o holds every byte of the file: a staging file (a
 * writer, a reader of a file being written, a create) or a complete cache file.  A cold
 * open's descriptor is a sparse cache file or /dev/null: its bytes come from read_file.
 */
static int open_is_local(const struct s3open *o)
{
	return !o || o->writer || o->pinned;
}

/* The chunk a copy moves per read, and the most one COPY_FILE_RANGE request moves. */
#define S3_COPY_CHUNK (1u << 20)
#define S3_COPY_MAX (64u << 20)

/* Copy @len bytes of the source open @pin into @fd_out (see s3_copy_file()). */
static ssize_t copy_range(struct backend *be, struct inode *in, void *pin, int fd_in,
			  off_t off_in, int fd_out, off_t off_out, size_t len)
{
	size_t done = 0;
	char *buf;

	if (open_is_local(pin)) {
		ssize_t r = copy_file_range(fd_in, &off_in, fd_out, &off_out, len, 0);

		if (r >= 0)
			return r;
		if (errno != EXDEV && errno != EOPNOTSUPP && errno != EINVAL)
			return -errno;
		/* the cache and the staging area on different file systems: copy below */
	}
	buf = malloc(S3_COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (done < len) {
		size_t want = len - done < S3_COPY_CHUNK ? len - done : S3_COPY_CHUNK;
		ssize_t n = s3_read_file(be, in, pin, fd_in, buf, want, off_in + (off_t)done,
					 NULL);
		size_t w = 0;

		if (n <= 0) {
			if (n < 0 && !done) {
				free(buf);
				return n;
			}
			break;
		}
		while (w < (size_t)n) {
			ssize_t r = pwrite(fd_out, buf + w, (size_t)n - w,
					   off_out + (off_t)(done + w));

			if (r < 0) {
				int err = -errno;

				free(buf);
				return done + w ? (ssize_t)(done + w) : err;
			}
			w += (size_t)r;
		}
		done += (size_t)n;
	}
	free(buf);
	return (ssize_t)done;
}

/*
 * copy_file_range between two opens of the mount.  The destination must be open for
 * writing (a staging file); the source's bytes are read where they are: copied between
 * the descriptors when local, else through s3_read_file() (cache, parts being fetched, or
 * S3), then written into the destination.  A request moves at most S3_COPY_MAX bytes;
 * callers loop on short counts.
 */
ssize_t s3_copy_file(struct backend *be, struct inode *in, void *pin, int fd_in, off_t off_in,
		     struct inode *out, void *pout, int fd_out, off_t off_out, size_t len,
		     unsigned int flags)
{
	struct s3open *oo = pout;
	ssize_t r;

	if (flags)
		return -EINVAL;
	if (oo && oo->writer != 1)
		return -EBADF;
	if (len > S3_COPY_MAX)
		len = S3_COPY_MAX;
	s3_write_note(be, out, pout, 0);
	r = copy_range(be, in, pin, fd_in, off_in, fd_out, off_out, len);
	s3_write_note(be, out, pout, 1);
	return r;
}

/*
 * SEEK_DATA/SEEK_HOLE.  A local descriptor answers for itself (a staging file may have
 * holes); a cold object is dense: data from 0 to its size, one hole at its end.
 */
off_t s3_seek_file(struct backend *be, struct inode *ino, void *priv, int fd, off_t off,
		   int whence)
{
	struct s3open *o = priv;
	off_t r;

	if (open_is_local(o) || (whence != SEEK_DATA && whence != SEEK_HOLE)) {
		r = lseek(fd, off, whence);
		return r < 0 ? -errno : r;
	}
	if (off < 0 || off >= o->size)
		return -ENXIO;
	return whence == SEEK_DATA ? off : o->size;
}

/* fallocate: only an open for writing, on its staging file (uploaded like a write). */
int s3_fallocate_file(struct backend *be, struct inode *ino, void *priv, int fd, int mode,
		      off_t off, off_t len)
{
	struct s3open *o = priv;
	int err;

	if (o && o->writer != 1)
		return -EBADF;
	s3_write_note(be, ino, priv, 0);
	err = fallocate(fd, mode, off, len) ? -errno : 0;
	s3_write_note(be, ino, priv, 1);
	return err;
}

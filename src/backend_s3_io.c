// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_io.c - opens and writes of the S3 backend: the open/flush/release hooks
 * (passthrough on a complete cache file, else reads through backend_s3_read.c), staging
 * files for writes and their upload, and adopting an uploaded file into the cache.  The
 * design is described at the top of backend_s3.c; the shared types are in
 * backend_s3_priv.h.
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

/* Set by open_file for the backing-file open that handle.c makes right after it. */
static __thread struct s3node *tl_pt_node;
static __thread struct cache_entry *tl_pt_entry;

/* ------------------------------------------------------------------ cache */

static void object_cache_key(struct s3be *sb, const char *key, const char *etag,
			     char out[CACHE_KEY_LEN + 1])
{
	const char *parts[] = { sb->endpoint, sb->bucket, key, etag };

	cache_key(parts, 4, out);
}

/*
 * The scrub thread starts with the first open, as the fetch threads do: the backend is
 * opened before the daemon forks, and threads do not survive a fork.
 */
static void scrub_ensure(struct s3be *sb)
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
static void cache_adopt(struct s3be *sb, struct s3node *n, int fd, off_t size, const char *etag,
			uint64_t gen, unsigned int busy)
{
	char key[CACHE_KEY_LEN + 1];
	struct cache_entry *e;
	uint64_t i, nb;
	char *buf;
	int ok = 0;

	if (busy)
		return;
	object_cache_key(sb, n->key, etag, key);
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

/* -------------------------------------------------------------- open state */

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

/* ---------------------------------------------------------------- staging */

static void stage_failed(struct s3be *sb, struct s3node *n, int why);

static int stage_open_fd(struct s3be *sb)
{
	int fd = open(sb->staging, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/stage.XXXXXX", sb->staging);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	return fd < 0 ? -errno : fd;
}

/* Give @n the staging file @fd and list it for readdir (caller holds n->lock). */
static void stage_attach(struct s3be *sb, struct s3node *n, int fd)
{
	n->stage_fd = fd;
	pthread_mutex_lock(&sb->ns_lock);
	n->staged_prev = NULL;
	n->staged_next = sb->staged;
	if (sb->staged)
		sb->staged->staged_prev = n;
	sb->staged = n;
	pthread_mutex_unlock(&sb->ns_lock);
}

/* Close @n's staging file, if any, and unlist it (caller holds n->lock). */
void s3_stage_drop(struct s3be *sb, struct s3node *n)
{
	if (n->stage_fd < 0)
		return;
	pthread_mutex_lock(&sb->ns_lock);
	if (n->staged_prev)
		n->staged_prev->staged_next = n->staged_next;
	else if (sb->staged == n)
		sb->staged = n->staged_next;
	if (n->staged_next)
		n->staged_next->staged_prev = n->staged_prev;
	n->staged_prev = n->staged_next = NULL;
	pthread_mutex_unlock(&sb->ns_lock);
	close(n->stage_fd);
	n->stage_fd = -1;
}

/*
 * Give @n a staging file (caller holds n->lock): empty when @trunc, else the object's
 * bytes (from a complete cache entry when there is one, else downloaded).
 */
int s3_stage_begin(struct s3be *sb, struct s3node *n, int trunc)
{
	struct s3_stat st;
	off_t size;
	int fd, err = 0, exists;

	if (n->stage_fd >= 0) {
		if (trunc && ftruncate(n->stage_fd, 0))
			return -errno;
		if (trunc)
			n->stage_dirty = 1;
		return 0;
	}
	fd = stage_open_fd(sb);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&sb->ns_lock);
	exists = n->exists && n->seen > 0;
	size = n->size;
	memset(&st, 0, sizeof(st));
	st.size = n->size;
	st.mtime = n->mtime;
	snprintf(st.etag, sizeof(st.etag), "%s", n->etag);
	pthread_mutex_unlock(&sb->ns_lock);
	if (!trunc && exists && size > 0) {
		char key[CACHE_KEY_LEN + 1];
		struct cache_entry *e = NULL;
		int done = 0;

		object_cache_key(sb, n->key, st.etag, key);
		if (!cache_lookup(sb->cache, key, (uint64_t)size, 0, &e)) {
			if (cache_is_complete(sb->cache, e) == 1) {
				int cfd = cache_open_data(sb->cache, e, O_RDONLY | O_CLOEXEC);
				off_t in = 0, out = 0;

				if (cfd >= 0) {
					while (out < size) {
						ssize_t r = copy_file_range(cfd, &in, fd, &out,
									    (size_t)(size - out), 0);
						if (r <= 0)
							break;
					}
					done = out == size;
					close(cfd);
				}
			}
			cache_entry_put(sb->cache, e);
		}
		if (!done) {
			stats_add(&sb->stats->s3_get, (uint64_t)(size + S3_PART_SIZE - 1) / S3_PART_SIZE);
			err = s3_get_parallel(sb->c, sb->bucket, n->key, &st, fd, 0);
			if (err) {
				close(fd);
				return err;
			}
		}
	}
	stage_attach(sb, n, fd);
	n->stage_dirty = trunc && exists && size > 0;
	n->unlinked = 0;
	/* the staging file holds the object: clean until changed */
	n->ugen = __atomic_load_n(&n->wgen, __ATOMIC_SEQ_CST);
	return 0;
}

/*
 * Every change of a staging file is bracketed: wactive up before it touches the file;
 * wgen up once it is done, then wactive down.  An upload reads wgen before it reads the
 * file, so every change that bumped wgen by then is in the bytes it sends: the bucket
 * holds that wgen (n->ugen), and the file is dirty while wgen differs.  No timestamps:
 * a same-size rewrite in the same clock tick is a change like any other.
 */
void s3_write_note(struct backend *be, struct inode *ino, void *priv, int done)
{
	struct s3node *n = s3_ino_node(be, ino);

	if (!done) {
		__atomic_add_fetch(&n->wactive, 1, __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_add_fetch(&n->wgen, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&n->wactive, 1, __ATOMIC_SEQ_CST);
}

/*
 * The attributes of the object a staging file replaces, when no HEAD read them yet (caller
 * holds n->lock; posix_meta=off mounts keep them too).
 */
static int stage_meta_need(struct s3be *sb, struct s3node *n)
{
	struct s3_stat *hs = malloc(sizeof(*hs));
	int err;

	if (!hs)
		return -ENOMEM;
	err = s3_do_head(sb, n->key, hs);
	if (!err || err == -ENOENT) {
		pthread_mutex_lock(&sb->ns_lock);
		if (!err)
			s3_node_attrs_locked(n, &hs->attrs);
		else
			n->meta_known = 1; /* gone: a new object, with what we have */
		pthread_mutex_unlock(&sb->ns_lock);
		err = 0;
	}
	free(hs);
	return err;
}

/*
 * Upload @n's staging file when dirty (caller holds n->lock), with its attributes: those it
 * had (or was created with), the staging file's mtime, ctime now.
 */
int s3_stage_upload(struct s3be *sb, struct s3node *n)
{
	struct s3_attrs a;
	char etag[S3_ETAG_MAX] = "";
	unsigned int busy;
	struct stat st;
	uint64_t gen;
	int err;

	if (n->stage_fd < 0 || n->unlinked)
		return 0;
	/* in this order (see s3_write_note() and cache_adopt()) */
	gen = __atomic_load_n(&n->wgen, __ATOMIC_SEQ_CST);
	busy = __atomic_load_n(&n->wactive, __ATOMIC_SEQ_CST);
	if (!n->stage_dirty && gen == n->ugen)
		return 0;
	/* a PUT replaces the user metadata: an existing object's attributes go along */
	if (!n->meta_known && n->etag[0]) {
		err = stage_meta_need(sb, n);
		if (err)
			return err;
	}
	if (fstat(n->stage_fd, &st))
		return -errno;
	pthread_mutex_lock(&sb->ns_lock);
	a = n->attrs;
	pthread_mutex_unlock(&sb->ns_lock);
	/* the staging file's mtime: moved by the writes, or set by utimensat */
	a.mtime = st.st_mtim;
	clock_gettime(CLOCK_REALTIME, &a.ctime);
	if (!(a.has & S3_ATTR_ATIME))
		a.atime = a.mtime;
	a.has |= S3_ATTR_MTIME | S3_ATTR_ATIME | S3_ATTR_CTIME;
	stats_add(&sb->stats->s3_put, 1);
	err = s3_put_fd_attrs(sb->c, sb->bucket, n->key, n->stage_fd, 0, st.st_size, &a, etag);
	if (err) {
		n->stage_dirty = 1; /* the next flush, fsync or last close tries again */
		stage_failed(sb, n, err); /* and a crash does not lose the bytes */
		return err;
	}
	n->stage_dirty = 0;
	n->ugen = gen;
	s3_stage_forget(sb, n);
	pthread_mutex_lock(&sb->ns_lock);
	/* the version we replaced leaves the cache */
	s3_node_seen_locked(sb, n, st.st_size, time(NULL), etag, s3_now_mono(), 1);
	s3_node_attrs_locked(n, &a);
	pthread_mutex_unlock(&sb->ns_lock);
	if (etag[0])
		cache_adopt(sb, n, n->stage_fd, st.st_size, etag, gen, busy);
	return 0;
}

/*
 * Failed uploads are kept durable: <staging>/unuploaded-<UTC time>-<inode> is the staging
 * file itself (its O_TMPFILE linked in) or a copy, and <name>.key says where it goes:
 *	s3://BUCKET/KEY
 *	endpoint URL
 *	etag ETAG        (the version these bytes replace; "-" for a new object)
 * Both 0600, fsync'ed, and the directory too, before the failure is reported.  The next
 * mount of the cache directory uploads them (s3_stage_recover()).
 */
static int fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/* Copy all of @in into the new file @path (0600).  Returns 0 or -errno. */
static int copy_to_new(int in, const char *path)
{
	off_t ioff = 0, ooff = 0;
	struct stat st;
	int fd, err = 0;

	if (fstat(in, &st))
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (!err && ooff < st.st_size) {
		ssize_t r = copy_file_range(in, &ioff, fd, &ooff, (size_t)(st.st_size - ooff), 0);

		if (r <= 0)
			err = r ? -errno : -EIO;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (err)
		unlink(path);
	return err;
}

/* Write @path.key (replaced atomically, fsync'ed) for @n; caller holds n->lock. */
static int write_key_file(struct s3be *sb, struct s3node *n, const char *path)
{
	char kpath[PATH_MAX + 80], tpath[PATH_MAX + 96], etag[S3_ETAG_MAX];
	int fd, err = 0;
	FILE *f;

	pthread_mutex_lock(&sb->ns_lock);
	snprintf(etag, sizeof(etag), "%s", n->exists && n->seen > 0 && n->etag[0] ? n->etag : "-");
	pthread_mutex_unlock(&sb->ns_lock);
	snprintf(kpath, sizeof(kpath), "%s.key", path);
	snprintf(tpath, sizeof(tpath), "%s.key.tmp", path);
	unlink(tpath);
	fd = open(tpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tpath);
		return err;
	}
	fprintf(f, "s3://%s/%s\nendpoint %s\netag %s\n", sb->bucket, n->key, sb->endpoint, etag);
	if (fflush(f) || fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tpath, kpath))
		err = -errno;
	if (err)
		unlink(tpath);
	return err;
}

/*
 * Make @n's staged bytes durable under a name, with their key (caller holds n->lock).
 * Returns 0 or -errno (then nothing durable is promised).
 */
static int stage_persist(struct s3be *sb, struct s3node *n)
{
	char path[PATH_MAX + 64], proc[64], when[32];
	time_t now = time(NULL);
	struct tm tm;
	int err;

	if (n->stage_path && !n->stage_copy) {
		/* already named: the bytes are the staging file's own */
		if (fdatasync(n->stage_fd))
			return -errno;
		err = write_key_file(sb, n, n->stage_path);
		return err ? err : fsync_dir(sb->staging);
	}
	if (n->stage_path) {
		/* a copy (no O_TMPFILE): copy again, then swap it in */
		snprintf(path, sizeof(path), "%s.new", n->stage_path);
		unlink(path);
		err = copy_to_new(n->stage_fd, path);
		if (!err && rename(path, n->stage_path))
			err = -errno;
		if (err) {
			unlink(path);
			return err;
		}
		err = write_key_file(sb, n, n->stage_path);
		return err ? err : fsync_dir(sb->staging);
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(path, sizeof(path), "%s/unuploaded-%s-%016llx", sb->staging, when,
		 (unsigned long long)n->ino);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", n->stage_fd);
	/* an O_TMPFILE gets a name; a file already unlinked (no O_TMPFILE) is copied */
	if (!linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW)) {
		n->stage_copy = 0;
		if (fdatasync(n->stage_fd)) {
			err = -errno;
			unlink(path);
			return err;
		}
	} else {
		err = copy_to_new(n->stage_fd, path);
		if (err)
			return err;
		n->stage_copy = 1;
	}
	n->stage_path = strdup(path);
	if (!n->stage_path) {
		unlink(path);
		return -ENOMEM;
	}
	err = write_key_file(sb, n, path);
	return err ? err : fsync_dir(sb->staging);
}

/* The kept bytes of @n are not needed any more (uploaded, or deleted); n->lock held. */
void s3_stage_forget(struct s3be *sb, struct s3node *n)
{
	char kpath[PATH_MAX + 80];

	if (!n->stage_path)
		return;
	snprintf(kpath, sizeof(kpath), "%s.key", n->stage_path);
	/* the key first: a data file without key is reported, never uploaded */
	unlink(kpath);
	unlink(n->stage_path);
	fsync_dir(sb->staging);
	free(n->stage_path);
	n->stage_path = NULL;
}

/* A failed upload of @n (caller holds n->lock): keep the bytes durable, or say why not. */
static void stage_failed(struct s3be *sb, struct s3node *n, int why)
{
	int err;

	if (n->unlinked)
		return;
	err = stage_persist(sb, n);
	if (err)
		pr_err("s3: '%s' could not be uploaded (%s) nor kept in '%s' (%s)", n->key,
		       strerror(-why), sb->staging, strerror(-err));
}

/*
 * Say in be->progress_path what the unmount still uploads: @n now (caller holds its lock),
 * then the other staged files.  `bpfuse umount` shows the line while it waits.
 */
static void close_progress(struct s3be *sb, struct s3node *n)
{
	const char *path = sb->be->progress_path;
	char line[1024], tmp[160];
	struct s3node *o;
	struct stat st;
	size_t len;
	int fd, more = 0;

	if (!path[0])
		return;
	len = (size_t)snprintf(line, sizeof(line), "uploading '%s' (%lld bytes)", n->key,
			       fstat(n->stage_fd, &st) ? 0LL : (long long)st.st_size);
	pthread_mutex_lock(&sb->ns_lock);
	for (o = sb->staged; o; o = o->staged_next)
		more += o != n;
	if (more && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, ", then %d more:", more);
	for (o = sb->staged; o && len < sizeof(line); o = o->staged_next)
		if (o != n)
			len += (size_t)snprintf(line + len, sizeof(line) - len, " '%s'", o->key);
	pthread_mutex_unlock(&sb->ns_lock);
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		close(fd);
		unlink(tmp);
		return;
	}
	if (close(fd) || rename(tmp, path))
		unlink(tmp);
}

/*
 * Unmount: upload every file still staged (written, or left by a failed upload at its
 * last close); what still cannot be uploaded stays kept (stage_persist()) for the next
 * mount, and the log says where.
 */
void s3_stage_close_all(struct s3be *sb)
{
	struct s3node *n;
	int err;

	for (;;) {
		pthread_mutex_lock(&sb->ns_lock);
		n = sb->staged;
		pthread_mutex_unlock(&sb->ns_lock);
		if (!n)
			break;
		pthread_mutex_lock(&n->lock);
		close_progress(sb, n);
		err = s3_stage_upload(sb, n);
		if (err && n->stage_path)
			pr_err("s3: '%s' could not be uploaded at unmount (%s): its bytes are kept "
			       "in '%s', uploaded by the next mount of this cache directory",
			       n->key, strerror(-err), n->stage_path);
		else if (err)
			pr_err("s3: '%s' could not be uploaded at unmount (%s) nor kept in '%s': "
			       "the changes are lost", n->key, strerror(-err), sb->staging);
		s3_stage_drop(sb, n);
		pthread_mutex_unlock(&n->lock);
	}
}

/* ------------------------------------------------------- kept by a mount before */

/* a line of a .key file: "s3://", a bucket and a key of up to 1,024 bytes */
#define S3_KEYFILE_LINE 1600

struct kept {
	char url[S3_KEYFILE_LINE];
	char endpoint[512];
	char etag[S3_ETAG_MAX];
};

static int read_key_file(int dfd, const char *name, struct kept *k)
{
	char line[S3_KEYFILE_LINE];
	int fd, got = 0;
	FILE *f;

	memset(k, 0, sizeof(*k));
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!got++)
			snprintf(k->url, sizeof(k->url), "%s", line);
		else if (!strncmp(line, "endpoint ", 9))
			snprintf(k->endpoint, sizeof(k->endpoint), "%.*s", (int)sizeof(k->endpoint) - 1,
				 line + 9);
		else if (!strncmp(line, "etag ", 5))
			snprintf(k->etag, sizeof(k->etag), "%.*s", (int)sizeof(k->etag) - 1, line + 5);
	}
	fclose(f);
	return k->url[0] ? 0 : -EINVAL;
}

/* Upload the kept file @name if its object is still the version it replaces. */
static void recover_one(struct s3be *sb, int dfd, const char *name)
{
	char kname[NAME_MAX + 8], url[300], etag[S3_ETAG_MAX] = "";
	const char *key;
	struct s3_stat st;
	struct kept k;
	struct stat fst;
	size_t blen;
	int fd, err;

	snprintf(kname, sizeof(kname), "%s.key", name);
	if (read_key_file(dfd, kname, &k)) {
		pr_warn("s3: '%s/%s' was kept by an earlier mount without a readable key file; "
			"not uploaded", sb->staging, name);
		return;
	}
	snprintf(url, sizeof(url), "s3://%s/", sb->bucket);
	blen = strlen(url);
	if (strncmp(k.url, url, blen) || strcmp(k.endpoint, sb->endpoint)) {
		pr_warn("s3: '%s/%s' holds bytes of '%s'%s%s not uploaded yet: mount that bucket "
			"with this cache directory to upload them", sb->staging, name, k.url,
			k.endpoint[0] ? " at " : "", k.endpoint);
		return;
	}
	key = k.url + blen;
	if (!k.etag[0] || sb->be->cfg->read_only) {
		pr_warn("s3: '%s/%s' holds bytes of '%s' not uploaded yet (%s): upload it by "
			"hand", sb->staging, name, k.url,
			sb->be->cfg->read_only ? "read-only mount" : "no version recorded");
		return;
	}
	err = s3_head(sb->c, sb->bucket, key, &st);
	if (!err ? strcmp(st.etag, k.etag) : err != -ENOENT || strcmp(k.etag, "-")) {
		if (err && err != -ENOENT)
			pr_warn("s3: cannot check '%s' to upload the bytes kept in '%s/%s': %s",
				k.url, sb->staging, name, strerror(-err));
		else
			pr_warn("s3: '%s' changed in the bucket since an earlier mount kept its "
				"bytes in '%s/%s': not uploaded over it", k.url, sb->staging, name);
		return;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &fst) || !S_ISREG(fst.st_mode)) {
		pr_warn("s3: cannot read '%s/%s': %s", sb->staging, name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	stats_add(&sb->stats->s3_put, 1);
	err = s3_put_fd(sb->c, sb->bucket, key, fd, 0, fst.st_size, etag);
	close(fd);
	if (err) {
		pr_warn("s3: '%s' could not be uploaded from '%s/%s' (%s): kept for the next mount",
			k.url, sb->staging, name, strerror(-err));
		return;
	}
	unlinkat(dfd, kname, 0);
	unlinkat(dfd, name, 0);
	fsync(dfd);
	pr_info("s3: uploaded '%s' from '%s/%s', kept by an earlier mount", k.url, sb->staging,
		name);
}

/*
 * The multipart uploads in flight are journaled as <staging>/mpu-<hash> (0600, fsync'ed):
 *	upload UPLOAD-ID
 *	s3://BUCKET/KEY
 *	endpoint URL
 * from their start until they complete or are aborted; one left by a crash is aborted by
 * the next mount, so no parts stay in the bucket (billed, invisible) forever.
 */
static void mpu_path(struct s3be *sb, const char *bucket, const char *key, const char *id,
		     char *path, size_t size)
{
	const char *parts[] = { sb->endpoint, bucket, key, id };
	char h[CACHE_KEY_LEN + 1];

	cache_key(parts, 4, h);
	snprintf(path, size, "%s/mpu-%s", sb->staging, h);
}

void s3_mpu_note(void *arg, const char *bucket, const char *key, const char *upload_id,
		 int active)
{
	struct s3be *sb = arg;
	char path[PATH_MAX + 80];
	FILE *f;
	int fd;

	mpu_path(sb, bucket, key, upload_id, path, sizeof(path));
	if (!active) {
		unlink(path);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return;
	}
	fprintf(f, "upload %s\ns3://%s/%s\nendpoint %s\n", upload_id, bucket, key, sb->endpoint);
	fflush(f);
	fsync(fd);
	fclose(f);
	fsync_dir(sb->staging);
}

/* Abort the multipart upload journaled in @name (an earlier mount died during it). */
static void recover_mpu(struct s3be *sb, int dfd, const char *name)
{
	char line[S3_KEYFILE_LINE], id[512] = "", url[S3_KEYFILE_LINE] = "", ep[512] = "";
	char prefix[300];
	size_t plen;
	int fd, err, n = 0;
	FILE *f;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "upload ", 7))
			snprintf(id, sizeof(id), "%.*s", (int)sizeof(id) - 1, line + 7);
		else if (!strncmp(line, "endpoint ", 9))
			snprintf(ep, sizeof(ep), "%.*s", (int)sizeof(ep) - 1, line + 9);
		else if (!n++)
			snprintf(url, sizeof(url), "%s", line);
	}
	fclose(f);
	snprintf(prefix, sizeof(prefix), "s3://%s/", sb->bucket);
	plen = strlen(prefix);
	if (!id[0] || strncmp(url, prefix, plen) || strcmp(ep, sb->endpoint)) {
		if (id[0])
			pr_warn("s3: an earlier mount left an unfinished multipart upload of '%s'%s%s "
				"('%s/%s'): mount that bucket with this cache directory to abort it",
				url, ep[0] ? " at " : "", ep, sb->staging, name);
		return;
	}
	err = s3_abort_multipart(sb->c, sb->bucket, url + plen, id);
	if (err && err != -ENOENT) {
		pr_warn("s3: cannot abort the unfinished multipart upload of '%s' left by an "
			"earlier mount: %s", url, strerror(-err));
		return;
	}
	unlinkat(dfd, name, 0);
	if (!err)
		pr_info("s3: aborted the unfinished multipart upload of '%s' left by an earlier "
			"mount", url);
}

/*
 * Mount: abort the multipart uploads an earlier mount of this cache directory left
 * unfinished; upload what it kept (stage_persist()), each file only if its object is
 * still the version it replaces; report the rest.
 */
void s3_stage_recover(struct s3be *sb)
{
	struct dirent *de;
	int dfd;
	DIR *d;

	dfd = open(sb->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	d = fdopendir(dup(dfd));
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (!strncmp(de->d_name, "mpu-", 4)) {
			recover_mpu(sb, dfd, de->d_name);
			continue;
		}
		if (strncmp(de->d_name, "unuploaded-", 11))
			continue;
		if (len > 8 && !strcmp(de->d_name + len - 8, ".key.tmp")) {
			unlinkat(dfd, de->d_name, 0); /* a key file never completed */
			continue;
		}
		if ((len > 4 && !strcmp(de->d_name + len - 4, ".key")) ||
		    (len > 4 && !strcmp(de->d_name + len - 4, ".new")))
			continue;
		recover_one(sb, dfd, de->d_name);
	}
	closedir(d);
	close(dfd);
}

/* ------------------------------------------------------------------ opens */

int s3_open_file(struct backend *be, struct inode *ino, int flags, int *direct,
			void **priv)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	char key[CACHE_KEY_LEN + 1];
	struct s3open *o;
	struct stat sst;
	int fd, err, c;

	tl_pt_node = NULL;
	tl_pt_entry = NULL;
	if (n->is_dir)
		return -EISDIR;
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
	if (n->stage_fd >= 0) {
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

	/* the version to read: from the table when fresh, else a HEAD */
	err = s3_getattr(be, ino, -1, &sst);
	if (err)
		goto out_free;
	s3_inval_wait(sb, n); /* the kernel drops an older version's pages first */
	pthread_mutex_lock(&sb->ns_lock);
	o->size = n->size;
	snprintf(o->etag, sizeof(o->etag), "%s", n->etag);
	pthread_mutex_unlock(&sb->ns_lock);
	o->vbuf = malloc(sb->block_size);
	if (!o->vbuf) {
		err = -ENOMEM;
		goto out_free;
	}
	scrub_ensure(sb);
	object_cache_key(sb, n->key, o->etag, key);
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
		o->pinned = 1;
		tl_pt_node = n;
		tl_pt_entry = o->e;
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
		if (n->writers)
			n->writers--;
		if (!n->writers && n->stage_fd >= 0) {
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
		s3_note_stale_open(sb, n, o->etag);
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
	err = s3_stage_upload(sb, n);
	pthread_mutex_unlock(&n->lock);
	return err;
}

/*
 * The backing file for passthrough: only the complete cache file of a reader.  A staging
 * file never backs passthrough: its writes must reach the daemon (s3_write_note).
 */
int s3_open(struct backend *be, struct inode *ino, int flags)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);

	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	if (tl_pt_node == n && tl_pt_entry)
		return cache_open_data(sb->cache, tl_pt_entry, O_RDONLY | O_CLOEXEC);
	return -EACCES;
}

/*
 * O_EXCL against the store, not the listing the kernel's negative entry came from: another
 * client may have made the name within list_ttl.  A HEAD of the key and a LIST of "key/"
 * (a directory); either found is -EEXIST, and the table learns of the object.  A store
 * that cannot be asked fails the create (-EIO...).  What is left is the window between
 * this check and the upload at close (docs/s3.md).
 */
static int excl_check(struct s3be *sb, const char *key)
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
	else if (err == -ENOENT)
		err = 0; /* not even the bucket: nothing there; the upload at close will say */
	s3_list_page_free(&page);
	free(dkey);
	return err;
}

int s3_create(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		     int flags, const struct backend_cred *cred, struct backend_entry *out)
{
	struct s3be *sb = SB(be);
	struct s3node *d = s3_ino_node(be, dir), *n;
	struct s3_attrs a;
	char *key;
	int fd, err;

	if (strlen(name) > S3_NAME_MAX)
		return -ENAMETOOLONG;
	key = s3_child_key(d, name, 0);
	if (!key)
		return -ENOMEM;
	if (flags & O_EXCL) {
		err = excl_check(sb, key);
		if (err) {
			free(key);
			return err;
		}
	}
	s3_new_attrs(sb, d, S_IFREG | (mode & 07777), cred, &a);
	pthread_mutex_lock(&sb->ns_lock);
	n = s3_node_get_locked(sb, key, 0);
	if (n && !(n->exists && n->seen > 0)) {
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

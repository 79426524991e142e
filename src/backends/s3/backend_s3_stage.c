// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_stage.c - staging: the local file a written object lives in until its
 * upload, the upload at fsync and last close (decided by write generations), the kept
 * files of failed uploads, and the last uploads at unmount.
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
	n->stage_gen = n->vgen;
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
	int fd, err = 0, exists, orphan;

	pthread_mutex_lock(&sb->ns_lock);
	orphan = n->stage_fd >= 0 && n->stage_gen != n->vgen;
	pthread_mutex_unlock(&sb->ns_lock);
	if (orphan) {
		/* an unlinked file's, still open: theirs (their own descriptors), not this one's */
		s3_stage_drop(sb, n);
		n->writers = 0;
	}
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

		s3_object_cache_key(sb, n->key, st.etag, key);
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
 * The attributes @n's upload writes (caller holds n->lock): those it had (or was created
 * with), the staging file's mtime (@st: moved by the writes, or set by utimensat), ctime
 * now.
 */
static void stage_attrs(struct s3be *sb, struct s3node *n, const struct stat *st,
			struct s3_attrs *a)
{
	pthread_mutex_lock(&sb->ns_lock);
	*a = n->attrs;
	pthread_mutex_unlock(&sb->ns_lock);
	a->mtime = st->st_mtim;
	clock_gettime(CLOCK_REALTIME, &a->ctime);
	if (!(a->has & S3_ATTR_ATIME))
		a->atime = a->mtime;
	a->has |= S3_ATTR_MTIME | S3_ATTR_ATIME | S3_ATTR_CTIME;
}

/* Upload @n's staging file when dirty (caller holds n->lock), with stage_attrs(). */
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
	/* in this order (see s3_write_note() and s3_cache_adopt()) */
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
	stage_attrs(sb, n, &st, &a);
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
		s3_cache_adopt(sb, n, n->stage_fd, st.st_size, etag, gen, busy);
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
int s3_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/*
 * A new private file of the staging directory, written whole and then put in place:
 * @tmp opened for stdio, 0600, O_EXCL, never through a symlink.  NULL with *@err set.
 */
FILE *s3_staging_create(const char *tmp, int *err)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		*err = -errno;
		close(fd);
		unlink(tmp);
	}
	return f;
}

/*
 * Make @f (s3_staging_create(@tmp)) durable and rename it to @path; on error @tmp goes.
 * Returns 0 or -errno.  The caller fsyncs the directory when the name must last.
 */
int s3_staging_commit(FILE *f, const char *tmp, const char *path)
{
	int err = 0;

	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* The staging directory, for a walk: *@dfd and a DIR on a copy of it; NULL if neither. */
DIR *s3_staging_opendir(struct s3be *sb, int *dfd)
{
	DIR *d;

	*dfd = open(sb->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dfd < 0)
		return NULL;
	d = fdopendir(dup(*dfd));
	if (!d)
		close(*dfd);
	return d;
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
	struct s3_attr_hdrs h;
	struct s3_attrs a;
	struct stat st;
	int err = 0;
	FILE *f;
	size_t i;

	pthread_mutex_lock(&sb->ns_lock);
	snprintf(etag, sizeof(etag), "%s", n->exists && n->seen > 0 && n->etag[0] ? n->etag : "-");
	pthread_mutex_unlock(&sb->ns_lock);
	snprintf(kpath, sizeof(kpath), "%s.key", path);
	snprintf(tpath, sizeof(tpath), "%s.key.tmp", path);
	unlink(tpath);
	f = s3_staging_create(tpath, &err);
	if (!f)
		return err;
	fprintf(f, "s3://%s/%s\nendpoint %s\netag %s\n", sb->bucket, n->key, sb->endpoint, etag);
	/* the attributes its upload would carry, so that a later upload keeps them */
	memset(&a, 0, sizeof(a));
	if (!fstat(n->stage_fd, &st))
		stage_attrs(sb, n, &st, &a);
	s3_attrs_headers(&a, &h);
	for (i = 0; i < h.n; i++)
		fprintf(f, "meta %s:%s\n", h.kv[i].name + strlen("x-amz-meta-"), h.kv[i].value);
	return s3_staging_commit(f, tpath, kpath);
}

/*
 * Make @n's staged bytes durable under a name, with their key (caller holds n->lock).
 * Returns 0 or -errno (then nothing durable is promised).
 */
int s3_stage_persist(struct s3be *sb, struct s3node *n)
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
		return err ? err : s3_fsync_dir(sb->staging);
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
		return err ? err : s3_fsync_dir(sb->staging);
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
	return err ? err : s3_fsync_dir(sb->staging);
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
	s3_fsync_dir(sb->staging);
	free(n->stage_path);
	n->stage_path = NULL;
}

/* A failed upload of @n (caller holds n->lock): keep the bytes durable, or say why not. */
static void stage_failed(struct s3be *sb, struct s3node *n, int why)
{
	int err;

	if (n->unlinked)
		return;
	err = s3_stage_persist(sb, n);
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
 * The FUSE loop has ended: say at once what the unmount will upload, before the teardown
 * that comes first (threads joined, the session and the inode table freed), which a
 * loaded machine can make last seconds while `bpfuse umount --wait` is waiting.  No
 * request runs any more, so the nodes on the staged list stay.
 */
void s3_stage_report(struct s3be *sb)
{
	struct s3node *n;

	pthread_mutex_lock(&sb->ns_lock);
	n = sb->staged;
	pthread_mutex_unlock(&sb->ns_lock);
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	close_progress(sb, n);
	pthread_mutex_unlock(&n->lock);
}

/*
 * Unmount: upload every file still staged (written, or left by a failed upload at its
 * last close); what still cannot be uploaded stays kept (s3_stage_persist()) for the next
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

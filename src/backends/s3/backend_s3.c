// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3.c - the S3 backend: a bucket (and optional key prefix) as a directory tree.
 * This file: the design, the mutations (mknod, unlink, rmdir, rename, truncate, setattr,
 * symlinks) and the operation table; the mount and unmount are in backend_s3_mount.c, the
 * namespace in backend_s3_ns.c, opens in backend_s3_io.c (staging in backend_s3_stage.c),
 * changes behind the mount in backend_s3_inval.c.
 *
 * Namespace.  An object key is the path below the mount with '/' separators.  Directories
 * are the common prefixes of a delimited listing and zero-byte "dir/" marker objects
 * (mkdir writes one, rmdir deletes it).  Every key the mount has seen has one struct s3node
 * in a hash table (files by "a/b", directories by "a/b/"), shared by all the inodes and
 * entries that name it, so that metadata learnt from a listing is found by the LOOKUPs and
 * GETATTRs that follow it: readdirplus of a large directory costs LIST requests only.
 * A node's metadata is trusted for list_ttl seconds after the listing or HEAD that saw it;
 * a directory listed less than list_ttl ago answers "no such name" without a request.
 *
 * Reads.  Object bytes live in the cache store (cache.h) under a key made of (endpoint,
 * bucket, key, ETag), so a new version of an object never finds the old bytes.  An open of
 * an object that is complete and verified in the cache gets the cache data file as its
 * descriptor and is served by FUSE passthrough; otherwise reads come to read_file(), which
 * fetches the missing parts (part_size ranged GETs pinned to the ETag), stores them, and
 * serves from the cache, every block checked against its CRC32C.  Sequential readers get a
 * readahead window that doubles up to a cap, fetched by a small pool of threads; random
 * readers fetch only the parts they touch.  A block whose CRC fails is fetched again; when
 * the cache disk fails the bytes are served straight from S3 and counted.
 *
 * Writes.  An open for writing (and create) stages the file in <cache_dir>/staging as an
 * unnamed O_TMPFILE, filled with the object first unless truncated; the staging file is
 * the open's descriptor, never a passthrough backing file: every WRITE reaches the daemon
 * and bumps the file's write generation (s3_write_note()).  FLUSH (every close) and FSYNC
 * upload a staging file whose generation moved since its last upload (multipart above the
 * client's threshold) and answer only once S3 acknowledged it; the uploaded bytes are then
 * copied into the cache under the new ETag, unless a write ran meanwhile.  The staging
 * file is dropped at the last close once uploaded; when the upload fails it is kept (and
 * listed by readdir, like every file being written) until an upload succeeds, and made
 * durable before the failure is reported: named in the staging directory with a key file
 * (stage_persist()), which the next mount uploads if the daemon dies or the unmount cannot
 * (s3_stage_recover()).
 *
 * Changes behind the mount.  A HEAD or LIST that finds another version of a known object
 * removes the old version from the cache and drops the kernel's pages and attributes of
 * the file (backend_s3_inval.c).
 *
 * Metadata (-o posix_meta, the default).  Modes (with the file type), owners and times live
 * in each object's user metadata with s3fs's names and encodings (s3_client.h), so
 * symlinks (body = target), FIFOs, sockets and device nodes are objects too.  A listing
 * says nothing of them: a node only listed is HEADed once at its first LOOKUP or GETATTR
 * (s3_meta_need()), and READDIRPLUS leaves such entries to the kernel's LOOKUP.  chmod,
 * chown and utimensat are a copy of the object onto itself with the new metadata, or go up
 * with the bytes of a file being written.  Objects without metadata get the defaults
 * (0644 files, 0755 directories, the mounting user, mtime = LastModified).
 *
 * What S3 cannot do: hard links (EPERM); extended attributes (ENOTSUP); rename copies then
 * deletes every object it moves (a file, or all under a directory's prefix), journaled so
 * that a crash in the middle is settled by the next mount (backend_s3_rename.c);
 * RENAME_EXCHANGE is EINVAL.  See docs/s3.md.
 *
 * Locking: sb->ns_lock guards the hash table and every node's metadata (size, mtime, etag,
 * seen, exists, listed, refs); node->lock guards the staging state and is held across an
 * upload; sb->fetch_lock guards the in-flight part list and the readahead queue.  Order:
 * node->lock, then ns_lock or fetch_lock (never both of the latter); inval_lock is a leaf
 * taken under ns_lock.  sb->rename_lock comes first of all: a rename holds it while it
 * holds the locks of several nodes (the files being written under a moving directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ------------------------------------------------------------- mutations */

/*
 * A new object without bytes of its own or with a few (@body: a symlink's target), made
 * with one PUT carrying its attributes: directories ("dir/" markers), empty files, FIFOs,
 * sockets, device nodes (only on a mount without nodev), symlinks.
 */
static int s3_make(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		   dev_t rdev, const char *body, const struct backend_cred *cred,
		   struct backend_entry *out)
{
	struct s3be *sb = SB(be);
	struct s3node *d = s3_ino_node(be, dir), *n, *old;
	char etag[S3_ETAG_MAX] = "";
	int is_dir = S_ISDIR(mode), err;
	size_t blen = body ? strlen(body) : 0;
	struct s3_attrs a;
	char *key;

	if ((S_ISCHR(mode) || S_ISBLK(mode)) && sb->nodev)
		return -EPERM; /* device nodes: only where the mount lets them be used */
	if (!is_dir && !S_ISREG(mode) && !sb->posix_meta)
		return -EPERM; /* without metadata there is nothing to tell them by */
	err = s3_resolve(sb, d, name, &old);
	if (!err) {
		s3_node_put(sb, old);
		return -EEXIST;
	}
	if (err != -ENOENT)
		return err;
	key = s3_child_key(d, name, is_dir);
	if (!key)
		return -ENOMEM;
	s3_new_attrs(sb, d, mode, cred, &a);
	if (S_ISLNK(mode))
		a.mode = S_IFLNK | 0777; /* as s3fs and Linux: a symlink's mode is 0777 */
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		a.rdev = rdev;
		a.has |= S3_ATTR_RDEV;
	}
	stats_add(&sb->stats->s3_put, 1);
	err = s3_put_buf_attrs(sb->c, sb->bucket, key, blen ? body : "", blen, &a, etag);
	if (!err) {
		pthread_mutex_lock(&sb->ns_lock);
		n = s3_node_get_locked(sb, key, is_dir);
		if (n) {
			s3_node_set_meta_locked(n, (off_t)blen, time(NULL), etag, s3_now_mono());
			s3_node_attrs_locked(n, &a);
			n->meta_at = s3_now_mono();
			n->mtime_own = 1;
			free(n->link);
			n->link = body ? strdup(body) : NULL;
		}
		/* a new directory is known to be empty: lookups in it need no request */
		if (n && is_dir)
			n->listed = n->seen;
		pthread_mutex_unlock(&sb->ns_lock);
		if (!n)
			err = -ENOMEM;
		else
			s3_fill_entry(sb, n, out);
		s3_dir_changed(sb, d);
	}
	free(key);
	return err;
}

static int s3_mknod(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		    dev_t rdev, const struct backend_cred *cred, struct backend_entry *out)
{
	if (S_ISLNK(mode))
		return -EINVAL;
	return s3_make(be, dir, name, mode, rdev, NULL, cred, out);
}

static int s3_unlink(struct backend *be, struct inode *dir, const char *name)
{
	struct s3be *sb = SB(be);
	struct s3node *n;
	int err;

	err = s3_resolve(sb, s3_ino_node(be, dir), name, &n);
	if (err)
		return err;
	if (n->is_dir) {
		s3_node_put(sb, n);
		return -EISDIR;
	}
	err = s3_do_delete(sb, n->key);
	if (!err) {
		pthread_mutex_lock(&n->lock);
		n->unlinked = 1;
		n->stage_dirty = 0;
		s3_stage_forget(sb, n); /* deleted: kept bytes of a failed upload too */
		pthread_mutex_unlock(&n->lock);
		pthread_mutex_lock(&sb->ns_lock);
		s3_node_gone_locked(n);
		n->seen = s3_now_mono();
		pthread_mutex_unlock(&sb->ns_lock);
		s3_dir_changed(sb, s3_ino_node(be, dir));
	}
	s3_node_put(sb, n);
	return err;
}

/*
 * 0 when the directory @n holds nothing but its own marker (*@marker, may be NULL: 1 when
 * it has one), -ENOTEMPTY when it holds more (in the bucket, not the listing, or being
 * written here), or -errno.
 */
static int s3_dir_empty(struct s3be *sb, struct s3node *n, int *marker)
{
	struct s3_list_page page;
	size_t i;
	int err;

	err = s3_do_list(sb, n->key, NULL, 2, NULL, &page);
	for (i = 0; !err && i < page.nobjects; i++)
		if (strcmp(page.objects[i].key, n->key))
			err = -ENOTEMPTY;
		else if (marker)
			*marker = 1;
	if (!err && page.nprefixes)
		err = -ENOTEMPTY;
	s3_list_page_free(&page);
	if (!err) {
		/* files being written in it, not uploaded yet, are in it too */
		size_t kl = strlen(n->key);
		struct s3node *s;

		pthread_mutex_lock(&sb->ns_lock);
		for (s = sb->staged; s && !err; s = s->staged_next)
			if (!strncmp(s->key, n->key, kl) && s->key[kl] && s->exists &&
			    !__atomic_load_n(&s->unlinked, __ATOMIC_RELAXED))
				err = -ENOTEMPTY;
		pthread_mutex_unlock(&sb->ns_lock);
	}
	return err;
}

static int s3_rmdir(struct backend *be, struct inode *dir, const char *name)
{
	struct s3be *sb = SB(be);
	struct s3node *n;
	int err;

	err = s3_resolve(sb, s3_ino_node(be, dir), name, &n);
	if (err)
		return err;
	if (!n->is_dir) {
		s3_node_put(sb, n);
		return -ENOTDIR;
	}
	err = s3_dir_empty(sb, n, NULL);
	if (!err)
		err = s3_do_delete(sb, n->key);
	if (!err) {
		pthread_mutex_lock(&sb->ns_lock);
		s3_node_gone_locked(n);
		n->seen = s3_now_mono();
		n->listed = 0;
		pthread_mutex_unlock(&sb->ns_lock);
		s3_dir_changed(sb, s3_ino_node(be, dir));
	}
	s3_node_put(sb, n);
	return err;
}

/*
 * rename(2) as POSIX says, as far as S3 lets us (the moving itself, journaled, is in
 * backend_s3_rename.c): a file over a file replaces it, a directory over an empty
 * directory replaces it; a directory over a file ENOTDIR, a file over a directory EISDIR, a
 * directory over a non-empty one ENOTEMPTY; RENAME_NOREPLACE over anything EEXIST.
 * RENAME_EXCHANGE (and RENAME_WHITEOUT): EINVAL, as file systems without it answer.
 * The kernel checks most of these itself from its dentries; these are for names it had to
 * look up, or that changed behind it.
 */
static int s3_rename(struct backend *be, struct inode *dir, const char *name,
		     struct inode *newdir, const char *newname, unsigned int flags)
{
	struct s3be *sb = SB(be);
	struct s3node *src, *t;
	int err, keep_target = 0;
	char *dkey = NULL;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	err = s3_resolve(sb, s3_ino_node(be, dir), name, &src);
	if (err)
		return err;
	err = s3_resolve(sb, s3_ino_node(be, newdir), newname, &t);
	if (!err) {
		if (t == src)
			err = 1; /* the same object: nothing to do */
		else if (flags & RENAME_NOREPLACE)
			err = -EEXIST;
		else if (src->is_dir && !t->is_dir)
			err = -ENOTDIR;
		else if (!src->is_dir && t->is_dir)
			err = -EISDIR;
		else if (t->is_dir)
			err = s3_dir_empty(sb, t, &keep_target);
		s3_node_put(sb, t);
	} else if (err == -ENOENT) {
		err = 0;
	}
	if (!err) {
		dkey = s3_child_key(s3_ino_node(be, newdir), newname, src->is_dir);
		if (!dkey)
			err = -ENOMEM;
		else if (src->is_dir && !strncmp(dkey, src->key, strlen(src->key)))
			err = -EINVAL; /* into itself (the kernel checks this too) */
	}
	if (!err && strcmp(src->key, dkey)) {
		err = s3_rename_move(sb, src, dkey, keep_target);
		if (!err) {
			s3_dir_changed(sb, s3_ino_node(be, dir));
			s3_dir_changed(sb, s3_ino_node(be, newdir));
		}
	}
	free(dkey);
	s3_node_put(sb, src);
	return err > 0 ? 0 : err;
}

#define S3_SET_META (BACKEND_SET_MODE | BACKEND_SET_UID | BACKEND_SET_GID | BACKEND_SET_ATIME | \
		     BACKEND_SET_MTIME | BACKEND_SET_ATIME_NOW | BACKEND_SET_MTIME_NOW)

/* The attributes @n has after the change @attr/@to_set of what it shows now, @cur. */
static void attrs_apply(const struct s3node *n, const struct stat *cur, const struct stat *attr,
			int to_set, struct s3_attrs *a)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(a, 0, sizeof(*a));
	a->mode = cur->st_mode;
	a->uid = cur->st_uid;
	a->gid = cur->st_gid;
	a->atime = cur->st_atim;
	a->mtime = cur->st_mtim;
	if (to_set & BACKEND_SET_MODE)
		a->mode = (cur->st_mode & S_IFMT) | (attr->st_mode & 07777);
	if (to_set & BACKEND_SET_UID)
		a->uid = attr->st_uid;
	if (to_set & BACKEND_SET_GID)
		a->gid = attr->st_gid;
	if (to_set & BACKEND_SET_ATIME_NOW)
		a->atime = now;
	else if (to_set & BACKEND_SET_ATIME)
		a->atime = attr->st_atim;
	if (to_set & BACKEND_SET_MTIME_NOW)
		a->mtime = now;
	else if (to_set & BACKEND_SET_MTIME)
		a->mtime = attr->st_mtim;
	a->ctime = now;
	a->has = S3_ATTR_MODE | S3_ATTR_UID | S3_ATTR_GID | S3_ATTR_MTIME | S3_ATTR_ATIME |
		 S3_ATTR_CTIME;
	if (n->attrs.has & S3_ATTR_RDEV) {
		a->rdev = n->attrs.rdev;
		a->has |= S3_ATTR_RDEV;
	}
}

/*
 * Write @a onto the object of @n in the bucket: a copy onto itself with the new metadata
 * (no bytes move), or for a directory without a marker, a new marker.  Durable when it
 * returns.  An object that changes between the HEAD and the copy is asked again, once.
 */
static int meta_store(struct s3be *sb, struct s3node *n, const struct s3_attrs *a)
{
	char etag[S3_ETAG_MAX] = "";
	struct s3_stat *hs;
	double t0;
	int err, tries = 0;

	hs = malloc(sizeof(*hs));
	if (!hs)
		return -ENOMEM;
again:
	t0 = s3_now_mono();
	err = s3_do_head(sb, n->key, hs);
	if (err == -ENOENT && n->is_dir) {
		stats_add(&sb->stats->s3_put, 1);
		err = s3_put_buf_attrs(sb->c, sb->bucket, n->key, "", 0, a, etag);
	} else if (!err) {
		stats_add(&sb->stats->s3_copy, 1);
		err = s3_set_attrs(sb->c, sb->bucket, n->key, hs, a, etag);
		if (err == -ESTALE && !tries++)
			goto again;
	}
	if (!err) {
		pthread_mutex_lock(&sb->ns_lock);
		if (!n->is_dir)
			s3_node_seen_locked(sb, n, hs->size, time(NULL), etag[0] ? etag : hs->etag,
					    t0, 1);
		s3_node_attrs_locked(n, a);
		n->meta_at = t0;
		/* times set on a directory win over those its entries moved */
		n->dir_changed.tv_sec = n->dir_changed.tv_nsec = 0;
		pthread_mutex_unlock(&sb->ns_lock);
	}
	free(hs);
	return err;
}

/*
 * chmod, chown, utimensat (-o posix_meta): the attributes go into the object's metadata
 * at once, except on a file whose written bytes are not uploaded yet: they go up with
 * them (at close or fsync).  Permissions were checked by the kernel (default_permissions,
 * which allow_other forces; without it only root uses the mount).  The mount's root
 * directory has no object of its own (a bucket) and keeps the defaults: accepted, ignored.
 */
static int setattr_meta(struct backend *be, struct inode *ino, const struct stat *attr,
			int to_set)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	struct timespec ts[2];
	struct s3_attrs a;
	struct stat cur;
	int err, pending = 0;

	if (!sb->posix_meta || !n->key[0])
		return 0;
	err = s3_getattr(be, ino, -1, &cur);
	if (err)
		return err;
	attrs_apply(n, &cur, attr, to_set, &a);
	ts[0] = a.atime;
	ts[1] = a.mtime;
	if (!n->is_dir) {
		pthread_mutex_lock(&n->lock);
		if (s3_node_stale(sb, n, ino)) {
			/*
			 * An unlinked file still open, or an old version: nothing would keep
			 * them.  chmod(2) and the others by path retry with a new lookup.
			 */
			pthread_mutex_unlock(&n->lock);
			return -ESTALE;
		}
		if (n->stage_fd >= 0) {
			/* stat of a staged file shows the staging file's mtime */
			if ((to_set & (BACKEND_SET_MTIME | BACKEND_SET_MTIME_NOW)) &&
			    futimens(n->stage_fd, ts)) {
				err = -errno;
				pthread_mutex_unlock(&n->lock);
				return err;
			}
			pending = n->stage_dirty ||
				  __atomic_load_n(&n->wgen, __ATOMIC_SEQ_CST) != n->ugen;
			if (pending) {
				pthread_mutex_lock(&sb->ns_lock);
				s3_node_attrs_locked(n, &a);
				pthread_mutex_unlock(&sb->ns_lock);
			}
		}
		pthread_mutex_unlock(&n->lock);
		if (pending)
			return 0;
	}
	return meta_store(sb, n, &a);
}

static int s3_setattr(struct backend *be, struct inode *ino, int fd, const struct stat *attr,
		      int to_set)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	int err = 0, temp = 0;

	if (!(to_set & BACKEND_SET_SIZE))
		return (to_set & S3_SET_META) ? setattr_meta(be, ino, attr, to_set) : 0;
	if (n->is_dir)
		return -EISDIR;
	pthread_mutex_lock(&n->lock);
	if (s3_node_stale(sb, n, ino)) {
		/*
		 * ftruncate of an unlinked file still open: its own bytes, never uploaded;
		 * truncate(2) by path retries with a new lookup
		 */
		err = fd < 0 ? -ESTALE : ftruncate(fd, attr->st_size) ? -errno : 0;
		pthread_mutex_unlock(&n->lock);
		return err;
	}
	if (n->stage_fd < 0) {
		err = s3_stage_begin(sb, n, attr->st_size == 0);
		temp = 1;
	}
	if (!err && ftruncate(n->stage_fd, attr->st_size))
		err = -errno;
	if (!err)
		n->stage_dirty = 1;
	if (!err && (temp || !n->writers))
		err = s3_stage_upload(sb, n);
	if (temp && !n->writers) { /* a failed truncate was reported: not kept */
		if (err)
			s3_stage_forget(sb, n);
		s3_stage_drop(sb, n);
	}
	pthread_mutex_unlock(&n->lock);
	if (!err && (to_set & S3_SET_META))
		err = setattr_meta(be, ino, attr, to_set);
	return err;
}

static int s3_link(struct backend *be, struct inode *ino, struct inode *newdir,
		   const char *newname, struct backend_entry *out)
{
	return -EPERM; /* no hard links in S3 */
}

/* A symlink is an object whose body is the target, of mode S_IFLNK|0777 (as s3fs). */
static int s3_symlink(struct backend *be, struct inode *dir, const char *name, const char *target,
		      const struct backend_cred *cred, struct backend_entry *out)
{
	if (!SB(be)->posix_meta)
		return -EPERM; /* a listing cannot tell it from a file */
	if (!*target || strlen(target) >= PATH_MAX)
		return -ENAMETOOLONG;
	return s3_make(be, dir, name, S_IFLNK | 0777, 0, target, cred, out);
}

/* The target: the object's body, read once per version (a GET of its few bytes). */
static int s3_readlink(struct backend *be, struct inode *ino, char *buf, size_t size)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	char etag[S3_ETAG_MAX];
	ssize_t got;
	off_t osize;
	size_t len;
	int err;

	err = s3_meta_need(sb, n);
	if (err)
		return err;
	pthread_mutex_lock(&sb->ns_lock);
	if (n->is_dir || !(n->attrs.has & S3_ATTR_MODE) || !S_ISLNK(n->attrs.mode)) {
		pthread_mutex_unlock(&sb->ns_lock);
		return -EINVAL;
	}
	if (n->link) {
		len = strlen(n->link);
		memcpy(buf, n->link, len < size ? len : size);
		pthread_mutex_unlock(&sb->ns_lock);
		return (int)len;
	}
	osize = n->size;
	memcpy(etag, n->etag, sizeof(etag));
	pthread_mutex_unlock(&sb->ns_lock);
	/* a size the server sends is checked before anything is read into @buf */
	if (osize <= 0 || osize >= PATH_MAX || (size_t)osize > size)
		return -EIO;
	stats_add(&sb->stats->s3_get, 1);
	got = s3_get_range(sb->c, sb->bucket, n->key, 0, (size_t)osize, buf, etag);
	if (got < 0)
		return (int)got;
	if (got != osize || memchr(buf, '\0', (size_t)got))
		return -EIO;
	pthread_mutex_lock(&sb->ns_lock);
	if (!n->link && !strcmp(etag, n->etag))
		n->link = strndup(buf, (size_t)got);
	pthread_mutex_unlock(&sb->ns_lock);
	return (int)got;
}

static int s3_statfs(struct backend *be, struct inode *ino, struct statvfs *st)
{
	memset(st, 0, sizeof(*st));
	st->f_bsize = 1 << 20;
	st->f_frsize = 1 << 20;
	st->f_blocks = 1ULL << 30; /* 1 EiB: S3 has no fixed size */
	st->f_bfree = st->f_bavail = 1ULL << 30;
	st->f_files = st->f_ffree = st->f_favail = 1ULL << 32;
	st->f_namemax = 255;
	return 0;
}

static int s3_setxattr(struct backend *be, struct inode *ino, const char *name, const char *value,
		       size_t size, int flags)
{
	return -ENOTSUP;
}

static int s3_getxattr(struct backend *be, struct inode *ino, const char *name, char *buf,
		       size_t size)
{
	return -ENOTSUP;
}

static int s3_listxattr(struct backend *be, struct inode *ino, char *buf, size_t size)
{
	return 0; /* no attributes */
}

static int s3_removexattr(struct backend *be, struct inode *ino, const char *name)
{
	return -ENOTSUP;
}

static int s3_access(struct backend *be, struct inode *ino, int mask)
{
	return 0;
}

static int s3_path_fd(struct backend *be, struct inode *ino)
{
	return -EOPNOTSUPP; /* nothing local to watch */
}

static int s3_open_root(struct backend *be, struct backend_entry *out)
{
	struct s3be *sb = SB(be);

	s3_fill_entry(sb, sb->root, out);
	out->handle = NULL; /* the root inode keeps no handle: s3_ino_node() knows it */
	return 0;
}

static void s3_release_inode(struct backend *be, struct inode *ino)
{
	if (ino->handle)
		s3_node_put(SB(be), ino->handle);
	ino->handle = NULL;
}

/* The FUSE loop has ended; the session goes next. */
static void s3_stop(struct backend *be)
{
	s3_prefetch_stop(SB(be)); /* the queue dropped: the unmount waits for no prefetch */
	s3_stage_report(SB(be)); /* what the unmount uploads, for `bpfuse umount` */
	s3_inval_stop(SB(be));
}

static void s3_release_entry(struct backend *be, struct backend_entry *e)
{
	if (e->handle)
		s3_node_put(SB(be), e->handle);
	e->handle = NULL;
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

const struct backend_ops backend_s3_ops = {
	.name = "s3",
	.open_root = s3_open_root,
	.release_inode = s3_release_inode,
	.release_entry = s3_release_entry,
	.path_fd = s3_path_fd,
	.lookup = s3_lookup,
	.getattr = s3_getattr,
	.setattr = s3_setattr,
	.readlink = s3_readlink,
	.mknod = s3_mknod,
	.symlink = s3_symlink,
	.link = s3_link,
	.unlink = s3_unlink,
	.rmdir = s3_rmdir,
	.rename = s3_rename,
	.open = s3_open,
	.create = s3_create,
	.opendir = s3_prefetch_opendir, /* s3_opendir(), then the files queued for prefetch */
	.readdir = s3_readdir,
	.closedir = s3_closedir,
	.statfs = s3_statfs,
	.setxattr = s3_setxattr,
	.getxattr = s3_getxattr,
	.listxattr = s3_listxattr,
	.removexattr = s3_removexattr,
	.access = s3_access,
	.open_file = s3_open_file,
	.read_file = s3_read_file,
	.flush_file = s3_flush_file,
	.release_file = s3_release_file,
	.copy_file = s3_copy_file,
	.seek_file = s3_seek_file,
	.fallocate_file = s3_fallocate_file,
	.write_note = s3_write_note,
	/* writes reach the daemon, which counts them (no passthrough on staging files) */
	.create_direct = BACKEND_OPEN_READ_FILE,
	.entry_lazy = s3_entry_lazy,
	/*
	 * the in-kernel fast path: deadlines by list_ttl, complete cache files for OPEN,
	 * the verified blocks of partly cached ones for READ
	 */
	.fastpath_check = s3_fastpath_check,
	.fastpath_hold = s3_fastpath_hold,
	.fastpath_unhold = s3_fastpath_unhold,
	.fastpath_blocks_hold = s3_fastpath_blocks_hold,
	.fastpath_blocks_ready = s3_fastpath_blocks_ready,
	.fastpath_blocks_unhold = s3_fastpath_blocks_unhold,
	.stop = s3_stop,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3.c - the S3 backend: a bucket (and optional key prefix) as a directory tree.
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
 * the open's descriptor and the passthrough backing file, so writes never reach the
 * daemon.  FLUSH (every close) and FSYNC upload a dirty staging file (multipart above the
 * client's threshold) and answer only once S3 acknowledged it; the uploaded bytes are then
 * copied into the cache under the new ETag.  The staging file is dropped at the last close
 * once uploaded; when the upload fails it is kept (and listed by readdir, like every file
 * being written) until an upload succeeds, and at unmount what still fails is kept as a
 * named file in the staging directory (s3_stage_close_all()).
 *
 * Changes behind the mount.  A HEAD or LIST that finds another version of a known object
 * removes the old version from the cache and drops the kernel's pages and attributes of
 * the file (backend_s3_inval.c).
 *
 * What S3 cannot do: hard links and symlinks, device nodes (EPERM); extended attributes
 * (ENOTSUP); modes, owners and times are fixed (0644 files, 0755 directories, the mounting
 * user, mtime = LastModified) and chmod/chown/utimes are accepted and ignored, so that
 * cp -a, tar and rsync -a work; rename of a file is a copy then a delete (not atomic),
 * rename of a directory is EXDEV (mv falls back to copying).  See docs/s3.md.
 *
 * Locking: sb->ns_lock guards the hash table and every node's metadata (size, mtime, etag,
 * seen, exists, listed, refs); node->lock guards the staging state and is held across an
 * upload; sb->fetch_lock guards the in-flight part list and the readahead queue.  Order:
 * node->lock, then ns_lock or fetch_lock (never both of the latter); inval_lock is a leaf
 * taken under ns_lock.
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
#include "config.h"
#include "fs.h"
#include "log.h"
#include "s3_client.h"
#include "s3_cred.h"
#include "backend_s3_priv.h"



static uint64_t s3_key_hash_u64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a with a final avalanche (splitmix64): the inode number of a key. */
uint64_t s3_key_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h ? h : 1;
}

/* ------------------------------------------------------------------ nodes */

/* Find or make the node of @key; takes a reference.  Caller holds ns_lock. */
struct s3node *s3_node_get_locked(struct s3be *sb, const char *key, int is_dir)
{
	uint64_t h = s3_key_hash(key);
	size_t b = h & (sb->nbuckets - 1);
	struct s3node *n;

	for (n = sb->tbl[b]; n; n = n->next)
		if (n->hash == h && !strcmp(n->key, key)) {
			n->refs++;
			return n;
		}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->key = strdup(key);
	if (!n->key) {
		free(n);
		return NULL;
	}
	n->is_dir = is_dir;
	n->hash = h;
	n->ino = h;
	n->refs = 1;
	n->stage_fd = -1;
	pthread_mutex_init(&n->lock, NULL);
	n->next = sb->tbl[b];
	sb->tbl[b] = n;
	return n;
}

/* Find without making or referencing.  Caller holds ns_lock. */
static struct s3node *node_find_locked(struct s3be *sb, const char *key)
{
	uint64_t h = s3_key_hash(key);
	struct s3node *n;

	for (n = sb->tbl[h & (sb->nbuckets - 1)]; n; n = n->next)
		if (n->hash == h && !strcmp(n->key, key))
			return n;
	return NULL;
}

/*
 * Drop a reference.  Nodes stay in the table at 0 references, as the listing cache; they
 * are freed when the backend closes.
 */
void s3_node_put(struct s3be *sb, struct s3node *n)
{
	pthread_mutex_lock(&sb->ns_lock);
	if (n->refs)
		n->refs--;
	pthread_mutex_unlock(&sb->ns_lock);
}

static void node_free(struct s3node *n)
{
	if (n->stage_fd >= 0)
		close(n->stage_fd);
	pthread_mutex_destroy(&n->lock);
	free(n->key);
	free(n);
}

/* Take @n out of the hash table (caller holds ns_lock); it lives on for its references. */
static void node_unhash_locked(struct s3be *sb, struct s3node *n)
{
	struct s3node **pp;

	for (pp = &sb->tbl[n->hash & (sb->nbuckets - 1)]; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	n->next = NULL;
}

/*
 * Rename support (caller holds ns_lock): @n now answers to @newkey, keeping its inode
 * identity, so the kernel's inode (which rename moved to the new name) stays right.  A node
 * already at @newkey (the file overwritten) leaves the table; @n's old key gets an absent
 * placeholder with a new inode number, so a file made there later is a new inode.  Old key
 * strings are kept until close: other threads may be reading them.
 */
static int node_rekey_locked(struct s3be *sb, struct s3node *n, const char *newkey)
{
	struct s3node *old = node_find_locked(sb, newkey), *ph;
	char *k = strdup(newkey), *oldkey = n->key;

	if (!k)
		return -ENOMEM;
	if (old && old != n) {
		node_unhash_locked(sb, old);
		old->exists = 0;
		/* its open writers must not upload over the renamed file */
		__atomic_store_n(&old->unlinked, 1, __ATOMIC_RELAXED);
		old->next = sb->graveyard;
		sb->graveyard = old;
	}
	node_unhash_locked(sb, n);
	ph = s3_node_get_locked(sb, oldkey, n->is_dir);
	if (ph) {
		ph->refs--;
		ph->ino = s3_key_hash(oldkey) ^ s3_key_hash_u64(++sb->gen);
		ph->exists = 0;
		ph->seen = s3_now_mono();
	}
	n->key = k;
	n->hash = s3_key_hash(k);
	n->next = sb->tbl[n->hash & (sb->nbuckets - 1)];
	sb->tbl[n->hash & (sb->nbuckets - 1)] = n;
	/* the old string goes to a graveyard node of its own */
	ph = calloc(1, sizeof(*ph));
	if (ph) {
		ph->key = oldkey;
		ph->stage_fd = -1;
		pthread_mutex_init(&ph->lock, NULL);
		ph->next = sb->graveyard;
		sb->graveyard = ph;
	}
	return 0;
}

/* Record what a listing or HEAD said of a file.  Caller holds ns_lock. */
void s3_node_set_meta_locked(struct s3node *n, off_t size, time_t mtime, const char *etag,
				 double seen)
{
	n->size = size;
	n->mtime = mtime;
	snprintf(n->etag, sizeof(n->etag), "%s", etag ? etag : "");
	n->seen = seen;
	n->exists = 1;
}

struct s3node *s3_ino_node(struct backend *be, struct inode *ino)
{
	return ino->handle ? ino->handle : SB(be)->root;
}

static void fill_stat(struct s3be *sb, struct s3node *n, off_t size, time_t mtime,
		      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_dev = S3_DEV;
	st->st_uid = sb->uid;
	st->st_gid = sb->gid;
	st->st_blksize = 1 << 20;
	if (n->is_dir) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		mtime = sb->mount_time;
	} else {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = size;
		st->st_blocks = (size + 511) / 512;
	}
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = mtime;
}

void s3_fill_entry(struct s3be *sb, struct s3node *n, struct backend_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->key.dev = S3_DEV;
	out->key.ino = n->ino;
	out->fd = -1;
	out->handle = n;
	pthread_mutex_lock(&sb->ns_lock);
	fill_stat(sb, n, n->size, n->mtime, &out->st);
	pthread_mutex_unlock(&sb->ns_lock);
}

/* @dir's key + @name (+ "/" when @slash) into a new string, or NULL. */
char *s3_child_key(struct s3node *dir, const char *name, int slash)
{
	size_t dl = strlen(dir->key), nl = strlen(name);
	char *k = malloc(dl + nl + 2);

	if (!k)
		return NULL;
	memcpy(k, dir->key, dl);
	memcpy(k + dl, name, nl);
	if (slash)
		k[dl + nl++] = '/';
	k[dl + nl] = '\0';
	return k;
}

/* -------------------------------------------------------- counted requests */

static int do_head(struct s3be *sb, const char *key, struct s3_stat *st)
{
	stats_add(&sb->stats->s3_head, 1);
	return s3_head(sb->c, sb->bucket, key, st);
}

static int do_list(struct s3be *sb, const char *prefix, const char *delim, unsigned int max,
		   const char *token, struct s3_list_page *page)
{
	stats_add(&sb->stats->s3_list, 1);
	return s3_list(sb->c, sb->bucket, prefix, delim, max, token, page);
}

static int do_delete(struct s3be *sb, const char *key)
{
	stats_add(&sb->stats->s3_delete, 1);
	return s3_delete(sb->c, sb->bucket, key);
}

/* ----------------------------------------------------------------- lookup */

/*
 * Resolve @name in @dir: from the table when a listing or HEAD vouched for it less than
 * list_ttl ago (or the directory was listed that recently and it was not in it), else with
 * a HEAD of the file and, failing that, a one-key LIST of the directory prefix.
 * Returns the node referenced, or -errno.
 */
static int resolve(struct s3be *sb, struct s3node *dir, const char *name, struct s3node **out)
{
	char *fkey = NULL, *dkey = NULL;
	struct s3node *fn, *dn, *n = NULL;
	struct s3_list_page page;
	struct s3_stat st;
	double now = s3_now_mono(), t0;
	int listed, err;

	if (strlen(name) > S3_NAME_MAX)
		return -ENAMETOOLONG;
	fkey = s3_child_key(dir, name, 0);
	dkey = s3_child_key(dir, name, 1);
	err = -ENOMEM;
	if (!fkey || !dkey)
		goto out;

	pthread_mutex_lock(&sb->ns_lock);
	listed = dir->listed > 0 && now - dir->listed < sb->list_ttl;
	dn = node_find_locked(sb, dkey);
	fn = node_find_locked(sb, fkey);
	if (fn && __atomic_load_n(&fn->stage_fd, __ATOMIC_RELAXED) >= 0 &&
	    !__atomic_load_n(&fn->unlinked, __ATOMIC_RELAXED) && fn->exists) {
		/* being written here: it exists whatever a listing said */
		n = fn;
	} else if (dn && dn->seen > 0 && now - dn->seen < sb->list_ttl &&
		   (!listed || dn->seen >= dir->listed)) {
		if (dn->exists)
			n = dn;
	}
	if (!n && fn && fn->seen > 0 && now - fn->seen < sb->list_ttl &&
	    (!listed || fn->seen >= dir->listed)) {
		if (fn->exists)
			n = fn;
		else if (!listed) {
			pthread_mutex_unlock(&sb->ns_lock);
			err = -ENOENT;
			goto out;
		}
	}
	if (n) {
		n->refs++;
		pthread_mutex_unlock(&sb->ns_lock);
		*out = n;
		err = 0;
		goto out;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	if (listed) {
		err = -ENOENT;
		goto out;
	}

	t0 = s3_now_mono();
	err = do_head(sb, fkey, &st);
	if (!err) {
		pthread_mutex_lock(&sb->ns_lock);
		n = s3_node_get_locked(sb, fkey, 0);
		if (n)
			s3_node_seen_locked(sb, n, st.size, st.mtime, st.etag, t0, 0);
		pthread_mutex_unlock(&sb->ns_lock);
		err = n ? 0 : -ENOMEM;
		*out = n;
		goto out;
	}
	if (err != -ENOENT)
		goto out;
	err = do_list(sb, dkey, "/", 1, NULL, &page);
	if (!err && (page.nobjects || page.nprefixes)) {
		pthread_mutex_lock(&sb->ns_lock);
		n = s3_node_get_locked(sb, dkey, 1);
		if (n) {
			n->seen = t0;
			n->exists = 1;
		}
		pthread_mutex_unlock(&sb->ns_lock);
		err = n ? 0 : -ENOMEM;
		*out = n;
	} else if (!err) {
		err = -ENOENT;
	}
	s3_list_page_free(&page);
out:
	free(fkey);
	free(dkey);
	return err;
}

static int s3_lookup(struct backend *be, struct inode *dir, const char *name,
		     struct backend_entry *out)
{
	struct s3be *sb = SB(be);
	struct s3node *n;
	int err;

	err = resolve(sb, s3_ino_node(be, dir), name, &n);
	if (err)
		return err;
	s3_fill_entry(sb, n, out);
	if (!n->is_dir) {
		struct stat st;

		pthread_mutex_lock(&n->lock);
		if (n->stage_fd >= 0 && !fstat(n->stage_fd, &st)) {
			out->st.st_size = st.st_size;
			out->st.st_blocks = (st.st_size + 511) / 512;
			out->st.st_mtim = out->st.st_ctim = st.st_mtim;
		}
		pthread_mutex_unlock(&n->lock);
	}
	return 0;
}

int s3_getattr(struct backend *be, struct inode *ino, int fd, struct stat *st)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	struct s3_stat hs;
	struct stat sst;
	double now = s3_now_mono();
	int err, fresh;

	if (n->is_dir) {
		fill_stat(sb, n, 0, 0, st);
		return 0;
	}
	pthread_mutex_lock(&n->lock);
	if (n->stage_fd >= 0 && !fstat(n->stage_fd, &sst)) {
		pthread_mutex_unlock(&n->lock);
		fill_stat(sb, n, sst.st_size, 0, st);
		st->st_mtim = st->st_ctim = sst.st_mtim;
		return 0;
	}
	pthread_mutex_unlock(&n->lock);
	pthread_mutex_lock(&sb->ns_lock);
	fresh = n->seen > 0 && now - n->seen < sb->list_ttl;
	if (fresh && !n->exists) {
		pthread_mutex_unlock(&sb->ns_lock);
		return -ENOENT;
	}
	if (fresh) {
		fill_stat(sb, n, n->size, n->mtime, st);
		pthread_mutex_unlock(&sb->ns_lock);
		return 0;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	err = do_head(sb, n->key, &hs);
	pthread_mutex_lock(&sb->ns_lock);
	if (!err)
		s3_node_seen_locked(sb, n, hs.size, hs.mtime, hs.etag, now, 0);
	else if (err == -ENOENT) {
		n->exists = 0;
		n->seen = now;
	}
	if (!err)
		fill_stat(sb, n, n->size, n->mtime, st);
	pthread_mutex_unlock(&sb->ns_lock);
	return err;
}

/* ---------------------------------------------------------------- readdir */

struct s3dirent_rec {
	char *name;
	int is_dir;
	uint64_t ino;
};

struct s3dir {
	struct s3dirent_rec *ents;
	size_t n, cap;
	uint64_t self_ino;
	struct dirent de;
	char name_buf[S3_NAME_MAX + 1];
};

struct list_ctx {
	struct s3be *sb;
	struct s3node *dir;
	struct s3dir *d;
	double t0;
	size_t plen;
};

static int dir_add(struct s3dir *d, const char *name, size_t len, int is_dir, uint64_t ino)
{
	if (!len || len > S3_NAME_MAX || memchr(name, '/', len) ||
	    (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0; /* not representable as a name: skipped */
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct s3dirent_rec *p = realloc(d->ents, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		d->ents = p;
		d->cap = cap;
	}
	d->ents[d->n].name = strndup(name, len);
	if (!d->ents[d->n].name)
		return -ENOMEM;
	d->ents[d->n].is_dir = is_dir;
	d->ents[d->n].ino = ino;
	d->n++;
	return 0;
}

static int list_page_cb(void *arg, const struct s3_list_page *page)
{
	struct list_ctx *lc = arg;
	struct s3be *sb = lc->sb;
	size_t i;
	int err = 0;

	stats_add(&sb->stats->s3_list, 1);
	pthread_mutex_lock(&sb->ns_lock);
	for (i = 0; i < page->nobjects && !err; i++) {
		const struct s3_object *o = &page->objects[i];
		const char *name = o->key + lc->plen;
		struct s3node *n;

		if (strlen(o->key) <= lc->plen || strchr(name, '/'))
			continue; /* the directory's own marker */
		n = s3_node_get_locked(sb, o->key, 0);
		if (!n) {
			err = -ENOMEM;
			break;
		}
		n->refs--;
		s3_node_seen_locked(sb, n, o->size, o->mtime, o->etag, lc->t0, 0);
		err = dir_add(lc->d, name, strlen(name), 0, n->ino);
	}
	for (i = 0; i < page->nprefixes && !err; i++) {
		const char *p = page->prefixes[i];
		size_t len = strlen(p);
		struct s3node *n;

		if (len <= lc->plen + 1)
			continue;
		n = s3_node_get_locked(sb, p, 1);
		if (!n) {
			err = -ENOMEM;
			break;
		}
		n->refs--;
		n->seen = lc->t0;
		n->exists = 1;
		err = dir_add(lc->d, p + lc->plen, len - lc->plen - 1, 1, n->ino);
	}
	pthread_mutex_unlock(&sb->ns_lock);
	return err;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct s3dirent_rec *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : y->is_dir - x->is_dir; /* a directory first: it shadows the file */
}

static void s3dir_free(struct s3dir *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	free(d);
}

static int s3_opendir(struct backend *be, struct inode *ino, struct backend_dir *bd)
{
	struct s3be *sb = SB(be);
	struct s3node *dir = s3_ino_node(be, ino);
	struct list_ctx lc = { sb, dir, NULL, s3_now_mono(), strlen(dir->key) };
	struct s3node *n;
	size_t i, j;
	int err;

	lc.d = calloc(1, sizeof(*lc.d));
	if (!lc.d)
		return -ENOMEM;
	lc.d->self_ino = dir->ino;
	err = s3_list_all(sb->c, sb->bucket, dir->key[0] ? dir->key : NULL, "/", 1000,
			  list_page_cb, &lc);
	if (err) {
		s3dir_free(lc.d);
		return err;
	}
	/* files being written here and not uploaded yet are in the directory too */
	pthread_mutex_lock(&sb->ns_lock);
	for (n = sb->staged; n && !err; n = n->staged_next) {
		const char *name = n->key + lc.plen;

		if (strncmp(n->key, dir->key, lc.plen) || !*name || strchr(name, '/') ||
		    !n->exists || __atomic_load_n(&n->unlinked, __ATOMIC_RELAXED))
			continue;
		err = dir_add(lc.d, name, strlen(name), 0, n->ino);
	}
	pthread_mutex_unlock(&sb->ns_lock);
	if (err) {
		s3dir_free(lc.d);
		return err;
	}
	qsort(lc.d->ents, lc.d->n, sizeof(lc.d->ents[0]), rec_cmp);
	for (i = j = 0; i < lc.d->n; i++) {
		if (j && !strcmp(lc.d->ents[j - 1].name, lc.d->ents[i].name)) {
			free(lc.d->ents[i].name);
			continue;
		}
		lc.d->ents[j++] = lc.d->ents[i];
	}
	lc.d->n = j;
	pthread_mutex_lock(&sb->ns_lock);
	dir->listed = lc.t0;
	pthread_mutex_unlock(&sb->ns_lock);
	bd->priv = lc.d;
	bd->dp = NULL;
	bd->offset = 0;
	return 0;
}

static int s3_readdir(struct backend *be, struct backend_dir *bd, off_t off, struct dirent **ent)
{
	struct s3dir *d = bd->priv;
	const char *name;
	uint64_t ino;
	int type;

	if (off < 0 || (size_t)off >= d->n + 2)
		return 0;
	if (off < 2) {
		name = off ? ".." : ".";
		ino = d->self_ino;
		type = DT_DIR;
	} else {
		name = d->ents[off - 2].name;
		ino = d->ents[off - 2].ino;
		type = d->ents[off - 2].is_dir ? DT_DIR : DT_REG;
	}
	memset(&d->de, 0, sizeof(d->de));
	d->de.d_ino = ino;
	d->de.d_off = off + 1;
	d->de.d_type = (unsigned char)type;
	snprintf(d->de.d_name, sizeof(d->de.d_name), "%s", name);
	bd->offset = off + 1;
	*ent = &d->de;
	return 1;
}

static void s3_closedir(struct backend *be, struct backend_dir *bd)
{
	s3dir_free(bd->priv);
	bd->priv = NULL;
}

/* ------------------------------------------------------------- mutations */

static int s3_mknod(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		    dev_t rdev, const struct backend_cred *cred, struct backend_entry *out)
{
	struct s3be *sb = SB(be);
	struct s3node *d = s3_ino_node(be, dir), *n, *old;
	char etag[S3_ETAG_MAX] = "";
	int is_dir = S_ISDIR(mode), err;
	char *key;

	if (!is_dir && !S_ISREG(mode))
		return -EPERM; /* no device nodes, fifos or sockets in S3 */
	err = resolve(sb, d, name, &old);
	if (!err) {
		s3_node_put(sb, old);
		return -EEXIST;
	}
	if (err != -ENOENT)
		return err;
	key = s3_child_key(d, name, is_dir);
	if (!key)
		return -ENOMEM;
	stats_add(&sb->stats->s3_put, 1);
	err = s3_put_buf(sb->c, sb->bucket, key, "", 0, etag);
	if (!err) {
		pthread_mutex_lock(&sb->ns_lock);
		n = s3_node_get_locked(sb, key, is_dir);
		if (n)
			s3_node_set_meta_locked(n, 0, time(NULL), etag, s3_now_mono());
		/* a new directory is known to be empty: lookups in it need no request */
		if (n && is_dir)
			n->listed = n->seen;
		pthread_mutex_unlock(&sb->ns_lock);
		if (!n)
			err = -ENOMEM;
		else
			s3_fill_entry(sb, n, out);
	}
	free(key);
	return err;
}

static int s3_unlink(struct backend *be, struct inode *dir, const char *name)
{
	struct s3be *sb = SB(be);
	struct s3node *n;
	int err;

	err = resolve(sb, s3_ino_node(be, dir), name, &n);
	if (err)
		return err;
	if (n->is_dir) {
		s3_node_put(sb, n);
		return -EISDIR;
	}
	err = do_delete(sb, n->key);
	if (!err) {
		pthread_mutex_lock(&n->lock);
		n->unlinked = 1;
		n->stage_dirty = 0;
		pthread_mutex_unlock(&n->lock);
		pthread_mutex_lock(&sb->ns_lock);
		n->exists = 0;
		n->seen = s3_now_mono();
		pthread_mutex_unlock(&sb->ns_lock);
	}
	s3_node_put(sb, n);
	return err;
}

static int s3_rmdir(struct backend *be, struct inode *dir, const char *name)
{
	struct s3be *sb = SB(be);
	struct s3_list_page page;
	struct s3node *n;
	size_t i;
	int err;

	err = resolve(sb, s3_ino_node(be, dir), name, &n);
	if (err)
		return err;
	if (!n->is_dir) {
		s3_node_put(sb, n);
		return -ENOTDIR;
	}
	err = do_list(sb, n->key, NULL, 2, NULL, &page);
	for (i = 0; !err && i < page.nobjects; i++)
		if (strcmp(page.objects[i].key, n->key))
			err = -ENOTEMPTY;
	if (!err && page.nprefixes)
		err = -ENOTEMPTY;
	s3_list_page_free(&page);
	if (!err)
		err = do_delete(sb, n->key);
	if (!err) {
		pthread_mutex_lock(&sb->ns_lock);
		n->exists = 0;
		n->seen = s3_now_mono();
		n->listed = 0;
		pthread_mutex_unlock(&sb->ns_lock);
	}
	s3_node_put(sb, n);
	return err;
}

static int s3_rename(struct backend *be, struct inode *dir, const char *name,
		     struct inode *newdir, const char *newname, unsigned int flags)
{
	struct s3be *sb = SB(be);
	struct s3node *src, *t;
	char etag[S3_ETAG_MAX] = "";
	char *dkey;
	int err;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT: not on S3 */
	err = resolve(sb, s3_ino_node(be, dir), name, &src);
	if (err)
		return err;
	if (src->is_dir) {
		s3_node_put(sb, src);
		return -EXDEV; /* mv copies directories itself */
	}
	err = resolve(sb, s3_ino_node(be, newdir), newname, &t);
	if (!err) {
		int is_dir = t->is_dir;

		s3_node_put(sb, t);
		if (flags & RENAME_NOREPLACE) {
			s3_node_put(sb, src);
			return -EEXIST;
		}
		if (is_dir) {
			s3_node_put(sb, src);
			return -EISDIR;
		}
	} else if (err != -ENOENT) {
		s3_node_put(sb, src);
		return err;
	}
	dkey = s3_child_key(s3_ino_node(be, newdir), newname, 0);
	if (!dkey) {
		s3_node_put(sb, src);
		return -ENOMEM;
	}
	/* bytes still being written go up first */
	pthread_mutex_lock(&src->lock);
	err = s3_stage_upload(sb, src);
	pthread_mutex_unlock(&src->lock);
	if (!err && strcmp(src->key, dkey)) {
		stats_add(&sb->stats->s3_copy, 1);
		err = s3_copy(sb->c, sb->bucket, src->key, sb->bucket, dkey, etag);
		if (!err)
			err = do_delete(sb, src->key);
	}
	if (!err && strcmp(src->key, dkey)) {
		pthread_mutex_lock(&sb->ns_lock);
		err = node_rekey_locked(sb, src, dkey);
		if (!err)
			s3_node_set_meta_locked(src, src->size, time(NULL), etag[0] ? etag : src->etag,
					     s3_now_mono());
		pthread_mutex_unlock(&sb->ns_lock);
	}
	free(dkey);
	s3_node_put(sb, src);
	return err;
}

static int s3_setattr(struct backend *be, struct inode *ino, int fd, const struct stat *attr,
		      int to_set)
{
	struct s3be *sb = SB(be);
	struct s3node *n = s3_ino_node(be, ino);
	int err = 0, temp = 0;

	/* modes, owners and times are not stored in S3: accepted and ignored */
	if (!(to_set & BACKEND_SET_SIZE))
		return 0;
	if (n->is_dir)
		return -EISDIR;
	pthread_mutex_lock(&n->lock);
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
	if (temp && !n->writers) /* a failed truncate was reported: not kept */
		s3_stage_drop(sb, n);
	pthread_mutex_unlock(&n->lock);
	return err;
}

static int s3_link(struct backend *be, struct inode *ino, struct inode *newdir,
		   const char *newname, struct backend_entry *out)
{
	return -EPERM; /* no hard links in S3 */
}

static int s3_symlink(struct backend *be, struct inode *dir, const char *name, const char *target,
		      const struct backend_cred *cred, struct backend_entry *out)
{
	return -EPERM; /* no symbolic links in S3 */
}

static int s3_readlink(struct backend *be, struct inode *ino, char *buf, size_t size)
{
	return -EINVAL;
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
	.opendir = s3_opendir,
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
	.stop = s3_stop,
};

/* ------------------------------------------------------------- open/close */

static const char *mount_errmsg(int err)
{
	switch (err) {
	case -ENOENT:
		return "the bucket does not exist";
	case -EACCES:
		return "access denied (check the credentials: AWS_ACCESS_KEY_ID, "
		       "AWS_SECRET_ACCESS_KEY, AWS_PROFILE)";
	case -EIO:
		return "the endpoint cannot be reached or keeps failing";
	default:
		return strerror(-err);
	}
}

int backend_s3_open(struct backend *be, const struct config *cfg, struct stats *stats)
{
	struct s3_client_opts opts;
	struct cache_limits lim = { 0 };
	struct s3_list_page page;
	struct s3_sign_cred cred;
	struct s3_env env;
	struct s3be *sb;
	int err;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	be->priv = sb;
	be->ops = &backend_s3_ops;
	sb->be = be;
	sb->stats = stats;
	s3_inval_init(sb);
	pthread_mutex_init(&sb->ns_lock, NULL);
	pthread_mutex_init(&sb->fetch_lock, NULL);
	pthread_cond_init(&sb->fetch_cond, NULL);
	pthread_cond_init(&sb->job_cond, NULL);
	sb->nbuckets = 1 << 16;
	sb->tbl = calloc(sb->nbuckets, sizeof(*sb->tbl));
	if (!sb->tbl)
		return -ENOMEM;
	snprintf(sb->bucket, sizeof(sb->bucket), "%s", cfg->s3_bucket);
	snprintf(sb->prefix, sizeof(sb->prefix), "%s", cfg->s3_prefix);
	sb->list_ttl = cfg->list_ttl_s;
	sb->uid = getuid();
	sb->gid = getgid();
	sb->mount_time = time(NULL);

	err = s3_env_load(&env);
	if (err == -ENOKEY) {
		pr_err("cannot mount s3://%s: no S3 credentials (set AWS_ACCESS_KEY_ID and "
		       "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)", sb->bucket);
		s3_env_clear(&env);
		return err;
	}
	if (err) {
		s3_env_clear(&env);
		return err;
	}
	snprintf(sb->endpoint, sizeof(sb->endpoint), "%s",
		 cfg->s3_endpoint[0] ? cfg->s3_endpoint : env.endpoint);
	if (!sb->endpoint[0])
		snprintf(sb->endpoint, sizeof(sb->endpoint), "https://s3.%s.amazonaws.com",
			 cfg->s3_region[0] ? cfg->s3_region : env.region);
	s3_client_opts_init(&opts);
	/* interactive mounts: fail a dead endpoint in seconds, not minutes (docs/s3.md) */
	opts.http.connect_timeout_ms = 2000;
	opts.http.low_speed_time_s = 5;
	opts.http.max_retries = 2;
	opts.http.backoff_max_ms = 1000;
	opts.http.path_style = cfg->s3_path_style;
	opts.get_threads = 8;
	cred.access_key = env.access_key;
	cred.secret_key = env.secret_key;
	cred.session_token = env.session_token[0] ? env.session_token : NULL;
	err = s3_client_new(&sb->c, sb->endpoint, cfg->s3_region[0] ? cfg->s3_region : env.region,
			    &cred, &opts);
	s3_env_clear(&env);
	if (err) {
		pr_err("cannot mount s3://%s: cannot set up the S3 client: %s", sb->bucket,
		       strerror(-err));
		return err;
	}

	/* one LIST proves the endpoint, the keys and the bucket before anything is mounted */
	err = s3_list(sb->c, sb->bucket, sb->prefix[0] ? sb->prefix : NULL, "/", 1, NULL, &page);
	s3_list_page_free(&page);
	if (err) {
		pr_err("cannot mount s3://%s at %s: %s", sb->bucket, sb->endpoint,
		       mount_errmsg(err));
		return err;
	}

	lim.max_bytes = cfg->cache_size_bytes;
	lim.min_free_ratio = 0.05;
	lim.block_size = CACHE_DEFAULT_BLOCK_SIZE;
	if (mkdir(cfg->cache_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create cache dir '%s': %s", cfg->cache_dir, strerror(-err));
		return err;
	}
	err = cache_open(&sb->cache, cfg->cache_dir, &lim);
	if (err) {
		if (err == -EBUSY)
			pr_err("cache dir '%s' is in use by another mount (use -o cache_dir=)",
			       cfg->cache_dir);
		return err;
	}
	sb->block_size = cache_block_size(sb->cache);
	if ((size_t)snprintf(sb->staging, sizeof(sb->staging), "%.*s/staging", PATH_MAX - 16,
			     cfg->cache_dir) >= sizeof(sb->staging))
		return -ENAMETOOLONG;
	if (mkdir(sb->staging, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create '%s': %s", sb->staging, strerror(-err));
		return err;
	}

	pthread_mutex_lock(&sb->ns_lock);
	sb->root = s3_node_get_locked(sb, sb->prefix, 1);
	if (sb->root) {
		sb->root->exists = 1;
		sb->root->seen = s3_now_mono();
	}
	pthread_mutex_unlock(&sb->ns_lock);
	if (!sb->root)
		return -ENOMEM;
	s3_sync_cache_stats(sb);
	return 0;
}

void backend_s3_close(struct backend *be)
{
	struct s3be *sb = SB(be);
	struct fetch_job *j;
	size_t i;
	int t;

	if (!sb)
		return;
	pthread_mutex_lock(&sb->fetch_lock);
	sb->stop = 1;
	pthread_cond_broadcast(&sb->job_cond);
	pthread_mutex_unlock(&sb->fetch_lock);
	for (t = 0; t < sb->nthreads; t++)
		pthread_join(sb->threads[t], NULL);
	while ((j = sb->jobs)) {
		sb->jobs = j->next;
		s3_open_put(sb, j->o);
		free(j);
	}
	/* what is still staged is uploaded now, or kept (and said so) */
	if (sb->cache && sb->c)
		s3_stage_close_all(sb);
	s3_inval_destroy(sb);
	if (sb->cache)
		cache_close(sb->cache);
	s3_client_free(sb->c);
	for (i = 0; sb->tbl && i < sb->nbuckets; i++) {
		struct s3node *n, *next;

		for (n = sb->tbl[i]; n; n = next) {
			next = n->next;
			node_free(n);
		}
	}
	free(sb->tbl);
	while (sb->graveyard) {
		struct s3node *n = sb->graveyard;

		sb->graveyard = n->next;
		node_free(n);
	}
	pthread_mutex_destroy(&sb->ns_lock);
	pthread_mutex_destroy(&sb->fetch_lock);
	pthread_cond_destroy(&sb->fetch_cond);
	pthread_cond_destroy(&sb->job_cond);
	free(sb);
	be->priv = NULL;
}

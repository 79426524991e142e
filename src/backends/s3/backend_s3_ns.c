// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_ns.c - the namespace of the S3 backend: the node table (one struct s3node per
 * key seen, shared by every inode and entry naming it, also the listing cache), the
 * counted requests, name resolution (lookup, getattr: HEAD and one-key LISTs after
 * list_ttl) and directory listings (readdir: delimited LIST pages, plus the files being
 * written here).  The design and the lock order are at the top of backend_s3.c; the
 * mutations and the mount are there too.
 */
#include <errno.h>
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
#include "s3_client.h"
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

void s3_node_free(struct s3node *n)
{
	if (n->stage_fd >= 0)
		close(n->stage_fd);
	pthread_mutex_destroy(&n->lock);
	free(n->stage_path);
	free(n->link);
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
int s3_node_rekey_locked(struct s3be *sb, struct s3node *n, const char *newkey)
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

/*
 * @n is known absent now (caller holds ns_lock): a file made at its key later is another
 * object, an inode of its own, even while the kernel still holds the old one open.  A file
 * being written here exists, and stays the same file, whatever the bucket says (a HEAD of
 * an older generation's inode may find the key gone); our own unlink marks it unlinked
 * first.
 */
void s3_node_gone_locked(struct s3node *n)
{
	if (s3_staged_for(n, n->vgen) && !__atomic_load_n(&n->unlinked, __ATOMIC_RELAXED))
		return;
	if (n->exists)
		n->vgen++;
	n->exists = 0;
}

/*
 * Is @ino an older generation of @n (another client's version came since, or the object
 * went): -ESTALE for its opens, which the kernel's path walk then retries with a LOOKUP
 * (LOOKUP_REVAL) that names the current one.
 */
int s3_node_stale(struct s3be *sb, struct s3node *n, const struct inode *ino)
{
	int stale;

	pthread_mutex_lock(&sb->ns_lock);
	stale = ino->key.gen != n->vgen;
	pthread_mutex_unlock(&sb->ns_lock);
	return stale;
}

/*
 * The attributes of @n (caller holds ns_lock): those of its user metadata where it has
 * them, else the mount's defaults (files 0644, directories 0755, the mounting user, the
 * mtime LastModified, directories the mount time).  A key's type is fixed by its name: a
 * "dir/" key is a directory whatever its mode says, a file key is never one.
 */
static void fill_stat(struct s3be *sb, struct s3node *n, off_t size, time_t mtime,
		      struct stat *st)
{
	const struct s3_attrs *a = &n->attrs;
	mode_t type;

	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_dev = S3_DEV;
	st->st_uid = (a->has & S3_ATTR_UID) ? a->uid : sb->uid;
	st->st_gid = (a->has & S3_ATTR_GID) ? a->gid : sb->gid;
	st->st_blksize = 1 << 20;
	if (n->is_dir) {
		st->st_mode = S_IFDIR | ((a->has & S3_ATTR_MODE) ? a->mode & 07777 : 0755);
		st->st_nlink = 2;
		mtime = sb->mount_time;
	} else {
		type = (a->has & S3_ATTR_MODE) ? a->mode & S_IFMT : S_IFREG;
		if (type == S_IFDIR || !type)
			type = S_IFREG;
		st->st_mode = type | ((a->has & S3_ATTR_MODE) ? a->mode & 07777 : 0644);
		/* unlinked while open: fstat says so */
		st->st_nlink = __atomic_load_n(&n->unlinked, __ATOMIC_RELAXED) ? 0 : 1;
		st->st_size = size;
		st->st_blocks = (size + 511) / 512;
		if ((type == S_IFCHR || type == S_IFBLK) && (a->has & S3_ATTR_RDEV))
			st->st_rdev = a->rdev;
	}
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec = mtime;
	if (a->has & S3_ATTR_MTIME)
		st->st_mtim = st->st_atim = st->st_ctim = a->mtime;
	if (a->has & S3_ATTR_ATIME)
		st->st_atim = a->atime;
	if (a->has & S3_ATTR_CTIME)
		st->st_ctim = a->ctime;
	if (n->is_dir && (n->dir_changed.tv_sec > st->st_mtim.tv_sec ||
			  (n->dir_changed.tv_sec == st->st_mtim.tv_sec &&
			   n->dir_changed.tv_nsec > st->st_mtim.tv_nsec)))
		st->st_mtim = st->st_ctim = n->dir_changed;
}

/* The attributes a HEAD (or our own write) gave @n's version.  Caller holds ns_lock. */
void s3_node_attrs_locked(struct s3node *n, const struct s3_attrs *a)
{
	n->attrs = *a;
	n->meta_known = 1;
}

/*
 * Make sure @n's POSIX attributes are known (-o posix_meta): a listing says nothing of
 * them, so a node seen only in one costs one HEAD, once per version (a listing or HEAD
 * that shows another ETag or LastModified makes them unknown again).  A directory's are
 * on its "dir/" marker; one without a marker has the defaults.  Returns 0, -ENOENT when
 * the file is gone, or the HEAD's error.
 */
int s3_meta_need(struct s3be *sb, struct s3node *n)
{
	struct s3_stat *hs;
	double t0;
	int err;

	pthread_mutex_lock(&sb->ns_lock);
	/* a marker has no listing to tell of its changes: read again after list_ttl */
	if (n->is_dir && n->meta_known && s3_now_mono() - n->meta_at >= sb->list_ttl)
		n->meta_known = 0;
	if (!sb->posix_meta || n->meta_known || !n->exists || !n->key[0] ||
	    __atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) >= 0) {
		pthread_mutex_unlock(&sb->ns_lock);
		return 0;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	hs = malloc(sizeof(*hs));
	if (!hs)
		return -ENOMEM;
	t0 = s3_now_mono();
	err = s3_do_head(sb, n->key, hs);
	pthread_mutex_lock(&sb->ns_lock);
	if (!err) {
		if (!n->is_dir)
			sb->seen_locked(sb, n, hs->size, hs->mtime, hs->etag, t0, 0);
		s3_node_attrs_locked(n, &hs->attrs);
		n->meta_at = t0;
	} else if (err == -ENOENT && n->is_dir) {
		struct s3_attrs none = { 0 };

		s3_node_attrs_locked(n, &none); /* a prefix without marker */
		n->meta_at = t0;
		err = 0;
	} else if (err == -ENOENT) {
		s3_node_gone_locked(n);
		n->seen = t0;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	free(hs);
	return err;
}

void s3_fill_entry(struct s3be *sb, struct s3node *n, struct backend_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->key.dev = S3_DEV;
	out->key.ino = n->ino;
	out->fd = -1;
	out->handle = n;
	pthread_mutex_lock(&sb->ns_lock);
	out->key.gen = n->vgen; /* with the attributes of that generation */
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

int s3_do_head(struct s3be *sb, const char *key, struct s3_stat *st)
{
	stats_add(&sb->stats->s3_head, 1);
	return s3_head(sb->c, sb->bucket, key, st);
}

int s3_do_list(struct s3be *sb, const char *prefix, const char *delim, unsigned int max,
	       const char *token, struct s3_list_page *page)
{
	stats_add(&sb->stats->s3_list, 1);
	return s3_list(sb->c, sb->bucket, prefix, delim, max, token, page);
}

int s3_do_delete(struct s3be *sb, const char *key)
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
int s3_resolve(struct s3be *sb, struct s3node *dir, const char *name, struct s3node **out)
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
	err = s3_do_head(sb, fkey, &st);
	if (!err) {
		pthread_mutex_lock(&sb->ns_lock);
		n = s3_node_get_locked(sb, fkey, 0);
		if (n) {
			sb->seen_locked(sb, n, st.size, st.mtime, st.etag, t0, 0);
			s3_node_attrs_locked(n, &st.attrs);
		}
		pthread_mutex_unlock(&sb->ns_lock);
		err = n ? 0 : -ENOMEM;
		*out = n;
		goto out;
	}
	if (err != -ENOENT)
		goto out;
	err = s3_do_list(sb, dkey, "/", 1, NULL, &page);
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

int s3_lookup(struct backend *be, struct inode *dir, const char *name,
	      struct backend_entry *out)
{
	struct s3be *sb = SB(be);
	struct s3node *n;
	int err;

	err = s3_resolve(sb, s3_ino_node(be, dir), name, &n);
	if (err)
		return err;
	/* the kernel takes the type from here, and it never changes for an inode */
	err = s3_meta_need(sb, n);
	if (err) {
		s3_node_put(sb, n);
		return err;
	}
	s3_fill_entry(sb, n, out);
	if (!n->is_dir) {
		struct stat st;

		pthread_mutex_lock(&n->lock);
		if (s3_staged_for(n, out->key.gen) && !fstat(n->stage_fd, &st)) {
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
		err = s3_meta_need(sb, n);
		if (err)
			return err;
		pthread_mutex_lock(&sb->ns_lock);
		fill_stat(sb, n, 0, 0, st);
		pthread_mutex_unlock(&sb->ns_lock);
		return 0;
	}
	pthread_mutex_lock(&n->lock);
	if (s3_staged_for(n, ino->key.gen) && !fstat(n->stage_fd, &sst)) {
		pthread_mutex_unlock(&n->lock);
		pthread_mutex_lock(&sb->ns_lock);
		fill_stat(sb, n, sst.st_size, 0, st);
		pthread_mutex_unlock(&sb->ns_lock);
		/* the staging file's mtime moves with the writes (and utimensat sets it) */
		st->st_mtim = sst.st_mtim;
		return 0;
	}
	pthread_mutex_unlock(&n->lock);
	pthread_mutex_lock(&sb->ns_lock);
	fresh = n->seen > 0 && now - n->seen < sb->list_ttl;
	if (fresh && !n->exists) {
		pthread_mutex_unlock(&sb->ns_lock);
		return -ENOENT;
	}
	if (fresh && (n->meta_known || !sb->posix_meta)) {
		fill_stat(sb, n, n->size, n->mtime, st);
		pthread_mutex_unlock(&sb->ns_lock);
		return 0;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	err = s3_do_head(sb, n->key, &hs);
	pthread_mutex_lock(&sb->ns_lock);
	if (!err) {
		sb->seen_locked(sb, n, hs.size, hs.mtime, hs.etag, now, 0);
		s3_node_attrs_locked(n, &hs.attrs);
	} else if (err == -ENOENT) {
		s3_node_gone_locked(n);
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
	unsigned char type;      /* DT_* of a file: DT_UNKNOWN before a HEAD (posix_meta) */
	int lazy;                /* its attributes cost a HEAD (s3_entry_lazy()) */
	uint64_t ino;
};

struct s3dir {
	struct s3dirent_rec *ents;
	size_t n, cap;
	uint64_t self_ino;
	struct s3node *dir;      /* the directory listed (its inode holds it while open) */
	int served;              /* entries past the first were asked for: offset 0 = rewind */
	struct dirent de;
	int de_lazy;             /* of the entry in de */
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
	d->ents[d->n].type = is_dir ? DT_DIR : DT_REG;
	d->ents[d->n].lazy = 0;
	d->ents[d->n].ino = ino;
	d->n++;
	return 0;
}

/*
 * The d_type of file node @n (caller holds ns_lock): DT_UNKNOWN while its attributes are
 * unknown, so that READDIRPLUS leaves it to a LOOKUP (and its HEAD) when someone asks.
 */
static unsigned char node_dtype_locked(struct s3be *sb, struct s3node *n)
{
	if (!sb->posix_meta)
		return DT_REG;
	if (!n->meta_known && __atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) < 0)
		return DT_UNKNOWN;
	if (!(n->attrs.has & S3_ATTR_MODE) || S_ISDIR(n->attrs.mode) || !(n->attrs.mode & S_IFMT))
		return DT_REG;
	return (unsigned char)IFTODT(n->attrs.mode);
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
		sb->seen_locked(sb, n, o->size, o->mtime, o->etag, lc->t0, 0);
		err = dir_add(lc->d, name, strlen(name), 0, n->ino);
		if (!err) {
			lc->d->ents[lc->d->n - 1].type = node_dtype_locked(sb, n);
			lc->d->ents[lc->d->n - 1].lazy = sb->posix_meta && !n->meta_known;
		}
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
		if (!err)
			lc->d->ents[lc->d->n - 1].lazy = sb->posix_meta && !n->meta_known;
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

/* List @dir into @bd (a new snapshot of the directory). */
static int dir_list(struct s3be *sb, struct s3node *dir, struct backend_dir *bd)
{
	struct list_ctx lc = { sb, dir, NULL, s3_now_mono(), strlen(dir->key) };
	struct s3node *n;
	size_t i, j;
	int err;

	lc.d = calloc(1, sizeof(*lc.d));
	if (!lc.d)
		return -ENOMEM;
	lc.d->self_ino = dir->ino;
	lc.d->dir = dir;
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
		if (!err)
			lc.d->ents[lc.d->n - 1].type = node_dtype_locked(sb, n);
	}
	pthread_mutex_unlock(&sb->ns_lock);
	if (err) {
		s3dir_free(lc.d);
		return err;
	}
	if (lc.d->n) /* an empty prefix has no array: qsort(NULL, 0, ...) is undefined */
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
	bd->offset = 0;
	return 0;
}

int s3_opendir(struct backend *be, struct inode *ino, struct backend_dir *bd)
{
	return dir_list(SB(be), s3_ino_node(be, ino), bd);
}

int s3_readdir(struct backend *be, struct backend_dir *bd, off_t off, struct dirent **ent)
{
	struct s3dir *d = bd->priv;
	const char *name;
	uint64_t ino;
	int type;

	if (off == 0 && d->served) {
		/* rewinddir(): names made or removed since the opendir show (POSIX) */
		struct backend_dir nd = { 0 };
		int err = dir_list(SB(be), d->dir, &nd);

		if (err)
			return err;
		s3dir_free(d);
		bd->priv = d = nd.priv;
	}
	if (off > 0)
		d->served = 1;
	if (off < 0 || (size_t)off >= d->n + 2)
		return 0;
	d->de_lazy = 0;
	if (off < 2) {
		name = off ? ".." : ".";
		ino = d->self_ino;
		type = DT_DIR;
	} else {
		d->de_lazy = d->ents[off - 2].lazy;
		name = d->ents[off - 2].name;
		ino = d->ents[off - 2].ino;
		type = d->ents[off - 2].type;
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

/*
 * The file nodes of the listing @bd, in its order, each with a reference (the caller
 * drops them with s3_node_put() and frees the array).  Returns how many; 0 also when
 * memory ran out (nothing is lost: the caller only prefetches them).
 */
size_t s3_dir_files(struct s3be *sb, struct backend_dir *bd, struct s3node ***out)
{
	struct s3dir *d = bd->priv;
	struct s3node **v;
	size_t i, n = 0;

	*out = NULL;
	if (!d->n)
		return 0;
	v = calloc(d->n, sizeof(*v));
	if (!v)
		return 0;
	pthread_mutex_lock(&sb->ns_lock);
	for (i = 0; i < d->n; i++) {
		struct s3node *f;
		char *key;

		if (d->ents[i].is_dir || (d->ents[i].type != DT_REG && d->ents[i].type != DT_UNKNOWN))
			continue;
		key = s3_child_key(d->dir, d->ents[i].name, 0);
		if (!key)
			break;
		f = node_find_locked(sb, key);
		free(key);
		if (!f || f->is_dir || f->ino != d->ents[i].ino)
			continue;
		f->refs++;
		v[n++] = f;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	if (!n) {
		free(v);
		return 0;
	}
	*out = v;
	return n;
}

int s3_entry_lazy(struct backend *be, struct backend_dir *bd)
{
	return ((struct s3dir *)bd->priv)->de_lazy;
}

void s3_closedir(struct backend *be, struct backend_dir *bd)
{
	s3dir_free(bd->priv);
	bd->priv = NULL;
}

/* ------------------------------------------- attributes of new and changed nodes */

/* The attributes of a new object in @dir: the creator's, the mode less its umask. */
void s3_new_attrs(struct s3be *sb, struct s3node *dir, mode_t mode,
		  const struct backend_cred *cred, struct s3_attrs *a)
{
	mode_t dmode;
	gid_t dgid;
	int dhas;

	memset(a, 0, sizeof(*a));
	pthread_mutex_lock(&sb->ns_lock);
	dhas = dir->attrs.has;
	dmode = dir->attrs.mode;
	dgid = (dhas & S3_ATTR_GID) ? dir->attrs.gid : sb->gid;
	pthread_mutex_unlock(&sb->ns_lock);
	a->mode = (mode & S_IFMT) | (mode & 07777 & ~(cred ? cred->umask : 0));
	a->uid = cred ? cred->uid : sb->uid;
	a->gid = cred ? cred->gid : sb->gid;
	/* a set-group-ID directory gives its group, and to new directories the bit */
	if ((dhas & S3_ATTR_MODE) && (dmode & S_ISGID)) {
		a->gid = dgid;
		if (S_ISDIR(mode))
			a->mode |= S_ISGID;
	}
	clock_gettime(CLOCK_REALTIME, &a->mtime);
	a->atime = a->ctime = a->mtime;
	a->has = S3_ATTR_MODE | S3_ATTR_UID | S3_ATTR_GID | S3_ATTR_MTIME | S3_ATTR_ATIME |
		 S3_ATTR_CTIME;
}

/*
 * An entry was made in or removed from @dir through this mount: its mtime and ctime move,
 * as a local directory's do, in memory only (no request per entry; the marker keeps the
 * times last set on it, as s3fs's by default).  Caller holds no lock.
 */
void s3_dir_changed(struct s3be *sb, struct s3node *dir)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&sb->ns_lock);
	dir->dir_changed = now;
	pthread_mutex_unlock(&sb->ns_lock);
}

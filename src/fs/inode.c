// SPDX-License-Identifier: GPL-2.0
#include "inode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INODE_TABLE_MIN_BUCKETS 1024

static size_t hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	v ^= v >> 33;
	return (size_t)v;
}

static size_t hash_key(const struct inode_key *k)
{
	return hash_u64(k->ino ^ hash_u64(k->dev));
}

/* The generations of one number share a chain: they differ by gen alone. */
static int key_eq(const struct inode_key *a, const struct inode_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->gen == b->gen;
}

int inode_table_init(struct inode_table *tbl, inode_release_fn release, void *arg)
{
	memset(tbl, 0, sizeof(*tbl));
	tbl->nbuckets = INODE_TABLE_MIN_BUCKETS;
	tbl->by_id = calloc(tbl->nbuckets, sizeof(*tbl->by_id));
	tbl->by_key = calloc(tbl->nbuckets, sizeof(*tbl->by_key));
	if (!tbl->by_id || !tbl->by_key) {
		free(tbl->by_id);
		free(tbl->by_key);
		return -ENOMEM;
	}
	pthread_mutex_init(&tbl->lock, NULL);
	tbl->next_nodeid = INODE_ROOT_ID + 1;
	tbl->release = release;
	tbl->release_arg = arg;
	return 0;
}

static void inode_free(struct inode_table *tbl, struct inode *ino)
{
	if (tbl->release)
		tbl->release(ino, tbl->release_arg);
	pthread_mutex_destroy(&ino->lock);
	free(ino);
}

void inode_table_release(struct inode_table *tbl)
{
	size_t i;

	if (!tbl->by_id)
		return;
	for (i = 0; i < tbl->nbuckets; i++) {
		struct inode *ino = tbl->by_id[i], *next;

		for (; ino; ino = next) {
			next = ino->next_id;
			inode_free(tbl, ino);
		}
	}
	free(tbl->by_id);
	free(tbl->by_key);
	tbl->by_id = tbl->by_key = NULL;
	pthread_mutex_destroy(&tbl->lock);
}

/* Double the bucket arrays when the load passes one; keep going on ENOMEM. */
static void table_grow_locked(struct inode_table *tbl)
{
	size_t n = tbl->nbuckets * 2, i;
	struct inode **by_id, **by_key;

	by_id = calloc(n, sizeof(*by_id));
	by_key = calloc(n, sizeof(*by_key));
	if (!by_id || !by_key) {
		free(by_id);
		free(by_key);
		return;
	}
	for (i = 0; i < tbl->nbuckets; i++) {
		struct inode *ino, *next;

		for (ino = tbl->by_id[i]; ino; ino = next) {
			size_t b = hash_u64(ino->nodeid) & (n - 1);

			next = ino->next_id;
			ino->next_id = by_id[b];
			by_id[b] = ino;
		}
		for (ino = tbl->by_key[i]; ino; ino = next) {
			size_t b = hash_key(&ino->key) & (n - 1);

			next = ino->next_key;
			ino->next_key = by_key[b];
			by_key[b] = ino;
		}
	}
	free(tbl->by_id);
	free(tbl->by_key);
	tbl->by_id = by_id;
	tbl->by_key = by_key;
	tbl->nbuckets = n;
}

static void insert_locked(struct inode_table *tbl, struct inode *ino)
{
	size_t b;

	if (tbl->count + 1 > tbl->nbuckets)
		table_grow_locked(tbl);
	b = hash_u64(ino->nodeid) & (tbl->nbuckets - 1);
	ino->next_id = tbl->by_id[b];
	tbl->by_id[b] = ino;
	b = hash_key(&ino->key) & (tbl->nbuckets - 1);
	ino->next_key = tbl->by_key[b];
	tbl->by_key[b] = ino;
	tbl->count++;
}

static void unlink_locked(struct inode_table *tbl, struct inode *ino)
{
	struct inode **pp;

	for (pp = &tbl->by_id[hash_u64(ino->nodeid) & (tbl->nbuckets - 1)]; *pp; pp = &(*pp)->next_id)
		if (*pp == ino) {
			*pp = ino->next_id;
			break;
		}
	for (pp = &tbl->by_key[hash_key(&ino->key) & (tbl->nbuckets - 1)]; *pp; pp = &(*pp)->next_key)
		if (*pp == ino) {
			*pp = ino->next_key;
			break;
		}
	tbl->count--;
}

static struct inode *inode_new(const struct inode_key *key, mode_t type, int fd, void *handle)
{
	struct inode *ino = calloc(1, sizeof(*ino));

	if (!ino)
		return NULL;
	ino->key = *key;
	ino->type = type & S_IFMT;
	ino->fd = fd;
	ino->handle = handle;
	ino->backing_fd = -1;
	ino->io_fd[0] = ino->io_fd[1] = -1;
	ino->fp.backing_fd = -1;
	pthread_mutex_init(&ino->lock, NULL);
	return ino;
}

int inode_table_set_root(struct inode_table *tbl, const struct inode_key *key, mode_t type, int fd)
{
	struct inode *ino = inode_new(key, type, fd, NULL);

	if (!ino)
		return -ENOMEM;
	ino->nodeid = INODE_ROOT_ID;
	ino->nlookup = 1;
	pthread_mutex_lock(&tbl->lock);
	insert_locked(tbl, ino);
	pthread_mutex_unlock(&tbl->lock);
	return 0;
}

struct inode *inode_get(struct inode_table *tbl, uint64_t nodeid)
{
	struct inode *ino;

	pthread_mutex_lock(&tbl->lock);
	for (ino = tbl->by_id[hash_u64(nodeid) & (tbl->nbuckets - 1)]; ino; ino = ino->next_id)
		if (ino->nodeid == nodeid)
			break;
	pthread_mutex_unlock(&tbl->lock);
	return ino;
}

struct inode *inode_add_lookup(struct inode_table *tbl, const struct inode_key *key,
			       mode_t type, int *fd, void **handle)
{
	struct inode *ino;

	pthread_mutex_lock(&tbl->lock);
	for (ino = tbl->by_key[hash_key(key) & (tbl->nbuckets - 1)]; ino; ino = ino->next_key)
		if (key_eq(&ino->key, key))
			break;
	if (ino && ino->nodeid != INODE_ROOT_ID &&
	    (ino->type != (type & S_IFMT) ||
	     (tbl->same && !tbl->same(ino, *fd, *handle, tbl->release_arg)))) {
		/*
		 * The object this inode named is gone and the filesystem gave its number to
		 * another (ext4 reuses inode numbers at once): the new object gets an inode of
		 * its own.  The old one leaves the key chain and lives on by nodeid until the
		 * kernel forgets it (a reply with the old nodeid and another file type would
		 * make the kernel mark it bad: ESTALE).
		 */
		struct inode **pp;

		for (pp = &tbl->by_key[hash_key(key) & (tbl->nbuckets - 1)]; *pp;
		     pp = &(*pp)->next_key)
			if (*pp == ino) {
				*pp = ino->next_key;
				break;
			}
		ino->next_key = NULL;
		ino = NULL;
	}
	if (ino) {
		ino->nlookup++;
		pthread_mutex_unlock(&tbl->lock);
		return ino;
	}
	ino = inode_new(key, type, *fd, *handle);
	if (ino) {
		ino->nodeid = tbl->next_nodeid++;
		ino->nlookup = 1;
		insert_locked(tbl, ino);
		*fd = -1;
		*handle = NULL;
	}
	pthread_mutex_unlock(&tbl->lock);
	return ino;
}

void inode_ref(struct inode_table *tbl, struct inode *ino, uint64_t n)
{
	pthread_mutex_lock(&tbl->lock);
	ino->nlookup += n;
	pthread_mutex_unlock(&tbl->lock);
}

int inode_forget_hold(struct inode_table *tbl, struct inode *ino, uint64_t n)
{
	int held = 0;

	pthread_mutex_lock(&tbl->lock);
	if (ino->nodeid != INODE_ROOT_ID) {
		ino->nlookup = n >= ino->nlookup ? 0 : ino->nlookup - n;
		if (!ino->nlookup) {
			ino->held++;
			held = 1;
		}
	}
	pthread_mutex_unlock(&tbl->lock);
	return held;
}

void inode_settle(struct inode_table *tbl, struct inode *ino)
{
	int drop = 0;

	pthread_mutex_lock(&tbl->lock);
	if (ino->held)
		ino->held--;
	if (!ino->held && !ino->nlookup) {
		pthread_mutex_lock(&ino->lock);
		drop = ino->nopen == 0;
		pthread_mutex_unlock(&ino->lock);
		if (drop)
			unlink_locked(tbl, ino);
	}
	pthread_mutex_unlock(&tbl->lock);
	if (drop)
		inode_free(tbl, ino);
}

void inode_forget(struct inode_table *tbl, struct inode *ino, uint64_t n)
{
	if (inode_forget_hold(tbl, ino, n))
		inode_settle(tbl, ino);
}

void inode_put_open(struct inode_table *tbl, struct inode *ino)
{
	int drop;

	/* one decision under tbl->lock, as inode_forget() makes it */
	pthread_mutex_lock(&tbl->lock);
	pthread_mutex_lock(&ino->lock);
	if (ino->nopen)
		ino->nopen--;
	drop = !ino->nopen && !ino->nlookup && !ino->held && ino->nodeid != INODE_ROOT_ID;
	pthread_mutex_unlock(&ino->lock);
	if (drop)
		unlink_locked(tbl, ino);
	pthread_mutex_unlock(&tbl->lock);
	if (drop)
		inode_free(tbl, ino);
}

size_t inode_table_count(struct inode_table *tbl)
{
	size_t n;

	pthread_mutex_lock(&tbl->lock);
	n = tbl->count;
	pthread_mutex_unlock(&tbl->lock);
	return n;
}

uint64_t inode_nodeid_of(struct inode_table *tbl, const struct inode_key *key,
			 uint64_t *ctime_ns)
{
	struct inode *ino;
	uint64_t id = 0;

	pthread_mutex_lock(&tbl->lock);
	for (ino = tbl->by_key[hash_key(key) & (tbl->nbuckets - 1)]; ino; ino = ino->next_key)
		if (key_eq(&ino->key, key)) {
			id = ino->nodeid;
			*ctime_ns = __atomic_load_n(&ino->ctime_ns, __ATOMIC_RELAXED);
			break;
		}
	pthread_mutex_unlock(&tbl->lock);
	return id;
}

int inode_kernel_fresh(struct inode_table *tbl, const struct inode_key *key, uint64_t ctime_ns,
		       uint64_t now_ns)
{
	struct inode *ino;
	int fresh = 0;

	pthread_mutex_lock(&tbl->lock);
	for (ino = tbl->by_key[hash_key(key) & (tbl->nbuckets - 1)]; ino; ino = ino->next_key)
		if (key_eq(&ino->key, key)) {
			fresh = ino->nlookup &&
				__atomic_load_n(&ino->ctime_ns, __ATOMIC_RELAXED) == ctime_ns &&
				now_ns < __atomic_load_n(&ino->entry_until_ns, __ATOMIC_RELAXED) &&
				now_ns < __atomic_load_n(&ino->attr_until_ns, __ATOMIC_RELAXED);
			break;
		}
	pthread_mutex_unlock(&tbl->lock);
	return fresh;
}

int inode_call_locked(struct inode_table *tbl, uint64_t nodeid,
		      int (*fn)(struct inode *ino, void *arg), void *arg)
{
	struct inode *ino;
	int ret = -ENOENT;

	pthread_mutex_lock(&tbl->lock);
	for (ino = tbl->by_id[hash_u64(nodeid) & (tbl->nbuckets - 1)]; ino; ino = ino->next_id)
		if (ino->nodeid == nodeid) {
			ret = fn(ino, arg);
			break;
		}
	pthread_mutex_unlock(&tbl->lock);
	return ret;
}

void inode_for_each_locked(struct inode_table *tbl, void (*fn)(struct inode *ino, void *arg),
			   void *arg)
{
	struct inode *ino;
	size_t i;

	pthread_mutex_lock(&tbl->lock);
	for (i = 0; i < tbl->nbuckets; i++)
		for (ino = tbl->by_id[i]; ino; ino = ino->next_id)
			fn(ino, arg);
	pthread_mutex_unlock(&tbl->lock);
}

void inode_fold_bpf_lookups(struct inode_table *tbl, struct inode *ino, uint64_t seen)
{
	pthread_mutex_lock(&tbl->lock);
	if (seen > ino->fp.folded) {
		ino->nlookup += seen - ino->fp.folded;
		ino->fp.folded = seen;
	}
	pthread_mutex_unlock(&tbl->lock);
}

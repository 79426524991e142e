// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_rename.c - rename on S3: server-side copies, then deletes, under a journal so
 * that a crash in the middle never leaves objects half moved.
 *
 * S3 has no rename: a file is CopyObject to its new key, then DELETE of the old one; a
 * directory is that for every object under its prefix (its files, its nested files and the
 * "dir/" markers).  Before the first copy the plan is written to
 * <cache_dir>/staging/rename-<hash> (0600 in the 0700 staging directory, fsync'ed, the
 * directory too):
 *	bpfuse-rename 1
 *	endpoint URL
 *	bucket NAME
 *	from KEY          the old key (a directory: its prefix, ending in '/')
 *	to KEY            the new one
 *	keep-target 0|1   the new name was an empty directory: its marker is not ours to delete
 *	key SUFFIX        one line per object: from+SUFFIX moves to to+SUFFIX
 *	planned N         the number of key lines: the plan is complete
 *	committed         appended (and fsync'ed) once every copy is made
 * Keys are written with '%', control characters, spaces and bytes >= 0x7f as %XX.
 *
 * A directory is moved in two phases: every copy first, then "committed", then every
 * delete.  Until the commit the old tree is whole and the rename has not happened: a copy
 * that fails (or a crash) is rolled back by deleting the copies, so the rename either
 * happened or did not, as rename(2) promises.  After the commit every object is at its
 * new name and the rest only removes the old ones: a crash there is finished forward.
 * Whoever meets the journal (the next mount of the cache directory, or this mount's
 * unmount after a delete failed) applies the same rule per object, each step safe to
 * repeat and never removing the last copy of an object:
 *	forward:  the old key still exists -> copy it to the new key (again), delete the old;
 *	back:     the old key still exists -> delete the new key (unless keep-target's
 *	          marker); the old key is gone -> the new key is the only copy: kept.
 * So after any crash every object exists exactly once, at its old or its new name, as the
 * journal's commit line says.  A file's rename is journaled the same way, committed from
 * the start (one object: its copy over an existing target already replaced the target's
 * bytes, so there is no earlier state left to return to).
 *
 * Test hook (tests/integration/cases/s3/rename_crash.sh): BPFUSE_TEST_RENAME_STALL set
 * to "copy:N" or "delete:N" in the daemon's environment makes a rename stop for good
 * after its Nth copy or delete, so a test can kill -9 the daemon at a known point
 * ("copy:N:S": pause S seconds instead, to stop the server meanwhile).  Only whoever
 * starts the daemon sets its environment; nothing else reads it.
 *
 * Not atomic against other clients: objects created under the old prefix by someone else
 * while a directory moves stay behind; another client sees both trees during the copies.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "backend_s3_priv.h"
#include "config.h"
#include "log.h"

#define S3_COPY_MAX ((off_t)5 << 30) /* CopyObject's limit (no UploadPartCopy yet) */

struct rn_obj {
	char *suffix;            /* below from/to; "" for a file's own key */
	off_t size;
	int copied;              /* the copy at to+suffix was made by us */
	char etag[S3_ETAG_MAX];  /* of the copy */
};

struct rn_plan {
	char *from, *to;
	int keep_target;
	int committed;
	struct rn_obj *objs;
	size_t n, cap;
	char path[PATH_MAX];     /* the journal */
};

static void plan_free(struct rn_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->objs[i].suffix);
	free(p->objs);
	free(p->from);
	free(p->to);
	memset(p, 0, sizeof(*p));
}

static int plan_add(struct rn_plan *p, const char *suffix, off_t size)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct rn_obj *o = realloc(p->objs, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		p->objs = o;
		p->cap = cap;
	}
	memset(&p->objs[p->n], 0, sizeof(p->objs[p->n]));
	p->objs[p->n].suffix = strdup(suffix);
	if (!p->objs[p->n].suffix)
		return -ENOMEM;
	p->objs[p->n].size = size;
	p->n++;
	return 0;
}

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rn_obj *)a)->suffix, ((const struct rn_obj *)b)->suffix);
}

/* The plan's object of @suffix (the plan is sorted), or NULL. */
static const struct rn_obj *plan_find(const struct rn_plan *p, const char *suffix)
{
	struct rn_obj k = { .suffix = (char *)suffix };

	return p->n ? bsearch(&k, p->objs, p->n, sizeof(k), obj_cmp) : NULL;
}

static char *cat2(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

/* ---------------------------------------------------------------- journal */

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == '%')
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Undo put_escaped() in place; -EINVAL for a malformed escape or an embedded NUL. */
static int unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int h = hexval(s[1]), l = h >= 0 ? hexval(s[2]) : -1;

			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -EINVAL;
			*w++ = (char)(h << 4 | l);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* Write the plan to its journal (a temp name, fsync'ed, renamed into place, dir fsync'ed). */
static int journal_write(struct s3be *sb, struct rn_plan *p)
{
	const char *parts[4];
	char h[CACHE_KEY_LEN + 1], stamp[64], tmp[PATH_MAX + 8];
	struct timespec ts;
	FILE *f;
	size_t i;
	int err = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(stamp, sizeof(stamp), "%lld.%09ld.%d", (long long)ts.tv_sec, ts.tv_nsec,
		 (int)getpid());
	parts[0] = sb->endpoint;
	parts[1] = sb->bucket;
	parts[2] = p->from;
	parts[3] = stamp;
	cache_key(parts, 4, h);
	if ((size_t)snprintf(p->path, sizeof(p->path), "%s/rename-%.32s", sb->staging, h) >=
	    sizeof(p->path))
		return -ENAMETOOLONG;
	snprintf(tmp, sizeof(tmp), "%s.tmp", p->path);
	f = s3_staging_create(tmp, &err);
	if (!f)
		return err;
	fprintf(f, "bpfuse-rename 1\nendpoint %s\nbucket %s\nfrom ", sb->endpoint, sb->bucket);
	put_escaped(f, p->from);
	fputs("\nto ", f);
	put_escaped(f, p->to);
	fprintf(f, "\nkeep-target %d\n", p->keep_target);
	for (i = 0; i < p->n; i++) {
		fputs("key ", f);
		put_escaped(f, p->objs[i].suffix);
		fputc('\n', f);
	}
	fprintf(f, "planned %zu\n", p->n);
	if (p->committed)
		fputs("committed\n", f);
	err = s3_staging_commit(f, tmp, p->path);
	if (!err)
		err = s3_fsync_dir(sb->staging);
	if (err)
		unlink(p->path);
	return err;
}

static int journal_commit(struct rn_plan *p)
{
	int fd = open(p->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "committed\n", 10) != 10)
		err = errno ? -errno : -EIO;
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err)
		p->committed = 1;
	return err;
}

static void journal_remove(struct s3be *sb, struct rn_plan *p)
{
	unlink(p->path);
	s3_fsync_dir(sb->staging);
}

/*
 * Read the journal @name of @dfd into @p.  Returns 0, -EINVAL for a journal that is not
 * complete (no "planned" line matching its keys) or malformed, -EXDEV when it belongs to
 * another endpoint or bucket (@p->from/to are set for the message), or -errno.
 */
static int journal_read(struct s3be *sb, int dfd, const char *name, struct rn_plan *p)
{
	char *line = NULL, ep[512] = "", bucket[256] = "";
	size_t cap = 0, planned = SIZE_MAX;
	ssize_t len;
	int fd, err = 0, first = 1;
	FILE *f;

	memset(p, 0, sizeof(*p));
	if ((size_t)snprintf(p->path, sizeof(p->path), "%s/%s", sb->staging, name) >=
	    sizeof(p->path))
		return -ENAMETOOLONG;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (!err && (len = getline(&line, &cap, f)) >= 0) {
		if (len == 0 || line[len - 1] != '\n')
			break; /* a torn last line: the commit was being appended, and is not */
		line[len - 1] = '\0';
		if (first) {
			if (strcmp(line, "bpfuse-rename 1"))
				err = -EINVAL;
			first = 0;
		} else if (!strncmp(line, "endpoint ", 9)) {
			snprintf(ep, sizeof(ep), "%s", line + 9);
		} else if (!strncmp(line, "bucket ", 7)) {
			snprintf(bucket, sizeof(bucket), "%s", line + 7);
		} else if (!strncmp(line, "from ", 5) && !p->from) {
			p->from = strdup(line + 5);
			err = !p->from ? -ENOMEM : unescape(p->from);
		} else if (!strncmp(line, "to ", 3) && !p->to) {
			p->to = strdup(line + 3);
			err = !p->to ? -ENOMEM : unescape(p->to);
		} else if (!strncmp(line, "keep-target ", 12)) {
			p->keep_target = line[12] == '1';
		} else if (!strncmp(line, "key ", 4) && planned == SIZE_MAX) {
			err = unescape(line + 4);
			if (!err)
				err = plan_add(p, line + 4, 0);
		} else if (!strncmp(line, "planned ", 8)) {
			planned = strtoull(line + 8, NULL, 10);
		} else if (!strcmp(line, "committed")) {
			p->committed = 1;
		}
	}
	free(line);
	fclose(f);
	if (!err && (first || !p->from || !p->to || planned != p->n))
		err = -EINVAL;
	if (!err && (strcmp(ep, sb->endpoint) || strcmp(bucket, sb->bucket)))
		err = -EXDEV;
	return err;
}

/* ----------------------------------------------------------------- moving */

/*
 * BPFUSE_TEST_RENAME_STALL=copy:N[:S] or delete:N[:S]: after the Nth copy or delete, stop
 * for good, or for S seconds (tests only; see the top).
 */
static void test_stall(const char *phase, size_t done)
{
	const char *v = getenv("BPFUSE_TEST_RENAME_STALL");
	size_t pl = strlen(phase);
	char *end;

	if (!v || strncmp(v, phase, pl) || v[pl] != ':' || strtoull(v + pl + 1, &end, 10) != done)
		return;
	if (*end == ':') {
		unsigned int secs = (unsigned int)strtoul(end + 1, NULL, 10);

		pr_warn("s3: BPFUSE_TEST_RENAME_STALL: rename paused %u s after %s %zu", secs,
			phase, done);
		while (secs)
			secs = sleep(secs);
		return;
	}
	pr_warn("s3: BPFUSE_TEST_RENAME_STALL: rename stopped after %s %zu", phase, done);
	for (;;)
		pause();
}

static int copy_one(struct s3be *sb, const char *from, const char *to, char etag[S3_ETAG_MAX])
{
	int err;

	stats_add(&sb->stats->s3_copy, 1);
	err = s3_copy(sb->c, sb->bucket, from, sb->bucket, to, etag);
	return err == -EFBIG ? -EXDEV : err;
}

/* Does @key exist?  1, 0, or -errno. */
static int exists(struct s3be *sb, const char *key)
{
	struct s3_stat st;
	int err = s3_do_head(sb, key, &st);

	return err == -ENOENT ? 0 : err ? err : 1;
}

/*
 * Finish (committed) or roll back (not) the plan @p, per object by the rules at the top.
 * Returns 0 when nothing is left to do, or the first error (the journal is then kept).
 */
static int plan_settle(struct s3be *sb, struct rn_plan *p, size_t *moved, size_t *kept)
{
	size_t i;
	int err = 0;

	for (i = 0; i < p->n; i++) {
		char *from = cat2(p->from, p->objs[i].suffix), *to = cat2(p->to, p->objs[i].suffix);
		int e = 0, have;

		if (!from || !to) {
			e = -ENOMEM;
			goto next;
		}
		have = exists(sb, from);
		if (have < 0) {
			e = have;
		} else if (p->committed) {
			if (have)
				e = copy_one(sb, from, to, NULL);
			if (have && !e)
				e = s3_do_delete(sb, from);
			if (!e && have)
				(*moved)++;
		} else if (have) {
			if (!(p->keep_target && !p->objs[i].suffix[0]))
				e = s3_do_delete(sb, to);
		} else if (exists(sb, to) == 1) {
			(*kept)++; /* only this copy is left: it stays where it is */
		}
next:
		if (e && !err)
			err = e;
		free(from);
		free(to);
	}
	return err;
}

/*
 * Copy every object of the plan, commit, delete the old keys.  A failed copy is rolled back
 * and returned (nothing moved).  After the commit the rename has happened: a failed delete
 * leaves the journal for the unmount or the next mount to finish and is not returned.
 */
static int plan_run(struct s3be *sb, struct rn_plan *p)
{
	size_t i;
	int err = 0;

	err = journal_write(sb, p);
	if (err) {
		pr_warn("s3: cannot write the rename journal in '%s': %s", sb->staging,
			strerror(-err));
		return err;
	}
	for (i = 0; i < p->n && !err; i++) {
		char *from = cat2(p->from, p->objs[i].suffix), *to = cat2(p->to, p->objs[i].suffix);

		err = from && to ? copy_one(sb, from, to, p->objs[i].etag) : -ENOMEM;
		if (!err)
			p->objs[i].copied = 1;
		free(from);
		free(to);
		if (!err)
			test_stall("copy", i + 1);
	}
	if (!err && !p->committed)
		err = journal_commit(p);
	if (err && !p->committed) {
		int e = 0;

		/* roll back: the copies made go (the old tree is whole) */
		for (i = 0; i < p->n; i++) {
			char *to;
			int r;

			if (!p->objs[i].copied || (p->keep_target && !p->objs[i].suffix[0]))
				continue;
			to = cat2(p->to, p->objs[i].suffix);
			r = to ? s3_do_delete(sb, to) : -ENOMEM;
			free(to);
			if (r) {
				e = r; /* the server fails: the journal finishes this later */
				break;
			}
		}

		if (!e)
			journal_remove(sb, p);
		else
			pr_warn("s3: rename of '%s' failed (%s) and its copies could not all be "
				"removed (%s): the next mount does it ('%s')", p->from,
				strerror(-err), strerror(-e), p->path);
		return err;
	}
	for (i = 0; i < p->n && !err; i++) {
		char *from = cat2(p->from, p->objs[i].suffix);

		err = from ? s3_do_delete(sb, from) : -ENOMEM;
		free(from);
		if (!err)
			test_stall("delete", i + 1);
	}
	if (err) {
		pr_warn("s3: '%s' was renamed to '%s' but some old objects could not be deleted "
			"(%s): the unmount or the next mount deletes them ('%s')", p->from, p->to,
			strerror(-err), p->path);
		return 0;
	}
	journal_remove(sb, p);
	return 0;
}

/*
 * After the objects moved: every node at or below @p->from answers to its new key, keeping
 * its inode number (the kernel moved its dentries itself); the old keys get absent
 * placeholders.  Nodes the plan copied are known to exist, with the copy's ETag; the
 * others (nested directories, names known absent) are asked again when next needed.
 */
static int rekey_tree(struct s3be *sb, struct rn_plan *p, int is_dir)
{
	size_t fl = strlen(p->from), i, nn = 0, cap = 16, b;
	struct s3node **nodes = malloc(cap * sizeof(*nodes)), *n;
	double now = s3_now_mono();
	int err = 0;

	if (!nodes)
		return -ENOMEM;
	pthread_mutex_lock(&sb->ns_lock);
	for (b = 0; b < sb->nbuckets && !err; b++)
		for (n = sb->tbl[b]; n; n = n->next) {
			if (strncmp(n->key, p->from, fl) || (!is_dir && n->key[fl]))
				continue;
			if (nn == cap) {
				struct s3node **q = realloc(nodes, 2 * cap * sizeof(*q));

				if (!q) {
					err = -ENOMEM;
					break;
				}
				nodes = q;
				cap *= 2;
			}
			nodes[nn++] = n;
		}
	for (i = 0; i < nn && !err; i++) {
		char *nk = cat2(p->to, nodes[i]->key + fl);
		const struct rn_obj *o = NULL;

		if (!nk) {
			err = -ENOMEM;
			break;
		}
		if (!nodes[i]->is_dir)
			o = plan_find(p, nodes[i]->key + fl);
		err = s3_node_rekey_locked(sb, nodes[i], nk);
		free(nk);
		if (err)
			break;
		n = nodes[i];
		n->listed = 0;
		if (o) {
			/* a copy is a new object: LastModified moved */
			s3_node_set_meta_locked(n, n->size, time(NULL),
						o->etag[0] ? o->etag : n->etag, now);
		} else if (n->key[strlen(p->to)] == '\0') {
			n->exists = 1; /* the directory itself */
			n->seen = now;
		} else if (__atomic_load_n(&n->stage_fd, __ATOMIC_RELAXED) < 0) {
			n->seen = 0;
		}
	}
	pthread_mutex_unlock(&sb->ns_lock);
	free(nodes);
	return err;
}

/* ------------------------------------------------------------- the rename */

struct list_collect {
	struct rn_plan *p;
	size_t plen;
	int too_big;
};

static int collect_cb(void *arg, const struct s3_list_page *page)
{
	struct list_collect *lc = arg;
	size_t i;
	int err = 0;

	for (i = 0; i < page->nobjects && !err; i++) {
		const struct s3_object *o = &page->objects[i];

		if (strlen(o->key) < lc->plen)
			continue;
		if (o->size > S3_COPY_MAX)
			lc->too_big = 1;
		err = plan_add(lc->p, o->key + lc->plen, o->size);
	}
	return err;
}

/* The staged files at or below @key (referenced and locked, in sb->staged order). */
static int lock_staged(struct s3be *sb, const char *key, int is_dir, struct s3node ***out,
		       size_t *count)
{
	size_t kl = strlen(key), nn = 0, cap = 0, i;
	struct s3node **v = NULL, *n;
	int err = 0;

	pthread_mutex_lock(&sb->ns_lock);
	for (n = sb->staged; n; n = n->staged_next) {
		if (strncmp(n->key, key, kl) || (!is_dir && n->key[kl]))
			continue;
		if (nn == cap) {
			struct s3node **q = realloc(v, (cap ? cap * 2 : 8) * sizeof(*q));

			if (!q) {
				err = -ENOMEM;
				break;
			}
			v = q;
			cap = cap ? cap * 2 : 8;
		}
		n->refs++;
		v[nn++] = n;
	}
	pthread_mutex_unlock(&sb->ns_lock);
	/*
	 * Lock order: only a rename (serialized by rename_lock) holds more than one node lock;
	 * every other holder of a node lock takes nothing but the leaf locks after it.
	 */
	for (i = 0; i < nn; i++)
		pthread_mutex_lock(&v[i]->lock);
	*out = v;
	*count = nn;
	return err;
}

static void unlock_staged(struct s3be *sb, struct s3node **v, size_t nn)
{
	size_t i;

	for (i = 0; i < nn; i++) {
		pthread_mutex_unlock(&v[i]->lock);
		s3_node_put(sb, v[i]);
	}
	free(v);
}

int s3_rename_move(struct s3be *sb, struct s3node *src, const char *dkey, int keep_target)
{
	struct rn_plan p = { 0 };
	struct s3node **staged = NULL;
	size_t nstaged = 0, i;
	int err;

	pthread_mutex_lock(&sb->rename_lock);
	p.from = strdup(src->key);
	p.to = strdup(dkey);
	p.keep_target = keep_target;
	err = !p.from || !p.to ? -ENOMEM : 0;
	if (!err)
		err = lock_staged(sb, src->key, src->is_dir, &staged, &nstaged);
	/* bytes still being written under the old name go up first; writes wait for us */
	for (i = 0; !err && i < nstaged; i++)
		err = s3_stage_upload(sb, staged[i]);
	if (err)
		goto out;
	if (src->is_dir) {
		struct list_collect lc = { &p, strlen(src->key), 0 };

		stats_add(&sb->stats->s3_list, 1);
		err = s3_list_all(sb->c, sb->bucket, src->key, NULL, 1000, collect_cb, &lc);
		if (!err && lc.too_big)
			err = -EXDEV; /* > 5 GiB: mv copies it itself */
		if (!err && !p.n)
			err = -ENOENT;
		if (!err) /* listings are in key order already; rekey_tree() relies on it */
			qsort(p.objs, p.n, sizeof(p.objs[0]), obj_cmp);
	} else {
		off_t size;

		pthread_mutex_lock(&sb->ns_lock);
		size = src->size;
		pthread_mutex_unlock(&sb->ns_lock);
		err = size > S3_COPY_MAX ? -EXDEV : plan_add(&p, "", size);
		p.committed = 1; /* see the top: a file's copy is the point of no return */
	}
	if (!err)
		err = plan_run(sb, &p);
	if (!err)
		err = rekey_tree(sb, &p, src->is_dir);
out:
	unlock_staged(sb, staged, nstaged);
	pthread_mutex_unlock(&sb->rename_lock);
	plan_free(&p);
	return err;
}

/*
 * Mount (and unmount): settle the renames an earlier mount of this cache directory (or
 * this one) left journaled: roll back the uncommitted ones, finish the committed ones.
 */
void s3_rename_recover(struct s3be *sb)
{
	struct dirent *de;
	int dfd;
	DIR *d;

	d = s3_staging_opendir(sb, &dfd);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name), moved = 0, kept = 0;
		struct rn_plan p;
		int err;

		if (strncmp(de->d_name, "rename-", 7))
			continue;
		if (len > 4 && !strcmp(de->d_name + len - 4, ".tmp")) {
			unlinkat(dfd, de->d_name, 0); /* never in place: no copy was made */
			continue;
		}
		err = journal_read(sb, dfd, de->d_name, &p);
		if (!err && sb->be->cfg->read_only) {
			pr_warn("s3: the rename of '%s' to '%s' was left half done by an earlier "
				"mount: a read-only mount does not settle it (mount read-write; "
				"'%s/%s')", p.from, p.to, sb->staging, de->d_name);
		} else if (err == -EXDEV) {
			pr_warn("s3: '%s/%s' is a rename in another bucket or endpoint: mount that "
				"one with this cache directory to settle it", sb->staging,
				de->d_name);
		} else if (err) {
			pr_warn("s3: cannot read the rename journal '%s/%s': %s", sb->staging,
				de->d_name, strerror(-err));
		} else {
			err = plan_settle(sb, &p, &moved, &kept);
			if (err)
				pr_warn("s3: cannot settle the rename of '%s' to '%s' left by an "
					"earlier mount: %s (kept: '%s')", p.from, p.to,
					strerror(-err), p.path);
			else {
				unlinkat(dfd, de->d_name, 0);
				fsync(dfd);
				pr_info("s3: %s the rename of '%s' to '%s' left by an earlier mount "
					"(%zu objects; %zu moved now, %zu found only at the new name)",
					p.committed ? "finished" : "rolled back", p.from, p.to, p.n,
					moved, kept);
			}
		}
		plan_free(&p);
	}
	closedir(d);
	close(dfd);
}

// SPDX-License-Identifier: GPL-2.0
#define FUSE_USE_VERSION 317
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "fs.h"
#include "fastpath.h"
#include "log.h"

/* how long the watcher waits after reading events before it reads again */
#define WATCH_PAUSE_NS (2 * 1000 * 1000)
/* the largest event a read can return (the name padded to 16 bytes), and margin */
#define WATCH_EVENT_MAX (2 * sizeof(struct inotify_event) + NAME_MAX + 1)

/* kernel_open: how long after a write of its own a change event is the daemon's */
#define WATCH_OWN_WRITE_NS (1000ULL * 1000 * 1000)

/* no IN_DONT_FOLLOW: the /proc/self/fd magic link must be followed to the directory */
#define WATCH_MASK                                                                         \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | \
	 IN_ATTRIB | IN_ONLYDIR | IN_EXCL_UNLINK)

#define OWN_KINDS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
#define OWN_BUCKETS 256

enum own_state {
	OWN_PENDING,  /* the daemon's syscall is in flight */
	OWN_DONE,     /* it returned 0: its event is queued or read soon */
	OWN_CONSUMED, /* an event matched while in flight */
};

/*
 * A change the daemon itself makes to a name: one of OWN_KINDS on @name in
 * directory @dir.  The kernel updates its dentries from the reply to the
 * request, so the event this change produces must not invalidate them
 * (d_invalidate() would unhash a dentry the caller is about to use, e.g. as
 * its cwd).  Each successful syscall produces exactly one event per record;
 * events of one name never coalesce across kinds.
 */
struct watch_own {
	struct watch_own *next;
	uint64_t dir;
	uint64_t done_drain; /* w->drains when the syscall returned */
	uint32_t kind;
	int state;
	char name[];
};

/* An invalidation asked for by a request thread, which cannot send it itself. */
struct watch_deferred {
	struct watch_deferred *next;
	uint64_t nodeid; /* a directory with @name, or the object itself */
	char name[];     /* "" for the object itself */
};

struct watch {
	int ifd;
	int stop[2];  /* 'x' stops the thread, 'k' wakes it for w->deferred */
	pthread_t thread;
	pthread_mutex_t lock;
	uint64_t *wd_nodeid; /* wd -> directory nodeid (lock) */
	size_t nwd;
	int warned_epoch;    /* logged that INC_EPOCH is missing (atomic) */
	int degraded;        /* a watch failed: timeouts capped (atomic) */
	int drop_pending;    /* drop_all() asked for by a request thread (atomic) */
	struct watch_own *own[OWN_BUCKETS]; /* (lock) */
	uint64_t drains;     /* times the queue was read empty (lock) */
	struct watch_deferred *deferred;    /* (lock) */
};

static int map_set(struct watch *w, int wd, uint64_t nodeid)
{
	if ((size_t)wd >= w->nwd) {
		size_t n = w->nwd ? w->nwd : 1024;
		uint64_t *p;

		while (n <= (size_t)wd)
			n *= 2;
		p = realloc(w->wd_nodeid, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + w->nwd, 0, (n - w->nwd) * sizeof(*p));
		w->wd_nodeid = p;
		w->nwd = n;
	}
	w->wd_nodeid[wd] = nodeid;
	return 0;
}

static uint64_t map_get(struct watch *w, int wd)
{
	uint64_t id = 0;

	pthread_mutex_lock(&w->lock);
	if (wd >= 0 && (size_t)wd < w->nwd)
		id = w->wd_nodeid[wd];
	pthread_mutex_unlock(&w->lock);
	return id;
}

static void watch_lost(struct fs *fs, int err);

void watch_add_dir(struct fs *fs, struct inode *ino)
{
	struct watch *w = fs->watch;
	char path[32];
	int fd, wd, err;

	if (!w)
		return;
	pthread_mutex_lock(&ino->lock);
	if (ino->watch.wd) {
		pthread_mutex_unlock(&ino->lock);
		return;
	}
	fd = fs->be.ops->path_fd(&fs->be, ino);
	if (fd < 0) {
		pthread_mutex_unlock(&ino->lock);
		/* the directory is gone (nothing to watch); else (EMFILE) it goes unwatched */
		if (fd != -ESTALE && fd != -ENOENT)
			watch_lost(fs, -fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(w->ifd, path, WATCH_MASK);
	close(fd);
	if (wd < 0) {
		err = errno;
		pthread_mutex_unlock(&ino->lock);
		watch_lost(fs, err);
		return;
	}
	ino->watch.wd = wd;
	pthread_mutex_unlock(&ino->lock);
	pthread_mutex_lock(&w->lock);
	err = map_set(w, wd, ino->nodeid);
	pthread_mutex_unlock(&w->lock);
	if (err) /* its events would be dropped as of an unknown watch */
		watch_lost(fs, -err);
}

void watch_remove(struct fs *fs, struct inode *ino)
{
	struct watch *w = fs->watch;

	if (!w || !ino->watch.wd)
		return;
	pthread_mutex_lock(&w->lock);
	if ((size_t)ino->watch.wd < w->nwd && w->wd_nodeid[ino->watch.wd] == ino->nodeid)
		w->wd_nodeid[ino->watch.wd] = 0;
	pthread_mutex_unlock(&w->lock);
	inotify_rm_watch(w->ifd, ino->watch.wd);
	ino->watch.wd = 0;
}

static void inval_inode(struct fs *fs, uint64_t nodeid, int data)
{
	if (data) /* changed behind the mount: no block published before is served */
		file_data_changed_id(fs, nodeid);
	fastpath_drop_attr(fs->ks, nodeid); /* the maps first, then the kernel's caches */
	/* off < 0: attributes only; len 0: to the end */
	fuse_lowlevel_notify_inval_inode(fs->se, nodeid, data ? 0 : -1, 0);
	stats_add(&fs->stats.invalidations, 1);
}

static void inval_name(struct fs *fs, uint64_t dir, const char *name)
{
	/* the name (and any negative entry for it), the dir's mtime and listing */
	fastpath_drop_name(fs->ks, dir, name);
	fuse_lowlevel_notify_inval_entry(fs->se, dir, name, strlen(name));
	inval_inode(fs, dir, 1);
	stats_add(&fs->stats.invalidations, 1);
}

/* ------------------------------------------------ the daemon's own changes */

static size_t own_hash(uint64_t dir, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ dir;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29)) & (OWN_BUCKETS - 1);
}

static void own_unlink_locked(struct watch *w, struct watch_own *rec)
{
	struct watch_own **pp = &w->own[own_hash(rec->dir, rec->name)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == rec) {
			*pp = rec->next;
			return;
		}
}

struct watch_own *watch_own_begin(struct fs *fs, struct inode *dir, const char *name,
				  uint32_t kind)
{
	struct watch *w = fs->watch;
	struct watch_own *rec, **pp;
	size_t len;

	/* no watch on @dir: no event will come */
	if (!w || !__atomic_load_n(&dir->watch.wd, __ATOMIC_RELAXED))
		return NULL;
	len = strlen(name);
	rec = malloc(sizeof(*rec) + len + 1);
	if (!rec)
		return NULL; /* its event then invalidates, as any other */
	rec->next = NULL;
	rec->dir = dir->nodeid;
	rec->kind = kind;
	rec->state = OWN_PENDING;
	rec->done_drain = 0;
	memcpy(rec->name, name, len + 1);
	pthread_mutex_lock(&w->lock);
	/* at the tail: the oldest record of a name matches first */
	for (pp = &w->own[own_hash(rec->dir, name)]; *pp; pp = &(*pp)->next)
		;
	*pp = rec;
	pthread_mutex_unlock(&w->lock);
	return rec;
}

static void defer_locked(struct watch *w, uint64_t nodeid, const char *name)
{
	size_t len = strlen(name);
	struct watch_deferred *d = malloc(sizeof(*d) + len + 1);

	if (!d)
		return;
	d->nodeid = nodeid;
	memcpy(d->name, name, len + 1);
	d->next = w->deferred;
	w->deferred = d;
}

static void kick(struct watch *w)
{
	if (write(w->stop[1], "k", 1) < 0 && errno != EAGAIN)
		pr_debug("cannot wake the watcher: %s", strerror(errno));
}

void watch_own_end(struct fs *fs, struct watch_own *rec, int err)
{
	struct watch *w = fs->watch;
	int wake = 0;

	if (!rec)
		return;
	pthread_mutex_lock(&w->lock);
	if (rec->state == OWN_CONSUMED || err) {
		/*
		 * Consumed while in flight but failed: the event was a change
		 * made behind the mount (which is likely why we failed), and
		 * the kernel's view of the name is wrong.  The request holds
		 * the directory's lock until it is answered, so the watcher
		 * sends the invalidation.
		 */
		if (rec->state == OWN_CONSUMED && err) {
			defer_locked(w, rec->dir, rec->name);
			wake = 1;
		}
		own_unlink_locked(w, rec);
		free(rec);
	} else {
		rec->state = OWN_DONE;
		rec->done_drain = w->drains;
	}
	pthread_mutex_unlock(&w->lock);
	if (wake)
		kick(w);
}

/* An event for @dir/@name of @kind: the daemon's own (and consumed) or not. */
static int own_consume(struct watch *w, uint64_t dir, const char *name, uint32_t kind)
{
	struct watch_own *rec;
	int found = 0;

	pthread_mutex_lock(&w->lock);
	for (rec = w->own[own_hash(dir, name)]; rec; rec = rec->next)
		if (rec->dir == dir && rec->kind == kind && rec->state != OWN_CONSUMED &&
		    !strcmp(rec->name, name))
			break;
	if (rec) {
		found = 1;
		if (rec->state == OWN_DONE) {
			own_unlink_locked(w, rec);
			free(rec);
		} else {
			rec->state = OWN_CONSUMED;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return found;
}

/*
 * The queue was just read empty: every event of a syscall that returned
 * before the previous empty read has been handled, so a record done by then
 * and still unmatched made no event (a rename onto another link of the same
 * inode does nothing) or lost it to an overflow.  Drop it, lest it swallow
 * a later change of the same name made behind the mount.
 */
static void own_drained(struct watch *w)
{
	struct watch_own **pp, *rec;
	size_t i;

	pthread_mutex_lock(&w->lock);
	w->drains++;
	for (i = 0; i < OWN_BUCKETS; i++)
		for (pp = &w->own[i]; (rec = *pp);) {
			if (rec->state == OWN_DONE && w->drains >= rec->done_drain + 2) {
				*pp = rec->next;
				free(rec);
			} else {
				pp = &rec->next;
			}
		}
	pthread_mutex_unlock(&w->lock);
}

void watch_writer_done(struct fs *fs, struct inode *ino)
{
	struct watch *w = fs->watch;

	if (!w || !__atomic_exchange_n(&ino->watch.dirty, 0, __ATOMIC_SEQ_CST))
		return;
	pthread_mutex_lock(&w->lock);
	defer_locked(w, ino->nodeid, "");
	pthread_mutex_unlock(&w->lock);
	kick(w);
}

static void drop_all(struct fs *fs, const char *why, int stop_fastpath);

static void run_deferred(struct fs *fs)
{
	struct watch_deferred *d, *next;

	/* unwatched changes would stay in the never-expiring maps: no fast path from now on */
	if (__atomic_exchange_n(&fs->watch->drop_pending, 0, __ATOMIC_RELAXED))
		drop_all(fs, "a watch was lost", 1);

	pthread_mutex_lock(&fs->watch->lock);
	d = fs->watch->deferred;
	fs->watch->deferred = NULL;
	pthread_mutex_unlock(&fs->watch->lock);
	for (; d; d = next) {
		next = d->next;
		/* a nodeid the kernel forgot meanwhile: the kernel ignores it */
		if (d->name[0])
			inval_name(fs, d->nodeid, d->name);
		else
			inval_inode(fs, d->nodeid, 1);
		free(d);
	}
}

/* ------------------------------------------- dropping the whole mount */

struct drop_all {
	struct fs *fs;
	uint64_t *ids;
	size_t n, cap;
	struct drop_name { /* names the fast path published (gone from the maps) */
		uint64_t parent;
		char *name;
	} *names;
	size_t nnames, capnames;
};

static void collect_locked(struct inode *ino, void *arg)
{
	struct drop_all *a = arg;

	pthread_mutex_lock(&ino->lock);
	if (ino->fp.name) { /* the fast path's name of it: the kernel may cache it too */
		if (a->nnames == a->capnames) {
			size_t cap = a->capnames ? a->capnames * 2 : 256;
			struct drop_name *p = realloc(a->names, cap * sizeof(*p));

			if (p) {
				a->names = p;
				a->capnames = cap;
			}
		}
		if (a->nnames < a->capnames) {
			a->names[a->nnames].parent = ino->fp.parent;
			a->names[a->nnames++].name = ino->fp.name;
		} else {
			/* not dropped below: drop it now, the map keeps no name the inode does not */
			fastpath_drop_name(a->fs->ks, ino->fp.parent, ino->fp.name);
			free(ino->fp.name);
		}
		ino->fp.name = NULL;
	}
	pthread_mutex_unlock(&ino->lock);
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		uint64_t *p = realloc(a->ids, cap * sizeof(*p));

		if (!p)
			return;
		a->ids = p;
		a->cap = cap;
	}
	a->ids[a->n++] = ino->nodeid;
}

/*
 * Since FUSE 7.44 (Linux 6.16) the kernel revalidates every dentry made
 * before an epoch increase on its next use.  libfuse 3.17 has no call for
 * it: the notification is a bare header.
 */
#define WATCH_NOTIFY_INC_EPOCH 8
#define WATCH_PROTO_INC_EPOCH 44

static int inc_epoch(struct fs *fs)
{
	struct {
		uint32_t len;
		int32_t error;
		uint64_t unique;
	} oh = { sizeof(oh), WATCH_NOTIFY_INC_EPOCH, 0 };

	if (fs->proto_minor < WATCH_PROTO_INC_EPOCH)
		return -EOPNOTSUPP;
	return write(fuse_session_fd(fs->se), &oh, sizeof(oh)) == sizeof(oh) ? 0 : -errno;
}

/*
 * Events were lost: nothing says which names and objects changed, so drop
 * everything the kernel and the fast-path maps cache for this mount: the
 * maps entirely (fastpath_flush(); with @stop_fastpath nothing is published
 * again), every dentry (a new epoch; on older kernels the names the fast
 * path published one by one), every known object's attributes and pages,
 * every directory's listing.
 */
static void drop_all(struct fs *fs, const char *why, int stop_fastpath)
{
	struct drop_all a = { .fs = fs };
	size_t i;
	int err;

	stats_add(&fs->stats.watch_full_drops, 1);
	fastpath_flush(fs->ks, stop_fastpath); /* the maps first, then the kernel's caches */
	err = inc_epoch(fs);
	if (err && !__atomic_exchange_n(&fs->watch->warned_epoch, 1, __ATOMIC_RELAXED))
		pr_warn("%s: the kernel cannot drop all names at once (%s): names follow "
			"the entry timeout", why, strerror(-err));
	inode_for_each_locked(&fs->inodes, collect_locked, &a);
	for (i = 0; i < a.nnames; i++) {
		/*
		 * The flush above emptied the maps, but a reply may have published
		 * a name since, and the inode no longer records it: a FORGET could
		 * not delete it, and BPF would hand out lookups of a node being
		 * freed.  Delete it by its key (what is gone stays gone: a miss).
		 */
		fastpath_drop_name(fs->ks, a.names[i].parent, a.names[i].name);
		fuse_lowlevel_notify_inval_entry(fs->se, a.names[i].parent, a.names[i].name,
						 strlen(a.names[i].name));
		free(a.names[i].name);
	}
	free(a.names);
	for (i = 0; i < a.n; i++)
		inval_inode(fs, a.ids[i], 1);
	free(a.ids);
}

/*
 * A directory is not (or no longer) watched: changes in it would go unseen
 * for as long as the timeouts allow.  Drop what the kernel caches once and
 * cap the timeouts of every later reply.  Called by request threads too
 * (a failed inotify_add_watch): the watcher thread does the drop, as the
 * kernel may hold locks for the request in flight.
 */
static void watch_lost(struct fs *fs, int err)
{
	struct watch *w = fs->watch;

	if (__atomic_exchange_n(&w->degraded, 1, __ATOMIC_RELAXED))
		return;
	pr_warn("cannot watch a directory of the source: %s%s; timeouts capped at %g s from now",
		strerror(err),
		err == ENOSPC ? " (fs.inotify.max_user_watches)" : "", WATCH_DEGRADED_TIMEOUT_S);
	__atomic_store_n(&w->drop_pending, 1, __ATOMIC_RELAXED);
	kick(w);
}

double watch_timeout(struct fs *fs, double t)
{
	struct watch *w = fs->watch;

	if (w && __atomic_load_n(&w->degraded, __ATOMIC_RELAXED) && t > WATCH_DEGRADED_TIMEOUT_S)
		return WATCH_DEGRADED_TIMEOUT_S;
	return t;
}

static int path_fd_locked(struct inode *ino, void *arg)
{
	struct fs *fs = arg;

	return fs->be.ops->path_fd(&fs->be, ino);
}

/*
 * The nodeid of @dir's child @name, if the kernel knows it and its ctime
 * differs from what the kernel was told (or @always).  ctime moves on every
 * change of data or metadata, so an event that left it alone (our own
 * read-write backing files being closed, say) changes nothing worth
 * invalidating.
 */
static uint64_t child_nodeid(struct fs *fs, uint64_t dir, const char *name, int always)
{
	uint64_t id, told = 0, now;
	struct inode_key key = { 0 };
	struct stat st;
	int fd = inode_call_locked(&fs->inodes, dir, path_fd_locked, fs);

	if (fd < 0)
		return 0;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		close(fd);
		return 0;
	}
	close(fd);
	key.dev = st.st_dev;
	key.ino = st.st_ino;
	id = inode_nodeid_of(&fs->inodes, &key, &told);
	now = (uint64_t)st.st_ctim.tv_sec * 1000000000ULL + (uint64_t)st.st_ctim.tv_nsec;
	if (id && !always && now == told)
		return 0;
	return id;
}

/*
 * @child's data changed while it is open for writing through the mount: most
 * likely by those writes, whose kernel caches the kernel keeps right itself
 * (it drops the size and mtime it cached after each write it sends, and a
 * passthrough file's pages are the source's own).  So no invalidation per
 * write: the file is marked, and invalidated once when its last writer
 * through the mount closes (watch_writer_done()).  Returns 1 when deferred.
 */
static int defer_if_writing_locked(struct inode *ino, void *arg)
{
	struct timespec now;
	uint64_t own;

	(void)arg;
	/*
	 * kernel_open: the daemon writes for opens it never saw, through its shared
	 * descriptor, and the kernel's write-through page cache already holds those bytes.
	 * A modification within WATCH_OWN_WRITE_NS of one of them is taken for it; a writer
	 * behind the mount is seen when it closes (IN_CLOSE_WRITE) or writes again later.
	 */
	own = __atomic_load_n(&ino->own_write_ns, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (own && (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec - own <
			   WATCH_OWN_WRITE_NS)
		return 1;
	if (!__atomic_load_n(&ino->nwriters, __ATOMIC_SEQ_CST))
		return 0;
	__atomic_store_n(&ino->watch.dirty, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ino->nwriters, __ATOMIC_SEQ_CST))
		return 1; /* the last writer's close will see the mark */
	/* it closed meanwhile: whoever takes the mark back invalidates */
	return __atomic_exchange_n(&ino->watch.dirty, 0, __ATOMIC_SEQ_CST) ? 0 : 1;
}

static void handle_event(struct fs *fs, const struct inotify_event *ev)
{
	uint64_t dir, child;

	if (ev->mask & IN_Q_OVERFLOW) {
		stats_add(&fs->stats.watch_overflows, 1);
		drop_all(fs, "change events were lost (inotify queue overflow)", 0);
		return;
	}
	dir = map_get(fs->watch, ev->wd);
	pr_debug("watch: wd %d dir %llu mask 0x%x name '%s'", ev->wd, (unsigned long long)dir,
		 ev->mask, ev->len ? ev->name : "");
	if (!dir)
		return;
	if (ev->mask & IN_UNMOUNT) { /* a filesystem inside the source went away */
		watch_lost(fs, ENODEV);
		return;
	}
	if (ev->mask & IN_IGNORED) { /* the directory is gone */
		pthread_mutex_lock(&fs->watch->lock);
		fs->watch->wd_nodeid[ev->wd] = 0;
		pthread_mutex_unlock(&fs->watch->lock);
		return;
	}
	if (!ev->len) { /* the directory itself */
		inval_inode(fs, dir, 0);
		return;
	}
	if (ev->mask & OWN_KINDS) {
		if (own_consume(fs->watch, dir, ev->name, ev->mask & OWN_KINDS)) {
			stats_add(&fs->stats.watch_own_events, 1);
			return;
		}
		inval_name(fs, dir, ev->name);
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			/* a hard link or a rename onto a known object changes its nlink/ctime */
			child = child_nodeid(fs, dir, ev->name, 1);
			if (child)
				inval_inode(fs, child, 0);
		}
		return;
	}
	child = child_nodeid(fs, dir, ev->name, 0);
	if (!child)
		return;
	if ((ev->mask & IN_MODIFY) &&
	    inode_call_locked(&fs->inodes, child, defer_if_writing_locked, NULL) == 1) {
		stats_add(&fs->stats.watch_own_events, 1);
		return;
	}
	inval_inode(fs, child, (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE)) != 0);
}

/* Returns 1 to stop. */
static int read_stop_pipe(struct fs *fs)
{
	char buf[64];
	ssize_t i, n = read(fs->watch->stop[0], buf, sizeof(buf));

	for (i = 0; i < n; i++)
		if (buf[i] == 'x')
			return 1;
	run_deferred(fs);
	return 0;
}

static void *watch_thread(void *arg)
{
	struct fs *fs = arg;
	struct watch *w = fs->watch;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd[2] = { { .fd = w->ifd, .events = POLLIN },
				 { .fd = w->stop[0], .events = POLLIN } };
	/*
	 * After reading events, a pause before the next read: meanwhile the kernel
	 * folds each new event into an identical one at the queue's tail, so a
	 * writer appending through the mount (one IN_MODIFY per write) costs the
	 * watcher one event per pause instead of a wake-up and a lookup per write.
	 */
	const struct timespec nap = { 0, WATCH_PAUSE_NS };

	for (;;) {
		ssize_t n;
		char *p;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents && read_stop_pipe(fs))
			break;
		if (!pfd[0].revents)
			continue;
		/*
		 * Read until the queue is empty (own_drained() relies on it): a read
		 * that left room for one more event of any size emptied it.
		 */
		for (;;) {
			n = read(w->ifd, buf, sizeof(buf));
			if (n <= 0)
				break;
			for (p = buf; p < buf + n;) {
				const struct inotify_event *ev = (const struct inotify_event *)p;

				handle_event(fs, ev);
				p += sizeof(*ev) + ev->len;
			}
			if ((size_t)n <= sizeof(buf) - WATCH_EVENT_MAX) {
				own_drained(w);
				nanosleep(&nap, NULL);
				break;
			}
		}
		if (n < 0 && errno == EAGAIN)
			own_drained(w);
		else if (n < 0 && errno != EINTR)
			break;
	}
	return NULL;
}

int watch_start(struct fs *fs)
{
	struct watch *w;
	struct inode *root;
	int err;

	if (!fs->cfg->invalidate)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->stop[0] = w->stop[1] = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->ifd < 0) {
		err = -errno;
		goto out_free;
	}
	if (pipe2(w->stop, O_CLOEXEC | O_NONBLOCK)) {
		err = -errno;
		goto out_close;
	}
	fs->watch = w;
	root = inode_get(&fs->inodes, INODE_ROOT_ID);
	if (root)
		watch_add_dir(fs, root);
	if (pthread_create(&w->thread, NULL, watch_thread, fs)) {
		err = -EAGAIN;
		fs->watch = NULL;
		goto out_pipe;
	}
	return 0;

out_pipe:
	close(w->stop[0]);
	close(w->stop[1]);
out_close:
	close(w->ifd);
out_free:
	pthread_mutex_destroy(&w->lock);
	free(w);
	pr_warn("cannot watch the source for changes: %s", strerror(-err));
	return err;
}

void watch_stop(struct fs *fs)
{
	struct watch *w = fs->watch;
	struct watch_deferred *d;
	struct watch_own *rec;
	size_t i;

	if (!w)
		return;
	while (write(w->stop[1], "x", 1) < 0) {
		if (errno != EAGAIN) {
			pr_warn("cannot stop the watcher: %s", strerror(errno));
			break;
		}
		usleep(1000); /* full of wake-ups: the thread is draining them */
	}
	pthread_join(w->thread, NULL);
	fs->watch = NULL;
	close(w->stop[0]);
	close(w->stop[1]);
	close(w->ifd);
	free(w->wd_nodeid);
	for (i = 0; i < OWN_BUCKETS; i++)
		while ((rec = w->own[i])) {
			w->own[i] = rec->next;
			free(rec);
		}
	while ((d = w->deferred)) {
		w->deferred = d->next;
		free(d);
	}
	pthread_mutex_destroy(&w->lock);
	free(w);
}

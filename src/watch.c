// SPDX-License-Identifier: GPL-2.0
#define FUSE_USE_VERSION 317
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fs.h"
#include "kstate.h"
#include "log.h"

/* no IN_DONT_FOLLOW: the /proc/self/fd magic link must be followed to the directory */
#define WATCH_MASK                                                                         \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | \
	 IN_ATTRIB | IN_ONLYDIR | IN_EXCL_UNLINK)

struct watch {
	int ifd;
	int stop[2];
	pthread_t thread;
	pthread_mutex_t lock;
	uint64_t *wd_nodeid; /* wd -> directory nodeid (lock) */
	size_t nwd;
	int warned_full;
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

void watch_add_dir(struct fs *fs, struct inode *ino)
{
	struct watch *w = fs->watch;
	char path[32];
	int fd, wd;

	if (!w)
		return;
	pthread_mutex_lock(&ino->lock);
	if (ino->watch_wd) {
		pthread_mutex_unlock(&ino->lock);
		return;
	}
	fd = fs->be.ops->path_fd(&fs->be, ino);
	if (fd < 0) {
		pthread_mutex_unlock(&ino->lock);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(w->ifd, path, WATCH_MASK);
	close(fd);
	if (wd < 0) {
		pthread_mutex_unlock(&ino->lock);
		if (errno == ENOSPC && !__atomic_exchange_n(&w->warned_full, 1, __ATOMIC_RELAXED))
			pr_warn("out of inotify watches (fs.inotify.max_user_watches): changes "
				"behind the mount in more directories show only after the timeouts");
		return;
	}
	ino->watch_wd = wd;
	pthread_mutex_unlock(&ino->lock);
	pthread_mutex_lock(&w->lock);
	map_set(w, wd, ino->nodeid);
	pthread_mutex_unlock(&w->lock);
}

void watch_remove(struct fs *fs, struct inode *ino)
{
	struct watch *w = fs->watch;

	if (!w || !ino->watch_wd)
		return;
	pthread_mutex_lock(&w->lock);
	if ((size_t)ino->watch_wd < w->nwd && w->wd_nodeid[ino->watch_wd] == ino->nodeid)
		w->wd_nodeid[ino->watch_wd] = 0;
	pthread_mutex_unlock(&w->lock);
	inotify_rm_watch(w->ifd, ino->watch_wd);
	ino->watch_wd = 0;
}

static void inval_inode(struct fs *fs, uint64_t nodeid, int data)
{
	kstate_drop_attr(fs->ks, nodeid); /* the maps first, then the kernel's caches */
	/* off < 0: attributes only; len 0: to the end */
	fuse_lowlevel_notify_inval_inode(fs->se, nodeid, data ? 0 : -1, 0);
	stats_add(&fs->stats.invalidations, 1);
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
	struct inode_key key;
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

static void handle_event(struct fs *fs, const struct inotify_event *ev)
{
	uint64_t dir, child;

	if (ev->mask & IN_Q_OVERFLOW) {
		stats_add(&fs->stats.watch_overflows, 1);
		return;
	}
	dir = map_get(fs->watch, ev->wd);
	pr_debug("watch: wd %d dir %llu mask 0x%x name '%s'", ev->wd, (unsigned long long)dir,
		 ev->mask, ev->len ? ev->name : "");
	if (!dir)
		return;
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
	if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)) {
		/* the name (and any negative entry for it), the dir's mtime and listing */
		kstate_drop_name(fs->ks, dir, ev->name);
		fuse_lowlevel_notify_inval_entry(fs->se, dir, ev->name, strlen(ev->name));
		inval_inode(fs, dir, 1);
		stats_add(&fs->stats.invalidations, 1);
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			/* a hard link or a rename onto a known object changes its nlink/ctime */
			child = child_nodeid(fs, dir, ev->name, 1);
			if (child)
				inval_inode(fs, child, 0);
		}
		return;
	}
	child = child_nodeid(fs, dir, ev->name, 0);
	if (child)
		inval_inode(fs, child, (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE)) != 0);
}

static void *watch_thread(void *arg)
{
	struct fs *fs = arg;
	struct watch *w = fs->watch;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd[2] = { { .fd = w->ifd, .events = POLLIN },
				 { .fd = w->stop[0], .events = POLLIN } };

	for (;;) {
		ssize_t n;
		char *p;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents)
			break;
		n = read(w->ifd, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			break;
		}
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			handle_event(fs, ev);
			p += sizeof(*ev) + ev->len;
		}
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
	if (pipe2(w->stop, O_CLOEXEC)) {
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

	if (!w)
		return;
	if (write(w->stop[1], "x", 1) < 0)
		pr_warn("cannot stop the watcher: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	fs->watch = NULL;
	close(w->stop[0]);
	close(w->stop[1]);
	close(w->ifd);
	free(w->wd_nodeid);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

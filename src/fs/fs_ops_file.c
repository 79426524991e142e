// SPDX-License-Identifier: GPL-2.0
/*
 * fs_ops_file.c - the file operations: OPEN, CREATE, TMPFILE, READ, WRITE, FLUSH,
 * RELEASE, FSYNC, FALLOCATE, COPY_FILE_RANGE, LSEEK, IOCTL.
 */
#define FUSE_USE_VERSION 317
#include "fs_ops_priv.h"

static int opens_for_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* A writer is opening: the maps must stop serving this file's attributes. */
void writer_get(struct fs *fs, struct inode *ino, int flags)
{
	if (!opens_for_write(flags))
		return;
	__atomic_add_fetch(&ino->nwriters, 1, __ATOMIC_RELAXED);
	file_data_changed(fs, ino); /* the bytes may change from now on: no block is served */
	fastpath_drop_attr(fs->ks, ino->nodeid);
}

static void writer_put(struct fs *fs, struct inode *ino, int flags)
{
	/* seq_cst: pairs with the watcher's mark (watch.c, defer_if_writing_locked) */
	if (opens_for_write(flags) && !__atomic_sub_fetch(&ino->nwriters, 1, __ATOMIC_SEQ_CST)) {
		/* a GETATTR that read while it was written must not publish now */
		file_data_changed(fs, ino); /* nor a block published meanwhile be served */
		fastpath_drop_attr(fs->ks, ino->nodeid);
		watch_writer_done(fs, ino); /* changes behind the mount meanwhile */
	}
}

static void set_open_flags(struct fs *fs, struct fuse_file_info *fi)
{
	/* Without passthrough, O_DIRECT opens bypass the FUSE page cache too. */
	if (!fi->backing_id && (fi->flags & O_DIRECT))
		fi->direct_io = 1;
	if (!fi->backing_id)
		fi->keep_cache = fs->cfg->keep_cache;
	if (open_file_of(fi)->direct & BACKEND_OPEN_UNCACHED)
		fi->direct_io = 1;
	fi->parallel_direct_writes = 1;
	/*
	 * Closing a read-only open has nothing to do: locks are the kernel's,
	 * nothing is dirty (a store's close-time work is for writers), so the
	 * kernel need not send FLUSH (FOPEN_NOFLUSH).  Nor does closing a writer
	 * on a local disk filesystem (ext4, XFS, btrfs, tmpfs, ...: none does work
	 * at close): only S3 (the upload) and network sources (NFS writes back at
	 * close) need the FLUSH.
	 */
	if (((fi->flags & O_ACCMODE) == O_RDONLY && !(fi->flags & O_TRUNC)) ||
	    (fs->cfg->backend == BACKEND_LOCAL && !fs->cfg->remote_fs))
		fi->noflush = 1;
}

/*
 * Open @ino for I/O into a new struct open_file in fi->fh: @fd when the caller
 * has one (create), else the backend opens.  Returns 0 or -errno; on error
 * nothing is left open.
 */
static int open_file_new(struct fs *fs, struct inode *ino, struct fuse_file_info *fi, int fd)
{
	struct open_file *h = calloc(1, sizeof(*h));
	int direct = 0;
	void *priv = NULL;

	if (!h) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	if (fd < 0 && fs->be.ops->open_file)
		fd = fs->be.ops->open_file(&fs->be, ino, fi->flags, &direct, &priv);
	else if (fd < 0)
		fd = fs->be.ops->open(&fs->be, ino, fi->flags, NULL);
	if (fd < 0) {
		free(h);
		return fd;
	}
	h->fd = fd;
	h->direct = direct;
	h->flags = fi->flags;
	h->priv = priv;
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

/* Close what open_file_new() opened (the backend's last word first). */
static void open_file_free(struct fs *fs, struct inode *ino, struct fuse_file_info *fi)
{
	struct open_file *h = open_file_of(fi);

	if (fs->be.ops->release_file)
		fs->be.ops->release_file(&fs->be, ino, h->priv, h->fd);
	close(h->fd);
	free(h);
}

/*
 * The open a request on @ino with @fi is served with, in *@h: fi->fh's; for fh 0 (an OPEN
 * the kernel answered) on a backend whose opens hold state, the node's reader (file.c),
 * also in *@reader for file_reader_put(); else NULL (io_fd() decides).  0 or -errno.
 */
static int req_open(struct fs *fs, struct inode *ino, struct fuse_file_info *fi,
		    struct open_file **h, struct open_file **reader)
{
	int err;

	*reader = NULL;
	*h = fi && fi->fh ? open_file_of(fi) : NULL;
	if (*h || !fs->ks || !fs->be.ops->open_file || !S_ISREG(ino->type))
		return 0;
	err = file_reader_get(fs, ino, reader);
	*h = *reader;
	return err;
}

void op_open(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int err;

	op_begin(req, FUSE_OPEN);
	if (fs->cfg->kernel_open) {
		/*
		 * The kernel's no-open mode: after this ENOSYS it opens and closes
		 * every regular file of the mount itself (no OPEN, no RELEASE), with
		 * FOPEN_KEEP_CACHE; permissions are the kernel's (default_permissions,
		 * or only the mounting user).  Not an error: not counted as one.
		 */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if (read_only(req) && ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))) {
		reply_err(req, EROFS);
		return;
	}
	err = open_file_new(fs, ino, fi, -1);
	if (err) {
		reply_err(req, err);
		return;
	}
	/*
	 * O_TRUNC (atomic_o_trunc): the kernel asks the daemon to clear set-ID
	 * bits with FUSE_OPEN_KILL_SUIDGID, which libfuse does not pass on:
	 * decide from the caller's credentials.
	 */
	if (fs->killpriv && fs->setid && (fi->flags & O_TRUNC))
		err = drop_setid_bits(req, ino, open_file_of(fi)->fd);
	if (!err)
		err = file_open(fs, req, ino, fi, open_file_of(fi)->direct);
	if (err) {
		open_file_free(fs, ino, fi);
		reply_err(req, err);
		return;
	}
	writer_get(fs, ino, fi->flags);
	set_open_flags(fs, fi);
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* interrupted: no release will come for this open */
		open_file_free(fs, ino, fi);
		writer_put(fs, ino, fi->flags);
		file_release(fs, ino);
	}
}

/*
 * The second half of CREATE and TMPFILE: turn the new object (@be, open as
 * @fd; @name NULL for an unnamed file) into an inode and an open, and reply.
 */
static void reply_created(fuse_req_t req, uint64_t parent, const char *name,
			  struct backend_entry *be, int fd, struct fuse_file_info *fi, uint64_t ticket)
{
	struct fs *fs = req_fs(req);
	struct fuse_entry_param e;
	struct inode *ino;
	int err;

	err = make_entry(fs, parent, name, be, &e, ticket);
	if (err) {
		close(fd);
		reply_err(req, err);
		return;
	}
	ino = req_inode(req, e.ino);
	err = open_file_new(fs, ino, fi, fd);
	if (!err) {
		open_file_of(fi)->direct = fs->be.ops->create_direct;
		err = file_open(fs, req, ino, fi, open_file_of(fi)->direct);
		if (err)
			open_file_free(fs, ino, fi);
	}
	if (err) {
		inode_forget(&fs->inodes, ino, 1);
		reply_err(req, err);
		return;
	}
	writer_get(fs, ino, fi->flags);
	set_open_flags(fs, fi);
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		open_file_free(fs, ino, fi);
		writer_put(fs, ino, fi->flags);
		file_release(fs, ino);
		inode_forget(&fs->inodes, ino, 1);
	}
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct backend_cred cred = req_cred(req);
	struct backend_entry be;
	struct inode *dir;
	uint64_t ticket;
	int fd;

	op_begin(req, FUSE_CREATE);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	unpublish_name(fs, parent, name);
	ticket = fastpath_begin(fs->ks);
	fd = fs->be.ops->create(&fs->be, dir, name, mode, fi->flags, &cred, &be);
	fastpath_drop_negative(fs->ks, parent, name); /* a LOOKUP that missed it cannot say so */
	fastpath_drop_attr(fs->ks, parent); /* its mtime changed */
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	reply_created(req, parent, name, &be, fd, fi, ticket);
}

/* O_TMPFILE: an unnamed file in @parent, answered like a create. */
void op_tmpfile(fuse_req_t req, fuse_ino_t parent, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct backend_cred cred = req_cred(req);
	struct backend_entry be;
	struct inode *dir;
	uint64_t ticket;
	int fd;

	op_begin(req, FUSE_TMPFILE);
	REFUSE_IF_READ_ONLY(req);
	GET_INODE_OR_REPLY(dir, req, parent);
	if (!fs->be.ops->tmpfile) {
		reply_err(req, EOPNOTSUPP);
		return;
	}
	ticket = fastpath_begin(fs->ks);
	fd = fs->be.ops->tmpfile(&fs->be, dir, mode, fi->flags, &cred, &be);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	reply_created(req, parent, NULL, &be, fd, fi, ticket);
}

/*
 * The reply buffer of READs that the backend fills, one per worker thread and reused: a
 * fresh malloc of a 1 MiB READ is a fresh mmap, i.e. 256 page faults and zeroed pages for
 * every READ.  The kernel bounds @size by max_pages.
 */
struct read_buf {
	size_t cap;
	char data[];
};

static pthread_key_t read_buf_key;
static pthread_once_t read_buf_once = PTHREAD_ONCE_INIT;

static void read_buf_key_init(void)
{
	if (pthread_key_create(&read_buf_key, free))
		abort();
}

static char *thread_read_buf(size_t size)
{
	struct read_buf *b;

	pthread_once(&read_buf_once, read_buf_key_init);
	b = pthread_getspecific(read_buf_key);
	if (b && b->cap >= size)
		return b->data;
	free(b);
	b = malloc(sizeof(*b) + size);
	pthread_setspecific(read_buf_key, b);
	if (!b)
		return NULL;
	b->cap = size;
	return b->data;
}

void op_read(fuse_req_t req, fuse_ino_t nodeid, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	struct fs *fs = req_fs(req);
	struct open_file *h, *reader = NULL;
	struct stats *st = &fs->stats;
	struct inode *ino;
	struct stat sb;
	int fd, err, owned = 0;

	op_begin(req, FUSE_READ);
	if (off < 0) {
		reply_err(req, EINVAL);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	err = req_open(fs, ino, fi, &h, &reader);
	if (err) {
		reply_err(req, err);
		return;
	}
	if (h && h->direct && fs->be.ops->read_file) {
		/* not every byte is local: the backend fetches what is missing */
		struct backend_read_ref ref = { 0 };
		char *data;
		ssize_t n;

		data = thread_read_buf(size ? size : 1);
		if (!data) {
			file_reader_put(fs, ino, reader);
			reply_err(req, ENOMEM);
			return;
		}
		n = fs->be.ops->read_file(&fs->be, ino, h->priv, h->fd, data, size, off, &ref);
		if (n < 0)
			reply_err(req, (int)n);
		else
			fuse_reply_buf(req, ref.data ? ref.data : data, (size_t)n);
		if (ref.data)
			ref.put(&ref);
		file_reader_put(fs, ino, reader);
		/* after the reply: what the read stored is answered in the kernel next time */
		if (n > 0)
			file_fastpath_read_done(fs, ino, off, (size_t)n);
		return;
	}
	fd = h ? h->fd : io_fd(fs, ino, fi, 0, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fd;
	buf.buf[0].pos = off;
	/* count what the reply will carry: up to EOF */
	if (!fstat(fd, &sb) && sb.st_size > off)
		stats_add(&st->bytes_read_backend,
			  (uint64_t)sb.st_size - (uint64_t)off < size ? (uint64_t)(sb.st_size - off) :
									   size);
	stats_add(&st->reads_backend, 1);
	fuse_reply_data(req, &buf, 0);
	put_io_fd(fd, owned);
	file_reader_put(fs, ino, reader);
	/* an OPEN the kernel answered: the blocks it reads next are answered in the kernel */
	if (!fi->fh)
		file_fastpath_read_done(fs, ino, off, size);
}

/* kernel_open: the watcher takes the change events of this write for ours (watch.c) */
static void note_own_write(struct inode *ino)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	__atomic_store_n(&ino->own_write_ns,
			 (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec,
			 __ATOMIC_RELAXED);
}

void op_write_buf(fuse_req_t req, fuse_ino_t nodeid, struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	struct open_file *h = open_file_of(fi);
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int fd, owned;
	ssize_t n;

	op_begin(req, FUSE_WRITE);
	if (off < 0) {
		reply_err(req, EINVAL);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	fd = io_fd(fs, ino, fi, 1, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	if (!fi->fh)
		fastpath_drop_attr(fs->ks, nodeid); /* no open accounted it as a writer */
	/*
	 * A direct-I/O write (FOPEN_DIRECT_IO: O_DIRECT without passthrough) is
	 * the only one the kernel does not precede with file_remove_privs(): it
	 * flags the WRITE with FUSE_WRITE_KILL_SUIDGID instead, which libfuse
	 * does not pass on.  Page writeback (writepage) clears nothing, as on a
	 * local filesystem.
	 */
	if (fs->setid && h && !fi->writepage && (h->flags & O_DIRECT) && S_ISREG(ino->type)) {
		int err = drop_setid_bits(req, ino, fd);

		if (err) {
			put_io_fd(fd, owned);
			reply_err(req, err);
			return;
		}
	}
	/* the backend decides uploads from the writes it was told of */
	if (fs->be.ops->write_note && h)
		fs->be.ops->write_note(&fs->be, ino, h->priv, 0);
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = fd;
	out.buf[0].pos = off;
	if (!fi->fh)
		note_own_write(ino);
	n = fuse_buf_copy(&out, in, 0);
	put_io_fd(fd, owned);
	if (!fi->fh) {
		note_own_write(ino);
		file_data_changed(fs, ino); /* the bytes changed (no writer open bumps it) */
		fastpath_drop_attr(fs->ks, nodeid); /* size and mtime changed */
	}
	if (fs->be.ops->write_note && fi->fh)
		fs->be.ops->write_note(&fs->be, ino, open_file_of(fi)->priv, 1);
	if (n < 0) {
		reply_err(req, (int)n);
		return;
	}
	stats_add(&fs->stats.bytes_written, (uint64_t)n);
	fuse_reply_write(req, (size_t)n);
}

void op_flush(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct open_file *h = open_file_of(fi);
	struct inode *ino;
	int fd;

	op_begin(req, FUSE_FLUSH);
	if (fs->cfg->kernel_open) {
		/*
		 * Opens do not reach the daemon, so closes need not either: after
		 * this ENOSYS the kernel sends no FLUSH on this connection.  The local
		 * store's close-time work (NFS flushes) happens when the daemon closes
		 * its descriptor, or at fsync.  Not an error: not counted as one.
		 */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	if (!h) {
		/* an OPEN answered in the kernel (fh 0; it asked for no FLUSH): nothing held */
		reply_err(req, 0);
		return;
	}
	if (fs->be.ops->flush_file) {
		GET_INODE_OR_REPLY(ino, req, nodeid);
		reply_err(req, fs->be.ops->flush_file(&fs->be, ino, h->priv, h->fd));
		return;
	}
	/* Closing a duplicate runs the store's close-time work (NFS flushes). */
	fd = dup(h->fd);
	if (fd < 0 || close(fd)) {
		reply_err(req, errno);
		return;
	}
	reply_err(req, 0);
}

void op_release(fuse_req_t req, fuse_ino_t nodeid, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino = req_inode(req, nodeid);

	op_begin(req, FUSE_RELEASE);
	if (!fi->fh) {
		/* an OPEN answered in the kernel (fh 0), which sends none: nothing held */
		reply_err(req, 0);
		return;
	}
	if (ino) {
		open_file_free(fs, ino, fi);
		writer_put(fs, ino, fi->flags);
		file_release(fs, ino);
	} else {
		close(open_file_of(fi)->fd);
		free(open_file_of(fi));
	}
	reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t nodeid, int datasync, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct open_file *h = open_file_of(fi);
	struct inode *ino;
	int err = 0, fd, owned;

	op_begin(req, FUSE_FSYNC);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	fd = io_fd(fs, ino, fi, 0, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	if ((datasync ? fdatasync(fd) : fsync(fd)))
		err = -errno;
	put_io_fd(fd, owned);
	if (!err && h && fs->be.ops->flush_file)
		/* durable means durable in the store */
		err = fs->be.ops->flush_file(&fs->be, ino, h->priv, h->fd);
	reply_err(req, err);
}

void op_fallocate(fuse_req_t req, fuse_ino_t nodeid, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct inode *ino;
	int fd, owned, err = 0;

	op_begin(req, FUSE_FALLOCATE);
	if (read_only(req)) {
		reply_err(req, EROFS);
		return;
	}
	if (off < 0 || len <= 0) {
		reply_err(req, EINVAL);
		return;
	}
	GET_INODE_OR_REPLY(ino, req, nodeid);
	if (fs->be.ops->fallocate_file && fi->fh) {
		struct open_file *h = open_file_of(fi);

		reply_err(req, fs->be.ops->fallocate_file(&fs->be, ino, h->priv, h->fd, mode, off,
							  len));
		return;
	}
	fd = io_fd(fs, ino, fi, 1, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	if (fallocate(fd, mode, off, len))
		err = -errno;
	put_io_fd(fd, owned);
	reply_err(req, err);
}

void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct fs *fs = req_fs(req);
	struct open_file *h_in, *reader = NULL;
	struct inode *in, *out;
	int fd_in, fd_out, own_in, own_out, err;
	ssize_t n;

	op_begin(req, FUSE_COPY_FILE_RANGE);
	if (read_only(req)) {
		reply_err(req, EROFS);
		return;
	}
	if (off_in < 0 || off_out < 0) {
		reply_err(req, EINVAL);
		return;
	}
	GET_INODE_OR_REPLY(in, req, ino_in);
	GET_INODE_OR_REPLY(out, req, ino_out);
	err = req_open(fs, in, fi_in, &h_in, &reader);
	if (err) {
		reply_err(req, err);
		return;
	}
	if (fs->be.ops->copy_file && h_in && fi_out->fh) {
		/* the source's descriptor may not hold its bytes: the backend copies */
		n = fs->be.ops->copy_file(&fs->be, in, h_in->priv, h_in->fd, off_in, out,
					  open_file_of(fi_out)->priv, open_file_of(fi_out)->fd, off_out,
					  len, (unsigned int)flags);
		file_reader_put(fs, in, reader);
		goto reply;
	}
	file_reader_put(fs, in, reader);
	fd_in = io_fd(fs, in, fi_in, 0, &own_in);
	if (fd_in < 0) {
		reply_err(req, fd_in);
		return;
	}
	fd_out = io_fd(fs, out, fi_out, 1, &own_out);
	if (fd_out < 0) {
		put_io_fd(fd_in, own_in);
		reply_err(req, fd_out);
		return;
	}
	n = copy_file_range(fd_in, &off_in, fd_out, &off_out, len, (unsigned int)flags);
	if (n < 0)
		n = -errno;
	put_io_fd(fd_in, own_in);
	put_io_fd(fd_out, own_out);
reply:
	if (n < 0)
		reply_err(req, (int)n);
	else
		fuse_reply_write(req, (size_t)n);
}

void op_lseek(fuse_req_t req, fuse_ino_t nodeid, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct open_file *h, *reader = NULL;
	struct inode *ino;
	int fd, err, owned;
	off_t res;

	op_begin(req, FUSE_LSEEK);
	GET_INODE_OR_REPLY(ino, req, nodeid);
	err = req_open(fs, ino, fi, &h, &reader);
	if (err) {
		reply_err(req, err);
		return;
	}
	if (fs->be.ops->seek_file && h) {
		/* the descriptor may be a sparse cache file: the backend knows the object */
		res = fs->be.ops->seek_file(&fs->be, ino, h->priv, h->fd, off, whence);
		file_reader_put(fs, ino, reader);
		goto reply;
	}
	file_reader_put(fs, ino, reader);
	fd = io_fd(fs, ino, fi, 0, &owned);
	if (fd < 0) {
		reply_err(req, fd);
		return;
	}
	res = lseek(fd, off, whence);
	if (res < 0)
		res = -errno;
	put_io_fd(fd, owned);
reply:
	if (res < 0)
		reply_err(req, (int)res);
	else
		fuse_reply_lseek(req, res);
}

/*
 * No ioctl is forwarded to the source.  The kernel sends every ioctl it does
 * not handle itself, e.g. the TCGETS of isatty() that CPython's open() makes
 * on each file it opens, and it does not remember an ENOSYS: answer what a
 * local filesystem answers for an ioctl it does not know, at once.
 */
void op_ioctl(fuse_req_t req, fuse_ino_t nodeid, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned int flags, const void *in_buf,
		     size_t in_bufsz, size_t out_bufsz)
{
	(void)nodeid, (void)cmd, (void)arg, (void)fi, (void)flags, (void)in_buf, (void)in_bufsz,
		(void)out_bufsz;
	op_begin(req, FUSE_IOCTL);
	fuse_reply_err(req, ENOTTY); /* the answer, not a failure of the daemon */
}

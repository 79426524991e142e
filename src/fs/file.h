/* SPDX-License-Identifier: GPL-2.0 */
/*
 * file.h - open files: their descriptors and passthrough backing files.
 *
 * Every open gets its own descriptor (fi->fh), so flock(2), fsync and seeks
 * keep per-open-file semantics.  With passthrough, all opens of an inode
 * share one backing file registered with the kernel (one backing id per
 * inode, as the kernel requires), opened read-write when the object allows
 * it; the kernel then does reads, writes and mmap on it directly.
 */
#ifndef BPFUSE_FILE_H
#define BPFUSE_FILE_H

#include "fs.h"

struct fuse_file_info;
typedef struct fuse_req *fuse_req_t;

/* What fi->fh points to for a regular file. */
struct open_file {
	int fd;       /* descriptor holding the file's (local) bytes */
	int direct;   /* reads go through the backend's read_file() */
	int flags;    /* open(2) flags of this open */
	void *priv;   /* the backend's state of this open */
};

/*
 * Account a new open of @ino (with its own descriptor @fd in fi->fh) and,
 * when passthrough is on, attach the inode's backing file to @fi.
 * Returns 0 or -errno; on error the open is not accounted.
 */
int file_open(struct fs *fs, fuse_req_t req, struct inode *ino, struct fuse_file_info *fi,
		int direct);

/*
 * The last step of a release: drop the open, unregister the backing file
 * when it was the inode's last open.  May free @ino.
 */
void file_release(struct fs *fs, struct inode *ino);

/*
 * kernel_open (the kernel opens regular files without asking the daemon, so
 * its I/O requests carry no handle): the descriptor to serve a request on
 * @ino with, read-write when @write.  All such opens of an inode share one
 * read-only descriptor, and one read-write descriptor once a write came,
 * each opened by the first request that needs it and closed when the inode
 * goes (file_release_io()); past fs->io_fd_budget descriptors the request
 * gets its own and *owned says the caller must close it.  Returns the fd or
 * -errno.
 */
int file_io_fd(struct fs *fs, struct inode *ino, int write, int *owned);

/*
 * A request with fh 0 on regular file @ino of a backend with open_file (an OPEN the
 * kernel answered without passthrough, file.c): the open to serve it with, in *@h, and
 * 0; or -errno.  The node's reader while the kernel answers its OPENs, else an open for
 * this request alone; file_reader_put() when done.
 */
int file_reader_get(struct fs *fs, struct inode *ino, struct open_file **h);
void file_reader_put(struct fs *fs, struct inode *ino, struct open_file *h);

/*
 * How read-only OPENs of @ino are answered in the kernel (fastpath_put_attr()'s
 * open_id): a backing id, FASTPATH_OPEN_CACHED*, or 0 (not).
 */
int file_open_id(struct inode *ino);
/*
 * The data version of @ino's bytes to publish with its attributes and
 * blocks (assigned on first use); 0 without the fast path.
 */
uint64_t file_data_version(struct fs *fs, struct inode *ino);
/*
 * @ino's bytes may have changed (a write, a truncate, a change behind the
 * mount, a new object version): give them a new data version and put it in
 * the published inode value, so that no block published before is served.
 * Called before the change is replied to or invalidated.
 */
void file_data_changed(struct fs *fs, struct inode *ino);
/* The same for a node known by its number only (the watcher); no-op if unknown. */
void file_data_changed_id(struct fs *fs, uint64_t nodeid);
/*
 * May @ino be published now (0, with *until_ns the backend's deadline for
 * every value, 0 if none) or not (-1)?  When the backend says that the
 * version published for OPEN is no longer the node's, unpublishes it first;
 * so also the block entries held for another version (file.c, struct
 * fp_blocks).  Call without @ino->lock.
 */
int file_fastpath_until(struct fs *fs, struct inode *ino, uint64_t *until_ns);

/*
 * The daemon served a READ of @len bytes at @off of @ino (through the
 * backend's read_file(), or for an OPEN the kernel answered): publish the
 * fast-path blocks of that range that are now stored and verified (a local
 * file's: all of them again, if a change outdated them), so that the next
 * READs of them are answered in the kernel.  Call without @ino->lock.
 */
void file_fastpath_read_done(struct fs *fs, struct inode *ino, off_t off, size_t len);

/*
 * The fast-path blocks (1 << FASTPATH_BLOCK_SHIFT bytes) holding bytes
 * [@off, @off + @len) of a file of @n of them: [*first, *end), empty when
 * none (@len may be UINT64_MAX: to the end).
 */
void file_blocks_span(uint64_t off, uint64_t len, uint64_t n, uint64_t *first, uint64_t *end);

/*
 * The inode is being freed and its map entries are gone: close the backing
 * file it kept registered for OPENs answered in the kernel (and the one of
 * its block entries, if opens the daemon served were never released).
 */
void file_release_published(struct fs *fs, struct inode *ino);

/* Close @ino's shared kernel_open descriptor (the inode is being freed). */
void file_release_io(struct fs *fs, struct inode *ino);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h - the driver vtable between the FUSE operations and a store.
 *
 * fs_ops.c resolves nodeids to inodes and replies to the kernel; a backend
 * does the work on the store.  Every operation returns 0 (or a length) on
 * success and a negative errno on failure; nothing here talks to libfuse.
 * Open files are plain file descriptors (the backing file itself for the
 * local backend), so data I/O, passthrough, locks and seeks are done by
 * fs_ops.c on the descriptor, unless the backend says otherwise through the
 * optional file I/O hooks below (the S3 backend, whose bytes are not all local).
 */
#ifndef BPFUSE_BACKEND_H
#define BPFUSE_BACKEND_H

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "inode.h"

struct config;

/*
 * A freshly looked-up or created object.  It owns fd (-1 if none) and handle
 * (NULL if none) until an inode takes them; otherwise release_entry() frees.
 */
struct backend_entry {
	struct inode_key key;
	int fd;
	void *handle;
	struct stat st;
};

/*
 * Who asked: new objects are owned by the requesting user, and created with
 * its umask applied where the source filesystem would apply it (not under a
 * default ACL); 0 when the kernel applied the umask already.
 */
struct backend_cred {
	uid_t uid;
	gid_t gid;
	mode_t umask;
};

/* Bits for setattr's @to_set, the same as libfuse's FUSE_SET_ATTR_*. */
#define BACKEND_SET_MODE (1 << 0)
#define BACKEND_SET_UID (1 << 1)
#define BACKEND_SET_GID (1 << 2)
#define BACKEND_SET_SIZE (1 << 3)
#define BACKEND_SET_ATIME (1 << 4)
#define BACKEND_SET_MTIME (1 << 5)
#define BACKEND_SET_ATIME_NOW (1 << 7)
#define BACKEND_SET_MTIME_NOW (1 << 8)

struct backend;

struct backend_dir {
	off_t offset;          /* offset of the next entry to return */
	void *priv;            /* the backend's listing state */
};

/*
 * read_file() may answer with memory of its own instead of copying into the caller's
 * buffer: it sets @data, and the caller calls put(ref) once the reply is sent.
 */
struct backend_read_ref {
	const char *data;
	void (*put)(struct backend_read_ref *ref);
	void *owner, *item;
};

/* open_file()'s *direct bits */
#define BACKEND_OPEN_READ_FILE 1  /* READs go to read_file() */
#define BACKEND_OPEN_UNCACHED 2   /* ... and bypass the kernel page cache */
/*
 * In *direct on the call (open_file): the open is the node's reader, for READs of opens
 * the kernel answered itself (fs/file.c), not an OPEN of the kernel's
 */
#define BACKEND_OPEN_NODE_READER 4

struct backend_ops {
	const char *name;
	int (*open_root)(struct backend *be, struct backend_entry *out);
	void (*release_inode)(struct backend *be, struct inode *ino);
	void (*release_entry)(struct backend *be, struct backend_entry *e);
	/*
	 * optional: is known inode @ino still the object just looked up (@fd, @handle of a
	 * backend_entry)?  0 when its identity was reused by another object.
	 */
	int (*same_object)(struct backend *be, struct inode *ino, int fd, void *handle);
	/* A new O_PATH descriptor of @ino (the caller closes it), or -errno. */
	int (*path_fd)(struct backend *be, struct inode *ino);

	int (*lookup)(struct backend *be, struct inode *dir, const char *name,
		      struct backend_entry *out);
	/* @fd: an open descriptor of the object, or -1 */
	int (*getattr)(struct backend *be, struct inode *ino, int fd, struct stat *st);
	int (*setattr)(struct backend *be, struct inode *ino, int fd, const struct stat *attr,
		       int to_set);
	/* returns the target length (not terminated), or -errno */
	int (*readlink)(struct backend *be, struct inode *ino, char *buf, size_t size);
	int (*mknod)(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		     dev_t rdev, const struct backend_cred *cred, struct backend_entry *out);
	int (*symlink)(struct backend *be, struct inode *dir, const char *name, const char *target,
		       const struct backend_cred *cred, struct backend_entry *out);
	int (*link)(struct backend *be, struct inode *ino, struct inode *newdir,
		    const char *newname, struct backend_entry *out);
	int (*unlink)(struct backend *be, struct inode *dir, const char *name);
	int (*rmdir)(struct backend *be, struct inode *dir, const char *name);
	int (*rename)(struct backend *be, struct inode *dir, const char *name,
		      struct inode *newdir, const char *newname, unsigned int flags);
	/*
	 * open an I/O descriptor with open(2) @flags; returns it or -errno.  @priv: the
	 * backend's state of the open the descriptor is for (from open_file()), or NULL
	 */
	int (*open)(struct backend *be, struct inode *ino, int flags, void *priv);
	/* create and open; out->fd is the O_PATH handle, the return value the I/O fd */
	int (*create)(struct backend *be, struct inode *dir, const char *name, mode_t mode,
		      int flags, const struct backend_cred *cred, struct backend_entry *out);
	/*
	 * optional: an unnamed file in @dir (O_TMPFILE); like create, out->fd is
	 * the O_PATH handle and the return value the I/O descriptor
	 */
	int (*tmpfile)(struct backend *be, struct inode *dir, mode_t mode, int flags,
		       const struct backend_cred *cred, struct backend_entry *out);
	int (*opendir)(struct backend *be, struct inode *ino, struct backend_dir *d);
	/*
	 * Position @d at @off and return its next entry in *ent (1), or 0 at the
	 * end.  After the caller consumed *ent, backend_dir.offset is the offset
	 * to resume after it.
	 */
	int (*readdir)(struct backend *be, struct backend_dir *d, off_t off, struct dirent **ent);
	void (*closedir)(struct backend *be, struct backend_dir *d);
	/* optional: fsync(2) the directory (NULL: nothing to make durable, 0) */
	int (*fsyncdir)(struct backend *be, struct backend_dir *d, int datasync);
	int (*statfs)(struct backend *be, struct inode *ino, struct statvfs *st);
	int (*setxattr)(struct backend *be, struct inode *ino, const char *name,
			const char *value, size_t size, int flags);
	int (*getxattr)(struct backend *be, struct inode *ino, const char *name, char *buf,
			size_t size);
	int (*listxattr)(struct backend *be, struct inode *ino, char *buf, size_t size);
	int (*removexattr)(struct backend *be, struct inode *ino, const char *name);
	int (*access)(struct backend *be, struct inode *ino, int mask);

	/*
	 * Optional file I/O hooks, for stores whose bytes are not all local (the
	 * S3 backend).  NULL means the local behaviour: open() gives the file
	 * itself and data I/O is plain descriptor I/O.
	 *
	 * open_file: open @ino for I/O with open(2) @flags.  Returns a descriptor
	 * holding the file's bytes as far as they are local (a cache or staging
	 * file), or -errno.  Sets *direct to BACKEND_OPEN_* bits: READ_FILE when
	 * reads must go through read_file (not every byte is local; no passthrough
	 * then), plus UNCACHED when the kernel should not keep the bytes in its page
	 * cache either (FOPEN_DIRECT_IO); and *priv to the backend's state for this
	 * open (passed back below, may be NULL).
	 */
	int (*open_file)(struct backend *be, struct inode *ino, int flags, int *direct,
			 void **priv);
	/*
	 * read @size bytes at @off of an open into @buf, or leave them in memory of its
	 * own and say where in @ref (ref->data set; see struct backend_read_ref); returns
	 * the length or -errno
	 */
	ssize_t (*read_file)(struct backend *be, struct inode *ino, void *priv, int fd, char *buf,
			     size_t size, off_t off, struct backend_read_ref *ref);
	/* flush/fsync/last close: make the written bytes durable in the store */
	int (*flush_file)(struct backend *be, struct inode *ino, void *priv, int fd);
	/* the open is gone (after the last flush); free priv */
	void (*release_file)(struct backend *be, struct inode *ino, void *priv, int fd);
	/*
	 * Optional, for stores whose open descriptor may not hold every byte (NULL: the
	 * call is made on the descriptors).  copy_file: copy_file_range(2) of @len bytes
	 * from the open @pin (descriptor @fd_in) of @in at @off_in into the open @pout of
	 * @out at @off_out; returns the bytes copied (possibly fewer than @len) or -errno.
	 * seek_file: lseek(2) with SEEK_DATA or SEEK_HOLE; returns the offset or -errno.
	 * fallocate_file: fallocate(2); returns 0 or -errno.
	 */
	ssize_t (*copy_file)(struct backend *be, struct inode *in, void *pin, int fd_in,
			     off_t off_in, struct inode *out, void *pout, int fd_out,
			     off_t off_out, size_t len, unsigned int flags);
	off_t (*seek_file)(struct backend *be, struct inode *ino, void *priv, int fd, off_t off,
			   int whence);
	int (*fallocate_file)(struct backend *be, struct inode *ino, void *priv, int fd,
			      int mode, off_t off, off_t len);
	/*
	 * Optional: a WRITE into the open @priv of @ino is about to change its descriptor's
	 * bytes (@done 0), or has ended (@done 1, whatever its result).  Every WRITE gets
	 * both calls.
	 */
	void (*write_note)(struct backend *be, struct inode *ino, void *priv, int done);
	/* BACKEND_OPEN_* bits of the open that create() makes (open_file() is not called) */
	int create_direct;
	/*
	 * Optional: 1 when the entry readdir() just returned would cost the store a request
	 * to look up (S3: a HEAD for its attributes); READDIRPLUS then gives it without
	 * attributes, and the kernel looks it up when someone asks
	 */
	int (*entry_lazy)(struct backend *be, struct backend_dir *d);

	/*
	 * Optional, for stores whose backing files hold one version of an object (S3:
	 * a cache file per ETag) rather than the file itself.  With them the in-kernel
	 * fast path (fs/file.c) publishes such a store's nodes; without them only the
	 * local backend's.
	 * fastpath_check: may @ino be published now, and until when?  0 with
	 * *until_ns (CLOCK_MONOTONIC ns: the moment the backend would revalidate the
	 * node; every published value's deadline), or -errno (publish nothing).
	 * *stale is set to 1 when the version fastpath_hold() keeps is no longer the
	 * node's: the caller unpublishes it first.
	 * fastpath_hold: keep the backing file of the open @priv (a passthrough open)
	 * valid for as long as the kernel may answer OPENs with it; @backing_fd is the
	 * inode's backing file (which an earlier open may have registered): refused
	 * unless it is the file of @priv's version.  0 or -errno (not published).  fastpath_unhold: it is no longer published (map values deleted,
	 * backing id closed or left to the opens that use it).
	 */
	int (*fastpath_check)(struct backend *be, struct inode *ino, uint64_t *until_ns,
			      int *stale);
	int (*fastpath_hold)(struct backend *be, struct inode *ino, void *priv, int backing_fd);
	void (*fastpath_unhold)(struct backend *be, struct inode *ino);
	/*
	 * Optional, with the three above: block entries for an open the backend serves
	 * itself (read_file(): S3, an object partly in the cache), so that READs of the
	 * ranges that are local are answered in the kernel from the file that holds them.
	 * blocks_hold: keep the file holding the bytes of the open @priv's version at the
	 * object's offsets, and exactly at its size (the kernel's EOF), valid until
	 * blocks_unhold(); returns an O_RDONLY descriptor of it (the caller registers it
	 * as a backing file and closes it) or -errno.  Before any byte of it stops being
	 * valid (a block dropped for its checksum) @watch(@arg, 0, off, len) is called, and
	 * once bytes were stored there (verified now) @watch(@arg, 1, off, len), from any
	 * thread and under the backend's locks: it may only change map entries.
	 * blocks_ready: 1 when bytes [@off, @off + @len) of the held file may be read
	 * without the backend now (stored and verified), 0 when not, -ESTALE when the held
	 * version is no longer the node's (the caller unpublishes and unholds it).
	 */
	int (*fastpath_blocks_hold)(struct backend *be, struct inode *ino, void *priv,
				    void (*watch)(void *arg, int stored, uint64_t off, uint64_t len),
				    void *arg);
	int (*fastpath_blocks_ready)(struct backend *be, struct inode *ino, uint64_t off,
				     uint64_t len);
	void (*fastpath_blocks_unhold)(struct backend *be, struct inode *ino);

	/*
	 * Optional: the FUSE loop has ended and the session is about to go.  End
	 * the backend's threads that talk to the kernel (S3: invalidations).
	 */
	void (*stop)(struct backend *be);
};

struct fs;

struct backend {
	const struct backend_ops *ops;
	const struct config *cfg;
	struct fs *fs;   /* the mount this backend serves (set by fs_init()) */
	/*
	 * "" or a file where the driver's close() says what it still has to do (S3: uploads),
	 * one line, replaced as it goes; `bpfuse umount` shows it while it waits
	 */
	char progress_path[128];
	void *priv;      /* the backend's own state, behind the vtable */
};

/*
 * How a mount opens and closes its store.  The daemon picks the driver the config names
 * (backends/backends.c) and hands it to fs_init(), so this layer never names a backend.
 */
struct backend_driver {
	/* be->fs and be->cfg are set; 0 or -errno after one message; close() follows an error */
	int (*open)(struct backend *be, const struct config *cfg);
	void (*close)(struct backend *be);
};

#endif

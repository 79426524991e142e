/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_local_priv.h - what the files of the local backend share (backend_local.c,
 * backend_local_obj.c, backend_local_open.c): its state and object helpers.
 * Other modules use backend_local.h.
 */
#ifndef BPFUSE_BACKEND_LOCAL_PRIV_H
#define BPFUSE_BACKEND_LOCAL_PRIV_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "backend_local.h"
#include "backend.h"
#include "config.h"
#include "fs.h"
#include "log.h"
#include "watch.h"

#define PROC_FD_PATH_MAX 32

static inline void proc_path(char buf[PROC_FD_PATH_MAX], int fd)
{
	snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

#define MAX_MOUNTS 64

/* Descriptors on each mount inside the source, to open handles relative to. */
struct local_mounts {
	pthread_mutex_t lock;
	int n;
	int id[MAX_MOUNTS];
	int fd[MAX_MOUNTS];
};

/* The local backend's state (be->priv). */
struct local_be {
	int root_fd;     /* O_PATH fd of the source directory */
	/* inodes keep O_PATH fds up to fd_budget, file handles beyond */
	long fd_budget;
	long fds_kept;   /* atomic */
	struct local_mounts mounts; /* mount id -> fd, to open handles by */
	/* O_NOATIME on file and directory opens (-o noatime, nodiratime) */
	int file_noatime, dir_noatime;
};

static inline struct local_be *LB(struct backend *be)
{
	return be->priv;
}

struct local_handle {
	int mount_id;
	struct file_handle fh; /* variable length: must be last */
};

/* Declare and acquire an O_PATH descriptor of @ino named @var, or return. */
#define OBJ_FD_OR_RETURN(var, be, ino)          \
	int var = local_obj_fd((be), (ino));          \
	if (var < 0)                            \
		return var

void local_entry_economize(struct backend *be, struct backend_entry *e, int dirfd);

int local_obj_fd(struct backend *be, struct inode *ino);

void local_obj_put(struct inode *ino, int fd);

int local_path_fd(struct backend *be, struct inode *ino);

int local_check_name(const char *name);

int local_entry_from_fd(int fd, struct backend_entry *out);

int local_lookup_entry(struct backend *be, int dirfd, const char *name, struct backend_entry *out);

int local_open_root(struct backend *be, struct backend_entry *out);

void local_release_inode(struct backend *be, struct inode *ino);

int local_same_object(struct backend *be, struct inode *ino, int fd, void *handle);

void local_release_entry(struct backend *be, struct backend_entry *e);

#endif

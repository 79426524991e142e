/* SPDX-License-Identifier: GPL-2.0 */
/*
 * daemon_priv.h - what daemon.c (the mount lifecycle) and daemon_control.c (commands
 * on a running mount) share: the runtime files under BPFUSE_RUNTIME_DIR.
 * Other modules use daemon.h.
 */
#ifndef BPFUSE_DAEMON_PRIV_H
#define BPFUSE_DAEMON_PRIV_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 317
#endif

#include "daemon.h"
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backends.h"
#include "config.h"
#include "fastpath.h"
#include "fs.h"
#include "log.h"
#include "mountinfo.h"
#include "stats.h"
#include "trace.h"
#include "watch.h"

#define INIT_WAIT_S 30
/* the kernel's system-wide switch for FUSE-over-io_uring (Linux >= 6.14) */
#define URING_SWITCH "/sys/module/fuse/parameters/enable_uring"


void daemon_runtime_path(char *buf, size_t size, uint32_t conn, const char *ext);

struct runtime;
void daemon_runtime_opts_write(const struct config *cfg, struct runtime *rt, uint32_t conn);

void daemon_runtime_opts_read(uint32_t conn, char *buf, size_t size);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_s3.h - the S3 backend (backend_s3.c): a bucket, or a key prefix in one, as a
 * directory tree, with object bytes kept in the cache store.  See docs/s3.md.
 */
#ifndef BPFUSE_BACKEND_S3_H
#define BPFUSE_BACKEND_S3_H

#include <stdint.h>

struct backend;
struct config;
struct s3_client_opts;

extern const struct backend_ops backend_s3_ops;
extern const struct backend_driver backend_s3_driver;

/*
 * Load the credentials, make the client, prove endpoint, keys and bucket with one LIST,
 * open the cache directory.  Returns 0 or -errno after one line naming what failed (never
 * a secret).  The mount's counters (be->fs->stats) receive the backend's.  On error the
 * caller still calls close.  (backend_s3_driver's open and close.)
 */

/* The S3 client settings of a mount of @cfg: s3_timeout shared out, path style. */
void s3_mount_client_opts(const struct config *cfg, struct s3_client_opts *opts);

/* The inode number of an object key (64-bit FNV-1a with a splitmix64 finish, never 0). */
uint64_t s3_key_hash(const char *key);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_attrs.h - POSIX attributes in S3 user metadata (s3_attrs.c): parsing what a HEAD
 * returned, writing the request headers of a PUT or a copy.
 */
#ifndef BPFUSE_S3_ATTRS_H
#define BPFUSE_S3_ATTRS_H

#include <sys/types.h>
#include <time.h>

#include "s3_http.h"

/*
 * POSIX attributes kept in an object's user metadata, in s3fs's headers and encodings
 * (s3fs-fuse src/metaheader.cpp, s3fs.cpp), so that a bucket written by either reads the
 * same through the other:
 *   x-amz-meta-mode   st_mode with the file type bits, decimal ("33188" = S_IFREG|0644)
 *   x-amz-meta-uid, x-amz-meta-gid   decimal
 *   x-amz-meta-mtime, -atime, -ctime   seconds since the epoch, decimal, with
 *                     ".NNNNNNNNN" (nine digits) when the nanoseconds are not 0
 *   x-amz-meta-rdev   device number of a device node, decimal
 * A symlink is an object whose body is the target and whose mode is S_IFLNK|0777.
 * Read as s3fs reads them: a mode without type bits is a regular file (a directory for
 * keys ending in '/'); the s3sync names x-amz-meta-permissions/-owner/-group are taken
 * when ours are absent.
 */
#define S3_ATTR_MODE (1u << 0)
#define S3_ATTR_UID (1u << 1)
#define S3_ATTR_GID (1u << 2)
#define S3_ATTR_MTIME (1u << 3)
#define S3_ATTR_ATIME (1u << 4)
#define S3_ATTR_CTIME (1u << 5)
#define S3_ATTR_RDEV (1u << 6)

struct s3_attrs {
	unsigned int has;         /* S3_ATTR_* of the fields below that are set */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	dev_t rdev;
	struct timespec mtime, atime, ctime;
};

/*
 * Parse the user metadata @meta (s3_response.meta form) of object @key into @a (a->has
 * says what was there).  Values that are not numbers are left out.
 */
void s3_attrs_parse(const char *meta, const char *key, struct s3_attrs *a);

/*
 * The x-amz-meta-* request headers of @a into @kv (at most S3_ATTR_HEADERS entries), their
 * values in @buf; returns the number of headers.
 */
#define S3_ATTR_HEADERS 7
struct s3_attr_hdrs {
	struct s3_kv kv[S3_ATTR_HEADERS];
	char val[S3_ATTR_HEADERS][32];
	size_t n;
};
void s3_attrs_headers(const struct s3_attrs *a, struct s3_attr_hdrs *h);

#endif

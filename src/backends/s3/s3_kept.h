/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_kept.h - the files a failed upload keeps in <cache_dir>/staging: read them, and
 * upload one when its object is still the version it replaces.  Used by the mount
 * (s3_stage_recover()) and by `bpfuse staging` (staging.c).  Format (docs/s3.md):
 *	unuploaded-<UTC time>-<inode>        the bytes
 *	unuploaded-<UTC time>-<inode>.key    "s3://BUCKET/KEY", "endpoint URL", "etag ETAG",
 *	                                     "meta NAME:VALUE" lines
 * where ETAG is the version the bytes replace, "-" for a new object, and the meta lines
 * the object's POSIX attributes as its upload would have written them (s3_attrs.h: NAME
 * is the x-amz-meta-* header's name without the prefix; absent in older key files).  Both 0600 in the
 * 0700 staging directory; the key file is written last and removed first.  And the
 * journal of a multipart upload in flight (s3_mpu_note()), left by a daemon that died:
 *	mpu-<hash>                           "upload ID", "s3://BUCKET/KEY", "endpoint URL"
 */
#ifndef BPFUSE_S3_KEPT_H
#define BPFUSE_S3_KEPT_H

#include <sys/types.h>
#include <time.h>

#include "s3_attrs.h"
#include "s3_xml.h"

#define S3_KEPT_PREFIX "unuploaded-"
#define S3_KEPT_MPU_PREFIX "mpu-"
/* a line of a .key file: "s3://", a bucket and a key of up to 1,024 bytes */
#define S3_KEPT_LINE 1600

struct s3_client;

struct s3_kept {
	char name[256];            /* the data file, in the staging directory */
	char url[S3_KEPT_LINE];    /* s3://BUCKET/KEY */
	char bucket[256];          /* from url */
	char key[S3_KEPT_LINE];    /* from url, after the bucket's '/'; "" when unusable */
	char endpoint[512];        /* "" in key files without it */
	char etag[S3_ETAG_MAX];    /* "-": a new object; "": not recorded (older key files) */
	char upload_id[512];       /* a multipart journal's upload; "" for kept bytes */
	struct s3_attrs attrs;     /* from the meta lines (attrs.has 0: none) */
	off_t size;                /* of the data file (0 for a journal) */
	time_t kept;               /* when the key file was last written */
};

/* Is @name (a staging directory entry) the data file of a kept upload? */
int s3_kept_is_data(const char *name);

/*
 * Read the key file of @name in the staging directory @dfd and stat the data file.
 * Returns 0, -EINVAL (no usable key file: no "s3://BUCKET/KEY" first line) or -errno.
 */
int s3_kept_read(int dfd, const char *name, struct s3_kept *k);

/*
 * Is @k's object still the version its bytes replace (absent for "-")?  0 yes, -ESTALE
 * it changed, -ENODATA no version was recorded, else the HEAD's error.
 */
int s3_kept_check(struct s3_client *c, const struct s3_kept *k);

/*
 * Upload @k's bytes with its attributes, then remove its key and data files.  0 or
 * -errno (the files then stay).  A new object ("-") is put only if the name is still free (If-None-Match: *,
 * -EEXIST if not), unless @force.
 */
int s3_kept_put(struct s3_client *c, int dfd, const struct s3_kept *k, int force);

/* Remove @k's key file, then its data file, and sync the directory.  0 or -errno. */
int s3_kept_remove(int dfd, const struct s3_kept *k);

/*
 * Read the multipart journal @name (S3_KEPT_MPU_PREFIX...) of the staging directory @dfd
 * into @k (url, bucket, key, endpoint, upload_id, kept).  0, -EINVAL (no upload ID or
 * no "s3://BUCKET/KEY" line) or -errno.
 */
int s3_kept_read_mpu(int dfd, const char *name, struct s3_kept *k);

/*
 * Abort the multipart upload journaled in @k and remove the journal.  0 (also when the
 * store no longer knows the upload), or -errno (the journal stays).
 */
int s3_kept_abort(struct s3_client *c, int dfd, const struct s3_kept *k);

#endif

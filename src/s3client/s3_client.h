/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_client.h - the S3 operations the cloud backend needs, over s3_http.
 *
 * A struct s3_client is shared by all threads; every call is synchronous and returns 0 (or
 * a byte count) or a negative errno: -ENOENT (no such key/bucket), -EACCES (refused, bad
 * keys or signature), -EINVAL (bad argument, range), -ESTALE (the object changed under an
 * If-Match), -EIO (the server or the network failed and the retries ran out, see
 * s3_http.h for the bounded time that takes), -ENOMEM, or the errno of a local fd.
 * Keys are plain UTF-8 strings ("dir/file"), never URL-encoded by the caller.
 * Calls that move large objects use threads of their own (multipart upload, parallel
 * ranged GET) and return only when all of them are done.
 */
#ifndef BPFUSE_S3_CLIENT_H
#define BPFUSE_S3_CLIENT_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "s3_http.h"
#include "s3_sign.h"
#include "s3_xml.h"
#include "s3_attrs.h"

#define S3_MIN_PART_SIZE (5u << 20)   /* S3's floor for all parts but the last */
#define S3_MAX_PARTS 10000
#define S3_MAX_COPY_SIZE (5ull << 30) /* single CopyObject limit */

struct s3_client_opts {
	struct s3_http_opts http;
	size_t multipart_threshold;   /* s3_put_fd() bodies this big go multipart [16 MiB] */
	size_t part_size;             /* multipart part size, >= 5 MiB [8 MiB] */
	unsigned int upload_threads;  /* parts in flight at once [4] */
	size_t get_chunk;             /* ranged GET size of s3_get_parallel() [8 MiB] */
	unsigned int get_threads;     /* ranged GETs in flight at once [4] */
	/*
	 * Optional: told of every multipart upload s3_put_fd() starts (@active 1, before its
	 * first part) and ends (@active 0: completed or aborted), so that the caller can
	 * journal them and abort one left behind by a crash (s3_abort_multipart()).
	 */
	void (*mpu_note)(void *arg, const char *bucket, const char *key, const char *upload_id,
			 int active);
	void *mpu_arg;
};

void s3_client_opts_init(struct s3_client_opts *opts);

struct s3_client;

/* Endpoint and region as for s3_http_new(); @cred is copied.  NULL @opts = defaults. */
int s3_client_new(struct s3_client **out, const char *endpoint, const char *region,
		  const struct s3_sign_cred *cred, const struct s3_client_opts *opts);
void s3_client_free(struct s3_client *c);
/* The transport, for its counters (s3_http_stats()). */
struct s3_http *s3_client_http(struct s3_client *c);

struct s3_stat {
	off_t size;
	time_t mtime;
	char etag[S3_ETAG_MAX];   /* with quotes; identifies this version of the object */
	struct s3_attrs attrs;    /* what the user metadata said (HEAD only) */
	char content_type[S3_CTYPE_MAX];
	char meta[S3_META_MAX];   /* all user metadata, as s3_response.meta (HEAD only) */
};

/* HEAD: size, mtime, ETag, content type and user metadata of @key. */
int s3_head(struct s3_client *c, const char *bucket, const char *key, struct s3_stat *st);

/*
 * Read up to @len bytes at @off into @buf with one ranged GET.  Returns the number of bytes
 * read, short only at the end of the object and 0 at or past it.  With @if_match (an ETag)
 * the read fails with -ESTALE when the object is no longer that version.
 */
ssize_t s3_get_range(struct s3_client *c, const char *bucket, const char *key, off_t off,
		     size_t len, void *buf, const char *if_match);

/*
 * Stream @len bytes at @off (@len < 0: to the end) into @fd at @fd_off with pwrite.
 * *@got (may be NULL) receives the byte count written.  On error @fd may hold part of the
 * range (a retry starts again at @fd_off).
 */
int s3_get_to_fd(struct s3_client *c, const char *bucket, const char *key, off_t off, off_t len,
		 int fd, off_t fd_off, const char *if_match, off_t *got);

/*
 * Fetch the whole object into @fd at @fd_off with ranged GETs of get_chunk bytes,
 * get_threads at a time, all pinned to one version with If-Match.  @st gives size and ETag
 * (NULL: a HEAD is made first, and *@st is not returned).  -ESTALE if the object changes.
 */
int s3_get_parallel(struct s3_client *c, const char *bucket, const char *key,
		    const struct s3_stat *st, int fd, off_t fd_off);

/* PUT @len bytes of @buf as @key (one request; S3 caps that at 5 GiB). @etag may be NULL. */
int s3_put_buf(struct s3_client *c, const char *bucket, const char *key, const void *buf,
	       size_t len, char etag[S3_ETAG_MAX]);
/* The same with the user metadata of @a (NULL: none). */
int s3_put_buf_attrs(struct s3_client *c, const char *bucket, const char *key, const void *buf,
		     size_t len, const struct s3_attrs *a, char etag[S3_ETAG_MAX]);

/*
 * Upload @len bytes of @fd at @off as @key: one PUT below multipart_threshold, else a
 * multipart upload with upload_threads parts in flight (aborted on failure, so no parts are
 * left behind).  @fd is only read with pread.  @etag may be NULL.
 */
int s3_put_fd(struct s3_client *c, const char *bucket, const char *key, int fd, off_t off,
	      off_t len, char etag[S3_ETAG_MAX]);
/* The same with the user metadata of @a (NULL: none), on the PUT or the multipart upload. */
int s3_put_fd_attrs(struct s3_client *c, const char *bucket, const char *key, int fd, off_t off,
		    off_t len, const struct s3_attrs *a, char etag[S3_ETAG_MAX]);

/*
 * s3_put_buf() and s3_put_fd() made only if no object has the name (If-None-Match: *):
 * -EEXIST when one has (412).  A single PUT is atomic on stores that honour the condition
 * (AWS S3 since 2024-08, Ceph RGW 16 as tested; docs/s3.md); for a multipart upload the
 * condition is on the Complete, which RGW 16 ignores.  A store that ignores it just writes.
 */
int s3_put_buf_absent(struct s3_client *c, const char *bucket, const char *key,
		      const void *buf, size_t len, char etag[S3_ETAG_MAX]);
int s3_put_fd_absent(struct s3_client *c, const char *bucket, const char *key, int fd,
		     off_t off, off_t len, const struct s3_attrs *a, char etag[S3_ETAG_MAX]);

/* Abort the multipart upload @upload_id of @key: 0, or -ENOENT when it is gone already. */
int s3_abort_multipart(struct s3_client *c, const char *bucket, const char *key,
		       const char *upload_id);

/*
 * The raw ListMultipartUploads answer for @prefix (NULL = all) into *@xml (malloc'ed,
 * NUL-terminated; the caller frees it): for tools and tests.
 */
int s3_list_uploads_raw(struct s3_client *c, const char *bucket, const char *prefix,
			char **xml);

/* DELETE @key; deleting a key that does not exist succeeds, as in S3. */
int s3_delete(struct s3_client *c, const char *bucket, const char *key);

/*
 * Server-side copy (the building block of rename): objects up to 5 GiB, -EFBIG above
 * (UploadPartCopy is not implemented yet).  @etag (may be NULL) gets the new ETag.
 */
int s3_copy(struct s3_client *c, const char *src_bucket, const char *src_key,
	    const char *dst_bucket, const char *dst_key, char etag[S3_ETAG_MAX]);

/*
 * Replace the POSIX attributes of @key with @a, keeping its bytes and the rest of its user
 * metadata (@st: a HEAD of it just made; its content type is kept too): a server-side copy
 * of the object onto itself with x-amz-metadata-directive: REPLACE, only if it is still the
 * version @st->etag (else -ESTALE: HEAD again).  Objects over 5 GiB: -EFBIG.  @etag (may be
 * NULL) gets the ETag of the result.
 */
int s3_set_attrs(struct s3_client *c, const char *bucket, const char *key,
		 const struct s3_stat *st, const struct s3_attrs *a, char etag[S3_ETAG_MAX]);

/*
 * One ListObjectsV2 page of keys under @prefix (NULL = all), grouped at @delimiter (NULL =
 * flat), at most @max_keys (0 = server default, 1000), continuing after @token (NULL = from
 * the start).  Free @page with s3_list_page_free() whatever the result.
 */
int s3_list(struct s3_client *c, const char *bucket, const char *prefix, const char *delimiter,
	    unsigned int max_keys, const char *token, struct s3_list_page *page);
/* The same, and what the server answered in @resp (its status and S3 error code). */
int s3_list_resp(struct s3_client *c, const char *bucket, const char *prefix,
		 const char *delimiter, unsigned int max_keys, const char *token,
		 struct s3_list_page *page, struct s3_response *resp);

/*
 * All pages in turn: @cb gets each page (valid only during the call); a non-zero return
 * from @cb stops the walk and is returned.
 */
int s3_list_all(struct s3_client *c, const char *bucket, const char *prefix,
		const char *delimiter, unsigned int max_keys,
		int (*cb)(void *arg, const struct s3_list_page *page), void *arg);

/* Buckets: create (-EEXIST when it exists) and delete (-ENOTEMPTY unless empty). */
int s3_bucket_create(struct s3_client *c, const char *bucket);
int s3_bucket_delete(struct s3_client *c, const char *bucket);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_xml.h - the S3 XML documents bpfuse reads and writes, parsed with libxml2.
 *
 * Parsers take the raw response body and its length, never touch the network and never log:
 * they return 0 or -errno (-EBADMSG for a body that is not the document expected).
 * Element names are matched without regard to namespace, as servers differ on it.
 */
#ifndef BPFUSE_S3_XML_H
#define BPFUSE_S3_XML_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define S3_ETAG_MAX 128
#define S3_ERR_CODE_MAX 64

/* One <Contents> entry of a listing. */
struct s3_object {
	char *key;               /* decoded (EncodingType=url undone), malloc'd */
	off_t size;
	time_t mtime;            /* LastModified; 0 when absent or unparsable */
	char etag[S3_ETAG_MAX];  /* with its quotes, as the server sent it */
};

/* One page of ListObjectsV2. */
struct s3_list_page {
	struct s3_object *objects;
	size_t nobjects;
	char **prefixes;         /* CommonPrefixes, decoded, malloc'd */
	size_t nprefixes;
	int truncated;           /* IsTruncated: ask again with next_token */
	char *next_token;        /* NextContinuationToken (opaque, NOT decoded), or NULL */
};

/*
 * Sizes and ranges a server sends (<Size>, Content-Length, Content-Range) are checked
 * before anything uses them: plain decimal digits, no sign, at most S3_SIZE_MAX, which is
 * above what any S3-compatible store allows for one object (AWS 5 TiB, MinIO 50 TiB) and
 * far below where a block count or an offset could wrap.
 */
#define S3_SIZE_MAX ((off_t)1 << 46) /* 64 TiB */

/* @s: the whole value (surrounding blanks allowed).  0, or -EPROTO for anything else. */
int s3_parse_size(const char *s, off_t *out);

/*
 * Content-Range: "bytes FIRST-LAST/TOTAL", the same with a star for an unknown TOTAL
 * (@total = -1) or, with a 416, a star for the range (@first = @last = -1).
 * FIRST <= LAST < TOTAL, each a size as above.  0, or -EPROTO.
 */
int s3_parse_content_range(const char *s, off_t *first, off_t *last, off_t *total);

/*
 * Parse a ListObjectsV2 result into @page (zeroed first; free with s3_list_page_free()
 * whatever the result).  Returns 0, -EBADMSG (not a listing), -EPROTO (a <Size> missing,
 * negative, malformed or beyond S3_SIZE_MAX) or -ENOMEM.
 */
int s3_xml_parse_list(const char *xml, size_t len, struct s3_list_page *page);
void s3_list_page_free(struct s3_list_page *page);

/* How the HTTP layer should treat an error. */
enum s3_err_class {
	S3_ERR_FATAL,   /* return the errno */
	S3_ERR_RETRY,   /* transient (SlowDown, InternalError, ...): back off and retry */
};

/*
 * Map an S3 error code ("NoSuchKey") and the HTTP status to a negative errno and a class.
 * Unknown codes fall back on the status (404 -> ENOENT, 403 -> EACCES, 5xx -> retry, EIO).
 *   NoSuchKey, NoSuchBucket, NoSuchUpload       -> ENOENT
 *   AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, RequestTimeTooSkewed,
 *   ExpiredToken, InvalidToken                  -> EACCES
 *   InvalidRange                                -> EINVAL (reading at or past the end)
 *   PreconditionFailed                          -> ESTALE (the object changed: If-Match)
 *   BucketNotEmpty                              -> ENOTEMPTY
 *   BucketAlreadyExists, BucketAlreadyOwnedByYou -> EEXIST
 *   EntityTooLarge                              -> EFBIG
 *   EntityTooSmall, InvalidPart, InvalidPartOrder, InvalidArgument, InvalidRequest,
 *   MalformedXML, InvalidBucketName, KeyTooLongError -> EINVAL
 *   QuotaExceeded                               -> EDQUOT
 *   SlowDown, ServiceUnavailable, InternalError, RequestTimeout, 500/502/503/504 -> retry, EIO
 */
int s3_xml_errno(const char *code, long http_status, enum s3_err_class *cls);

/*
 * If @xml is an <Error> document, copy its Code into @code and return 1; 0 when it is
 * something else (some calls answer 200 with an <Error> body: CopyObject,
 * CompleteMultipartUpload); -EBADMSG when it is not XML.
 */
int s3_xml_parse_error(const char *xml, size_t len, char code[S3_ERR_CODE_MAX]);

/* The UploadId of an InitiateMultipartUploadResult; -EBADMSG when absent. */
int s3_xml_parse_upload_id(const char *xml, size_t len, char *upload_id, size_t size);

/* The ETag of a CopyObjectResult or CompleteMultipartUploadResult; -EBADMSG when absent. */
int s3_xml_parse_etag(const char *xml, size_t len, char etag[S3_ETAG_MAX]);

/*
 * The body of CompleteMultipartUpload for parts 1..@nparts with @etags[i] the ETag of part
 * i + 1.  malloc'd, NULL on ENOMEM.
 */
char *s3_xml_complete_body(char (*etags)[S3_ETAG_MAX], size_t nparts);

/* Parse an ISO 8601 UTC time ("2009-10-12T17:50:30.000Z"); 0 when it cannot. */
time_t s3_xml_parse_time(const char *s);

#endif

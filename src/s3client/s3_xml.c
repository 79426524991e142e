// SPDX-License-Identifier: GPL-2.0
/*
 * s3_xml.c - ListObjectsV2, Error, InitiateMultipartUpload and CompleteMultipartUpload
 * documents with libxml2's tree API.  Listing pages are at most 1,000 keys, so building
 * the tree costs little and keeps the code simple.
 */
#include "s3_xml.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	/* libxml2 wants this before parsing from several threads at once */
	xmlInitParser();
}

static xmlDocPtr parse(const char *xml, size_t len)
{
	pthread_once(&xml_once, xml_init);
	if (!xml || !len || len > (size_t)0x7fffffff)
		return NULL;
	/* no network, no entity expansion, no DTDs: the body comes from the network */
	return xmlReadMemory(xml, (int)len, "s3.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int is(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (is(n, name))
			return n;
	return NULL;
}

/* Text of child @name of @n, malloc'd ("" for an empty element), NULL when absent. */
static char *child_text(xmlNodePtr n, const char *name)
{
	xmlNodePtr c = child(n, name);
	xmlChar *t;
	char *s;

	if (!c)
		return NULL;
	t = xmlNodeGetContent(c);
	s = strdup(t ? (const char *)t : "");
	xmlFree(t);
	return s;
}

static int child_copy(xmlNodePtr n, const char *name, char *out, size_t size)
{
	char *s = child_text(n, name);
	int err = 0;

	if (!s)
		return -ENOENT;
	if (strlen(s) >= size)
		err = -EBADMSG;
	else
		strcpy(out, s);
	free(s);
	return err;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo EncodingType=url in place ('+' is a space there, as in form encoding). */
static void url_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else if (*s == '+') {
			*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

time_t s3_xml_parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *p;

	if (!s)
		return 0;
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return 0;
	return timegm(&tm);
}

int s3_parse_size(const char *s, off_t *out)
{
	unsigned long long v = 0;
	int digits = 0;

	if (!s)
		return -EPROTO;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long long)(*s - '0');
		if (++digits > 15 || v > (unsigned long long)S3_SIZE_MAX)
			return -EPROTO; /* 15 digits cannot overflow before the check */
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (!digits || *s)
		return -EPROTO;
	*out = (off_t)v;
	return 0;
}

/* The size at the start of @s, ending before @stop; @s moves past it. */
static int parse_size_until(const char **s, char stop, off_t *out)
{
	char buf[24];
	const char *end = strchr(*s, stop);
	size_t n;

	if (!end || (n = (size_t)(end - *s)) == 0 || n >= sizeof(buf))
		return -EPROTO;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789") != n)
		return -EPROTO;
	*s = end + 1;
	return s3_parse_size(buf, out);
}

int s3_parse_content_range(const char *s, off_t *first, off_t *last, off_t *total)
{
	off_t f = -1, l = -1, t = -1;

	if (!s || strncasecmp(s, "bytes ", 6))
		return -EPROTO;
	s += 6;
	while (*s == ' ')
		s++;
	if (!strncmp(s, "*/", 2)) {
		s += 2;
		if (s3_parse_size(s, &t) || strspn(s, "0123456789") != strlen(s))
			return -EPROTO;
	} else {
		if (parse_size_until(&s, '-', &f) || parse_size_until(&s, '/', &l) || f > l)
			return -EPROTO;
		if (strcmp(s, "*")) {
			if (!*s || strspn(s, "0123456789") != strlen(s) || s3_parse_size(s, &t) ||
			    l >= t)
				return -EPROTO;
		}
	}
	*first = f;
	*last = l;
	*total = t;
	return 0;
}

void s3_list_page_free(struct s3_list_page *page)
{
	size_t i;

	for (i = 0; i < page->nobjects; i++)
		free(page->objects[i].key);
	for (i = 0; i < page->nprefixes; i++)
		free(page->prefixes[i]);
	free(page->objects);
	free(page->prefixes);
	free(page->next_token);
	memset(page, 0, sizeof(*page));
}

int s3_xml_parse_list(const char *xml, size_t len, struct s3_list_page *page)
{
	size_t nobj = 0, npre = 0;
	xmlNodePtr root, n;
	xmlDocPtr doc;
	int urlenc, err;
	char *s;

	memset(page, 0, sizeof(*page));
	doc = parse(xml, len);
	if (!doc)
		return -EBADMSG;
	err = -EBADMSG;
	root = xmlDocGetRootElement(doc);
	if (!root || !is(root, "ListBucketResult"))
		goto out;

	s = child_text(root, "EncodingType");
	urlenc = s && !strcmp(s, "url");
	free(s);
	s = child_text(root, "IsTruncated");
	page->truncated = s && !strcmp(s, "true");
	free(s);
	page->next_token = child_text(root, "NextContinuationToken");

	for (n = root->children; n; n = n->next) {
		if (is(n, "Contents"))
			nobj++;
		else if (is(n, "CommonPrefixes"))
			npre++;
	}
	err = -ENOMEM;
	page->objects = calloc(nobj ? nobj : 1, sizeof(*page->objects));
	page->prefixes = calloc(npre ? npre : 1, sizeof(*page->prefixes));
	if (!page->objects || !page->prefixes)
		goto out;

	for (n = root->children; n; n = n->next) {
		if (is(n, "Contents")) {
			struct s3_object *o = &page->objects[page->nobjects];

			err = -EBADMSG;
			o->key = child_text(n, "Key");
			if (!o->key)
				goto out;
			page->nobjects++;
			if (urlenc)
				url_decode(o->key);
			s = child_text(n, "Size");
			err = s3_parse_size(s, &o->size);
			free(s);
			if (err)
				goto out;
			err = -EBADMSG;
			s = child_text(n, "LastModified");
			o->mtime = s3_xml_parse_time(s);
			free(s);
			if (child_copy(n, "ETag", o->etag, sizeof(o->etag)) == -EBADMSG)
				goto out;
		} else if (is(n, "CommonPrefixes")) {
			err = -EBADMSG;
			s = child_text(n, "Prefix");
			if (!s)
				goto out;
			if (urlenc)
				url_decode(s);
			page->prefixes[page->nprefixes++] = s;
		}
	}
	err = 0;
	if (page->truncated && (!page->next_token || !*page->next_token))
		err = -EBADMSG; /* would loop forever */
out:
	xmlFreeDoc(doc);
	return err;
}

int s3_xml_parse_error(const char *xml, size_t len, char code[S3_ERR_CODE_MAX])
{
	xmlNodePtr root;
	xmlDocPtr doc;
	int ret = 0;

	code[0] = '\0';
	doc = parse(xml, len);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	if (root && is(root, "Error")) {
		if (child_copy(root, "Code", code, S3_ERR_CODE_MAX))
			snprintf(code, S3_ERR_CODE_MAX, "Unknown");
		ret = 1;
	}
	xmlFreeDoc(doc);
	return ret;
}

int s3_xml_parse_upload_id(const char *xml, size_t len, char *upload_id, size_t size)
{
	xmlNodePtr root;
	xmlDocPtr doc;
	int err = -EBADMSG;

	doc = parse(xml, len);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	if (root && is(root, "InitiateMultipartUploadResult") &&
	    !child_copy(root, "UploadId", upload_id, size) && *upload_id)
		err = 0;
	xmlFreeDoc(doc);
	return err;
}

int s3_xml_parse_etag(const char *xml, size_t len, char etag[S3_ETAG_MAX])
{
	xmlNodePtr root;
	xmlDocPtr doc;
	int err = -EBADMSG;

	doc = parse(xml, len);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	if (root && (is(root, "CopyObjectResult") || is(root, "CompleteMultipartUploadResult")) &&
	    !child_copy(root, "ETag", etag, S3_ETAG_MAX))
		err = 0;
	xmlFreeDoc(doc);
	return err;
}

char *s3_xml_complete_body(char (*etags)[S3_ETAG_MAX], size_t nparts)
{
	static const char head[] = "<CompleteMultipartUpload>";
	static const char tail[] = "</CompleteMultipartUpload>";
	size_t cap = sizeof(head) + sizeof(tail) + nparts * (S3_ETAG_MAX * 6 + 80), len, i;
	char *out, *p;

	out = malloc(cap);
	if (!out)
		return NULL;
	len = (size_t)sprintf(out, "%s", head);
	for (i = 0; i < nparts; i++) {
		len += (size_t)sprintf(out + len, "<Part><PartNumber>%zu</PartNumber><ETag>",
				       i + 1);
		/* ETags are quoted hex; escape anyway so no server value can break the XML */
		for (p = etags[i]; *p; p++) {
			if (*p == '&')
				len += (size_t)sprintf(out + len, "&amp;");
			else if (*p == '<')
				len += (size_t)sprintf(out + len, "&lt;");
			else if (*p == '>')
				len += (size_t)sprintf(out + len, "&gt;");
			else
				out[len++] = *p;
		}
		len += (size_t)sprintf(out + len, "</ETag></Part>");
	}
	sprintf(out + len, "%s", tail);
	return out;
}

static const struct {
	const char *code;
	int err;
	enum s3_err_class cls;
} s3_codes[] = {
	{ "NoSuchKey", -ENOENT, S3_ERR_FATAL },
	{ "NoSuchBucket", -ENOENT, S3_ERR_FATAL },
	{ "NoSuchUpload", -ENOENT, S3_ERR_FATAL },
	{ "AccessDenied", -EACCES, S3_ERR_FATAL },
	{ "SignatureDoesNotMatch", -EACCES, S3_ERR_FATAL },
	{ "InvalidAccessKeyId", -EACCES, S3_ERR_FATAL },
	{ "RequestTimeTooSkewed", -EACCES, S3_ERR_FATAL },
	{ "ExpiredToken", -EACCES, S3_ERR_FATAL },
	{ "InvalidToken", -EACCES, S3_ERR_FATAL },
	{ "InvalidRange", -EINVAL, S3_ERR_FATAL },
	{ "PreconditionFailed", -ESTALE, S3_ERR_FATAL },
	{ "BucketNotEmpty", -ENOTEMPTY, S3_ERR_FATAL },
	{ "BucketAlreadyExists", -EEXIST, S3_ERR_FATAL },
	{ "BucketAlreadyOwnedByYou", -EEXIST, S3_ERR_FATAL },
	{ "EntityTooLarge", -EFBIG, S3_ERR_FATAL },
	{ "EntityTooSmall", -EINVAL, S3_ERR_FATAL },
	{ "InvalidPart", -EINVAL, S3_ERR_FATAL },
	{ "InvalidPartOrder", -EINVAL, S3_ERR_FATAL },
	{ "InvalidArgument", -EINVAL, S3_ERR_FATAL },
	{ "InvalidRequest", -EINVAL, S3_ERR_FATAL },
	{ "MalformedXML", -EINVAL, S3_ERR_FATAL },
	{ "InvalidBucketName", -EINVAL, S3_ERR_FATAL },
	{ "KeyTooLongError", -ENAMETOOLONG, S3_ERR_FATAL },
	{ "QuotaExceeded", -EDQUOT, S3_ERR_FATAL },
	{ "SlowDown", -EIO, S3_ERR_RETRY },
	{ "ServiceUnavailable", -EIO, S3_ERR_RETRY },
	{ "InternalError", -EIO, S3_ERR_RETRY },
	{ "RequestTimeout", -EIO, S3_ERR_RETRY },
};

int s3_xml_errno(const char *code, long http_status, enum s3_err_class *cls)
{
	size_t i;

	*cls = S3_ERR_FATAL;
	for (i = 0; code && *code && i < sizeof(s3_codes) / sizeof(s3_codes[0]); i++) {
		if (!strcmp(code, s3_codes[i].code)) {
			*cls = s3_codes[i].cls;
			return s3_codes[i].err;
		}
	}
	switch (http_status) {
	case 400:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 412:
		return -ESTALE;
	case 416:
		return -EINVAL;
	case 500:
	case 502:
	case 503:
	case 504:
		*cls = S3_ERR_RETRY;
		return -EIO;
	default:
		return -EIO;
	}
}

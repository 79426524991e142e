// SPDX-License-Identifier: GPL-2.0
/*
 * s3_attrs.c - POSIX attributes in S3 user metadata, with s3fs's names and encodings
 * (s3_attrs.h): parsed from a HEAD's x-amz-meta-* headers, written as request headers.
 */
#include "s3_attrs.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A decimal number of at most @max; 0 when @s is one. */
static int parse_dec(const char *s, size_t len, unsigned long long max,
		     unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (!len || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (max - (unsigned long long)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "SEC" or "SEC.FRACTION" (s3fs writes nine digits, rclone may write fewer) */
static int parse_time(const char *s, size_t len, struct timespec *ts)
{
	const char *dot = memchr(s, '.', len);
	unsigned long long sec, ns = 0;
	size_t fl, i;

	if (parse_dec(s, dot ? (size_t)(dot - s) : len, INT64_MAX, &sec))
		return -EINVAL;
	if (dot) {
		fl = len - (size_t)(dot - s) - 1;
		for (i = 0; i < 9; i++) {
			char ch = i < fl ? dot[1 + i] : '0';

			if (ch < '0' || ch > '9')
				return -EINVAL;
			ns = ns * 10 + (unsigned long long)(ch - '0');
		}
	}
	ts->tv_sec = (time_t)sec;
	ts->tv_nsec = (long)ns;
	return 0;
}

static int mode_type_ok(mode_t m)
{
	switch (m & S_IFMT) {
	case 0: case S_IFREG: case S_IFDIR: case S_IFLNK: case S_IFIFO: case S_IFSOCK:
	case S_IFCHR: case S_IFBLK:
		return 1;
	}
	return 0;
}

void s3_attrs_parse(const char *meta, const char *key, struct s3_attrs *a)
{
	unsigned int alt = 0; /* s3sync's names, used when ours are absent */
	struct s3_attrs alt_a;
	const char *line, *nl;

	memset(a, 0, sizeof(*a));
	memset(&alt_a, 0, sizeof(alt_a));
	for (line = meta; *line; line = nl + 1) {
		const char *colon, *v;
		unsigned long long x;
		size_t n, vl;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		colon = memchr(line, ':', (size_t)(nl - line));
		if (!colon)
			continue;
		n = (size_t)(colon - line);
		v = colon + 1;
		vl = (size_t)(nl - v);
#define IS(name) (n == sizeof(name) - 1 && !memcmp(line, name, n))
		if ((IS("mode") || IS("permissions")) && !parse_dec(v, vl, 0177777, &x) &&
		    mode_type_ok((mode_t)x)) {
			if (IS("mode")) {
				a->mode = (mode_t)x;
				a->has |= S3_ATTR_MODE;
			} else {
				alt_a.mode = (mode_t)x;
				alt |= S3_ATTR_MODE;
			}
		} else if ((IS("uid") || IS("owner")) && !parse_dec(v, vl, UINT32_MAX - 1, &x)) {
			if (IS("uid")) {
				a->uid = (uid_t)x;
				a->has |= S3_ATTR_UID;
			} else {
				alt_a.uid = (uid_t)x;
				alt |= S3_ATTR_UID;
			}
		} else if ((IS("gid") || IS("group")) && !parse_dec(v, vl, UINT32_MAX - 1, &x)) {
			if (IS("gid")) {
				a->gid = (gid_t)x;
				a->has |= S3_ATTR_GID;
			} else {
				alt_a.gid = (gid_t)x;
				alt |= S3_ATTR_GID;
			}
		} else if (IS("mtime") && !parse_time(v, vl, &a->mtime) && a->mtime.tv_sec > 0) {
			a->has |= S3_ATTR_MTIME;
		} else if (IS("atime") && !parse_time(v, vl, &a->atime) && a->atime.tv_sec > 0) {
			a->has |= S3_ATTR_ATIME;
		} else if (IS("ctime") && !parse_time(v, vl, &a->ctime) && a->ctime.tv_sec > 0) {
			a->has |= S3_ATTR_CTIME;
		} else if (IS("rdev") && !parse_dec(v, vl, UINT32_MAX, &x)) {
			a->rdev = (dev_t)x;
			a->has |= S3_ATTR_RDEV;
		}
#undef IS
	}
	if ((alt & S3_ATTR_MODE) && !(a->has & S3_ATTR_MODE)) {
		a->mode = alt_a.mode;
		a->has |= S3_ATTR_MODE;
	}
	if ((alt & S3_ATTR_UID) && !(a->has & S3_ATTR_UID)) {
		a->uid = alt_a.uid;
		a->has |= S3_ATTR_UID;
	}
	if ((alt & S3_ATTR_GID) && !(a->has & S3_ATTR_GID)) {
		a->gid = alt_a.gid;
		a->has |= S3_ATTR_GID;
	}
	/* as s3fs: a mode without its type is a file, or a directory for "dir/" keys */
	if ((a->has & S3_ATTR_MODE) && !(a->mode & S_IFMT)) {
		size_t kl = key ? strlen(key) : 0;

		a->mode |= kl && key[kl - 1] == '/' ? S_IFDIR : S_IFREG;
	}
}

static void fmt_time(char *buf, size_t size, const struct timespec *ts)
{
	if (ts->tv_nsec)
		snprintf(buf, size, "%lld.%09ld", (long long)ts->tv_sec, ts->tv_nsec);
	else
		snprintf(buf, size, "%lld", (long long)ts->tv_sec);
}

void s3_attrs_headers(const struct s3_attrs *a, struct s3_attr_hdrs *h)
{
	h->n = 0;
	if (!a)
		return;
#define ADD(flag, hname, ...)                                                           \
	do {                                                                           \
		if (a->has & (flag)) {                                                 \
			__VA_ARGS__;                                                   \
			h->kv[h->n].name = "x-amz-meta-" hname;                       \
			h->kv[h->n].value = h->val[h->n];                              \
			h->n++;                                                        \
		}                                                                      \
	} while (0)
	ADD(S3_ATTR_MODE, "mode", snprintf(h->val[h->n], 32, "%u", (unsigned int)a->mode));
	ADD(S3_ATTR_UID, "uid", snprintf(h->val[h->n], 32, "%u", (unsigned int)a->uid));
	ADD(S3_ATTR_GID, "gid", snprintf(h->val[h->n], 32, "%u", (unsigned int)a->gid));
	ADD(S3_ATTR_MTIME, "mtime", fmt_time(h->val[h->n], 32, &a->mtime));
	ADD(S3_ATTR_ATIME, "atime", fmt_time(h->val[h->n], 32, &a->atime));
	ADD(S3_ATTR_CTIME, "ctime", fmt_time(h->val[h->n], 32, &a->ctime));
	ADD(S3_ATTR_RDEV, "rdev", snprintf(h->val[h->n], 32, "%llu",
					   (unsigned long long)a->rdev));
#undef ADD
}

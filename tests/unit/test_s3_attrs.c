// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the POSIX attributes in S3 user metadata (s3_client.c): s3fs's header
 * names and encodings, both ways, and what is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "s3_client.h"

/* what s3fs 1.90 wrote for `touch -d '1999-12-31 23:59:58.5'` of a 0640 file of 777:888 */
static void test_parse_s3fs(void **state)
{
	struct s3_attrs a;

	(void)state;
	s3_attrs_parse("atime:946684798.500000000\nctime:946684798.500000000\ngid:888\n"
		       "mode:33184\nmtime:946684798.500000000\nuid:777\nother:kept\n", "g", &a);
	assert_int_equal(a.has, S3_ATTR_MODE | S3_ATTR_UID | S3_ATTR_GID | S3_ATTR_MTIME |
				S3_ATTR_ATIME | S3_ATTR_CTIME);
	assert_int_equal(a.mode, S_IFREG | 0640);
	assert_int_equal(a.uid, 777);
	assert_int_equal(a.gid, 888);
	assert_int_equal(a.mtime.tv_sec, 946684798);
	assert_int_equal(a.mtime.tv_nsec, 500000000);
	/* seconds only (s3fs's symlinks and FIFOs), a short fraction (rclone) */
	s3_attrs_parse("mtime:1796124472\natime:1.5\n", "x", &a);
	assert_int_equal(a.mtime.tv_sec, 1796124472);
	assert_int_equal(a.mtime.tv_nsec, 0);
	assert_int_equal(a.atime.tv_nsec, 500000000);
}

static void test_parse_type_and_alt(void **state)
{
	struct s3_attrs a;

	(void)state;
	/* no type bits: a file, or a directory for a "dir/" key (as s3fs) */
	s3_attrs_parse("mode:493\n", "d/", &a);
	assert_int_equal(a.mode, S_IFDIR | 0755);
	s3_attrs_parse("mode:420\n", "f", &a);
	assert_int_equal(a.mode, S_IFREG | 0644);
	/* s3sync's names when ours are absent; ours win */
	s3_attrs_parse("permissions:33261\nowner:5\ngroup:6\n", "f", &a);
	assert_int_equal(a.mode, S_IFREG | 0755);
	assert_int_equal(a.uid, 5);
	assert_int_equal(a.gid, 6);
	s3_attrs_parse("owner:5\nuid:7\n", "f", &a);
	assert_int_equal(a.uid, 7);
}

static void test_parse_refused(void **state)
{
	struct s3_attrs a;

	(void)state;
	/* not numbers, out of range, unknown types, negative or zero times: left out */
	s3_attrs_parse("mode:0x1ff\nuid:-1\ngid:4294967295\nmtime:abc\nctime:0\n"
		       "atime:1.x\nrdev:99999999999\n", "f", &a);
	assert_int_equal(a.has, 0);
	s3_attrs_parse("mode:65535\n", "f", &a); /* type 0170000 is none */
	assert_int_equal(a.has, 0);
	s3_attrs_parse("mode:999999999999999999999\nuid:12345678901234567890\n", "f", &a);
	assert_int_equal(a.has, 0);
	s3_attrs_parse("", "f", &a);
	assert_int_equal(a.has, 0);
}

static void test_headers(void **state)
{
	struct s3_attrs a = { 0 }, b;
	struct s3_attr_hdrs h;
	char meta[512] = "";
	size_t i, len = 0;

	(void)state;
	a.has = S3_ATTR_MODE | S3_ATTR_UID | S3_ATTR_GID | S3_ATTR_MTIME | S3_ATTR_CTIME |
		S3_ATTR_RDEV;
	a.mode = S_IFLNK | 0777;
	a.uid = 1234;
	a.gid = 0;
	a.mtime.tv_sec = 981173106;
	a.mtime.tv_nsec = 123456789;
	a.ctime.tv_sec = 5;
	a.rdev = 259;
	s3_attrs_headers(&a, &h);
	assert_int_equal(h.n, 6);
	assert_string_equal(h.kv[0].name, "x-amz-meta-mode");
	assert_string_equal(h.kv[0].value, "41471");
	assert_string_equal(h.kv[3].name, "x-amz-meta-mtime");
	assert_string_equal(h.kv[3].value, "981173106.123456789");
	assert_string_equal(h.kv[4].value, "5"); /* no fraction when the nanoseconds are 0 */
	/* and back */
	for (i = 0; i < h.n; i++)
		len += (size_t)snprintf(meta + len, sizeof(meta) - len, "%s:%s\n",
					h.kv[i].name + strlen("x-amz-meta-"), h.kv[i].value);
	s3_attrs_parse(meta, "l", &b);
	assert_int_equal(b.has, a.has);
	assert_int_equal(b.mode, a.mode);
	assert_int_equal(b.mtime.tv_nsec, a.mtime.tv_nsec);
	assert_int_equal(b.rdev, 259);
	s3_attrs_headers(NULL, &h);
	assert_int_equal(h.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_s3fs),
		cmocka_unit_test(test_parse_type_and_alt),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

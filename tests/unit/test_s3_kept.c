// SPDX-License-Identifier: GPL-2.0
/* Unit tests for s3_kept.c: the files failed uploads keep, and multipart journals. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "s3_kept.h"

struct dir {
	char path[64];
	int fd;
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	strcpy(d->path, "/tmp/test_s3_kept.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY);
	assert_true(d->fd >= 0);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	close(d->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

static void put(struct dir *d, const char *name, const char *text)
{
	int fd = openat(d->fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_is_data(void **state)
{
	(void)state;
	assert_true(s3_kept_is_data("unuploaded-20261201T000000Z-0000000000000001"));
	assert_false(s3_kept_is_data("unuploaded-20261201T000000Z-0000000000000001.key"));
	assert_false(s3_kept_is_data("unuploaded-20261201T000000Z-0000000000000001.key.tmp"));
	assert_false(s3_kept_is_data("unuploaded-20261201T000000Z-0000000000000001.new"));
	assert_false(s3_kept_is_data("mpu-abc"));
	assert_false(s3_kept_is_data("lock"));
}

static void test_read(void **state)
{
	struct dir *d = *state;
	struct s3_kept k;

	put(d, "unuploaded-a", "12345");
	put(d, "unuploaded-a.key", "s3://bkt/dir/file\nendpoint http://h:1\netag \"e1\"\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-a", &k), 0);
	assert_string_equal(k.name, "unuploaded-a");
	assert_string_equal(k.url, "s3://bkt/dir/file");
	assert_string_equal(k.bucket, "bkt");
	assert_string_equal(k.key, "dir/file");
	assert_string_equal(k.endpoint, "http://h:1");
	assert_string_equal(k.etag, "\"e1\"");
	assert_int_equal(k.size, 5);
	assert_true(k.kept > 0);

	assert_int_equal(k.attrs.has, 0); /* no meta lines: no attributes */

	/* an older key file: no endpoint, no etag */
	put(d, "unuploaded-b", "");
	put(d, "unuploaded-b.key", "s3://bkt/k\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-b", &k), 0);
	assert_string_equal(k.etag, "");
	assert_string_equal(k.endpoint, "");

	/* the attributes the upload carries; what is not a number is left out */
	put(d, "unuploaded-m", "x");
	put(d, "unuploaded-m.key", "s3://bkt/m\nendpoint e\netag -\nmeta mode:33184\n"
				   "meta uid:1000\nmeta gid:bad\nmeta mtime:981173106.5\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-m", &k), 0);
	assert_int_equal(k.attrs.has, S3_ATTR_MODE | S3_ATTR_UID | S3_ATTR_MTIME);
	assert_int_equal(k.attrs.mode, S_IFREG | 0640);
	assert_int_equal(k.attrs.uid, 1000);
	assert_int_equal(k.attrs.mtime.tv_sec, 981173106);
	assert_int_equal(k.attrs.mtime.tv_nsec, 500000000);
}

static void test_read_bad(void **state)
{
	struct dir *d = *state;
	struct s3_kept k;

	put(d, "unuploaded-nokey", "x");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-nokey", &k), -EINVAL);
	assert_int_equal(k.size, 1); /* still listed, with its size */
	assert_string_equal(k.key, "");
	put(d, "unuploaded-c", "x");
	put(d, "unuploaded-c.key", "http://bkt/k\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-c", &k), -EINVAL);
	put(d, "unuploaded-c.key", "s3://bkt\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-c", &k), -EINVAL);
	put(d, "unuploaded-c.key", "s3://bkt/\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-c", &k), -EINVAL);
	put(d, "unuploaded-c.key", "s3:///k\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-c", &k), -EINVAL);
	/* a key file someone else owns names where our credentials would go: not used */
	put(d, "unuploaded-o", "x");
	put(d, "unuploaded-o.key", "s3://bkt/k\nendpoint http://elsewhere\n");
	if (geteuid() == 0) {
		assert_int_equal(fchownat(d->fd, "unuploaded-o.key", 65534, 65534, 0), 0);
		assert_int_equal(s3_kept_read(d->fd, "unuploaded-o", &k), -EINVAL);
	}
	/* a symlink is never followed */
	assert_int_equal(symlinkat("/etc/hostname", d->fd, "unuploaded-l"), 0);
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-l", &k), -ELOOP);
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-gone", &k), -ENOENT);
}

static void test_remove(void **state)
{
	struct dir *d = *state;
	struct s3_kept k;

	put(d, "unuploaded-r", "x");
	put(d, "unuploaded-r.key", "s3://bkt/k\n");
	assert_int_equal(s3_kept_read(d->fd, "unuploaded-r", &k), 0);
	assert_int_equal(s3_kept_remove(d->fd, &k), 0);
	assert_int_equal(faccessat(d->fd, "unuploaded-r", F_OK, 0), -1);
	assert_int_equal(faccessat(d->fd, "unuploaded-r.key", F_OK, 0), -1);
}

static void test_read_mpu(void **state)
{
	struct dir *d = *state;
	struct s3_kept k;

	put(d, "mpu-1", "upload 2~abc\ns3://bkt/big\nendpoint http://h:1\n");
	assert_int_equal(s3_kept_read_mpu(d->fd, "mpu-1", &k), 0);
	assert_string_equal(k.upload_id, "2~abc");
	assert_string_equal(k.bucket, "bkt");
	assert_string_equal(k.key, "big");
	assert_string_equal(k.endpoint, "http://h:1");
	put(d, "mpu-2", "s3://bkt/big\nendpoint http://h:1\n");
	assert_int_equal(s3_kept_read_mpu(d->fd, "mpu-2", &k), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_data),
		cmocka_unit_test_setup_teardown(test_read, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_bad, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_remove, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_mpu, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

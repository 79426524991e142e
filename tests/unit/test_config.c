// SPDX-License-Identifier: GPL-2.0
/* Unit tests for config.c: the option table, its parser and its checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static void test_defaults(void **state)
{
	struct config c;

	config_init(&c);
	assert_true(c.entry_timeout_s == CONFIG_DEFAULT_ENTRY_TIMEOUT_S);
	assert_true(c.attr_timeout_s == CONFIG_DEFAULT_ATTR_TIMEOUT_S);
	assert_true(c.negative_timeout_s == 0);
	assert_int_equal(c.threads, CONFIG_DEFAULT_THREADS);
	assert_int_equal(c.passthrough, 1);
	assert_int_equal(c.read_only, 0);
}

static void test_all_options(void **state)
{
	struct config c;

	config_init(&c);
	assert_int_equal(config_parse_opts(&c, "entry_timeout=2.5,attr_timeout=0,negative_timeout=7,"
					      "threads=3,allow_other,ro,passthrough=off,debug"), 0);
	assert_true(c.entry_timeout_s == 2.5);
	assert_true(c.attr_timeout_s == 0);
	assert_true(c.negative_timeout_s == 7);
	assert_int_equal(c.threads, 3);
	assert_int_equal(c.allow_other, 1);
	assert_int_equal(c.read_only, 1);
	assert_int_equal(c.passthrough, 0);
	assert_int_equal(c.debug, 1);
	config_finish(&c);
	assert_int_equal(c.default_permissions, 1); /* forced by allow_other */
	assert_int_equal(c.foreground, 1);          /* implied by debug */
	assert_int_equal(config_parse_opts(&c, "rw,passthrough=on"), 0);
	assert_int_equal(c.read_only, 0);
	assert_int_equal(c.passthrough, 1);
}

static void test_bad_values(void **state)
{
	static const char *bad[] = {
		"nosuchopt", "entry_timeout=abc", "entry_timeout=", "entry_timeout=-1",
		"attr_timeout=1e400", "attr_timeout=nan", "threads=0", "threads=1025",
		"threads=-3", "threads=2x", "passthrough=maybe", "ro=1", "allow_other=yes",
		"entry_timeout", "threads",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;

		config_init(&c);
		if (config_parse_opts(&c, bad[i]) != -EINVAL)
			fail_msg("option '%s' was accepted", bad[i]);
	}
}

static void test_fstab_words(void **state)
{
	struct config c;

	config_init(&c);
	assert_int_equal(config_parse_opts(&c, "defaults,noauto,_netdev,nofail,x-systemd.automount,"
					      "comment=foo,,nosuid,noatime"), 0);
	assert_string_equal(c.kernel_opts, "nosuid,noatime");
}

static void test_source_and_mountpoint(void **state)
{
	char dir[] = "/tmp/bpfuse-unit-XXXXXX", file[PATH_MAX], spec[PATH_MAX + 8];
	struct config c;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/file", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	config_init(&c);
	assert_int_equal(config_set_source(&c, dir), 0);
	assert_string_equal(c.source, dir);
	snprintf(spec, sizeof(spec), "local:%s", dir);
	assert_int_equal(config_set_source(&c, spec), 0);
	assert_string_equal(c.source_spec, spec);
	assert_int_equal(config_set_source(&c, file), -ENOTDIR);
	assert_int_equal(config_set_source(&c, "/nonexistent/bpfuse"), -ENOENT);
	assert_int_equal(config_set_source(&c, "local:"), -EINVAL);
	assert_int_equal(config_set_source(&c, "ftp://host/x"), -EINVAL);
	assert_int_equal(config_set_mountpoint(&c, dir), 0);
	assert_int_equal(config_set_mountpoint(&c, file), -ENOTDIR);
	assert_int_equal(config_set_mountpoint(&c, "/nonexistent/bpfuse"), -ENOENT);
	unlink(file);
	rmdir(dir);
}

static void test_s3_source_and_options(void **state)
{
	unsigned long long v = 0;
	struct config c;

	config_init(&c);
	assert_string_equal(c.cache_dir, CONFIG_DEFAULT_CACHE_DIR);
	assert_true(c.list_ttl_s == CONFIG_DEFAULT_LIST_TTL_S);
	assert_int_equal(config_set_source(&c, "s3://my-bucket"), 0);
	assert_int_equal(c.backend, BACKEND_S3);
	assert_string_equal(c.s3_bucket, "my-bucket");
	assert_string_equal(c.s3_prefix, "");
	assert_int_equal(config_set_source(&c, "s3://my-bucket/a/b//"), 0);
	assert_string_equal(c.s3_prefix, "a/b/");
	assert_string_equal(c.source_spec, "s3://my-bucket/a/b/");
	assert_int_equal(config_set_source(&c, "s3://AB"), -EINVAL);
	assert_int_equal(config_set_source(&c, "s3://"), -EINVAL);
	assert_int_equal(config_parse_opts(&c, "endpoint=http://127.0.0.1:7480,region=eu-west-3,"
					    "cache_dir=/tmp/c,cache_size=512M,path_style=off,"
					    "list_ttl=5"), 0);
	assert_string_equal(c.s3_endpoint, "http://127.0.0.1:7480");
	assert_string_equal(c.s3_region, "eu-west-3");
	assert_string_equal(c.cache_dir, "/tmp/c");
	assert_true(c.cache_size_bytes == 512ULL << 20);
	assert_int_equal(c.s3_path_style, 0);
	assert_true(c.list_ttl_s == 5);
	assert_int_equal(config_parse_opts(&c, "cache_size=lots"), -EINVAL);
	assert_int_equal(config_parse_opts(&c, "cache_dir=relative"), -EINVAL);
	assert_int_equal(config_parse_size("10G", &v), 0);
	assert_true(v == 10ULL << 30);
	assert_int_equal(config_parse_size("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(config_parse_size("2KiB", &v), 0);
	assert_true(v == 2048);
	assert_int_equal(config_parse_size("1T", &v), 0);
	assert_true(v == 1ULL << 40);
	assert_int_equal(config_parse_size("99999999999999999999G", &v), -EINVAL);
	assert_int_equal(config_parse_size("-1", &v), -EINVAL);
	assert_int_equal(config_parse_size("5X", &v), -EINVAL);
}

/* prefixes that are not paths, cache_size and s3_timeout minimums, cache/mount nesting */
static void test_s3_checks(void **state)
{
	static const char *const bad[] = {
		"s3://bkt/../x", "s3://bkt/a/..", "s3://bkt/./a", "s3://bkt/a/./b", "s3://bkt/a//b",
		"s3://bkt//a", "s3://bkt/a\nb", "s3://bkt/a\tb", "s3://bkt/\x7f",
	};
	char dir[] = "/tmp/bpfuse-unit-XXXXXX", mnt[PATH_MAX], link[PATH_MAX], opt[PATH_MAX + 16];
	struct config c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_init(&c);
		assert_int_equal(config_set_source(&c, bad[i]), -EINVAL);
	}
	config_init(&c);
	assert_int_equal(config_set_source(&c, "s3://bkt/a.b/..c/.d/"), 0);
	assert_string_equal(c.s3_prefix, "a.b/..c/.d/");

	assert_non_null(mkdtemp(dir));
	snprintf(mnt, sizeof(mnt), "%s/mnt", dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(mnt, link), 0);
	assert_int_equal(config_set_mountpoint(&c, mnt), 0);

	snprintf(opt, sizeof(opt), "cache_dir=%s/mnt-cache", dir);
	assert_int_equal(config_parse_opts(&c, opt), 0);
	assert_int_equal(config_check(&c), 0); /* a sibling sharing a name prefix */
	assert_int_equal(config_parse_opts(&c, "cache_size=0"), 0);
	assert_int_equal(config_check(&c), -EINVAL);
	assert_int_equal(config_parse_opts(&c, "cache_size=16M,s3_timeout=7.5"), 0);
	assert_int_equal(config_check(&c), -EINVAL);
	assert_int_equal(config_parse_opts(&c, "s3_timeout=8"), 0);
	assert_int_equal(config_check(&c), 0);
	snprintf(opt, sizeof(opt), "cache_dir=%s/link/not/yet", dir);
	assert_int_equal(config_parse_opts(&c, opt), 0);
	assert_int_equal(config_check(&c), -EINVAL); /* under the mountpoint, via the link */
	snprintf(opt, sizeof(opt), "cache_dir=%s", dir);
	assert_int_equal(config_parse_opts(&c, opt), 0);
	assert_int_equal(config_check(&c), -EINVAL); /* the mountpoint inside the cache */

	/* local: a mountpoint inside the source is refused, the source itself is not */
	config_init(&c);
	assert_int_equal(config_set_source(&c, dir), 0);
	assert_int_equal(config_set_mountpoint(&c, link), 0);
	assert_int_equal(config_check(&c), -EINVAL);
	assert_int_equal(config_set_mountpoint(&c, dir), 0);
	assert_int_equal(config_check(&c), 0);
	unlink(link);
	rmdir(mnt);
	rmdir(dir);
}

static void test_help_lists_every_option(void **state)
{
	static const char *names[] = { "entry_timeout", "attr_timeout", "negative_timeout",
				       "threads", "allow_other", "default_permissions",
				       "ro", "passthrough", "debug", "io_uring=on|off|auto",
				       "fastpath_entries=N", "fastpath_blocks=N" };
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	config_print_help(f);
	fclose(f);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strstr(buf, names[i]))
			fail_msg("--help does not mention '%s'", names[i]);
	free(buf);
}

/* fastpath_entries=N (16..4194304), fastpath_blocks=N (16..16777216, default 2x entries) */
static void test_fastpath_sizes(void **state)
{
	static const char *bad[] = {
		"fastpath_entries=15", "fastpath_entries=0", "fastpath_entries=4194305",
		"fastpath_entries=-1", "fastpath_entries=1k", "fastpath_entries=",
		"fastpath_entries", "fastpath_blocks=15", "fastpath_blocks=16777217",
		"fastpath_blocks=99999999999999999999",
	};
	struct config c;
	size_t i;

	config_init(&c);
	assert_int_equal(config_finish(&c), 0);
	assert_int_equal(c.fastpath_entries, CONFIG_DEFAULT_FASTPATH_ENTRIES);
	assert_int_equal(c.fastpath_entries, 65536);
	assert_int_equal(c.fastpath_blocks, 2 * 65536);

	config_init(&c);
	assert_int_equal(config_parse_opts(&c, "fastpath_entries=16"), 0);
	assert_int_equal(config_finish(&c), 0);
	assert_int_equal(c.fastpath_entries, 16);
	assert_int_equal(c.fastpath_blocks, 32); /* derived */

	config_init(&c);
	assert_int_equal(config_parse_opts(&c, "fastpath_blocks=16777216,"
					      "fastpath_entries=4194304"), 0);
	assert_int_equal(config_finish(&c), 0);
	assert_int_equal(c.fastpath_entries, 4194304);
	assert_int_equal(c.fastpath_blocks, 16777216); /* given: not derived */

	config_init(&c);
	assert_int_equal(config_parse_opts(&c, "fastpath_entries=100,fastpath_blocks=16"), 0);
	assert_int_equal(config_finish(&c), 0);
	assert_int_equal(c.fastpath_blocks, 16);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_init(&c);
		if (config_parse_opts(&c, bad[i]) != -EINVAL)
			fail_msg("option '%s' was accepted", bad[i]);
	}
}

/* io_uring=on|off|auto (and bare io_uring = on); default auto */
static void test_io_uring(void **state)
{
	static const struct { const char *opt; int want; } ok[] = {
		{ "io_uring=on", CONFIG_ON }, { "io_uring=off", CONFIG_OFF },
		{ "io_uring=auto", CONFIG_AUTO }, { "io_uring", CONFIG_ON },
		{ "io_uring=no", CONFIG_OFF }, { "io_uring=1", CONFIG_ON },
	};
	static const char *bad[] = { "io_uring=", "io_uring=maybe", "io_uring=AUTO", "io_uring=2" };
	struct config c;
	size_t i;

	config_init(&c);
	assert_int_equal(c.io_uring, CONFIG_AUTO);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		config_init(&c);
		assert_int_equal(config_parse_opts(&c, ok[i].opt), 0);
		if (c.io_uring != ok[i].want)
			fail_msg("'%s' gave %d, want %d", ok[i].opt, c.io_uring, ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_init(&c);
		if (config_parse_opts(&c, bad[i]) != -EINVAL)
			fail_msg("option '%s' was accepted", bad[i]);
	}
}

/* An S3 mount's kernel timeouts never outlast the daemon's own trust (list_ttl). */
static void test_s3_timeouts_capped(void **state)
{
	struct config c;

	config_init(&c);
	assert_int_equal(config_parse_opts(&c, "profile=dataset,list_ttl=30"), 0);
	c.backend = BACKEND_S3;
	config_finish(&c);
	assert_true(c.entry_timeout_s == 30 && c.attr_timeout_s == 30 && c.negative_timeout_s == 30);
	config_init(&c);
	assert_int_equal(config_parse_opts(&c, "profile=dataset"), 0);
	config_finish(&c); /* local: no cap */
	assert_true(c.entry_timeout_s == CONFIG_DATASET_TIMEOUT_S);
}

/* What a mount records for remount reads back to the same values; changes are refused. */
static void test_remount_check(void **state)
{
	struct config run, want;
	char opts[8192];

	config_init(&run);
	assert_int_equal(config_parse_opts(&run, "entry_timeout=2.5,profile=dataset,allow_other,"
					   "cache_dir=/var/tmp/c,threads=3,ro,noatime"), 0);
	config_finish(&run);
	assert_int_equal(config_format_opts(&run, opts, sizeof(opts)), 0);
	assert_null(strstr(opts, "noatime"));
	assert_null(strstr(opts, ",ro"));

	/* what mount(8) passes back on `mount -o remount,rw`: fstab's options again */
	config_init(&want);
	assert_int_equal(config_parse_opts(&want, "rw,nosuid,nodev,entry_timeout=2.5,"
					   "profile=dataset,allow_other,default_permissions,"
					   "cache_dir=/var/tmp/c,threads=3,_netdev,nofail"), 0);
	config_finish(&want);
	assert_int_equal(config_remount_check(&want, opts), 0);

	config_init(&want);
	assert_int_equal(config_parse_opts(&want, "entry_timeout=3"), 0);
	config_finish(&want);
	assert_int_equal(config_remount_check(&want, opts), -EINVAL);

	config_init(&want);
	assert_int_equal(config_parse_opts(&want, "debug"), 0);
	assert_int_equal(config_remount_check(&want, opts), -EINVAL);

	/* a flag the mount has, given again: fine; ro/rw never count */
	config_init(&want);
	assert_int_equal(config_parse_opts(&want, "ro,rw,allow_other"), 0);
	assert_int_equal(config_remount_check(&want, opts), 0);
	assert_true(config_given(&want, "rw") && !config_given(&want, "threads"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_s3_timeouts_capped),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_io_uring),
		cmocka_unit_test(test_fastpath_sizes),
		cmocka_unit_test(test_fstab_words),
		cmocka_unit_test(test_source_and_mountpoint),
		cmocka_unit_test(test_help_lists_every_option),
		cmocka_unit_test(test_s3_source_and_options),
		cmocka_unit_test(test_s3_checks),
		cmocka_unit_test(test_remount_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

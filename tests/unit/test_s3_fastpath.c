// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for backends/s3/backend_s3_fastpath.c: the deadline every value
 * published for an S3 node carries (the moment the daemon would revalidate
 * it: seen + list_ttl), and when the version published for OPEN is stale.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend_s3_priv.h"

static void test_verdict(void **state)
{
	uint64_t until = 7;

	(void)state;
	/* seen at 100 s, list_ttl 10 s: published until 110 s, not a moment later */
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 101.5, &until), 0);
	assert_true(until == 110000000000ULL);
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 109.999, &until), 0);
	assert_true(until == 110000000000ULL);
	/* the deadline has come: the daemon revalidates first */
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 110.0, &until), -EAGAIN);
	assert_true(until == 0);
	assert_int_equal(s3_fastpath_verdict(100.0, 10.0, 500.0, &until), -EAGAIN);
	/* never vouched for, or list_ttl 0 (every request revalidates): nothing */
	assert_int_equal(s3_fastpath_verdict(0.0, 10.0, 1.0, &until), -EAGAIN);
	assert_int_equal(s3_fastpath_verdict(100.0, 0.0, 100.0, &until), -EAGAIN);
}

static void test_held_stale(void **state)
{
	(void)state;
	assert_int_equal(s3_fastpath_held_stale(1, "\"e1\"", 4096, 0, "\"e1\"", 4096), 0);
	assert_int_equal(s3_fastpath_held_stale(1, "\"e2\"", 4096, 0, "\"e1\"", 4096), 1);
	assert_int_equal(s3_fastpath_held_stale(1, "\"e1\"", 4097, 0, "\"e1\"", 4096), 1);
	assert_int_equal(s3_fastpath_held_stale(0, "\"e1\"", 4096, 0, "\"e1\"", 4096), 1);
	assert_int_equal(s3_fastpath_held_stale(1, "\"e1\"", 4096, 1, "\"e1\"", 4096), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_held_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

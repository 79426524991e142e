// SPDX-License-Identifier: GPL-2.0
/* Unit tests for mountinfo.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mountinfo.h"

static void test_unescape(void **state)
{
	char s[] = "/mnt/with\\040space\\011tab\\134back";

	mountinfo_unescape(s);
	assert_string_equal(s, "/mnt/with space\ttab\\back");
}

static void test_unescape_leaves_bad_escapes(void **state)
{
	char s[] = "a\\9xy\\04";

	mountinfo_unescape(s);
	assert_string_equal(s, "a\\9xy\\04");
}

static void test_root_is_not_bpfuse(void **state)
{
	assert_int_equal(mountinfo_is_bpfuse("/"), 0);
	assert_int_equal(mountinfo_is_bpfuse("/no/such/mount"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_unescape_leaves_bad_escapes),
		cmocka_unit_test(test_root_is_not_bpfuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

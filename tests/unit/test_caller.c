// SPDX-License-Identifier: GPL-2.0
/* Unit tests for caller.c: /proc status parsing and the set-ID decisions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "caller.h"

static const char status[] = "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\n"
			     "Uid:\t65534\t65534\t65534\t65534\n"
			     "Gid:\t100\t100\t100\t101\n"
			     "FDSize:\t64\nGroups:\t4 24 27 \n"
			     "CapInh:\t0000000000000000\nCapPrm:\t0000000000000010\n"
			     "CapEff:\t0000000000000010\n";

static void test_parse(void **state)
{
	struct caller_creds c;

	assert_int_equal(caller_parse_status(status, 1, &c), 0);
	assert_int_equal(c.fsgid, 101);
	assert_int_equal(c.ngroups, 3);
	assert_int_equal(c.groups[2], 27);
	assert_true(c.cap_fsetid); /* bit 4 */
	assert_false(c.cap_sys_admin);
	assert_true(caller_in_group(&c, 24));
	assert_true(caller_in_group(&c, 101));
	assert_false(caller_in_group(&c, 100)); /* the real gid is not the fs gid */
	/* a capability held in another user namespace does not count */
	assert_int_equal(caller_parse_status(status, 0, &c), 0);
	assert_false(c.cap_fsetid);
}

static void test_parse_no_groups_no_caps(void **state)
{
	struct caller_creds c;

	assert_int_equal(caller_parse_status("Gid:\t5\t5\t5\t5\nGroups:\t\nCapEff:\t0\n", 1, &c),
			 0);
	assert_int_equal(c.ngroups, 0);
	assert_false(c.cap_fsetid);
	assert_int_equal(caller_parse_status("Gid:\t5\t5\t5\t5\n", 1, &c), -EINVAL);
}

static void test_drop_on_write(void **state)
{
	struct caller_creds c = { .fsgid = 7 };

	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 04755, 0, 0), S_ISUID);
	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 06755, 0, 0), S_ISUID | S_ISGID);
	/* S_ISGID without group execute: only for a writer outside the group */
	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 02745, 0, 0), S_ISGID);
	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 02745, 7, 0), 0);
	assert_int_equal(caller_setid_to_drop(&c, S_IFDIR | 02775, 0, 0), 0);
	c.cap_fsetid = 1;
	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 06755, 0, 0), 0);
}

static void test_drop_on_chown(void **state)
{
	struct caller_creds c = { .fsgid = 7, .cap_fsetid = 1 };

	/* a chown drops S_ISUID and group-executable S_ISGID whoever asks */
	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 06755, 0, 1), S_ISUID | S_ISGID);
	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 02745, 0, 1), 0);
	c.cap_fsetid = 0;
	assert_int_equal(caller_setid_to_drop(&c, S_IFREG | 02745, 0, 1), S_ISGID);
	assert_int_equal(caller_setid_to_drop(&c, S_IFDIR | 02775, 0, 1), 0);
}

static void test_read_self(void **state)
{
	struct caller_creds c;

	assert_int_equal(caller_read(getpid(), 0, &c), 0);
	assert_int_equal(c.fsgid, getegid());
	assert_int_equal(c.cap_fsetid, geteuid() == 0);
	assert_int_equal(c.cap_sys_admin, geteuid() == 0);
	/* a gone thread: no groups, no capability, the gid the request named */
	assert_true(caller_read(0, 42, &c) < 0);
	assert_int_equal(c.fsgid, 42);
	assert_false(c.cap_fsetid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_no_groups_no_caps),
		cmocka_unit_test(test_drop_on_write),
		cmocka_unit_test(test_drop_on_chown),
		cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

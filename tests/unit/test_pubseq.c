// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for pubseq.c: an answer read before a change is never published
 * after the change's deletion (the fast-path maps' publication protocol,
 * docs/kernel-hook.md), in fixed interleavings and with racing threads.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pubseq.h"

static struct pubseq ps;

static int setup(void **state)
{
	(void)state;
	pubseq_init(&ps);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pubseq_destroy(&ps);
	return 0;
}

static void change(uint64_t key)
{
	struct pubseq_stripe *s = pubseq_lock(&ps, key);

	pubseq_changed_locked(&ps, s);
	pubseq_unlock(s);
}

static int fresh(uint64_t key, uint64_t t)
{
	struct pubseq_stripe *s = pubseq_lock(&ps, key);
	int f = pubseq_fresh_locked(s, t);

	pubseq_unlock(s);
	return f;
}

/* GETATTR takes its ticket, SETATTR changes the node, GETATTR publishes: refused */
static void test_change_after_ticket_refuses(void **state)
{
	uint64_t t;

	(void)state;
	t = pubseq_begin(&ps);
	change(42);
	assert_false(fresh(42, t));
}

/* a change that completed before the ticket does not refuse */
static void test_change_before_ticket_allows(void **state)
{
	uint64_t t;

	(void)state;
	change(42);
	t = pubseq_begin(&ps);
	assert_true(fresh(42, t));
	assert_true(fresh(43, t));
}

/* a flush outdates every ticket taken before it, whatever the key */
static void test_changed_all(void **state)
{
	uint64_t t = pubseq_begin(&ps), k;

	(void)state;
	pubseq_changed_all(&ps);
	for (k = 0; k < 4 * PUBSEQ_STRIPES; k++)
		assert_false(fresh(k, t));
	t = pubseq_begin(&ps);
	assert_true(fresh(5, t));
}

/* two stripes locked together, in either order and when they coincide */
static void test_lock2(void **state)
{
	struct pubseq_stripe *a, *b;
	uint64_t t = pubseq_begin(&ps);

	(void)state;
	pubseq_lock2(&ps, 1, 2, &a, &b);
	assert_true(pubseq_fresh_locked(a, t) && pubseq_fresh_locked(b, t));
	pubseq_unlock2(a, b);
	pubseq_lock2(&ps, 2, 1, &a, &b);
	pubseq_unlock2(a, b);
	pubseq_lock2(&ps, 7, 7, &a, &b);
	assert_ptr_equal(a, b);
	pubseq_unlock2(a, b);
	change(2);
	pubseq_lock2(&ps, 1, 2, &a, &b);
	assert_false(pubseq_fresh_locked(a, t) && pubseq_fresh_locked(b, t));
	pubseq_unlock2(a, b);
}

/*
 * The protocol with threads: a "source" value that a mutator changes (a
 * change before and after, as fs_ops.c does around the backend call), and a
 * "map" that readers publish into only if their ticket is still fresh, read
 * and written as fastpath.c does.  After each change completed, the map holds
 * nothing or the current value, never an older one.
 */
#define KEY 99
#define ROUNDS 20000
#define READERS 3

static uint64_t source;   /* atomic */
static int64_t published; /* the map entry: -1 none (stripe lock) */
static int stop;          /* atomic */

static void *reader(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		uint64_t t = pubseq_begin(&ps);
		uint64_t v = __atomic_load_n(&source, __ATOMIC_SEQ_CST); /* the backend read */
		struct pubseq_stripe *s;

		sched_yield(); /* the reply is slow: a change gets in between */
		s = pubseq_lock(&ps, KEY);
		if (pubseq_fresh_locked(s, t))
			published = (int64_t)v;
		pubseq_unlock(s);
	}
	return NULL;
}

static void drop(void)
{
	struct pubseq_stripe *s = pubseq_lock(&ps, KEY);

	pubseq_changed_locked(&ps, s);
	published = -1;
	pubseq_unlock(s);
}

static void test_racing_readers_never_publish_older(void **state)
{
	pthread_t thr[READERS];
	int i, stale = 0;

	(void)state;
	published = -1;
	for (i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&thr[i], NULL, reader, NULL), 0);
	for (i = 1; i <= ROUNDS; i++) {
		struct pubseq_stripe *s;

		drop();
		__atomic_store_n(&source, (uint64_t)i, __ATOMIC_SEQ_CST); /* the backend change */
		drop();
		sched_yield(); /* let the readers publish */
		s = pubseq_lock(&ps, KEY);
		if (published != -1 && published != i)
			stale++;
		pubseq_unlock(s);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < READERS; i++)
		pthread_join(thr[i], NULL);
	assert_int_equal(stale, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_change_after_ticket_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_before_ticket_allows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_racing_readers_never_publish_older, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0
#include "pubseq.h"

#include <string.h>

void pubseq_init(struct pubseq *ps)
{
	size_t i;

	memset(ps, 0, sizeof(*ps));
	for (i = 0; i < PUBSEQ_STRIPES; i++)
		pthread_mutex_init(&ps->s[i].lock, NULL);
}

void pubseq_destroy(struct pubseq *ps)
{
	size_t i;

	for (i = 0; i < PUBSEQ_STRIPES; i++)
		pthread_mutex_destroy(&ps->s[i].lock);
}

uint64_t pubseq_begin(struct pubseq *ps)
{
	/* seq_cst, like the increment: a change not seen here comes after the ticket */
	return __atomic_load_n(&ps->clock, __ATOMIC_SEQ_CST);
}

static struct pubseq_stripe *stripe(struct pubseq *ps, uint64_t key)
{
	key ^= key >> 31;
	key *= 0x7fb5d329728ea185ULL;
	key ^= key >> 27;
	return &ps->s[key & (PUBSEQ_STRIPES - 1)];
}

struct pubseq_stripe *pubseq_lock(struct pubseq *ps, uint64_t key)
{
	struct pubseq_stripe *s = stripe(ps, key);

	pthread_mutex_lock(&s->lock);
	return s;
}

void pubseq_unlock(struct pubseq_stripe *s)
{
	pthread_mutex_unlock(&s->lock);
}

void pubseq_lock2(struct pubseq *ps, uint64_t k1, uint64_t k2, struct pubseq_stripe **s1,
		  struct pubseq_stripe **s2)
{
	*s1 = stripe(ps, k1);
	*s2 = stripe(ps, k2);
	if (*s1 == *s2) {
		pthread_mutex_lock(&(*s1)->lock);
	} else if (*s1 < *s2) {
		pthread_mutex_lock(&(*s1)->lock);
		pthread_mutex_lock(&(*s2)->lock);
	} else {
		pthread_mutex_lock(&(*s2)->lock);
		pthread_mutex_lock(&(*s1)->lock);
	}
}

void pubseq_unlock2(struct pubseq_stripe *s1, struct pubseq_stripe *s2)
{
	pthread_mutex_unlock(&s1->lock);
	if (s2 != s1)
		pthread_mutex_unlock(&s2->lock);
}

void pubseq_changed_locked(struct pubseq *ps, struct pubseq_stripe *s)
{
	s->last = __atomic_add_fetch(&ps->clock, 1, __ATOMIC_SEQ_CST);
}

int pubseq_fresh_locked(const struct pubseq_stripe *s, uint64_t t)
{
	return s->last <= t;
}

void pubseq_changed_all(struct pubseq *ps)
{
	size_t i;

	for (i = 0; i < PUBSEQ_STRIPES; i++) {
		pthread_mutex_lock(&ps->s[i].lock);
		pubseq_changed_locked(ps, &ps->s[i]);
		pthread_mutex_unlock(&ps->s[i].lock);
	}
}

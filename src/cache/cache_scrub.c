// SPDX-License-Identifier: GPL-2.0
/*
 * cache_scrub.c - the cache store's background scrub: one thread calling
 * cache_scrub_step() and sleeping as long as the bytes it read take at the given rate.
 */
#include "cache_scrub.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "cache.h"

struct cache_scrub {
	struct cache *c;
	uint64_t rate;             /* bytes per second */
	unsigned int pause_s;      /* between passes */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;                  /* lock */
	void *buf;
};

/* Sleep @ns nanoseconds or until stopped; returns 1 when stopped. */
static int scrub_sleep(struct cache_scrub *s, uint64_t ns)
{
	struct timespec until;
	int stop;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ns / 1000000000ULL);
	until.tv_nsec += (long)(ns % 1000000000ULL);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
		;
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void *scrub_main(void *arg)
{
	struct cache_scrub *s = arg;
	int64_t n;

	/* let the mount settle first: the first minutes belong to the user's reads */
	if (scrub_sleep(s, (uint64_t)s->pause_s * 1000000000ULL))
		return NULL;
	for (;;) {
		n = cache_scrub_step(s->c, s->buf);
		if (n > 0 ? scrub_sleep(s, (uint64_t)n * 1000000000ULL / s->rate) :
			    scrub_sleep(s, (uint64_t)s->pause_s * 1000000000ULL))
			return NULL;
	}
}

int cache_scrub_start(struct cache_scrub **out, struct cache *c, uint64_t bytes_per_s,
		      unsigned int pass_pause_s)
{
	struct cache_scrub *s;
	pthread_condattr_t ca;
	int err;

	*out = NULL;
	if (!bytes_per_s)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->buf = aligned_alloc(CACHE_DIRECT_ALIGN, cache_block_size(c));
	if (!s->buf) {
		free(s);
		return -ENOMEM;
	}
	s->c = c;
	s->rate = bytes_per_s;
	s->pause_s = pass_pause_s;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = -pthread_create(&s->thread, NULL, scrub_main, s);
	if (err) {
		pthread_cond_destroy(&s->cond);
		pthread_mutex_destroy(&s->lock);
		free(s->buf);
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

void cache_scrub_stop(struct cache_scrub *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->buf);
	free(s);
}

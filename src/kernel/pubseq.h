/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pubseq.h - publish only what is newer: sequence numbers for the fast-path
 * maps (docs/kernel-hook.md, "The daemon's publication protocol").
 *
 * A request handler that will publish something it read from the backend
 * (attributes, a name) takes a ticket before it reads (pubseq_begin()).  A
 * mutation marks what it changes (a node's attributes, a directory's names)
 * after the backend changed it, and deletes the map entries in the same
 * locked section (pubseq_changed_locked()).  A publication goes ahead only if
 * nothing it covers was marked since its ticket (pubseq_fresh_locked()),
 * checked and written in one locked section.  So an answer read before a
 * change never lands after the change's deletion; at worst a publication is
 * skipped and the next upcall publishes again.
 *
 * Keys share PUBSEQ_STRIPES stripes (a collision only skips a publication).
 * One clock: tickets and marks are comparable across keys.
 */
#ifndef BPFUSE_PUBSEQ_H
#define BPFUSE_PUBSEQ_H

#include <pthread.h>
#include <stdint.h>

#define PUBSEQ_STRIPES 1024

struct pubseq_stripe {
	pthread_mutex_t lock;
	uint64_t last; /* clock value of the last change of a key of this stripe (lock) */
};

struct pubseq {
	uint64_t clock; /* atomic */
	struct pubseq_stripe s[PUBSEQ_STRIPES];
};

void pubseq_init(struct pubseq *ps);
void pubseq_destroy(struct pubseq *ps);

/* A ticket, taken before reading what will be published. */
uint64_t pubseq_begin(struct pubseq *ps);

/* Lock the stripe of @key (and unlock it). */
struct pubseq_stripe *pubseq_lock(struct pubseq *ps, uint64_t key);
void pubseq_unlock(struct pubseq_stripe *s);
/*
 * Lock the stripes of two keys in a fixed order (once if they share one);
 * unlock with pubseq_unlock2().
 */
void pubseq_lock2(struct pubseq *ps, uint64_t k1, uint64_t k2, struct pubseq_stripe **s1,
		  struct pubseq_stripe **s2);
void pubseq_unlock2(struct pubseq_stripe *s1, struct pubseq_stripe *s2);

/* With @s locked: a key of @s changed; publications begun before are refused. */
void pubseq_changed_locked(struct pubseq *ps, struct pubseq_stripe *s);
/* Every key changed (the maps were flushed): every ticket taken so far is outdated. */
void pubseq_changed_all(struct pubseq *ps);
/* With @s locked: 1 if nothing of @s changed since ticket @t. */
int pubseq_fresh_locked(const struct pubseq_stripe *s, uint64_t t);

#endif

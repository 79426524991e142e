/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backends.h - which store a mount's config names (backends.c).
 */
#ifndef BPFUSE_BACKENDS_H
#define BPFUSE_BACKENDS_H

struct config;

/* The driver of cfg->backend, for fs_init(). */
const struct backend_driver *backends_driver(const struct config *cfg);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * backends.c - the one place that knows every backend: maps the config's store kind to
 * its driver, so the FUSE boundary (fs/) and the daemon open a store without naming one.
 */
#include "backends.h"

#include <stddef.h>

#include "backend.h"
#include "backend_local.h"
#include "backend_s3.h"
#include "config.h"

const struct backend_driver *backends_driver(const struct config *cfg)
{
	switch (cfg->backend) {
	case BACKEND_LOCAL:
		return &backend_local_driver;
	case BACKEND_S3:
		return &backend_s3_driver;
	}
	return NULL;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config_priv.h - what the files of the config share (config.c: the option table and
 * the parser; config_paths.c: sources, mountpoints and their checks; config_print.c:
 * --help, the man page text, the options as /proc/mounts shows them).
 * Other modules use config.h.
 */
#ifndef BPFUSE_CONFIG_PRIV_H
#define BPFUSE_CONFIG_PRIV_H

#include "config.h"
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "log.h"
#include "mountinfo.h"

enum opt_kind {
	OPT_FLAG,    /* key alone sets the int field to val */
	OPT_SECONDS, /* key=non-negative seconds (double) */
	OPT_UINT,    /* key=unsigned integer within [min, max] */
	OPT_ONOFF,   /* key=on|off (also yes/no, 1/0) */
	OPT_AUTO,    /* key=on|off|auto (CONFIG_ON, CONFIG_OFF, CONFIG_AUTO) */
	OPT_PROFILE, /* key=default|dataset|shared */
	OPT_PATH,    /* key=absolute path */
	OPT_STRING,  /* key=text of at most val - 1 bytes */
	OPT_SIZE,    /* key=bytes with an optional K/M/G/T suffix (unsigned long long) */
	OPT_KERNEL,  /* generic mount flag, handed to the kernel as is */
	OPT_IGNORE,  /* fstab-only words that mean nothing to a FUSE daemon */
};

struct opt_desc {
	const char *name;
	enum opt_kind kind;
	size_t off;
	int val;
	double max;
	const char *help;
};

/* The option table (config.c), for the help and man page writers (config_print.c). */
extern const struct opt_desc *const config_opts;
extern const size_t config_nopts;

#endif

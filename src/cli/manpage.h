/* SPDX-License-Identifier: GPL-2.0 */
/*
 * manpage.h - bpfuse(8) and mount.fuse.bpfuse(8), written by the binary
 * itself (`bpfuse --help-man PAGE`, run by the build) from the tables that
 * also feed the parsers and --help: the subcommands and exit statuses of
 * main.c, the option table and the profiles of config.c.
 */
#ifndef BPFUSE_MANPAGE_H
#define BPFUSE_MANPAGE_H

#include <stddef.h>
#include <stdio.h>

struct man_item {
	const char *term;  /* "umount MOUNTPOINT", "-f", "2" */
	const char *text;  /* one paragraph of plain text */
};

struct man_tables {
	const char *version;
	const struct man_item *cmds;    /* subcommand synopses (after "bpfuse ") */
	size_t ncmds;
	const struct man_item *hflags;  /* flags of the mount(8) helper */
	size_t nhflags;
	const struct man_item *exits;   /* exit statuses */
	size_t nexits;
};

/* Write page @name ("bpfuse" or "mount.fuse.bpfuse") to @out.  0, or -EINVAL for another name. */
int manpage_write(FILE *out, const char *name, const struct man_tables *t);

#endif

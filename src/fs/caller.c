// SPDX-License-Identifier: GPL-2.0
/*
 * caller.c - the credentials of a request's process from /proc (see caller.h).
 *
 * Only read when a decision needs them (a set-ID bit is present, or the
 * caller's own gid is not the file's), so the cost is off the common path.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller.h"

static const char *field(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, name, n))
			return p + n;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

int caller_parse_status(const char *text, int same_userns, struct caller_creds *out)
{
	unsigned long long caps;
	unsigned long v[4];
	const char *p;
	char *end;

	memset(out, 0, sizeof(*out));
	p = field(text, "Gid:");
	if (!p || sscanf(p, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return -EINVAL;
	out->fsgid = (gid_t)v[3];
	p = field(text, "CapEff:");
	if (!p)
		return -EINVAL;
	caps = strtoull(p, &end, 16);
	if (end == p)
		return -EINVAL;
	out->cap_fsetid = same_userns && (caps & (1ULL << CAP_FSETID));
	out->cap_sys_admin = same_userns && (caps & (1ULL << CAP_SYS_ADMIN));
	p = field(text, "Groups:");
	if (!p)
		return -EINVAL;
	for (;;) {
		unsigned long g;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			break;
		g = strtoul(p, &end, 10);
		if (out->ngroups == CALLER_MAX_GROUPS) {
			out->groups_cut = 1;
			break;
		}
		out->groups[out->ngroups++] = (gid_t)g;
		p = end;
	}
	return 0;
}

/*
 * Does task @pid live in our user namespace?  Unknown counts as no; a kernel without user
 * namespaces (CONFIG_USER_NS off: no /proc/self/ns/user) has only the initial one.
 */
static int same_userns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	if (stat("/proc/self/ns/user", &b))
		return errno == ENOENT; /* (caller_read() has just read /proc, so it is there) */
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (stat(path, &a))
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int caller_read(pid_t pid, gid_t fsgid, struct caller_creds *out)
{
	char path[64], buf[8192];
	ssize_t n;
	int fd, err;

	memset(out, 0, sizeof(*out));
	out->fsgid = fsgid;
	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	err = caller_parse_status(buf, same_userns(pid), out);
	if (err) {
		memset(out, 0, sizeof(*out));
		out->fsgid = fsgid;
	}
	return err;
}

int caller_in_group(const struct caller_creds *c, gid_t gid)
{
	int i;

	if (c->fsgid == gid)
		return 1;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return 1;
	return 0;
}

int caller_may_keep_sgid(const struct caller_creds *c, gid_t gid)
{
	return caller_in_group(c, gid) || c->cap_fsetid;
}

mode_t caller_setid_to_drop(const struct caller_creds *c, mode_t mode, gid_t gid, int chown)
{
	mode_t drop = 0;

	if (chown ? S_ISDIR(mode) : !S_ISREG(mode))
		return 0;
	if (!chown && c->cap_fsetid)
		return 0;
	if (mode & S_ISUID)
		drop |= S_ISUID;
	if ((mode & S_ISGID) && ((mode & S_IXGRP) || !caller_may_keep_sgid(c, gid)))
		drop |= S_ISGID;
	return drop;
}

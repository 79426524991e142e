/* SPDX-License-Identifier: GPL-2.0 */
/*
 * caller.h - what the daemon needs to know about the process behind a request
 * that the FUSE header does not carry: its supplementary groups and whether it
 * holds CAP_FSETID and CAP_SYS_ADMIN, read from /proc/<pid>/status.
 *
 * The daemon runs as root, so the source filesystem never clears set-user-ID
 * and set-group-ID bits on its behalf.  Where the kernel leaves that to the
 * daemon (FUSE_HANDLE_KILLPRIV_V2) or where the source would have decided on
 * the caller's credentials (SGID on chmod and on setting an ACL), the daemon
 * decides as the VFS does, with these.
 */
#ifndef BPFUSE_CALLER_H
#define BPFUSE_CALLER_H

#include <sys/types.h>

#define CALLER_MAX_GROUPS 256

struct caller_creds {
	gid_t fsgid;
	int cap_fsetid;  /* CAP_FSETID in the initial user namespace */
	int cap_sys_admin; /* CAP_SYS_ADMIN likewise (sees trusted.* xattrs) */
	int ngroups;     /* supplementary groups in groups[] */
	int groups_cut;  /* more groups than CALLER_MAX_GROUPS: not all listed */
	gid_t groups[CALLER_MAX_GROUPS];
};

/*
 * Read the credentials of thread @pid (a FUSE request's pid).  Returns 0 or
 * -errno (the thread is gone, /proc unreadable); on error @out holds the
 * credentials that grant least: @fsgid, no capability, no groups.
 */
int caller_read(pid_t pid, gid_t fsgid, struct caller_creds *out);

/*
 * Parse the text of a /proc/<pid>/status file into @out (fsgid, CapEff, Groups).
 * @same_userns: whether the task shares the daemon's user namespace (a
 * capability held in a child namespace is not CAP_FSETID for the VFS).
 * Returns 0 or -EINVAL when a field is missing.
 */
int caller_parse_status(const char *text, int same_userns, struct caller_creds *out);

/* in_group_p(): @gid is the caller's filesystem gid or one of its groups */
int caller_in_group(const struct caller_creds *c, gid_t gid);

/*
 * The set-ID bits of a file with mode @mode and group @gid that a change by
 * @c removes, as the VFS decides for a local filesystem:
 * setattr_should_drop_suidgid() for a write or truncate (@chown 0): nothing
 * for a caller with CAP_FSETID; otherwise S_ISUID, and S_ISGID if the file is
 * group-executable or the caller is not in its group.  For a chown (@chown 1,
 * chown_common()): S_ISUID whoever asks, S_ISGID as setattr_should_drop_sgid().
 * Only regular files lose bits on writes; directories never on chown.
 */
mode_t caller_setid_to_drop(const struct caller_creds *c, mode_t mode, gid_t gid, int chown);

/* in_group_or_capable(): may @c keep S_ISGID on a file of group @gid? */
int caller_may_keep_sgid(const struct caller_creds *c, gid_t gid);

#endif

// SPDX-License-Identifier: GPL-2.0
#include "mountinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

void mountinfo_unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int mountinfo_find_bpfuse(const char *mnt, dev_t *dev)
{
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	/* id parent major:minor root mountpoint opts [optional...] - fstype source superopts */
	while (getline(&line, &cap, f) > 0) {
		unsigned int maj, min;
		char *save = NULL, *tok, *mp = NULL, *fstype = NULL;
		int field = 0, after_sep = 0;

		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			field++;
			if (field == 3 && sscanf(tok, "%u:%u", &maj, &min) != 2)
				break;
			if (field == 5)
				mp = tok;
			if (field > 6 && !after_sep && !strcmp(tok, "-")) {
				after_sep = 1;
				continue;
			}
			if (after_sep) {
				fstype = tok;
				break;
			}
		}
		if (!mp || !fstype || strcmp(fstype, BPFUSE_FSTYPE))
			continue;
		mountinfo_unescape(mp);
		if (!strcmp(mp, mnt)) {
			found = 1;
			if (dev)
				*dev = makedev(maj, min);
			/* keep going: the last (topmost) mount wins */
		}
	}
	free(line);
	fclose(f);
	return found;
}

int mountinfo_is_bpfuse(const char *mnt)
{
	return mountinfo_find_bpfuse(mnt, NULL);
}

int mountinfo_sb_read_only(dev_t dev)
{
	char *line = NULL;
	size_t cap = 0;
	int ro = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned int maj, min;
		char *sep, *save = NULL, *super;

		if (sscanf(line, "%*u %*u %u:%u", &maj, &min) != 2 || makedev(maj, min) != dev)
			continue;
		/* ... - fstype source superopts */
		sep = strstr(line, " - ");
		if (!sep || !strtok_r(sep + 3, " \n", &save) || !strtok_r(NULL, " \n", &save))
			continue;
		super = strtok_r(NULL, " \n", &save);
		ro = super && (!strcmp(super, "ro") || !strncmp(super, "ro,", 3));
		break;
	}
	free(line);
	fclose(f);
	return ro;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * s3_kept.c - the files a failed upload keeps in <cache_dir>/staging (s3_kept.h): read,
 * check against the bucket, upload, remove.  The mount's recovery and `bpfuse staging`
 * share these, so both make the same decision about the same file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_client.h"
#include "s3_kept.h"

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && !strcmp(s + n - t, tail);
}

int s3_kept_is_data(const char *name)
{
	/* .key.tmp: a key file being written; .new: a copy being made (no O_TMPFILE) */
	return !strncmp(name, S3_KEPT_PREFIX, strlen(S3_KEPT_PREFIX)) &&
	       !ends_with(name, ".key") && !ends_with(name, ".key.tmp") && !ends_with(name, ".new");
}

/* k->url "s3://BUCKET/KEY" -> k->bucket, k->key.  0 or -EINVAL. */
static int kept_split_url(struct s3_kept *k)
{
	const char *slash;

	if (strncmp(k->url, "s3://", 5))
		return -EINVAL;
	slash = strchr(k->url + 5, '/');
	if (!slash || slash == k->url + 5 || !slash[1] ||
	    (size_t)(slash - k->url - 5) >= sizeof(k->bucket))
		return -EINVAL;
	snprintf(k->bucket, sizeof(k->bucket), "%.*s", (int)(slash - k->url - 5), k->url + 5);
	snprintf(k->key, sizeof(k->key), "%s", slash + 1);
	return 0;
}

/*
 * Open @name of @dfd for reading, never through a symlink, and fill @st: a descriptor of a
 * regular file, or -errno (-EINVAL: not a regular file).
 */
static int open_regular(int dfd, const char *name, struct stat *st)
{
	int fd, err = 0;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st))
		err = -errno;
	else if (!S_ISREG(st->st_mode))
		err = -EINVAL;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Open the staging file @name of @dfd for reading, and set k->kept to its mtime.  A key
 * file or journal names where bytes (and the credentials) go: a regular file of ours only
 * (else -EINVAL).  NULL with *@err set.
 */
static FILE *open_ours(int dfd, const char *name, struct s3_kept *k, int *err)
{
	struct stat st;
	FILE *f;
	int fd;

	fd = open_regular(dfd, name, &st);
	if (fd >= 0 && st.st_uid != geteuid()) {
		close(fd);
		fd = -EINVAL;
	}
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	k->kept = st.st_mtime;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		*err = -ENOMEM;
	}
	return f;
}

int s3_kept_read(int dfd, const char *name, struct s3_kept *k)
{
	char line[S3_KEPT_LINE], kname[300], meta[S3_META_MAX] = "";
	size_t mlen = 0;
	struct stat st;
	int fd, got = 0, err = 0;
	FILE *f;

	memset(k, 0, sizeof(*k));
	if (strlen(name) >= sizeof(k->name))
		return -ENAMETOOLONG;
	strcpy(k->name, name);
	snprintf(kname, sizeof(kname), "%s.key", name);
	fd = open_regular(dfd, name, &st);
	if (fd < 0)
		return fd;
	close(fd);
	k->size = st.st_size;
	f = open_ours(dfd, kname, k, &err);
	if (!f)
		return err == -ENOENT ? -EINVAL : err;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!got++)
			snprintf(k->url, sizeof(k->url), "%s", line);
		else if (!strncmp(line, "endpoint ", 9))
			snprintf(k->endpoint, sizeof(k->endpoint), "%.*s",
				 (int)sizeof(k->endpoint) - 1, line + 9);
		else if (!strncmp(line, "etag ", 5))
			snprintf(k->etag, sizeof(k->etag), "%.*s", (int)sizeof(k->etag) - 1,
				 line + 5);
		else if (!strncmp(line, "meta ", 5) && mlen + strlen(line + 5) + 2 < sizeof(meta))
			mlen += (size_t)snprintf(meta + mlen, sizeof(meta) - mlen, "%s\n", line + 5);
	}
	fclose(f);
	err = kept_split_url(k);
	if (!err)
		s3_attrs_parse(meta, k->key, &k->attrs); /* what is not a number is left out */
	return err;
}

int s3_kept_check(struct s3_client *c, const struct s3_kept *k)
{
	struct s3_stat st;
	int err;

	if (!k->etag[0])
		return -ENODATA;
	err = s3_head(c, k->bucket, k->key, &st);
	if (!err)
		return strcmp(st.etag, k->etag) ? -ESTALE : 0;
	if (err == -ENOENT)
		return strcmp(k->etag, "-") ? -ESTALE : 0;
	return err;
}

int s3_kept_put(struct s3_client *c, int dfd, const struct s3_kept *k, int force)
{
	char etag[S3_ETAG_MAX];
	struct stat st;
	int fd, err = 0;

	fd = open_regular(dfd, k->name, &st);
	if (fd < 0)
		return fd;
	if (!force && !strcmp(k->etag, "-"))
		err = s3_put_fd_absent(c, k->bucket, k->key, fd, 0, st.st_size, &k->attrs, etag);
	else
		err = s3_put_fd_attrs(c, k->bucket, k->key, fd, 0, st.st_size, &k->attrs, etag);
	close(fd);
	return err ? err : s3_kept_remove(dfd, k);
}

int s3_kept_remove(int dfd, const struct s3_kept *k)
{
	char kname[300];
	int err = 0;

	snprintf(kname, sizeof(kname), "%s.key", k->name);
	/* the key first: a data file without its key is reported, never uploaded */
	if (unlinkat(dfd, kname, 0) && errno != ENOENT)
		return -errno;
	if (unlinkat(dfd, k->name, 0) && errno != ENOENT)
		err = -errno;
	if (fsync(dfd) && !err)
		err = -errno;
	return err;
}

int s3_kept_read_mpu(int dfd, const char *name, struct s3_kept *k)
{
	char line[S3_KEPT_LINE];
	int n = 0, err;
	FILE *f;

	memset(k, 0, sizeof(*k));
	if (strlen(name) >= sizeof(k->name))
		return -ENAMETOOLONG;
	strcpy(k->name, name);
	f = open_ours(dfd, name, k, &err);
	if (!f)
		return err;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "upload ", 7))
			snprintf(k->upload_id, sizeof(k->upload_id), "%.*s",
				 (int)sizeof(k->upload_id) - 1, line + 7);
		else if (!strncmp(line, "endpoint ", 9))
			snprintf(k->endpoint, sizeof(k->endpoint), "%.*s",
				 (int)sizeof(k->endpoint) - 1, line + 9);
		else if (!n++)
			snprintf(k->url, sizeof(k->url), "%s", line);
	}
	fclose(f);
	if (!k->upload_id[0])
		return -EINVAL;
	return kept_split_url(k);
}

int s3_kept_abort(struct s3_client *c, int dfd, const struct s3_kept *k)
{
	int err = s3_abort_multipart(c, k->bucket, k->key, k->upload_id);

	if (err && err != -ENOENT)
		return err;
	if (unlinkat(dfd, k->name, 0) && errno != ENOENT)
		return -errno;
	fsync(dfd);
	return 0;
}

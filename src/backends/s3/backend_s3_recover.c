// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_recover.c - what a mount finds of an earlier one: kept staging files
 * (uploaded now) and multipart uploads a killed daemon left unfinished (aborted).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "backend_s3.h"
#include "cache.h"
#include "cache_scrub.h"
#include "config.h"
#include "fs.h"
#include "log.h"
#include "s3_client.h"
#include "s3_cred.h"
#include "backend_s3_priv.h"

/* a line of a .key file: "s3://", a bucket and a key of up to 1,024 bytes */
#define S3_KEYFILE_LINE 1600

struct kept {
	char url[S3_KEYFILE_LINE];
	char endpoint[512];
	char etag[S3_ETAG_MAX];
};

static int read_key_file(int dfd, const char *name, struct kept *k)
{
	char line[S3_KEYFILE_LINE];
	int fd, got = 0;
	FILE *f;

	memset(k, 0, sizeof(*k));
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!got++)
			snprintf(k->url, sizeof(k->url), "%s", line);
		else if (!strncmp(line, "endpoint ", 9))
			snprintf(k->endpoint, sizeof(k->endpoint), "%.*s", (int)sizeof(k->endpoint) - 1,
				 line + 9);
		else if (!strncmp(line, "etag ", 5))
			snprintf(k->etag, sizeof(k->etag), "%.*s", (int)sizeof(k->etag) - 1, line + 5);
	}
	fclose(f);
	return k->url[0] ? 0 : -EINVAL;
}

/* Upload the kept file @name if its object is still the version it replaces. */
static void recover_one(struct s3be *sb, int dfd, const char *name)
{
	char kname[NAME_MAX + 8], url[300], etag[S3_ETAG_MAX] = "";
	const char *key;
	struct s3_stat st;
	struct kept k;
	struct stat fst;
	size_t blen;
	int fd, err;

	snprintf(kname, sizeof(kname), "%s.key", name);
	if (read_key_file(dfd, kname, &k)) {
		pr_warn("s3: '%s/%s' was kept by an earlier mount without a readable key file; "
			"not uploaded", sb->staging, name);
		return;
	}
	snprintf(url, sizeof(url), "s3://%s/", sb->bucket);
	blen = strlen(url);
	if (strncmp(k.url, url, blen) || strcmp(k.endpoint, sb->endpoint)) {
		pr_warn("s3: '%s/%s' holds bytes of '%s'%s%s not uploaded yet: mount that bucket "
			"with this cache directory to upload them", sb->staging, name, k.url,
			k.endpoint[0] ? " at " : "", k.endpoint);
		return;
	}
	key = k.url + blen;
	if (!k.etag[0] || sb->be->cfg->read_only) {
		pr_warn("s3: '%s/%s' holds bytes of '%s' not uploaded yet (%s): upload it by "
			"hand", sb->staging, name, k.url,
			sb->be->cfg->read_only ? "read-only mount" : "no version recorded");
		return;
	}
	err = s3_head(sb->c, sb->bucket, key, &st);
	if (!err ? strcmp(st.etag, k.etag) : err != -ENOENT || strcmp(k.etag, "-")) {
		if (err && err != -ENOENT)
			pr_warn("s3: cannot check '%s' to upload the bytes kept in '%s/%s': %s",
				k.url, sb->staging, name, strerror(-err));
		else
			pr_warn("s3: '%s' changed in the bucket since an earlier mount kept its "
				"bytes in '%s/%s': not uploaded over it", k.url, sb->staging, name);
		return;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &fst) || !S_ISREG(fst.st_mode)) {
		pr_warn("s3: cannot read '%s/%s': %s", sb->staging, name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	stats_add(&sb->stats->s3_put, 1);
	err = s3_put_fd(sb->c, sb->bucket, key, fd, 0, fst.st_size, etag);
	close(fd);
	if (err) {
		pr_warn("s3: '%s' could not be uploaded from '%s/%s' (%s): kept for the next mount",
			k.url, sb->staging, name, strerror(-err));
		return;
	}
	unlinkat(dfd, kname, 0);
	unlinkat(dfd, name, 0);
	fsync(dfd);
	pr_info("s3: uploaded '%s' from '%s/%s', kept by an earlier mount", k.url, sb->staging,
		name);
}

/*
 * The multipart uploads in flight are journaled as <staging>/mpu-<hash> (0600, fsync'ed):
 *	upload UPLOAD-ID
 *	s3://BUCKET/KEY
 *	endpoint URL
 * from their start until they complete or are aborted; one left by a crash is aborted by
 * the next mount, so no parts stay in the bucket (billed, invisible) forever.
 */
static void mpu_path(struct s3be *sb, const char *bucket, const char *key, const char *id,
		     char *path, size_t size)
{
	const char *parts[] = { sb->endpoint, bucket, key, id };
	char h[CACHE_KEY_LEN + 1];

	cache_key(parts, 4, h);
	snprintf(path, size, "%s/mpu-%s", sb->staging, h);
}

void s3_mpu_note(void *arg, const char *bucket, const char *key, const char *upload_id,
		 int active)
{
	struct s3be *sb = arg;
	char path[PATH_MAX + 80];
	FILE *f;
	int fd;

	mpu_path(sb, bucket, key, upload_id, path, sizeof(path));
	if (!active) {
		unlink(path);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return;
	}
	fprintf(f, "upload %s\ns3://%s/%s\nendpoint %s\n", upload_id, bucket, key, sb->endpoint);
	fflush(f);
	fsync(fd);
	fclose(f);
	s3_fsync_dir(sb->staging);
}

/* Abort the multipart upload journaled in @name (an earlier mount died during it). */
static void recover_mpu(struct s3be *sb, int dfd, const char *name)
{
	char line[S3_KEYFILE_LINE], id[512] = "", url[S3_KEYFILE_LINE] = "", ep[512] = "";
	char prefix[300];
	size_t plen;
	int fd, err, n = 0;
	FILE *f;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "upload ", 7))
			snprintf(id, sizeof(id), "%.*s", (int)sizeof(id) - 1, line + 7);
		else if (!strncmp(line, "endpoint ", 9))
			snprintf(ep, sizeof(ep), "%.*s", (int)sizeof(ep) - 1, line + 9);
		else if (!n++)
			snprintf(url, sizeof(url), "%s", line);
	}
	fclose(f);
	snprintf(prefix, sizeof(prefix), "s3://%s/", sb->bucket);
	plen = strlen(prefix);
	if (!id[0] || strncmp(url, prefix, plen) || strcmp(ep, sb->endpoint)) {
		if (id[0])
			pr_warn("s3: an earlier mount left an unfinished multipart upload of '%s'%s%s "
				"('%s/%s'): mount that bucket with this cache directory to abort it",
				url, ep[0] ? " at " : "", ep, sb->staging, name);
		return;
	}
	err = s3_abort_multipart(sb->c, sb->bucket, url + plen, id);
	if (err && err != -ENOENT) {
		pr_warn("s3: cannot abort the unfinished multipart upload of '%s' left by an "
			"earlier mount: %s", url, strerror(-err));
		return;
	}
	unlinkat(dfd, name, 0);
	if (!err)
		pr_info("s3: aborted the unfinished multipart upload of '%s' left by an earlier "
			"mount", url);
}

/*
 * Mount: abort the multipart uploads an earlier mount of this cache directory left
 * unfinished; upload what it kept (s3_stage_persist()), each file only if its object is
 * still the version it replaces; report the rest.
 */
void s3_stage_recover(struct s3be *sb)
{
	struct dirent *de;
	int dfd;
	DIR *d;

	dfd = open(sb->staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return;
	d = fdopendir(dup(dfd));
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (!strncmp(de->d_name, "mpu-", 4)) {
			recover_mpu(sb, dfd, de->d_name);
			continue;
		}
		if (strncmp(de->d_name, "unuploaded-", 11))
			continue;
		if (len > 8 && !strcmp(de->d_name + len - 8, ".key.tmp")) {
			unlinkat(dfd, de->d_name, 0); /* a key file never completed */
			continue;
		}
		if ((len > 4 && !strcmp(de->d_name + len - 4, ".key")) ||
		    (len > 4 && !strcmp(de->d_name + len - 4, ".new")))
			continue;
		recover_one(sb, dfd, de->d_name);
	}
	closedir(d);
	close(dfd);
}

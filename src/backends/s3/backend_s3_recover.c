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
#include "s3_kept.h"

/* ------------------------------------------------------- kept by a mount before */

/* Upload the kept file @name if its object is still the version it replaces. */
static void recover_one(struct s3be *sb, int dfd, const char *name)
{
	struct s3_kept k;
	int err;

	err = s3_kept_read(dfd, name, &k);
	if (err == -EINVAL) {
		pr_warn("s3: '%s/%s' was kept by an earlier mount without a readable key file; "
			"not uploaded", sb->staging, name);
		return;
	}
	if (err) {
		pr_warn("s3: cannot read '%s/%s': %s", sb->staging, name, strerror(-err));
		return;
	}
	if (strcmp(k.bucket, sb->bucket) || strcmp(k.endpoint, sb->endpoint)) {
		pr_warn("s3: '%s/%s' holds bytes of '%s'%s%s not uploaded yet: mount that bucket "
			"with this cache directory to upload them, or see bpfuse staging",
			sb->staging, name, k.url, k.endpoint[0] ? " at " : "", k.endpoint);
		return;
	}
	if (!k.etag[0] || sb->be->cfg->read_only) {
		pr_warn("s3: '%s/%s' holds bytes of '%s' not uploaded yet (%s): see bpfuse "
			"staging", sb->staging, name, k.url,
			sb->be->cfg->read_only ? "read-only mount" : "no version recorded");
		return;
	}
	err = s3_kept_check(sb->c, &k);
	if (err == -ESTALE) {
		pr_warn("s3: '%s' changed in the bucket since an earlier mount kept its bytes in "
			"'%s/%s': not uploaded over it", k.url, sb->staging, name);
		return;
	}
	if (err) {
		pr_warn("s3: cannot check '%s' to upload the bytes kept in '%s/%s': %s", k.url,
			sb->staging, name, strerror(-err));
		return;
	}
	stats_add(&sb->stats->s3_put, 1);
	err = s3_kept_put(sb->c, dfd, &k, 0);
	if (err == -EEXIST) {
		pr_warn("s3: '%s' was created in the bucket since an earlier mount kept its bytes "
			"in '%s/%s': not uploaded over it", k.url, sb->staging, name);
		return;
	}
	if (err) {
		pr_warn("s3: '%s' could not be uploaded from '%s/%s' (%s): kept for the next mount",
			k.url, sb->staging, name, strerror(-err));
		return;
	}
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
	struct s3_kept k;
	int err;

	if (s3_kept_read_mpu(dfd, name, &k))
		return;
	if (strcmp(k.bucket, sb->bucket) || strcmp(k.endpoint, sb->endpoint)) {
		pr_warn("s3: an earlier mount left an unfinished multipart upload of '%s'%s%s "
			"('%s/%s'): mount that bucket with this cache directory to abort it, or "
			"see bpfuse staging", k.url, k.endpoint[0] ? " at " : "", k.endpoint,
			sb->staging, name);
		return;
	}
	err = s3_kept_abort(sb->c, dfd, &k);
	if (err) {
		pr_warn("s3: cannot abort the unfinished multipart upload of '%s' left by an "
			"earlier mount: %s", k.url, strerror(-err));
		return;
	}
	pr_info("s3: aborted the unfinished multipart upload of '%s' left by an earlier mount",
		k.url);
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

	d = s3_staging_opendir(sb, &dfd);
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (!strncmp(de->d_name, S3_KEPT_MPU_PREFIX, strlen(S3_KEPT_MPU_PREFIX))) {
			recover_mpu(sb, dfd, de->d_name);
			continue;
		}
		if (strncmp(de->d_name, S3_KEPT_PREFIX, strlen(S3_KEPT_PREFIX)))
			continue;
		if (len > 8 && !strcmp(de->d_name + len - 8, ".key.tmp")) {
			unlinkat(dfd, de->d_name, 0); /* a key file never completed */
			continue;
		}
		if (len > 4 && !strcmp(de->d_name + len - 4, ".new")) {
			/* a fresh copy never swapped in: the kept file it was to replace is intact */
			unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (s3_kept_is_data(de->d_name))
			recover_one(sb, dfd, de->d_name);
	}
	closedir(d);
	close(dfd);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * backend_s3_mount.c - mounting a bucket (credentials, the client, the first LIST that
 * proves endpoint, keys and bucket, the cache directory, the threads, what an earlier
 * mount left) and unmounting it: the S3 driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ------------------------------------------------------------- open/close */

/*
 * The staging directory holds unuploaded bytes: a real directory of ours, 0700 (tightened
 * if an older version made it wider), never a symlink.
 */
static int staging_check(const char *path)
{
	struct stat st;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot open '%s': %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
	} else if (st.st_uid != geteuid()) {
		pr_err("'%s' is not owned by this user: refusing to keep files in it", path);
		err = -EPERM;
	} else if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700)) {
		err = -errno;
		pr_err("cannot make '%s' 0700: %s", path, strerror(-err));
	}
	close(fd);
	return err;
}

/* Was the word @w given last among "w" and "now" in the comma list @opts? */
static int kernel_opt_given(const char *opts, const char *w)
{
	size_t wl = strlen(w);
	const char *p;
	int found = 0;

	for (p = opts; *p; p += strcspn(p, ","), p += *p == ',') {
		size_t len = strcspn(p, ",");

		if (len == wl && !strncmp(p, w, wl))
			found = 1;
		else if (len == wl + 2 && !strncmp(p, "no", 2) && !strncmp(p + 2, w, wl))
			found = 0;
	}
	return found;
}

/*
 * Why the mount's first LIST failed, in one line that says what to try.  @defaulted: no
 * endpoint was configured anywhere, so AWS was tried.
 */
static void mount_error(const struct s3be *sb, const struct config *cfg, int err,
			const struct s3_response *r, int defaulted)
{
	const char *hint = defaulted ? "; no endpoint is configured, so AWS was tried: for "
				       "another store give --endpoint URL (-o endpoint=URL) or "
				       "set AWS_ENDPOINT_URL" : "";
	const char *style = cfg->s3_path_style ? "" : "; with path_style=off the bucket is "
			    "a host name (BUCKET.host), which many stores (RGW, MinIO) do not "
			    "serve without DNS set up: try path_style=on";
	char what[256];

	switch (err) {
	case -ENOENT:
		if (!strcmp(r->err_code, "NoSuchBucket"))
			snprintf(what, sizeof(what), "the bucket does not exist");
		else
			snprintf(what, sizeof(what), "the endpoint answered HTTP %ld without an S3 "
				 "error (%s): it is not an S3 endpoint, or a proxy answered for it",
				 r->status, r->err_code[0] ? r->err_code : "no error document");
		break;
	case -EACCES:
		snprintf(what, sizeof(what), "access denied (check the credentials: "
			 "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE or aws_profile=)");
		break;
	case -EIO:
		if (r->status)
			snprintf(what, sizeof(what), "the endpoint keeps failing (HTTP %ld %s)",
				 r->status, r->err_code);
		else
			snprintf(what, sizeof(what), "the endpoint cannot be reached (no answer "
				 "within s3_timeout, or connection refused)");
		break;
	case -EBADMSG:
		snprintf(what, sizeof(what), "the endpoint's answer is not a bucket listing");
		break;
	case -EINVAL:
		snprintf(what, sizeof(what), "the endpoint refused the request as invalid (HTTP "
			 "%ld %s): check region= and endpoint=", r->status,
			 r->err_code[0] ? r->err_code : "without an error code");
		break;
	case -EPROTO:
		snprintf(what, sizeof(what), "the endpoint sent a malformed size or range");
		break;
	default:
		snprintf(what, sizeof(what), "%s", strerror(-err));
		break;
	}
	pr_err("cannot mount s3://%s at %s: %s%s%s", sb->bucket, sb->endpoint, what, hint,
	       err == -EACCES ? "" : style);
}

void s3_mount_client_opts(const struct config *cfg, struct s3_client_opts *opts)
{
	s3_client_opts_init(opts);
	/*
	 * Interactive mounts: fail a dead endpoint within s3_timeout (docs/s3.md).  Three
	 * attempts, two backoffs of at most 1 s, each attempt ended after a stall that the
	 * progress callback sees within a second: 3 * (stall + 1 s) + 2 s <= s3_timeout.
	 */
	opts->http.max_retries = S3_ATTEMPTS - 1;
	opts->http.backoff_max_ms = 1000;
	opts->http.stall_ms = (long)(cfg->s3_timeout_s * 1000 - 2 * 1000 - S3_ATTEMPTS * 1000) /
			      S3_ATTEMPTS;
	opts->http.connect_timeout_ms = opts->http.stall_ms < 2000 ? opts->http.stall_ms : 2000;
	opts->http.low_speed_time_s = 5; /* uploads: see s3_http_opts.stall_ms */
	opts->http.path_style = cfg->s3_path_style;
}

static int s3_open_backend(struct backend *be, const struct config *cfg)
{
	struct stats *stats = &be->fs->stats;
	struct s3_client_opts opts;
	struct cache_limits lim = { 0 };
	struct s3_list_page page;
	struct s3_response resp;
	struct s3_sign_cred cred;
	struct s3_env env;
	struct s3be *sb;
	int err, defaulted;

	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	be->priv = sb;
	be->ops = &backend_s3_ops;
	sb->be = be;
	sb->stats = stats;
	s3_inval_init(sb);
	pthread_mutex_init(&sb->ns_lock, NULL);
	pthread_mutex_init(&sb->rename_lock, NULL);
	pthread_mutex_init(&sb->fetch_lock, NULL);
	s3_pool_init(sb);
	s3_prefetch_init(sb, cfg->s3_prefetch, cfg->s3_prefetch_threads, cfg->cache_size_bytes);
	pthread_cond_init(&sb->fetch_cond, NULL);
	pthread_cond_init(&sb->job_cond, NULL);
	sb->nbuckets = 1 << 16;
	sb->tbl = calloc(sb->nbuckets, sizeof(*sb->tbl));
	if (!sb->tbl)
		return -ENOMEM;
	snprintf(sb->bucket, sizeof(sb->bucket), "%s", cfg->s3_bucket);
	snprintf(sb->prefix, sizeof(sb->prefix), "%s", cfg->s3_prefix);
	sb->list_ttl = cfg->list_ttl_s;
	sb->uid = getuid();
	sb->gid = getgid();
	sb->mount_time = time(NULL);
	sb->posix_meta = cfg->s3_posix_meta;
	sb->nodev = !kernel_opt_given(cfg->kernel_opts, "dev");

	err = s3_env_load_profile(&env, cfg->s3_aws_profile[0] ? cfg->s3_aws_profile : NULL);
	if (err == -ENOKEY) {
		if (env.profile_found)
			pr_err("cannot mount s3://%s: AWS profile '%s' has no aws_access_key_id "
			       "and aws_secret_access_key", sb->bucket, env.profile);
		else
			pr_err("cannot mount s3://%s: no S3 credentials (set AWS_ACCESS_KEY_ID "
			       "and AWS_SECRET_ACCESS_KEY, or name a profile of ~/.aws/credentials "
			       "with AWS_PROFILE or -o aws_profile=)", sb->bucket);
		s3_env_clear(&env);
		return err;
	}
	if (err) {
		s3_env_clear(&env);
		return err;
	}
	snprintf(sb->endpoint, sizeof(sb->endpoint), "%s",
		 cfg->s3_endpoint[0] ? cfg->s3_endpoint : env.endpoint);
	defaulted = !sb->endpoint[0];
	if (defaulted)
		snprintf(sb->endpoint, sizeof(sb->endpoint), "https://s3.%s.amazonaws.com",
			 cfg->s3_region[0] ? cfg->s3_region : env.region);
	s3_mount_client_opts(cfg, &opts);
	opts.mpu_note = s3_mpu_note; /* journaled in the staging directory */
	opts.mpu_arg = sb;
	opts.http.protocol_errors = &stats->s3_protocol_errors;
	sb->cold_direct = cfg->s3_cold_direct;
	opts.get_threads = 8;
	cred.access_key = env.access_key;
	cred.secret_key = env.secret_key;
	cred.session_token = env.session_token[0] ? env.session_token : NULL;
	err = s3_client_new(&sb->c, sb->endpoint, cfg->s3_region[0] ? cfg->s3_region : env.region,
			    &cred, &opts);
	s3_env_clear(&env);
	if (err) {
		/* a bad endpoint or region was named by s3_http_new() already: one line */
		if (err != -EINVAL)
			pr_err("cannot mount s3://%s: cannot set up the S3 client: %s",
			       sb->bucket, strerror(-err));
		return err;
	}

	/* one LIST proves the endpoint, the keys and the bucket before anything is mounted */
	err = s3_list_resp(sb->c, sb->bucket, sb->prefix[0] ? sb->prefix : NULL, "/", 1, NULL,
			   &page, &resp);
	s3_list_page_free(&page);
	if (err) {
		mount_error(sb, cfg, err, &resp, defaulted);
		return err;
	}

	lim.max_bytes = cfg->cache_size_bytes;
	lim.min_free_ratio = 0.05;
	lim.block_size = CACHE_DEFAULT_BLOCK_SIZE;
	if (mkdir(cfg->cache_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create cache dir '%s': %s", cfg->cache_dir, strerror(-err));
		return err;
	}
	err = cache_open(&sb->cache, cfg->cache_dir, &lim);
	if (err) {
		if (err == -EBUSY)
			pr_err("cache dir '%s' is in use by another mount (use -o cache_dir=)",
			       cfg->cache_dir);
		return err;
	}
	sb->block_size = cache_block_size(sb->cache);
	sb->scrub_rate = cfg->scrub_rate_bytes;
	if ((size_t)snprintf(sb->staging, sizeof(sb->staging), "%.*s/staging", PATH_MAX - 16,
			     cfg->cache_dir) >= sizeof(sb->staging) ||
	    strlen(cfg->cache_dir) > PATH_MAX - 16) {
		pr_err("cache dir '%.64s...' is too long (%zu bytes)", cfg->cache_dir,
		       strlen(cfg->cache_dir));
		return -ENAMETOOLONG;
	}
	if (mkdir(sb->staging, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create '%s': %s", sb->staging, strerror(-err));
		return err;
	}
	err = staging_check(sb->staging);
	if (err)
		return err;
	/* renames an earlier mount left half done are settled, then what it kept goes up */
	s3_rename_recover(sb);
	s3_stage_recover(sb);

	pthread_mutex_lock(&sb->ns_lock);
	sb->root = s3_node_get_locked(sb, sb->prefix, 1);
	if (sb->root) {
		sb->root->exists = 1;
		sb->root->seen = s3_now_mono();
	}
	pthread_mutex_unlock(&sb->ns_lock);
	if (!sb->root)
		return -ENOMEM;
	s3_sync_cache_stats(sb);
	return 0;
}

static void s3_close_backend(struct backend *be)
{
	struct s3be *sb = SB(be);
	struct fetch_job *j;
	size_t i;
	int t;

	if (!sb)
		return;
	s3_prefetch_destroy(sb); /* first: its workers read through the fetch path */
	pthread_mutex_lock(&sb->fetch_lock);
	sb->stop = 1;
	pthread_cond_broadcast(&sb->job_cond);
	pthread_mutex_unlock(&sb->fetch_lock);
	for (t = 0; t < sb->nthreads; t++)
		pthread_join(sb->threads[t], NULL);
	while ((j = sb->jobs)) {
		sb->jobs = j->next;
		s3_open_put(sb, j->o);
		free(j);
	}
	/* what is still staged is uploaded now, or kept (and said so) */
	if (sb->cache && sb->c)
		s3_stage_close_all(sb);
	/* a rename whose old objects could not all be deleted: try once more */
	if (sb->cache && sb->c && sb->root)
		s3_rename_recover(sb);
	s3_inval_destroy(sb);
	cache_scrub_stop(sb->scrub);
	if (sb->cache)
		cache_close(sb->cache);
	s3_client_free(sb->c);
	for (i = 0; sb->tbl && i < sb->nbuckets; i++) {
		struct s3node *n, *next;

		for (n = sb->tbl[i]; n; n = next) {
			next = n->next;
			s3_node_free(n);
		}
	}
	free(sb->tbl);
	while (sb->graveyard) {
		struct s3node *n = sb->graveyard;

		sb->graveyard = n->next;
		s3_node_free(n);
	}
	pthread_mutex_destroy(&sb->ns_lock);
	pthread_mutex_destroy(&sb->rename_lock);
	pthread_mutex_destroy(&sb->fetch_lock);
	s3_pool_destroy(sb);
	pthread_cond_destroy(&sb->fetch_cond);
	pthread_cond_destroy(&sb->job_cond);
	free(sb);
	be->priv = NULL;
}

const struct backend_driver backend_s3_driver = {
	.open = s3_open_backend,
	.close = s3_close_backend,
};

// SPDX-License-Identifier: GPL-2.0
/*
 * staging.c - `bpfuse staging list|retry|discard CACHE_DIR ...`: the files failed uploads
 * kept in <cache_dir>/staging (s3_kept.h), seen and dealt with without mounting.
 *
 * retry and discard hold the cache directory's lock (the one cache_open() takes) for
 * their whole run: they refuse while a mount uses the directory, and a mount started
 * meanwhile is refused, so the two never handle the same file.  list takes no lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend_s3.h"
#include "config.h"
#include "log.h"
#include "s3_client.h"
#include "s3_cred.h"
#include "s3_kept.h"
#include "staging.h"

#define USAGE_LIST "usage: bpfuse staging list CACHE_DIR"
#define USAGE_RETRY "usage: bpfuse staging retry CACHE_DIR [OBJECT|FILE...] [--force] " \
		    "[--endpoint URL] [--region R] [-o opt,...]"
#define USAGE_DISCARD "usage: bpfuse staging discard CACHE_DIR OBJECT|FILE... | --all"

/* the -o options retry takes: the mount's S3 client options */
static const char *const retry_opts[] = { "endpoint", "region", "aws_profile", "path_style",
					  "s3_timeout" };

struct staging {
	char dir[PATH_MAX];        /* <cache_dir>/staging */
	int dfd, lock_fd;          /* -1 when not open */
	struct s3_kept *kept;      /* oldest first */
	int *bad;                  /* per entry: its key file cannot be used (-errno) */
	int *picked;               /* per entry: named on the command line (or --all) */
	size_t n;
};

/* Is @name the journal of a multipart upload a dead daemon left (not kept bytes)? */
static int is_mpu_name(const char *name)
{
	return !strncmp(name, S3_KEPT_MPU_PREFIX, strlen(S3_KEPT_MPU_PREFIX));
}

/* oldest first */
static int kept_cmp(const void *a, const void *b)
{
	const struct s3_kept *x = a, *y = b;

	if (x->kept != y->kept)
		return x->kept < y->kept ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void staging_release(struct staging *s)
{
	if (s->dfd >= 0)
		close(s->dfd);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* drops the flock */
	free(s->kept);
	free(s->bad);
	free(s->picked);
}

/*
 * Open @cache_dir's staging directory (ours, never a symlink) and read what is kept in it;
 * with @lock, take the cache directory's lock first.  0, or -errno after one line.
 */
static int staging_open(struct staging *s, const char *cache_dir, int lock)
{
	struct dirent *de;
	struct stat st;
	size_t cap = 0;
	int err = 0, fd;
	DIR *d;

	memset(s, 0, sizeof(*s));
	s->dfd = s->lock_fd = -1;
	fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot open cache dir '%s': %s", cache_dir, strerror(-err));
		return err;
	}
	snprintf(s->dir, sizeof(s->dir), "%.*s/staging", PATH_MAX - 16, cache_dir);
	s->dfd = openat(fd, "staging", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dfd < 0) {
		err = -errno;
		if (err == -ENOENT && faccessat(fd, "lock", F_OK, AT_SYMLINK_NOFOLLOW)) {
			pr_err("'%s' is not a bpfuse cache dir (no 'lock' or 'staging' in it)",
			       cache_dir);
			err = -EINVAL;
			goto out_close;
		} else if (err != -ENOENT) {
			pr_err("cannot open '%s': %s", s->dir, strerror(-err));
			goto out_close;
		}
		err = 0; /* a cache dir no S3 mount wrote to: nothing kept */
	}
	/* after the staging dir: a directory that is no cache dir gets no lock file */
	if (lock) {
		s->lock_fd = openat(fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
				    0600);
		if (s->lock_fd < 0) {
			err = -errno;
			pr_err("cannot open '%s/lock': %s", cache_dir, strerror(-err));
			goto out_close;
		}
		if (flock(s->lock_fd, LOCK_EX | LOCK_NB)) {
			err = errno == EWOULDBLOCK ? -EBUSY : -errno;
			if (err == -EBUSY)
				pr_err("cache dir '%s' is in use by a mount: unmount it first (the "
				       "mount retries its own uploads, and the next mount uploads "
				       "what is kept)", cache_dir);
			else
				pr_err("cannot lock '%s/lock': %s", cache_dir, strerror(-err));
			goto out_close;
		}
	}
	if (s->dfd < 0)
		goto out_alloc;
	/*
	 * The mount's rule: files of ours, in a directory of ours.  Nobody else may write
	 * there either: retry sends the credentials to the endpoint a key file names.
	 */
	if (fstat(s->dfd, &st) || st.st_uid != geteuid()) {
		pr_err("'%s' is not owned by this user: refusing to use it", s->dir);
		err = -EPERM;
		goto out_close;
	}
	if (st.st_mode & 022) {
		pr_err("'%s' is writable by others (mode %o): refusing to use it (a mount makes "
		       "it 0700)", s->dir, (unsigned int)(st.st_mode & 07777));
		err = -EPERM;
		goto out_close;
	}
	d = fdopendir(dup(s->dfd));
	if (!d) {
		err = -errno;
		pr_err("cannot read '%s': %s", s->dir, strerror(-err));
		goto out_close;
	}
	while (!err && (de = readdir(d))) {
		int mpu = is_mpu_name(de->d_name);

		if (!mpu && !s3_kept_is_data(de->d_name))
			continue;
		if (s->n == cap) {
			struct s3_kept *k = realloc(s->kept, (cap * 2 + 8) * sizeof(*k));

			if (!k) {
				err = -ENOMEM;
				pr_err("out of memory");
				break;
			}
			s->kept = k;
			cap = cap * 2 + 8;
		}
		err = mpu ? s3_kept_read_mpu(s->dfd, de->d_name, &s->kept[s->n]) :
			    s3_kept_read(s->dfd, de->d_name, &s->kept[s->n]);
		if (err == -ENOENT) {
			err = 0; /* gone meanwhile */
			continue;
		}
		if (err && err != -EINVAL) {
			pr_err("cannot read '%s/%s': %s", s->dir, de->d_name, strerror(-err));
			break;
		}
		/* kept without a usable key file (key stays ""): shown, can be discarded */
		err = 0;
		s->n++;
	}
	closedir(d);
	if (err)
		goto out_close;
	if (s->n) /* qsort(NULL, 0) is undefined */
		qsort(s->kept, s->n, sizeof(*s->kept), kept_cmp);
out_alloc:
	s->bad = calloc(s->n + 1, sizeof(*s->bad));
	s->picked = calloc(s->n + 1, sizeof(*s->picked));
	if (!s->bad || !s->picked) {
		err = -ENOMEM;
		pr_err("out of memory");
		goto out_close;
	}
	for (size_t i = 0; i < s->n; i++)
		s->bad[i] = s->kept[i].key[0] ? 0 : -EINVAL;
out_close:
	close(fd);
	return err;
}

/*
 * Mark the entries @args name (an s3:// object, every file kept for it, or a file name),
 * or all of them with @all; multipart journals only with @mpu.  0, or -ENOENT after one
 * line naming an argument that matches nothing (then nothing is done at all).
 */
static int staging_pick(struct staging *s, char **args, int nargs, int all, int mpu)
{
	int a, hit, is_mpu;
	size_t i;

	for (i = 0; i < s->n; i++)
		s->picked[i] = all && (mpu || !is_mpu_name(s->kept[i].name));
	for (a = 0; a < nargs; a++) {
		for (hit = 0, i = 0; i < s->n; i++) {
			if (strcmp(args[a], s->kept[i].name) &&
			    (s->bad[i] || strcmp(args[a], s->kept[i].url)))
				continue;
			is_mpu = is_mpu_name(s->kept[i].name);
			if (is_mpu && !mpu && !strcmp(args[a], s->kept[i].name)) {
				pr_err("'%s' is the journal of an unfinished multipart "
				       "upload: bpfuse staging retry aborts it (deleting it "
				       "would leave its parts in the bucket)", args[a]);
				return -EINVAL;
			}
			if (is_mpu && !mpu)
				continue;
			s->picked[i] = 1;
			hit = 1;
		}
		if (!hit) {
			pr_err("nothing is kept for '%s' in '%s' (see bpfuse staging list)",
			       args[a], s->dir);
			return -ENOENT;
		}
	}
	return 0;
}

static void format_age(time_t t, char *buf, size_t size)
{
	long long d = (long long)(time(NULL) - t);

	if (d < 0)
		d = 0;
	if (d < 120)
		snprintf(buf, size, "%llds", d);
	else if (d < 2 * 3600)
		snprintf(buf, size, "%lldm", d / 60);
	else if (d < 2 * 86400)
		snprintf(buf, size, "%lldh", d / 3600);
	else
		snprintf(buf, size, "%lldd", d / 86400);
}

/* What the REPLACES column says of @k: the ETag without its quotes, (new), or ? */
static void replaces(const struct s3_kept *k, int bad, char *buf, size_t size)
{
	size_t n = strlen(k->etag);

	if (bad)
		snprintf(buf, size, "no key file");
	else if (!strcmp(k->etag, "-"))
		snprintf(buf, size, "(new)");
	else if (n >= 2 && k->etag[0] == '"' && k->etag[n - 1] == '"')
		snprintf(buf, size, "%.*s", (int)n - 2, k->etag + 1);
	else
		snprintf(buf, size, "%s", n ? k->etag : "?");
}

static int cmd_list(int argc, char **argv)
{
	char rep[S3_ETAG_MAX + 16], age[32];
	int wo = 6, wr = 8, err;
	size_t i, nk = 0, nm = 0;
	struct staging s;

	if (argc != 1 || argv[0][0] == '-') {
		pr_err("%s", USAGE_LIST);
		return 2;
	}
	if (staging_open(&s, argv[0], 0))
		return 1;
	for (i = 0; i < s.n; i++) {
		if (is_mpu_name(s.kept[i].name)) {
			nm++;
		} else {
			nk++;
			replaces(&s.kept[i], s.bad[i], rep, sizeof(rep));
			if ((int)strlen(rep) > wr)
				wr = (int)strlen(rep);
		}
		if (!s.bad[i] && (int)strlen(s.kept[i].url) > wo)
			wo = (int)strlen(s.kept[i].url);
	}
	if (!s.n)
		printf("nothing kept in '%s'\n", s.dir[0] ? s.dir : argv[0]);
	if (nk)
		printf("%-*s %12s %5s  %-*s  %s  %s\n", wo, "OBJECT", "BYTES", "AGE", wr,
		       "REPLACES", "ENDPOINT", "FILE");
	for (i = 0; i < s.n; i++) {
		const struct s3_kept *k = &s.kept[i];

		if (is_mpu_name(k->name))
			continue;
		format_age(k->kept, age, sizeof(age));
		replaces(k, s.bad[i], rep, sizeof(rep));
		printf("%-*s %12lld %5s  %-*s  %s  %s\n", wo, s.bad[i] ? "?" : k->url,
		       (long long)k->size, s.bad[i] ? "-" : age, wr, rep,
		       !s.bad[i] && k->endpoint[0] ? k->endpoint : "-", k->name);
	}
	if (nm)
		printf("%sunfinished multipart uploads (their parts stay in the bucket until "
		       "bpfuse staging retry or the next mount aborts them):\n%-*s %5s  %s  %s\n",
		       nk ? "\n" : "", wo, "OBJECT", "AGE", "ENDPOINT", "FILE");
	for (i = 0; i < s.n; i++) {
		const struct s3_kept *k = &s.kept[i];

		if (!is_mpu_name(k->name))
			continue;
		format_age(k->kept, age, sizeof(age));
		printf("%-*s %5s  %s  %s\n", wo, s.bad[i] ? "?" : k->url, age,
		       !s.bad[i] && k->endpoint[0] ? k->endpoint : "-", k->name);
	}
	err = fflush(stdout) ? 1 : 0;
	staging_release(&s);
	return err;
}

/* What to tell the user about @err from the store, in a few words. */
static const char *store_error(int err)
{
	switch (err) {
	case -EACCES:
		return "access denied (check the credentials: AWS_ACCESS_KEY_ID, "
		       "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or aws_profile=)";
	case -EIO:
		return "the endpoint cannot be reached or keeps failing";
	case -ENOENT:
		return "the bucket does not exist";
	default:
		return strerror(-err);
	}
}

/* Parse -o @opts for retry: only the S3 client's options (retry_opts[]) are taken. */
static int retry_parse_opts(struct config *cfg, const char *opts)
{
	char buf[2048], *tok, *save = NULL;
	size_t k, n;

	if (strlen(opts) >= sizeof(buf)) {
		pr_err("option string too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		n = strcspn(tok, "=");
		for (k = 0; k < sizeof(retry_opts) / sizeof(retry_opts[0]); k++)
			if (strlen(retry_opts[k]) == n && !strncmp(tok, retry_opts[k], n))
				break;
		if (k == sizeof(retry_opts) / sizeof(retry_opts[0])) {
			pr_err("option '%.*s' is not one of staging retry's (endpoint, region, "
			       "aws_profile, path_style, s3_timeout)", (int)n, tok);
			return -EINVAL;
		}
		if (config_parse_opts(cfg, tok))
			return -EINVAL;
	}
	return 0;
}

struct retry_client {
	char endpoint[512];
	struct s3_client *c;
};

/* A client for @endpoint (the last one is reused: kept files rarely name several). */
static int retry_client_get(struct retry_client *rc, const struct config *cfg,
			    const struct s3_env *env, const char *endpoint)
{
	struct s3_sign_cred cred = { env->access_key, env->secret_key,
				     env->session_token[0] ? env->session_token : NULL };
	struct s3_client_opts opts;

	if (rc->c && !strcmp(rc->endpoint, endpoint))
		return 0;
	s3_client_free(rc->c);
	rc->c = NULL;
	snprintf(rc->endpoint, sizeof(rc->endpoint), "%s", endpoint);
	s3_mount_client_opts(cfg, &opts);
	/* s3_http_new() names a bad endpoint or region in one line */
	return s3_client_new(&rc->c, endpoint, cfg->s3_region[0] ? cfg->s3_region : env->region,
			     &cred, &opts);
}

/* Upload kept file @j of @s, unless its object changed (@force: anyway).  0 or -1 (said). */
static int retry_one(struct retry_client *rc, const struct config *cfg,
		     const struct s3_env *env, const struct staging *s, size_t j, int force)
{
	const struct s3_kept *k = &s->kept[j];
	const char *ep;
	int err;

	if (s->bad[j] && is_mpu_name(k->name)) {
		pr_err("'%s/%s' is not a readable multipart journal: its upload is unknown (the "
		       "bucket's ListMultipartUploads shows what is left)", s->dir, k->name);
		return -1;
	}
	if (s->bad[j]) {
		pr_err("'%s/%s' has no readable key file: where it goes is unknown (copy it by "
		       "hand, then bpfuse staging discard)", s->dir, k->name);
		return -1;
	}
	ep = cfg->s3_endpoint[0] ? cfg->s3_endpoint : k->endpoint[0] ? k->endpoint :
		env->endpoint;
	if (!ep[0]) {
		pr_err("'%s' was kept without an endpoint: give --endpoint URL", k->url);
		return -1;
	}
	err = retry_client_get(rc, cfg, env, ep);
	if (err) {
		if (err != -EINVAL)
			pr_err("cannot set up the S3 client for '%s': %s", ep, strerror(-err));
		return -1;
	}
	if (is_mpu_name(k->name)) {
		err = s3_kept_abort(rc->c, s->dfd, k);
		if (err) {
			pr_err("cannot abort the unfinished multipart upload of '%s' at %s: %s",
			       k->url, ep, store_error(err));
			return -1;
		}
		printf("aborted the unfinished multipart upload of '%s' ('%s')\n", k->url,
		       k->name);
		return 0;
	}
	err = force ? 0 : s3_kept_check(rc->c, k);
	if (err == -ESTALE) {
		pr_err("'%s' changed in the bucket since its bytes were kept in '%s': not "
		       "uploaded over it (--force does, discard drops them)", k->url, k->name);
		return -1;
	}
	if (err == -ENODATA) {
		pr_err("'%s' was kept without the version it replaces: not uploaded (--force "
		       "uploads it over whatever is there)", k->url);
		return -1;
	}
	if (err) {
		pr_err("cannot check '%s' at %s: %s", k->url, ep, store_error(err));
		return -1;
	}
	err = s3_kept_put(rc->c, s->dfd, k, force);
	if (err == -EEXIST) {
		pr_err("'%s' was created in the bucket since its bytes were kept in '%s': not "
		       "uploaded over it (--force does, discard drops them)", k->url, k->name);
		return -1;
	}
	if (err) {
		pr_err("'%s' could not be uploaded to %s: %s; still kept in '%s'", k->url, ep,
		       store_error(err), k->name);
		return -1;
	}
	printf("uploaded '%s' (%lld bytes) from '%s'\n", k->url, (long long)k->size, k->name);
	return 0;
}

static int cmd_retry(int argc, char **argv)
{
	struct retry_client rc = { "", NULL };
	char **sel = calloc((size_t)argc + 1, sizeof(*sel));
	const char *dir = NULL;
	int nsel = 0, force = 0, failed = 0, i, err;
	struct config cfg;
	struct staging s;
	struct s3_env env;
	size_t j;

	if (!sel)
		return 1;
	config_init(&cfg);
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *name = NULL;
		char opt[1024];

		if (!strcmp(a, "--force")) {
			force = 1;
			continue;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--endpoint") || !strcmp(a, "--region")) {
			if (i + 1 >= argc) {
				pr_err("option '%s' needs an argument", a);
				goto usage;
			}
			val = argv[++i];
			name = a[1] == 'o' ? NULL : a + 2;
		} else if (!strncmp(a, "-o", 2)) {
			val = a + 2;
		} else if (!strncmp(a, "--endpoint=", 11) || !strncmp(a, "--region=", 9)) {
			val = strchr(a, '=') + 1;
			name = a[2] == 'e' ? "endpoint" : "region";
		} else if (a[0] == '-' && a[1]) {
			pr_err("unknown option '%s' (%s)", a, USAGE_RETRY);
			goto usage;
		} else if (!dir) {
			dir = a;
			continue;
		} else {
			sel[nsel++] = argv[i];
			continue;
		}
		if (name && strchr(val, ',')) {
			pr_err("option '%s' cannot contain ','", a);
			goto usage;
		}
		if (name && snprintf(opt, sizeof(opt), "%s=%s", name, val) >= (int)sizeof(opt)) {
			pr_err("option '%s' is too long", a);
			goto usage;
		}
		if (retry_parse_opts(&cfg, name ? opt : val))
			goto usage;
	}
	if (!dir) {
		pr_err("%s", USAGE_RETRY);
		goto usage;
	}
	if (cfg.s3_timeout_s < CONFIG_MIN_S3_TIMEOUT_S) {
		pr_err("option 's3_timeout' needs at least %.0f seconds (three attempts and their "
		       "backoff), got %g", CONFIG_MIN_S3_TIMEOUT_S, cfg.s3_timeout_s);
		goto usage;
	}
	if (staging_open(&s, dir, 1)) {
		free(sel);
		return 1;
	}
	if (staging_pick(&s, sel, nsel, !nsel, 1)) {
		staging_release(&s);
		free(sel);
		return 1;
	}
	free(sel);
	if (!s.n) {
		printf("nothing kept in '%s'\n", s.dir[0] ? s.dir : dir);
		staging_release(&s);
		return 0;
	}
	err = s3_env_load_profile(&env, cfg.s3_aws_profile[0] ? cfg.s3_aws_profile : NULL);
	if (err == -ENOKEY) {
		if (env.profile_found)
			pr_err("AWS profile '%s' has no aws_access_key_id and "
			       "aws_secret_access_key", env.profile);
		else
			pr_err("no S3 credentials (set AWS_ACCESS_KEY_ID and "
			       "AWS_SECRET_ACCESS_KEY, or name a profile of ~/.aws/credentials "
			       "with AWS_PROFILE or -o aws_profile=)");
	}
	if (err) {
		s3_env_clear(&env);
		staging_release(&s);
		return 1;
	}
	for (j = 0; j < s.n; j++)
		if (s.picked[j] && retry_one(&rc, &cfg, &env, &s, j, force))
			failed++;
	s3_env_clear(&env);
	s3_client_free(rc.c);
	staging_release(&s);
	if (fflush(stdout))
		failed++;
	return failed ? 1 : 0;
usage:
	free(sel);
	return 2;
}

static int cmd_discard(int argc, char **argv)
{
	char **sel = calloc((size_t)argc + 1, sizeof(*sel));
	const char *dir = NULL;
	int nsel = 0, all = 0, failed = 0, i, err;
	struct staging s;
	size_t j;

	if (!sel)
		return 1;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--all")) {
			all = 1;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			pr_err("unknown option '%s' (%s)", argv[i], USAGE_DISCARD);
			free(sel);
			return 2;
		} else if (!dir) {
			dir = argv[i];
		} else {
			sel[nsel++] = argv[i];
		}
	}
	if (!dir || (!all && !nsel) || (all && nsel)) {
		pr_err("%s", USAGE_DISCARD);
		free(sel);
		return 2;
	}
	if (staging_open(&s, dir, 1)) {
		free(sel);
		return 1;
	}
	err = staging_pick(&s, sel, nsel, all, 0);
	free(sel);
	if (err) {
		staging_release(&s);
		return 1;
	}
	for (j = 0, i = 0; j < s.n; j++)
		i += s.picked[j];
	if (!i)
		printf("nothing kept in '%s'%s\n", s.dir[0] ? s.dir : dir,
		       s.n ? " but journals of unfinished multipart uploads (bpfuse staging "
			     "retry aborts them)" : "");
	for (j = 0; j < s.n; j++) {
		const struct s3_kept *k = &s.kept[j];

		if (!s.picked[j])
			continue;
		err = s3_kept_remove(s.dfd, k);
		if (err) {
			pr_err("cannot remove '%s/%s': %s", s.dir, k->name, strerror(-err));
			failed++;
			continue;
		}
		printf("discarded '%s' (%lld bytes, '%s')\n", s.bad[j] ? "?" : k->url,
		       (long long)k->size, k->name);
	}
	staging_release(&s);
	if (fflush(stdout))
		failed++;
	return failed ? 1 : 0;
}

int staging_main(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "list"))
		return cmd_list(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "retry"))
		return cmd_retry(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "discard"))
		return cmd_discard(argc - 1, argv + 1);
	pr_err("usage: bpfuse staging list|retry|discard CACHE_DIR ... (see bpfuse --help)");
	return 2;
}

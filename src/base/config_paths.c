// SPDX-License-Identifier: GPL-2.0
/*
 * config_paths.c - the source and the mountpoint: s3:// specs and their prefix, resolved
 * directories, and the checks before mount(2) that refuse a mount inside its source or
 * a cache dir on or under the mount.
 */
#include "config_priv.h"

/*
 * A prefix names a directory of the mount, so its keys must be paths: no empty, "." or
 * ".." segment (S3 would take "a/../b" literally, and the mount could never name it), no
 * control character (a newline in a key breaks listings, logs and /proc/mounts).
 * -EINVAL or -EILSEQ.
 */
static int check_prefix(const char *p, size_t len)
{
	size_t i, seg = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return -EILSEQ;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '/')
			continue;
		if (i == seg || (i - seg == 1 && p[seg] == '.') ||
		    (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.'))
			return len ? -EINVAL : 0;
		seg = i + 1;
	}
	return 0;
}

/* s3://BUCKET[/PREFIX]: @spec is what follows "s3://". */
static int config_set_s3_source(struct config *cfg, const char *spec)
{
	const char *slash = strchr(spec, '/');
	size_t blen = slash ? (size_t)(slash - spec) : strlen(spec);
	const char *prefix = slash ? slash + 1 : "";
	size_t plen;
	int err;

	if (blen < 3 || blen > 63 || blen >= sizeof(cfg->s3_bucket) ||
	    strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789.-_") < blen) {
		pr_err("bad S3 source 's3://%s': the bucket name must be 3-63 characters of "
		       "a-z 0-9 . - _", spec);
		return -EINVAL;
	}
	plen = strlen(prefix);
	while (plen && prefix[plen - 1] == '/')
		plen--;
	if (plen + 2 > sizeof(cfg->s3_prefix) || strchr(spec, ',')) {
		pr_err("bad S3 source 's3://%s': prefix too long or has ','", spec);
		return -EINVAL;
	}
	err = check_prefix(prefix, plen);
	if (err) {
		if (err == -EILSEQ)
			pr_err("bad S3 source 's3://%.*s/...': the prefix has a control character",
			       (int)blen, spec);
		else
			pr_err("bad S3 source 's3://%s': the prefix has an empty, '.' or '..' "
			       "segment (keys are paths: a/b/c)", spec);
		return -EINVAL;
	}
	memcpy(cfg->s3_bucket, spec, blen);
	cfg->s3_bucket[blen] = '\0';
	memcpy(cfg->s3_prefix, prefix, plen);
	if (plen)
		cfg->s3_prefix[plen++] = '/';
	cfg->s3_prefix[plen] = '\0';
	snprintf(cfg->source, sizeof(cfg->source), "s3://%s/%s", cfg->s3_bucket, cfg->s3_prefix);
	snprintf(cfg->source_spec, sizeof(cfg->source_spec), "s3://%s/%s", cfg->s3_bucket,
		 cfg->s3_prefix);
	cfg->backend = BACKEND_S3;
	return 0;
}

/*
 * Check that @path (the @what of the mount) is a directory and store its
 * canonical absolute form in @out.  Returns 0 or -errno after one message.
 */
static int resolve_dir(const char *what, const char *path, char *out, size_t size)
{
	struct stat st;
	char *real;
	int err;

	if (stat(path, &st)) {
		err = -errno;
		pr_err("cannot use %s '%s': %s", what, path, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("%s '%s' is not a directory", what, path);
		return -ENOTDIR;
	}
	real = realpath(path, NULL);
	if (!real || strlen(real) >= size) {
		pr_err("cannot resolve %s '%s'", what, path);
		free(real);
		return -EINVAL;
	}
	strcpy(out, real);
	free(real);
	return 0;
}

int config_set_source(struct config *cfg, const char *source)
{
	const char *path = source;
	int err;

	if (!strncmp(source, "s3://", 5))
		return config_set_s3_source(cfg, source + 5);
	if (!strncmp(source, "local:", 6))
		path = source + 6;
	else if (strstr(source, "://")) {
		pr_err("unsupported source '%s': use local:/path, a directory or s3://BUCKET[/PREFIX]",
		       source);
		return -EINVAL;
	}
	if (!*path) {
		pr_err("source '%s' names no directory", source);
		return -EINVAL;
	}
	err = resolve_dir("source", path, cfg->source, sizeof(cfg->source));
	if (err)
		return err;
	snprintf(cfg->source_spec, sizeof(cfg->source_spec), "local:%s", cfg->source);
	cfg->backend = BACKEND_LOCAL;
	return 0;
}

int config_set_mountpoint(struct config *cfg, const char *mountpoint)
{
	int err;

	err = resolve_dir("mountpoint", mountpoint, cfg->mountpoint, sizeof(cfg->mountpoint));
	if (err)
		return err;
	if (mountinfo_is_bpfuse(cfg->mountpoint) > 0) {
		pr_err("mountpoint '%s' is already a bpfuse mount", cfg->mountpoint);
		return -EBUSY;
	}
	return 0;
}

/*
 * Canonical form of @path, which need not exist yet: the deepest existing ancestor through
 * realpath() (symlinks resolved), then the missing components, which may not be "." or "..".
 */
static int canon_path(const char *path, char *out, size_t size)
{
	char buf[PATH_MAX], *real, *slash;
	size_t n;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	real = realpath(buf, NULL);
	if (real) {
		n = strlen(real);
		if (n >= size) {
			free(real);
			return -ENAMETOOLONG;
		}
		memcpy(out, real, n + 1);
		free(real);
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash || !strcmp(slash + 1, ".") || !strcmp(slash + 1, ".."))
		return -EINVAL;
	*slash = '\0';
	if (canon_path(slash == buf ? "/" : buf, out, size))
		return -EINVAL;
	n = strlen(out);
	if (n + strlen(slash + 1) + 2 > size)
		return -ENAMETOOLONG;
	snprintf(out + n, size - n, "%s%s", n > 1 ? "/" : "", slash + 1);
	return 0;
}

/* 1 when canonical @path is @dir or below it (both absolute, no trailing '/'). */
static int path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1)
		return 1; /* "/" */
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * 1 when @dir (an existing directory) is @path or one of its ancestors by identity
 * (st_dev, st_ino): catches the aliases realpath() cannot, bind mounts of the same tree.
 */
static int dir_is_ancestor(const char *dir, const char *path)
{
	char buf[PATH_MAX], *slash;
	struct stat d, st;

	if (stat(dir, &d) || strlen(path) >= sizeof(buf))
		return 0;
	strcpy(buf, path);
	for (;;) {
		if (!stat(buf, &st) && st.st_dev == d.st_dev && st.st_ino == d.st_ino)
			return 1;
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			break;
		*slash = '\0';
	}
	return !stat("/", &st) && st.st_dev == d.st_dev && st.st_ino == d.st_ino;
}

int config_check(struct config *cfg)
{
	char cache[PATH_MAX];
	int err;

	if (cfg->backend == BACKEND_LOCAL) {
		/*
		 * The daemon holds descriptors on every mount it meets inside the source;
		 * its own mount among them, the FUSE mount could never be unmounted.
		 */
		if (strcmp(cfg->mountpoint, cfg->source) &&
		    (path_within(cfg->mountpoint, cfg->source) ||
		     dir_is_ancestor(cfg->source, cfg->mountpoint))) {
			pr_err("mountpoint '%s' is inside the source '%s': choose a mountpoint "
			       "outside it", cfg->mountpoint, cfg->source);
			return -EINVAL;
		}
		return 0;
	}
	if (cfg->cache_size_bytes < CONFIG_MIN_CACHE_SIZE) {
		pr_err("option 'cache_size' is %llu bytes: the cache needs at least %lluM "
		       "(two 8 MiB parts)", cfg->cache_size_bytes, CONFIG_MIN_CACHE_SIZE >> 20);
		return -EINVAL;
	}
	if (cfg->s3_timeout_s < CONFIG_MIN_S3_TIMEOUT_S) {
		pr_err("option 's3_timeout' needs at least %.0f seconds (three attempts and "
		       "their backoff), got %g", CONFIG_MIN_S3_TIMEOUT_S, cfg->s3_timeout_s);
		return -EINVAL;
	}
	err = canon_path(cfg->cache_dir, cache, sizeof(cache));
	if (err) {
		pr_err("cannot resolve cache dir '%s': %s", cfg->cache_dir, strerror(-err));
		return err;
	}
	/*
	 * The daemon writes its cache with ordinary system calls: a cache inside the mount
	 * would send them back to the daemon itself, which waits on them forever (the
	 * request thread in D state); a mount inside the cache hides or recurses into it.
	 */
	if (path_within(cache, cfg->mountpoint) || dir_is_ancestor(cfg->mountpoint, cache)) {
		pr_err("cache dir '%s' is on or under the mountpoint '%s': use -o cache_dir= "
		       "outside the mount", cache, cfg->mountpoint);
		return -EINVAL;
	}
	if (path_within(cfg->mountpoint, cache) || dir_is_ancestor(cache, cfg->mountpoint)) {
		pr_err("mountpoint '%s' is inside the cache dir '%s': use -o cache_dir= "
		       "outside the mount", cfg->mountpoint, cache);
		return -EINVAL;
	}
	/* the backend uses the path that was checked */
	memcpy(cfg->cache_dir, cache, strlen(cache) + 1);
	return 0;
}

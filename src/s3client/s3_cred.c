// SPDX-License-Identifier: GPL-2.0
/*
 * s3_cred.c - AWS credentials, region and endpoint from the environment and ~/.aws files.
 *
 * The shared files are INI: "[section]" lines, "key = value" lines, '#' and ';' comments.
 * Nested sub-sections (an indented "s3 =" block) are skipped line by line since their
 * indented lines carry keys we do not use.
 */
#include "s3_cred.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"

/* What one profile of one file holds; fields stay "" when absent. */
struct profile_vals {
	char access_key[S3_CRED_KEY_MAX];
	char secret_key[S3_CRED_KEY_MAX];
	char session_token[S3_CRED_TOKEN_MAX];
	char region[64];
	char endpoint[512];
	int found;               /* the section is there */
};

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int set_val(char *dst, size_t size, const char *val, const char *path, int line)
{
	if (strlen(val) >= size) {
		pr_err("value too long in '%s' line %d", path, line);
		return -EINVAL;
	}
	strcpy(dst, val);
	return 0;
}

/*
 * Read section @section of INI file @path into @pv.  Returns 0 (also when the file or the
 * section does not exist) or -EINVAL.
 */
static int read_profile(const char *path, const char *section, struct profile_vals *pv)
{
	char *buf = NULL, *l, *eq, *key, *val;
	size_t cap = 0;
	int in = 0, line = 0, err = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return 0;
	while (getline(&buf, &cap, f) > 0) {
		line++;
		if (buf[0] == ' ' || buf[0] == '\t') {
			/* continuation or nested sub-section value: ignore */
			continue;
		}
		l = trim(buf);
		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			char *end = strchr(l, ']');

			if (!end) {
				pr_err("cannot parse '%s' line %d: unterminated section", path,
				       line);
				err = -EINVAL;
				break;
			}
			*end = '\0';
			in = !strcmp(trim(l + 1), section);
			pv->found |= in;
			continue;
		}
		if (!in)
			continue;
		eq = strchr(l, '=');
		if (!eq) {
			pr_err("cannot parse '%s' line %d: expected key = value", path, line);
			err = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(l);
		val = trim(eq + 1);
		if (!strcmp(key, "aws_access_key_id"))
			err = set_val(pv->access_key, sizeof(pv->access_key), val, path, line);
		else if (!strcmp(key, "aws_secret_access_key"))
			err = set_val(pv->secret_key, sizeof(pv->secret_key), val, path, line);
		else if (!strcmp(key, "aws_session_token"))
			err = set_val(pv->session_token, sizeof(pv->session_token), val, path,
				      line);
		else if (!strcmp(key, "region"))
			err = set_val(pv->region, sizeof(pv->region), val, path, line);
		else if (!strcmp(key, "endpoint_url"))
			err = set_val(pv->endpoint, sizeof(pv->endpoint), val, path, line);
		if (err)
			break;
	}
	if (buf) {
		OPENSSL_cleanse(buf, cap);
		free(buf);
	}
	fclose(f);
	return err;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* @file_env or ~/.aws/@name into @out */
static int shared_path(const char *file_env, const char *name, char *out, size_t size)
{
	const char *v = env_nonempty(file_env), *home;
	int n;

	if (v) {
		n = snprintf(out, size, "%s", v);
	} else {
		home = env_nonempty("HOME");
		if (!home)
			return -ENOENT;
		n = snprintf(out, size, "%s/.aws/%s", home, name);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int copy_env(char *dst, size_t size, const char *name)
{
	const char *v = env_nonempty(name);

	if (!v)
		return 0;
	if (strlen(v) >= size) {
		pr_err("environment variable %s is too long", name);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 1;
}

int s3_env_load(struct s3_env *env)
{
	return s3_env_load_profile(env, NULL);
}

int s3_env_load_profile(struct s3_env *env, const char *profile)
{
	struct profile_vals *cr, *cf;
	char path[4096], section[160];
	int err, have_env;

	memset(env, 0, sizeof(*env));
	env->profile_from = "-o aws_profile";
	if (!profile || !*profile) {
		profile = env_nonempty("AWS_PROFILE");
		env->profile_from = "AWS_PROFILE";
	}
	if (!profile) {
		profile = "default";
		env->profile_from = "default";
	}
	if (strlen(profile) >= sizeof(env->profile)) {
		pr_err("%s is too long", env->profile_from);
		return -EINVAL;
	}
	strcpy(env->profile, profile);

	err = -ENOMEM;
	cr = calloc(1, sizeof(*cr));
	cf = calloc(1, sizeof(*cf));
	if (!cr || !cf)
		goto out;

	err = 0;
	if (!shared_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", path, sizeof(path))) {
		snprintf(env->cred_path, sizeof(env->cred_path), "%s", path);
		err = read_profile(path, profile, cr);
	}
	if (err)
		goto out;
	if (!shared_path("AWS_CONFIG_FILE", "config", path, sizeof(path))) {
		snprintf(env->config_path, sizeof(env->config_path), "%s", path);
		if (!strcmp(profile, "default"))
			snprintf(section, sizeof(section), "default");
		else
			snprintf(section, sizeof(section), "profile %s", profile);
		err = read_profile(path, section, cf);
	}
	if (err)
		goto out;
	env->profile_found = cr->found || cf->found;
	/* a profile asked for by name must exist, as with the AWS CLI */
	if (!env->profile_found && strcmp(env->profile_from, "default")) {
		pr_err("AWS profile '%s' (from %s) is in neither '%s' nor '%s'", profile,
		       env->profile_from, env->cred_path[0] ? env->cred_path : "~/.aws/credentials",
		       env->config_path[0] ? env->config_path : "~/.aws/config");
		err = -ENOENT;
		goto out;
	}

	/* keys: the environment only when it has both halves, as the AWS CLI does */
	have_env = env_nonempty("AWS_ACCESS_KEY_ID") && env_nonempty("AWS_SECRET_ACCESS_KEY");
	if (have_env) {
		if (copy_env(env->access_key, sizeof(env->access_key), "AWS_ACCESS_KEY_ID") < 0 ||
		    copy_env(env->secret_key, sizeof(env->secret_key),
			     "AWS_SECRET_ACCESS_KEY") < 0 ||
		    copy_env(env->session_token, sizeof(env->session_token),
			     "AWS_SESSION_TOKEN") < 0) {
			err = -EINVAL;
			goto out;
		}
		env->key_source = "environment";
	} else if (*cr->access_key && *cr->secret_key) {
		strcpy(env->access_key, cr->access_key);
		strcpy(env->secret_key, cr->secret_key);
		strcpy(env->session_token, cr->session_token);
		env->key_source = "credentials file";
	} else if (*cf->access_key && *cf->secret_key) {
		strcpy(env->access_key, cf->access_key);
		strcpy(env->secret_key, cf->secret_key);
		strcpy(env->session_token, cf->session_token);
		env->key_source = "config file";
	}

	err = copy_env(env->region, sizeof(env->region), "AWS_REGION");
	if (!err)
		err = copy_env(env->region, sizeof(env->region), "AWS_DEFAULT_REGION");
	if (err < 0)
		goto out;
	if (!err)
		strcpy(env->region, *cf->region ? cf->region :
					*cr->region ? cr->region : "us-east-1");

	err = copy_env(env->endpoint, sizeof(env->endpoint), "AWS_ENDPOINT_URL_S3");
	if (!err)
		err = copy_env(env->endpoint, sizeof(env->endpoint), "AWS_ENDPOINT_URL");
	if (err < 0)
		goto out;
	if (!err)
		strcpy(env->endpoint, *cf->endpoint ? cf->endpoint : cr->endpoint);

	err = env->key_source ? 0 : -ENOKEY;
out:
	if (cr) {
		OPENSSL_cleanse(cr, sizeof(*cr));
		free(cr);
	}
	if (cf) {
		OPENSSL_cleanse(cf, sizeof(*cf));
		free(cf);
	}
	if (err && err != -ENOKEY)
		s3_env_clear(env);
	return err;
}

void s3_env_clear(struct s3_env *env)
{
	OPENSSL_cleanse(env->access_key, sizeof(env->access_key));
	OPENSSL_cleanse(env->secret_key, sizeof(env->secret_key));
	OPENSSL_cleanse(env->session_token, sizeof(env->session_token));
}

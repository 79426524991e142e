// SPDX-License-Identifier: GPL-2.0
/* Unit tests for s3_cred.c: environment first, then the shared files, with temp files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "s3_cred.h"

static char tmpdir[] = "/tmp/test_s3_cred.XXXXXX";
static char cred_path[256], conf_path[256];

static const char *vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	/* HOME points at an empty dir so a developer's real ~/.aws never leaks in */
	setenv("HOME", tmpdir, 1);
	unlink(cred_path);
	unlink(conf_path);
	return 0;
}

static void test_nothing(void **state)
{
	struct s3_env env;

	assert_int_equal(s3_env_load(&env), -ENOKEY);
	assert_string_equal(env.region, "us-east-1");
	assert_string_equal(env.endpoint, "");
	assert_string_equal(env.profile, "default");
}

static void test_environment(void **state)
{
	struct s3_env env;

	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
	setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7480", 1);
	/* a file too, which the environment overrides */
	write_file(cred_path, "[default]\naws_access_key_id = FILEKEY\n"
			      "aws_secret_access_key = FILESECRET\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
	assert_int_equal(s3_env_load(&env), 0);
	assert_string_equal(env.access_key, "AKID");
	assert_string_equal(env.secret_key, "SECRET");
	assert_string_equal(env.session_token, "TOKEN");
	assert_string_equal(env.region, "eu-west-3");
	assert_string_equal(env.endpoint, "http://127.0.0.1:7480");
	assert_string_equal(env.key_source, "environment");
	setenv("AWS_REGION", "ap-south-1", 1);
	assert_int_equal(s3_env_load(&env), 0);
	assert_string_equal(env.region, "ap-south-1");
	s3_env_clear(&env);
	assert_string_equal(env.secret_key, "");
}

/* only one half of the key pair in the environment: the files are used */
static void test_half_env_uses_files(void **state)
{
	struct s3_env env;

	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	write_file(cred_path, "[default]\naws_access_key_id = FILEKEY\n"
			      "aws_secret_access_key = FILESECRET\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
	assert_int_equal(s3_env_load(&env), 0);
	assert_string_equal(env.access_key, "FILEKEY");
	assert_string_equal(env.key_source, "credentials file");
}

static void test_profiles(void **state)
{
	struct s3_env env;

	write_file(cred_path,
		   "# comment\n[default]\naws_access_key_id=DEFKEY\n"
		   "aws_secret_access_key=DEFSECRET\n"
		   "\n[work]\n aws_access_key_id = WORKKEY \n"
		   "aws_access_key_id = WORKKEY\naws_secret_access_key = WORK/SECRET+x\n"
		   "aws_session_token = WORKTOKEN\n; another comment\n");
	write_file(conf_path,
		   "[default]\nregion = us-west-2\n"
		   "[profile work]\nregion = eu-central-1\nendpoint_url = http://s3.local:9000\n"
		   "s3 =\n  addressing_style = path\n"
		   "[profile onlyconf]\naws_access_key_id = CONFKEY\n"
		   "aws_secret_access_key = CONFSECRET\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
	setenv("AWS_CONFIG_FILE", conf_path, 1);

	assert_int_equal(s3_env_load(&env), 0);
	assert_string_equal(env.access_key, "DEFKEY");
	assert_string_equal(env.secret_key, "DEFSECRET");
	assert_string_equal(env.session_token, "");
	assert_string_equal(env.region, "us-west-2");

	setenv("AWS_PROFILE", "work", 1);
	assert_int_equal(s3_env_load(&env), 0);
	assert_string_equal(env.access_key, "WORKKEY");
	assert_string_equal(env.secret_key, "WORK/SECRET+x");
	assert_string_equal(env.session_token, "WORKTOKEN");
	assert_string_equal(env.region, "eu-central-1");
	assert_string_equal(env.endpoint, "http://s3.local:9000");
	assert_string_equal(env.profile, "work");

	setenv("AWS_PROFILE", "onlyconf", 1);
	assert_int_equal(s3_env_load(&env), 0);
	assert_string_equal(env.access_key, "CONFKEY");
	assert_string_equal(env.key_source, "config file");

	/* a profile asked for by name that is in neither file: -ENOENT, named */
	setenv("AWS_PROFILE", "missing", 1);
	assert_int_equal(s3_env_load(&env), -ENOENT);
	assert_string_equal(env.profile, "missing");
	assert_string_equal(env.profile_from, "AWS_PROFILE");

	/* -o aws_profile= wins over AWS_PROFILE */
	assert_int_equal(s3_env_load_profile(&env, "work"), 0);
	assert_string_equal(env.access_key, "WORKKEY");
	assert_string_equal(env.profile_from, "-o aws_profile");
	assert_int_equal(s3_env_load_profile(&env, "nosuch"), -ENOENT);
	assert_string_equal(env.profile_from, "-o aws_profile");
	unsetenv("AWS_PROFILE");
	assert_int_equal(s3_env_load_profile(&env, NULL), 0);
	assert_string_equal(env.access_key, "DEFKEY");
	assert_string_equal(env.profile_from, "default");
}

/* the default locations under $HOME/.aws */
static void test_home_files(void **state)
{
	char dir[300], path[320];
	struct s3_env env;

	snprintf(dir, sizeof(dir), "%s/.aws", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/credentials", dir);
	write_file(path, "[default]\naws_access_key_id = HOMEKEY\naws_secret_access_key = S\n");
	assert_int_equal(s3_env_load(&env), 0);
	assert_string_equal(env.access_key, "HOMEKEY");
	unlink(path);
	rmdir(dir);
}

static void test_bad_file(void **state)
{
	struct s3_env env;

	write_file(cred_path, "[default\naws_access_key_id = X\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
	assert_int_equal(s3_env_load(&env), -EINVAL);
	write_file(cred_path, "[default]\njust some words\n");
	assert_int_equal(s3_env_load(&env), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_nothing, setup),
		cmocka_unit_test_setup(test_environment, setup),
		cmocka_unit_test_setup(test_half_env_uses_files, setup),
		cmocka_unit_test_setup(test_profiles, setup),
		cmocka_unit_test_setup(test_home_files, setup),
		cmocka_unit_test_setup(test_bad_file, setup),
	};
	int ret;

	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(cred_path, sizeof(cred_path), "%s/credentials.ini", tmpdir);
	snprintf(conf_path, sizeof(conf_path), "%s/config.ini", tmpdir);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(cred_path);
	unlink(conf_path);
	rmdir(tmpdir);
	return ret;
}

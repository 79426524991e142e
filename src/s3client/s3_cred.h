/* SPDX-License-Identifier: GPL-2.0 */
/*
 * s3_cred.h - credentials, region and endpoint from the standard AWS environment and files.
 *
 * Resolution order (the AWS CLI's, minus SSO/process/IMDS providers):
 *   keys:     AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) when both set;
 *             else the profile (s3_env_load_profile()'s, else $AWS_PROFILE, else "default")
 *             in the shared credentials file
 *             ($AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials), then the same
 *             profile in the config file ($AWS_CONFIG_FILE, default ~/.aws/config, where
 *             it is "[profile NAME]" except for "[default]");
 *   region:   AWS_REGION, AWS_DEFAULT_REGION, "region" of the profile, else "us-east-1";
 *   endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, "endpoint_url" of the profile, else "".
 * Secrets are never logged; s3_env_clear() wipes them.
 */
#ifndef BPFUSE_S3_CRED_H
#define BPFUSE_S3_CRED_H

#define S3_CRED_KEY_MAX 256
#define S3_CRED_TOKEN_MAX 4096

struct s3_env {
	char access_key[S3_CRED_KEY_MAX];
	char secret_key[S3_CRED_KEY_MAX];
	char session_token[S3_CRED_TOKEN_MAX]; /* "" without a session */
	char region[64];
	char endpoint[512];                    /* "" = let the caller choose (AWS) */
	char profile[128];                     /* the profile that was consulted */
	const char *profile_from;              /* "-o aws_profile", "AWS_PROFILE" or "default" */
	int profile_found;                     /* its section is in one of the files */
	char cred_path[4096], config_path[4096]; /* the shared files read ("" = none) */
	const char *key_source;                /* "environment", "credentials file", ... */
};

/*
 * Fill @env from the environment and the shared files.  Returns 0 when keys were found,
 * -ENOKEY when none were (region and endpoint are filled regardless), -EINVAL on a file that
 * cannot be parsed or a value too long (after one message naming the file and line, never
 * the value).  A missing file is not an error.
 */
int s3_env_load(struct s3_env *env);

/*
 * The same with profile @profile (-o aws_profile=) instead of $AWS_PROFILE when not NULL.
 * A profile named by either whose section is in neither file is -ENOENT, after one
 * message naming the profile, where it came from and the files.
 */
int s3_env_load_profile(struct s3_env *env, const char *profile);

/* Wipe the secrets in @env. */
void s3_env_clear(struct s3_env *env);

#endif

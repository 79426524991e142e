// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for s3_sign.c against the signature examples AWS publishes in the S3 API
 * reference ("Signature Calculations for the Authorization Header: Transferring Payload in
 * a Single Chunk"), with their documented access key, secret and expected signatures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3_sign.h"

static const struct s3_sign_cred aws_example_cred = {
	.access_key = "AKIAIOSFODNN7EXAMPLE",
	.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

#define EXAMPLE_HOST "examplebucket.s3.amazonaws.com"
#define EXAMPLE_DATE "20130524T000000Z"

/* GET Object: GET /test.txt with Range: bytes=0-9 */
static void test_get_object(void **state)
{
	const struct s3_kv hdr[] = { { "Range", "bytes=0-9" } };
	const struct s3_sign_req req = {
		.method = "GET", .host = EXAMPLE_HOST, .path = "/test.txt",
		.headers = hdr, .nheaders = 1, .payload_hash = S3_EMPTY_SHA256,
		.amz_date = EXAMPLE_DATE, .region = "us-east-1", .service = "s3",
	};
	const char *want_creq =
		"GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
		"x-amz-content-sha256:" S3_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
		"host;range;x-amz-content-sha256;x-amz-date\n" S3_EMPTY_SHA256;
	char auth[512], sig[S3_SHA256_HEX_LEN + 1], *creq, *sts;

	creq = s3_sign_canonical_request(&req, NULL, NULL);
	assert_non_null(creq);
	assert_string_equal(creq, want_creq);
	sts = s3_sign_string_to_sign(&req, creq);
	assert_string_equal(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/"
			    "aws4_request\n"
			    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
	free(creq);
	free(sts);

	assert_int_equal(s3_sign(&req, &aws_example_cred, auth, sizeof(auth), sig), 0);
	assert_string_equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	assert_string_equal(auth,
			    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"
			    "s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;"
			    "x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba"
			    "48dd91039c6036bdb41");
}

/* PUT Object: a '$' in the key, a payload hash, extra signed headers in mixed case */
static void test_put_object(void **state)
{
	const char *body = "Welcome to Amazon S3.";
	const struct s3_kv hdr[] = {
		{ "X-Amz-Storage-Class", "REDUCED_REDUNDANCY" },
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
	};
	char hash[S3_SHA256_HEX_LEN + 1], sig[S3_SHA256_HEX_LEN + 1], auth[512];
	struct s3_sign_req req = {
		.method = "PUT", .host = EXAMPLE_HOST, .path = "/test$file.text",
		.headers = hdr, .nheaders = 2, .payload_hash = hash,
		.amz_date = EXAMPLE_DATE, .region = "us-east-1", .service = "s3",
	};

	s3_sha256_hex(body, strlen(body), hash);
	assert_string_equal(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	assert_int_equal(s3_sign(&req, &aws_example_cred, auth, sizeof(auth), sig), 0);
	assert_string_equal(sig, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	assert_non_null(strstr(auth, "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
				     "x-amz-storage-class,"));
}

/* GET Bucket Lifecycle: a query parameter without a value ("?lifecycle") */
static void test_query_no_value(void **state)
{
	const struct s3_kv q[] = { { "lifecycle", "" } };
	const struct s3_sign_req req = {
		.method = "GET", .host = EXAMPLE_HOST, .path = "/", .query = q, .nquery = 1,
		.payload_hash = S3_EMPTY_SHA256, .amz_date = EXAMPLE_DATE,
		.region = "us-east-1", .service = "s3",
	};
	char auth[512], sig[S3_SHA256_HEX_LEN + 1];

	assert_int_equal(s3_sign(&req, &aws_example_cred, auth, sizeof(auth), sig), 0);
	assert_string_equal(sig, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

/* List Objects: two parameters given out of order must be sorted */
static void test_query_sorted(void **state)
{
	const struct s3_kv q[] = { { "prefix", "J" }, { "max-keys", "2" } };
	const struct s3_sign_req req = {
		.method = "GET", .host = EXAMPLE_HOST, .path = "/", .query = q, .nquery = 2,
		.payload_hash = S3_EMPTY_SHA256, .amz_date = EXAMPLE_DATE,
		.region = "us-east-1", .service = "s3",
	};
	char auth[512], sig[S3_SHA256_HEX_LEN + 1], *cq;

	cq = s3_sign_canonical_query(q, 2);
	assert_string_equal(cq, "max-keys=2&prefix=J");
	free(cq);
	assert_int_equal(s3_sign(&req, &aws_example_cred, auth, sizeof(auth), sig), 0);
	assert_string_equal(sig, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

static void test_uri_encode(void **state)
{
	const struct s3_kv q[] = {
		{ "prefix", "a b/c+d" }, { "delimiter", "/" }, { "list-type", "2" },
		{ "continuation-token", "1/2=3" }, { "uploads", "" },
	};
	char out[64], *cq;

	assert_int_equal(s3_uri_encode("/dir/a b~_.-*é", 1, out, sizeof(out)), 23);
	assert_string_equal(out, "/dir/a%20b~_.-%2A%C3%A9");
	assert_int_equal(s3_uri_encode("a/b", 0, out, sizeof(out)), 5);
	assert_string_equal(out, "a%2Fb");
	assert_int_equal(s3_uri_encode("0123456789", 0, out, 5), -ENAMETOOLONG);
	cq = s3_sign_canonical_query(q, 5);
	assert_string_equal(cq, "continuation-token=1%2F2%3D3&delimiter=%2F&list-type=2&"
				"prefix=a%20b%2Fc%2Bd&uploads=");
	free(cq);
}

/* A session token is signed as x-amz-security-token; header values are trimmed. */
static void test_session_token(void **state)
{
	const struct s3_kv hdr[] = { { "Content-Type", "  text/plain   with  spaces " } };
	const struct s3_sign_cred cred = {
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.session_token = "token/with+chars",
	};
	const struct s3_sign_req req = {
		.method = "HEAD", .host = "127.0.0.1:7480", .path = "/b/k", .headers = hdr,
		.nheaders = 1, .payload_hash = S3_UNSIGNED_PAYLOAD, .amz_date = EXAMPLE_DATE,
		.region = "us-east-1", .service = "s3",
	};
	char auth[512], *creq, *sh = NULL;

	creq = s3_sign_canonical_request(&req, cred.session_token, &sh);
	assert_non_null(strstr(creq, "\ncontent-type:text/plain with spaces\n"));
	assert_non_null(strstr(creq, "\nx-amz-security-token:token/with+chars\n"));
	assert_non_null(strstr(creq, "\nhost:127.0.0.1:7480\n"));
	assert_string_equal(sh, "content-type;host;x-amz-content-sha256;x-amz-date;"
				"x-amz-security-token");
	free(creq);
	free(sh);
	assert_int_equal(s3_sign(&req, &cred, auth, sizeof(auth), NULL), 0);
	/* the secret never appears in anything the signer returns */
	assert_null(strstr(auth, cred.secret_key));
	assert_int_equal(s3_sign(&req, &cred, auth, 20, NULL), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_object),
		cmocka_unit_test(test_put_object),
		cmocka_unit_test(test_query_no_value),
		cmocka_unit_test(test_query_sorted),
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_session_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

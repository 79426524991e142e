// SPDX-License-Identifier: GPL-2.0
/* Unit tests for s3_xml.c with response bodies shaped like AWS's and Ceph RGW's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3_xml.h"

#define LEN(s) strlen(s)

static const char list_page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>bucket</Name><Prefix>dir/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
	"<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
	"</NextContinuationToken>"
	"<Contents><Key>dir/a.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
	"<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
	"<StorageClass>STANDARD</StorageClass></Contents>"
	"<Contents><Key>dir/b &amp; c.bin</Key><LastModified>2024-02-29T00:00:01Z</LastModified>"
	"<ETag>\"9b2cf535f27731c974343645a3985328-3\"</ETag><Size>21474836480</Size></Contents>"
	"<CommonPrefixes><Prefix>dir/sub/</Prefix></CommonPrefixes>"
	"</ListBucketResult>";

static const char list_last_urlenc[] =
	"<ListBucketResult><Name>b</Name><EncodingType>url</EncodingType>"
	"<IsTruncated>false</IsTruncated>"
	"<Contents><Key>dir/with%20space%2Bplus%0Anl</Key><Size>0</Size>"
	"<ETag>\"d41d8cd98f00b204e9800998ecf8427e\"</ETag></Contents>"
	"<CommonPrefixes><Prefix>dir/caf%C3%A9/</Prefix></CommonPrefixes>"
	"<CommonPrefixes><Prefix>dir/z/</Prefix></CommonPrefixes>"
	"</ListBucketResult>";

static void test_list_page(void **state)
{
	struct s3_list_page p;

	assert_int_equal(s3_xml_parse_list(list_page1, LEN(list_page1), &p), 0);
	assert_int_equal(p.nobjects, 2);
	assert_string_equal(p.objects[0].key, "dir/a.txt");
	assert_int_equal(p.objects[0].size, 434234);
	assert_int_equal(p.objects[0].mtime, 1255369830);
	assert_string_equal(p.objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
	assert_string_equal(p.objects[1].key, "dir/b & c.bin");
	assert_true(p.objects[1].size == 21474836480LL);
	assert_int_equal(p.objects[1].mtime, 1709164801);
	assert_int_equal(p.nprefixes, 1);
	assert_string_equal(p.prefixes[0], "dir/sub/");
	assert_int_equal(p.truncated, 1);
	assert_string_equal(p.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	s3_list_page_free(&p);
	assert_null(p.objects);
}

static void test_list_last_urlenc(void **state)
{
	struct s3_list_page p;

	assert_int_equal(s3_xml_parse_list(list_last_urlenc, LEN(list_last_urlenc), &p), 0);
	assert_int_equal(p.truncated, 0);
	assert_null(p.next_token);
	assert_int_equal(p.nobjects, 1);
	assert_string_equal(p.objects[0].key, "dir/with space+plus\nnl");
	assert_int_equal(p.objects[0].mtime, 0);
	assert_int_equal(p.nprefixes, 2);
	assert_string_equal(p.prefixes[0], "dir/caf\xc3\xa9/");
	s3_list_page_free(&p);
}

static void test_list_empty_and_bad(void **state)
{
	static const char empty[] = "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>"
				    "<IsTruncated>false</IsTruncated></ListBucketResult>";
	static const char trunc_no_token[] = "<ListBucketResult><IsTruncated>true</IsTruncated>"
					     "</ListBucketResult>";
	static const char err[] = "<Error><Code>NoSuchBucket</Code></Error>";
	struct s3_list_page p;

	assert_int_equal(s3_xml_parse_list(empty, LEN(empty), &p), 0);
	assert_int_equal(p.nobjects, 0);
	assert_int_equal(p.nprefixes, 0);
	s3_list_page_free(&p);
	assert_int_equal(s3_xml_parse_list(trunc_no_token, LEN(trunc_no_token), &p), -EBADMSG);
	s3_list_page_free(&p);
	assert_int_equal(s3_xml_parse_list(err, LEN(err), &p), -EBADMSG);
	s3_list_page_free(&p);
	assert_int_equal(s3_xml_parse_list("<ListBucketResult><Con", 22, &p), -EBADMSG);
	s3_list_page_free(&p);
	assert_int_equal(s3_xml_parse_list("", 0, &p), -EBADMSG);
	s3_list_page_free(&p);
}

/* <Size> is a server's word: negative, malformed, overflowing or missing is -EPROTO */
static void test_list_bad_sizes(void **state)
{
	static const char *const bad[] = {
		"<Size>-1</Size>", "<Size>-9223372036854775808</Size>", "<Size></Size>",
		"<Size>12abc</Size>", "<Size>0x10</Size>", "<Size>+5</Size>", "<Size>1 2</Size>",
		"<Size>18446744073709551615</Size>", "<Size>99999999999999999999999</Size>",
		"<Size>70368744177665</Size>", /* S3_SIZE_MAX + 1 */
		"",                            /* no <Size> at all */
	};
	char xml[512];
	struct s3_list_page p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(xml, sizeof(xml), "<ListBucketResult><IsTruncated>false</IsTruncated>"
			 "<Contents><Key>k</Key>%s<ETag>\"e\"</ETag></Contents>"
			 "</ListBucketResult>", bad[i]);
		print_message("%s\n", bad[i]);
		assert_int_equal(s3_xml_parse_list(xml, strlen(xml), &p), -EPROTO);
		s3_list_page_free(&p);
	}
	snprintf(xml, sizeof(xml), "<ListBucketResult><IsTruncated>false</IsTruncated>"
		 "<Contents><Key>k</Key><Size> 70368744177664 </Size></Contents>"
		 "</ListBucketResult>");
	assert_int_equal(s3_xml_parse_list(xml, strlen(xml), &p), 0);
	assert_true(p.objects[0].size == S3_SIZE_MAX);
	s3_list_page_free(&p);
}

static void test_parse_size_and_range(void **state)
{
	off_t v, f, l, t;

	assert_int_equal(s3_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(s3_parse_size(" 8388608\r", &v), 0);
	assert_int_equal(v, 8388608);
	assert_int_equal(s3_parse_size("", &v), -EPROTO);
	assert_int_equal(s3_parse_size("-1", &v), -EPROTO);
	assert_int_equal(s3_parse_size("1e9", &v), -EPROTO);
	assert_int_equal(s3_parse_size("9223372036854775808", &v), -EPROTO);
	assert_int_equal(s3_parse_size(NULL, &v), -EPROTO);

	assert_int_equal(s3_parse_content_range("bytes 0-8388607/268435456", &f, &l, &t), 0);
	assert_true(f == 0 && l == 8388607 && t == 268435456);
	assert_int_equal(s3_parse_content_range("bytes 5-9/*", &f, &l, &t), 0);
	assert_true(f == 5 && l == 9 && t == -1);
	assert_int_equal(s3_parse_content_range("bytes */100", &f, &l, &t), 0);
	assert_true(f == -1 && l == -1 && t == 100);
	static const char *const bad[] = {
		"bytes 9-5/100",        /* last before first */
		"bytes 0-100/100",      /* last past the end */
		"bytes -5-9/100", "bytes 0--9/100", "bytes 0-9/-100", "bytes 0-9/1x",
		"bytes 0-9", "bytes 0-/100", "bytes -9/100", "0-9/100", "items 0-9/100",
		"bytes 0-9/99999999999999999999", "bytes 18446744073709551615-1/2", "bytes */",
		"bytes */-1", "",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(s3_parse_content_range(bad[i], &f, &l, &t), -EPROTO);
	}
}

static void test_error_body(void **state)
{
	static const char nokey[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
		"<Message>The specified key does not exist.</Message><Key>a/b</Key>"
		"<RequestId>tx0000</RequestId><HostId>x</HostId></Error>";
	static const char slow[] = "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>";
	static const char ok[] = "<CopyObjectResult><ETag>\"abc\"</ETag></CopyObjectResult>";
	char code[S3_ERR_CODE_MAX], etag[S3_ETAG_MAX];
	enum s3_err_class cls;

	assert_int_equal(s3_xml_parse_error(nokey, LEN(nokey), code), 1);
	assert_string_equal(code, "NoSuchKey");
	assert_int_equal(s3_xml_errno(code, 404, &cls), -ENOENT);
	assert_int_equal(cls, S3_ERR_FATAL);

	assert_int_equal(s3_xml_parse_error(slow, LEN(slow), code), 1);
	assert_int_equal(s3_xml_errno(code, 503, &cls), -EIO);
	assert_int_equal(cls, S3_ERR_RETRY);

	assert_int_equal(s3_xml_parse_error(ok, LEN(ok), code), 0);
	assert_int_equal(s3_xml_parse_etag(ok, LEN(ok), etag), 0);
	assert_string_equal(etag, "\"abc\"");
	assert_int_equal(s3_xml_parse_error("not xml", 7, code), -EBADMSG);
}

static void test_errno_table(void **state)
{
	enum s3_err_class cls;

	assert_int_equal(s3_xml_errno("NoSuchBucket", 404, &cls), -ENOENT);
	assert_int_equal(s3_xml_errno("AccessDenied", 403, &cls), -EACCES);
	assert_int_equal(s3_xml_errno("SignatureDoesNotMatch", 403, &cls), -EACCES);
	assert_int_equal(s3_xml_errno("InvalidAccessKeyId", 403, &cls), -EACCES);
	assert_int_equal(s3_xml_errno("InvalidRange", 416, &cls), -EINVAL);
	assert_int_equal(s3_xml_errno("PreconditionFailed", 412, &cls), -ESTALE);
	assert_int_equal(s3_xml_errno("BucketNotEmpty", 409, &cls), -ENOTEMPTY);
	assert_int_equal(s3_xml_errno("InternalError", 500, &cls), -EIO);
	assert_int_equal(cls, S3_ERR_RETRY);
	/* no body (HEAD): the status decides */
	assert_int_equal(s3_xml_errno(NULL, 404, &cls), -ENOENT);
	assert_int_equal(s3_xml_errno("", 403, &cls), -EACCES);
	assert_int_equal(s3_xml_errno(NULL, 503, &cls), -EIO);
	assert_int_equal(cls, S3_ERR_RETRY);
	assert_int_equal(s3_xml_errno("SomethingNew", 418, &cls), -EIO);
	assert_int_equal(cls, S3_ERR_FATAL);
}

static void test_multipart_docs(void **state)
{
	static const char init[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult "
		"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>k</Key>"
		"<UploadId>2~iCw_lDY8VoNMgGWzpcOtaTvHf8H3Ow7</UploadId>"
		"</InitiateMultipartUploadResult>";
	static const char done[] =
		"<CompleteMultipartUploadResult><Location>x</Location><Bucket>b</Bucket>"
		"<Key>k</Key><ETag>\"3858f62230ac3c915f300c664312c11f-2\"</ETag>"
		"</CompleteMultipartUploadResult>";
	char id[128], etag[S3_ETAG_MAX], etags[2][S3_ETAG_MAX] = { "\"a1\"", "\"b<2>&\"" };
	char *body;

	assert_int_equal(s3_xml_parse_upload_id(init, LEN(init), id, sizeof(id)), 0);
	assert_string_equal(id, "2~iCw_lDY8VoNMgGWzpcOtaTvHf8H3Ow7");
	assert_int_equal(s3_xml_parse_upload_id(init, LEN(init), id, 8), -EBADMSG);
	assert_int_equal(s3_xml_parse_upload_id(done, LEN(done), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_xml_parse_etag(done, LEN(done), etag), 0);
	assert_string_equal(etag, "\"3858f62230ac3c915f300c664312c11f-2\"");

	body = s3_xml_complete_body(etags, 2);
	assert_string_equal(body, "<CompleteMultipartUpload>"
				  "<Part><PartNumber>1</PartNumber><ETag>\"a1\"</ETag></Part>"
				  "<Part><PartNumber>2</PartNumber><ETag>\"b&lt;2&gt;&amp;\"</ETag>"
				  "</Part></CompleteMultipartUpload>");
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_list_last_urlenc),
		cmocka_unit_test(test_list_empty_and_bad),
		cmocka_unit_test(test_list_bad_sizes),
		cmocka_unit_test(test_parse_size_and_range),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_errno_table),
		cmocka_unit_test(test_multipart_docs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

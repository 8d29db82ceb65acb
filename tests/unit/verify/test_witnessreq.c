/* test_witnessreq.c: tlog-witness add-checkpoint request bodies.  The example body is the one
 * in the tlog-witness specification; the rest walks every rule of the grammar and its limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "verify/witnessreq.h"

#define CP                                                                                         \
	"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"  \
	"\xe2\x80\x94 example.com/behind-the-sofa "                                                \
	"Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"                                \
	"Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8="                                                      \
	"\n"
#define H1 "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="
#define H2 "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk="

static int parse(const char *body, struct wit_request *r, struct err_detail *e)
{
	return wit_request_parse(body, strlen(body), r, e);
}

static void test_example(void **state)
{
	const char *body = "old 20852014\n" H1 "\n" H2 "\n"
			   "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
			   "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\n" CP;
	struct wit_request r;
	struct err_detail e;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(parse(body, &r, &e), 0);
	assert_int_equal(r.old_size, 20852014);
	assert_int_equal(r.nproof, 4);
	assert_int_equal(r.checkpoint_len, strlen(CP));
	assert_memory_equal(r.checkpoint, CP, strlen(CP));
	assert_int_equal(r.proof[0][0], 0x3e);
	/* Formatting what was parsed gives the same bytes. */
	assert_int_equal(wit_request_format(r.old_size, r.proof, r.nproof, r.checkpoint,
					    r.checkpoint_len, &out, &len, &e),
			 0);
	assert_int_equal(len, strlen(body));
	assert_string_equal(out, body);
	free(out);
	/* Old size 0, no proof. */
	assert_int_equal(parse("old 0\n\n" CP, &r, &e), 0);
	assert_int_equal(r.old_size, 0);
	assert_int_equal(r.nproof, 0);
	assert_int_equal(parse("old 18446744073709551615\n\n" CP, &r, &e), 0);
	assert_true(r.old_size == UINT64_MAX);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"old 1",
		"old 1\n",
		"old 1\n\n",
		"old\n\n" CP,
		"old \n\n" CP,
		"old  1\n\n" CP,
		"old 01\n\n" CP,
		"old 00\n\n" CP,
		"old -1\n\n" CP,
		"old 1 \n\n" CP,
		"old 0x1\n\n" CP,
		"Old 1\n\n" CP,
		"old 18446744073709551616\n\n" CP,
		"old 1\r\n\n" CP,
		"old 1\n" H1 "\r\n\n" CP,
		"old 1\n" H1 " \n\n" CP,
		"old 1\n" H1 "\n" H2,
		"old 1\n" H1 "\n" H2 "\n",
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n\n" CP,
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkax=\n\n" CP,
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkawA\n\n" CP,
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpk===\n\n" CP,
		"old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=PlRN\n\n" CP,
		"old 0\n" H1 "\n\n" CP,
		"\nold 1\n\n" CP,
	};
	struct wit_request r;
	struct err_detail e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.code = 0;
		e.msg[0] = '\0';
		if (parse(bad[i], &r, &e) != -EBADMSG)
			fail_msg("case %zu accepted: '%s'", i, bad[i]);
		assert_int_equal(e.code, -EBADMSG);
		assert_true(e.msg[0] != '\0');
	}
}

/* 63 proof lines are the most; a request of the largest size passes, one byte more does not. */
static void test_limits(void **state)
{
	uint8_t proof[WIT_PROOF_MAX + 1][VFY_HASH_LEN];
	struct wit_request r;
	struct err_detail e;
	char *body, *big;
	size_t len;

	(void)state;
	memset(proof, 0x42, sizeof(proof));
	assert_int_equal(
	    wit_request_format(7, proof, WIT_PROOF_MAX, CP, strlen(CP), &body, &len, &e), 0);
	assert_int_equal(wit_request_parse(body, len, &r, &e), 0);
	assert_int_equal(r.nproof, WIT_PROOF_MAX);
	free(body);
	assert_int_equal(
	    wit_request_format(7, proof, WIT_PROOF_MAX + 1, CP, strlen(CP), &body, &len, &e),
	    -EINVAL);
	assert_int_equal(wit_request_format(0, proof, 1, CP, strlen(CP), &body, &len, &e), -EINVAL);
	assert_int_equal(wit_request_format(1, proof, 0, CP, 0, &body, &len, &e), -EINVAL);

	/* 64 lines, formatted by hand. */
	big = malloc(16 + 64 * 45 + 1 + strlen(CP) + 1);
	assert_non_null(big);
	len = (size_t)sprintf(big, "old 7\n");
	for (int i = 0; i < 64; i++)
		len += (size_t)sprintf(big + len, "%s\n", H1);
	len += (size_t)sprintf(big + len, "\n%s", CP);
	assert_int_equal(wit_request_parse(big, len, &r, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "63"));
	free(big);

	/* A checkpoint of VFY_NOTE_MAX bytes is the parser's to pass on; one more is refused. */
	big = malloc(WIT_REQUEST_MAX + 2);
	assert_non_null(big);
	len = (size_t)sprintf(big, "old 0\n\n");
	memset(big + len, 'a', VFY_NOTE_MAX);
	assert_int_equal(wit_request_parse(big, len + VFY_NOTE_MAX, &r, &e), 0);
	assert_int_equal(r.checkpoint_len, VFY_NOTE_MAX);
	big[len + VFY_NOTE_MAX] = 'a';
	assert_int_equal(wit_request_parse(big, len + VFY_NOTE_MAX + 1, &r, &e), -EBADMSG);
	memset(big, 'a', WIT_REQUEST_MAX + 1);
	assert_int_equal(wit_request_parse(big, WIT_REQUEST_MAX + 1, &r, &e), -EBADMSG);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

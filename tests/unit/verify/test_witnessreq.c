/* test_witnessreq.c: tlog-witness add-checkpoint request bodies.  The example body is the one
 * in the tlog-witness specification; the rest walks every rule of the grammar and its limits.
 * Then the answers a log reads: a 409's size, and a 200's cosignature lines merged into the
 * checkpoint, with keys made here. */
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

static void test_size_answer(void **state)
{
	static const char *const bad[] = { "",
					   "\n",
					   "01",
					   "1 ",
					   "1\n\n",
					   "-1",
					   "+1",
					   "0x10",
					   "18446744073709551616",
					   "123456789012345678901" };
	struct err_detail e;
	uint64_t v;

	(void)state;
	assert_int_equal(wit_size_parse("0", 1, &v, &e), 0);
	assert_int_equal(v, 0);
	assert_int_equal(wit_size_parse("20852163\n", 9, &v, &e), 0);
	assert_int_equal(v, 20852163);
	assert_int_equal(wit_size_parse("18446744073709551615", 20, &v, &e), 0);
	assert_true(v == UINT64_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wit_size_parse(bad[i], strlen(bad[i]), &v, &e) != -EBADMSG)
			fail_msg("'%s' parsed as a size", bad[i]);
}

/* A witness key and its signer, named @name. */
static void witness_key(const char *name, struct vfy_signer **s, struct vfy_verifier *v)
{
	struct err_detail e;
	char *skey, *vkey;

	assert_int_equal(vfy_cosig_keygen(name, &skey, &vkey, &e), 0);
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), s, &e), 0);
	assert_int_equal(vfy_verifier_parse(vkey, strlen(vkey), v, &e), 0);
	vfy_secret_free(skey);
	free(vkey);
}

static void test_answer_merge(void **state)
{
	static const char body[] =
	    "log.example/x\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	struct vfy_signer *log, *w, *other, *twin;
	struct vfy_verifier keys[2], other_v, twin_v;
	struct err_detail e;
	char *lskey, *lvkey, *note, *l1, *l2, *lo, *lt, *answer, *merged, *again;
	size_t len, mlen, alen;
	uint64_t mask, t;
	unsigned found;

	(void)state;
	assert_int_equal(vfy_keygen("log.example/x", &lskey, &lvkey, &e), 0);
	assert_int_equal(vfy_signer_parse(lskey, strlen(lskey), &log, &e), 0);
	assert_int_equal(vfy_verifier_parse(lvkey, strlen(lvkey), &keys[0], &e), 0);
	witness_key("w.example", &w, &keys[1]);
	witness_key("other.example", &other, &other_v);
	witness_key("w.example", &twin, &twin_v); /* the same name, another key */
	assert_int_equal(vfy_note_sign(body, strlen(body), log, &note, &e), 0);
	len = strlen(note);
	assert_int_equal(vfy_cosign(w, body, strlen(body), 1000, &l1, &e), 0);
	assert_int_equal(vfy_cosign(w, body, strlen(body), 2000, &l2, &e), 0);
	assert_int_equal(vfy_cosign(other, body, strlen(body), 1000, &lo, &e), 0);
	assert_int_equal(vfy_cosign(twin, body, strlen(body), 1000, &lt, &e), 0);

	/* Only w's line is taken from an answer holding others, garbage and a cut line. */
	assert_true(asprintf(&answer, "%sgarbage\n%s%s\xe2\x80\x94 w.example AAAA", lo, lt, l1) >
		    0);
	alen = strlen(answer);
	assert_int_equal(
	    wit_answer_merge(note, len, answer, alen, &keys[1], &merged, &mlen, &found, &e), 0);
	assert_int_equal(found, 1);
	assert_int_equal(mlen, len + strlen(l1));
	assert_memory_equal(merged, note, len);
	assert_string_equal(merged + len, l1);
	assert_int_equal(vfy_note_open(merged, mlen, keys, 2, NULL, &mask, &e), 0);
	assert_int_equal(mask, 3);
	assert_int_equal(vfy_cosig_time(merged, mlen, &keys[1], &t, &e), 0);
	assert_int_equal(t, 1000);

	/* A newer cosignature replaces the old one; another witness's line in the note stays. */
	free(answer);
	assert_true(asprintf(&answer, "%s%s", merged, lo) > 0);
	free(merged);
	assert_int_equal(wit_answer_merge(answer, strlen(answer), l2, strlen(l2), &keys[1], &again,
					  &mlen, &found, &e),
			 0);
	assert_int_equal(found, 1);
	assert_non_null(strstr(again, lo));
	assert_null(strstr(again, l1));
	assert_non_null(strstr(again, l2));
	assert_int_equal(vfy_cosig_time(again, mlen, &keys[1], &t, &e), 0);
	assert_int_equal(t, 2000);
	free(again);

	/* Nothing of w's: found 0, the note as it was. */
	assert_int_equal(
	    wit_answer_merge(note, len, lo, strlen(lo), &keys[1], &again, &mlen, &found, &e), 0);
	assert_int_equal(found, 0);
	assert_string_equal(again, note);
	free(again);
	assert_int_equal(wit_answer_merge(body, strlen(body), l1, strlen(l1), &keys[1], &again,
					  &mlen, &found, &e),
			 -EBADMSG);

	free(answer);
	free(note);
	free(l1);
	free(l2);
	free(lo);
	free(lt);
	vfy_secret_free(lskey);
	free(lvkey);
	vfy_signer_free(log);
	vfy_signer_free(w);
	vfy_signer_free(other);
	vfy_signer_free(twin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),	     cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_limits),	     cmocka_unit_test(test_size_answer),
		cmocka_unit_test(test_answer_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

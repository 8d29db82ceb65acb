/* Unit tests of the proof files: the malformed tlog-proof files of transparency-dev/formats,
 * format/parse round trips, and verification failures that name the part that failed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/proof.h"

static void test_vector_errors(void **state)
{
	json_error_t jerr;
	json_t *doc = json_load_file(TEST_DATA "/tlog/tlog-proof-errors.json", 0, &jerr);
	json_t *errors = json_object_get(doc, "errors"), *item;
	size_t i;

	(void)state;
	assert_non_null(doc);
	assert_true(json_array_size(errors) >= 7);
	json_array_foreach(errors, i, item) {
		const char *text = json_string_value(json_object_get(item, "proof"));
		struct vfy_tlog_proof p;
		struct err_detail e = { 0 };

		if (vfy_tlog_proof_parse(text, strlen(text), &p, &e) == 0) {
			/* Parsing may succeed only if the checkpoint part is what is wrong; the
			 * full verification must then reject it. */
			struct vfy_verifier key;
			const char *vk =
			    "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs";

			assert_int_equal(vfy_verifier_parse(vk, strlen(vk), &key, &e), 0);
			assert_true(vfy_tlog_proof_verify(&p, &key, NULL, &e) < 0);
			vfy_tlog_proof_done(&p);
		} else {
			assert_int_equal(e.code, -EBADMSG);
			assert_true(strlen(e.msg) > 0);
		}
	}
	json_decref(doc);
}

static struct vfy_signer *signer;
static struct vfy_verifier key;
static char *vkey;

static int group_setup(void **state)
{
	struct err_detail e;
	char *skey;

	(void)state;
	assert_int_equal(vfy_keygen("proof.test/log", &skey, &vkey, &e), 0);
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), &signer, &e), 0);
	assert_int_equal(vfy_verifier_parse(vkey, strlen(vkey), &key, &e), 0);
	vfy_secret_free(skey);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vfy_signer_free(signer);
	free(vkey);
	return 0;
}

/* A 5-leaf tree over small JSON entries, with a signed checkpoint and a proof for @index. */
static char *build_proof(uint64_t index, size_t *ret_len)
{
	uint8_t leaves[5][VFY_HASH_LEN], root[VFY_HASH_LEN], added[64][VFY_HASH_LEN];
	uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN];
	char entries[5][64], *body, *note, *text;
	struct merkle_frontier f = { 0 };
	struct vfy_tlog_proof p = { 0 };
	struct err_detail e;
	unsigned n;

	for (int i = 0; i < 5; i++) {
		snprintf(entries[i], sizeof(entries[i]), "{\"i\":%d,\"type\":\"t\",\"v\":1}", i);
		assert_int_equal(vfy_leaf_hash(entries[i], strlen(entries[i]), leaves[i]), 0);
		assert_int_equal(merkle_frontier_append(&f, leaves[i], added, &n), 0);
	}
	assert_int_equal(merkle_frontier_root(&f, root), 0);
	/* Proof by hand from the RFC 6962 shape of a 5-leaf tree. */
	{
		uint8_t h01[32], h23[32], h0123[32];

		vfy_node_hash(leaves[0], leaves[1], h01);
		vfy_node_hash(leaves[2], leaves[3], h23);
		vfy_node_hash(h01, h23, h0123);
		switch (index) {
		case 0:
			memcpy(proof[0], leaves[1], 32);
			memcpy(proof[1], h23, 32);
			memcpy(proof[2], leaves[4], 32);
			p.nhashes = 3;
			break;
		case 3:
			memcpy(proof[0], leaves[2], 32);
			memcpy(proof[1], h01, 32);
			memcpy(proof[2], leaves[4], 32);
			p.nhashes = 3;
			break;
		case 4:
			memcpy(proof[0], h0123, 32);
			p.nhashes = 1;
			break;
		default:
			fail();
		}
	}
	assert_int_equal(vfy_checkpoint_format("proof.test/log", 5, root, &body, &e), 0);
	assert_int_equal(vfy_note_sign(body, strlen(body), signer, &note, &e), 0);
	p.extra = (uint8_t *)entries[index];
	p.extra_len = strlen(entries[index]);
	p.index = index;
	p.hashes = proof;
	p.checkpoint = note;
	p.checkpoint_len = strlen(note);
	assert_int_equal(vfy_tlog_proof_format(&p, &text, ret_len), 0);
	free(body);
	free(note);
	return text;
}

static void test_round_trip_and_verify(void **state)
{
	(void)state;
	for (uint64_t index = 0; index < 5; index += (index == 0 ? 3 : 1)) {
		struct vfy_tlog_proof p;
		struct vfy_checkpoint cp;
		struct err_detail e;
		size_t len, len2;
		char *text = build_proof(index, &len), *again;

		assert_int_equal(strncmp(text, "c2sp.org/tlog-proof@v1\nextra ", 29), 0);
		assert_int_equal(vfy_tlog_proof_parse(text, len, &p, &e), 0);
		assert_int_equal(p.index, index);
		assert_int_equal(vfy_tlog_proof_verify(&p, &key, &cp, &e), 0);
		assert_int_equal(cp.size, 5);
		assert_int_equal(vfy_tlog_proof_format(&p, &again, &len2), 0);
		assert_int_equal(len, len2);
		assert_memory_equal(text, again, len);
		free(again);
		vfy_tlog_proof_done(&p);
		free(text);
	}
}

/* Flip every byte of the file in turn: nothing may verify, and each failure has a code that
 * names a part (format, signature, origin, inclusion). */
static void test_every_byte_flip_fails(void **state)
{
	size_t len;
	char *text = build_proof(3, &len);

	(void)state;
	for (size_t i = 0; i < len; i++) {
		struct vfy_tlog_proof p;
		struct err_detail e = { 0 };
		char saved = text[i];
		int r;

		text[i] ^= 0x01;
		r = vfy_tlog_proof_parse(text, len, &p, &e);
		if (r == 0) {
			r = vfy_tlog_proof_verify(&p, &key, NULL, &e);
			vfy_tlog_proof_done(&p);
		}
		assert_true(r == -EBADMSG || r == -EKEYREJECTED || r == -ESTALE || r == -EPROTO);
		text[i] = saved;
	}
	free(text);
}

static void test_no_extra_rejected(void **state)
{
	size_t len;
	char *text = build_proof(4, &len);
	struct vfy_tlog_proof p;
	struct err_detail e;

	(void)state;
	assert_int_equal(vfy_tlog_proof_parse(text, len, &p, &e), 0);
	free(p.extra);
	p.extra = NULL;
	assert_int_equal(vfy_tlog_proof_verify(&p, &key, NULL, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "extra"));
	vfy_tlog_proof_done(&p);
	free(text);
}

/* Found by tests/fuzz/fuzz_proof.c: a NUL byte in the checkpoint part made the checkpoint
 * string shorter than its recorded length, and formatting or verifying read past it. */
static void test_nul_in_checkpoint_rejected(void **state)
{
	static const char text[] = "c2sp.org/tlog-proof@v1\nextra AA==\nindex 0\n\n"
				   "Log\n1\n\0AAAA\n";
	struct vfy_tlog_proof p;
	struct err_detail e = { 0 };

	(void)state;
	assert_int_equal(vfy_tlog_proof_parse(text, sizeof(text) - 1, &p, &e), -EBADMSG);
	assert_int_equal(e.line, 5);
	assert_non_null(strstr(e.msg, "NUL"));
}

static void test_consistency_parse_errors(void **state)
{
	static const char *bad[] = {
		"",
		"[]",
		"{\"format\":\"other/1\"}",
		"{\"format\":\"custody-consistency/1\",\"origin\":\"o\",\"old_checkpoint\":\"a\","
		"\"checkpoint\":\"b\",\"consistency\":[\"AAAA\"]}",
		"{\"format\":\"custody-consistency/1\",\"origin\":\"o\",\"old_checkpoint\":\"a\","
		"\"checkpoint\":\"b\"}",
		"{\"format\":\"custody-consistency/1\",\"format\":\"custody-consistency/1\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vfy_consistency c;
		struct err_detail e = { 0 };

		assert_int_equal(vfy_consistency_parse(bad[i], strlen(bad[i]), &c, &e), -EBADMSG);
		assert_true(strlen(e.msg) > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_errors),
		cmocka_unit_test(test_round_trip_and_verify),
		cmocka_unit_test(test_every_byte_flip_fails),
		cmocka_unit_test(test_no_extra_rejected),
		cmocka_unit_test(test_nul_in_checkpoint_rejected),
		cmocka_unit_test(test_consistency_parse_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

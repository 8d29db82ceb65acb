/* test_keys.c: verify/keys.c: the byte layout of a lookup key's extra (what logs written
 * before must still read back), and the arrival key's independence from key order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "verify/hash.h"
#include "verify/keys.h"

static void test_extra_layout(void **state)
{
	static const uint8_t want[16] = { 0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05,
					  0x04, 0x03, 0x02, 0x01, 0xdd, 0xcc, 0xbb, 0xaa };
	uint8_t extra[16];

	(void)state;
	vfy_key_extra_put(extra, 0x01020304, 0x0102030405060708, 0xaabbccdd);
	assert_memory_equal(extra, want, sizeof(want));
}

static void test_extra_round_trip(void **state)
{
	static const int64_t values[] = { 0, 1, -1, INT64_MIN, INT64_MAX, 1700000000000000 };
	uint8_t extra[16];
	uint32_t s, o;
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		vfy_key_extra_put(extra, (uint32_t)i * 0x10001, values[i],
				  UINT32_MAX - (uint32_t)i);
		vfy_key_extra_get(extra, &s, &v, &o);
		assert_int_equal(s, (uint32_t)i * 0x10001);
		assert_true(v == values[i]);
		assert_int_equal(o, UINT32_MAX - (uint32_t)i);
	}
	/* Each output may be left out, as the purge check does. */
	vfy_key_extra_put(extra, 0, 42, 0);
	v = 0;
	vfy_key_extra_get(extra, NULL, &v, NULL);
	assert_int_equal(v, 42);
}

static void test_arrival(void **state)
{
	json_t *a = json_pack("{s:s, s:I}", "zone", "dock", "size", (json_int_t)5);
	json_t *b = json_pack("{s:I, s:s}", "size", (json_int_t)5, "zone", "dock");
	uint8_t ka[32], kb[32], want[32];
	const char *text = "{\"size\":5,\"zone\":\"dock\"}";

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(vfy_key_arrival(a, ka), 0);
	assert_int_equal(vfy_key_arrival(b, kb), 0);
	assert_memory_equal(ka, kb, 32);
	assert_int_equal(vfy_sha256(text, strlen(text), want), 0);
	assert_memory_equal(ka, want, 32);
	json_object_set_new(b, "size", json_integer(6));
	assert_int_equal(vfy_key_arrival(b, kb), 0);
	assert_memory_not_equal(ka, kb, 32);
	json_decref(a);
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extra_layout),
		cmocka_unit_test(test_extra_round_trip),
		cmocka_unit_test(test_arrival),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_hex.c: base/hex.c: encoding, and the decoder's strictness (exactly two lower-case
 * digits per byte; what sscanf("%2x") let through is refused). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/hex.h"

static void test_encode(void **state)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(bytes) + 1];

	(void)state;
	hex_encode(bytes, sizeof(bytes), out);
	assert_string_equal(out, "00017f80abff");
	memset(out, 'x', sizeof(out));
	hex_encode(bytes, 0, out);
	assert_string_equal(out, "");
}

static void test_round_trip(void **state)
{
	uint8_t bytes[256], back[256];
	char text[2 * sizeof(bytes) + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	hex_encode(bytes, sizeof(bytes), text);
	assert_int_equal(hex_decode(text, back, sizeof(back)), 0);
	assert_memory_equal(bytes, back, sizeof(bytes));
}

static void test_decode(void **state)
{
	uint8_t b[2];

	(void)state;
	assert_int_equal(hex_decode("0aff", b, 2), 0);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(hex_decode("", b, 0), 0);
	assert_int_equal(hex_decode_mem("12+", 2, b, 1), 0);
	assert_int_equal(b[0], 0x12);
}

/* Each of these is refused, and the output is left as it was. */
static void test_strict(void **state)
{
	static const char *const bad[] = {
		"0AFF",	 "0aFf",		/* upper case */
		" faa",	 "\tfaa",      "0a f",	/* what %2x skipped: leading white space */
		"+faa",	 "-faa",       "0a+f",	/* a sign */
		"0xff",	 "0Xff",		/* a prefix */
		"0aff0", "0af",	       "",	/* too long, too short */
		"0agg",	 "0a\xff\x30", "0a\n0", /* not hex digits */
	};
	uint8_t b[2] = { 0x5a, 0x5a };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hex_decode(bad[i], b, 2), -EINVAL);
		assert_int_equal(b[0], 0x5a);
		assert_int_equal(b[1], 0x5a);
	}
	assert_int_equal(hex_decode(NULL, b, 2), -EINVAL);
	assert_int_equal(hex_decode_mem(NULL, 0, b, 0), -EINVAL);
	assert_int_equal(hex_decode_mem("0aff", 3, b, 2), -EINVAL);
	assert_int_equal(hex_decode_mem("0aff", 4, b, 1), -EINVAL);
	assert_int_equal(hex_decode_mem("0a\0f", 4, b, 2), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

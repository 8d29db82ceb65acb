/* test_entryname.c: daemon/entryname.c, how an entry records a file name (docs/ingest.md
 * "Names"): a UTF-8 name as it is; any other as `name` with U+FFFD for each bad byte plus
 * `name_hex`, read back byte for byte, also after a trip through JSON text (the staging note
 * is read back after a restart).  Hex that entryname_put() cannot have written is refused. */
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

#include "base/utf8.h"
#include "daemon/entryname.h"

#define FFFD "\xef\xbf\xbd"

/* Put @name in a fresh object, check "name" and "name_hex" (NULL: absent), then read it back
 * from the object and from its JSON text. */
static void check(const char *name, const char *want_name, const char *want_hex)
{
	json_t *o = json_object(), *back;
	char *got, *text;

	assert_non_null(o);
	assert_int_equal(entryname_put(name, o), 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), want_name);
	if (want_hex)
		assert_string_equal(json_string_value(json_object_get(o, "name_hex")), want_hex);
	else
		assert_null(json_object_get(o, "name_hex"));
	assert_int_equal(json_object_size(o), want_hex ? 2 : 1);
	got = entryname_get(o);
	assert_non_null(got);
	assert_string_equal(got, name);
	free(got);
	text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	back = json_loads(text, 0, NULL);
	assert_non_null(back);
	got = entryname_get(back);
	assert_non_null(got);
	assert_string_equal(got, name);
	free(got);
	json_decref(back);
	free(text);
	json_decref(o);
}

static void test_utf8_names(void **state)
{
	(void)state;
	check("CAM01_O1234_20240501T080000.mp4", "CAM01_O1234_20240501T080000.mp4", NULL);
	check("dock/CAM01/a.mp4", "dock/CAM01/a.mp4", NULL);
	check("执法记录仪/2024年5月1日 08时00分.mp4", "执法记录仪/2024年5月1日 08时00分.mp4", NULL);
	/* Valid UTF-8 that a terminal would act on is still valid UTF-8: printing it safely is
	 * the reader's business (utf8_for_terminal()), the entry keeps it exact. */
	check("\xe2\x80\xae"
	      "4pm.exe\x1b[2J",
	      "\xe2\x80\xae"
	      "4pm.exe\x1b[2J",
	      NULL);
}

static void test_names_not_utf8(void **state)
{
	(void)state;
	/* The example of docs/ingest.md. */
	check("cam\xe9ra.mp4", "cam" FFFD "ra.mp4",
	      "63616de97261"
	      "2e6d7034");
	/* "执法" in GBK, as cameras sold in China write it: D6 B4 happens to be valid UTF-8
	 * (U+05B4), B7 and A8 are not. */
	check("CAM01/\xd6\xb4\xb7\xa8.mp4", "CAM01/\xd6\xb4" FFFD FFFD ".mp4",
	      "43414d30312f"
	      "d6b4b7a8"
	      "2e6d7034");
	/* An overlong '/', a surrogate, a cut sequence at the end: each bad byte one U+FFFD. */
	check("a\xc0\xaf"
	      "b",
	      "a" FFFD FFFD "b", "61c0af62");
	check("\xed\xa0\x80", FFFD FFFD FFFD, "eda080");
	check("x\xe6\x89", "x" FFFD FFFD, "78e689");
	check("\xff", FFFD, "ff");
}

/* A long name of bad bytes: each becomes three bytes in `name` and two in `name_hex`. */
static void test_long_name(void **state)
{
	enum { N = 4096 };
	char *name = malloc(N + 1), *got;
	json_t *o = json_object();
	const char *shown, *hex;

	(void)state;
	assert_non_null(name);
	memset(name, 0xfe, N);
	name[N] = '\0';
	assert_int_equal(entryname_put(name, o), 0);
	shown = json_string_value(json_object_get(o, "name"));
	hex = json_string_value(json_object_get(o, "name_hex"));
	assert_int_equal(strlen(shown), 3 * N);
	assert_true(utf8_valid(shown, strlen(shown)));
	assert_int_equal(strlen(hex), 2 * N);
	assert_int_equal(strspn(hex, "fe"), 2 * N);
	got = entryname_get(o);
	assert_non_null(got);
	assert_memory_equal(got, name, N + 1);
	free(got);
	free(name);
	json_decref(o);
}

/* name_hex wins over name; without it, name is copied; without either, NULL. */
static void test_get(void **state)
{
	json_t *o;
	char *got;

	(void)state;
	o = json_pack("{s:s, s:s}", "name", "shown", "name_hex", "2f612f");
	got = entryname_get(o);
	assert_string_equal(got, "/a/"); /* '/' is a folder separator, allowed */
	free(got);
	json_decref(o);

	o = json_pack("{s:s}", "name", "plain.mp4");
	got = entryname_get(o);
	assert_string_equal(got, "plain.mp4");
	free(got);
	json_decref(o);

	o = json_pack("{s:s}", "zone", "dock");
	assert_null(entryname_get(o));
	json_decref(o);
	o = json_pack("{s:i}", "name", 7);
	assert_null(entryname_get(o));
	json_decref(o);
	assert_null(entryname_get(NULL));
}

/* Hex that entryname_put() would not write: odd length, upper case, not hex, a NUL byte. */
static void test_get_refuses_bad_hex(void **state)
{
	static const char *const bad[] = { "6",	   "616",  "4A", "zz", "6g",  "61 62",
					   "0061", "6100", "00", "-1", "0x61" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o = json_pack("{s:s, s:s}", "name", "x", "name_hex", bad[i]);

		assert_non_null(o);
		if (entryname_get(o))
			fail_msg("name_hex '%s' was accepted", bad[i]);
		json_decref(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_names),	    cmocka_unit_test(test_names_not_utf8),
		cmocka_unit_test(test_long_name),	    cmocka_unit_test(test_get),
		cmocka_unit_test(test_get_refuses_bad_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

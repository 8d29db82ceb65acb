/* test_err.c: base/err.c: a message cut to fit struct err_detail keeps whole UTF-8 characters
 * (translated messages are mostly 3-byte characters), and err_prefix() keeps the message's
 * start. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/utf8.h"

/* @n characters of U+4E2D (3 bytes each) after @ascii ASCII letters. */
static void chinese(char *out, size_t ascii, size_t n)
{
	memset(out, 'a', ascii);
	for (size_t i = 0; i < n; i++)
		memcpy(out + ascii + 3 * i, "\xe4\xb8\xad", 3);
	out[ascii + 3 * n] = '\0';
}

static void test_cut_whole_characters(void **state)
{
	char text[1024];
	struct err_detail e;

	(void)state;
	/* 255 bytes fit; every offset of the cut within a character must drop all of it. */
	for (size_t ascii = 0; ascii < 3; ascii++) {
		chinese(text, ascii, 200);
		assert_int_equal(err_set(&e, -EINVAL, "%s", text), -EINVAL);
		assert_true(utf8_valid(e.msg, strlen(e.msg)));
		assert_int_equal((strlen(e.msg) - ascii) % 3, 0);
		assert_true(strlen(e.msg) > sizeof(e.msg) - 1 - 3);
		assert_int_equal(memcmp(e.msg, text, strlen(e.msg)), 0);
	}
}

static void test_cut_by_caller(void **state)
{
	struct err_detail e;

	(void)state;
	/* A caller's own buffer cut a character before it got here. */
	err_set_line(&e, -EINVAL, 3, "line %u: %s", 3u, "abc\xe4\xb8");
	assert_string_equal(e.msg, "line 3: abc");
	assert_int_equal(e.line, 3);
	err_set(&e, -EINVAL, "%s", "\xf0\x9f\x98");
	assert_string_equal(e.msg, "");
	/* Whole characters and ASCII are left as they are. */
	err_set(&e, -EINVAL, "%s", "ok \xe4\xb8\xad \xf0\x9f\x98\x80");
	assert_string_equal(e.msg, "ok \xe4\xb8\xad \xf0\x9f\x98\x80");
}

static void test_prefix(void **state)
{
	char text[1024], prefix[512];
	struct err_detail e;

	(void)state;
	err_set(&e, -EIO, "%s", "cannot read");
	err_prefix(&e, "'%s'", "a.mp4");
	assert_string_equal(e.msg, "'a.mp4': cannot read");
	chinese(text, 1, 200);
	err_set(&e, -EIO, "%s", text);
	err_prefix(&e, "%s", "b");
	assert_true(utf8_valid(e.msg, strlen(e.msg)));
	assert_int_equal(memcmp(e.msg, "b: a\xe4\xb8\xad", 7), 0);
	/* A prefix longer than its own buffer is cut at a character too. */
	chinese(prefix, 0, 100);
	err_set(&e, -EIO, "%s", "x");
	err_prefix(&e, "%s", prefix);
	assert_true(utf8_valid(e.msg, strlen(e.msg)));
	assert_string_equal(e.msg + strlen(e.msg) - 3, ": x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut_whole_characters),
		cmocka_unit_test(test_cut_by_caller),
		cmocka_unit_test(test_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

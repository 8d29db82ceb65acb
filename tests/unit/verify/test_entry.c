/* Unit tests for verify/entry.c: the canonical form of log entries (docs/log.md).
 *
 * Each accepted input is checked byte for byte against the expected canonical text, and the
 * canonical text is fed back in to prove the form is a fixed point.  Each rejection is checked
 * for its code and for a message that names the problem, since users read these.  A seeded
 * random round trip compares our writer with jansson's parser and with jansson's own dumper.
 *
 * One file because it is the one test executable of verify/entry.c (meson runs each in its own
 * process), and every test goes through canon_eq() and canon_err_n(). */
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

#include "verify/entry.h"
#include "base/err.h"

/* malloc() that cannot return NULL, which also tells the compiler so. */
static void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p) {
		fail_msg("out of memory");
		abort();
	}
	return p;
}

/* Canonicalise @in (C string) and expect exactly @want; then canonicalise @want and expect it
 * unchanged (idempotence). */
static void canon_eq_n(const char *in, size_t in_len, const char *want, size_t want_len)
{
	struct err_detail e = { 0 };
	char *out = NULL, *again = NULL;
	size_t len = 0, len2 = 0;
	int r;

	r = vfy_entry_canonicalize(in, in_len, &out, &len, &e);
	if (r != 0)
		print_error("unexpected failure: %s\n", e.msg);
	assert_int_equal(r, 0);
	assert_non_null(out);
	assert_int_equal(out[len], '\0');
	if (len != want_len || memcmp(out, want, len) != 0)
		print_error("got  %.*s\nwant %.*s\n", (int)len, out, (int)want_len, want);
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, len);

	r = vfy_entry_canonicalize(out, len, &again, &len2, &e);
	assert_int_equal(r, 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, out, len);
	free(again);
	free(out);
}

static void canon_eq(const char *in, const char *want)
{
	canon_eq_n(in, strlen(in), want, strlen(want));
}

/* Expect rejection of @in with @code and a message containing each of the NULL-terminated
 * strings that follow. */
static void canon_err_n(const char *in, size_t len, int code, ...)
{
	struct err_detail e = { 0 };
	char *out = (char *)0x1;
	size_t out_len = 12345;
	const char *want;
	va_list ap;
	int r;

	r = vfy_entry_canonicalize(in, len, &out, &out_len, &e);
	assert_int_equal(r, code);
	assert_int_equal(e.code, code);
	/* ret_* are written only on success. */
	assert_ptr_equal(out, (char *)0x1);
	assert_int_equal(out_len, 12345);
	va_start(ap, code);
	while ((want = va_arg(ap, const char *))) {
		if (!strstr(e.msg, want))
			print_error("message '%s' lacks '%s'\n", e.msg, want);
		assert_non_null(strstr(e.msg, want));
	}
	va_end(ap);
}

/* The sentinel is a typed null pointer: a bare NULL may be an int 0 through "...". */
#define END ((const char *)NULL)
#define canon_err(in, code, ...) canon_err_n(in, strlen(in), code, __VA_ARGS__, END)

static void dump_err(const json_t *obj, int code, const char *want)
{
	struct err_detail e = { 0 };
	char *out = NULL;
	size_t len = 0;
	int r;

	r = vfy_entry_dump(obj, &out, &len, &e);
	assert_int_equal(r, code);
	assert_null(out);
	if (!strstr(e.msg, want))
		print_error("message '%s' lacks '%s'\n", e.msg, want);
	assert_non_null(strstr(e.msg, want));
}

/* ---- accepted inputs ---- */

static void test_whitespace_removed(void **state)
{
	(void)state;
	canon_eq(" {\n\t\"v\" : 1 ,\r\n  \"type\"\t:\"x\" }\n", "{\"type\":\"x\",\"v\":1}");
	canon_eq("{\"type\":\"x\",\"v\":1,\"list\":[ 1 , 2 ,\n3 ],\"o\":{ }}",
		 "{\"list\":[1,2,3],\"o\":{},\"type\":\"x\",\"v\":1}");
}

static void test_key_order_ascii(void **state)
{
	(void)state;
	/* Byte order: "" < "A" < "_" < "a" < "aa" (prefix first) < "ab" < "b". */
	canon_eq(
	    "{\"b\":0,\"ab\":1,\"aa\":2,\"a\":3,\"_\":4,\"A\":5,\"\":6,\"v\":1,\"type\":\"t\"}",
	    "{\"\":6,\"A\":5,\"_\":4,\"a\":3,\"aa\":2,\"ab\":1,\"b\":0,\"type\":\"t\",\"v\":1}");
}

static void test_key_order_utf8(void **state)
{
	(void)state;
	/* RFC 8785 §3.2.3's sorting example.  In UTF-8 byte order U+1F600 (f0 9f 98 80) comes
	 * after U+FB33 (ef ac b3); RFC 8785 (UTF-16 order) puts it before.  docs/log.md says
	 * bytes. */
	canon_eq("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew "
		 "Letter Dalet With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning "
		 "Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With "
		 "Diaeresis\",\"v\":1,\"type\":\"t\"}",
		 "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"type\":\"t\",\"v\":1,"
		 "\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
		 "\"\xe2\x82\xac\":\"Euro Sign\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With "
		 "Dagesh\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\"}");
	/* A multibyte key sorts after every ASCII key, and "é" before "été" (a prefix first). */
	canon_eq("{\"\xc3\xa9t\xc3\xa9\":1,\"zoo\":2,\"\xc3\xa9\":3,\"v\":1,\"type\":\"t\"}",
		 "{\"type\":\"t\",\"v\":1,\"zoo\":2,\"\xc3\xa9\":3,\"\xc3\xa9t\xc3\xa9\":1}");
}

static void test_nested(void **state)
{
	(void)state;
	canon_eq(
	    "{\"v\":1,\"type\":\"ingest\",\"streams\":[{\"type\":\"video\",\"index\":0,"
	    "\"codec\":\"h264\",\"x\":{\"b\":[],\"a\":{}}},{\"index\":1,\"type\":\"audio\"}],"
	    "\"deep\":{\"z\":{\"y\":{\"x\":[[[{\"b\":1,\"a\":2}]]]}}}}",
	    "{\"deep\":{\"z\":{\"y\":{\"x\":[[[{\"a\":2,\"b\":1}]]]}}},\"streams\":[{\"codec\":"
	    "\"h264\",\"index\":0,\"type\":\"video\",\"x\":{\"a\":{},\"b\":[]}},{\"index\":1,"
	    "\"type\":\"audio\"}],\"type\":\"ingest\",\"v\":1}");
}

static void test_literals(void **state)
{
	(void)state;
	canon_eq("{\"v\":1,\"type\":\"t\",\"a\":[true,false,null],\"officer\":null}",
		 "{\"a\":[true,false,null],\"officer\":null,\"type\":\"t\",\"v\":1}");
}

static void test_escapes(void **state)
{
	(void)state;
	/* Named escapes stay named; \u000b and \u001f have no name and use lowercase hex; a
	 * \u escape for a named one becomes the name. */
	canon_eq("{\"v\":1,\"type\":\"t\",\"s\":\"\\b\\t\\n\\f\\r|\\u0008\\u0009\\u000A\\u000C"
		 "\\u000D|\\u000b\\u001F\\u001f\\u0001\"}",
		 "{\"s\":\"\\b\\t\\n\\f\\r|\\b\\t\\n\\f\\r|\\u000b\\u001f\\u001f\\u0001\","
		 "\"type\":\"t\",\"v\":1}");
	/* '"' and '\\' escaped; '/', DEL, U+2028, U+2029, é, U+FFFF and an astral character
	 * literal, whichever way the input wrote them. */
	canon_eq(
	    "{\"v\":1,\"type\":\"t\",\"s\":\"\\\"\\\\\\/ / \\u007f\x7f \\u2028\xe2\x80\xa8"
	    "\\u2029 \\u00e9\xc3\xa9 \\uffff \\ud83d\\ude00\"}",
	    "{\"s\":\"\\\"\\\\/ / \x7f\x7f \xe2\x80\xa8\xe2\x80\xa8\xe2\x80\xa9 \xc3\xa9\xc3\xa9"
	    " \xef\xbf\xbf \xf0\x9f\x98\x80\",\"type\":\"t\",\"v\":1}");
	/* Escapes in keys follow the same rules. */
	canon_eq("{\"v\":1,\"type\":\"t\",\"k\\u001Fe\\/y\\n\":0}",
		 "{\"k\\u001fe/y\\n\":0,\"type\":\"t\",\"v\":1}");
}

static void test_nul_in_string(void **state)
{
	(void)state;
	/* JSON_ALLOW_NUL: a NUL inside a string is kept, written as RFC 8785 does. */
	canon_eq("{\"v\":1,\"type\":\"t\",\"s\":\"a\\u0000b\\u0000\"}",
		 "{\"s\":\"a\\u0000b\\u0000\",\"type\":\"t\",\"v\":1}");
}

static void test_rfc8785_strings(void **state)
{
	(void)state;
	/* RFC 8785 §3.2.2.2's example, without its "numbers" member (floats are refused). */
	canon_eq("{\n  \"literals\": [null, true, false],\n  \"string\": "
		 "\"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
		 "  \"v\": 1, \"type\": \"t\"\n}",
		 "{\"literals\":[null,true,false],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\"
		 "\\\\\\\"/\",\"type\":\"t\",\"v\":1}");
}

static void test_integers(void **state)
{
	(void)state;
	canon_eq("{\"v\":1,\"type\":\"t\",\"a\":[0,-0,1,-1,9223372036854775807,"
		 "-9223372036854775808,1000000,-42]}",
		 "{\"a\":[0,0,1,-1,9223372036854775807,-9223372036854775808,1000000,-42],"
		 "\"type\":\"t\",\"v\":1}");
	canon_eq("{\"v\":1,\"type\":\"t\",\"size\":-0}", "{\"size\":0,\"type\":\"t\",\"v\":1}");
}

static void test_dump_matches_canonicalize(void **state)
{
	struct err_detail e = { 0 };
	char *a = NULL, *b = NULL, *text;
	size_t alen, blen;
	json_t *obj;

	(void)state;
	obj = json_pack("{s:i, s:s, s:s, s:I, s:[{s:i, s:s}], s:n, s:b}", "v", 1, "type", "ingest",
			"name", "cam\x01 \xe2\x80\xa8.mp4", "size", (json_int_t)INT64_MAX,
			"streams", "index", 0, "codec", "h264", "officer", "ok", 1);
	assert_non_null(obj);
	assert_int_equal(vfy_entry_dump(obj, &a, &alen, &e), 0);
	text = json_dumps(obj, JSON_INDENT(3));
	assert_non_null(text);
	assert_int_equal(vfy_entry_canonicalize(text, strlen(text), &b, &blen, &e), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_string_equal(a, "{\"name\":\"cam\\u0001 \xe2\x80\xa8.mp4\",\"officer\":null,"
			       "\"ok\":true,\"size\":9223372036854775807,\"streams\":[{\"codec\":"
			       "\"h264\",\"index\":0}],\"type\":\"ingest\",\"v\":1}");
	free(text);
	free(a);
	free(b);
	json_decref(obj);
}

/* A canonical entry of exactly @size bytes: {"type":"t","v":1,"x":"aaa…"}. */
static char *entry_of_size(size_t size)
{
	static const char head[] = "{\"type\":\"t\",\"v\":1,\"x\":\"", tail[] = "\"}";
	size_t fill = size - strlen(head) - strlen(tail);
	char *s = xmalloc(size + 1);
	memcpy(s, head, strlen(head));
	memset(s + strlen(head), 'a', fill);
	memcpy(s + strlen(head) + fill, tail, sizeof(tail));
	assert_int_equal(strlen(s), size);
	return s;
}

static void test_size_boundary(void **state)
{
	char *s;

	(void)state;
	/* The limit is that of a tile bundle's uint16 length, whatever the header says. */
	assert_int_equal(VFY_ENTRY_MAX, 65535);
	/* Exactly VFY_ENTRY_MAX bytes is allowed, in and out. */
	s = entry_of_size(VFY_ENTRY_MAX);
	canon_eq_n(s, VFY_ENTRY_MAX, s, VFY_ENTRY_MAX);
	free(s);
	/* One byte more is fine input, but its canonical form is over the limit. */
	s = entry_of_size(VFY_ENTRY_MAX + 1);
	canon_err_n(s, VFY_ENTRY_MAX + 1, -E2BIG, "canonical form is over the limit", "65535", END);
	free(s);
	/* Input over VFY_ENTRY_INPUT_MAX is refused before parsing (even fine JSON). */
	s = entry_of_size(VFY_ENTRY_INPUT_MAX + 1);
	canon_err_n(s, VFY_ENTRY_INPUT_MAX + 1, -E2BIG, "over the limit", "1048577", "input", END);
	free(s);
}

static void test_pretty_input_at_limit(void **state)
{
	static const char body[] = "\"type\":\"t\",\"v\":1}";
	char *s = xmalloc(VFY_ENTRY_INPUT_MAX);
	char *big;

	(void)state;
	/* '{', then spaces up to the input limit, then the members: a megabyte of input whose
	 * canonical form is small is fine. */
	s[0] = '{';
	memset(s + 1, ' ', VFY_ENTRY_INPUT_MAX - 1 - strlen(body));
	memcpy(s + VFY_ENTRY_INPUT_MAX - strlen(body), body, strlen(body));
	canon_eq_n(s, VFY_ENTRY_INPUT_MAX, "{\"type\":\"t\",\"v\":1}",
		   strlen("{\"type\":\"t\",\"v\":1}"));
	free(s);

	/* Indented input of an entry of exactly VFY_ENTRY_MAX bytes: larger than the limit,
	 * accepted, and its canonical form is that entry. */
	big = entry_of_size(VFY_ENTRY_MAX);
	s = xmalloc(VFY_ENTRY_MAX + 64);
	/* The string "aaa…" of @big: after its last ':' and up to its closing brace. */
	snprintf(s, VFY_ENTRY_MAX + 64,
		 "{\n    \"v\" : 1,\n    \"type\" : \"t\",\n    \"x\" : %.*s\n}",
		 (int)(VFY_ENTRY_MAX - 1 - (strrchr(big, ':') + 1 - big)), strrchr(big, ':') + 1);
	assert_true(strlen(s) > VFY_ENTRY_MAX);
	canon_eq_n(s, strlen(s), big, VFY_ENTRY_MAX);
	free(s);
	free(big);
}

static void test_string_size(void **state)
{
	static const char *const cases[] = { "", "abc", "a\"b\\c", "\x01\x1f\n\t\b\f\r",
					     "caf\xc3\xa9 \xe2\x80\xa8 /\x7f" };
	struct err_detail e = { 0 };

	(void)state;
	/* What the writer writes, measured by the writer: {"type":"t","v":1,"x":STRING}. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = json_pack("{s:i, s:s, s:s}", "v", 1, "type", "t", "x", cases[i]);
		char *out;
		size_t len;

		assert_non_null(o);
		assert_int_equal(vfy_entry_dump(o, &out, &len, &e), 0);
		assert_int_equal(len, strlen("{\"type\":\"t\",\"v\":1,\"x\":}") +
					  vfy_entry_string_size(cases[i], strlen(cases[i])));
		free(out);
		json_decref(o);
	}
	assert_int_equal(vfy_entry_string_size("\x01", 1), 8);
	assert_int_equal(vfy_entry_string_size("\n", 1), 4);
	assert_int_equal(vfy_entry_string_size("\0", 1), 8);
}

static void test_depth_limit(void **state)
{
	static const char head[] = "{\"a\":", tail[] = ",\"type\":\"t\",\"v\":1}";
	size_t n, len, hl = strlen(head);
	char *s;

	(void)state;
	/* The entry is depth 1; 2047 arrays inside make 2048, jansson's limit, and pass. */
	for (n = 2047; n <= 2048; n++) {
		len = hl + 2 * n + strlen(tail);
		s = xmalloc(len + 1);
		memcpy(s, head, hl);
		memset(s + hl, '[', n);
		memset(s + hl + n, ']', n);
		memcpy(s + hl + 2 * n, tail, sizeof(tail));
		if (n == 2047)
			canon_eq_n(s, len, s, len);
		else
			canon_err_n(s, len, -EBADMSG, "nested deeper than 2048", "line 1", END);
		free(s);
	}
}

/* ---- rejected inputs ---- */

static void test_reject_invalid_utf8(void **state)
{
	(void)state;
	canon_err("{\"v\":1,\"type\":\"t\",\"s\":\"\xff\"}", -EBADMSG, "not valid UTF-8", "0xff",
		  "byte offset 23");
	/* Truncated sequence, overlong '/', UTF-8-encoded surrogate, above U+10FFFF, in a key. */
	canon_err("{\"v\":1,\"type\":\"t\",\"s\":\"\xc3\"}", -EBADMSG, "not valid UTF-8");
	canon_err("{\"v\":1,\"type\":\"t\",\"s\":\"\xc0\xaf\"}", -EBADMSG, "not valid UTF-8");
	canon_err("{\"v\":1,\"type\":\"t\",\"s\":\"\xed\xa0\x80\"}", -EBADMSG, "not valid UTF-8");
	canon_err("{\"v\":1,\"type\":\"t\",\"s\":\"\xf4\x90\x80\x80\"}", -EBADMSG,
		  "not valid UTF-8");
	canon_err("{\"v\":1,\"type\":\"t\",\"\xe9t\xe9\":1}", -EBADMSG, "not valid UTF-8");
	/* A lone surrogate written as an escape is not UTF-8 either, but jansson calls it an
	 * invalid escape: it is still refused. */
	canon_err("{\"v\":1,\"type\":\"t\",\"s\":\"\\ud800\"}", -EBADMSG, "\\uD800");
}

static void test_reject_malformed(void **state)
{
	struct err_detail e = { 0 };
	char *out;
	size_t len;

	(void)state;
	canon_err("{\"v\":1,\"type\":\"t\"", -EBADMSG, "not valid JSON", "line 1");
	canon_err("{\"v\":1,\n\"type\":tru}", -EBADMSG, "not valid JSON", "line 2", "'tru'");
	canon_err("{\"v\":1,\"type\":\"t\",}", -EBADMSG, "not valid JSON");
	canon_err("{'v':1}", -EBADMSG, "not valid JSON");
	canon_err("{\"v\":1,\"type\":\"t\",\"s\":\"a\x01\"}", -EBADMSG, "not valid JSON",
		  "control character");
	canon_err("\xef\xbb\xbf{\"v\":1,\"type\":\"t\"}", -EBADMSG, "not valid JSON");
	canon_err("{\"v\":1,\"type\":\"t\"} {}", -EBADMSG, "trailing data", "column");
	canon_err("", -EBADMSG, "empty");
	canon_err("  \n", -EBADMSG, "not valid JSON");
	canon_err_n("{\"v\":1,\"type\":\"t\"}\0", 19, -EBADMSG, "NUL byte", "offset 18", END);
	canon_err_n("{\"v\":1,\"type\":\"t\0\"}", 19, -EBADMSG, "NUL byte", "offset 16", END);

	/* The line is also in reterr->line. */
	assert_int_equal(vfy_entry_canonicalize("{\n\n\"v\":x}", 9, &out, &len, &e), -EBADMSG);
	assert_int_equal(e.line, 3);
}

static void test_reject_not_object(void **state)
{
	(void)state;
	canon_err("[{\"v\":1,\"type\":\"t\"}]", -EBADMSG, "must be a JSON object", "an array");
	canon_err("\"entry\"", -EBADMSG, "must be a JSON object", "a string");
	canon_err("1", -EBADMSG, "must be a JSON object", "an integer");
	canon_err("1.5", -EBADMSG, "must be a JSON object", "a float");
	canon_err("true", -EBADMSG, "must be a JSON object", "true");
	canon_err("null", -EBADMSG, "must be a JSON object", "null");
}

static void test_reject_float(void **state)
{
	(void)state;
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":1.0}", -EBADMSG, "floats are not allowed: key 'x'",
		  "1.0");
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":1e5}", -EBADMSG,
		  "floats are not allowed: key 'x'");
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":1E+2}", -EBADMSG, "floats are not allowed");
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":-0.0}", -EBADMSG, "floats are not allowed");
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":0.5}", -EBADMSG, "key 'x' is 0.5");
	/* The path says where. */
	canon_err("{\"v\":1,\"type\":\"t\",\"streams\":[{\"index\":0},{\"fps\":29.97}]}", -EBADMSG,
		  "floats are not allowed: key 'streams[1].fps'", "29.97");
	canon_err("{\"v\":1,\"type\":\"t\",\"a\":{\"b\":[[0,2.5]]}}", -EBADMSG, "key 'a.b[0][1]'");
	/* A float too large for a double: jansson refuses it while parsing. */
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":1e400}", -EBADMSG, "floats are not allowed",
		  "1e400");
	/* "v" as a float is named by the "v" check, which runs first. */
	canon_err("{\"v\":1.0,\"type\":\"t\"}", -EBADMSG, "\"v\" must be the integer 1", "float");
}

static void test_reject_float_long_path(void **state)
{
	char in[1024];
	char key[200];

	(void)state;
	/* A long key is cut, the path stays readable and the message in bounds. */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(in, sizeof(in), "{\"v\":1,\"type\":\"t\",\"%s\":{\"%s\":{\"%s\":[1.5]}}}", key,
		 key, key);
	canon_err(in, -EBADMSG, "floats are not allowed: key 'kkkk", "...");
	/* Quotes and control characters in a key are shown as '?'. */
	canon_err("{\"v\":1,\"type\":\"t\",\"it's\\n\":1.5}", -EBADMSG, "key 'it?s?'");
}

static void test_reject_int_range(void **state)
{
	(void)state;
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":9223372036854775808}", -EBADMSG,
		  "integer out of range", "64 bits", "9223372036854775808");
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":-9223372036854775809}", -EBADMSG,
		  "integer out of range", "64 bits");
	canon_err("{\"v\":1,\"type\":\"t\",\"x\":[123456789012345678901234567890]}", -EBADMSG,
		  "integer out of range");
}

static void test_reject_duplicate(void **state)
{
	(void)state;
	canon_err("{\"v\":1,\"type\":\"t\",\"size\":1,\"size\":1}", -EBADMSG,
		  "duplicate key \"size\"", "line 1");
	canon_err("{\"v\":1,\"type\":\"t\",\n\"o\":{\"a\":1,\"a\":2}}", -EBADMSG,
		  "duplicate key \"a\"", "line 2");
	/* Duplicates under different spellings are duplicates. */
	canon_err("{\"v\":1,\"type\":\"t\",\"a\":1,\"\\u0061\":2}", -EBADMSG, "duplicate key");
	canon_err("{\"v\":1,\"v\":1,\"type\":\"t\"}", -EBADMSG, "duplicate key \"v\"");
}

static void test_reject_nul_key(void **state)
{
	(void)state;
	canon_err("{\"v\":1,\"type\":\"t\",\"a\\u0000b\":1}", -EBADMSG, "keys may not contain NUL",
		  "a\\u0000b");
}

static void test_reject_v(void **state)
{
	(void)state;
	canon_err("{\"type\":\"t\"}", -EBADMSG, "missing \"v\"");
	canon_err("{\"V\":1,\"type\":\"t\"}", -EBADMSG, "missing \"v\"");
	canon_err("{\"v\":2,\"type\":\"t\"}", -EBADMSG, "\"v\" must be the integer 1, not 2");
	canon_err("{\"v\":0,\"type\":\"t\"}", -EBADMSG, "\"v\" must be the integer 1, not 0");
	canon_err("{\"v\":\"1\",\"type\":\"t\"}", -EBADMSG, "\"v\" must be the integer 1",
		  "a string");
	canon_err("{\"v\":true,\"type\":\"t\"}", -EBADMSG, "\"v\" must be the integer 1", "true");
	canon_err("{\"v\":null,\"type\":\"t\"}", -EBADMSG, "\"v\" must be the integer 1", "null");
}

static void test_reject_type(void **state)
{
	(void)state;
	canon_err("{\"v\":1}", -EBADMSG, "missing \"type\"");
	canon_err("{\"v\":1,\"type\":\"\"}", -EBADMSG, "\"type\" must be a non-empty string",
		  "empty");
	canon_err("{\"v\":1,\"type\":1}", -EBADMSG, "\"type\" must be a non-empty string",
		  "an integer");
	canon_err("{\"v\":1,\"type\":null}", -EBADMSG, "\"type\" must be a non-empty string",
		  "null");
	canon_err("{\"v\":1,\"type\":[\"ingest\"]}", -EBADMSG,
		  "\"type\" must be a non-empty string", "an array");
}

/* ---- vfy_entry_dump() on trees built in code ---- */

static json_t *base_entry(void)
{
	json_t *o = json_pack("{s:i, s:s}", "v", 1, "type", "t");

	assert_non_null(o);
	return o;
}

static void test_dump_checks(void **state)
{
	json_t *o, *a;

	(void)state;
	dump_err(NULL, -EINVAL, "NULL");
	o = json_array();
	dump_err(o, -EBADMSG, "not an array");
	json_decref(o);
	o = json_pack("{s:s}", "type", "t");
	dump_err(o, -EBADMSG, "missing \"v\"");
	json_decref(o);
	o = json_pack("{s:i, s:s}", "v", 1, "type", "");
	dump_err(o, -EBADMSG, "non-empty string");
	json_decref(o);

	o = base_entry();
	a = json_pack("[i, {s:f}]", 1, "ratio", 0.25);
	json_object_set_new(o, "m", a);
	dump_err(o, -EBADMSG, "floats are not allowed: key 'm[1].ratio' is 0.25");
	json_decref(o);

	/* Strings and keys jansson would not parse, slipped in with the _nocheck setters. */
	o = base_entry();
	json_object_set_new(o, "s", json_stringn_nocheck("a\xff", 2));
	dump_err(o, -EBADMSG, "not valid UTF-8: the string at key 's'");
	json_decref(o);
	o = base_entry();
	json_object_set_new(o, "o", json_object());
	json_object_set_new_nocheck(json_object_get(o, "o"), "k\xc0\xaf", json_true());
	dump_err(o, -EBADMSG, "not valid UTF-8: key 'o.k\?\?'"); /* \? avoids a trigraph */
	json_decref(o);
	o = base_entry();
	json_object_setn_new_nocheck(o, "a\0b", 3, json_true());
	dump_err(o, -EBADMSG, "keys may not contain NUL");
	json_decref(o);
}

static void test_dump_size_limit(void **state)
{
	struct err_detail e = { 0 };
	size_t overhead = strlen("{\"type\":\"t\",\"v\":1,\"x\":\"\"}"), len;
	char *fill, *out;
	json_t *o;

	(void)state;
	fill = xmalloc(VFY_ENTRY_MAX);
	memset(fill, 'a', VFY_ENTRY_MAX);

	/* Canonical form of exactly VFY_ENTRY_MAX bytes: allowed. */
	o = base_entry();
	json_object_set_new(o, "x", json_stringn(fill, VFY_ENTRY_MAX - overhead));
	assert_int_equal(vfy_entry_dump(o, &out, &len, &e), 0);
	assert_int_equal(len, VFY_ENTRY_MAX);
	assert_int_equal(strlen(out), VFY_ENTRY_MAX);
	free(out);
	json_decref(o);

	/* One more byte: refused. */
	o = base_entry();
	json_object_set_new(o, "x", json_stringn(fill, VFY_ENTRY_MAX - overhead + 1));
	dump_err(o, -E2BIG, "canonical form is over the limit");
	json_decref(o);

	/* Escapes grow the form sixfold: 20 KB of raw control bytes make 120 KB. */
	memset(fill, '\x01', 20000);
	o = base_entry();
	json_object_set_new(o, "x", json_stringn(fill, 20000));
	dump_err(o, -E2BIG, "over the limit");
	json_decref(o);
	/* Through vfy_entry_canonicalize() the canonical form is never longer than the input
	 * (each input escape is at least as long as the canonical one), so the input check
	 * covers it there. */
	free(fill);
}

static void test_dump_depth(void **state)
{
	struct err_detail e = { 0 };
	json_t *o, *inner, *a, *b;
	char *out;
	size_t len, i;

	(void)state;
	/* 2047 arrays inside the entry: depth 2048, allowed; one more is refused. */
	for (size_t n = 2047; n <= 2048; n++) {
		inner = json_array();
		for (i = 1; i < n; i++) {
			json_t *outer = json_array();

			json_array_append_new(outer, inner);
			inner = outer;
		}
		o = base_entry();
		json_object_set_new(o, "a", inner);
		if (n == 2047) {
			assert_int_equal(vfy_entry_dump(o, &out, &len, &e), 0);
			assert_int_equal(len, strlen("{\"a\":,\"type\":\"t\",\"v\":1}") + 2 * n);
			free(out);
		} else {
			dump_err(o, -EBADMSG, "nested deeper than 2048");
		}
		json_decref(o);
	}

	/* A tree that contains itself is stopped by the same bound. */
	a = json_array();
	b = json_array();
	json_array_append(a, b);
	json_array_append(b, a);
	o = base_entry();
	json_object_set(o, "loop", a);
	dump_err(o, -EBADMSG, "nested deeper");
	json_array_clear(b); /* break the cycle so that everything is freed */
	json_decref(a);
	json_decref(b);
	json_decref(o);
}

/* ---- seeded random round trip ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: enough to vary shapes, reproducible from the seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t rand_text(char *buf, size_t max, int allow_nul)
{
	/* clang-format off */
	static const char *const pieces[] = {
		"a", "b", "Z", "0", " ", "/", "\"", "\\", "'", "\x7f", "\xc3\xa9", "\xc2\x80",
		"\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x82\xac", "\xef\xac\xb3", "\xef\xbf\xbf",
		"\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\b", "\t", "\n", "\f", "\r", "\x01",
		"\x0b", "\x1f", "\x00",
	};
	/* clang-format on */
	size_t n = rnd() % 9, len = 0, i, k, plen;

	for (i = 0; i < n; i++) {
		k = rnd() % (sizeof(pieces) / sizeof(pieces[0]));
		plen = k == sizeof(pieces) / sizeof(pieces[0]) - 1 ? 1 : strlen(pieces[k]);
		if (plen == 1 && pieces[k][0] == '\0' && !allow_nul)
			continue;
		if (len + plen > max)
			break;
		memcpy(buf + len, pieces[k], plen);
		len += plen;
	}
	return len;
}

static json_t *rand_value(unsigned depth)
{
	static const json_int_t ints[] = { 0, 1, -1, 255, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	char buf[64];
	size_t n, i, len;
	json_t *j;

	switch (rnd() % (depth < 4 ? 8 : 6)) {
	case 0:
		return json_integer(ints[rnd() % (sizeof(ints) / sizeof(ints[0]))]);
	case 1:
		return json_integer((json_int_t)rnd());
	case 2:
		len = rand_text(buf, sizeof(buf), 1);
		return json_stringn(buf, len);
	case 3:
		return json_boolean(rnd() & 1);
	case 4:
		return json_null();
	case 5:
		len = rand_text(buf, sizeof(buf), 1);
		return json_stringn(buf, len);
	case 6:
		j = json_array();
		n = rnd() % 5;
		for (i = 0; i < n; i++)
			json_array_append_new(j, rand_value(depth + 1));
		return j;
	default:
		j = json_object();
		n = rnd() % 6;
		for (i = 0; i < n; i++) {
			len = rand_text(buf, sizeof(buf), 0);
			json_object_setn_new(j, buf, len, rand_value(depth + 1));
		}
		return j;
	}
}

/* Every object in @j lists its keys in strictly increasing byte order. */
static void check_sorted(json_t *j)
{
	const char *key, *prev = NULL;
	size_t key_len, prev_len = 0, i;
	json_t *v;

	if (json_is_array(j)) {
		for (i = 0; i < json_array_size(j); i++)
			check_sorted(json_array_get(j, i));
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_keylen_foreach(j, key, key_len, v) {
		if (prev) {
			int r = memcmp(prev, key, prev_len < key_len ? prev_len : key_len);

			assert_true(r < 0 || (r == 0 && prev_len < key_len));
		}
		prev = key;
		prev_len = key_len;
		check_sorted(v);
	}
}

/* No raw control bytes; each backslash escape is one RFC 8785 uses. */
static void check_escapes(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		assert_true((uint8_t)s[i] >= 0x20);
		if (s[i] != '\\')
			continue;
		assert_true(i + 1 < len);
		switch (s[++i]) {
		case '"':
		case '\\':
		case 'b':
		case 't':
		case 'n':
		case 'f':
		case 'r':
			break;
		case 'u': {
			unsigned c;

			assert_true(i + 4 < len);
			assert_memory_equal(s + i + 1, "00", 2);
			assert_true(s[i + 3] == '0' || s[i + 3] == '1');
			assert_true(strchr("0123456789abcdef", s[i + 4]) != NULL);
			c = (unsigned)strtoul((char[]){ s[i + 3], s[i + 4], 0 }, NULL, 16);
			assert_true(c != '\b' && c != '\t' && c != '\n' && c != '\f' && c != '\r');
			i += 4;
			break;
		}
		default:
			fail_msg("unexpected escape \\%c", s[i]);
		}
	}
}

static void test_random_round_trip(void **state)
{
	struct err_detail e = { 0 };
	char buf[64], *c1, *c2, *c3, *text;
	size_t l1, l2, l3, len, i, n;
	json_error_t jerr;
	json_t *o, *back;
	int iter;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (iter = 0; iter < 3000; iter++) {
		o = json_object();
		n = rnd() % 8;
		for (i = 0; i < n; i++) {
			len = rand_text(buf, sizeof(buf), 0);
			json_object_setn_new(o, buf, len, rand_value(1));
		}
		len = rand_text(buf, sizeof(buf) - 1, 1);
		buf[len++] = 'x'; /* non-empty */
		json_object_set_new(o, "type", json_stringn(buf, len));
		json_object_set_new(o, "v", json_integer(1));

		if (vfy_entry_dump(o, &c1, &l1, &e) != 0)
			fail_msg("iteration %d: %s", iter, e.msg);
		assert_int_equal(strlen(c1), l1); /* a NUL in a string is written \u0000 */
		check_escapes(c1, l1);

		/* jansson reads back what we wrote, equal to the original, keys sorted. */
		back = json_loadb(c1, l1, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
		if (!back)
			fail_msg("iteration %d: jansson: %s in %s", iter, jerr.text, c1);
		assert_true(json_equal(back, o));
		check_sorted(back);
		json_decref(back);

		/* Canonical in, same bytes out. */
		assert_int_equal(vfy_entry_canonicalize(c1, l1, &c2, &l2, &e), 0);
		assert_int_equal(l2, l1);
		assert_memory_equal(c2, c1, l1);

		/* jansson's own text (unsorted, indented, uppercase hex, \u escapes for
		 * non-ASCII) canonicalises to the same bytes. */
		text = json_dumps(o, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);
		assert_non_null(text);
		if (vfy_entry_canonicalize(text, strlen(text), &c3, &l3, &e) != 0)
			fail_msg("iteration %d: %s", iter, e.msg);
		assert_int_equal(l3, l1);
		assert_memory_equal(c3, c1, l1);

		free(text);
		free(c1);
		free(c2);
		free(c3);
		json_decref(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whitespace_removed),
		cmocka_unit_test(test_key_order_ascii),
		cmocka_unit_test(test_key_order_utf8),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_nul_in_string),
		cmocka_unit_test(test_rfc8785_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_dump_matches_canonicalize),
		cmocka_unit_test(test_size_boundary),
		cmocka_unit_test(test_pretty_input_at_limit),
		cmocka_unit_test(test_string_size),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_reject_invalid_utf8),
		cmocka_unit_test(test_reject_malformed),
		cmocka_unit_test(test_reject_not_object),
		cmocka_unit_test(test_reject_float),
		cmocka_unit_test(test_reject_float_long_path),
		cmocka_unit_test(test_reject_int_range),
		cmocka_unit_test(test_reject_duplicate),
		cmocka_unit_test(test_reject_nul_key),
		cmocka_unit_test(test_reject_v),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_dump_checks),
		cmocka_unit_test(test_dump_size_limit),
		cmocka_unit_test(test_dump_depth),
		cmocka_unit_test(test_random_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* libFuzzer target: entry canonicalisation (verify/entry.c), what every log entry goes through.
 *
 * The input is the JSON text given to vfy_entry_canonicalize().  Checked beyond the
 * sanitizers, from what entry.h promises:
 * - a rejection fills reterr with the code returned (-EBADMSG or -E2BIG) and a message;
 * - the canonical form is never longer than the input and is NUL-terminated;
 * - it is a fixed point: canonicalising it again gives the same bytes;
 * - jansson parses it, and vfy_entry_dump() of what it parsed writes the same bytes again (the
 *   writer used for entries built in code agrees with the one used for text). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "verify/entry.h"
#include "base/err.h"

static void fail(const char *what, const char *a, size_t alen, const char *b, size_t blen)
{
	fprintf(stderr, "fuzz_entry: %s\n  first:  %.*s\n  second: %.*s\n", what, (int)alen, a,
		(int)blen, b ? b : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct err_detail e = { 0 };
	char *out = NULL, *again = NULL, *dumped = NULL;
	size_t len, len2, len3;
	json_error_t je;
	json_t *j;
	int r;

	r = vfy_entry_canonicalize(in, size, &out, &len, &e);
	if (r < 0) {
		if ((r != -EBADMSG && r != -E2BIG) || e.code != r || !e.msg[0] || out) {
			fprintf(stderr, "fuzz_entry: rejected with %d, detail %d '%s'\n", r, e.code,
				e.msg);
			abort();
		}
		return 0;
	}
	if (len > size || out[len] != '\0' || strlen(out) > len)
		fail("canonical form longer than its input, or not terminated", in, size, out, len);
	r = vfy_entry_canonicalize(out, len, &again, &len2, &e);
	if (r < 0)
		fail(e.msg, out, len, NULL, 0);
	if (len2 != len || memcmp(out, again, len))
		fail("canonicalising the canonical form changes it", out, len, again, len2);
	/* \u0000 in a string is kept; jansson needs JSON_ALLOW_NUL to read it back. */
	j = json_loadb(out, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!j)
		fail(je.text, out, len, NULL, 0);
	r = vfy_entry_dump(j, &dumped, &len3, &e);
	if (r < 0)
		fail(e.msg, out, len, NULL, 0);
	if (len3 != len || memcmp(out, dumped, len))
		fail("vfy_entry_dump() of the parsed canonical form differs", out, len, dumped,
		     len3);
	json_decref(j);
	free(out);
	free(again);
	free(dumped);
	return 0;
}

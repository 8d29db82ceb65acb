#pragma once
/* The keys of tests/unit/verify/test_cosig.c's known answer, which signed the seeds of
 * fuzz-witness and fuzz-witness-answer: [0] the log's, [1] the witness's.  For those two
 * targets only (each a program of its own, so the statics are theirs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "verify/note.h"

static struct vfy_verifier keys[2];

/* LLVMFuzzerInitialize()'s work: parse both keys, or exit 2 saying which. */
static void witness_keys_init(const char *target)
{
	static const char *const vkeys[] = {
		"example.com/log+55f7551c+ASnlgzqRWmQppOOnlIR1wzjvQ264K+ickvBZcEQD251V",
		"witness.example/w1+7e9477f3+BA11UHVOCACl0jfu9YJgNXZrmz5aFYaKlAqyiZWHiOOw",
	};
	struct err_detail e;

	for (size_t i = 0; i < 2; i++)
		if (vfy_verifier_parse(vkeys[i], strlen(vkeys[i]), &keys[i], &e) < 0) {
			fprintf(stderr, "%s: %s: %s\n", target, vkeys[i], e.msg);
			exit(2);
		}
}

/* Every failure fills reterr with the code returned, and says something. */
static void check_err(const char *target, const char *what, int r, const struct err_detail *e)
{
	if (r < 0 && (e->code != r || !e->msg[0])) {
		fprintf(stderr, "%s: %s failed with %d but reterr says %d '%s'\n", target, what, r,
			e->code, e->msg);
		abort();
	}
}

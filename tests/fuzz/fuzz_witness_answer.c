/* libFuzzer target: what a witness answers custodyd (verify/witnessreq.c), which custodyd
 * trusts for nothing: a 409's size (wit_size_parse()) and a 200's cosignature lines merged into
 * the checkpoint it asked about (wit_answer_merge()), then opened as custodyd opens it.
 *
 * The checkpoint and keys are those of fuzz_witness.c's seeds (tests/unit/verify/test_cosig.c's
 * known answer), so the seed answer's line verifies and mutations reach the cosignature check.
 * Checked beyond the sanitizers:
 * - every failure fills reterr with the code returned;
 * - a size that parses prints back to the answer's bytes (less one final newline);
 * - the merged note is the checkpoint, byte for byte, then only whole lines by the witness's
 *   key, as many as were counted;
 * - a merged note whose cosignature verifies has its time. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "verify/note.h"
#include "verify/witnessreq.h"
#include "tests/fuzz/witness-keys.h"

/* A checkpoint signed by keys[0], as the seeds of fuzz-witness carry it. */
static const char note[] = "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
			   "\xe2\x80\x94 example.com/log "
			   "VfdVHAlDrOAu7r37+T/oYgUZkzVc03/x1EJiSPGD476xVB+5AvlfqhEK3sczJK/"
			   "5q8kklsp+DiQHSWDH/9qQZfsaAg4=\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	witness_keys_init("fuzz_witness_answer");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *answer = (const char *)data;
	struct err_detail e = { 0 };
	char *merged = NULL, digits[32];
	size_t mlen = 0, nlen = sizeof(note) - 1;
	uint64_t v = 0, mask = 0, t;
	unsigned found = 0, lines = 0;
	int r;

	r = wit_size_parse(answer, size, &v, &e);
	check_err("fuzz_witness_answer", "wit_size_parse", r, &e);
	if (r == 0) {
		size_t n = size && answer[size - 1] == '\n' ? size - 1 : size;

		snprintf(digits, sizeof(digits), "%" PRIu64, v);
		if (strlen(digits) != n || memcmp(digits, answer, n) != 0) {
			fprintf(stderr, "fuzz_witness_answer: size %s from other bytes\n", digits);
			abort();
		}
	}

	r = wit_answer_merge(note, nlen, answer, size, &keys[1], &merged, &mlen, &found, &e);
	check_err("fuzz_witness_answer", "wit_answer_merge", r, &e);
	if (r < 0)
		return 0;
	if (mlen < nlen || memcmp(merged, note, nlen) != 0 || strlen(merged) != mlen) {
		fprintf(stderr, "fuzz_witness_answer: the checkpoint was not kept as it was\n");
		abort();
	}
	for (const char *p = merged + nlen; p < merged + mlen; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(merged + mlen - p));
		static const char head[] = "\xe2\x80\x94 witness.example/w1 ";

		if (!nl || strncmp(p, head, sizeof(head) - 1) != 0) {
			fprintf(stderr,
				"fuzz_witness_answer: a line not by the witness was taken\n");
			abort();
		}
		p = nl + 1;
	}
	if (lines != found) {
		fprintf(stderr, "fuzz_witness_answer: %u lines taken, %u counted\n", lines, found);
		abort();
	}
	r = vfy_note_open(merged, mlen, keys, 2, NULL, &mask, &e);
	check_err("fuzz_witness_answer", "vfy_note_open", r, &e);
	if (r == 0 && (mask & 2) && vfy_cosig_time(merged, mlen, &keys[1], &t, &e) < 0) {
		fprintf(stderr, "fuzz_witness_answer: cosigned, but no time: %s\n", e.msg);
		abort();
	}
	free(merged);
	return 0;
}

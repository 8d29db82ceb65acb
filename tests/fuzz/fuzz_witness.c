/* libFuzzer target: tlog-witness add-checkpoint request bodies (verify/witnessreq.c), what
 * custody-witness parses from anyone who can reach it, and the cosignature/v1 lines of the
 * checkpoint inside (verify/note.c).
 *
 * The checkpoint of a request that parses is opened with a fixed log key and a fixed witness
 * key (those of tests/unit/verify/test_cosig.c's known answer, which signed the seeds), so
 * mutations of the seeds reach the signature and cosignature checks.  Checked beyond the
 * sanitizers:
 * - every failure fills reterr with the code returned;
 * - a request that parses formats back (wit_request_format()) to the very bytes it was parsed
 *   from: the format has one spelling;
 * - a checkpoint whose cosignature verifies gets its time from vfy_cosig_time(). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "verify/note.h"
#include "verify/witnessreq.h"
#include "tests/fuzz/witness-keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	witness_keys_init("fuzz_witness");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wit_request req;
	struct err_detail e = { 0 };
	unsigned nsigs = 0;
	uint64_t t = 0;
	char *out = NULL;
	size_t len = 0;
	int r;

	r = wit_request_parse((const char *)data, size, &req, &e);
	check_err("fuzz_witness", "wit_request_parse", r, &e);
	if (r < 0)
		return 0;
	r = wit_request_format(req.old_size, req.proof, req.nproof, req.checkpoint,
			       req.checkpoint_len, &out, &len, &e);
	if (r < 0 || len != size || memcmp(out, data, size) != 0) {
		fprintf(stderr, "fuzz_witness: a parsed request does not format back: %d %s\n", r,
			e.msg);
		abort();
	}
	free(out);
	r = vfy_checkpoint_open(req.checkpoint, req.checkpoint_len, NULL, keys, 2, NULL, &nsigs,
				&e);
	check_err("fuzz_witness", "vfy_checkpoint_open", r, &e);
	if (r == 0 && nsigs == 2) {
		r = vfy_cosig_time(req.checkpoint, req.checkpoint_len, &keys[1], &t, &e);
		if (r < 0) {
			fprintf(stderr, "fuzz_witness: cosigned, but no time: %s\n", e.msg);
			abort();
		}
	}
	return 0;
}

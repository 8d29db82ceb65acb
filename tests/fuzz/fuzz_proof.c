/* libFuzzer target: the proof files auditors take away (verify/proof.c): tlog-proof@v1
 * inclusion proofs and custody-consistency/1 files.
 *
 * Each input is given to both parsers, and what parses is verified against a fixed key (the
 * transparency-dev test log key "Log" of tests/data/tlog/note-scenarios.json, which signed the
 * seed corpus: tests/fuzz/make-seeds.sh), so mutations of the seeds reach the checkpoint and
 * the Merkle path checks.  Checked beyond the sanitizers:
 * - every failure fills reterr with the code returned;
 * - what parses formats back (vfy_*_format()) to a text that parses to the same fields, and a
 *   tlog-proof formats back to the very bytes it was parsed from (the format has one spelling);
 * - a proof that verifies still verifies after that round trip. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "verify/note.h"
#include "verify/proof.h"

static const char vkey[] = "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs";
static struct vfy_verifier key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err_detail e;

	(void)argc, (void)argv;
	if (vfy_verifier_parse(vkey, strlen(vkey), &key, &e) < 0) {
		fprintf(stderr, "fuzz_proof: %s\n", e.msg);
		exit(2);
	}
	return 0;
}

static void check_err(const char *what, int r, const struct err_detail *e)
{
	if (r < 0 && (e->code != r || !e->msg[0])) {
		fprintf(stderr, "fuzz_proof: %s failed with %d but reterr says %d '%s'\n", what, r,
			e->code, e->msg);
		abort();
	}
}

static void fail(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "fuzz_proof: %s\n%.*s\n", what, (int)len, text);
	abort();
}

static void tlog_proof(const char *in, size_t size)
{
	struct vfy_tlog_proof p, q;
	struct err_detail e = { 0 };
	struct vfy_checkpoint cp;
	char *text = NULL;
	size_t len;
	int r, v;

	r = vfy_tlog_proof_parse(in, size, &p, &e);
	check_err("vfy_tlog_proof_parse", r, &e);
	if (r < 0)
		return;
	v = vfy_tlog_proof_verify(&p, &key, &cp, &e);
	check_err("vfy_tlog_proof_verify", v, &e);
	if (vfy_tlog_proof_format(&p, &text, &len) < 0)
		fail("a parsed proof does not format", in, size);
	if (len != size || memcmp(text, in, size))
		fail("a parsed proof formats to other bytes", text, len);
	r = vfy_tlog_proof_parse(text, len, &q, &e);
	if (r < 0)
		fail(e.msg, text, len);
	if (p.index != q.index || p.nhashes != q.nhashes || p.extra_len != q.extra_len ||
	    !p.extra != !q.extra || (p.extra && memcmp(p.extra, q.extra, p.extra_len)) ||
	    (p.nhashes && memcmp(p.hashes, q.hashes, p.nhashes * sizeof(*p.hashes))) ||
	    p.checkpoint_len != q.checkpoint_len ||
	    memcmp(p.checkpoint, q.checkpoint, p.checkpoint_len))
		fail("a proof's round trip changes it", text, len);
	if (v == 0 && vfy_tlog_proof_verify(&q, &key, NULL, &e) < 0)
		fail("a proof verifies, its round trip does not", text, len);
	free(text);
	vfy_tlog_proof_done(&p);
	vfy_tlog_proof_done(&q);
}

static void consistency(const char *in, size_t size)
{
	struct vfy_consistency c, d;
	struct vfy_checkpoint o, n;
	struct err_detail e = { 0 };
	char *text = NULL;
	size_t len;
	int r, v;

	r = vfy_consistency_parse(in, size, &c, &e);
	check_err("vfy_consistency_parse", r, &e);
	if (r < 0)
		return;
	v = vfy_consistency_verify(&c, &key, &o, &n, &e);
	check_err("vfy_consistency_verify", v, &e);
	if (v == 0 && o.size > n.size)
		fail("a consistency proof from a larger tree to a smaller one verifies", in, size);
	if (vfy_consistency_format(&c, &text, &len) < 0)
		fail("a parsed consistency file does not format", in, size);
	r = vfy_consistency_parse(text, len, &d, &e);
	if (r < 0)
		fail(e.msg, text, len);
	if (strcmp(c.origin, d.origin) || strcmp(c.checkpoint, d.checkpoint) ||
	    strcmp(c.old_checkpoint, d.old_checkpoint) || c.nhashes != d.nhashes ||
	    (c.nhashes && memcmp(c.hashes, d.hashes, c.nhashes * sizeof(*c.hashes))))
		fail("a consistency file's round trip changes it", text, len);
	if (v == 0 && vfy_consistency_verify(&d, &key, NULL, NULL, &e) < 0)
		fail("a consistency proof verifies, its round trip does not", text, len);
	free(text);
	vfy_consistency_done(&c);
	vfy_consistency_done(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tlog_proof((const char *)data, size);
	consistency((const char *)data, size);
	return 0;
}

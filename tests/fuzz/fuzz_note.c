/* libFuzzer target: signed notes, note keys and checkpoints (verify/note.c).
 *
 * Each input goes through every parser of note.h: vfy_note_open() against a fixed set of
 * trusted keys, vfy_checkpoint_open() with the transparency-dev test log's key first (and its
 * two witnesses) and again with sum.golang.org's (so that the seeds from
 * tests/data/tlog/signed-notes.json verify and mutations start from valid notes),
 * vfy_checkpoint_parse() on the bare body, and the key parsers vfy_verifier_parse() and
 * vfy_signer_parse().  The keys are public test vectors (tests/data/tlog/note-scenarios.json,
 * signed-notes.json).
 *
 * Checked beyond the sanitizers:
 * - every failure fills reterr with the code returned;
 * - a checkpoint body that parses formats back (vfy_checkpoint_format()) to a body that parses
 *   to the same origin, size and root, and to the input itself when it has no extension line;
 * - sign/open agree: when vfy_note_sign() accepts the input as note text, vfy_note_open() of
 *   the signed note verifies and gives back exactly that text, and when the text is also a
 *   checkpoint of the signing key's origin, vfy_checkpoint_open() accepts the signed note. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "verify/note.h"

static const char *const vkeys[] = {
	"Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
	"Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
	"KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
	"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
};
#define NKEYS (sizeof(vkeys) / sizeof(vkeys[0]))
#define SUMDB 3
static const char log_skey[] =
    "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ";

static struct vfy_verifier keys[NKEYS];
static struct vfy_signer *signer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err_detail e;

	(void)argc, (void)argv;
	for (size_t i = 0; i < NKEYS; i++)
		if (vfy_verifier_parse(vkeys[i], strlen(vkeys[i]), &keys[i], &e) < 0) {
			fprintf(stderr, "fuzz_note: %s: %s\n", vkeys[i], e.msg);
			exit(2);
		}
	if (vfy_signer_parse(log_skey, strlen(log_skey), &signer, &e) < 0) {
		fprintf(stderr, "fuzz_note: the signer key: %s\n", e.msg);
		exit(2);
	}
	return 0;
}

static void check_err(const char *what, int r, const struct err_detail *e)
{
	if (r < 0 && (e->code != r || !e->msg[0])) {
		fprintf(stderr, "fuzz_note: %s failed with %d but reterr says %d '%s'\n", what, r,
			e->code, e->msg);
		abort();
	}
}

static void check_checkpoint(const char *in, size_t size)
{
	struct vfy_checkpoint cp, cp2;
	struct err_detail e = { 0 };
	char *body = NULL;
	int r;

	r = vfy_checkpoint_parse(in, size, &cp, &e);
	check_err("vfy_checkpoint_parse", r, &e);
	if (r < 0)
		return;
	r = vfy_checkpoint_format(cp.origin, cp.size, cp.root, &body, &e);
	if (r < 0) {
		fprintf(stderr, "fuzz_note: a parsed checkpoint does not format: %s\n", e.msg);
		abort();
	}
	r = vfy_checkpoint_parse(body, strlen(body), &cp2, &e);
	if (r < 0 || strcmp(cp.origin, cp2.origin) || cp.size != cp2.size ||
	    memcmp(cp.root, cp2.root, sizeof(cp.root))) {
		fprintf(stderr, "fuzz_note: checkpoint round trip differs: %s\n", body);
		abort();
	}
	/* Without extension lines, the body is exactly the three lines formatted. */
	{
		size_t nl = 0;

		for (size_t i = 0; i < size; i++)
			nl += in[i] == '\n';
		if (nl == 3 && (strlen(body) != size || memcmp(body, in, size))) {
			fprintf(stderr,
				"fuzz_note: checkpoint formats differently: '%.*s' -> "
				"'%s'\n",
				(int)size, in, body);
			abort();
		}
	}
	free(body);
}

static void check_sign(const char *in, size_t size)
{
	struct err_detail e = { 0 };
	struct vfy_checkpoint cp;
	char *signed_ = NULL;
	uint64_t verified = 0;
	size_t text_len = 0;
	int r;

	if (size > 4096)
		return; /* signing is the slow part; long texts add nothing */
	r = vfy_note_sign(in, size, signer, &signed_, &e);
	check_err("vfy_note_sign", r, &e);
	if (r < 0)
		return;
	r = vfy_note_open(signed_, strlen(signed_), keys, 1, &text_len, &verified, &e);
	if (r < 0 || text_len != size || memcmp(signed_, in, size) || verified != 1) {
		fprintf(stderr, "fuzz_note: a note we signed does not open (%s): %s\n",
			r < 0 ? e.msg : "text differs", signed_);
		abort();
	}
	if (vfy_checkpoint_parse(in, size, &cp, &e) == 0 && !strcmp(cp.origin, keys[0].name)) {
		r = vfy_checkpoint_open(signed_, strlen(signed_), NULL, keys, 1, NULL, NULL, &e);
		if (r < 0) {
			fprintf(stderr, "fuzz_note: a checkpoint we signed does not open: %s: %s\n",
				e.msg, signed_);
			abort();
		}
	}
	free(signed_);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct err_detail e = { 0 };
	struct vfy_signer *s = NULL;
	struct vfy_checkpoint cp;
	struct vfy_verifier v;
	size_t text_len;
	uint64_t verified;
	unsigned nsigs;
	int r;

	r = vfy_note_open(in, size, keys, NKEYS, &text_len, &verified, &e);
	check_err("vfy_note_open", r, &e);
	if (r == 0 && (text_len > size || !verified)) {
		fprintf(stderr, "fuzz_note: opened, but text_len %zu of %zu, verified %#llx\n",
			text_len, size, (unsigned long long)verified);
		abort();
	}
	r = vfy_checkpoint_open(in, size, NULL, keys, 3, &cp, &nsigs, &e);
	check_err("vfy_checkpoint_open (log)", r, &e);
	if (r == 0 && (nsigs < 1 || nsigs > 3 || strcmp(cp.origin, keys[0].name))) {
		fprintf(stderr, "fuzz_note: opened checkpoint with %u signatures, origin '%s'\n",
			nsigs, cp.origin);
		abort();
	}
	r = vfy_checkpoint_open(in, size, NULL, &keys[SUMDB], 1, &cp, &nsigs, &e);
	check_err("vfy_checkpoint_open (sumdb)", r, &e);
	check_checkpoint(in, size);
	r = vfy_verifier_parse(in, size, &v, &e);
	check_err("vfy_verifier_parse", r, &e);
	r = vfy_signer_parse(in, size, &s, &e);
	check_err("vfy_signer_parse", r, &e);
	vfy_signer_free(s);
	check_sign(in, size);
	return 0;
}

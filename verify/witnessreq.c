/* witnessreq.c: tlog-witness v1 add-checkpoint request bodies (docs/witness.md).
 *
 * The parser faces anyone who can reach the witness, before any signature is checked, so it
 * reads at most WIT_REQUEST_MAX bytes, never allocates, and accepts only the one spelling the
 * specification allows: a number with a leading zero, a proof line that is not canonical base64
 * or not 32 bytes, a CR, a 64th proof line, a proof after "old 0" are all errors.  The
 * checkpoint is left to the note parser, which has its own limits. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "verify/witnessreq.h"

#define HASH_B64_LEN 44

int wit_request_format(uint64_t old_size, const uint8_t (*proof)[VFY_HASH_LEN], size_t nproof,
		       const char *checkpoint, size_t len, char **ret, size_t *ret_len,
		       struct err_detail *reterr)
{
	size_t size, off;
	char *body;
	int n;

	if (nproof > WIT_PROOF_MAX)
		return err_set(reterr, -EINVAL,
			       "a consistency proof of %zu hashes is more than the %d a witness "
			       "takes",
			       nproof, WIT_PROOF_MAX);
	if (old_size == 0 && nproof > 0)
		return err_set(reterr, -EINVAL, "a request from old size 0 carries no proof");
	if (len == 0 || len > VFY_NOTE_MAX)
		return err_set(reterr, -EINVAL, "the checkpoint is empty or over %d bytes",
			       VFY_NOTE_MAX);
	size = 4 + 20 + 1 + nproof * (HASH_B64_LEN + 1) + 1 + len + 1;
	body = malloc(size);
	if (!body)
		return err_set(reterr, -ENOMEM, "out of memory for a witness request");
	n = snprintf(body, size, "old %" PRIu64 "\n", old_size);
	off = (size_t)n;
	for (size_t i = 0; i < nproof; i++) {
		off += vfy_b64_encode(proof[i], VFY_HASH_LEN, body + off, size - off);
		body[off++] = '\n';
	}
	body[off++] = '\n';
	memcpy(body + off, checkpoint, len);
	off += len;
	body[off] = '\0';
	*ret = body;
	*ret_len = off;
	return 0;
}

/* The old size line's number: digits only, no leading zero unless it is "0", fits 64 bits. */
static int parse_size(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int wit_request_parse(const char *body, size_t len, struct wit_request *ret,
		      struct err_detail *reterr)
{
	const char *cur = body, *end = body + len, *nl;
	unsigned line = 1;
	size_t n = 0;

	if (len > WIT_REQUEST_MAX)
		return err_set(reterr, -EBADMSG,
			       "the request is %zu bytes, more than the %d allowed", len,
			       WIT_REQUEST_MAX);
	nl = memchr(cur, '\n', len);
	if (!nl || (size_t)(nl - cur) < 4 || memcmp(cur, "old ", 4) != 0)
		return err_set_line(reterr, -EBADMSG, line,
				    "the request does not start with an 'old SIZE' line");
	if (parse_size(cur + 4, (size_t)(nl - cur - 4), &ret->old_size) < 0)
		return err_set_line(reterr, -EBADMSG, line,
				    "the old size is not a decimal number without leading zeros "
				    "that fits in 64 bits");
	for (cur = nl + 1;; cur = nl + 1) {
		line++;
		nl = cur < end ? memchr(cur, '\n', (size_t)(end - cur)) : NULL;
		if (!nl)
			return err_set_line(reterr, -EBADMSG, line,
					    "the request ends before the blank line that precedes "
					    "the checkpoint");
		if (nl == cur)
			break;
		if (n == WIT_PROOF_MAX)
			return err_set_line(reterr, -EBADMSG, line,
					    "the request has more than %d consistency proof lines",
					    WIT_PROOF_MAX);
		if (nl - cur != HASH_B64_LEN ||
		    vfy_b64_decode(cur, HASH_B64_LEN, ret->proof[n], VFY_HASH_LEN) != VFY_HASH_LEN)
			return err_set_line(
			    reterr, -EBADMSG, line,
			    "consistency proof line %zu is not one hash in canonical "
			    "base64",
			    n + 1);
		n++;
	}
	if (ret->old_size == 0 && n > 0)
		return err_set_line(reterr, -EBADMSG, line,
				    "the request has old size 0 and a consistency proof; from 0 "
				    "the proof must be empty");
	cur = nl + 1;
	if (cur == end)
		return err_set_line(reterr, -EBADMSG, line + 1, "the request has no checkpoint");
	if ((size_t)(end - cur) > VFY_NOTE_MAX)
		return err_set_line(reterr, -EBADMSG, line + 1,
				    "the checkpoint is more than %d bytes", VFY_NOTE_MAX);
	ret->nproof = n;
	ret->checkpoint = cur;
	ret->checkpoint_len = (size_t)(end - cur);
	return 0;
}

/* ---- answers ------------------------------------------------------------------------------ */

int wit_size_parse(const char *body, size_t len, uint64_t *ret, struct err_detail *reterr)
{
	if (len > 0 && body[len - 1] == '\n')
		len--;
	if (parse_size(body, len, ret) < 0)
		return err_set(reterr, -EBADMSG,
			       "the size is not a decimal number of at most 20 "
			       "digits without a leading zero");
	return 0;
}

/* Is @line (@len bytes, its newline included) a signature line "— NAME BASE64\n" by @key? */
static bool line_by(const char *line, size_t len, const struct vfy_verifier *key)
{
	static const char dash[] = "\xe2\x80\x94 ";
	size_t nlen = strlen(key->name), blen;
	uint8_t sig[128];
	int siglen;

	if (len < sizeof(dash) - 1 + nlen + 2 || line[len - 1] != '\n' ||
	    memcmp(line, dash, sizeof(dash) - 1) != 0)
		return false;
	line += sizeof(dash) - 1;
	len -= sizeof(dash) - 1;
	if (memcmp(line, key->name, nlen) != 0 || line[nlen] != ' ')
		return false;
	blen = len - nlen - 2;
	siglen = vfy_b64_decode(line + nlen + 1, blen, sig, sizeof(sig));
	if (siglen < 4)
		return false;
	return ((uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3]) ==
	       key->id;
}

int wit_answer_merge(const char *note, size_t len, const char *answer, size_t answer_len,
		     const struct vfy_verifier *key, char **ret, size_t *ret_len,
		     unsigned *ret_found, struct err_detail *reterr)
{
	const char *sigs = vfy_note_sig_lines(note, len);
	unsigned found = 0;
	size_t n;
	char *out;

	if (!sigs)
		return err_set(reterr, -EBADMSG, "the checkpoint has no signature lines");
	if (answer_len > WIT_ANSWER_MAX)
		return err_set(reterr, -EBADMSG, "the answer is longer than %d bytes",
			       WIT_ANSWER_MAX);
	out = malloc(len + answer_len + 1);
	if (!out)
		return err_set(reterr, -ENOMEM, "out of memory");
	n = (size_t)(sigs - note);
	memcpy(out, note, n);
	/* First the checkpoint's lines that are not @key's, then the answer's that are. */
	for (int from_answer = 0; from_answer < 2; from_answer++) {
		const char *p = from_answer ? answer : sigs;
		const char *end = from_answer ? answer + answer_len : note + len;

		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);

			if (nl && line_by(p, l, key) == (from_answer == 1)) {
				memcpy(out + n, p, l);
				n += l;
				found += (unsigned)from_answer;
			}
			p += l;
		}
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	*ret_found = found;
	return 0;
}

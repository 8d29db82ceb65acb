#pragma once
/* The bodies of C2SP tlog-witness v1 add-checkpoint (docs/witness.md).  The request:
 *
 *   old SIZE\n              decimal, no leading zero ("0" for none)
 *   BASE64(HASH)\n          0 to 63 consistency proof hashes, canonical padded base64
 *   \n
 *   SIGNED CHECKPOINT       a signed note, taken verbatim (at most VFY_NOTE_MAX bytes)
 *
 * The answers a log reads: 200 with signature lines ("— NAME BASE64\n", the witness's
 * cosignatures), 409 with the size the witness has ("SIZE\n", Content-Type WIT_SIZE_TYPE).
 *
 * Formatting for a log that asks for cosignatures, strict parsing for the witness, and for the
 * log the parsing of what a witness answers, which it trusts for nothing.  Pure and reentrant:
 * any thread. */

#include <stddef.h>
#include <stdint.h>

#include "verify/hash.h"
#include "verify/note.h"

struct err_detail;

#define WIT_PROOF_MAX 63 /* the most proof lines a client may send */
/* "old " and 20 digits, 63 proof lines of 44 characters, the blank line, the checkpoint. */
#define WIT_REQUEST_MAX (4 + 20 + 1 + WIT_PROOF_MAX * 45 + 1 + VFY_NOTE_MAX)
#define WIT_SIZE_TYPE "text/x.tlog.size" /* Content-Type of a 409's body */

struct wit_request {
	uint64_t old_size;
	size_t nproof;
	uint8_t proof[WIT_PROOF_MAX][VFY_HASH_LEN];
	const char *checkpoint; /* points into the parsed body: valid while it is */
	size_t checkpoint_len;
};

/** Format a request body: @old_size, @nproof (at most WIT_PROOF_MAX) hashes of @proof, then
 * @checkpoint (@len bytes, a signed note, copied as it is).  *@ret (malloc()'d, NUL-terminated)
 * and *@ret_len (without the NUL) are the caller's.  @return 0, -EINVAL (too many hashes, a
 * proof with old size 0, a checkpoint empty or over VFY_NOTE_MAX bytes), -ENOMEM. */
int wit_request_format(uint64_t old_size, const uint8_t (*proof)[VFY_HASH_LEN], size_t nproof,
		       const char *checkpoint, size_t len, char **ret, size_t *ret_len,
		       struct err_detail *reterr);

/** Parse a request body of @len bytes (at most WIT_REQUEST_MAX).  Every line ends in a newline;
 * the old size is a decimal without leading zeros fitting 64 bits; each proof line is the
 * canonical base64 of 32 bytes; at most WIT_PROOF_MAX of them; none when the old size is 0;
 * then a blank line and a non-empty checkpoint of at most VFY_NOTE_MAX bytes (its signatures and
 * syntax are the caller's to check with vfy_note_open()).  @ret->checkpoint points into @body.
 * @return 0 or -EBADMSG saying what is wrong (reterr->line: the body's line). */
int wit_request_parse(const char *body, size_t len, struct wit_request *ret,
		      struct err_detail *reterr);

#define WIT_ANSWER_MAX (16 * 1024) /* a longer answer is not a witness's */

/** The body of a 409 answer: a decimal size without leading zeros that fits 64 bits, and a
 * newline or nothing after it.  @return 0 or -EBADMSG. */
int wit_size_parse(const char *body, size_t len, uint64_t *ret, struct err_detail *reterr);

/** Put the cosignatures of a 200 answer @answer (@answer_len bytes, at most WIT_ANSWER_MAX)
 * that are @key's (its name, and its key ID in the signature's first four bytes) into the
 * signed checkpoint @note, in place of the lines by @key that it has; other lines of both stay
 * as they are, those of @answer by other keys and anything that is not a complete signature
 * line are left out.  *@ret (malloc()'d, NUL-terminated) and *@ret_len; *@ret_found counts the
 * lines taken from @answer.  Whether they verify is the caller's to check (vfy_note_open()).
 * @return 0, -EBADMSG (@note has no signature lines, or @answer is too long), -ENOMEM. */
int wit_answer_merge(const char *note, size_t len, const char *answer, size_t answer_len,
		     const struct vfy_verifier *key, char **ret, size_t *ret_len,
		     unsigned *ret_found, struct err_detail *reterr);

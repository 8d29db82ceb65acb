#pragma once
/* The proof files auditors take away (docs/log.md): C2SP tlog-proof@v1 inclusion proofs carrying
 * the entry in their `extra` line, and custody-consistency/1 JSON consistency proofs.  Parsing,
 * formatting and full offline verification; no database.  Reentrant. */

#include <stddef.h>
#include <stdint.h>

#include "verify/hash.h"
#include "verify/note.h"

struct err_detail;

#define VFY_PROOF_MAX (4 * 1024 * 1024) /* a proof file larger than this is rejected */

struct vfy_tlog_proof {
	uint8_t *extra; /* the entry bytes (malloc()'d), NULL when the file has no extra line */
	size_t extra_len;
	uint64_t index;
	uint8_t (*hashes)[VFY_HASH_LEN]; /* malloc()'d, leaf to root */
	size_t nhashes;
	char *checkpoint; /* the signed checkpoint, verbatim, malloc()'d and NUL-terminated */
	size_t checkpoint_len;
};

/** Free the contents of @p (not @p itself) and zero it. */
void vfy_tlog_proof_done(struct vfy_tlog_proof *p);

/** Format @p as a tlog-proof@v1 file (malloc()'d, NUL-terminated). @return 0 or -ENOMEM. */
int vfy_tlog_proof_format(const struct vfy_tlog_proof *p, char **ret, size_t *ret_len);

/** Parse a tlog-proof@v1 file.  @ret is filled only on success (release with
 * vfy_tlog_proof_done()).  @return 0, -EBADMSG (malformed: the line and what is wrong), -E2BIG,
 * -ENOMEM. */
int vfy_tlog_proof_parse(const char *text, size_t len, struct vfy_tlog_proof *ret,
			 struct err_detail *reterr);

/** Verify @p offline against the log's verifier @key: the checkpoint's signature and origin
 * (must be @key's name), then the inclusion of SHA-256(0x00 || extra) at index under the
 * checkpoint's root.  @ret_cp gets the checkpoint.  @return 0, -EBADMSG (no extra line, or the
 * checkpoint body malformed), -EKEYREJECTED (signature), -ESTALE (origin), -EPROTO (the inclusion
 * path does not lead to the signed root: the entry, the index or a proof hash was altered). */
int vfy_tlog_proof_verify(const struct vfy_tlog_proof *p, const struct vfy_verifier *key,
			  struct vfy_checkpoint *ret_cp, struct err_detail *reterr);

struct vfy_consistency {
	char *origin;
	char *old_checkpoint; /* signed notes, verbatim, malloc()'d */
	char *checkpoint;
	uint8_t (*hashes)[VFY_HASH_LEN];
	size_t nhashes;
};

void vfy_consistency_done(struct vfy_consistency *c);

/** Format @c as the custody-consistency/1 JSON object (one line + '\n', malloc()'d). */
int vfy_consistency_format(const struct vfy_consistency *c, char **ret, size_t *ret_len);

/** Parse a custody-consistency/1 file.  @return 0, -EBADMSG (what is wrong), -E2BIG, -ENOMEM. */
int vfy_consistency_parse(const char *text, size_t len, struct vfy_consistency *ret,
			  struct err_detail *reterr);

/** Verify both checkpoints against @key (signature, origin == key name == the file's origin)
 * and the consistency path between them.  @ret_old and @ret_new get the two checkpoints.
 * @return 0, -EBADMSG, -EKEYREJECTED, -ESTALE, -EPROTO (the path does not prove the old tree a
 * prefix of the new one). */
int vfy_consistency_verify(const struct vfy_consistency *c, const struct vfy_verifier *key,
			   struct vfy_checkpoint *ret_old, struct vfy_checkpoint *ret_new,
			   struct err_detail *reterr);

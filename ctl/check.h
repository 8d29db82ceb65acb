#pragma once
/* What custodyctl checks in an answer before it shows it to a person (docs/review-format.md,
 * docs/programs.md): the served checkpoint of a review or a history against the verifier key,
 * so that a printout names a signed log state; and in a history, each event's inclusion proof
 * and that the entry it proves is, byte for byte, the entry shown.  ctl/check.c; no I/O, no
 * socket, pure checking: the renderers (ctl/review.c, the pages) only read what it found.
 * Reentrant; a struct ctl_record is one caller's. */

#include <jansson.h>

#include "ctl/page.h"
#include "verify/note.h"

struct ing_tz;

/* A struct ctl_page_ctx with the text its pointers name. */
struct ctl_record {
	struct ctl_page_ctx ctx;
	char origin[VFY_NAME_MAX + 1];
	char root[48];
	char key_name[VFY_NAME_MAX + 1];
	char key_id[9];
	char why[320];	  /* ctx.why: in the reader's language */
	char why_en[320]; /* the same in English, for --json */
};

/** Check the signed note @answer's "checkpoint" against the log's verifier @key (NULL: none at
 * hand, @nokey_en and @nokey say why, in English and in the reader's language) and that it is
 * of the size @answer's "checkpoint_size" says.  Fills @ret: ret->ctx.tz = @tz; ctx.checked
 * with the origin, size, root (base64), key name and key ID when it verified, else ctx.why
 * (ret->why, through gettext) and ret->why_en (no checkpoint, no key, what failed).  @ret may
 * be copied only with its pointers re-aimed: use it in place. */
void ctl_check_checkpoint(const json_t *answer, const struct vfy_verifier *key,
			  const char *nokey_en, const char *nokey, const struct ing_tz *tz,
			  struct ctl_record *ret);

/** Check every event of the history answer @history (docs/review-format.md, "history") against
 * @key (NULL: none; @rec says why in rec->why_en) and @rec (ctl_check_checkpoint() of the same
 * answer): the event's tlog-proof@v1 verifies, is for the event's index, stands on the
 * answer's checkpoint, and carries the event's entry in its canonical bytes; an event without
 * a proof must be newer than the checkpoint; the arrival event is the clip's own entry.  Adds
 * to each event "client": {"proof": "verified"|"failed"|"pending"|"unchecked", "message": S}
 * (pending: newer than the checkpoint, no proof yet; unchecked: no key) and to @history
 * "client": {"checkpoint": "verified"|"failed"|"unchecked"|"none", "message": S|null,
 * "verified": N, "failed": N, "pending": N, "unchecked": N, "ok": bool, "problem": S|null}
 * (problem: what is wrong with the history as a whole, e.g. no arrival event, counted in
 * failed); messages in English, as JSON stays.  @return 0 when everything that can be checked
 * verified and the checkpoint did, 1 when anything failed or could not be checked, -ENOMEM. */
int ctl_check_history(json_t *history, const struct vfy_verifier *key,
		      const struct ctl_record *rec);

#pragma once
/* What custodyctl knows beside the daemon's answer when it shows a review or a history to a
 * person (docs/review-format.md, "A record"): the display zone, and what checking the answer's
 * checkpoint against the verifier key established.  Filled in ctl/custodyctl.c; read by the
 * renderers (ctl/review.c text, ctl/html.c page, ctl/pdf.c PDF), which never check anything
 * themselves.  Plain data: any thread may read it. */

#include <stdbool.h>
#include <stdint.h>

struct ing_tz;

struct ctl_page_ctx {
	const struct ing_tz *tz; /* [display] timezone, or the machine's; NULL: UTC */
	/* The answer's checkpoint, once it verified against the verifier key: */
	bool checked;	       /* false: the fields below are empty and @why says why */
	const char *why;       /* when !checked: "no verifier key", the verification error… */
	const char *origin;    /* the log's origin line */
	uint64_t size;	       /* the checkpoint's tree size */
	const char *root;      /* its root hash, base64 as in the note */
	const char *key_name;  /* the verifier key's name */
	const char *key_id;    /* its key ID, 8 hex digits */
	unsigned cosignatures; /* witness cosignatures on it that custodyctl could check (0 when
				* it was given no witness keys) */
};

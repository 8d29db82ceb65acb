#pragma once
/* custodyctl's rendering of the `review`, `history`, `cases` and `report` answers
 * (docs/review-format.md) for people (text, in the reader's language and the display zone)
 * and spreadsheets (CSV).  ctl/review.c; no socket, no libuv, no checking: each function only
 * formats an object it is given (what custodyctl established about it comes in a struct
 * ctl_page_ctx, ctl/page.h, and in the "client" fields ctl/check.c added), writing to a stdio
 * stream owned by the caller.  Words go through gettext (base/i18n.h), times through ctl/show.h
 * in ctx->tz with their offset; the caller has called setlocale().  The HTML page of a review
 * is ctl/html.c (ctl_review_html(), declared in ctl/html.h, included here so that custodyctl
 * needs one header for every form). */

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl/html.h"
#include "ctl/page.h"

struct ing_tz;

/** A deep copy of @v for printing on a terminal: every string through utf8_for_terminal(),
 * so that names an uploader chose can neither move the cursor nor end a line.  NULL (said on
 * stderr) when out of memory.  The caller owns it. */
json_t *ctl_terminal_copy(const json_t *v);

/** The verdict of @review in the reader's language, without the "verdict:" label, built from
 * its `complete`, `open`, `reservations` (derived from the clips and gaps when the answer has
 * none), devices and clips, times in @tz: "complete: …", "complete with reservations: …;
 * entry 8 damaged (reported, entry 21)", "INCOMPLETE: 1 late clip unexplained (entry 7); …".
 * Every damaged file is named; other reservations up to 10, then how many more.  The daemon's
 * English `verdict` is for --json.  Strings are used as they are (a terminal's caller passes a
 * ctl_terminal_copy()).  @return a malloc()'d line, NULL when out of memory. */
char *ctl_review_verdict(const json_t *review, const struct ing_tz *tz);

/** Print the annotation entry @annotation (as logged) on one line ending in a newline: its kind
 * in words, then its fields in the order a person reads them (what it names: case, entry,
 * entries, device, officer, grantee; from, to, returned, expires; the reason, explanation or
 * purpose; approved by, by, at), never alphabetically, and any field this custodyctl does not
 * know after them by name.  Times in @tz.  Strings as they are (a terminal's caller passes a
 * ctl_terminal_copy()). */
void ctl_annotation_print(FILE *out, const struct ing_tz *tz, const json_t *annotation);

/** Print @review (the daemon's answer) for a person on @out: the case, the record (@ctx: the
 * checkpoint's origin, size, root and verifier key once checked, else why not), who asked and
 * when; per device its clips in recording order with storage status, integrity and what
 * explains them (the damage report's text, the late-storage reason, the remote duty), the raw
 * error on a detail line, the other cases binding a clip; the gaps; the open items once each in
 * words with the command that closes each on the line below; the reservations; the
 * annotations with their fields in a fixed order; accesses grouped per person and action with
 * counts and copy-outs with destination and purpose; and ctl_review_verdict() as the last line.
 * Every string is printed through utf8_for_terminal().  @ctx may be NULL (UTC, nothing
 * checked).  @return 0 when the review says complete, 1 when anything is open, 2 when out of
 * memory (said on stderr). */
int ctl_review_print(const json_t *review, const struct ctl_page_ctx *ctx, FILE *out);

/** Print the `history` answer @history (docs/review-format.md) for a person: the clip's
 * arrival (zone, name, device, officer, recording and storage times, storage status now, the
 * original's integrity, cases, hold, purge), then every event in log order (annotations with
 * their fields in order, accesses with who, what, when and the result, copy-outs with their
 * approval, destination and purpose, scrub results, purge), each with what ctl/check.c found of
 * its proof ("proof checked ✓" or why not), and a last line summing the proofs up.
 * @return 0 when every proof and the checkpoint checked (history.client.ok), 1 otherwise
 * (also when custodyctl did not check: no "client"), 2 when out of memory. */
int ctl_history_print(const json_t *history, const struct ctl_page_ctx *ctx, FILE *out);

/** Print the `cases` answer @cases as a table aligned by display width (a Chinese case id takes
 * two columns a character): case, clips, devices, span of the recordings, open items, last
 * review; times in @tz (NULL: UTC). */
void ctl_cases_print(const json_t *cases, const struct ing_tz *tz, FILE *out);

/** Print @report for a person on @out: the period, the totals, a table per device and per
 * officer aligned by display width, the open items (only the summary and the open items when
 * @open_only); times in @tz (NULL: UTC); strings as ctl_review_print() prints them. */
void ctl_report_print(const json_t *report, bool open_only, const struct ing_tz *tz, FILE *out);

/** Write @report as CSV (RFC 4180, CRLF-free: one "\n" per row) on @out, after a UTF-8 byte
 * order mark when @bom (spreadsheet programs take a file without one for their legacy code
 * page): a header, then one row for the totals, one per device, one per officer:
 * from,to,scope,name,clips,seconds,on_time,…,refused (the counters of docs/review-format.md;
 * English and UTC whatever the locale).  A name that a spreadsheet would take for a formula
 * (starting with = + - @ or a tab) is written with a leading apostrophe. */
void ctl_report_csv(const json_t *report, bool bom, FILE *out);

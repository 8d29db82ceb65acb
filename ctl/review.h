#pragma once
/* custodyctl's rendering of the `review` and `report` answers (docs/review-format.md) for
 * people (text) and spreadsheets (CSV).  ctl/review.c; no socket, no libuv: each
 * function only formats an object it is given, writing to a stdio stream owned by the caller.
 * The HTML page of a review is ctl/html.c (ctl_review_html(), declared in ctl/html.h,
 * included here so that custodyctl needs one header for the three forms). */

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl/html.h"

/** A deep copy of @v for printing on a terminal: every string through utf8_for_terminal(),
 * so that names an uploader chose can neither move the cursor nor end a line.  NULL (said on
 * stderr) when out of memory.  The caller owns it. */
json_t *ctl_terminal_copy(const json_t *v);

/** Print @review (the daemon's answer) for a person on @out: the case, per device its clips in
 * recording order with storage status and integrity, the gaps between them with their
 * explanations, the open items, who accessed the clips, and the verdict line last.  Every
 * string is printed through utf8_for_terminal() (control characters, bidi overrides and
 * invalid UTF-8 as visible escapes), so that none can end a line or move the cursor.
 * @return 0 when the review says complete, 1 when anything is open, 2 when out of memory
 * (said on stderr). */
int ctl_review_print(const json_t *review, FILE *out);

/** Print @report for a person on @out: the period, the totals, a table per device and per
 * officer, the open items (only the summary and the open items when @open_only); strings as
 * ctl_review_print() prints them. */
void ctl_report_print(const json_t *report, bool open_only, FILE *out);

/** Write @report as CSV (RFC 4180, CRLF-free: one "\n" per row) on @out: a header, then one
 * row for the totals, one per device, one per officer:
 * from,to,scope,name,clips,seconds,on_time,…,refused (the counters of docs/review-format.md).
 * A name that a spreadsheet would take for a formula (starting with = + - @ or a tab) is
 * written with a leading apostrophe. */
void ctl_report_csv(const json_t *report, FILE *out);

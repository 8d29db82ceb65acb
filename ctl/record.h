#pragma once
/* custodyctl review CASE --html/--pdf FILE and history N --html/--pdf FILE (docs/pages.md): the
 * review and a clip's chain of custody (docs/review-format.md) as printable records, an HTML
 * page and a PDF with the same content.  ctl/record.c builds one page model (ctl/doc.h) from
 * the daemon's answer and what custodyctl established (struct ctl_page_ctx, ctl/page.h);
 * ctl/html.c and ctl/pdf.c paint it.  No socket, no libuv: it only formats what it is given.
 * Labels follow the locale (gettext: call i18n_init() first), times are shown in @ctx->tz.
 * Any thread may call these for different files (no shared state; gettext only reads). */

#include <jansson.h>

struct ctl_doc;
struct ctl_page_ctx;
struct err_detail;

enum ctl_page_format { CTL_PAGE_HTML, CTL_PAGE_PDF };

/** Write the review @review (the daemon's answer without ok/id) to @path as a record in format
 * @f, with the checkpoint, key and zone of @ctx (NULL: UTC, checkpoint not checked).  Any
 * review renders, however incomplete or odd its fields; only the file can fail.  The record is
 * written to a temporary file in @path's folder, fsynced, made mode 0640, renamed over @path,
 * and the folder fsynced: @path holds the old file or the whole new one.  Everything stays the
 * caller's.  @return 0, or a negative errno (text in @reterr): -EINVAL (@review not an object,
 * @path names no file, @f unknown), -ENOMEM, -EIO (cairo could not draw the PDF), or what
 * creating, writing, syncing or renaming the file returned (-EACCES, -ENOENT, -ENOSPC…). */
int ctl_review_page(const json_t *review, const struct ctl_page_ctx *ctx, enum ctl_page_format f,
		    const char *path, struct err_detail *reterr);

/** The same for the answer of `history` (docs/review-format.md), whose events may carry
 * "client": {"proof": "verified"|"failed"|"pending"|"unchecked", "message"} that custodyctl's
 * check (ctl/check.h) sets on each event: an event without it is shown as not checked. */
int ctl_history_page(const json_t *history, const struct ctl_page_ctx *ctx, enum ctl_page_format f,
		     const char *path, struct err_detail *reterr);

/** The page models themselves, for tests: *@ret is the caller's (ctl_doc_free()).
 * @return 0, -EINVAL (not an object), -ENOMEM. */
int ctl_review_doc(const json_t *review, const struct ctl_page_ctx *ctx, struct ctl_doc **ret);
int ctl_history_doc(const json_t *history, const struct ctl_page_ctx *ctx, struct ctl_doc **ret);

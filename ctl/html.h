#pragma once
/* custodyctl review CASE --html FILE: the review (docs/review-format.md) as one self-contained
 * HTML page.  ctl/html.c; no libuv, no socket: it only formats a reply it is given. */

#include <jansson.h>

struct err_detail;

/** Write the review object @review (as the daemon answers it, without ok/id) to @path as one
 * HTML5 page: no scripts and nothing loaded from elsewhere (inline CSS and SVG), every string of
 * the review HTML-escaped.  Any review renders, however incomplete or odd its fields; only the
 * file can fail.  The page is written to a temporary file in @path's folder, fsynced, made mode
 * 0640, renamed over @path, and the folder fsynced: @path holds the old page or the whole new one.
 * @review and @path stay owned by the caller.  Any thread (no shared state).
 * @return 0, or a negative errno (text in @reterr): -EINVAL (@review not an object or @path
 * names no file), or what creating, writing, syncing or renaming the file returned
 * (-EACCES, -ENOENT, -ENOSPC, -EIO, -EISDIR…). */
int ctl_review_html(const json_t *review, const char *path, struct err_detail *reterr);

#pragma once
/* The HTML form of a record (docs/pages.md): a page model (ctl/doc.h) as one self-contained
 * HTML5 page, for the screen and for printing on A4.  ctl/html.c; no libuv, no socket: it only
 * formats what it is given.  Any thread (no shared state). */

#include <stdio.h>

#include <jansson.h>

struct ctl_doc;
struct err_detail;

/** Write @d to @out as one HTML5 page: no scripts and nothing loaded from elsewhere (inline
 * CSS and SVG, a Content-Security-Policy that forbids both), every string escaped, `lang` from
 * the document.  Printed, each A4 page carries the document's running header and "page x of y"
 * (CSS page margin boxes).  @return 0, or -EIO when @out reports an error (text in @reterr). */
int ctl_html_write(const struct ctl_doc *d, FILE *out, struct err_detail *reterr);

/** custodyctl review CASE --html FILE as it was before records had a context: the review
 * @review written to @path with times in UTC and the checkpoint shown as not checked.
 * ctl_review_page() (ctl/record.h) with a NULL context and CTL_PAGE_HTML; same returns. */
int ctl_review_html(const json_t *review, const char *path, struct err_detail *reterr);

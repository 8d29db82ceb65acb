#pragma once
/* The PDF form of a record (docs/pages.md): a page model (ctl/doc.h) drawn with cairo and
 * pango on A4 portrait pages, without a browser.  Fonts come from fontconfig: "Noto Sans CJK
 * SC" first (Debian fonts-noto-cjk), so Chinese shows, then DejaVu Sans; cairo embeds the
 * subsets it uses.  ctl/pdf.c; no libuv, no socket.  Any thread: each call builds its own font
 * map and context (no shared state). */

#include <stdio.h>

struct ctl_doc;
struct err_detail;

/** Draw @d as a PDF onto @out: the same blocks as the HTML page, every page with the running
 * header (@d->running, @d->running_right) and the footer (@d->footer, "page x of y" from
 * @d->page_of), counted in a first pass.  @return 0, -ENOMEM, or -EIO when cairo fails or
 * writing to @out fails (text in @reterr). */
int ctl_pdf_write(const struct ctl_doc *d, FILE *out, struct err_detail *reterr);

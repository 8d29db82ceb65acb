/* ctl/html.c: a record (ctl/doc.h) as one self-contained HTML page, to read on screen or to
 * print on A4 (docs/pages.md).
 *
 * DESIGN
 * - Self-contained: one file, inline CSS and the timelines' inline SVG (ctl/timeline.h), no
 *   script, nothing loaded from elsewhere; a Content-Security-Policy meta forbids both, so that
 *   even a mistake in the escaping below could not run anything.  The page is also well-formed
 *   XML (polyglot HTML5: every element closed, only numeric or the five XML character
 *   references), so `xmllint` can check it.
 * - The model's text is already safe Unicode (ctl/doc.c); put_text() escapes & < > " ' for
 *   text and attributes alike, put_css_string() escapes the running header for CSS strings
 *   (the case id is the user's).
 * - Print: A4 portrait, the running header and "page x of y" in the page margin boxes
 *   (@page @top-left… with counter(page) and counter(pages)), tables that keep a row with its
 *   detail line, headings with what follows, the form on one page; devices flow on, never a
 *   forced page break.  Status words are framed and weighted so that a greyscale printout keeps
 *   them apart; `print-color-adjust: exact` keeps the fills.
 * - Fonts: a stack with the common CJK fonts before the Latin fallbacks, so that a server with
 *   only fonts-noto-cjk shows Chinese, and Noto Sans CJK SC first, as in the PDF.
 * Any thread: no state outside the call. */
#include "ctl/html.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/utf8.h"
#include "ctl/doc.h"
#include "ctl/record.h"
#include "ctl/timeline.h"

#define CTL_HTML_WIDTH_MM 182.0 /* A4's 210 mm less two margins of 14 mm */

static void put_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* @s as a CSS string: ASCII other than letters, digits and a few harmless signs as hex
 * escapes, so that nothing can end the string, the rule or the <style> element. */
static void put_css_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr(" .,:;-_()+#/", c))
			fputc(c, f);
		else
			fprintf(f, "\\%x ", c);
	}
	fputc('"', f);
}

static const char *tone_class(enum ctl_tone t)
{
	static const char *const names[] = { "", " ok", " note", " warn", " bad" };

	return t <= CTL_TONE_BAD ? names[t] : "";
}

static void put_run(FILE *f, const struct ctl_run *r)
{
	if (r->flags & CTL_RUN_BADGE)
		fprintf(f, "<span class=\"b%s\">", tone_class(r->tone));
	if (r->flags & CTL_RUN_BOLD)
		fputs("<b>", f);
	if (r->flags & CTL_RUN_MONO)
		fputs("<code>", f);
	put_text(f, r->text);
	if (r->flags & CTL_RUN_MONO)
		fputs("</code>", f);
	if (r->flags & CTL_RUN_BOLD)
		fputs("</b>", f);
	if (r->flags & CTL_RUN_BADGE)
		fputs("</span>", f);
}

static void put_runs(FILE *f, const struct ctl_para *p)
{
	for (size_t i = 0; i < p->n; i++)
		put_run(f, &p->runs[i]);
}

/* @tag ("p" or "div") per paragraph, with the classes of its flags. */
static void put_cell(FILE *f, const struct ctl_cell *c, const char *tag)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct ctl_para *p = &c->paras[i];

		fprintf(f, "<%s class=\"l%s%s%s\">", tag, p->flags & CTL_PARA_SMALL ? " s" : "",
			p->flags & CTL_PARA_BULLET ? " li" : "",
			p->flags & CTL_PARA_LARGE ? " big" : "");
		put_runs(f, p);
		fprintf(f, "</%s>", tag);
	}
}

static void put_table(FILE *f, const struct ctl_table *t)
{
	fprintf(f, "<table class=\"%s\"><colgroup>", t->kv ? "kv" : "t");
	for (size_t i = 0; i < t->ncols; i++)
		fprintf(f, "<col style=\"width:%.1f%%\"/>", t->widths[i] * 100);
	fputs("</colgroup>", f);
	if (t->head) {
		fputs("<thead><tr>", f);
		for (size_t i = 0; i < t->ncols; i++) {
			fputs("<th>", f);
			put_cell(f, &t->head[i], "div");
			fputs("</th>", f);
		}
		fputs("</tr></thead>", f);
	}
	fputc('\n', f);
	/* One tbody per row and its detail line, so that printing keeps them together. */
	for (size_t r = 0; r < t->nrows; r++) {
		const struct ctl_row *row = &t->rows[r];

		fprintf(f, "<tbody class=\"row%s\"><tr>", tone_class(row->tone));
		for (size_t i = 0; i < t->ncols; i++) {
			if (i == 0 && row->anchor) {
				fputs("<td id=\"", f);
				put_text(f, row->anchor);
				fputs("\">", f);
			} else {
				fputs(i == 0 && t->kv ? "<th scope=\"row\">" : "<td>", f);
			}
			put_cell(f, &row->cells[i], "div");
			fputs(i == 0 && t->kv && !row->anchor ? "</th>" : "</td>", f);
		}
		fputs("</tr>", f);
		if (row->detail.n) {
			fprintf(f, "<tr class=\"detail\"><td colspan=\"%zu\">", t->ncols);
			put_cell(f, &row->detail, "div");
			fputs("</td></tr>", f);
		}
		fputs("</tbody>\n", f);
	}
	fputs("</table>\n", f);
}

static void put_form(FILE *f, const struct ctl_block *b)
{
	fputs("<section class=\"form\">", f);
	for (size_t i = 0; i < b->nfields; i++) {
		fputs("<div class=\"field\"><div class=\"label\">", f);
		put_text(f, b->fields[i].label);
		fputs("</div>", f);
		for (unsigned k = 0; k < b->fields[i].lines; k++)
			fputs("<div class=\"line\"></div>", f);
		fputs("</div>", f);
	}
	fputs("</section>\n", f);
}

/* One <svg> per row of the timeline, so that printing may break a tall one between rows. */
static int put_timeline(FILE *f, const struct ctl_doc *d, const json_t *device)
{
	struct tl_layout *l = NULL;
	int r = tl_build(device, d->tz, CTL_HTML_WIDTH_MM, &l);

	if (r < 0)
		return r == -ENOMEM ? r : 0; /* nothing to draw: the table lists the clips */
	fputs("<figure class=\"timeline\">", f);
	for (unsigned row = 0; row < tl_rows(l) && r >= 0; row++)
		r = tl_svg_rows(l, row, row + 1, f);
	fputs("</figure>\n", f);
	tl_free(l);
	return r;
}

static int put_block(FILE *f, const struct ctl_doc *d, const struct ctl_block *b)
{
	switch (b->kind) {
	case CTL_BLOCK_HEADING:
		fprintf(f, "<h%u", b->level);
		if (b->id) {
			fputs(" id=\"", f);
			put_text(f, b->id);
			fputc('"', f);
		}
		fputc('>', f);
		for (size_t i = 0; i < b->text.n; i++)
			put_runs(f, &b->text.paras[i]);
		fprintf(f, "</h%u>\n", b->level);
		break;
	case CTL_BLOCK_TEXT:
		put_cell(f, &b->text, "p");
		fputc('\n', f);
		break;
	case CTL_BLOCK_BOX:
		fprintf(f, "<section class=\"box%s\">", tone_class(b->tone));
		put_cell(f, &b->text, "p");
		fputs("</section>\n", f);
		break;
	case CTL_BLOCK_TABLE:
		put_table(f, &b->table);
		break;
	case CTL_BLOCK_TIMELINE:
		return put_timeline(f, d, b->device);
	case CTL_BLOCK_LEGEND: {
		int r;

		fputs("<figure class=\"legend\">", f);
		r = tl_legend_svg(CTL_HTML_WIDTH_MM, f);
		fputs("</figure>\n", f);
		return r;
	}
	case CTL_BLOCK_FORM:
		put_form(f, b);
		break;
	}
	return 0;
}

#define FONTS                                                                                      \
	"'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','Source Han Sans CN',"             \
	"'WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC','Hiragino Sans GB','DejaVu Sans',"  \
	"Arial,sans-serif"
#define MONO "'DejaVu Sans Mono','Noto Sans Mono CJK SC','Liberation Mono',monospace"

static const char css[] =
    "*{box-sizing:border-box}"
    "html{font-family:" FONTS ";color:#000;background:#fff}"
    "body{margin:0 auto;padding:10mm 0;width:182mm;font-size:9.5pt;line-height:1.35}"
    "h1{font-size:17pt;margin:0 0 3mm}"
    "h2{font-size:12.5pt;margin:6mm 0 2mm;border-bottom:1.5pt solid #000;"
    "break-after:avoid}"
    "h3{font-size:10.5pt;margin:4mm 0 1.5mm;break-after:avoid}"
    "p{margin:1mm 0}"
    "code{font-family:" MONO ";font-size:.92em;overflow-wrap:anywhere}"
    ".l{margin:0}.s{font-size:.85em}.li{padding-left:1.2em;text-indent:-.8em}"
    ".li::before{content:'• '}.big{font-size:14pt;font-weight:bold;letter-spacing:.03em}"
    ".b{display:inline-block;border:1px solid #000;border-radius:2px;padding:0 .3em;"
    "font-size:.9em;line-height:1.25;text-indent:0}"
    ".b.ok{background:#dcefdc}.b.note{border-style:dashed;background:#fff}"
    ".b.warn{background:#fbe6bd;border:3px double #000}"
    ".b.bad{background:#f5c2c2;border-width:2px;font-weight:bold}"
    ".box{border:2px solid #000;padding:2mm 3mm;margin:2mm 0;break-inside:avoid}"
    ".box.ok{background:#eef7ee}.box.warn{border:3px dashed #000;background:#fff7e6}"
    ".box.bad{border:5px double #000;background:#fdeaea}"
    "table{border-collapse:collapse;width:100%;table-layout:fixed;margin:1mm 0 3mm;"
    "font-size:8pt}"
    "th,td{border:.6pt solid #444;padding:.8mm 1.2mm;vertical-align:top;text-align:left;"
    "overflow-wrap:break-word;word-break:normal;white-space:pre-wrap}"
    "thead th{background:#e6e6e6;font-weight:bold}thead{display:table-header-group}"
    "table.kv th{background:#f0f0f0;font-weight:bold;width:26%}"
    "tbody.row{break-inside:avoid}"
    "tbody.bad>tr:first-child>td:first-child{border-left:3.5pt solid #000;font-weight:bold}"
    "tr.detail td{border-top:none;background:#fafafa;padding-left:4mm}"
    "figure{margin:1mm 0 2mm}figure svg{display:block;max-width:100%;height:auto;"
    "break-inside:avoid}figure.legend{break-inside:avoid;break-after:avoid}"
    ".form{break-inside:avoid;margin-top:2mm}.field{margin:0 0 3mm}"
    ".label{font-weight:bold}.line{border-bottom:.8pt solid #000;height:8mm}"
    "@media screen{body{padding:10mm 8mm;width:198mm}}"
    "@media print{*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{width:auto;padding:0}}";

static void put_page_rule(FILE *f, const struct ctl_doc *d)
{
	const char *fmt = d->page_of ? d->page_of : "page %u of %u";
	const char *a = strstr(fmt, "%u"), *b = a ? strstr(a + 2, "%u") : NULL;
	char part[3][128];

	/* A translation that does not keep both %u in order falls back to English. */
	if (!a || !b || strstr(b + 2, "%") || (size_t)(b - a) > sizeof(part[0]) ||
	    (size_t)(a - fmt) >= sizeof(part[0]) || strlen(b + 2) >= sizeof(part[0])) {
		fmt = "page %u of %u";
		a = fmt + 5;
		b = fmt + 11;
	}
	snprintf(part[0], sizeof(part[0]), "%.*s", (int)(a - fmt), fmt);
	snprintf(part[1], sizeof(part[1]), "%.*s", (int)(b - a - 2), a + 2);
	snprintf(part[2], sizeof(part[2]), "%s", b + 2);
	fputs("@page{size:A4 portrait;margin:16mm 14mm 15mm;"
	      "@top-left{content:",
	      f);
	put_css_string(f, d->running);
	fputs(";font:bold 8pt " FONTS ";vertical-align:bottom}@top-right{content:", f);
	put_css_string(f, d->running_right);
	fputs(";font:8pt " FONTS ";vertical-align:bottom}@bottom-left{content:", f);
	put_css_string(f, d->footer);
	fputs(";font:7.5pt " FONTS ";vertical-align:top}@bottom-right{content:", f);
	put_css_string(f, part[0]);
	fputs(" counter(page) ", f);
	put_css_string(f, part[1]);
	fputs(" counter(pages) ", f);
	put_css_string(f, part[2]);
	fputs(";font:8pt " FONTS ";vertical-align:top}}", f);
}

int ctl_html_write(const struct ctl_doc *d, FILE *f, struct err_detail *reterr)
{
	int r = 0;

	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"", f);
	put_text(f, d->lang && *d->lang ? d->lang : "en");
	fputs("\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<meta name=\"generator\" content=\"custodyctl\"/>\n<title>",
	      f);
	put_text(f, d->title);
	fputs("</title>\n<style>", f);
	fputs(css, f);
	put_page_rule(f, d);
	fputs("</style>\n</head>\n<body>\n", f);
	for (size_t i = 0; i < d->n && r >= 0; i++)
		r = put_block(f, d, &d->blocks[i]);
	fputs("</body>\n</html>\n", f);
	if (r == -ENOMEM)
		return err_set(reterr, r, "out of memory while drawing a timeline");
	if (r < 0 || ferror(f))
		return err_set(reterr, -EIO, "write: %s", strerror(errno ? errno : EIO));
	return 0;
}

int ctl_review_html(const json_t *review, const char *path, struct err_detail *reterr)
{
	return ctl_review_page(review, NULL, CTL_PAGE_HTML, path, reterr);
}

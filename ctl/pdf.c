/* ctl/pdf.c: a record (ctl/doc.h) as a PDF drawn with cairo and pango (docs/pages.md).
 *
 * DESIGN
 * - The same blocks as the HTML page, laid out here on A4 portrait: headings kept with what
 *   follows, a table row kept with its detail line and the table's header repeated on a new
 *   page, boxes that may run over pages (a frame per page), the form on one page, the legend
 *   with the first timeline; devices flow on without forced page breaks.
 * - Two passes over the same code: the first only measures, to count the pages, the second
 *   draws with "page x of y" known.  Both lay text out with the same pango context, whose
 *   metrics are unhinted at 72 dpi, so one unit is one point and the passes agree.
 * - Status words are framed as on the HTML page, each tone with its own border (thin, dashed,
 *   double, heavy), so a greyscale printout keeps them apart; a framed phrase that wraps gets a
 *   frame on each line.  Text wraps at words, and inside a word only when the word alone is
 *   wider than its column (a file name), never a status word: the columns are wide enough.
 * - Fonts through fontconfig, "Noto Sans CJK SC" first (covering Latin and Chinese alike),
 *   DejaVu as the fallback; cairo embeds a subset of every font it uses.
 * Any thread: a font map and a context per call. */
#include "ctl/pdf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "base/err.h"
#include "ctl/doc.h"
#include "ctl/timeline.h"

#define PT_MM (72.0 / 25.4)
#define PAGE_W (210.0 * PT_MM)
#define PAGE_H (297.0 * PT_MM)
#define MARGIN_X (14.0 * PT_MM)
#define TOP (18.0 * PT_MM)
#define BOTTOM (PAGE_H - 16.0 * PT_MM)
#define WIDTH (PAGE_W - 2 * MARGIN_X) /* 182 mm */
#define WIDTH_MM 182.0

#define FONT "Noto Sans CJK SC,DejaVu Sans,sans-serif"
#define FONT_MONO "DejaVu Sans Mono,Noto Sans Mono CJK SC,monospace"
#define SIZE_TEXT 9.5
#define SIZE_TABLE 8.0
#define PAD 2.4		/* inside a table cell */
#define PARA_GAP 1.2	/* between the paragraphs of a cell */
#define FIELD_LINE 22.0 /* a blank line of the form */

struct pdf {
	const struct ctl_doc *d;
	PangoContext *pc;
	cairo_t *cr;	/* NULL in the counting pass */
	unsigned page;	/* 1-based, the page being filled */
	unsigned pages; /* from the counting pass */
	double y;
	bool failed; /* out of memory */
};

struct badge {
	int s, e; /* byte range in the layout's text */
	enum ctl_tone tone;
};

/* One paragraph laid out. */
struct play {
	PangoLayout *l;
	struct badge *b;
	size_t nb;
	double h, indent;
	bool bullet;
};

struct cell_lay {
	struct play *p;
	size_t n;
	double h;
};

/* ---- text ------------------------------------------------------------------------------------ */

static void tone_fill(enum ctl_tone t, double *r, double *g, double *b)
{
	switch (t) {
	case CTL_TONE_OK:
		*r = 0xdc / 255.0, *g = 0xef / 255.0, *b = 0xdc / 255.0;
		break;
	case CTL_TONE_WARN:
		*r = 0xfb / 255.0, *g = 0xe6 / 255.0, *b = 0xbd / 255.0;
		break;
	case CTL_TONE_BAD:
		*r = 0xf5 / 255.0, *g = 0xc2 / 255.0, *b = 0xc2 / 255.0;
		break;
	default:
		*r = *g = *b = 1;
	}
}

/* The frame of a status word or a box in tone @t around x, y, w, h. */
static void frame(cairo_t *cr, enum ctl_tone t, double x, double y, double w, double h, double k)
{
	double r, g, b;

	tone_fill(t, &r, &g, &b);
	cairo_save(cr);
	cairo_set_source_rgb(cr, r, g, b);
	cairo_rectangle(cr, x, y, w, h);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	switch (t) {
	case CTL_TONE_NOTE: {
		static const double dash[] = { 1.6, 1.2 };

		cairo_set_dash(cr, dash, 2, 0);
		cairo_set_line_width(cr, 0.6 * k);
		cairo_rectangle(cr, x, y, w, h);
		cairo_stroke(cr);
		break;
	}
	case CTL_TONE_WARN:
		cairo_set_line_width(cr, 0.45 * k);
		cairo_rectangle(cr, x, y, w, h);
		cairo_stroke(cr);
		cairo_rectangle(cr, x + 1.1 * k, y + 1.1 * k, w - 2.2 * k, h - 2.2 * k);
		cairo_stroke(cr);
		break;
	case CTL_TONE_BAD:
		cairo_set_line_width(cr, 1.5 * k);
		cairo_rectangle(cr, x, y, w, h);
		cairo_stroke(cr);
		break;
	default:
		cairo_set_line_width(cr, 0.6 * k);
		cairo_rectangle(cr, x, y, w, h);
		cairo_stroke(cr);
	}
	cairo_restore(cr);
}

static void add_attr(PangoAttrList *al, PangoAttribute *a, size_t s, size_t e)
{
	a->start_index = (guint)s;
	a->end_index = (guint)e;
	pango_attr_list_insert(al, a);
}

/* Append @s to @buf (at *@len of *@cap). */
static bool append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t need = strlen(s) * 2 + 8;

	if (*len + need >= *cap) {
		size_t nc = (*cap + need) * 2;
		char *nb = realloc(*buf, nc);

		if (!nb)
			return false;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, s, strlen(s) + 1);
	*len += strlen(s);
	return true;
}

/* Lay out @para in @width points at @size points.  False when out of memory. */
static bool play_build(struct pdf *p, const struct ctl_para *para, double width, double size,
		       struct play *ret)
{
	PangoFontDescription *fd;
	PangoAttrList *al;
	char *text = NULL;
	size_t len = 0, cap = 0, nb = 0;
	double indent = para->flags & CTL_PARA_BULLET ? size * 1.1 : 0;

	*ret = (struct play){ .indent = indent, .bullet = para->flags & CTL_PARA_BULLET };
	if (para->flags & CTL_PARA_SMALL)
		size *= 0.86;
	if (para->flags & CTL_PARA_LARGE)
		size = 14;
	for (size_t i = 0; i < para->n; i++)
		nb += (para->runs[i].flags & CTL_RUN_BADGE) != 0;
	ret->b = calloc(nb ? nb : 1, sizeof(*ret->b));
	al = pango_attr_list_new();
	if (!ret->b || !append(&text, &len, &cap, ""))
		goto oom;
	for (size_t i = 0; i < para->n; i++) {
		const struct ctl_run *r = &para->runs[i];
		bool badge = r->flags & CTL_RUN_BADGE;
		size_t s = len;

		/* Thin spaces inside the frame keep the word off its border. */
		if ((badge && !append(&text, &len, &cap, "\xe2\x80\x89")) ||
		    !append(&text, &len, &cap, r->text) ||
		    (badge && !append(&text, &len, &cap, "\xe2\x80\x89")))
			goto oom;
		if ((r->flags & CTL_RUN_BOLD) || (badge && r->tone == CTL_TONE_BAD) ||
		    (para->flags & CTL_PARA_LARGE))
			add_attr(al, pango_attr_weight_new(PANGO_WEIGHT_BOLD), s, len);
		if (r->flags & CTL_RUN_MONO) {
			add_attr(al, pango_attr_family_new(FONT_MONO), s, len);
			add_attr(al, pango_attr_size_new((int)(size * 0.92 * PANGO_SCALE)), s, len);
		}
		if (badge) {
			add_attr(al, pango_attr_size_new((int)(size * 0.92 * PANGO_SCALE)), s, len);
			ret->b[ret->nb++] = (struct badge){ (int)s, (int)len, r->tone };
		}
	}
	ret->l = pango_layout_new(p->pc);
	fd = pango_font_description_from_string(FONT);
	pango_font_description_set_size(fd, (int)(size * PANGO_SCALE));
	pango_layout_set_font_description(ret->l, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(ret->l, (int)((width - indent) * PANGO_SCALE));
	pango_layout_set_wrap(ret->l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(ret->l, text, (int)len);
	pango_layout_set_attributes(ret->l, al);
	pango_attr_list_unref(al);
	free(text);
	{
		int w, h;

		pango_layout_get_size(ret->l, &w, &h);
		ret->h = (double)h / PANGO_SCALE;
	}
	return true;

oom:
	pango_attr_list_unref(al);
	free(text);
	free(ret->b);
	ret->b = NULL;
	p->failed = true;
	return false;
}

static void play_done(struct play *pl)
{
	if (pl->l)
		g_object_unref(pl->l);
	free(pl->b);
	*pl = (struct play){ 0 };
}

static void play_draw(struct pdf *p, const struct play *pl, double x, double y)
{
	cairo_t *cr = p->cr;

	if (!cr || !pl->l)
		return;
	/* Frames first, under the words: one per line a framed word runs over. */
	for (size_t i = 0; i < pl->nb; i++) {
		PangoLayoutIter *it = pango_layout_get_iter(pl->l);
		const char *t = pango_layout_get_text(pl->l);

		do {
			PangoLayoutLine *line = pango_layout_iter_get_line_readonly(it);
			int s = pl->b[i].s > line->start_index ? pl->b[i].s : line->start_index;
			int e = pl->b[i].e < line->start_index + line->length
				    ? pl->b[i].e
				    : line->start_index + line->length;
			PangoRectangle lr;
			int x0, x1, last = e;

			if (s >= e)
				continue;
			/* The last character's start: back over UTF-8 continuation bytes. */
			do
				last--;
			while (last > s && ((unsigned char)t[last] & 0xc0) == 0x80);
			pango_layout_iter_get_line_extents(it, NULL, &lr);
			pango_layout_line_index_to_x(line, s, 0, &x0);
			pango_layout_line_index_to_x(line, last, 1, &x1);
			frame(cr, pl->b[i].tone, x + pl->indent + (double)(lr.x + x0) / PANGO_SCALE,
			      y + (double)lr.y / PANGO_SCALE + 0.6, (double)(x1 - x0) / PANGO_SCALE,
			      (double)lr.height / PANGO_SCALE - 1.2, 0.8);
		} while (pango_layout_iter_next_line(it));
		pango_layout_iter_free(it);
	}
	cairo_set_source_rgb(cr, 0, 0, 0);
	if (pl->bullet) {
		PangoRectangle first;

		/* A dot at the middle of the first line. */
		pango_layout_index_to_pos(pl->l, 0, &first);
		cairo_new_path(cr);
		cairo_arc(cr, x + pl->indent * 0.35,
			  y + (double)first.y / PANGO_SCALE +
			      (double)first.height / PANGO_SCALE / 2,
			  1.3, 0, 6.2832);
		cairo_fill(cr);
	}
	cairo_move_to(cr, x + pl->indent, y);
	pango_cairo_show_layout(cr, pl->l);
}

static bool cell_build(struct pdf *p, const struct ctl_cell *c, double width, double size,
		       struct cell_lay *ret)
{
	*ret = (struct cell_lay){ 0 };
	if (!c->n)
		return true;
	ret->p = calloc(c->n, sizeof(*ret->p));
	if (!ret->p) {
		p->failed = true;
		return false;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!play_build(p, &c->paras[i], width, size, &ret->p[i]))
			return false;
		ret->n++;
		ret->h += ret->p[i].h + (i ? PARA_GAP : 0);
	}
	return true;
}

static void cell_done(struct cell_lay *cl)
{
	for (size_t i = 0; i < cl->n; i++)
		play_done(&cl->p[i]);
	free(cl->p);
	*cl = (struct cell_lay){ 0 };
}

static void cell_draw(struct pdf *p, const struct cell_lay *cl, double x, double y)
{
	for (size_t i = 0; i < cl->n; i++) {
		play_draw(p, &cl->p[i], x, y);
		y += cl->p[i].h + PARA_GAP;
	}
}

/* One line of text at @x, @y (top), @size points, within @maxw (ended with "…" when longer);
 * right-aligned to @x when @right. */
static void label(struct pdf *p, const char *s, double x, double y, double size, bool bold,
		  bool right, double maxw)
{
	struct ctl_run run = { .text = (char *)(s ? s : ""), .flags = bold ? CTL_RUN_BOLD : 0 };
	struct ctl_para para = { .runs = &run, .n = 1 };
	struct play pl;

	if (!p->cr || !play_build(p, &para, maxw, size, &pl))
		return;
	pango_layout_set_ellipsize(pl.l, PANGO_ELLIPSIZE_END);
	if (right) {
		pango_layout_set_alignment(pl.l, PANGO_ALIGN_RIGHT);
		x -= maxw;
	}
	play_draw(p, &pl, x, y);
	play_done(&pl);
}

/* ---- pages ----------------------------------------------------------------------------------- */

static void page_furniture(struct pdf *p)
{
	char n[96];
	const char *fmt = p->d->page_of ? p->d->page_of : "page %u of %u";
	const char *a = strstr(fmt, "%u"), *b = a ? strstr(a + 2, "%u") : NULL;

	if (!p->cr)
		return;
	/* A translation that does not keep both %u, and nothing else, falls back to English. */
	if (!a || !b || strchr(b + 2, '%') || (strchr(fmt, '%') != a))
		fmt = "page %u of %u";
	snprintf(n, sizeof(n), fmt, p->page, p->pages);
	label(p, p->d->running, MARGIN_X, TOP - 9.5 * PT_MM, 8, true, false, WIDTH * 0.62);
	label(p, p->d->running_right, MARGIN_X + WIDTH, TOP - 9.5 * PT_MM, 8, false, true,
	      WIDTH * 0.36);
	cairo_set_source_rgb(p->cr, 0, 0, 0);
	cairo_set_line_width(p->cr, 0.5);
	cairo_move_to(p->cr, MARGIN_X, TOP - 4.5 * PT_MM);
	cairo_line_to(p->cr, MARGIN_X + WIDTH, TOP - 4.5 * PT_MM);
	cairo_stroke(p->cr);
	cairo_move_to(p->cr, MARGIN_X, BOTTOM + 4 * PT_MM);
	cairo_line_to(p->cr, MARGIN_X + WIDTH, BOTTOM + 4 * PT_MM);
	cairo_stroke(p->cr);
	label(p, p->d->footer, MARGIN_X, BOTTOM + 5.5 * PT_MM, 7.5, false, false, WIDTH * 0.72);
	label(p, n, MARGIN_X + WIDTH, BOTTOM + 5.5 * PT_MM, 8, true, true, WIDTH * 0.26);
}

static void new_page(struct pdf *p)
{
	if (p->cr && p->page)
		cairo_show_page(p->cr);
	p->page++;
	p->y = TOP;
	page_furniture(p);
}

/* Room for @h points, else the next page (unless this page is still empty). */
static void need(struct pdf *p, double h)
{
	if (p->y + h > BOTTOM && p->y > TOP + 0.5)
		new_page(p);
}

/* ---- blocks ---------------------------------------------------------------------------------- */

static void put_heading(struct pdf *p, const struct ctl_block *b, double next)
{
	static const double sizes[] = { 17, 12.5, 10.5 };
	double size = sizes[b->level - 1], before = b->level == 1 ? 0 : b->level == 2 ? 14 : 8;
	struct cell_lay cl;
	struct ctl_para *para = b->text.n ? &b->text.paras[0] : NULL;
	struct ctl_run bold[8];
	struct ctl_para bp;
	size_t n;

	if (!para)
		return;
	/* Headings are bold whatever their runs say. */
	n = para->n < 8 ? para->n : 8;
	for (size_t i = 0; i < n; i++) {
		bold[i] = para->runs[i];
		bold[i].flags |= CTL_RUN_BOLD;
	}
	bp = (struct ctl_para){ .runs = bold, .n = n };
	if (!cell_build(p, &(struct ctl_cell){ .paras = &bp, .n = 1 }, WIDTH, size, &cl))
		return;
	if (p->y > TOP + 0.5)
		p->y += before;
	need(p, cl.h + 4 + next);
	cell_draw(p, &cl, MARGIN_X, p->y);
	p->y += cl.h + 1.5;
	if (b->level == 2 && p->cr) {
		cairo_set_source_rgb(p->cr, 0, 0, 0);
		cairo_set_line_width(p->cr, 1.2);
		cairo_move_to(p->cr, MARGIN_X, p->y);
		cairo_line_to(p->cr, MARGIN_X + WIDTH, p->y);
		cairo_stroke(p->cr);
	}
	p->y += b->level == 1 ? 6 : 4;
	cell_done(&cl);
}

static void put_text_block(struct pdf *p, const struct ctl_block *b)
{
	for (size_t i = 0; i < b->text.n; i++) {
		struct play pl;

		if (!play_build(p, &b->text.paras[i], WIDTH, SIZE_TEXT, &pl))
			return;
		need(p, pl.h);
		play_draw(p, &pl, MARGIN_X, p->y);
		p->y += pl.h + 3;
		play_done(&pl);
	}
}

/* A box may be longer than a page: its paragraphs are laid out first, then drawn a page at a
 * time, each page's part in its own frame. */
static void put_box(struct pdf *p, const struct ctl_block *b)
{
	const double pad = 7, inner = WIDTH - 2 * pad, k = b->tone == CTL_TONE_BAD ? 2.2 : 2.4;
	struct play *pl = calloc(b->text.n ? b->text.n : 1, sizeof(*pl));
	size_t i = 0;

	if (!pl) {
		p->failed = true;
		return;
	}
	for (size_t j = 0; j < b->text.n; j++)
		if (!play_build(p, &b->text.paras[j], inner, SIZE_TEXT, &pl[j]))
			goto out;
	p->y += 3;
	need(p, (b->text.n ? pl[0].h : 0) + 2 * pad);
	while (i < b->text.n) {
		double h = 2 * pad;
		size_t end = i;

		/* As many paragraphs as fit on this page, at least one. */
		while (end < b->text.n && (end == i || p->y + h + pl[end].h + 2.5 <= BOTTOM))
			h += pl[end++].h + 2.5;
		h -= 2.5;
		if (p->cr)
			frame(p->cr, b->tone, MARGIN_X, p->y, WIDTH, h, k);
		p->y += pad;
		for (size_t j = i; j < end; j++) {
			play_draw(p, &pl[j], MARGIN_X + pad, p->y);
			p->y += pl[j].h + 2.5;
		}
		p->y += pad - 2.5;
		i = end;
		if (i < b->text.n)
			new_page(p);
	}
	p->y += 5;
out:
	for (size_t j = 0; j < b->text.n; j++)
		play_done(&pl[j]);
	free(pl);
}

static void cell_rect(struct pdf *p, double x, double y, double w, double h, double grey)
{
	if (!p->cr)
		return;
	if (grey < 1) {
		cairo_set_source_rgb(p->cr, grey, grey, grey);
		cairo_rectangle(p->cr, x, y, w, h);
		cairo_fill(p->cr);
	}
	cairo_set_source_rgb(p->cr, 0.27, 0.27, 0.27);
	cairo_set_line_width(p->cr, 0.5);
	cairo_rectangle(p->cr, x, y, w, h);
	cairo_stroke(p->cr);
}

/* The header row of @t at p->y; @draw false only measures.  @return its height. */
static double table_head(struct pdf *p, const struct ctl_table *t, const double *x, bool draw)
{
	struct cell_lay *cl;
	double h = 0;

	if (!t->head)
		return 0;
	cl = calloc(t->ncols, sizeof(*cl));
	if (!cl) {
		p->failed = true;
		return 0;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		struct ctl_cell bold = t->head[i];
		struct ctl_para para;
		struct ctl_run runs[4];

		/* Header cells are one short bold line each. */
		if (bold.n) {
			para = bold.paras[0];
			para.n = para.n < 4 ? para.n : 4;
			for (size_t k = 0; k < para.n; k++) {
				runs[k] = bold.paras[0].runs[k];
				runs[k].flags |= CTL_RUN_BOLD;
			}
			para.runs = runs;
			bold.paras = &para;
			bold.n = 1;
		}
		cell_build(p, &bold, x[i + 1] - x[i] - 2 * PAD, SIZE_TABLE, &cl[i]);
		if (cl[i].h > h)
			h = cl[i].h;
	}
	h += 2 * PAD;
	if (draw) {
		for (size_t i = 0; i < t->ncols; i++) {
			cell_rect(p, x[i], p->y, x[i + 1] - x[i], h, 0.9);
			cell_draw(p, &cl[i], x[i] + PAD, p->y + PAD);
		}
		p->y += h;
	}
	for (size_t i = 0; i < t->ncols; i++)
		cell_done(&cl[i]);
	free(cl);
	return h;
}

static void put_table(struct pdf *p, const struct ctl_table *t)
{
	double *x = calloc(t->ncols + 1, sizeof(double));
	struct cell_lay *cl = calloc(t->ncols ? t->ncols : 1, sizeof(*cl));
	double hh;

	if (!x || !cl) {
		p->failed = true;
		free(x);
		free(cl);
		return;
	}
	x[0] = MARGIN_X;
	for (size_t i = 0; i < t->ncols; i++)
		x[i + 1] = x[i] + t->widths[i] * WIDTH;
	x[t->ncols] = MARGIN_X + WIDTH;
	hh = table_head(p, t, x, false);
	p->y += 2;
	for (size_t r = 0; r < t->nrows && !p->failed; r++) {
		const struct ctl_row *row = &t->rows[r];
		struct cell_lay det = { 0 };
		double h = 0, dh = 0;

		for (size_t i = 0; i < t->ncols; i++) {
			cell_build(p, &row->cells[i], x[i + 1] - x[i] - 2 * PAD, SIZE_TABLE,
				   &cl[i]);
			if (cl[i].h > h)
				h = cl[i].h;
		}
		h += 2 * PAD;
		if (row->detail.n) {
			cell_build(p, &row->detail, WIDTH - 2 * PAD - 10, SIZE_TABLE, &det);
			dh = det.h + 2 * PAD;
		}
		/* The header comes with the first row, and again at the top of each page. */
		if (r == 0) {
			need(p, hh + h + dh);
			table_head(p, t, x, true);
		} else if (p->y + h + dh > BOTTOM) {
			new_page(p);
			table_head(p, t, x, true);
		}
		for (size_t i = 0; i < t->ncols; i++) {
			cell_rect(p, x[i], p->y, x[i + 1] - x[i], h, t->kv && i == 0 ? 0.94 : 1);
			cell_draw(p, &cl[i], x[i] + PAD, p->y + PAD);
			cell_done(&cl[i]);
		}
		if (row->tone == CTL_TONE_BAD && p->cr) {
			/* An open row: a heavy bar at its left edge, as on the HTML page. */
			cairo_set_source_rgb(p->cr, 0, 0, 0);
			cairo_rectangle(p->cr, x[0] - 1.5, p->y, 3.5, h + dh);
			cairo_fill(p->cr);
		}
		p->y += h;
		if (row->detail.n) {
			cell_rect(p, x[0], p->y, WIDTH, dh, 0.98);
			cell_draw(p, &det, x[0] + PAD + 10, p->y + PAD);
			p->y += dh;
		}
		cell_done(&det);
	}
	p->y += 8;
	free(x);
	free(cl);
}

static void put_form(struct pdf *p, const struct ctl_block *b)
{
	double h = 0;

	for (size_t i = 0; i < b->nfields; i++)
		h += 14 + b->fields[i].lines * FIELD_LINE + 4;
	need(p, h);
	for (size_t i = 0; i < b->nfields; i++) {
		label(p, b->fields[i].label, MARGIN_X, p->y, SIZE_TEXT, true, false, WIDTH);
		p->y += 12;
		for (unsigned k = 0; k < b->fields[i].lines; k++) {
			p->y += FIELD_LINE;
			if (p->cr) {
				cairo_set_source_rgb(p->cr, 0, 0, 0);
				cairo_set_line_width(p->cr, 0.7);
				cairo_move_to(p->cr, MARGIN_X, p->y);
				cairo_line_to(p->cr, MARGIN_X + WIDTH, p->y);
				cairo_stroke(p->cr);
			}
		}
		p->y += 8;
	}
}

/* The legend, @h_mm by WIDTH_MM, on one page with @keep points below it for what follows. */
static void put_legend(struct pdf *p, double h_mm, double keep)
{
	double h = h_mm * PT_MM, k = 1;

	if (h > BOTTOM - TOP)
		k = (BOTTOM - TOP) / h;
	need(p, h * k + keep);
	if (p->cr) {
		cairo_save(p->cr);
		cairo_translate(p->cr, MARGIN_X, p->y);
		cairo_scale(p->cr, PT_MM * k, PT_MM * k);
		tl_legend_cairo(p->cr, 0, 0, WIDTH_MM);
		cairo_restore(p->cr);
	}
	p->y += h * k + 6;
}

/* Whole when it fits on this page; else split between its rows, a page at a time (a row that
 * does not fit below what is on the page starts the next one). */
static void put_timeline(struct pdf *p, const json_t *device)
{
	struct tl_layout *l = NULL;
	int r = tl_build(device, p->d->tz, WIDTH_MM, &l);
	unsigned n, r0 = 0;

	if (r == -ENOMEM)
		p->failed = true;
	if (r < 0)
		return; /* nothing to draw: the table lists the clips */
	n = tl_rows(l);
	if (p->y + tl_height_mm(l) * PT_MM > BOTTOM)
		need(p, (tl_row_top(l, 1) - tl_row_top(l, 0)) * PT_MM);
	while (r0 < n) {
		unsigned r1 = r0 + 1;
		double h;

		while (r1 < n &&
		       p->y + (tl_row_top(l, r1 + 1) - tl_row_top(l, r0)) * PT_MM <= BOTTOM)
			r1++;
		h = (tl_row_top(l, r1) - tl_row_top(l, r0)) * PT_MM;
		if (p->cr) {
			cairo_save(p->cr);
			cairo_translate(p->cr, MARGIN_X, p->y);
			/* A row taller than a page (it should not be) is shrunk to fit one. */
			if (h > BOTTOM - TOP) {
				cairo_scale(p->cr, (BOTTOM - TOP) / h, (BOTTOM - TOP) / h);
				h = BOTTOM - TOP;
			}
			cairo_scale(p->cr, PT_MM, PT_MM);
			tl_cairo_rows(l, p->cr, 0, 0, r0, r1);
			cairo_restore(p->cr);
		} else if (h > BOTTOM - TOP) {
			h = BOTTOM - TOP;
		}
		p->y += h;
		r0 = r1;
		if (r0 < n)
			new_page(p);
	}
	p->y += 6;
	tl_free(l);
}

/* Space to keep below a heading or a legend for what follows, so it does not end a page. */
static double keep_next(const struct pdf *p, size_t i)
{
	const struct ctl_block *n = i + 1 < p->d->n ? &p->d->blocks[i + 1] : NULL;

	if (!n)
		return 0;
	if (n->kind == CTL_BLOCK_TIMELINE || n->kind == CTL_BLOCK_LEGEND)
		return 60;
	if (n->kind == CTL_BLOCK_FORM)
		return 120;
	return 36;
}

static void put_block(struct pdf *p, size_t i)
{
	const struct ctl_block *b = &p->d->blocks[i];

	switch (b->kind) {
	case CTL_BLOCK_HEADING:
		put_heading(p, b, keep_next(p, i));
		break;
	case CTL_BLOCK_TEXT:
		put_text_block(p, b);
		break;
	case CTL_BLOCK_BOX:
		put_box(p, b);
		break;
	case CTL_BLOCK_TABLE:
		put_table(p, &b->table);
		break;
	case CTL_BLOCK_TIMELINE:
		put_timeline(p, b->device);
		break;
	case CTL_BLOCK_LEGEND:
		/* With the first timeline: keep room for a timeline's first rows below it. */
		put_legend(p, tl_legend_height_mm(WIDTH_MM), 80);
		break;
	case CTL_BLOCK_FORM:
		put_form(p, b);
		break;
	}
}

static void run(struct pdf *p)
{
	p->page = 0;
	new_page(p);
	for (size_t i = 0; i < p->d->n && !p->failed; i++)
		put_block(p, i);
}

static cairo_status_t on_write(void *closure, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS
						    : CAIRO_STATUS_WRITE_ERROR;
}

int ctl_pdf_write(const struct ctl_doc *d, FILE *out, struct err_detail *reterr)
{
	struct pdf p = { .d = d };
	PangoFontMap *fm = pango_cairo_font_map_new();
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_surface_t *s = NULL;
	cairo_status_t st;
	int r = 0;

	if (!fm || !fo) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	/* Points as pango units, and outlines as designed: the two passes measure alike. */
	pango_cairo_font_map_set_resolution(PANGO_CAIRO_FONT_MAP(fm), 72);
	p.pc = pango_font_map_create_context(fm);
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(p.pc, fo);
	pango_context_set_language(p.pc, pango_language_from_string(d->lang ? d->lang : "en"));

	run(&p); /* counting */
	if (p.failed) {
		r = err_set(reterr, -ENOMEM, "out of memory while laying out the PDF");
		goto out;
	}
	p.pages = p.page;
	s = cairo_pdf_surface_create_for_stream(on_write, out, PAGE_W, PAGE_H);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, d->title ? d->title : "");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "custodyctl");
	p.cr = cairo_create(s);
	run(&p);
	cairo_show_page(p.cr);
	if (p.failed)
		r = err_set(reterr, -ENOMEM, "out of memory while drawing the PDF");
	if (p.page != p.pages && r == 0)
		r = err_set(reterr, -EIO, "the PDF's pages came out %u, counted %u", p.page,
			    p.pages);
	cairo_destroy(p.cr);
	cairo_surface_finish(s);
	st = cairo_surface_status(s);
	if (st != CAIRO_STATUS_SUCCESS && r == 0)
		r = err_set(reterr, st == CAIRO_STATUS_WRITE_ERROR ? -EIO : -EIO, "cairo: %s",
			    cairo_status_to_string(st));
out:
	if (s)
		cairo_surface_destroy(s);
	if (p.pc)
		g_object_unref(p.pc);
	if (fm)
		g_object_unref(fm);
	if (fo)
		cairo_font_options_destroy(fo);
	return r;
}

/* docs/timeline.md.  A first cut: clips in review order with a fixed width, a break with its
 * duration before the clip after each gap; the clustered layout replaces it. */
#include "ctl/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/i18n.h"
#include "ctl/show.h"

#define TL_CLIP_W 4.0
#define TL_BREAK_W 24.0
#define TL_BAR_H 6.0
#define TL_ROW_H 16.0
#define TL_FONT 2.3

struct tl_layout {
	double width, height;
	struct tl_box *box;
	size_t n, cap;
	char **strs;
	size_t nstrs;
};

static const struct tl_pattern patterns[TL__N] = {
	[TL_ON_TIME] = { TL_FILL_SOLID, 0, 0, 0xa5d6a7, 0 },
	[TL_REMOTE] = { TL_FILL_DOTS, 1.4, 0.3, 0xbbdefb, 0x0d47a1 },
	[TL_LATE_EXPLAINED] = { TL_FILL_HATCH_UP, 1.6, 0.25, 0xffe0b2, 0xe65100 },
	[TL_LATE] = { TL_FILL_HATCH_DOWN, 1.0, 0.45, 0xffab91, 0xb71c1c },
	[TL_UNKNOWN_TIME] = { TL_FILL_VLINES, 1.2, 0.25, 0xeeeeee, 0x424242 },
	[TL_DAMAGED] = { TL_FILL_HLINES, 1.0, 0.3, 0xe1bee7, 0x4a148c },
	[TL_ALTERED] = { TL_FILL_CROSS, 1.2, 0.3, 0xef9a9a, 0x000000 },
	[TL_PURGED] = { TL_FILL_NONE, 0, 0.3, 0xffffff, 0x000000 },
	[TL_GAP_EXPLAINED] = { TL_FILL_GRID, 1.8, 0.2, 0xffffff, 0x757575 },
	[TL_GAP_UNEXPLAINED] = { TL_FILL_SOLID, 0, 0, 0x7f1d1d, 0 },
};

static const char *const words[TL__N] = {
	[TL_ON_TIME] = N_("on time"),
	[TL_REMOTE] = N_("on time, remote duty"),
	[TL_LATE_EXPLAINED] = N_("late, explained"),
	[TL_LATE] = N_("LATE, unexplained"),
	[TL_UNKNOWN_TIME] = N_("time unknown"),
	[TL_DAMAGED] = N_("damaged"),
	[TL_ALTERED] = N_("ALTERED or missing"),
	[TL_PURGED] = N_("purged"),
	[TL_GAP_EXPLAINED] = N_("gap, explained"),
	[TL_GAP_UNEXPLAINED] = N_("GAP, unexplained"),
};

const struct tl_pattern *tl_pattern(enum tl_status s)
{
	return &patterns[s < TL__N ? s : TL_ON_TIME];
}

const char *tl_status_word(enum tl_status s)
{
	return _(words[s < TL__N ? s : TL_ON_TIME]);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jint(const json_t *o, const char *key, int64_t def)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static enum tl_status clip_status(const json_t *c)
{
	const char *ig = jstr(c, "integrity"), *st = jstr(c, "storage_now");

	if (ig && (!strcmp(ig, "altered") || !strcmp(ig, "missing")))
		return TL_ALTERED;
	if (ig && !strcmp(ig, "purged"))
		return TL_PURGED;
	if (json_is_true(json_object_get(c, "damaged")))
		return TL_DAMAGED;
	if (!st)
		st = jstr(c, "storage");
	if (st && !strcmp(st, "on_time"))
		return TL_ON_TIME;
	if (st && !strcmp(st, "on_time_remote"))
		return TL_REMOTE;
	if (st && !strcmp(st, "late"))
		return json_array_size(json_object_get(c, "explained_by")) ? TL_LATE_EXPLAINED
									   : TL_LATE;
	return TL_UNKNOWN_TIME;
}

static struct tl_box *add_box(struct tl_layout *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct tl_box *b = realloc(l->box, cap * sizeof(*b));

		if (!b)
			return NULL;
		l->box = b;
		l->cap = cap;
	}
	l->box[l->n] = (struct tl_box){ .ref = (size_t)-1, .entry = -1, .leader_x = -1 };
	return &l->box[l->n++];
}

static const char *keep(struct tl_layout *l, char *s)
{
	char **v;

	if (!s)
		return NULL;
	v = realloc(l->strs, (l->nstrs + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return NULL;
	}
	l->strs = v;
	l->strs[l->nstrs++] = s;
	return s;
}

int tl_build(const json_t *device, const struct ing_tz *tz, double width_mm, struct tl_layout **ret)
{
	const json_t *clips = json_object_get(device, "clips"),
		     *gaps = json_object_get(device, "gaps");
	struct tl_layout *l;
	double x = 0;
	unsigned row = 0;

	(void)tz;
	if (!json_is_object(device) || width_mm < 60)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->width = width_mm;
	for (size_t i = 0; i < json_array_size(clips); i++) {
		const json_t *c = json_array_get(clips, i);
		int64_t idx = jint(c, "index", -1);
		struct tl_box *b;

		for (size_t k = 0; k < json_array_size(gaps); k++) {
			const json_t *g = json_array_get(gaps, k);
			char d[SHOW_DURATION_MAX], *s = NULL;

			if (jint(g, "before", -2) != idx)
				continue;
			if (x + TL_BREAK_W > width_mm) {
				x = 0;
				row++;
			}
			b = add_box(l);
			if (!b)
				goto oom;
			*b = (struct tl_box){ TL_BOX_BREAK,
					      json_is_integer(json_object_get(g, "explained_by"))
						  ? TL_GAP_EXPLAINED
						  : TL_GAP_UNEXPLAINED,
					      0,
					      row,
					      x,
					      row * TL_ROW_H,
					      TL_BREAK_W,
					      TL_BAR_H,
					      k,
					      idx,
					      NULL,
					      -1,
					      0,
					      0,
					      0 };
			show_duration(jint(g, "seconds", 0), d, sizeof(d));
			if (asprintf(&s, "%s\n%s", d, tl_status_word(b->status)) < 0)
				goto oom;
			b = add_box(l);
			if (!b || !keep(l, s))
				goto oom;
			*b = (struct tl_box){ .kind = TL_BOX_LABEL,
					      .status = l->box[l->n - 2].status,
					      .row = row,
					      .x = x,
					      .y = row * TL_ROW_H + TL_BAR_H + 0.5,
					      .w = TL_BREAK_W,
					      .h = 2 * TL_FONT * 1.25,
					      .ref = (size_t)-1,
					      .entry = -1,
					      .text = s,
					      .leader_x = -1,
					      .font = TL_FONT };
			x += TL_BREAK_W;
		}
		if (x + TL_CLIP_W > width_mm) {
			x = 0;
			row++;
		}
		b = add_box(l);
		if (!b)
			goto oom;
		*b = (struct tl_box){ .kind = TL_BOX_CLIP,
				      .status = clip_status(c),
				      .row = row,
				      .x = x,
				      .y = row * TL_ROW_H,
				      .w = TL_CLIP_W,
				      .h = TL_BAR_H,
				      .ref = i,
				      .entry = idx,
				      .leader_x = -1 };
		x += TL_CLIP_W + 0.5;
	}
	l->height = (row + 1) * TL_ROW_H;
	*ret = l;
	return 0;
oom:
	tl_free(l);
	return -ENOMEM;
}

struct tl_layout *tl_free(struct tl_layout *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->nstrs; i++)
		free(l->strs[i]);
	free(l->strs);
	free(l->box);
	free(l);
	return NULL;
}

double tl_width_mm(const struct tl_layout *l)
{
	return l->width;
}

double tl_height_mm(const struct tl_layout *l)
{
	return l->height;
}

const struct tl_box *tl_boxes(const struct tl_layout *l, size_t *ret_n)
{
	*ret_n = l->n;
	return l->box;
}

static void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

int tl_svg(const struct tl_layout *l, FILE *out)
{
	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.2f %.2f\" "
		"width=\"%.2fmm\" height=\"%.2fmm\">",
		l->width, l->height, l->width, l->height);
	for (size_t i = 0; i < l->n; i++) {
		const struct tl_box *b = &l->box[i];

		if (b->kind == TL_BOX_LABEL) {
			fprintf(out, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.2f\">", b->x,
				b->y + b->font, b->font);
			svg_text(out, b->text);
			fputs("</text>", out);
			continue;
		}
		fprintf(out,
			"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			"fill=\"#%06" PRIx32 "\" stroke=\"#000\" stroke-width=\"0.2\"/>",
			b->x, b->y, b->w, b->h, patterns[b->status].bg);
	}
	fputs("</svg>", out);
	return ferror(out) ? -EIO : 0;
}

void tl_cairo(const struct tl_layout *l, cairo_t *cr, double x_mm, double y_mm)
{
	cairo_save(cr);
	cairo_translate(cr, x_mm, y_mm);
	for (size_t i = 0; i < l->n; i++) {
		const struct tl_box *b = &l->box[i];
		uint32_t c = patterns[b->status].bg;

		if (b->kind == TL_BOX_LABEL)
			continue;
		cairo_rectangle(cr, b->x, b->y, b->w, b->h);
		cairo_set_source_rgb(cr, (c >> 16) / 255.0, (c >> 8 & 0xff) / 255.0,
				     (c & 0xff) / 255.0);
		cairo_fill_preserve(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 0.2);
		cairo_stroke(cr);
	}
	cairo_restore(cr);
}

double tl_legend_height_mm(double width_mm)
{
	(void)width_mm;
	return TL__N * 5.0;
}

int tl_legend_svg(double width_mm, FILE *out)
{
	double h = tl_legend_height_mm(width_mm);

	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.2f %.2f\" "
		"width=\"%.2fmm\" height=\"%.2fmm\">",
		width_mm, h, width_mm, h);
	for (int s = 0; s < TL__N; s++) {
		fprintf(out,
			"<rect x=\"0\" y=\"%.2f\" width=\"8\" height=\"4\" fill=\"#%06" PRIx32
			"\" stroke=\"#000\" stroke-width=\"0.2\"/><text x=\"10\" y=\"%.2f\" "
			"font-size=\"%.2f\">",
			s * 5.0, patterns[s].bg, s * 5.0 + 3.2, TL_FONT);
		svg_text(out, tl_status_word(s));
		fputs("</text>", out);
	}
	fputs("</svg>", out);
	return ferror(out) ? -EIO : 0;
}

void tl_legend_cairo(cairo_t *cr, double x_mm, double y_mm, double width_mm)
{
	(void)width_mm;
	cairo_save(cr);
	cairo_translate(cr, x_mm, y_mm);
	for (int s = 0; s < TL__N; s++) {
		uint32_t c = patterns[s].bg;

		cairo_rectangle(cr, 0, s * 5.0, 8, 4);
		cairo_set_source_rgb(cr, (c >> 16) / 255.0, (c >> 8 & 0xff) / 255.0,
				     (c & 0xff) / 255.0);
		cairo_fill(cr);
	}
	cairo_restore(cr);
}

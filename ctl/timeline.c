/* ctl/timeline.c: the timeline of one device of a case review (docs/timeline.md).
 *
 * DESIGN
 * - Clusters.  The device's clips with a trustworthy time, sorted by start, are cut into
 *   clusters at every gap of the review's gaps[] (each gap longer than split_tolerance), and at
 *   any other space longer than TL_SPACE_CUT (clips without a device have no gaps[]).  Between
 *   two clusters a break stands for the time left out: it shows the gap's length in days,
 *   hours and minutes and whether it is explained, in its own pattern.  So a 10 s clip three
 *   days after the one before is as visible as the three days.
 * - Each cluster has its own scale: its width grows with the logarithm of its span (a
 *   10-second cluster about 15 mm, an 8-hour one about 85 mm, never more than a row), the
 *   clips are placed linearly on it, and then every clip is widened to at least TL_MIN_CLIP
 *   (TL_UNKNOWN_W for a damaged clip whose end is unknown) by widening the stretch of time it
 *   covers, which keeps the order of every start and end (a piecewise-linear scale whose knots
 *   are the clips' starts and ends).  Overlapping clips go to lanes.
 * - Rows: clusters and breaks are placed left to right and wrap onto the next row; a break
 *   stays with the cluster after it; a cluster wider than a row is cut between clips (through
 *   one only when no clip boundary fits) and marked as going on.
 * - Words: each cluster shows its start (HH:MM:SS, with the date where it changes along the
 *   row) and its end where there is room; a run of clips of the same status has one label
 *   under the bars ("#12–#40 (29)", "on time") with a leader line.  Labels are placed right
 *   to left in lanes so that none overlaps another and, wherever the row allows, no leader
 *   runs under another label (leaders are painted under the labels, so one that must never
 *   crosses text).  Text sits on a white ground, never on a pattern.  The zone's offset is
 *   said once, at the top.
 * - The layout holds every box in mm and every string; painting (SVG, cairo) only reads it,
 *   through the same pattern table (tl_pattern()), so the HTML page and the PDF agree.  Text
 *   widths are estimated from display columns (utf8_width()) generously; cairo shrinks a
 *   text that would still not fit its box.
 * Any thread: the only shared state is the counter that makes SVG pattern ids unique. */
#include "ctl/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "base/i18n.h"
#include "base/utf8.h"
#include "ctl/show.h"
#include "ingest/tz.h"

/* Sizes in mm. */
#define TL_FONT 2.3 /* labels (about 6.5 pt) */
#define TL_LINE (TL_FONT * 1.25)
#define TL_BAR_H 6.0	    /* one lane of clip bars */
#define TL_MIN_CLIP 2.0	    /* the narrowest clip */
#define TL_UNKNOWN_W 9.0    /* a clip of unknown length: its "?" extent */
#define TL_UNTIMED_W 5.0    /* a clip in the group without a trustworthy time */
#define TL_BREAK_MIN 14.0   /* the narrowest break */
#define TL_PAD 1.0	    /* inside a cluster's frame, left and right */
#define TL_SEP 1.2	    /* between a cluster and a break */
#define TL_ROW_GAP 3.5	    /* between rows */
#define TL_LABEL_GAP 0.8    /* between two labels of a lane */
#define TL_EM 0.6	    /* estimated width of one display column, in font sizes */
#define TL_SPACE_CUT 1800LL /* s: a space no gap lists still breaks the scale beyond this */
#define TL_MIN_WIDTH 60.0
#define TL_FONT_FAMILY "Noto Sans CJK SC, Noto Sans SC, Noto Sans, DejaVu Sans, sans-serif"

static const struct tl_pattern patterns[TL__N] = {
	[TL_ON_TIME] = { TL_FILL_SOLID, 0, 0, 0xa5d6a7, 0 },
	[TL_REMOTE] = { TL_FILL_DOTS, 1.3, 0.32, 0xbbdefb, 0x0d47a1 },
	[TL_LATE_EXPLAINED] = { TL_FILL_HATCH_UP, 1.8, 0.25, 0xffe0b2, 0xc75000 },
	[TL_LATE] = { TL_FILL_HATCH_DOWN, 1.0, 0.5, 0xffab91, 0x7f0000 },
	[TL_UNKNOWN_TIME] = { TL_FILL_VLINES, 1.1, 0.3, 0xeeeeee, 0x424242 },
	[TL_DAMAGED] = { TL_FILL_HLINES, 1.0, 0.35, 0xe1bee7, 0x4a148c },
	[TL_ALTERED] = { TL_FILL_CROSS, 1.1, 0.3, 0xef9a9a, 0x000000 },
	[TL_PURGED] = { TL_FILL_NONE, 0, 0.35, 0xffffff, 0x000000 },
	[TL_GAP_EXPLAINED] = { TL_FILL_GRID, 1.6, 0.2, 0xffffff, 0x616161 },
	[TL_GAP_UNEXPLAINED] = { TL_FILL_SOLID, 0, 0, 0x5d1010, 0 },
};

/* The legend's words; the labels' shorter ones are in clip_words(). */
static const char *const words[TL__N] = {
	[TL_ON_TIME] = N_("stored on time"),
	[TL_REMOTE] = N_("on time (remote duty)"),
	[TL_LATE_EXPLAINED] = N_("stored late, explained"),
	[TL_LATE] = N_("stored LATE, unexplained"),
	[TL_UNKNOWN_TIME] = N_("recording time unknown"),
	[TL_DAMAGED] = N_("damaged file"),
	[TL_ALTERED] = N_("original ALTERED or MISSING"),
	[TL_PURGED] = N_("original purged"),
	[TL_GAP_EXPLAINED] = N_("gap, explained"),
	[TL_GAP_UNEXPLAINED] = N_("GAP, unexplained"),
};

const struct tl_pattern *tl_pattern(enum tl_status s)
{
	return &patterns[(unsigned)s < TL__N ? s : TL_ON_TIME];
}

const char *tl_status_word(enum tl_status s)
{
	return _(words[(unsigned)s < TL__N ? s : TL_ON_TIME]);
}

/* ---- the layout ------------------------------------------------------------------------------ */

struct tl_layout {
	double width, height;
	struct tl_box *box;
	size_t n, cap;
	char **strs;
	size_t nstrs, capstrs;
	double *rowtop; /* nrows + 1: the top of each row, then the bottom of the last */
	unsigned nrows;
	bool oom;
};

static struct tl_box *add_box(struct tl_layout *l, enum tl_box_kind kind)
{
	if (l->oom)
		return NULL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct tl_box *b = realloc(l->box, cap * sizeof(*b));

		if (!b) {
			l->oom = true;
			return NULL;
		}
		l->box = b;
		l->cap = cap;
	}
	l->box[l->n] = (struct tl_box){ .kind = kind,
					.ref = (size_t)-1,
					.entry = -1,
					.leader_x = -1,
					.font = TL_FONT,
					.align = -1 };
	return &l->box[l->n++];
}

/* A string the layout keeps (printf-style); NULL when out of memory (l->oom set). */
static const char *keepf(struct tl_layout *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *keepf(struct tl_layout *l, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	if (l->oom)
		return NULL;
	if (l->nstrs == l->capstrs) {
		size_t cap = l->capstrs ? 2 * l->capstrs : 32;
		char **v = realloc(l->strs, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return NULL;
		}
		l->strs = v;
		l->capstrs = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		l->oom = true;
		return NULL;
	}
	l->strs[l->nstrs++] = s;
	return s;
}

/* The estimated width of the widest line of @s at @font, in mm. */
static double text_w(const char *s, double font)
{
	double best = 0, cols = 0;
	size_t len = strlen(s);

	for (size_t i = 0; i <= len;) {
		uint32_t c;
		size_t k;

		if (i == len || s[i] == '\n') {
			if (cols > best)
				best = cols;
			cols = 0;
			i++;
			continue;
		}
		k = utf8_decode((const uint8_t *)s + i, len - i, &c);
		if (k == 0) {
			cols++;
			i++;
			continue;
		}
		cols += utf8_width(c);
		i += k;
	}
	return best * TL_EM * font;
}

static unsigned text_lines(const char *s)
{
	unsigned n = 1;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* @s with line breaks where a line would be wider than @maxw: at spaces, or between two wide
 * (CJK) characters, which need none; a word longer than a line stays whole. */
static const char *wrap_text(struct tl_layout *l, const char *s, double font, double maxw)
{
	size_t len = strlen(s), brk = 0, out = 0;
	double cols = 0, maxcols = maxw / (TL_EM * font), brkcols = 0;
	bool brk_space = false;
	char *buf = malloc(2 * len + 1);
	const char *r;

	if (!buf) {
		l->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);
		unsigned w;

		if (k == 0) {
			c = '?';
			k = 1;
		}
		w = utf8_width(c);
		if (c == '\n') {
			cols = 0;
			brk = 0;
		} else if (c == ' ' && cols + 1 > maxcols) {
			/* The line is full at a space: it becomes the newline. */
			buf[out++] = '\n';
			cols = 0;
			brk = 0;
			i += k;
			continue;
		} else if (c == ' ') {
			brk = out;
			brk_space = true;
			brkcols = cols + 1;
		} else if (w == 2 && cols > 0) {
			brk = out;
			brk_space = false;
			brkcols = cols;
		}
		if (c != '\n' && cols + w > maxcols && brk > 0) {
			/* Break at the last opportunity: the space becomes the newline. */
			if (brk_space) {
				buf[brk] = '\n';
			} else {
				memmove(buf + brk + 1, buf + brk, out - brk);
				buf[brk] = '\n';
				out++;
			}
			cols -= brkcols;
			brk = 0;
		}
		memcpy(buf + out, s + i, k);
		out += k;
		cols += c == '\n' ? 0 : w;
		i += k;
	}
	buf[out] = '\0';
	r = keepf(l, "%s", buf);
	free(buf);
	return r;
}

/* A label box sized for @text, wrapped to the layout's width; @x is its left edge, or its
 * centre / right edge by @align. */
static struct tl_box *add_label(struct tl_layout *l, const char *text, double x, double y,
				int align, double font)
{
	struct tl_box *b;
	double w;

	if (!text)
		return NULL;
	w = text_w(text, font) + 0.8;
	if (l->width > 0 && w > l->width - (align < 0 ? x : 0) + 1e-6) {
		text = wrap_text(l, text, font, l->width - (align < 0 ? x : 0) - 0.8);
		if (!text)
			return NULL;
		w = text_w(text, font) + 0.8;
	}
	b = add_box(l, TL_BOX_LABEL);
	if (!b)
		return NULL;
	b->text = text;
	b->font = font;
	b->align = align;
	b->w = w;
	b->h = text_lines(text) * font * 1.25;
	b->x = align < 0 ? x : align == 0 ? x - w / 2 : x - w;
	b->y = y;
	return b;
}

/* ---- reading the device ---------------------------------------------------------------------- */

struct clip {
	size_t ref;
	int64_t entry;
	int64_t s, e; /* µs; e == s when the length is unknown */
	bool timed, unk;
	bool open; /* an open item: its label is bold */
	enum tl_status st;
	char word[160];
	/* Within its cluster (local mm) */
	double x0, x1;
	unsigned lane;
};

struct gap {
	size_t ref;
	int64_t entry;
	int64_t s, e;
	int64_t seconds;
	bool timed, used;
	enum tl_status st;
};

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jint(const json_t *o, const char *key, int64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*ret = (int64_t)json_integer_value(v);
	return true;
}

static bool is(const char *s, const char *word)
{
	return s && !strcmp(s, word);
}

static void add_word(char *buf, size_t n, const char *w)
{
	size_t len = strlen(buf);

	/* Translators: between two words of a clip's label ("damaged, no report · LATE"). */
	snprintf(buf + len, n - len, "%s%s", len ? _(" · ") : "", w);
}

/* The clip's status (the worst that applies: integrity, then damage, then storage) and the
 * words of everything that applies, for its label. */
static void clip_classify(const json_t *j, struct clip *c)
{
	const char *ig = jstr(j, "integrity"), *st = jstr(j, "storage_now");
	bool explained = json_array_size(json_object_get(j, "explained_by")) > 0;
	bool damaged =
	    json_is_true(json_object_get(j, "damaged")) || is(jstr(j, "type"), "damaged");
	bool reported = json_is_integer(json_object_get(j, "damage_report"));
	enum tl_status storage;
	const char *sw;

	if (!st)
		st = jstr(j, "storage");
	if (is(st, "on_time")) {
		storage = TL_ON_TIME;
		sw = _("on time");
	} else if (is(st, "on_time_remote")) {
		storage = TL_REMOTE;
		sw = _("remote duty");
	} else if (is(st, "late") && explained) {
		storage = TL_LATE_EXPLAINED;
		sw = _("late, explained");
	} else if (is(st, "late")) {
		storage = TL_LATE;
		sw = _("LATE");
		c->open = true;
	} else {
		storage = TL_UNKNOWN_TIME;
		sw = explained ? _("time unknown, explained") : _("time unknown");
		c->open |= !explained;
	}
	c->word[0] = '\0';
	if (is(ig, "altered") || is(ig, "missing")) {
		c->st = TL_ALTERED;
		c->open = true;
		add_word(c->word, sizeof(c->word), is(ig, "altered") ? _("ALTERED") : _("MISSING"));
	} else if (is(ig, "purged")) {
		c->st = TL_PURGED;
		c->open = true;
		add_word(c->word, sizeof(c->word), _("purged"));
	}
	if (damaged) {
		if (!c->word[0])
			c->st = TL_DAMAGED;
		c->open |= !reported;
		add_word(c->word, sizeof(c->word),
			 reported ? _("damaged, reported") : _("damaged, no report"));
	}
	if (!c->word[0])
		c->st = storage;
	if (!c->word[0] || storage != TL_ON_TIME)
		add_word(c->word, sizeof(c->word), sw);
}

static void clip_load(const json_t *j, size_t ref, struct clip *c)
{
	int64_t dur = -1, d;
	bool hs, he;

	*c = (struct clip){ .ref = ref, .entry = -1 };
	jint(j, "index", &c->entry);
	if (jint(j, "duration_us", &d) && d >= 0)
		dur = d;
	hs = show_parse_time(jstr(j, "recorded_start"), &c->s) == 0;
	he = show_parse_time(jstr(j, "recorded_end"), &c->e) == 0;
	clip_classify(j, c);
	if (hs && !he) {
		c->unk = dur < 0;
		c->e = c->s + (dur > 0 ? dur : 0);
	} else if (!hs && he) {
		c->unk = dur < 0;
		c->s = c->e - (dur > 0 ? dur : 0);
	}
	if ((hs || he) && c->e < c->s) {
		int64_t t = c->s;

		c->s = c->e;
		c->e = t;
	}
	/* The rules leave a time of unknown source or in the future off the device's timeline
	 * (docs/review-format.md): here too, or it would sit where the clock said. */
	c->timed = (hs || he) && !is(jstr(j, "storage_now"), "unknown_time") &&
		   !(jstr(j, "storage_now") == NULL && is(jstr(j, "storage"), "unknown_time")) &&
		   !json_is_true(json_object_get(j, "time_in_future"));
	if (c->unk) {
		add_word(c->word, sizeof(c->word), _("length unknown"));
	}
}

static void gap_load(const json_t *j, size_t ref, struct gap *g)
{
	*g = (struct gap){ .ref = ref, .entry = -1, .seconds = -1 };
	jint(j, "before", &g->entry);
	g->timed = show_parse_time(jstr(j, "from"), &g->s) == 0 &&
		   show_parse_time(jstr(j, "to"), &g->e) == 0 && g->e >= g->s;
	if (!jint(j, "seconds", &g->seconds) && g->timed)
		g->seconds = (g->e - g->s) / 1000000;
	g->st = json_is_integer(json_object_get(j, "explained_by")) ? TL_GAP_EXPLAINED
								    : TL_GAP_UNEXPLAINED;
}

static int cmp_clip(const void *a, const void *b)
{
	const struct clip *x = a, *y = b;

	if (x->timed != y->timed)
		return x->timed ? -1 : 1;
	if (x->timed && x->s != y->s)
		return x->s < y->s ? -1 : 1;
	if (x->timed && x->e != y->e)
		return x->e < y->e ? -1 : 1;
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static int cmp_gap(const void *a, const void *b)
{
	const struct gap *x = a, *y = b;

	if (x->timed != y->timed)
		return x->timed ? -1 : 1;
	if (x->timed && x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- one cluster on its own scale ------------------------------------------------------------ */

enum el_kind { EL_CLUSTER, EL_BREAK, EL_UNTIMED };

struct el {
	enum el_kind kind;
	size_t c0, nc;	 /* CLUSTER, UNTIMED: its clips in the sorted array */
	struct gap *gap; /* BREAK: the gap, or NULL for a space no gap lists */
	int64_t s, e;	 /* BREAK: the time left out; CLUSTER: its span */
	double w;	 /* CLUSTER, UNTIMED: the width of its content; BREAK: its width */
	double minw;	 /* CLUSTER, UNTIMED: the width its head needs */
	int64_t *knot;	 /* CLUSTER: sorted distinct starts and ends */
	double *kx;	 /* CLUSTER: x of each knot */
	double *kpw;	 /* CLUSTER: width of the clips of no length at each knot */
	size_t nk;
	unsigned lanes;
};

/* Width a cluster's span @us gets before clips are widened: grows with its logarithm, so that
 * a long cluster is wider than a short one without making the short one a sliver. */
static double cluster_target(int64_t us, double max)
{
	double w = 8 + 22 * log10(1 + (double)us / 1e7);

	return w < max ? w : max;
}

static size_t knot_of(const struct el *e, int64_t t)
{
	size_t lo = 0, hi = e->nk;

	while (lo + 1 < hi) {
		size_t mid = (lo + hi) / 2;

		if (e->knot[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Lanes: a clip goes to the first lane whose last clip ended (in x) at or before its start. */
static unsigned assign_lanes(struct clip *c, size_t n)
{
	double end[64];
	unsigned used = 1;

	for (unsigned k = 0; k < 64; k++)
		end[k] = -1;
	for (size_t i = 0; i < n; i++) {
		unsigned k = 0;

		while (k < 63 && end[k] > c[i].x0 + 1e-9)
			k++;
		c[i].lane = k;
		if (c[i].x1 > end[k])
			end[k] = c[i].x1;
		if (k + 1 > used)
			used = k + 1;
	}
	return used;
}

static int cluster_layout(struct el *e, struct clip *c, double max)
{
	int64_t span = 0, t0, t1;
	double *w, scale;
	size_t nk = 0;

	e->knot = malloc(2 * e->nc * sizeof(*e->knot));
	if (!e->knot)
		return -ENOMEM;
	for (size_t i = 0; i < e->nc; i++) {
		e->knot[nk++] = c[i].s;
		e->knot[nk++] = c[i].e;
	}
	qsort(e->knot, nk, sizeof(*e->knot), cmp_i64);
	e->nk = 0;
	for (size_t i = 0; i < nk; i++)
		if (e->nk == 0 || e->knot[e->nk - 1] != e->knot[i])
			e->knot[e->nk++] = e->knot[i];
	t0 = e->knot[0];
	t1 = e->knot[e->nk - 1];
	span = t1 - t0;
	e->s = t0;
	e->e = t1;
	e->kx = calloc(e->nk, sizeof(*e->kx));
	e->kpw = calloc(e->nk, sizeof(*e->kpw));
	w = calloc(e->nk, sizeof(*w));
	if (!e->kx || !e->kpw || !w) {
		free(w);
		return -ENOMEM;
	}
	scale = span > 0 ? cluster_target(span, max) / (double)span : 0;
	for (size_t k = 0; k + 1 < e->nk; k++)
		w[k] = scale * (double)(e->knot[k + 1] - e->knot[k]);
	/* Widen each clip to its minimum, start order; widening only ever adds, so a clip
	 * widened before stays wide enough. */
	for (size_t i = 0; i < e->nc; i++) {
		size_t ka = knot_of(e, c[i].s), kb = knot_of(e, c[i].e);
		double min = c[i].unk ? TL_UNKNOWN_W : TL_MIN_CLIP, have = 0, sum = 0;

		if (ka == kb) {
			if (e->kpw[ka] < min)
				e->kpw[ka] = min;
			continue;
		}
		for (size_t k = ka; k < kb; k++) {
			sum += w[k];
			have += w[k] + (k > ka ? e->kpw[k] : 0);
		}
		if (have >= min)
			continue;
		for (size_t k = ka; k < kb; k++)
			w[k] += (min - have) * (sum > 0 ? w[k] / sum : 1.0 / (double)(kb - ka));
	}
	for (size_t k = 0; k < e->nk; k++)
		e->kx[k] = k ? e->kx[k - 1] + e->kpw[k - 1] + w[k - 1] : 0;
	e->w = e->kx[e->nk - 1] + e->kpw[e->nk - 1];
	free(w);
	for (size_t i = 0; i < e->nc; i++) {
		size_t ka = knot_of(e, c[i].s), kb = knot_of(e, c[i].e);

		if (ka == kb) {
			c[i].x0 = e->kx[ka];
			c[i].x1 = e->kx[ka] + e->kpw[ka];
		} else {
			c[i].x0 = e->kx[ka] + e->kpw[ka];
			c[i].x1 = e->kx[kb];
		}
	}
	e->lanes = assign_lanes(c, e->nc);
	return 0;
}

/* The time at local x @x of a cluster (at a knot: the knot's; between: by the linear scale). */
static int64_t cluster_time_at(const struct el *e, double x)
{
	size_t k = 0;

	while (k + 1 < e->nk && e->kx[k + 1] <= x)
		k++;
	if (k + 1 < e->nk && x > e->kx[k] + e->kpw[k]) {
		double a = e->kx[k] + e->kpw[k], b = e->kx[k + 1];

		return e->knot[k] +
		       (int64_t)((double)(e->knot[k + 1] - e->knot[k]) * (x - a) / (b - a));
	}
	return e->knot[k];
}

/* ---- rows ------------------------------------------------------------------------------------ */

struct seg {
	const struct el *el;
	double a, b; /* the part of the element's content (local x) */
	double x, w; /* where it stands in its row, and its width */
	unsigned row;
	unsigned flags; /* TL_F_CONT_LEFT / RIGHT */
	const char *head;
};

struct builder {
	struct tl_layout *l;
	const struct ing_tz *tz;
	struct clip *c;
	size_t nc;
	struct gap *g;
	size_t ng;
	struct el *el;
	size_t nel;
	struct seg *seg;
	size_t nseg, capseg;
	double width;
};

static struct el *add_el(struct builder *bd, enum el_kind kind)
{
	struct el *e = &bd->el[bd->nel++];

	*e = (struct el){ .kind = kind };
	return e;
}

static struct seg *add_seg(struct builder *bd)
{
	if (bd->nseg == bd->capseg) {
		size_t cap = bd->capseg ? 2 * bd->capseg : 32;
		struct seg *s = realloc(bd->seg, cap * sizeof(*s));

		if (!s)
			return NULL;
		bd->seg = s;
		bd->capseg = cap;
	}
	bd->seg[bd->nseg] = (struct seg){ 0 };
	return &bd->seg[bd->nseg++];
}

/* Cut the clips into clusters at the gaps and long spaces, in time order; the gaps no space
 * between clips holds (a review inconsistent with itself) become breaks where they fall. */
static int make_elements(struct builder *bd)
{
	size_t gi = 0, ntimed = 0, i;
	int64_t end = INT64_MIN;
	struct el *cur = NULL;

	/* At most: a cluster per clip, a break per gap and per clip, the untimed group. */
	bd->el = calloc(2 * bd->nc + bd->ng + 2, sizeof(*bd->el));
	if (!bd->el)
		return -ENOMEM;
	while (ntimed < bd->nc && bd->c[ntimed].timed)
		ntimed++;
	for (i = 0; i < ntimed; i++) {
		struct clip *c = &bd->c[i];
		bool cut = false;

		while (gi < bd->ng && bd->g[gi].timed && bd->g[gi].e <= c->s) {
			struct el *b = add_el(bd, EL_BREAK);

			b->gap = &bd->g[gi];
			b->s = bd->g[gi].s;
			b->e = bd->g[gi].e;
			bd->g[gi++].used = true;
			cut = true;
		}
		if (cur && !cut && c->s > end && (c->s - end) / 1000000 > TL_SPACE_CUT) {
			struct el *b = add_el(bd, EL_BREAK);

			b->s = end;
			b->e = c->s;
			cut = true;
		}
		if (cut || !cur) {
			cur = add_el(bd, EL_CLUSTER);
			cur->c0 = i;
		}
		cur->nc++;
		if (c->e > end)
			end = c->e;
	}
	for (; gi < bd->ng && bd->g[gi].timed; gi++) {
		struct el *b = add_el(bd, EL_BREAK);

		b->gap = &bd->g[gi];
		b->s = bd->g[gi].s;
		b->e = bd->g[gi].e;
		bd->g[gi].used = true;
	}
	if (ntimed < bd->nc) {
		struct el *u = add_el(bd, EL_UNTIMED);

		u->c0 = ntimed;
		u->nc = bd->nc - ntimed;
		u->lanes = 1;
		u->minw = text_w(_("no trustworthy\nrecording time"), TL_FONT) + 0.8 + 2 * TL_PAD;
		u->w = (double)u->nc * (TL_UNTIMED_W + 0.6) - 0.6;
		for (size_t k = 0; k < u->nc; k++) {
			bd->c[ntimed + k].x0 = (double)k * (TL_UNTIMED_W + 0.6);
			bd->c[ntimed + k].x1 = bd->c[ntimed + k].x0 + TL_UNTIMED_W;
			bd->c[ntimed + k].lane = 0;
		}
	}
	for (; gi < bd->ng; gi++) {
		struct el *b = add_el(bd, EL_BREAK);

		b->gap = &bd->g[gi];
	}
	for (i = 0; i < bd->nel; i++) {
		if (bd->el[i].kind != EL_CLUSTER)
			continue;
		if (cluster_layout(&bd->el[i], &bd->c[bd->el[i].c0], bd->width - 2 * TL_PAD) < 0)
			return -ENOMEM;
		/* Room for "2026-11-28" or "→ 09:00:10" above it. */
		bd->el[i].minw = text_w("0000-00-00", TL_FONT) + 0.8 + 2 * TL_PAD;
	}
	return 0;
}

/* "2026-11-28" and "09:00:10" of @us in the display zone. */
static void date_and_time(const struct builder *bd, int64_t us, char *date, char *tod)
{
	char buf[SHOW_TIME_MAX];

	show_time(bd->tz, us, buf, sizeof(buf));
	memcpy(date, buf, 10);
	date[10] = '\0';
	memcpy(tod, buf + 11, 8);
	tod[8] = '\0';
}

static const char *break_text(struct builder *bd, const struct el *e)
{
	char d[SHOW_DURATION_MAX];
	int64_t sec = e->gap ? e->gap->seconds : (e->e - e->s) / 1000000;

	if (sec < 0)
		snprintf(d, sizeof(d), "%s", _("length unknown"));
	else
		show_duration(sec, d, sizeof(d));
	if (!e->gap)
		return keepf(bd->l, "%s\n%s", d, _("not checked"));
	return keepf(bd->l, "%s\n%s", d,
		     e->gap->st == TL_GAP_EXPLAINED ? _("explained") : _("UNEXPLAINED"));
}

/* The width of what is left of @e from local x @a on, frame and head included. */
static double el_rest(const struct el *e, double a)
{
	return e->kind == EL_BREAK ? e->w : fmax(e->w - a + 2 * TL_PAD, e->minw);
}

/* Cut points of a cluster's content that cross no clip (knots), ascending. */
static bool clear_cut(const struct builder *bd, const struct el *e, double x)
{
	for (size_t i = 0; i < e->nc; i++) {
		const struct clip *c = &bd->c[e->c0 + i];

		if (c->x0 < x - 1e-9 && c->x1 > x + 1e-9)
			return false;
	}
	return true;
}

static double next_cut(const struct builder *bd, const struct el *e, double a, double avail)
{
	double best = -1;

	if (e->kind == EL_CLUSTER) {
		for (size_t k = 0; k < e->nk; k++) {
			double xs[2] = { e->kx[k], e->kx[k] + e->kpw[k] };

			for (int j = 0; j < 2; j++)
				if (xs[j] > a + 1e-9 && xs[j] <= a + avail + 1e-9 && xs[j] > best &&
				    clear_cut(bd, e, xs[j]))
					best = xs[j];
		}
	} else {
		/* Untimed boxes: after a whole number of them. */
		double step = TL_UNTIMED_W + 0.6;
		double k = floor((a + avail + 0.6) / step);

		if (k * step - 0.6 > a + 1e-9)
			best = k * step - 0.6;
	}
	return best > a ? best : a + avail;
}

static int make_rows(struct builder *bd)
{
	double W = bd->width, x = 0;
	unsigned row = 0;

	for (size_t i = 0; i < bd->nel; i++) {
		struct el *e = &bd->el[i];
		double a = 0;

		if (e->kind == EL_BREAK) {
			double need;
			struct seg *s;
			const char *t = break_text(bd, e);

			if (!t)
				return -ENOMEM;
			e->w = fmax(TL_BREAK_MIN, text_w(t, TL_FONT) + 2);
			/* A break stays with the start of what follows it. */
			need = e->w;
			if (i + 1 < bd->nel && bd->el[i + 1].kind != EL_BREAK)
				need += TL_SEP + fmin(el_rest(&bd->el[i + 1], 0), TL_BREAK_MIN * 2);
			if (x > 0 && x + TL_SEP + need > W) {
				row++;
				x = 0;
			}
			s = add_seg(bd);
			if (!s)
				return -ENOMEM;
			s->el = e;
			s->row = row;
			s->x = x > 0 ? x + TL_SEP : 0;
			s->w = e->w;
			s->head = t;
			x = s->x + s->w;
			continue;
		}
		do {
			double here = W - (x > 0 ? x + TL_SEP : 0), rest = el_rest(e, a), b;
			struct seg *s;

			/* What fits in a fresh row starts one; a cluster longer than a row
			 * starts here when a fair part of the row is left. */
			if (rest > here + 1e-9 && x > 0 && (rest <= W || here < 2 * TL_BREAK_MIN)) {
				row++;
				x = 0;
				here = W;
			}
			b = rest <= here + 1e-9 ? e->w : next_cut(bd, e, a, here - 2 * TL_PAD);
			s = add_seg(bd);
			if (!s)
				return -ENOMEM;
			s->el = e;
			s->row = row;
			s->a = a;
			s->b = b;
			s->x = x > 0 ? x + TL_SEP : 0;
			s->w = fmax(b - a + 2 * TL_PAD, e->minw);
			s->flags = (a > 0 ? TL_F_CONT_LEFT : 0) | (b < e->w ? TL_F_CONT_RIGHT : 0);
			x = s->x + s->w;
			a = b;
		} while (a < e->w - 1e-9);
	}
	return 0;
}

/* The head of each cluster part: its start, with the date when it is the first on its row or
 * the date changed since the one before. */
static int make_heads(struct builder *bd)
{
	char lastdate[12] = "", date[12], tod[10];
	unsigned lastrow = (unsigned)-1;

	for (size_t i = 0; i < bd->nseg; i++) {
		struct seg *s = &bd->seg[i];
		const struct el *e = s->el;

		if (s->row != lastrow) {
			lastdate[0] = '\0';
			lastrow = s->row;
		}
		if (e->kind == EL_BREAK)
			continue;
		if (e->kind == EL_UNTIMED) {
			/* Translators: over a group of clips, in two short lines. */
			s->head = keepf(bd->l, "%s", _("no trustworthy\nrecording time"));
		} else {
			date_and_time(bd, cluster_time_at(e, s->a), date, tod);
			s->head = keepf(bd->l, "%s\n%s%s", strcmp(date, lastdate) ? date : "",
					s->flags & TL_F_CONT_LEFT ? "→ " : "", tod);
			memcpy(lastdate, date, sizeof(date));
		}
		if (!s->head)
			return -ENOMEM;
	}
	return 0;
}

struct run {
	size_t first, last; /* clips in the sorted array */
	size_t n;
	double x0, x1;
	enum tl_status st;
	bool open;
	const char *word;
};

struct pending_label {
	const char *text;
	double x, w; /* left edge, width */
	double leader;
	unsigned lane, span; /* the first lane it takes, and how many (a wrapped label) */
	bool bold;
	enum tl_status st;
};

/* Whether label @m fits at (@lane, @x) among @pl[0..i-1] (placed, to its right): it overlaps
 * none of them; and when @strict, its leader crosses none of the labels above it, it covers
 * no leader of the labels below it, and (@strict > 1) none of those still to place
 * (@pl[i+1..n-1], to its left), which would have to go above it. */
static bool label_fits(const struct pending_label *pl, size_t i, size_t n, unsigned lane, double x,
		       int strict)
{
	const struct pending_label *m = &pl[i];

	for (size_t k = 0; k < i; k++) {
		const struct pending_label *p = &pl[k];

		if (p->lane < lane + m->span && lane < p->lane + p->span &&
		    p->x < x + m->w + TL_LABEL_GAP && x < p->x + p->w + TL_LABEL_GAP)
			return false;
		if (strict && p->lane < lane && p->x - 0.3 < m->leader &&
		    m->leader < p->x + p->w + 0.3)
			return false;
		if (strict && p->lane > lane && x - 0.3 < p->leader && p->leader < x + m->w + 0.3)
			return false;
	}
	for (size_t u = i + 1; strict > 1 && u < n; u++)
		if (x - 0.3 < pl[u].leader && pl[u].leader < x + m->w + 0.3)
			return false;
	return true;
}

/* Where label @i goes: its lane and its left edge, one of three (starting at its leader,
 * centred on it, ending at it).  First the first lane where it fits strictly; else a lane
 * where it meets no placed label nor leader, below the first (leaving that one to the labels
 * on its left); else, labels crowding over a few clips at an edge, the first lane without an
 * overlap (below all the others if need be), where a leader may run under a label. */
static void place_label(struct pending_label *pl, size_t i, size_t n, double width)
{
	struct pending_label *m = &pl[i];
	double cand[3] = { m->leader - 0.4, m->leader - m->w / 2, m->leader - m->w + 0.4 };

	for (int strict = 2; strict >= 0; strict--)
		for (unsigned k = 0; k <= i + 1; k++) {
			unsigned lane = strict == 1 ? (k + 1) % (unsigned)(i + 2) : k;

			for (int c = 0; c < 3; c++) {
				double x = fmax(0, fmin(cand[c], width - m->w));

				if (label_fits(pl, i, n, lane, x, strict)) {
					m->lane = lane;
					m->x = x;
					return;
				}
			}
		}
	/* Below every label placed: always free. */
	m->lane = 0;
	for (size_t k = 0; k < i; k++)
		if (pl[k].lane + pl[k].span > m->lane)
			m->lane = pl[k].lane + pl[k].span;
	m->x = fmax(0, fmin(cand[1], width - m->w));
}

static int cmp_pending(const void *a, const void *b)
{
	const struct pending_label *x = a, *y = b;

	return x->leader > y->leader ? -1 : x->leader < y->leader;
}

static const char *run_text(struct builder *bd, const struct run *r)
{
	const struct clip *a = &bd->c[r->first], *z = &bd->c[r->last];

	if (r->n == 1)
		return keepf(bd->l, "#%" PRId64 "\n%s", a->entry, r->word);
	if (r->n == 2)
		return keepf(bd->l, "#%" PRId64 ", #%" PRId64 "\n%s", a->entry, z->entry, r->word);
	/* "#12–#40 (29)": the first and the last entry and how many, as the legend says. */
	return keepf(bd->l, "#%" PRId64 "–#%" PRId64 " (%zu)\n%s", a->entry, z->entry, r->n,
		     r->word);
}

static int cmp_clip_x(const void *a, const void *b)
{
	const struct clip *const *x = a, *const *y = b;

	if ((*x)->x0 != (*y)->x0)
		return (*x)->x0 < (*y)->x0 ? -1 : 1;
	return (*x)->lane < (*y)->lane ? -1 : (*x)->lane > (*y)->lane;
}

/* Paint one row: frames, breaks, clips, then the labels packed in lanes under the bars. */
static int make_row(struct builder *bd, size_t s0, size_t s1, double y)
{
	struct tl_layout *l = bd->l;
	unsigned lanes = 1;
	double ybar = y + 2 * TL_LINE + 0.6, ylab;
	struct pending_label *pl = NULL;
	size_t npl = 0, cappl = 0;
	unsigned nlanes = 0;
	int r = -ENOMEM;

	for (size_t i = s0; i < s1; i++)
		if (bd->seg[i].el->lanes > lanes)
			lanes = bd->seg[i].el->lanes;
	ylab = ybar + lanes * TL_BAR_H + 1.4;
	for (size_t i = s0; i < s1; i++) {
		const struct seg *s = &bd->seg[i];
		const struct el *e = s->el;
		double x0 = s->x + TL_PAD - s->a;
		struct tl_box *b;
		struct clip **v;
		size_t nv = 0;

		if (e->kind == EL_BREAK) {
			b = add_box(l, TL_BOX_BREAK);
			if (!b)
				goto out;
			b->status = e->gap ? e->gap->st : TL_GAP_EXPLAINED;
			b->row = s->row;
			b->x = s->x;
			b->y = ybar;
			b->w = s->w;
			b->h = TL_BAR_H;
			if (e->gap) {
				b->ref = e->gap->ref;
				b->entry = e->gap->entry;
				b->flags = e->gap->timed ? 0 : TL_F_UNTIMED;
			} else {
				b->flags = TL_F_NO_GAP;
			}
			b = add_label(l, s->head, s->x + s->w / 2, y, 0, TL_FONT);
			if (!b)
				goto out;
			b->row = s->row;
			b->status = e->gap ? e->gap->st : TL_GAP_EXPLAINED;
			if (e->gap && e->gap->st == TL_GAP_UNEXPLAINED)
				b->flags |= TL_F_BOLD;
			continue;
		}
		b = add_box(l, TL_BOX_CLUSTER);
		if (!b)
			goto out;
		b->row = s->row;
		b->flags = s->flags | (e->kind == EL_UNTIMED ? TL_F_UNTIMED : 0);
		b->x = s->x;
		b->y = ybar - 0.6;
		b->w = s->w;
		b->h = e->lanes * TL_BAR_H + 1.2;
		b = add_label(l, s->head, s->x + TL_PAD, y, -1, TL_FONT);
		if (!b)
			goto out;
		b->row = s->row;
		if (e->kind == EL_CLUSTER && !(s->flags & TL_F_CONT_RIGHT) && e->e > e->s) {
			/* Its end too, where there is room beside the start. */
			char d0[12], t0[10], d1[12], t1[10];
			const char *end;
			double headw = b->w;

			date_and_time(bd, cluster_time_at(e, s->a), d0, t0);
			date_and_time(bd, e->e, d1, t1);
			end = keepf(l, "%s\n%s", strcmp(d0, d1) ? d1 : "", t1);
			if (end && text_w(end, TL_FONT) + 0.8 + headw + 2 <= s->w - 2 * TL_PAD) {
				b = add_label(l, end, s->x + s->w - TL_PAD, y, 1, TL_FONT);
				if (!b)
					goto out;
				b->row = s->row;
			}
		}
		/* The clips of this part, in x order, for the runs. */
		v = calloc(e->nc ? e->nc : 1, sizeof(*v));
		if (!v)
			goto out;
		for (size_t k = 0; k < e->nc; k++) {
			struct clip *c = &bd->c[e->c0 + k];
			double cx0 = fmax(c->x0, s->a), cx1 = fmin(c->x1, s->b);

			if (cx1 - cx0 <= 1e-9)
				continue;
			b = add_box(l, TL_BOX_CLIP);
			if (!b) {
				free(v);
				goto out;
			}
			b->status = c->st;
			b->row = s->row;
			b->x = x0 + cx0;
			b->w = cx1 - cx0;
			b->y = ybar + c->lane * TL_BAR_H + 0.4;
			b->h = TL_BAR_H - 0.8;
			b->ref = c->ref;
			b->entry = c->entry;
			b->flags = (c->x0 < s->a - 1e-9 ? TL_F_CONT_LEFT : 0) |
				   (c->x1 > s->b + 1e-9 ? TL_F_CONT_RIGHT : 0) |
				   (c->unk ? TL_F_UNKNOWN_LENGTH : 0) |
				   (e->kind == EL_UNTIMED ? TL_F_UNTIMED : 0);
			if (c->x0 >= s->a - 1e-9)
				v[nv++] = c;
		}
		qsort(v, nv, sizeof(*v), cmp_clip_x);
		for (size_t k = 0; k < nv;) {
			struct run run = { .first = (size_t)(v[k] - bd->c),
					   .n = 1,
					   .x0 = v[k]->x0,
					   .x1 = v[k]->x1,
					   .st = v[k]->st,
					   .open = v[k]->open,
					   .word = v[k]->word };
			size_t j = k + 1;

			while (j < nv && v[j]->st == run.st && !strcmp(v[j]->word, run.word) &&
			       v[j]->unk == v[k]->unk) {
				run.x1 = fmax(run.x1, v[j]->x1);
				run.n++;
				j++;
			}
			run.last = (size_t)(v[j - 1] - bd->c);
			if (npl == cappl) {
				size_t cap = cappl ? 2 * cappl : 16;
				struct pending_label *p = realloc(pl, cap * sizeof(*p));

				if (!p) {
					free(v);
					goto out;
				}
				pl = p;
				cappl = cap;
			}
			pl[npl].text = run_text(bd, &run);
			if (!pl[npl].text) {
				free(v);
				goto out;
			}
			/* A label wider than the row (a long list of words in a narrow one)
			 * wraps, and takes as many lanes as it needs. */
			pl[npl].w = text_w(pl[npl].text, TL_FONT) + 0.8;
			if (pl[npl].w > bd->width) {
				pl[npl].text = wrap_text(l, pl[npl].text, TL_FONT, bd->width - 0.8);
				if (!pl[npl].text) {
					free(v);
					goto out;
				}
				pl[npl].w = text_w(pl[npl].text, TL_FONT) + 0.8;
			}
			pl[npl].span = (text_lines(pl[npl].text) + 1) / 2;
			pl[npl].leader = x0 + (fmax(run.x0, s->a) + fmin(run.x1, s->b)) / 2;
			pl[npl].bold = run.open;
			pl[npl].st = run.st;
			npl++;
			k = j;
		}
		free(v);
	}
	/* Labels right to left, each in the first lane where it meets nothing. */
	if (npl) /* pl may be NULL then, which qsort() must not be given */
		qsort(pl, npl, sizeof(*pl), cmp_pending);
	for (size_t i = 0; i < npl; i++) {
		struct tl_box *b;

		place_label(pl, i, npl, bd->width);
		if (pl[i].lane + pl[i].span > nlanes)
			nlanes = pl[i].lane + pl[i].span;
		b = add_label(l, pl[i].text, pl[i].x, ylab + pl[i].lane * (2 * TL_LINE + 0.8), -1,
			      TL_FONT);
		if (!b)
			goto out;
		b->row = bd->seg[s0].row;
		b->status = pl[i].st;
		b->leader_x = pl[i].leader;
		b->leader_y = ybar + lanes * TL_BAR_H;
		if (pl[i].bold)
			b->flags |= TL_F_BOLD;
	}
	l->height = ylab + nlanes * (2 * TL_LINE + 0.8) + TL_ROW_GAP;
	r = 0;
out:
	free(pl);
	return l->oom ? -ENOMEM : r;
}

/* The one line that says the zone: "Times in UTC+08:00 (Asia/Shanghai)". */
static int make_note(struct builder *bd)
{
	char o1[16], o2[16], what[48];
	int64_t t0 = 0, t1 = 0;
	bool any = false;
	const char *name = bd->tz ? ing_tz_name(bd->tz) : "UTC", *note;
	struct tl_box *b;

	for (size_t i = 0; i < bd->nc; i++) {
		if (!bd->c[i].timed)
			continue;
		if (!any || bd->c[i].s < t0)
			t0 = bd->c[i].s;
		if (!any || bd->c[i].e > t1)
			t1 = bd->c[i].e;
		any = true;
	}
	show_offset(bd->tz, t0, o1, sizeof(o1));
	show_offset(bd->tz, t1, o2, sizeof(o2));
	if (strcmp(o1, o2))
		snprintf(what, sizeof(what), "UTC%s → UTC%s", o1, o2);
	else
		snprintf(what, sizeof(what), "UTC%s", o1);
	/* Translators: the first %s is "UTC+08:00", the second the zone's name. */
	note = keepf(bd->l, _("Times in %s (%s); each cluster has its own scale."), what, name);
	b = add_label(bd->l, note, 0, 0, -1, TL_FONT);
	if (!b)
		return -ENOMEM;
	bd->l->height = b->h;
	return 0;
}

/* Where each row begins (the first at 0, with the zone's line), from its boxes. */
static int set_rows(struct tl_layout *l)
{
	unsigned n = 1;

	for (size_t i = 0; i < l->n; i++)
		if (l->box[i].row + 1 > n)
			n = l->box[i].row + 1;
	l->rowtop = malloc((n + 1) * sizeof(*l->rowtop));
	if (!l->rowtop)
		return -ENOMEM;
	for (unsigned r = 0; r <= n; r++)
		l->rowtop[r] = r == 0 ? 0 : l->height;
	for (size_t i = 0; i < l->n; i++)
		if (l->box[i].row > 0 && l->box[i].y < l->rowtop[l->box[i].row])
			l->rowtop[l->box[i].row] = l->box[i].y;
	l->nrows = n;
	return 0;
}

static void builder_done(struct builder *bd)
{
	for (size_t i = 0; i < bd->nel; i++) {
		free(bd->el[i].knot);
		free(bd->el[i].kx);
		free(bd->el[i].kpw);
	}
	free(bd->el);
	free(bd->seg);
	free(bd->c);
	free(bd->g);
}

int tl_build(const json_t *device, const struct ing_tz *tz, double width_mm, struct tl_layout **ret)
{
	const json_t *clips = json_object_get(device, "clips"),
		     *gaps = json_object_get(device, "gaps");
	struct builder bd = { .tz = tz, .width = width_mm };
	struct tl_layout *l;
	double y;
	int r;

	if (!json_is_object(device) || !(width_mm >= TL_MIN_WIDTH) || width_mm > 1e5)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	bd.l = l;
	l->width = width_mm;
	bd.nc = json_is_array(clips) ? json_array_size(clips) : 0;
	bd.ng = json_is_array(gaps) ? json_array_size(gaps) : 0;
	bd.c = calloc(bd.nc ? bd.nc : 1, sizeof(*bd.c));
	bd.g = calloc(bd.ng ? bd.ng : 1, sizeof(*bd.g));
	r = -ENOMEM;
	if (!bd.c || !bd.g)
		goto fail;
	for (size_t i = 0; i < bd.nc; i++)
		clip_load(json_array_get(clips, i), i, &bd.c[i]);
	for (size_t i = 0; i < bd.ng; i++)
		gap_load(json_array_get(gaps, i), i, &bd.g[i]);
	qsort(bd.c, bd.nc, sizeof(*bd.c), cmp_clip);
	qsort(bd.g, bd.ng, sizeof(*bd.g), cmp_gap);
	r = make_elements(&bd);
	if (r < 0)
		goto fail;
	r = make_rows(&bd);
	if (r < 0)
		goto fail;
	r = make_heads(&bd);
	if (r < 0)
		goto fail;
	r = make_note(&bd);
	if (r < 0)
		goto fail;
	y = l->height + 1.5;
	l->height = y;
	for (size_t i = 0; i < bd.nseg;) {
		size_t j = i + 1;

		while (j < bd.nseg && bd.seg[j].row == bd.seg[i].row)
			j++;
		r = make_row(&bd, i, j, y);
		if (r < 0)
			goto fail;
		y = l->height;
		i = j;
	}
	if (bd.nseg == 0) {
		struct tl_box *b = add_label(l, keepf(l, "%s", _("No clips.")), 0, y, -1, TL_FONT);

		if (!b)
			goto fail;
		l->height = y + TL_LINE + 1;
	}
	r = -ENOMEM;
	if (l->oom || set_rows(l) < 0)
		goto fail;
	builder_done(&bd);
	*ret = l;
	return 0;
fail:
	builder_done(&bd);
	tl_free(l);
	return r;
}

struct tl_layout *tl_free(struct tl_layout *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->nstrs; i++)
		free(l->strs[i]);
	free(l->strs);
	free(l->box);
	free(l->rowtop);
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

unsigned tl_rows(const struct tl_layout *l)
{
	return l->nrows;
}

double tl_row_top(const struct tl_layout *l, unsigned row)
{
	return l->rowtop[row < l->nrows ? row : l->nrows];
}

const struct tl_box *tl_boxes(const struct tl_layout *l, size_t *ret_n)
{
	*ret_n = l->n;
	return l->box;
}

/* ---- the legend ------------------------------------------------------------------------------ */

#define TL_SWATCH_W 9.0
#define TL_SWATCH_H 4.5

/* A sample box of the legend with its explanation beside it; @return the height used. */
static double legend_line(struct tl_layout *l, enum tl_box_kind kind, enum tl_status st,
			  unsigned flags, double x, double y, double w, const char *text, bool bold)
{
	struct tl_box *b = add_box(l, kind), *t;
	double h = TL_SWATCH_H;

	if (!b)
		return 0;
	b->status = st;
	b->flags = flags;
	b->x = x;
	b->y = y;
	b->w = w;
	b->h = TL_SWATCH_H;
	b->ref = (size_t)st;
	t = add_label(l, text, x + w + 1.2, y + (TL_SWATCH_H - TL_LINE) / 2, -1, TL_FONT);
	if (!t)
		return 0;
	if (bold)
		t->flags |= TL_F_BOLD;
	if (t->y + t->h > y + h)
		h = t->y + t->h - y;
	return h;
}

/* The legend as a layout: a swatch and its word per status, in columns, then the "?" extent,
 * the breaks and a run label explained. */
static int legend_build(double width, struct tl_layout **ret)
{
	struct tl_layout *l = calloc(1, sizeof(*l));
	double colw = 0, y, rowh = 0;
	unsigned cols;
	struct tl_box *b;

	if (!l)
		return -ENOMEM;
	l->width = width;
	for (int s = 0; s < TL__N; s++)
		colw = fmax(colw, TL_SWATCH_W + 1.2 + text_w(tl_status_word(s), TL_FONT) + 3);
	cols = (unsigned)(width / colw);
	cols = cols < 1 ? 1 : cols > TL__N ? TL__N : cols;
	colw = width / cols;
	b = add_label(l, keepf(l, "%s", _("Each clip and gap has a pattern and a word:")), 0, 0, -1,
		      TL_FONT);
	y = b ? b->h + 0.8 : 0;
	for (int s = 0; s < TL__N; s++) {
		double h;

		if (s && s % cols == 0) {
			y += rowh + 1.2;
			rowh = 0;
		}
		/* The columns' width holds every word: no wrapping here (l->width is wider). */
		h = legend_line(l, s >= TL_GAP_EXPLAINED ? TL_BOX_BREAK : TL_BOX_CLIP, s, 0,
				(s % cols) * colw, y, TL_SWATCH_W, tl_status_word(s),
				s == TL_LATE || s == TL_ALTERED || s == TL_GAP_UNEXPLAINED);
		rowh = fmax(rowh, h);
	}
	y += rowh + 2.5;
	y += legend_line(l, TL_BOX_CLIP, TL_DAMAGED, TL_F_UNKNOWN_LENGTH, 0, y, TL_UNKNOWN_W,
			 keepf(l, "%s",
			       _("a damaged file whose end is unknown: drawn from its start, with "
				 "\"?\"")),
			 false) +
	     1.2;
	y += legend_line(l, TL_BOX_BREAK, TL_GAP_UNEXPLAINED, 0, 0, y, TL_UNKNOWN_W,
			 keepf(l, "%s",
			       _("a break: the time left out between two clusters, its length "
				 "above it; each cluster is drawn on its own time scale")),
			 false) +
	     1.2;
	y += legend_line(l, TL_BOX_BREAK, TL_GAP_EXPLAINED, TL_F_NO_GAP, 0, y, TL_UNKNOWN_W,
			 keepf(l, "%s",
			       _("a blank break: time left out where no gap is checked (clips "
				 "without a device)")),
			 false) +
	     1.2;
	b = add_label(l,
		      keepf(l, "%s",
			    _("#12–#40 (29): 29 clips of the same status one after the other, the "
			      "first and the last by log entry. Bold words are open items.")),
		      0, y, -1, TL_FONT);
	y += b ? b->h + 0.5 : 0;
	l->height = y;
	if (l->oom || set_rows(l) < 0) {
		tl_free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

double tl_legend_height_mm(double width_mm)
{
	struct tl_layout *l = NULL;
	double h;

	if (legend_build(width_mm, &l) < 0)
		return 60;
	h = l->height;
	tl_free(l);
	return h;
}

/* ---- SVG ------------------------------------------------------------------------------------- */

static atomic_uint svg_serial;

static void svg_esc(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0) {
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c == '\'')
			fputs("&#39;", f);
		else if (utf8_is_unsafe(c))
			fputs("\xef\xbf\xbd", f);
		else
			fwrite(s + i, 1, k, f);
		i += k;
	}
}

static void svg_patterns(FILE *f, unsigned id)
{
	for (int s = 0; s < TL__N; s++) {
		const struct tl_pattern *p = &patterns[s];
		double z = p->spacing;
		const char *rot = "";

		if (p->fill == TL_FILL_SOLID || p->fill == TL_FILL_NONE)
			continue;
		if (p->fill == TL_FILL_HATCH_UP || p->fill == TL_FILL_CROSS)
			rot = " patternTransform=\"rotate(45)\"";
		else if (p->fill == TL_FILL_HATCH_DOWN)
			rot = " patternTransform=\"rotate(-45)\"";
		fprintf(f,
			"<pattern id=\"tl%u-%d\" width=\"%.3g\" height=\"%.3g\" "
			"patternUnits=\"userSpaceOnUse\"%s><rect width=\"%.3g\" height=\"%.3g\" "
			"fill=\"#%06" PRIx32 "\"/>",
			id, s, z, z, rot, z, z, p->bg);
		if (p->fill == TL_FILL_DOTS)
			fprintf(f,
				"<circle cx=\"%.3g\" cy=\"%.3g\" r=\"%.3g\" fill=\"#%06" PRIx32
				"\"/>",
				z / 2, z / 2, p->line, p->fg);
		if (p->fill == TL_FILL_HATCH_UP || p->fill == TL_FILL_HATCH_DOWN ||
		    p->fill == TL_FILL_VLINES || p->fill == TL_FILL_CROSS ||
		    p->fill == TL_FILL_GRID)
			fprintf(f,
				"<line x1=\"%.3g\" y1=\"0\" x2=\"%.3g\" y2=\"%.3g\" "
				"stroke=\"#%06" PRIx32 "\" stroke-width=\"%.3g\"/>",
				z / 2, z / 2, z, p->fg, p->line);
		if (p->fill == TL_FILL_HLINES || p->fill == TL_FILL_CROSS ||
		    p->fill == TL_FILL_GRID)
			fprintf(f,
				"<line x1=\"0\" y1=\"%.3g\" x2=\"%.3g\" y2=\"%.3g\" "
				"stroke=\"#%06" PRIx32 "\" stroke-width=\"%.3g\"/>",
				z / 2, z, z / 2, p->fg, p->line);
		fputs("</pattern>", f);
	}
}

static void svg_fill(FILE *f, unsigned id, enum tl_status s)
{
	const struct tl_pattern *p = &patterns[s];

	if (p->fill == TL_FILL_SOLID || p->fill == TL_FILL_NONE)
		fprintf(f, "fill=\"#%06" PRIx32 "\"", p->bg);
	else
		fprintf(f, "fill=\"url(#tl%u-%d)\"", id, (int)s);
}

/* The two slanted strokes of an axis break at @x, over a bar from @y of height @h. */
static void svg_break_mark(FILE *f, double x, double y, double h)
{
	fprintf(f,
		"<path d=\"M%.2f %.2fL%.2f %.2fL%.2f %.2fL%.2f %.2fZ\" fill=\"#fff\"/>"
		"<path d=\"M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2f\" stroke=\"#000\" "
		"stroke-width=\"0.25\"/>",
		x - 0.4, y + h + 0.6, x + 0.6, y - 0.6, x + 1.4, y - 0.6, x + 0.4, y + h + 0.6,
		x - 0.4, y + h + 0.6, x + 0.6, y - 0.6, x + 0.4, y + h + 0.6, x + 1.4, y - 0.6);
}

static void svg_box(FILE *f, unsigned id, const struct tl_box *b)
{
	const struct tl_pattern *p = &patterns[b->status];

	switch (b->kind) {
	case TL_BOX_CLUSTER:
		fprintf(f,
			"<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
			"stroke=\"#777\" stroke-width=\"0.15\"/>",
			b->x, b->y, b->w, b->h);
		/* Going on: a triangle in the frame's padding, pointing onwards. */
		if (b->flags & TL_F_CONT_RIGHT)
			fprintf(f, "<path d=\"M%.2f %.2fl0.9 1.2l-0.9 1.2z\" fill=\"#000\"/>",
				b->x + b->w - 0.95, b->y + b->h / 2 - 1.2);
		if (b->flags & TL_F_CONT_LEFT)
			fprintf(f, "<path d=\"M%.2f %.2fl0.9 1.2l-0.9 1.2z\" fill=\"#000\"/>",
				b->x + 0.05, b->y + b->h / 2 - 1.2);
		return;
	case TL_BOX_BREAK: {
		bool blank = b->flags & TL_F_NO_GAP;
		double x = b->x + 0.4, w = b->w - 0.8;

		fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" ", x,
			b->y + 0.8, w, b->h - 1.6);
		if (blank)
			fputs("fill=\"#fff\" stroke=\"#000\" stroke-width=\"0.2\" "
			      "stroke-dasharray=\"0.8 0.6\"/>",
			      f);
		else {
			svg_fill(f, id, b->status);
			fputs(" stroke=\"#000\" stroke-width=\"0.2\"/>", f);
		}
		svg_break_mark(f, x + 0.6, b->y + 0.8, b->h - 1.6);
		svg_break_mark(f, x + w - 2.0, b->y + 0.8, b->h - 1.6);
		return;
	}
	case TL_BOX_CLIP:
		fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" ", b->x,
			b->y, b->w, b->h);
		svg_fill(f, id, b->status);
		if (p->fill == TL_FILL_NONE)
			fputs(
			    " stroke=\"#000\" stroke-width=\"0.35\" stroke-dasharray=\"0.7 0.5\"/>",
			    f);
		else if (b->flags & TL_F_UNKNOWN_LENGTH)
			fputs(" stroke=\"none\"/>", f);
		else
			fputs(" stroke=\"#000\" stroke-width=\"0.2\"/>", f);
		if (b->flags & TL_F_UNKNOWN_LENGTH) {
			/* Left edge solid, the rest open: its end is not known. */
			double r = fmin(b->h / 2 - 0.3, 1.6), cx = b->x + b->w - r - 0.6;

			fprintf(
			    f,
			    "<path d=\"M%.2f %.2fH%.2fV%.2fH%.2f\" fill=\"none\" stroke=\"#000\" "
			    "stroke-width=\"0.2\"/><path d=\"M%.2f %.2fV%.2f\" stroke=\"#000\" "
			    "stroke-width=\"0.3\" stroke-dasharray=\"0.6 0.5\"/>",
			    b->x + b->w, b->y, b->x, b->y + b->h, b->x + b->w, b->x + b->w, b->y,
			    b->y + b->h);
			fprintf(f,
				"<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"#fff\" "
				"stroke=\"#000\" stroke-width=\"0.2\"/><text x=\"%.2f\" y=\"%.2f\" "
				"font-size=\"%.2f\" font-weight=\"bold\" "
				"text-anchor=\"middle\">?</text>",
				cx, b->y + b->h / 2, r, cx, b->y + b->h / 2 + r * 0.65, r * 1.8);
		}
		if (b->flags & TL_F_CONT_RIGHT)
			fprintf(f,
				"<path d=\"M%.2f %.2fv%.2f\" stroke=\"#fff\" stroke-width=\"0.5\" "
				"stroke-dasharray=\"0.5 0.5\"/>",
				b->x + b->w, b->y, b->h);
		return;
	case TL_BOX_LABEL: {
		const char *t = b->text;
		unsigned line = 0;

		fprintf(
		    f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#fff\"/>",
		    b->x, b->y, b->w, b->h);
		while (t) {
			const char *nl = strchr(t, '\n');
			size_t len = nl ? (size_t)(nl - t) : strlen(t);

			if (len) {
				double x = b->align < 0	   ? b->x + 0.4
					   : b->align == 0 ? b->x + b->w / 2
							   : b->x + b->w - 0.4;

				fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.2f\"%s%s>", x,
					b->y + line * b->font * 1.25 + b->font * 0.95, b->font,
					b->flags & TL_F_BOLD ? " font-weight=\"bold\"" : "",
					b->align < 0	? ""
					: b->align == 0 ? " text-anchor=\"middle\""
							: " text-anchor=\"end\"");
				svg_esc(f, t, len);
				fputs("</text>", f);
			}
			line++;
			t = nl ? nl + 1 : NULL;
		}
		return;
	}
	}
}

static void svg_leader(FILE *f, const struct tl_box *b)
{
	double lx = fmin(fmax(b->leader_x, b->x + 0.4), b->x + b->w - 0.4);

	fprintf(f, "<path d=\"M%.2f %.2fL%.2f %.2f\" stroke=\"#000\" stroke-width=\"0.15\"/>",
		b->leader_x, b->leader_y, lx, b->y);
}

/* Rows @r0 to @r1 (excluded) of @l as one <svg>, the top of @r0 at its top. */
static int svg_layout(const struct tl_layout *l, unsigned r0, unsigned r1, const char *aria,
		      FILE *out)
{
	unsigned id = atomic_fetch_add(&svg_serial, 1);
	double top, h;

	r1 = r1 < l->nrows ? r1 : l->nrows;
	r0 = r0 < r1 ? r0 : r1;
	top = l->rowtop[r0];
	h = l->rowtop[r1] - top;
	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 %.2f %.2f %.2f\" "
		"width=\"%.2fmm\" height=\"%.2fmm\" role=\"img\" aria-label=\"",
		top, l->width, h, l->width, h);
	svg_esc(out, aria, strlen(aria));
	fprintf(out, "\" font-family=\"%s\"><defs>", TL_FONT_FAMILY);
	svg_patterns(out, id);
	fprintf(out, "</defs><rect y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#fff\"/>", top,
		l->width, h);
	/* Leaders under every label: one that must cross a label goes under it, not over. */
	for (size_t i = 0; i < l->n; i++)
		if (l->box[i].row >= r0 && l->box[i].row < r1 && l->box[i].kind != TL_BOX_LABEL)
			svg_box(out, id, &l->box[i]);
	for (size_t i = 0; i < l->n; i++)
		if (l->box[i].row >= r0 && l->box[i].row < r1 && l->box[i].kind == TL_BOX_LABEL &&
		    l->box[i].leader_x >= 0)
			svg_leader(out, &l->box[i]);
	for (size_t i = 0; i < l->n; i++)
		if (l->box[i].row >= r0 && l->box[i].row < r1 && l->box[i].kind == TL_BOX_LABEL)
			svg_box(out, id, &l->box[i]);
	fputs("</svg>", out);
	return ferror(out) ? -EIO : 0;
}

int tl_svg(const struct tl_layout *l, FILE *out)
{
	return svg_layout(l, 0, l->nrows, _("timeline of the device's clips and gaps"), out);
}

int tl_svg_rows(const struct tl_layout *l, unsigned row0, unsigned row1, FILE *out)
{
	return svg_layout(l, row0, row1, _("timeline of the device's clips and gaps"), out);
}

int tl_legend_svg(double width_mm, FILE *out)
{
	struct tl_layout *l = NULL;
	int r = legend_build(width_mm, &l);

	if (r < 0)
		return r;
	r = svg_layout(l, 0, 1, _("legend of the timelines"), out);
	tl_free(l);
	return r;
}

/* ---- cairo ----------------------------------------------------------------------------------- */

static void set_rgb(cairo_t *cr, uint32_t c)
{
	cairo_set_source_rgb(cr, (c >> 16) / 255.0, (c >> 8 & 0xff) / 255.0, (c & 0xff) / 255.0);
}

/* Fill the current path with @s's pattern, keeping the path; the pattern is anchored at the
 * layout's origin, as in SVG (patternUnits userSpaceOnUse), so that both look alike. */
static void cairo_fill_status(cairo_t *cr, enum tl_status s)
{
	const struct tl_pattern *p = &patterns[s];
	double x0, y0, x1, y1, angle = 0, z = p->spacing;
	cairo_path_t *path = cairo_copy_path(cr);

	cairo_save(cr);
	cairo_clip_preserve(cr);
	set_rgb(cr, p->bg);
	cairo_fill(cr);
	if (p->fill == TL_FILL_SOLID || p->fill == TL_FILL_NONE)
		goto done;
	if (p->fill == TL_FILL_HATCH_UP || p->fill == TL_FILL_CROSS)
		angle = M_PI / 4;
	else if (p->fill == TL_FILL_HATCH_DOWN)
		angle = -M_PI / 4;
	cairo_rotate(cr, angle);
	cairo_clip_extents(cr, &x0, &y0, &x1, &y1);
	set_rgb(cr, p->fg);
	cairo_set_line_width(cr, p->line);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
	x0 = floor(x0 / z) * z;
	y0 = floor(y0 / z) * z;
	if (p->fill == TL_FILL_DOTS) {
		for (double y = y0; y < y1 + z; y += z)
			for (double x = x0; x < x1 + z; x += z) {
				cairo_new_sub_path(cr);
				cairo_arc(cr, x + z / 2, y + z / 2, p->line, 0, 2 * M_PI);
			}
		cairo_fill(cr);
		goto done;
	}
	if (p->fill != TL_FILL_HLINES)
		for (double x = x0; x < x1 + z; x += z) {
			cairo_move_to(cr, x + z / 2, y0 - z);
			cairo_line_to(cr, x + z / 2, y1 + z);
		}
	if (p->fill == TL_FILL_HLINES || p->fill == TL_FILL_CROSS || p->fill == TL_FILL_GRID)
		for (double y = y0; y < y1 + z; y += z) {
			cairo_move_to(cr, x0 - z, y + z / 2);
			cairo_line_to(cr, x1 + z, y + z / 2);
		}
	cairo_stroke(cr);
done:
	/* The caller strokes the same outline. */
	cairo_restore(cr);
	cairo_new_path(cr);
	cairo_append_path(cr, path);
	cairo_path_destroy(path);
}

static void cairo_break_mark(cairo_t *cr, double x, double y, double h)
{
	cairo_move_to(cr, x - 0.4, y + h + 0.6);
	cairo_line_to(cr, x + 0.6, y - 0.6);
	cairo_line_to(cr, x + 1.4, y - 0.6);
	cairo_line_to(cr, x + 0.4, y + h + 0.6);
	cairo_close_path(cr);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_fill(cr);
	cairo_move_to(cr, x - 0.4, y + h + 0.6);
	cairo_line_to(cr, x + 0.6, y - 0.6);
	cairo_move_to(cr, x + 0.4, y + h + 0.6);
	cairo_line_to(cr, x + 1.4, y - 0.6);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_set_line_width(cr, 0.25);
	cairo_stroke(cr);
}

static PangoLayout *text_layout(cairo_t *cr, double font, bool bold)
{
	PangoLayout *pl = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(
	    "Noto Sans CJK SC, Noto Sans SC, Noto Sans, DejaVu Sans, sans-serif");
	cairo_font_options_t *fo = cairo_font_options_create();
	PangoContext *ctx = pango_layout_get_context(pl);

	/* Sizes are in mm (the caller's scale): hinting would round them to whole units. */
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(ctx, fo);
	cairo_font_options_destroy(fo);
	pango_context_set_round_glyph_positions(ctx, FALSE);
	pango_font_description_set_absolute_size(fd, font * PANGO_SCALE);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(pl, fd);
	pango_font_description_free(fd);
	pango_layout_context_changed(pl);
	return pl;
}

/* One line of text with its top at @y, shrunk to @maxw when wider. */
static void cairo_text_line(cairo_t *cr, const char *s, size_t len, double x, double y, double maxw,
			    int align, double font, bool bold)
{
	PangoLayout *pl = text_layout(cr, font, bold);
	int w, h;
	double tw, scale = 1;

	pango_layout_set_text(pl, s, (int)len);
	pango_layout_get_size(pl, &w, &h);
	tw = (double)w / PANGO_SCALE;
	if (tw > maxw && tw > 0)
		scale = maxw / tw;
	cairo_save(cr);
	cairo_move_to(cr,
		      align < 0	   ? x
		      : align == 0 ? x - tw * scale / 2
				   : x - tw * scale,
		      y + font * 1.25 * (1 - scale) / 2);
	cairo_scale(cr, scale, scale);
	cairo_set_source_rgb(cr, 0, 0, 0);
	/* The line's box is font × 1.25 tall: centre pango's logical box in it. */
	cairo_rel_move_to(cr, 0, (font * 1.25 - (double)h / PANGO_SCALE) / 2);
	pango_cairo_show_layout(cr, pl);
	cairo_restore(cr);
	g_object_unref(pl);
}

static void cairo_box(cairo_t *cr, const struct tl_box *b)
{
	const struct tl_pattern *p = &patterns[b->status];

	cairo_new_path(cr);
	switch (b->kind) {
	case TL_BOX_CLUSTER:
		cairo_rectangle(cr, b->x, b->y, b->w, b->h);
		cairo_set_source_rgb(cr, 0.47, 0.47, 0.47);
		cairo_set_line_width(cr, 0.15);
		cairo_stroke(cr);
		if (b->flags & TL_F_CONT_RIGHT) {
			cairo_move_to(cr, b->x + b->w - 0.95, b->y + b->h / 2 - 1.2);
			cairo_rel_line_to(cr, 0.9, 1.2);
			cairo_rel_line_to(cr, -0.9, 1.2);
			cairo_close_path(cr);
		}
		if (b->flags & TL_F_CONT_LEFT) {
			cairo_move_to(cr, b->x + 0.05, b->y + b->h / 2 - 1.2);
			cairo_rel_line_to(cr, 0.9, 1.2);
			cairo_rel_line_to(cr, -0.9, 1.2);
			cairo_close_path(cr);
		}
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_fill(cr);
		return;
	case TL_BOX_BREAK: {
		bool blank = b->flags & TL_F_NO_GAP;
		double x = b->x + 0.4, w = b->w - 0.8, y = b->y + 0.8, h = b->h - 1.6;
		static const double dash[] = { 0.8, 0.6 };

		cairo_rectangle(cr, x, y, w, h);
		if (blank) {
			cairo_set_source_rgb(cr, 1, 1, 1);
			cairo_fill_preserve(cr);
			cairo_set_dash(cr, dash, 2, 0);
		} else {
			cairo_fill_status(cr, b->status);
		}
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 0.2);
		cairo_stroke(cr);
		cairo_set_dash(cr, NULL, 0, 0);
		cairo_break_mark(cr, x + 0.6, y, h);
		cairo_break_mark(cr, x + w - 2.0, y, h);
		return;
	}
	case TL_BOX_CLIP: {
		static const double dash[] = { 0.7, 0.5 }, dots[] = { 0.6, 0.5 };

		cairo_rectangle(cr, b->x, b->y, b->w, b->h);
		cairo_fill_status(cr, b->status);
		cairo_set_source_rgb(cr, 0, 0, 0);
		if (b->flags & TL_F_UNKNOWN_LENGTH) {
			double r = fmin(b->h / 2 - 0.3, 1.6), cx = b->x + b->w - r - 0.6;

			cairo_new_path(cr);
			cairo_move_to(cr, b->x + b->w, b->y);
			cairo_line_to(cr, b->x, b->y);
			cairo_line_to(cr, b->x, b->y + b->h);
			cairo_line_to(cr, b->x + b->w, b->y + b->h);
			cairo_set_line_width(cr, 0.2);
			cairo_stroke(cr);
			cairo_move_to(cr, b->x + b->w, b->y);
			cairo_line_to(cr, b->x + b->w, b->y + b->h);
			cairo_set_dash(cr, dots, 2, 0);
			cairo_set_line_width(cr, 0.3);
			cairo_stroke(cr);
			cairo_set_dash(cr, NULL, 0, 0);
			cairo_arc(cr, cx, b->y + b->h / 2, r, 0, 2 * M_PI);
			cairo_set_source_rgb(cr, 1, 1, 1);
			cairo_fill_preserve(cr);
			cairo_set_source_rgb(cr, 0, 0, 0);
			cairo_set_line_width(cr, 0.2);
			cairo_stroke(cr);
			cairo_text_line(cr, "?", 1, cx, b->y + b->h / 2 - r * 1.8 * 1.25 / 2, 2 * r,
					0, r * 1.8, true);
		} else {
			if (p->fill == TL_FILL_NONE)
				cairo_set_dash(cr, dash, 2, 0);
			cairo_set_line_width(cr, p->fill == TL_FILL_NONE ? 0.35 : 0.2);
			cairo_stroke(cr);
			cairo_set_dash(cr, NULL, 0, 0);
		}
		if (b->flags & TL_F_CONT_RIGHT) {
			cairo_move_to(cr, b->x + b->w, b->y);
			cairo_rel_line_to(cr, 0, b->h);
			cairo_set_source_rgb(cr, 1, 1, 1);
			cairo_set_line_width(cr, 0.5);
			cairo_set_dash(cr, dots, 2, 0);
			cairo_stroke(cr);
			cairo_set_dash(cr, NULL, 0, 0);
		}
		return;
	}
	case TL_BOX_LABEL: {
		const char *t = b->text;
		unsigned line = 0;

		cairo_rectangle(cr, b->x, b->y, b->w, b->h);
		cairo_set_source_rgb(cr, 1, 1, 1);
		cairo_fill(cr);
		while (t) {
			const char *nl = strchr(t, '\n');
			size_t len = nl ? (size_t)(nl - t) : strlen(t);
			double x = b->align < 0	   ? b->x + 0.4
				   : b->align == 0 ? b->x + b->w / 2
						   : b->x + b->w - 0.4;

			if (len)
				cairo_text_line(cr, t, len, x, b->y + line * b->font * 1.25,
						b->w - 0.8, b->align, b->font,
						b->flags & TL_F_BOLD);
			line++;
			t = nl ? nl + 1 : NULL;
		}
		return;
	}
	}
}

static bool in_rows(const struct tl_box *b, unsigned r0, unsigned r1)
{
	return b->row >= r0 && b->row < r1;
}

static void cairo_layout(const struct tl_layout *l, cairo_t *cr, double x_mm, double y_mm,
			 unsigned r0, unsigned r1)
{
	r1 = r1 < l->nrows ? r1 : l->nrows;
	r0 = r0 < r1 ? r0 : r1;
	cairo_save(cr);
	cairo_translate(cr, x_mm, y_mm - l->rowtop[r0]);
	for (size_t i = 0; i < l->n; i++)
		if (in_rows(&l->box[i], r0, r1) && l->box[i].kind != TL_BOX_LABEL)
			cairo_box(cr, &l->box[i]);
	for (size_t i = 0; i < l->n; i++) {
		const struct tl_box *b = &l->box[i];

		if (!in_rows(b, r0, r1) || b->kind != TL_BOX_LABEL || b->leader_x < 0)
			continue;
		cairo_move_to(cr, b->leader_x, b->leader_y);
		cairo_line_to(cr, fmin(fmax(b->leader_x, b->x + 0.4), b->x + b->w - 0.4), b->y);
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 0.15);
		cairo_stroke(cr);
	}
	for (size_t i = 0; i < l->n; i++)
		if (in_rows(&l->box[i], r0, r1) && l->box[i].kind == TL_BOX_LABEL)
			cairo_box(cr, &l->box[i]);
	cairo_restore(cr);
}

void tl_cairo(const struct tl_layout *l, cairo_t *cr, double x_mm, double y_mm)
{
	cairo_layout(l, cr, x_mm, y_mm, 0, l->nrows);
}

void tl_cairo_rows(const struct tl_layout *l, cairo_t *cr, double x_mm, double y_mm, unsigned row0,
		   unsigned row1)
{
	cairo_layout(l, cr, x_mm, y_mm, row0, row1);
}

static int swatch_build(enum tl_status s, double w, double h, struct tl_layout **ret)
{
	struct tl_layout *l = calloc(1, sizeof(*l));
	struct tl_box *b;

	if (!l)
		return -ENOMEM;
	b = add_box(l, TL_BOX_CLIP);
	if (!b) {
		tl_free(l);
		return -ENOMEM;
	}
	b->status = (unsigned)s < TL__N ? s : TL_ON_TIME;
	b->x = 0.2;
	b->y = 0.2;
	b->w = w - 0.4;
	b->h = h - 0.4;
	l->width = w;
	l->height = h;
	if (set_rows(l) < 0) {
		tl_free(l);
		return -ENOMEM;
	}
	*ret = l;
	return 0;
}

int tl_swatch_svg(enum tl_status s, double w_mm, double h_mm, FILE *out)
{
	struct tl_layout *l = NULL;
	int r = swatch_build(s, w_mm, h_mm, &l);

	if (r < 0)
		return r;
	r = svg_layout(l, 0, 1, tl_status_word(s), out);
	tl_free(l);
	return r;
}

void tl_swatch_cairo(enum tl_status s, cairo_t *cr, double x_mm, double y_mm, double w_mm,
		     double h_mm)
{
	struct tl_layout *l = NULL;

	if (swatch_build(s, w_mm, h_mm, &l) < 0)
		return;
	cairo_layout(l, cr, x_mm, y_mm, 0, 1);
	tl_free(l);
}

void tl_legend_cairo(cairo_t *cr, double x_mm, double y_mm, double width_mm)
{
	struct tl_layout *l = NULL;

	if (legend_build(width_mm, &l) < 0)
		return;
	cairo_layout(l, cr, x_mm, y_mm, 0, 1);
	tl_free(l);
}

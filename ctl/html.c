/* ctl/html.c: `custodyctl review CASE --html FILE`, the case review (docs/review-format.md) as
 * one self-contained HTML page for the legal reviewer, to read on screen or print.
 *
 * DESIGN
 * - Self-contained: one file, inline CSS and inline SVG, no script, nothing loaded from
 *   elsewhere; a Content-Security-Policy meta forbids both, so that even a mistake in the
 *   escaping below could not run anything.  The page is also well-formed XML (polyglot
 *   HTML5: every element closed, only numeric character references), so `xmllint` can check it.
 * - Every string of the review is untrusted (file names, officers, reasons come from users):
 *   put_text() escapes & < > " ' everywhere, text and attributes alike, and replaces what a
 *   reader could be fooled by or XML refuses (invalid UTF-8, C0/C1 controls, bidi overrides,
 *   noncharacters) with U+FFFD.
 * - Colours never carry meaning alone: each status has an SVG <pattern> (solid, dots, hatching,
 *   cross-hatching) and a word in the legend and the tables, and `@media print` keeps the fills,
 *   so a black-and-white printout still tells late from on time and explained from unexplained.
 * - A timeline per device, on its own time axis (UTC ticks chosen from 1 s to 1 year steps).
 *   Up to CTL_HTML_SVG_MAX_ITEMS clips and gaps it draws each one, with overlapping clips in up
 *   to CTL_HTML_LANES lanes; beyond that it draws CTL_HTML_BINS equal intervals, each coloured
 *   with the worst status found in it, and says so on the page.  The tables always list
 *   everything, so 10,000 clips make a long page, never an unusable drawing.
 * - The review is rendered as it is: missing or ill-typed fields show as "—", never an error;
 *   only the file can fail.  It is written to a temporary file beside the target, fsynced and
 *   renamed, as every file custody writes for others.
 * Any thread: no state outside the call.
 *
 * One file because it writes one page: the timelines, the tables and the legend share the
 * loaded clips and gaps (struct clip, struct gap), the status patterns and the escaping
 * (put_text()), and only ctl_review_html() is exported. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "ctl/html.h"
#include "base/err.h"
#include "base/utf8.h"

#define CTL_HTML_SVG_MAX_ITEMS 300 /* clips + gaps of a device drawn one by one */
#define CTL_HTML_BINS 300	   /* intervals of an aggregated timeline */
#define CTL_HTML_LANES 3	   /* rows for overlapping clips */
#define CTL_HTML_OPEN_MAX 30	   /* open items listed at the top */
#define CTL_HTML_UNTIMED_MAX 50	   /* clips of unknown time named under a timeline */
#define CTL_HTML_TEXT_MAX 400	   /* characters of an annotation's text shown */

/* SVG geometry, in user units (the SVG scales to the page width). */
#define SVG_W 1200.0
#define SVG_L 96.0 /* row labels */
#define SVG_R 16.0
#define SVG_PW (SVG_W - SVG_L - SVG_R)
#define SVG_BODY 22.0 /* storage part of a clip bar */
#define SVG_STRIP 9.0 /* integrity strip under it */
#define SVG_LANE 36.0 /* body + strip + space */
#define SVG_GAPROW 18.0
#define SVG_MIN_BAR 3.0 /* a short clip or gap stays visible */

/* ---- statuses, worst last: an aggregated interval shows the highest -------------------------- */

enum st { ST_NONE, ST_ON_TIME, ST_REMOTE, ST_UNKNOWN, ST_LATE_EXPL, ST_LATE, ST__N };
enum ig { IG_NONE, IG_OK, IG_UNCHECKED, IG_PURGED, IG_MISSING, IG_ALTERED, IG__N };
enum dm { DM_NONE, DM_REPORTED, DM_OPEN };
enum gp { GP_NONE, GP_EXPLAINED, GP_OPEN, GP__N };

enum pat_kind { P_SOLID, P_DIAG, P_BDIAG, P_CROSS, P_DOTS, P_VLINES, P_HLINES };

struct pat {
	const char *id;
	enum pat_kind kind;
	const char *bg, *fg;
	double size, width;
	const char *label;
};

/* Indexed by enum st / ig / gp; [0] is unused. */
static const struct pat st_pat[ST__N] = {
	[ST_ON_TIME] = { "st1", P_SOLID, "#5cb85c", NULL, 6, 0, "stored on time" },
	[ST_REMOTE] = { "st2", P_DOTS, "#8fc1ee", "#123c66", 6, 1.4, "on time after remote duty" },
	[ST_UNKNOWN] = { "st3", P_VLINES, "#d4d4d4", "#333", 6, 1.2, "unknown or future time" },
	[ST_LATE_EXPL] = { "st4", P_DIAG, "#ffe0b0", "#8a5a00", 9, 1.2, "late, explained" },
	[ST_LATE] = { "st5", P_DIAG, "#f28c28", "#000", 5, 1.8, "LATE, not explained" },
};
static const struct pat ig_pat[IG__N] = {
	[IG_OK] = { "ig1", P_SOLID, "#b7dfb9", NULL, 6, 0, "original intact" },
	[IG_UNCHECKED] = { "ig2", P_SOLID, "#ffffff", NULL, 6, 0, "not checked" },
	[IG_PURGED] = { "ig3", P_HLINES, "#c8c8c8", "#222", 3, 1, "PURGED" },
	[IG_MISSING] = { "ig4", P_DOTS, "#f7c6d6", "#000", 4, 1.1, "MISSING" },
	[IG_ALTERED] = { "ig5", P_CROSS, "#d32f2f", "#000", 4, 1, "ALTERED" },
};
static const struct pat gp_pat[GP__N] = {
	[GP_EXPLAINED] = { "gp1", P_BDIAG, "#eeeeee", "#888", 9, 1, "gap, explained" },
	[GP_OPEN] = { "gp2", P_BDIAG, "#e53935", "#000", 5, 2.2, "GAP, NOT EXPLAINED" },
};

struct clip {
	const json_t *j;
	json_int_t index;
	int64_t s, e; /* µs since the epoch, valid when timed */
	bool timed;
	enum st st;
	enum ig ig;
	enum dm dm;
	unsigned lane;
};

struct gap {
	const json_t *j;
	int64_t s, e;
	bool timed;
	enum gp gp;
};

struct page {
	FILE *f;
	unsigned nsvg; /* prefix of the pattern ids of the next SVG */
};

/* ---- JSON accessors that accept anything ----------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jint(const json_t *o, const char *key, json_int_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*ret = json_integer_value(v);
	return true;
}

static bool jtrue(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static size_t jlen(const json_t *a)
{
	return json_is_array(a) ? json_array_size(a) : 0;
}

/* ---- time ------------------------------------------------------------------------------------ */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 3339 as the daemon writes it ("2026-11-28T09:00:00Z", optional fraction, or an offset)
 * into µs since the epoch.  False for anything else, which then counts as unknown. */
static bool parse_time(const char *s, int64_t *ret_us)
{
	int y, mo, d, h, mi, sec, n = 0;
	int64_t us = 0, off = 0;
	const char *p;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	p = s + n;
	if (*p == '.') {
		int64_t scale = 100000;

		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			us += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && p[1] && p[2] && p[3] == ':' && p[4] && p[5]) {
		int oh, om;

		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return false;
		off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	*ret_us =
	    ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off) * 1000000 + us;
	return true;
}

/* "45 s", "7 min 05 s", "42 min", "3 h 02 min", "2 d 4 h". */
static const char *fmt_dur(int64_t us, char *buf, size_t len)
{
	int64_t s = us / 1000000;

	if (us < 0)
		snprintf(buf, len, "—");
	else if (s < 10 && us % 1000000)
		snprintf(buf, len, "%.1f s", us / 1e6);
	else if (s < 60)
		snprintf(buf, len, "%" PRId64 " s", s);
	else if (s < 600)
		snprintf(buf, len, "%" PRId64 " min %02" PRId64 " s", s / 60, s % 60);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 " min", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 " h %02" PRId64 " min", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 " d %" PRId64 " h", s / 86400, s % 86400 / 3600);
	return buf;
}

/* ---- escaping -------------------------------------------------------------------------------- */

/* Write @len bytes of @s escaped for HTML text and quoted attributes alike, at most @max
 * characters (0: all) followed by "…" when cut. */
static void put_text_n(FILE *f, const char *s, size_t len, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t c;
		size_t k;

		if (max && n == max) {
			fputs("…", f);
			return;
		}
		k = utf8_decode((const uint8_t *)s + i, len - i, &c);
		n++;
		if (k == 0) {
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		switch (c) {
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
			/* XML refuses C0 and U+FFFE/U+FFFF; the rest must not reach a reader. */
			if (utf8_is_unsafe(c))
				fputs("\xef\xbf\xbd", f);
			else
				fwrite(s + i, 1, k, f);
		}
		i += k;
	}
}

static void put_text(FILE *f, const char *s)
{
	if (s)
		put_text_n(f, s, strlen(s), 0);
	else
		fputs("—", f);
}

/* A JSON string with its full length (jansson allows NUL inside). */
static void put_jstr(FILE *f, const json_t *v, size_t max)
{
	if (json_is_string(v))
		put_text_n(f, json_string_value(v), json_string_length(v), max);
	else
		fputs("—", f);
}

/* A time for reading: "2026-11-28 09:00:00Z"; anything else escaped as it is. */
static void put_time(FILE *f, const char *s)
{
	if (s && strlen(s) >= 19 && s[10] == 'T') {
		put_text_n(f, s, 10, 0);
		fputc(' ', f);
		put_text(f, s + 11);
	} else {
		put_text(f, s);
	}
}

/* Any JSON value, compactly: strings escaped, numbers as numbers, arrays of up to 20 items. */
static void put_value(FILE *f, const json_t *v, size_t max)
{
	if (json_is_string(v)) {
		put_jstr(f, v, max);
	} else if (json_is_integer(v)) {
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_null(v)) {
		fputs("—", f);
	} else if (json_is_array(v) && json_array_size(v) <= 20) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				fputs(", ", f);
			put_value(f, json_array_get(v, i), max);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < 20; i++) {
			put_value(f, json_array_get(v, i), max);
			fputs(", ", f);
		}
		fprintf(f, "… (%zu in all)", json_array_size(v));
	} else {
		auto_free char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		put_text_n(f, d ? d : "?", d ? strlen(d) : 1, max);
	}
}

/* "#3, #4, #9" from an array of entry indexes. */
static void put_indexes(FILE *f, const json_t *a)
{
	size_t n = jlen(a);

	if (n == 0) {
		fputs("—", f);
		return;
	}
	for (size_t i = 0; i < n && i < 50; i++) {
		const json_t *v = json_array_get(a, i);

		fputs(i ? ", #" : "#", f);
		put_value(f, v, 40);
	}
	if (n > 50)
		fprintf(f, " … (%zu in all)", n);
}

/* ---- classification -------------------------------------------------------------------------- */

static enum st storage_of(const json_t *c)
{
	const char *s = jstr(c, "storage_now");

	if (!s)
		s = jstr(c, "storage");
	if (!s)
		return ST_UNKNOWN;
	if (!strcmp(s, "on_time"))
		return ST_ON_TIME;
	if (!strcmp(s, "on_time_remote"))
		return ST_REMOTE;
	if (!strcmp(s, "late"))
		return jlen(json_object_get(c, "explained_by")) ? ST_LATE_EXPL : ST_LATE;
	return ST_UNKNOWN;
}

static enum ig integrity_of(const json_t *c)
{
	const char *s = jstr(c, "integrity");

	if (!s)
		return IG_UNCHECKED;
	if (!strcmp(s, "ok"))
		return IG_OK;
	if (!strcmp(s, "altered"))
		return IG_ALTERED;
	if (!strcmp(s, "missing"))
		return IG_MISSING;
	if (!strcmp(s, "purged"))
		return IG_PURGED;
	return IG_UNCHECKED;
}

static enum dm damage_of(const json_t *c)
{
	json_int_t r;

	if (!jtrue(c, "damaged") && !(jstr(c, "type") && !strcmp(jstr(c, "type"), "damaged")))
		return DM_NONE;
	return jint(c, "damage_report", &r) ? DM_REPORTED : DM_OPEN;
}

static void clip_load(const json_t *j, struct clip *c)
{
	int64_t dur = -1;
	json_int_t d;
	bool hs, he;

	*c = (struct clip){ .j = j, .index = -1 };
	jint(j, "index", &c->index);
	if (jint(j, "duration_us", &d) && d >= 0)
		dur = d;
	hs = parse_time(jstr(j, "recorded_start"), &c->s);
	he = parse_time(jstr(j, "recorded_end"), &c->e);
	/* One end known: the other from the duration, else a point. */
	if (hs && !he)
		c->e = c->s + (dur > 0 ? dur : 0);
	else if (!hs && he)
		c->s = c->e - (dur > 0 ? dur : 0);
	c->timed = hs || he;
	if (c->timed && c->e < c->s) {
		int64_t t = c->s;

		c->s = c->e;
		c->e = t;
	}
	c->st = storage_of(j);
	c->ig = integrity_of(j);
	c->dm = damage_of(j);
}

static void gap_load(const json_t *j, struct gap *g)
{
	json_int_t e;

	*g = (struct gap){ .j = j };
	g->timed =
	    parse_time(jstr(j, "from"), &g->s) && parse_time(jstr(j, "to"), &g->e) && g->e >= g->s;
	g->gp = jint(j, "explained_by", &e) ? GP_EXPLAINED : GP_OPEN;
}

/* ---- SVG pieces ------------------------------------------------------------------------------ */

static void put_pattern(FILE *f, unsigned n, const struct pat *p)
{
	double z = p->size;

	if (!p->id)
		return;
	if (p->kind == P_SOLID)
		return; /* filled directly */
	fprintf(
	    f,
	    "<pattern id=\"s%u-%s\" width=\"%g\" height=\"%g\" patternUnits=\"userSpaceOnUse\"%s>"
	    "<rect width=\"%g\" height=\"%g\" fill=\"%s\"/>",
	    n, p->id, z, z,
	    p->kind == P_DIAG	 ? " patternTransform=\"rotate(45)\""
	    : p->kind == P_BDIAG ? " patternTransform=\"rotate(-45)\""
				 : "",
	    z, z, p->bg);
	switch (p->kind) {
	case P_DIAG:
	case P_BDIAG:
	case P_VLINES:
		fprintf(f,
			"<line x1=\"%g\" y1=\"0\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
			"stroke-width=\"%g\"/>",
			z / 2, z / 2, z, p->fg, p->width);
		break;
	case P_HLINES:
		fprintf(f,
			"<line x1=\"0\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" "
			"stroke-width=\"%g\"/>",
			z / 2, z, z / 2, p->fg, p->width);
		break;
	case P_CROSS:
		fprintf(f, "<path d=\"M0 0L%g %gM%g 0L0 %g\" stroke=\"%s\" stroke-width=\"%g\"/>",
			z, z, z, z, p->fg, p->width);
		break;
	case P_DOTS:
		fprintf(f, "<circle cx=\"%g\" cy=\"%g\" r=\"%g\" fill=\"%s\"/>", z / 2, z / 2,
			p->width, p->fg);
		break;
	case P_SOLID:
		break;
	}
	fputs("</pattern>", f);
}

/* Each SVG carries its own patterns (ids prefixed s<n>-), so that it stands alone if copied. */
static unsigned svg_open(struct page *pg, double h, const char *label)
{
	unsigned n = pg->nsvg++;

	fprintf(pg->f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %g %g\" width=\"100%%\" "
		"role=\"img\" aria-label=\"%s\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
		"font-size=\"11\"><defs>",
		SVG_W, h, label);
	for (int i = 1; i < ST__N; i++)
		put_pattern(pg->f, n, &st_pat[i]);
	for (int i = 1; i < IG__N; i++)
		put_pattern(pg->f, n, &ig_pat[i]);
	for (int i = 1; i < GP__N; i++)
		put_pattern(pg->f, n, &gp_pat[i]);
	fputs("</defs>", pg->f);
	return n;
}

static void put_fill(FILE *f, unsigned n, const struct pat *p)
{
	if (p->kind == P_SOLID)
		fprintf(f, "fill=\"%s\"", p->bg);
	else
		fprintf(f, "fill=\"url(#s%u-%s)\"", n, p->id);
}

static void put_rect(FILE *f, unsigned n, const struct pat *p, double x, double y, double w,
		     double h, const char *extra)
{
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" ", x, y, w, h);
	put_fill(f, n, p);
	fprintf(f, " stroke=\"#000\" stroke-width=\"0.6\"%s/>", extra ? extra : "");
}

/* A damaged clip: a small square with "D", black when no damage_report is filed. */
static void put_damage_mark(FILE *f, enum dm dm, double x, double y)
{
	if (dm == DM_NONE)
		return;
	fprintf(
	    f,
	    "<rect x=\"%.1f\" y=\"%.1f\" width=\"11\" height=\"11\" fill=\"%s\" stroke=\"#000\" "
	    "stroke-width=\"1\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" font-weight=\"bold\" "
	    "text-anchor=\"middle\" fill=\"%s\">D</text>",
	    x, y, dm == DM_OPEN ? "#000" : "#fff", x + 5.5, y + 8.8,
	    dm == DM_OPEN ? "#fff" : "#000");
}

/* ---- the time axis --------------------------------------------------------------------------- */

struct axis {
	int64_t t0, t1; /* µs, t1 > t0 */
};

static double ax_x(const struct axis *a, int64_t t)
{
	return SVG_L + (double)(t - a->t0) / (double)(a->t1 - a->t0) * SVG_PW;
}

/* Ticks at round UTC instants, at most about one per 95 units, labelled HH:MM (with seconds for
 * steps under a minute) and the date under the first tick of each day. */
static void put_axis(FILE *f, const struct axis *a, double ytop, double yaxis)
{
	static const int64_t steps[] = { 1,	  2,	   5,	    10,	     15,     30,     60,
					 120,	  300,	   600,	    900,     1800,   3600,   7200,
					 10800,	  21600,   43200,   86400,   172800, 259200, 604800,
					 1209600, 2592000, 7776000, 31536000 };
	int64_t span = (a->t1 - a->t0) / 1000000 + 1, step = steps[0], t;
	int maxticks = (int)(SVG_PW / 95);
	int last_day = -1;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if (span / step <= maxticks)
			break;
	}
	if (i == sizeof(steps) / sizeof(steps[0]))
		step = (span / maxticks / 31536000 + 1) * 31536000;
	fprintf(f,
		"<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#000\" "
		"stroke-width=\"1\"/>",
		SVG_L, yaxis, SVG_L + SVG_PW, yaxis);
	/* The first multiple of step at or after t0 (floor division for times before 1970). */
	t = a->t0 / 1000000;
	t = (t >= 0 ? (t + step - 1) / step : -((-t) / step)) * step;
	for (; t * 1000000 <= a->t1; t += step) {
		time_t tt = (time_t)t;
		struct tm tm;
		double x = ax_x(a, t * 1000000);
		char hm[16], day[16];
		int dayno;

		if (x < SVG_L - 0.01)
			continue;
		gmtime_r(&tt, &tm);
		dayno = tm.tm_year * 400 + tm.tm_yday;
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		strftime(hm, sizeof(hm), step < 60 ? "%H:%M:%S" : "%H:%M", &tm);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" "
			"stroke-width=\"0.6\" stroke-dasharray=\"2 3\"/>"
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>",
			x, ytop, x, yaxis, x, yaxis, x, yaxis + 5);
		if (step >= 86400) {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
				x, yaxis + 17, day);
		} else {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
				x, yaxis + 17, hm);
			if (dayno != last_day)
				fprintf(f,
					"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
					"font-weight=\"bold\">%s</text>",
					x, yaxis + 30, day);
		}
		last_day = dayno;
	}
	fprintf(f, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\" font-weight=\"bold\">UTC</text>",
		SVG_L - 8, yaxis + 17);
}

/* ---- one device's timeline ------------------------------------------------------------------- */

static int cmp_clip_start(const void *a, const void *b)
{
	const struct clip *x = *(const struct clip *const *)a, *y = *(const struct clip *const *)b;

	return x->s < y->s ? -1 : x->s > y->s ? 1 : x->e < y->e ? -1 : x->e > y->e;
}

/* Overlapping clips go to the first lane free at their start, the last lane taking the rest. */
static unsigned assign_lanes(struct clip *c, size_t n)
{
	auto_free struct clip **v = calloc(n ? n : 1, sizeof(*v));
	int64_t end[CTL_HTML_LANES];
	unsigned used = 1, k = 0;

	if (!v) {
		for (size_t i = 0; i < n; i++)
			c[i].lane = 0;
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		if (c[i].timed)
			v[k++] = &c[i];
	qsort(v, k, sizeof(*v), cmp_clip_start);
	for (unsigned l = 0; l < CTL_HTML_LANES; l++)
		end[l] = INT64_MIN;
	for (unsigned i = 0; i < k; i++) {
		unsigned l = 0;

		while (l < CTL_HTML_LANES - 1 && end[l] > v[i]->s)
			l++;
		v[i]->lane = l;
		if (v[i]->e > end[l])
			end[l] = v[i]->e;
		if (l + 1 > used)
			used = l + 1;
	}
	return used;
}

static void put_clip_title(FILE *f, const struct clip *c)
{
	char d[48];

	fprintf(f, "<title>#%" JSON_INTEGER_FORMAT " ", c->index);
	put_jstr(f, json_object_get(c->j, "name"), 120);
	fputs(" · ", f);
	put_time(f, jstr(c->j, "recorded_start"));
	fputs(" – ", f);
	put_time(f, jstr(c->j, "recorded_end"));
	fprintf(f, " (%s) · storage: %s · integrity: %s%s</title>",
		fmt_dur(c->e - c->s, d, sizeof(d)), st_pat[c->st].label, ig_pat[c->ig].label,
		c->dm == DM_OPEN       ? " · DAMAGED, no report"
		: c->dm == DM_REPORTED ? " · damaged, reported"
				       : "");
}

static void put_gap_title(FILE *f, const struct gap *g)
{
	json_int_t a = -1, b = -1;
	char d[48];

	jint(g->j, "after", &a);
	jint(g->j, "before", &b);
	fprintf(f,
		"<title>gap of %s between #%" JSON_INTEGER_FORMAT " and #%" JSON_INTEGER_FORMAT
		" · %s",
		fmt_dur(g->e - g->s, d, sizeof(d)), a, b,
		g->gp == GP_OPEN ? "NOT EXPLAINED" : "explained");
	if (g->gp == GP_EXPLAINED) {
		fputs(": ", f);
		put_jstr(f, json_object_get(g->j, "reason"), 200);
	}
	fputs("</title>", f);
}

/* Text inside a bar when it fits: about 6.5 units per character at font-size 11. */
static void put_bar_text(FILE *f, double x, double w, double y, const char *s)
{
	if (w < strlen(s) * 6.2 + 6)
		return;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"halo\">%s</text>", x + 3, y, s);
}

static void timeline_items(struct page *pg, unsigned n, const struct axis *a, const struct clip *c,
			   size_t nc, const struct gap *g, size_t ng, double gy)
{
	FILE *f = pg->f;

	for (size_t i = 0; i < ng; i++) {
		double x, w;
		char d[48], label[96];

		if (!g[i].timed)
			continue;
		x = ax_x(a, g[i].s);
		w = ax_x(a, g[i].e) - x;
		if (w < SVG_MIN_BAR)
			w = SVG_MIN_BAR;
		fputs("<g>", f);
		put_gap_title(f, &g[i]);
		put_rect(f, n, &gp_pat[g[i].gp], x, gy, w, SVG_GAPROW, NULL);
		snprintf(label, sizeof(label), "%s %s",
			 g[i].gp == GP_OPEN ? "UNEXPLAINED" : "explained",
			 fmt_dur(g[i].e - g[i].s, d, sizeof(d)));
		put_bar_text(f, x, w, gy + 13, label);
		fputs("</g>", f);
	}
	for (size_t i = 0; i < nc; i++) {
		double x, w, y;
		char label[32];

		if (!c[i].timed)
			continue;
		x = ax_x(a, c[i].s);
		w = ax_x(a, c[i].e) - x;
		if (w < SVG_MIN_BAR)
			w = SVG_MIN_BAR;
		y = 8 + c[i].lane * SVG_LANE;
		fputs("<g>", f);
		put_clip_title(f, &c[i]);
		put_rect(f, n, &st_pat[c[i].st], x, y, w, SVG_BODY, NULL);
		put_rect(f, n, &ig_pat[c[i].ig], x, y + SVG_BODY, w, SVG_STRIP, NULL);
		snprintf(label, sizeof(label), "#%" JSON_INTEGER_FORMAT, c[i].index);
		put_bar_text(f, x + (c[i].dm ? 12 : 0), w - (c[i].dm ? 12 : 0), y + 15, label);
		put_damage_mark(f, c[i].dm, x, y);
		fputs("</g>", f);
	}
}

/* Runs of equal, non-zero values in @v (@nb bins) as rectangles. */
static void put_runs(FILE *f, unsigned n, const unsigned char *v, size_t nb, const struct pat *pats,
		     double y, double h)
{
	double bw = SVG_PW / (double)nb;

	for (size_t i = 0; i < nb;) {
		size_t j = i + 1;

		while (j < nb && v[j] == v[i])
			j++;
		if (v[i])
			put_rect(f, n, &pats[v[i]], SVG_L + i * bw, y, (j - i) * bw, h, NULL);
		i = j;
	}
}

static void bin_range(const struct axis *a, int64_t s, int64_t e, size_t nb, size_t *ret_i,
		      size_t *ret_j)
{
	double span = (double)(a->t1 - a->t0);
	double i = (double)(s - a->t0) / span * nb, j = (double)(e - a->t0) / span * nb;

	*ret_i = i < 0 ? 0 : i >= nb ? nb - 1 : (size_t)i;
	*ret_j = j < 0 ? 0 : j >= nb ? nb - 1 : (size_t)j;
}

static void timeline_bins(struct page *pg, unsigned n, const struct axis *a, const struct clip *c,
			  size_t nc, const struct gap *g, size_t ng, double gy)
{
	unsigned char st[CTL_HTML_BINS] = { 0 }, ig[CTL_HTML_BINS] = { 0 },
		      dm[CTL_HTML_BINS] = { 0 }, gp[CTL_HTML_BINS] = { 0 };
	double bw = SVG_PW / CTL_HTML_BINS;
	size_t i, j;

	for (size_t k = 0; k < ng; k++) {
		if (!g[k].timed)
			continue;
		bin_range(a, g[k].s, g[k].e, CTL_HTML_BINS, &i, &j);
		for (; i <= j; i++)
			if (gp[i] < g[k].gp)
				gp[i] = g[k].gp;
	}
	for (size_t k = 0; k < nc; k++) {
		if (!c[k].timed)
			continue;
		bin_range(a, c[k].s, c[k].e, CTL_HTML_BINS, &i, &j);
		for (; i <= j; i++) {
			if (st[i] < c[k].st)
				st[i] = c[k].st;
			if (ig[i] < c[k].ig)
				ig[i] = c[k].ig;
			if (dm[i] < c[k].dm)
				dm[i] = c[k].dm;
		}
	}
	put_runs(pg->f, n, gp, CTL_HTML_BINS, gp_pat, gy, SVG_GAPROW);
	put_runs(pg->f, n, st, CTL_HTML_BINS, st_pat, 8, SVG_BODY);
	put_runs(pg->f, n, ig, CTL_HTML_BINS, ig_pat, 8 + SVG_BODY, SVG_STRIP);
	/* Damage marks at most one per 12 units, so that they stay legible. */
	for (i = 0; i < CTL_HTML_BINS; i++) {
		size_t k;
		unsigned char worst = dm[i];

		if (!dm[i])
			continue;
		for (k = i + 1; k < CTL_HTML_BINS && (k - i) * bw < 12; k++)
			if (dm[k] > worst)
				worst = dm[k];
		put_damage_mark(pg->f, worst, SVG_L + i * bw, 8 + 5.5);
		i = k - 1;
	}
}

static void put_device_timeline(struct page *pg, struct clip *c, size_t nc, struct gap *g,
				size_t ng)
{
	FILE *f = pg->f;
	size_t ntimed = 0, ngtimed = 0;
	struct axis a = { INT64_MAX, INT64_MIN };
	bool binned;
	unsigned lanes = 1, n;
	double gy, ay, h;
	int64_t pad;
	char d1[48];

	for (size_t i = 0; i < nc; i++) {
		if (!c[i].timed)
			continue;
		ntimed++;
		if (c[i].s < a.t0)
			a.t0 = c[i].s;
		if (c[i].e > a.t1)
			a.t1 = c[i].e;
	}
	for (size_t i = 0; i < ng; i++) {
		if (!g[i].timed)
			continue;
		ngtimed++;
		if (g[i].s < a.t0)
			a.t0 = g[i].s;
		if (g[i].e > a.t1)
			a.t1 = g[i].e;
	}
	if (ntimed == 0 && ngtimed == 0) {
		fputs("<p class=\"note\">No clip of this device has a known recording time: there "
		      "is no "
		      "timeline to draw.</p>\n",
		      f);
		return;
	}
	/* At least a minute, then 2 % of margin on each side so that end bars stay visible. */
	if (a.t1 - a.t0 < 60 * 1000000LL) {
		int64_t mid = a.t0 / 2 + a.t1 / 2;

		a.t0 = mid - 30 * 1000000LL;
		a.t1 = mid + 30 * 1000000LL;
	}
	pad = (a.t1 - a.t0) / 50;
	a.t0 -= pad;
	a.t1 += pad;

	binned = ntimed + ngtimed > CTL_HTML_SVG_MAX_ITEMS;
	if (!binned)
		lanes = assign_lanes(c, nc);
	gy = 8 + lanes * SVG_LANE + 2;
	ay = gy + SVG_GAPROW + 8;
	h = ay + 38;

	fputs("<figure class=\"timeline\">", f);
	n = svg_open(pg, h, "timeline of the clips and gaps of this device");
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%g\" height=\"%.1f\" fill=\"#fff\"/>", SVG_W, h);
	put_axis(f, &a, 4, ay);
	/* Row labels. */
	for (unsigned l = 0; l < lanes; l++) {
		double y = 8 + l * SVG_LANE;

		fprintf(f,
			"<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>"
			"<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\" "
			"font-size=\"9\">integrity</text>",
			SVG_L - 8, y + 15, l == 0 ? "clips: storage" : "overlapping", SVG_L - 8,
			y + SVG_BODY + 8);
	}
	fprintf(f, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">gaps</text>", SVG_L - 8, gy + 13);
	if (binned)
		timeline_bins(pg, n, &a, c, nc, g, ng, gy);
	else
		timeline_items(pg, n, &a, c, nc, g, ng, gy);
	fputs("</svg>", f);
	if (binned)
		fprintf(
		    f,
		    "<figcaption class=\"note\"><strong>Aggregated:</strong> %zu clips and %zu "
		    "gaps "
		    "are more than the %d this timeline draws one by one.  It shows %d equal "
		    "intervals of %s each instead, every interval in the worst status found in it "
		    "(storage: late over unknown over remote duty over on time; integrity: altered "
		    "over "
		    "missing over purged over intact; an unexplained gap over an explained one), "
		    "and "
		    "a D where a clip in it is damaged.  The tables below list every clip and gap."
		    "</figcaption>",
		    ntimed, ngtimed, CTL_HTML_SVG_MAX_ITEMS, CTL_HTML_BINS,
		    fmt_dur((a.t1 - a.t0) / CTL_HTML_BINS, d1, sizeof(d1)));
	else if (lanes > 1)
		fputs("<figcaption class=\"note\">Some clips of this device overlap in time: they "
		      "are "
		      "drawn on separate rows.</figcaption>",
		      f);
	fputs("</figure>\n", f);
}

/* ---- tables ---------------------------------------------------------------------------------- */

static void put_badge(FILE *f, const char *cls, const char *word)
{
	fprintf(f, "<span class=\"b %s\">", cls);
	put_text(f, word);
	fputs("</span>", f);
}

static const char *st_class[ST__N] = { "", "b-ok", "b-remote", "b-unknown", "b-latex", "b-late" };
static const char *ig_class[IG__N] = { "",	   "b-ok",	"b-unchecked",
				       "b-purged", "b-missing", "b-altered" };

static void put_clip_row(FILE *f, const struct clip *c)
{
	const json_t *j = c->j;
	const char *logged = jstr(j, "storage"), *now = jstr(j, "storage_now");
	json_int_t v;
	char d[48];
	bool open = c->st == ST_LATE || c->ig > IG_UNCHECKED || c->dm == DM_OPEN ||
		    (c->st == ST_UNKNOWN && !jlen(json_object_get(j, "explained_by")));

	fprintf(f, "<tr%s><td class=\"num\" id=\"e%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT,
		open ? " class=\"open\"" : "", c->index, c->index);
	if (jstr(j, "type") && strcmp(jstr(j, "type"), "ingest")) {
		fputs("<br/><small>", f);
		put_text(f, jstr(j, "type"));
		fputs("</small>", f);
	}
	fputs("</td><td class=\"name\">", f);
	put_jstr(f, json_object_get(j, "name"), 0);
	fputs("<br/><small>zone ", f);
	put_jstr(f, json_object_get(j, "zone"), 0);
	fputs("</small></td><td>", f);
	put_jstr(f, json_object_get(j, "officer"), 0);
	fputs("</td><td class=\"t\">", f);
	put_time(f, jstr(j, "recorded_start"));
	fputs("<br/>", f);
	put_time(f, jstr(j, "recorded_end"));
	fputs("<br/><small>from ", f);
	put_text(f, jstr(j, "time_source") ? jstr(j, "time_source") : "nothing: time unknown");
	fputs("</small></td><td class=\"num\">", f);
	fputs(jint(j, "duration_us", &v) ? fmt_dur(v, d, sizeof(d)) : "—", f);
	fputs("</td><td class=\"t\">", f);
	put_time(f, jstr(j, "ingested_at"));
	fputs("<br/><small>deadline ", f);
	put_time(f, jstr(j, "deadline"));
	fputs("</small></td><td>", f);
	put_badge(f, st_class[c->st], now ? now : logged ? logged : "unknown");
	if (c->st == ST_LATE || (c->st == ST_UNKNOWN && !jlen(json_object_get(j, "explained_by"))))
		fputs(" <strong>OPEN</strong>", f);
	if (jtrue(j, "time_in_future"))
		fputs("<br/><small>recorded after it was stored: the camera's clock</small>", f);
	if (logged && now && strcmp(logged, now)) {
		fputs("<br/><small>logged as ", f);
		put_text(f, logged);
		fputs("</small>", f);
	}
	if (jlen(json_object_get(j, "explained_by"))) {
		fputs("<br/><small>explained by ", f);
		put_indexes(f, json_object_get(j, "explained_by"));
		fputs("</small>", f);
	}
	fputs("</td><td>", f);
	put_badge(f, ig_class[c->ig], jstr(j, "integrity") ? jstr(j, "integrity") : "not checked");
	if (jstr(j, "integrity_error")) {
		fputs("<br/><small>", f);
		put_jstr(f, json_object_get(j, "integrity_error"), 300);
		fputs("</small>", f);
	}
	fputs("</td><td class=\"dmg\">", f);
	if (c->dm == DM_NONE) {
		fputs("—", f);
	} else {
		fputs(c->dm == DM_OPEN ? "<strong>DAMAGED, no report</strong>" : "damaged, report ",
		      f);
		if (c->dm == DM_REPORTED && jint(j, "damage_report", &v))
			fprintf(f, "#%" JSON_INTEGER_FORMAT, v);
		if (jstr(j, "error")) {
			fputs("<br/><small>", f);
			put_jstr(f, json_object_get(j, "error"), 300);
			fputs("</small>", f);
		}
	}
	fputs("</td><td class=\"hash\">", f);
	put_jstr(f, json_object_get(j, "sha256"), 80);
	if (jint(j, "size", &v))
		fprintf(f, "<br/><small>%" JSON_INTEGER_FORMAT " bytes</small>", v);
	fputs("</td></tr>\n", f);
}

static void put_clip_table(FILE *f, const struct clip *c, size_t nc)
{
	if (nc == 0) {
		fputs("<p class=\"note\">No clips.</p>\n", f);
		return;
	}
	fprintf(
	    f,
	    "<h3>Clips (%zu)</h3>\n<table class=\"clips\"><thead><tr><th>entry</th><th>file</th>"
	    "<th>officer</th><th>recorded start / end (UTC)</th><th>duration</th>"
	    "<th>stored (UTC)</th><th>storage</th><th>integrity</th><th>damage</th>"
	    "<th>SHA-256</th></tr></thead><tbody>\n",
	    nc);
	for (size_t i = 0; i < nc; i++)
		put_clip_row(f, &c[i]);
	fputs("</tbody></table>\n", f);
}

static void put_gap_table(FILE *f, const struct gap *g, size_t ng)
{
	char d[48];

	if (ng == 0) {
		fputs("<p class=\"note\">No gaps longer than the split tolerance between the clips "
		      "of "
		      "this device.</p>\n",
		      f);
		return;
	}
	fprintf(f,
		"<h3>Gaps (%zu)</h3>\n<table class=\"gaps\"><thead><tr><th>from (UTC)</th>"
		"<th>to (UTC)</th><th>length</th><th>between</th><th>explanation</th></tr>"
		"</thead><tbody>\n",
		ng);
	for (size_t i = 0; i < ng; i++) {
		const json_t *j = g[i].j;
		json_int_t v;

		fprintf(f, "<tr%s><td class=\"t\">", g[i].gp == GP_OPEN ? " class=\"open\"" : "");
		put_time(f, jstr(j, "from"));
		fputs("</td><td class=\"t\">", f);
		put_time(f, jstr(j, "to"));
		fputs("</td><td class=\"num\">", f);
		if (jint(j, "seconds", &v))
			fputs(fmt_dur(v * 1000000, d, sizeof(d)), f);
		else
			fputs(g[i].timed ? fmt_dur(g[i].e - g[i].s, d, sizeof(d)) : "—", f);
		fputs("</td><td>", f);
		if (jint(j, "after", &v))
			fprintf(f, "#%" JSON_INTEGER_FORMAT, v);
		fputs(" → ", f);
		if (jint(j, "before", &v))
			fprintf(f, "#%" JSON_INTEGER_FORMAT, v);
		fputs("</td><td class=\"text\">", f);
		if (g[i].gp == GP_OPEN) {
			put_badge(f, "b-gap", "NOT EXPLAINED");
		} else {
			v = 0;
			jint(j, "explained_by",
			     &v); /* gap_load() made it GP_EXPLAINED: it is there */
			fprintf(f,
				"<span class=\"b b-ok\">explained</span> by #%" JSON_INTEGER_FORMAT
				": ",
				v);
			put_jstr(f, json_object_get(j, "reason"), 0);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* ---- the page -------------------------------------------------------------------------------- */

static const char css[] =
    "*{box-sizing:border-box}"
    "body{font:14px/1.4 'DejaVu Sans',Arial,sans-serif;color:#111;background:#fff;margin:0 auto;"
    "max-width:1400px;padding:16px 24px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 6px;border-bottom:2px solid "
    "#333}h3{font-size:15px;margin:14px 0 4px}"
    "q{quotes:'\\201C' '\\201D'}small{color:#444}"
    ".meta{color:#333;margin:0 0 12px}"
    ".verdict{border:4px solid #1b5e20;background:#e8f5e9;padding:10px 14px;margin:12px 0}"
    ".verdict.incomplete{border:6px double #b71c1c;background:#ffebee}"
    ".verdict .word{font-size:28px;font-weight:bold;letter-spacing:.04em}"
    ".verdict .line{font-size:16px;margin:4px 0 0;white-space:pre-wrap;overflow-wrap:anywhere}"
    ".open-items li{margin:3px 0;overflow-wrap:anywhere}"
    ".summary{margin:6px 0}"
    ".note{color:#333;font-size:13px;margin:4px 0}"
    "figure{margin:6px 0;break-inside:avoid}figcaption{margin-top:2px}"
    "svg{display:block;max-width:100%;height:auto}"
    "svg .halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round;"
    "font-weight:bold}"
    "table{border-collapse:collapse;width:100%;font-size:12px;margin:4px 0 10px}"
    "th,td{border:1px solid #999;padding:2px 5px;vertical-align:top;text-align:left}"
    "th{background:#eee}thead{display:table-header-group}tr{break-inside:avoid}"
    "tr.open td:first-child{border-left:5px solid #b71c1c;font-weight:bold}"
    "td.num{text-align:right;white-space:nowrap}td.t{white-space:nowrap}"
    "td.name,td.text,td.dmg{overflow-wrap:anywhere;white-space:pre-wrap}"
    "td.name{min-width:20em}td.dmg{max-width:24em}"
    "td.hash{font:10px/1.3 'DejaVu Sans Mono',monospace;word-break:break-all;width:21em}"
    ".b{display:inline-block;border:1px solid #000;border-radius:3px;padding:0 4px;"
    "font-size:11px;white-space:nowrap}"
    ".b-ok{background:#c8e6c9}.b-remote{background:#bbdefb}.b-unknown{background:#e0e0e0}"
    ".b-latex{background:#ffe0b2}.b-late,.b-gap,.b-altered,.b-missing,.b-purged,.k-open"
    "{background:#ffcdd2;font-weight:bold;border-width:2px}"
    ".b-unchecked{background:#fff}"
    ".ann{font-size:12px;padding-left:0;list-style:none}.ann li{margin:2px "
    "0;overflow-wrap:anywhere}"
    ".legend{border:1px solid #999;padding:6px;margin:10px 0}"
    "footer{margin-top:24px;color:#444;font-size:12px;border-top:1px solid #999}"
    "@media print{"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{max-width:none;padding:0;font-size:10pt;color:#000}"
    "h2{break-after:avoid}h3{break-after:avoid}"
    ".device{break-before:page}"
    "table{font-size:8pt}th,td{border-color:#000}"
    ".verdict,.verdict.incomplete{background:#fff}"
    "small,.note{color:#000}"
    "@page{size:A4 landscape;margin:12mm}"
    "}";

static void put_legend(struct page *pg)
{
	FILE *f = pg->f;
	unsigned n = svg_open(pg, 118, "legend");
	double x, y;

	fputs("<rect x=\"0\" y=\"0\" width=\"1200\" height=\"118\" fill=\"#fff\"/>", f);
	fputs("<text x=\"8\" y=\"18\" font-weight=\"bold\">Clip bar, upper part: storage</text>"
	      "<text x=\"8\" y=\"62\" font-weight=\"bold\">Clip bar, lower strip: integrity</text>"
	      "<text x=\"8\" y=\"104\" font-weight=\"bold\">Gaps row</text>",
	      f);
	x = 230;
	y = 6;
	for (int i = 1; i < ST__N; i++, x += 192) {
		put_rect(f, n, &st_pat[i], x, y, 30, 18, NULL);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x + 36, y + 13,
			st_pat[i].label);
	}
	x = 230;
	y = 50;
	for (int i = 1; i < IG__N; i++, x += 192) {
		put_rect(f, n, &ig_pat[i], x, y, 30, 18, NULL);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x + 36, y + 13,
			ig_pat[i].label);
	}
	x = 230;
	y = 92;
	for (int i = 1; i < GP__N; i++, x += 192) {
		put_rect(f, n, &gp_pat[i], x, y, 30, 18, NULL);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x + 36, y + 13,
			gp_pat[i].label);
	}
	put_damage_mark(f, DM_OPEN, x + 10, y + 3);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">damaged, no report</text>", x + 26, y + 13);
	x += 170;
	put_damage_mark(f, DM_REPORTED, x + 10, y + 3);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">damaged, reported</text>", x + 26, y + 13);
	fputs("</svg>", f);
}

static bool same_kind(const json_t *a, const json_t *b)
{
	return a == b || json_equal(a, b);
}

/* " 36 gap, 2 late" for the open items past CTL_HTML_OPEN_MAX, kinds in order of appearance. */
static void put_open_rest(FILE *f, const json_t *open)
{
	size_t n = jlen(open);

	for (size_t i = CTL_HTML_OPEN_MAX; i < n; i++) {
		const json_t *kind = json_object_get(json_array_get(open, i), "kind");
		size_t same = 0, k;

		/* Counted at the first item of its kind only. */
		for (k = CTL_HTML_OPEN_MAX; k < i; k++)
			if (same_kind(json_object_get(json_array_get(open, k), "kind"), kind))
				break;
		if (k < i)
			continue;
		for (k = i; k < n; k++)
			same += same_kind(json_object_get(json_array_get(open, k), "kind"), kind);
		fprintf(f, "%s %zu ", i == CTL_HTML_OPEN_MAX ? "" : ",", same);
		put_jstr(f, kind, 40);
	}
}

static void put_open_items(FILE *f, const json_t *open)
{
	size_t n = jlen(open);

	if (n == 0)
		return;
	fprintf(f, "<h2>Open items (%zu)</h2>\n<ul class=\"open-items\">\n", n);
	for (size_t i = 0; i < n && i < CTL_HTML_OPEN_MAX; i++) {
		const json_t *o = json_array_get(open, i);
		json_int_t e;

		fputs("<li><span class=\"b k-open\">", f);
		put_jstr(f, json_object_get(o, "kind"), 40);
		fputs("</span> ", f);
		if (jint(o, "entry", &e))
			fprintf(f,
				"entry <a href=\"#e%" JSON_INTEGER_FORMAT
				"\">#%" JSON_INTEGER_FORMAT "</a> ",
				e, e);
		if (jstr(o, "device")) {
			fputs("device <q>", f);
			put_jstr(f, json_object_get(o, "device"), 0);
			fputs("</q> ", f);
		}
		if (jstr(o, "from") || jstr(o, "to")) {
			put_time(f, jstr(o, "from"));
			fputs(" – ", f);
			put_time(f, jstr(o, "to"));
			fputs(" ", f);
		}
		fputs("— ", f);
		put_jstr(f, json_object_get(o, "message"), 0);
		fputs("</li>\n", f);
	}
	/* The rest counted by kind: the tables below mark each open clip and gap anyway. */
	if (n > CTL_HTML_OPEN_MAX) {
		fprintf(f, "<li>… and %zu more:", n - CTL_HTML_OPEN_MAX);
		put_open_rest(f, open);
		fputs(" (the tables below mark each open clip and gap).</li>\n", f);
	}
	fputs("</ul>\n", f);
}

/* @total: "accesses_total", the accesses that named the clips; @acc lists those the daemon
 * keeps (docs/review-format.md), which may be fewer. */
static void put_accesses(FILE *f, const json_t *acc, const json_t *total)
{
	size_t n = jlen(acc);
	json_int_t all = json_is_integer(total) ? json_integer_value(total) : (json_int_t)n;

	fprintf(f, "<h2>Accesses (%" JSON_INTEGER_FORMAT ")</h2>\n", all);
	if (all > (json_int_t)n)
		fprintf(f,
			"<p class=\"note\">%zu listed: each clip's newest reads and refusals and "
			"every copy-out, at most 10,000. <code>custodyctl log --type access</code> "
			"lists all %" JSON_INTEGER_FORMAT ".</p>\n",
			n, all);
	if (n == 0) {
		if (all == 0)
			fputs("<p class=\"note\">No access to these clips is logged.</p>\n", f);
		return;
	}
	fputs("<table class=\"acc\"><thead><tr><th>log entry</th><th>at (UTC)</th><th>by</th>"
	      "<th>operation</th><th>clip</th><th>result</th></tr></thead><tbody>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const json_t *a = json_array_get(acc, i);
		json_int_t v;
		bool allowed = !json_is_false(json_object_get(a, "allowed"));

		fprintf(f, "<tr%s><td class=\"num\">", allowed ? "" : " class=\"open\"");
		if (jint(a, "index", &v))
			fprintf(f, "#%" JSON_INTEGER_FORMAT, v);
		fputs("</td><td class=\"t\">", f);
		put_time(f, jstr(a, "at"));
		fputs("</td><td class=\"name\">", f);
		put_jstr(f, json_object_get(a, "by"), 0);
		fputs("</td><td>", f);
		put_jstr(f, json_object_get(a, "op"), 0);
		fputs("</td><td class=\"num\">", f);
		if (jint(a, "entry", &v))
			fprintf(f, "#%" JSON_INTEGER_FORMAT, v);
		fputs(allowed ? "</td><td>allowed" : "</td><td><strong>REFUSED</strong>", f);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
}

/* One line per annotation: "#12 interruption by alice at T — device: CAM1; from: …; reason: …".
 * Items may be entries as logged or {"index":N,"entry":{…}} as `custodyctl log` prints them. */
static void put_annotations(FILE *f, const json_t *anns)
{
	size_t n = jlen(anns);

	fprintf(f, "<h2>Annotations (%zu)</h2>\n", n);
	if (n == 0) {
		fputs("<p class=\"note\">No annotation concerns these clips.</p>\n", f);
		return;
	}
	fputs("<ul class=\"ann\">\n", f);
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(anns, i), *e = it;
		const char *key;
		json_t *v;
		json_int_t idx;
		bool first = true;

		if (json_is_object(json_object_get(it, "entry")))
			e = json_object_get(it, "entry");
		fputs("<li><b>", f);
		if (jint(it, "index", &idx))
			fprintf(f, "#%" JSON_INTEGER_FORMAT " ", idx);
		put_jstr(f, json_object_get(e, "kind"), 40);
		fputs("</b> by ", f);
		put_jstr(f, json_object_get(e, "by"), 80);
		fputs(" at ", f);
		put_time(f, jstr(e, "at"));
		if (!json_is_object(e)) {
			fputs(" — ", f);
			put_value(f, e, CTL_HTML_TEXT_MAX);
		}
		json_object_foreach(e, key, v) {
			if (!strcmp(key, "v") || !strcmp(key, "type") || !strcmp(key, "kind") ||
			    !strcmp(key, "by") || !strcmp(key, "at") || !strcmp(key, "index"))
				continue;
			fputs(first ? " — " : "; ", f);
			first = false;
			put_text(f, key);
			fputs(": ", f);
			put_value(f, v, CTL_HTML_TEXT_MAX);
		}
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

struct device {
	const json_t *j;
	struct clip *c;
	size_t nc;
	struct gap *g;
	size_t ng;
};

static void put_device(struct page *pg, const struct device *d, size_t no)
{
	FILE *f = pg->f;
	size_t untimed = 0, gopen = 0, shown = 0;
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	char dur[48];

	fprintf(f, "<section class=\"device\" id=\"device-%zu\">\n<h2>", no);
	if (jstr(d->j, "device")) {
		fputs("Device <q>", f);
		put_jstr(f, json_object_get(d->j, "device"), 0);
		fputs("</q>", f);
	} else {
		fputs("Clips with no device", f);
	}
	fputs("</h2>\n<p class=\"summary\">", f);
	for (size_t i = 0; i < d->nc; i++) {
		if (!d->c[i].timed) {
			untimed++;
			continue;
		}
		if (d->c[i].s < t0)
			t0 = d->c[i].s;
		if (d->c[i].e > t1)
			t1 = d->c[i].e;
	}
	for (size_t i = 0; i < d->ng; i++)
		gopen += d->g[i].gp == GP_OPEN;
	fprintf(f, "%zu clip%s", d->nc, d->nc == 1 ? "" : "s");
	if (t0 <= t1) {
		fprintf(f, " recorded over %s", fmt_dur(t1 - t0, dur, sizeof(dur)));
	}
	if (untimed)
		fprintf(f, ", %zu of unknown recording time", untimed);
	fprintf(f, "; %zu gap%s", d->ng, d->ng == 1 ? "" : "s");
	if (gopen)
		fprintf(f, ", <strong>%zu not explained</strong>", gopen);
	fputs(".</p>\n", f);

	if (d->nc || d->ng)
		put_device_timeline(pg, d->c, d->nc, d->g, d->ng);
	if (untimed) {
		fputs("<p class=\"note\"><strong>Not on the timeline</strong> (recording time "
		      "unknown): ",
		      f);
		for (size_t i = 0; i < d->nc && shown < CTL_HTML_UNTIMED_MAX; i++) {
			if (d->c[i].timed)
				continue;
			fprintf(f,
				"%s<a href=\"#e%" JSON_INTEGER_FORMAT "\">#%" JSON_INTEGER_FORMAT
				"</a> <q>",
				shown ? "; " : "", d->c[i].index, d->c[i].index);
			put_jstr(f, json_object_get(d->c[i].j, "name"), 80);
			fputs("</q>", f);
			shown++;
		}
		if (untimed > shown)
			fprintf(f, "; and %zu more in the table", untimed - shown);
		fputs(".</p>\n", f);
	}
	put_clip_table(f, d->c, d->nc);
	put_gap_table(f, d->g, d->ng);
	fputs("</section>\n", f);
}

static void devices_free(struct device *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].c);
		free(d[i].g);
	}
	free(d);
}

static int devices_load(const json_t *devs, struct device **ret, size_t *ret_n)
{
	size_t n = jlen(devs);
	struct device *d = calloc(n ? n : 1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *dj = json_array_get(devs, i);
		const json_t *cs = json_object_get(dj, "clips"), *gs = json_object_get(dj, "gaps");

		d[i].j = dj;
		d[i].nc = jlen(cs);
		d[i].ng = jlen(gs);
		d[i].c = calloc(d[i].nc ? d[i].nc : 1, sizeof(struct clip));
		d[i].g = calloc(d[i].ng ? d[i].ng : 1, sizeof(struct gap));
		if (!d[i].c || !d[i].g) {
			devices_free(d, i + 1);
			return -ENOMEM;
		}
		for (size_t k = 0; k < d[i].nc; k++)
			clip_load(json_array_get(cs, k), &d[i].c[k]);
		for (size_t k = 0; k < d[i].ng; k++)
			gap_load(json_array_get(gs, k), &d[i].g[k]);
	}
	*ret = d;
	*ret_n = n;
	return 0;
}

static int render(const json_t *r, FILE *f)
{
	struct page pg = { .f = f };
	struct device *dev = NULL;
	size_t ndev = 0, nclips = 0, ngaps = 0, gopen = 0, ndmg = 0, ndmg_open = 0, nig = 0,
	       nuntimed = 0, nlate = 0;
	bool complete = jtrue(r, "complete");
	json_int_t cp, accesses;
	int k;

	if (!jint(r, "accesses_total", &accesses))
		accesses = (json_int_t)jlen(json_object_get(r, "accesses"));
	k = devices_load(json_object_get(r, "devices"), &dev, &ndev);
	if (k < 0)
		return k;
	for (size_t i = 0; i < ndev; i++) {
		nclips += dev[i].nc;
		ngaps += dev[i].ng;
		for (size_t j = 0; j < dev[i].nc; j++) {
			const struct clip *c = &dev[i].c[j];

			ndmg += c->dm != DM_NONE;
			ndmg_open += c->dm == DM_OPEN;
			nig += c->ig > IG_UNCHECKED;
			nuntimed += !c->timed;
			nlate += c->st == ST_LATE;
		}
		for (size_t j = 0; j < dev[i].ng; j++)
			gopen += dev[i].g[j].gp == GP_OPEN;
	}

	fputs(
	    "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\"/>\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'; img-src data:\"/>\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	    "<meta name=\"generator\" content=\"custodyctl review --html\"/>\n<title>Case review ",
	    f);
	put_jstr(f, json_object_get(r, "case"), 200);
	fputs(" as of ", f);
	put_time(f, jstr(r, "as_of"));
	fprintf(f,
		" — %s</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>Case review: <q>",
		complete ? "complete" : "INCOMPLETE", css);
	put_jstr(f, json_object_get(r, "case"), 0);
	fputs("</q></h1>\n<p class=\"meta\">As of ", f);
	put_time(f, jstr(r, "as_of"));
	fputs(" UTC", f);
	if (jint(r, "checkpoint_size", &cp))
		fprintf(f, " · log checkpoint of size %" JSON_INTEGER_FORMAT, cp);
	else
		fputs(" · no signed checkpoint yet", f);
	fputs(" · clips bound by annotation ", f);
	put_indexes(f, json_object_get(r, "bound_by"));
	fputs("</p>\n</header>\n", f);

	fprintf(f, "<section class=\"verdict%s\"><div class=\"word\">%s</div><p class=\"line\">",
		complete ? "" : " incomplete",
		complete ? "✔ COMPLETE" : "✘ INCOMPLETE: items are open");
	put_jstr(f, json_object_get(r, "verdict"), 0);
	fputs("</p></section>\n", f);
	put_open_items(f, json_object_get(r, "open"));

	fprintf(f, "<h2>Summary</h2>\n<p class=\"summary\">%zu clip%s from %zu device%s", nclips,
		nclips == 1 ? "" : "s", ndev, ndev == 1 ? "" : "s");
	if (nuntimed)
		fprintf(f, " (%zu of unknown recording time)", nuntimed);
	fprintf(f,
		"; %zu late and not explained; %zu gap%s, %zu not explained; %zu damaged, %zu "
		"without a report; %zu original%s altered, missing or purged; %" JSON_INTEGER_FORMAT
		" access%s logged.</p>\n",
		nlate, ngaps, ngaps == 1 ? "" : "s", gopen, ndmg, ndmg_open, nig,
		nig == 1 ? "" : "s", accesses, accesses == 1 ? "" : "es");
	if (nclips == 0)
		fputs("<p class=\"summary\"><strong>No clip is bound to this case.</strong></p>\n",
		      f);

	if (ndev) {
		fputs(
		    "<div class=\"legend\"><strong>Legend.</strong> Each device has its own time "
		    "axis, in UTC.  Hover a bar for its details; every colour has its own hatching "
		    "and word, so a black-and-white printout keeps them apart.",
		    f);
		put_legend(&pg);
		fputs("</div>\n", f);
	}
	for (size_t i = 0; i < ndev; i++)
		put_device(&pg, &dev[i], i);
	put_accesses(f, json_object_get(r, "accesses"), json_object_get(r, "accesses_total"));
	put_annotations(f, json_object_get(r, "annotations"));
	fputs("<footer><p>Generated by <code>custodyctl review --html</code> from the daemon's "
	      "review "
	      "of case <q>",
	      f);
	put_jstr(f, json_object_get(r, "case"), 0);
	fputs("</q> as of ", f);
	put_time(f, jstr(r, "as_of"));
	fputs(
	    " UTC.  Entry numbers are indexes of the custody log; the originals and the log remain "
	    "the evidence, this page is a reading aid.</p></footer>\n</body>\n</html>\n",
	    f);
	devices_free(dev, ndev);
	return 0;
}

/* ---- the file -------------------------------------------------------------------------------- */

int ctl_review_html(const json_t *review, const char *path, struct err_detail *reterr)
{
	auto_free char *dir = NULL, *tmp = NULL;
	char shown[128];
	const char *slash, *base;
	FILE *f = NULL;
	int fd = -1, dfd, r;

	if (!json_is_object(review))
		return err_set(reterr, -EINVAL, "the review to write is not a JSON object");
	utf8_printable(path ? path : "", path ? strlen(path) : 0, shown, sizeof(shown));
	slash = path ? strrchr(path, '/') : NULL;
	base = slash ? slash + 1 : path;
	if (!base || !*base)
		return err_set(reterr, -EINVAL, "'%s' names no file", shown);
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		tmp = NULL;
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set(reterr, -errno, "'%s': cannot create a file beside it: %s", shown,
			       strerror(errno));
	/* 0640 whatever the umask: the page shows evidence, for the owner and the group only. */
	if (fchmod(fd, 0640) < 0) {
		r = err_set(reterr, -errno, "'%s': chmod: %s", shown, strerror(errno));
		close(fd);
		goto err_unlink;
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = err_set(reterr, -errno, "'%s': %s", shown, strerror(errno));
		close(fd);
		goto err_unlink;
	}
	r = render(review, f);
	if (r < 0) {
		err_set(reterr, r, "'%s': out of memory while rendering", shown);
		fclose(f);
		goto err_unlink;
	}
	errno = EIO;
	if (fflush(f) != 0 || ferror(f)) {
		r = err_set(reterr, -errno, "'%s': write: %s", shown, strerror(errno));
		fclose(f);
		goto err_unlink;
	}
	if (fsync(fileno(f)) < 0) {
		r = err_set(reterr, -errno, "'%s': fsync: %s", shown, strerror(errno));
		fclose(f);
		goto err_unlink;
	}
	if (fclose(f) != 0) {
		r = err_set(reterr, -errno, "'%s': close: %s", shown, strerror(errno));
		goto err_unlink;
	}
	if (rename(tmp, path) < 0) {
		r = err_set(reterr, -errno, "'%s': %s", shown, strerror(errno));
		goto err_unlink;
	}
	/* The rename lasts once the folder is synced; a failure here leaves the page in place. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		r = err_set(reterr, -errno, "'%s': written, but syncing its folder failed: %s",
			    shown, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	close(dfd);
	return 0;

err_unlink:
	unlink(tmp);
	return r;
}

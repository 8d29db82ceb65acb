/* Unit tests of the device timeline (ctl/timeline.c) on tests/data/timeline/three-days.json:
 * a device whose case spans three days, with 10-second clips, two 590 s gaps (one explained)
 * and one of 3 d 3 h 59 min 50 s, a damaged clip of unknown length, late, remote, purged,
 * altered, missing and overlapping clips, a run of 40 split files and two clips without a
 * trustworthy time.  The layout is checked as geometry: every clip and gap drawn, clusters and
 * breaks where the gaps are, minimum widths, nothing outside the width, no two labels or
 * clips on top of each other, rows in time order, gaps in words; the statuses' patterns are
 * checked to differ once painted in greyscale.  The timeline and the legend are also written
 * as timeline-three-days.png (and -grey.png, in luminance only) and .svg into the build
 * folder, for a person to look at. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl/show.h"
#include "ctl/timeline.h"
#include "ingest/tz.h"
#include "tests/unit/ctl/lsan-fonts.h"

#define MIN_CLIP 2.0 /* TL_MIN_CLIP */
#define UNKNOWN_W 9.0

static json_t *load_fixture(void)
{
	json_error_t e;
	json_t *j = json_load_file(TEST_DATA "/timeline/three-days.json", 0, &e);

	if (!j)
		fail_msg("three-days.json: %s (line %d)", e.text, e.line);
	return j;
}

static struct ing_tz *shanghai(void)
{
	struct ing_tz *tz = NULL;

	assert_int_equal(ing_tz_load("Asia/Shanghai", &tz, NULL), 0);
	return tz;
}

static bool overlap(double a0, double a1, double b0, double b1)
{
	return a0 < b1 - 1e-6 && b0 < a1 - 1e-6;
}

/* The checks any layout of any device must pass. */
static void check_layout(const json_t *dev, const struct tl_layout *l, double width)
{
	size_t n, nc = json_array_size(json_object_get(dev, "clips"));
	size_t ng = json_array_size(json_object_get(dev, "gaps"));
	const struct tl_box *b = tl_boxes(l, &n);
	double *cw = calloc(nc + 1, sizeof(*cw));
	bool *gseen = calloc(ng + 1, sizeof(*gseen));

	assert_non_null(cw);
	assert_non_null(gseen);
	assert_true(tl_width_mm(l) == width);
	assert_true(tl_rows(l) >= 1);
	assert_true(tl_row_top(l, 0) == 0);
	assert_true(tl_row_top(l, tl_rows(l)) == tl_height_mm(l));
	for (unsigned r = 0; r < tl_rows(l); r++)
		assert_true(tl_row_top(l, r) < tl_row_top(l, r + 1));
	for (size_t i = 0; i < n; i++) {
		/* Nothing outside the drawing (a label's leader may not leave it either). */
		assert_true(b[i].x >= -1e-6);
		if (b[i].x + b[i].w > width + 1e-6)
			fail_msg("box %zu (kind %d, '%s') ends at %.2f mm", i, b[i].kind,
				 b[i].text ? b[i].text : "", b[i].x + b[i].w);
		assert_true(b[i].y >= -1e-6);
		assert_true(b[i].y + b[i].h <= tl_height_mm(l) + 1e-6);
		/* Each box within its row, so that a page may split the rows. */
		assert_true(b[i].row < tl_rows(l));
		assert_true(b[i].y >= tl_row_top(l, b[i].row) - 1e-6);
		assert_true(b[i].y + b[i].h <= tl_row_top(l, b[i].row + 1) + 1e-6);
		if (b[i].kind == TL_BOX_CLIP) {
			const json_t *idx;

			assert_true(b[i].ref < nc);
			idx = json_object_get(
			    json_array_get(json_object_get(dev, "clips"), b[i].ref), "index");
			assert_int_equal(b[i].entry,
					 json_is_integer(idx) ? json_integer_value(idx) : -1);
			cw[b[i].ref] += b[i].w;
		}
		if (b[i].kind == TL_BOX_BREAK && b[i].ref != (size_t)-1) {
			assert_true(b[i].ref < ng);
			gseen[b[i].ref] = true;
		}
		if (b[i].kind == TL_BOX_LABEL) {
			assert_non_null(b[i].text);
			/* Never a duration in bare seconds beyond a minute ("273590 s"). */
			assert_null(strstr(b[i].text, "273590"));
		}
		for (size_t k = 0; k < i; k++) {
			/* Labels never overlap labels; clips never overlap clips. */
			if (b[i].kind != b[k].kind ||
			    (b[i].kind != TL_BOX_LABEL && b[i].kind != TL_BOX_CLIP))
				continue;
			if (overlap(b[i].x, b[i].x + b[i].w, b[k].x, b[k].x + b[k].w) &&
			    overlap(b[i].y, b[i].y + b[i].h, b[k].y, b[k].y + b[k].h))
				fail_msg("boxes %zu and %zu overlap: %s / %s at (%.2f,%.2f) and "
					 "(%.2f,%.2f)",
					 k, i, b[k].text ? b[k].text : "clip",
					 b[i].text ? b[i].text : "clip", b[k].x, b[k].y, b[i].x,
					 b[i].y);
		}
	}
	for (size_t i = 0; i < nc; i++)
		if (cw[i] < MIN_CLIP - 1e-6)
			fail_msg("clip %zu drawn %.2f mm wide", i, cw[i]);
	for (size_t i = 0; i < ng; i++)
		if (!gseen[i])
			fail_msg("gap %zu not drawn", i);
	free(cw);
	free(gseen);
}

/* No leader line runs under a label other than its own (the layout found room for all). */
static void check_leaders(const struct tl_layout *l)
{
	size_t n;
	const struct tl_box *b = tl_boxes(l, &n);

	for (size_t i = 0; i < n; i++) {
		if (b[i].kind != TL_BOX_LABEL || b[i].leader_x < 0)
			continue;
		for (size_t k = 0; k < n; k++)
			if (k != i && b[k].kind == TL_BOX_LABEL && b[k].x < b[i].leader_x &&
			    b[i].leader_x < b[k].x + b[k].w && b[k].y < b[i].y &&
			    b[k].y + b[k].h > b[i].leader_y)
				fail_msg("the leader of '%s' crosses '%s'", b[i].text, b[k].text);
	}
}

static const struct tl_box *find_clip(const struct tl_layout *l, int64_t entry)
{
	size_t n;
	const struct tl_box *b = tl_boxes(l, &n);

	for (size_t i = 0; i < n; i++)
		if (b[i].kind == TL_BOX_CLIP && b[i].entry == entry)
			return &b[i];
	fail_msg("entry %lld not drawn", (long long)entry);
	return NULL;
}

/* The label whose leader points at the clip of @entry, or that names it. */
static const struct tl_box *find_label(const struct tl_layout *l, const char *needle)
{
	size_t n;
	const struct tl_box *b = tl_boxes(l, &n);

	for (size_t i = 0; i < n; i++)
		if (b[i].kind == TL_BOX_LABEL && strstr(b[i].text, needle))
			return &b[i];
	return NULL;
}

static void test_three_days(void **state)
{
	json_t *dev = load_fixture();
	struct ing_tz *tz = shanghai();
	struct tl_layout *l = NULL;
	const struct tl_box *b, *c, *c2;
	size_t n, clusters = 0, breaks = 0, untimed = 0;
	char want[SHOW_DURATION_MAX];

	(void)state;
	assert_int_equal(tl_build(dev, tz, 180, &l), 0);
	check_layout(dev, l, 180);
	check_leaders(l);
	b = tl_boxes(l, &n);
	for (size_t i = 0; i < n; i++) {
		clusters += b[i].kind == TL_BOX_CLUSTER && !(b[i].flags & TL_F_CONT_LEFT) &&
			    !(b[i].flags & TL_F_UNTIMED);
		breaks += b[i].kind == TL_BOX_BREAK;
		untimed += b[i].kind == TL_BOX_CLIP && (b[i].flags & TL_F_UNTIMED);
	}
	/* Three gaps cut the clips into four clusters; the two without a trustworthy time are in
	 * a group of their own. */
	assert_int_equal(clusters, 4);
	assert_int_equal(breaks, 3);
	assert_int_equal(untimed, 2);
	assert_true(find_clip(l, 70)->flags & TL_F_UNTIMED);
	assert_true(find_clip(l, 71)->flags & TL_F_UNTIMED);

	/* The gaps in words, in days, hours and minutes, with whether they are explained. */
	show_duration(273590, want, sizeof(want));
	assert_non_null(strstr(want, "3 d 3 h 59 min"));
	assert_non_null(find_label(l, want));
	assert_non_null(strstr(find_label(l, want)->text, "UNEXPLAINED"));
	assert_true(find_label(l, want)->flags & TL_F_BOLD);
	show_duration(590, want, sizeof(want));
	assert_non_null(find_label(l, want));

	/* Breaks between clusters, in time order: each break's gap ends where the next cluster
	 * starts, and the clips after it are to its right or on a later row. */
	for (size_t i = 0; i < n; i++) {
		if (b[i].kind != TL_BOX_BREAK)
			continue;
		c = find_clip(l, b[i].entry);
		assert_true(c->row > b[i].row || (c->row == b[i].row && c->x >= b[i].x + b[i].w));
	}
	/* Clips in time order along the rows (the 10-second ones, which do not overlap). */
	c = find_clip(l, 10);
	for (int64_t e = 11; e <= 24; e++) {
		c2 = find_clip(l, e);
		assert_true(c2->row > c->row || (c2->row == c->row && c2->x >= c->x + c->w - 1e-6));
		c = c2;
	}

	/* The damaged clip of unknown length: its "?" extent and the words. */
	c = find_clip(l, 21);
	assert_true(c->flags & TL_F_UNKNOWN_LENGTH);
	assert_int_equal(c->status, TL_DAMAGED);
	assert_true(c->w >= UNKNOWN_W - 1e-6);
	assert_non_null(find_label(l, "#21\n"));
	assert_non_null(strstr(find_label(l, "#21\n")->text, "damaged, no report"));
	assert_non_null(strstr(find_label(l, "#21\n")->text, "length unknown"));

	/* Statuses. */
	assert_int_equal(find_clip(l, 10)->status, TL_ON_TIME);
	assert_int_equal(find_clip(l, 17)->status, TL_LATE_EXPLAINED);
	assert_int_equal(find_clip(l, 18)->status, TL_LATE);
	assert_int_equal(find_clip(l, 20)->status, TL_REMOTE);
	assert_int_equal(find_clip(l, 22)->status, TL_PURGED);
	assert_int_equal(find_clip(l, 23)->status, TL_ALTERED);
	assert_int_equal(find_clip(l, 24)->status, TL_ALTERED);
	assert_non_null(find_label(l, "MISSING"));

	/* The overlapping clip is in a lane of its own, under the long one. */
	c = find_clip(l, 25);
	c2 = find_clip(l, 62);
	assert_true(c2->y > c->y);
	assert_true(c2->x >= c->x && c2->x + c2->w <= c->x + c->w + 1e-6);
	/* A 2-hour clip is wider than a 10-second one, on the same cluster's scale. */
	assert_true(c->w > 4 * find_clip(l, 26)->w);

	/* The 40 split files are one label: "#26–#65 (40)". */
	assert_non_null(find_label(l, "#26–#65 (40)"));
	/* The zone, once. */
	assert_non_null(find_label(l, "UTC+08:00"));
	/* A cluster's start in the display zone: 2026-11-25T01:00:00Z is 09:00:00 in Shanghai. */
	assert_non_null(find_label(l, "2026-11-25\n09:00:00"));

	tl_free(l);
	ing_tz_free(tz);
	json_decref(dev);
}

/* Narrow widths wrap onto more rows and keep every check. */
static void test_wrap(void **state)
{
	json_t *dev = load_fixture();
	struct tl_layout *wide = NULL, *narrow = NULL;
	size_t n;
	const struct tl_box *b;
	unsigned rows_wide = 0, rows_narrow = 0;
	bool cut = false;

	(void)state;
	assert_int_equal(tl_build(dev, NULL, 400, &wide), 0);
	assert_int_equal(tl_build(dev, NULL, 60, &narrow), 0);
	check_layout(dev, wide, 400);
	check_layout(dev, narrow, 60);
	b = tl_boxes(wide, &n);
	for (size_t i = 0; i < n; i++)
		rows_wide = b[i].row > rows_wide ? b[i].row : rows_wide;
	b = tl_boxes(narrow, &n);
	for (size_t i = 0; i < n; i++) {
		rows_narrow = b[i].row > rows_narrow ? b[i].row : rows_narrow;
		cut |= b[i].kind == TL_BOX_CLUSTER && (b[i].flags & TL_F_CONT_RIGHT);
	}
	assert_true(rows_narrow > rows_wide);
	assert_true(tl_height_mm(narrow) > tl_height_mm(wide));
	/* At 60 mm the cluster with the 2-hour clip and the split files goes on a next row. */
	assert_true(cut);
	tl_free(wide);
	tl_free(narrow);
	json_decref(dev);
}

/* Many clips in one cluster: all drawn, at least the minimum width, over many rows. */
static void test_many(void **state)
{
	json_t *clips = json_array(), *dev;
	struct tl_layout *l = NULL;
	char t[32];

	(void)state;
	for (int i = 0; i < 500; i++) {
		int s = i * 11;

		snprintf(t, sizeof(t), "2026-11-28T%02d:%02d:%02dZ", s / 3600, s / 60 % 60, s % 60);
		json_array_append_new(clips,
				      json_pack("{s:i,s:s,s:i,s:s}", "index", 1000 + i,
						"recorded_start", t, "duration_us", 10000000,
						"storage_now", i % 50 == 7 ? "late" : "on_time"));
	}
	dev = json_pack("{s:s,s:o,s:[]}", "device", "CAM1", "clips", clips, "gaps");
	assert_int_equal(tl_build(dev, NULL, 180, &l), 0);
	check_layout(dev, l, 180);
	check_leaders(l);
	/* Each late clip has its own label between the runs of on-time ones. */
	assert_non_null(find_label(l, "#1007\nLATE"));
	assert_non_null(find_label(l, "#1000–#1006 (7)"));
	tl_free(l);
	json_decref(dev);
}

/* Whatever the input, no failure and no box outside: fields of the wrong type, no times, a
 * gap without times, a device without clips, an empty object; and clips without a device
 * (no gaps[]) days apart get a blank break rather than one scale over days. */
static void test_odd_input(void **state)
{
	static const char *const inputs[] = {
		"{}",
		"{\"clips\":5,\"gaps\":\"x\"}",
		"{\"clips\":[{}, {\"index\":\"3\",\"recorded_start\":7}, null],\"gaps\":[{}]}",
		"{\"clips\":[],\"gaps\":[{\"from\":\"2026-11-28T09:00:00Z\",\"to\":"
		"\"2026-11-28T08:00:00Z\",\"seconds\":-3600}]}",
		"{\"clips\":[{\"index\":1,\"recorded_end\":\"2026-11-28T09:00:00Z\","
		"\"storage_now\":\"on_time\"},{\"index\":2,\"recorded_start\":\"2026-11-28T09:"
		"00:00Z\",\"recorded_end\":\"2026-11-28T08:00:00Z\",\"storage_now\":\"late\"}]}",
	};
	json_t *dev;
	struct tl_layout *l = NULL;
	size_t n, blank = 0;
	const struct tl_box *b;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		dev = json_loads(inputs[i], 0, NULL);
		assert_non_null(dev);
		assert_int_equal(tl_build(dev, NULL, 100, &l), 0);
		check_layout(dev, l, 100);
		l = tl_free(l);
		json_decref(dev);
	}
	dev = json_loads("[]", 0, NULL);
	assert_int_equal(tl_build(dev, NULL, 100, &l), -EINVAL);
	json_decref(dev);
	dev = json_loads("{}", 0, NULL);
	assert_int_equal(tl_build(dev, NULL, 20, &l), -EINVAL);
	json_decref(dev);

	dev = json_loads("{\"device\":null,\"clips\":[{\"index\":1,\"recorded_start\":"
			 "\"2026-11-25T09:00:00Z\",\"duration_us\":10000000,\"storage_now\":"
			 "\"on_time\"},{\"index\":2,\"recorded_start\":\"2026-11-28T09:00:00Z\","
			 "\"duration_us\":10000000,\"storage_now\":\"on_time\"}],\"gaps\":[]}",
			 0, NULL);
	assert_int_equal(tl_build(dev, NULL, 180, &l), 0);
	check_layout(dev, l, 180);
	b = tl_boxes(l, &n);
	for (size_t i = 0; i < n; i++)
		blank += b[i].kind == TL_BOX_BREAK && (b[i].flags & TL_F_NO_GAP);
	assert_int_equal(blank, 1);
	assert_non_null(find_label(l, "not checked"));
	tl_free(l);
	json_decref(dev);
}

/* Random devices, gaps computed as the rules do (or, one time in four, made up): every layout
 * passes the checks, at several widths.  A fixed seed: a failure reproduces. */
static void test_random(void **state)
{
	static const char *const storage[] = { "on_time", "on_time_remote", "late",
					       "unknown_time" };
	static const char *const integrity[] = { "ok", "ok", "ok", "altered", "missing", "purged" };
	unsigned seed = 14;

	(void)state;
	for (int round = 0; round < 300; round++) {
		json_t *clips = json_array(), *gaps = json_array(), *dev;
		int n = rand_r(&seed) % 40;
		int64_t base = 1795000000, end = INT64_MIN;
		int64_t *s = calloc((size_t)n + 1, sizeof(*s)),
			*e = calloc((size_t)n + 1, sizeof(*e));
		struct tl_layout *l = NULL;
		char t0[32], t1[32];

		assert_non_null(s);
		assert_non_null(e);
		for (int i = 0; i < n; i++) {
			/* Clips in start order, as the review sorts them. */
			base +=
			    rand_r(&seed) % 4 == 0 ? rand_r(&seed) % 300000 : rand_r(&seed) % 40;
			s[i] = base;
			e[i] = base + (rand_r(&seed) % 5 == 0 ? rand_r(&seed) % 20000
							      : rand_r(&seed) % 30);
		}
		for (int i = 0; i < n; i++) {
			time_t a = (time_t)s[i], b = (time_t)e[i];
			struct tm ta, tb;
			bool timed = rand_r(&seed) % 8 != 0, unk = rand_r(&seed) % 10 == 0;

			gmtime_r(&a, &ta);
			gmtime_r(&b, &tb);
			strftime(t0, sizeof(t0), "%Y-%m-%dT%H:%M:%SZ", &ta);
			strftime(t1, sizeof(t1), "%Y-%m-%dT%H:%M:%SZ", &tb);
			json_array_append_new(
			    clips,
			    json_pack("{s:i,s:s?,s:s?,s:o,s:s,s:s,s:b,s:o}", "index", 100 + i,
				      "recorded_start", timed ? t0 : NULL, "recorded_end",
				      timed && !unk ? t1 : NULL, "duration_us",
				      unk ? json_null() : json_integer((e[i] - s[i]) * 1000000),
				      "storage_now", storage[rand_r(&seed) % 4], "integrity",
				      integrity[rand_r(&seed) % 6], "damaged",
				      unk || rand_r(&seed) % 9 == 0, "explained_by",
				      rand_r(&seed) % 2 ? json_pack("[i]", 7) : json_array()));
			if (!timed)
				continue;
			if (end != INT64_MIN && s[i] - end > 3) {
				time_t g = (time_t)end;
				struct tm tg;

				gmtime_r(&g, &tg);
				strftime(t1, sizeof(t1), "%Y-%m-%dT%H:%M:%SZ", &tg);
				json_array_append_new(
				    gaps,
				    json_pack("{s:s,s:s,s:I,s:i,s:o}", "from", t1, "to", t0,
					      "seconds", (json_int_t)(s[i] - end), "before",
					      100 + i, "explained_by",
					      rand_r(&seed) % 2 ? json_integer(9) : json_null()));
			}
			if ((unk ? s[i] : e[i]) > end)
				end = unk ? s[i] : e[i];
		}
		if (rand_r(&seed) % 4 == 0)
			json_array_append_new(
			    gaps, json_pack("{s:s,s:s,s:i}", "from", "2026-11-28T09:00:00Z", "to",
					    "2026-11-28T10:00:00Z", "seconds", 3600));
		dev = json_pack("{s:s,s:o,s:o}", "device", "CAM1", "clips", clips, "gaps", gaps);
		for (double w = 60; w <= 300; w += 120) {
			assert_int_equal(tl_build(dev, NULL, w, &l), 0);
			check_layout(dev, l, w);
			l = tl_free(l);
		}
		json_decref(dev);
		free(s);
		free(e);
	}
}

/* The statuses' swatches painted in greyscale: every two differ in many pixels. */
#define SW_W 96
#define SW_H 48
static void grey_swatch(enum tl_status s, uint8_t *out)
{
	cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, SW_W, SW_H);
	cairo_t *cr = cairo_create(sf);
	const uint8_t *p;
	int stride;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	/* 8 px per mm: a 12 × 6 mm swatch. */
	cairo_scale(cr, 8, 8);
	tl_swatch_cairo(s, cr, 0, 0, 12, 6);
	cairo_surface_flush(sf);
	p = cairo_image_surface_get_data(sf);
	stride = cairo_image_surface_get_stride(sf);
	for (int y = 0; y < SW_H; y++)
		for (int x = 0; x < SW_W; x++) {
			uint32_t v = *(const uint32_t *)(p + y * stride + 4 * x);

			out[y * SW_W + x] =
			    (uint8_t)((0.2126 * (v >> 16 & 0xff) + 0.7152 * (v >> 8 & 0xff) +
				       0.0722 * (v & 0xff)) +
				      0.5);
		}
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
}

static void test_patterns_differ(void **state)
{
	static uint8_t g[TL__N][SW_W * SW_H];

	(void)state;
	for (int s = 0; s < TL__N; s++) {
		assert_non_null(tl_status_word(s));
		grey_swatch(s, g[s]);
	}
	for (int a = 0; a < TL__N; a++)
		for (int b = 0; b < a; b++) {
			const struct tl_pattern *pa = tl_pattern(a), *pb = tl_pattern(b);
			size_t differ = 0;

			/* Another fill, or the same one told apart by its darkness. */
			assert_true(pa->fill != pb->fill || pa->bg != pb->bg);
			assert_string_not_equal(tl_status_word(a), tl_status_word(b));
			for (size_t i = 0; i < SW_W * SW_H; i++)
				differ += abs((int)g[a][i] - (int)g[b][i]) > 40;
			if (differ < SW_W * SW_H / 10)
				fail_msg(
				    "'%s' and '%s' look alike in greyscale (%zu pixels differ)",
				    tl_status_word(a), tl_status_word(b), differ);
		}
}

/* The SVG: one element, every clip's entry in it, patterns defined once per svg and unique
 * ids across two of them, nothing unescaped. */
static void test_svg(void **state)
{
	json_t *dev = load_fixture();
	struct tl_layout *l = NULL;
	char *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f;
	char id[32];

	(void)state;
	assert_int_equal(tl_build(dev, NULL, 180, &l), 0);
	f = open_memstream(&buf, &len);
	assert_int_equal(tl_svg(l, f), 0);
	fclose(f);
	assert_true(!strncmp(buf, "<svg ", 5));
	assert_non_null(strstr(buf, "viewBox=\"0 0.00 180.00 "));
	assert_non_null(strstr(buf, "width=\"180.00mm\""));
	assert_non_null(strstr(buf, "#26–#65 (40)"));
	assert_non_null(strstr(buf, "UNEXPLAINED"));
	assert_int_equal(strstr(buf, "</svg>") - buf + 6, (long)len);
	f = open_memstream(&buf2, &len2);
	assert_int_equal(tl_svg(l, f), 0);
	fclose(f);
	/* The second's pattern ids are not the first's. */
	assert_non_null(strstr(buf, "<pattern id=\"tl"));
	sscanf(strstr(buf, "<pattern id=\"") + 13, "%31[^\"]", id);
	assert_null(strstr(buf2, id));
	free(buf);
	free(buf2);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(tl_legend_svg(180, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "stored on time"));
	free(buf);
	tl_free(l);
	json_decref(dev);
}

/* What a black-and-white printer makes of it: luminance only. */
static void to_grey(cairo_surface_t *sf)
{
	uint8_t *p;
	int stride, w, h;

	cairo_surface_flush(sf);
	p = cairo_image_surface_get_data(sf);
	stride = cairo_image_surface_get_stride(sf);
	w = cairo_image_surface_get_width(sf);
	h = cairo_image_surface_get_height(sf);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t *v = (uint32_t *)(p + y * stride + 4 * x);
			uint32_t g =
			    (uint32_t)(0.2126 * (*v >> 16 & 0xff) + 0.7152 * (*v >> 8 & 0xff) +
				       0.0722 * (*v & 0xff) + 0.5);

			*v = g << 16 | g << 8 | g;
		}
	cairo_surface_mark_dirty(sf);
}

/* For a person: the timeline at A4 portrait text width with the legend, as PNG (10 px/mm) and
 * SVG, in the build folder (the tests' working directory). */
static void test_render(void **state)
{
	json_t *dev = load_fixture();
	struct ing_tz *tz = shanghai();
	struct tl_layout *l = NULL;
	double w = 180, h, lh;
	cairo_surface_t *sf;
	cairo_t *cr;
	FILE *f;

	(void)state;
	assert_int_equal(tl_build(dev, tz, w, &l), 0);
	lh = tl_legend_height_mm(w);
	h = tl_height_mm(l) + lh + 10;
	sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)((w + 10) * 10), (int)(h * 10));
	cr = cairo_create(sf);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, 10, 10);
	tl_legend_cairo(cr, 5, 3, w);
	tl_cairo(l, cr, 5, 3 + lh + 4);
	assert_int_equal(cairo_status(cr), CAIRO_STATUS_SUCCESS);
	assert_int_equal(cairo_surface_write_to_png(sf, "timeline-three-days.png"),
			 CAIRO_STATUS_SUCCESS);
	to_grey(sf);
	assert_int_equal(cairo_surface_write_to_png(sf, "timeline-three-days-grey.png"),
			 CAIRO_STATUS_SUCCESS);
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
	f = fopen("timeline-three-days.svg", "w");
	assert_non_null(f);
	fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"/></head><body>", f);
	assert_int_equal(tl_legend_svg(w, f), 0);
	fputs("<br/>", f);
	assert_int_equal(tl_svg(l, f), 0);
	fputs("</body></html>\n", f);
	assert_int_equal(fclose(f), 0);
	tl_free(l);
	ing_tz_free(tz);
	json_decref(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_days), cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_many),	   cmocka_unit_test(test_odd_input),
		cmocka_unit_test(test_random),	   cmocka_unit_test(test_patterns_differ),
		cmocka_unit_test(test_svg),	   cmocka_unit_test(test_render),
	};

	/* The words checked are the English ones. */
	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}

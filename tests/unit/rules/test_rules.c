/* test_rules.c: rules/rules.c: the storage status now (on time, late, late then explained,
 * remote duty declared before and after the upload, declarations that do not apply, unknown
 * and future time, damaged with and without a report), continuity (a camera split within
 * split_tolerance, real gaps explained and not, overlapping clips), the case review (verdict,
 * open items, integrity) and report figures for a scenario whose counts are known. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ingest/tz.h"
#include "rules/rules.h"

#define US 1000000LL
#define H (3600 * US)

static const struct rules_params params = {
	.storage_deadline_us = 24 * H,
	.split_tolerance_us = 3 * US,
};

/* 2026-11-20 at h:m:s UTC, plus @days. */
static int64_t at(int days, int h, int m, int s)
{
	return (ing_civil_to_epoch(2026, 11, 20, h, m, s) + (int64_t)days * 86400) * US;
}

/* A clip of @device recorded from @start for @len_s seconds, stored @stored; its logged status
 * computed as the daemon does (deadline = end + 24 h). */
static struct rules_clip clip(uint64_t index, const char *device, int64_t start, int len_s,
			      int64_t stored)
{
	struct rules_clip c = {
		.index = index,
		.device = device,
		.officer = "OFF7",
		.zone = "dock",
		.name = "clip.mp4",
		.sha256 = "00",
		.start_us = start,
		.end_us = start + len_s * US,
		.duration_us = len_s * US,
		.ingested_us = stored,
		.deadline_us = start + len_s * US + 24 * H,
		.size = 1000,
		.integrity = RULES_INTACT,
	};

	c.storage = stored <= c.deadline_us ? RULES_ON_TIME : RULES_LATE;
	return c;
}

static struct rules_clip untimed(uint64_t index, const char *device, int64_t stored)
{
	struct rules_clip c = clip(index, device, 0, 0, stored);

	c.start_us = c.end_us = c.deadline_us = RULES_NOTIME;
	c.duration_us = 10 * US;
	c.storage = RULES_UNKNOWN_TIME;
	return c;
}

static struct rules_note note(uint64_t index, uint8_t kind, const uint64_t *entries, size_t n)
{
	return (struct rules_note){
		.index = index,
		.kind = kind,
		.entries = entries,
		.nentries = n,
		.from_us = RULES_NOTIME,
		.to_us = RULES_NOTIME,
		.returned_us = RULES_NOTIME,
		.at_us = RULES_NOTIME,
		.by = "alice(uid 1001)",
		.reason = "because",
	};
}

static struct rules_note remote(uint64_t index, const char *device, const char *officer,
				int64_t from, int64_t to, int64_t returned, int64_t made)
{
	struct rules_note n = note(index, RULES_REMOTE_DUTY, NULL, 0);

	n.device = device;
	n.officer = officer;
	n.from_us = from;
	n.to_us = to;
	n.returned_us = returned;
	n.at_us = made;
	return n;
}

static struct rules_note interruption(uint64_t index, const char *device, int64_t from, int64_t to)
{
	struct rules_note n = note(index, RULES_INTERRUPTION, NULL, 0);

	n.device = device;
	n.from_us = from;
	n.to_us = to;
	n.reason = "battery swap";
	return n;
}

static struct rules_book *book(const struct rules_note *notes, size_t n)
{
	struct rules_book *b = NULL;

	assert_int_equal(rules_book_new(&params, notes, n, &b), 0);
	assert_non_null(b);
	return b;
}

static void status(const struct rules_note *notes, size_t n, const struct rules_clip *c,
		   struct rules_status *st)
{
	struct rules_book *b = book(notes, n);

	rules_clip_status(b, c, st);
	rules_book_free(b);
}

/* ---- storage status ---------------------------------------------------------------------- */

static void test_words(void **state)
{
	(void)state;
	assert_string_equal(rules_storage_name(RULES_ON_TIME_REMOTE), "on_time_remote");
	assert_null(rules_storage_name(RULES_STORAGE_NONE));
	assert_null(rules_storage_name(99));
	assert_int_equal(rules_storage_parse("late"), RULES_LATE);
	assert_int_equal(rules_storage_parse("unknown_time"), RULES_UNKNOWN_TIME);
	assert_int_equal(rules_storage_parse("soon"), RULES_STORAGE_NONE);
	assert_int_equal(rules_storage_parse(NULL), RULES_STORAGE_NONE);
	assert_string_equal(rules_integrity_name(RULES_INTACT), "ok");
	assert_null(rules_integrity_name(RULES_UNCHECKED));
}

static void test_on_time_and_late(void **state)
{
	struct rules_clip ok = clip(1, "CAM1", at(0, 8, 0, 0), 600, at(0, 20, 0, 0));
	struct rules_clip late = clip(2, "CAM1", at(0, 9, 0, 0), 600, at(3, 9, 0, 0));
	uint64_t e2 = 2;
	struct rules_note explain = note(10, RULES_LATE_STORAGE, &e2, 1);
	struct rules_status st;

	(void)state;
	assert_int_equal(ok.storage, RULES_ON_TIME);
	status(NULL, 0, &ok, &st);
	assert_int_equal(st.storage_now, RULES_ON_TIME);
	assert_false(st.late_open || st.unknown_open || st.future_open || st.damaged_open);

	assert_int_equal(late.storage, RULES_LATE);
	status(NULL, 0, &late, &st);
	assert_int_equal(st.storage_now, RULES_LATE);
	assert_true(st.late_open);
	assert_null(st.late_storage);

	/* Late, then explained: still late, no longer open. */
	status(&explain, 1, &late, &st);
	assert_int_equal(st.storage_now, RULES_LATE);
	assert_false(st.late_open);
	assert_ptr_equal(st.late_storage, &explain);
	/* An explanation names its entry: another clip stays open. */
	late.index = 3;
	status(&explain, 1, &late, &st);
	assert_true(st.late_open);
}

static void test_remote_duty(void **state)
{
	/* Recorded on day 0 at 09:00 on remote duty until day 2 20:00, stored day 3 10:00: late
	 * by the 24-hour rule, within 24 hours of the return. */
	struct rules_clip c = clip(5, "CAM2", at(0, 9, 0, 0), 600, at(3, 10, 0, 0));
	struct rules_note before = remote(20, "CAM2", NULL, at(0, 6, 0, 0), at(2, 20, 0, 0),
					  at(2, 20, 0, 0), at(0, 6, 0, 0));
	struct rules_note after = remote(30, NULL, "OFF7", at(0, 6, 0, 0), at(2, 20, 0, 0),
					 at(2, 20, 0, 0), at(4, 0, 0, 0));
	struct rules_note notes[2];
	struct rules_status st;

	(void)state;
	assert_int_equal(c.storage, RULES_LATE);
	/* Declared before the upload, by device. */
	status(&before, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_ON_TIME_REMOTE);
	assert_ptr_equal(st.remote_duty, &before);
	assert_false(st.late_open);
	/* Declared after the upload (made on day 4), by officer: the same. */
	status(&after, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_ON_TIME_REMOTE);
	assert_ptr_equal(st.remote_duty, &after);
	/* Both: the first by index is named. */
	notes[0] = after;
	notes[1] = before;
	status(notes, 2, &c, &st);
	assert_int_equal(st.remote_duty->index, 20);

	/* Not covering the recording: it starts before the duty. */
	before.from_us = at(0, 9, 5, 0);
	status(&before, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_LATE);
	assert_true(st.late_open);
	/* Ends after the recording's start but before its end. */
	before.from_us = at(0, 6, 0, 0);
	before.to_us = at(0, 9, 5, 0);
	status(&before, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_LATE);
	/* Covering, but stored more than 24 hours after the return. */
	before.to_us = at(2, 20, 0, 0);
	before.returned_us = at(2, 9, 0, 0);
	status(&before, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_LATE);
	/* Exactly 24 hours after the return is still in time. */
	before.returned_us = at(2, 10, 0, 0);
	status(&before, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_ON_TIME_REMOTE);
	/* Another device and another officer: not this clip's declaration. */
	before.device = "CAM3";
	before.officer = "OFF9";
	status(&before, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_LATE);
	/* An on-time clip stays on_time under a declaration. */
	c = clip(6, "CAM2", at(0, 9, 0, 0), 600, at(0, 12, 0, 0));
	status(&after, 1, &c, &st);
	assert_int_equal(st.storage_now, RULES_ON_TIME);
}

static void test_unknown_and_future(void **state)
{
	struct rules_clip u = untimed(7, "CAM1", at(0, 12, 0, 0));
	struct rules_clip f = clip(8, "CAM1", at(40, 9, 0, 0), 60, at(0, 12, 0, 0));
	uint64_t e7 = 7, e8 = 8;
	struct rules_note notes[2] = { note(40, RULES_LATE_STORAGE, &e7, 1),
				       note(41, RULES_LATE_STORAGE, &e8, 1) };
	struct rules_status st;

	(void)state;
	status(NULL, 0, &u, &st);
	assert_int_equal(st.storage_now, RULES_UNKNOWN_TIME);
	assert_true(st.unknown_open);
	assert_false(st.future_open);
	status(notes, 1, &u, &st);
	assert_false(st.unknown_open);

	/* The daemon logs a time in the future as unknown_time with time_in_future. */
	f.storage = RULES_UNKNOWN_TIME;
	f.deadline_us = RULES_NOTIME;
	f.future = true;
	status(NULL, 0, &f, &st);
	assert_int_equal(st.storage_now, RULES_UNKNOWN_TIME);
	assert_true(st.future_open);
	assert_false(st.unknown_open); /* one open item, under its own kind */
	status(notes, 2, &f, &st);
	assert_false(st.future_open);
	/* A remote duty declaration cannot vouch for a clock that was wrong. */
	f.storage = RULES_LATE;
	notes[0] = remote(42, "CAM1", NULL, at(0, 0, 0, 0), at(50, 0, 0, 0), at(0, 11, 0, 0),
			  at(0, 0, 0, 0));
	status(notes, 1, &f, &st);
	assert_int_equal(st.storage_now, RULES_LATE);
}

static void test_damaged(void **state)
{
	struct rules_clip d = clip(9, "CAM1", at(0, 8, 0, 0), 60, at(0, 9, 0, 0));
	uint64_t e9 = 9;
	struct rules_note rep = note(50, RULES_DAMAGE_REPORT, &e9, 1);
	struct rules_status st;

	(void)state;
	d.damaged = true;
	status(NULL, 0, &d, &st);
	assert_true(st.damaged_open);
	assert_false(st.late_open);
	status(&rep, 1, &d, &st);
	assert_false(st.damaged_open);
	assert_ptr_equal(st.damage_report, &rep);
	/* A late_storage does not report damage, nor a damage report explain lateness. */
	rep.kind = RULES_LATE_STORAGE;
	status(&rep, 1, &d, &st);
	assert_true(st.damaged_open);
}

/* ---- continuity -------------------------------------------------------------------------- */

static size_t gaps(const struct rules_note *notes, size_t nn, const char *device,
		   struct rules_span *spans, size_t n, struct rules_gap *ret)
{
	struct rules_book *b = book(notes, nn);
	size_t k;

	rules_sort_spans(spans, n);
	k = rules_gaps(b, device, spans, n, ret);
	rules_book_free(b);
	return k;
}

static void test_continuity(void **state)
{
	/* A camera splitting a recording into files: 2 s between them, within 3 s. */
	struct rules_span split[3] = {
		{ 12, at(0, 10, 10, 2), at(0, 10, 20, 0) },
		{ 11, at(0, 10, 0, 0), at(0, 10, 10, 0) },
		{ 13, at(0, 10, 20, 3), at(0, 10, 30, 0) }, /* exactly the tolerance */
	};
	struct rules_span real[2] = {
		{ 21, at(0, 11, 0, 0), at(0, 11, 10, 0) },
		{ 22, at(0, 11, 25, 0), at(0, 11, 30, 0) },
	};
	/* A long clip overlapping two short ones, then the next right after the long one. */
	struct rules_span overlap[4] = {
		{ 31, at(0, 12, 0, 0), at(0, 12, 30, 0) },
		{ 32, at(0, 12, 5, 0), at(0, 12, 8, 0) },
		{ 33, at(0, 12, 10, 0), at(0, 12, 12, 0) },
		{ 34, at(0, 12, 30, 1), at(0, 12, 40, 0) },
	};
	struct rules_note notes[3];
	struct rules_gap g[4];

	(void)state;
	assert_int_equal(gaps(NULL, 0, "CAM1", split, 3, g), 0);
	assert_int_equal(split[0].index, 11); /* sorted by start */
	split[2].start_us += 1;		      /* 3 s + 1 µs: a gap */
	assert_int_equal(gaps(NULL, 0, "CAM1", split, 3, g), 1);

	assert_int_equal(gaps(NULL, 0, "CAM1", real, 2, g), 1);
	assert_int_equal(g[0].after, 21);
	assert_int_equal(g[0].before, 22);
	assert_true(g[0].from_us == at(0, 11, 10, 0) && g[0].to_us == at(0, 11, 25, 0));
	assert_null(g[0].explained_by);

	/* Explained: an interruption covering it, 2 s short at each end (within tolerance). */
	notes[0] = interruption(60, "CAM1", at(0, 11, 10, 2), at(0, 11, 24, 58));
	assert_int_equal(gaps(notes, 1, "CAM1", real, 2, g), 1);
	assert_non_null(g[0].explained_by);
	assert_int_equal(g[0].explained_by->index, 60);
	/* Not: 5 s short, another device's, or before the gap. */
	notes[0] = interruption(60, "CAM1", at(0, 11, 10, 5), at(0, 11, 25, 0));
	notes[1] = interruption(61, "CAM2", at(0, 11, 0, 0), at(0, 11, 30, 0));
	notes[2] = interruption(62, "CAM1", at(0, 9, 0, 0), at(0, 11, 20, 0));
	assert_int_equal(gaps(notes, 3, "CAM1", real, 2, g), 1);
	assert_null(g[0].explained_by);
	/* One that starts early and ends late covers it. */
	notes[2].to_us = at(0, 13, 0, 0);
	assert_int_equal(gaps(notes, 3, "CAM1", real, 2, g), 1);
	assert_int_equal(g[0].explained_by->index, 62);

	/* Overlapping clips are not gaps, and the long clip's end counts. */
	assert_int_equal(gaps(NULL, 0, "CAM1", overlap, 4, g), 0);
	overlap[3].start_us = at(0, 12, 31, 0);
	assert_int_equal(gaps(NULL, 0, "CAM1", overlap, 4, g), 1);
	assert_int_equal(g[0].after, 31);
	assert_int_equal(g[0].before, 34);
	assert_int_equal(gaps(NULL, 0, "CAM1", overlap, 1, g), 0);
	assert_int_equal(gaps(NULL, 0, "CAM1", overlap, 0, g), 0);
}

/* ---- the review -------------------------------------------------------------------------- */

static const json_t *open_item(const json_t *review, const char *kind, json_int_t entry)
{
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(review, "open"), i, item)
		if (!strcmp(json_string_value(json_object_get(item, "kind")), kind) &&
		    (entry < 0 || json_integer_value(json_object_get(item, "entry")) == entry))
			return item;
	return NULL;
}

static void test_review_complete(void **state)
{
	struct rules_clip clips[4] = {
		clip(3, "CAM1", at(0, 10, 10, 2), 600, at(0, 20, 0, 0)), /* split from 2 */
		clip(2, "CAM1", at(0, 10, 0, 0), 600, at(0, 20, 0, 0)),
		clip(4, "CAM1", at(0, 11, 0, 0), 600, at(3, 20, 0, 0)), /* late, explained */
		clip(5, "CAM2", at(0, 10, 0, 0), 60, at(0, 12, 0, 0)),
	};
	uint64_t e4 = 4, bound[4] = { 2, 3, 4, 5 };
	struct rules_note notes[3] = {
		note(70, RULES_CASE, bound, 4),
		note(71, RULES_LATE_STORAGE, &e4, 1),
		interruption(72, "CAM1", at(0, 10, 20, 2), at(0, 11, 0, 0)),
	};
	struct rules_book *b = book(notes, 3);
	const json_t *devs, *dev, *c;
	json_t *r = NULL;

	(void)state;
	notes[0].case_id = "C-1";
	assert_int_equal(rules_review(b, "C-1", clips, 4, &r), 0);
	assert_true(json_is_true(json_object_get(r, "complete")));
	/* Complete, but the explained late clip and the explained gap are reservations the
	 * verdict names, with the spans in days, hours and minutes. */
	assert_string_equal(json_string_value(json_object_get(r, "verdict")),
			    "complete with reservations: 4 clips from 2 devices, every gap "
			    "explained, every original intact; entry 4 stored late (explained, "
			    "#71); CAM1 recorded nothing for 39 min 58 s from 2026-11-20T10:20:02Z "
			    "to 2026-11-20T11:00:00Z (interruption, #72)");
	assert_int_equal(json_array_size(json_object_get(r, "reservations")), 2);
	assert_int_equal(json_array_size(json_object_get(r, "open")), 0);
	devs = json_object_get(r, "devices");
	assert_int_equal(json_array_size(devs), 2);
	dev = json_array_get(devs, 0);
	assert_string_equal(json_string_value(json_object_get(dev, "device")), "CAM1");
	/* In recording order, with the one gap and its explanation. */
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(dev, "clips"), 0), "index")),
			 2);
	assert_int_equal(json_array_size(json_object_get(dev, "gaps")), 1);
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(dev, "gaps"), 0), "explained_by")),
			 72);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(dev, "gaps"), 0), "reason")),
			    "battery swap");
	c = json_array_get(json_object_get(dev, "clips"), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "index")), 4);
	assert_string_equal(json_string_value(json_object_get(c, "storage")), "late");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(c, "explained_by"), 0)),
			 71);
	assert_string_equal(json_string_value(json_object_get(c, "integrity")), "ok");
	assert_string_equal(json_string_value(json_object_get(c, "recorded_start")),
			    "2026-11-20T11:00:00Z");
	json_decref(r);
	rules_book_free(b);
}

static void test_review_incomplete(void **state)
{
	struct rules_clip clips[6] = {
		clip(2, "CAM1", at(0, 10, 0, 0), 600, at(0, 20, 0, 0)),
		clip(3, "CAM1", at(0, 10, 30, 0), 600, at(3, 20, 0, 0)), /* gap, late */
		clip(4, "CAM1", at(0, 10, 40, 0), 60, at(0, 20, 0, 0)),	 /* altered */
		clip(5, "CAM2", at(0, 10, 0, 0), 60, at(0, 12, 0, 0)),	 /* damaged */
		untimed(6, NULL, at(0, 12, 0, 0)),			 /* missing */
		clip(7, "CAM2", at(0, 10, 2, 0), 60, at(0, 12, 0, 0)),	 /* gap, explained */
	};
	struct rules_note notes[1] = { interruption(80, "CAM2", at(0, 10, 1, 0), at(0, 10, 2, 0)) };
	struct rules_book *b = book(notes, 1);
	const json_t *item;
	const char *verdict;
	json_t *r = NULL;

	(void)state;
	clips[2].integrity = RULES_ALTERED;
	clips[3].damaged = true;
	clips[3].error = "moov atom not found";
	clips[4].integrity = RULES_MISSING;
	clips[4].integrity_error = "not in the store";
	assert_int_equal(rules_review(b, "C-2", clips, 6, &r), 0);
	assert_false(json_is_true(json_object_get(r, "complete")));
	verdict = json_string_value(json_object_get(r, "verdict"));
	assert_non_null(strstr(verdict, "INCOMPLETE: 1 late clip unexplained (entry 3)"));
	assert_non_null(strstr(verdict, "1 unexplained gap (CAM1 2026-11-20T10:10:00Z to "
					"2026-11-20T10:30:00Z)"));
	assert_non_null(strstr(verdict, "1 damaged file without a report (entry 5)"));
	assert_non_null(strstr(verdict, "1 original altered (entry 4)"));
	assert_non_null(strstr(verdict, "1 original missing or unreadable (entry 6)"));
	assert_non_null(strstr(verdict, "1 clip without a trustworthy time unexplained (entry 6)"));
	assert_non_null(open_item(r, "late", 3));
	assert_non_null(open_item(r, "altered", 4));
	assert_non_null(open_item(r, "damaged", 5));
	assert_non_null(open_item(r, "missing", 6));
	assert_non_null(open_item(r, "unknown_time", 6));
	item = open_item(r, "gap", 3);
	assert_non_null(item);
	assert_string_equal(json_string_value(json_object_get(item, "device")), "CAM1");
	/* The message in words, the command apart. */
	assert_string_equal(json_string_value(json_object_get(item, "message")),
			    "CAM1 recorded nothing for 20 min 0 s, from 2026-11-20T10:10:00Z to "
			    "2026-11-20T10:30:00Z, and no interruption annotation explains it");
	assert_string_equal(json_string_value(json_object_get(item, "action")),
			    "custodyctl annotate interruption --device CAM1 --from "
			    "2026-11-20T10:10:00Z --to 2026-11-20T10:30:00Z --reason TEXT");
	assert_null(open_item(r, "gap", 7)); /* CAM2's gap is explained */
	/* The clip without a device cannot be put on a timeline: open too. */
	item = open_item(r, "no_device", 6);
	assert_non_null(item);
	assert_string_equal(json_string_value(json_object_get(item, "action")),
			    "custodyctl annotate device --entry 6 --device DEVICE --reason TEXT");
	assert_non_null(strstr(verdict, "1 clip without a device (entry 6)"));
	assert_int_equal(json_array_size(json_object_get(r, "open")), 7);
	/* No message names a command or a raw count of seconds. */
	{
		size_t k;

		json_array_foreach(json_object_get(r, "open"), k, item) {
			const char *msg = json_string_value(json_object_get(item, "message"));

			assert_null(strstr(msg, "custodyctl"));
		}
	}
	item = open_item(r, "late", 3);
	assert_string_equal(json_string_value(json_object_get(item, "message")),
			    "stored 3 d 9 h 20 min after the recording ended, 2 d 9 h 20 min past "
			    "its deadline, and nothing explains it (if it was recorded on remote "
			    "duty, declare that instead)");
	/* The damaged file without a report is a reservation too, an open one; the damaged
	 * file's raw error stays on its row, out of the message. */
	assert_int_equal(json_array_size(json_object_get(r, "reservations")), 2); /* 5; gap */
	assert_null(strstr(verdict, "every original intact"));
	assert_non_null(strstr(verdict, "; reservations: CAM2 recorded nothing for 1 min 0 s from "
					"2026-11-20T10:01:00Z to 2026-11-20T10:02:00Z "
					"(interruption, #80)"));
	assert_int_equal(rules_open_count(b, clips, 6), 7);
	/* The clip without a device is listed last, under a null device. */
	item = json_array_get(json_object_get(r, "devices"), 2);
	assert_true(json_is_null(json_object_get(item, "device")));
	assert_int_equal(json_array_size(json_object_get(item, "gaps")), 0);
	json_decref(r);

	/* Purged, and a case without clips. */
	clips[0].integrity = RULES_PURGED;
	assert_int_equal(rules_review(b, "C-3", clips, 1, &r), 0);
	assert_non_null(open_item(r, "purged", 2));
	assert_non_null(strstr(json_string_value(json_object_get(r, "verdict")),
			       "1 original purged (entry 2)"));
	json_decref(r);
	assert_int_equal(rules_review(b, "C-4", clips, 0, &r), 0);
	assert_false(json_is_true(json_object_get(r, "complete")));
	assert_non_null(open_item(r, "no_clips", -1));
	json_decref(r);
	rules_book_free(b);
}

static void test_review_verdict_list(void **state)
{
	struct rules_clip clips[8];
	struct rules_book *b = book(NULL, 0);
	json_t *r = NULL;

	(void)state;
	for (int i = 0; i < 8; i++)
		clips[i] = clip(100 + (uint64_t)i, NULL, at(0, 8 + i, 0, 0), 60, at(5, 0, 0, 0));
	assert_int_equal(rules_review(b, "C-5", clips, 8, &r), 0);
	assert_non_null(strstr(json_string_value(json_object_get(r, "verdict")),
			       "8 late clips unexplained (entries 100, 101, 102, 103, 104 and 3 "
			       "more)"));
	json_decref(r);
	rules_book_free(b);
}

/* ---- reports ----------------------------------------------------------------------------- */

static json_int_t count(const json_t *row, const char *key)
{
	const json_t *v = json_object_get(row, key);

	if (!json_is_integer(v))
		fail_msg("no counter '%s'", key);
	return json_integer_value(v);
}

static const json_t *row(const json_t *report, const char *list, const char *key, const char *name)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(report, list), i, r) {
		const char *k = json_string_value(json_object_get(r, key));

		if ((!name && !k) || (name && k && !strcmp(k, name)))
			return r;
	}
	fail_msg("no row %s '%s'", list, name ? name : "null");
	return NULL;
}

static void test_report(void **state)
{
	/* The scenario, November 2026:
	 *   CAM1/OFF7: 1 on time, 2 split (on time), 3 late explained, 4 late open after a gap
	 *              explained, 5 after a gap unexplained (on time), 6 damaged and reported;
	 *   CAM2/OFF8: 10 late then on_time_remote, 11 late (declaration does not cover it),
	 *              12 unknown time open, 13 future open, 14 damaged unreported;
	 *   CAM2/OFF8: 15 unknown time explained;
	 *   CAM3:      20 in December (outside the period).
	 * Case K binds 4 and 5, so the gap between them is open; the gap before 4 is explained. */
	struct rules_clip c[] = {
		clip(1, "CAM1", at(0, 8, 0, 0), 600, at(0, 20, 0, 0)),
		clip(2, "CAM1", at(0, 8, 10, 1), 600, at(0, 20, 0, 0)),
		clip(3, "CAM1", at(0, 9, 0, 0), 600, at(3, 20, 0, 0)),
		clip(4, "CAM1", at(0, 10, 0, 0), 600, at(3, 20, 0, 0)),
		clip(5, "CAM1", at(0, 11, 0, 0), 600, at(0, 20, 0, 0)),
		clip(6, "CAM1", at(0, 11, 10, 0), 300, at(0, 20, 0, 0)),
		clip(10, "CAM2", at(1, 9, 0, 0), 60, at(4, 9, 0, 0)),
		clip(11, "CAM2", at(1, 9, 5, 0), 60, at(4, 9, 0, 0)),
		untimed(12, "CAM2", at(1, 12, 0, 0)),
		clip(13, "CAM2", at(30, 9, 0, 0), 60, at(2, 9, 0, 0)),
		clip(14, "CAM2", at(1, 9, 4, 0), 60, at(1, 10, 0, 0)),
		untimed(15, "CAM2", at(1, 13, 0, 0)),
		clip(20, "CAM3", at(15, 9, 0, 0), 60, at(15, 10, 0, 0)),
	};
	uint64_t e3 = 3, e6 = 6, e15 = 15, k[2] = { 4, 5 };
	struct rules_note notes[] = {
		note(40, RULES_LATE_STORAGE, &e3, 1),
		note(41, RULES_DAMAGE_REPORT, &e6, 1),
		note(42, RULES_LATE_STORAGE, &e15, 1),
		note(43, RULES_CASE, k, 2),
		interruption(44, "CAM1", at(0, 9, 10, 0), at(0, 10, 0, 0)),
		remote(45, "CAM2", NULL, at(1, 8, 0, 0), at(1, 9, 3, 0), at(3, 12, 0, 0),
		       at(5, 0, 0, 0)),
	};
	struct rules_book *b;
	struct rules_report *r = NULL;
	const json_t *t, *d1, *d2, *o8;
	json_t *j = NULL;

	(void)state;
	notes[3].case_id = "K";
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		c[i].officer = !strcmp(c[i].device, "CAM1") ? "OFF7" : "OFF8";
	c[5].damaged = true;
	c[9].storage = RULES_UNKNOWN_TIME; /* 13: the future */
	c[9].future = true;
	c[10].damaged = true;
	b = book(notes, sizeof(notes) / sizeof(notes[0]));
	assert_int_equal(rules_report_new(b, at(-19, 0, 0, 0), at(11, 0, 0, 0), 100, &r), 0);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_int_equal(rules_report_clip(r, &c[i]), 0);
	rules_report_accesses(r, 40, 2, 3);
	assert_int_equal(rules_report_clip_accesses(r, "CAM1", "OFF7", 1, 0, 0), 0);
	assert_int_equal(rules_report_clip_accesses(r, "CAM1", "OFF7", 1, 1, 0), 0);
	assert_int_equal(rules_report_clip_accesses(r, "CAM2", "OFF8", 0, 0, 1), 0);
	assert_int_equal(rules_report_json(r, &j), 0);

	assert_string_equal(json_string_value(json_object_get(j, "from")), "2026-11-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(j, "to")), "2026-12-01T00:00:00Z");
	t = json_object_get(j, "totals");
	assert_int_equal(count(t, "clips"), 12);
	assert_int_equal(count(t, "seconds"), 600 * 5 + 300 + 60 * 4 + 10 * 2);
	assert_int_equal(count(t, "on_time"), 5);		 /* 1, 2, 5, 6, 14 */
	assert_int_equal(count(t, "on_time_remote"), 1);	 /* 10 */
	assert_int_equal(count(t, "late_explained"), 1);	 /* 3 */
	assert_int_equal(count(t, "late_open"), 2);		 /* 4, 11 */
	assert_int_equal(count(t, "unknown_time_explained"), 1); /* 15 */
	assert_int_equal(count(t, "unknown_time_open"), 2);	 /* 12, 13 */
	assert_int_equal(count(t, "future_time"), 1);
	/* CAM1: 1→2 split; 2 ends 08:20:01, 3 at 09:00 (gap); 3→4 (explained); 4→5 (open,
	 * case K); 5→6 none.  CAM2: 10 09:00-09:01, 14 09:04 (gap), 11 09:05 (no gap). */
	assert_int_equal(count(t, "interruptions"), 4);
	assert_int_equal(count(t, "interruptions_explained"), 1);
	assert_int_equal(count(t, "damaged"), 2);
	assert_int_equal(count(t, "damage_reported"), 1);
	assert_int_equal(count(t, "accesses"), 40);
	assert_int_equal(count(t, "copy_outs"), 2);
	assert_int_equal(count(t, "refused"), 3);

	d1 = row(j, "devices", "device", "CAM1");
	assert_int_equal(count(d1, "clips"), 6);
	assert_int_equal(count(d1, "interruptions"), 3);
	assert_int_equal(count(d1, "accesses"), 2);
	assert_int_equal(count(d1, "copy_outs"), 1);
	d2 = row(j, "devices", "device", "CAM2");
	assert_int_equal(count(d2, "clips"), 6);
	assert_int_equal(count(d2, "late_open"), 1);
	assert_int_equal(count(d2, "refused"), 1);
	o8 = row(j, "officers", "officer", "OFF8");
	assert_int_equal(count(o8, "clips"), 6);
	assert_int_equal(count(o8, "interruptions"), 1);
	assert_int_equal(json_array_size(json_object_get(j, "devices")), 2); /* not CAM3 */

	/* Open: late 4 and 11, unknown 12, future 13, damaged 14, and the case's gap. */
	assert_int_equal(json_integer_value(json_object_get(j, "open_total")), 6);
	assert_int_equal(json_array_size(json_object_get(j, "open")), 6);
	assert_non_null(open_item(j, "late", 4));
	assert_non_null(open_item(j, "late", 11));
	assert_non_null(open_item(j, "unknown_time", 12));
	assert_non_null(open_item(j, "future_time", 13));
	assert_non_null(open_item(j, "damaged", 14));
	assert_non_null(open_item(j, "gap", 5));
	assert_false(json_is_true(json_object_get(j, "open_truncated")));
	json_decref(j);
	rules_report_free(r);

	/* The whole log, open items capped at 2. */
	assert_int_equal(rules_report_new(b, RULES_NOTIME, RULES_NOTIME, 2, &r), 0);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_int_equal(rules_report_clip(r, &c[i]), 0);
	assert_int_equal(rules_report_json(r, &j), 0);
	assert_int_equal(count(json_object_get(j, "totals"), "clips"), 13);
	assert_true(json_is_null(json_object_get(j, "from")));
	assert_int_equal(json_integer_value(json_object_get(j, "open_total")), 6);
	assert_int_equal(json_array_size(json_object_get(j, "open")), 2);
	assert_true(json_is_true(json_object_get(j, "open_truncated")));
	json_decref(j);
	rules_report_free(r);

	/* A period without clips (found by tests/fuzz/fuzz_request.c: it sorted a NULL array,
	 * which UBSan reports in the sanitizer build). */
	assert_int_equal(rules_report_new(b, at(100, 0, 0, 0), at(101, 0, 0, 0), 2, &r), 0);
	assert_int_equal(rules_report_json(r, &j), 0);
	assert_int_equal(count(json_object_get(j, "totals"), "clips"), 0);
	json_decref(j);
	rules_report_free(r);
	rules_book_free(b);
}

static const json_t *clip_row(const json_t *review, int64_t index)
{
	const json_t *dev, *c;
	size_t i, k;

	json_array_foreach(json_object_get(review, "devices"), i, dev)
		json_array_foreach(json_object_get(dev, "clips"), k, c)
			if (json_integer_value(json_object_get(c, "index")) == index)
				return c;
	fail_msg("no clip %" PRId64 " in the review", index);
	return NULL;
}

static const json_t *reservation(const json_t *review, const char *kind, int64_t entry)
{
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(review, "reservations"), i, item)
		if (!strcmp(json_string_value(json_object_get(item, "kind")), kind) &&
		    json_integer_value(json_object_get(item, "entry")) == entry)
			return item;
	return NULL;
}

/* A complete case with every kind of reservation: the verdict names each (the damaged file
 * first, and "every original intact" is not said while one is in the case), `reservations`
 * lists them, and each clip's row carries the text of what explains it. */
static void test_review_reservations(void **state)
{
	struct rules_clip clips[6] = {
		clip(8, "CAM1", at(0, 9, 0, 0), 60, at(0, 10, 0, 0)),	/* damaged, reported */
		clip(12, "CAM1", at(0, 9, 1, 0), 60, at(3, 10, 0, 0)),	/* late, explained */
		clip(13, "CAM2", at(0, 9, 0, 0), 60, at(3, 10, 0, 0)),	/* late, remote duty */
		untimed(14, "CAM3", at(0, 10, 0, 0)),			/* no time, explained */
		clip(15, "CAM3", at(40, 9, 0, 0), 60, at(0, 10, 0, 0)), /* future, explained */
		clip(16, "CAM1", at(0, 12, 0, 0), 60, at(0, 13, 0, 0)), /* after a gap, explained */
	};
	uint64_t e8 = 8, e12 = 12, e14 = 14, e15 = 15, all[6] = { 8, 12, 13, 14, 15, 16 };
	struct rules_note notes[7] = {
		note(20, RULES_CASE, all, 6),
		note(21, RULES_DAMAGE_REPORT, &e8, 1),
		note(19, RULES_LATE_STORAGE, &e12, 1),
		remote(22, "CAM2", NULL, at(0, 8, 0, 0), at(0, 11, 0, 0), at(2, 12, 0, 0),
		       at(4, 0, 0, 0)),
		note(23, RULES_LATE_STORAGE, &e14, 1),
		note(24, RULES_LATE_STORAGE, &e15, 1),
		interruption(25, "CAM1", at(0, 9, 2, 0), at(0, 12, 0, 0)),
	};
	struct rules_book *b;
	const json_t *c, *x, *item;
	json_t *r = NULL;

	(void)state;
	notes[0].case_id = "C-R";
	notes[1].reason = "the battery failed while writing";
	notes[1].by = "bob(uid 1002)";
	notes[1].at_us = at(1, 8, 0, 0);
	notes[2].reason = "stored from the field after a 3-day operation";
	notes[3].reason = NULL; /* a declaration has no text of its own */
	clips[0].damaged = true;
	clips[0].error = "moov atom not found";
	clips[4].storage = RULES_UNKNOWN_TIME;
	clips[4].future = true;
	clips[4].deadline_us = RULES_NOTIME;
	b = book(notes, 7);
	assert_int_equal(rules_review(b, "C-R", clips, 6, &r), 0);
	assert_true(json_is_true(json_object_get(r, "complete")));
	assert_string_equal(
	    json_string_value(json_object_get(r, "verdict")),
	    "complete with reservations: 6 clips from 3 devices, every gap explained, every "
	    "original unchanged since it was stored; entry 8 damaged (reported, #21); entry 12 "
	    "stored late (explained, #19); entry 14 without a trustworthy time (explained, #23); "
	    "entry 15 with a recording time in the future (explained, #24); entry 13 on time "
	    "after remote duty (#22); CAM1 recorded nothing for 2 h 58 min from "
	    "2026-11-20T09:02:00Z to 2026-11-20T12:00:00Z (interruption, #25)");
	assert_int_equal(json_array_size(json_object_get(r, "reservations")), 6);
	item = reservation(r, "damaged", 8);
	assert_non_null(item);
	assert_int_equal(json_integer_value(json_object_get(item, "explained_by")), 21);
	assert_non_null(reservation(r, "late", 12));
	assert_non_null(reservation(r, "remote_duty", 13));
	assert_non_null(reservation(r, "unknown_time", 14));
	assert_non_null(reservation(r, "future_time", 15));
	item = reservation(r, "gap", 16);
	assert_non_null(item);
	assert_string_equal(json_string_value(json_object_get(item, "from")),
			    "2026-11-20T09:02:00Z");

	/* The damage report's own text on the clip's row; the raw error stays in "error". */
	c = clip_row(r, 8);
	assert_string_equal(json_string_value(json_object_get(c, "error")), "moov atom not found");
	assert_int_equal(json_array_size(json_object_get(c, "explanations")), 1);
	x = json_array_get(json_object_get(c, "explanations"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "damage_report");
	assert_string_equal(json_string_value(json_object_get(x, "text")),
			    "the battery failed while writing");
	assert_string_equal(json_string_value(json_object_get(x, "by")), "bob(uid 1002)");
	assert_string_equal(json_string_value(json_object_get(x, "at")), "2026-11-21T08:00:00Z");
	assert_string_equal(json_string_value(json_object_get(c, "device_from")), "name");
	assert_int_equal(json_array_size(json_object_get(c, "other_cases")), 0);
	/* The late_storage reason. */
	x = json_array_get(json_object_get(clip_row(r, 12), "explanations"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "late_storage");
	assert_string_equal(json_string_value(json_object_get(x, "text")),
			    "stored from the field after a 3-day operation");
	/* The remote-duty declaration, with what it covers. */
	x = json_array_get(json_object_get(clip_row(r, 13), "explanations"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "remote_duty");
	assert_true(json_is_null(json_object_get(x, "text")));
	assert_string_equal(json_string_value(json_object_get(x, "device")), "CAM2");
	assert_string_equal(json_string_value(json_object_get(x, "from")), "2026-11-20T08:00:00Z");
	assert_string_equal(json_string_value(json_object_get(x, "to")), "2026-11-20T11:00:00Z");
	assert_string_equal(json_string_value(json_object_get(x, "returned_at")),
			    "2026-11-22T12:00:00Z");
	json_decref(r);

	/* The same case with the damage report missing: incomplete, and the explained ones
	 * are still named, after the open items. */
	rules_book_free(b);
	b = book(notes + 2, 5); /* no case, no damage report */
	assert_int_equal(rules_review(b, "C-R", clips, 6, &r), 0);
	assert_false(json_is_true(json_object_get(r, "complete")));
	assert_string_equal(
	    json_string_value(json_object_get(r, "verdict")),
	    "INCOMPLETE: 1 damaged file without a report (entry 8); reservations: entry 12 stored "
	    "late (explained, #19); entry 14 without a trustworthy time (explained, #23); entry 15 "
	    "with a recording time in the future (explained, #24); entry 13 on time after remote "
	    "duty (#22); CAM1 recorded nothing for 2 h 58 min from 2026-11-20T09:02:00Z to "
	    "2026-11-20T12:00:00Z (interruption, #25)");
	item = reservation(r, "damaged", 8);
	assert_non_null(item);
	assert_true(json_is_null(json_object_get(item, "explained_by")));
	json_decref(r);
	rules_book_free(b);
}

/* Reservations of one kind are named up to RULES_VERDICT_LIST, then counted. */
static void test_review_reservation_cap(void **state)
{
	struct rules_clip clips[7];
	uint64_t e[7];
	struct rules_note notes[7];
	struct rules_book *b;
	json_t *r = NULL;
	const char *v;

	(void)state;
	for (int i = 0; i < 7; i++) {
		clips[i] = clip(100 + (uint64_t)i, "CAM1", at(0, 8, 0, 2 * i), 2, at(0, 9, 0, 0));
		clips[i].damaged = true;
		e[i] = 100 + (uint64_t)i;
		notes[i] = note(200 + (uint64_t)i, RULES_DAMAGE_REPORT, &e[i], 1);
	}
	b = book(notes, 7);
	assert_int_equal(rules_review(b, "C-7", clips, 7, &r), 0);
	v = json_string_value(json_object_get(r, "verdict"));
	assert_non_null(strstr(v, "; entry 104 damaged (reported, #204); and 2 more damaged files "
				  "(reported)"));
	assert_null(strstr(v, "entry 105"));
	assert_null(strstr(v, "intact"));
	json_decref(r);
	rules_book_free(b);
}

/* A clip shared with another case: the other case is a cross-reference on the clip's row,
 * in both reviews. */
static void test_review_other_cases(void **state)
{
	struct rules_clip clips[2] = {
		clip(2, "CAM1", at(0, 9, 0, 0), 60, at(0, 10, 0, 0)),
		clip(3, "CAM1", at(0, 9, 1, 0), 60, at(0, 10, 0, 0)),
	};
	uint64_t a[2] = { 2, 3 }, x[1] = { 3 };
	struct rules_note notes[3] = { note(10, RULES_CASE, a, 2), note(11, RULES_CASE, x, 1),
				       note(12, RULES_CASE, x, 1) };
	struct rules_book *b;
	const json_t *others;
	json_t *r = NULL;

	(void)state;
	notes[0].case_id = "2026-XZ-0042";
	notes[1].case_id = "沪公(2026)行罚字第0042号";
	notes[2].case_id = "2026-XZ-0042"; /* bound twice: once in the list */
	b = book(notes, 3);
	assert_int_equal(rules_review(b, "2026-XZ-0042", clips, 2, &r), 0);
	assert_int_equal(json_array_size(json_object_get(clip_row(r, 2), "other_cases")), 0);
	others = json_object_get(clip_row(r, 3), "other_cases");
	assert_int_equal(json_array_size(others), 1);
	assert_string_equal(json_string_value(json_array_get(others, 0)),
			    "沪公(2026)行罚字第0042号");
	json_decref(r);
	assert_int_equal(rules_review(b, "沪公(2026)行罚字第0042号", clips + 1, 1, &r), 0);
	others = json_object_get(clip_row(r, 3), "other_cases");
	assert_int_equal(json_array_size(others), 1);
	assert_string_equal(json_string_value(json_array_get(others, 0)), "2026-XZ-0042");
	json_decref(r);
	rules_book_free(b);
}

/* A clip whose name matched no pattern has no device: open (no_device) until a device
 * annotation attributes it; then it is on that device's timeline (a gap beside it is found),
 * its row says so, and it is a reservation.  A report counts it on that device too. */
static void test_device_attribution(void **state)
{
	struct rules_clip clips[3] = {
		clip(2, "CAM9", at(0, 9, 0, 0), 60, at(0, 10, 0, 0)),
		clip(3, NULL, at(0, 9, 1, 0), 60, at(0, 10, 0, 0)),
		clip(4, "CAM9", at(0, 9, 30, 0), 60, at(0, 10, 0, 0)),
	};
	uint64_t all[3] = { 2, 3, 4 }, e3 = 3;
	struct rules_note notes[4] = {
		note(10, RULES_CASE, all, 3),
		interruption(11, "CAM9", at(0, 9, 2, 0), at(0, 9, 30, 0)),
		note(12, RULES_DEVICE, &e3, 1),
		note(13, RULES_DEVICE, &e3, 1),
	};
	struct rules_book *b;
	struct rules_report *rep = NULL;
	const json_t *item, *c, *x, *dev;
	json_t *r = NULL;

	(void)state;
	notes[0].case_id = "C-D";
	notes[2].device = "CAM8"; /* corrected by the newer one */
	notes[3].device = "CAM9";
	notes[3].officer = "OFF9";
	notes[3].reason = "the officer's own camera, file renamed by the dock";
	clips[1].zone = "dock";
	clips[1].officer = NULL;

	/* Without the attribution: open, and CAM9's timeline has a gap 09:01 to 09:30 that
	 * the interruption (from 09:02) does not cover. */
	b = book(notes, 2);
	assert_int_equal(rules_review(b, "C-D", clips, 3, &r), 0);
	item = open_item(r, "no_device", 3);
	assert_non_null(item);
	assert_string_equal(json_string_value(json_object_get(item, "message")),
			    "its name matched no pattern of zone 'dock', so it has no device and "
			    "its continuity cannot be checked");
	assert_true(json_is_null(json_object_get(clip_row(r, 3), "device_from")));
	assert_int_equal(rules_open_count(b, clips, 3),
			 (long)json_array_size(json_object_get(r, "open")));
	json_decref(r);
	rules_book_free(b);

	b = book(notes, 4);
	assert_int_equal(rules_review(b, "C-D", clips, 3, &r), 0);
	assert_true(json_is_true(json_object_get(r, "complete")));
	assert_int_equal(json_array_size(json_object_get(r, "devices")), 1);
	dev = json_array_get(json_object_get(r, "devices"), 0);
	assert_string_equal(json_string_value(json_object_get(dev, "device")), "CAM9");
	assert_int_equal(json_array_size(json_object_get(dev, "clips")), 3);
	/* Clip 3 ends 09:02: the gap to 09:30 is now the interruption's. */
	assert_int_equal(json_array_size(json_object_get(dev, "gaps")), 1);
	c = clip_row(r, 3);
	assert_string_equal(json_string_value(json_object_get(c, "device_from")), "annotation");
	assert_string_equal(json_string_value(json_object_get(c, "officer")), "OFF9");
	x = json_array_get(json_object_get(c, "explanations"), 0);
	assert_string_equal(json_string_value(json_object_get(x, "kind")), "device");
	assert_int_equal(json_integer_value(json_object_get(x, "index")), 13);
	assert_string_equal(json_string_value(json_object_get(x, "device")), "CAM9");
	assert_string_equal(json_string_value(json_object_get(x, "text")),
			    "the officer's own camera, file renamed by the dock");
	assert_non_null(reservation(r, "no_device", 3));
	assert_non_null(strstr(json_string_value(json_object_get(r, "verdict")),
			       "complete with reservations: 3 clips from 1 device, every gap "
			       "explained, every original intact; CAM9 recorded nothing"));
	assert_non_null(strstr(json_string_value(json_object_get(r, "verdict")),
			       "; entry 3 attributed to CAM9 (#13)"));
	assert_int_equal(rules_open_count(b, clips, 3), 0);
	json_decref(r);

	/* The report puts it in CAM9's and OFF9's rows. */
	assert_int_equal(rules_report_new(b, RULES_NOTIME, RULES_NOTIME, 10, &rep), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(rules_report_clip(rep, &clips[i]), 0);
	assert_int_equal(rules_report_json(rep, &r), 0);
	assert_int_equal(count(row(r, "devices", "device", "CAM9"), "clips"), 3);
	assert_int_equal(count(row(r, "officers", "officer", "OFF9"), "clips"), 1);
	assert_int_equal(json_array_size(json_object_get(r, "devices")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "open_total")), 0);
	json_decref(r);
	rules_report_free(rep);
	rules_book_free(b);

	/* Unattributed: open in a report only when a case binds it, like a gap. */
	b = book(notes, 1);
	assert_int_equal(rules_report_new(b, RULES_NOTIME, RULES_NOTIME, 10, &rep), 0);
	assert_int_equal(rules_report_clip(rep, &clips[1]), 0);
	assert_int_equal(rules_report_json(rep, &r), 0);
	assert_non_null(open_item(r, "no_device", 3));
	json_decref(r);
	rules_report_free(rep);
	rules_book_free(b);
	b = book(NULL, 0);
	assert_int_equal(rules_report_new(b, RULES_NOTIME, RULES_NOTIME, 10, &rep), 0);
	assert_int_equal(rules_report_clip(rep, &clips[1]), 0);
	assert_int_equal(rules_report_json(rep, &r), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "open_total")), 0);
	json_decref(r);
	rules_report_free(rep);
	rules_book_free(b);
}

static void test_naming_and_cases(void **state)
{
	uint64_t a[3] = { 1, 2, 3 }, b2[2] = { 3, 4 };
	struct rules_note notes[3] = { note(10, RULES_CASE, a, 3), note(11, RULES_CASE, b2, 2),
				       note(12, RULES_HOLD, b2, 2) };
	const struct rules_note *found[4];
	const char *cases[4];
	struct rules_book *b;

	(void)state;
	notes[0].case_id = "A";
	notes[1].case_id = "B";
	b = book(notes, 3);
	assert_int_equal(rules_notes_naming(b, 3, found, 4), 3);
	assert_int_equal(found[0]->index, 10);
	assert_int_equal(found[2]->index, 12);
	assert_int_equal(rules_notes_naming(b, 3, found, 1), 3); /* the count, beyond max */
	assert_int_equal(rules_notes_naming(b, 9, found, 4), 0);
	assert_int_equal(rules_cases_of(b, 3, cases, 4), 2);
	assert_int_equal(rules_cases_of(b, 1, cases, 4), 1);
	assert_string_equal(cases[0], "A");
	rules_book_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_on_time_and_late),
		cmocka_unit_test(test_remote_duty),
		cmocka_unit_test(test_unknown_and_future),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_continuity),
		cmocka_unit_test(test_review_complete),
		cmocka_unit_test(test_review_incomplete),
		cmocka_unit_test(test_review_verdict_list),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_naming_and_cases),
		cmocka_unit_test(test_review_reservations),
		cmocka_unit_test(test_review_reservation_cap),
		cmocka_unit_test(test_review_other_cases),
		cmocka_unit_test(test_device_attribution),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

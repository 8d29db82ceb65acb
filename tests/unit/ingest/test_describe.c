/* test_describe.c: ingest/describe.c, the describer: a fingerprint (and the recording time
 * chosen for it) as the fields of its log entry, and the UTF-8 cleaning that fingerprint.c
 * applies to what a file says about itself.  Fingerprints are built by hand here, so that
 * every field can be absent, odd or hostile without a media file: the entry is compared whole
 * (sorted keys), and every entry is checked to hold only what a canonical entry may (no
 * floats, valid UTF-8).  The media path to these functions is tests/unit/ingest/
 * test_fingerprint.c's. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "ingest/fingerprint.h"
#include "ingest/ingest-internal.h"
#include "ingest/rectime.h"
#include "verify/entry.h"

#define US 1000000LL
#define T_2024_05_01 1714521600LL /* 2024-05-01T00:00:00Z */

/* ---- helpers ----------------------------------------------------------------------------- */

/* What vfy_entry_dump() accepts: objects, arrays, strings, integers, true, false, null. */
static void assert_canonical_types(const json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, m)
			assert_canonical_types(m);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, m)
			assert_canonical_types(m);
		break;
	case JSON_REAL:
		fail_msg("a float in an entry");
		break;
	default:
		break;
	}
}

/* The entry for @fp and @rec, as compact JSON with sorted keys (the caller frees it). */
static char *describe(const struct ing_fingerprint *fp, const struct ing_recording *rec)
{
	struct err_detail e = { 0 };
	json_t *o = NULL;
	char *text;

	assert_int_equal(ing_entry_json(fp, rec, &o, &e), 0);
	assert_non_null(o);
	assert_canonical_types(o);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(text);
	json_decref(o);
	return text;
}

static void assert_describes(const struct ing_fingerprint *fp, const struct ing_recording *rec,
			     const char *want)
{
	char *text = describe(fp, rec);

	assert_string_equal(text, want);
	free(text);
}

static void fill(uint8_t hash[ING_HASH_LEN], uint8_t byte)
{
	memset(hash, byte, ING_HASH_LEN);
}

#define HEX_01 "0101010101010101010101010101010101010101010101010101010101010101"
#define HEX_AB "abababababababababababababababababababababababababababababababab"
#define HEX_CD "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
#define HEX_EF "efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef"

/* An empty fingerprint: what a file nothing could read leaves (sha256 and size aside). */
static struct ing_fingerprint bare(void)
{
	struct ing_fingerprint fp = { .size = 7, .start_us = ING_NOTS, .duration_us = ING_NOTS };

	fill(fp.sha256, 0x01);
	return fp;
}

/* ---- complete fingerprints -------------------------------------------------------------- */

/* A camera's clip: video with profile, audio, a timecode track with no codec of libav's, all
 * five tags, and a recording time from the tag.  Width/height only for video, sample rate and
 * channels only for audio; the data stream has neither. */
static void test_ingest_entry(void **state)
{
	struct ing_stream st[3] = {
		{ .index = 0,
		  .type = "video",
		  .codec = "h264",
		  .profile = "High",
		  .width = 1920,
		  .height = 1080,
		  .packets = 900,
		  .keyframes = 30 },
		{ .index = 1,
		  .type = "audio",
		  .codec = "aac",
		  .profile = "LC",
		  .sample_rate = 48000,
		  .channels = 2,
		  .packets = 1407,
		  .keyframes = 1407 },
		{ .index = 2, .type = "data", .codec = "tmcd", .packets = 1, .keyframes = 1 },
	};
	struct ing_fingerprint fp = bare();
	struct ing_recording rec = { .source = ING_TIME_TAG,
				     .start_us = T_2024_05_01 * US + 8 * 3600 * US,
				     .end_us = T_2024_05_01 * US + 8 * 3600 * US + 30500000,
				     .device = "CAM01",
				     .officer = "O1234" };
	char container[] = "mov,mp4,m4a,3gp,3g2,mj2", ct[] = "2024-05-01T08:00:00.000000Z",
	     make[] = "执法记录仪", model[] = "DSJ-X1", serial[] = "SN 0042",
	     location[] = "+31.2304+121.4737/";

	(void)state;
	fill(st[0].digest, 0xab);
	fill(st[1].digest, 0xcd);
	fill(st[2].digest, 0xef);
	fp.size = 123456789;
	fp.container = container;
	fp.start_us = 0;
	fp.duration_us = 30500000;
	fp.n_streams = 3;
	fp.streams = st;
	fp.creation_time = ct;
	fp.make = make;
	fp.model = model;
	fp.serial = serial;
	fp.location = location;
	assert_describes(
	    &fp, &rec,
	    "{\"container\":\"mov,mp4,m4a,3gp,3g2,mj2\",\"device\":\"CAM01\","
	    "\"duration_us\":30500000,\"officer\":\"O1234\","
	    "\"recorded_end\":\"2024-05-01T08:00:30.5Z\","
	    "\"recorded_start\":\"2024-05-01T08:00:00Z\",\"sha256\":\"" HEX_01 "\","
	    "\"size\":123456789,\"start_us\":0,\"streams\":["
	    "{\"codec\":\"h264\",\"digest\":\"" HEX_AB "\",\"height\":1080,\"index\":0,"
	    "\"keyframes\":30,\"packets\":900,\"profile\":\"High\",\"type\":\"video\","
	    "\"width\":1920},"
	    "{\"channels\":2,\"codec\":\"aac\",\"digest\":\"" HEX_CD "\",\"index\":1,"
	    "\"keyframes\":1407,\"packets\":1407,\"profile\":\"LC\",\"sample_rate\":48000,"
	    "\"type\":\"audio\"},"
	    "{\"codec\":\"tmcd\",\"digest\":\"" HEX_EF "\",\"index\":2,\"keyframes\":1,"
	    "\"packets\":1,\"type\":\"data\"}],"
	    "\"tags\":{\"creation_time\":\"2024-05-01T08:00:00.000000Z\","
	    "\"location\":\"+31.2304+121.4737/\",\"make\":\"执法记录仪\","
	    "\"model\":\"DSJ-X1\",\"serial\":\"SN 0042\"},"
	    "\"time_source\":\"tag\",\"type\":\"ingest\",\"v\":1}");
}

/* Nothing known: null for each unknown value, empty streams and tags, no optional field. */
static void test_absent_fields(void **state)
{
	struct ing_fingerprint fp = bare();
	char empty[] = "";

	(void)state;
	assert_describes(
	    &fp, NULL,
	    "{\"container\":null,\"device\":null,\"duration_us\":null,\"officer\":null,"
	    "\"recorded_end\":null,\"recorded_start\":null,\"sha256\":\"" HEX_01 "\","
	    "\"size\":7,\"start_us\":null,\"streams\":[],\"tags\":{},\"time_source\":null,"
	    "\"type\":\"ingest\",\"v\":1}");
	/* An empty container name is none; a recording without a time says nothing of one, but
	 * its device and officer still count. */
	fp.container = empty;
	{
		struct ing_recording rec = { .source = ING_TIME_NONE,
					     .start_us = 5,
					     .end_us = 6,
					     .future = true,
					     .device = "CAM7" };

		assert_describes(&fp, &rec,
				 "{\"container\":null,\"device\":\"CAM7\",\"duration_us\":null,"
				 "\"officer\":null,\"recorded_end\":null,\"recorded_start\":null,"
				 "\"sha256\":\"" HEX_01
				 "\",\"size\":7,\"start_us\":null,\"streams\":[],"
				 "\"tags\":{},\"time_source\":null,\"type\":\"ingest\",\"v\":1}");
	}
}

/* Streams of odd kinds: "unknown" and "subtitle" get neither picture nor sound fields; a video
 * stream libav could not size says 0 rather than leaving the field out; an empty profile is
 * left out; a codec name that fills its array is kept whole. */
static void test_odd_streams(void **state)
{
	struct ing_stream st[3] = {
		{ .index = 0,
		  .type = "unknown",
		  .codec = "none",
		  .width = 640,
		  .sample_rate = 8000 },
		{ .index = 7, .type = "video", .codec = "0123456789012345678901234567890" },
		{ .index = 9, .type = "subtitle", .codec = "mov_text", .profile = "" },
	};
	struct ing_fingerprint fp = bare();
	char *text;

	(void)state;
	fp.n_streams = 3;
	fp.streams = st;
	text = describe(&fp, NULL);
	assert_non_null(strstr(text, "{\"codec\":\"none\",\"digest\":\""));
	assert_non_null(strstr(text, "\"index\":0,\"keyframes\":0,\"packets\":0,"
				     "\"type\":\"unknown\"}"));
	assert_non_null(strstr(text, "{\"codec\":\"0123456789012345678901234567890\","));
	assert_non_null(strstr(text, "\"height\":0,\"index\":7,\"keyframes\":0,\"packets\":0,"
				     "\"type\":\"video\",\"width\":0}"));
	assert_non_null(strstr(text, "\"index\":9,\"keyframes\":0,\"packets\":0,"
				     "\"type\":\"subtitle\"}"));
	assert_null(strstr(text, "profile"));
	assert_null(strstr(text, "sample_rate"));
	free(text);
}

/* ---- the entry limit --------------------------------------------------------------------- */

/* The largest `ingest` or `damaged` entry custodyd can write, every field at its bound and
 * escaped as much as it can be (docs/log.md adds them up): the fingerprint's fields through
 * ing_entry_json() (the most streams the configuration allows, codec and profile of control
 * characters, the longest tags and error, device and officer of quotes), and the fields the
 * pipeline adds (the longest zone; a relative path of PATH_MAX - 1 control characters and one
 * invalid byte, so that name_hex is there too; the largest integers).  It is within
 * VFY_ENTRY_MAX: an entry the daemon builds can never be refused for its size. */
static void test_largest_entry_fits(void **state)
{
	enum { STREAMS = 1024 /* [ingest] max_streams at its most: docs/config.md */ };
	struct ing_stream *st = calloc(STREAMS, sizeof(*st));
	struct ing_fingerprint fp = bare();
	struct ing_recording rec = { .source = ING_TIME_TAG,
				     .start_us = T_2024_05_01 * US,
				     .end_us = T_2024_05_01 * US,
				     .future = true };
	char tag[ING_TAG_MAX + 1], zone[65], *name = malloc(4096), *hex = malloc(2 * 4095 + 1);
	struct err_detail e = { 0 };
	json_t *o = NULL;
	char *text;
	size_t len;

	(void)state;
	assert_non_null(st);
	for (unsigned i = 0; i < STREAMS; i++) {
		st[i] = (struct ing_stream){ .index = UINT_MAX,
					     .type = i % 2 ? "attachment" : "video",
					     .width = INT_MIN,
					     .height = INT_MIN,
					     .packets = INT64_MAX,
					     .keyframes = INT64_MAX };
		memset(st[i].codec, 0x01, sizeof(st[i].codec) - 1);
		memset(st[i].profile, 0x01, sizeof(st[i].profile) - 1);
	}
	fp.n_streams = STREAMS;
	fp.streams = st;
	fp.size = INT64_MAX;
	fp.start_us = fp.duration_us = INT64_MIN + 1;
	fp.container = "mov,mp4,m4a,3gp,3g2,mj2";
	memset(tag, 0x01, ING_TAG_MAX);
	tag[ING_TAG_MAX] = '\0';
	fp.creation_time = fp.make = fp.model = fp.serial = fp.location = tag;
	fp.tags_cut = true;
	fp.damaged = true;
	memset(fp.error, 0x01, sizeof(fp.error) - 1);
	fp.error[sizeof(fp.error) - 1] = '\0';
	fp.trailing_bytes = INT64_MAX;
	memset(rec.device, '"', sizeof(rec.device) - 1);
	memset(rec.officer, '\\', sizeof(rec.officer) - 1);
	assert_int_equal(ing_entry_json(&fp, &rec, &o, &e), 0);
	assert_int_equal(json_array_size(json_object_get(o, "streams")), ING_ENTRY_STREAMS_MAX);
	assert_int_equal(json_integer_value(json_object_get(o, "streams_unlisted")),
			 STREAMS - ING_ENTRY_STREAMS_MAX);

	/* What daemon/pipeline.c finish_entry() and entryname_put() add. */
	memset(zone, 'z', 64);
	zone[64] = '\0';
	memset(name, 0x01, 4094);
	name[4094] = '\0';
	memset(hex, 'f', 2 * 4095);
	hex[2 * 4095] = '\0';
	json_object_set_new(o, "zone", json_string(zone));
	json_object_set_new(o, "name", json_pack("s+", name, "\xef\xbf\xbd"));
	json_object_set_new(o, "name_hex", json_string(hex));
	json_object_set_new(o, "ingested_at", json_string("2024-05-01T00:00:00.000000Z"));
	json_object_set_new(o, "deadline", json_string("2024-05-01T00:00:00.000000Z"));
	json_object_set_new(o, "storage", json_string("on_time_remote"));
	json_object_set_new(o, "remote_duty", json_integer(INT64_MAX));
	json_object_set_new(o, "stored", json_pack("s+", "objects/ff/", hex + 8190 - 64));
	assert_int_equal(vfy_entry_dump(o, &text, &len, &e), 0);
	assert_true(len <= VFY_ENTRY_MAX);
	print_message("the largest ingest entry: %zu bytes of %d\n", len, VFY_ENTRY_MAX);
	free(text);
	json_decref(o);
	free(st);
	free(name);
	free(hex);
}

/* ---- damage ------------------------------------------------------------------------------ */

/* A damaged file: "type":"damaged", libav's words in "error" (cleaned to UTF-8: they quote
 * bytes of the file), the trailing bytes as a number. */
static void test_damaged(void **state)
{
	struct ing_fingerprint fp = bare();
	struct err_detail e;
	json_t *o = NULL;

	(void)state;
	fp.damaged = true;
	fp.damage_code = -EBADMSG;
	fp.trailing_bytes = 4096;
	snprintf(fp.error, sizeof(fp.error),
		 "invalid box 'm\xf0\x9f\x92\xa9\xff\xfe' at 40\x1b[2J");
	assert_int_equal(ing_entry_json(&fp, NULL, &o, &e), 0);
	assert_string_equal(json_string_value(json_object_get(o, "type")), "damaged");
	/* The emoji is valid and stays; 0xff and 0xfe become U+FFFD; the escape is a character
	 * like any other here (JSON escapes it; printing it is a reader's business). */
	assert_string_equal(json_string_value(json_object_get(o, "error")),
			    "invalid box 'm\xf0\x9f\x92\xa9\xef\xbf\xbd\xef\xbf\xbd' at 40\x1b[2J");
	assert_int_equal(json_integer_value(json_object_get(o, "trailing_bytes")), 4096);
	assert_canonical_types(o);
	json_decref(o);
}

/* The longest error, every byte invalid: three bytes out for each byte in, none lost. */
static void test_damaged_longest_error(void **state)
{
	struct ing_fingerprint fp = bare();
	struct err_detail e;
	json_t *o = NULL;
	const char *msg;

	(void)state;
	fp.damaged = true;
	memset(fp.error, 0xff, sizeof(fp.error) - 1);
	fp.error[sizeof(fp.error) - 1] = '\0';
	assert_int_equal(ing_entry_json(&fp, NULL, &o, &e), 0);
	msg = json_string_value(json_object_get(o, "error"));
	assert_non_null(msg);
	assert_int_equal(strlen(msg), 3 * (sizeof(fp.error) - 1));
	for (size_t i = 0; i < sizeof(fp.error) - 1; i++)
		assert_memory_equal(msg + 3 * i, "\xef\xbf\xbd", 3);
	json_decref(o);
}

/* An undamaged file has no "error" even when the buffer holds text, and no trailing_bytes
 * when there are none. */
static void test_not_damaged_no_error(void **state)
{
	struct ing_fingerprint fp = bare();
	char *text;

	(void)state;
	snprintf(fp.error, sizeof(fp.error), "left over");
	text = describe(&fp, NULL);
	assert_null(strstr(text, "\"error\""));
	assert_null(strstr(text, "trailing_bytes"));
	free(text);
}

/* ---- recording times --------------------------------------------------------------------- */

/* A time in the future is flagged; times no RFC 3339 year can hold are null, not garbage. */
static void test_recording_times(void **state)
{
	struct ing_fingerprint fp = bare();
	struct ing_recording rec = { .source = ING_TIME_FILENAME,
				     .start_us = INT64_MIN,
				     .end_us = INT64_MAX,
				     .future = true,
				     .officer = "警号 001234" };
	json_t *o = NULL;
	struct err_detail e;

	(void)state;
	assert_int_equal(ing_entry_json(&fp, &rec, &o, &e), 0);
	assert_true(json_is_null(json_object_get(o, "recorded_start")));
	assert_true(json_is_null(json_object_get(o, "recorded_end")));
	assert_string_equal(json_string_value(json_object_get(o, "time_source")), "filename");
	assert_true(json_is_true(json_object_get(o, "time_in_future")));
	assert_string_equal(json_string_value(json_object_get(o, "officer")), "警号 001234");
	json_decref(o);

	rec = (struct ing_recording){ .source = ING_TIME_MTIME, .start_us = -1, .end_us = 0 };
	assert_int_equal(ing_entry_json(&fp, &rec, &o, &e), 0);
	assert_string_equal(json_string_value(json_object_get(o, "recorded_start")),
			    "1969-12-31T23:59:59.999999Z");
	assert_string_equal(json_string_value(json_object_get(o, "recorded_end")),
			    "1970-01-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o, "time_source")), "mtime");
	assert_null(json_object_get(o, "time_in_future"));
	json_decref(o);
}

/* ---- what the describer is not given ------------------------------------------------------
 * Tags and stream fields reach ing_entry_json() cleaned (fingerprint.c runs them through
 * ing__utf8_sanitize()).  Given text that is not UTF-8 anyway, or a time source it does not
 * know, it must fail cleanly: an error, nothing returned, nothing leaked. */
static void test_unclean_input_fails(void **state)
{
	struct ing_fingerprint fp = bare();
	struct ing_stream st = { .type = "video", .codec = "h26\xff" };
	struct ing_recording rec = { .source = (enum ing_time_source)99, .start_us = 0 };
	char bad_make[] = "Hik\xc0\xafvision";
	json_t *o = (json_t *)&fp; /* must stay as it is */
	struct err_detail e = { 0 };

	(void)state;
	fp.make = bad_make;
	assert_true(ing_entry_json(&fp, NULL, &o, &e) < 0);
	assert_ptr_equal(o, (json_t *)&fp);
	fp.make = NULL;
	fp.n_streams = 1;
	fp.streams = &st;
	assert_true(ing_entry_json(&fp, NULL, &o, &e) < 0);
	assert_ptr_equal(o, (json_t *)&fp);
	fp.n_streams = 0;
	assert_true(ing_entry_json(&fp, &rec, &o, &e) < 0);
	assert_ptr_equal(o, (json_t *)&fp);
}

/* ---- key packets ------------------------------------------------------------------------- */

static void test_key_packets(void **state)
{
	struct ing_key_packet k[2] = {
		{ .pts_us = 0, .dts_us = -33366, .ordinal = 0 },
		{ .pts_us = ING_NOTS, .dts_us = ING_NOTS, .ordinal = UINT32_MAX + 5ULL },
	};
	struct ing_stream st = { .type = "video", .keys = k, .n_keys = 2 };
	json_t *a = NULL;
	char *text;

	(void)state;
	fill(k[0].hash, 0xab);
	fill(k[1].hash, 0xcd);
	assert_int_equal(ing_key_packets_json(&st, &a), 0);
	text = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "[{\"dts_us\":-33366,\"hash\":\"" HEX_AB
				  "\",\"ordinal\":0,\"pts_us\":0},"
				  "{\"dts_us\":null,\"hash\":\"" HEX_CD "\",\"ordinal\":4294967300,"
				  "\"pts_us\":null}]");
	free(text);
	json_decref(a);
	st.n_keys = 0;
	assert_int_equal(ing_key_packets_json(&st, &a), 0);
	assert_int_equal(json_array_size(a), 0);
	json_decref(a);
}

/* ---- UTF-8 ------------------------------------------------------------------------------- */

/* ing__utf8_seq() at each boundary of RFC 3629's table. */
static void test_utf8_seq(void **state)
{
	static const struct {
		const char *bytes;
		size_t len, want;
	} cases[] = {
		{ "\x00", 1, 1 },
		{ "\x7f", 1, 1 },
		{ "\x80", 1, 0 },     /* a continuation byte alone */
		{ "\xc0\x80", 2, 0 }, /* overlong NUL */
		{ "\xc1\xbf", 2, 0 }, /* overlong U+007F */
		{ "\xc2\x80", 2, 2 },
		{ "\xdf\xbf", 2, 2 },
		{ "\xc2", 1, 0 },	  /* cut short */
		{ "\xc2\x41", 2, 0 },	  /* not a continuation */
		{ "\xe0\x9f\xbf", 3, 0 }, /* overlong U+07FF */
		{ "\xe0\xa0\x80", 3, 3 },
		{ "\xed\x9f\xbf", 3, 3 }, /* U+D7FF */
		{ "\xed\xa0\x80", 3, 0 }, /* U+D800, a surrogate */
		{ "\xed\xbf\xbf", 3, 0 }, /* U+DFFF */
		{ "\xee\x80\x80", 3, 3 },
		{ "\xef\xbf\xbf", 3, 3 },
		{ "\xe6\x89", 2, 0 },	      /* 执 cut short */
		{ "\xe6\x89\xa7", 3, 3 },     /* 执 */
		{ "\xf0\x8f\xbf\xbf", 4, 0 }, /* overlong U+FFFF */
		{ "\xf0\x90\x80\x80", 4, 4 },
		{ "\xf4\x8f\xbf\xbf", 4, 4 }, /* U+10FFFF */
		{ "\xf4\x90\x80\x80", 4, 0 }, /* U+110000 */
		{ "\xf5\x80\x80\x80", 4, 0 },
		{ "\xf8\x88\x80\x80", 4, 0 },
		{ "\xff", 1, 0 },
		{ "\xfe", 1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = ing__utf8_seq((const unsigned char *)cases[i].bytes, cases[i].len);

		if (n != cases[i].want)
			fail_msg("case %zu: %zu, want %zu", i, n, cases[i].want);
	}
}

/* ing__utf8_sanitize(): one U+FFFD per bad byte, valid sequences kept, a NUL ends the copy,
 * and a GBK-encoded name (what many cameras sold in China write) is not taken for UTF-8. */
static void test_utf8_sanitize(void **state)
{
	/* "执法" in GBK: D6 B4 happens to be valid UTF-8 (U+05B4), B7 A8 is not. */
	static const char gbk[] = "\xd6\xb4\xb7\xa8.mp4";
	char out[3 * 64 + 1];
	size_t n;

	(void)state;
	n = ing__utf8_sanitize(gbk, strlen(gbk), out);
	assert_string_equal(out, "\xd6\xb4\xef\xbf\xbd\xef\xbf\xbd.mp4");
	assert_int_equal(n, strlen(out));
	n = ing__utf8_sanitize("a\xed\xa0\x80z", 5, out);
	assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
	assert_int_equal(n, 11);
	n = ing__utf8_sanitize("ab\0cd", 5, out);
	assert_string_equal(out, "ab");
	assert_int_equal(n, 2);
	/* A sequence cut by @len is invalid even if the bytes after it would complete it. */
	n = ing__utf8_sanitize("x\xe6\x89\xa7", 3, out);
	assert_string_equal(out, "x\xef\xbf\xbd\xef\xbf\xbd");
	n = ing__utf8_sanitize("", 0, out);
	assert_string_equal(out, "");
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingest_entry),
		cmocka_unit_test(test_absent_fields),
		cmocka_unit_test(test_odd_streams),
		cmocka_unit_test(test_largest_entry_fits),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_damaged_longest_error),
		cmocka_unit_test(test_not_damaged_no_error),
		cmocka_unit_test(test_recording_times),
		cmocka_unit_test(test_unclean_input_fails),
		cmocka_unit_test(test_key_packets),
		cmocka_unit_test(test_utf8_seq),
		cmocka_unit_test(test_utf8_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_time.c: ingest/tz.c, namepattern.c and rectime.c: time zones against glibc (which reads the
 * same TZ database, and may be used here because the test is single-threaded), POSIX TZ footers on
 * their own, local-to-UTC at the clock changes, name patterns (parsing with each error, and
 * matching), date parsing and formatting, and the choice of the recording time (docs/time.md). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ingest/tz.h"
#include "ingest/namepattern.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "ingest/fingerprint.h"

#define US 1000000LL

static int64_t utc_us(int y, int mo, int d, int h, int mi, int s)
{
	return ing_civil_to_epoch(y, mo, d, h, mi, s) * US;
}

static void assert_utc(int64_t us, const char *want)
{
	char text[ING_RFC3339_MAX];

	assert_true(ing_format_utc(us, text) > 0);
	assert_string_equal(text, want);
}

/* glibc's offset for @zone (a name or a POSIX TZ string) at @t. */
static long glibc_offset(const char *zone, time_t t)
{
	struct tm tm;

	setenv("TZ", zone, 1);
	tzset();
	localtime_r(&t, &tm);
	return tm.tm_gmtoff;
}

static void compare_with_glibc(const struct ing_tz *tz, const char *zone)
{
	/* Every 7 days and 13 hours from 1950 to 2070: the table, and the footer after 2037. */
	for (int64_t t = -631152000; t < 3155760000; t += 7 * 86400 + 13 * 3600) {
		long want = glibc_offset(zone, (time_t)t);

		if (ing_tz_offset(tz, t) != want)
			fail_msg("%s at %lld: %d, glibc %ld", zone, (long long)t,
				 ing_tz_offset(tz, t), want);
	}
}

static void test_tz_database(void **state)
{
	static const char *const zones[] = {
		"Asia/Shanghai",     "Europe/Berlin",	 "America/New_York", "Australia/Sydney",
		"Asia/Kolkata",	     "America/St_Johns", "Pacific/Chatham",  "Europe/Dublin",
		"America/Sao_Paulo", "Asia/Tehran",	 "Europe/London",    "Pacific/Apia",
	};
	struct err_detail e;

	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		struct ing_tz *tz = NULL;

		assert_int_equal(ing_tz_load(zones[i], &tz, &e), 0);
		assert_string_equal(ing_tz_name(tz), zones[i]);
		compare_with_glibc(tz, zones[i]);
		ing_tz_free(tz);
	}
	unsetenv("TZ");
}

static void test_tz_utc_and_errors(void **state)
{
	struct ing_tz *tz = NULL;
	struct err_detail e;

	(void)state;
	assert_int_equal(ing_tz_load(NULL, &tz, &e), 0);
	assert_string_equal(ing_tz_name(tz), "UTC");
	assert_int_equal(ing_tz_offset(tz, 1700000000), 0);
	tz = ing_tz_free(tz);
	assert_null(tz);
	assert_int_equal(ing_tz_load("Etc/UTC", &tz, &e), 0);
	assert_int_equal(ing_tz_offset(tz, 0), 0);
	ing_tz_free(tz);
	assert_int_equal(ing_tz_offset(NULL, 1700000000), 0);

	assert_int_equal(ing_tz_load("../../etc/passwd", &tz, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a time zone name"));
	assert_int_equal(ing_tz_load("/etc/localtime", &tz, &e), -EINVAL);
	assert_int_equal(ing_tz_load("Asia/Shang hai", &tz, &e), -EINVAL);
	assert_int_equal(ing_tz_load("Mars/Olympus_Mons", &tz, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "Mars/Olympus_Mons"));
}

/* A TZif v2 file with no transitions, one type and the footer @rule. */
static void write_tzif(const char *path, int32_t utoff, const char *rule)
{
	uint8_t hdr[44] = { 'T', 'Z', 'i', 'f', '2' };
	uint8_t type[6] = { (uint8_t)(utoff >> 24),
			    (uint8_t)(utoff >> 16),
			    (uint8_t)(utoff >> 8),
			    (uint8_t)utoff,
			    0,
			    0 };
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	hdr[39] = 1; /* typecnt */
	hdr[43] = 4; /* charcnt */
	for (int v = 0; v < 2; v++) {
		assert_int_equal(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
		assert_int_equal(fwrite(type, 1, sizeof(type), f), sizeof(type));
		/* charcnt bytes of designations: one, "XXX", with its NUL. */
		assert_int_equal(fwrite("XXX", 1, 4, f), 4);
	}
	fprintf(f, "\n%s\n", rule);
	fclose(f);
}

static void test_tz_footer_rules(void **state)
{
	/* POSIX rules as the footer of a slim file has them: M, J and plain day forms, quoted
	 * names, fractional hours, a southern-hemisphere rule, negative and >24 h times. */
	static const struct {
		const char *rule;
		int32_t std;
	} rules[] = {
		{ "CET-1CEST,M3.5.0,M10.5.0/3", 3600 },
		{ "EST5EDT,M3.2.0,M11.1.0", -5 * 3600 },
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", 10 * 3600 },
		{ "<+0330>-3:30<+0430>,J79/24,J263/24", 12600 },
		{ "NZST-12NZDT-13,M9.5.0,M4.1.0/3", 12 * 3600 },
		{ "XST3XDT,59/-1,300/26", -3 * 3600 },
		{ "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", -3 * 3600 },
		{ "CST-8", 8 * 3600 },
	};
	char dir[] = "/tmp/custody-tz-XXXXXX", path[64];
	struct err_detail e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Test", dir);
	setenv("TZDIR", dir, 1);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct ing_tz *tz = NULL;

		write_tzif(path, rules[i].std, rules[i].rule);
		assert_int_equal(ing_tz_load("Test", &tz, &e), 0);
		for (int64_t t = 946684800; t < 2524608000; t += 86400 + 3607) {
			long want = glibc_offset(rules[i].rule, (time_t)t);

			if (ing_tz_offset(tz, t) != want)
				fail_msg("'%s' at %lld: %d, glibc %ld", rules[i].rule, (long long)t,
					 ing_tz_offset(tz, t), want);
		}
		ing_tz_free(tz);
	}
	/* Not TZif, and a footer that does not parse. */
	{
		struct ing_tz *tz = NULL;
		FILE *f = fopen(path, "w");

		fputs("not a zone\n", f);
		fclose(f);
		assert_int_equal(ing_tz_load("Test", &tz, &e), -EBADMSG);
		assert_non_null(strstr(e.msg, "not a valid TZif file"));
		write_tzif(path, 0, "C1");
		assert_int_equal(ing_tz_load("Test", &tz, &e), -EBADMSG);
	}
	unlink(path);
	rmdir(dir);
	unsetenv("TZDIR");
	unsetenv("TZ");
}

static void test_local_to_utc(void **state)
{
	struct ing_tz *sh = NULL, *be = NULL, *ny = NULL;
	struct ing_civil c = { 2024, 5, 1, 8, 0, 0, 250000 };
	struct err_detail e;
	int64_t us;

	(void)state;
	assert_int_equal(ing_tz_load("Asia/Shanghai", &sh, &e), 0);
	assert_int_equal(ing_tz_load("Europe/Berlin", &be, &e), 0);
	assert_int_equal(ing_tz_load("America/New_York", &ny, &e), 0);

	assert_int_equal(ing_tz_local_to_utc(sh, &c, &us), 0);
	assert_utc(us, "2024-05-01T00:00:00.25Z");
	assert_int_equal(ing_tz_local_to_utc(NULL, &c, &us), 0);
	assert_utc(us, "2024-05-01T08:00:00.25Z");
	/* Berlin: 02:30 on 2024-03-31 never happened (read with +01:00, as mktime() does);
	 * 02:30 on 2024-10-27 happened twice (the earlier, +02:00). */
	c = (struct ing_civil){ 2024, 3, 31, 2, 30, 0, 0 };
	assert_int_equal(ing_tz_local_to_utc(be, &c, &us), 0);
	assert_utc(us, "2024-03-31T01:30:00Z");
	c = (struct ing_civil){ 2024, 10, 27, 2, 30, 0, 0 };
	assert_int_equal(ing_tz_local_to_utc(be, &c, &us), 0);
	assert_utc(us, "2024-10-27T00:30:00Z");
	c = (struct ing_civil){ 2024, 10, 27, 3, 30, 0, 0 };
	assert_int_equal(ing_tz_local_to_utc(be, &c, &us), 0);
	assert_utc(us, "2024-10-27T02:30:00Z");
	/* New York in 2045: past the fat file's table, from the footer's rule. */
	c = (struct ing_civil){ 2045, 7, 4, 12, 0, 0, 0 };
	assert_int_equal(ing_tz_local_to_utc(ny, &c, &us), 0);
	assert_utc(us, "2045-07-04T16:00:00Z");
	c = (struct ing_civil){ 2045, 12, 24, 12, 0, 0, 0 };
	assert_int_equal(ing_tz_local_to_utc(ny, &c, &us), 0);
	assert_utc(us, "2045-12-24T17:00:00Z");
	/* Out of range. */
	c = (struct ing_civil){ 2023, 2, 29, 0, 0, 0, 0 };
	assert_int_equal(ing_tz_local_to_utc(sh, &c, &us), -EINVAL);
	c = (struct ing_civil){ 2024, 1, 1, 24, 0, 0, 0 };
	assert_int_equal(ing_tz_local_to_utc(sh, &c, &us), -EINVAL);
	ing_tz_free(sh);
	ing_tz_free(be);
	ing_tz_free(ny);
}

static void expect_pattern_error(const char *text, unsigned col, const char *words)
{
	struct ing_name_pattern *p = NULL;
	struct err_detail e = { 0 };

	assert_int_equal(ing_name_pattern_parse(text, &p, &e), -EINVAL);
	assert_null(p);
	if (!strstr(e.msg, words))
		fail_msg("pattern '%s': '%s' lacks '%s'", text, e.msg, words);
	assert_int_equal(e.line, col);
}

static void test_pattern_errors(void **state)
{
	(void)state;
	expect_pattern_error("", 0, "empty");
	expect_pattern_error("{device}_{camera}", 10, "unknown field '{camera}'");
	expect_pattern_error("{device}{officer}", 9, "nothing between them");
	expect_pattern_error("{device}_{device}", 10, "{device} appears twice");
	expect_pattern_error("{device}_{start:%Y%m%d}", 10, "needs the time of day");
	expect_pattern_error("{start:%H%M%S}", 1, "needs a date");
	expect_pattern_error("{start:%Y%m%d%H%M%Q}", 1, "%Q is not supported");
	expect_pattern_error("{start:%Y%m%d%H%M%}", 1, "lone '%'");
	expect_pattern_error("{start:%Y%m%d%H%M%M}", 1, "%M appears twice");
	expect_pattern_error("{start:%F%d %H%M}", 1, "%d appears twice");
	expect_pattern_error("{start:%Y%y%m%d%H%M}", 1, "gives the date twice");
	expect_pattern_error("{start:%Y%m%d%H%M%f}", 1, "%f (microseconds) needs %S");
	expect_pattern_error("{device", 1, "not closed");
	expect_pattern_error("ab}c", 3, "'}' without '{'");
	expect_pattern_error("x_{start}", 3, "needs its format");
	expect_pattern_error("dir/{device}", 4, "'/'");
}

static void test_pattern_match(void **state)
{
	struct ing_name_pattern *p = NULL;
	struct ing_name_fields f;
	struct err_detail e;

	(void)state;
	assert_int_equal(
	    ing_name_pattern_parse("{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}", &p, &e), 0);
	assert_string_equal(ing_name_pattern_text(p),
			    "{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}");
	assert_int_equal(ing_name_pattern_match(p, "CAM01_OFF7_20240501083000_0001.MP4", &f), 0);
	assert_string_equal(f.device, "CAM01");
	assert_string_equal(f.officer, "OFF7");
	assert_string_equal(f.seq, "0001"); /* the extension is not part of {seq} */
	assert_true(f.has_start);
	assert_int_equal(f.start.year, 2024);
	assert_int_equal(f.start.month, 5);
	assert_int_equal(f.start.day, 1);
	assert_int_equal(f.start.hour, 8);
	assert_int_equal(f.start.minute, 30);
	assert_int_equal(f.start.second, 0);
	/* UTF-8 names are fine; the shortest device that lets the rest match. */
	assert_int_equal(ing_name_pattern_match(p, "相机_1_警员2_20240501083000_7", &f), 0);
	assert_string_equal(f.device, "相机");
	assert_string_equal(f.officer, "1_警员2");
	assert_int_equal(ing_name_pattern_match(p, "holiday.mp4", &f), -ENOENT);
	assert_int_equal(ing_name_pattern_match(p, "CAM_O_20240230083000_1.mp4", &f), -ENOENT);
	assert_int_equal(ing_name_pattern_match(p, "CAM_O_2024050108300_1.mp4", &f), -ENOENT);
	assert_int_equal(ing_name_pattern_match(p, "C\xff_O_20240501083000_1.mp4", &f), -ENOENT);
	assert_int_equal(ing_name_pattern_match(p, "C\x01_O_20240501083000_1.mp4", &f), -ENOENT);
	/* C1 controls too (found by tests/fuzz/fuzz_pattern.c): U+0083, and U+009B (CSI). */
	assert_int_equal(ing_name_pattern_match(p, "C\xc2\x83_O_20240501083000_1.mp4", &f),
			 -ENOENT);
	assert_int_equal(ing_name_pattern_match(p, "C_O\xc2\x9b_20240501083000_1.mp4", &f),
			 -ENOENT);
	assert_int_equal(ing_name_pattern_match(p, "C\xc2\xa0_O_20240501083000_1.mp4", &f), 0);
	p = ing_name_pattern_free(p);

	/* Literal text with the extension, %F %T, literal braces, %y %j and %f. */
	assert_int_equal(ing_name_pattern_parse("{{{device}}}-{start:%F %T}.MOV", &p, &e), 0);
	assert_int_equal(ing_name_pattern_match(p, "{A7}-2023-12-31 23:59:59.MOV", &f), 0);
	assert_string_equal(f.device, "A7");
	assert_string_equal(f.officer, "");
	assert_int_equal(f.start.year, 2023);
	assert_int_equal(f.start.second, 59);
	assert_int_equal(ing_name_pattern_match(p, "{A7}-2023-12-31 23:59:59.mp4", &f), -ENOENT);
	p = ing_name_pattern_free(p);
	assert_int_equal(ing_name_pattern_parse("REC{start:%y%j_%H%M%S.%f}", &p, &e), 0);
	assert_int_equal(ing_name_pattern_match(p, "REC24061_101112.250000.avi", &f), 0);
	assert_int_equal(f.start.year, 2024);
	assert_int_equal(f.start.month, 3); /* day 61 of a leap year */
	assert_int_equal(f.start.day, 1);
	assert_int_equal(f.start.usec, 250000);
	assert_int_equal(ing_name_pattern_match(p, "REC23366_101112.250000.avi", &f), -ENOENT);
	ing_name_pattern_free(p);
}

static void test_datetime(void **state)
{
	struct ing_civil c;
	int32_t off;
	char zone;

	(void)state;
	assert_int_equal(ing_parse_datetime("2024-05-01T08:00:00.000000Z", &c, &zone, &off), 0);
	assert_int_equal(zone, 'Z');
	assert_int_equal(c.hour, 8);
	assert_int_equal(ing_parse_datetime("2024-05-01 08:00:01.5+08:00", &c, &zone, &off), 0);
	assert_int_equal(zone, 'O');
	assert_int_equal(off, 8 * 3600);
	assert_int_equal(c.usec, 500000);
	assert_int_equal(ing_parse_datetime("2024:05:01 08:00:00", &c, &zone, &off), 0);
	assert_int_equal(zone, 'N');
	assert_int_equal(ing_parse_datetime("2024-05-01T08:00:00+00:00", &c, &zone, &off), 0);
	assert_int_equal(zone, 'Z');
	assert_int_equal(ing_parse_datetime("2024-05-01T08:00:00-00:00", &c, &zone, &off), 0);
	assert_int_equal(zone, 'N');
	assert_int_equal(ing_parse_datetime("2024-05-01T08:00-0530", &c, &zone, &off), 0);
	assert_int_equal(off, -(5 * 3600 + 30 * 60));
	assert_int_equal(ing_parse_datetime("2024-05-01", &c, &zone, &off), -EINVAL);
	assert_int_equal(ing_parse_datetime("2024-13-01T00:00:00Z", &c, &zone, &off), -EINVAL);
	assert_int_equal(ing_parse_datetime("2024-05-01T08:00:00Zjunk", &c, &zone, &off), -EINVAL);
	assert_int_equal(ing_parse_datetime("yesterday", &c, &zone, &off), -EINVAL);

	assert_utc(0, "1970-01-01T00:00:00Z");
	assert_utc(-1, "1969-12-31T23:59:59.999999Z");
	assert_utc(utc_us(2024, 2, 29, 23, 59, 59) + 123000, "2024-02-29T23:59:59.123Z");
	{
		char text[ING_RFC3339_MAX];

		assert_int_equal(ing_format_utc(utc_us(10000, 1, 1, 0, 0, 0), text), -ERANGE);
	}
}

static const int64_t now = 1767225600LL * US; /* 2026-01-01T00:00:00Z */

static void test_recording_time(void **state)
{
	struct ing_tz *sh = NULL;
	struct ing_name_pattern *p = NULL;
	struct ing_time_rules rules = { .clock_skew_us = 600 * US };
	struct ing_time_input in = { .duration_us = 90 * US,
				     .mtime_us = utc_us(2024, 5, 2, 0, 0, 0) };
	struct ing_recording r;
	struct err_detail e;

	(void)state;
	assert_int_equal(ing_tz_load("Asia/Shanghai", &sh, &e), 0);
	assert_int_equal(
	    ing_name_pattern_parse("{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}", &p, &e), 0);

	/* creation_time in UTC, cameras on UTC. */
	in.creation_time = "2024-05-01T08:00:00.000000Z";
	ing_recording_time(&in, &rules, now, &r);
	assert_int_equal(r.source, ING_TIME_TAG);
	assert_string_equal(ing_time_source_name(r.source), "tag");
	assert_int_equal(r.start_us, utc_us(2024, 5, 1, 8, 0, 0));
	assert_int_equal(r.end_us, utc_us(2024, 5, 1, 8, 1, 30));
	assert_false(r.future);
	assert_string_equal(r.device, "");
	/* Local time labelled UTC, cameras on Shanghai time: eight hours earlier. */
	rules.device_clock = sh;
	ing_recording_time(&in, &rules, now, &r);
	assert_int_equal(r.start_us, utc_us(2024, 5, 1, 0, 0, 0));
	/* An explicit offset is taken as written, whatever the device clock. */
	in.creation_time = "2024-05-01T10:00:00+02:00";
	ing_recording_time(&in, &rules, now, &r);
	assert_int_equal(r.start_us, utc_us(2024, 5, 1, 8, 0, 0));

	/* 1970, 1904 and 2000-01-01 are clocks never set: the file name decides, in Shanghai
	 * time, and gives the device and officer. */
	rules.name_pattern = p;
	in.name = "CAM01_OFF7_20240501083000_0001.mp4";
	for (const char *const *t =
		 (const char *const[]){ "1970-01-01T00:00:00.000000Z", "1904-01-01T00:00:00Z",
					"2000-01-01T00:00:00Z", "garbage", NULL };
	     *t; t++) {
		in.creation_time = *t;
		ing_recording_time(&in, &rules, now, &r);
		assert_int_equal(r.source, ING_TIME_FILENAME);
		assert_int_equal(r.start_us, utc_us(2024, 5, 1, 0, 30, 0));
		assert_int_equal(r.end_us, utc_us(2024, 5, 1, 0, 31, 30));
		assert_string_equal(r.device, "CAM01");
		assert_string_equal(r.officer, "OFF7");
	}
	/* The tag wins over the name, which still names device and officer. */
	in.creation_time = "2024-05-01T09:00:00Z";
	ing_recording_time(&in, &rules, now, &r);
	assert_int_equal(r.source, ING_TIME_TAG);
	assert_int_equal(r.start_us, utc_us(2024, 5, 1, 1, 0, 0));
	assert_string_equal(r.device, "CAM01");

	/* Neither: the mtime marks the end. */
	in.creation_time = NULL;
	in.name = "clip.mp4";
	ing_recording_time(&in, &rules, now, &r);
	assert_int_equal(r.source, ING_TIME_MTIME);
	assert_string_equal(ing_time_source_name(r.source), "mtime");
	assert_int_equal(r.end_us, utc_us(2024, 5, 2, 0, 0, 0));
	assert_int_equal(r.start_us, utc_us(2024, 5, 1, 23, 58, 30));
	assert_string_equal(r.device, "");
	/* Unknown duration: start and end are the same instant. */
	in.duration_us = ING_NOTS;
	ing_recording_time(&in, &rules, now, &r);
	assert_int_equal(r.start_us, r.end_us);
	/* Nothing at all. */
	in.mtime_us = ING_NOTS;
	ing_recording_time(&in, &rules, now, &r);
	assert_int_equal(r.source, ING_TIME_NONE);
	assert_null(ing_time_source_name(r.source));

	/* The future, beyond the allowed clock skew of 10 minutes, is flagged. */
	in.duration_us = 60 * US;
	rules.device_clock = NULL;
	in.creation_time = "2026-01-01T02:00:00Z";
	ing_recording_time(&in, &rules, now, &r);
	assert_true(r.future);
	in.creation_time = "2026-01-01T00:05:00Z"; /* ends 6 minutes from now */
	ing_recording_time(&in, &rules, now, &r);
	assert_false(r.future);
	in.creation_time = "2026-01-01T00:10:00Z"; /* ends 11 minutes from now */
	ing_recording_time(&in, &rules, now, &r);
	assert_true(r.future);
	/* No rules at all: UTC, no pattern, no skew. */
	in.creation_time = "2024-05-01T08:00:00Z";
	ing_recording_time(&in, NULL, now, &r);
	assert_int_equal(r.start_us, utc_us(2024, 5, 1, 8, 0, 0));

	ing_name_pattern_free(p);
	ing_tz_free(sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tz_database),	cmocka_unit_test(test_tz_utc_and_errors),
		cmocka_unit_test(test_tz_footer_rules), cmocka_unit_test(test_local_to_utc),
		cmocka_unit_test(test_pattern_errors),	cmocka_unit_test(test_pattern_match),
		cmocka_unit_test(test_datetime),	cmocka_unit_test(test_recording_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

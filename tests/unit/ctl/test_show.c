/* test_show.c: ctl/show.c: times in the display zone with their offset, durations in days,
 * hours and minutes, the machine's zone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "ctl/show.h"
#include "ingest/tz.h"

static void test_time_in_zone(void **state)
{
	struct ing_tz *tz = NULL;
	char buf[SHOW_TIME_MAX];
	int64_t us;

	(void)state;
	assert_int_equal(show_zone_load("Asia/Shanghai", &tz, NULL), 0);
	assert_int_equal(show_parse_time("2026-11-28T09:00:00.5Z", &us), 0);
	assert_string_equal(show_time(tz, us, buf, sizeof(buf)), "2026-11-28 17:00:00 +08:00");
	assert_string_equal(show_time_short(tz, us, buf, sizeof(buf)), "2026-11-28 17:00");
	assert_string_equal(show_offset(tz, us, buf, sizeof(buf)), "+08:00");
	/* Across midnight and the year. */
	assert_int_equal(show_parse_time("2026-12-31T20:30:59+00:00", &us), 0);
	assert_string_equal(show_time(tz, us, buf, sizeof(buf)), "2027-01-01 04:30:59 +08:00");
	assert_string_equal(show_time(NULL, us, buf, sizeof(buf)), "2026-12-31 20:30:59 +00:00");
	/* An offset in the input is honoured, not kept. */
	assert_string_equal(show_time_str(tz, "2026-11-28T17:00:00+08:00", buf, sizeof(buf)),
			    "2026-11-28 17:00:00 +08:00");
	assert_string_equal(show_time_str(tz, NULL, buf, sizeof(buf)), "—");
	assert_string_equal(show_time_str(tz, "yesterday", buf, sizeof(buf)), "yesterday");
	/* A time without a zone is refused: nobody knows which it was. */
	assert_int_equal(show_parse_time("2026-11-28T09:00:00", &us), -EINVAL);
	ing_tz_free(tz);
}

/* Daylight saving: the offset is the one in force at that instant. */
static void test_offset_changes(void **state)
{
	struct ing_tz *tz = NULL;
	char buf[SHOW_TIME_MAX];
	int64_t us;

	(void)state;
	assert_int_equal(show_zone_load("Europe/Berlin", &tz, NULL), 0);
	assert_int_equal(show_parse_time("2026-07-01T10:00:00Z", &us), 0);
	assert_string_equal(show_time(tz, us, buf, sizeof(buf)), "2026-07-01 12:00:00 +02:00");
	assert_int_equal(show_parse_time("2026-01-01T10:00:00Z", &us), 0);
	assert_string_equal(show_time(tz, us, buf, sizeof(buf)), "2026-01-01 11:00:00 +01:00");
	ing_tz_free(tz);
	assert_int_equal(show_zone_load("America/St_Johns", &tz, NULL), 0);
	assert_string_equal(show_time(tz, us, buf, sizeof(buf)), "2026-01-01 06:30:00 -03:30");
	ing_tz_free(tz);
}

static void test_duration(void **state)
{
	char buf[SHOW_DURATION_MAX];

	(void)state;
	assert_string_equal(show_duration(273590, buf, sizeof(buf)), "3 d 3 h 59 min");
	assert_string_equal(show_duration(590, buf, sizeof(buf)), "9 min 50 s");
	assert_string_equal(show_duration(3600, buf, sizeof(buf)), "1 h 0 min");
	assert_string_equal(show_duration(0, buf, sizeof(buf)), "0 s");
	assert_string_equal(show_duration(-61, buf, sizeof(buf)), "-1 min 1 s");
	assert_string_equal(show_duration(INT64_MIN, buf, sizeof(buf)),
			    "-106751991167300 d 15 h 30 min");
}

/* The machine's zone: $TZ when it names one, else /etc/localtime's link. */
static void test_machine_zone(void **state)
{
	struct ing_tz *tz = NULL;

	(void)state;
	setenv("TZ", ":Asia/Tokyo", 1);
	assert_int_equal(show_zone_load(NULL, &tz, NULL), 0);
	assert_string_equal(ing_tz_name(tz), "Asia/Tokyo");
	ing_tz_free(tz);
	setenv("TZ", "Asia/Shanghai", 1);
	assert_int_equal(show_zone_load("", &tz, NULL), 0);
	assert_string_equal(ing_tz_name(tz), "Asia/Shanghai");
	ing_tz_free(tz);
	/* The config's zone wins over the machine's. */
	assert_int_equal(show_zone_load("Europe/Paris", &tz, NULL), 0);
	assert_string_equal(ing_tz_name(tz), "Europe/Paris");
	ing_tz_free(tz);
	assert_int_equal(show_zone_load("No/Such_Zone", &tz, NULL), -ENOENT);
	unsetenv("TZ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_in_zone),
		cmocka_unit_test(test_offset_changes),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_machine_zone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

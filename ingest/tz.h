#pragma once
/* Time zones and the calendar: the system's TZ database (TZif files under $TZDIR or
 * /usr/share/zoneinfo), read into an immutable struct ing_tz, so conversions are thread-safe
 * and never touch the process's TZ variable or libc's shared time zone state (glibc's
 * localtime_r() and mktime() serve one zone per process, set through the environment, which is
 * not safe to change while other threads run).  docs/time.md says how a recording's time is
 * decided from them.
 *
 * All times are int64_t microseconds since the Unix epoch, UTC. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err_detail;

struct ing_tz; /* opaque, immutable once loaded: share it between threads freely */

/** Load the zone @name ("Asia/Shanghai", "UTC"…) from the TZ database.  NULL, "" , "UTC",
 * "Etc/UTC" and "Z" give UTC without reading a file.  Names must be relative paths of letters,
 * digits and "/_+-" without "..".  Call at configuration time (it reads a file).  *@ret is
 * the caller's (ing_tz_free()).  @return 0, -EINVAL (a bad name), -ENOENT (no such zone),
 * -EBADMSG (not a TZif file), -ENOMEM, -EIO. */
int ing_tz_load(const char *name, struct ing_tz **ret, struct err_detail *reterr);

/** Release @tz.  NULL is fine.  @return NULL. */
struct ing_tz *ing_tz_free(struct ing_tz *tz);

/** The zone's name as given to ing_tz_load() ("UTC" for UTC).  Valid as long as @tz. */
const char *ing_tz_name(const struct ing_tz *tz);

/** Seconds east of UTC in @tz at the instant @utc (seconds since the epoch).  @tz NULL is UTC. */
int32_t ing_tz_offset(const struct ing_tz *tz, int64_t utc);

/* A wall-clock time, as a camera shows it. */
struct ing_civil {
	int year, month, day;	  /* month 1..12, day 1..31 */
	int hour, minute, second; /* 0..23, 0..59, 0..60 (a leap second counts as :59 + 1) */
	int usec;		  /* 0..999999 */
};

/** The UTC instant (µs) at which @tz's clocks showed @local.  A time that occurs twice (when
 * clocks go back) is the earlier instant; a time that never occurs (when clocks go forward) is
 * read with the offset before the change, as mktime() does.  @tz NULL is UTC.
 * @return 0, -EINVAL (@local out of range, e.g. 2023-02-29). */
int ing_tz_local_to_utc(const struct ing_tz *tz, const struct ing_civil *local, int64_t *ret_us);

/** Seconds since the epoch of the proleptic Gregorian date (Howard Hinnant's days_from_civil),
 * for any year; no validation. */
int64_t ing_civil_to_epoch(int year, int month, int day, int hour, int minute, int second);

/** Whether @c is a real date and time (years 0..9999; second 60 allowed). */
bool ing_civil_valid(const struct ing_civil *c);

/** Days since 1970-01-01 of the proleptic Gregorian date (Howard Hinnant's days_from_civil). */
int64_t ing_days_from_civil(int64_t y, int m, int d);

/** The proleptic Gregorian date of @days since 1970-01-01 (Howard Hinnant's civil_from_days). */
void ing_civil_from_days(int64_t days, int64_t *ret_y, int *ret_m, int *ret_d);

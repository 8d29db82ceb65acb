#pragma once
/* How custodyctl shows times and durations to people (docs/i18n.md): times in the office's
 * zone ([display] timezone, default the machine's) with their UTC offset, durations in days,
 * hours and minutes, words through gettext.  JSON keeps UTC (docs/review-format.md).
 * ctl/show.c; no I/O but show_zone_load(); the zone is immutable once loaded, so any thread
 * may share it. */

#include <stddef.h>
#include <stdint.h>

struct err_detail;
struct ing_tz;

#define SHOW_TIME_MAX 40 /* "2026-11-28 17:00:00 +08:00" and room */
#define SHOW_DURATION_MAX 64

/** Load the display zone: @name (the config's [display] timezone) when not NULL or empty,
 * else the machine's ($TZ when it names a zone, else the zone /etc/localtime links to, else
 * UTC).  *@ret is the caller's (ing_tz_free()).  @return 0, or what ing_tz_load() returns
 * (-EINVAL, -ENOENT…, text in @reterr). */
int show_zone_load(const char *name, struct ing_tz **ret, struct err_detail *reterr);

/** @us (µs since the epoch, UTC) as "YYYY-MM-DD HH:MM:SS +HH:MM" in @tz (NULL: UTC, "+00:00"),
 * seconds only (the fraction dropped) into @buf (@n bytes, SHOW_TIME_MAX is enough).
 * @return @buf. */
const char *show_time(const struct ing_tz *tz, int64_t us, char *buf, size_t n);

/** The RFC 3339 time @rfc3339 (as the daemon's JSON has it) shown as show_time() does; "—"
 * when @rfc3339 is NULL, and the string itself when it does not parse. */
const char *show_time_str(const struct ing_tz *tz, const char *rfc3339, char *buf, size_t n);

/** Only the date and time of day with minutes ("2026-11-28 17:00"), for tight places (the
 * timeline's labels); the offset is the page's, said once on it. */
const char *show_time_short(const struct ing_tz *tz, int64_t us, char *buf, size_t n);

/** The offset of @tz at @us as "+08:00" ("UTC+08:00" is the caller's to compose). */
const char *show_offset(const struct ing_tz *tz, int64_t us, char *buf, size_t n);

/** @seconds as a person reads a span, localised: "3 d 3 h 10 min", "9 min 50 s" (seconds only
 * under an hour), "0 s"; negative spans get a minus sign.  @return @buf. */
const char *show_duration(int64_t seconds, char *buf, size_t n);

/** Parse an RFC 3339 time with a zone ("2026-11-28T09:00:00Z").  @return 0, -EINVAL. */
int show_parse_time(const char *s, int64_t *ret_us);

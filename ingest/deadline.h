#pragma once
/* When a recording was made (SPEC §6): its start from the container's creation_time, else from
 * the zone's file-name pattern, else from the file's mtime; its end, start plus duration; and
 * whether that time lies in the future beyond the allowed clock skew.
 *
 * Time zones come from the system's TZ database (TZif files under $TZDIR or
 * /usr/share/zoneinfo), read into an immutable struct ing_tz, so conversions are thread-safe
 * and never touch the process's TZ variable or libc's shared time zone state (glibc's
 * localtime_r() and mktime() serve one zone per process, set through the environment, which is
 * not safe to change while other threads run).
 *
 * All times are int64_t microseconds since the Unix epoch, UTC. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err_detail;

/* ---- time zones ------------------------------------------------------------------------ */

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
	int year, month, day;      /* month 1..12, day 1..31 */
	int hour, minute, second;  /* 0..23, 0..59, 0..60 (a leap second counts as :59 + 1) */
	int usec;                  /* 0..999999 */
};

/** The UTC instant (µs) at which @tz's clocks showed @local.  A time that occurs twice (when
 * clocks go back) is the earlier instant; a time that never occurs (when clocks go forward) is
 * read with the offset before the change, as mktime() does.  @tz NULL is UTC.
 * @return 0, -EINVAL (@local out of range, e.g. 2023-02-29). */
int ing_tz_local_to_utc(const struct ing_tz *tz, const struct ing_civil *local, int64_t *ret_us);

/* ---- file-name patterns ------------------------------------------------------------------ */

/* A zone's name_pattern, e.g. "{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}": literal text
 * and the fields {device}, {officer}, {seq} (each one or more characters, the shortest that
 * lets the rest match) and {start:FORMAT}, where FORMAT takes the strftime conversions
 * %Y (4 digits) %y (2 digits, 2000-2099) %m %d %H %M %S (2 digits) %j (3 digits, day of the
 * year) %f (6 digits, microseconds) %F (= %Y-%m-%d) %T (= %H:%M:%S) and %% and literal text.
 * "{{" and "}}" are literal braces.  The pattern is matched against the whole file name, or
 * the name without its extension. */
struct ing_name_pattern; /* opaque, immutable: share it between threads freely */

#define ING_NAME_FIELD_MAX 128 /* bytes of a matched device, officer or seq, with the NUL */

/** Compile @text.  Errors name the offending part and its 1-based column (also in
 * @reterr->line, which here counts columns): an unknown field, a field used twice, an
 * unterminated "{", a lone "}", two fields with no literal text between them (which could not
 * be told apart), an unsupported conversion in {start:…}, a start without a date (%Y or %y,
 * with %m and %d, or %j), a time without the hour.  *@ret is the caller's.
 * @return 0, -EINVAL, -ENOMEM. */
int ing_name_pattern_parse(const char *text, struct ing_name_pattern **ret,
			   struct err_detail *reterr);

/** Release @p.  NULL is fine.  @return NULL. */
struct ing_name_pattern *ing_name_pattern_free(struct ing_name_pattern *p);

/** The pattern's text as given.  Valid as long as @p. */
const char *ing_name_pattern_text(const struct ing_name_pattern *p);

struct ing_name_fields {
	char device[ING_NAME_FIELD_MAX];  /* "" when the pattern has no {device} */
	char officer[ING_NAME_FIELD_MAX]; /* "" when the pattern has no {officer} */
	char seq[ING_NAME_FIELD_MAX];     /* "" when the pattern has no {seq} */
	bool has_start;
	struct ing_civil start;           /* the wall-clock start, when has_start */
};

/** Match the file name @name (no directory) against @p.  Fields must be valid UTF-8 without
 * control characters or '/'; the start must be a real date and time.  Any thread.
 * @return 0 and *@ret filled, -ENOENT (no match). */
int ing_name_pattern_match(const struct ing_name_pattern *p, const char *name,
			   struct ing_name_fields *ret);

/* ---- recording time ---------------------------------------------------------------------- */

enum ing_time_source {
	ING_TIME_NONE = 0, /* nothing to go by (no tag, no pattern match, no mtime) */
	ING_TIME_TAG,      /* the container's creation_time */
	ING_TIME_FILENAME, /* the zone's name_pattern */
	ING_TIME_MTIME,    /* the file's modification time */
};

/** "tag", "filename", "mtime", or NULL for ING_TIME_NONE. */
const char *ing_time_source_name(enum ing_time_source s);

/* Creation times before this are a clock that was never set, not a recording time: 0 in the
 * Unix (1970) or QuickTime (1904) epoch, the FAT epoch (1980), and the 2000-01-01 that many
 * devices fall back to when their clock battery is flat. */
#define ING_TIME_PLAUSIBLE_US (978307200LL * 1000000) /* 2001-01-01T00:00:00Z */

/* The zone's settings that bear on recording time. */
struct ing_time_rules {
	const struct ing_tz *device_clock;          /* the zone camera clocks keep; NULL = UTC */
	const struct ing_name_pattern *name_pattern; /* NULL: the zone has none */
	int64_t clock_skew_us; /* a start/end later than now + this is flagged */
};

/* What the time of a file rests on. */
struct ing_time_input {
	const char *creation_time; /* the tag's text, or NULL */
	int64_t duration_us;       /* or ING_NOTS */
	int64_t mtime_us;          /* or ING_NOTS */
	const char *name;          /* the file name without directory, or NULL */
};

struct ing_recording {
	enum ing_time_source source;
	int64_t start_us;                 /* valid unless source is ING_TIME_NONE */
	int64_t end_us;                   /* start + duration (start when duration is unknown) */
	bool future;                      /* end later than now + clock_skew */
	char device[ING_NAME_FIELD_MAX];  /* from the name pattern, "" when unknown */
	char officer[ING_NAME_FIELD_MAX]; /* from the name pattern, "" when unknown */
};

/** Decide the recording time of a file.  The creation_time tag counts when it parses as a date
 * and time (RFC 3339 / ISO 8601 with "T" or " ", optional fraction, and "Z", an offset, or no
 * zone) and is not before ING_TIME_PLAUSIBLE_US.  A tag labelled UTC ("Z", "+00:00") or with no
 * zone is read as @rules->device_clock's wall clock (cameras write local time labelled UTC;
 * with device_clock UTC or NULL that changes nothing); a tag with another explicit offset is
 * taken as written.  The name pattern's start is read in device_clock.  The mtime marks the
 * end of the recording (the moment the camera finished writing the file), so the start is
 * mtime − duration.  Device and officer come from the name pattern whenever it matches, even
 * when the time comes from the tag.  @rules may be NULL (UTC, no pattern, no skew).
 * @now_us is the reference for the future check.  Any thread.  Always succeeds. */
void ing_recording_time(const struct ing_time_input *in, const struct ing_time_rules *rules,
			int64_t now_us, struct ing_recording *ret);

/** Parse an RFC 3339 / ISO 8601 date-time as described above into its wall-clock fields and
 * its explicit offset: *@ret_zone is 'Z' (UTC label), 'O' (another offset, in *@ret_offset_s
 * seconds east) or 'N' (no zone).  @return 0, -EINVAL. */
int ing_parse_datetime(const char *s, struct ing_civil *ret, char *ret_zone,
		       int32_t *ret_offset_s);

#define ING_RFC3339_MAX 32

/** Format @us as RFC 3339 UTC: "2024-05-01T08:00:00Z", with the fraction ("…:00.5Z",
 * "…:00.000123Z") only when it is not zero, trailing zeros dropped.  Years 0..9999 only:
 * @return the length, or -ERANGE. */
int ing_format_utc(int64_t us, char out[ING_RFC3339_MAX]);

/** Seconds since the epoch of the proleptic Gregorian date (Howard Hinnant's days_from_civil),
 * for any year; no validation. */
int64_t ing_civil_to_epoch(int year, int month, int day, int hour, int minute, int second);

#pragma once
/* When a recording was made (docs/time.md): its start from the container's creation_time, else
 * from the zone's file-name pattern, else from the file's mtime; its end, start plus duration;
 * and whether that time lies in the future beyond the allowed clock skew.  Also RFC 3339 text.
 *
 * All times are int64_t microseconds since the Unix epoch, UTC. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/namepattern.h"
#include "ingest/tz.h"

enum ing_time_source {
	ING_TIME_NONE = 0, /* nothing to go by (no tag, no pattern match, no mtime) */
	ING_TIME_TAG,	   /* the container's creation_time */
	ING_TIME_FILENAME, /* the zone's name_pattern */
	ING_TIME_MTIME,	   /* the file's modification time */
};

/** "tag", "filename", "mtime", or NULL for ING_TIME_NONE. */
const char *ing_time_source_name(enum ing_time_source s);

/* Creation times before this are a clock that was never set, not a recording time: 0 in the
 * Unix (1970) or QuickTime (1904) epoch, the FAT epoch (1980), and the 2000-01-01 that many
 * devices fall back to when their clock battery is flat. */
#define ING_TIME_PLAUSIBLE_US (978307200LL * 1000000) /* 2001-01-01T00:00:00Z */

/* The zone's settings that bear on recording time. */
struct ing_time_rules {
	const struct ing_tz *device_clock;	     /* the zone camera clocks keep; NULL = UTC */
	const struct ing_name_pattern *name_pattern; /* NULL: the zone has none */
	int64_t clock_skew_us; /* a start/end later than now + this is flagged */
};

/* What the time of a file rests on. */
struct ing_time_input {
	const char *creation_time; /* the tag's text, or NULL */
	int64_t duration_us;	   /* or ING_NOTS */
	int64_t mtime_us;	   /* or ING_NOTS */
	const char *name;	   /* the file name without directory, or NULL */
};

struct ing_recording {
	enum ing_time_source source;
	int64_t start_us;		  /* valid unless source is ING_TIME_NONE */
	int64_t end_us;			  /* start + duration (start when duration is unknown) */
	bool future;			  /* end later than now + clock_skew */
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
int ing_parse_datetime(const char *s, struct ing_civil *ret, char *ret_zone, int32_t *ret_offset_s);

#define ING_RFC3339_MAX 32

/** Format @us as RFC 3339 UTC: "2024-05-01T08:00:00Z", with the fraction ("…:00.5Z",
 * "…:00.000123Z") only when it is not zero, trailing zeros dropped.  Years 0..9999 only:
 * @return the length, or -ERANGE. */
int ing_format_utc(int64_t us, char out[ING_RFC3339_MAX]);

/* rectime.c: when a recording was made (docs/time.md), and dates as RFC 3339 text.
 *
 * DESIGN
 * The choice between creation_time, the name and the mtime is a pure function of what the
 * probe found and the zone's settings, so the daemon's workers and custody-verify decide it
 * alike.  Reentrant. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/fingerprint.h"
#include "ingest/ingest-internal.h"
#include "ingest/rectime.h"

#define DAY 86400

/* Seconds since the epoch of @c read as if it were UTC. */
static int64_t civil_seconds(const struct ing_civil *c)
{
	return ing_civil_to_epoch(c->year, c->month, c->day, c->hour, c->minute, c->second);
}

/* ---- dates as text ---------------------------------------------------------------------- */

static const char *num(const char *s, int n, int *ret)
{
	int v;

	if (ing__digits(s, strnlen(s, (size_t)n), n, &v) < 0)
		return NULL;
	*ret = v;
	return s + n;
}

int ing_parse_datetime(const char *s, struct ing_civil *ret, char *ret_zone, int32_t *ret_offset_s)
{
	struct ing_civil c = { 0 };
	const char *p = s;
	char sep;

	while (*p == ' ')
		p++;
	/* 2024-05-01, or 2024:05:01 as EXIF writes dates. */
	if (!(p = num(p, 4, &c.year)) || (*p != '-' && *p != ':'))
		return -EINVAL;
	sep = *p;
	if (!(p = num(p + 1, 2, &c.month)) || *p != sep || !(p = num(p + 1, 2, &c.day)))
		return -EINVAL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -EINVAL;
	if (!(p = num(p + 1, 2, &c.hour)) || *p != ':' || !(p = num(p + 1, 2, &c.minute)))
		return -EINVAL;
	if (*p == ':') {
		if (!(p = num(p + 1, 2, &c.second)))
			return -EINVAL;
		if (*p == '.' || *p == ',') {
			int scale = 100000;

			if (p[1] < '0' || p[1] > '9')
				return -EINVAL;
			for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
				c.usec += (*p - '0') * scale; /* digits past µs add 0 */
		}
	}
	*ret_offset_s = 0;
	if (*p == 'Z' || *p == 'z') {
		*ret_zone = 'Z';
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, h, m = 0;

		if (!(p = num(p + 1, 2, &h)))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (*p >= '0' && *p <= '9' && !(p = num(p, 2, &m)))
			return -EINVAL;
		if (h > 23 || m > 59)
			return -EINVAL;
		*ret_offset_s = sign * (h * 3600 + m * 60);
		/* "+00:00" labels UTC like "Z"; RFC 3339's "-00:00" says the offset is unknown. */
		*ret_zone = *ret_offset_s ? 'O' : sign > 0 ? 'Z' : 'N';
	} else {
		*ret_zone = 'N';
	}
	while (*p == ' ')
		p++;
	if (*p || !ing_civil_valid(&c))
		return -EINVAL;
	*ret = c;
	return 0;
}

int ing_format_utc(int64_t us, char out[ING_RFC3339_MAX])
{
	int64_t s = us / 1000000, frac = us % 1000000, days, secs, y;
	int m, d, n;

	if (frac < 0) {
		frac += 1000000;
		s--;
	}
	days = s / DAY - (s % DAY < 0);
	secs = s - days * DAY;
	ing_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return -ERANGE;
	n = snprintf(out, ING_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", (int)y, m, d,
		     (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	if (frac) {
		int digits_left = 6;

		while (frac % 10 == 0) {
			frac /= 10;
			digits_left--;
		}
		n += snprintf(out + n, (size_t)(ING_RFC3339_MAX - n), ".%0*d", digits_left,
			      (int)frac);
	}
	out[n++] = 'Z';
	out[n] = '\0';
	return n;
}

/* ---- recording time ---------------------------------------------------------------------- */

const char *ing_time_source_name(enum ing_time_source s)
{
	switch (s) {
	case ING_TIME_TAG:
		return "tag";
	case ING_TIME_FILENAME:
		return "filename";
	case ING_TIME_MTIME:
		return "mtime";
	default:
		return NULL;
	}
}

/* The creation_time tag as an instant, or false when it is absent, unreadable or implausible. */
static bool tag_time(const char *text, const struct ing_tz *clock, int64_t *ret_us)
{
	struct ing_civil c;
	int32_t offset;
	char zone;

	if (!text || ing_parse_datetime(text, &c, &zone, &offset) < 0)
		return false;
	if (civil_seconds(&c) * 1000000 < ING_TIME_PLAUSIBLE_US)
		return false;
	if (zone == 'O') {
		*ret_us = (civil_seconds(&c) - offset) * 1000000 + c.usec;
		return true;
	}
	/* Labelled UTC or not labelled: the camera's wall clock. */
	return ing_tz_local_to_utc(clock, &c, ret_us) == 0;
}

void ing_recording_time(const struct ing_time_input *in, const struct ing_time_rules *rules,
			int64_t now_us, struct ing_recording *ret)
{
	static const struct ing_time_rules none = { 0 };
	struct ing_name_fields f;
	bool named = false;
	int64_t start;

	if (!rules)
		rules = &none;
	memset(ret, 0, sizeof(*ret));
	if (rules->name_pattern && in->name &&
	    ing_name_pattern_match(rules->name_pattern, in->name, &f) == 0) {
		named = true;
		memcpy(ret->device, f.device, sizeof(ret->device));
		memcpy(ret->officer, f.officer, sizeof(ret->officer));
	}
	if (tag_time(in->creation_time, rules->device_clock, &start)) {
		ret->source = ING_TIME_TAG;
	} else if (named && f.has_start &&
		   civil_seconds(&f.start) * 1000000 >= ING_TIME_PLAUSIBLE_US &&
		   ing_tz_local_to_utc(rules->device_clock, &f.start, &start) == 0) {
		ret->source = ING_TIME_FILENAME;
	} else if (in->mtime_us != ING_NOTS) {
		/* The camera last wrote the file when the recording ended. */
		ret->source = ING_TIME_MTIME;
		ret->start_us = in->mtime_us;
		if (in->duration_us != ING_NOTS && in->duration_us > 0)
			ret->start_us -= in->duration_us;
		ret->end_us = in->mtime_us;
		goto check;
	} else {
		return;
	}
	ret->start_us = start;
	ret->end_us = start;
	if (in->duration_us != ING_NOTS && in->duration_us > 0)
		ret->end_us += in->duration_us;
check:
	ret->future = ret->end_us > now_us + rules->clock_skew_us;
}

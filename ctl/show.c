/* docs/i18n.md */
#include "ctl/show.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/i18n.h"
#include "ingest/rectime.h"
#include "ingest/tz.h"

/* The zone name /etc/localtime points at ("Asia/Shanghai"), or NULL. */
static const char *machine_zone(char *buf, size_t n)
{
	static const char *const roots[] = { "/usr/share/zoneinfo/", "../usr/share/zoneinfo/",
					     "/usr/share/zoneinfo-posix/" };
	const char *tz = getenv("TZ");
	ssize_t len;

	if (tz && *tz) {
		/* TZ=":Asia/Shanghai" and TZ="Asia/Shanghai" name a file; POSIX rules
		 * ("CST-8") are not read here, so they fall through to /etc/localtime. */
		if (*tz == ':')
			tz++;
		if (strchr(tz, '/') || !strcmp(tz, "UTC"))
			return snprintf(buf, n, "%s", tz) < (int)n ? buf : NULL;
	}
	len = readlink("/etc/localtime", buf, n - 1);
	if (len <= 0)
		return NULL;
	buf[len] = '\0';
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		const char *p = strstr(buf, roots[i]);

		if (p)
			return p + strlen(roots[i]);
	}
	return NULL;
}

int show_zone_load(const char *name, struct ing_tz **ret, struct err_detail *reterr)
{
	char buf[4096];

	if (!name || !*name) {
		name = machine_zone(buf, sizeof(buf));
		if (!name)
			name = "UTC";
	}
	return ing_tz_load(name, ret, reterr);
}

static void civil(const struct ing_tz *tz, int64_t us, int64_t *y, int *mo, int *d, int *h, int *mi,
		  int *s, int32_t *off)
{
	int64_t sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	int64_t days, rem;

	*off = ing_tz_offset(tz, sec);
	sec += *off;
	days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	rem = sec - days * 86400;
	ing_civil_from_days(days, y, mo, d);
	*h = (int)(rem / 3600);
	*mi = (int)(rem % 3600 / 60);
	*s = (int)(rem % 60);
}

const char *show_offset(const struct ing_tz *tz, int64_t us, char *buf, size_t n)
{
	int32_t off = ing_tz_offset(tz, us / 1000000);
	unsigned a = (unsigned)(off < 0 ? -off : off);

	snprintf(buf, n, "%c%02u:%02u", off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
	return buf;
}

const char *show_time(const struct ing_tz *tz, int64_t us, char *buf, size_t n)
{
	int mo, d, h, mi, s;
	int32_t off;
	unsigned a;
	int64_t y;

	civil(tz, us, &y, &mo, &d, &h, &mi, &s, &off);
	a = (unsigned)(off < 0 ? -off : off);
	snprintf(buf, n, "%04" PRId64 "-%02d-%02d %02d:%02d:%02d %c%02u:%02u", y, mo, d, h, mi, s,
		 off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
	return buf;
}

const char *show_time_short(const struct ing_tz *tz, int64_t us, char *buf, size_t n)
{
	int mo, d, h, mi, s;
	int32_t off;
	int64_t y;

	civil(tz, us, &y, &mo, &d, &h, &mi, &s, &off);
	snprintf(buf, n, "%04" PRId64 "-%02d-%02d %02d:%02d", y, mo, d, h, mi);
	return buf;
}

int show_parse_time(const char *s, int64_t *ret_us)
{
	struct ing_civil c;
	int32_t offset = 0;
	char zone;
	int64_t sec;

	if (!s || ing_parse_datetime(s, &c, &zone, &offset) < 0 || zone == 'N')
		return -EINVAL;
	sec = ing_civil_to_epoch(c.year, c.month, c.day, c.hour, c.minute, c.second);
	if (zone == 'O')
		sec -= offset;
	*ret_us = sec * 1000000 + c.usec;
	return 0;
}

const char *show_time_str(const struct ing_tz *tz, const char *rfc3339, char *buf, size_t n)
{
	int64_t us;

	if (!rfc3339)
		snprintf(buf, n, "—");
	else if (show_parse_time(rfc3339, &us) < 0)
		snprintf(buf, n, "%s", rfc3339);
	else
		show_time(tz, us, buf, n);
	return buf;
}

const char *show_duration(int64_t seconds, char *buf, size_t n)
{
	uint64_t a = seconds < 0 ? (uint64_t)0 - (uint64_t)seconds : (uint64_t)seconds;
	uint64_t d = a / 86400, h = a % 86400 / 3600, m = a % 3600 / 60, s = a % 60;
	const char *sign = seconds < 0 ? "-" : "";

	/* Translators: units of a span of time: days, hours, minutes, seconds ("3 d 3 h
	 * 10 min"); keep each %llu. */
	if (d)
		snprintf(buf, n, _("%s%llu d %llu h %llu min"), sign, (unsigned long long)d,
			 (unsigned long long)h, (unsigned long long)m);
	else if (h)
		snprintf(buf, n, _("%s%llu h %llu min"), sign, (unsigned long long)h,
			 (unsigned long long)m);
	else if (m)
		snprintf(buf, n, _("%s%llu min %llu s"), sign, (unsigned long long)m,
			 (unsigned long long)s);
	else
		snprintf(buf, n, _("%s%llu s"), sign, (unsigned long long)s);
	return buf;
}

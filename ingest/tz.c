/* tz.c: time zones and the calendar (docs/time.md).
 *
 * DESIGN
 * Cameras keep local time and many write it into creation_time labelled UTC, so the daemon must
 * convert wall-clock times of a configured zone (device_clock) on its worker threads.  libc
 * cannot do that safely: glibc's localtime_r()/mktime() know one zone per process, taken from
 * $TZ, and changing $TZ while other threads run is undefined behaviour.  So the zone's TZif
 * file (RFC 8536) is read once, at configuration time, into an immutable struct ing_tz:
 * transition times, their UTC offsets, and the POSIX TZ rule of the footer for instants after
 * the last transition (Debian ships "fat" files listing transitions up to 2037; "slim" files
 * stop much earlier and rely on the rule).  Lookups are a binary search, so any thread may
 * convert at any time.
 *
 * Local to UTC: a wall-clock time maps to the instants at which the zone's offset makes it
 * true.  We look at the offsets 26 hours (the widest span of offsets there is) before and after,
 * so a time that occurs twice gives two candidates (we take the earlier) and a time that never
 * occurs gives none (we use the offset before the change, as mktime() does).  This assumes no
 * two transitions lie within 52 hours of each other, which holds for every zone since 1900.
 *
 * All functions are reentrant; ing_tz_load() reads a file and $TZDIR. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/file.h"
#include "base/macro.h"
#include "ingest/tz.h"

#define DAY 86400
#define TZIF_MAX_SIZE (1024 * 1024)
#define TZIF_MAX_TIMES 100000

/* ---- calendar ------------------------------------------------------------------------------ */

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
int64_t ing_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void ing_civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*ret_y = y + (*ret_m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int64_t ing_civil_to_epoch(int year, int month, int day, int hour, int minute, int second)
{
	return ing_days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second;
}

bool ing_civil_valid(const struct ing_civil *c)
{
	return c->year >= 0 && c->year <= 9999 && c->month >= 1 && c->month <= 12 && c->day >= 1 &&
	       c->day <= days_in_month(c->year, c->month) && c->hour >= 0 && c->hour <= 23 &&
	       c->minute >= 0 && c->minute <= 59 && c->second >= 0 && c->second <= 60 &&
	       c->usec >= 0 && c->usec <= 999999;
}

/* Seconds since the epoch of @c read as if it were UTC. */
static int64_t civil_seconds(const struct ing_civil *c)
{
	return ing_civil_to_epoch(c->year, c->month, c->day, c->hour, c->minute, c->second);
}

/* ---- POSIX TZ rules (the TZif footer) ------------------------------------------------------ */

struct rule_date {
	char kind; /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.day) */
	int n, m, w, d;
	int32_t time; /* seconds after local midnight, may be negative or past 24 h */
};

struct posix_tz {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool has_dst;
	struct rule_date start, end;
};

static const char *tz_name_part(const char *p)
{
	const char *s = p;

	if (*p == '<') {
		while (*p && *p != '>')
			p++;
		return *p == '>' && p - s >= 4 ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hours up to @max_h; *@ret in seconds, with the sign as written. */
static const char *tz_time_part(const char *p, int max_h, int32_t *ret)
{
	int sign = 1, h = 0, m = 0, s = 0, digits = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (*p >= '0' && *p <= '9' && digits < 3)
		h = h * 10 + (*p++ - '0'), digits++;
	if (!digits || h > max_h)
		return NULL;
	if (*p == ':') {
		if (p[1] < '0' || p[1] > '5' || p[2] < '0' || p[2] > '9')
			return NULL;
		m = (p[1] - '0') * 10 + p[2] - '0';
		p += 3;
		if (*p == ':') {
			if (p[1] < '0' || p[1] > '5' || p[2] < '0' || p[2] > '9')
				return NULL;
			s = (p[1] - '0') * 10 + p[2] - '0';
			p += 3;
		}
	}
	*ret = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *tz_number(const char *p, int lo, int hi, int *ret)
{
	int v = 0, digits = 0;

	while (*p >= '0' && *p <= '9' && digits < 4)
		v = v * 10 + (*p++ - '0'), digits++;
	if (!digits || v < lo || v > hi)
		return NULL;
	*ret = v;
	return p;
}

static const char *tz_rule_date(const char *p, struct rule_date *r)
{
	if (*p == 'J') {
		r->kind = 'J';
		p = tz_number(p + 1, 1, 365, &r->n);
	} else if (*p == 'M') {
		r->kind = 'M';
		p = tz_number(p + 1, 1, 12, &r->m);
		if (p && *p == '.')
			p = tz_number(p + 1, 1, 5, &r->w);
		else
			p = NULL;
		if (p && *p == '.')
			p = tz_number(p + 1, 0, 6, &r->d);
		else
			p = NULL;
	} else {
		r->kind = 'D';
		p = tz_number(p, 0, 365, &r->n);
	}
	if (!p)
		return NULL;
	r->time = 7200;
	if (*p == '/')
		p = tz_time_part(p + 1, 167, &r->time);
	return p;
}

/* "CST-8", "CET-1CEST,M3.5.0,M10.5.0/3", "<+0330>-3:30"…; "" means no rule. */
static int posix_tz_parse(const char *s, struct posix_tz *ret)
{
	const char *p = tz_name_part(s);
	int32_t off;

	memset(ret, 0, sizeof(*ret));
	if (!p || !(p = tz_time_part(p, 24, &off)))
		return -EBADMSG;
	ret->std_off = -off; /* POSIX counts hours west */
	if (!*p)
		return 0;
	if (!(p = tz_name_part(p)))
		return -EBADMSG;
	ret->has_dst = true;
	ret->dst_off = ret->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = tz_time_part(p, 24, &off)))
			return -EBADMSG;
		ret->dst_off = -off;
	}
	if (!*p) {
		/* No rule: POSIX leaves it open; glibc and tzcode take the US one. */
		ret->start =
		    (struct rule_date){ .kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200 };
		ret->end = (struct rule_date){ .kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200 };
		return 0;
	}
	if (*p != ',' || !(p = tz_rule_date(p + 1, &ret->start)) || *p != ',' ||
	    !(p = tz_rule_date(p + 1, &ret->end)) || *p)
		return -EBADMSG;
	return 0;
}

/* Local seconds (as if UTC) at which @r happens in year @y. */
static int64_t rule_local(const struct rule_date *r, int64_t y)
{
	int64_t day;

	if (r->kind == 'J') {
		day = ing_days_from_civil(y, 1, 1) + r->n - 1;
		if (is_leap(y) && r->n >= 60)
			day++;
	} else if (r->kind == 'D') {
		day = ing_days_from_civil(y, 1, 1) + r->n;
	} else {
		int64_t first = ing_days_from_civil(y, r->m, 1);
		int wday = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
		int mday = 1 + (r->d - wday + 7) % 7 + (r->w - 1) * 7;

		while (mday > days_in_month(y, r->m))
			mday -= 7;
		day = first + mday - 1;
	}
	return day * DAY + r->time;
}

static int32_t posix_tz_offset(const struct posix_tz *tz, int64_t t)
{
	int64_t y, start, end;
	int m, d;

	if (!tz->has_dst)
		return tz->std_off;
	ing_civil_from_days((t + tz->std_off) / DAY - ((t + tz->std_off) % DAY < 0), &y, &m, &d);
	/* The start is announced in standard time, the end in daylight time. */
	start = rule_local(&tz->start, y) - tz->std_off;
	end = rule_local(&tz->end, y) - tz->dst_off;
	if (start < end)
		return t >= start && t < end ? tz->dst_off : tz->std_off;
	return t >= end && t < start ? tz->std_off : tz->dst_off;
}

/* ---- TZif ------------------------------------------------------------------------------------ */

struct ing_tz {
	char *name;
	size_t n_times;
	int64_t *times; /* transition instants, ascending */
	uint8_t *types; /* type index of each transition */
	size_t n_offsets;
	int32_t *offsets; /* UTC offset of each type */
	bool has_rule;
	struct posix_tz rule; /* after the last transition */
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static int tzif_header(const uint8_t *p, size_t len, struct tzif_counts *c, char *version)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -EBADMSG;
	*version = (char)p[4];
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	if (c->time > TZIF_MAX_TIMES || c->type == 0 || c->type > 256 || c->leap > 10000 ||
	    c->chars > 65536 || (c->isut && c->isut != c->type) ||
	    (c->isstd && c->isstd != c->type))
		return -EBADMSG;
	return 0;
}

static size_t tzif_block_size(const struct tzif_counts *c, size_t time_size)
{
	return c->time * time_size + c->time + c->type * 6 + c->chars + c->leap * (time_size + 4) +
	       c->isstd + c->isut;
}

static int tzif_parse(const uint8_t *data, size_t len, struct ing_tz *tz)
{
	struct tzif_counts c;
	size_t time_size = 4, off = 44, block;
	const uint8_t *p;
	char version;
	int r;

	r = tzif_header(data, len, &c, &version);
	if (r < 0)
		return r;
	block = tzif_block_size(&c, 4);
	if (version >= '2') {
		/* Skip the 32-bit block for the 64-bit one that follows it. */
		if (len - off < block)
			return -EBADMSG;
		off += block;
		r = tzif_header(data + off, len - off, &c, &version);
		if (r < 0)
			return r;
		off += 44;
		time_size = 8;
		block = tzif_block_size(&c, 8);
	}
	if (len - off < block)
		return -EBADMSG;
	p = data + off;
	tz->n_times = c.time;
	tz->n_offsets = c.type;
	tz->times = calloc(c.time ? c.time : 1, sizeof(*tz->times));
	tz->types = calloc(c.time ? c.time : 1, 1);
	tz->offsets = calloc(c.type, sizeof(*tz->offsets));
	if (!tz->times || !tz->types || !tz->offsets)
		return -ENOMEM;
	for (size_t i = 0; i < c.time; i++) {
		tz->times[i] = time_size == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);
		if (i && tz->times[i] <= tz->times[i - 1])
			return -EBADMSG;
	}
	p += c.time * time_size;
	for (size_t i = 0; i < c.time; i++) {
		tz->types[i] = p[i];
		if (p[i] >= c.type)
			return -EBADMSG;
	}
	p += c.time;
	for (size_t i = 0; i < c.type; i++) {
		int32_t utoff = (int32_t)be32(p + 6 * i);

		if (utoff < -25 * 3600 || utoff > 26 * 3600)
			return -EBADMSG;
		tz->offsets[i] = utoff;
	}
	off += block;
	/* The footer: "\n<POSIX TZ string>\n", possibly empty. */
	if (version >= '2' && off < len && data[off] == '\n') {
		const uint8_t *end = memchr(data + off + 1, '\n', len - off - 1);
		char rule[128];
		size_t n;

		if (!end)
			return -EBADMSG;
		n = (size_t)(end - (data + off + 1));
		if (n >= sizeof(rule))
			return -EBADMSG;
		memcpy(rule, data + off + 1, n);
		rule[n] = '\0';
		if (n) {
			if (posix_tz_parse(rule, &tz->rule) < 0)
				return -EBADMSG;
			tz->has_rule = true;
		}
	}
	return 0;
}

static bool tz_name_ok(const char *name)
{
	if (name[0] == '/' || strstr(name, "..") || strlen(name) > 200)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
			return false;
	return true;
}

static bool is_utc_name(const char *name)
{
	return !name || !name[0] || !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") ||
	       !strcmp(name, "Z") || !strcmp(name, "Etc/UCT") || !strcmp(name, "UCT") ||
	       !strcmp(name, "Zulu") || !strcmp(name, "Etc/Zulu") || !strcmp(name, "Universal") ||
	       !strcmp(name, "Etc/Universal");
}

static int read_small_file(const char *path, uint8_t **ret, size_t *ret_len)
{
	int r =
	    file_read_at(AT_FDCWD, path, O_NONBLOCK, TZIF_MAX_SIZE, (char **)ret, ret_len, NULL);

	return r == -EINVAL || r == -EFBIG ? -EBADMSG : r;
}

int ing_tz_load(const char *name, struct ing_tz **ret, struct err_detail *reterr)
{
	struct ing_tz *tz;
	auto_free uint8_t *data = NULL;
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	size_t len = 0;
	int r;

	if (!is_utc_name(name) && !tz_name_ok(name))
		return err_set(reterr, -EINVAL,
			       _("'%s' is not a time zone name (like "
				 "'Asia/Shanghai' or 'UTC')"),
			       name);
	tz = calloc(1, sizeof(*tz));
	if (!tz)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	tz->name = strdup(is_utc_name(name) ? "UTC" : name);
	if (!tz->name) {
		ing_tz_free(tz);
		return err_set(reterr, -ENOMEM, _("out of memory"));
	}
	if (is_utc_name(name)) {
		*ret = tz;
		return 0;
	}
	if (!dir || !dir[0])
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		ing_tz_free(tz);
		return err_set(reterr, -EINVAL, _("time zone name '%s' is too long"), name);
	}
	r = read_small_file(path, &data, &len);
	if (r == -ENOENT || r == -ENOTDIR || r == -EISDIR) {
		ing_tz_free(tz);
		return err_set(reterr, -ENOENT,
			       _("no time zone '%s' in the TZ database ('%s' does not "
				 "exist; is the tzdata package installed?)"),
			       name, path);
	}
	if (r == 0)
		r = tzif_parse(data, len, tz);
	if (r < 0) {
		ing_tz_free(tz);
		if (r == -ENOMEM)
			return err_set(reterr, r, _("out of memory"));
		if (r == -EBADMSG)
			return err_set(reterr, r, _("'%s' is not a valid TZif file"), path);
		return err_set(reterr, -EIO, _("cannot read '%s': %s"), path, strerror(-r));
	}
	*ret = tz;
	return 0;
}

struct ing_tz *ing_tz_free(struct ing_tz *tz)
{
	if (!tz)
		return NULL;
	free(tz->name);
	free(tz->times);
	free(tz->types);
	free(tz->offsets);
	free(tz);
	return NULL;
}

const char *ing_tz_name(const struct ing_tz *tz)
{
	return tz ? tz->name : "UTC";
}

int32_t ing_tz_offset(const struct ing_tz *tz, int64_t utc)
{
	size_t last;

	if (!tz || !tz->n_offsets)
		return 0;
	/* RFC 8536 §3.2: the footer's rule after the last transition (or always, when there is
	 * none), type 0 before the first. */
	if (tz->has_rule && (!tz->n_times || utc >= tz->times[tz->n_times - 1]))
		return posix_tz_offset(&tz->rule, utc);
	if (!tz->n_times || utc < tz->times[0])
		return tz->offsets[0];
	/* The last transition at or before @utc (times[0] is, so there is one). */
	last = LOWER_BOUND(tz->n_times, mid, tz->times[mid] <= utc) - 1;
	return tz->offsets[tz->types[last]];
}

int ing_tz_local_to_utc(const struct ing_tz *tz, const struct ing_civil *local, int64_t *ret_us)
{
	const int64_t window = 26 * 3600;
	int64_t t, a, b;
	int32_t oa, ob;
	bool va, vb;

	if (!ing_civil_valid(local))
		return -EINVAL;
	t = civil_seconds(local);
	oa = ing_tz_offset(tz, t - window);
	ob = ing_tz_offset(tz, t + window);
	a = t - oa;
	b = t - ob;
	va = ing_tz_offset(tz, a) == oa;
	vb = ing_tz_offset(tz, b) == ob;
	if (va && vb)
		t = a < b ? a : b; /* it happened twice: the earlier */
	else if (vb)
		t = b;
	else
		t = a; /* valid, or never happened: the offset before the change */
	*ret_us = t * 1000000 + local->usec;
	return 0;
}

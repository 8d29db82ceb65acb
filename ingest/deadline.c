/* deadline.c: when a recording was made (SPEC §6): time zones, file-name patterns, and the
 * choice between creation_time, the name and the mtime.
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
 * Name patterns are compiled once and matched by backtracking over at most three variable
 * fields; the start is a fixed-width run of digits, so matching is quadratic in the name length
 * at worst (names are at most 255 bytes).
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

#include "cleanup.h"
#include "deadline.h"
#include "err.h"
#include "fingerprint.h"
#include "ingest-internal.h"

#define DAY 86400
#define TZIF_MAX_SIZE (1024 * 1024)
#define TZIF_MAX_TIMES 100000

/* ---- calendar ------------------------------------------------------------------------------ */

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ret_y, int *ret_m, int *ret_d)
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
	return days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second;
}

static bool civil_valid(const struct ing_civil *c)
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
		ret->start = (struct rule_date){.kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
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
		day = days_from_civil(y, 1, 1) + r->n - 1;
		if (is_leap(y) && r->n >= 60)
			day++;
	} else if (r->kind == 'D') {
		day = days_from_civil(y, 1, 1) + r->n;
	} else {
		int64_t first = days_from_civil(y, r->m, 1);
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
	civil_from_days((t + tz->std_off) / DAY - ((t + tz->std_off) % DAY < 0), &y, &m, &d);
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
	int64_t *times;  /* transition instants, ascending */
	uint8_t *types;  /* type index of each transition */
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
	auto_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	uint8_t *buf;
	size_t len = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > TZIF_MAX_SIZE)
		return -EBADMSG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
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
		return err_set(reterr, -EINVAL, "'%s' is not a time zone name (like "
			       "'Asia/Shanghai' or 'UTC')", name);
	tz = calloc(1, sizeof(*tz));
	if (!tz)
		return err_set(reterr, -ENOMEM, "out of memory");
	tz->name = strdup(is_utc_name(name) ? "UTC" : name);
	if (!tz->name) {
		ing_tz_free(tz);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (is_utc_name(name)) {
		*ret = tz;
		return 0;
	}
	if (!dir || !dir[0])
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		ing_tz_free(tz);
		return err_set(reterr, -EINVAL, "time zone name '%s' is too long", name);
	}
	r = read_small_file(path, &data, &len);
	if (r == -ENOENT || r == -ENOTDIR || r == -EISDIR) {
		ing_tz_free(tz);
		return err_set(reterr, -ENOENT,
			       "no time zone '%s' in the TZ database ('%s' does not "
			       "exist; is the tzdata package installed?)",
			       name, path);
	}
	if (r == 0)
		r = tzif_parse(data, len, tz);
	if (r < 0) {
		ing_tz_free(tz);
		if (r == -ENOMEM)
			return err_set(reterr, r, "out of memory");
		if (r == -EBADMSG)
			return err_set(reterr, r, "'%s' is not a valid TZif file", path);
		return err_set(reterr, -EIO, "cannot read '%s': %s", path, strerror(-r));
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
	size_t lo = 0, hi;

	if (!tz || !tz->n_offsets)
		return 0;
	/* RFC 8536 §3.2: the footer's rule after the last transition (or always, when there is
	 * none), type 0 before the first. */
	if (tz->has_rule && (!tz->n_times || utc >= tz->times[tz->n_times - 1]))
		return posix_tz_offset(&tz->rule, utc);
	if (!tz->n_times || utc < tz->times[0])
		return tz->offsets[0];
	/* The last transition at or before @utc. */
	hi = tz->n_times;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->times[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return tz->offsets[tz->types[lo]];
}

int ing_tz_local_to_utc(const struct ing_tz *tz, const struct ing_civil *local, int64_t *ret_us)
{
	const int64_t window = 26 * 3600;
	int64_t t, a, b;
	int32_t oa, ob;
	bool va, vb;

	if (!civil_valid(local))
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

/* ---- name patterns ------------------------------------------------------------------------- */

enum tok_kind { TOK_LIT, TOK_DEVICE, TOK_OFFICER, TOK_SEQ, TOK_START };

struct tok {
	enum tok_kind kind;
	char *text; /* TOK_LIT: the text; TOK_START: the format with %F and %T expanded */
	size_t len;
};

struct ing_name_pattern {
	char *text;
	size_t n;
	struct tok *toks;
};

struct ing_name_pattern *ing_name_pattern_free(struct ing_name_pattern *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n; i++)
		free(p->toks[i].text);
	free(p->toks);
	free(p->text);
	free(p);
	return NULL;
}

const char *ing_name_pattern_text(const struct ing_name_pattern *p)
{
	return p->text;
}

static int add_tok(struct ing_name_pattern *p, enum tok_kind kind, const char *text, size_t len)
{
	struct tok *toks = realloc(p->toks, (p->n + 1) * sizeof(*toks));

	if (!toks)
		return -ENOMEM;
	p->toks = toks;
	toks[p->n] = (struct tok){ .kind = kind, .len = len };
	if (text) {
		toks[p->n].text = strndup(text, len);
		if (!toks[p->n].text)
			return -ENOMEM;
	}
	p->n++;
	return 0;
}

static const char *const field_names[] = {
	[TOK_DEVICE] = "device", [TOK_OFFICER] = "officer", [TOK_SEQ] = "seq", [TOK_START] = "start"
};

/* Check and expand {start:FORMAT} (@fmt, @len bytes, at column @col). */
static int compile_start(struct ing_name_pattern *p, const char *fmt, size_t len, unsigned col,
			 struct err_detail *reterr)
{
	char out[256];
	size_t o = 0;
	unsigned seen = 0; /* bit per conversion letter */
	const char *letters = "YymdHMSjf";

	for (size_t i = 0; i < len; i++) {
		const char *exp = NULL;
		char one[3] = { 0 };
		char c;

		if (fmt[i] != '%') {
			if (fmt[i] == '{' || fmt[i] == '}')
				return err_set_line(reterr, -EINVAL, col, "column %u: '%c' inside "
						    "{start:…}", col, fmt[i]);
			one[0] = fmt[i];
			exp = one;
		} else {
			const char *at;

			if (++i == len)
				return err_set_line(reterr, -EINVAL, col,
						    "column %u: {start:…} ends "
						    "with a lone '%%'",
						    col);
			c = fmt[i];
			if (c == 'F')
				exp = "%Y-%m-%d";
			else if (c == 'T')
				exp = "%H:%M:%S";
			else if (c == '%')
				exp = "%%";
			else if ((at = strchr(letters, c)) && c) {
				unsigned bit = 1u << (at - letters);

				if (seen & bit)
					return err_set_line(reterr, -EINVAL, col, "column %u: %%%c "
							    "appears twice in {start:…}", col, c);
				seen |= bit;
				one[0] = '%';
				one[1] = c;
				exp = one;
			} else {
				return err_set_line(
				    reterr, -EINVAL, col,
				    "column %u: %%%c is not "
				    "supported in {start:…} (use %%Y %%y %%m %%d %%H "
				    "%%M %%S %%j %%f %%F %%T %%%%)",
				    col, c);
			}
			/* %F and %T bring their own conversions: count them too. */
			for (const char *e = exp; c != '%' && *e; e++)
				if (*e == '%' && e[1] != c) {
					unsigned bit = 1u << (strchr(letters, e[1]) - letters);

					if (seen & bit)
						return err_set_line(reterr, -EINVAL, col,
								    "column %u: "
								    "%%%c appears twice in "
								    "{start:…}",
								    col, e[1]);
					seen |= bit;
				}
		}
		if (o + strlen(exp) >= sizeof(out))
			return err_set_line(reterr, -EINVAL, col,
					    "column %u: {start:…} is too long", col);
		memcpy(out + o, exp, strlen(exp));
		o += strlen(exp);
	}
#define SEEN(c) (seen & (1u << (strchr(letters, c) - letters)))
	if (!(SEEN('Y') || SEEN('y')) || !((SEEN('m') && SEEN('d')) || SEEN('j')))
		return err_set_line(reterr, -EINVAL, col,
				    "column %u: {start:…} needs a date: %%Y "
				    "(or %%y) with %%m and %%d, or with %%j",
				    col);
	if ((SEEN('Y') && SEEN('y')) || (SEEN('j') && (SEEN('m') || SEEN('d'))))
		return err_set_line(reterr, -EINVAL, col, "column %u: {start:…} gives the date "
				    "twice", col);
	if (!SEEN('H') || !SEEN('M'))
		return err_set_line(reterr, -EINVAL, col,
				    "column %u: {start:…} needs the time of "
				    "day: at least %%H and %%M",
				    col);
	if (SEEN('f') && !SEEN('S'))
		return err_set_line(reterr, -EINVAL, col, "column %u: %%f (microseconds) needs %%S",
				    col);
#undef SEEN
	return add_tok(p, TOK_START, out, o);
}

int ing_name_pattern_parse(const char *text, struct ing_name_pattern **ret,
			   struct err_detail *reterr)
{
	struct ing_name_pattern *p = calloc(1, sizeof(*p));
	char lit[256];
	size_t n = 0;
	unsigned used = 0;
	enum tok_kind prev = TOK_LIT;
	int r = 0;

	if (!p || !(p->text = strdup(text))) {
		ing_name_pattern_free(p);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (!text[0]) {
		r = err_set(reterr, -EINVAL, "the name pattern is empty");
		goto fail;
	}
	for (const char *s = text; *s;) {
		unsigned col = (unsigned)(s - text) + 1;

		if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
			if (n + 1 >= sizeof(lit))
				goto too_long;
			lit[n++] = s[0];
			s += 2;
			continue;
		}
		if (*s == '}') {
			r = err_set_line(reterr, -EINVAL, col, "column %u: '}' without '{' (write "
					 "'}}' for a literal brace)", col);
			goto fail;
		}
		if (*s != '{') {
			if (n + 1 >= sizeof(lit))
				goto too_long;
			if (*s == '/') {
				r = err_set_line(reterr, -EINVAL, col, "column %u: '/' cannot be "
						 "part of a file name", col);
				goto fail;
			}
			lit[n++] = *s++;
			continue;
		}
		{
			const char *end = strchr(s, '}');
			const char *name = s + 1;
			size_t name_len;
			enum tok_kind kind;

			if (!end) {
				r = err_set_line(reterr, -EINVAL, col,
						 "column %u: '{' is not closed "
						 "by '}'",
						 col);
				goto fail;
			}
			name_len = (size_t)(end - name);
			if (name_len == 6 && !memcmp(name, "device", 6))
				kind = TOK_DEVICE;
			else if (name_len == 7 && !memcmp(name, "officer", 7))
				kind = TOK_OFFICER;
			else if (name_len == 3 && !memcmp(name, "seq", 3))
				kind = TOK_SEQ;
			else if (name_len >= 6 && !memcmp(name, "start:", 6))
				kind = TOK_START;
			else if (name_len == 5 && !memcmp(name, "start", 5)) {
				r = err_set_line(reterr, -EINVAL, col,
						 "column %u: {start} needs its "
						 "format, e.g. {start:%%Y%%m%%d%%H%%M%%S}",
						 col);
				goto fail;
			} else {
				r = err_set_line(reterr, -EINVAL, col,
						 "column %u: unknown field "
						 "'{%.*s}' (known: {device}, {officer}, {seq}, "
						 "{start:FORMAT})",
						 col, (int)(name_len < 40 ? name_len : 40), name);
				goto fail;
			}
			if (used & (1u << kind)) {
				r = err_set_line(reterr, -EINVAL, col,
						 "column %u: {%s} appears twice", col,
						 field_names[kind]);
				goto fail;
			}
			used |= 1u << kind;
			if (n) {
				r = add_tok(p, TOK_LIT, lit, n);
				if (r < 0)
					goto nomem;
				n = 0;
				prev = TOK_LIT;
			}
			if (kind != TOK_START && prev != TOK_LIT && prev != TOK_START) {
				r = err_set_line(reterr, -EINVAL, col,
						 "column %u: {%s} follows {%s} "
						 "with nothing between them, so they could not be "
						 "told apart: put literal text between",
						 col, field_names[kind], field_names[prev]);
				goto fail;
			}
			if (kind == TOK_START) {
				r = compile_start(p, name + 6, name_len - 6, col, reterr);
				if (r == -ENOMEM)
					goto nomem;
				if (r < 0)
					goto fail;
			} else {
				r = add_tok(p, kind, NULL, 0);
				if (r < 0)
					goto nomem;
			}
			prev = kind;
			s = end + 1;
		}
	}
	if (n && (r = add_tok(p, TOK_LIT, lit, n)) < 0)
		goto nomem;
	*ret = p;
	return 0;
too_long:
	r = err_set(reterr, -EINVAL, "the name pattern's literal text is longer than %zu bytes",
		    sizeof(lit) - 1);
	goto fail;
nomem:
	r = err_set(reterr, -ENOMEM, "out of memory");
fail:
	ing_name_pattern_free(p);
	return r;
}

static int digits(const char *s, size_t avail, int n, int *ret)
{
	int v = 0;

	if ((size_t)n > avail)
		return -1;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Read the start at @s (@avail bytes) with the expanded @fmt.  @return bytes used, or -1. */
static int read_start(const char *fmt, const char *s, size_t avail, struct ing_civil *c)
{
	int year = -1, yy = -1, month = 1, day = 1, yday = -1, v;
	size_t o = 0;

	memset(c, 0, sizeof(*c));
	for (const char *f = fmt; *f; f++) {
		int width;
		int *dst;

		if (*f != '%' || f[1] == '%') {
			if (o >= avail || s[o] != *f)
				return -1;
			o++;
			if (*f == '%')
				f++;
			continue;
		}
		switch (*++f) {
		case 'Y': width = 4, dst = &year; break;
		case 'y': width = 2, dst = &yy; break;
		case 'm': width = 2, dst = &month; break;
		case 'd': width = 2, dst = &day; break;
		case 'H': width = 2, dst = &c->hour; break;
		case 'M': width = 2, dst = &c->minute; break;
		case 'S': width = 2, dst = &c->second; break;
		case 'j': width = 3, dst = &yday; break;
		case 'f': width = 6, dst = &c->usec; break;
		default: return -1;
		}
		if (digits(s + o, avail - o, width, &v) < 0)
			return -1;
		*dst = v;
		o += (size_t)width;
	}
	c->year = year >= 0 ? year : 2000 + yy;
	if (yday >= 0) {
		int64_t y;

		if (yday < 1 || yday > (is_leap(c->year) ? 366 : 365))
			return -1;
		civil_from_days(days_from_civil(c->year, 1, 1) + yday - 1, &y, &month, &day);
	}
	c->month = month;
	c->day = day;
	return civil_valid(c) ? (int)o : -1;
}

/* A field's text must be UTF-8 without control characters (it ends up in log entries and on
 * terminals): C0, DEL and C1 (U+0080..U+009F, c2 80..c2 9f; U+009B is a CSI to some
 * terminals).  The C1 check was missing until tests/fuzz/fuzz_pattern.c found it. */
static bool field_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len == 0 || len >= ING_NAME_FIELD_MAX)
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = ing__utf8_seq(u + i, len - i);

		if (n == 0 || u[i] < 0x20 || u[i] == 0x7f || u[i] == '/' ||
		    (n == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0))
			return false;
		i += n;
	}
	return true;
}

static bool match_from(const struct ing_name_pattern *p, size_t ti, const char *s, size_t len,
		       struct ing_name_fields *f)
{
	const struct tok *t;

	if (ti == p->n)
		return len == 0;
	t = &p->toks[ti];
	switch (t->kind) {
	case TOK_LIT:
		return len >= t->len && !memcmp(s, t->text, t->len) &&
		       match_from(p, ti + 1, s + t->len, len - t->len, f);
	case TOK_START: {
		int used = read_start(t->text, s, len, &f->start);

		if (used < 0)
			return false;
		f->has_start = true;
		return match_from(p, ti + 1, s + used, len - (size_t)used, f);
	}
	default: {
		char *dst = t->kind == TOK_DEVICE ? f->device
			    : t->kind == TOK_OFFICER ? f->officer : f->seq;

		/* The shortest text that lets the rest match. */
		for (size_t n = 1; n <= len && n < ING_NAME_FIELD_MAX; n++) {
			if (!match_from(p, ti + 1, s + n, len - n, f))
				continue;
			if (!field_ok(s, n))
				return false;
			memcpy(dst, s, n);
			dst[n] = '\0';
			return true;
		}
		return false;
	}
	}
}

int ing_name_pattern_match(const struct ing_name_pattern *p, const char *name,
			   struct ing_name_fields *ret)
{
	struct ing_name_fields f;
	const char *dot = strrchr(name, '.');
	size_t len = strlen(name);

	if (len > 255)
		return -ENOENT;
	/* Without the extension first: a pattern ending in {seq} would swallow it. */
	if (dot && dot != name) {
		memset(&f, 0, sizeof(f));
		if (match_from(p, 0, name, (size_t)(dot - name), &f)) {
			*ret = f;
			return 0;
		}
	}
	memset(&f, 0, sizeof(f));
	if (match_from(p, 0, name, len, &f)) {
		*ret = f;
		return 0;
	}
	return -ENOENT;
}

/* ---- dates as text ---------------------------------------------------------------------- */

static const char *num(const char *s, int n, int *ret)
{
	int v;

	if (digits(s, strnlen(s, (size_t)n), n, &v) < 0)
		return NULL;
	*ret = v;
	return s + n;
}

int ing_parse_datetime(const char *s, struct ing_civil *ret, char *ret_zone,
		       int32_t *ret_offset_s)
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
	if (*p || !civil_valid(&c))
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
	civil_from_days(days, &y, &m, &d);
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
	case ING_TIME_TAG: return "tag";
	case ING_TIME_FILENAME: return "filename";
	case ING_TIME_MTIME: return "mtime";
	default: return NULL;
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

/* libFuzzer target: the file-name pattern parser and matcher, and the date-time parser behind
 * recording times (ingest/namepattern.c, ingest/rectime.c).
 *
 * The input is "PATTERN\nNAME": the pattern is compiled (ing_name_pattern_parse()) and, when it
 * compiles, NAME is matched against it; NAME is also matched against three fixed patterns that
 * use every field and conversion (so mutations of names reach the matcher even when the
 * pattern part does not compile); and the whole input goes to ing_parse_datetime() and, as a
 * creation_time tag, with NAME as the file name, to ing_recording_time() in Europe/Berlin.
 * Checked beyond the sanitizers, from namepattern.h and rectime.h:
 * - a pattern that fails has its error in reterr; one that compiles gives its text back;
 * - a match fills fields that are NUL-terminated, valid UTF-8, free of control characters and
 *   '/', and empty when the pattern lacks them; its start is a real time (converts to UTC);
 * - a date-time that parses has fields within their ranges. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/tz.h"
#include "ingest/namepattern.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "base/utf8.h"

static const char *const fixed_texts[] = {
	"{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}",
	"{{{device}}}-{start:%F %T.%f}-{seq}",
	"{officer}@{start:%y%j%H%M}~{device}",
};
#define NFIXED (sizeof(fixed_texts) / sizeof(fixed_texts[0]))
static struct ing_name_pattern *fixed[NFIXED];
static struct ing_tz *berlin;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err_detail e;

	(void)argc, (void)argv;
	for (size_t i = 0; i < NFIXED; i++)
		if (ing_name_pattern_parse(fixed_texts[i], &fixed[i], &e) < 0) {
			fprintf(stderr, "fuzz_pattern: '%s': %s\n", fixed_texts[i], e.msg);
			exit(2);
		}
	if (ing_tz_load("Europe/Berlin", &berlin, &e) < 0) {
		fprintf(stderr, "fuzz_pattern: Europe/Berlin: %s (tzdata installed?)\n", e.msg);
		exit(2);
	}
	return 0;
}

/* @present: 1 the pattern has the field (so it matched one character or more), 0 it has not
 * (so it is empty), -1 unknown. */
static void check_field(const char *what, const char *f, int present, const char *pattern,
			const char *name)
{
	size_t n = strnlen(f, ING_NAME_FIELD_MAX);
	bool bad = n == ING_NAME_FIELD_MAX || !utf8_valid(f, n) || strchr(f, '/') ||
		   (present == 0 && n) || (present == 1 && !n);

	for (size_t i = 0; !bad && i < n;) {
		uint32_t cp;
		size_t l = utf8_decode((const uint8_t *)f + i, n - i, &cp);

		bad = !l || utf8_is_control(cp);
		i += l ? l : 1;
	}
	if (bad) {
		fprintf(stderr, "fuzz_pattern: '%s' matched by '%s' gives %s '%.*s'\n", name,
			pattern, what, (int)n, f);
		abort();
	}
}

/* @known: @p is one of the fixed patterns, whose fields strstr() tells (a fuzzed one may have
 * "{device}" inside literal braces or a {start:…} format). */
static void match(const struct ing_name_pattern *p, const char *name, bool known)
{
	const char *text = ing_name_pattern_text(p);
	bool braces = !known;
	struct ing_name_fields f;
	int64_t us;

	if (ing_name_pattern_match(p, name, &f) < 0)
		return;
	check_field("device", f.device, braces ? -1 : strstr(text, "{device}") != NULL, text, name);
	check_field("officer", f.officer, braces ? -1 : strstr(text, "{officer}") != NULL, text,
		    name);
	check_field("seq", f.seq, braces ? -1 : strstr(text, "{seq}") != NULL, text, name);
	if (f.has_start && (ing_tz_local_to_utc(NULL, &f.start, &us) < 0 ||
			    ing_tz_local_to_utc(berlin, &f.start, &us) < 0)) {
		fprintf(stderr,
			"fuzz_pattern: '%s' matched by '%s' gives a start that is not a "
			"time: %04d-%02d-%02d %02d:%02d:%02d.%06d\n",
			name, text, f.start.year, f.start.month, f.start.day, f.start.hour,
			f.start.minute, f.start.second, f.start.usec);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1), *name;
	struct ing_name_pattern *p = NULL;
	struct err_detail e = { 0 };
	struct ing_recording rec;
	struct ing_civil c;
	int32_t off;
	char zone;
	int r;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	/* The whole input as a date-time and as a creation_time tag. */
	if (ing_parse_datetime(in, &c, &zone, &off) == 0 &&
	    (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31 || c.hour < 0 || c.hour > 23 ||
	     c.minute < 0 || c.minute > 59 || c.second < 0 || c.second > 60 || c.usec < 0 ||
	     c.usec > 999999 || !strchr("ZON", zone) ||
	     (zone == 'O' && (off <= -86400 || off >= 86400)))) {
		fprintf(stderr, "fuzz_pattern: '%s' parses to %d-%d-%d %d:%d:%d.%d %c%d\n", in,
			c.year, c.month, c.day, c.hour, c.minute, c.second, c.usec, zone, off);
		abort();
	}

	name = strchr(in, '\n');
	if (name)
		*name++ = '\0';
	else
		name = in;
	{
		struct ing_time_rules rules = { .device_clock = berlin,
						.name_pattern = fixed[0],
						.clock_skew_us = 600000000 };
		struct ing_time_input ti = { .creation_time = in,
					     .duration_us = 60000000,
					     .mtime_us = 1717200000000000,
					     .name = name };

		ing_recording_time(&ti, &rules, 1717200000000000, &rec);
	}

	r = ing_name_pattern_parse(in, &p, &e);
	if (r < 0) {
		if (e.code != r || !e.msg[0] || p) {
			fprintf(stderr, "fuzz_pattern: '%s' fails with %d, detail %d '%s'\n", in, r,
				e.code, e.msg);
			abort();
		}
	} else {
		if (strcmp(ing_name_pattern_text(p), in)) {
			fprintf(stderr, "fuzz_pattern: '%s' compiles to text '%s'\n", in,
				ing_name_pattern_text(p));
			abort();
		}
		match(p, name, false);
		ing_name_pattern_free(p);
	}
	for (size_t i = 0; i < NFIXED; i++)
		match(fixed[i], name, true);
	free(in);
	return 0;
}

/* ctl/review.c: custodyctl's text and CSV forms of `review` and `report` (the JSON is
 * docs/review-format.md).  Runs in custodyctl only; pure formatting.
 *
 * The text is for a legal reviewer reading a terminal or a printout: every clip on one or two
 * lines, gaps between the clips they separate, every open item with the command that closes
 * it, and the verdict as the last line so that `| tail -1` gives it.  Fields the daemon
 * leaves out or sends as null print as "unknown" rather than failing: an old daemon, or a
 * hand-made log, must still be readable.
 *
 * Names, devices, officers, reasons, errors and the daemon's messages (which quote them) come
 * from file names and from people: before printing, every string of the answer goes through
 * utf8_for_terminal(), so that no escape sequence, newline, bidi override or invalid byte
 * reaches the terminal as itself (one could move the cursor, or fake the verdict line).  The
 * CSV is data for a spreadsheet, not a terminal: its names are quoted, not altered. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/review.h"
#include "base/utf8.h"

/* Make every string of @v (in place) safe for a terminal.  @return 0, -1 (out of memory). */
static int terminal_safe(json_t *v)
{
	const char *key;
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach(v, key, m)
			if (terminal_safe(m) < 0)
				return -1;
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, m)
			if (terminal_safe(m) < 0)
				return -1;
		return 0;
	case JSON_STRING: {
		char *safe = utf8_for_terminal(json_string_value(v), json_string_length(v));
		int r = safe ? json_string_set(v, safe) : -1;

		free(safe);
		return r < 0 ? -1 : 0;
	}
	default:
		return 0;
	}
}

json_t *ctl_terminal_copy(const json_t *v)
{
	json_t *copy = json_deep_copy(v);

	if (copy && terminal_safe(copy) < 0)
		copy = (json_decref(copy), NULL);
	if (!copy)
		fprintf(stderr, "custodyctl: out of memory for printing the answer\n");
	return copy;
}

static const char *str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void duration(json_int_t us, char *out, size_t len)
{
	json_int_t s = us / 1000000;

	if (s >= 3600)
		snprintf(out, len,
			 "%" JSON_INTEGER_FORMAT "h%02" JSON_INTEGER_FORMAT
			 "m%02" JSON_INTEGER_FORMAT "s",
			 s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, len, "%" JSON_INTEGER_FORMAT "m%02" JSON_INTEGER_FORMAT "s", s / 60,
			 s % 60);
}

static const char *storage_text(const char *word)
{
	if (!word)
		return "unknown";
	if (!strcmp(word, "on_time"))
		return "on time";
	if (!strcmp(word, "on_time_remote"))
		return "on time after remote duty";
	if (!strcmp(word, "late"))
		return "LATE";
	if (!strcmp(word, "unknown_time"))
		return "no trustworthy recording time";
	return word;
}

/* The open items naming entry @index, as one word list: "LATE, DAMAGED". */
static void clip_flags(const json_t *open, json_int_t index, char *buf, size_t len)
{
	size_t o = 0, i;
	const json_t *item;

	buf[0] = '\0';
	json_array_foreach(open, i, item) {
		const char *kind = str(item, "kind", "?");
		int n;

		if (!strcmp(kind, "gap") || num(item, "entry") != index ||
		    !json_is_integer(json_object_get(item, "entry")))
			continue;
		n = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", kind);
		if (n < 0 || (size_t)n >= len - o)
			return;
		o += (size_t)n;
	}
}

static void print_ids(FILE *out, const json_t *list)
{
	size_t i;
	const json_t *v;

	json_array_foreach(list, i, v)
		fprintf(out, "%s%" JSON_INTEGER_FORMAT, i ? ", " : "", json_integer_value(v));
}

static void print_clip(FILE *out, const json_t *clip, const json_t *open)
{
	const json_t *dur = json_object_get(clip, "duration_us");
	const json_t *explained = json_object_get(clip, "explained_by");
	const char *storage = str(clip, "storage", NULL);
	const char *now = str(clip, "storage_now", storage);
	char d[32] = "length unknown", flags[256];

	if (json_is_integer(dur))
		duration(json_integer_value(dur), d, sizeof(d));
	clip_flags(open, num(clip, "index"), flags, sizeof(flags));
	fprintf(out, "  entry %-6" JSON_INTEGER_FORMAT " %s to %s (%s), officer %s%s%s\n",
		num(clip, "index"), str(clip, "recorded_start", "unknown"),
		str(clip, "recorded_end", "unknown"), d, str(clip, "officer", "unknown"),
		flags[0] ? "   OPEN: " : "", flags);
	fprintf(out, "               '%s' (zone %s, time from %s%s)\n", str(clip, "name", "?"),
		str(clip, "zone", "?"), str(clip, "time_source", "nothing"),
		json_is_true(json_object_get(clip, "time_in_future")) ? ", IN THE FUTURE" : "");
	fprintf(out, "               stored %s, deadline %s: %s", str(clip, "ingested_at", "?"),
		str(clip, "deadline", "none"), storage_text(now));
	if (storage && now && strcmp(storage, now))
		fprintf(out, " (logged %s)", storage_text(storage));
	if (json_array_size(explained)) {
		fprintf(out, ", explained by entry ");
		print_ids(out, explained);
	}
	fprintf(out, "; original %s", str(clip, "integrity", "not checked"));
	if (json_is_string(json_object_get(clip, "integrity_error")))
		fprintf(out, " (%s)", str(clip, "integrity_error", ""));
	fputc('\n', out);
	if (json_is_true(json_object_get(clip, "damaged"))) {
		fprintf(out, "               DAMAGED: %s; ",
			str(clip, "error", "no error recorded"));
		if (json_is_integer(json_object_get(clip, "damage_report")))
			fprintf(out, "reported in entry %" JSON_INTEGER_FORMAT "\n",
				num(clip, "damage_report"));
		else
			fprintf(out, "NO DAMAGE REPORT\n");
	}
}

static void print_gap(FILE *out, const json_t *gap)
{
	fprintf(out, "  -- gap of %" JSON_INTEGER_FORMAT " s from %s to %s: ", num(gap, "seconds"),
		str(gap, "from", "?"), str(gap, "to", "?"));
	if (json_is_integer(json_object_get(gap, "explained_by")))
		fprintf(out, "explained by entry %" JSON_INTEGER_FORMAT " (%s)\n",
			num(gap, "explained_by"), str(gap, "reason", "no reason given"));
	else
		fprintf(out, "UNEXPLAINED\n");
}

static bool gap_clip_listed(const json_t *gap, const json_t *clips)
{
	const json_t *clip;
	size_t k;

	if (!json_is_integer(json_object_get(gap, "before")))
		return false;
	json_array_foreach(clips, k, clip)
		if (num(gap, "before") == num(clip, "index"))
			return true;
	return false;
}

static int review_print(const json_t *review, FILE *out)
{
	const json_t *open = json_object_get(review, "open");
	const json_t *devices = json_object_get(review, "devices"), *dev, *item, *a;
	const json_t *accesses = json_object_get(review, "accesses");
	size_t i, k, g;

	fprintf(out, "case %s, reviewed %s", str(review, "case", "?"), str(review, "as_of", "?"));
	if (json_is_integer(json_object_get(review, "checkpoint_size")))
		fprintf(out, " (newest checkpoint: log size %" JSON_INTEGER_FORMAT ")",
			num(review, "checkpoint_size"));
	if (json_array_size(json_object_get(review, "bound_by"))) {
		fprintf(out, "\nbound to the case by annotation%s ",
			json_array_size(json_object_get(review, "bound_by")) == 1 ? "" : "s");
		print_ids(out, json_object_get(review, "bound_by"));
		fputc('\n', out);
	} else {
		fprintf(out, "\nno annotation binds a clip to the case\n");
	}
	json_array_foreach(devices, i, dev) {
		const json_t *clips = json_object_get(dev, "clips"), *clip;
		const json_t *gaps = json_object_get(dev, "gaps"), *gap;

		fprintf(out, "\ndevice %s: %zu clip%s, %zu gap%s\n",
			str(dev, "device", "(none: no continuity check)"), json_array_size(clips),
			json_array_size(clips) == 1 ? "" : "s", json_array_size(gaps),
			json_array_size(gaps) == 1 ? "" : "s");
		json_array_foreach(clips, k, clip) {
			/* A gap goes just before the clip that ended it. */
			json_array_foreach(gaps, g, gap)
				if (json_is_integer(json_object_get(gap, "before")) &&
				    num(gap, "before") == num(clip, "index"))
					print_gap(out, gap);
			print_clip(out, clip, open);
		}
		/* A gap whose clip is not listed is still a gap the reviewer must see. */
		json_array_foreach(gaps, g, gap)
			if (!gap_clip_listed(gap, clips))
				print_gap(out, gap);
	}
	if (json_array_size(open)) {
		fprintf(out, "\nopen items (%zu):\n", json_array_size(open));
		json_array_foreach(open, i, item)
			fprintf(out, "  %-12s %s\n", str(item, "kind", "?"),
				str(item, "message", ""));
	}
	fprintf(out, "\naccesses to these clips (%" JSON_INTEGER_FORMAT "%s):\n",
		json_is_integer(json_object_get(review, "accesses_total"))
		    ? num(review, "accesses_total")
		    : (json_int_t)json_array_size(accesses),
		json_array_size(accesses) < (size_t)num(review, "accesses_total")
		    ? "; listed: each clip's newest reads and refusals and every copy-out, at "
		      "most 10,000; `custodyctl log --type access` lists all"
		    : "");
	/* One line per access entry (they come sorted by it), with the clips it named. */
	for (i = 0; i < json_array_size(accesses); i = k) {
		a = json_array_get(accesses, i);
		fprintf(out, "  %s  %-24s %-9s %s entr", str(a, "at", "?"), str(a, "by", "?"),
			str(a, "op", "?"),
			json_is_false(json_object_get(a, "allowed")) ? "REFUSED" : "allowed");
		for (k = i; k < json_array_size(accesses) &&
			    num(json_array_get(accesses, k), "index") == num(a, "index");
		     k++)
			;
		fprintf(out, "%s", k - i == 1 ? "y" : "ies");
		for (g = i; g < k; g++)
			fprintf(out, "%s %" JSON_INTEGER_FORMAT, g > i ? "," : "",
				num(json_array_get(accesses, g), "entry"));
		fprintf(out, " (log entry %" JSON_INTEGER_FORMAT ")\n", num(a, "index"));
	}
	if (!json_array_size(accesses))
		fprintf(out, "  none\n");
	fprintf(out, "\nverdict: %s\n", str(review, "verdict", "none given"));
	return json_is_true(json_object_get(review, "complete")) ? 0 : 1;
}

int ctl_review_print(const json_t *review, FILE *out)
{
	json_t *safe = ctl_terminal_copy(review);
	int r;

	if (!safe)
		return 2;
	r = review_print(safe, out);
	json_decref(safe);
	return r;
}

/* ---- reports ----------------------------------------------------------------------------- */

static const char *const counters[] = {
	"clips",
	"seconds",
	"on_time",
	"on_time_remote",
	"late_explained",
	"late_open",
	"unknown_time_explained",
	"unknown_time_open",
	"future_time",
	"interruptions",
	"interruptions_explained",
	"damaged",
	"damage_reported",
	"accesses",
	"copy_outs",
	"refused",
};

static void print_open(const json_t *report, FILE *out)
{
	const json_t *open = json_object_get(report, "open"), *item;
	size_t i;

	fprintf(out, "open items: %" JSON_INTEGER_FORMAT "%s\n",
		json_is_integer(json_object_get(report, "open_total"))
		    ? num(report, "open_total")
		    : (json_int_t)json_array_size(open),
		json_is_true(json_object_get(report, "open_truncated")) ? " (not all listed)" : "");
	json_array_foreach(open, i, item)
		fprintf(out, "  %-12s %s\n", str(item, "kind", "?"), str(item, "message", ""));
}

static void print_row(FILE *out, const char *name, const json_t *row)
{
	char fit[4 * 20 + 1];

	/* Columns, not bytes: a Chinese name is three bytes a character and two columns wide. */
	fprintf(out,
		"  %s %6" JSON_INTEGER_FORMAT " %7.1f %6" JSON_INTEGER_FORMAT
		" %6" JSON_INTEGER_FORMAT " %4" JSON_INTEGER_FORMAT "/%-4" JSON_INTEGER_FORMAT
		" %4" JSON_INTEGER_FORMAT "/%-4" JSON_INTEGER_FORMAT " %4" JSON_INTEGER_FORMAT
		"/%-4" JSON_INTEGER_FORMAT " %4" JSON_INTEGER_FORMAT "/%-4" JSON_INTEGER_FORMAT
		" %6" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT " %6" JSON_INTEGER_FORMAT "\n",
		utf8_fit(name, 20, fit, sizeof(fit)), num(row, "clips"),
		(double)num(row, "seconds") / 3600, num(row, "on_time"), num(row, "on_time_remote"),
		num(row, "late_explained"), num(row, "late_open"),
		num(row, "unknown_time_explained"), num(row, "unknown_time_open"),
		num(row, "interruptions_explained"), num(row, "interruptions"),
		num(row, "damage_reported"), num(row, "damaged"), num(row, "accesses"),
		num(row, "copy_outs"), num(row, "refused"));
}

static void print_table(FILE *out, const char *what, const char *key, const json_t *rows)
{
	const json_t *row;
	size_t i;

	fprintf(out,
		"\nper %s (late and untimed: explained/open; gaps: explained/all; dmg: "
		"reported/all):\n  %-20s %6s %7s %6s %6s %9s %9s %9s %9s %6s %6s %6s\n",
		what, what, "clips", "hours", "ontime", "remote", "late e/o", "untimed", "gaps e/n",
		"dmg r/n", "access", "copies", "refuse");
	json_array_foreach(rows, i, row)
		print_row(out, str(row, key, "(unknown)"), row);
}

static void report_print(const json_t *report, bool open_only, FILE *out)
{
	const json_t *t = json_object_get(report, "totals");
	char rec[32];

	if (json_is_string(json_object_get(report, "from")))
		fprintf(out, "report from %s to %s", str(report, "from", "?"),
			str(report, "to", "?"));
	else
		fprintf(out, "report over the whole log");
	fprintf(out, " (as of %s)\n", str(report, "as_of", "?"));
	if (!open_only) {
		duration(num(t, "seconds") * 1000000, rec, sizeof(rec));
		fprintf(out, "clips: %" JSON_INTEGER_FORMAT " (%s recorded)\n", num(t, "clips"),
			rec);
		fprintf(out,
			"stored on time: %" JSON_INTEGER_FORMAT
			"; on time after remote duty: %" JSON_INTEGER_FORMAT
			"; late: %" JSON_INTEGER_FORMAT " explained, %" JSON_INTEGER_FORMAT
			" open; no trustworthy time: %" JSON_INTEGER_FORMAT
			" explained, %" JSON_INTEGER_FORMAT " open (%" JSON_INTEGER_FORMAT
			" with a time in the future)\n",
			num(t, "on_time"), num(t, "on_time_remote"), num(t, "late_explained"),
			num(t, "late_open"), num(t, "unknown_time_explained"),
			num(t, "unknown_time_open"), num(t, "future_time"));
		fprintf(out,
			"interruptions: %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
			" explained); damaged files: %" JSON_INTEGER_FORMAT
			" (%" JSON_INTEGER_FORMAT " reported)\n",
			num(t, "interruptions"), num(t, "interruptions_explained"),
			num(t, "damaged"), num(t, "damage_reported"));
		fprintf(out,
			"accesses: %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT
			" copy-outs); refused: %" JSON_INTEGER_FORMAT "\n",
			num(t, "accesses"), num(t, "copy_outs"), num(t, "refused"));
		print_table(out, "device", "device", json_object_get(report, "devices"));
		print_table(out, "officer", "officer", json_object_get(report, "officers"));
		fputc('\n', out);
	}
	print_open(report, out);
}

void ctl_report_print(const json_t *report, bool open_only, FILE *out)
{
	json_t *safe = ctl_terminal_copy(report);

	if (safe)
		report_print(safe, open_only, out);
	json_decref(safe);
}

static void csv_field(FILE *out, const char *s)
{
	bool formula, quote;

	if (!s)
		return;
	/* A spreadsheet would run "=…" as a formula; device names come from file names. */
	formula = s[0] && strchr("=+-@\t\r", s[0]);
	quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (!quote) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_row(FILE *out, const json_t *report, const char *scope, const char *name,
		    const json_t *row)
{
	csv_field(out, str(report, "from", ""));
	fputc(',', out);
	csv_field(out, str(report, "to", ""));
	fprintf(out, ",%s,", scope);
	csv_field(out, name);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		fprintf(out, ",%" JSON_INTEGER_FORMAT, num(row, counters[i]));
	fputc('\n', out);
}

void ctl_report_csv(const json_t *report, FILE *out)
{
	const json_t *row;
	size_t i;

	fprintf(out, "from,to,scope,name");
	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
		fprintf(out, ",%s", counters[k]);
	fputc('\n', out);
	csv_row(out, report, "total", "", json_object_get(report, "totals"));
	json_array_foreach(json_object_get(report, "devices"), i, row)
		csv_row(out, report, "device", str(row, "device", NULL), row);
	json_array_foreach(json_object_get(report, "officers"), i, row)
		csv_row(out, report, "officer", str(row, "officer", NULL), row);
}

/* ctl/review.c: custodyctl's text forms of `review`, `history`, `cases` and `report`, and the
 * report's CSV (the JSON is docs/review-format.md).  Runs in custodyctl only; pure formatting.
 *
 * The text is for a legal reviewer reading a terminal or a printout, in the reader's language
 * (gettext) and the office's time zone (ctl/show.h, every time with its UTC offset): every
 * clip on a few lines with what explains it beside it, gaps between the clips they separate,
 * every open item once in words with the command that closes it on its own line, and the
 * verdict as the last line so that `| tail -1` gives it.  The verdict is composed here from
 * the answer's fields, so that it speaks the reader's language; the daemon's English one is
 * the JSON's.  Fields the daemon leaves out or sends as null print as "unknown" rather than
 * failing: an older daemon (without reservations, explanations, access_log…), or a hand-made
 * log, must still be readable, and what it lacks is derived from what it has where the rules
 * allow (reservations from the clips and gaps).
 *
 * Columns are counted in display columns (base/utf8.h utf8_width: a Chinese character takes
 * two), never in bytes, so that names and labels in either language line up.
 *
 * Names, devices, officers, reasons, errors and the daemon's messages come from file names and
 * from people: before printing, every string of the answer goes through utf8_for_terminal(),
 * so that no escape sequence, newline, bidi override or invalid byte reaches the terminal as
 * itself (one could move the cursor, or fake the verdict line).  The CSV is data for a
 * spreadsheet, not a terminal: its names are quoted, not altered, and it stays English. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/review.h"
#include "base/i18n.h"
#include "base/utf8.h"
#include "ctl/show.h"

/* Reservations named one by one in the verdict beyond the damaged files (all of those are). */
#define VERDICT_RESERVATIONS 10
/* Entries named per open kind in the verdict, then "and N more". */
#define VERDICT_ENTRIES 5
/* Clips listed per group of accesses, then "and N more". */
#define ACCESS_ENTRIES 12

/* Translators: the separator between the items of a list of words ("CAM1, CAM2"). */
#define SEP_LIST _(", ")
/* Translators: the separator between the clauses of one line ("entry 8; reason …"). */
#define SEP_CLAUSE _("; ")
/* Translators: between a label or a subject and what is said of it ("entry 8: damaged"). */
#define SEP_LABEL _(": ")

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
		fprintf(stderr, _("custodyctl: out of memory for printing the answer\n"));
	return copy;
}

/* ---- small helpers ----------------------------------------------------------------------- */

static const char *str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static json_int_t num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static bool has_int(const json_t *o, const char *key)
{
	return json_is_integer(json_object_get(o, key));
}

static bool is(const json_t *o, const char *key, const char *word)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && !strcmp(s, word);
}

/* The time @o.@key in the display zone with its offset, "unknown" when there is none. */
static const char *when(const struct ing_tz *tz, const json_t *o, const char *key,
			char buf[SHOW_TIME_MAX])
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? show_time_str(tz, s, buf, SHOW_TIME_MAX) : _("unknown");
}

static const char *span(json_int_t seconds, char buf[SHOW_DURATION_MAX])
{
	return show_duration((int64_t)seconds, buf, SHOW_DURATION_MAX);
}

/* The columns @s takes on a terminal (utf8_width() per character; a stray byte takes one). */
static unsigned text_width(const char *s)
{
	size_t len = strlen(s), i = 0;
	unsigned w = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode((const uint8_t *)s + i, len - i, &cp);

		w += n ? utf8_width(cp) : 1;
		i += n ? n : 1;
	}
	return w;
}

/* @s, then spaces up to @cols columns (never cut: names and ids are evidence). */
static void pad(FILE *out, const char *s, unsigned cols)
{
	fputs(s, out);
	for (unsigned w = text_width(s); w < cols; w++)
		fputc(' ', out);
}

/* Spaces, then @s, ending at @cols columns. */
static void rpad(FILE *out, const char *s, unsigned cols)
{
	for (unsigned w = text_width(s); w < cols; w++)
		fputc(' ', out);
	fputs(s, out);
}

static void spaces(FILE *out, unsigned n)
{
	while (n--)
		fputc(' ', out);
}

/* "3, 4, 9" of the integers of @list, at most @max of them, then "and N more". */
static void print_ids(FILE *out, const json_t *list, size_t max)
{
	size_t i, n = json_array_size(list);
	const json_t *v;

	json_array_foreach(list, i, v) {
		if (i == max)
			break;
		fprintf(out, "%s%lld", i ? ", " : "", (long long)json_integer_value(v));
	}
	if (n > max)
		fprintf(out, _(" and %zu more"), n - max);
}

/* The strings of @list joined by ", ". */
static void print_strings(FILE *out, const json_t *list)
{
	size_t i;
	const json_t *v;

	json_array_foreach(list, i, v)
		fprintf(out, "%s%s", i ? SEP_LIST : "", json_string_value(v) ?: "?");
}

/* ---- words ------------------------------------------------------------------------------- */

static const char *storage_text(const char *word)
{
	if (!word)
		return _("unknown");
	if (!strcmp(word, "on_time"))
		return _("on time");
	if (!strcmp(word, "on_time_remote"))
		return _("on time after remote duty");
	if (!strcmp(word, "late"))
		return _("LATE");
	if (!strcmp(word, "unknown_time"))
		return _("no trustworthy recording time");
	return word;
}

static const char *integrity_text(const char *word)
{
	if (!word)
		return _("not checked");
	if (!strcmp(word, "ok"))
		return _("intact");
	if (!strcmp(word, "altered"))
		return _("ALTERED");
	if (!strcmp(word, "missing"))
		return _("MISSING");
	if (!strcmp(word, "purged"))
		return _("purged");
	return word;
}

static const char *time_source_text(const char *word)
{
	if (!word)
		return _("nothing");
	if (!strcmp(word, "tag"))
		return _("the file's creation tag");
	if (!strcmp(word, "filename"))
		return _("the file name");
	if (!strcmp(word, "mtime"))
		return _("the file's modification time");
	return word;
}

/* An open item's kind in a word or two, for a clip's first line. */
static const char *open_label(const char *kind)
{
	static const struct {
		const char *kind, *label;
	} labels[] = {
		{ "late", N_("stored late") },
		{ "unknown_time", N_("no trustworthy time") },
		{ "future_time", N_("time in the future") },
		{ "damaged", N_("damaged, no report") },
		{ "altered", N_("original ALTERED") },
		{ "missing", N_("original MISSING") },
		{ "purged", N_("original purged") },
		{ "no_device", N_("no device") },
		{ "gap", N_("gap") },
		{ "no_clips", N_("no clips") },
	};

	for (size_t i = 0; kind && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(kind, labels[i].kind))
			return _(labels[i].label);
	return kind ? kind : "?";
}

/* What an access did, in words; the protocol's word when it is not one of these. */
static const char *op_text(const char *op)
{
	static const struct {
		const char *op, *label;
	} ops[] = {
		{ "review", N_("review") },	{ "history", N_("history") },
		{ "copy-out", N_("copy-out") }, { "verify", N_("verify") },
		{ "entry", N_("read entry") },	{ "log", N_("log listing") },
		{ "proof", N_("proof") },	{ "retention", N_("retention listing") },
		{ "annotate", N_("annotate") },
	};

	for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i].op))
			return _(ops[i].label);
	return op ? op : "?";
}

/* An access's result in words; the protocol's word when it is not one of these. */
static const char *result_text(const char *result)
{
	static const struct {
		const char *result, *words;
	} results[] = {
		{ "copied", N_("copied") },
		{ "refused", N_("refused") },
		{ "not_found", N_("no such entry") },
		{ "not_an_original", N_("not an original") },
		{ "purged", N_("the original was purged") },
		{ "missing", N_("the original is missing") },
		{ "failed", N_("failed") },
		{ "abandoned", N_("abandoned: the client left") },
		{ "log_unwritable", N_("the log could not record it") },
	};

	for (size_t i = 0; result && i < sizeof(results) / sizeof(results[0]); i++)
		if (!strcmp(result, results[i].result))
			return _(results[i].words);
	return result ? result : "?";
}

static const char *annotation_kind_text(const char *kind)
{
	static const struct {
		const char *kind, *label;
	} kinds[] = {
		{ "interruption", N_("interruption") },
		{ "late_storage", N_("late storage explained") },
		{ "remote_duty", N_("remote duty") },
		{ "damage_report", N_("damage report") },
		{ "case", N_("case binding") },
		{ "approval", N_("approval") },
		{ "hold", N_("hold") },
		{ "device", N_("device attribution") },
	};

	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i].kind))
			return _(kinds[i].label);
	return kind ? kind : "?";
}

/* ---- annotations: fields in the order a person reads them -------------------------------- */

enum field_form { F_TEXT, F_QUOTED, F_TIME, F_INT, F_INTS };

static const struct {
	const char *key, *label;
	enum field_form form;
} annotation_fields[] = {
	/* What it names. */
	{ "case", N_("case"), F_TEXT },
	{ "entry", N_("entry"), F_INT },
	{ "entries", N_("entries"), F_INTS },
	{ "device", N_("device"), F_TEXT },
	{ "officer", N_("officer"), F_TEXT },
	{ "grantee", N_("granted to"), F_TEXT },
	/* When. */
	{ "from", N_("from"), F_TIME },
	{ "to", N_("to"), F_TIME },
	{ "returned_at", N_("returned"), F_TIME },
	{ "expires", N_("expires"), F_TIME },
	/* Why. */
	{ "reason", N_("reason"), F_QUOTED },
	{ "explanation", N_("explanation"), F_QUOTED },
	{ "purpose", N_("purpose"), F_QUOTED },
	/* Who and when it was recorded. */
	{ "approver", N_("approved by"), F_TEXT },
	{ "by", N_("by"), F_TEXT },
	{ "at", N_("at"), F_TIME },
};

static bool annotation_field_known(const char *key)
{
	if (!strcmp(key, "v") || !strcmp(key, "type") || !strcmp(key, "kind"))
		return true;
	for (size_t i = 0; i < sizeof(annotation_fields) / sizeof(annotation_fields[0]); i++)
		if (!strcmp(key, annotation_fields[i].key))
			return true;
	return false;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "late storage explained: entry 8; reason 'the dock was down'; by dave(uid 1004); at T":
 * the fields in annotation_fields' order, then any this custodyctl does not know, by name. */
void ctl_annotation_print(FILE *out, const struct ing_tz *tz, const json_t *a)
{
	char t[SHOW_TIME_MAX];
	const char *key, *unknown[32];
	const json_t *v;
	size_t nunknown = 0;
	bool first = true;

	fputs(annotation_kind_text(str(a, "kind", NULL)), out);
	for (size_t i = 0; i < sizeof(annotation_fields) / sizeof(annotation_fields[0]); i++) {
		v = json_object_get(a, annotation_fields[i].key);
		if (!v || json_is_null(v))
			continue;
		fprintf(out, "%s%s ", first ? SEP_LABEL : SEP_CLAUSE,
			_(annotation_fields[i].label));
		first = false;
		switch (annotation_fields[i].form) {
		case F_TIME:
			fputs(json_is_string(v)
				  ? show_time_str(tz, json_string_value(v), t, sizeof(t))
				  : "?",
			      out);
			break;
		case F_QUOTED:
			/* Translators: quotes around a text someone wrote (a reason, an
			 * explanation); use the language's own quotation marks. */
			fprintf(out, _("'%s'"), json_string_value(v) ?: "?");
			break;
		case F_INT:
			fprintf(out, "%lld", (long long)json_integer_value(v));
			break;
		case F_INTS:
			print_ids(out, v, (size_t)-1);
			break;
		case F_TEXT:
			fputs(json_string_value(v) ?: "?", out);
			break;
		}
	}
	json_object_foreach((json_t *)a, key, v)
		if (!annotation_field_known(key) && nunknown < 32)
			unknown[nunknown++] = key;
	qsort(unknown, nunknown, sizeof(unknown[0]), cmp_strp);
	for (size_t i = 0; i < nunknown; i++) {
		char *text =
		    json_dumps(json_object_get(a, unknown[i]), JSON_ENCODE_ANY | JSON_COMPACT);

		fprintf(out, "%s%s %s", first ? SEP_LABEL : SEP_CLAUSE, unknown[i],
			text ? text : "?");
		first = false;
		free(text);
	}
	fputc('\n', out);
}

/* ---- the record -------------------------------------------------------------------------- */

static void print_record(FILE *out, const json_t *a, const struct ctl_page_ctx *ctx)
{
	if (ctx && ctx->checked) {
		fprintf(out, _("record: log '%s', checkpoint of size %llu, root hash %s\n"),
			ctx->origin, (unsigned long long)ctx->size, ctx->root);
		fprintf(out, _("        signed with verifier key %s (key ID %s): checked ✓\n"),
			ctx->key_name, ctx->key_id);
	} else if (has_int(a, "checkpoint_size")) {
		fprintf(out, _("record: checkpoint of size %lld, NOT CHECKED: %s\n"),
			(long long)num(a, "checkpoint_size"),
			ctx && ctx->why ? ctx->why : _("custodyctl did not check it"));
	} else {
		fprintf(out, _("record: no checkpoint: %s\n"),
			ctx && ctx->why ? ctx->why : _("no checkpoint has been signed yet"));
	}
}

/* "reviewed T, at the request of X" and the like: @fmt_by with the peer, @fmt without. */
static void print_as_of(FILE *out, const struct ing_tz *tz, const json_t *a, const char *fmt_by,
			const char *fmt)
{
	char t[SHOW_TIME_MAX];

	if (json_is_string(json_object_get(a, "requested_by")))
		fprintf(out, fmt_by, when(tz, a, "as_of", t), str(a, "requested_by", "?"));
	else
		fprintf(out, fmt, when(tz, a, "as_of", t));
	fputc('\n', out);
}

/* ---- the review: clips ------------------------------------------------------------------- */

static const json_t *find_clip(const json_t *review, json_int_t index, const json_t **ret_dev)
{
	const json_t *dev, *clip;
	size_t i, k;

	json_array_foreach(json_object_get(review, "devices"), i, dev)
		json_array_foreach(json_object_get(dev, "clips"), k, clip)
			if (num(clip, "index") == index) {
				if (ret_dev)
					*ret_dev = dev;
				return clip;
			}
	return NULL;
}

/* The open items naming entry @index, as one list of words: "stored late, damaged, no
 * report". */
static void clip_flags(FILE *out, const json_t *open, json_int_t index)
{
	size_t i, n = 0;
	const json_t *item;

	json_array_foreach(open, i, item) {
		if (is(item, "kind", "gap") || !has_int(item, "entry") ||
		    num(item, "entry") != index)
			continue;
		if (!n++)
			fprintf(out, "   %s", _("OPEN: "));
		else
			fputs(SEP_LIST, out);
		fputs(open_label(str(item, "kind", NULL)), out);
	}
}

/* One explanation (docs/review-format.md `explanations`) on its clip's row. */
static void print_explanation(FILE *out, const struct ing_tz *tz, const json_t *x)
{
	char at[SHOW_TIME_MAX], f[SHOW_TIME_MAX], t[SHOW_TIME_MAX], r[SHOW_TIME_MAX];
	const char *kind = str(x, "kind", "?"), *text = str(x, "text", NULL);
	long long index = (long long)num(x, "index");
	const char *by = str(x, "by", "?");

	when(tz, x, "at", at);
	if (!strcmp(kind, "late_storage")) {
		fprintf(out, _("explained in entry %lld (%s, %s): '%s'"), index, by, at,
			text ? text : _("no reason given"));
	} else if (!strcmp(kind, "damage_report")) {
		fprintf(out, _("DAMAGED: damage report, entry %lld (%s, %s): '%s'"), index, by, at,
			text ? text : _("no explanation given"));
	} else if (!strcmp(kind, "remote_duty")) {
		const char *who = str(x, "device", str(x, "officer", "?"));

		fprintf(out, _("remote duty of %s from %s to %s, back %s: entry %lld (%s, %s)"),
			who, when(tz, x, "from", f), when(tz, x, "to", t),
			when(tz, x, "returned_at", r), index, by, at);
		if (text) {
			fputs(SEP_LABEL, out);
			fprintf(out, _("'%s'"), text);
		}
	} else if (!strcmp(kind, "device")) {
		fprintf(out, _("device %s attributed in entry %lld (%s, %s): '%s'"),
			str(x, "device", "?"), index, by, at, text ? text : _("no reason given"));
	} else {
		fprintf(out, _("%s, entry %lld (%s, %s)"), annotation_kind_text(kind), index, by,
			at);
		if (text) {
			fputs(SEP_LABEL, out);
			fprintf(out, _("'%s'"), text);
		}
	}
	fputc('\n', out);
}

static void print_clip(FILE *out, const struct ing_tz *tz, const json_t *clip, const json_t *open,
		       unsigned idw)
{
	const json_t *dur = json_object_get(clip, "duration_us");
	const json_t *explained = json_object_get(clip, "explained_by");
	const json_t *explanations = json_object_get(clip, "explanations"), *x;
	const char *storage = str(clip, "storage", NULL);
	const char *now = str(clip, "storage_now", storage);
	char d[SHOW_DURATION_MAX], s[SHOW_TIME_MAX], e[SHOW_TIME_MAX], label[64];
	unsigned indent = 2 + idw + 2;
	bool reported = false;
	size_t i;

	if (json_is_integer(dur))
		show_duration(json_integer_value(dur) / 1000000, d, sizeof(d));
	else
		snprintf(d, sizeof(d), "%s", _("length unknown"));
	snprintf(label, sizeof(label), _("entry %lld"), (long long)num(clip, "index"));
	fputs("  ", out);
	pad(out, label, idw);
	fputs("  ", out);
	fprintf(out, _("%s to %s (%s), officer %s"), when(tz, clip, "recorded_start", s),
		when(tz, clip, "recorded_end", e), d, str(clip, "officer", _("unknown")));
	clip_flags(out, open, num(clip, "index"));
	fputc('\n', out);

	spaces(out, indent);
	fprintf(out,
		json_is_true(json_object_get(clip, "time_in_future"))
		    ? _("'%s' (zone %s, time from %s, IN THE FUTURE)")
		    : _("'%s' (zone %s, time from %s)"),
		str(clip, "name", "?"), str(clip, "zone", "?"),
		time_source_text(str(clip, "time_source", NULL)));
	fputc('\n', out);

	spaces(out, indent);
	fprintf(out, _("stored %s, deadline %s: %s"), when(tz, clip, "ingested_at", s),
		json_is_string(json_object_get(clip, "deadline")) ? when(tz, clip, "deadline", e)
								  : _("none"),
		storage_text(now));
	if (storage && now && strcmp(storage, now))
		fprintf(out, _(" (logged %s)"), storage_text(storage));
	fprintf(out, _("; original %s"), integrity_text(str(clip, "integrity", NULL)));
	if (json_is_string(json_object_get(clip, "integrity_error")))
		fprintf(out, " (%s)", str(clip, "integrity_error", ""));
	fputc('\n', out);

	if (is(clip, "device_from", "annotation")) {
		spaces(out, indent);
		fprintf(out, "%s\n", _("device from an annotation, not from the file name"));
	}
	/* A damage report's own line says DAMAGED with its text (below). */
	json_array_foreach(explanations, i, x)
		if (is(x, "kind", "damage_report"))
			reported = true;
	if (json_is_true(json_object_get(clip, "damaged")) && !reported) {
		spaces(out, indent);
		if (has_int(clip, "damage_report"))
			fprintf(out, _("DAMAGED: reported in entry %lld\n"),
				(long long)num(clip, "damage_report"));
		else
			fprintf(out, "%s\n", _("DAMAGED: NO DAMAGE REPORT"));
	}
	if (json_is_array(explanations)) {
		json_array_foreach(explanations, i, x) {
			spaces(out, indent);
			print_explanation(out, tz, x);
		}
	} else if (json_array_size(explained)) {
		/* An older daemon: only the entries' numbers. */
		spaces(out, indent);
		fprintf(out, "%s ", _("explained by entry"));
		print_ids(out, explained, (size_t)-1);
		fputc('\n', out);
	}
	if (json_array_size(json_object_get(clip, "other_cases"))) {
		spaces(out, indent);
		fprintf(out, "%s ",
			NG_("also bound to case", "also bound to cases",
			    json_array_size(json_object_get(clip, "other_cases"))));
		print_strings(out, json_object_get(clip, "other_cases"));
		fputc('\n', out);
	}
	if (json_is_string(json_object_get(clip, "error"))) {
		spaces(out, indent);
		fprintf(out, _("detail: %s\n"), str(clip, "error", ""));
	}
}

static void print_gap(FILE *out, const struct ing_tz *tz, const json_t *gap)
{
	char d[SHOW_DURATION_MAX], f[SHOW_TIME_MAX], t[SHOW_TIME_MAX];

	fputs("  -- ", out);
	fprintf(out, _("gap of %s from %s to %s: "), span(num(gap, "seconds"), d),
		when(tz, gap, "from", f), when(tz, gap, "to", t));
	if (has_int(gap, "explained_by"))
		fprintf(out, _("explained by entry %lld (%s)\n"),
			(long long)num(gap, "explained_by"),
			str(gap, "reason", _("no reason given")));
	else
		fprintf(out, "%s\n", _("UNEXPLAINED"));
}

static bool gap_clip_listed(const json_t *gap, const json_t *clips)
{
	const json_t *clip;
	size_t k;

	if (!has_int(gap, "before"))
		return false;
	json_array_foreach(clips, k, clip)
		if (num(gap, "before") == num(clip, "index"))
			return true;
	return false;
}

/* ---- open items and reservations in words ------------------------------------------------ */

/* "entry 21 (CAM3)" or "entry 21". */
static void print_subject(FILE *out, const json_t *item, const json_t *review)
{
	const json_t *dev = NULL;
	const char *device = str(item, "device", NULL);

	if (!device && review && find_clip(review, num(item, "entry"), &dev))
		device = str(dev, "device", NULL);
	if (device)
		fprintf(out, _("entry %lld (%s)"), (long long)num(item, "entry"), device);
	else
		fprintf(out, _("entry %lld"), (long long)num(item, "entry"));
}

/* One open item in words (the daemon's `message` is English; these are the reader's).
 * @return true when the words are the daemon's message (a kind this custodyctl does not
 * know). */
static bool print_open_words(FILE *out, const struct ing_tz *tz, const json_t *item,
			     const json_t *review)
{
	const char *kind = str(item, "kind", "?");
	const json_t *clip = review ? find_clip(review, num(item, "entry"), NULL) : NULL;
	char d[SHOW_DURATION_MAX], f[SHOW_TIME_MAX], t[SHOW_TIME_MAX];
	int64_t in = 0, due = 0;

	if (!strcmp(kind, "gap")) {
		int64_t a = 0, b = 0;

		if (show_parse_time(str(item, "from", NULL), &a) == 0 &&
		    show_parse_time(str(item, "to", NULL), &b) == 0)
			fprintf(out, _("%s recorded nothing for %s, from %s to %s; not explained"),
				str(item, "device", "?"), span((b - a) / 1000000, d),
				when(tz, item, "from", f), when(tz, item, "to", t));
		else
			fprintf(out, _("%s recorded nothing from %s to %s; not explained"),
				str(item, "device", "?"), when(tz, item, "from", f),
				when(tz, item, "to", t));
		return false;
	}
	if (!strcmp(kind, "no_clips")) {
		fputs(_("the case binds no clips"), out);
		return false;
	}
	if (!has_int(item, "entry")) {
		fputs(str(item, "message", kind), out);
		return true;
	}
	print_subject(out, item, review);
	fputs(SEP_LABEL, out);
	if (!strcmp(kind, "late")) {
		if (clip && show_parse_time(str(clip, "ingested_at", NULL), &in) == 0 &&
		    show_parse_time(str(clip, "deadline", NULL), &due) == 0 && in > due)
			fprintf(out, _("stored %s after its deadline; not explained"),
				span((in - due) / 1000000, d));
		else
			fputs(_("stored late; not explained"), out);
	} else if (!strcmp(kind, "unknown_time")) {
		fputs(_("no trustworthy recording time; not explained"), out);
	} else if (!strcmp(kind, "future_time")) {
		fprintf(out, _("says it was recorded at %s, after it was stored; not explained"),
			when(tz, item, "from", f));
	} else if (!strcmp(kind, "damaged")) {
		fputs(_("could not be read completely; no damage report"), out);
	} else if (!strcmp(kind, "altered")) {
		fputs(_("the stored original no longer matches its entry (SHA-256 or size)"), out);
	} else if (!strcmp(kind, "missing")) {
		fputs(_("the stored original is missing or unreadable"), out);
		if (clip && json_is_string(json_object_get(clip, "integrity_error")))
			fprintf(out, " (%s)", str(clip, "integrity_error", ""));
	} else if (!strcmp(kind, "purged")) {
		fputs(_("the original was purged; only its fingerprint remains"), out);
	} else if (!strcmp(kind, "no_device")) {
		fputs(_("its name matches no pattern of its zone: no device, so no continuity "
			"check"),
		      out);
	} else {
		fputs(str(item, "message", kind), out);
		return true;
	}
	return false;
}

static void print_open_items(FILE *out, const struct ing_tz *tz, const json_t *open,
			     const json_t *review)
{
	const json_t *item;
	size_t i;

	json_array_foreach(open, i, item) {
		bool said;

		fputs("  ", out);
		said = print_open_words(out, tz, item, review);
		fputc('\n', out);
		if (json_is_string(json_object_get(item, "action")))
			fprintf(out, "      %s%s\n", _("to close: "), str(item, "action", ""));
		else if (!said && !json_object_get(item, "action") &&
			 json_is_string(json_object_get(item, "message")))
			/* An older daemon says the command inside its message. */
			fprintf(out, "      %s%s\n", _("the daemon says: "),
				str(item, "message", ""));
	}
}

static json_t *reservation(const char *kind, const json_t *clip, const json_t *dev,
			   json_int_t explained_by)
{
	return json_pack("{s:s, s:O, s:O, s:o}", "kind", kind, "entry",
			 json_object_get(clip, "index") ?: json_null(), "device",
			 json_object_get(dev, "device") ?: json_null(), "explained_by",
			 explained_by >= 0 ? json_integer(explained_by) : json_null());
}

/* The answer's reservations, or for an answer without them (an older daemon) what the rules
 * make them (docs/review-format.md): damaged files, explained late, untimed and future clips,
 * remote duty, explained gaps, devices from annotations.  A new reference; NULL when out of
 * memory. */
static json_t *reservations_of(const json_t *review)
{
	const json_t *given = json_object_get(review, "reservations"), *dev, *clip, *gap;
	json_t *list;
	size_t i, k;

	if (json_is_array(given))
		return json_incref((json_t *)given);
	list = json_array();
	json_array_foreach(json_object_get(review, "devices"), i, dev) {
		json_array_foreach(json_object_get(dev, "clips"), k, clip) {
			const json_t *ex = json_object_get(clip, "explained_by");
			size_t n = json_array_size(ex);
			json_int_t first = n ? json_integer_value(json_array_get(ex, 0)) : -1;
			json_int_t last = n ? json_integer_value(json_array_get(ex, n - 1)) : -1;
			const char *now = str(clip, "storage_now", str(clip, "storage", ""));

			if (json_is_true(json_object_get(clip, "damaged")))
				json_array_append_new(list,
						      reservation("damaged", clip, dev,
								  has_int(clip, "damage_report")
								      ? num(clip, "damage_report")
								      : -1));
			if (json_is_true(json_object_get(clip, "time_in_future")) && n)
				json_array_append_new(list,
						      reservation("future_time", clip, dev, first));
			else if (!strcmp(now, "late") && n)
				json_array_append_new(list, reservation("late", clip, dev, first));
			else if (!strcmp(now, "unknown_time") && n)
				json_array_append_new(
				    list, reservation("unknown_time", clip, dev, first));
			else if (!strcmp(now, "on_time_remote"))
				json_array_append_new(list,
						      reservation("remote_duty", clip, dev, last));
			if (is(clip, "device_from", "annotation"))
				json_array_append_new(list,
						      reservation("no_device", clip, dev, -1));
		}
		json_array_foreach(json_object_get(dev, "gaps"), k, gap) {
			if (!has_int(gap, "explained_by"))
				continue;
			json_array_append_new(
			    list,
			    json_pack("{s:s, s:n, s:O, s:O, s:O, s:O}", "kind", "gap", "entry",
				      "device", json_object_get(dev, "device") ?: json_null(),
				      "from", json_object_get(gap, "from") ?: json_null(), "to",
				      json_object_get(gap, "to") ?: json_null(), "explained_by",
				      json_object_get(gap, "explained_by")));
		}
	}
	return list;
}

/* Is reservation @r also an open item (a damaged file without a report is both)? */
static bool reservation_open(const json_t *r, const json_t *open)
{
	const json_t *item;
	size_t i;

	if (!has_int(r, "entry"))
		return false;
	json_array_foreach(open, i, item)
		if (has_int(item, "entry") && num(item, "entry") == num(r, "entry") &&
		    json_equal(json_object_get(item, "kind"), json_object_get(r, "kind")))
			return true;
	return false;
}

/* A reservation in words: long for the list, short for the verdict. */
static void print_reservation(FILE *out, const struct ing_tz *tz, const json_t *r, bool brief)
{
	const char *kind = str(r, "kind", "?");
	long long entry = (long long)num(r, "entry"), by = (long long)num(r, "explained_by");
	bool explained = has_int(r, "explained_by");
	char f[SHOW_TIME_MAX], t[SHOW_TIME_MAX];

	if (!strcmp(kind, "gap")) {
		if (explained)
			fprintf(out, _("gap on %s from %s to %s (interruption, entry %lld)"),
				str(r, "device", "?"), when(tz, r, "from", f), when(tz, r, "to", t),
				by);
		else
			fprintf(out, _("gap on %s from %s to %s"), str(r, "device", "?"),
				when(tz, r, "from", f), when(tz, r, "to", t));
		return;
	}
	if (!brief && json_is_string(json_object_get(r, "device")))
		fprintf(out, _("entry %lld (%s): "), entry, str(r, "device", "?"));
	else if (!brief)
		fprintf(out, _("entry %lld: "), entry);
	else
		fprintf(out, _("entry %lld "), entry);
	if (!strcmp(kind, "damaged")) {
		if (explained)
			fprintf(out, _("damaged (reported, entry %lld)"), by);
		else
			fputs(_("damaged (not reported)"), out);
	} else if (!strcmp(kind, "late")) {
		if (explained)
			fprintf(out, _("stored late (explained, entry %lld)"), by);
		else
			fputs(_("stored late (explained)"), out);
	} else if (!strcmp(kind, "unknown_time")) {
		if (explained)
			fprintf(out, _("without a trustworthy time (explained, entry %lld)"), by);
		else
			fputs(_("without a trustworthy time (explained)"), out);
	} else if (!strcmp(kind, "future_time")) {
		if (explained)
			fprintf(out,
				_("with a recording time in the future (explained, entry %lld)"),
				by);
		else
			fputs(_("with a recording time in the future (explained)"), out);
	} else if (!strcmp(kind, "remote_duty")) {
		if (explained)
			fprintf(out, _("on time only by a remote-duty declaration (entry %lld)"),
				by);
		else
			fputs(_("on time only by a remote-duty declaration"), out);
	} else if (!strcmp(kind, "no_device")) {
		if (explained)
			fprintf(out, _("device from an annotation (entry %lld)"), by);
		else
			fputs(_("device from an annotation"), out);
	} else {
		fputs(kind, out);
		if (explained)
			fprintf(out, " (%lld)", by);
	}
}

/* ---- the verdict ------------------------------------------------------------------------- */

static void verdict_entries(FILE *out, const json_t *open, const char *kind,
			    const struct ing_tz *tz)
{
	const json_t *item;
	size_t i, shown = 0, total = 0;
	char f[SHOW_TIME_MAX], t[SHOW_TIME_MAX];

	json_array_foreach(open, i, item) {
		if (!is(item, "kind", kind))
			continue;
		if (total++ >= VERDICT_ENTRIES)
			continue;
		if (shown++)
			fputs(SEP_LIST, out);
		if (!strcmp(kind, "gap"))
			fprintf(out, _("%s from %s to %s"), str(item, "device", "?"),
				when(tz, item, "from", f), when(tz, item, "to", t));
		else
			fprintf(out, "%lld", (long long)num(item, "entry"));
	}
	if (total > shown)
		fprintf(out, _(" and %zu more"), total - shown);
}

/* The open kinds in the order the verdict names them. */
static const char *const verdict_kinds[] = {
	"late",	   "unknown_time", "future_time", "gap",       "damaged",
	"altered", "missing",	   "purged",	  "no_device",
};

/* "2 late clips unexplained": @count open items of @kind, in words. */
static void verdict_count(FILE *out, const char *kind, size_t n)
{
	if (!strcmp(kind, "late"))
		fprintf(out, NG_("%zu late clip unexplained", "%zu late clips unexplained", n), n);
	else if (!strcmp(kind, "unknown_time"))
		fprintf(out,
			NG_("%zu clip without a trustworthy time unexplained",
			    "%zu clips without a trustworthy time unexplained", n),
			n);
	else if (!strcmp(kind, "future_time"))
		fprintf(out,
			NG_("%zu clip with a recording time in the future unexplained",
			    "%zu clips with a recording time in the future unexplained", n),
			n);
	else if (!strcmp(kind, "gap"))
		fprintf(out, NG_("%zu unexplained gap", "%zu unexplained gaps", n), n);
	else if (!strcmp(kind, "damaged"))
		fprintf(out,
			NG_("%zu damaged file without a report",
			    "%zu damaged files without a report", n),
			n);
	else if (!strcmp(kind, "altered"))
		fprintf(out, NG_("%zu original altered", "%zu originals altered", n), n);
	else if (!strcmp(kind, "missing"))
		fprintf(out,
			NG_("%zu original missing or unreadable",
			    "%zu originals missing or unreadable", n),
			n);
	else if (!strcmp(kind, "purged"))
		fprintf(out, NG_("%zu original purged", "%zu originals purged", n), n);
	else
		fprintf(out, NG_("%zu clip without a device", "%zu clips without a device", n), n);
}

char *ctl_review_verdict(const json_t *review, const struct ing_tz *tz)
{
	const json_t *open = json_object_get(review, "open"), *dev, *clip, *item;
	json_t *res = reservations_of(review);
	size_t nclips = 0, ndevices = 0, nanon = 0, ngaps = 0, i, k, nres = 0, others = 0;
	bool checked = true, first = true, any_damaged = false;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	if (!res)
		return NULL;
	out = open_memstream(&buf, &len);
	if (!out) {
		json_decref(res);
		return NULL;
	}
	json_array_foreach(json_object_get(review, "devices"), i, dev) {
		size_t n = json_array_size(json_object_get(dev, "clips"));

		nclips += n;
		if (json_is_string(json_object_get(dev, "device")))
			ndevices++;
		else
			nanon += n;
		ngaps += json_array_size(json_object_get(dev, "gaps"));
		json_array_foreach(json_object_get(dev, "clips"), k, clip) {
			if (!json_is_string(json_object_get(clip, "integrity")))
				checked = false;
			any_damaged = any_damaged || json_is_true(json_object_get(clip, "damaged"));
		}
	}
	json_array_foreach(res, i, item)
		if (!reservation_open(item, open))
			nres++;
	if (!json_array_size(open)) {
		fputs(nres ? _("complete with reservations: ") : _("complete: "), out);
		/* Translators: "12 clips from 2 devices" (the first part of a verdict). */
		fprintf(out, NG_("%zu clip", "%zu clips", nclips), nclips);
		fputc(' ', out);
		fprintf(out, NG_("from %zu device", "from %zu devices", ndevices), ndevices);
		if (nanon)
			fprintf(out, "%s", _(" and some without a device"));
		fprintf(out, "%s%s%s%s", SEP_LIST, ngaps ? _("every gap explained") : _("no gaps"),
			SEP_LIST,
			!checked ? _("originals not re-hashed")
			/* A damaged recording's bytes can be intact while the recording is not:
			 * say only what the re-hash showed, and the damage among the
			 * reservations. */
			: any_damaged ? _("every original unchanged since it was stored")
				      : _("every original intact"));
	} else {
		bool no_clips = false;

		json_array_foreach(open, i, item)
			no_clips = no_clips || is(item, "kind", "no_clips");
		fputs(_("INCOMPLETE: "), out);
		if (no_clips) {
			fputs(_("the case binds no clips"), out);
			first = false;
		}
		for (size_t p = 0; p < sizeof(verdict_kinds) / sizeof(verdict_kinds[0]); p++) {
			size_t count = 0;

			json_array_foreach(open, i, item)
				count += is(item, "kind", verdict_kinds[p]);
			if (!count)
				continue;
			if (!first)
				fputs(SEP_CLAUSE, out);
			first = false;
			verdict_count(out, verdict_kinds[p], count);
			/* Translators: opens and closes the list of entries after a count in
			 * a verdict ("2 late clips unexplained (entries 7, 9)"). */
			fputs(_(" ("), out);
			if (strcmp(verdict_kinds[p], "gap"))
				fputs(NG_("entry ", "entries ", count), out);
			verdict_entries(out, open, verdict_kinds[p], tz);
			fputs(_(")"), out);
		}
		if (nres)
			fputs(_("; reservations: "), out);
	}
	/* Every damaged file by name; the other reservations up to a bound. */
	first = true;
	json_array_foreach(res, i, item) {
		bool damaged = is(item, "kind", "damaged");

		if (reservation_open(item, open))
			continue;
		if (!damaged && others++ >= VERDICT_RESERVATIONS)
			continue;
		fputs(first && json_array_size(open) ? "" : SEP_CLAUSE, out);
		first = false;
		print_reservation(out, tz, item, true);
	}
	if (others > VERDICT_RESERVATIONS)
		fprintf(out,
			NG_("; and %zu more reservation", "; and %zu more reservations",
			    others - VERDICT_RESERVATIONS),
			others - VERDICT_RESERVATIONS);
	json_decref(res);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- the review: accesses ---------------------------------------------------------------- */

/* An answer without access_log (an older daemon): its accesses (one per access and clip,
 * sorted by access) folded into one item per access entry.  A new reference. */
static json_t *access_log_of(const json_t *review)
{
	const json_t *given = json_object_get(review, "access_log"), *a;
	json_t *list, *item = NULL;
	size_t i;

	if (json_is_array(given))
		return json_incref((json_t *)given);
	list = json_array();
	json_array_foreach(json_object_get(review, "accesses"), i, a) {
		if (!item || num(item, "index") != num(a, "index")) {
			item = json_deep_copy(a);
			if (!item)
				break;
			json_object_del(item, "entry");
			json_object_set_new(item, "entries", json_array());
			json_array_append_new(list, item);
		}
		if (has_int(a, "entry"))
			json_array_append(json_object_get(item, "entries"),
					  json_object_get(a, "entry"));
	}
	return list;
}

struct access_group {
	const char *by, *op;
	size_t n, refused;
	int64_t first_us, last_us;
	const char *first, *last;
	json_t *entries;
};

static void add_entry(json_t *set, const json_t *v)
{
	const json_t *e;
	size_t i;

	json_array_foreach(set, i, e)
		if (json_integer_value(e) == json_integer_value(v))
			return;
	json_array_append(set, (json_t *)v);
}

static int cmp_json_int(const void *a, const void *b)
{
	json_int_t x = json_integer_value(*(json_t *const *)a);
	json_int_t y = json_integer_value(*(json_t *const *)b);

	return x < y ? -1 : x > y;
}

static void sort_ints(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = malloc((n ? n : 1) * sizeof(*v));
	json_t *sorted;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof(*v), cmp_json_int);
	sorted = json_array();
	for (size_t i = 0; sorted && i < n; i++)
		json_array_append(sorted, v[i]);
	if (sorted)
		json_array_clear(list), json_array_extend(list, sorted);
	json_decref(sorted);
	free(v);
}

static void print_copy_out(FILE *out, const struct ing_tz *tz, const json_t *a)
{
	char t[SHOW_TIME_MAX];

	fprintf(out, "  %s  %s%s", when(tz, a, "at", t), str(a, "by", "?"), SEP_LABEL);
	fputs(NG_("entry ", "entries ", json_array_size(json_object_get(a, "entries"))), out);
	print_ids(out, json_object_get(a, "entries"), ACCESS_ENTRIES);
	if (json_is_false(json_object_get(a, "allowed"))) {
		if (json_is_string(json_object_get(a, "result")) && !is(a, "result", "refused"))
			fprintf(out, _(": REFUSED (%s)\n"), result_text(str(a, "result", "")));
		else
			fprintf(out, "%s\n", _(": REFUSED"));
		return;
	}
	fputs(SEP_CLAUSE, out);
	if (json_is_string(json_object_get(a, "destination")))
		fprintf(out, _("to '%s'"), str(a, "destination", ""));
	else
		fputs(_("destination not recorded"), out);
	fputs(SEP_CLAUSE, out);
	if (json_is_string(json_object_get(a, "purpose")))
		fprintf(out, _("purpose '%s'"), str(a, "purpose", ""));
	else
		fputs(_("no purpose recorded"), out);
	fputs(SEP_CLAUSE, out);
	if (has_int(a, "approval"))
		fprintf(out, _("under approval entry %lld"), (long long)num(a, "approval"));
	else if (is(a, "authority", "operator"))
		fputs(_("as an operator"), out);
	else
		fputs(_("authority not recorded"), out);
	fprintf(out, "%s%s\n", SEP_CLAUSE,
		json_is_string(json_object_get(a, "result")) ? result_text(str(a, "result", ""))
							     : _("no result recorded"));
}

static void print_accesses(FILE *out, const struct ing_tz *tz, const json_t *review)
{
	json_t *log = access_log_of(review);
	struct access_group *g;
	size_t ng = 0, listed = json_array_size(log), i, ncopies = 0;
	unsigned wb = 0, wo = 0;
	const json_t *a;
	char t1[SHOW_TIME_MAX], t2[SHOW_TIME_MAX];

	g = calloc(listed ? listed : 1, sizeof(*g));
	if (!log || !g) {
		fprintf(stderr, _("custodyctl: out of memory for printing the answer\n"));
		json_decref(log);
		free(g);
		return;
	}
	json_array_foreach(log, i, a) {
		const char *by = str(a, "by", "?"), *op = str(a, "op", "?");
		int64_t at = 0;
		size_t k, e;
		const json_t *v;

		for (k = 0; k < ng; k++)
			if (!strcmp(g[k].by, by) && !strcmp(g[k].op, op))
				break;
		if (k == ng) {
			g[ng++] = (struct access_group){ .by = by,
							 .op = op,
							 .first_us = INT64_MAX,
							 .last_us = INT64_MIN,
							 .entries = json_array() };
			if (text_width(by) > wb)
				wb = text_width(by);
			if (text_width(op_text(op)) > wo)
				wo = text_width(op_text(op));
		}
		g[k].n++;
		g[k].refused += json_is_false(json_object_get(a, "allowed"));
		if (show_parse_time(str(a, "at", NULL), &at) == 0) {
			if (at < g[k].first_us)
				g[k].first_us = at, g[k].first = str(a, "at", NULL);
			if (at > g[k].last_us)
				g[k].last_us = at, g[k].last = str(a, "at", NULL);
		}
		json_array_foreach(json_object_get(a, "entries"), e, v)
			add_entry(g[k].entries, v);
		ncopies += is(a, "op", "copy-out");
	}

	fputc('\n', out);
	if (json_is_array(json_object_get(review, "access_log"))) {
		json_int_t total = has_int(review, "access_log_total")
				       ? num(review, "access_log_total")
				       : (json_int_t)listed;

		if ((json_int_t)listed < total)
			fprintf(out,
				_("accesses to these clips (%lld; the %zu listed are the newest of "
				  "each kind, `custodyctl log --type access` lists the other "
				  "%lld):\n"),
				(long long)total, listed, (long long)(total - (json_int_t)listed));
		else
			fprintf(out, _("accesses to these clips (%lld):\n"), (long long)total);
	} else {
		json_int_t pairs = num(review, "accesses_total");

		fprintf(out, _("accesses to these clips (%zu):\n"), listed);
		if (pairs > (json_int_t)json_array_size(json_object_get(review, "accesses")))
			fprintf(
			    out,
			    _("  (more exist: %lld reads of a clip in all; `custodyctl log --type "
			      "access` lists them)\n"),
			    (long long)pairs);
	}
	for (size_t k = 0; k < ng; k++) {
		fputs("  ", out);
		pad(out, g[k].by, wb);
		fputs("  ", out);
		pad(out, op_text(g[k].op), wo);
		fputs("  ", out);
		fprintf(out, NG_("%zu time", "%zu times", g[k].n), g[k].n);
		if (g[k].refused)
			fprintf(out, NG_(", %zu REFUSED", ", %zu REFUSED", g[k].refused),
				g[k].refused);
		if (g[k].first && g[k].first_us != g[k].last_us)
			fprintf(out, _(", %s to %s"), show_time(tz, g[k].first_us, t1, sizeof(t1)),
				show_time(tz, g[k].last_us, t2, sizeof(t2)));
		else if (g[k].first)
			fprintf(out, "%s%s", SEP_LIST,
				show_time(tz, g[k].first_us, t1, sizeof(t1)));
		if (json_array_size(g[k].entries)) {
			sort_ints(g[k].entries);
			fprintf(out, "%s%s", SEP_CLAUSE,
				NG_("entry ", "entries ", json_array_size(g[k].entries)));
			print_ids(out, g[k].entries, ACCESS_ENTRIES);
		}
		fputc('\n', out);
		json_decref(g[k].entries);
	}
	if (!listed)
		fprintf(out, "  %s\n", _("none"));
	if (ncopies) {
		fprintf(out, _("copy-outs (%zu):\n"), ncopies);
		json_array_foreach(log, i, a)
			if (is(a, "op", "copy-out"))
				print_copy_out(out, tz, a);
	}
	free(g);
	json_decref(log);
}

/* ---- the review -------------------------------------------------------------------------- */

static int review_print(const json_t *review, const struct ctl_page_ctx *ctx, FILE *out)
{
	const struct ing_tz *tz = ctx ? ctx->tz : NULL;
	const json_t *open = json_object_get(review, "open");
	const json_t *devices = json_object_get(review, "devices"), *dev, *item;
	const json_t *annotations = json_object_get(review, "annotations");
	json_t *res = reservations_of(review);
	size_t i, k, g, nres = 0;
	unsigned idw = 0;
	char *verdict;

	fprintf(out, _("case %s\n"), str(review, "case", "?"));
	print_as_of(out, tz, review, _("reviewed %s, at the request of %s"), _("reviewed %s"));
	print_record(out, review, ctx);
	if (json_array_size(json_object_get(review, "bound_by"))) {
		fprintf(out, "%s ",
			NG_("bound to the case by annotation", "bound to the case by annotations",
			    json_array_size(json_object_get(review, "bound_by"))));
		print_ids(out, json_object_get(review, "bound_by"), (size_t)-1);
		fputc('\n', out);
	} else {
		fprintf(out, "%s\n", _("no annotation binds a clip to the case"));
	}
	/* The entry column is as wide as the widest "entry N" in this language. */
	json_array_foreach(devices, i, dev) {
		const json_t *clip;

		json_array_foreach(json_object_get(dev, "clips"), k, clip) {
			char label[64];

			snprintf(label, sizeof(label), _("entry %lld"),
				 (long long)num(clip, "index"));
			if (text_width(label) > idw)
				idw = text_width(label);
		}
	}
	json_array_foreach(devices, i, dev) {
		const json_t *clips = json_object_get(dev, "clips"), *clip;
		const json_t *gaps = json_object_get(dev, "gaps"), *gap;
		size_t nc = json_array_size(clips), ngp = json_array_size(gaps);

		fputc('\n', out);
		if (json_is_string(json_object_get(dev, "device")))
			fprintf(out, _("device %s: "), str(dev, "device", "?"));
		else
			fputs(_("no device (no continuity check): "), out);
		fprintf(out, NG_("%zu clip", "%zu clips", nc), nc);
		fputs(SEP_LIST, out);
		fprintf(out, NG_("%zu gap", "%zu gaps", ngp), ngp);
		fputc('\n', out);
		json_array_foreach(clips, k, clip) {
			/* A gap goes just before the clip that ended it. */
			json_array_foreach(gaps, g, gap)
				if (has_int(gap, "before") &&
				    num(gap, "before") == num(clip, "index"))
					print_gap(out, tz, gap);
			print_clip(out, tz, clip, open, idw);
		}
		/* A gap whose clip is not listed is still a gap the reviewer must see. */
		json_array_foreach(gaps, g, gap)
			if (!gap_clip_listed(gap, clips))
				print_gap(out, tz, gap);
	}
	if (json_array_size(open)) {
		fprintf(out, _("\nopen items (%zu):\n"), json_array_size(open));
		print_open_items(out, tz, open, review);
	}
	json_array_foreach(res, i, item)
		nres += !reservation_open(item, open);
	if (nres) {
		fprintf(out, _("\nreservations (%zu):\n"), nres);
		json_array_foreach(res, i, item) {
			if (reservation_open(item, open))
				continue;
			fputs("  ", out);
			print_reservation(out, tz, item, false);
			fputc('\n', out);
		}
	}
	json_decref(res);
	if (json_array_size(annotations)) {
		fprintf(out, _("\nannotations (%zu):\n"), json_array_size(annotations));
		json_array_foreach(annotations, i, item) {
			fputs("  ", out);
			if (has_int(item, "index") && !json_object_get(item, "type"))
				item = json_object_get(item, "entry"); /* {index, entry} */
			ctl_annotation_print(out, tz, item);
		}
	}
	print_accesses(out, tz, review);
	verdict = ctl_review_verdict(review, tz);
	if (!verdict) {
		fprintf(stderr, _("custodyctl: out of memory for printing the answer\n"));
		return 2;
	}
	fputc('\n', out);
	fprintf(out, _("verdict: %s\n"), verdict);
	free(verdict);
	return json_is_true(json_object_get(review, "complete")) ? 0 : 1;
}

int ctl_review_print(const json_t *review, const struct ctl_page_ctx *ctx, FILE *out)
{
	json_t *safe = ctl_terminal_copy(review);
	int r;

	if (!safe)
		return 2;
	r = review_print(safe, ctx, out);
	json_decref(safe);
	return r;
}

/* ---- history ----------------------------------------------------------------------------- */

static void print_arrival(FILE *out, const struct ing_tz *tz, const json_t *h, const json_t *e)
{
	const json_t *dur = json_object_get(e, "duration_us");
	char s[SHOW_TIME_MAX], t[SHOW_TIME_MAX], d[SHOW_DURATION_MAX];
	const char *logged = str(e, "storage", NULL), *now = str(h, "storage_now", logged);

	fprintf(out, _("clip: '%s', zone %s, device %s, officer %s\n"), str(e, "name", "?"),
		str(e, "zone", "?"), str(e, "device", _("none")), str(e, "officer", _("unknown")));
	if (json_is_integer(dur))
		show_duration(json_integer_value(dur) / 1000000, d, sizeof(d));
	else
		snprintf(d, sizeof(d), "%s", _("length unknown"));
	fputs("  ", out);
	fprintf(out,
		json_is_true(json_object_get(e, "time_in_future"))
		    ? _("recorded %s to %s (%s), time from %s, IN THE FUTURE\n")
		    : _("recorded %s to %s (%s), time from %s\n"),
		when(tz, e, "recorded_start", s), when(tz, e, "recorded_end", t), d,
		time_source_text(str(e, "time_source", NULL)));
	fputs("  ", out);
	fprintf(out, _("stored %s, deadline %s: %s"), when(tz, e, "ingested_at", s),
		json_is_string(json_object_get(e, "deadline")) ? when(tz, e, "deadline", t)
							       : _("none"),
		storage_text(logged));
	if (now && logged && strcmp(now, logged))
		fprintf(out, _("; now %s"), storage_text(now));
	fputc('\n', out);
	fputs("  ", out);
	fprintf(out, _("SHA-256 %s, %lld bytes; original %s\n"), str(e, "sha256", "?"),
		(long long)num(e, "size"),
		json_is_string(json_object_get(h, "integrity"))
		    ? integrity_text(str(h, "integrity", NULL))
		    : _("not re-hashed for this history"));
	if (is(e, "type", "damaged")) {
		fputs("  ", out);
		fprintf(out, _("DAMAGED: %s\n"), str(e, "error", _("no error recorded")));
	}
	fputs("  ", out);
	if (json_array_size(json_object_get(h, "cases"))) {
		fprintf(out, "%s ",
			NG_("bound to case", "bound to cases",
			    json_array_size(json_object_get(h, "cases"))));
		print_strings(out, json_object_get(h, "cases"));
	} else {
		fputs(_("bound to no case"), out);
	}
	if (json_is_true(json_object_get(h, "held")))
		fprintf(out, "%s%s", SEP_CLAUSE, _("on hold"));
	if (json_is_true(json_object_get(h, "purged")))
		fprintf(out, "%s%s", SEP_CLAUSE, _("PURGED"));
	fputc('\n', out);
}

/* The scrub pass @e about entry @n: intact, missing or altered. */
static const char *scrub_word(const json_t *e, json_int_t n)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(e, "missing"), i, v)
		if (json_integer_value(v) == n)
			return _("the original was MISSING");
	json_array_foreach(json_object_get(e, "altered"), i, v)
		if (json_integer_value(v) == n)
			return _("the original was ALTERED");
	return _("the original was intact");
}

static void print_access_event(FILE *out, const json_t *e)
{
	fprintf(out, _("%s by %s: "), op_text(str(e, "op", NULL)), str(e, "by", "?"));
	if (json_is_false(json_object_get(e, "allowed")))
		fputs(_("REFUSED"), out);
	else
		fputs(_("allowed"), out);
	if (json_is_string(json_object_get(e, "result")))
		fprintf(out, _(", result %s"), result_text(str(e, "result", "")));
	if (is(e, "op", "copy-out")) {
		if (json_is_string(json_object_get(e, "destination")))
			fprintf(out, _("; to '%s'"), str(e, "destination", ""));
		if (json_is_string(json_object_get(e, "purpose")))
			fprintf(out, _("; purpose '%s'"), str(e, "purpose", ""));
		if (has_int(e, "approval"))
			fprintf(out, _("; under approval entry %lld"),
				(long long)num(e, "approval"));
		else if (is(e, "authority", "operator"))
			fprintf(out, "%s%s", SEP_CLAUSE, _("as an operator"));
	}
	fputc('\n', out);
}

static void print_event(FILE *out, const struct ing_tz *tz, const json_t *h, const json_t *ev,
			unsigned idw)
{
	const json_t *e = json_object_get(ev, "entry"), *client = json_object_get(ev, "client");
	const char *kind = str(ev, "kind", "?"), *proof = str(client, "proof", NULL);
	unsigned indent = 2 + idw + 2;
	char label[64], t[SHOW_TIME_MAX];

	snprintf(label, sizeof(label), _("entry %lld"), (long long)num(ev, "index"));
	fputs("  ", out);
	pad(out, label, idw);
	fprintf(out, "  %s  ",
		json_is_string(json_object_get(ev, "at")) ? when(tz, ev, "at", t)
							  : when(tz, e, "at", t));
	if (!strcmp(kind, "arrival")) {
		fprintf(out, _("arrival: '%s' in zone %s, stored %s\n"), str(e, "name", "?"),
			str(e, "zone", "?"), storage_text(str(e, "storage", NULL)));
	} else if (!strcmp(kind, "duplicate")) {
		fprintf(out, _("the same bytes arrived again: '%s' in zone %s (removed)\n"),
			str(e, "name", "?"), str(e, "zone", "?"));
	} else if (!strcmp(kind, "annotation")) {
		ctl_annotation_print(out, tz, e);
	} else if (!strcmp(kind, "access")) {
		print_access_event(out, e);
	} else if (!strcmp(kind, "scrub")) {
		fprintf(out, _("scrub: %s\n"), scrub_word(e, num(h, "entry")));
	} else if (!strcmp(kind, "purge")) {
		fprintf(out, _("PURGED by %s: '%s'\n"), str(e, "by", "?"),
			str(e, "reason", _("no reason given")));
	} else {
		fprintf(out, "%s\n", kind);
	}
	spaces(out, indent);
	if (!proof)
		fprintf(out, "%s\n", _("proof NOT CHECKED"));
	else if (!strcmp(proof, "verified"))
		fprintf(out, "%s\n", _("proof checked ✓"));
	else if (!strcmp(proof, "pending"))
		fprintf(out, "%s\n", _("no proof yet: newer than the checkpoint"));
	else if (!strcmp(proof, "unchecked"))
		fprintf(out, _("proof NOT CHECKED: %s\n"), str(client, "message", "?"));
	else
		fprintf(out, _("proof FAILED: %s\n"), str(client, "message", "?"));
}

static int history_print(const json_t *h, const struct ctl_page_ctx *ctx, FILE *out)
{
	const struct ing_tz *tz = ctx ? ctx->tz : NULL;
	const json_t *events = json_object_get(h, "events"), *ev;
	const json_t *client = json_object_get(h, "client");
	size_t i, n = json_array_size(events);
	unsigned idw = 0;

	fprintf(out, _("chain of custody of entry %lld\n"), (long long)num(h, "entry"));
	print_as_of(out, tz, h, _("as of %s, at the request of %s"), _("as of %s"));
	print_record(out, h, ctx);
	print_arrival(out, tz, h, json_object_get(h, "clip"));
	json_array_foreach(events, i, ev) {
		char label[64];

		snprintf(label, sizeof(label), _("entry %lld"), (long long)num(ev, "index"));
		if (text_width(label) > idw)
			idw = text_width(label);
	}
	fputc('\n', out);
	fprintf(out, _("events (%zu):\n"), n);
	json_array_foreach(events, i, ev)
		print_event(out, tz, h, ev, idw);
	if (json_is_true(json_object_get(h, "events_truncated")))
		fprintf(out, "%s\n",
			_("  (more events exist than one answer holds: `custodyctl log` lists "
			  "them)"));
	if (has_int(h, "accesses_total"))
		fprintf(out, _("accesses of this clip in all: %lld\n"),
			(long long)num(h, "accesses_total"));
	fputc('\n', out);
	if (!client) {
		fprintf(out, "%s\n", _("proofs: NOT CHECKED"));
		return 1;
	}
	if (json_is_true(json_object_get(client, "ok"))) {
		fprintf(out, _("proofs: %lld checked against the verifier key ✓"),
			(long long)num(client, "verified"));
		if (num(client, "pending"))
			fprintf(out, _("; %lld newer than the checkpoint"),
				(long long)num(client, "pending"));
		fputc('\n', out);
		return 0;
	}
	fprintf(out, _("proofs: NOT VERIFIED: %lld checked, %lld failed, %lld not checked"),
		(long long)num(client, "verified"), (long long)num(client, "failed"),
		(long long)num(client, "unchecked"));
	if (json_is_string(json_object_get(client, "problem")))
		fprintf(out, "%s%s", SEP_CLAUSE, str(client, "problem", ""));
	if (!is(client, "checkpoint", "verified"))
		fprintf(out, _("; the checkpoint: %s"),
			str(client, "message", str(client, "checkpoint", "?")));
	fputc('\n', out);
	return 1;
}

int ctl_history_print(const json_t *history, const struct ctl_page_ctx *ctx, FILE *out)
{
	json_t *safe = ctl_terminal_copy(history);
	int r;

	if (!safe)
		return 2;
	r = history_print(safe, ctx, out);
	json_decref(safe);
	return r;
}

/* ---- cases ------------------------------------------------------------------------------- */

/* "CAM1, CAM2 and 3 more" into @buf. */
static const char *device_list(const json_t *devices, char *buf, size_t n)
{
	size_t o = 0, i, total = json_array_size(devices);
	const json_t *v;

	buf[0] = '\0';
	json_array_foreach(devices, i, v) {
		int w;

		if (i == 3)
			break;
		w = snprintf(buf + o, n - o, "%s%s", i ? SEP_LIST : "",
			     json_string_value(v) ?: "?");
		if (w < 0 || (size_t)w >= n - o)
			return buf;
		o += (size_t)w;
	}
	if (total > 3)
		snprintf(buf + o, n - o, _(" and %zu more"), total - 3);
	return buf;
}

static const char *case_span(const struct ing_tz *tz, const json_t *c, char *buf, size_t n)
{
	int64_t a, b;
	char f[SHOW_TIME_MAX], t[SHOW_TIME_MAX], off[16];

	if (show_parse_time(str(c, "from", NULL), &a) < 0 ||
	    show_parse_time(str(c, "to", NULL), &b) < 0) {
		snprintf(buf, n, "%s", _("unknown"));
		return buf;
	}
	/* Minutes are enough in a table; the offset once, at the end. */
	snprintf(buf, n, _("%s to %s %s"), show_time_short(tz, a, f, sizeof(f)),
		 show_time_short(tz, b, t, sizeof(t)), show_offset(tz, b, off, sizeof(off)));
	return buf;
}

static void cases_print(const json_t *r, const struct ing_tz *tz, FILE *out)
{
	const json_t *cases = json_object_get(r, "cases"), *c;
	const char *head[6] = { _("case"), _("clips"),	    _("devices"),
				_("span"), _("open items"), _("last review") };
	unsigned w[6];
	size_t i, n = json_array_size(cases);
	char buf[6][512], t[SHOW_TIME_MAX];

	fprintf(out, NG_("%zu case, as of %s:\n", "%zu cases, as of %s:\n", n), n,
		when(tz, r, "as_of", t));
	for (size_t k = 0; k < 6; k++)
		w[k] = text_width(head[k]);
	/* Two passes: the widths, then the rows. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass) {
			fputs("  ", out);
			for (size_t k = 0; k < 6; k++) {
				if (k == 1 || k == 4)
					rpad(out, head[k], w[k]);
				else if (k == 5)
					fputs(head[k], out);
				else
					pad(out, head[k], w[k]);
				if (k < 5)
					fputs("  ", out);
			}
			fputc('\n', out);
		}
		json_array_foreach(cases, i, c) {
			snprintf(buf[0], sizeof(buf[0]), "%s", str(c, "case", "?"));
			snprintf(buf[1], sizeof(buf[1]), "%lld", (long long)num(c, "clips"));
			device_list(json_object_get(c, "devices"), buf[2], sizeof(buf[2]));
			case_span(tz, c, buf[3], sizeof(buf[3]));
			snprintf(buf[4], sizeof(buf[4]), "%lld", (long long)num(c, "open"));
			snprintf(buf[5], sizeof(buf[5]), "%s",
				 json_is_string(json_object_get(c, "last_review"))
				     ? when(tz, c, "last_review", t)
				     : _("never"));
			if (!pass) {
				for (size_t k = 0; k < 6; k++)
					if (text_width(buf[k]) > w[k])
						w[k] = text_width(buf[k]);
				continue;
			}
			fputs("  ", out);
			for (size_t k = 0; k < 6; k++) {
				if (k == 1 || k == 4)
					rpad(out, buf[k], w[k]);
				else if (k == 5)
					fputs(buf[k], out);
				else
					pad(out, buf[k], w[k]);
				if (k < 5)
					fputs("  ", out);
			}
			fputc('\n', out);
		}
	}
	if (!n)
		fprintf(out, "  %s\n", _("no case is bound yet (custodyctl annotate case …)"));
}

void ctl_cases_print(const json_t *cases, const struct ing_tz *tz, FILE *out)
{
	json_t *safe = ctl_terminal_copy(cases);

	if (safe)
		cases_print(safe, tz, out);
	json_decref(safe);
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

static void print_open(const json_t *report, const struct ing_tz *tz, FILE *out)
{
	const json_t *open = json_object_get(report, "open");

	fprintf(out, _("open items: %lld%s\n"),
		(long long)(has_int(report, "open_total") ? num(report, "open_total")
							  : (json_int_t)json_array_size(open)),
		json_is_true(json_object_get(report, "open_truncated")) ? _(" (not all listed)")
									: "");
	print_open_items(out, tz, open, NULL);
}

#define NAME_COLS 20

/* One row of the per-device or per-officer table: the name cut to NAME_COLS display columns
 * (a Chinese name is three bytes a character and two columns wide), then the counters. */
static void print_row(FILE *out, const char *name, const json_t *row)
{
	char fit[4 * NAME_COLS + 1], cell[32];

	fprintf(out, "  %s", utf8_fit(name, NAME_COLS, fit, sizeof(fit)));
	snprintf(cell, sizeof(cell), "%lld", (long long)num(row, "clips"));
	rpad(out, cell, 7);
	snprintf(cell, sizeof(cell), "%.1f", (double)num(row, "seconds") / 3600);
	rpad(out, cell, 8);
	snprintf(cell, sizeof(cell), "%lld", (long long)num(row, "on_time"));
	rpad(out, cell, 7);
	snprintf(cell, sizeof(cell), "%lld", (long long)num(row, "on_time_remote"));
	rpad(out, cell, 7);
	snprintf(cell, sizeof(cell), "%lld/%lld", (long long)num(row, "late_explained"),
		 (long long)num(row, "late_open"));
	rpad(out, cell, 10);
	snprintf(cell, sizeof(cell), "%lld/%lld", (long long)num(row, "unknown_time_explained"),
		 (long long)num(row, "unknown_time_open"));
	rpad(out, cell, 10);
	snprintf(cell, sizeof(cell), "%lld/%lld", (long long)num(row, "interruptions_explained"),
		 (long long)num(row, "interruptions"));
	rpad(out, cell, 10);
	snprintf(cell, sizeof(cell), "%lld/%lld", (long long)num(row, "damage_reported"),
		 (long long)num(row, "damaged"));
	rpad(out, cell, 10);
	snprintf(cell, sizeof(cell), "%lld", (long long)num(row, "accesses"));
	rpad(out, cell, 7);
	snprintf(cell, sizeof(cell), "%lld", (long long)num(row, "copy_outs"));
	rpad(out, cell, 7);
	snprintf(cell, sizeof(cell), "%lld", (long long)num(row, "refused"));
	rpad(out, cell, 7);
	fputc('\n', out);
}

static void print_table(FILE *out, const char *title, const char *head, const char *key,
			const json_t *rows)
{
	static const struct {
		const char *label;
		unsigned cols;
	} cols[] = {
		{ N_("clips"), 7 },	{ N_("hours"), 8 },	{ N_("ontime"), 7 },
		{ N_("remote"), 7 },	{ N_("late e/o"), 10 }, { N_("untimed"), 10 },
		{ N_("gaps e/n"), 10 }, { N_("dmg r/n"), 10 },	{ N_("access"), 7 },
		{ N_("copies"), 7 },	{ N_("refuse"), 7 },
	};
	char fit[4 * NAME_COLS + 1];
	const json_t *row;
	size_t i;

	fprintf(out, "\n%s\n  %s", title, utf8_fit(head, NAME_COLS, fit, sizeof(fit)));
	for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
		rpad(out, _(cols[k].label), cols[k].cols);
	fputc('\n', out);
	json_array_foreach(rows, i, row)
		print_row(out, str(row, key, _("(unknown)")), row);
}

static void report_print(const json_t *report, bool open_only, const struct ing_tz *tz, FILE *out)
{
	const json_t *t = json_object_get(report, "totals");
	char rec[SHOW_DURATION_MAX], a[SHOW_TIME_MAX], b[SHOW_TIME_MAX], c[SHOW_TIME_MAX];

	if (json_is_string(json_object_get(report, "from")))
		fprintf(out, _("report from %s to %s (as of %s)\n"), when(tz, report, "from", a),
			when(tz, report, "to", b), when(tz, report, "as_of", c));
	else
		fprintf(out, _("report over the whole log (as of %s)\n"),
			when(tz, report, "as_of", c));
	if (!open_only) {
		fprintf(out, _("clips: %lld (%s recorded)\n"), (long long)num(t, "clips"),
			span(num(t, "seconds"), rec));
		fprintf(out,
			_("stored on time: %lld; on time after remote duty: %lld; late: %lld "
			  "explained, %lld open; no trustworthy time: %lld explained, %lld open "
			  "(%lld with a time in the future)\n"),
			(long long)num(t, "on_time"), (long long)num(t, "on_time_remote"),
			(long long)num(t, "late_explained"), (long long)num(t, "late_open"),
			(long long)num(t, "unknown_time_explained"),
			(long long)num(t, "unknown_time_open"), (long long)num(t, "future_time"));
		fprintf(out,
			_("interruptions: %lld (%lld explained); damaged files: %lld (%lld "
			  "reported)\n"),
			(long long)num(t, "interruptions"),
			(long long)num(t, "interruptions_explained"), (long long)num(t, "damaged"),
			(long long)num(t, "damage_reported"));
		fprintf(out, _("accesses: %lld (%lld copy-outs); refused: %lld\n"),
			(long long)num(t, "accesses"), (long long)num(t, "copy_outs"),
			(long long)num(t, "refused"));
		print_table(out,
			    _("per device (late and untimed: explained/open; gaps: explained/all; "
			      "dmg: reported/all):"),
			    _("device"), "device", json_object_get(report, "devices"));
		print_table(out,
			    _("per officer (late and untimed: explained/open; gaps: explained/all; "
			      "dmg: reported/all):"),
			    _("officer"), "officer", json_object_get(report, "officers"));
		fputc('\n', out);
	}
	print_open(report, tz, out);
}

void ctl_report_print(const json_t *report, bool open_only, const struct ing_tz *tz, FILE *out)
{
	json_t *safe = ctl_terminal_copy(report);

	if (safe)
		report_print(safe, open_only, tz, out);
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
		fprintf(out, ",%lld", (long long)num(row, counters[i]));
	fputc('\n', out);
}

void ctl_report_csv(const json_t *report, bool bom, FILE *out)
{
	const json_t *row;
	size_t i;

	if (bom)
		fputs("\xef\xbb\xbf", out);
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

/* ctl/record.c: what a review and a chain of custody say on paper (docs/pages.md).
 *
 * DESIGN
 * - One page model (ctl/doc.h) per answer, painted twice (ctl/html.c, ctl/pdf.c), so the HTML
 *   page and the PDF cannot drift apart: every decision about content is made here, the
 *   renderers only decide looks.
 * - A record first: the log origin, checkpoint size and root and verifier key ID custodyctl
 *   checked the answer against (or, plainly, that it did not and why), the moment the answer
 *   was made and who asked; at the end a form for the reviewer's name, decision, notes,
 *   signature and date.
 * - Everything a person reads is localised here (gettext) and built from the answer's fields,
 *   never from the daemon's English sentences ("verdict", open items' "message"), which stay
 *   for scripts; a kind this file does not know still shows, with the daemon's words.
 * - Each clip row carries the text of what explains it (explanations[]), so the reviewer does
 *   not hunt through the annotations; raw errors go on a small detail line; another case
 *   binding the clip is a cross-reference, and that case's own annotations never appear.
 * - The answer is untrusted data of any shape: missing or ill-typed fields show as "—", long
 *   texts are cut (CTL_TEXT_MAX) and lists shortened (CTL_LIST_MAX) with the count said, so
 *   that no row outgrows a printed page.
 * Any thread: no state outside the call. */
#include "ctl/record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/utf8.h"
#include "ctl/doc.h"
#include "ctl/html.h"
#include "ctl/page.h"
#include "ctl/pdf.h"
#include "ctl/show.h"
#include "ingest/tz.h"

#define CTL_TEXT_MAX 1500 /* characters of one text shown (reasons are up to 16 KiB) */
#define CTL_LIST_MAX 40	  /* entry numbers of one list shown */

/* Translators: between the parts of a sentence ("8 clips; every gap explained"), and at its
 * end; Chinese uses full-width punctuation. */
#define SEP N_("; ")
#define STOP N_(".")
/* Translators: between the items of a list of words or names ("allowed, copied"). */
#define COMMA N_(", ")

/* ---- the answer's fields, whatever their shape ----------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jint(const json_t *o, const char *key, long long *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*ret = (long long)json_integer_value(v);
	return true;
}

static bool jtrue(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static size_t jlen(const json_t *a)
{
	return json_is_array(a) ? json_array_size(a) : 0;
}

static bool jeq(const json_t *o, const char *key, const char *want)
{
	const char *s = jstr(o, key);

	return s && !strcmp(s, want);
}

struct ctx {
	struct ctl_doc *d;
	const struct ctl_page_ctx *pc;
	const json_t *ans;
	/* The review's clips by entry number, for items that name an entry. */
	const json_t **clips;
	size_t nclips;
};

static const char *when(const struct ctx *c, const char *rfc3339, char *buf, size_t n)
{
	return show_time_str(c->pc->tz, rfc3339, buf, n);
}

static const char *dur(int64_t seconds, char *buf, size_t n)
{
	return show_duration(seconds, buf, n);
}

/* Seconds from @a to @b, both RFC 3339; false when either does not parse. */
static bool span_s(const char *a, const char *b, int64_t *ret)
{
	int64_t x, y;

	if (show_parse_time(a, &x) < 0 || show_parse_time(b, &y) < 0)
		return false;
	*ret = (y - x) / 1000000;
	return true;
}

/* A text of the answer (an annotation's reason…), cut at CTL_TEXT_MAX characters. */
static void add_jtext(struct ctx *c, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		      const json_t *v)
{
	const char *s;
	size_t len, i = 0, chars = 0;

	if (!json_is_string(v)) {
		ctl_para_add(c->d, p, flags, tone, "—");
		return;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	while (i < len && chars < CTL_TEXT_MAX) {
		uint32_t cp;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &cp);

		i += k ? k : 1;
		chars++;
	}
	ctl_para_addn(c->d, p, flags, tone, s, i);
	if (i < len) {
		size_t all = chars;

		for (; i < len; all++) {
			uint32_t cp;
			size_t k = utf8_decode((const uint8_t *)s + i, len - i, &cp);

			i += k ? k : 1;
		}
		ctl_para_addf(c->d, p, flags, tone, _("… (cut here: %zu characters in all)"), all);
	}
}

static void add_str(struct ctx *c, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		    const char *s)
{
	ctl_para_add(c->d, p, flags, tone, s ? s : "—");
}

/* "#3, #4, #9" from an array of entry numbers, at most CTL_LIST_MAX of them. */
static void add_entries(struct ctx *c, struct ctl_para *p, const json_t *a)
{
	size_t n = jlen(a);

	if (n == 0) {
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "—");
		return;
	}
	for (size_t i = 0; i < n && i < CTL_LIST_MAX; i++) {
		const json_t *v = json_array_get(a, i);

		if (json_is_integer(v))
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%s#%lld", i ? ", " : "",
				      (long long)json_integer_value(v));
		else
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%s?", i ? ", " : "");
	}
	if (n > CTL_LIST_MAX)
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" … (%zu in all)"), n);
}

/* ---- the review's clips by entry number ------------------------------------------------------ */

static long long clip_index(const json_t *clip)
{
	long long i;

	return jint(clip, "index", &i) ? i : -1;
}

static int cmp_clip(const void *a, const void *b)
{
	long long x = clip_index(*(const json_t *const *)a),
		  y = clip_index(*(const json_t *const *)b);

	return x < y ? -1 : x > y;
}

static int clips_index(struct ctx *c)
{
	const json_t *devs = json_object_get(c->ans, "devices");
	size_t n = 0;

	for (size_t i = 0; i < jlen(devs); i++)
		n += jlen(json_object_get(json_array_get(devs, i), "clips"));
	c->clips = calloc(n ? n : 1, sizeof(*c->clips));
	if (!c->clips)
		return -ENOMEM;
	for (size_t i = 0; i < jlen(devs); i++) {
		const json_t *cl = json_object_get(json_array_get(devs, i), "clips");

		for (size_t k = 0; k < jlen(cl); k++)
			if (json_is_object(json_array_get(cl, k)))
				c->clips[c->nclips++] = json_array_get(cl, k);
	}
	qsort(c->clips, c->nclips, sizeof(*c->clips), cmp_clip);
	return 0;
}

static const json_t *clip_by_entry(const struct ctx *c, long long entry)
{
	size_t lo = 0, hi = c->nclips;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		long long v = clip_index(c->clips[mid]);

		if (v == entry)
			return c->clips[mid];
		if (v < entry)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- words for the answer's codes ------------------------------------------------------------ */

struct word {
	const char *code, *text;
};

static const char *word(const struct word *w, const char *code)
{
	for (; code && w->code; w++)
		if (!strcmp(w->code, code))
			return _(w->text);
	return code;
}

static const struct word storage_words[] = {
	/* Translators: a clip's storage status, in a table cell. */
	{ "on_time", N_("stored on time") },
	{ "on_time_remote", N_("on time (remote duty)") },
	{ "late", N_("LATE") },
	{ "unknown_time", N_("time unknown") },
	{ NULL, NULL },
};

static const struct word integrity_words[] = {
	/* Translators: what re-hashing the stored original found. */
	{ "ok", N_("original intact") },
	{ "altered", N_("ALTERED") },
	{ "missing", N_("MISSING") },
	{ "purged", N_("purged") },
	{ NULL, NULL },
};

static const struct word open_words[] = {
	/* Translators: the kind of an open item of a review. */
	{ "late", N_("stored late") },
	{ "unknown_time", N_("time unknown") },
	{ "future_time", N_("time in the future") },
	{ "gap", N_("gap") },
	{ "damaged", N_("damaged file") },
	{ "altered", N_("original altered") },
	{ "missing", N_("original missing") },
	{ "purged", N_("original purged") },
	{ "no_device", N_("no device") },
	{ "no_clips", N_("no clips") },
	{ NULL, NULL },
};

static const struct word annotation_words[] = {
	/* Translators: the kind of an annotation recorded in the log. */
	{ "interruption", N_("interruption") },
	{ "late_storage", N_("late storage explained") },
	{ "remote_duty", N_("remote duty") },
	{ "damage_report", N_("damage report") },
	{ "case", N_("case binding") },
	{ "approval", N_("approval") },
	{ "hold", N_("hold") },
	{ "device", N_("device attribution") },
	{ NULL, NULL },
};

static const struct word op_words[] = {
	/* Translators: what an access to the log did (an access entry's "op"). */
	{ "review", N_("review") },
	{ "entry", N_("read the entry") },
	{ "proof", N_("inclusion proof") },
	{ "verify", N_("verification") },
	{ "copy-out", N_("copy-out") },
	{ "log", N_("log listing") },
	{ "retention", N_("retention listing") },
	{ "history", N_("chain of custody") },
	{ NULL, NULL },
};

static const struct word result_words[] = {
	/* Translators: the result of an access (copy-out, verification…). */
	{ "copied", N_("copied") },
	{ "refused", N_("refused") },
	{ "not_found", N_("not found") },
	{ "not_an_original", N_("not an original") },
	{ "purged", N_("purged") },
	{ "missing", N_("original missing") },
	{ "failed", N_("failed") },
	{ "abandoned", N_("abandoned") },
	{ "log_unwritable", N_("log unwritable") },
	{ "exact", N_("exact match") },
	{ "remux", N_("remux") },
	{ "excerpt", N_("excerpt") },
	{ "altered", N_("ALTERED") },
	{ "unknown", N_("unknown") },
	{ NULL, NULL },
};

static const struct word source_words[] = {
	/* Translators: what a clip's recording time was taken from. */
	{ "tag", N_("the file's tags") },
	{ "filename", N_("its name") },
	{ "mtime", N_("its modification time") },
	{ NULL, NULL },
};

static const struct word event_words[] = {
	/* Translators: an event of a clip's chain of custody. */
	{ "arrival", N_("arrival") },
	{ "duplicate", N_("same bytes again") },
	{ "annotation", N_("annotation") },
	{ "access", N_("access") },
	{ "scrub", N_("scrub") },
	{ "purge", N_("purge") },
	{ NULL, NULL },
};

static enum ctl_tone storage_tone(const char *s, bool explained)
{
	if (!s)
		return CTL_TONE_NOTE;
	if (!strcmp(s, "on_time"))
		return CTL_TONE_OK;
	if (!strcmp(s, "on_time_remote"))
		return CTL_TONE_WARN;
	return explained ? CTL_TONE_WARN : CTL_TONE_BAD;
}

static enum ctl_tone integrity_tone(const char *s)
{
	if (!s)
		return CTL_TONE_NOTE;
	return !strcmp(s, "ok") ? CTL_TONE_OK : CTL_TONE_BAD;
}

static bool clip_damaged(const json_t *clip)
{
	return jtrue(clip, "damaged") || jeq(clip, "type", "damaged");
}

/* ---- the record: what ties the page to the log ----------------------------------------------- */

static void put_record(struct ctx *c, const char *what, const char *value, const json_t *bound_by)
{
	const struct ctl_page_ctx *pc = c->pc;
	struct ctl_table *t;
	struct ctl_para *p;
	char b[SHOW_TIME_MAX], off[16];
	long long size;
	int64_t now = 0;

	/* Translators: heading of the block that ties a page to the log. */
	ctl_doc_heading(c->d, 2, "record", _("Record"));
	t = ctl_doc_kv_table(c->d);
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, what), 0);
	ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, value);
	ctl_cell_line(c->d, ctl_doc_kv(c->d, t, _("Made at")), 0,
		      when(c, jstr(c->ans, "as_of"), b, sizeof(b)));
	add_str(c, ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Requested by")), 0), 0, CTL_TONE_NONE,
		jstr(c->ans, "requested_by"));
	if (pc->checked) {
		add_str(c, ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Log")), 0), CTL_RUN_MONO,
			CTL_TONE_NONE, pc->origin);
		p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Checkpoint")), 0);
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_OK, _("checked"));
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" size %llu, root "),
			      (unsigned long long)pc->size);
		add_str(c, p, CTL_RUN_MONO, CTL_TONE_NONE, pc->root);
		p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Verifier key")), 0);
		add_str(c, p, CTL_RUN_MONO, CTL_TONE_NONE, pc->key_name);
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(", key ID "));
		add_str(c, p, CTL_RUN_MONO, CTL_TONE_NONE, pc->key_id);
		p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Witness cosignatures checked")), 0);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%u", pc->cosignatures);
	} else {
		p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Checkpoint")), 0);
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("NOT CHECKED"));
		if (jint(c->ans, "checkpoint_size", &size))
			ctl_para_addf(
			    c->d, p, 0, CTL_TONE_NONE,
			    _(" the answer names a checkpoint of size %lld, which was not "
			      "checked against the verifier key: "),
			    size);
		else
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
				     _(" the daemon has signed no checkpoint yet: "));
		add_str(c, p, 0, CTL_TONE_NONE, pc->why ? pc->why : _("no reason given"));
		ctl_cell_line(c->d, ctl_doc_kv(c->d, t, _("Verifier key")), 0, "—");
	}
	show_parse_time(jstr(c->ans, "as_of"), &now);
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Times shown in")), 0);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%s (UTC%s)", pc->tz ? ing_tz_name(pc->tz) : "UTC",
		      show_offset(pc->tz, now, off, sizeof(off)));
	if (bound_by) {
		/* Translators: the case annotations that bind the clips to the case. */
		p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Bound by")), 0);
		add_entries(c, p, bound_by);
	}
	if (!pc->checked) {
		struct ctl_cell *box = ctl_doc_box(c->d, CTL_TONE_BAD);

		p = ctl_cell_para(c->d, box, 0);
		ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			     _("This page is not tied to a checked checkpoint. "));
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     _("What it shows is the daemon's answer as received; nothing on it "
			       "was checked against the log's verifier key."));
	}
}

static void put_form(struct ctx *c)
{
	/* Translators: heading of the form the legal reviewer fills in by hand. */
	ctl_doc_heading(c->d, 2, "reviewer", _("Reviewer"));
	ctl_doc_field(c->d, _("Reviewer's name"), 1);
	ctl_doc_field(c->d, _("Decision"), 2);
	ctl_doc_field(c->d, _("Notes"), 4);
	ctl_doc_field(c->d, _("Signature"), 1);
	ctl_doc_field(c->d, _("Date"), 1);
}

static void set_running(struct ctx *c, const char *title, const char *running)
{
	char b[SHOW_TIME_MAX], *footer = NULL;
	long long size;

	ctl_doc_set(c->d, &c->d->lang, i18n_lang());
	ctl_doc_set(c->d, &c->d->title, title);
	ctl_doc_set(c->d, &c->d->running, running);
	ctl_doc_set(c->d, &c->d->running_right, when(c, jstr(c->ans, "as_of"), b, sizeof(b)));
	/* Translators: "page 3 of 7" at the foot of every printed page; keep both %u, the page
	 * first. */
	ctl_doc_set(c->d, &c->d->page_of, _("page %u of %u"));
	if (c->pc->checked) {
		if (asprintf(&footer, _("%s · checkpoint %llu · key %s"),
			     c->pc->origin ? c->pc->origin : "—", (unsigned long long)c->pc->size,
			     c->pc->key_id ? c->pc->key_id : "—") < 0)
			footer = NULL;
	} else if (jint(c->ans, "checkpoint_size", &size)) {
		if (asprintf(&footer, _("checkpoint %lld NOT CHECKED"), size) < 0)
			footer = NULL;
	} else {
		footer = strdup(_("no checkpoint"));
	}
	if (!footer)
		c->d->failed = true;
	ctl_doc_set(c->d, &c->d->footer, footer);
	free(footer);
	c->d->tz = c->pc->tz;
}

/* ---- explanations and clips ------------------------------------------------------------------ */

/* One explanation of a clip (docs/review-format.md, explanations[]) as a line of its row. */
static void put_explanation(struct ctx *c, struct ctl_cell *cell, const json_t *x)
{
	struct ctl_para *p = ctl_cell_para(c->d, cell, 0);
	const char *kind = jstr(x, "kind");
	char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX], b3[SHOW_TIME_MAX];
	long long idx = -1;

	jint(x, "index", &idx);
	if (kind && !strcmp(kind, "late_storage"))
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			      _("Late storage explained (#%lld): "), idx);
	else if (kind && !strcmp(kind, "damage_report"))
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("Damage report (#%lld): "),
			      idx);
	else if (kind && !strcmp(kind, "remote_duty"))
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			      _("Remote duty declared (#%lld): "), idx);
	else if (kind && !strcmp(kind, "device"))
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			      _("Device attributed (#%lld): "), idx);
	else
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			      "%s (#%lld): ", kind ? kind : "?", idx);
	if (kind && !strcmp(kind, "remote_duty")) {
		const char *who = jstr(x, "device") ? jstr(x, "device") : jstr(x, "officer");

		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("%s away from %s to %s, back at %s. "),
			      who ? who : "—", when(c, jstr(x, "from"), b1, sizeof(b1)),
			      when(c, jstr(x, "to"), b2, sizeof(b2)),
			      when(c, jstr(x, "returned_at"), b3, sizeof(b3)));
		if (json_is_string(json_object_get(x, "text")))
			add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(x, "text"));
	} else if (kind && !strcmp(kind, "device")) {
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("device %s. "),
			      jstr(x, "device") ? jstr(x, "device") : "—");
		add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(x, "text"));
	} else {
		add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(x, "text"));
	}
	p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("recorded by %s at %s"),
		      jstr(x, "by") ? jstr(x, "by") : "—", when(c, jstr(x, "at"), b1, sizeof(b1)));
}

/* The words of a clip's status cell: storage, integrity, damage, each a framed word. */
static void put_clip_status(struct ctx *c, struct ctl_cell *cell, const json_t *clip)
{
	const char *now =
	    jstr(clip, "storage_now") ? jstr(clip, "storage_now") : jstr(clip, "storage");
	const char *ig = jstr(clip, "integrity");
	bool explained = jlen(json_object_get(clip, "explained_by")) > 0;
	struct ctl_para *p;
	long long rep;

	p = ctl_cell_para(c->d, cell, 0);
	ctl_para_add(c->d, p, CTL_RUN_BADGE, storage_tone(now, explained),
		     now ? word(storage_words, now) : _("time unknown"));
	if (now && (!strcmp(now, "late") || !strcmp(now, "unknown_time")))
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     explained ? _(" explained") : _(" NOT explained"));
	p = ctl_cell_para(c->d, cell, 0);
	ctl_para_add(c->d, p, CTL_RUN_BADGE, integrity_tone(ig),
		     ig ? word(integrity_words, ig) : _("not checked"));
	if (clip_damaged(clip)) {
		p = ctl_cell_para(c->d, cell, 0);
		if (jint(clip, "damage_report", &rep)) {
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_WARN, _("DAMAGED"));
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" reported (#%lld)"), rep);
		} else {
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("DAMAGED"));
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(" no report"));
		}
	}
}

static bool clip_open(const json_t *clip)
{
	const char *now =
	    jstr(clip, "storage_now") ? jstr(clip, "storage_now") : jstr(clip, "storage");
	const char *ig = jstr(clip, "integrity");
	long long rep;

	if (ig && strcmp(ig, "ok"))
		return true;
	if (clip_damaged(clip) && !jint(clip, "damage_report", &rep))
		return true;
	return now && (!strcmp(now, "late") || !strcmp(now, "unknown_time")) &&
	       !jlen(json_object_get(clip, "explained_by"));
}

static void put_clip_row(struct ctx *c, struct ctl_table *t, const json_t *clip)
{
	char anchor[32], b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX], d1[SHOW_DURATION_MAX];
	const json_t *xs = json_object_get(clip, "explanations"), *oc;
	long long idx = clip_index(clip), v;
	struct ctl_row *r;
	struct ctl_para *p;
	const char *logged, *now;

	snprintf(anchor, sizeof(anchor), "e%lld", idx);
	r = ctl_table_row(c->d, t, clip_open(clip) ? CTL_TONE_BAD : CTL_TONE_NONE,
			  idx >= 0 ? anchor : NULL);
	if (!r)
		return;
	p = ctl_cell_para(c->d, &r->cells[0], 0);
	if (idx >= 0)
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, "%lld", idx);
	else
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "—");
	p = ctl_cell_para(c->d, &r->cells[1], 0);
	add_jtext(c, p, CTL_RUN_BOLD, CTL_TONE_NONE, json_object_get(clip, "name"));
	p = ctl_cell_para(c->d, &r->cells[1], CTL_PARA_SMALL);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("zone %s"),
		      jstr(clip, "zone") ? jstr(clip, "zone") : "—");
	p = ctl_cell_para(c->d, &r->cells[1], CTL_PARA_SMALL);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("officer %s"),
		      jstr(clip, "officer") ? jstr(clip, "officer") : "—");

	ctl_cell_line(c->d, &r->cells[2], 0, when(c, jstr(clip, "recorded_start"), b1, sizeof(b1)));
	ctl_cell_line(c->d, &r->cells[2], 0, when(c, jstr(clip, "recorded_end"), b2, sizeof(b2)));
	p = ctl_cell_para(c->d, &r->cells[2], CTL_PARA_SMALL);
	if (jint(clip, "duration_us", &v) && v >= 0)
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, dur(v / 1000000, d1, sizeof(d1)));
	else
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("length unknown"));
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, " · ");
	if (jstr(clip, "time_source"))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("time from %s"),
			      word(source_words, jstr(clip, "time_source")));
	else
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("no trustworthy time"));

	ctl_cell_line(c->d, &r->cells[3], 0, when(c, jstr(clip, "ingested_at"), b1, sizeof(b1)));
	p = ctl_cell_para(c->d, &r->cells[3], CTL_PARA_SMALL);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("deadline %s"),
		      when(c, jstr(clip, "deadline"), b2, sizeof(b2)));

	put_clip_status(c, &r->cells[4], clip);

	/* The detail line, across the row: what explains it, then the raw facts. */
	for (size_t i = 0; i < jlen(xs); i++)
		put_explanation(c, &r->detail, json_array_get(xs, i));
	logged = jstr(clip, "storage");
	now = jstr(clip, "storage_now");
	if (logged && now && strcmp(logged, now)) {
		p = ctl_cell_para(c->d, &r->detail, CTL_PARA_SMALL);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("Logged at ingest as: %s"),
			      word(storage_words, logged));
	}
	if (jlen(json_object_get(clip, "explained_by")) && !jlen(xs)) {
		p = ctl_cell_para(c->d, &r->detail, 0);
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("Explained by "));
		add_entries(c, p, json_object_get(clip, "explained_by"));
	}
	if (jtrue(clip, "time_in_future"))
		ctl_cell_line(c->d, &r->detail, 0,
			      _("Recorded, by its own time, after it was stored: the camera's "
				"clock was wrong."));
	if (jeq(clip, "device_from", "annotation"))
		ctl_cell_line(c->d, &r->detail, 0,
			      _("Its device comes from a device annotation, not from its name."));
	oc = json_object_get(clip, "other_cases");
	if (jlen(oc)) {
		p = ctl_cell_para(c->d, &r->detail, 0);
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_NOTE, _("also bound to"));
		for (size_t i = 0; i < jlen(oc) && i < CTL_LIST_MAX; i++) {
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE, i ? _(COMMA) : " ");
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("case %s"),
				      json_is_string(json_array_get(oc, i))
					  ? json_string_value(json_array_get(oc, i))
					  : "?");
		}
		if (jlen(oc) > CTL_LIST_MAX)
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" … (%zu in all)"), jlen(oc));
	}
	if (jstr(clip, "error")) {
		p = ctl_cell_para(c->d, &r->detail, CTL_PARA_SMALL);
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("Error while reading the file: "));
		add_jtext(c, p, CTL_RUN_MONO, CTL_TONE_NONE, json_object_get(clip, "error"));
	}
	if (jstr(clip, "integrity_error")) {
		p = ctl_cell_para(c->d, &r->detail, CTL_PARA_SMALL);
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("Re-hashing the original: "));
		add_jtext(c, p, CTL_RUN_MONO, CTL_TONE_NONE,
			  json_object_get(clip, "integrity_error"));
	}
	p = ctl_cell_para(c->d, &r->detail, CTL_PARA_SMALL);
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "SHA-256 ");
	add_str(c, p, CTL_RUN_MONO, CTL_TONE_NONE, jstr(clip, "sha256"));
	if (jint(clip, "size", &v))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" · %lld bytes"), v);
}

static void put_clip_table(struct ctx *c, const json_t *clips)
{
	static const double w[] = { 0.07, 0.27, 0.24, 0.22, 0.20 };
	static const char *const head[] = {
		/* Translators: column headings of a device's table of clips. */
		N_("Entry"), N_("File"), N_("Recorded (start, end)"), N_("Stored"), N_("Status"),
	};
	struct ctl_table *t = ctl_doc_table(c->d, 5, w, true);

	for (size_t i = 0; i < 5; i++)
		ctl_cell_line(c->d, ctl_table_head(c->d, t, i), 0, _(head[i]));
	for (size_t i = 0; i < jlen(clips); i++)
		put_clip_row(c, t, json_array_get(clips, i));
}

static void put_gap_table(struct ctx *c, const json_t *gaps)
{
	static const double w[] = { 0.21, 0.21, 0.14, 0.13, 0.31 };
	static const char *const head[] = {
		/* Translators: column headings of a device's table of gaps. */
		N_("From"), N_("To"), N_("Length"), N_("Between"), N_("Explanation"),
	};
	struct ctl_table *t;

	if (!jlen(gaps))
		return;
	/* Translators: heading of the gaps of one device. */
	ctl_doc_heading(c->d, 3, NULL, _("Gaps"));
	t = ctl_doc_table(c->d, 5, w, true);
	for (size_t i = 0; i < 5; i++)
		ctl_cell_line(c->d, ctl_table_head(c->d, t, i), 0, _(head[i]));
	for (size_t i = 0; i < jlen(gaps); i++) {
		const json_t *g = json_array_get(gaps, i);
		long long a = -1, b = -1, ex, s;
		bool open = !jint(g, "explained_by", &ex);
		char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX], d1[SHOW_DURATION_MAX];
		struct ctl_row *r =
		    ctl_table_row(c->d, t, open ? CTL_TONE_BAD : CTL_TONE_NONE, NULL);
		struct ctl_para *p;
		int64_t sec;

		if (!r)
			return;
		ctl_cell_line(c->d, &r->cells[0], 0, when(c, jstr(g, "from"), b1, sizeof(b1)));
		ctl_cell_line(c->d, &r->cells[1], 0, when(c, jstr(g, "to"), b2, sizeof(b2)));
		if (jint(g, "seconds", &s))
			ctl_cell_line(c->d, &r->cells[2], 0, dur(s, d1, sizeof(d1)));
		else if (span_s(jstr(g, "from"), jstr(g, "to"), &sec))
			ctl_cell_line(c->d, &r->cells[2], 0, dur(sec, d1, sizeof(d1)));
		else
			ctl_cell_line(c->d, &r->cells[2], 0, "—");
		jint(g, "after", &a);
		jint(g, "before", &b);
		p = ctl_cell_para(c->d, &r->cells[3], 0);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "#%lld → #%lld", a, b);
		p = ctl_cell_para(c->d, &r->cells[4], 0);
		if (open) {
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("NOT EXPLAINED"));
		} else {
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_WARN, _("explained"));
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" by #%lld: "), ex);
			add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(g, "reason"));
		}
	}
}

static void put_device(struct ctx *c, const json_t *dev, bool *legend)
{
	const json_t *clips = json_object_get(dev, "clips"), *gaps = json_object_get(dev, "gaps");
	size_t nopen = 0, ntimed = 0;
	int64_t t0 = INT64_MAX, t1 = INT64_MIN;
	struct ctl_para *p;
	char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX], *h = NULL;

	if (jstr(dev, "device")) {
		/* Translators: heading of one device's part of a review. */
		if (asprintf(&h, _("Device %s"), jstr(dev, "device")) < 0)
			h = NULL;
		ctl_doc_heading(c->d, 3, NULL, h ? h : "?");
		free(h);
	} else {
		ctl_doc_heading(c->d, 3, NULL, _("Clips without a device"));
	}
	for (size_t i = 0; i < jlen(gaps); i++)
		nopen += !json_is_integer(json_object_get(json_array_get(gaps, i), "explained_by"));
	for (size_t i = 0; i < jlen(clips); i++) {
		const json_t *cl = json_array_get(clips, i);
		int64_t s, e;

		if (show_parse_time(jstr(cl, "recorded_start"), &s) < 0)
			continue;
		if (show_parse_time(jstr(cl, "recorded_end"), &e) < 0)
			e = s;
		ntimed++;
		t0 = s < t0 ? s : t0;
		t1 = e > t1 ? e : t1;
	}
	p = ctl_cell_para(c->d, ctl_doc_text(c->d), 0);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, NG_("%zu clip", "%zu clips", jlen(clips)),
		      jlen(clips));
	if (ntimed)
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(", recorded from %s to %s"),
			      show_time(c->pc->tz, t0, b1, sizeof(b1)),
			      show_time(c->pc->tz, t1, b2, sizeof(b2)));
	if (jlen(clips) > ntimed)
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
			      NG_("; %zu without a trustworthy time",
				  "; %zu without a trustworthy time", jlen(clips) - ntimed),
			      jlen(clips) - ntimed);
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(SEP));
	if (!jlen(gaps))
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("no gap"));
	else
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, NG_("%zu gap", "%zu gaps", jlen(gaps)),
			      jlen(gaps));
	if (nopen)
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _(", %zu NOT explained"),
			      nopen);
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(STOP));
	/* The timeline of the device's clips; the legend with the first one (docs/timeline.md). */
	if (jlen(clips)) {
		if (!*legend)
			ctl_doc_legend(c->d);
		*legend = true;
		ctl_doc_timeline(c->d, dev);
	}
	put_clip_table(c, clips);
	put_gap_table(c, gaps);
}

/* ---- open items and reservations ------------------------------------------------------------- */

/* "entry 8 “CAM05_….mp4”" into @p, or the device and span of an item without an entry. */
static void put_concerns(struct ctx *c, struct ctl_cell *cell, const json_t *item, bool gap)
{
	char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX];
	const json_t *clip;
	struct ctl_para *p;
	long long e;

	if (!gap && jint(item, "entry", &e)) {
		p = ctl_cell_para(c->d, cell, 0);
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("entry %lld"), e);
		clip = clip_by_entry(c, e);
		if (jstr(clip, "name")) {
			p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
			add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(clip, "name"));
		}
	}
	if (jstr(item, "device")) {
		p = ctl_cell_para(c->d, cell, gap ? 0 : CTL_PARA_SMALL);
		ctl_para_addf(c->d, p, gap ? CTL_RUN_BOLD : 0, CTL_TONE_NONE, _("device %s"),
			      jstr(item, "device"));
	}
	if (gap && (jstr(item, "from") || jstr(item, "to"))) {
		p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("%s to %s"),
			      when(c, jstr(item, "from"), b1, sizeof(b1)),
			      when(c, jstr(item, "to"), b2, sizeof(b2)));
	}
	if (!cell->n)
		ctl_cell_line(c->d, cell, 0, "—");
}

/* An open item in words: from its kind and fields, with the clip's own data; the daemon's
 * English message only for a kind this page does not know. */
static void put_open_words(struct ctx *c, struct ctl_cell *cell, const json_t *o)
{
	const char *kind = jstr(o, "kind");
	char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX], d1[SHOW_DURATION_MAX];
	const json_t *clip = NULL;
	struct ctl_para *p = ctl_cell_para(c->d, cell, 0);
	long long e;
	int64_t s;

	if (jint(o, "entry", &e))
		clip = clip_by_entry(c, e);
	if (!kind) {
		add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(o, "message"));
	} else if (!strcmp(kind, "late")) {
		if (clip && span_s(jstr(clip, "deadline"), jstr(clip, "ingested_at"), &s))
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
				      _("stored %s after its deadline of %s; no explanation is "
					"recorded"),
				      dur(s, d1, sizeof(d1)),
				      when(c, jstr(clip, "deadline"), b1, sizeof(b1)));
		else
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
				     _("stored after its deadline; no explanation is recorded"));
	} else if (!strcmp(kind, "unknown_time")) {
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     _("no trustworthy recording time, so whether it was stored in time "
			       "cannot be judged; no explanation is recorded"));
	} else if (!strcmp(kind, "future_time")) {
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
			      _("its time says it was recorded from %s to %s, after it was stored: "
				"the camera's clock was wrong; no explanation is recorded"),
			      when(c, jstr(o, "from"), b1, sizeof(b1)),
			      when(c, jstr(o, "to"), b2, sizeof(b2)));
	} else if (!strcmp(kind, "gap")) {
		if (span_s(jstr(o, "from"), jstr(o, "to"), &s))
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
				      _("the device recorded nothing for %s; no interruption is "
					"recorded to explain it"),
				      dur(s, d1, sizeof(d1)));
		else
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
				     _("the device recorded nothing; no interruption is recorded "
				       "to explain it"));
	} else if (!strcmp(kind, "damaged")) {
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     _("the file is damaged and no damage report is recorded"));
		if (jstr(clip, "error")) {
			p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
			add_jtext(c, p, CTL_RUN_MONO, CTL_TONE_NONE,
				  json_object_get(clip, "error"));
		}
	} else if (!strcmp(kind, "altered")) {
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     _("the stored original no longer matches what the log recorded"));
	} else if (!strcmp(kind, "missing")) {
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     _("the original is not in the store or cannot be read"));
		if (jstr(clip, "integrity_error")) {
			p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
			add_jtext(c, p, CTL_RUN_MONO, CTL_TONE_NONE,
				  json_object_get(clip, "integrity_error"));
		}
	} else if (!strcmp(kind, "purged")) {
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     _("the original was purged: it can no longer be checked"));
	} else if (!strcmp(kind, "no_device")) {
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
			      _("its name matched no pattern of zone %s: it has no device, so its "
				"continuity cannot be checked"),
			      jstr(clip, "zone") ? jstr(clip, "zone") : "—");
	} else if (!strcmp(kind, "no_clips")) {
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("no clip is bound to this case"));
	} else {
		add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(o, "message"));
	}
}

static void put_open_items(struct ctx *c, const json_t *open)
{
	static const double w[] = { 0.04, 0.14, 0.20, 0.34, 0.28 };
	static const char *const head[] = {
		/* Translators: column headings of the open items of a review. */
		"", N_("Item"), N_("Concerns"), N_("What is open"), N_("To close it"),
	};
	struct ctl_table *t;

	ctl_doc_heading(c->d, 2, "open", _("Open items"));
	if (!jlen(open)) {
		ctl_cell_line(c->d, ctl_doc_text(c->d), 0, _("Nothing is open."));
		return;
	}
	t = ctl_doc_table(c->d, 5, w, true);
	for (size_t i = 1; i < 5; i++)
		ctl_cell_line(c->d, ctl_table_head(c->d, t, i), 0, _(head[i]));
	for (size_t i = 0; i < jlen(open); i++) {
		const json_t *o = json_array_get(open, i);
		struct ctl_row *r = ctl_table_row(c->d, t, CTL_TONE_BAD, NULL);
		struct ctl_para *p;

		if (!r)
			return;
		ctl_para_addf(c->d, ctl_cell_para(c->d, &r->cells[0], 0), 0, CTL_TONE_NONE, "%zu",
			      i + 1);
		p = ctl_cell_para(c->d, &r->cells[1], 0);
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD,
			     jstr(o, "kind") ? word(open_words, jstr(o, "kind")) : "?");
		put_concerns(c, &r->cells[2], o, jeq(o, "kind", "gap"));
		put_open_words(c, &r->cells[3], o);
		p = ctl_cell_para(c->d, &r->cells[4], 0);
		if (jstr(o, "action"))
			add_jtext(c, p, CTL_RUN_MONO, CTL_TONE_NONE, json_object_get(o, "action"));
		else
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "—");
	}
}

/* The explanation numbered @idx among @clip's, or NULL. */
static const json_t *explanation(const json_t *clip, long long idx)
{
	const json_t *xs = json_object_get(clip, "explanations");

	for (size_t i = 0; i < jlen(xs); i++) {
		long long v;

		if (jint(json_array_get(xs, i), "index", &v) && v == idx)
			return json_array_get(xs, i);
	}
	return NULL;
}

/* The reason of the gap of @device from..to that @idx explains, from devices[].gaps[]. */
static const json_t *gap_reason(struct ctx *c, const json_t *res, long long idx)
{
	const json_t *devs = json_object_get(c->ans, "devices");

	for (size_t i = 0; i < jlen(devs); i++) {
		const json_t *gaps = json_object_get(json_array_get(devs, i), "gaps");

		for (size_t k = 0; k < jlen(gaps); k++) {
			const json_t *g = json_array_get(gaps, k);
			long long v;

			if (jint(g, "explained_by", &v) && v == idx &&
			    (!jstr(res, "from") || jeq(g, "from", jstr(res, "from"))))
				return json_object_get(g, "reason");
		}
	}
	return NULL;
}

static const struct word reservation_words[] = {
	/* Translators: what a reservation of a review is about (closed, but to weigh). */
	{ "damaged", N_("damaged file") },
	{ "late", N_("stored late") },
	{ "unknown_time", N_("time unknown") },
	{ "future_time", N_("time in the future") },
	{ "remote_duty", N_("on time by remote duty") },
	{ "gap", N_("gap") },
	{ "no_device", N_("device by annotation") },
	{ NULL, NULL },
};

static void put_reservations(struct ctx *c, const json_t *res)
{
	static const double w[] = { 0.20, 0.25, 0.55 };
	static const char *const head[] = {
		/* Translators: column headings of the reservations of a review. */
		N_("Reservation"),
		N_("Concerns"),
		N_("What explains it"),
	};
	struct ctl_table *t;

	if (!jlen(res))
		return;
	/* Translators: heading: what is closed but the reviewer must weigh. */
	ctl_doc_heading(c->d, 2, "reservations", _("Reservations"));
	t = ctl_doc_table(c->d, 3, w, true);
	for (size_t i = 0; i < 3; i++)
		ctl_cell_line(c->d, ctl_table_head(c->d, t, i), 0, _(head[i]));
	for (size_t i = 0; i < jlen(res); i++) {
		const json_t *o = json_array_get(res, i), *clip = NULL, *x = NULL;
		struct ctl_row *r = ctl_table_row(c->d, t, CTL_TONE_NONE, NULL);
		struct ctl_para *p;
		bool gap = jeq(o, "kind", "gap");
		long long e, ex;

		if (!r)
			return;
		ctl_para_add(c->d, ctl_cell_para(c->d, &r->cells[0], 0), CTL_RUN_BADGE,
			     CTL_TONE_WARN,
			     jstr(o, "kind") ? word(reservation_words, jstr(o, "kind")) : "?");
		put_concerns(c, &r->cells[1], o, gap);
		if (jint(o, "entry", &e))
			clip = clip_by_entry(c, e);
		p = ctl_cell_para(c->d, &r->cells[2], 0);
		if (!jint(o, "explained_by", &ex)) {
			/* A damaged file without a report is open, not a reservation; a remote-duty
			 * clip names no annotation here when the daemon did not. */
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "—");
			continue;
		}
		x = clip ? explanation(clip, ex) : NULL;
		if (x) {
			r->cells[2].n--;
			put_explanation(c, &r->cells[2], x);
		} else if (gap) {
			ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
				      _("Interruption (#%lld): "), ex);
			add_jtext(c, p, 0, CTL_TONE_NONE, gap_reason(c, o, ex));
		} else {
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("annotation #%lld"), ex);
		}
	}
}

/* ---- the verdict ----------------------------------------------------------------------------- */

static void put_verdict(struct ctx *c)
{
	const json_t *devs = json_object_get(c->ans, "devices");
	const json_t *open = json_object_get(c->ans, "open");
	const json_t *res = json_object_get(c->ans, "reservations");
	bool complete = jtrue(c->ans, "complete");
	size_t nclips = 0, ndev = 0, ngaps = 0, gopen = 0, nbad = 0, ndamaged = 0;
	struct ctl_cell *box;
	struct ctl_para *p;
	char *a = NULL, *b = NULL;
	enum ctl_tone tone;

	for (size_t i = 0; i < jlen(devs); i++) {
		const json_t *dv = json_array_get(devs, i), *gaps = json_object_get(dv, "gaps");

		nclips += jlen(json_object_get(dv, "clips"));
		ndev += jstr(dv, "device") != NULL;
		ngaps += jlen(gaps);
		for (size_t k = 0; k < jlen(gaps); k++)
			gopen += !json_is_integer(
			    json_object_get(json_array_get(gaps, k), "explained_by"));
	}
	for (size_t i = 0; i < c->nclips; i++) {
		const char *ig = jstr(c->clips[i], "integrity");

		nbad += ig && strcmp(ig, "ok");
		ndamaged += clip_damaged(c->clips[i]);
	}
	if (!complete)
		tone = CTL_TONE_BAD;
	else if (jlen(res) || ndamaged)
		tone = CTL_TONE_WARN;
	else
		tone = CTL_TONE_OK;
	/* Translators: heading of the review's conclusion. */
	ctl_doc_heading(c->d, 2, "verdict", _("Verdict"));
	box = ctl_doc_box(c->d, tone);
	p = ctl_cell_para(c->d, box, CTL_PARA_LARGE);
	ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
		     !complete		     ? _("INCOMPLETE")
		     : tone == CTL_TONE_WARN ? _("COMPLETE WITH RESERVATIONS")
					     : _("COMPLETE"));

	p = ctl_cell_para(c->d, box, 0);
	if (asprintf(&a, NG_("%zu clip", "%zu clips", nclips), nclips) < 0)
		a = NULL;
	if (asprintf(&b, NG_("%zu device", "%zu devices", ndev), ndev) < 0)
		b = NULL;
	if (!a || !b)
		c->d->failed = true;
	/* Translators: "7 clips from 4 devices". */
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("%s from %s"), a ? a : "", b ? b : "");
	free(a);
	free(b);
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(SEP));
	if (!ngaps)
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("no gap"));
	else if (!gopen)
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("every gap explained"));
	else
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			      NG_("%zu gap NOT explained", "%zu gaps NOT explained", gopen), gopen);
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(SEP));
	if (!c->nclips)
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("no original to check"));
	else if (!nbad)
		/* A damaged recording's bytes can be intact while the recording is not: say only
		 * what the re-hash showed; the damage is named below. */
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     ndamaged ? _("every original unchanged since it was stored")
				      : _("every original intact"));
	else
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			      NG_("%zu original altered, missing or purged",
				  "%zu originals altered, missing or purged", nbad),
			      nbad);
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(STOP));

	/* Every damaged file by name, reported or not: a report closes the item, the recording
	 * stays damaged. */
	for (size_t i = 0; i < c->nclips; i++) {
		const json_t *cl = c->clips[i];
		long long rep;

		if (!clip_damaged(cl))
			continue;
		p = ctl_cell_para(c->d, box, CTL_PARA_BULLET);
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("Entry %lld damaged: "),
			      clip_index(cl));
		add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(cl, "name"));
		if (jint(cl, "damage_report", &rep))
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" (reported, #%lld)"), rep);
		else
			ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
				     _(" (NO damage report)"));
	}
	for (size_t i = 0; i < jlen(res); i++) {
		const json_t *o = json_array_get(res, i);
		char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX];
		long long e = -1, ex = -1;
		bool has_ex;

		if (jeq(o, "kind", "damaged"))
			continue; /* named above, from the clips */
		jint(o, "entry", &e);
		has_ex = jint(o, "explained_by", &ex);
		p = ctl_cell_para(c->d, box, CTL_PARA_BULLET);
		if (jeq(o, "kind", "gap")) {
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
				      _("Gap of device %s from %s to %s"),
				      jstr(o, "device") ? jstr(o, "device") : "—",
				      when(c, jstr(o, "from"), b1, sizeof(b1)),
				      when(c, jstr(o, "to"), b2, sizeof(b2)));
		} else {
			ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("Entry %lld: "), e);
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
				     jstr(o, "kind") ? word(reservation_words, jstr(o, "kind"))
						     : "?");
		}
		if (has_ex)
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" (explained, #%lld)"), ex);
	}
	if (jlen(open)) {
		p = ctl_cell_para(c->d, box, 0);
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			      NG_("%zu item is open: see “Open items”.",
				  "%zu items are open: see “Open items”.", jlen(open)),
			      jlen(open));
	}
}

/* ---- accesses -------------------------------------------------------------------------------- */

struct group {
	const char *by, *op, *result;
	bool allowed;
	size_t count;
	const char *first, *last;
	int64_t tfirst, tlast;
};

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void put_access_groups(struct ctx *c, const json_t *log)
{
	static const double w[] = { 0.25, 0.17, 0.15, 0.08, 0.35 };
	static const char *const head[] = {
		/* Translators: column headings of the accesses grouped per person and action. */
		N_("Person"), N_("Action"), N_("Result"), N_("Times"), N_("First and last"),
	};
	size_t n = jlen(log), ng = 0;
	struct group *g = calloc(n ? n : 1, sizeof(*g));
	struct ctl_table *t;

	if (!g) {
		c->d->failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *a = json_array_get(log, i);
		const char *by = jstr(a, "by"), *op = jstr(a, "op"), *res = jstr(a, "result");
		bool allowed = !json_is_false(json_object_get(a, "allowed"));
		int64_t at = 0;
		size_t k;

		show_parse_time(jstr(a, "at"), &at);
		for (k = 0; k < ng; k++)
			if (same(g[k].by, by) && same(g[k].op, op) && same(g[k].result, res) &&
			    g[k].allowed == allowed)
				break;
		if (k == ng)
			g[ng++] =
			    (struct group){ by, op, res, allowed, 0, jstr(a, "at"), jstr(a, "at"),
					    at, at };
		g[k].count++;
		if (at < g[k].tfirst) {
			g[k].tfirst = at;
			g[k].first = jstr(a, "at");
		}
		if (at > g[k].tlast) {
			g[k].tlast = at;
			g[k].last = jstr(a, "at");
		}
	}
	t = ctl_doc_table(c->d, 5, w, true);
	for (size_t i = 0; i < 5; i++)
		ctl_cell_line(c->d, ctl_table_head(c->d, t, i), 0, _(head[i]));
	for (size_t k = 0; k < ng; k++) {
		struct ctl_row *r =
		    ctl_table_row(c->d, t, g[k].allowed ? CTL_TONE_NONE : CTL_TONE_BAD, NULL);
		char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX];
		struct ctl_para *p;

		if (!r)
			break;
		add_str(c, ctl_cell_para(c->d, &r->cells[0], 0), 0, CTL_TONE_NONE, g[k].by);
		add_str(c, ctl_cell_para(c->d, &r->cells[1], 0), 0, CTL_TONE_NONE,
			word(op_words, g[k].op));
		p = ctl_cell_para(c->d, &r->cells[2], 0);
		if (!g[k].allowed)
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("REFUSED"));
		else
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("allowed"));
		if (g[k].result)
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%s%s", _(COMMA),
				      word(result_words, g[k].result));
		ctl_para_addf(c->d, ctl_cell_para(c->d, &r->cells[3], 0), 0, CTL_TONE_NONE, "%zu",
			      g[k].count);
		ctl_cell_line(c->d, &r->cells[4], 0, when(c, g[k].first, b1, sizeof(b1)));
		if (g[k].count > 1)
			ctl_cell_line(c->d, &r->cells[4], 0, when(c, g[k].last, b2, sizeof(b2)));
	}
	free(g);
}

static void put_copy_out(struct ctx *c, struct ctl_table *t, const json_t *a)
{
	char b1[SHOW_TIME_MAX];
	bool allowed = !json_is_false(json_object_get(a, "allowed"));
	struct ctl_row *r = ctl_table_row(c->d, t, allowed ? CTL_TONE_NONE : CTL_TONE_BAD, NULL);
	struct ctl_para *p;
	long long v;

	if (!r)
		return;
	p = ctl_cell_para(c->d, &r->cells[0], 0);
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, when(c, jstr(a, "at"), b1, sizeof(b1)));
	if (jint(a, "index", &v))
		ctl_para_addf(c->d, ctl_cell_para(c->d, &r->cells[0], CTL_PARA_SMALL), 0,
			      CTL_TONE_NONE, _("log entry #%lld"), v);
	add_str(c, ctl_cell_para(c->d, &r->cells[1], 0), 0, CTL_TONE_NONE, jstr(a, "by"));
	add_entries(c, ctl_cell_para(c->d, &r->cells[2], 0), json_object_get(a, "entries"));
	add_jtext(c, ctl_cell_para(c->d, &r->cells[3], 0), 0, CTL_TONE_NONE,
		  json_object_get(a, "destination"));
	add_jtext(c, ctl_cell_para(c->d, &r->cells[4], 0), 0, CTL_TONE_NONE,
		  json_object_get(a, "purpose"));
	p = ctl_cell_para(c->d, &r->cells[5], 0);
	if (!allowed)
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("REFUSED"));
	else if (jint(a, "approval", &v))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("approval #%lld"), v);
	else if (jeq(a, "authority", "operator"))
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("as operator"));
	else
		add_str(c, p, 0, CTL_TONE_NONE, jstr(a, "authority"));
	if (jstr(a, "result"))
		ctl_cell_line(c->d, &r->cells[5], CTL_PARA_SMALL,
			      word(result_words, jstr(a, "result")));
}

static void put_accesses(struct ctx *c)
{
	static const double w[] = { 0.19, 0.15, 0.12, 0.20, 0.20, 0.14 };
	static const char *const head[] = {
		/* Translators: column headings of the copy-outs of a review. */
		N_("When"),	   N_("By"),	  N_("Clips"),
		N_("Destination"), N_("Purpose"), N_("Authority"),
	};
	const json_t *log = json_object_get(c->ans, "access_log");
	long long total;
	size_t ncopy = 0;
	struct ctl_para *p;
	struct ctl_table *t;

	/* Translators: heading of who read or copied the case's clips. */
	ctl_doc_heading(c->d, 2, "accesses", _("Accesses"));
	if (!jint(c->ans, "access_log_total", &total))
		total = (long long)jlen(log);
	p = ctl_cell_para(c->d, ctl_doc_text(c->d), 0);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
		      NG_("%lld access to these clips is logged",
			  "%lld accesses to these clips are logged", (unsigned long)total),
		      total);
	if ((long long)jlen(log) < total)
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
			      _("; %zu are kept for the review and shown here (custodyctl log "
				"--type access lists every one)"),
			      jlen(log));
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _(STOP));
	if (!jlen(log))
		return;
	put_access_groups(c, log);
	for (size_t i = 0; i < jlen(log); i++)
		ncopy += jeq(json_array_get(log, i), "op", "copy-out");
	if (!ncopy)
		return;
	/* Translators: heading of the copies handed out, with where they went and why. */
	ctl_doc_heading(c->d, 3, NULL, _("Copy-outs"));
	t = ctl_doc_table(c->d, 6, w, true);
	for (size_t i = 0; i < 6; i++)
		ctl_cell_line(c->d, ctl_table_head(c->d, t, i), 0, _(head[i]));
	for (size_t i = 0; i < jlen(log); i++)
		if (jeq(json_array_get(log, i), "op", "copy-out"))
			put_copy_out(c, t, json_array_get(log, i));
}

/* ---- annotations ----------------------------------------------------------------------------- */

/* The fields of an annotation in the order a person reads them: what it is, what it names,
 * when, why, who (never the JSON's alphabetical order). */
static const struct word field_words[] = {
	/* Translators: the fields of an annotation, as labels. */
	{ "case", N_("Case") },
	{ "entry", N_("Entry") },
	{ "entries", N_("Entries") },
	{ "device", N_("Device") },
	{ "officer", N_("Officer") },
	{ "grantee", N_("Granted to") },
	{ "from", N_("From") },
	{ "to", N_("To") },
	{ "returned_at", N_("Returned at") },
	{ "reason", N_("Reason") },
	{ "explanation", N_("Explanation") },
	{ "purpose", N_("Purpose") },
	{ "expires", N_("Expires") },
	{ "approver", N_("Approved by") },
	/* Translators: the fields of a purge entry, as labels. */
	{ "zone", N_("Zone") },
	{ "retention_s", N_("Retention") },
	{ "due_at", N_("Due at") },
	{ "removed", N_("Removed") },
	{ "kept_for", N_("Kept for") },
	{ "kept_because", N_("Kept because") },
	{ NULL, NULL },
};

static bool is_time_field(const char *k)
{
	return !strcmp(k, "from") || !strcmp(k, "to") || !strcmp(k, "returned_at") ||
	       !strcmp(k, "expires") || !strcmp(k, "at") || !strcmp(k, "received_at") ||
	       !strcmp(k, "started_at") || !strcmp(k, "due_at");
}

static void put_field(struct ctx *c, struct ctl_cell *cell, const char *key, const char *label,
		      const json_t *v)
{
	struct ctl_para *p = ctl_cell_para(c->d, cell, 0);
	char b[SHOW_TIME_MAX];

	ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("%s: "), label);
	if (json_is_string(v) && is_time_field(key))
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
			     when(c, json_string_value(v), b, sizeof(b)));
	else if (json_is_string(v))
		add_jtext(c, p, 0, CTL_TONE_NONE, v);
	else if (json_is_integer(v) && !strcmp(key, "retention_s")) {
		char d1[SHOW_DURATION_MAX];

		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, dur(json_integer_value(v), d1, sizeof(d1)));
	} else if (json_is_integer(v) && (!strcmp(key, "entry") || !strcmp(key, "kept_for")))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "#%lld", (long long)json_integer_value(v));
	else if (json_is_integer(v))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%lld", (long long)json_integer_value(v));
	else if (json_is_array(v) && !strcmp(key, "entries"))
		add_entries(c, p, v);
	else if (json_is_true(v) || json_is_false(v))
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, json_is_true(v) ? _("yes") : _("no"));
	else if (json_is_null(v))
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "—");
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		json_t *tmp = s ? json_string(s) : NULL;

		add_jtext(c, p, CTL_RUN_MONO, CTL_TONE_NONE, tmp);
		json_decref(tmp);
		free(s);
	}
}

/* The fields of entry @e other than those in @skip, known ones first in field_words' order,
 * then any other in the entry's order. */
static void put_fields(struct ctx *c, struct ctl_cell *cell, const json_t *e,
		       const char *const *skip)
{
	const char *key;
	json_t *v;

	for (const struct word *w = field_words; w->code; w++)
		if (json_object_get(e, w->code))
			put_field(c, cell, w->code, _(w->text), json_object_get(e, w->code));
	json_object_foreach((json_t *)e, key, v) {
		bool known = false;

		for (const struct word *w = field_words; w->code && !known; w++)
			known = !strcmp(w->code, key);
		for (const char *const *s = skip; *s && !known; s++)
			known = !strcmp(*s, key);
		if (!known)
			put_field(c, cell, key, key, v);
	}
}

static const char *const annotation_skip[] = { "v", "type", "kind", "by", "at", NULL };

static void put_annotations(struct ctx *c)
{
	static const double w4[] = { 0.08, 0.16, 0.52, 0.24 }, w3[] = { 0.17, 0.58, 0.25 };
	static const char *const head[] = {
		/* Translators: column headings of the annotations of a review. */
		N_("Entry"),
		N_("Kind"),
		N_("What it says"),
		N_("Recorded by"),
	};
	const json_t *anns = json_object_get(c->ans, "annotations");
	const char *case_id = jstr(c->ans, "case");
	struct ctl_table *t = NULL;
	size_t shown = 0, k0;
	bool indexed = false;
	long long idx;

	/* Translators: heading of the annotations concerning a case. */
	ctl_doc_heading(c->d, 2, "annotations", _("Annotations"));
	/* Entries as logged carry no index; {"index":N,"entry":{…}} (as `custodyctl log` prints
	 * them) do, and get a column for it. */
	for (size_t i = 0; i < jlen(anns); i++)
		indexed = indexed || jint(json_array_get(anns, i), "index", &idx);
	k0 = indexed ? 0 : 1;
	for (size_t i = 0; i < jlen(anns); i++) {
		const json_t *it = json_array_get(anns, i), *e = it;
		char b[SHOW_TIME_MAX];
		struct ctl_row *r;
		struct ctl_cell *cells;
		struct ctl_para *p;

		if (json_is_object(json_object_get(it, "entry")))
			e = json_object_get(it, "entry");
		/* Another case's binding is that case's record: a shared clip says so on its row.
		 */
		if (jeq(e, "kind", "case") && case_id && !jeq(e, "case", case_id))
			continue;
		if (!t) {
			t = ctl_doc_table(c->d, 4 - k0, indexed ? w4 : w3, true);
			for (size_t k = k0; k < 4; k++)
				ctl_cell_line(c->d, ctl_table_head(c->d, t, k - k0), 0, _(head[k]));
		}
		r = ctl_table_row(c->d, t, CTL_TONE_NONE, NULL);
		if (!r)
			return;
		shown++;
		/* The columns after the index, which is absent without indexes. */
		cells = r->cells + (indexed ? 1 : 0);
		if (indexed) {
			p = ctl_cell_para(c->d, &r->cells[0], 0);
			if (jint(it, "index", &idx))
				ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "#%lld", idx);
			else
				ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "—");
		}
		ctl_para_add(c->d, ctl_cell_para(c->d, &cells[0], 0), CTL_RUN_BOLD, CTL_TONE_NONE,
			     jstr(e, "kind") ? word(annotation_words, jstr(e, "kind")) : "?");
		if (json_is_object(e))
			put_fields(c, &cells[1], e, annotation_skip);
		else
			ctl_cell_line(c->d, &cells[1], 0, "—");
		add_str(c, ctl_cell_para(c->d, &cells[2], 0), 0, CTL_TONE_NONE, jstr(e, "by"));
		ctl_cell_line(c->d, &cells[2], CTL_PARA_SMALL,
			      when(c, jstr(e, "at"), b, sizeof(b)));
	}
	if (!shown)
		ctl_cell_line(c->d, ctl_doc_text(c->d), 0, _("No annotation concerns this case."));
}

/* ---- the review ------------------------------------------------------------------------------ */

/* What a page made without a context (ctl_review_html()) says of its checkpoint. */
static const struct ctl_page_ctx *ctx_or_none(const struct ctl_page_ctx *pc,
					      struct ctl_page_ctx *none)
{
	if (pc)
		return pc;
	*none = (struct ctl_page_ctx){ .why = _("this page was made without checking it") };
	return none;
}

int ctl_review_doc(const json_t *review, const struct ctl_page_ctx *pc, struct ctl_doc **ret)
{
	struct ctl_page_ctx none;
	struct ctx c = { .pc = ctx_or_none(pc, &none), .ans = review };
	const json_t *devs = json_object_get(review, "devices");
	const char *case_id = jstr(review, "case");
	char *title = NULL, *running = NULL;
	bool legend = false;
	int r;

	if (!json_is_object(review))
		return -EINVAL;
	c.d = ctl_doc_new();
	if (!c.d)
		return -ENOMEM;
	r = clips_index(&c);
	if (r < 0) {
		ctl_doc_free(c.d);
		return r;
	}
	/* Translators: the title of a case's review page; %s is the case id. */
	if (asprintf(&title, _("Case review %s"), case_id ? case_id : "—") < 0)
		title = NULL;
	if (asprintf(&running, _("Case review · %s"), case_id ? case_id : "—") < 0)
		running = NULL;
	if (!title || !running)
		c.d->failed = true;
	set_running(&c, title, running);
	ctl_doc_heading(c.d, 1, NULL, title ? title : "");
	free(title);
	free(running);
	put_record(&c, _("Case"), case_id ? case_id : "—", json_object_get(review, "bound_by"));
	put_verdict(&c);
	put_open_items(&c, json_object_get(review, "open"));
	put_reservations(&c, json_object_get(review, "reservations"));
	/* Translators: heading of the part with each device's timeline and clips. */
	ctl_doc_heading(c.d, 2, "devices", _("Devices and clips"));
	if (!jlen(devs))
		ctl_cell_line(c.d, ctl_doc_text(c.d), 0, _("No clip is bound to this case."));
	for (size_t i = 0; i < jlen(devs); i++)
		put_device(&c, json_array_get(devs, i), &legend);
	put_accesses(&c);
	put_annotations(&c);
	ctl_cell_line(c.d, ctl_doc_text(c.d), CTL_PARA_SMALL,
		      _("Entry numbers are indexes of the custody log. The originals and the log "
			"remain the evidence; this record says what the review found when it was "
			"made."));
	put_form(&c);
	free(c.clips);
	if (ctl_doc_failed(c.d)) {
		ctl_doc_free(c.d);
		return -ENOMEM;
	}
	*ret = c.d;
	return 0;
}

/* ---- the chain of custody of one clip -------------------------------------------------------- */

static void put_arrival(struct ctx *c, const json_t *clip)
{
	const char *logged = jstr(clip, "storage"), *now = jstr(c->ans, "storage_now");
	const char *ig = jstr(c->ans, "integrity");
	const json_t *cases = json_object_get(c->ans, "cases");
	char b1[SHOW_TIME_MAX], b2[SHOW_TIME_MAX], d1[SHOW_DURATION_MAX];
	struct ctl_table *t;
	struct ctl_para *p;
	long long v;

	/* Translators: heading of what the log recorded when the clip arrived. */
	ctl_doc_heading(c->d, 2, "arrival", _("The clip"));
	t = ctl_doc_kv_table(c->d);
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("File")), 0);
	add_jtext(c, p, CTL_RUN_BOLD, CTL_TONE_NONE, json_object_get(clip, "name"));
	add_str(c, ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Zone")), 0), 0, CTL_TONE_NONE,
		jstr(clip, "zone"));
	add_str(c, ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Device")), 0), 0, CTL_TONE_NONE,
		jstr(clip, "device"));
	add_str(c, ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Officer")), 0), 0, CTL_TONE_NONE,
		jstr(clip, "officer"));
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Recorded")), 0);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("%s to %s"),
		      when(c, jstr(clip, "recorded_start"), b1, sizeof(b1)),
		      when(c, jstr(clip, "recorded_end"), b2, sizeof(b2)));
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Length")), 0);
	if (jint(clip, "duration_us", &v) && v >= 0)
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, dur(v / 1000000, d1, sizeof(d1)));
	else
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("length unknown"));
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Time from")), 0);
	add_str(c, p, 0, CTL_TONE_NONE,
		jstr(clip, "time_source") ? word(source_words, jstr(clip, "time_source"))
					  : _("no trustworthy time"));
	ctl_cell_line(c->d, ctl_doc_kv(c->d, t, _("Stored")), 0,
		      when(c, jstr(clip, "ingested_at"), b1, sizeof(b1)));
	ctl_cell_line(c->d, ctl_doc_kv(c->d, t, _("Deadline")), 0,
		      when(c, jstr(clip, "deadline"), b1, sizeof(b1)));
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Storage")), 0);
	ctl_para_add(c->d, p, CTL_RUN_BADGE, storage_tone(now ? now : logged, false),
		     word(storage_words, now	  ? now
					 : logged ? logged
						  : "unknown_time"));
	if (logged && now && strcmp(logged, now))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" (logged at ingest as: %s)"),
			      word(storage_words, logged));
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Original")), 0);
	ctl_para_add(c->d, p, CTL_RUN_BADGE, integrity_tone(ig),
		     ig ? word(integrity_words, ig) : _("not checked"));
	if (clip_damaged(clip)) {
		p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Damage")), 0);
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_WARN, _("DAMAGED"));
		if (jstr(clip, "error")) {
			p = ctl_cell_para(c->d, &t->rows[t->nrows - 1].cells[1], CTL_PARA_SMALL);
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE,
				     _("Error while reading the file: "));
			add_jtext(c, p, CTL_RUN_MONO, CTL_TONE_NONE,
				  json_object_get(clip, "error"));
		}
	}
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, "SHA-256"), 0);
	add_str(c, p, CTL_RUN_MONO, CTL_TONE_NONE, jstr(clip, "sha256"));
	if (jint(clip, "size", &v))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" · %lld bytes"), v);
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Cases")), 0);
	if (!jlen(cases))
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("bound to no case"));
	for (size_t i = 0; i < jlen(cases) && i < CTL_LIST_MAX; i++)
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%s%s", i ? _(COMMA) : "",
			      json_is_string(json_array_get(cases, i))
				  ? json_string_value(json_array_get(cases, i))
				  : "?");
	if (jlen(cases) > CTL_LIST_MAX)
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(" … (%zu in all)"), jlen(cases));
	p = ctl_cell_para(c->d, ctl_doc_kv(c->d, t, _("Now")), 0);
	if (jtrue(c->ans, "purged"))
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("purged"));
	else if (jtrue(c->ans, "held"))
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_NOTE, _("on hold"));
	else
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("kept under the retention rules"));
}

/* What an access entry did: who, what, the result, and for a copy-out its authority, approval,
 * destination and purpose. */
static void put_access_event(struct ctx *c, struct ctl_cell *cell, const json_t *e)
{
	struct ctl_para *p = ctl_cell_para(c->d, cell, 0);
	bool allowed = !json_is_false(json_object_get(e, "allowed"));
	long long v;

	add_str(c, p, CTL_RUN_BOLD, CTL_TONE_NONE, jstr(e, "by"));
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, " — %s",
		      jstr(e, "op") ? word(op_words, jstr(e, "op")) : "?");
	ctl_para_add(c->d, p, 0, CTL_TONE_NONE, " ");
	if (!allowed)
		ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("REFUSED"));
	else
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("allowed"));
	if (jstr(e, "result"))
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, "%s%s", _(COMMA),
			      word(result_words, jstr(e, "result")));
	if (jeq(e, "op", "copy-out") && allowed) {
		p = ctl_cell_para(c->d, cell, 0);
		if (jint(e, "approval", &v))
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("under approval #%lld"), v);
		else if (jeq(e, "authority", "operator"))
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("as operator"));
		else
			add_str(c, p, 0, CTL_TONE_NONE, jstr(e, "authority"));
		p = ctl_cell_para(c->d, cell, 0);
		ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("Destination: "));
		add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(e, "destination"));
		p = ctl_cell_para(c->d, cell, 0);
		ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("Purpose: "));
		add_jtext(c, p, 0, CTL_TONE_NONE, json_object_get(e, "purpose"));
	}
	if (jlen(json_object_get(e, "entries")) > 1) {
		p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
		ctl_para_add(c->d, p, 0, CTL_TONE_NONE, _("with entries "));
		add_entries(c, p, json_object_get(e, "entries"));
	}
}

static bool lists(const json_t *a, long long n)
{
	for (size_t i = 0; i < jlen(a); i++)
		if (json_is_integer(json_array_get(a, i)) &&
		    (long long)json_integer_value(json_array_get(a, i)) == n)
			return true;
	return false;
}

static void put_event_details(struct ctx *c, struct ctl_cell *cell, const json_t *ev, long long n)
{
	static const char *const purge_skip[] = { "v",	   "type",   "by",     "at",
						  "entry", "sha256", "stored", NULL };
	const char *kind = jstr(ev, "kind");
	const json_t *e = json_object_get(ev, "entry");
	char b1[SHOW_TIME_MAX];
	struct ctl_para *p;
	long long v;

	if (!kind || !json_is_object(e)) {
		ctl_cell_line(c->d, cell, 0, "—");
		return;
	}
	if (!strcmp(kind, "arrival")) {
		p = ctl_cell_para(c->d, cell, 0);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("stored from zone %s as "),
			      jstr(e, "zone") ? jstr(e, "zone") : "—");
		add_jtext(c, p, CTL_RUN_BOLD, CTL_TONE_NONE, json_object_get(e, "name"));
		p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("storage logged: %s"),
			      word(storage_words, jstr(e, "storage") ? jstr(e, "storage") : "?"));
	} else if (!strcmp(kind, "duplicate")) {
		p = ctl_cell_para(c->d, cell, 0);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
			      _("the same bytes arrived again in zone %s as "),
			      jstr(e, "zone") ? jstr(e, "zone") : "—");
		add_jtext(c, p, CTL_RUN_BOLD, CTL_TONE_NONE, json_object_get(e, "name"));
		ctl_cell_line(c->d, cell, CTL_PARA_SMALL,
			      when(c, jstr(e, "received_at"), b1, sizeof(b1)));
	} else if (!strcmp(kind, "annotation")) {
		p = ctl_cell_para(c->d, cell, 0);
		ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			     jstr(e, "kind") ? word(annotation_words, jstr(e, "kind")) : "?");
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _(", recorded by %s"),
			      jstr(e, "by") ? jstr(e, "by") : "—");
		put_fields(c, cell, e, annotation_skip);
	} else if (!strcmp(kind, "access")) {
		put_access_event(c, cell, e);
	} else if (!strcmp(kind, "scrub")) {
		p = ctl_cell_para(c->d, cell, 0);
		if (lists(json_object_get(e, "missing"), n))
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD,
				     _("the original was MISSING"));
		else if (lists(json_object_get(e, "altered"), n))
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD,
				     _("the original was ALTERED"));
		else
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_OK,
				     _("the original was intact"));
		if (jint(e, "checked", &v)) {
			p = ctl_cell_para(c->d, cell, CTL_PARA_SMALL);
			ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
				      NG_("a pass over %lld original", "a pass over %lld originals",
					  (unsigned long)v),
				      v);
		}
	} else if (!strcmp(kind, "purge")) {
		p = ctl_cell_para(c->d, cell, 0);
		ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("purged by %s"),
			      jstr(e, "by") ? jstr(e, "by") : "—");
		put_fields(c, cell, e, purge_skip);
	} else {
		put_fields(c, cell, e, annotation_skip);
	}
}

/* What custodyctl found of an event's proof (ctl/check.h puts it in the event's "client"):
 * 1 verified, 0 failed (*@ret_msg says why), -1 not checked (*@pending: newer than the
 * checkpoint). */
static int proof_state(const json_t *ev, const json_t **ret_msg, bool *pending)
{
	const json_t *cl = json_object_get(ev, "client");
	const char *st = jstr(cl, "proof");

	*ret_msg = json_object_get(cl, "message");
	*pending = st && !strcmp(st, "pending");
	if (st && !strcmp(st, "verified"))
		return 1;
	if (st && !strcmp(st, "failed"))
		return 0;
	return -1;
}

static void put_events(struct ctx *c, const json_t *events, long long n)
{
	static const double w[] = { 0.08, 0.20, 0.13, 0.41, 0.18 };
	static const char *const head[] = {
		/* Translators: column headings of a clip's chain of custody. */
		N_("Entry"), N_("When"), N_("Event"), N_("What happened"), N_("Proof"),
	};
	struct ctl_table *t;

	/* Translators: heading of the list of everything the log holds about one clip. */
	ctl_doc_heading(c->d, 2, "events", _("Chain of custody"));
	if (!jlen(events)) {
		ctl_cell_line(c->d, ctl_doc_text(c->d), 0, _("The answer lists no event."));
		return;
	}
	t = ctl_doc_table(c->d, 5, w, true);
	for (size_t i = 0; i < 5; i++)
		ctl_cell_line(c->d, ctl_table_head(c->d, t, i), 0, _(head[i]));
	for (size_t i = 0; i < jlen(events); i++) {
		const json_t *ev = json_array_get(events, i), *msg;
		bool pending;
		int pc = proof_state(ev, &msg, &pending);
		char b1[SHOW_TIME_MAX], anchor[32];
		struct ctl_row *r;
		struct ctl_para *p;
		long long idx = -1;

		jint(ev, "index", &idx);
		snprintf(anchor, sizeof(anchor), "e%lld", idx);
		r = ctl_table_row(c->d, t, pc == 1 ? CTL_TONE_NONE : CTL_TONE_BAD,
				  idx >= 0 ? anchor : NULL);
		if (!r)
			return;
		p = ctl_cell_para(c->d, &r->cells[0], 0);
		if (idx >= 0)
			ctl_para_addf(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, "%lld", idx);
		else
			ctl_para_add(c->d, p, 0, CTL_TONE_NONE, "—");
		ctl_cell_line(c->d, &r->cells[1], 0, when(c, jstr(ev, "at"), b1, sizeof(b1)));
		ctl_para_add(c->d, ctl_cell_para(c->d, &r->cells[2], 0), CTL_RUN_BOLD,
			     CTL_TONE_NONE,
			     jstr(ev, "kind") ? word(event_words, jstr(ev, "kind")) : "?");
		put_event_details(c, &r->cells[3], ev, n);
		p = ctl_cell_para(c->d, &r->cells[4], 0);
		if (pc == 1) {
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_OK, _("checked"));
		} else if (pc == 0) {
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_BAD, _("DOES NOT CHECK"));
			if (json_is_string(msg))
				add_jtext(c, ctl_cell_para(c->d, &r->cells[4], CTL_PARA_SMALL), 0,
					  CTL_TONE_NONE, msg);
		} else {
			ctl_para_add(c->d, p, CTL_RUN_BADGE, CTL_TONE_NOTE, _("not checked"));
			if (pending || json_is_null(json_object_get(ev, "proof")))
				ctl_cell_line(c->d, &r->cells[4], CTL_PARA_SMALL,
					      _("newer than the checkpoint"));
		}
	}
}

static void put_history_summary(struct ctx *c, const json_t *events)
{
	size_t n = jlen(events), ok = 0, bad = 0;
	long long total;
	struct ctl_cell *box;
	struct ctl_para *p;

	for (size_t i = 0; i < n; i++) {
		const json_t *msg;
		bool pending;
		int pc = proof_state(json_array_get(events, i), &msg, &pending);

		ok += pc == 1;
		bad += pc == 0;
	}
	/* Translators: heading of the conclusion of a chain of custody. */
	ctl_doc_heading(c->d, 2, "summary", _("Summary"));
	box = ctl_doc_box(c->d, ok == n && n ? CTL_TONE_OK : CTL_TONE_BAD);
	p = ctl_cell_para(c->d, box, CTL_PARA_LARGE);
	if (ok == n && n)
		ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE,
			     _("EVERY ENTRY'S PROOF CHECKED"));
	else if (bad)
		ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("A PROOF DOES NOT CHECK"));
	else
		ctl_para_add(c->d, p, CTL_RUN_BOLD, CTL_TONE_NONE, _("PROOFS NOT CHECKED"));
	p = ctl_cell_para(c->d, box, 0);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, NG_("%zu event: ", "%zu events: ", n), n);
	ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
		      _("the inclusion proof of %zu checked against the verifier key, %zu did not "
			"check, %zu not checked."),
		      ok, bad, n - ok - bad);
	if (jint(c->ans, "accesses_total", &total)) {
		size_t listed = 0;

		for (size_t i = 0; i < n; i++)
			listed += jeq(json_array_get(events, i), "kind", "access");
		p = ctl_cell_para(c->d, box, 0);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE,
			      NG_("%lld access named this clip", "%lld accesses named this clip",
				  (unsigned long)total),
			      total);
		ctl_para_addf(c->d, p, 0, CTL_TONE_NONE, _("; %zu are listed below."), listed);
	}
	if (jtrue(c->ans, "events_truncated"))
		ctl_cell_line(c->d, box, 0,
			      _("The daemon lists at most 2,000 events: the rest are in the log "
				"(custodyctl log)."));
}

int ctl_history_doc(const json_t *history, const struct ctl_page_ctx *pc, struct ctl_doc **ret)
{
	struct ctl_page_ctx none;
	struct ctx c = { .pc = ctx_or_none(pc, &none), .ans = history };
	const json_t *clip = json_object_get(history, "clip");
	char *title = NULL, *running = NULL, *what = NULL;
	long long n = -1;

	if (!json_is_object(history))
		return -EINVAL;
	c.d = ctl_doc_new();
	if (!c.d)
		return -ENOMEM;
	jint(history, "entry", &n);
	/* Translators: the title of a clip's chain of custody; %lld is its entry number. */
	if (asprintf(&title, _("Chain of custody of entry %lld"), n) < 0)
		title = NULL;
	if (asprintf(&running, _("Chain of custody · entry %lld"), n) < 0)
		running = NULL;
	if (asprintf(&what, "%lld", n) < 0)
		what = NULL;
	if (!title || !running || !what)
		c.d->failed = true;
	set_running(&c, title, running);
	ctl_doc_heading(c.d, 1, NULL, title ? title : "");
	put_record(&c, _("Entry"), what ? what : "—", NULL);
	free(title);
	free(running);
	free(what);
	put_history_summary(&c, json_object_get(history, "events"));
	put_arrival(&c, json_is_object(clip) ? clip : history);
	put_events(&c, json_object_get(history, "events"), n);
	ctl_cell_line(c.d, ctl_doc_text(c.d), CTL_PARA_SMALL,
		      _("Entry numbers are indexes of the custody log. Each event is an entry of "
			"the log; its inclusion proof ties it to the checkpoint above."));
	put_form(&c);
	if (ctl_doc_failed(c.d)) {
		ctl_doc_free(c.d);
		return -ENOMEM;
	}
	*ret = c.d;
	return 0;
}

/* ---- the file -------------------------------------------------------------------------------- */

static int render(const struct ctl_doc *d, enum ctl_page_format f, FILE *out,
		  struct err_detail *reterr)
{
	switch (f) {
	case CTL_PAGE_HTML:
		return ctl_html_write(d, out, reterr);
	case CTL_PAGE_PDF:
		return ctl_pdf_write(d, out, reterr);
	}
	return err_set(reterr, -EINVAL, "unknown page format %d", (int)f);
}

/* @d to @path as every file custody writes for others: a temporary file beside it, fsynced,
 * 0640, renamed over it, the folder fsynced. */
static int write_atomic(const struct ctl_doc *d, enum ctl_page_format f, const char *path,
			struct err_detail *reterr)
{
	char *dir = NULL, *tmp = NULL, shown[128];
	const char *slash, *base;
	FILE *out = NULL;
	int fd = -1, dfd, r;

	utf8_printable(path ? path : "", path ? strlen(path) : 0, shown, sizeof(shown));
	slash = path ? strrchr(path, '/') : NULL;
	base = slash ? slash + 1 : path;
	if (!base || !*base)
		return err_set(reterr, -EINVAL, "'%s' names no file", shown);
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
		free(dir);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = err_set(reterr, -errno, "'%s': cannot create a file beside it: %s", shown,
			    strerror(errno));
		goto out;
	}
	/* 0640 whatever the umask: the record shows evidence, for the owner and the group only. */
	if (fchmod(fd, 0640) < 0) {
		r = err_set(reterr, -errno, "'%s': chmod: %s", shown, strerror(errno));
		close(fd);
		goto err_unlink;
	}
	out = fdopen(fd, "w");
	if (!out) {
		r = err_set(reterr, -errno, "'%s': %s", shown, strerror(errno));
		close(fd);
		goto err_unlink;
	}
	r = render(d, f, out, reterr);
	if (r < 0) {
		fclose(out);
		goto err_unlink;
	}
	errno = EIO;
	if (fflush(out) != 0 || ferror(out)) {
		r = err_set(reterr, -errno, "'%s': write: %s", shown, strerror(errno));
		fclose(out);
		goto err_unlink;
	}
	if (fsync(fileno(out)) < 0) {
		r = err_set(reterr, -errno, "'%s': fsync: %s", shown, strerror(errno));
		fclose(out);
		goto err_unlink;
	}
	if (fclose(out) != 0) {
		r = err_set(reterr, -errno, "'%s': close: %s", shown, strerror(errno));
		goto err_unlink;
	}
	if (rename(tmp, path) < 0) {
		r = err_set(reterr, -errno, "'%s': %s", shown, strerror(errno));
		goto err_unlink;
	}
	/* The rename lasts once the folder is synced; a failure here leaves the file in place. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		r = err_set(reterr, -errno, "'%s': written, but syncing its folder failed: %s",
			    shown, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	close(dfd);
	r = 0;
	goto out;

err_unlink:
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return r;
}

static int page(const json_t *ans, const struct ctl_page_ctx *ctx, enum ctl_page_format f,
		const char *path, bool history, struct err_detail *reterr)
{
	struct ctl_doc *d = NULL;
	int r;

	if (!json_is_object(ans))
		return err_set(reterr, -EINVAL, "the %s to write is not a JSON object",
			       history ? "history" : "review");
	if (f != CTL_PAGE_HTML && f != CTL_PAGE_PDF)
		return err_set(reterr, -EINVAL, "unknown page format %d", (int)f);
	r = history ? ctl_history_doc(ans, ctx, &d) : ctl_review_doc(ans, ctx, &d);
	if (r < 0)
		return err_set(reterr, r, "out of memory while building the page");
	r = write_atomic(d, f, path, reterr);
	ctl_doc_free(d);
	return r;
}

int ctl_review_page(const json_t *review, const struct ctl_page_ctx *ctx, enum ctl_page_format f,
		    const char *path, struct err_detail *reterr)
{
	return page(review, ctx, f, path, false, reterr);
}

int ctl_history_page(const json_t *history, const struct ctl_page_ctx *ctx, enum ctl_page_format f,
		     const char *path, struct err_detail *reterr)
{
	return page(history, ctx, f, path, true, reterr);
}

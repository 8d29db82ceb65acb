/* rules.c: the office's rules over logged facts (docs/rules.md).  Pure; any thread.
 *
 * DESIGN
 *
 * Facts never change in an append-only log; what changes is what later annotations say about
 * them.  So nothing here is stored: every answer is recomputed from the clips (as logged) and
 * the annotations (as logged) at the moment it is asked, and a declaration made after an
 * upload counts exactly as one made before it.
 *
 * Annotations are few (people write them) and clips are many, so the annotations are compiled
 * once per question into a book: (entry, note) pairs sorted by entry for the kinds that name
 * entries, the remote-duty declarations, and the interruptions sorted by device and start.  A
 * clip's status is then two binary searches and a pass over the remote-duty declarations of a
 * late clip; a gap's explanation is a binary search and a pass over its device's
 * interruptions.
 *
 * A report is an accumulator: the caller feeds it clips one at a time (custodyd does that in
 * slices from its loop), it keeps counters per device and officer and a 40-byte span per clip
 * for continuity, and rules_report_json() sorts the spans and finds the gaps (custodyd runs
 * that on a worker thread).
 *
 * One file because the status, the gaps, the review and the report all read struct rules_book,
 * which is opaque and defined only here, and build their JSON with the same helpers (struct jb,
 * the open items, the verdict); splitting would export the book. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/macro.h"
#include "ingest/rectime.h"
#include "rules/rules.h"

static const char *const storage_names[] = {
	[RULES_ON_TIME] = "on_time",
	[RULES_ON_TIME_REMOTE] = "on_time_remote",
	[RULES_LATE] = "late",
	[RULES_UNKNOWN_TIME] = "unknown_time",
};

static const char *const integrity_names[] = {
	[RULES_INTACT] = "ok",
	[RULES_ALTERED] = "altered",
	[RULES_MISSING] = "missing",
	[RULES_PURGED] = "purged",
};

const char *rules_storage_name(unsigned storage)
{
	return storage && storage < sizeof(storage_names) / sizeof(storage_names[0])
		   ? storage_names[storage]
		   : NULL;
}

unsigned rules_storage_parse(const char *word)
{
	for (unsigned i = 1; word && i < sizeof(storage_names) / sizeof(storage_names[0]); i++)
		if (!strcmp(word, storage_names[i]))
			return i;
	return RULES_STORAGE_NONE;
}

const char *rules_integrity_name(unsigned integrity)
{
	return integrity && integrity < sizeof(integrity_names) / sizeof(integrity_names[0])
		   ? integrity_names[integrity]
		   : NULL;
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* NULL sorts after every string: clips without a device come last. */
static int cmp_str_null_last(const char *a, const char *b)
{
	if (!a || !b)
		return (!a) - (!b);
	return strcmp(a, b);
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* ---- the book ---------------------------------------------------------------------------- */

struct named {
	uint64_t entry;
	const struct rules_note *note;
};

struct rules_book {
	struct rules_params p;
	struct named *named; /* sorted by entry, then note index */
	size_t nnamed;
	const struct rules_note **remote; /* remote_duty, by index */
	size_t nremote;
	const struct rules_note **breaks; /* interruptions with a device and times, by device
					   * then from */
	size_t nbreaks;
};

static int cmp_named(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return cmp_u64(x->entry, y->entry) ?: cmp_u64(x->note->index, y->note->index);
}

static int cmp_break(const void *a, const void *b)
{
	const struct rules_note *x = *(const struct rules_note *const *)a;
	const struct rules_note *y = *(const struct rules_note *const *)b;

	return strcmp(x->device, y->device) ?: cmp_i64(x->from_us, y->from_us)
					       ?: cmp_u64(x->index, y->index);
}

static int cmp_note_index(const void *a, const void *b)
{
	const struct rules_note *x = *(const struct rules_note *const *)a;
	const struct rules_note *y = *(const struct rules_note *const *)b;

	return cmp_u64(x->index, y->index);
}

struct rules_book *rules_book_free(struct rules_book *b)
{
	if (b) {
		free(b->named);
		free(b->remote);
		free(b->breaks);
		free(b);
	}
	return NULL;
}

int rules_book_new(const struct rules_params *params, const struct rules_note *notes, size_t n,
		   struct rules_book **ret)
{
	struct rules_book *b = calloc(1, sizeof(*b));
	size_t nnamed = 0;

	if (!b)
		return -ENOMEM;
	b->p = *params;
	for (size_t i = 0; i < n; i++)
		nnamed += notes[i].nentries;
	b->named = malloc((nnamed ? nnamed : 1) * sizeof(*b->named));
	b->remote = malloc((n ? n : 1) * sizeof(*b->remote));
	b->breaks = malloc((n ? n : 1) * sizeof(*b->breaks));
	if (!b->named || !b->remote || !b->breaks) {
		rules_book_free(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct rules_note *note = &notes[i];

		if (note->kind < RULES_INTERRUPTION || note->kind > RULES_DEVICE)
			continue;
		for (size_t k = 0; k < note->nentries; k++)
			b->named[b->nnamed++] = (struct named){ note->entries[k], note };
		if (note->kind == RULES_REMOTE_DUTY && note->from_us != RULES_NOTIME &&
		    note->to_us != RULES_NOTIME && note->returned_us != RULES_NOTIME)
			b->remote[b->nremote++] = note;
		if (note->kind == RULES_INTERRUPTION && note->device &&
		    note->from_us != RULES_NOTIME && note->to_us != RULES_NOTIME)
			b->breaks[b->nbreaks++] = note;
	}
	qsort(b->named, b->nnamed, sizeof(*b->named), cmp_named);
	qsort(b->remote, b->nremote, sizeof(*b->remote), cmp_note_index);
	qsort(b->breaks, b->nbreaks, sizeof(*b->breaks), cmp_break);
	*ret = b;
	return 0;
}

/* The first (entry, note) pair of @entry, or b->nnamed. */
static size_t named_first(const struct rules_book *b, uint64_t entry)
{
	return LOWER_BOUND(b->nnamed, mid, b->named[mid].entry < entry);
}

size_t rules_notes_naming(const struct rules_book *b, uint64_t entry, const struct rules_note **ret,
			  size_t max)
{
	size_t n = 0;

	for (size_t i = named_first(b, entry); i < b->nnamed && b->named[i].entry == entry; i++) {
		/* One note may list an entry once only (custodyd refuses duplicates), but a
		 * hand-made log could: count each note once. */
		if (n && i > 0 && b->named[i - 1].note == b->named[i].note)
			continue;
		if (n < max)
			ret[n] = b->named[i].note;
		n++;
	}
	return n;
}

size_t rules_cases_of(const struct rules_book *b, uint64_t entry, const char **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = named_first(b, entry); i < b->nnamed && b->named[i].entry == entry; i++) {
		const struct rules_note *note = b->named[i].note;
		bool seen = false;

		if (note->kind != RULES_CASE || !note->case_id)
			continue;
		for (size_t k = 0; k < n && k < max && !seen; k++)
			seen = !strcmp(ret[k], note->case_id);
		if (seen)
			continue;
		if (n < max)
			ret[n] = note->case_id;
		n++;
	}
	return n;
}

static const struct rules_note *first_naming(const struct rules_book *b, uint64_t entry,
					     uint8_t kind)
{
	for (size_t i = named_first(b, entry); i < b->nnamed && b->named[i].entry == entry; i++)
		if (b->named[i].note->kind == kind)
			return b->named[i].note;
	return NULL;
}

/* The newest note of @kind naming @entry: a later attribution corrects an earlier one. */
static const struct rules_note *last_naming(const struct rules_book *b, uint64_t entry,
					    uint8_t kind)
{
	const struct rules_note *found = NULL;

	for (size_t i = named_first(b, entry); i < b->nnamed && b->named[i].entry == entry; i++)
		if (b->named[i].note->kind == kind)
			found = b->named[i].note; /* sorted by note index: the last is the newest */
	return found;
}

const struct rules_note *rules_clip_device(const struct rules_book *b, const struct rules_clip *c)
{
	const struct rules_note *n;

	if (c->device)
		return NULL;
	n = last_naming(b, c->index, RULES_DEVICE);
	return n && n->device ? n : NULL;
}

const struct rules_note *rules_clip_attributed(const struct rules_book *b,
					       const struct rules_clip *c, struct rules_clip *ret)
{
	const struct rules_note *n = rules_clip_device(b, c);

	*ret = *c;
	if (n) {
		ret->device = n->device;
		if (!ret->officer)
			ret->officer = n->officer;
	}
	return n;
}

/* ---- one clip ---------------------------------------------------------------------------- */

void rules_clip_status(const struct rules_book *b, const struct rules_clip *logged,
		       struct rules_status *ret)
{
	struct rules_status st = { .storage_now = logged->storage };
	struct rules_clip attributed;
	const struct rules_clip *c = &attributed;

	st.device_note = rules_clip_attributed(b, logged, &attributed);
	st.no_device = !c->device;
	st.late_storage = first_naming(b, c->index, RULES_LATE_STORAGE);
	st.damage_report = first_naming(b, c->index, RULES_DAMAGE_REPORT);
	/* Remote duty (docs/rules.md): a declaration covering the recording, and the original
	 * stored within storage_deadline of the return.  The first such declaration (by index)
	 * is the one named.  A clip custodyd already logged on_time_remote (declared before it
	 * arrived) is looked up the same way, only to name the declaration.  An attributed
	 * device counts as the clip's own. */
	if ((c->storage == RULES_LATE || c->storage == RULES_ON_TIME_REMOTE) &&
	    c->start_us != RULES_NOTIME && c->end_us != RULES_NOTIME && !c->future) {
		for (size_t i = 0; i < b->nremote; i++) {
			const struct rules_note *n = b->remote[i];

			if (!same(n->device, c->device) && !same(n->officer, c->officer))
				continue;
			if (n->from_us > c->start_us || n->to_us < c->end_us)
				continue;
			if (c->ingested_us == RULES_NOTIME ||
			    c->ingested_us > n->returned_us + b->p.storage_deadline_us)
				continue;
			st.storage_now = RULES_ON_TIME_REMOTE;
			st.remote_duty = n;
			break;
		}
	}
	st.late_open = st.storage_now == RULES_LATE && !st.late_storage;
	st.future_open = c->future && !st.late_storage;
	st.unknown_open = st.storage_now == RULES_UNKNOWN_TIME && !c->future && !st.late_storage;
	st.damaged_open = c->damaged && !st.damage_report;
	*ret = st;
}

/* ---- continuity -------------------------------------------------------------------------- */

static int cmp_span(const void *a, const void *b)
{
	const struct rules_span *x = a, *y = b;

	return cmp_i64(x->start_us, y->start_us) ?: cmp_u64(x->index, y->index);
}

void rules_sort_spans(struct rules_span *spans, size_t n)
{
	qsort(spans, n, sizeof(*spans), cmp_span);
}

static const struct rules_note *explain_gap(const struct rules_book *b, const char *device,
					    int64_t from_us, int64_t to_us)
{
	int64_t tol = b->p.split_tolerance_us;
	size_t lo = LOWER_BOUND(b->nbreaks, mid, strcmp(b->breaks[mid]->device, device) < 0);

	for (size_t i = lo; i < b->nbreaks && !strcmp(b->breaks[i]->device, device); i++) {
		const struct rules_note *n = b->breaks[i];

		if (n->from_us > from_us + tol)
			break; /* sorted by from: none later can cover the gap's start */
		if (n->to_us >= to_us - tol)
			return n;
	}
	return NULL;
}

size_t rules_gaps(const struct rules_book *b, const char *device, const struct rules_span *spans,
		  size_t n, struct rules_gap *ret)
{
	size_t ngaps = 0;
	int64_t end;
	uint64_t after;

	if (n < 2)
		return 0;
	end = spans[0].end_us;
	after = spans[0].index;
	for (size_t i = 1; i < n; i++) {
		const struct rules_span *s = &spans[i];

		/* The latest end so far, not the previous clip's: a long clip overlapping
		 * several short ones (two cameras' files on one device name) leaves no gap. */
		if (s->start_us - end > b->p.split_tolerance_us)
			ret[ngaps++] = (struct rules_gap){
				.after = after,
				.before = s->index,
				.from_us = end,
				.to_us = s->start_us,
				.explained_by =
				    device ? explain_gap(b, device, end, s->start_us) : NULL,
			};
		if (s->end_us > end) {
			end = s->end_us;
			after = s->index;
		}
	}
	return ngaps;
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

struct jb {
	bool failed;
};

static json_t *jtime(struct jb *jb, int64_t us)
{
	char text[ING_RFC3339_MAX];
	json_t *v;

	if (us == RULES_NOTIME || ing_format_utc(us, text) < 0)
		return json_null();
	v = json_string(text);
	if (!v)
		jb->failed = true;
	return v;
}

static json_t *jstr(struct jb *jb, const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	v = json_string(s);
	if (!v) /* not UTF-8: the caller's strings come from entries, which are */
		v = json_string("?");
	if (!v)
		jb->failed = true;
	return v;
}

static json_t *jint(struct jb *jb, int64_t v)
{
	json_t *o = json_integer((json_int_t)v);

	if (!o)
		jb->failed = true;
	return o;
}

static void put(struct jb *jb, json_t *o, const char *key, json_t *v)
{
	if (!o || !v || json_object_set_new(o, key, v) < 0)
		jb->failed = true;
}

static void append(struct jb *jb, json_t *a, json_t *v)
{
	if (!a || !v || json_array_append_new(a, v) < 0)
		jb->failed = true;
}

static void fmt_time(int64_t us, char out[ING_RFC3339_MAX])
{
	if (us == RULES_NOTIME || ing_format_utc(us, out) < 0)
		snprintf(out, ING_RFC3339_MAX, "unknown");
}

/* A string built by appending: verdicts and lists grow with what they name. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void sb_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p ? sb->p + sb->len : NULL, sb->p ? sb->cap - sb->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = true;
		return;
	}
	if (!sb->p || sb->len + (size_t)n >= sb->cap) {
		size_t cap = sb->cap ? sb->cap : 256;
		char *p;

		while (cap <= sb->len + (size_t)n)
			cap *= 2;
		p = realloc(sb->p, cap);
		if (!p) {
			sb->failed = true;
			return;
		}
		sb->p = p;
		sb->cap = cap;
		va_start(ap, fmt);
		vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}

/* A span of time in days, hours and minutes, as custodyctl prints it ("3 d 3 h 10 min",
 * "2 min 5 s", "40 s"): never a bare count of seconds. */
static const char *fmt_span(int64_t us, char *buf, size_t len)
{
	uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
	uint64_t s = a / 1000000, d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
	const char *sign = us < 0 ? "-" : "";

	if (d)
		snprintf(buf, len, "%s%" PRIu64 " d %" PRIu64 " h %" PRIu64 " min", sign, d, h, m);
	else if (h)
		snprintf(buf, len, "%s%" PRIu64 " h %" PRIu64 " min", sign, h, m);
	else if (m)
		snprintf(buf, len, "%s%" PRIu64 " min %" PRIu64 " s", sign, m, s % 60);
	else
		snprintf(buf, len, "%s%" PRIu64 " s", sign, s % 60);
	return buf;
}

/* @s as one shell word for a command a person copies: as it is when it needs no quoting,
 * else in single quotes. */
static const char *shq(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "._-:/@+,=") == strlen(s))
		return s;
	buf[o++] = '\'';
	for (; *s && o + 6 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else {
			buf[o++] = *s;
		}
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/* ---- open items -------------------------------------------------------------------------- */

enum open_kind {
	OPEN_ALTERED,
	OPEN_MISSING,
	OPEN_PURGED,
	OPEN_LATE,
	OPEN_UNKNOWN,
	OPEN_FUTURE,
	OPEN_DAMAGED,
	OPEN_NO_DEVICE,
	OPEN_GAP,
	OPEN_NO_CLIPS,
	OPEN_KINDS,
};

static const char *const open_words[OPEN_KINDS] = {
	[OPEN_ALTERED] = "altered",
	[OPEN_MISSING] = "missing",
	[OPEN_PURGED] = "purged",
	[OPEN_LATE] = "late",
	[OPEN_UNKNOWN] = "unknown_time",
	[OPEN_FUTURE] = "future_time",
	[OPEN_DAMAGED] = "damaged",
	[OPEN_NO_DEVICE] = "no_device",
	[OPEN_GAP] = "gap",
	[OPEN_NO_CLIPS] = "no_clips",
};

/* An open item: "message" says it in words (the page prints the clip beside it, so the
 * message does not name it again), "action" is the command that closes it, or null when no
 * annotation can (an altered or missing original must be restored). */
static json_t *open_item(struct jb *jb, const char *kind, const char *device, int64_t entry,
			 int64_t from_us, int64_t to_us, const char *msg, const char *action)
{
	json_t *o = json_object();

	put(jb, o, "kind", jstr(jb, kind));
	put(jb, o, "entry", entry < 0 ? json_null() : jint(jb, entry));
	put(jb, o, "device", jstr(jb, device));
	put(jb, o, "from", jtime(jb, from_us));
	put(jb, o, "to", jtime(jb, to_us));
	put(jb, o, "message", jstr(jb, msg));
	put(jb, o, "action", jstr(jb, action));
	return o;
}

/* @c is the clip as the rules see it (its device attributed). */
static json_t *open_clip_item(struct jb *jb, enum open_kind kind, const struct rules_clip *c)
{
	char msg[1024], action[256], a[ING_RFC3339_MAX], s1[64], s2[64];
	bool timed = kind == OPEN_FUTURE || kind == OPEN_LATE;

	action[0] = '\0';
	switch (kind) {
	case OPEN_ALTERED:
		snprintf(msg, sizeof(msg),
			 "the original in the store no longer has the SHA-256 its entry records: "
			 "it was altered; find out how, restore it from a verified copy and "
			 "report it");
		break;
	case OPEN_MISSING:
		snprintf(msg, sizeof(msg),
			 "the original cannot be read from the store (%s); find out why and "
			 "restore it from a verified copy",
			 c->integrity_error ? c->integrity_error : "unreadable");
		break;
	case OPEN_PURGED:
		snprintf(msg, sizeof(msg),
			 "the original was purged from the store under the retention rules; only "
			 "its fingerprint remains in the log");
		break;
	case OPEN_LATE:
		if (c->end_us != RULES_NOTIME && c->deadline_us != RULES_NOTIME &&
		    c->ingested_us != RULES_NOTIME)
			snprintf(msg, sizeof(msg),
				 "stored %s after the recording ended, %s past its deadline, "
				 "and nothing explains it (if it was recorded on remote duty, "
				 "declare that instead)",
				 fmt_span(c->ingested_us - c->end_us, s1, sizeof(s1)),
				 fmt_span(c->ingested_us - c->deadline_us, s2, sizeof(s2)));
		else
			snprintf(msg, sizeof(msg),
				 "stored after its deadline, and nothing explains it");
		snprintf(action, sizeof(action),
			 "custodyctl annotate late_storage --entry %" PRIu64 " --reason TEXT",
			 c->index);
		break;
	case OPEN_UNKNOWN:
		snprintf(msg, sizeof(msg),
			 "no trustworthy recording time, so its storage deadline cannot be "
			 "checked, and nothing explains it");
		snprintf(action, sizeof(action),
			 "custodyctl annotate late_storage --entry %" PRIu64 " --reason TEXT",
			 c->index);
		break;
	case OPEN_FUTURE:
		fmt_time(c->start_us, a);
		if (c->start_us != RULES_NOTIME && c->ingested_us != RULES_NOTIME)
			snprintf(msg, sizeof(msg),
				 "claims a recording start of %s, %s after it was stored: the "
				 "camera's clock was wrong, and nothing says how",
				 a, fmt_span(c->start_us - c->ingested_us, s1, sizeof(s1)));
		else
			snprintf(msg, sizeof(msg),
				 "claims a recording time in the future: the camera's clock "
				 "was wrong, and nothing says how");
		snprintf(action, sizeof(action),
			 "custodyctl annotate late_storage --entry %" PRIu64 " --reason TEXT",
			 c->index);
		break;
	case OPEN_DAMAGED:
		snprintf(msg, sizeof(msg),
			 "the file is damaged (it could not be read to its end) and no damage "
			 "report explains it");
		snprintf(action, sizeof(action),
			 "custodyctl annotate damage_report --entry %" PRIu64 " --explanation TEXT",
			 c->index);
		break;
	case OPEN_NO_DEVICE:
		snprintf(msg, sizeof(msg),
			 "its name matched no pattern of zone '%s', so it has no device and its "
			 "continuity cannot be checked",
			 c->zone ? c->zone : "?");
		snprintf(action, sizeof(action),
			 "custodyctl annotate device --entry %" PRIu64
			 " --device DEVICE --reason TEXT",
			 c->index);
		break;
	default:
		msg[0] = '\0';
		break;
	}
	return open_item(jb, open_words[kind], c->device, (int64_t)c->index,
			 timed ? c->start_us : RULES_NOTIME, timed ? c->end_us : RULES_NOTIME, msg,
			 action[0] ? action : NULL);
}

static json_t *open_gap_item(struct jb *jb, const char *device, const struct rules_gap *g)
{
	char a[ING_RFC3339_MAX], b[ING_RFC3339_MAX], span[64], msg[1024], action[2048], q[1100];

	fmt_time(g->from_us, a);
	fmt_time(g->to_us, b);
	snprintf(msg, sizeof(msg),
		 "%s recorded nothing for %s, from %s to %s, and no interruption annotation "
		 "explains it",
		 device, fmt_span(g->to_us - g->from_us, span, sizeof(span)), a, b);
	snprintf(action, sizeof(action),
		 "custodyctl annotate interruption --device %s --from %s --to %s --reason TEXT",
		 shq(device, q, sizeof(q)), a, b);
	return open_item(jb, "gap", device, (int64_t)g->before, g->from_us, g->to_us, msg, action);
}

static json_t *gap_json(struct jb *jb, const struct rules_gap *g)
{
	json_t *o = json_object();

	put(jb, o, "from", jtime(jb, g->from_us));
	put(jb, o, "to", jtime(jb, g->to_us));
	put(jb, o, "seconds", jint(jb, (g->to_us - g->from_us) / 1000000));
	put(jb, o, "after", jint(jb, (int64_t)g->after));
	put(jb, o, "before", jint(jb, (int64_t)g->before));
	put(jb, o, "explained_by",
	    g->explained_by ? jint(jb, (int64_t)g->explained_by->index) : json_null());
	put(jb, o, "reason", jstr(jb, g->explained_by ? g->explained_by->reason : NULL));
	return o;
}

/* The kinds of open item of one clip, in their fixed order, into @kinds (room for
 * OPEN_KINDS).  @no_device: whether a clip without a device is open (in a review, and in a
 * report when a case binds it).  @return how many. */
static size_t clip_open_kinds(const struct rules_clip *c, const struct rules_status *st,
			      bool no_device, enum open_kind *kinds)
{
	size_t n = 0;

	if (c->integrity == RULES_ALTERED)
		kinds[n++] = OPEN_ALTERED;
	if (c->integrity == RULES_MISSING)
		kinds[n++] = OPEN_MISSING;
	if (c->integrity == RULES_PURGED)
		kinds[n++] = OPEN_PURGED;
	if (st->late_open)
		kinds[n++] = OPEN_LATE;
	if (st->unknown_open)
		kinds[n++] = OPEN_UNKNOWN;
	if (st->future_open)
		kinds[n++] = OPEN_FUTURE;
	if (st->damaged_open)
		kinds[n++] = OPEN_DAMAGED;
	if (no_device && st->no_device)
		kinds[n++] = OPEN_NO_DEVICE;
	return n;
}

/* The open items of one clip (@c as the rules see it), in a fixed order, into @open (and
 * counted in @counts), at most *@room of them when @room is not NULL.  @return whether some
 * did not fit. */
static bool clip_open_items(struct jb *jb, const struct rules_clip *c,
			    const struct rules_status *st, bool no_device, json_t *open,
			    size_t counts[OPEN_KINDS], size_t *room)
{
	enum open_kind kinds[OPEN_KINDS];
	size_t n = clip_open_kinds(c, st, no_device, kinds);
	bool dropped = false;

	for (size_t i = 0; i < n; i++) {
		counts[kinds[i]]++;
		if (!room || *room) {
			append(jb, open, open_clip_item(jb, kinds[i], c));
			if (room)
				(*room)--;
		} else {
			dropped = true;
		}
	}
	return dropped;
}

/* ---- reservations ------------------------------------------------------------------------ */

/* What is closed but a reviewer must weigh (docs/review-format.md), in the verdict's order. */
enum res_kind {
	RES_DAMAGED,
	RES_LATE,
	RES_UNKNOWN,
	RES_FUTURE,
	RES_REMOTE,
	RES_GAP,
	RES_NO_DEVICE,
	RES_KINDS,
};

static const char *const res_words[RES_KINDS] = {
	[RES_DAMAGED] = "damaged",     [RES_LATE] = "late",	     [RES_UNKNOWN] = "unknown_time",
	[RES_FUTURE] = "future_time",  [RES_REMOTE] = "remote_duty", [RES_GAP] = "gap",
	[RES_NO_DEVICE] = "no_device",
};

/* "and N more …" after RULES_VERDICT_LIST of a kind. */
static const char *const res_more[RES_KINDS] = {
	[RES_DAMAGED] = "damaged files (reported)",
	[RES_LATE] = "clips stored late (explained)",
	[RES_UNKNOWN] = "clips without a trustworthy time (explained)",
	[RES_FUTURE] = "clips with a recording time in the future (explained)",
	[RES_REMOTE] = "clips on time after remote duty",
	[RES_GAP] = "gaps explained by interruptions",
	[RES_NO_DEVICE] = "clips attributed to a device",
};

/* The reservations the verdict names: per kind, how many and the first RULES_VERDICT_LIST in
 * words.  A damaged file without a report is a reservation too, but an open one: the verdict
 * names it among the open items. */
struct res_list {
	size_t count[RES_KINDS];
	char *said[RES_KINDS][RULES_VERDICT_LIST];
	bool damaged; /* a damaged file is in the case, reported or not */
	bool failed;
};

static void res_list_free(struct res_list *l)
{
	for (size_t k = 0; k < RES_KINDS; k++)
		for (size_t i = 0; i < RULES_VERDICT_LIST; i++)
			free(l->said[k][i]);
}

static void res_say(struct res_list *l, enum res_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void res_say(struct res_list *l, enum res_kind kind, const char *fmt, ...)
{
	size_t i = l->count[kind]++;
	va_list ap;

	if (i >= RULES_VERDICT_LIST)
		return;
	va_start(ap, fmt);
	if (vasprintf(&l->said[kind][i], fmt, ap) < 0) {
		l->said[kind][i] = NULL;
		l->failed = true;
	}
	va_end(ap);
}

static json_t *res_item(struct jb *jb, enum res_kind kind, const char *device, int64_t entry,
			int64_t from_us, int64_t to_us, const struct rules_note *by)
{
	json_t *o = json_object();

	put(jb, o, "kind", jstr(jb, res_words[kind]));
	put(jb, o, "entry", entry < 0 ? json_null() : jint(jb, entry));
	put(jb, o, "device", jstr(jb, device));
	put(jb, o, "from", jtime(jb, from_us));
	put(jb, o, "to", jtime(jb, to_us));
	put(jb, o, "explained_by", by ? jint(jb, (int64_t)by->index) : json_null());
	return o;
}

/* The reservations of one clip (@c as the rules see it) into @res and @l. */
static void clip_reservations(struct jb *jb, const struct rules_clip *c,
			      const struct rules_status *st, json_t *res, struct res_list *l)
{
	const char *dev = c->device;

	if (c->damaged) {
		l->damaged = true;
		append(jb, res,
		       res_item(jb, RES_DAMAGED, dev, (int64_t)c->index, RULES_NOTIME, RULES_NOTIME,
				st->damage_report));
		if (st->damage_report)
			res_say(l, RES_DAMAGED,
				"entry %" PRIu64 " damaged (reported, #%" PRIu64 ")", c->index,
				st->damage_report->index);
	}
	if (st->storage_now == RULES_LATE && st->late_storage) {
		append(jb, res,
		       res_item(jb, RES_LATE, dev, (int64_t)c->index, c->start_us, c->end_us,
				st->late_storage));
		res_say(l, RES_LATE, "entry %" PRIu64 " stored late (explained, #%" PRIu64 ")",
			c->index, st->late_storage->index);
	}
	if (st->storage_now == RULES_UNKNOWN_TIME && !c->future && st->late_storage) {
		append(jb, res,
		       res_item(jb, RES_UNKNOWN, dev, (int64_t)c->index, RULES_NOTIME, RULES_NOTIME,
				st->late_storage));
		res_say(l, RES_UNKNOWN,
			"entry %" PRIu64 " without a trustworthy time (explained, #%" PRIu64 ")",
			c->index, st->late_storage->index);
	}
	if (c->future && st->late_storage) {
		append(jb, res,
		       res_item(jb, RES_FUTURE, dev, (int64_t)c->index, c->start_us, c->end_us,
				st->late_storage));
		res_say(l, RES_FUTURE,
			"entry %" PRIu64
			" with a recording time in the future (explained, #%" PRIu64 ")",
			c->index, st->late_storage->index);
	}
	if (st->storage_now == RULES_ON_TIME_REMOTE) {
		append(jb, res,
		       res_item(jb, RES_REMOTE, dev, (int64_t)c->index, c->start_us, c->end_us,
				st->remote_duty));
		if (st->remote_duty)
			res_say(l, RES_REMOTE,
				"entry %" PRIu64 " on time after remote duty (#%" PRIu64 ")",
				c->index, st->remote_duty->index);
		else
			res_say(l, RES_REMOTE, "entry %" PRIu64 " on time after remote duty",
				c->index);
	}
	if (st->device_note) {
		append(jb, res,
		       res_item(jb, RES_NO_DEVICE, dev, (int64_t)c->index, RULES_NOTIME,
				RULES_NOTIME, st->device_note));
		res_say(l, RES_NO_DEVICE, "entry %" PRIu64 " attributed to %s (#%" PRIu64 ")",
			c->index, dev, st->device_note->index);
	}
}

static void gap_reservation(struct jb *jb, const char *device, const struct rules_gap *g,
			    json_t *res, struct res_list *l)
{
	char a[ING_RFC3339_MAX], b[ING_RFC3339_MAX], span[64];

	fmt_time(g->from_us, a);
	fmt_time(g->to_us, b);
	append(jb, res,
	       res_item(jb, RES_GAP, device, (int64_t)g->before, g->from_us, g->to_us,
			g->explained_by));
	res_say(l, RES_GAP, "%s recorded nothing for %s from %s to %s (interruption, #%" PRIu64 ")",
		device, fmt_span(g->to_us - g->from_us, span, sizeof(span)), a, b,
		g->explained_by->index);
}

/* ---- the case review --------------------------------------------------------------------- */

static int cmp_clip_ptr(const void *a, const void *b)
{
	const struct rules_clip *x = *(const struct rules_clip *const *)a;
	const struct rules_clip *y = *(const struct rules_clip *const *)b;
	int64_t xs = x->start_us == RULES_NOTIME || x->future ? INT64_MAX : x->start_us;
	int64_t ys = y->start_us == RULES_NOTIME || y->future ? INT64_MAX : y->start_us;

	return cmp_str_null_last(x->device, y->device) ?: cmp_i64(xs, ys)
						      ?: cmp_u64(x->index, y->index);
}

static const char *const note_words[] = {
	[RULES_INTERRUPTION] = "interruption",
	[RULES_LATE_STORAGE] = "late_storage",
	[RULES_REMOTE_DUTY] = "remote_duty",
	[RULES_DAMAGE_REPORT] = "damage_report",
	[RULES_CASE] = "case",
	[RULES_APPROVAL] = "approval",
	[RULES_HOLD] = "hold",
	[RULES_DEVICE] = "device",
};

/* One explanation of a clip: the annotation's text where it has one, who and when, and the
 * fields that say what a declaration or an attribution covers. */
static json_t *explanation_json(struct jb *jb, const struct rules_note *n)
{
	json_t *o = json_object();

	put(jb, o, "index", jint(jb, (int64_t)n->index));
	put(jb, o, "kind", jstr(jb, note_words[n->kind]));
	put(jb, o, "text", jstr(jb, n->reason));
	put(jb, o, "by", jstr(jb, n->by));
	put(jb, o, "at", jtime(jb, n->at_us));
	if (n->kind == RULES_REMOTE_DUTY) {
		put(jb, o, "from", jtime(jb, n->from_us));
		put(jb, o, "to", jtime(jb, n->to_us));
		put(jb, o, "returned_at", jtime(jb, n->returned_us));
	}
	if (n->kind == RULES_REMOTE_DUTY || n->kind == RULES_DEVICE) {
		put(jb, o, "device", jstr(jb, n->device));
		put(jb, o, "officer", jstr(jb, n->officer));
	}
	return o;
}

#define CLIP_NOTES_MAX 64  /* annotations naming one clip looked at for its row */
#define CLIP_CASES_MAX 256 /* other cases named on a clip's row */

/* A clip's row: @c as the rules see it, @logged as its entry says, @case_id the case
 * reviewed (its own case annotations are not cross-references). */
static json_t *clip_json(struct jb *jb, const struct rules_book *b, const struct rules_clip *c,
			 const struct rules_clip *logged, const struct rules_status *st,
			 const char *case_id)
{
	const struct rules_note *naming[CLIP_NOTES_MAX], *why[CLIP_NOTES_MAX + 2];
	const char *cases[CLIP_CASES_MAX];
	size_t n = rules_notes_naming(b, c->index, naming, CLIP_NOTES_MAX), nwhy = 0;
	size_t ncases = rules_cases_of(b, c->index, cases, CLIP_CASES_MAX);
	json_t *o = json_object(), *explained = json_array(), *expl = json_array();
	json_t *others = json_array();

	if (n > CLIP_NOTES_MAX)
		n = CLIP_NOTES_MAX;
	if (ncases > CLIP_CASES_MAX)
		ncases = CLIP_CASES_MAX;
	for (size_t i = 0; i < n; i++) {
		if (naming[i]->kind == RULES_LATE_STORAGE)
			append(jb, explained, jint(jb, (int64_t)naming[i]->index));
		if (naming[i]->kind == RULES_LATE_STORAGE || naming[i]->kind == RULES_DAMAGE_REPORT)
			why[nwhy++] = naming[i];
	}
	if (st->remote_duty) {
		append(jb, explained, jint(jb, (int64_t)st->remote_duty->index));
		why[nwhy++] = st->remote_duty;
	}
	if (st->device_note)
		why[nwhy++] = st->device_note;
	qsort(why, nwhy, sizeof(*why), cmp_note_index);
	for (size_t i = 0; i < nwhy; i++)
		if (!i || why[i] != why[i - 1])
			append(jb, expl, explanation_json(jb, why[i]));
	for (size_t i = 0; i < ncases; i++)
		if (!case_id || strcmp(cases[i], case_id))
			append(jb, others, jstr(jb, cases[i]));
	put(jb, o, "index", jint(jb, (int64_t)c->index));
	put(jb, o, "type", jstr(jb, c->damaged ? "damaged" : "ingest"));
	put(jb, o, "name", jstr(jb, c->name));
	put(jb, o, "zone", jstr(jb, c->zone));
	put(jb, o, "officer", jstr(jb, c->officer));
	put(jb, o, "recorded_start", jtime(jb, c->start_us));
	put(jb, o, "recorded_end", jtime(jb, c->end_us));
	put(jb, o, "time_source", jstr(jb, c->time_source));
	put(jb, o, "time_in_future", json_boolean(c->future));
	put(jb, o, "duration_us",
	    c->duration_us == RULES_NOTIME ? json_null() : jint(jb, c->duration_us));
	put(jb, o, "size", jint(jb, (int64_t)c->size));
	put(jb, o, "sha256", jstr(jb, c->sha256));
	put(jb, o, "ingested_at", jtime(jb, c->ingested_us));
	put(jb, o, "deadline", jtime(jb, c->deadline_us));
	put(jb, o, "storage", jstr(jb, rules_storage_name(c->storage)));
	put(jb, o, "storage_now", jstr(jb, rules_storage_name(st->storage_now)));
	put(jb, o, "explained_by", explained);
	put(jb, o, "damaged", json_boolean(c->damaged));
	put(jb, o, "error", jstr(jb, c->error));
	put(jb, o, "damage_report",
	    st->damage_report ? jint(jb, (int64_t)st->damage_report->index) : json_null());
	put(jb, o, "integrity", jstr(jb, rules_integrity_name(c->integrity)));
	if (c->integrity_error)
		put(jb, o, "integrity_error", jstr(jb, c->integrity_error));
	put(jb, o, "explanations", expl);
	put(jb, o, "device_from",
	    jstr(jb, logged->device    ? "name"
		     : st->device_note ? "annotation"
				       : NULL));
	put(jb, o, "other_cases", others);
	return o;
}

/* "7, 8, 9 and 4 more" from the open items of @kind. */
static void list_entries(const json_t *open, const char *word, bool gaps, struct sbuf *sb)
{
	size_t shown = 0, total = 0, i;
	const json_t *item;

	json_array_foreach(open, i, item) {
		const char *k = json_string_value(json_object_get(item, "kind"));

		if (!k || strcmp(k, word))
			continue;
		total++;
		if (shown >= RULES_VERDICT_LIST)
			continue;
		if (gaps)
			sb_addf(sb, "%s%s %s to %s", shown ? ", " : "",
				json_string_value(json_object_get(item, "device")),
				json_string_value(json_object_get(item, "from")),
				json_string_value(json_object_get(item, "to")));
		else
			sb_addf(sb, "%s%" JSON_INTEGER_FORMAT, shown ? ", " : "",
				json_integer_value(json_object_get(item, "entry")));
		shown++;
	}
	if (total > shown)
		sb_addf(sb, " and %zu more", total - shown);
}

/* The reservations in words, "; "-separated, each kind capped at RULES_VERDICT_LIST. */
static void say_reservations(const struct res_list *l, struct sbuf *sb, bool first)
{
	for (size_t k = 0; k < RES_KINDS; k++) {
		size_t said = 0;

		for (size_t i = 0; i < RULES_VERDICT_LIST && l->said[k][i]; i++, said++) {
			sb_addf(sb, "%s%s", first ? "" : "; ", l->said[k][i]);
			first = false;
		}
		if (l->count[k] > said && said == RULES_VERDICT_LIST) {
			sb_addf(sb, "; and %zu more %s", l->count[k] - said, res_more[k]);
			first = false;
		}
	}
}

static size_t res_said(const struct res_list *l)
{
	size_t n = 0;

	for (size_t k = 0; k < RES_KINDS; k++)
		for (size_t i = 0; i < RULES_VERDICT_LIST; i++)
			n += l->said[k][i] != NULL;
	return n;
}

static json_t *verdict(struct jb *jb, const json_t *open, const size_t counts[OPEN_KINDS],
		       const struct res_list *res, size_t nclips, size_t ndevices, size_t ngaps,
		       bool checked)
{
	static const struct {
		enum open_kind kind;
		const char *one, *many;
	} parts[] = {
		{ OPEN_LATE, "late clip unexplained", "late clips unexplained" },
		{ OPEN_UNKNOWN, "clip without a trustworthy time unexplained",
		  "clips without a trustworthy time unexplained" },
		{ OPEN_FUTURE, "clip with a recording time in the future unexplained",
		  "clips with a recording time in the future unexplained" },
		{ OPEN_GAP, "unexplained gap", "unexplained gaps" },
		{ OPEN_DAMAGED, "damaged file without a report", "damaged files without a report" },
		{ OPEN_NO_DEVICE, "clip without a device", "clips without a device" },
		{ OPEN_ALTERED, "original altered", "originals altered" },
		{ OPEN_MISSING, "original missing or unreadable",
		  "originals missing or unreadable" },
		{ OPEN_PURGED, "original purged", "originals purged" },
	};
	struct sbuf sb = { 0 };
	size_t total = 0;
	bool first = true;
	json_t *v;

	for (size_t i = 0; i < OPEN_KINDS; i++)
		total += counts[i];
	if (counts[OPEN_NO_CLIPS])
		return jstr(jb, "INCOMPLETE: the case binds no clips");
	if (!total) {
		/* A damaged recording's original is intact as stored, but "every original
		 * intact" would read as "nothing damaged". */
		sb_addf(&sb, "%s: %zu clip%s from %zu device%s, %s, %s",
			res_said(res) ? "complete with reservations" : "complete", nclips,
			nclips == 1 ? "" : "s", ndevices, ndevices == 1 ? "" : "s",
			ngaps ? "every gap explained" : "no gaps",
			!checked       ? "originals not re-hashed"
			: res->damaged ? "every original unchanged since it was stored"
				       : "every original intact");
		say_reservations(res, &sb, false);
	} else {
		sb_addf(&sb, "INCOMPLETE: ");
		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
			size_t count = counts[parts[i].kind];
			bool gaps = parts[i].kind == OPEN_GAP;

			if (!count)
				continue;
			sb_addf(&sb, "%s%zu %s (%s", first ? "" : "; ", count,
				count == 1 ? parts[i].one : parts[i].many,
				gaps	     ? ""
				: count == 1 ? "entry "
					     : "entries ");
			list_entries(open, open_words[parts[i].kind], gaps, &sb);
			sb_addf(&sb, ")");
			first = false;
		}
		if (res_said(res)) {
			sb_addf(&sb, "; reservations: ");
			say_reservations(res, &sb, true);
		}
	}
	if (sb.failed || res->failed) {
		free(sb.p);
		jb->failed = true;
		return NULL;
	}
	v = jstr(jb, sb.p);
	free(sb.p);
	return v;
}

/* The case's clips as the rules see them (devices attributed) and, sorted by device, start
 * and index, pointers to them: @ret_eff[i] is @clips[i] attributed.  @return 0, -ENOMEM. */
static int attributed_order(const struct rules_book *b, const struct rules_clip *clips, size_t n,
			    struct rules_clip **ret_eff, const struct rules_clip ***ret_order)
{
	struct rules_clip *eff = malloc((n ? n : 1) * sizeof(*eff));
	const struct rules_clip **order = malloc((n ? n : 1) * sizeof(*order));

	if (!eff || !order) {
		free(eff);
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		rules_clip_attributed(b, &clips[i], &eff[i]);
		order[i] = &eff[i];
	}
	qsort(order, n, sizeof(*order), cmp_clip_ptr);
	*ret_eff = eff;
	*ret_order = order;
	return 0;
}

long rules_open_count(const struct rules_book *b, const struct rules_clip *clips, size_t n)
{
	struct rules_clip *eff = NULL;
	const struct rules_clip **order = NULL;
	struct rules_span *spans = malloc((n ? n : 1) * sizeof(*spans));
	struct rules_gap *gaps = malloc((n ? n : 1) * sizeof(*gaps));
	long count = 0;

	if (!n) {
		free(spans);
		free(gaps);
		return 1; /* no_clips */
	}
	if (!spans || !gaps || attributed_order(b, clips, n, &eff, &order) < 0) {
		free(spans);
		free(gaps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n;) {
		const char *device = order[i]->device;
		size_t j = i, nspans = 0, ngaps;

		while (j < n && !cmp_str_null_last(order[j]->device, device))
			j++;
		for (size_t k = i; k < j; k++) {
			const struct rules_clip *c = order[k];
			enum open_kind kinds[OPEN_KINDS];
			struct rules_status st;

			rules_clip_status(b, &clips[c - eff], &st);
			count += (long)clip_open_kinds(c, &st, true, kinds);
			if (c->start_us != RULES_NOTIME && c->end_us != RULES_NOTIME && !c->future)
				spans[nspans++] =
				    (struct rules_span){ c->index, c->start_us, c->end_us };
		}
		ngaps = device ? rules_gaps(b, device, spans, nspans, gaps) : 0;
		for (size_t g = 0; g < ngaps; g++)
			count += !gaps[g].explained_by;
		i = j;
	}
	free(eff);
	free(order);
	free(spans);
	free(gaps);
	return count;
}

int rules_review(const struct rules_book *b, const char *case_id, const struct rules_clip *clips,
		 size_t n, json_t **ret)
{
	struct jb jb = { 0 };
	struct rules_clip *eff = NULL;
	const struct rules_clip **order = NULL;
	struct rules_span *spans = malloc((n ? n : 1) * sizeof(*spans));
	struct rules_gap *gaps = malloc((n ? n : 1) * sizeof(*gaps));
	json_t *o = json_object(), *open = json_array(), *devices = json_array();
	json_t *gap_items = json_array(), *res = json_array(), *gap_res = json_array();
	size_t counts[OPEN_KINDS] = { 0 }, ndevices = 0, ngaps_all = 0;
	struct res_list rl = { 0 };
	bool checked = true;

	if (!spans || !gaps || !o || !open || !devices || !gap_items || !res || !gap_res ||
	    attributed_order(b, clips, n, &eff, &order) < 0) {
		jb.failed = true;
		goto out;
	}
	if (!n) {
		counts[OPEN_NO_CLIPS]++;
		{
			char q[1100], action[1200];

			snprintf(action, sizeof(action),
				 "custodyctl annotate case --case %s --entries N,…",
				 shq(case_id ? case_id : "ID", q, sizeof(q)));
			append(&jb, open,
			       open_item(&jb, "no_clips", NULL, -1, RULES_NOTIME, RULES_NOTIME,
					 "the case binds no clips", action));
		}
	}
	for (size_t i = 0; i < n;) {
		const char *device = order[i]->device;
		json_t *dev = json_object(), *list = json_array(), *glist = json_array();
		size_t j = i, nspans = 0, ngaps;

		while (j < n && !cmp_str_null_last(order[j]->device, device))
			j++;
		if (device)
			ndevices++;
		for (size_t k = i; k < j; k++) {
			const struct rules_clip *c = order[k], *logged = &clips[c - eff];
			struct rules_status st;

			rules_clip_status(b, logged, &st);
			if (c->integrity == RULES_UNCHECKED)
				checked = false;
			append(&jb, list, clip_json(&jb, b, c, logged, &st, case_id));
			clip_open_items(&jb, c, &st, true, open, counts, NULL);
			clip_reservations(&jb, c, &st, res, &rl);
			if (c->start_us != RULES_NOTIME && c->end_us != RULES_NOTIME && !c->future)
				spans[nspans++] =
				    (struct rules_span){ c->index, c->start_us, c->end_us };
		}
		/* Continuity needs a device: clips without one cannot be put on a timeline. */
		ngaps = device ? rules_gaps(b, device, spans, nspans, gaps) : 0;
		ngaps_all += ngaps;
		for (size_t g = 0; g < ngaps; g++) {
			append(&jb, glist, gap_json(&jb, &gaps[g]));
			if (!gaps[g].explained_by) {
				counts[OPEN_GAP]++;
				append(&jb, gap_items, open_gap_item(&jb, device, &gaps[g]));
			} else {
				gap_reservation(&jb, device, &gaps[g], gap_res, &rl);
			}
		}
		put(&jb, dev, "device", jstr(&jb, device));
		put(&jb, dev, "clips", list);
		put(&jb, dev, "gaps", glist);
		append(&jb, devices, dev);
		i = j;
	}
	if (json_array_extend(open, gap_items) < 0 || json_array_extend(res, gap_res) < 0)
		jb.failed = true;
	put(&jb, o, "case", jstr(&jb, case_id));
	put(&jb, o, "verdict", verdict(&jb, open, counts, &rl, n, ndevices, ngaps_all, checked));
	put(&jb, o, "complete", json_boolean(json_array_size(open) == 0));
	put(&jb, o, "open", json_incref(open));
	put(&jb, o, "reservations", json_incref(res));
	put(&jb, o, "devices", json_incref(devices));
out:
	res_list_free(&rl);
	free(eff);
	free(order);
	free(spans);
	free(gaps);
	json_decref(open);
	json_decref(devices);
	json_decref(gap_items);
	json_decref(res);
	json_decref(gap_res);
	if (jb.failed) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

/* ---- reports ----------------------------------------------------------------------------- */

enum counter {
	C_CLIPS,
	C_ON_TIME,
	C_ON_TIME_REMOTE,
	C_LATE_EXPLAINED,
	C_LATE_OPEN,
	C_UNKNOWN_EXPLAINED,
	C_UNKNOWN_OPEN,
	C_FUTURE,
	C_INTERRUPTIONS,
	C_INTERRUPTIONS_EXPLAINED,
	C_DAMAGED,
	C_DAMAGE_REPORTED,
	C_ACCESSES,
	C_COPY_OUTS,
	C_REFUSED,
	C_COUNTERS,
};

static const char *const counter_names[C_COUNTERS] = {
	"clips",
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

struct row {
	const char *key; /* NULL: no device / officer */
	uint64_t c[C_COUNTERS];
	int64_t us; /* recorded duration */
};

struct rows {
	struct row *v; /* sorted by key, NULL last */
	size_t n, cap;
};

/* A clip on its device's timeline; rows move as rows are added, so keep their keys. */
struct rspan {
	struct rules_span s;
	const char *dkey, *okey;
};

struct rules_report {
	const struct rules_book *b;
	int64_t from_us, to_us;
	size_t open_max, open_room;
	struct row total;
	struct rows devices, officers;
	struct rspan *spans;
	size_t nspans, capspans;
	json_t *open;
	bool open_truncated;
	size_t counts[OPEN_KINDS];
};

int rules_report_new(const struct rules_book *b, int64_t from_us, int64_t to_us, size_t open_max,
		     struct rules_report **ret)
{
	struct rules_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->b = b;
	r->from_us = from_us;
	r->to_us = to_us;
	r->open_max = r->open_room = open_max;
	r->open = json_array();
	if (!r->open) {
		free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

struct rules_report *rules_report_free(struct rules_report *r)
{
	if (r) {
		free(r->devices.v);
		free(r->officers.v);
		free(r->spans);
		json_decref(r->open);
		free(r);
	}
	return NULL;
}

static struct row *row_get(struct rows *rows, const char *key)
{
	size_t lo = LOWER_BOUND(rows->n, mid, cmp_str_null_last(rows->v[mid].key, key) < 0);

	if (lo < rows->n && !cmp_str_null_last(rows->v[lo].key, key))
		return &rows->v[lo];
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		struct row *v = realloc(rows->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		rows->v = v;
		rows->cap = cap;
	}
	memmove(&rows->v[lo + 1], &rows->v[lo], (rows->n - lo) * sizeof(*rows->v));
	rows->v[lo] = (struct row){ .key = key };
	rows->n++;
	return &rows->v[lo];
}

static void count3(struct row *a, struct row *b, struct row *c, enum counter k)
{
	a->c[k]++;
	if (b)
		b->c[k]++;
	if (c)
		c->c[k]++;
}

int rules_report_clip(struct rules_report *r, const struct rules_clip *logged)
{
	int64_t t = logged->start_us == RULES_NOTIME || logged->future ? logged->ingested_us
								       : logged->start_us;
	struct row *dev, *off;
	struct rules_status st;
	struct rules_clip attributed;
	const struct rules_clip *c = &attributed;
	struct jb jb = { 0 };
	bool no_device;

	if (t == RULES_NOTIME || (r->from_us != RULES_NOTIME && t < r->from_us) ||
	    (r->to_us != RULES_NOTIME && t >= r->to_us))
		return 0;
	/* A clip attributed by a device annotation counts for that device (docs/rules.md). */
	rules_clip_attributed(r->b, logged, &attributed);
	dev = row_get(&r->devices, c->device);
	off = dev ? row_get(&r->officers, c->officer) : NULL; /* another array: dev stays */
	if (!off)
		return -ENOMEM;
	rules_clip_status(r->b, logged, &st);
	count3(&r->total, dev, off, C_CLIPS);
	if (c->duration_us != RULES_NOTIME && c->duration_us > 0) {
		r->total.us += c->duration_us;
		dev->us += c->duration_us;
		off->us += c->duration_us;
	}
	switch (st.storage_now) {
	case RULES_ON_TIME:
		count3(&r->total, dev, off, C_ON_TIME);
		break;
	case RULES_ON_TIME_REMOTE:
		count3(&r->total, dev, off, C_ON_TIME_REMOTE);
		break;
	case RULES_LATE:
		count3(&r->total, dev, off, st.late_open ? C_LATE_OPEN : C_LATE_EXPLAINED);
		break;
	case RULES_UNKNOWN_TIME:
		count3(&r->total, dev, off,
		       st.unknown_open || st.future_open ? C_UNKNOWN_OPEN : C_UNKNOWN_EXPLAINED);
		break;
	default:
		break;
	}
	if (c->future)
		count3(&r->total, dev, off, C_FUTURE);
	if (c->damaged) {
		count3(&r->total, dev, off, C_DAMAGED);
		if (st.damage_report)
			count3(&r->total, dev, off, C_DAMAGE_REPORTED);
	}
	/* Like a gap, a clip without a device is open only where a case needs its continuity. */
	no_device = st.no_device && rules_cases_of(r->b, c->index, NULL, 0) > 0;
	if (clip_open_items(&jb, c, &st, no_device, r->open, r->counts, &r->open_room))
		r->open_truncated = true;
	if (jb.failed)
		return -ENOMEM;
	if (c->device && c->start_us != RULES_NOTIME && c->end_us != RULES_NOTIME && !c->future) {
		if (r->nspans == r->capspans) {
			size_t cap = r->capspans ? r->capspans * 2 : 1024;
			struct rspan *v = realloc(r->spans, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			r->spans = v;
			r->capspans = cap;
		}
		r->spans[r->nspans++] = (struct rspan){
			.s = { c->index, c->start_us, c->end_us },
			.dkey = c->device,
			.okey = c->officer,
		};
	}
	return 0;
}

void rules_report_accesses(struct rules_report *r, uint64_t accesses, uint64_t copy_outs,
			   uint64_t refused)
{
	r->total.c[C_ACCESSES] += accesses;
	r->total.c[C_COPY_OUTS] += copy_outs;
	r->total.c[C_REFUSED] += refused;
}

int rules_report_clip_accesses(struct rules_report *r, const char *device, const char *officer,
			       uint64_t accesses, uint64_t copy_outs, uint64_t refused)
{
	struct row *rows[2];

	rows[0] = row_get(&r->devices, device);
	rows[1] = rows[0] ? row_get(&r->officers, officer) : NULL;
	if (!rows[1])
		return -ENOMEM;
	for (size_t i = 0; i < 2; i++) {
		rows[i]->c[C_ACCESSES] += accesses;
		rows[i]->c[C_COPY_OUTS] += copy_outs;
		rows[i]->c[C_REFUSED] += refused;
	}
	return 0;
}

static int cmp_rspan(const void *a, const void *b)
{
	const struct rspan *x = a, *y = b;

	return strcmp(x->dkey, y->dkey) ?: cmp_span(&x->s, &y->s);
}

/* Whether one case binds both @a and @b. */
static bool same_case(const struct rules_book *b, uint64_t a, uint64_t c)
{
	const char *ca[16], *cb[16];
	size_t na = rules_cases_of(b, a, ca, 16), nb = rules_cases_of(b, c, cb, 16);

	for (size_t i = 0; i < na && i < 16; i++)
		for (size_t k = 0; k < nb && k < 16; k++)
			if (!strcmp(ca[i], cb[k]))
				return true;
	return false;
}

static json_t *row_json(struct jb *jb, const char *keyname, const struct row *row)
{
	json_t *o = json_object();

	if (keyname)
		put(jb, o, keyname, jstr(jb, row->key));
	put(jb, o, "clips", jint(jb, (int64_t)row->c[C_CLIPS]));
	put(jb, o, "seconds", jint(jb, (row->us + 500000) / 1000000));
	for (size_t k = 1; k < C_COUNTERS; k++)
		put(jb, o, counter_names[k], jint(jb, (int64_t)row->c[k]));
	return o;
}

int rules_report_json(struct rules_report *r, json_t **ret)
{
	struct jb jb = { 0 };
	struct rules_span *spans = NULL;
	struct rules_gap *gaps = NULL;
	json_t *o = json_object(), *devs = json_array(), *offs = json_array();
	size_t open_total;

	if (r->nspans) /* r->spans is NULL when empty: qsort(NULL, 0) is undefined */
		qsort(r->spans, r->nspans, sizeof(*r->spans), cmp_rspan);
	spans = malloc((r->nspans ? r->nspans : 1) * sizeof(*spans));
	gaps = malloc((r->nspans ? r->nspans : 1) * sizeof(*gaps));
	if (!spans || !gaps || !o || !devs || !offs) {
		jb.failed = true;
		goto out;
	}
	for (size_t i = 0; i < r->nspans;) {
		const char *device = r->spans[i].dkey;
		size_t j = i, ngaps;

		while (j < r->nspans && !strcmp(r->spans[j].dkey, device)) {
			spans[j - i] = r->spans[j].s;
			j++;
		}
		ngaps = rules_gaps(r->b, device, spans, j - i, gaps);
		for (size_t g = 0; g < ngaps; g++) {
			struct row *dev = row_get(&r->devices, device), *off = NULL;

			/* The officer who restarted recording is the one who explains the gap. */
			for (size_t k = i; k < j; k++)
				if (r->spans[k].s.index == gaps[g].before)
					off = row_get(&r->officers, r->spans[k].okey);
			if (!dev) {
				jb.failed = true;
				goto out;
			}
			count3(&r->total, dev, off, C_INTERRUPTIONS);
			if (gaps[g].explained_by) {
				count3(&r->total, dev, off, C_INTERRUPTIONS_EXPLAINED);
				continue;
			}
			/* Outside a case, a gap between two clips is most often the end of a
			 * shift: it is counted, and open only where a case needs it closed. */
			if (!same_case(r->b, gaps[g].after, gaps[g].before))
				continue;
			r->counts[OPEN_GAP]++;
			if (r->open_room) {
				append(&jb, r->open, open_gap_item(&jb, device, &gaps[g]));
				r->open_room--;
			} else {
				r->open_truncated = true;
			}
		}
		i = j;
	}
	for (size_t i = 0; i < r->devices.n; i++)
		append(&jb, devs, row_json(&jb, "device", &r->devices.v[i]));
	for (size_t i = 0; i < r->officers.n; i++)
		append(&jb, offs, row_json(&jb, "officer", &r->officers.v[i]));
	open_total = 0;
	for (size_t k = 0; k < OPEN_KINDS; k++)
		open_total += r->counts[k];
	put(&jb, o, "from", jtime(&jb, r->from_us));
	put(&jb, o, "to", jtime(&jb, r->to_us));
	put(&jb, o, "totals", row_json(&jb, NULL, &r->total));
	put(&jb, o, "open_total", jint(&jb, (int64_t)open_total));
	put(&jb, o, "gaps_open", jint(&jb, (int64_t)r->counts[OPEN_GAP]));
	put(&jb, o, "devices", json_incref(devs));
	put(&jb, o, "officers", json_incref(offs));
	put(&jb, o, "open", json_incref(r->open));
	put(&jb, o, "open_truncated", json_boolean(r->open_truncated));
out:
	free(spans);
	free(gaps);
	json_decref(devs);
	json_decref(offs);
	if (jb.failed) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

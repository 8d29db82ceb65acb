/* daemon/server/annotate.c: `annotate` (annotation entries: docs/log.md).  Loop thread only.
 *
 * Request: {"op":"annotate", "kind":KIND, FIELD: VALUE…}; the fields are those of the kind, named
 * as in the entry; any other field is refused, so an entry holds exactly what its kind means:
 *
 *   kind            who                  fields (all required unless marked ?)
 *   interruption    operator, reviewer   device, from, to, reason
 *   late_storage    operator, reviewer   entry, reason
 *   remote_duty     operator, reviewer   device?, officer? (at least one), from, to, returned_at
 *   damage_report   operator, reviewer   entry, explanation
 *   case            operator, reviewer   case, and entries or device + from + to
 *   approval        approver             grantee, entries, purpose, expires  (approver = caller)
 *   hold            operator, reviewer   entries, reason  (kept beyond retention:
 * daemon/server/copy.c)
 *   device          operator, reviewer   entry, device, officer?, reason  (a clip without a
 *                                        device: its name matched no pattern of its zone)
 *
 * Times are RFC 3339 with a zone ("Z" or an offset) and are stored in UTC as ing_format_utc()
 * writes them; from <= to; returned_at not before from; expires in the future.  Entry indexes
 * must name ingest or damaged entries of the log (up to 2,000 per annotation, no duplicates);
 * late_storage must name one stored late or with an unknown time, device one whose entry has no
 * device (a device annotation attributes a clip, it does not move one).  Names and ids are at most
 * 256 bytes, texts (reason, explanation, purpose) at most 16 KiB as written in the entry
 * (escapes counted: vfy_entry_string_size()).
 *
 * Those caps keep every annotation within the log's entry limit (VFY_ENTRY_MAX) by
 * construction, so that one is refused at the socket with a clear error (too_large), never by
 * the writer: the largest, an approval, holds 2,000 indexes of at most 20 bytes (40,000), a
 * text (16,386), a name (256 bytes, at most 1,538 escaped), "by" and "approver" (127 bytes
 * each, at most 764 escaped) and times and keys (under 400): 59,852 bytes.  A case to bind to
 * more clips is bound by several annotations, which reviews put together (docs/rules.md).  The
 * entry is measured once more before it is handed on, in case a field is added without its
 * cap.
 *
 * The server adds "v":1, "type":"annotation", "by" (the peer, "alice(uid 1001)") and "at" (now),
 * hands the entry to pipe_append() and answers {"ok":true,"index":N} from the commit callback;
 * the client's next request waits until then.  The annotation goes into the server's index at
 * the same moment, so a `verify` right after it lists it.  A case or hold that binds an entry
 * whose purge is in flight is refused with `unavailable` (try again): srv__purge_conflict(). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/daemon.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "base/log.h"
#include "daemon/pipeline.h"
#include "daemon/server/internal.h"
#include "verify/entry.h"
#include "verify/tlog.h"

#define NAME_MAX_BYTES 256
#define TEXT_MAX_BYTES (16 * 1024) /* as written in the entry */
#define ENTRIES_MAX 2000
_Static_assert(ENTRIES_MAX * 20 + TEXT_MAX_BYTES + 2 + 6 * NAME_MAX_BYTES + 2 + 2 * (6 * 127 + 2) +
		       400 <=
		   VFY_ENTRY_MAX,
	       "an annotation may exceed the entry limit");

enum field_type { F_NAME, F_TEXT, F_TIME, F_INDEX, F_INDEXES };

struct field {
	const char *name;
	enum field_type type;
	bool optional;
};

static const struct kind {
	const char *name;
	unsigned roles;
	struct field fields[6];
} kinds[] = {
	{ "interruption",
	  SRV_OPERATOR | SRV_REVIEWER,
	  { { "device", F_NAME }, { "from", F_TIME }, { "to", F_TIME }, { "reason", F_TEXT } } },
	{ "late_storage",
	  SRV_OPERATOR | SRV_REVIEWER,
	  { { "entry", F_INDEX }, { "reason", F_TEXT } } },
	{ "remote_duty",
	  SRV_OPERATOR | SRV_REVIEWER,
	  { { "device", F_NAME, true },
	    { "officer", F_NAME, true },
	    { "from", F_TIME },
	    { "to", F_TIME },
	    { "returned_at", F_TIME } } },
	{ "damage_report",
	  SRV_OPERATOR | SRV_REVIEWER,
	  { { "entry", F_INDEX }, { "explanation", F_TEXT } } },
	{ "case",
	  SRV_OPERATOR | SRV_REVIEWER,
	  { { "case", F_NAME },
	    { "entries", F_INDEXES, true },
	    { "device", F_NAME, true },
	    { "from", F_TIME, true },
	    { "to", F_TIME, true } } },
	{ "approval",
	  SRV_APPROVER,
	  { { "grantee", F_NAME },
	    { "entries", F_INDEXES },
	    { "purpose", F_TEXT },
	    { "expires", F_TIME } } },
	{ "hold", SRV_OPERATOR | SRV_REVIEWER, { { "entries", F_INDEXES }, { "reason", F_TEXT } } },
	{ "device",
	  SRV_OPERATOR | SRV_REVIEWER,
	  { { "entry", F_INDEX },
	    { "device", F_NAME },
	    { "officer", F_NAME, true },
	    { "reason", F_TEXT } } },
};

/* What an annotation naming one entry requires of it, beyond being an original's. */
enum entry_need {
	NEED_ORIGINAL,
	NEED_LATE,	/* late_storage: stored late or with an unknown time */
	NEED_NO_DEVICE, /* device: an entry without a device */
};

static const struct field *kind_field(const struct kind *k, const char *name)
{
	for (size_t i = 0; i < sizeof(k->fields) / sizeof(k->fields[0]) && k->fields[i].name; i++)
		if (!strcmp(k->fields[i].name, name))
			return &k->fields[i];
	return NULL;
}

static void field_list(const struct kind *k, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(k->fields) / sizeof(k->fields[0]) && k->fields[i].name; i++) {
		int n = snprintf(buf + o, len - o, "%s%s%s", o ? ", " : "", k->fields[i].name,
				 k->fields[i].optional ? "?" : "");

		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

/* An entry an annotation names must be an original's entry (ingest or damaged). */
static int check_original(struct tlog *log, uint64_t size, uint64_t index, enum entry_need need,
			  struct err_detail *reterr)
{
	const char *type, *storage, *device;
	json_t *o;
	char *bytes;
	size_t len;
	int r;

	if (index >= size)
		return err_set(reterr, -EINVAL,
			       "there is no entry %" PRIu64 ": the log holds %" PRIu64 " entries",
			       index, size);
	r = tlog_entry(log, index, &bytes, &len, reterr);
	if (r < 0)
		return r;
	o = srv__entry_json(bytes, len);
	free(bytes);
	type = json_string_value(json_object_get(o, "type"));
	storage = json_string_value(json_object_get(o, "storage"));
	device = json_string_value(json_object_get(o, "device"));
	if (!type || (strcmp(type, "ingest") && strcmp(type, "damaged")))
		r = err_set(reterr, -EINVAL,
			    "entry %" PRIu64 " is %s %s entry, not an original "
			    "(ingest or damaged)",
			    index, type && strchr("aeiou", type[0]) ? "an" : "a",
			    type ? type : "unknown");
	else if (need == NEED_LATE &&
		 (!storage || (strcmp(storage, "late") && strcmp(storage, "unknown_time"))))
		r = err_set(reterr, -EINVAL,
			    "entry %" PRIu64 " was stored '%s': there is no late "
			    "storage to explain",
			    index, storage ? storage : "?");
	else if (need == NEED_NO_DEVICE && device)
		r = err_set(reterr, -EINVAL,
			    "entry %" PRIu64 " has the device '%.64s' from its name: a device "
			    "annotation attributes only a clip without one",
			    index, device);
	json_decref(o);
	return r;
}

/* Validate @v as field @f into the entry @out (normalised). */
static int put_field(struct tlog *log, uint64_t size, const struct kind *k, const struct field *f,
		     const json_t *v, json_t *out, int64_t *ret_time, struct err_detail *reterr)
{
	switch (f->type) {
	case F_NAME:
	case F_TEXT: {
		size_t max = f->type == F_NAME ? NAME_MAX_BYTES : TEXT_MAX_BYTES;

		if (!json_is_string(v) || !json_string_length(v))
			return err_set(reterr, -EINVAL, "\"%s\" must be a non-empty string",
				       f->name);
		if (json_string_length(v) > max)
			return err_set(
			    reterr, -E2BIG, "\"%s\" is %zu bytes, longer than %zu bytes%s", f->name,
			    json_string_length(v), max,
			    f->type == F_TEXT ? ": shorten it, or say the rest in another "
						"annotation"
					      : "");
		/* Escapes count: a newline takes 2 bytes in the entry, a control character 6. */
		if (f->type == F_TEXT &&
		    vfy_entry_string_size(json_string_value(v), json_string_length(v)) - 2 > max)
			return err_set(
			    reterr, -E2BIG,
			    "\"%s\" takes %zu bytes in the log entry (a newline or quote "
			    "counts 2, another control character 6), more than %zu: "
			    "shorten it, or say the rest in another annotation",
			    f->name,
			    vfy_entry_string_size(json_string_value(v), json_string_length(v)) - 2,
			    max);
		if (strlen(json_string_value(v)) != json_string_length(v))
			return err_set(reterr, -EINVAL, "\"%s\" contains a NUL character", f->name);
		return json_object_set(out, f->name, (json_t *)v) < 0 ? -ENOMEM : 0;
	}
	case F_TIME: {
		char text[ING_RFC3339_MAX];

		if (!json_is_string(v) || srv__parse_time(json_string_value(v), ret_time) < 0 ||
		    ing_format_utc(*ret_time, text) < 0)
			return err_set(reterr, -EINVAL,
				       "\"%s\" must be an RFC 3339 time with a zone, "
				       "like 2024-05-01T08:00:00Z or 2024-05-01T16:00:00+08:00",
				       f->name);
		return json_object_set_new(out, f->name, json_string(text)) < 0 ? -ENOMEM : 0;
	}
	case F_INDEX: {
		int r;

		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return err_set(reterr, -EINVAL, "\"%s\" must be an entry index", f->name);
		r = check_original(log, size, (uint64_t)json_integer_value(v),
				   !strcmp(k->name, "late_storage") ? NEED_LATE
				   : !strcmp(k->name, "device")	    ? NEED_NO_DEVICE
								    : NEED_ORIGINAL,
				   reterr);
		if (r < 0)
			return r;
		return json_object_set(out, f->name, (json_t *)v) < 0 ? -ENOMEM : 0;
	}
	case F_INDEXES: {
		size_t n = json_array_size(v), i, j;
		const json_t *e;

		if (!json_is_array(v) || !n)
			return err_set(reterr, -EINVAL,
				       "\"%s\" must be a non-empty list of entry "
				       "indexes",
				       f->name);
		if (n > ENTRIES_MAX)
			return err_set(reterr, -E2BIG,
				       "\"%s\" lists %zu entries; one %s annotation takes at most "
				       "%d (an entry of the log is at most %d bytes): record it in "
				       "several annotations of at most %d each",
				       f->name, n, k->name, ENTRIES_MAX, VFY_ENTRY_MAX,
				       ENTRIES_MAX);
		json_array_foreach(v, i, e) {
			int r;

			if (!json_is_integer(e) || json_integer_value(e) < 0)
				return err_set(reterr, -EINVAL,
					       "\"%s\"[%zu] must be an entry index", f->name, i);
			for (j = 0; j < i; j++)
				if (json_integer_value(json_array_get(v, j)) ==
				    json_integer_value(e))
					return err_set(reterr, -EINVAL,
						       "\"%s\" lists entry %" PRId64 " twice",
						       f->name, (int64_t)json_integer_value(e));
			r = check_original(log, size, (uint64_t)json_integer_value(e),
					   NEED_ORIGINAL, reterr);
			if (r < 0)
				return r;
		}
		return json_object_set(out, f->name, (json_t *)v) < 0 ? -ENOMEM : 0;
	}
	}
	return -EINVAL;
}

/* A case bound by device and time (custodyctl annotate case --device D --from T --to T): the
 * device's clips whose recording overlaps from..to, from the index, become "entries"; the
 * entry keeps device, from and to as well, to say how they were chosen, and a review adds the
 * clips of that time stored since (srv__case_span_binds() is the rule).  Clips without a
 * recording time cannot be chosen this way (bind them with "entries"). */
static int case_entries(struct server *s, json_t *entry, int64_t from, int64_t to,
			struct err_detail *reterr)
{
	const struct srv_index *x = &s->idx;
	const char *device = json_string_value(json_object_get(entry, "device"));
	bool by_time = device || from != INT64_MIN || to != INT64_MIN;
	uint32_t id;
	json_t *list;

	if (json_object_get(entry, "entries")) {
		if (by_time)
			return err_set(reterr, -EINVAL,
				       "a case annotation takes \"entries\", or "
				       "\"device\" with \"from\" and \"to\", not both");
		return 0;
	}
	if (!device || from == INT64_MIN || to == INT64_MIN)
		return err_set(reterr, -EINVAL,
			       "a case annotation needs \"entries\", or "
			       "\"device\", \"from\" and \"to\"");
	srv__index_catch_up(s);
	if (!x->caught_up)
		return err_set(reterr, -EAGAIN,
			       "the daemon is still reading the log; bind the "
			       "case by device and time in a moment, or give \"entries\"");
	list = json_array();
	if (!list)
		return err_set(reterr, -ENOMEM, "out of memory");
	id = srv__index_str_find(x, device);
	for (size_t i = 0; id && i < x->nclips; i++) {
		const struct srv_clip *c = &x->clips[i];

		/* The rule a review applies again, for clips of that time stored since. */
		if (!srv__case_span_binds(c, id, from, to))
			continue;
		if (json_array_size(list) == ENTRIES_MAX) {
			json_decref(list);
			return err_set(reterr, -E2BIG,
				       "more than %d clips of '%s' fall in that time, more "
				       "than one annotation may bind: bind the case in several "
				       "annotations over shorter times",
				       ENTRIES_MAX, device);
		}
		if (json_array_append_new(list, json_integer((json_int_t)c->index)) < 0) {
			json_decref(list);
			return err_set(reterr, -ENOMEM, "out of memory");
		}
	}
	if (!json_array_size(list)) {
		json_decref(list);
		return err_set(reterr, -ENOENT,
			       "no clip of device '%s' with a known recording "
			       "time overlaps that time: nothing to bind",
			       device);
	}
	if (json_object_set_new(entry, "entries", list) < 0)
		return err_set(reterr, -ENOMEM, "out of memory");
	return 0;
}

/* The caps above bound the entry (see the top of this file); this measures it, so that a field
 * added without a cap is refused here with a clear error, not by the writer.  A few KiB of
 * work on the loop, once per annotation. */
static int check_size(const json_t *entry, struct err_detail *reterr)
{
	struct err_detail e;
	char *text;
	size_t len;
	int r = vfy_entry_dump(entry, &text, &len, &e);

	if (r == -E2BIG)
		return err_set(reterr, r,
			       "the annotation would be more than %d bytes in the log, the most an "
			       "entry may hold: record it in several annotations",
			       VFY_ENTRY_MAX);
	if (r < 0)
		return err_set(reterr, r, "the annotation cannot be logged: %s", e.msg);
	free(text);
	return 0;
}

struct annotate_ctx {
	struct srv_client *c;
	struct srv_note note;
	bool keeps; /* a case or hold: counted in s->keeps_pending until its commit */
};

static void on_committed(void *opaque, int status, uint64_t index, const struct err_detail *e)
{
	struct annotate_ctx *ctx = opaque;
	struct srv_client *c = ctx->c;
	struct server *s = c->s;

	s->pending--;
	if (ctx->keeps)
		s->keeps_pending--;
	if (status >= 0 && srv__index_add_note(&s->idx, index, &ctx->note) < 0)
		log_error("socket",
			  "out of memory indexing annotation %" PRIu64 "; `verify` will "
			  "list it once the index is rebuilt (restart)",
			  index);
	srv__note_done(&ctx->note);
	srv__duties_push(s);
	if (!c->closing) {
		if (status < 0) {
			struct err_detail why;

			if (e)
				why = *e;
			else
				err_set(&why, status, "the annotation was not recorded");
			srv__reply_error(c, status, &why);
		} else {
			srv__reply(c, json_pack("{s:I}", "index", (json_int_t)index));
		}
		srv__release(c);
	}
	free(ctx);
	srv__client_unref(c); /* last: may free the client, and with it a closing server */
}

int srv__op_annotate(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	struct tlog *log = s->d->log;
	const struct kind *k = NULL;
	struct annotate_ctx *ctx;
	int64_t t_from = INT64_MIN, t_to = INT64_MIN, t_returned = INT64_MIN, t_expires = INT64_MIN;
	char at[ING_RFC3339_MAX], list[160];
	const char *kind = NULL, *key;
	json_t *entry, *v;
	uint64_t size;
	int r;

	r = srv__req_string(req, "kind", true, 64, &kind, reterr);
	if (r < 0)
		return err_set(reterr, -EINVAL,
			       "\"kind\" is required: interruption, late_storage, "
			       "remote_duty, damage_report, case, approval, hold or device");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, kind))
			k = &kinds[i];
	if (!k)
		return err_set(reterr, -EINVAL,
			       "unknown annotation kind '%.64s' (interruption, "
			       "late_storage, remote_duty, damage_report, case, approval, hold, "
			       "device)",
			       kind);
	if (!(c->roles & k->roles)) {
		char need[64];

		return err_set(reterr, -EACCES,
			       "%s may not record an annotation of kind '%s': it "
			       "needs the role %s",
			       c->by, k->name, srv__role_names(k->roles, need, sizeof(need)));
	}
	if (s->d->stopping)
		return err_set(reterr, -ESHUTDOWN,
			       "the daemon is stopping; record the annotation "
			       "once it is back");
	r = tlog_size(log, &size, reterr);
	if (r < 0)
		return r;
	field_list(k, list, sizeof(list));
	entry = json_object();
	if (!entry)
		return err_set(reterr, -ENOMEM, "out of memory");
	json_object_foreach(req, key, v) {
		const struct field *f;
		int64_t t = INT64_MIN;

		if (!strcmp(key, "op") || !strcmp(key, "id") || !strcmp(key, "kind"))
			continue;
		f = kind_field(k, key);
		if (!f) {
			r = err_set(reterr, -EINVAL,
				    "'%.64s' is not a field of a %s annotation (%s)", key, k->name,
				    list);
			goto fail;
		}
		if (json_is_null(v) && f->optional)
			continue;
		r = put_field(log, size, k, f, v, entry, &t, reterr);
		if (r == -ENOMEM)
			err_set(reterr, r, "out of memory");
		if (r < 0)
			goto fail;
		if (!strcmp(key, "from"))
			t_from = t;
		else if (!strcmp(key, "to"))
			t_to = t;
		else if (!strcmp(key, "returned_at"))
			t_returned = t;
		else if (!strcmp(key, "expires"))
			t_expires = t;
	}
	for (size_t i = 0; i < sizeof(k->fields) / sizeof(k->fields[0]) && k->fields[i].name; i++)
		if (!k->fields[i].optional && !json_object_get(entry, k->fields[i].name)) {
			r = err_set(reterr, -EINVAL, "a %s annotation needs \"%s\" (fields: %s)",
				    k->name, k->fields[i].name, list);
			goto fail;
		}
	if (!strcmp(k->name, "remote_duty") && !json_object_get(entry, "device") &&
	    !json_object_get(entry, "officer")) {
		r = err_set(reterr, -EINVAL,
			    "a remote_duty annotation needs \"device\" or "
			    "\"officer\"");
		goto fail;
	}
	if (t_from != INT64_MIN && t_to != INT64_MIN && t_from > t_to) {
		r = err_set(reterr, -EINVAL, "\"from\" is later than \"to\"");
		goto fail;
	}
	if (!strcmp(k->name, "case")) {
		r = case_entries(s, entry, t_from, t_to, reterr);
		if (r < 0)
			goto fail;
	}
	if (t_returned != INT64_MIN && t_from != INT64_MIN && t_returned < t_from) {
		r = err_set(reterr, -EINVAL, "\"returned_at\" is earlier than \"from\"");
		goto fail;
	}
	if (t_expires != INT64_MIN && t_expires <= (int64_t)daemon_now_us()) {
		r = err_set(reterr, -EINVAL, "\"expires\" is not in the future");
		goto fail;
	}
	if (ing_format_utc((int64_t)daemon_now_us(), at) < 0) {
		r = err_set(reterr, -EIO, "the system clock is outside 0000-9999");
		goto fail;
	}
	if (json_object_set_new(entry, "v", json_integer(1)) < 0 ||
	    json_object_set_new(entry, "type", json_string("annotation")) < 0 ||
	    json_object_set_new(entry, "kind", json_string(k->name)) < 0 ||
	    json_object_set_new(entry, "by", json_string(c->by)) < 0 ||
	    json_object_set_new(entry, "at", json_string(at)) < 0 ||
	    (!strcmp(k->name, "approval") &&
	     json_object_set_new(entry, "approver", json_string(c->by)) < 0)) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	r = check_size(entry, reterr);
	if (r < 0)
		goto fail;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	r = srv__note_parse(entry, &ctx->note);
	if (r < 0) {
		free(ctx);
		r = err_set(reterr, r == -ENOMEM ? r : -EIO, "cannot index the annotation");
		goto fail;
	}
	/* A case or hold must not cross a purge of an entry it binds (daemon/server/copy.c). */
	r = srv__purge_conflict(s, &ctx->note, reterr);
	if (r < 0) {
		srv__note_done(&ctx->note);
		free(ctx);
		goto fail;
	}
	ctx->keeps = ctx->note.kind == SRV_NOTE_CASE || ctx->note.kind == SRV_NOTE_HOLD;
	s->keeps_pending += ctx->keeps;
	ctx->c = c;
	srv__client_ref(c);
	s->pending++;
	srv__hold(c);
	pipe_append(s->d->pipe, entry, on_committed, ctx);
	return 0;
fail:
	json_decref(entry);
	return r;
}

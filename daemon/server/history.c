/* daemon/server/history.c: `history`, one clip's chain of custody (docs/review-format.md,
 * docs/protocol.md).  Loop thread, except history_run, which runs on libuv's pool.
 *
 * DESIGN
 *
 *   history {entry}   R (reviewer, operator, auditor, approver), recorded as an access entry
 *     1. on the loop (srv__op_history): what the index knows of the clip, copied into the job:
 *        the annotations naming it (the rules book, as a review builds it), the case
 *        annotations that bind it by device and time, the remote-duty declaration that made it
 *        on time, its storage status now, the access refs the index keeps of it (every
 *        copy-out, the newest reads and refusals: struct srv_clip), its duplicates and the
 *        scrub passes that may speak of it (daemon/server/trail.c).  No entry is read here
 *        (the log's size only); the cost is a pass over the annotations, which people write,
 *        and one over the duplicates, about a millisecond per million;
 *     2. on the pool (history_run): the purge entry that names it (TLOG_KEY_PURGED of its
 *        bytes, whose extra is the purged entry: verify/keys.h), its original re-hashed from
 *        the store as a review does (about 1 s per GB; not opened when purged), the scrub
 *        entries whose range holds it read to see whether they list it, then every event's
 *        entry and its inclusion proof at the served checkpoint (tlog_proof_file(), as the
 *        `proof` op makes them), and the answer serialised: up to HISTORY_EVENTS_MAX events
 *        of at most 65,535 bytes each plus their proofs, which the loop must not spend time on;
 *     3. on the loop (history_done): the access entry recorded ("result":"abandoned" when the
 *        client left meanwhile), then the answer sent.
 *   The client is held meanwhile (srv__hold); at most HISTORIES_MAX run at once, so that the
 *   pool keeps room for ingest and reviews; more get "busy".
 *
 * Which scrub pass found the clip intact: the newest pass that covered it (its log_size above
 * the clip's index), is whole in the log (every part), counted no failure it did not list,
 * lists it in none of its parts and was logged before any purge of it (a pass skips purged
 * originals).  The trail keeps every part of a pass with findings and the clean passes that
 * no later one supersedes, so the newest such pass is among them.
 *
 * One file: the operation is one job passed from the loop to the pool and back. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "base/err.h"
#include "base/hex.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "daemon/server/internal.h"
#include "daemon/witness.h"
#include "ingest/rectime.h"
#include "ingest/store.h"
#include "rules/rules.h"
#include "verify/hash.h"
#include "verify/keys.h"
#include "verify/tlog.h"

#define HISTORY_EVENTS_MAX 2000 /* events in one answer (events_truncated beyond) */
#define HISTORIES_MAX 2		/* histories re-hashing at once */

static unsigned histories_running;

/* The kinds of event, in the order in which they are kept when there are more than
 * HISTORY_EVENTS_MAX: what happened to the clip itself first, then what people wrote about
 * it and what the scrubber found, then who took it out, then arrivals of its bytes again, and
 * last the reads and refusals, which anyone with the socket can multiply. */
enum ev_kind {
	EV_ARRIVAL,
	EV_PURGE,
	EV_ANNOTATION,
	EV_SCRUB,
	EV_COPIED,
	EV_DUPLICATE,
	EV_READ,
	EV_REFUSED,
};

static const char *const ev_names[] = {
	[EV_ARRIVAL] = "arrival", [EV_PURGE] = "purge",	   [EV_ANNOTATION] = "annotation",
	[EV_SCRUB] = "scrub",	  [EV_COPIED] = "access",  [EV_DUPLICATE] = "duplicate",
	[EV_READ] = "access",	  [EV_REFUSED] = "access",
};

struct ev {
	uint64_t index;
	uint8_t kind;	    /* enum ev_kind */
	const char *result; /* scrub: "missing", "altered" or "ok" (static strings) */
};

struct history_job {
	uv_work_t work;
	struct srv_client *c;
	struct tlog *log;	 /* any thread (short read txns) */
	struct store *store;	 /* immutable, any thread */
	struct witnessing *wit;	 /* wit_served(): any thread; NULL without witnesses */
	const bool *stopping;	 /* the daemon's SIGTERM flag */
	uint64_t entry;		 /* the clip */
	uint8_t sha256[32];	 /* its original's, from the index */
	bool purged;		 /* a purge entry names it (the index's view, then the log's) */
	bool held;		 /* a hold annotation names it */
	bool stopped;		 /* history_run gave up: the daemon is stopping */
	const char *storage_now; /* a static word, or NULL */
	json_t *cases;		 /* the case ids binding it (strings) */
	uint64_t accesses_total; /* access refs that named it, as the index counted them */
	struct ev *events;	 /* gathered on the loop, completed on the pool */
	size_t nevents, capevents;
	bool truncated;
	struct srv_scrub_part *scrubs; /* copies of the trail's passes covering the clip */
	size_t nscrubs;
	int64_t as_of_us;
	char by[128];
	/* On the pool. */
	uint8_t integrity; /* enum rules_integrity */
	char integrity_error[320];
	struct srv_text text; /* the answer's members, `,"entry":…` */
	int err;
	struct err_detail e;
};

static void history_job_free(struct history_job *j)
{
	json_decref(j->cases);
	free(j->events);
	free(j->scrubs);
	srv__text_done(&j->text);
	free(j);
}

static int add_event(struct history_job *j, uint64_t index, uint8_t kind, const char *result)
{
	if (j->nevents == j->capevents) {
		size_t n = j->capevents ? j->capevents * 2 : 64;
		struct ev *v = realloc(j->events, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		j->events = v;
		j->capevents = n;
	}
	j->events[j->nevents++] = (struct ev){ index, kind, result };
	return 0;
}

/* ---- on the pool ------------------------------------------------------------------------- */

/* The purge entry that names the clip: TLOG_KEY_PURGED of its bytes, whose extra is the
 * purged entry (other entries with the same bytes may have been purged too).  UINT64_MAX when
 * none.  @return 0 or a tlog error. */
static int find_purge(struct history_job *j, uint64_t *ret, struct err_detail *reterr)
{
	struct tlog_hit *hits = NULL;
	size_t max = 8, n = 0;
	int r;

	*ret = UINT64_MAX;
	for (;;) {
		struct tlog_hit *grown = realloc(hits, max * sizeof(*hits));

		if (!grown) {
			free(hits);
			return err_set(reterr, -ENOMEM, "out of memory");
		}
		hits = grown;
		r = tlog_lookup(j->log, TLOG_KEY_PURGED, j->sha256, hits, max, &n, reterr);
		if (r < 0 || n < max)
			break;
		max *= 2;
	}
	for (size_t i = 0; r == 0 && i < n && *ret == UINT64_MAX; i++) {
		int64_t entry;

		vfy_key_extra_get(hits[i].extra, NULL, &entry, NULL);
		if (entry >= 0 && (uint64_t)entry == j->entry)
			*ret = hits[i].index;
	}
	free(hits);
	return r;
}

/* Re-hash the original against @clip, as a review does. */
static void check_original(struct history_job *j, const json_t *clip)
{
	j->integrity = (uint8_t)srv__check_original(j->store, clip, j->integrity_error,
						    sizeof(j->integrity_error));
}

static bool lists(const json_t *list, uint64_t entry)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (json_is_integer(v) && (uint64_t)json_integer_value(v) == entry)
			return true;
	return false;
}

static int cmp_pass(const void *a, const void *b)
{
	const struct srv_scrub_part *x = a, *y = b;

	/* The parts of one pass together (its started_at and parts), in part order; a pass is
	 * only ever begun once, so two passes differ in started_at. */
	if (x->started_us != y->started_us)
		return x->started_us < y->started_us ? -1 : 1;
	if (x->parts != y->parts)
		return x->parts < y->parts ? -1 : 1;
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The scrub events: every part that lists the clip missing or altered, and the first part of
 * the newest pass that found it intact (see the top of this file).  @purge: the purge entry's
 * index, or UINT64_MAX.  @return 0, -ENOMEM. */
static int scrub_events(struct history_job *j, uint64_t purge)
{
	const struct srv_scrub_part *best = NULL;
	uint8_t *listed = calloc(j->nscrubs ? j->nscrubs : 1, 1); /* 1 listed, 0 not */
	size_t i, k;
	int r = 0;

	if (!listed)
		return -ENOMEM;
	if (j->nscrubs) /* j->scrubs is NULL without scrub passes: not for qsort() */
		qsort(j->scrubs, j->nscrubs, sizeof(*j->scrubs), cmp_pass);
	for (i = 0; i < j->nscrubs && r == 0; i++) {
		const struct srv_scrub_part *p = &j->scrubs[i];
		const char *found = NULL;
		json_t *o;
		char *bytes;
		size_t len;

		if (p->lo > j->entry || p->hi < j->entry)
			continue;
		if (tlog_entry(j->log, p->index, &bytes, &len, NULL) < 0) {
			listed[i] = 1; /* unreadable: it cannot be said to have found it intact */
			continue;
		}
		o = srv__entry_json(bytes, len);
		free(bytes);
		if (lists(json_object_get(o, "missing"), j->entry))
			found = "missing";
		else if (lists(json_object_get(o, "altered"), j->entry))
			found = "altered";
		json_decref(o);
		if (found) {
			listed[i] = 1;
			r = add_event(j, p->index, EV_SCRUB, found);
		}
	}
	/* The passes, each a run of the sorted parts. */
	for (i = 0; i < j->nscrubs && r == 0; i = k) {
		const struct srv_scrub_part *first = &j->scrubs[i];
		uint64_t newest = first->index;
		bool ok = first->log_size > j->entry && !first->unlisted;

		for (k = i; k < j->nscrubs &&
			    (k == i || (first->parts > 1 && j->scrubs[k].parts == first->parts &&
					j->scrubs[k].started_us == first->started_us));
		     k++) {
			ok = ok && !listed[k] && !j->scrubs[k].unlisted &&
			     j->scrubs[k].part == k - i + 1;
			if (j->scrubs[k].index > newest)
				newest = j->scrubs[k].index;
		}
		ok = ok && k - i == first->parts && (purge == UINT64_MAX || purge > newest);
		if (ok && (!best || first->index > best->index))
			best = first;
	}
	if (best && r == 0)
		r = add_event(j, best->index, EV_SCRUB, "ok");
	free(listed);
	return r;
}

static int cmp_keep(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->index > y->index ? -1 : x->index < y->index; /* newest first */
}

static int cmp_index(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* Sort the events by index, one per entry, at most HISTORY_EVENTS_MAX of them: beyond that, the
 * kinds in their order of enum ev_kind, the newest of each. */
static void settle_events(struct history_job *j)
{
	size_t n = 0;

	qsort(j->events, j->nevents, sizeof(*j->events), cmp_index);
	for (size_t i = 0; i < j->nevents; i++)
		if (!n || j->events[n - 1].index != j->events[i].index)
			j->events[n++] = j->events[i];
	j->nevents = n;
	if (n <= HISTORY_EVENTS_MAX)
		return;
	qsort(j->events, n, sizeof(*j->events), cmp_keep);
	j->nevents = HISTORY_EVENTS_MAX;
	j->truncated = true;
	qsort(j->events, j->nevents, sizeof(*j->events), cmp_index);
}

/* Append @v (stolen; NULL: out of memory) as JSON text. */
static void add_json(struct srv_text *t, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	json_decref(v);
	if (!s) {
		t->failed = true;
		return;
	}
	srv__text_add(t, s, strlen(s));
	free(s);
}

/* The served checkpoint (docs/protocol.md): with witnesses, the newest with their quorum (none
 * yet: 0); else the newest signed.  Its note into *@ret_note (NULL when there is none) and its
 * size into *@ret_size (0). */
static int served_checkpoint(struct history_job *j, char **ret_note, uint64_t *ret_size,
			     struct err_detail *reterr)
{
	uint64_t served = wit_served(j->wit);
	int r;

	*ret_note = NULL;
	*ret_size = 0;
	if (served == 0)
		return 0;
	r = tlog_checkpoint_get(j->log, served, ret_note, NULL, ret_size, reterr);
	if (r == -ENOENT) {
		*ret_note = NULL;
		*ret_size = 0;
		return 0;
	}
	return r;
}

/* One event: `{"index":N,"kind":S,"at":TIME,"entry":ENTRY,"proof":TEXT|null}` (and `result`
 * for a scrub pass). */
static int event_text(struct history_job *j, const struct ev *ev, uint64_t cp_size,
		      struct err_detail *reterr)
{
	const json_t *at = NULL;
	char *bytes, *proof = NULL;
	size_t len, plen;
	json_t *o;
	int r;

	r = tlog_entry(j->log, ev->index, &bytes, &len, reterr);
	if (r < 0)
		return r;
	if (ev->index < cp_size) {
		r = tlog_proof_file(j->log, ev->index, cp_size, &proof, &plen, reterr);
		if (r < 0) {
			free(bytes);
			return r;
		}
	}
	o = srv__entry_json(bytes, len);
	/* The time of what the entry records: "at" for most, an original's "ingested_at", a
	 * duplicate's "received_at". */
	if (!json_is_string(at = json_object_get(o, "at")) &&
	    !json_is_string(at = json_object_get(o, "ingested_at")))
		at = json_object_get(o, "received_at");
	srv__text_addf(&j->text, "{\"index\":%" PRIu64 ",\"kind\":\"%s\",\"at\":", ev->index,
		       ev_names[ev->kind]);
	add_json(&j->text, json_is_string(at) ? json_incref((json_t *)at) : json_null());
	json_decref(o);
	if (ev->result)
		srv__text_addf(&j->text, ",\"result\":\"%s\"", ev->result);
	srv__text_add(&j->text, ",\"entry\":", 9);
	srv__text_add(&j->text, bytes, len);
	srv__text_add(&j->text, ",\"proof\":", 9);
	add_json(&j->text, proof ? json_stringn(proof, plen) : json_null());
	srv__text_add(&j->text, "}", 1);
	free(bytes);
	free(proof);
	return 0;
}

static void history_run(uv_work_t *req)
{
	struct history_job *j = req->data;
	uint64_t purge = UINT64_MAX, cp_size = 0;
	char *clip = NULL, *note = NULL, *head = NULL;
	const char *type;
	json_t *entry = NULL, *body = NULL;
	size_t len;
	int r;

	if (__atomic_load_n(j->stopping, __ATOMIC_RELAXED)) {
		j->stopped = true;
		return;
	}
	r = tlog_entry(j->log, j->entry, &clip, &len, &j->e);
	if (r < 0)
		goto fail;
	entry = srv__entry_json(clip, len);
	type = json_string_value(json_object_get(entry, "type"));
	if (!type || (strcmp(type, "ingest") && strcmp(type, "damaged"))) {
		r = err_set(&j->e, -EIO, "entry %" PRIu64 " is not an original's as the index said",
			    j->entry);
		goto fail;
	}
	r = find_purge(j, &purge, &j->e);
	if (r < 0)
		goto fail;
	if (purge != UINT64_MAX) {
		j->purged = true;
		if (add_event(j, purge, EV_PURGE, NULL) < 0)
			goto oom;
	}
	if (j->purged)
		j->integrity = RULES_PURGED;
	else
		check_original(j, entry);
	if (scrub_events(j, purge) < 0)
		goto oom;
	settle_events(j);
	r = served_checkpoint(j, &note, &cp_size, &j->e);
	if (r < 0)
		goto fail;

	body =
	    json_pack("{s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:O, s:b, s:b}", "entry",
		      (json_int_t)j->entry, "as_of", srv__jtime(j->as_of_us), "requested_by", j->by,
		      "checkpoint_size", cp_size ? json_integer((json_int_t)cp_size) : json_null(),
		      "checkpoint", note ? json_string(note) : json_null(), "storage_now",
		      j->storage_now ? json_string(j->storage_now) : json_null(), "integrity",
		      json_string(rules_integrity_name(j->integrity)), "cases", j->cases, "held",
		      j->held, "purged", j->purged);
	if (!body)
		goto oom;
	if (j->integrity_error[0] &&
	    json_object_set_new(body, "integrity_error", json_string(j->integrity_error)) < 0)
		goto oom;
	head = json_dumps(body, JSON_COMPACT);
	if (!head || (len = strlen(head)) < 2)
		goto oom;
	/* The members without the braces, after the reply's "ok" and "id"; then the entries,
	 * spliced in as logged. */
	srv__text_add(&j->text, ",", 1);
	srv__text_add(&j->text, head + 1, len - 2);
	srv__text_add(&j->text, ",\"clip\":", 8);
	srv__text_add(&j->text, clip, strlen(clip));
	srv__text_add(&j->text, ",\"events\":[", 11);
	for (size_t i = 0; i < j->nevents; i++) {
		if (i)
			srv__text_add(&j->text, ",", 1);
		r = event_text(j, &j->events[i], cp_size, &j->e);
		if (r < 0)
			goto fail;
	}
	srv__text_addf(&j->text, "],\"accesses_total\":%" PRIu64 ",\"events_truncated\":%s",
		       j->accesses_total, j->truncated ? "true" : "false");
	if (j->text.failed)
		goto oom;
	goto out;
oom:
	r = err_set(&j->e, -ENOMEM, "out of memory for the history");
fail:
	j->err = r;
out:
	free(head);
	json_decref(body);
	json_decref(entry);
	free(clip);
	free(note);
}

/* ---- on the loop ------------------------------------------------------------------------- */

static void history_finish(struct history_job *j)
{
	struct srv_client *c = j->c;

	histories_running--;
	history_job_free(j);
	srv__client_unref(c); /* last: may free the client, and with it a closing server */
}

static void history_done(uv_work_t *req, int status)
{
	struct history_job *j = req->data;
	struct srv_client *c = j->c;
	json_t *extra = json_pack("{s:[I]}", "entries", (json_int_t)j->entry);
	struct err_detail e;

	/* Recorded whatever the outcome, once the clip's entries were read: a client that left
	 * does not undo that (as a review's "abandoned"). */
	if (extra && c->closing)
		json_object_set_new(extra, "result", json_string("abandoned"));
	srv__access(c, "history", json_integer((json_int_t)j->entry), extra, true);
	if (c->closing) {
		history_finish(j);
		return;
	}
	if (status < 0 || j->stopped) {
		err_set(&e, -ESHUTDOWN,
			"the daemon is stopping; ask for the history once it is back");
		srv__reply_error(c, e.code, &e);
	} else if (j->err < 0) {
		srv__reply_error(c, j->err, &j->e);
	} else {
		srv__reply_tail(c, json_object(), &j->text);
	}
	srv__release(c);
	history_finish(j);
}

static int add_case(json_t *cases, const char *id)
{
	const json_t *v;
	size_t i;

	if (!id)
		return 0;
	json_array_foreach(cases, i, v)
		if (!strcmp(json_string_value(v), id))
			return 0;
	return json_array_append_new(cases, json_string(id)) < 0 ? -ENOMEM : 0;
}

/* What the index knows of the clip @c, into @j: its annotations, cases, hold, storage status
 * now, accesses, duplicates and the scrub passes that may speak of it.  @return 0, -ENOMEM. */
static int gather(const struct server *s, const struct srv_clip *c, struct history_job *j)
{
	const struct srv_index *x = &s->idx;
	const struct srv_trail *t = &x->trail;
	const struct rules_note **naming = NULL;
	struct rules_note *notes = NULL;
	struct rules_book *book = NULL;
	struct rules_status st;
	struct rules_clip rc = {
		.index = c->index,
		.device = srv__index_str(x, c->device),
		.officer = srv__index_str(x, c->officer),
		.zone = srv__index_str(x, c->zone),
		.start_us = c->start_us,
		.end_us = c->end_us,
		.duration_us = c->duration_us,
		.ingested_us = c->ingested_us,
		.deadline_us = c->deadline_us,
		.size = c->size,
		.storage = c->storage,
		.damaged = c->damaged,
		.future = c->future,
	};
	uint64_t *dups = NULL;
	size_t n, i;
	int r = -ENOMEM;

	if (srv__make_book(s, &notes, &book) < 0)
		goto out;
	r = add_event(j, c->index, EV_ARRIVAL, NULL);
	/* The annotations naming it: late_storage, damage_report, case, approval, hold… */
	n = rules_notes_naming(book, c->index, NULL, 0);
	if (r == 0 && n && !(naming = malloc(n * sizeof(*naming))))
		r = -ENOMEM;
	if (r == 0)
		n = rules_notes_naming(book, c->index, naming, n);
	for (i = 0; r == 0 && i < n; i++) {
		r = add_event(j, naming[i]->index, EV_ANNOTATION, NULL);
		if (r == 0 && naming[i]->kind == RULES_CASE)
			r = add_case(j->cases, naming[i]->case_id);
		if (naming[i]->kind == RULES_HOLD)
			j->held = true;
	}
	/* …the cases that bind it by device and time without listing it (stored after the
	 * binding: a review takes it too)… */
	for (i = 0; r == 0 && i < x->nnotes; i++) {
		const struct srv_note *note = &x->notes[i];

		if (note->kind != SRV_NOTE_CASE || !note->device || note->from_us == INT64_MIN ||
		    note->to_us == INT64_MIN ||
		    !srv__case_span_binds(c, srv__index_str_find(x, note->device), note->from_us,
					  note->to_us))
			continue;
		r = add_event(j, note->index, EV_ANNOTATION, NULL);
		if (r == 0)
			r = add_case(j->cases, note->case_id);
	}
	/* …and the remote-duty declaration that made it on time. */
	rules_clip_status(book, &rc, &st);
	j->storage_now = rules_storage_name(st.storage_now);
	if (r == 0 && st.remote_duty)
		r = add_event(j, st.remote_duty->index, EV_ANNOTATION, NULL);
	/* The accesses the index keeps (struct srv_clip): every copy-out that handed the original
	 * over, the newest reads and refusals. */
	for (unsigned kind = 0; r == 0 && kind < SRV_REFS_KINDS; kind++)
		for (uint32_t k = c->refs[kind].first; r == 0 && k; k = x->access_refs[k - 1].newer)
			r = add_event(j, x->access_refs[k - 1].access,
				      kind == SRV_REF_COPIED	? EV_COPIED
				      : kind == SRV_REF_REFUSED ? EV_REFUSED
								: EV_READ,
				      NULL);
	j->accesses_total = c->accesses;
	/* Its bytes arriving again. */
	n = r == 0 ? srv__trail_dups(t, c->index, NULL, 0) : 0;
	if (n && !(dups = malloc(n * sizeof(*dups))))
		r = -ENOMEM;
	if (r == 0 && n)
		n = srv__trail_dups(t, c->index, dups, n);
	for (i = 0; r == 0 && i < n; i++)
		r = add_event(j, dups[i], EV_DUPLICATE, NULL);
	/* The scrub passes that covered it: the pool reads those whose lists may hold it. */
	if (r == 0 && t->nfailed + t->nclean &&
	    !(j->scrubs = malloc((t->nfailed + t->nclean) * sizeof(*j->scrubs))))
		r = -ENOMEM;
	for (i = 0; r == 0 && i < t->nfailed + t->nclean; i++) {
		const struct srv_scrub_part *p =
		    i < t->nfailed ? &t->failed[i] : &t->clean[i - t->nfailed];

		if (p->log_size > c->index) /* the parts of a pass share it */
			j->scrubs[j->nscrubs++] = *p;
	}
out:
	free(dups);
	free(naming);
	rules_book_free(book);
	free(notes);
	return r;
}

int srv__op_history(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	const struct srv_index *x = &s->idx;
	const struct srv_clip *clip;
	struct history_job *j;
	uint64_t index, size;
	int r;

	r = srv__req_index(req, "entry", true, &index, reterr);
	if (r < 0)
		return r;
	r = tlog_size(s->d->log, &size, reterr);
	if (r < 0)
		return r;
	if (index >= size) {
		srv__access(c, "history", json_integer((json_int_t)index), NULL, true);
		return err_set(reterr, -ENOENT,
			       "there is no entry %" PRIu64 ": the log holds %" PRIu64
			       " entries (0 to %" PRIu64 ")",
			       index, size, size ? size - 1 : 0);
	}
	srv__index_catch_up(s);
	if (!x->caught_up || index >= x->scanned)
		return err_set(reterr, -EAGAIN,
			       "the daemon is still reading the log (%" PRIu64 " of %" PRIu64
			       " entries); ask again in a moment",
			       x->scanned, size);
	clip = srv__index_clip(x, index);
	if (!clip) {
		srv__access(c, "history", json_integer((json_int_t)index), NULL, true);
		return err_set(reterr, -EINVAL,
			       "entry %" PRIu64 " is not an original's (ingest or damaged): a "
			       "history is a clip's; custodyctl entry %" PRIu64 " shows it",
			       index, index);
	}
	if (histories_running >= HISTORIES_MAX)
		return err_set(reterr, -EUSERS,
			       "%d histories are re-hashing their originals; try again when one "
			       "is done",
			       HISTORIES_MAX);
	j = calloc(1, sizeof(*j));
	if (!j || !(j->cases = json_array())) {
		free(j);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	j->entry = index;
	memcpy(j->sha256, clip->sha256, sizeof(j->sha256));
	j->purged = clip->purged;
	if (gather(s, clip, j) < 0) {
		history_job_free(j);
		return err_set(reterr, -ENOMEM, "out of memory for the history");
	}
	snprintf(j->by, sizeof(j->by), "%s", c->by);
	j->as_of_us = (int64_t)daemon_now_us();
	j->c = c;
	j->log = s->d->log;
	j->store = s->d->store;
	j->wit = s->d->wit;
	j->stopping = &s->d->stopping;
	j->work.data = j;
	r = uv_queue_work(s->d->loop, &j->work, history_run, history_done);
	if (r < 0) {
		history_job_free(j);
		return err_set(reterr, -EIO, "cannot start the history: %s", uv_strerror(r));
	}
	histories_running++;
	srv__client_ref(c);
	srv__hold(c);
	return 0;
}

/* daemon/server/rules.c: `review`, `report` and `cases` (docs/rules.md; the answers:
 * docs/review-format.md).  Loop thread, except the *_run halves, which run on libuv's pool.
 *
 * DESIGN
 *
 * The rules themselves are rules/rules.c, pure; this file gathers their input from the
 * server's index (daemon/server/index.c: the clip table, the annotations, the access refs), reads
 * what only the log holds, and keeps the loop free:
 *
 *   review {case}      R (reviewer, operator, auditor, approver), recorded as an access entry
 *     1. on the loop: the case's annotations give its entries (at most REVIEW_MAX_CLIPS): the
 *        entries they list, and for an annotation that bound the case by device and time,
 *        every clip of that device in that time now (srv__case_span_binds(), the rule annotate
 *        applied when it listed them), so that clips of that time stored after the binding
 *        are reviewed too, as retention keeps them;
 *     2. on the pool (review_run): each entry is read from the log and its original re-hashed
 *        from the store (the store and tlog reads may be used from any thread): "ok",
 *        "altered" (another SHA-256 or size), "missing" (not in the store, or unreadable:
 *        integrity_error says why), "purged" (a purge entry names it: not opened);
 *     3. on the loop (review_done): the access entry recorded (also when the connection was
 *        closed meanwhile, e.g. by a SIGTERM: "result":"abandoned"; reading is paused while
 *        the client is held, so a peer that just left is noticed only when the answer is
 *        written), then what only the index has: the annotations as they are now (a book),
 *        purges since step 1, the accesses of each clip;
 *     4. on the pool (review_answer_run): the rules over the clips, the access log (each
 *        access entry listed is read from the log there: its result, and a copy-out's
 *        destination and purpose, which the index does not keep), the served checkpoint, the
 *        annotations concerned spliced in as logged (the case's own, never another case's:
 *        a shared clip names the other cases on its row), the answer serialised (10,000
 *        clips: 20 MB of JSON and about a second, which the loop must not spend); on the
 *        loop, it is sent.
 *     An unknown case is not_found with the case ids near it (case_suggestions(): a pass over
 *     the annotations, which people write, so few).
 *     The client is held (srv__hold) meanwhile; at most REVIEWS_MAX reviews run at once, so
 *     the pool keeps room for ingest (it has workers + 4 threads); more get "busy".  A review
 *     reads every byte of the case's originals: about 1 s per GB here.  custodyctl waits for
 *     it as long as it takes.  Its answer may be larger than SRV_MAX_PENDING_OUT: one such
 *     reply at a time per client is sent whatever its size (server.c client_write).
 *
 *   report {from, to} | {year} | {open:true}   R, not recorded (figures, no evidence)
 *     The clip table is fed to a rules_report in slices of SRV_SLICE_NS from an idle handle of
 *     the request's own (a year of a large office is millions of clips), then the index's
 *     tallies per day, device and officer (taken when asked) for the device and officer rows;
 *     the totals of accesses come from the index's per-day counters.  Both by whole UTC days:
 *     a day counts when its start lies in the period.  The gaps (a sort of every clip's span)
 *     and the JSON are made on the pool.  At most REPORTS_MAX at once.
 *
 *   cases              R, not recorded (case ids and counts, no evidence)
 *     The case annotations grouped by case id on the loop; the clips they bind (the entries
 *     they list, then the clip table for those bound by device and time, as a review takes
 *     them) gathered from the index in slices of SRV_SLICE_NS, each clip copied once; on the
 *     pool, per case, rules_open_count() (integrity unchecked: nothing is re-hashed) and the
 *     JSON.  At most CASES_MAX at once.
 *
 * All need the index to have read the whole log once (-EAGAIN "unavailable" before).  The
 * annotations are compiled into a rules_book whose strings point into the index's notes, which
 * are never freed while the server lives (and a held client keeps the server alive).
 *
 * One file because review, report and cases are the operations over rules/rules.c: they share
 * the book built from the index (srv__make_book(), need_index()) and the same pool-job pattern. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "conf/conf.h"
#include "daemon/daemon.h"
#include "ingest/tz.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "verify/hash.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/macro.h"
#include "rules/rules.h"
#include "daemon/server/internal.h"
#include "daemon/witness.h"
#include "ingest/store.h"
#include "verify/tlog.h"

#define LOG_GRP "rules"

#define REVIEW_MAX_CLIPS 10000	  /* clips of one case a review covers */
#define REVIEWS_MAX 2		  /* reviews re-hashing at once */
#define REVIEW_ACCESSES_MAX 10000 /* accesses listed in one review (the total is given) */
#define REVIEW_NOTES_MAX 10000	  /* annotations spliced into one review */
#define REPORTS_MAX 4		  /* reports being counted at once */
#define REPORT_OPEN_MAX 10000	  /* open items listed in one report (the totals count all) */

_Static_assert((int)SRV_NOTE_INTERRUPTION == (int)RULES_INTERRUPTION &&
		   (int)SRV_NOTE_HOLD == (int)RULES_HOLD && (int)SRV_NOTE_CASE == (int)RULES_CASE &&
		   (int)SRV_NOTE_DEVICE == (int)RULES_DEVICE,
	       "srv_note kinds and rules_note kinds must agree");

static unsigned reviews_running, reports_running;

/* ---- the annotations, for the rules ------------------------------------------------------ */

static void rules_params(const struct server *s, struct rules_params *ret)
{
	const struct cfg *cfg = s->d->cfg;

	*ret = (struct rules_params){
		.storage_deadline_us = (int64_t)cfg->storage_deadline_ms * 1000,
		.split_tolerance_us = (int64_t)cfg->split_tolerance_ms * 1000,
	};
}

int srv__make_book(const struct server *s, struct rules_note **ret_notes,
		   struct rules_book **ret_book)
{
	const struct srv_index *x = &s->idx;
	struct rules_note *notes = malloc((x->nnotes ? x->nnotes : 1) * sizeof(*notes));
	struct rules_params p;
	int r;

	if (!notes)
		return -ENOMEM;
	for (size_t i = 0; i < x->nnotes; i++) {
		const struct srv_note *n = &x->notes[i];

		notes[i] = (struct rules_note){
			.index = n->index,
			.kind = n->kind,
			.entries = n->entries,
			.nentries = n->nentries,
			.device = n->device,
			.officer = n->officer,
			.case_id = n->case_id,
			.reason = n->reason,
			.by = n->by,
			.from_us = n->from_us,
			.to_us = n->to_us,
			.returned_us = n->returned_us,
			.at_us = n->at_us,
		};
	}
	rules_params(s, &p);
	r = rules_book_new(&p, notes, x->nnotes, ret_book);
	if (r < 0) {
		free(notes);
		return r;
	}
	*ret_notes = notes;
	return 0;
}

static int need_index(struct server *s, struct err_detail *reterr)
{
	uint64_t size = 0;

	srv__index_catch_up(s);
	if (s->idx.caught_up)
		return 0;
	tlog_size(s->d->log, &size, NULL);
	return err_set(reterr, -EAGAIN,
		       "the daemon is still reading the log (%" PRIu64 " of %" PRIu64
		       " entries); ask again in a moment",
		       s->idx.scanned, size);
}

/* ---- review ------------------------------------------------------------------------------ */

struct review_item {
	uint64_t index;
	bool purged;	   /* known on the loop before the work starts */
	json_t *entry;	   /* read on the pool; NULL when it could not be */
	uint8_t integrity; /* enum rules_integrity */
	char error[320];   /* why it is missing or unchecked */
};

/* An access to a reviewed clip, copied from the index on the loop for the pool: the strings
 * are the index's interned ones, never moved or freed while the server lives. */
struct review_access {
	uint64_t access, entry;
	int64_t at_us;
	const char *by, *op;
	bool allowed;
};

struct review_job {
	uv_work_t work;	  /* the re-hash (review_run) */
	uv_work_t answer; /* then the answer (review_answer_run) */
	struct srv_client *c;
	char by[128];		/* the client's name in entries: "requested_by" */
	struct tlog *log;	/* any thread (short read txns) */
	struct witnessing *wit; /* what is served: wit_served() takes any thread */
	struct store *store;	/* immutable, any thread */
	const bool *stopping;	/* the daemon's SIGTERM flag, read between originals */
	bool stopped;		/* review_run gave up on it */
	char *case_id;
	json_t *bound_by; /* the case annotations' indexes */
	struct review_item *items;
	size_t n;
	/* Gathered on the loop after the re-hash, for the answer made on the pool. */
	struct rules_note *notes;
	struct rules_book *book;
	struct review_access *accesses; /* the newest REVIEW_ACCESSES_MAX, oldest first */
	size_t naccesses, accesses_total;
	int64_t as_of_us;
	/* The answer (review_answer_run): its members `,"case":…` or an error. */
	struct srv_text text;
	char *verdict; /* when incomplete: for the journal */
	int err;
	struct err_detail e;
};

static void review_job_free(struct review_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		json_decref(j->items[i].entry);
	free(j->items);
	free(j->case_id);
	json_decref(j->bound_by);
	rules_book_free(j->book);
	free(j->notes);
	free(j->accesses);
	srv__text_done(&j->text);
	free(j->verdict);
	free(j);
}

unsigned srv__check_original(struct store *store, const json_t *entry, char *err, size_t errlen)
{
	const char *rel = json_string_value(json_object_get(entry, "stored"));
	const char *sha = json_string_value(json_object_get(entry, "sha256"));
	const json_t *size = json_object_get(entry, "size");
	uint8_t digest[VFY_HASH_LEN];
	char hex[2 * VFY_HASH_LEN + 1];
	struct err_detail e;
	uint64_t got;
	int fd, r;

	if (!rel || !sha) {
		snprintf(err, errlen, "the entry names no stored original");
		return RULES_MISSING;
	}
	r = store_open_original(store, rel, &fd, &e);
	if (r < 0) {
		snprintf(err, errlen, "%s", r == -ENOENT ? "not in the store" : e.msg);
		return RULES_MISSING;
	}
	r = vfy_sha256_fd(fd, digest, &got, &e);
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "%s", e.msg);
		return RULES_MISSING;
	}
	hex_encode(digest, sizeof(digest), hex);
	if (strcmp(hex, sha) ||
	    (json_is_integer(size) && (uint64_t)json_integer_value(size) != got))
		return RULES_ALTERED;
	return RULES_INTACT;
}

/* Re-hash one original against its entry, unless it was purged. */
static void check_original(struct review_job *j, struct review_item *it)
{
	it->integrity = it->purged ? RULES_PURGED
				   : (uint8_t)srv__check_original(j->store, it->entry, it->error,
								  sizeof(it->error));
}

static void review_run(uv_work_t *req)
{
	struct review_job *j = req->data;

	for (size_t i = 0; i < j->n; i++) {
		struct review_item *it = &j->items[i];
		struct err_detail e;
		const char *type;
		char *bytes;
		size_t len;

		/* A large case takes minutes to re-hash: do not hold up a SIGTERM for it.  The
		 * flag is a bool the loop thread sets once; a stale read costs one more file. */
		if (__atomic_load_n(j->stopping, __ATOMIC_RELAXED)) {
			j->stopped = true;
			return;
		}
		if (tlog_entry(j->log, it->index, &bytes, &len, &e) < 0) {
			snprintf(it->error, sizeof(it->error),
				 "cannot read entry %" PRIu64 ": %.256s", it->index, e.msg);
			continue;
		}
		it->entry = srv__entry_json(bytes, len);
		free(bytes);
		type = json_string_value(json_object_get(it->entry, "type"));
		if (!type || (strcmp(type, "ingest") && strcmp(type, "damaged"))) {
			it->entry = (json_decref(it->entry), NULL);
			snprintf(it->error, sizeof(it->error),
				 "entry %" PRIu64 " is not an original", it->index);
			continue;
		}
		check_original(j, it);
	}
}

static int64_t entry_time(const json_t *entry, const char *key)
{
	const char *s = json_string_value(json_object_get(entry, key));
	int64_t us;

	return s && srv__parse_time(s, &us) == 0 ? us : INT64_MIN;
}

/* The rules' view of a reviewed clip: the strings point into @it->entry. */
static void review_clip(const struct review_item *it, struct rules_clip *ret)
{
	const json_t *e = it->entry;
	const json_t *dur = json_object_get(e, "duration_us");
	const json_t *size = json_object_get(e, "size");

	*ret = (struct rules_clip){
		.index = it->index,
		.device = json_string_value(json_object_get(e, "device")),
		.officer = json_string_value(json_object_get(e, "officer")),
		.zone = json_string_value(json_object_get(e, "zone")),
		.name = json_string_value(json_object_get(e, "name")),
		.time_source = json_string_value(json_object_get(e, "time_source")),
		.sha256 = json_string_value(json_object_get(e, "sha256")),
		.error = json_string_value(json_object_get(e, "error")),
		.integrity_error = it->error[0] ? it->error : NULL,
		.start_us = entry_time(e, "recorded_start"),
		.end_us = entry_time(e, "recorded_end"),
		.duration_us = json_is_integer(dur) ? (int64_t)json_integer_value(dur) : INT64_MIN,
		.ingested_us = entry_time(e, "ingested_at"),
		.deadline_us = entry_time(e, "deadline"),
		.size = json_is_integer(size) ? (uint64_t)json_integer_value(size) : 0,
		.storage =
		    (uint8_t)rules_storage_parse(json_string_value(json_object_get(e, "storage"))),
		.integrity = it->integrity,
		.damaged = !strcmp(json_string_value(json_object_get(e, "type")), "damaged"),
		.future = json_is_true(json_object_get(e, "time_in_future")),
	};
}

static int cmp_u64p(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct srv_access_ref *x = *(const struct srv_access_ref *const *)a;
	const struct srv_access_ref *y = *(const struct srv_access_ref *const *)b;

	return x->access < y->access   ? -1
	       : x->access > y->access ? 1
	       : x->clip < y->clip     ? -1
				       : x->clip > y->clip;
}

static int cmp_ref_newest_first(const void *a, const void *b)
{
	return cmp_ref(b, a);
}

/* The newest @budget refs of @kind among the reviewed clips' into @refs (room for 4 × budget
 * at @refs + *@n), appended at *@n.  The buffer is cut back to the newest @budget whenever
 * it fills, so that memory stays bounded however often the clips were read. */
static void newest_refs(const struct srv_index *x, const struct review_job *j, unsigned kind,
			size_t budget, const struct srv_access_ref **refs, size_t *n)
{
	const struct srv_access_ref **mine = refs + *n;
	uint32_t threshold = 0; /* refs older than this cannot be among the newest */
	size_t m = 0;

	if (!budget)
		return;
	for (size_t i = 0; i < j->n; i++) {
		const struct srv_clip *c = srv__index_clip(x, j->items[i].index);

		for (uint32_t k = c ? c->refs[kind].first : 0; k; k = x->access_refs[k - 1].newer) {
			if (x->access_refs[k - 1].access < threshold)
				continue;
			mine[m++] = &x->access_refs[k - 1];
			if (m == 4 * budget) {
				qsort(mine, m, sizeof(*mine), cmp_ref_newest_first);
				m = budget;
				threshold = mine[m - 1]->access;
			}
		}
	}
	if (m > budget) {
		qsort(mine, m, sizeof(*mine), cmp_ref_newest_first);
		m = budget;
	}
	*n += m;
}

/* "who accessed the clips", on the loop: of the access refs the index keeps of the reviewed
 * clips (each clip's newest reads and refusals, and its copy-outs), at most
 * REVIEW_ACCESSES_MAX, oldest first, into j->accesses, and how many accesses named the clips
 * in all.  Each kind comes from its own budget, so that none crowds out another across the
 * case either: every copy-out first, then the newest reads, then the newest refusals (which
 * anyone with the socket can make).  @return 0, -ENOMEM. */
static int review_accesses(const struct srv_index *x, struct review_job *j)
{
	static const unsigned order[] = { SRV_REF_COPIED, SRV_REF_READ, SRV_REF_REFUSED };
	const struct srv_access_ref **refs = malloc(4 * REVIEW_ACCESSES_MAX * sizeof(*refs));
	size_t n = 0, total = 0;

	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < j->n; i++) {
		const struct srv_clip *c = srv__index_clip(x, j->items[i].index);

		total += c ? c->accesses : 0;
	}
	/* Each pass uses at most 4 × its budget past what the passes before kept, and the
	 * budgets add up to REVIEW_ACCESSES_MAX: the buffer holds it. */
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		newest_refs(x, j, order[k], REVIEW_ACCESSES_MAX - n, refs, &n);
	qsort(refs, n, sizeof(*refs), cmp_ref);
	j->accesses = malloc((n ? n : 1) * sizeof(*j->accesses));
	if (!j->accesses) {
		free(refs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		j->accesses[j->naccesses++] = (struct review_access){
			.access = refs[i]->access,
			.entry = x->clips[refs[i]->clip].index,
			.at_us = (int64_t)refs[i]->at_s * 1000000,
			.by = srv__index_str(x, refs[i]->by),
			.op = srv__index_str(x, refs[i]->op),
			.allowed = refs[i]->allowed,
		};
	free(refs);
	j->accesses_total = total;
	return 0;
}

static json_t *review_accesses_json(const struct review_job *j)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < j->naccesses; i++) {
		const struct review_access *a = &j->accesses[i];
		json_t *o =
		    json_pack("{s:I, s:s?, s:s?, s:o, s:b, s:I}", "index", (json_int_t)a->access,
			      "by", a->by, "op", a->op, "at", srv__jtime(a->at_us), "allowed",
			      a->allowed, "entry", (json_int_t)a->entry);

		if (!o || json_array_append_new(list, o) < 0)
			list = (json_decref(list), NULL);
	}
	return list;
}

/* A copy-out under an approval that gave no purpose of its own shows the approval's, read from
 * its entry: a few approvals per case, so the last PURPOSES read are kept. */
#define PURPOSES 64

struct purpose_cache {
	uint64_t approval;
	json_t *purpose; /* a string, or NULL when the approval has none (or cannot be read) */
	bool used;
};

/* Borrowed from @cache, valid until the next call. */
static const json_t *approval_purpose(struct tlog *log, struct purpose_cache *cache, size_t *next,
				      uint64_t approval)
{
	struct purpose_cache *slot;
	json_t *entry = NULL;
	char *bytes;
	size_t len;

	for (size_t i = 0; i < PURPOSES; i++)
		if (cache[i].used && cache[i].approval == approval)
			return cache[i].purpose;
	slot = &cache[(*next)++ % PURPOSES];
	json_decref(slot->purpose);
	*slot = (struct purpose_cache){ .approval = approval, .used = true };
	if (tlog_entry(log, approval, &bytes, &len, NULL) == 0) {
		entry = srv__entry_json(bytes, len);
		free(bytes);
	}
	if (json_is_string(json_object_get(entry, "purpose")))
		slot->purpose = json_incref(json_object_get(entry, "purpose"));
	json_decref(entry);
	return slot->purpose;
}

/* One string member of an access entry, or null. */
static json_t *entry_str(const json_t *entry, const char *key)
{
	json_t *v = json_object_get(entry, key);

	return json_is_string(v) ? json_incref(v) : json_null();
}

/* A new access_log item for the access entry @entry (NULL when it could not be read) of @a. */
static json_t *access_item(const struct review_access *a, const json_t *entry,
			   const json_t *purpose, json_t *entries)
{
	json_t *approval = json_object_get(entry, "approval");
	json_t *o = json_object();
	bool failed = !o || !entries;

	failed |= json_object_set_new(o, "index", json_integer((json_int_t)a->access)) < 0;
	failed |= json_object_set_new(o, "by", json_string(a->by ? a->by : "?")) < 0;
	failed |= json_object_set_new(o, "op", json_string(a->op ? a->op : "?")) < 0;
	failed |= json_object_set_new(o, "at", srv__jtime(a->at_us)) < 0;
	failed |= json_object_set_new(o, "allowed", json_boolean(a->allowed)) < 0;
	failed |= json_object_set_new(o, "result", entry_str(entry, "result")) < 0;
	failed |= json_object_set_new(o, "entries", entries) < 0;
	failed |= json_object_set_new(o, "authority", entry_str(entry, "authority")) < 0;
	failed |=
	    json_object_set_new(
		o, "approval", json_is_integer(approval) ? json_incref(approval) : json_null()) < 0;
	failed |= json_object_set_new(o, "purpose",
				      purpose ? json_incref((json_t *)purpose) : json_null()) < 0;
	failed |= json_object_set_new(o, "destination", entry_str(entry, "destination")) < 0;
	if (failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* "access_log" (docs/review-format.md): j->accesses (sorted by access, then clip) by access
 * entry, each with the case's clips it named and, read from its entry in the log here on the
 * pool, its result and, for a copy-out, its authority, approval, purpose and destination.  The
 * parts of one access recorded as several entries (docs/log.md: consecutive, "part" 1, 2, …,
 * the same "at") are one action.  *@ret_n: how many actions.  NULL when out of memory. */
static json_t *review_access_log(const struct review_job *j, size_t *ret_n)
{
	struct purpose_cache cache[PURPOSES] = { 0 };
	json_t *list = json_array(), *entries = NULL;
	size_t next = 0, i = 0;
	uint64_t last = UINT64_MAX;
	json_int_t last_part = 0;
	char last_at[64] = "";
	bool failed = !list;

	*ret_n = 0;
	while (!failed && i < j->naccesses) {
		const struct review_access *a = &j->accesses[i];
		const json_t *part, *purpose, *approval;
		const char *at;
		json_t *entry = NULL, *item;
		char *bytes;
		size_t len;

		if (tlog_entry(j->log, a->access, &bytes, &len, NULL) == 0) {
			entry = srv__entry_json(bytes, len);
			free(bytes);
		}
		part = json_object_get(entry, "part");
		at = json_string_value(json_object_get(entry, "at"));
		if (!(entries && a->access == last + 1 && json_is_integer(part) &&
		      json_integer_value(part) == last_part + 1 && at && !strcmp(at, last_at))) {
			/* Not the next part of the same action: a new one. */
			purpose = json_object_get(entry, "purpose");
			approval = json_object_get(entry, "approval");
			if (!json_is_string(purpose))
				purpose =
				    json_is_integer(approval)
					? approval_purpose(j->log, cache, &next,
							   (uint64_t)json_integer_value(approval))
					: NULL;
			entries = json_array();
			item = access_item(a, entry, purpose, entries);
			if (!item || json_array_append_new(list, item) < 0)
				failed = true;
			(*ret_n)++;
		}
		last = a->access;
		last_part = json_is_integer(part) ? json_integer_value(part) : 0;
		snprintf(last_at, sizeof(last_at), "%s", at ? at : "");
		json_decref(entry);
		/* Every clip of the case this access entry named. */
		for (; !failed && i < j->naccesses && j->accesses[i].access == a->access; i++)
			failed = json_array_append_new(
				     entries, json_integer((json_int_t)j->accesses[i].entry)) < 0;
	}
	for (size_t k = 0; k < PURPOSES; k++)
		json_decref(cache[k].purpose);
	if (failed) {
		json_decref(list);
		return NULL;
	}
	return list;
}

/* The annotations concerning the review: the case's, those naming a clip (but another case's),
 * and those the rules applied (remote duty, interruptions explaining gaps), by index, spliced
 * in as logged. */
static void review_annotations(struct tlog *log, const struct rules_book *book,
			       const struct review_job *j, const json_t *review,
			       struct srv_text *tail)
{
	uint64_t *ids = malloc(REVIEW_NOTES_MAX * sizeof(*ids));
	size_t n = 0, i, k;
	const json_t *dev, *v, *clip, *gap;

	srv__text_add(tail, ",\"annotations\":[", 16);
	if (!ids) {
		tail->failed = true;
		return;
	}
	json_array_foreach(j->bound_by, i, v)
		if (n < REVIEW_NOTES_MAX)
			ids[n++] = (uint64_t)json_integer_value(v);
	for (i = 0; i < j->n; i++) {
		const struct rules_note *naming[64];
		size_t m = rules_notes_naming(book, j->items[i].index, naming, 64);

		/* Another case binding the clip is a cross-reference on its row
		 * ("other_cases"), not part of this case's record. */
		for (k = 0; k < m && k < 64 && n < REVIEW_NOTES_MAX; k++)
			if (naming[k]->kind != RULES_CASE ||
			    (naming[k]->case_id && !strcmp(naming[k]->case_id, j->case_id)))
				ids[n++] = naming[k]->index;
	}
	json_array_foreach(json_object_get(review, "devices"), i, dev) {
		json_array_foreach(json_object_get(dev, "clips"), k, clip) {
			size_t e;

			json_array_foreach(json_object_get(clip, "explained_by"), e, v)
				if (n < REVIEW_NOTES_MAX)
					ids[n++] = (uint64_t)json_integer_value(v);
		}
		json_array_foreach(json_object_get(dev, "gaps"), k, gap) {
			v = json_object_get(gap, "explained_by");
			if (json_is_integer(v) && n < REVIEW_NOTES_MAX)
				ids[n++] = (uint64_t)json_integer_value(v);
		}
	}
	qsort(ids, n, sizeof(*ids), cmp_u64p);
	for (i = 0, k = 0; i < n; i++) {
		char *bytes;
		size_t len;

		if (i && ids[i] == ids[i - 1])
			continue;
		if (tlog_entry(log, ids[i], &bytes, &len, NULL) < 0)
			continue;
		if (k++)
			srv__text_add(tail, ",", 1);
		srv__text_add(tail, bytes, len);
		free(bytes);
	}
	srv__text_add(tail, "]", 1);
	free(ids);
}

/* The answer, on the pool: the rules over the clips, the accesses, the annotations spliced in
 * as logged, and the whole serialised into j->text.  For a case of 10,000 clips this is about
 * a second (0.9 to 1.9 s measured here, on 2 loaded CPUs) and 20 MB of JSON
 * (tests/unit/daemon/test_server.c test_review_large): the loop only gathers what comes from
 * the index (review_done, a few ms) and sends the text (review_answer_done: one copy of it
 * into the reply line, about 10 ms).  Everything here is the job's
 * own, the log (any thread), and the book, whose strings point into the index's notes (never
 * freed while the server lives) and which nothing else uses meanwhile. */
static void review_answer_run(uv_work_t *req)
{
	struct review_job *j = req->data;
	struct rules_clip *clips = malloc((j->n ? j->n : 1) * sizeof(*clips));
	json_t *body = NULL, *accesses, *access_log;
	uint64_t cp_size = 0, served = wit_served(j->wit);
	size_t len, nactions = 0;
	char *text = NULL, *note = NULL;

	if (!clips)
		goto oom;
	for (size_t i = 0; i < j->n; i++)
		review_clip(&j->items[i], &clips[i]);
	if (rules_review(j->book, j->case_id, clips, j->n, &body) < 0)
		goto oom;
	accesses = review_accesses_json(j);
	if (!accesses || json_object_set_new(body, "accesses", accesses) < 0)
		goto oom; /* set_new took it, even when it failed */
	access_log = review_access_log(j, &nactions);
	if (!access_log || json_object_set_new(body, "access_log", access_log) < 0)
		goto oom;
	/* The checkpoint a printout is tied to: the served one (with the witnesses' quorum
	 * when one is configured; none yet is null), with its cosignatures. */
	if (served == 0 || tlog_checkpoint_get(j->log, served, &note, NULL, &cp_size, NULL) < 0) {
		note = NULL;
		cp_size = 0;
	}
	if (json_object_set_new(body, "as_of", srv__jtime(j->as_of_us)) < 0 ||
	    json_object_set_new(body, "checkpoint_size",
				cp_size ? json_integer((json_int_t)cp_size) : json_null()) < 0 ||
	    json_object_set_new(body, "checkpoint", note ? json_string(note) : json_null()) < 0 ||
	    json_object_set_new(body, "requested_by", json_string(j->by)) < 0 ||
	    json_object_set(body, "bound_by", j->bound_by) < 0 ||
	    json_object_set_new(body, "accesses_total",
				json_integer((json_int_t)j->accesses_total)) < 0 ||
	    /* The actions not listed are counted once per clip they named: exact unless one
	     * of them named several of the case's clips. */
	    json_object_set_new(
		body, "access_log_total",
		json_integer((json_int_t)(nactions + j->accesses_total - j->naccesses))) < 0 ||
	    json_object_set_new(body, "access_log_exact",
				json_boolean(j->accesses_total == j->naccesses)) < 0)
		goto oom;
	if (!json_is_true(json_object_get(body, "complete")))
		j->verdict = strdup(json_string_value(json_object_get(body, "verdict")) ?: "?");
	text = json_dumps(body, JSON_COMPACT);
	if (!text || (len = strlen(text)) < 2)
		goto oom;
	/* The members without the braces, after the reply's "ok" and "id". */
	srv__text_add(&j->text, ",", 1);
	srv__text_add(&j->text, text + 1, len - 2);
	review_annotations(j->log, j->book, j, body, &j->text);
	if (j->text.failed)
		goto oom;
	goto out;
oom:
	j->err = err_set(&j->e, -ENOMEM, "out of memory for the review");
out:
	free(text);
	free(note);
	json_decref(body);
	free(clips);
	/* The entries are in the text now: freeing 10,000 of them is not for the loop either. */
	for (size_t i = 0; i < j->n; i++)
		j->items[i].entry = (json_decref(j->items[i].entry), NULL);
}

/* The review is over (answered, failed, or its client left): free it. */
static void review_finish(struct review_job *j)
{
	struct srv_client *c = j->c;

	reviews_running--;
	review_job_free(j);
	srv__client_unref(c); /* last: may free the client, and with it a closing server */
}

static void review_fail(struct review_job *j, int r, const struct err_detail *e)
{
	struct srv_client *c = j->c;

	if (!c->closing) {
		srv__reply_error(c, r, e);
		srv__release(c);
	}
	review_finish(j);
}

static void review_answer_done(uv_work_t *req, int status)
{
	struct review_job *j = req->data;
	struct srv_client *c = j->c;

	if (status < 0 && j->err == 0)
		j->err = err_set(&j->e, -ECANCELED, "the review was cancelled");
	if (j->err < 0) {
		review_fail(j, j->err, &j->e);
		return;
	}
	if (j->verdict)
		log_notice(LOG_GRP, "%s reviewed case '%s': %s", c->by, j->case_id, j->verdict);
	if (!c->closing) {
		srv__reply_tail(c, json_object(), &j->text);
		srv__release(c);
	}
	review_finish(j);
}

/* After the re-hash, on the loop: record the access, then gather from the index what the
 * answer needs (the annotations as they are now, purges since the work started, the
 * accesses) and make the answer on the pool. */
static void review_done(uv_work_t *req, int status)
{
	struct review_job *j = req->data;
	struct srv_client *c = j->c;
	struct server *s = c->s;
	json_t *entries = json_array(), *extra = json_object();
	struct err_detail e = { 0 };
	int r;

	/* Recorded whatever the outcome: the clips were looked at.  A client that left before
	 * the answer does not undo that (as copy-out's "abandoned"). */
	for (size_t i = 0; entries && i < j->n; i++)
		if (json_array_append_new(entries, json_integer((json_int_t)j->items[i].index)) < 0)
			entries = (json_decref(entries), NULL);
	if (extra && entries)
		json_object_set_new(extra, "entries", entries);
	else
		json_decref(entries);
	if (extra && c->closing)
		json_object_set_new(extra, "result", json_string("abandoned"));
	srv__access(c, "review", json_string(j->case_id), extra, true);
	if (c->closing) {
		review_finish(j);
		return;
	}
	if (status < 0 || j->stopped) {
		r = err_set(&e, -ESHUTDOWN,
			    "the daemon is stopping; ask for the review once it is "
			    "back");
		review_fail(j, r, &e);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		const struct srv_clip *clip = srv__index_clip(&s->idx, j->items[i].index);

		if (!j->items[i].entry) {
			/* The case named an entry that could not be read as an original: say
			 * so rather than review less than was asked. */
			r = err_set(&e, -EIO, "%s", j->items[i].error);
			review_fail(j, r, &e);
			return;
		}
		/* A purge since the work started. */
		if (clip && clip->purged)
			j->items[i].integrity = RULES_PURGED;
	}
	if (srv__make_book(s, &j->notes, &j->book) < 0 || review_accesses(&s->idx, j) < 0) {
		r = err_set(&e, -ENOMEM, "out of memory for the review");
		review_fail(j, r, &e);
		return;
	}
	j->as_of_us = (int64_t)daemon_now_us();
	j->answer.data = j;
	r = uv_queue_work(s->d->loop, &j->answer, review_answer_run, review_answer_done);
	if (r < 0) {
		r = err_set(&e, -EIO, "cannot make the review's answer: %s", uv_strerror(r));
		review_fail(j, r, &e);
	}
}

/* Append @v to the growing array *@ids (*@n of *@cap).  @return 0, -ENOMEM. */
static int push_id(uint64_t **ids, size_t *n, size_t *cap, uint64_t v)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		uint64_t *p = realloc(*ids, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*ids = p;
		*cap = ncap;
	}
	(*ids)[(*n)++] = v;
	return 0;
}

/* ---- near case ids ------------------------------------------------------------------------ */

#define SUGGESTIONS_MAX 5
#define SUGGEST_EDITS 2 /* a case id within this many edits (characters) is near */

/* Decode @s (UTF-8 from a request or an entry) into code points, ASCII letters folded to
 * lower case, at most @cap.  @return how many. */
static size_t fold_codepoints(const char *s, uint32_t *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p && n < cap) {
		uint32_t cp = *p++;
		int more = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : cp >= 0xc0 ? 1 : 0;

		if (more)
			cp &= 0x3fu >> more;
		for (; more && (*p & 0xc0) == 0x80; more--)
			cp = cp << 6 | (*p++ & 0x3fu);
		out[n++] = cp < 0x80 && cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
	}
	return n;
}

/* The edit distance of @a and @b (insertions, deletions, substitutions of characters), when
 * at most SUGGEST_EDITS; SUGGEST_EDITS + 1 otherwise.  A band around the diagonal: O(length). */
static unsigned near_edits(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	enum { K = SUGGEST_EDITS, FAR = SUGGEST_EDITS + 1 };
	unsigned prev[2 * K + 1], cur[2 * K + 1];

	if ((na > nb ? na - nb : nb - na) > K)
		return FAR;
	/* Row i keeps columns i - K … i + K of the full table, at offsets 0 … 2K. */
	for (size_t d = 0; d <= 2 * K; d++)
		prev[d] = d >= K ? (unsigned)(d - K) : FAR;
	for (size_t i = 1; i <= na; i++) {
		unsigned best = FAR;

		for (size_t d = 0; d <= 2 * K; d++) {
			size_t jcol = i + d - K; /* may wrap below 0: then out of the table */
			unsigned v = FAR;

			if (i + d < K || jcol > nb) {
				cur[d] = FAR;
				continue;
			}
			if (jcol == 0) {
				v = (unsigned)i;
			} else {
				v = prev[d] + (a[i - 1] != b[jcol - 1]);   /* substitute */
				if (d + 1 <= 2 * K && prev[d + 1] + 1 < v) /* delete a[i-1] */
					v = prev[d + 1] + 1;
				if (d > 0 && cur[d - 1] + 1 < v) /* insert b[jcol-1] */
					v = cur[d - 1] + 1;
			}
			cur[d] = v > FAR ? FAR : v;
			best = cur[d] < best ? cur[d] : best;
		}
		if (best >= FAR)
			return FAR;
		memcpy(prev, cur, sizeof(prev));
	}
	return nb + K >= na && nb + K - na <= 2 * K ? prev[nb + K - na] : FAR;
}

struct suggestion {
	const char *id;
	unsigned rank; /* 0: equal but for case; 1, 2: edits; 3: contains what was asked */
};

static int cmp_suggestion(const void *a, const void *b)
{
	const struct suggestion *x = a, *y = b;

	return x->rank != y->rank ? (x->rank < y->rank ? -1 : 1) : strcmp(x->id, y->id);
}

/* The case ids near @asked, best first, at most SUGGESTIONS_MAX (docs/review-format.md): equal
 * but for case, within SUGGEST_EDITS edits, or containing it (ignoring case).  Case ids are a
 * few thousand at most (people bind cases): one pass over the annotations on the loop.  NULL
 * when out of memory. */
static json_t *case_suggestions(const struct srv_index *x, const char *asked)
{
	uint32_t qa[256], qb[256];
	size_t na = fold_codepoints(asked, qa, 256), n = 0;
	struct suggestion *found = malloc((x->nnotes ? x->nnotes : 1) * sizeof(*found));
	json_t *list = json_array();

	if (!found || !list) {
		free(found);
		json_decref(list);
		return NULL;
	}
	for (size_t i = 0; i < x->nnotes; i++) {
		const char *id = x->notes[i].case_id;
		unsigned rank;
		bool seen = false;

		if (x->notes[i].kind != SRV_NOTE_CASE || !id)
			continue;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(found[k].id, id);
		if (seen)
			continue;
		if (!strcasecmp(id, asked))
			rank = 0;
		else if ((rank = near_edits(qa, na, qb, fold_codepoints(id, qb, 256))) >
			 SUGGEST_EDITS)
			rank = strcasestr(id, asked) ? SUGGEST_EDITS + 1 : UINT32_MAX;
		if (rank != UINT32_MAX)
			found[n++] = (struct suggestion){ id, rank };
	}
	qsort(found, n, sizeof(*found), cmp_suggestion);
	for (size_t i = 0; i < n && i < SUGGESTIONS_MAX; i++)
		if (json_array_append_new(list, json_string(found[i].id)) < 0) {
			json_decref(list);
			list = NULL;
			break;
		}
	free(found);
	return list;
}

/* A case annotation bound by device and time, as srv__case_span_binds() takes it. */
struct case_span {
	uint32_t device;
	int64_t from_us, to_us;
};

int srv__op_review(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	const struct srv_index *x = &s->idx;
	struct case_span *spans = NULL;
	struct review_job *j;
	const char *case_id;
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0, nspans = 0, matched = 0;
	int r;

	r = srv__req_string(req, "case", true, 256, &case_id, reterr);
	if (r < 0)
		return r;
	r = need_index(s, reterr);
	if (r < 0)
		return r;
	if (reviews_running >= REVIEWS_MAX)
		return err_set(reterr, -EUSERS,
			       "%d reviews are re-hashing their originals; try "
			       "again when one is done",
			       REVIEWS_MAX);
	j = calloc(1, sizeof(*j));
	if (!j || !(j->case_id = strdup(case_id)) || !(j->bound_by = json_array())) {
		if (j)
			review_job_free(j);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < x->nnotes; i++) {
		const struct srv_note *note = &x->notes[i];

		if (note->kind != SRV_NOTE_CASE || !note->case_id || strcmp(note->case_id, case_id))
			continue;
		if (json_array_append_new(j->bound_by, json_integer((json_int_t)note->index)) < 0)
			goto oom;
		for (uint32_t k = 0; k < note->nentries; k++)
			if (push_id(&ids, &n, &cap, note->entries[k]) < 0)
				goto oom;
		if (note->device && note->from_us != INT64_MIN && note->to_us != INT64_MIN) {
			struct case_span *v = realloc(spans, (nspans + 1) * sizeof(*v));

			if (!v)
				goto oom;
			spans = v;
			spans[nspans++] = (struct case_span){ srv__index_str_find(x, note->device),
							      note->from_us, note->to_us };
		}
	}
	if (!json_array_size(j->bound_by)) {
		json_t *near = case_suggestions(x, case_id), *extra;

		free(spans);
		free(ids);
		review_job_free(j);
		srv__access(c, "review", json_string(case_id), NULL, true);
		if (json_array_size(near))
			err_set(reterr, -ENOENT,
				"no case '%.200s' (case ids are matched exactly); did you mean "
				"'%.200s'?",
				case_id, json_string_value(json_array_get(near, 0)));
		else
			err_set(reterr, -ENOENT,
				"no case '%.256s': bind its clips first with "
				"custodyctl annotate case --case ID --entries N,…",
				case_id);
		extra = json_object();
		if (!near || !extra || json_object_set_new(extra, "suggestions", near) < 0) {
			json_decref(extra); /* near: taken by set_new, or NULL */
			return -ENOENT;
		}
		srv__reply_error_with(c, -ENOENT, reterr, extra);
		return 0;
	}
	/* A case bound by device and time binds the device's clips in that time as they are
	 * now: its "entries" are those there were when it was made, and clips of that time
	 * stored since belong to it too (retention keeps them as bound).  One pass over the
	 * clip table on the loop, only when the case has such annotations: 3 to 8 ms per
	 * million clips measured here (112 bytes a clip read; reviews are few, 2 at once). */
	for (size_t i = 0; nspans && i < x->nclips; i++) {
		for (size_t k = 0; k < nspans; k++) {
			if (!srv__case_span_binds(&x->clips[i], spans[k].device, spans[k].from_us,
						  spans[k].to_us))
				continue;
			if (++matched > REVIEW_MAX_CLIPS)
				goto too_large;
			if (push_id(&ids, &n, &cap, x->clips[i].index) < 0)
				goto oom;
			break;
		}
	}
	free(spans);
	spans = NULL;
	qsort(ids, n, sizeof(*ids), cmp_u64p);
	j->items = calloc(n ? n : 1, sizeof(*j->items));
	if (!j->items)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const struct srv_clip *clip;

		if (i && ids[i] == ids[i - 1])
			continue;
		if (j->n == REVIEW_MAX_CLIPS)
			goto too_large;
		clip = srv__index_clip(x, ids[i]);
		j->items[j->n++] = (struct review_item){
			.index = ids[i],
			.purged = clip && clip->purged,
		};
	}
	free(ids);
	ids = NULL;
	j->c = c;
	snprintf(j->by, sizeof(j->by), "%s", c->by);
	j->log = s->d->log;
	j->wit = s->d->wit;
	j->store = s->d->store;
	j->stopping = &s->d->stopping;
	j->work.data = j;
	r = uv_queue_work(s->d->loop, &j->work, review_run, review_done);
	if (r < 0) {
		review_job_free(j);
		return err_set(reterr, -EIO, "cannot start the review: %s", uv_strerror(r));
	}
	reviews_running++;
	srv__client_ref(c);
	srv__hold(c);
	return 0;
too_large:
	free(spans);
	free(ids);
	review_job_free(j);
	return err_set(reterr, -E2BIG,
		       "case '%.256s' binds more than %d clips; a review covers "
		       "at most that many",
		       case_id, REVIEW_MAX_CLIPS);
oom:
	free(spans);
	free(ids);
	review_job_free(j);
	return err_set(reterr, -ENOMEM, "out of memory");
}

/* ---- report ------------------------------------------------------------------------------ */

struct report_job {
	uv_idle_t idle; /* feeds the clips and accesses in slices */
	uv_work_t work; /* then the gaps and the JSON on the pool */
	struct srv_client *c;
	struct rules_note *notes;
	struct rules_book *book;
	struct rules_report *rep;
	int64_t from_us, to_us;
	bool open_only;
	size_t next_clip, end_clip;
	struct srv_access_tally *tallies; /* the period's, taken when asked: the index's move */
	size_t next_tally, ntallies;
	json_t *result;
	int err;
};

static void report_job_freed(uv_handle_t *h)
{
	struct report_job *j = h->data;
	struct srv_client *c = j->c;

	rules_report_free(j->rep);
	rules_book_free(j->book);
	free(j->notes);
	free(j->tallies);
	json_decref(j->result);
	free(j);
	reports_running--;
	srv__client_unref(c);
}

static void report_finish(struct report_job *j)
{
	uv_close((uv_handle_t *)&j->idle, report_job_freed);
}

static void report_run(uv_work_t *req)
{
	struct report_job *j = req->data;

	j->err = rules_report_json(j->rep, &j->result);
}

static void report_done(uv_work_t *req, int status)
{
	struct report_job *j = req->data;
	struct srv_client *c = j->c;
	struct err_detail e;

	if (!c->closing) {
		if (status < 0 || j->err < 0 || !j->result) {
			err_set(&e, -ENOMEM, "out of memory for the report");
			srv__reply_error(c, e.code, &e);
		} else {
			json_object_set_new(j->result, "open_only", json_boolean(j->open_only));
			json_object_set_new(j->result, "as_of",
					    srv__jtime((int64_t)daemon_now_us()));
			srv__reply(c, j->result);
			j->result = NULL;
		}
		srv__release(c);
	}
	report_finish(j);
}

static void report_fail(struct report_job *j, const char *what)
{
	struct srv_client *c = j->c;
	struct err_detail e;

	uv_idle_stop(&j->idle);
	if (!c->closing) {
		err_set(&e, -ENOMEM, "out of memory for the report (%s)", what);
		srv__reply_error(c, e.code, &e);
		srv__release(c);
	}
	report_finish(j);
}

static void on_report_slice(uv_idle_t *h)
{
	struct report_job *j = h->data;
	struct srv_client *c = j->c;
	const struct srv_index *x = &c->s->idx;
	uint64_t deadline = uv_hrtime() + SRV_SLICE_NS;
	unsigned n = 0;
	int r;

	if (c->closing || c->s->closing) {
		uv_idle_stop(h);
		report_finish(j);
		return;
	}
	for (; j->next_clip < j->end_clip; j->next_clip++) {
		const struct srv_clip *sc = &x->clips[j->next_clip];
		struct rules_clip rc = {
			.index = sc->index,
			.device = srv__index_str(x, sc->device),
			.officer = srv__index_str(x, sc->officer),
			.zone = srv__index_str(x, sc->zone),
			.start_us = sc->start_us,
			.end_us = sc->end_us,
			.duration_us = sc->duration_us,
			.ingested_us = sc->ingested_us,
			.deadline_us = sc->deadline_us,
			.size = sc->size,
			.storage = sc->storage,
			.damaged = sc->damaged,
			.future = sc->future,
		};

		if (rules_report_clip(j->rep, &rc) < 0) {
			report_fail(j, "clips");
			return;
		}
		if ((++n & 255) == 0 && uv_hrtime() >= deadline)
			return;
	}
	for (; j->next_tally < j->ntallies; j->next_tally++) {
		const struct srv_access_tally *t = &j->tallies[j->next_tally];

		r = rules_report_clip_accesses(j->rep, srv__index_str(x, t->device),
					       srv__index_str(x, t->officer), t->accesses,
					       t->copy_outs, t->refused);
		if (r < 0) {
			report_fail(j, "accesses");
			return;
		}
		if ((++n & 1023) == 0 && uv_hrtime() >= deadline)
			return;
	}
	uv_idle_stop(h);
	j->work.data = j;
	r = uv_queue_work(c->s->d->loop, &j->work, report_run, report_done);
	if (r < 0)
		report_fail(j, uv_strerror(r));
}

/* Parse the period of a report request. */
static int report_period(const json_t *req, int64_t *ret_from, int64_t *ret_to, bool *ret_open,
			 struct err_detail *reterr)
{
	const json_t *year = json_object_get(req, "year"), *open = json_object_get(req, "open");
	const char *from = NULL, *to = NULL;
	int r;

	*ret_open = json_is_true(open);
	if (open && !json_is_boolean(open))
		return err_set(reterr, -EINVAL, "\"open\" must be true or false");
	if (year && !json_is_null(year)) {
		json_int_t y = json_integer_value(year);

		if (!json_is_integer(year) || y < 1970 || y > 9998)
			return err_set(reterr, -EINVAL,
				       "\"year\" must be a year from 1970 to 9998");
		if (*ret_open || json_object_get(req, "from") || json_object_get(req, "to"))
			return err_set(reterr, -EINVAL,
				       "give \"year\", or \"from\" and \"to\", or "
				       "\"open\":true");
		*ret_from = ing_civil_to_epoch((int)y, 1, 1, 0, 0, 0) * 1000000;
		*ret_to = ing_civil_to_epoch((int)y + 1, 1, 1, 0, 0, 0) * 1000000;
		return 0;
	}
	if (*ret_open) {
		if (json_object_get(req, "from") || json_object_get(req, "to"))
			return err_set(reterr, -EINVAL,
				       "\"open\":true covers the whole log: give "
				       "no \"from\" or \"to\"");
		*ret_from = *ret_to = INT64_MIN;
		return 0;
	}
	r = srv__req_string(req, "from", true, 64, &from, reterr);
	if (r == 0)
		r = srv__req_string(req, "to", true, 64, &to, reterr);
	if (r < 0)
		return err_set(reterr, -EINVAL,
			       "a report needs \"from\" and \"to\" (RFC 3339 "
			       "times), \"year\", or \"open\":true");
	if (srv__parse_time(from, ret_from) < 0 || srv__parse_time(to, ret_to) < 0)
		return err_set(reterr, -EINVAL,
			       "\"from\" and \"to\" must be RFC 3339 times with a "
			       "zone, like 2026-01-01T00:00:00Z");
	if (*ret_from >= *ret_to)
		return err_set(reterr, -EINVAL, "\"from\" must be earlier than \"to\"");
	return 0;
}

/* The first tally of a day whose start is at @at_us or later (INT64_MIN: the first). */
static size_t tally_from(const struct srv_index *x, int64_t at_us)
{
	if (at_us == INT64_MIN)
		return 0;
	return LOWER_BOUND(x->ntallies, mid,
			   (int64_t)x->tallies[mid].day * 86400 * 1000000 < at_us);
}

int srv__op_report(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	const struct srv_index *x = &s->idx;
	uint64_t accesses = 0, copy_outs = 0, refused = 0;
	struct report_job *j;
	int64_t from, to;
	bool open_only;
	size_t lo, n;
	int r;

	r = report_period(req, &from, &to, &open_only, reterr);
	if (r < 0)
		return r;
	r = need_index(s, reterr);
	if (r < 0)
		return r;
	if (reports_running >= REPORTS_MAX)
		return err_set(reterr, -EUSERS,
			       "%d reports are being counted; try again when one "
			       "is done",
			       REPORTS_MAX);
	j = calloc(1, sizeof(*j));
	if (!j)
		return err_set(reterr, -ENOMEM, "out of memory");
	r = srv__make_book(s, &j->notes, &j->book);
	if (r == 0)
		r = rules_report_new(j->book, from, to, REPORT_OPEN_MAX, &j->rep);
	if (r < 0) {
		rules_book_free(j->book);
		free(j->notes);
		free(j);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	/* Accesses by whole UTC days: a day counts when its start lies in the period. */
	for (size_t i = 0; i < x->naccess_days; i++) {
		int64_t day = (int64_t)x->access_days[i].day * 86400 * 1000000;

		if ((from != INT64_MIN && day < from) || (to != INT64_MIN && day >= to))
			continue;
		accesses += x->access_days[i].accesses;
		copy_outs += x->access_days[i].copy_outs;
		refused += x->access_days[i].refused;
	}
	rules_report_accesses(j->rep, accesses, copy_outs, refused);
	/* The device and officer rows count by whole UTC days too: the period's tallies are a
	 * run of the array (sorted by day), copied because the index may move them. */
	lo = tally_from(x, from);
	n = (to == INT64_MIN ? x->ntallies : tally_from(x, to)) - lo;
	j->tallies = malloc((n ? n : 1) * sizeof(*j->tallies));
	if (!j->tallies) {
		rules_report_free(j->rep);
		rules_book_free(j->book);
		free(j->notes);
		free(j);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	if (n)
		memcpy(j->tallies, x->tallies + lo, n * sizeof(*j->tallies));
	j->ntallies = n;
	j->c = c;
	j->from_us = from;
	j->to_us = to;
	j->open_only = open_only;
	j->end_clip = x->nclips;
	uv_idle_init(s->d->loop, &j->idle);
	j->idle.data = j;
	reports_running++;
	srv__client_ref(c);
	srv__hold(c);
	uv_idle_start(&j->idle, on_report_slice);
	return 0;
}

/* ---- cases ------------------------------------------------------------------------------- */

#define CASES_MAX 2 /* `cases` answers being made at once */

static unsigned cases_running;

struct cases_case {
	const char *id;	 /* the index's (a note's case_id, never freed while it lives) */
	size_t bound_at; /* its case annotations: j->bound[bound_at …] */
	size_t nbound;
	int64_t reviewed_us; /* last review, INT64_MIN when none */
};

/* The entries one case annotation lists (the note's own array: never moved or freed). */
struct cases_list {
	uint32_t case_no;
	const uint64_t *entries;
	size_t n;
};

struct cases_span {
	uint32_t case_no;
	uint32_t device; /* srv__index_str() id */
	int64_t from_us, to_us;
};

/* A (case, clip) pair: the clip is j->clips[slot]. */
struct cases_pair {
	uint32_t case_no, slot;
};

struct cases_job {
	uv_idle_t idle; /* gathers the cases' clips from the index in slices */
	uv_work_t work; /* then the rules and the JSON on the pool */
	struct srv_client *c;
	struct rules_note *notes;
	struct rules_book *book;
	struct cases_case *cases; /* sorted by id */
	size_t ncases;
	uint64_t *bound; /* the case annotations' indexes, grouped by case */
	struct cases_list *lists;
	size_t nlists, next_list, next_entry;
	struct cases_span *spans;
	size_t nspans, next_clip, end_clip;
	uint32_t *slot_of;	  /* per clip position below end_clip: its slot + 1, 0 when none */
	struct rules_clip *clips; /* copied from the index, for the pool */
	size_t nclips, capclips;
	struct cases_pair *pairs;
	size_t npairs, cappairs;
	int64_t as_of_us;
	json_t *result;
	int err;
};

static void cases_job_freed(uv_handle_t *h)
{
	struct cases_job *j = h->data;
	struct srv_client *c = j->c;

	rules_book_free(j->book);
	free(j->notes);
	free(j->cases);
	free(j->bound);
	free(j->lists);
	free(j->spans);
	free(j->slot_of);
	free(j->clips);
	free(j->pairs);
	json_decref(j->result);
	free(j);
	cases_running--;
	srv__client_unref(c);
}

static void cases_finish(struct cases_job *j)
{
	uv_close((uv_handle_t *)&j->idle, cases_job_freed);
}

/* The clip at @pos of the index for case @case_no: copied once into j->clips (the strings are
 * the index's interned ones).  @return 0, -ENOMEM. */
static int cases_pair(struct cases_job *j, const struct srv_index *x, uint32_t case_no, size_t pos)
{
	const struct srv_clip *sc = &x->clips[pos];

	if (!j->slot_of[pos]) {
		if (j->nclips == j->capclips) {
			size_t cap = j->capclips ? j->capclips * 2 : 256;
			struct rules_clip *v = realloc(j->clips, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			j->clips = v;
			j->capclips = cap;
		}
		/* Integrity unchecked: `cases` re-hashes nothing; a purge is known without. */
		j->clips[j->nclips++] = (struct rules_clip){
			.index = sc->index,
			.device = srv__index_str(x, sc->device),
			.officer = srv__index_str(x, sc->officer),
			.zone = srv__index_str(x, sc->zone),
			.start_us = sc->start_us,
			.end_us = sc->end_us,
			.duration_us = sc->duration_us,
			.ingested_us = sc->ingested_us,
			.deadline_us = sc->deadline_us,
			.size = sc->size,
			.storage = sc->storage,
			.integrity = sc->purged ? RULES_PURGED : RULES_UNCHECKED,
			.damaged = sc->damaged,
			.future = sc->future,
		};
		j->slot_of[pos] = (uint32_t)j->nclips;
	}
	if (j->npairs == j->cappairs) {
		size_t cap = j->cappairs ? j->cappairs * 2 : 256;
		struct cases_pair *v = realloc(j->pairs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		j->pairs = v;
		j->cappairs = cap;
	}
	j->pairs[j->npairs++] = (struct cases_pair){ case_no, j->slot_of[pos] - 1 };
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct cases_pair *x = a, *y = b;

	return x->case_no != y->case_no ? (x->case_no < y->case_no ? -1 : 1)
	       : x->slot != y->slot	? (x->slot < y->slot ? -1 : 1)
					: 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct strings of @v (@n, NULLs skipped), sorted, as a JSON array. */
static json_t *distinct_strings(const char **v, size_t n)
{
	json_t *list = json_array();
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i])
			v[m++] = v[i];
	qsort(v, m, sizeof(*v), cmp_strp);
	for (size_t i = 0; list && i < m; i++)
		if ((!i || strcmp(v[i], v[i - 1])) &&
		    json_array_append_new(list, json_string(v[i])))
			list = (json_decref(list), NULL);
	return list;
}

/* One case's summary from its clips @clips (@n, as the index has them). */
static json_t *case_json(const struct cases_job *j, const struct cases_case *cc,
			 const struct rules_clip *clips, size_t n, const char **devices,
			 const char **officers)
{
	int64_t from = INT64_MAX, to = INT64_MIN;
	long open = rules_open_count(j->book, clips, n);
	json_t *o = json_object(), *bound = json_array();

	if (open < 0 || !o || !bound)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct rules_clip c;

		/* The devices and officers as the review sees them: attributed ones too. */
		rules_clip_attributed(j->book, &clips[i], &c);
		devices[i] = c.device;
		officers[i] = c.officer;
		if (c.start_us == RULES_NOTIME || c.future)
			continue;
		from = c.start_us < from ? c.start_us : from;
		to = (c.end_us != RULES_NOTIME ? c.end_us : c.start_us) > to
			 ? (c.end_us != RULES_NOTIME ? c.end_us : c.start_us)
			 : to;
	}
	for (size_t i = 0; i < cc->nbound; i++)
		if (json_array_append_new(bound,
					  json_integer((json_int_t)j->bound[cc->bound_at + i])))
			goto fail;
	if (json_object_set_new(o, "case", json_string(cc->id)) < 0 ||
	    json_object_set_new(o, "bound_by", bound) < 0 ||
	    json_object_set_new(o, "clips", json_integer((json_int_t)n)) < 0 ||
	    json_object_set_new(o, "devices", distinct_strings(devices, n)) < 0 ||
	    json_object_set_new(o, "officers", distinct_strings(officers, n)) < 0 ||
	    json_object_set_new(o, "from", srv__jtime(from == INT64_MAX ? INT64_MIN : from)) < 0 ||
	    json_object_set_new(o, "to", srv__jtime(to)) < 0 ||
	    json_object_set_new(o, "open", json_integer((json_int_t)open)) < 0 ||
	    json_object_set_new(o, "last_review", srv__jtime(cc->reviewed_us)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	json_decref(o);
	json_decref(bound);
	return NULL;
}

/* On the pool: each case's clips (the pairs sorted by case), the rules over them, the JSON.
 * The book and the clips' strings are the index's, never freed while the server lives. */
static void cases_run(uv_work_t *req)
{
	struct cases_job *j = req->data;
	struct rules_clip *mine = malloc((j->nclips ? j->nclips : 1) * sizeof(*mine));
	const char **devices = malloc((j->nclips ? j->nclips : 1) * sizeof(*devices));
	const char **officers = malloc((j->nclips ? j->nclips : 1) * sizeof(*officers));
	json_t *list = json_array();
	size_t p = 0;

	if (!mine || !devices || !officers || !list)
		goto oom;
	if (j->npairs)
		qsort(j->pairs, j->npairs, sizeof(*j->pairs), cmp_pair);
	for (size_t k = 0; k < j->ncases; k++) {
		size_t n = 0;
		json_t *o;

		for (; p < j->npairs && j->pairs[p].case_no == k; p++)
			if (!n || j->pairs[p - 1].slot != j->pairs[p].slot)
				mine[n++] = j->clips[j->pairs[p].slot];
		o = case_json(j, &j->cases[k], mine, n, devices, officers);
		if (!o || json_array_append_new(list, o) < 0)
			goto oom;
	}
	j->result = json_pack("{s:o, s:o}", "as_of", srv__jtime(j->as_of_us), "cases", list);
	list = NULL;
	if (!j->result)
		goto oom;
	goto out;
oom:
	j->err = -ENOMEM;
out:
	json_decref(list);
	free(mine);
	free(devices);
	free(officers);
}

static void cases_done(uv_work_t *req, int status)
{
	struct cases_job *j = req->data;
	struct srv_client *c = j->c;
	struct err_detail e;

	if (!c->closing) {
		if (status < 0 || j->err < 0 || !j->result) {
			err_set(&e, -ENOMEM, "out of memory for the list of cases");
			srv__reply_error(c, e.code, &e);
		} else {
			srv__reply(c, j->result);
			j->result = NULL;
		}
		srv__release(c);
	}
	cases_finish(j);
}

static void cases_fail(struct cases_job *j)
{
	struct srv_client *c = j->c;
	struct err_detail e;

	uv_idle_stop(&j->idle);
	if (!c->closing) {
		err_set(&e, -ENOMEM, "out of memory for the list of cases");
		srv__reply_error(c, e.code, &e);
		srv__release(c);
	}
	cases_finish(j);
}

/* One slice: the entries the case annotations list, then the clip table for the cases bound
 * by device and time (as a review binds them: srv__case_span_binds()). */
static void on_cases_slice(uv_idle_t *h)
{
	struct cases_job *j = h->data;
	struct srv_client *c = j->c;
	const struct srv_index *x = &c->s->idx;
	uint64_t deadline = uv_hrtime() + SRV_SLICE_NS;
	unsigned n = 0;
	int r;

	if (c->closing || c->s->closing) {
		uv_idle_stop(h);
		cases_finish(j);
		return;
	}
	for (; j->next_list < j->nlists; j->next_list++, j->next_entry = 0) {
		const struct cases_list *l = &j->lists[j->next_list];

		for (; j->next_entry < l->n; j->next_entry++) {
			ssize_t pos = srv__index_clip_pos(x, l->entries[j->next_entry]);

			if (pos >= 0 && (size_t)pos < j->end_clip &&
			    cases_pair(j, x, l->case_no, (size_t)pos) < 0) {
				cases_fail(j);
				return;
			}
			if ((++n & 255) == 0 && uv_hrtime() >= deadline)
				return;
		}
	}
	for (; j->nspans && j->next_clip < j->end_clip; j->next_clip++) {
		for (size_t k = 0; k < j->nspans; k++) {
			const struct cases_span *sp = &j->spans[k];

			if (!srv__case_span_binds(&x->clips[j->next_clip], sp->device, sp->from_us,
						  sp->to_us))
				continue;
			if (cases_pair(j, x, sp->case_no, j->next_clip) < 0) {
				cases_fail(j);
				return;
			}
		}
		if ((++n & 255) == 0 && uv_hrtime() >= deadline)
			return;
	}
	uv_idle_stop(h);
	j->as_of_us = (int64_t)daemon_now_us();
	j->work.data = j;
	r = uv_queue_work(c->s->d->loop, &j->work, cases_run, cases_done);
	if (r < 0)
		cases_fail(j);
}

static int cmp_case_note(const void *a, const void *b)
{
	const struct srv_note *x = *(const struct srv_note *const *)a;
	const struct srv_note *y = *(const struct srv_note *const *)b;

	return strcmp(x->case_id, y->case_id) ?: (x->index < y->index ? -1 : x->index > y->index);
}

/* The case annotations, grouped by case id, into the job: the cases, their annotations, the
 * entries they list and the spans of those bound by device and time.  @return 0, -ENOMEM. */
static int cases_gather(struct cases_job *j, const struct srv_index *x)
{
	const struct srv_note **cn = malloc((x->nnotes ? x->nnotes : 1) * sizeof(*cn));
	size_t n = 0;

	if (!cn)
		return -ENOMEM;
	for (size_t i = 0; i < x->nnotes; i++)
		if (x->notes[i].kind == SRV_NOTE_CASE && x->notes[i].case_id)
			cn[n++] = &x->notes[i];
	qsort(cn, n, sizeof(*cn), cmp_case_note);
	j->cases = malloc((n ? n : 1) * sizeof(*j->cases));
	j->bound = malloc((n ? n : 1) * sizeof(*j->bound));
	j->lists = malloc((n ? n : 1) * sizeof(*j->lists));
	j->spans = malloc((n ? n : 1) * sizeof(*j->spans));
	j->slot_of = calloc(x->nclips ? x->nclips : 1, sizeof(*j->slot_of));
	if (!j->cases || !j->bound || !j->lists || !j->spans || !j->slot_of) {
		free(cn);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct srv_note *note = cn[i];
		struct cases_case *cc;

		if (!i || strcmp(note->case_id, cn[i - 1]->case_id))
			j->cases[j->ncases++] = (struct cases_case){
				.id = note->case_id,
				.bound_at = i,
				.reviewed_us = srv__index_last_review(x, note->case_id),
			};
		cc = &j->cases[j->ncases - 1];
		j->bound[cc->bound_at + cc->nbound++] = note->index;
		if (note->nentries)
			j->lists[j->nlists++] =
			    (struct cases_list){ (uint32_t)(j->ncases - 1), note->entries,
						 note->nentries };
		if (note->device && note->from_us != INT64_MIN && note->to_us != INT64_MIN)
			j->spans[j->nspans++] =
			    (struct cases_span){ (uint32_t)(j->ncases - 1),
						 srv__index_str_find(x, note->device),
						 note->from_us, note->to_us };
	}
	free(cn);
	j->end_clip = x->nclips;
	return 0;
}

int srv__op_cases(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	struct cases_job *j;
	int r;

	(void)req;
	r = need_index(s, reterr);
	if (r < 0)
		return r;
	if (cases_running >= CASES_MAX)
		return err_set(reterr, -EUSERS,
			       "%d lists of cases are being made; try again when one is done",
			       CASES_MAX);
	j = calloc(1, sizeof(*j));
	if (!j)
		return err_set(reterr, -ENOMEM, "out of memory");
	j->c = c;
	r = srv__make_book(s, &j->notes, &j->book);
	if (r == 0)
		r = cases_gather(j, &s->idx);
	if (r < 0) {
		rules_book_free(j->book);
		free(j->notes);
		free(j->cases);
		free(j->bound);
		free(j->lists);
		free(j->spans);
		free(j->slot_of);
		free(j);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	uv_idle_init(s->d->loop, &j->idle);
	j->idle.data = j;
	cases_running++;
	srv__client_ref(c);
	srv__hold(c);
	uv_idle_start(&j->idle, on_cases_slice);
	return 0;
}

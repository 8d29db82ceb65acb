/* scrub.c: the scrubber, which re-hashes every original in the store against its entry.
 *
 * DESIGN
 * A pass reads every original once, at most scrub_rate bytes a second: at the default 100 MiB/s
 * a 20 TB store takes more than two days.  So it runs on a thread of its own, not on the libuv
 * pool (a pool thread held for days would starve ingest and uv_fs calls), and sleeps between
 * chunks to keep to its rate; ingest keeps the rest of the disk.  The thread talks to the loop
 * like the pipeline's writer does (pipeline.c): state under one mutex, a condition variable to
 * wake the thread (a request, a reload, a stop), and a uv_async_t to wake the loop, which
 * appends a finished pass's entry with pipe_append() (the writer thread is the only one that
 * writes the log).
 *
 * Which originals: the `ingest` and `damaged` entries below the log's size when the pass
 * started.  The log is mostly `access` entries, so each entry's bytes are looked at before it
 * is parsed: a canonical entry holds its top-level type as the literal "type":"ingest" (the
 * same literal may sit in a nested object, such as the filter of a `log` request recorded in
 * an access entry, so the parsed entry decides).  An original purged by a later `purge` entry
 * is not expected in the store: the pass first collects every purge in the log, and looks
 * again at the entries appended since before it calls an original missing.
 *
 * Each original is opened with store_open_original() (read-only, O_NOFOLLOW, only names of the
 * form objects/xx/<hex>) and hashed here chunk by chunk with libcrypto's EVP, not with
 * vfy_sha256_fd(), which reads a whole file in one call: the scrubber must be able to sleep
 * between chunks and to stop in the middle of a 4 GB file.  The page cache is told to drop
 * the file before and while it is read (POSIX_FADV_DONTNEED), so that the bytes compared are
 * the disk's and the scrub does not push ingest's pages out of the cache.
 *
 * Resuming: <state>/scrub.json holds the pass (its start, the log size it covers, the next
 * entry, the counts and the failing indexes) and the last logged pass.  It is replaced
 * atomically (write a temporary file, fsync, rename, fsync the folder) after every original,
 * at most once a second, and at once after a failure, at the end of a pass and on stop.  The
 * counts and the next index are saved together, so after a crash each original is counted
 * exactly once; the one being hashed at the crash is hashed again from its start.  A pass that
 * finished is saved as such before its entry is handed to the loop; once the entry is
 * committed, it becomes the last pass.  A crash in between is resolved at the next start by
 * looking for the entry among those appended since the pass finished, so that there is always
 * exactly one `scrub` entry per pass.
 *
 * A pass with long lists would make an entry over the log's limit, so it is logged in parts
 * (SCRUB_PART_MAX indexes each, scrub.h), appended one at a time in order: part k+1 is handed
 * out only once part k is committed, and "parts_logged" in the state file counts those known
 * committed.  After a crash the parts already in the log are found the same way (by their
 * started_at and "part"), so each part is logged exactly once, and part 1's index is the
 * pass's "entry".
 *
 * Threads: scrub_*() run on the loop thread; scrub_main() and everything it calls on the scrub
 * thread, which owns `cur` and `last` and changes them only under mtx, so that status reads a
 * consistent copy.
 *
 * One file because the scrub thread, its state file and the loop-side calls share struct scrub
 * and the rule that only the thread changes `cur` and `last`, under mtx; splitting would export
 * the struct and spread that rule over files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <uv.h>

#include "base/cleanup.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "verify/hash.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/macro.h"
#include "daemon/pipeline.h"
#include "daemon/scrub.h"
#include "ingest/store.h"
#include "verify/entry.h"
#include "verify/tlog.h"

#define LOG_GRP "scrub"
#define STATE_VERSION 1
#define STATE_MAX (64u << 20)	    /* a state file larger than this is not ours */
#define PERSIST_EVERY_US 1000000ULL /* progress is saved at most this often... */
#define RETRY_US (30 * 1000000ULL)  /* a failed append, read of the log or save waits this */
#define WAIT_MAX_US                                                                                \
	(60 * 1000000ULL)    /* the schedule is looked at again at least this often,               \
			      * as the wall clock may be set while we wait */
#define STATUS_LIST_MAX 100  /* indexes per list in `status` */
#define SCAN_STOP_EVERY 4096 /* entries scanned between looks at the stop flag */
#define BUF_MAX (1u << 20)   /* the largest read */
#define BUF_MIN (64u << 10)
#define CREDIT_NS 1000000000ULL /* reading may catch up at most this much lost time */

struct idx_list {
	uint64_t *v; /* increasing: a pass walks the log in order */
	size_t n, cap;
	uint64_t unlisted; /* failures beyond SCRUB_LIST_MAX */
};

struct pass {
	uint64_t started_us;
	uint64_t finished_us; /* done */
	uint64_t log_size;    /* the pass covers the entries [0, log_size) */
	uint64_t next;	      /* the next entry to look at */
	uint64_t checked, ok, purged, bytes;
	struct idx_list missing, altered;
	uint64_t done_size; /* done: the log's size then; the pass's entry comes at or after it */
	uint64_t entry;	    /* its first `scrub` entry, once committed */
	uint64_t parts_logged; /* done: its `scrub` entries committed so far */
};

/* The canonical form of a part: its lists, and the rest (16 short keys, 11 integers of at most
 * 20 characters, two times) in well under 1 KiB. */
_Static_assert(SCRUB_PART_MAX * 20 + 1024 <= VFY_ENTRY_MAX, "a scrub part may exceed the limit");

enum phase {
	PHASE_IDLE,    /* waiting for the schedule or a request */
	PHASE_RUNNING, /* cur is being checked */
	PHASE_DONE,    /* cur is finished; its entry is not yet committed */
};

enum check {
	CHECK_OK,
	CHECK_MISSING,
	CHECK_ALTERED,
	CHECK_RETRY,   /* not about the original (out of fds, memory): try it again later */
	CHECK_STOPPED, /* told to stop in the middle of it */
};

struct original {
	char rel[STORE_REL_MAX];
	uint8_t sha256[VFY_HASH_LEN];
	int64_t size; /* -1 when the entry has none */
};

struct scrub {
	struct daemon *d; /* d->log and d->store from any thread; the rest on the loop only */
	char state_file[PATH_MAX];
	uv_async_t async;
	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */

	/* Under mtx. */
	uint64_t interval_ms, rate;
	bool want_start, stop, exited;
	char want_by[128];
	enum phase phase;
	uint64_t epoch_us; /* when the scrubber first ran: the schedule's origin until a pass ran */
	struct pass cur;   /* PHASE_RUNNING, PHASE_DONE */
	bool have_last;
	struct pass last;
	json_t *post;  /* a finished pass's entry for the loop to append */
	bool posting;  /* handed to the loop, no answer yet */
	bool appended; /* the loop's answer, in append_status and append_index */
	int append_status;
	uint64_t append_index;

	/* Loop thread only. */
	bool stopping, closing;
	void (*done)(void *opaque);
	void *done_opaque;

	/* Scrub thread only (and scrub_new() before it starts). */
	bool fresh;	 /* no state file yet: write one, so that the schedule's origin stays */
	bool done_saved; /* PHASE_DONE is on disk: its entry may be handed out */
	uint64_t retry_at_us;
	uint64_t *purges; /* entries removed by a `purge`, sorted */
	size_t npurges, cappurges;
	uint64_t purge_scanned; /* purges are known in the entries [0, purge_scanned) */
	EVP_MD_CTX *md;
	uint8_t *buf;
	uint64_t lim_rate, lim_t0_ns, lim_bytes; /* the rate limit's window */
	uint64_t last_save_us;
	bool save_failed; /* logged once until a save works again */
};

/* ---- small helpers ----------------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Wait on s->cond for at most @us; mtx held.  Wakes early on any signal. */
static void wait_us(struct scrub *s, uint64_t us)
{
	struct timespec ts;
	uint64_t ns;

	if (us > WAIT_MAX_US)
		us = WAIT_MAX_US;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_nsec + us % 1000000 * 1000;
	ts.tv_sec += (time_t)(us / 1000000 + ns / 1000000000ULL);
	ts.tv_nsec = (long)(ns % 1000000000ULL);
	pthread_cond_timedwait(&s->cond, &s->mtx, &ts);
}

/* Sleep @us unless told to stop.  @return true when told to stop.  Scrub thread. */
static bool pause_us(struct scrub *s, uint64_t us)
{
	uint64_t until = mono_ns() + us * 1000;
	bool stop;

	pthread_mutex_lock(&s->mtx);
	while (!s->stop) {
		uint64_t now = mono_ns();

		if (now >= until)
			break;
		wait_us(s, (until - now) / 1000 + 1);
	}
	stop = s->stop;
	pthread_mutex_unlock(&s->mtx);
	return stop;
}

static bool stop_requested(struct scrub *s)
{
	bool stop;

	pthread_mutex_lock(&s->mtx);
	stop = s->stop;
	pthread_mutex_unlock(&s->mtx);
	return stop;
}

static void format_time(uint64_t us, char out[ING_RFC3339_MAX])
{
	if (ing_format_utc((int64_t)us, out) < 0)
		snprintf(out, ING_RFC3339_MAX, "1970-01-01T00:00:00Z");
}

static json_t *time_json(uint64_t us)
{
	char text[ING_RFC3339_MAX];

	if (!us)
		return json_null();
	format_time(us, text);
	return json_string(text);
}

static int list_add(struct idx_list *l, uint64_t index)
{
	if (l->n >= SCRUB_LIST_MAX) {
		l->unlisted++;
		return 0;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		uint64_t *grown = realloc(l->v, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		l->v = grown;
		l->cap = ncap;
	}
	l->v[l->n++] = index;
	return 0;
}

static void list_done(struct idx_list *l)
{
	free(l->v);
	*l = (struct idx_list){ 0 };
}

static void pass_done(struct pass *p)
{
	list_done(&p->missing);
	list_done(&p->altered);
	*p = (struct pass){ 0 };
}

/* The indexes of @l from @from to below @to (clamped to its length). */
static json_t *list_json_range(const struct idx_list *l, size_t from, size_t to)
{
	json_t *a = json_array();

	for (size_t i = from; a && i < l->n && i < to; i++)
		if (json_array_append_new(a, json_integer((json_int_t)l->v[i])) < 0)
			a = (json_decref(a), NULL);
	return a;
}

static json_t *list_json(const struct idx_list *l, size_t max)
{
	return list_json_range(l, 0, max);
}

/* How many `scrub` entries the pass @p takes: its missing, then its altered indexes, cut in
 * slices of SCRUB_PART_MAX; one when it has none. */
static uint64_t pass_parts(const struct pass *p)
{
	size_t n = p->missing.n + p->altered.n;

	return n ? (n + SCRUB_PART_MAX - 1) / SCRUB_PART_MAX : 1;
}

/* ---- the state file ---------------------------------------------------------------------- */

static json_t *pass_json(const struct pass *p)
{
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I}",
	    "started_us", (json_int_t)p->started_us, "finished_us", (json_int_t)p->finished_us,
	    "log_size", (json_int_t)p->log_size, "next", (json_int_t)p->next, "checked",
	    (json_int_t)p->checked, "ok", (json_int_t)p->ok, "purged", (json_int_t)p->purged,
	    "bytes", (json_int_t)p->bytes, "missing", list_json(&p->missing, SIZE_MAX), "altered",
	    list_json(&p->altered, SIZE_MAX), "missing_unlisted", (json_int_t)p->missing.unlisted,
	    "altered_unlisted", (json_int_t)p->altered.unlisted, "done_size",
	    (json_int_t)p->done_size, "entry", (json_int_t)p->entry, "parts_logged",
	    (json_int_t)p->parts_logged);
}

static int get_u64(const json_t *o, const char *key, uint64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EBADMSG;
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int list_from_json(const json_t *a, uint64_t unlisted, uint64_t below, struct idx_list *ret)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a))
		return -EBADMSG;
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    (uint64_t)json_integer_value(v) >= below ||
		    (ret->n && (uint64_t)json_integer_value(v) <= ret->v[ret->n - 1]))
			return -EBADMSG;
		if (list_add(ret, (uint64_t)json_integer_value(v)) < 0)
			return -ENOMEM;
	}
	ret->unlisted += unlisted;
	return 0;
}

static int pass_from_json(const json_t *o, struct pass *ret)
{
	uint64_t mu, au;
	int r;

	*ret = (struct pass){ 0 };
	if (!json_is_object(o) || get_u64(o, "started_us", &ret->started_us) < 0 ||
	    get_u64(o, "finished_us", &ret->finished_us) < 0 ||
	    get_u64(o, "log_size", &ret->log_size) < 0 || get_u64(o, "next", &ret->next) < 0 ||
	    get_u64(o, "checked", &ret->checked) < 0 || get_u64(o, "ok", &ret->ok) < 0 ||
	    get_u64(o, "purged", &ret->purged) < 0 || get_u64(o, "bytes", &ret->bytes) < 0 ||
	    get_u64(o, "missing_unlisted", &mu) < 0 || get_u64(o, "altered_unlisted", &au) < 0 ||
	    get_u64(o, "done_size", &ret->done_size) < 0 || get_u64(o, "entry", &ret->entry) < 0 ||
	    ret->next > ret->log_size || ret->ok > ret->checked)
		return -EBADMSG;
	/* Absent from the files of versions that logged a pass as one entry. */
	if (json_object_get(o, "parts_logged") &&
	    get_u64(o, "parts_logged", &ret->parts_logged) < 0)
		return -EBADMSG;
	r = list_from_json(json_object_get(o, "missing"), mu, ret->log_size, &ret->missing);
	if (r == 0)
		r = list_from_json(json_object_get(o, "altered"), au, ret->log_size, &ret->altered);
	if (r < 0)
		pass_done(ret);
	return r;
}

static const char *const phase_names[] = { "idle", "running", "done" };

/* The state as saved; mtx held (or the thread not yet started). */
static json_t *state_json(const struct scrub *s)
{
	return json_pack("{s:i, s:s, s:I, s:o, s:o}", "v", STATE_VERSION, "phase",
			 phase_names[s->phase], "epoch_us", (json_int_t)s->epoch_us, "pass",
			 s->phase != PHASE_IDLE ? pass_json(&s->cur) : json_null(), "last",
			 s->have_last ? pass_json(&s->last) : json_null());
}

/* Parse @text into s's state.  @return 0, -EBADMSG (the message in @reterr), -ENOMEM. */
static int state_parse(struct scrub *s, const char *text, size_t len, uint64_t log_size,
		       struct err_detail *reterr)
{
	json_auto_t *o = json_loadb(text, len, 0, NULL);
	const char *phase = json_string_value(json_object_get(o, "phase"));
	const json_t *last = json_object_get(o, "last");
	int r;

	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "v")) ||
	    json_integer_value(json_object_get(o, "v")) != STATE_VERSION || !phase ||
	    get_u64(o, "epoch_us", &s->epoch_us) < 0)
		return err_set(reterr, -EBADMSG, "not a version %d scrub state", STATE_VERSION);
	if (!strcmp(phase, "idle"))
		s->phase = PHASE_IDLE;
	else if (!strcmp(phase, "running"))
		s->phase = PHASE_RUNNING;
	else if (!strcmp(phase, "done"))
		s->phase = PHASE_DONE;
	else
		return err_set(reterr, -EBADMSG, "unknown phase '%.32s'", phase);
	if (s->phase != PHASE_IDLE) {
		r = pass_from_json(json_object_get(o, "pass"), &s->cur);
		if (r < 0)
			return err_set(reterr, r, "the pass is not readable");
		/* A log smaller than the pass is another log (restored, or made anew). */
		if (s->cur.log_size > log_size || s->cur.done_size > log_size) {
			pass_done(&s->cur);
			return err_set(reterr, -EBADMSG,
				       "its pass covers more entries than the log "
				       "holds (%" PRIu64 ")",
				       log_size);
		}
	}
	if (json_is_object(last)) {
		r = pass_from_json(last, &s->last);
		if (r < 0) {
			pass_done(&s->cur);
			return err_set(reterr, r, "the last pass is not readable");
		}
		s->have_last = true;
	} else if (!json_is_null(last)) {
		pass_done(&s->cur);
		return err_set(reterr, -EBADMSG, "the last pass is not readable");
	}
	return 0;
}

/* Read <state>/scrub.json.  A missing file starts afresh; one that does not parse is logged
 * and replaced (losing the progress of one pass loses no evidence).  Loop thread, at start. */
static int state_load(struct scrub *s, struct err_detail *reterr)
{
	auto_free char *text = NULL;
	struct err_detail e;
	uint64_t size;
	size_t len = 0;
	int r;

	r = tlog_size(s->d->log, &size, reterr);
	if (r < 0)
		return r;
	r = file_read_at(AT_FDCWD, s->state_file, O_NOFOLLOW, STATE_MAX, &text, &len, &e);
	if (r == -ENOENT) {
		s->fresh = true;
		s->epoch_us = daemon_now_us();
		return 0;
	}
	if (r == -EINVAL || r == -EFBIG) {
		err_set(&e, -EBADMSG, "not a regular file of at most %u bytes", STATE_MAX);
		goto bad;
	}
	if (r == -ENOMEM)
		return err_set(reterr, r, "out of memory for '%s'", s->state_file);
	if (r < 0)
		return err_set(reterr, r, "%s", e.msg);
	r = state_parse(s, text, len, size, &e);
	if (r == -ENOMEM)
		return err_set(reterr, r, "out of memory for '%s'", s->state_file);
	if (r < 0)
		goto bad;
	return 0;
bad:
	log_warning(LOG_GRP, "'%s' is not a scrub state (%s): starting afresh, ignoring",
		    s->state_file, e.msg);
	pass_done(&s->cur);
	pass_done(&s->last);
	s->have_last = false;
	s->phase = PHASE_IDLE;
	s->fresh = true;
	s->epoch_us = daemon_now_us();
	return 0;
}

/* Replace the state file atomically with the state as it is now.  Scrub thread.
 * @return 0, or -errno (logged once until a save works again). */
static int save(struct scrub *s)
{
	auto_free char *text = NULL;
	json_t *o;
	int r = 0;

	pthread_mutex_lock(&s->mtx);
	o = state_json(s);
	pthread_mutex_unlock(&s->mtx);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text) {
		r = -ENOMEM;
		errno = ENOMEM;
		goto fail;
	}
	r = file_write_atomic(AT_FDCWD, s->state_file, text, strlen(text), 0640, NULL);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	if (s->save_failed)
		log_notice(LOG_GRP, "the scrub's progress is saved to '%s' again", s->state_file);
	s->save_failed = false;
	s->last_save_us = daemon_now_us();
	return 0;
fail:
	if (!s->save_failed)
		log_error(LOG_GRP,
			  "cannot save the scrub's progress to '%s': %s; a restart would "
			  "repeat part of the pass",
			  s->state_file, strerror(errno));
	s->save_failed = true;
	return r;
}

static void save_soon(struct scrub *s)
{
	if (daemon_now_us() - s->last_save_us >= PERSIST_EVERY_US)
		save(s);
}

/* ---- reading the log --------------------------------------------------------------------- */

/* Whether the canonical entry @bytes may be of @type: its top-level "type" is the literal
 * "type":"<type>" (a type needs no escaping); a nested object may hold it too, so the parsed
 * entry decides. */
static bool may_be(const char *bytes, size_t len, const char *type)
{
	char lit[48];
	int n = snprintf(lit, sizeof(lit), "\"type\":\"%s\"", type);

	return memmem(bytes, len, lit, (size_t)n) != NULL;
}

static bool type_is(const json_t *entry, const char *type)
{
	const char *t = json_string_value(json_object_get(entry, "type"));

	return t && !strcmp(t, type);
}

/* An `ingest` or `damaged` entry's original.  @return 1 (filled @ret), 0 when @bytes is
 * another kind of entry, -EBADMSG when it is one of those but names no usable original. */
static int entry_original(const char *bytes, size_t len, struct original *ret,
			  struct err_detail *reterr)
{
	json_auto_t *e = NULL;
	const char *rel, *sha;
	const json_t *size;

	if (!may_be(bytes, len, "ingest") && !may_be(bytes, len, "damaged"))
		return 0;
	e = json_loadb(bytes, len, 0, NULL);
	if (!type_is(e, "ingest") && !type_is(e, "damaged"))
		return 0;
	rel = json_string_value(json_object_get(e, "stored"));
	sha = json_string_value(json_object_get(e, "sha256"));
	size = json_object_get(e, "size");
	if (!rel || strlen(rel) >= STORE_REL_MAX)
		return err_set(reterr, -EBADMSG, "it has no \"stored\" path");
	if (hex_decode(sha, ret->sha256, VFY_HASH_LEN) < 0)
		return err_set(reterr, -EBADMSG, "its \"sha256\" is not 64 hex digits");
	snprintf(ret->rel, sizeof(ret->rel), "%s", rel);
	ret->size = json_is_integer(size) && json_integer_value(size) >= 0
			? (int64_t)json_integer_value(size)
			: -1;
	return 1;
}

static bool purged(const struct scrub *s, uint64_t index)
{
	size_t i = LOWER_BOUND(s->npurges, mid, s->purges[mid] < index);

	return i < s->npurges && s->purges[i] == index;
}

static int purge_add(struct scrub *s, uint64_t index)
{
	size_t at = s->npurges;

	if (purged(s, index))
		return 0;
	if (s->npurges == s->cappurges) {
		size_t ncap = s->cappurges ? s->cappurges * 2 : 64;
		uint64_t *grown = realloc(s->purges, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		s->purges = grown;
		s->cappurges = ncap;
	}
	while (at > 0 && s->purges[at - 1] > index)
		at--;
	memmove(s->purges + at + 1, s->purges + at, (s->npurges - at) * sizeof(*s->purges));
	s->purges[at] = index;
	s->npurges++;
	return 0;
}

/* Learn the purges among the entries [purge_scanned, the log's size).  @return 0, 1 when told
 * to stop, or a negative tlog error. */
static int purge_scan(struct scrub *s, struct err_detail *reterr)
{
	uint64_t size;
	int r;

	r = tlog_size(s->d->log, &size, reterr);
	if (r < 0)
		return r;
	for (; s->purge_scanned < size; s->purge_scanned++) {
		auto_free char *bytes = NULL;
		json_auto_t *e = NULL;
		const json_t *target;
		size_t len;

		if (s->purge_scanned % SCAN_STOP_EVERY == 0 && stop_requested(s))
			return 1;
		r = tlog_entry(s->d->log, s->purge_scanned, &bytes, &len, reterr);
		if (r < 0)
			return r;
		if (!may_be(bytes, len, "purge"))
			continue;
		e = json_loadb(bytes, len, 0, NULL);
		target = json_object_get(e, "entry");
		if (!type_is(e, "purge") || !json_is_integer(target) ||
		    json_integer_value(target) < 0)
			continue;
		if (purge_add(s, (uint64_t)json_integer_value(target)) < 0)
			return err_set(reterr, -ENOMEM, "out of memory for the purged entries");
	}
	return 0;
}

/* ---- hashing an original ----------------------------------------------------------------- */

/* After @n more bytes were read, sleep as long as keeps reading at the rate (which a reload
 * may change).  Time lost elsewhere (scanning the log, opening files) is made up for at most
 * CREDIT_NS, so that a pause never turns into a burst at full disk speed.  @return true when
 * told to stop.  Scrub thread. */
static bool throttle(struct scrub *s, uint64_t n)
{
	bool stop;

	pthread_mutex_lock(&s->mtx);
	s->lim_bytes += n;
	for (;;) {
		uint64_t now = mono_ns(), target;

		if (s->stop)
			break;
		if (s->lim_rate != s->rate || !s->lim_t0_ns) {
			/* The first read, or a reload changed the rate: a new window. */
			s->lim_rate = s->rate;
			s->lim_t0_ns = now;
			s->lim_bytes = n;
			continue;
		}
		target = s->lim_t0_ns +
			 (uint64_t)((unsigned __int128)s->lim_bytes * 1000000000u / s->lim_rate);
		if (now >= target) {
			if (now - target > CREDIT_NS) {
				s->lim_t0_ns = now - CREDIT_NS;
				s->lim_bytes = 0;
			}
			break;
		}
		wait_us(s, (target - now) / 1000 + 1);
	}
	stop = s->stop;
	pthread_mutex_unlock(&s->mtx);
	return stop;
}

static size_t chunk_size(struct scrub *s)
{
	uint64_t rate;

	pthread_mutex_lock(&s->mtx);
	rate = s->rate;
	pthread_mutex_unlock(&s->mtx);
	/* About four reads a second at the rate, so that each sleep is short. */
	rate /= 4;
	return rate > BUF_MAX ? BUF_MAX : rate < BUF_MIN ? BUF_MIN : (size_t)rate;
}

static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode)			? "a folder"
	       : S_ISFIFO(mode)			? "a FIFO"
	       : S_ISSOCK(mode)			? "a socket"
	       : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
						: "something other than a file";
}

static void writable_note(const struct stat *sb, char *out, size_t len)
{
	/* An original is 0440: one that can be written to was changed by somebody. */
	if (sb->st_mode & 0222)
		snprintf(out, len, " (and it is writable: mode %04o, owner uid %u)",
			 (unsigned)(sb->st_mode & 07777), (unsigned)sb->st_uid);
	else
		out[0] = '\0';
}

/* Check the original @o against its entry.  @found gets what was found when it is not OK;
 * *@ret_bytes the bytes read.  Scrub thread. */
static enum check check_original(struct scrub *s, const struct original *o, char *found,
				 size_t foundlen, uint64_t *ret_bytes)
{
	char note[96];
	uint8_t digest[VFY_HASH_LEN];
	struct err_detail e;
	auto_close int fd = -1;
	struct stat sb;
	uint64_t off = 0;
	int r;

	*ret_bytes = 0;
	r = store_open_original(s->d->store, o->rel, &fd, &e);
	switch (r) {
	case 0:
		break;
	case -ENOENT:
	case -ENOTDIR:
		snprintf(found, foundlen, "no file is there");
		return CHECK_MISSING;
	case -EINVAL:
		snprintf(found, foundlen, "the entry's \"stored\" is not the name of an original");
		return CHECK_MISSING;
	case -EMFILE:
	case -ENFILE:
	case -ENOMEM:
	case -EINTR:
		snprintf(found, foundlen, "%s", e.msg);
		return CHECK_RETRY;
	case -ELOOP:
		snprintf(found, foundlen, "a symbolic link is in its place");
		return CHECK_ALTERED;
	default:
		snprintf(found, foundlen, "it cannot be opened: %s", strerror(-r));
		return CHECK_ALTERED;
	}
	if (fstat(fd, &sb) < 0) {
		snprintf(found, foundlen, "it cannot be examined: %s", strerror(errno));
		return CHECK_ALTERED;
	}
	writable_note(&sb, note, sizeof(note));
	if (!S_ISREG(sb.st_mode)) {
		snprintf(found, foundlen, "%s is in its place", file_kind(sb.st_mode));
		return CHECK_ALTERED;
	}
	if (o->size >= 0 && sb.st_size != o->size) {
		snprintf(found, foundlen, "it is %lld bytes long, the entry says %lld%s",
			 (long long)sb.st_size, (long long)o->size, note);
		return CHECK_ALTERED;
	}
	/* Drop what the cache holds, so that the bytes compared are the disk's. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (!EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)) {
		ERR_clear_error();
		snprintf(found, foundlen, "libcrypto could not start SHA-256");
		return CHECK_RETRY;
	}
	for (;;) {
		ssize_t n = pread(fd, s->buf, chunk_size(s), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(found, foundlen, "it cannot be read at byte %" PRIu64 ": %s%s",
				 off, strerror(errno), note);
			return CHECK_ALTERED;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(s->md, s->buf, (size_t)n)) {
			ERR_clear_error();
			snprintf(found, foundlen, "libcrypto failed while hashing");
			return CHECK_RETRY;
		}
		posix_fadvise(fd, (off_t)off, n, POSIX_FADV_DONTNEED);
		off += (uint64_t)n;
		*ret_bytes = off;
		if (throttle(s, (uint64_t)n))
			return CHECK_STOPPED;
	}
	if (!EVP_DigestFinal_ex(s->md, digest, NULL)) {
		ERR_clear_error();
		snprintf(found, foundlen, "libcrypto failed to finish SHA-256");
		return CHECK_RETRY;
	}
	if (CRYPTO_memcmp(digest, o->sha256, VFY_HASH_LEN) != 0) {
		char want[2 * VFY_HASH_LEN + 1], got[2 * VFY_HASH_LEN + 1];

		hex_encode(digest, VFY_HASH_LEN, got);
		hex_encode(o->sha256, VFY_HASH_LEN, want);
		snprintf(found, foundlen, "its SHA-256 is %s, the entry says %s%s", got, want,
			 note);
		return CHECK_ALTERED;
	}
	return CHECK_OK;
}

/* ---- a pass ------------------------------------------------------------------------------ */

/* Count the entry s->cur.next as @res (CHECK_OK…, or -1 for an entry without an original,
 * -2 for a purged one) and move on. */
static void advance(struct scrub *s, int res, uint64_t bytes)
{
	uint64_t index = s->cur.next;
	int r = 0;

	pthread_mutex_lock(&s->mtx);
	s->cur.bytes += bytes;
	if (res == -2) {
		s->cur.purged++;
	} else if (res >= 0) {
		s->cur.checked++;
		if (res == CHECK_OK)
			s->cur.ok++;
		else if (res == CHECK_MISSING)
			r = list_add(&s->cur.missing, index);
		else
			r = list_add(&s->cur.altered, index);
	}
	if (r < 0) /* out of memory: counted, not listed */
		(res == CHECK_MISSING ? &s->cur.missing : &s->cur.altered)->unlisted++;
	s->cur.next++;
	pthread_mutex_unlock(&s->mtx);
}

/* Check the entries from cur.next to cur.log_size.  Returns when the pass is done (and saved
 * as such) or when told to stop (progress saved). */
static void run_pass(struct scrub *s)
{
	char found[512], path[PATH_MAX];
	struct err_detail e;
	uint64_t size;
	int r;

	/* A purge of one of this pass's originals may be anywhere after it, so all are
	 * collected first. */
	s->npurges = 0;
	s->purge_scanned = 0;
	while ((r = purge_scan(s, &e)) != 0) {
		if (r < 0)
			log_error(LOG_GRP, "cannot read the log: %s; trying again in %llu s", e.msg,
				  RETRY_US / 1000000);
		if (r > 0 || pause_us(s, RETRY_US)) {
			save(s);
			return;
		}
	}
	while (s->cur.next < s->cur.log_size) {
		uint64_t index = s->cur.next, bytes = 0;
		struct original o;
		enum check res;
		char *text;
		size_t len;

		if (stop_requested(s)) {
			save(s);
			return;
		}
		r = tlog_entry(s->d->log, index, &text, &len, &e);
		if (r < 0) {
			log_error(LOG_GRP,
				  "cannot read entry %" PRIu64 ": %s; trying again in %llu s",
				  index, e.msg, RETRY_US / 1000000);
			if (pause_us(s, RETRY_US)) {
				save(s);
				return;
			}
			continue;
		}
		r = entry_original(text, len, &o, &e);
		free(text);
		if (r <= 0) {
			if (r < 0)
				log_warning(LOG_GRP,
					    "entry %" PRIu64 " cannot be checked: %s, ignoring",
					    index, e.msg);
			advance(s, -1, 0);
			save_soon(s);
			continue;
		}
		if (purged(s, index)) {
			advance(s, -2, 0);
			continue;
		}
		res = check_original(s, &o, found, sizeof(found), &bytes);
		if (res == CHECK_STOPPED) {
			save(s);
			return;
		}
		if (res == CHECK_RETRY) {
			log_warning(LOG_GRP,
				    "entry %" PRIu64 ": cannot check '%s' now: %s; trying "
				    "again in %llu s",
				    index, o.rel, found, RETRY_US / 1000000);
			if (pause_us(s, RETRY_US)) {
				save(s);
				return;
			}
			continue;
		}
		/* Purged while the pass ran?  Then it is not expected any more.  (If the log cannot
		 * be read now, it counts as missing: better a false alarm than a silent loss.) */
		if (res == CHECK_MISSING) {
			r = purge_scan(s, &e);
			if (r > 0) {
				save(s);
				return;
			}
			if (r == 0 && purged(s, index)) {
				advance(s, -2, bytes);
				continue;
			}
		}
		advance(s, (int)res, bytes);
		snprintf(path, sizeof(path), "%s/%s", store_root(s->d->store), o.rel);
		if (res == CHECK_MISSING)
			log_alert(LOG_GRP, "entry %" PRIu64 ": the original '%s' is MISSING: %s",
				  index, path, found);
		else if (res == CHECK_ALTERED)
			log_alert(LOG_GRP, "entry %" PRIu64 ": the original '%s' is ALTERED: %s",
				  index, path, found);
		if (res != CHECK_OK)
			save(s);
		else
			save_soon(s);
	}
	if (tlog_size(s->d->log, &size, &e) < 0)
		size = s->cur.log_size;
	pthread_mutex_lock(&s->mtx);
	s->phase = PHASE_DONE;
	s->cur.finished_us = daemon_now_us();
	s->cur.done_size = size;
	pthread_mutex_unlock(&s->mtx);
	s->done_saved = save(s) == 0;
	s->retry_at_us = 0;
	log_notice(LOG_GRP,
		   "pass finished: %" PRIu64 " originals checked, %" PRIu64 " ok, %zu "
		   "missing, %zu altered, %" PRIu64 " purged skipped, %" PRIu64 " bytes read",
		   s->cur.checked, s->cur.ok, s->cur.missing.n + (size_t)s->cur.missing.unlisted,
		   s->cur.altered.n + (size_t)s->cur.altered.unlisted, s->cur.purged, s->cur.bytes);
}

/* Part @part (0-based) of the `scrub` entries of the finished pass @p (docs/log.md): the
 * pass's counts, and the slice [part * SCRUB_PART_MAX, (part + 1) * SCRUB_PART_MAX) of its
 * missing indexes followed by its altered ones. */
static json_t *pass_entry(const struct pass *p, uint64_t part)
{
	size_t from = (size_t)part * SCRUB_PART_MAX, to = from + SCRUB_PART_MAX;
	size_t nm = p->missing.n;
	json_t *e = json_pack(
	    "{s:i, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "v", 1, "type",
	    "scrub", "started_at", time_json(p->started_us), "at", time_json(p->finished_us),
	    "log_size", (json_int_t)p->log_size, "checked", (json_int_t)p->checked, "ok",
	    (json_int_t)p->ok, "purged", (json_int_t)p->purged, "bytes", (json_int_t)p->bytes,
	    "part", (json_int_t)(part + 1), "parts", (json_int_t)pass_parts(p), "missing",
	    list_json_range(&p->missing, from, to), "altered",
	    list_json_range(&p->altered, from > nm ? from - nm : 0, to > nm ? to - nm : 0));

	if (e && p->missing.unlisted)
		json_object_set_new(e, "missing_unlisted",
				    json_integer((json_int_t)p->missing.unlisted));
	if (e && p->altered.unlisted)
		json_object_set_new(e, "altered_unlisted",
				    json_integer((json_int_t)p->altered.unlisted));
	return e;
}

/* The finished pass is logged, its first part as the entry @index: it becomes the last pass.
 * mtx held. */
static void pass_logged(struct scrub *s, uint64_t index)
{
	pass_done(&s->last);
	s->last = s->cur;
	s->last.entry = index;
	s->have_last = true;
	s->cur = (struct pass){ 0 };
	s->phase = PHASE_IDLE;
}

/* After a restart in PHASE_DONE: which of its parts were committed before the daemon stopped?
 * They can only be among the entries appended since the pass finished, in order.  An entry
 * without "part" is of a version that logged a pass as one entry: the whole pass.  Scrub
 * thread. */
static void find_logged(struct scrub *s)
{
	char started[ING_RFC3339_MAX];
	struct err_detail e;
	uint64_t size, parts = pass_parts(&s->cur), found = s->cur.parts_logged,
		       first = s->cur.entry;

	if (tlog_size(s->d->log, &size, &e) < 0)
		return; /* then the parts not known committed are appended (again) */
	format_time(s->cur.started_us, started);
	for (uint64_t i = s->cur.done_size; i < size && found < parts; i++) {
		auto_free char *bytes = NULL;
		json_auto_t *o = NULL;
		const json_t *part;
		size_t len;

		if (tlog_entry(s->d->log, i, &bytes, &len, &e) < 0)
			return;
		if (!may_be(bytes, len, "scrub"))
			continue;
		o = json_loadb(bytes, len, 0, NULL);
		if (!type_is(o, "scrub") ||
		    strcmp(json_string_value(json_object_get(o, "started_at")) ?: "", started))
			continue;
		part = json_object_get(o, "part");
		if (!part) {
			first = i;
			found = parts;
			break;
		}
		if (!json_is_integer(part) || json_integer_value(part) < 1 ||
		    (uint64_t)json_integer_value(part) != found + 1)
			continue; /* not the next part: already counted */
		if (found == 0)
			first = i;
		found++;
	}
	if (found == s->cur.parts_logged)
		return;
	pthread_mutex_lock(&s->mtx);
	s->cur.entry = first;
	s->cur.parts_logged = found;
	if (found >= parts) {
		log_notice(LOG_GRP,
			   "the pass started at %s was logged from entry %" PRIu64
			   " before the restart",
			   started, first);
		pass_logged(s, first);
	} else {
		log_notice(LOG_GRP,
			   "%" PRIu64 " of the %" PRIu64 " parts of the pass started at %s were "
			   "logged before the restart; logging the rest",
			   found, parts, started);
	}
	pthread_mutex_unlock(&s->mtx);
	save(s);
}

/* When the next pass is due (µs since the epoch), UINT64_MAX when only on request.  mtx held. */
static uint64_t next_due(const struct scrub *s)
{
	uint64_t from = s->have_last ? s->last.started_us : s->epoch_us;

	if (!s->interval_ms)
		return UINT64_MAX;
	return from + s->interval_ms * 1000;
}

static void *scrub_main(void *arg)
{
	struct scrub *s = arg;

	if (s->fresh)
		save(s);
	s->done_saved = true; /* a PHASE_DONE read from the file is on disk */
	if (s->phase == PHASE_DONE)
		find_logged(s);
	pthread_mutex_lock(&s->mtx);
	while (!s->stop) {
		uint64_t now = daemon_now_us(), due;

		if (s->appended) {
			s->appended = false;
			s->posting = false;
			if (s->append_status < 0) {
				s->retry_at_us = now + RETRY_US;
				continue;
			}
			if (s->cur.parts_logged++ == 0)
				s->cur.entry = s->append_index;
			if (s->cur.parts_logged >= pass_parts(&s->cur))
				pass_logged(s, s->cur.entry);
			pthread_mutex_unlock(&s->mtx);
			save(s);
			pthread_mutex_lock(&s->mtx);
			continue;
		}
		if (s->phase == PHASE_RUNNING) {
			pthread_mutex_unlock(&s->mtx);
			run_pass(s);
			pthread_mutex_lock(&s->mtx);
			continue;
		}
		if (s->phase == PHASE_DONE) {
			/* Its entry is handed out only once the file says it is done, so that a
			 * restart cannot start it over and log it twice. */
			if (!s->done_saved && now >= s->retry_at_us) {
				pthread_mutex_unlock(&s->mtx);
				s->done_saved = save(s) == 0;
				pthread_mutex_lock(&s->mtx);
				if (!s->done_saved)
					s->retry_at_us = now + RETRY_US;
				continue;
			}
			if (s->done_saved && !s->posting && now >= s->retry_at_us) {
				s->post = pass_entry(&s->cur, s->cur.parts_logged);
				if (s->post) {
					s->posting = true;
					uv_async_send(&s->async);
				} else {
					s->retry_at_us = now + RETRY_US;
				}
				continue;
			}
			wait_us(s, s->posting ? WAIT_MAX_US : s->retry_at_us - now);
			continue;
		}
		due = next_due(s);
		if (s->want_start || now >= due) {
			uint64_t size, rate;
			struct err_detail e;
			char by[sizeof(s->want_by)];

			snprintf(by, sizeof(by), "%s", s->want_start ? s->want_by : "the schedule");
			pthread_mutex_unlock(&s->mtx);
			if (tlog_size(s->d->log, &size, &e) < 0) {
				log_error(LOG_GRP,
					  "cannot start a pass: %s; trying again in %llu s", e.msg,
					  RETRY_US / 1000000);
				pthread_mutex_lock(&s->mtx);
				wait_us(s, RETRY_US);
				continue;
			}
			pthread_mutex_lock(&s->mtx);
			s->want_start = false;
			s->cur = (struct pass){ .started_us = now, .log_size = size };
			s->phase = PHASE_RUNNING;
			rate = s->rate;
			pthread_mutex_unlock(&s->mtx);
			log_notice(LOG_GRP,
				   "pass started by %s: the originals of the %" PRIu64
				   " entries in the log, at most %" PRIu64 " bytes/s",
				   by, size, rate);
			save(s);
			pthread_mutex_lock(&s->mtx);
			continue;
		}
		wait_us(s, due == UINT64_MAX ? WAIT_MAX_US : due - now);
	}
	s->exited = true;
	pthread_mutex_unlock(&s->mtx);
	uv_async_send(&s->async);
	return NULL;
}

/* ---- the loop's half --------------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
	struct scrub *s = h->data;

	if (s->done)
		s->done(s->done_opaque);
}

static void finish_stop(struct scrub *s)
{
	if (s->closing)
		return;
	s->closing = true;
	/* The thread has said it exited: this join does not wait. */
	pthread_join(s->thread, NULL);
	uv_close((uv_handle_t *)&s->async, on_closed);
}

static void on_appended(void *opaque, int status, uint64_t index, const struct err_detail *e)
{
	struct scrub *s = opaque;

	(void)e; /* the pipeline logged why */
	if (status == 0)
		log_notice(LOG_GRP, "the pass (or its next part) is logged as entry %" PRIu64,
			   index);
	else
		log_notice(LOG_GRP, "the pass is not logged yet; trying again in %llu s",
			   RETRY_US / 1000000);
	pthread_mutex_lock(&s->mtx);
	s->appended = true;
	s->append_status = status;
	s->append_index = index;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mtx);
}

static void on_async(uv_async_t *h)
{
	struct scrub *s = h->data;
	json_t *post;
	bool exited;

	pthread_mutex_lock(&s->mtx);
	post = s->post;
	s->post = NULL;
	exited = s->exited;
	pthread_mutex_unlock(&s->mtx);
	if (post)
		pipe_append(s->d->pipe, post, on_appended, s);
	if (exited && s->stopping)
		finish_stop(s);
}

int scrub_new(struct daemon *d, struct scrub **ret, struct err_detail *reterr)
{
	struct scrub *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int r;

	if (!s)
		return err_set(reterr, -ENOMEM, "out of memory");
	s->d = d;
	s->interval_ms = d->cfg->scrub_interval_ms;
	s->rate = d->cfg->scrub_rate ? d->cfg->scrub_rate : 1;
	if ((size_t)snprintf(s->state_file, sizeof(s->state_file), "%s/scrub.json",
			     d->cfg->state) >= sizeof(s->state_file)) {
		free(s);
		return err_set(reterr, -ENAMETOOLONG, "[log] state is too long");
	}
	s->md = EVP_MD_CTX_new();
	s->buf = malloc(BUF_MAX);
	if (!s->md || !s->buf) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	r = state_load(s, reterr);
	if (r < 0)
		goto fail;
	if (s->phase == PHASE_RUNNING) {
		char started[ING_RFC3339_MAX];

		format_time(s->cur.started_us, started);
		log_notice(LOG_GRP,
			   "resuming the pass started at %s at entry %" PRIu64 " of %" PRIu64
			   " (%" PRIu64 " originals checked so far)",
			   started, s->cur.next, s->cur.log_size, s->cur.checked);
	}
	pthread_mutex_init(&s->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = uv_async_init(d->loop, &s->async, on_async);
	if (r < 0) {
		err_set(reterr, r, "uv_async_init: %s", uv_strerror(r));
		goto fail_sync;
	}
	s->async.data = s;
	r = pthread_create(&s->thread, NULL, scrub_main, s);
	if (r != 0) {
		/* The handle's memory is s: it stays allocated (leaked) since the daemon exits. */
		uv_close((uv_handle_t *)&s->async, NULL);
		return err_set(reterr, -r, "cannot start the scrub thread: %s", strerror(r));
	}
	*ret = s;
	return 0;
fail_sync:
	pthread_mutex_destroy(&s->mtx);
	pthread_cond_destroy(&s->cond);
fail:
	pass_done(&s->cur);
	pass_done(&s->last);
	EVP_MD_CTX_free(s->md);
	free(s->buf);
	free(s);
	return r;
}

void scrub_reload(struct scrub *s, const struct cfg *cfg)
{
	pthread_mutex_lock(&s->mtx);
	if (s->interval_ms != cfg->scrub_interval_ms && cfg->scrub_interval_ms)
		log_info(LOG_GRP,
			 "reloaded: a pass starts %" PRIu64 " s after the previous one "
			 "started",
			 cfg->scrub_interval_ms / 1000);
	else if (s->interval_ms != cfg->scrub_interval_ms)
		log_info(LOG_GRP, "reloaded: passes only on request (scrub_interval = 0)");
	if (s->rate != cfg->scrub_rate)
		log_info(LOG_GRP, "reloaded: reading at most %" PRIu64 " bytes/s", cfg->scrub_rate);
	s->interval_ms = cfg->scrub_interval_ms;
	s->rate = cfg->scrub_rate ? cfg->scrub_rate : 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mtx);
}

int scrub_start(struct scrub *s, const char *by, struct err_detail *reterr)
{
	char started[ING_RFC3339_MAX];
	int r = 0;

	pthread_mutex_lock(&s->mtx);
	if (s->stop || s->exited) {
		r = err_set(reterr, -ESHUTDOWN, "the scrubber is stopping");
	} else if (s->phase == PHASE_RUNNING) {
		format_time(s->cur.started_us, started);
		r = err_set(reterr, -EALREADY,
			    "a pass is running since %s: at entry %" PRIu64 " of %" PRIu64
			    ", %" PRIu64 " originals checked",
			    started, s->cur.next, s->cur.log_size, s->cur.checked);
	} else if (s->phase == PHASE_DONE) {
		r = err_set(reterr, -EALREADY,
			    "a pass has just finished; its entries are being logged");
	} else if (s->want_start) {
		r = err_set(reterr, -EALREADY, "a pass is running: it was just asked for");
	} else {
		s->want_start = true;
		snprintf(s->want_by, sizeof(s->want_by), "%s", by ? by : "request");
		pthread_cond_signal(&s->cond);
	}
	pthread_mutex_unlock(&s->mtx);
	return r;
}

/* @p for `status`; mtx held. */
static json_t *pass_status(const struct pass *p, bool last)
{
	json_t *o =
	    json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:I}", "started_at",
		      time_json(p->started_us), "log_size", (json_int_t)p->log_size, "next",
		      (json_int_t)p->next, "checked", (json_int_t)p->checked, "ok",
		      (json_int_t)p->ok, "purged", (json_int_t)p->purged, "bytes",
		      (json_int_t)p->bytes, "missing", list_json(&p->missing, STATUS_LIST_MAX),
		      "altered", list_json(&p->altered, STATUS_LIST_MAX), "missing_count",
		      (json_int_t)(p->missing.n + p->missing.unlisted), "altered_count",
		      (json_int_t)(p->altered.n + p->altered.unlisted));

	if (o && last) {
		json_object_set_new(o, "at", time_json(p->finished_us));
		json_object_set_new(o, "entry", json_integer((json_int_t)p->entry));
		json_object_set_new(o, "parts", json_integer((json_int_t)pass_parts(p)));
	}
	return o;
}

/* The union of two increasing lists, the first @max of it into @ret; @return its size (the
 * unlisted counted as distinct). */
static uint64_t list_union(const struct idx_list *a, const struct idx_list *b, size_t max,
			   json_t *ret)
{
	size_t i = 0, j = 0;
	uint64_t n = 0;

	while (i < a->n || j < b->n) {
		uint64_t v;

		if (j >= b->n || (i < a->n && a->v[i] < b->v[j]))
			v = a->v[i++];
		else if (i >= a->n || b->v[j] < a->v[i])
			v = b->v[j++];
		else
			v = (i++, b->v[j++]);
		if (n++ < max)
			json_array_append_new(ret, json_integer((json_int_t)v));
	}
	return n + a->unlisted + b->unlisted;
}

json_t *scrub_status(struct scrub *s)
{
	static const struct idx_list none;
	const struct idx_list *cm = &none, *ca = &none, *lm = &none, *la = &none;
	const char *state;
	json_t *o, *missing = json_array(), *altered = json_array();
	uint64_t due, count;

	pthread_mutex_lock(&s->mtx);
	if (s->exited)
		state = "stopped";
	else if (s->phase == PHASE_RUNNING)
		state = "running";
	else if (s->phase == PHASE_DONE)
		state = "finishing";
	else
		state = s->want_start ? "starting" : "idle";
	due = s->phase == PHASE_IDLE && !s->want_start ? next_due(s) : UINT64_MAX;
	if (s->phase != PHASE_IDLE) {
		cm = &s->cur.missing;
		ca = &s->cur.altered;
	}
	if (s->have_last) {
		lm = &s->last.missing;
		la = &s->last.altered;
	}
	count = missing && altered ? list_union(lm, cm, STATUS_LIST_MAX, missing) +
					 list_union(la, ca, STATUS_LIST_MAX, altered)
				   : 0;
	o = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:{s:o, s:o, s:I}}", "state", state,
		      "interval_s", (json_int_t)(s->interval_ms / 1000), "rate",
		      (json_int_t)s->rate, "next_at",
		      due == UINT64_MAX ? json_null() : time_json(due), "pass",
		      s->phase != PHASE_IDLE ? pass_status(&s->cur, false) : json_null(), "last",
		      s->have_last ? pass_status(&s->last, true) : json_null(), "alarms", "missing",
		      missing, "altered", altered, "count", (json_int_t)count);
	pthread_mutex_unlock(&s->mtx);
	return o;
}

void scrub_stop(struct scrub *s, void (*done)(void *opaque), void *opaque)
{
	bool exited;

	s->stopping = true;
	s->done = done;
	s->done_opaque = opaque;
	pthread_mutex_lock(&s->mtx);
	s->stop = true;
	pthread_cond_signal(&s->cond);
	exited = s->exited;
	pthread_mutex_unlock(&s->mtx);
	if (exited)
		finish_stop(s);
}

struct scrub *scrub_free(struct scrub *s)
{
	if (!s)
		return NULL;
	json_decref(s->post);
	pass_done(&s->cur);
	pass_done(&s->last);
	free(s->purges);
	EVP_MD_CTX_free(s->md);
	free(s->buf);
	pthread_mutex_destroy(&s->mtx);
	pthread_cond_destroy(&s->cond);
	free(s);
	return NULL;
}

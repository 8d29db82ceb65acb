/* daemon/server/read.c: the server's read operations (status, entry, proof, consistency,
 * checkpoint, log: docs/protocol.md).  Loop thread only.
 *
 * Each read is one or a few short LMDB read transactions, except `log`, which may look at up
 * to SRV_SCAN_MAX entries: it scans newest first in slices of SRV_SLICE_NS (the first slice
 * runs at once, so a small log is answered without a loop turn; the rest from server.c's
 * background handle).  Entries are filtered on their bytes before they are parsed: a canonical
 * entry holds a top-level string field as the literal `"key":"value"` when the value needs no
 * escaping, so a missing literal rules the entry out; the parsed entry decides. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "conf/conf.h"
#include "daemon/daemon.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "base/hex.h"
#include "verify/hash.h"
#include "daemon/pipeline.h"
#include "daemon/scrub.h"
#include "daemon/server/internal.h"
#include "verify/tlog.h"
#include "daemon/watch.h"
#include "daemon/witness.h"

/* A `log` with a time bound stops after SINCE_STOP_RUN consecutive entries more than
 * SINCE_SLACK_US older than `since`: entries are appended roughly in time order, but not
 * strictly (a commit batch; an original stored before a crash is logged after the restart
 * with the time it was stored), so one old entry proves nothing. */
#define SINCE_SLACK_US (10LL * 60 * 1000000)
#define SINCE_STOP_RUN 1000

/* A string for a reply, whatever bytes it came from (config values, libav messages). */
static json_t *jstr(const char *s)
{
	json_t *v;
	char *copy;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80 || *p < 0x20)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

/* Times the daemon keeps as uint64_t µs, 0 when there is none yet. */
static json_t *jtime(uint64_t us)
{
	return srv__jtime(us ? (int64_t)us : INT64_MIN);
}

/* ---- status ------------------------------------------------------------------------------ */

int srv__op_status(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	struct daemon *d = s->d;
	const struct cfg *cfg = d->cfg;
	uint64_t size, cp_size = 0, late, unknown, damaged;
	char *note = NULL;
	json_t *body, *zones, *cp;
	int r;

	(void)req;
	srv__index_catch_up(s);
	r = tlog_size(d->log, &size, reterr);
	if (r < 0)
		return r;
	r = tlog_checkpoint_get(d->log, TLOG_NEWEST, &note, NULL, &cp_size, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	cp =
	    note ? json_pack("{s:I, s:s}", "size", (json_int_t)cp_size, "note", note) : json_null();
	free(note);
	zones = json_array();
	for (size_t i = 0; zones && i < cfg->nzones; i++)
		json_array_append_new(
		    zones,
		    json_pack("{s:o, s:o, s:s, s:o}", "name", jstr(cfg->zones[i].name), "path",
			      jstr(cfg->zones[i].path), "kind",
			      cfg->zones[i].kind == CFG_ZONE_DOCK ? "dock" : "upload", "waiting",
			      d->watch ? json_integer((json_int_t)watch_waiting(d->watch, i))
				       : json_null()));
	srv__index_open(&s->idx, (int64_t)cfg->storage_deadline_ms * 1000, &late, &unknown,
			&damaged);
	body = json_pack("{s:I, s:o, s:o, s:I, s:o, s:b,"
			 " s:{s:I, s:b, s:I, s:I},"
			 " s:{s:I, s:I, s:I, s:s},"
			 " s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}}",
			 "size", (json_int_t)size, "checkpoint", cp, "zones", zones, "uptime_s",
			 (json_int_t)((uv_hrtime() - s->started_ns) / 1000000000), "started_at",
			 jtime(d->started_us), "stopping", d->stopping, "index", "scanned",
			 (json_int_t)s->idx.scanned, "caught_up", s->idx.caught_up, "annotations",
			 (json_int_t)s->idx.nnotes, "originals", (json_int_t)s->idx.ingests, "open",
			 "late", (json_int_t)late, "unknown_time", (json_int_t)unknown,
			 "damaged_unreported", (json_int_t)damaged, "note",
			 "stored late or with no trustworthy time and not explained by a "
			 "late_storage annotation; damaged without a damage_report (continuity "
			 "gaps: custodyctl review)",
			 "server", "clients", (json_int_t)s->nclients, "users",
			 (json_int_t)s->nusers, "requests", (json_int_t)s->requests, "errors",
			 (json_int_t)s->errors, "refusals", (json_int_t)s->refusals,
			 "refusals_unrecorded", (json_int_t)s->refusals_unrecorded, "busy_rejects",
			 (json_int_t)s->busy_rejects, "accepted", (json_int_t)s->accepted,
			 "last_error", s->last_error[0] ? jstr(s->last_error) : json_null(),
			 "last_error_at", jtime(s->last_error_us));
	if (body && d->pipe) {
		struct pipe_stats ps = { 0 };

		pipe_stats(d->pipe, &ps);
		json_object_set_new(
		    body, "pipeline",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:b}", "queued",
			      (json_int_t)ps.queued, "in_flight", (json_int_t)ps.in_flight,
			      "ingested", (json_int_t)ps.ingested, "duplicates",
			      (json_int_t)ps.duplicates, "damaged", (json_int_t)ps.damaged,
			      "failed", (json_int_t)ps.failed, "checkpoint_size",
			      (json_int_t)ps.checkpoint_size, "last_error",
			      ps.last_error[0] ? jstr(ps.last_error) : json_null(), "last_error_at",
			      jtime(ps.last_error_us), "store_full", ps.store_full != 0));
	}
	if (body && d->scrub)
		json_object_set_new(body, "scrub", scrub_status(d->scrub));
	if (body && d->wit)
		json_object_set_new(body, "witnessing", wit_status(d->wit));
	if (!body)
		return err_set(reterr, -ENOMEM, "out of memory for the status");
	srv__reply(c, body);
	return 0;
}

/* ---- scrub ------------------------------------------------------------------------------- */

/* ---- entry ------------------------------------------------------------------------------- */

static json_t *one_index(uint64_t index)
{
	return json_pack("{s:[I]}", "entries", (json_int_t)index);
}

int srv__op_entry(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct tlog *log = c->s->d->log;
	struct srv_text tail = { 0 };
	uint64_t index, size;
	char *bytes;
	size_t len;
	int r;

	r = srv__req_index(req, "index", true, &index, reterr);
	if (r < 0)
		return r;
	r = tlog_entry(log, index, &bytes, &len, reterr);
	if (r == -ENOENT && tlog_size(log, &size, NULL) == 0)
		err_set(reterr, -ENOENT,
			"there is no entry %" PRIu64 ": the log holds %" PRIu64
			" entries (0 to %" PRIu64 ")",
			index, size, size ? size - 1 : 0);
	srv__access(c, "entry", json_integer((json_int_t)index), r == 0 ? one_index(index) : NULL,
		    true);
	if (r < 0)
		return r;
	srv__text_add(&tail, ",\"entry\":", 9);
	srv__text_add(&tail, bytes, len);
	free(bytes);
	srv__reply_tail(c, json_pack("{s:I}", "index", (json_int_t)index), &tail);
	srv__text_done(&tail);
	return 0;
}

/* ---- proof ------------------------------------------------------------------------------- */

/* Does the stored checkpoint of @size have the witnesses' quorum (true when none is needed)? */
static bool checkpoint_witnessed(struct server *s, uint64_t size)
{
	char *note;
	size_t len;
	bool ok;

	if (wit_served(s->d->wit) == TLOG_NEWEST)
		return true;
	if (tlog_checkpoint_get(s->d->log, size, &note, &len, NULL, NULL) < 0)
		return false;
	ok = wit_has_quorum(s->d->wit, note, len);
	free(note);
	return ok;
}

int srv__proof_size(struct server *s, uint64_t index, uint64_t *ret_size, bool *ret_witnessed,
		    struct err_detail *reterr)
{
	struct tlog *log = s->d->log;
	uint64_t log_size, cp_size = 0, served = wit_served(s->d->wit);
	int r;

	r = tlog_size(log, &log_size, reterr);
	if (r < 0)
		return r;
	if (index >= log_size)
		return err_set(reterr, -ENOENT,
			       "there is no entry %" PRIu64 ": the log holds %" PRIu64 " entries",
			       index, log_size);
	if (served != TLOG_NEWEST && index < served) {
		*ret_size = served;
		*ret_witnessed = true;
		return 0;
	}
	r = tlog_checkpoint_get(log, TLOG_NEWEST, NULL, NULL, &cp_size, reterr);
	if (r == -ENOENT)
		return err_set(reterr, -EAGAIN,
			       "no checkpoint has been signed yet; ask "
			       "again after the next one ([log] checkpoint_interval)");
	if (r < 0)
		return r;
	if (index >= cp_size)
		return err_set(reterr, -EAGAIN,
			       "entry %" PRIu64 " is not yet covered by a "
			       "signed checkpoint (the newest covers %" PRIu64 " entries); "
			       "ask again after the next one ([log] checkpoint_interval)",
			       index, cp_size);
	*ret_size = cp_size;
	*ret_witnessed = served == TLOG_NEWEST;
	return 0;
}

/* The proof of @index against the checkpoint of @size, with the error an asker can act on
 * when the entry is not covered yet.  @ret_size gets the size. */
int srv__proof(struct server *s, uint64_t index, uint64_t size, char **ret, uint64_t *ret_size,
	       struct err_detail *reterr)
{
	struct tlog *log = s->d->log;
	bool witnessed;
	size_t len;
	int r;

	if (size == TLOG_NEWEST) {
		r = srv__proof_size(s, index, &size, &witnessed, reterr);
		if (r < 0)
			return r;
	} else if (index >= size) {
		return err_set(reterr, -EINVAL,
			       "entry %" PRIu64 " is not covered by a checkpoint "
			       "of size %" PRIu64,
			       index, size);
	}
	r = tlog_proof_file(log, index, size, ret, &len, reterr);
	if (r == -ERANGE)
		r = -EINVAL, reterr->code = r;
	if (r < 0)
		return r;
	*ret_size = size;
	return 0;
}

int srv__op_proof(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct tlog *log = c->s->d->log;
	const char *sha = NULL;
	uint64_t index, size = TLOG_NEWEST;
	json_t *target;
	char *text = NULL;
	int r;

	r = srv__req_string(req, "sha256", false, 64, &sha, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (!sha) {
		r = srv__req_index(req, "index", true, &index, reterr);
		if (r < 0)
			return err_set(reterr, -EINVAL,
				       "give \"index\" (an entry index) or "
				       "\"sha256\" (of an original file)");
	}
	r = srv__req_index(req, "size", false, &size, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (sha) {
		uint8_t hash[VFY_HASH_LEN];
		struct tlog_hit hit;
		size_t n;

		if (hex_decode(sha, hash, VFY_HASH_LEN) < 0)
			return err_set(reterr, -EINVAL,
				       "\"sha256\" must be 64 lowercase hex digits");
		r = tlog_lookup(log, TLOG_KEY_FILE, hash, &hit, 1, &n, reterr);
		if (r < 0)
			return r;
		if (!n) {
			srv__access(c, "proof", json_sprintf("sha256:%s", sha), NULL, true);
			return err_set(reterr, -ENOENT, "no original with SHA-256 %s was ingested",
				       sha);
		}
		index = hit.index;
		target = json_sprintf("sha256:%s", sha);
	} else {
		target = json_integer((json_int_t)index);
	}
	r = srv__proof(c->s, index, size, &text, &size, reterr);
	srv__access(c, "proof", target, r == 0 ? one_index(index) : NULL, true);
	if (r < 0)
		return r;
	srv__reply(c, json_pack("{s:I, s:I, s:s, s:b}", "index", (json_int_t)index, "size",
				(json_int_t)size, "proof", text, "witnessed",
				checkpoint_witnessed(c->s, size)));
	free(text);
	return 0;
}

/* ---- consistency, checkpoint ------------------------------------------------------------- */

/* The checkpoint served when none is asked for: the newest with the witnesses' quorum, or
 * without a quorum the newest signed. */
static int served_size(struct server *s, uint64_t *ret, struct err_detail *reterr)
{
	uint64_t served = wit_served(s->d->wit);
	int r;

	if (served == 0)
		return err_set(reterr, -ENOENT,
			       "no checkpoint has its witnesses' cosignatures yet ([log] "
			       "witness_quorum); ask with a size for one without them");
	if (served != TLOG_NEWEST) {
		*ret = served;
		return 0;
	}
	r = tlog_checkpoint_get(s->d->log, TLOG_NEWEST, NULL, NULL, ret, reterr);
	if (r == -ENOENT)
		return err_set(reterr, -ENOENT, "no checkpoint has been signed yet");
	return r;
}

int srv__op_consistency(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct tlog *log = c->s->d->log;
	uint64_t old, new = TLOG_NEWEST;
	char *text;
	size_t len;
	int r;

	r = srv__req_index(req, "old", true, &old, reterr);
	if (r < 0)
		return r;
	r = srv__req_index(req, "new", false, &new, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (new == TLOG_NEWEST) {
		r = served_size(c->s, &new, reterr);
		if (r < 0)
			return r;
	}
	if (old == 0 || old > new)
		return err_set(reterr, -EINVAL,
			       "a consistency proof needs 0 < old <= new (got %" PRIu64
			       " and %" PRIu64 ")",
			       old, new);
	r = tlog_consistency_file(log, old, new, &text, &len, reterr);
	if (r == -ERANGE)
		r = -EINVAL, reterr->code = r;
	if (r < 0)
		return r;
	srv__reply(c, json_pack("{s:I, s:I, s:s}", "old", (json_int_t)old, "new", (json_int_t) new,
				"consistency", text));
	free(text);
	return 0;
}

int srv__op_checkpoint(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	uint64_t size = TLOG_NEWEST;
	char *note;
	int r;

	r = srv__req_index(req, "size", false, &size, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	if (size == TLOG_NEWEST) {
		r = served_size(c->s, &size, reterr);
		if (r < 0)
			return r;
	}
	r = tlog_checkpoint_get(c->s->d->log, size, &note, NULL, &size, reterr);
	if (r < 0)
		return r;
	srv__reply(c, json_pack("{s:I, s:s}", "size", (json_int_t)size, "checkpoint", note));
	free(note);
	return 0;
}

/* ---- log --------------------------------------------------------------------------------- */

static const char *const log_filters[] = { "zone", "device", "officer", "type" };
#define NFILTERS (sizeof(log_filters) / sizeof(log_filters[0]))

struct srv_scan {
	uint64_t pos; /* the next entry looked at is pos - 1 */
	uint64_t low; /* the scan ends at this index (inclusive) */
	uint64_t scanned;
	size_t limit;
	bool has_since; /* a time bound */
	int64_t since_us;
	unsigned older;		     /* consecutive entries older than since − SINCE_SLACK_US */
	const char *value[NFILTERS]; /* in @req, NULL when not filtered on */
	char *needle[NFILTERS];	     /* `"key":"value"`, NULL when the value needs escaping */
	json_t *req;	     /* the request (a reference), for the filters and the access record */
	struct srv_text out; /* `{"index":N,"entry":…}` items, the entries' bytes spliced */
	size_t nout;
	json_t *revealed; /* indexes of the ingest/damaged entries returned */
	size_t out_bytes;
};

void srv__scan_free(struct srv_scan *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < NFILTERS; i++)
		free(sc->needle[i]);
	json_decref(sc->req);
	srv__text_done(&sc->out);
	json_decref(sc->revealed);
	free(sc);
}

static bool needs_escape(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p == '"' || *p == '\\' || *p < 0x20)
			return true;
	return false;
}

static int64_t entry_time(const json_t *o)
{
	const json_t *t = json_object_get(o, "ingested_at");
	int64_t us;

	if (!t)
		t = json_object_get(o, "at");
	if (!json_is_string(t) || srv__parse_time(json_string_value(t), &us) < 0)
		return INT64_MIN;
	return us;
}

/* The filter's target: the request's filters, each checked by srv__op_log().  Nothing else the
 * client put beside them goes into the log: a real would make the access record an entry the
 * log refuses (integers only), and a megabyte of padding one over VFY_ENTRY_MAX, and either
 * way the read would go unrecorded. */
static json_t *log_target(const json_t *req)
{
	static const char *const keys[] = { "since",  "before",	 "limit", "zone",
					    "device", "officer", "type" };
	json_t *t = json_object();

	for (size_t i = 0; t && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(req, keys[i]);

		if (v && json_object_set(t, keys[i], v) < 0)
			t = (json_decref(t), NULL);
	}
	return t;
}

static void scan_finish(struct srv_client *c)
{
	struct srv_scan *sc = c->scan;
	bool truncated = sc->pos > sc->low;
	struct srv_text tail = { 0 };
	json_t *body;

	body = json_pack("{s:I, s:b}", "scanned", (json_int_t)sc->scanned, "truncated", truncated);
	if (body && truncated)
		json_object_set_new(body, "next_before", json_integer((json_int_t)sc->pos));
	srv__text_add(&tail, ",\"entries\":[", 12);
	if (sc->out.len)
		srv__text_add(&tail, sc->out.p, sc->out.len);
	srv__text_add(&tail, "]", 1);
	tail.failed = tail.failed || sc->out.failed;
	srv__access(c, "log", log_target(sc->req), json_pack("{s:O}", "entries", sc->revealed),
		    true);
	c->scan = NULL;
	srv__scan_free(sc);
	srv__reply_tail(c, body, &tail);
	srv__text_done(&tail);
}

/* Scan until done or @deadline_ns.  @return true while more remains. */
static bool scan_run(struct srv_client *c, uint64_t deadline_ns)
{
	struct srv_scan *sc = c->scan;
	struct tlog *log = c->s->d->log;
	unsigned n = 0;

	while (sc->pos > sc->low && sc->scanned < SRV_SCAN_MAX && sc->nout < sc->limit &&
	       sc->out_bytes < SRV_LOG_REPLY_MAX) {
		uint64_t index = sc->pos - 1;
		struct err_detail e;
		bool match = true;
		char *bytes;
		size_t len;
		json_t *o;
		int64_t t;
		int r;

		if ((++n & 31) == 0 && uv_hrtime() >= deadline_ns)
			return true;
		r = tlog_entry(log, index, &bytes, &len, &e);
		if (r < 0) {
			c->scan = NULL;
			srv__scan_free(sc);
			srv__reply_error(c, r, &e);
			return false;
		}
		sc->pos--;
		sc->scanned++;
		for (size_t i = 0; i < NFILTERS && match; i++)
			if (sc->needle[i] &&
			    !memmem(bytes, len, sc->needle[i], strlen(sc->needle[i])))
				match = false;
		if (!match && !sc->has_since) {
			free(bytes);
			continue;
		}
		o = srv__entry_json(bytes, len);
		if (!o) {
			free(bytes);
			continue;
		}
		t = entry_time(o);
		if (sc->has_since && t != INT64_MIN && t < sc->since_us) {
			match = false;
			if (t >= sc->since_us - SINCE_SLACK_US)
				sc->older = 0;
			else if (++sc->older >= SINCE_STOP_RUN)
				sc->low = sc->pos; /* older from here on: stop */
		} else if (t != INT64_MIN) {
			sc->older = 0;
		}
		for (size_t i = 0; i < NFILTERS && match; i++) {
			const char *v;

			if (!sc->value[i])
				continue;
			v = json_string_value(json_object_get(o, log_filters[i]));
			match = v && !strcmp(v, sc->value[i]);
		}
		if (match) {
			const char *type = json_string_value(json_object_get(o, "type"));

			sc->out_bytes += len;
			if (type && (!strcmp(type, "ingest") || !strcmp(type, "damaged")))
				json_array_append_new(sc->revealed,
						      json_integer((json_int_t)index));
			srv__text_addf(&sc->out,
				       "%s{\"index\":%" PRIu64 ",\"entry\":", sc->nout ? "," : "",
				       index);
			srv__text_add(&sc->out, bytes, len);
			srv__text_add(&sc->out, "}", 1);
			sc->nout++;
		}
		json_decref(o);
		free(bytes);
	}
	scan_finish(c);
	return false;
}

bool srv__scan_step(struct srv_client *c, uint64_t deadline_ns)
{
	if (scan_run(c, deadline_ns))
		return true;
	srv__release(c);
	return false;
}

int srv__op_log(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct srv_scan *sc;
	const json_t *since = json_object_get(req, "since");
	const json_t *limit = json_object_get(req, "limit");
	uint64_t size, before = TLOG_NEWEST;
	int r;

	r = tlog_size(c->s->d->log, &size, reterr);
	if (r < 0)
		return r;
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return err_set(reterr, -ENOMEM, "out of memory");
	sc->limit = SRV_LOG_LIMIT;
	sc->req = json_incref(req);
	sc->revealed = json_array();
	r = srv__req_index(req, "before", false, &before, reterr);
	if (r < 0 && r != -ENOENT)
		goto fail;
	sc->pos = before < size ? before : size;
	if (json_is_integer(since) && json_integer_value(since) >= 0) {
		sc->low = (uint64_t)json_integer_value(since);
	} else if (json_is_string(since) && json_string_length(since) <= 64) {
		const char *s = json_string_value(since);
		char *end;

		if (*s >= '0' && *s <= '9' && (sc->low = strtoull(s, &end, 10), !*end)) {
			/* an index given as a string */
		} else if (srv__parse_time(s, &sc->since_us) == 0) {
			sc->low = 0;
			sc->has_since = true;
		} else {
			r = err_set(reterr, -EINVAL,
				    "\"since\" must be an RFC 3339 time with a zone "
				    "(2024-05-01T08:00:00Z) or an entry index");
			goto fail;
		}
	} else if (since && !json_is_null(since)) {
		r = err_set(reterr, -EINVAL,
			    "\"since\" must be an RFC 3339 time with a zone "
			    "(2024-05-01T08:00:00Z) or an entry index");
		goto fail;
	}
	if (limit && !json_is_null(limit)) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > SRV_LOG_LIMIT_MAX) {
			r = err_set(reterr, -EINVAL, "\"limit\" must be an integer from 1 to %d",
				    SRV_LOG_LIMIT_MAX);
			goto fail;
		}
		sc->limit = (size_t)json_integer_value(limit);
	}
	for (size_t i = 0; i < NFILTERS; i++) {
		const char *v;

		r = srv__req_string(req, log_filters[i], false, 256, &v, reterr);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			goto fail;
		sc->value[i] = v;
		if (!needs_escape(v) &&
		    asprintf(&sc->needle[i], "\"%s\":\"%s\"", log_filters[i], v) < 0) {
			sc->needle[i] = NULL;
			r = err_set(reterr, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (!sc->revealed) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	c->scan = sc;
	srv__hold(c);
	if (scan_run(c, uv_hrtime() + SRV_SLICE_NS))
		srv__bg_kick(c->s);
	else
		srv__release(c);
	return 0;
fail:
	srv__scan_free(sc);
	return r;
}

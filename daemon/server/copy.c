/* daemon/server/copy.c: copying an original out, retention and purge (docs/rules.md).  Loop
 * thread only, except the *_run halves, which run on the libuv pool.
 *
 * DESIGN
 *
 * Copy-out.  Article 23 of the recording rules: viewing or copying footage beyond one's own
 * authority needs a leader's approval.  Operators may copy any original.  Anyone else (any
 * other role: a peer with none never gets here) may copy entry N only under an `approval`
 * annotation that names N in its entries, whose grantee is the peer's login name, whose
 * expiry is still ahead and whose approver (its "by") is someone else.  The grantee is matched
 * exactly, byte for byte, against the user name the daemon resolves from the peer's uid
 * (getpwuid_r(), the "alice" of "alice(uid 1001)" in `by`); a user the daemon knows only by a uid
 * (no name, or one with characters outside [A-Za-z0-9._@$-]) cannot be a grantee.  The approvals
 * are the index's notes, found through its "annotations naming entry N" claims.  Until the index
 * has read the whole log once, non-operators are told to try again (`unavailable`) rather than
 * refused on an incomplete picture.
 *
 * The daemon never sends the bytes through the socket: it opens the original read-only on the
 * pool (the open may block on a slow disk) and passes the descriptor with SCM_RIGHTS beside
 * the JSON reply (srv__reply_fd() in server.c says how that fits libuv).  The client copies it,
 * fsyncs the copy and hashes it against the entry that comes with the reply.  The descriptor
 * is O_RDONLY on a 0440 file: it cannot be used to change the original.
 *
 * Every copy-out that names an entry is an `access` entry with op "copy-out", target the
 * index, "allowed", "result" (copied, refused, not_found, not_an_original, purged, missing,
 * failed, abandoned) and, when allowed, "authority" (operator or approval), "approval" (the
 * approval's index or null) and "entries":[N]; and what the client says of it, when it says:
 * "destination" (where it writes the copy: custodyctl sends host:/absolute/path) and
 * "purpose".  The daemon cannot check either: they are the asker's word, on record.  "copied" is
 * recorded as the descriptor is handed to the client's connection, "abandoned" when the client left
 * before.  Refusals are recorded every time, not rate-limited like the dispatcher's: the peer has a
 * role, and an attempt to copy beyond one's authority is exactly what the rule wants on record.  A
 * refusal is answered `forbidden` (EPERM).
 *
 * One file because copy-out, retention and purge decide who may have an original and whether it
 * must be kept: they share the lookups of the notes that name an entry (note_names(),
 * notes_naming()), and purge applies clip_kept() and open_items() exactly as retention reports
 * them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "conf/conf.h"
#include "daemon/daemon.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/macro.h"
#include "daemon/pipeline.h"
#include "rules/rules.h"
#include "daemon/server/internal.h"
#include "ingest/store.h"
#include "verify/entry.h"
#include "verify/tlog.h"

#define LOG_GRP "socket"

#define NOTES_SCAN_MAX 1024 /* annotations naming one entry looked at for an approval */

/* ---- helpers ----------------------------------------------------------------------------- */

/* The peer's login name: "alice" of "alice(uid 1001)"; "" when the daemon knows only a uid. */
static void peer_login(const struct srv_client *c, char *buf, size_t len)
{
	const char *paren = strstr(c->by, "(uid ");
	size_t n = paren ? (size_t)(paren - c->by) : 0;

	if (n >= len)
		n = 0;
	memcpy(buf, c->by, n);
	buf[n] = '\0';
}

/* Whether an entry's "by" ("alice(uid 1001)") is @login's. */
static bool same_login(const char *by, const char *login)
{
	size_t n = strlen(login);

	return by && n && !strncmp(by, login, n) && !strncmp(by + n, "(uid ", 5);
}

static bool note_names(const struct srv_note *n, uint64_t entry)
{
	for (uint32_t i = 0; i < n->nentries; i++)
		if (n->entries[i] == entry)
			return true;
	return false;
}

/* The annotations of @kind naming @entry, by index, into @ret (up to @max; at most
 * NOTES_SCAN_MAX are looked at).  For approvals only, where one missed refuses a copy-out:
 * decisions that keep a clip use notes_naming_all(), which has no cap.  @return count. */
static size_t notes_naming(const struct srv_index *x, uint64_t entry, uint8_t kind,
			   const struct srv_note **ret, size_t max)
{
	uint64_t cand[NOTES_SCAN_MAX];
	size_t nc =
	    srv__index_claims(x, SRV_CLAIM_NOTE, &entry, sizeof(entry), cand, NOTES_SCAN_MAX);
	size_t n = 0;

	for (size_t i = 0; i < nc && n < max; i++) {
		const struct srv_note *note = srv__index_note(x, cand[i]);

		if (note && note->kind == kind && note_names(note, entry))
			ret[n++] = note;
	}
	return n;
}

/* The log entry @index, parsed; NULL with -ENOENT / a tlog error in *@ret_r. */
static json_t *log_entry(struct tlog *log, uint64_t index, int *ret_r, struct err_detail *e)
{
	char *bytes;
	size_t len;
	json_t *o;

	*ret_r = tlog_entry(log, index, &bytes, &len, e);
	if (*ret_r < 0)
		return NULL;
	o = srv__entry_json(bytes, len);
	free(bytes);
	if (!o)
		*ret_r = err_set(e, -EBADMSG, "entry %" PRIu64 " does not parse", index);
	return o;
}

static bool is_original(const json_t *entry)
{
	const char *type = json_string_value(json_object_get(entry, "type"));

	return type && (!strcmp(type, "ingest") || !strcmp(type, "damaged")) &&
	       json_is_string(json_object_get(entry, "stored")) &&
	       json_is_string(json_object_get(entry, "sha256"));
}

static bool clip_purged(const struct server *s, const struct srv_clip *clip);

/* ---- copy-out: who may ------------------------------------------------------------------- */

/* The newest approval that lets @login copy @index now, into *@ret_approval.  -EPERM with
 * what is missing in @reterr (no approval, expired, for someone else, self-granted). */
static int find_approval(struct srv_client *c, uint64_t index, const char *login,
			 uint64_t *ret_approval, struct err_detail *reterr)
{
	const struct srv_note *notes[NOTES_SCAN_MAX];
	size_t n = notes_naming(&c->s->idx, index, SRV_NOTE_APPROVAL, notes, NOTES_SCAN_MAX);
	int64_t now = (int64_t)daemon_now_us();
	const struct srv_note *expired = NULL, *self = NULL, *found = NULL;
	char at[ING_RFC3339_MAX];

	for (size_t i = 0; i < n && *login; i++) {
		const struct srv_note *a = notes[i];

		if (!a->grantee || strcmp(a->grantee, login))
			continue;
		if (same_login(a->by, login))
			self = a;
		else if (a->expires_us == INT64_MIN || a->expires_us <= now)
			expired = a;
		else if (!found || a->index > found->index)
			found = a; /* the newest, for the record */
	}
	if (found) {
		*ret_approval = found->index;
		return 0;
	}
	if (!*login)
		return err_set(reterr, -EPERM,
			       "%s may not copy entry %" PRIu64 ": only operators may, or a user "
			       "named in an approval, and the daemon knows this user by uid only, "
			       "so no approval can name it",
			       c->by, index);
	if (expired) {
		if (expired->expires_us == INT64_MIN || ing_format_utc(expired->expires_us, at) < 0)
			snprintf(at, sizeof(at), "?");
		return err_set(reterr, -EPERM,
			       "the approval for %s to copy entry %" PRIu64 " (entry %" PRIu64
			       ") expired at %s; ask an approver for a new one",
			       login, index, expired->index, at);
	}
	if (self)
		return err_set(reterr, -EPERM,
			       "approval %" PRIu64 " was granted by %s to themselves: copying "
			       "needs the approval of someone else",
			       self->index, login);
	return err_set(reterr, -EPERM,
		       "%s may not copy entry %" PRIu64 ": that needs the operator role or an "
		       "unexpired approval naming '%s' and entry %" PRIu64 " (custodyctl annotate "
		       "approval --grantee %s --entries %" PRIu64 " …, by an approver)",
		       login, index, login, index, login, index);
}

/* ---- copy-out ---------------------------------------------------------------------------- */

#define COPY_DESTINATION_MAX 4096    /* bytes of "destination" as written in the entry */
#define COPY_PURPOSE_MAX (16 * 1024) /* bytes of "purpose" as written, as annotation texts */

/* What the client says of its copy-out (each NULL when not said). */
struct copy_intent {
	const char *destination;
	const char *purpose;
};

struct copy_ctx {
	uv_work_t work;
	struct srv_client *c;
	struct store *store;
	uint64_t index;
	uint64_t approval;	     /* UINT64_MAX: an operator's own authority */
	char *destination, *purpose; /* struct copy_intent, the request's copied */
	json_t *entry;
	char rel[STORE_REL_MAX];
	/* What the pool found. */
	int fd;
	int r;
	uint64_t size;
	struct err_detail e;
};

static void copy_access(struct srv_client *c, uint64_t index, bool allowed, uint64_t approval,
			const char *result, const char *sha256, const struct copy_intent *why)
{
	json_t *extra = json_pack("{s:s}", "result", result);

	if (extra && why->destination)
		json_object_set_new(extra, "destination", json_string(why->destination));
	if (extra && why->purpose)
		json_object_set_new(extra, "purpose", json_string(why->purpose));

	if (extra && allowed) {
		json_object_set_new(extra, "authority",
				    json_string(approval == UINT64_MAX ? "operator" : "approval"));
		json_object_set_new(extra, "approval",
				    approval == UINT64_MAX ? json_null()
							   : json_integer((json_int_t)approval));
		json_object_set_new(extra, "entries", json_pack("[I]", (json_int_t)index));
	}
	if (extra && sha256)
		json_object_set_new(extra, "sha256", json_string(sha256));
	srv__access(c, "copy-out", json_integer((json_int_t)index), extra, allowed);
}

static void copy_run(uv_work_t *w)
{
	struct copy_ctx *ctx = container_of(w, struct copy_ctx, work);
	struct stat st;

	ctx->r = store_open_original(ctx->store, ctx->rel, &ctx->fd, &ctx->e);
	if (ctx->r < 0)
		return;
	if (fstat(ctx->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ctx->r =
		    err_set(&ctx->e, -EIO, "the original '%s' is not a regular file", ctx->rel);
		close(ctx->fd);
		ctx->fd = -1;
		return;
	}
	ctx->size = (uint64_t)st.st_size;
}

static void copy_done(uv_work_t *w, int status)
{
	struct copy_ctx *ctx = container_of(w, struct copy_ctx, work);
	struct srv_client *c = ctx->c;
	const char *sha = json_string_value(json_object_get(ctx->entry, "sha256"));
	const struct copy_intent why = { ctx->destination, ctx->purpose };

	c->s->pending--;
	if (status < 0 && ctx->r == 0)
		ctx->r = err_set(&ctx->e, -ECANCELED, "the copy-out was cancelled");
	if (c->closing) {
		/* Allowed, but nobody is left to take the descriptor: on record all the same. */
		copy_access(c, ctx->index, true, ctx->approval, "abandoned", sha, &why);
		if (ctx->fd >= 0)
			close(ctx->fd);
	} else if (ctx->r < 0) {
		struct err_detail e;

		if (ctx->r == -ENOENT) {
			err_set(
			    &e, -ENOENT,
			    "the original of entry %" PRIu64 " ('%s') is missing from the "
			    "store; it was logged, so this is an alarm: tell the operators (the "
			    "scrubber reports it too)",
			    ctx->index, ctx->rel);
			log_error(LOG_GRP,
				  "copy-out of entry %" PRIu64 ": the original '%s' is missing "
				  "from the store",
				  ctx->index, ctx->rel);
		} else {
			e = ctx->e;
			e.code = ctx->r;
		}
		copy_access(c, ctx->index, true, ctx->approval,
			    ctx->r == -ENOENT ? "missing" : "failed", sha, &why);
		srv__reply_error(c, e.code, &e);
		srv__release(c);
	} else {
		copy_access(c, ctx->index, true, ctx->approval, "copied", sha, &why);
		log_info(LOG_GRP, "%s copies out entry %" PRIu64 " (%s)", c->by, ctx->index,
			 ctx->approval == UINT64_MAX ? "operator" : "under an approval");
		srv__reply_fd(
		    c,
		    json_pack("{s:I, s:O, s:o, s:s, s:I}", "index", (json_int_t)ctx->index, "entry",
			      ctx->entry, "approval",
			      ctx->approval == UINT64_MAX ? json_null()
							  : json_integer((json_int_t)ctx->approval),
			      "authority", ctx->approval == UINT64_MAX ? "operator" : "approval",
			      "size", (json_int_t)ctx->size),
		    ctx->fd); /* releases the client once sent */
	}
	json_decref(ctx->entry);
	free(ctx->destination);
	free(ctx->purpose);
	free(ctx);
	srv__client_unref(c); /* last: may free the client, and with it a closing server */
}

/* An optional text of the request, at most @max bytes as written in the access entry
 * (escapes counted, as annotation texts: docs/protocol.md), into *@ret (NULL when absent). */
static int copy_text(const json_t *req, const char *key, size_t max, const char **ret,
		     struct err_detail *reterr)
{
	size_t written;
	int r;

	*ret = NULL;
	if (json_is_null(json_object_get(req, key)))
		return 0;
	r = srv__req_string(req, key, false, SIZE_MAX, ret, reterr);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	written = vfy_entry_string_size(*ret, strlen(*ret)) - 2;
	if (written > max)
		return err_set(reterr, -E2BIG,
			       "\"%s\" takes %zu bytes in the log entry (a newline or quote counts "
			       "2, another control character 6), more than %zu: shorten it",
			       key, written, max);
	return 0;
}

int srv__op_copy_out(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	uint64_t index, approval = UINT64_MAX;
	const struct srv_clip *clip;
	struct copy_intent why;
	struct copy_ctx *ctx;
	char login[64];
	json_t *entry;
	int r;

	r = srv__req_index(req, "index", true, &index, reterr);
	if (r < 0)
		return r;
	r = copy_text(req, "destination", COPY_DESTINATION_MAX, &why.destination, reterr);
	if (r == 0)
		r = copy_text(req, "purpose", COPY_PURPOSE_MAX, &why.purpose, reterr);
	if (r < 0)
		return r;
	if (s->d->stopping)
		return err_set(reterr, -ESHUTDOWN,
			       "the daemon is stopping; ask again once it is back");
	srv__index_catch_up(s);
	if (!(c->roles & SRV_OPERATOR)) {
		if (!s->idx.caught_up)
			return err_set(
			    reterr, -EAGAIN,
			    "the daemon is still reading the log's approvals (it started "
			    "a moment ago); try again shortly");
		peer_login(c, login, sizeof(login));
		r = find_approval(c, index, login, &approval, reterr);
		if (r == -EPERM)
			copy_access(c, index, false, UINT64_MAX, "refused", NULL, &why);
		if (r < 0)
			return r;
	}
	entry = log_entry(s->d->log, index, &r, reterr);
	if (!entry) {
		uint64_t size = 0;

		if (r != -ENOENT)
			return r;
		tlog_size(s->d->log, &size, NULL);
		copy_access(c, index, true, approval, "not_found", NULL, &why);
		return err_set(reterr, -ENOENT,
			       "there is no entry %" PRIu64 ": the log holds %" PRIu64 " entries",
			       index, size);
	}
	if (!is_original(entry)) {
		json_decref(entry);
		copy_access(c, index, true, approval, "not_an_original", NULL, &why);
		return err_set(reterr, -EINVAL,
			       "entry %" PRIu64 " is not an original's (ingest or damaged) entry: "
			       "there is nothing to copy",
			       index);
	}
	clip = srv__index_clip(&s->idx, index);
	if (clip && clip_purged(s, clip)) {
		copy_access(c, index, true, approval, "purged",
			    json_string_value(json_object_get(entry, "sha256")), &why);
		json_decref(entry);
		return err_set(reterr, -ENOENT,
			       "the original of entry %" PRIu64 " was purged under the retention "
			       "rules (custodyctl log --type purge); the log keeps its entry and "
			       "fingerprint, not its bytes",
			       index);
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		json_decref(entry);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ctx = (struct copy_ctx){ .c = c,
				  .store = s->d->store,
				  .index = index,
				  .approval = approval,
				  .entry = entry,
				  .fd = -1 };
	if ((why.destination && !(ctx->destination = strdup(why.destination))) ||
	    (why.purpose && !(ctx->purpose = strdup(why.purpose)))) {
		free(ctx->destination);
		free(ctx);
		json_decref(entry);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	snprintf(ctx->rel, sizeof(ctx->rel), "%s",
		 json_string_value(json_object_get(entry, "stored")));
	srv__client_ref(c);
	s->pending++;
	srv__hold(c);
	r = uv_queue_work(s->d->loop, &ctx->work, copy_run, copy_done);
	if (r < 0) {
		s->pending--;
		srv__release(c);
		srv__client_unref(c);
		json_decref(entry);
		free(ctx->destination);
		free(ctx->purpose);
		free(ctx);
		return err_set(reterr, -EIO, "cannot queue the copy-out: %s", uv_strerror(r));
	}
	return 0;
}

/* ---- retention --------------------------------------------------------------------------- *
 *
 * A clip's period runs from the later of its recording end and its ingested_at (a clip
 * uploaded long after it was recorded gets its whole period from its upload; one with no
 * recording time counts from its upload) for its zone's `retention`, or [retention] default
 * when the zone sets none or is no longer configured; 0 is forever.  The config in force
 * decides, so a SIGHUP that lengthens a period takes clips off the list at once.  A clip past
 * its period is kept anyway while a `case` annotation binds it (by its entries, or by its
 * device and a span its recording overlaps) or a `hold` names it; neither has an end.  It is
 * kept too while it has an open item (docs/rules.md: stored late or with an unknown or future time
 * and not explained by a late_storage annotation, damaged without a damage_report), as the
 * rules decide it for reviews and reports (rules_clip_status()): purging it would take the
 * record of what went wrong with it.  Computing this is a pass over the index's clips
 * (arithmetic on integers, about 5 ms per million clips); annotations are looked up only for
 * the clips past their period, and every annotation naming one is looked at (no cap: a keep
 * decision must not miss the one case among many approvals). */

#define RETENTION_LIMIT 1000 /* clips listed by default */
#define RETENTION_LIMIT_MAX 10000
#define PURGE_REASON_MAX (16 * 1024) /* bytes of a purge's reason as written in its entry */

struct period {
	uint64_t ms;	    /* 0: forever */
	const char *source; /* "zone" or "default" */
};

/* The period of each zone the index knows by name, from the config in force. */
static struct period clip_period(const struct server *s, const struct srv_clip *clip)
{
	const struct cfg *cfg = s->d->cfg;
	const char *zone = srv__index_str(&s->idx, clip->zone);

	for (size_t i = 0; zone && i < cfg->nzones; i++)
		if (!strcmp(cfg->zones[i].name, zone) && cfg->zones[i].retention_line)
			return (struct period){ cfg->zones[i].retention_ms, "zone" };
	return (struct period){ cfg->retention_default_ms, "default" };
}

/* Where the period starts: the later of the recording end and the upload. */
static int64_t period_base(const struct srv_clip *clip)
{
	if (clip->end_us == INT64_MIN || clip->end_us < clip->ingested_us)
		return clip->ingested_us;
	return clip->end_us;
}

/* Every annotation of @kind naming @entry, malloc()'d into *@ret (NULL when none), their count
 * into *@ret_n.  The claims are followed as far as they go, however many annotations name the
 * entry.  @return 0, -ENOMEM. */
static int notes_naming_all(const struct srv_index *x, uint64_t entry, uint8_t kind,
			    const struct srv_note ***ret, size_t *ret_n)
{
	const struct srv_note **v = NULL;
	uint64_t *cand = NULL;
	size_t max = 64, nc, n = 0;

	for (;;) {
		uint64_t *grown = realloc(cand, max * sizeof(*cand));

		if (!grown) {
			free(cand);
			return -ENOMEM;
		}
		cand = grown;
		nc = srv__index_claims(x, SRV_CLAIM_NOTE, &entry, sizeof(entry), cand, max);
		if (nc < max)
			break;
		max *= 2;
	}
	for (size_t i = 0; i < nc; i++) {
		const struct srv_note *note = srv__index_note(x, cand[i]);

		if (!note || note->kind != kind || !note_names(note, entry))
			continue;
		if (!v && !(v = malloc(nc * sizeof(*v)))) {
			free(cand);
			return -ENOMEM;
		}
		v[n++] = note;
	}
	free(cand);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Whether a case annotation binds @clip: by naming it, or by its device and a time span
 * that the recording overlaps (a clip with no recording time: its ingested_at). */
static bool case_binds(const struct srv_index *x, const struct srv_note *n,
		       const struct srv_clip *clip)
{
	int64_t start, end;

	if (note_names(n, clip->index))
		return true;
	if (!n->device || n->from_us == INT64_MIN || n->to_us == INT64_MIN || !clip->device ||
	    strcmp(n->device, srv__index_str(x, clip->device)))
		return false;
	start = clip->start_us != INT64_MIN ? clip->start_us : clip->ingested_us;
	end = clip->end_us != INT64_MIN ? clip->end_us : start;
	return start <= n->to_us && end >= n->from_us;
}

/* The case annotations that bind clips by device and time (not only by entries), into a
 * malloc()'d array: a request that looks at many clips asks for them once.  NULL with
 * *@ret_n 0 when there are none (or no memory: -ENOMEM in *@ret_r). */
static const struct srv_note **device_cases(const struct srv_index *x, size_t *ret_n, int *ret_r)
{
	const struct srv_note **v = NULL;
	size_t n = 0;

	*ret_r = 0;
	for (size_t i = 0; i < x->nnotes; i++) {
		const struct srv_note *note = &x->notes[i];

		if (note->kind != SRV_NOTE_CASE || !note->device)
			continue;
		if (!(n & (n + 1))) { /* n + 1 is a power of two: double */
			const struct srv_note **w = realloc(v, 2 * (n + 1) * sizeof(*v));

			if (!w) {
				free(v);
				*ret_r = -ENOMEM;
				*ret_n = 0;
				return NULL;
			}
			v = w;
		}
		v[n++] = note;
	}
	*ret_n = n;
	return v;
}

/* What keeps @clip whatever its period: the case and hold annotations, as a JSON list into
 * *@ret (NULL when nothing keeps it), and a sentence for an error into @why (may be NULL).
 * @dev_cases (@ndev) are device_cases().  @return 0, -ENOMEM. */
static int kept_by(const struct server *s, const struct srv_clip *clip,
		   const struct srv_note *const *dev_cases, size_t ndev, json_t **ret, char *why,
		   size_t whylen)
{
	const struct srv_index *x = &s->idx;
	const struct srv_note **holds = NULL, **cases = NULL;
	size_t nholds = 0, ncases = 0;
	json_t *list = NULL;
	int r;

	if (why && whylen)
		why[0] = '\0';
	r = notes_naming_all(x, clip->index, SRV_NOTE_HOLD, &holds, &nholds);
	if (r == 0)
		r = notes_naming_all(x, clip->index, SRV_NOTE_CASE, &cases, &ncases);
	for (size_t i = 0; r == 0 && i < ncases + ndev; i++) {
		const struct srv_note *n = i < ncases ? cases[i] : dev_cases[i - ncases];

		if (!case_binds(x, n, clip))
			continue;
		if (i >= ncases && note_names(n, clip->index))
			continue; /* listed already among the cases naming it */
		if (!list && !(list = json_array())) {
			r = -ENOMEM;
			break;
		}
		json_array_append_new(list,
				      json_pack("{s:s, s:I, s:s?}", "kind", "case", "annotation",
						(json_int_t)n->index, "case", n->case_id));
		if (why && !why[0])
			snprintf(why, whylen, "it is bound to case '%s' (annotation %" PRIu64 ")",
				 n->case_id ? n->case_id : "?", n->index);
	}
	for (size_t i = 0; r == 0 && i < nholds; i++) {
		if (!list && !(list = json_array())) {
			r = -ENOMEM;
			break;
		}
		json_array_append_new(list,
				      json_pack("{s:s, s:I, s:s?, s:s?}", "kind", "hold",
						"annotation", (json_int_t)holds[i]->index, "reason",
						holds[i]->reason, "by", holds[i]->by));
		if (why && !why[0])
			snprintf(why, whylen, "it is on hold (annotation %" PRIu64 " by %s)",
				 holds[i]->index, holds[i]->by ? holds[i]->by : "?");
	}
	free(holds);
	free(cases);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*ret = list;
	return 0;
}

/* Whether @clip is kept whatever its period (1) or not (0), with why into @why; -ENOMEM. */
static int clip_kept(const struct server *s, const struct srv_clip *clip, char *why, size_t whylen)
{
	const struct srv_note **dev;
	json_t *list = NULL;
	size_t ndev;
	int r;

	dev = device_cases(&s->idx, &ndev, &r);
	if (r == 0)
		r = kept_by(s, clip, dev, ndev, &list, why, whylen);
	free(dev);
	if (r < 0)
		return r;
	json_decref(list);
	return list != NULL;
}

/* The annotations the open items depend on (late_storage, damage_report, remote_duty) as a
 * rules book, made once per request and only when a clip past its period could have one.
 * The notes point into the index's, which outlive the request. */
struct open_book {
	struct rules_note *notes;
	struct rules_book *book;
};

static int open_book_get(const struct server *s, struct open_book *ob)
{
	const struct srv_index *x = &s->idx;
	struct rules_params params = {
		.storage_deadline_us = (int64_t)s->d->cfg->storage_deadline_ms * 1000,
		.split_tolerance_us = (int64_t)s->d->cfg->split_tolerance_ms * 1000,
	};
	size_t n = 0;

	if (ob->book)
		return 0;
	ob->notes = malloc((x->nnotes ? x->nnotes : 1) * sizeof(*ob->notes));
	if (!ob->notes)
		return -ENOMEM;
	for (size_t i = 0; i < x->nnotes; i++) {
		const struct srv_note *note = &x->notes[i];

		if (note->kind != SRV_NOTE_LATE_STORAGE && note->kind != SRV_NOTE_DAMAGE_REPORT &&
		    note->kind != SRV_NOTE_REMOTE_DUTY)
			continue;
		ob->notes[n++] = (struct rules_note){
			.index = note->index,
			.kind = note->kind,
			.entries = note->entries,
			.nentries = note->nentries,
			.device = note->device,
			.officer = note->officer,
			.reason = note->reason,
			.by = note->by,
			.from_us = note->from_us,
			.to_us = note->to_us,
			.returned_us = note->returned_us,
			.at_us = note->at_us,
		};
	}
	if (rules_book_new(&params, ob->notes, n, &ob->book) < 0) {
		free(ob->notes);
		ob->notes = NULL;
		ob->book = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void open_book_done(struct open_book *ob)
{
	rules_book_free(ob->book);
	free(ob->notes);
	*ob = (struct open_book){ 0 };
}

/* The open items of @clip (docs/rules.md, as review and report --open see them) as a JSON list into
 * *@ret (NULL when none; each {"kind":"open","item","close_with"}), and a sentence into @why
 * (may be NULL).  @return 0, -ENOMEM. */
static int open_items(const struct server *s, const struct srv_clip *clip, struct open_book *ob,
		      json_t **ret, char *why, size_t whylen)
{
	const struct srv_index *x = &s->idx;
	struct rules_status st;
	struct rules_clip rc;
	const char *items[4], *fix[4];
	char how[2][96];
	json_t *list = NULL;
	size_t n = 0;
	int r;

	*ret = NULL;
	if (why && whylen)
		why[0] = '\0';
	if (!clip->damaged && !clip->future &&
	    (clip->storage == RULES_ON_TIME || clip->storage == RULES_ON_TIME_REMOTE))
		return 0; /* nothing can be open: no book needed */
	r = open_book_get(s, ob);
	if (r < 0)
		return r;
	rc = (struct rules_clip){
		.index = clip->index,
		.device = srv__index_str(x, clip->device),
		.officer = srv__index_str(x, clip->officer),
		.zone = srv__index_str(x, clip->zone),
		.start_us = clip->start_us,
		.end_us = clip->end_us,
		.duration_us = clip->duration_us,
		.ingested_us = clip->ingested_us,
		.deadline_us = clip->deadline_us,
		.size = clip->size,
		.storage = clip->storage,
		.damaged = clip->damaged,
		.future = clip->future,
	};
	rules_clip_status(ob->book, &rc, &st);
	snprintf(how[0], sizeof(how[0]),
		 "custodyctl annotate late_storage --entry %" PRIu64 " --reason TEXT", clip->index);
	snprintf(how[1], sizeof(how[1]),
		 "custodyctl annotate damage_report --entry %" PRIu64 " --explanation TEXT",
		 clip->index);
	if (st.late_open)
		items[n] = "late", fix[n++] = how[0];
	if (st.unknown_open)
		items[n] = "unknown_time", fix[n++] = how[0];
	if (st.future_open)
		items[n] = "future_time", fix[n++] = how[0];
	if (st.damaged_open)
		items[n] = "damaged", fix[n++] = how[1];
	for (size_t i = 0; i < n; i++) {
		if (!list && !(list = json_array()))
			return -ENOMEM;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "kind", "open", "item",
						      items[i], "close_with", fix[i]));
	}
	if (n && why)
		snprintf(why, whylen,
			 "it has an open item (%s%s%s): %s; a clip is purged only once nothing is "
			 "open about it (%s)",
			 items[0], n > 1 ? ", " : "", n > 1 ? items[1] : "",
			 !strcmp(items[0], "damaged") ? "damaged and no damage_report names it"
			 : !strcmp(items[0], "late") ? "stored late and no late_storage explains it"
						     : "no trustworthy recording time and no "
						       "late_storage explains it",
			 fix[0]);
	*ret = list;
	return 0;
}

/* Purges this server has logged (or is logging) that the index has not read yet: one whose
 * entry is committed counts as purged until x->scanned passes its purge entry.  Few at a
 * time (one per operator request), so a list. Loop thread only. */
struct purge_flight {
	struct purge_flight *next;
	const struct server *s;
	uint64_t entry;
	uint64_t purge; /* the purge entry's index, UINT64_MAX until committed */
	bool done;	/* its request was answered */
};

static struct purge_flight *purges;

static struct purge_flight *purge_find(const struct server *s, uint64_t entry)
{
	struct purge_flight **pp = &purges;

	while (*pp) {
		struct purge_flight *f = *pp;

		if (f->done && f->s == s && f->purge != UINT64_MAX && s->idx.scanned > f->purge) {
			*pp = f->next; /* the index knows it now */
			free(f);
			continue;
		}
		if (f->done && f->purge == UINT64_MAX) {
			*pp = f->next; /* failed before its commit */
			free(f);
			continue;
		}
		if (f->s == s && f->entry == entry)
			return f;
		pp = &f->next;
	}
	return NULL;
}

static bool clip_purged(const struct server *s, const struct srv_clip *clip)
{
	const struct purge_flight *f;

	if (clip->purged)
		return true;
	f = purge_find(s, clip->index);
	return f && f->purge != UINT64_MAX;
}

int srv__purge_conflict(struct server *s, const struct srv_note *note, struct err_detail *reterr)
{
	if (note->kind != SRV_NOTE_CASE && note->kind != SRV_NOTE_HOLD)
		return 0;
	purge_find(s, UINT64_MAX); /* drops the flights that are over */
	for (const struct purge_flight *f = purges; f; f = f->next) {
		const struct srv_clip *clip;

		if (f->s != s || f->done || f->purge != UINT64_MAX)
			continue; /* another server's, answered, or logged already */
		clip = srv__index_clip(&s->idx, f->entry);
		if (note_names(note, f->entry) ||
		    (clip && note->kind == SRV_NOTE_CASE && case_binds(&s->idx, note, clip)))
			return err_set(
			    reterr, -EAGAIN,
			    "entry %" PRIu64 " is being purged; try again in a moment "
			    "(the %s would otherwise bind a clip whose original is being "
			    "removed)",
			    f->entry, note->kind == SRV_NOTE_CASE ? "case" : "hold");
	}
	return 0;
}

static json_t *clip_json(const struct server *s, const struct srv_clip *clip, struct period p,
			 int64_t due)
{
	const struct srv_index *x = &s->idx;
	char hex[65];

	hex_encode(clip->sha256, 32, hex);
	return json_pack(
	    "{s:I, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:I, s:s, s:o, s:I, s:s, s:b}", "index",
	    (json_int_t)clip->index, "zone", srv__index_str(x, clip->zone), "device",
	    srv__index_str(x, clip->device), "officer", srv__index_str(x, clip->officer),
	    "recorded_start", srv__jtime(clip->start_us), "recorded_end", srv__jtime(clip->end_us),
	    "ingested_at", srv__jtime(clip->ingested_us), "retention_s", (json_int_t)(p.ms / 1000),
	    "retention_from", p.source, "due_at", srv__jtime(due), "size", (json_int_t)clip->size,
	    "sha256", hex, "damaged", clip->damaged);
}

int srv__op_retention(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	const struct srv_index *x = &s->idx;
	int64_t now = (int64_t)daemon_now_us();
	uint64_t limit = RETENTION_LIMIT, ndue = 0, nkept = 0, nwithin = 0, nforever = 0,
		 npurged = 0;
	json_t *due = json_array(), *kept = json_array(), *seen = json_array(), *body;
	const struct srv_note **dev = NULL;
	struct open_book ob = { 0 };
	size_t ndev = 0;
	int r;

	r = srv__req_index(req, "limit", false, &limit, reterr);
	if (r < 0 && r != -ENOENT)
		goto fail;
	if (!limit || limit > RETENTION_LIMIT_MAX) {
		r = err_set(reterr, -EINVAL, "\"limit\" must be 1 to %d", RETENTION_LIMIT_MAX);
		goto fail;
	}
	if (!due || !kept || !seen) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	srv__index_catch_up(s);
	if (!x->caught_up) {
		r = err_set(reterr, -EAGAIN,
			    "the daemon is still reading the log (it started a moment ago); try "
			    "again shortly");
		goto fail;
	}
	dev = device_cases(x, &ndev, &r);
	if (r < 0) {
		r = err_set(reterr, r, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < x->nclips; i++) {
		const struct srv_clip *clip = &x->clips[i];
		struct period p;
		int64_t end;
		json_t *why = NULL, *open_list = NULL, *o;

		if (clip_purged(s, clip)) {
			npurged++;
			continue;
		}
		p = clip_period(s, clip);
		if (!p.ms) {
			nforever++;
			continue;
		}
		end = period_base(clip) + (int64_t)p.ms * 1000;
		if (end > now) {
			nwithin++;
			continue;
		}
		r = kept_by(s, clip, dev, ndev, &why, NULL, 0);
		if (r == 0)
			r = open_items(s, clip, &ob, &open_list, NULL, 0);
		if (r < 0) {
			json_decref(why);
			r = err_set(reterr, r, "out of memory");
			goto fail;
		}
		if (open_list && !why) {
			why = open_list;
		} else if (open_list) {
			json_array_extend(why, open_list);
			json_decref(open_list);
		}
		if (why)
			nkept++;
		else
			ndue++;
		if ((why ? nkept : ndue) > limit) {
			json_decref(why);
			continue;
		}
		o = clip_json(s, clip, p, end);
		if (o && why)
			json_object_set_new(o, "kept_by", why);
		else
			json_decref(why);
		json_array_append_new(why ? kept : due, o);
		json_array_append_new(seen, json_integer((json_int_t)clip->index));
	}
	body = json_pack("{s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:b, s:I}", "now",
			 srv__jtime(now), "due", due, "kept", kept, "counts", "due",
			 (json_int_t)ndue, "kept", (json_int_t)nkept, "within_period",
			 (json_int_t)nwithin, "forever", (json_int_t)nforever, "purged",
			 (json_int_t)npurged, "clips", (json_int_t)x->nclips, "truncated",
			 ndue > limit || nkept > limit, "limit", (json_int_t)limit);
	free(dev);
	open_book_done(&ob);
	srv__access(c, "retention", NULL, json_pack("{s:o}", "entries", seen), true);
	if (!body)
		return err_set(reterr, -ENOMEM, "out of memory");
	srv__reply(c, body);
	return 0;
fail:
	free(dev);
	open_book_done(&ob);
	json_decref(due);
	json_decref(kept);
	json_decref(seen);
	return r;
}

/* ---- purge ------------------------------------------------------------------------------- *
 *
 * The one deliberate exception to "originals are never deleted" (docs/rules.md), allowed only by
 * the retention rules and only to operators.  The loop decides whether it is allowed (an
 * original's entry, past its period, no case or hold binds it, nothing open about it), then
 * hands it to the writer thread (pipe_purge()), which runs it in order with the ingests:
 *   1. commit {"v":1,"type":"purge","entry":N,"sha256":…,"stored":…,"by":…,"at":…,
 *      "reason":…|null,"zone","retention_s","due_at","removed":…} with a TLOG_KEY_PURGED
 *      lookup key, so that from then on the writer no longer counts entry N when it asks
 *      whether content is logged already: the same bytes arriving again are a new arrival;
 *   2. unlink the original and fsync its folder, unless another entry no purge has ended
 *      records the same bytes ("removed":false with "kept_for" and "kept_because": N's
 *      retention is over all the same).
 * An ingest that found these bytes already in the store (linked by N) before the unlink
 * would lose them if it then committed and removed its zone file; the writer checks that a
 * new entry's original is still in the store just before committing it, so such an ingest
 * fails and is tried again from its zone, which still holds the file (pipeline.c).
 *
 * A crash between 1 and 2 leaves the file in the store with the purge logged; `purge N` asked
 * again sees the clip purged and hands the writer a purge without an entry, which removes the
 * file unless an entry in force records the same bytes (an arrival since, logged anew), and
 * answers not_found once the file is gone.  The log keeps the entry and its fingerprint
 * forever, so `verify` still finds a copy kept elsewhere.
 *
 * Cases and holds: the loop checks them when the purge is asked and hands it to the writer at
 * once, and the two cannot cross: while a purge of N is in flight (from the request until its
 * commit) a case or hold binding N is refused (srv__purge_conflict(), `unavailable`), and
 * while a case or hold annotation is on its way to the log (s->keeps_pending), a purge is
 * refused the same way: the index does not know that annotation yet. */

struct purge_ctx {
	struct srv_client *c;
	struct purge_flight *flight; /* NULL when finishing an earlier purge */
	uint64_t entry;
	char rel[STORE_REL_MAX];
	char sha256[65];
};

static void purge_free(struct purge_ctx *ctx)
{
	struct srv_client *c = ctx->c;

	if (ctx->flight) {
		ctx->flight->done = true;
		srv__index_catch_up(c->s);
		purge_find(c->s, UINT64_MAX); /* drops the flights the index has read */
	}
	free(ctx);
	srv__client_unref(c); /* last: may free the client, and with it a closing server */
}

static void on_purged(void *opaque, int status, const struct pipe_purged *d,
		      const struct err_detail *why)
{
	struct purge_ctx *ctx = opaque;
	struct srv_client *c = ctx->c;
	bool finishing = !ctx->flight, kept = false, removed = false;
	struct err_detail e;

	c->s->pending--;
	if (status < 0) {
		if (why)
			e = *why;
		else
			err_set(&e, status, "the purge was not logged");
		log_error(LOG_GRP, "purge of entry %" PRIu64 ": %s", ctx->entry, e.msg);
		if (!c->closing) {
			srv__reply_error(c, status, &e);
			srv__release(c);
		}
		purge_free(ctx);
		return;
	}
	if (ctx->flight)
		ctx->flight->purge = d->index;
	kept = d->kept_for != UINT64_MAX;
	removed = !kept && d->removal == 0;
	if (kept)
		log_notice(LOG_GRP,
			   "%s purged entry %" PRIu64 "%s: its original '%s' stays, entry %" PRIu64
			   " records the same bytes and is not purged",
			   c->by, ctx->entry, finishing ? " (asked again)" : "", ctx->rel,
			   d->kept_for);
	else if (removed)
		log_notice(LOG_GRP, "%s purged entry %" PRIu64 ": removed its original '%s'%s",
			   c->by, ctx->entry, ctx->rel,
			   finishing ? " (finishing an earlier purge)" : "");
	else if (d->removal != -ENOENT)
		log_error(LOG_GRP, "purge of entry %" PRIu64 ": %s", ctx->entry,
			  why ? why->msg : "the removal failed");
	else if (!finishing)
		log_warning(LOG_GRP,
			    "purge of entry %" PRIu64 ": its original '%s' was already missing "
			    "from the store",
			    ctx->entry, ctx->rel);
	if (c->closing) {
		purge_free(ctx);
		return;
	}
	if (finishing && kept) {
		err_set(&e, -EPERM,
			"entry %" PRIu64 " was purged before, but entry %" PRIu64
			" records the same "
			"bytes and is not purged (the same content arrived again and was logged "
			"anew): its original '%s' stays in the store under that entry's retention",
			ctx->entry, d->kept_for, ctx->rel);
		srv__reply_error(c, e.code, &e);
	} else if (finishing && d->removal == -ENOENT) {
		err_set(&e, -ENOENT,
			"entry %" PRIu64 " is already purged and its original is gone from the "
			"store; the log keeps its entry",
			ctx->entry);
		srv__reply_error(c, e.code, &e);
	} else if (!kept && d->removal != 0 && d->removal != -ENOENT) {
		if (finishing)
			err_set(&e, d->removal,
				"entry %" PRIu64 " is purged, but its original could not be "
				"removed: %s; run custodyctl purge %" PRIu64 " again",
				ctx->entry, why ? why->msg : "?", ctx->entry);
		else
			err_set(&e, d->removal,
				"the purge is logged as entry %" PRIu64 ", but the original could "
				"not be removed: %s; run custodyctl purge %" PRIu64 " again to "
				"finish",
				d->index, why ? why->msg : "?", ctx->entry);
		srv__reply_error(c, e.code, &e);
	} else {
		srv__reply(
		    c, json_pack("{s:o, s:I, s:b, s:b, s:s, s:s, s:o}", "index",
				 finishing ? json_null() : json_integer((json_int_t)d->index),
				 "entry", (json_int_t)ctx->entry, "removed", removed, "finished",
				 finishing, "sha256", ctx->sha256, "stored", ctx->rel, "kept_for",
				 kept ? json_integer((json_int_t)d->kept_for) : json_null()));
	}
	srv__release(c);
	purge_free(ctx);
}

int srv__op_purge(struct srv_client *c, json_t *req, struct err_detail *reterr)
{
	struct server *s = c->s;
	const struct srv_clip *clip;
	const char *reason = NULL;
	struct open_book ob = { 0 };
	struct purge_ctx *ctx;
	struct purge_flight *f;
	char at[ING_RFC3339_MAX], why[512];
	json_t *entry, *pe = NULL, *open_list = NULL;
	uint8_t sha[32];
	struct period p;
	int64_t due;
	uint64_t index, size = 0;
	int r;

	r = srv__req_index(req, "index", true, &index, reterr);
	if (r < 0)
		return r;
	r = srv__req_string(req, "reason", false, PURGE_REASON_MAX, &reason, reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	/* As written in the entry, escapes counted, so that the purge entry stays within the
	 * log's entry limit (docs/log.md). */
	if (reason && vfy_entry_string_size(reason, strlen(reason)) - 2 > PURGE_REASON_MAX)
		return err_set(reterr, -E2BIG,
			       "\"reason\" takes %zu bytes in the log entry (a newline or quote "
			       "counts 2, another control character 6), more than %d: shorten it",
			       vfy_entry_string_size(reason, strlen(reason)) - 2, PURGE_REASON_MAX);
	if (s->d->stopping)
		return err_set(reterr, -ESHUTDOWN,
			       "the daemon is stopping; ask again once it is back");
	srv__index_catch_up(s);
	if (!s->idx.caught_up)
		return err_set(reterr, -EAGAIN,
			       "the daemon is still reading the log (cases and holds included); "
			       "try again shortly");
	entry = log_entry(s->d->log, index, &r, reterr);
	if (!entry) {
		if (r != -ENOENT)
			return r;
		tlog_size(s->d->log, &size, NULL);
		return err_set(reterr, -ENOENT,
			       "there is no entry %" PRIu64 ": the log holds %" PRIu64 " entries",
			       index, size);
	}
	clip = srv__index_clip(&s->idx, index);
	if (!is_original(entry) || !clip ||
	    hex_decode(json_string_value(json_object_get(entry, "sha256")), sha, 32) < 0) {
		json_decref(entry);
		return err_set(reterr, -EINVAL,
			       "entry %" PRIu64 " is not an original's (ingest or damaged) entry: "
			       "there is nothing to purge",
			       index);
	}
	f = purge_find(s, index);
	if (f && !f->done) {
		json_decref(entry);
		return err_set(reterr, -EAGAIN,
			       "a purge of entry %" PRIu64 " is under way; ask again in a moment",
			       index);
	}
	r = clip_kept(s, clip, why, sizeof(why));
	if (r != 0) {
		json_decref(entry);
		if (r < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		return err_set(reterr, -EPERM,
			       "entry %" PRIu64 " is kept: %s; clips bound to a case or on hold "
			       "are never purged",
			       index, why);
	}
	if (s->keeps_pending) {
		json_decref(entry);
		return err_set(reterr, -EAGAIN,
			       "a case or hold annotation is being recorded and may bind entry "
			       "%" PRIu64 "; try again in a moment",
			       index);
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		json_decref(entry);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	*ctx = (struct purge_ctx){ .c = c, .entry = index };
	snprintf(ctx->rel, sizeof(ctx->rel), "%s",
		 json_string_value(json_object_get(entry, "stored")));
	snprintf(ctx->sha256, sizeof(ctx->sha256), "%s",
		 json_string_value(json_object_get(entry, "sha256")));
	json_decref(entry);
	snprintf(why, sizeof(why), "objects/%.2s/%s", ctx->sha256, ctx->sha256);
	if (strcmp(why, ctx->rel)) {
		/* The store would refuse to remove it (store_remove_original()): say so now,
		 * before a purge entry claims a removal. */
		err_set(reterr, -EINVAL,
			"entry %" PRIu64 " records its original as '%s', which is not the store's "
			"name for its sha256 ('%s'): nothing can be purged for it",
			index, ctx->rel, why);
		free(ctx);
		return -EINVAL;
	}
	if (clip_purged(s, clip)) {
		/* Logged before; finish the removal a crash may have interrupted, on the writer
		 * thread like any purge, so that it is ordered with the ingests. */
		srv__client_ref(c);
		s->pending++;
		srv__hold(c);
		pipe_purge(s->d->pipe, index, sha, ctx->rel, NULL, on_purged, ctx);
		return 0;
	}
	p = clip_period(s, clip);
	due = period_base(clip) + (int64_t)p.ms * 1000;
	if (!p.ms || due > (int64_t)daemon_now_us()) {
		free(ctx);
		if (!p.ms)
			return err_set(reterr, -EPERM,
				       "entry %" PRIu64
				       " is kept forever (its zone's retention, or "
				       "[retention] default, is 0)",
				       index);
		if (ing_format_utc(due, at) < 0)
			snprintf(at, sizeof(at), "?");
		return err_set(reterr, -EPERM,
			       "entry %" PRIu64 " is within its retention period until %s (%s "
			       "retention of %" PRIu64 " s from the later of its recording end and "
			       "its upload); only clips past it may be purged",
			       index, at, p.source, p.ms / 1000);
	}
	r = open_items(s, clip, &ob, &open_list, why, sizeof(why));
	open_book_done(&ob);
	if (r < 0 || open_list) {
		json_decref(open_list);
		free(ctx);
		if (r < 0)
			return err_set(reterr, -ENOMEM, "out of memory");
		return err_set(reterr, -EPERM, "entry %" PRIu64 " is kept: %s", index, why);
	}
	f = calloc(1, sizeof(*f));
	if (f && ing_format_utc((int64_t)daemon_now_us(), at) >= 0)
		pe = json_pack("{s:i, s:s, s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:o}", "v", 1,
			       "type", "purge", "entry", (json_int_t)index, "sha256", ctx->sha256,
			       "stored", ctx->rel, "by", c->by, "at", at, "reason", reason, "zone",
			       srv__index_str(&s->idx, clip->zone), "retention_s",
			       (json_int_t)(p.ms / 1000), "due_at", srv__jtime(due));
	if (!pe) {
		free(f);
		free(ctx);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	*f = (struct purge_flight){ .next = purges, .s = s, .entry = index, .purge = UINT64_MAX };
	purges = f;
	ctx->flight = f;
	srv__client_ref(c);
	s->pending++;
	srv__hold(c);
	pipe_purge(s->d->pipe, index, sha, ctx->rel, pe, on_purged, ctx);
	return 0;
}

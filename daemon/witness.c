/* witness.c: cosignatures from the witnesses, and what is served and published.
 *
 * DESIGN
 * One candidate checkpoint at a time is offered to the witnesses: the newest signed one when
 * the previous candidate reached its quorum (or at start).  Each witness is asked, with the
 * size it last cosigned as `old` and the consistency proof from there, until it cosigns the
 * candidate; when witness_quorum of them have, the candidate is served, recorded in
 * <state>/witnessed and published, and the newest signed checkpoint becomes the next
 * candidate.  Holding the candidate until it has its quorum is what makes the witnesses'
 * cosignatures meet on one size even when they answer at different speeds; with a quorum of
 * 0 every checkpoint is a candidate that has its quorum at once, and the witnesses cosign what
 * they can.
 *
 * A witness's answer is trusted for nothing: its cosignature is attached only when it opens
 * with the witness's configured key, a 409's size only moves `old` (a size beyond this log's
 * newest checkpoint is an ALERT: the witness has seen another history of this origin, or this
 * log lost entries), and anything else is an error for that witness alone, retried after a
 * back-off that doubles up to BACKOFF_MAX_MS.
 *
 * libcurl's multi interface runs every witness's request on this module's one thread, so that
 * none waits for another; publication (pub_publish(), which may write thousands of tiles on a
 * first run) has a thread of its own so that it cannot hold the requests up.
 *
 * One file because the candidate, the witnesses' state and the publisher's queue are one state
 * machine, under one mutex for what wit_status() reads. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/file.h"
#include "base/i18n.h"
#include "base/log.h"
#include "base/utf8.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "daemon/witness.h"
#include "ingest/rectime.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/publish.h"
#include "verify/tlog.h"
#include "verify/witnessreq.h"

#define RESPONSE_MAX WIT_ANSWER_MAX /* a witness's answer: a few signature lines, or a size */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)
#define CONNECT_TIMEOUT_MS 10000
#define REQUEST_TIMEOUT_MS 30000
#define CONFLICTS_BEFORE_BACKOFF 3 /* 409s in a row answered at once, then backed off */
#define ERROR_MAX 256

struct wit {
	struct witnessing *ws;
	char *name; /* copied: a reload replaces the config */
	char *url;  /* <url>/add-checkpoint */
	struct vfy_verifier key;
	CURL *easy;
	struct curl_slist *headers;
	char *body; /* the request in flight */
	char resp[RESPONSE_MAX + 1];
	size_t resp_len;
	bool resp_over;
	bool busy;
	uint64_t sent_old, sent_size;
	uint64_t next_us;    /* monotonic: not asked again before this */
	uint64_t backoff_ms; /* the next failure waits this long */
	unsigned conflicts;  /* 409s in a row */
	uint64_t old;	     /* its state as last heard: sent as `old` (0: not known) */
	/* Read by wit_status(), under ws->mtx. */
	uint64_t cosigned;	/* the size of its last cosignature that verified (0: none) */
	uint64_t cosigned_time; /* its cosignature's timestamp, seconds */
	char last_error[ERROR_MAX];
	uint64_t last_error_us;
	uint64_t next_try_us; /* realtime twin of next_us, for status */
};

struct witnessing {
	struct daemon *d;
	struct tlog *log;
	unsigned quorum;
	uint64_t timeout_ms;
	char witnessed_file[4096];
	struct vfy_verifier *keys; /* [0] the log's, [1 + i] witness i's */
	struct wit *w;
	size_t n;
	CURLM *multi;
	pthread_t thread, pub_thread;
	bool thread_started, pub_started;

	/* The witness thread's own. */
	uint64_t cand; /* 0: none yet */
	char *cand_note;
	size_t cand_len;
	bool cand_done; /* it has its quorum */

	/* The publisher's: the folder, and the newest note asked for. */
	int pub_fd;	/* -1: nothing is published */
	char *pub_path; /* its path, copied: a reload replaces the config */
	unsigned pub_flags;
	pthread_cond_t pub_cond;
	char *pub_note; /* waiting to be published; NULL: nothing waits */
	size_t pub_len;
	uint64_t pub_size;

	pthread_mutex_t mtx; /* guards what follows, the publisher's queue and the wit status */
	bool stop;
	uint64_t newest;     /* the newest signed checkpoint */
	uint64_t waiting_us; /* realtime: since when a signed checkpoint waits for its quorum */
	bool alerted;	     /* the ALERT for this wait was raised */
	uint64_t published;  /* size of the newest published checkpoint (0: none) */
	uint64_t published_us;
	char pub_error[ERROR_MAX];
	uint64_t pub_error_us;
	_Atomic uint64_t served;
};

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- checkpoints and their cosignatures ------------------------------------------------ */

/* The note as the log signed it: its text and the log's line, without cosignatures. */
static size_t log_signed_len(const char *note, size_t len)
{
	const char *sigs = vfy_note_sig_lines(note, len);
	const char *nl = sigs ? memchr(sigs, '\n', len - (size_t)(sigs - note)) : NULL;

	return nl ? (size_t)(nl + 1 - note) : len;
}

/* Bit i + 1 set for each witness i whose cosignature on @note verifies. */
static uint64_t cosigners(const struct witnessing *ws, const char *note, size_t len)
{
	uint64_t mask = 0;
	struct err_detail e;

	if (vfy_note_open(note, len, ws->keys, ws->n + 1, NULL, &mask, &e) < 0)
		return 0;
	return mask & ~UINT64_C(1);
}

static unsigned popcount64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

/* ---- publication ----------------------------------------------------------------------- */

/* Ask the publisher for @note (of @size); a newer request replaces one still waiting. */
static void publish_request(struct witnessing *ws, const char *note, size_t len, uint64_t size)
{
	char *copy;

	if (ws->pub_fd < 0)
		return;
	copy = strndup(note, len);
	if (!copy) {
		log_error("publish",
			  "out of memory: the checkpoint of size %" PRIu64
			  " is published with the next one",
			  size);
		return;
	}
	pthread_mutex_lock(&ws->mtx);
	free(ws->pub_note);
	ws->pub_note = copy;
	ws->pub_len = len;
	ws->pub_size = size;
	pthread_cond_signal(&ws->pub_cond);
	pthread_mutex_unlock(&ws->mtx);
}

static void *pub_main(void *arg)
{
	struct witnessing *ws = arg;

	pthread_mutex_lock(&ws->mtx);
	for (;;) {
		struct err_detail e = { 0 };
		char *note;
		size_t len;
		uint64_t size;
		int r;

		while (!ws->stop && !ws->pub_note)
			pthread_cond_wait(&ws->pub_cond, &ws->mtx);
		if (ws->stop)
			break;
		note = ws->pub_note;
		len = ws->pub_len;
		size = ws->pub_size;
		ws->pub_note = NULL;
		pthread_mutex_unlock(&ws->mtx);

		r = pub_publish(ws->log, ws->pub_fd, note, len, ws->pub_flags, NULL, &e);
		free(note);

		pthread_mutex_lock(&ws->mtx);
		if (r < 0) {
			/* The same error at every checkpoint is said once. */
			if (strcmp(ws->pub_error, e.msg) != 0)
				log_error("publish",
					  "cannot publish the checkpoint of size %" PRIu64 ": %s",
					  size, e.msg);
			snprintf(ws->pub_error, sizeof(ws->pub_error), "%s", e.msg);
			ws->pub_error_us = daemon_now_us();
		} else {
			if (ws->pub_error[0])
				log_notice("publish",
					   "published the checkpoint of size %" PRIu64
					   " again after an error",
					   size);
			ws->pub_error[0] = '\0';
			ws->published = size;
			ws->published_us = daemon_now_us();
		}
	}
	pthread_mutex_unlock(&ws->mtx);
	return NULL;
}

/* ---- the candidate --------------------------------------------------------------------- */

/* The candidate has its quorum: serve it, remember it across restarts, publish it. */
static void quorum_reached(struct witnessing *ws)
{
	struct err_detail e;

	ws->cand_done = true;
	if (ws->quorum > 0) {
		/* Written before it is served, so that a restart serves no less. */
		if (file_write_atomic(AT_FDCWD, ws->witnessed_file, ws->cand_note, ws->cand_len,
				      0644, &e) < 0)
			log_error("witness", "cannot record the witnessed checkpoint: %s", e.msg);
		atomic_store(&ws->served, ws->cand);
		pthread_mutex_lock(&ws->mtx);
		if (ws->alerted)
			log_notice("witness",
				   "the checkpoint of size %" PRIu64 " has its %u cosignatures",
				   ws->cand, ws->quorum);
		ws->alerted = false;
		ws->waiting_us = ws->newest > ws->cand ? daemon_now_us() : 0;
		pthread_mutex_unlock(&ws->mtx);
	}
	publish_request(ws, ws->cand_note, ws->cand_len, ws->cand);
}

static void candidate_take(struct witnessing *ws, uint64_t size)
{
	struct err_detail e;
	char *note;
	size_t len;
	uint64_t mask;

	if (tlog_checkpoint_get(ws->log, size, &note, &len, NULL, &e) < 0) {
		log_error("witness", "cannot read the checkpoint of size %" PRIu64 ": %s", size,
			  e.msg);
		return;
	}
	free(ws->cand_note);
	ws->cand_note = note;
	ws->cand_len = len;
	ws->cand = size;
	ws->cand_done = false;
	/* Cosignatures attached before a restart count. */
	mask = cosigners(ws, note, len);
	pthread_mutex_lock(&ws->mtx);
	for (size_t i = 0; i < ws->n; i++)
		if (mask & (UINT64_C(1) << (i + 1)))
			ws->w[i].cosigned = ws->w[i].old = size;
	pthread_mutex_unlock(&ws->mtx);
	if (popcount64(mask) >= ws->quorum)
		quorum_reached(ws);
}

/* ---- one witness ----------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void wit_fail(struct wit *w, const char *fmt, ...)
{
	struct witnessing *ws = w->ws;
	char msg[ERROR_MAX];
	uint64_t wait;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wait = w->backoff_ms;
	wait = wait * 3 / 4 + randombytes_uniform((uint32_t)(wait / 2 + 1));
	w->next_us = mono_us() + wait * 1000;
	w->backoff_ms = w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms * 2;
	pthread_mutex_lock(&ws->mtx);
	if (strcmp(w->last_error, msg) != 0)
		log_warning("witness", "[witness %s] %s; trying again in %" PRIu64 " s", w->name,
			    msg, (wait + 999) / 1000);
	snprintf(w->last_error, sizeof(w->last_error), "%s", msg);
	w->last_error_us = daemon_now_us();
	w->next_try_us = w->last_error_us + wait * 1000;
	pthread_mutex_unlock(&ws->mtx);
}

static void wit_ok(struct wit *w)
{
	w->backoff_ms = BACKOFF_MIN_MS;
	w->conflicts = 0;
	w->next_us = 0;
	pthread_mutex_lock(&w->ws->mtx);
	if (w->last_error[0])
		log_notice("witness", "[witness %s] cosigns again", w->name);
	w->last_error[0] = '\0';
	w->next_try_us = 0;
	pthread_mutex_unlock(&w->ws->mtx);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct wit *w = opaque;
	size_t n = size * nmemb;

	if (n > RESPONSE_MAX - w->resp_len) {
		w->resp_over = true;
		return 0; /* libcurl aborts the transfer */
	}
	memcpy(w->resp + w->resp_len, data, n);
	w->resp_len += n;
	w->resp[w->resp_len] = '\0';
	return n;
}

static void request_start(struct witnessing *ws, struct wit *w)
{
	uint8_t proof[MERKLE_MAX_PROOF][VFY_HASH_LEN];
	struct err_detail e;
	size_t np = 0, body_len;
	uint64_t old = w->old;
	int r;

	if (old > 0 && old < ws->cand) {
		r = tlog_consistency(ws->log, old, ws->cand, proof, &np, &e);
		if (r < 0) {
			wit_fail(w, "cannot prove size %" PRIu64 " consistent with %" PRIu64 ": %s",
				 ws->cand, old, e.msg);
			return;
		}
	}
	/* The witness checks the log's signature; the other witnesses' lines are not its
	 * business, and leaving them out keeps the request small. */
	r = wit_request_format(old, (const uint8_t(*)[VFY_HASH_LEN])proof, np, ws->cand_note,
			       log_signed_len(ws->cand_note, ws->cand_len), &w->body, &body_len,
			       &e);
	if (r < 0) {
		wit_fail(w, "cannot make the request: %s", e.msg);
		return;
	}
	w->resp_len = 0;
	w->resp[0] = '\0';
	w->resp_over = false;
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(w->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	if (curl_multi_add_handle(ws->multi, w->easy) != CURLM_OK) {
		free(w->body);
		w->body = NULL;
		wit_fail(w, "cannot start the request (libcurl)");
		return;
	}
	w->busy = true;
	w->sent_old = old;
	w->sent_size = ws->cand;
}

/* 200: the body holds cosignature lines.  Attach those by this witness's key that verify. */
static void on_cosigned(struct witnessing *ws, struct wit *w)
{
	struct vfy_verifier pair[2] = { ws->keys[0], w->key };
	auto_free char *stored = NULL;
	auto_free char *merged = NULL;
	const char *base = ws->cand_note;
	size_t base_len = ws->cand_len, merged_len;
	struct err_detail e;
	uint64_t mask = 0, t = 0;
	unsigned found;

	if (w->sent_size != ws->cand) {
		/* The candidate moved on while this witness was asked (no quorum needed). */
		if (tlog_checkpoint_get(ws->log, w->sent_size, &stored, &base_len, NULL, &e) < 0) {
			wit_fail(w, "cannot read the checkpoint it cosigned: %s", e.msg);
			return;
		}
		base = stored;
	}
	if (wit_answer_merge(base, base_len, w->resp, w->resp_len, &w->key, &merged, &merged_len,
			     &found, &e) < 0) {
		wit_fail(w, "its answer cannot be read: %s", e.msg);
		return;
	}
	if (!found) {
		wit_fail(w, "its answer holds no cosignature by its key (%s)", w->key.name);
		return;
	}
	if (vfy_note_open(merged, merged_len, pair, 2, NULL, &mask, &e) < 0 || !(mask & 2)) {
		wit_fail(w, "its cosignature does not verify against its configured key: %s",
			 e.msg);
		return;
	}
	if (tlog_checkpoint_cosign(ws->log, w->sent_size, merged, merged_len, &e) < 0) {
		wit_fail(w, "cannot store its cosignature: %s", e.msg);
		return;
	}
	vfy_cosig_time(merged, merged_len, &w->key, &t, &e);
	w->old = w->sent_size;
	pthread_mutex_lock(&ws->mtx);
	w->cosigned = w->sent_size;
	w->cosigned_time = t;
	pthread_mutex_unlock(&ws->mtx);
	wit_ok(w);
	if (w->sent_size != ws->cand)
		return;
	free(ws->cand_note);
	ws->cand_note = TAKE_PTR(merged);
	ws->cand_len = merged_len;
	if (!ws->cand_done && popcount64(cosigners(ws, ws->cand_note, ws->cand_len)) >= ws->quorum)
		quorum_reached(ws);
	else if (ws->cand_done)
		publish_request(ws, ws->cand_note, ws->cand_len, ws->cand); /* one more line */
}

/* 409: the witness's state is another size; ask again from there. */
static void on_conflict(struct witnessing *ws, struct wit *w, const char *ctype)
{
	struct err_detail e;
	uint64_t size = 0, newest;

	if (!ctype || strncmp(ctype, WIT_SIZE_TYPE, strlen(WIT_SIZE_TYPE)) != 0) {
		wit_fail(w, "it answered 409 without a size (Content-Type %s)",
			 ctype ? ctype : "none");
		return;
	}
	if (wit_size_parse(w->resp, w->resp_len, &size, &e) < 0) {
		wit_fail(w, "it answered 409 with a body that is no size: %s", e.msg);
		return;
	}
	pthread_mutex_lock(&ws->mtx);
	newest = ws->newest;
	pthread_mutex_unlock(&ws->mtx);
	if (size > newest) {
		if (w->backoff_ms < BACKOFF_MAX_MS || !w->last_error[0])
			log_msg(LOG_ALERT, "witness",
				"[witness %s] says it cosigned a tree of %" PRIu64
				" entries of this origin, more than this log's newest "
				"checkpoint (%" PRIu64 "): it has seen another history signed "
				"with this key, or this log lost entries",
				w->name, size, newest);
		w->backoff_ms = BACKOFF_MAX_MS;
		wit_fail(w,
			 "it answered 409: it has cosigned size %" PRIu64
			 ", beyond this log's newest checkpoint (%" PRIu64 ")",
			 size, newest);
		return;
	}
	if (size == w->sent_old) {
		wit_fail(w, "it answered 409 naming the very size that was sent (%" PRIu64 ")",
			 size);
		return;
	}
	/* Its size only moves `old`: a witness is counted as cosigning when its cosignature
	 * verifies, never on its word. */
	w->old = size;
	if (size > ws->cand)
		wit_fail(w,
			 "it answered 409: it has cosigned size %" PRIu64
			 ", beyond the checkpoint offered (%" PRIu64 "); it is asked again with a "
			 "newer one",
			 size, ws->cand);
	else if (++w->conflicts > CONFLICTS_BEFORE_BACKOFF)
		wit_fail(w, "409 after 409 (the last names size %" PRIu64 ")", size);
	else
		w->next_us = 0;
}

static void request_done(struct witnessing *ws, struct wit *w, CURLcode result)
{
	long code = 0;
	char *ctype = NULL;
	char shown[96];

	curl_multi_remove_handle(ws->multi, w->easy);
	free(w->body);
	w->body = NULL;
	w->busy = false;
	if (w->resp_over) {
		wit_fail(w, "its answer is longer than %d bytes", RESPONSE_MAX);
		return;
	}
	if (result != CURLE_OK) {
		wit_fail(w, "cannot reach %s: %s", w->url, curl_easy_strerror(result));
		return;
	}
	curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(w->easy, CURLINFO_CONTENT_TYPE, &ctype);
	if (code == 200) {
		on_cosigned(ws, w);
		return;
	}
	if (code == 409) {
		on_conflict(ws, w, ctype);
		return;
	}
	utf8_printable(w->resp, strcspn(w->resp, "\n"), shown, sizeof(shown));
	wit_fail(w, "it answered HTTP %ld%s%s", code, shown[0] ? ": " : "", shown);
}

/* ---- the thread ------------------------------------------------------------------------ */

static void alert_check(struct witnessing *ws)
{
	uint64_t now = daemon_now_us();

	pthread_mutex_lock(&ws->mtx);
	if (ws->quorum > 0 && ws->waiting_us && !ws->alerted &&
	    now - ws->waiting_us > ws->timeout_ms * 1000) {
		unsigned have = 0;

		for (size_t i = 0; i < ws->n; i++)
			have += ws->w[i].cosigned == ws->cand && ws->cand;
		ws->alerted = true;
		log_msg(LOG_ALERT, "witness",
			"the checkpoint of size %" PRIu64 " has waited more than %" PRIu64
			" min for %u cosignatures and has %u: proofs and the published folder "
			"stay at size %" PRIu64 "; custodyctl status names each witness's last "
			"error",
			ws->cand, ws->timeout_ms / 60000, ws->quorum, have,
			(uint64_t)atomic_load(&ws->served));
	}
	pthread_mutex_unlock(&ws->mtx);
}

static void *wit_main(void *arg)
{
	struct witnessing *ws = arg;

	for (;;) {
		uint64_t newest, now, wait_ms = 1000;
		CURLMsg *msg;
		int running, left;
		bool stop;

		pthread_mutex_lock(&ws->mtx);
		stop = ws->stop;
		newest = ws->newest;
		pthread_mutex_unlock(&ws->mtx);
		if (stop)
			break;
		if (newest > ws->cand && (ws->cand == 0 || ws->cand_done))
			candidate_take(ws, newest);

		now = mono_us();
		for (size_t i = 0; ws->cand && i < ws->n; i++) {
			struct wit *w = &ws->w[i];

			/* A witness whose state is beyond the candidate waits for the next one. */
			if (w->busy || w->cosigned >= ws->cand || w->old > ws->cand)
				continue;
			if (now >= w->next_us)
				request_start(ws, w);
			else if ((w->next_us - now) / 1000 < wait_ms)
				wait_ms = (w->next_us - now) / 1000 + 1;
		}
		alert_check(ws);
		curl_multi_poll(ws->multi, NULL, 0, (int)wait_ms, NULL);
		curl_multi_perform(ws->multi, &running);
		while ((msg = curl_multi_info_read(ws->multi, &left)))
			if (msg->msg == CURLMSG_DONE) {
				struct wit *w = NULL;

				curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
				request_done(ws, w, msg->data.result);
			}
	}
	return NULL;
}

/* ---- start, stop, status --------------------------------------------------------------- */

static int parse_keys(const struct daemon *d, struct vfy_verifier *keys, struct err_detail *reterr)
{
	const struct cfg *cfg = d->cfg;

	keys[0] = d->vkey;
	for (size_t i = 0; i < cfg->nwitnesses; i++) {
		const struct cfg_witness *cw = &cfg->witnesses[i];
		struct err_detail e;

		if (vfy_verifier_parse(cw->key, strlen(cw->key), &keys[i + 1], &e) < 0)
			return err_set(reterr, -EINVAL, "%s:%u: [witness %s] key: %s", cfg->file,
				       cw->line, cw->name, e.msg);
		/* Translated for --check-config; the daemon's journal stays English (main.c). */
		if (keys[i + 1].alg != VFY_ALG_COSIG)
			return err_set(reterr, -EINVAL,
				       _("%s:%u: [witness %s] key is a note signing key, not a "
					 "cosignature/v1 key (custody-witness keygen makes one)"),
				       cfg->file, cw->line, cw->name);
	}
	return 0;
}

int wit_check_config(const struct daemon *d, struct err_detail *reterr)
{
	struct vfy_verifier keys[CFG_WITNESS_MAX + 1];

	return parse_keys(d, keys, reterr);
}

/* The checkpoint last served with its quorum, from <state>/witnessed: it must open with the
 * log's key and the quorum's cosignatures, and be the log's own checkpoint of that size. */
static uint64_t witnessed_load(struct witnessing *ws)
{
	auto_free char *note = NULL;
	auto_free char *mine = NULL;
	auto_close int fd = open(ws->witnessed_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct vfy_checkpoint cp;
	struct err_detail e;
	size_t len, mine_len;
	ssize_t n;

	if (fd < 0)
		return 0;
	note = malloc(VFY_NOTE_MAX + 1);
	if (!note)
		return 0;
	n = file_read_full(fd, note, VFY_NOTE_MAX);
	if (n <= 0)
		return 0;
	len = (size_t)n;
	if (vfy_checkpoint_open(note, len, tlog_origin(ws->log), ws->keys, 1, &cp, NULL, &e) < 0 ||
	    popcount64(cosigners(ws, note, len)) < ws->quorum ||
	    tlog_checkpoint_get(ws->log, cp.size, &mine, &mine_len, NULL, &e) < 0 ||
	    log_signed_len(mine, mine_len) != log_signed_len(note, len) ||
	    memcmp(mine, note, log_signed_len(note, len)) != 0) {
		log_warning("witness",
			    "'%s' is not a checkpoint of this log with %u cosignatures of the "
			    "configured witnesses; nothing is served until the next quorum",
			    ws->witnessed_file, ws->quorum);
		return 0;
	}
	return cp.size;
}

static int wit_setup(struct witnessing *ws, struct err_detail *reterr)
{
	const struct cfg *cfg = ws->d->cfg;
	int r;

	ws->multi = curl_multi_init();
	if (!ws->multi)
		return err_set(reterr, -ENOMEM, "cannot start libcurl");
	for (size_t i = 0; i < ws->n; i++) {
		struct wit *w = &ws->w[i];

		w->ws = ws;
		w->name = strdup(cfg->witnesses[i].name);
		if (!w->name)
			return err_set(reterr, -ENOMEM, "out of memory");
		w->key = ws->keys[i + 1];
		w->backoff_ms = BACKOFF_MIN_MS;
		if (asprintf(&w->url, "%s/add-checkpoint", cfg->witnesses[i].url) < 0) {
			w->url = NULL;
			return err_set(reterr, -ENOMEM, "out of memory");
		}
		w->easy = curl_easy_init();
		w->headers = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
		if (!w->easy || !w->headers)
			return err_set(reterr, -ENOMEM, "cannot start libcurl");
		curl_easy_setopt(w->easy, CURLOPT_URL, w->url);
		curl_easy_setopt(w->easy, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(w->easy, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
		curl_easy_setopt(w->easy, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
		curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
		curl_easy_setopt(w->easy, CURLOPT_USERAGENT, "custodyd");
		curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
		curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w);
	}
	if (cfg->publish_path) {
		if (mkdir(cfg->publish_path, 0755) < 0 && errno != EEXIST)
			return err_set(reterr, -errno, "[publish] path '%s': cannot create it: %s",
				       cfg->publish_path, strerrordesc_np(errno));
		ws->pub_fd =
		    open(cfg->publish_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (ws->pub_fd < 0)
			return err_set(
			    reterr, -errno,
			    "[publish] path '%s': cannot open it as a folder (a symbolic "
			    "link is refused): %s",
			    cfg->publish_path, strerrordesc_np(errno));
		ws->pub_flags = cfg->publish_entries ? PUB_ENTRIES : 0;
		ws->pub_path = strdup(cfg->publish_path);
		if (!ws->pub_path)
			return err_set(reterr, -ENOMEM, "out of memory");
		r = pthread_create(&ws->pub_thread, NULL, pub_main, ws);
		if (r)
			return err_set(reterr, -r, "cannot start the publisher thread");
		ws->pub_started = true;
		/* Named, so that top -H and /proc/PID/task tell what each costs. */
		pthread_setname_np(ws->pub_thread, "publisher");
	}
	r = pthread_create(&ws->thread, NULL, wit_main, ws);
	if (r)
		return err_set(reterr, -r, "cannot start the witness thread");
	ws->thread_started = true;
	pthread_setname_np(ws->thread, "witness");
	return 0;
}

int wit_start(struct daemon *d, struct witnessing **ret, struct err_detail *reterr)
{
	const struct cfg *cfg = d->cfg;
	struct witnessing *ws;
	struct err_detail e;
	uint64_t newest = 0;
	int r;

	*ret = NULL;
	if (cfg->nwitnesses == 0 && !cfg->publish_path)
		return 0;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return err_set(reterr, -ENOMEM, "out of memory");
	ws->d = d;
	ws->log = d->log;
	ws->quorum = cfg->witness_quorum;
	ws->timeout_ms = cfg->witness_timeout_ms;
	ws->pub_fd = -1;
	ws->n = cfg->nwitnesses;
	pthread_mutex_init(&ws->mtx, NULL);
	pthread_cond_init(&ws->pub_cond, NULL);
	snprintf(ws->witnessed_file, sizeof(ws->witnessed_file), "%s/witnessed", cfg->state);
	ws->keys = calloc(ws->n + 1, sizeof(*ws->keys));
	ws->w = calloc(ws->n ? ws->n : 1, sizeof(*ws->w));
	if (!ws->keys || !ws->w) {
		wit_stop(ws);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	r = parse_keys(d, ws->keys, reterr);
	if (r < 0) {
		wit_stop(ws);
		return r;
	}
	atomic_store(&ws->served, ws->quorum ? witnessed_load(ws) : TLOG_NEWEST);
	if (tlog_checkpoint_get(d->log, TLOG_NEWEST, NULL, NULL, &newest, &e) == 0)
		ws->newest = newest;
	if (ws->quorum && ws->newest > atomic_load(&ws->served))
		ws->waiting_us = daemon_now_us();
	r = wit_setup(ws, reterr);
	if (r < 0) {
		wit_stop(ws);
		return r;
	}
	*ret = ws;
	return 0;
}

void wit_signed(struct witnessing *ws, uint64_t size)
{
	if (!ws)
		return;
	pthread_mutex_lock(&ws->mtx);
	if (size > ws->newest) {
		if (ws->quorum && !ws->waiting_us)
			ws->waiting_us = daemon_now_us();
		ws->newest = size;
	}
	pthread_mutex_unlock(&ws->mtx);
	curl_multi_wakeup(ws->multi);
}

bool wit_has_quorum(struct witnessing *ws, const char *note, size_t len)
{
	if (!ws || ws->quorum == 0)
		return true;
	return popcount64(cosigners(ws, note, len)) >= ws->quorum;
}

uint64_t wit_served(struct witnessing *ws)
{
	return ws ? atomic_load(&ws->served) : TLOG_NEWEST;
}

static json_t *jtime(uint64_t us)
{
	char text[ING_RFC3339_MAX];

	if (!us || ing_format_utc((int64_t)us, text) < 0)
		return json_null();
	return json_string(text);
}

static json_t *jsize(uint64_t size)
{
	return size && size != TLOG_NEWEST ? json_integer((json_int_t)size) : json_null();
}

json_t *wit_status(struct witnessing *ws)
{
	uint64_t now = daemon_now_us();
	json_t *list, *out;

	if (!ws)
		return json_null();
	list = json_array();
	pthread_mutex_lock(&ws->mtx);
	for (size_t i = 0; list && i < ws->n; i++) {
		const struct wit *w = &ws->w[i];
		uint64_t t_us = w->cosigned_time * 1000000;

		json_array_append_new(
		    list,
		    json_pack(
			"{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", w->name, "url", w->url,
			"cosigned_size", jsize(w->cosigned), "cosigned_at", jtime(t_us), "age_s",
			t_us && now > t_us ? json_integer((json_int_t)((now - t_us) / 1000000))
					   : json_null(),
			"last_error", w->last_error[0] ? json_string(w->last_error) : json_null(),
			"last_error_at", jtime(w->last_error[0] ? w->last_error_us : 0),
			"next_try_at", jtime(w->next_try_us)));
	}
	out = json_pack("{s:I, s:o, s:o, s:o, s:b, s:{s:o, s:o, s:o, s:o}}", "quorum",
			(json_int_t)ws->quorum, "served", jsize(atomic_load(&ws->served)),
			"witnesses", list ? list : json_null(), "waiting_since",
			jtime(ws->waiting_us), "alert", ws->alerted, "published", "path",
			ws->pub_path ? json_string(ws->pub_path) : json_null(), "size",
			jsize(ws->published), "at", jtime(ws->published_us), "last_error",
			ws->pub_error[0] ? json_string(ws->pub_error) : json_null());
	pthread_mutex_unlock(&ws->mtx);
	return out;
}

void wit_stop(struct witnessing *ws)
{
	if (!ws)
		return;
	pthread_mutex_lock(&ws->mtx);
	ws->stop = true;
	pthread_cond_broadcast(&ws->pub_cond);
	pthread_mutex_unlock(&ws->mtx);
	if (ws->thread_started) {
		curl_multi_wakeup(ws->multi);
		pthread_join(ws->thread, NULL);
	}
	if (ws->pub_started)
		pthread_join(ws->pub_thread, NULL);
	for (size_t i = 0; ws->w && i < ws->n; i++) {
		struct wit *w = &ws->w[i];

		if (w->busy)
			curl_multi_remove_handle(ws->multi, w->easy);
		if (w->easy)
			curl_easy_cleanup(w->easy);
		curl_slist_free_all(w->headers);
		free(w->body);
		free(w->url);
		free(w->name);
	}
	if (ws->multi)
		curl_multi_cleanup(ws->multi);
	if (ws->pub_fd >= 0)
		close(ws->pub_fd);
	free(ws->pub_note);
	free(ws->pub_path);
	free(ws->cand_note);
	free(ws->keys);
	free(ws->w);
	pthread_cond_destroy(&ws->pub_cond);
	pthread_mutex_destroy(&ws->mtx);
	free(ws);
}

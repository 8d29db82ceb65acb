/* witness.c: the add-checkpoint decision and the per-log state of custody-witness
 * (docs/witness.md).
 *
 * Order of the checks, from the tlog-witness specification: the body's syntax (400), the
 * origin (404), the log's signature (403), the old size against the checkpoint's (400), then,
 * under the state mutex, the old size against the stored one (409 with that size), equal sizes
 * with another root (409: a split view), the consistency proof (422), the cosignature, the
 * state written and synced, and only then the answer (200).  A checkpoint smaller than the
 * stored one can only arrive with an old size that is not the stored one, or an old size
 * above its own size, so it is never cosigned.
 *
 * The state file holds the log's signed note verbatim, so that on start each state is checked
 * against the configured log key again: a state file edited, or left from another key, stops
 * the witness instead of anchoring it to a tree it never verified. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/utf8.h"
#include "verify/hash.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/witnessreq.h"
#include "witness/config.h"
#include "witness/witness.h"

#define GRP "witness"
#define SHOW_MAX 64
#define TEXT_TYPE "text/plain; charset=utf-8"
#define STATE_SUFFIX ".checkpoint"

struct log_state {
	const struct wit_log_conf *conf;
	char file[2 * VFY_HASH_LEN + sizeof(STATE_SUFFIX)]; /* hex SHA-256 of the origin */
	bool cosigned;					    /* a checkpoint was cosigned */
	uint64_t size;
	uint8_t root[VFY_HASH_LEN];
};

struct witness {
	const struct wit_config *cfg;
	struct vfy_signer *signer;
	char *vkey;
	int state_fd;
	int lock_fd;
	pthread_mutex_t lock; /* guards every log_state and the state files */
	struct log_state *logs;
};

static int load_state(struct witness *w, struct log_state *st, struct err_detail *reterr)
{
	struct vfy_checkpoint cp;
	struct err_detail e;
	uint8_t md[VFY_HASH_LEN];
	char *note = NULL;
	size_t len = 0;
	int r;

	r = vfy_sha256(st->conf->origin, strlen(st->conf->origin), md);
	if (r < 0)
		return err_set(reterr, r, _("cannot hash the origin of [log %s]"), st->conf->name);
	hex_encode(md, sizeof(md), st->file);
	strcat(st->file, STATE_SUFFIX);
	r = file_read_at(w->state_fd, st->file, O_NOFOLLOW | O_NONBLOCK, VFY_NOTE_MAX, &note, &len,
			 &e);
	if (r == -ENOENT)
		return 0; /* never cosigned for this log */
	if (r < 0)
		return err_set(reterr, r, _("state of [log %s]: %s"), st->conf->name, e.msg);
	r = vfy_checkpoint_open(note, len, st->conf->origin, &st->conf->key, 1, &cp, NULL, &e);
	free(note);
	if (r < 0)
		return err_set(
		    reterr, -EINVAL,
		    _("state of [log %s] (%s/%s) does not verify with its key: %s; if the "
		      "log's key was replaced on purpose, move the file away"),
		    st->conf->name, w->cfg->state_path, st->file, e.msg);
	st->cosigned = true;
	st->size = cp.size;
	memcpy(st->root, cp.root, VFY_HASH_LEN);
	return 0;
}

int witness_open(const struct wit_config *cfg, bool lock, struct witness **ret,
		 struct err_detail *reterr)
{
	struct witness *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	w->cfg = cfg;
	w->state_fd = -1;
	w->lock_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	r = vfy_signer_load(cfg->key_path, &w->signer, reterr);
	if (r < 0)
		goto fail;
	if (vfy_signer_alg(w->signer) != VFY_ALG_COSIG) {
		r = err_set(
		    reterr, -EINVAL,
		    _("key file '%s' is a note signing key; a witness needs a cosignature/v1 "
		      "key (custody-witness keygen NAME --out FILE)"),
		    cfg->key_path);
		goto fail;
	}
	w->vkey = vfy_signer_vkey(w->signer);
	w->logs = calloc(cfg->nlogs, sizeof(*w->logs));
	if (!w->vkey || !w->logs) {
		r = err_set(reterr, -ENOMEM, _("out of memory"));
		goto fail;
	}
	w->state_fd = open(cfg->state_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->state_fd < 0) {
		r = -errno;
		err_set(reterr, r, _("cannot open the state folder '%s': %s"), cfg->state_path,
			strerrordesc_np(errno));
		goto fail;
	}
	if (lock) {
		w->lock_fd =
		    openat(w->state_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (w->lock_fd < 0 || flock(w->lock_fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			err_set(reterr, r, _("cannot lock '%s/lock': %s"), cfg->state_path,
				r == -EBUSY ? _("another witness uses this state folder")
					    : strerrordesc_np(-r));
			goto fail;
		}
	}
	for (size_t i = 0; i < cfg->nlogs; i++) {
		w->logs[i].conf = &cfg->logs[i];
		r = load_state(w, &w->logs[i], reterr);
		if (r < 0)
			goto fail;
	}
	*ret = w;
	return 0;
fail:
	witness_free(w);
	return r;
}

struct witness *witness_free(struct witness *w)
{
	if (!w)
		return NULL;
	vfy_signer_free(w->signer);
	free(w->vkey);
	free(w->logs);
	if (w->state_fd >= 0)
		close(w->state_fd);
	if (w->lock_fd >= 0)
		close(w->lock_fd); /* releases the lock */
	pthread_mutex_destroy(&w->lock);
	free(w);
	return NULL;
}

const char *witness_vkey(const struct witness *w)
{
	return w->vkey;
}

static void reply(struct wit_reply *ret, unsigned status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reply(struct wit_reply *ret, unsigned status, const char *type, const char *fmt, ...)
{
	va_list ap;
	int n;

	ret->status = status;
	ret->content_type = type;
	ret->body = NULL;
	ret->body_len = 0;
	va_start(ap, fmt);
	n = vasprintf(&ret->body, fmt, ap);
	va_end(ap);
	if (n < 0)
		ret->body = NULL;
	else
		ret->body_len = (size_t)n;
}

static struct log_state *find_log(struct witness *w, const char *origin, size_t len)
{
	for (size_t i = 0; i < w->cfg->nlogs; i++)
		if (strlen(w->logs[i].conf->origin) == len &&
		    memcmp(w->logs[i].conf->origin, origin, len) == 0)
			return &w->logs[i];
	return NULL;
}

/* Keep a checkpoint that contradicts what was cosigned: signed by the log, it proves the split
 * view to anyone.  One file per size and root, so a replay adds nothing. */
static void keep_evidence(struct witness *w, struct log_state *st, const char *note, size_t len,
			  const struct vfy_checkpoint *cp)
{
	char name[sizeof(st->file) + 64], roothex[2 * VFY_HASH_LEN + 1];
	struct err_detail e;

	hex_encode(cp->root, VFY_HASH_LEN, roothex);
	snprintf(name, sizeof(name), "%.*s.split-%" PRIu64 "-%.16s",
		 (int)(strlen(st->file) - strlen(STATE_SUFFIX)), st->file, cp->size, roothex);
	if (file_write_atomic(w->state_fd, name, note, len, 0640, &e) < 0)
		log_error(GRP, "[log %s] could not keep the conflicting checkpoint: %s",
			  st->conf->name, e.msg);
	else
		log_alert(GRP, "[log %s] the conflicting checkpoint is kept in %s/%s",
			  st->conf->name, w->cfg->state_path, name);
}

/* Under w->lock: the decision from the stored state on, and the state's update. */
static void add_locked(struct witness *w, struct log_state *st, const struct wit_request *req,
		       size_t text_len, const struct vfy_checkpoint *cp, struct wit_reply *ret)
{
	char oldb64[VFY_HASH_LEN * 2], newb64[VFY_HASH_LEN * 2], *line = NULL;
	const char *name = st->conf->name;
	struct err_detail e;
	int r;

	if (req->old_size != st->size) {
		log_notice(GRP,
			   "[log %s] 409: old size %" PRIu64 " is not the cosigned size %" PRIu64,
			   name, req->old_size, st->size);
		reply(ret, 409, WIT_SIZE_TYPE, "%" PRIu64 "\n", st->size);
		return;
	}
	if (cp->size == st->size && st->cosigned) {
		if (memcmp(cp->root, st->root, VFY_HASH_LEN) != 0) {
			vfy_b64_encode(st->root, VFY_HASH_LEN, oldb64, sizeof(oldb64));
			vfy_b64_encode(cp->root, VFY_HASH_LEN, newb64, sizeof(newb64));
			log_alert(
			    GRP,
			    "[log %s] SPLIT VIEW: a checkpoint signed by the log's key has size "
			    "%" PRIu64 " and root %s, but the checkpoint cosigned at that size "
			    "has root %s",
			    name, cp->size, newb64, oldb64);
			keep_evidence(w, st, req->checkpoint, req->checkpoint_len, cp);
			reply(ret, 409, WIT_SIZE_TYPE, "%" PRIu64 "\n", st->size);
			return;
		}
	} else if (st->cosigned && st->size > 0) {
		r = merkle_verify_consistency(st->size, cp->size, st->root, cp->root, req->proof,
					      req->nproof, &e);
		if (r == -ENOMEM || r == -EIO) {
			log_error(GRP, "[log %s] cannot check a consistency proof: %s", name,
				  e.msg);
			reply(ret, 500, TEXT_TYPE, "internal error\n");
			return;
		}
		if (r < 0) {
			/* Signed by the log, but not shown to extend what was cosigned: a broken
			 * client, or a fork.  Anyone may relay a signed checkpoint with a bad
			 * proof, so this is a warning, not the split view alert. */
			log_warning(GRP,
				    "[log %s] 422: the consistency proof from %" PRIu64
				    " to %" PRIu64 " does not verify: %s",
				    name, st->size, cp->size, e.msg);
			reply(ret, 422, TEXT_TYPE, "the consistency proof does not verify: %s\n",
			      e.msg);
			return;
		}
	}
	r = vfy_cosign(w->signer, req->checkpoint, text_len, (uint64_t)time(NULL), &line, &e);
	if (r < 0) {
		log_error(GRP, "[log %s] cannot cosign: %s", name, e.msg);
		reply(ret, 500, TEXT_TYPE, "internal error\n");
		return;
	}
	/* The state first: a cosignature must never be out while a crash could forget it. */
	r = file_write_atomic(w->state_fd, st->file, req->checkpoint, req->checkpoint_len, 0640,
			      &e);
	if (r < 0) {
		log_error(GRP, "[log %s] cannot write the state %s/%s: %s", name,
			  w->cfg->state_path, st->file, e.msg);
		free(line);
		reply(ret, 500, TEXT_TYPE, "the witness could not store its state\n");
		return;
	}
	if (st->size != cp->size || !st->cosigned)
		log_info(GRP, "[log %s] cosigned size %" PRIu64 " (was %" PRIu64 ")", name,
			 cp->size, st->size);
	st->cosigned = true;
	st->size = cp->size;
	memcpy(st->root, cp->root, VFY_HASH_LEN);
	ret->status = 200;
	ret->content_type = TEXT_TYPE;
	ret->body = line;
	ret->body_len = strlen(line);
}

void witness_add_checkpoint(struct witness *w, const char *body, size_t len, struct wit_reply *ret)
{
	struct wit_request req;
	struct vfy_checkpoint cp;
	struct log_state *st;
	struct err_detail e;
	char shown[SHOW_MAX + 4];
	const char *nl;
	size_t text_len = 0;
	int r;

	r = wit_request_parse(body, len, &req, &e);
	if (r < 0) {
		log_debug(GRP, "400: %s", e.msg);
		reply(ret, 400, TEXT_TYPE, "%s\n", e.msg);
		return;
	}
	/* The origin line decides whose key checks the rest; the note parser checks it all. */
	nl = memchr(req.checkpoint, '\n', req.checkpoint_len);
	if (!nl) {
		reply(ret, 400, TEXT_TYPE, "the checkpoint has no origin line\n");
		return;
	}
	st = find_log(w, req.checkpoint, (size_t)(nl - req.checkpoint));
	if (!st) {
		utf8_printable(req.checkpoint, (size_t)(nl - req.checkpoint), shown, sizeof(shown));
		log_debug(GRP, "404: unknown origin '%s'", shown);
		reply(ret, 404, TEXT_TYPE, "unknown log origin\n");
		return;
	}
	r = vfy_note_open(req.checkpoint, req.checkpoint_len, &st->conf->key, 1, &text_len, NULL,
			  &e);
	if (r == 0)
		r = vfy_checkpoint_parse(req.checkpoint, text_len, &cp, &e);
	if (r == -EBADMSG) {
		log_debug(GRP, "[log %s] 400: %s", st->conf->name, e.msg);
		reply(ret, 400, TEXT_TYPE, "%s\n", e.msg);
		return;
	}
	if (r == -EKEYREJECTED) {
		log_info(GRP, "[log %s] 403: %s", st->conf->name, e.msg);
		reply(ret, 403, TEXT_TYPE, "%s\n", e.msg);
		return;
	}
	if (r < 0) {
		log_error(GRP, "[log %s] cannot open a checkpoint: %s", st->conf->name, e.msg);
		reply(ret, 500, TEXT_TYPE, "internal error\n");
		return;
	}
	if (req.old_size > cp.size) {
		reply(ret, 400, TEXT_TYPE,
		      "the old size %" PRIu64 " is above the checkpoint's %" PRIu64 "\n",
		      req.old_size, cp.size);
		return;
	}
	pthread_mutex_lock(&w->lock);
	add_locked(w, st, &req, text_len, &cp, ret);
	pthread_mutex_unlock(&w->lock);
}

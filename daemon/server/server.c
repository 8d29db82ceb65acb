/* server.c: the Unix socket.  Loop thread only.  The protocol (requests, replies, roles,
 * limits, errors, every operation) is docs/protocol.md.
 *
 * DESIGN
 *
 * This file owns the transport: the listening socket, the clients, their limits, their roles,
 * and turning each request line into one reply line.  The operations live beside it, one file
 * per group (read.c, scrub.c, annotate.c, verify.c, copy.c, rules.c), and share request.c
 * (reading a request's fields) and index.c, an in-memory index of the log.  It is the only
 * code that talks to clients: operations return (r, reterr) and srv__reply_error() turns them
 * into the one JSON error object.
 *
 * Everything runs on the loop thread.  Reads of the log are short LMDB read transactions
 * (tlog_entry ~0.5 µs, tlog_lookup ~0.1 µs), but work that grows with the log is never done
 * inside one request: the index is built in slices of SRV_SLICE_NS from a uv_idle handle (and
 * kept up to date by a 1 s timer), and a `log` scan goes on in slices from the same handle, so
 * that one long scan never holds up the other clients.  Appends (annotations, access records)
 * go to the pipeline's writer thread with pipe_append(); an annotation is answered from its
 * commit callback, an access record is not waited for.
 *
 * Every limit a client could push on is capped here (request line, nesting, queued replies,
 * clients in all and per uid, refusals recorded), and a sixteenth of max_clients is kept for
 * operators, so that nobody else's flood of connections can lock them out.  NSS lookups
 * (getgrnam_r() for the role groups, getpwuid_r() once per connection) block: with remote user
 * databases, keep nscd/sssd caching.
 *
 * The socket: srv_new() binds it itself (socket(), bind(), chmod 0660, listen()).  Until the
 * chmod the umask applies (the unit's UMask=0027), and nobody can connect before listen()
 * anyway.  A file already at the path is removed only when it is a socket that refuses
 * connections (a daemon that died); its group is systemd's business (Group=,
 * RuntimeDirectory=).  srv_close() finishes once every handle is closed and every commit
 * callback has come back, so call it while the pipeline still runs (before pipe_stop()).
 *
 * One file because a client's life (accept, per-user limits, reads, queued writes, replies
 * carrying a descriptor, close) is one reference-counted state machine over struct srv_client,
 * and every reply path and limit must agree on when a client may be freed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "base/cleanup.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "base/log.h"
#include "daemon/pipeline.h"
#include "daemon/server/server.h"
#include "daemon/server/internal.h"
#include "verify/tlog.h"
#include "base/macro.h"
#include "base/utf8.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13; older libc headers lack it */
#endif

#define LOG_GRP "socket"

static const struct srv_op {
	const char *name;
	unsigned roles;
	srv_op_fn fn;
	bool recorded; /* reads evidence: an access entry (refused while the log cannot take it) */
} srv_ops[] = {
	{ "status", SRV_READERS, srv__op_status, false },
	{ "entry", SRV_READERS, srv__op_entry, true },
	{ "proof", SRV_READERS, srv__op_proof, true },
	{ "consistency", SRV_READERS, srv__op_consistency, false },
	{ "checkpoint", SRV_READERS, srv__op_checkpoint, false },
	{ "log", SRV_READERS, srv__op_log, true },
	{ "verify", SRV_READERS, srv__op_verify, true },
	{ "review", SRV_READERS, srv__op_review, true },
	{ "history", SRV_READERS, srv__op_history, true },
	{ "report", SRV_READERS, srv__op_report, false },
	/* Narrowed per kind in daemon/server/annotate.c (approval: approvers only). */
	{ "annotate", SRV_OPERATOR | SRV_REVIEWER | SRV_APPROVER, srv__op_annotate, false },
	/* Narrowed in daemon/server/copy.c: operators, or the grantee of an approval. */
	{ "copy-out", SRV_READERS, srv__op_copy_out, true },
	{ "retention", SRV_READERS, srv__op_retention, true },
	{ "purge", SRV_OPERATOR, srv__op_purge, false },
	{ "scrub", SRV_OPERATOR, srv__op_scrub, false },
	{ "cases", SRV_READERS, srv__op_cases, false },
};

/* The ops a client may name, for the error that says it named none of them: from the table, so
 * that the list cannot fall behind it. */
static const char *op_names(void)
{
	static char names[256];

	if (!names[0]) {
		size_t o = 0;

		for (size_t i = 0; i < sizeof(srv_ops) / sizeof(srv_ops[0]) && o < sizeof(names);
		     i++)
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? ", " : "",
					      srv_ops[i].name);
	}
	return names;
}

static const char *const role_names[SRV_NROLES] = { "operator", "reviewer", "auditor", "approver" };

/* ---- roles ------------------------------------------------------------------------------- */

static bool gid_in(gid_t g, const gid_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == g)
			return true;
	return false;
}

unsigned srv__roles(const struct srv_role_gids *map, const struct srv_peer *peer, uid_t self_uid)
{
	unsigned roles = 0;

	if (peer->uid == 0 || peer->uid == self_uid)
		roles |= SRV_OPERATOR;
	for (unsigned r = 0; r < SRV_NROLES; r++)
		for (unsigned i = 0; i < map->n[r]; i++)
			if (map->gid[r][i] == peer->gid ||
			    gid_in(map->gid[r][i], peer->groups, peer->ngroups))
				roles |= 1u << r;
	return roles;
}

const char *srv__role_names(unsigned roles, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned r = 0; r < SRV_NROLES; r++) {
		if (!(roles & (1u << r)))
			continue;
		int n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", role_names[r]);

		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
	if (!o)
		snprintf(buf, len, "none");
	return buf;
}

static int group_gid(const char *name, gid_t *ret, struct err_detail *reterr)
{
	struct group gr, *res = NULL;
	size_t cap = 4096;
	int rc;

	for (;;) {
		auto_free char *buf = malloc(cap);

		if (!buf)
			return err_set(reterr, -ENOMEM, "out of memory");
		rc = getgrnam_r(name, &gr, buf, cap, &res);
		if (rc == ERANGE && cap < (1u << 20)) {
			cap *= 2;
			continue;
		}
		break;
	}
	if (rc && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM)
		return err_set(reterr, -EIO, "cannot look up group '%s': %s", name, strerror(rc));
	if (!res)
		return -ENOENT;
	*ret = res->gr_gid;
	return 0;
}

int srv__roles_resolve(const struct cfg *cfg, struct srv_role_gids *ret, char *warn, size_t warnlen,
		       struct err_detail *reterr)
{
	static const char *const keys[SRV_NROLES] = { "operators", "reviewers", "auditors",
						      "approvers" };
	const char *lists[SRV_NROLES] = { cfg->operators, cfg->reviewers, cfg->auditors,
					  cfg->approvers };
	struct srv_role_gids map = { 0 };
	size_t wo = 0;

	if (warn && warnlen)
		warn[0] = '\0';
	for (unsigned r = 0; r < SRV_NROLES; r++) {
		const char *p = lists[r];

		unsigned names = 0;

		while (p && *p) {
			char name[256];
			size_t n;
			gid_t gid = 0;
			int rc;

			p += strspn(p, ", \t");
			n = strcspn(p, ", \t");
			if (!n)
				break;
			if (n >= sizeof(name))
				return err_set(reterr, -EINVAL, "[socket] %s: group name too long",
					       keys[r]);
			memcpy(name, p, n);
			name[n] = '\0';
			p += n;
			if (++names > SRV_ROLE_GROUPS_MAX)
				return err_set(reterr, -EINVAL, "[socket] %s: more than %d groups",
					       keys[r], SRV_ROLE_GROUPS_MAX);
			rc = group_gid(name, &gid, reterr);
			if (rc == -ENOENT) {
				if (warn && wo < warnlen) {
					int w =
					    snprintf(warn + wo, warnlen - wo,
						     "%sgroup '%s' ([socket] %s) does not exist",
						     wo ? "; " : "", name, keys[r]);
					wo += w > 0 ? (size_t)w : 0;
				}
				continue;
			}
			if (rc < 0)
				return rc;
			map.gid[r][map.n[r]++] = gid;
		}
	}
	*ret = map;
	return 0;
}

int srv__peer_credentials(int fd, struct srv_peer *ret, struct err_detail *reterr)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	gid_t *groups = NULL;
	size_t cap = 64;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return err_set(reterr, -errno, "SO_PEERCRED: %s", strerror(errno));
	for (;;) {
		gid_t *g = realloc(groups, cap * sizeof(*g));

		if (!g) {
			free(groups);
			return err_set(reterr, -ENOMEM, "out of memory");
		}
		groups = g;
		len = (socklen_t)(cap * sizeof(*g));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
			break;
		if (errno == ERANGE && len > cap * sizeof(*g) && len <= 65536 * sizeof(*g)) {
			cap = len / sizeof(*g);
			continue;
		}
		if (errno == ENOPROTOOPT) { /* a kernel before 4.13: primary group only */
			len = 0;
			break;
		}
		free(groups);
		return err_set(reterr, -errno, "SO_PEERGROUPS: %s", strerror(errno));
	}
	*ret = (struct srv_peer){ .pid = uc.pid,
				  .uid = uc.uid,
				  .gid = uc.gid,
				  .groups = groups,
				  .ngroups = len / sizeof(gid_t) };
	return 0;
}

/* "alice(uid 1001)", or "(uid 1001)" when the user has no name we can put into an entry. */
static void peer_by(uid_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	size_t cap = 4096;
	bool named = false;

	for (;;) {
		auto_free char *buf = malloc(cap);
		int rc;

		if (!buf)
			break;
		rc = getpwuid_r(uid, &pw, buf, cap, &res);
		if (rc == ERANGE && cap < (1u << 20)) {
			cap *= 2;
			continue;
		}
		if (!rc && res && res->pw_name[0] && strlen(res->pw_name) < 64) {
			named = true;
			/* User names are bytes; keep the entry valid UTF-8 and unambiguous. */
			for (const char *p = res->pw_name; *p; p++)
				if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789._-@$",
					    *p))
					named = false;
			if (named)
				snprintf(out, len, "%s(uid %u)", res->pw_name, (unsigned)uid);
		}
		break;
	}
	if (!named)
		snprintf(out, len, "(uid %u)", (unsigned)uid);
}

static void roles_refresh(struct server *s)
{
	struct srv_role_gids map;
	struct err_detail e;
	char warn[512];

	if (s->roles_cfg == s->d->cfg)
		return;
	if (srv__roles_resolve(s->d->cfg, &map, warn, sizeof(warn), &e) < 0) {
		/* The new config's roles are unusable: keep the old mapping rather than lock
		 * everybody out (cfg_load validated the file, so this is NSS failing). */
		log_error(LOG_GRP,
			  "cannot resolve the role groups of the new configuration: %s; "
			  "keeping the previous ones",
			  e.msg);
		s->roles_cfg = s->d->cfg;
		return;
	}
	if (warn[0])
		log_warning(LOG_GRP, "%s: nobody has that role, ignoring", warn);
	s->roles = map;
	s->roles_cfg = s->d->cfg;
}

/* ---- clients: lifetime ------------------------------------------------------------------- */

static void server_maybe_done(struct server *s);
static void client_drain(struct srv_client *c);
static void fd_reply_free(struct srv_client *c);

static void client_free(struct srv_client *c)
{
	struct server *s = c->s;

	free(c->buf);
	free(c->peer.groups);
	json_decref(c->req_id);
	srv__scan_free(c->scan);
	free(c);
	s->allocated--;
	if (s->closing)
		server_maybe_done(s);
}

static void client_maybe_free(struct srv_client *c)
{
	if (c->closing && !c->handles && !c->refs)
		client_free(c);
}

static void on_client_closed(uv_handle_t *h)
{
	struct srv_client *c = h->data;

	c->handles--;
	client_maybe_free(c);
}

/* ---- connections per uid ----------------------------------------------------------------- */

/* The connections one uid holds.  Every taken connection counts, an operator's too: the count
 * stays right whatever a reload does to the roles or to the limit, and only the check skips
 * operators. */
struct srv_user {
	struct srv_user *next; /* in its chain of s->users */
	uid_t uid;
	unsigned n;
};

/* Fibonacci hashing: the top bits of uid * 2^32/phi.  uids come in runs (1000, 1001…), which
 * this spreads over every chain.  Unkeyed, unlike the index's hash of file names: a peer does
 * not choose its uid. */
static size_t user_chain(uid_t uid)
{
	_Static_assert(SRV_USER_BUCKETS == 256, "the hash keeps the top 8 bits");
	return (size_t)(((uint32_t)uid * UINT32_C(2654435769)) >> 24);
}

static struct srv_user *user_find(const struct server *s, uid_t uid)
{
	struct srv_user *u = s->users[user_chain(uid)];

	while (u && u->uid != uid)
		u = u->next;
	return u;
}

/* Count @c as one more connection of its uid, whose record is @u (NULL when it has none yet).
 * @return 0 or -ENOMEM. */
static int user_take(struct server *s, struct srv_client *c, struct srv_user *u)
{
	if (!u) {
		size_t i = user_chain(c->peer.uid);

		u = calloc(1, sizeof(*u));
		if (!u)
			return -ENOMEM;
		u->uid = c->peer.uid;
		u->next = s->users[i];
		s->users[i] = u;
		s->nusers++;
	}
	u->n++;
	c->user = u;
	return 0;
}

/* @c is gone: its uid holds one connection less, and the record goes with the last. */
static void user_drop(struct server *s, struct srv_client *c)
{
	struct srv_user *u = c->user, **p;

	if (!u)
		return;
	c->user = NULL;
	if (--u->n > 0)
		return;
	for (p = &s->users[user_chain(u->uid)]; *p != u; p = &(*p)->next)
		;
	*p = u->next;
	free(u);
	s->nusers--;
}

static void client_close(struct srv_client *c)
{
	struct server *s = c->s;

	if (c->closing)
		return;
	c->closing = true;
	if (c->rejected) {
		s->nrejecting--;
	} else {
		if (c->prev)
			c->prev->next = c->next;
		else if (s->clients == c)
			s->clients = c->next;
		if (c->next)
			c->next->prev = c->prev;
		c->prev = c->next = NULL;
		s->nclients--;
		user_drop(s, c);
	}
	c->scan = (srv__scan_free(c->scan), NULL);
	fd_reply_free(c);
	/* Pending writes get their callbacks (UV_ECANCELED) before the close callback. */
	uv_close((uv_handle_t *)&c->pipe, on_client_closed);
	uv_close((uv_handle_t *)&c->idle, on_client_closed);
}

void srv__client_ref(struct srv_client *c)
{
	c->refs++;
}

void srv__client_unref(struct srv_client *c)
{
	c->refs--;
	client_maybe_free(c);
}

/* ---- clients: writing -------------------------------------------------------------------- */

struct srv_write {
	uv_write_t req;
	struct srv_client *c;
	char *data;
	size_t len;
	bool big; /* larger than SRV_MAX_PENDING_OUT: counted in c->big_out */
};

static void close_if_flushed(struct srv_client *c)
{
	if (c->close_after_write && !c->pending_out)
		client_close(c);
}

static void on_written(uv_write_t *req, int status)
{
	struct srv_write *w = container_of(req, struct srv_write, req);
	struct srv_client *c = w->c;

	c->pending_out -= w->len;
	if (w->big)
		c->big_out = 0;
	free(w->data);
	free(w);
	if (status < 0) {
		/* The peer went away mid-reply (EPIPE) or we are closing (ECANCELED). */
		if (status != UV_ECANCELED)
			log_debug(LOG_GRP, "%s: write failed: %s", c->by, uv_strerror(status));
		client_close(c);
		return;
	}
	close_if_flushed(c);
}

/* Queue @data (malloc()'d, taken, a line without its newline). */
static void client_write(struct srv_client *c, char *data, size_t len)
{
	bool big = len + 1 > SRV_MAX_PENDING_OUT;
	struct srv_write *w;
	uv_buf_t bufs[2];
	int r;

	if (c->closing) {
		free(data);
		return;
	}
	/* The cap is against a client that stops reading while replies pile up.  One reply
	 * larger than the cap (a review of 10,000 clips is) may be queued at a time, beside it
	 * (its size is bounded by its operation's own limits); the others must fit in the cap
	 * as ever, also while it is being written (a request pipelined behind a review). */
	if (big ? c->big_out != 0 : c->pending_out - c->big_out + len + 1 > SRV_MAX_PENDING_OUT) {
		log_warning(LOG_GRP, "%s: does not read its replies (%zu bytes queued); closing",
			    c->by, c->pending_out);
		free(data);
		client_close(c);
		return;
	}
	w = malloc(sizeof(*w));
	if (!w) {
		free(data);
		client_close(c);
		return;
	}
	*w = (struct srv_write){ .c = c, .data = data, .len = len + 1, .big = big };
	bufs[0] = uv_buf_init(data, (unsigned)len);
	bufs[1] = uv_buf_init("\n", 1);
	r = uv_write(&w->req, (uv_stream_t *)&c->pipe, bufs, 2, on_written);
	if (r < 0) {
		free(data);
		free(w);
		client_close(c);
		return;
	}
	c->pending_out += len + 1;
	if (big)
		c->big_out = len + 1;
}

static void send_object(struct srv_client *c, json_t *obj)
{
	static const char oom[] = "{\"ok\":false,\"error\":{\"code\":\"internal\",\"errno\":12,"
				  "\"name\":\"ENOMEM\",\"message\":\"out of memory\"}}";
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	if (!text)
		text = strdup(oom);
	if (!text) {
		client_close(c);
		return;
	}
	client_write(c, text, strlen(text));
}

void srv__text_add(struct srv_text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p) {
			t->failed = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

void srv__text_addf(struct srv_text *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		t->failed = true;
	else
		srv__text_add(t, buf, (size_t)n);
}

void srv__text_done(struct srv_text *t)
{
	free(t->p);
	*t = (struct srv_text){ 0 };
}

/* The read being answered could not be recorded (srv__access() found the log failing, after
 * the request passed process_line()'s check: a review, a `log` scan or a copy-out that began
 * before): its answer is not sent, this error is.  @return whether it was. */
static bool reply_unrecorded(struct srv_client *c)
{
	struct err_detail e;
	int code = c->unrecorded;

	if (!code)
		return false;
	err_set(&e, -EAGAIN,
		"this read of evidence could not be recorded, so it is not answered: "
		"the log cannot be written now (its last append failed: %s); try again once the "
		"state file system has room",
		strerror(-code));
	srv__reply_error(c, e.code, &e); /* clears c->unrecorded */
	return true;
}

void srv__reply_tail(struct srv_client *c, json_t *body, const struct srv_text *tail)
{
	json_t *out;
	char *text, *all;
	size_t len;

	if (reply_unrecorded(c)) {
		json_decref(body);
		return;
	}
	out = json_object();
	if (!body || !out || tail->failed) {
		json_decref(body);
		json_decref(out);
		send_object(c, NULL);
		return;
	}
	json_object_set_new(out, "ok", json_true());
	if (c->req_id)
		json_object_set(out, "id", c->req_id);
	json_object_update(out, body);
	json_decref(body);
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	if (!text) {
		send_object(c, NULL);
		return;
	}
	len = strlen(text); /* "{…}": the tail goes before the final brace */
	all = tail->len ? realloc(text, len + tail->len + 1) : text;
	if (!all) {
		free(text);
		send_object(c, NULL);
		return;
	}
	if (tail->len) {
		memcpy(all + len - 1, tail->p, tail->len);
		all[len - 1 + tail->len] = '}';
		all[len + tail->len] = '\0';
		len += tail->len;
	}
	client_write(c, all, len);
}

void srv__reply(struct srv_client *c, json_t *body)
{
	json_t *out;

	if (reply_unrecorded(c)) {
		json_decref(body);
		return;
	}
	out = json_object();
	if (!body || !out) {
		json_decref(body);
		json_decref(out);
		send_object(c, NULL);
		return;
	}
	json_object_set_new(out, "ok", json_true());
	if (c->req_id)
		json_object_set(out, "id", c->req_id);
	json_object_update(out, body);
	json_decref(body);
	send_object(c, out);
}

/* ---- replies that carry a descriptor (copy-out) ------------------------------------------
 *
 * libuv passes descriptors only over pipes opened for IPC (uv_pipe_init(…, 1) + uv_write2()),
 * and only those of its own handles; an IPC pipe would also take in every descriptor a client
 * sends and queue it in the daemon without bound.  So clients stay plain pipes, and the one
 * reply that carries a descriptor is written here with sendmsg() on the pipe's own fd, at a
 * moment when libuv has nothing queued for it (pending_out == 0: every earlier uv_write() has
 * completed), so its bytes cannot interleave with libuv's.  Linux attaches SCM_RIGHTS to the
 * first buffer of a stream sendmsg(): if the kernel takes only part of the line, the
 * descriptor has gone with that part and the rest is queued with uv_write() behind it.  While
 * earlier replies are still queued, or the socket buffer is full (EAGAIN: nothing was sent),
 * it is tried again every FD_RETRY_MS on the client's idle timer, which is free because the
 * client is held; after idle_timeout the client is closed.  The client stays held until the
 * reply has left, so no later reply can overtake it. */

#define FD_RETRY_MS 5

struct srv_fd_reply {
	int fd;
	char *text; /* the reply line, without its newline */
	size_t len;
	uint64_t since_ms; /* uv_now() when it was made */
};

static void fd_reply_free(struct srv_client *c)
{
	struct srv_fd_reply *f = c->fd_reply;

	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f->text);
	free(f);
	c->fd_reply = NULL;
}

static void on_fd_retry(uv_timer_t *t);

static void fd_reply_try(struct srv_client *c)
{
	struct srv_fd_reply *f = c->fd_reply;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov[2] = { { f->text, f->len }, { (char *)"\n", 1 } };
	struct msghdr m = { .msg_iov = iov,
			    .msg_iovlen = 2,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	uint64_t limit = c->s->d->cfg->idle_timeout_ms;
	struct cmsghdr *h;
	uv_os_fd_t sock;
	ssize_t n = -1;

	if (c->closing)
		return;
	if (!c->pending_out) {
		memset(&ctl, 0, sizeof(ctl));
		h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &f->fd, sizeof(int));
		if (uv_fileno((uv_handle_t *)&c->pipe, &sock) < 0) {
			client_close(c);
			return;
		}
		do
			n = sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			log_debug(LOG_GRP, "%s: cannot pass a descriptor: %s", c->by,
				  strerror(errno));
			client_close(c);
			return;
		}
	}
	if (n >= 0) {
		size_t sent = (size_t)n, rest = sent <= f->len ? f->len - sent : 0;
		char *tail = sent <= f->len ? malloc(rest + 1) : NULL;

		if (sent <= f->len && !tail) {
			client_close(c);
			return;
		}
		if (tail)
			memcpy(tail, f->text + sent, rest);
		fd_reply_free(c); /* our copy of the descriptor: the client has its own now */
		if (tail)
			client_write(c, tail, rest); /* adds the newline */
		srv__release(c);
		return;
	}
	if (limit && uv_now(c->s->d->loop) - f->since_ms > limit) {
		log_warning(LOG_GRP, "%s: does not take its reply for %" PRIu64 " ms; closing",
			    c->by, limit);
		client_close(c);
		return;
	}
	uv_timer_start(&c->idle, on_fd_retry, FD_RETRY_MS, 0);
}

static void on_fd_retry(uv_timer_t *t)
{
	struct srv_client *c = t->data;

	if (c->fd_reply)
		fd_reply_try(c);
}

void srv__reply_fd(struct srv_client *c, json_t *body, int fd)
{
	json_t *out;
	struct srv_fd_reply *f = NULL;
	char *text = NULL;

	if (!c->closing && reply_unrecorded(c)) {
		json_decref(body);
		close(fd);
		srv__release(c);
		return;
	}
	out = json_object();
	if (c->closing || c->fd_reply || !body || !out ||
	    json_object_set_new(out, "ok", json_true()) < 0 ||
	    (c->req_id && json_object_set(out, "id", c->req_id) < 0) ||
	    json_object_update(out, body) < 0 || !(text = json_dumps(out, JSON_COMPACT)) ||
	    !(f = malloc(sizeof(*f)))) {
		json_decref(body);
		json_decref(out);
		free(text);
		close(fd);
		if (!c->closing)
			send_object(c, NULL);
		srv__release(c);
		return;
	}
	json_decref(body);
	json_decref(out);
	*f = (struct srv_fd_reply){
		.fd = fd, .text = text, .len = strlen(text), .since_ms = uv_now(c->s->d->loop)
	};
	c->fd_reply = f;
	fd_reply_try(c);
}

const char *srv__error_code(int r)
{
	switch (r) {
	case -EINVAL:
	case -EBADMSG:
	case -EILSEQ:
	case -EDOM:
		return "bad_request";
	case -EACCES:
	case -EPERM:
		return "forbidden";
	case -ENOENT:
		return "not_found";
	case -E2BIG:
	case -EMSGSIZE:
		return "too_large";
	case -ETIMEDOUT:
		return "timeout";
	case -EUSERS:
		return "busy";
	case -EAGAIN:
	case -ESHUTDOWN:
		return "unavailable";
	default:
		return "internal";
	}
}

/* err_name() knows the codes of the libraries; the server also uses EAGAIN, EUSERS… */
static const char *errno_name(int r)
{
	const char *name = err_name(r);

	if (!strcmp(name, "E?") && strerrorname_np(-r))
		name = strerrorname_np(-r);
	return name;
}

void srv__reply_error(struct srv_client *c, int r, const struct err_detail *e)
{
	srv__reply_error_with(c, r, e, NULL);
}

void srv__reply_error_with(struct srv_client *c, int r, const struct err_detail *e, json_t *extra)
{
	struct server *s = c->s;
	const char *code = srv__error_code(r);
	const char *msg = e && e->msg[0] ? e->msg : strerror(-r);
	char shown[sizeof(e->msg) + 4]; /* room for the whole message: utf8_printable() cuts
					 * 4 bytes before the end */
	json_t *out;

	c->unrecorded = 0; /* an error answers the request, whatever it read */
	/* A message that quotes the request may be cut inside a UTF-8 sequence ("%.64s" counts
	 * bytes, err_set() truncates at 255): jansson refuses such a string, and the reply
	 * would become the out-of-memory fallback.  Found by tests/fuzz/fuzz_request.c. */
	if (!utf8_valid(msg, strlen(msg)))
		msg = utf8_printable(msg, strlen(msg), shown, sizeof(shown));
	s->errors++;
	if (!strcmp(code, "internal")) {
		/* Our failure, not the client's: the operator should hear of it. */
		log_error(LOG_GRP, "%s: %s", c->by, msg);
		snprintf(s->last_error, sizeof(s->last_error), "%s", msg);
		s->last_error_us = daemon_now_us();
	}
	out = json_pack("{s:b, s:O*, s:{s:s, s:i, s:s, s:s}}", "ok", 0, "id", c->req_id, "error",
			"code", code, "errno", -r, "name", errno_name(r), "message", msg);
	if (out && !c->req_id)
		json_object_del(out, "id");
	/* What a client can act on beside the message (a review's near case ids); the four
	 * members above stay as they are. */
	if (out && extra)
		json_object_update_missing(json_object_get(out, "error"), extra);
	json_decref(extra);
	send_object(c, out);
}

/* ---- access records ---------------------------------------------------------------------- */

struct access_commit {
	struct server *s;
	json_t *entry;
};

static void on_access_committed(void *opaque, int status, uint64_t index,
				const struct err_detail *e)
{
	struct access_commit *ac = opaque;
	struct server *s = ac->s;

	(void)e; /* the writer logged the failure */
	s->pending--;
	if (status >= 0 && srv__index_own_access(&s->idx, index, ac->entry) < 0)
		log_error(LOG_GRP,
			  "out of memory indexing access entry %" PRIu64 "; the scan of "
			  "the log will index it",
			  index);
	json_decref(ac->entry);
	free(ac);
	server_maybe_done(s);
}

/* An access whose "entries" list is too long for one entry (a review of a large case, a
 * retention listing): parts of SRV_ACCESS_ENTRIES_MAX indexes each, every part the whole record
 * but for its slice of the list, with "part" (from 1) and "parts", committed together
 * (pipe_append_all()).  Every field but the list is bounded (docs/log.md), so each part is
 * within the entry limit.  Takes @entry. */
static void access_in_parts(struct srv_client *c, json_t *entry)
{
	const json_t *list = json_object_get(entry, "entries");
	size_t n = json_array_size(list),
	       nparts = (n + SRV_ACCESS_ENTRIES_MAX - 1) / SRV_ACCESS_ENTRIES_MAX;
	json_t **parts = calloc(nparts, sizeof(*parts));
	void **acs = calloc(nparts, sizeof(*acs));
	size_t k = 0;

	if (!parts || !acs)
		goto nomem;
	for (k = 0; k < nparts; k++) {
		json_t *part = json_copy(entry), *slice = json_array();
		struct access_commit *ac = malloc(sizeof(*ac));

		for (size_t i = k * SRV_ACCESS_ENTRIES_MAX;
		     slice && i < n && i < (k + 1) * SRV_ACCESS_ENTRIES_MAX; i++)
			if (json_array_append(slice, json_array_get(list, i)) < 0)
				slice = (json_decref(slice), NULL);
		if (!part || !slice || !ac ||
		    json_object_set_new(part, "entries", json_incref(slice)) < 0 ||
		    json_object_set_new(part, "part", json_integer((json_int_t)k + 1)) < 0 ||
		    json_object_set_new(part, "parts", json_integer((json_int_t)nparts)) < 0) {
			json_decref(part);
			json_decref(slice);
			free(ac);
			goto nomem;
		}
		json_decref(slice);
		*ac = (struct access_commit){ c->s, part };
		parts[k] = json_incref(part);
		acs[k] = ac;
	}
	c->s->pending += nparts;
	pipe_append_all(c->s->d->pipe, parts, nparts, on_access_committed, acs);
	json_decref(entry);
	free(parts);
	free(acs);
	return;
nomem:
	log_error(LOG_GRP, "%s: out of memory for the access record of '%s'", c->by,
		  json_string_value(json_object_get(entry, "op")));
	for (size_t i = 0; i < k; i++) {
		json_decref(parts[i]);
		json_decref(((struct access_commit *)acs[i])->entry);
		free(acs[i]);
	}
	free(parts);
	free(acs);
	json_decref(entry);
}

void srv__access(struct srv_client *c, const char *op, json_t *target, json_t *extra, bool allowed)
{
	char at[ING_RFC3339_MAX];
	struct access_commit *ac;
	json_t *entry;
	int failing;

	if (allowed && (failing = pipe_log_failing(c->s->d->pipe)) < 0) {
		/* The log failed since the request began: the read is not answered (the reply
		 * functions send reply_unrecorded()'s error instead), and is recorded as refused
		 * if the log takes it after all. */
		allowed = false;
		c->unrecorded = failing;
		if (!extra)
			extra = json_object();
		if (extra)
			json_object_set_new(extra, "result", json_string("log_unwritable"));
	}
	if (ing_format_utc((int64_t)daemon_now_us(), at) < 0)
		snprintf(at, sizeof(at), "1970-01-01T00:00:00Z");
	entry = json_pack("{s:i, s:s, s:s, s:I, s:s, s:o, s:s, s:b}", "v", 1, "type", "access",
			  "by", c->by, "uid", (json_int_t)c->peer.uid, "op", op, "target",
			  target ? target : json_null(), "at", at, "allowed", allowed);
	if (entry && extra)
		json_object_update(entry, extra);
	json_decref(extra);
	if (!entry) {
		log_error(LOG_GRP, "%s: out of memory for the access record of '%s'", c->by, op);
		return;
	}
	if (json_array_size(json_object_get(entry, "entries")) > SRV_ACCESS_ENTRIES_MAX) {
		access_in_parts(c, entry);
		return;
	}
	/* The index learns of the entry from this object when the commit is reported, rather
	 * than by reading and parsing it back from the log: with a verify costing one access
	 * entry, that was a fifth of the loop's time.  The object is only read meanwhile (by
	 * the writer thread, which canonicalises it; jansson's reference counts are atomic). */
	ac = malloc(sizeof(*ac));
	if (!ac) {
		pipe_append(c->s->d->pipe, entry, NULL, NULL); /* the scan will index it */
		return;
	}
	*ac = (struct access_commit){ c->s, entry };
	c->s->pending++;
	pipe_append(c->s->d->pipe, json_incref(entry), on_access_committed, ac);
}

/* A refusal is recorded, but a flood of them must not flood the log.  @result: why, when
 * not for the roles (the entry's "result"), or NULL. */
static void record_refusal(struct srv_client *c, const char *op, json_t *target, const char *result)
{
	struct server *s = c->s;
	uint64_t second = daemon_now_us() / 1000000;

	s->refusals++;
	if (second != s->refusal_second) {
		if (s->refusals_unrecorded)
			log_warning(LOG_GRP,
				    "%" PRIu64 " refused requests were not recorded in the "
				    "log (more than %d a second)",
				    s->refusals_unrecorded, SRV_REFUSALS_PER_S);
		s->refusal_second = second;
		s->refusals_this_second = 0;
		s->refusals_unrecorded = 0;
	}
	/* Refusals for an unwritable log are not capped per client: each is also what finds the
	 * log writable again, and a client that keeps one connection must get there. */
	if ((c->refusals >= SRV_REFUSALS_PER_CLIENT && !result) ||
	    s->refusals_this_second >= SRV_REFUSALS_PER_S) {
		s->refusals_unrecorded++;
		json_decref(target);
		return;
	}
	c->refusals++;
	s->refusals_this_second++;
	srv__access(c, op, target, result ? json_pack("{s:s}", "result", result) : NULL, false);
}

/* What a refused request was after, for its access record. */
static json_t *request_target(const json_t *req)
{
	static const char *const keys[] = {
		"kind", "index", "sha256", "old", "fingerprint", "entry"
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(req, keys[i]);

		if (!v)
			continue;
		if (!strcmp(keys[i], "fingerprint"))
			v = json_object_get(v, "sha256");
		if (json_is_string(v) && json_string_length(v) <= SRV_TARGET_MAX)
			return json_copy(v);
		return json_is_integer(v) ? json_copy(v) : json_null();
	}
	return json_null();
}

static void refuse(struct srv_client *c, const char *op, const json_t *req, unsigned need,
		   const struct err_detail *why)
{
	struct err_detail e;
	char have[64], want[64];

	record_refusal(c, op, request_target(req), NULL);
	if (why) {
		e = *why;
	} else {
		err_set(&e, -EACCES,
			"%s has the roles: %s; '%s' needs one of: %s (groups from "
			"[socket] in %s)",
			c->by, srv__role_names(c->roles, have, sizeof(have)), op,
			srv__role_names(need, want, sizeof(want)),
			c->s->d->cfg->file ? c->s->d->cfg->file : "the configuration");
	}
	srv__reply_error(c, -EACCES, &e);
	/* A peer with no role can do nothing here: tell it once and hang up. */
	if (!c->roles)
		c->close_after_write = true;
}

/* A read of evidence while the log's last append failed (its file system full): it could not
 * be recorded, so it is not answered.  The refusal is recorded as one (at most
 * SRV_REFUSALS_PER_S a second, but not capped per client), and that append is also what finds
 * the log writable again: once it commits, reads are answered (as after any append that
 * succeeds: an ingest retried, an annotation, a purge). */
static void unrecordable(struct srv_client *c, const char *op, const json_t *req, int code)
{
	struct err_detail e;

	record_refusal(c, op, request_target(req), "log_unwritable");
	err_set(&e, -EAGAIN,
		"'%s' reads evidence and every such read is recorded, but the log "
		"cannot be written now (its last append failed: %s); try again once the state "
		"file system has room",
		op, strerror(-code));
	srv__reply_error(c, e.code, &e);
}

/* ---- clients: requests ------------------------------------------------------------------- */

static void on_idle_timeout(uv_timer_t *t);

static void idle_restart(struct srv_client *c)
{
	uint64_t ms = c->s->d->cfg->idle_timeout_ms;

	if (!c->closing && ms)
		uv_timer_start(&c->idle, on_idle_timeout, ms, 0);
}

/* Nesting depth of a JSON text without parsing it: jansson would recurse up to 2048 levels;
 * no request needs more than a few, so refuse deep ones before the parser sees them. */
static bool too_deep(const char *p, size_t n)
{
	unsigned depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (in_string) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > SRV_MAX_DEPTH)
				return true;
		} else if ((ch == '}' || ch == ']') && depth) {
			depth--;
		}
	}
	return false;
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static void process_line(struct srv_client *c, const char *p, size_t n)
{
	struct server *s = c->s;
	const struct srv_op *op = NULL;
	struct err_detail e = { 0 };
	json_error_t je;
	json_t *req, *id;
	const char *name;
	int r;

	if (n && p[n - 1] == '\r')
		n--;
	if (blank(p, n))
		return;
	s->requests++;
	idle_restart(c);
	if (too_deep(p, n)) {
		err_set(&e, -EINVAL, "the request nests deeper than %d levels", SRV_MAX_DEPTH);
		srv__reply_error(c, e.code, &e);
		return;
	}
	req = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
	if (!req) {
		err_set(&e, -EINVAL, "malformed JSON at column %d: %s", je.column, je.text);
		srv__reply_error(c, e.code, &e);
		return;
	}
	if (!json_is_object(req)) {
		json_decref(req);
		err_set(&e, -EINVAL,
			"a request is one JSON object per line, like {\"op\":\"status\"}");
		srv__reply_error(c, e.code, &e);
		return;
	}
	id = json_object_get(req, "id");
	if (id && (json_is_string(id) || json_is_integer(id) || json_is_null(id)))
		c->req_id = json_incref(id);
	name = json_string_value(json_object_get(req, "op"));
	for (size_t i = 0; name && i < sizeof(srv_ops) / sizeof(srv_ops[0]); i++)
		if (!strcmp(srv_ops[i].name, name))
			op = &srv_ops[i];
	if (id && !c->req_id) {
		r = err_set(&e, -EINVAL, "\"id\" must be a string, an integer or null");
		srv__reply_error(c, r, &e);
	} else if (!name) {
		r = err_set(&e, -EINVAL, "the request has no \"op\" string (%s)", op_names());
		srv__reply_error(c, r, &e);
	} else if (!op) {
		r = err_set(&e, -EINVAL, "unknown op '%.64s' (%s)", name, op_names());
		srv__reply_error(c, r, &e);
	} else if (!(c->roles & op->roles)) {
		refuse(c, op->name, req, op->roles, NULL);
	} else if (op->recorded && (r = pipe_log_failing(s->d->pipe)) < 0) {
		unrecordable(c, op->name, req, r);
	} else {
		c->in_op = true;
		r = op->fn(c, req, &e);
		c->in_op = false;
		if (r == -EACCES)
			refuse(c, op->name, req, op->roles, &e);
		else if (r < 0)
			srv__reply_error(c, r, &e);
	}
	json_decref(req);
	if (!c->busy) {
		c->req_id = (json_decref(c->req_id), NULL);
		idle_restart(c);
	}
}

static size_t line_limit(const struct srv_client *c)
{
	uint64_t max = c->s->d->cfg->max_request_bytes;

	return max ? (size_t)max : 1u << 20;
}

static void too_large(struct srv_client *c)
{
	struct err_detail e;

	err_set(&e, -E2BIG,
		"a request line is longer than %zu bytes ([socket] max_request_bytes); "
		"closing",
		line_limit(c));
	srv__reply_error(c, e.code, &e);
	c->close_after_write = true;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

static void reading(struct srv_client *c, bool on)
{
	if (c->closing || on == c->reading)
		return;
	if (on && uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0) {
		client_close(c);
		return;
	}
	if (!on)
		uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = on;
}

static void client_drain(struct srv_client *c)
{
	size_t limit = line_limit(c);

	while (!c->busy && !c->closing && !c->close_after_write) {
		char *p = c->buf + c->start;
		size_t avail = c->len - c->start;
		char *nl = avail ? memchr(p, '\n', avail) : NULL;
		size_t n;

		if (!nl) {
			if (avail > limit) {
				too_large(c);
			} else if (c->eof && avail) {
				/* The last line may lack its newline. */
				c->start = c->len;
				process_line(c, p, avail);
				continue;
			}
			break;
		}
		n = (size_t)(nl - p);
		c->start += n + 1;
		if (n > limit) {
			too_large(c);
			break;
		}
		process_line(c, p, n);
	}
	if (c->start == c->len)
		c->start = c->len = 0;
	if (c->eof && !c->busy)
		c->close_after_write = true;
	if (c->close_after_write) {
		reading(c, false);
		close_if_flushed(c);
		return;
	}
	reading(c, !c->busy);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct srv_client *c = h->data;
	size_t max = line_limit(c) + 65536 + 1;

	(void)suggested;
	if (c->start) {
		memmove(c->buf, c->buf + c->start, c->len - c->start);
		c->len -= c->start;
		c->start = 0;
	}
	if (c->cap - c->len < 4096 && c->cap < max) {
		size_t cap = c->cap ? c->cap * 2 : 65536;
		char *b;

		if (cap > max)
			cap = max;
		b = realloc(c->buf, cap);
		if (b) {
			c->buf = b;
			c->cap = cap;
		}
	}
	/* A zero-length buffer makes libuv report UV_ENOBUFS, handled in on_read. */
	*buf = uv_buf_init(c->buf ? c->buf + c->len : NULL, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct srv_client *c = stream->data;

	(void)buf;
	if (nread == UV_EOF) {
		/* The peer may have shut down its side after its last request (a shell's
		 * `printf … | socat`): answer what it sent, then hang up. */
		c->eof = true;
		reading(c, false);
		client_drain(c);
		return;
	}
	if (nread < 0) {
		if (nread == UV_ENOBUFS)
			too_large(c);
		else
			client_close(c);
		return;
	}
	c->len += (size_t)nread;
	client_drain(c);
}

static void on_idle_timeout(uv_timer_t *t)
{
	struct srv_client *c = t->data;
	struct err_detail e;

	if (c->rejected) {
		/* Told "busy" a second ago and still not gone: its write is stuck. */
		client_close(c);
		return;
	}
	if (c->busy || c->closing || c->close_after_write)
		return;
	err_set(&e, -ETIMEDOUT,
		"no complete request for %" PRIu64 " ms ([socket] "
		"idle_timeout); closing",
		c->s->d->cfg->idle_timeout_ms);
	srv__reply_error(c, e.code, &e);
	c->close_after_write = true;
	reading(c, false);
	close_if_flushed(c);
}

void srv__hold(struct srv_client *c)
{
	c->busy = true;
	uv_timer_stop(&c->idle);
}

void srv__release(struct srv_client *c)
{
	c->busy = false;
	/* Answered before the operation returned (a short scan, a pipeline that called back
	 * at once): process_line() goes on with the next request itself. */
	if (c->in_op)
		return;
	c->req_id = (json_decref(c->req_id), NULL);
	if (c->closing)
		return;
	idle_restart(c);
	client_drain(c);
}

/* ---- accepting --------------------------------------------------------------------------- */

/* "busy" on a connection that is not taken: written at once with uv_try_write() and then
 * closed, nothing queued.  The line is far shorter than an empty socket's buffer, so the write
 * is whole; if it were not, the client would see the connection closed, as before. */
static void busy_tell(struct srv_client *c, const struct err_detail *e)
{
	json_t *o = json_pack("{s:b, s:{s:s, s:i, s:s, s:s}}", "ok", 0, "error", "code", "busy",
			      "errno", -e->code, "name", errno_name(e->code), "message", e->msg);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	uv_buf_t bufs[2];

	json_decref(o);
	c->s->errors++;
	if (!text)
		return;
	bufs[0] = uv_buf_init(text, (unsigned)strlen(text));
	bufs[1] = uv_buf_init("\n", 1);
	(void)uv_try_write((uv_stream_t *)&c->pipe, bufs, 2);
	free(text);
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct server *s = container_of(listener, struct server, listener);
	const struct cfg *cfg = s->d->cfg;
	struct srv_client *c;
	struct err_detail e;
	uv_os_fd_t fd;
	char roles[64];
	struct srv_user *u;
	unsigned limit;

	if (status < 0) {
		log_warning(LOG_GRP, "cannot accept a connection: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_error(LOG_GRP, "out of memory for a new client");
		return; /* libuv stops accepting until the next attempt succeeds */
	}
	c->s = s;
	c->serial = ++s->serial;
	snprintf(c->by, sizeof(c->by), "client %" PRIu64, c->serial);
	uv_pipe_init(s->d->loop, &c->pipe, 0);
	uv_timer_init(s->d->loop, &c->idle);
	c->pipe.data = c->idle.data = c;
	c->handles = 2;
	s->allocated++;
	c->rejected = true; /* until it is counted as a client */
	s->nrejecting++;
	if (uv_accept(listener, (uv_stream_t *)&c->pipe) < 0) {
		client_close(c);
		return;
	}
	/* Who it is comes first: the last places are kept for operators (SRV_OPERATOR_RESERVE),
	 * so that a flood of connections by anyone else cannot lock them out, and everyone
	 * else's uid may hold at most max_clients_per_user of the rest. */
	roles_refresh(s);
	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0) {
		client_close(c);
		return;
	}
	if (s->peercred(fd, &c->peer, &e) < 0) {
		log_warning(LOG_GRP, "cannot learn who connected (%s); closing the connection",
			    e.msg);
		client_close(c);
		return;
	}
	c->roles = srv__roles(&s->roles, &c->peer, s->self_uid);
	limit = cfg->max_clients;
	if (!(c->roles & SRV_OPERATOR))
		limit -= SRV_OPERATOR_RESERVE(limit);
	if (s->nclients >= limit) {
		s->busy_rejects++;
		err_set(&e, -EUSERS,
			"too many clients (%zu; [socket] max_clients %u, of which %u "
			"kept for operators); try again later",
			s->nclients, cfg->max_clients, SRV_OPERATOR_RESERVE(cfg->max_clients));
		busy_tell(c, &e);
		client_close(c);
		return;
	}
	u = user_find(s, c->peer.uid);
	limit = cfg->max_clients_per_user; /* 0: none */
	if (limit && u && u->n >= limit && !(c->roles & SRV_OPERATOR)) {
		s->busy_rejects++;
		err_set(&e, -EUSERS,
			"too many connections from uid %u (%u; [socket] "
			"max_clients_per_user %u); close one, or try again later",
			(unsigned)c->peer.uid, u->n, limit);
		busy_tell(c, &e);
		client_close(c);
		return;
	}
	if (user_take(s, c, u) < 0) {
		log_error(LOG_GRP, "out of memory for a new client");
		client_close(c);
		return;
	}
	s->nrejecting--;
	c->rejected = false;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	s->accepted++;
	peer_by(c->peer.uid, c->by, sizeof(c->by));
	log_debug(LOG_GRP, "%s (pid %d) connected, roles %s", c->by, (int)c->peer.pid,
		  srv__role_names(c->roles, roles, sizeof(roles)));
	idle_restart(c);
	reading(c, true);
}

/* ---- background slices ------------------------------------------------------------------- */

static void on_bg(uv_idle_t *h)
{
	struct server *s = container_of(h, struct server, bg);
	struct err_detail e;
	bool more = false;
	int r;

	if (s->closing) {
		uv_idle_stop(h);
		return;
	}
	r = srv__index_step(&s->idx, s->d->log, uv_hrtime() + SRV_SLICE_NS, &e);
	if (r < 0) {
		/* Retried from the tail timer; logged once per failure streak. */
		if (!s->index_failed)
			log_error(LOG_GRP, "cannot index the log: %s; retrying", e.msg);
		s->index_failed = true;
	} else {
		if (s->index_failed)
			log_notice(LOG_GRP, "indexing the log again");
		s->index_failed = false;
		more = r > 0;
		srv__duties_push(s);
	}
	for (struct srv_client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c->scan && srv__scan_step(c, uv_hrtime() + SRV_SLICE_NS))
			more = true;
	}
	if (!more)
		uv_idle_stop(h);
}

void srv__duties_push(struct server *s)
{
	const struct srv_index *x = &s->idx;
	size_t i = x->nnotes;

	/* Before the first pass is done, an annotation made now sits in the index ahead of older
	 * ones still to come: wait, so that none is passed over.  After it, every new note is
	 * the newest. */
	if (!x->caught_up || !s->d->pipe)
		return;
	while (i > 0 && x->notes[i - 1].index >= s->duties_next)
		i--;
	for (; i < x->nnotes; i++) {
		const struct srv_note *n = &x->notes[i];

		if (n->kind == SRV_NOTE_REMOTE_DUTY)
			pipe_remote_duty(s->d->pipe, n->index, n->device, n->officer, n->from_us,
					 n->to_us, n->returned_us);
		s->duties_next = n->index + 1;
	}
}

void srv__index_catch_up(struct server *s)
{
	struct err_detail e;
	int r;

	/* Once the first pass is done, the index is at most a second behind: a slice covers
	 * what came since (a request asks for this before it relies on the index). */
	if (!s->idx.caught_up)
		return;
	r = srv__index_step(&s->idx, s->d->log, uv_hrtime() + SRV_SLICE_NS, &e);
	if (r > 0)
		srv__bg_kick(s);
	srv__duties_push(s);
}

void srv__bg_kick(struct server *s)
{
	if (!s->closing && !uv_is_active((uv_handle_t *)&s->bg))
		uv_idle_start(&s->bg, on_bg);
}

static void on_tail(uv_timer_t *t)
{
	struct server *s = container_of(t, struct server, tail);
	uint64_t size;

	if (tlog_size(s->d->log, &size, NULL) == 0 && size > s->idx.scanned)
		srv__bg_kick(s);
}

/* ---- the listening socket ---------------------------------------------------------------- */

static int remove_stale(const char *path, struct err_detail *reterr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	auto_close int fd = -1;
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(reterr, -errno, "cannot inspect '%s': %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return err_set(reterr, -EEXIST,
			       "'%s' exists and is not a socket; remove it or set "
			       "[socket] path",
			       path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(reterr, -errno, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN ||
	    errno == EINPROGRESS)
		return err_set(reterr, -EADDRINUSE,
			       "another process answers on '%s' (is custodyd "
			       "already running? systemctl status custodyd)",
			       path);
	if (errno != ECONNREFUSED)
		return err_set(reterr, -errno, "cannot tell whether '%s' is in use: %s", path,
			       strerror(errno));
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(reterr, -errno, "cannot remove the stale socket '%s': %s", path,
			       strerror(errno));
	log_notice(LOG_GRP, "removed the stale socket '%s'", path);
	return 0;
}

static int listen_fd(const char *path, int *ret, struct err_detail *reterr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	auto_close int fd = -1;
	int r;

	r = remove_stale(path, reterr);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(reterr, -errno, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		if (r == -ENOENT)
			return err_set(reterr, r,
				       "cannot bind '%s': its folder does not exist (the "
				       "unit's RuntimeDirectory=custody makes /run/custody)",
				       path);
		return err_set(reterr, r, "cannot bind '%s': %s", path, strerror(-r));
	}
	if (chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		unlink(path);
		return err_set(reterr, r, "cannot set up '%s': %s", path, strerror(-r));
	}
	*ret = TAKE_FD(fd);
	return 0;
}

static void on_server_handle_closed(uv_handle_t *h)
{
	struct server *s = h->data;

	s->handles--;
	server_maybe_done(s);
}

static void server_maybe_done(struct server *s)
{
	void (*done)(void *);
	void *opaque;

	if (!s->closing || s->handles || s->pending || s->clients || s->nclients || s->nrejecting ||
	    s->allocated)
		return;
	if (s->nusers) /* each taken client drops its uid's count: a bug, but not worth a crash */
		log_error(LOG_GRP, "%zu per-uid connection counts left at shutdown", s->nusers);
	done = s->done;
	opaque = s->opaque;
	srv__index_done(&s->idx);
	s->vcache = (srv__vcache_free(s->vcache), NULL);
	free(s);
	if (done)
		done(opaque);
}

int srv_new(struct daemon *d, struct server **ret, struct err_detail *reterr)
{
	const char *path = d->cfg->socket_path;
	struct server *s;
	char warn[512];
	int fd = -1, r;

	if (!path || !path[0] || strlen(path) >= sizeof(s->path))
		return err_set(reterr, -ENAMETOOLONG,
			       "[socket] path '%s' is empty or longer than "
			       "%zu bytes",
			       path ? path : "", sizeof(s->path) - 1);
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(reterr, -ENOMEM, "out of memory");
	s->d = d;
	s->self_uid = geteuid();
	{
		/* The daemon's start on the monotonic clock, for status's uptime_s: the wall
		 * clock (d->started_us) may be stepped later. */
		uint64_t now = daemon_now_us(), hr = uv_hrtime();
		uint64_t ago_ns = now > d->started_us ? (now - d->started_us) * 1000 : 0;

		s->started_ns = ago_ns < hr ? hr - ago_ns : 0;
	}
	s->peercred = srv__peer_credentials;
	snprintf(s->path, sizeof(s->path), "%s", path);
	r = srv__index_init(&s->idx);
	if (r < 0) {
		free(s);
		return err_set(reterr, r, "out of memory");
	}
	r = srv__roles_resolve(d->cfg, &s->roles, warn, sizeof(warn), reterr);
	if (r < 0)
		goto fail;
	if (warn[0])
		log_warning(LOG_GRP, "%s: nobody has that role, ignoring", warn);
	s->roles_cfg = d->cfg;
	r = listen_fd(path, &fd, reterr);
	if (r < 0)
		goto fail;
	uv_pipe_init(d->loop, &s->listener, 0);
	uv_idle_init(d->loop, &s->bg);
	uv_timer_init(d->loop, &s->tail);
	s->listener.data = s->bg.data = s->tail.data = s;
	s->handles = 3;
	r = uv_pipe_open(&s->listener, fd);
	if (r < 0)
		close(fd); /* not taken by the handle */
	else
		r = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
	if (r < 0) {
		unlink(path);
		err_set(reterr, r, "cannot listen on '%s': %s", path, uv_strerror(r));
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
		uv_close((uv_handle_t *)&s->bg, on_server_handle_closed);
		uv_close((uv_handle_t *)&s->tail, on_server_handle_closed);
		return r;
	}
	s->listening = true;
	uv_timer_start(&s->tail, on_tail, SRV_TAIL_MS, SRV_TAIL_MS);
	srv__bg_kick(s);
	*ret = s;
	return 0;
fail:
	srv__index_done(&s->idx);
	s->vcache = (srv__vcache_free(s->vcache), NULL);
	free(s);
	return r;
}

void srv_close(struct server *s, void (*done)(void *opaque), void *opaque)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	s->done = done;
	s->opaque = opaque;
	if (s->listening && unlink(s->path) < 0 && errno != ENOENT)
		log_warning(LOG_GRP, "cannot remove '%s': %s, ignoring", s->path, strerror(errno));
	uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
	uv_close((uv_handle_t *)&s->bg, on_server_handle_closed);
	uv_close((uv_handle_t *)&s->tail, on_server_handle_closed);
	while (s->clients)
		client_close(s->clients);
	server_maybe_done(s);
}

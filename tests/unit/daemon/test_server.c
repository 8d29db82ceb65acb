/* Unit tests of the socket server (daemon/server/): a real libuv loop on its own
 * thread, a real log in a fresh mkdtemp() directory, and the fake pipeline of fake-pipeline.h,
 * which appends on the loop thread with tlog_append() and calls back from a uv_idle handle, as
 * the writer thread's uv_async would.  The test's main thread is the client: plain blocking
 * Unix sockets, one JSON line out, one line back.  Peer credentials come from a fake (struct
 * server's peercred), so roles are tested without creating users; srv__roles() is also tested
 * alone. Every test ends with srv_close() and uv_loop_close() == 0: no handle leaked.
 *
 * One file because every test needs the same costly fixture (a loop thread, a log, the fake
 * pipeline, which defines the pipe_*() functions and can be linked once per executable) and the
 * same client helpers (rpc(), assert_error()). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "conf/conf.h"
#include "daemon/daemon.h"
#include "verify/entry.h"
#include "base/err.h"
#include "base/hex.h"
#include "verify/hash.h"
#include "verify/keys.h"
#include "verify/note.h"
#include "daemon/pipeline.h"
#include "tests/unit/daemon/fake-pipeline.h"
#include "verify/proof.h"
#include "daemon/server/server.h"
#include "daemon/server/internal.h"
#include "ingest/store.h"
#include "verify/tlog.h"
#include "daemon/watch.h"

/* ---- fakes of what server.c uses from watch.c and main.c (the pipeline's: fake-pipeline.c) - */

size_t watch_waiting(const struct watch *w, size_t zone)
{
	(void)w;
	return zone + 3;
}

uint64_t daemon_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Peer credentials the server sees, when fake_peer.on. */
static struct {
	pthread_mutex_t lock;
	bool on;
	uid_t uid;
	gid_t gid;
	gid_t groups[4];
	size_t ngroups;
} fake_peer = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int fake_peercred(int fd, struct srv_peer *ret, struct err_detail *reterr)
{
	int r = 0;

	pthread_mutex_lock(&fake_peer.lock);
	if (!fake_peer.on) {
		pthread_mutex_unlock(&fake_peer.lock);
		return srv__peer_credentials(fd, ret, reterr);
	}
	*ret = (struct srv_peer){ .pid = 1, .uid = fake_peer.uid, .gid = fake_peer.gid };
	ret->groups = calloc(4, sizeof(gid_t));
	if (!ret->groups)
		r = -ENOMEM;
	else
		memcpy(ret->groups, fake_peer.groups, sizeof(fake_peer.groups));
	ret->ngroups = fake_peer.ngroups;
	pthread_mutex_unlock(&fake_peer.lock);
	return r;
}

static void set_peer(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	pthread_mutex_lock(&fake_peer.lock);
	fake_peer.on = true;
	fake_peer.uid = uid;
	fake_peer.gid = gid;
	fake_peer.ngroups = n;
	if (n)
		memcpy(fake_peer.groups, groups, n * sizeof(gid_t));
	pthread_mutex_unlock(&fake_peer.lock);
}

/* Role groups: these exist on every Debian system. */
#define GID_OPERATORS 4 /* adm */
#define GID_REVIEWERS 1 /* daemon */
#define GID_AUDITORS 2	/* bin */
#define GID_APPROVERS 3 /* sys */

/* ---- fixture ------------------------------------------------------------------------------- */

struct fx {
	char dir[64], db[96], keyfile[96], sock[128];
	char *vkey;
	struct vfy_signer *signer;
	struct vfy_verifier verifier;
	struct tlog *log;
	uv_loop_t loop;
	uv_async_t stop;
	struct cfg cfg;
	struct cfg_zone zones[2];
	struct daemon d;
	struct pipeline pipe;
	struct store *store; /* only for the tests that need originals: use_store() */
	struct server *srv;
	pthread_t thread;
	bool running;
	bool closed;
	bool loop_closed;
	/* the log's content, made by populate() */
	uint64_t a, b, c, d_late; /* indexes of the originals A, B, C (damaged), D (uncovered) */
	char a_sha[65], a_video[65], a_audio[65];
	uint8_t a_keys[10][32];
};

static char dummy_watch;

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct err_detail e;
	char *skey = NULL;
	FILE *f;

	strcpy(fx->dir, "/tmp/custody-srv-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/db", fx->dir);
	snprintf(fx->keyfile, sizeof(fx->keyfile), "%s/log.key", fx->dir);
	snprintf(fx->sock, sizeof(fx->sock), "%s/custody.sock", fx->dir);
	assert_int_equal(vfy_keygen("test.example/log", &skey, &fx->vkey, &e), 0);
	assert_int_equal(vfy_signer_parse(skey, strlen(skey), &fx->signer, &e), 0);
	assert_int_equal(vfy_verifier_parse(fx->vkey, strlen(fx->vkey), &fx->verifier, &e), 0);
	f = fopen(fx->keyfile, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", skey);
	fclose(f);
	chmod(fx->keyfile, 0600);
	vfy_secret_free(skey);
	assert_int_equal(tlog_create(fx->db, "test.example/log", fx->keyfile, fx->vkey, &e), 0);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &fx->log, &e), 0);

	fx->zones[0] =
	    (struct cfg_zone){ .name = "dock", .path = "/srv/dock", .kind = CFG_ZONE_DOCK };
	fx->zones[1] =
	    (struct cfg_zone){ .name = "upload", .path = "/srv/up", .kind = CFG_ZONE_UPLOAD };
	fx->cfg = (struct cfg){ .file = "test.conf",
				.origin = "test.example/log",
				.socket_path = fx->sock,
				.operators = "adm",
				.reviewers = "daemon",
				.auditors = "bin",
				.approvers = "sys, no-such-group-here",
				.max_clients = 8,
				.idle_timeout_ms = 10000,
				.max_request_bytes = 1 << 20,
				.split_tolerance_ms = 3000,
				.zones = fx->zones,
				.nzones = 2 };
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(fake_pipe_init(&fx->pipe, fx->log, &fx->loop), 0);
	fx->d = (struct daemon){ .loop = &fx->loop,
				 .cfg = &fx->cfg,
				 .log = fx->log,
				 .pipe = &fx->pipe,
				 .watch = (struct watch *)&dummy_watch,
				 .started_us = daemon_now_us() - 5000000 };
	pthread_mutex_lock(&fake_peer.lock);
	fake_peer.on = false;
	pthread_mutex_unlock(&fake_peer.lock);
	*state = fx;
	return 0;
}

static void on_srv_closed(void *opaque)
{
	struct fx *fx = opaque;

	fx->closed = true;
	fake_pipe_close(&fx->pipe);
}

static void on_stop(uv_async_t *a)
{
	struct fx *fx = a->data;

	uv_close((uv_handle_t *)a, NULL);
	if (fx->srv)
		srv_close(fx->srv, on_srv_closed, fx);
	else
		on_srv_closed(fx);
}

static void *loop_main(void *arg)
{
	struct fx *fx = arg;

	uv_run(&fx->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void start(struct fx *fx)
{
	struct err_detail e = { 0 };

	assert_int_equal(uv_async_init(&fx->loop, &fx->stop, on_stop), 0);
	fx->stop.data = fx;
	assert_int_equal(srv_new(&fx->d, &fx->srv, &e), 0);
	fx->srv->peercred = fake_peercred;
	assert_int_equal(pthread_create(&fx->thread, NULL, loop_main, fx), 0);
	fx->running = true;
}

/* Stop the loop thread; every handle must be closed. */
static void stop(struct fx *fx)
{
	if (!fx->running)
		return;
	uv_async_send(&fx->stop);
	pthread_join(fx->thread, NULL);
	fx->running = false;
	assert_true(fx->closed);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	fx->loop_closed = true;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	if (fx->running) {
		uv_async_send(&fx->stop);
		pthread_join(fx->thread, NULL);
	}
	if (!fx->loop_closed) {
		/* A test that never started the server (or failed half-way). */
		fake_pipe_close(&fx->pipe);
		uv_run(&fx->loop, UV_RUN_NOWAIT);
		uv_loop_close(&fx->loop);
	}
	fake_pipe_done(&fx->pipe);
	store_free(fx->store);
	tlog_free(fx->log);
	rm_rf(fx->dir);
	vfy_signer_free(fx->signer);
	free(fx->vkey);
	free(fx);
	return 0;
}

/* ---- the log's content --------------------------------------------------------------------- */

static void fake_hash(const char *what, unsigned i, uint8_t out[32])
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s/%u", what, i);
	assert_int_equal(vfy_sha256(buf, strlen(buf), out), 0);
}

static void fake_hex(const char *what, unsigned i, char out[65])
{
	uint8_t h[32];

	fake_hash(what, i, h);
	hex_encode(h, 32, out);
}

/* Append @text canonicalised, with @keys; @return its index. */
static uint64_t append(struct fx *fx, const char *text, const struct tlog_key *keys, size_t nkeys)
{
	struct err_detail e;
	struct iovec iov;
	char *canon;
	size_t len;
	uint64_t first;

	assert_int_equal(vfy_entry_canonicalize(text, strlen(text), &canon, &len, &e), 0);
	iov = (struct iovec){ canon, len };
	assert_int_equal(tlog_append_keyed(fx->log, &iov, 1, keys, nkeys, &first, &e), 0);
	free(canon);
	return first;
}

static void sign(struct fx *fx)
{
	struct err_detail e;
	int signed_;

	assert_int_equal(tlog_checkpoint_sign(fx->log, fx->signer, &signed_, &e), 0);
}

static uint64_t add_original(struct fx *fx, const char *tag, const char *type, const char *name,
			     const char *zone, const char *device, const char *storage,
			     const char *start, char sha_out[65], char video_out[65],
			     char audio_out[65], uint8_t key_out[10][32])
{
	struct tlog_key keys[13] = { 0 };
	char sha[65], video[65], audio[65], text[2048];
	uint8_t h[32];
	uint64_t index;

	fake_hex(tag, 1000, sha);
	fake_hex(tag, 1001, video);
	fake_hex(tag, 1002, audio);
	snprintf(text, sizeof(text),
		 "{\"v\":1,\"type\":\"%s\",\"name\":\"%s\",\"zone\":\"%s\",\"device\":\"%s\","
		 "\"officer\":\"OFF7\",\"storage\":\"%s\",\"deadline\":\"2024-05-02T08:01:40Z\","
		 "\"recorded_start\":\"%s\",\"recorded_end\":\"2024-05-01T08:01:40Z\","
		 "\"ingested_at\":\"2024-05-02T09:00:00Z\",\"sha256\":\"%s\",\"size\":1000,"
		 "\"start_us\":0,\"duration_us\":100000000,\"container\":\"mov,mp4\","
		 "\"time_source\":\"tag\",\"stored\":\"ab/%s\","
		 "\"tags\":{\"creation_time\":\"%s-tag\",\"make\":\"Acme\"},"
		 "\"streams\":[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":100,"
		 "\"keyframes\":10,\"digest\":\"%s\"},{\"index\":1,\"type\":\"audio\","
		 "\"codec\":\"aac\",\"packets\":200,\"keyframes\":200,\"digest\":\"%s\"}]}",
		 type, name, zone, device, storage, start, sha, sha, tag, video, audio);
	fake_hash(tag, 1000, keys[0].hash);
	keys[0].kind = TLOG_KEY_FILE;
	fake_hash(tag, 1001, keys[1].hash);
	keys[1].kind = TLOG_KEY_STREAM;
	vfy_key_extra_put(keys[1].extra, 0, 100, 0);
	fake_hash(tag, 1002, keys[2].hash);
	keys[2].kind = TLOG_KEY_STREAM;
	vfy_key_extra_put(keys[2].extra, 1, 200, 0);
	for (unsigned i = 0; i < 10; i++) {
		fake_hash(tag, i, h);
		memcpy(keys[3 + i].hash, h, 32);
		keys[3 + i].kind = TLOG_KEY_PACKET;
		/* a key packet every 10 packets (interleaved with audio: ordinal within video) */
		vfy_key_extra_put(keys[3 + i].extra, 0, (int64_t)i * 1000000, i * 10);
		if (key_out)
			memcpy(key_out[i], h, 32);
	}
	index = append(fx, text, keys, 13);
	if (sha_out)
		strcpy(sha_out, sha);
	if (video_out)
		strcpy(video_out, video);
	if (audio_out)
		strcpy(audio_out, audio);
	return index;
}

/* 0 A (dock, CAM01, late)  1 B (upload, CAM02)  2 C (damaged, dock, CAM01)  [checkpoint 3]
 * 3..9 scrub entries  [checkpoint 10]  10 D (dock, CAM03, not covered by a checkpoint) */
static void populate(struct fx *fx)
{
	char text[256];

	fx->a = add_original(fx, "A", "ingest", "CAM01/CAM01_OFF7_20240501080000_0001.mp4", "dock",
			     "CAM01", "late", "2024-05-01T08:00:00Z", fx->a_sha, fx->a_video,
			     fx->a_audio, fx->a_keys);
	fx->b = add_original(fx, "B", "ingest", "up/b.mp4", "upload", "CAM02", "on_time",
			     "2024-05-01T09:00:00Z", NULL, NULL, NULL, NULL);
	fx->c = add_original(fx, "C", "damaged", "CAM01/c.mp4", "dock", "CAM01", "on_time",
			     "2024-05-01T10:00:00Z", NULL, NULL, NULL, NULL);
	sign(fx);
	for (unsigned i = 3; i < 10; i++) {
		snprintf(text, sizeof(text),
			 "{\"v\":1,\"type\":\"scrub\",\"checked\":%u,\"ok\":%u,"
			 "\"at\":\"2024-05-0%uT00:00:00Z\"}",
			 i, i, i);
		append(fx, text, NULL, 0);
	}
	sign(fx);
	fx->d_late = add_original(fx, "D", "ingest", "CAM03/d.mp4", "dock", "CAM03", "on_time",
				  "2024-05-01T11:00:00Z", NULL, NULL, NULL, NULL);
}

/* ---- the client ---------------------------------------------------------------------------- */

static int connect_to(struct fx *fx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, fx->sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		assert_true(n > 0);
		data += n;
		len -= (size_t)n;
	}
}

/* One reply line, or NULL at EOF. */
static json_t *read_reply(int fd)
{
	static char buf[1 << 22];
	size_t len = 0;
	json_error_t je;
	json_t *j;

	for (;;) {
		ssize_t n = recv(fd, buf + len, 1, 0);

		if (n == 0 && len == 0)
			return NULL;
		assert_true(n == 1);
		if (buf[len] == '\n')
			break;
		len++;
		assert_true(len < sizeof(buf));
	}
	j = json_loadb(buf, len, 0, &je);
	if (!j)
		fail_msg("reply does not parse: %s: %.*s", je.text, (int)len, buf);
	return j;
}

static json_t *rpc(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *rpc(int fd, const char *fmt, ...)
{
	char *line;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	assert_true(n > 0);
	send_all(fd, line, (size_t)n);
	send_all(fd, "\n", 1);
	free(line);
	return read_reply(fd);
}

static bool ok(const json_t *r)
{
	return json_is_true(json_object_get(r, "ok"));
}

static const char *err_code(const json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"), "code"));
}

static void assert_error(json_t *r, const char *code)
{
	assert_non_null(r);
	if (ok(r) || !err_code(r) || strcmp(err_code(r), code)) {
		char *s = json_dumps(r, 0);

		fail_msg("expected error '%s', got %s", code, s);
	}
	assert_non_null(json_object_get(json_object_get(r, "error"), "message"));
	assert_non_null(json_object_get(json_object_get(r, "error"), "name"));
}

static void assert_ok(const json_t *r)
{
	assert_non_null(r);
	if (!ok(r)) {
		char *s = json_dumps(r, 0);

		fail_msg("expected ok, got %s", s);
	}
}

static int64_t jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static const char *jstring(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	assert_non_null(s);
	return s;
}

static bool at_eof(int fd)
{
	char ch;

	return recv(fd, &ch, 1, 0) == 0;
}

/* EOF, or ECONNRESET when the server closed with bytes of ours unread (AF_UNIX does that). */
static bool hung_up(int fd)
{
	char ch;
	ssize_t n = recv(fd, &ch, 1, 0);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* The newest access entry for @op. */
static json_t *last_access(struct fx *fx, const char *op)
{
	struct err_detail e;
	uint64_t size;

	assert_int_equal(tlog_size(fx->log, &size, &e), 0);
	for (uint64_t i = size; i-- > 0;) {
		char *bytes;
		size_t len;
		json_t *o;

		assert_int_equal(tlog_entry(fx->log, i, &bytes, &len, &e), 0);
		o = json_loadb(bytes, len, 0, NULL);
		free(bytes);
		if (!strcmp(json_string_value(json_object_get(o, "type")), "access") &&
		    !strcmp(json_string_value(json_object_get(o, "op")), op))
			return o;
		json_decref(o);
	}
	return NULL;
}

/* ---- roles --------------------------------------------------------------------------------- */

static void test_roles_resolver(void **state)
{
	struct srv_role_gids map = { 0 };
	gid_t groups[2] = { 100, GID_AUDITORS };
	struct srv_peer p = { .uid = 4242, .gid = 999 };
	struct fx *fx = *state;
	struct err_detail e;
	char warn[256], names[64];

	assert_int_equal(srv__roles_resolve(&fx->cfg, &map, warn, sizeof(warn), &e), 0);
	assert_int_equal(map.n[0], 1);
	assert_int_equal(map.gid[0][0], GID_OPERATORS);
	assert_int_equal(map.gid[1][0], GID_REVIEWERS);
	assert_int_equal(map.gid[2][0], GID_AUDITORS);
	assert_int_equal(map.n[3], 1); /* sys; the missing group is a warning */
	assert_non_null(strstr(warn, "no-such-group-here"));

	assert_int_equal(srv__roles(&map, &p, 7777), 0); /* nobody */
	assert_int_equal(srv__roles(&map, &(struct srv_peer){ .uid = 0, .gid = 999 }, 7777),
			 SRV_OPERATOR);
	assert_int_equal(srv__roles(&map, &(struct srv_peer){ .uid = 7777, .gid = 999 }, 7777),
			 SRV_OPERATOR);
	p.gid = GID_REVIEWERS;
	assert_int_equal(srv__roles(&map, &p, 7777), SRV_REVIEWER);
	p.groups = groups;
	p.ngroups = 2;
	assert_int_equal(srv__roles(&map, &p, 7777), SRV_REVIEWER | SRV_AUDITOR);
	assert_string_equal(srv__role_names(SRV_REVIEWER | SRV_AUDITOR, names, sizeof(names)),
			    "reviewer,auditor");
	assert_string_equal(srv__role_names(0, names, sizeof(names)), "none");

	/* Too many groups for one role. */
	fx->cfg.reviewers = "a b c d e f g h i";
	assert_int_equal(srv__roles_resolve(&fx->cfg, &map, NULL, 0, &e), -EINVAL);
	fx->cfg.reviewers = "daemon";
}

static void test_forbidden(void **state)
{
	struct fx *fx = *state;
	gid_t reviewer = GID_REVIEWERS;
	json_t *r, *a;
	int fd;

	populate(fx);
	start(fx);

	/* No role at all: forbidden for everything, recorded, and hung up on. */
	set_peer(4242, 999, NULL, 0);
	fd = connect_to(fx);
	r = rpc(fd, "{\"op\":\"entry\",\"index\":0,\"id\":5}");
	assert_error(r, "forbidden");
	assert_int_equal(jint(r, "id"), 5);
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "none"));
	json_decref(r);
	assert_true(at_eof(fd));
	close(fd);
	a = last_access(fx, "entry");
	assert_non_null(a);
	assert_true(json_is_false(json_object_get(a, "allowed")));
	assert_int_equal(jint(a, "uid"), 4242);
	assert_int_equal(jint(a, "target"), 0);
	assert_non_null(strstr(jstring(a, "by"), "(uid 4242)"));
	json_decref(a);

	/* A reviewer may read but not approve; the connection stays. */
	set_peer(4243, 999, &reviewer, 1);
	fd = connect_to(fx);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"bob\","
		    "\"entries\":[0],\"purpose\":\"x\",\"expires\":\"2999-01-01T00:00:00Z\"}");
	assert_error(r, "forbidden");
	json_decref(r);
	a = last_access(fx, "annotate");
	assert_non_null(a);
	assert_true(json_is_false(json_object_get(a, "allowed")));
	assert_string_equal(jstring(a, "target"), "approval");
	json_decref(a);
	r = rpc(fd, "{\"op\":\"status\"}");
	assert_ok(r);
	json_decref(r);
	close(fd);

	/* An approver may. */
	set_peer(4244, GID_APPROVERS, NULL, 0);
	fd = connect_to(fx);
	r = rpc(fd,
		"{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"bob\","
		"\"entries\":[0,1],\"purpose\":\"court\",\"expires\":\"2999-01-01T00:00:00Z\"}");
	assert_ok(r);
	json_decref(r);
	/* ... but an auditor may not annotate at all. */
	close(fd);
	set_peer(4245, GID_AUDITORS, NULL, 0);
	fd = connect_to(fx);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"C1\",\"entries\":[0]}");
	assert_error(r, "forbidden");
	json_decref(r);
	r = rpc(fd, "{\"op\":\"entry\",\"index\":1}");
	assert_ok(r);
	json_decref(r);
	close(fd);
	stop(fx);
}

/* ---- reads --------------------------------------------------------------------------------- */

static void test_status(void **state)
{
	struct fx *fx = *state;
	json_t *r, *cp, *zones, *pipeline, *open;
	int fd;

	populate(fx);
	start(fx);
	fd = connect_to(fx); /* real credentials: root or the test's own uid, an operator */
	r = rpc(fd, "{\"op\":\"status\",\"id\":\"s1\"}");
	assert_ok(r);
	assert_string_equal(jstring(r, "id"), "s1");
	assert_int_equal(jint(r, "size"), 11);
	cp = json_object_get(r, "checkpoint");
	assert_int_equal(jint(cp, "size"), 10);
	assert_non_null(strstr(jstring(cp, "note"), "test.example/log\n10\n"));
	zones = json_object_get(r, "zones");
	assert_int_equal(json_array_size(zones), 2);
	assert_string_equal(jstring(json_array_get(zones, 1), "name"), "upload");
	assert_int_equal(jint(json_array_get(zones, 1), "waiting"), 4);
	pipeline = json_object_get(r, "pipeline");
	assert_int_equal(jint(pipeline, "in_flight"), 2);
	assert_string_equal(jstring(pipeline, "last_error"), "test error");
	assert_true(jint(r, "uptime_s") >= 4);
	open = json_object_get(r, "open");
	assert_int_equal(jint(open, "late"), 1);	       /* A */
	assert_int_equal(jint(open, "damaged_unreported"), 1); /* C */
	assert_true(json_is_true(json_object_get(json_object_get(r, "index"), "caught_up")));
	json_decref(r);

	/* Explaining them closes them. */
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"late_storage\",\"entry\":0,"
		    "\"reason\":\"the dock was offline\"}");
	assert_ok(r);
	json_decref(r);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"damage_report\",\"entry\":2,"
		    "\"explanation\":\"card failure\"}");
	assert_ok(r);
	json_decref(r);
	r = rpc(fd, "{\"op\":\"status\"}");
	open = json_object_get(r, "open");
	assert_int_equal(jint(open, "late"), 0);
	assert_int_equal(jint(open, "damaged_unreported"), 0);
	json_decref(r);
	close(fd);
	stop(fx);
}

static void test_entry(void **state)
{
	struct fx *fx = *state;
	json_t *r, *a;
	int fd;

	populate(fx);
	start(fx);
	fd = connect_to(fx);
	r = rpc(fd, "{\"op\":\"entry\",\"index\":%" PRIu64 "}", fx->a);
	assert_ok(r);
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	assert_string_equal(jstring(json_object_get(r, "entry"), "device"), "CAM01");
	json_decref(r);
	a = last_access(fx, "entry");
	assert_true(json_is_true(json_object_get(a, "allowed")));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(a, "entries"), 0)),
			 (int64_t)fx->a);
	assert_non_null(json_object_get(a, "at"));
	json_decref(a);

	assert_error(r = rpc(fd, "{\"op\":\"entry\",\"index\":9999}"), "not_found");
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "9999"));
	assert_string_equal(jstring(json_object_get(r, "error"), "name"), "ENOENT");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"entry\"}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"entry\",\"index\":-1}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"entry\",\"index\":1.5}"), "bad_request");
	json_decref(r);
	close(fd);
	stop(fx);
}

static void test_proof_consistency_checkpoint(void **state)
{
	struct fx *fx = *state;
	struct vfy_tlog_proof p;
	struct vfy_checkpoint cp, old, new;
	struct vfy_consistency cons;
	struct err_detail e;
	const char *text;
	json_t *r;
	int fd;

	populate(fx);
	start(fx);
	fd = connect_to(fx);

	/* By index, against the newest checkpoint; it verifies offline. */
	r = rpc(fd, "{\"op\":\"proof\",\"index\":1}");
	assert_ok(r);
	assert_int_equal(jint(r, "size"), 10);
	text = jstring(r, "proof");
	assert_int_equal(vfy_tlog_proof_parse(text, strlen(text), &p, &e), 0);
	assert_int_equal(vfy_tlog_proof_verify(&p, &fx->verifier, &cp, &e), 0);
	assert_int_equal(p.index, 1);
	assert_int_equal(cp.size, 10);
	vfy_tlog_proof_done(&p);
	json_decref(r);

	/* Against an older checkpoint. */
	r = rpc(fd, "{\"op\":\"proof\",\"index\":1,\"size\":3}");
	assert_ok(r);
	assert_int_equal(jint(r, "size"), 3);
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"proof\",\"index\":5,\"size\":3}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"proof\",\"index\":1,\"size\":4}"), "not_found");
	json_decref(r);

	/* By the file's SHA-256. */
	r = rpc(fd, "{\"op\":\"proof\",\"sha256\":\"%s\"}", fx->a_sha);
	assert_ok(r);
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"proof\",\"sha256\":\"%064d\"}", 7), "not_found");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"proof\",\"sha256\":\"XYZ\"}"), "bad_request");
	json_decref(r);

	/* Not yet covered by a checkpoint. */
	r = rpc(fd, "{\"op\":\"proof\",\"index\":%" PRIu64 "}", fx->d_late);
	assert_error(r, "unavailable");
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "not yet covered"));
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"proof\",\"index\":100000}"), "not_found");
	json_decref(r);

	/* Consistency from 3 to the newest (10). */
	r = rpc(fd, "{\"op\":\"consistency\",\"old\":3}");
	assert_ok(r);
	assert_int_equal(jint(r, "new"), 10);
	text = jstring(r, "consistency");
	assert_int_equal(vfy_consistency_parse(text, strlen(text), &cons, &e), 0);
	assert_int_equal(vfy_consistency_verify(&cons, &fx->verifier, &old, &new, &e), 0);
	assert_int_equal(old.size, 3);
	assert_int_equal(new.size, 10);
	vfy_consistency_done(&cons);
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"consistency\",\"old\":0}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"consistency\",\"old\":4,\"new\":10}"), "not_found");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"consistency\",\"old\":10,\"new\":3}"), "bad_request");
	json_decref(r);

	/* Checkpoint. */
	r = rpc(fd, "{\"op\":\"checkpoint\"}");
	assert_ok(r);
	assert_int_equal(jint(r, "size"), 10);
	text = jstring(r, "checkpoint");
	assert_int_equal(
	    vfy_checkpoint_open(text, strlen(text), NULL, &fx->verifier, 1, &cp, NULL, &e), 0);
	json_decref(r);
	r = rpc(fd, "{\"op\":\"checkpoint\",\"size\":3}");
	assert_int_equal(jint(r, "size"), 3);
	json_decref(r);
	close(fd);
	stop(fx);
}

static void test_no_checkpoint(void **state)
{
	struct fx *fx = *state;
	json_t *r;
	int fd;

	add_original(fx, "A", "ingest", "a.mp4", "dock", "CAM01", "on_time", "2024-05-01T08:00:00Z",
		     NULL, NULL, NULL, NULL);
	start(fx);
	fd = connect_to(fx);
	r = rpc(fd, "{\"op\":\"status\"}");
	assert_ok(r);
	assert_true(json_is_null(json_object_get(r, "checkpoint")));
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"checkpoint\"}"), "not_found");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"proof\",\"index\":0}"), "unavailable");
	json_decref(r);
	close(fd);
	stop(fx);
}

static size_t log_indexes(json_t *r, int64_t *out, size_t max)
{
	json_t *entries = json_object_get(r, "entries"), *e;
	size_t i, n = 0;

	assert_true(json_is_array(entries));
	json_array_foreach(entries, i, e) {
		if (n < max)
			out[n++] = jint(e, "index");
		assert_true(json_is_object(json_object_get(e, "entry")));
	}
	return n;
}

static void test_log(void **state)
{
	struct fx *fx = *state;
	int64_t idx[32];
	json_t *r, *a;
	int fd;

	populate(fx);
	start(fx);
	fd = connect_to(fx);

	r = rpc(fd, "{\"op\":\"log\"}");
	assert_ok(r);
	assert_int_equal(log_indexes(r, idx, 32), 11);
	assert_int_equal(idx[0], 10); /* newest first */
	assert_int_equal(idx[10], 0);
	assert_false(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);

	r = rpc(fd, "{\"op\":\"log\",\"zone\":\"dock\"}");
	assert_int_equal(log_indexes(r, idx, 32), 3);
	assert_int_equal(idx[0], 10);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 0);
	json_decref(r);
	a = last_access(fx, "log");
	assert_string_equal(jstring(json_object_get(a, "target"), "zone"), "dock");
	assert_int_equal(json_array_size(json_object_get(a, "entries")), 3);
	json_decref(a);

	r = rpc(fd, "{\"op\":\"log\",\"device\":\"CAM01\",\"type\":\"damaged\"}");
	assert_int_equal(log_indexes(r, idx, 32), 1);
	assert_int_equal(idx[0], 2);
	json_decref(r);

	r = rpc(fd, "{\"op\":\"log\",\"type\":\"scrub\",\"limit\":2}");
	assert_int_equal(log_indexes(r, idx, 32), 2);
	assert_int_equal(idx[0], 9);
	assert_int_equal(idx[1], 8);
	assert_true(json_is_true(json_object_get(r, "truncated")));
	assert_int_equal(jint(r, "next_before"), 8);
	json_decref(r);
	r = rpc(fd, "{\"op\":\"log\",\"type\":\"scrub\",\"limit\":2,\"before\":8}");
	assert_int_equal(log_indexes(r, idx, 32), 2);
	assert_int_equal(idx[0], 7);
	json_decref(r);

	/* since an index (inclusive), and since a time (scrub "at" 2024-05-0N). */
	r = rpc(fd, "{\"op\":\"log\",\"since\":9,\"before\":11}");
	assert_int_equal(log_indexes(r, idx, 32), 2);
	json_decref(r);
	r = rpc(fd, "{\"op\":\"log\",\"type\":\"scrub\",\"since\":\"2024-05-07T00:00:00Z\"}");
	assert_int_equal(log_indexes(r, idx, 32), 3); /* days 7, 8, 9 */
	json_decref(r);
	r = rpc(fd, "{\"op\":\"log\",\"type\":\"scrub\",\"since\":\"2024-05-07T08:00:00+08:00\"}");
	assert_int_equal(log_indexes(r, idx, 32), 3);
	json_decref(r);

	/* A filter value that needs escaping still filters (no byte prefilter). */
	r = rpc(fd, "{\"op\":\"log\",\"zone\":\"do\\\"ck\"}");
	assert_int_equal(log_indexes(r, idx, 32), 0);
	json_decref(r);

	assert_error(r = rpc(fd, "{\"op\":\"log\",\"limit\":0}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"log\",\"limit\":1001}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"log\",\"since\":\"yesterday\"}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"log\",\"since\":\"2024-05-07T00:00:00\"}"),
		     "bad_request"); /* no zone */
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"log\",\"zone\":7}"), "bad_request");
	json_decref(r);
	close(fd);
	stop(fx);
}

/* A log longer than one slice: the scan goes on from the background handle while another
 * client is answered, and stops at SRV_SCAN_MAX. */
static void test_log_long(void **state)
{
	struct fx *fx = *state;
	struct iovec iov[1000];
	struct err_detail e;
	char *texts[1000];
	uint64_t first;
	int64_t idx[4];
	json_t *r;
	int fd, fd2;

	for (unsigned b = 0; b < 120; b++) {
		for (unsigned i = 0; i < 1000; i++) {
			size_t len;
			char text[128];

			snprintf(text, sizeof(text), "{\"v\":1,\"type\":\"filler\",\"n\":%u}",
				 b * 1000 + i);
			assert_int_equal(
			    vfy_entry_canonicalize(text, strlen(text), &texts[i], &len, &e), 0);
			iov[i] = (struct iovec){ texts[i], len };
		}
		assert_int_equal(tlog_append(fx->log, iov, 1000, &first, &e), 0);
		for (unsigned i = 0; i < 1000; i++)
			free(texts[i]);
	}
	start(fx);
	fd = connect_to(fx);
	fd2 = connect_to(fx);
	send_all(fd, "{\"op\":\"log\",\"type\":\"nothing-like-this\"}\n",
		 strlen("{\"op\":\"log\",\"type\":\"nothing-like-this\"}\n"));
	r = rpc(fd2, "{\"op\":\"status\"}");
	assert_ok(r);
	json_decref(r);
	r = read_reply(fd);
	assert_ok(r);
	assert_int_equal(log_indexes(r, idx, 4), 0);
	assert_int_equal(jint(r, "scanned"), SRV_SCAN_MAX);
	assert_true(json_is_true(json_object_get(r, "truncated")));
	assert_int_equal(jint(r, "next_before"), 120000 - SRV_SCAN_MAX);
	json_decref(r);
	close(fd);
	close(fd2);
	stop(fx);
}

/* ---- annotate ------------------------------------------------------------------------------ */

static void test_annotate(void **state)
{
	struct fx *fx = *state;
	struct err_detail e;
	uint64_t index;
	char *bytes;
	size_t len;
	json_t *r, *entry;
	int fd;

	populate(fx);
	start(fx);
	fd = connect_to(fx);

	r = rpc(fd, "{\"op\":\"annotate\",\"id\":1,\"kind\":\"interruption\",\"device\":\"CAM01\","
		    "\"from\":\"2024-05-01T16:01:40+08:00\",\"to\":\"2024-05-01T08:05:00Z\","
		    "\"reason\":\"battery swap\"}");
	assert_ok(r);
	assert_int_equal(jint(r, "id"), 1);
	index = (uint64_t)jint(r, "index");
	json_decref(r);
	assert_int_equal(tlog_entry(fx->log, index, &bytes, &len, &e), 0);
	entry = json_loadb(bytes, len, 0, NULL);
	free(bytes);
	assert_string_equal(jstring(entry, "type"), "annotation");
	assert_string_equal(jstring(entry, "kind"), "interruption");
	assert_string_equal(jstring(entry, "from"), "2024-05-01T08:01:40Z"); /* normalised */
	assert_non_null(strstr(jstring(entry, "by"), "(uid "));
	assert_non_null(json_object_get(entry, "at"));
	json_decref(entry);

	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"C-17\",\"entries\":[0,2]}");
	assert_ok(r);
	json_decref(r);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"remote_duty\",\"officer\":\"OFF7\","
		    "\"from\":\"2024-05-01T00:00:00Z\",\"to\":\"2024-05-03T00:00:00Z\","
		    "\"returned_at\":\"2024-05-03T01:00:00Z\"}");
	assert_ok(r);
	/* The pipeline learns of it, so that clips it covers are logged on_time_remote. */
	assert_int_equal(fx->pipe.duties, 1);
	assert_int_equal(fx->pipe.last_duty, json_integer_value(json_object_get(r, "index")));
	json_decref(r);

	/* Refusals. */
	assert_error(r = rpc(fd, "{\"op\":\"annotate\"}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"gossip\"}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd,
			     "{\"op\":\"annotate\",\"kind\":\"interruption\",\"device\":\"X\","
			     "\"from\":\"2024-05-01T00:00:00Z\",\"to\":\"2024-05-01T00:00:01Z\"}"),
		     "bad_request"); /* no reason */
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "reason"));
	json_decref(r);
	assert_error(r = rpc(fd,
			     "{\"op\":\"annotate\",\"kind\":\"interruption\",\"device\":\"X\","
			     "\"from\":\"2024-05-02T00:00:00Z\",\"to\":\"2024-05-01T00:00:01Z\","
			     "\"reason\":\"r\"}"),
		     "bad_request"); /* from > to */
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"interruption\",\"device\":\"X\","
				 "\"from\":\"yesterday\",\"to\":\"2024-05-01T00:00:01Z\","
				 "\"reason\":\"r\"}"),
		     "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"late_storage\",\"entry\":0,"
				 "\"reason\":\"r\",\"mood\":\"bad\"}"),
		     "bad_request"); /* unknown field */
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "mood"));
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"late_storage\",\"entry\":1,"
				 "\"reason\":\"r\"}"),
		     "bad_request"); /* B was stored on time */
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"late_storage\",\"entry\":4,"
				 "\"reason\":\"r\"}"),
		     "bad_request"); /* a scrub entry */
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"C\","
				 "\"entries\":[0,99999]}"),
		     "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"C\","
				 "\"entries\":[0,0]}"),
		     "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"C\","
				 "\"entries\":[]}"),
		     "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd,
			     "{\"op\":\"annotate\",\"kind\":\"remote_duty\","
			     "\"from\":\"2024-05-01T00:00:00Z\",\"to\":\"2024-05-03T00:00:00Z\","
			     "\"returned_at\":\"2024-05-03T01:00:00Z\"}"),
		     "bad_request"); /* neither device nor officer */
	json_decref(r);
	close(fd);

	/* Approvals expire in the future. */
	set_peer(4244, GID_APPROVERS, NULL, 0);
	fd = connect_to(fx);
	assert_error(
	    r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"bob\","
			"\"entries\":[0],\"purpose\":\"x\",\"expires\":\"2001-01-01T00:00:00Z\"}"),
	    "bad_request");
	json_decref(r);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"bob\","
		    "\"entries\":[0],\"purpose\":\"x\",\"expires\":\"2999-01-01T00:00:00Z\"}");
	assert_ok(r);
	assert_int_equal(tlog_entry(fx->log, (uint64_t)jint(r, "index"), &bytes, &len, &e), 0);
	json_decref(r);
	entry = json_loadb(bytes, len, 0, NULL);
	free(bytes);
	assert_string_equal(jstring(entry, "approver"), jstring(entry, "by"));
	json_decref(entry);

	/* A failed commit is an error reply; the connection goes on. */
	fx->pipe.fail = -EIO;
	assert_error(
	    r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"bob\","
			"\"entries\":[0],\"purpose\":\"x\",\"expires\":\"2999-01-01T00:00:00Z\"}"),
	    "internal");
	json_decref(r);
	fx->pipe.fail = 0;
	r = rpc(fd, "{\"op\":\"status\"}");
	assert_ok(r);
	json_decref(r);
	close(fd);
	stop(fx);
}

/* While the log cannot be written (its last append failed: the state file system full), reads
 * of evidence are refused, as they could not be recorded; status and the like are answered.
 * The refusal is recorded, and that append is what finds the log writable again. */
static void test_unrecordable(void **state)
{
	struct fx *fx = *state;
	json_t *r, *a;
	int fd;

	populate(fx);
	start(fx);
	fd = connect_to(fx);
	fx->pipe.fail = -ENOSPC;
	/* The read during which the disk fills: answered, its access entry lost (the writer
	 * logs it; nothing can tell before the append fails). */
	r = rpc(fd, "{\"op\":\"entry\",\"index\":%" PRIu64 "}", fx->a);
	assert_ok(r);
	json_decref(r);
	for (int i = 0; i < 3; i++) {
		const char *msg;

		r = rpc(fd,
			i == 2 ? "{\"op\":\"verify\",\"sha256\":\"%064d\"}"
			       : "{\"op\":\"entry\",\"index\":%d}",
			0);
		assert_error(r, "unavailable");
		msg = jstring(json_object_get(r, "error"), "message");
		assert_non_null(strstr(msg, "cannot be written"));
		assert_non_null(strstr(msg, "No space left on device"));
		json_decref(r);
	}
	r = rpc(fd, "{\"op\":\"status\"}");
	assert_ok(r);
	json_decref(r);
	/* However long the outage: refusals on this one connection go on being appended (past
	 * SRV_REFUSALS_PER_CLIENT; not faster than SRV_REFUSALS_PER_S a second), so that one of
	 * them finds the log writable again. */
	for (int i = 0; i < 20; i++) {
		r = rpc(fd, "{\"op\":\"entry\",\"index\":0}");
		assert_error(r, "unavailable");
		json_decref(r);
		usleep(100000);
	}
	/* Room again: the next refusal's entry commits, and reads are answered. */
	fx->pipe.fail = 0;
	r = rpc(fd, "{\"op\":\"entry\",\"index\":0}");
	assert_error(r, "unavailable");
	json_decref(r);
	a = last_access(fx, "entry");
	assert_non_null(a);
	assert_true(json_is_false(json_object_get(a, "allowed")));
	assert_string_equal(jstring(a, "result"), "log_unwritable");
	assert_int_equal(json_integer_value(json_object_get(a, "target")), 0);
	json_decref(a);
	r = rpc(fd, "{\"op\":\"entry\",\"index\":%" PRIu64 "}", fx->a);
	assert_ok(r);
	json_decref(r);
	a = last_access(fx, "entry");
	assert_true(json_is_true(json_object_get(a, "allowed")));
	json_decref(a);
	close(fd);
	stop(fx);
}

/* The pipeline may call back before pipe_append() returns; requests sent in one write are
 * answered in order either way. */
static void test_pipelined(void **state)
{
	static const char batch[] =
	    "{\"op\":\"annotate\",\"id\":1,\"kind\":\"case\",\"case\":\"K\",\"entries\":[1]}\n"
	    "{\"op\":\"status\",\"id\":2}\n"
	    "{\"op\":\"log\",\"id\":3,\"limit\":1}\n"
	    "{\"op\":\"annotate\",\"id\":4,\"kind\":\"case\",\"case\":\"K\",\"entries\":[0]}\n"
	    "{\"op\":\"entry\",\"id\":5,\"index\":0}\n";
	struct fx *fx = *state;
	json_t *r;
	int fd;

	populate(fx);
	start(fx);
	for (int round = 0; round < 2; round++) {
		fx->pipe.sync = round == 1;
		fd = connect_to(fx);
		send_all(fd, batch, sizeof(batch) - 1);
		for (int id = 1; id <= 5; id++) {
			r = read_reply(fd);
			assert_ok(r);
			assert_int_equal(jint(r, "id"), id);
			json_decref(r);
		}
		/* Half-close: the last request, without its newline, is still answered. */
		send_all(fd, "{\"op\":\"status\",\"id\":6}", 22);
		shutdown(fd, SHUT_WR);
		r = read_reply(fd);
		assert_ok(r);
		assert_int_equal(jint(r, "id"), 6);
		json_decref(r);
		assert_true(at_eof(fd));
		close(fd);
	}
	stop(fx);
}

/* ---- verify -------------------------------------------------------------------------------- */

static char *key_list(struct fx *fx, const unsigned *which, size_t n, const unsigned *ordinals)
{
	char *out = strdup("[");

	for (size_t i = 0; i < n; i++) {
		char hex[65], *next;

		hex_encode(fx->a_keys[which[i]], 32, hex);
		assert_true(asprintf(&next, "%s%s{\"hash\":\"%s\",\"pts_us\":%u,\"ordinal\":%u}",
				     out, i ? "," : "", hex, which[i] * 1000000, ordinals[i]) > 0);
		free(out);
		out = next;
	}
	out = realloc(out, strlen(out) + 2);
	strcat(out, "]");
	return out;
}

static json_t *verify(int fd, const char *sha, const char *name, const char *streams)
{
	return rpc(fd,
		   "{\"op\":\"verify\",\"fingerprint\":{\"sha256\":\"%s\",\"size\":5,"
		   "\"name\":\"%s\",\"duration_us\":3000000,\"streams\":%s}}",
		   sha, name, streams);
}

static void test_verify(void **state)
{
	struct fx *fx = *state;
	struct vfy_tlog_proof p;
	struct vfy_checkpoint cp;
	struct err_detail e;
	char other[65], stream_json[4096], *keys;
	json_t *r, *a, *ex;
	const char *text;
	int fd;

	populate(fx);
	fake_hex("other", 1, other);
	start(fx);
	fd = connect_to(fx);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"C-1\",\"entries\":[0]}");
	json_decref(r);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"interruption\",\"device\":\"CAM01\","
		    "\"from\":\"2024-05-01T08:01:41Z\",\"to\":\"2024-05-01T08:03:00Z\","
		    "\"reason\":\"swap\"}");
	json_decref(r);
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"interruption\",\"device\":\"CAM01\","
		    "\"from\":\"2024-05-01T12:00:00Z\",\"to\":\"2024-05-01T13:00:00Z\","
		    "\"reason\":\"unrelated\"}");
	json_decref(r);

	/* exact */
	r = verify(fd, fx->a_sha, "whatever.mp4", "[]");
	assert_ok(r);
	assert_string_equal(jstring(r, "result"), "exact");
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	assert_string_equal(jstring(json_object_get(r, "storage"), "status"), "late");
	assert_int_equal(json_array_size(json_object_get(r, "annotations")), 2);
	text = jstring(r, "proof");
	assert_int_equal(vfy_tlog_proof_parse(text, strlen(text), &p, &e), 0);
	assert_int_equal(vfy_tlog_proof_verify(&p, &fx->verifier, &cp, &e), 0);
	assert_int_equal(p.index, fx->a);
	vfy_tlog_proof_done(&p);
	json_decref(r);
	a = last_access(fx, "verify");
	assert_string_equal(jstring(a, "result"), "exact");
	assert_non_null(strstr(jstring(a, "target"), fx->a_sha));
	json_decref(a);

	/* remux: both streams, another file */
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":100,"
		 "\"digest\":\"%s\"},{\"index\":1,\"type\":\"audio\",\"codec\":\"aac\","
		 "\"packets\":200,\"digest\":\"%s\"},{\"index\":2,\"type\":\"data\","
		 "\"codec\":\"tmcd\",\"packets\":1,\"digest\":\"%s\"}]",
		 fx->a_video, fx->a_audio, other);
	r = verify(fd, other, "x.mkv", stream_json);
	assert_ok(r);
	assert_string_equal(jstring(r, "result"), "remux");
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	json_decref(r);

	/* audio only is not a remux of a recording with video */
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"audio\",\"codec\":\"aac\",\"packets\":200,"
		 "\"digest\":\"%s\"}]",
		 fx->a_audio);
	r = verify(fd, other, "x.m4a", stream_json);
	assert_string_not_equal(jstring(r, "result"), "remux");
	json_decref(r);

	/* excerpt: key packets 3, 4, 5 at the same distances as in A */
	keys = key_list(fx, (unsigned[]){ 3, 4, 5 }, 3, (unsigned[]){ 0, 10, 20 });
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":30,"
		 "\"digest\":\"%s\",\"keys\":%s}]",
		 other, keys);
	free(keys);
	r = verify(fd, other, "cut.mp4", stream_json);
	assert_ok(r);
	assert_string_equal(jstring(r, "result"), "excerpt");
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	ex = json_object_get(r, "excerpt");
	assert_int_equal(jint(ex, "from_us"), 3000000);
	assert_int_equal(jint(ex, "to_us"), 6000000); /* + the clip's duration */
	assert_string_equal(jstring(ex, "from"), "2024-05-01T08:00:03Z");
	assert_true(json_is_true(json_object_get(ex, "contiguous")));
	assert_non_null(json_object_get(r, "proof"));
	json_decref(r);

	/* spliced: 2 then 5, adjacent in the clip: from A, but not contiguous */
	keys = key_list(fx, (unsigned[]){ 2, 5 }, 2, (unsigned[]){ 0, 10 });
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":20,"
		 "\"digest\":\"%s\",\"keys\":%s}]",
		 other, keys);
	free(keys);
	r = verify(fd, other, "spliced.mp4", stream_json);
	assert_ok(r);
	assert_string_equal(jstring(r, "result"), "altered");
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(json_object_get(r, "altered"), "claims"), 0)),
			    "key_packets");
	json_decref(r);

	/* every key packet of A, at A's distances, as many packets as A's video: that is A's
	 * video stream, but its digest is not, so packets between the keys were changed */
	keys = key_list(fx, (unsigned[]){ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 10,
			(unsigned[]){ 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 });
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":100,"
		 "\"digest\":\"%s\",\"keys\":%s},{\"index\":1,\"type\":\"audio\","
		 "\"codec\":\"aac\",\"packets\":200,\"digest\":\"%s\"}]",
		 other, keys, fx->a_audio);
	free(keys);
	r = verify(fd, other, "whole.mp4", stream_json);
	assert_string_equal(jstring(r, "result"), "altered");
	ex = json_object_get(r, "altered");
	assert_non_null(strstr(jstring(ex, "reason"), "whole video stream"));
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(ex, "streams"), 1),
						 "same"))); /* the audio is A's */
	json_decref(r);

	/* the last two key packets, but more packets than A has after them */
	keys = key_list(fx, (unsigned[]){ 8, 9 }, 2, (unsigned[]){ 0, 10 });
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":21,"
		 "\"digest\":\"%s\",\"keys\":%s}]",
		 other, keys);
	free(keys);
	r = verify(fd, other, "long.mp4", stream_json);
	assert_string_equal(jstring(r, "result"), "altered");
	json_decref(r);
	keys = key_list(fx, (unsigned[]){ 8, 9 }, 2, (unsigned[]){ 0, 10 });
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":20,"
		 "\"digest\":\"%s\",\"keys\":%s}]",
		 other, keys);
	free(keys);
	r = verify(fd, other, "tail.mp4", stream_json);
	assert_string_equal(jstring(r, "result"), "excerpt"); /* up to A's last packet */
	json_decref(r);

	/* key packets out of the original's order: not even spliced */
	keys = key_list(fx, (unsigned[]){ 5, 2 }, 2, (unsigned[]){ 0, 10 });
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":20,"
		 "\"digest\":\"%s\",\"keys\":%s}]",
		 other, keys);
	free(keys);
	r = verify(fd, other, "shuffled.mp4", stream_json);
	assert_string_equal(jstring(r, "result"), "unknown");
	json_decref(r);

	/* altered: A's name, other content; its audio is still A's */
	snprintf(stream_json, sizeof(stream_json),
		 "[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":100,"
		 "\"digest\":\"%s\"},{\"index\":1,\"type\":\"audio\",\"codec\":\"aac\","
		 "\"packets\":200,\"digest\":\"%s\"}]",
		 other, fx->a_audio);
	r = verify(fd, other, "CAM01_OFF7_20240501080000_0001.mp4", stream_json);
	assert_ok(r);
	assert_string_equal(jstring(r, "result"), "altered");
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	ex = json_object_get(r, "altered");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ex, "claims"), 0)),
			    "name");
	assert_false(json_is_true(
	    json_object_get(json_array_get(json_object_get(ex, "streams"), 0), "same")));
	assert_true(json_is_true(
	    json_object_get(json_array_get(json_object_get(ex, "streams"), 1), "same")));
	json_decref(r);

	/* altered by device + recorded start, and by tags */
	r = rpc(fd,
		"{\"op\":\"verify\",\"fingerprint\":{\"sha256\":\"%s\",\"device\":\"CAM01\","
		"\"recorded_start\":\"2024-05-01T16:00:00+08:00\"}}",
		other);
	assert_string_equal(jstring(r, "result"), "altered");
	assert_int_equal(jint(r, "index"), (int64_t)fx->a);
	json_decref(r);
	r = rpc(fd,
		"{\"op\":\"verify\",\"fingerprint\":{\"sha256\":\"%s\",\"tags\":"
		"{\"creation_time\":\"A-tag\",\"make\":\"Acme\"}}}",
		other);
	assert_string_equal(jstring(r, "result"), "altered");
	json_decref(r);
	/* a name shared with an original whose tags say another time is no claim */
	r = rpc(fd,
		"{\"op\":\"verify\",\"fingerprint\":{\"sha256\":\"%s\",\"name\":\"b.mp4\","
		"\"tags\":{\"creation_time\":\"2030-01-01\"}}}",
		other);
	assert_string_equal(jstring(r, "result"), "unknown");
	json_decref(r);

	/* unknown */
	r = verify(fd, other, "nothing.mp4", "[]");
	assert_ok(r);
	assert_string_equal(jstring(r, "result"), "unknown");
	assert_null(json_object_get(r, "index"));
	json_decref(r);

	/* a match not yet covered by a checkpoint */
	fake_hex("D", 1000, other);
	r = verify(fd, other, "d.mp4", "[]");
	assert_string_equal(jstring(r, "result"), "exact");
	assert_true(json_is_null(json_object_get(r, "proof")));
	assert_non_null(strstr(jstring(r, "proof_status"), "not yet covered"));
	json_decref(r);

	/* malformed fingerprints */
	assert_error(r = rpc(fd, "{\"op\":\"verify\"}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"verify\",\"fingerprint\":{\"sha256\":\"ABC\"}}"),
		     "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd,
			     "{\"op\":\"verify\",\"fingerprint\":{\"sha256\":\"%s\","
			     "\"streams\":[{\"index\":0}]}}",
			     other),
		     "bad_request");
	json_decref(r);
	close(fd);
	stop(fx);
}

/* ---- hostile clients ----------------------------------------------------------------------- */

static void test_malformed(void **state)
{
	struct fx *fx = *state;
	char deep[300];
	json_t *r;
	int fd;

	start(fx);
	fd = connect_to(fx);
	assert_error(r = rpc(fd, "this is not json"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "[1,2,3]"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"dance\"}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"nop\":1}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"status\",\"op\":\"status\"}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"status\",\"id\":[1]}"), "bad_request");
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"st\xff\xfe\"}"), "bad_request"); /* not UTF-8 */
	json_decref(r);
	assert_error(r = rpc(fd, "{\"op\":\"status\",\"x\":\"a\\u0000b\"}"), "bad_request");
	json_decref(r);
	memset(deep, '[', 100);
	snprintf(deep + 100, sizeof(deep) - 100, "%s", "");
	r = rpc(fd, "{\"op\":\"status\",\"x\":%.100s}", deep);
	assert_error(r, "bad_request");
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "deeper"));
	json_decref(r);
	/* A message quoting the request cut inside a UTF-8 sequence ("unknown op '%.64s'": 'a'
	 * and 40 'é' cut after 31 and a half) is still the error, not "internal" (out of
	 * memory, as jansson refused the message).  Found by tests/fuzz/fuzz_request.c. */
	r = rpc(fd, "{\"op\":\"a%s\"}", "éééééééééééééééééééééééééééééééééééééééé");
	assert_error(r, "bad_request");
	json_decref(r);
	/* An unknown op is told every op there is, the last of the table too. */
	assert_error(r = rpc(fd, "{\"op\":\"frob\"}"), "bad_request");
	assert_non_null(
	    strstr(jstring(json_object_get(r, "error"), "message"),
		   "unknown op 'frob' (status, entry, proof, consistency, checkpoint, "
		   "log, verify, review, history, report, annotate, copy-out, retention, "
		   "purge, scrub, cases)"));
	json_decref(r);
	/* Empty and blank lines are skipped; the connection still works. */
	send_all(fd, "\n \r\n", 4);
	r = rpc(fd, "{\"op\":\"status\"}\r");
	assert_ok(r);
	json_decref(r);
	close(fd);
	stop(fx);
}

static void test_oversized(void **state)
{
	struct fx *fx = *state;
	char big[3000];
	json_t *r;
	int fd;

	fx->cfg.max_request_bytes = 1024;
	start(fx);

	/* A line over the limit, with its newline. */
	fd = connect_to(fx);
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"op\":\"status\"", 14);
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\n';
	send_all(fd, big, sizeof(big));
	r = read_reply(fd);
	assert_error(r, "too_large");
	assert_string_equal(jstring(json_object_get(r, "error"), "name"), "E2BIG");
	json_decref(r);
	assert_true(at_eof(fd));
	close(fd);

	/* Endless bytes without a newline. */
	fd = connect_to(fx);
	for (int i = 0; i < 100; i++)
		if (send(fd, big, 1000, MSG_NOSIGNAL) < 0)
			break;
	r = read_reply(fd);
	assert_error(r, "too_large");
	json_decref(r);
	close(fd);

	/* Exactly at the limit is fine. */
	fd = connect_to(fx);
	memset(big, ' ', 1024);
	memcpy(big, "{\"op\":\"status\"", 14);
	big[1023] = '}';
	big[1024] = '\n';
	send_all(fd, big, 1025);
	r = read_reply(fd);
	assert_ok(r);
	json_decref(r);
	close(fd);
	stop(fx);
}

static void test_idle_timeout(void **state)
{
	struct fx *fx = *state;
	json_t *r;
	int fd;

	fx->cfg.idle_timeout_ms = 200;
	start(fx);
	fd = connect_to(fx);
	r = rpc(fd, "{\"op\":\"status\"}");
	assert_ok(r);
	json_decref(r);
	/* A slow writer is closed too: the timer only restarts on complete requests. */
	for (int i = 0; i < 8; i++) {
		if (send(fd, " ", 1, MSG_NOSIGNAL) < 0)
			break;
		usleep(50000);
	}
	r = read_reply(fd);
	assert_error(r, "timeout");
	json_decref(r);
	assert_true(hung_up(fd));
	close(fd);
	stop(fx);
}

static void test_too_many_clients(void **state)
{
	struct fx *fx = *state;
	json_t *r;
	int fd[3];

	fx->cfg.max_clients = 2;
	start(fx);
	fd[0] = connect_to(fx);
	fd[1] = connect_to(fx);
	r = rpc(fd[0], "{\"op\":\"status\"}");
	assert_ok(r);
	assert_int_equal(jint(json_object_get(r, "server"), "clients"), 2);
	json_decref(r);
	fd[2] = connect_to(fx);
	r = read_reply(fd[2]);
	assert_error(r, "busy");
	assert_string_equal(jstring(json_object_get(r, "error"), "name"), "EUSERS");
	json_decref(r);
	assert_true(at_eof(fd[2]));
	close(fd[2]);
	/* Once one leaves, there is room again. */
	close(fd[1]);
	usleep(100000);
	fd[1] = connect_to(fx);
	r = rpc(fd[1], "{\"op\":\"status\"}");
	assert_ok(r);
	assert_int_equal(jint(json_object_get(r, "server"), "busy_rejects"), 1);
	json_decref(r);
	close(fd[0]);
	close(fd[1]);
	stop(fx);
}

/* Ask `status` on @fd until the server holds @n clients (a closed one goes when the loop sees
 * its EOF). */
static void wait_clients(int fd, int64_t n)
{
	for (int i = 0;; i++) {
		json_t *r = rpc(fd, "{\"op\":\"status\"}");
		int64_t now;

		assert_ok(r);
		now = jint(json_object_get(r, "server"), "clients");
		json_decref(r);
		if (now == n)
			return;
		assert_true(i < 100);
		usleep(20000);
	}
}

/* Connect as the current fake peer and expect to be taken: a status answers. */
static int connect_taken(struct fx *fx)
{
	int fd = connect_to(fx);
	json_t *r = rpc(fd, "{\"op\":\"status\"}");

	assert_ok(r);
	json_decref(r);
	return fd;
}

/* Connect as the current fake peer and expect "busy" (EUSERS) with @text in its message, then
 * the connection closed. */
static void connect_busy(struct fx *fx, const char *text)
{
	int fd = connect_to(fx);
	json_t *r = read_reply(fd);
	const char *msg;

	assert_error(r, "busy");
	assert_string_equal(jstring(json_object_get(r, "error"), "name"), "EUSERS");
	msg = jstring(json_object_get(r, "error"), "message");
	if (!strstr(msg, text))
		fail_msg("'%s' not in '%s'", text, msg);
	json_decref(r);
	assert_true(at_eof(fd));
	close(fd);
}

/* [socket] max_clients_per_user: one uid's connection past the limit is told busy and closed,
 * while other uids still get in; a place it gives up is its own again (the count goes down
 * once per closed client, and a refused one never counted); operators are not limited. */
static void test_too_many_from_one_user(void **state)
{
	struct fx *fx = *state;
	gid_t reviewer = GID_REVIEWERS, operator= GID_OPERATORS;
	int fd[3], other, op[5];
	json_t *r;

	fx->cfg.max_clients = 16;
	fx->cfg.max_clients_per_user = 3;
	start(fx);
	set_peer(4250, 999, &reviewer, 1);
	for (int i = 0; i < 3; i++)
		fd[i] = connect_taken(fx);
	connect_busy(fx, "too many connections from uid 4250 (3; [socket] max_clients_per_user 3)");
	connect_busy(fx, "from uid 4250 (3;");

	/* Another uid is not held back by this one's connections. */
	set_peer(4251, 999, &reviewer, 1);
	other = connect_taken(fx);
	wait_clients(other, 4);

	/* Once one of the three leaves, the uid may connect again, once. */
	close(fd[1]);
	wait_clients(other, 3);
	set_peer(4250, 999, &reviewer, 1);
	fd[1] = connect_taken(fx);
	connect_busy(fx, "from uid 4250 (3;");

	/* An operator is not limited, as it is not by the operators' reserve. */
	set_peer(4252, 999, &operator, 1);
	for (int i = 0; i < 5; i++)
		op[i] = connect_taken(fx);
	r = rpc(other, "{\"op\":\"status\"}");
	assert_ok(r);
	assert_int_equal(jint(json_object_get(r, "server"), "clients"), 3 + 1 + 5);
	assert_int_equal(jint(json_object_get(r, "server"), "busy_rejects"), 3);
	json_decref(r);

	for (int i = 0; i < 5; i++)
		close(op[i]);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	/* Every uid's count went with its last client: only other's uid is left. */
	wait_clients(other, 1);
	r = rpc(other, "{\"op\":\"status\"}");
	assert_ok(r);
	assert_int_equal(jint(json_object_get(r, "server"), "users"), 1);
	json_decref(r);
	close(other);
	stop(fx);
}

/* max_clients_per_user = 0: one uid may take every place but the operators' reserve. */
static void test_no_per_user_limit(void **state)
{
	struct fx *fx = *state;
	gid_t reviewer = GID_REVIEWERS;
	int fd[15];

	fx->cfg.max_clients = 16;
	fx->cfg.max_clients_per_user = 0;
	start(fx);
	set_peer(4250, 999, &reviewer, 1);
	for (int i = 0; i < 15; i++)
		fd[i] = connect_taken(fx);
	connect_busy(fx, "too many clients (15; [socket] max_clients 16, of which 1 kept for "
			 "operators)");
	for (int i = 0; i < 15; i++)
		close(fd[i]);
	stop(fx);
}

/* A client that sends and leaves without reading, and one that never reads its big replies. */
static void test_disconnect(void **state)
{
	struct fx *fx = *state;
	json_t *r;
	int fd;

	fx->cfg.max_clients = 64;
	populate(fx);
	start(fx);
	for (int i = 0; i < 20; i++) {
		fd = connect_to(fx);
		static const char part[] = "{\"op\":\"log\",\"limit\":1000}\n{\"op\":\"verify\","
					   "\"fingerprint\":{\"sha256\":\"";

		send_all(fd, part, sizeof(part) - 1);
		close(fd);
	}
	fd = connect_to(fx);
	for (int i = 0; i < 2000; i++)
		if (send(fd, "{\"op\":\"log\",\"limit\":1000}\n", 27, MSG_NOSIGNAL | MSG_DONTWAIT) <
		    0)
			break;
	close(fd);
	/* All of them are gone soon; this one is the only client left. */
	fd = connect_to(fx);
	for (int i = 0;; i++) {
		r = rpc(fd, "{\"op\":\"status\"}");
		assert_ok(r);
		if (jint(json_object_get(r, "server"), "clients") == 1) {
			json_decref(r);
			break;
		}
		json_decref(r);
		assert_true(i < 100);
		usleep(20000);
	}
	close(fd);
	stop(fx);
}

/* ---- review: a large case ---------------------------------------------------------------- */

#define BIG_CLIPS 10000 /* daemon/server/rules.c REVIEW_MAX_CLIPS */

static void send_line(int fd, const char *lines)
{
	send_all(fd, lines, strlen(lines));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* One reply line of any size (a large review is tens of MB), or NULL at EOF; its length into
 * *@ret_len.  For a connection with one request outstanding: reads ahead in blocks. */
static json_t *read_big_reply(int fd, size_t *ret_len)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap), *nl = NULL;
	json_error_t je;
	json_t *j;

	assert_non_null(buf);
	while (!nl) {
		ssize_t n;

		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		/* Peek first: a reply pipelined behind this one may share the chunk, and it
		 * is read_reply()'s. */
		n = recv(fd, buf + len, cap - len, MSG_PEEK);
		if (n == 0 && len == 0) {
			free(buf);
			return NULL;
		}
		assert_true(n > 0);
		nl = memchr(buf + len, '\n', (size_t)n);
		if (nl)
			n = nl - (buf + len) + 1;
		assert_int_equal(recv(fd, buf + len, (size_t)n, MSG_WAITALL), n);
		len += (size_t)n;
	}
	len = (size_t)(nl - buf);
	j = json_loadb(buf, len, 0, &je);
	if (!j)
		fail_msg("reply does not parse: %s: %.200s", je.text, buf);
	free(buf);
	if (ret_len)
		*ret_len = len;
	return j;
}

/* @n originals of camera @device, one a second from 2024-05-01T00:00:00Z, each with a name of
 * @name_len bytes and no stored file (a re-hash finds them "missing" without needing a store).
 * @return the first one's index. */
static uint64_t add_clips(struct fx *fx, unsigned n, const char *device, size_t name_len)
{
	enum { BATCH = 500 };
	struct iovec iov[BATCH];
	struct err_detail e;
	char name[801], sha[65], start[32], end[32];
	uint64_t first = 0, at;
	char *text, *canon;
	size_t len;

	assert_true(name_len < sizeof(name));
	memset(name, 'n', name_len);
	name[name_len] = '\0';
	for (unsigned i = 0; i < n; i += BATCH) {
		unsigned m = n - i < BATCH ? n - i : BATCH;

		for (unsigned k = 0; k < m; k++) {
			time_t t = 1714521600 + (time_t)(i + k); /* 2024-05-01T00:00:00Z */
			struct tm tm;

			fake_hex(device, i + k, sha);
			gmtime_r(&t, &tm);
			strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
			t++;
			gmtime_r(&t, &tm);
			strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", &tm);
			assert_true(
			    asprintf(&text,
				     "{\"v\":1,\"type\":\"ingest\",\"name\":\"%s-%u.mp4\","
				     "\"zone\":\"dock\",\"device\":\"%s\",\"officer\":\"OFF1\","
				     "\"storage\":\"on_time\",\"recorded_start\":\"%s\","
				     "\"recorded_end\":\"%s\",\"ingested_at\":\"%s\","
				     "\"duration_us\":1000000,\"time_source\":\"tag\","
				     "\"sha256\":\"%s\",\"size\":1000}",
				     name, i + k, device, start, end, end, sha) > 0);
			assert_int_equal(
			    vfy_entry_canonicalize(text, strlen(text), &canon, &len, &e), 0);
			free(text);
			iov[k] = (struct iovec){ canon, len };
		}
		assert_int_equal(tlog_append(fx->log, iov, m, &at, &e), 0);
		for (unsigned k = 0; k < m; k++)
			free(iov[k].iov_base);
		if (i == 0)
			first = at;
	}
	return first;
}

#define BIG_CASE_PER_NOTE 2000 /* daemon/server/annotate.c ENTRIES_MAX */

/* BIG_CLIPS originals of one camera (add_clips(), names of 800 bytes) and a case binding them
 * all, in annotations of BIG_CASE_PER_NOTE clips each, the most one may bind.  @return the
 * first case annotation's index. */
static uint64_t populate_big_case(struct fx *fx, const char *case_id)
{
	uint64_t first = add_clips(fx, BIG_CLIPS, "CAMBIG", 800), at = 0;

	for (unsigned i = 0; i < BIG_CLIPS; i += BIG_CASE_PER_NOTE) {
		json_t *entries = json_array(), *note;
		char *text;
		uint64_t got;

		for (unsigned k = i; k < BIG_CLIPS && k < i + BIG_CASE_PER_NOTE; k++)
			json_array_append_new(entries, json_integer((json_int_t)(first + k)));
		note = json_pack("{s:i, s:s, s:s, s:s, s:o, s:s, s:s}", "v", 1, "type",
				 "annotation", "kind", "case", "case", case_id, "entries", entries,
				 "by", "root(uid 0)", "at", "2024-05-03T00:00:00Z");
		text = json_dumps(note, JSON_COMPACT);
		json_decref(note);
		got = append(fx, text, NULL, 0);
		free(text);
		if (i == 0)
			at = got;
	}
	return at;
}

/* The last access record of @op, put together from its parts (docs/log.md): the last part,
 * with "entries" the lists of all its parts in order.  Each part is checked to be within the
 * entry limit and to say the same but for its slice; NULL when there is none. */
static json_t *last_access_whole(struct fx *fx, const char *op)
{
	struct err_detail e;
	json_t *last = NULL, *all;
	uint64_t size, i;
	json_int_t parts;

	assert_int_equal(tlog_size(fx->log, &size, &e), 0);
	for (i = size; i-- > 0 && !last;) {
		char *bytes;
		size_t len;
		json_t *o;

		assert_int_equal(tlog_entry(fx->log, i, &bytes, &len, &e), 0);
		o = json_loadb(bytes, len, 0, NULL);
		free(bytes);
		if (!strcmp(json_string_value(json_object_get(o, "type")), "access") &&
		    !strcmp(json_string_value(json_object_get(o, "op")), op))
			last = o;
		else
			json_decref(o);
	}
	if (!last)
		return NULL;
	i++; /* the last part */
	parts = json_object_get(last, "parts") ? jint(last, "parts") : 1;
	assert_int_equal(json_object_get(last, "part") ? jint(last, "part") : 1, parts);
	assert_true(i + 1 >= (uint64_t)parts);
	all = json_array();
	/* The parts were committed together: they are the entries just before it. */
	for (json_int_t k = 1; k <= parts; k++) {
		char *bytes;
		size_t len;
		json_t *o;

		assert_int_equal(tlog_entry(fx->log, i - (uint64_t)(parts - k), &bytes, &len, &e),
				 0);
		assert_true(len <= VFY_ENTRY_MAX);
		o = json_loadb(bytes, len, 0, NULL);
		free(bytes);
		if (parts > 1) {
			assert_int_equal(jint(o, "part"), k);
			assert_int_equal(jint(o, "parts"), parts);
		}
		assert_string_equal(jstring(o, "at"), jstring(last, "at"));
		assert_string_equal(jstring(o, "by"), jstring(last, "by"));
		assert_true(
		    json_equal(json_object_get(o, "target"), json_object_get(last, "target")));
		json_array_extend(all, json_object_get(o, "entries"));
		json_decref(o);
	}
	json_object_set_new(last, "entries", all);
	return last;
}

static void wait_index(int fd)
{
	for (int i = 0;; i++) {
		json_t *r = rpc(fd, "{\"op\":\"status\"}");
		bool done;

		assert_ok(r);
		done = json_is_true(json_object_get(json_object_get(r, "index"), "caught_up"));
		json_decref(r);
		if (done)
			return;
		assert_true(i < 500);
		usleep(20000);
	}
}

/* Every annotation stays within the log's entry limit: a list longer than one annotation may
 * hold, a case by device and time that would bind more, and a text that is too long as
 * written in the entry are refused at the socket with too_large and a message saying what to
 * do; the largest annotation allowed (an approval of 2,000 clips, the longest purpose, a
 * grantee of control characters) is logged within the limit. */
static void test_annotate_limits(void **state)
{
	struct fx *fx = *state;
	uint64_t first = add_clips(fx, 2001, "CAMLOTS", 10), index;
	struct err_detail e;
	char *list, *text, grantee[6 * 256 + 1];
	size_t len, o = 0;
	json_t *r;
	int fd;

	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	list = malloc(2001 * 24);
	assert_non_null(list);
	for (unsigned i = 0; i < 2001; i++)
		o += (size_t)sprintf(list + o, "%s%" PRIu64, i ? "," : "", first + i);

	/* 2,001 clips in one annotation: too many, whatever the kind. */
	r = rpc(fd, "{\"op\":\"annotate\",\"kind\":\"hold\",\"reason\":\"x\",\"entries\":[%s]}",
		list);
	assert_error(r, "too_large");
	assert_non_null(
	    strstr(jstring(json_object_get(r, "error"), "message"), "several annotations"));
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "2001"));
	json_decref(r);
	/* A case by device and time that would bind 2,001 clips. */
	r = rpc(fd,
		"{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"K\",\"device\":"
		"\"CAMLOTS\",\"from\":\"2024-05-01T00:00:00Z\",\"to\":\"2024-05-02T00:00:00Z\"}");
	assert_error(r, "too_large");
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"),
			       "several annotations over shorter times"));
	json_decref(r);
	/* 16 KiB of text is fine, but not when its newlines make it longer in the entry. */
	text = malloc(16 * 1024 + 1);
	assert_non_null(text);
	memset(text, '\n', 16 * 1024);
	text[16 * 1024] = '\0';
	{
		json_t *req = json_pack("{s:s, s:s, s:[I], s:s}", "op", "annotate", "kind", "hold",
					"entries", (json_int_t)first, "reason", text);
		char *dumped = json_dumps(req, JSON_COMPACT);

		json_decref(req);
		r = rpc(fd, "%s", dumped);
		free(dumped);
	}
	assert_error(r, "too_large");
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"),
			       "32768 bytes in the log entry"));
	json_decref(r);
	/* The same for a purge's reason, before anything else is looked at. */
	{
		json_t *req = json_pack("{s:s, s:I, s:s}", "op", "purge", "index",
					(json_int_t)first, "reason", text);
		char *dumped = json_dumps(req, JSON_COMPACT);

		json_decref(req);
		r = rpc(fd, "%s", dumped);
		free(dumped);
	}
	assert_error(r, "too_large");
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"),
			       "32768 bytes in the log entry"));
	json_decref(r);

	/* The largest approval: 2,000 clips, 16 KiB of purpose, a grantee of 256 control
	 * characters (1,538 bytes escaped). */
	list[strrchr(list, ',') - list] = '\0'; /* 2,000 clips */
	memset(text, 'p', 16 * 1024);
	for (size_t i = 0; i < 256; i++)
		memcpy(grantee + 6 * i, "\\u0001", 6);
	grantee[6 * 256] = '\0';
	set_peer(4244, GID_APPROVERS, NULL, 0);
	close(fd);
	fd = connect_to(fx);
	r = rpc(fd,
		"{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"%s\",\"entries\":[%s],"
		"\"purpose\":\"%s\",\"expires\":\"2999-01-01T00:00:00Z\"}",
		grantee, list, text);
	assert_ok(r);
	index = (uint64_t)jint(r, "index");
	json_decref(r);
	{
		char *bytes;

		assert_int_equal(tlog_entry(fx->log, index, &bytes, &len, &e), 0);
		assert_true(len <= VFY_ENTRY_MAX);
		print_message("the largest approval here: %zu bytes\n", len);
		free(bytes);
	}
	free(text);
	free(list);
	close(fd);
	stop(fx);
}

/* A review of the largest case there may be: its answer is larger than SRV_MAX_PENDING_OUT
 * and is sent all the same (it is the only reply queued); the loop keeps answering others
 * meanwhile; the access entry lists every clip. */
static void test_review_large(void **state)
{
	struct fx *fx = *state;
	uint64_t t0, worst = 0, pings = 0, took;
	json_t *r, *a;
	size_t len, nclips = 0, i;
	int64_t clients = 0;
	const json_t *dev;
	int fd, ping;

	populate_big_case(fx, "BIG");
	start(fx);
	fd = connect_to(fx);
	ping = connect_to(fx);
	wait_index(ping);
	t0 = now_ns();
	send_line(fd, "{\"op\":\"review\",\"case\":\"BIG\"}\n");
	/* Another client is answered while the review is made: the loop is not held. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t;

		if (poll(&p, 1, 0) > 0)
			break;
		t = now_ns();
		r = rpc(ping, "{\"op\":\"status\"}");
		assert_ok(r);
		json_decref(r);
		t = now_ns() - t;
		worst = t > worst ? t : worst;
		pings++;
	}
	r = read_big_reply(fd, &len);
	took = now_ns() - t0;
	assert_ok(r);
	print_message("review of %d clips: %zu bytes in %.0f ms; %" PRIu64 " status requests "
		      "meanwhile, the slowest %.1f ms\n",
		      BIG_CLIPS, len, (double)took / 1e6, pings, (double)worst / 1e6);
	assert_true(len > SRV_MAX_PENDING_OUT);
	assert_false(json_is_true(json_object_get(r, "complete")));
	json_array_foreach(json_object_get(r, "devices"), i, dev)
		nclips += json_array_size(json_object_get(dev, "clips"));
	assert_int_equal(nclips, BIG_CLIPS);
	assert_int_equal(json_array_size(json_object_get(r, "open")), BIG_CLIPS); /* missing */
	assert_int_equal(json_array_size(json_object_get(r, "annotations")),
			 BIG_CLIPS / BIG_CASE_PER_NOTE);
	assert_non_null(strstr(jstring(r, "verdict"), "missing"));
	json_decref(r);
	/* A slow status is a loop held by the review; generous for sanitizers and loaded CI. */
	assert_true(worst < 2000000000ull);
	/* The connection stays usable, also for a request pipelined behind a review: its
	 * reply is queued beside the large one. */
	r = rpc(fd, "{\"op\":\"status\"}");
	assert_ok(r);
	json_decref(r);
	send_line(fd, "{\"op\":\"review\",\"case\":\"BIG\"}\n{\"op\":\"status\"}\n");
	r = read_big_reply(fd, NULL);
	assert_ok(r);
	assert_int_equal(json_array_size(json_object_get(r, "open")), BIG_CLIPS);
	json_decref(r);
	r = read_reply(fd);
	assert_ok(r);
	assert_non_null(json_object_get(r, "index"));
	json_decref(r);
	/* More clips than one access entry may list: recorded in parts that say them all. */
	a = last_access_whole(fx, "review");
	assert_non_null(a);
	assert_string_equal(jstring(a, "target"), "BIG");
	assert_int_equal(jint(a, "parts"), BIG_CLIPS / 2000); /* SRV_ACCESS_ENTRIES_MAX */
	assert_int_equal(json_array_size(json_object_get(a, "entries")), BIG_CLIPS);
	assert_int_equal(fx->pipe.append_all, 2);
	assert_null(json_object_get(a, "result"));
	json_decref(a);
	close(fd);
	/* But only one such reply at a time: a client that asks for two without reading is
	 * closed when the second is ready (the first one cut short). */
	fd = connect_to(fx);
	send_line(fd,
		  "{\"op\":\"review\",\"case\":\"BIG\"}\n{\"op\":\"review\",\"case\":\"BIG\"}\n");
	for (int tries = 0; clients != 1; tries++) {
		/* Until only the pinger is left: two reviews of 10,000 clips take 10 s and more
		 * under the sanitizers on a loaded machine, so this waits up to 2 minutes. */
		assert_true(tries < 6000);
		usleep(20000);
		r = rpc(ping, "{\"op\":\"status\"}");
		assert_ok(r);
		clients = jint(json_object_get(r, "server"), "clients");
		json_decref(r);
	}
	for (size_t got = 0;;) {
		static char buf[1 << 16];
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		assert_true(n > 0);
		got += (size_t)n;
		assert_true(got < 2 * len);
	}
	close(fd);
	close(ping);
	stop(fx);
}

/* A read under way when the log fails (a review re-hashing its originals) is not answered:
 * its access is recorded as refused, and the error replaces its answer. */
static void test_unrecordable_in_flight(void **state)
{
	struct fx *fx = *state;
	json_t *r, *a;
	int fd;

	populate_big_case(fx, "BIG");
	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	send_line(fd, "{\"op\":\"review\",\"case\":\"BIG\"}\n");
	usleep(50000); /* past process_line()'s check: the review takes hundreds of ms */
	fx->pipe.log_failing = -ENOSPC;
	r = read_big_reply(fd, NULL);
	assert_error(r, "unavailable");
	assert_non_null(
	    strstr(jstring(json_object_get(r, "error"), "message"), "could not be recorded"));
	json_decref(r);
	a = last_access(fx, "review");
	assert_non_null(a);
	assert_true(json_is_false(json_object_get(a, "allowed")));
	assert_string_equal(jstring(a, "result"), "log_unwritable");
	json_decref(a);
	/* That append succeeded: the log takes reads again. */
	r = rpc(fd, "{\"op\":\"entry\",\"index\":0}");
	assert_ok(r);
	json_decref(r);
	close(fd);
	stop(fx);
}

/* A review whose client is gone when the originals have been read (here: the server closes
 * while two reviews re-hash) is on record all the same, "result":"abandoned". */
static void test_review_abandoned(void **state)
{
	struct fx *fx = *state;
	int fd[3], busy = 0, abandoned = 0;
	struct err_detail e;
	uint64_t size;
	json_t *r;

	populate_big_case(fx, "BIG");
	start(fx);
	fd[0] = connect_to(fx);
	fd[1] = connect_to(fx);
	wait_index(fd[0]);
	for (int attempt = 0; !busy; attempt++) {
		assert_true(attempt < 5);
		fd[2] = connect_to(fx);
		for (int k = 0; k < 3; k++) {
			send_line(fd[k], "{\"op\":\"review\",\"case\":\"BIG\"}\n");
			if (k < 2)
				usleep(1000); /* in order */
		}
		/* At most 2 reviews run at once: "busy" proves both are running. */
		r = read_big_reply(fd[2], NULL);
		busy = !ok(r) && !strcmp(err_code(r), "busy");
		json_decref(r);
		close(fd[2]);
		if (!busy) {
			/* Both were already answered: take their answers, try again. */
			for (int k = 0; k < 2; k++)
				json_decref(read_big_reply(fd[k], NULL));
		}
	}
	stop(fx); /* closes the clients while their reviews run */
	close(fd[0]);
	close(fd[1]);
	assert_int_equal(tlog_size(fx->log, &size, &e), 0);
	for (uint64_t i = 0; i < size; i++) {
		char *bytes;
		size_t len;
		json_t *o;

		assert_int_equal(tlog_entry(fx->log, i, &bytes, &len, &e), 0);
		o = json_loadb(bytes, len, 0, NULL);
		free(bytes);
		if (!strcmp(json_string_value(json_object_get(o, "type")), "access") &&
		    !strcmp(json_string_value(json_object_get(o, "op")), "review") &&
		    json_is_string(json_object_get(o, "result"))) {
			/* Each review's record is in 5 parts of 2,000 clips, each "abandoned". */
			assert_string_equal(jstring(o, "result"), "abandoned");
			assert_int_equal(json_array_size(json_object_get(o, "entries")), 2000);
			abandoned++;
		}
		json_decref(o);
	}
	assert_int_equal(abandoned, 2 * BIG_CLIPS / 2000);
}

/* ---- review: its content, the access log, cases ---------------------------------------------- */

/* A store under the fixture's folder, for reviews that re-hash originals and copy-outs. */
static void use_store(struct fx *fx)
{
	struct err_detail e;
	char root[128];

	snprintf(root, sizeof(root), "%s/store", fx->dir);
	assert_int_equal(store_open(root, &fx->store, &e), 0);
	fx->d.store = fx->store;
}

/* An original of bytes @tag stored in the store and logged: @device NULL for a name that
 * matched no pattern; recorded from @start for 100 s.  @return its index. */
static uint64_t add_stored(struct fx *fx, const char *tag, const char *type, const char *device,
			   const char *officer, const char *start, const char *end)
{
	struct err_detail e;
	char path[160], rel[STORE_REL_MAX], hex[65], name[64];
	uint8_t sha[32];
	uint64_t size, index;
	struct stat sb;
	bool existed;
	json_t *o;
	char *text;
	int fd;

	snprintf(path, sizeof(path), "%s/%s.mp4", fx->dir, tag);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, tag, strlen(tag)), (ssize_t)strlen(tag));
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(store_put_fd(fx->store, fd, &sb, sha, &size, rel, &existed, &e), 0);
	close(fd);
	unlink(path);
	hex_encode(sha, 32, hex);
	snprintf(name, sizeof(name), "%s.mp4", tag);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I,"
		      " s:s, s:s}",
		      "v", 1, "type", type, "name", name, "zone", "dock", "device", device,
		      "officer", officer, "storage", "on_time", "recorded_start", start,
		      "recorded_end", end, "ingested_at", "2024-05-01T12:00:00Z", "deadline",
		      "2024-05-02T12:00:00Z", "time_source", "tag", "duration_us",
		      (json_int_t)100000000, "size", (json_int_t)size, "sha256", hex, "stored",
		      rel);
	assert_non_null(o);
	if (!device)
		json_object_set_new(o, "device", json_null());
	if (!officer)
		json_object_set_new(o, "officer", json_null());
	if (!strcmp(type, "damaged"))
		json_object_set_new(o, "error", json_string("moov atom not found"));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	index = append(fx, text, NULL, 0);
	free(text);
	return index;
}

/* An annotation recorded over @fd; @return its index. */
static uint64_t annotate_ok(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static uint64_t annotate_ok(int fd, const char *fmt, ...)
{
	char *line;
	va_list ap;
	uint64_t index;
	json_t *r;

	va_start(ap, fmt);
	assert_true(vasprintf(&line, fmt, ap) > 0);
	va_end(ap);
	r = rpc(fd, "%s", line);
	free(line);
	assert_ok(r);
	index = (uint64_t)jint(r, "index");
	json_decref(r);
	return index;
}

static const json_t *review_clip(const json_t *review, uint64_t index)
{
	const json_t *dev, *c;
	size_t i, k;

	json_array_foreach(json_object_get(review, "devices"), i, dev)
		json_array_foreach(json_object_get(dev, "clips"), k, c)
			if ((uint64_t)jint(c, "index") == index)
				return c;
	fail_msg("no clip %" PRIu64 " in the review", index);
	return NULL;
}

static const json_t *review_open(const json_t *review, const char *kind, uint64_t entry)
{
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(review, "open"), i, item)
		if (!strcmp(jstring(item, "kind"), kind) &&
		    json_integer_value(json_object_get(item, "entry")) == (json_int_t)entry)
			return item;
	return NULL;
}

/* The case annotations in a review's "annotations", by the case they bind. */
static size_t case_notes_of(const json_t *review, const char *case_id)
{
	const json_t *a;
	size_t i, n = 0;

	json_array_foreach(json_object_get(review, "annotations"), i, a)
		if (!strcmp(jstring(a, "kind"), "case") && !strcmp(jstring(a, "case"), case_id))
			n++;
	return n;
}

#define CASE_A "2026-XZ-0042"
#define CASE_B "沪公(2026)行罚字第0042号"

/* The review of one case: its own case annotations and never another case's, a clip shared
 * with another case cross-referenced on its row (both ways); the verdict names the damaged
 * file although it is reported (and says no "every original intact"), the damage report's
 * text on its row with the raw error kept apart; a clip without a device is open until a
 * device annotation attributes it, then on that device's timeline; the checkpoint and who
 * asked. */
static void test_review_content(void **state)
{
	struct fx *fx = *state;
	uint64_t a1, a2, dmg, shared, nodev, report, note_a, note_b, dev_note;
	const json_t *c, *x, *item;
	char expect[512];
	size_t i;
	json_t *r, *acc;
	const char *v;
	int fd;

	use_store(fx);
	a1 = add_stored(fx, "a1", "ingest", "CAM1", "OFF1", "2024-05-01T08:00:00Z",
			"2024-05-01T08:01:40Z");
	a2 = add_stored(fx, "a2", "ingest", "CAM1", "OFF1", "2024-05-01T08:01:41Z",
			"2024-05-01T08:03:21Z");
	dmg = add_stored(fx, "dmg", "damaged", "CAM1", "OFF1", "2024-05-01T08:03:22Z",
			 "2024-05-01T08:05:02Z");
	shared = add_stored(fx, "shared", "ingest", "CAM2", "OFF2", "2024-05-01T09:00:00Z",
			    "2024-05-01T09:01:40Z");
	nodev = add_stored(fx, "nodev", "ingest", NULL, NULL, "2024-05-01T10:00:00Z",
			   "2024-05-01T10:01:40Z");
	sign(fx);
	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	note_a = annotate_ok(fd,
			     "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"" CASE_A "\","
			     "\"entries\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			     "]}",
			     a1, a2, dmg, shared, nodev);
	note_b = annotate_ok(fd,
			     "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"" CASE_B "\","
			     "\"entries\":[%" PRIu64 "]}",
			     shared);
	report = annotate_ok(fd,
			     "{\"op\":\"annotate\",\"kind\":\"damage_report\",\"entry\":%" PRIu64
			     ",\"explanation\":\"the battery failed while writing\"}",
			     dmg);

	r = read_big_reply((send_line(fd, "{\"op\":\"review\",\"case\":\"" CASE_A "\"}\n"), fd),
			   NULL);
	assert_ok(r);
	assert_false(json_is_true(json_object_get(r, "complete")));
	/* Only this case's own case annotation; the other case is a cross-reference. */
	assert_int_equal(case_notes_of(r, CASE_A), 1);
	assert_int_equal(case_notes_of(r, CASE_B), 0);
	x = json_object_get(review_clip(r, shared), "other_cases");
	assert_int_equal(json_array_size(x), 1);
	assert_string_equal(json_string_value(json_array_get(x, 0)), CASE_B);
	assert_int_equal(json_array_size(json_object_get(review_clip(r, a1), "other_cases")), 0);
	/* The verdict names the damaged file, reported as it is. */
	v = jstring(r, "verdict");
	snprintf(expect, sizeof(expect),
		 "INCOMPLETE: 1 clip without a device (entry %" PRIu64
		 "); reservations: entry %" PRIu64 " damaged (reported, #%" PRIu64 ")",
		 nodev, dmg, report);
	assert_string_equal(v, expect);
	/* The damage report's text on its row; libavformat's error stays in "error". */
	c = review_clip(r, dmg);
	assert_string_equal(jstring(c, "error"), "moov atom not found");
	x = json_array_get(json_object_get(c, "explanations"), 0);
	assert_non_null(x);
	assert_string_equal(jstring(x, "kind"), "damage_report");
	assert_int_equal(jint(x, "index"), report);
	assert_string_equal(jstring(x, "text"), "the battery failed while writing");
	assert_non_null(strstr(jstring(x, "by"), "(uid "));
	assert_non_null(json_string_value(json_object_get(x, "at")));
	assert_string_equal(jstring(c, "device_from"), "name");
	/* The clip without a device: open, in words, the command apart. */
	item = review_open(r, "no_device", nodev);
	assert_non_null(item);
	assert_null(strstr(jstring(item, "message"), "custodyctl"));
	snprintf(expect, sizeof(expect),
		 "custodyctl annotate device --entry %" PRIu64 " --device DEVICE --reason TEXT",
		 nodev);
	assert_string_equal(jstring(item, "action"), expect);
	assert_true(json_is_null(json_object_get(review_clip(r, nodev), "device_from")));
	/* The record: the served checkpoint (with its size) and who asked. */
	assert_int_equal(jint(r, "checkpoint_size"), 5);
	assert_non_null(strstr(jstring(r, "checkpoint"), "test.example/log\n5\n"));
	acc = last_access(fx, "review");
	assert_non_null(acc);
	assert_string_equal(jstring(r, "requested_by"), jstring(acc, "by"));
	json_decref(acc);
	json_decref(r);

	/* A device annotation: only of an original's entry without a device, with a reason. */
	r = rpc(fd,
		"{\"op\":\"annotate\",\"kind\":\"device\",\"entry\":%" PRIu64
		",\"device\":\"CAM9\","
		"\"reason\":\"x\"}",
		a1);
	assert_error(r, "bad_request");
	assert_non_null(strstr(jstring(json_object_get(r, "error"), "message"), "'CAM1'"));
	json_decref(r);
	r = rpc(fd,
		"{\"op\":\"annotate\",\"kind\":\"device\",\"entry\":%" PRIu64
		",\"device\":\"CAM9\","
		"\"reason\":\"x\"}",
		note_a);
	assert_error(r, "bad_request");
	json_decref(r);
	r = rpc(fd,
		"{\"op\":\"annotate\",\"kind\":\"device\",\"entry\":%" PRIu64
		",\"device\":\"CAM9\"}",
		nodev);
	assert_error(r, "bad_request");
	json_decref(r);
	dev_note = annotate_ok(fd,
			       "{\"op\":\"annotate\",\"kind\":\"device\",\"entry\":%" PRIu64
			       ",\"device\":\"CAM9\",\"officer\":\"OFF9\","
			       "\"reason\":\"the dock renamed the officer's file\"}",
			       nodev);

	r = read_big_reply((send_line(fd, "{\"op\":\"review\",\"case\":\"" CASE_A "\"}\n"), fd),
			   NULL);
	assert_ok(r);
	assert_true(json_is_true(json_object_get(r, "complete")));
	snprintf(expect, sizeof(expect),
		 "complete with reservations: 5 clips from 3 devices, no gaps, every original "
		 "unchanged since it was stored; entry %" PRIu64 " damaged (reported, #%" PRIu64
		 "); entry %" PRIu64 " attributed to CAM9 (#%" PRIu64 ")",
		 dmg, report, nodev, dev_note);
	assert_string_equal(jstring(r, "verdict"), expect);
	assert_null(strstr(jstring(r, "verdict"), "every original intact"));
	c = review_clip(r, nodev);
	assert_string_equal(jstring(c, "device_from"), "annotation");
	assert_string_equal(jstring(c, "officer"), "OFF9");
	x = json_array_get(json_object_get(c, "explanations"), 0);
	assert_string_equal(jstring(x, "kind"), "device");
	assert_string_equal(jstring(x, "device"), "CAM9");
	assert_string_equal(jstring(x, "text"), "the dock renamed the officer's file");
	json_array_foreach(json_object_get(r, "devices"), i, item) {
		if (json_is_string(json_object_get(item, "device")) &&
		    !strcmp(jstring(item, "device"), "CAM9"))
			break;
	}
	assert_true(i < json_array_size(json_object_get(r, "devices")));
	assert_int_equal(json_array_size(json_object_get(item, "clips")), 1);
	assert_int_equal(json_array_size(json_object_get(r, "reservations")), 2);
	json_decref(r);

	/* The other case's review: the same the other way round. */
	r = read_big_reply((send_line(fd, "{\"op\":\"review\",\"case\":\"" CASE_B "\"}\n"), fd),
			   NULL);
	assert_ok(r);
	assert_int_equal(case_notes_of(r, CASE_A), 0);
	assert_int_equal(case_notes_of(r, CASE_B), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "bound_by"), 0)),
			 note_b);
	x = json_object_get(review_clip(r, shared), "other_cases");
	assert_int_equal(json_array_size(x), 1);
	assert_string_equal(json_string_value(json_array_get(x, 0)), CASE_A);
	json_decref(r);
	close(fd);
	stop(fx);
}

/* Wait until the log holds an access entry of @op (they are not waited for by the server). */
static void wait_access(struct fx *fx, const char *op, size_t count)
{
	for (int tries = 0;; tries++) {
		struct err_detail e;
		uint64_t size;
		size_t n = 0;

		assert_int_equal(tlog_size(fx->log, &size, &e), 0);
		for (uint64_t i = 0; i < size; i++) {
			char *bytes;
			size_t len;
			json_t *o;

			assert_int_equal(tlog_entry(fx->log, i, &bytes, &len, &e), 0);
			o = json_loadb(bytes, len, 0, NULL);
			free(bytes);
			n += !strcmp(json_string_value(json_object_get(o, "type")), "access") &&
			     !strcmp(json_string_value(json_object_get(o, "op")), op);
			json_decref(o);
		}
		if (n >= count)
			return;
		assert_true(tries < 500);
		usleep(10000);
	}
}

/* The access_log item of access entry @index. */
static const json_t *log_item(const json_t *review, const char *op, const char *by, bool allowed)
{
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(review, "access_log"), i, item)
		if (!strcmp(jstring(item, "op"), op) && strstr(jstring(item, "by"), by) &&
		    json_is_true(json_object_get(item, "allowed")) == allowed)
			return item;
	fail_msg("no %s access by %s in the access log", op, by);
	return NULL;
}

/* Copy-out takes where the client writes the copy and what for, both on record; the review's
 * access_log has one item per access entry with the case's clips it named, a copy-out's
 * destination and purpose (an approval's purpose when the copy-out gave none), and counts
 * actions, not (action, clip) pairs. */
static void test_review_access_log(void **state)
{
	struct fx *fx = *state;
	gid_t approver = GID_APPROVERS, auditor = GID_AUDITORS;
	uint64_t c1, c2, approval;
	const json_t *item, *entries;
	json_t *r, *a;
	char *big;
	int fd;

	use_store(fx);
	c1 = add_stored(fx, "c1", "ingest", "CAM1", "OFF1", "2024-05-01T08:00:00Z",
			"2024-05-01T08:01:40Z");
	c2 = add_stored(fx, "c2", "ingest", "CAM1", "OFF1", "2024-05-01T08:01:41Z",
			"2024-05-01T08:03:21Z");
	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	annotate_ok(fd,
		    "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"K-1\",\"entries\":[%" PRIu64
		    ",%" PRIu64 "]}",
		    c1, c2);

	/* The operator copies c1 out, saying where to and what for. */
	r = rpc(fd,
		"{\"op\":\"copy-out\",\"index\":%" PRIu64 ",\"destination\":\"ws7:/cases/K-1/"
		"c1.mp4\",\"purpose\":\"for the court, hearing of 3 March\"}",
		c1);
	assert_ok(r);
	json_decref(r);
	/* Bounds: a destination of 4 KiB as written in the entry, a purpose of 16 KiB. */
	big = malloc(16 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'd', 4097);
	big[4097] = '\0';
	r = rpc(fd, "{\"op\":\"copy-out\",\"index\":%" PRIu64 ",\"destination\":\"%s\"}", c1, big);
	assert_error(r, "too_large");
	json_decref(r);
	memset(big, '\n', 8193); /* 8 KiB of newlines: 16 KiB and more as written */
	big[8193] = '\0';
	{
		json_t *req = json_pack("{s:s, s:I, s:s}", "op", "copy-out", "index",
					(json_int_t)c1, "purpose", big);
		char *text = json_dumps(req, JSON_COMPACT);

		json_decref(req);
		r = rpc(fd, "%s", text);
		free(text);
	}
	assert_error(r, "too_large");
	json_decref(r);
	free(big);
	r = rpc(fd, "{\"op\":\"copy-out\",\"index\":%" PRIu64 ",\"destination\":\"\"}", c1);
	assert_error(r, "bad_request");
	json_decref(r);
	/* A `log` that reveals both clips: one action naming two. */
	r = rpc(fd, "{\"op\":\"log\",\"device\":\"CAM1\"}");
	assert_ok(r);
	json_decref(r);
	close(fd);

	/* An approver lets "daemon" (uid 1) copy c2; daemon copies it without a purpose of its
	 * own, and is refused c1. */
	set_peer(4244, 999, &approver, 1);
	fd = connect_to(fx);
	approval = annotate_ok(fd,
			       "{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"daemon\","
			       "\"entries\":[%" PRIu64 "],\"purpose\":\"disciplinary hearing\","
			       "\"expires\":\"2999-01-01T00:00:00Z\"}",
			       c2);
	close(fd);
	set_peer(1, 999, &auditor, 1);
	fd = connect_to(fx);
	r = rpc(fd,
		"{\"op\":\"copy-out\",\"index\":%" PRIu64 ",\"destination\":\"ws9:/tmp/c2.mp4\"}",
		c2);
	assert_ok(r);
	json_decref(r);
	r = rpc(fd,
		"{\"op\":\"copy-out\",\"index\":%" PRIu64 ",\"destination\":\"ws9:/tmp/c1.mp4\","
		"\"purpose\":\"curiosity\"}",
		c1);
	assert_error(r, "forbidden");
	json_decref(r);
	close(fd);
	wait_access(fx, "copy-out", 3);
	/* On record in the access entries themselves. */
	a = last_access(fx, "copy-out");
	assert_true(json_is_false(json_object_get(a, "allowed")));
	assert_string_equal(jstring(a, "destination"), "ws9:/tmp/c1.mp4");
	assert_string_equal(jstring(a, "purpose"), "curiosity");
	json_decref(a);

	set_peer(0, 0, NULL, 0);
	fd = connect_to(fx);
	r = read_big_reply((send_line(fd, "{\"op\":\"review\",\"case\":\"K-1\"}\n"), fd), NULL);
	assert_ok(r);
	item = log_item(r, "copy-out", "root(uid 0)", true);
	assert_string_equal(jstring(item, "destination"), "ws7:/cases/K-1/c1.mp4");
	assert_string_equal(jstring(item, "purpose"), "for the court, hearing of 3 March");
	assert_string_equal(jstring(item, "authority"), "operator");
	assert_true(json_is_null(json_object_get(item, "approval")));
	assert_string_equal(jstring(item, "result"), "copied");
	entries = json_object_get(item, "entries");
	assert_int_equal(json_array_size(entries), 1);
	assert_int_equal(json_integer_value(json_array_get(entries, 0)), c1);
	item = log_item(r, "copy-out", "daemon(uid 1)", true);
	assert_string_equal(jstring(item, "authority"), "approval");
	assert_int_equal(jint(item, "approval"), approval);
	assert_string_equal(jstring(item, "purpose"), "disciplinary hearing"); /* the approval's */
	assert_string_equal(jstring(item, "destination"), "ws9:/tmp/c2.mp4");
	item = log_item(r, "copy-out", "daemon(uid 1)", false);
	assert_string_equal(jstring(item, "result"), "refused");
	assert_string_equal(jstring(item, "purpose"), "curiosity");
	item = log_item(r, "log", "root(uid 0)", true);
	assert_int_equal(json_array_size(json_object_get(item, "entries")), 2);
	/* Actions: the log, three copy-outs; (action, clip) pairs: one more. */
	assert_int_equal(jint(r, "access_log_total"), 4);
	assert_int_equal(json_array_size(json_object_get(r, "access_log")), 4);
	assert_int_equal(jint(r, "accesses_total"), 5);
	assert_true(json_is_true(json_object_get(r, "access_log_exact")));
	json_decref(r);
	close(fd);
	stop(fx);
}

/* `cases`: every case with its clips (a case by device and time with a clip stored since),
 * devices, officers, span, open items without re-hashing and the last review; a review of an
 * unknown case suggests near ids: equal but for case, within two edits (characters, not
 * bytes), containing it. */
static void test_cases(void **state)
{
	struct fx *fx = *state;
	uint64_t a1, dmg, shared, nodev, later;
	const json_t *list, *k;
	json_t *r;
	int fd;

	use_store(fx);
	a1 = add_stored(fx, "a1", "ingest", "CAM1", "OFF1", "2024-05-01T08:00:00Z",
			"2024-05-01T08:01:40Z");
	dmg = add_stored(fx, "dmg", "damaged", "CAM1", "OFF1", "2024-05-01T08:01:41Z",
			 "2024-05-01T08:03:21Z");
	shared = add_stored(fx, "shared", "ingest", "CAM2", "OFF2", "2024-05-01T09:00:00Z",
			    "2024-05-01T09:01:40Z");
	nodev = add_stored(fx, "nodev", "ingest", NULL, NULL, "2024-05-01T10:00:00Z",
			   "2024-05-01T10:01:40Z");
	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	annotate_ok(fd,
		    "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"" CASE_A "\","
		    "\"entries\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]}",
		    a1, dmg, shared, nodev);
	annotate_ok(fd,
		    "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"" CASE_B "\","
		    "\"entries\":[%" PRIu64 "]}",
		    shared);
	annotate_ok(fd, "{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"2026-XZ-0099\","
			"\"device\":\"CAM2\",\"from\":\"2024-05-01T08:30:00Z\","
			"\"to\":\"2024-05-01T12:00:00Z\"}");
	/* A clip of that time stored after the binding belongs to it too. */
	later = add_stored(fx, "later", "ingest", "CAM2", "OFF3", "2024-05-01T11:00:00Z",
			   "2024-05-01T11:01:40Z");
	(void)later;

	r = rpc(fd, "{\"op\":\"cases\"}");
	assert_ok(r);
	assert_non_null(json_string_value(json_object_get(r, "as_of")));
	list = json_object_get(r, "cases");
	assert_int_equal(json_array_size(list), 3);
	/* By byte order: the ASCII ids before the Chinese one. */
	k = json_array_get(list, 0);
	assert_string_equal(jstring(k, "case"), CASE_A);
	assert_int_equal(jint(k, "clips"), 4);
	assert_int_equal(json_array_size(json_object_get(k, "devices")), 2); /* CAM1, CAM2 */
	assert_string_equal(json_string_value(json_array_get(json_object_get(k, "devices"), 1)),
			    "CAM2");
	assert_int_equal(json_array_size(json_object_get(k, "officers")), 2);
	assert_string_equal(jstring(k, "from"), "2024-05-01T08:00:00Z");
	assert_string_equal(jstring(k, "to"), "2024-05-01T10:01:40Z");
	/* Open without re-hashing: the damaged file without a report, the clip without a
	 * device, and the gap on CAM1? none (a split); as a review would find them. */
	assert_int_equal(jint(k, "open"), 2);
	assert_true(json_is_null(json_object_get(k, "last_review")));
	assert_int_equal(json_array_size(json_object_get(k, "bound_by")), 1);
	k = json_array_get(list, 1);
	assert_string_equal(jstring(k, "case"), "2026-XZ-0099");
	assert_int_equal(jint(k, "clips"), 2); /* shared, and the one stored since */
	assert_int_equal(jint(k, "open"), 1);  /* the gap 09:01:40 to 11:00 */
	assert_int_equal(json_array_size(json_object_get(k, "officers")), 2);
	k = json_array_get(list, 2);
	assert_string_equal(jstring(k, "case"), CASE_B);
	assert_int_equal(jint(k, "clips"), 1);
	assert_int_equal(jint(k, "open"), 0);
	json_decref(r);
	/* Not recorded: it reveals no original. */
	assert_null(last_access(fx, "cases"));

	/* After a review, its time. */
	json_decref(read_big_reply(
	    (send_line(fd, "{\"op\":\"review\",\"case\":\"" CASE_B "\"}\n"), fd), NULL));
	wait_access(fx, "review", 1);
	r = rpc(fd, "{\"op\":\"cases\"}");
	assert_ok(r);
	k = json_array_get(json_object_get(r, "cases"), 2);
	assert_non_null(json_string_value(json_object_get(k, "last_review")));
	assert_true(json_is_null(
	    json_object_get(json_array_get(json_object_get(r, "cases"), 0), "last_review")));
	json_decref(r);

	/* Unknown case ids, and what is near them. */
	{
		static const struct {
			const char *asked;
			const char *first, *second;
		} near[] = {
			{ "2026-xz-0042", CASE_A, "2026-XZ-0099" },   /* but for case; 2 edits */
			{ "2026-XZ-0043", CASE_A, "2026-XZ-0099" },   /* 1 edit, then 2 */
			{ "XZ-00", CASE_A, "2026-XZ-0099" },	      /* containing it */
			{ "沪公(2025)刑罚字第0042号", CASE_B, NULL }, /* 2 characters, 4 bytes */
			{ "nothing like it", NULL, NULL },
		};

		for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
			const json_t *err, *sug;

			r = rpc(fd, "{\"op\":\"review\",\"case\":\"%s\"}", near[i].asked);
			assert_error(r, "not_found");
			err = json_object_get(r, "error");
			sug = json_object_get(err, "suggestions");
			assert_true(json_is_array(sug));
			if (!near[i].first) {
				assert_int_equal(json_array_size(sug), 0);
			} else {
				assert_string_equal(json_string_value(json_array_get(sug, 0)),
						    near[i].first);
				assert_non_null(strstr(jstring(err, "message"), "did you mean"));
			}
			if (near[i].second)
				assert_string_equal(json_string_value(json_array_get(sug, 1)),
						    near[i].second);
			else
				assert_int_equal(json_array_size(sug), near[i].first ? 1 : 0);
			json_decref(r);
		}
	}
	close(fd);
	stop(fx);
}

/* ---- the socket file ----------------------------------------------------------------------- */

static void test_socket_file(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct err_detail e;
	struct server *s2;
	struct stat st;
	int fd;

	/* A stale socket (nobody listening) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, fx->sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	start(fx);
	assert_int_equal(stat(fx->sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	/* A live one is not. */
	assert_int_equal(srv_new(&fx->d, &s2, &e), -EADDRINUSE);
	assert_non_null(strstr(e.msg, "another process"));
	stop(fx);
	assert_int_equal(stat(fx->sock, &st), -1); /* unlinked on close */

	/* Something that is not a socket is left alone. */
	fd = open(fx->sock, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->loop_closed = false;
	assert_int_equal(srv_new(&fx->d, &s2, &e), -EEXIST);
	assert_int_equal(stat(fx->sock, &st), 0);
	unlink(fx->sock);

	/* A missing folder. */
	fx->cfg.socket_path = "/nonexistent-custody/x.sock";
	assert_int_equal(srv_new(&fx->d, &s2, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "RuntimeDirectory"));
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	fx->loop_closed = true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roles_resolver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proof_consistency_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_annotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_annotate_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrecordable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_from_one_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_per_user_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unrecordable_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_abandoned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review_access_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

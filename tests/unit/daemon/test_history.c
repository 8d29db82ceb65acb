/* Unit tests of `history` (daemon/server/history.c, trail.c; docs/review-format.md): a real
 * libuv loop on its own thread, a real log and store in a fresh mkdtemp() directory, and the
 * fake pipeline of fake-pipeline.h, as tests/unit/daemon/test_server.c stands a server up.
 * The log is written by hand before the server starts, so that each test says exactly which
 * entries concern the clip; the server's index reads them as it reads any log.  Every proof
 * in an answer is checked with verify/proof.h against the log's verifier key, and its entry
 * against the log's bytes.  Every test ends with srv_close() and uv_loop_close() == 0.
 *
 * Apart from test_server.c because that file is about the transport and the other operations;
 * the fixture is the same, smaller (no fake peers: the test runs as the daemon's own user, an
 * operator). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "base/err.h"
#include "base/hex.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "daemon/pipeline.h"
#include "daemon/server/internal.h"
#include "daemon/server/server.h"
#include "ingest/store.h"
#include "tests/unit/daemon/fake-pipeline.h"
#include "verify/entry.h"
#include "verify/hash.h"
#include "verify/keys.h"
#include "verify/note.h"
#include "verify/proof.h"
#include "verify/tlog.h"

/* ---- fakes of what server.c uses from watch.c and main.c -------------------------------- */

size_t watch_waiting(const struct watch *w, size_t zone)
{
	(void)w;
	return zone;
}

uint64_t daemon_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- fixture ----------------------------------------------------------------------------- */

struct fx {
	char dir[64], db[96], keyfile[96], sock[128], store_dir[96];
	char *vkey;
	struct vfy_signer *signer;
	struct vfy_verifier verifier;
	struct tlog *log;
	struct store *store;
	uv_loop_t loop;
	uv_async_t stop;
	struct cfg cfg;
	struct cfg_zone zones[1];
	struct daemon d;
	struct pipeline pipe;
	struct server *srv;
	pthread_t thread;
	bool running, closed, loop_closed;
};

static char dummy_watch;

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct err_detail e;
	char *skey = NULL;
	FILE *f;

	strcpy(fx->dir, "/tmp/custody-hist-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/db", fx->dir);
	snprintf(fx->keyfile, sizeof(fx->keyfile), "%s/log.key", fx->dir);
	snprintf(fx->sock, sizeof(fx->sock), "%s/custody.sock", fx->dir);
	snprintf(fx->store_dir, sizeof(fx->store_dir), "%s/store", fx->dir);
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
	assert_int_equal(store_open(fx->store_dir, &fx->store, &e), 0);
	fx->zones[0] =
	    (struct cfg_zone){ .name = "dock", .path = "/srv/dock", .kind = CFG_ZONE_DOCK };
	fx->cfg = (struct cfg){ .file = "test.conf",
				.origin = "test.example/log",
				.socket_path = fx->sock,
				.operators = "adm",
				.max_clients = 8,
				.idle_timeout_ms = 10000,
				.max_request_bytes = 1 << 20,
				.storage_deadline_ms = 86400000,
				.split_tolerance_ms = 3000,
				.zones = fx->zones,
				.nzones = 1 };
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(fake_pipe_init(&fx->pipe, fx->log, &fx->loop), 0);
	fx->d = (struct daemon){ .loop = &fx->loop,
				 .cfg = &fx->cfg,
				 .log = fx->log,
				 .store = fx->store,
				 .pipe = &fx->pipe,
				 .watch = (struct watch *)&dummy_watch,
				 .started_us = daemon_now_us() };
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
	srv_close(fx->srv, on_srv_closed, fx);
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
	assert_int_equal(pthread_create(&fx->thread, NULL, loop_main, fx), 0);
	fx->running = true;
}

static void stop(struct fx *fx)
{
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
	char cmd[128];

	if (fx->running) {
		uv_async_send(&fx->stop);
		pthread_join(fx->thread, NULL);
	}
	if (!fx->loop_closed) {
		fake_pipe_close(&fx->pipe);
		uv_run(&fx->loop, UV_RUN_NOWAIT);
		uv_loop_close(&fx->loop);
	}
	fake_pipe_done(&fx->pipe);
	tlog_free(fx->log);
	store_free(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	vfy_signer_free(fx->signer);
	free(fx->vkey);
	free(fx);
	return 0;
}

/* ---- the log's content ------------------------------------------------------------------- */

/* Append @text canonicalised, with @keys; @return its index. */
static uint64_t append(struct fx *fx, const char *text, const struct tlog_key *keys, size_t nkeys)
{
	struct err_detail e;
	struct iovec iov;
	char *canon;
	size_t len;
	uint64_t first;

	if (vfy_entry_canonicalize(text, strlen(text), &canon, &len, &e) < 0)
		fail_msg("%s: %s", e.msg, text);
	iov = (struct iovec){ canon, len };
	assert_int_equal(tlog_append_keyed(fx->log, &iov, 1, keys, nkeys, &first, &e), 0);
	free(canon);
	return first;
}

static uint64_t appendf(struct fx *fx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static uint64_t appendf(struct fx *fx, const char *fmt, ...)
{
	char *text;
	va_list ap;
	uint64_t index;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	assert_true(n > 0);
	index = append(fx, text, NULL, 0);
	free(text);
	return index;
}

static void sign(struct fx *fx)
{
	struct err_detail e;
	int signed_;

	assert_int_equal(tlog_checkpoint_sign(fx->log, fx->signer, &signed_, &e), 0);
}

/* Store @content as an original: its SHA-256 into @sha, its `stored` name into @rel. */
static void put_original(struct fx *fx, const char *content, char sha[65], char rel[STORE_REL_MAX])
{
	char path[128];
	struct err_detail e;
	uint8_t digest[32];
	uint64_t size;
	bool existed;
	int fd;

	snprintf(path, sizeof(path), "%s/in.mp4", fx->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(store_put_fd(fx->store, fd, NULL, digest, &size, rel, &existed, &e), 0);
	close(fd);
	unlink(path);
	hex_encode(digest, 32, sha);
}

/* An `ingest` entry of camera @device (officer OFF7) recorded from @start for 100 s, stored
 * late (explained or not by what follows), for the original @sha256 stored as @rel (NULL: an
 * original that was never put in the store) of @size bytes.  @return its index. */
static uint64_t add_clip(struct fx *fx, const char *name, const char *device, const char *start,
			 const char *end, const char *storage, const char *sha256, const char *rel,
			 size_t size)
{
	char stored[STORE_REL_MAX + 16] = "";

	if (rel)
		snprintf(stored, sizeof(stored), "\"stored\":\"%s\",", rel);
	return appendf(fx,
		       "{\"v\":1,\"type\":\"ingest\",\"name\":\"%s\",\"zone\":\"dock\","
		       "\"device\":\"%s\",\"officer\":\"OFF7\",\"storage\":\"%s\","
		       "\"deadline\":\"2024-05-02T08:01:40Z\",\"recorded_start\":\"%s\","
		       "\"recorded_end\":\"%s\",\"ingested_at\":\"2024-05-03T09:00:00Z\","
		       "\"sha256\":\"%s\",%s\"size\":%zu,\"duration_us\":100000000,"
		       "\"time_source\":\"tag\",\"streams\":[]}",
		       name, device, storage, start, end, sha256, stored, size);
}

static uint64_t add_access(struct fx *fx, const char *by, const char *op, uint64_t target,
			   bool allowed, const char *result, bool entries)
{
	char extra[128] = "";

	if (result)
		snprintf(extra, sizeof(extra), ",\"result\":\"%s\"", result);
	if (entries)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 ",\"entries\":[%" PRIu64 "]", target);
	return appendf(fx,
		       "{\"v\":1,\"type\":\"access\",\"by\":\"%s\",\"uid\":1002,\"op\":\"%s\","
		       "\"target\":%" PRIu64 ",\"at\":\"2024-05-04T10:00:00Z\",\"allowed\":%s%s}",
		       by, op, target, allowed ? "true" : "false", extra);
}

/* A scrub entry: the pass started at @started (its parts share it) covering @log_size. */
static uint64_t add_scrub(struct fx *fx, const char *started, uint64_t log_size, unsigned part,
			  unsigned parts, const char *missing)
{
	return appendf(fx,
		       "{\"v\":1,\"type\":\"scrub\",\"started_at\":\"%s\","
		       "\"at\":\"2024-06-01T00:00:00Z\",\"log_size\":%" PRIu64 ",\"checked\":2,"
		       "\"ok\":1,\"purged\":0,\"bytes\":100,\"part\":%u,\"parts\":%u,"
		       "\"missing\":[%s],\"altered\":[]}",
		       started, log_size, part, parts, missing);
}

/* ---- the client -------------------------------------------------------------------------- */

static int connect_to(struct fx *fx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 30 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, fx->sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* One reply line (of any size). */
static json_t *read_reply(int fd)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	json_error_t je;
	json_t *j;

	assert_non_null(buf);
	for (;;) {
		ssize_t n;
		char *nl;

		if (len == cap) {
			char *grown = realloc(buf, cap *= 2);

			assert_non_null(grown);
			buf = grown;
		}
		n = recv(fd, buf + len, cap - len, MSG_PEEK);
		assert_true(n > 0);
		nl = memchr(buf + len, '\n', (size_t)n);
		n = recv(fd, buf + len, nl ? (size_t)(nl - (buf + len)) + 1 : (size_t)n, 0);
		assert_true(n > 0);
		len += (size_t)n;
		if (nl)
			break;
	}
	j = json_loadb(buf, len - 1, 0, &je);
	if (!j)
		fail_msg("reply does not parse: %s: %.200s", je.text, buf);
	free(buf);
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
	assert_int_equal(send(fd, line, (size_t)n, MSG_NOSIGNAL), n);
	assert_int_equal(send(fd, "\n", 1, MSG_NOSIGNAL), 1);
	free(line);
	return read_reply(fd);
}

static void assert_ok(const json_t *r)
{
	if (!json_is_true(json_object_get(r, "ok"))) {
		char *s = json_dumps(r, 0);

		fail_msg("expected ok, got %s", s);
	}
}

static void assert_error(json_t *r, const char *code)
{
	const char *got = json_string_value(json_object_get(json_object_get(r, "error"), "code"));

	if (json_is_true(json_object_get(r, "ok")) || !got || strcmp(got, code)) {
		char *s = json_dumps(r, 0);

		fail_msg("expected error '%s', got %s", code, s);
	}
	assert_non_null(json_object_get(json_object_get(r, "error"), "message"));
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

	if (!s)
		fail_msg("no string \"%s\"", key);
	return s;
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

/* The newest access entry of the log, parsed. */
static json_t *last_access(struct fx *fx)
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
		if (!strcmp(jstring(o, "type"), "access"))
			return o;
		json_decref(o);
	}
	return NULL;
}

/* Check every event of the history @r: sorted by index, its entry the log's, its proof (when
 * the checkpoint covers it) a tlog-proof@v1 of exactly those bytes at that index that verifies
 * against the log's key at the answer's checkpoint; null when the checkpoint does not cover it.
 * @return how many proofs were checked. */
static unsigned check_events(struct fx *fx, const json_t *r)
{
	const json_t *events = json_object_get(r, "events"), *ev;
	const json_t *cpsize = json_object_get(r, "checkpoint_size");
	uint64_t size = json_is_integer(cpsize) ? (uint64_t)json_integer_value(cpsize) : 0;
	unsigned checked = 0;
	int64_t prev = -1;
	size_t i;

	assert_true(json_is_array(events));
	if (size)
		assert_non_null(strstr(jstring(r, "checkpoint"), "test.example/log\n"));
	else
		assert_true(json_is_null(json_object_get(r, "checkpoint")));
	json_array_foreach(events, i, ev) {
		const json_t *proof = json_object_get(ev, "proof");
		int64_t index = jint(ev, "index");
		struct vfy_tlog_proof p = { 0 };
		struct vfy_checkpoint cp;
		struct err_detail e;
		json_t *logged;
		char *bytes;
		size_t len;

		assert_true(index > prev);
		prev = index;
		assert_int_equal(tlog_entry(fx->log, (uint64_t)index, &bytes, &len, &e), 0);
		logged = json_loadb(bytes, len, 0, NULL);
		assert_true(json_equal(logged, json_object_get(ev, "entry")));
		json_decref(logged);
		if ((uint64_t)index >= size) {
			assert_true(json_is_null(proof));
			free(bytes);
			continue;
		}
		assert_true(json_is_string(proof));
		assert_int_equal(vfy_tlog_proof_parse(json_string_value(proof),
						      json_string_length(proof), &p, &e),
				 0);
		if (vfy_tlog_proof_verify(&p, &fx->verifier, &cp, &e) < 0)
			fail_msg("the proof of event %" PRId64 " does not verify: %s", index,
				 e.msg);
		assert_int_equal(p.index, (uint64_t)index);
		assert_int_equal(cp.size, size);
		assert_int_equal(p.extra_len, len);
		assert_memory_equal(p.extra, bytes, len);
		assert_string_equal(p.checkpoint, jstring(r, "checkpoint"));
		vfy_tlog_proof_done(&p);
		free(bytes);
		checked++;
	}
	return checked;
}

/* The events' "index,kind[:result]" list, for comparing in one string. */
static void events_str(const json_t *r, char *buf, size_t cap)
{
	const json_t *ev;
	size_t i, o = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(r, "events"), i, ev) {
		const char *result = json_string_value(json_object_get(ev, "result"));

		o += (size_t)snprintf(buf + o, cap - o, "%s%" PRId64 ",%s%s%s", i ? " " : "",
				      jint(ev, "index"), jstring(ev, "kind"), result ? ":" : "",
				      result ? result : "");
		assert_true(o < cap);
	}
}

/* ---- tests ------------------------------------------------------------------------------- */

/* A clip's chain of custody: its arrival, the annotations naming it (late_storage, a case, a
 * hold) and a case that binds it by device and time without listing it, a copy-out and a
 * refusal, an access to another clip left out, its bytes arriving again, a scrub pass that found
 * it intact, and a read after the checkpoint (proof null).  Its original re-hashed from the
 * store; every proof verified; the history recorded as an access. */
static void test_history_events(void **state)
{
	struct fx *fx = *state;
	char sha_a[65], rel_a[STORE_REL_MAX], sha_b[65], rel_b[STORE_REL_MAX], got[512];
	uint64_t a, b;
	json_t *r, *acc;
	int fd;

	uint8_t h[32];

	put_original(fx, "the bytes of clip A", sha_a, rel_a);
	/* B's original was never stored. */
	assert_int_equal(vfy_sha256("B", 1, h), 0);
	hex_encode(h, 32, sha_b);
	snprintf(rel_b, sizeof(rel_b), "objects/%.2s/%s", sha_b, sha_b);
	a = add_clip(fx, "CAM01/a.mp4", "CAM01", "2024-05-01T08:00:00Z", "2024-05-01T08:01:40Z",
		     "late", sha_a, rel_a, strlen("the bytes of clip A"));
	b = add_clip(fx, "CAM02/b.mp4", "CAM02", "2024-05-01T09:00:00Z", "2024-05-01T09:01:40Z",
		     "on_time", sha_b, rel_b, 1);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	appendf(fx, /* 2 */
		"{\"v\":1,\"type\":\"annotation\",\"kind\":\"late_storage\",\"entry\":0,"
		"\"reason\":\"the dock was down\",\"by\":\"root(uid 0)\","
		"\"at\":\"2024-05-03T10:00:00Z\"}");
	appendf(fx, /* 3 */
		"{\"v\":1,\"type\":\"annotation\",\"kind\":\"case\",\"case\":\"K1\","
		"\"entries\":[0,1],\"by\":\"root(uid 0)\",\"at\":\"2024-05-03T11:00:00Z\"}");
	add_access(fx, "bob(uid 1002)", "copy-out", 0, true, "copied", true);	 /* 4 */
	add_access(fx, "eve(uid 1003)", "copy-out", 0, false, "refused", false); /* 5 */
	add_access(fx, "bob(uid 1002)", "entry", 1, true, NULL, true);		 /* 6: B */
	appendf(fx,								 /* 7 */
		"{\"v\":1,\"type\":\"duplicate\",\"zone\":\"dock\",\"name\":\"CAM01/again.mp4\","
		"\"size\":19,\"sha256\":\"%s\",\"received_at\":\"2024-05-04T12:00:00Z\","
		"\"of\":0}",
		sha_a);
	add_scrub(fx, "2024-05-05T00:00:00Z", 8, 1, 1, ""); /* 8 */
	appendf(fx,					    /* 9 */
		"{\"v\":1,\"type\":\"annotation\",\"kind\":\"hold\",\"entries\":[0],"
		"\"reason\":\"appeal\",\"by\":\"root(uid 0)\",\"at\":\"2024-05-06T00:00:00Z\"}");
	appendf(fx, /* 10: binds A by device and time, without listing it */
		"{\"v\":1,\"type\":\"annotation\",\"kind\":\"case\",\"case\":\"K2\","
		"\"device\":\"CAM01\",\"from\":\"2024-05-01T07:00:00Z\","
		"\"to\":\"2024-05-01T09:00:00Z\",\"entries\":[],\"by\":\"root(uid 0)\","
		"\"at\":\"2024-05-06T01:00:00Z\"}");
	appendf(fx, /* 11: another device's, not A's */
		"{\"v\":1,\"type\":\"annotation\",\"kind\":\"interruption\",\"device\":\"CAM09\","
		"\"from\":\"2024-05-01T07:00:00Z\",\"to\":\"2024-05-01T09:00:00Z\","
		"\"reason\":\"battery\",\"by\":\"root(uid 0)\",\"at\":\"2024-05-06T02:00:00Z\"}");
	sign(fx);							 /* checkpoint 12 */
	add_access(fx, "alice(uid 1001)", "entry", 0, true, NULL, true); /* 12 */

	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	r = rpc(fd, "{\"op\":\"history\",\"entry\":0,\"id\":7}");
	assert_ok(r);
	assert_int_equal(jint(r, "id"), 7);
	assert_int_equal(jint(r, "entry"), 0);
	assert_string_equal(jstring(json_object_get(r, "clip"), "name"), "CAM01/a.mp4");
	assert_string_equal(jstring(r, "storage_now"), "late");
	assert_string_equal(jstring(r, "integrity"), "ok");
	assert_null(json_object_get(r, "integrity_error"));
	assert_true(json_is_true(json_object_get(r, "held")));
	assert_true(json_is_false(json_object_get(r, "purged")));
	assert_int_equal(json_array_size(json_object_get(r, "cases")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "cases"), 0)),
			    "K1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "cases"), 1)),
			    "K2");
	assert_int_equal(jint(r, "checkpoint_size"), 12);
	assert_int_equal(jint(r, "accesses_total"), 3);
	assert_true(json_is_false(json_object_get(r, "events_truncated")));
	assert_non_null(strstr(jstring(r, "requested_by"), "(uid "));
	assert_non_null(json_string_value(json_object_get(r, "as_of")));
	events_str(r, got, sizeof(got));
	assert_string_equal(got, "0,arrival 2,annotation 3,annotation 4,access 5,access "
				 "7,duplicate 8,scrub:ok 9,annotation 10,annotation 12,access");
	assert_string_equal(jstring(json_array_get(json_object_get(r, "events"), 0), "at"),
			    "2024-05-03T09:00:00Z"); /* an arrival's time is its ingested_at */
	assert_string_equal(jstring(json_array_get(json_object_get(r, "events"), 5), "at"),
			    "2024-05-04T12:00:00Z"); /* a duplicate's, its received_at */
	assert_int_equal(check_events(fx, r), 9);
	json_decref(r);

	/* Recorded as an access to the clip. */
	acc = last_access(fx);
	assert_string_equal(jstring(acc, "op"), "history");
	assert_int_equal(jint(acc, "target"), 0);
	assert_int_equal(json_array_size(json_object_get(acc, "entries")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(acc, "entries"), 0)), 0);
	assert_true(json_is_true(json_object_get(acc, "allowed")));
	json_decref(acc);

	/* B: its original is not in the store. */
	r = rpc(fd, "{\"op\":\"history\",\"entry\":%" PRIu64 "}", b);
	assert_ok(r);
	assert_string_equal(jstring(r, "integrity"), "missing");
	assert_string_equal(jstring(r, "integrity_error"), "not in the store");
	assert_string_equal(jstring(r, "storage_now"), "on_time");
	assert_true(json_is_false(json_object_get(r, "held")));
	events_str(r, got, sizeof(got));
	assert_string_equal(got, "1,arrival 3,annotation 6,access 8,scrub:ok");
	assert_int_equal(check_events(fx, r), 4);
	json_decref(r);
	close(fd);
	stop(fx);
}

/* A purged clip: integrity "purged" without reading the store, its purge entry an event (found
 * by its TLOG_KEY_PURGED key); the scrub passes that listed it missing (the second part of a
 * pass in two), the newest that found it intact before the purge and not the one after; a
 * clean pass superseded by a later one is not named.  No checkpoint yet: every proof null. */
static void test_history_purged(void **state)
{
	struct fx *fx = *state;
	char sha_c[65], rel_c[STORE_REL_MAX], sha_d[65], rel_d[STORE_REL_MAX], got[512];
	struct tlog_key key = { .entry = 0, .kind = TLOG_KEY_PURGED };
	uint64_t c, d, purge;
	json_t *r;
	int fd;

	put_original(fx, "the bytes of clip C", sha_c, rel_c);
	put_original(fx, "the bytes of clip D", sha_d, rel_d);
	c = add_clip(fx, "CAM01/c.mp4", "CAM01", "2024-05-01T08:00:00Z", "2024-05-01T08:01:40Z",
		     "on_time", sha_c, rel_c, 19);
	d = add_clip(fx, "CAM01/d.mp4", "CAM01", "2024-05-01T09:00:00Z", "2024-05-01T09:01:40Z",
		     "on_time", sha_d, rel_d, 19);
	add_scrub(fx, "2024-06-01T00:00:00Z", 2, 1, 1, "");  /* 2: superseded by 5 */
	add_scrub(fx, "2024-06-02T00:00:00Z", 4, 1, 2, "1"); /* 3: D missing */
	add_scrub(fx, "2024-06-02T00:00:00Z", 4, 2, 2, "0"); /* 4: C missing */
	add_scrub(fx, "2024-06-03T00:00:00Z", 5, 1, 1, "");  /* 5: both intact */
	hex_decode(sha_c, key.hash, 32);
	vfy_key_extra_put(key.extra, 0, (int64_t)c, 0);
	{
		char *text;

		assert_true(asprintf(&text,
				     "{\"v\":1,\"type\":\"purge\",\"entry\":%" PRIu64
				     ",\"sha256\":\"%s\",\"stored\":\"%s\",\"by\":\"root(uid 0)\","
				     "\"at\":\"2024-07-01T00:00:00Z\",\"reason\":null,"
				     "\"zone\":\"dock\",\"retention_s\":1,"
				     "\"due_at\":\"2024-06-01T00:00:00Z\",\"removed\":true}",
				     c, sha_c, rel_c) > 0);
		purge = append(fx, text, &key, 1); /* 6 */
		free(text);
	}
	add_scrub(fx, "2024-07-02T00:00:00Z", 7, 1, 1, ""); /* 7: after the purge */

	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	r = rpc(fd, "{\"op\":\"history\",\"entry\":%" PRIu64 "}", c);
	assert_ok(r);
	assert_string_equal(jstring(r, "integrity"), "purged");
	assert_true(json_is_true(json_object_get(r, "purged")));
	assert_true(json_is_null(json_object_get(r, "checkpoint_size")));
	events_str(r, got, sizeof(got));
	assert_string_equal(got, "0,arrival 4,scrub:missing 5,scrub:ok 6,purge");
	assert_int_equal(jint(json_array_get(json_object_get(r, "events"), 3), "index"),
			 (json_int_t)purge);
	assert_int_equal(check_events(fx, r), 0);
	json_decref(r);

	/* D: missing in the pass of two parts (its first), intact in the newest pass. */
	r = rpc(fd, "{\"op\":\"history\",\"entry\":%" PRIu64 "}", d);
	assert_ok(r);
	assert_string_equal(jstring(r, "integrity"), "ok");
	assert_true(json_is_false(json_object_get(r, "purged")));
	events_str(r, got, sizeof(got));
	assert_string_equal(got, "1,arrival 3,scrub:missing 7,scrub:ok");
	json_decref(r);
	close(fd);
	stop(fx);
}

/* What is not a clip's history: an entry that is not an original (bad_request, recorded), one
 * beyond the log (not_found, recorded), a request without "entry" or with a bad one
 * (bad_request). */
static void test_history_errors(void **state)
{
	struct fx *fx = *state;
	char sha[65], rel[STORE_REL_MAX];
	json_t *r, *acc;
	int fd;

	put_original(fx, "x", sha, rel);
	add_clip(fx, "CAM01/x.mp4", "CAM01", "2024-05-01T08:00:00Z", "2024-05-01T08:01:40Z",
		 "on_time", sha, rel, 1);
	appendf(fx, "{\"v\":1,\"type\":\"annotation\",\"kind\":\"hold\",\"entries\":[0],"
		    "\"reason\":\"r\",\"by\":\"root(uid 0)\",\"at\":\"2024-05-06T00:00:00Z\"}");
	sign(fx);
	start(fx);
	fd = connect_to(fx);
	wait_index(fd);

	r = rpc(fd, "{\"op\":\"history\",\"entry\":1}");
	assert_error(r, "bad_request");
	assert_non_null(
	    strstr(jstring(json_object_get(r, "error"), "message"), "not an original's"));
	json_decref(r);
	acc = last_access(fx);
	assert_string_equal(jstring(acc, "op"), "history");
	assert_int_equal(jint(acc, "target"), 1);
	assert_null(json_object_get(acc, "entries"));
	json_decref(acc);

	r = rpc(fd, "{\"op\":\"history\",\"entry\":99}");
	assert_error(r, "not_found");
	assert_non_null(
	    strstr(jstring(json_object_get(r, "error"), "message"), "there is no entry 99"));
	json_decref(r);
	acc = last_access(fx);
	assert_int_equal(jint(acc, "target"), 99);
	json_decref(acc);

	r = rpc(fd, "{\"op\":\"history\"}");
	assert_error(r, "bad_request");
	json_decref(r);
	r = rpc(fd, "{\"op\":\"history\",\"entry\":\"0\"}");
	assert_error(r, "bad_request");
	json_decref(r);
	r = rpc(fd, "{\"op\":\"history\",\"entry\":-1}");
	assert_error(r, "bad_request");
	json_decref(r);
	close(fd);
	stop(fx);
}

/* More than 2,000 events: the arrival and the annotation are kept, then the newest of the
 * duplicates; events_truncated says so.  Every proof is checked. */
static void test_history_truncated(void **state)
{
	struct fx *fx = *state;
	enum { DUPS = 2100 };
	struct iovec iov[DUPS];
	char sha[65], rel[STORE_REL_MAX];
	const json_t *events;
	struct err_detail e;
	uint64_t first;
	json_t *r;
	int fd;

	put_original(fx, "often", sha, rel);
	add_clip(fx, "CAM01/o.mp4", "CAM01", "2024-05-01T08:00:00Z", "2024-05-01T08:01:40Z",
		 "on_time", sha, rel, 5);
	for (unsigned i = 0; i < DUPS; i++) {
		char *text, *canon;
		size_t len;

		assert_true(asprintf(&text,
				     "{\"v\":1,\"type\":\"duplicate\",\"zone\":\"dock\","
				     "\"name\":\"o-%u.mp4\",\"size\":5,\"sha256\":\"%s\","
				     "\"received_at\":\"2024-05-04T12:00:00Z\",\"of\":0}",
				     i, sha) > 0);
		assert_int_equal(vfy_entry_canonicalize(text, strlen(text), &canon, &len, &e), 0);
		free(text);
		iov[i] = (struct iovec){ canon, len };
	}
	assert_int_equal(tlog_append(fx->log, iov, DUPS, &first, &e), 0);
	for (unsigned i = 0; i < DUPS; i++)
		free(iov[i].iov_base);
	appendf(fx, "{\"v\":1,\"type\":\"annotation\",\"kind\":\"hold\",\"entries\":[0],"
		    "\"reason\":\"r\",\"by\":\"root(uid 0)\",\"at\":\"2024-05-06T00:00:00Z\"}");
	sign(fx);
	start(fx);
	fd = connect_to(fx);
	wait_index(fd);
	r = rpc(fd, "{\"op\":\"history\",\"entry\":0}");
	assert_ok(r);
	events = json_object_get(r, "events");
	assert_int_equal(json_array_size(events), 2000);
	assert_true(json_is_true(json_object_get(r, "events_truncated")));
	assert_string_equal(jstring(json_array_get(events, 0), "kind"), "arrival");
	/* The oldest duplicates gave way: the first kept is the 1,999th newest. */
	assert_int_equal(jint(json_array_get(events, 1), "index"), (json_int_t)first + DUPS - 1998);
	assert_string_equal(jstring(json_array_get(events, 1999), "kind"), "annotation");
	assert_int_equal(check_events(fx, r), 2000);
	json_decref(r);
	close(fd);
	stop(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_history_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_purged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_truncated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

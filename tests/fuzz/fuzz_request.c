/* libFuzzer target: the socket's request path (daemon/server/server.c and the operations it calls).
 *
 * server.c takes a request line in static functions: client_drain() frames lines (the length
 * limit, a last line without its newline, CR), process_line() checks the nesting depth before
 * parsing, has jansson parse (strict UTF-8, duplicate keys refused), checks for one object with
 * an "id" and an "op", checks the peer's roles and dispatches.  None of that is exposed, and it
 * is not worth exposing: the harness drives the real thing instead, with nothing factored out.
 * One server (srv_new()) runs on a real log in a temporary directory, with the annotations a
 * review needs; each input is one connection to its socket.  The first byte chooses the peer's
 * roles (bits 0-3: operator, reviewer, auditor, approver, through fake peer credentials); the
 * rest is what the client sends, after which it shuts down its side and reads every reply
 * until the server hangs up.  The harness runs the loop itself, on the fuzzer's thread.
 *
 * The pipeline is the fake of tests/unit/daemon/fake-pipeline.h, as in test_server.c: during
 * set-up it appends to the log; while fuzzing it is frozen: it appends nothing (each input sees
 * the same log) and answers every append that waits for a commit (annotate) and every
 * pipe_purge() with -EAGAIN, so no input leaves state behind for the next one.  The clock is
 * fixed (2024-06-01T00:00:00Z).
 *
 * Checked beyond ASan, UBSan and LeakSanitizer:
 * - every reply is one JSON object on one line with "ok", and an error has a known code word;
 * - no reply is the out-of-memory fallback: nothing runs out of memory here, so that reply
 *   means a reply could not be built (a string in it that is not UTF-8, say);
 * - every entry the server hands to the pipeline canonicalises (vfy_entry_dump()): an access
 *   record the writer thread would refuse is an access that goes unrecorded;
 * - each non-blank line is answered (until the server hangs up after too_large or a refusal of
 *   a peer with no role), and every connection is closed and its client freed.
 * CUSTODY_FUZZ_LOG=1 keeps the daemon's log lines (dropped by default: they are many).  The
 * fixture lives in /tmp/custody-fuzz-request-XXXXXX, removed at exit (not after a crash). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "conf/conf.h"
#include "daemon/daemon.h"
#include "verify/entry.h"
#include "base/err.h"
#include "verify/hash.h"
#include "base/hex.h"
#include "base/log.h"
#include "verify/keys.h"
#include "verify/note.h"
#include "daemon/pipeline.h"
#include "tests/unit/daemon/fake-pipeline.h"
#include "daemon/server/server.h"
#include "daemon/server/internal.h"
#include "ingest/store.h"
#include "verify/tlog.h"
#include "daemon/watch.h"

#define NOW_US (1717200000LL * 1000000) /* 2024-06-01T00:00:00Z */
/* [socket] max_request_bytes: small, so that inputs reach the too_large path. */
#define LINE_MAX_BYTES 2048

/* ---- fakes of what server.c uses from watch.c and main.c (the pipeline's: fake-pipeline.c) - */

size_t watch_waiting(const struct watch *w, size_t zone)
{
	(void)w;
	return zone;
}

uint64_t daemon_now_us(void)
{
	return (uint64_t)NOW_US;
}

/* ---- the fixture --------------------------------------------------------------------------- */

/* Role groups that exist on every Debian system (as test_server.c). */
static const gid_t role_gid[4] = { 4 /* adm */, 1 /* daemon */, 2 /* bin */, 3 /* sys */ };

static struct {
	char dir[64], db[96], keyfile[96], sock[128], storedir[96];
	struct vfy_signer *signer;
	char *vkey;
	struct tlog *log;
	struct store *store;
	uv_loop_t loop;
	struct cfg cfg;
	struct cfg_zone zones[2];
	struct daemon d;
	struct pipeline pipe;
	char dummy_watch;
	struct server *srv;
	unsigned roles; /* of the next connection */
	bool strict;
} fx;

static int fake_peercred(int fd, struct srv_peer *ret, struct err_detail *reterr)
{
	size_t n = 0;

	(void)fd, (void)reterr;
	*ret = (struct srv_peer){ .pid = 4242, .uid = 4242, .gid = 4242 };
	ret->groups = calloc(4, sizeof(gid_t));
	if (!ret->groups)
		return -ENOMEM;
	for (unsigned i = 0; i < 4; i++)
		if (fx.roles & (1u << i))
			ret->groups[n++] = role_gid[i];
	ret->ngroups = n;
	return 0;
}

static void die(const char *what, const struct err_detail *e)
{
	fprintf(stderr, "fuzz_request: set-up: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(2);
}

static void rm_rf(void)
{
	char cmd[128];

	if (!fx.dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_request: could not remove %s\n", fx.dir);
}

static void hash_of(const char *what, unsigned i, uint8_t out[32])
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s/%u", what, i);
	vfy_sha256(buf, strlen(buf), out);
}

/* An ingest (or damaged) entry with its lookup keys, as the pipeline writes one. */
static void add_original(const char *tag, const char *type, const char *name, const char *zone,
			 const char *device, const char *storage, const char *start)
{
	struct tlog_key keys[6] = { 0 };
	char sha[65], video[65], text[2048], *canon;
	struct err_detail e;
	struct iovec iov;
	uint8_t h[32];
	uint64_t index;
	size_t len;

	hash_of(tag, 1000, h);
	hex_encode(h, 32, sha);
	memcpy(keys[0].hash, h, 32);
	keys[0].kind = TLOG_KEY_FILE;
	hash_of(tag, 1001, h);
	hex_encode(h, 32, video);
	memcpy(keys[1].hash, h, 32);
	keys[1].kind = TLOG_KEY_STREAM;
	vfy_key_extra_put(keys[1].extra, 0, 40, 0);
	for (unsigned i = 0; i < 4; i++) {
		hash_of(tag, i, keys[2 + i].hash);
		keys[2 + i].kind = TLOG_KEY_PACKET;
		vfy_key_extra_put(keys[2 + i].extra, 0, (int64_t)i * 1000000, i * 10);
	}
	snprintf(text, sizeof(text),
		 "{\"v\":1,\"type\":\"%s\",\"name\":\"%s\",\"zone\":\"%s\",\"device\":\"%s\","
		 "\"officer\":\"OFF7\",\"storage\":\"%s\",\"deadline\":\"2024-05-02T08:01:40Z\","
		 "\"recorded_start\":\"%s\",\"recorded_end\":\"2024-05-01T08:01:40Z\","
		 "\"ingested_at\":\"2024-05-02T09:00:00Z\",\"sha256\":\"%s\",\"size\":1000,"
		 "\"start_us\":0,\"duration_us\":40000000,\"container\":\"mov,mp4\","
		 "\"time_source\":\"tag\",\"stored\":\"objects/%.2s/%s\"%s,"
		 "\"tags\":{\"creation_time\":\"%s\",\"make\":\"Acme\"},"
		 "\"streams\":[{\"index\":0,\"type\":\"video\",\"codec\":\"h264\",\"packets\":40,"
		 "\"keyframes\":4,\"digest\":\"%s\"}]}",
		 type, name, zone, device, storage, start, sha, sha, sha,
		 strcmp(type, "damaged") ? "" : ",\"error\":\"cut short\"", start, video);
	if (vfy_entry_canonicalize(text, strlen(text), &canon, &len, &e) < 0)
		die("an original's entry", &e);
	iov = (struct iovec){ canon, len };
	if (tlog_append_keyed(fx.log, &iov, 1, keys, 6, &index, &e) < 0)
		die("append", &e);
	free(canon);
}

static void sign(void)
{
	struct err_detail e;
	int signed_;

	if (tlog_checkpoint_sign(fx.log, fx.signer, &signed_, &e) < 0)
		die("sign", &e);
}

/* The bytes a connection sends, the replies it got, and whether the server hung up. */
struct conn {
	int fd;
	const uint8_t *out;
	size_t outlen, sent;
	bool shut;
	char *in;
	size_t inlen, incap;
	bool eof;
};

static void conn_read(struct conn *k)
{
	for (;;) {
		char cbuf[CMSG_SPACE(4 * sizeof(int))];
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		ssize_t n;

		if (k->incap - k->inlen < 65536) {
			k->incap = k->incap ? 2 * k->incap : 1 << 17;
			k->in = realloc(k->in, k->incap);
			if (!k->in)
				abort();
		}
		iov = (struct iovec){ k->in + k->inlen, k->incap - k->inlen };
		n = recvmsg(k->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			k->eof = true; /* ECONNRESET: the server closed with our bytes unread */
			return;
		}
		/* A copy-out reply carries a descriptor: close it. */
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				int fds[4];
				size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
				for (size_t i = 0; i < nfd && i < 4; i++)
					close(fds[i]);
			}
		if (n == 0) {
			k->eof = true;
			return;
		}
		k->inlen += (size_t)n;
	}
}

static void conn_write(struct conn *k)
{
	while (k->sent < k->outlen) {
		ssize_t n =
		    send(k->fd, k->out + k->sent, k->outlen - k->sent, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			k->sent = k->outlen; /* the server hung up: what is left is not read */
			break;
		}
		k->sent += (size_t)n;
	}
	if (!k->shut) {
		shutdown(k->fd, SHUT_WR);
		k->shut = true;
	}
}

/* Run the loop until the connection's server side hung up and its client was freed. */
static void converse(struct conn *k)
{
	struct server *s = fx.srv;
	time_t start = time(NULL);

	for (;;) {
		struct pollfd p[2] = { { .fd = k->fd, .events = POLLIN },
				       { .fd = uv_backend_fd(&fx.loop), .events = POLLIN } };
		int timeout = uv_backend_timeout(&fx.loop);

		conn_write(k);
		/* Twice: libuv registers a new watcher (an accepted client's reads) with epoll only
		 * when it next polls, so a poll() on the backend fd alone would miss its events. */
		uv_run(&fx.loop, UV_RUN_NOWAIT);
		uv_run(&fx.loop, UV_RUN_NOWAIT);
		conn_read(k);
		if (k->eof && s->allocated == 0)
			return;
		if (time(NULL) - start > 20) {
			fprintf(stderr, "fuzz_request: the server did not hang up in 20 s\n");
			abort();
		}
		if (k->sent < k->outlen)
			p[0].events |= POLLOUT;
		if (timeout < 0 || timeout > 1)
			timeout = 1;
		poll(p, 2, timeout);
	}
}

/* During set-up: send @line as an operator (and approver) and expect "ok":true. */
static void setup_request(const char *line)
{
	struct conn k = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	fx.roles = 0xf;
	k.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx.sock);
	if (k.fd < 0 || connect(k.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect", NULL);
	k.out = (const uint8_t *)line;
	k.outlen = strlen(line);
	converse(&k);
	if (!k.in || !strstr(k.in, "\"ok\":true")) {
		fprintf(stderr, "fuzz_request: set-up request failed: %s -> %.*s\n", line,
			(int)k.inlen, k.in ? k.in : "");
		exit(2);
	}
	free(k.in);
	close(k.fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err_detail e = { 0 };
	char *skey = NULL;
	FILE *f;

	(void)argc, (void)argv;
	if (!getenv("CUSTODY_FUZZ_LOG"))
		log_set_level(LOG_EMERG);
	fx.strict = getenv("CUSTODY_FUZZ_STRICT") != NULL;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/custody-fuzz-request-XXXXXX");
	if (!mkdtemp(fx.dir))
		die("mkdtemp", NULL);
	atexit(rm_rf);
	snprintf(fx.db, sizeof(fx.db), "%s/db", fx.dir);
	snprintf(fx.keyfile, sizeof(fx.keyfile), "%s/log.key", fx.dir);
	snprintf(fx.sock, sizeof(fx.sock), "%s/custody.sock", fx.dir);
	snprintf(fx.storedir, sizeof(fx.storedir), "%s/store", fx.dir);
	if (vfy_keygen("fuzz.example/log", &skey, &fx.vkey, &e) < 0 ||
	    vfy_signer_parse(skey, strlen(skey), &fx.signer, &e) < 0)
		die("key", &e);
	f = fopen(fx.keyfile, "w");
	if (!f)
		die(fx.keyfile, NULL);
	fprintf(f, "%s\n", skey);
	fclose(f);
	chmod(fx.keyfile, 0600);
	vfy_secret_free(skey);
	if (tlog_create(fx.db, "fuzz.example/log", fx.keyfile, fx.vkey, &e) < 0 ||
	    tlog_open(fx.db, TLOG_WRITE, &fx.log, &e) < 0)
		die("log", &e);
	if (vfy_verifier_parse(fx.vkey, strlen(fx.vkey), &fx.d.vkey, &e) < 0)
		die("verifier", &e);
	if (store_open(fx.storedir, &fx.store, &e) < 0)
		die("store", &e);

	/* 0 A (dock, CAM01, late)  1 B (upload, CAM02)  2 C (damaged)  [checkpoint 3]
	 * 3 a scrub entry  [checkpoint 4]  then the annotations below  [checkpoint]
	 * then D (CAM03), not covered by a checkpoint. */
	add_original("A", "ingest", "CAM01/CAM01_OFF7_20240501080000_0001.mp4", "dock", "CAM01",
		     "late", "2024-05-01T08:00:00Z");
	add_original("B", "ingest", "up/b.mp4", "upload", "CAM02", "on_time",
		     "2024-05-01T09:00:00Z");
	add_original("C", "damaged", "CAM01/c.mp4", "dock", "CAM01", "on_time",
		     "2024-05-01T10:00:00Z");
	sign();
	{
		const char *scrub = "{\"at\":\"2024-05-03T00:00:00Z\",\"checked\":3,\"ok\":3,"
				    "\"type\":\"scrub\",\"v\":1}";
		struct iovec iov = { (void *)scrub, strlen(scrub) };
		uint64_t index;

		if (tlog_append(fx.log, &iov, 1, &index, &e) < 0)
			die("append", &e);
	}
	sign();

	fx.zones[0] =
	    (struct cfg_zone){ .name = "dock", .path = "/srv/dock", .kind = CFG_ZONE_DOCK };
	fx.zones[1] =
	    (struct cfg_zone){ .name = "upload", .path = "/srv/up", .kind = CFG_ZONE_UPLOAD };
	fx.cfg = (struct cfg){ .file = "fuzz.conf",
			       .origin = "fuzz.example/log",
			       .socket_path = fx.sock,
			       .operators = "adm",
			       .reviewers = "daemon",
			       .auditors = "bin",
			       .approvers = "sys",
			       .max_clients = 8,
			       .idle_timeout_ms = 60000,
			       .max_request_bytes = LINE_MAX_BYTES,
			       .storage_deadline_ms = 24 * 3600 * 1000,
			       .split_tolerance_ms = 3000,
			       .clock_skew_ms = 600000,
			       .retention_default_ms = 1000 * 3600 * 24,
			       .zones = fx.zones,
			       .nzones = 2,
			       .store_path = fx.storedir };
	if (uv_loop_init(&fx.loop) < 0)
		die("uv_loop_init", NULL);
	fake_pipe_init(&fx.pipe, fx.log, NULL);
	fx.pipe.strict = true;
	fx.d = (struct daemon){ .loop = &fx.loop,
				.cfg = &fx.cfg,
				.log = fx.log,
				.store = fx.store,
				.vkey = fx.d.vkey,
				.pipe = &fx.pipe,
				.watch = (struct watch *)&fx.dummy_watch,
				.started_us = (uint64_t)NOW_US - 5000000 };
	if (srv_new(&fx.d, &fx.srv, &e) < 0)
		die("srv_new", &e);
	fx.srv->peercred = fake_peercred;

	/* Annotations of every kind, made by the server itself. */
	setup_request("{\"op\":\"annotate\",\"kind\":\"interruption\",\"device\":\"CAM01\","
		      "\"from\":\"2024-05-01T08:30:00Z\",\"to\":\"2024-05-01T08:40:00Z\","
		      "\"reason\":\"battery\"}\n");
	setup_request("{\"op\":\"annotate\",\"kind\":\"late_storage\",\"entry\":0,"
		      "\"reason\":\"dock offline\"}\n");
	setup_request("{\"op\":\"annotate\",\"kind\":\"remote_duty\",\"officer\":\"OFF7\","
		      "\"from\":\"2024-05-01T00:00:00Z\",\"to\":\"2024-05-02T00:00:00Z\","
		      "\"returned_at\":\"2024-05-02T06:00:00Z\"}\n");
	setup_request("{\"op\":\"annotate\",\"kind\":\"damage_report\",\"entry\":2,"
		      "\"explanation\":\"card pulled\"}\n");
	setup_request("{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"2024-0001\","
		      "\"entries\":[0,1,2]}\n");
	setup_request("{\"op\":\"annotate\",\"kind\":\"case\",\"case\":\"2024-0002\","
		      "\"device\":\"CAM01\",\"from\":\"2024-05-01T00:00:00Z\","
		      "\"to\":\"2024-05-02T00:00:00Z\"}\n");
	setup_request("{\"op\":\"annotate\",\"kind\":\"approval\",\"grantee\":\"adm\","
		      "\"entries\":[0],\"purpose\":\"court\","
		      "\"expires\":\"2030-01-01T00:00:00Z\"}\n");
	setup_request("{\"op\":\"annotate\",\"kind\":\"hold\",\"entries\":[1],"
		      "\"reason\":\"litigation\"}\n");
	sign();
	add_original("D", "ingest", "CAM03/d.mp4", "dock", "CAM03", "on_time",
		     "2024-05-01T11:00:00Z");
	setup_request("{\"op\":\"status\"}\n"); /* and let the index catch up with D */
	fx.pipe.frozen = true;
	return 0;
}

/* ---- one input ------------------------------------------------------------------------------ */

static const char *const codes[] = { "bad_request", "forbidden", "not_found",	"too_large",
				     "timeout",	    "busy",	 "unavailable", "internal" };

static void check_reply(const char *line, size_t len)
{
	const char *code, *name;
	json_error_t je;
	json_t *r, *err;
	bool known = false;

	r = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!r || !json_is_object(r) || !json_is_boolean(json_object_get(r, "ok"))) {
		fprintf(stderr,
			"fuzz_request: a reply that is not an object with \"ok\" (%s): "
			"%.*s\n",
			r ? "not an object" : je.text, (int)len, line);
		abort();
	}
	if (json_is_true(json_object_get(r, "ok"))) {
		json_decref(r);
		return;
	}
	err = json_object_get(r, "error");
	code = json_string_value(json_object_get(err, "code"));
	name = json_string_value(json_object_get(err, "name"));
	for (size_t i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++)
		known |= !strcmp(code, codes[i]);
	if (!known || !name || !json_is_string(json_object_get(err, "message"))) {
		fprintf(stderr, "fuzz_request: a malformed error reply: %.*s\n", (int)len, line);
		abort();
	}
	if (!strcmp(name, "ENOMEM") || (fx.strict && !strcmp(code, "internal"))) {
		fprintf(stderr, "fuzz_request: an error reply that should not happen: %.*s\n",
			(int)len, line);
		abort();
	}
	json_decref(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct conn k = { 0 };
	size_t lines = 0, replies = 0, start = 0;

	if (size < 1)
		return 0;
	fx.roles = data[0] & 0xf;
	fx.srv->refusals_this_second = 0; /* the clock is fixed: a second that never ends */
	k.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx.sock);
	if (k.fd < 0 || connect(k.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("fuzz_request: connect");
		abort();
	}
	k.out = data + 1;
	k.outlen = size - 1;
	converse(&k);
	close(k.fd);

	/* Non-blank request lines (as server.c's blank()) and reply lines. */
	for (size_t i = 1; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			bool blank = true;

			for (size_t j = start + 1; j < i; j++)
				if (data[j] != ' ' && data[j] != '\t' && data[j] != '\r')
					blank = false;
			/* A line over the limit is answered too_large, blank or not. */
			lines += !blank || i - (start + 1) > LINE_MAX_BYTES;
			start = i;
		}
	}
	start = 0;
	for (size_t i = 0; i < k.inlen; i++)
		if (k.in[i] == '\n') {
			check_reply(k.in + start, i - start);
			replies++;
			start = i + 1;
		}
	if (start != k.inlen) {
		fprintf(stderr, "fuzz_request: a reply without its newline: %.*s\n",
			(int)(k.inlen - start), k.in + start);
		abort();
	}
	if (lines && !replies) {
		fprintf(stderr, "fuzz_request: %zu request lines and no reply\n", lines);
		abort();
	}
	if (replies > lines) {
		fprintf(stderr, "fuzz_request: %zu replies to %zu request lines\n", replies, lines);
		abort();
	}
	free(k.in);
	return 0;
}

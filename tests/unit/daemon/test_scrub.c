/* Unit tests of the scrubber (daemon/scrub.c) without the daemon: a real log and a real store
 * in a fresh mkdtemp() directory, a real libuv loop on the test's thread, and the fake pipeline
 * of fake-pipeline.h, whose pipe_append() canonicalises the entry (vfy_entry_dump) and appends
 * it with tlog_append(), as the writer thread would, then calls back.  Originals are stored with
 * store_put_fd(), then changed or removed behind the store's back.  Covered: a pass finds the
 * altered and the missing originals by index and skips purged ones and entries that only
 * mention "type":"ingest" in a nested object; `scrub --now` while running is refused; a pass
 * stopped in the middle resumes from scrub.json and counts each original once; a finished
 * pass whose append failed is logged at the next start, and one whose entry was committed
 * before the "crash" is not logged twice; a pass with more findings than one entry may list is
 * logged in parts, each within the entry limit, and a "crash" after part 1 logs only the rest;
 * a state file that does not parse is replaced; the
 * schedule starts a pass on its own.  Every test ends with scrub_stop() and
 * uv_loop_close() == 0. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#include "verify/note.h"
#include "daemon/pipeline.h"
#include "tests/unit/daemon/fake-pipeline.h"
#include "daemon/scrub.h"
#include "ingest/store.h"
#include "verify/tlog.h"

/* ---- fakes of what scrub.c uses from main.c (the pipeline's: fake-pipeline.c) ------------- */

uint64_t daemon_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- fixture ----------------------------------------------------------------------------- */

struct fixture {
	char dir[64];
	char db[96];
	char state_file[96];
	uv_loop_t loop;
	uv_timer_t poll;
	struct cfg cfg;
	struct tlog *log;
	struct store *store;
	struct pipeline pipe;
	struct daemon d;
	struct scrub *s;
	bool stopped;
	bool (*until)(struct fixture *fx);
	uint64_t deadline_ns;
	bool timed_out;
};

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct err_detail e;
	char *skey = NULL, *vkey = NULL, keyfile[96], storedir[96];
	FILE *f;

	strcpy(fx->dir, "/tmp/custody-scrub-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->db, sizeof(fx->db), "%s/log", fx->dir);
	snprintf(fx->state_file, sizeof(fx->state_file), "%s/scrub.json", fx->dir);
	snprintf(keyfile, sizeof(keyfile), "%s/log.key", fx->dir);
	snprintf(storedir, sizeof(storedir), "%s/store", fx->dir);
	assert_int_equal(vfy_keygen("test.example/log", &skey, &vkey, &e), 0);
	f = fopen(keyfile, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", skey);
	fclose(f);
	chmod(keyfile, 0600);
	vfy_secret_free(skey);
	assert_int_equal(tlog_create(fx->db, "test.example/log", keyfile, vkey, &e), 0);
	free(vkey);
	assert_int_equal(tlog_open(fx->db, TLOG_WRITE, &fx->log, &e), 0);
	assert_int_equal(store_open(storedir, &fx->store, &e), 0);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->cfg.state = fx->dir;
	fx->cfg.scrub_interval_ms = 0;
	fx->cfg.scrub_rate = 1u << 30;
	assert_int_equal(fake_pipe_init(&fx->pipe, fx->log, NULL), 0);
	fx->d = (struct daemon){ .loop = &fx->loop,
				 .cfg = &fx->cfg,
				 .log = fx->log,
				 .store = fx->store,
				 .pipe = &fx->pipe };
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fake_pipe_done(&fx->pipe);
	store_free(fx->store);
	tlog_free(fx->log);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void on_poll(uv_timer_t *t)
{
	struct fixture *fx = t->data;

	if (fx->until(fx))
		uv_stop(&fx->loop);
	else if (uv_hrtime() > fx->deadline_ns) {
		fx->timed_out = true;
		uv_stop(&fx->loop);
	}
}

/* Run the loop until @until says so (looked at every 10 ms), at most @seconds. */
static void run_until(struct fixture *fx, bool (*until)(struct fixture *), unsigned seconds)
{
	fx->until = until;
	fx->deadline_ns = uv_hrtime() + (uint64_t)seconds * 1000000000u;
	fx->timed_out = false;
	uv_timer_init(&fx->loop, &fx->poll);
	fx->poll.data = fx;
	uv_timer_start(&fx->poll, on_poll, 0, 10);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&fx->poll, NULL);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_false(fx->timed_out);
}

static void on_stopped(void *opaque)
{
	((struct fixture *)opaque)->stopped = true;
}

static bool is_stopped(struct fixture *fx)
{
	return fx->stopped;
}

static void stop_scrubber(struct fixture *fx)
{
	fx->stopped = false;
	scrub_stop(fx->s, on_stopped, fx);
	run_until(fx, is_stopped, 10);
	fx->s = scrub_free(fx->s);
}

static void start_scrubber(struct fixture *fx)
{
	struct err_detail e;

	assert_int_equal(scrub_new(&fx->d, &fx->s, &e), 0);
}

static void close_loop(struct fixture *fx)
{
	assert_int_equal(uv_loop_close(&fx->loop), 0);
}

static uint64_t append_text(struct fixture *fx, const char *text)
{
	struct iovec iov = { (void *)text, strlen(text) };
	struct err_detail e;
	uint64_t index;

	assert_int_equal(tlog_append(fx->log, &iov, 1, &index, &e), 0);
	return index;
}

struct stored {
	char rel[STORE_REL_MAX];
	char path[256];
	uint64_t size;
	uint64_t index;
};

/* Store @size bytes made from @seed and log an entry of @type for them. */
static void store_one(struct fixture *fx, const char *type, unsigned seed, size_t size,
		      struct stored *ret)
{
	char src[128], hex[65], *text;
	uint8_t sha[32];
	struct err_detail e;
	uint64_t got;
	bool existed;
	json_t *entry;
	uint8_t *buf = malloc(size);
	int fd;

	assert_non_null(buf);
	for (size_t i = 0; i < size; i++)
		buf[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
	snprintf(src, sizeof(src), "%s/src-%u", fx->dir, seed);
	fd = open(src, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	free(buf);
	assert_int_equal(store_put_fd(fx->store, fd, NULL, sha, &got, ret->rel, &existed, &e), 0);
	close(fd);
	unlink(src);
	assert_false(existed);
	assert_int_equal(got, size);
	hex_encode(sha, 32, hex);
	snprintf(ret->path, sizeof(ret->path), "%s/store/%s", fx->dir, ret->rel);
	ret->size = size;
	entry = json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:[{s:s}]}", "v", 1, "type", type,
			  "sha256", hex, "size", (json_int_t)size, "stored", ret->rel, "name",
			  "clip.mp4", "streams", "type", "video");
	text = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(entry);
	ret->index = append_text(fx, text);
	free(text);
}

static void flip_byte(const char *path, off_t at)
{
	unsigned char c;
	int fd;

	assert_int_equal(chmod(path, 0640), 0);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

static json_t *read_state(struct fixture *fx)
{
	json_t *o = json_load_file(fx->state_file, 0, NULL);

	assert_non_null(o);
	return o;
}

static bool appended_one(struct fixture *fx)
{
	return fx->pipe.appended >= 1;
}

static json_int_t ji(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void assert_list(const json_t *a, size_t n, ...)
{
	va_list ap;

	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(json_integer_value(json_array_get(a, i)), va_arg(ap, int));
	va_end(ap);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_pass_finds_altered_and_missing(void **state)
{
	struct fixture *fx = *state;
	struct stored ok1, altered, missing, purged, damaged, kept;
	struct err_detail e;
	json_t *st, *last, *alarms, *saved;
	char purge[160];

	store_one(fx, "ingest", 1, 100000, &ok1);
	append_text(fx, "{\"at\":\"2024-05-01T08:00:00Z\",\"by\":\"x\",\"op\":\"log\","
			"\"target\":{\"type\":\"ingest\"},\"type\":\"access\",\"v\":1}");
	store_one(fx, "ingest", 2, 70000, &altered);
	store_one(fx, "ingest", 3, 5000, &missing);
	store_one(fx, "ingest", 4, 3000, &purged);
	store_one(fx, "damaged", 5, 4000, &damaged);
	/* Purged but its file still there (a purge whose removal was held back): not expected in
	 * the store either, so not checked. */
	store_one(fx, "ingest", 6, 2000, &kept);
	snprintf(purge, sizeof(purge), "{\"entry\":%" PRIu64 ",\"type\":\"purge\",\"v\":1}",
		 purged.index);
	append_text(fx, purge);
	snprintf(purge, sizeof(purge), "{\"entry\":%" PRIu64 ",\"type\":\"purge\",\"v\":1}",
		 kept.index);
	append_text(fx, purge);
	/* Behind the daemon's back: one byte changed, one file deleted; the purged one is gone
	 * as a purge leaves it. */
	flip_byte(altered.path, 12345);
	assert_int_equal(unlink(missing.path), 0);
	assert_int_equal(unlink(purged.path), 0);

	start_scrubber(fx);
	st = scrub_status(fx->s);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "idle");
	assert_true(json_is_null(json_object_get(st, "next_at"))); /* interval 0: on request */
	json_decref(st);
	assert_int_equal(scrub_start(fx->s, "test", &e), 0);
	run_until(fx, appended_one, 20);

	/* The entry: the fields docs/log.md lists, with the right indexes. */
	{
		json_t *en = fx->pipe.last;

		assert_string_equal(json_string_value(json_object_get(en, "type")), "scrub");
		assert_int_equal(ji(en, "checked"), 4);
		assert_int_equal(ji(en, "ok"), 2);
		assert_int_equal(ji(en, "purged"), 2);
		assert_int_equal(ji(en, "bytes"), 100000 + 70000 + 4000);
		assert_int_equal(ji(en, "log_size"), 9);
		assert_list(json_object_get(en, "missing"), 1, (int)missing.index);
		assert_list(json_object_get(en, "altered"), 1, (int)altered.index);
		assert_true(json_is_string(json_object_get(en, "started_at")));
		assert_true(json_is_string(json_object_get(en, "at")));
	}
	/* Wait until the thread took the commit in. */
	for (int i = 0; i < 500; i++) {
		st = scrub_status(fx->s);
		if (!strcmp(json_string_value(json_object_get(st, "state")), "idle"))
			break;
		json_decref(st);
		st = NULL;
		usleep(10000);
	}
	assert_non_null(st);
	last = json_object_get(st, "last");
	assert_int_equal(ji(last, "entry"), (json_int_t)fx->pipe.last_index);
	assert_int_equal(ji(last, "checked"), 4);
	alarms = json_object_get(st, "alarms");
	assert_int_equal(ji(alarms, "count"), 2);
	assert_list(json_object_get(alarms, "missing"), 1, (int)missing.index);
	assert_list(json_object_get(alarms, "altered"), 1, (int)altered.index);
	json_decref(st);

	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 1);
	saved = read_state(fx);
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "idle");
	assert_int_equal(ji(json_object_get(saved, "last"), "entry"),
			 (json_int_t)fx->pipe.last_index);
	json_decref(saved);
}

static bool checked_one(struct fixture *fx)
{
	json_t *st = scrub_status(fx->s);
	const json_t *pass = json_object_get(st, "pass");
	bool yes = json_is_object(pass) && ji(pass, "checked") >= 1;

	json_decref(st);
	return yes;
}

static void test_stop_and_resume(void **state)
{
	struct fixture *fx = *state;
	struct stored o[3];
	struct err_detail e;
	json_t *saved, *pass;
	json_int_t checked;

	for (unsigned i = 0; i < 3; i++)
		store_one(fx, "ingest", 10 + i, 256 << 10, &o[i]);
	/* 256 KiB a second: each original takes about a second. */
	fx->cfg.scrub_rate = 256 << 10;
	start_scrubber(fx);
	assert_int_equal(scrub_start(fx->s, "test", &e), 0);
	run_until(fx, checked_one, 20);
	assert_int_equal(scrub_start(fx->s, "test", &e), -EALREADY);
	assert_non_null(strstr(e.msg, "running"));
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 0);

	saved = read_state(fx);
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "running");
	pass = json_object_get(saved, "pass");
	checked = ji(pass, "checked");
	assert_true(checked >= 1 && checked < 3);
	assert_int_equal(ji(pass, "next"), checked); /* every entry here is an original */
	assert_int_equal(ji(pass, "bytes"), checked * (256 << 10));
	json_decref(saved);

	/* A new daemon: the pass resumes by itself and counts each original once. */
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->cfg.scrub_rate = 1u << 30;
	start_scrubber(fx);
	run_until(fx, appended_one, 20);
	assert_int_equal(ji(fx->pipe.last, "checked"), 3);
	assert_int_equal(ji(fx->pipe.last, "ok"), 3);
	assert_int_equal(ji(fx->pipe.last, "bytes"), 3 * (256 << 10));
	assert_int_equal(json_array_size(json_object_get(fx->pipe.last, "missing")), 0);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 1);
}

static bool state_done(struct fixture *fx)
{
	json_t *st = scrub_status(fx->s);
	bool yes = !strcmp(json_string_value(json_object_get(st, "state")), "finishing");

	json_decref(st);
	return yes;
}

/* The append fails (the daemon stopping): the finished pass is logged at the next start. */
static void test_entry_logged_after_restart(void **state)
{
	struct fixture *fx = *state;
	struct stored o;
	struct err_detail e;
	json_t *saved;

	store_one(fx, "ingest", 20, 1000, &o);
	fx->pipe.fail = -ESHUTDOWN;
	start_scrubber(fx);
	assert_int_equal(scrub_start(fx->s, "test", &e), 0);
	run_until(fx, state_done, 20);
	usleep(100000); /* the answer reaches the thread; it waits to try again */
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 0);
	saved = read_state(fx);
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "done");
	json_decref(saved);

	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->pipe.fail = 0;
	start_scrubber(fx);
	run_until(fx, appended_one, 20);
	assert_int_equal(ji(fx->pipe.last, "checked"), 1);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 1);
}

/* The entry was committed but the daemon died before it knew: not logged a second time. */
static void test_entry_not_logged_twice(void **state)
{
	struct fixture *fx = *state;
	struct stored o;
	struct err_detail e;
	json_t *saved, *st;

	store_one(fx, "ingest", 30, 1000, &o);
	fx->pipe.fail = -ESHUTDOWN;
	fx->pipe.commit_anyway = true;
	start_scrubber(fx);
	assert_int_equal(scrub_start(fx->s, "test", &e), 0);
	run_until(fx, appended_one, 20);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 1);
	append_text(fx,
		    "{\"at\":\"2024-05-01T08:00:00Z\",\"by\":\"x\",\"op\":\"entry\",\"target\":0,"
		    "\"type\":\"access\",\"v\":1}");

	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->pipe.fail = 0;
	fx->pipe.commit_anyway = false;
	start_scrubber(fx);
	for (int i = 0; i < 500; i++) {
		st = scrub_status(fx->s);
		if (json_is_object(json_object_get(st, "last")))
			break;
		json_decref(st);
		st = NULL;
		usleep(10000);
	}
	assert_non_null(st);
	assert_int_equal(ji(json_object_get(st, "last"), "entry"), (json_int_t)fx->pipe.last_index);
	json_decref(st);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 1);
	saved = read_state(fx);
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "idle");
	json_decref(saved);
}

static bool appended_three(struct fixture *fx)
{
	return fx->pipe.appended >= 3;
}

/* Append @n ingest entries whose originals were never stored: each is missing. */
static uint64_t append_missing(struct fixture *fx, size_t n)
{
	struct iovec *iov = calloc(n, sizeof(*iov));
	struct err_detail e;
	uint64_t first;

	assert_non_null(iov);
	for (size_t i = 0; i < n; i++) {
		char hex[65], *text;
		uint8_t sha[32] = { 0 };

		memcpy(sha, &i, sizeof(i));
		sha[31] = 0x5a;
		hex_encode(sha, 32, hex);
		assert_true(
		    asprintf(&text,
			     "{\"sha256\":\"%s\",\"size\":10,\"stored\":\"objects/%.2s/%s\","
			     "\"type\":\"ingest\",\"v\":1}",
			     hex, hex, hex) > 0);
		iov[i] = (struct iovec){ text, strlen(text) };
	}
	assert_int_equal(tlog_append(fx->log, iov, n, &first, &e), 0);
	for (size_t i = 0; i < n; i++)
		free(iov[i].iov_base);
	free(iov);
	return first;
}

/* The `scrub` entries from @from on, in the log: each within the limit, the parts 1..parts of
 * one pass, in order; their lists put together are returned in *@missing and *@altered. */
static size_t read_parts(struct fixture *fx, uint64_t from, json_t *missing, json_t *altered)
{
	struct err_detail e;
	uint64_t size;
	size_t n = 0;
	const char *started = NULL;
	json_t *first = NULL;

	assert_int_equal(tlog_size(fx->log, &size, &e), 0);
	for (uint64_t i = from; i < size; i++) {
		char *bytes;
		size_t len;
		json_t *o;

		assert_int_equal(tlog_entry(fx->log, i, &bytes, &len, &e), 0);
		assert_true(len <= VFY_ENTRY_MAX);
		o = json_loadb(bytes, len, 0, NULL);
		free(bytes);
		assert_non_null(o);
		if (strcmp(json_string_value(json_object_get(o, "type")), "scrub")) {
			json_decref(o);
			continue;
		}
		n++;
		assert_int_equal(ji(o, "part"), (json_int_t)n);
		if (!first) {
			first = json_incref(o);
			started = json_string_value(json_object_get(o, "started_at"));
		}
		/* Every part says the pass's counts and how many parts there are. */
		assert_string_equal(json_string_value(json_object_get(o, "started_at")), started);
		assert_int_equal(ji(o, "parts"), ji(first, "parts"));
		assert_int_equal(ji(o, "checked"), ji(first, "checked"));
		assert_int_equal(ji(o, "log_size"), ji(first, "log_size"));
		assert_true(json_array_size(json_object_get(o, "missing")) +
				json_array_size(json_object_get(o, "altered")) <=
			    SCRUB_PART_MAX);
		json_array_extend(missing, json_object_get(o, "missing"));
		json_array_extend(altered, json_object_get(o, "altered"));
		json_decref(o);
	}
	if (first)
		assert_int_equal(ji(first, "parts"), (json_int_t)n);
	json_decref(first);
	return n;
}

/* A pass with more findings than one entry can list is logged in parts, each within the
 * log's entry limit, that together list every finding once, in order. */
static void test_pass_in_parts(void **state)
{
	struct fixture *fx = *state;
	const size_t nmissing = 2 * SCRUB_PART_MAX + 100;
	struct stored altered;
	struct err_detail e;
	uint64_t first, size;
	json_t *missing = json_array(), *alt = json_array(), *st, *last;

	first = append_missing(fx, nmissing);
	store_one(fx, "ingest", 40, 3000, &altered);
	flip_byte(altered.path, 7);
	assert_int_equal(tlog_size(fx->log, &size, &e), 0);

	start_scrubber(fx);
	assert_int_equal(scrub_start(fx->s, "test", &e), 0);
	run_until(fx, appended_three, 300);
	for (int i = 0; i < 500; i++) {
		st = scrub_status(fx->s);
		if (json_is_object(json_object_get(st, "last")))
			break;
		json_decref(st);
		st = NULL;
		usleep(10000);
	}
	assert_non_null(st);
	last = json_object_get(st, "last");
	assert_int_equal(ji(last, "parts"), 3);
	assert_int_equal(ji(last, "entry"), (json_int_t)size); /* part 1 */
	json_decref(st);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 3);

	assert_int_equal(read_parts(fx, size, missing, alt), 3);
	assert_int_equal(json_array_size(missing), nmissing);
	for (size_t i = 0; i < nmissing; i++)
		assert_int_equal(json_integer_value(json_array_get(missing, i)),
				 (json_int_t)(first + i));
	assert_list(alt, 1, (int)altered.index);
	json_decref(missing);
	json_decref(alt);
}

/* The daemon dies after part 1 of 3 is committed: at the next start parts 2 and 3 are logged,
 * and part 1 is not logged again. */
static void test_parts_resume(void **state)
{
	struct fixture *fx = *state;
	struct err_detail e;
	uint64_t size;
	json_t *missing = json_array(), *alt = json_array(), *saved;

	append_missing(fx, 2 * SCRUB_PART_MAX + 1);
	assert_int_equal(tlog_size(fx->log, &size, &e), 0);
	fx->pipe.fail = -ESHUTDOWN;
	fx->pipe.commit_anyway = true;
	start_scrubber(fx);
	assert_int_equal(scrub_start(fx->s, "test", &e), 0);
	run_until(fx, appended_one, 300);
	usleep(100000); /* the answer reaches the thread; it waits to try again */
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 1);
	saved = read_state(fx);
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "done");
	json_decref(saved);

	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->pipe.fail = 0;
	fx->pipe.commit_anyway = false;
	start_scrubber(fx);
	run_until(fx, appended_three, 60);
	usleep(100000);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 3);
	assert_int_equal(read_parts(fx, size, missing, alt), 3);
	assert_int_equal(json_array_size(missing), 2 * SCRUB_PART_MAX + 1);
	assert_int_equal(json_array_size(alt), 0);
	saved = read_state(fx);
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "idle");
	assert_int_equal(ji(json_object_get(saved, "last"), "entry"), (json_int_t)size);
	json_decref(saved);
	json_decref(missing);
	json_decref(alt);
}

static void test_bad_state_file(void **state)
{
	struct fixture *fx = *state;
	json_t *st, *saved;
	FILE *f = fopen(fx->state_file, "w");

	assert_non_null(f);
	fputs("{\"v\":1,\"phase\":\"running\",\"pass\":{\"next\":-3}", f);
	fclose(f);
	start_scrubber(fx);
	st = scrub_status(fx->s);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "idle");
	assert_true(json_is_null(json_object_get(st, "last")));
	json_decref(st);
	stop_scrubber(fx);
	close_loop(fx);
	saved = read_state(fx); /* replaced by a good one */
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "idle");
	json_decref(saved);
}

/* A state file of another log (a pass over more entries than the log holds) is replaced. */
static void test_state_of_another_log(void **state)
{
	struct fixture *fx = *state;
	json_t *st;
	FILE *f = fopen(fx->state_file, "w");

	assert_non_null(f);
	fputs("{\"v\":1,\"phase\":\"running\",\"epoch_us\":1,\"last\":null,\"pass\":{"
	      "\"started_us\":5,\"finished_us\":0,\"log_size\":50,\"next\":3,\"checked\":1,"
	      "\"ok\":1,\"purged\":0,\"bytes\":9,\"missing\":[],\"altered\":[],"
	      "\"missing_unlisted\":0,\"altered_unlisted\":0,\"done_size\":0,\"entry\":0}}",
	      f);
	fclose(f);
	start_scrubber(fx);
	st = scrub_status(fx->s);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "idle");
	json_decref(st);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 0);
}

/* With an interval, the first pass starts one interval after the scrubber first ran. */
static void test_schedule(void **state)
{
	struct fixture *fx = *state;
	struct stored o;
	json_t *st;

	store_one(fx, "ingest", 40, 1000, &o);
	fx->cfg.scrub_interval_ms = 1000;
	start_scrubber(fx);
	st = scrub_status(fx->s);
	assert_true(json_is_string(json_object_get(st, "next_at")));
	assert_int_equal(ji(st, "interval_s"), 1);
	json_decref(st);
	run_until(fx, appended_one, 10);
	assert_int_equal(ji(fx->pipe.last, "checked"), 1);
	/* A reload to "on request only": no second pass comes. */
	scrub_reload(fx->s, &(struct cfg){ .scrub_interval_ms = 0, .scrub_rate = 1u << 30 });
	usleep(1500000);
	stop_scrubber(fx);
	close_loop(fx);
	assert_int_equal(fx->pipe.appended, 1);
}

/* A symbolic link where an original was is not followed: altered. */
static void test_symlink_is_altered(void **state)
{
	struct fixture *fx = *state;
	struct stored o, other;
	struct err_detail e;

	store_one(fx, "ingest", 50, 1000, &o);
	store_one(fx, "ingest", 51, 1000, &other);
	assert_int_equal(unlink(o.path), 0);
	assert_int_equal(symlink(other.path, o.path), 0);
	start_scrubber(fx);
	assert_int_equal(scrub_start(fx->s, "test", &e), 0);
	run_until(fx, appended_one, 20);
	assert_list(json_object_get(fx->pipe.last, "altered"), 1, (int)o.index);
	assert_int_equal(ji(fx->pipe.last, "ok"), 1);
	stop_scrubber(fx);
	close_loop(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pass_finds_altered_and_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_logged_after_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_not_logged_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_in_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parts_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_state_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_of_another_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_is_altered, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for daemon/watch.c: drop-zone watching on a real libuv loop and real folders.
 *
 * Each test gets a fresh mkdtemp() folder holding two zone folders (z0, z1) and a folder outside
 * any zone (out), and a config built by hand (settle 150 ms, rescan 500 ms).  The test code does
 * the file operations between runs of the loop; run_until() runs the loop until a condition
 * holds or a deadline passes, so every test is bounded even when watch.c misbehaves.  Callbacks
 * only record what happened; the assertions are made outside the loop.  Every test ends with
 * watch_close() and uv_loop_close() == 0, which proves no handle was left behind.
 *
 * watch.c is #included so that one test can stop the inotify poll (simulating a filesystem where
 * inotify is blind) and so that the name rules can be checked directly.
 *
 * One file because it is the one test executable of daemon/watch.c, which it #includes, and
 * every test uses the same fixture (struct tctx, run_until()). */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/capability.h>

#include "daemon/watch.c"

#define SETTLE_MS 150
#define RESCAN_MS 500

struct offer {
	size_t zone;
	char *path;
	char *rel;
	uint64_t at_ms;
};

struct tctx {
	uv_loop_t loop;
	uv_timer_t tick;
	struct watch *w;
	char root[PATH_MAX];
	char z[2][PATH_MAX];
	char out[PATH_MAX];
	struct cfg cfg;
	struct cfg_zone zones[2];
	struct offer *offers;
	size_t noffers, cap;
	size_t want;
	uint64_t deadline;
	bool (*cond)(struct tctx *t);
	/* What the callback does besides recording. */
	enum { ON_OFFER_NOTHING, ON_OFFER_RETRY, ON_OFFER_FORGET, ON_OFFER_CLOSE } on_offer;
	bool started, closed;
	/* Loop responsiveness while watch.c works. */
	uv_timer_t probe;
	uint64_t probe_last, probe_max_gap;
	/* stderr captured to a file, and what it held. */
	int saved_stderr;
	char *log;
};

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000;
}

static void on_done(void *opaque)
{
	struct tctx *t = opaque;

	t->closed = true;
}

static void on_ready(void *opaque, size_t zone, const char *path, const char *relname)
{
	struct tctx *t = opaque;
	struct offer *o;

	if (t->noffers == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct offer *n = realloc(t->offers, cap * sizeof(*n));

		if (!n)
			abort();
		t->offers = n;
		t->cap = cap;
	}
	o = &t->offers[t->noffers++];
	o->zone = zone;
	o->path = strdup(path);
	o->rel = strdup(relname);
	if (!o->path || !o->rel)
		abort();
	o->at_ms = now_ms();
	switch (t->on_offer) {
	case ON_OFFER_RETRY:
		if (t->noffers == 1)
			watch_retry(t->w, path, 300);
		break;
	case ON_OFFER_FORGET:
		/* What the pipeline does once the file is stored: remove it, then forget it. */
		unlink(path);
		watch_forget(t->w, path);
		break;
	case ON_OFFER_CLOSE:
		watch_close(t->w, on_done, t);
		t->w = NULL;
		break;
	default:
		break;
	}
}

static void on_tick(uv_timer_t *h)
{
	struct tctx *t = h->data;

	if ((t->cond && t->cond(t)) || uv_now(&t->loop) >= t->deadline)
		uv_stop(&t->loop);
}

/* Run the loop until @cond holds (NULL: never) or @ms pass.  @return whether @cond holds. */
static bool run_until(struct tctx *t, bool (*cond)(struct tctx *t), uint64_t ms)
{
	uv_update_time(&t->loop);
	t->cond = cond;
	t->deadline = uv_now(&t->loop) + ms;
	uv_timer_start(&t->tick, on_tick, 5, 5);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&t->tick);
	return cond ? cond(t) : true;
}

static bool enough_offers(struct tctx *t)
{
	return t->noffers >= t->want;
}

static bool run_offers(struct tctx *t, size_t n, uint64_t ms)
{
	t->want = n;
	return run_until(t, enough_offers, ms);
}

static void run_for(struct tctx *t, uint64_t ms)
{
	run_until(t, NULL, ms);
}

static const struct offer *find_offer(const struct tctx *t, const char *rel)
{
	size_t i;

	for (i = 0; i < t->noffers; i++)
		if (!strcmp(t->offers[i].rel, rel))
			return &t->offers[i];
	return NULL;
}

static size_t count_offers(const struct tctx *t, const char *rel)
{
	size_t i, n = 0;

	for (i = 0; i < t->noffers; i++)
		n += !strcmp(t->offers[i].rel, rel);
	return n;
}

static void cat(char *buf, const char *a, const char *b)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", a, b);

	assert_true(n > 0 && n < PATH_MAX);
}

/* Write @len bytes to @dir/@name, appending. */
static void write_file(const char *dir, const char *name, size_t len)
{
	char path[PATH_MAX], buf[4096];
	int fd;

	cat(path, dir, name);
	memset(buf, 'x', sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		len -= n;
	}
	assert_int_equal(close(fd), 0);
}

static void mkdir_in(const char *dir, const char *name)
{
	char path[PATH_MAX];

	cat(path, dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void rename_in(const char *dir, const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	cat(a, dir, from);
	cat(b, dir, to);
	assert_int_equal(rename(a, b), 0);
}

static void start(struct tctx *t)
{
	struct err_detail e = { 0 };
	int r;

	r = watch_new(&t->loop, &t->cfg, on_ready, t, &t->w, &e);
	if (r)
		print_error("watch_new: %s\n", e.msg);
	assert_int_equal(r, 0);
	t->started = true;
}

static void capture_stderr(struct tctx *t)
{
	char path[PATH_MAX];
	int fd;

	cat(path, t->root, "stderr.log");
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	t->saved_stderr = dup(2);
	assert_true(t->saved_stderr >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
}

/* Stop capturing; @return what was written (freed by the teardown). */
static char *captured(struct tctx *t)
{
	char path[PATH_MAX], *buf;
	ssize_t n;
	int fd;

	fflush(stderr);
	assert_int_equal(dup2(t->saved_stderr, 2), 2);
	close(t->saved_stderr);
	t->saved_stderr = -1;
	cat(path, t->root, "stderr.log");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = read(fd, buf, 65535);
	assert_true(n >= 0);
	close(fd);
	fprintf(stderr, "%s", buf); /* still visible in the test output */
	free(t->log);
	t->log = buf;
	return buf;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static int setup(void **state)
{
	struct tctx *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->root, sizeof(t->root), "/tmp/test_watch.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	cat(t->z[0], t->root, "z0");
	cat(t->z[1], t->root, "z1");
	cat(t->out, t->root, "out");
	assert_int_equal(mkdir(t->z[0], 0755), 0);
	assert_int_equal(mkdir(t->z[1], 0755), 0);
	assert_int_equal(mkdir(t->out, 0755), 0);
	t->zones[0] = (struct cfg_zone){
		.name = "dock", .path = t->z[0], .kind = CFG_ZONE_DOCK, .settle_ms = SETTLE_MS
	};
	t->zones[1] = (struct cfg_zone){
		.name = "upload", .path = t->z[1], .kind = CFG_ZONE_UPLOAD, .settle_ms = SETTLE_MS
	};
	t->cfg.zones = t->zones;
	t->cfg.nzones = 1;
	t->cfg.rescan_interval_ms = RESCAN_MS;
	t->saved_stderr = -1;
	assert_int_equal(uv_loop_init(&t->loop), 0);
	assert_int_equal(uv_timer_init(&t->loop, &t->tick), 0);
	t->tick.data = t;
	*state = t;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct tctx *t = *state;

	if (t->saved_stderr >= 0)
		captured(t);
	if (t->w)
		watch_close(t->w, on_done, t);
	else if (!t->started)
		t->closed = true;
	uv_close((uv_handle_t *)&t->tick, NULL);
	if (uv_is_active((uv_handle_t *)&t->probe) || t->probe.data)
		uv_close((uv_handle_t *)&t->probe, NULL);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_true(t->closed);
	assert_int_equal(uv_loop_close(&t->loop), 0);
	nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (size_t i = 0; i < t->noffers; i++) {
		free(t->offers[i].path);
		free(t->offers[i].rel);
	}
	free(t->offers);
	free(t->log);
	free(t);
	return 0;
}

/* ---- the tests ---- */

/* Names that wait for a rename, checked directly. */
static void test_name_rules(void **state)
{
	(void)state;
	assert_true(name_waits(".hidden.mp4"));
	assert_true(name_waits("clip.mp4.part"));
	assert_true(name_waits("clip.tmp"));
	assert_true(name_waits("clip.mp4~"));
	assert_true(name_waits("clip.mp4.crdownload"));
	assert_true(name_waits("clip.mp4.partial"));
	assert_false(name_waits("clip.mp4"));
	assert_false(name_waits("part"));
	assert_false(name_waits("clip.partition.mp4"));
}

/* A file appended in steps, each shorter than the settle time, is offered once, a settle time
 * after the last write. */
static void test_slow_write(void **state)
{
	struct tctx *t = *state;
	uint64_t last = 0;
	int i;

	start(t);
	run_for(t, 50);
	for (i = 0; i < 5; i++) {
		write_file(t->z[0], "clip.mp4", 1000);
		last = now_ms();
		run_for(t, SETTLE_MS / 2);
		assert_int_equal(t->noffers, 0);
		assert_int_equal(watch_waiting(t->w, 0), 1);
	}
	assert_true(run_offers(t, 1, 3000));
	assert_int_equal(t->offers[0].zone, 0);
	assert_string_equal(t->offers[0].rel, "clip.mp4");
	assert_true(has_suffix(t->offers[0].path, "/z0/clip.mp4"));
	assert_true(t->offers[0].at_ms + 2 >= last + SETTLE_MS);
	assert_int_equal(watch_waiting(t->w, 0), 0);
	/* Not again: neither the settle tick nor the rescans offer an unchanged file twice. */
	run_for(t, 2 * RESCAN_MS + 100);
	assert_int_equal(t->noffers, 1);
}

/* A tree created after the start, with the file written right away (before watch.c had a chance
 * to watch the new folders), is found with its relative name. */
static void test_nested_folders(void **state)
{
	struct tctx *t = *state;
	char c[PATH_MAX];

	start(t);
	run_for(t, 50);
	mkdir_in(t->z[0], "a");
	mkdir_in(t->z[0], "a/b");
	mkdir_in(t->z[0], "a/b/c");
	cat(c, t->z[0], "a/b/c");
	write_file(c, "clip.mp4", 5000);
	/* Well below a rescan: this must come from the events and the immediate scans. */
	assert_true(run_offers(t, 1, RESCAN_MS - 100));
	assert_string_equal(t->offers[0].rel, "a/b/c/clip.mp4");
	cat(c, t->z[0], "a/b/c/clip.mp4");
	assert_string_equal(t->offers[0].path, c);
	/* A folder made inside the watched tree later is watched too. */
	mkdir_in(t->z[0], "a/b/c/d");
	cat(c, t->z[0], "a/b/c/d");
	write_file(c, "next.mp4", 10);
	assert_true(run_offers(t, 2, RESCAN_MS - 100));
	assert_string_equal(t->offers[1].rel, "a/b/c/d/next.mp4");
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(t->noffers, 2);
}

/* Files and folders moved in from outside are offered; moving a folder out forgets it. */
static void test_moved_in(void **state)
{
	struct tctx *t = *state;
	char from[PATH_MAX], to[PATH_MAX], d[PATH_MAX];

	start(t);
	write_file(t->out, "clip.mp4", 2000);
	mkdir_in(t->out, "cam7");
	cat(d, t->out, "cam7");
	write_file(d, "x.mp4", 10);
	run_for(t, 300);
	assert_int_equal(t->noffers, 0);

	cat(from, t->out, "clip.mp4");
	cat(to, t->z[0], "clip.mp4");
	assert_int_equal(rename(from, to), 0);
	cat(from, t->out, "cam7");
	cat(to, t->z[0], "cam7");
	assert_int_equal(rename(from, to), 0);
	assert_true(run_offers(t, 2, RESCAN_MS - 100));
	assert_non_null(find_offer(t, "clip.mp4"));
	assert_non_null(find_offer(t, "cam7/x.mp4"));

	/* Moved out before it settled: never offered, and no longer waiting. */
	cat(d, t->z[0], "cam7");
	write_file(d, "late.mp4", 10);
	run_for(t, 20);
	assert_int_equal(watch_waiting(t->w, 0), 1);
	cat(to, t->out, "cam7");
	assert_int_equal(rename(d, to), 0);
	run_for(t, RESCAN_MS + 2 * SETTLE_MS);
	assert_int_equal(t->noffers, 2);
	assert_int_equal(watch_waiting(t->w, 0), 0);
}

/* Hidden and temporary names wait, counted as waiting, until they are renamed. */
static void test_temporary_names(void **state)
{
	static const char *const names[][2] = {
		{ ".hidden.mp4", "hidden.mp4" },
		{ "a.mp4.part", "a.mp4" },
		{ "b.tmp", "b.mp4" },
		{ "c.mp4~", "c.mp4" },
		{ "d.mp4.crdownload", "d.mp4" },
		{ "e.mp4.partial", "e.mp4" },
	};
	struct tctx *t = *state;
	char d[PATH_MAX];
	size_t i, n = sizeof(names) / sizeof(names[0]);

	start(t);
	run_for(t, 50);
	for (i = 0; i < n; i++)
		write_file(t->z[0], names[i][0], 100);
	/* A hidden folder: whatever it holds waits too (copied in, then renamed). */
	mkdir_in(t->z[0], ".incoming");
	cat(d, t->z[0], ".incoming");
	write_file(d, "f.mp4", 100);
	run_for(t, RESCAN_MS + 2 * SETTLE_MS);
	assert_int_equal(t->noffers, 0);
	assert_int_equal(watch_waiting(t->w, 0), n + 1);

	for (i = 0; i < n; i++)
		rename_in(t->z[0], names[i][0], names[i][1]);
	rename_in(t->z[0], ".incoming", "incoming");
	assert_true(run_offers(t, n + 1, 3000));
	for (i = 0; i < n; i++)
		assert_int_equal(count_offers(t, names[i][1]), 1);
	assert_int_equal(count_offers(t, "incoming/f.mp4"), 1);
	assert_int_equal(watch_waiting(t->w, 0), 0);
	run_for(t, 300);
	assert_int_equal(t->noffers, n + 1);
}

/* FIFOs, sockets and symlinks (to a file or to a folder) are refused, logged once each, never
 * offered, and never followed. */
static void test_refused(void **state)
{
	struct tctx *t = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX], target[PATH_MAX], d[PATH_MAX], want[PATH_MAX + 64], *log;
	int s;

	write_file(t->out, "real.mp4", 100);
	mkdir_in(t->out, "dir");
	cat(d, t->out, "dir");
	write_file(d, "inside.mp4", 100);
	capture_stderr(t);
	start(t);
	run_for(t, 50);

	cat(path, t->z[0], "pipe.mp4");
	assert_int_equal(mkfifo(path, 0644), 0);
	cat(path, t->z[0], "link.mp4");
	cat(target, t->out, "real.mp4");
	assert_int_equal(symlink(target, path), 0);
	cat(path, t->z[0], "linkdir");
	assert_int_equal(symlink(d, path), 0);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	cat(path, t->z[0], "sock.mp4");
	assert_true(strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	write_file(t->z[0], "ok.mp4", 100);

	assert_true(run_offers(t, 1, 3000));
	/* Two rescans more: the refusals must not be logged again, nor anything offered. */
	run_for(t, 2 * RESCAN_MS + 100);
	close(s);
	assert_int_equal(t->noffers, 1);
	assert_string_equal(t->offers[0].rel, "ok.mp4");
	assert_int_equal(watch_waiting(t->w, 0), 0);

	log = captured(t);
	assert_int_equal(count_str(log, "is a FIFO, refusing it"), 1);
	assert_int_equal(count_str(log, "is a socket, refusing it"), 1);
	assert_int_equal(count_str(log, "is a symlink, refusing it"), 2);
	snprintf(want, sizeof(want), "zone 'dock': '%s/pipe.mp4' is a FIFO, refusing it", t->z[0]);
	assert_non_null(strstr(log, want));
}

/* A file held open for writing is not offered, however long it stays unchanged; it is offered
 * once closed.  The test runs as the file's owner, so this is the lease path. */
static void test_open_for_writing_lease(void **state)
{
	struct tctx *t = *state;
	char path[PATH_MAX];
	int fd;

	start(t);
	cat(path, t->z[0], "clip.mp4");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	run_for(t, RESCAN_MS + 4 * SETTLE_MS);
	assert_int_equal(t->noffers, 0);
	assert_int_equal(watch_waiting(t->w, 0), 1);
	close(fd);
	assert_true(run_offers(t, 1, 2000));
	assert_string_equal(t->offers[0].rel, "clip.mp4");
}

static int cap_lease(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	if (on)
		d[0].effective |= 1u << CAP_LEASE;
	else
		d[0].effective &= ~(1u << CAP_LEASE);
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* The same when the file is someone else's and the daemon lacks CAP_LEASE: the lease is refused
 * (EACCES) and the writer is found in /proc. */
static void test_open_for_writing_proc(void **state)
{
	struct tctx *t = *state;
	char path[PATH_MAX];
	int fd, rfd, r;

	if (geteuid() != 0)
		skip(); /* needs chown() and capset() */
	cat(path, t->z[0], "clip.mp4");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	assert_int_equal(fchown(fd, 65534, 65534), 0);
	assert_int_equal(cap_lease(false), 0);
	/* The precondition: the lease path is closed to us now. */
	rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rfd >= 0);
	r = fcntl(rfd, F_SETLEASE, F_RDLCK);
	close(rfd);
	if (r == 0 || errno != EACCES) {
		cap_lease(true);
		close(fd);
		skip();
	}

	start(t);
	run_for(t, RESCAN_MS + 2 * WATCH_PROC_INTERVAL_MS);
	r = (int)t->noffers;
	close(fd);
	if (r == 0)
		r = run_offers(t, 1, 3 * WATCH_PROC_INTERVAL_MS) ? 0 : -1;
	cap_lease(true);
	assert_int_equal(r, 0); /* not offered while open, offered once closed */
	assert_string_equal(t->offers[0].rel, "clip.mp4");
}

/* watch_retry() offers the file again after the delay, once. */
static void test_retry(void **state)
{
	struct tctx *t = *state;

	t->on_offer = ON_OFFER_RETRY;
	write_file(t->z[0], "clip.mp4", 100);
	start(t);
	assert_true(run_offers(t, 1, 2000));
	assert_int_equal(watch_waiting(t->w, 0), 1); /* waiting for its retry */
	assert_true(run_offers(t, 2, 2000));
	assert_true(t->offers[1].at_ms >= t->offers[0].at_ms + 300 - 2);
	assert_string_equal(t->offers[1].rel, "clip.mp4");
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(t->noffers, 2);
	assert_int_equal(watch_waiting(t->w, 0), 0);
	/* Retrying a path that is not known is harmless. */
	watch_retry(t->w, "/nonexistent/clip.mp4", 10);
}

/* The pipeline moves a file into staging, fails, puts it back and asks for a retry: the delay
 * holds although watch.c saw the file leave and come back. */
static void test_retry_after_staging(void **state)
{
	struct tctx *t = *state;
	char zone_path[PATH_MAX], staged[PATH_MAX];
	uint64_t t0;

	start(t);
	write_file(t->z[0], "clip.mp4", 100);
	assert_true(run_offers(t, 1, 2000));
	cat(zone_path, t->z[0], "clip.mp4");
	cat(staged, t->out, "staged.mp4");
	assert_int_equal(rename(zone_path, staged), 0);
	run_for(t, 50);
	assert_null(file_find(t->w, zone_path));
	assert_int_equal(rename(staged, zone_path), 0);
	watch_retry(t->w, zone_path, 600);
	t0 = now_ms();
	assert_true(run_offers(t, 2, 2000));
	assert_true(t->offers[1].at_ms + 2 >= t0 + 600);
	assert_string_equal(t->offers[1].rel, "clip.mp4");

	/* The same when the moved-to event is handled before the retry. */
	assert_int_equal(rename(zone_path, staged), 0);
	run_for(t, 50);
	assert_int_equal(rename(staged, zone_path), 0);
	run_for(t, 50);
	watch_retry(t->w, zone_path, 600);
	t0 = now_ms();
	assert_true(run_offers(t, 3, 2000));
	assert_true(t->offers[2].at_ms + 2 >= t0 + 600);
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(t->noffers, 3);
}

/* Ingested, removed and forgotten: not offered again; a new file at that path is a new arrival. */
static void test_forget(void **state)
{
	struct tctx *t = *state;
	char path[PATH_MAX];
	struct stat st;

	t->on_offer = ON_OFFER_FORGET;
	start(t);
	write_file(t->z[0], "clip.mp4", 100);
	assert_true(run_offers(t, 1, 2000));
	cat(path, t->z[0], "clip.mp4");
	assert_int_equal(lstat(path, &st), -1);
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(t->noffers, 1);
	assert_int_equal(watch_waiting(t->w, 0), 0);
	assert_null(file_find(t->w, path));
	write_file(t->z[0], "clip.mp4", 200);
	assert_true(run_offers(t, 2, 2000));
	watch_forget(t->w, "/nonexistent/clip.mp4");
}

/* An offered file that changes is offered again once it settles. */
static void test_changed_after_offer(void **state)
{
	struct tctx *t = *state;

	start(t);
	write_file(t->z[0], "clip.mp4", 100);
	assert_true(run_offers(t, 1, 2000));
	write_file(t->z[0], "clip.mp4", 100);
	assert_true(run_offers(t, 2, 2000));
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(t->noffers, 2);
}

/* Files that were there before the start, nested too, are found by the first scan. */
static void test_preexisting(void **state)
{
	struct tctx *t = *state;
	char d[PATH_MAX];

	write_file(t->z[0], "old.mp4", 100);
	mkdir_in(t->z[0], "2024");
	mkdir_in(t->z[0], "2024/05");
	cat(d, t->z[0], "2024/05");
	write_file(d, "older.mp4", 100);
	start(t);
	assert_true(run_offers(t, 2, 2000));
	assert_non_null(find_offer(t, "old.mp4"));
	assert_non_null(find_offer(t, "2024/05/older.mp4"));
}

/* Where inotify is blind (the poll stopped here, as on a network mount), the periodic rescan
 * finds new files and new folders. */
static void test_rescan_when_blind(void **state)
{
	struct tctx *t = *state;
	char d[PATH_MAX];
	uint64_t t0;

	start(t);
	run_for(t, 50);
	assert_int_equal(uv_poll_stop(&t->w->poll), 0);
	t0 = now_ms();
	write_file(t->z[0], "clip.mp4", 100);
	mkdir_in(t->z[0], "new");
	cat(d, t->z[0], "new");
	write_file(d, "deep.mp4", 100);
	assert_true(run_offers(t, 2, 3 * RESCAN_MS));
	assert_non_null(find_offer(t, "clip.mp4"));
	assert_non_null(find_offer(t, "new/deep.mp4"));
	/* Not before the rescan and the settle time. */
	assert_true(t->offers[0].at_ms + 2 >= t0 + SETTLE_MS);
	/* And a file deleted without an event is forgotten by the next rescan. */
	write_file(t->z[0], "gone.mp4.part", 100);
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(watch_waiting(t->w, 0), 1);
	cat(d, t->z[0], "gone.mp4.part");
	assert_int_equal(unlink(d), 0);
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(watch_waiting(t->w, 0), 0);
}

/* An inotify queue overflow triggers a rescan (the periodic one is an hour away here). */
static void test_queue_overflow(void **state)
{
	struct tctx *t = *state;
	char path[PATH_MAX];
	int i, fd;

	t->cfg.rescan_interval_ms = 3600 * 1000;
	start(t);
	run_for(t, 50);
	/* The loop does not run meanwhile, so the kernel's queue (16384 by default) fills. */
	cat(path, t->z[0], "churn");
	for (i = 0; i < 7000; i++) {
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		assert_true(fd >= 0);
		close(fd);
		unlink(path);
	}
	write_file(t->z[0], "clip.mp4", 100); /* its events are lost */
	assert_true(run_offers(t, 1, 2000));
	assert_string_equal(t->offers[0].rel, "clip.mp4");
}

/* Reload: a zone added (and the kept one moved to another index) keeps the kept zone's state. */
static void test_reload_add_zone(void **state)
{
	struct tctx *t = *state;
	struct cfg_zone zones2[2];
	struct cfg cfg2 = t->cfg;
	struct err_detail e = { 0 };

	start(t);
	write_file(t->z[0], "a.mp4", 100);
	assert_true(run_offers(t, 1, 2000));
	assert_int_equal(t->offers[0].zone, 0);
	write_file(t->z[0], "waiting.part", 100);
	run_for(t, 50);
	assert_int_equal(watch_waiting(t->w, 0), 1);

	zones2[0] = t->zones[1];
	zones2[1] = t->zones[0];
	cfg2.zones = zones2;
	cfg2.nzones = 2;
	assert_int_equal(watch_reload(t->w, &cfg2, &e), 0);
	assert_int_equal(watch_waiting(t->w, 1), 1); /* kept, under its new index */
	assert_int_equal(watch_waiting(t->w, 0), 0);
	write_file(t->z[1], "b.mp4", 100);
	write_file(t->z[0], "c.mp4", 100);
	assert_true(run_offers(t, 3, 2000));
	assert_int_equal(find_offer(t, "b.mp4")->zone, 0);
	assert_int_equal(find_offer(t, "c.mp4")->zone, 1);
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(t->noffers, 3); /* a.mp4 was not offered again */
	assert_int_equal(watch_waiting(t->w, 1), 1);
}

/* A reload that names a missing folder fails and changes nothing; one that drops a zone stops
 * watching it. */
static void test_reload_errors_and_removal(void **state)
{
	struct tctx *t = *state;
	struct cfg_zone zones2[2];
	struct cfg cfg2 = t->cfg;
	struct err_detail e = { 0 };
	char missing[PATH_MAX];

	t->cfg.nzones = 2;
	start(t);
	cat(missing, t->root, "typo");
	zones2[0] = t->zones[0];
	zones2[1] = (struct cfg_zone){ .name = "extra", .path = missing, .settle_ms = SETTLE_MS };
	cfg2.zones = zones2;
	cfg2.nzones = 2;
	assert_int_equal(watch_reload(t->w, &cfg2, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "'extra'"));
	assert_non_null(strstr(e.msg, missing));
	/* The old zones still work, with their old indexes. */
	write_file(t->z[1], "b.mp4", 100);
	assert_true(run_offers(t, 1, 2000));
	assert_int_equal(t->offers[0].zone, 1);

	cfg2.nzones = 1; /* only "dock" */
	write_file(t->z[1], "pending.part", 100);
	run_for(t, 50);
	assert_int_equal(watch_waiting(t->w, 1), 1);
	assert_int_equal(watch_reload(t->w, &cfg2, &e), 0);
	assert_int_equal(watch_waiting(t->w, 1), 0);
	write_file(t->z[1], "c.mp4", 100);
	write_file(t->z[0], "d.mp4", 100);
	assert_true(run_offers(t, 2, 2000));
	run_for(t, RESCAN_MS + 100);
	assert_int_equal(t->noffers, 2);
	assert_string_equal(t->offers[1].rel, "d.mp4");
	assert_int_equal(t->offers[1].zone, 0);
}

/* watch_new() refuses a missing folder, a file, and zones that share or nest folders; the
 * messages name the zone and the path. */
static void test_new_errors(void **state)
{
	struct tctx *t = *state;
	struct err_detail e = { 0 };
	struct watch *w = NULL;
	char path[PATH_MAX];

	cat(path, t->root, "nope");
	t->zones[0].path = path;
	assert_int_equal(watch_new(&t->loop, &t->cfg, on_ready, t, &w, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "'dock'"));
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "does not exist"));

	write_file(t->root, "file", 1);
	cat(path, t->root, "file");
	assert_int_equal(watch_new(&t->loop, &t->cfg, on_ready, t, &w, &e), -ENOTDIR);
	assert_non_null(strstr(e.msg, "is not a folder"));

	cat(path, t->z[0], "sub");
	assert_int_equal(mkdir(path, 0755), 0);
	t->zones[0].path = t->z[0];
	t->zones[1].path = path;
	t->cfg.nzones = 2;
	assert_int_equal(watch_new(&t->loop, &t->cfg, on_ready, t, &w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "inside zone 'dock'"));

	t->zones[1].path = t->z[0];
	assert_int_equal(watch_new(&t->loop, &t->cfg, on_ready, t, &w, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "share"));
	assert_null(w);
	run_for(t, 10);
}

/* The zone folder deleted: logged once, retried at each rescan, watched again once it is back. */
static void test_zone_folder_gone(void **state)
{
	struct tctx *t = *state;
	char *log;

	capture_stderr(t);
	start(t);
	write_file(t->z[0], "x.part", 10);
	run_for(t, 50);
	assert_int_equal(watch_waiting(t->w, 0), 1);
	{
		char p[PATH_MAX];

		cat(p, t->z[0], "x.part");
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(rmdir(t->z[0]), 0);
	run_for(t, 3 * RESCAN_MS + 100);
	assert_int_equal(watch_waiting(t->w, 0), 0);
	assert_int_equal(mkdir(t->z[0], 0755), 0);
	write_file(t->z[0], "back.mp4", 100);
	assert_true(run_offers(t, 1, 2 * RESCAN_MS + 4 * SETTLE_MS));
	assert_string_equal(t->offers[0].rel, "back.mp4");
	/* And its events work again. */
	mkdir_in(t->z[0], "sub");
	{
		char d[PATH_MAX];

		cat(d, t->z[0], "sub");
		write_file(d, "more.mp4", 10);
	}
	assert_true(run_offers(t, 2, RESCAN_MS - 100));
	log = captured(t);
	assert_int_equal(count_str(log, "zone 'dock': folder '"), 2);
	assert_int_equal(count_str(log, "was deleted"), 1);
	assert_int_equal(count_str(log, "is back, watching it again"), 1);
}

/* The callback may close the watch. */
static void test_close_in_callback(void **state)
{
	struct tctx *t = *state;

	t->on_offer = ON_OFFER_CLOSE;
	write_file(t->z[0], "a.mp4", 10);
	write_file(t->z[0], "b.mp4", 10);
	start(t);
	assert_true(run_offers(t, 1, 2000));
	run_for(t, 100);
	assert_true(t->closed);
	assert_int_equal(t->noffers, 1);
}

static void on_probe(uv_timer_t *h)
{
	struct tctx *t = h->data;
	uint64_t now = now_ms();

	if (t->probe_last && now - t->probe_last > t->probe_max_gap)
		t->probe_max_gap = now - t->probe_last;
	t->probe_last = now;
}

/* Many files: all offered once, and the loop keeps turning meanwhile (scans and settle checks
 * are done a slice at a time). */
static void test_many_files(void **state)
{
	struct tctx *t = *state;
	enum { N = 10000 };
	char name[64], d[PATH_MAX];
	size_t i;

	mkdir_in(t->z[0], "bulk");
	cat(d, t->z[0], "bulk");
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "f%05zu.mp4", i);
		write_file(d, name, 1);
	}
	assert_int_equal(uv_timer_init(&t->loop, &t->probe), 0);
	t->probe.data = t;
	start(t);
	t->probe_last = now_ms();
	assert_int_equal(uv_timer_start(&t->probe, on_probe, 2, 2), 0);
	assert_true(run_offers(t, N, 20000));
	uv_timer_stop(&t->probe);
	print_message("%d files offered; longest loop stall %" PRIu64 " ms\n", N, t->probe_max_gap);
	assert_true(t->probe_max_gap < 100); /* a few ms in practice; generous for ASan */
	run_for(t, RESCAN_MS + 200);
	assert_int_equal(t->noffers, N);
	assert_int_equal(watch_waiting(t->w, 0), 0);
	assert_int_equal(count_offers(t, "bulk/f00042.mp4"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_rules),
		cmocka_unit_test_setup_teardown(test_slow_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temporary_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_for_writing_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_for_writing_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_staging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_after_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preexisting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rescan_when_blind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_add_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_errors_and_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_folder_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

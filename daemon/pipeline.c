/* pipeline.c: ingest jobs on the libuv pool, and the one log-writer thread.
 *
 * DESIGN
 * "Never lose evidence" (docs/ingest.md) fixes the order of every ingest:
 *   1. store   the bytes become an original in the store, durable (store_put_fd() copies and
 *              hashes in one pass; on the store's filesystem store_stage() moves the file into
 *              staging with a durable note of its zone and name, then it is hashed and linked);
 *   2. probe   custody-probe, a child process, fingerprints the stored original (a demuxer
 *              that crashes or hangs costs that file a `damaged` entry, not the daemon);
 *   3. commit  the writer thread appends the entry with its lookup keys;
 *   4. remove  only then does the file leave its zone (or its staged name is removed), and
 *              only while its name holds the very file that was read, unchanged.
 * Zone files are reached through descriptors only (zonefile.h, docs/ingest.md).  A crash
 * before 4 leaves the file in its zone or in staging; a restart ingests it again and the
 * writer, finding its arrival key (TLOG_KEY_ARRIVAL) already logged, records nothing new: one
 * entry per arrival.  Content that was logged before (the same clip dropped twice) is a new
 * arrival of old bytes: a `duplicate` entry names the first, whose time counts.  Only entries
 * in force count: one that a purge ended (TLOG_KEY_PURGED) does not, so purged content that
 * arrives again is a new arrival.
 *
 * Purges (pipe_purge(), retention) run on the writer thread too, in order with the ingests:
 * the purge entry is committed, then the original unlinked, unless an entry in force records
 * the same bytes.  A new ingest entry is committed only if its original is still in the store
 * (one fstatat() on the writer thread, so no purge can come between the check and the commit);
 * an ingest that found its bytes already stored just before a purge removed them fails and is
 * tried again from its zone or staging, which still hold the file.
 *
 * Threads: jobs are created and finished on the loop thread; their *_run halves run on the
 * libuv pool (at most cfg->workers at once, so the pool keeps room for uv_fs_*); LMDB writes
 * happen only on the writer thread, which takes everything queued since its last wake-up
 * (ingest entries, annotations, access records) into one transaction, signs checkpoints at
 * most every checkpoint_interval, and reports back through a uv_async_t (Redis bio.c, h2o
 * multithread.c).  A job is owned by exactly one thread at a time: loop -> pool -> loop ->
 * writer -> loop -> pool -> loop.
 *
 * One file because a job passes between the loop, the pool and the writer thread (struct job
 * and struct pipeline, private here) and the order of its steps is the guarantee above; in one
 * file each hand-off and its owner can be checked against that order. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <uv.h>

#include "base/cleanup.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "daemon/entryname.h"
#include "ingest/rectime.h"
#include "verify/entry.h"
#include "base/err.h"
#include "base/fault.h"
#include "verify/hash.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/macro.h"
#include "verify/keys.h"
#include "verify/note.h"
#include "daemon/pipeline.h"
#include "daemon/probestatus.h"
#include "rules/rules.h"
#include "probe/sandbox.h"
#include "ingest/store.h"
#include "verify/tlog.h"
#include "base/utf8.h"
#include "daemon/watch.h"
#include "daemon/witness.h"
#include "daemon/zonefile.h"

extern char **environ;

#define PROBE_OUTPUT_MAX (64u << 20) /* a probe answer larger than this is a broken probe */
#define RETRY_FAILED_MS 30000	     /* a failed ingest is offered again after this */

enum item_kind { ITEM_INGEST, ITEM_APPEND, ITEM_PURGE };

/* One unit of work for the writer: an ingest job or a bare entry. */
struct item {
	enum item_kind kind;
	struct item *next;
	json_t *entry;	/* built on the pool (ingest) or the loop (append) */
	int status;	/* writer's result */
	uint64_t index; /* where it was committed */
	bool duplicate; /* ingest: the content was logged before: a `duplicate` entry at index,
			 * or none when this arrival itself was logged before (retaken) */
	bool retaken;	/* ingest: this very arrival was logged before (a crash before its
			 * removal); index = its entry, nothing new is logged */
	uint64_t of;	/* a duplicate's entry in force with the same bytes */
	struct err_detail err;
	/* ITEM_APPEND */
	pipe_append_cb cb;
	void *opaque;
};

struct job {
	struct item item; /* first: items on the writer's queues are jobs or appends */
	struct pipeline *p;
	uv_work_t work;
	struct job *qnext; /* waiting for a worker */
	struct job *fnext; /* in flight (all states) */
	uv_timer_t retry;  /* a staged file that failed waits here for its next try */
	bool retrying;
	/* What the job was given, copied so that a reload cannot pull it away. */
	char *path;    /* in the zone; NULL for a restart job that starts in staging */
	char *relname; /* the entry's `name` */
	char *zone_name;
	char *zone_path; /* the zone folder, from the config; NULL for a restart job */
	char *device_clock;
	char *name_pattern;
	/* What the pool found. */
	struct zfile zf;       /* the file and its folder, through descriptors (zonefile.h) */
	uint8_t arrival[32];   /* TLOG_KEY_ARRIVAL of this arrival */
	char staged[PATH_MAX]; /* "" unless moved into staging */
	char rel[STORE_REL_MAX];
	uint8_t sha256[32];
	struct tlog_key *keys;
	size_t nkeys;
	bool probe_damaged;
	bool stored_new; /* copied into the store, where these bytes were not before */
};

/* A purge for the writer (pipe_purge()): item.entry is the purge entry, or NULL when finishing
 * one logged before; item.opaque the callback's. */
struct purge_item {
	struct item item; /* first */
	pipe_purge_cb cb;
	uint64_t entry; /* the purged entry */
	uint8_t sha256[32];
	char rel[STORE_REL_MAX];
	uint64_t kept_for; /* an entry in force with the same bytes, UINT64_MAX when none */
	int removal;
	struct err_detail rerr; /* why the removal failed */
};

struct pipeline {
	struct daemon *d;
	dev_t store_dev;
	struct job *queue_head, *queue_tail; /* settled files waiting for a worker */
	struct job *flight;		     /* every job from submit to its removal */
	unsigned running;		     /* jobs on the pool */
	struct pipe_stats stats;
	bool stopping;
	void (*stop_done)(void *opaque);
	void *stop_opaque;

	/* The writer thread and what it shares with the loop, under mtx. */
	pthread_t writer;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct item *wq_head, *wq_tail;	    /* to the writer */
	struct item *done_head, *done_tail; /* back to the loop, in commit order */
	bool writer_stop, writer_exited;
	uv_async_t async;
	struct vfy_signer *signer; /* writer thread only */
	/* The last append's outcome: 0, or its -errno (the state file system full, the disk
	 * failing).  Set by the writer, read by the loop (pipe_log_failing()). */
	atomic_int log_failing;
	uint64_t interval_ms;
	char checkpoint_file[PATH_MAX];

	/* Remote-duty declarations the server has indexed (pipe_remote_duty()), read by the
	 * workers when a clip would be late: one declared before the upload makes it
	 * on_time_remote in its entry.  Own lock: the writer's must not wait for a worker. */
	pthread_mutex_t duty_mtx;
	struct rules_note *duties; /* strings and the entry list malloc()'d */
	size_t nduties, capduties;
};

/* ---- small helpers ---- */

uint64_t daemon_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* For intervals and time limits: the wall clock may be stepped back or forward (by an
 * operator, NTP's first sync, a VM restored), which must neither postpone a checkpoint by the
 * size of the step nor kill a probe that has run for a second. */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void format_time(uint64_t us, char out[ING_RFC3339_MAX])
{
	if (ing_format_utc((int64_t)us, out) < 0)
		snprintf(out, ING_RFC3339_MAX, "1970-01-01T00:00:00Z");
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	json_decref(j->item.entry);
	free(j->path);
	free(j->relname);
	free(j->zone_name);
	free(j->zone_path);
	zfile_close(&j->zf);
	free(j->device_clock);
	free(j->name_pattern);
	free(j->keys);
	free(j);
}

static const struct cfg_zone *zone_by_name(const struct cfg *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nzones; i++)
		if (strcmp(cfg->zones[i].name, name) == 0)
			return &cfg->zones[i];
	return NULL;
}

static struct job *job_new(struct pipeline *p, const char *zone_name, const char *path,
			   const char *relname)
{
	const struct cfg *cfg = p->d->cfg;
	const struct cfg_zone *z = zone_by_name(cfg, zone_name);
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->p = p;
	j->item.kind = ITEM_INGEST;
	j->path = path ? strdup(path) : NULL;
	j->relname = strdup(relname);
	j->zone_name = strdup(zone_name);
	j->zf = (struct zfile)ZFILE_INIT;
	j->zone_path = path && z ? strdup(z->path) : NULL;
	j->device_clock = strdup(z && z->device_clock ? z->device_clock : cfg->device_clock);
	j->name_pattern = z && z->name_pattern ? strdup(z->name_pattern) : NULL;
	if ((path && (!j->path || !j->zone_path)) || !j->relname || !j->zone_name ||
	    !j->device_clock || (z && z->name_pattern && !j->name_pattern)) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* ---- step 2: the probe, in a child process ---- */

/* Run custody-probe on @fd; fills @ret_out (malloc()'d) with what it printed.
 * @return 0 when it exited 0; -ETIMEDOUT when killed for running too long; -ECHILD when it
 * crashed or failed (the reason in @reterr). */
static int probe_run(struct pipeline *p, struct job *j, int fd, char **ret_out,
		     struct err_detail *reterr)
{
	const struct cfg *cfg = p->d->cfg;
	char skew[32], streams[24], packets[32], seconds[24], sha[2 * 32 + 1], parent[24];
	char *argv[24];
	int argc = 0, pipefd[2], status, r = 0;
	posix_spawn_file_actions_t fa;
	size_t len = 0, cap = 65536;
	char *out = malloc(cap);
	uint64_t deadline;
	pid_t pid;

	if (!out)
		return err_set(reterr, -ENOMEM, "out of memory");
	snprintf(skew, sizeof(skew), "%" PRIu64, cfg->clock_skew_ms * 1000);
	snprintf(streams, sizeof(streams), "%u", cfg->max_streams);
	snprintf(packets, sizeof(packets), "%" PRIu64, cfg->max_packets);
	/* The probe's own time limit sits below the daemon's kill, so that a slow file normally
	 * comes back as damaged with a reason rather than as a killed probe. */
	snprintf(seconds, sizeof(seconds), "%" PRIu64,
		 cfg->probe_timeout_ms / 1000 > 2 ? cfg->probe_timeout_ms / 1000 - 1 : 1);
	argv[argc++] = "custody-probe";
	argv[argc++] = "--name";
	argv[argc++] = j->relname;
	argv[argc++] = "--device-clock";
	argv[argc++] = j->device_clock;
	argv[argc++] = "--clock-skew-us";
	argv[argc++] = skew;
	argv[argc++] = "--max-streams";
	argv[argc++] = streams;
	argv[argc++] = "--max-packets";
	argv[argc++] = packets;
	argv[argc++] = "--max-seconds";
	argv[argc++] = seconds;
	if (j->name_pattern) {
		argv[argc++] = "--name-pattern";
		argv[argc++] = j->name_pattern;
	}
	/* The store hashed these bytes: the probe need not read them all once more. */
	hex_encode(j->sha256, 32, sha);
	argv[argc++] = "--sha256";
	argv[argc++] = sha;
	/* The probe dies with the daemon: this tells it who that is, should it be gone before the
	 * probe has asked for its death signal. */
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	argv[argc++] = "--parent-pid";
	argv[argc++] = parent;
	argv[argc] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(out);
		return err_set(reterr, -errno, "cannot make a pipe for the probe: %s",
			       strerror(errno));
	}
	/* posix_spawn, not fork: this is a worker thread of a process with an LMDB environment. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	r = posix_spawn(&pid, p->d->probe_path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		free(out);
		return err_set(reterr, -r, "cannot start '%s': %s", p->d->probe_path, strerror(r));
	}
	deadline = mono_us() + cfg->probe_timeout_ms * 1000;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		uint64_t now = mono_us();
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			r = err_set(reterr, -ETIMEDOUT,
				    "the probe ran past %" PRIu64 " s and was "
				    "killed",
				    cfg->probe_timeout_ms / 1000);
			break;
		}
		if (poll(&pfd, 1, (int)((deadline - now) / 1000 + 1)) < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			r = err_set(reterr, -errno, "poll: %s", strerror(errno));
			break;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (len + 1 >= cap) {
			char *grown = cap < PROBE_OUTPUT_MAX ? realloc(out, cap * 2) : NULL;

			if (!grown) {
				kill(pid, SIGKILL);
				r = err_set(reterr, -ECHILD, "the probe's answer is too large");
				break;
			}
			out = grown;
			cap *= 2;
		}
		n = read(pipefd[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = probestatus_reason(status, seconds, reterr);
	if (r < 0) {
		free(out);
		return r;
	}
	out[len] = '\0';
	*ret_out = out;
	return 0;
}

/* ---- step 1 to the entry: the pool half of an ingest ---- */

static int stage_meta(const struct job *j, char **ret, size_t *ret_len)
{
	json_auto_t *m = json_pack("{s:s, s:I}", "zone", j->zone_name, "arrived_us",
				   (json_int_t)daemon_now_us());

	*ret = m && entryname_put(j->relname, m) == 0 ? json_dumps(m, JSON_COMPACT) : NULL;
	if (!*ret)
		return -ENOMEM;
	*ret_len = strlen(*ret);
	return 0;
}

/* This arrival's TLOG_KEY_ARRIVAL: a file taken again after a crash (before its removal) is
 * the same arrival and must not be logged twice, while the same bytes dropped again are a new
 * arrival, logged as a `duplicate`.  A staged file is known by its unique staging name; a file
 * copied from its zone by its zone, name, inode, size, mtime and bytes, which a new copy
 * changes. */
static void arrival_key(struct job *j)
{
	json_auto_t *a = NULL;

	if (j->staged[0]) {
		const char *slash = strrchr(j->staged, '/');

		a = json_pack("{s:s}", "staged", slash ? slash + 1 : j->staged);
	} else {
		const struct stat *st = &j->zf.st;
		char hex[65];

		/* Not ctime: the daemon's own removal of another link to the inode, or a chmod,
		 * moves it without making a new arrival; the bytes read (sha256) stand in. */
		hex_encode(j->sha256, 32, hex);
		a = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "zone", j->zone_name, "dev",
			      (json_int_t)st->st_dev, "ino", (json_int_t)st->st_ino, "size",
			      (json_int_t)st->st_size, "mtime_s", (json_int_t)st->st_mtim.tv_sec,
			      "mtime_ns", (json_int_t)st->st_mtim.tv_nsec, "sha256", hex);
		if (a && entryname_put(j->relname, a) < 0)
			json_decref(TAKE_PTR(a));
	}
	/* Out of memory: a key no arrival has, so that nothing is skipped by mistake. */
	if (!a || vfy_key_arrival(a, j->arrival) < 0)
		randombytes_buf(j->arrival, sizeof(j->arrival));
}

/* Whether anyone holds @fd's file open for writing: 1 yes, 0 no, -errno when the file system
 * cannot tell (no leases there), in which case the caller copies rather than adopts. */
static int staged_writer(int fd)
{
	/* A lease broken by a writer's open signals its holder: SIGIO by default, which would
	 * kill the daemon; SIGURG is ignored by default. */
	if (fcntl(fd, F_SETSIG, SIGURG) < 0)
		return -errno;
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		(void)fcntl(fd, F_SETLEASE, F_UNLCK);
		return 0;
	}
	return errno == EAGAIN ? 1 : -errno;
}

/* Store the bytes durably; leaves an open read-only fd on the original in *@ret_fd.  A zone
 * file is reached only through descriptors (zonefile.h): opened below its zone without
 * following symlinks, moved into staging or copied from that descriptor, and stored only if it
 * did not change while it was read. */
static int ingest_store(struct pipeline *p, struct job *j, uint64_t *ret_size, int *ret_fd,
			struct err_detail *reterr)
{
	struct store *st = p->d->store;
	struct stat before, after;
	auto_close int own = -1;
	bool existed;
	int fd, r;

	if (j->path) {
		r = zfile_open(j->zone_path, j->relname, &j->zf, reterr);
		if (r < 0)
			return r;
		fd = j->zf.fd;
		/* Moved only when it is on the store's filesystem, ours, and not linked elsewhere:
		 * an uploader's file cannot be made read-only by us (not the owner), and a second
		 * link would let the "original" change behind the store.  Else it is copied. */
		if (j->zf.st.st_dev == p->store_dev && j->zf.st.st_uid == geteuid() &&
		    j->zf.st.st_nlink == 1) {
			auto_free char *meta = NULL;
			size_t mlen;

			if (stage_meta(j, &meta, &mlen) < 0)
				return err_set(reterr, -ENOMEM, "out of memory");
			r = store_stage_at(st, j->zf.dirfd, j->zf.base, &j->zf.st, meta, mlen,
					   j->staged, sizeof(j->staged), reterr);
			/* Another file took the name after the open and went back to it: the
			 * file opened may now live only in our descriptor, so it is copied from
			 * there (and its name, which is the other file's now, is left alone).
			 * EXDEV: one filesystem, two mounts (systemd's ReadWritePaths= binds
			 * them), which rename(2) cannot cross: copied too. */
			if (r == -ESTALE && !j->staged[0])
				log_notice("ingest", "%s; the file opened is copied instead",
					   reterr->msg);
			else if (r < 0 && r != -EXDEV)
				return r;
		}
		if (!j->staged[0]) {
			r = store_put_fd(st, fd, &j->zf.st, j->sha256, ret_size, j->rel, &existed,
					 reterr);
			/* Only its ctime moved (size and mtime did not): its name was unlinked or
			 * replaced, or its mode changed, which leaves the bytes alone, or someone
			 * wrote and set mtime back.  A second read that finds the file still as
			 * it was before it settles which: its bytes are what it holds now. */
			if (r == -ESTALE && fstat(fd, &after) == 0 &&
			    after.st_size == j->zf.st.st_size &&
			    after.st_mtim.tv_sec == j->zf.st.st_mtim.tv_sec &&
			    after.st_mtim.tv_nsec == j->zf.st.st_mtim.tv_nsec) {
				j->zf.st = after;
				r = store_put_fd(st, fd, &j->zf.st, j->sha256, ret_size, j->rel,
						 &existed, reterr);
			}
			if (r < 0)
				return r;
			j->stored_new = !existed;
			arrival_key(j);
			return store_open_original(st, j->rel, ret_fd, reterr);
		}
	} else {
		own = open(j->staged, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (own < 0)
			return err_set(reterr, -errno, "cannot open '%s': %s", j->staged,
				       strerror(errno));
		fd = own;
	}
	arrival_key(j);
	/* In staging: the same inode, now out of the zone; the rename changed its ctime.  It
	 * becomes an original only if it is ours, with one link, and nobody can write it: read-
	 * only first (no new writer can open it), then a read lease, which the kernel refuses
	 * while any descriptor is open for writing.  Otherwise its bytes are copied from here
	 * (checked unchanged while read), and the staged name is removed once logged. */
	if (fstat(fd, &before) < 0)
		return err_set(reterr, -errno, "cannot stat '%s': %s", j->staged, strerror(errno));
	if (!S_ISREG(before.st_mode))
		return err_set(reterr, -EINVAL,
			       "'%s' is not a regular file: it stays in staging for "
			       "an operator",
			       j->staged);
	if (before.st_uid != geteuid() || before.st_nlink != 1 || fchmod(fd, 0440) < 0 ||
	    staged_writer(fd) != 0) {
		if (fstat(fd, &before) < 0)
			return err_set(reterr, -errno, "cannot stat '%s': %s", j->staged,
				       strerror(errno));
		r = store_put_fd(st, fd, &before, j->sha256, ret_size, j->rel, &existed, reterr);
		if (r < 0)
			return r;
		j->stored_new = !existed;
		return store_open_original(st, j->rel, ret_fd, reterr);
	}
	if (fstat(fd, &before) < 0)
		return err_set(reterr, -errno, "cannot stat '%s': %s", j->staged, strerror(errno));
	r = vfy_sha256_fd(fd, j->sha256, ret_size, reterr);
	if (r < 0)
		return r;
	FAULT_POINT("staged-hashed");
	if (fstat(fd, &after) < 0)
		return err_set(reterr, -errno, "cannot stat '%s': %s", j->staged, strerror(errno));
	if (!zfile_same(&before, &after) || (uint64_t)after.st_size != *ret_size)
		return err_set(reterr, -ESTALE,
			       "'%s' changed while it was read; it is read again "
			       "once it settles",
			       j->relname);
	r = store_adopt(st, j->staged, j->sha256, j->rel, &existed, reterr);
	if (r < 0)
		return r;
	*ret_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (*ret_fd < 0)
		return err_set(reterr, -errno, "cannot duplicate a descriptor: %s",
			       strerror(errno));
	return 0;
}

static int add_key(struct job *j, uint8_t kind, const uint8_t hash[32], uint32_t stream,
		   int64_t value, uint32_t ordinal, size_t *cap)
{
	if (j->nkeys == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct tlog_key *grown = realloc(j->keys, ncap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		j->keys = grown;
		*cap = ncap;
	}
	j->keys[j->nkeys] = (struct tlog_key){ .kind = kind };
	memcpy(j->keys[j->nkeys].hash, hash, 32);
	vfy_key_extra_put(j->keys[j->nkeys].extra, stream, value, ordinal);
	j->nkeys++;
	return 0;
}

/* The lookup keys of an entry: the file hash, each stream digest, each video key packet. */
static int collect_keys(struct job *j, json_t *entry, json_t *keys, json_t *more_streams)
{
	size_t cap = 0, i;
	json_t *s, *k;
	uint8_t h[32];

	if (add_key(j, TLOG_KEY_FILE, j->sha256, 0, 0, 0, &cap) < 0)
		return -ENOMEM;
	/* Streams past those the entry lists (probe.c): indexed as if listed. */
	json_array_foreach(more_streams, i, s) {
		if (hex_decode(json_string_value(json_array_get(s, 1)), h, 32) < 0)
			continue;
		if (add_key(j, TLOG_KEY_STREAM, h,
			    (uint32_t)json_integer_value(json_array_get(s, 0)),
			    (int64_t)json_integer_value(json_array_get(s, 2)), 0, &cap) < 0)
			return -ENOMEM;
	}
	json_array_foreach(json_object_get(entry, "streams"), i, s) {
		if (hex_decode(json_string_value(json_object_get(s, "digest")), h, 32) < 0)
			continue;
		if (add_key(j, TLOG_KEY_STREAM, h,
			    (uint32_t)json_integer_value(json_object_get(s, "index")),
			    (int64_t)json_integer_value(json_object_get(s, "packets")), 0,
			    &cap) < 0)
			return -ENOMEM;
	}
	json_array_foreach(keys, i, k) {
		json_t *pts = json_array_get(k, 2);

		if (hex_decode(json_string_value(json_array_get(k, 1)), h, 32) < 0)
			continue;
		if (add_key(j, TLOG_KEY_PACKET, h,
			    (uint32_t)json_integer_value(json_array_get(k, 0)),
			    json_is_integer(pts) ? (int64_t)json_integer_value(pts) : INT64_MIN,
			    (uint32_t)json_integer_value(json_array_get(k, 3)), &cap) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The index of the remote_duty declaration that makes a clip of @entry's device or officer,
 * recorded @start_us..@end_us and stored at @stored_us, on time (rules_clip_status(), so
 * that the entry says what a review will say), or UINT64_MAX.  Any thread. */
static uint64_t remote_duty_covering(struct pipeline *p, const json_t *entry, int64_t start_us,
				     int64_t end_us, int64_t stored_us)
{
	struct rules_params params = {
		.storage_deadline_us = (int64_t)p->d->cfg->storage_deadline_ms * 1000,
		.split_tolerance_us = (int64_t)p->d->cfg->split_tolerance_ms * 1000,
	};
	struct rules_clip c = {
		.device = json_string_value(json_object_get(entry, "device")),
		.officer = json_string_value(json_object_get(entry, "officer")),
		.start_us = start_us,
		.end_us = end_us,
		.duration_us = RULES_NOTIME,
		.ingested_us = stored_us,
		.deadline_us = RULES_NOTIME,
		.storage = RULES_LATE,
	};
	struct rules_book *book = NULL;
	struct rules_status st;
	uint64_t found = UINT64_MAX;

	if (!c.device && !c.officer)
		return found;
	pthread_mutex_lock(&p->duty_mtx);
	if (p->nduties && rules_book_new(&params, p->duties, p->nduties, &book) == 0) {
		rules_clip_status(book, &c, &st);
		if (st.storage_now == RULES_ON_TIME_REMOTE && st.remote_duty)
			found = st.remote_duty->index;
	}
	pthread_mutex_unlock(&p->duty_mtx);
	rules_book_free(book);
	return found;
}

static void duty_free(struct rules_note *n)
{
	free((char *)n->device);
	free((char *)n->officer);
}

void pipe_remote_duty(struct pipeline *p, uint64_t index, const char *device, const char *officer,
		      int64_t from_us, int64_t to_us, int64_t returned_us)
{
	struct rules_note n = {
		.index = index,
		.kind = RULES_REMOTE_DUTY,
		.from_us = from_us,
		.to_us = to_us,
		.returned_us = returned_us,
		.at_us = RULES_NOTIME,
	};

	n.device = device ? strdup(device) : NULL;
	n.officer = officer ? strdup(officer) : NULL;
	pthread_mutex_lock(&p->duty_mtx);
	if ((device && !n.device) || (officer && !n.officer)) {
		goto nomem;
	} else if (p->nduties == p->capduties) {
		size_t cap = p->capduties ? 2 * p->capduties : 16;
		struct rules_note *d = realloc(p->duties, cap * sizeof(*d));

		if (!d)
			goto nomem;
		p->duties = d;
		p->capduties = cap;
	}
	p->duties[p->nduties++] = n;
	pthread_mutex_unlock(&p->duty_mtx);
	return;
nomem:
	pthread_mutex_unlock(&p->duty_mtx);
	duty_free(&n);
	/* The clip's entry will say late; the review still reclassifies it from the log. */
	log_warning("rules",
		    "out of memory for remote_duty %" PRIu64 ": clips it covers are "
		    "logged late until a review reclassifies them",
		    index);
}

/* The fields only the daemon knows: where it came from, when it was stored, where it is,
 * and the storage deadline (docs/rules.md).  @end_us is the recording end, or < 0 when unknown. */
static int finish_entry(struct pipeline *p, struct job *j, json_t *entry, int64_t end_us,
			bool future, uint64_t stored_us)
{
	const struct cfg *cfg = p->d->cfg;
	char at[ING_RFC3339_MAX], deadline[ING_RFC3339_MAX];
	const char *storage;
	json_t *dl = json_null();

	format_time(stored_us, at);
	if (end_us < 0 || future) {
		/* No trustworthy time: open until a late_storage annotation explains it. */
		storage = "unknown_time";
	} else {
		uint64_t due = (uint64_t)end_us + cfg->storage_deadline_ms * 1000;

		format_time(due, deadline);
		dl = json_string(deadline);
		storage = stored_us <= due ? "on_time" : "late";
		if (!strcmp(storage, "late")) {
			int64_t dur = json_integer_value(json_object_get(entry, "duration_us"));
			uint64_t duty = remote_duty_covering(p, entry, end_us - (dur > 0 ? dur : 0),
							     end_us, (int64_t)stored_us);

			if (duty != UINT64_MAX) {
				storage = "on_time_remote";
				if (json_object_set_new(entry, "remote_duty",
							json_integer((json_int_t)duty)) < 0) {
					json_decref(dl);
					return -ENOMEM;
				}
			}
		}
	}
	if (json_object_set_new(entry, "zone", json_string(j->zone_name)) < 0 ||
	    entryname_put(j->relname, entry) < 0 ||
	    json_object_set_new(entry, "ingested_at", json_string(at)) < 0 ||
	    json_object_set_new(entry, "deadline", dl) < 0 ||
	    json_object_set_new(entry, "storage", json_string(storage)) < 0 ||
	    json_object_set_new(entry, "stored", json_string(j->rel)) < 0)
		return -ENOMEM;
	return 0;
}

/* Whether @entry canonicalises within the entry limit; if not, @reterr says so.  On the pool:
 * the writer canonicalises it again, but a refusal there could only fail the job. */
static bool entry_loggable(const json_t *entry, struct err_detail *reterr)
{
	struct err_detail e;
	char *text;
	size_t len;
	int r = vfy_entry_dump(entry, &text, &len, &e);

	if (r == 0) {
		free(text);
		return true;
	}
	err_set(reterr, r,
		"the probe's description of it cannot be logged (%s); logged with what the "
		"daemon knows",
		e.msg);
	return r == -ENOMEM; /* not the entry's fault: the writer tries again */
}

static void ingest_run(uv_work_t *req)
{
	struct job *j = container_of(req, struct job, work);
	struct pipeline *p = j->p;
	struct err_detail *e = &j->item.err;
	auto_free char *out = NULL;
	auto_close int fd = -1;
	json_auto_t *answer = NULL;
	json_t *entry = NULL;
	uint64_t size, stored_us;
	int64_t end_us = -1;
	bool future = false;
	char hex[65];
	int r;

	r = ingest_store(p, j, &size, &fd, e);
	if (r < 0)
		goto fail;
	stored_us = daemon_now_us(); /* the original is durable from here on */

	r = probe_run(p, j, fd, &out, e);
	if (r == 0) {
		json_error_t jerr;

		answer = json_loads(out, 0, &jerr);
		entry = json_object_get(answer, "entry");
		if (!json_is_object(entry)) {
			r = err_set(e, -ECHILD, "the probe's answer is not valid: %s", jerr.text);
		} else {
			json_t *end = json_object_get(answer, "recorded_end_us");

			json_incref(entry);
			end_us = json_is_integer(end) ? (int64_t)json_integer_value(end) : -1;
			future = json_is_true(json_object_get(answer, "future"));
		}
	}
	if (r < 0) {
		/* The probe crashed, hung or failed: the bytes are stored and hashed, so the file
		 * is logged as damaged with the reason, never dropped. */
	damaged:
		hex_encode(j->sha256, 32, hex);
		entry =
		    json_pack("{s:i, s:s, s:I, s:s, s:n, s:n, s:[], s:s, s:n, s:n, s:n, s:n, "
			      "s:n}",
			      "v", 1, "type", "damaged", "size", (json_int_t)size, "sha256", hex,
			      "container", "duration_us", "streams", "error", e->msg,
			      "recorded_start", "recorded_end", "time_source", "device", "officer");
		if (!entry) {
			r = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		j->probe_damaged = true;
	}
	r = finish_entry(p, j, entry, end_us, future, stored_us);
	if (r == 0 && !j->probe_damaged && !entry_loggable(entry, e)) {
		/* What the probe said cannot be logged (over the entry limit, or not canonical):
		 * its fields are bounded (docs/log.md), so only a probe gone wrong gets here.  The
		 * arrival is logged all the same, as damaged with what the daemon knows, never
		 * dropped; the message says why. */
		json_decref(entry);
		json_decref(answer);
		answer = NULL;
		end_us = -1;
		future = false;
		goto damaged;
	}
	if (r == 0)
		r = collect_keys(j, entry, json_object_get(answer, "keys"),
				 json_object_get(answer, "more_streams"));
	if (r < 0) {
		json_decref(entry);
		err_set(e, r, "out of memory");
		goto fail;
	}
	FAULT_POINT("stored-before-commit");
	j->item.entry = entry;
	j->item.status = 0;
	return;
fail:
	j->item.status = r < 0 ? r : -EIO;
}

/* ---- the writer thread ---- */

/* Turn job @j's entry into the `duplicate` entry of its arrival (docs/log.md): bytes that entry
 * @of holds arrived again.  Writer thread. */
static int duplicate_entry(struct job *j, uint64_t of, struct err_detail *reterr)
{
	json_t *old = j->item.entry;
	json_t *dup;
	char hex[65];

	hex_encode(j->sha256, 32, hex);
	dup = json_pack("{s:i, s:s, s:O, s:O, s:s, s:O, s:I}", "v", 1, "type", "duplicate", "zone",
			json_object_get(old, "zone"), "size", json_object_get(old, "size"),
			"sha256", hex, "received_at", json_object_get(old, "ingested_at"), "of",
			(json_int_t)of);
	if (!dup || entryname_put(j->relname, dup) < 0) {
		json_decref(dup);
		return err_set(reterr, -ENOMEM, "out of memory");
	}
	json_decref(old);
	j->item.entry = dup;
	j->item.duplicate = true;
	j->item.of = of;
	return 0;
}

/* Every entry carrying the lookup key (@kind, @hash), malloc()'d into *@ret (*@ret_n of them).
 * @return 0, -ENOMEM, or a tlog error. */
static int lookup_all(struct tlog *log, uint8_t kind, const uint8_t hash[32], struct tlog_hit **ret,
		      size_t *ret_n, struct err_detail *reterr)
{
	struct tlog_hit *hits = NULL;
	size_t max = 8, n = 0;

	for (;;) {
		struct tlog_hit *grown = realloc(hits, max * sizeof(*hits));
		int r;

		if (!grown) {
			free(hits);
			return err_set(reterr, -ENOMEM, "out of memory");
		}
		hits = grown;
		r = tlog_lookup(log, kind, hash, hits, max, &n, reterr);
		if (r < 0) {
			free(hits);
			return r;
		}
		if (n < max)
			break;
		max *= 2; /* as many as there are: a decision must not rest on the first few */
	}
	*ret = hits;
	*ret_n = n;
	return 0;
}

/* The first entry other than @except that logged the bytes @sha256 (TLOG_KEY_FILE) and that
 * is in force: no purge entry names it (TLOG_KEY_PURGED of the same bytes, extra: the purged
 * entry).  Into *@ret_index.  @return 1 found, 0 none, or -errno.  Writer thread. */
static int entry_in_force(struct tlog *log, const uint8_t sha256[32], uint64_t except,
			  uint64_t *ret_index, struct err_detail *reterr)
{
	struct tlog_hit *files = NULL, *purged = NULL;
	size_t nfiles = 0, npurged = 0;
	int r, found = 0;

	r = lookup_all(log, TLOG_KEY_FILE, sha256, &files, &nfiles, reterr);
	if (r == 0 && nfiles)
		r = lookup_all(log, TLOG_KEY_PURGED, sha256, &purged, &npurged, reterr);
	for (size_t i = 0; r == 0 && i < nfiles && !found; i++) {
		bool ended = false;

		if (files[i].index == except)
			continue;
		for (size_t k = 0; k < npurged && !ended; k++) {
			int64_t entry;

			vfy_key_extra_get(purged[k].extra, NULL, &entry, NULL);
			ended = (uint64_t)entry == files[i].index;
		}
		if (!ended) {
			*ret_index = files[i].index;
			found = 1;
		}
	}
	free(files);
	free(purged);
	return r < 0 ? r : found;
}

/* A purge (pipe_purge()): commit its entry, if any, on its own (the caller committed what
 * came before it), with "removed" saying whether the original goes; then unlink it, unless an
 * entry in force records the same bytes.  A crash between the commit and the unlink leaves
 * the file with the purge logged; asking again finishes it (an item without an entry). */
static void writer_purge(struct pipeline *p, struct purge_item *pi)
{
	struct item *it = &pi->item;
	struct tlog *log = p->d->log;
	uint64_t other = UINT64_MAX, first;
	int found, r;

	it->status = 0;
	it->index = UINT64_MAX;
	pi->kept_for = UINT64_MAX;
	pi->removal = 0;
	FAULT_POINT("purge-before-commit");
	found = entry_in_force(log, pi->sha256, pi->entry, &other, &it->err);
	if (found < 0) {
		it->status = found;
		return;
	}
	if (found)
		pi->kept_for = other;
	if (it->entry) {
		struct tlog_key key = { .entry = 0, .kind = TLOG_KEY_PURGED };
		char why[128];
		struct iovec iov;
		size_t len;
		char *text;

		snprintf(why, sizeof(why),
			 "entry %" PRIu64 " records the same bytes and is not "
			 "purged: the original stays in the store",
			 other);
		if (json_object_set_new(it->entry, "removed", json_boolean(!found)) < 0 ||
		    (found &&
		     (json_object_set_new(it->entry, "kept_for", json_integer((json_int_t)other)) <
			  0 ||
		      json_object_set_new(it->entry, "kept_because", json_string(why)) < 0))) {
			it->status = err_set(&it->err, -ENOMEM, "out of memory");
			return;
		}
		r = vfy_entry_dump(it->entry, &text, &len, &it->err);
		if (r < 0) {
			it->status = r;
			return;
		}
		memcpy(key.hash, pi->sha256, 32);
		vfy_key_extra_put(key.extra, 0, (int64_t)pi->entry, 0);
		iov = (struct iovec){ text, len };
		r = tlog_append_keyed(log, &iov, 1, &key, 1, &first, &it->err);
		atomic_store(&p->log_failing, r < 0 ? r : 0);
		free(text);
		if (r < 0) {
			it->status = r;
			return;
		}
		it->index = first;
	}
	FAULT_POINT("purge-committed-before-removal");
	if (!found)
		pi->removal = store_remove_original(p->d->store, pi->rel, pi->sha256, &pi->rerr);
}

static void writer_commit(struct pipeline *p, struct item *batch)
{
	struct daemon *d = p->d;
	size_t n = 0, nkeys = 0, cap = 0;
	struct iovec *iov = NULL;
	struct tlog_key *keys = NULL;
	struct item **order = NULL;
	struct err_detail e;
	uint64_t first, size0 = 0;
	int r = 0;

	for (struct item *it = batch; it; it = it->next)
		cap++;
	iov = calloc(cap, sizeof(*iov));
	order = calloc(cap, sizeof(*order));
	if (!iov || !order) {
		r = err_set(&e, -ENOMEM, "out of memory");
		goto out;
	}
	/* The writer is the only appender: the batch's entries get size0, size0 + 1, … */
	r = tlog_size(d->log, &size0, &e);
	if (r < 0)
		goto out;
	for (struct item *it = batch; it; it = it->next) {
		char *text;
		size_t len;

		it->status = 0;
		if (it->kind == ITEM_INGEST) {
			struct job *j = (struct job *)it;
			uint64_t live = UINT64_MAX;
			struct tlog_hit hit;
			size_t nhit = 0;
			int found;

			/* This arrival logged before (a crash came before its removal): nothing
			 * new.  A lookup that fails fails the job (it is tried again), rather than
			 * risk a second entry for one arrival. */
			found = tlog_lookup(d->log, TLOG_KEY_ARRIVAL, j->arrival, &hit, 1, &nhit,
					    &it->err);
			if (found < 0) {
				it->status = found;
				continue;
			}
			if (nhit) {
				it->duplicate = it->retaken = true;
				it->index = hit.index;
				continue;
			}
			/* Content logged by an entry in force, or earlier in this batch: this
			 * arrival is recorded as a `duplicate` of it (docs/log.md). */
			found = entry_in_force(d->log, j->sha256, UINT64_MAX, &live, &it->err);
			if (found < 0) {
				it->status = found;
				continue;
			}
			for (size_t k = 0; !found && k < n; k++)
				if (order[k]->kind == ITEM_INGEST && !order[k]->duplicate &&
				    memcmp(((struct job *)order[k])->sha256, j->sha256, 32) == 0) {
					live = size0 + k;
					found = 1;
				}
			if (found) {
				found = duplicate_entry(j, live, &it->err);
				if (found < 0) {
					it->status = found;
					continue;
				}
			} else {
				/* A new entry: its original must still be in the store.  The job
				 * may have found these bytes stored already (by an entry a purge
				 * then ended) and a purge removed them since; purges run on this
				 * thread, so none comes between this check and the commit.  The
				 * job fails and is tried again from its zone or staging, which
				 * still hold the file: stored anew. */
				found = store_has_original(d->store, j->rel, &it->err);
				if (found == -ENOENT)
					err_set(
					    &it->err, found,
					    "its original '%s' left the store (a "
					    "purge removed it) before this arrival was logged; it "
					    "is stored again at the next try",
					    j->rel);
				if (found < 0) {
					it->status = found;
					continue;
				}
			}
		}
		if (vfy_entry_dump(it->entry, &text, &len, &it->err) < 0) {
			it->status = it->err.code;
			continue;
		}
		if (it->kind == ITEM_INGEST) {
			struct job *j = (struct job *)it;
			/* A duplicate is no original of anything: only its arrival is looked up. */
			size_t nown = it->duplicate ? 0 : j->nkeys;
			struct tlog_key *grown = realloc(keys, (nkeys + nown + 1) * sizeof(*keys));

			if (!grown) {
				free(text);
				r = err_set(&e, -ENOMEM, "out of memory");
				goto out;
			}
			keys = grown;
			for (size_t k = 0; k < nown; k++) {
				keys[nkeys + k] = j->keys[k];
				keys[nkeys + k].entry = (uint32_t)n;
			}
			nkeys += nown;
			keys[nkeys] =
			    (struct tlog_key){ .entry = (uint32_t)n, .kind = TLOG_KEY_ARRIVAL };
			memcpy(keys[nkeys].hash, j->arrival, 32);
			nkeys++;
		}
		iov[n] = (struct iovec){ text, len };
		order[n++] = it;
	}
	if (n > 0) {
		r = tlog_append_keyed(d->log, iov, n, keys, nkeys, &first, &e);
		atomic_store(&p->log_failing, r < 0 ? r : 0);
		if (r == 0)
			for (size_t k = 0; k < n; k++)
				order[k]->index = first + k;
	}
out:
	if (r < 0)
		for (struct item *it = batch; it; it = it->next)
			if (it->status == 0) {
				it->status = r;
				it->err = e;
			}
	for (size_t k = 0; k < n; k++)
		free(iov[k].iov_base);
	free(iov);
	free(order);
	free(keys);
}

/* The tree size of the checkpoint published at @path (its second line), or UINT64_MAX when
 * there is none or it cannot be read as one. */
static uint64_t published_size(const char *path)
{
	char buf[4096], *nl, *end;
	auto_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd >= 0 ? file_read_full(fd, buf, sizeof(buf) - 1) : -1;
	unsigned long long v;

	if (n <= 0)
		return UINT64_MAX;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (!nl || nl[1] < '0' || nl[1] > '9')
		return UINT64_MAX;
	errno = 0;
	v = strtoull(nl + 1, &end, 10);
	return errno || *end != '\n' ? UINT64_MAX : (uint64_t)v;
}

/* Write the newest checkpoint to <state>/checkpoint atomically, for publication. */
static int publish_checkpoint(struct pipeline *p, struct err_detail *reterr)
{
	auto_free char *note = NULL;
	size_t len;
	int r;

	uint64_t size, published;

	r = tlog_checkpoint_get(p->d->log, TLOG_NEWEST, &note, &len, &size, reterr);
	if (r < 0)
		return r;
	/* What was published is never replaced by a smaller tree: a log that lost entries must
	 * not hide it (custodyd refuses to start on one; this holds whatever happens later). */
	published = published_size(p->checkpoint_file);
	if (published != UINT64_MAX && published > size)
		return err_set(reterr, -ESTALE,
			       "the published checkpoint '%s' has size %" PRIu64
			       ", larger than the log's newest (%" PRIu64
			       "): it is not overwritten",
			       p->checkpoint_file, published, size);
	r = file_write_atomic(AT_FDCWD, p->checkpoint_file, note, len, 0644, reterr);
	if (r < 0)
		err_prefix(reterr, "cannot publish the checkpoint");
	return r;
}

static void writer_sign(struct pipeline *p)
{
	struct err_detail e;
	int signed_new = 0;
	uint64_t size;

	if (tlog_checkpoint_sign(p->d->log, p->signer, &signed_new, &e) < 0) {
		log_error("log", "cannot sign a checkpoint: %s", e.msg);
		return;
	}
	if (!signed_new)
		return;
	if (publish_checkpoint(p, &e) < 0)
		log_msg(e.code == -ESTALE ? LOG_ALERT : LOG_ERR, "log", "%s", e.msg);
	if (p->d->wit && tlog_checkpoint_get(p->d->log, TLOG_NEWEST, NULL, NULL, &size, &e) == 0)
		wit_signed(p->d->wit, size);
}

/* A batch in queue order: each run of ingests and appends between purges in one transaction
 * (writer_commit()), each purge on its own after everything queued before it, so that an
 * ingest queued after a purge sees it, and a purge sees every ingest queued before it. */
static void writer_run(struct pipeline *p, struct item *batch)
{
	struct item *it = batch;

	while (it) {
		struct item *last, *rest;

		if (it->kind == ITEM_PURGE) {
			rest = it->next;
			writer_purge(p, (struct purge_item *)it);
			it = rest;
			continue;
		}
		for (last = it; last->next && last->next->kind != ITEM_PURGE; last = last->next)
			;
		rest = last->next;
		last->next = NULL; /* writer_commit() takes a whole list */
		writer_commit(p, it);
		last->next = rest;
		it = rest;
	}
}

static void *writer_main(void *arg)
{
	struct pipeline *p = arg;
	uint64_t last_sign_us = 0;
	bool dirty = true; /* sign once at start if the log grew while we were down */

	pthread_mutex_lock(&p->mtx);
	for (;;) {
		uint64_t now = mono_us(), due = last_sign_us + p->interval_ms * 1000;
		struct item *batch, *tail;

		/* Signing comes first when it is due, so that a steady stream of entries (every
		 * verify appends an access record) cannot put checkpoints off. */
		if (dirty && now >= due) {
			pthread_mutex_unlock(&p->mtx);
			writer_sign(p);
			pthread_mutex_lock(&p->mtx);
			last_sign_us = mono_us();
			dirty = false;
			continue;
		}
		if (p->wq_head) {
			batch = p->wq_head;
			p->wq_head = p->wq_tail = NULL;
			pthread_mutex_unlock(&p->mtx);

			writer_run(p, batch);
			dirty = true;

			pthread_mutex_lock(&p->mtx);
			for (tail = batch; tail->next; tail = tail->next)
				;
			if (p->done_tail)
				p->done_tail->next = batch;
			else
				p->done_head = batch;
			p->done_tail = tail;
			pthread_mutex_unlock(&p->mtx);
			uv_async_send(&p->async);
			pthread_mutex_lock(&p->mtx);
			continue;
		}
		if (p->writer_stop)
			break;
		if (dirty) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts); /* p->cond's clock */
			ts.tv_sec += (time_t)((due - now) / 1000000);
			ts.tv_nsec += (long)((due - now) % 1000000) * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->cond, &p->mtx, &ts);
		} else {
			pthread_cond_wait(&p->cond, &p->mtx);
		}
	}
	pthread_mutex_unlock(&p->mtx);
	/* Shutdown: everything queued is committed; sign what it added. */
	writer_sign(p);
	pthread_mutex_lock(&p->mtx);
	p->writer_exited = true;
	pthread_mutex_unlock(&p->mtx);
	uv_async_send(&p->async);
	return NULL;
}

static void writer_push(struct pipeline *p, struct item *it)
{
	it->next = NULL;
	pthread_mutex_lock(&p->mtx);
	if (p->wq_tail)
		p->wq_tail->next = it;
	else
		p->wq_head = it;
	p->wq_tail = it;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mtx);
}

/* ---- the loop's half ---- */

static void kick(struct pipeline *p);
static void maybe_stopped(struct pipeline *p);

static void flight_remove(struct pipeline *p, struct job *j)
{
	for (struct job **pp = &p->flight; *pp; pp = &(*pp)->fnext)
		if (*pp == j) {
			*pp = j->fnext;
			return;
		}
}

static void set_error(struct pipeline *p, const char *fmt, const char *a, const char *b)
{
	snprintf(p->stats.last_error, sizeof(p->stats.last_error), fmt, a, b);
	p->stats.last_error_us = daemon_now_us();
}

static void remove_run(uv_work_t *req)
{
	struct job *j = container_of(req, struct job, work);
	struct err_detail *e = &j->item.err;
	int r = 0;

	FAULT_POINT("committed-before-removal");
	/* The entry is committed: now, and only now, the file may leave its zone, and only if
	 * its name still holds the file that was read, unchanged (zonefile.h). */
	if (j->staged[0])
		r = store_unstage(j->p->d->store, j->staged, e);
	else if (j->path && j->zf.dirfd >= 0)
		r = zfile_remove(&j->zf, j->zone_path, &j->zf.st, e);
	j->item.status = r;
}

static void remove_done(uv_work_t *req, int status)
{
	struct job *j = container_of(req, struct job, work);
	struct pipeline *p = j->p;

	(void)status;
	if (j->item.status == -ESTALE) {
		/* Not an error: the uploader put something new under the name; it is taken as
		 * what it is now, once it settles. */
		log_notice("ingest", "%s", j->item.err.msg);
	} else if (j->item.status < 0 && j->item.status != -ENOENT) {
		log_error("ingest", "%s", j->item.err.msg);
		set_error(p, "%s%s", j->item.err.msg, "");
	}
	if (j->path && p->d->watch) {
		if (j->item.status == -ESTALE)
			watch_retry(p->d->watch, j->path, 0);
		else
			watch_forget(p->d->watch, j->path);
	}
	flight_remove(p, j);
	job_free(j);
	maybe_stopped(p);
}

static void job_removal(struct pipeline *p, struct job *j)
{
	int r = uv_queue_work(p->d->loop, &j->work, remove_run, remove_done);

	if (r < 0) {
		log_error("ingest", "cannot schedule the removal of '%s': %s", j->relname,
			  uv_strerror(r));
		flight_remove(p, j);
		job_free(j);
	}
}

static void queue_add(struct pipeline *p, struct job *j)
{
	j->qnext = NULL;
	if (p->queue_tail)
		p->queue_tail->qnext = j;
	else
		p->queue_head = j;
	p->queue_tail = j;
	p->stats.queued++;
	kick(p);
}

static void on_retry_closed(uv_handle_t *h)
{
	struct job *j = h->data;
	struct pipeline *p = j->p;

	j->retrying = false;
	if (p->stopping) {
		/* It stays in staging, and the next start ingests it. */
		flight_remove(p, j);
		job_free(j);
		maybe_stopped(p);
		return;
	}
	queue_add(p, j);
}

static void on_retry(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, on_retry_closed);
}

/* Try a staged file again later, from staging: what it had from the failed try is dropped. */
static void retry_from_staging(struct pipeline *p, struct job *j)
{
	json_decref(j->item.entry);
	j->item.entry = NULL;
	free(j->keys);
	j->keys = NULL;
	j->nkeys = 0;
	j->item.status = 0;
	j->item.duplicate = j->item.retaken = false;
	j->probe_damaged = false;
	zfile_close(&j->zf);
	free(j->path);
	j->path = NULL;
	uv_timer_init(p->d->loop, &j->retry);
	j->retry.data = j;
	j->retrying = true;
	uv_timer_start(&j->retry, on_retry, RETRY_FAILED_MS, 0);
}

static void on_orphan_dropped(void *opaque, int status, const struct pipe_purged *d,
			      const struct err_detail *e)
{
	(void)opaque;
	if (status < 0)
		log_error("store", "cannot drop a copy that was not logged: %s", e->msg);
	else if (d->removal < 0 && d->removal != -ENOENT)
		log_error("store", "cannot drop a copy that was not logged: %s", e->msg);
}

static void job_failed(struct pipeline *p, struct job *j)
{
	const char *what = j->path ? j->path : j->staged;

	p->stats.failed++;
	if (j->item.status == -ENOSPC) {
		if (!p->stats.store_full)
			log_alert("store",
				  "the disk is full: ingest paused, '%s' is kept and retried "
				  "every %d s: %s",
				  what, RETRY_FAILED_MS / 1000, j->item.err.msg);
		p->stats.store_full = 1;
	} else {
		log_msg(j->item.status == -ESTALE ? LOG_NOTICE : LOG_ERR, "ingest",
			"'%s' is kept and retried in %d s: %s", what, RETRY_FAILED_MS / 1000,
			j->item.err.msg);
	}
	set_error(p, "'%s': %s", j->relname, j->item.err.msg);
	/* Moved into staging but not logged: put it back in its zone, where the watch retries it.
	 * No fsync is needed: after a crash the file is in one of two places that are both
	 * ingested (a staged file whose meta survived, or the zone), and a meta whose file left
	 * is removed by the next staging scan.  A file that cannot go back (a restart found it in
	 * staging, it is already linked into the store, or its zone name is taken now) is retried
	 * from staging. */
	if (j->staged[0]) {
		/* Once linked into the store (j->rel set), the staged name is the original itself:
		 * it is not put back, or the zone would hold a second link to it. */
		struct err_detail back;

		if (j->path && !j->rel[0] && j->zf.dirfd >= 0 &&
		    store_stage_return(p->d->store, j->staged, j->zf.dirfd, j->zf.base, NULL, 0,
				       &back) == 0) {
			j->staged[0] = '\0';
		} else if (!p->stopping) {
			retry_from_staging(p, j);
			return;
		}
	}
	/* A copy this job put in the store is no original of anything while no entry names it:
	 * it goes (on the writer thread, in order with the commits, unless an entry in force
	 * records the same bytes by then), and the next try copies the file again. */
	if (j->stored_new && j->rel[0])
		pipe_purge(p, UINT64_MAX, j->sha256, j->rel, NULL, on_orphan_dropped, NULL);
	if (j->path && p->d->watch)
		watch_retry(p->d->watch, j->path, RETRY_FAILED_MS);
	flight_remove(p, j);
	job_free(j);
}

static void ingest_done(uv_work_t *req, int status)
{
	struct job *j = container_of(req, struct job, work);
	struct pipeline *p = j->p;

	p->running--;
	if (status == UV_ECANCELED) {
		flight_remove(p, j);
		job_free(j);
	} else if (j->item.status < 0) {
		job_failed(p, j);
	} else {
		writer_push(p, &j->item);
	}
	kick(p);
	maybe_stopped(p);
}

static void on_writer_done(uv_async_t *handle)
{
	struct pipeline *p = handle->data;
	struct item *list, *next;
	bool exited;

	pthread_mutex_lock(&p->mtx);
	list = p->done_head;
	p->done_head = p->done_tail = NULL;
	exited = p->writer_exited;
	pthread_mutex_unlock(&p->mtx);
	for (; list; list = next) {
		next = list->next;
		if (list->kind == ITEM_PURGE) {
			struct purge_item *pi = (struct purge_item *)list;
			struct pipe_purged res = { .index = list->index,
						   .kept_for = pi->kept_for,
						   .removal = pi->removal };

			pi->cb(list->opaque, list->status, list->status < 0 ? NULL : &res,
			       list->status < 0 ? &list->err : &pi->rerr);
			json_decref(list->entry);
			free(pi);
			continue;
		}
		if (list->kind == ITEM_APPEND) {
			if (list->status < 0)
				log_error("log", "cannot append an entry: %s", list->err.msg);
			if (list->cb)
				list->cb(list->opaque, list->status, list->index, &list->err);
			json_decref(list->entry);
			free(list);
			continue;
		}
		struct job *j = (struct job *)list;

		if (list->status < 0) {
			job_failed(p, j);
			continue;
		}
		if (p->stats.store_full) {
			log_notice("store", "the store has room again: ingest resumed");
			p->stats.store_full = 0;
		}
		if (list->retaken && j->stored_new)
			pipe_purge(p, UINT64_MAX, j->sha256, j->rel, NULL, on_orphan_dropped, NULL);
		if (list->retaken) {
			log_notice("ingest",
				   "'%s' in zone '%s' was logged as entry %" PRIu64
				   " before a restart; removing it now",
				   j->relname, j->zone_name, list->index);
		} else if (list->duplicate) {
			p->stats.duplicates++;
			log_notice("ingest",
				   "'%s' in zone '%s' holds the bytes of entry %" PRIu64
				   ": its arrival is entry %" PRIu64
				   " (duplicate); removing the copy",
				   j->relname, j->zone_name, list->of, list->index);
		} else {
			p->stats.ingested++;
			if (strcmp(json_string_value(json_object_get(list->entry, "type")),
				   "damaged") == 0) {
				p->stats.damaged++;
				log_alert("ingest",
					  "'%s' from zone '%s' is damaged (entry %" PRIu64 "): %s",
					  j->relname, j->zone_name, list->index,
					  json_string_value(json_object_get(list->entry, "error")));
			} else {
				log_info("ingest", "'%s' from zone '%s' is entry %" PRIu64,
					 j->relname, j->zone_name, list->index);
			}
			/* Without a device the clip is on no timeline: a review holds it open
			 * (no_device) until someone attributes it (docs/rules.md). */
			if (j->name_pattern && strstr(j->name_pattern, "{device}") &&
			    !json_is_string(json_object_get(list->entry, "device")))
				log_warning("ingest",
					    "'%s' from zone '%s' (entry %" PRIu64
					    ") matches no name pattern of its zone, so it has no "
					    "device: custodyctl annotate device --entry %" PRIu64
					    " --device D --reason TEXT",
					    j->relname, j->zone_name, list->index, list->index);
		}
		job_removal(p, j);
	}
	if (exited && p->stopping)
		maybe_stopped(p);
}

static void kick(struct pipeline *p)
{
	while (!p->stopping && p->queue_head && p->running < p->d->cfg->workers) {
		struct job *j = p->queue_head;
		int r;

		p->queue_head = j->qnext;
		if (!p->queue_head)
			p->queue_tail = NULL;
		p->stats.queued--;
		r = uv_queue_work(p->d->loop, &j->work, ingest_run, ingest_done);
		if (r < 0) {
			err_set(&j->item.err, r, "cannot schedule the ingest: %s", uv_strerror(r));
			j->item.status = r;
			job_failed(p, j);
			continue;
		}
		p->running++;
	}
}

static void enqueue(struct pipeline *p, struct job *j)
{
	j->fnext = p->flight;
	p->flight = j;
	queue_add(p, j);
}

void pipe_submit(struct pipeline *p, size_t zone, const char *path, const char *relname)
{
	struct job *j;

	if (p->stopping || zone >= p->d->cfg->nzones)
		return;
	for (j = p->flight; j; j = j->fnext)
		if (j->path && strcmp(j->path, path) == 0)
			return;
	j = job_new(p, p->d->cfg->zones[zone].name, path, relname);
	if (!j) {
		log_error("ingest", "out of memory for '%s'; it stays in its zone", path);
		return;
	}
	enqueue(p, j);
}

void pipe_append(struct pipeline *p, json_t *entry, pipe_append_cb cb, void *opaque)
{
	struct item *it = calloc(1, sizeof(*it));

	if (!it || p->writer_stop) {
		struct err_detail e;

		err_set(&e, it ? -ESHUTDOWN : -ENOMEM,
			it ? "the daemon is stopping" : "out of memory");
		free(it);
		json_decref(entry);
		if (cb)
			cb(opaque, e.code, 0, &e);
		return;
	}
	it->kind = ITEM_APPEND;
	it->entry = entry;
	it->cb = cb;
	it->opaque = opaque;
	writer_push(p, it);
}

void pipe_append_all(struct pipeline *p, json_t *const *entries, size_t n, pipe_append_cb cb,
		     void *const *opaques)
{
	struct item *head = NULL, *tail = NULL;
	struct err_detail e;

	if (p->writer_stop) {
		err_set(&e, -ESHUTDOWN, "the daemon is stopping");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct item *it = calloc(1, sizeof(*it));

		if (!it) {
			err_set(&e, -ENOMEM, "out of memory");
			goto fail;
		}
		*it = (struct item){ .kind = ITEM_APPEND,
				     .entry = entries[i],
				     .cb = cb,
				     .opaque = opaques ? opaques[i] : NULL };
		if (tail)
			tail->next = it;
		else
			head = it;
		tail = it;
	}
	if (!head)
		return;
	/* One push of the whole chain: the writer takes its queue whole, so the parts land in
	 * one batch, hence one transaction (writer_run() cuts batches only at purges). */
	pthread_mutex_lock(&p->mtx);
	if (p->wq_tail)
		p->wq_tail->next = head;
	else
		p->wq_head = head;
	p->wq_tail = tail;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mtx);
	return;
fail:
	while (head) {
		struct item *next = head->next;

		free(head);
		head = next;
	}
	for (size_t i = 0; i < n; i++) {
		json_decref(entries[i]);
		if (cb)
			cb(opaques[i], e.code, 0, &e);
	}
}

void pipe_purge(struct pipeline *p, uint64_t entry, const uint8_t sha256[32], const char *rel,
		json_t *purge_entry, pipe_purge_cb cb, void *opaque)
{
	struct purge_item *pi = calloc(1, sizeof(*pi));

	if (!pi || p->writer_stop || strlen(rel) >= sizeof(pi->rel)) {
		struct err_detail e;

		if (!pi)
			err_set(&e, -ENOMEM, "out of memory");
		else if (p->writer_stop)
			err_set(&e, -ESHUTDOWN, "the daemon is stopping");
		else
			err_set(&e, -EINVAL, "'%s' is not the name of an original", rel);
		free(pi);
		json_decref(purge_entry);
		cb(opaque, e.code, NULL, &e);
		return;
	}
	pi->item.kind = ITEM_PURGE;
	pi->item.entry = purge_entry;
	pi->item.opaque = opaque;
	pi->cb = cb;
	pi->entry = entry;
	memcpy(pi->sha256, sha256, 32);
	snprintf(pi->rel, sizeof(pi->rel), "%s", rel);
	pi->kept_for = UINT64_MAX;
	writer_push(p, &pi->item);
}

int pipe_log_failing(struct pipeline *p)
{
	return p ? atomic_load(&p->log_failing) : 0;
}

void pipe_stats(const struct pipeline *p, struct pipe_stats *ret)
{
	*ret = p->stats;
	ret->in_flight = p->running;
	tlog_checkpoint_get(p->d->log, TLOG_NEWEST, NULL, NULL, &ret->checkpoint_size, NULL);
}

/* A restart: whatever staging holds was moved out of a zone but not yet logged. */
static int on_staged(void *opaque, const char *staged, const char *meta, size_t len)
{
	struct pipeline *p = opaque;
	json_auto_t *m = json_loadb(meta, len, 0, NULL);
	const char *zone = json_string_value(json_object_get(m, "zone"));
	auto_free char *name = entryname_get(m);
	struct job *j;

	if (!zone || !name) {
		log_error("ingest",
			  "'%s.meta' is unreadable; '%s' stays in staging for an operator", staged,
			  staged);
		return 0;
	}
	j = job_new(p, zone, NULL, name);
	if (!j)
		return -ENOMEM;
	snprintf(j->staged, sizeof(j->staged), "%s", staged);
	log_notice("ingest", "resuming '%s' from zone '%s', found in staging", name, zone);
	enqueue(p, j);
	return 0;
}

int pipe_new(struct daemon *d, struct pipeline **ret, struct err_detail *reterr)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	struct stat sb;
	int r;

	if (!p)
		return err_set(reterr, -ENOMEM, "out of memory");
	p->d = d;
	p->interval_ms = d->cfg->checkpoint_interval_ms;
	snprintf(p->checkpoint_file, sizeof(p->checkpoint_file), "%s/checkpoint", d->cfg->state);
	if (stat(store_root(d->store), &sb) < 0) {
		free(p);
		return err_set(reterr, -errno, "cannot stat the store: %s", strerror(errno));
	}
	p->store_dev = sb.st_dev;
	r = vfy_signer_load(d->cfg->key, &p->signer, reterr);
	if (r < 0) {
		err_prefix(reterr, "[log] key");
		free(p);
		return r;
	}
	pthread_mutex_init(&p->mtx, NULL);
	pthread_mutex_init(&p->duty_mtx, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the writer's timed waits */
		pthread_cond_init(&p->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	r = uv_async_init(d->loop, &p->async, on_writer_done);
	if (r < 0) {
		vfy_signer_free(p->signer);
		free(p);
		return err_set(reterr, r, "uv_async_init: %s", uv_strerror(r));
	}
	p->async.data = p;
	r = pthread_create(&p->writer, NULL, writer_main, p);
	if (r != 0) {
		uv_close((uv_handle_t *)&p->async, NULL);
		return err_set(reterr, -r, "cannot start the log writer: %s", strerror(r));
	}
	*ret = p;
	/* Files a removal had moved aside in their zone when the daemon stopped go back first,
	 * so that the watch finds them (docs/ingest.md "Removal"). */
	for (size_t i = 0; i < d->cfg->nzones; i++) {
		struct err_detail e;
		unsigned n = 0;

		if (zfile_sweep(d->cfg->zones[i].path, &n, &e) < 0)
			log_error("ingest", "zone '%s': %s", d->cfg->zones[i].name, e.msg);
		if (n)
			log_notice("ingest",
				   "zone '%s': %u file(s) a removal had moved aside before "
				   "a restart are back in the zone",
				   d->cfg->zones[i].name, n);
	}
	r = store_staging_scan(d->store, on_staged, p, reterr);
	return r < 0 ? r : 0;
}

static void on_async_closed(uv_handle_t *h)
{
	struct pipeline *p = h->data;

	if (p->stop_done)
		p->stop_done(p->stop_opaque);
}

static void maybe_stopped(struct pipeline *p)
{
	bool exited;

	/* Every job in flight (on the pool, at the writer, being removed) finishes first; the
	 * writer keeps running for them. */
	if (!p->stopping || p->flight)
		return;
	pthread_mutex_lock(&p->mtx);
	if (!p->writer_stop) {
		p->writer_stop = true;
		pthread_cond_signal(&p->cond);
	}
	exited = p->writer_exited;
	pthread_mutex_unlock(&p->mtx);
	if (!exited || uv_is_closing((uv_handle_t *)&p->async))
		return;
	pthread_join(p->writer, NULL);
	uv_close((uv_handle_t *)&p->async, on_async_closed);
}

void pipe_stop(struct pipeline *p, void (*done)(void *opaque), void *opaque)
{
	p->stopping = true;
	p->stop_done = done;
	p->stop_opaque = opaque;
	/* Files not yet started stay in their zones; they are found again at the next start. */
	while (p->queue_head) {
		struct job *j = p->queue_head;

		p->queue_head = j->qnext;
		flight_remove(p, j);
		job_free(j);
	}
	p->queue_tail = NULL;
	p->stats.queued = 0;
	for (struct job *j = p->flight; j; j = j->fnext)
		if (j->retrying && !uv_is_closing((uv_handle_t *)&j->retry))
			uv_close((uv_handle_t *)&j->retry, on_retry_closed);
	maybe_stopped(p);
}

struct pipeline *pipe_free(struct pipeline *p)
{
	if (!p)
		return NULL;
	vfy_signer_free(p->signer);
	pthread_mutex_destroy(&p->mtx);
	pthread_mutex_destroy(&p->duty_mtx);
	pthread_cond_destroy(&p->cond);
	for (size_t i = 0; i < p->nduties; i++)
		duty_free(&p->duties[i]);
	free(p->duties);
	free(p);
	return NULL;
}

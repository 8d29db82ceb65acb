#pragma once
/* A fake of daemon/pipeline.c for the tests of the code that calls it (the socket server, the
 * scrubber, fuzz_request): what they hand the pipeline goes into a real log, on the caller's
 * thread, as the writer thread would commit it.  pipe_append() canonicalises each entry with
 * vfy_entry_dump(), as the writer does, and appends it with tlog_append(); its callback runs
 * inside pipe_append() or, when the fake has a loop and !sync, from a uv_idle handle on that
 * loop (as the writer's uv_async would: after pipe_append() has returned).  The fields below
 * are the test's to set and read.  pipe_purge() commits nothing (purges are tested on a real
 * daemon, tests/integration/retention.sh).  Also defined here: pipe_remote_duty(),
 * pipe_log_failing(), pipe_stats() and pipe_append_all() (pipe_append() of each in turn); the
 * lookup keys' extra bytes are the real vfy_key_extra_put()/_get() of verify/keys.h.  Not defined:
 * daemon_now_us() and the watch_*() fakes, which each test makes its own. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "base/err.h"
#include "daemon/pipeline.h"

struct tlog;

struct fake_pending {
	pipe_append_cb cb;
	void *opaque;
	int status;
	uint64_t index;
	struct err_detail e;
};

#define FAKE_PIPE_QUEUE 64

struct pipeline {
	struct tlog *log; /* where entries are appended; the test's */
	bool has_loop;	  /* idle is initialised (fake_pipe_init() with a loop) */
	uv_idle_t idle;	  /* calls back what pending holds */
	struct fake_pending pending[FAKE_PIPE_QUEUE];
	size_t npending;
	/* Set by the test. */
	bool sync;	    /* call back inside pipe_append() (always so without a loop) */
	bool strict;	    /* abort() on an entry that does not canonicalise, rather than
			     * answering it with the error: the writer would refuse it */
	int fail;	    /* answer appends with this -errno, committing nothing... */
	bool commit_anyway; /* ...unless this: commit, then fail (a crash after the commit) */
	bool frozen;	    /* commit nothing, answer appends and purges with -EAGAIN, and say
			     * the log is writable: each fuzz input sees the same log */
	/* Read by the test. */
	int log_failing;     /* what pipe_log_failing() says: the last append's outcome;
			      * the test may set it too */
	unsigned appended;   /* entries committed */
	unsigned append_all; /* pipe_append_all() calls */
	json_t *last;	     /* the last entry committed (a reference; fake_pipe_done()) */
	uint64_t last_index;
	unsigned duties;    /* pipe_remote_duty() calls */
	uint64_t last_duty; /* the index of the last */
};

/** Set up @p to append to @log.  @loop may be NULL: every callback is then made inside
 * pipe_append().  @return 0, or uv_idle_init()'s error. */
int fake_pipe_init(struct pipeline *p, struct tlog *log, uv_loop_t *loop);

/** Close @p's idle handle, if it has one that is not closing yet (on @p's loop thread, once
 * nothing will append any more).  Callbacks still pending are not made. */
void fake_pipe_close(struct pipeline *p);

/** Drop @p->last.  The log stays the test's. */
void fake_pipe_done(struct pipeline *p);

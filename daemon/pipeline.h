#pragma once
/* The ingest pipeline and the log writer.
 *
 * An ingest job runs on the libuv pool: the file is moved into the store's staging (same
 * filesystem) or copied into the store while being hashed; custody-probe (a child process)
 * fingerprints the stored bytes; the entry is built and handed to the one writer thread, which
 * commits the entries of concurrent jobs in one transaction; only after the commit is the file
 * removed from its zone (or staging).  Content already logged by an entry no purge has ended
 * is not logged again as an original: the arrival gets a `duplicate` entry naming that entry,
 * and the file is removed.  Content whose every entry was purged is a new arrival and gets a
 * new entry.  Zone files are reached only through descriptors (zonefile.h).
 *
 * The writer thread also appends entries the server makes (annotations, access records) and
 * signs checkpoints, at most every checkpoint_interval and at shutdown.  Loop thread only,
 * except where said. */

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct err_detail;
struct json_t;
struct pipeline;

/** Start the writer thread, and ingest whatever staging holds from before a restart. */
int pipe_new(struct daemon *d, struct pipeline **ret, struct err_detail *reterr);

/** Offer a settled file (watch's callback).  Ignored while stopping or if @path is in flight. */
void pipe_submit(struct pipeline *p, size_t zone, const char *path, const char *relname);

/** Called when @entry (a JSON object; the reference is stolen) is committed at @index, or
 * failed with @status < 0 (@e says why).  Runs on the loop thread. */
typedef void (*pipe_append_cb)(void *opaque, int status, uint64_t index,
			       const struct err_detail *e);

/** Append an entry made on the loop thread (annotation, access).  It is canonicalised and
 * checked (vfy_entry_dump) on the writer thread.  @cb may be NULL. */
void pipe_append(struct pipeline *p, struct json_t *entry, pipe_append_cb cb, void *opaque);

/** pipe_append() of the @n entries @entries (each reference stolen) that together make one
 * record cut in parts (an access entry whose list is too long for one entry: docs/log.md):
 * they are queued at once, so the writer commits them in one transaction, in this order.
 * @cb (may be NULL) is called once per entry, with @opaques[i] (@opaques may be NULL when @cb
 * is).  Loop thread. */
void pipe_append_all(struct pipeline *p, struct json_t *const *entries, size_t n, pipe_append_cb cb,
		     void *const *opaques);

/** A remote_duty declaration (docs/rules.md) the server has indexed: from now on a clip it covers
 * that would be late is logged on_time_remote with "remote_duty": @index.  Declarations made
 * after a clip was logged change only what reviews and reports say (rules/rules.h).  Times
 * in µs since the epoch; @device or @officer may be NULL. */
void pipe_remote_duty(struct pipeline *p, uint64_t index, const char *device, const char *officer,
		      int64_t from_us, int64_t to_us, int64_t returned_us);

/** What became of a purge handed to pipe_purge() (loop thread, in its callback). */
struct pipe_purged {
	uint64_t index;	   /* the purge entry; UINT64_MAX when finishing one logged before */
	uint64_t kept_for; /* an entry no purge has ended that records the same bytes: the
			    * original stays in the store (removal is then 0 and meaningless);
			    * UINT64_MAX when there is none */
	int removal;	   /* 0 unlinked now, -ENOENT it was already gone, another -errno: the
			    * unlink failed (the callback's @e says why) */
};

/** Called on the loop thread when a pipe_purge() is done: @status < 0 when nothing was
 * logged or removed (@e says why; @d is NULL); else @d says what was done, and @e why a
 * removal failed (when d->removal is neither 0 nor -ENOENT). */
typedef void (*pipe_purge_cb)(void *opaque, int status, const struct pipe_purged *d,
			      const struct err_detail *e);

/** Purge the original of entry @entry (bytes @sha256, stored as @rel), on the writer thread,
 * in order with the ingests (README "Retention and purge"): with @purge_entry (a JSON object,
 * stolen) the writer commits it with a TLOG_KEY_PURGED key, adding "removed" (true, or false
 * with "kept_for" and "kept_because" when an entry no purge has ended records the same bytes);
 * with NULL (entry @entry was purged before, and a crash may have kept its file; or
 * @entry UINT64_MAX: a copy an ingest stored and could not log) it logs nothing.  Then, still on
 * the writer thread, it unlinks the original and fsyncs its folder, unless such an entry records
 * the same bytes.  The caller checked that the purge is allowed (retention period, case, hold, open
 * items).  @cb is called once, on the loop thread. */
void pipe_purge(struct pipeline *p, uint64_t entry, const uint8_t sha256[32], const char *rel,
		struct json_t *purge_entry, pipe_purge_cb cb, void *opaque);

struct pipe_stats {
	uint64_t queued;     /* settled files waiting for a worker */
	uint64_t in_flight;  /* ingests running */
	uint64_t ingested;   /* since start */
	uint64_t duplicates; /* arrivals of content already logged */
	uint64_t damaged;
	uint64_t failed;	  /* attempts that failed and will be retried */
	uint64_t checkpoint_size; /* newest signed */
	char last_error[512];	  /* "" when none */
	uint64_t last_error_us;
	int store_full; /* ingest paused: the store's filesystem is full */
};

void pipe_stats(const struct pipeline *p, struct pipe_stats *ret);

/** Whether the log's last append failed: its -errno (-ENOSPC: the state file system is full),
 * or 0 when it succeeded.  The server refuses reads of evidence meanwhile, as they could not be
 * recorded (docs/log.md: every read of evidence is); the next append that succeeds clears it.
 * Any thread. */
int pipe_log_failing(struct pipeline *p);

/** SIGTERM: take no new files, finish those in flight, commit, sign a checkpoint, stop the
 * writer thread; then call @done on the loop thread. */
void pipe_stop(struct pipeline *p, void (*done)(void *opaque), void *opaque);

/** Free a stopped pipeline.  NULL is fine; returns NULL. */
struct pipeline *pipe_free(struct pipeline *p);

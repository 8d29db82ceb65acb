#pragma once
/* The scrubber (its `scrub` entry: docs/log.md): re-hashes every original in the store against its
 * entry, on its own thread, at most cfg->scrub_rate bytes per second.
 *
 * A pass covers the originals of the log's `ingest` and `damaged` entries below the log's size
 * when the pass started, in index order, except those a later `purge` entry removed.  Each is
 * opened read-only (never through a symbolic link), hashed and compared in constant time with
 * the entry's `sha256`: no file is `missing`, other bytes (or anything that cannot be read as
 * the original) are `altered`; each such finding is an ALERT journal line at once.  A finished
 * pass is logged as `parts` `scrub` entries {"v":1,"type":"scrub","started_at","at","log_size",
 * "checked","ok","purged","bytes","part","parts","missing":[indexes],"altered":[indexes]}, each
 * with the pass's counts and a slice of its lists (SCRUB_PART_MAX indexes at most, missing ones
 * first), appended one after the other through the pipeline; the pass is on record once every
 * part 1..parts with its started_at is in the log (docs/log.md).
 *
 * Progress (the pass's start, the next entry, the counts and the failures so far) is kept in
 * <state>/scrub.json, replaced atomically after every original (at most once a second, at once
 * after a failure), so that a restart resumes the pass where it was; an original being hashed
 * when the daemon stopped is hashed again from its start.  A pass starts scrub_interval after
 * the previous one started (the first one scrub_interval after the scrubber first ran), or at
 * once on request; scrub_interval 0 means only on request.
 *
 * Threads: every function here is for the loop thread.  The scrub thread reads the log (short
 * read transactions) and the store, writes scrub.json, and hands finished passes to the loop,
 * which appends their entries with pipe_append(). */

#include <stdint.h>

struct cfg;
struct daemon;
struct err_detail;
struct json_t;
struct scrub;

/* At most this many indexes are listed per kind (missing, altered) for a pass, so that its
 * state file and its entries stay bounded; the rest are counted in "missing_unlisted" /
 * "altered_unlisted" (with an ALERT journal line each, as every finding). */
#define SCRUB_LIST_MAX 40000

/* At most this many indexes (missing and altered together) in one `scrub` entry: an index is
 * at most 19 digits and a comma, so a part's lists take at most 60,000 bytes, and its other
 * fields well under 1 KiB: every part is below the log's entry limit (VFY_ENTRY_MAX, 65,535
 * bytes) by construction.  A pass with the most listed, 2 * SCRUB_LIST_MAX, has 27 parts. */
#define SCRUB_PART_MAX 3000

/** Read <state>/scrub.json (an unreadable one is logged and replaced) and start the scrub
 * thread with d->cfg's scrub_interval and scrub_rate.  An unfinished pass resumes at once; a
 * finished pass whose entry was not yet logged is logged.  Needs d->log, d->store and d->pipe,
 * which must outlive the scrubber.  Caller owns *@ret.  @return 0, -ENOMEM, or -errno from
 * starting the thread or reading the state file. */
int scrub_new(struct daemon *d, struct scrub **ret, struct err_detail *reterr);

/** SIGHUP: take scrub_interval and scrub_rate from @cfg (not kept). */
void scrub_reload(struct scrub *s, const struct cfg *cfg);

/** Start a pass now (`custodyctl scrub --now`); @by, who asked, goes into the journal.
 * @return 0 (started), -EALREADY (a pass is running or its entry is being logged; @reterr
 * says which), -ESHUTDOWN (the scrubber is stopping). */
int scrub_start(struct scrub *s, const char *by, struct err_detail *reterr);

/** The scrubber's state for `status`, a new JSON object (NULL when out of memory):
 *   state      "idle" | "starting" | "running" | "finishing" (its entries being logged) |
 *              "stopped"
 *   interval_s, rate, next_at (RFC 3339, or null when only on request)
 *   pass       the running pass or null: started_at, log_size, next (the next entry index),
 *              checked, ok, purged, bytes, missing, altered (indexes, the first 100)
 *   last       the last logged pass or null: the same with at, entry (its first `scrub`
 *              entry) and parts (how many `scrub` entries it took)
 *   alarms     {missing, altered: the first 100 indexes failing in the last pass or the
 *              running one; count: how many in all} */
struct json_t *scrub_status(struct scrub *s);

/** SIGTERM: the thread persists its progress and stops at its next chunk (it does not finish
 * the pass); @done runs on the loop thread once it is joined and the handle closed.  A pass
 * that finished but whose entry is not yet committed is logged at the next start. */
void scrub_stop(struct scrub *s, void (*done)(void *opaque), void *opaque);

/** Free a stopped scrubber (after the loop ended).  NULL is fine; returns NULL. */
struct scrub *scrub_free(struct scrub *s);

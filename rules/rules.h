#pragma once
/* The office's rules over what the log holds (docs/rules.md): a clip's storage status
 * now (remote duty reclassifies, late_storage explains), its open items (late, unknown or
 * future time, damaged without a report), continuity (gaps between one device's consecutive
 * clips, explained by interruption annotations), the case review and the report figures of
 * docs/review-format.md.
 *
 * Pure: no I/O, no clock, no libuv, no logging; the caller gathers the clips and annotations
 * (custodyd from its index and the log) and says what "now" is where it matters.  Nothing is
 * shared between objects, so any thread may use its own; a book may be read by several
 * threads at once.  All times are int64_t µs since the epoch, UTC, RULES_NOTIME when unknown.
 * Strings and arrays handed in are borrowed: they must outlive the objects built on them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;

#define RULES_NOTIME INT64_MIN

/* Storage status words: the `storage` field of an ingest entry (docs/log.md). */
enum rules_storage {
	RULES_STORAGE_NONE = 0, /* not an ingest entry, or a word we do not know */
	RULES_ON_TIME,
	RULES_ON_TIME_REMOTE,
	RULES_LATE,
	RULES_UNKNOWN_TIME,
};

/** "on_time"…, or NULL for RULES_STORAGE_NONE. */
const char *rules_storage_name(unsigned storage);
/** The enum for a word; RULES_STORAGE_NONE when @word is NULL or unknown. */
unsigned rules_storage_parse(const char *word);

/* Whether an original in the store still is what its entry says (review re-hash, scrub). */
enum rules_integrity {
	RULES_UNCHECKED = 0,
	RULES_INTACT, /* "ok" */
	RULES_ALTERED,
	RULES_MISSING, /* not in the store, or unreadable (integrity_error says which) */
	RULES_PURGED,  /* removed by a purge entry (retention) */
};

/** "ok", "altered", "missing", "purged", or NULL for RULES_UNCHECKED. */
const char *rules_integrity_name(unsigned integrity);

/* Annotation kinds (docs/log.md; hold: retention, docs/rules.md).  The numbers are custodyd's
 * SRV_NOTE_* too. */
enum rules_note_kind {
	RULES_INTERRUPTION = 1,
	RULES_LATE_STORAGE,
	RULES_REMOTE_DUTY,
	RULES_DAMAGE_REPORT,
	RULES_CASE,
	RULES_APPROVAL,
	RULES_HOLD,
	RULES_DEVICE, /* a clip without a device attributed to one (entry, device, officer?) */
};

/* An original: an ingest or damaged entry, reduced to what the rules look at.  The strings
 * may be NULL (unknown); the ones marked "review" are only read by rules_review(). */
struct rules_clip {
	uint64_t index;	    /* of its entry in the log */
	const char *device; /* NULL: no device, so no continuity */
	const char *officer;
	const char *zone;
	const char *name;	     /* review */
	const char *time_source;     /* review: "tag", "filename", "mtime" */
	const char *sha256;	     /* review: 64 hex digits */
	const char *error;	     /* review: a damaged entry's error */
	const char *integrity_error; /* review: why the original could not be read */
	int64_t start_us, end_us;    /* recorded; RULES_NOTIME when unknown */
	int64_t duration_us;	     /* RULES_NOTIME when unknown */
	int64_t ingested_us;	     /* when the original was durably stored */
	int64_t deadline_us;	     /* as logged, RULES_NOTIME when none */
	uint64_t size;
	uint8_t storage;   /* enum rules_storage, as logged */
	uint8_t integrity; /* enum rules_integrity */
	bool damaged;	   /* a `damaged` entry */
	bool future;	   /* time_in_future: the recording time is later than it was */
};

/* An annotation, reduced likewise.  Fields a kind does not have are NULL / RULES_NOTIME. */
struct rules_note {
	uint64_t index;		 /* of the annotation entry */
	uint8_t kind;		 /* enum rules_note_kind */
	const uint64_t *entries; /* entry (late_storage, damage_report) or entries (case,
				  * approval, hold) */
	size_t nentries;
	const char *device;  /* interruption, remote_duty, device */
	const char *officer; /* remote_duty, device */
	const char *case_id; /* case */
	const char *reason;  /* interruption, late_storage, hold, device; damage_report: the
			      * explanation */
	const char *by;
	int64_t from_us, to_us; /* interruption, remote_duty */
	int64_t returned_us;	/* remote_duty */
	int64_t at_us;
};

struct rules_params {
	int64_t storage_deadline_us; /* [rules] storage_deadline */
	int64_t split_tolerance_us;  /* [rules] split_tolerance */
};

/* ---- the book: the annotations, compiled for lookups ------------------------------------- */

struct rules_book; /* immutable once built */

/** Compile @notes (@n of them, borrowed: they and their strings must outlive the book) under
 * @params.  Notes of unknown kinds are ignored.  *@ret is the caller's (rules_book_free()).
 * @return 0, -ENOMEM. */
int rules_book_new(const struct rules_params *params, const struct rules_note *notes, size_t n,
		   struct rules_book **ret);

/** NULL is fine; returns NULL. */
struct rules_book *rules_book_free(struct rules_book *b);

/** The notes that name @entry in their entry/entries (any kind), by index, up to @max into
 * @ret.  @return how many there are (may exceed @max). */
size_t rules_notes_naming(const struct rules_book *b, uint64_t entry, const struct rules_note **ret,
			  size_t max);

/** The case ids binding @entry, up to @max into @ret (pointers into the notes), each once.
 * @return how many there are. */
size_t rules_cases_of(const struct rules_book *b, uint64_t entry, const char **ret, size_t max);

/** The device annotation that attributes @c, a clip whose entry has no device (its name
 * matched no pattern of its zone): the newest `device` annotation naming it; NULL when @c has
 * a device of its own or none names it.  The rules see such a clip on that device (and with
 * its officer, when the entry has none) everywhere: status, timelines, reports. */
const struct rules_note *rules_clip_device(const struct rules_book *b, const struct rules_clip *c);

/** @c as the rules see it: its device and officer from rules_clip_device() when attributed.
 * @return the attributing annotation, or NULL (then *@ret is *@c). */
const struct rules_note *rules_clip_attributed(const struct rules_book *b,
					       const struct rules_clip *c, struct rules_clip *ret);

/* ---- one clip ---------------------------------------------------------------------------- */

struct rules_status {
	uint8_t storage_now; /* as logged, or RULES_ON_TIME_REMOTE after a declaration */
	bool late_open;	     /* late (now) and no late_storage names it */
	bool unknown_open;   /* unknown_time, not in the future, no late_storage */
	bool future_open;    /* time in the future, no late_storage */
	bool damaged_open;   /* damaged and no damage_report names it */
	const struct rules_note *remote_duty;	/* the declaration that reclassified it */
	const struct rules_note *late_storage;	/* the first late_storage naming it */
	const struct rules_note *damage_report; /* the first damage_report naming it */
	const struct rules_note *device_note;	/* the device annotation attributing it */
	bool no_device;				/* no device, not even by an annotation */
};

/** The status of @c now (docs/rules.md):
 *   - a clip without a device takes the one a device annotation attributes
 *     (rules_clip_device()); without either it is open as no_device in a review;
 *   - a clip logged late becomes on_time_remote when a remote_duty declaration of its device
 *     or officer covers its recording (from <= start, end <= to) and it was stored within
 *     storage_deadline of that declaration's returned_at (stored no later than returned_at +
 *     storage_deadline); declarations made after the upload count too;
 *   - late and unknown_time stay open until a late_storage annotation names the entry;
 *   - a recording time in the future (logged as unknown_time with time_in_future) is open
 *     under its own kind, closed the same way (the explanation says what the clock did);
 *   - a damaged entry is open until a damage_report names it.
 * Any thread. */
void rules_clip_status(const struct rules_book *b, const struct rules_clip *c,
		       struct rules_status *ret);

/* ---- continuity -------------------------------------------------------------------------- */

/* A clip on its device's timeline. */
struct rules_span {
	uint64_t index;
	int64_t start_us, end_us;
};

struct rules_gap {
	uint64_t after, before; /* the clips on either side (after: the one that ended last) */
	int64_t from_us, to_us; /* the end of @after, the start of @before */
	const struct rules_note *explained_by; /* an interruption annotation, or NULL */
};

/** Sort @spans by start, then index. */
void rules_sort_spans(struct rules_span *spans, size_t n);

/** The gaps on one device's timeline (docs/rules.md): @spans (times known, sorted with
 * rules_sort_spans()) are consecutive clips of @device; a gap is the time between the latest
 * end so far and the next start, when it is longer than split_tolerance (so overlapping clips
 * and a camera splitting its files leave none).  A gap is explained by an interruption
 * annotation of @device whose from..to covers it within split_tolerance at each end.  Writes
 * up to @n - 1 gaps into @ret.  @return their count. */
size_t rules_gaps(const struct rules_book *b, const char *device, const struct rules_span *spans,
		  size_t n, struct rules_gap *ret);

/* ---- the case review --------------------------------------------------------------------- */

#define RULES_VERDICT_LIST 5 /* entries named per kind in the verdict line, then "and N more" */

/** The rules' part of the review of @case_id (docs/review-format.md): "case", "complete",
 * "verdict", "open", "reservations", "devices" (clips with their status, explanations and the
 * other cases binding them; gaps with their explanations), from the case's clips @clips (@n,
 * each with its integrity checked or not).  Integrity other than ok (or unchecked) is open:
 * altered, missing, purged.  A clip without a device (none attributed) is open (no_device).  A
 * case without clips is incomplete ("no_clips").  The timeline of a device is the case's clips
 * of it: a clip of the device not bound to the case does not close a gap.  The verdict names
 * every reservation (what is closed but a reviewer must weigh: damaged files, explained late
 * or untimed clips, remote duty, explained gaps, attributed devices).  *@ret is a new object
 * (the caller's).  @return 0, -ENOMEM. */
int rules_review(const struct rules_book *b, const char *case_id, const struct rules_clip *clips,
		 size_t n, struct json_t **ret);

/** How many open items rules_review() would list for @clips (@n; integrity as each says, so
 * RULES_UNCHECKED counts none), without making the answer.  @return the count, or -ENOMEM. */
long rules_open_count(const struct rules_book *b, const struct rules_clip *clips, size_t n);

/* ---- reports ----------------------------------------------------------------------------- */

struct rules_report; /* an accumulator: feed it clips and accesses, then ask for the JSON */

/** A report over [@from_us, @to_us) (RULES_NOTIME for an open end).  A clip counts in the
 * period by its recording start, or its ingested_at when the time is unknown or in the future.
 * Open items listed are capped at @open_max (the totals count them all).  The book is
 * borrowed.  @return 0, -ENOMEM. */
int rules_report_new(const struct rules_book *b, int64_t from_us, int64_t to_us, size_t open_max,
		     struct rules_report **ret);

struct rules_report *rules_report_free(struct rules_report *r);

/** Count @c if it falls in the period (its strings must outlive @r), on its attributed device
 * (rules_clip_attributed()).  Its open items are listed as in a review, no_device only when a
 * case binds it (like a gap).  @return 0, -ENOMEM. */
int rules_report_clip(struct rules_report *r, const struct rules_clip *c);

/** Add @accesses allowed reads, @copy_outs of them copy-outs, and @refused refusals to the
 * totals (the caller counts those in the period: most accesses name no clip). */
void rules_report_accesses(struct rules_report *r, uint64_t accesses, uint64_t copy_outs,
			   uint64_t refused);

/** @accesses allowed reads in the period that named a clip of @device and @officer, @copy_outs
 * of them copy-outs that handed it over, and @refused refusals: counted in their rows (one
 * per access and clip).  @return 0, -ENOMEM. */
int rules_report_clip_accesses(struct rules_report *r, const char *device, const char *officer,
			       uint64_t accesses, uint64_t copy_outs, uint64_t refused);

/** Finish: continuity over each device's clips of the period (a gap counts as an interruption;
 * it is open when both its clips are bound to one case and nothing explains it), then the
 * object {"from","to","totals","devices","officers","open","open_truncated"}.  Call once.
 * @return 0, -ENOMEM. */
int rules_report_json(struct rules_report *r, struct json_t **ret);

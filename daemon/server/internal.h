#pragma once
/* Internals of the socket server, shared by the files of daemon/server/: server.c (transport,
 * limits, roles, dispatch), request.c (request fields, entries, times), read.c (status, entry,
 * proof, consistency, checkpoint, log), scrub.c, annotate.c, verify.c, copy.c (copy-out,
 * retention, purge), rules.c (review, report), history.c (one clip's chain of custody), index.c
 * (the in-memory index of annotations, claims and open items) and trail.c (the index's
 * duplicates and scrub passes, for histories).
 * Not an API: only daemon/server/ and the server's unit test include it.
 * Everything here runs on the loop thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "rules/rules.h"

struct cfg;
struct daemon;
struct err_detail;
struct json_t;
struct server;
struct srv_client;
struct srv_vcache;
struct store;
struct rules_book;
struct rules_note;
struct tlog;

/* ---- limits ------------------------------------------------------------------------------ */

#define SRV_MAX_DEPTH 64 /* JSON nesting of a request, checked before parsing */
#define SRV_MAX_PENDING_OUT                                                                        \
	(8u << 20)			       /* queued reply bytes per client; beyond: closed    \
						* (one larger reply may be queued at a time beside \
						* them: a review of 10,000 clips is larger) */
#define SRV_OPERATOR_RESERVE(max) ((max) / 16) /* of max_clients, places kept for operators */
#define SRV_TARGET_MAX 256		       /* a refused request's target: longer is null */
/* Indexes in one access entry's "entries" (at most 20 bytes each written: 40,000 bytes, the
 * rest of the entry being bounded well under 25,000): a longer list is recorded in parts
 * (srv__access(), docs/log.md). */
#define SRV_ACCESS_ENTRIES_MAX 2000
#define SRV_SCAN_MAX 100000 /* entries one `log` request may look at */
#define SRV_LOG_LIMIT 100   /* `log` entries returned by default */
#define SRV_LOG_LIMIT_MAX 1000
#define SRV_LOG_REPLY_MAX (4u << 20) /* entry bytes in one `log` reply */
#define SRV_SLICE_NS (1000 * 1000)   /* loop time per background slice (index, log scans) */
#define SRV_TAIL_MS 1000	     /* how often the index looks for new entries */
#define SRV_REFUSALS_PER_S 10	     /* refusals recorded as access entries, per second */
#define SRV_REFUSALS_PER_CLIENT 16   /* and per connection */
#define SRV_NOTES_MAX 100	     /* annotations returned with a verified clip */

/* ---- roles (docs/protocol.md) ------------------------------------------------------------ */

enum {
	SRV_OPERATOR = 1u << 0,
	SRV_REVIEWER = 1u << 1,
	SRV_AUDITOR = 1u << 2,
	SRV_APPROVER = 1u << 3,
};
#define SRV_NROLES 4
#define SRV_ROLE_GROUPS_MAX 8 /* group names per role in the config */
#define SRV_READERS (SRV_OPERATOR | SRV_REVIEWER | SRV_AUDITOR | SRV_APPROVER)

struct srv_role_gids {
	gid_t gid[SRV_NROLES][SRV_ROLE_GROUPS_MAX];
	unsigned n[SRV_NROLES];
};

struct srv_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups (SO_PEERGROUPS), malloc()'d */
	size_t ngroups;
};

/** The roles of @peer: uid 0 and @self_uid (the daemon's own user) are operators; every role
 * whose group is the peer's primary or one of its supplementary groups.  Pure. */
unsigned srv__roles(const struct srv_role_gids *map, const struct srv_peer *peer, uid_t self_uid);

/** Resolve the group names of @cfg's [socket] roles (each a list separated by commas or
 * spaces) into gids with getgrnam_r().  A group that does not exist gives nobody that role: it
 * is named in @warn (if not NULL), not an error.  @return 0, -EINVAL (more than
 * SRV_ROLE_GROUPS_MAX names, or a name too long), -ENOMEM, -EIO. */
int srv__roles_resolve(const struct cfg *cfg, struct srv_role_gids *ret, char *warn, size_t warnlen,
		       struct err_detail *reterr);

/** "operator,reviewer" for @roles into @buf ("none" when 0). */
const char *srv__role_names(unsigned roles, char *buf, size_t len);

/** The peer credentials of the connected socket @fd: SO_PEERCRED, then SO_PEERGROUPS. */
int srv__peer_credentials(int fd, struct srv_peer *ret, struct err_detail *reterr);

/* ---- the index (daemon/server/index.c)
 * ------------------------------------------------------------- */

enum srv_note_kind {
	SRV_NOTE_INTERRUPTION = 1,
	SRV_NOTE_LATE_STORAGE,
	SRV_NOTE_REMOTE_DUTY,
	SRV_NOTE_DAMAGE_REPORT,
	SRV_NOTE_CASE,
	SRV_NOTE_APPROVAL,
	SRV_NOTE_HOLD,	 /* "hold": entries, reason (retention) */
	SRV_NOTE_DEVICE, /* "device": entry, device, officer?, reason (a clip without one) */
};

/* An annotation, as far as the server needs it to find what it concerns and to apply the
 * rules (rules/rules.h: the kinds have the same numbers).  Strings are malloc()'d, NULL when
 * absent; times INT64_MIN when absent. */
struct srv_note {
	uint64_t index; /* of the annotation entry in the log */
	uint8_t kind;
	uint32_t nentries;
	uint64_t *entries;	/* entry (late_storage, damage_report) or entries (case, approval,
				 * hold) */
	char *device;		/* interruption, remote_duty, case (when bound by device and time),
				 * device */
	char *officer;		/* remote_duty, device */
	int64_t from_us, to_us; /* interruption, remote_duty, case (by device and time) */
	char *case_id;		/* case: "case" */
	char *grantee;		/* approval */
	char *purpose;		/* approval */
	char *reason;		/* interruption, late_storage, hold, device: "reason";
				 * damage_report: "explanation" */
	char *by;		/* who recorded it (every kind) */
	int64_t at_us;		/* when (every kind) */
	int64_t expires_us;	/* approval */
	int64_t returned_us;	/* remote_duty: returned_at */
};

/* Access refs kept per clip.  Every access is an entry in the log, which keeps them all; the
 * index keeps what a review lists within memory that does not grow with the number of reads,
 * only with the number of clips: a reader who verifies one clip a million times costs 64 refs,
 * not a million.  Each kind has its own chain, so that no kind pushes out another: refusals
 * (which anyone with the socket can make, 10 a second) cannot hide who read the clip, and
 * reads cannot hide who copied it out. */
enum srv_ref_kind {
	SRV_REF_READ = 0,    /* allowed, and not a copy-out that handed the original over */
	SRV_REF_REFUSED = 1, /* "allowed":false */
	SRV_REF_COPIED = 2,  /* a copy-out "result":"copied": every one is kept (each needed an
			      * operator or an approval, and wrote the whole original out) */
	SRV_REFS_KINDS = 3
};
#define SRV_CLIP_READS_MAX 64	/* SRV_REF_READ refs kept per clip, the newest */
#define SRV_CLIP_REFUSED_MAX 16 /* SRV_REF_REFUSED refs kept per clip, the newest */

/* An original: one per ingest or damaged entry, in x->clips sorted by index (136 bytes
 * each; the file name and the other fields are in the entry).  Devices, officers and zones
 * are interned strings: srv__index_str(). */
struct srv_clip {
	uint64_t index;
	int64_t start_us, end_us; /* recorded_start, recorded_end; INT64_MIN when unknown */
	int64_t duration_us;	  /* INT64_MIN when unknown */
	int64_t ingested_us;	  /* ingested_at */
	int64_t deadline_us;	  /* INT64_MIN when the entry has none */
	uint64_t size;
	uint8_t sha256[32];
	uint32_t device, officer, zone; /* srv__index_str() ids, 0 when null */
	struct {
		uint32_t first, last; /* its oldest and newest ref of the kind kept:
				       * x->access_refs[first - 1]; 0 when none */
	} refs[SRV_REFS_KINDS];	      /* by enum srv_ref_kind */
	uint32_t accesses;	      /* access refs that named it in all (saturates) */
	uint8_t kept[SRV_REF_COPIED]; /* refs kept of the capped kinds */
	uint8_t storage;	      /* enum rules_storage, as logged */
	bool damaged;		      /* a damaged entry */
	bool future;		      /* time_in_future */
	bool purged;		      /* a later {"type":"purge","entry":N} names it */
};

/* An access entry that named a clip (its target, "sha256:HEX" of an original, or its
 * "entries" list): one per (access, clip), chained per clip and kind, oldest first.  28 bytes.
 * A ref pushed out of its clip's newest of its kind is dead (clip UINT32_MAX) until the array
 * is compacted. */
struct srv_access_ref {
	uint32_t access; /* index of the access entry */
	uint32_t clip;	 /* position in x->clips */
	uint32_t newer;	 /* the next ref to the same clip of its kind, + 1; 0 when none */
	uint32_t at_s;	 /* its "at", seconds since the epoch */
	uint32_t by;	 /* srv__index_str() ids */
	uint32_t op;	 /* srv__index_str() id */
	bool allowed;
	bool copied; /* op "copy-out" with "result":"copied": the original was handed over */
};

/* Access entries per UTC day, for reports. */
struct srv_access_day {
	int32_t day;	    /* days since 1970-01-01 */
	uint32_t accesses;  /* allowed */
	uint32_t copy_outs; /* allowed, op "copy-out" */
	uint32_t refused;   /* "allowed":false */
};

/* Accesses that named a clip, one per (access, clip), per UTC day and the clip's device and
 * officer: the report's device and officer rows, whatever refs were let go.  24 bytes. */
struct srv_access_tally {
	int32_t day;
	uint32_t device, officer;	       /* srv__index_str() ids, 0 when null */
	uint32_t accesses, copy_outs, refused; /* as in struct srv_access_day */
};

/* Claim keys: what an ingested original is known by, for `verify`'s `altered`. */
enum srv_claim {
	SRV_CLAIM_NAME = 1,    /* the file name without folders */
	SRV_CLAIM_DEVTIME = 2, /* device + recorded_start */
	SRV_CLAIM_TAGS = 3,    /* creation_time + make + model + serial tags */
	SRV_CLAIM_NOTE = 4,    /* an entry index -> annotations that name it */
	SRV_CLAIM_SHA = 5,     /* the 32-byte SHA-256 of an original -> its entries */
};

struct srv_slot {
	uint32_t tag; /* 32 bits of the key's keyed hash; 0 = empty */
	uint32_t value;
};

/* A case id some case annotation names, and when it was last reviewed (for `cases`). */
struct srv_case_seen {
	uint32_t id;	     /* the case id, srv__index_str() */
	int64_t reviewed_us; /* "at" of the newest review answered ("allowed", no "result"),
			      * INT64_MIN when none */
};

/* What a clip's history needs from the log beyond the rest of the index: the `duplicate`
 * entries and the `scrub` passes (daemon/server/trail.c, fed by the index's scan). */
struct srv_dup {
	uint32_t index; /* the duplicate entry */
	uint32_t of;	/* the entry in force whose bytes arrived again */
};

/* A `scrub` entry (one part of a pass, docs/log.md), as a history looks at it.  56 bytes. */
struct srv_scrub_part {
	uint64_t index;		/* of the scrub entry */
	int64_t started_us;	/* the pass's started_at (with parts, which pass it belongs to) */
	uint64_t log_size;	/* the pass covered the entries below it */
	uint64_t lo, hi;	/* the smallest and largest index the part lists as missing or
				 * altered; lo > hi when it lists none */
	uint32_t part, parts;	/* 1 and 1 for a pass logged whole */
	uint32_t purges_before; /* clean passes: trail.purges when it was indexed */
	bool unlisted;		/* the pass counted failures beyond its lists */
};

struct srv_trail {
	struct srv_dup *dups; /* by index */
	size_t ndups, capdups;
	struct srv_scrub_part *failed; /* parts of passes that found something wrong, by index */
	size_t nfailed, capfailed;
	struct srv_scrub_part *clean; /* passes that found nothing wrong, by index: only those a
				       * later one does not supersede (trail.c) */
	size_t nclean, capclean;
	uint32_t purges; /* purge entries seen (saturates) */
};

struct srv_index {
	uint64_t scanned; /* entries [0, scanned) are indexed */
	bool caught_up;	  /* scanned reached the log's size at least once */
	uint8_t hkey[16]; /* SipHash key, random per process: file names are not ours to choose */
	struct srv_slot *slots;
	size_t nslots, used;	/* nslots a power of two, or 0 */
	struct srv_note *notes; /* sorted by index */
	size_t nnotes, capnotes;
	uint64_t *open_storage;	    /* ingest entries stored late or with unknown time, sorted */
	uint8_t *open_storage_late; /* 1 late, 0 unknown_time, beside open_storage */
	size_t nopen, capopen;
	uint64_t *damaged; /* damaged entries, sorted */
	size_t ndamaged, capdamaged;
	uint64_t ingests;	/* ingest + damaged entries seen */
	uint64_t skipped;	/* entries that could not be indexed (index >= 2^32, unparsable) */
	struct srv_clip *clips; /* every ingest and damaged entry, sorted by index */
	size_t nclips, capclips;
	struct srv_access_ref *access_refs; /* in log order */
	size_t naccess_refs, capaccess_refs;
	size_t dead_refs;		    /* of which let go (struct srv_access_ref) */
	struct srv_access_day *access_days; /* sorted by day */
	size_t naccess_days, capaccess_days;
	struct srv_access_tally *tallies; /* sorted by day, device, officer */
	size_t ntallies, captallies;
	size_t tally_hint; /* the last one counted: a flood of reads hits the same one */
	char **strs;	   /* interned strings: strs[id - 1] */
	size_t nstrs, capstrs;
	uint32_t *str_slots; /* hash of the strings: ids, 0 = empty; a power of two, or 0 */
	size_t nstr_slots;
	struct srv_case_seen *cases; /* sorted by id */
	size_t ncases, capcases;
	struct srv_trail trail; /* duplicates and scrub passes, for histories (trail.c) */
};

/** Make room in the growing array *@p (*@cap elements of @size bytes) for @need elements,
 * doubling its capacity.  Any thread, on its own arrays.  @return 0, -ENOMEM (*@p unchanged). */
int srv__grow(void **p, size_t *cap, size_t need, size_t size);

int srv__index_init(struct srv_index *x);
void srv__index_done(struct srv_index *x);

/** Index the entries from x->scanned until the log's size, or until uv_hrtime() passes
 * @deadline_ns.  @return 1 when more remain, 0 when caught up, -errno (tlog) with @reterr. */
int srv__index_step(struct srv_index *x, struct tlog *log, uint64_t deadline_ns,
		    struct err_detail *reterr);

/** Index one entry (its bytes); entries must come in increasing index order, except that
 * srv__index_add_note() may have added an annotation ahead of the scan.  @return 0, -ENOMEM. */
int srv__index_entry(struct srv_index *x, uint64_t index, const char *bytes, size_t len);

/** The access entry @entry (an object) that the server appended was committed at @index:
 * index it from the object when the scan stands at @index (which it then passes), so that
 * the scan does not read and parse it back; otherwise do nothing.  @return 0, -ENOMEM. */
int srv__index_own_access(struct srv_index *x, uint64_t index, const struct json_t *entry);

/** Parse the annotation entry @entry into @ret (index 0).  @return 0, -EBADMSG (not an
 * annotation with a known kind), -ENOMEM. */
int srv__note_parse(const struct json_t *entry, struct srv_note *ret);
void srv__note_done(struct srv_note *n);

/** Add @n (its contents are taken) as the annotation at @index; ignored when already there. */
int srv__index_add_note(struct srv_index *x, uint64_t index, struct srv_note *n);

/** The note at @index, or NULL. */
const struct srv_note *srv__index_note(const struct srv_index *x, uint64_t index);

/** The claim key for @kind and @key (@len bytes): up to @max candidate values (entry indexes,
 * or for SRV_CLAIM_NOTE annotation indexes) into @ret.  Candidates share 32 hash bits with
 * the key and must be confirmed by the caller.  @return their count. */
size_t srv__index_claims(const struct srv_index *x, unsigned kind, const void *key, size_t len,
			 uint64_t *ret, size_t max);

/** The annotations concerning the ingest entry @entry_index whose device, officer and
 * recording span are given (NULL / INT64_MIN when unknown): those that name it, and the
 * interruptions and remote-duty declarations of its device or officer overlapping its span
 * widened by @margin_us.  Up to @max note pointers into @ret, by index.  @return the count. */
size_t srv__index_concerning(const struct srv_index *x, uint64_t entry_index, const char *device,
			     const char *officer, int64_t start_us, int64_t end_us,
			     int64_t margin_us, const struct srv_note **ret, size_t max);

/** Open compliance items: ingest entries stored late (and not reclassified by a remote_duty
 * declaration under @storage_deadline_us) or with unknown time, not explained by a
 * late_storage annotation; damaged entries without a damage_report.  Future times count as
 * unknown here (report --open tells them apart). */
void srv__index_open(const struct srv_index *x, int64_t storage_deadline_us, uint64_t *ret_late,
		     uint64_t *ret_unknown, uint64_t *ret_damaged);

/** Whether an annotation of @kind names @entry. */
bool srv__index_explained(const struct srv_index *x, uint64_t entry, uint8_t kind);

/** Keep what a history needs of the `duplicate`, `scrub` or `purge` entry @o (@type, its
 * top-level type) at @index in x->trail (daemon/server/trail.c); called by the index's scan, in
 * index order.  Entries at or below one already kept are ignored, so that an entry indexed
 * again is kept once.  @return 0, -ENOMEM. */
int srv__trail_entry(struct srv_index *x, uint64_t index, const char *type, const struct json_t *o);
void srv__trail_done(struct srv_trail *t);

/** The duplicate entries whose "of" is @entry, by index: up to @max into @ret.  One pass over
 * them.  @return how many there are (may exceed @max). */
size_t srv__trail_dups(const struct srv_trail *t, uint64_t entry, uint64_t *ret, size_t max);

/** The clip of entry @index, or NULL when that entry is not an ingest or damaged entry (or is
 * not indexed yet).  Valid until the index changes (the next entry indexed). */
const struct srv_clip *srv__index_clip(const struct srv_index *x, uint64_t index);

/** The position of the clip of entry @index in x->clips, or -1. */
ssize_t srv__index_clip_pos(const struct srv_index *x, uint64_t index);

/** When case @case_id was last reviewed (the newest `review` access entry answered),
 * INT64_MIN when never or when no case annotation names it. */
int64_t srv__index_last_review(const struct srv_index *x, const char *case_id);

/** The interned string @id (a device, officer, zone, user, op or case id), NULL for 0.  Valid as
 * long as the index (never moved or freed before srv__index_done()). */
const char *srv__index_str(const struct srv_index *x, uint32_t id);

/** The id of @s when interned, else 0 (no clip, access or note carries it). */
uint32_t srv__index_str_find(const struct srv_index *x, const char *s);

/** The key of the SRV_CLAIM_TAGS claim from an entry's "tags" object (or a fingerprint's):
 * "creation_time\0make\0model\0serial" into @buf.  @return its length, 0 when there is no
 * creation_time. */
size_t srv__tags_key(const struct json_t *tags, char *buf, size_t cap);

/** The last path component of @name. */
const char *srv__basename(const char *name);

/** Whether a case bound by device and time (annotate case --device D --from T --to T) binds
 * the clip @c: a clip of @device (a srv__index_str() id; 0 binds nothing) with a trustworthy
 * recording time (known, not in the future) that overlaps [@from_us, @to_us] (a clip whose end
 * is unknown: its start).  The one rule: daemon/server/annotate.c lists the clips it binds when the
 * case is annotated, and a review (daemon/server/rules.c) adds those of that time stored since. */
static inline bool srv__case_span_binds(const struct srv_clip *c, uint32_t device, int64_t from_us,
					int64_t to_us)
{
	int64_t end = c->end_us != INT64_MIN ? c->end_us : c->start_us;

	return device && c->device == device && c->start_us != INT64_MIN && !c->future &&
	       c->start_us <= to_us && end >= from_us;
}

/* ---- server and clients ------------------------------------------------------------------ */

struct srv_scan;     /* a `log` request in progress (daemon/server/read.c) */
struct srv_fd_reply; /* a reply waiting to carry a descriptor (server.c, srv__reply_fd()) */
struct srv_user;     /* the connections one uid holds, for max_clients_per_user (server.c) */

#define SRV_USER_BUCKETS                                                                           \
	256 /* chains of s->users: 16 uids each on average at worst                                \
	     * (max_clients 4096, each of its own uid) */

struct srv_client {
	struct server *s;
	struct srv_client *prev, *next; /* s->clients */
	uv_pipe_t pipe;
	uv_timer_t idle;
	unsigned handles; /* open libuv handles: freed when 0 and refs is 0 */
	unsigned refs;	  /* callbacks that will still name this client (annotate commits) */
	bool closing;
	bool rejected; /* over max_clients: told "busy", then closed */
	bool busy;     /* a request is being answered asynchronously: reading paused */
	bool in_op;    /* inside an operation's function */
	bool reading;
	bool close_after_write;
	bool eof;  /* the peer shut down its side: answer what it sent, then close */
	char *buf; /* received bytes not yet taken as requests */
	size_t start, len, cap;
	size_t pending_out; /* bytes queued in uv_write()s */
	size_t big_out;	    /* of which a reply larger than SRV_MAX_PENDING_OUT, or 0 */
	struct srv_peer peer;
	unsigned roles;
	char by[128]; /* "alice(uid 1001)" */
	unsigned refusals;
	struct json_t *req_id; /* the "id" of the request being answered, or NULL */
	struct srv_scan *scan;
	struct srv_fd_reply *fd_reply;
	struct srv_user *user; /* its uid's count, once it is taken (never when rejected) */
	int unrecorded; /* the read being answered could not be recorded: its -errno, else 0 */
	uint64_t serial;
};

struct server {
	struct daemon *d;
	uv_pipe_t listener;
	uv_idle_t bg;	  /* background slices: the index and `log` scans */
	uv_timer_t tail;  /* looks for new entries for the index */
	unsigned handles; /* open handles of the server itself */
	bool listening;
	bool closing;
	char path[108];
	struct srv_client *clients;
	size_t nclients, nrejecting;
	struct srv_user *users[SRV_USER_BUCKETS]; /* by uid hash: every uid with a client */
	size_t nusers;				  /* records in users[] */
	size_t allocated;			  /* client structs not yet freed */
	uint64_t serial;
	unsigned pending;	/* annotate commits in flight (their callbacks name the server) */
	unsigned keeps_pending; /* case and hold annotations among them: a purge waits for
				 * them (daemon/server/copy.c) */
	void (*done)(void *opaque);
	void *opaque;

	/* Roles, resolved from this cfg; re-resolved when d->cfg changes (SIGHUP). */
	const struct cfg *roles_cfg;
	struct srv_role_gids roles;
	uid_t self_uid;
	/* How to learn a peer's credentials: srv__peer_credentials(); tests substitute theirs. */
	int (*peercred)(int fd, struct srv_peer *ret, struct err_detail *reterr);

	/* Refusals recorded per second (a flood of them must not flood the log). */
	uint64_t refusal_second;
	unsigned refusals_this_second;
	uint64_t refusals_unrecorded;

	/* Counters since start, for `status`. */
	uint64_t requests, errors, refusals, accepted, busy_rejects;
	uint64_t started_ns; /* uv_hrtime() at the daemon's start, for uptime_s: the wall
			      * clock may step */
	char last_error[256];
	uint64_t last_error_us;
	bool index_failed; /* the last index step failed (logged once) */

	struct srv_index idx;
	struct srv_vcache
	    *vcache;	      /* verify's cache of immutable answers (daemon/server/verify.c) */
	uint64_t duties_next; /* remote_duty notes below this index were given to the pipeline */
};

/* ---- helpers for the operations ---------------------------------------------------------- */

/* An operation: answers @req (a JSON object) for @c.  @return 0 when answered (or when the
 * answer will come asynchronously: the operation called srv__hold()), or -errno with @reterr,
 * which the dispatcher turns into the error reply. */
typedef int (*srv_op_fn)(struct srv_client *c, struct json_t *req, struct err_detail *reterr);

int srv__op_status(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_entry(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_proof(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_consistency(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_checkpoint(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_log(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_annotate(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_verify(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_review(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_report(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_cases(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_copy_out(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_retention(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_purge(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_scrub(struct srv_client *c, struct json_t *req, struct err_detail *reterr);
int srv__op_history(struct srv_client *c, struct json_t *req, struct err_detail *reterr);

/** Whether the case or hold annotation @note, about to be appended, binds an entry whose purge
 * is in flight (asked, not yet committed; daemon/server/copy.c): then -EAGAIN (`unavailable`, "try
 * again") with the entry in @reterr, so that the purge and the annotation cannot cross.  0
 * otherwise, and for other kinds. */
int srv__purge_conflict(struct server *s, const struct srv_note *note, struct err_detail *reterr);

/** Send @body (an object, stolen; NULL means out of memory) with "ok":true and the request's
 * "id". */
void srv__reply(struct srv_client *c, struct json_t *body);

/* Reply text built by appending, for members spliced into a reply as they are: log entries
 * are canonical JSON (checked when appended), so a reply can carry their bytes without
 * parsing and re-serialising them, which is most of the cost of a `verify` or a `log`. */
struct srv_text {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory: the reply becomes an error */
};

void srv__text_add(struct srv_text *t, const char *s, size_t n);
void srv__text_addf(struct srv_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv__text_done(struct srv_text *t);

/** srv__reply() with @tail (members `,"key":JSON…`, or empty) spliced in before the closing
 * brace.  @body is stolen; @tail stays the caller's. */
void srv__reply_tail(struct srv_client *c, struct json_t *body, const struct srv_text *tail);

/** srv__reply() with the descriptor @fd (taken: closed once sent, or when the client goes)
 * passed alongside with SCM_RIGHTS, then srv__release(@c) once the reply has left; @c must be
 * held (srv__hold()).  A client that does not take the reply within idle_timeout is closed. */
void srv__reply_fd(struct srv_client *c, struct json_t *body, int fd);

/** Send the error reply for (@r, @e). */
void srv__reply_error(struct srv_client *c, int r, const struct err_detail *e);

/** srv__reply_error() with the members of @extra (an object, stolen; NULL for none) added to
 * the error object beside code, errno, name and message, which it cannot replace. */
void srv__reply_error_with(struct srv_client *c, int r, const struct err_detail *e,
			   struct json_t *extra);

/** The error code word of a negative errno: "bad_request", "not_found"… */
const char *srv__error_code(int r);

/** Record an `access` entry for @c's request @op on @target (stolen; may be NULL), with the
 * extra fields of @extra (an object, stolen, may be NULL).  Not waited for. */
void srv__access(struct srv_client *c, const char *op, struct json_t *target, struct json_t *extra,
		 bool allowed);

/** Answer asynchronously: pause reading until srv__release(). */
void srv__hold(struct srv_client *c);
/** The asynchronous answer was sent: take the next request. */
void srv__release(struct srv_client *c);

void srv__client_ref(struct srv_client *c);
void srv__client_unref(struct srv_client *c);

/** Index what the log gained since the last slice, for at most SRV_SLICE_NS, once the first
 * pass is done (before then, the background slices are on it). */
void srv__index_catch_up(struct server *s);

/** Give the pipeline the remote_duty declarations indexed since the last call (see
 * pipe_remote_duty()), once the index has caught up. */
void srv__duties_push(struct server *s);

/** Make sure the background slices run (the index is behind, or a scan started). */
void srv__bg_kick(struct server *s);

/** One slice of @c's `log` scan, until @deadline_ns.  @return true while it goes on. */
bool srv__scan_step(struct srv_client *c, uint64_t deadline_ns);
void srv__scan_free(struct srv_scan *scan);

/* Request fields.  Each returns 0, -ENOENT when absent and optional (@ret untouched), or
 * -EINVAL with a message naming the field. */
int srv__req_index(const struct json_t *req, const char *key, bool required, uint64_t *ret,
		   struct err_detail *reterr);
int srv__req_string(const struct json_t *req, const char *key, bool required, size_t max,
		    const char **ret, struct err_detail *reterr);

/** Parse an RFC 3339 time with an explicit zone ("Z" or an offset) into µs since the epoch.
 * @return 0 or -EINVAL. */
int srv__parse_time(const char *s, int64_t *ret_us);

/** Every annotation of the index as a rules_note (pointing into the index's notes, which are
 * never freed while the server lives) in *@ret_notes, and their book under the config's rules
 * in *@ret_book; both the caller's.  Loop thread (it reads the index).  @return 0, -ENOMEM. */
int srv__make_book(const struct server *s, struct rules_note **ret_notes,
		   struct rules_book **ret_book);

/** Re-hash the original @entry (an ingest or damaged entry) names from @store and compare it
 * with the entry's sha256 and size: RULES_INTACT, RULES_ALTERED, or RULES_MISSING (not in the
 * store, unreadable, or no stored original named) with why in @err (@errlen bytes).  Blocking:
 * the pool only (about 1 s per GB). */
unsigned srv__check_original(struct store *store, const json_t *entry, char *err, size_t errlen);

/** @us as an RFC 3339 UTC JSON string, or JSON null when it is INT64_MIN (unknown).  Any
 * thread.  NULL only when out of memory. */
json_t *srv__jtime(int64_t us);

/** The checkpoint a proof of entry @index is made against when the asker names none: the
 * served one (with its witnesses' quorum, docs/witness.md) when it covers @index, else the
 * newest signed.  *@ret_witnessed says whether it has the quorum (always true when none is
 * configured).  @return 0, -ENOENT (no such entry), -EAGAIN (not yet covered by a signed
 * checkpoint: the message says to ask again), or a tlog error. */
int srv__proof_size(struct server *s, uint64_t index, uint64_t *ret_size, bool *ret_witnessed,
		    struct err_detail *reterr);

/** The tlog-proof@v1 text of entry @index against the checkpoint of @size (TLOG_NEWEST: as
 * srv__proof_size() chooses), malloc()'d into @ret, its size into @ret_size.  @return 0, the
 * errors of srv__proof_size(), -ENOENT (no checkpoint at @size), -EINVAL (@size does not
 * cover @index), or a tlog error. */
int srv__proof(struct server *s, uint64_t index, uint64_t size, char **ret, uint64_t *ret_size,
	       struct err_detail *reterr);

/** Free the server's verify cache (daemon/server/verify.c); NULL is fine. */
void srv__vcache_free(struct srv_vcache *vc);

/** Parse the log entry @bytes into a JSON object; NULL when it does not parse. */
struct json_t *srv__entry_json(const char *bytes, size_t len);

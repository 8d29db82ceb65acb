#pragma once
/* The daemon's configuration (docs/config.md): one INI file, parsed by inih, every key in one table
 * with its default and bounds (after Redis config.c's static_configs[]).  Unknown sections and
 * keys are errors; errors cite file:line.  Used by custodyd (at start and on SIGHUP) and by
 * custodyctl (socket path, verifier key).  Reentrant; a struct cfg is immutable once loaded,
 * so a reload builds a new one and swaps it in. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err_detail;

enum cfg_zone_kind {
	CFG_ZONE_DOCK,
	CFG_ZONE_UPLOAD,
};

struct cfg_zone {
	char *name;		    /* the section's name: [zone NAME] */
	char *path;		    /* required; absolute, stored without '//' or a final '/' */
	enum cfg_zone_kind kind;    /* default dock */
	uint64_t settle_ms;	    /* default 5 s */
	char *name_pattern;	    /* NULL when unset */
	unsigned name_pattern_line; /* for file:line errors when the daemon validates it */
	char *device_clock;	    /* NULL: [rules] device_clock applies */
	uint64_t retention_ms;	    /* 0 = kept forever; meaningful only when retention_line */
	unsigned retention_line;    /* 0: unset, [retention] default applies */
};

/* [witness NAME]: an independent party that cosigns the log's checkpoints (docs/witness.md). */
struct cfg_witness {
	char *name;    /* the section's name */
	char *url;     /* required: submission prefix, http(s)://host[:port][/path], no final '/' */
	char *key;     /* required: its cosignature/v1 verifier key, shape checked only here */
	unsigned line; /* of its [witness NAME] line, for custodyd's errors about the key */
};

#define CFG_WITNESS_MAX 32

/* Paths (key, verifier_key, state, store_path, zone paths, socket_path) are absolute, without
 * '.' or '..' components, and stored normalised: "//a//b/" becomes "/a/b".  Time zones
 * (device_clock) are "UTC" or the name of a TZif file under /usr/share/zoneinfo ($TZDIR, as
 * glibc). */

struct cfg {
	char *file; /* the path it was loaded from */

	/* [log] */
	char *origin;	    /* required */
	char *key;	    /* required: the signer key file */
	char *verifier_key; /* default /etc/custody/log.pub */
	char *state;	    /* default /var/lib/custody: <state>/log (LMDB), <state>/checkpoint */
	uint64_t checkpoint_interval_ms; /* default 10 s */
	unsigned witness_quorum;	 /* cosignatures a checkpoint needs, default 0: none */
	uint64_t witness_timeout_ms;	 /* ALERT when the newest waits longer, default 1 h */

	/* [store] */
	char *store_path; /* default /var/lib/custody/store */
	uint64_t
	    scrub_interval_ms; /* a full re-hash of the store this often, default 7 d; 0: never */
	uint64_t scrub_rate;   /* bytes per second the scrubber reads at most, default 100 MiB */

	/* [zone NAME], in file order */
	struct cfg_zone *zones;
	size_t nzones;

	/* [rules] */
	uint64_t storage_deadline_ms; /* default 24 h */
	char *device_clock;	      /* default "UTC" */
	uint64_t split_tolerance_ms;  /* default 3 s */
	uint64_t clock_skew_ms;	      /* default 10 min */

	/* [ingest] (custody's own keys, documented in conf/custody.conf) */
	unsigned workers;	     /* concurrent ingests, default 2, 1..16 */
	uint64_t rescan_interval_ms; /* full rescan of every zone, default 60 s */
	uint64_t probe_timeout_ms;   /* a probe child running longer is killed, default 10 min */
	unsigned max_streams;	     /* default 16 (ING_LIMITS_INIT) */
	uint64_t max_packets;	     /* default 20,000,000 (ING_LIMITS_INIT) */

	/* [socket] */
	char *socket_path; /* default /run/custody/custody.sock */
	char *operators;   /* group names per role, comma-separated ("a,b", no spaces around */
	char *reviewers;   /* commas); defaults custody-ops, custody-review, custody-audit, */
	char *auditors;
	char *approvers;	       /* custody-approve */
	unsigned max_clients;	       /* default 256 */
	unsigned max_clients_per_user; /* of them from one uid, default 32 (or max_clients when
					* that is smaller); 0: no per-user limit */
	uint64_t idle_timeout_ms;      /* default 60 s */
	uint64_t max_request_bytes;    /* default 1 MiB, 1 KiB..16 MiB; written N, NKiB, NMiB */

	/* [retention] */
	uint64_t retention_default_ms; /* default 183 d (6 months); 0: kept forever */

	/* [publish] (docs/publication.md) */
	char *publish_path;   /* NULL (the default): nothing is published */
	bool publish_entries; /* default no: hash tiles only */

	/* [witness NAME], in file order, at most CFG_WITNESS_MAX */
	struct cfg_witness *witnesses;
	size_t nwitnesses;

	/* [display] (custodyctl's: docs/i18n.md) */
	char *display_timezone; /* NULL (the default): the machine's zone */
};

#define CFG_DEFAULT_FILE "/etc/custody/custody.conf"

/** Load and validate @path.  On failure -EINVAL (or -ENOENT/-EACCES/-EIO/-ENOMEM) with
 * "@path:LINE: what is wrong" in @reterr->msg and the line in @reterr->line; only the first
 * error is reported.  The line is 0 ("@path: what is wrong") when the error is about the file
 * as a whole: a [log] key required but missing, no zone, the file unreadable.  A zone without
 * its path cites the zone's [zone NAME] line.  When two places conflict (two zones with one
 * path, a zone inside the store) it cites the later of the two lines, and the message names
 * both keys with both lines ("(line 6)", or "(default)" for a key left unset).
 * Checks: known sections and keys only, each section and each key at most once (zones by
 * name); inih syntax; durations as N with s/m/h/d within bounds; integers within
 * bounds; kind dock|upload; device_clock a known time zone; required keys present; paths
 * absolute; zone paths distinct and not nested, not inside the store or state (nor those
 * inside a zone), and no key file or socket inside a zone; at least one zone; [socket]
 * max_clients_per_user at most max_clients (left unset, it is lowered to a smaller
 * max_clients; set, a larger one is an error at the later of the two lines); [publish] path
 * outside the store and every zone, and neither the store, the state folder nor a zone inside
 * it; witnesses (by name) with an http(s) URL and a key of the verifier key's shape, no key
 * twice, and witness_quorum at most their number.  The checks are
 * lexical: paths are not required to exist, and symlinks are the daemon's to check when it
 * starts.  Reentrant.  Caller owns *@ret (cfg_free()); *@ret is untouched on failure. */
int cfg_load(const char *path, struct cfg **ret, struct err_detail *reterr);

/** Free a config; NULL is fine; returns NULL. */
struct cfg *cfg_free(struct cfg *cfg);

/** Parse a duration "10s", "5m", "24h", "2d" (also "0"): decimal digits and one unit, nothing
 * else (no sign, space, fraction or compound "1h30m").  @return 0 or -EINVAL (also on
 * overflow); *@ret_ms is written only on success. */
int cfg_parse_duration(const char *s, uint64_t *ret_ms);

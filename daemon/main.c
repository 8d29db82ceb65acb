/* custodyd: the unattended daemon (docs/programs.md).
 *
 * main() loads the config, opens the log (creating it on the first start, and refusing to
 * start when it is missing or does not extend the published checkpoint: open_log()), the
 * store, the pipeline, the drop-zone watch and the socket, tells systemd READY=1 and runs the
 * loop.
 * Signals arrive as uv_signal_t on the loop: SIGHUP reloads zones, roles and intervals (the old
 * config stays allocated until exit, because ingests in flight on worker threads still read
 * it); SIGTERM and SIGINT stop taking files, let the pipeline finish what is in flight, commit,
 * sign a checkpoint, and exit 0.  Startup errors are fatal (exit 2 before READY=1); errors
 * after that are logged and the daemon keeps running.
 *
 * Language (docs/i18n.md): the journal stays English, because alerts are matched by their
 * text and support reads the lines as they were written.  So the daemon never sets the locale:
 * gettext answers the English text in the "C" locale every process starts in, also for the
 * translated messages of the libraries it shares with the tools (conf/, verify/).  Only the
 * paths that print to a person and exit (--help, a usage error, --check-config) call
 * i18n_init(), before any thread exists; the daemon proper never reaches them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "base/cleanup.h"
#include "conf/conf.h"
#include "daemon/daemon.h"
#include "ingest/tz.h"
#include "ingest/namepattern.h"
#include "base/err.h"
#include "base/file.h"
#include "base/i18n.h"
#include "base/log.h"
#include "verify/note.h"
#include "daemon/pipeline.h"
#include "daemon/scrub.h"
#include "daemon/server/server.h"
#include "ingest/store.h"
#include "verify/tlog.h"
#include "daemon/watch.h"
#include "daemon/witness.h"

static const char *arg_config = CFG_DEFAULT_FILE;
static int arg_check_config;

static struct daemon daemon_state;
static struct cfg **retired; /* configs replaced by SIGHUP: freed at exit */
static size_t nretired;
static uv_signal_t sig_term, sig_int, sig_hup;
static uv_timer_t watchdog_timer;
static bool watchdog_on;
static int pending_closes;

static void notify(const char *msg)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, msg);
#else
	(void)msg;
#endif
}

static void help(void)
{
	/* Translators: custodyd --help.  Keep the options, signal names, ALERT, paths and
	 * placeholders (FILE, <state>) as they are. */
	printf(
	    _("Usage: custodyd [--config FILE] [--check-config]\n"
	      "The custody daemon: watches the drop zones, stores every clip's original "
	      "read-only,\n"
	      "logs it in the Merkle log and answers on the Unix socket.\n"
	      "\n"
	      "  --config FILE     the configuration (default %s)\n"
	      "  --check-config    validate the configuration (and its name patterns and time\n"
	      "                    zones) and exit: 0 valid, 1 not\n"
	      "  --help            this text\n"
	      "\n"
	      "Signals: SIGHUP reloads zones, roles and intervals; SIGTERM finishes the files in\n"
	      "flight, signs a checkpoint and exits.\n"
	      "\n"
	      "The first start creates the log in <state>/log, but only when the state holds no\n"
	      "log and no published checkpoint (<state>/checkpoint, or [publish] path's) and the\n"
	      "store no original.  Otherwise a missing log, a log shorter than a published\n"
	      "checkpoint, or one whose root at that size differs, makes custodyd refuse to\n"
	      "start (exit 2) with an ALERT saying what it found: restore the log from a backup,\n"
	      "or, to begin a new log on purpose, move the old log, checkpoints, originals and\n"
	      "published folder aside as the ALERT says.\n"
	      "--check-config creates nothing.\n"),
	    CFG_DEFAULT_FILE);
}

/* What cfg_load() cannot check without ingest/: the zones' name patterns and time zones. */
static int check_zones(const struct cfg *cfg, struct err_detail *reterr)
{
	struct ing_tz *tz = NULL;
	int r;

	r = ing_tz_load(cfg->device_clock, &tz, reterr);
	tz = ing_tz_free(tz);
	if (r < 0) {
		err_prefix(reterr, "%s: [rules] device_clock", cfg->file);
		return r;
	}
	for (size_t i = 0; i < cfg->nzones; i++) {
		const struct cfg_zone *z = &cfg->zones[i];
		struct ing_name_pattern *np = NULL;

		if (z->name_pattern) {
			r = ing_name_pattern_parse(z->name_pattern, &np, reterr);
			np = ing_name_pattern_free(np);
			if (r < 0) {
				err_prefix(reterr, "%s:%u: [zone %s] name_pattern", cfg->file,
					   z->name_pattern_line, z->name);
				return r;
			}
		}
		if (z->device_clock) {
			r = ing_tz_load(z->device_clock, &tz, reterr);
			tz = ing_tz_free(tz);
			if (r < 0) {
				err_prefix(reterr, "%s: [zone %s] device_clock", cfg->file,
					   z->name);
				return r;
			}
		}
	}
	return 0;
}

static int load_config(const char *path, struct cfg **ret, struct err_detail *reterr)
{
	int r = cfg_load(path, ret, reterr);

	if (r < 0)
		return r;
	r = check_zones(*ret, reterr);
	if (r < 0)
		*ret = cfg_free(*ret);
	return r;
}

static void on_watch_ready(void *opaque, size_t zone, const char *path, const char *relname)
{
	struct daemon *d = opaque;

	if (!d->stopping)
		pipe_submit(d->pipe, zone, path, relname);
}

static void closed_one(void *opaque)
{
	(void)opaque;
	if (--pending_closes == 0)
		uv_stop(daemon_state.loop);
}

static void on_handle_closed(uv_handle_t *h)
{
	closed_one(h->data);
}

static void stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	notify("STOPPING=1\nSTATUS=finishing the files in flight");
	log_notice("daemon", "stopping: finishing the files in flight");
	pending_closes = 7;
	/* The scrubber saves its progress and stops at its next chunk: a pass is not waited for. */
	scrub_stop(d->scrub, closed_one, NULL);
	watch_close(d->watch, closed_one, NULL);
	d->watch = NULL;
	if (d->srv)
		srv_close(d->srv, closed_one, NULL);
	else
		pending_closes--;
	d->srv = NULL;
	pipe_stop(d->pipe, closed_one, NULL);
	uv_close((uv_handle_t *)&sig_term, on_handle_closed);
	uv_close((uv_handle_t *)&sig_int, on_handle_closed);
	uv_close((uv_handle_t *)&sig_hup, on_handle_closed);
	if (watchdog_on) {
		pending_closes++;
		uv_close((uv_handle_t *)&watchdog_timer, on_handle_closed);
	}
}

static void on_term(uv_signal_t *h, int signum)
{
	(void)signum;
	stop(h->data);
}

static bool str_differ(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Do @a and @b differ in what witness.c reads once, at start? */
static bool witnessing_changed(const struct cfg *a, const struct cfg *b)
{
	if (a->witness_quorum != b->witness_quorum ||
	    a->witness_timeout_ms != b->witness_timeout_ms ||
	    a->publish_entries != b->publish_entries ||
	    str_differ(a->publish_path, b->publish_path) || a->nwitnesses != b->nwitnesses)
		return true;
	for (size_t i = 0; i < a->nwitnesses; i++)
		if (str_differ(a->witnesses[i].name, b->witnesses[i].name) ||
		    str_differ(a->witnesses[i].url, b->witnesses[i].url) ||
		    str_differ(a->witnesses[i].key, b->witnesses[i].key))
			return true;
	return false;
}

static void on_hup(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	struct cfg *cfg, **grown;
	struct err_detail e;

	(void)signum;
	notify("RELOADING=1");
	if (load_config(d->cfg->file, &cfg, &e) < 0) {
		log_error("config", "not reloaded, keeping the running configuration: %s", e.msg);
		notify("READY=1");
		return;
	}
	grown = realloc(retired, (nretired + 1) * sizeof(*retired));
	if (!grown || watch_reload(d->watch, cfg, &e) < 0) {
		log_error("config", "not reloaded, keeping the running configuration: %s",
			  grown ? e.msg : "out of memory");
		if (grown)
			retired = grown;
		cfg_free(cfg);
		notify("READY=1");
		return;
	}
	retired = grown;
	if (witnessing_changed(d->cfg, cfg))
		log_warning("config",
			    "[publish], the witnesses and [log] witness_quorum and "
			    "witness_timeout changed: they take effect at the next start; "
			    "until then the running ones stay");
	retired[nretired++] = d->cfg;
	d->cfg = cfg;
	scrub_reload(d->scrub, cfg);
	log_notice("config", "reloaded '%s': %zu zones", cfg->file, cfg->nzones);
	notify("READY=1\nSTATUS=configuration reloaded");
}

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	notify("WATCHDOG=1");
}

static void find_probe(struct daemon *d)
{
	const char *env = getenv("CUSTODY_PROBE");
	char self[PATH_MAX - 16];
	ssize_t n;

	if (env && *env) {
		snprintf(d->probe_path, sizeof(d->probe_path), "%s", env);
		return;
	}
	/* Beside custodyd: the build tree and an installation alike. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');

		if (slash) {
			slash[1] = '\0';
			snprintf(d->probe_path, sizeof(d->probe_path), "%scustody-probe", self);
			return;
		}
	}
	snprintf(d->probe_path, sizeof(d->probe_path), "custody-probe");
}

/* ---- the log at startup: never a new one over evidence (docs/log.md) --------------------- */

/* What a checkpoint custodyd published says: <state>/checkpoint, and the published folder's
 * (docs/publication.md), which anyone may have copied.  Auditors may hold either, so a log that
 * does not extend them is not the log they trust. */
struct published {
	char file[PATH_MAX];
	bool present;		  /* the file exists (readable or not) */
	bool valid;		  /* it opened as a checkpoint of [log] origin signed by the key */
	struct vfy_checkpoint cp; /* when valid */
	char why[256];		  /* when present but not valid */
};

#define NPUBLISHED 2

/* The @i-th place a checkpoint is published in, or false when there is none. */
static bool published_path(const struct cfg *cfg, unsigned i, char *buf, size_t len)
{
	if (i == 0)
		snprintf(buf, len, "%s/checkpoint", cfg->state);
	else if (i == 1 && cfg->publish_path)
		snprintf(buf, len, "%s/checkpoint", cfg->publish_path);
	else
		return false;
	return true;
}

static void read_published(const struct cfg *cfg, const struct vfy_verifier *key, unsigned i,
			   struct published *p)
{
	auto_free char *note = NULL;
	auto_close int fd = -1;
	struct err_detail e;
	ssize_t n;

	memset(p, 0, sizeof(*p));
	if (!published_path(cfg, i, p->file, sizeof(p->file)))
		return;
	fd = open(p->file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return;
	p->present = true;
	if (fd < 0) {
		snprintf(p->why, sizeof(p->why), "cannot open it: %s", strerror(errno));
		return;
	}
	note = malloc(VFY_NOTE_MAX + 1);
	if (!note) {
		snprintf(p->why, sizeof(p->why), "out of memory");
		return;
	}
	/* One read: the file is renamed into place whole, and a note is at most 64 KiB. */
	n = file_read_full(fd, note, VFY_NOTE_MAX + 1);
	if (n < 0) {
		snprintf(p->why, sizeof(p->why), "cannot read it: %s", strerror((int)-n));
		return;
	}
	if (vfy_checkpoint_open(note, (size_t)n, cfg->origin, key, 1, &p->cp, NULL, &e) < 0) {
		snprintf(p->why, sizeof(p->why), "%s", e.msg);
		return;
	}
	p->valid = true;
}

/* Count the regular files below the folder @dfd (taken over: closed here), symbolic links not
 * followed, into *@n. */
static int count_files(int dfd, unsigned depth, uint64_t *n, struct err_detail *reterr)
{
	DIR *dir = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (!dir) {
		r = -errno;
		close(dfd);
		return err_set(reterr, r, "cannot list the store: %s", strerror(-r));
	}
	for (errno = 0; (de = readdir(dir)); errno = 0) {
		unsigned char type = de->d_type;
		struct stat st;
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				r = err_set(reterr, -errno, "cannot stat '%s' in the store: %s",
					    de->d_name, strerror(errno));
				break;
			}
			type = S_ISREG(st.st_mode)   ? DT_REG
			       : S_ISDIR(st.st_mode) ? DT_DIR
						     : DT_UNKNOWN;
		}
		if (type == DT_REG) {
			(*n)++;
			continue;
		}
		/* The store nests two levels; deeper folders are not its own, so that a loop of
		 * bind mounts cannot make this recurse without end. */
		if (type != DT_DIR || depth >= 8)
			continue;
		sub =
		    openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			r = err_set(reterr, -errno, "cannot open '%s' in the store: %s", de->d_name,
				    strerror(errno));
			break;
		}
		r = count_files(sub, depth + 1, n, reterr);
		if (r < 0)
			break;
	}
	if (r == 0 && errno != 0)
		r = err_set(reterr, -errno, "cannot list the store: %s", strerror(errno));
	closedir(dir);
	return r;
}

/* The originals in the store (ingest/store.h: any regular file under objects/; staging holds
 * files still waiting for their entry, which a new log would take in as new arrivals). */
static int count_originals(const char *store, uint64_t *ret, struct err_detail *reterr)
{
	char path[PATH_MAX];
	int fd;

	*ret = 0;
	snprintf(path, sizeof(path), "%s/objects", store);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open '%s': %s", path, strerror(errno));
	return count_files(fd, 0, ret, reterr);
}

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len >= size - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Refuse to start: an ALERT with what was found (@found), then one with what the operator can
 * do: restore the log (of at least @need entries, or the log and the checkpoint together when
 * the checkpoint is what is broken, @restore_both), or start over.  Starting over means a state
 * that would pass the first-start test again: no log, no published checkpoint, no originals;
 * everything is moved, nothing removed, so the old evidence stays whole beside the new log.
 * custodyd never does this itself. */
static int refuse(const struct cfg *cfg, const char *found, uint64_t need, bool restore_both,
		  struct err_detail *reterr)
{
	static const char *const in_state[] = { "log", "checkpoint", "scrub.json", "witnessed" };
	char aside[PATH_MAX], advice[3072] = "", path[PATH_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	uint64_t n = 0;

	log_alert("log", "refusing to start: %s", found);
	append(advice, sizeof(advice),
	       "to go on, stop custodyd (systemctl stop custodyd) and restore ");
	if (restore_both)
		append(advice, sizeof(advice), "'%s/log' and '%s/checkpoint' from the same backup",
		       cfg->state, cfg->state);
	else if (need > 0)
		append(advice, sizeof(advice),
		       "'%s/log' from a backup that holds at least %" PRIu64 " entries", cfg->state,
		       need);
	else
		append(advice, sizeof(advice), "'%s/log' from a backup", cfg->state);
	log_alert("log", "%s", advice);
	/* On a line of its own, so that the command stays whole within log_msg()'s line. */
	advice[0] = '\0';
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	snprintf(aside, sizeof(aside), "%s.old-%s", cfg->state, stamp);
	append(advice, sizeof(advice),
	       "or, only to begin a new, empty log on purpose, move the old "
	       "one aside with its evidence, then start custodyd: mkdir '%s' && mv ",
	       aside);
	for (size_t i = 0; i < sizeof(in_state) / sizeof(in_state[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", cfg->state, in_state[i]);
		if (access(path, F_OK) == 0)
			append(advice, sizeof(advice), "'%s' ", path);
	}
	snprintf(path, sizeof(path), "%s/objects", cfg->store_path);
	if (count_originals(cfg->store_path, &n, NULL) < 0 || n > 0)
		append(advice, sizeof(advice), "'%s' ", path);
	if (published_path(cfg, 1, path, sizeof(path)) && access(path, F_OK) == 0)
		append(advice, sizeof(advice), "'%s' ", cfg->publish_path);
	append(advice, sizeof(advice), "'%s/'", aside);
	log_alert("log", "%s", advice);
	return err_set(reterr, -ESTALE,
		       "the log in '%s/log' does not hold what the state "
		       "published (see the ALERT above)",
		       cfg->state);
}

/* The verifier key of the signer in [log] key: the key a new log would be created with. */
static int signer_vkey(const struct cfg *cfg, char **ret, struct err_detail *reterr)
{
	struct vfy_signer *signer = NULL;
	int r;

	r = vfy_signer_load(cfg->key, &signer, reterr);
	if (r < 0) {
		err_prefix(reterr, "[log] key");
		return r;
	}
	*ret = vfy_signer_vkey(signer);
	signer = vfy_signer_free(signer);
	return *ret ? 0 : err_set(reterr, -ENOMEM, "out of memory");
}

/* No log in @dir: create one, but only on a state and store that never held one (no
 * published checkpoint, no original), else refuse. */
static int create_log(const struct cfg *cfg, const char *dir, struct err_detail *reterr)
{
	auto_free char *vkey = NULL;
	struct published pubs[NPUBLISHED];
	struct vfy_verifier key;
	char found[2048] = "";
	uint64_t originals = 0, need = 0;
	bool any = false;
	int r, rs;

	r = signer_vkey(cfg, &vkey, reterr);
	if (r < 0)
		return r;
	r = vfy_verifier_parse(vkey, strlen(vkey), &key, reterr);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < NPUBLISHED; i++) {
		read_published(cfg, &key, i, &pubs[i]);
		any = any || pubs[i].present;
	}
	rs = count_originals(cfg->store_path, &originals, reterr);
	if (!any && rs == 0 && originals == 0) {
		r = tlog_create(dir, cfg->origin, cfg->key, vkey, reterr);
		if (r < 0)
			return r;
		log_notice("log", "created the log '%s' in '%s': the state and the store held none",
			   cfg->origin, dir);
		return 0;
	}
	append(found, sizeof(found), "the log in '%s' is missing, but", dir);
	for (unsigned i = 0; i < NPUBLISHED; i++) {
		const struct published *pub = &pubs[i];
		const char *and = i > 0 && pubs[0].present ? " and" : "";

		if (pub->valid) {
			need = pub->cp.size > need ? pub->cp.size : need;
			append(found, sizeof(found),
			       "%s a published checkpoint of size %" PRIu64 " is in '%s'", and,
			       pub->cp.size, pub->file);
		} else if (pub->present) {
			append(found, sizeof(found),
			       "%s a published checkpoint '%s' does not verify against the key in "
			       "[log] key (%s)",
			       and, pub->file, pub->why);
		}
	}
	if (rs < 0)
		append(found, sizeof(found), "%s the store '%s' cannot be read (%s)",
		       any ? " and" : "", cfg->store_path, reterr->msg);
	else if (originals > 0)
		append(found, sizeof(found), "%s %" PRIu64 " original%s in the store '%s'",
		       any		? " and"
		       : originals == 1 ? " there is"
					: " there are",
		       originals, originals == 1 ? "" : "s", cfg->store_path);
	append(found, sizeof(found),
	       "; custodyd creates a log only in a state that holds no log, "
	       "no published checkpoint and no original");
	return refuse(cfg, found, need, false, reterr);
}

/* The log must extend the checkpoint custodyd last published: at least its size, and the same
 * root at that size.  A longer log is fine (checkpoints are signed at most every interval).
 * tlog_root() reads at most log2(size) stored subtree hashes, so this costs no rescan. */
static int check_one_published(struct daemon *d, const char *dir, unsigned i,
			       struct err_detail *reterr)
{
	uint8_t root[VFY_HASH_LEN];
	struct published pub;
	char found[2048] = "";
	uint64_t size;
	int r;

	read_published(d->cfg, &d->vkey, i, &pub);
	/* Nothing published yet (a crash before the first signature): the log itself holds every
	 * checkpoint it signed, and the file is written again from the newest at the next one. */
	if (!pub.present)
		return 0;
	if (!pub.valid) {
		append(found, sizeof(found),
		       "the published checkpoint '%s' does not "
		       "verify against the key of the log in '%s': %s",
		       pub.file, dir, pub.why);
		return refuse(d->cfg, found, 0, true, reterr);
	}
	r = tlog_size(d->log, &size, reterr);
	if (r < 0)
		return r;
	if (size < pub.cp.size) {
		append(found, sizeof(found),
		       "the log in '%s' has size %" PRIu64 ", but custodyd "
		       "published a checkpoint of size %" PRIu64 " ('%s'): the log lost entr",
		       dir, size, pub.cp.size, pub.file);
		if (pub.cp.size - size == 1)
			append(found, sizeof(found), "y %" PRIu64, size);
		else
			append(found, sizeof(found), "ies %" PRIu64 " to %" PRIu64, size,
			       pub.cp.size - 1);
		return refuse(d->cfg, found, pub.cp.size, false, reterr);
	}
	r = tlog_root(d->log, pub.cp.size, root, reterr);
	if (r < 0)
		return r;
	if (memcmp(root, pub.cp.root, VFY_HASH_LEN) != 0) {
		append(found, sizeof(found),
		       "the log in '%s' (size %" PRIu64 ") has another root "
		       "at size %" PRIu64 " than the checkpoint custodyd published ('%s'): it is "
		       "not the log that checkpoint was signed for",
		       dir, size, pub.cp.size, pub.file);
		return refuse(d->cfg, found, pub.cp.size, false, reterr);
	}
	return 0;
}

static int check_published(struct daemon *d, const char *dir, struct err_detail *reterr)
{
	int r = 0;

	for (unsigned i = 0; i < NPUBLISHED && r == 0; i++)
		r = check_one_published(d, dir, i, reterr);
	return r;
}

/* Open the log, creating it on the very first start from [log] origin and key. */
static int open_log(struct daemon *d, struct err_detail *reterr)
{
	struct cfg *cfg = d->cfg;
	char dir[PATH_MAX];
	int r;

	snprintf(dir, sizeof(dir), "%s/log", cfg->state);
	r = tlog_open(dir, TLOG_WRITE, &d->log, reterr);
	if (r == -ENOENT) {
		r = create_log(cfg, dir, reterr);
		if (r < 0)
			return r;
		r = tlog_open(dir, TLOG_WRITE, &d->log, reterr);
	}
	if (r < 0)
		return r;
	if (strcmp(tlog_origin(d->log), cfg->origin) != 0)
		return err_set(reterr, -EINVAL,
			       "the log in '%s' is '%s' but [log] origin says '%s'", dir,
			       tlog_origin(d->log), cfg->origin);
	r = vfy_verifier_parse(tlog_vkey(d->log), strlen(tlog_vkey(d->log)), &d->vkey, reterr);
	if (r < 0)
		return r;
	return check_published(d, dir, reterr);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon *d = &daemon_state;
	struct err_detail e;
	uint64_t watchdog_us = 0;
	int c, r;

	log_init("custodyd");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			arg_config = optarg;
			break;
		case 'C':
			arg_check_config = 1;
			break;
		case 'h':
			i18n_init();
			help();
			return 0;
		default:
			i18n_init();
			fprintf(stderr,
				_("custodyd: unknown option or missing value '%s' (custodyd "
				  "--help)\n"),
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		i18n_init();
		fprintf(stderr, _("custodyd: unexpected argument '%s' (custodyd --help)\n"),
			argv[optind]);
		return 2;
	}
	/* --check-config answers the administrator who ran it: in their language, and it exits
	 * before anything else starts. */
	if (arg_check_config)
		i18n_init();
	r = load_config(arg_config, &d->cfg, &e);
	if (arg_check_config) {
		if (r < 0) {
			fprintf(stderr, "custodyd: %s\n", e.msg);
			return 1;
		}
		r = wit_check_config(d, &e);
		if (r < 0) {
			fprintf(stderr, "custodyd: %s\n", e.msg);
			cfg_free(d->cfg);
			return 1;
		}
		printf(
		    NG_("'%s' is valid: %zu zone\n", "'%s' is valid: %zu zones\n", d->cfg->nzones),
		    arg_config, d->cfg->nzones);
		cfg_free(d->cfg);
		return 0;
	}
	if (r < 0) {
		log_error("config", "%s", e.msg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* libuv's pool has 4 threads unless told otherwise, and it is sized once, at its first
	 * use: room for every ingest worker plus the removals and uv_fs calls that follow them.
	 * A later SIGHUP that raises `workers` takes full effect at the next start. */
	if (!getenv("UV_THREADPOOL_SIZE")) {
		char n[16];

		snprintf(n, sizeof(n), "%u", d->cfg->workers + 4);
		setenv("UV_THREADPOOL_SIZE", n, 1);
	}
	d->loop = uv_default_loop();
	d->started_us = daemon_now_us();
	find_probe(d);
	if (access(d->probe_path, X_OK) < 0) {
		log_error("daemon", "cannot run the probe '%s': %s (set CUSTODY_PROBE)",
			  d->probe_path, strerror(errno));
		return 2;
	}
	/* Before any thread starts: libcurl's global set-up is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("daemon", "cannot start: libcurl's initialisation failed");
		return 2;
	}
	if ((r = open_log(d, &e)) < 0 || (r = store_open(d->cfg->store_path, &d->store, &e)) < 0 ||
	    (r = wit_start(d, &d->wit, &e)) < 0 || (r = pipe_new(d, &d->pipe, &e)) < 0 ||
	    (r = scrub_new(d, &d->scrub, &e)) < 0 ||
	    (r = watch_new(d->loop, d->cfg, on_watch_ready, d, &d->watch, &e)) < 0 ||
	    (r = srv_new(d, &d->srv, &e)) < 0) {
		log_error("daemon", "cannot start: %s", e.msg);
		return 2;
	}
	uv_signal_init(d->loop, &sig_term);
	uv_signal_init(d->loop, &sig_int);
	uv_signal_init(d->loop, &sig_hup);
	sig_term.data = sig_int.data = sig_hup.data = d;
	uv_signal_start(&sig_term, on_term, SIGTERM);
	uv_signal_start(&sig_int, on_term, SIGINT);
	uv_signal_start(&sig_hup, on_hup, SIGHUP);
#ifdef HAVE_LIBSYSTEMD
	if (sd_watchdog_enabled(0, &watchdog_us) > 0 && watchdog_us > 0) {
		uv_timer_init(d->loop, &watchdog_timer);
		watchdog_timer.data = d;
		uv_timer_start(&watchdog_timer, on_watchdog, 0, watchdog_us / 2000);
		watchdog_on = true;
	}
#endif
	log_notice("daemon", "ready: log '%s' at '%s/log', store '%s', %zu zones, socket '%s'",
		   d->cfg->origin, d->cfg->state, d->cfg->store_path, d->cfg->nzones,
		   d->cfg->socket_path);
	notify("READY=1\nSTATUS=watching the drop zones");
	uv_run(d->loop, UV_RUN_DEFAULT);

	/* Every handle is closed (pending_closes reached 0): the loop must close cleanly. */
	uv_run(d->loop, UV_RUN_NOWAIT);
	if (uv_loop_close(d->loop) != 0)
		log_warning("daemon", "handles left open at exit, ignoring");
	d->scrub = scrub_free(d->scrub);
	d->pipe = pipe_free(d->pipe);
	wit_stop(d->wit);
	d->wit = NULL;
	d->store = store_free(d->store);
	d->log = tlog_free(d->log);
	for (size_t i = 0; i < nretired; i++)
		cfg_free(retired[i]);
	free(retired);
	cfg_free(d->cfg);
	curl_global_cleanup();
	log_notice("daemon", "stopped");
	return 0;
}

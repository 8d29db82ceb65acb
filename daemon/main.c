/* custodyd: the unattended daemon (SPEC §1, §2).
 *
 * main() loads the config, opens the log (creating it on the first start), the store, the
 * pipeline, the drop-zone watch and the socket, tells systemd READY=1 and runs the loop.
 * Signals arrive as uv_signal_t on the loop: SIGHUP reloads zones, roles and intervals (the old
 * config stays allocated until exit, because ingests in flight on worker threads still read
 * it); SIGTERM and SIGINT stop taking files, let the pipeline finish what is in flight, commit,
 * sign a checkpoint, and exit 0.  Startup errors are fatal (exit 2 before READY=1); errors
 * after that are logged and the daemon keeps running. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "conf.h"
#include "daemon.h"
#include "deadline.h"
#include "err.h"
#include "log.h"
#include "note.h"
#include "pipeline.h"
#include "scrub.h"
#include "server.h"
#include "store.h"
#include "tlog.h"
#include "watch.h"

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
	printf("Usage: custodyd [--config FILE] [--check-config]\n"
	       "The custody daemon: watches the drop zones, stores every clip's original read-only,\n"
	       "logs it in the Merkle log and answers on the Unix socket.\n"
	       "\n"
	       "  --config FILE     the configuration (default %s)\n"
	       "  --check-config    validate the configuration (and its name patterns and time\n"
	       "                    zones) and exit: 0 valid, 1 not\n"
	       "  --help            this text\n"
	       "\n"
	       "Signals: SIGHUP reloads zones, roles and intervals; SIGTERM finishes the files in\n"
	       "flight, signs a checkpoint and exits.\n",
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
				err_prefix(reterr, "%s: [zone %s] device_clock", cfg->file, z->name);
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

/* Open the log, creating it on the first start from [log] origin and key. */
static int open_log(struct daemon *d, struct err_detail *reterr)
{
	struct cfg *cfg = d->cfg;
	char dir[PATH_MAX];
	int r;

	snprintf(dir, sizeof(dir), "%s/log", cfg->state);
	r = tlog_open(dir, TLOG_WRITE, &d->log, reterr);
	if (r == -ENOENT) {
		struct vfy_signer *signer = NULL;
		char *vkey;

		r = vfy_signer_load(cfg->key, &signer, reterr);
		if (r < 0) {
			err_prefix(reterr, "[log] key");
			return r;
		}
		vkey = vfy_signer_vkey(signer);
		signer = vfy_signer_free(signer);
		if (!vkey)
			return err_set(reterr, -ENOMEM, "out of memory");
		r = tlog_create(dir, cfg->origin, cfg->key, vkey, reterr);
		free(vkey);
		if (r < 0)
			return r;
		log_notice("log", "created the log '%s' in '%s'", cfg->origin, dir);
		r = tlog_open(dir, TLOG_WRITE, &d->log, reterr);
	}
	if (r < 0)
		return r;
	if (strcmp(tlog_origin(d->log), cfg->origin) != 0)
		return err_set(reterr, -EINVAL, "the log in '%s' is '%s' but [log] origin says '%s'",
			       dir, tlog_origin(d->log), cfg->origin);
	return vfy_verifier_parse(tlog_vkey(d->log), strlen(tlog_vkey(d->log)), &d->vkey, reterr);
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
		case 'c': arg_config = optarg; break;
		case 'C': arg_check_config = 1; break;
		case 'h': help(); return 0;
		default:
			fprintf(stderr, "custodyd: unknown option or missing value '%s' (custodyd "
					"--help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "custodyd: unexpected argument '%s' (custodyd --help)\n", argv[optind]);
		return 2;
	}
	r = load_config(arg_config, &d->cfg, &e);
	if (arg_check_config) {
		if (r < 0) {
			fprintf(stderr, "custodyd: %s\n", e.msg);
			return 1;
		}
		printf("'%s' is valid: %zu zones\n", arg_config, d->cfg->nzones);
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
		log_error("daemon", "cannot run the probe '%s': %s (set CUSTODY_PROBE)", d->probe_path,
			  strerror(errno));
		return 2;
	}
	if ((r = open_log(d, &e)) < 0 || (r = store_open(d->cfg->store_path, &d->store, &e)) < 0 ||
	    (r = pipe_new(d, &d->pipe, &e)) < 0 || (r = scrub_new(d, &d->scrub, &e)) < 0 ||
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
	d->store = store_free(d->store);
	d->log = tlog_free(d->log);
	for (size_t i = 0; i < nretired; i++)
		cfg_free(retired[i]);
	free(retired);
	cfg_free(d->cfg);
	log_notice("daemon", "stopped");
	return 0;
}

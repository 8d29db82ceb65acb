#pragma once
/* The daemon's shared state, owned by main.c and living as long as the process.  Every field
 * is touched on the loop thread only, except where a comment says otherwise.  The pieces:
 *   watch.c     finds settled files in the drop zones (inotify + rescans)
 *   pipeline.c  ingests them on worker threads and owns the one log-writer thread
 *   server.c    answers the Unix socket
 *   witness.c   collects cosignatures, decides what is served, publishes the log
 * main.c wires them, handles signals, sd_notify and reloads. */

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "verify/note.h"

struct cfg;
struct tlog;
struct store;
struct pipeline;
struct watch;
struct server;
struct scrub;
struct witnessing;

struct daemon {
	uv_loop_t *loop;
	struct cfg *cfg;     /* replaced on SIGHUP; the old one stays valid until its ingests end */
	struct tlog *log;    /* opened TLOG_WRITE: writes only from the pipeline's writer thread;
			      * reads (short txns) from any thread */
	struct store *store; /* immutable, any thread */
	struct vfy_verifier vkey; /* the log's verifier key */
	struct pipeline *pipe;
	struct watch *watch;
	struct server *srv;
	struct scrub *scrub;	/* the scrubber (scrub.h): re-hashes the originals on its thread */
	struct witnessing *wit; /* witnesses and publication (witness.h), NULL without either;
				 * set before the pipeline starts, so its writer may use it */
	bool stopping;		/* SIGTERM: no new files are taken */
	uint64_t started_us;	/* CLOCK_REALTIME at start, microseconds */
	char probe_path[4096];	/* the custody-probe program: beside custodyd, or $CUSTODY_PROBE */
};

/** Microseconds since the Unix epoch (CLOCK_REALTIME).  Any thread. */
uint64_t daemon_now_us(void);

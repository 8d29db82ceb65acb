/* custody-probe: fingerprints one file for custodyd, in a process of its own.
 *
 * FFmpeg's demuxers parse hostile bytes; a crash or a hang in one must cost one file, not the
 * daemon.  So custodyd spawns this program per file with the file open read-only on fd 0 and a
 * pipe on fd 1, and reads one JSON object back:
 *
 *   {"entry": {the ingest/damaged fields of ing_entry_json(), recording time included},
 *    "keys": [[stream, "hex sha256", pts_us|null, ordinal], …],   video key packets
 *    "more_streams": [[stream, "hex digest", packets], …],   streams the entry does not list
 *    "recorded_end_us": N|null, "future": bool}
 *
 * "more_streams" holds the streams past ING_ENTRY_STREAMS_MAX, which the entry only counts (so
 * that it stays within the log's entry limit): the daemon indexes their digests all the same.
 *
 * The daemon adds the fields only it knows (zone, name, ingested_at, deadline, storage,
 * stored).  It dies with custodyd (sandbox_die_with_parent(), the first thing it does), so
 * that no probe goes on demuxing for a daemon that was killed.  Before it reads a byte of the
 * media the probe confines itself (sandbox.c): its three descriptors only, SANDBOX_MEMORY_MIB
 * of address space, the demuxing time limit as CPU seconds, and a seccomp filter that kills it
 * on any system call demuxing does not need.
 * Exit 0 when a fingerprint was made (damaged files included), 2 on a usage or system error,
 * SANDBOX_EXIT_NOMEM when memory ran out, SANDBOX_EXIT_SETUP when the sandbox could not be set
 * up or custodyd was gone before it started; each with one line on stderr.  custodyd kills it
 * when it runs past probe_timeout, and names each way of dying in the file's `damaged` entry.
 * Not for people: `custody-verify fingerprint` is the offline tool. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ingest/tz.h"
#include "ingest/namepattern.h"
#include "ingest/rectime.h"
#include "base/err.h"
#include "ingest/fingerprint.h"
#include "base/hex.h"
#include "base/log.h"
#include "probe/sandbox.h"

static const char *arg_name;
static const char *arg_device_clock;
static const char *arg_name_pattern;
static int64_t arg_clock_skew_us = 600LL * 1000000;
static struct ing_limits arg_limits = ING_LIMITS_INIT;

/* Report @e and return the exit code: out of memory has its own (custodyd names it). */
static int fail(const char *what, const struct err_detail *e)
{
	log_error("probe", "%s: %s", what, e->msg);
	return e->code == -ENOMEM ? SANDBOX_EXIT_NOMEM : 2;
}

/* Start, while the probe may still open files, what would otherwise do so at its first use
 * inside the sandbox (where open fails): jansson seeds its hash tables from /dev/urandom at
 * the first object; OpenSSL 3 reads its configuration and loads its default provider at the
 * first fetch, and fingerprint.c's later fetch of SHA-256 then comes from its cache.  And
 * stdio looks at a stream when it first buffers it (fstat, then isatty()'s ioctl when it is a
 * character device: a terminal, /dev/null), which the filter would kill: the answer and
 * stderr get their buffers now.  glibc's strftime(), which libavformat calls for tags, reloads
 * the time zone each time: from /etc/localtime, looked up again at every call, unless $TZ
 * names it, in which case only a change of $TZ reloads it.  So an unset $TZ becomes the
 * equivalent ":/etc/localtime", loaded once here. */
static int warm_up(struct err_detail *reterr)
{
	static char out_buf[64 * 1024], err_buf[4096];
	EVP_MD *md;

	if (setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf)) != 0 ||
	    setvbuf(stderr, err_buf, _IOLBF, sizeof(err_buf)) != 0)
		return err_set(reterr, -EIO, "cannot set the buffers of stdout and stderr");
	if (!getenv("TZ") && setenv("TZ", ":/etc/localtime", 1) < 0)
		return err_set(reterr, -errno, "setenv TZ: %s", strerror(errno));
	tzset();
	json_object_seed(0);
	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) ||
	    !(md = EVP_MD_fetch(NULL, "SHA256", NULL)))
		return err_set(reterr, -EIO, "libcrypto has no SHA-256");
	EVP_MD_free(md);
	return 0;
}

#ifdef CUSTODY_FAULT_INJECTION
/* Test build only (custody-probe-fault, tests/fault/meson.build): a file whose name starts
 * with "fault-probe-" makes the probe, already in its sandbox, do what a file that took over
 * a demuxer could make it do, so that tests/fault/probe-sandbox.sh can show what stops each:
 *   alloc   allocate memory without bound              -> ENOMEM at the memory limit (exit 3)
 *   spin    loop forever                              -> SIGXCPU at the CPU limit
 *   segv    write through a null pointer              -> SIGSEGV
 *   syscall open a network socket                     -> SIGSYS (the filter)
 *   fork    start a process                           -> SIGSYS (the filter)
 *   abort   abort(), as a failed assertion does       -> SIGABRT, not SIGSYS
 *   heap    free a block twice                        -> glibc says so on stderr, SIGABRT
 *   open    open /etc/passwd, then go on as usual      -> EACCES, and a normal fingerprint
 * $CUSTODY_PROBE_SANDBOX=off skips the sandbox, =nofilter everything but the filter (to
 * measure what the filter costs).  Neither the names nor the variable are in the shipped
 * probe. */
static int fault_hook(const char *base, struct err_detail *e)
{
	const char *what;

	if (!base || strncmp(base, "fault-probe-", 12) != 0)
		return 0;
	what = base + 12;
	if (!strncmp(what, "alloc", 5)) {
		/* 1 MiB at a time, each chained to the previous so that nothing leaks; at four
		 * times the limit the limit has failed, and the test with it.  Only the link is
		 * written: the limit is on address space, and untouched pages keep the test fast
		 * (and harmless should the limit be missing). */
		const size_t chunk = 1u << 20, bound = (size_t)4 * SANDBOX_MEMORY_MIB << 20;
		void *head = NULL;
		size_t total = 0;

		while (total < bound) {
			void **p = malloc(chunk);

			if (!p)
				break;
			*p = head;
			head = p;
			total += chunk;
		}
		while (head) {
			void *next = *(void **)head;

			free(head);
			head = next;
		}
		if (total >= bound)
			return err_set(e, -EFBIG,
				       "allocated %zu MiB without reaching the memory "
				       "limit (test hook)",
				       total >> 20);
		return err_set(e, -ENOMEM, "out of memory after %zu MiB (test hook)", total >> 20);
	}
	if (!strncmp(what, "spin", 4))
		for (volatile unsigned long n = 0;; n++)
			;
	if (!strncmp(what, "segv", 4)) {
		int *volatile p = NULL;

		/* cppcheck-suppress nullPointer ; the crash is the point */
		*p = 1;
	}
	if (!strncmp(what, "syscall", 7)) {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		return err_set(e, -EPERM,
			       "socket() returned %d (%s) instead of being killed (test "
			       "hook)",
			       s, s < 0 ? strerror(errno) : "a socket");
	}
	if (!strncmp(what, "fork", 4)) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		return err_set(e, -EPERM, "fork() returned %d instead of being killed (test hook)",
			       (int)pid);
	}
	if (!strncmp(what, "abort", 5))
		abort();
	if (!strncmp(what, "heap", 4)) {
		char *volatile p = malloc(64);

		free(p);
		/* cppcheck-suppress doubleFree ; glibc's check is the point */
		free(p);
	}
	if (!strncmp(what, "open", 4)) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

		log_notice("probe", "test hook: open('/etc/passwd'): %s",
			   fd < 0 ? strerror(errno) : "opened");
		if (fd >= 0)
			close(fd);
	}
	return 0;
}
#endif

static json_t *keys_json(const struct ing_fingerprint *fp)
{
	json_t *arr = json_array();

	for (unsigned s = 0; arr && s < fp->n_streams; s++) {
		const struct ing_stream *st = &fp->streams[s];

		for (size_t k = 0; k < st->n_keys; k++) {
			char hex[2 * ING_HASH_LEN + 1];
			json_t *pts;

			hex_encode(st->keys[k].hash, ING_HASH_LEN, hex);
			pts = st->keys[k].pts_us == ING_NOTS ? json_null()
							     : json_integer(st->keys[k].pts_us);
			if (json_array_append_new(
				arr, json_pack("[I, s, o, I]", (json_int_t)st->index, hex, pts,
					       (json_int_t)st->keys[k].ordinal)) < 0) {
				json_decref(arr);
				return NULL;
			}
		}
	}
	return arr;
}

/* The streams the entry does not list (ing_entry_json() lists ING_ENTRY_STREAMS_MAX). */
static json_t *more_streams_json(const struct ing_fingerprint *fp)
{
	json_t *arr = json_array();

	for (unsigned s = ING_ENTRY_STREAMS_MAX; arr && s < fp->n_streams; s++) {
		const struct ing_stream *st = &fp->streams[s];
		char hex[2 * ING_HASH_LEN + 1];

		hex_encode(st->digest, ING_HASH_LEN, hex);
		if (json_array_append_new(arr, json_pack("[I, s, I]", (json_int_t)st->index, hex,
							 (json_int_t)st->packets)) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int main(int argc, char **argv)
{
	enum {
		OPT_NAME = 256,
		OPT_CLOCK,
		OPT_PATTERN,
		OPT_SKEW,
		OPT_STREAMS,
		OPT_PACKETS,
		OPT_SECONDS,
		OPT_SHA256,
		OPT_PARENT
	};
	static const struct option opts[] = {
		{ "name", required_argument, NULL, OPT_NAME },
		{ "device-clock", required_argument, NULL, OPT_CLOCK },
		{ "name-pattern", required_argument, NULL, OPT_PATTERN },
		{ "clock-skew-us", required_argument, NULL, OPT_SKEW },
		{ "max-streams", required_argument, NULL, OPT_STREAMS },
		{ "max-packets", required_argument, NULL, OPT_PACKETS },
		{ "max-seconds", required_argument, NULL, OPT_SECONDS },
		{ "sha256", required_argument, NULL, OPT_SHA256 },
		{ "parent-pid", required_argument, NULL, OPT_PARENT },
		{ 0 },
	};
	struct ing_tz *tz = NULL;
	struct ing_name_pattern *pattern = NULL;
	struct ing_fingerprint *fp = NULL;
	struct ing_options options = { 0 };
	uint8_t known[ING_HASH_LEN];
	struct ing_time_rules rules = { 0 };
	struct ing_time_input in = { 0 };
	struct ing_recording rec;
	struct err_detail e;
	json_t *entry = NULL, *out;
	struct sandbox_limits sandbox = {
		.memory_bytes = (unsigned long long)SANDBOX_MEMORY_MIB << 20,
		.filter = true,
	};
	const char *base;
	char *text;
	int c, r;
	/* Read before the death signal is asked for, so that a parent gone before it shows; the
	 * daemon names itself (--parent-pid), so that one gone even before this line shows too. */
	pid_t parent = getppid();

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--parent-pid") == 0)
			parent = (pid_t)strtol(argv[i + 1], NULL, 10);

#ifdef CUSTODY_FAULT_INJECTION
	/* $CUSTODY_PROBE_PDEATHSIG_DELAY_MS: a wait between reading the parent and asking for
	 * the death signal, so that a test can have the parent die right there. */
	{
		const char *ms = getenv("CUSTODY_PROBE_PDEATHSIG_DELAY_MS");

		if (ms) {
			static const char said[] = "custody-probe: waiting before asking for the "
						   "death signal (test hook)\n";
			long v = strtol(ms, NULL, 10);
			struct timespec ts = { .tv_sec = v / 1000, .tv_nsec = v % 1000 * 1000000 };

			/* write(), not stdio: stderr gets its buffer later (warm_up()). */
			if (write(STDERR_FILENO, said, sizeof(said) - 1) < 0)
				return 2;
			nanosleep(&ts, NULL);
		}
	}
#endif
	r = sandbox_die_with_parent(parent, &e);
	log_init("custody-probe");
	if (r < 0) {
		log_error("probe", "not reading the file: %s", e.msg);
		return SANDBOX_EXIT_SETUP;
	}
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NAME:
			arg_name = optarg;
			break;
		case OPT_PARENT:
			break; /* read above, before anything else */
		case OPT_CLOCK:
			arg_device_clock = optarg;
			break;
		case OPT_PATTERN:
			arg_name_pattern = optarg;
			break;
		case OPT_SKEW:
			arg_clock_skew_us = strtoll(optarg, NULL, 10);
			break;
		case OPT_STREAMS:
			arg_limits.max_streams = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case OPT_PACKETS:
			arg_limits.max_packets = strtoull(optarg, NULL, 10);
			break;
		case OPT_SECONDS:
			arg_limits.max_seconds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case OPT_SHA256:
			/* custodyd hashed the bytes while storing them: no second whole-file hash.
			 */
			if (hex_decode(optarg, known, ING_HASH_LEN) < 0) {
				log_error("probe", "--sha256 needs 64 hex digits");
				return 2;
			}
			options.known_sha256 = known;
			break;
		default:
			log_error("probe",
				  "usage: custody-probe [--name NAME] [--device-clock TZ] "
				  "[--name-pattern P] [--max-seconds N] [--sha256 HEX] < FILE");
			return 2;
		}
	}
	if (arg_device_clock && (r = ing_tz_load(arg_device_clock, &tz, &e)) < 0)
		return fail("device_clock", &e);
	if (arg_name_pattern && (r = ing_name_pattern_parse(arg_name_pattern, &pattern, &e)) < 0)
		return fail("name_pattern", &e);
	base = arg_name ? strrchr(arg_name, '/') : NULL;
	base = base ? base + 1 : arg_name;

	/* The sandbox, before the first byte of the media is read.  Its CPU limit is the
	 * demuxing time limit, which the fingerprinter checks in wall-clock time between reads
	 * and packets: a demuxer that loops without reaching a check uses it up in CPU seconds
	 * instead, a second before custodyd would kill it at probe_timeout. */
	sandbox.cpu_seconds = arg_limits.max_seconds;
#ifdef CUSTODY_FAULT_INJECTION
	{
		const char *how = getenv("CUSTODY_PROBE_SANDBOX");

		sandbox.filter = !how || strcmp(how, "nofilter") != 0;
		if (how && !strcmp(how, "off"))
			goto sandboxed;
	}
#endif
	r = warm_up(&e);
	if (r == 0)
		r = sandbox_enter(&sandbox, &e);
	if (r < 0) {
		log_error("probe", "cannot set up the sandbox, so the file is not read: %s", e.msg);
		return SANDBOX_EXIT_SETUP;
	}
#ifdef CUSTODY_FAULT_INJECTION
sandboxed:
	r = fault_hook(base, &e);
	if (r < 0)
		return fail("test hook", &e);
#endif

	options.limits = arg_limits; /* --max-* may come after --sha256 */
	r = ing_fingerprint_fd(STDIN_FILENO, arg_name, &options, &fp, &e);
	if (r < 0)
		return fail("fingerprint", &e);
	rules = (struct ing_time_rules){ .device_clock = tz,
					 .name_pattern = pattern,
					 .clock_skew_us = arg_clock_skew_us };
	in = (struct ing_time_input){ .creation_time = fp->creation_time,
				      .duration_us = fp->duration_us,
				      .mtime_us = fp->mtime_us,
				      .name = base };
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		ing_recording_time(&in, &rules, (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000,
				   &rec);
	}
	r = ing_entry_json(fp, &rec, &entry, &e);
	if (r < 0)
		return fail("entry", &e);
	out = json_pack("{s:o, s:o*, s:o*, s:o, s:b}", "entry", entry, "keys", keys_json(fp),
			"more_streams", more_streams_json(fp), "recorded_end_us",
			rec.source == ING_TIME_NONE ? json_null() : json_integer(rec.end_us),
			"future", rec.future);
	text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (!text) {
		log_error("probe", "out of memory for the answer");
		return SANDBOX_EXIT_NOMEM;
	}
	if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
		log_error("probe", "cannot write the result: %s", strerror(errno));
		return 2;
	}
	free(text);
	json_decref(out);
	ing_fingerprint_free(fp);
	ing_name_pattern_free(pattern);
	ing_tz_free(tz);
	return 0;
}

/* custodyctl: the client of custodyd's socket (docs/programs.md; the requests:
 * docs/protocol.md), for reviewers, auditors and operators.  One request per run: it connects,
 * sends one JSON line, reads one JSON line, and prints it for people (default) or as it came
 * (--json).
 *
 * Where things come from: the socket is --socket, else $CUSTODY_SOCKET, else [socket] path of
 * --config FILE or of /etc/custody/custody.conf when that file is readable, else
 * /run/custody/custody.sock.  The verifier key that proofs are checked against is --key VKEY
 * (the key or a file holding it), else the config's [log] verifier_key file.
 *
 * `verify FILE` fingerprints FILE here (ing_fingerprint_fd(): the same code the daemon ingests
 * with, and the config's [ingest] max_streams and max_packets when it was read), sends its SHA-256,
 * stream digests and video key packets, and prints the daemon's answer.  "verified" is printed only
 * after the inclusion proof that came with a match has been checked here against the verifier key,
 * and the logged entry it proves agrees with the file (the same SHA-256 for exact, the same stream
 * digests for remux).  A fingerprint with more key packets than fit into the daemon's
 * max_request_bytes sends the first ones and says how many there are; the answer says how many were
 * checked.
 *
 * Exit status: 0 success (for verify: exact, remux or excerpt, and the proof verified); 1 a
 * check failed (unknown, altered, not verified), not found, or forbidden; 2 usage or system
 * error (bad arguments, unreadable file, the daemon not reachable).  Errors are one line on
 * stderr.
 *
 * One file because it is one program whose commands are each a few dozen lines over the same
 * connection, request and printing helpers (request(), print_entry_line()); the renderers that
 * stand on their own are ctl/review.c and ctl/html.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "conf/conf.h"
#include "ctl/review.h"
#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/i18n.h"
#include "base/utf8.h"
#include "ingest/fingerprint.h"
#include "verify/hash.h"
#include "verify/note.h"
#include "verify/proof.h"

#define DEFAULT_SOCKET "/run/custody/custody.sock"
#define REPLY_MAX (256u << 20)
#define REPLY_TIMEOUT_MS (300 * 1000)
#define KEY_JSON_BYTES 120 /* a key packet in the request, roughly */

static const char *arg_socket;
static const char *arg_config;
static const char *arg_key;
static bool arg_json;

static struct cfg *config; /* loaded when there is one to load */
static uint64_t max_request = 1u << 20;
static int reply_timeout_ms = REPLY_TIMEOUT_MS; /* a review re-hashes its originals: longer */

static void help(void)
{
	printf(
	    "Usage: custodyctl [--socket PATH] [--config FILE] [--key VKEY] [--json] COMMAND ...\n"
	    "Ask custodyd about the evidence it keeps.\n"
	    "\n"
	    "Commands:\n"
	    "  status                      the log, the newest checkpoint, the pipeline, files\n"
	    "                              waiting per zone, open items, errors\n"
	    "  scrub [--now]               the scrubber's state and alarms (exit 1 while an\n"
	    "                              original is missing or altered); --now starts a pass\n"
	    "                              that re-hashes every original (operators only)\n"
	    "  verify FILE [--device D] [--recorded-start TIME]\n"
	    "                              is FILE an ingested original (exact), the same\n"
	    "                              recording in another container (remux), a cut of one\n"
	    "                              (excerpt), an altered copy (altered) or unknown?  "
	    "Prints\n"
	    "                              'verified' once the inclusion proof checks out\n"
	    "  entry INDEX                 print a log entry\n"
	    "  proof INDEX|FILE [--size N] [--out F]\n"
	    "                              a .tlog-proof file for an entry, or for the original\n"
	    "                              whose bytes are FILE's, against the newest checkpoint\n"
	    "                              (or the one of size N)\n"
	    "  consistency OLD [NEW] [--out F]\n"
	    "                              a consistency proof between two signed sizes (NEW:\n"
	    "                              the newest)\n"
	    "  checkpoint [--size N] [--out F]\n"
	    "                              the newest signed checkpoint (or the one of size N)\n"
	    "  log [--since TIME|INDEX] [--before INDEX] [--zone Z] [--device D] [--officer O]\n"
	    "      [--type T] [--limit N]  entries, newest last; TIME is RFC 3339 with a zone\n"
	    "  annotate KIND --FIELD VALUE ...\n"
	    "                              record an annotation; prints its index.  Kinds:\n"
	    "                                interruption  --device --from --to --reason\n"
	    "                                late_storage  --entry --reason\n"
	    "                                remote_duty   --device and/or --officer, --from\n"
	    "                                              --to --returned-at\n"
	    "                                damage_report --entry --explanation\n"
	    "                                case          --case --entries 3,4,9, or\n"
	    "                                              --case --device D --from T --to T\n"
	    "                                              (the device's clips in that time)\n"
	    "                                approval      --grantee --entries --purpose "
	    "--expires\n"
	    "                                              (approvers only; the grantee is a\n"
	    "                                              login name, matched exactly)\n"
	    "                                hold          --entries --reason  (kept beyond\n"
	    "                                              retention)\n"
	    "                                device        --entry --device [--officer]\n"
	    "                                              --reason  (a clip whose name matched\n"
	    "                                              no pattern of its zone)\n"
	    "  copy-out INDEX --to FILE [--purpose TEXT]\n"
	    "                              copy entry INDEX's original to FILE (new, mode 0600,\n"
	    "                              fsynced) and check its SHA-256 against the entry;\n"
	    "                              operators, or the grantee of an unexpired approval;\n"
	    "                              FILE (host:path) and TEXT are on record\n"
	    "  retention [--limit N]       clips past their retention period, and those kept\n"
	    "                              anyway (bound to a case, on hold)\n"
	    "  purge INDEX [--reason TEXT] remove a clip's original past its retention period\n"
	    "                              (operators; logged first, the entry stays)\n"
	    "  review CASE [--html FILE]   the legal review of a case: every clip re-hashed from\n"
	    "                              the store, storage status, gaps per device and their\n"
	    "                              explanations, damage reports, who accessed the clips;\n"
	    "                              the verdict last.  Exit 0 complete, 1 anything open.\n"
	    "                              --html writes one self-contained page as well\n"
	    "  report --from T --to T | --year Y | --open  [--csv]\n"
	    "                              clips and hours per device and officer, storage on\n"
	    "                              time / after remote duty / late / unknown time,\n"
	    "                              interruptions, damaged files, accesses and copy-outs;\n"
	    "                              --year Y: 1 January of Y to 1 January of Y+1 (UTC);\n"
	    "                              --open: every open item of the log (exit 1 if any)\n"
	    "\n"
	    "Options:\n"
	    "  --socket PATH   the daemon's socket (default: $CUSTODY_SOCKET, the config's\n"
	    "                  [socket] path, %s)\n"
	    "  --config FILE   read the socket path and verifier key from FILE (default\n"
	    "                  %s when readable)\n"
	    "  --key VKEY      the log's verifier key, or a file holding it (default: the\n"
	    "                  config's [log] verifier_key)\n"
	    "  --json          print the daemon's JSON reply (one object on stdout)\n"
	    "  --help          this text\n"
	    "\n"
	    "Exit status: 0 success, 1 a check failed, not found or forbidden, 2 usage or system\n"
	    "error.\n",
	    DEFAULT_SOCKET, CFG_DEFAULT_FILE);
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "custodyctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (custodyctl --help)\n");
	return 2;
}

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "custodyctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* ---- arguments --------------------------------------------------------------------------- */

/* A command's options (--name VALUE, all take a value) and its positional words. */
struct cmd_args {
	const char *name[32];
	const char *value[32];
	size_t nopts;
	const char *pos[8];
	size_t npos;
};

static const char *opt(const struct cmd_args *a, const char *name)
{
	for (size_t i = 0; i < a->nopts; i++)
		if (!strcmp(a->name[i], name))
			return a->value[i];
	return NULL;
}

/* Pull the global options out of argv (anywhere), collect the command's options and words. */
static int parse_args(int argc, char **argv, const char **ret_cmd, struct cmd_args *a)
{
	bool dashdash = false;

	*ret_cmd = NULL;
	*a = (struct cmd_args){ 0 };
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *val;
		char name[64];
		size_t n;

		if (dashdash || arg[0] != '-' || !arg[1]) {
			if (!*ret_cmd)
				*ret_cmd = arg;
			else if (a->npos < sizeof(a->pos) / sizeof(a->pos[0]))
				a->pos[a->npos++] = arg;
			else
				return usage("too many arguments");
			continue;
		}
		if (!strcmp(arg, "--")) {
			dashdash = true;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			help();
			exit(0);
		}
		if (!strcmp(arg, "--json")) {
			arg_json = true;
			continue;
		}
		if (arg[1] != '-')
			return usage("unknown option '%s'", arg);
		eq = strchr(arg, '=');
		n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (!n || n >= sizeof(name))
			return usage("unknown option '%s'", arg);
		memcpy(name, arg + 2, n);
		name[n] = '\0';
		if (eq) {
			val = eq + 1;
		} else if (!strcmp(name, "now")) {
			val = ""; /* a flag: scrub --now */
		} else if (!strcmp(name, "csv") || !strcmp(name, "open")) {
			val = ""; /* flags: report --csv, report --open */
		} else {
			if (i + 1 >= argc)
				return usage("option '--%s' needs a value", name);
			val = argv[++i];
		}
		if (!strcmp(name, "socket"))
			arg_socket = val;
		else if (!strcmp(name, "config"))
			arg_config = val;
		else if (!strcmp(name, "key"))
			arg_key = val;
		else if (a->nopts < sizeof(a->name) / sizeof(a->name[0])) {
			/* Field and option names may use '-' for '_' (--returned-at). */
			char *copy = strdup(name);

			if (!copy)
				return fail(2, "out of memory");
			for (char *p = copy; *p; p++)
				if (*p == '-')
					*p = '_';
			a->name[a->nopts] = copy;
			a->value[a->nopts++] = val;
		} else {
			return usage("too many options");
		}
	}
	return 0;
}

static int check_opts(const char *cmd, const struct cmd_args *a, const char *const *allowed,
		      size_t min_pos, size_t max_pos)
{
	for (size_t i = 0; i < a->nopts; i++) {
		bool ok = false;

		for (size_t j = 0; allowed && allowed[j]; j++)
			ok = ok || !strcmp(a->name[i], allowed[j]);
		if (!ok)
			return usage("'%s' takes no option '--%s'", cmd, a->name[i]);
	}
	if (a->npos < min_pos)
		return usage("'%s' needs %s", cmd, min_pos == 1 ? "an argument" : "more arguments");
	if (a->npos > max_pos)
		return usage("'%s' takes at most %zu argument%s", cmd, max_pos,
			     max_pos == 1 ? "" : "s");
	return 0;
}

static int parse_u64(const char *s, const char *what, uint64_t *ret)
{
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return usage("%s must be a non-negative integer, not '%s'", what, s ? s : "");
	errno = 0;
	*ret = strtoull(s, &end, 10);
	if (errno || *end)
		return usage("%s must be a non-negative integer, not '%s'", what, s);
	return 0;
}

/* ---- configuration and key --------------------------------------------------------------- */

static int load_config(void)
{
	const char *path = arg_config ? arg_config : CFG_DEFAULT_FILE;
	struct err_detail e;

	if (!arg_config && access(path, R_OK) < 0)
		return 0; /* no readable default config: built-in defaults */
	if (cfg_load(path, &config, &e) < 0) {
		if (arg_config)
			return fail(2, "%s", e.msg);
		fprintf(stderr, "custodyctl: ignoring '%s': %s\n", path, e.msg);
		return 0;
	}
	if (config->max_request_bytes)
		max_request = config->max_request_bytes;
	return 0;
}

static const char *socket_path(void)
{
	const char *env = getenv("CUSTODY_SOCKET");

	if (arg_socket)
		return arg_socket;
	if (env && *env)
		return env;
	if (config && config->socket_path)
		return config->socket_path;
	return DEFAULT_SOCKET;
}

static int read_small_file(const char *path, size_t max, char **ret, struct err_detail *e)
{
	int r = file_read_at(AT_FDCWD, path, O_NONBLOCK, max, ret, NULL, e);

	if (r == -EFBIG && e)
		e->code = -EINVAL;
	return r == -EFBIG ? -EINVAL : r;
}

/* The verifier key: 0, or -errno with what to do in @e. */
static int load_key(struct vfy_verifier *ret, struct err_detail *e)
{
	const char *src = arg_key ? arg_key : config ? config->verifier_key : NULL;
	auto_free char *text = NULL;
	const char *key = src;
	struct stat st;
	int r;

	if (!src)
		return err_set(e, -ENOKEY,
			       "no verifier key: give --key VKEY, or --config FILE with "
			       "[log] verifier_key");
	if (!arg_key || stat(src, &st) == 0) {
		r = read_small_file(src, 4096, &text, e);
		if (r < 0)
			return r;
		key = text;
	}
	r = vfy_verifier_parse(key, strlen(key), ret, e);
	if (r < 0)
		err_prefix(e, "the verifier key%s%s%s is unusable", arg_key ? "" : " '",
			   arg_key ? "" : src, arg_key ? "" : "'");
	return r;
}

/* ---- talking to the daemon --------------------------------------------------------------- */

static int daemon_connect(int *ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = socket_path();
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return usage("the socket path '%s' is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(2, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		if (err == EACCES)
			return fail(2,
				    "cannot connect to custodyd at '%s': %s; your user needs one "
				    "of the custody groups (custody-review, custody-audit, "
				    "custody-ops, custody-approve)",
				    path, strerror(err));
		return fail(2,
			    "cannot connect to custodyd at '%s': %s; is it running? "
			    "(systemctl status custodyd; --socket PATH or CUSTODY_SOCKET for "
			    "another socket)",
			    path, strerror(err));
	}
	*ret = fd;
	return 0;
}

/* recv() that also takes a descriptor passed with SCM_RIGHTS (copy-out): into *@ret_fd when
 * @ret_fd is not NULL and none came yet; any other is closed. */
static ssize_t recv_part(int fd, char *buf, size_t len, int *ret_fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int got;

			memcpy(&got, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (ret_fd && *ret_fd < 0)
				*ret_fd = got;
			else
				close(got);
		}
	}
	return n;
}

/* Send @req (taken) and read the one reply line into *@ret; a descriptor passed with it into
 * *@ret_fd (-1 when none; the caller's to close, also when this fails), if @ret_fd. */
static int call_fd(json_t *req, json_t **ret, int *ret_fd)
{
	auto_close int fd = -1;
	auto_free char *line = NULL;
	auto_free char *buf = NULL;
	size_t len = 0, cap = 0, sent = 0, n;
	json_error_t je;
	int r;

	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line)
		return fail(2, "out of memory");
	n = strlen(line);
	line[n++] = '\n'; /* json_dumps() left room: the NUL becomes the newline */
	if (n > max_request + 1)
		return fail(2,
			    "the request is %zu bytes, more than the daemon takes (%" PRIu64
			    ", [socket] max_request_bytes)",
			    n, max_request);
	r = daemon_connect(&fd);
	if (r)
		return r;
	while (sent < n) {
		ssize_t w = send(fd, line + sent, n - sent, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			/* The daemon may have answered (busy, too large) and hung up: read it. */
			break;
		}
		sent += (size_t)w;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t got;

		if (cap - len < 65536) {
			char *b;

			cap = cap ? cap * 2 : 1u << 20;
			if (cap > REPLY_MAX + 65536)
				return fail(2, "the daemon's reply is larger than %u bytes",
					    REPLY_MAX);
			b = realloc(buf, cap);
			if (!b)
				return fail(2, "out of memory");
			buf = b;
		}
		r = poll(&pfd, 1, reply_timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return fail(2, "custodyd at '%s' did not answer within %d s", socket_path(),
				    reply_timeout_ms / 1000);
		got = recv_part(fd, buf + len, cap - len, ret_fd);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fail(2, "reading from custodyd at '%s': %s", socket_path(),
				    strerror(errno));
		if (got == 0)
			return fail(2,
				    "custodyd at '%s' closed the connection without an answer "
				    "(see its journal: journalctl -u custodyd)",
				    socket_path());
		nl = memchr(buf + len, '\n', (size_t)got);
		len += (size_t)got;
		if (nl) {
			len = (size_t)(nl - buf);
			break;
		}
	}
	*ret = json_loadb(buf, len, 0, &je);
	if (!*ret || !json_is_object(*ret))
		return fail(2, "custodyd's answer does not parse: %s", je.text);
	return 0;
}

static void print_json(const json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (s)
		puts(s);
	free(s);
}

/* The exit status of an error reply, after saying what it is. */
static int reply_failed(const json_t *reply)
{
	const json_t *err = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *msg = json_string_value(json_object_get(err, "message"));

	/* The message may quote a file name or a reason someone else wrote: no raw escapes on
	 * the terminal. */
	char *safe_code = code ? utf8_for_terminal(code, strlen(code)) : NULL;
	char *safe_msg = msg ? utf8_for_terminal(msg, strlen(msg)) : NULL;

	if (arg_json)
		print_json(reply);
	fprintf(stderr, "custodyctl: %s: %s\n", safe_code ? safe_code : "error",
		safe_msg ? safe_msg : "(no message)");
	free(safe_code);
	free(safe_msg);
	if (code && (!strcmp(code, "forbidden") || !strcmp(code, "not_found")))
		return 1;
	return 2;
}

/* Call and handle an error reply: 0 with *@ret on success, else the exit status.  A descriptor
 * that came with the reply goes into *@ret_fd as for call_fd(). */
static int request_fd(json_t *req, json_t **ret, int *ret_fd)
{
	json_t *reply;
	int r;

	if (ret_fd)
		*ret_fd = -1;
	if (!req)
		return fail(2, "out of memory");
	r = call_fd(req, &reply, ret_fd);
	if (r)
		return r;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		r = reply_failed(reply);
		json_decref(reply);
		return r;
	}
	*ret = reply;
	return 0;
}

static int request(json_t *req, json_t **ret)
{
	return request_fd(req, ret, NULL);
}

/* ---- small printers ---------------------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static json_int_t jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *storage_words(const char *storage)
{
	if (!storage)
		return "storage status unknown";
	if (!strcmp(storage, "on_time"))
		return "stored on time";
	if (!strcmp(storage, "on_time_remote"))
		return "stored on time after remote duty";
	if (!strcmp(storage, "late"))
		return "stored LATE";
	if (!strcmp(storage, "unknown_time"))
		return "stored with no trustworthy recording time";
	return storage;
}

static void print_duration(int64_t us, char *out, size_t len)
{
	int64_t s = us / 1000000;

	snprintf(out, len, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 "%s", s / 3600, s / 60 % 60,
		 s % 60, us % 1000000 ? "+" : "");
}

/* One line about an annotation or other entry; its strings (names an uploader chose, reasons
 * anyone typed) as utf8_for_terminal() shows them. */
static void print_entry_line(json_int_t index, const json_t *entry, const char *indent)
{
	json_auto_t *e = ctl_terminal_copy(entry);

	if (!e)
		return;
	const char *type = jstr(e, "type", "?");
	const char *when = jstr(e, "ingested_at", jstr(e, "at", jstr(e, "received_at", "-")));

	printf("%s%-6" JSON_INTEGER_FORMAT " %-22s %-10s", indent, index, when, type);
	if (!strcmp(type, "ingest") || !strcmp(type, "damaged")) {
		printf(" zone '%s' device %s officer %s '%s' %s", jstr(e, "zone", "?"),
		       jstr(e, "device", "?"), jstr(e, "officer", "?"), jstr(e, "name", "?"),
		       storage_words(jstr(e, "storage", NULL)));
	} else if (!strcmp(type, "duplicate")) {
		printf(" zone '%s' '%s': the bytes of entry %" JSON_INTEGER_FORMAT " again",
		       jstr(e, "zone", "?"), jstr(e, "name", "?"), jint(e, "of"));
	} else if (!strcmp(type, "annotation")) {
		const char *kind = jstr(e, "kind", "?");
		const json_t *list = json_object_get(e, "entries"), *v;
		size_t i;

		printf(" %s by %s", kind, jstr(e, "by", "?"));
		if (json_object_get(e, "entry"))
			printf(" entry %" JSON_INTEGER_FORMAT, jint(e, "entry"));
		if (json_object_get(e, "case"))
			printf(" case '%s'", jstr(e, "case", ""));
		if (json_object_get(e, "grantee"))
			printf(" grantee '%s' until %s", jstr(e, "grantee", ""),
			       jstr(e, "expires", "?"));
		if (json_array_size(list)) {
			printf(" entries");
			json_array_foreach(list, i, v)
				printf("%s%" JSON_INTEGER_FORMAT, i ? "," : " ",
				       json_integer_value(v));
		}
		if (json_object_get(e, "device"))
			printf(" device %s", jstr(e, "device", ""));
		if (json_object_get(e, "officer"))
			printf(" officer %s", jstr(e, "officer", ""));
		if (json_object_get(e, "from"))
			printf(" from %s to %s", jstr(e, "from", "?"), jstr(e, "to", "?"));
		if (json_object_get(e, "reason"))
			printf(": '%s'", jstr(e, "reason", ""));
		if (json_object_get(e, "explanation"))
			printf(": '%s'", jstr(e, "explanation", ""));
		if (json_object_get(e, "purpose"))
			printf(": '%s'", jstr(e, "purpose", ""));
	} else if (!strcmp(type, "access")) {
		char *target =
		    json_dumps(json_object_get(e, "target"), JSON_ENCODE_ANY | JSON_COMPACT);

		printf(" %s by %s%s target %s", jstr(e, "op", "?"), jstr(e, "by", "?"),
		       json_is_false(json_object_get(e, "allowed")) ? " REFUSED" : "",
		       target ? target : "?");
		free(target);
	}
	putchar('\n');
}

/* "entries 3, 9" for a list of indexes, with how many more there are. */
static void print_indexes(const json_t *list, json_int_t count)
{
	const json_t *v;
	size_t i;

	printf("entr%s", count == 1 ? "y" : "ies");
	json_array_foreach(list, i, v)
		printf("%s %" JSON_INTEGER_FORMAT, i ? "," : "", json_integer_value(v));
	if (count > (json_int_t)json_array_size(list))
		printf(" and %" JSON_INTEGER_FORMAT " more",
		       count - (json_int_t)json_array_size(list));
}

static void print_pass_counts(const json_t *p)
{
	printf("%" JSON_INTEGER_FORMAT " originals checked, %" JSON_INTEGER_FORMAT
	       " ok, %" JSON_INTEGER_FORMAT " missing, %" JSON_INTEGER_FORMAT
	       " altered, %" JSON_INTEGER_FORMAT " purged (not expected), %.1f MiB read",
	       jint(p, "checked"), jint(p, "ok"), jint(p, "missing_count"),
	       jint(p, "altered_count"), jint(p, "purged"), (double)jint(p, "bytes") / (1 << 20));
}

/* The scrubber's part of `status` (scrub.h), for people. */
static void print_scrub(const json_t *sc)
{
	const json_t *p = json_object_get(sc, "pass"), *last = json_object_get(sc, "last");
	const json_t *alarms = json_object_get(sc, "alarms");
	const char *state = jstr(sc, "state", "?");

	if (!json_is_object(sc))
		return;
	printf("scrub: %s", state);
	if (json_is_object(p)) {
		printf(" since %s: at entry %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT ", ",
		       jstr(p, "started_at", "?"), jint(p, "next"), jint(p, "log_size"));
		print_pass_counts(p);
	} else if (json_is_string(json_object_get(sc, "next_at"))) {
		printf("; next pass at %s (every %" JSON_INTEGER_FORMAT " s)",
		       jstr(sc, "next_at", "?"), jint(sc, "interval_s"));
	} else if (!strcmp(state, "idle")) {
		printf("; passes only on request (custodyctl scrub --now)");
	}
	printf("; at most %.1f MiB/s\n", (double)jint(sc, "rate") / (1 << 20));
	if (json_is_object(last)) {
		printf("last scrub: %s to %s, entry %" JSON_INTEGER_FORMAT,
		       jstr(last, "started_at", "?"), jstr(last, "at", "?"), jint(last, "entry"));
		/* A pass with many findings is logged as several `scrub` entries (docs/log.md). */
		if (jint(last, "parts") > 1)
			printf(" and %" JSON_INTEGER_FORMAT " more parts", jint(last, "parts") - 1);
		printf(": ");
		print_pass_counts(last);
		putchar('\n');
	} else {
		printf("last scrub: none yet\n");
	}
	if (jint(alarms, "count") > 0) {
		const json_t *m = json_object_get(alarms, "missing");
		const json_t *a = json_object_get(alarms, "altered");

		printf("SCRUB ALARM: originals that failed the last or the running pass:");
		if (json_array_size(m)) {
			printf(" MISSING ");
			print_indexes(m, (json_int_t)json_array_size(m));
			printf(";");
		}
		if (json_array_size(a)) {
			printf(" ALTERED ");
			print_indexes(a, (json_int_t)json_array_size(a));
			printf(";");
		}
		printf(" %" JSON_INTEGER_FORMAT " in all (the journal says what was found)\n",
		       jint(alarms, "count"));
	}
}

/* ---- commands ---------------------------------------------------------------------------- */

/* `scrub`: the scrubber's state (from status: any role), exit 1 while it has open alarms, so
 * that a monitoring script can run it; `scrub --now`: start a pass (operators), exit 0 when
 * asked (a pass started or one runs). */
static int cmd_scrub(const struct cmd_args *a)
{
	static const char *const allowed[] = { "now", NULL };
	const char *now = opt(a, "now");
	const json_t *sc;
	json_t *r;
	int st;

	if ((st = check_opts("scrub", a, allowed, 0, 0)))
		return st;
	if (now && *now)
		return usage("'--now' takes no value");
	st = request(now ? json_pack("{s:s, s:b}", "op", "scrub", "now", 1)
			 : json_pack("{s:s}", "op", "status"),
		     &r);
	if (st)
		return st;
	sc = json_object_get(r, "scrub");
	if (!json_is_object(sc)) {
		json_decref(r);
		return fail(2, "this custodyd has no scrubber");
	}
	if (arg_json) {
		if (now) {
			print_json(r);
		} else {
			json_t *o = json_pack("{s:b, s:O}", "ok", 1, "scrub", sc);

			print_json(o);
			json_decref(o);
		}
	} else {
		if (now && json_is_true(json_object_get(r, "started")))
			printf("scrub: started a pass\n");
		else if (now)
			printf("scrub: not started: %s\n", jstr(r, "message", "a pass is running"));
		print_scrub(sc);
	}
	if (!now && jint(json_object_get(sc, "alarms"), "count") > 0)
		st = 1;
	json_decref(r);
	return st;
}

/* The witnesses' cosignatures and the published folder (docs/witness.md). */
static void print_witnessing(const json_t *w)
{
	const json_t *pub, *one;
	size_t i;

	if (!json_is_object(w))
		return;
	if (jint(w, "quorum") > 0) {
		if (json_is_integer(json_object_get(w, "served")))
			printf("witnessed: checkpoints are served and published once "
			       "%" JSON_INTEGER_FORMAT " witnesses cosigned them; the newest that "
			       "was: size %" JSON_INTEGER_FORMAT "\n",
			       jint(w, "quorum"), jint(w, "served"));
		else
			printf("witnessed: no checkpoint has its %" JSON_INTEGER_FORMAT
			       " cosignatures yet\n",
			       jint(w, "quorum"));
		if (json_is_string(json_object_get(w, "waiting_since")))
			printf("  a newer checkpoint waits for cosignatures since %s%s\n",
			       jstr(w, "waiting_since", "?"),
			       json_is_true(json_object_get(w, "alert"))
				   ? " (ALERT: longer than [log] witness_timeout)"
				   : "");
	}
	json_array_foreach(json_object_get(w, "witnesses"), i, one) {
		printf("witness '%s': ", jstr(one, "name", "?"));
		if (json_is_integer(json_object_get(one, "cosigned_size")))
			printf("cosigned size %" JSON_INTEGER_FORMAT " at %s",
			       jint(one, "cosigned_size"), jstr(one, "cosigned_at", "?"));
		else
			printf("no cosignature yet");
		if (json_is_string(json_object_get(one, "last_error")))
			printf("; last error %s: %s; next try %s", jstr(one, "last_error_at", "?"),
			       jstr(one, "last_error", ""), jstr(one, "next_try_at", "?"));
		printf("\n");
	}
	pub = json_object_get(w, "published");
	if (json_is_string(json_object_get(pub, "path"))) {
		printf("published in '%s': ", jstr(pub, "path", "?"));
		if (json_is_integer(json_object_get(pub, "size")))
			printf("size %" JSON_INTEGER_FORMAT " at %s", jint(pub, "size"),
			       jstr(pub, "at", "?"));
		else
			printf("nothing yet");
		if (json_is_string(json_object_get(pub, "last_error")))
			printf("; last error: %s", jstr(pub, "last_error", ""));
		printf("\n");
	}
}

static int cmd_status(void)
{
	const json_t *cp, *p, *open, *srv, *zones, *z;
	json_t *r;
	char up[32];
	size_t i;
	int st;

	st = request(json_pack("{s:s}", "op", "status"), &r);
	if (st)
		return st;
	if (arg_json) {
		print_json(r);
		json_decref(r);
		return 0;
	}
	cp = json_object_get(r, "checkpoint");
	printf("log: %" JSON_INTEGER_FORMAT " entries", jint(r, "size"));
	if (json_is_object(cp))
		printf("; newest signed checkpoint at size %" JSON_INTEGER_FORMAT "\n",
		       jint(cp, "size"));
	else
		printf("; no checkpoint signed yet\n");
	p = json_object_get(r, "pipeline");
	if (p) {
		printf("pipeline: %" JSON_INTEGER_FORMAT " queued, %" JSON_INTEGER_FORMAT
		       " in flight; since start %" JSON_INTEGER_FORMAT
		       " ingested, %" JSON_INTEGER_FORMAT " duplicates, %" JSON_INTEGER_FORMAT
		       " damaged, %" JSON_INTEGER_FORMAT " failed%s\n",
		       jint(p, "queued"), jint(p, "in_flight"), jint(p, "ingested"),
		       jint(p, "duplicates"), jint(p, "damaged"), jint(p, "failed"),
		       json_is_true(json_object_get(p, "store_full"))
			   ? "; THE STORE IS FULL: ingest paused"
			   : "");
		if (json_is_string(json_object_get(p, "last_error")))
			printf("last pipeline error: %s (%s)\n", jstr(p, "last_error", ""),
			       jstr(p, "last_error_at", "?"));
	}
	zones = json_object_get(r, "zones");
	json_array_foreach(zones, i, z) {
		printf("zone '%s' (%s, %s): ", jstr(z, "name", "?"), jstr(z, "kind", "?"),
		       jstr(z, "path", "?"));
		if (json_is_integer(json_object_get(z, "waiting")))
			printf("%" JSON_INTEGER_FORMAT " files waiting\n", jint(z, "waiting"));
		else
			printf("not watched\n");
	}
	open = json_object_get(r, "open");
	printf("open items: %" JSON_INTEGER_FORMAT " stored late, %" JSON_INTEGER_FORMAT
	       " with no trustworthy time, %" JSON_INTEGER_FORMAT " damaged without a report"
	       "%s\n",
	       jint(open, "late"), jint(open, "unknown_time"), jint(open, "damaged_unreported"),
	       json_is_true(json_object_get(json_object_get(r, "index"), "caught_up"))
		   ? ""
		   : " (the daemon is still reading the log: these may be incomplete)");
	print_scrub(json_object_get(r, "scrub"));
	print_witnessing(json_object_get(r, "witnessing"));
	srv = json_object_get(r, "server");
	printf("socket: %" JSON_INTEGER_FORMAT " clients; since start %" JSON_INTEGER_FORMAT
	       " requests, %" JSON_INTEGER_FORMAT " errors, %" JSON_INTEGER_FORMAT " refused\n",
	       jint(srv, "clients"), jint(srv, "requests"), jint(srv, "errors"),
	       jint(srv, "refusals"));
	if (json_is_string(json_object_get(srv, "last_error")))
		printf("last socket error: %s (%s)\n", jstr(srv, "last_error", ""),
		       jstr(srv, "last_error_at", "?"));
	print_duration(jint(r, "uptime_s") * 1000000, up, sizeof(up));
	printf("up %s since %s%s\n", up, jstr(r, "started_at", "?"),
	       json_is_true(json_object_get(r, "stopping")) ? "; STOPPING" : "");
	json_decref(r);
	return 0;
}

static int cmd_entry(const struct cmd_args *a)
{
	uint64_t index;
	json_t *r;
	char *text;
	int st;

	if ((st = check_opts("entry", a, NULL, 1, 1)) ||
	    (st = parse_u64(a->pos[0], "INDEX", &index)))
		return st;
	st = request(json_pack("{s:s, s:I}", "op", "entry", "index", (json_int_t)index), &r);
	if (st)
		return st;
	if (arg_json) {
		print_json(r);
	} else {
		text = json_dumps(json_object_get(r, "entry"), JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("entry %" PRIu64 ":\n%s\n", index, text ? text : "?");
		free(text);
	}
	json_decref(r);
	return 0;
}

static int write_out(const char *out, const char *text)
{
	FILE *f;

	if (!out) {
		fputs(text, stdout);
		if (!*text || text[strlen(text) - 1] != '\n')
			putchar('\n');
		return 0;
	}
	f = fopen(out, "we");
	if (!f)
		return fail(2, "cannot write '%s': %s", out, strerror(errno));
	fputs(text, f);
	if (fclose(f) != 0)
		return fail(2, "cannot write '%s': %s", out, strerror(errno));
	return 0;
}

/* SHA-256 of a local file, as lowercase hex. */
static int file_sha256(const char *path, char hex[2 * VFY_HASH_LEN + 1])
{
	auto_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	uint8_t digest[VFY_HASH_LEN];
	struct err_detail e;
	struct stat st;
	uint64_t size;

	if (fd < 0 || fstat(fd, &st) < 0)
		return fail(2, "cannot read '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(2, "'%s' is not a regular file", path);
	if (vfy_sha256_fd(fd, digest, &size, &e) < 0)
		return fail(2, "%s", e.msg);
	hex_encode(digest, VFY_HASH_LEN, hex);
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int cmd_proof(const struct cmd_args *a)
{
	static const char *const allowed[] = { "size", "out", NULL };
	const char *what, *out = opt(a, "out");
	struct vfy_verifier key;
	struct vfy_tlog_proof p;
	struct vfy_checkpoint cp;
	struct err_detail e;
	uint64_t index, size;
	char hex[2 * VFY_HASH_LEN + 1];
	json_t *req, *r;
	const char *text;
	int st;

	if ((st = check_opts("proof", a, allowed, 1, 1)))
		return st;
	what = a->pos[0];
	if (all_digits(what)) {
		if ((st = parse_u64(what, "INDEX", &index)))
			return st;
		req = json_pack("{s:s, s:I}", "op", "proof", "index", (json_int_t)index);
	} else {
		if ((st = file_sha256(what, hex)))
			return st;
		req = json_pack("{s:s, s:s}", "op", "proof", "sha256", hex);
	}
	if (opt(a, "size")) {
		if ((st = parse_u64(opt(a, "size"), "--size", &size)))
			return st;
		json_object_set_new(req, "size", json_integer((json_int_t)size));
	}
	st = request(req, &r);
	if (st)
		return st;
	text = jstr(r, "proof", "");
	/* Check what the daemon handed out when a key is at hand; an auditor re-checks it with
	 * custody-verify anyway. */
	if (load_key(&key, &e) == 0) {
		if (vfy_tlog_proof_parse(text, strlen(text), &p, &e) < 0 ||
		    vfy_tlog_proof_verify(&p, &key, &cp, &e) < 0) {
			json_decref(r);
			return fail(1, "the proof from custodyd does not verify: %s", e.msg);
		}
		vfy_tlog_proof_done(&p);
		if (arg_json)
			json_object_set_new(r, "client", json_pack("{s:b}", "verified", 1));
	}
	if (arg_json) {
		print_json(r);
		if (out)
			st = write_out(out, text);
	} else {
		st = write_out(out, text);
		if (!st && out)
			fprintf(stderr,
				"custodyctl: wrote the proof of entry %" JSON_INTEGER_FORMAT
				" against the checkpoint of size %" JSON_INTEGER_FORMAT
				" to '%s'\n",
				jint(r, "index"), jint(r, "size"), out);
	}
	json_decref(r);
	return st;
}

/* The end of proof, consistency and checkpoint: the daemon's reply with --json, the file
 * itself otherwise (or to --out).  Takes @r. */
static int emit_file(const struct cmd_args *a, json_t *r, const char *text)
{
	int st;

	if (arg_json)
		print_json(r);
	st = arg_json && !opt(a, "out") ? 0 : write_out(opt(a, "out"), text);
	json_decref(r);
	return st;
}

static int cmd_consistency(const struct cmd_args *a)
{
	static const char *const allowed[] = { "out", NULL };
	struct vfy_verifier key;
	struct vfy_consistency c;
	struct vfy_checkpoint o, n;
	struct err_detail e;
	uint64_t old, new;
	json_t *req, *r;
	const char *text;
	int st;

	if ((st = check_opts("consistency", a, allowed, 1, 2)) ||
	    (st = parse_u64(a->pos[0], "OLD", &old)))
		return st;
	req = json_pack("{s:s, s:I}", "op", "consistency", "old", (json_int_t)old);
	if (a->npos == 2) {
		if ((st = parse_u64(a->pos[1], "NEW", &new))) {
			json_decref(req);
			return st;
		}
		json_object_set_new(req, "new", json_integer((json_int_t) new));
	}
	st = request(req, &r);
	if (st)
		return st;
	text = jstr(r, "consistency", "");
	if (load_key(&key, &e) == 0) {
		if (vfy_consistency_parse(text, strlen(text), &c, &e) < 0) {
			json_decref(r);
			return fail(1, "the consistency proof from custodyd does not parse: %s",
				    e.msg);
		}
		st = vfy_consistency_verify(&c, &key, &o, &n, &e);
		vfy_consistency_done(&c);
		if (st < 0) {
			json_decref(r);
			return fail(1, "the consistency proof from custodyd does not verify: %s",
				    e.msg);
		}
		if (arg_json)
			json_object_set_new(r, "client", json_pack("{s:b}", "verified", 1));
	}
	return emit_file(a, r, text);
}

static int cmd_checkpoint(const struct cmd_args *a)
{
	static const char *const allowed[] = { "size", "out", NULL };
	struct vfy_verifier key;
	struct vfy_checkpoint cp;
	struct err_detail e;
	uint64_t size;
	json_t *req, *r;
	const char *text;
	int st;

	if ((st = check_opts("checkpoint", a, allowed, 0, 0)))
		return st;
	req = json_pack("{s:s}", "op", "checkpoint");
	if (opt(a, "size")) {
		if ((st = parse_u64(opt(a, "size"), "--size", &size))) {
			json_decref(req);
			return st;
		}
		json_object_set_new(req, "size", json_integer((json_int_t)size));
	}
	st = request(req, &r);
	if (st)
		return st;
	text = jstr(r, "checkpoint", "");
	if (load_key(&key, &e) == 0) {
		if (vfy_checkpoint_open(text, strlen(text), NULL, &key, 1, &cp, NULL, &e) < 0) {
			json_decref(r);
			return fail(1, "the checkpoint from custodyd does not verify: %s", e.msg);
		}
		if (arg_json)
			json_object_set_new(r, "client", json_pack("{s:b}", "verified", 1));
	}
	return emit_file(a, r, text);
}

static int cmd_log(const struct cmd_args *a)
{
	static const char *const allowed[] = { "since",	  "before", "zone",  "device",
					       "officer", "type",   "limit", NULL };
	static const char *const strings[] = { "zone", "device", "officer", "type" };
	json_t *req, *r, *entries;
	uint64_t v;
	size_t n;
	int st;

	if ((st = check_opts("log", a, allowed, 0, 0)))
		return st;
	req = json_pack("{s:s}", "op", "log");
	if (!req)
		return fail(2, "out of memory");
	if (opt(a, "since")) {
		if (all_digits(opt(a, "since"))) {
			if ((st = parse_u64(opt(a, "since"), "--since", &v)))
				goto out;
			json_object_set_new(req, "since", json_integer((json_int_t)v));
		} else {
			json_object_set_new(req, "since", json_string(opt(a, "since")));
		}
	}
	for (size_t i = 0; i < 2; i++) {
		const char *key = i ? "limit" : "before";

		if (!opt(a, key))
			continue;
		if ((st = parse_u64(opt(a, key), key, &v)))
			goto out;
		json_object_set_new(req, key, json_integer((json_int_t)v));
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		if (opt(a, strings[i]))
			json_object_set_new(req, strings[i], json_string(opt(a, strings[i])));
	st = request(TAKE_PTR(req), &r);
	if (st)
		return st;
	if (arg_json) {
		print_json(r);
		json_decref(r);
		return 0;
	}
	entries = json_object_get(r, "entries");
	n = json_array_size(entries);
	for (size_t i = n; i-- > 0;) {
		const json_t *e = json_array_get(entries, i);

		print_entry_line(jint(e, "index"), json_object_get(e, "entry"), "");
	}
	if (!n)
		printf("no entries match (looked at %" JSON_INTEGER_FORMAT ")\n",
		       jint(r, "scanned"));
	if (json_is_true(json_object_get(r, "truncated")))
		fprintf(stderr,
			"custodyctl: there may be more: add --before %" JSON_INTEGER_FORMAT
			" to go on\n",
			jint(r, "next_before"));
	json_decref(r);
	return 0;
out:
	json_decref(req);
	return st;
}

static int cmd_annotate(const struct cmd_args *a)
{
	json_t *req, *r;
	int st;

	if (a->npos != 1)
		return usage("'annotate' takes one KIND (interruption, late_storage, remote_duty, "
			     "damage_report, case, approval, hold, device) and its fields as "
			     "--FIELD VALUE");
	req = json_pack("{s:s, s:s}", "op", "annotate", "kind", a->pos[0]);
	for (size_t i = 0; req && i < a->nopts; i++) {
		const char *name = a->name[i], *val = a->value[i];
		uint64_t v;

		if (!strcmp(name, "entry")) {
			if ((st = parse_u64(val, "--entry", &v)))
				goto fail;
			json_object_set_new(req, name, json_integer((json_int_t)v));
		} else if (!strcmp(name, "entries")) {
			json_t *list = json_array();
			char *copy = strdup(val), *save = NULL;

			for (char *tok = copy ? strtok_r(copy, ", ", &save) : NULL; tok;
			     tok = strtok_r(NULL, ", ", &save)) {
				if ((st = parse_u64(tok, "--entries", &v))) {
					free(copy);
					json_decref(list);
					goto fail;
				}
				json_array_append_new(list, json_integer((json_int_t)v));
			}
			free(copy);
			json_object_set_new(req, name, list);
		} else {
			json_object_set_new(req, name, json_string(val));
		}
	}
	st = request(req, &r);
	if (st)
		return st;
	if (arg_json)
		print_json(r);
	else
		printf("recorded the %s annotation as entry %" JSON_INTEGER_FORMAT "\n", a->pos[0],
		       jint(r, "index"));
	json_decref(r);
	return 0;
fail:
	json_decref(req);
	return st;
}

/* ---- copy-out, retention, purge ---------------------------------------------------------- */

/* fsync the folder holding @path, so that the new name survives a crash. */
static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	auto_free char *dir =
	    slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	auto_close int fd = -1;

	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

/* Copy @src (from offset 0) into the new file @to, fsynced.  On failure @to is removed. */
static int copy_original(int src, const char *to)
{
	auto_free char *buf = malloc(1u << 20);
	auto_close int out = -1;
	off_t off = 0;
	int r = 0;

	if (!buf)
		return fail(2, "out of memory");
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return fail(2, "cannot create '%s': %s%s", to, strerror(errno),
			    errno == EEXIST ? " (copy-out never overwrites a file)" : "");
	/* Exactly 0600, whatever the umask. */
	if (fchmod(out, 0600) < 0)
		r = -errno;
	while (!r) {
		ssize_t n = pread(src, buf, 1u << 20, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (!n)
			break;
		r = file_write_full(out, buf, (size_t)n);
		off += n;
	}
	if (!r && fsync(out) < 0)
		r = -errno;
	if (!r)
		r = sync_parent(to);
	if (r) {
		unlink(to);
		return fail(2, "cannot copy to '%s': %s (removed it)", to, strerror(-r));
	}
	return 0;
}

/* Where the copy goes, for the record: this host and FILE's absolute path (its folder's
 * symbolic links resolved; FILE itself does not exist yet).  malloc()'d, NULL without memory. */
static char *copy_destination(const char *to)
{
	const char *slash = strrchr(to, '/'), *base = slash ? slash + 1 : to;
	auto_free char *dir =
	    slash ? strndup(to, slash == to ? 1 : (size_t)(slash - to)) : strdup(".");
	auto_free char *real = dir ? realpath(dir, NULL) : NULL;
	const char *folder = real ? real : dir;
	char host[256] = "?", *out = NULL;

	if (!folder)
		return NULL;
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	if (asprintf(&out, "%s:%s%s%s", host, folder, strcmp(folder, "/") ? "/" : "", base) < 0)
		return NULL;
	return out;
}

static int cmd_copy_out(const struct cmd_args *a)
{
	static const char *const allowed[] = { "to", "purpose", NULL };
	const char *to = opt(a, "to"), *want, *name;
	auto_free char *dest = NULL;
	char hex[2 * VFY_HASH_LEN + 1];
	auto_close int src = -1;
	struct stat sb;
	uint64_t index;
	json_t *r, *entry;
	int st;

	if ((st = check_opts("copy-out", a, allowed, 1, 1)))
		return st;
	if (!to || !*to)
		return usage("'copy-out' needs --to FILE");
	if ((st = parse_u64(a->pos[0], "INDEX", &index)))
		return st;
	/* Before asking: a copy-out that cannot land is not worth an access record. */
	if (lstat(to, &sb) == 0)
		return fail(2, "'%s' exists; copy-out never overwrites a file: give a new name",
			    to);
	if (errno != ENOENT)
		return fail(2, "cannot use '%s': %s", to, strerror(errno));
	dest = copy_destination(to);
	if (!dest)
		return fail(2, "out of memory");
	st = request_fd(json_pack("{s:s, s:I, s:s, s:s*}", "op", "copy-out", "index",
				  (json_int_t)index, "destination", dest, "purpose",
				  opt(a, "purpose")),
			&r, &src);
	if (st)
		return st;
	entry = json_object_get(r, "entry");
	want = jstr(entry, "sha256", NULL);
	name = jstr(entry, "name", "?");
	if (src < 0 || !want) {
		json_decref(r);
		return fail(2, "custodyd answered without %s",
			    src < 0 ? "the original's descriptor" : "the entry's SHA-256");
	}
	st = copy_original(src, to);
	if (!st)
		st = file_sha256(to, hex);
	if (st) {
		json_decref(r);
		return st;
	}
	if (strcmp(hex, want)) {
		/* A copy that is not the original must not circulate as one. */
		unlink(to);
		fprintf(
		    stderr,
		    "custodyctl: the copy of entry %" PRIu64 " does not match its entry: "
		    "SHA-256 %s, the entry records %s; removed '%s'.  The original in the store "
		    "has changed: tell the operators\n",
		    index, hex, want, to);
		if (arg_json) {
			json_object_set_new(
			    r, "client",
			    json_pack("{s:s, s:s, s:b}", "to", to, "sha256", hex, "verified", 0));
			print_json(r);
		}
		json_decref(r);
		return 1;
	}
	if (arg_json) {
		json_object_set_new(
		    r, "client",
		    json_pack("{s:s, s:s, s:b}", "to", to, "sha256", hex, "verified", 1));
		print_json(r);
	} else {
		printf("copied entry %" PRIu64 " ('%s', %" JSON_INTEGER_FORMAT " bytes) to '%s' "
		       "under %s; its SHA-256 matches the entry: %s\n",
		       index, name, jint(entry, "size"), to,
		       json_is_integer(json_object_get(r, "approval")) ? "an approval"
								       : "the operator role",
		       hex);
		if (json_is_integer(json_object_get(r, "approval")))
			printf("approval: entry %" JSON_INTEGER_FORMAT "\n", jint(r, "approval"));
	}
	json_decref(r);
	return 0;
}

static void print_retained(const json_t *o)
{
	const json_t *k;
	size_t i;

	printf(
	    "  entry %-6" JSON_INTEGER_FORMAT " zone %s, device %s, officer %s, recorded end %s, "
	    "ingested %s; due %s (%s retention %" JSON_INTEGER_FORMAT " s)\n",
	    jint(o, "index"), jstr(o, "zone", "-"), jstr(o, "device", "-"), jstr(o, "officer", "-"),
	    jstr(o, "recorded_end", "unknown"), jstr(o, "ingested_at", "?"), jstr(o, "due_at", "?"),
	    jstr(o, "retention_from", "?"), jint(o, "retention_s"));
	json_array_foreach(json_object_get(o, "kept_by"), i, k) {
		if (!strcmp(jstr(k, "kind", ""), "case"))
			printf("      kept: bound to case '%s' (annotation %" JSON_INTEGER_FORMAT
			       ")\n",
			       jstr(k, "case", "?"), jint(k, "annotation"));
		else if (!strcmp(jstr(k, "kind", ""), "open"))
			printf("      kept: open item %s (%s)\n", jstr(k, "item", "?"),
			       jstr(k, "close_with", ""));
		else
			printf("      kept: on hold (annotation %" JSON_INTEGER_FORMAT
			       " by %s): %s\n",
			       jint(k, "annotation"), jstr(k, "by", "?"), jstr(k, "reason", ""));
	}
}

static int cmd_retention(const struct cmd_args *a)
{
	static const char *const allowed[] = { "limit", NULL };
	const json_t *counts, *o;
	json_t *req, *r;
	uint64_t limit;
	size_t i;
	int st;

	if ((st = check_opts("retention", a, allowed, 0, 0)))
		return st;
	req = json_pack("{s:s}", "op", "retention");
	if (opt(a, "limit")) {
		if ((st = parse_u64(opt(a, "limit"), "--limit", &limit))) {
			json_decref(req);
			return st;
		}
		json_object_set_new(req, "limit", json_integer((json_int_t)limit));
	}
	st = request(req, &r);
	if (st)
		return st;
	if (arg_json) {
		print_json(r);
		json_decref(r);
		return 0;
	}
	counts = json_object_get(r, "counts");
	printf("%" JSON_INTEGER_FORMAT
	       " clip%s past %s retention period as of %s (custodyctl purge "
	       "INDEX removes one):\n",
	       jint(counts, "due"), jint(counts, "due") == 1 ? "" : "s",
	       jint(counts, "due") == 1 ? "its" : "their", jstr(r, "now", "?"));
	json_array_foreach(json_object_get(r, "due"), i, o)
		print_retained(o);
	printf("%" JSON_INTEGER_FORMAT " past the period but kept:\n", jint(counts, "kept"));
	json_array_foreach(json_object_get(r, "kept"), i, o)
		print_retained(o);
	printf(
	    "%" JSON_INTEGER_FORMAT " within their period, %" JSON_INTEGER_FORMAT " kept forever, "
	    "%" JSON_INTEGER_FORMAT " purged, of %" JSON_INTEGER_FORMAT " clips%s\n",
	    jint(counts, "within_period"), jint(counts, "forever"), jint(counts, "purged"),
	    jint(counts, "clips"),
	    json_is_true(json_object_get(r, "truncated")) ? " (lists truncated: --limit N)" : "");
	json_decref(r);
	return 0;
}

static int cmd_purge(const struct cmd_args *a)
{
	static const char *const allowed[] = { "reason", NULL };
	json_t *req, *r;
	uint64_t index;
	int st;

	if ((st = check_opts("purge", a, allowed, 1, 1)))
		return st;
	if ((st = parse_u64(a->pos[0], "INDEX", &index)))
		return st;
	req = json_pack("{s:s, s:I}", "op", "purge", "index", (json_int_t)index);
	if (req && opt(a, "reason"))
		json_object_set_new(req, "reason", json_string(opt(a, "reason")));
	st = request(req, &r);
	if (st)
		return st;
	if (arg_json)
		print_json(r);
	else if (json_is_true(json_object_get(r, "finished")))
		printf("entry %" PRIu64 " was purged before; removed its original '%s' now\n",
		       index, jstr(r, "stored", "?"));
	else if (json_is_integer(json_object_get(r, "kept_for")))
		printf("purged entry %" PRIu64 ": logged as entry %" JSON_INTEGER_FORMAT
		       "; its original '%s' stays: entry %" JSON_INTEGER_FORMAT
		       " records the same bytes and is not purged\n",
		       index, jint(r, "index"), jstr(r, "stored", "?"), jint(r, "kept_for"));
	else
		printf("purged entry %" PRIu64 ": logged as entry %" JSON_INTEGER_FORMAT
		       "; %s '%s'\n",
		       index, jint(r, "index"),
		       json_is_true(json_object_get(r, "removed"))
			   ? "removed its original"
			   : "its original was already missing from the store:",
		       jstr(r, "stored", "?"));
	json_decref(r);
	return 0;
}

/* ---- verify ------------------------------------------------------------------------------ */

static json_t *hexj(const uint8_t h[ING_HASH_LEN])
{
	char text[2 * ING_HASH_LEN + 1];

	hex_encode(h, ING_HASH_LEN, text);
	return json_string(text);
}

/* The fingerprint as the daemon's verify takes it, its key packets cut to fit @budget bytes. */
static json_t *fingerprint_json(const struct ing_fingerprint *fp, const char *name,
				const char *device, const char *start, uint64_t budget)
{
	json_t *o = json_object(), *streams = json_array(), *tags = json_object();
	uint64_t total = 0, allowed;

	for (unsigned i = 0; i < fp->n_streams; i++)
		total += fp->streams[i].n_keys;
	allowed = budget / KEY_JSON_BYTES;
	json_object_set_new(o, "sha256", hexj(fp->sha256));
	json_object_set_new(o, "size", json_integer((json_int_t)fp->size));
	json_object_set_new(o, "name", json_string(name));
	if (fp->duration_us != ING_NOTS)
		json_object_set_new(o, "duration_us", json_integer(fp->duration_us));
	if (fp->container)
		json_object_set_new(o, "container", json_string(fp->container));
	if (fp->creation_time)
		json_object_set_new(tags, "creation_time", json_string(fp->creation_time));
	if (fp->make)
		json_object_set_new(tags, "make", json_string(fp->make));
	if (fp->model)
		json_object_set_new(tags, "model", json_string(fp->model));
	if (fp->serial)
		json_object_set_new(tags, "serial", json_string(fp->serial));
	json_object_set_new(o, "tags", tags);
	if (device)
		json_object_set_new(o, "device", json_string(device));
	if (start)
		json_object_set_new(o, "recorded_start", json_string(start));
	for (unsigned i = 0; i < fp->n_streams; i++) {
		const struct ing_stream *st = &fp->streams[i];
		json_t *s = json_pack("{s:I, s:s, s:s, s:I, s:o}", "index", (json_int_t)st->index,
				      "type", st->type, "codec", st->codec, "packets",
				      (json_int_t)st->packets, "digest", hexj(st->digest));
		size_t keep = st->n_keys;

		if (total > allowed)
			keep = (size_t)(st->n_keys * allowed / total);
		if (st->n_keys) {
			json_t *keys = json_array();

			for (size_t k = 0; k < keep; k++)
				json_array_append_new(
				    keys, json_pack("{s:o, s:o, s:I}", "hash",
						    hexj(st->keys[k].hash), "pts_us",
						    st->keys[k].pts_us == ING_NOTS
							? json_null()
							: json_integer(st->keys[k].pts_us),
						    "ordinal", (json_int_t)st->keys[k].ordinal));
			json_object_set_new(s, "keys", keys);
			json_object_set_new(s, "keys_total", json_integer((json_int_t)st->n_keys));
		}
		json_array_append_new(streams, s);
	}
	json_object_set_new(o, "streams", streams);
	return o;
}

/* Does the proof's entry agree with the local file?  NULL when it does, else why not. */
static const char *entry_disagrees(const char *result, const struct ing_fingerprint *fp,
				   const uint8_t *extra, size_t len)
{
	json_t *entry = json_loadb((const char *)extra, len, 0, NULL);
	const char *why = NULL;
	char hex[2 * ING_HASH_LEN + 1];

	if (!entry)
		return "the proven entry does not parse";
	if (!strcmp(result, "exact")) {
		hex_encode(fp->sha256, ING_HASH_LEN, hex);
		if (strcmp(jstr(entry, "sha256", ""), hex))
			why = "the proven entry records another SHA-256 than the file's";
	} else if (!strcmp(result, "remux")) {
		for (unsigned i = 0; i < fp->n_streams && !why; i++) {
			const json_t *s;
			size_t k;
			bool found = false;

			if (strcmp(fp->streams[i].type, "video") &&
			    strcmp(fp->streams[i].type, "audio"))
				continue;
			hex_encode(fp->streams[i].digest, ING_HASH_LEN, hex);
			json_array_foreach(json_object_get(entry, "streams"), k, s)
				found = found || !strcmp(jstr(s, "digest", ""), hex);
			if (!found)
				why = "the proven entry lacks one of the file's stream digests";
		}
	}
	json_decref(entry);
	return why;
}

static void print_match(const json_t *r, const char *result, const char *file)
{
	const json_t *entry = json_object_get(r, "entry"), *notes, *n;
	const json_t *storage = json_object_get(r, "storage");
	const json_t *explained = json_object_get(storage, "explained_by");
	json_int_t index = jint(r, "index");
	size_t i;

	if (!strcmp(result, "exact")) {
		printf("exact: '%s' is entry %" JSON_INTEGER_FORMAT, file, index);
	} else if (!strcmp(result, "remux")) {
		printf("remux: '%s' holds the same streams as entry %" JSON_INTEGER_FORMAT
		       " in another container",
		       file, index);
	} else if (!strcmp(result, "excerpt")) {
		const json_t *ex = json_object_get(r, "excerpt");
		char from[32] = "?", to[32] = "?";

		if (json_is_integer(json_object_get(ex, "from_us")))
			print_duration(jint(ex, "from_us"), from, sizeof(from));
		if (json_is_integer(json_object_get(ex, "to_us")))
			print_duration(jint(ex, "to_us"), to, sizeof(to));
		printf("excerpt: '%s' is %s to %s of entry %" JSON_INTEGER_FORMAT, file, from, to,
		       index);
		if (json_is_string(json_object_get(ex, "from")))
			printf(" (%s to %s)", jstr(ex, "from", "?"), jstr(ex, "to", "?"));
		if (jint(ex, "keys_checked") < jint(ex, "keys_total"))
			printf(" [checked the first %" JSON_INTEGER_FORMAT
			       " of %" JSON_INTEGER_FORMAT " key packets]",
			       jint(ex, "keys_checked"), jint(ex, "keys_total"));
	} else {
		const json_t *alt = json_object_get(r, "altered");
		const json_t *claims = json_object_get(alt, "claims"), *c, *s;

		printf("altered: '%s' claims to be entry %" JSON_INTEGER_FORMAT " (by", file,
		       index);
		json_array_foreach(claims, i, c)
			printf("%s %s", i ? "," : "", json_string_value(c));
		printf("), but its content differs:");
		json_array_foreach(json_object_get(alt, "streams"), i, s)
			printf("%s %s stream %" JSON_INTEGER_FORMAT " %s", i ? "," : "",
			       jstr(s, "type", "?"), jint(s, "stream"),
			       json_is_true(json_object_get(s, "same")) ? "identical" : "differs");
		if (!json_array_size(json_object_get(alt, "streams")))
			printf(" its bytes");
		if (json_is_string(json_object_get(alt, "reason")))
			printf("\n  why: %s", jstr(alt, "reason", ""));
	}
	printf("\n  original: '%s' from zone '%s', device %s, officer %s, recorded %s, %s",
	       jstr(entry, "name", "?"), jstr(entry, "zone", "?"), jstr(entry, "device", "?"),
	       jstr(entry, "officer", "?"), jstr(entry, "recorded_start", "at an unknown time"),
	       storage_words(jstr(storage, "status", NULL)));
	if (json_array_size(explained)) {
		printf(" (explained by entry");
		json_array_foreach(explained, i, n)
			printf("%s %" JSON_INTEGER_FORMAT, i ? "," : "", json_integer_value(n));
		printf(")");
	} else if (!strcmp(jstr(storage, "status", ""), "late") ||
		   !strcmp(jstr(storage, "status", ""), "unknown_time")) {
		printf(", not explained");
	}
	printf("\n");
	if (!strcmp(result, "excerpt"))
		printf("  %s\n", jstr(json_object_get(r, "excerpt"), "note", ""));
	notes = json_object_get(r, "annotations");
	if (json_array_size(notes))
		printf("  annotations:\n");
	json_array_foreach(notes, i, n)
		print_entry_line(jint(n, "index"), json_object_get(n, "entry"), "    ");
}

static int cmd_verify(const struct cmd_args *a)
{
	static const char *const allowed[] = { "device", "recorded_start", NULL };
	struct ing_fingerprint *fp = NULL;
	struct vfy_verifier key;
	struct vfy_tlog_proof p = { 0 };
	struct vfy_checkpoint cp;
	struct err_detail e;
	auto_close int fd = -1;
	const char *path, *name, *result, *proof, *why = NULL;
	json_t *r = NULL;
	bool verified = false, match;
	char verdict[512] = "";
	struct ing_options opts = { .limits = ING_LIMITS_INIT };
	int st;

	if ((st = check_opts("verify", a, allowed, 1, 1)))
		return st;
	path = a->pos[0];
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail(2, "cannot read '%s': %s", path, strerror(errno));
	/* The daemon's stream and packet limits when its config was read: a file it took whole
	 * (up to [ingest] max_streams streams) is read whole here too. */
	if (config && config->max_streams)
		opts.limits.max_streams = config->max_streams;
	if (config && config->max_packets)
		opts.limits.max_packets = config->max_packets;
	if (ing_fingerprint_fd(fd, name, &opts, &fp, &e) < 0)
		return fail(2, "cannot fingerprint '%s': %s", path, e.msg);
	if (fp->damaged && !arg_json)
		fprintf(stderr,
			"custodyctl: note: '%s' could not be read completely (%s); "
			"checking what was read\n",
			path, fp->error);
	st =
	    request(json_pack("{s:s, s:o}", "op", "verify", "fingerprint",
			      fingerprint_json(fp, name, opt(a, "device"), opt(a, "recorded_start"),
					       max_request > 65536 ? max_request - 65536 : 0)),
		    &r);
	if (st)
		goto out;
	result = jstr(r, "result", "unknown");
	match = strcmp(result, "unknown") != 0;
	proof = json_string_value(json_object_get(r, "proof"));
	if (match && !proof) {
		snprintf(verdict, sizeof(verdict), "not verified: %s",
			 jstr(r, "proof_status", "the daemon sent no proof"));
	} else if (match && load_key(&key, &e) < 0) {
		snprintf(verdict, sizeof(verdict), "not verified: %s", e.msg);
	} else if (match) {
		if (vfy_tlog_proof_parse(proof, strlen(proof), &p, &e) < 0 ||
		    vfy_tlog_proof_verify(&p, &key, &cp, &e) < 0) {
			snprintf(verdict, sizeof(verdict),
				 "NOT VERIFIED: the proof from custodyd "
				 "does not verify: %s",
				 e.msg);
		} else if ((json_int_t)p.index != jint(r, "index")) {
			snprintf(verdict, sizeof(verdict),
				 "NOT VERIFIED: the proof is for entry %" PRIu64
				 ", not the entry named",
				 p.index);
		} else if ((why = entry_disagrees(result, fp, p.extra, p.extra_len))) {
			snprintf(verdict, sizeof(verdict), "NOT VERIFIED: %s", why);
		} else {
			verified = true;
			snprintf(verdict, sizeof(verdict),
				 "verified: entry %" PRIu64 " is in the "
				 "log '%s' under the signed checkpoint of size %" PRIu64,
				 p.index, cp.origin, cp.size);
		}
		vfy_tlog_proof_done(&p);
	}
	if (arg_json) {
		json_object_set_new(
		    r, "client", json_pack("{s:b, s:s}", "verified", verified, "message", verdict));
		print_json(r);
	} else if (!match) {
		printf("unknown: no ingested original matches '%s'%s\n", path,
		       json_is_false(json_object_get(r, "index_caught_up"))
			   ? " (the daemon is still reading the log: names, devices and times "
			     "were checked against part of it)"
			   : "");
	} else {
		print_match(r, result, path);
		printf("  proof: %s\n", verdict);
	}
	st = verified && strcmp(result, "altered") ? 0 : 1;
out:
	json_decref(r);
	ing_fingerprint_free(fp);
	return st;
}

/* ---- review and report (docs/review-format.md; rendering in ctl/review.c) ---------------- */

/* The answer as documented: the reply without "ok" and "id". */
static void strip_reply(json_t *r)
{
	json_object_del(r, "ok");
	json_object_del(r, "id");
}

static int cmd_review(const struct cmd_args *a)
{
	static const char *const opts[] = { "html", NULL };
	const char *html = opt(a, "html");
	struct err_detail e;
	json_t *r;
	int st;

	if ((st = check_opts("review", a, opts, 1, 1)))
		return st;
	/* Every original of the case is read back from the store: about 1 s per GB. */
	reply_timeout_ms = 6 * 3600 * 1000;
	st = request(json_pack("{s:s, s:s}", "op", "review", "case", a->pos[0]), &r);
	if (st)
		return st;
	strip_reply(r);
	if (html && ctl_review_html(r, html, &e) < 0) {
		json_decref(r);
		return fail(2, "cannot write the page '%s': %s", html, e.msg);
	}
	if (arg_json) {
		print_json(r);
		st = json_is_true(json_object_get(r, "complete")) ? 0 : 1;
	} else {
		st = ctl_review_print(r, stdout);
	}
	if (html)
		fprintf(stderr, "custodyctl: the review is in '%s'\n", html);
	json_decref(r);
	return st;
}

static int cmd_report(const struct cmd_args *a)
{
	static const char *const opts[] = { "from", "to", "year", "open", "csv", NULL };
	const char *from = opt(a, "from"), *to = opt(a, "to"), *year = opt(a, "year");
	bool open = opt(a, "open") != NULL, csv = opt(a, "csv") != NULL;
	json_t *req, *r;
	uint64_t y;
	int st;

	if ((st = check_opts("report", a, opts, 0, 0)))
		return st;
	if (csv && arg_json)
		return usage("give --json or --csv, not both");
	if ((!!year + !!open + !!(from || to)) != 1 || (!year && !open && (!from || !to)))
		return usage("'report' takes --from TIME --to TIME, --year YEAR or --open");
	req = json_pack("{s:s}", "op", "report");
	if (year) {
		if ((st = parse_u64(year, "--year", &y))) {
			json_decref(req);
			return st;
		}
		json_object_set_new(req, "year", json_integer((json_int_t)y));
	} else if (open) {
		json_object_set_new(req, "open", json_true());
	} else {
		json_object_set_new(req, "from", json_string(from));
		json_object_set_new(req, "to", json_string(to));
	}
	st = request(req, &r);
	if (st)
		return st;
	strip_reply(r);
	if (arg_json)
		print_json(r);
	else if (csv)
		ctl_report_csv(r, stdout);
	else
		ctl_report_print(r, open, stdout);
	st = open && json_integer_value(json_object_get(r, "open_total")) > 0 ? 1 : 0;
	json_decref(r);
	return st;
}

int main(int argc, char **argv)
{
	struct cmd_args a;
	const char *cmd;
	int st;

	signal(SIGPIPE, SIG_IGN);
	i18n_init();
	if ((st = parse_args(argc, argv, &cmd, &a)))
		return st;
	if (!cmd)
		return usage("no command given");
	if ((st = load_config()))
		return st;
	if (!strcmp(cmd, "status"))
		st = check_opts("status", &a, NULL, 0, 0) ?: cmd_status();
	else if (!strcmp(cmd, "scrub"))
		st = cmd_scrub(&a);
	else if (!strcmp(cmd, "verify"))
		st = cmd_verify(&a);
	else if (!strcmp(cmd, "entry"))
		st = cmd_entry(&a);
	else if (!strcmp(cmd, "proof"))
		st = cmd_proof(&a);
	else if (!strcmp(cmd, "consistency"))
		st = cmd_consistency(&a);
	else if (!strcmp(cmd, "checkpoint"))
		st = cmd_checkpoint(&a);
	else if (!strcmp(cmd, "log"))
		st = cmd_log(&a);
	else if (!strcmp(cmd, "annotate"))
		st = cmd_annotate(&a);
	else if (!strcmp(cmd, "copy-out"))
		st = cmd_copy_out(&a);
	else if (!strcmp(cmd, "retention"))
		st = cmd_retention(&a);
	else if (!strcmp(cmd, "purge"))
		st = cmd_purge(&a);
	else if (!strcmp(cmd, "review"))
		st = cmd_review(&a);
	else if (!strcmp(cmd, "report"))
		st = cmd_report(&a);
	else
		st = usage("unknown command '%s'", cmd);
	for (size_t i = 0; i < a.nopts; i++)
		free((char *)a.name[i]);
	config = cfg_free(config);
	return st;
}

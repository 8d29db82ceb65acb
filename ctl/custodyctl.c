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
 * `review` and `history` check the answer's checkpoint against the verifier key before showing
 * it (ctl/check.c), so that what a printout names as its record is a signed log state; a
 * history's every event comes with an inclusion proof, checked here too.
 *
 * People get their language (gettext, docs/i18n.md) and the office's time zone: every time is
 * shown in [display] timezone of the config, else the machine's zone, with its UTC offset
 * (ctl/show.h); durations in days, hours and minutes.  --json, --csv and the files written
 * (proofs, checkpoints) stay as the daemon and the log have them: English and UTC.
 *
 * Exit status: 0 success (for verify: exact, remux or excerpt, and the proof verified); 1 a
 * check failed (unknown, altered, not verified, a proof in a history), not found, or
 * forbidden; 2 usage or system error (bad arguments, unreadable file, the daemon not
 * reachable).  Errors are one line on stderr.
 *
 * One file because it is one program whose commands are each a few dozen lines over the same
 * connection, request and printing helpers (request(), print_entry_line()); the renderers that
 * stand on their own are ctl/review.c and ctl/html.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
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
#include "ctl/check.h"
#include "ctl/record.h"
#include "ctl/review.h"
#include "ctl/show.h"
#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/i18n.h"
#include "base/utf8.h"
#include "ingest/fingerprint.h"
#include "ingest/tz.h"
#include "verify/hash.h"
#include "verify/note.h"
#include "verify/proof.h"

#define DEFAULT_SOCKET "/run/custody/custody.sock"
#define REPLY_MAX (256u << 20)
#define REPLY_TIMEOUT_MS (300 * 1000)
#define KEY_JSON_BYTES 120 /* a key packet in the request, roughly */
#define NO_KEY N_("no verifier key: give --key VKEY, or --config FILE with [log] verifier_key")

static const char *arg_socket;
static const char *arg_config;
static const char *arg_key;
static bool arg_json;

static struct cfg *config;  /* loaded when there is one to load */
static struct ing_tz *zone; /* the display zone (load_zone()); NULL: UTC */
static uint64_t max_request = 1u << 20;
static int reply_timeout_ms = REPLY_TIMEOUT_MS; /* a review re-hashes its originals: longer */

static void help(void)
{
	/* Translators: custodyctl --help.  Keep the commands, options and their arguments
	 * (status, --from T…) as they are, and each line within 80 columns. */
	printf(
	    _("Usage: custodyctl [--socket PATH] [--config FILE] [--key VKEY] [--json] COMMAND "
	      "...\n"
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
	      "                              (excerpt), an altered copy (altered) or unknown?\n"
	      "                              Prints 'verified' once the inclusion proof checks "
	      "out\n"
	      "  entry INDEX                 print a log entry\n"
	      "  proof INDEX|FILE [--size N] [--out F]\n"
	      "                              a .tlog-proof file for an entry, or for the original\n"
	      "                              whose bytes are FILE's, against the newest "
	      "checkpoint\n"
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
	      "                                approval      --grantee --entries --purpose\n"
	      "                                              --expires (approvers only; the\n"
	      "                                              grantee is a login name, matched\n"
	      "                                              exactly)\n"
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
	      "  cases                       every case: its clips, devices, the span of its\n"
	      "                              recordings, open items, its last review\n"
	      "  review CASE [--html FILE] [--pdf FILE]\n"
	      "                              the legal review of a case: every clip re-hashed "
	      "from\n"
	      "                              the store, storage status, gaps per device and their\n"
	      "                              explanations, damage reports, who accessed the "
	      "clips,\n"
	      "                              the checkpoint it rests on (checked against the\n"
	      "                              verifier key); the verdict last.  Exit 0 complete, 1\n"
	      "                              anything open.  --html and --pdf write the page too.\n"
	      "                              A case id is exact; an unknown one gets suggestions\n"
	      "  history INDEX [--html FILE] [--pdf FILE]\n"
	      "                              the chain of custody of one clip: its arrival, every\n"
	      "                              annotation, access, copy-out, scrub, hold and purge\n"
	      "                              naming it, each entry's inclusion proof checked\n"
	      "                              against the verifier key (exit 1 if one fails)\n"
	      "  report --from T --to T | --year Y | --open  [--csv [--bom]]\n"
	      "                              clips and hours per device and officer, storage on\n"
	      "                              time / after remote duty / late / unknown time,\n"
	      "                              interruptions, damaged files, accesses and "
	      "copy-outs;\n"
	      "                              --year Y: 1 January of Y to 1 January of Y+1 (UTC);\n"
	      "                              --open: every open item of the log (exit 1 if any);\n"
	      "                              --csv: a spreadsheet (English, UTC); --bom starts it\n"
	      "                              with a UTF-8 byte order mark for spreadsheet "
	      "programs\n"
	      "\n"
	      "Options:\n"
	      "  --socket PATH   the daemon's socket (default: $CUSTODY_SOCKET, the config's\n"
	      "                  [socket] path, %s)\n"
	      "  --config FILE   read the socket path, the verifier key and the display time zone\n"
	      "                  from FILE (default %s when readable)\n"
	      "  --key VKEY      the log's verifier key, or a file holding it (default: the\n"
	      "                  config's [log] verifier_key)\n"
	      "  --json          print the daemon's JSON reply (one object on stdout; English,\n"
	      "                  times in UTC)\n"
	      "  --help          this text\n"
	      "\n"
	      "Times are shown in the config's [display] timezone, else the machine's zone, with\n"
	      "their UTC offset; messages in the language of LANG (English, Chinese: "
	      "zh_CN.UTF-8).\n"
	      "\n"
	      "Exit status: 0 success, 1 a check failed, not found or forbidden, 2 usage or "
	      "system\n"
	      "error.\n"),
	    DEFAULT_SOCKET, CFG_DEFAULT_FILE);
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	va_list ap;

	fputs("custodyctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " %s\n", _("(custodyctl --help)"));
	return 2;
}

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("custodyctl: ", stderr);
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
				return usage(_("too many arguments"));
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
			return usage(_("unknown option '%s'"), arg);
		eq = strchr(arg, '=');
		n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (!n || n >= sizeof(name))
			return usage(_("unknown option '%s'"), arg);
		memcpy(name, arg + 2, n);
		name[n] = '\0';
		if (eq) {
			val = eq + 1;
		} else if (!strcmp(name, "now")) {
			val = ""; /* a flag: scrub --now */
		} else if (!strcmp(name, "csv") || !strcmp(name, "open") || !strcmp(name, "bom")) {
			val = ""; /* flags: report --csv, report --open, report --csv --bom */
		} else {
			if (i + 1 >= argc)
				return usage(_("option '--%s' needs a value"), name);
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
				return fail(2, _("out of memory"));
			for (char *p = copy; *p; p++)
				if (*p == '-')
					*p = '_';
			a->name[a->nopts] = copy;
			a->value[a->nopts++] = val;
		} else {
			return usage(_("too many options"));
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
			return usage(_("'%s' takes no option '--%s'"), cmd, a->name[i]);
	}
	if (a->npos < min_pos)
		return min_pos == 1 ? usage(_("'%s' needs an argument"), cmd)
				    : usage(_("'%s' needs more arguments"), cmd);
	if (a->npos > max_pos)
		return usage(NG_("'%s' takes at most %zu argument",
				 "'%s' takes at most %zu arguments", max_pos),
			     cmd, max_pos);
	return 0;
}

static int parse_u64(const char *s, const char *what, uint64_t *ret)
{
	char *end;

	if (!s || !*s || *s < '0' || *s > '9')
		return usage(_("%s must be a non-negative integer, not '%s'"), what, s ? s : "");
	errno = 0;
	*ret = strtoull(s, &end, 10);
	if (errno || *end)
		return usage(_("%s must be a non-negative integer, not '%s'"), what, s);
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
		fprintf(stderr, _("custodyctl: ignoring '%s': %s\n"), path, e.msg);
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

/* The verifier key: 0, or -errno with what to do in @e (English: it may go into --json's
 * "client"; key_problem() says it to a person). */
static int load_key(struct vfy_verifier *ret, struct err_detail *e)
{
	const char *src = arg_key ? arg_key : config ? config->verifier_key : NULL;
	auto_free char *text = NULL;
	const char *key = src;
	struct stat st;
	int r;

	if (!src)
		return err_set(e, -ENOKEY, "%s", NO_KEY);
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
		return usage(_("the socket path '%s' is too long"), path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(2, _("socket: %s"), strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		if (err == EACCES)
			return fail(2,
				    _("cannot connect to custodyd at '%s': %s; your user needs one "
				      "of the custody groups (custody-review, custody-audit, "
				      "custody-ops, custody-approve)"),
				    path, strerror(err));
		return fail(2,
			    _("cannot connect to custodyd at '%s': %s; is it running? "
			      "(systemctl status custodyd; --socket PATH or CUSTODY_SOCKET for "
			      "another socket)"),
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
		return fail(2, _("out of memory"));
	n = strlen(line);
	line[n++] = '\n'; /* json_dumps() left room: the NUL becomes the newline */
	if (n > max_request + 1)
		return fail(2,
			    _("the request is %zu bytes, more than the daemon takes (%" PRIu64
			      ", [socket] max_request_bytes)"),
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
				return fail(2, _("the daemon's reply is larger than %u bytes"),
					    REPLY_MAX);
			b = realloc(buf, cap);
			if (!b)
				return fail(2, _("out of memory"));
			buf = b;
		}
		r = poll(&pfd, 1, reply_timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return fail(2, _("custodyd at '%s' did not answer within %d s"),
				    socket_path(), reply_timeout_ms / 1000);
		got = recv_part(fd, buf + len, cap - len, ret_fd);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fail(2, _("reading from custodyd at '%s': %s"), socket_path(),
				    strerror(errno));
		if (got == 0)
			return fail(2,
				    _("custodyd at '%s' closed the connection without an answer "
				      "(see its journal: journalctl -u custodyd)"),
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
		return fail(2, _("custodyd's answer does not parse: %s"), je.text);
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

	const json_t *suggestions = json_object_get(err, "suggestions"), *v;
	size_t i;

	if (arg_json)
		print_json(reply);
	fprintf(stderr, "custodyctl: %s: %s\n", safe_code ? safe_code : "error",
		safe_msg ? safe_msg : _("(no message)"));
	free(safe_code);
	free(safe_msg);
	/* An unknown case id: the near ones the daemon found (docs/review-format.md). */
	if (json_array_size(suggestions)) {
		fprintf(stderr, "custodyctl: %s ", _("did you mean:"));
		json_array_foreach(suggestions, i, v) {
			const char *c = json_string_value(v) ?: "?";
			char *safe = utf8_for_terminal(c, strlen(c));

			fprintf(stderr, "%s%s", i ? ", " : "", safe ? safe : "?");
			free(safe);
		}
		fputc('\n', stderr);
	}
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
		return fail(2, _("out of memory"));
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

/* The time @o.@key in the display zone with its offset, @dflt when there is none. */
static const char *jtime(const json_t *o, const char *key, const char *dflt,
			 char buf[SHOW_TIME_MAX])
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? show_time_str(zone, s, buf, SHOW_TIME_MAX) : dflt;
}

/* @seconds in days, hours and minutes. */
static const char *jspan(json_int_t seconds, char buf[SHOW_DURATION_MAX])
{
	return show_duration((int64_t)seconds, buf, SHOW_DURATION_MAX);
}

static const char *storage_words(const char *storage)
{
	if (!storage)
		return _("storage status unknown");
	if (!strcmp(storage, "on_time"))
		return _("stored on time");
	if (!strcmp(storage, "on_time_remote"))
		return _("stored on time after remote duty");
	if (!strcmp(storage, "late"))
		return _("stored LATE");
	if (!strcmp(storage, "unknown_time"))
		return _("stored with no trustworthy recording time");
	return storage;
}

/* A position within a clip ("00:01:05", "+" when there is a fraction): a timecode, as
 * players show it, not a span of time. */
static void print_timecode(int64_t us, char *out, size_t len)
{
	int64_t s = us / 1000000;

	snprintf(out, len, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 "%s", s / 3600, s / 60 % 60,
		 s % 60, us % 1000000 ? "+" : "");
}

/* An entry's type in the reader's words. */
static const char *type_words(const char *type)
{
	static const struct {
		const char *type, *words;
	} types[] = {
		{ "ingest", N_("ingest") },	  { "damaged", N_("damaged") },
		{ "duplicate", N_("duplicate") }, { "annotation", N_("annotation") },
		{ "access", N_("access") },	  { "scrub", N_("scrub") },
		{ "purge", N_("purge") },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(type, types[i].type))
			return _(types[i].words);
	return type;
}

/* One line about an annotation or other entry; its strings (names an uploader chose, reasons
 * anyone typed) as utf8_for_terminal() shows them, its time in the display zone. */
static void print_entry_line(json_int_t index, const json_t *entry, const char *indent)
{
	json_auto_t *e = ctl_terminal_copy(entry);
	char t[SHOW_TIME_MAX], col[4 * 12 + 1];

	if (!e)
		return;
	const char *type = jstr(e, "type", "?");
	const char *key = json_object_get(e, "ingested_at") ? "ingested_at"
			  : json_object_get(e, "at")	    ? "at"
							    : "received_at";

	printf("%s%-6lld %-26s %s", indent, index, jtime(e, key, "-", t),
	       utf8_fit(type_words(type), 12, col, sizeof(col)));
	if (!strcmp(type, "ingest") || !strcmp(type, "damaged")) {
		printf(_(" zone '%s' device %s officer %s '%s' %s"), jstr(e, "zone", "?"),
		       jstr(e, "device", "?"), jstr(e, "officer", "?"), jstr(e, "name", "?"),
		       storage_words(jstr(e, "storage", NULL)));
	} else if (!strcmp(type, "duplicate")) {
		printf(_(" zone '%s' '%s': the bytes of entry %lld again"), jstr(e, "zone", "?"),
		       jstr(e, "name", "?"), jint(e, "of"));
	} else if (!strcmp(type, "annotation")) {
		/* The fields in the order a person reads them (ctl/review.c). */
		putchar(' ');
		ctl_annotation_print(stdout, zone, e);
		return;
	} else if (!strcmp(type, "access")) {
		char *target =
		    json_dumps(json_object_get(e, "target"), JSON_ENCODE_ANY | JSON_COMPACT);

		printf(json_is_false(json_object_get(e, "allowed"))
			   ? _(" %s by %s REFUSED target %s")
			   : _(" %s by %s target %s"),
		       jstr(e, "op", "?"), jstr(e, "by", "?"), target ? target : "?");
		free(target);
	}
	putchar('\n');
}

/* "entries 3, 9" for a list of indexes, with how many more there are. */
static void print_indexes(const json_t *list, json_int_t count)
{
	const json_t *v;
	size_t i;

	fputs(NG_("entry ", "entries ", (unsigned long)count), stdout);
	json_array_foreach(list, i, v)
		printf("%s%lld", i ? ", " : "", json_integer_value(v));
	if (count > (json_int_t)json_array_size(list))
		printf(_(" and %lld more"), count - (json_int_t)json_array_size(list));
}

static void print_pass_counts(const json_t *p)
{
	printf(_("%lld originals checked, %lld ok, %lld missing, %lld altered, %lld purged (not "
		 "expected), %.1f MiB read"),
	       jint(p, "checked"), jint(p, "ok"), jint(p, "missing_count"),
	       jint(p, "altered_count"), jint(p, "purged"), (double)jint(p, "bytes") / (1 << 20));
}

/* The scrubber's part of `status` (scrub.h), for people. */
static void print_scrub(const json_t *sc)
{
	const json_t *p = json_object_get(sc, "pass"), *last = json_object_get(sc, "last");
	const json_t *alarms = json_object_get(sc, "alarms");
	const char *state = jstr(sc, "state", "?");
	char t1[SHOW_TIME_MAX], t2[SHOW_TIME_MAX], d[SHOW_DURATION_MAX];

	if (!json_is_object(sc))
		return;
	/* The state stays the scrubber's word (idle, running…): scripts look for it. */
	printf(_("scrub: %s"), state);
	if (json_is_object(p)) {
		printf(_(" since %s: at entry %lld of %lld, "), jtime(p, "started_at", "?", t1),
		       jint(p, "next"), jint(p, "log_size"));
		print_pass_counts(p);
	} else if (json_is_string(json_object_get(sc, "next_at"))) {
		printf(_("; next pass at %s (every %s)"), jtime(sc, "next_at", "?", t1),
		       jspan(jint(sc, "interval_s"), d));
	} else if (!strcmp(state, "idle")) {
		printf(_("; passes only on request (custodyctl scrub --now)"));
	}
	printf(_("; at most %.1f MiB/s\n"), (double)jint(sc, "rate") / (1 << 20));
	if (json_is_object(last)) {
		printf(_("last scrub: %s to %s, entry %lld"), jtime(last, "started_at", "?", t1),
		       jtime(last, "at", "?", t2), jint(last, "entry"));
		/* A pass with many findings is logged as several `scrub` entries (docs/log.md). */
		if (jint(last, "parts") > 1)
			printf(_(" and %lld more parts"), jint(last, "parts") - 1);
		fputs(": ", stdout);
		print_pass_counts(last);
		putchar('\n');
	} else {
		printf(_("last scrub: none yet\n"));
	}
	if (jint(alarms, "count") > 0) {
		const json_t *m = json_object_get(alarms, "missing");
		const json_t *a = json_object_get(alarms, "altered");

		printf(_("SCRUB ALARM: originals that failed the last or the running pass:"));
		if (json_array_size(m)) {
			printf(_(" MISSING "));
			print_indexes(m, (json_int_t)json_array_size(m));
			printf(";");
		}
		if (json_array_size(a)) {
			printf(_(" ALTERED "));
			print_indexes(a, (json_int_t)json_array_size(a));
			printf(";");
		}
		printf(_(" %lld in all (the journal says what was found)\n"),
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
		return usage(_("'--now' takes no value"));
	st = request(now ? json_pack("{s:s, s:b}", "op", "scrub", "now", 1)
			 : json_pack("{s:s}", "op", "status"),
		     &r);
	if (st)
		return st;
	sc = json_object_get(r, "scrub");
	if (!json_is_object(sc)) {
		json_decref(r);
		return fail(2, _("this custodyd has no scrubber"));
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
			printf(_("scrub: started a pass\n"));
		else if (now)
			printf(_("scrub: not started: %s\n"),
			       jstr(r, "message", _("a pass is running")));
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
	char t1[SHOW_TIME_MAX], t2[SHOW_TIME_MAX];
	size_t i;

	if (!json_is_object(w))
		return;
	if (jint(w, "quorum") > 0) {
		if (json_is_integer(json_object_get(w, "served")))
			printf(_("witnessed: checkpoints are served and published once "
				 "%lld witnesses cosigned them; the newest that "
				 "was: size %lld\n"),
			       jint(w, "quorum"), jint(w, "served"));
		else
			printf(_("witnessed: no checkpoint has its %lld cosignatures yet\n"),
			       jint(w, "quorum"));
		if (json_is_string(json_object_get(w, "waiting_since")))
			printf(
			    json_is_true(json_object_get(w, "alert"))
				? _("  a newer checkpoint waits for cosignatures since %s (ALERT: "
				    "longer than [log] witness_timeout)\n")
				: _("  a newer checkpoint waits for cosignatures since %s\n"),
			    jtime(w, "waiting_since", "?", t1));
	}
	json_array_foreach(json_object_get(w, "witnesses"), i, one) {
		printf(_("witness '%s': "), jstr(one, "name", "?"));
		if (json_is_integer(json_object_get(one, "cosigned_size")))
			printf(_("cosigned size %lld at %s"), jint(one, "cosigned_size"),
			       jtime(one, "cosigned_at", "?", t1));
		else
			printf(_("no cosignature yet"));
		if (json_is_string(json_object_get(one, "last_error")))
			printf(_("; last error %s: %s; next try %s"),
			       jtime(one, "last_error_at", "?", t1), jstr(one, "last_error", ""),
			       jtime(one, "next_try_at", "?", t2));
		putchar('\n');
	}
	pub = json_object_get(w, "published");
	if (json_is_string(json_object_get(pub, "path"))) {
		printf(_("published in '%s': "), jstr(pub, "path", "?"));
		if (json_is_integer(json_object_get(pub, "size")))
			printf(_("size %lld at %s"), jint(pub, "size"), jtime(pub, "at", "?", t1));
		else
			printf(_("nothing yet"));
		if (json_is_string(json_object_get(pub, "last_error")))
			printf(_("; last error: %s"), jstr(pub, "last_error", ""));
		putchar('\n');
	}
}

static int cmd_status(void)
{
	const json_t *cp, *p, *open, *srv, *zones, *z;
	json_t *r;
	char up[SHOW_DURATION_MAX], t1[SHOW_TIME_MAX];
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
	printf(_("log: %lld entries"), jint(r, "size"));
	if (json_is_object(cp))
		printf(_("; newest signed checkpoint at size %lld\n"), jint(cp, "size"));
	else
		printf(_("; no checkpoint signed yet\n"));
	p = json_object_get(r, "pipeline");
	if (p) {
		printf(_("pipeline: %lld queued, %lld in flight; since start %lld ingested, %lld "
			 "duplicates, %lld damaged, %lld failed"),
		       jint(p, "queued"), jint(p, "in_flight"), jint(p, "ingested"),
		       jint(p, "duplicates"), jint(p, "damaged"), jint(p, "failed"));
		if (json_is_true(json_object_get(p, "store_full")))
			printf("; %s", _("THE STORE IS FULL: ingest paused"));
		putchar('\n');
		if (json_is_string(json_object_get(p, "last_error")))
			printf(_("last pipeline error: %s (%s)\n"), jstr(p, "last_error", ""),
			       jtime(p, "last_error_at", "?", t1));
	}
	zones = json_object_get(r, "zones");
	json_array_foreach(zones, i, z) {
		printf(_("zone '%s' (%s, %s): "), jstr(z, "name", "?"), jstr(z, "kind", "?"),
		       jstr(z, "path", "?"));
		if (json_is_integer(json_object_get(z, "waiting")))
			printf(_("%lld files waiting\n"), jint(z, "waiting"));
		else
			printf(_("not watched\n"));
	}
	open = json_object_get(r, "open");
	printf(
	    _("open items: %lld stored late, %lld with no trustworthy time, %lld damaged without "
	      "a report"),
	    jint(open, "late"), jint(open, "unknown_time"), jint(open, "damaged_unreported"));
	if (!json_is_true(json_object_get(json_object_get(r, "index"), "caught_up")))
		printf(" %s", _("(the daemon is still reading the log: these may be incomplete)"));
	putchar('\n');
	print_scrub(json_object_get(r, "scrub"));
	print_witnessing(json_object_get(r, "witnessing"));
	srv = json_object_get(r, "server");
	printf(_("socket: %lld clients; since start %lld requests, %lld errors, %lld refused\n"),
	       jint(srv, "clients"), jint(srv, "requests"), jint(srv, "errors"),
	       jint(srv, "refusals"));
	if (json_is_string(json_object_get(srv, "last_error")))
		printf(_("last socket error: %s (%s)\n"), jstr(srv, "last_error", ""),
		       jtime(srv, "last_error_at", "?", t1));
	printf(_("up %s since %s"), jspan(jint(r, "uptime_s"), up),
	       jtime(r, "started_at", "?", t1));
	if (json_is_true(json_object_get(r, "stopping")))
		printf("; %s", _("STOPPING"));
	putchar('\n');
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
		printf(_("entry %" PRIu64 ":\n%s\n"), index, text ? text : "?");
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
		return fail(2, _("cannot write '%s': %s"), out, strerror(errno));
	fputs(text, f);
	if (fclose(f) != 0)
		return fail(2, _("cannot write '%s': %s"), out, strerror(errno));
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
		return fail(2, _("cannot read '%s': %s"), path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(2, _("'%s' is not a regular file"), path);
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
			return fail(1, _("the proof from custodyd does not verify: %s"), e.msg);
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
			fprintf(
			    stderr,
			    _("custodyctl: wrote the proof of entry %lld against the checkpoint of "
			      "size %lld to '%s'\n"),
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
			return fail(1, _("the consistency proof from custodyd does not parse: %s"),
				    e.msg);
		}
		st = vfy_consistency_verify(&c, &key, &o, &n, &e);
		vfy_consistency_done(&c);
		if (st < 0) {
			json_decref(r);
			return fail(1, _("the consistency proof from custodyd does not verify: %s"),
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
			return fail(1, _("the checkpoint from custodyd does not verify: %s"),
				    e.msg);
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
		return fail(2, _("out of memory"));
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
		printf(_("no entries match (looked at %lld)\n"), jint(r, "scanned"));
	if (json_is_true(json_object_get(r, "truncated")))
		fprintf(stderr, _("custodyctl: there may be more: add --before %lld to go on\n"),
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
		return usage(
		    _("'annotate' takes one KIND (interruption, late_storage, remote_duty, "
		      "damage_report, case, approval, hold, device) and its fields as "
		      "--FIELD VALUE"));
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
		printf(_("recorded the %s annotation as entry %lld\n"), a->pos[0],
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
		return fail(2, _("out of memory"));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return fail(2, _("cannot create '%s': %s%s"), to, strerror(errno),
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
		return fail(2, _("cannot copy to '%s': %s (removed it)"), to, strerror(-r));
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
		return usage(_("'copy-out' needs --to FILE"));
	if ((st = parse_u64(a->pos[0], "INDEX", &index)))
		return st;
	/* Before asking: a copy-out that cannot land is not worth an access record. */
	if (lstat(to, &sb) == 0)
		return fail(2, _("'%s' exists; copy-out never overwrites a file: give a new name"),
			    to);
	if (errno != ENOENT)
		return fail(2, _("cannot use '%s': %s"), to, strerror(errno));
	dest = copy_destination(to);
	if (!dest)
		return fail(2, _("out of memory"));
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
		return fail(2, "%s",
			    src < 0 ? _("custodyd answered without the original's descriptor")
				    : _("custodyd answered without the entry's SHA-256"));
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
		    _("custodyctl: the copy of entry %" PRIu64 " does not match its entry: "
		      "SHA-256 %s, the entry records %s; removed '%s'.  The original in the store "
		      "has changed: tell the operators\n"),
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
		printf(json_is_integer(json_object_get(r, "approval"))
			   ? _("copied entry %" PRIu64 " ('%s', %lld bytes) to '%s' under an "
			       "approval; its SHA-256 matches the entry: %s\n")
			   : _("copied entry %" PRIu64 " ('%s', %lld bytes) to '%s' under the "
			       "operator role; its SHA-256 matches the entry: %s\n"),
		       index, name, jint(entry, "size"), to, hex);
		if (json_is_integer(json_object_get(r, "approval")))
			printf(_("approval: entry %lld\n"), jint(r, "approval"));
	}
	json_decref(r);
	return 0;
}

static void print_retained(const json_t *o)
{
	const json_t *k;
	char t1[SHOW_TIME_MAX], t2[SHOW_TIME_MAX], t3[SHOW_TIME_MAX], d[SHOW_DURATION_MAX];
	const char *from = jstr(o, "retention_from", "?");
	size_t i;

	printf(_("  entry %-6lld zone %s, device %s, officer %s, recorded end %s, ingested %s; due "
		 "%s (%s retention %s)\n"),
	       jint(o, "index"), jstr(o, "zone", "-"), jstr(o, "device", "-"),
	       jstr(o, "officer", "-"), jtime(o, "recorded_end", _("unknown"), t1),
	       jtime(o, "ingested_at", "?", t2), jtime(o, "due_at", "?", t3),
	       /* Translators: whose retention period applies: the zone's own or the
		* default ([rules] retention). */
	       !strcmp(from, "zone")	  ? _("zone")
	       : !strcmp(from, "default") ? _("default")
					  : from,
	       jspan(jint(o, "retention_s"), d));
	json_array_foreach(json_object_get(o, "kept_by"), i, k) {
		if (!strcmp(jstr(k, "kind", ""), "case"))
			printf(_("      kept: bound to case '%s' (annotation %lld)\n"),
			       jstr(k, "case", "?"), jint(k, "annotation"));
		else if (!strcmp(jstr(k, "kind", ""), "open"))
			printf(_("      kept: open item %s (%s)\n"), jstr(k, "item", "?"),
			       jstr(k, "close_with", ""));
		else
			printf(_("      kept: on hold (annotation %lld by %s): %s\n"),
			       jint(k, "annotation"), jstr(k, "by", "?"), jstr(k, "reason", ""));
	}
}

static int cmd_retention(const struct cmd_args *a)
{
	static const char *const allowed[] = { "limit", NULL };
	const json_t *counts, *o;
	json_t *req, *r;
	uint64_t limit;
	char t[SHOW_TIME_MAX];
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
	printf(NG_("%lld clip past its retention period as of %s (custodyctl purge INDEX removes "
		   "one):\n",
		   "%lld clips past their retention period as of %s (custodyctl purge INDEX "
		   "removes one):\n",
		   (unsigned long)jint(counts, "due")),
	       jint(counts, "due"), jtime(r, "now", "?", t));
	json_array_foreach(json_object_get(r, "due"), i, o)
		print_retained(o);
	printf(_("%lld past the period but kept:\n"), jint(counts, "kept"));
	json_array_foreach(json_object_get(r, "kept"), i, o)
		print_retained(o);
	printf(_("%lld within their period, %lld kept forever, %lld purged, of %lld clips"),
	       jint(counts, "within_period"), jint(counts, "forever"), jint(counts, "purged"),
	       jint(counts, "clips"));
	if (json_is_true(json_object_get(r, "truncated")))
		printf(" %s", _("(lists truncated: --limit N)"));
	putchar('\n');
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
		printf(_("entry %" PRIu64 " was purged before; removed its original '%s' now\n"),
		       index, jstr(r, "stored", "?"));
	else if (json_is_integer(json_object_get(r, "kept_for")))
		printf(_("purged entry %" PRIu64 ": logged as entry %lld; its original '%s' stays: "
			 "entry %lld records the same bytes and is not purged\n"),
		       index, jint(r, "index"), jstr(r, "stored", "?"), jint(r, "kept_for"));
	else
		printf(json_is_true(json_object_get(r, "removed"))
			   ? _("purged entry %" PRIu64
			       ": logged as entry %lld; removed its original "
			       "'%s'\n")
			   : _("purged entry %" PRIu64 ": logged as entry %lld; its original was "
			       "already missing from the store: '%s'\n"),
		       index, jint(r, "index"), jstr(r, "stored", "?"));
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

/* Does the proof's entry agree with the local file?  NULL when it does, else why not (English,
 * for --json; _() of it for a person). */
static const char *entry_disagrees(const char *result, const struct ing_fingerprint *fp,
				   const uint8_t *extra, size_t len)
{
	json_t *entry = json_loadb((const char *)extra, len, 0, NULL);
	const char *why = NULL;
	char hex[2 * ING_HASH_LEN + 1];

	if (!entry)
		return N_("the proven entry does not parse");
	if (!strcmp(result, "exact")) {
		hex_encode(fp->sha256, ING_HASH_LEN, hex);
		if (strcmp(jstr(entry, "sha256", ""), hex))
			why = N_("the proven entry records another SHA-256 than the file's");
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
				why = N_("the proven entry lacks one of the file's stream digests");
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
	char t1[SHOW_TIME_MAX], t2[SHOW_TIME_MAX];
	size_t i;

	if (!strcmp(result, "exact")) {
		printf(_("exact: '%s' is entry %lld"), file, index);
	} else if (!strcmp(result, "remux")) {
		printf(_("remux: '%s' holds the same streams as entry %lld in another container"),
		       file, index);
	} else if (!strcmp(result, "excerpt")) {
		const json_t *ex = json_object_get(r, "excerpt");
		char from[32] = "?", to[32] = "?";

		if (json_is_integer(json_object_get(ex, "from_us")))
			print_timecode(jint(ex, "from_us"), from, sizeof(from));
		if (json_is_integer(json_object_get(ex, "to_us")))
			print_timecode(jint(ex, "to_us"), to, sizeof(to));
		printf(_("excerpt: '%s' is %s to %s of entry %lld"), file, from, to, index);
		if (json_is_string(json_object_get(ex, "from")))
			printf(_(" (%s to %s)"), jtime(ex, "from", "?", t1),
			       jtime(ex, "to", "?", t2));
		if (jint(ex, "keys_checked") < jint(ex, "keys_total"))
			printf(_(" [checked the first %lld of %lld key packets]"),
			       jint(ex, "keys_checked"), jint(ex, "keys_total"));
	} else {
		const json_t *alt = json_object_get(r, "altered");
		const json_t *claims = json_object_get(alt, "claims"), *c, *s;

		printf(_("altered: '%s' claims to be entry %lld (by"), file, index);
		json_array_foreach(claims, i, c)
			printf("%s %s", i ? "," : "", json_string_value(c));
		printf("%s", _("), but its content differs:"));
		json_array_foreach(json_object_get(alt, "streams"), i, s)
			printf(json_is_true(json_object_get(s, "same"))
				   ? _("%s %s stream %lld identical")
				   : _("%s %s stream %lld differs"),
			       i ? "," : "", jstr(s, "type", "?"), jint(s, "stream"));
		if (!json_array_size(json_object_get(alt, "streams")))
			printf("%s", _(" its bytes"));
		if (json_is_string(json_object_get(alt, "reason")))
			printf(_("\n  why: %s"), jstr(alt, "reason", ""));
	}
	putchar('\n');
	printf(_("  original: '%s' from zone '%s', device %s, officer %s, recorded %s, %s"),
	       jstr(entry, "name", "?"), jstr(entry, "zone", "?"), jstr(entry, "device", "?"),
	       jstr(entry, "officer", "?"),
	       jtime(entry, "recorded_start", _("at an unknown time"), t1),
	       storage_words(jstr(storage, "status", NULL)));
	if (json_array_size(explained)) {
		printf(" (%s", _("explained by entry"));
		json_array_foreach(explained, i, n)
			printf("%s %lld", i ? "," : "", json_integer_value(n));
		putchar(')');
	} else if (!strcmp(jstr(storage, "status", ""), "late") ||
		   !strcmp(jstr(storage, "status", ""), "unknown_time")) {
		printf("%s", _(", not explained"));
	}
	putchar('\n');
	if (!strcmp(result, "excerpt"))
		printf("  %s\n", jstr(json_object_get(r, "excerpt"), "note", ""));
	notes = json_object_get(r, "annotations");
	if (json_array_size(notes))
		printf("  %s\n", _("annotations:"));
	json_array_foreach(notes, i, n)
		print_entry_line(jint(n, "index"), json_object_get(n, "entry"), "    ");
}

/* @fmt (an N_() string) and its arguments twice: in English into @en (for --json), in the
 * reader's language into @loc. */
static void say(char *en, char *loc, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(char *en, char *loc, size_t n, const char *fmt, ...)
{
	va_list ap, aq;

	va_start(ap, fmt);
	va_copy(aq, ap);
	vsnprintf(en, n, fmt, ap);
	vsnprintf(loc, n, _(fmt), aq);
	va_end(aq);
	va_end(ap);
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
	char verdict[512] = "", said[512] = "";
	struct ing_options opts = { .limits = ING_LIMITS_INIT };
	int st;

	if ((st = check_opts("verify", a, allowed, 1, 1)))
		return st;
	path = a->pos[0];
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail(2, _("cannot read '%s': %s"), path, strerror(errno));
	/* The daemon's stream and packet limits when its config was read: a file it took whole
	 * (up to [ingest] max_streams streams) is read whole here too. */
	if (config && config->max_streams)
		opts.limits.max_streams = config->max_streams;
	if (config && config->max_packets)
		opts.limits.max_packets = config->max_packets;
	if (ing_fingerprint_fd(fd, name, &opts, &fp, &e) < 0)
		return fail(2, _("cannot fingerprint '%s': %s"), path, e.msg);
	if (fp->damaged && !arg_json)
		fprintf(stderr,
			_("custodyctl: note: '%s' could not be read completely (%s); "
			  "checking what was read\n"),
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
		const char *ps = jstr(r, "proof_status", NULL);

		if (ps)
			say(verdict, said, sizeof(verdict), N_("not verified: %s"), ps);
		else
			say(verdict, said, sizeof(verdict), "%s",
			    N_("not verified: the daemon sent no proof"));
	} else if (match && load_key(&key, &e) < 0) {
		say(verdict, said, sizeof(verdict), N_("not verified: %s"), e.msg);
		if (e.code == -ENOKEY)
			snprintf(said, sizeof(said), _("not verified: %s"), _(NO_KEY));
	} else if (match) {
		if (vfy_tlog_proof_parse(proof, strlen(proof), &p, &e) < 0 ||
		    vfy_tlog_proof_verify(&p, &key, &cp, &e) < 0) {
			say(verdict, said, sizeof(verdict),
			    N_("NOT VERIFIED: the proof from custodyd does not verify: %s"), e.msg);
		} else if ((json_int_t)p.index != jint(r, "index")) {
			say(verdict, said, sizeof(verdict),
			    N_("NOT VERIFIED: the proof is for entry %" PRIu64
			       ", not the entry named"),
			    p.index);
		} else if ((why = entry_disagrees(result, fp, p.extra, p.extra_len))) {
			snprintf(verdict, sizeof(verdict), "NOT VERIFIED: %s", why);
			snprintf(said, sizeof(said), _("NOT VERIFIED: %s"), _(why));
		} else {
			verified = true;
			say(verdict, said, sizeof(verdict),
			    N_("verified: entry %" PRIu64 " is in the log '%s' under the signed "
			       "checkpoint of size %" PRIu64),
			    p.index, cp.origin, cp.size);
		}
		vfy_tlog_proof_done(&p);
	}
	if (arg_json) {
		json_object_set_new(
		    r, "client", json_pack("{s:b, s:s}", "verified", verified, "message", verdict));
		print_json(r);
	} else if (!match) {
		printf(_("unknown: no ingested original matches '%s'"), path);
		if (json_is_false(json_object_get(r, "index_caught_up")))
			printf(" %s", _("(the daemon is still reading the log: names, devices and "
					"times were checked against part of it)"));
		putchar('\n');
	} else {
		print_match(r, result, path);
		printf(_("  proof: %s\n"), said);
	}
	st = verified && strcmp(result, "altered") ? 0 : 1;
out:
	json_decref(r);
	ing_fingerprint_free(fp);
	return st;
}

/* ---- review and history: the record they rest on ----------------------------------------- */

/* The answer as documented: the reply without "ok" and "id". */
static void strip_reply(json_t *r)
{
	json_object_del(r, "ok");
	json_object_del(r, "id");
}

/* The checkpoint @answer rests on, as {"checkpoint_size", "checkpoint"}: the answer itself when
 * it carries the note, else (a daemon older than the record fields of docs/review-format.md)
 * the signed checkpoint of that size, asked for here so that the record can still be
 * checked.  A new reference. */
static json_t *record_of(const json_t *answer)
{
	const json_t *size = json_object_get(answer, "checkpoint_size");
	json_t *r = NULL;

	if (json_is_string(json_object_get(answer, "checkpoint")) || !json_is_integer(size))
		return json_incref((json_t *)answer);
	/* Quietly: without it the record says that the answer carried no checkpoint. */
	if (call_fd(json_pack("{s:s, s:O}", "op", "checkpoint", "size", size), &r, NULL) == 0 &&
	    json_is_true(json_object_get(r, "ok")) &&
	    json_is_string(json_object_get(r, "checkpoint"))) {
		json_t *rec = json_pack("{s:O, s:O}", "checkpoint_size", size, "checkpoint",
					json_object_get(r, "checkpoint"));

		json_decref(r);
		if (rec)
			return rec;
		r = NULL;
	}
	json_decref(r);
	return json_incref((json_t *)answer);
}

/* What custodyctl establishes about an answer's checkpoint before showing it: @rec (its ctx
 * is what the renderers get).  @return the verifier key (in @key) when there is one, else NULL
 * with why in @rec. */
static const struct vfy_verifier *record_check(const json_t *answer, struct vfy_verifier *key,
					       struct ctl_record *rec)
{
	json_t *record = record_of(answer);
	const struct vfy_verifier *k = key;
	struct err_detail e;

	if (load_key(key, &e) < 0) {
		ctl_check_checkpoint(record, NULL, e.msg, e.code == -ENOKEY ? _(NO_KEY) : e.msg,
				     zone, rec);
		k = NULL;
	} else {
		ctl_check_checkpoint(record, key, NULL, NULL, zone, rec);
	}
	json_decref(record);
	return k;
}

/* ---- pages (review and history --html FILE, --pdf FILE) ---------------------------------- */

static const char *const page_formats[] = { "html", "pdf" };

/* Write the @format page of @answer (a review or a history as ctl/check.c left it, @ctx what
 * was checked) to @path: the one place where custodyctl calls the page renderers. */
static int write_page(const char *what, const json_t *answer, const struct ctl_page_ctx *ctx,
		      const char *format, const char *path, struct err_detail *e)
{
	enum ctl_page_format f = !strcmp(format, "pdf") ? CTL_PAGE_PDF : CTL_PAGE_HTML;

	return !strcmp(what, "review") ? ctl_review_page(answer, ctx, f, path, e)
				       : ctl_history_page(answer, ctx, f, path, e);
}

/* Before asking the daemon (a review re-reads every original): every page asked for has a
 * file name. */
static int pages_usable(const struct cmd_args *a)
{
	for (size_t i = 0; i < sizeof(page_formats) / sizeof(page_formats[0]); i++) {
		const char *path = opt(a, page_formats[i]);

		if (path && !*path)
			return usage(_("'--%s' needs a file name"), page_formats[i]);
	}
	return 0;
}

static int write_pages(const char *what, const struct cmd_args *a, const json_t *answer,
		       const struct ctl_page_ctx *ctx)
{
	struct err_detail e;

	for (size_t i = 0; i < sizeof(page_formats) / sizeof(page_formats[0]); i++) {
		const char *path = opt(a, page_formats[i]);

		if (path && write_page(what, answer, ctx, page_formats[i], path, &e) < 0)
			return fail(2, _("cannot write the page '%s': %s"), path, e.msg);
	}
	return 0;
}

static void said_pages(const char *what, const struct cmd_args *a)
{
	for (size_t i = 0; i < sizeof(page_formats) / sizeof(page_formats[0]); i++)
		if (opt(a, page_formats[i]))
			fprintf(stderr,
				!strcmp(what, "review") ? _("custodyctl: the review is in '%s'\n")
							: _("custodyctl: the history is in '%s'\n"),
				opt(a, page_formats[i]));
}

/* ---- review, history, cases and report (docs/review-format.md; text in ctl/review.c) ---- */

static int cmd_review(const struct cmd_args *a)
{
	static const char *const opts[] = { "html", "pdf", NULL };
	struct vfy_verifier key;
	struct ctl_record rec;
	json_t *r;
	int st;

	if ((st = check_opts("review", a, opts, 1, 1)) || (st = pages_usable(a)))
		return st;
	/* Every original of the case is read back from the store: about 1 s per GB. */
	reply_timeout_ms = 6 * 3600 * 1000;
	st = request(json_pack("{s:s, s:s}", "op", "review", "case", a->pos[0]), &r);
	if (st)
		return st;
	strip_reply(r);
	record_check(r, &key, &rec);
	if ((st = write_pages("review", a, r, &rec.ctx))) {
		json_decref(r);
		return st;
	}
	if (arg_json) {
		print_json(r);
		st = json_is_true(json_object_get(r, "complete")) ? 0 : 1;
	} else {
		st = ctl_review_print(r, &rec.ctx, stdout);
	}
	said_pages("review", a);
	json_decref(r);
	return st;
}

static int cmd_history(const struct cmd_args *a)
{
	static const char *const opts[] = { "html", "pdf", NULL };
	const struct vfy_verifier *k;
	struct vfy_verifier key;
	struct ctl_record rec;
	uint64_t index;
	json_t *r;
	int st, checked;

	if ((st = check_opts("history", a, opts, 1, 1)) ||
	    (st = parse_u64(a->pos[0], "INDEX", &index)) || (st = pages_usable(a)))
		return st;
	st = request(json_pack("{s:s, s:I}", "op", "history", "entry", (json_int_t)index), &r);
	if (st)
		return st;
	strip_reply(r);
	k = record_check(r, &key, &rec);
	checked = ctl_check_history(r, k, &rec);
	if (checked < 0) {
		json_decref(r);
		return fail(2, _("out of memory"));
	}
	if ((st = write_pages("history", a, r, &rec.ctx))) {
		json_decref(r);
		return st;
	}
	if (arg_json) {
		/* With "client": what custodyctl found of the checkpoint and each proof. */
		print_json(r);
		st = checked;
	} else {
		st = ctl_history_print(r, &rec.ctx, stdout);
		if (st < checked)
			st = checked;
	}
	said_pages("history", a);
	json_decref(r);
	return st;
}

static int cmd_cases(const struct cmd_args *a)
{
	json_t *r;
	int st;

	if ((st = check_opts("cases", a, NULL, 0, 0)))
		return st;
	st = request(json_pack("{s:s}", "op", "cases"), &r);
	if (st)
		return st;
	strip_reply(r);
	if (arg_json)
		print_json(r);
	else
		ctl_cases_print(r, zone, stdout);
	json_decref(r);
	return 0;
}

static int cmd_report(const struct cmd_args *a)
{
	static const char *const opts[] = { "from", "to", "year", "open", "csv", "bom", NULL };
	const char *from = opt(a, "from"), *to = opt(a, "to"), *year = opt(a, "year");
	bool open = opt(a, "open") != NULL, csv = opt(a, "csv") != NULL,
	     bom = opt(a, "bom") != NULL;
	json_t *req, *r;
	uint64_t y;
	int st;

	if ((st = check_opts("report", a, opts, 0, 0)))
		return st;
	if (csv && arg_json)
		return usage(_("give --json or --csv, not both"));
	if (bom && !csv)
		return usage(_("--bom goes with --csv"));
	if ((!!year + !!open + !!(from || to)) != 1 || (!year && !open && (!from || !to)))
		return usage(_("'report' takes --from TIME --to TIME, --year YEAR or --open"));
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
		ctl_report_csv(r, bom, stdout);
	else
		ctl_report_print(r, open, zone, stdout);
	st = open && json_integer_value(json_object_get(r, "open_total")) > 0 ? 1 : 0;
	json_decref(r);
	return st;
}

/* The display zone: [display] timezone of the config, else the machine's (docs/i18n.md). */
static void load_zone(void)
{
	const char *name = config ? config->display_timezone : NULL;
	struct err_detail e;

	if (show_zone_load(name, &zone, &e) < 0) {
		fprintf(stderr, _("custodyctl: times are shown in UTC: the zone %s: %s\n"),
			name ? name : _("of this machine"), e.msg);
		zone = NULL;
	}
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
	/* --json is for programs: the messages it carries (a proof's failure, which the verify
	 * library words) and stderr stay English whatever the locale, as the tools' --json does
	 * (docs/i18n.md). */
	if (arg_json)
		setlocale(LC_MESSAGES, "C");
	if (!cmd)
		return usage(_("no command given"));
	if ((st = load_config()))
		return st;
	load_zone();
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
	else if (!strcmp(cmd, "history"))
		st = cmd_history(&a);
	else if (!strcmp(cmd, "cases"))
		st = cmd_cases(&a);
	else if (!strcmp(cmd, "report"))
		st = cmd_report(&a);
	else
		st = usage(_("unknown command '%s'"), cmd);
	for (size_t i = 0; i < a.nopts; i++)
		free((char *)a.name[i]);
	config = cfg_free(config);
	zone = ing_tz_free(zone);
	return st;
}

/* custody-log: offline administration of the log database (docs/programs.md), for operators while
 * custodyd is stopped, and for tests.  Writing commands take the log's writer lock, so they
 * refuse to run under a live daemon and name the process that holds it.  Reading commands
 * (show, proof, consistency, publish) take no lock and may run beside custodyd: each reads one
 * LMDB snapshot.
 *
 * Exit status: 0 success, 1 when what was asked for is not there (no such entry, no checkpoint
 * at that size), 2 on usage or system errors (bad entry, bad key file, missing database). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "verify/entry.h"
#include "base/err.h"
#include "base/file.h"
#include "base/i18n.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/publish.h"
#include "verify/tlog.h"

#define DEFAULT_DB "/var/lib/custody/log"

static const char *arg_db = DEFAULT_DB;
static const char *arg_out;
static const char *arg_origin;
static const char *arg_key;
static uint64_t arg_size = TLOG_NEWEST;
static bool arg_json;
static bool arg_entries;

static void help(void)
{
	/* Translators: custody-log --help.  Keep the command names, options and placeholders
	 * (DIR, NAME, KEYFILE, ORIGIN, INDEX, N, OLD, NEW, OUTDIR) as they are. */
	printf(
	    _("Usage: custody-log [--db DIR] COMMAND [ARGS]\n"
	      "Offline administration of custody's log database while custodyd is stopped\n"
	      "(show, proof, consistency and publish only read, and may run beside it).\n"
	      "\n"
	      "Commands:\n"
	      "  keygen NAME --out KEYFILE   write a new signer key (mode 0600) to KEYFILE and\n"
	      "                              print its verifier key; NAME is the log's origin\n"
	      "  init --origin ORIGIN --key KEYFILE\n"
	      "                              create the log; checkpoints will be signed by "
	      "KEYFILE\n"
	      "  append                      append the JSON object on stdin (canonicalised);\n"
	      "                              prints its index\n"
	      "  checkpoint [--key KEYFILE]  sign a checkpoint for the current size if the log\n"
	      "                              grew; prints the newest checkpoint\n"
	      "  show INDEX                  print the bytes of entry INDEX\n"
	      "  proof INDEX [--size N]      print a tlog-proof file for entry INDEX against the\n"
	      "                              checkpoint signed at size N (default: the newest)\n"
	      "  consistency OLD NEW         print a consistency proof between two signed sizes\n"
	      "  publish OUTDIR [--entries]  write the log as C2SP tlog-tiles files into OUTDIR\n"
	      "                              (made if missing) up to the newest checkpoint;\n"
	      "                              --entries also writes the entries "
	      "(docs/publication.md)\n"
	      "\n"
	      "Options:\n"
	      "  --db DIR     the log database directory (default %s)\n"
	      "  --json       print results as one JSON object\n"
	      "  --help       this text\n"
	      "\n"
	      "Exit status: 0 success, 1 not found, 2 usage or system error.\n"),
	    DEFAULT_DB);
}

static int fail(int r, const struct err_detail *e)
{
	fprintf(stderr, "custody-log: %s\n", e->msg);
	return (r == -ENOENT || r == -ERANGE) ? 1 : 2;
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Translators: a usage error of custody-log; %s says what is wrong. */
	fprintf(stderr, _("custody-log: %s (custody-log --help)\n"), msg);
	return 2;
}

static int parse_index(const char *s, uint64_t *ret)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return (errno || *end) ? -EINVAL : 0;
}

static void print_json(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
	json_decref(obj);
}

static int cmd_keygen(const char *name)
{
	struct err_detail e;
	char *skey = NULL, *vkey = NULL;
	int r;

	if (!arg_out)
		return usage_error("%s", _("keygen needs --out KEYFILE"));
	r = vfy_keygen(name, &skey, &vkey, &e);
	if (r < 0)
		return fail(r, &e);
	/* A signer key is never overwritten: losing one orphans every checkpoint. */
	if (vfy_signer_write(arg_out, skey, &e) < 0) {
		fprintf(stderr, "custody-log: %s\n", e.msg);
		r = 2;
		goto out;
	}
	if (arg_json)
		print_json(
		    json_pack("{s:s, s:s, s:s}", "name", name, "vkey", vkey, "key", arg_out));
	else
		printf("%s\n", vkey);
	r = 0;
out:
	vfy_secret_free(skey);
	free(vkey);
	return r;
}

static int cmd_init(void)
{
	struct err_detail e;
	struct vfy_signer *signer = NULL;
	char *vkey = NULL;
	int r;

	if (!arg_origin || !arg_key)
		return usage_error("%s", _("init needs --origin ORIGIN and --key KEYFILE"));
	r = vfy_signer_load(arg_key, &signer, &e);
	if (r < 0)
		return fail(r, &e);
	vkey = vfy_signer_vkey(signer);
	signer = vfy_signer_free(signer);
	if (!vkey)
		return usage_error("%s", _("out of memory"));
	r = tlog_create(arg_db, arg_origin, arg_key, vkey, &e);
	if (r < 0) {
		free(vkey);
		return fail(r, &e);
	}
	if (arg_json)
		print_json(
		    json_pack("{s:s, s:s, s:s}", "db", arg_db, "origin", arg_origin, "vkey", vkey));
	else
		printf(_("initialised the log '%s' in '%s'\nverifier key: %s\n"), arg_origin,
		       arg_db, vkey);
	free(vkey);
	return 0;
}

static int open_log(unsigned flags, struct tlog **ret)
{
	struct err_detail e;
	int r = tlog_open(arg_db, flags, ret, &e);

	if (r < 0) {
		fprintf(stderr, "custody-log: %s\n", e.msg);
		return 2;
	}
	return 0;
}

static int cmd_append(void)
{
	struct err_detail e;
	struct tlog *log = NULL;
	auto_free char *in = NULL;
	auto_free char *entry = NULL;
	size_t len, elen;
	uint64_t index;
	ssize_t n;
	struct iovec iov;
	int r;

	/* Read one byte past the limit so that an oversized entry is told apart from a full one. */
	in = malloc(VFY_ENTRY_INPUT_MAX + 1);
	if (!in)
		return usage_error("%s", _("out of memory"));
	n = file_read_full(STDIN_FILENO, in, VFY_ENTRY_INPUT_MAX + 1);
	if (n < 0)
		return usage_error("%s", _("cannot read the entry from stdin"));
	len = (size_t)n;
	r = vfy_entry_canonicalize(in, len, &entry, &elen, &e);
	if (r < 0) {
		fprintf(stderr,
			r == -E2BIG ? _("custody-log: entry too large: %s\n")
				    : _("custody-log: bad entry: %s\n"),
			e.msg);
		return 2;
	}
	r = open_log(TLOG_WRITE, &log);
	if (r)
		return r;
	iov = (struct iovec){ entry, elen };
	r = tlog_append(log, &iov, 1, &index, &e);
	log = tlog_free(log);
	if (r < 0)
		return fail(r, &e);
	if (arg_json)
		print_json(json_pack("{s:I}", "index", (json_int_t)index));
	else
		printf("%" PRIu64 "\n", index);
	return 0;
}

static int cmd_checkpoint(void)
{
	struct err_detail e;
	struct tlog *log = NULL;
	struct vfy_signer *signer = NULL;
	auto_free char *note = NULL;
	uint64_t size;
	size_t len;
	int r, signed_new = 0;

	r = open_log(TLOG_WRITE, &log);
	if (r)
		return r;
	r = vfy_signer_load(arg_key ? arg_key : tlog_key_path(log), &signer, &e);
	if (r >= 0)
		r = tlog_checkpoint_sign(log, signer, &signed_new, &e);
	signer = vfy_signer_free(signer);
	if (r >= 0)
		r = tlog_checkpoint_get(log, TLOG_NEWEST, &note, &len, &size, &e);
	log = tlog_free(log);
	if (r < 0) {
		fprintf(stderr, "custody-log: %s\n", e.msg);
		return 2;
	}
	if (arg_json)
		print_json(json_pack("{s:I, s:b, s:s}", "size", (json_int_t)size, "signed",
				     signed_new, "checkpoint", note));
	else
		fputs(note, stdout);
	return 0;
}

static int cmd_show(uint64_t index)
{
	struct err_detail e;
	struct tlog *log = NULL;
	auto_free char *entry = NULL;
	size_t len;
	int r;

	r = open_log(0, &log);
	if (r)
		return r;
	r = tlog_entry(log, index, &entry, &len, &e);
	log = tlog_free(log);
	if (r < 0)
		return fail(r, &e);
	/* The entry is canonical JSON already: printed verbatim, --json or not. */
	fwrite(entry, 1, len, stdout);
	putchar('\n');
	return 0;
}

static int cmd_publish(const char *outdir)
{
	struct err_detail e;
	struct tlog *log = NULL;
	struct pub_stats st;
	auto_free char *note = NULL;
	auto_close int dirfd = -1;
	uint64_t size;
	size_t len;
	int r;

	if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, _("custody-log: cannot make '%s': %s\n"), outdir, strerror(errno));
		return 2;
	}
	dirfd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fprintf(stderr, _("custody-log: cannot open the folder '%s': %s\n"), outdir,
			strerror(errno));
		return 2;
	}
	/* Read-only: publishing takes no writer lock, so it may run while custodyd appends. */
	r = open_log(0, &log);
	if (r)
		return r;
	r = tlog_checkpoint_get(log, TLOG_NEWEST, &note, &len, &size, &e);
	if (r < 0) {
		log = tlog_free(log);
		return fail(r, &e);
	}
	r = pub_publish(log, dirfd, note, len, arg_entries ? PUB_ENTRIES : 0, &st, &e);
	log = tlog_free(log);
	if (r < 0) {
		fprintf(stderr, _("custody-log: publish to '%s': %s\n"), outdir, e.msg);
		return 2;
	}
	if (arg_json)
		print_json(json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "size", (json_int_t)st.size,
				     "old_size", (json_int_t)st.old_size, "tiles",
				     (json_int_t)st.tiles, "bundles", (json_int_t)st.bundles,
				     "present", (json_int_t)st.present, "checkpoint",
				     st.checkpoint));
	else
		printf(st.checkpoint
			   ? _("published size %" PRIu64 " (the folder had %" PRIu64 "): %" PRIu64
			       " tiles and %" PRIu64 " entry bundles written, %" PRIu64
			       " already there; checkpoint replaced\n")
			   : _("published size %" PRIu64 " (the folder had %" PRIu64 "): %" PRIu64
			       " tiles and %" PRIu64 " entry bundles written, %" PRIu64
			       " already there; checkpoint unchanged\n"),
		       st.size, st.old_size, st.tiles, st.bundles, st.present);
	return 0;
}

/* proof and consistency: both print a file the log makes from two numbers. */
typedef int (*log_file_fn)(struct tlog *log, uint64_t a, uint64_t b, char **ret, size_t *ret_len,
			   struct err_detail *reterr);

static int cmd_print_file(log_file_fn make, uint64_t a, uint64_t b)
{
	struct err_detail e;
	struct tlog *log = NULL;
	auto_free char *text = NULL;
	size_t len;
	int r;

	r = open_log(0, &log);
	if (r)
		return r;
	r = make(log, a, b, &text, &len, &e);
	log = tlog_free(log);
	if (r < 0)
		return fail(r, &e);
	fwrite(text, 1, len, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_DB = 256, OPT_OUT, OPT_ORIGIN, OPT_KEY, OPT_SIZE, OPT_JSON, OPT_ENTRIES };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "origin", required_argument, NULL, OPT_ORIGIN },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "entries", no_argument, NULL, OPT_ENTRIES },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd;
	uint64_t a, b;
	int c;

	i18n_init();
	opterr = 0; /* our own one-line message instead of getopt's */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			arg_db = optarg;
			break;
		case OPT_OUT:
			arg_out = optarg;
			break;
		case OPT_ORIGIN:
			arg_origin = optarg;
			break;
		case OPT_KEY:
			arg_key = optarg;
			break;
		case OPT_SIZE:
			if (parse_index(optarg, &arg_size) < 0)
				return usage_error(_("--size needs a tree size, not '%s'"), optarg);
			break;
		case OPT_JSON:
			arg_json = true;
			break;
		case OPT_ENTRIES:
			arg_entries = true;
			break;
		case 'h':
			help();
			return 0;
		case ':':
			return usage_error(_("option '%s' needs a value"), argv[optind - 1]);
		default:
			return usage_error(_("unknown option '%s'"), argv[optind - 1]);
		}
	}
	/* --json is for programs: messages in English in every locale (docs/i18n.md). */
	if (arg_json)
		setlocale(LC_MESSAGES, "C");
	if (optind >= argc)
		return usage_error("%s", _("no command given"));
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;

	if (strcmp(cmd, "keygen") == 0 && argc == 1)
		return cmd_keygen(argv[0]);
	if (strcmp(cmd, "init") == 0 && argc == 0)
		return cmd_init();
	if (strcmp(cmd, "append") == 0 && argc == 0)
		return cmd_append();
	if (strcmp(cmd, "checkpoint") == 0 && argc == 0)
		return cmd_checkpoint();
	if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "proof") == 0) && argc == 1) {
		if (parse_index(argv[0], &a) < 0)
			return usage_error(_("'%s' is not an entry index"), argv[0]);
		return cmd[0] == 's' ? cmd_show(a) : cmd_print_file(tlog_proof_file, a, arg_size);
	}
	if (strcmp(cmd, "consistency") == 0 && argc == 2) {
		if (parse_index(argv[0], &a) < 0 || parse_index(argv[1], &b) < 0)
			return usage_error("%s", _("consistency needs two tree sizes"));
		return cmd_print_file(tlog_consistency_file, a, b);
	}
	if (strcmp(cmd, "publish") == 0 && argc == 1)
		return cmd_publish(argv[0]);
	return usage_error(_("unknown command or wrong arguments: '%s'"), cmd);
}

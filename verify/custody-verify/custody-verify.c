/* custody-verify: the auditor's offline check (docs/programs.md).  It needs no daemon and no
 * database: a proof file, a checkpoint or a consistency file, and the log's verifier key.
 *
 * Every failure names the part that failed (format, signature, origin, inclusion,
 * consistency, media), on stderr as one line and, with --json, in the JSON object on stdout.
 * Exit status: 0 verified, 1 not verified (malformed or tampered input), 2 usage or system
 * error (unreadable file, unusable key). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "verify/hash.h"
#include "verify/note.h"
#include "verify/proof.h"
#include "ingest/fingerprint.h"
#include "verify/custody-verify/fingerprint.h"

static const char *arg_key;
static const char *arg_media;
static bool arg_json;

static void help(void)
{
	printf("Usage: custody-verify COMMAND FILE --key VKEY [OPTIONS]\n"
	       "Verify custody's proofs offline against the log's verifier key.\n"
	       "\n"
	       "Commands:\n"
	       "  proof FILE --key VKEY [--media MEDIA]\n"
	       "        check a .tlog-proof file: the checkpoint's signature and origin, and that\n"
	       "        the entry it carries is in the signed tree; with --media, that MEDIA is\n"
	       "        the original the entry records: byte-identical (exact) or the same\n"
	       "        packets in another container (remux)\n"
	       "  consistency FILE --key VKEY\n"
	       "        check a custody-consistency/1 file: both signatures and that the older\n"
	       "        tree is a prefix of the newer one\n"
	       "  checkpoint FILE --key VKEY\n"
	       "        check a signed checkpoint and print its origin, size and root\n"
	       "  fingerprint FILE [--json] [--device-clock TZ] [--name-pattern P]\n"
	       "        print FILE's fingerprint as an ingest entry holds it; exit 1 when FILE\n"
	       "        is damaged (custody-verify fingerprint --help for its options)\n"
	       "\n"
	       "VKEY is the verifier key (NAME+KEYID+BASE64) or a file holding it.\n"
	       "Options: --json (one JSON object on stdout), --help.\n"
	       "Exit status: 0 verified, 1 not verified, 2 usage or system error.\n");
}

static int usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "custody-verify: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, " (custody-verify --help)\n");
	return 2;
}

static void print_json(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
	json_decref(obj);
}

/* The part of the check a failure code stands for: what an auditor needs to know first. */
static const char *failed_part(int r)
{
	switch (r) {
	case -EKEYREJECTED:
		return "signature";
	case -ESTALE:
		return "origin";
	case -EPROTO:
		return "inclusion";
	default:
		return "format";
	}
}

static int not_verified(int r, const char *part, const struct err_detail *e)
{
	if (!part)
		part = failed_part(r);
	fprintf(stderr, "custody-verify: not verified (%s): %s\n", part, e->msg);
	if (arg_json)
		print_json(
		    json_pack("{s:b, s:s, s:s}", "verified", 0, "failed", part, "message", e->msg));
	return 1;
}

static int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct err_detail e;
	int r = file_read_at(AT_FDCWD, path, O_NONBLOCK, max, ret, ret_len, &e);

	if (r < 0)
		fprintf(stderr, "custody-verify: %s\n", e.msg);
	return r == -EFBIG ? -EINVAL : r;
}

static int load_key(struct vfy_verifier *ret)
{
	struct err_detail e;
	auto_free char *text = NULL;
	const char *key = arg_key;
	struct stat st;
	size_t len;
	int r;

	if (!arg_key)
		return usage_error("--key VKEY is required: the log's verifier key%s", "");
	/* A path that exists is a key file; anything else must be the key itself. */
	if (stat(arg_key, &st) == 0) {
		if (read_file(arg_key, 4096, &text, &len) < 0)
			return 2;
		key = text;
	}
	r = vfy_verifier_parse(key, strlen(key), ret, &e);
	if (r < 0) {
		fprintf(stderr, "custody-verify: the key is unusable: %s\n", e.msg);
		return 2;
	}
	return 0;
}

static void root_b64(const uint8_t root[VFY_HASH_LEN], char out[64])
{
	vfy_b64_encode(root, VFY_HASH_LEN, out, 64);
}

/* A remux keeps every packet: each stream the entry records must be in the media file with
 * the same packet digest and count (docs/log.md). */
static int check_remux(int fd, json_t *streams, struct err_detail *e)
{
	struct ing_fingerprint *fp = NULL;
	size_t i;
	json_t *s;
	int r;

	r = ing_fingerprint_fd(fd, arg_media, NULL, &fp, e);
	if (r < 0)
		return r;
	r = json_array_size(streams) > 0 ? 0 : -EPROTO;
	json_array_foreach(streams, i, s) {
		const char *digest = json_string_value(json_object_get(s, "digest"));
		json_int_t packets = json_integer_value(json_object_get(s, "packets"));
		bool found = false;

		for (unsigned k = 0; digest && k < fp->n_streams && !found; k++) {
			char hex[2 * ING_HASH_LEN + 1];

			hex_encode(fp->streams[k].digest, ING_HASH_LEN, hex);
			found = strcmp(hex, digest) == 0 &&
				(json_int_t)fp->streams[k].packets == packets;
		}
		if (!found) {
			r = -EPROTO;
			break;
		}
	}
	ing_fingerprint_free(fp);
	return r;
}

/* Compare the media file with the original the entry records: byte for byte (its SHA-256),
 * else packet for packet (its stream digests: the same recording in another container). */
static int check_media(const char *entry, size_t len, const char **ret_result, struct err_detail *e)
{
	json_auto_t *obj = json_loadb(entry, len, 0, NULL);
	const char *want = json_string_value(json_object_get(obj, "sha256"));
	uint8_t digest[VFY_HASH_LEN];
	char hex[2 * VFY_HASH_LEN + 1];
	auto_close int fd = -1;
	uint64_t size;
	int r;

	if (!want)
		return err_set(e, -EPROTO,
			       "the entry records no file hash (\"sha256\"), so it does "
			       "not describe a media file");
	fd = open(arg_media, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_set(e, -ENOENT, "cannot read '%s': %s", arg_media, strerror(errno));
	r = vfy_sha256_fd(fd, digest, &size, e);
	if (r < 0)
		return r;
	hex_encode(digest, VFY_HASH_LEN, hex);
	if (strcmp(hex, want) == 0) {
		*ret_result = "exact";
		return 0;
	}
	r = check_remux(fd, json_object_get(obj, "streams"), e);
	if (r == 0) {
		*ret_result = "remux";
		return 0;
	}
	if (r != -EPROTO)
		return r;
	return err_set(e, -EPROTO,
		       "'%s' (SHA-256 %s) is neither byte-identical to the original "
		       "the entry records (SHA-256 %s) nor the same packets in another container",
		       arg_media, hex, want);
}

static int cmd_proof(const char *path)
{
	struct vfy_tlog_proof p;
	struct vfy_verifier key;
	struct vfy_checkpoint cp;
	struct err_detail e;
	auto_free char *text = NULL;
	const char *media = NULL;
	char root[64];
	size_t len;
	int r;

	if ((r = load_key(&key)))
		return r;
	if (read_file(path, VFY_PROOF_MAX, &text, &len) < 0)
		return 2;
	r = vfy_tlog_proof_parse(text, len, &p, &e);
	if (r < 0)
		return not_verified(r, "format", &e);
	r = vfy_tlog_proof_verify(&p, &key, &cp, &e);
	if (r < 0) {
		vfy_tlog_proof_done(&p);
		return not_verified(r, NULL, &e);
	}
	if (arg_media) {
		r = check_media((const char *)p.extra, p.extra_len, &media, &e);
		if (r < 0) {
			vfy_tlog_proof_done(&p);
			if (r == -ENOENT || r == -EIO) {
				fprintf(stderr, "custody-verify: %s\n", e.msg);
				return 2;
			}
			return not_verified(r, "media", &e);
		}
	}
	root_b64(cp.root, root);
	if (arg_json) {
		json_t *entry = json_loadb((const char *)p.extra, p.extra_len, 0, NULL);
		json_t *obj = json_pack("{s:b, s:I, s:s, s:I, s:s, s:o*}", "verified", 1, "index",
					(json_int_t)p.index, "origin", cp.origin, "size",
					(json_int_t)cp.size, "root", root, "entry", entry);

		if (media)
			json_object_set_new(obj, "media", json_string(media));
		print_json(obj);
	} else {
		printf("verified: entry %" PRIu64 " is in the log '%s' at size %" PRIu64
		       " (root %s)\n",
		       p.index, cp.origin, cp.size, root);
		if (media)
			printf("media: '%s' is %s\n", arg_media,
			       strcmp(media, "exact") == 0
				   ? "byte-identical to the logged original"
				   : "the logged original's packets in another container (remux)");
		printf("entry: %.*s\n", (int)p.extra_len, (const char *)p.extra);
	}
	vfy_tlog_proof_done(&p);
	return 0;
}

static int cmd_consistency(const char *path)
{
	struct vfy_consistency c;
	struct vfy_verifier key;
	struct vfy_checkpoint old, new;
	struct err_detail e;
	auto_free char *text = NULL;
	char root_old[64], root_new[64];
	size_t len;
	int r;

	if ((r = load_key(&key)))
		return r;
	if (read_file(path, VFY_PROOF_MAX, &text, &len) < 0)
		return 2;
	r = vfy_consistency_parse(text, len, &c, &e);
	if (r < 0)
		return not_verified(r, "format", &e);
	r = vfy_consistency_verify(&c, &key, &old, &new, &e);
	vfy_consistency_done(&c);
	if (r < 0)
		return not_verified(r, r == -EPROTO ? "consistency" : NULL, &e);
	root_b64(old.root, root_old);
	root_b64(new.root, root_new);
	if (arg_json)
		print_json(json_pack("{s:b, s:s, s:I, s:s, s:I, s:s}", "verified", 1, "origin",
				     new.origin, "old_size", (json_int_t)old.size, "old_root",
				     root_old, "size", (json_int_t) new.size, "root", root_new));
	else
		printf("verified: the log '%s' at size %" PRIu64 " (root %s) extends size %" PRIu64
		       " (root %s)\n",
		       new.origin, new.size, root_new, old.size, root_old);
	return 0;
}

static int cmd_checkpoint(const char *path)
{
	struct vfy_verifier key;
	struct vfy_checkpoint cp;
	struct err_detail e;
	auto_free char *text = NULL;
	char root[64];
	size_t len;
	int r;

	if ((r = load_key(&key)))
		return r;
	if (read_file(path, VFY_NOTE_MAX, &text, &len) < 0)
		return 2;
	r = vfy_checkpoint_open(text, len, NULL, &key, 1, &cp, NULL, &e);
	if (r < 0)
		return not_verified(r, NULL, &e);
	root_b64(cp.root, root);
	if (arg_json)
		print_json(json_pack("{s:b, s:s, s:I, s:s}", "verified", 1, "origin", cp.origin,
				     "size", (json_int_t)cp.size, "root", root));
	else
		printf("origin %s\nsize %" PRIu64 "\nroot %s\n", cp.origin, cp.size, root);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_KEY = 256, OPT_MEDIA, OPT_JSON };
	static const struct option opts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd;
	int c;

	/* 'fingerprint' takes no key and has options of its own
	 * (verify/custody-verify/fingerprint.c). */
	if (argc > 1 && strcmp(argv[1], "fingerprint") == 0)
		return vfy_cmd_fingerprint(argc - 1, argv + 1);
	opterr = 0; /* our own one-line message instead of getopt's */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_KEY:
			arg_key = optarg;
			break;
		case OPT_MEDIA:
			arg_media = optarg;
			break;
		case OPT_JSON:
			arg_json = true;
			break;
		case 'h':
			help();
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_error("expected a command and a file%s", "");
	cmd = argv[optind];
	if (arg_media && strcmp(cmd, "proof") != 0)
		return usage_error("--media goes with 'proof' only%s", "");
	if (strcmp(cmd, "proof") == 0)
		return cmd_proof(argv[optind + 1]);
	if (strcmp(cmd, "consistency") == 0)
		return cmd_consistency(argv[optind + 1]);
	if (strcmp(cmd, "checkpoint") == 0)
		return cmd_checkpoint(argv[optind + 1]);
	return usage_error("unknown command '%s'", cmd);
}

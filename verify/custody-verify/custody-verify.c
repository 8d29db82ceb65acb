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
#include "base/err.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/i18n.h"
#include "verify/hash.h"
#include "verify/note.h"
#include "verify/proof.h"
#include "ingest/fingerprint.h"
#include "verify/custody-verify/fingerprint.h"
#include "verify/custody-verify/monitor.h"

#define WITNESS_MAX 32 /* --witness keys; a config has at most as many witnesses */

static const char *arg_key;
static const char *arg_media;
static bool arg_json;
static const char *arg_witness[WITNESS_MAX];
static unsigned arg_nwitness;
static long arg_quorum = -1; /* -1: as many as --witness keys */
static const char *arg_state;
static bool arg_entries;

static void help(void)
{
	/* Translators: custody-verify --help.  Keep the command names, options and
	 * placeholders (FILE, VKEY, MEDIA, DIR, URL, TZ, P, N) as they are. */
	fputs(
	    _("Usage: custody-verify COMMAND FILE --key VKEY [OPTIONS]\n"
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
	      "  monitor DIR|URL --key VKEY [--state FILE] [--entries]\n"
	      "        check a published log (a folder, or its http(s) address): the\n"
	      "        checkpoint's signature and cosignatures, every tile against its root,\n"
	      "        with --entries every entry bundle, and with --state that the log still\n"
	      "        holds the checkpoint saved there by the last run (then saves the new one):\n"
	      "        a different root at that size is a split view\n"
	      "  fingerprint FILE [--json] [--device-clock TZ] [--name-pattern P]\n"
	      "        print FILE's fingerprint as an ingest entry holds it; exit 1 when FILE\n"
	      "        is damaged (custody-verify fingerprint --help for its options)\n"
	      "\n"
	      "VKEY is the verifier key (NAME+KEYID+BASE64) or a file holding it.\n"
	      "Witnesses (docs/witness.md), for proof, consistency and checkpoint:\n"
	      "  --witness VKEY   a witness's cosignature/v1 verifier key (or a file holding it);\n"
	      "                   repeat it for each witness\n"
	      "  --quorum N       how many of them must have cosigned the checkpoint (of a\n"
	      "                   consistency file: the newer one); default: all --witness keys\n"
	      "Options: --json (one JSON object on stdout), --help.\n"
	      "Exit status: 0 verified, 1 not verified, 2 usage or system error.\n"),
	    stdout);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Translators: a usage error of custody-verify; %s says what is wrong. */
	fprintf(stderr, _("custody-verify: %s (custody-verify --help)\n"), msg);
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

/* The verdict for a person: "not verified (PART)" in the reader's language.  The JSON keeps the
 * English @part, which scripts match. */
static const char *not_verified_text(const char *part)
{
	static const struct {
		const char *part, *text;
	} texts[] = {
		/* Translators: custody-verify's verdicts; the word in brackets names the part of
		 * the check that failed. */
		{ "format", N_("not verified (format)") },
		{ "signature", N_("not verified (signature)") },
		{ "origin", N_("not verified (origin)") },
		{ "inclusion", N_("not verified (inclusion)") },
		{ "consistency", N_("not verified (consistency)") },
		{ "media", N_("not verified (media)") },
		{ "witnesses", N_("not verified (witnesses)") },
		{ "checkpoint", N_("not verified (checkpoint)") },
		{ "tiles", N_("not verified (tiles)") },
		{ "entries", N_("not verified (entries)") },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].part, part) == 0)
			return _(texts[i].text);
	return _("not verified");
}

static int not_verified(int r, const char *part, const struct err_detail *e)
{
	if (!part)
		part = failed_part(r);
	/* Translators: custody-verify's verdict ("not verified (signature)") and why. */
	fprintf(stderr, _("custody-verify: %s: %s\n"), not_verified_text(part), e->msg);
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

/* @arg: a verifier key, or a file holding one, of algorithm @alg. */
static int parse_key(const char *arg, uint8_t alg, const char *what, struct vfy_verifier *ret)
{
	struct err_detail e;
	auto_free char *text = NULL;
	const char *key = arg;
	struct stat st;
	size_t len;
	int r;

	/* A path that exists is a key file; anything else must be the key itself. */
	if (stat(arg, &st) == 0) {
		if (read_file(arg, 4096, &text, &len) < 0)
			return 2;
		key = text;
	}
	r = vfy_verifier_parse(key, strlen(key), ret, &e);
	if (r < 0) {
		/* Translators: %1$s is "the key" or "--witness key N", %2$s why. */
		fprintf(stderr, _("custody-verify: %1$s is unusable: %2$s\n"), what, e.msg);
		return 2;
	}
	if (ret->alg != alg) {
		if (alg == VFY_ALG_COSIG)
			fprintf(stderr,
				_("custody-verify: %s is a note signing key, not a witness's "
				  "cosignature/v1 key\n"),
				what);
		else
			fprintf(stderr,
				_("custody-verify: %s is a witness's cosignature/v1 key, not the "
				  "log's verifier key\n"),
				what);
		return 2;
	}
	return 0;
}

/* The log's key in @ret[0], the witnesses' after it. */
static int load_key(struct vfy_verifier *ret)
{
	int r;

	if (!arg_key)
		return usage_error("%s", _("--key VKEY is required: the log's verifier key"));
	r = parse_key(arg_key, VFY_ALG_ED25519, _("the key"), &ret[0]);
	for (unsigned i = 0; r == 0 && i < arg_nwitness; i++) {
		char what[64];

		snprintf(what, sizeof(what), _("--witness key %u"), i + 1);
		r = parse_key(arg_witness[i], VFY_ALG_COSIG, what, &ret[1 + i]);
	}
	return r;
}

/* The checkpoint @note must carry the cosignatures of --quorum of the --witness keys.  On
 * success *@ret_names gets the names of those that cosigned (a JSON array, or NULL without
 * witnesses).  @return 0, or 1 when not verified (said on stderr and in the JSON): too few
 * cosignatures, or a witness's line that does not verify. */
static int check_quorum(const char *note, size_t len, const struct vfy_verifier *keys,
			uint64_t size, json_t **ret_names)
{
	unsigned quorum = arg_quorum < 0 ? arg_nwitness : (unsigned)arg_quorum, have = 0;
	char missing[1024] = "";
	struct err_detail e;
	uint64_t mask = 0;
	size_t n = 0;
	json_t *names;
	int r;

	*ret_names = NULL;
	if (arg_nwitness == 0)
		return 0;
	r = vfy_note_open(note, len, keys, 1 + arg_nwitness, NULL, &mask, &e);
	if (r < 0)
		return not_verified(r, "witnesses", &e);
	names = json_array();
	for (unsigned i = 0; i < arg_nwitness; i++) {
		if (mask & (UINT64_C(1) << (i + 1))) {
			have++;
			json_array_append_new(names, json_string(keys[1 + i].name));
		} else if (n < sizeof(missing)) {
			n +=
			    (size_t)snprintf(missing + n, sizeof(missing) - n, "%s", n ? ", " : "");
			if (n < sizeof(missing))
				n += (size_t)snprintf(missing + n, sizeof(missing) - n,
						      _("%s (key ID %08x)"), keys[1 + i].name,
						      keys[1 + i].id);
		}
	}
	if (have < quorum) {
		json_decref(names);
		err_set(&e, -EKEYREJECTED,
			_("the checkpoint of size %" PRIu64 " carries %u of the %u cosignatures "
			  "required (--quorum %u); missing: %s"),
			size, have, quorum, quorum, missing);
		return not_verified(-EKEYREJECTED, "witnesses", &e);
	}
	*ret_names = names;
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
		return err_set(e, -EPROTO, "%s",
			       _("the entry records no file hash (\"sha256\"), so it does "
				 "not describe a media file"));
	fd = open(arg_media, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_set(e, -ENOENT, _("cannot read '%s': %s"), arg_media, strerror(errno));
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
		       _("'%s' (SHA-256 %s) is neither byte-identical to the original "
			 "the entry records (SHA-256 %s) nor the same packets in another "
			 "container"),
		       arg_media, hex, want);
}

/* "witnesses: cosigned by a, b (2 required)" after a verified result. */
static void print_cosigners(const json_t *names)
{
	char list[2048] = "";
	size_t i, n = 0;
	json_t *v;

	if (!names)
		return;
	json_array_foreach(names, i, v)
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
					      json_string_value(v));
	/* Translators: %1$s lists the witnesses' names, %2$ld is --quorum. */
	printf(_("witnesses: cosigned by %1$s (%2$ld required)\n"), list,
	       arg_quorum < 0 ? (long)arg_nwitness : arg_quorum);
}

static int cmd_proof(const char *path)
{
	struct vfy_tlog_proof p;
	struct vfy_verifier keys[1 + WITNESS_MAX];
	const struct vfy_verifier *key = &keys[0];
	struct vfy_checkpoint cp;
	struct err_detail e;
	auto_free char *text = NULL;
	const char *media = NULL;
	json_t *cosigners = NULL;
	char root[64];
	size_t len;
	int r;

	if ((r = load_key(keys)))
		return r;
	if (read_file(path, VFY_PROOF_MAX, &text, &len) < 0)
		return 2;
	r = vfy_tlog_proof_parse(text, len, &p, &e);
	if (r < 0)
		return not_verified(r, "format", &e);
	r = vfy_tlog_proof_verify(&p, key, &cp, &e);
	if (r < 0) {
		vfy_tlog_proof_done(&p);
		return not_verified(r, NULL, &e);
	}
	r = check_quorum(p.checkpoint, p.checkpoint_len, keys, cp.size, &cosigners);
	if (r) {
		vfy_tlog_proof_done(&p);
		return r;
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
		if (cosigners)
			json_object_set_new(obj, "cosigned_by", cosigners);
		print_json(obj);
	} else {
		printf(_("verified: entry %" PRIu64 " is in the log '%s' at size %" PRIu64
			 " (root %s)\n"),
		       p.index, cp.origin, cp.size, root);
		if (media && strcmp(media, "exact") == 0)
			printf(_("media: '%s' is byte-identical to the logged original\n"),
			       arg_media);
		else if (media)
			printf(_("media: '%s' is the logged original's packets in another "
				 "container (remux)\n"),
			       arg_media);
		print_cosigners(cosigners);
		json_decref(cosigners);
		/* The entry's own bytes follow the label: it is evidence, never translated. */
		printf(_("entry: %.*s\n"), (int)p.extra_len, (const char *)p.extra);
	}
	vfy_tlog_proof_done(&p);
	return 0;
}

static int cmd_consistency(const char *path)
{
	struct vfy_consistency c;
	struct vfy_verifier keys[1 + WITNESS_MAX];
	struct vfy_checkpoint old, new;
	struct err_detail e;
	auto_free char *text = NULL;
	json_t *cosigners = NULL;
	char root_old[64], root_new[64];
	size_t len;
	int r;

	if ((r = load_key(keys)))
		return r;
	if (read_file(path, VFY_PROOF_MAX, &text, &len) < 0)
		return 2;
	r = vfy_consistency_parse(text, len, &c, &e);
	if (r < 0)
		return not_verified(r, "format", &e);
	r = vfy_consistency_verify(&c, &keys[0], &old, &new, &e);
	if (r == 0)
		r = check_quorum(c.checkpoint, strlen(c.checkpoint), keys, new.size, &cosigners);
	vfy_consistency_done(&c);
	if (r > 0)
		return r;
	if (r < 0)
		return not_verified(r, r == -EPROTO ? "consistency" : NULL, &e);
	root_b64(old.root, root_old);
	root_b64(new.root, root_new);
	if (arg_json) {
		print_json(json_pack("{s:b, s:s, s:I, s:s, s:I, s:s, s:o*}", "verified", 1,
				     "origin", new.origin, "old_size", (json_int_t)old.size,
				     "old_root", root_old, "size", (json_int_t) new.size, "root",
				     root_new, "cosigned_by", cosigners));
	} else {
		printf(_("verified: the log '%s' at size %" PRIu64 " (root %s) extends size "
			 "%" PRIu64 " (root %s)\n"),
		       new.origin, new.size, root_new, old.size, root_old);
		print_cosigners(cosigners);
		json_decref(cosigners);
	}
	return 0;
}

static int cmd_checkpoint(const char *path)
{
	struct vfy_verifier keys[1 + WITNESS_MAX];
	struct vfy_checkpoint cp;
	struct err_detail e;
	auto_free char *text = NULL;
	json_t *cosigners = NULL;
	char root[64];
	size_t len;
	int r;

	if ((r = load_key(keys)))
		return r;
	if (read_file(path, VFY_NOTE_MAX, &text, &len) < 0)
		return 2;
	r = vfy_checkpoint_open(text, len, NULL, keys, 1, &cp, NULL, &e);
	if (r < 0)
		return not_verified(r, NULL, &e);
	r = check_quorum(text, len, keys, cp.size, &cosigners);
	if (r)
		return r;
	root_b64(cp.root, root);
	if (arg_json) {
		print_json(json_pack("{s:b, s:s, s:I, s:s, s:o*}", "verified", 1, "origin",
				     cp.origin, "size", (json_int_t)cp.size, "root", root,
				     "cosigned_by", cosigners));
	} else {
		/* Translators: custody-verify checkpoint: the checkpoint's three fields. */
		printf(_("origin %s\nsize %" PRIu64 "\nroot %s\n"), cp.origin, cp.size, root);
		print_cosigners(cosigners);
		json_decref(cosigners);
	}
	return 0;
}

/* The checkpoint saved by the last run, into @ret: 0, 1 (none yet), or 2 (said). */
static int state_load(const struct vfy_verifier *key, struct vfy_checkpoint *ret)
{
	auto_free char *text = NULL;
	struct err_detail e;
	size_t len;
	int r;

	r = file_read_at(AT_FDCWD, arg_state, O_NONBLOCK, VFY_NOTE_MAX, &text, &len, &e);
	if (r == -ENOENT)
		return 1;
	if (r < 0) {
		fprintf(stderr, _("custody-verify: the state file: %s\n"), e.msg);
		return 2;
	}
	r = vfy_checkpoint_open(text, len, NULL, key, 1, ret, NULL, &e);
	if (r < 0) {
		fprintf(
		    stderr,
		    _("custody-verify: the state file '%s' holds no checkpoint of this log (%s); "
		      "give another --state, or remove it to start over\n"),
		    arg_state, e.msg);
		return 2;
	}
	return 0;
}

static int cmd_monitor(const char *where)
{
	struct vfy_verifier keys[1 + WITNESS_MAX];
	struct vfy_checkpoint cp, old;
	struct mon_source *src = NULL;
	struct mon_result res;
	struct err_detail e;
	auto_free char *note = NULL;
	json_t *cosigners = NULL;
	bool have_old = false;
	char root[64];
	size_t len;
	int r;

	if ((r = load_key(keys)))
		return r;
	if (arg_state) {
		r = state_load(&keys[0], &old);
		if (r == 2)
			return 2;
		have_old = r == 0;
	}
	r = mon_open(where, &src, &e);
	if (r < 0) {
		fprintf(stderr, "custody-verify: %s\n", e.msg);
		return 2;
	}
	r = mon_get(src, "checkpoint", VFY_NOTE_MAX, &note, &len, &e);
	if (r < 0) {
		mon_close(src);
		if (r == -ENOENT || r == -EFBIG)
			return not_verified(-EBADMSG, "checkpoint", &e);
		fprintf(stderr, "custody-verify: %s\n", e.msg);
		return 2;
	}
	r = vfy_checkpoint_open(note, len, NULL, keys, 1, &cp, NULL, &e);
	if (r < 0) {
		mon_close(src);
		return not_verified(r, NULL, &e);
	}
	r = check_quorum(note, len, keys, cp.size, &cosigners);
	if (r) {
		mon_close(src);
		return r;
	}
	r = mon_check(src, &cp, have_old ? &old : NULL, arg_entries, &res, &e);
	mon_close(src);
	if (r < 0) {
		json_decref(cosigners);
		if (res.failed)
			return not_verified(-EPROTO, res.failed, &e);
		fprintf(stderr, "custody-verify: %s\n", e.msg);
		return 2;
	}
	if (arg_state && file_write_atomic(AT_FDCWD, arg_state, note, len, 0644, &e) < 0) {
		json_decref(cosigners);
		fprintf(stderr, _("custody-verify: verified, but cannot save the state: %s\n"),
			e.msg);
		return 2;
	}
	root_b64(cp.root, root);
	if (arg_json) {
		json_t *obj = json_pack("{s:b, s:s, s:I, s:s, s:I, s:I, s:o*}", "verified", 1,
					"origin", cp.origin, "size", (json_int_t)cp.size, "root",
					root, "tiles", (json_int_t)res.tiles, "bundles",
					(json_int_t)res.bundles, "cosigned_by", cosigners);

		json_object_set_new(obj, "previous_size",
				    have_old ? json_integer((json_int_t)old.size) : json_null());
		print_json(obj);
	} else {
		if (arg_entries)
			printf(_("verified: the published log '%s' at size %" PRIu64
				 " (root %s): %" PRIu64 " tiles, %" PRIu64 " entry bundles\n"),
			       cp.origin, cp.size, root, res.tiles, res.bundles);
		else
			printf(_("verified: the published log '%s' at size %" PRIu64
				 " (root %s): %" PRIu64 " tiles\n"),
			       cp.origin, cp.size, root, res.tiles);
		if (have_old)
			printf(_("consistent: it extends the checkpoint of size %" PRIu64
				 " saved by the last run\n"),
			       old.size);
		else if (arg_state)
			printf(_("first run: the checkpoint is saved in '%s' for the next\n"),
			       arg_state);
		print_cosigners(cosigners);
		json_decref(cosigners);
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum {
		OPT_KEY = 256,
		OPT_MEDIA,
		OPT_JSON,
		OPT_WITNESS,
		OPT_QUORUM,
		OPT_STATE,
		OPT_ENTRIES
	};
	static const struct option opts[] = {
		{ "state", required_argument, NULL, OPT_STATE },
		{ "entries", no_argument, NULL, OPT_ENTRIES },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "witness", required_argument, NULL, OPT_WITNESS },
		{ "quorum", required_argument, NULL, OPT_QUORUM },
		{ "media", required_argument, NULL, OPT_MEDIA },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd;
	int c;

	/* Before any message; --json switches messages back to English below. */
	i18n_init();
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
		case OPT_STATE:
			arg_state = optarg;
			break;
		case OPT_ENTRIES:
			arg_entries = true;
			break;
		case OPT_WITNESS:
			if (arg_nwitness == WITNESS_MAX)
				return usage_error("%s", _("more than 32 --witness keys"));
			arg_witness[arg_nwitness++] = optarg;
			break;
		case OPT_QUORUM: {
			char *end;

			errno = 0;
			arg_quorum = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || arg_quorum < 0 ||
			    arg_quorum > WITNESS_MAX)
				return usage_error(_("--quorum '%s' is not a number from 0 to 32"),
						   optarg);
			break;
		}
		case 'h':
			help();
			return 0;
		case ':':
			return usage_error(_("option '%s' needs a value"), argv[optind - 1]);
		default:
			return usage_error(_("unknown option '%s'"), argv[optind - 1]);
		}
	}
	/* --json is for programs: the object, message included, is the same bytes in every
	 * locale (docs/i18n.md), and so is what goes with it on stderr. */
	if (arg_json)
		setlocale(LC_MESSAGES, "C");
	if (argc - optind != 2)
		return usage_error("%s", _("expected a command and a file"));
	cmd = argv[optind];
	if (arg_media && strcmp(cmd, "proof") != 0)
		return usage_error("%s", _("--media goes with 'proof' only"));
	if (arg_quorum > (long)arg_nwitness)
		return usage_error(NG_("--quorum asks for more cosignatures than the %u --witness "
				       "key given",
				       "--quorum asks for more cosignatures than the %u --witness "
				       "keys given",
				       arg_nwitness),
				   arg_nwitness);
	if (strcmp(cmd, "proof") == 0)
		return cmd_proof(argv[optind + 1]);
	if (strcmp(cmd, "consistency") == 0)
		return cmd_consistency(argv[optind + 1]);
	if ((arg_state || arg_entries) && strcmp(cmd, "monitor") != 0)
		return usage_error("%s", _("--state and --entries go with 'monitor' only"));
	if (strcmp(cmd, "checkpoint") == 0)
		return cmd_checkpoint(argv[optind + 1]);
	if (strcmp(cmd, "monitor") == 0)
		return cmd_monitor(argv[optind + 1]);
	return usage_error(_("unknown command '%s'"), cmd);
}

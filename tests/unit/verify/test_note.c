/* test_note.c: signed notes, note keys and checkpoints.
 *
 * The vectors in tests/data/tlog come from independent implementations (golang.org/x/mod
 * sumdb/note, C2SP, real sum.golang.org checkpoints, transparency-dev/formats), so they catch
 * what a self-consistent implementation would miss; the tests after them walk the edges of
 * the C2SP grammar and the key-file rules.
 *
 * One file because it is the one test executable of verify/note.c, and its tests share the keys
 * made once per group (struct tkey, group_setup()) and the note builders. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "base/err.h"
#include "verify/note.h"

#define EM_DASH "\xe2\x80\x94"
#define EN_DASH "\xe2\x80\x93"
#define ROOT8 "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=" /* RFC 6962 reference tree, size 8 */
#define BODY8 "example.com/log\n8\n" ROOT8 "\n"

/* The call must fail with @code, and report that same code in the detail. */
#define assert_fails(expr, want, e)                                                                \
	do {                                                                                       \
		(e).code = 0;                                                                      \
		(e).msg[0] = '\0';                                                                 \
		int r_ = (expr);                                                                   \
		if (r_ != (want))                                                                  \
			fail_msg("%s: got %d (%s), want %d", #expr, r_, (e).msg, (want));          \
		assert_int_equal((e).code, (want));                                                \
		assert_true((e).msg[0] != '\0');                                                   \
	} while (0)

#define assert_ok(expr, e)                                                                         \
	do {                                                                                       \
		int r_ = (expr);                                                                   \
		if (r_ != 0)                                                                       \
			fail_msg("%s: got %d: %s", #expr, r_, (e).msg);                            \
	} while (0)

static void assert_msg_has(const struct err_detail *e, const char *part)
{
	if (!strstr(e->msg, part))
		fail_msg("message '%s' does not mention '%s'", e->msg, part);
}

struct tkey {
	struct vfy_signer *s;
	struct vfy_verifier v;
	char *vkey;
};

/* log: the log key; w1, w2: witnesses; stranger: a key nobody trusts. */
static struct tkey k_log, k_w1, k_w2, k_stranger;

static void tkey_make(struct tkey *k, const char *name)
{
	struct err_detail e;
	char *skey;

	assert_ok(vfy_keygen(name, &skey, &k->vkey, &e), e);
	assert_ok(vfy_signer_parse(skey, strlen(skey), &k->s, &e), e);
	assert_ok(vfy_verifier_parse(k->vkey, strlen(k->vkey), &k->v, &e), e);
	vfy_secret_free(skey);
}

static void tkey_done(struct tkey *k)
{
	k->s = vfy_signer_free(k->s);
	free(k->vkey);
	k->vkey = NULL;
}

static int group_setup(void **state)
{
	(void)state;
	tkey_make(&k_log, "example.com/log");
	tkey_make(&k_w1, "witness.example/one");
	tkey_make(&k_w2, "witness.example/two");
	tkey_make(&k_stranger, "stranger.example");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tkey_done(&k_log);
	tkey_done(&k_w1);
	tkey_done(&k_w2);
	tkey_done(&k_stranger);
	return 0;
}

static void append(char **s, const char *add)
{
	size_t old = *s ? strlen(*s) : 0, n = strlen(add);
	char *p = realloc(*s, old + n + 1);

	assert_non_null(p);
	memcpy(p + old, add, n + 1);
	*s = p;
}

/* Sign @text with @s and return only its signature line "— NAME SIG\n" (malloc()'d). */
static char *sig_line(struct vfy_signer *s, const char *text)
{
	struct err_detail e;
	size_t len = strlen(text);
	char *note, *line;

	assert_ok(vfy_note_sign(text, len, s, &note, &e), e);
	assert_memory_equal(note, text, len);
	assert_int_equal(note[len], '\n');
	line = strdup(note + len + 1);
	assert_non_null(line);
	free(note);
	return line;
}

/* @text, the blank line, then one signature line by each of the @n signers, in order. */
static char *build_note(const char *text, struct vfy_signer *const *signers, size_t n)
{
	char *note = NULL;

	append(&note, text);
	append(&note, "\n");
	for (size_t i = 0; i < n; i++) {
		char *line = sig_line(signers[i], text);

		append(&note, line);
		free(line);
	}
	return note;
}

/* Replace every @from in @s by @to (malloc()'d). */
static char *replace_all(const char *s, const char *from, const char *to)
{
	size_t flen = strlen(from);
	char *out = NULL;
	const char *p;

	append(&out, "");
	while ((p = strstr(s, from))) {
		char *piece = strndup(s, (size_t)(p - s));

		append(&out, piece);
		append(&out, to);
		free(piece);
		s = p + flen;
	}
	append(&out, s);
	return out;
}

static json_t *load_vectors(const char *name)
{
	char path[4096];
	json_error_t jerr;
	json_t *root;

	snprintf(path, sizeof(path), "%s/tlog/%s", TEST_DATA, name);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
	return root;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Vectors */

static void test_signed_notes_vectors(void **state)
{
	json_t *root = load_vectors("signed-notes.json"), *notes, *n;
	unsigned nok = 0, nfail = 0, nusage = 0;
	size_t i;

	(void)state;
	notes = json_object_get(root, "notes");
	assert_true(json_array_size(notes) > 0);
	json_array_foreach(notes, i, n) {
		const char *id = jstr(n, "id"), *kind = jstr(n, "kind"), *want = jstr(n, "want");
		const char *signed_note = jstr(n, "signed"), *text = jstr(n, "text");
		json_t *vkeys = json_object_get(n, "vkeys"), *vk;
		struct vfy_verifier keys[8];
		struct err_detail e;
		size_t nkeys = 0, j, text_len;
		uint64_t mask;
		int r = 0;

		assert_non_null(id);
		assert_non_null(signed_note);
		assert_true(json_array_size(vkeys) <= 8);
		json_array_foreach(vkeys, j, vk) {
			const char *s = json_string_value(vk);

			r = vfy_verifier_parse(s, strlen(s), &keys[nkeys], &e);
			if (r < 0)
				break;
			nkeys++;
		}
		if (strcmp(want, "usage-error") == 0) {
			if (r == 0)
				fail_msg("%s: verifier key accepted, want it rejected", id);
			assert_int_equal(e.code, r);
			nusage++;
			continue;
		}
		if (r < 0)
			fail_msg("%s: verifier key rejected: %s", id, e.msg);

		if (strcmp(want, "ok") == 0) {
			r = vfy_note_open(signed_note, strlen(signed_note), keys, nkeys, &text_len,
					  &mask, &e);
			if (r != 0)
				fail_msg("%s: vfy_note_open: %s", id, e.msg);
			assert_int_equal(mask & 1, 1);
			if (text) {
				assert_int_equal(text_len, strlen(text));
				assert_memory_equal(signed_note, text, text_len);
			}
			if (strcmp(kind, "checkpoint") == 0) {
				const char *origin = jstr(n, "origin"), *root_b64 = jstr(n, "root");
				json_t *size = json_object_get(n, "size");
				struct vfy_checkpoint cp;
				unsigned nsigs = 0;

				r = vfy_checkpoint_open(signed_note, strlen(signed_note), origin,
							keys, nkeys, &cp, &nsigs, &e);
				if (r != 0)
					fail_msg("%s: vfy_checkpoint_open: %s", id, e.msg);
				assert_int_equal(nsigs, 1);
				assert_string_equal(cp.origin, origin);
				if (size)
					assert_true(cp.size == (uint64_t)json_integer_value(size));
				if (root_b64) {
					uint8_t want_root[VFY_HASH_LEN];

					assert_int_equal(vfy_b64_decode(root_b64, strlen(root_b64),
									want_root,
									sizeof(want_root)),
							 VFY_HASH_LEN);
					assert_memory_equal(cp.root, want_root, VFY_HASH_LEN);
				}
			}
			nok++;
		} else {
			assert_string_equal(want, "fail");
			if (strcmp(kind, "checkpoint") == 0)
				r = vfy_checkpoint_open(signed_note, strlen(signed_note),
							jstr(n, "origin"), keys, nkeys, NULL, NULL,
							&e);
			else
				r = vfy_note_open(signed_note, strlen(signed_note), keys, nkeys,
						  NULL, NULL, &e);
			if (r == 0)
				fail_msg("%s: accepted, want it rejected", id);
			assert_int_equal(e.code, r);
			assert_true(r == -EBADMSG || r == -EKEYREJECTED || r == -ESTALE);
			nfail++;
		}
	}
	print_message("signed-notes.json: %u accepted, %u rejected, %u bad keys\n", nok, nfail,
		      nusage);
	assert_true(nok >= 10 && nfail >= 10 && nusage >= 1);
	json_decref(root);
}

/* Ed25519 is deterministic: signing the x/mod example must give the same bytes as Go. */
static void test_peterneumann_sign(void **state)
{
	json_t *root = load_vectors("signed-notes.json"), *n;
	struct vfy_signer *s;
	struct err_detail e;
	char *note, *vkey;
	const char *skey, *text, *want, *want_vkey;

	(void)state;
	n = json_array_get(json_object_get(root, "notes"), 0);
	assert_string_equal(jstr(n, "id"), "x-mod-peterneumann");
	skey = jstr(n, "skey");
	text = jstr(n, "text");
	want = jstr(n, "signed");
	want_vkey = json_string_value(json_array_get(json_object_get(n, "vkeys"), 0));

	assert_ok(vfy_signer_parse(skey, strlen(skey), &s, &e), e);
	assert_string_equal(vfy_signer_name(s), "PeterNeumann");
	vkey = vfy_signer_vkey(s);
	assert_string_equal(vkey, want_vkey);
	assert_ok(vfy_note_sign(text, strlen(text), s, &note, &e), e);
	assert_string_equal(note, want);
	/* Signing again gives the same bytes: the key survives its PROT_NOACCESS round trip. */
	free(note);
	assert_ok(vfy_note_sign(text, strlen(text), s, &note, &e), e);
	assert_string_equal(note, want);

	free(note);
	free(vkey);
	vfy_signer_free(s);
	json_decref(root);
}

/* transparency-dev/formats TestParseCheckpoint. */
static void test_note_scenarios(void **state)
{
	static const struct {
		const char *desc;
		int code;
	} codes[] = {
		{ "no sigs", -EBADMSG },
		{ "bad body good sigs", -EBADMSG },
		{ "just known", -EKEYREJECTED },
		{ "all sigs but wrong logID", -ESTALE },
	};
	json_t *root = load_vectors("note-scenarios.json"), *keys_json, *order, *scenarios, *sc, *v;
	const char *names[8];
	struct vfy_signer *signers[8];
	struct vfy_verifier keys[8];
	size_t nnames = 0, nkeys = 0, i, j;
	const char *name;
	struct err_detail e;

	(void)state;
	keys_json = json_object_get(root, "keys");
	json_object_foreach(keys_json, name, v) {
		const char *skey = jstr(v, "skey");

		assert_true(nnames < 8);
		names[nnames] = name;
		assert_ok(vfy_signer_parse(skey, strlen(skey), &signers[nnames], &e), e);
		nnames++;
	}
	order = json_object_get(root, "verifier_keys_in_order");
	json_array_foreach(order, i, v) {
		const char *vkey = jstr(json_object_get(keys_json, json_string_value(v)), "vkey");

		assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &keys[nkeys], &e), e);
		nkeys++;
	}

	scenarios = json_object_get(root, "scenarios");
	assert_true(json_array_size(scenarios) >= 10);
	json_array_foreach(scenarios, i, sc) {
		const char *desc = jstr(sc, "desc"), *body = jstr(sc, "body"), *origin;
		json_t *sigs = json_object_get(sc, "sigs"), *sig;
		struct vfy_signer *by[16];
		struct vfy_checkpoint cp;
		unsigned nsigs = 0;
		size_t nby = 0;
		char *note;
		int r;

		if (!body)
			body = jstr(root, "body");
		origin = jstr(sc, "origin");
		if (!origin)
			origin = "TestParseCheckpoint";
		json_array_foreach(sigs, j, sig) {
			size_t k;

			for (k = 0; k < nnames; k++)
				if (strcmp(names[k], json_string_value(sig)) == 0)
					break;
			assert_true(k < nnames);
			by[nby++] = signers[k];
		}
		note = build_note(body, by, nby);
		memset(&e, 0, sizeof(e));
		r = vfy_checkpoint_open(note, strlen(note), origin, keys, nkeys, &cp, &nsigs, &e);
		if (json_is_true(json_object_get(sc, "wantErr"))) {
			if (r == 0)
				fail_msg("%s: accepted, want an error", desc);
			assert_int_equal(e.code, r);
			for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++)
				if (strcmp(codes[c].desc, desc) == 0 && r != codes[c].code)
					fail_msg("%s: got %d (%s), want %d", desc, r, e.msg,
						 codes[c].code);
		} else {
			if (r != 0)
				fail_msg("%s: %s", desc, e.msg);
			assert_int_equal(nsigs,
					 json_integer_value(json_object_get(sc, "wantSigs")));
			assert_string_equal(cp.origin, "TestParseCheckpoint");
			assert_true(cp.size == 8);
		}
		free(note);
	}
	for (i = 0; i < nnames; i++)
		vfy_signer_free(signers[i]);
	json_decref(root);
}

/* ------------------------------------------------------------------------------------------ */
/* Keys */

static void test_keygen_round_trip(void **state)
{
	struct vfy_verifier v;
	struct vfy_signer *s;
	struct err_detail e;
	char *skey, *vkey, *vkey2, *note, *with_nl = NULL;
	size_t text_len;
	uint64_t mask;
	const char *text = "hello\n", *head = "hello\n\n" EM_DASH " example.com/round-trip ";

	(void)state;
	assert_ok(vfy_keygen("example.com/round-trip", &skey, &vkey, &e), e);
	assert_true(strncmp(skey, "PRIVATE+KEY+example.com/round-trip+", 35) == 0);
	assert_true(strncmp(vkey, "example.com/round-trip+", 23) == 0);
	/* NAME+8 hex+44 base64 */
	assert_int_equal(strlen(vkey), strlen("example.com/round-trip") + 1 + 8 + 1 + 44);
	assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &v, &e), e);
	assert_string_equal(v.name, "example.com/round-trip");

	/* A key file ends in a newline. */
	append(&with_nl, skey);
	append(&with_nl, "\n");
	assert_ok(vfy_signer_parse(with_nl, strlen(with_nl), &s, &e), e);
	vkey2 = vfy_signer_vkey(s);
	assert_string_equal(vkey2, vkey);
	assert_string_equal(vfy_signer_name(s), "example.com/round-trip");

	assert_ok(vfy_note_sign(text, strlen(text), s, &note, &e), e);
	assert_true(strncmp(note, head, strlen(head)) == 0);
	assert_ok(vfy_note_open(note, strlen(note), &v, 1, &text_len, &mask, &e), e);
	assert_int_equal(text_len, strlen(text));
	assert_int_equal(mask, 1);

	/* Two keygens never give the same key. */
	{
		char *skey2, *vkey3;

		assert_ok(vfy_keygen("example.com/round-trip", &skey2, &vkey3, &e), e);
		assert_string_not_equal(vkey3, vkey);
		vfy_secret_free(skey2);
		free(vkey3);
	}

	/* Surrounding white space around a verifier key is fine. */
	{
		char *padded = NULL;

		append(&padded, "  \t");
		append(&padded, vkey);
		append(&padded, "\r\n");
		assert_ok(vfy_verifier_parse(padded, strlen(padded), &v, &e), e);
		free(padded);
	}

	free(note);
	free(vkey2);
	free(with_nl);
	vfy_signer_free(s);
	vfy_secret_free(skey);
	free(vkey);
}

static void test_key_id_mismatch(void **state)
{
	const char *vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
	const char *skey =
	    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
	struct vfy_verifier v;
	struct vfy_signer *s = NULL;
	struct err_detail e;
	char *bad;

	(void)state;
	assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &v, &e), e);
	assert_int_equal(v.id, 0xc74f20a3);

	bad = replace_all(vkey, "c74f20a3", "c74f20a4");
	assert_fails(vfy_verifier_parse(bad, strlen(bad), &v, &e), -EKEYREJECTED, e);
	assert_msg_has(&e, "c74f20a4");
	assert_msg_has(&e, "does not match");
	free(bad);

	/* The key ID covers the name: renaming a key breaks it. */
	bad = replace_all(vkey, "PeterNeumann", "PeterNeumanx");
	assert_fails(vfy_verifier_parse(bad, strlen(bad), &v, &e), -EKEYREJECTED, e);
	free(bad);

	bad = replace_all(skey, "c74f20a3", "00000000");
	assert_fails(vfy_signer_parse(bad, strlen(bad), &s, &e), -EKEYREJECTED, e);
	assert_null(s);
	/* The message names the key but never quotes its secret part. */
	assert_msg_has(&e, "PeterNeumann");
	assert_null(strstr(e.msg, "AYEKFALV"));
	free(bad);

	bad = replace_all(skey, "PeterNeumann", "PaulNeumann");
	assert_fails(vfy_signer_parse(bad, strlen(bad), &s, &e), -EKEYREJECTED, e);
	free(bad);
}

static void test_bad_names(void **state)
{
	static const char *const bad[] = {
		"",
		"a b",
		"a+b",
		"a\tb",
		"a\nb",
		"a\rb",
		"a\x01z",
		"a\x7fz",
		"a\xc2\xa0z",	  /* NO-BREAK SPACE */
		"a\xe3\x80\x80z", /* IDEOGRAPHIC SPACE */
		"a\xe2\x80\x83z", /* EM SPACE */
		"a\xc2\x85z",	  /* NEXT LINE */
		"a\xffz",	  /* not UTF-8 */
		"a\xc0\xafz",	  /* overlong '/' */
		"a\xed\xa0\x80z", /* surrogate */
	};
	char name[VFY_NAME_MAX + 2], *skey, *vkey;
	struct err_detail e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		skey = vkey = NULL;
		e.code = 0;
		if (vfy_keygen(bad[i], &skey, &vkey, &e) != -EINVAL)
			fail_msg("name #%zu accepted", i);
		assert_int_equal(e.code, -EINVAL);
		assert_null(skey);
		assert_null(vkey);
		/* Messages never carry raw control characters. */
		for (const char *p = e.msg; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	}

	memset(name, 'a', VFY_NAME_MAX + 1);
	name[VFY_NAME_MAX + 1] = '\0';
	assert_fails(vfy_keygen(name, &skey, &vkey, &e), -EINVAL, e);
	assert_msg_has(&e, "255");

	/* 255 bytes, and non-ASCII names, are fine. */
	name[VFY_NAME_MAX] = '\0';
	assert_ok(vfy_keygen(name, &skey, &vkey, &e), e);
	{
		struct vfy_verifier v;
		struct vfy_signer *s;

		assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &v, &e), e);
		assert_int_equal(strlen(v.name), VFY_NAME_MAX);
		assert_ok(vfy_signer_parse(skey, strlen(skey), &s, &e), e);
		vfy_signer_free(s);
	}
	vfy_secret_free(skey);
	free(vkey);
	assert_ok(vfy_keygen("b\xc3\xbcro.example/\xe6\x97\xa5\xe5\xbf\x97", &skey, &vkey, &e), e);
	vfy_secret_free(skey);
	free(vkey);
}

static void test_verifier_parse_errors(void **state)
{
	struct vfy_verifier v;
	struct err_detail e;
	char *k;
	uint8_t raw[34];
	char b64[64], buf[256];

	(void)state;
#define REJECT(str, code, part)                                                                    \
	do {                                                                                       \
		assert_fails(vfy_verifier_parse((str), strlen(str), &v, &e), (code), e);           \
		assert_msg_has(&e, (part));                                                        \
	} while (0)
	REJECT("", -EINVAL, "NAME+KEYID+BASE64");
	REJECT("justaname", -EINVAL, "NAME+KEYID+BASE64");
	REJECT("name+c74f20a3", -EINVAL, "NAME+KEYID+BASE64");
	REJECT("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", -EINVAL, "empty");
	REJECT("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", -EINVAL,
	       "lowercase hex");
	REJECT("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", -EINVAL,
	       "NAME+KEYID+BASE64");
	REJECT("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", -EINVAL,
	       "base64");
	REJECT("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW==", -EINVAL,
	       "base64");
	REJECT("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy1", -EINVAL,
	       "base64");
	REJECT("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", -EINVAL,
	       "space");
	REJECT("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
	       -EINVAL, "signer key");

	/* Another algorithm byte, and a short key. */
	memset(raw, 0x11, sizeof(raw));
	raw[0] = 0x02;
	vfy_b64_encode(raw, 33, b64, sizeof(b64));
	snprintf(buf, sizeof(buf), "x+01234567+%s", b64);
	REJECT(buf, -EINVAL, "0x02");
	raw[0] = 0x01;
	vfy_b64_encode(raw, 32, b64, sizeof(b64));
	snprintf(buf, sizeof(buf), "x+01234567+%s", b64);
	REJECT(buf, -EINVAL, "31");
	vfy_b64_encode(raw, 34, b64, sizeof(b64));
	snprintf(buf, sizeof(buf), "x+01234567+%s", b64);
	REJECT(buf, -EINVAL, "33");
#undef REJECT

	/* The parsed length counts, not a NUL: bytes after @len are ignored. */
	k = strdup("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWgarbage");
	assert_ok(vfy_verifier_parse(k, strlen(k) - 7, &v, &e), e);
	free(k);
}

static void test_signer_parse_errors(void **state)
{
	struct vfy_signer *s = NULL;
	struct err_detail e;

	(void)state;
#define REJECT(str, code, part)                                                                    \
	do {                                                                                       \
		assert_fails(vfy_signer_parse((str), strlen(str), &s, &e), (code), e);             \
		assert_msg_has(&e, (part));                                                        \
		assert_null(s);                                                                    \
	} while (0)
	REJECT("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", -EINVAL,
	       "PRIVATE+KEY+");
	REJECT("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF",
	       -EINVAL, "44");
	REJECT("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKA==",
	       -EINVAL, "33");
	REJECT("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF!",
	       -EINVAL, "base64");
	REJECT("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
	       -EINVAL, "algorithm");
	REJECT("PRIVATE+KEY+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", -EINVAL, "PRIVATE+KEY+");
#undef REJECT
}

static void write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_signer_load(void **state)
{
	char dir[] = "/tmp/test-note-XXXXXX", path[256], link[256], sub[256], fifo[256];
	struct vfy_signer *s = NULL;
	struct err_detail e;
	char *skey, *vkey, *content = NULL, *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log.key", dir);
	snprintf(link, sizeof(link), "%s/link.key", dir);
	snprintf(sub, sizeof(sub), "%s/dir.key", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo.key", dir);
	assert_ok(vfy_keygen("example.com/load", &skey, &vkey, &e), e);
	append(&content, skey);
	append(&content, "\n");
	write_file(path, content, 0600);

	assert_ok(vfy_signer_load(path, &s, &e), e);
	got = vfy_signer_vkey(s);
	assert_string_equal(got, vkey);
	free(got);
	s = vfy_signer_free(s);

	/* Read-only for the owner is fine too. */
	assert_int_equal(chmod(path, 0400), 0);
	assert_ok(vfy_signer_load(path, &s, &e), e);
	s = vfy_signer_free(s);

	assert_int_equal(chmod(path, 0644), 0);
	assert_fails(vfy_signer_load(path, &s, &e), -EPERM, e);
	assert_msg_has(&e, "0644");
	assert_msg_has(&e, "0600");
	assert_msg_has(&e, "chmod 600");
	assert_null(s);
	assert_int_equal(chmod(path, 0640), 0);
	assert_fails(vfy_signer_load(path, &s, &e), -EPERM, e);
	assert_int_equal(chmod(path, 0601), 0);
	assert_fails(vfy_signer_load(path, &s, &e), -EPERM, e);
	assert_int_equal(chmod(path, 0600), 0);

	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_fails(vfy_signer_load(path, &s, &e), -EPERM, e);
		assert_msg_has(&e, "65534");
		assert_msg_has(&e, "uid 0");
		assert_null(s);
		assert_int_equal(chown(path, 0, 0), 0);
	} else {
		print_message("not root: owner check not tested\n");
	}

	assert_int_equal(symlink(path, link), 0);
	assert_fails(vfy_signer_load(link, &s, &e), -EPERM, e);
	assert_msg_has(&e, "symbolic link");

	assert_int_equal(mkdir(sub, 0700), 0);
	assert_fails(vfy_signer_load(sub, &s, &e), -EPERM, e);
	assert_msg_has(&e, "not a regular file");

	/* A FIFO in place of the key must not hang the caller. */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_fails(vfy_signer_load(fifo, &s, &e), -EPERM, e);

	snprintf(sub, sizeof(sub), "%s/missing.key", dir);
	assert_fails(vfy_signer_load(sub, &s, &e), -ENOENT, e);
	assert_msg_has(&e, "missing.key");

	/* Contents are checked as vfy_signer_parse() does, with the file named. */
	write_file(path, vkey, 0600);
	assert_fails(vfy_signer_load(path, &s, &e), -EINVAL, e);
	assert_msg_has(&e, "log.key");
	assert_null(s);

	{
		char *big = calloc(1, 8192);

		memset(big, 'A', 8191);
		write_file(path, big, 0600);
		assert_fails(vfy_signer_load(path, &s, &e), -EINVAL, e);
		assert_msg_has(&e, "too large");
		free(big);
	}

	unlink(path);
	unlink(link);
	unlink(fifo);
	snprintf(sub, sizeof(sub), "%s/dir.key", dir);
	rmdir(sub);
	rmdir(dir);
	free(content);
	vfy_secret_free(skey);
	free(vkey);
}

/* ------------------------------------------------------------------------------------------ */
/* Notes */

static void test_tampered(void **state)
{
	struct vfy_signer *by[] = { k_log.s };
	struct err_detail e;
	char *note = build_note("the text\n", by, 1), *bad, *sig;

	(void)state;
	assert_ok(vfy_note_open(note, strlen(note), &k_log.v, 1, NULL, NULL, &e), e);

	bad = replace_all(note, "the text", "the test");
	assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EKEYREJECTED,
		     e);
	assert_msg_has(&e, "signature by 'example.com/log'");
	assert_msg_has(&e, "does not verify");
	assert_int_equal(e.line, 3);
	free(bad);

	/* Flip one base64 character inside the signature (not the key ID, not the padding). */
	bad = strdup(note);
	sig = strrchr(bad, ' ') + 1 + 40;
	*sig = *sig == 'A' ? 'B' : 'A';
	assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EKEYREJECTED,
		     e);
	free(bad);

	/* A signature line moved onto another text. */
	bad = replace_all(note, "the text\n", "other text\n");
	assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EKEYREJECTED,
		     e);
	free(bad);
	free(note);
}

static void test_known_bad_sig_rejects(void **state)
{
	struct vfy_verifier keys[] = { k_log.v, k_w1.v };
	struct err_detail e;
	char *note = NULL, *good, *other;

	(void)state;
	/* log signs this text; w1's line is a genuine signature, but over another text. */
	good = sig_line(k_log.s, "the text\n");
	other = sig_line(k_w1.s, "another text\n");
	append(&note, "the text\n\n");
	append(&note, good);
	append(&note, other);
	assert_fails(vfy_note_open(note, strlen(note), keys, 2, NULL, NULL, &e), -EKEYREJECTED, e);
	assert_msg_has(&e, "witness.example/one");
	assert_int_equal(e.line, 4);
	/* The same order reversed is rejected the same way. */
	free(note);
	note = NULL;
	append(&note, "the text\n\n");
	append(&note, other);
	append(&note, good);
	assert_fails(vfy_note_open(note, strlen(note), keys, 2, NULL, NULL, &e), -EKEYREJECTED, e);
	/* Not trusting w1 makes its line an unknown signature: ignored. */
	assert_ok(vfy_note_open(note, strlen(note), keys, 1, NULL, NULL, &e), e);

	free(note);
	free(good);
	free(other);
}

static void test_known_key_forged_id(void **state)
{
	struct vfy_verifier keys[] = { k_log.v };
	uint8_t raw[68];
	char b64[100], line[256], *note = NULL, *good;
	struct err_detail e;

	(void)state;
	/* A line claiming the log key's name and ID with random signature bytes must reject the
	 * note even though the genuine signature is there too. */
	good = sig_line(k_log.s, "the text\n");
	randombytes_buf(raw, sizeof(raw));
	raw[0] = (uint8_t)(k_log.v.id >> 24);
	raw[1] = (uint8_t)(k_log.v.id >> 16);
	raw[2] = (uint8_t)(k_log.v.id >> 8);
	raw[3] = (uint8_t)k_log.v.id;
	vfy_b64_encode(raw, sizeof(raw), b64, sizeof(b64));
	snprintf(line, sizeof(line), EM_DASH " example.com/log %s\n", b64);
	append(&note, "the text\n\n");
	append(&note, good);
	append(&note, line);
	assert_fails(vfy_note_open(note, strlen(note), keys, 1, NULL, NULL, &e), -EKEYREJECTED, e);

	/* A known key's line whose signature is not 64 bytes. */
	free(note);
	note = NULL;
	vfy_b64_encode(raw, 4 + 32, b64, sizeof(b64));
	snprintf(line, sizeof(line), EM_DASH " example.com/log %s\n", b64);
	append(&note, "the text\n\n");
	append(&note, good);
	append(&note, line);
	assert_fails(vfy_note_open(note, strlen(note), keys, 1, NULL, NULL, &e), -EKEYREJECTED, e);
	assert_msg_has(&e, "64");
	free(note);
	free(good);
}

static void test_unknown_sigs_ignored(void **state)
{
	struct vfy_verifier keys[] = { k_log.v, k_w1.v };
	struct vfy_signer *by[] = { k_stranger.s, k_log.s };
	struct tkey same_name;
	struct err_detail e;
	uint8_t *big;
	char *b64, *line, *note, *note2 = NULL, *imposter;
	size_t text_len;
	uint64_t mask;

	(void)state;
	note = build_note("the text\n", by, 2);
	assert_ok(vfy_note_open(note, strlen(note), keys, 2, &text_len, &mask, &e), e);
	assert_int_equal(mask, 1);
	assert_int_equal(text_len, 9);

	/* A post-quantum-sized signature by an unknown key (C2SP: "nearly 5kB"). */
	big = malloc(4600);
	b64 = malloc(vfy_b64_len(4600));
	line = malloc(vfy_b64_len(4600) + 64);
	randombytes_buf(big, 4600);
	vfy_b64_encode(big, 4600, b64, vfy_b64_len(4600));
	snprintf(line, vfy_b64_len(4600) + 64, EM_DASH " pq.example/mldsa %s\n", b64);
	append(&note2, note);
	append(&note2, line);
	assert_ok(vfy_note_open(note2, strlen(note2), keys, 2, NULL, &mask, &e), e);
	assert_int_equal(mask, 1);
	free(big);
	free(b64);
	free(line);
	free(note2);

	/* Same name as a trusted key, another key (so another key ID): ignored, not a failure. */
	tkey_make(&same_name, "witness.example/one");
	assert_true(same_name.v.id != k_w1.v.id);
	imposter = sig_line(same_name.s, "the text\n");
	note2 = NULL;
	append(&note2, note);
	append(&note2, imposter);
	assert_ok(vfy_note_open(note2, strlen(note2), keys, 2, NULL, &mask, &e), e);
	assert_int_equal(mask, 1);
	free(note2);

	/* Only that imposter: rejected, and the message says the key ID differs. */
	note2 = NULL;
	append(&note2, "the text\n\n");
	append(&note2, imposter);
	assert_fails(vfy_note_open(note2, strlen(note2), keys, 2, NULL, NULL, &e), -EKEYREJECTED,
		     e);
	assert_msg_has(&e, "no signature by a trusted key");
	assert_msg_has(&e, "witness.example/one");
	free(note2);

	/* Only strangers: rejected, naming what was expected. */
	free(note);
	note = build_note("the text\n", by, 1);
	assert_fails(vfy_note_open(note, strlen(note), keys, 2, NULL, NULL, &e), -EKEYREJECTED, e);
	assert_msg_has(&e, "no signature by a trusted key: expected 'example.com/log'");
	assert_msg_has(&e, "stranger.example");

	free(imposter);
	free(note);
	tkey_done(&same_name);
}

static void test_duplicate_signature_counts_once(void **state)
{
	struct vfy_verifier keys[] = { k_log.v, k_w1.v, k_w2.v };
	struct vfy_signer *by[] = { k_w2.s, k_log.s, k_w2.s, k_log.s };
	struct vfy_checkpoint cp;
	struct err_detail e;
	unsigned nsigs;
	uint64_t mask;
	char *note = build_note(BODY8, by, 4);

	(void)state;
	assert_ok(vfy_note_open(note, strlen(note), keys, 3, NULL, &mask, &e), e);
	assert_int_equal(mask, 1 | 4);
	assert_ok(vfy_checkpoint_open(note, strlen(note), NULL, keys, 3, &cp, &nsigs, &e), e);
	assert_int_equal(nsigs, 2);
	free(note);
}

static void test_crlf_and_control_chars(void **state)
{
	struct vfy_signer *by[] = { k_log.s };
	struct err_detail e;
	char *note = build_note("line one\nline two\n", by, 1), *bad;

	(void)state;
	bad = replace_all(note, "\n", "\r\n");
	assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EBADMSG, e);
	assert_msg_has(&e, "carriage return");
	assert_int_equal(e.line, 1);
	free(bad);

	/* CR only in the signature block. */
	bad = replace_all(note, "=\n", "=\r\n");
	assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EBADMSG, e);
	assert_int_equal(e.line, 4);
	free(bad);

	bad = replace_all(note, "two", "t\two");
	assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EBADMSG, e);
	assert_msg_has(&e, "0x09");
	assert_int_equal(e.line, 2);
	free(bad);

	bad = replace_all(note, "two", "tw\xff");
	assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EBADMSG, e);
	assert_msg_has(&e, "UTF-8");
	free(bad);

	/* A NUL inside the given length. */
	bad = strdup(note);
	bad[3] = '\0';
	assert_fails(vfy_note_open(bad, strlen(note), &k_log.v, 1, NULL, NULL, &e), -EBADMSG, e);
	free(bad);

	/* Signing refuses such text too. */
	{
		char *out = NULL;

		assert_fails(vfy_note_sign("a\r\n", 3, k_log.s, &out, &e), -EINVAL, e);
		assert_fails(vfy_note_sign("a\x01\n", 3, k_log.s, &out, &e), -EINVAL, e);
		assert_fails(vfy_note_sign("a\xc3\n", 3, k_log.s, &out, &e), -EINVAL, e);
		assert_fails(vfy_note_sign("no newline", 10, k_log.s, &out, &e), -EINVAL, e);
		assert_fails(vfy_note_sign("", 0, k_log.s, &out, &e), -EINVAL, e);
		assert_null(out);
	}
	free(note);
}

static void test_max_sigs(void **state)
{
	struct vfy_signer *by[] = { k_log.s };
	struct err_detail e;
	char *note = build_note("text\n", by, 1), *stranger = sig_line(k_stranger.s, "text\n");
	uint64_t mask;

	(void)state;
	/* Exactly VFY_NOTE_MAX_SIGS lines are accepted. */
	for (int i = 1; i < VFY_NOTE_MAX_SIGS; i++)
		append(&note, stranger);
	assert_ok(vfy_note_open(note, strlen(note), &k_log.v, 1, NULL, &mask, &e), e);
	assert_int_equal(mask, 1);
	append(&note, stranger);
	assert_fails(vfy_note_open(note, strlen(note), &k_log.v, 1, NULL, NULL, &e), -EBADMSG, e);
	assert_msg_has(&e, "more than 100 signature lines");
	free(note);
	free(stranger);
}

static void test_note_max_size(void **state)
{
	struct err_detail e;
	size_t name_len = strlen(k_log.v.name), overhead = 1 + 4 + name_len + 1 + 92 + 1;
	size_t len = VFY_NOTE_MAX - overhead;
	char *text = malloc(len + 2), *note = NULL;

	(void)state;
	/* Lines of 'x' up to the limit: signable and openable, one byte more is not. */
	memset(text, 'x', len + 1);
	for (size_t i = 99; i < len; i += 100)
		text[i] = '\n';
	text[len - 1] = '\n';
	assert_ok(vfy_note_sign(text, len, k_log.s, &note, &e), e);
	assert_int_equal(strlen(note), VFY_NOTE_MAX);
	assert_ok(vfy_note_open(note, strlen(note), &k_log.v, 1, NULL, NULL, &e), e);
	free(note);
	note = NULL;

	text[len - 1] = 'x';
	text[len] = '\n';
	assert_fails(vfy_note_sign(text, len + 1, k_log.s, &note, &e), -EINVAL, e);
	assert_null(note);

	/* Build the oversized note by hand: a second signature line pushes it over. */
	text[len] = '\0';
	text[len - 1] = '\n';
	assert_ok(vfy_note_sign(text, len, k_log.s, &note, &e), e);
	append(&note, EM_DASH " x AAAAAAAA\n");
	assert_fails(vfy_note_open(note, strlen(note), &k_log.v, 1, NULL, NULL, &e), -EBADMSG, e);
	assert_msg_has(&e, "65536");
	free(note);
	free(text);
}

/* Each of these variants of a good note is malformed; the message says what is wrong. */
static void test_note_syntax(void **state)
{
	static const struct {
		const char *from, *to, *msg;
		unsigned line;
	} cases[] = {
		{ "\n\n" EM_DASH, "\n" EM_DASH, "no blank line", 0 },
		{ EM_DASH " ", "- ", "hyphen", 3 },
		{ EM_DASH " ", EN_DASH " ", "en dash", 3 },
		{ EM_DASH " ", EM_DASH "  ", "em dash (U+2014) and one space", 3 },
		{ EM_DASH " ", EM_DASH,
		  "signature line 1 does not start with an em dash (U+2014) and "
		  "one space",
		  3 },
		{ "log ", "log  ", "more than one space", 3 },
		{ "log ", "log\xc2\xa0", "no space between", 3 },
		{ "example.com/log ", "example.com/l+g ", "plus sign", 3 },
		{ "=\n", "\n", "base64", 3 },
		{ "=\n", "=\n\n", "ends with a blank line", 4 },
		{ "=\n", "=", "does not end with a newline", 0 },
		{ "=\n", "= \n", "base64", 3 },
		{ "=\n", "=\nextra\n", "signature line 2 does not start", 4 },
	};
	struct vfy_signer *by[] = { k_log.s };
	struct err_detail e;
	char *note = build_note("text\n", by, 1);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *bad = replace_all(note, cases[i].from, cases[i].to);

		assert_string_not_equal(bad, note);
		e.code = 0;
		if (vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e) != -EBADMSG)
			fail_msg("case %zu accepted or not -EBADMSG: %s", i, e.msg);
		assert_int_equal(e.code, -EBADMSG);
		assert_msg_has(&e, cases[i].msg);
		assert_int_equal(e.line, cases[i].line);
		free(bad);
	}

	/* Padding that would close a 256-character piece of a long base64 signature must still be
	 * refused: '=' may only end the whole string. */
	{
		uint8_t raw[400];
		char b64[600], *bad = NULL;

		memset(raw, 0x42, sizeof(raw));
		vfy_b64_encode(raw, 190, b64, sizeof(b64)); /* 256 characters ending in "==" */
		assert_int_equal(strlen(b64), 256);
		vfy_b64_encode(raw, 90, b64 + 256, sizeof(b64) - 256);
		append(&bad, note);
		append(&bad, EM_DASH " pq.example/key ");
		append(&bad, b64);
		append(&bad, "\n");
		assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EBADMSG,
			     e);
		assert_msg_has(&e, "signature line 2");
		assert_msg_has(&e, "base64");
		free(bad);
	}

	/* A signature too short to hold a key ID. */
	{
		char *bad = NULL;

		append(&bad, "text\n\n" EM_DASH " example.com/log AAAA\n");
		assert_fails(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, &e), -EBADMSG,
			     e);
		assert_msg_has(&e, "3 bytes");
		free(bad);
	}
	free(note);
}

/* The text may hold blank lines: only the last one separates the signatures. */
static void test_text_with_blank_lines(void **state)
{
	static const char *const texts[] = { "a\n\nb\n", "a\n\n", "\n", "a\n\n\n\nb\n\n" };
	struct err_detail e;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct vfy_signer *by[] = { k_log.s };
		char *note = build_note(texts[i], by, 1);
		size_t text_len;

		assert_ok(vfy_note_open(note, strlen(note), &k_log.v, 1, &text_len, NULL, &e), e);
		assert_int_equal(text_len, strlen(texts[i]));
		free(note);
	}
}

static void test_nkeys_zero(void **state)
{
	struct vfy_signer *by[] = { k_log.s };
	struct err_detail e;
	char *note = build_note(BODY8, by, 1);

	(void)state;
	assert_fails(vfy_note_open(note, strlen(note), NULL, 0, NULL, NULL, &e), -EINVAL, e);
	assert_fails(vfy_checkpoint_open(note, strlen(note), NULL, NULL, 0, NULL, NULL, &e),
		     -EINVAL, e);
	free(note);
}

/* ------------------------------------------------------------------------------------------ */
/* Checkpoints */

static void test_checkpoint_extensions(void **state)
{
	struct vfy_signer *by[] = { k_log.s };
	struct vfy_checkpoint cp;
	struct err_detail e;
	char *note;

	(void)state;
	note = build_note(BODY8 "ext one\n\xe2\x80\x94 ext two\n", by, 1);
	assert_ok(vfy_checkpoint_open(note, strlen(note), NULL, &k_log.v, 1, &cp, NULL, &e), e);
	assert_string_equal(cp.origin, "example.com/log");
	assert_true(cp.size == 8);
	free(note);

	/* An empty extension line: the text ends in a blank line. */
	note = build_note(BODY8 "ext\n\n", by, 1);
	assert_ok(vfy_note_open(note, strlen(note), &k_log.v, 1, NULL, NULL, &e), e);
	assert_fails(vfy_checkpoint_open(note, strlen(note), NULL, &k_log.v, 1, &cp, NULL, &e),
		     -EBADMSG, e);
	assert_msg_has(&e, "line 5");
	assert_int_equal(e.line, 5);
	free(note);

	assert_fails(vfy_checkpoint_parse(BODY8 "\next\n", strlen(BODY8) + 5, &cp, &e), -EBADMSG,
		     e);
	assert_int_equal(e.line, 4);
}

static void test_checkpoint_size(void **state)
{
	static const struct {
		const char *size;
		int ok;
		uint64_t value;
	} cases[] = {
		{ "0", 1, 0 },
		{ "1", 1, 1 },
		{ "18446744073709551615", 1, UINT64_MAX },
		{ "18446744073709551616", 0, 0 },
		{ "99999999999999999999", 0, 0 },
		{ "007", 0, 0 },
		{ "00", 0, 0 },
		{ "01", 0, 0 },
		{ "-1", 0, 0 },
		{ "+1", 0, 0 },
		{ " 1", 0, 0 },
		{ "1 ", 0, 0 },
		{ "1a", 0, 0 },
		{ "0x10", 0, 0 },
		{ "", 0, 0 },
		{ "\xd9\xa1", 0, 0 }, /* ARABIC-INDIC DIGIT ONE */
	};
	struct vfy_checkpoint cp;
	struct err_detail e;
	char body[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		snprintf(body, sizeof(body), "example.com/log\n%s\n" ROOT8 "\n", cases[i].size);
		e.code = 0;
		r = vfy_checkpoint_parse(body, strlen(body), &cp, &e);
		if (cases[i].ok) {
			if (r != 0)
				fail_msg("size '%s': %s", cases[i].size, e.msg);
			assert_true(cp.size == cases[i].value);
		} else {
			if (r != -EBADMSG)
				fail_msg("size '%s' accepted", cases[i].size);
			assert_int_equal(e.line, 2);
			assert_msg_has(&e, "tree size");
		}
	}
	assert_fails(
	    vfy_checkpoint_parse("o\n007\n" ROOT8 "\n", strlen("o\n007\n" ROOT8 "\n"), &cp, &e),
	    -EBADMSG, e);
	assert_msg_has(&e, "leading zero");

	/* Through a signed note too. */
	{
		struct vfy_signer *by[] = { k_log.s };
		char *note = build_note("example.com/log\n08\n" ROOT8 "\n", by, 1);

		assert_fails(
		    vfy_checkpoint_open(note, strlen(note), NULL, &k_log.v, 1, &cp, NULL, &e),
		    -EBADMSG, e);
		assert_msg_has(&e, "leading zero");
		free(note);
	}
}

static void test_checkpoint_root(void **state)
{
	struct vfy_checkpoint cp;
	struct err_detail e;
	uint8_t raw[33];
	char b64[64], body[256];

	(void)state;
	memset(raw, 0x5a, sizeof(raw));
	vfy_b64_encode(raw, 31, b64, sizeof(b64));
	snprintf(body, sizeof(body), "o\n1\n%s\n", b64);
	assert_fails(vfy_checkpoint_parse(body, strlen(body), &cp, &e), -EBADMSG, e);
	assert_msg_has(&e, "31 bytes");
	assert_int_equal(e.line, 3);

	vfy_b64_encode(raw, 33, b64, sizeof(b64));
	snprintf(body, sizeof(body), "o\n1\n%s\n", b64);
	assert_fails(vfy_checkpoint_parse(body, strlen(body), &cp, &e), -EBADMSG, e);
	assert_msg_has(&e, "33 bytes");

	vfy_b64_encode(raw, 32, b64, sizeof(b64));
	snprintf(body, sizeof(body), "o\n1\n%s\n", b64);
	assert_ok(vfy_checkpoint_parse(body, strlen(body), &cp, &e), e);
	assert_memory_equal(cp.root, raw, 32);

	/* Unpadded, non-zero padding bits, URL-safe alphabet, empty. */
	snprintf(body, sizeof(body), "o\n1\n%.43s\n", b64);
	assert_fails(vfy_checkpoint_parse(body, strlen(body), &cp, &e), -EBADMSG, e);
	assert_msg_has(&e, "base64");
	assert_fails(vfy_checkpoint_parse("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n",
					  49, &cp, &e),
		     -EBADMSG, e);
	assert_fails(vfy_checkpoint_parse("o\n1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=\n",
					  49, &cp, &e),
		     -EBADMSG, e);
	assert_fails(vfy_checkpoint_parse("o\n1\n\n", 5, &cp, &e), -EBADMSG, e);
	assert_msg_has(&e, "root hash");

	/* Too few lines, empty origin, no final newline. */
	assert_fails(vfy_checkpoint_parse("o\n1\n", 4, &cp, &e), -EBADMSG, e);
	assert_msg_has(&e, "2 lines");
	assert_fails(vfy_checkpoint_parse("\n1\n" ROOT8 "\n", strlen("\n1\n" ROOT8 "\n"), &cp, &e),
		     -EBADMSG, e);
	assert_msg_has(&e, "origin");
	assert_int_equal(e.line, 1);
	assert_fails(vfy_checkpoint_parse("o\n1\n" ROOT8, strlen("o\n1\n" ROOT8), &cp, &e),
		     -EBADMSG, e);
}

static void test_checkpoint_format(void **state)
{
	struct vfy_checkpoint cp;
	struct err_detail e;
	uint8_t root[VFY_HASH_LEN];
	char *body = NULL, *note;
	char long_origin[VFY_NAME_MAX + 2];

	(void)state;
	assert_int_equal(vfy_b64_decode(ROOT8, strlen(ROOT8), root, sizeof(root)), VFY_HASH_LEN);
	assert_ok(vfy_checkpoint_format("example.com/log", 8, root, &body, &e), e);
	assert_string_equal(body, BODY8);
	assert_ok(vfy_note_sign(body, strlen(body), k_log.s, &note, &e), e);
	assert_ok(
	    vfy_checkpoint_open(note, strlen(note), "example.com/log", &k_log.v, 1, &cp, NULL, &e),
	    e);
	assert_true(cp.size == 8);
	assert_memory_equal(cp.root, root, VFY_HASH_LEN);
	free(note);
	free(body);

	assert_ok(vfy_checkpoint_format("o", UINT64_MAX, root, &body, &e), e);
	assert_ok(vfy_checkpoint_parse(body, strlen(body), &cp, &e), e);
	assert_true(cp.size == UINT64_MAX);
	free(body);
	body = NULL;

	assert_fails(vfy_checkpoint_format("", 1, root, &body, &e), -EINVAL, e);
	assert_fails(vfy_checkpoint_format("a\nb", 1, root, &body, &e), -EINVAL, e);
	assert_msg_has(&e, "newline");
	assert_fails(vfy_checkpoint_format("a\rb", 1, root, &body, &e), -EINVAL, e);
	assert_fails(vfy_checkpoint_format("a\xff", 1, root, &body, &e), -EINVAL, e);
	memset(long_origin, 'o', sizeof(long_origin) - 1);
	long_origin[sizeof(long_origin) - 1] = '\0';
	assert_fails(vfy_checkpoint_format(long_origin, 1, root, &body, &e), -EINVAL, e);
	assert_null(body);
	/* Spaces are fine in an origin (unlike in a key name). */
	assert_ok(vfy_checkpoint_format("go.sum database tree", 1, root, &body, &e), e);
	free(body);
}

static void test_checkpoint_open_rules(void **state)
{
	struct vfy_verifier keys[] = { k_log.v, k_w1.v };
	struct vfy_signer *witness_only[] = { k_w1.s }, *both[] = { k_w1.s, k_log.s };
	struct vfy_checkpoint cp;
	struct err_detail e;
	unsigned nsigs;
	char *note;

	(void)state;
	/* A witness alone does not make a checkpoint: the log must sign it. */
	note = build_note(BODY8, witness_only, 1);
	assert_ok(vfy_note_open(note, strlen(note), keys, 2, NULL, NULL, &e), e);
	assert_fails(vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, &cp, NULL, &e),
		     -EKEYREJECTED, e);
	assert_msg_has(&e, "log key 'example.com/log'");
	free(note);

	note = build_note(BODY8, both, 2);
	/* origin NULL: the log key's name is the expected origin. */
	assert_ok(vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, &cp, &nsigs, &e), e);
	assert_int_equal(nsigs, 2);
	assert_ok(
	    vfy_checkpoint_open(note, strlen(note), "example.com/log", keys, 2, NULL, NULL, &e), e);
	assert_fails(
	    vfy_checkpoint_open(note, strlen(note), "example.com/other", keys, 2, &cp, NULL, &e),
	    -ESTALE, e);
	assert_msg_has(&e, "'example.com/log'");
	assert_msg_has(&e, "'example.com/other'");
	/* Origins compare exactly. */
	assert_fails(
	    vfy_checkpoint_open(note, strlen(note), "example.com/lo", keys, 2, &cp, NULL, &e),
	    -ESTALE, e);
	assert_fails(
	    vfy_checkpoint_open(note, strlen(note), "Example.com/log", keys, 2, &cp, NULL, &e),
	    -ESTALE, e);

	/* With the keys swapped, w1 is "the log": its origin is not the checkpoint's. */
	{
		struct vfy_verifier swapped[] = { k_w1.v, k_log.v };

		assert_fails(
		    vfy_checkpoint_open(note, strlen(note), NULL, swapped, 2, &cp, NULL, &e),
		    -ESTALE, e);
	}
	free(note);
}

/* reterr is written only on failure; ret_* only on success. */
static void test_outputs_only_as_documented(void **state)
{
	struct vfy_signer *by[] = { k_log.s };
	struct vfy_checkpoint cp;
	struct err_detail e;
	size_t text_len = 777;
	uint64_t mask = 777;
	unsigned nsigs = 777;
	char *note = build_note(BODY8, by, 1), *bad;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.code = 12345;
	strcpy(e.msg, "untouched");
	assert_int_equal(vfy_note_open(note, strlen(note), &k_log.v, 1, &text_len, &mask, &e), 0);
	assert_int_equal(
	    vfy_checkpoint_open(note, strlen(note), NULL, &k_log.v, 1, &cp, &nsigs, &e), 0);
	assert_int_equal(e.code, 12345);
	assert_string_equal(e.msg, "untouched");

	bad = replace_all(note, "\n8\n", "\n9\n");
	text_len = 777, mask = 777, nsigs = 777;
	memset(&cp, 0x77, sizeof(cp));
	assert_int_equal(vfy_note_open(bad, strlen(bad), &k_log.v, 1, &text_len, &mask, &e),
			 -EKEYREJECTED);
	assert_int_equal(vfy_checkpoint_open(bad, strlen(bad), NULL, &k_log.v, 1, &cp, &nsigs, &e),
			 -EKEYREJECTED);
	assert_int_equal(text_len, 777);
	assert_int_equal(mask, 777);
	assert_int_equal(nsigs, 777);
	assert_int_equal(((unsigned char *)&cp)[0], 0x77);

	/* A NULL reterr is fine. */
	assert_int_equal(vfy_note_open(bad, strlen(bad), &k_log.v, 1, NULL, NULL, NULL),
			 -EKEYREJECTED);
	free(bad);
	free(note);
}

static void test_free_null(void **state)
{
	(void)state;
	assert_null(vfy_signer_free(NULL));
	vfy_secret_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_notes_vectors),
		cmocka_unit_test(test_peterneumann_sign),
		cmocka_unit_test(test_note_scenarios),
		cmocka_unit_test(test_keygen_round_trip),
		cmocka_unit_test(test_key_id_mismatch),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_verifier_parse_errors),
		cmocka_unit_test(test_signer_parse_errors),
		cmocka_unit_test(test_signer_load),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_known_bad_sig_rejects),
		cmocka_unit_test(test_known_key_forged_id),
		cmocka_unit_test(test_unknown_sigs_ignored),
		cmocka_unit_test(test_duplicate_signature_counts_once),
		cmocka_unit_test(test_crlf_and_control_chars),
		cmocka_unit_test(test_max_sigs),
		cmocka_unit_test(test_note_max_size),
		cmocka_unit_test(test_note_syntax),
		cmocka_unit_test(test_text_with_blank_lines),
		cmocka_unit_test(test_nkeys_zero),
		cmocka_unit_test(test_checkpoint_extensions),
		cmocka_unit_test(test_checkpoint_size),
		cmocka_unit_test(test_checkpoint_root),
		cmocka_unit_test(test_checkpoint_format),
		cmocka_unit_test(test_checkpoint_open_rules),
		cmocka_unit_test(test_outputs_only_as_documented),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

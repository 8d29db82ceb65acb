/* test_cosig.c: cosignature/v1 (C2SP tlog-cosignature) in verify/note.c.
 *
 * The known answer comes from Go: tests/integration/go's `interop cosig-vector`, a cosignature
 * signer and verifier written from the specification on x/mod's note package, cosigned a
 * checkpoint with a fixed seed and time; Ed25519 is deterministic, so ours must be the same
 * bytes, and must verify.  The other tests check the signature by hand with libsodium (the
 * message built here from the specification's text, not by note.c), then that every mutated
 * byte, another key ID, another algorithm byte and a time beyond 2^63-1 are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/err.h"
#include "verify/hash.h"
#include "verify/note.h"

#define EM_DASH "\xe2\x80\x94"
#define BODY8 "example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"

/* From `interop cosig-vector` (witness seed 32 × 0x5a, log seed 32 × 0xa5, time 1679315147). */
static const char kat_wskey[] =
    "PRIVATE+KEY+witness.example/w1+7e9477f3+BFpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpa";
static const char kat_wvkey[] =
    "witness.example/w1+7e9477f3+BA11UHVOCACl0jfu9YJgNXZrmz5aFYaKlAqyiZWHiOOw";
static const char kat_lskey[] =
    "PRIVATE+KEY+example.com/log+55f7551c+AaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWl";
static const char kat_log_line[] =
    EM_DASH " example.com/log "
	    "VfdVHAlDrOAu7r37+T/oYgUZkzVc03/x1EJiSPGD476xVB+5AvlfqhEK3sczJK/5q8kklsp+DiQHSWDH/"
	    "9qQZfsaAg4=\n";
static const char kat_cosig_line[] =
    EM_DASH " witness.example/w1 "
	    "fpR38wAAAABkGFDLb3Jd2zv+45iUzJZiLBUssYooitxDaupVI5bnsGNIc7tO0lbOTYFLNWE/659yd4wlaz2G+"
	    "i2IqZbqjedcn1DsAw==\n";
#define KAT_TIME UINT64_C(1679315147)

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

struct key {
	struct vfy_signer *s;
	struct vfy_verifier v;
};

static void key_from_signer(struct key *k, const char *skey)
{
	struct err_detail e;
	char *vkey;

	assert_ok(vfy_signer_parse(skey, strlen(skey), &k->s, &e), e);
	vkey = vfy_signer_vkey(k->s);
	assert_non_null(vkey);
	assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &k->v, &e), e);
	free(vkey);
}

static void key_make(struct key *k, const char *name, bool cosig)
{
	struct err_detail e;
	char *skey, *vkey;

	if (cosig)
		assert_ok(vfy_cosig_keygen(name, &skey, &vkey, &e), e);
	else
		assert_ok(vfy_keygen(name, &skey, &vkey, &e), e);
	assert_ok(vfy_signer_parse(skey, strlen(skey), &k->s, &e), e);
	assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &k->v, &e), e);
	vfy_secret_free(skey);
	free(vkey);
}

static void key_done(struct key *k)
{
	k->s = vfy_signer_free(k->s);
}

static char *concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	assert_non_null(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* The log's signed checkpoint of @body (malloc()'d). */
static char *log_sign(struct key *lg, const char *body)
{
	struct err_detail e;
	char *note;

	assert_ok(vfy_note_sign(body, strlen(body), lg->s, &note, &e), e);
	return note;
}

static void test_known_answer(void **state)
{
	struct key w, lg;
	struct err_detail e;
	struct vfy_verifier keys[2];
	struct vfy_checkpoint cp;
	char *line, *note, *vkey;
	unsigned nsigs = 0;
	uint64_t mask = 0, t = 0;

	(void)state;
	key_from_signer(&w, kat_wskey);
	key_from_signer(&lg, kat_lskey);
	vkey = vfy_signer_vkey(w.s);
	assert_string_equal(vkey, kat_wvkey);
	free(vkey);
	assert_int_equal(w.v.alg, VFY_ALG_COSIG);
	assert_int_equal(lg.v.alg, VFY_ALG_ED25519);
	assert_int_equal(vfy_signer_alg(w.s), VFY_ALG_COSIG);

	/* Ours is Go's, byte for byte. */
	assert_ok(vfy_cosign(w.s, BODY8, strlen(BODY8), KAT_TIME, &line, &e), e);
	assert_string_equal(line, kat_cosig_line);
	free(line);

	/* Go's verifies here, with the log's signature beside it. */
	note = concat3(BODY8 "\n", kat_log_line, kat_cosig_line);
	keys[0] = lg.v;
	keys[1] = w.v;
	assert_ok(vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, &cp, &nsigs, &e), e);
	assert_int_equal(nsigs, 2);
	assert_int_equal(cp.size, 8);
	assert_ok(vfy_note_open(note, strlen(note), keys, 2, NULL, &mask, &e), e);
	assert_int_equal(mask, 3);
	assert_ok(vfy_cosig_time(note, strlen(note), &w.v, &t, &e), e);
	assert_int_equal(t, KAT_TIME);
	free(note);
	key_done(&w);
	key_done(&lg);
}

/* The key ID and the signature, computed here from the specification's words. */
static void test_by_hand(void **state)
{
	struct key w;
	struct err_detail e;
	uint8_t buf[300], md[32], sig[4 + 8 + 64];
	char *line, msg[512];
	size_t nlen, b64len;
	const char *b64;
	uint64_t ts = 0;
	int n;

	(void)state;
	key_make(&w, "witness.example/by-hand", true);
	nlen = strlen(w.v.name);
	memcpy(buf, w.v.name, nlen);
	buf[nlen] = '\n';
	buf[nlen + 1] = 0x04;
	memcpy(buf + nlen + 2, w.v.pub, 32);
	crypto_hash_sha256(md, buf, nlen + 2 + 32);
	assert_int_equal(w.v.id, (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
				     (uint32_t)md[2] << 8 | md[3]);

	assert_ok(vfy_cosign(w.s, BODY8, strlen(BODY8), 1700000000, &line, &e), e);
	assert_memory_equal(line, EM_DASH " witness.example/by-hand ",
			    strlen(EM_DASH " witness.example/by-hand "));
	b64 = line + strlen(EM_DASH " witness.example/by-hand ");
	b64len = strlen(b64) - 1;
	assert_int_equal(b64[b64len], '\n');
	n = vfy_b64_decode(b64, b64len, sig, sizeof(sig));
	assert_int_equal(n, (int)sizeof(sig));
	assert_memory_equal(sig, md, 4);
	for (int i = 0; i < 8; i++)
		ts = ts << 8 | sig[4 + i];
	assert_int_equal(ts, 1700000000);
	n = snprintf(msg, sizeof(msg), "cosignature/v1\ntime 1700000000\n%s", BODY8);
	assert_int_equal(crypto_sign_verify_detached(sig + 12, (const unsigned char *)msg,
						     (unsigned long long)n, w.v.pub),
			 0);
	/* Not a plain note signature of the body. */
	assert_int_not_equal(crypto_sign_verify_detached(sig + 12, (const unsigned char *)BODY8,
							 strlen(BODY8), w.v.pub),
			     0);
	free(line);
	key_done(&w);
}

/* Every byte of the cosignature, the body, a time changed: refused, never ignored. */
static void test_mutations(void **state)
{
	struct key w, lg;
	struct err_detail e;
	struct vfy_verifier keys[2];
	char *line, *sig, *note, *bad, *b64;
	size_t off, b64len;
	uint8_t raw[76];

	(void)state;
	key_make(&w, "witness.example/w", true);
	key_make(&lg, "example.com/log", false);
	keys[0] = lg.v;
	keys[1] = w.v;
	sig = log_sign(&lg, BODY8);
	assert_ok(vfy_cosign(w.s, BODY8, strlen(BODY8), 1234, &line, &e), e);
	note = concat3(sig, line, "");
	assert_ok(vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, NULL, NULL, &e), e);

	/* Each decoded byte flipped, re-encoded canonically. */
	off = strlen(sig) + strlen(EM_DASH) + strlen(" witness.example/w ");
	b64 = note + off;
	b64len = strlen(b64) - 1;
	assert_int_equal(vfy_b64_decode(b64, b64len, raw, sizeof(raw)), 76);
	for (size_t i = 0; i < sizeof(raw); i++) {
		char enc[120];

		raw[i] ^= 0x01;
		vfy_b64_encode(raw, sizeof(raw), enc, sizeof(enc));
		raw[i] ^= 0x01;
		bad = strdup(note);
		assert_non_null(bad);
		memcpy(bad + off, enc, b64len);
		if (vfy_checkpoint_open(bad, strlen(bad), NULL, keys, 2, NULL, NULL, &e) == 0) {
			/* Only a key ID change makes the line another key's, ignored... */
			assert_true(i < 4);
			assert_int_equal(
			    vfy_cosig_time(bad, strlen(bad), &w.v, &(uint64_t){ 0 }, &e), -ENOENT);
		} else {
			assert_int_equal(e.code, -EKEYREJECTED);
			assert_true(i >= 4);
		}
		free(bad);
	}
	/* ...and then the witness's count drops to the log alone. */
	{
		unsigned nsigs = 0;
		char enc[120];

		raw[0] ^= 0x80;
		vfy_b64_encode(raw, sizeof(raw), enc, sizeof(enc));
		raw[0] ^= 0x80;
		bad = strdup(note);
		memcpy(bad + off, enc, b64len);
		assert_ok(vfy_checkpoint_open(bad, strlen(bad), NULL, keys, 2, NULL, &nsigs, &e),
			  e);
		assert_int_equal(nsigs, 1);
		free(bad);
	}

	/* The body changed and the log re-signed it: the old cosignature no longer verifies. */
	{
		const char *body9 =
		    "example.com/log\n9\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
		char *sig9 = log_sign(&lg, body9);

		bad = concat3(sig9, line, "");
		assert_fails(vfy_checkpoint_open(bad, strlen(bad), NULL, keys, 2, NULL, NULL, &e),
			     -EKEYREJECTED, e);
		assert_non_null(strstr(e.msg, "cosignature"));
		free(bad);
		free(sig9);
	}
	free(note);
	free(line);
	free(sig);
	key_done(&w);
	key_done(&lg);
}

/* The same Ed25519 key as a note key (0x01): another key ID, so neither line is the other's. */
static void test_wrong_alg(void **state)
{
	struct key w, lg;
	struct err_detail e;
	struct vfy_verifier keys[2], as_note;
	uint8_t raw[33], buf[300], md[32];
	char vkey[400], b64[64], *line, *sig, *note;
	size_t nlen;
	uint32_t id;

	(void)state;
	key_make(&w, "witness.example/alg", true);
	key_make(&lg, "example.com/log", false);
	nlen = strlen(w.v.name);
	memcpy(buf, w.v.name, nlen);
	buf[nlen] = '\n';
	buf[nlen + 1] = 0x01;
	memcpy(buf + nlen + 2, w.v.pub, 32);
	crypto_hash_sha256(md, buf, nlen + 2 + 32);
	id = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	raw[0] = 0x01;
	memcpy(raw + 1, w.v.pub, 32);
	vfy_b64_encode(raw, 33, b64, sizeof(b64));
	snprintf(vkey, sizeof(vkey), "%s+%08x+%s", w.v.name, (unsigned)id, b64);
	assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &as_note, &e), e);
	assert_int_equal(as_note.alg, VFY_ALG_ED25519);
	assert_int_not_equal(as_note.id, w.v.id);

	sig = log_sign(&lg, BODY8);
	assert_ok(vfy_cosign(w.s, BODY8, strlen(BODY8), 99, &line, &e), e);
	note = concat3(sig, line, "");
	keys[0] = lg.v;
	keys[1] = as_note;
	{
		unsigned nsigs = 0;

		assert_ok(vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, NULL, &nsigs, &e),
			  e);
		assert_int_equal(nsigs, 1);
	}
	/* As the only key: nobody trusted signed. */
	assert_fails(vfy_note_open(note + strlen(sig) - strlen(sig), strlen(note), &as_note, 1,
				   NULL, NULL, &e),
		     -EKEYREJECTED, e);
	assert_fails(vfy_cosig_time(note, strlen(note), &as_note, &(uint64_t){ 0 }, &e), -EINVAL,
		     e);
	/* A witness key cannot be the log key, sign notes, nor a log key cosign. */
	keys[0] = w.v;
	assert_fails(vfy_checkpoint_open(note, strlen(note), NULL, keys, 1, NULL, NULL, &e),
		     -EINVAL, e);
	{
		char *out = NULL;

		assert_fails(vfy_note_sign(BODY8, strlen(BODY8), w.s, &out, &e), -EINVAL, e);
		assert_fails(vfy_cosign(lg.s, BODY8, strlen(BODY8), 1, &out, &e), -EINVAL, e);
		assert_fails(vfy_cosign(w.s, BODY8, strlen(BODY8), UINT64_C(1) << 63, &out, &e),
			     -EINVAL, e);
		assert_fails(vfy_cosign(w.s, "not\na checkpoint\n", 17, 1, &out, &e), -EINVAL, e);
		assert_null(out);
	}
	free(note);
	free(line);
	free(sig);
	key_done(&w);
	key_done(&lg);
}

/* A time beyond 2^63-1, properly signed with the witness's seed, is refused; the largest
 * allowed one and 0 are accepted. */
static void test_time_limit(void **state)
{
	struct key w, lg;
	struct err_detail e;
	struct vfy_verifier keys[2];
	unsigned char pk[32], sk[64];
	uint8_t seed[33], sig[76];
	char msg[512], b64[120], line[300], *logsig, *note;
	const uint64_t times[] = { 0, UINT64_C(0x7fffffffffffffff), UINT64_C(1) << 63, UINT64_MAX };

	(void)state;
	key_from_signer(&w, kat_wskey);
	key_make(&lg, "example.com/log", false);
	assert_int_equal(
	    vfy_b64_decode(kat_wskey + strlen("PRIVATE+KEY+witness.example/w1+7e9477f3+"), 44, seed,
			   sizeof(seed)),
	    33);
	crypto_sign_seed_keypair(pk, sk, seed + 1);
	assert_memory_equal(pk, w.v.pub, 32);
	logsig = log_sign(&lg, BODY8);
	keys[0] = lg.v;
	keys[1] = w.v;
	for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
		uint64_t t = 0;
		int n = snprintf(msg, sizeof(msg), "cosignature/v1\ntime %llu\n%s",
				 (unsigned long long)times[k], BODY8);

		sig[0] = 0x7e, sig[1] = 0x94, sig[2] = 0x77, sig[3] = 0xf3;
		for (int i = 0; i < 8; i++)
			sig[4 + i] = (uint8_t)(times[k] >> (56 - 8 * i));
		crypto_sign_detached(sig + 12, NULL, (const unsigned char *)msg,
				     (unsigned long long)n, sk);
		vfy_b64_encode(sig, sizeof(sig), b64, sizeof(b64));
		snprintf(line, sizeof(line), EM_DASH " witness.example/w1 %s\n", b64);
		note = concat3(logsig, line, "");
		if (times[k] <= INT64_MAX) {
			assert_ok(
			    vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, NULL, NULL, &e),
			    e);
			assert_ok(vfy_cosig_time(note, strlen(note), &w.v, &t, &e), e);
			assert_int_equal(t, times[k]);
		} else {
			assert_fails(
			    vfy_checkpoint_open(note, strlen(note), NULL, keys, 2, NULL, NULL, &e),
			    -EKEYREJECTED, e);
			assert_fails(vfy_cosig_time(note, strlen(note), &w.v, &t, &e),
				     -EKEYREJECTED, e);
		}
		free(note);
	}
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(seed, sizeof(seed));
	free(logsig);
	key_done(&w);
	key_done(&lg);
}

/* Key strings: a 0x04 signer key round-trips; 0x02 and a wrong key ID are refused. */
static void test_keys(void **state)
{
	struct err_detail e;
	struct vfy_verifier v;
	struct vfy_signer *s = NULL;
	char *skey, *vkey;

	(void)state;
	assert_ok(vfy_cosig_keygen("witness.example/k", &skey, &vkey, &e), e);
	assert_ok(vfy_signer_parse(skey, strlen(skey), &s, &e), e);
	assert_int_equal(vfy_signer_alg(s), VFY_ALG_COSIG);
	assert_ok(vfy_verifier_parse(vkey, strlen(vkey), &v, &e), e);
	assert_int_equal(v.alg, VFY_ALG_COSIG);
	/* The base64 starts with 0x04: "B". */
	assert_int_equal(vkey[strlen("witness.example/k+01234567+")], 'B');
	/* Another key ID: its first digit changed to another hex digit (a bit flip could make
	 * 'a' or 'f' a character that is no hex digit at all). */
	vkey[strlen("witness.example/k+")] = vkey[strlen("witness.example/k+")] == '0' ? '1' : '0';
	assert_fails(vfy_verifier_parse(vkey, strlen(vkey), &v, &e), -EKEYREJECTED, e);
	assert_fails(vfy_cosig_keygen("bad name", &skey, &vkey, &e), -EINVAL, e);
	s = vfy_signer_free(s);
	vfy_secret_free(skey);
	free(vkey);
	assert_fails(vfy_verifier_parse("x+01234567+AhERERERERERERERERERERERERERERERERERERERERER",
					55, &v, &e),
		     -EINVAL, e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer), cmocka_unit_test(test_by_hand),
		cmocka_unit_test(test_mutations),    cmocka_unit_test(test_wrong_alg),
		cmocka_unit_test(test_time_limit),   cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

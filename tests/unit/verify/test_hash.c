/* test_hash.c: verify/hash.c: SHA-256 known answers, RFC 6962 leaf and node hashes against the
 * Certificate Transparency reference tree, file hashing against in-memory hashing, and the
 * strict base64 that signed notes and checkpoints need. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/err.h"
#include "base/hex.h"
#include "verify/hash.h"

#define MIB (1024 * 1024)

static void assert_hex(const uint8_t *h, size_t len, const char *want)
{
	char got[2 * 64 + 1];

	assert_true(len <= 64);
	hex_encode(h, len, got);
	assert_string_equal(got, want);
}

static void test_sha256_known_answers(void **state)
{
	uint8_t h[VFY_HASH_LEN];
	char *a;

	(void)state;
	/* FIPS 180-2 examples, and one that spans many 64-byte blocks. */
	assert_int_equal(vfy_sha256("", 0, h), 0);
	assert_hex(h, VFY_HASH_LEN,
		   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(vfy_sha256("abc", 3, h), 0);
	assert_hex(h, VFY_HASH_LEN,
		   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(
	    vfy_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h), 0);
	assert_hex(h, VFY_HASH_LEN,
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	a = malloc(MIB);
	assert_non_null(a);
	memset(a, 'a', MIB);
	/* head -c 1048576 /dev/zero | tr '\0' a | sha256sum */
	assert_int_equal(vfy_sha256(a, MIB, h), 0);
	assert_hex(h, VFY_HASH_LEN,
		   "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360");
	free(a);
}

/* The reference tree (tests/data/tlog/README.md) fixes both prefixes: a leaf hash without the
 * 0x00 or a node hash without the 0x01 gives other values. */
static void test_leaf_and_node(void **state)
{
	json_error_t jerr;
	json_t *root = json_load_file(TEST_DATA "/tlog/rfc6962-reference-tree.json", 0, &jerr);
	json_t *data, *leaf_hashes, *roots;
	uint8_t leaf[8][VFY_HASH_LEN], a[VFY_HASH_LEN], b[VFY_HASH_LEN], c[VFY_HASH_LEN],
	    want[VFY_HASH_LEN];
	size_t i;

	(void)state;
	if (!root)
		fail_msg("rfc6962-reference-tree.json: %s", jerr.text);
	data = json_object_get(root, "leaf_data_hex");
	leaf_hashes = json_object_get(root, "leaf_hash_hex");
	roots = json_object_get(root, "root_hex_by_size");
	assert_int_equal(json_array_size(data), 8);
	for (i = 0; i < json_array_size(data); i++) {
		json_t *v = json_array_get(data, i);
		const char *hex = json_string_value(v);
		uint8_t buf[64];

		assert_int_equal(hex_decode(hex, buf, strlen(hex) / 2), 0);
		assert_int_equal(vfy_leaf_hash(buf, strlen(hex) / 2, leaf[i]), 0);
		assert_hex(leaf[i], VFY_HASH_LEN,
			   json_string_value(json_array_get(leaf_hashes, i)));
	}
	/* Size 2: H(1 || l0 || l1).  Size 3: H(1 || H(1 || l0 || l1) || l2).  Size 4 and 8. */
	assert_int_equal(vfy_node_hash(leaf[0], leaf[1], a), 0);
	assert_hex(a, VFY_HASH_LEN, json_string_value(json_array_get(roots, 2)));
	assert_int_equal(vfy_node_hash(a, leaf[2], c), 0);
	assert_hex(c, VFY_HASH_LEN, json_string_value(json_array_get(roots, 3)));
	assert_int_equal(vfy_node_hash(leaf[2], leaf[3], b), 0);
	assert_int_equal(vfy_node_hash(a, b, c), 0);
	assert_hex(c, VFY_HASH_LEN, json_string_value(json_array_get(roots, 4)));
	assert_int_equal(vfy_node_hash(leaf[4], leaf[5], a), 0);
	assert_int_equal(vfy_node_hash(leaf[6], leaf[7], b), 0);
	assert_int_equal(vfy_node_hash(a, b, b), 0); /* output may alias an input */
	assert_int_equal(vfy_node_hash(c, b, a), 0);
	assert_int_equal(
	    hex_decode(json_string_value(json_array_get(roots, 8)), want, VFY_HASH_LEN), 0);
	assert_memory_equal(a, want, VFY_HASH_LEN);
	json_decref(root);
}

/* Hash a temp file of @size pseudo-random bytes both ways. */
static void check_fd(size_t size)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	uint8_t want[VFY_HASH_LEN], got[VFY_HASH_LEN];
	struct err_detail e = { 0 };
	uint64_t got_size = 12345;
	uint8_t *buf = malloc(size ? size : 1);
	uint32_t x = 2463534242u;
	int fd;

	assert_non_null(buf);
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	snprintf(path, sizeof(path), "%s/custody-test-hash-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	/* vfy_sha256_fd() reads from offset 0 with pread(), wherever the file offset is. */
	assert_int_equal(vfy_sha256(buf, size, want), 0);
	assert_int_equal(vfy_sha256_fd(fd, got, &got_size, &e), 0);
	assert_memory_equal(got, want, VFY_HASH_LEN);
	assert_int_equal(got_size, size);
	/* The fd stays open and owned by us. */
	assert_true(fcntl(fd, F_GETFD) >= 0);
	assert_int_equal(vfy_sha256_fd(fd, got, NULL, &e), 0);
	assert_memory_equal(got, want, VFY_HASH_LEN);
	assert_int_equal(close(fd), 0);
	free(buf);
}

static void test_sha256_fd(void **state)
{
	struct err_detail e = { 0 };
	uint8_t h[VFY_HASH_LEN];
	int pipefd[2];

	(void)state;
	check_fd(0);
	check_fd(1);
	check_fd(MIB + 3);
	/* Read errors come back as -errno with a message. */
	assert_int_equal(vfy_sha256_fd(-1, h, NULL, &e), -EBADF);
	assert_int_equal(e.code, -EBADF);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	assert_int_equal(vfy_sha256_fd(pipefd[0], h, NULL, &e), -ESPIPE);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_b64_known(void **state)
{
	/* RFC 4648 §10. */
	static const char *const want[] = { "",		"Zg==",	    "Zm8=",    "Zm9v",
					    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	const char *text = "foobar";
	char out[16];
	uint8_t dec[16];

	(void)state;
	for (size_t n = 0; n <= 6; n++) {
		assert_int_equal(vfy_b64_len(n), strlen(want[n]) + 1);
		assert_int_equal(vfy_b64_encode((const uint8_t *)text, n, out, sizeof(out)),
				 strlen(want[n]));
		assert_string_equal(out, want[n]);
		assert_int_equal(vfy_b64_decode(want[n], strlen(want[n]), dec, sizeof(dec)),
				 (int)n);
		assert_memory_equal(dec, text, n);
	}
}

static void test_b64_round_trip(void **state)
{
	uint8_t bytes[100], dec[100];
	char out[160];
	uint32_t x = 88172645u;

	(void)state;
	for (size_t n = 0; n <= sizeof(bytes); n++) {
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			bytes[i] = (uint8_t)x;
		}
		assert_true(vfy_b64_len(n) <= sizeof(out));
		assert_int_equal(vfy_b64_encode(bytes, n, out, sizeof(out)), vfy_b64_len(n) - 1);
		assert_int_equal(strlen(out) % 4, 0);
		assert_int_equal(vfy_b64_decode(out, strlen(out), dec, sizeof(dec)), (int)n);
		assert_memory_equal(dec, bytes, n);
		/* Exactly enough room is enough; one byte less is not. */
		assert_int_equal(vfy_b64_decode(out, strlen(out), dec, n), (int)n);
		if (n > 0)
			assert_int_equal(vfy_b64_decode(out, strlen(out), dec, n - 1), -EBADMSG);
	}
}

static void assert_rejected(const char *b64)
{
	uint8_t out[64];

	if (vfy_b64_decode(b64, strlen(b64), out, sizeof(out)) != -EBADMSG)
		fail_msg("base64 '%s' was accepted", b64);
}

static void test_b64_rejects(void **state)
{
	uint8_t hash[VFY_HASH_LEN], out[64];
	char enc[64], bad[64];

	(void)state;
	/* Unpadded: libsodium alone would take these; signed notes must not. */
	assert_rejected("Zg");
	assert_rejected("Zm8");
	assert_rejected("Zm9vYg");
	assert_rejected("Zm9vYmE");
	/* Non-canonical: the bits after the last byte must be zero ("Zg==" is the 'f'). */
	assert_rejected("Zh==");
	assert_rejected("Zv==");
	assert_rejected("Zm9=");
	assert_rejected("Zm/=");
	/* The same for a 32-byte hash, which ends "X=" where X carries 2 padding bits
	 * ("mb8Q...Wl=" style): take a real one and set those bits. */
	assert_int_equal(vfy_sha256("custody", 7, hash), 0);
	assert_int_equal(vfy_b64_encode(hash, sizeof(hash), enc, sizeof(enc)), 44);
	assert_int_equal(enc[43], '=');
	assert_int_equal(vfy_b64_decode(enc, 44, out, sizeof(out)), 32);
	for (int bits = 1; bits < 4; bits++) {
		static const char alphabet[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *p = strchr(alphabet, enc[42]);

		assert_non_null(p);
		memcpy(bad, enc, sizeof(enc));
		bad[42] = alphabet[(p - alphabet) | bits];
		if (vfy_b64_decode(bad, 44, out, sizeof(out)) != -EBADMSG)
			fail_msg("non-canonical '%s' was accepted", bad);
	}
	/* Garbage, misplaced padding, whitespace, the URL-safe alphabet. */
	assert_rejected("!!!!");
	assert_rejected("Zm9v!A==");
	assert_rejected("Zm-_");
	assert_rejected("====");
	assert_rejected("Z===");
	assert_rejected("Zg=a");
	assert_rejected("Zg=");
	assert_rejected("=Zg=");
	assert_rejected("Zm9v====");
	assert_rejected("Zg==Zg==");
	assert_rejected("Zm 9v");
	assert_rejected("Zm9v\n");
	assert_rejected(" Zm9v");
	assert_rejected("Zm9vYmFy\n");
	/* An embedded NUL is not the end of the input. */
	assert_int_equal(vfy_b64_decode("Zm\0v", 4, out, sizeof(out)), -EBADMSG);
	/* Bytes >= 0x80, which libsodium 1.0.18 alone decodes as alphabet characters (found by
	 * tests/fuzz/fuzz_note.c: a checkpoint root with "\xe2\x80\x93" in place of "///"). */
	assert_rejected("Zm\xe2\x80\x93");
	for (int c = 0x80; c <= 0xff; c++) {
		char t[5] = { 'Z', 'm', '9', (char)c, 0 };

		assert_rejected(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_known_answers),
		cmocka_unit_test(test_leaf_and_node),
		cmocka_unit_test(test_sha256_fd),
		cmocka_unit_test(test_b64_known),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_b64_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

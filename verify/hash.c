/* hash.c: SHA-256 through OpenSSL libcrypto's EVP.
 *
 * OpenSSL 3 looks a digest up by name on every EVP_sha256() use; for the log's many small
 * hashes (a 300-byte entry, a 65-byte node) that lookup would cost more than the hash.  So the
 * SHA-256 implementation is fetched once per process and each thread keeps one EVP_MD_CTX,
 * re-initialised per hash.  libcrypto's error queue is per thread, so it is drained here, in
 * the thread that failed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "base/err.h"
#include "base/i18n.h"
#include "verify/hash.h"

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;

static void ctx_destroy(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void sha256_init_once(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	pthread_key_create(&ctx_key, ctx_destroy);
}

static EVP_MD_CTX *thread_ctx(void)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, sha256_init_once);
	if (!sha256_md)
		return NULL;
	ctx = pthread_getspecific(ctx_key);
	if (!ctx) {
		ctx = EVP_MD_CTX_new();
		if (ctx && pthread_setspecific(ctx_key, ctx) != 0) {
			EVP_MD_CTX_free(ctx);
			ctx = NULL;
		}
	}
	return ctx;
}

static int crypto_error(void)
{
	ERR_clear_error();
	return -EIO;
}

static int sha256_parts(const void *a, size_t alen, const void *b, size_t blen, const void *c,
			size_t clen, uint8_t out[VFY_HASH_LEN])
{
	EVP_MD_CTX *ctx = thread_ctx();

	if (!ctx)
		return -ENOMEM;
	if (!EVP_DigestInit_ex2(ctx, sha256_md, NULL) ||
	    (alen && !EVP_DigestUpdate(ctx, a, alen)) ||
	    (blen && !EVP_DigestUpdate(ctx, b, blen)) ||
	    (clen && !EVP_DigestUpdate(ctx, c, clen)) || !EVP_DigestFinal_ex(ctx, out, NULL))
		return crypto_error();
	return 0;
}

int vfy_sha256(const void *data, size_t len, uint8_t ret_digest[VFY_HASH_LEN])
{
	return sha256_parts(data, len, NULL, 0, NULL, 0, ret_digest);
}

int vfy_leaf_hash(const void *entry, size_t len, uint8_t ret_hash[VFY_HASH_LEN])
{
	static const uint8_t prefix = 0x00;

	return sha256_parts(&prefix, 1, entry, len, NULL, 0, ret_hash);
}

int vfy_node_hash(const uint8_t left[VFY_HASH_LEN], const uint8_t right[VFY_HASH_LEN],
		  uint8_t ret_hash[VFY_HASH_LEN])
{
	static const uint8_t prefix = 0x01;

	return sha256_parts(&prefix, 1, left, VFY_HASH_LEN, right, VFY_HASH_LEN, ret_hash);
}

int vfy_sha256_fd(int fd, uint8_t ret_digest[VFY_HASH_LEN], uint64_t *ret_size,
		  struct err_detail *reterr)
{
	/* 1 MiB reads: large enough that syscalls vanish next to hashing, small enough for L2. */
	enum { CHUNK = 1 << 20 };
	EVP_MD_CTX *ctx = thread_ctx();
	uint8_t *buf;
	uint64_t off = 0;
	int r = 0;

	if (!ctx)
		return err_set(reterr, -ENOMEM, _("out of memory for a SHA-256 context"));
	buf = malloc(CHUNK);
	if (!buf)
		return err_set(reterr, -ENOMEM, _("out of memory for a read buffer"));
	if (!EVP_DigestInit_ex2(ctx, sha256_md, NULL)) {
		r = err_set(reterr, crypto_error(), _("libcrypto could not start SHA-256"));
		goto out;
	}
	/* One pass from start to end: ask for the larger read-ahead (a hint; a file system that
	 * ignores it is read all the same). */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = pread(fd, buf, CHUNK, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = err_set(reterr, -errno, _("reading at offset %llu: %s"),
				    (unsigned long long)off, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			r = err_set(reterr, crypto_error(), _("libcrypto failed while hashing"));
			goto out;
		}
		off += (uint64_t)n;
	}
	if (!EVP_DigestFinal_ex(ctx, ret_digest, NULL)) {
		r = err_set(reterr, crypto_error(), _("libcrypto failed to finish SHA-256"));
		goto out;
	}
	if (ret_size)
		*ret_size = off;
out:
	free(buf);
	return r;
}

size_t vfy_b64_len(size_t len)
{
	return sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
}

size_t vfy_b64_encode(const uint8_t *bytes, size_t len, char *out, size_t outlen)
{
	sodium_bin2base64(out, outlen, bytes, len, sodium_base64_VARIANT_ORIGINAL);
	return strlen(out);
}

int vfy_b64_decode(const char *b64, size_t len, uint8_t *out, size_t outmax)
{
	size_t n;
	const char *end;

	/* libsodium rejects non-zero padding bits but accepts a missing '=': the C2SP formats
	 * require padding, so the length must be a multiple of 4. */
	if (len % 4 != 0)
		return -EBADMSG;
	/* libsodium 1.0.18 (Debian 12) reads the text as plain char, signed here, and its
	 * constant-time lookup then takes every byte >= 0x80 for an alphabet character: "–"
	 * (U+2013, e2 80 93) decodes as "///".  Found by tests/fuzz/fuzz_note.c.  Only the
	 * alphabet and the padding may reach it. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)b64[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return -EBADMSG;
	}
	if (sodium_base642bin(out, outmax, b64, len, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len)
		return -EBADMSG;
	return (int)n;
}

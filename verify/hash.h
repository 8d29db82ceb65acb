#pragma once
/* SHA-256 for the whole project, through OpenSSL libcrypto's EVP (it uses the CPU's SHA
 * instructions).  RFC 6962 leaf and node hashes are built on it. */

#include <stddef.h>
#include <stdint.h>

struct err_detail;

#define VFY_HASH_LEN 32

/** SHA-256 of @len bytes at @data into @ret_digest.  Thread-safe: each thread keeps its own
 * EVP_MD_CTX.  @return 0, or -ENOMEM / -EIO when libcrypto fails (never for valid input). */
int vfy_sha256(const void *data, size_t len, uint8_t ret_digest[VFY_HASH_LEN]);

/** RFC 6962 leaf hash: SHA-256(0x00 || @entry).  @return as vfy_sha256(). */
int vfy_leaf_hash(const void *entry, size_t len, uint8_t ret_hash[VFY_HASH_LEN]);

/** RFC 6962 node hash: SHA-256(0x01 || @left || @right).  @return as vfy_sha256(). */
int vfy_node_hash(const uint8_t left[VFY_HASH_LEN], const uint8_t right[VFY_HASH_LEN],
		  uint8_t ret_hash[VFY_HASH_LEN]);

/** Hash the whole file behind @fd from offset 0 with pread().  Blocking: worker threads or
 * offline tools only.  @fd stays owned by the caller.  Fills @ret_digest and @ret_size.
 * @return 0, -EIO (read or libcrypto failure, text in @reterr), -ENOMEM. */
int vfy_sha256_fd(int fd, uint8_t ret_digest[VFY_HASH_LEN], uint64_t *ret_size,
		  struct err_detail *reterr);

/** Standard padded base64 of @len bytes into @out, which holds @outlen bytes (at least
 * vfy_b64_len(len)).  @return the string length. */
size_t vfy_b64_encode(const uint8_t *bytes, size_t len, char *out, size_t outlen);
size_t vfy_b64_len(size_t len); /* encoded length + 1 for the NUL */

/** Decode standard padded base64 (@len chars, no whitespace) into @out (@outmax bytes).
 * Non-canonical encodings (non-zero padding bits, missing padding) are rejected.
 * @return the decoded length, or -EBADMSG. */
int vfy_b64_decode(const char *b64, size_t len, uint8_t *out, size_t outmax);

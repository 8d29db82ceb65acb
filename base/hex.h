#pragma once
/* Hexadecimal text of bytes: hashes in entries, requests and state files, key IDs, names that
 * are not UTF-8.  One spelling only, lower case, so that comparing two hex strings says the
 * same as comparing the bytes.  Pure functions, any thread. */

#include <stddef.h>

/** Write the lower-case hex of the @len bytes at @bytes to @out, which holds 2 * @len + 1
 * bytes, and end it with a NUL.  @bytes and @out stay the caller's.  Never fails. */
void hex_encode(const void *bytes, size_t len, char *out);

/** Decode the NUL-terminated @hex into the @len bytes at @ret.  Strict: @hex is exactly
 * 2 * @len characters, each of 0-9 and a-f; upper case, signs, spaces, "0x" and anything
 * shorter or longer are refused (sscanf("%2x") took some of these, and the hex we read is
 * what we wrote, always lower case).  @hex may be NULL (refused).  @ret is written only on
 * success.  @return 0 or -EINVAL. */
int hex_decode(const char *hex, void *ret, size_t len);

/** hex_decode() of the @hex_len characters at @hex, which need not end with a NUL: for hex
 * inside a longer string.  @return 0 or -EINVAL (@hex_len is not 2 * @len, or a character
 * is not one of 0-9 a-f). */
int hex_decode_mem(const char *hex, size_t hex_len, void *ret, size_t len);

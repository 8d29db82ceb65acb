#pragma once
/* Helpers shared by the files of ingest/ and nothing else: cross-file but not exported, hence
 * the double underscore. */

#include <stddef.h>

/** Copy @len bytes of @in to @out as valid UTF-8: each byte that does not start a valid,
 * shortest-form sequence (surrogates and code points above U+10FFFF are invalid too) becomes
 * U+FFFD, and a NUL ends the copy.  @out holds at least 3 * @len + 1 bytes and is
 * NUL-terminated.  @return the length written. */
size_t ing__utf8_sanitize(const char *in, size_t len, char *out);

/** The length of the valid UTF-8 sequence at @s (at most @len bytes), 0 when invalid. */
size_t ing__utf8_seq(const unsigned char *s, size_t len);

/** Read exactly @n decimal digits at @s (@avail bytes there) into *@ret.  @return 0, or -1
 * when fewer than @n bytes are left or one is not a digit.  Defined in namepattern.c. */
int ing__digits(const char *s, size_t avail, int n, int *ret);

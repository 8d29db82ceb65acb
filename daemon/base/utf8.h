#pragma once
/* Strict UTF-8 (RFC 3629, as Go's utf8.DecodeRune: no overlong forms, no surrogates, nothing
 * above U+10FFFF), and the small character classes that the config, notes and entries check.
 * Pure functions, any thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Decode one character at @s (@len bytes left).  @return its length (1 to 4) with the code
 * point in *@ret_cp, or 0 when the bytes are not valid UTF-8. */
size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *ret_cp);

/** Is @len bytes at @s valid UTF-8 throughout? */
bool utf8_valid(const char *s, size_t len);

/** C0 controls, DEL and C1 controls. */
bool utf8_is_control(uint32_t c);

/** Go's unicode.IsSpace, which golang.org/x/mod/sumdb/note forbids in key names. */
bool utf8_is_space(uint32_t c);

/** Copy untrusted bytes into @out (@outlen bytes, >= 8) for a message: control characters and
 * invalid UTF-8 become '?', so that a message never carries terminal escapes, and a long
 * string ends in "...".  @return @out. */
const char *utf8_printable(const char *s, size_t len, char *out, size_t outlen);

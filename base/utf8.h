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

/** What must not reach a reader as itself, on a page or a terminal: controls other than tab
 * and newline (C0, DEL, C1: an escape sequence has no business in a name), the bidi
 * embeddings, overrides, isolates and marks (a file name could show its extension reversed),
 * the invisible BOM, and noncharacters (XML refuses U+FFFE and U+FFFF). */
bool utf8_is_unsafe(uint32_t c);

/** @len bytes of untrusted text at @s (NULs included) for a terminal, as a malloc()'d string:
 * every control character (tab and newline too), every utf8_is_unsafe() one and every byte
 * that is not valid UTF-8 is written as a visible escape ("\x1b" for a byte below 0x80 or an
 * invalid one, "\u202e" or "\U0010fffe" for a character), so that the text can neither move
 * the cursor, change colours, end a line nor reorder what follows.  The result is valid UTF-8,
 * at most 4 × @len + 1 bytes.  @return NULL when out of memory. */
char *utf8_for_terminal(const char *s, size_t len);

/** Copy untrusted bytes into @out (@outlen bytes, >= 8) for a message: control characters and
 * invalid UTF-8 become '?', so that a message never carries terminal escapes, and a long
 * string ends in "...".  @return @out. */
const char *utf8_printable(const char *s, size_t len, char *out, size_t outlen);

/** @len bytes of a name that may not be UTF-8 (a file name is any bytes but '/' and NUL) as
 * valid UTF-8, malloc()'d: each byte that does not begin a valid character, and each NUL,
 * becomes U+FFFD.  Lossy: where it matters the caller keeps the bytes too (docs/ingest.md
 * "Names").  @return NULL when out of memory. */
char *utf8_replace_invalid(const char *s, size_t len);

/** The columns @c takes on a terminal: 2 for East Asian wide and fullwidth characters (CJK
 * ideographs, kana, Hangul, fullwidth forms), 0 for combining marks, 1 otherwise.  A fixed
 * table, not wcwidth(), so that a table lines up the same whatever the locale. */
unsigned utf8_width(uint32_t c);

/** Copy valid UTF-8 @s into @out (@outlen bytes) cut and padded with spaces to exactly @cols
 * terminal columns (utf8_width()), cutting only between characters; a wide character that
 * would straddle the edge is replaced by a space.  Invalid bytes count as one column and are
 * copied as '?'.  @outlen must be at least 4 × @cols + 1.  @return @out. */
const char *utf8_fit(const char *s, unsigned cols, char *out, size_t outlen);

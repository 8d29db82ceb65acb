#pragma once
/* Log entries: one UTF-8 JSON object in canonical form (docs/log.md): keys sorted by byte order, no
 * insignificant whitespace, integers only, strings escaped as RFC 8785 does (only '"', '\\' and
 * control characters are escaped: \b \t \n \f \r by name, the rest as \u00xx in lowercase hex).
 * Every entry has "v":1 and a non-empty string "type".  Parsing is jansson's; the canonical
 * writer is ours, because jansson escapes with uppercase hex.  Reentrant. */

#include <stddef.h>

struct err_detail;
struct json_t;

/* The largest entry, in bytes of its canonical form: a C2SP tlog-tiles entry bundle writes each
 * entry after a big-endian uint16 length, so no entry of the log may be longer (docs/log.md says
 * how each type the daemon writes stays under it). */
#define VFY_ENTRY_MAX 65535
/* The largest text vfy_entry_canonicalize() reads.  Larger than VFY_ENTRY_MAX because input may
 * be pretty-printed (indentation, spaces, \u escapes of plain characters) and shrink to a
 * canonical form that fits; the bound is there so that a client cannot make us build a tree for
 * 100 MB of text, and a text over it is refused before parsing. */
#define VFY_ENTRY_INPUT_MAX (1024 * 1024)

/** Canonicalise the JSON text @in (@len bytes, no NUL terminator needed).  Rejects, each with
 * its own message in @reterr: input over VFY_ENTRY_INPUT_MAX (checked before parsing;
 * exactly VFY_ENTRY_INPUT_MAX is allowed), a canonical form over VFY_ENTRY_MAX, invalid UTF-8, a
 * raw NUL byte, not JSON, not an object, a float (any number with a fraction or exponent), an
 * integer outside int64, a duplicate key, a key containing NUL, nesting deeper than 2048, no "v" or
 * "v" other than 1, no "type" or a "type" that is not a non-empty string, trailing data.  A NUL
 * inside a string (\u0000) is kept and written \u0000.  The canonical form is never longer than
 * @in.
 * @ret_out is malloc()'d (the caller frees it), NUL-terminated, @ret_len its length without
 * the NUL; both are written only on success.  Any thread; uses under 300 KiB of stack.
 * @return 0, -EBADMSG (rejected: the message says what and where, with line and column, also
 * in @reterr->line, for text that does not parse, or the key path such as 'streams[0].fps'),
 * -E2BIG (the input over VFY_ENTRY_INPUT_MAX, or its canonical form over VFY_ENTRY_MAX: the
 * message says which, with both sizes when known), -ENOMEM. */
int vfy_entry_canonicalize(const char *in, size_t len, char **ret_out, size_t *ret_len,
			   struct err_detail *reterr);

/** Serialise the object @obj canonically, with the same checks as vfy_entry_canonicalize()
 * (reals rejected, "v" and "type" required), plus those the parser did there: strings and
 * keys must be valid UTF-8 and keys free of NUL (the jansson _nocheck setters skip this), and
 * nesting at most 2048 deep (which also stops a tree that contains itself).  For entries
 * built in code.  @obj stays the caller's and is not modified.
 * @return 0, -EBADMSG, -E2BIG (canonical form over VFY_ENTRY_MAX), -ENOMEM, -EINVAL (@obj is
 * NULL). */
int vfy_entry_dump(const struct json_t *obj, char **ret_out, size_t *ret_len,
		   struct err_detail *reterr);

/** The bytes the string @s (@len bytes) takes in an entry's canonical form, its two quotes
 * included: what a writer adds up to know, before building an entry, that it stays under
 * VFY_ENTRY_MAX.  Pure; any thread. */
size_t vfy_entry_string_size(const char *s, size_t len);

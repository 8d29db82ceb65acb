#pragma once
/* Log entries: one UTF-8 JSON object in canonical form (SPEC §3): keys sorted by byte order, no
 * insignificant whitespace, integers only, strings escaped as RFC 8785 does (only '"', '\\' and
 * control characters are escaped: \b \t \n \f \r by name, the rest as \u00xx in lowercase hex).
 * Every entry has "v":1 and a non-empty string "type".  Parsing is jansson's; the canonical
 * writer is ours, because jansson escapes with uppercase hex.  Reentrant. */

#include <stddef.h>

struct err_detail;
struct json_t;

#define VFY_ENTRY_MAX (1024 * 1024) /* bytes, of the input and of the canonical form */

/** Canonicalise the JSON text @in (@len bytes).  Rejects, each with its own message in
 * @reterr: input over VFY_ENTRY_MAX, invalid UTF-8, not JSON, not an object, a float (any
 * number with a fraction or exponent), an integer out of range, a duplicate key, no "v" or
 * "v" other than 1, no "type" or a "type" that is not a non-empty string, trailing data.
 * @ret_out is malloc()'d, NUL-terminated, @ret_len its length.
 * @return 0, -EBADMSG (rejected; line and column in the message), -E2BIG, -ENOMEM. */
int vfy_entry_canonicalize(const char *in, size_t len, char **ret_out, size_t *ret_len,
			   struct err_detail *reterr);

/** Serialise the object @obj canonically, with the same checks as vfy_entry_canonicalize()
 * (reals rejected, "v" and "type" required).  For entries built in code. */
int vfy_entry_dump(const struct json_t *obj, char **ret_out, size_t *ret_len,
		   struct err_detail *reterr);

#pragma once
/* An entry's `name`: a file name is any bytes but '/' and NUL, while an entry is UTF-8 JSON
 * (docs/ingest.md "Names").  A name that is valid UTF-8 is recorded as it is; any other is
 * recorded twice: `name` with U+FFFD for each byte that does not start a valid character
 * (readable), and `name_hex`, its exact bytes in lowercase hex (reversible).  The pipeline
 * records names so in its entries and in the staging notes it reads back after a restart.
 * Pure functions: any thread. */

struct json_t;

/** Set "name" (and "name_hex" when @name is not valid UTF-8) in @o, a JSON object.  @name is
 * a NUL-terminated file name or relative path.  @return 0, -ENOMEM (@o may then hold "name"
 * without "name_hex"). */
int entryname_put(const char *name, struct json_t *o);

/** The name entryname_put() recorded in @o: the bytes of "name_hex" when @o has it (lowercase
 * hex only; NULL when it is odd-length, has another character or decodes to a NUL byte),
 * else a copy of "name".  malloc()'d, the caller's; NULL when @o has neither, when the hex is
 * malformed, or when out of memory. */
char *entryname_get(const struct json_t *o);

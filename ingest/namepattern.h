#pragma once
/* A zone's file-name pattern (docs/time.md): device, officer, sequence and the wall-clock
 * start read from the name a camera gave a file. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest/tz.h"

struct err_detail;

/* A zone's name_pattern, e.g. "{device}_{officer}_{start:%Y%m%d%H%M%S}_{seq}": literal text
 * and the fields {device}, {officer}, {seq} (each one or more characters, the shortest that
 * lets the rest match) and {start:FORMAT}, where FORMAT takes the strftime conversions
 * %Y (4 digits) %y (2 digits, 2000-2099) %m %d %H %M %S (2 digits) %j (3 digits, day of the
 * year) %f (6 digits, microseconds) %F (= %Y-%m-%d) %T (= %H:%M:%S) and %% and literal text.
 * "{{" and "}}" are literal braces.  The pattern is matched against the whole file name, or
 * the name without its extension. */
struct ing_name_pattern; /* opaque, immutable: share it between threads freely */

#define ING_NAME_FIELD_MAX 128 /* bytes of a matched device, officer or seq, with the NUL */

/** Compile @text.  Errors name the offending part and its 1-based column (also in
 * @reterr->line, which here counts columns): an unknown field, a field used twice, an
 * unterminated "{", a lone "}", two fields with no literal text between them (which could not
 * be told apart), an unsupported conversion in {start:…}, a start without a date (%Y or %y,
 * with %m and %d, or %j), a time without the hour.  *@ret is the caller's.
 * @return 0, -EINVAL, -ENOMEM. */
int ing_name_pattern_parse(const char *text, struct ing_name_pattern **ret,
			   struct err_detail *reterr);

/** Release @p.  NULL is fine.  @return NULL. */
struct ing_name_pattern *ing_name_pattern_free(struct ing_name_pattern *p);

/** The pattern's text as given.  Valid as long as @p. */
const char *ing_name_pattern_text(const struct ing_name_pattern *p);

struct ing_name_fields {
	char device[ING_NAME_FIELD_MAX];  /* "" when the pattern has no {device} */
	char officer[ING_NAME_FIELD_MAX]; /* "" when the pattern has no {officer} */
	char seq[ING_NAME_FIELD_MAX];	  /* "" when the pattern has no {seq} */
	bool has_start;
	struct ing_civil start; /* the wall-clock start, when has_start */
};

/** Match the file name @name (no directory) against @p.  Fields must be valid UTF-8 without
 * control characters or '/'; the start must be a real date and time.  Any thread.
 * @return 0 and *@ret filled, -ENOENT (no match). */
int ing_name_pattern_match(const struct ing_name_pattern *p, const char *name,
			   struct ing_name_fields *ret);

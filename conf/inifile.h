#pragma once
/* INI files with line numbers, on inih (docs/config.md "Syntax"): the reading that custodyd's
 * configuration (conf.c) and custody-witness's (witness/config.c) share.
 *
 * Debian builds inih without INI_HANDLER_LINENO, with multi-line values and with inline " ;"
 * comments.  So ini_read() hands inih its own line reader, which counts lines (inih calls the
 * key handler for a line before it reads the next, so the count is the handler's line), strips
 * leading white space (which turns multi-line values off: an indented "kind = upload" would
 * otherwise reach the handler as a second value of the key above), skips a UTF-8 byte order
 * mark, refuses a NUL byte and a line too long for inih's buffer (inih would split it
 * silently), and reads "[...]" lines itself, because inih calls nothing for a section without
 * keys.  The first error ends the read: the reader's, inih's syntax error (of two, the lower
 * line), or one a handler returns.
 *
 * Reentrant: the state lives on ini_read()'s stack; the handlers run on the caller's thread. */

#include <stddef.h>

struct ini_handlers {
	/* A "[...]" line at @line: @name (@len bytes, not terminated) is what stands between the
	 * brackets.  @return 0, or a negative code (the handler recorded its error). */
	int (*section)(void *ctx, const char *name, size_t len, unsigned line);
	/* "KEY = VALUE" at @line, both trimmed by inih.  @return as @section. */
	int (*key)(void *ctx, const char *key, const char *value, unsigned line);
	/* The reader's own error: @code, the @line (0: the file as a whole) and what is wrong.
	 * It is the one to report: it replaces any error recorded before (a read error, or inih's
	 * syntax error on a line above the one where a handler failed). */
	void (*fail)(void *ctx, int code, unsigned line, const char *msg);
};

/** Read the INI file @path through @h.  @return 0, what a handler returned, or the code given
 * to h->fail: -ENOENT, -EACCES… (cannot open: "cannot open the configuration: …"), -EINVAL (not
 * a regular file, a NUL byte, a line too long, text after ']', a syntax error), -EIO, -ENOMEM. */
int ini_read(const char *path, const struct ini_handlers *h, void *ctx);

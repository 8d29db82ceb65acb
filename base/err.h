#pragma once
/* The one error convention of custody: functions return 0 (or a count >= 0) on success and a
 * negative errno-style code on failure; the human detail travels beside it in a fixed-size
 * struct, so that it still works under -ENOMEM.  Only the caller that decides what to do with
 * a failure prints it (daemon/ logs it, the programs print it to stderr). */

#include <stdarg.h>

struct err_detail {
	int code;      /* the negative errno-style code that was returned */
	unsigned line; /* 1-based line of the input at fault, 0 when not about a line */
	char msg[256]; /* one human sentence: what is wrong and, where known, what to do */
};

/** Fill @e (if not NULL) with @code and a printf-style message.  Thread-safe; never allocates.
 * @return @code, so that a failure path reads `return err_set(reterr, -EINVAL, "…");`. */
int err_set(struct err_detail *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Like err_set(), and records @line (1-based) as the input line at fault. */
int err_set_line(struct err_detail *e, int code, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Prefix @e->msg with "@fmt: " (e.g. the file name) keeping the rest.  @e may be NULL. */
void err_prefix(struct err_detail *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** "EINVAL", "ENOENT"…: the symbolic name of a negative code, "E?" when unknown. Static string. */
const char *err_name(int code);

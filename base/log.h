#pragma once
/* Logging to stderr, one line per message, with the <N> syslog priority prefix that journald
 * maps to PRIORITY (sd-daemon.h SD_ERR…).  The prefix is dropped when $JOURNAL_STREAM is unset
 * (run from a terminal).  Only daemon/ and the programs' main() log; library code returns
 * -E… plus struct err_detail instead. */

#include <syslog.h>

/** Call once from main(): line-buffers stderr and decides whether to print prefixes. */
void log_init(const char *program);

/** Print one line at @prio (LOG_ERR…) tagged [@group].  Thread-safe (one fprintf per line). */
void log_msg(int prio, const char *group, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Messages below this priority are dropped (default LOG_INFO; LOG_DEBUG with $CUSTODY_DEBUG). */
void log_set_level(int prio);

#define log_alert(grp, ...) log_msg(LOG_ALERT, grp, __VA_ARGS__)
#define log_error(grp, ...) log_msg(LOG_ERR, grp, __VA_ARGS__)
#define log_warning(grp, ...) log_msg(LOG_WARNING, grp, __VA_ARGS__)
#define log_notice(grp, ...) log_msg(LOG_NOTICE, grp, __VA_ARGS__)
#define log_info(grp, ...) log_msg(LOG_INFO, grp, __VA_ARGS__)
#define log_debug(grp, ...) log_msg(LOG_DEBUG, grp, __VA_ARGS__)

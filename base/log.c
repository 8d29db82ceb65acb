/* log.c: stderr logging with journald priority prefixes.  One fprintf() per line, so lines
 * from worker threads do not interleave (stdio locks the stream per call). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"

static bool log_prefix;
static int log_level = LOG_INFO;
static const char *log_program = "custody";

void log_init(const char *program)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
	log_program = program;
	log_prefix = getenv("JOURNAL_STREAM") != NULL;
	if (getenv("CUSTODY_DEBUG"))
		log_level = LOG_DEBUG;
}

void log_set_level(int prio)
{
	log_level = prio;
}

void log_msg(int prio, const char *group, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_prefix)
		fprintf(stderr, "<%d>[%s] %s\n", prio, group, line);
	else
		fprintf(stderr, "%s: [%s] %s\n", log_program, group, line);
}

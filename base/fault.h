#pragma once
/* Fault injection for tests/fault/: FAULT_POINT("name") marks an instant where a crash must
 * lose no evidence (docs/ingest.md).  In a build with CUSTODY_FAULT_INJECTION defined (only the
 * test daemon custodyd-fault, see tests/fault/meson.build) the process kills itself with SIGKILL
 * there when $CUSTODY_FAULT names the point, at its first hit or, with $CUSTODY_FAULT_AFTER=N,
 * at its Nth.  In every other build the macro compiles to nothing, so the shipped daemon holds
 * neither the code nor the names.
 *
 * With $CUSTODY_FAULT_PAUSE=FILE the point pauses instead of killing, for races that a test
 * must make happen in one order (tests/fault/purge-race.sh): the thread that reaches it
 * creates FILE.reached and waits until FILE exists (at most 120 s), then goes on.
 *
 * The hit counter is per translation unit (a static in an inline function); each point's name
 * is used in one file only, so that is the point's own count.  Any thread. */

#ifdef CUSTODY_FAULT_INJECTION
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void fault__pause(const char *gate)
{
	char reached[4096];
	int fd;

	snprintf(reached, sizeof(reached), "%s.reached", gate);
	fd = open(reached, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	for (int i = 0; i < 120 * 50 && access(gate, F_OK) != 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
}

static inline void fault__point(const char *name)
{
	static unsigned long hits;
	const char *want = getenv("CUSTODY_FAULT");
	const char *after = getenv("CUSTODY_FAULT_AFTER");
	const char *gate = getenv("CUSTODY_FAULT_PAUSE");

	if (!want || strcmp(want, name) != 0)
		return;
	if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) < (after ? strtoul(after, NULL, 10) : 1))
		return;
	if (gate && *gate) {
		fault__pause(gate);
		return;
	}
	raise(SIGKILL);
}
#define FAULT_POINT(name) fault__point(name)
#else
#define FAULT_POINT(name)                                                                          \
	do {                                                                                       \
	} while (0)
#endif

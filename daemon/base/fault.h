#pragma once
/* Fault injection for tests/fault/: FAULT_POINT("name") marks an instant where a crash must
 * lose no evidence (SPEC §9).  In a build with CUSTODY_FAULT_INJECTION defined (only the test
 * daemon custodyd-fault, see tests/fault/meson.build) the process kills itself with SIGKILL
 * there when $CUSTODY_FAULT names the point, at its first hit or, with $CUSTODY_FAULT_AFTER=N,
 * at its Nth.  In every other build the macro compiles to nothing, so the shipped daemon holds
 * neither the code nor the names.
 *
 * The hit counter is per translation unit (a static in an inline function); each point's name
 * is used in one file only, so that is the point's own count.  Any thread. */

#ifdef CUSTODY_FAULT_INJECTION
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void fault__point(const char *name)
{
	static unsigned long hits;
	const char *want = getenv("CUSTODY_FAULT");
	const char *after = getenv("CUSTODY_FAULT_AFTER");

	if (!want || strcmp(want, name) != 0)
		return;
	if (__atomic_add_fetch(&hits, 1, __ATOMIC_SEQ_CST) < (after ? strtoul(after, NULL, 10) : 1))
		return;
	raise(SIGKILL);
}
#define FAULT_POINT(name) fault__point(name)
#else
#define FAULT_POINT(name)                                                                          \
	do {                                                                                       \
	} while (0)
#endif

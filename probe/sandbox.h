#pragma once
/* The sandbox custody-probe puts itself in before it reads a byte of the media (docs/SECURITY.md),
 * its tie to custodyd's life, and the exit codes through which the probe tells custodyd what
 * stopped it.  custodyd
 * includes this header only for those codes and limits; it never calls sandbox_enter(). */

#include <stdbool.h>
#include <sys/types.h>

struct err_detail;

/* Address space of a probe (RLIMIT_AS), libraries included.  A demuxer's own needs are its I/O
 * buffer, probing (5 MB) and the container's index (an MP4 index grows with its samples: about
 * 50 bytes each, 160 MB for twelve hours of 30 fps video with sound). */
#define SANDBOX_MEMORY_MIB 512u

/* custody-probe's exit codes besides 0 (a fingerprint, damaged files included) and 2 (usage
 * or system error). */
#define SANDBOX_EXIT_NOMEM 3 /* an allocation failed: the memory limit above */
#define SANDBOX_EXIT_SETUP                                                                         \
	4 /* the sandbox could not be set up, so the media was not read;                           \
	   * also: custodyd was gone before the probe started */

struct sandbox_limits {
	unsigned long long memory_bytes; /* RLIMIT_AS; 0 leaves it as it is */
	unsigned cpu_seconds;		 /* RLIMIT_CPU: SIGXCPU after this many CPU seconds */
	bool filter;			 /* the seccomp filter (only tests turn it off) */
};

/** Make the kernel SIGKILL the calling process when its parent exits (PR_SET_PDEATHSIG), then
 * check that the parent has not exited already: @parent is getppid() as read before this call,
 * and a different answer now means the process was orphaned before the death signal was set
 * (the signal is then never sent).  Call first thing in main(), before the sandbox; the
 * filter need not allow anything for it.  "Parent" is the thread that started the process:
 * custodyd's spawning thread waits for its probe, so it outlives it unless custodyd dies.
 * @return 0; -ESRCH (the parent is gone: exit at once, nobody will read the answer); or
 * -errno from prctl(). */
int sandbox_die_with_parent(pid_t parent, struct err_detail *reterr);

/** Confine the calling process for good, in custody-probe's descriptor layout: the media open
 * read-only on fd 0, the answer pipe on fd 1, stderr on fd 2.  Closes every other descriptor,
 * sets the rlimits of @lim (never raising one), makes the process non-dumpable, sets
 * no_new_privs and loads a seccomp filter that kills the process (SIGSYS) on any system call
 * that demuxing a descriptor and writing the answer do not need; open() and openat() fail with
 * EACCES instead.  Libraries that open files or start threads lazily must be started before
 * (custody-probe does, see warm_up() in probe.c).
 * Single-threaded processes only (the filter is not synchronised to other threads).
 * @return 0; or -ENOMEM, -EINVAL, -EPERM, -ENOSYS… with the step in @reterr, after which the
 * process may be partly confined and must not read the media. */
int sandbox_enter(const struct sandbox_limits *lim, struct err_detail *reterr);

/* probestatus.c: a probe's exit status as the reason of a `damaged` entry (probestatus.h).
 * The words matter: a reviewer reads them in the entry, and the sandbox's signals and exit
 * codes say more than "crashed" (docs/SECURITY.md "Untrusted media"). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "base/err.h"
#include "daemon/probestatus.h"
#include "probe/sandbox.h"

/* An abort() may be an allocation failure too (code that aborts on one), or FFmpeg's
 * assertions, or glibc finding the heap damaged. */
int probestatus_reason(int status, const char *cpu_seconds, struct err_detail *reterr)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;

	switch (sig) {
	case 0:
		break;
	case SIGSYS:
		return err_set(reterr, -ECHILD,
			       "the probe made a forbidden system call (sandbox) "
			       "and was killed (signal %d, %s)",
			       sig, strsignal(sig));
	case SIGXCPU:
		return err_set(reterr, -ECHILD,
			       "the probe used up its CPU limit of %s s (sandbox) "
			       "and was killed (signal %d, %s)",
			       cpu_seconds, sig, strsignal(sig));
	case SIGABRT:
		return err_set(reterr, -ECHILD,
			       "the probe aborted (signal %d, %s): a failed "
			       "assertion or heap check in the demuxer, or an allocation refused "
			       "at its memory limit of %u MiB (sandbox)",
			       sig, strsignal(sig), SANDBOX_MEMORY_MIB);
	default:
		return err_set(reterr, -ECHILD, "the probe crashed (signal %d, %s)", sig,
			       strsignal(sig));
	}
	if (!WIFEXITED(status))
		return err_set(reterr, -ECHILD, "the probe failed (exit status -1)");
	switch (WEXITSTATUS(status)) {
	case SANDBOX_EXIT_NOMEM:
		return err_set(reterr, -ECHILD,
			       "the probe ran out of memory: its memory limit of "
			       "%u MiB (sandbox)",
			       SANDBOX_MEMORY_MIB);
	case SANDBOX_EXIT_SETUP:
		return err_set(reterr, -ECHILD,
			       "the probe could not set up its sandbox and did "
			       "not read the file (the daemon's log has the probe's reason)");
	default:
		return err_set(reterr, -ECHILD, "the probe failed (exit status %d)",
			       WEXITSTATUS(status));
	}
}

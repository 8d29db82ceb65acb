/* test_probestatus.c: daemon/probestatus.c, the reason a `damaged` entry gives for a probe that
 * did not exit 0: each of the sandbox's signals and exit codes (probe/sandbox.h) in its own
 * words, any other signal or code as such.  Statuses are made with W_EXITCODE() and, to tie
 * them to what waitpid() really returns, by children that exit or kill themselves. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "daemon/probestatus.h"
#include "probe/sandbox.h"

static void assert_reason(int status, const char *cpu_seconds, const char *want)
{
	struct err_detail e = { 0 };

	assert_int_equal(probestatus_reason(status, cpu_seconds, &e), -ECHILD);
	assert_int_equal(e.code, -ECHILD);
	assert_string_equal(e.msg, want);
}

/* @sig's description, as strsignal() gives it here (its words depend on the C library). */
static const char *want_signal(const char *fmt, int sig, char *buf, size_t len)
{
	snprintf(buf, len, fmt, sig, strsignal(sig));
	return buf;
}

#define CRASHED "the probe crashed (signal %d, %s)"

static void test_signals(void **state)
{
	char want[256], fmt[256];

	(void)state;
	assert_reason(W_EXITCODE(0, SIGSYS), "30",
		      want_signal("the probe made a forbidden system call (sandbox) and was killed "
				  "(signal %d, %s)",
				  SIGSYS, want, sizeof(want)));
	assert_reason(W_EXITCODE(0, SIGXCPU), "30",
		      want_signal("the probe used up its CPU limit of 30 s (sandbox) and was "
				  "killed (signal %d, %s)",
				  SIGXCPU, want, sizeof(want)));
	snprintf(fmt, sizeof(fmt),
		 "the probe aborted (signal %%d, %%s): a failed assertion or "
		 "heap check in the demuxer, or an allocation refused at its memory limit of %u "
		 "MiB (sandbox)",
		 SANDBOX_MEMORY_MIB);
	assert_reason(W_EXITCODE(0, SIGABRT), "30", want_signal(fmt, SIGABRT, want, sizeof(want)));
	assert_reason(W_EXITCODE(0, SIGSEGV), "30",
		      want_signal(CRASHED, SIGSEGV, want, sizeof(want)));
	/* Killed for its timeout by the pipeline (SIGKILL) is a crash to this function; the
	 * pipeline says "timed out" itself before it gets here. */
	assert_reason(W_EXITCODE(0, SIGKILL), "30",
		      want_signal(CRASHED, SIGKILL, want, sizeof(want)));
	/* With a core dumped, the signal is the same. */
	assert_reason(W_EXITCODE(0, SIGBUS) | WCOREFLAG, "30",
		      want_signal(CRASHED, SIGBUS, want, sizeof(want)));
}

static void test_exit_codes(void **state)
{
	char want[256];

	(void)state;
	snprintf(want, sizeof(want),
		 "the probe ran out of memory: its memory limit of %u MiB "
		 "(sandbox)",
		 SANDBOX_MEMORY_MIB);
	assert_reason(W_EXITCODE(SANDBOX_EXIT_NOMEM, 0), "30", want);
	assert_reason(W_EXITCODE(SANDBOX_EXIT_SETUP, 0), "30",
		      "the probe could not set up its sandbox and did not read the file (the "
		      "daemon's log has the probe's reason)");
	assert_reason(W_EXITCODE(2, 0), "30", "the probe failed (exit status 2)");
	assert_reason(W_EXITCODE(255, 0), "30", "the probe failed (exit status 255)");
	/* Neither exited nor killed (stopped: waitpid() without WUNTRACED never says so). */
	assert_reason(W_STOPCODE(SIGSTOP), "30", "the probe failed (exit status -1)");
}

/* The same from real children. */
static int child_status(int exit_code, int sig)
{
	struct rlimit no_core = { 0, 0 };
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &no_core);
		if (sig) {
			signal(sig, SIG_DFL);
			raise(sig);
		}
		_exit(exit_code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_real_children(void **state)
{
	char want[256];

	(void)state;
	assert_reason(child_status(SANDBOX_EXIT_SETUP, 0), "5",
		      "the probe could not set up its sandbox and did not read the file (the "
		      "daemon's log has the probe's reason)");
	assert_reason(child_status(0, SIGXCPU), "5",
		      want_signal("the probe used up its CPU limit of 5 s (sandbox) and was killed "
				  "(signal %d, %s)",
				  SIGXCPU, want, sizeof(want)));
	assert_reason(child_status(0, SIGSYS), "5",
		      want_signal("the probe made a forbidden system call (sandbox) and was killed "
				  "(signal %d, %s)",
				  SIGSYS, want, sizeof(want)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_real_children),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

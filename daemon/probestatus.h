#pragma once
/* Why custody-probe (probe/, a child process of the pipeline) did not exit 0, in the words of
 * a `damaged` entry: its sandbox (probe/sandbox.h) turns a forbidden system call into SIGSYS,
 * its CPU limit into SIGXCPU and an allocation refused at its memory limit into
 * SANDBOX_EXIT_NOMEM.  Pure: any thread. */

struct err_detail;

/** The reason for @status (as waitpid() gave it, of a probe that did not exit 0) in @reterr;
 * @cpu_seconds is the CPU limit the probe ran under, as text ("30"), quoted when it was what
 * killed it.  @return -ECHILD, always. */
int probestatus_reason(int status, const char *cpu_seconds, struct err_detail *reterr);

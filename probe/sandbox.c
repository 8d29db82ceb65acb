/* sandbox.c: custody-probe confines itself before it reads a byte of the media (docs/SECURITY.md).
 *
 * DESIGN
 * The probe runs FFmpeg's demuxers on files nobody vouches for, and libavformat has a long CVE
 * history.  Being a child per file already makes a crash cost one file; this makes a probe that
 * a file has taken over useless too: it can read the one descriptor it was given, write its
 * answer and stderr, use a bounded amount of memory and CPU, and exit.  In this order:
 *   1. every descriptor but 0 (the media, read-only), 1 (the answer) and 2 (stderr) is closed:
 *      custodyd opens everything O_CLOEXEC, but a wrapper or a shell may leave more open;
 *   2. rlimits: address space, CPU seconds (SIGXCPU), no new descriptor, no file growth, no core
 *      file, no new process;
 *   3. not dumpable: a core file of the probe would hold evidence, and other processes of the
 *      same user could otherwise ptrace it;
 *   4. no_new_privs, then a seccomp filter built with libseccomp whose default action kills the
 *      process: a forbidden system call ends it with SIGSYS, which custodyd names in the
 *      `damaged` entry.  The allow list (rules[] below) is what `strace -f` showed the probe
 *      doing after this point on the containers of tests/fault/probe-sandbox.sh and WebM,
 *      WAV, M4A, MPEG-PS, FLV and 4K H.264/H.265, intact, cut short and with a broken header,
 *      with and without --sha256, plus what abort() and glibc's heap checks need; each with
 *      the reason it is there.
 * Opening a path fails with EACCES rather than killing: libraries open files lazily (here
 * libavformat's MPEG-TS text conversion loads glibc's gconv modules; elsewhere a locale's
 * messages, a CPU count from /sys), and a good file must not become `damaged` because one of
 * them looked; refusing the open denies the read all the same.  A hostile file that tries to
 * read another file is therefore not named in its entry; one that tries the network, a
 * process or anything else not on the list is.
 *
 * Before all of that, first thing in main(), sandbox_die_with_parent(): a probe must not
 * outlive the custodyd that started it (killed, or crashed).  An orphan would go on demuxing
 * for up to its CPU limit with nobody to read its answer, and a restarted custodyd would
 * ingest the same file beside it; with many files in flight that is many probes.  So the
 * kernel is asked to SIGKILL it when its parent goes (PR_SET_PDEATHSIG, which a process sets
 * for itself: nothing custodyd can set for it across posix_spawn()), and since the parent may
 * have gone between the spawn and that request, getppid() is compared with its value before
 * it, or with the pid custodyd passes (--parent-pid), which also covers a custodyd gone
 * before the probe's first instruction.
 *
 * Under systemd the probe inherits custodyd's SystemCallFilter=, which answers seccomp(2) with
 * EPERM.  libseccomp then loads the filter through prctl() and cannot ask the kernel whether it
 * knows SECCOMP_RET_KILL_PROCESS, so seccomp_init() refuses that action; the filter falls back
 * to SECCOMP_RET_KILL_THREAD, which for a process of one thread the kernel turns into the same
 * SIGSYS of the whole process (kernel/seccomp.c, "Dump core only if this is the last remaining
 * thread").  That is why the probe must stay single-threaded: the filter denies new threads.
 *
 * Sanitizer builds skip RLIMIT_AS and leak checking (below); a sanitizer's own report needs
 * system calls the filter kills, so there a finding shows as SIGSYS.
 *
 * Runs once, on the probe's only thread, from its main(). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "base/err.h"
#include "probe/sandbox.h"

/* AddressSanitizer reserves terabytes of shadow memory, so an address-space limit would stop a
 * sanitizer build of the probe before main(). */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

#ifdef SANDBOX_ASAN
/* LeakSanitizer checks at exit from a tracer process it clones, which the filter kills. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* ---- 1. descriptors ---- */

static int close_others(struct err_detail *reterr)
{
	struct rlimit rl;
	long max;

	if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
		return 0;
	/* Kernels before 5.9, or a parent's filter that refuses close_range: one by one, up to
	 * the descriptor limit (which bounds every descriptor number this process can hold). */
	if (errno != ENOSYS && errno != EPERM)
		return err_set(reterr, -errno, "close_range: %s", strerror(errno));
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (1u << 20))
		return err_set(reterr, -EMFILE,
			       "cannot close the inherited descriptors: no "
			       "close_range() and no usable descriptor limit");
	max = (long)rl.rlim_cur;
	for (long fd = 3; fd < max; fd++)
		(void)close((int)fd);
	return 0;
}

/* ---- 2. rlimits ---- */

/* Lower @resource to @soft/@hard, never above the hard limit the parent set: an unprivileged
 * process cannot raise it, and a lower one is what the operator wanted. */
static int limit(int resource, const char *name, rlim_t soft, rlim_t hard,
		 struct err_detail *reterr)
{
	struct rlimit cur, want = { .rlim_cur = soft, .rlim_max = hard };

	if (getrlimit(resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY) {
		if (want.rlim_max > cur.rlim_max)
			want.rlim_max = cur.rlim_max;
		if (want.rlim_cur > want.rlim_max)
			want.rlim_cur = want.rlim_max;
	}
	if (setrlimit(resource, &want) < 0)
		return err_set(reterr, -errno, "setrlimit(%s): %s", name, strerror(errno));
	return 0;
}

static bool is_regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int set_limits(const struct sandbox_limits *lim, struct err_detail *reterr)
{
	rlim_t cpu = lim->cpu_seconds ? lim->cpu_seconds : 1;
	int r;

#ifndef SANDBOX_ASAN
	if (lim->memory_bytes) {
		r = limit(RLIMIT_AS, "RLIMIT_AS", lim->memory_bytes, lim->memory_bytes, reterr);
		if (r < 0)
			return r;
	}
#endif
	/* SIGXCPU at the soft limit, SIGKILL a second later should anything catch SIGXCPU. */
	r = limit(RLIMIT_CPU, "RLIMIT_CPU", cpu, cpu + 1, reterr);
	/* Three: the descriptors the probe holds; there is no room for a fourth. */
	if (r == 0)
		r = limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", 3, 3, reterr);
	if (r == 0)
		r = limit(RLIMIT_CORE, "RLIMIT_CORE", 0, 0, reterr);
	/* No new process, nor thread, for a user other than root (root is exempt in the kernel;
	 * the filter covers it). */
	if (r == 0)
		r = limit(RLIMIT_NPROC, "RLIMIT_NPROC", 0, 0, reterr);
	/* No file may grow.  Not when the answer or stderr is itself a regular file (the probe
	 * run by hand with `> out`, or a daemon whose stderr is a log file): the limit would kill
	 * the probe at its first line there, and the filter already allows writes to these two
	 * descriptors only. */
	if (r == 0 && !is_regular(STDOUT_FILENO) && !is_regular(STDERR_FILENO))
		r = limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", 0, 0, reterr);
	return r;
}

/* ---- 4. the filter ---- */

/* One rule: @nr with up to two argument checks; @action 0 means allow. */
struct rule {
	int nr;
	uint32_t action;
	unsigned n;
	struct scmp_arg_cmp arg[2];
};

#define ALLOW(name)                                                                                \
	{                                                                                          \
		.nr = SCMP_SYS(name)                                                               \
	}
#define ALLOW_IF(name, a)                                                                          \
	{                                                                                          \
		.nr = SCMP_SYS(name), .n = 1, .arg = { a }                                         \
	}
#define FAIL(name, err)                                                                            \
	{                                                                                          \
		.nr = SCMP_SYS(name), .action = SCMP_ACT_ERRNO(err)                                \
	}
#define FAIL_IF(name, err, a)                                                                      \
	{                                                                                          \
		.nr = SCMP_SYS(name), .action = SCMP_ACT_ERRNO(err), .n = 1, .arg = { a }          \
	}
#define ARG_EQ(i, v)                                                                               \
	{                                                                                          \
		.arg = (i), .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)(v)                        \
	}
#define ARG_HAS(i, bits)                                                                           \
	{                                                                                          \
		.arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (bits), .datum_b = (bits)         \
	}
#define ARG_LACKS(i, bits)                                                                         \
	{                                                                                          \
		.arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (bits), .datum_b = 0              \
	}

static int build_filter(scmp_filter_ctx ctx, struct err_detail *reterr)
{
	/* Seen under strace after this point (sha: as custodyd runs it, with --sha256):
	 * pread64, fadvise64, newfstatat, brk, mmap, munmap, mremap, futex, write, exit_group,
	 * openat (libav: gconv modules for MPEG-TS text, /etc/localtime for strftime); without
	 * --sha256 also the refused thread's rt_sigaction, mprotect, rt_sigprocmask, clone3. */
	const struct rule rules[] = {
		/* The media: libavformat reads it through fingerprint.c's pread() callbacks; a
		 * transport stream is read once more for its sync bytes. */
		ALLOW_IF(pread64, ARG_EQ(0, STDIN_FILENO)),
		/* Readahead hint on the media (fingerprint.c). */
		ALLOW_IF(fadvise64, ARG_EQ(0, STDIN_FILENO)),
		/* The media's size and mtime, before and after the demux (fingerprint.c): glibc
		 * 2.36 makes fstat() newfstatat(fd, "", AT_EMPTY_PATH), newer ones fstat.  A
		 * path looked up by newfstatat fails like an open (see DESIGN). */
		ALLOW(fstat),
		ALLOW_IF(newfstatat, ARG_HAS(3, AT_EMPTY_PATH)),
		FAIL_IF(newfstatat, EACCES, ARG_LACKS(3, AT_EMPTY_PATH)),
		/* The answer and the one-line error. */
		ALLOW_IF(write, ARG_EQ(0, STDOUT_FILENO)),
		ALLOW_IF(write, ARG_EQ(0, STDERR_FILENO)),
		/* glibc's fatal messages (heap corruption found by malloc) before abort(). */
		ALLOW_IF(writev, ARG_EQ(0, STDERR_FILENO)),
		/* malloc: brk for the main heap, mmap/munmap for large blocks, mremap when
		 * realloc() grows one; mprotect for a thread's stack (pthread_create() sets it
		 * up before its clone is refused, below).  Never executable memory: there is no
		 * JIT to serve, and a new executable mapping is what injected code asks for. */
		ALLOW(brk),
		ALLOW_IF(mmap, ARG_LACKS(2, PROT_EXEC)),
		ALLOW(munmap),
		ALLOW(mremap),
		ALLOW_IF(mprotect, ARG_LACKS(2, PROT_EXEC)),
		/* Advice on this process's own memory: unused by glibc's malloc on one thread
		 * unless GLIBC_TUNABLES asks for huge pages, used by sanitizer runtimes. */
		ALLOW(madvise),
		/* Locks and pthread_once() (OpenSSL, libav) wait and wake on futexes. */
		ALLOW(futex),
		/* The demuxer's deadline and the recording time come from the vDSO without a
		 * system call, unless the clock source cannot be read from user space. */
		ALLOW(clock_gettime),
		/* abort(): unblocks SIGABRT, then raises it against its own thread (tgkill,
		 * below), so that a failed assertion or heap check in FFmpeg shows as SIGABRT,
		 * not as a forbidden call.  pthread_create() blocks signals around its clone. */
		ALLOW(rt_sigprocmask),
		ALLOW(getpid),
		ALLOW(gettid),
		ALLOW(exit_group),
		/* No signal handler: pthread_create()'s first call installs two and ignores
		 * the failure; abort() needs none. */
		FAIL(rt_sigaction, EPERM),
		/* Every open of a path: refused, not killed (see DESIGN). */
		FAIL(open, EACCES),
		FAIL(openat, EACCES),
		/* A new thread fails with EAGAIN: the fingerprint then hashes on its own thread
		 * (only without --sha256; demuxing starts none).  clone3() hides its flags in
		 * memory the filter cannot read, so it says ENOSYS and glibc falls back to
		 * clone(), whose flags it can: a process (no CLONE_THREAD) is killed. */
		FAIL_IF(clone, EAGAIN, ARG_HAS(0, CLONE_THREAD)),
		FAIL(clone3, ENOSYS),
	};
	int r;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *u = &rules[i];

		r = seccomp_rule_add_array(ctx, u->action ? u->action : SCMP_ACT_ALLOW, u->nr, u->n,
					   u->arg);
		if (r < 0) {
			char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, u->nr);

			err_set(reterr, r, "seccomp rule for '%s': %s", name ? name : "?",
				strerror(-r));
			free(name);
			return r;
		}
	}
	/* abort()'s signal, to this process only, and no other signal anywhere. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 2,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()),
			     SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)SIGABRT));
	if (r < 0)
		return err_set(reterr, r, "seccomp rule for 'tgkill': %s", strerror(-r));
	return 0;
}

static int load_filter(struct err_detail *reterr)
{
	uint32_t kill_action = SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx = seccomp_init(kill_action);
	int r;

	if (!ctx) {
		/* libseccomp could not ask the kernel about KILL_PROCESS (see DESIGN). */
		kill_action = SCMP_ACT_KILL_THREAD;
		ctx = seccomp_init(kill_action);
	}
	if (!ctx)
		return err_set(reterr, -ENOMEM, "seccomp_init failed");
	/* Another architecture's system call numbers (i386's int 0x80, x32) are not on the
	 * list: kill those as well. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, kill_action);
	/* A binary tree of system call numbers instead of a linear scan. */
	if (r == 0)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r == 0)
		r = build_filter(ctx, reterr);
	else
		err_set(reterr, r, "seccomp bad-architecture action: %s", strerror(-r));
	if (r == 0) {
		r = seccomp_load(ctx);
		if (r < 0)
			err_set(reterr, r, "seccomp_load: %s", strerror(-r));
	}
	seccomp_release(ctx);
	return r;
}

int sandbox_die_with_parent(pid_t parent, struct err_detail *reterr)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return err_set(reterr, -errno, "prctl(PR_SET_PDEATHSIG): %s", strerror(errno));
	if (getppid() != parent)
		return err_set(reterr, -ESRCH, "the process that started it (pid %d) has exited",
			       (int)parent);
	return 0;
}

int sandbox_enter(const struct sandbox_limits *lim, struct err_detail *reterr)
{
	int r;

	r = close_others(reterr);
	if (r < 0)
		return r;
	r = set_limits(lim, reterr);
	if (r < 0)
		return r;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return err_set(reterr, -errno, "prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	/* Also what lets an unprivileged process load a filter at all. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(reterr, -errno, "prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
	if (!lim->filter)
		return 0;
	return load_filter(reterr);
}

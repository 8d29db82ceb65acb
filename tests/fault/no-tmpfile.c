/* no-tmpfile.c: an LD_PRELOAD shim for the fault tests that makes open(…, O_TMPFILE) fail with
 * EOPNOTSUPP, as on a filesystem without O_TMPFILE (NFS, CIFS, FUSE), so that the store's
 * fallback to a named temporary file in <store>/tmp runs and a crash there can be tested.
 * Every other open goes through to libc unchanged. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* Both openat and openat64 are defined below: without this, <fcntl.h> would rename the first. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

typedef int (*openat_fn)(int, const char *, int, ...);

static int shim(const char *sym, int dirfd, const char *path, int flags, mode_t mode)
{
	openat_fn real;

	if ((flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	real = (openat_fn)dlsym(RTLD_NEXT, sym);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(dirfd, path, flags, mode);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return shim("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return shim("openat64", dirfd, path, flags, mode);
}

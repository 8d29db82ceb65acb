#pragma once
/* Scope cleanups, after Knot Resolver contrib/cleanup.h and systemd's
 * DEFINE_TRIVIAL_CLEANUP_FUNC.  Each module that holds a foreign type defines its own cleanup
 * with CLEANUP_FUNC() next to the code that wraps the library, so this header includes nothing
 * but libc. */

#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Defines `static inline void name##p(type *p)` calling @func on a non-NULL *p. */
#define CLEANUP_FUNC(type, func)                                                                   \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(const int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define auto_free _cleanup_(freep)
#define auto_close _cleanup_(closep)

/* Hand a pointer out of a scope that would otherwise free it. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

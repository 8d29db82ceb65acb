#pragma once
/* Small macros every module may use (systemd's macro.h, the kernel's container_of). */

#include <stddef.h>

/* The struct that embeds @ptr as its @member: libuv handles and requests live inside their
 * owners, and callbacks get the owner back with this. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/** Binary search: the first index @i in [0, @n) at which the expression @before (of @i, a
 * size_t the macro declares) is false, or @n when it is true throughout.  @before must be true
 * for a prefix of the indexes and false after it, as "a[i] < key" is over an array sorted by
 * key: the result is then where @key is, or where it would be inserted (C++'s lower_bound).
 * @n is evaluated once, @before about log2(@n) times.  Pure; any thread. */
#define LOWER_BOUND(n, i, before)                                                                  \
	({                                                                                         \
		size_t lb__lo = 0, lb__hi = (n);                                                   \
		while (lb__lo < lb__hi) {                                                          \
			size_t i = lb__lo + (lb__hi - lb__lo) / 2;                                 \
			if (before)                                                                \
				lb__lo = i + 1;                                                    \
			else                                                                       \
				lb__hi = i;                                                        \
		}                                                                                  \
		lb__lo;                                                                            \
	})

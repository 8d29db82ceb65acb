#pragma once
/* Small macros every module may use (systemd's macro.h, the kernel's container_of). */

#include <stddef.h>

/* The struct that embeds @ptr as its @member: libuv handles and requests live inside their
 * owners, and callbacks get the owner back with this. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

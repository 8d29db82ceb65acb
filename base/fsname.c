/* fsname.c: putting a file back without replacing what its owner put there meanwhile.
 *
 * DESIGN
 * The ingest moves files out of drop zones that uploaders keep writing to; when a moved file
 * must go back (it changed, or could not be stored), its name may hold a newer version by then.
 * Both are evidence, so the older one goes beside it under a name that says why, rather than
 * over it.  The number of tries is bounded: past it the caller keeps the file where it is. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/fsname.h"

#define PUT_BACK_TRIES 100

/* @to_name with @suffix, shortened to fit NAME_MAX, into @alt. */
static const char *beside(char alt[NAME_MAX + 1], const char *to_name, const char *suffix)
{
	int keep = (int)strnlen(to_name, NAME_MAX), slen = (int)strlen(suffix);

	if (keep > NAME_MAX - slen)
		keep = NAME_MAX - slen;
	snprintf(alt, NAME_MAX + 1, "%.*s%s", keep, to_name, suffix);
	return alt;
}

int fs_put_back(int from_dirfd, const char *from_name, int to_dirfd, const char *to_name,
		char *ret_used, size_t used_max)
{
	char alt[NAME_MAX + 1], suffix[48];
	const char *name = to_name;
	int r = -EEXIST;

	/* The numbered names first, then, past them (an owner can take them all first), one
	 * nobody can guess. */
	for (int n = 0; n <= PUT_BACK_TRIES + 1 && r == -EEXIST; n++) {
		if (n > PUT_BACK_TRIES) {
			uint64_t rnd = (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&rnd;

			if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
				rnd ^= (uint64_t)time(NULL);
			snprintf(suffix, sizeof(suffix), ".custody-returned-%016llx",
				 (unsigned long long)rnd);
			name = beside(alt, to_name, suffix);
		} else if (n > 0) {
			snprintf(suffix, sizeof(suffix), ".custody-returned-%d", n);
			name = beside(alt, to_name, suffix);
		}
		r = renameat2(from_dirfd, from_name, to_dirfd, name, RENAME_NOREPLACE) < 0 ? -errno
											   : 0;
	}
	if (r < 0)
		return r;
	if (ret_used)
		snprintf(ret_used, used_max, "%s", name);
	return fsync(to_dirfd) < 0 ? -errno : 0;
}

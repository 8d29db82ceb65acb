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
#include <unistd.h>

#include "fsname.h"

#define PUT_BACK_TRIES 100

int fs_put_back(int from_dirfd, const char *from_name, int to_dirfd, const char *to_name,
		char *ret_used, size_t used_max)
{
	char alt[NAME_MAX + 1];
	const char *name = to_name;
	int r = -EEXIST;

	for (int n = 0; n <= PUT_BACK_TRIES && r == -EEXIST; n++) {
		if (n > 0) {
			char suffix[32];
			int slen = snprintf(suffix, sizeof(suffix), ".custody-returned-%d", n);
			int keep = (int)strnlen(to_name, NAME_MAX);

			if (keep > NAME_MAX - slen)
				keep = NAME_MAX - slen;
			snprintf(alt, sizeof(alt), "%.*s%s", keep, to_name, suffix);
			name = alt;
		}
		r = renameat2(from_dirfd, from_name, to_dirfd, name, RENAME_NOREPLACE) < 0 ? -errno
											   : 0;
	}
	/* Past the numbered names (an owner can take them all first): one nobody can guess. */
	if (r == -EEXIST) {
		uint64_t rnd = 0;
		int ufd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (ufd < 0 || read(ufd, &rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
			rnd ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&rnd;
		if (ufd >= 0)
			close(ufd);
		char suffix[40];
		int slen = snprintf(suffix, sizeof(suffix), ".custody-returned-%016llx",
				    (unsigned long long)rnd);
		int keep = (int)strnlen(to_name, NAME_MAX);

		if (keep > NAME_MAX - slen)
			keep = NAME_MAX - slen;
		snprintf(alt, sizeof(alt), "%.*s%s", keep, to_name, suffix);
		name = alt;
		r = renameat2(from_dirfd, from_name, to_dirfd, name, RENAME_NOREPLACE) < 0 ? -errno
											   : 0;
	}
	if (r < 0)
		return r;
	if (ret_used)
		snprintf(ret_used, used_max, "%s", name);
	return fsync(to_dirfd) < 0 ? -errno : 0;
}

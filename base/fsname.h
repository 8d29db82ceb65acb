#pragma once
/* Moving a file back under a name in a folder that others write to, without replacing what is
 * there by now.  Any thread; blocking. */

#include <stddef.h>

/** Rename @from_dirfd/@from_name to @to_dirfd/@to_name without replacing anything
 * (RENAME_NOREPLACE).  When @to_name is taken (its owner put a new version there meanwhile),
 * the file goes beside it as "<to_name>.custody-returned-<n>" (n from 1; the name shortened to
 * fit NAME_MAX), so that neither version is lost.  The name used is copied to @ret_used
 * (@used_max bytes) when not NULL; @to_dirfd is fsynced.  @return 0 or -errno. */
int fs_put_back(int from_dirfd, const char *from_name, int to_dirfd, const char *to_name,
		char *ret_used, size_t used_max);

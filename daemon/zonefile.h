#pragma once
/* Drop-zone files reached through descriptors, never through paths (docs/SECURITY.md "Drop
 * zones").  Uploaders own what they drop and can rename, rewrite or replace a file, or swap a
 * folder for a symlink, while custody reads it: so a zone file is opened relative to a
 * descriptor of its folder, which was itself opened below the zone folder without following any
 * symlink; it is moved or removed only from that folder's descriptor, and only while its name
 * still holds the very file that was read, unchanged since.
 *
 * A struct zfile is owned by one job and used by one thread at a time (blocking calls: libuv
 * pool threads).  The zone folder itself is the operator's, from the config: it is opened by
 * its path (a symlink there is the operator's choice). */

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

struct err_detail;

struct zfile {
	int dirfd;		 /* the file's folder; -1 when closed */
	int fd;			 /* O_RDONLY on the file; -1 when closed */
	struct stat st;		 /* fstat() of fd when it was opened */
	char base[NAME_MAX + 1]; /* the file's name in its folder */
	char dir[PATH_MAX];	 /* its folder, relative to the zone ("" for the zone itself) */
};

#define ZFILE_INIT                                                                                 \
	{                                                                                          \
		.dirfd = -1, .fd = -1                                                              \
	}

/** Open @rel (a path relative to the zone folder @zone_root, no ".." and no symlink anywhere
 * below the zone folder) for reading.  -ELOOP when a component is a symlink, -EXDEV when it
 * leaves the zone, -EINVAL when it is not a regular file; the zfile is then closed. */
int zfile_open(const char *zone_root, const char *rel, struct zfile *ret,
	       struct err_detail *reterr);

/** Close both descriptors; idempotent. */
void zfile_close(struct zfile *zf);

/** Is @now the same file as @then, unchanged (device, inode, size, mtime, ctime)?  A write
 * through any descriptor, a truncation or a chmod changes ctime. */
bool zfile_same(const struct stat *then, const struct stat *now);

/** Has the open file changed since zfile_open() (its descriptor's fstat)?  0 when not,
 * -ESTALE when it changed (said in @reterr), another -errno when fstat failed. */
int zfile_check_unchanged(const struct zfile *zf, struct err_detail *reterr);

/** Remove the file from its zone after its bytes were stored and logged: only if its name
 * still holds that file, unchanged since @read (its fstat after the read).  The name is first
 * moved into "<zone>/.custody-removing-<random>/" (a folder the daemon makes for this removal
 * and only it can enter), checked there, and unlinked: nothing an uploader does between the check
 * and the unlink can change what is removed.  A file that changed or was replaced is left in (or
 * put back to) its zone, to be ingested again as what it now is: -ESTALE.  -ENOENT when the name is
 * gone. */
int zfile_remove(struct zfile *zf, const char *zone_root, const struct stat *read,
		 struct err_detail *reterr);

/** After a crash: give back to the zone folder, under their own names, the files that a
 * removal had moved into a folder of its own and not yet removed (each was stored and logged
 * already, or was put there by a rename over its name at that instant and was not): nothing is
 * lost, and a file logged before is removed again as a retake or a duplicate.  Startup only.
 * Their count to *@ret_returned.  0 or -errno (the others are still given back). */
int zfile_sweep(const char *zone_root, unsigned *ret_returned, struct err_detail *reterr);

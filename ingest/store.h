#pragma once
/* The store of originals: content-addressed, read-only, never overwritten (docs/design.md).
 *
 *   <root>/objects/ab/abcdef…   an original, named by the SHA-256 of its bytes, mode 0440
 *   <root>/staging/             files moved out of a drop zone on the same filesystem, waiting
 *                               to be stored and logged; a restart ingests whatever is here
 *   <root>/tmp/                 partial copies (O_TMPFILE where the filesystem has it, so a
 *                               crash leaves nothing behind)
 *
 * An original is durable when store_put_fd() or store_adopt() returns: its bytes and inode
 * fsynced, linked under its final name, its directory fsynced.  Blocking, synchronous: call
 * from worker threads.  A struct store is immutable after store_open() and may be shared by
 * threads. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct err_detail;

#define STORE_REL_MAX 96 /* "objects/ab/" + 64 hex digits + NUL, with room */

struct store;

/** Open (creating the folders 0750 if missing) the store at @root.  Caller owns *@ret. */
int store_open(const char *root, struct store **ret, struct err_detail *reterr);

/** NULL is fine; returns NULL. */
struct store *store_free(struct store *st);

const char *store_root(const struct store *st);

/** Copy the file behind @fd (from offset 0, read to its end) into the store, hashing it in the
 * same pass; the copy keeps the file's modification time.  Fills @ret_sha256, @ret_size and
 * @ret_rel (the path relative to the root, as the `stored` field records it).  *@ret_existed is
 * true when an original with these bytes was already stored (nothing is overwritten; the copy is
 * dropped).  @fd stays the caller's. With @expect (the fstat() of @fd before the copy) the copy is
 * kept only if the file did not change while it was read (device, inode, size, mtime, ctime, and
 * the bytes read): else -ESTALE, and nothing is linked.
 * @return 0, -ESTALE, -ENOSPC (store full: nothing was linked), -EIO, or another -errno. */
int store_put_fd(struct store *st, int fd, const struct stat *expect, uint8_t ret_sha256[32],
		 uint64_t *ret_size, char ret_rel[STORE_REL_MAX], bool *ret_existed,
		 struct err_detail *reterr);

/** Move @name in folder @dirfd (a file in a drop zone, reached through its folder's
 * descriptor) into staging with renameat2(RENAME_NOREPLACE), fsyncing both folders.  @meta
 * (@meta_len bytes: what the caller needs to ingest it after a restart, e.g. its zone and name)
 * is written durably beside it first, as "<staged>.meta".  What moved must be the file @expect
 * describes (device, inode: the caller's open descriptor): a file put under the name after the
 * caller opened it goes back (fs_put_back()) and -ESTALE is returned, with @ret_staged "" — or,
 * when it cannot go back, set to where it stays staged.  @ret_staged gets the new path
 * (@staged_max bytes).  -EXDEV when the file is on another filesystem (copy it with
 * store_put_fd() instead); nothing is left behind on other failures. */
int store_stage_at(struct store *st, int dirfd, const char *name, const struct stat *expect,
		   const char *meta, size_t meta_len, char *ret_staged, size_t staged_max,
		   struct err_detail *reterr);

/** Put the staged file @staged (not yet stored under its content name) back into folder
 * @dirfd as @name, or beside it when the name is taken (fs_put_back(); the name used to
 * @ret_used), and drop its meta. */
int store_stage_return(struct store *st, const char *staged, int dirfd, const char *name,
		       char *ret_used, size_t used_max, struct err_detail *reterr);

/** Call @cb for every staged file with its meta (NUL-terminated), in no particular order; a
 * ".meta" whose file is gone (a crash between the two writes of store_stage()) is removed.
 * Stops at the first negative return of @cb and returns it. */
int store_staging_scan(struct store *st,
		       int (*cb)(void *opaque, const char *staged, const char *meta, size_t len),
		       void *opaque, struct err_detail *reterr);

/** Store the staged file @staged, whose SHA-256 the caller computed: make it read-only, link it
 * under its content name, fsync.  The staged name stays until store_unstage() (after the entry
 * is committed).  *@ret_existed as for store_put_fd(). */
int store_adopt(struct store *st, const char *staged, const uint8_t sha256[32],
		char ret_rel[STORE_REL_MAX], bool *ret_existed, struct err_detail *reterr);

/** Remove a staged name and its meta (its original is stored and logged).  ENOENT is not an
 * error. */
int store_unstage(struct store *st, const char *staged, struct err_detail *reterr);

/** Open the original @rel (as recorded in `stored`) read-only.  -ENOENT when missing. */
int store_open_original(struct store *st, const char *rel, int *ret_fd, struct err_detail *reterr);

/** Whether the original @rel (as recorded in `stored`) is in the store: one fstatat(), no read.
 * @return 0 (a regular file is there), -ENOENT (not there), -EINVAL (@rel is not an
 * original's name), or another -errno. */
int store_has_original(struct store *st, const char *rel, struct err_detail *reterr);

/** Remove the original @rel (as recorded in `stored`) whose bytes have the SHA-256 @sha256 for
 * good: unlink it and fsync its folder.  The one deliberate deletion in the store, for a purge
 * under the retention rules (the caller has logged the purge first, and made sure that no
 * entry still in force records these bytes); nothing else removes an original.  @rel must be
 * exactly the name the store gives those bytes ("objects/ab/ab…", from @sha256), so that a
 * purge entry can only ever remove the original it names.  -ENOENT when it is already gone (a
 * purge asked again after it finished), -EINVAL when @rel is not @sha256's original name. */
int store_remove_original(struct store *st, const char *rel, const uint8_t sha256[32],
			  struct err_detail *reterr);

#pragma once
/* Whole files: reading one into memory with a size cap, and replacing one atomically.  Blocking
 * (fsync, read of a whole file): call from a worker thread, a program's main thread, or where
 * the caller has said blocking is fine.  Any thread; no state. */

#include <stddef.h>
#include <sys/types.h>

struct err_detail;

/** Read from @fd (retrying EINTR and short reads) until @size bytes are in @buf or the end of
 * the file comes first.  @fd stays the caller's; it is read from its current offset.
 * @return the number of bytes read (< @size only at the end of the file), or -errno. */
ssize_t file_read_full(int fd, void *buf, size_t size);

/** Write the @len bytes at @buf to @fd, retrying EINTR and short writes.  @fd stays the
 * caller's.  @return 0 or -errno (-EIO when write() returns 0). */
int file_write_full(int fd, const void *buf, size_t len);

/** Read @fd to its end into a malloc()'d buffer, which then holds a NUL after the data (not
 * counted in *@ret_len), so that text can be used as a string.  Whatever @fd is (a regular
 * file, a pipe) and from its current offset; a regular file's size only sizes the first
 * allocation, and a file that grew or shrank meanwhile is read as it ends.  @fd stays the
 * caller's; *@ret is the caller's to free().  @ret and @ret_len (may be NULL) are written only
 * on success.
 * @return 0, -EFBIG (more than @max bytes), -ENOMEM, or read()'s -errno; @reterr's text names
 * no file (the caller can err_prefix() one). */
int file_read_fd(int fd, size_t max, char **ret, size_t *ret_len, struct err_detail *reterr);

/** Open @name at @dirfd (AT_FDCWD, or a folder) with O_RDONLY | O_CLOEXEC | @flags (say
 * O_NONBLOCK, so that a FIFO put there cannot hang the reader, or O_NOFOLLOW) and read it
 * whole as file_read_fd() does.  Only a regular file of at most @max bytes is read.
 * @return 0; open()'s -errno (-ENOENT when there is none); -EINVAL, not a regular file;
 * -EFBIG, more than @max bytes; -ENOMEM; read()'s -errno.  @reterr names @name. */
int file_read_at(int dirfd, const char *name, int flags, size_t max, char **ret, size_t *ret_len,
		 struct err_detail *reterr);

/** Replace @path (at @dirfd: AT_FDCWD, or a folder) with the @len bytes at @buf, so that after
 * a crash it holds either the old bytes or the new ones: they go to "<path>.tmp" in the same
 * folder (created with @mode, less the umask; never through a symbolic link), which is written
 * whole, fsynced, renamed over @path, and then the folder is fsynced.  One writer per @path at
 * a time (the temp name is fixed, so a crash leaves nothing behind that the next call does not
 * replace).  @path's folder must fit PATH_MAX.
 * @return 0, or -errno with @reterr naming the step: before the rename the temp file is
 * removed and @path is as it was; after it (the folder's fsync failed) @path holds the new
 * bytes, which a crash could still undo. */
int file_write_atomic(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
		      struct err_detail *reterr);

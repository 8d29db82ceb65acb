/* file.c: a whole file into memory, and a file replaced atomically.
 *
 * DESIGN
 * Files are read to their end rather than for st_size bytes: a file can change between
 * fstat() and read(), and a pipe has no size.  The cap is checked while reading, so an
 * endless or growing input costs at most @max + 1 bytes of memory.
 *
 * The atomic write is the classic one (write a temp file beside the target, fsync it, rename
 * it over, fsync the folder): rename(2) replaces the name in one step, and the two fsyncs make
 * the new content and the new name survive a crash, in that order.  The temp name is fixed
 * ("<name>.tmp"): each caller is the only writer of its file, and a temp file a crash left
 * behind is simply replaced by the next write. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"

#define READ_FIRST 4096 /* the first allocation when the size is not known */

ssize_t file_read_full(int fd, void *buf, size_t size)
{
	size_t off = 0;

	while (off < size) {
		ssize_t n = read(fd, (char *)buf + off, size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

int file_write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		off += (size_t)n;
	}
	return 0;
}

int file_read_fd(int fd, size_t max, char **ret, size_t *ret_len, struct err_detail *reterr)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf;

	/* Room for the whole file and one byte more, which tells whether it ended there. */
	cap = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max
		  ? (size_t)st.st_size + 1
		  : (max < READ_FIRST ? max + 1 : READ_FIRST);
	buf = malloc(cap + 1);
	if (!buf)
		return err_set(reterr, -ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = file_read_full(fd, buf + len, cap - len);

		if (n < 0) {
			free(buf);
			return err_set(reterr, (int)n, "read: %s", strerror((int)-n));
		}
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return err_set(reterr, -EFBIG, "more than %zu bytes", max);
		}
		if (len < cap)
			break; /* the end of the file */
		{
			size_t grown_cap = cap > max / 2 ? max + 1 : cap * 2;
			char *grown = realloc(buf, grown_cap + 1);

			if (!grown) {
				free(buf);
				return err_set(reterr, -ENOMEM, "out of memory");
			}
			buf = grown;
			cap = grown_cap;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int file_read_at(int dirfd, const char *name, int flags, size_t max, char **ret, size_t *ret_len,
		 struct err_detail *reterr)
{
	struct stat st;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot read '%s': %s", name, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = err_set(reterr, -errno, "cannot read '%s': %s", name, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		r = err_set(reterr, -EINVAL, "'%s' is not a regular file", name);
	} else if ((size_t)st.st_size > max) {
		r = err_set(reterr, -EFBIG, "'%s' is too large (more than %zu bytes)", name, max);
	} else {
		r = file_read_fd(fd, max, ret, ret_len, reterr);
		if (r == -EFBIG)
			err_set(reterr, r, "'%s' is too large (more than %zu bytes)", name, max);
		else if (r < 0 && r != -ENOMEM)
			err_set(reterr, r, "cannot read '%s': %s", name, strerror(-r));
	}
	close(fd);
	return r;
}

int file_write_atomic(int dirfd, const char *path, const void *buf, size_t len, mode_t mode,
		      struct err_detail *reterr)
{
	const char *slash = strrchr(path, '/');
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(reterr, -ENAMETOOLONG, "'%s': the name is too long", path);
	/* The folder to fsync after the rename: "/" for "/x", "." for "x". */
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = openat(dirfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_set(reterr, -errno, "'%s': cannot create '%s': %s", path, tmp,
			       strerror(errno));
	r = file_write_full(fd, buf, len);
	if (r < 0)
		err_set(reterr, r, "'%s': write: %s", tmp, strerror(-r));
	else if (fsync(fd) < 0)
		r = err_set(reterr, -errno, "'%s': fsync: %s", tmp, strerror(errno));
	close(fd);
	if (r == 0 && renameat(dirfd, tmp, dirfd, path) < 0)
		r = err_set(reterr, -errno, "'%s': rename: %s", path, strerror(errno));
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	dfd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		r = err_set(reterr, -errno, "'%s': written, but syncing its folder failed: %s",
			    path, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return r;
}

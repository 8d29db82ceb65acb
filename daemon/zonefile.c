/* zonefile.c: drop-zone files through descriptors.
 *
 * DESIGN
 * An uploader owns what it drops and may swap any folder below a zone for a symlink at any
 * moment (docs/SECURITY.md "Drop zones").  So every folder below the zone is opened from the
 * zone folder's descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (Linux 5.6+;
 * before that, or where a seccomp filter refuses it, one component at a time with O_NOFOLLOW),
 * and the file from its folder's descriptor with O_NOFOLLOW.  Whatever happens to the names
 * later, the descriptors keep pointing at the folder and the file that were opened.
 *
 * Removal is the dangerous step: the name is checked (fstatat without following) to hold the
 * very file that was read, unchanged, but another file can be renamed over it between that
 * check and an unlinkat().  So the name is first renamed into a folder the daemon has just made
 * in the zone for this removal ("<zone>/.custody-removing-<random>", mode 0700: an uploader can
 * neither enter it nor, the zone being the daemon's and sticky, rename it, nor make it first),
 * and checked again there; only a file that is still the one read is unlinked, anything else
 * goes back, and the folder is removed.  rename(2) changes the ctime
 * of the file it moves, so the check after the move compares all but ctime; ctime was
 * compared just before.  What remains is a write through a descriptor the uploader opened
 * before, landing between those two checks with mtime set back: the removed file then differs
 * from the stored one by that write. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fault.h"
#include "base/fsname.h"
#include "base/hex.h"
#include "daemon/zonefile.h"

#define REMOVING_DIR ".custody-removing" /* "-<16 hex>": one folder per removal */

/* Open folder @rel below @rootfd, one component at a time, never following a symlink. */
static int open_beneath_walk(int rootfd, const char *rel)
{
	char comp[NAME_MAX + 1];
	int fd = dup(rootfd);

	while (fd >= 0 && *rel) {
		const char *slash = strchr(rel, '/');
		size_t len = slash ? (size_t)(slash - rel) : strlen(rel);
		int next;

		if (len == 0 || len > NAME_MAX || (len == 1 && rel[0] == '.') ||
		    (len == 2 && rel[0] == '.' && rel[1] == '.')) {
			close(fd);
			errno = EXDEV;
			return -1;
		}
		memcpy(comp, rel, len);
		comp[len] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		rel += len + (slash ? 1 : 0);
	}
	return fd;
}

static int open_dir_beneath(int rootfd, const char *rel)
{
	struct open_how how = {
		.flags = (uint64_t)(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH,
	};
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));

	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		return open_beneath_walk(rootfd, rel);
	return (int)fd;
}

void zfile_close(struct zfile *zf)
{
	if (zf->fd >= 0)
		close(zf->fd);
	if (zf->dirfd >= 0)
		close(zf->dirfd);
	zf->fd = zf->dirfd = -1;
}

int zfile_open(const char *zone_root, const char *rel, struct zfile *ret, struct err_detail *reterr)
{
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	auto_close int rootfd = -1;
	int r;

	*ret = (struct zfile)ZFILE_INIT;
	if (!*base || strlen(base) > NAME_MAX || !strcmp(base, ".") || !strcmp(base, "..") ||
	    (slash && (size_t)(slash - rel) >= sizeof(ret->dir)))
		return err_set(reterr, -EINVAL, "'%s' is not a file name in a zone", rel);
	memcpy(ret->base, base, strlen(base) + 1);
	if (slash) {
		memcpy(ret->dir, rel, (size_t)(slash - rel));
		ret->dir[slash - rel] = '\0';
	}
	rootfd = open(zone_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_set(reterr, -errno, "cannot open the zone folder '%s': %s", zone_root,
			       strerror(errno));
	if (slash) {
		ret->dirfd = open_dir_beneath(rootfd, ret->dir);
	} else {
		ret->dirfd = dup(rootfd);
	}
	if (ret->dirfd < 0) {
		r = -errno;
		zfile_close(ret);
		return err_set(reterr, r, "cannot open the folder of '%s' in '%s'%s: %s", rel,
			       zone_root,
			       r == -ELOOP || r == -ENOTDIR ? " (a symlink is never followed)" : "",
			       strerror(-r));
	}
	ret->fd = openat(ret->dirfd, ret->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (ret->fd < 0) {
		r = -errno;
		zfile_close(ret);
		return err_set(reterr, r, "cannot open '%s' in '%s'%s: %s", rel, zone_root,
			       r == -ELOOP ? " (a symlink is never followed)" : "", strerror(-r));
	}
	if (fstat(ret->fd, &ret->st) < 0 || !S_ISREG(ret->st.st_mode)) {
		zfile_close(ret);
		return err_set(reterr, -EINVAL, "'%s' in '%s' is not a regular file", rel,
			       zone_root);
	}
	FAULT_POINT("zone-opened");
	return 0;
}

static bool same_but_ctime(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

bool zfile_same(const struct stat *then, const struct stat *now)
{
	return same_but_ctime(then, now) && then->st_ctim.tv_sec == now->st_ctim.tv_sec &&
	       then->st_ctim.tv_nsec == now->st_ctim.tv_nsec;
}

int zfile_check_unchanged(const struct zfile *zf, struct err_detail *reterr)
{
	struct stat now;

	if (fstat(zf->fd, &now) < 0)
		return err_set(reterr, -errno, "cannot stat '%s': %s", zf->base, strerror(errno));
	if (!zfile_same(&zf->st, &now))
		return err_set(reterr, -ESTALE,
			       "'%s' changed while it was read (%lld bytes before, "
			       "%lld after); it is read again once it settles",
			       zf->base, (long long)zf->st.st_size, (long long)now.st_size);
	return 0;
}

/* A new folder of the daemon's own in the zone, for one removal, named at random so that no
 * uploader can have made it first; its name into @ret_name. */
static int removing_dir_make(int rootfd, char ret_name[40], struct err_detail *reterr)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		uint8_t rnd[8];
		char hex[2 * sizeof(rnd) + 1];

		randombytes_buf(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), hex);
		snprintf(ret_name, 40, "%s-%s", REMOVING_DIR, hex);
		if (mkdirat(rootfd, ret_name, 0700) == 0) {
			int fd = openat(rootfd, ret_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0)
				return err_set(reterr, -errno, "cannot open '%s': %s", ret_name,
					       strerror(errno));
			return fd;
		}
		if (errno != EEXIST)
			return err_set(reterr, -errno, "cannot create '%s' in the zone: %s",
				       ret_name, strerror(errno));
	}
	return err_set(reterr, -EEXIST, "cannot create a folder of the daemon's own in the zone");
}

int zfile_remove(struct zfile *zf, const char *zone_root, const struct stat *read,
		 struct err_detail *reterr)
{
	char qname[40], used[NAME_MAX + 1];
	auto_close int rootfd = -1, qfd = -1;
	struct stat now;
	int r = 0;

	if (fstatat(zf->dirfd, zf->base, &now, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(reterr, -errno, "'%s' is no longer in its zone: %s", zf->base,
			       strerror(errno));
	if (!zfile_same(read, &now))
		return err_set(reterr, -ESTALE,
			       "'%s' was changed or replaced after it was read: "
			       "left in its zone, to be taken again as what it is now",
			       zf->base);
	rootfd = open(zone_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_set(reterr, -errno, "cannot open the zone folder '%s': %s", zone_root,
			       strerror(errno));
	/* The folder (or the zone folder itself, replaced by an operator) may have been moved
	 * out of the zone since it was opened: what is outside the zones is never touched. */
	{
		struct stat held, there;
		auto_close int again = zf->dir[0] ? open_dir_beneath(rootfd, zf->dir) : dup(rootfd);

		if (again < 0 || fstat(again, &there) < 0 || fstat(zf->dirfd, &held) < 0 ||
		    held.st_dev != there.st_dev || held.st_ino != there.st_ino)
			return err_set(reterr, -ESTALE,
				       "the folder of '%s' is no longer '%s' in its "
				       "zone: nothing is removed",
				       zf->base, zf->dir[0] ? zf->dir : ".");
	}
	qfd = removing_dir_make(rootfd, qname, reterr);
	if (qfd < 0) {
		err_prefix(reterr, "cannot remove '%s' from '%s'", zf->base, zone_root);
		return qfd;
	}
	FAULT_POINT("zone-before-removal");
	/* Under its own name, so that a sweep after a crash can give it back as what it was. */
	if (renameat2(zf->dirfd, zf->base, qfd, zf->base, RENAME_NOREPLACE) < 0) {
		r = err_set(reterr, -errno,
			    "cannot move '%s' out of its zone '%s' to remove it: %s", zf->base,
			    zone_root, strerror(errno));
	} else if (fstatat(qfd, zf->base, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		   !same_but_ctime(read, &now)) {
		r = fs_put_back(qfd, zf->base, zf->dirfd, zf->base, used, sizeof(used));
		if (r < 0)
			return err_set(reterr, r,
				       "'%s' was replaced while it was being removed, and "
				       "cannot go back (%s): it is kept in '%s/%s'",
				       zf->base, strerror(-r), zone_root, qname);
		r = err_set(reterr, -ESTALE,
			    "'%s' was replaced while it was being removed: put "
			    "back as '%s', to be taken again",
			    zf->base, used);
	} else if (unlinkat(qfd, zf->base, 0) < 0) {
		return err_set(reterr, -errno, "cannot remove '%s/%s/%s': %s", zone_root, qname,
			       zf->base, strerror(errno));
	}
	unlinkat(rootfd, qname, AT_REMOVEDIR);
	if (r == 0 && (fsync(zf->dirfd) < 0 || fsync(rootfd) < 0))
		r = err_set(reterr, -errno, "cannot sync the zone folder of '%s': %s", zf->base,
			    strerror(errno));
	return r;
}

int zfile_sweep(const char *zone_root, unsigned *ret_returned, struct err_detail *reterr)
{
	auto_close int rootfd = open(zone_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lfd = rootfd >= 0 ? dup(rootfd) : -1;
	DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
	struct dirent *de;
	int r = 0;

	*ret_returned = 0;
	if (!d) {
		r = -errno;
		if (lfd >= 0)
			close(lfd);
		return err_set(reterr, r, "cannot list the zone folder '%s': %s", zone_root,
			       strerror(-r));
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		auto_close int qfd = -1;
		DIR *q;
		struct dirent *qe;

		if (strncmp(de->d_name, REMOVING_DIR "-", sizeof(REMOVING_DIR)) != 0)
			continue;
		qfd = openat(rootfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* Only the daemon's own: one an uploader made is theirs to see to. */
		if (qfd < 0 || fstat(qfd, &sb) < 0 || sb.st_uid != geteuid() ||
		    (sb.st_mode & 077) != 0)
			continue;
		q = fdopendir(dup(qfd));
		while (q && (qe = readdir(q)) != NULL) {
			if (!strcmp(qe->d_name, ".") || !strcmp(qe->d_name, ".."))
				continue;
			int pr = fs_put_back(qfd, qe->d_name, rootfd, qe->d_name, NULL, 0);

			if (pr == 0)
				(*ret_returned)++;
			else
				r = err_set(reterr, pr,
					    "cannot give '%s/%s/%s' back to its zone: %s",
					    zone_root, de->d_name, qe->d_name, strerror(-pr));
		}
		if (q)
			closedir(q);
		unlinkat(rootfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
	return r;
}

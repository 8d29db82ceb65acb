/* store.c: the content-addressed store of originals.
 *
 * DESIGN
 * Evidence must survive a crash at any instant (docs/ingest.md), so an original becomes visible
 * under its content name only when it is complete and durable:
 *   1. the bytes go to an anonymous O_TMPFILE in <root>/tmp (a named temp file where the
 *      filesystem lacks O_TMPFILE), hashed in the same pass as they are copied;
 *   2. fsync the file, fchmod 0440;
 *   3. linkat() it to objects/ab/<sha256>: link, not rename, because link never replaces an
 *      existing name, so an original is never overwritten, even by a racing copy of itself;
 *   4. fsync objects/ab/ (and objects/ when ab/ was just made).
 * A crash before 4 loses at most a name the log does not yet mention, and the drop zone still
 * holds the file.  Staging (rename from a zone on the same filesystem) is fsynced on both
 * sides, so the file is always in the zone or in staging.
 *
 * Runs on worker threads; no state is shared but the root's path and directory descriptors,
 * which are read-only after store_open(). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/fault.h"
#include "base/file.h"
#include "base/fsname.h"
#include "base/hex.h"
#include "ingest/store.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

struct store {
	char *root;
	int root_fd, objects_fd, staging_fd, tmp_fd;
};

CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)

static int open_dir_at(int at, const char *name, int *ret_fd, struct err_detail *reterr)
{
	int fd;

	if (mkdirat(at, name, 0750) < 0 && errno != EEXIST)
		return err_set(reterr, -errno, "cannot create the store folder '%s': %s", name,
			       strerror(errno));
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open the store folder '%s': %s", name,
			       strerror(errno));
	*ret_fd = fd;
	return 0;
}

/* Partial copies from before a crash, on filesystems without O_TMPFILE: nobody else writes
 * here (the daemon holds the log's lock), so whatever tmp/ holds at open is garbage. */
static void clean_tmp(struct store *st)
{
	int fd = openat(st->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "copy-", 5) == 0)
			unlinkat(st->tmp_fd, de->d_name, 0);
	closedir(d);
}

int store_open(const char *root, struct store **ret, struct err_detail *reterr)
{
	struct store *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return err_set(reterr, -ENOMEM, "out of memory");
	st->root_fd = st->objects_fd = st->staging_fd = st->tmp_fd = -1;
	st->root = strdup(root);
	if (!st->root) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	if (mkdir(root, 0750) < 0 && errno != EEXIST) {
		r = err_set(reterr, -errno, "cannot create the store '%s': %s", root,
			    strerror(errno));
		goto fail;
	}
	st->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->root_fd < 0) {
		r = err_set(reterr, -errno, "cannot open the store '%s': %s", root,
			    strerror(errno));
		goto fail;
	}
	if ((r = open_dir_at(st->root_fd, "objects", &st->objects_fd, reterr)) < 0 ||
	    (r = open_dir_at(st->root_fd, "staging", &st->staging_fd, reterr)) < 0 ||
	    (r = open_dir_at(st->root_fd, "tmp", &st->tmp_fd, reterr)) < 0) {
		err_prefix(reterr, "'%s'", root);
		goto fail;
	}
	if (fsync(st->root_fd) < 0) {
		r = err_set(reterr, -errno, "cannot sync the store '%s': %s", root,
			    strerror(errno));
		goto fail;
	}
	clean_tmp(st);
	*ret = st;
	return 0;
fail:
	store_free(st);
	return r;
}

struct store *store_free(struct store *st)
{
	if (!st)
		return NULL;
	if (st->tmp_fd >= 0)
		close(st->tmp_fd);
	if (st->staging_fd >= 0)
		close(st->staging_fd);
	if (st->objects_fd >= 0)
		close(st->objects_fd);
	if (st->root_fd >= 0)
		close(st->root_fd);
	free(st->root);
	free(st);
	return NULL;
}

const char *store_root(const struct store *st)
{
	return st->root;
}

static void rel_name(const uint8_t sha256[32], char rel[STORE_REL_MAX], char dir[3])
{
	char hex[65];

	hex_encode(sha256, 32, hex);
	dir[0] = hex[0];
	dir[1] = hex[1];
	dir[2] = '\0';
	snprintf(rel, STORE_REL_MAX, "objects/%s/%s", dir, hex);
}

/* Link the complete, fsynced file @fd (or the name @tmpname in tmp/, when not NULL) under its
 * content name; fsync the folders that changed. */
static int link_original(struct store *st, int fd, const char *from_dir_fd_name, int from_dir_fd,
			 const uint8_t sha256[32], char ret_rel[STORE_REL_MAX], bool *ret_existed,
			 struct err_detail *reterr)
{
	char rel[STORE_REL_MAX], dir[3], fdpath[64];
	auto_close int dfd = -1;
	bool made_dir = false;
	int r;

	rel_name(sha256, rel, dir);
	if (mkdirat(st->objects_fd, dir, 0750) == 0)
		made_dir = true;
	else if (errno != EEXIST)
		return err_set(reterr, -errno, "cannot create '%s/objects/%s': %s", st->root, dir,
			       strerror(errno));
	dfd = openat(st->objects_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return err_set(reterr, -errno, "cannot open '%s/objects/%s': %s", st->root, dir,
			       strerror(errno));
	if (from_dir_fd_name) {
		r = linkat(from_dir_fd, from_dir_fd_name, dfd, rel + 11, 0);
	} else {
		/* An O_TMPFILE is linked through /proc: AT_EMPTY_PATH would need
		 * CAP_DAC_READ_SEARCH, which the service does not have. */
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		r = linkat(AT_FDCWD, fdpath, dfd, rel + 11, AT_SYMLINK_FOLLOW);
	}
	if (r < 0 && errno == EEXIST) {
		*ret_existed = true;
	} else if (r < 0) {
		return err_set(reterr, -errno, "cannot link the original '%s': %s", rel,
			       strerror(errno));
	} else {
		*ret_existed = false;
		if (fsync(dfd) < 0 || (made_dir && fsync(st->objects_fd) < 0))
			return err_set(reterr, -errno, "cannot sync '%s/objects': %s", st->root,
				       strerror(errno));
	}
	memcpy(ret_rel, rel, STORE_REL_MAX);
	return 0;
}

/* Is @now the file @then was, unchanged?  A write through any descriptor, a truncation or a
 * chmod moves ctime, so a file rewritten while it was read never passes. */
static bool same_file(const struct stat *then, const struct stat *now)
{
	return then->st_dev == now->st_dev && then->st_ino == now->st_ino &&
	       then->st_size == now->st_size && then->st_mtim.tv_sec == now->st_mtim.tv_sec &&
	       then->st_mtim.tv_nsec == now->st_mtim.tv_nsec &&
	       then->st_ctim.tv_sec == now->st_ctim.tv_sec &&
	       then->st_ctim.tv_nsec == now->st_ctim.tv_nsec;
}

int store_put_fd(struct store *st, int fd, const struct stat *expect, uint8_t ret_sha256[32],
		 uint64_t *ret_size, char ret_rel[STORE_REL_MAX], bool *ret_existed,
		 struct err_detail *reterr)
{
	enum { CHUNK = 1 << 20 };
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *buf = NULL;
	auto_close int out = -1;
	char tmpname[64] = "";
	uint8_t digest[32];
	uint64_t size = 0;
	struct stat src;
	int r;

	if (!ctx)
		return err_set(reterr, -ENOMEM, "out of memory");
	out = openat(st->tmp_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (out < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* No O_TMPFILE here: a random name in tmp/, removed on every failure path. */
		uint8_t rnd[8];
		char hex[2 * sizeof(rnd) + 1];

		randombytes_buf(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), hex);
		snprintf(tmpname, sizeof(tmpname), "copy-%s", hex);
		out = openat(st->tmp_fd, tmpname, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	}
	if (out < 0)
		return err_set(reterr, -errno, "cannot create a file in '%s/tmp': %s", st->root,
			       strerror(errno));
	buf = malloc(CHUNK);
	if (!buf) {
		r = err_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		ERR_clear_error();
		r = err_set(reterr, -EIO, "libcrypto could not start SHA-256");
		goto fail;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, CHUNK, (off_t)size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(reterr, -errno, "cannot read the file at offset %llu: %s",
				    (unsigned long long)size, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			ERR_clear_error();
			r = err_set(reterr, -EIO, "libcrypto failed while hashing");
			goto fail;
		}
		r = file_write_full(out, buf, (size_t)n);
		if (r < 0) {
			r = err_set(reterr, r, "cannot write to the store '%s': %s", st->root,
				    strerror(-r));
			goto fail;
		}
		size += (uint64_t)n;
	}
	if (!EVP_DigestFinal_ex(ctx, digest, NULL)) {
		ERR_clear_error();
		r = err_set(reterr, -EIO, "libcrypto failed to finish SHA-256");
		goto fail;
	}
	FAULT_POINT("copied-before-check");
	if (fstat(fd, &src) < 0) {
		r = err_set(reterr, -errno, "cannot stat the file: %s", strerror(errno));
		goto fail;
	}
	/* A copy of a file that changed while it was read is no original of anything: neither
	 * the old version nor the new.  Nothing is linked; the caller reads it again later. */
	if (expect && (!same_file(expect, &src) || (uint64_t)expect->st_size != size)) {
		r = err_set(reterr, -ESTALE,
			    "the file changed while it was read (%llu bytes "
			    "before, %llu read, %llu after); it is read again once it settles",
			    (unsigned long long)expect->st_size, (unsigned long long)size,
			    (unsigned long long)src.st_size);
		goto fail;
	}
	FAULT_POINT("store-before-fsync");
	/* The copy keeps the original's mtime: it is evidence, and the last resort for the
	 * recording time. */
	if (futimens(out, (struct timespec[2]){ src.st_atim, src.st_mtim }) < 0 ||
	    fchmod(out, 0440) < 0 || fsync(out) < 0) {
		r = err_set(reterr, -errno, "cannot sync the copy in '%s': %s", st->root,
			    strerror(errno));
		goto fail;
	}
	r = link_original(st, out, tmpname[0] ? tmpname : NULL, st->tmp_fd, digest, ret_rel,
			  ret_existed, reterr);
	if (r < 0)
		goto fail;
	if (tmpname[0])
		unlinkat(st->tmp_fd, tmpname, 0);
	free(buf);
	memcpy(ret_sha256, digest, 32);
	*ret_size = size;
	return 0;
fail:
	if (tmpname[0])
		unlinkat(st->tmp_fd, tmpname, 0);
	free(buf);
	return r;
}

/* The last component of a staged path, which is its name in staging/. */
__attribute__((returns_nonnull)) static const char *staged_name(const char *staged)
{
	const char *slash = strrchr(staged, '/');

	return slash ? slash + 1 : staged;
}

static int write_file_at(int dirfd, const char *name, const char *data, size_t len)
{
	auto_close int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0640);
	int r;

	if (fd < 0)
		return -errno;
	r = file_write_full(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	return r;
}

int store_stage_at(struct store *st, int dirfd, const char *name, const struct stat *expect,
		   const char *meta, size_t meta_len, char *ret_staged, size_t staged_max,
		   struct err_detail *reterr)
{
	char sname[40], meta_name[48], staged[PATH_MAX], used[NAME_MAX + 1];
	struct stat sb;
	uint8_t rnd[8];
	int r;

	ret_staged[0] = '\0';
	/* A unique name, so that two arrivals of one file name never collide in staging; the
	 * original name lives on in the meta and then in the entry. */
	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), sname);
	snprintf(meta_name, sizeof(meta_name), "%s.meta", sname);
	if ((size_t)snprintf(staged, sizeof(staged), "%s/staging/%s", st->root, sname) >=
	    MIN(sizeof(staged), staged_max))
		return err_set(reterr, -ENAMETOOLONG, "the staging path is too long");
	/* The meta first: a staged file without it could not be ingested after a crash. */
	r = write_file_at(st->staging_fd, meta_name, meta, meta_len);
	if (r < 0) {
		unlinkat(st->staging_fd, meta_name, 0);
		return err_set(reterr, r, "cannot write '%s/staging/%s': %s", st->root, meta_name,
			       strerror(-r));
	}
	FAULT_POINT("opened-before-stage");
	if (renameat2(dirfd, name, st->staging_fd, sname, RENAME_NOREPLACE) < 0) {
		r = -errno;
		unlinkat(st->staging_fd, meta_name, 0);
		if (r == -EXDEV)
			return err_set(reterr, -EXDEV,
				       "'%s' is on another filesystem than the store", name);
		return err_set(reterr, r, "cannot move '%s' into staging: %s", name, strerror(-r));
	}
	/* The name may have been given to another file between the caller's open and the rename:
	 * what moved must be the file the caller holds, or it goes back where it was. */
	if (fstatat(st->staging_fd, sname, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
	    sb.st_dev != expect->st_dev || sb.st_ino != expect->st_ino) {
		r = fs_put_back(st->staging_fd, sname, dirfd, name, used, sizeof(used));
		if (r < 0) {
			/* It stays staged with its meta, and is ingested from there. */
			memcpy(ret_staged, staged, strlen(staged) + 1);
			return err_set(reterr, -ESTALE,
				       "'%s' was replaced while it was opened, and "
				       "what replaced it cannot go back (%s): it is ingested from "
				       "staging",
				       name, strerror(-r));
		}
		unlinkat(st->staging_fd, meta_name, 0);
		return err_set(reterr, -ESTALE,
			       "'%s' was replaced while it was opened; the new "
			       "file is left in its zone as '%s'",
			       name, used);
	}
	/* Staged from here on, whatever follows: the caller must know where it is. */
	memcpy(ret_staged, staged, strlen(staged) + 1);
	/* Both folders changed: the new name must be durable before the old one is gone. */
	if (fsync(st->staging_fd) < 0 || fsync(dirfd) < 0)
		return err_set(reterr, -errno, "cannot sync after moving '%s' into staging: %s",
			       name, strerror(errno));
	return 0;
}

int store_stage_return(struct store *st, const char *staged, int dirfd, const char *name,
		       char *ret_used, size_t used_max, struct err_detail *reterr)
{
	const char *sname = staged_name(staged);
	char meta_name[NAME_MAX + 1];
	int r;

	if (strlen(sname) + 6 > sizeof(meta_name))
		return err_set(reterr, -ENAMETOOLONG, "'%s' is not a staged name", staged);
	snprintf(meta_name, sizeof(meta_name), "%s.meta", sname);
	r = fs_put_back(st->staging_fd, sname, dirfd, name, ret_used, used_max);
	if (r < 0)
		return err_set(reterr, r, "cannot put '%s' back into its zone as '%s': %s", staged,
			       name, strerror(-r));
	/* No fsync of staging: a meta whose file left is removed by the next staging scan. */
	unlinkat(st->staging_fd, meta_name, 0);
	return 0;
}

int store_staging_scan(struct store *st,
		       int (*cb)(void *opaque, const char *staged, const char *meta, size_t len),
		       void *opaque, struct err_detail *reterr)
{
	int fd = openat(st->staging_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int r = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_set(reterr, -errno, "cannot list '%s/staging': %s", st->root,
			       strerror(errno));
	}
	while ((de = readdir(d)) != NULL && r >= 0) {
		size_t len = strlen(de->d_name);
		char file[NAME_MAX + 1], path[PATH_MAX], meta[8192];
		struct stat sb;
		ssize_t n;
		int mfd;

		if (len < 6 || strcmp(de->d_name + len - 5, ".meta") != 0)
			continue;
		memcpy(file, de->d_name, len - 5);
		file[len - 5] = '\0';
		if (fstatat(st->staging_fd, file, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			unlinkat(st->staging_fd, de->d_name, 0);
			continue;
		}
		mfd = openat(st->staging_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		n = mfd >= 0 ? read(mfd, meta, sizeof(meta) - 1) : -1;
		if (mfd >= 0)
			close(mfd);
		if (n < 0) {
			r = err_set(reterr, -errno, "cannot read '%s/staging/%s': %s", st->root,
				    de->d_name, strerror(errno));
			break;
		}
		meta[n] = '\0';
		snprintf(path, sizeof(path), "%s/staging/%s", st->root, file);
		r = cb(opaque, path, meta, (size_t)n);
	}
	closedir(d);
	return r;
}

int store_adopt(struct store *st, const char *staged, const uint8_t sha256[32],
		char ret_rel[STORE_REL_MAX], bool *ret_existed, struct err_detail *reterr)
{
	const char *name = staged_name(staged);
	auto_close int fd = -1;

	fd = openat(st->staging_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open the staged file '%s': %s", staged,
			       strerror(errno));
	FAULT_POINT("store-before-fsync");
	if (fchmod(fd, 0440) < 0 || fsync(fd) < 0)
		return err_set(reterr, -errno, "cannot sync the staged file '%s': %s", staged,
			       strerror(errno));
	return link_original(st, fd, name, st->staging_fd, sha256, ret_rel, ret_existed, reterr);
}

int store_unstage(struct store *st, const char *staged, struct err_detail *reterr)
{
	const char *name = staged_name(staged);
	char meta_name[NAME_MAX + 1];
	size_t len = strlen(name);

	/* Not snprintf: GCC 12 with -fsanitize warns, wrongly, that the name may be NULL. */
	if (len + 6 > sizeof(meta_name))
		return err_set(reterr, -ENAMETOOLONG, "'%s' is not a staged name", staged);
	memcpy(meta_name, name, len);
	memcpy(meta_name + len, ".meta", 6);
	if (unlinkat(st->staging_fd, name, 0) < 0 && errno != ENOENT)
		return err_set(reterr, -errno, "cannot remove the staged file '%s': %s", staged,
			       strerror(errno));
	/* The file first: a meta without its file is cleaned up by the next scan. */
	if (unlinkat(st->staging_fd, meta_name, 0) < 0 && errno != ENOENT)
		return err_set(reterr, -errno, "cannot remove '%s.meta': %s", staged,
			       strerror(errno));
	if (fsync(st->staging_fd) < 0)
		return err_set(reterr, -errno, "cannot sync '%s/staging': %s", st->root,
			       strerror(errno));
	return 0;
}

/* Only names this module makes: "objects/" + 2 hex + "/" + 64 hex, the 2 being the first two of
 * the 64 (lowercase), so that no request can escape the store or name a file out of place. */
static bool original_name(const char *rel)
{
	static const char hex[] = "0123456789abcdef";

	return strncmp(rel, "objects/", 8) == 0 && strlen(rel) == 8 + 3 + 64 && rel[10] == '/' &&
	       strspn(rel + 8, hex) == 2 && strspn(rel + 11, hex) == 64 && rel[8] == rel[11] &&
	       rel[9] == rel[12];
}

int store_open_original(struct store *st, const char *rel, int *ret_fd, struct err_detail *reterr)
{
	int fd;

	if (!original_name(rel))
		return err_set(reterr, -EINVAL, "'%s' is not the name of an original", rel);
	fd = openat(st->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return err_set(reterr, -errno, "cannot open the original '%s': %s", rel,
			       strerror(errno));
	*ret_fd = fd;
	return 0;
}

int store_has_original(struct store *st, const char *rel, struct err_detail *reterr)
{
	struct stat sb;

	if (!original_name(rel))
		return err_set(reterr, -EINVAL, "'%s' is not the name of an original", rel);
	if (fstatat(st->root_fd, rel, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(reterr, -errno, "the original '%s' is not in the store: %s", rel,
			       strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return err_set(reterr, -ENOENT, "the original '%s' is not a regular file", rel);
	return 0;
}

int store_remove_original(struct store *st, const char *rel, const uint8_t sha256[32],
			  struct err_detail *reterr)
{
	char want[STORE_REL_MAX], dir[3];
	auto_close int dfd = -1;

	/* The name the store gives these bytes, and nothing else: a purge entry whose "stored"
	 * does not match its "sha256" cannot make the store remove some other original. */
	rel_name(sha256, want, dir);
	if (!original_name(rel) || strcmp(rel, want) != 0)
		return err_set(reterr, -EINVAL,
			       "'%s' is not the name of the original with SHA-256 "
			       "%s",
			       rel, want + 11);
	dfd = openat(st->objects_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return err_set(reterr, -errno, "cannot open the store folder 'objects/%s': %s", dir,
			       strerror(errno));
	if (unlinkat(dfd, rel + 11, 0) < 0)
		return err_set(reterr, -errno, "cannot remove the original '%s': %s", rel,
			       strerror(errno));
	/* The removal is durable only once the folder is: until then a crash may bring the
	 * name back, and a purge asked again removes it again. */
	if (fsync(dfd) < 0)
		return err_set(reterr, -errno, "cannot sync the store folder 'objects/%s': %s", dir,
			       strerror(errno));
	return 0;
}

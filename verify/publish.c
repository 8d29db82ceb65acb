/* publish.c: the log as C2SP tlog-tiles files in a folder (docs/publication.md).
 *
 * DESIGN
 * Every tile of the size to publish is looked for with one fstatat(): a missing one is made
 * from the stored hashes (tlog_nodes(): no hashing, the log keeps every node) and written to a
 * temporary name in .publish-tmp/.  fsync() per file would cost one disk flush per 8 KiB tile,
 * tens of thousands of them for a large log, so a batch of temporary files is made durable
 * with one syncfs(), then each is renamed to its final name with RENAME_NOREPLACE: nothing at
 * a final name is ever replaced, and a final name only ever holds a complete, durable file.
 * After the last batch another syncfs() makes the renames (and new folders) durable, and only
 * then is `checkpoint` replaced (temporary file, fsync, rename, fsync of the folder).  A crash
 * anywhere leaves the old checkpoint naming tiles that are all there, plus maybe some tiles
 * of the new size, which the next run finds in place.
 *
 * A tile already in the folder is checked: one that the folder's own checkpoint needs has
 * been checked by the run that wrote that checkpoint, so only its size is compared; one that
 * no checkpoint needed yet (left by an interrupted run, or by another history) is read and
 * compared byte for byte, and a difference names it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/i18n.h"
#include "base/file.h"
#include "verify/note.h"
#include "verify/publish.h"
#include "verify/tiles.h"
#include "verify/tlog.h"

#define PUB_TMP ".publish-tmp"
#define PUB_CHECKPOINT "checkpoint"
#define PUB_FILE_MODE 0644
#define PUB_DIR_MODE 0755
#define PUB_BATCH_FILES 8192
#define PUB_BATCH_BYTES ((size_t)64 << 20)
#define PUB_BUNDLE_MAX ((size_t)TILE_WIDTH * (2 + TILE_BUNDLE_ENTRY_MAX))

struct pending {
	char final[TILE_PATH_MAX];
	char tmp[24];
};

struct pub {
	struct tlog *log;
	int dirfd, tmpfd;
	uint64_t old, size;
	struct pending *batch;
	size_t nbatch, batch_bytes;
	uint64_t seq;
	char made[TILE_PATH_MAX]; /* the last folder known to exist */
	uint8_t *buf, *cmp;	  /* a tile or bundle being made, and one read back */
	size_t buf_cap;
	struct pub_stats st;
};

/* ---- folders ---- */

/* Make the folders of @path (a tile path) that are missing, 0755 whatever the umask. */
static int make_parents(struct pub *p, const char *path, struct err_detail *reterr)
{
	char dir[TILE_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = (size_t)(slash - path);

	memcpy(dir, path, len);
	dir[len] = '\0';
	if (strcmp(dir, p->made) == 0)
		return 0;
	for (char *s = dir;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdirat(p->dirfd, dir, PUB_DIR_MODE) == 0) {
			if (fchmodat(p->dirfd, dir, PUB_DIR_MODE, 0) < 0)
				return err_set(reterr, -errno, _("cannot set the mode of '%s': %s"),
					       dir, strerror(errno));
		} else if (errno != EEXIST) {
			return err_set(reterr, -errno, _("cannot make the folder '%s': %s"), dir,
				       strerror(errno));
		}
		*s = c;
		if (!c)
			break;
	}
	memcpy(p->made, dir, len + 1);
	return 0;
}

/* Empty .publish-tmp/ of what an interrupted run left. */
static int tmp_open(struct pub *p, struct err_detail *reterr)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (mkdirat(p->dirfd, PUB_TMP, 0700) < 0 && errno != EEXIST)
		return err_set(reterr, -errno, _("cannot make the folder '%s': %s"), PUB_TMP,
			       strerror(errno));
	p->tmpfd = openat(p->dirfd, PUB_TMP, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (p->tmpfd < 0)
		return err_set(reterr, -errno, _("cannot open the folder '%s': %s"), PUB_TMP,
			       strerror(errno));
	fd = dup(p->tmpfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return err_set(reterr, -e, _("cannot read the folder '%s': %s"), PUB_TMP,
			       strerror(e));
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(p->tmpfd, de->d_name, 0) < 0 && errno != ENOENT) {
			int e = errno;

			closedir(d);
			return err_set(reterr, -e, _("cannot remove '%s/%s': %s"), PUB_TMP,
				       de->d_name, strerror(e));
		}
	}
	closedir(d);
	return 0;
}

/* ---- making a tile's bytes ---- */

struct bundle_ctx {
	struct pub *p;
	size_t pos;
};

static int bundle_add(void *ctx, uint64_t index, const void *data, size_t len,
		      struct err_detail *reterr)
{
	struct bundle_ctx *b = ctx;
	int r = tiles_bundle_put(b->p->buf, b->p->buf_cap, &b->pos, data, len);

	if (r == -E2BIG)
		return err_set(
		    reterr, r,
		    _("entry %llu is %zu bytes, more than an entry bundle can hold (%d)"),
		    (unsigned long long)index, len, TILE_BUNDLE_ENTRY_MAX);
	if (r < 0)
		return err_set(reterr, r, _("internal: entry bundle buffer too small"));
	return 0;
}

/* The bytes the log says tile @t holds, into p->buf; their count to *@ret_len. */
static int tile_make(struct pub *p, const struct tile *t, size_t *ret_len,
		     struct err_detail *reterr)
{
	uint64_t first = t->index * TILE_WIDTH;
	int r;

	if (t->level == TILE_ENTRIES) {
		struct bundle_ctx b = { .p = p };

		r = tlog_entries_each(p->log, first, t->width, bundle_add, &b, reterr);
		*ret_len = b.pos;
		return r;
	}
	r = tlog_nodes(p->log, (unsigned)t->level * TILE_HEIGHT, first, t->width,
		       (uint8_t(*)[VFY_HASH_LEN])p->buf, reterr);
	*ret_len = (size_t)t->width * VFY_HASH_LEN;
	return r;
}

/* Does the file @name at @dirfd hold exactly @len bytes equal to @data? */
static int same_bytes(struct pub *p, int dirfd, const char *name, const uint8_t *data, size_t len,
		      struct err_detail *reterr)
{
	auto_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return err_set(reterr, -errno, _("cannot open '%s': %s"), name, strerror(errno));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != len)
		return 0;
	n = file_read_full(fd, p->cmp, len);
	if (n < 0)
		return err_set(reterr, (int)n, _("cannot read '%s': %s"), name, strerror((int)-n));
	return (size_t)n == len && memcmp(p->cmp, data, len) == 0;
}

static int other_history(const char *path, struct err_detail *reterr)
{
	return err_set(
	    reterr, -ESTALE,
	    _("'%s' is already there with other bytes than the log's: the folder holds a "
	      "different history"),
	    path);
}

/* ---- batches ---- */

static int batch_flush(struct pub *p, struct err_detail *reterr)
{
	int r;

	if (!p->nbatch)
		return 0;
	/* One flush for the whole batch instead of one fsync per file. */
	if (syncfs(p->tmpfd) < 0)
		return err_set(reterr, -errno, _("cannot flush the new tiles to disk: %s"),
			       strerror(errno));
	for (size_t i = 0; i < p->nbatch; i++) {
		struct pending *f = &p->batch[i];

		r = make_parents(p, f->final, reterr);
		if (r < 0)
			return r;
		if (renameat2(p->tmpfd, f->tmp, p->dirfd, f->final, RENAME_NOREPLACE) == 0)
			continue;
		if (errno != EEXIST)
			return err_set(reterr, -errno, _("cannot rename a new tile to '%s': %s"),
				       f->final, strerror(errno));
		/* Someone put it there since it was looked for: it must be what we made. */
		{
			auto_close int fd = openat(p->tmpfd, f->tmp, O_RDONLY | O_CLOEXEC);
			ssize_t n = fd < 0 ? -errno : file_read_full(fd, p->buf, p->buf_cap);

			if (n < 0)
				return err_set(reterr, (int)n, _("cannot read back '%s': %s"),
					       f->tmp, strerror((int)-n));
			r = same_bytes(p, p->dirfd, f->final, p->buf, (size_t)n, reterr);
			if (r < 0)
				return r;
			if (!r)
				return other_history(f->final, reterr);
			unlinkat(p->tmpfd, f->tmp, 0);
		}
	}
	p->nbatch = 0;
	p->batch_bytes = 0;
	return 0;
}

static int tmp_write(struct pub *p, const char *name, const uint8_t *data, size_t len,
		     struct err_detail *reterr)
{
	auto_close int fd = openat(
	    p->tmpfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, PUB_FILE_MODE);
	int r;

	if (fd < 0)
		return err_set(reterr, -errno, _("cannot create '%s/%s': %s"), PUB_TMP, name,
			       strerror(errno));
	if (fchmod(fd, PUB_FILE_MODE) < 0)
		return err_set(reterr, -errno, _("cannot set the mode of '%s/%s': %s"), PUB_TMP,
			       name, strerror(errno));
	r = file_write_full(fd, data, len);
	if (r < 0)
		return err_set(reterr, r, _("cannot write '%s/%s': %s"), PUB_TMP, name,
			       strerror(-r));
	return 0;
}

/* Is @t one that the folder's checkpoint already needed? */
static bool tile_old(const struct pub *p, const struct tile *t)
{
	unsigned level = t->level == TILE_ENTRIES ? 0 : (unsigned)t->level;
	uint64_t full = tiles_full(p->old, level);

	if (t->width == TILE_WIDTH)
		return t->index < full;
	return t->index == full && t->width == tiles_partial(p->old, level);
}

static int tile_publish(struct pub *p, const struct tile *t, struct err_detail *reterr)
{
	struct pending *f;
	struct stat st;
	size_t len;
	int r;

	f = &p->batch[p->nbatch];
	tile_path(t, f->final);
	if (fstatat(p->dirfd, f->final, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			return err_set(reterr, -ESTALE, _("'%s' is there but not a regular file"),
				       f->final);
		if (tile_old(p, t) &&
		    (t->level == TILE_ENTRIES || st.st_size == (off_t)t->width * VFY_HASH_LEN)) {
			p->st.present++;
			return 0;
		}
		r = tile_make(p, t, &len, reterr);
		if (r < 0)
			return r;
		r = same_bytes(p, p->dirfd, f->final, p->buf, len, reterr);
		if (r < 0)
			return r;
		if (!r)
			return other_history(f->final, reterr);
		p->st.present++;
		return 0;
	}
	if (errno != ENOENT)
		return err_set(reterr, -errno, _("cannot look for '%s': %s"), f->final,
			       strerror(errno));
	r = tile_make(p, t, &len, reterr);
	if (r < 0)
		return r;
	snprintf(f->tmp, sizeof(f->tmp), "t%llu", (unsigned long long)p->seq++);
	r = tmp_write(p, f->tmp, p->buf, len, reterr);
	if (r < 0)
		return r;
	if (t->level == TILE_ENTRIES)
		p->st.bundles++;
	else
		p->st.tiles++;
	p->nbatch++;
	p->batch_bytes += len;
	if (p->nbatch == PUB_BATCH_FILES || p->batch_bytes >= PUB_BATCH_BYTES)
		return batch_flush(p, reterr);
	return 0;
}

/* Every tile at @level (TILE_ENTRIES: the bundles) of the size to publish. */
static int level_publish(struct pub *p, int level, struct err_detail *reterr)
{
	unsigned l = level == TILE_ENTRIES ? 0 : (unsigned)level;
	uint64_t full = tiles_full(p->size, l);
	unsigned w = tiles_partial(p->size, l);
	struct tile t = { .level = level, .width = TILE_WIDTH };
	int r;

	for (t.index = 0; t.index < full; t.index++) {
		r = tile_publish(p, &t, reterr);
		if (r < 0)
			return r;
	}
	if (!w)
		return 0;
	t.width = w;
	return tile_publish(p, &t, reterr);
}

/* ---- checkpoints ---- */

static int log_verifier(struct tlog *log, struct vfy_verifier *ret, struct err_detail *reterr)
{
	const char *vkey = tlog_vkey(log);

	return vfy_verifier_parse(vkey, strlen(vkey), ret, reterr);
}

/* The folder's checkpoint: its size to p->old (0 when there is none), its bytes to *@ret. */
static int folder_checkpoint(struct pub *p, const struct vfy_verifier *key,
			     const struct vfy_checkpoint *cp, char **ret, size_t *ret_len,
			     struct err_detail *reterr)
{
	struct vfy_checkpoint old;
	uint8_t root[VFY_HASH_LEN];
	uint64_t have;
	int r;

	r = file_read_at(p->dirfd, PUB_CHECKPOINT, O_NOFOLLOW | O_NONBLOCK, VFY_NOTE_MAX, ret,
			 ret_len, reterr);
	if (r == -ENOENT) {
		p->old = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = vfy_checkpoint_open(*ret, *ret_len, tlog_origin(p->log), key, 1, &old, NULL, reterr);
	if (r == -ESTALE)
		return err_set(
		    reterr, -ESTALE,
		    _("the folder's checkpoint is another log's (origin '%s', not '%s')"),
		    old.origin, tlog_origin(p->log));
	if (r < 0) {
		err_prefix(reterr, _("the folder's checkpoint is not one this log's key signed"));
		return -ESTALE;
	}
	r = tlog_size(p->log, &have, reterr);
	if (r < 0)
		return r;
	if (old.size > have)
		return err_set(
		    reterr, -ESTALE,
		    _("the folder's checkpoint has %llu entries but the log only %llu: the "
		      "folder holds a different history"),
		    (unsigned long long)old.size, (unsigned long long)have);
	r = tlog_root(p->log, old.size, root, reterr);
	if (r < 0)
		return r;
	if (memcmp(root, old.root, VFY_HASH_LEN) != 0)
		return err_set(
		    reterr, -ESTALE,
		    _("the folder's checkpoint at size %llu has another root than the log "
		      "at that size: the folder holds a different history"),
		    (unsigned long long)old.size);
	if (old.size > cp->size)
		return err_set(reterr, -EEXIST,
			       _("the folder already holds a newer checkpoint (size %llu) than the "
				 "one to publish (size %llu)"),
			       (unsigned long long)old.size, (unsigned long long)cp->size);
	p->old = old.size;
	return 0;
}

/* Replace `checkpoint`: a temporary file made durable, renamed over it, the folder synced. */
static int checkpoint_write(struct pub *p, const char *note, size_t len, struct err_detail *reterr)
{
	int r = tmp_write(p, PUB_CHECKPOINT, (const uint8_t *)note, len, reterr);

	if (r < 0)
		return r;
	{
		auto_close int fd = openat(p->tmpfd, PUB_CHECKPOINT, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) < 0)
			return err_set(reterr, -errno, _("cannot flush the new checkpoint: %s"),
				       strerror(errno));
	}
	if (renameat(p->tmpfd, PUB_CHECKPOINT, p->dirfd, PUB_CHECKPOINT) < 0)
		return err_set(reterr, -errno, _("cannot replace 'checkpoint': %s"),
			       strerror(errno));
	if (fsync(p->dirfd) < 0)
		return err_set(reterr, -errno,
			       _("cannot flush the folder after replacing 'checkpoint': %s"),
			       strerror(errno));
	return 0;
}

static int publish(struct pub *p, const char *note, size_t len, unsigned flags,
		   struct err_detail *reterr)
{
	struct vfy_verifier key;
	struct vfy_checkpoint cp;
	uint8_t root[VFY_HASH_LEN];
	auto_free char *old_note = NULL;
	size_t old_len = 0;
	uint64_t have;
	unsigned levels;
	bool same;
	int r;

	r = log_verifier(p->log, &key, reterr);
	if (r < 0)
		return r;
	r = vfy_checkpoint_open(note, len, tlog_origin(p->log), &key, 1, &cp, NULL, reterr);
	if (r < 0) {
		err_prefix(reterr, _("the checkpoint to publish"));
		return r;
	}
	r = tlog_size(p->log, &have, reterr);
	if (r < 0)
		return r;
	if (cp.size > have)
		return err_set(
		    reterr, -ERANGE,
		    _("the checkpoint to publish has %llu entries but the log only %llu"),
		    (unsigned long long)cp.size, (unsigned long long)have);
	r = tlog_root(p->log, cp.size, root, reterr);
	if (r < 0)
		return r;
	if (memcmp(root, cp.root, VFY_HASH_LEN) != 0)
		return err_set(reterr, -ESTALE,
			       _("the checkpoint to publish has another root than the log at size "
				 "%llu"),
			       (unsigned long long)cp.size);
	p->size = cp.size;
	p->st.size = cp.size;

	if (flock(p->dirfd, LOCK_EX | LOCK_NB) < 0)
		return err_set(reterr, errno == EWOULDBLOCK ? -EBUSY : -errno,
			       _("another publisher is writing to the folder%s%s"),
			       errno == EWOULDBLOCK ? "" : ": ",
			       errno == EWOULDBLOCK ? "" : strerror(errno));
	r = folder_checkpoint(p, &key, &cp, &old_note, &old_len, reterr);
	if (r < 0)
		return r;
	p->st.old_size = p->old;
	r = tmp_open(p, reterr);
	if (r < 0)
		return r;

	levels = tiles_levels(p->size);
	for (unsigned l = 0; l < levels; l++) {
		r = level_publish(p, (int)l, reterr);
		if (r < 0)
			return r;
	}
	if (flags & PUB_ENTRIES) {
		r = level_publish(p, TILE_ENTRIES, reterr);
		if (r < 0)
			return r;
	}
	r = batch_flush(p, reterr);
	if (r < 0)
		return r;
	same = old_note && old_len == len && memcmp(old_note, note, len) == 0;
	if (same && !p->st.tiles && !p->st.bundles)
		return 0;
	/* Every rename above, and any a crashed run made before, is on disk before the
	 * checkpoint that needs it (or, when it stays, before this run reports success). */
	if (syncfs(p->dirfd) < 0)
		return err_set(reterr, -errno, _("cannot flush the tiles to disk: %s"),
			       strerror(errno));
	if (same)
		return 0;
	r = checkpoint_write(p, note, len, reterr);
	if (r < 0)
		return r;
	p->st.checkpoint = true;
	return 0;
}

int pub_publish(struct tlog *log, int dirfd, const char *note, size_t len, unsigned flags,
		struct pub_stats *ret_stats, struct err_detail *reterr)
{
	struct pub p = { .log = log, .dirfd = dirfd, .tmpfd = -1 };
	int r;

	p.buf_cap = (flags & PUB_ENTRIES) ? PUB_BUNDLE_MAX : TILE_WIDTH * VFY_HASH_LEN;
	p.buf = malloc(p.buf_cap);
	p.cmp = malloc(p.buf_cap);
	p.batch = calloc(PUB_BATCH_FILES, sizeof(*p.batch));
	if (!p.buf || !p.cmp || !p.batch)
		r = err_set(reterr, -ENOMEM, _("out of memory"));
	else
		r = publish(&p, note, len, flags, reterr);
	if (p.tmpfd >= 0)
		close(p.tmpfd);
	flock(dirfd, LOCK_UN);
	free(p.buf);
	free(p.cmp);
	free(p.batch);
	if (r >= 0 && ret_stats)
		*ret_stats = p.st;
	return r;
}

#pragma once
/* custody-verify monitor: an auditor's check of a published log (docs/publication.md), from a
 * folder or over HTTP(S), with no access to the office server.
 *
 * A pass reads the published `checkpoint` and every tile of its tree, checks each full tile
 * against its hash in the tile above and the partial tiles against the checkpoint's root (so
 * every tile read is checked against the root), with --entries every entry bundle against its
 * level-0 tile, and, given the checkpoint saved by the previous pass, that the tree at that
 * size has the saved root: a different one means two histories were signed with one key, a
 * split view.  Memory: every hash above level 0 (size / 256 of them) and two level-0 tiles.
 *
 * Single-threaded; a struct mon_source is used by one thread at a time. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err_detail;
struct vfy_checkpoint;

struct mon_source; /* a folder (a descriptor), or a base URL and a libcurl handle */

/** Open @where: an http:// or https:// URL (the published folder's address), else a folder.
 * @return 0, -EINVAL (an unusable URL), -ENOMEM, or open()'s -errno for a folder. */
int mon_open(const char *where, struct mon_source **ret, struct err_detail *reterr);

/** Fetch the file at @path below the source (at most @max bytes) into a malloc()'d,
 * NUL-terminated *@ret.  @return 0, -ENOENT (no such file, HTTP 404), -EFBIG (more than
 * @max), -EIO (any other HTTP answer, or a transfer that failed), -ENOMEM, or a read error. */
int mon_get(struct mon_source *s, const char *path, size_t max, char **ret, size_t *ret_len,
	    struct err_detail *reterr);

void mon_close(struct mon_source *s);

/* What a pass read, and, when it failed, which check. */
struct mon_result {
	uint64_t tiles;	    /* tiles read */
	uint64_t bundles;   /* entry bundles read */
	const char *failed; /* "tiles", "entries", "consistency" (a split view) or NULL */
};

/** Check the tiles of the tree @cp (already opened with the log's key) and, with @entries,
 * its bundles; with @old (a checkpoint of this log trusted from before) that @cp's tree holds
 * @old's at its size.  @return 0 (all checks hold); -EPROTO (a check failed: @ret->failed
 * says which, @reterr what and where); or -ENOENT / -EIO / -ENOMEM and the like when a file
 * could not be read (also "tiles"/"entries" in @ret->failed: a published size whose tiles
 * are missing is a broken publication). */
int mon_check(struct mon_source *s, const struct vfy_checkpoint *cp,
	      const struct vfy_checkpoint *old, bool entries, struct mon_result *ret,
	      struct err_detail *reterr);

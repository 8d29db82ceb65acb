#pragma once
/* C2SP tlog-tiles (c2sp.org/tlog-tiles): tile and entry-bundle paths, entry bundles, and the
 * hashing a reader of a tiled log needs to check what it fetched (docs/publication.md).
 *
 * A level-L tile holds consecutive tree hashes at tree level 8L: tile N of width W holds the
 * nodes (8L, 256N) … (8L, 256N + W − 1).  A full tile (W = 256) is the bottom row of the
 * complete subtree (8L + 8, N), whose hash is hash N mod 256 of level-(L+1) tile N / 256.  A
 * tree of size s has, at each level L with s >> 8L > 0, (s >> 8L) >> 8 full tiles and one
 * partial tile of width (s >> 8L) & 255 when that is not 0.
 *
 * Pure functions on caller-owned memory: reentrant, any thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "verify/hash.h"

struct err_detail;

#define TILE_HEIGHT 8
#define TILE_WIDTH 256
#define TILE_LEVEL_MAX 63	    /* the largest level a path may name */
#define TILE_ENTRIES (-1)	    /* struct tile.level of an entry bundle */
#define TILE_PATH_MAX 64	    /* any path below, with its NUL */
#define TILE_BUNDLE_ENTRY_MAX 65535 /* an entry's length is a big-endian uint16 */

struct tile {
	int level;	/* 0..TILE_LEVEL_MAX, or TILE_ENTRIES */
	uint64_t index; /* N */
	unsigned width; /* 1..TILE_WIDTH; TILE_WIDTH is a full tile */
};

/** Write @t's path relative to the log's prefix ("tile/0/x001/x234/067",
 * "tile/entries/000.p/17") to @buf, NUL-terminated.  @return its length, or -EINVAL when @t is
 * out of range (level, width 0 or over TILE_WIDTH). */
int tile_path(const struct tile *t, char buf[TILE_PATH_MAX]);

/** Parse a path as tile_path() writes it, and nothing else: "tile/", a level without leading
 * zeros (0..63) or "entries", "/", N as 3-digit elements all but the last prefixed by "x" with
 * no leading all-zero element, N < 2^64, then optionally ".p/W" with W in 1..255 without
 * leading zeros.  @len bytes at @path (no NUL needed; an embedded NUL is rejected).
 * @return 0 or -EINVAL saying what is wrong. */
int tile_parse(const char *path, size_t len, struct tile *ret, struct err_detail *reterr);

/** The levels that have tiles in a tree of @size leaves: those L with size >> 8L > 0 (0 for
 * the empty tree, at most 8). */
unsigned tiles_levels(uint64_t size);

/** Full tiles at @level in a tree of @size leaves, and the width of its partial tile (0: none). */
static inline uint64_t tiles_full(uint64_t size, unsigned level)
{
	return level >= 8 ? 0 : (size >> (TILE_HEIGHT * level)) / TILE_WIDTH;
}
static inline unsigned tiles_partial(uint64_t size, unsigned level)
{
	return level >= 8 ? 0 : (unsigned)((size >> (TILE_HEIGHT * level)) % TILE_WIDTH);
}

/** RFC 6962 MTH over @width (1..TILE_WIDTH) hashes taken as the roots of equal, adjacent
 * subtrees.  For a full level-L tile N this is the node (8L + 8, N), its entry in the tile
 * above; for a partial tile, the hash of its (incomplete) part of the tree.  @return 0,
 * -EINVAL (@width), -EIO / -ENOMEM (libcrypto). */
int tiles_hash(const uint8_t hashes[][VFY_HASH_LEN], unsigned width, uint8_t ret[VFY_HASH_LEN]);

/** Fold @ntiles consecutive full tiles of one level (ntiles · 256 hashes at @hashes) into
 * their @ntiles hashes at @ret: the next level's entries.  @ret may be @hashes (the results
 * are written in order, each after the tile it folds is read).  A monitor folds every full
 * tile it fetched and compares the result with the level above.  @return as tiles_hash(). */
int tiles_fold(const uint8_t (*hashes)[VFY_HASH_LEN], size_t ntiles, uint8_t (*ret)[VFY_HASH_LEN]);

/** The root of the tree of @size leaves from its partial tiles: @partial[L], for L below
 * tiles_levels(@size), holds the tiles_partial(@size, L) hashes of the level-L partial tile
 * (ignored, may be NULL, when that width is 0).  The full tiles do not enter: their hashes
 * are in the partial tiles above them, so a reader that checked every full tile with
 * tiles_fold() and then the root here has checked every tile against the checkpoint.
 * SHA-256("") for size 0.  @return 0, -EIO / -ENOMEM. */
int tiles_root(uint64_t size, const uint8_t (*const partial[])[VFY_HASH_LEN],
	       uint8_t ret[VFY_HASH_LEN]);

/** Append one entry to a bundle being built in @buf (@cap bytes; *@pos bytes used): a
 * big-endian uint16 length, then the bytes.  @return 0, -E2BIG (over TILE_BUNDLE_ENTRY_MAX),
 * -ENOSPC (@buf is full; *@pos unchanged). */
int tiles_bundle_put(uint8_t *buf, size_t cap, size_t *pos, const void *entry, size_t len);

/** Split the bundle at @data (@len bytes) into its entries: @ret[i] points into @data.  At
 * most @max entries; the count to *@ret_n.  @return 0, or -EBADMSG (a length runs past the
 * end, or more than @max entries) saying where. */
int tiles_bundle_parse(const uint8_t *data, size_t len, struct iovec *ret, size_t max,
		       size_t *ret_n, struct err_detail *reterr);

/** Check a bundle against its level-0 tile: exactly @width entries, each one's RFC 6962 leaf
 * hash equal to @tile's hash at its position.  @return 0, -EBADMSG naming the first entry that
 * differs (reterr->line is its position + 1), -EIO / -ENOMEM. */
int tiles_bundle_check(const uint8_t *data, size_t len, const uint8_t tile[][VFY_HASH_LEN],
		       unsigned width, struct err_detail *reterr);

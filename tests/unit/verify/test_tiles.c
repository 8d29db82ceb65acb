/* test_tiles.c: verify/tiles.c.  Paths against the C2SP tlog-tiles text's own examples and
 * hand-written forms; the parser's rejections; tile hashes, folds and roots against
 * verify/merkle.c over an in-memory tree (merkle.c is itself checked against other
 * implementations in test_merkle.c); entry bundles. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "verify/hash.h"
#include "verify/merkle.h"
#include "verify/tiles.h"

/* ---- paths ---- */

static void check_path(int level, uint64_t index, unsigned width, const char *want)
{
	struct tile t = { level, index, width }, back;
	char buf[TILE_PATH_MAX];
	struct err_detail e;
	int len = tile_path(&t, buf);

	assert_int_equal(len, (int)strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(tile_parse(buf, (size_t)len, &back, &e), 0);
	assert_int_equal(back.level, level);
	assert_true(back.index == index);
	assert_int_equal(back.width, width);
}

static void test_paths(void **state)
{
	(void)state;
	/* The spec's example, and its size-70,000 tree's partial tiles. */
	check_path(0, 1234067, 256, "tile/0/x001/x234/067");
	check_path(0, 273, 112, "tile/0/273.p/112");
	check_path(1, 1, 17, "tile/1/001.p/17");
	check_path(2, 0, 1, "tile/2/000.p/1");
	check_path(0, 0, 256, "tile/0/000");
	check_path(0, 999, 256, "tile/0/999");
	check_path(0, 1000, 256, "tile/0/x001/000");
	check_path(0, 1000000, 255, "tile/0/x001/x000/000.p/255");
	check_path(63, 7, 256, "tile/63/007");
	check_path(TILE_ENTRIES, 1234067, 256, "tile/entries/x001/x234/067");
	check_path(TILE_ENTRIES, 0, 1, "tile/entries/000.p/1");
	check_path(7, UINT64_MAX, 255, "tile/7/x018/x446/x744/x073/x709/x551/615.p/255");

	char buf[TILE_PATH_MAX];
	struct tile bad[] = { { 0, 0, 0 }, { 0, 0, 257 }, { 64, 0, 1 }, { -2, 0, 1 } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tile_path(&bad[i], buf), -EINVAL);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"tile",
		"tile/",
		"tiles/0/000",
		"/tile/0/000",
		"tile/0/000/",
		"tile//000",
		"tile/00/000", /* leading zero in the level */
		"tile/01/000",
		"tile/64/000", /* level over 63 */
		"tile/-1/000",
		"tile/+1/000",
		"tile/1000/000",
		"tile/a/000",
		"tile/0",
		"tile/0/",
		"tile/0/0", /* not 3 digits */
		"tile/0/00",
		"tile/0/0000",
		"tile/0/1234",
		"tile/0/x1/000",
		"tile/0/x0001/000",
		"tile/0/x000/001", /* a leading all-zero element: not the canonical form */
		"tile/0/x000/x001/000",
		"tile/0/x001", /* the last element has no x */
		"tile/0/x001/",
		"tile/0/001/002", /* an inner element without x */
		"tile/0/x001x002",
		"tile/0/X001/000",
		"tile/0/x001//000",
		"tile/0/x018/x446/x744/x073/x709/x551/616", /* 2^64 */
		"tile/0/x001/x000/x000/x000/x000/x000/x000/000",
		"tile/0/000.p",
		"tile/0/000.p/",
		"tile/0/000.p/0", /* width 0 */
		"tile/0/000.p/00",
		"tile/0/000.p/017", /* leading zero in the width */
		"tile/0/000.p/256", /* a full tile has no .p */
		"tile/0/000.p/999",
		"tile/0/000.p/1000",
		"tile/0/000.p/1/",
		"tile/0/000.p/1x",
		"tile/0/000.q/1",
		"tile/0/000p/1",
		"tile/0/000.p/+1",
		"tile/0/000 ",
		"tile/entries",
		"tile/entries/",
		"tile/entries/00",
		"tile/entrie/000",
		"tile/Entries/000",
		"tile/entries/000.p/0",
		"tile/data/000",
	};
	struct err_detail e;
	struct tile t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tile_parse(bad[i], strlen(bad[i]), &t, &e) != -EINVAL)
			fail_msg("tile_parse accepted '%s'", bad[i]);
	}
	/* An embedded NUL: the bytes after it must not be ignored. */
	assert_int_equal(tile_parse("tile/0/000\0", 11, &t, &e), -EINVAL);
	assert_int_equal(tile_parse("tile/0/000", 9, &t, &e), -EINVAL);
	/* The largest index is fine. */
	assert_int_equal(tile_parse("tile/0/x018/x446/x744/x073/x709/x551/615", 40, &t, &e), 0);
	assert_true(t.index == UINT64_MAX);
}

static void test_counts(void **state)
{
	(void)state;
	/* The spec: 70,000 is 273 full level-0 tiles and one of width 112, one full level-1
	 * tile and one of width 17, one level-2 tile of width 1; 256 is one full level-0 tile
	 * and a level-1 tile of width 1. */
	assert_int_equal(tiles_levels(70000), 3);
	assert_true(tiles_full(70000, 0) == 273);
	assert_int_equal(tiles_partial(70000, 0), 112);
	assert_true(tiles_full(70000, 1) == 1);
	assert_int_equal(tiles_partial(70000, 1), 17);
	assert_true(tiles_full(70000, 2) == 0);
	assert_int_equal(tiles_partial(70000, 2), 1);
	assert_int_equal(tiles_levels(256), 2);
	assert_true(tiles_full(256, 0) == 1);
	assert_int_equal(tiles_partial(256, 0), 0);
	assert_int_equal(tiles_partial(256, 1), 1);
	assert_int_equal(tiles_levels(0), 0);
	assert_int_equal(tiles_levels(1), 1);
	assert_int_equal(tiles_levels(255), 1);
	assert_int_equal(tiles_levels(UINT64_MAX), 8);
	assert_int_equal(tiles_partial(UINT64_MAX, 7), 255);
	assert_true(tiles_full(UINT64_MAX, 8) == 0);
}

/* ---- hashes, against merkle.c over an in-memory tree ---- */

struct store {
	uint8_t (*h)[VFY_HASH_LEN];
	uint64_t size;
};

static int store_get(void *ctx, unsigned level, uint64_t index, uint8_t ret[VFY_HASH_LEN],
		     struct err_detail *reterr)
{
	struct store *s = ctx;

	(void)reterr;
	memcpy(ret, s->h[merkle_stored_index(level, index)], VFY_HASH_LEN);
	return 0;
}

static struct store *store_build(uint64_t size)
{
	struct store *s = calloc(1, sizeof(*s));
	struct merkle_frontier f = { 0 };
	uint8_t leaf[VFY_HASH_LEN], added[64][VFY_HASH_LEN];
	uint64_t at = 0;
	unsigned n;

	s->h = malloc(merkle_stored_count(size) * VFY_HASH_LEN);
	for (uint64_t i = 0; i < size; i++) {
		char e[32];

		snprintf(e, sizeof(e), "{\"i\":%llu}", (unsigned long long)i);
		assert_int_equal(vfy_leaf_hash(e, strlen(e), leaf), 0);
		assert_int_equal(merkle_frontier_append(&f, leaf, added, &n), 0);
		memcpy(s->h[at], added, (size_t)n * VFY_HASH_LEN);
		at += n;
	}
	s->size = size;
	return s;
}

static void store_free(struct store *s)
{
	free(s->h);
	free(s);
}

/* The hashes of tile (@level, @index) of width @w, read from @s. */
static void tile_read(struct store *s, unsigned level, uint64_t index, unsigned w,
		      uint8_t (*ret)[VFY_HASH_LEN])
{
	for (unsigned i = 0; i < w; i++)
		store_get(s, level * 8, index * 256 + i, ret[i], NULL);
}

static void test_hashes(void **state)
{
	static const uint64_t sizes[] = {
		1,   2,	   3,	  255,	 256,	257,   511,
		512, 1000, 65535, 65536, 65537, 70000, 131072 + 256 * 3 + 5
	};
	struct store *s = store_build(140000);
	uint8_t(*tile)[VFY_HASH_LEN] = malloc(2 * 256 * VFY_HASH_LEN);
	uint8_t want[VFY_HASH_LEN], got[VFY_HASH_LEN];
	struct err_detail e;

	(void)state;
	/* A partial tile's hash is the hash of its part of the tree. */
	for (unsigned w = 1; w <= 256; w++) {
		tile_read(s, 0, 3, w, tile);
		assert_int_equal(tiles_hash((const uint8_t(*)[VFY_HASH_LEN])tile, w, got), 0);
		assert_int_equal(merkle_range_hash(768, 768 + w, store_get, s, want, &e), 0);
		assert_memory_equal(got, want, VFY_HASH_LEN);
	}
	tile_read(s, 1, 0, 200, tile);
	assert_int_equal(tiles_hash((const uint8_t(*)[VFY_HASH_LEN])tile, 200, got), 0);
	assert_int_equal(merkle_range_hash(0, 200 * 256, store_get, s, want, &e), 0);
	assert_memory_equal(got, want, VFY_HASH_LEN);
	assert_int_equal(tiles_hash((const uint8_t(*)[VFY_HASH_LEN])tile, 0, got), -EINVAL);
	assert_int_equal(tiles_hash((const uint8_t(*)[VFY_HASH_LEN])tile, 257, got), -EINVAL);

	/* Two full level-0 tiles fold into the level-8 nodes, i.e. entries of level-1 tile 0;
	 * in place too. */
	tile_read(s, 0, 4, 256, tile);
	tile_read(s, 0, 5, 256, tile + 256);
	assert_int_equal(tiles_fold((const uint8_t(*)[VFY_HASH_LEN])tile, 2, tile), 0);
	store_get(s, 8, 4, want, NULL);
	assert_memory_equal(tile[0], want, VFY_HASH_LEN);
	store_get(s, 8, 5, want, NULL);
	assert_memory_equal(tile[1], want, VFY_HASH_LEN);

	/* The root from the partial tiles alone. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t size = sizes[i];
		uint8_t part[8][256][VFY_HASH_LEN];
		const uint8_t(*parts[8])[VFY_HASH_LEN] = { 0 };

		for (unsigned l = 0; l < tiles_levels(size); l++) {
			unsigned w = tiles_partial(size, l);

			if (w) {
				tile_read(s, l, tiles_full(size, l), w, part[l]);
				parts[l] = (const uint8_t(*)[VFY_HASH_LEN])part[l];
			}
		}
		assert_int_equal(tiles_root(size, parts, got), 0);
		assert_int_equal(merkle_root(size, store_get, s, want, &e), 0);
		if (memcmp(got, want, VFY_HASH_LEN) != 0)
			fail_msg("tiles_root differs from merkle_root at size %llu",
				 (unsigned long long)size);
	}
	assert_int_equal(tiles_root(0, NULL, got), 0);
	assert_int_equal(vfy_sha256("", 0, want), 0);
	assert_memory_equal(got, want, VFY_HASH_LEN);
	free(tile);
	store_free(s);
}

/* ---- entry bundles ---- */

static void test_bundles(void **state)
{
	static uint8_t big[70000];
	uint8_t buf[200000];
	uint8_t leaves[3][VFY_HASH_LEN];
	struct iovec e[4];
	struct err_detail err;
	size_t pos = 0, n;

	(void)state;
	memset(big, 'b', sizeof(big));
	assert_int_equal(tiles_bundle_put(buf, sizeof(buf), &pos, "{}", 2), 0);
	assert_int_equal(tiles_bundle_put(buf, sizeof(buf), &pos, "", 0), 0);
	assert_int_equal(tiles_bundle_put(buf, sizeof(buf), &pos, big, 65535), 0);
	assert_int_equal(pos, 2 + 2 + 2 + 0 + 2 + 65535);
	assert_memory_equal(buf, "\x00\x02{}\x00\x00\xff\xff", 8);
	assert_int_equal(tiles_bundle_put(buf, sizeof(buf), &pos, big, 65536), -E2BIG);
	assert_int_equal(tiles_bundle_put(buf, pos + 3, &pos, "abc", 2), -ENOSPC);
	assert_int_equal(pos, 65543);

	assert_int_equal(tiles_bundle_parse(buf, pos, e, 4, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].iov_len, 2);
	assert_memory_equal(e[0].iov_base, "{}", 2);
	assert_int_equal(e[1].iov_len, 0);
	assert_int_equal(e[2].iov_len, 65535);
	assert_int_equal(tiles_bundle_parse(buf, 0, e, 4, &n, &err), 0);
	assert_int_equal(n, 0);
	/* Cut in a length, cut in an entry, one entry too many. */
	assert_int_equal(tiles_bundle_parse(buf, 5, e, 4, &n, &err), -EBADMSG);
	assert_int_equal(tiles_bundle_parse(buf, 3, e, 4, &n, &err), -EBADMSG);
	assert_int_equal(tiles_bundle_parse(buf, pos - 1, e, 4, &n, &err), -EBADMSG);
	assert_int_equal(tiles_bundle_parse(buf, pos, e, 2, &n, &err), -EBADMSG);

	/* Against a level-0 tile. */
	assert_int_equal(vfy_leaf_hash("{}", 2, leaves[0]), 0);
	assert_int_equal(vfy_leaf_hash("", 0, leaves[1]), 0);
	assert_int_equal(vfy_leaf_hash(big, 65535, leaves[2]), 0);
	assert_int_equal(
	    tiles_bundle_check(buf, pos, (const uint8_t(*)[VFY_HASH_LEN])leaves, 3, &err), 0);
	assert_int_equal(
	    tiles_bundle_check(buf, pos, (const uint8_t(*)[VFY_HASH_LEN])leaves, 2, &err),
	    -EBADMSG);
	buf[pos - 1] ^= 1;
	assert_int_equal(
	    tiles_bundle_check(buf, pos, (const uint8_t(*)[VFY_HASH_LEN])leaves, 3, &err),
	    -EBADMSG);
	assert_int_equal(err.line, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),	cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_counts),	cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_bundles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

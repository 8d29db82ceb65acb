/* libFuzzer target: C2SP tlog-tiles paths and entry bundles (verify/tiles.c), the bytes a
 * monitor fetches from a published folder.
 *
 * Each input goes to tile_parse() and to tiles_bundle_parse().  Checked beyond the
 * sanitizers:
 * - every failure fills reterr with the code returned;
 * - the parser takes only the canonical form: a path it accepts is exactly what tile_path()
 *   writes for the tile it returns;
 * - a bundle that parses encodes back (tiles_bundle_put()) to the same bytes, and
 *   tiles_bundle_check() against the leaf hashes of its own entries accepts it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "base/err.h"
#include "verify/hash.h"
#include "verify/tiles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t leaves[TILE_WIDTH][VFY_HASH_LEN];
	struct iovec e[TILE_WIDTH];
	struct err_detail err;
	struct tile t;
	char path[TILE_PATH_MAX];
	size_t n, pos = 0;
	uint8_t *back;
	int r;

	err.code = 0;
	r = tile_parse((const char *)data, size, &t, &err);
	if (r < 0) {
		if (err.code != r)
			abort();
	} else {
		r = tile_path(&t, path);
		if (r < 0 || (size_t)r != size || memcmp(path, data, size) != 0)
			abort();
	}

	err.code = 0;
	r = tiles_bundle_parse(data, size, e, TILE_WIDTH, &n, &err);
	if (r < 0) {
		if (err.code != r || r != -EBADMSG)
			abort();
		return 0;
	}
	if (n > TILE_WIDTH)
		abort();
	back = malloc(size ? size : 1);
	if (!back)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (tiles_bundle_put(back, size, &pos, e[i].iov_base, e[i].iov_len) < 0)
			abort();
		if (vfy_leaf_hash(e[i].iov_base, e[i].iov_len, leaves[i]) < 0)
			abort();
	}
	if (pos != size || memcmp(back, data, size) != 0)
		abort();
	free(back);
	if (n > 0 && tiles_bundle_check(data, size, (const uint8_t(*)[VFY_HASH_LEN])leaves,
					(unsigned)n, &err) != 0)
		abort();
	return 0;
}

/* monitor.c: custody-verify monitor's reading and checking of a published log (monitor.h,
 * docs/publication.md).
 *
 * DESIGN
 * The levels above 0 are loaded whole (a 10-million-entry log has 39,063 of those hashes);
 * level 0, which holds one hash per entry, is streamed a tile at a time: each full tile is
 * folded and compared with its hash in level 1 as soon as it is read, and only the two level-0
 * tiles a later computation needs are kept: the partial tile (for the root) and the tile in
 * which the saved checkpoint's tree ends (for its root, the split-view check).  So memory is
 * size / 256 hashes however large the log.
 *
 * Every level is read before it is trusted only through the level above it, and the top
 * level's partial tiles through the checkpoint's signed root: a tile whose bytes differ from
 * the tree the log signed fails wherever it is. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/cleanup.h"
#include "base/err.h"
#include "base/file.h"
#include "base/i18n.h"
#include "verify/custody-verify/monitor.h"
#include "verify/merkle.h"
#include "verify/note.h"
#include "verify/tiles.h"

#define TILE_BYTES (TILE_WIDTH * VFY_HASH_LEN)
#define BUNDLE_MAX (TILE_WIDTH * (2 + TILE_BUNDLE_ENTRY_MAX))
#define URL_MAX 4096

struct mon_source {
	int dirfd; /* -1 for a URL */
	CURL *curl;
	char base[URL_MAX];
	/* the transfer in progress */
	char *buf;
	size_t len, max;
	bool over;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct mon_source *s = opaque;
	size_t n = size * nmemb;
	char *grown;

	if (n > s->max - s->len) {
		s->over = true;
		return 0;
	}
	grown = realloc(s->buf, s->len + n + 1);
	if (!grown)
		return 0;
	s->buf = grown;
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

int mon_open(const char *where, struct mon_source **ret, struct err_detail *reterr)
{
	struct mon_source *s = calloc(1, sizeof(*s));

	if (!s)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	s->dirfd = -1;
	if (strncmp(where, "http://", 7) == 0 || strncmp(where, "https://", 8) == 0) {
		size_t n = strlen(where);

		while (n && where[n - 1] == '/')
			n--;
		if (n >= sizeof(s->base) - TILE_PATH_MAX) {
			free(s);
			return err_set(reterr, -EINVAL, _("the URL is too long"));
		}
		memcpy(s->base, where, n);
		s->base[n] = '\0';
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		    !(s->curl = curl_easy_init())) {
			free(s);
			return err_set(reterr, -ENOMEM, _("cannot start libcurl"));
		}
		curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(s->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(s->curl, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 30L);
		curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(s->curl, CURLOPT_LOW_SPEED_TIME, 60L);
		curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "custody-verify monitor");
		curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
		*ret = s;
		return 0;
	}
	s->dirfd = open(where, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		int r = -errno;

		free(s);
		return err_set(reterr, r, _("cannot open the folder '%s': %s"), where,
			       strerrordesc_np(-r));
	}
	*ret = s;
	return 0;
}

int mon_get(struct mon_source *s, const char *path, size_t max, char **ret, size_t *ret_len,
	    struct err_detail *reterr)
{
	char url[URL_MAX + TILE_PATH_MAX + 2];
	long code = 0;
	CURLcode rc;

	if (s->dirfd >= 0)
		return file_read_at(s->dirfd, path, O_NONBLOCK, max, ret, ret_len, reterr);
	snprintf(url, sizeof(url), "%s/%s", s->base, path);
	s->buf = NULL;
	s->len = 0;
	s->max = max;
	s->over = false;
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	rc = curl_easy_perform(s->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && code == 200) {
		if (!s->buf && !(s->buf = calloc(1, 1)))
			return err_set(reterr, -ENOMEM, _("out of memory"));
		*ret = s->buf;
		*ret_len = s->len;
		return 0;
	}
	free(s->buf);
	s->buf = NULL;
	if (s->over)
		return err_set(reterr, -EFBIG, _("%s: more than %zu bytes"), url, max);
	if (rc != CURLE_OK)
		return err_set(reterr, rc == CURLE_WRITE_ERROR ? -ENOMEM : -EIO, "%s: %s", url,
			       curl_easy_strerror(rc));
	if (code == 404)
		return err_set(reterr, -ENOENT, _("%s: not found (HTTP 404)"), url);
	return err_set(reterr, -EIO, "%s: HTTP %ld", url, code);
}

void mon_close(struct mon_source *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->curl) {
		curl_easy_cleanup(s->curl);
		curl_global_cleanup();
	}
	free(s);
}

/* ---- the check ----------------------------------------------------------------------------- */

struct tree {
	uint64_t size;
	unsigned levels;
	uint8_t (*level[8])[VFY_HASH_LEN]; /* [1..levels-1]: every hash; [0] unused */
	uint64_t count[8];		   /* hashes at each level: size >> 8L */
	/* The level-0 tiles kept (see the design note): index, and their hashes. */
	uint64_t kept_index[2];
	unsigned kept_width[2];
	uint8_t kept[2][TILE_WIDTH][VFY_HASH_LEN];
};

/* Read tile (@level, @index) of width @width into @out, exactly width · 32 bytes. */
static int tile_read(struct mon_source *s, unsigned level, uint64_t index, unsigned width,
		     uint8_t (*out)[VFY_HASH_LEN], struct mon_result *res, struct err_detail *e)
{
	struct tile t = { .level = (int)level, .index = index, .width = width };
	char path[TILE_PATH_MAX];
	auto_free char *data = NULL;
	size_t len;
	int r;

	tile_path(&t, path);
	r = mon_get(s, path, TILE_BYTES, &data, &len, e);
	if (r < 0) {
		res->failed = "tiles";
		if (r == -ENOENT)
			err_set(e, r, _("the tile %s is missing: the publication is incomplete"),
				path);
		return r;
	}
	res->tiles++;
	if (len != (size_t)width * VFY_HASH_LEN) {
		res->failed = "tiles";
		return err_set(e, -EPROTO, _("the tile %s has %zu bytes, not %u (%u hashes)"), path,
			       len, width * VFY_HASH_LEN, width);
	}
	memcpy(out, data, len);
	return 0;
}

/* The folded hash of full tile @index at @level must be entry @index of the level above. */
static int fold_check(struct tree *tr, unsigned level, uint64_t index,
		      const uint8_t (*hashes)[VFY_HASH_LEN], struct mon_result *res,
		      struct err_detail *e)
{
	uint8_t h[1][VFY_HASH_LEN];
	struct tile t = { .level = (int)level, .index = index, .width = TILE_WIDTH };
	char path[TILE_PATH_MAX];
	int r = tiles_fold(hashes, 1, h);

	if (r < 0)
		return err_set(e, r, _("cannot hash a tile (libcrypto)"));
	if (memcmp(h[0], tr->level[level + 1][index], VFY_HASH_LEN) != 0) {
		tile_path(&t, path);
		res->failed = "tiles";
		return err_set(e, -EPROTO,
			       _("the tile %s does not hash to its entry in the level-%u tile "
				 "above: the published tiles are not one tree"),
			       path, level + 1);
	}
	return 0;
}

/* merkle_get_fn over what the pass loaded: node (@lvl, @k) from the hashes of tile level
 * lvl / 8, folding 2^(lvl % 8) of them. */
static int tree_get(void *ctx, unsigned lvl, uint64_t k, uint8_t ret[VFY_HASH_LEN],
		    struct err_detail *e)
{
	struct tree *tr = ctx;
	unsigned L = lvl / TILE_HEIGHT, sub = lvl % TILE_HEIGHT;
	uint64_t first = k << sub, n = UINT64_C(1) << sub;
	const uint8_t(*src)[VFY_HASH_LEN] = NULL;

	if (L >= tr->levels || first + n > tr->count[L])
		return err_set(e, -ERANGE, _("node (%u, %" PRIu64 ") is outside the tree"), lvl, k);
	if (L > 0) {
		src = &tr->level[L][first];
	} else {
		for (int i = 0; i < 2 && !src; i++)
			if (tr->kept_width[i] && first / TILE_WIDTH == tr->kept_index[i] &&
			    (first % TILE_WIDTH) + n <= tr->kept_width[i])
				src = &tr->kept[i][first % TILE_WIDTH];
		if (!src)
			return err_set(e, -ERANGE, _("node (%u, %" PRIu64 ") was not kept"), lvl,
				       k);
	}
	if (n == 1) {
		memcpy(ret, src[0], VFY_HASH_LEN);
		return 0;
	}
	return tiles_hash(src, (unsigned)n, ret);
}

static void tree_free(struct tree *tr)
{
	for (unsigned L = 1; L < 8; L++)
		free(tr->level[L]);
}

static int load_upper(struct mon_source *s, struct tree *tr, struct mon_result *res,
		      struct err_detail *e)
{
	for (unsigned L = tr->levels; L-- > 1;) {
		uint64_t full = tiles_full(tr->size, L);
		unsigned part = tiles_partial(tr->size, L);
		int r;

		tr->level[L] = malloc((size_t)tr->count[L] * VFY_HASH_LEN);
		if (!tr->level[L])
			return err_set(e, -ENOMEM, _("out of memory for %" PRIu64 " hashes"),
				       tr->count[L]);
		for (uint64_t n = 0; n < full; n++) {
			r = tile_read(s, L, n, TILE_WIDTH, &tr->level[L][n * TILE_WIDTH], res, e);
			if (r < 0)
				return r;
			if (L + 1 < tr->levels) {
				r = fold_check(tr, L, n,
					       (const uint8_t(*)[VFY_HASH_LEN]) &
						   tr->level[L][n * TILE_WIDTH],
					       res, e);
				if (r < 0)
					return r;
			}
		}
		if (part) {
			r = tile_read(s, L, full, part, &tr->level[L][full * TILE_WIDTH], res, e);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int bundle_check(struct mon_source *s, uint64_t index, unsigned width,
			const uint8_t (*tile)[VFY_HASH_LEN], struct mon_result *res,
			struct err_detail *e)
{
	struct tile t = { .level = TILE_ENTRIES, .index = index, .width = width };
	char path[TILE_PATH_MAX];
	auto_free char *data = NULL;
	size_t len;
	int r;

	tile_path(&t, path);
	r = mon_get(s, path, BUNDLE_MAX, &data, &len, e);
	if (r < 0) {
		res->failed = "entries";
		if (r == -ENOENT)
			err_set(e, r,
				_("the entry bundle %s is missing (was the log published with "
				  "entries?)"),
				path);
		return r;
	}
	res->bundles++;
	r = tiles_bundle_check((const uint8_t *)data, len, tile, width, e);
	if (r < 0) {
		res->failed = "entries";
		err_prefix(e, "the entry bundle %s", path);
		return r == -EBADMSG ? -EPROTO : r;
	}
	return 0;
}

/* Level 0, streamed: each full tile folded against level 1 (or, in a tree of one level,
 * nothing above it), its bundle checked, and the tiles needed later kept. */
static int stream_level0(struct mon_source *s, struct tree *tr, uint64_t keep, bool entries,
			 struct mon_result *res, struct err_detail *e)
{
	uint64_t full = tiles_full(tr->size, 0);
	unsigned part = tiles_partial(tr->size, 0);
	uint8_t(*buf)[VFY_HASH_LEN] = malloc(TILE_BYTES);
	int r = 0;

	if (!buf)
		return err_set(e, -ENOMEM, _("out of memory"));
	for (uint64_t n = 0; n <= full && r == 0; n++) {
		unsigned width = n < full ? TILE_WIDTH : part;

		if (width == 0)
			break;
		r = tile_read(s, 0, n, width, buf, res, e);
		if (r == 0 && width == TILE_WIDTH && tr->levels > 1)
			r = fold_check(tr, 0, n, (const uint8_t(*)[VFY_HASH_LEN])buf, res, e);
		if (r == 0 && entries)
			r = bundle_check(s, n, width, (const uint8_t(*)[VFY_HASH_LEN])buf, res, e);
		if (r == 0 && width < TILE_WIDTH) {
			tr->kept_index[0] = n;
			tr->kept_width[0] = width;
			memcpy(tr->kept[0], buf, (size_t)width * VFY_HASH_LEN);
		}
		if (r == 0 && n == keep) {
			tr->kept_index[1] = n;
			tr->kept_width[1] = width;
			memcpy(tr->kept[1], buf, (size_t)width * VFY_HASH_LEN);
		}
	}
	free(buf);
	return r;
}

int mon_check(struct mon_source *s, const struct vfy_checkpoint *cp,
	      const struct vfy_checkpoint *old, bool entries, struct mon_result *ret,
	      struct err_detail *reterr)
{
	struct tree *tr = calloc(1, sizeof(*tr));
	const uint8_t(*partial[8])[VFY_HASH_LEN] = { 0 };
	uint8_t root[VFY_HASH_LEN];
	int r;

	*ret = (struct mon_result){ 0 };
	if (!tr)
		return err_set(reterr, -ENOMEM, _("out of memory"));
	tr->size = cp->size;
	tr->levels = tiles_levels(cp->size);
	for (unsigned L = 0; L < tr->levels; L++)
		tr->count[L] = cp->size >> (TILE_HEIGHT * L);
	if (old && old->size > cp->size) {
		ret->failed = "consistency";
		r = err_set(reterr, -EPROTO,
			    _("the published checkpoint has size %" PRIu64 ", smaller than the "
			      "%" PRIu64 " of the checkpoint saved by the last run: the log was "
			      "rolled back or another history is served"),
			    cp->size, old->size);
		goto out;
	}
	r = load_upper(s, tr, ret, reterr);
	if (r == 0)
		r = stream_level0(
		    s, tr, old && old->size % TILE_WIDTH ? old->size / TILE_WIDTH : UINT64_MAX,
		    entries, ret, reterr);
	if (r < 0)
		goto out;

	/* The full tiles are checked against the level above; the partial tiles, which hold
	 * the rest of the tree, against the signed root. */
	for (unsigned L = 0; L < tr->levels; L++)
		if (tiles_partial(cp->size, L))
			partial[L] = L ? (const uint8_t(*)[VFY_HASH_LEN]) &
					     tr->level[L][tiles_full(cp->size, L) * TILE_WIDTH]
				       : (const uint8_t(*)[VFY_HASH_LEN])tr->kept[0];
	r = tiles_root(cp->size, partial, root);
	if (r < 0) {
		err_set(reterr, r, _("cannot hash the tree (libcrypto)"));
		goto out;
	}
	if (memcmp(root, cp->root, VFY_HASH_LEN) != 0) {
		ret->failed = "tiles";
		r = err_set(reterr, -EPROTO,
			    _("the published tiles do not make the checkpoint's root: a tile was "
			      "changed, or the checkpoint is not of these tiles"));
		goto out;
	}
	if (old && old->size > 0) {
		r = merkle_root(old->size, tree_get, tr, root, reterr);
		if (r < 0)
			goto out;
		if (memcmp(root, old->root, VFY_HASH_LEN) != 0) {
			ret->failed = "consistency";
			r = err_set(
			    reterr, -EPROTO,
			    "split view: the checkpoint saved by the last run (size %" PRIu64
			    ") has another root than the published tree at that size; two "
			    "histories were signed with the log's key",
			    old->size);
			goto out;
		}
	}
	r = 0;
out:
	tree_free(tr);
	free(tr);
	return r;
}

/* tiles.c: C2SP tlog-tiles paths, entry bundles and tile hashing (docs/publication.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/i18n.h"
#include "verify/tiles.h"

/* N as 3-digit elements: "x001/x234/067".  At most 7 elements for 20 decimal digits. */
static int index_put(char *p, uint64_t n)
{
	unsigned groups[7], k = 0;
	int len = 0;

	do {
		groups[k++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n);
	while (k-- > 1)
		len += sprintf(p + len, "x%03u/", groups[k]);
	len += sprintf(p + len, "%03u", groups[0]);
	return len;
}

int tile_path(const struct tile *t, char buf[TILE_PATH_MAX])
{
	int len;

	if (t->level < TILE_ENTRIES || t->level > TILE_LEVEL_MAX || t->width == 0 ||
	    t->width > TILE_WIDTH)
		return -EINVAL;
	if (t->level == TILE_ENTRIES)
		len = sprintf(buf, "tile/entries/");
	else
		len = sprintf(buf, "tile/%d/", t->level);
	len += index_put(buf + len, t->index);
	if (t->width < TILE_WIDTH)
		len += sprintf(buf + len, ".p/%u", t->width);
	return len;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A decimal number of at most 3 digits without leading zeros, at *@p. */
static int small_number(const char **p, const char *end, unsigned *ret)
{
	const char *s = *p;
	unsigned v = 0;

	while (s < end && is_digit(*s) && s - *p < 4)
		v = v * 10 + (unsigned)(*s++ - '0');
	if (s == *p || s - *p > 3 || (s - *p > 1 && **p == '0'))
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

int tile_parse(const char *path, size_t len, struct tile *ret, struct err_detail *reterr)
{
	const char *p = path, *end = path + len;
	struct tile t = { .width = TILE_WIDTH };
	unsigned v, elements = 0;
	uint64_t n = 0;

	if (memchr(path, '\0', len))
		return err_set(reterr, -EINVAL, _("a tile path holds a NUL byte"));
	if (len < 5 || memcmp(p, "tile/", 5) != 0)
		return err_set(reterr, -EINVAL, _("a tile path starts with 'tile/'"));
	p += 5;
	if ((size_t)(end - p) >= 8 && memcmp(p, "entries/", 8) == 0) {
		t.level = TILE_ENTRIES;
		p += 8;
	} else {
		if (small_number(&p, end, &v) < 0 || v > TILE_LEVEL_MAX)
			return err_set(
			    reterr, -EINVAL,
			    _("a tile level is 0 to 63 without leading zeros, or 'entries'"));
		if (p == end || *p != '/')
			return err_set(reterr, -EINVAL, _("a '/' must follow the tile level"));
		t.level = (int)v;
		p++;
	}
	for (;;) {
		bool last = p == end || *p != 'x';
		unsigned d;

		if (!last)
			p++;
		if (end - p < 3 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]))
			return err_set(
			    reterr, -EINVAL,
			    _("a tile index element is 3 digits, all but the last after 'x'"));
		d = (unsigned)(p[0] - '0') * 100 + (unsigned)(p[1] - '0') * 10 +
		    (unsigned)(p[2] - '0');
		p += 3;
		if (elements == 0 && !last && d == 0)
			return err_set(reterr, -EINVAL,
				       _("a tile index does not start with the element 'x000'"));
		if (__builtin_mul_overflow(n, 1000, &n) || __builtin_add_overflow(n, d, &n))
			return err_set(reterr, -EINVAL, _("a tile index is below 2^64"));
		elements++;
		if (last)
			break;
		if (p == end || *p != '/')
			return err_set(reterr, -EINVAL, _("a '/' must follow an 'x' element"));
		p++;
	}
	t.index = n;
	if (p != end) {
		if (end - p < 3 || memcmp(p, ".p/", 3) != 0)
			return err_set(reterr, -EINVAL,
				       _("only '.p/WIDTH' may follow the last tile index element"));
		p += 3;
		if (small_number(&p, end, &v) < 0 || v == 0 || v >= TILE_WIDTH || p != end)
			return err_set(
			    reterr, -EINVAL,
			    _("a partial tile's width is 1 to 255 without leading zeros, "
			      "and ends the path"));
		t.width = v;
	}
	*ret = t;
	return 0;
}

unsigned tiles_levels(uint64_t size)
{
	unsigned l = 0;

	while (l < 8 && (size >> (TILE_HEIGHT * l)) != 0)
		l++;
	return l;
}

/* The hash of the complete subtree whose 2^k bottom hashes are at @h, folded in place in @tmp
 * (room for 2^(k-1) hashes). */
static int subtree_hash(const uint8_t (*h)[VFY_HASH_LEN], unsigned count,
			uint8_t (*tmp)[VFY_HASH_LEN], uint8_t ret[VFY_HASH_LEN])
{
	const uint8_t(*src)[VFY_HASH_LEN] = h;
	int r;

	if (count == 1) {
		memcpy(ret, h[0], VFY_HASH_LEN);
		return 0;
	}
	while (count > 1) {
		for (unsigned i = 0; i < count / 2; i++) {
			r = vfy_node_hash(src[2 * i], src[2 * i + 1], tmp[i]);
			if (r < 0)
				return r;
		}
		count /= 2;
		src = (const uint8_t(*)[VFY_HASH_LEN])tmp;
	}
	memcpy(ret, tmp[0], VFY_HASH_LEN);
	return 0;
}

/* Append the complete subtrees that make up @width hashes (largest first) to @f. */
static int decompose(const uint8_t (*h)[VFY_HASH_LEN], unsigned width, uint8_t (*f)[VFY_HASH_LEN],
		     unsigned *nf)
{
	uint8_t tmp[TILE_WIDTH / 2][VFY_HASH_LEN];
	unsigned off = 0;
	int r;

	for (int b = 8; b >= 0; b--) {
		unsigned part = 1u << b;

		if (!(width & part))
			continue;
		r = subtree_hash(h + off, part, tmp, f[(*nf)++]);
		if (r < 0)
			return r;
		off += part;
	}
	return 0;
}

/* RFC 6962's MTH of adjacent subtrees is the right fold of its decomposition. */
static int fold_right(uint8_t (*f)[VFY_HASH_LEN], unsigned nf, uint8_t ret[VFY_HASH_LEN])
{
	uint8_t acc[VFY_HASH_LEN];
	int r;

	memcpy(acc, f[nf - 1], VFY_HASH_LEN);
	for (unsigned i = nf - 1; i-- > 0;) {
		r = vfy_node_hash(f[i], acc, acc);
		if (r < 0)
			return r;
	}
	memcpy(ret, acc, VFY_HASH_LEN);
	return 0;
}

int tiles_hash(const uint8_t hashes[][VFY_HASH_LEN], unsigned width, uint8_t ret[VFY_HASH_LEN])
{
	uint8_t f[9][VFY_HASH_LEN];
	unsigned nf = 0;
	int r;

	if (width == 0 || width > TILE_WIDTH)
		return -EINVAL;
	r = decompose(hashes, width, f, &nf);
	return r < 0 ? r : fold_right(f, nf, ret);
}

int tiles_fold(const uint8_t (*hashes)[VFY_HASH_LEN], size_t ntiles, uint8_t (*ret)[VFY_HASH_LEN])
{
	uint8_t tmp[TILE_WIDTH / 2][VFY_HASH_LEN], h[VFY_HASH_LEN];
	int r;

	for (size_t t = 0; t < ntiles; t++) {
		r = subtree_hash(hashes + t * TILE_WIDTH, TILE_WIDTH, tmp, h);
		if (r < 0)
			return r;
		memcpy(ret[t], h, VFY_HASH_LEN);
	}
	return 0;
}

int tiles_root(uint64_t size, const uint8_t (*const partial[])[VFY_HASH_LEN],
	       uint8_t ret[VFY_HASH_LEN])
{
	uint8_t f[64][VFY_HASH_LEN];
	unsigned nf = 0, levels = tiles_levels(size);
	int r;

	if (size == 0)
		return vfy_sha256("", 0, ret);
	/* The tree's complete subtrees, largest first: the top level's partial tile holds the
	 * largest ones. */
	for (unsigned l = levels; l-- > 0;) {
		unsigned w = tiles_partial(size, l);

		if (!w)
			continue;
		r = decompose(partial[l], w, f, &nf);
		if (r < 0)
			return r;
	}
	return fold_right(f, nf, ret);
}

int tiles_bundle_put(uint8_t *buf, size_t cap, size_t *pos, const void *entry, size_t len)
{
	if (len > TILE_BUNDLE_ENTRY_MAX)
		return -E2BIG;
	if (cap < *pos || cap - *pos < 2 + len)
		return -ENOSPC;
	buf[*pos] = (uint8_t)(len >> 8);
	buf[*pos + 1] = (uint8_t)len;
	memcpy(buf + *pos + 2, entry, len);
	*pos += 2 + len;
	return 0;
}

int tiles_bundle_parse(const uint8_t *data, size_t len, struct iovec *ret, size_t max,
		       size_t *ret_n, struct err_detail *reterr)
{
	size_t pos = 0, n = 0;

	while (pos < len) {
		size_t l;

		if (len - pos < 2)
			return err_set(reterr, -EBADMSG,
				       _("entry bundle: a length is cut off at byte %zu"), pos);
		l = (size_t)data[pos] << 8 | data[pos + 1];
		if (len - pos - 2 < l)
			return err_set(reterr, -EBADMSG,
				       _("entry bundle: entry %zu's %zu bytes run past the end"), n,
				       l);
		if (n == max)
			return err_set(reterr, -EBADMSG, _("entry bundle: more than %zu entries"),
				       max);
		ret[n++] = (struct iovec){ (void *)(data + pos + 2), l };
		pos += 2 + l;
	}
	*ret_n = n;
	return 0;
}

int tiles_bundle_check(const uint8_t *data, size_t len, const uint8_t tile[][VFY_HASH_LEN],
		       unsigned width, struct err_detail *reterr)
{
	struct iovec e[TILE_WIDTH];
	uint8_t h[VFY_HASH_LEN];
	size_t n;
	int r;

	if (width == 0 || width > TILE_WIDTH)
		return err_set(reterr, -EINVAL, _("a tile's width is 1 to %d"), TILE_WIDTH);
	r = tiles_bundle_parse(data, len, e, TILE_WIDTH, &n, reterr);
	if (r < 0)
		return r;
	if (n != width)
		return err_set(reterr, -EBADMSG, _("entry bundle: %zu entries, the tile has %u"), n,
			       width);
	for (size_t i = 0; i < n; i++) {
		r = vfy_leaf_hash(e[i].iov_base, e[i].iov_len, h);
		if (r < 0)
			return err_set(reterr, r, _("cannot hash an entry"));
		if (memcmp(h, tile[i], VFY_HASH_LEN) != 0)
			return err_set_line(reterr, -EBADMSG, (unsigned)i + 1,
					    _("entry bundle: entry %zu does not hash to the tile's "
					      "leaf hash"),
					    i);
	}
	return 0;
}

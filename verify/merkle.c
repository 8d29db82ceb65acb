/* merkle.c: RFC 9162 §2.1 tree hashes, proofs and their verification, over stored subtrees.
 *
 * DESIGN.  Storage (verify/tlog.c) keeps the hash of every complete subtree, and a subtree never
 * changes once complete, so any node of any past tree is either one stored hash or, on the
 * right edge of that tree, the fold of the maximal complete subtrees it spans (one per set bit
 * of its leaf count).  The proof generators walk the RFC's recursive definitions top-down,
 * iteratively, and fetch each proof element as such a node.  Only the first time the walk
 * turns left off the right edge is the sibling incomplete; below that every node is complete.
 * So a proof costs its length in fetches plus at most one fold: O(log n), never a pass over
 * leaves, and a proof at a past size reads nothing appended after it.
 *
 * The verifiers are RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, with the proof length
 * checked first so that the error says what is wrong instead of "root mismatch".
 *
 * Everything here is pure computation plus the caller's merkle_get_fn: no state, no locks,
 * callable from any thread (hash.c keeps one EVP_MD_CTX per thread). */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/hex.h"
#include "verify/merkle.h"

/* A tree of n leaves has depth ceil(log2 n) <= 64, so no proof exceeds 65 hashes (see
 * merkle_consistency_proof()); the cap checks below can never fire, they only keep a broken
 * invariant from turning into an overflow. */
_Static_assert(MERKLE_MAX_PROOF >= 65, "MERKLE_MAX_PROOF must hold a proof for 2^64 - 1 leaves");

static unsigned bitlen(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

static unsigned popcount(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* The RFC's k: the largest power of two smaller than @n, for n >= 2. */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (bitlen(n - 1) - 1);
}

static void hex32(const uint8_t h[VFY_HASH_LEN], char out[2 * VFY_HASH_LEN + 1])
{
	hex_encode(h, VFY_HASH_LEN, out);
}

static int hash_failed(int r, struct err_detail *reterr)
{
	return err_set(reterr, r, _("libcrypto failed to compute a node hash"));
}

uint64_t merkle_stored_index(unsigned level, uint64_t index)
{
	/* The last leaf of the subtree is m; leaf m is stored after the 2m - popcount(m) hashes
	 * of the tree of m leaves, and the subtrees it completes follow, lowest level first. */
	uint64_t m = ((index + 1) << level) - 1;

	return 2 * m - popcount(m) + level;
}

uint64_t merkle_stored_count(uint64_t size)
{
	return 2 * size - popcount(size);
}

/* Fold the maximal complete subtrees of [lo, hi) from the right.  The caller has checked that
 * lo is aligned to the largest of them, so each one is a stored (level, index). */
static int range_hash(uint64_t lo, uint64_t hi, merkle_get_fn get, void *ctx,
		      uint8_t ret_hash[VFY_HASH_LEN], struct err_detail *reterr)
{
	uint64_t n = hi - lo;
	uint8_t acc[VFY_HASH_LEN], sub[VFY_HASH_LEN];
	int have = 0, r;

	if (n == 0) {
		r = vfy_sha256("", 0, ret_hash);
		return r < 0 ? hash_failed(r, reterr) : 0;
	}
	/* The lowest set bit is the rightmost subtree; it starts after all higher bits. */
	for (unsigned b = 0; b < 64; b++) {
		uint64_t start;

		if (!(n & (UINT64_C(1) << b)))
			continue;
		start = lo + (b == 63 ? 0 : (n >> (b + 1)) << (b + 1));
		r = get(ctx, b, start >> b, have ? sub : acc, reterr);
		if (r < 0)
			return r;
		if (have) {
			r = vfy_node_hash(sub, acc, acc);
			if (r < 0)
				return hash_failed(r, reterr);
		}
		have = 1;
	}
	memcpy(ret_hash, acc, VFY_HASH_LEN);
	return 0;
}

int merkle_range_hash(uint64_t lo, uint64_t hi, merkle_get_fn get, void *ctx,
		      uint8_t ret_hash[VFY_HASH_LEN], struct err_detail *reterr)
{
	uint64_t top;

	if (hi < lo)
		return err_set(reterr, -EINVAL, _("leaf range [%llu, %llu) is reversed"),
			       (unsigned long long)lo, (unsigned long long)hi);
	/* With lo aligned to the largest power of two <= hi - lo, the RFC's split at k lands on
	 * a stored subtree at every step; otherwise the range is no node of any tree and would
	 * need a fetch per leaf in the worst case. */
	top = hi > lo ? UINT64_C(1) << (bitlen(hi - lo) - 1) : 1;
	if (lo & (top - 1))
		return err_set(reterr, -EINVAL,
			       _("leaf range [%llu, %llu) is not a node of any tree: %llu is not a "
				 "multiple of %llu"),
			       (unsigned long long)lo, (unsigned long long)hi,
			       (unsigned long long)lo, (unsigned long long)top);
	return range_hash(lo, hi, get, ctx, ret_hash, reterr);
}

int merkle_root(uint64_t size, merkle_get_fn get, void *ctx, uint8_t ret_root[VFY_HASH_LEN],
		struct err_detail *reterr)
{
	return range_hash(0, size, get, ctx, ret_root, reterr);
}

int merkle_frontier_load(uint64_t size, merkle_get_fn get, void *ctx, struct merkle_frontier *ret,
			 struct err_detail *reterr)
{
	struct merkle_frontier f = { .size = size };
	uint64_t start = 0;
	int r;

	/* Largest subtree first, so walk the bits of size from the top. */
	for (unsigned b = 64; b-- > 0;) {
		if (!(size & (UINT64_C(1) << b)))
			continue;
		r = get(ctx, b, start >> b, f.hash[f.n], reterr);
		if (r < 0)
			return r;
		f.n++;
		start += UINT64_C(1) << b;
	}
	*ret = f;
	return 0;
}

int merkle_frontier_append(struct merkle_frontier *f, const uint8_t leaf[VFY_HASH_LEN],
			   uint8_t ret_new[64][VFY_HASH_LEN], unsigned *ret_n)
{
	/* The new leaf completes one subtree per trailing one bit of size: it merges with the
	 * equally sized subtrees at the right end of the frontier, smallest first. */
	unsigned t, i;
	int r;

	if (f->size == UINT64_MAX)
		return -EOVERFLOW;
	t = (unsigned)__builtin_ctzll(~f->size);
	memcpy(ret_new[0], leaf, VFY_HASH_LEN);
	for (i = 0; i < t; i++) {
		r = vfy_node_hash(f->hash[f->n - 1 - i], ret_new[i], ret_new[i + 1]);
		if (r < 0)
			return r;
	}
	/* Only now touch @f, so that a libcrypto failure leaves it as it was. */
	f->n -= t;
	memcpy(f->hash[f->n], ret_new[t], VFY_HASH_LEN);
	f->n++;
	f->size++;
	*ret_n = t + 1;
	return 0;
}

int merkle_frontier_root(const struct merkle_frontier *f, uint8_t ret_root[VFY_HASH_LEN])
{
	uint8_t acc[VFY_HASH_LEN];
	int r;

	if (f->n == 0)
		return vfy_sha256("", 0, ret_root);
	memcpy(acc, f->hash[f->n - 1], VFY_HASH_LEN);
	for (unsigned i = f->n - 1; i-- > 0;) {
		r = vfy_node_hash(f->hash[i], acc, acc);
		if (r < 0)
			return r;
	}
	memcpy(ret_root, acc, VFY_HASH_LEN);
	return 0;
}

/* Append the hash of node [lo, hi) to a proof being built root first. */
static int proof_push(uint64_t lo, uint64_t hi, merkle_get_fn get, void *ctx,
		      uint8_t proof[][VFY_HASH_LEN], size_t *n, struct err_detail *reterr)
{
	if (*n >= MERKLE_MAX_PROOF)
		return err_set(reterr, -EINVAL, _("proof would exceed %d hashes"),
			       MERKLE_MAX_PROOF);
	return range_hash(lo, hi, get, ctx, proof[(*n)++], reterr);
}

/* The walks below find the siblings from the root down; RFC 9162 lists them leaf first. */
static void proof_reverse(uint8_t proof[][VFY_HASH_LEN], size_t n)
{
	uint8_t tmp[VFY_HASH_LEN];

	for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
		memcpy(tmp, proof[i], VFY_HASH_LEN);
		memcpy(proof[i], proof[j - 1], VFY_HASH_LEN);
		memcpy(proof[j - 1], tmp, VFY_HASH_LEN);
	}
}

int merkle_inclusion_proof(uint64_t index, uint64_t size, merkle_get_fn get, void *ctx,
			   uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n,
			   struct err_detail *reterr)
{
	uint64_t lo = 0, hi = size;
	size_t n = 0;
	int r;

	if (index >= size)
		return err_set(reterr, -EINVAL,
			       _("leaf index %llu is outside a tree of %llu leaves"),
			       (unsigned long long)index, (unsigned long long)size);
	/* PATH(m, D[lo:hi]): the sibling of the half holding m, then PATH within that half. */
	while (hi - lo > 1) {
		uint64_t mid = lo + split_point(hi - lo);

		if (index < mid) {
			r = proof_push(mid, hi, get, ctx, ret_proof, &n, reterr);
			hi = mid;
		} else {
			r = proof_push(lo, mid, get, ctx, ret_proof, &n, reterr);
			lo = mid;
		}
		if (r < 0)
			return r;
	}
	proof_reverse(ret_proof, n);
	*ret_n = n;
	return 0;
}

int merkle_consistency_proof(uint64_t old, uint64_t new, merkle_get_fn get, void *ctx,
			     uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n,
			     struct err_detail *reterr)
{
	uint64_t lo = 0, hi = new;
	size_t n = 0;
	int whole = 1; /* the RFC's b: is [lo, hi) still the left edge, whose old root is known? */
	int r;

	if (old == 0)
		return err_set(reterr, -EINVAL,
			       _("a consistency proof from the empty tree proves nothing"));
	if (old > new)
		return err_set(reterr, -EINVAL, _("old size %llu is larger than new size %llu"),
			       (unsigned long long)old, (unsigned long long)new);
	/* SUBPROOF(m, D[lo:hi], b) with m = old - lo.  Each step descends one level, so there are
	 * at most ceil(log2 new) siblings plus the final node: at most 65 hashes. */
	while (hi != old) {
		uint64_t mid = lo + split_point(hi - lo);

		if (old <= mid) {
			r = proof_push(mid, hi, get, ctx, ret_proof, &n, reterr);
			hi = mid;
		} else {
			r = proof_push(lo, mid, get, ctx, ret_proof, &n, reterr);
			lo = mid;
			whole = 0;
		}
		if (r < 0)
			return r;
	}
	/* [lo, old) is a node of the old tree; a verifier that has the old root does not need it
	 * when it is the whole old tree. */
	if (!whole) {
		r = proof_push(lo, hi, get, ctx, ret_proof, &n, reterr);
		if (r < 0)
			return r;
	}
	proof_reverse(ret_proof, n);
	*ret_n = n;
	return 0;
}

/* Proof length for leaf @index of @size leaves: one hash per level where index's path and the
 * last leaf's path part ("inner"), then one per left subtree on the right edge ("border"). */
static unsigned inclusion_len(uint64_t index, uint64_t size)
{
	unsigned inner = bitlen(index ^ (size - 1));

	return inner + popcount(inner < 64 ? index >> inner : 0);
}

static int roots_differ(const uint8_t a[VFY_HASH_LEN], const uint8_t b[VFY_HASH_LEN])
{
	return CRYPTO_memcmp(a, b, VFY_HASH_LEN) != 0;
}

static int mismatch(struct err_detail *reterr, const char *what, const uint8_t got[VFY_HASH_LEN],
		    const uint8_t want[VFY_HASH_LEN])
{
	char g[2 * VFY_HASH_LEN + 1], w[2 * VFY_HASH_LEN + 1];

	hex32(got, g);
	hex32(want, w);
	return err_set(reterr, -EBADMSG, _("computed %s %s does not match the expected %s"), what,
		       g, w);
}

int merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[VFY_HASH_LEN],
			    const uint8_t proof[][VFY_HASH_LEN], size_t n,
			    const uint8_t root[VFY_HASH_LEN], struct err_detail *reterr)
{
	uint8_t r_hash[VFY_HASH_LEN];
	uint64_t fn, sn;
	unsigned want;
	int r;

	if (index >= size)
		return err_set(reterr, -EBADMSG,
			       _("leaf index %llu is outside a tree of %llu leaves"),
			       (unsigned long long)index, (unsigned long long)size);
	want = inclusion_len(index, size);
	if (n != want)
		return err_set(
		    reterr, -EBADMSG,
		    _("inclusion proof has %zu hashes; a tree of %llu leaves needs %u for "
		      "index %llu"),
		    n, (unsigned long long)size, want, (unsigned long long)index);

	/* RFC 9162 §2.1.3.2, steps 2 to 6. */
	fn = index;
	sn = size - 1;
	memcpy(r_hash, leaf, VFY_HASH_LEN);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return err_set(reterr, -EBADMSG, _("inclusion proof is too long"));
		if ((fn & 1) || fn == sn) {
			r = vfy_node_hash(proof[i], r_hash, r_hash);
			/* Above the right edge's incomplete levels, skip up to where this node is a
			 * right child again. */
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			r = vfy_node_hash(r_hash, proof[i], r_hash);
		}
		if (r < 0)
			return hash_failed(r, reterr);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return err_set(reterr, -EBADMSG, _("inclusion proof is too short"));
	if (roots_differ(r_hash, root))
		return mismatch(reterr, _("root"), r_hash, root);
	return 0;
}

int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[VFY_HASH_LEN],
			      const uint8_t root2[VFY_HASH_LEN],
			      const uint8_t proof[][VFY_HASH_LEN], size_t n,
			      struct err_detail *reterr)
{
	uint8_t fr[VFY_HASH_LEN], sr[VFY_HASH_LEN];
	uint64_t fn, sn;
	unsigned inner, border, shift, want;
	size_t i;
	int pow2, r;

	if (size1 > size2)
		return err_set(reterr, -EBADMSG, _("old size %llu is larger than new size %llu"),
			       (unsigned long long)size1, (unsigned long long)size2);
	/* Every tree extends the empty one, so such a "proof" would vouch for any root2; refuse
	 * it, also when both sizes are 0, rather than let a caller mistake it for a check. */
	if (size1 == 0)
		return err_set(reterr, -EBADMSG,
			       _("consistency from the empty tree proves nothing (old size is 0)"));
	if (size1 == size2) {
		if (n != 0)
			return err_set(reterr, -EBADMSG,
				       _("sizes are equal (%llu) but the consistency proof has %zu "
					 "hashes; it must be empty"),
				       (unsigned long long)size1, n);
		if (roots_differ(root1, root2))
			return err_set(reterr, -EBADMSG,
				       _("sizes are equal (%llu) but the roots differ"),
				       (unsigned long long)size1);
		return 0;
	}

	/* Expected length: the inclusion path of leaf size1 - 1 in the new tree, minus the
	 * levels where the old tree's last node is complete, plus that node itself unless it is
	 * the whole old tree (size1 a power of two, RFC step 1 supplies root1 instead). */
	pow2 = (size1 & (size1 - 1)) == 0;
	inner = bitlen((size1 - 1) ^ (size2 - 1));
	border = popcount(inner < 64 ? (size1 - 1) >> inner : 0);
	shift = (unsigned)__builtin_ctzll(size1);
	want = (pow2 ? 0 : 1) + inner - shift + border;
	if (n != want)
		return err_set(reterr, -EBADMSG,
			       _("consistency proof has %zu hashes; going from %llu to %llu leaves "
				 "needs %u"),
			       n, (unsigned long long)size1, (unsigned long long)size2, want);

	/* RFC 9162 §2.1.4.2, with step 1's prepended root1 taken as the seed. */
	i = 0;
	memcpy(fr, pow2 ? root1 : proof[i++], VFY_HASH_LEN);
	memcpy(sr, fr, VFY_HASH_LEN);
	fn = size1 - 1;
	sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return err_set(reterr, -EBADMSG, _("consistency proof is too long"));
		if ((fn & 1) || fn == sn) {
			r = vfy_node_hash(proof[i], fr, fr);
			if (r >= 0)
				r = vfy_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			r = vfy_node_hash(sr, proof[i], sr);
		}
		if (r < 0)
			return hash_failed(r, reterr);
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return err_set(reterr, -EBADMSG, _("consistency proof is too short"));
	if (roots_differ(fr, root1))
		return mismatch(reterr, _("old root"), fr, root1);
	if (roots_differ(sr, root2))
		return mismatch(reterr, _("new root"), sr, root2);
	return 0;
}

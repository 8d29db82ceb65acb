#pragma once
/* RFC 6962 / RFC 9162 §2.1 Merkle tree algorithms, pure and storage-agnostic.
 *
 * A tree of `size` leaves is the list of the hashes of its complete subtrees: the subtree at
 * (level L, index k) covers leaves [k·2^L, (k+1)·2^L).  Storage keeps every complete subtree
 * hash in the order in which it completes (the "stored hash index", as golang.org/x/mod/sumdb/tlog
 * numbers them), so that roots, inclusion and consistency proofs at any past size need only
 * O(log n) lookups through a merkle_get_fn.  All functions are reentrant. */

#include <stddef.h>
#include <stdint.h>

#include "verify/hash.h"

struct err_detail;

/* Room for any proof array.  A tree of n < 2^64 leaves is ceil(log2 n) <= 64 levels deep: an
 * inclusion proof has at most 64 hashes, a consistency proof at most 65 (one per level plus the
 * old tree's last node).  Generators never write more than this many entries. */
#define MERKLE_MAX_PROOF 128

/** Fetch the hash of the complete subtree at (@level, @index) into @ret_hash.  The functions
 * below ask only for subtrees that are complete in the tree they were given, so a store may
 * hold a larger tree than the one asked about.  Called synchronously, on the caller's thread.
 * @return 0, or a negative code that the caller passes on (with @reterr filled). */
typedef int (*merkle_get_fn)(void *ctx, unsigned level, uint64_t index,
			     uint8_t ret_hash[VFY_HASH_LEN], struct err_detail *reterr);

/** Position of the complete subtree (@level, @index) in completion order: leaf n is written,
 * then every subtree that leaf completes, lowest level first.  So leaf n is at 2n − popcount(n)
 * and (L, k) at stored(0, (k+1)·2^L − 1) + L, as golang.org/x/mod/sumdb/tlog StoredHashIndex.
 * @level < 64, and the result must fit in 64 bits. */
uint64_t merkle_stored_index(unsigned level, uint64_t index);

/** How many subtree hashes a tree of @size leaves stores: 2·size − popcount(size). */
uint64_t merkle_stored_count(uint64_t size);

/** The right edge of a tree being built: the hashes of the complete subtrees that make up the
 * tree of `size` leaves, largest (leftmost) first.  Owned by the caller; plain data, copyable. */
struct merkle_frontier {
	uint64_t size;
	unsigned n;			/* popcount(size) */
	uint8_t hash[64][VFY_HASH_LEN]; /* hash[0] covers the leftmost, largest subtree */
};

/** Load the frontier for a tree of @size leaves through @get (popcount(size) lookups).
 * @ret is written only on success.  @return 0 or what @get returned. */
int merkle_frontier_load(uint64_t size, merkle_get_fn get, void *ctx, struct merkle_frontier *ret,
			 struct err_detail *reterr);

/** Append one leaf hash to @f.  Writes to @ret_new the stored hashes this leaf adds, in stored
 * order (the leaf hash first, then each subtree it completes, lowest level first) and their
 * count to @ret_n (1..64); the first goes to merkle_stored_count(f->size) as it was before.
 * On failure @f is unchanged.  @return 0, -EIO / -ENOMEM (libcrypto), -EOVERFLOW (the tree
 * already has 2^64 − 1 leaves). */
int merkle_frontier_append(struct merkle_frontier *f, const uint8_t leaf[VFY_HASH_LEN],
			   uint8_t ret_new[64][VFY_HASH_LEN], unsigned *ret_n);

/** The root of @f's tree; SHA-256("") for the empty tree.  @return 0, -EIO / -ENOMEM. */
int merkle_frontier_root(const struct merkle_frontier *f, uint8_t ret_root[VFY_HASH_LEN]);

/** Root hash of the tree of the first @size leaves (popcount(size) lookups); SHA-256("") for
 * size 0.  @return 0, -EIO / -ENOMEM (libcrypto), or what @get returned. */
int merkle_root(uint64_t size, merkle_get_fn get, void *ctx, uint8_t ret_root[VFY_HASH_LEN],
		struct err_detail *reterr);

/** Hash of the (possibly incomplete) subtree over leaves [@lo, @hi), RFC 6962's MTH(D[lo:hi]),
 * folded from its maximal complete subtrees: popcount(hi − lo) lookups.  @lo must be a multiple
 * of the largest power of two <= hi − lo (every node of every tree is); lo == hi gives
 * SHA-256("").  @return 0, -EINVAL (reversed or unaligned range), -EIO / -ENOMEM, or what @get
 * returned. */
int merkle_range_hash(uint64_t lo, uint64_t hi, merkle_get_fn get, void *ctx,
		      uint8_t ret_hash[VFY_HASH_LEN], struct err_detail *reterr);

/** RFC 9162 §2.1.3.1 inclusion proof of leaf @index in the tree of @size leaves, leaf to root,
 * into @ret_proof (MERKLE_MAX_PROOF entries), count to @ret_n.  Every hash is one lookup except
 * at most one, the incomplete right-hand sibling, which folds popcount of its width: in all
 * at most n + max(0, popcount(size) − 2) lookups for a proof of n hashes.  On failure
 * @ret_proof holds garbage and @ret_n is untouched.
 * @return 0, -EINVAL (index >= size), -EIO / -ENOMEM, or what @get returned. */
int merkle_inclusion_proof(uint64_t index, uint64_t size, merkle_get_fn get, void *ctx,
			   uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n,
			   struct err_detail *reterr);

/** RFC 9162 §2.1.4.1 consistency proof from @old to @new leaves, into @ret_proof
 * (MERKLE_MAX_PROOF entries), count to @ret_n; old == new gives n = 0.  Lookups as for
 * merkle_inclusion_proof(), with popcount(new).  On failure @ret_proof holds garbage.
 * @return 0, -EINVAL (old == 0 or old > new), -EIO / -ENOMEM, or what @get returned. */
int merkle_consistency_proof(uint64_t old, uint64_t new, merkle_get_fn get, void *ctx,
			     uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n,
			     struct err_detail *reterr);

/** RFC 9162 §2.1.3.2: does @proof (@n hashes) lead from @leaf at @index to @root of a tree of
 * @size leaves?  Hashes are compared in constant time.  @return 0, or -EBADMSG with the
 * reason in @reterr (index out of range, wrong proof length, root mismatch), or -EIO / -ENOMEM
 * when libcrypto fails. */
int merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[VFY_HASH_LEN],
			    const uint8_t proof[][VFY_HASH_LEN], size_t n,
			    const uint8_t root[VFY_HASH_LEN], struct err_detail *reterr);

/** RFC 9162 §2.1.4.2: does @proof show the tree (@size1, @root1) is a prefix of (@size2,
 * @root2)?  size1 == size2 needs an empty proof and equal roots; size1 == 0 is always rejected,
 * even with size2 == 0 (a proof from the empty tree proves nothing; transparency-dev/merkle
 * accepts it with an empty proof, RFC 9162 leaves it undefined).  @return 0, or -EBADMSG with
 * the reason (sizes, wrong proof length, which root mismatched), or -EIO / -ENOMEM when
 * libcrypto fails. */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[VFY_HASH_LEN],
			      const uint8_t root2[VFY_HASH_LEN],
			      const uint8_t proof[][VFY_HASH_LEN], size_t n,
			      struct err_detail *reterr);

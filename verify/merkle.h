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

#include "hash.h"

struct err_detail;

/* A proof for a tree of at most 2^63 leaves has at most 63 hashes; consistency at most 2·63. */
#define MERKLE_MAX_PROOF 128

/** Fetch the hash of the complete subtree at (@level, @index) into @ret_hash.
 * @return 0, or a negative code that the caller passes on (with @reterr filled). */
typedef int (*merkle_get_fn)(void *ctx, unsigned level, uint64_t index,
			     uint8_t ret_hash[VFY_HASH_LEN], struct err_detail *reterr);

/** Position of the complete subtree (@level, @index) in completion order: leaf n is written,
 * then every subtree that leaf completes, lowest level first. */
uint64_t merkle_stored_index(unsigned level, uint64_t index);

/** How many subtree hashes a tree of @size leaves stores: 2·size − popcount(size). */
uint64_t merkle_stored_count(uint64_t size);

/** The right edge of a tree being built: the hashes of the complete subtrees that make up the
 * tree of `size` leaves, largest (leftmost) first.  Owned by the caller; plain data, copyable. */
struct merkle_frontier {
	uint64_t size;
	unsigned n;                           /* popcount(size) */
	uint8_t hash[64][VFY_HASH_LEN];       /* hash[0] covers the leftmost, largest subtree */
};

/** Load the frontier for a tree of @size leaves through @get (popcount(size) lookups). */
int merkle_frontier_load(uint64_t size, merkle_get_fn get, void *ctx,
			 struct merkle_frontier *ret, struct err_detail *reterr);

/** Append one leaf hash to @f.  Writes to @ret_new the stored hashes this leaf adds, in stored
 * order (the leaf hash first, then each subtree it completes, lowest level first) and their
 * count to @ret_n (1..64).  @return 0 or -EIO (libcrypto). */
int merkle_frontier_append(struct merkle_frontier *f, const uint8_t leaf[VFY_HASH_LEN],
			   uint8_t ret_new[64][VFY_HASH_LEN], unsigned *ret_n);

/** The root of @f's tree; SHA-256("") for the empty tree. */
int merkle_frontier_root(const struct merkle_frontier *f, uint8_t ret_root[VFY_HASH_LEN]);

/** Root hash of the tree of the first @size leaves (popcount(size) lookups). */
int merkle_root(uint64_t size, merkle_get_fn get, void *ctx, uint8_t ret_root[VFY_HASH_LEN],
		struct err_detail *reterr);

/** Hash of the (possibly incomplete) subtree over leaves [@lo, @hi), as RFC 6962's MTH(D[lo:hi])
 * when [lo, hi) is a node of some tree; O(log) lookups. */
int merkle_range_hash(uint64_t lo, uint64_t hi, merkle_get_fn get, void *ctx,
		      uint8_t ret_hash[VFY_HASH_LEN], struct err_detail *reterr);

/** RFC 9162 §2.1.3.1 inclusion proof of leaf @index in the tree of @size leaves, leaf to root,
 * into @ret_proof (MERKLE_MAX_PROOF entries), count to @ret_n.
 * @return 0, -EINVAL (index >= size), or what @get returned. */
int merkle_inclusion_proof(uint64_t index, uint64_t size, merkle_get_fn get, void *ctx,
			   uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n,
			   struct err_detail *reterr);

/** RFC 9162 §2.1.4.1 consistency proof from @old to @new leaves.
 * @return 0, -EINVAL (old == 0 or old > new), or what @get returned.  old == new gives n = 0. */
int merkle_consistency_proof(uint64_t old, uint64_t new, merkle_get_fn get, void *ctx,
			     uint8_t ret_proof[][VFY_HASH_LEN], size_t *ret_n,
			     struct err_detail *reterr);

/** RFC 9162 §2.1.3.2: does @proof (@n hashes) lead from @leaf at @index to @root of a tree of
 * @size leaves?  @return 0, or -EBADMSG with the reason in @reterr (index out of range, wrong
 * proof length, root mismatch). */
int merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[VFY_HASH_LEN],
			    const uint8_t proof[][VFY_HASH_LEN], size_t n,
			    const uint8_t root[VFY_HASH_LEN], struct err_detail *reterr);

/** RFC 9162 §2.1.4.2: does @proof show the tree (@size1, @root1) is a prefix of (@size2,
 * @root2)?  size1 == size2 needs an empty proof and equal roots; size1 == 0 is rejected (a
 * proof from the empty tree proves nothing).  @return 0, or -EBADMSG with the reason. */
int merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[VFY_HASH_LEN],
			      const uint8_t root2[VFY_HASH_LEN], const uint8_t proof[][VFY_HASH_LEN],
			      size_t n, struct err_detail *reterr);
